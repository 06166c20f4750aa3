/* node/db/catalogue: the instance catalogue (catalogue.h). The statements themselves live
 * here and in sql/001_catalogue.sql (calcnode_store_instance). */
#include "db/catalogue.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/util.h"

#define STORE_PARAM_COUNT 27
#define UID_MAX_LEN 64 /* PS3.5 9.1 */
#define AE_MAX_LEN 16  /* PS3.5 Table 6.2-1, AE value representation */
#define SHA256_HEX_LEN 64
#define INT_TEXT_SIZE 24

#define STORE_SQL                                                                                  \
    "SELECT is_new, stored_sha256, stored_path FROM calcnode_store_instance("                      \
    "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, "            \
    "$19, $20::integer, $21::integer, $22, $23::bigint, $24, $25, $26, $27::bigint)"
#define ASSOCIATION_START_SQL                                                                      \
    "INSERT INTO associations (calling_ae, called_ae, peer_address) "                              \
    "VALUES ($1, $2, nullif($3, '')) RETURNING id"
#define ASSOCIATION_END_SQL                                                                        \
    "UPDATE associations SET ended_at = now(), outcome = $2, "                                     \
    "instances_stored = $3::bigint WHERE id = $1::bigint"
#define MARK_ABORTED_SQL                                                                           \
    "UPDATE instances SET aborted_association = true WHERE association_id = $1::bigint "           \
    "AND ($2::text IS NULL OR sop_instance_uid = $2::text)"
#define RECORD_CONFLICT_SQL                                                                        \
    "INSERT INTO conflicts (sop_instance_uid, path, sha256, calling_ae, association_id) "          \
    "VALUES ($1, $2, $3, nullif($4, ''), $5::bigint) RETURNING id"
#define COUNTS_SQL                                                                                 \
    "SELECT 'studies', NULL, count(*) FROM studies "                                               \
    "UNION ALL SELECT 'series', NULL, count(*) FROM series "                                       \
    "UNION ALL SELECT 'instances', NULL, count(*) FROM instances "                                 \
    "UNION ALL SELECT 'associations', NULL, count(*) FROM associations "                           \
    "UNION ALL SELECT 'conflicts', NULL, count(*) FROM conflicts "                                 \
    "UNION ALL SELECT 'jobs', state, count(*) FROM jobs GROUP BY state "                           \
    "UNION ALL SELECT 'outbound', state, count(*) FROM outbound GROUP BY state"
#define LIST_SQL                                                                                   \
    "SELECT sop_instance_uid, study_instance_uid, series_instance_uid, path, size_bytes, "         \
    "transfer_syntax_uid, calling_ae, "                                                            \
    "to_char(received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "               \
    "aborted_association FROM instances "                                                          \
    "WHERE $1::text IS NULL OR study_instance_uid = $1::text "                                     \
    "ORDER BY received_at, sop_instance_uid"

const struct cn_db_prepared cn_db_catalogue_statements[] = {
    {"cn_store_instance", STORE_SQL, STORE_PARAM_COUNT},
    {"cn_association_start", ASSOCIATION_START_SQL, 3},
    {"cn_association_end", ASSOCIATION_END_SQL, 3},
    {"cn_mark_aborted", MARK_ABORTED_SQL, 2},
    {"cn_record_conflict", RECORD_CONFLICT_SQL, 5},
};
const size_t cn_db_catalogue_statement_count =
    sizeof cn_db_catalogue_statements / sizeof cn_db_catalogue_statements[0];

static const char *const job_state_names[CN_DB_JOB_STATE_COUNT] = {"queued", "running", "done",
                                                                   "failed", "dead"};
static const char *const outbound_state_names[CN_DB_OUTBOUND_STATE_COUNT] = {
    "queued", "sending", "sent", "failed", "dead"};
static const char *const association_outcome_names[] = {"released", "aborted", "rejected"};

const char *cn_db_job_state_name(enum cn_db_job_state state)
{
    return (unsigned)state < CN_DB_JOB_STATE_COUNT ? job_state_names[state] : NULL;
}

const char *cn_db_outbound_state_name(enum cn_db_outbound_state state)
{
    return (unsigned)state < CN_DB_OUTBOUND_STATE_COUNT ? outbound_state_names[state] : NULL;
}

static int valid_text(const char *s, size_t max_len)
{
    return s != NULL && s[0] != '\0' && strnlen(s, max_len + 1) <= max_len;
}

static int valid_sha256(const char *s)
{
    if (s == NULL || strlen(s) != SHA256_HEX_LEN)
        return 0;
    return strspn(s, "0123456789abcdef") == SHA256_HEX_LEN;
}

/* Texts of the store statement's parameters; numbers are formatted into nums. */
struct store_params {
    const char *values[STORE_PARAM_COUNT];
    char rows[INT_TEXT_SIZE], columns[INT_TEXT_SIZE], size[INT_TEXT_SIZE],
        association[INT_TEXT_SIZE];
};

