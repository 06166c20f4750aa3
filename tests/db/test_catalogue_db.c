/* node/db/catalogue (and the schema of sql/) against a real embedded cluster. */
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
#include "db/catalogue.h"
#include "db/db.h"
#include "db/embedded.h"
#include "db/migrate.h"
#include "migrated.h"

#define WATCHDOG_S 120
#define STUDY_UID "1.2.826.0.1.3680043.8.498.1"
#define SERIES_UID "1.2.826.0.1.3680043.8.498.1.1"
#define MG_SOP_CLASS "1.2.840.10008.5.1.4.1.1.1.2" /* Digital Mammography X-Ray Image */
#define EXPLICIT_LE "1.2.840.10008.1.2.1"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char *query_text(const char *sql, char *out, size_t out_len)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    snprintf(out, out_len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(res);
}

/* A mammography instance of STUDY_UID named sop_uid. */
static struct cn_db_instance mammogram(const char *sop_uid, const char *sha256)
{
    struct cn_db_instance in = {
        .sop_class_uid = MG_SOP_CLASS,
        .sop_instance_uid = sop_uid,
        .study_instance_uid = STUDY_UID,
        .series_instance_uid = SERIES_UID,
        .transfer_syntax_uid = EXPLICIT_LE,
        .specific_character_set = "ISO_IR 192",
        .patient_id = "P001",
        .patient_name = "Doe^Jane",
        .patient_birth_date = "19600101",
        .patient_sex = "F",
        .study_date = "20240102",
        .study_time = "101500",
        .accession_number = "A1",
        .study_description = "",
        .modality = "MG",
        .series_number = "1",
        .instance_number = "1",
        .image_laterality = "L",
        .view_position = "CC",
        .rows = 4096,
        .columns = 3328,
        .path = "/var/calcnode/store/x.dcm",
        .size_bytes = 27262976,
        .sha256 = sha256,
        .calling_ae = "MODALITY",
        .called_ae = "CALCNODE",
    };
    return in;
}

static void store_ok(const struct cn_db_instance *in, struct cn_db_store_outcome *out)
{
    char err[CN_DB_ERR_SIZE];
    if (cn_db_store_instance_blocking(conn, in, out, err, sizeof err) != 0)
        fail_msg("%s", err);
}

static void test_store_instance_inserts_then_ignores_the_same_sop_instance_uid(void **state)
{
    (void)state;
    struct cn_db_instance in = mammogram("1.2.3.100", SHA_A);
    struct cn_db_store_outcome out;
    store_ok(&in, &out);
    assert_true(out.is_new);
    assert_string_equal(out.stored_sha256, SHA_A);
    assert_int_equal(
        query_long("SELECT instance_count FROM studies WHERE study_instance_uid = '" STUDY_UID "'"),
        1);
    char before[64], after[64];
    query_text("SELECT last_received_at FROM studies WHERE study_instance_uid = '" STUDY_UID "'",
               before, sizeof before);

    /* Same SOP Instance UID, other bytes elsewhere: no second row, counts unchanged, and
     * the outcome names what is already stored. */
    struct cn_db_instance again = mammogram("1.2.3.100", SHA_B);
    again.path = "/var/calcnode/store/other.dcm";
    store_ok(&again, &out);
    assert_false(out.is_new);
    assert_string_equal(out.stored_sha256, SHA_A);
    assert_string_equal(out.stored_path, "/var/calcnode/store/x.dcm");
    assert_int_equal(query_long("SELECT count(*) FROM instances WHERE sop_instance_uid = "
                                "'1.2.3.100'"),
                     1);
    assert_int_equal(
        query_long("SELECT instance_count FROM studies WHERE study_instance_uid = '" STUDY_UID "'"),
        1);
    query_text("SELECT last_received_at FROM studies WHERE study_instance_uid = '" STUDY_UID "'",
               after, sizeof after);
    assert_string_equal(before, after);

    /* Empty optional attributes are NULL; the study keeps its attributes. */
    assert_int_equal(query_long("SELECT count(*) FROM studies WHERE study_description IS NULL "
                                "AND patient_name = 'Doe^Jane'"),
                     1);
}

