/* node/db/migrate: numbered migrations from sql/ (migrate.h). */
#include "db/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db/db.h"
#include "db/util.h"

#define MAX_MIGRATIONS 1000
#define MAX_VERSION 999999

#define LOCK_SQL "SELECT pg_advisory_xact_lock($1::bigint)"
#define BOOTSTRAP_SQL                                                                              \
    "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, "                     \
    "applied_at timestamptz NOT NULL DEFAULT now())"
#define CURRENT_SQL "SELECT coalesce(max(version), 0) FROM schema_version"
#define RECORD_SQL "INSERT INTO schema_version (version) VALUES ($1::integer)"

struct migration {
    long version;
    char name[NAME_MAX + 1];
};

const char *cn_db_default_sql_dir(void)
{
#ifdef CALCNODE_SOURCE_DIR
    static const char source_sql[] = CALCNODE_SOURCE_DIR "/sql";
    struct stat st;
    if (stat(source_sql, &st) == 0 && S_ISDIR(st.st_mode))
        return source_sql;
#endif
    return CN_DB_SQL_INSTALL_DIR;
}

/* NNN_name.sql: returns the version, 0 when the name is not a migration's (other files
 * such as a README are ignored), or -1 when it looks like one but is malformed. */
static long parse_name(const char *name)
{
    size_t len = strlen(name);
    if (len < 5 || strcmp(name + len - 4, ".sql") != 0)
        return 0;
    size_t digits = strspn(name, "0123456789");
    if (digits == 0 || digits > 6 || name[digits] != '_' || digits + 1 >= len - 4)
        return -1;
    for (size_t i = digits + 1; i < len - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return -1;
    }
    long version = strtol(name, NULL, 10);
    return version > 0 && version <= MAX_VERSION ? version : -1;
}

static int compare_migrations(const void *a, const void *b)
{
    long va = ((const struct migration *)a)->version;
    long vb = ((const struct migration *)b)->version;
    return (va > vb) - (va < vb);
}

static int list_migrations(const char *dir_path, struct migration *list, size_t *count, char *err,
                           size_t err_len)
{
    DIR *dir = opendir(dir_path);
    if (dir == NULL)
        return cn_db_errorf(CN_DB_ENOTFOUND, err, err_len,
                            "could not open migration directory \"%s\": %s", dir_path,
                            strerror(errno));
    size_t n = 0;
    int rc = 0;
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        long version = parse_name(entry->d_name);
        if (version == 0)
            continue;
        if (version < 0) {
            rc = cn_db_errorf(CN_DB_EFORMAT, err, err_len,
                              "migration file name \"%s\" in \"%s\" is not NNN_name.sql",
                              entry->d_name, dir_path);
            break;
        }
        if (n == MAX_MIGRATIONS) {
            rc = cn_db_errorf(CN_DB_EFORMAT, err, err_len, "more than %d migration files in \"%s\"",
                              MAX_MIGRATIONS, dir_path);
            break;
        }
        list[n].version = version;
        snprintf(list[n].name, sizeof list[n].name, "%s", entry->d_name);
        n++;
    }
    closedir(dir);
    if (rc != 0)
        return rc;
    qsort(list, n, sizeof list[0], compare_migrations);
    for (size_t i = 1; i < n; i++) {
        if (list[i].version == list[i - 1].version)
            return cn_db_errorf(CN_DB_EFORMAT, err, err_len,
                                "migration files \"%s\" and \"%s\" in \"%s\" have the same "
                                "version %ld",
                                list[i - 1].name, list[i].name, dir_path, list[i].version);
    }
    *count = n;
    return 0;
}

/* Reads a whole migration file, capped at CN_DB_MIGRATION_MAX_LEN. Returns a new string
 * (free) or NULL with err filled. */
static char *read_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "re");
    if (f == NULL) {
        cn_db_errorf(CN_DB_EFORMAT, err, err_len, "could not open migration \"%s\": %s", path,
                     strerror(errno));
        return NULL;
    }
    char *text = malloc(CN_DB_MIGRATION_MAX_LEN + 1);
    if (text == NULL) {
        fclose(f);
        cn_db_errorf(CN_DB_ENOMEM, err, err_len, "out of memory reading \"%s\"", path);
        return NULL;
    }
    size_t n = fread(text, 1, CN_DB_MIGRATION_MAX_LEN + 1, f);
    int failed = ferror(f);
    fclose(f);
    if (failed || n > CN_DB_MIGRATION_MAX_LEN || memchr(text, '\0', n) != NULL) {
        cn_db_errorf(CN_DB_EFORMAT, err, err_len,
                     failed ? "could not read migration \"%s\""
                            : "migration \"%s\" is larger than %d bytes or contains NUL",
                     path, CN_DB_MIGRATION_MAX_LEN);
        free(text);
        return NULL;
    }
    text[n] = '\0';
    return text;
}

