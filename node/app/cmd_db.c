/* calcnode db migrate: applies the migrations of sql/ and exits. */
#include <stdio.h>
#include <string.h>

#include "app/commands.h"
#include "app/dbopen.h"
#include "app/options.h"

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
    cn_app_db_close(&db);
    printf("database is up to date\n");
    return 0;
}
