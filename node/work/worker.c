#include "work/worker.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "util/log.h"
#include "work/job.h"

#define WORKER_ID_SIZE 160
#define RECONNECT_MAX_MS 5000
#define HOST_NAME_SIZE 64

struct worker {
    struct cn_worker_pool *pool;
    pthread_t thread;
    int index;
    int started;
    char id[WORKER_ID_SIZE];
};

struct cn_worker_pool {
    char *conninfo;
    char *state_dir;
    uint32_t lease_s;
    int count;
    struct cn_pipeline_scoring scoring;
    int no_gsps;
    atomic_int stopping;
    int wake_pipe[2]; /* written once at stop; every idle worker polls the read end */
    struct worker *workers;
};

/* Sleeps until the database notifies, the pool stops, or timeout_ms passes. */
static void wait_for_work(struct worker *w, PGconn *conn, int timeout_ms)
{
    struct pollfd fds[2] = {
        {.fd = w->pool->wake_pipe[0], .events = POLLIN},
        {.fd = conn ? PQsocket(conn) : -1, .events = POLLIN},
    };
    poll(fds, conn ? 2 : 1, timeout_ms);
    if (conn) {
        PQconsumeInput(conn);
        PGnotify *n;
        while ((n = PQnotifies(conn)) != NULL)
            PQfreemem(n);
    }
}

static PGconn *connect_worker(struct worker *w)
{
    char err[CN_DB_ERR_SIZE];
    int delay_ms = 100;
    while (!atomic_load(&w->pool->stopping)) {
        PGconn *conn = cn_db_connect_blocking(w->pool->conninfo, err, sizeof err);
        if (conn) {
            char host[HOST_NAME_SIZE] = "?";
            gethostname(host, sizeof host);
            host[sizeof host - 1] = '\0';
            char pid[16];
            snprintf(pid, sizeof pid, "%d", (int)getpid());
            const char *params[] = {w->id, host, pid};
            PGresult *res = PQexecParams(
                conn,
                "INSERT INTO workers (id, host, pid) VALUES ($1, $2, $3::int) "
                "ON CONFLICT (id) DO UPDATE SET host = $2, pid = $3::int, started_at = now(), "
                "last_seen = now(), current_job = NULL",
                3, NULL, params, NULL, NULL, 0);
            PQclear(res);
            res = PQexec(conn, "LISTEN " CN_DB_CHANNEL_JOBS);
            int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
            PQclear(res);
            if (ok)
                return conn;
            snprintf(err, sizeof err, "%s", PQerrorMessage(conn));
            PQfinish(conn);
        }
        cn_log_warning("worker %s: could not connect to the database: %s (retrying)", w->id,
                       err);
        wait_for_work(w, NULL, delay_ms);
        delay_ms = delay_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : delay_ms * 2;
    }
    return NULL;
}

/* Claims one due job. Returns 1 with *job filled, 0 when none is due, -1 when the
 * connection failed. */
static int claim(struct worker *w, PGconn *conn, struct cn_job *job)
{
    char lease[16];
    snprintf(lease, sizeof lease, "%u", w->pool->lease_s);
    const char *params[] = {w->id, lease};
    PGresult *res = PQexecParams(conn, "SELECT * FROM calcnode_claim_job($1, $2::int)", 2, NULL,
                                 params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        cn_log_warning("worker %s: could not claim a job: %s", w->id, PQerrorMessage(conn));
        PQclear(res);
        return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
    }
    int found = PQntuples(res) == 1;
    if (found) {
        job->id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        snprintf(job->study_uid, sizeof job->study_uid, "%s", PQgetvalue(res, 0, 1));
        job->run_number = (int)strtol(PQgetvalue(res, 0, 2), NULL, 10);
        job->attempts = (int)strtol(PQgetvalue(res, 0, 3), NULL, 10);
    }
    PQclear(res);
    if (found) {
        char id_text[32];
        snprintf(id_text, sizeof id_text, "%lld", (long long)job->id);
        const char *wparams[] = {w->id, id_text};
        res = PQexecParams(conn, "UPDATE workers SET current_job = $2::bigint, last_seen = now() "
                                 "WHERE id = $1",
                           2, NULL, wparams, NULL, NULL, 0);
        PQclear(res);
    }
    return found;
}