static const char *or_empty(const char *s)
{
    return s != NULL ? s : "";
}

static int build_store_params(const struct cn_db_instance *in, struct store_params *p, char *err,
                              size_t err_len)
{
    if (in == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no instance to catalogue");
    if (!valid_text(in->sop_class_uid, UID_MAX_LEN) ||
        !valid_text(in->sop_instance_uid, UID_MAX_LEN) ||
        !valid_text(in->study_instance_uid, UID_MAX_LEN) ||
        !valid_text(in->series_instance_uid, UID_MAX_LEN) ||
        !valid_text(in->transfer_syntax_uid, UID_MAX_LEN))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len,
                            "instance has a missing or over-long UID (SOP Instance UID "
                            "\"%.64s\")",
                            or_empty(in->sop_instance_uid));
    if (!valid_text(in->path, CN_DB_PATH_SIZE - 1) || in->size_bytes < 0 ||
        !valid_sha256(in->sha256) || !valid_text(in->calling_ae, AE_MAX_LEN) ||
        !valid_text(in->called_ae, AE_MAX_LEN) || in->association_id < 0)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len,
                            "instance \"%s\" lacks a valid path, size, sha256, calling or "
                            "called AE title, or association id",
                            in->sop_instance_uid);
    snprintf(p->rows, sizeof p->rows, "%" PRIu32, in->rows);
    snprintf(p->columns, sizeof p->columns, "%" PRIu32, in->columns);
    snprintf(p->size, sizeof p->size, "%" PRId64, in->size_bytes);
    snprintf(p->association, sizeof p->association, "%" PRId64, in->association_id);
    const char *v[STORE_PARAM_COUNT] = {
        in->sop_class_uid,
        in->sop_instance_uid,
        in->study_instance_uid,
        in->series_instance_uid,
        in->transfer_syntax_uid,
        or_empty(in->specific_character_set),
        or_empty(in->patient_id),
        or_empty(in->patient_name),
        or_empty(in->patient_birth_date),
        or_empty(in->patient_sex),
        or_empty(in->study_date),
        or_empty(in->study_time),
        or_empty(in->accession_number),
        or_empty(in->study_description),
        or_empty(in->modality),
        or_empty(in->series_number),
        or_empty(in->instance_number),
        or_empty(in->image_laterality),
        or_empty(in->view_position),
        in->rows > 0 ? p->rows : NULL,
        in->columns > 0 ? p->columns : NULL,
        in->path,
        p->size,
        in->sha256,
        in->calling_ae,
        in->called_ae,
        in->association_id > 0 ? p->association : NULL,
    };
    memcpy(p->values, v, sizeof v);
    return 0;
}

/* Reads the (is_new, stored_sha256, stored_path) row. */
static int parse_store_result(const PGresult *res, struct cn_db_store_outcome *out, char *err,
                              size_t err_len)
{
    if (PQntuples(res) != 1 || PQnfields(res) != 3)
        return cn_db_errorf(CN_DB_EFORMAT, err, err_len,
                            "calcnode_store_instance returned %d rows of %d columns",
                            PQntuples(res), PQnfields(res));
    memset(out, 0, sizeof *out);
    out->is_new = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
    snprintf(out->stored_sha256, sizeof out->stored_sha256, "%s", PQgetvalue(res, 0, 1));
    snprintf(out->stored_path, sizeof out->stored_path, "%s", PQgetvalue(res, 0, 2));
    return 0;
}

