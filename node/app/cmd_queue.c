/* calcnode jobs / calcnode outbound: what a PACS administrator needs to see and do with
 * the analysis jobs and the result transfers: list them (the most recent first, or one
 * state), retry a failed or dead one now, cancel one that should not run (it becomes
 * dead with the reason "cancelled by an operator"). Every action is recorded in audit. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/commands.h"
#include "app/dbopen.h"
#include "app/options.h"
#include "db/audit.h"

enum {
    OPT_STATE = CN_OPT_FIRST_COMMAND_SPECIFIC,
    OPT_LIMIT,
};

struct queue_options {
    int json;
    const char *state;
    long limit;
};

/* The table a command works on: its columns for listing and its actions. */
struct queue_table {
    const char *command;
    const char *table;
    const char *list_sql;   /* $1 state or NULL, $2 limit */
    const char *audit_object;
    const char *audit_retry, *audit_cancel; /* the audit actions (db/audit.h) */
};

static const struct queue_table jobs_table = {
    "jobs",
    "jobs",
    "SELECT id, study_instance_uid, state, run_number, attempts, max_attempts, "
    "coalesce(worker, ''), coalesce(reason, ''), coalesce(error, ''), "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "coalesce(results_dir, '') "
    "FROM jobs WHERE ($1::text IS NULL OR state = $1) ORDER BY id DESC LIMIT $2::int",
    "job",
    CN_DB_AUDIT_RETRY_JOB,
    CN_DB_AUDIT_CANCEL_JOB,
};

static const char *const job_columns[] = {
    "id", "study_instance_uid", "state", "run", "attempts", "max_attempts", "worker",
    "reason", "error", "created_at", "next_attempt_at", "results_dir",
};

static const struct queue_table outbound_table = {
    "outbound",
    "outbound",
    "SELECT id, destination_ae, state, sop_instance_uid, attempts, max_attempts, "
    "coalesce(last_status::text, ''), coalesce(last_error, ''), path, "
    "to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "coalesce(to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ''), "
    "coalesce(job_id::text, '') "
    "FROM outbound WHERE ($1::text IS NULL OR state = $1) ORDER BY id DESC LIMIT $2::int",
    "outbound",
    CN_DB_AUDIT_RETRY_OUTBOUND,
    CN_DB_AUDIT_CANCEL_OUTBOUND,
};

static const char *const outbound_columns[] = {
    "id", "destination_ae", "state", "sop_instance_uid", "attempts", "max_attempts",
    "last_status", "last_error", "path", "created_at", "next_attempt_at", "job_id",
};

