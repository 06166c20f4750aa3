/* calcnode serve: the node. Starts (or connects to) the database, applies migrations,
 * and runs the association server on the libuv loop until SIGINT or SIGTERM. */
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/analysis.h"
#include "app/commands.h"
#include "app/model.h"
#include "app/dbopen.h"
#include "app/options.h"
#include "audit/forward.h"
#include "db/async.h"
#include "db/audit.h"
#include "db/catalogue.h"
#include "db/db.h"
#include "db/listen.h"
#include "dcm/dcm.h"
#include "http/http.h"
#include "serve/server.h"
#include "store/spool.h"
#include "send/sender.h"
#include "work/completion.h"
#include "risk/model.h"
#include "net/tls.h"
#include "util/log.h"

/* How long a shutdown waits for open associations before aborting them. */
#define SHUTDOWN_GRACE_MS 10000u
/* The exit status after a second signal cut the shutdown short. */
#define EXIT_FORCED_STOP 3

static const char serve_usage[] =
    "usage: calcnode serve [-c FILE] [options]\n"
    "Receives DICOM (C-ECHO, C-STORE) and stores every instance durably.\n"
    "\n"
    "  -c, --config FILE       configuration file (default conf/calcnode.conf)\n"
    "      --port N            DICOM port (default 11112)\n"
    "      --listen-host ADDR  address to listen on (default 0.0.0.0)\n"
    "      --ae-title AE       our AE title (default CALCNODE)\n"
    "      --state-dir DIR     storage, spool and embedded database (default ./var)\n"
    "      --database-url URL  PostgreSQL to use instead of the embedded cluster\n"
    "      --peer AE=HOST:PORT where results for calling AE title AE go (repeatable)\n"
    "      --workers N|none    analysis worker threads, run in one child process\n"
    "                          (calcnode worker) restarted when it dies (default:\n"
    "                          one per core; none: receive only)\n"
    "      --worker-lease S    seconds before a silent worker's job is taken over\n"
    "      --artim-timeout S   seconds a silent peer is waited for (default 30)\n"
    "      --max-pdu-length N  largest PDU we accept (default 262144)\n"
    "      --quiet-period S    seconds without an instance after which a study is\n"
    "                          analysed (default 5; all four views: at once)\n"
    "      --log-level LEVEL   error, warning, info or debug (default info)\n"
    "      --sql-dir DIR       migrations (default: the source tree's sql/)\n"
    "      --tls-port N        DICOM TLS port beside the plain one (default 0: off)\n"
    "      --tls-cert FILE     our certificate (PEM) for TLS\n"
    "      --tls-key FILE      its private key (PEM)\n"
    "      --tls-ca FILE       CA (PEM) whose certificates callers must present\n"
    "      --http-port N       /metrics, /healthz and the status page (default 0: off)\n"
    "      --http-host ADDR    address of the HTTP server (default 127.0.0.1)\n";

struct serve_state {
    uv_loop_t *loop;
    uv_signal_t sigint, sigterm;
    struct cn_conf *conf;
    struct cn_server *server;
    struct cn_completion *completion;
    struct cn_sender *sender;
    struct cn_db_listen *outbound_listen; /* rows queued by the analysis process(es) */
    struct cn_db_async *db;
    struct cn_http *http;             /* NULL: no HTTP server */
    struct cn_app_analysis *analysis; /* NULL: workers = none, or stopped */
    int database_close_waiting;       /* the shutdown waits for the analysis to stop */
    struct cn_audit_forwarder *audit_forwarder; /* NULL: audit_syslog empty */
    int stopping;
};

static void on_audit_recorded(int status, int64_t id, const char *error, void *user)
{
    (void)id;
    (void)user;
    if (status != 0)
        cn_log_warning("could not record an audit event: %s", error);
}

/* Records an event with a JSON detail (taken: freed here). */
static void record_audit(struct serve_state *st, const char *actor, const char *action,
                         const char *object, const char *outcome, json_t *detail)
{
    char *text = detail != NULL ? json_dumps(detail, JSON_COMPACT) : NULL;
    json_decref(detail);
    int rc = cn_db_audit_record(st->db, actor, action, object, outcome, text, on_audit_recorded,
                                NULL);
    if (rc != 0)
        cn_log_warning("could not record audit event \"%s\": %s", action, cn_db_strerror(rc));
    free(text);
    if (st->audit_forwarder != NULL)
        cn_audit_forwarder_wake(st->audit_forwarder);
}

