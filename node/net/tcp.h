/* node/net: TCP connections on the libuv loop.
 *
 * A cn_tcp_conn owns one uv_tcp_t, a fixed read buffer and the accounting of queued
 * writes. Bytes read are handed to ops->on_data synchronously; the owner either consumes
 * them all before returning or pauses reading. TCP_NODELAY is set on every connection
 * (DICOM is request/response: Nagle would add 40 ms to small PDUs).
 *
 * A connection may carry DICOM TLS (net/tls.h; cn_tcp_accept_tls, cn_tcp_connect_tls):
 * the ops are the same and see plaintext only. on_data gets decrypted bytes,
 * cn_tcp_write takes plaintext (written before the handshake completes, it is held and
 * sent after), pending lengths count ciphertext plus held plaintext. on_connected of an
 * outbound connection reports the end of the handshake, not of the TCP connect. A TLS
 * failure (handshake refused, certificate not accepted, bytes that are not TLS) is logged
 * with the peer's address and OpenSSL's reason and reported as UV_EPROTO (to on_connected
 * during an outbound handshake, else to on_transport_closed); cn_tcp_tls_error gives the
 * reason. The peer's close_notify is reported as UV_EOF. A graceful close sends our
 * close_notify first.
 *
 * Loop thread only. The connection is freed after ops->on_closed returns; the owner must
 * not touch it afterwards. No callback frees the connection while another of its
 * callbacks runs. */
#ifndef CN_NET_TCP_H
#define CN_NET_TCP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define CN_TCP_READ_BUFFER_LEN (64u * 1024u)
/* Plaintext is handed to on_data in parts of at most this many bytes (one TLS record). */
#define CN_TCP_TLS_PLAINTEXT_LEN (16u * 1024u)

struct cn_tcp_conn;
struct cn_tls_context;

struct cn_tcp_conn_ops {
    /* Bytes from the peer; the pointer is valid only during the call. */
    void (*on_data)(void *user, const uint8_t *data, size_t len);
    /* The peer closed (UV_EOF) or the transport failed (a libuv error): the owner should
     * close the connection. Not called after cn_tcp_conn_close. */
    void (*on_transport_closed)(void *user, int status);
    /* An outbound connect finished: status 0 or a libuv error (then on_closed follows). */
    void (*on_connected)(void *user, int status);
    /* All writes queued before the pending total fell to zero have completed. */
    void (*on_drained)(void *user);
    /* The handle is closed; last callback. */
    void (*on_closed)(void *user);
};

/* Binds and listens on host:port ("0.0.0.0", "127.0.0.1", "::"). server is the
 * caller's handle, initialised here. Returns 0 or a libuv error. */
int cn_tcp_listen(uv_loop_t *loop, uv_tcp_t *server, const char *host, uint16_t port, int backlog,
                  uv_connection_cb on_connection);

/* Accepts a pending connection of server and starts reading. On success *out is a new
 * connection. Returns 0 or a libuv error. */
int cn_tcp_accept(uv_stream_t *server, const struct cn_tcp_conn_ops *ops, void *user,
                  struct cn_tcp_conn **out);

/* Connects to host:port (numeric address or name resolved on the threadpool).
 * Returns 0 and ops->on_connected reports the outcome, or a libuv error and no callback
 * is ever called. */
int cn_tcp_connect(uv_loop_t *loop, const char *host, uint16_t port,
                   const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out);

/* The same with TLS on ctx (a CN_TLS_SERVER context; borrowed, may be freed while the
 * connection lives): the handshake starts when the client's first bytes arrive. */
int cn_tcp_accept_tls(uv_stream_t *server, struct cn_tls_context *ctx,
                      const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out);

/* The same with TLS on ctx (a CN_TLS_CLIENT context; borrowed, may be freed while the
 * connection lives); the server's certificate must name host. ops->on_connected reports
 * the end of the handshake. */
int cn_tcp_connect_tls(uv_loop_t *loop, const char *host, uint16_t port, struct cn_tls_context *ctx,
                       const struct cn_tcp_conn_ops *ops, void *user, struct cn_tcp_conn **out);

/* 1 for a TLS connection, else 0. */
int cn_tcp_is_tls(const struct cn_tcp_conn *conn);

/* After the handshake: the peer certificate's subject (RFC 2253, e.g.
 * "CN=modality-1,O=Hospital"), "" without TLS or certificate. Valid while conn lives. */
const char *cn_tcp_peer_certificate_subject(const struct cn_tcp_conn *conn);

/* Why TLS failed (OpenSSL's reason), "" when it did not. Valid while conn lives. */
const char *cn_tcp_tls_error(const struct cn_tcp_conn *conn);

/* Queues len bytes (copied) for writing. Returns 0 or a libuv error (UV_EPROTO: TLS
 * could not encrypt them). */
int cn_tcp_write(struct cn_tcp_conn *conn, const uint8_t *data, size_t len);

/* Bytes queued and not yet written. */
size_t cn_tcp_pending_write_len(const struct cn_tcp_conn *conn);

void cn_tcp_pause_reading(struct cn_tcp_conn *conn);
void cn_tcp_resume_reading(struct cn_tcp_conn *conn);

/* The peer's address as "host:port" into buf. */
void cn_tcp_peer_name(const struct cn_tcp_conn *conn, char *buf, size_t buf_len);

/* Closes the connection. graceful: queued writes are flushed first (an A-ABORT or
 * A-RELEASE-RP reaches the peer), bounded by a short linger timer; otherwise at once.
 * Idempotent. on_closed follows. */
void cn_tcp_close(struct cn_tcp_conn *conn, int graceful);

#endif
