/* One TCP connection carrying one association: glue between node/net (bytes, timer),
 * node/ul (the PS3.8 state machine) and the DIMSE receiver. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/catalogue.h"
#include "net/tcp.h"
#include "serve/access.h"
#include "serve/disk_watch.h"
#include "serve/internal.h"
#include "ul/assoc.h"
#include "ul/negotiate.h"
#include "util/log.h"

static void session_free(struct cn_session *s)
{
    struct cn_server *server = s->server;
    if (s->prev)
        s->prev->next = s->next;
    else
        server->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    server->stats.associations_active--;
    cn_dimse_receiver_free(&s->receiver);
    free(s);
    cn_server_session_gone(server);
}

static void on_association_end_recorded(int status, int64_t id, const char *error, void *user)
{
    (void)id;
    (void)user;
    if (status != 0)
        cn_log_warning("could not record the end of an association: %s", error);
}

void cn_session_ref(struct cn_session *s)
{
    s->refs++;
}

void cn_session_unref(struct cn_session *s)
{
    if (--s->refs > 0)
        return;
    if (s->db_association_id > 0) {
        enum cn_db_association_outcome outcome =
            s->aborted ? CN_DB_ASSOCIATION_ABORTED : CN_DB_ASSOCIATION_RELEASED;
        cn_db_association_end(s->server->db, s->db_association_id, outcome,
                              (int64_t)s->instances_stored, on_association_end_recorded, NULL);
        if (s->aborted)
            cn_db_mark_aborted(s->server->db, s->db_association_id, NULL,
                               on_association_end_recorded, NULL);
    }
    session_free(s);
}

/* The transport reference is dropped when both the TCP handle and the ARTIM timer are
 * closed and the association object is freed. */
static void maybe_drop_transport(struct cn_session *s)
{
    if (s->conn || !s->artim_closed || s->assoc)
        return;
    cn_session_unref(s);
}

static void on_artim_closed(uv_handle_t *handle)
{
    struct cn_session *s = handle->data;
    s->artim_closed = 1;
    maybe_drop_transport(s);
}

/* ---- node/net callbacks ---- */

static void on_tcp_data(void *user, const uint8_t *data, size_t len)
{
    struct cn_session *s = user;
    s->server->stats.bytes_received += len;
    if (s->assoc)
        cn_assoc_receive(s->assoc, data, len);
}

static void on_tcp_transport_closed(void *user, int status)
{
    struct cn_session *s = user;
    if (status != UV_EOF) {
        const char *tls_error = s->conn ? cn_tcp_tls_error(s->conn) : "";
        cn_log_info("[assoc %llu] connection from %s lost: %s", (unsigned long long)s->id,
                    s->peer, tls_error[0] ? tls_error : uv_strerror(status));
        /* A refused TLS handshake (no or foreign certificate, old protocol, plain DICOM on
         * the TLS port) is a refusal like an A-ASSOCIATE-RJ, for the audit trail. */
        struct cn_server *server = s->server;
        if (tls_error[0] && !s->established && server->config.association_rejected) {
            char reason[320];
            snprintf(reason, sizeof reason, "TLS handshake failed: %s", tls_error);
            server->config.association_rejected(server->config.association_rejected_user, "",
                                                "", s->peer, reason);
        }
    }
    if (s->assoc)
        cn_assoc_transport_closed(s->assoc);
    else if (s->conn)
        cn_tcp_close(s->conn, 0);
}

static void on_tcp_drained(void *user)
{
    (void)user;
}

static void on_tcp_closed(void *user)
{
    struct cn_session *s = user;
    s->conn = NULL;
    if (s->assoc) {
        /* EVT17 for an association that did not see the close coming */
        cn_assoc_transport_closed(s->assoc);
    }
    if (!uv_is_closing((uv_handle_t *)&s->artim))
        uv_close((uv_handle_t *)&s->artim, on_artim_closed);
    maybe_drop_transport(s);
}

