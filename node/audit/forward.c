/* node/audit/forward: the audit table to a syslog collector (forward.h). */
#include "audit/forward.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/message.h"
#include "db/async.h"
#include "net/tcp.h"
#include "util/log.h"

#define AE_TITLE_SIZE 17
#define OCTET_COUNT_PREFIX_SIZE 24
#define ID_TEXT_SIZE 24

/* Claims up to $1 unforwarded rows whose claim (if any) expired, for $2 ms. */
static const char CLAIM_SQL[] =
    "UPDATE audit a SET forward_lease_until = now() + $2::double precision * interval "
    "'1 millisecond'"
    " WHERE a.id IN (SELECT c.id FROM audit c"
    "                 WHERE c.forwarded_at IS NULL"
    "                   AND (c.forward_lease_until IS NULL OR c.forward_lease_until < now())"
    "                 ORDER BY c.id LIMIT $1::integer FOR UPDATE SKIP LOCKED)"
    " RETURNING a.id, to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    "           a.actor, a.action, coalesce(a.object, ''), a.outcome, coalesce(a.detail::text, '')";
enum {
    CLAIM_ID,
    CLAIM_AT,
    CLAIM_ACTOR,
    CLAIM_ACTION,
    CLAIM_OBJECT,
    CLAIM_OUTCOME,
    CLAIM_DETAIL,
    CLAIM_COLUMN_COUNT
};

/* Marks the rows of the array $1 forwarded. */
static const char MARK_SQL[] = "UPDATE audit SET forwarded_at = now(), forward_lease_until = NULL"
                               " WHERE id = ANY($1::bigint[])";

enum phase { PHASE_IDLE, PHASE_CONNECTING, PHASE_CLAIMING, PHASE_SENDING, PHASE_MARKING };

struct cn_audit_forwarder {
    uv_loop_t *loop;
    struct cn_db_async *db;
    enum cn_audit_transport transport;
    struct cn_tls_context *tls; /* borrowed: for CN_AUDIT_TLS */
    char host[CN_AUDIT_HOST_SIZE];
    uint16_t port;
    char ae_title[AE_TITLE_SIZE];
    char hostname[CN_AUDIT_HOST_SIZE];
    uint32_t interval_ms, batch_count, lease_ms;
    uv_timer_t timer;
    enum phase phase;
    /* UDP */
    uv_udp_t udp;
    int udp_open;
    int resolved;
    struct sockaddr_storage addr;
    uv_getaddrinfo_t resolve_req;
    /* TCP and TLS */
    struct cn_tcp_conn *conn;
    int connected;
    uv_timer_t io_timer; /* bounds a connect (with its handshake) and a batch's writes */
    /* the batch being sent: ids to mark, and sends still outstanding */
    int64_t *batch_ids;
    size_t batch_len, batch_written, sends_pending, send_failures;
    int batch_full;
    /* stopping: one last pass, then closing the handles */
    int stopping, last_pass, closing;
    int open_handles;
    void (*done)(void *user);
    void *done_user;
    struct cn_audit_forwarder_stats stats;
};

struct udp_send {
    uv_udp_send_t req;
    struct cn_audit_forwarder *fwd;
    int64_t id;
    size_t len;
    char data[];
};

static void tick(struct cn_audit_forwarder *fwd);
static void arm_io_deadline(struct cn_audit_forwarder *fwd);
static void after_pass(struct cn_audit_forwarder *fwd);
static void on_timer(uv_timer_t *timer);

