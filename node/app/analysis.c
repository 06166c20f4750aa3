#include "app/analysis.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "work/release.h"
#include "work/supervisor.h"

#define DATABASE_URL_ENV "CALCNODE_DATABASE_URL"
#define LOG_TAG "analysis"
#define PROCESS_NAME "analysis process"
#define NUMBER_SIZE 24
#define REASON_SIZE 128

struct cn_app_analysis {
    struct cn_db_async *db;
    struct cn_supervisor *supervisor;
    void (*done)(void *user);
    void *done_user;
};

static const char *const log_level_names[] = {"error", "warning", "info", "debug"};

static void on_child_exited(void *user, long pid, int64_t exit_status, int term_signal,
                            int stopping)
{
    struct cn_app_analysis *a = user;
    char reason[REASON_SIZE];
    if (term_signal != 0)
        snprintf(reason, sizeof reason, "the analysis process %s (signal %d)",
                 stopping ? "was killed at shutdown" : "died", term_signal);
    else if (stopping && exit_status == 0)
        return; /* a clean stop hands its jobs back itself */
    else
        snprintf(reason, sizeof reason, "the analysis process exited with status %lld",
                 (long long)exit_status);
    int rc = cn_work_release_jobs_of_process(a->db, pid, reason, NULL, NULL);
    if (rc != 0)
        cn_log_error("could not release the jobs of the analysis process %ld (error %d): "
                     "their leases will expire",
                     pid, rc);
}

extern char **environ;

/* Our environment with DATABASE_URL_ENV set to conninfo: a new NULL-terminated array
 * whose one new string is *owned (free both), or NULL. */
static const char **child_environment(const char *conninfo, char **owned)
{
    size_t n = 0;
    while (environ[n])
        n++;
    const char **env = calloc(n + 2, sizeof *env);
    size_t len = strlen(DATABASE_URL_ENV) + 1 + strlen(conninfo) + 1;
    *owned = malloc(len);
    if (!env || !*owned) {
        free(env);
        free(*owned);
        *owned = NULL;
        return NULL;
    }
    snprintf(*owned, len, "%s=%s", DATABASE_URL_ENV, conninfo);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], DATABASE_URL_ENV "=", sizeof DATABASE_URL_ENV) != 0)
            env[k++] = environ[i];
    env[k++] = *owned;
    env[k] = NULL;
    return env;
}

int cn_app_analysis_start(uv_loop_t *loop, struct cn_db_async *db, const struct cn_conf *conf,
                          const char *conninfo, struct cn_app_analysis **out, char *err,
                          size_t err_len)
{
    char exe[PATH_MAX];
    size_t exe_len = sizeof exe;
    int rc = uv_exepath(exe, &exe_len);
    if (rc != 0) {
        snprintf(err, err_len, "could not find this executable: %s", uv_strerror(rc));
        return -1;
    }
    char workers[NUMBER_SIZE], lease[NUMBER_SIZE], parent[NUMBER_SIZE];
    snprintf(workers, sizeof workers, "%d", conf->workers);
    snprintf(lease, sizeof lease, "%u", (unsigned)conf->worker_lease_s);
    snprintf(parent, sizeof parent, "%ld", (long)getpid());
    int level = conf->log_level >= 0 && conf->log_level <= 3 ? conf->log_level : 2;
    /* the same file as ours, or none at all (/dev/null: defaults, as we had) */
    const char *argv[] = {
        exe,
        "worker",
        "--config",
        conf->source_path[0] ? conf->source_path : "/dev/null",
        "--state-dir",
        conf->state_dir,
        "--sql-dir",
        conf->sql_dir,
        "--workers",
        workers,
        "--model",
        conf->model_path,
        "--worker-lease",
        lease,
        "--log-level",
        log_level_names[level],
        "--log-tag",
        LOG_TAG,
        "--supervisor-pid",
        parent,
        NULL,
    };
    char *owned = NULL;
    const char **env = child_environment(conninfo, &owned);
    struct cn_app_analysis *a = calloc(1, sizeof *a);
    if (!env || !a) {
        snprintf(err, err_len, "out of memory");
        free(env);
        free(owned);
        free(a);
        return -1;
    }
    a->db = db;
    struct cn_supervisor_config config = {
        .name = PROCESS_NAME,
        .argv = argv,
        .env = env,
        .exited = on_child_exited,
        .exited_user = a,
    };
    rc = cn_supervisor_start(loop, &config, &a->supervisor, err, err_len);
    free(env);
    free(owned);
    if (rc != 0) {
        free(a);
        return -1;
    }
    *out = a;
    return 0;
}

long cn_app_analysis_pid(const struct cn_app_analysis *a)
{
    return cn_supervisor_pid(a->supervisor);
}

static void on_supervisor_stopped(void *user)
{
    struct cn_app_analysis *a = user;
    void (*done)(void *user) = a->done;
    void *done_user = a->done_user;
    free(a);
    if (done)
        done(done_user);
}

void cn_app_analysis_stop(struct cn_app_analysis *a, void (*done)(void *user), void *user)
{
    a->done = done;
    a->done_user = user;
    cn_supervisor_stop(a->supervisor, on_supervisor_stopped, a);
}