static const struct cn_tcp_conn_ops session_tcp_ops = {
    .on_data = on_tcp_data,
    .on_transport_closed = on_tcp_transport_closed,
    .on_connected = NULL,
    .on_drained = on_tcp_drained,
    .on_closed = on_tcp_closed,
};

/* ---- node/ul callbacks ---- */

static void ul_send(void *user, const uint8_t *bytes, size_t len)
{
    struct cn_session *s = user;
    if (s->conn)
        cn_tcp_write(s->conn, bytes, len);
}

static void ul_close_transport(void *user)
{
    struct cn_session *s = user;
    if (s->conn)
        cn_tcp_close(s->conn, 1);
}

static void on_artim_expired(uv_timer_t *timer)
{
    struct cn_session *s = timer->data;
    cn_log_info("[assoc %llu] ARTIM timer expired for %s", (unsigned long long)s->id, s->peer);
    if (s->assoc)
        cn_assoc_timer_expired(s->assoc);
}

static void ul_timer_start(void *user, uint32_t timeout_ms)
{
    struct cn_session *s = user;
    if (!uv_is_closing((uv_handle_t *)&s->artim))
        uv_timer_start(&s->artim, on_artim_expired, timeout_ms, 0);
}

static void ul_timer_stop(void *user)
{
    struct cn_session *s = user;
    uv_timer_stop(&s->artim);
}

/* The AE title of a PDU without its padding, and with every byte outside the AE VR's
 * repertoire (PS3.5 Table 6.2-1: printable ASCII, no backslash) replaced by '?': the
 * title goes into logs, the database (UTF-8) and audit messages, and a peer must not be
 * able to make those records fail with bytes that are not text. */
static void trim_ae(char *dst, const char *src)
{
    size_t n = strlen(src);
    while (n > 0 && src[n - 1] == ' ')
        n--;
    size_t start = 0;
    while (start < n && src[start] == ' ')
        start++;
    for (size_t i = start; i < n; i++) {
        unsigned char c = (unsigned char)src[i];
        dst[i - start] = (c < 0x20 || c > 0x7e || c == '\\') ? '?' : (char)c;
    }
    dst[n - start] = '\0';
}

static void on_association_recorded(int status, int64_t id, const char *error, void *user)
{
    struct cn_session *s = user;
    s->db_association_pending = 0;
    if (status == 0) {
        s->db_association_id = id;
    } else {
        cn_log_warning("[assoc %llu] could not record the association: %s",
                       (unsigned long long)s->id, error);
    }
    cn_store_association_known(s);
    cn_session_unref(s);
}

/* The association no longer counts toward the limits: from the moment our A-RELEASE-RP
 * or an A-ABORT is on its way, so a peer that saw its association end may open the next
 * one at once. */
static void uncount(struct cn_session *s)
{
    s->counted = 0;
}

/* The facts of access.h for s's request. */
static void access_facts(const struct cn_session *s, const struct cn_assoc_rq *rq,
                         char *address, size_t address_size, struct cn_access_request *facts)
{
    const struct cn_server *server = s->server;
    memset(facts, 0, sizeof *facts);
    facts->calling_ae = rq->calling_ae;
    facts->called_ae = rq->called_ae;
    if (cn_access_peer_address(s->peer, address, address_size) != 0)
        address[0] = '\0';
    facts->peer_address = address;
    for (const struct cn_session *o = server->sessions; o; o = o->next) {
        if (o == s || !o->counted)
            continue;
        facts->open_count++;
        if (cn_ae_title_equal(o->calling_ae, rq->calling_ae))
            facts->open_for_calling_ae++;
    }
    if (server->disk)
        facts->free_disk_known = cn_disk_watch_free(server->disk, &facts->free_disk);
    facts->stopping = server->stopping;
}

static int refuse(struct cn_session *s, const struct cn_assoc_rj *rj, const char *reason)
{
    struct cn_server *server = s->server;
    server->stats.associations_rejected++;
    cn_log_warning("[assoc %llu] refused %s -> %s from %s: %s (A-ASSOCIATE-RJ result %u, "
                   "source %u, reason %u)",
                   (unsigned long long)s->id, s->calling_ae, s->called_ae, s->peer, reason,
                   rj->result, rj->source, rj->reason);
    if (server->config.association_rejected)
        server->config.association_rejected(server->config.association_rejected_user,
                                            s->calling_ae, s->called_ae, s->peer, reason);
    return 1;
}