int cn_db_store_instance_blocking(PGconn *conn, const struct cn_db_instance *instance,
                                  struct cn_db_store_outcome *outcome, char *err, size_t err_len)
{
    struct store_params p;
    if (conn == NULL || outcome == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no connection or outcome");
    int rc = build_store_params(instance, &p, err, err_len);
    if (rc != 0)
        return rc;
    PGresult *res = PQexecParams(conn, STORE_SQL, STORE_PARAM_COUNT, NULL, p.values, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char line[CN_DB_ERR_SIZE];
        rc = cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not catalogue instance \"%s\": %s",
                          instance->sop_instance_uid,
                          cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
    } else {
        rc = parse_store_result(res, outcome, err, err_len);
    }
    PQclear(res);
    return rc;
}

/* What an async request's result callback needs to call the caller back. */
struct pending {
    cn_db_store_cb store_cb;
    cn_db_done_cb done_cb;
    void *user;
    int returns_id;  /* 1: the first column of the first row; 0: the affected row count */
    int require_row; /* an UPDATE that matched no row is CN_DB_ENOTFOUND */
};

static void on_store_result(const PGresult *res, const char *error, void *user)
{
    struct pending *p = user;
    char err[CN_DB_ERR_SIZE];
    if (error != NULL) {
        snprintf(err, sizeof err, "could not catalogue instance: %s", error);
        p->store_cb(CN_DB_EQUERY, NULL, err, p->user);
    } else {
        struct cn_db_store_outcome *outcome = malloc(sizeof *outcome);
        if (outcome == NULL)
            p->store_cb(CN_DB_ENOMEM, NULL, "out of memory", p->user);
        else if (parse_store_result(res, outcome, err, sizeof err) != 0)
            p->store_cb(CN_DB_EFORMAT, NULL, err, p->user);
        else
            p->store_cb(0, outcome, NULL, p->user);
        free(outcome);
    }
    free(p);
}

int cn_db_store_instance(struct cn_db_async *db, const struct cn_db_instance *instance,
                         cn_db_store_cb cb, void *user)
{
    struct store_params params;
    if (db == NULL || cb == NULL)
        return CN_DB_EINVAL;
    int rc = build_store_params(instance, &params, NULL, 0);
    if (rc != 0)
        return rc;
    struct pending *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CN_DB_ENOMEM;
    p->store_cb = cb;
    p->user = user;
    rc = cn_db_async_query_prepared(db, "cn_store_instance", STORE_PARAM_COUNT, params.values,
                                    on_store_result, p);
    if (rc != 0)
        free(p);
    return rc;
}

static void on_done_result(const PGresult *res, const char *error, void *user)
{
    struct pending *p = user;
    if (p->done_cb == NULL) { /* the caller chose not to hear the outcome */
        free(p);
        return;
    }
    if (error != NULL) {
        p->done_cb(CN_DB_EQUERY, 0, error, p->user);
    } else if (p->returns_id) {
        if (PQntuples(res) != 1)
            p->done_cb(CN_DB_EFORMAT, 0, "the statement returned no id", p->user);
        else
            p->done_cb(0, strtoll(PQgetvalue(res, 0, 0), NULL, 10), NULL, p->user);
    } else {
        int64_t rows = strtoll(PQcmdTuples((PGresult *)res), NULL, 10);
        if (p->require_row && rows == 0)
            p->done_cb(CN_DB_ENOTFOUND, 0, "no such association", p->user);
        else
            p->done_cb(0, p->require_row ? 0 : rows, NULL, p->user);
    }
    free(p);
}

static int submit(struct cn_db_async *db, const char *statement, int param_count,
                  const char *const *params, int returns_id, int require_row, cn_db_done_cb cb,
                  void *user)
{
    if (db == NULL)
        return CN_DB_EINVAL;
    struct pending *p = calloc(1, sizeof *p);
    if (p == NULL)
        return CN_DB_ENOMEM;
    p->done_cb = cb;
    p->user = user;
    p->returns_id = returns_id;
    p->require_row = require_row;
    int rc = cn_db_async_query_prepared(db, statement, param_count, params, on_done_result, p);
    if (rc != 0)
        free(p);
    return rc;
}

int cn_db_association_start(struct cn_db_async *db, const char *calling_ae, const char *called_ae,
                            const char *peer_address, cn_db_done_cb cb, void *user)
{
    if (calling_ae == NULL || called_ae == NULL)
        return CN_DB_EINVAL;
    const char *params[3] = {calling_ae, called_ae, or_empty(peer_address)};
    return submit(db, "cn_association_start", 3, params, 1, 0, cb, user);
}

int cn_db_association_end(struct cn_db_async *db, int64_t association_id,
                          enum cn_db_association_outcome outcome, int64_t instances_stored,
                          cn_db_done_cb cb, void *user)
{
    if (association_id <= 0 || instances_stored < 0 ||
        (unsigned)outcome >= sizeof association_outcome_names / sizeof association_outcome_names[0])
        return CN_DB_EINVAL;
    char id[INT_TEXT_SIZE], count[INT_TEXT_SIZE];
    snprintf(id, sizeof id, "%" PRId64, association_id);
    snprintf(count, sizeof count, "%" PRId64, instances_stored);
    const char *params[3] = {id, association_outcome_names[outcome], count};
    return submit(db, "cn_association_end", 3, params, 0, 1, cb, user);
}

int cn_db_mark_aborted(struct cn_db_async *db, int64_t association_id, const char *sop_instance_uid,
                       cn_db_done_cb cb, void *user)
{
    if (association_id <= 0)
        return CN_DB_EINVAL;
    char id[INT_TEXT_SIZE];
    snprintf(id, sizeof id, "%" PRId64, association_id);
    const char *params[2] = {id, sop_instance_uid};
    return submit(db, "cn_mark_aborted", 2, params, 0, 0, cb, user);
}

int cn_db_record_conflict(struct cn_db_async *db, const char *sop_instance_uid, const char *path,
                          const char *sha256, const char *calling_ae, int64_t association_id,
                          cn_db_done_cb cb, void *user)
{
    if (!valid_text(sop_instance_uid, UID_MAX_LEN) || !valid_text(path, CN_DB_PATH_SIZE - 1) ||
        !valid_sha256(sha256) || association_id < 0)
        return CN_DB_EINVAL;
    char id[INT_TEXT_SIZE];
    snprintf(id, sizeof id, "%" PRId64, association_id);
    const char *params[5] = {sop_instance_uid, path, sha256, or_empty(calling_ae),
                             association_id > 0 ? id : NULL};
    return submit(db, "cn_record_conflict", 5, params, 1, 0, cb, user);
}

static int state_index(const char *const *names, int count, const char *name)
{
    for (int i = 0; i < count; i++) {
        if (strcmp(names[i], name) == 0)
            return i;
    }
    return -1;
}

int cn_db_counts_blocking(PGconn *conn, struct cn_db_counts *counts, char *err, size_t err_len)
{
    if (conn == NULL || counts == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no connection or counts");
    memset(counts, 0, sizeof *counts);
    PGresult *res = PQexec(conn, COUNTS_SQL);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char line[CN_DB_ERR_SIZE];
        int rc = cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not count the catalogue: %s",
                              cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
        PQclear(res);
        return rc;
    }
    for (int row = 0; row < PQntuples(res); row++) {
        const char *table = PQgetvalue(res, row, 0);
        const char *state = PQgetvalue(res, row, 1);
        int64_t n = strtoll(PQgetvalue(res, row, 2), NULL, 10);
        int i;
        if (strcmp(table, "studies") == 0)
            counts->studies = n;
        else if (strcmp(table, "series") == 0)
            counts->series = n;
        else if (strcmp(table, "instances") == 0)
            counts->instances = n;
        else if (strcmp(table, "associations") == 0)
            counts->associations = n;
        else if (strcmp(table, "conflicts") == 0)
            counts->conflicts = n;
        else if (strcmp(table, "jobs") == 0 &&
                 (i = state_index(job_state_names, CN_DB_JOB_STATE_COUNT, state)) >= 0)
            counts->jobs[i] = n;
        else if (strcmp(table, "outbound") == 0 &&
                 (i = state_index(outbound_state_names, CN_DB_OUTBOUND_STATE_COUNT, state)) >= 0)
            counts->outbound[i] = n;
    }
    PQclear(res);
    return 0;
}

/* Stops a listing early: cancel the statement, then read and discard what remains so the
 * connection is usable again. */
static void cancel_and_drain(PGconn *conn)
{
    PGcancel *cancel = PQgetCancel(conn);
    if (cancel != NULL) {
        char buf[256];
        PQcancel(cancel, buf, sizeof buf);
        PQfreeCancel(cancel);
    }
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL)
        PQclear(res);
}