int cn_audit_target_parse(const char *target, enum cn_audit_transport *transport, char *host,
                          size_t host_len, uint16_t *port)
{
    if (target == NULL)
        return -1;
    if (strncmp(target, "udp:", 4) == 0)
        *transport = CN_AUDIT_UDP;
    else if (strncmp(target, "tcp:", 4) == 0)
        *transport = CN_AUDIT_TCP;
    else if (strncmp(target, "tls:", 4) == 0)
        *transport = CN_AUDIT_TLS;
    else
        return -1;
    const char *rest = target + 4;
    const char *colon = strrchr(rest, ':');
    if (colon == NULL || colon == rest)
        return -1;
    const char *h = rest;
    size_t h_len = (size_t)(colon - rest);
    if (h[0] == '[') { /* [v6]:port */
        if (h_len < 3 || h[h_len - 1] != ']')
            return -1;
        h++;
        h_len -= 2;
    } else if (memchr(h, ':', h_len) != NULL) {
        return -1; /* an IPv6 literal needs its brackets */
    }
    if (h_len == 0 || h_len >= host_len)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (colon[1] < '0' || colon[1] > '9' || *end != '\0' || p < 1 || p > 65535)
        return -1;
    memcpy(host, h, h_len);
    host[h_len] = '\0';
    *port = (uint16_t)p;
    return 0;
}

/* ---- closing ---- */

static void maybe_free(struct cn_audit_forwarder *fwd)
{
    if (!fwd->closing || fwd->open_handles > 0)
        return;
    void (*done)(void *) = fwd->done;
    void *user = fwd->done_user;
    free(fwd->batch_ids);
    free(fwd);
    if (done != NULL)
        done(user);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct cn_audit_forwarder *fwd = handle->data;
    fwd->open_handles--;
    maybe_free(fwd);
}

static void close_all(struct cn_audit_forwarder *fwd)
{
    if (fwd->closing)
        return;
    fwd->closing = 1;
    fwd->open_handles = 2 + fwd->udp_open + (fwd->conn != NULL);
    uv_close((uv_handle_t *)&fwd->timer, on_handle_closed);
    uv_close((uv_handle_t *)&fwd->io_timer, on_handle_closed);
    if (fwd->udp_open)
        uv_close((uv_handle_t *)&fwd->udp, on_handle_closed);
    if (fwd->conn != NULL)
        cn_tcp_close(fwd->conn, 1); /* queued bytes are flushed; on_tcp_closed counts it */
}

/* ---- a pass: claim, send, mark ---- */

static void on_marked(const PGresult *res, const char *error, void *user)
{
    (void)res;
    struct cn_audit_forwarder *fwd = user;
    if (error != NULL)
        cn_log_warning("could not mark audit rows forwarded (they are sent again when their "
                       "claim expires): %s",
                       error);
    fwd->phase = PHASE_IDLE;
    after_pass(fwd);
}

/* Every send of the batch has completed: mark the rows that went out. */
static void finish_sends(struct cn_audit_forwarder *fwd)
{
    if (fwd->batch_len == 0) {
        fwd->phase = PHASE_IDLE;
        after_pass(fwd);
        return;
    }
    char *ids = malloc(fwd->batch_len * ID_TEXT_SIZE + 3);
    if (ids != NULL) {
        size_t n = 0;
        ids[n++] = '{';
        for (size_t i = 0; i < fwd->batch_len; i++)
            n += (size_t)snprintf(ids + n, ID_TEXT_SIZE + 1, "%s%" PRId64, i ? "," : "",
                                  fwd->batch_ids[i]);
        ids[n++] = '}';
        ids[n] = '\0';
    }
    const char *params[1] = {ids};
    fwd->phase = PHASE_MARKING;
    if (ids == NULL || cn_db_async_query(fwd->db, MARK_SQL, 1, params, on_marked, fwd) != 0) {
        cn_log_warning("could not queue the marking of %zu audit rows", fwd->batch_len);
        fwd->phase = PHASE_IDLE;
        after_pass(fwd);
    }
    free(ids);
    fwd->batch_len = 0;
}

