#include "http/query.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/log.h"

static const char METRICS_SQL[] =
    "SELECT 'job', state, count(*)::float8 FROM jobs GROUP BY state"
    " UNION ALL SELECT 'outbound', state, count(*)::float8 FROM outbound GROUP BY state"
    " UNION ALL SELECT 'oldest', '', coalesce(extract(epoch FROM now() - min(created_at)), 0)"
    "   ::float8 FROM jobs WHERE state = 'queued'"
    " UNION ALL SELECT 'studies', '', count(*)::float8 FROM studies"
    " UNION ALL SELECT 'instances', '', count(*)::float8 FROM instances"
    " UNION ALL SELECT 'analysis_images', le::text, images::float8 FROM analysis_time"
    " UNION ALL SELECT 'analysis_seconds', le::text, seconds FROM analysis_time";

/* One row per study: the latest job, the most suspicious cluster of the latest finished
 * run, the result objects by state with the latest error of one not sent, and the
 * analysable images. $1: one study ('' for all), $2: how many. */
static const char STUDIES_SQL[] =
    "SELECT s.study_instance_uid, s.patient_name, s.patient_id, s.study_date, s.calling_ae,"
    "       s.state, s.instance_count, j.state, j.error, r.category,"
    "       to_char(r.score, 'FM0.000'), o.sent, o.pending, o.dead, o.last_error,"
    "       (SELECT string_agg(i.sop_instance_uid, ' ' ORDER BY i.received_at)"
    "          FROM instances i WHERE i.study_instance_uid = s.study_instance_uid"
    "           AND calcnode_is_analysable(i.sop_class_uid, i.rows))"
    "  FROM studies s"
    "  LEFT JOIN LATERAL (SELECT state, error FROM jobs"
    "                      WHERE study_instance_uid = s.study_instance_uid"
    "                      ORDER BY id DESC LIMIT 1) j ON true"
    "  LEFT JOIN LATERAL (SELECT category, score FROM results"
    "                      WHERE job_id = (SELECT max(id) FROM jobs"
    "                                       WHERE study_instance_uid = s.study_instance_uid"
    "                                         AND state = 'done')"
    "                        AND cluster_index IS NOT NULL"
    "                      ORDER BY score DESC NULLS LAST LIMIT 1) r ON true"
    "  LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE ob.state = 'sent') AS sent,"
    "                            count(*) FILTER (WHERE ob.state IN ('queued', 'sending',"
    "                                                                'failed')) AS pending,"
    "                            count(*) FILTER (WHERE ob.state = 'dead') AS dead,"
    "                            (array_agg(ob.last_error ORDER BY ob.updated_at DESC)"
    "                               FILTER (WHERE ob.state <> 'sent'"
    "                                         AND ob.last_error IS NOT NULL))[1] AS last_error"
    "                       FROM outbound ob JOIN jobs oj ON oj.id = ob.job_id"
    "                      WHERE oj.study_instance_uid = s.study_instance_uid) o ON true"
    " WHERE $1 = '' OR s.study_instance_uid = $1"
    " ORDER BY s.last_received_at DESC LIMIT $2::int";

static const char INSTANCE_SQL[] =
    "SELECT i.path, (SELECT results_dir FROM jobs j"
    "                 WHERE j.study_instance_uid = i.study_instance_uid AND j.state = 'done'"
    "                   AND j.results_dir IS NOT NULL ORDER BY j.id DESC LIMIT 1)"
    "  FROM instances i WHERE i.sop_instance_uid = $1";

int cn_http_db_init(struct cn_http_db *db, const char *conninfo)
{
    db->conn = NULL;
    db->conninfo = strdup(conninfo);
    return db->conninfo ? 0 : -1;
}

void cn_http_db_close(struct cn_http_db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    free(db->conninfo);
    db->conninfo = NULL;
}

static void one_line(char *text)
{
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = (p[1] == '\0') ? '\0' : ' ';
}

static void drop(struct cn_http_db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
}

static int connect_db(struct cn_http_db *db, char *err, size_t err_len)
{
    if (db->conn && PQstatus(db->conn) == CONNECTION_OK)
        return 0;
    drop(db);
    char options[64];
    snprintf(options, sizeof options, "-c statement_timeout=%d", CN_HTTP_QUERY_TIMEOUT_MS);
    /* dbname is expanded: a URL or key=value string, with our settings added */
    const char *const keys[] = {"dbname", "connect_timeout", "options", "application_name", NULL};
    const char *const values[] = {db->conninfo, CN_HTTP_CONNECT_TIMEOUT_S, options, "calcnode-http",
                                  NULL};
    db->conn = PQconnectdbParams(keys, values, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        snprintf(err, err_len, "could not connect to the database: %s",
                 db->conn ? PQerrorMessage(db->conn) : "out of memory");
        one_line(err);
        drop(db);
        return -1;
    }
    return 0;
}

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Drops the connection of a query that overran (its state is unknown). No PQcancel: it
 * opens a blocking connection of its own that ignores connect_timeout, which would stall
 * this thread when the server is unreachable; the server's statement_timeout ends the
 * query on its side. */
static void abandon(struct cn_http_db *db)
{
    drop(db);
}

