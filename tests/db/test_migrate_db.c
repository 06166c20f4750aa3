/* node/db/embedded and node/db/migrate against a real embedded cluster. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "db/embedded.h"
#include "db/migrate.h"
#include "cluster.h"

static const char *sql_dir = CALCNODE_SOURCE_DIR "/sql";

static void exec_ok(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    PQclear(res);
}

static long query_long(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

/* A fresh empty database named name (dropped first if a previous test left it). */
static PGconn *fresh_database(const char *name)
{
    PGconn *admin = test_cluster_connect("postgres");
    assert_non_null(admin);
    char sql[128];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s", name);
    exec_ok(admin, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    exec_ok(admin, sql);
    PQfinish(admin);
    PGconn *conn = test_cluster_connect(name);
    assert_non_null(conn);
    return conn;
}

static long highest_migration_number(void)
{
    /* The newest file in sql/, counted independently of migrate.c's parser. */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s | grep -E '^[0-9]+_.*\\.sql$' | sort -n | tail -1", sql_dir);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof line, p));
    pclose(p);
    return strtol(line, NULL, 10);
}

static void test_embedded_start_created_the_calcnode_database(void **state)
{
    (void)state;
    PGconn *conn = test_cluster_connect(NULL);
    assert_non_null(conn);
    assert_string_equal(PQdb(conn), CN_DB_DATABASE_NAME);
    /* Only the unix socket: the server has no TCP listener. */
    PGresult *res = PQexec(conn, "SHOW listen_addresses");
    assert_int_equal(PQresultStatus(res), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(res, 0, 0), "");
    PQclear(res);
    PQfinish(conn);
}

static void test_embedded_start_refuses_a_cluster_in_use(void **state)
{
    (void)state;
    struct cn_pg_embedded *second = NULL;
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_pg_embedded_start(test_cluster.state_dir, &second, err, sizeof err),
                     CN_DB_EBUSY);
    assert_null(second);
    char expected[64];
    snprintf(expected, sizeof expected, "is in use by pid %ld",
             (long)cn_pg_embedded_pid(test_cluster.pg));
    assert_non_null(strstr(err, expected));
}

static void test_migrate_applies_every_file_then_is_a_no_op(void **state)
{
    (void)state;
    PGconn *conn = fresh_database("migrate_twice");
    char err[CN_DB_ERR_SIZE];
    long newest = highest_migration_number();
    int applied = cn_db_migrate(conn, sql_dir, err, sizeof err);
    if (applied < 0)
        fail_msg("%s", err);
    assert_true(applied >= 1);
    assert_int_equal(query_long(conn, "SELECT max(version) FROM schema_version"), newest);
    assert_int_equal(query_long(conn, "SELECT count(*) FROM schema_version"), applied);
    assert_int_equal(query_long(conn, "SELECT count(*) FROM instances"), 0);

    assert_int_equal(cn_db_migrate(conn, sql_dir, err, sizeof err), 0);
    assert_int_equal(query_long(conn, "SELECT count(*) FROM schema_version"), applied);
    PQfinish(conn);
}

static void test_migrate_rolls_back_a_failing_file_and_stops(void **state)
{
    (void)state;
    PGconn *conn = fresh_database("migrate_bad");
    char dir[] = "/tmp/cn-sql-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    const char *files[][2] = {
        {"001_ok.sql", "CREATE TABLE t1 (a int);"},
        {"002_bad.sql", "CREATE TABLE t2 (a int); SELECT no_such_function();"},
        {"003_later.sql", "CREATE TABLE t3 (a int);"},
    };
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i][1], f);
        fclose(f);
    }
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_migrate(conn, dir, err, sizeof err), CN_DB_EQUERY);
    assert_non_null(strstr(err, "002_bad.sql"));
    assert_int_equal(query_long(conn, "SELECT max(version) FROM schema_version"), 1);
    assert_int_equal(query_long(conn, "SELECT count(*) FROM pg_tables WHERE tablename = 't2'"), 0);
    assert_int_equal(query_long(conn, "SELECT count(*) FROM pg_tables WHERE tablename = 't3'"), 0);
    assert_int_equal(PQtransactionStatus(conn), PQTRANS_IDLE);
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i][0]);
        unlink(path);
    }
    rmdir(dir);
    PQfinish(conn);
}

static void test_migrate_rejects_duplicate_version_numbers(void **state)
{
    (void)state;
    char dir[] = "/tmp/cn-sql-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char a[256], b[256];
    snprintf(a, sizeof a, "%s/001_a.sql", dir);
    snprintf(b, sizeof b, "%s/01_b.sql", dir);
    fclose(fopen(a, "w"));
    fclose(fopen(b, "w"));
    PGconn *conn = test_cluster_connect("postgres");
    assert_non_null(conn);
    char err[CN_DB_ERR_SIZE];
    assert_int_equal(cn_db_migrate(conn, dir, err, sizeof err), CN_DB_EFORMAT);
    assert_non_null(strstr(err, "same version"));
    PQfinish(conn);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

/* Two processes released at the same instant on an empty database: each migration is
 * applied exactly once between them, and neither fails. */
static void test_two_concurrent_migrators_apply_each_version_once(void **state)
{
    (void)state;
    enum { MIGRATORS = 2 };
    PQfinish(fresh_database("migrate_race"));
    int go[2];
    assert_int_equal(pipe(go), 0);
    pid_t pids[MIGRATORS];
    for (int i = 0; i < MIGRATORS; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            close(go[1]);
            PGconn *conn = test_cluster_connect("migrate_race");
            char byte, err[CN_DB_ERR_SIZE];
            if (conn == NULL || read(go[0], &byte, 1) != 0)
                _exit(100);
            int applied = cn_db_migrate(conn, sql_dir, err, sizeof err);
            if (applied < 0)
                fprintf(stderr, "migrator: %s\n", err);
            PQfinish(conn);
            _exit(applied < 0 ? 101 : applied);
        }
    }
    close(go[0]);
    close(go[1]); /* EOF releases both at once */
    int total = 0;
    for (int i = 0; i < MIGRATORS; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) < 100);
        total += WEXITSTATUS(status);
    }
    PGconn *conn = test_cluster_connect("migrate_race");
    assert_non_null(conn);
    long rows = query_long(conn, "SELECT count(*) FROM schema_version");
    assert_int_equal(total, rows);
    assert_int_equal(query_long(conn, "SELECT max(version) FROM schema_version"),
                     highest_migration_number());
    PQfinish(conn);
}

int main(void)
{
    if (!test_cluster_available()) {
        fprintf(stderr, "skipped: no PostgreSQL server binaries installed\n");
        return TEST_SKIP;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_start_created_the_calcnode_database),
        cmocka_unit_test(test_embedded_start_refuses_a_cluster_in_use),
        cmocka_unit_test(test_migrate_applies_every_file_then_is_a_no_op),
        cmocka_unit_test(test_migrate_rolls_back_a_failing_file_and_stops),
        cmocka_unit_test(test_migrate_rejects_duplicate_version_numbers),
        cmocka_unit_test(test_two_concurrent_migrators_apply_each_version_once),
    };
    return cmocka_run_group_tests(tests, test_cluster_start, test_cluster_stop);
}