int cn_db_list_instances_blocking(PGconn *conn, const char *study_instance_uid,
                                  int (*row_cb)(const struct cn_db_instance_row *row, void *user),
                                  void *user, char *err, size_t err_len)
{
    char line[CN_DB_ERR_SIZE];
    if (conn == NULL || row_cb == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no connection or row callback");
    const char *params[1] = {study_instance_uid};
    if (!PQsendQueryParams(conn, LIST_SQL, 1, NULL, params, NULL, NULL, 0) ||
        !PQsetSingleRowMode(conn)) {
        cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not list instances: %s",
                     cn_db_one_line(PQerrorMessage(conn), line, sizeof line));
        cancel_and_drain(conn);
        return CN_DB_EQUERY;
    }
    int rc = 0;
    PGresult *res;
    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);
        if (st == PGRES_SINGLE_TUPLE) {
            struct cn_db_instance_row row = {
                .sop_instance_uid = PQgetvalue(res, 0, 0),
                .study_instance_uid = PQgetvalue(res, 0, 1),
                .series_instance_uid = PQgetvalue(res, 0, 2),
                .path = PQgetvalue(res, 0, 3),
                .size_bytes = strtoll(PQgetvalue(res, 0, 4), NULL, 10),
                .transfer_syntax_uid = PQgetvalue(res, 0, 5),
                .calling_ae = PQgetvalue(res, 0, 6),
                .received_at = PQgetvalue(res, 0, 7),
                .aborted_association = strcmp(PQgetvalue(res, 0, 8), "t") == 0,
            };
            rc = row_cb(&row, user);
            PQclear(res);
            if (rc != 0) {
                cancel_and_drain(conn);
                return rc;
            }
            continue;
        }
        if (st != PGRES_TUPLES_OK && rc == 0)
            rc = cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not list instances: %s",
                              cn_db_one_line(PQresultErrorMessage(res), line, sizeof line));
        PQclear(res);
    }
    return rc;
}
