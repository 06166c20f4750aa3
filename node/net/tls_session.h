/* node/net internals: one TLS connection's state machine over memory BIOs, for tcp.c.
 *
 * No I/O of its own: ciphertext read from the socket goes in with cn_tls_session_feed,
 * ciphertext to send comes out with cn_tls_session_take_output, plaintext goes in with
 * cn_tls_session_write and out with cn_tls_session_read. After every call that may
 * produce ciphertext (handshake, read, write, shutdown) the caller drains the output.
 *
 * Errors: a negative return means the connection is unusable; cn_tls_session_error then
 * gives OpenSSL's reason (with the certificate verification result when that failed).
 * Loop thread only. */
#ifndef CN_NET_TLS_SESSION_H
#define CN_NET_TLS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "net/tls.h"

/* cn_tls_session_read: the peer sent close_notify (a clean end of the TLS stream). */
#define CN_TLS_SESSION_CLOSED (-2)
/* Any failure: a protocol error, a refused certificate, out of memory. */
#define CN_TLS_SESSION_FAILED (-1)

/* Room for the peer certificate's subject (RFC 2253 text, truncated beyond). */
#define CN_TLS_SUBJECT_SIZE 256
#define CN_TLS_SESSION_ERROR_SIZE 256

/* A context (net/tls.h), shared by tls.c, which builds it, and tls_session.c. */
struct ssl_ctx_st;
struct cn_tls_context {
    struct ssl_ctx_st *ssl_ctx; /* one reference, dropped by cn_tls_context_free */
    enum cn_tls_role role;
    int requires_peer_certificate;
};

struct cn_tls_session;

/* A new session on ctx (which it references: ctx may be freed afterwards). For a client
 * context, host (borrowed for the call) is the name or address the server's certificate
 * must carry, also sent as SNI when it is a name. Returns NULL when out of memory. */
struct cn_tls_session *cn_tls_session_new(struct cn_tls_context *ctx, const char *host);

void cn_tls_session_free(struct cn_tls_session *s);

/* Hands len bytes read from the socket to OpenSSL (copied). Returns 0 or
 * CN_TLS_SESSION_FAILED. */
int cn_tls_session_feed(struct cn_tls_session *s, const uint8_t *data, size_t len);

/* Advances the handshake with what was fed. Returns 1 when it has completed (and on
 * every later call), 0 when it waits for more bytes from the peer, or
 * CN_TLS_SESSION_FAILED. */
int cn_tls_session_handshake(struct cn_tls_session *s);

/* Decrypts up to cap bytes of application data into buf. Returns the count (> 0), 0 when
 * no complete record is buffered, CN_TLS_SESSION_CLOSED or CN_TLS_SESSION_FAILED. Only
 * after the handshake completed. */
int cn_tls_session_read(struct cn_tls_session *s, uint8_t *buf, size_t cap);

/* Encrypts all len bytes into the output. Returns 0 or CN_TLS_SESSION_FAILED. Only after
 * the handshake completed. */
int cn_tls_session_write(struct cn_tls_session *s, const uint8_t *data, size_t len);

/* Queues close_notify in the output (once; later calls do nothing). */
void cn_tls_session_shutdown(struct cn_tls_session *s);

/* Ciphertext waiting to be sent, and taking up to cap bytes of it into buf (returns the
 * count taken). */
size_t cn_tls_session_output_len(const struct cn_tls_session *s);
size_t cn_tls_session_take_output(struct cn_tls_session *s, uint8_t *buf, size_t cap);

/* The reason of the last failure, "" when none. Valid while s lives. */
const char *cn_tls_session_error(const struct cn_tls_session *s);

/* After the handshake: the peer certificate's subject ("" when the peer sent none), and
 * "TLSv1.3 TLS_AES_256_GCM_SHA384"-style protocol and cipher. Valid while s lives. */
const char *cn_tls_session_peer_subject(const struct cn_tls_session *s);
const char *cn_tls_session_protocol(const struct cn_tls_session *s);

#endif
