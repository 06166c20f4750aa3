#include "work/release.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/async.h"
#include "db/db.h"
#include "util/log.h"
#include "work/job.h"
#include "work/worker.h"

#define PREFIX_SIZE 128

/* The failure of work/job.c's record_failure, for every job of the dead process at once
 * (the backoff CN_JOB_RETRY_BASE_S * 2^(attempts - 1), at most CN_JOB_RETRY_CAP_S), and
 * the dead workers' rows no longer naming a current job. starts_with, not LIKE: a host
 * name may contain '_'. */
static const char RELEASE_SQL[] =
    "WITH released AS ("
    "  UPDATE jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'failed' END,"
    "         error = $2, lease_until = NULL,"
    "         retried = retried + CASE WHEN attempts >= max_attempts THEN 0 ELSE 1 END,"
    "         next_attempt_at = now() + make_interval(secs => least("
    "             $3::float8 * power(2::float8, greatest(attempts - 1, 0)), $4::float8)),"
    "         finished_at = now(), updated_at = now()"
    "   WHERE state = 'running' AND starts_with(worker, $1)"
    "  RETURNING id, study_instance_uid, state, attempts, worker),"
    " idle AS ("
    "  UPDATE workers SET current_job = NULL, jobs_failed = jobs_failed + 1"
    "   WHERE id IN (SELECT worker FROM released))"
    " SELECT id, study_instance_uid, state, attempts FROM released ORDER BY id";

struct release {
    long pid;
    void (*done)(void *user);
    void *user;
    char reason[];
};

static void on_released(const PGresult *res, const char *error, void *user)
{
    struct release *r = user;
    if (error) {
        cn_log_error("could not release the jobs of process %ld: %s (their leases will "
                     "expire)",
                     r->pid, error);
    } else {
        for (int i = 0; i < PQntuples(res); i++)
            cn_log_warning("job %s (study %s, attempt %s): %s; %s", PQgetvalue(res, i, 0),
                           PQgetvalue(res, i, 1), PQgetvalue(res, i, 3), r->reason,
                           strcmp(PQgetvalue(res, i, 2), "dead") == 0 ? "dead: no attempts left"
                                                                      : "retried later");
    }
    if (r->done)
        r->done(r->user);
    free(r);
}

int cn_work_release_jobs_of_process(struct cn_db_async *db, long pid, const char *reason,
                                    void (*done)(void *user), void *user)
{
    char prefix[PREFIX_SIZE];
    if (cn_worker_id_prefix(pid, prefix, sizeof prefix) != 0)
        return CN_DB_EINVAL;
    size_t reason_len = strlen(reason);
    struct release *r = malloc(sizeof *r + reason_len + 1);
    if (!r)
        return CN_DB_ENOMEM;
    r->pid = pid;
    r->done = done;
    r->user = user;
    memcpy(r->reason, reason, reason_len + 1);
    char base[16], cap[16];
    snprintf(base, sizeof base, "%d", CN_JOB_RETRY_BASE_S);
    snprintf(cap, sizeof cap, "%d", CN_JOB_RETRY_CAP_S);
    const char *params[] = {prefix, r->reason, base, cap};
    int rc = cn_db_async_query(db, RELEASE_SQL, 4, params, on_released, r);
    if (rc != 0)
        free(r);
    return rc;
}
