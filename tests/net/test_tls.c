/* node/net TLS on a real loop over loopback TCP: handshakes with and without client
 * certificates, 1 MiB each way (more than a TLS record and the read buffer), plaintext
 * written before the handshake, pause and resume with decrypted bytes held, close_notify,
 * refused certificates (none, unknown CA, wrong server name, server of another CA),
 * plain and random bytes on the TLS side, and the context's error messages. The PKI is
 * made at test time by tools/make-test-certs. The loop is driven until a condition
 * holds; no sleeps. A watchdog alarm ends a hung test. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <uv.h>

#include "net/tcp.h"
#include "net/tls.h"

#define WATCHDOG_S 120
#define BIG_LEN (1024u * 1024u)
#define PAUSED_LEN (256u * 1024u)
#define IDLE_PASSES 20
#define RANDOM_ROUNDS 24
#define RANDOM_MAX_LEN 4096u
#define EXIT_SKIP 77
#define PATH_SIZE 512

static char cert_dir[PATH_SIZE];

/* One end of a connection and everything its callbacks saw. */
struct end {
    struct cn_tcp_conn *conn;
    uint8_t *rx;
    size_t rx_len;
    size_t max_data_len;
    int data_calls;
    int connected_calls;
    int connect_status;
    char connect_error[256]; /* cn_tcp_tls_error when on_connected failed */
    int drained_calls;
    int transport_closed_calls;
    int transport_status;
    char transport_error[256];
    int closed_calls;
    int pause_in_on_data;
    int close_on_transport;
};

static uv_loop_t loop;
static uv_tcp_t listener;
static int listener_open;
static uint16_t listen_port;
static struct end client, server;
static struct cn_tls_context *server_tls; /* NULL: the listener accepts plain TCP */
static size_t server_greeting_len;        /* written by the server as soon as it accepts */

static void on_data(void *user, const uint8_t *data, size_t len)
{
    struct end *e = user;
    assert_true(e->rx_len + len <= BIG_LEN);
    memcpy(e->rx + e->rx_len, data, len);
    e->rx_len += len;
    e->data_calls++;
    if (len > e->max_data_len)
        e->max_data_len = len;
    if (e->pause_in_on_data) {
        e->pause_in_on_data = 0;
        cn_tcp_pause_reading(e->conn);
    }
}

static void on_transport_closed(void *user, int status)
{
    struct end *e = user;
    e->transport_closed_calls++;
    e->transport_status = status;
    snprintf(e->transport_error, sizeof e->transport_error, "%s", cn_tcp_tls_error(e->conn));
    if (e->close_on_transport)
        cn_tcp_close(e->conn, 1);
}

static void on_connected(void *user, int status)
{
    struct end *e = user;
    e->connected_calls++;
    e->connect_status = status;
    if (status != 0)
        snprintf(e->connect_error, sizeof e->connect_error, "%s", cn_tcp_tls_error(e->conn));
}

static void on_drained(void *user)
{
    ((struct end *)user)->drained_calls++;
}

static void on_closed(void *user)
{
    struct end *e = user;
    e->closed_calls++;
    e->conn = NULL;
}

static const struct cn_tcp_conn_ops ops = {
    .on_data = on_data,
    .on_transport_closed = on_transport_closed,
    .on_connected = on_connected,
    .on_drained = on_drained,
    .on_closed = on_closed,
};

/* Byte i of stream seed: a lost, repeated or reordered chunk changes the bytes. */
static uint8_t pattern(uint32_t seed, size_t i)
{
    uint32_t x = (uint32_t)i * 2654435761u ^ seed;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return (uint8_t)x;
}

/* Writes len bytes of stream seed in ragged chunks. */
static void write_pattern(struct cn_tcp_conn *conn, uint32_t seed, size_t len)
{
    static const size_t chunk_lens[] = {1, 7, 4096, 65536, 100003, 13, 16384, 16385};
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    for (size_t i = 0; i < len; i++)
        buf[i] = pattern(seed, i);
    size_t off = 0;
    for (size_t k = 0; off < len; k++) {
        size_t n = chunk_lens[k % (sizeof chunk_lens / sizeof chunk_lens[0])];
        if (n > len - off)
            n = len - off;
        assert_int_equal(cn_tcp_write(conn, buf + off, n), 0);
        off += n;
    }
    free(buf);
}

