/* node/audit/forward against a real embedded cluster and collectors on loopback: two
 * forwarders on separate connections share the rows (SKIP LOCKED) and every row arrives
 * exactly once, as one UDP datagram each; over TCP each message is octet-counted (RFC
 * 6587); a stop sends what was recorded just before; a malformed row is marked, not
 * retried forever. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "audit/forward.h"
#include "db/async.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/migrated.h"

#define WATCHDOG_S 120
#define ROW_COUNT 150
#define OBJECT_PREFIX "job "

static void exec_ok(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

/* Rows "job 1" .. "job n", unforwarded, after the table is emptied. */
static void insert_rows(int n)
{
    exec_ok("DELETE FROM audit");
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO audit (actor, action, object, outcome) SELECT 'alice', 'cancel job', "
             "'" OBJECT_PREFIX "' || g, 'success' FROM generate_series(1, %d) g",
             n);
    exec_ok(sql);
}

/* What the collectors received: per object number, how many messages. */
struct received {
    int count[ROW_COUNT + 2];
    int total, malformed;
};

/* Checks one syslog message and counts the object it names. */
static void note_message(struct received *r, const char *msg, size_t len)
{
    static const char head[] = "<85>1 ";
    static const char key[] = "ParticipantObjectID=\"" OBJECT_PREFIX;
    char *text = malloc(len + 1);
    assert_non_null(text);
    memcpy(text, msg, len);
    text[len] = '\0';
    const char *at = strstr(text, key);
    if (strncmp(text, head, strlen(head)) != 0 || strstr(text, " DICOM+RFC3881 - ") == NULL ||
        at == NULL || strstr(text, "</AuditMessage>") != text + len - strlen("</AuditMessage>")) {
        fprintf(stderr, "malformed message: %s\n", text);
        r->malformed++;
    } else {
        long n = strtol(at + strlen(key), NULL, 10);
        if (n >= 1 && n <= ROW_COUNT + 1)
            r->count[n]++;
        else
            r->malformed++;
    }
    r->total++;
    free(text);
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    (void)suggested;
    static char space[65536];
    *buf = uv_buf_init(space, sizeof space);
}

static void on_datagram(uv_udp_t *udp, ssize_t n, const uv_buf_t *buf, const struct sockaddr *addr,
                        unsigned flags)
{
    (void)flags;
    if (n > 0 && addr != NULL)
        note_message(udp->data, buf->base, (size_t)n);
}

static uint16_t bound_port(uv_handle_t *handle, int is_udp)
{
    struct sockaddr_in addr;
    int len = sizeof addr;
    if (is_udp)
        assert_int_equal(uv_udp_getsockname((uv_udp_t *)handle, (struct sockaddr *)&addr, &len), 0);
    else
        assert_int_equal(uv_tcp_getsockname((uv_tcp_t *)handle, (struct sockaddr *)&addr, &len), 0);
    return ntohs(addr.sin_port);
}

struct stopper {
    int stopped;
    uv_loop_t *loop;
};

static void on_stopped(void *user)
{
    ((struct stopper *)user)->stopped++;
}

static void on_db_closed(void *user)
{
    ((struct stopper *)user)->stopped++;
}

static struct cn_db_async *open_db(uv_loop_t *loop)
{
    struct cn_db_async_options options = {.conninfo = cn_pg_embedded_conninfo(test_cluster.pg)};
    struct cn_db_async *db;
    char err[CN_DB_ERR_SIZE];
    if (cn_db_async_init(loop, &options, &db, err, sizeof err) != 0)
        fail_msg("%s", err);
    return db;
}

/* Runs the loop until all ROW_COUNT rows are marked forwarded or time_ms passes. */
static void run_until_forwarded(uv_loop_t *loop, uint64_t time_ms)
{
    uint64_t deadline = uv_now(loop) + time_ms;
    while (uv_now(loop) < deadline) {
        uv_run(loop, UV_RUN_ONCE);
        if (query_long("SELECT count(*) FROM audit WHERE forwarded_at IS NULL") == 0)
            return;
    }
    fail_msg("audit rows still unforwarded after %llu ms", (unsigned long long)time_ms);
}

static void keepalive(uv_timer_t *t)
{
    (void)t;
}

