/* node/send/sender against a real embedded cluster and DCMTK storescp. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <uv.h>

#include "db/async.h"
#include "db/cluster.h"
#include "db/migrate.h"
#include "peer.h"
#include "send/sender.h"

#define WATCHDOG_S 300
#define CALLED_AE "STORESCP"
#define MG "1.2.840.10008.5.1.4.1.1.1.2"
#define RETRY_MIN_MS 300u
#define RETRY_MAX_MS 600u
#define DIR_SIZE 256

static PGconn *conn;
static char work_dir[64];
static char objects[3][512];
static char uids[3][CN_SEND_UID_MAX_LEN + 1];

static int group_setup(void **state)
{
    if (!test_cluster_available() || !peer_have("storescp") || !peer_have("dcmcjpeg")) {
        fprintf(stderr, "PostgreSQL or DCMTK is not installed: skipping\n");
        exit(TEST_SKIP);
    }
    alarm(WATCHDOG_S);
    if (test_cluster_start(state) != 0)
        return -1;
    conn = test_cluster_connect(NULL);
    char err[CN_DB_ERR_SIZE];
    if (conn == NULL || cn_db_migrate(conn, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "could not migrate: %s\n", err);
        return -1;
    }
    snprintf(work_dir, sizeof work_dir, "/tmp/cn-sender-XXXXXX");
    if (mkdtemp(work_dir) == NULL)
        return -1;
    char dir[DIR_SIZE];
    snprintf(dir, sizeof dir, "%s/objects", work_dir);
    mkdir(dir, 0755);
    if (peer_make_objects(dir, 21, objects) != 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        size_t len;
        uint8_t *data = peer_read_file(objects[i], &len);
        struct cn_send_meta meta;
        if (data == NULL || cn_send_meta_parse(data, len, 1, &meta, err, sizeof err) != 0)
            return -1;
        snprintf(uids[i], sizeof uids[i], "%s", meta.sop_instance_uid);
        free(data);
    }
    return 0;
}

static int group_teardown(void **state)
{
    PQfinish(conn);
    peer_remove_tree(work_dir);
    return test_cluster_stop(state);
}

static void exec_ok(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

static int setup(void **state)
{
    (void)state;
    exec_ok("TRUNCATE outbound");
    return 0;
}

/* The value of a one-row one-column query, as text. */
static char *query_text(const char *sql, char *out, size_t out_len)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    snprintf(out, out_len, "%s", PQgetisnull(res, 0, 0) ? "NULL" : PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

/* ---- a scenario: a loop, the async database, a sender, and a goal ---- */

struct scenario {
    uv_loop_t loop;
    struct cn_db_async *db;
    struct cn_sender *sender;
    size_t sent, failed, dead, passes;
    size_t goal_sent, goal_dead;
    uint64_t first_failure_ms, success_ms;
    /* optional: run after a pass with a failure (the peer comes up) */
    void (*on_failure)(struct scenario *sc);
    int enqueued, duplicate_ids;
    pid_t storescp;
    uint16_t port;
    char dir[DIR_SIZE];
};

static void on_db_closed(void *user)
{
    (void)user;
}

static void on_sender_stopped(void *user)
{
    struct scenario *sc = user;
    cn_db_async_close(sc->db, on_db_closed, NULL);
}

static void on_pass(const struct cn_sender_pass *pass, void *user)
{
    struct scenario *sc = user;
    sc->passes++;
    sc->sent += pass->sent;
    sc->failed += pass->failed;
    sc->dead += pass->dead;
    if (pass->failed > 0 && sc->first_failure_ms == 0)
        sc->first_failure_ms = uv_now(&sc->loop);
    if (pass->sent > 0)
        sc->success_ms = uv_now(&sc->loop);
    if (pass->failed > 0 && sc->on_failure != NULL) {
        sc->on_failure(sc);
        sc->on_failure = NULL;
    }
    if (sc->sent >= sc->goal_sent && sc->dead >= sc->goal_dead)
        cn_sender_stop(sc->sender, on_sender_stopped, sc);
}

static void on_enqueued(int status, int64_t id, const char *error, void *user)
{
    struct scenario *sc = user;
    if (status != 0)
        fail_msg("enqueue failed: %s", error);
    if (id > 0)
        sc->enqueued++;
    else
        sc->duplicate_ids++;
}

static void scenario_init(struct scenario *sc)
{
    memset(sc, 0, sizeof *sc);
    assert_int_equal(uv_loop_init(&sc->loop), 0);
    struct cn_db_async_options options = {.conninfo = cn_pg_embedded_conninfo(test_cluster.pg)};
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_async_init(&sc->loop, &options, &sc->db, err, sizeof err), 0);
}

