/* calcnode status: counts of what the catalogue holds, for a PACS administrator.
 * calcnode ls: the stored instances, one JSON object per line with --json. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "app/dbopen.h"
#include "app/options.h"
#include "db/catalogue.h"

static const char status_usage[] =
    "usage: calcnode status [-c FILE] [--state-dir DIR | --database-url URL] [--json]\n"
    "Prints the number of instances, studies, jobs and outbound transfers by state.\n";

static const char ls_usage[] =
    "usage: calcnode ls [-c FILE] [--state-dir DIR | --database-url URL] [--study UID] "
    "[--json]\n"
    "Lists stored instances (of one study with --study), oldest first.\n";

struct listing_options {
    int json;
    const char *study_uid;
};

static int on_listing_option(int code, const char *arg, void *user)
{
    struct listing_options *o = user;
    if (code == CN_OPT_JSON) {
        o->json = 1;
        return 0;
    }
    if (code == CN_OPT_STUDY) {
        o->study_uid = arg;
        return 0;
    }
    return -1;
}

static const struct option listing_extra[] = {
    {"json", no_argument, NULL, CN_OPT_JSON},
    {"study", required_argument, NULL, CN_OPT_STUDY},
    {NULL, 0, NULL, 0},
};

static json_t *counts_by_state(const int64_t *counts, int count,
                               const char *(*name_of)(int state))
{
    json_t *obj = json_object();
    for (int i = 0; i < count; i++)
        json_object_set_new(obj, name_of(i), json_integer(counts[i]));
    return obj;
}

/* A single count from sql; -1 when it failed. */
static int64_t count_of(PGconn *conn, const char *sql)
{
    PGresult *res = PQexec(conn, sql);
    int64_t n = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
        n = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* Every worker that ever registered, most recently seen first. */
static json_t *workers_json(PGconn *conn)
{
    PGresult *res = PQexec(conn, "SELECT id, host, jobs_done, jobs_failed, "
                                 "to_char(last_seen AT TIME ZONE 'UTC', "
                                 "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), coalesce(current_job, 0) "
                                 "FROM workers ORDER BY last_seen DESC, id");
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        PQclear(res);
        return NULL;
    }
    json_t *list = json_array();
    for (int i = 0; i < PQntuples(res); i++) {
        json_t *w = json_object();
        json_object_set_new(w, "id", json_string(PQgetvalue(res, i, 0)));
        json_object_set_new(w, "host", json_string(PQgetvalue(res, i, 1)));
        json_object_set_new(w, "jobs_done", json_integer(strtoll(PQgetvalue(res, i, 2), NULL, 10)));
        json_object_set_new(w, "jobs_failed",
                            json_integer(strtoll(PQgetvalue(res, i, 3), NULL, 10)));
        json_object_set_new(w, "last_seen", json_string(PQgetvalue(res, i, 4)));
        int64_t job = strtoll(PQgetvalue(res, i, 5), NULL, 10);
        json_object_set_new(w, "current_job", job ? json_integer(job) : json_null());
        json_array_append_new(list, w);
    }
    PQclear(res);
    return list;
}

static const char *job_state_name(int state)
{
    return cn_db_job_state_name((enum cn_db_job_state)state);
}

static const char *outbound_state_name(int state)
{
    return cn_db_outbound_state_name((enum cn_db_outbound_state)state);
}

