/* One TLS connection over two memory BIOs: OpenSSL never touches a socket. */
#include "net/tls_session.h"

#include <arpa/inet.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define PROTOCOL_SIZE 96
/* OpenSSL takes int lengths: larger buffers go in several calls. */
#define MAX_CALL_LEN (1u << 30)

struct cn_tls_session {
    SSL *ssl;
    BIO *rbio; /* ciphertext from the peer; owned by ssl */
    BIO *wbio; /* ciphertext to the peer; owned by ssl */
    int handshake_done;
    int shutdown_queued;
    char error[CN_TLS_SESSION_ERROR_SIZE];
    char subject[CN_TLS_SUBJECT_SIZE];
    char protocol[PROTOCOL_SIZE];
};

static int is_numeric_address(const char *host)
{
    unsigned char addr[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;
}

/* RFC 6125: the server's certificate must name the host we dialled; SNI for names only
 * (RFC 6066 section 3 forbids literal addresses in it). */
static int expect_host(SSL *ssl, const char *host)
{
    if (is_numeric_address(host))
        return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1 ? 0 : -1;
    if (SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1)
        return -1;
    return 0;
}

struct cn_tls_session *cn_tls_session_new(struct cn_tls_context *ctx, const char *host)
{
    struct cn_tls_session *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->ssl = SSL_new(ctx->ssl_ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (s->ssl == NULL || s->rbio == NULL || s->wbio == NULL)
        goto fail;
    /* An empty read BIO means "wait for more" (retry), not end of stream: the socket's
     * end is reported by the loop, not by the BIO. */
    BIO_set_mem_eof_return(s->rbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    if (ctx->role == CN_TLS_SERVER) {
        SSL_set_accept_state(s->ssl);
    } else {
        SSL_set_connect_state(s->ssl);
        if (host != NULL && host[0] != '\0' && expect_host(s->ssl, host) != 0) {
            SSL_free(s->ssl);
            free(s);
            ERR_clear_error();
            return NULL;
        }
    }
    return s;
fail:
    if (s->ssl != NULL)
        SSL_free(s->ssl);
    BIO_free(s->rbio);
    BIO_free(s->wbio);
    free(s);
    ERR_clear_error();
    return NULL;
}

void cn_tls_session_free(struct cn_tls_session *s)
{
    if (s == NULL)
        return;
    SSL_free(s->ssl); /* frees both BIOs */
    free(s);
}

/* Records OpenSSL's reason for the failure of the last call (and the certificate
 * verification result when that is what failed), then empties the error queue. */
static void record_error(struct cn_tls_session *s, int ssl_error)
{
    const char *reason = NULL;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        const char *r = ERR_reason_error_string(e);
        if (r != NULL && reason == NULL)
            reason = r; /* the first is where it went wrong; later ones are consequences */
    }
    if (reason == NULL)
        reason = ssl_error == SSL_ERROR_SYSCALL ? "unexpected end of the TLS stream"
                                                : "TLS protocol error";
    long verify = SSL_get_verify_result(s->ssl);
    if (verify != X509_V_OK)
        snprintf(s->error, sizeof s->error, "%s (%s)", reason,
                 X509_verify_cert_error_string(verify));
    else
        snprintf(s->error, sizeof s->error, "%s", reason);
}

int cn_tls_session_feed(struct cn_tls_session *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        int n = (int)(len < MAX_CALL_LEN ? len : MAX_CALL_LEN);
        if (BIO_write(s->rbio, data, n) != n) {
            snprintf(s->error, sizeof s->error, "out of memory");
            ERR_clear_error();
            return CN_TLS_SESSION_FAILED;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static void describe_peer(struct cn_tls_session *s)
{
    snprintf(s->protocol, sizeof s->protocol, "%s %s", SSL_get_version(s->ssl),
             SSL_get_cipher_name(s->ssl));
    X509 *cert = SSL_get0_peer_certificate(s->ssl);
    if (cert == NULL)
        return;
    BIO *text = BIO_new(BIO_s_mem());
    if (text == NULL)
        return;
    if (X509_NAME_print_ex(text, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) >= 0) {
        int n = BIO_read(text, s->subject, (int)sizeof s->subject - 1);
        s->subject[n > 0 ? n : 0] = '\0';
    }
    BIO_free(text);
}

int cn_tls_session_handshake(struct cn_tls_session *s)
{
    if (s->handshake_done)
        return 1;
    ERR_clear_error();
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        s->handshake_done = 1;
        describe_peer(s);
        return 1;
    }
    int ssl_error = SSL_get_error(s->ssl, rc);
    if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
        return 0; /* a memory BIO never refuses a write: only WANT_READ happens */
    record_error(s, ssl_error);
    return CN_TLS_SESSION_FAILED;
}

int cn_tls_session_read(struct cn_tls_session *s, uint8_t *buf, size_t cap)
{
    ERR_clear_error();
    int n = SSL_read(s->ssl, buf, (int)(cap < MAX_CALL_LEN ? cap : MAX_CALL_LEN));
    if (n > 0)
        return n;
    int ssl_error = SSL_get_error(s->ssl, n);
    if (ssl_error == SSL_ERROR_WANT_READ || ssl_error == SSL_ERROR_WANT_WRITE)
        return 0;
    if (ssl_error == SSL_ERROR_ZERO_RETURN)
        return CN_TLS_SESSION_CLOSED;
    record_error(s, ssl_error);
    return CN_TLS_SESSION_FAILED;
}

int cn_tls_session_write(struct cn_tls_session *s, const uint8_t *data, size_t len)
{
    while (len > 0) {
        ERR_clear_error();
        int n = (int)(len < MAX_CALL_LEN ? len : MAX_CALL_LEN);
        /* Without SSL_MODE_ENABLE_PARTIAL_WRITE SSL_write takes all n bytes or fails. */
        int rc = SSL_write(s->ssl, data, n);
        if (rc != n) {
            record_error(s, SSL_get_error(s->ssl, rc));
            return CN_TLS_SESSION_FAILED;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

void cn_tls_session_shutdown(struct cn_tls_session *s)
{
    if (s->shutdown_queued || !s->handshake_done)
        return;
    s->shutdown_queued = 1;
    ERR_clear_error();
    SSL_shutdown(s->ssl); /* queues close_notify; we do not wait for the peer's */
    ERR_clear_error();
}

size_t cn_tls_session_output_len(const struct cn_tls_session *s)
{
    return BIO_ctrl_pending(s->wbio);
}

size_t cn_tls_session_take_output(struct cn_tls_session *s, uint8_t *buf, size_t cap)
{
    int n = BIO_read(s->wbio, buf, (int)(cap < MAX_CALL_LEN ? cap : MAX_CALL_LEN));
    return n > 0 ? (size_t)n : 0;
}

const char *cn_tls_session_error(const struct cn_tls_session *s)
{
    return s->error;
}

const char *cn_tls_session_peer_subject(const struct cn_tls_session *s)
{
    return s->subject;
}

const char *cn_tls_session_protocol(const struct cn_tls_session *s)
{
    return s->protocol;
}
