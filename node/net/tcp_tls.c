/* TLS on a cn_tcp_conn: ciphertext read from the socket goes into the session, plaintext
 * comes out to on_data; plaintext written goes through the session and its ciphertext is
 * queued on the socket. Every step runs on the loop; nothing waits for the peer. */
#include <stdlib.h>
#include <string.h>

#include "net/tcp_internal.h"
#include "net/tls_session.h"
#include "util/log.h"

#define PEER_NAME_SIZE 80
#define PDU_TYPE_ASSOCIATE_RQ 0x01

int tcp_tls_init(struct cn_tcp_conn *conn, struct cn_tls_context *ctx, const char *host)
{
    conn->tls_first_byte = -1;
    conn->tls = cn_tls_session_new(ctx, host);
    conn->tls_plaintext = malloc(CN_TCP_TLS_PLAINTEXT_LEN);
    if (conn->tls == NULL || conn->tls_plaintext == NULL) {
        tcp_tls_free(conn);
        return UV_ENOMEM;
    }
    return 0;
}

void tcp_tls_free(struct cn_tcp_conn *conn)
{
    cn_tls_session_free(conn->tls);
    conn->tls = NULL;
    free(conn->tls_plaintext);
    conn->tls_plaintext = NULL;
    free(conn->held);
    conn->held = NULL;
    conn->held_len = 0;
}