static void test_store_instance_counts_a_second_instance_of_the_study(void **state)
{
    (void)state;
    struct cn_db_instance in = mammogram("1.2.3.101", SHA_B);
    in.image_laterality = "R";
    in.rows = 0; /* not an image: rows and columns stored as NULL */
    in.columns = 0;
    struct cn_db_store_outcome out;
    store_ok(&in, &out);
    assert_true(out.is_new);
    assert_int_equal(
        query_long("SELECT instance_count FROM studies WHERE study_instance_uid = '" STUDY_UID "'"),
        query_long("SELECT count(*) FROM instances WHERE study_instance_uid = '" STUDY_UID "'"));
    assert_int_equal(query_long("SELECT count(*) FROM series"), 1);
    assert_int_equal(query_long("SELECT count(*) FROM instances WHERE sop_instance_uid = "
                                "'1.2.3.101' AND rows IS NULL AND association_id IS NULL"),
                     1);
}

static void test_store_instance_rejects_missing_or_malformed_fields(void **state)
{
    (void)state;
    struct cn_db_store_outcome out;
    char err[CN_DB_ERR_SIZE];
    struct cn_db_instance in = mammogram("1.2.3.102", "not-a-digest");
    assert_int_equal(cn_db_store_instance_blocking(conn, &in, &out, err, sizeof err), CN_DB_EINVAL);
    in = mammogram(NULL, SHA_A);
    assert_int_equal(cn_db_store_instance_blocking(conn, &in, &out, err, sizeof err), CN_DB_EINVAL);
    in =
        mammogram("1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27", SHA_A);
    assert_int_equal(cn_db_store_instance_blocking(conn, &in, &out, err, sizeof err), CN_DB_EINVAL);
    assert_int_equal(query_long("SELECT count(*) FROM instances WHERE sop_instance_uid LIKE "
                                "'1.2.3.4.5%' OR sop_instance_uid = '1.2.3.102'"),
                     0);
}

/* Two sessions store the same new instance at once: the second waits for the first's
 * uncommitted row, then sees it and inserts nothing. */
static void test_store_instance_concurrent_duplicates_make_one_row(void **state)
{
    (void)state;
    PGconn *other = test_cluster_connect(NULL);
    assert_non_null(other);
    struct cn_db_instance in = mammogram("1.2.3.200", SHA_A);
    in.study_instance_uid = "1.2.3.2000";
    in.series_instance_uid = "1.2.3.2000.1";
    exec_ok(conn, "BEGIN");
    struct cn_db_store_outcome first, second;
    store_ok(&in, &first);
    assert_true(first.is_new);

    struct cn_db_instance copy = in;
    copy.sha256 = SHA_B;
    /* Blocks on the first session's row lock until it commits: run it asynchronously. */
    int sent = 0;
    {
        char rows[16], cols[16], size[24];
        snprintf(rows, sizeof rows, "%u", copy.rows);
        snprintf(cols, sizeof cols, "%u", copy.columns);
        snprintf(size, sizeof size, "%lld", (long long)copy.size_bytes);
        const char *params[27] = {copy.sop_class_uid,
                                  copy.sop_instance_uid,
                                  copy.study_instance_uid,
                                  copy.series_instance_uid,
                                  copy.transfer_syntax_uid,
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  "",
                                  rows,
                                  cols,
                                  copy.path,
                                  size,
                                  copy.sha256,
                                  copy.calling_ae,
                                  copy.called_ae,
                                  NULL};
        sent = PQsendQueryParams(other,
                                 "SELECT is_new, stored_sha256 FROM calcnode_store_instance("
                                 "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, "
                                 "$14, $15, $16, $17, $18, $19, $20::integer, $21::integer, "
                                 "$22, $23::bigint, $24, $25, $26, $27::bigint)",
                                 27, NULL, params, NULL, NULL, 0);
    }
    assert_true(sent);
    /* Commit only once the second session is really waiting on the first's row. */
    PGconn *observer = test_cluster_connect(NULL);
    assert_non_null(observer);
    for (;;) {
        PGresult *waiting = PQexec(observer, "SELECT count(*) FROM pg_stat_activity WHERE "
                                             "wait_event_type = 'Lock'");
        assert_int_equal(PQresultStatus(waiting), PGRES_TUPLES_OK);
        long n = strtol(PQgetvalue(waiting, 0, 0), NULL, 10);
        PQclear(waiting);
        if (n > 0)
            break;
    }
    PQfinish(observer);
    exec_ok(conn, "COMMIT");
    PGresult *res = PQgetResult(other);
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    second.is_new = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    assert_false(second.is_new);
    assert_string_equal(PQgetvalue(res, 0, 1), SHA_A);
    PQclear(res);
    assert_null(PQgetResult(other));
    PQfinish(other);
    assert_int_equal(query_long("SELECT instance_count FROM studies WHERE study_instance_uid = "
                                "'1.2.3.2000'"),
                     1);
}

