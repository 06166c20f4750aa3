/* node/work: analysis workers (DESIGN.md sections 3 and 9).
 *
 * Each worker is a thread of its own (not libuv's pool) with its own blocking PostgreSQL
 * connection. It LISTENs on the jobs channel, claims jobs with SKIP LOCKED
 * (calcnode_claim_job), holds a lease it renews between images, analyses the study's
 * images, writes the result objects under STATE/results/<study>/run-<n>/, and in one
 * transaction records the results, queues the objects for the calling AE (outbound) and
 * marks the job done. A failure is retried with exponential backoff until the job's
 * max_attempts, then the job is dead with its error kept. A crashed worker's lease
 * expires and another worker takes the job, unless its death was seen: a worker process
 * supervised by `calcnode serve` has its jobs failed at once with the reason
 * (work/release.h), and a pool starting on a host takes over at once the jobs of that
 * host's ended processes (no failure counted: the death was not seen).
 *
 * A worker's id (jobs.worker, workers.id) is "HOST:PID:N": the host name, the pid of the
 * process and the thread's number from 1, so the jobs of one process are found by the
 * prefix cn_worker_id_prefix gives.
 *
 * The pool is started and stopped from one thread (the main thread); stopping blocks
 * until every worker has finished the image it is analysing and returned its job. */
#ifndef CN_WORK_WORKER_H
#define CN_WORK_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "work/pipeline.h"

struct cn_worker_pool;

struct cn_worker_pool_config {
    const char *conninfo;   /* copied */
    const char *state_dir;  /* copied; the shared storage root */
    int count;              /* threads; 0: one per online core */
    uint32_t lease_s;       /* 0: CN_WORKER_DEFAULT_LEASE_S */
    struct cn_pipeline_scoring scoring; /* its model borrowed, shared by the threads */
    int no_gsps;                       /* nonzero: no presentation states */
};

#define CN_WORKER_DEFAULT_LEASE_S 120u
/* How long an idle worker sleeps before looking again without a notification: bounds
 * the time to take over the job of a crashed worker and to retry a failed job. */
#define CN_WORKER_IDLE_POLL_MS 2000
/* The shortest sleep of an idle worker. */
#define CN_WORKER_MIN_SLEEP_MS 100

/* Starts the workers. Returns 0 and *out, or -1 with err filled. */
int cn_worker_pool_start(const struct cn_worker_pool_config *config,
                         struct cn_worker_pool **out, char *err, size_t err_len);

/* The number of worker threads. */
int cn_worker_pool_size(const struct cn_worker_pool *pool);

/* Writes "HOST:PID:" (this host's name) to out: the prefix of the ids of every worker
 * of process pid on this host. Returns 0, or -1 when out_len is too small. Any thread. */
int cn_worker_id_prefix(long pid, char *out, size_t out_len);

/* Stops and joins every worker, then frees pool. A job being analysed is handed back
 * (queued again, this attempt not counted). */
void cn_worker_pool_stop(struct cn_worker_pool *pool);

#endif
