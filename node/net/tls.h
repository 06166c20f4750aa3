/* node/net: DICOM TLS (PS3.15 Annex B.9, the BCP195 Non-Downgrading TLS Secure Transport
 * Connection Profile) with OpenSSL.
 *
 * A cn_tls_context holds what every connection of one side shares: our certificate and
 * key, the CA that must have signed the peer's certificate, the protocol floor and the
 * cipher suites. Connections use it through cn_tcp_accept_tls and cn_tcp_connect_tls
 * (net/tcp.h); all TLS I/O goes through memory BIOs, so the loop owns every socket read
 * and write and a handshake never blocks.
 *
 * Both sides: TLS 1.2 or later (BCP 195, RFC 9325 section 3.1.1), for TLS 1.2 only the
 * AEAD suites with forward secrecy (ECDHE or DHE with AES-GCM), no renegotiation, no
 * compression.
 *   Server: certificate and key required. With a CA, the client must present a
 *   certificate that CA signed (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
 *   without one, no client certificate is asked for.
 *   Client: certificate and key optional (both or neither), presented when the server
 *   asks. The server's certificate must chain to the CA (or, without one, to the system's
 *   default trust store) and name the host we connected to (RFC 6125: DNS name, or IP
 *   address for a numeric host).
 *
 * Contexts may be created on any thread; connections use them on the loop thread. */
#ifndef CN_NET_TLS_H
#define CN_NET_TLS_H

#include <stddef.h>

struct cn_tls_context;

enum cn_tls_role {
    CN_TLS_SERVER = 0,
    CN_TLS_CLIENT = 1,
};

/* Room for an error text of cn_tls_context_new. */
#define CN_TLS_ERROR_SIZE 256

/* Builds a context for role from PEM files (paths borrowed for the call; NULL or "" is
 * absent). Returns 0 and a new context in *out (free with cn_tls_context_free), or -1
 * with a one-line reason in err (the file and OpenSSL's reason): a missing or unreadable
 * file, a key that does not match the certificate, a server without certificate or key,
 * a client with only one of them. */
int cn_tls_context_new(enum cn_tls_role role, const char *cert_path, const char *key_path,
                       const char *ca_path, struct cn_tls_context **out, char *err, size_t err_len);

/* Releases the caller's reference. Connections already made keep what they need, so a
 * context may be freed while its connections live. NULL is allowed. */
void cn_tls_context_free(struct cn_tls_context *ctx);

/* 1 when peers must present a certificate (a server context with a CA), else 0. */
int cn_tls_context_requires_peer_certificate(const struct cn_tls_context *ctx);

#endif