int cn_cmd_status(int argc, char **argv)
{
    struct cn_conf conf;
    struct listing_options o = {0};
    int rc = cn_options_parse(argc, argv, status_usage, listing_extra, on_listing_option, &o,
                              &conf, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    struct cn_app_db db;
    char err[1024];
    if (cn_app_db_open(&db, conf.state_dir, conf.database_url, conf.sql_dir, 1, err,
                       sizeof err) != 0) {
        fprintf(stderr, "calcnode status: %s\n", err);
        return 1;
    }
    struct cn_db_counts counts;
    rc = cn_db_counts_blocking(db.conn, &counts, err, sizeof err);
    json_t *workers = rc == 0 ? workers_json(db.conn) : NULL;
    int64_t retried = rc == 0 ? count_of(db.conn, "SELECT count(*) FROM jobs WHERE retried > 0") : 0;
    int64_t waiting = rc == 0 ? count_of(db.conn, "SELECT count(*) FROM studies "
                                                  "WHERE state = 'receiving'") : 0;
    cn_app_db_close(&db);
    if (rc != 0 || !workers) {
        fprintf(stderr, "calcnode status: %s\n", rc != 0 ? err : "could not list the workers");
        json_decref(workers);
        return 1;
    }
    json_t *root = json_object();
    json_object_set_new(root, "instances", json_integer(counts.instances));
    json_object_set_new(root, "studies", json_integer(counts.studies));
    json_object_set_new(root, "series", json_integer(counts.series));
    json_object_set_new(root, "associations", json_integer(counts.associations));
    json_object_set_new(root, "conflicts", json_integer(counts.conflicts));
    json_t *jobs = counts_by_state(counts.jobs, CN_DB_JOB_STATE_COUNT, job_state_name);
    json_object_set_new(jobs, "retried", json_integer(retried));
    json_object_set_new(root, "jobs", jobs);
    json_object_set_new(root, "studies_receiving", json_integer(waiting));
    json_object_set_new(root, "outbound", counts_by_state(counts.outbound,
                                                          CN_DB_OUTBOUND_STATE_COUNT,
                                                          outbound_state_name));
    json_object_set_new(root, "workers", workers);
    if (o.json) {
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
    } else {
        printf("instances %lld\nstudies   %lld\nseries    %lld\nconflicts %lld\n",
               (long long)counts.instances, (long long)counts.studies,
               (long long)counts.series, (long long)counts.conflicts);
        printf("jobs     ");
        for (int i = 0; i < CN_DB_JOB_STATE_COUNT; i++)
            printf(" %s %lld", job_state_name(i), (long long)counts.jobs[i]);
        printf(" retried %lld", (long long)retried);
        printf("\noutbound ");
        for (int i = 0; i < CN_DB_OUTBOUND_STATE_COUNT; i++)
            printf(" %s %lld", outbound_state_name(i), (long long)counts.outbound[i]);
        printf("\nworkers   %zu\n", json_array_size(workers));
        size_t i;
        json_t *w;
        json_array_foreach(workers, i, w)
        {
            printf("  %s jobs done %lld, last seen %s\n",
                   json_string_value(json_object_get(w, "id")),
                   (long long)json_integer_value(json_object_get(w, "jobs_done")),
                   json_string_value(json_object_get(w, "last_seen")));
        }
    }
    json_decref(root);
    return 0;
}

static int print_instance(const struct cn_db_instance_row *row, void *user)
{
    const struct listing_options *o = user;
    if (!o->json) {
        printf("%s %s %lld %s %s\n", row->study_instance_uid, row->sop_instance_uid,
               (long long)row->size_bytes, row->transfer_syntax_uid, row->path);
        return 0;
    }
    json_t *obj = json_object();
    json_object_set_new(obj, "sop_instance_uid", json_string(row->sop_instance_uid));
    json_object_set_new(obj, "study_instance_uid", json_string(row->study_instance_uid));
    json_object_set_new(obj, "series_instance_uid", json_string(row->series_instance_uid));
    json_object_set_new(obj, "path", json_string(row->path));
    json_object_set_new(obj, "size", json_integer(row->size_bytes));
    json_object_set_new(obj, "transfer_syntax", json_string(row->transfer_syntax_uid));
    json_object_set_new(obj, "calling_ae", json_string(row->calling_ae));
    json_object_set_new(obj, "received_at", json_string(row->received_at));
    json_object_set_new(obj, "aborted_association", json_boolean(row->aborted_association));
    json_dumpf(obj, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
    fputc('\n', stdout);
    json_decref(obj);
    return 0;
}

int cn_cmd_ls(int argc, char **argv)
{
    struct cn_conf conf;
    struct listing_options o = {0};
    int rc = cn_options_parse(argc, argv, ls_usage, listing_extra, on_listing_option, &o, &conf,
                              NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    struct cn_app_db db;
    char err[1024];
    if (cn_app_db_open(&db, conf.state_dir, conf.database_url, conf.sql_dir, 1, err,
                       sizeof err) != 0) {
        fprintf(stderr, "calcnode ls: %s\n", err);
        return 1;
    }
    rc = cn_db_list_instances_blocking(db.conn, o.study_uid, print_instance, &o, err,
                                       sizeof err);
    cn_app_db_close(&db);
    if (rc != 0) {
        fprintf(stderr, "calcnode ls: %s\n", err);
        return 1;
    }
    return 0;
}