/* How long to sleep: until the earliest waiting job is due (a settling study, a retry),
 * at most CN_WORKER_IDLE_POLL_MS; notifications cut it short. */
static int ms_until_next_due(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT ceil(extract(epoch FROM min(next_attempt_at) - now()) "
                                 "* 1000)::bigint FROM jobs WHERE state IN ('queued', 'failed')");
    int ms = CN_WORKER_IDLE_POLL_MS;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 &&
        !PQgetisnull(res, 0, 0)) {
        long long due = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        if (due < CN_WORKER_MIN_SLEEP_MS)
            due = CN_WORKER_MIN_SLEEP_MS; /* due but not claimable (another run of the
                                             study is running): look again soon, no spin */
        if (due < ms)
            ms = (int)due;
    }
    PQclear(res);
    return ms;
}

static void heartbeat(struct worker *w, PGconn *conn)
{
    const char *params[] = {w->id};
    PGresult *res = PQexecParams(conn, "UPDATE workers SET last_seen = now() WHERE id = $1", 1,
                                 NULL, params, NULL, NULL, 0);
    PQclear(res);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct cn_worker_pool *pool = w->pool;
    PGconn *conn = NULL;
    while (!atomic_load(&pool->stopping)) {
        if (!conn || PQstatus(conn) != CONNECTION_OK) {
            if (conn)
                PQfinish(conn);
            conn = connect_worker(w);
            if (!conn)
                break;
        }
        struct cn_job job;
        int rc = claim(w, conn, &job);
        if (rc < 0) {
            PQfinish(conn);
            conn = NULL;
            continue;
        }
        if (rc == 1) {
            struct cn_job_context ctx = {
                .conn = conn,
                .worker_id = w->id,
                .state_dir = pool->state_dir,
                .lease_s = pool->lease_s,
                .stopping = &pool->stopping,
                .scoring = pool->scoring,
                .write_gsps = !pool->no_gsps,
            };
            cn_job_run(&ctx, &job);
            continue; /* look for the next one at once */
        }
        heartbeat(w, conn);
        wait_for_work(w, conn, ms_until_next_due(conn));
    }
    if (conn)
        PQfinish(conn);
    return NULL;
}

/* Whether process pid of this host has ended: no such process, or a zombie (ended, not
 * yet reaped: an analysis process killed with its node waits for init to reap it, which
 * may take seconds; proc(5) /proc/PID/stat, field 3 is the state, after the name in
 * parentheses). */