/* Runs sql expecting success; on failure rolls back and fills err naming what. */
static int exec_step(PGconn *conn, const char *sql, int param_count, const char *const *params,
                     const char *what, PGresult **result, char *err, size_t err_len)
{
    char line[CN_DB_ERR_SIZE];
    PGresult *res = param_count > 0
                        ? PQexecParams(conn, sql, param_count, NULL, params, NULL, NULL, 0)
                        : PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        if (result != NULL)
            *result = res;
        else
            PQclear(res);
        return 0;
    }
    cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not %s: %s", what,
                 cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
    PQclear(res);
    PQclear(PQexec(conn, "ROLLBACK"));
    return CN_DB_EQUERY;
}

/* BEGIN and take the migration lock. */
static int begin_locked(PGconn *conn, char *err, size_t err_len)
{
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)CN_DB_MIGRATE_LOCK_KEY);
    const char *params[1] = {key};
    int rc = exec_step(conn, "BEGIN", 0, NULL, "begin a migration transaction", NULL, err, err_len);
    if (rc == 0)
        rc = exec_step(conn, LOCK_SQL, 1, params, "take the migration lock", NULL, err, err_len);
    /* "already exists, skipping" notices are expected, not news to the operator. */
    if (rc == 0)
        rc = exec_step(conn, "SET LOCAL client_min_messages = warning", 0, NULL,
                       "set client_min_messages", NULL, err, err_len);
    return rc;
}

static int current_version(PGconn *conn, long *version, char *err, size_t err_len)
{
    PGresult *res;
    int rc = exec_step(conn, CURRENT_SQL, 0, NULL, "read schema_version", &res, err, err_len);
    if (rc != 0)
        return rc;
    *version = strtol(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

/* Applies m in one transaction when it is still above the current version (another
 * process may have applied it while we waited for the lock). Returns 1 applied, 0 not
 * needed, negative on error. */
static int apply_one(PGconn *conn, const char *dir, const struct migration *m, char *err,
                     size_t err_len)
{
    char path[PATH_MAX + NAME_MAX + 2];
    snprintf(path, sizeof path, "%s/%s", dir, m->name);
    int rc = begin_locked(conn, err, err_len);
    if (rc != 0)
        return rc;
    long current;
    if ((rc = current_version(conn, &current, err, err_len)) != 0)
        return rc;
    if (m->version <= current) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return 0;
    }
    char *sql = read_file(path, err, err_len);
    if (sql == NULL) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return CN_DB_EFORMAT;
    }
    char what[NAME_MAX + 32], version_text[32];
    snprintf(what, sizeof what, "apply migration \"%s\"", m->name);
    snprintf(version_text, sizeof version_text, "%ld", m->version);
    const char *params[1] = {version_text};
    rc = exec_step(conn, sql, 0, NULL, what, NULL, err, err_len);
    free(sql);
    if (rc == 0)
        rc =
            exec_step(conn, RECORD_SQL, 1, params, "record the schema version", NULL, err, err_len);
    if (rc == 0)
        rc = exec_step(conn, "COMMIT", 0, NULL, what, NULL, err, err_len);
    return rc == 0 ? 1 : rc;
}

int cn_db_migrate(PGconn *conn, const char *sql_dir, char *err, size_t err_len)
{
    if (conn == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no database connection");
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len,
                            "cannot migrate on a connection that is inside a transaction");
    const char *dir = sql_dir != NULL ? sql_dir : cn_db_default_sql_dir();
    struct migration *list = calloc(MAX_MIGRATIONS, sizeof *list);
    if (list == NULL)
        return cn_db_errorf(CN_DB_ENOMEM, err, err_len, "out of memory");
    size_t count = 0;
    int rc = list_migrations(dir, list, &count, err, err_len);
    /* schema_version itself, created under the lock so that concurrent first starts do
     * not race on CREATE TABLE IF NOT EXISTS (which is not safe against itself). */
    if (rc == 0 && (rc = begin_locked(conn, err, err_len)) == 0 &&
        (rc = exec_step(conn, BOOTSTRAP_SQL, 0, NULL, "create table schema_version", NULL, err,
                        err_len)) == 0)
        rc = exec_step(conn, "COMMIT", 0, NULL, "create table schema_version", NULL, err, err_len);
    int applied = 0;
    long current = 0;
    if (rc == 0)
        rc = current_version(conn, &current, err, err_len);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        if (list[i].version <= current)
            continue;
        int r = apply_one(conn, dir, &list[i], err, err_len);
        if (r < 0)
            rc = r;
        else
            applied += r;
    }
    free(list);
    return rc == 0 ? applied : rc;
}