/* PS3.15 A.5.3.1 Application Activity: this node starting or stopping. */
static void record_application_activity(struct serve_state *st, const char *action)
{
    const char *user = getenv("USER");
    record_audit(st, st->conf->ae_title, action, NULL, CN_DB_AUDIT_SUCCESS,
                 json_pack("{s:s, s:s, s:I, s:i}", "user", user != NULL ? user : "unknown",
                           "version", CALCNODE_VERSION, "pid", (json_int_t)getpid(), "port",
                           (int)st->conf->port));
}

/* PS3.15 A.5.3.11 Security Alert (Node Authentication): an association refused. */
static void on_association_rejected(void *user, const char *calling_ae, const char *called_ae,
                                    const char *peer, const char *reason)
{
    struct serve_state *st = user;
    record_audit(st, calling_ae[0] ? calling_ae : "unknown", CN_DB_AUDIT_ASSOCIATION_REFUSED,
                 peer, CN_DB_AUDIT_MINOR_FAILURE,
                 json_pack("{s:s, s:s, s:s, s:s}", "calling_ae", calling_ae, "called_ae",
                           called_ae, "address", peer, "reason", reason));
}

static void on_outbound_notified(const char *payload, void *user)
{
    (void)payload;
    struct serve_state *st = user;
    if (st->sender)
        cn_sender_wake(st->sender);
}

static uint32_t quiet_period_of(void *user, const char *calling_ae)
{
    struct serve_state *st = user;
    return cn_conf_quiet_period_ms(st->conf, calling_ae);
}

static void on_instance_stored(void *user, const struct cn_dcm_header *header,
                               const char *calling_ae)
{
    struct serve_state *st = user;
    if (st->completion)
        cn_completion_note(st->completion, header->study_instance_uid, calling_ae,
                           header->sop_class_uid, header->rows);
}

/* Loop thread, for the HTTP thread's /metrics, /healthz and status page. */
static void collect_metrics(void *user, struct cn_metrics_loop *out)
{
    struct serve_state *st = user;
    if (st->server) {
        struct cn_server_stats s;
        cn_server_get_stats(st->server, &s);
        out->listening = !st->stopping;
        out->associations_accepted = s.associations_accepted;
        out->associations_rejected = s.associations_rejected;
        out->associations_aborted = s.associations_aborted;
        out->associations_active = s.associations_active;
        out->instances_stored = s.instances_stored;
        out->instances_duplicate = s.instances_duplicate;
        out->instances_failed = s.instances_failed;
        out->bytes_received = s.bytes_received;
    }
    if (st->sender) {
        static struct cn_sender_stats s; /* loop thread only; large for the stack */
        cn_sender_get_stats(st->sender, &s);
        out->results_sent = s.sent;
        out->results_bytes_sent = s.bytes_sent;
        for (size_t i = 0; i < s.destination_count && i < CN_METRICS_MAX_DESTINATIONS; i++) {
            struct cn_metrics_destination *d = &out->destinations[out->destination_count++];
            snprintf(d->ae_title, sizeof d->ae_title, "%s", s.destinations[i].ae_title);
            d->sent = s.destinations[i].sent;
            d->bytes_sent = s.destinations[i].bytes_sent;
            d->failed = s.destinations[i].failed;
            d->dead = s.destinations[i].dead;
        }
    }
}

static int make_dir(const char *path, char *err, size_t err_len)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "could not create directory \"%s\": %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int make_state_dirs(const char *state_dir, char *err, size_t err_len)
{
    static const char *const subdirs[] = {"spool", "store", "conflicts", "aborted", "log"};
    if (make_dir(state_dir, err, err_len) != 0)
        return -1;
    for (size_t i = 0; i < sizeof subdirs / sizeof subdirs[0]; i++) {
        char path[CN_CONF_PATH_SIZE + 16];
        snprintf(path, sizeof path, "%s/%s", state_dir, subdirs[i]);
        if (make_dir(path, err, err_len) != 0)
            return -1;
    }
    return 0;
}