/* Queues the session's pending ciphertext on the socket. Returns 0 or a libuv error. */
static int flush_ciphertext(struct cn_tcp_conn *conn)
{
    size_t len;
    while ((len = cn_tls_session_output_len(conn->tls)) > 0) {
        struct write_req *w = malloc(sizeof *w + len);
        if (w == NULL)
            return UV_ENOMEM;
        w->len = cn_tls_session_take_output(conn->tls, w->data, len);
        int rc = tcp_queue_write(conn, w);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void stop_reading(struct cn_tcp_conn *conn)
{
    if (conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->handle);
        conn->reading = 0;
    }
}

/* The connection cannot carry TLS any more: log why, send what alert OpenSSL queued,
 * and tell the owner (UV_EPROTO). */
static void fail(struct cn_tcp_conn *conn)
{
    char peer[PEER_NAME_SIZE];
    cn_tcp_peer_name(conn, peer, sizeof peer);
    conn->tls_failed = 1;
    /* PS3.8 9.3.2: a plain association starts with PDU type 01 where a TLS record would
     * start with 16 (handshake): name the likely cause for the operator */
    int plain_dicom = !conn->outbound && !conn->tls_handshake_done &&
                      conn->tls_first_byte == PDU_TYPE_ASSOCIATE_RQ;
    cn_log_warning("TLS %s %s %s failed: %s%s",
                   conn->tls_handshake_done ? "connection" : "handshake",
                   conn->outbound ? "to" : "from", peer, cn_tls_session_error(conn->tls),
                   plain_dicom ? " (a plain DICOM association on the TLS port)" : "");
    flush_ciphertext(conn);
    stop_reading(conn);
    free(conn->held); /* plaintext written before the handshake: never to be sent */
    conn->held = NULL;
    conn->held_len = conn->held_cap = 0;
    if (conn->outbound && !conn->tls_handshake_done) {
        if (conn->ops->on_connected)
            conn->ops->on_connected(conn->user, UV_EPROTO);
        cn_tcp_close(conn, 1); /* graceful: the alert reaches the server */
        return;
    }
    if (conn->ops->on_transport_closed)
        conn->ops->on_transport_closed(conn->user, UV_EPROTO);
}

static void established(struct cn_tcp_conn *conn)
{
    char peer[PEER_NAME_SIZE];
    cn_tcp_peer_name(conn, peer, sizeof peer);
    conn->tls_handshake_done = 1;
    const char *subject = cn_tls_session_peer_subject(conn->tls);
    cn_log_info("TLS connection %s %s: %s, peer certificate %s%s%s", conn->outbound ? "to" : "from",
                peer, cn_tls_session_protocol(conn->tls), subject[0] ? "\"" : "",
                subject[0] ? subject : "none", subject[0] ? "\"" : "");
    if (conn->held_len > 0) {
        int rc = cn_tls_session_write(conn->tls, conn->held, conn->held_len);
        free(conn->held);
        conn->held = NULL;
        conn->held_len = conn->held_cap = 0;
        if (rc != 0) {
            fail(conn);
            return;
        }
        flush_ciphertext(conn);
    }
    if (conn->outbound && conn->ops->on_connected)
        conn->ops->on_connected(conn->user, 0);
}

/* Hands decrypted bytes to on_data until none is buffered, the owner pauses or closes,
 * or the stream ends. */
static void deliver(struct cn_tcp_conn *conn)
{
    while (!conn->closing && !conn->paused && !conn->tls_failed) {
        int n = cn_tls_session_read(conn->tls, conn->tls_plaintext, CN_TCP_TLS_PLAINTEXT_LEN);
        if (n > 0) {
            conn->ops->on_data(conn->user, conn->tls_plaintext, (size_t)n);
            continue;
        }
        if (n == 0)
            break;
        if (n == CN_TLS_SESSION_CLOSED) {
            /* close_notify: the peer's clean end of the stream. Ours still follows when
             * the owner closes (RFC 5246 7.2.1, RFC 8446 6.1: each side sends one before
             * closing its write side). */
            stop_reading(conn);
            if (conn->ops->on_transport_closed)
                conn->ops->on_transport_closed(conn->user, UV_EOF);
            return;
        }
        fail(conn);
        return;
    }
    if (!conn->closing && !conn->tls_failed)
        flush_ciphertext(conn); /* TLS 1.3 key updates and the like */
}

/* Runs the handshake as far as the bytes allow, then delivers application data. */
static void on_resume(uv_timer_t *timer);

static void advance(struct cn_tcp_conn *conn)
{
    if (conn->closing || conn->tls_failed)
        return;
    if (conn->tls_write_failed) { /* reported from the loop, not inside the owner's write */
        fail(conn);
        return;
    }
    if (!conn->tls_handshake_done) {
        int rc = cn_tls_session_handshake(conn->tls);
        flush_ciphertext(conn);
        if (rc < 0) {
            fail(conn);
            return;
        }
        if (rc == 0)
            return;
        established(conn);
        if (conn->closing || conn->tls_failed)
            return;
    }
    deliver(conn);
}

void tcp_tls_connected(struct cn_tcp_conn *conn)
{
    advance(conn); /* the ClientHello */
}

void tcp_tls_receive(struct cn_tcp_conn *conn, const uint8_t *data, size_t len)
{
    if (conn->tls_failed)
        return;
    if (conn->tls_first_byte < 0)
        conn->tls_first_byte = data[0];
    if (cn_tls_session_feed(conn->tls, data, len) != 0) {
        fail(conn);
        return;
    }
    advance(conn);
}

void tcp_tls_read_ended(struct cn_tcp_conn *conn, int status)
{
    conn->tls_peer_ended = 1;
    if (conn->tls_failed)
        return;
    if (!conn->tls_handshake_done) {
        char peer[PEER_NAME_SIZE];
        cn_tcp_peer_name(conn, peer, sizeof peer);
        if (conn->outbound) {
            cn_log_warning("TLS handshake to %s failed: %s", peer,
                           status == UV_EOF ? "connection closed by the peer"
                                            : uv_strerror(status));
            if (conn->ops->on_connected)
                conn->ops->on_connected(conn->user, status == UV_EOF ? UV_ECONNRESET : status);
            cn_tcp_close(conn, 0);
            return;
        }
        cn_log_info("connection from %s closed before the TLS handshake completed", peer);
    }
    if (conn->ops->on_transport_closed)
        conn->ops->on_transport_closed(conn->user, status);
}

/* Plaintext written before the handshake completed, sent once it has. */
static int hold(struct cn_tcp_conn *conn, const uint8_t *data, size_t len)
{
    if (len > conn->held_cap - conn->held_len) {
        size_t cap = conn->held_cap ? conn->held_cap : CN_TCP_TLS_PLAINTEXT_LEN;
        while (cap - conn->held_len < len)
            cap *= 2;
        uint8_t *p = realloc(conn->held, cap);
        if (p == NULL)
            return UV_ENOMEM;
        conn->held = p;
        conn->held_cap = cap;
    }
    memcpy(conn->held + conn->held_len, data, len);
    conn->held_len += len;
    return 0;
}

int tcp_tls_write(struct cn_tcp_conn *conn, const uint8_t *data, size_t len)
{
    if (conn->tls_failed || conn->tls_write_failed)
        return UV_EPROTO;
    if (!conn->tls_handshake_done)
        return hold(conn, data, len);
    if (cn_tls_session_write(conn->tls, data, len) != 0) {
        char peer[PEER_NAME_SIZE];
        cn_tcp_peer_name(conn, peer, sizeof peer);
        cn_log_warning("could not encrypt %zu bytes for %s: %s", len, peer,
                       cn_tls_session_error(conn->tls));
        /* The stream has a hole now: the connection is over. The owner learns it through
         * on_transport_closed from the loop (fail), as for any TLS failure. */
        conn->tls_write_failed = 1;
        uv_timer_start(&conn->tls_resume, on_resume, 0, 0);
        return UV_EPROTO;
    }
    return flush_ciphertext(conn);
}

static void on_resume(uv_timer_t *timer)
{
    advance(timer->data);
}

void tcp_tls_resumed(struct cn_tcp_conn *conn)
{
    /* From the loop, not from inside the owner's call to cn_tcp_resume_reading. */
    uv_timer_start(&conn->tls_resume, on_resume, 0, 0);
}

void tcp_tls_closing(struct cn_tcp_conn *conn)
{
    if (!conn->tls_handshake_done || conn->tls_failed || conn->tls_peer_ended)
        return;
    cn_tls_session_shutdown(conn->tls);
    flush_ciphertext(conn);
}
