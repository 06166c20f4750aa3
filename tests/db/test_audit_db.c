/* sql/004_audit.sql (the audit triggers) and node/db/audit against a real embedded
 * cluster: every association, stored instance and finished result transfer leaves one
 * audit row in its own transaction; the events without a row of their own are recorded
 * through cn_db_audit_record. */
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
#include "db/audit.h"
#include "db/catalogue.h"
#include "db/db.h"
#include "db/migrate.h"
#include "migrated.h"

#define WATCHDOG_S 120
#define STUDY_UID "1.2.826.0.1.3680043.8.498.77"
#define SERIES_UID "1.2.826.0.1.3680043.8.498.77.1"
#define MG_SOP_CLASS "1.2.840.10008.5.1.4.1.1.1.2"
#define SEG_SOP_CLASS "1.2.840.10008.5.1.4.1.1.66.4"
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void query_text(const char *sql, char *out, size_t out_len)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    snprintf(out, out_len, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
}

static void exec_ok(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

static long audit_count(const char *action)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM audit WHERE action = '%s'", action);
    return query_long(sql);
}

/* The newest row of action as "actor|object|outcome|detail->>key" for each key. */
static void last_audit(const char *action, const char *keys, char *out, size_t out_len)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT actor || '|' || coalesce(object, '') || '|' || outcome || '|' || "
             "(SELECT string_agg(coalesce(detail->>k, 'null'), ',' ORDER BY o) FROM "
             "unnest(string_to_array('%s', ',')) WITH ORDINALITY AS t(k, o)) "
             "FROM audit WHERE action = '%s' ORDER BY id DESC LIMIT 1",
             keys, action);
    query_text(sql, out, out_len);
}

static void test_association_start_and_end_are_audited(void **state)
{
    (void)state;
    exec_ok("INSERT INTO associations (calling_ae, called_ae, peer_address) "
            "VALUES ('MODALITY', 'CALCNODE', '10.0.0.5:4001')");
    char row[512];
    last_audit("association accepted", "called_ae,address", row, sizeof row);
    long id = query_long("SELECT max(id) FROM associations");
    char expected[512];
    snprintf(expected, sizeof expected, "MODALITY|%ld|success|CALCNODE,10.0.0.5:4001", id);
    assert_string_equal(row, expected);
    assert_int_equal(audit_count("association released"), 0);

    exec_ok("UPDATE associations SET ended_at = now(), outcome = 'released', "
            "instances_stored = 4 WHERE id = (SELECT max(id) FROM associations)");
    last_audit("association released", "instances_stored,address", row, sizeof row);
    snprintf(expected, sizeof expected, "MODALITY|%ld|success|4,10.0.0.5:4001", id);
    assert_string_equal(row, expected);
    /* a later update of the ended row does not audit the end twice */
    exec_ok("UPDATE associations SET instances_stored = 5 WHERE id = (SELECT max(id) FROM "
            "associations)");
    assert_int_equal(audit_count("association released"), 1);

    exec_ok("INSERT INTO associations (calling_ae, called_ae) VALUES ('OTHER', 'CALCNODE')");
    exec_ok("UPDATE associations SET ended_at = now(), outcome = 'aborted' "
            "WHERE id = (SELECT max(id) FROM associations)");
    last_audit("association aborted", "address", row, sizeof row);
    snprintf(expected, sizeof expected, "OTHER|%ld|minor failure|null", id + 1);
    assert_string_equal(row, expected);
}

static void test_audit_row_commits_or_rolls_back_with_its_change(void **state)
{
    (void)state;
    long before = audit_count("association accepted");
    exec_ok("BEGIN");
    exec_ok("INSERT INTO associations (calling_ae, called_ae) VALUES ('GONE', 'CALCNODE')");
    exec_ok("ROLLBACK");
    assert_int_equal(audit_count("association accepted"), before);
}

static void test_each_new_instance_is_audited_once(void **state)
{
    (void)state;
    exec_ok("INSERT INTO associations (calling_ae, called_ae, peer_address) "
            "VALUES ('MODALITY', 'CALCNODE', '10.0.0.6:4002')");
    long association = query_long("SELECT max(id) FROM associations");
    struct cn_db_instance in = {
        .sop_class_uid = MG_SOP_CLASS,
        .sop_instance_uid = STUDY_UID ".1.1",
        .study_instance_uid = STUDY_UID,
        .series_instance_uid = SERIES_UID,
        .transfer_syntax_uid = "1.2.840.10008.1.2.1",
        .patient_id = "P077",
        .rows = 64,
        .columns = 64,
        .path = "/tmp/x.dcm",
        .size_bytes = 8192,
        .sha256 = SHA_A,
        .calling_ae = "MODALITY",
        .called_ae = "CALCNODE",
        .association_id = association,
    };
    struct cn_db_store_outcome outcome;
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_store_instance_blocking(conn, &in, &outcome, err, sizeof err), 0);
    assert_true(outcome.is_new);
    char row[512], expected[512];
    last_audit("instance stored",
               "study_instance_uid,patient_id,sop_class_uid,size_bytes,address,association_id", row,
               sizeof row);
    snprintf(expected, sizeof expected,
             "MODALITY|" STUDY_UID ".1.1|success|" STUDY_UID ",P077," MG_SOP_CLASS
             ",8192,10.0.0.6:4002,%ld",
             association);
    assert_string_equal(row, expected);
    /* the same SOP Instance UID again: no new row, no new audit */
    assert_int_equal(cn_db_store_instance_blocking(conn, &in, &outcome, err, sizeof err), 0);
    assert_false(outcome.is_new);
    assert_int_equal(query_long("SELECT count(*) FROM audit WHERE action = 'instance stored' "
                                "AND object = '" STUDY_UID ".1.1'"),
                     1);
}