static void scenario_enqueue(struct scenario *sc, int object, const char *ae)
{
    struct cn_send_item item = {.path = objects[object],
                                .sop_class_uid = MG,
                                .sop_instance_uid = uids[object],
                                .destination_ae = ae};
    assert_int_equal(cn_send_enqueue(sc->db, &item, on_enqueued, sc), 0);
}

static void scenario_run(struct scenario *sc, uint16_t port)
{
    struct cn_send_peer peers[1];
    memset(peers, 0, sizeof peers);
    snprintf(peers[0].ae_title, sizeof peers[0].ae_title, "%s", CALLED_AE);
    snprintf(peers[0].host, sizeof peers[0].host, "127.0.0.1");
    peers[0].port = port;
    struct cn_sender_config config = {.calling_ae = "CALCNODE",
                                      .peers = peers,
                                      .peer_count = 1,
                                      .backoff_min_ms = RETRY_MIN_MS,
                                      .backoff_max_ms = RETRY_MAX_MS,
                                      .idle_poll_ms = 1000,
                                      .pass_done = on_pass,
                                      .user = sc};
    assert_int_equal(cn_sender_start(&sc->loop, sc->db, &config, &sc->sender), 0);
    uv_run(&sc->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&sc->loop), 0);
}

static void start_storescp(struct scenario *sc, const char *name, const char *extra)
{
    char log[DIR_SIZE];
    snprintf(sc->dir, sizeof sc->dir, "%s/%s", work_dir, name);
    mkdir(sc->dir, 0755);
    snprintf(log, sizeof log, "%s/%s.log", work_dir, name);
    sc->storescp = peer_start_storescp(sc->port, CALLED_AE, sc->dir, extra, log);
    assert_true(sc->storescp > 0);
}

/* ---- tests ---- */

static void test_sender_sends_queued_rows_and_marks_them_sent(void **state)
{
    (void)state;
    struct scenario sc;
    scenario_init(&sc);
    sc.port = peer_free_port();
    start_storescp(&sc, "sent", NULL);
    scenario_enqueue(&sc, 0, CALLED_AE);
    scenario_enqueue(&sc, 1, CALLED_AE);
    scenario_enqueue(&sc, 2, CALLED_AE);
    scenario_enqueue(&sc, 0, CALLED_AE); /* pending already: not queued twice */
    sc.goal_sent = 3;
    scenario_run(&sc, sc.port);
    peer_stop(sc.storescp);
    assert_int_equal(sc.enqueued, 3);
    assert_int_equal(sc.duplicate_ids, 1);
    assert_int_equal(sc.sent, 3);
    char v[256];
    assert_string_equal(query_text("SELECT count(*) FROM outbound WHERE state = 'sent' AND "
                                   "attempts = 1 AND last_status = 0 AND last_error IS NULL "
                                   "AND lease_until IS NULL",
                                   v, sizeof v),
                        "3");
    assert_string_equal(query_text("SELECT count(*) FROM outbound", v, sizeof v), "3");
    assert_int_equal(peer_count_files(sc.dir), 3);
    for (int i = 0; i < 3; i++) {
        char received[512];
        struct cn_send_meta meta;
        assert_int_equal(peer_find_received(sc.dir, uids[i], received, sizeof received), 0);
        assert_true(peer_same_data_set(objects[i], received, &meta));
    }
}

static void bring_peer_up(struct scenario *sc)
{
    start_storescp(sc, "late", NULL);
}

static void test_sender_retries_a_peer_that_is_down_with_backoff_until_it_is_up(void **state)
{
    (void)state;
    struct scenario sc;
    scenario_init(&sc);
    sc.port = peer_free_port(); /* nothing listens there yet */
    sc.on_failure = bring_peer_up;
    scenario_enqueue(&sc, 1, CALLED_AE);
    sc.goal_sent = 1;
    scenario_run(&sc, sc.port);
    peer_stop(sc.storescp);
    assert_int_equal(sc.failed, 1);
    assert_int_equal(sc.sent, 1);
    /* the retry waited for the backoff: at least half of the first delay (jitter) */
    assert_true(sc.success_ms - sc.first_failure_ms >= RETRY_MIN_MS / 2);
    char v[256];
    assert_string_equal(query_text("SELECT state || ' ' || attempts || ' ' || last_status "
                                   "FROM outbound",
                                   v, sizeof v),
                        "sent 2 0");
    /* exactly once at the receiver */
    assert_int_equal(peer_count_files(sc.dir), 1);
}

