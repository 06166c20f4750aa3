/* node/work: one analysis job, run by a worker thread with its blocking connection.
 * Internal to node/work. */
#ifndef CN_WORK_JOB_H
#define CN_WORK_JOB_H

#include <libpq-fe.h>
#include <stdatomic.h>
#include <stdint.h>

#include "work/pipeline.h"

/* Retry backoff of a failed job: CN_JOB_RETRY_BASE_S * 2^(attempt - 1), at most
 * CN_JOB_RETRY_CAP_S (also applied to the jobs of a worker process that died,
 * work/release.h). */
#define CN_JOB_RETRY_BASE_S 5
#define CN_JOB_RETRY_CAP_S 600

struct cn_job {
    int64_t id;
    char study_uid[65];
    int run_number;
    int attempts;
};

struct cn_job_context {
    PGconn *conn;
    const char *worker_id;
    const char *state_dir;
    uint32_t lease_s;
    atomic_int *stopping; /* set when the pool stops: hand the job back */
    struct cn_pipeline_scoring scoring;
    int write_gsps;
};

/* Runs the job and records its outcome (done, failed for a retry, dead, or handed back).
 * Returns 0 when the job is done, -1 otherwise. */
int cn_job_run(const struct cn_job_context *ctx, const struct cn_job *job);

#endif
