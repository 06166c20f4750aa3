/* Opening calcnode's database from the main thread of a command.
 *
 * With a database URL, that server. Without one, the embedded cluster of the state
 * directory: when a calcnode is already running on it, its unix socket in STATE/run is
 * used; otherwise the cluster is started for the duration of the command (and stopped by
 * cn_app_db_close). Blocking: main thread only, before or after the loop runs. */
#ifndef CN_APP_DBOPEN_H
#define CN_APP_DBOPEN_H

#include <libpq-fe.h>
#include <stddef.h>

struct cn_pg_embedded;

struct cn_app_db {
    PGconn *conn;                    /* blocking connection, owned */
    struct cn_pg_embedded *embedded; /* the cluster we started, or NULL */
    char conninfo[4352];             /* what conn was opened with */
};

/* Opens the database; with migrate set, applies sql_dir's migrations first.
 * Returns 0, or -1 with err filled. */
int cn_app_db_open(struct cn_app_db *db, const char *state_dir, const char *database_url,
                   const char *sql_dir, int migrate, char *err, size_t err_len);

/* Closes the connection, then stops the cluster if this process started it. */
void cn_app_db_close(struct cn_app_db *db);

#endif