/* The async forms, on a real loop. */
struct async_outcome {
    int done;
    int status;
    int64_t id;
    struct cn_db_store_outcome store;
};

static void on_done(int status, int64_t id, const char *error, void *user)
{
    struct async_outcome *o = user;
    (void)error;
    o->done = 1;
    o->status = status;
    o->id = id;
}

static void on_store(int status, const struct cn_db_store_outcome *outcome, const char *error,
                     void *user)
{
    struct async_outcome *o = user;
    (void)error;
    o->done = 1;
    o->status = status;
    if (outcome != NULL)
        o->store = *outcome;
}

static void run_until(uv_loop_t *loop, const int *done)
{
    while (!*done)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_async_catalogue_records_an_aborted_association(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async_options options = {
        .conninfo = cn_pg_embedded_conninfo(test_cluster.pg),
        .prepared = cn_db_catalogue_statements,
        .prepared_count = cn_db_catalogue_statement_count,
    };
    struct cn_db_async *db = NULL;
    assert_int_equal(cn_db_async_init(&loop, &options, &db, NULL, 0), 0);

    struct async_outcome started = {0};
    assert_int_equal(
        cn_db_association_start(db, "MODALITY", "CALCNODE", "127.0.0.1:40000", on_done, &started),
        0);
    run_until(&loop, &started.done);
    assert_int_equal(started.status, 0);
    assert_true(started.id > 0);

    struct cn_db_instance in = mammogram("1.2.3.300", SHA_A);
    in.study_instance_uid = "1.2.3.3000";
    in.series_instance_uid = "1.2.3.3000.1";
    in.association_id = started.id;
    struct async_outcome stored = {0}, again = {0};
    assert_int_equal(cn_db_store_instance(db, &in, on_store, &stored), 0);
    assert_int_equal(cn_db_store_instance(db, &in, on_store, &again), 0);
    run_until(&loop, &again.done);
    assert_int_equal(stored.status, 0);
    assert_true(stored.store.is_new);
    assert_int_equal(again.status, 0);
    assert_false(again.store.is_new);

    /* Fire and forget (no callback): still applied, in order. */
    struct async_outcome other = {0};
    struct cn_db_instance second = in;
    second.sop_instance_uid = "1.2.3.301";
    assert_int_equal(cn_db_store_instance(db, &second, on_store, &other), 0);
    assert_int_equal(cn_db_mark_aborted(db, started.id, "1.2.3.301", NULL, NULL), 0);

    struct async_outcome marked = {0}, conflict = {0}, ended = {0}, unknown = {0};
    assert_int_equal(cn_db_mark_aborted(db, started.id, NULL, on_done, &marked), 0);
    assert_int_equal(cn_db_record_conflict(db, "1.2.3.300", "/var/calcnode/conflicts/c.dcm", SHA_B,
                                           "MODALITY", started.id, on_done, &conflict),
                     0);
    assert_int_equal(
        cn_db_association_end(db, started.id, CN_DB_ASSOCIATION_ABORTED, 1, on_done, &ended), 0);
    assert_int_equal(cn_db_association_end(db, started.id + 1000, CN_DB_ASSOCIATION_RELEASED, 0,
                                           on_done, &unknown),
                     0);
    run_until(&loop, &unknown.done);
    assert_int_equal(other.status, 0);
    assert_true(other.store.is_new);
    assert_int_equal(marked.status, 0);
    assert_int_equal(marked.id, 2);
    assert_int_equal(conflict.status, 0);
    assert_true(conflict.id > 0);
    assert_int_equal(ended.status, 0);
    assert_int_equal(unknown.status, CN_DB_ENOTFOUND);
    assert_int_equal(cn_db_association_end(db, started.id, (enum cn_db_association_outcome)7, 0,
                                           on_done, &unknown),
                     CN_DB_EINVAL);

    cn_db_async_close(db, NULL, NULL);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);

    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM associations WHERE id = %lld AND outcome = 'aborted' AND "
             "instances_stored = 1 AND ended_at IS NOT NULL",
             (long long)started.id);
    assert_int_equal(query_long(sql), 1);
    assert_int_equal(query_long("SELECT count(*) FROM instances WHERE sop_instance_uid IN "
                                "('1.2.3.300', '1.2.3.301') AND aborted_association"),
                     2);
    assert_int_equal(query_long("SELECT count(*) FROM conflicts WHERE sop_instance_uid = "
                                "'1.2.3.300' AND sha256 = '" SHA_B "'"),
                     1);
}

