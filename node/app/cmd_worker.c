/* calcnode worker: analysis workers only, for more machines sharing one PostgreSQL and
 * one storage root with a `calcnode serve` (DESIGN.md section 9). Runs until SIGINT or
 * SIGTERM; a job being analysed then is handed back. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "app/commands.h"
#include "app/model.h"
#include "app/dbopen.h"
#include "app/options.h"
#include "risk/model.h"
#include "util/log.h"
#include "work/worker.h"

/* The environment variable that gives the database instead of database_url and
 * --database-url: how `calcnode serve` hands its database to its analysis process
 * without showing a password in the process list. */
#define DATABASE_URL_ENV "CALCNODE_DATABASE_URL"

static const char worker_usage[] =
    "usage: calcnode worker [-c FILE] (--state-dir DIR | --database-url URL) [--workers N]\n"
    "                       [--log-tag TAG] [--supervisor-pid PID]\n"
    "Runs analysis workers only. The state directory must be the storage root the\n"
    "receiving node writes to (shared, e.g. over NFS); with --state-dir alone, the\n"
    "embedded database of that directory is used. " DATABASE_URL_ENV " in the\n"
    "environment, when set, is the database.\n"
    "\n"
    "      --log-tag TAG         log lines say \"[TAG PID]\" (calcnode serve's analysis\n"
    "                            process: \"analysis\")\n"
    "      --supervisor-pid PID  run as the analysis process of the calcnode serve PID:\n"
    "                            killed when that process ends\n";

enum { OPT_LOG_TAG = CN_OPT_FIRST_COMMAND_SPECIFIC, OPT_SUPERVISOR_PID };

static const struct option worker_options[] = {
    {"log-tag", required_argument, NULL, OPT_LOG_TAG},
    {"supervisor-pid", required_argument, NULL, OPT_SUPERVISOR_PID},
    {NULL, 0, NULL, 0},
};

struct worker_args {
    char log_tag[CN_LOG_TAG_SIZE];
    long supervisor_pid; /* 0: not supervised */
};

static int on_worker_option(int code, const char *arg, void *user)
{
    struct worker_args *args = user;
    if (code == OPT_LOG_TAG) {
        snprintf(args->log_tag, sizeof args->log_tag, "%s", arg);
        return 0;
    }
    if (code == OPT_SUPERVISOR_PID) {
        char *end = NULL;
        long pid = strtol(arg, &end, 10);
        if (end == arg || *end != '\0' || pid <= 1) {
            fprintf(stderr, "calcnode: --supervisor-pid must be a process id, not \"%s\"\n", arg);
            return -1;
        }
        args->supervisor_pid = pid;
        return 0;
    }
    return -1;
}

/* A supervised analysis process does not outlive its node: were the node killed (kill
 * -9, a crash), the node's embedded database goes with it and a restarted node starts
 * an analysis process of its own. SIGKILL, like the node's own threads would have had:
 * the job left running is taken over at once by the next pool on this host
 * (work/worker.c). Returns 0, or -1 when the supervisor is already gone. */
static int follow_supervisor(long supervisor_pid)
{
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) {
        cn_log_warning("could not ask to end with the node: %s", strerror(errno));
        return 0;
    }
    /* the node may have ended before the request above: then we were reparented */
    return (long)getppid() == supervisor_pid ? 0 : -1;
}

int cn_cmd_worker(int argc, char **argv)
{
    struct cn_conf conf;
    struct worker_args args = {.supervisor_pid = 0};
    int rc = cn_options_parse(argc, argv, worker_usage, worker_options, on_worker_option, &args,
                              &conf, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    cn_log_set_level((enum cn_log_level)conf.log_level);
    if (args.log_tag[0]) {
        char tag[CN_LOG_TAG_SIZE];
        snprintf(tag, sizeof tag, "%.*s %ld", CN_LOG_TAG_SIZE - 16, args.log_tag, (long)getpid());
        cn_log_set_tag(tag);
    }
    if (args.supervisor_pid && follow_supervisor(args.supervisor_pid) != 0) {
        cn_log_error("the calcnode serve %ld that started this process is gone",
                     args.supervisor_pid);
        return 1;
    }
    const char *database_url = getenv(DATABASE_URL_ENV);
    if (database_url && database_url[0] &&
        snprintf(conf.database_url, sizeof conf.database_url, "%s", database_url) >=
            (int)sizeof conf.database_url) {
        cn_log_error("%s is longer than %zu bytes", DATABASE_URL_ENV, sizeof conf.database_url - 1);
        return 2;
    }
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    /* blocked in every thread; the main thread waits for them below */
    pthread_sigmask(SIG_BLOCK, &signals, NULL);

    char err[1024];
    struct cn_risk_model *model = NULL;
    if (cn_app_load_model(&conf, &model, err, sizeof err) != 0) {
        cn_log_error("%s", err);
        return 1;
    }
    struct cn_app_db db;
    if (cn_app_db_open(&db, conf.state_dir, conf.database_url, conf.sql_dir, 1, err,
                       sizeof err) != 0) {
        cn_log_error("could not open the database: %s", err);
        cn_risk_model_free(model);
        return 1;
    }
    struct cn_worker_pool_config pool_config = {
        .conninfo = db.conninfo,
        .state_dir = conf.state_dir,
        .count = conf.workers,
        .scoring = {model, conf.report_probability_min, conf.report_needs_rule,
                    conf.report_small_group_probability_min},
        .no_gsps = !conf.write_gsps,
        .lease_s = conf.worker_lease_s,
    };
    if (conf.workers < 0) {
        cn_log_error("workers = none leaves nothing for calcnode worker to run");
        cn_app_db_close(&db);
        cn_risk_model_free(model);
        return 2;
    }
    struct cn_worker_pool *pool;
    if (cn_worker_pool_start(&pool_config, &pool, err, sizeof err) != 0) {
        cn_log_error("%s", err);
        cn_app_db_close(&db);
        cn_risk_model_free(model);
        return 1;
    }
    int signum = 0;
    sigwait(&signals, &signum);
    cn_log_info("signal %d: stopping the workers", signum);
    cn_worker_pool_stop(pool);
    cn_app_db_close(&db);
    cn_risk_model_free(model);
    cn_log_info("stopped");
    return 0;
}
