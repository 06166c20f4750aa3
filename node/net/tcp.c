#include "net/tcp.h"

#include <stdlib.h>
#include <string.h>

#include "net/tcp_internal.h"
#include "net/tls_session.h"

/* How long a graceful close waits for queued writes before closing anyway: a peer that
 * stops reading must not keep a connection (and its memory) forever. */
#define CLOSE_LINGER_MS 2000u

/* Installed on a connection that failed before its owner got it: no callbacks. */
static const struct cn_tcp_conn_ops no_ops;

static void conn_free(struct cn_tcp_conn *conn)
{
    tcp_tls_free(conn);
    free(conn);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct cn_tcp_conn *conn = handle->data;
    if (--conn->handles_open > 0)
        return;
    if (conn->ops->on_closed)
        conn->ops->on_closed(conn->user);
    if (conn->resolving)
        conn->freed_while_resolving = 1;
    else
        conn_free(conn);
}

static void close_now(struct cn_tcp_conn *conn)
{
    uv_timer_stop(&conn->linger);
    if (!uv_is_closing((uv_handle_t *)&conn->handle))
        uv_close((uv_handle_t *)&conn->handle, on_handle_closed);
    if (!uv_is_closing((uv_handle_t *)&conn->linger))
        uv_close((uv_handle_t *)&conn->linger, on_handle_closed);
    if (conn->tls != NULL && !uv_is_closing((uv_handle_t *)&conn->tls_resume))
        uv_close((uv_handle_t *)&conn->tls_resume, on_handle_closed);
}

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct cn_tcp_conn *conn = handle->data;
    buf->base = (char *)conn->read_buffer;
    buf->len = sizeof conn->read_buffer;
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct cn_tcp_conn *conn = stream->data;
    if (conn->closing)
        return;
    if (nread > 0) {
        if (conn->tls != NULL)
            tcp_tls_receive(conn, conn->read_buffer, (size_t)nread);
        else
            conn->ops->on_data(conn->user, conn->read_buffer, (size_t)nread);
        return;
    }
    if (nread < 0) {
        uv_read_stop(stream);
        conn->reading = 0;
        if (conn->tls != NULL)
            tcp_tls_read_ended(conn, (int)nread);
        else if (conn->ops->on_transport_closed)
            conn->ops->on_transport_closed(conn->user, (int)nread);
    }
}

/* tls NULL: plain TCP; else host is what the server's certificate must name (NULL when
 * accepting). */
static struct cn_tcp_conn *conn_new(uv_loop_t *loop, const struct cn_tcp_conn_ops *ops, void *user,
                                    struct cn_tls_context *tls, const char *host, int *rc)
{
    struct cn_tcp_conn *conn = calloc(1, sizeof *conn);
    if (!conn) {
        *rc = UV_ENOMEM;
        return NULL;
    }
    conn->ops = ops;
    conn->user = user;
    if (tls != NULL && (*rc = tcp_tls_init(conn, tls, host)) != 0) {
        conn_free(conn);
        return NULL;
    }
    *rc = uv_tcp_init(loop, &conn->handle);
    if (*rc != 0) {
        conn_free(conn);
        return NULL;
    }
    uv_timer_init(loop, &conn->linger);
    conn->handle.data = conn;
    conn->linger.data = conn;
    conn->handles_open = 2;
    if (tls != NULL) {
        uv_timer_init(loop, &conn->tls_resume);
        conn->tls_resume.data = conn;
        conn->handles_open = 3;
    }
    return conn;
}

static int start_reading(struct cn_tcp_conn *conn)
{
    uv_tcp_nodelay(&conn->handle, 1);
    int rc = uv_read_start((uv_stream_t *)&conn->handle, on_alloc, on_read);
    if (rc == 0)
        conn->reading = 1;
    return rc;
}

int cn_tcp_listen(uv_loop_t *loop, uv_tcp_t *server, const char *host, uint16_t port, int backlog,
                  uv_connection_cb on_connection)
{
    struct sockaddr_storage addr;
    int rc = uv_ip4_addr(host, port, (struct sockaddr_in *)&addr);
    if (rc != 0)
        rc = uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr);
    if (rc != 0)
        return rc;
    rc = uv_tcp_init(loop, server);
    if (rc != 0)
        return rc;
    rc = uv_tcp_bind(server, (const struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)server, backlog, on_connection);
    return rc;
}

