/* node/db/async on a real uv loop against a real embedded cluster. */
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

#include "db/async.h"
#include "db/db.h"
#include "db/embedded.h"
#include "cluster.h"

/* A hung test fails instead of blocking the suite. */
#define WATCHDOG_S 120

static const struct cn_db_prepared test_statements[] = {
    {"cn_test_add", "SELECT $1::int + $2::int", 2},
    {"cn_test_backend", "SELECT pg_backend_pid()", 0},
};

struct outcome {
    int done;
    int failed;
    char value[64];
    char error[CN_DB_ERR_SIZE];
    char sqlstate[8];
};

static void record_outcome(const PGresult *res, const char *error, void *user)
{
    struct outcome *o = user;
    o->done = 1;
    if (error != NULL) {
        o->failed = 1;
        snprintf(o->error, sizeof o->error, "%s", error);
        const char *state = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        snprintf(o->sqlstate, sizeof o->sqlstate, "%s", state != NULL ? state : "");
        return;
    }
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0)
        snprintf(o->value, sizeof o->value, "%s", PQgetvalue(res, 0, 0));
}

static struct cn_db_async *open_async(uv_loop_t *loop)
{
    struct cn_db_async_options options = {
        .conninfo = cn_pg_embedded_conninfo(test_cluster.pg),
        .prepared = test_statements,
        .prepared_count = sizeof test_statements / sizeof test_statements[0],
        .reconnect_min_ms = 10,
        .reconnect_max_ms = 200,
    };
    struct cn_db_async *db = NULL;
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_async_init(loop, &options, &db, err, sizeof err), 0);
    return db;
}

static void note_closed(void *user)
{
    *(int *)user = 1;
}