static void test_two_forwarders_send_every_row_once_over_udp(void **state)
{
    (void)state;
    insert_rows(ROW_COUNT);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct received got = {0};
    uv_udp_t collector;
    struct sockaddr_in any;
    uv_ip4_addr("127.0.0.1", 0, &any);
    assert_int_equal(uv_udp_init(&loop, &collector), 0);
    collector.data = &got;
    assert_int_equal(uv_udp_bind(&collector, (const struct sockaddr *)&any, 0), 0);
    int rcvbuf = 8 << 20;
    uv_recv_buffer_size((uv_handle_t *)&collector, &rcvbuf);
    assert_int_equal(uv_udp_recv_start(&collector, alloc_cb, on_datagram), 0);
    char target[64];
    snprintf(target, sizeof target, "udp:127.0.0.1:%u",
             (unsigned)bound_port((uv_handle_t *)&collector, 1));
    uv_timer_t tick; /* the loop turns while the forwarders sleep between polls */
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, keepalive, 10, 10);

    struct cn_db_async *db[2] = {open_db(&loop), open_db(&loop)};
    struct cn_audit_forwarder *fwd[2];
    struct cn_audit_forwarder_config config = {
        .target = target, .ae_title = "CALCNODE", .interval_ms = 20, .batch_count = 7};
    char err[256];
    for (int i = 0; i < 2; i++)
        assert_int_equal(cn_audit_forwarder_start(&loop, db[i], &config, &fwd[i], err, sizeof err),
                         0);
    run_until_forwarded(&loop, 60000);
    struct stopper st = {0};
    struct cn_audit_forwarder_stats s0, s1;
    cn_audit_forwarder_get_stats(fwd[0], &s0);
    cn_audit_forwarder_get_stats(fwd[1], &s1);
    for (int i = 0; i < 2; i++)
        cn_audit_forwarder_stop(fwd[i], on_stopped, &st);
    while (st.stopped < 2)
        uv_run(&loop, UV_RUN_ONCE);
    for (int i = 0; i < 2; i++)
        cn_db_async_close(db[i], on_db_closed, &st);
    while (st.stopped < 4)
        uv_run(&loop, UV_RUN_ONCE);
    /* datagrams still in the socket buffer */
    uv_run(&loop, UV_RUN_NOWAIT);
    uv_close((uv_handle_t *)&collector, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    assert_int_equal(s0.forwarded + s1.forwarded, ROW_COUNT);
    assert_true(s0.forwarded > 0 && s1.forwarded > 0); /* both took part */
    assert_int_equal(got.malformed, 0);
    assert_int_equal(got.total, ROW_COUNT);
    for (int n = 1; n <= ROW_COUNT; n++)
        if (got.count[n] != 1)
            fail_msg("row %d received %d times", n, got.count[n]);
}

/* A TCP collector: accumulates the stream and splits it by RFC 6587 octet counts. */
struct tcp_collector {
    uv_tcp_t server, client;
    int accepted, eof;
    char *stream;
    size_t len;
    struct received got;
};

static void tcp_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    (void)handle;
    buf->base = malloc(suggested);
    buf->len = suggested;
}

static void on_tcp_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *buf)
{
    struct tcp_collector *c = stream->data;
    if (n > 0) {
        c->stream = realloc(c->stream, c->len + (size_t)n);
        assert_non_null(c->stream);
        memcpy(c->stream + c->len, buf->base, (size_t)n);
        c->len += (size_t)n;
    } else if (n < 0) {
        c->eof = 1; /* the forwarder closed its end */
        uv_read_stop(stream);
    }
    free(buf->base);
}

static void on_tcp_connection(uv_stream_t *server, int status)
{
    struct tcp_collector *c = server->data;
    assert_int_equal(status, 0);
    assert_false(c->accepted);
    uv_tcp_init(server->loop, &c->client);
    c->client.data = c;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->client), 0);
    c->accepted = 1;
    uv_read_start((uv_stream_t *)&c->client, tcp_alloc, on_tcp_read);
}

static void split_octet_counted(struct tcp_collector *c)
{
    size_t at = 0;
    while (at < c->len) {
        char *end;
        unsigned long n = strtoul(c->stream + at, &end, 10);
        assert_true(end > c->stream + at && *end == ' ');
        at = (size_t)(end - c->stream) + 1;
        assert_true(n <= c->len - at);
        note_message(&c->got, c->stream + at, n);
        at += n;
    }
}

