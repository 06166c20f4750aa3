/* node/net internals: a connection's state, shared by tcp.c (plain TCP and the
 * connection's lifetime) and tcp_tls.c (TLS on top). Loop thread only. */
#ifndef CN_NET_TCP_INTERNAL_H
#define CN_NET_TCP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "net/tcp.h"

struct cn_tls_session;

struct cn_tcp_conn {
    uv_tcp_t handle;
    uv_timer_t linger;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    uv_getaddrinfo_t resolve_req;
    const struct cn_tcp_conn_ops *ops;
    void *user;
    size_t pending_write_len;
    int handles_open; /* handle, linger timer (and TLS resume timer) still to be closed */
    int closing;
    int reading;
    int paused;
    int resolving; /* a name lookup holds a pointer to us: free after it ends */
    int freed_while_resolving;
    int outbound; /* made by cn_tcp_connect*: on_connected is owed */
    uint16_t connect_port;

    /* TLS (tcp_tls.c); tls NULL: plain TCP */
    struct cn_tls_session *tls;
    uv_timer_t tls_resume; /* delivers plaintext decrypted but held while paused */
    int tls_handshake_done;
    int tls_failed;
    int tls_write_failed;   /* SSL_write failed: fail() runs from the resume timer */
    int tls_peer_ended;     /* TCP end of stream: nobody left to read a close_notify of ours */
    int tls_first_byte;     /* the peer's first byte (-1: none yet), for the log */
    uint8_t *tls_plaintext; /* CN_TCP_TLS_PLAINTEXT_LEN bytes for on_data */
    uint8_t *held;          /* plaintext written before the handshake completed */
    size_t held_len, held_cap;

    uint8_t read_buffer[CN_TCP_READ_BUFFER_LEN];
};

struct write_req {
    uv_write_t req;
    struct cn_tcp_conn *conn;
    size_t len;
    uint8_t data[];
};

/* tcp.c: queues w (len and data filled) on the socket; takes ownership of w. Returns 0
 * or a libuv error (w freed). */
int tcp_queue_write(struct cn_tcp_conn *conn, struct write_req *w);

/* tcp_tls.c */
/* Sets up TLS on a new connection (host: what the server's certificate must name, NULL
 * on the accepting side). Returns 0 or UV_ENOMEM (nothing to undo but tcp_tls_free). */
int tcp_tls_init(struct cn_tcp_conn *conn, struct cn_tls_context *ctx, const char *host);
/* Frees what tcp_tls_init allocated (the resume timer is closed by the caller). */
void tcp_tls_free(struct cn_tcp_conn *conn);
/* The TCP connect of an outbound TLS connection succeeded: sends the ClientHello. */
void tcp_tls_connected(struct cn_tcp_conn *conn);
/* Ciphertext read from the socket. */
void tcp_tls_receive(struct cn_tcp_conn *conn, const uint8_t *data, size_t len);
/* The socket ended (status UV_EOF or a libuv error) before or after the handshake. */
void tcp_tls_read_ended(struct cn_tcp_conn *conn, int status);
/* cn_tcp_write of plaintext. */
int tcp_tls_write(struct cn_tcp_conn *conn, const uint8_t *data, size_t len);
/* cn_tcp_resume_reading: delivers held plaintext from the loop. */
void tcp_tls_resumed(struct cn_tcp_conn *conn);
/* cn_tcp_close with graceful set, before closing: queues close_notify. */
void tcp_tls_closing(struct cn_tcp_conn *conn);

#endif