static void on_udp_sent(uv_udp_send_t *req, int status)
{
    struct udp_send *send = (struct udp_send *)req;
    struct cn_audit_forwarder *fwd = send->fwd;
    if (status == 0) {
        fwd->batch_ids[fwd->batch_len++] = send->id;
        fwd->stats.forwarded++;
    } else {
        fwd->send_failures++;
        fwd->stats.failed++;
        cn_log_warning("could not send audit row %" PRId64 " to %s:%u: %s", send->id, fwd->host,
                       (unsigned)fwd->port, uv_strerror(status));
    }
    free(send);
    if (--fwd->sends_pending == 0)
        finish_sends(fwd);
}

/* Hands one message to the transport. Returns 0 when it is under way. */
static int send_message(struct cn_audit_forwarder *fwd, int64_t id, const char *msg, size_t len)
{
    if (fwd->transport == CN_AUDIT_UDP) {
        struct udp_send *send = malloc(sizeof *send + len);
        if (send == NULL)
            return UV_ENOMEM;
        send->fwd = fwd;
        send->id = id;
        send->len = len;
        memcpy(send->data, msg, len);
        uv_buf_t buf = uv_buf_init(send->data, (unsigned)len);
        int rc = uv_udp_send(&send->req, &fwd->udp, &buf, 1, (const struct sockaddr *)&fwd->addr,
                             on_udp_sent);
        if (rc != 0) {
            free(send);
            return rc;
        }
        fwd->sends_pending++;
        return 0;
    }
    /* RFC 6587 3.4.1: MSG-LEN SP SYSLOG-MSG */
    char prefix[OCTET_COUNT_PREFIX_SIZE];
    int prefix_len = cn_audit_octet_count_prefix(len, prefix, sizeof prefix);
    int rc = prefix_len < 0 ? UV_EINVAL
                            : cn_tcp_write(fwd->conn, (const uint8_t *)prefix, (size_t)prefix_len);
    if (rc == 0)
        rc = cn_tcp_write(fwd->conn, (const uint8_t *)msg, len);
    if (rc != 0)
        return rc;
    fwd->batch_ids[fwd->batch_len++] = id; /* marked once the writes drain */
    fwd->sends_pending = 1;
    return 0;
}

static void on_claimed(const PGresult *res, const char *error, void *user)
{
    struct cn_audit_forwarder *fwd = user;
    if (error != NULL || PQnfields(res) != CLAIM_COLUMN_COUNT) {
        cn_log_warning("could not claim audit rows to forward: %s",
                       error != NULL ? error : "unexpected columns");
        fwd->phase = PHASE_IDLE;
        after_pass(fwd);
        return;
    }
    int rows = PQntuples(res);
    fwd->batch_full = rows > 0 && (uint32_t)rows >= fwd->batch_count;
    fwd->batch_len = 0;
    fwd->batch_written = 0;
    fwd->send_failures = 0;
    fwd->sends_pending = 0;
    fwd->phase = PHASE_SENDING;
    arm_io_deadline(fwd);
    struct cn_audit_source src = {fwd->ae_title, fwd->hostname, (long)getpid()};
    for (int i = 0; i < rows && (fwd->transport == CN_AUDIT_UDP || fwd->conn != NULL); i++) {
        struct cn_audit_record rec = {
            .id = strtoll(PQgetvalue(res, i, CLAIM_ID), NULL, 10),
            .at = PQgetvalue(res, i, CLAIM_AT),
            .actor = PQgetvalue(res, i, CLAIM_ACTOR),
            .action = PQgetvalue(res, i, CLAIM_ACTION),
            .object = PQgetvalue(res, i, CLAIM_OBJECT),
            .outcome = PQgetvalue(res, i, CLAIM_OUTCOME),
            .detail_json = PQgetvalue(res, i, CLAIM_DETAIL),
        };
        char *msg, err[256];
        size_t len;
        if (cn_audit_syslog_message(&rec, &src, &msg, &len, err, sizeof err) != 0) {
            /* kept in the table; marked so that it does not block the queue */
            cn_log_error("audit row %" PRId64 " not forwarded: %s", rec.id, err);
            fwd->batch_ids[fwd->batch_len++] = rec.id;
            fwd->stats.malformed++;
            continue;
        }
        int rc = send_message(fwd, rec.id, msg, len);
        free(msg);
        if (rc != 0) {
            cn_log_warning("could not send audit row %" PRId64 ": %s", rec.id, uv_strerror(rc));
            fwd->send_failures++;
            fwd->stats.failed++;
        } else if (fwd->transport != CN_AUDIT_UDP) {
            fwd->stats.forwarded++;
            fwd->batch_written++;
        }
    }
    if (fwd->sends_pending == 0)
        finish_sends(fwd);
}