static void assert_pattern(const struct end *e, uint32_t seed, size_t len)
{
    assert_int_equal(e->rx_len, len);
    for (size_t i = 0; i < len; i++)
        if (e->rx[i] != pattern(seed, i))
            fail_msg("byte %zu differs", i);
}

static void on_connection(uv_stream_t *stream, int status)
{
    assert_int_equal(status, 0);
    assert_null(server.conn);
    if (server_tls != NULL)
        assert_int_equal(cn_tcp_accept_tls(stream, server_tls, &ops, &server, &server.conn), 0);
    else
        assert_int_equal(cn_tcp_accept(stream, &ops, &server, &server.conn), 0);
    if (server_greeting_len > 0)
        write_pattern(server.conn, 2, server_greeting_len); /* before the handshake */
}

#define RUN_UNTIL(cond)                                                                            \
    do {                                                                                           \
        while (!(cond)) {                                                                          \
            if (uv_run(&loop, UV_RUN_ONCE) == 0 && !(cond))                                        \
                fail_msg("loop went idle before: %s", #cond);                                      \
        }                                                                                          \
    } while (0)

static void cert_path(char *buf, const char *name)
{
    snprintf(buf, PATH_SIZE, "%s/%s", cert_dir, name);
}

/* A context from files of cert_dir (NULL: none); fails the test when it cannot be made. */
static struct cn_tls_context *context(enum cn_tls_role role, const char *cert, const char *key,
                                      const char *ca)
{
    char c[PATH_SIZE], k[PATH_SIZE], a[PATH_SIZE], err[CN_TLS_ERROR_SIZE];
    if (cert)
        cert_path(c, cert);
    if (key)
        cert_path(k, key);
    if (ca)
        cert_path(a, ca);
    struct cn_tls_context *ctx = NULL;
    if (cn_tls_context_new(role, cert ? c : NULL, key ? k : NULL, ca ? a : NULL, &ctx, err,
                           sizeof err) != 0)
        fail_msg("%s", err);
    return ctx;
}

static void reset_end(struct end *e)
{
    uint8_t *rx = e->rx;
    memset(e, 0, sizeof *e);
    e->rx = rx ? rx : malloc(BIG_LEN);
    assert_non_null(e->rx);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    reset_end(&client);
    reset_end(&server);
    server_greeting_len = 0;
    server_tls = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    cn_tls_context_free(server_tls);
    server_tls = NULL;
    free(client.rx);
    free(server.rx);
    client.rx = server.rx = NULL;
    return 0;
}

static void start_listener(struct cn_tls_context *tls)
{
    server_tls = tls;
    assert_int_equal(cn_tcp_listen(&loop, &listener, "127.0.0.1", 0, 16, on_connection), 0);
    listener_open = 1;
    struct sockaddr_storage addr;
    int len = sizeof addr;
    assert_int_equal(uv_tcp_getsockname(&listener, (struct sockaddr *)&addr, &len), 0);
    listen_port = ntohs(((struct sockaddr_in *)&addr)->sin_port);
}

/* Closes the listener, runs the loop dry and closes it: every handle must be gone. */
static void finish_loop(void)
{
    if (listener_open) {
        uv_close((uv_handle_t *)&listener, NULL);
        listener_open = 0;
    }
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A TLS client with ctx (freed here: the connection keeps what it needs). */
static void connect_tls(struct cn_tls_context *ctx, const char *host)
{
    assert_int_equal(cn_tcp_connect_tls(&loop, host, listen_port, ctx, &ops, &client, &client.conn),
                     0);
    cn_tls_context_free(ctx);
}

static void close_both(void)
{
    if (client.conn)
        cn_tcp_close(client.conn, 1);
    if (server.conn)
        cn_tcp_close(server.conn, 1);
    RUN_UNTIL(client.closed_calls == 1 && server.closed_calls == 1);
}

static void test_handshake_succeeds_and_names_both_certificates(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", "ca.pem"));
    assert_int_equal(cn_tls_context_requires_peer_certificate(server_tls), 1);
    connect_tls(context(CN_TLS_CLIENT, "client.pem", "client.key", "ca.pem"), "127.0.0.1");
    RUN_UNTIL(client.connected_calls == 1);
    assert_int_equal(client.connect_status, 0);
    assert_int_equal(cn_tcp_is_tls(client.conn), 1);
    assert_non_null(
        strstr(cn_tcp_peer_certificate_subject(client.conn), "CN=calcnode-test-server"));
    assert_string_equal(cn_tcp_tls_error(client.conn), "");
    assert_int_equal(cn_tcp_write(client.conn, (const uint8_t *)"x", 1), 0);
    RUN_UNTIL(server.rx_len == 1);
    assert_int_equal(cn_tcp_is_tls(server.conn), 1);
    assert_non_null(
        strstr(cn_tcp_peer_certificate_subject(server.conn), "CN=calcnode-test-client"));
    /* close_notify reaches the server as a clean end of stream */
    server.close_on_transport = 1;
    cn_tcp_close(client.conn, 1);
    RUN_UNTIL(client.closed_calls == 1 && server.closed_calls == 1);
    assert_int_equal(server.transport_closed_calls, 1);
    assert_int_equal(server.transport_status, UV_EOF);
    finish_loop();
}

static void test_one_mebibyte_each_way_arrives_intact_and_drains(void **state)
{
    (void)state;
    server_greeting_len = BIG_LEN; /* written before the handshake: held, then sent */
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", "ca.pem"));
    connect_tls(context(CN_TLS_CLIENT, "client.pem", "client.key", "ca.pem"), "localhost");
    RUN_UNTIL(client.connected_calls == 1);
    assert_int_equal(client.connect_status, 0);
    write_pattern(client.conn, 1, BIG_LEN);
    assert_true(cn_tcp_pending_write_len(client.conn) > 0);
    RUN_UNTIL(server.rx_len == BIG_LEN && client.rx_len == BIG_LEN);
    assert_pattern(&server, 1, BIG_LEN);
    assert_pattern(&client, 2, BIG_LEN);
    assert_true(server.max_data_len <= CN_TCP_TLS_PLAINTEXT_LEN);
    assert_true(client.max_data_len <= CN_TCP_TLS_PLAINTEXT_LEN);
    assert_true(server.data_calls >= (int)(BIG_LEN / CN_TCP_TLS_PLAINTEXT_LEN));
    RUN_UNTIL(cn_tcp_pending_write_len(client.conn) == 0 &&
              cn_tcp_pending_write_len(server.conn) == 0 && client.drained_calls > 0 &&
              server.drained_calls > 0);
    close_both();
    finish_loop();
}

static void test_pause_inside_on_data_holds_decrypted_bytes_until_resumed(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", NULL));
    assert_int_equal(cn_tls_context_requires_peer_certificate(server_tls), 0);
    connect_tls(context(CN_TLS_CLIENT, NULL, NULL, "ca.pem"), "127.0.0.1");
    RUN_UNTIL(client.connected_calls == 1);
    assert_int_equal(client.connect_status, 0);
    server.pause_in_on_data = 1;
    write_pattern(client.conn, 3, PAUSED_LEN);
    RUN_UNTIL(server.data_calls == 1);
    for (int i = 0; i < IDLE_PASSES; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(server.data_calls, 1);
    assert_true(server.rx_len < PAUSED_LEN);
    cn_tcp_resume_reading(server.conn);
    assert_int_equal(server.data_calls, 1); /* delivered from the loop, not from the call */
    RUN_UNTIL(server.rx_len == PAUSED_LEN);
    assert_pattern(&server, 3, PAUSED_LEN);
    close_both();
    finish_loop();
}

/* Runs until both ends closed after a refused handshake; the server's owner never saw a
 * byte. */
static void expect_server_refusal(const char *reason_part)
{
    server.close_on_transport = 1;
    client.close_on_transport = 1;
    RUN_UNTIL(server.closed_calls == 1 && client.closed_calls == 1);
    assert_int_equal(server.data_calls, 0);
    assert_int_equal(server.transport_closed_calls, 1);
    assert_int_equal(server.transport_status, UV_EPROTO);
    if (strstr(server.transport_error, reason_part) == NULL)
        fail_msg("server's reason \"%s\" lacks \"%s\"", server.transport_error, reason_part);
}

static void test_client_without_certificate_is_refused_when_a_ca_is_required(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", "ca.pem"));
    connect_tls(context(CN_TLS_CLIENT, NULL, NULL, "ca.pem"), "127.0.0.1");
    expect_server_refusal("certificate");
    /* TLS 1.3: the client may finish its side before the server refuses it, then learns
     * it from the alert; either way it never gets a working connection */
    assert_true(client.connect_status != 0 || client.transport_status == UV_EPROTO);
    finish_loop();
}

static void test_client_certificate_of_an_unknown_ca_is_refused(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", "ca.pem"));
    connect_tls(context(CN_TLS_CLIENT, "stranger.pem", "stranger.key", "ca.pem"), "127.0.0.1");
    expect_server_refusal("certificate verify failed");
    finish_loop();
}

static void test_client_refuses_a_server_its_ca_did_not_sign(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", NULL));
    server.close_on_transport = 1;
    connect_tls(context(CN_TLS_CLIENT, NULL, NULL, "other-ca.pem"), "127.0.0.1");
    RUN_UNTIL(client.closed_calls == 1 && server.closed_calls == 1);
    assert_int_equal(client.connected_calls, 1);
    assert_int_equal(client.connect_status, UV_EPROTO);
    assert_non_null(strstr(client.connect_error, "certificate verify failed"));
    assert_int_equal(server.data_calls, 0);
    finish_loop();
}

static void test_client_refuses_a_server_certificate_for_another_name(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "wrongname.pem", "wrongname.key", NULL));
    server.close_on_transport = 1;
    connect_tls(context(CN_TLS_CLIENT, NULL, NULL, "ca.pem"), "127.0.0.1");
    RUN_UNTIL(client.closed_calls == 1 && server.closed_calls == 1);
    assert_int_equal(client.connect_status, UV_EPROTO);
    assert_non_null(strstr(client.connect_error, "mismatch"));
    assert_int_equal(server.data_calls, 0);
    finish_loop();
}

/* A plain client: the listener is TLS, the client is not. */
static void connect_plain(void)
{
    assert_int_equal(cn_tcp_connect(&loop, "127.0.0.1", listen_port, &ops, &client, &client.conn),
                     0);
    RUN_UNTIL(client.connected_calls == 1 && server.conn != NULL);
    assert_int_equal(client.connect_status, 0);
}

static void test_plain_dicom_bytes_to_the_tls_side_are_refused(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", "ca.pem"));
    connect_plain();
    /* PS3.8 9.3.2: the start of an A-ASSOCIATE-RQ (type 01, length 0x44, version 1) */
    static const uint8_t rq[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x01, 0x00, 0x00,
                                 'C',  'A',  'L',  'C',  'N',  'O',  'D',  'E',  ' ',  ' '};
    assert_int_equal(cn_tcp_write(client.conn, rq, sizeof rq), 0);
    expect_server_refusal("");
    assert_true(server.transport_error[0] != '\0');
    finish_loop();
}

static void test_random_bytes_to_the_tls_side_never_reach_the_owner(void **state)
{
    (void)state;
    start_listener(context(CN_TLS_SERVER, "server.pem", "server.key", "ca.pem"));
    uint8_t *bytes = malloc(RANDOM_MAX_LEN);
    assert_non_null(bytes);
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int round = 0; round < RANDOM_ROUNDS; round++) {
        size_t len = 1;
        for (size_t i = 0; i < RANDOM_MAX_LEN; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            bytes[i] = (uint8_t)x;
            if (i == 0)
                len = 1 + (size_t)(x >> 8) % RANDOM_MAX_LEN;
        }
        if (round % 2 == 1 && len >= 3) {
            /* a TLS record header (handshake, TLS 1.2) before the noise */
            bytes[0] = 0x16;
            bytes[1] = 0x03;
            bytes[2] = 0x03;
        }
        reset_end(&client);
        reset_end(&server);
        connect_plain();
        assert_int_equal(cn_tcp_write(client.conn, bytes, len), 0);
        /* the server refuses, or waits for the rest of a record until the client closes */
        server.close_on_transport = 1;
        client.close_on_transport = 1;
        for (int i = 0; i < IDLE_PASSES && server.transport_closed_calls == 0; i++)
            uv_run(&loop, UV_RUN_NOWAIT);
        if (client.conn)
            cn_tcp_close(client.conn, 1);
        RUN_UNTIL(server.closed_calls == 1 && client.closed_calls == 1);
        assert_int_equal(server.data_calls, 0);
        assert_int_equal(server.transport_closed_calls, 1);
        assert_true(server.transport_status == UV_EPROTO || server.transport_status == UV_EOF ||
                    server.transport_status == UV_ECONNRESET);
    }
    free(bytes);
    finish_loop();
}

