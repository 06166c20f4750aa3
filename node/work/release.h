/* node/work: releasing the jobs of a worker process that is known to be dead.
 *
 * A job keeps state 'running' with its worker's id until the worker finishes it or its
 * lease expires (work/worker.h). When the process that holds it is seen to die (the
 * supervisor of `calcnode serve` collects its exit status, work/supervisor.h), waiting
 * for the lease is pointless, and retrying without a note would let a study that crashes
 * the analysis crash it again and again unseen. Its jobs are therefore failed at once,
 * with the reason given, through the normal accounting of a failure (work/job.c): retried
 * after the backoff of their attempt, or dead when their attempts are used up.
 *
 * Loop thread only; the update goes through node/db/async. */
#ifndef CN_WORK_RELEASE_H
#define CN_WORK_RELEASE_H

struct cn_db_async;

/* Fails every job running under a worker id of process pid on this host
 * (cn_worker_id_prefix), with error reason (copied, e.g. "the analysis process died
 * (signal 11)"), and logs each one with what happens next. The update is queued on db
 * (borrowed): it runs before any request queued after it. done (may be NULL) is called
 * from the loop once the update has run or failed (failure is logged). Returns 0, or a
 * negative cn_db_error when the update could not be queued (done is then not called). */
int cn_work_release_jobs_of_process(struct cn_db_async *db, long pid, const char *reason,
                                    void (*done)(void *user), void *user);

#endif