static void on_db_closed(void *user)
{
    struct serve_state *st = user;
    st->db = NULL;
    uv_close((uv_handle_t *)&st->sigint, NULL);
    uv_close((uv_handle_t *)&st->sigterm, NULL);
}

/* Requests are answered in order: when this one completes, every earlier one (the last
 * association and instance rows) has been committed, and the connection can close. */
static void on_database_drained(const PGresult *res, const char *error, void *user)
{
    (void)res;
    struct serve_state *st = user;
    if (error)
        cn_log_warning("while draining the database queue: %s", error);
    cn_db_async_close(st->db, on_db_closed, st);
}

static void close_database(struct serve_state *st)
{
    cn_log_info("closing the database connection");
    if (cn_db_async_query(st->db, "SELECT 1", 0, NULL, on_database_drained, st) != 0)
        cn_db_async_close(st->db, on_db_closed, st);
}

/* The release of a killed analysis process's jobs goes through the database connection:
 * it closes only after the analysis process has stopped. */
static void on_completion_stopped(void *user)
{
    struct serve_state *st = user;
    st->completion = NULL;
    if (st->analysis)
        st->database_close_waiting = 1;
    else
        close_database(st);
}

static void on_analysis_stopped(void *user)
{
    struct serve_state *st = user;
    st->analysis = NULL;
    cn_log_info("analysis process stopped");
    if (st->database_close_waiting)
        close_database(st);
}

static void on_sender_stopped(void *user)
{
    struct serve_state *st = user;
    st->sender = NULL;
    cn_completion_stop(st->completion, on_completion_stopped, st);
}

static void stop_sender(void *user)
{
    struct serve_state *st = user;
    st->audit_forwarder = NULL;
    if (st->sender)
        cn_sender_stop(st->sender, on_sender_stopped, st);
    else
        on_sender_stopped(st);
}

static void on_server_stopped(void *user)
{
    struct serve_state *st = user;
    st->server = NULL;
    cn_log_info("associations closed");
    if (st->outbound_listen)
        cn_db_listen_stop(st->outbound_listen);
    st->outbound_listen = NULL;
    record_application_activity(st, CN_DB_AUDIT_APPLICATION_STOP);
    if (st->audit_forwarder) /* its last pass sends the stop too */
        cn_audit_forwarder_stop(st->audit_forwarder, stop_sender, st);
    else
        stop_sender(st);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    struct serve_state *st = handle->data;
    if (st->stopping) {
        /* Nothing acknowledged is lost: a Success was sent only after its row committed.
         * Objects not yet answered are sent again by their senders; their spool files
         * are swept at the next start; the embedded cluster stops with us (PDEATHSIG). */
        cn_log_error("second signal %d: exiting now without finishing the shutdown", signum);
        _exit(EXIT_FORCED_STOP);
    }
    st->stopping = 1;
    cn_log_info("signal %d: shutting down", signum);
    if (!cn_db_async_is_connected(st->db))
        cn_log_warning("the database does not answer: the shutdown waits for it to record "
                       "what is in flight; signal again to exit at once");
    if (st->http)
        cn_http_close(st->http, NULL, NULL); /* its thread is stopped after the loop */
    /* stopped beside the associations: SIGTERM, it hands its jobs back */
    if (st->analysis)
        cn_app_analysis_stop(st->analysis, on_analysis_stopped, st);
    cn_server_stop(st->server, SHUTDOWN_GRACE_MS, on_server_stopped, st);
}