static void expect_context_error(enum cn_tls_role role, const char *cert, const char *key,
                                 const char *ca, const char *part)
{
    char c[PATH_SIZE], k[PATH_SIZE], a[PATH_SIZE], err[CN_TLS_ERROR_SIZE] = "";
    if (cert)
        cert_path(c, cert);
    if (key)
        cert_path(k, key);
    if (ca)
        cert_path(a, ca);
    struct cn_tls_context *ctx = NULL;
    assert_int_equal(cn_tls_context_new(role, cert ? c : NULL, key ? k : NULL, ca ? a : NULL, &ctx,
                                        err, sizeof err),
                     -1);
    assert_null(ctx);
    if (strstr(err, part) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", err, part);
}

static void test_context_new_says_what_is_wrong(void **state)
{
    (void)state;
    expect_context_error(CN_TLS_SERVER, "absent.pem", "server.key", NULL, "absent.pem");
    expect_context_error(CN_TLS_SERVER, "absent.pem", "server.key", NULL, "No such file");
    expect_context_error(CN_TLS_SERVER, "server.pem", "client.key", NULL, "mismatch");
    expect_context_error(CN_TLS_SERVER, "server.pem", NULL, NULL, "certificate and a key");
    expect_context_error(CN_TLS_CLIENT, "client.pem", NULL, NULL, "needs its key");
    expect_context_error(CN_TLS_SERVER, "server.key", "server.key", NULL, "certificate");
    expect_context_error(CN_TLS_SERVER, "server.pem", "server.key", "ca.key", "CA");
    expect_context_error(CN_TLS_CLIENT, NULL, NULL, "absent-ca.pem", "absent-ca.pem");
    /* the same files the other way round are fine */
    cn_tls_context_free(context(CN_TLS_CLIENT, NULL, NULL, NULL));
    cn_tls_context_free(context(CN_TLS_SERVER, "server.pem", "server.key", NULL));
}

static void remove_cert_dir(void)
{
    static const char *const names[] = {"ca",     "other-ca",  "server",
                                        "client", "wrongname", "stranger"};
    char path[PATH_SIZE + 16];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s.pem", cert_dir, names[i]);
        unlink(path);
        snprintf(path, sizeof path, "%s/%s.key", cert_dir, names[i]);
        unlink(path);
    }
    rmdir(cert_dir);
}