static void after_pass(struct cn_audit_forwarder *fwd)
{
    if (fwd->stopping && !fwd->last_pass) {
        /* the pass that was under way at the stop may have missed the latest rows */
        fwd->last_pass = 1;
        tick(fwd);
        return;
    }
    if (fwd->stopping) {
        close_all(fwd);
        return;
    }
    uint64_t delay = fwd->batch_full && fwd->send_failures == 0 ? 0 : fwd->interval_ms;
    fwd->batch_full = 0;
    uv_timer_start(&fwd->timer, on_timer, delay, 0);
}

/* ---- transports ---- */

/* A collector that accepts the connection but never completes the TLS handshake, or stops
 * reading, must not hold the forwarder (and a node's shutdown) for ever: the connection
 * is dropped after CN_AUDIT_IO_TIMEOUT_MS in PHASE_CONNECTING or PHASE_SENDING, and the
 * rows are sent again later (on_tcp_closed). */
static void on_io_deadline(uv_timer_t *timer)
{
    struct cn_audit_forwarder *fwd = timer->data;
    if (fwd->closing || fwd->conn == NULL ||
        (fwd->phase != PHASE_CONNECTING && fwd->phase != PHASE_SENDING))
        return;
    cn_log_warning("audit collector %s:%u did not %s within %u ms: dropping the connection",
                   fwd->host, (unsigned)fwd->port,
                   fwd->phase == PHASE_CONNECTING ? "accept the connection" : "take the messages",
                   (unsigned)CN_AUDIT_IO_TIMEOUT_MS);
    cn_tcp_close(fwd->conn, 0);
}

static void arm_io_deadline(struct cn_audit_forwarder *fwd)
{
    if (fwd->transport != CN_AUDIT_UDP && !fwd->closing)
        uv_timer_start(&fwd->io_timer, on_io_deadline, CN_AUDIT_IO_TIMEOUT_MS, 0);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct cn_audit_forwarder *fwd = req->data;
    fwd->phase = PHASE_IDLE;
    if (status == 0 && res != NULL && res->ai_addrlen <= sizeof fwd->addr) {
        memcpy(&fwd->addr, res->ai_addr, res->ai_addrlen);
        fwd->resolved = 1;
        uv_freeaddrinfo(res);
        tick(fwd);
        return;
    }
    cn_log_warning("could not resolve audit collector \"%s\": %s", fwd->host,
                   status != 0 ? uv_strerror(status) : "no address");
    uv_freeaddrinfo(res);
    after_pass(fwd);
}

static void on_tcp_data(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    (void)data;
    (void)len; /* a collector has nothing to say (RFC 6587); ignored */
}

static void on_tcp_transport_closed(void *user, int status)
{
    struct cn_audit_forwarder *fwd = user;
    cn_log_warning("audit collector %s:%u closed the connection: %s", fwd->host,
                   (unsigned)fwd->port, status == UV_EOF ? "end of stream" : uv_strerror(status));
    fwd->connected = 0;
    cn_tcp_close(fwd->conn, 0);
}

