/* Command-line options shared by the calcnode commands: -c FILE and the keys of the
 * configuration file it overrides. Main thread only. */
#ifndef CN_APP_OPTIONS_H
#define CN_APP_OPTIONS_H

#include <getopt.h>

#include "app/conf.h"

/* Option codes of the shared long options (above the range of short options). */
enum cn_option {
    CN_OPT_CONFIG = 'c',
    CN_OPT_PORT = 1000,
    CN_OPT_AE_TITLE,
    CN_OPT_STATE_DIR,
    CN_OPT_DATABASE_URL,
    CN_OPT_PEER,
    CN_OPT_WORKERS,
    CN_OPT_LISTEN_HOST,
    CN_OPT_ARTIM_TIMEOUT,
    CN_OPT_MAX_PDU,
    CN_OPT_LOG_LEVEL,
    CN_OPT_SQL_DIR,
    CN_OPT_JSON,
    CN_OPT_STUDY,
    CN_OPT_HELP,
    CN_OPT_QUIET_PERIOD,
    CN_OPT_MODEL,
    CN_OPT_WORKER_LEASE,
    CN_OPT_TLS_PORT,
    CN_OPT_TLS_CERT,
    CN_OPT_TLS_KEY,
    CN_OPT_TLS_CA,
    CN_OPT_HTTP_PORT,
    CN_OPT_HTTP_HOST,
    CN_OPT_FIRST_COMMAND_SPECIFIC = 1100,
};

/* Parses argv with the shared options plus the command's own (extra, may be NULL,
 * terminated by a zero entry). First pass: -c; the file is loaded (the default path
 * only when it exists); second pass: the overrides, in order. Each of the command's own
 * options is handed to on_option(code, optarg, user), which returns 0 or -1 (usage
 * error, message printed). positional (may be NULL) receives optind after parsing.
 * Returns 0, 1 when --help was given (usage printed), or -1 on a usage or configuration
 * error (message printed to stderr). */
int cn_options_parse(int argc, char **argv, const char *usage, const struct option *extra,
                     int (*on_option)(int code, const char *arg, void *user), void *user,
                     struct cn_conf *conf, int *positional);

#endif