static int process_is_gone(long pid)
{
    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        return 1;
    char path[64], stat_line[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(stat_line, 1, sizeof stat_line - 1, f);
    fclose(f);
    stat_line[n] = '\0';
    const char *name_end = strrchr(stat_line, ')');
    return name_end && (name_end[1] == ' ') && (name_end[2] == 'Z' || name_end[2] == 'X');
}

/* Jobs left running by a worker of this host whose process is gone (a crash or kill -9
 * of the node) need not wait for their lease: they are made due again at once. Workers
 * of other hosts, or of live processes, are left to their leases. */
static void reclaim_local_orphans(const char *conninfo, const char *host)
{
    char err[CN_DB_ERR_SIZE];
    PGconn *conn = cn_db_connect_blocking(conninfo, err, sizeof err);
    if (!conn)
        return;
    char pattern[96];
    snprintf(pattern, sizeof pattern, "%s:%%", host);
    const char *params[] = {pattern};
    PGresult *res = PQexecParams(conn, "SELECT id, worker FROM jobs WHERE state = 'running' "
                                       "AND worker LIKE $1",
                                 1, NULL, params, NULL, NULL, 0);
    for (int i = 0; PQresultStatus(res) == PGRES_TUPLES_OK && i < PQntuples(res); i++) {
        const char *worker = PQgetvalue(res, i, 1);
        const char *pid_text = worker + strlen(host) + 1;
        long pid = strtol(pid_text, NULL, 10);
        if (process_is_gone(pid)) {
            const char *jparams[] = {PQgetvalue(res, i, 0), worker};
            PGresult *upd = PQexecParams(conn,
                                         "UPDATE jobs SET lease_until = now() WHERE id = "
                                         "$1::bigint AND worker = $2 AND state = 'running'",
                                         2, NULL, jparams, NULL, NULL, 0);
            PQclear(upd);
            cn_log_info("job %s was left by %s, which is gone: taken over now",
                        PQgetvalue(res, i, 0), worker);
        }
    }
    PQclear(res);
    PQfinish(conn);
}

int cn_worker_pool_start(const struct cn_worker_pool_config *config,
                         struct cn_worker_pool **out, char *err, size_t err_len)
{
    struct cn_worker_pool *pool = calloc(1, sizeof *pool);
    if (!pool) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    pool->count = config->count > 0 ? config->count : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (pool->count < 1)
        pool->count = 1;
    pool->lease_s = config->lease_s ? config->lease_s : CN_WORKER_DEFAULT_LEASE_S;
    pool->scoring = config->scoring;
    pool->no_gsps = config->no_gsps;
    pool->conninfo = strdup(config->conninfo);
    pool->state_dir = strdup(config->state_dir);
    pool->workers = calloc((size_t)pool->count, sizeof *pool->workers);
    atomic_init(&pool->stopping, 0);
    if (!pool->conninfo || !pool->state_dir || !pool->workers || pipe(pool->wake_pipe) != 0) {
        snprintf(err, err_len, "could not set up the workers: %s", strerror(errno));
        free(pool->conninfo);
        free(pool->state_dir);
        free(pool->workers);
        free(pool);
        return -1;
    }
    char host[HOST_NAME_SIZE] = "?";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    reclaim_local_orphans(pool->conninfo, host);
    char prefix[WORKER_ID_SIZE];
    cn_worker_id_prefix((long)getpid(), prefix, sizeof prefix);
    for (int i = 0; i < pool->count; i++) {
        struct worker *w = &pool->workers[i];
        w->pool = pool;
        w->index = i;
        snprintf(w->id, sizeof w->id, "%s%d", prefix, i + 1);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            snprintf(err, err_len, "could not start worker thread %d", i + 1);
            pool->count = i;
            cn_worker_pool_stop(pool);
            return -1;
        }
        w->started = 1;
    }
    cn_log_info("%d analysis workers started", pool->count);
    *out = pool;
    return 0;
}

int cn_worker_pool_size(const struct cn_worker_pool *pool)
{
    return pool->count;
}

int cn_worker_id_prefix(long pid, char *out, size_t out_len)
{
    char host[HOST_NAME_SIZE] = "?";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0'; /* a truncated name need not be terminated */
    int n = snprintf(out, out_len, "%s:%ld:", host, pid);
    return n > 0 && (size_t)n < out_len ? 0 : -1;
}

void cn_worker_pool_stop(struct cn_worker_pool *pool)
{
    if (!pool)
        return;
    atomic_store(&pool->stopping, 1);
    char byte = 1;
    ssize_t written = write(pool->wake_pipe[1], &byte, 1);
    (void)written; /* a full pipe is already readable: the wake-up is not lost */
    for (int i = 0; i < pool->count; i++)
        if (pool->workers[i].started)
            pthread_join(pool->workers[i].thread, NULL);
    close(pool->wake_pipe[0]);
    close(pool->wake_pipe[1]);
    free(pool->conninfo);
    free(pool->state_dir);
    free(pool->workers);
    free(pool);
}
