/* calcnode worker: analysis workers only, for more machines sharing one PostgreSQL and
 * one storage root with a `calcnode serve` (DESIGN.md section 9). Runs until SIGINT or
 * SIGTERM; a job being analysed then is handed back. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/commands.h"
#include "app/model.h"
#include "app/dbopen.h"
#include "app/options.h"
#include "risk/model.h"
#include "util/log.h"
#include "work/worker.h"

static const char worker_usage[] =
    "usage: calcnode worker [-c FILE] (--state-dir DIR | --database-url URL) [--workers N]\n"
    "Runs analysis workers only. The state directory must be the storage root the\n"
    "receiving node writes to (shared, e.g. over NFS); with --state-dir alone, the\n"
    "embedded database of that directory is used.\n";

int cn_cmd_worker(int argc, char **argv)
{
    struct cn_conf conf;
    int rc = cn_options_parse(argc, argv, worker_usage, NULL, NULL, NULL, &conf, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    cn_log_set_level((enum cn_log_level)conf.log_level);
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
        .model = model,
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