static void test_tcp_messages_are_octet_counted(void **state)
{
    (void)state;
    insert_rows(ROW_COUNT);
    exec_ok("UPDATE audit SET detail = '{\"reason\": \"multi\\nline\"}' WHERE object = 'job 3'");
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct tcp_collector c = {0};
    struct sockaddr_in any;
    uv_ip4_addr("127.0.0.1", 0, &any);
    uv_tcp_init(&loop, &c.server);
    c.server.data = &c;
    assert_int_equal(uv_tcp_bind(&c.server, (const struct sockaddr *)&any, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&c.server, 4, on_tcp_connection), 0);
    char target[64];
    snprintf(target, sizeof target, "tcp:127.0.0.1:%u",
             (unsigned)bound_port((uv_handle_t *)&c.server, 0));
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, keepalive, 10, 10);
    struct cn_db_async *db = open_db(&loop);
    struct cn_audit_forwarder *fwd;
    struct cn_audit_forwarder_config config = {
        .target = target, .ae_title = "CALCNODE", .interval_ms = 20, .batch_count = 64};
    char err[256];
    assert_int_equal(cn_audit_forwarder_start(&loop, db, &config, &fwd, err, sizeof err), 0);
    run_until_forwarded(&loop, 60000);
    /* an event recorded just before the stop is sent by the last pass */
    exec_ok("INSERT INTO audit (actor, action, object, outcome) VALUES ('CALCNODE', "
            "'cancel job', 'job 151', 'success')");
    struct stopper st = {0};
    cn_audit_forwarder_stop(fwd, on_stopped, &st);
    while (st.stopped < 1)
        uv_run(&loop, UV_RUN_ONCE);
    cn_db_async_close(db, on_db_closed, &st);
    while (st.stopped < 2 || query_long("SELECT count(*) FROM audit WHERE forwarded_at IS NULL"))
        uv_run(&loop, UV_RUN_ONCE);
    while (c.accepted && !c.eof) /* the stream to its end */
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    if (c.accepted)
        uv_close((uv_handle_t *)&c.client, NULL);
    uv_close((uv_handle_t *)&c.server, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);

    split_octet_counted(&c);
    free(c.stream);
    assert_int_equal(c.got.malformed, 0);
    assert_int_equal(c.got.total, ROW_COUNT + 1);
    for (int n = 1; n <= ROW_COUNT + 1; n++)
        assert_int_equal(c.got.count[n], 1);
}

static void test_malformed_row_is_marked_and_the_rest_forwarded(void **state)
{
    (void)state;
    insert_rows(3);
    /* a detail that is JSON but not an object cannot describe the event */
    exec_ok("UPDATE audit SET detail = '[1, 2]' WHERE object = 'job 2'");
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct received got = {0};
    uv_udp_t collector;
    struct sockaddr_in any;
    uv_ip4_addr("127.0.0.1", 0, &any);
    uv_udp_init(&loop, &collector);
    collector.data = &got;
    assert_int_equal(uv_udp_bind(&collector, (const struct sockaddr *)&any, 0), 0);
    uv_udp_recv_start(&collector, alloc_cb, on_datagram);
    char target[64];
    snprintf(target, sizeof target, "udp:127.0.0.1:%u",
             (unsigned)bound_port((uv_handle_t *)&collector, 1));
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, keepalive, 10, 10);
    struct cn_db_async *db = open_db(&loop);
    struct cn_audit_forwarder *fwd;
    struct cn_audit_forwarder_config config = {.target = target, .ae_title = "CALCNODE"};
    char err[256];
    assert_int_equal(cn_audit_forwarder_start(&loop, db, &config, &fwd, err, sizeof err), 0);
    run_until_forwarded(&loop, 30000);
    struct cn_audit_forwarder_stats stats;
    cn_audit_forwarder_get_stats(fwd, &stats);
    struct stopper st = {0};
    cn_audit_forwarder_stop(fwd, on_stopped, &st);
    while (st.stopped < 1)
        uv_run(&loop, UV_RUN_ONCE);
    cn_db_async_close(db, on_db_closed, &st);
    while (st.stopped < 2 || got.total < 2)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&collector, NULL);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(stats.forwarded, 2);
    assert_int_equal(stats.malformed, 1);
    assert_int_equal(got.count[1], 1);
    assert_int_equal(got.count[2], 0);
    assert_int_equal(got.count[3], 1);
}

static void test_start_rejects_a_malformed_target(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_audit_forwarder *fwd = NULL;
    struct cn_audit_forwarder_config config = {.target = "syslog://x", .ae_title = "A"};
    char err[256] = "";
    assert_int_equal(cn_audit_forwarder_start(&loop, NULL, &config, &fwd, err, sizeof err), -1);
    assert_null(fwd);
    assert_non_null(strstr(err, "syslog://x"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    if (!test_cluster_available()) {
        fprintf(stderr, "skipped: no PostgreSQL server binaries installed\n");
        return TEST_SKIP;
    }
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_forwarders_send_every_row_once_over_udp),
        cmocka_unit_test(test_tcp_messages_are_octet_counted),
        cmocka_unit_test(test_malformed_row_is_marked_and_the_rest_forwarded),
        cmocka_unit_test(test_start_rejects_a_malformed_target),
    };
    return cmocka_run_group_tests(tests, migrated_setup, migrated_teardown);
}