static int ul_associate_indication(void *user, const struct cn_assoc_rq *rq,
                                   struct cn_assoc_ac *ac, struct cn_assoc_rj *rj)
{
    struct cn_session *s = user;
    struct cn_server *server = s->server;
    trim_ae(s->calling_ae, rq->calling_ae);
    trim_ae(s->called_ae, rq->called_ae);
    char address[sizeof s->peer];
    struct cn_access_request facts;
    struct cn_access_decision decision;
    access_facts(s, rq, address, sizeof address, &facts);
    if (cn_access_check(&server->config, &facts, &decision) != 0) {
        *rj = decision.rj;
        return refuse(s, rj, decision.reason);
    }
    if (cn_negotiate(&server->assoc_config, rq, ac, rj) != 0)
        return refuse(s, rj, rj->reason == CN_RJ_USER_APPLICATION_CONTEXT_NOT_SUPPORTED
                                 ? "application context name not supported"
                                 : "refused by the Upper Layer negotiation");
    s->established = 1;
    s->counted = 1;
    server->stats.associations_accepted++;
    unsigned accepted = 0;
    for (unsigned i = 0; i < ac->pc_count; i++)
        accepted += ac->pcs[i].result == CN_PC_ACCEPTANCE;
    cn_log_info("[assoc %llu] accepted %s -> %s from %s: %u of %u presentation contexts",
                (unsigned long long)s->id, s->calling_ae, s->called_ae, s->peer, accepted,
                (unsigned)rq->pc_count);
    s->db_association_pending = 1;
    cn_session_ref(s);
    if (cn_db_association_start(server->db, s->calling_ae, s->called_ae, s->peer,
                                on_association_recorded, s) != 0) {
        s->db_association_pending = 0;
        cn_session_unref(s);
    }
    return 0;
}

static void ul_associate_confirm(void *user, const struct cn_assoc_ac *ac,
                                 const struct cn_assoc_rj *rj)
{
    (void)user;
    (void)ac;
    (void)rj; /* acceptor only */
}

static int ul_pdv_indication(void *user, uint8_t pc_id, int is_command, int is_last,
                             const uint8_t *data, size_t len)
{
    struct cn_session *s = user;
    int rc = cn_dimse_receiver_pdv(&s->receiver, pc_id, is_command, is_last, data, len);
    if (rc != 0) {
        uncount(s);
        if (!s->aborted) {
            s->aborted = 1;
            s->server->stats.associations_aborted++;
        }
        cn_log_warning("[assoc %llu] aborting %s: %s", (unsigned long long)s->id, s->calling_ae,
                       cn_dimse_receiver_message(&s->receiver)[0]
                           ? cn_dimse_receiver_message(&s->receiver)
                           : "DIMSE protocol error");
        return -1;
    }
    return 0;
}

static void ul_release_indication(void *user)
{
    struct cn_session *s = user;
    s->release_requested = 1;
    if (!s->ops && s->assoc) {
        uncount(s);
        cn_assoc_release_response(s->assoc);
    }
    /* otherwise answered by cn_session_op_finished once every store is answered */
}

static void ul_release_confirm(void *user)
{
    (void)user;
}

static void ul_abort_indication(void *user, int source, int reason)
{
    struct cn_session *s = user;
    uncount(s);
    if (!s->aborted) {
        s->aborted = 1;
        s->server->stats.associations_aborted++;
    }
    cn_log_warning("[assoc %llu] %s from %s aborted (source %d, reason %d)",
                   (unsigned long long)s->id, s->calling_ae[0] ? s->calling_ae : "peer", s->peer,
                   source, reason);
}

