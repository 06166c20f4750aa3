/* TLS contexts: our certificate and key, the peer's CA, and the BCP 195 settings. */
#include "net/tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "net/tls_session.h"

/* PS3.15 B.9 (BCP195 Non-Downgrading profile) and RFC 9325 section 4.2: for TLS 1.2 only
 * AEAD suites with forward secrecy. TLS 1.3 suites are all AEAD with forward secrecy and
 * keep OpenSSL's default list. */
static const char TLS12_CIPHERS[] = "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                    "ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                    "ECDHE-RSA-AES256-GCM-SHA384:"
                                    "DHE-RSA-AES128-GCM-SHA256:"
                                    "DHE-RSA-AES256-GCM-SHA384";

/* Without a callback OpenSSL would prompt on the terminal for an encrypted key's
 * password: refuse instead, so a daemon fails with a message rather than hanging. */
static int no_password(char *buf, int size, int rwflag, void *user)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)user;
    return 0;
}

static int present(const char *path)
{
    return path != NULL && path[0] != '\0';
}

/* what: "certificate", "key", "CA"; fills err with the file and OpenSSL's reason. */
static void file_error(char *err, size_t err_len, const char *what, const char *path)
{
    unsigned long e = ERR_peek_last_error();
    const char *reason = e != 0 ? ERR_reason_error_string(e) : NULL;
    snprintf(err, err_len, "could not load TLS %s \"%s\": %s", what, path,
             reason != NULL ? reason : "unknown error");
    ERR_clear_error();
}

/* A clear message for a path that cannot be opened at all (OpenSSL's would be vague). */
static int check_readable(char *err, size_t err_len, const char *what, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(err, err_len, "could not open TLS %s \"%s\": %s", what, path, strerror(errno));
        return -1;
    }
    fclose(f);
    return 0;
}

static int load_identity(SSL_CTX *ssl_ctx, const char *cert_path, const char *key_path, char *err,
                         size_t err_len)
{
    if (check_readable(err, err_len, "certificate", cert_path) != 0 ||
        check_readable(err, err_len, "key", key_path) != 0)
        return -1;
    if (SSL_CTX_use_certificate_chain_file(ssl_ctx, cert_path) != 1) {
        file_error(err, err_len, "certificate", cert_path);
        return -1;
    }
    if (SSL_CTX_use_PrivateKey_file(ssl_ctx, key_path, SSL_FILETYPE_PEM) != 1) {
        file_error(err, err_len, "key", key_path);
        return -1;
    }
    if (SSL_CTX_check_private_key(ssl_ctx) != 1) {
        snprintf(err, err_len, "TLS key \"%s\" does not match certificate \"%s\"", key_path,
                 cert_path);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

static int load_ca(SSL_CTX *ssl_ctx, enum cn_tls_role role, const char *ca_path, char *err,
                   size_t err_len)
{
    if (check_readable(err, err_len, "CA", ca_path) != 0)
        return -1;
    if (SSL_CTX_load_verify_locations(ssl_ctx, ca_path, NULL) != 1) {
        file_error(err, err_len, "CA", ca_path);
        return -1;
    }
    if (role == CN_TLS_SERVER) {
        /* The CertificateRequest names the CA, so a client with several certificates
         * can choose the right one. */
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_path);
        if (names == NULL) {
            file_error(err, err_len, "CA", ca_path);
            return -1;
        }
        SSL_CTX_set_client_CA_list(ssl_ctx, names);
    }
    return 0;
}

static int configure(SSL_CTX *ssl_ctx, enum cn_tls_role role, const char *cert_path,
                     const char *key_path, const char *ca_path, int *requires_peer_certificate,
                     char *err, size_t err_len)
{
    /* BCP 195 (RFC 9325 section 3.1.1): TLS 1.2 at least; no renegotiation (its
     * insecure variants are gone, and nothing here needs it), no compression (CRIME). */
    SSL_CTX_set_min_proto_version(ssl_ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ssl_ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                                     SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_default_passwd_cb(ssl_ctx, no_password);
    if (SSL_CTX_set_cipher_list(ssl_ctx, TLS12_CIPHERS) != 1) {
        snprintf(err, err_len, "could not set the TLS cipher suites");
        ERR_clear_error();
        return -1;
    }
    if (role == CN_TLS_SERVER) {
        if (!present(cert_path) || !present(key_path)) {
            snprintf(err, err_len, "a TLS listener needs a certificate and a key");
            return -1;
        }
        SSL_CTX_set_dh_auto(ssl_ctx, 1); /* DHE suites: the RFC 7919 group of our key size */
    } else if (present(cert_path) != present(key_path)) {
        snprintf(err, err_len,
                 "a TLS client certificate needs its key and the key its "
                 "certificate");
        return -1;
    }
    if (present(cert_path) && load_identity(ssl_ctx, cert_path, key_path, err, err_len) != 0)
        return -1;
    *requires_peer_certificate = 0;
    if (present(ca_path)) {
        if (load_ca(ssl_ctx, role, ca_path, err, err_len) != 0)
            return -1;
    } else if (role == CN_TLS_CLIENT && SSL_CTX_set_default_verify_paths(ssl_ctx) != 1) {
        snprintf(err, err_len, "could not load the system's default TLS trust store");
        ERR_clear_error();
        return -1;
    }
    if (role == CN_TLS_CLIENT) {
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER, NULL);
    } else if (present(ca_path)) {
        /* PS3.15 B.9: both ends authenticate when the node is given a CA */
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        *requires_peer_certificate = 1;
    } else {
        SSL_CTX_set_verify(ssl_ctx, SSL_VERIFY_NONE, NULL);
    }
    return 0;
}

int cn_tls_context_new(enum cn_tls_role role, const char *cert_path, const char *key_path,
                       const char *ca_path, struct cn_tls_context **out, char *err, size_t err_len)
{
    ERR_clear_error();
    struct cn_tls_context *ctx = calloc(1, sizeof *ctx);
    SSL_CTX *ssl_ctx =
        ctx != NULL ? SSL_CTX_new(role == CN_TLS_SERVER ? TLS_server_method() : TLS_client_method())
                    : NULL;
    if (ssl_ctx == NULL) {
        snprintf(err, err_len, "could not create a TLS context: out of memory");
        free(ctx);
        ERR_clear_error();
        return -1;
    }
    int requires = 0;
    if (configure(ssl_ctx, role, cert_path, key_path, ca_path, &requires, err, err_len) != 0) {
        SSL_CTX_free(ssl_ctx);
        free(ctx);
        return -1;
    }
    ctx->ssl_ctx = ssl_ctx;
    ctx->role = role;
    ctx->requires_peer_certificate = requires;
    *out = ctx;
    return 0;
}

void cn_tls_context_free(struct cn_tls_context *ctx)
{
    if (ctx == NULL)
        return;
    SSL_CTX_free(ctx->ssl_ctx); /* sessions made from it hold their own references */
    free(ctx);
}

int cn_tls_context_requires_peer_certificate(const struct cn_tls_context *ctx)
{
    return ctx->requires_peer_certificate;
}