static void test_sender_marks_permanent_failures_dead_with_the_error_kept(void **state)
{
    (void)state;
    struct scenario sc;
    scenario_init(&sc);
    sc.port = peer_free_port();
    start_storescp(&sc, "refuse", "--refuse");
    scenario_enqueue(&sc, 2, CALLED_AE);
    scenario_enqueue(&sc, 0, "NOBODY");
    sc.goal_dead = 2;
    scenario_run(&sc, sc.port);
    peer_stop(sc.storescp);
    assert_int_equal(sc.dead, 2);
    assert_int_equal(sc.sent, 0);
    char v[512];
    query_text("SELECT last_error FROM outbound WHERE destination_ae = 'STORESCP' "
               "AND state = 'dead' AND attempts = 1 AND last_status IS NULL",
               v, sizeof v);
    assert_non_null(strstr(v, "association permanently rejected by STORESCP"));
    query_text("SELECT last_error FROM outbound WHERE destination_ae = 'NOBODY' "
               "AND state = 'dead'",
               v, sizeof v);
    assert_string_equal(v, "no peer configured for AE NOBODY");
    assert_int_equal(peer_count_files(sc.dir), 0);
}

static void test_sender_transient_failures_die_after_max_attempts(void **state)
{
    (void)state;
    struct scenario sc;
    scenario_init(&sc);
    sc.port = peer_free_port(); /* never up */
    struct cn_send_item item = {.path = objects[0],
                                .sop_class_uid = MG,
                                .sop_instance_uid = uids[0],
                                .destination_ae = CALLED_AE,
                                .max_attempts = 2};
    assert_int_equal(cn_send_enqueue(sc.db, &item, on_enqueued, &sc), 0);
    sc.goal_dead = 1;
    scenario_run(&sc, sc.port);
    assert_int_equal(sc.failed, 1);
    assert_int_equal(sc.dead, 1);
    char v[512];
    query_text("SELECT state || ' ' || attempts || ' ' || last_error FROM outbound", v, sizeof v);
    assert_non_null(strstr(v, "dead 2 could not connect"));
}

static void test_sender_backoff_doubles_with_jitter_and_a_cap(void **state)
{
    (void)state;
    for (uint64_t r = 0; r < 1000; r++) {
        uint64_t d1 = cn_sender_backoff_ms(1, 1000, 60000, r * 7919);
        uint64_t d3 = cn_sender_backoff_ms(3, 1000, 60000, r * 7919);
        uint64_t d20 = cn_sender_backoff_ms(20, 1000, 60000, r * 7919);
        assert_true(d1 >= 500 && d1 <= 1000);
        assert_true(d3 >= 2000 && d3 <= 4000);
        assert_true(d20 >= 30000 && d20 <= 60000);
    }
    assert_int_equal(cn_sender_backoff_ms(1, 1000, 60000, 0), 500);
    assert_int_equal(cn_sender_backoff_ms(1, 1000, 60000, 500), 1000);
}

static void test_send_enqueue_rejects_bad_items(void **state)
{
    (void)state;
    struct scenario sc;
    scenario_init(&sc);
    struct cn_send_item bad_uid = {
        .path = "/x", .sop_class_uid = MG, .sop_instance_uid = "1.2.x", .destination_ae = "A"};
    struct cn_send_item long_ae = {.path = "/x",
                                   .sop_class_uid = MG,
                                   .sop_instance_uid = "1.2",
                                   .destination_ae = "SEVENTEEN_CHARS_X"};
    struct cn_send_item no_path = {
        .path = "", .sop_class_uid = MG, .sop_instance_uid = "1.2", .destination_ae = "A"};
    assert_int_equal(cn_send_enqueue(sc.db, &bad_uid, NULL, NULL), CN_DB_EINVAL);
    assert_int_equal(cn_send_enqueue(sc.db, &long_ae, NULL, NULL), CN_DB_EINVAL);
    assert_int_equal(cn_send_enqueue(sc.db, &no_path, NULL, NULL), CN_DB_EINVAL);
    cn_db_async_close(sc.db, on_db_closed, NULL);
    uv_run(&sc.loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&sc.loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sender_backoff_doubles_with_jitter_and_a_cap),
        cmocka_unit_test_setup(test_send_enqueue_rejects_bad_items, setup),
        cmocka_unit_test_setup(test_sender_sends_queued_rows_and_marks_them_sent, setup),
        cmocka_unit_test_setup(test_sender_retries_a_peer_that_is_down_with_backoff_until_it_is_up,
                               setup),
        cmocka_unit_test_setup(test_sender_marks_permanent_failures_dead_with_the_error_kept,
                               setup),
        cmocka_unit_test_setup(test_sender_transient_failures_die_after_max_attempts, setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
