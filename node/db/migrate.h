/* node/db/migrate: applies the numbered migrations of sql/ (DESIGN.md section 2).
 *
 * A migration is a file NNN_name.sql (NNN: one or more decimal digits, the version; name:
 * letters, digits, '_' and '-'). The files must not contain BEGIN/COMMIT: each one runs
 * in its own transaction together with the insert of its schema_version row, under
 * pg_advisory_xact_lock(CN_DB_MIGRATE_LOCK_KEY), so that two processes starting at once
 * apply each version exactly once (the second waits, then sees the version present).
 * Blocking: main thread, CLI commands (`calcnode db migrate`), never the loop thread. */
#ifndef CN_DB_MIGRATE_H
#define CN_DB_MIGRATE_H

#include <stddef.h>

#include <libpq-fe.h>

/* The advisory lock key every migrator takes ("calcnode" in ASCII as a bigint). */
#define CN_DB_MIGRATE_LOCK_KEY 0x63616c636e6f6465LL

/* Largest migration file read, in bytes. */
#define CN_DB_MIGRATION_MAX_LEN (1024 * 1024)

/* Where migrations are installed when the source tree is not present. */
#define CN_DB_SQL_INSTALL_DIR "/usr/share/calcnode/sql"

/* The default sql directory: the source tree's sql/ when it exists (development, tests),
 * else CN_DB_SQL_INSTALL_DIR. Returns a static string. */
const char *cn_db_default_sql_dir(void);

/* Applies, in increasing version order, every migration in sql_dir (NULL: the default)
 * whose version is above the highest version in schema_version (which this function
 * creates when missing). conn: borrowed, an open connection not inside a transaction.
 * Returns the number of migrations applied (0 when the schema was up to date) or a
 * negative cn_db_error with err filled: CN_DB_EINVAL (conn NULL or inside a transaction),
 * CN_DB_ENOTFOUND (no such directory), CN_DB_EFORMAT
 * (a badly named, duplicate-numbered, oversized or unreadable file), CN_DB_EQUERY (the
 * server rejected a migration; it was rolled back and later ones were not tried). */
int cn_db_migrate(PGconn *conn, const char *sql_dir, char *err, size_t err_len);

#endif
