/* calcnode db migrate: applies the migrations of sql/ and exits. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "app/dbopen.h"
#include "app/options.h"
#include "db/audit.h"

static const char db_usage[] =
    "usage: calcnode db migrate [-c FILE] [--state-dir DIR | --database-url URL] "
    "[--sql-dir DIR]\n"
    "Applies the numbered migrations of sql/ that the database does not have yet.\n";

int cn_cmd_db(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "migrate") != 0) {
        fputs(db_usage, stderr);
        return 2;
    }
    struct cn_conf conf;
    int rc = cn_options_parse(argc - 1, argv + 1, db_usage, NULL, NULL, NULL, &conf, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    struct cn_app_db db;
    char err[1024];
    if (cn_app_db_open(&db, conf.state_dir, conf.database_url, conf.sql_dir, 1, err,
                       sizeof err) != 0) {
        fprintf(stderr, "calcnode db migrate: %s\n", err);
        return 1;
    }
    /* PS3.15 A.5.3.11 Security Alert, Software Configuration: an operator's migration */
    PGresult *res = PQexec(db.conn, "SELECT coalesce(max(version), 0) FROM schema_version");
    char object[64] = "schema version unknown";
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        snprintf(object, sizeof object, "schema version %s", PQgetvalue(res, 0, 0));
    PQclear(res);
    const char *user = getenv("USER");
    if (cn_db_audit_record_blocking(db.conn, user != NULL ? user : "operator",
                                    CN_DB_AUDIT_MIGRATE_DATABASE, object, CN_DB_AUDIT_SUCCESS,
                                    "{\"via\": \"command line\"}", NULL, err, sizeof err) != 0)
        fprintf(stderr, "calcnode db migrate: %s\n", err);
    cn_app_db_close(&db);
    printf("database is up to date (%s)\n", object);
    return 0;
}