static int accept_conn(uv_stream_t *server, struct cn_tls_context *tls,
                       const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out)
{
    int rc;
    struct cn_tcp_conn *conn = conn_new(server->loop, ops, user, tls, NULL, &rc);
    if (!conn)
        return rc;
    rc = uv_accept(server, (uv_stream_t *)&conn->handle);
    if (rc == 0)
        rc = start_reading(conn);
    if (rc != 0) {
        conn->closing = 1;
        conn->ops = &no_ops;
        close_now(conn);
        return rc;
    }
    *out = conn;
    return 0;
}

int cn_tcp_accept(uv_stream_t *server, const struct cn_tcp_conn_ops *ops, void *user,
                  struct cn_tcp_conn **out)
{
    return accept_conn(server, NULL, ops, user, out);
}

int cn_tcp_accept_tls(uv_stream_t *server, struct cn_tls_context *ctx,
                      const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out)
{
    return accept_conn(server, ctx, ops, user, out);
}

static void on_connect(uv_connect_t *req, int status)
{
    struct cn_tcp_conn *conn = req->data;
    if (conn->closing)
        return; /* cancelled by cn_tcp_close: the owner no longer waits */
    if (status == 0)
        status = start_reading(conn);
    if (status == 0 && conn->tls != NULL) {
        tcp_tls_connected(conn); /* on_connected follows the handshake */
        return;
    }
    if (conn->ops->on_connected)
        conn->ops->on_connected(conn->user, status);
    if (status != 0)
        cn_tcp_close(conn, 0);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct cn_tcp_conn *conn = req->data;
    conn->resolving = 0;
    if (conn->freed_while_resolving) {
        uv_freeaddrinfo(res);
        conn_free(conn);
        return;
    }
    if (conn->closing) {
        uv_freeaddrinfo(res);
        return;
    }
    if (status == 0) {
        conn->connect_req.data = conn;
        if (res->ai_family == AF_INET)
            ((struct sockaddr_in *)res->ai_addr)->sin_port = htons(conn->connect_port);
        else
            ((struct sockaddr_in6 *)res->ai_addr)->sin6_port = htons(conn->connect_port);
        status = uv_tcp_connect(&conn->connect_req, &conn->handle, res->ai_addr, on_connect);
    }
    uv_freeaddrinfo(res);
    if (status != 0) {
        if (conn->ops->on_connected)
            conn->ops->on_connected(conn->user, status);
        cn_tcp_close(conn, 0);
    }
}

static int connect_conn(uv_loop_t *loop, const char *host, uint16_t port,
                        struct cn_tls_context *tls, const struct cn_tcp_conn_ops *ops, void *user,
                        struct cn_tcp_conn **out)
{
    int rc;
    struct cn_tcp_conn *conn = conn_new(loop, ops, user, tls, host, &rc);
    if (!conn)
        return rc;
    conn->outbound = 1;
    conn->connect_port = port;
    conn->resolve_req.data = conn;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    rc = uv_getaddrinfo(loop, &conn->resolve_req, on_resolved, host, NULL, &hints);
    conn->resolving = (rc == 0);
    if (rc != 0) {
        conn->closing = 1;
        conn->ops = &no_ops;
        close_now(conn);
        return rc;
    }
    *out = conn;
    return 0;
}

int cn_tcp_connect(uv_loop_t *loop, const char *host, uint16_t port,
                   const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out)
{
    return connect_conn(loop, host, port, NULL, ops, user, out);
}

int cn_tcp_connect_tls(uv_loop_t *loop, const char *host, uint16_t port, struct cn_tls_context *ctx,
                       const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out)
{
    return connect_conn(loop, host, port, ctx, ops, user, out);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct cn_tcp_conn *conn = w->conn;
    conn->pending_write_len -= w->len;
    free(w);
    (void)status; /* a failed write is reported by the read side (EOF/reset) */
    /* During a TLS handshake the writes are the handshake's own: the owner has written
     * nothing that could drain yet. */
    if (conn->pending_write_len == 0 && !conn->closing && conn->ops->on_drained &&
        (conn->tls == NULL || conn->tls_handshake_done))
        conn->ops->on_drained(conn->user);
}