static void on_tcp_connected(void *user, int status)
{
    struct cn_audit_forwarder *fwd = user;
    if (status != 0) {
        cn_log_warning("could not connect to audit collector %s:%u: %s", fwd->host,
                       (unsigned)fwd->port, uv_strerror(status));
        return; /* on_tcp_closed follows */
    }
    fwd->connected = 1;
    fwd->phase = PHASE_IDLE;
    tick(fwd);
}

static void on_tcp_drained(void *user)
{
    struct cn_audit_forwarder *fwd = user;
    if (fwd->phase == PHASE_SENDING && fwd->sends_pending > 0) {
        fwd->sends_pending = 0;
        finish_sends(fwd);
    }
}

static void on_tcp_closed(void *user)
{
    struct cn_audit_forwarder *fwd = user;
    fwd->conn = NULL;
    fwd->connected = 0;
    if (fwd->closing) {
        fwd->open_handles--;
        maybe_free(fwd);
        return;
    }
    if (fwd->phase == PHASE_SENDING) { /* the batch's bytes may not have arrived */
        fwd->stats.forwarded -= fwd->batch_written;
        fwd->stats.failed += fwd->batch_written;
        fwd->send_failures += fwd->batch_written;
        fwd->batch_len = 0;
        fwd->sends_pending = 0;
        finish_sends(fwd);
    } else if (fwd->phase == PHASE_CONNECTING) {
        fwd->phase = PHASE_IDLE;
        after_pass(fwd); /* retry after the interval */
    }
}

static const struct cn_tcp_conn_ops tcp_ops = {
    .on_data = on_tcp_data,
    .on_transport_closed = on_tcp_transport_closed,
    .on_connected = on_tcp_connected,
    .on_drained = on_tcp_drained,
    .on_closed = on_tcp_closed,
};

/* Starts a pass when idle: first the transport (resolve, connect), then the claim. */
static void tick(struct cn_audit_forwarder *fwd)
{
    if (fwd->phase != PHASE_IDLE || fwd->closing)
        return;
    if (fwd->transport == CN_AUDIT_UDP && !fwd->resolved) {
        char port[8];
        snprintf(port, sizeof port, "%u", (unsigned)fwd->port);
        struct addrinfo hints = {.ai_socktype = SOCK_DGRAM};
        fwd->phase = PHASE_CONNECTING;
        int rc = uv_getaddrinfo(fwd->loop, &fwd->resolve_req, on_resolved, fwd->host, port, &hints);
        if (rc != 0) {
            cn_log_warning("could not resolve audit collector \"%s\": %s", fwd->host,
                           uv_strerror(rc));
            fwd->phase = PHASE_IDLE;
            after_pass(fwd);
        }
    } else if (fwd->transport != CN_AUDIT_UDP && fwd->conn == NULL) {
        fwd->phase = PHASE_CONNECTING;
        int rc = fwd->transport == CN_AUDIT_TLS
                     ? cn_tcp_connect_tls(fwd->loop, fwd->host, fwd->port, fwd->tls, &tcp_ops,
                                          fwd, &fwd->conn)
                     : cn_tcp_connect(fwd->loop, fwd->host, fwd->port, &tcp_ops, fwd, &fwd->conn);
        if (rc == 0)
            arm_io_deadline(fwd);
        if (rc != 0) {
            cn_log_warning("could not connect to audit collector %s:%u: %s", fwd->host,
                           (unsigned)fwd->port, uv_strerror(rc));
            fwd->conn = NULL;
            fwd->phase = PHASE_IDLE;
            after_pass(fwd);
        }
    } else if (fwd->transport == CN_AUDIT_UDP || fwd->connected) {
        char limit[16], lease[16];
        snprintf(limit, sizeof limit, "%" PRIu32, fwd->batch_count);
        snprintf(lease, sizeof lease, "%" PRIu32, fwd->lease_ms);
        const char *params[2] = {limit, lease};
        fwd->phase = PHASE_CLAIMING;
        if (cn_db_async_query(fwd->db, CLAIM_SQL, 2, params, on_claimed, fwd) != 0) {
            cn_log_warning("could not queue the claim of audit rows to forward");
            fwd->phase = PHASE_IDLE;
            after_pass(fwd);
        }
    }
    /* else: a TCP connection is under way; on_tcp_connected or on_tcp_closed follows */
}

