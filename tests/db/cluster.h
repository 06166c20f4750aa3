/* tests/db: a real embedded cluster in a fresh temporary state directory, shared by the
 * tests of one executable (started in the group setup, stopped in the group teardown).
 * Header-only so that each test executable stays one source file. Needs _XOPEN_SOURCE
 * 700 (nftw) defined before the first include. */
#ifndef CN_TESTS_DB_CLUSTER_H
#define CN_TESTS_DB_CLUSTER_H

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/embedded.h"

#define TEST_SKIP 77

struct test_cluster {
    char state_dir[64];
    struct cn_pg_embedded *pg;
};

static struct test_cluster test_cluster;

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* 1 when PostgreSQL server binaries are installed; the tests skip otherwise. */
static int test_cluster_available(void)
{
    const char *env = getenv("CALCNODE_PG_BINDIR");
    if (env != NULL && env[0] != '\0')
        return 1;
    return access("/usr/lib/postgresql", X_OK) == 0 ||
           system("pg_config --bindir >/dev/null 2>&1") == 0;
}

static int test_cluster_start(void **state)
{
    (void)state;
    char err[CN_DB_ERR_SIZE];
    snprintf(test_cluster.state_dir, sizeof test_cluster.state_dir, "/tmp/cn-db-XXXXXX");
    if (mkdtemp(test_cluster.state_dir) == NULL || chmod(test_cluster.state_dir, 0755) != 0) {
        fprintf(stderr, "could not create a temporary state directory\n");
        return -1;
    }
    if (cn_pg_embedded_start(test_cluster.state_dir, &test_cluster.pg, err, sizeof err) != 0) {
        fprintf(stderr, "could not start the embedded cluster: %s\n", err);
        return -1;
    }
    return 0;
}

static int test_cluster_stop(void **state)
{
    (void)state;
    int rc = 0;
    if (test_cluster.pg != NULL) {
        pid_t pid = cn_pg_embedded_pid(test_cluster.pg);
        rc = cn_pg_embedded_stop(test_cluster.pg);
        test_cluster.pg = NULL;
        if (kill(pid, 0) == 0) {
            fprintf(stderr, "postgres pid %ld still runs after stop\n", (long)pid);
            rc = -1;
        }
    }
    nftw(test_cluster.state_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

/* A new blocking connection to database dbname of the shared cluster (NULL: calcnode). */
static PGconn *test_cluster_connect(const char *dbname)
{
    char conninfo[1024], err[CN_DB_ERR_SIZE];
    snprintf(conninfo, sizeof conninfo, "%s%s%s", cn_pg_embedded_conninfo(test_cluster.pg),
             dbname != NULL ? " dbname=" : "", dbname != NULL ? dbname : "");
    PGconn *conn = cn_db_connect_blocking(conninfo, err, sizeof err);
    if (conn == NULL)
        fprintf(stderr, "%s\n", err);
    return conn;
}

#endif
