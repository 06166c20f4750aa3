/* tests/db: a migrated database on the test cluster (cluster.h) and one blocking
 * connection to it, `conn`, for the tests of one executable: pass migrated_setup and
 * migrated_teardown to cmocka_run_group_tests. Header-only; include cmocka.h first. */
#ifndef CN_TESTS_DB_MIGRATED_H
#define CN_TESTS_DB_MIGRATED_H

#include <stdio.h>
#include <stdlib.h>

#include "db/db.h"
#include "db/migrate.h"
#include "db/cluster.h"

static PGconn *conn;

static int migrated_setup(void **state)
{
    if (test_cluster_start(state) != 0)
        return -1;
    conn = test_cluster_connect(NULL);
    char err[CN_DB_ERR_SIZE] = "no connection";
    if (conn == NULL || cn_db_migrate(conn, NULL, err, sizeof err) < 0) {
        fprintf(stderr, "could not migrate: %s\n", err);
        return -1;
    }
    return 0;
}

static int migrated_teardown(void **state)
{
    PQfinish(conn);
    return test_cluster_stop(state);
}

/* The single integer the query returns; fails the test otherwise. */
static long query_long(const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
        fail_msg("%s: %s", sql, PQerrorMessage(conn));
    long v = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return v;
}

#endif