static void test_counts_match_the_tables(void **state)
{
    (void)state;
    /* at most one waiting (queued) job per study: sql/003_work.sql */
    exec_ok(conn, "INSERT INTO jobs (study_instance_uid, state) VALUES "
                  "('" STUDY_UID "', 'queued'), ('" STUDY_UID "', 'failed'), "
                  "('" STUDY_UID "', 'dead')");
    exec_ok(conn, "INSERT INTO outbound (path, sop_class_uid, sop_instance_uid, "
                  "destination_ae, state) VALUES ('/o/1', '1.2', '1.2.9', 'PACS', 'sent')");
    struct cn_db_counts counts;
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_counts_blocking(conn, &counts, err, sizeof err), 0);
    assert_int_equal(counts.instances, query_long("SELECT count(*) FROM instances"));
    assert_int_equal(counts.studies, query_long("SELECT count(*) FROM studies"));
    assert_int_equal(counts.series, query_long("SELECT count(*) FROM series"));
    assert_int_equal(counts.conflicts, query_long("SELECT count(*) FROM conflicts"));
    assert_int_equal(counts.associations, query_long("SELECT count(*) FROM associations"));
    for (int s = 0; s < CN_DB_JOB_STATE_COUNT; s++) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM jobs WHERE state = '%s'",
                 cn_db_job_state_name((enum cn_db_job_state)s));
        assert_int_equal(counts.jobs[s], query_long(sql));
    }
    assert_int_equal(counts.jobs[CN_DB_JOB_QUEUED], 1);
    assert_int_equal(counts.jobs[CN_DB_JOB_FAILED], 1);
    assert_int_equal(counts.outbound[CN_DB_OUTBOUND_SENT], 1);
    assert_int_equal(counts.outbound[CN_DB_OUTBOUND_QUEUED], 0);
    assert_null(cn_db_job_state_name(CN_DB_JOB_STATE_COUNT));
}

static void test_job_states_outside_the_check_are_refused(void **state)
{
    (void)state;
    PGresult *res = PQexec(conn, "INSERT INTO jobs (study_instance_uid, state) VALUES ('" STUDY_UID
                                 "', 'lost')");
    assert_int_equal(PQresultStatus(res), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(res, PG_DIAG_SQLSTATE), "23514"); /* check */
    PQclear(res);
}