static int on_queue_option(int code, const char *arg, void *user)
{
    struct queue_options *o = user;
    char *end;
    switch (code) {
    case CN_OPT_JSON:
        o->json = 1;
        return 0;
    case OPT_STATE:
        o->state = arg;
        return 0;
    case OPT_LIMIT:
        o->limit = strtol(arg, &end, 10);
        if (*end || o->limit < 1 || o->limit > 100000) {
            fprintf(stderr, "calcnode: invalid --limit \"%s\"\n", arg);
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

static const struct option queue_extra[] = {
    {"json", no_argument, NULL, CN_OPT_JSON},
    {"state", required_argument, NULL, OPT_STATE},
    {"limit", required_argument, NULL, OPT_LIMIT},
    {NULL, 0, NULL, 0},
};

/* Records an operator's action (PS3.15 A.5.3.11 Security Alert, Use of Restricted
 * Function): refused when the row was not in a state that allows it. A failure to record
 * is reported but does not undo the action. */
static void record_action(PGconn *conn, const char *command, const char *action,
                          const char *object, int done, const char *study_uid)
{
    const char *user = getenv("USER");
    json_t *detail = json_pack("{s:s}", "via", "command line");
    if (study_uid != NULL)
        json_object_set_new(detail, "study_instance_uid", json_string(study_uid));
    char *text = json_dumps(detail, JSON_COMPACT);
    json_decref(detail);
    char err[512];
    if (cn_db_audit_record_blocking(conn, user != NULL ? user : "operator", action, object,
                                    done ? CN_DB_AUDIT_SUCCESS : CN_DB_AUDIT_MINOR_FAILURE, text,
                                    NULL, err, sizeof err) != 0)
        fprintf(stderr, "calcnode %s: %s\n", command, err);
    free(text);
}

static int list(PGconn *conn, const struct queue_table *t, const char *const *columns,
                const struct queue_options *o)
{
    char limit[16];
    snprintf(limit, sizeof limit, "%ld", o->limit);
    const char *params[] = {o->state, limit};
    PGresult *res = PQexecParams(conn, t->list_sql, 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "calcnode %s: %s", t->command, PQerrorMessage(conn));
        PQclear(res);
        return 1;
    }
    int n = PQntuples(res), cols = PQnfields(res);
    for (int i = 0; i < n; i++) {
        if (o->json) {
            json_t *row = json_object();
            for (int c = 0; c < cols; c++)
                json_object_set_new(row, columns[c], json_string(PQgetvalue(res, i, c)));
            json_dumpf(row, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
            fputc('\n', stdout);
            json_decref(row);
        } else {
            /* id, subject, state, ..., error */
            const char *error = PQgetvalue(res, i, t == &jobs_table ? 8 : 7);
            printf("%-6s %-8s %s attempts %s/%s%s%s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 2), PQgetvalue(res, i, 1), PQgetvalue(res, i, 4),
                   PQgetvalue(res, i, 5), error[0] ? " error: " : "", error);
        }
    }
    PQclear(res);
    return 0;
}

/* retry: a failed or dead row is due now with one more attempt allowed;
 * cancel: a queued or failed row becomes dead. Recorded in audit. */
static int act(PGconn *conn, const struct queue_table *t, const char *action, const char *id)
{
    char *end;
    long long value = strtoll(id, &end, 10);
    if (*end || value <= 0) {
        fprintf(stderr, "calcnode %s %s: invalid id \"%s\"\n", t->command, action, id);
        return 2;
    }
    char sql[768];
    if (strcmp(action, "retry") == 0)
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET state = 'queued', next_attempt_at = now(), "
                 "max_attempts = greatest(max_attempts, attempts + 1), updated_at = now() "
                 "WHERE id = $1::bigint AND state IN ('failed', 'dead') RETURNING state",
                 t->table);
    else
        snprintf(sql, sizeof sql,
                 "UPDATE %s SET state = 'dead', %s = 'cancelled by an operator', "
                 "updated_at = now() WHERE id = $1::bigint AND state IN ('queued', 'failed') "
                 "RETURNING state",
                 t->table, t == &jobs_table ? "error" : "last_error");
    const char *params[] = {id};
    PGresult *res = PQexecParams(conn, sql, 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        fprintf(stderr, "calcnode %s %s: %s", t->command, action, PQerrorMessage(conn));
        PQclear(res);
        return 1;
    }
    int changed = PQntuples(res) == 1;
    PQclear(res);
    char object[64];
    snprintf(object, sizeof object, "%s %s", t->audit_object, id);
    record_action(conn, t->command,
                  strcmp(action, "retry") == 0 ? t->audit_retry : t->audit_cancel, object,
                  changed, NULL);
    if (!changed) {
        fprintf(stderr, "calcnode %s %s: %s %s is not in a state that allows it "
                        "(retry: failed or dead; cancel: queued or failed)\n",
                t->command, action, t->audit_object, id);
        return 1;
    }
    printf("%s %s: %s\n", t->audit_object, id, strcmp(action, "retry") == 0 ? "queued" : "cancelled");
    return 0;
}

/* requeue: analyse a study again (a new run; its report supersedes the previous one). */
static int requeue(PGconn *conn, const char *study_uid)
{
    const char *params[] = {study_uid};
    PGresult *res = PQexecParams(conn,
                                 "SELECT calcnode_enqueue_study(study_instance_uid, "
                                 "'requeued by an operator') FROM studies "
                                 "WHERE study_instance_uid = $1",
                                 1, NULL, params, NULL, NULL, 0);
    int ok = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1;
    char job[32] = "";
    if (ok)
        snprintf(job, sizeof job, "%s", PQgetvalue(res, 0, 0));
    else if (PQresultStatus(res) != PGRES_TUPLES_OK)
        fprintf(stderr, "calcnode jobs requeue: %s", PQerrorMessage(conn));
    else
        fprintf(stderr, "calcnode jobs requeue: no study \"%s\"\n", study_uid);
    PQclear(res);
    record_action(conn, "jobs requeue", CN_DB_AUDIT_REQUEUE_STUDY, study_uid, ok, study_uid);
    if (ok)
        printf("study %s queued (job %s)\n", study_uid, job);
    return ok ? 0 : 1;
}

static int run_queue_command(const struct queue_table *t, const char *const *columns, int argc,
                             char **argv)
{
    char usage[768];
    snprintf(usage, sizeof usage,
             "usage: calcnode %s [list] [--state STATE] [--limit N] [--json]\n"
             "       calcnode %s retry ID | cancel ID%s\n"
             "       (with -c FILE, --state-dir DIR or --database-url URL as for serve)\n"
             "Lists %s, most recent first; retry makes a failed or dead one due now;\n"
             "cancel makes a queued or failed one dead.\n",
             t->command, t->command,
             t == &jobs_table ? " | requeue STUDY_UID (analyse again)" : "", t->command);
    struct cn_conf conf;
    struct queue_options o = {.limit = 50};
    int first = 0;
    int rc = cn_options_parse(argc, argv, usage, queue_extra, on_queue_option, &o, &conf, &first);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    const char *action = first < argc ? argv[first] : "list";
    int is_requeue = t == &jobs_table && strcmp(action, "requeue") == 0;
    if (strcmp(action, "list") != 0 && strcmp(action, "retry") != 0 &&
        strcmp(action, "cancel") != 0 && !is_requeue) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(action, "list") != 0 && first + 1 >= argc) {
        fputs(usage, stderr);
        return 2;
    }
    struct cn_app_db db;
    char err[1024];
    if (cn_app_db_open(&db, conf.state_dir, conf.database_url, conf.sql_dir, 1, err,
                       sizeof err) != 0) {
        fprintf(stderr, "calcnode %s: %s\n", t->command, err);
        return 1;
    }
    if (is_requeue)
        rc = requeue(db.conn, argv[first + 1]);
    else if (strcmp(action, "list") == 0)
        rc = list(db.conn, t, columns, &o);
    else
        rc = act(db.conn, t, action, argv[first + 1]);
    cn_app_db_close(&db);
    return rc;
}

int cn_cmd_jobs(int argc, char **argv)
{
    return run_queue_command(&jobs_table, job_columns, argc, argv);
}

int cn_cmd_outbound(int argc, char **argv)
{
    return run_queue_command(&outbound_table, outbound_columns, argc, argv);
}