PGresult *cn_http_db_exec(struct cn_http_db *db, const char *sql, int n_params,
                          const char *const *params, char *err, size_t err_len)
{
    if (connect_db(db, err, err_len) != 0)
        return NULL;
    if (!PQsendQueryParams(db->conn, sql, n_params, NULL, params, NULL, NULL, 0)) {
        snprintf(err, err_len, "could not send a query: %s", PQerrorMessage(db->conn));
        one_line(err);
        drop(db);
        return NULL;
    }
    long long deadline = now_ms() + CN_HTTP_QUERY_TIMEOUT_MS;
    while (PQisBusy(db->conn)) {
        long long left = deadline - now_ms();
        struct pollfd pfd = {.fd = PQsocket(db->conn), .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            snprintf(err, err_len, "the database did not answer within %d ms",
                     CN_HTTP_QUERY_TIMEOUT_MS);
            abandon(db);
            return NULL;
        }
        if (!PQconsumeInput(db->conn)) {
            snprintf(err, err_len, "lost the database connection: %s", PQerrorMessage(db->conn));
            one_line(err);
            drop(db);
            return NULL;
        }
    }
    PGresult *res = PQgetResult(db->conn), *extra;
    while ((extra = PQgetResult(db->conn)) != NULL)
        PQclear(extra);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        snprintf(err, err_len, "query failed: %s",
                 res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
        one_line(err);
        PQclear(res);
        if (PQstatus(db->conn) != CONNECTION_OK)
            drop(db);
        return NULL;
    }
    return res;
}

static int state_index(const char *const *states, const char *state)
{
    for (int i = 0; i < CN_METRICS_STATE_COUNT; i++)
        if (strcmp(states[i], state) == 0)
            return i;
    return -1;
}

void cn_http_db_metrics(struct cn_http_db *db, struct cn_metrics_db *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    cn_analysis_time_clear(&out->analysis_time);
    PGresult *res = cn_http_db_exec(db, METRICS_SQL, 0, NULL, err, err_len);
    if (!res)
        return;
    for (int r = 0; r < PQntuples(res); r++) {
        const char *kind = PQgetvalue(res, r, 0), *state = PQgetvalue(res, r, 1);
        double value = strtod(PQgetvalue(res, r, 2), NULL);
        uint64_t count = value > 0 ? (uint64_t)value : 0;
        int i;
        if (strcmp(kind, "job") == 0 && (i = state_index(cn_metrics_job_states, state)) >= 0)
            out->jobs[i] = count;
        else if (strcmp(kind, "outbound") == 0 &&
                 (i = state_index(cn_metrics_outbound_states, state)) >= 0)
            out->outbound[i] = count;
        else if (strcmp(kind, "oldest") == 0)
            out->oldest_queued_job_age_s = value > 0 ? value : 0;
        else if (strcmp(kind, "studies") == 0)
            out->studies = count;
        else if (strcmp(kind, "instances") == 0)
            out->instances = count;
        /* one bucket's row (its bound in state): its images, then its time apart */
        else if (strcmp(kind, "analysis_images") == 0)
            cn_analysis_time_add_row(&out->analysis_time, strtod(state, NULL), count, 0.0);
        else if (strcmp(kind, "analysis_seconds") == 0)
            cn_analysis_time_add_row(&out->analysis_time, strtod(state, NULL), 0, value);
    }
    PQclear(res);
    out->up = 1;
}

static const char *value_or_null(const PGresult *res, int row, int column)
{
    return PQgetisnull(res, row, column) ? NULL : PQgetvalue(res, row, column);
}

PGresult *cn_http_db_studies(struct cn_http_db *db, const char *study_uid,
                             struct cn_status_study *rows, size_t max_rows, size_t *count,
                             char *err, size_t err_len)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", max_rows);
    const char *params[] = {study_uid ? study_uid : "", limit};
    *count = 0;
    PGresult *res = cn_http_db_exec(db, STUDIES_SQL, 2, params, err, err_len);
    if (!res)
        return NULL;
    for (int r = 0; r < PQntuples(res) && *count < max_rows; r++) {
        struct cn_status_study *s = &rows[(*count)++];
        int c = 0;
        s->study_uid = value_or_null(res, r, c++);
        s->patient_name = value_or_null(res, r, c++);
        s->patient_id = value_or_null(res, r, c++);
        s->study_date = value_or_null(res, r, c++);
        s->calling_ae = value_or_null(res, r, c++);
        s->study_state = value_or_null(res, r, c++);
        s->instance_count = value_or_null(res, r, c++);
        s->job_state = value_or_null(res, r, c++);
        s->job_error = value_or_null(res, r, c++);
        s->category = value_or_null(res, r, c++);
        s->score = value_or_null(res, r, c++);
        s->sent = value_or_null(res, r, c++);
        s->pending = value_or_null(res, r, c++);
        s->dead = value_or_null(res, r, c++);
        s->last_error = value_or_null(res, r, c++);
        s->images = value_or_null(res, r, c++);
    }
    return res;
}

int cn_http_db_instance(struct cn_http_db *db, const char *uid, char *path, size_t path_len,
                        char *results_dir, size_t results_dir_len, char *err, size_t err_len)
{
    const char *params[] = {uid};
    PGresult *res = cn_http_db_exec(db, INSTANCE_SQL, 1, params, err, err_len);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(path, path_len, "%s", PQgetvalue(res, 0, 0));
        snprintf(results_dir, results_dir_len, "%s",
                 PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    return found;
}
