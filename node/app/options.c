#include "app/options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_OPTIONS 64

static const struct option shared_options[] = {
    {"config", required_argument, NULL, CN_OPT_CONFIG},
    {"port", required_argument, NULL, CN_OPT_PORT},
    {"ae-title", required_argument, NULL, CN_OPT_AE_TITLE},
    {"state-dir", required_argument, NULL, CN_OPT_STATE_DIR},
    {"database-url", required_argument, NULL, CN_OPT_DATABASE_URL},
    {"peer", required_argument, NULL, CN_OPT_PEER},
    {"workers", required_argument, NULL, CN_OPT_WORKERS},
    {"listen-host", required_argument, NULL, CN_OPT_LISTEN_HOST},
    {"artim-timeout", required_argument, NULL, CN_OPT_ARTIM_TIMEOUT},
    {"max-pdu-length", required_argument, NULL, CN_OPT_MAX_PDU},
    {"log-level", required_argument, NULL, CN_OPT_LOG_LEVEL},
    {"sql-dir", required_argument, NULL, CN_OPT_SQL_DIR},
    {"quiet-period", required_argument, NULL, CN_OPT_QUIET_PERIOD},
    {"model", required_argument, NULL, CN_OPT_MODEL},
    {"worker-lease", required_argument, NULL, CN_OPT_WORKER_LEASE},
    {"tls-port", required_argument, NULL, CN_OPT_TLS_PORT},
    {"tls-cert", required_argument, NULL, CN_OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, CN_OPT_TLS_KEY},
    {"tls-ca", required_argument, NULL, CN_OPT_TLS_CA},
    {"http-port", required_argument, NULL, CN_OPT_HTTP_PORT},
    {"http-host", required_argument, NULL, CN_OPT_HTTP_HOST},
    {"help", no_argument, NULL, CN_OPT_HELP},
};

/* Applies one shared override with the same checks as the file. */
static int apply_override(struct cn_conf *conf, const char *key, const char *value)
{
    char err[512];
    if (cn_conf_set(conf, "node", key, value, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode: %s\n", err);
        return -1;
    }
    return 0;
}

int cn_options_parse(int argc, char **argv, const char *usage, const struct option *extra,
                     int (*on_option)(int code, const char *arg, void *user), void *user,
                     struct cn_conf *conf, int *positional)
{
    struct option all[MAX_OPTIONS];
    size_t count = 0;
    for (size_t i = 0; i < sizeof shared_options / sizeof shared_options[0]; i++)
        all[count++] = shared_options[i];
    for (size_t i = 0; extra && extra[i].name && count < MAX_OPTIONS - 1; i++)
        all[count++] = extra[i];
    memset(&all[count], 0, sizeof all[count]);
    /* short options: -c, -h, and every command option whose code is a letter */
    char shorts[2 * MAX_OPTIONS + 8] = "c:h";
    size_t shorts_len = strlen(shorts);
    for (size_t i = 0; extra && extra[i].name; i++) {
        int c = extra[i].val;
        if (c > 0 && c < 128 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
            shorts[shorts_len++] = (char)c;
            if (extra[i].has_arg == required_argument)
                shorts[shorts_len++] = ':';
        }
    }
    shorts[shorts_len] = '\0';

    cn_conf_defaults(conf);
    const char *config_path = CN_CONF_DEFAULT_PATH;
    int config_required = 0;
    opterr = 0;
    optind = 0; /* 0, not 1: glibc then also resets its state within a grouped option */
    int code;
    while ((code = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
        if (code == CN_OPT_CONFIG) {
            config_path = optarg;
            config_required = 1;
        }
    }
    char err[1024];
    if (cn_conf_load(conf, config_path, config_required, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode: %s\n", err);
        return -1;
    }

    opterr = 1;
    optind = 0; /* 0, not 1: glibc then also resets its state within a grouped option */
    while ((code = getopt_long(argc, argv, shorts, all, NULL)) != -1) {
        int rc = 0;
        switch (code) {
        case CN_OPT_CONFIG:
            break;
        case 'h':
        case CN_OPT_HELP:
            fputs(usage, stdout);
            return 1;
        case CN_OPT_PORT: rc = apply_override(conf, "port", optarg); break;
        case CN_OPT_AE_TITLE: rc = apply_override(conf, "ae_title", optarg); break;
        case CN_OPT_STATE_DIR: rc = apply_override(conf, "state_dir", optarg); break;
        case CN_OPT_DATABASE_URL: rc = apply_override(conf, "database_url", optarg); break;
        case CN_OPT_WORKERS: rc = apply_override(conf, "workers", optarg); break;
        case CN_OPT_LISTEN_HOST: rc = apply_override(conf, "listen_host", optarg); break;
        case CN_OPT_ARTIM_TIMEOUT: rc = apply_override(conf, "artim_timeout_s", optarg); break;
        case CN_OPT_MAX_PDU: rc = apply_override(conf, "max_pdu_length", optarg); break;
        case CN_OPT_LOG_LEVEL: rc = apply_override(conf, "log_level", optarg); break;
        case CN_OPT_SQL_DIR: rc = apply_override(conf, "sql_dir", optarg); break;
        case CN_OPT_QUIET_PERIOD: rc = apply_override(conf, "quiet_period_s", optarg); break;
        case CN_OPT_MODEL: rc = apply_override(conf, "model", optarg); break;
        case CN_OPT_WORKER_LEASE: rc = apply_override(conf, "worker_lease_s", optarg); break;
        case CN_OPT_TLS_PORT: rc = apply_override(conf, "tls_port", optarg); break;
        case CN_OPT_TLS_CERT: rc = apply_override(conf, "tls_cert", optarg); break;
        case CN_OPT_TLS_KEY: rc = apply_override(conf, "tls_key", optarg); break;
        case CN_OPT_TLS_CA: rc = apply_override(conf, "tls_ca", optarg); break;
        case CN_OPT_HTTP_PORT: rc = apply_override(conf, "http_port", optarg); break;
        case CN_OPT_HTTP_HOST: rc = apply_override(conf, "http_host", optarg); break;
        case CN_OPT_PEER:
            if (cn_conf_add_peer_spec(conf, optarg, err, sizeof err) != 0) {
                fprintf(stderr, "calcnode: %s\n", err);
                rc = -1;
            }
            break;
        case '?':
            fputs(usage, stderr);
            return -1;
        default:
            rc = on_option ? on_option(code, optarg, user) : -1;
            break;
        }
        if (rc != 0)
            return -1;
    }
    if (positional)
        *positional = optind;
    return 0;
}