static void test_outbound_is_audited_when_sent_or_dead_only(void **state)
{
    (void)state;
    exec_ok("INSERT INTO jobs (study_instance_uid, state) VALUES ('" STUDY_UID "', 'done')");
    exec_ok("INSERT INTO outbound (job_id, path, sop_class_uid, sop_instance_uid, "
            "destination_ae) VALUES ((SELECT max(id) FROM jobs), '/tmp/seg.dcm', '" SEG_SOP_CLASS
            "', '9.8.7.1', 'PACS'), (NULL, '/tmp/sr.dcm', '1.2.840.10008.5.1.4.1.1.88.22', "
            "'9.8.7.2', 'PACS')");
    long sent_before = audit_count("result sent"), dead_before = audit_count("result dead");
    exec_ok("UPDATE outbound SET state = 'sending' WHERE sop_instance_uid LIKE '9.8.7.%'");
    exec_ok("UPDATE outbound SET state = 'failed', last_status = 42752 "
            "WHERE sop_instance_uid = '9.8.7.2'");
    assert_int_equal(audit_count("result sent"), sent_before);
    assert_int_equal(audit_count("result dead"), dead_before);

    exec_ok("UPDATE outbound SET state = 'sent', last_status = 0, attempts = 1 "
            "WHERE sop_instance_uid = '9.8.7.1'");
    char row[512];
    last_audit("result sent", "study_instance_uid,patient_id,sop_class_uid,status,attempts", row,
               sizeof row);
    assert_string_equal(row, "PACS|9.8.7.1|success|" STUDY_UID ",P077," SEG_SOP_CLASS ",0,1");
    /* setting the same state again is no transition */
    exec_ok("UPDATE outbound SET state = 'sent' WHERE sop_instance_uid = '9.8.7.1'");
    assert_int_equal(audit_count("result sent"), sent_before + 1);

    exec_ok("UPDATE outbound SET state = 'dead', last_error = 'cancelled by an operator' "
            "WHERE sop_instance_uid = '9.8.7.2'");
    last_audit("result dead", "error,status,study_instance_uid", row, sizeof row);
    assert_string_equal(row, "PACS|9.8.7.2|serious failure|cancelled by an operator,42752,null");

    /* a row inserted already final (a resend recorded elsewhere) is audited too */
    exec_ok("INSERT INTO outbound (path, sop_class_uid, sop_instance_uid, destination_ae, state) "
            "VALUES ('/tmp/x', '1.2', '9.8.7.3', 'PACS2', 'sent')");
    last_audit("result sent", "status", row, sizeof row);
    assert_string_equal(row, "PACS2|9.8.7.3|success|null");
}

