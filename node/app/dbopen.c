#include "app/dbopen.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db/db.h"
#include "db/embedded.h"
#include "db/migrate.h"

/* The conninfo of a cluster a running calcnode serves from STATE/run: trust over a unix
 * socket in a 0700 directory; the role is the one initdb created (the user that owns the
 * cluster: "postgres" when calcnode runs as root). */
static int running_cluster_conninfo(const char *state_dir, char *buf, size_t len)
{
    char run_dir[PATH_MAX];
    if (!realpath(state_dir, run_dir))
        return -1;
    size_t n = strlen(run_dir);
    if (n + sizeof "/run" > sizeof run_dir)
        return -1;
    memcpy(run_dir + n, "/run", sizeof "/run");
    char socket_path[PATH_MAX + 32];
    snprintf(socket_path, sizeof socket_path, "%s/.s.PGSQL.5432", run_dir);
    struct stat st;
    if (stat(socket_path, &st) != 0)
        return -1;
    snprintf(buf, len, "host=%s dbname=%s%s", run_dir, CN_DB_DATABASE_NAME,
             geteuid() == 0 ? " user=postgres" : "");
    return 0;
}

int cn_app_db_open(struct cn_app_db *db, const char *state_dir, const char *database_url,
                   const char *sql_dir, int migrate, char *err, size_t err_len)
{
    memset(db, 0, sizeof *db);
    if (database_url && database_url[0]) {
        snprintf(db->conninfo, sizeof db->conninfo, "%s", database_url);
    } else if (running_cluster_conninfo(state_dir, db->conninfo, sizeof db->conninfo) == 0 &&
               PQping(db->conninfo) == PQPING_OK) {
        /* a running calcnode serves this state directory: share its cluster */
    } else {
        if (cn_pg_embedded_start(state_dir, &db->embedded, err, err_len) != 0)
            return -1;
        snprintf(db->conninfo, sizeof db->conninfo, "%s", cn_pg_embedded_conninfo(db->embedded));
    }
    db->conn = cn_db_connect_blocking(db->conninfo, err, err_len);
    if (!db->conn) {
        cn_app_db_close(db);
        return -1;
    }
    if (migrate && cn_db_migrate(db->conn, sql_dir && sql_dir[0] ? sql_dir : NULL, err,
                                 err_len) < 0) {
        cn_app_db_close(db);
        return -1;
    }
    return 0;
}

void cn_app_db_close(struct cn_app_db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    if (db->embedded)
        cn_pg_embedded_stop(db->embedded);
    db->embedded = NULL;
}