int tcp_queue_write(struct cn_tcp_conn *conn, struct write_req *w)
{
    w->conn = conn;
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned int)w->len);
    int rc = uv_write(&w->req, (uv_stream_t *)&conn->handle, &buf, 1, on_write);
    if (rc != 0) {
        free(w);
        return rc;
    }
    conn->pending_write_len += w->len;
    return 0;
}

int cn_tcp_write(struct cn_tcp_conn *conn, const uint8_t *data, size_t len)
{
    if (conn->closing)
        return UV_ECANCELED;
    if (conn->tls != NULL)
        return tcp_tls_write(conn, data, len);
    struct write_req *w = malloc(sizeof *w + len);
    if (!w)
        return UV_ENOMEM;
    memcpy(w->data, data, len);
    w->len = len;
    return tcp_queue_write(conn, w);
}

size_t cn_tcp_pending_write_len(const struct cn_tcp_conn *conn)
{
    return conn->pending_write_len + conn->held_len;
}

int cn_tcp_is_tls(const struct cn_tcp_conn *conn)
{
    return conn->tls != NULL;
}

const char *cn_tcp_peer_certificate_subject(const struct cn_tcp_conn *conn)
{
    return conn->tls != NULL && conn->tls_handshake_done ? cn_tls_session_peer_subject(conn->tls)
                                                         : "";
}

const char *cn_tcp_tls_error(const struct cn_tcp_conn *conn)
{
    return conn->tls != NULL ? cn_tls_session_error(conn->tls) : "";
}

void cn_tcp_pause_reading(struct cn_tcp_conn *conn)
{
    if (conn->reading && !conn->paused) {
        uv_read_stop((uv_stream_t *)&conn->handle);
        conn->paused = 1;
    }
}

void cn_tcp_resume_reading(struct cn_tcp_conn *conn)
{
    if (conn->reading && conn->paused && !conn->closing) {
        conn->paused = 0;
        uv_read_start((uv_stream_t *)&conn->handle, on_alloc, on_read);
        if (conn->tls != NULL)
            tcp_tls_resumed(conn);
    }
}

void cn_tcp_peer_name(const struct cn_tcp_conn *conn, char *buf, size_t buf_len)
{
    struct sockaddr_storage addr;
    int len = sizeof addr;
    char host[64] = "?";
    int port = 0;
    if (uv_tcp_getpeername(&conn->handle, (struct sockaddr *)&addr, &len) == 0) {
        if (addr.ss_family == AF_INET) {
            uv_ip4_name((struct sockaddr_in *)&addr, host, sizeof host);
            port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
        } else if (addr.ss_family == AF_INET6) {
            uv_ip6_name((struct sockaddr_in6 *)&addr, host, sizeof host);
            port = ntohs(((struct sockaddr_in6 *)&addr)->sin6_port);
        }
    }
    snprintf(buf, buf_len, "%s:%d", host, port);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    close_now(req->data);
}

static void on_linger_expired(uv_timer_t *timer)
{
    close_now(timer->data);
}

void cn_tcp_close(struct cn_tcp_conn *conn, int graceful)
{
    if (conn->closing)
        return;
    if (graceful && conn->tls != NULL)
        tcp_tls_closing(conn);
    conn->closing = 1;
    if (conn->tls != NULL)
        uv_timer_stop(&conn->tls_resume);
    if (conn->reading) {
        uv_read_stop((uv_stream_t *)&conn->handle);
        conn->reading = 0;
    }
    if (graceful && conn->pending_write_len > 0) {
        conn->shutdown_req.data = conn;
        if (uv_shutdown(&conn->shutdown_req, (uv_stream_t *)&conn->handle, on_shutdown) == 0) {
            uv_timer_start(&conn->linger, on_linger_expired, CLOSE_LINGER_MS, 0);
            return;
        }
    }
    close_now(conn);
}