static void ul_closed(void *user)
{
    struct cn_session *s = user;
    uncount(s);
    if (s->receiving)
        s->aborted = 1; /* the association ended in the middle of a data set */
    cn_store_session_lost(s);
    cn_log_info("[assoc %llu] closed %s (%llu instances stored)", (unsigned long long)s->id,
                s->calling_ae[0] ? s->calling_ae : s->peer,
                (unsigned long long)s->instances_stored);
    cn_assoc_free(s->assoc);
    s->assoc = NULL;
    if (s->conn)
        cn_tcp_close(s->conn, 1);
    maybe_drop_transport(s);
}

static const struct cn_assoc_ops session_ul_ops = {
    .send = ul_send,
    .close_transport = ul_close_transport,
    .timer_start = ul_timer_start,
    .timer_stop = ul_timer_stop,
    .associate_indication = ul_associate_indication,
    .associate_confirm = ul_associate_confirm,
    .pdv_indication = ul_pdv_indication,
    .release_indication = ul_release_indication,
    .release_confirm = ul_release_confirm,
    .abort_indication = ul_abort_indication,
    .closed = ul_closed,
};

int cn_session_send_command(struct cn_session *s, uint8_t pc_id, const uint8_t *bytes,
                            size_t len)
{
    if (!s->assoc || !s->conn)
        return -1;
    return cn_assoc_send_pdata(s->assoc, pc_id, 1, bytes, len) == 0 ? 0 : -1;
}

void cn_session_op_finished(struct cn_session *s, struct cn_store_op *op)
{
    struct cn_store_op **link = &s->ops;
    while (*link && *link != op)
        link = &(*link)->next;
    if (*link)
        *link = op->next;
    if (!s->ops && s->release_requested && s->assoc) {
        s->release_requested = 0;
        uncount(s);
        cn_assoc_release_response(s->assoc);
    }
}

void cn_session_resume_reading(struct cn_session *s)
{
    if (s->paused && s->conn) {
        s->paused = 0;
        cn_tcp_resume_reading(s->conn);
    }
}

void cn_session_pause_reading(struct cn_session *s)
{
    if (!s->paused && s->conn) {
        s->paused = 1;
        cn_tcp_pause_reading(s->conn);
    }
}

int cn_session_accept(struct cn_server *server, uv_stream_t *listener,
                      struct cn_tls_context *tls)
{
    struct cn_session *s = calloc(1, sizeof *s);
    if (!s)
        return UV_ENOMEM;
    s->server = server;
    s->id = ++server->next_session_id;
    s->refs = 1; /* the transport */
    s->assoc = cn_assoc_new(CN_ASSOC_ACCEPTOR, &server->assoc_config, &session_ul_ops, s);
    if (!s->assoc) {
        free(s);
        return UV_ENOMEM;
    }
    int rc = tls != NULL ? cn_tcp_accept_tls(listener, tls, &session_tcp_ops, s, &s->conn)
                         : cn_tcp_accept(listener, &session_tcp_ops, s, &s->conn);
    if (rc != 0) {
        cn_assoc_free(s->assoc);
        free(s);
        return rc;
    }
    uv_timer_init(server->loop, &s->artim);
    s->artim.data = s;
    cn_dimse_receiver_init(&s->receiver, &cn_session_receiver_ops, s);
    cn_tcp_peer_name(s->conn, s->peer, sizeof s->peer);
    s->next = server->sessions;
    if (s->next)
        s->next->prev = s;
    server->sessions = s;
    server->stats.associations_active++;
    cn_log_debug("[assoc %llu] %sconnection from %s", (unsigned long long)s->id,
                 tls != NULL ? "TLS " : "", s->peer);
    cn_assoc_transport_connected(s->assoc);
    return 0;
}

void cn_session_abort(struct cn_session *s)
{
    uncount(s);
    if (!s->aborted && s->established) {
        s->aborted = 1;
        s->server->stats.associations_aborted++;
    }
    /* Send A-ABORT, then close without waiting for the peer (PS3.8 9.2.2 AA-1 would
     * wait in Sta13 for it): a shutdown must not depend on the peer. */
    if (s->assoc)
        cn_assoc_abort(s->assoc, 0);
    if (s->conn)
        cn_tcp_close(s->conn, 1);
}