static void on_timer(uv_timer_t *timer)
{
    tick(timer->data);
}

/* ---- public ---- */

int cn_audit_forwarder_start(uv_loop_t *loop, struct cn_db_async *db,
                             const struct cn_audit_forwarder_config *config,
                             struct cn_audit_forwarder **out, char *err, size_t err_len)
{
    struct cn_audit_forwarder *fwd = calloc(1, sizeof *fwd);
    if (fwd == NULL) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    if (cn_audit_target_parse(config->target, &fwd->transport, fwd->host, sizeof fwd->host,
                              &fwd->port) != 0) {
        snprintf(err, err_len, "audit target \"%s\" is not udp:, tls: or tcp:HOST:PORT",
                 config->target != NULL ? config->target : "");
        free(fwd);
        return -1;
    }
    if (fwd->transport == CN_AUDIT_TLS && config->tls == NULL) {
        snprintf(err, err_len, "audit target \"%s\" needs a TLS client context", config->target);
        free(fwd);
        return -1;
    }
    fwd->tls = config->tls;
    fwd->loop = loop;
    fwd->db = db;
    snprintf(fwd->ae_title, sizeof fwd->ae_title, "%s", config->ae_title ? config->ae_title : "");
    if (gethostname(fwd->hostname, sizeof fwd->hostname) != 0)
        fwd->hostname[0] = '\0';
    fwd->hostname[sizeof fwd->hostname - 1] = '\0';
    fwd->interval_ms = config->interval_ms ? config->interval_ms : CN_AUDIT_INTERVAL_MS;
    fwd->batch_count = config->batch_count ? config->batch_count : CN_AUDIT_BATCH_COUNT;
    fwd->lease_ms = config->lease_ms ? config->lease_ms : CN_AUDIT_LEASE_MS;
    fwd->batch_ids = malloc(fwd->batch_count * sizeof fwd->batch_ids[0]);
    int rc = fwd->batch_ids == NULL ? UV_ENOMEM : 0;
    if (rc == 0 && fwd->transport == CN_AUDIT_UDP) {
        rc = uv_udp_init(loop, &fwd->udp);
        fwd->udp_open = rc == 0;
    }
    if (rc != 0) {
        snprintf(err, err_len, "could not start audit forwarding: %s", uv_strerror(rc));
        free(fwd->batch_ids);
        free(fwd);
        return -1;
    }
    uv_timer_init(loop, &fwd->timer); /* cannot fail */
    fwd->timer.data = fwd;
    uv_timer_init(loop, &fwd->io_timer);
    fwd->io_timer.data = fwd;
    fwd->udp.data = fwd;
    fwd->resolve_req.data = fwd;
    uv_timer_start(&fwd->timer, on_timer, 0, 0);
    *out = fwd;
    return 0;
}

void cn_audit_forwarder_wake(struct cn_audit_forwarder *fwd)
{
    if (fwd->phase == PHASE_IDLE && !fwd->stopping)
        uv_timer_start(&fwd->timer, on_timer, 0, 0);
}

void cn_audit_forwarder_get_stats(const struct cn_audit_forwarder *fwd,
                                  struct cn_audit_forwarder_stats *out)
{
    *out = fwd->stats;
}

void cn_audit_forwarder_stop(struct cn_audit_forwarder *fwd, void (*done)(void *user), void *user)
{
    fwd->stopping = 1;
    fwd->done = done;
    fwd->done_user = user;
    uv_timer_stop(&fwd->timer);
    if (fwd->phase == PHASE_IDLE) {
        fwd->last_pass = 1;
        tick(fwd); /* after_pass closes */
    }
}