static void test_record_blocking_inserts_and_checks_its_fields(void **state)
{
    (void)state;
    char err[CN_DB_ERR_SIZE];
    int64_t id = 0;
    assert_int_equal(cn_db_audit_record_blocking(conn, "alice", CN_DB_AUDIT_CANCEL_JOB, "job 3",
                                                 CN_DB_AUDIT_SUCCESS, "{\"via\": \"test\"}", &id,
                                                 err, sizeof err),
                     0);
    assert_true(id > 0);
    char row[256];
    last_audit(CN_DB_AUDIT_CANCEL_JOB, "via", row, sizeof row);
    assert_string_equal(row, "alice|job 3|success|test");
    assert_int_equal(query_long("SELECT count(*) FROM audit WHERE forwarded_at IS NULL AND id = "
                                "(SELECT max(id) FROM audit)"),
                     1);
    /* NULL object and detail are allowed */
    assert_int_equal(cn_db_audit_record_blocking(conn, "CALCNODE", CN_DB_AUDIT_APPLICATION_START,
                                                 NULL, CN_DB_AUDIT_SUCCESS, NULL, NULL, err,
                                                 sizeof err),
                     0);
    assert_int_equal(
        cn_db_audit_record_blocking(conn, "a", "x", NULL, "done", NULL, NULL, err, sizeof err),
        CN_DB_EINVAL);
    assert_non_null(strstr(err, "outcome"));
    assert_int_equal(
        cn_db_audit_record_blocking(conn, "", "x", NULL, "success", NULL, NULL, err, sizeof err),
        CN_DB_EINVAL);
    assert_int_equal(
        cn_db_audit_record_blocking(conn, "a", NULL, NULL, "success", NULL, NULL, err, sizeof err),
        CN_DB_EINVAL);
    char long_action[CN_DB_AUDIT_ACTION_MAX_LEN + 2];
    memset(long_action, 'a', sizeof long_action - 1);
    long_action[sizeof long_action - 1] = '\0';
    assert_int_equal(cn_db_audit_record_blocking(conn, "a", long_action, NULL, "success", NULL,
                                                 NULL, err, sizeof err),
                     CN_DB_EINVAL);
    assert_int_equal(cn_db_audit_record_blocking(conn, "a", "x", NULL, "success", "{broken", NULL,
                                                 err, sizeof err),
                     CN_DB_EQUERY);
    assert_non_null(strstr(err, "could not record audit event \"x\""));
}

struct async_result {
    int calls, status;
    int64_t id;
};

static void on_recorded(int status, int64_t id, const char *error, void *user)
{
    (void)error;
    struct async_result *r = user;
    r->calls++;
    r->status = status;
    r->id = id;
}

static void close_db_when_done(int status, int64_t id, const char *error, void *user)
{
    on_recorded(status, id, error, ((void **)user)[0]);
    cn_db_async_close(((void **)user)[1], NULL, NULL);
}

static void test_record_async_inserts_on_the_loop(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_db_async_options options = {.conninfo = cn_pg_embedded_conninfo(test_cluster.pg)};
    struct cn_db_async *db;
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_async_init(&loop, &options, &db, err, sizeof err), 0);
    struct async_result first = {0}, second = {0};
    void *pair[2] = {&second, db};
    assert_int_equal(cn_db_audit_record(db, "STORESCU", CN_DB_AUDIT_ASSOCIATION_REFUSED,
                                        "127.0.0.1:5000", CN_DB_AUDIT_MINOR_FAILURE,
                                        "{\"reason\": \"called AE title not recognised\"}",
                                        on_recorded, &first),
                     0);
    assert_int_equal(cn_db_audit_record(db, "x", "y", NULL, "nonsense", NULL, on_recorded, &first),
                     CN_DB_EINVAL);
    assert_int_equal(cn_db_audit_record(NULL, "x", "y", NULL, "success", NULL, NULL, NULL),
                     CN_DB_EINVAL);
    /* cb NULL: the row is still written */
    assert_int_equal(cn_db_audit_record(db, "CALCNODE", CN_DB_AUDIT_APPLICATION_STOP, NULL,
                                        CN_DB_AUDIT_SUCCESS, NULL, NULL, NULL),
                     0);
    assert_int_equal(
        cn_db_audit_record(db, "x", "y", NULL, "success", "{bad", close_db_when_done, pair), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(first.calls, 1);
    assert_int_equal(first.status, 0);
    assert_true(first.id > 0);
    assert_int_equal(second.calls, 1);
    assert_int_equal(second.status, CN_DB_EQUERY);
    char row[256];
    last_audit(CN_DB_AUDIT_ASSOCIATION_REFUSED, "reason", row, sizeof row);
    assert_string_equal(row, "STORESCU|127.0.0.1:5000|minor failure|called AE title not "
                             "recognised");
    assert_int_equal(audit_count(CN_DB_AUDIT_APPLICATION_STOP), 1);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_unforwarded_rows_have_a_partial_index(void **state)
{
    (void)state;
    assert_int_equal(query_long("SELECT count(*) FROM pg_indexes WHERE indexname = "
                                "'audit_unforwarded' AND indexdef LIKE '%forwarded_at IS NULL%'"),
                     1);
}

int main(void)
{
    if (!test_cluster_available()) {
        fprintf(stderr, "skipped: no PostgreSQL server binaries installed\n");
        return TEST_SKIP;
    }
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_association_start_and_end_are_audited),
        cmocka_unit_test(test_audit_row_commits_or_rolls_back_with_its_change),
        cmocka_unit_test(test_each_new_instance_is_audited_once),
        cmocka_unit_test(test_outbound_is_audited_when_sent_or_dead_only),
        cmocka_unit_test(test_record_blocking_inserts_and_checks_its_fields),
        cmocka_unit_test(test_record_async_inserts_on_the_loop),
        cmocka_unit_test(test_unforwarded_rows_have_a_partial_index),
    };
    return cmocka_run_group_tests(tests, migrated_setup, migrated_teardown);
}
