/* node/work: analysis workers (DESIGN.md sections 3 and 9).
 *
 * Each worker is a thread of its own (not libuv's pool) with its own blocking PostgreSQL
 * connection. It LISTENs on the jobs channel, claims jobs with SKIP LOCKED
 * (calcnode_claim_job), holds a lease it renews between images, analyses the study's
 * images, writes the result objects under STATE/results/<study>/run-<n>/, and in one
 * transaction records the results, queues the objects for the calling AE (outbound) and
 * marks the job done. A failure is retried with exponential backoff until the job's
 * max_attempts, then the job is dead with its error kept. A crashed worker's lease
 * expires and another worker takes the job.
 *
 * The pool is started and stopped from one thread (the main thread); stopping blocks
 * until every worker has finished the image it is analysing and returned its job. */
#ifndef CN_WORK_WORKER_H
#define CN_WORK_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "work/analysis_time.h"

struct cn_worker_pool;
struct cn_risk_model;

struct cn_worker_pool_config {
    const char *conninfo;   /* copied */
    const char *state_dir;  /* copied; the shared storage root */
    int count;              /* threads; 0: one per online core */
    uint32_t lease_s;       /* 0: CN_WORKER_DEFAULT_LEASE_S */
    const struct cn_risk_model *model; /* borrowed, shared by the threads; NULL: no scores */
    int no_gsps;                       /* nonzero: no presentation states */
    /* Optional: called on the worker's thread after a job is done and its objects are
     * queued for sending (e.g. to uv_async_send the sender awake). Must be thread-safe
     * and must not block. */
    void (*job_done)(void *user);
    void *job_done_user;
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

/* The pool's per-image analysis times (work/analysis_time.h), observed by its threads;
 * any thread may read them while the pool runs (cn_analysis_time_read). */
const struct cn_analysis_time *cn_worker_pool_analysis_time(const struct cn_worker_pool *pool);

/* Stops and joins every worker, then frees pool. A job being analysed is handed back
 * (queued again, this attempt not counted). */
void cn_worker_pool_stop(struct cn_worker_pool *pool);

#endif