int main(void)
{
    alarm(WATCHDOG_S);
    /* as calcnode serve does: a write to a peer that has gone is an error, not a signal */
    signal(SIGPIPE, SIG_IGN);
    snprintf(cert_dir, sizeof cert_dir, "/tmp/calcnode-tls-test.XXXXXX");
    if (mkdtemp(cert_dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    char command[2 * PATH_SIZE];
    snprintf(command, sizeof command, "'%s/tools/make-test-certs' '%s'", CALCNODE_SOURCE_DIR,
             cert_dir);
    if (system(command) != 0) {
        printf("SKIP: could not make test certificates (is the openssl tool installed?)\n");
        remove_cert_dir();
        return EXIT_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_handshake_succeeds_and_names_both_certificates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_mebibyte_each_way_arrives_intact_and_drains, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_pause_inside_on_data_holds_decrypted_bytes_until_resumed, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_client_without_certificate_is_refused_when_a_ca_is_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_certificate_of_an_unknown_ca_is_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_refuses_a_server_its_ca_did_not_sign, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_refuses_a_server_certificate_for_another_name,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_dicom_bytes_to_the_tls_side_are_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_random_bytes_to_the_tls_side_never_reach_the_owner,
                                        setup, teardown),
        cmocka_unit_test(test_context_new_says_what_is_wrong),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    remove_cert_dir();
    return failed;
}