static void test_queued_jobs_and_outbound_notify_their_channels(void **state)
{
    (void)state;
    PGconn *listener = test_cluster_connect(NULL);
    assert_non_null(listener);
    exec_ok(listener, "LISTEN " CN_DB_CHANNEL_JOBS);
    exec_ok(listener, "LISTEN " CN_DB_CHANNEL_OUTBOUND);
    /* the study's earlier test job is no longer waiting: one queued job per study */
    exec_ok(conn, "UPDATE jobs SET state = 'done' WHERE study_instance_uid = '" STUDY_UID
                  "' AND state = 'queued'");
    exec_ok(conn, "INSERT INTO jobs (study_instance_uid) VALUES ('" STUDY_UID "')");
    exec_ok(conn, "INSERT INTO outbound (path, sop_class_uid, sop_instance_uid, "
                  "destination_ae) VALUES ('/o/2', '1.2', '1.2.10', 'PACS')");
    long job_id = query_long("SELECT max(id) FROM jobs");
    long outbound_id = query_long("SELECT max(id) FROM outbound");
    /* Notifications are delivered at commit; a round trip on the listener reads them. */
    exec_ok(listener, "SELECT 1");
    PGnotify *n = PQnotifies(listener);
    assert_non_null(n);
    assert_string_equal(n->relname, CN_DB_CHANNEL_JOBS);
    assert_int_equal(strtol(n->extra, NULL, 10), job_id);
    PQfreemem(n);
    n = PQnotifies(listener);
    assert_non_null(n);
    assert_string_equal(n->relname, CN_DB_CHANNEL_OUTBOUND);
    assert_int_equal(strtol(n->extra, NULL, 10), outbound_id);
    PQfreemem(n);
    assert_null(PQnotifies(listener));
    PQfinish(listener);
}

struct listing {
    int rows;
    int stop_after;
    char last_sop[CN_DB_UID_SIZE];
    int saw_other_study;
};

static int collect(const struct cn_db_instance_row *row, void *user)
{
    struct listing *l = user;
    l->rows++;
    snprintf(l->last_sop, sizeof l->last_sop, "%s", row->sop_instance_uid);
    if (strcmp(row->study_instance_uid, STUDY_UID) != 0)
        l->saw_other_study = 1;
    if (row->size_bytes != 27262976 || strcmp(row->transfer_syntax_uid, EXPLICIT_LE) != 0 ||
        strcmp(row->calling_ae, "MODALITY") != 0 || strlen(row->received_at) < 20)
        return -100;
    return l->stop_after > 0 && l->rows == l->stop_after ? 42 : 0;
}

static void test_list_instances_streams_every_row_or_one_study(void **state)
{
    (void)state;
    char err[CN_DB_ERR_SIZE];
    struct listing all = {0}, one = {0}, stopped = {.stop_after = 1};
    assert_int_equal(cn_db_list_instances_blocking(conn, NULL, collect, &all, err, sizeof err), 0);
    assert_int_equal(all.rows, query_long("SELECT count(*) FROM instances"));
    assert_true(all.saw_other_study);
    assert_int_equal(cn_db_list_instances_blocking(conn, STUDY_UID, collect, &one, err, sizeof err),
                     0);
    assert_int_equal(one.rows, query_long("SELECT count(*) FROM instances WHERE "
                                          "study_instance_uid = '" STUDY_UID "'"));
    assert_false(one.saw_other_study);
    assert_int_equal(cn_db_list_instances_blocking(conn, NULL, collect, &stopped, err, sizeof err),
                     42);
    assert_int_equal(stopped.rows, 1);
    /* The connection is usable after a listing stopped early. */
    assert_int_equal(query_long("SELECT 7"), 7);
}

int main(void)
{
    if (!test_cluster_available()) {
        fprintf(stderr, "skipped: no PostgreSQL server binaries installed\n");
        return TEST_SKIP;
    }
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_instance_inserts_then_ignores_the_same_sop_instance_uid),
        cmocka_unit_test(test_store_instance_counts_a_second_instance_of_the_study),
        cmocka_unit_test(test_store_instance_rejects_missing_or_malformed_fields),
        cmocka_unit_test(test_store_instance_concurrent_duplicates_make_one_row),
        cmocka_unit_test(test_async_catalogue_records_an_aborted_association),
        cmocka_unit_test(test_counts_match_the_tables),
        cmocka_unit_test(test_job_states_outside_the_check_are_refused),
        cmocka_unit_test(test_queued_jobs_and_outbound_notify_their_channels),
        cmocka_unit_test(test_list_instances_streams_every_row_or_one_study),
    };
    return cmocka_run_group_tests(tests, migrated_setup, migrated_teardown);
}