/* Closes db, runs the loop until every handle is gone, and closes the loop. */
static void close_async(uv_loop_t *loop, struct cn_db_async *db)
{
    int closed = 0;
    cn_db_async_close(db, note_closed, &closed);
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    assert_true(closed);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void run_until_done(uv_loop_t *loop, const int *done)
{
    while (!*done)
        uv_run(loop, UV_RUN_ONCE);
}

struct ordered {
    int next_expected;
    int completed;
    int out_of_order;
};

static void check_order(const PGresult *res, const char *error, void *user)
{
    struct ordered *o = user;
    if (error != NULL || strtol(PQgetvalue(res, 0, 0), NULL, 10) != o->next_expected)
        o->out_of_order++;
    o->next_expected++;
    o->completed++;
}

static void test_async_runs_many_queued_queries_in_order(void **state)
{
    (void)state;
    enum { QUERIES = 500 };
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async *db = open_async(&loop);
    struct ordered o = {0};
    /* Queued before the connection is even up: they wait, then run in order. */
    for (int i = 0; i < QUERIES; i++) {
        char text[16];
        snprintf(text, sizeof text, "%d", i);
        const char *params[1] = {text};
        assert_int_equal(cn_db_async_query(db, "SELECT $1::int", 1, params, check_order, &o), 0);
    }
    while (o.completed < QUERIES)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(o.out_of_order, 0);
    assert_int_equal(cn_db_async_connect_count(db), 1);
    assert_true(cn_db_async_is_connected(db));
    close_async(&loop, db);
}

static void test_async_runs_prepared_statements_with_copied_parameters(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async *db = open_async(&loop);
    struct outcome sum = {0}, null_sum = {0};
    char a[8] = "40", b[8] = "2";
    const char *params[2] = {a, b};
    assert_int_equal(cn_db_async_query_prepared(db, "cn_test_add", 2, params, record_outcome, &sum),
                     0);
    /* The request owns copies: changing the caller's buffers afterwards changes nothing. */
    snprintf(a, sizeof a, "x");
    const char *with_null[2] = {"1", NULL};
    assert_int_equal(
        cn_db_async_query_prepared(db, "cn_test_add", 2, with_null, record_outcome, &null_sum), 0);
    run_until_done(&loop, &null_sum.done);
    assert_true(sum.done);
    assert_false(sum.failed);
    assert_string_equal(sum.value, "42");
    assert_false(null_sum.failed);
    assert_string_equal(null_sum.value, ""); /* 1 + NULL is NULL */
    close_async(&loop, db);
}

static void test_async_delivers_a_query_error_to_its_callback_and_continues(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async *db = open_async(&loop);
    struct outcome division = {0}, unknown = {0}, after = {0};
    assert_int_equal(cn_db_async_query(db, "SELECT 1/0", 0, NULL, record_outcome, &division), 0);
    assert_int_equal(
        cn_db_async_query_prepared(db, "no_such_statement", 0, NULL, record_outcome, &unknown), 0);
    assert_int_equal(cn_db_async_query(db, "SELECT 'still here'", 0, NULL, record_outcome, &after),
                     0);
    run_until_done(&loop, &after.done);
    assert_true(division.failed);
    assert_string_equal(division.sqlstate, "22012"); /* division_by_zero */
    assert_non_null(strstr(division.error, "division by zero"));
    assert_true(unknown.failed);
    assert_string_equal(unknown.sqlstate, "26000"); /* invalid_sql_statement_name */
    assert_false(after.failed);
    assert_string_equal(after.value, "still here");
    assert_int_equal(cn_db_async_connect_count(db), 1);
    close_async(&loop, db);
}

static void test_async_rejects_bad_requests_without_calling_back(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async_options options = {
        .conninfo = cn_pg_embedded_conninfo(test_cluster.pg),
        .queue_max = 2,
    };
    struct cn_db_async *db = NULL;
    assert_int_equal(cn_db_async_init(&loop, &options, &db, NULL, 0), 0);
    struct outcome first = {0}, second = {0}, third = {0};
    assert_int_equal(cn_db_async_query(db, "SELECT 1", 0, NULL, record_outcome, &first), 0);
    assert_int_equal(cn_db_async_query(db, "SELECT 2", 0, NULL, record_outcome, &second), 0);
    assert_int_equal(cn_db_async_query(db, "SELECT 3", 0, NULL, record_outcome, &third),
                     CN_DB_EBUSY);
    assert_int_equal(cn_db_async_query(db, NULL, 0, NULL, record_outcome, &third), CN_DB_EINVAL);
    assert_int_equal(cn_db_async_query(db, "SELECT 1", -1, NULL, record_outcome, &third),
                     CN_DB_EINVAL);
    run_until_done(&loop, &second.done);
    assert_string_equal(first.value, "1");
    assert_string_equal(second.value, "2");
    assert_false(third.done);
    close_async(&loop, db);
}

struct close_order {
    int completed;
    int errors;
    int enqueue_during_close;
};

static struct cn_db_async *closing_db;

static void count_close_failure(const PGresult *res, const char *error, void *user)
{
    struct close_order *o = user;
    (void)res;
    if (error != NULL)
        o->errors++;
    o->completed++;
    o->enqueue_during_close =
        cn_db_async_query(closing_db, "SELECT 1", 0, NULL, count_close_failure, o);
}

static void test_async_close_fails_every_queued_request(void **state)
{
    (void)state;
    enum { QUERIES = 20 };
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    closing_db = open_async(&loop);
    struct close_order o = {0};
    for (int i = 0; i < QUERIES; i++)
        assert_int_equal(
            cn_db_async_query(closing_db, "SELECT 1", 0, NULL, count_close_failure, &o), 0);
    int closed = 0;
    cn_db_async_close(closing_db, note_closed, &closed);
    /* Every callback ran before close returned, each with an error. */
    assert_int_equal(o.completed, QUERIES);
    assert_int_equal(o.errors, QUERIES);
    assert_int_equal(o.enqueue_during_close, CN_DB_ECLOSED);
    assert_false(closed);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(closed);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static long count_active(PGconn *observer, const char *query)
{
    const char *params[1] = {query};
    PGresult *res = PQexecParams(observer,
                                 "SELECT count(*) FROM pg_stat_activity "
                                 "WHERE query = $1 AND state = 'active'",
                                 1, NULL, params, NULL, NULL, 0);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    long n = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* The server is stopped while a statement runs and started again: that statement fails
 * with an error, requests queued meanwhile run after the reconnect, with the prepared
 * statements prepared again on the new session. */
static void test_async_survives_a_server_restart(void **state)
{
    (void)state;
    static const char sleeper[] = "SELECT pg_sleep(600)";
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async *db = open_async(&loop);
    struct outcome before = {0}, in_flight = {0}, sum = {0}, after = {0};
    assert_int_equal(
        cn_db_async_query_prepared(db, "cn_test_backend", 0, NULL, record_outcome, &before), 0);
    run_until_done(&loop, &before.done);
    assert_false(before.failed);

    assert_int_equal(cn_db_async_query(db, sleeper, 0, NULL, record_outcome, &in_flight), 0);
    PGconn *observer = test_cluster_connect(NULL);
    assert_non_null(observer);
    while (count_active(observer, sleeper) == 0)
        uv_run(&loop, UV_RUN_NOWAIT);
    PQfinish(observer);

    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_pg_embedded_stop(test_cluster.pg), 0);
    test_cluster.pg = NULL;
    assert_int_equal(
        cn_pg_embedded_start(test_cluster.state_dir, &test_cluster.pg, err, sizeof err), 0);

    const char *params[2] = {"20", "22"};
    assert_int_equal(cn_db_async_query_prepared(db, "cn_test_add", 2, params, record_outcome, &sum),
                     0);
    assert_int_equal(
        cn_db_async_query_prepared(db, "cn_test_backend", 0, NULL, record_outcome, &after), 0);
    run_until_done(&loop, &after.done);
    assert_true(in_flight.done);
    assert_true(in_flight.failed);
    assert_false(sum.failed);
    assert_string_equal(sum.value, "42");
    assert_false(after.failed);
    assert_string_not_equal(after.value, before.value); /* a new backend */
    assert_int_equal(cn_db_async_connect_count(db), 2);
    close_async(&loop, db);
}

static void test_async_keeps_requests_while_the_server_is_unreachable(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    char conninfo[1024];
    snprintf(conninfo, sizeof conninfo, "host=%s/nowhere dbname=calcnode", test_cluster.state_dir);
    struct cn_db_async_options options = {
        .conninfo = conninfo, .reconnect_min_ms = 1, .reconnect_max_ms = 2};
    struct cn_db_async *db = NULL;
    assert_int_equal(cn_db_async_init(&loop, &options, &db, NULL, 0), 0);
    struct outcome waiting = {0};
    assert_int_equal(cn_db_async_query(db, "SELECT 1", 0, NULL, record_outcome, &waiting), 0);
    /* Several failed attempts: the request neither runs nor is dropped. */
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_ONCE);
    assert_false(waiting.done);
    assert_false(cn_db_async_is_connected(db));
    assert_int_equal(cn_db_async_connect_count(db), 0);
    int closed = 0;
    cn_db_async_close(db, note_closed, &closed);
    assert_true(waiting.failed);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_true(closed);
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
        cmocka_unit_test(test_async_runs_many_queued_queries_in_order),
        cmocka_unit_test(test_async_runs_prepared_statements_with_copied_parameters),
        cmocka_unit_test(test_async_delivers_a_query_error_to_its_callback_and_continues),
        cmocka_unit_test(test_async_rejects_bad_requests_without_calling_back),
        cmocka_unit_test(test_async_close_fails_every_queued_request),
        cmocka_unit_test(test_async_survives_a_server_restart),
        cmocka_unit_test(test_async_keeps_requests_while_the_server_is_unreachable),
    };
    return cmocka_run_group_tests(tests, test_cluster_start, test_cluster_stop);
}