int cn_cmd_serve(int argc, char **argv)
{
    struct cn_conf conf;
    int rc = cn_options_parse(argc, argv, serve_usage, NULL, NULL, NULL, &conf, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    cn_log_set_level((enum cn_log_level)conf.log_level);
    signal(SIGPIPE, SIG_IGN);

    char err[1024];
    if (make_state_dirs(conf.state_dir, err, sizeof err) != 0) {
        cn_log_error("%s", err);
        return 1;
    }
    /* Spool names left by a crash between linking an object under store/ and removing its
     * spool name (store/spool.h): harmless, removed before anything is received. */
    size_t swept = 0;
    if (cn_spool_sweep(conf.state_dir, &swept, err, sizeof err) != 0)
        cn_log_error("%s", err);
    else if (swept)
        cn_log_info("removed %zu spool names of objects already stored", swept);
    /* Every object being made durable holds a libuv pool thread during its fsyncs: size
     * the pool for parallel associations (a user's own setting wins). */
    setenv("UV_THREADPOOL_SIZE", "16", 0);
    /* The analysis process loads the model; it is read here as well so that a wrong
     * model stops this start instead of making the analysis process fail at each restart. */
    struct cn_risk_model *model = NULL;
    if (conf.workers >= 0 && cn_app_load_model(&conf, &model, err, sizeof err) != 0) {
        cn_log_error("%s", err);
        return 1;
    }
    cn_risk_model_free(model);
    struct cn_app_db app_db;
    if (cn_app_db_open(&app_db, conf.state_dir, conf.database_url, conf.sql_dir, 1, err,
                       sizeof err) != 0) {
        cn_log_error("could not open the database: %s", err);
        return 1;
    }
    cn_log_info("database ready (%s)", app_db.embedded ? "embedded cluster" : "external server");

    struct serve_state st = {0};
    struct cn_tls_context *audit_tls = NULL; /* for audit_syslog = tls:... */
    st.loop = uv_default_loop();
    st.conf = &conf;
    struct cn_db_async_options db_options = {
        .conninfo = app_db.conninfo,
        .prepared = cn_db_catalogue_statements,
        .prepared_count = cn_db_catalogue_statement_count,
    };
    int exit_code = 1;
    if (cn_db_async_init(st.loop, &db_options, &st.db, err, sizeof err) != 0) {
        cn_log_error("could not start the database connection: %s", err);
        goto out;
    }
    struct cn_server_caller callers[CN_CONF_MAX_PEERS]; /* lives as long as the loop runs */
    for (size_t i = 0; i < conf.peer_count; i++) {
        const struct cn_peer *peer = &conf.peers[i];
        snprintf(callers[i].ae_title, sizeof callers[i].ae_title, "%s", peer->ae_title);
        for (size_t a = 0; a < peer->allowed_address_count; a++)
            snprintf(callers[i].addresses[a], sizeof callers[i].addresses[a], "%s",
                     peer->allowed_addresses[a]);
        callers[i].address_count = peer->allowed_address_count;
    }
    struct cn_server_config server_config = {
        .listen_host = conf.listen_host,
        .port = conf.port,
        .ae_title = conf.ae_title,
        .state_dir = conf.state_dir,
        .max_pdu_len = conf.max_pdu_length,
        .artim_timeout_ms = conf.artim_timeout_ms,
        .max_associations = conf.max_associations,
        .duplicate_policy = conf.duplicate_policy == CN_DUPLICATE_REJECT ? CN_SERVER_REJECT
                                                                         : CN_SERVER_KEEP_FIRST,
        .instance_stored = on_instance_stored,
        .instance_stored_user = &st,
        .tls_port = conf.tls_port,
        .tls_cert = conf.tls_cert,
        .tls_key = conf.tls_key,
        .tls_ca = conf.tls_ca,
        .allowed_callers = conf.allowed_callers == CN_CALLERS_PEERS ? callers : NULL,
        .allowed_caller_count = conf.peer_count,
        .max_associations_per_ae = conf.max_associations_per_ae,
        .max_object_size = conf.max_object_size,
        .min_free_disk = conf.min_free_disk,
        .association_rejected = on_association_rejected,
        .association_rejected_user = &st,
    };
    if (cn_completion_start(st.loop, st.db, quiet_period_of, &st, &st.completion) != 0) {
        cn_log_error("out of memory");
        cn_db_async_close(st.db, NULL, NULL);
        uv_run(st.loop, UV_RUN_DEFAULT);
        goto out;
    }
    struct cn_send_peer peers[CN_CONF_MAX_PEERS];
    for (size_t i = 0; i < conf.peer_count; i++) {
        snprintf(peers[i].ae_title, sizeof peers[i].ae_title, "%s", conf.peers[i].ae_title);
        snprintf(peers[i].host, sizeof peers[i].host, "%s", conf.peers[i].host);
        peers[i].port = conf.peers[i].port;
        peers[i].tls = conf.peers[i].tls;
    }
    struct cn_sender_config sender_config = {
        .calling_ae = conf.ae_title,
        .peers = peers,
        .peer_count = conf.peer_count,
        .tls_cert = conf.tls_cert,
        .tls_key = conf.tls_key,
        .tls_ca = conf.tls_ca,
    };
    if (cn_sender_start(st.loop, st.db, &sender_config, &st.sender) != 0) {
        cn_log_error("could not start the sender of results");
        st.sender = NULL;
    } else if (cn_db_listen_start(st.loop, app_db.conninfo, CN_DB_CHANNEL_OUTBOUND,
                                  on_outbound_notified, &st, &st.outbound_listen) != 0) {
        st.outbound_listen = NULL; /* the sender's own polling still finds the rows */
    }
    if (cn_server_start(st.loop, &server_config, st.db, &st.server, err, sizeof err) != 0) {
        cn_log_error("%s", err);
        if (st.outbound_listen)
            cn_db_listen_stop(st.outbound_listen); /* its connection would keep the loop alive */
        if (st.sender)
            cn_sender_stop(st.sender, NULL, NULL);
        cn_completion_stop(st.completion, NULL, NULL);
        cn_db_async_close(st.db, NULL, NULL);
        uv_run(st.loop, UV_RUN_DEFAULT);
        goto out;
    }
    record_application_activity(&st, CN_DB_AUDIT_APPLICATION_START);
    if (conf.audit_syslog[0] != '\0') {
        /* syslog over TLS (RFC 5425): our certificate as the client's, tls_ca for theirs */
        if (strncmp(conf.audit_syslog, "tls:", 4) == 0 &&
            cn_tls_context_new(CN_TLS_CLIENT, conf.tls_cert, conf.tls_key, conf.tls_ca,
                               &audit_tls, err, sizeof err) != 0)
            cn_log_error("audit events not forwarded: %s", err);
        struct cn_audit_forwarder_config audit_config = {
            .target = conf.audit_syslog,
            .ae_title = conf.ae_title,
            .tls = audit_tls,
        };
        if (cn_audit_forwarder_start(st.loop, st.db, &audit_config, &st.audit_forwarder, err,
                                     sizeof err) != 0)
            cn_log_error("%s", err);
        else
            cn_log_info("audit events forwarded to %s", conf.audit_syslog);
    }
    uv_signal_init(st.loop, &st.sigint);
    uv_signal_init(st.loop, &st.sigterm);
    st.sigint.data = &st;
    st.sigterm.data = &st;
    uv_signal_start(&st.sigint, on_signal, SIGINT);
    uv_signal_start(&st.sigterm, on_signal, SIGTERM);
    if (conf.workers < 0)
        cn_log_info("no analysis workers here (workers = none): studies wait for a "
                    "calcnode worker");
    else if (cn_app_analysis_start(st.loop, st.db, &conf, app_db.conninfo, &st.analysis, err,
                                   sizeof err) != 0)
        cn_log_error("analysis process not started: %s", err);
    if (conf.http_port) {
        struct cn_http_config http_config = {
            .host = conf.http_host,
            .port = conf.http_port,
            .conninfo = app_db.conninfo,
            .version = CALCNODE_VERSION,
            .collect = collect_metrics,
            .collect_user = &st,
        };
        if (cn_http_start(st.loop, &http_config, &st.http, err, sizeof err) != 0)
            cn_log_error("%s", err);
        else
            cn_log_info("HTTP status on http://%s:%u/", conf.http_host, (unsigned)conf.http_port);
    }
    cn_log_info("calcnode %s ready: AE %s on %s:%u, state in %s", CALCNODE_VERSION,
                conf.ae_title, conf.listen_host, (unsigned)conf.port, conf.state_dir);
    uv_run(st.loop, UV_RUN_DEFAULT);
    cn_http_free(st.http);
    exit_code = 0;
out:
    if (uv_loop_close(st.loop) != 0)
        cn_log_warning("the event loop still had open handles at exit");
    cn_app_db_close(&app_db);
    cn_tls_context_free(audit_tls);
    cn_log_info("stopped");
    return exit_code;
}
