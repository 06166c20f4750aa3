/* node/db/audit: audit rows for events without a row of their own (audit.h). */
#include "db/audit.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/util.h"

#define RECORD_SQL                                                                                 \
    "INSERT INTO audit (actor, action, object, outcome, detail) "                                  \
    "VALUES ($1, $2, $3, $4, $5::jsonb) RETURNING id"
#define RECORD_PARAM_COUNT 5

static const char *const outcomes[] = {CN_DB_AUDIT_SUCCESS, CN_DB_AUDIT_MINOR_FAILURE,
                                       CN_DB_AUDIT_SERIOUS_FAILURE, CN_DB_AUDIT_MAJOR_FAILURE};

int cn_db_audit_outcome_valid(const char *outcome)
{
    if (outcome == NULL)
        return 0;
    for (size_t i = 0; i < sizeof outcomes / sizeof outcomes[0]; i++)
        if (strcmp(outcome, outcomes[i]) == 0)
            return 1;
    return 0;
}

static int text_ok(const char *text, size_t max_len, int required)
{
    if (text == NULL)
        return !required;
    size_t len = strnlen(text, max_len + 1);
    return len <= max_len && (len > 0 || !required);
}

static int check_fields(const char *actor, const char *action, const char *object,
                        const char *outcome, const char *detail_json, char *err, size_t err_len)
{
    if (!text_ok(actor, CN_DB_AUDIT_ACTOR_MAX_LEN, 1))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "audit actor missing or too long");
    if (!text_ok(action, CN_DB_AUDIT_ACTION_MAX_LEN, 1))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "audit action missing or too long");
    if (!text_ok(object, CN_DB_AUDIT_OBJECT_MAX_LEN, 0))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "audit object too long");
    if (!text_ok(detail_json, CN_DB_AUDIT_DETAIL_MAX_LEN, 0))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "audit detail too long");
    if (!cn_db_audit_outcome_valid(outcome))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len,
                            "audit outcome \"%s\" is not one of "
                            "success, minor failure, serious failure, major failure",
                            outcome != NULL ? outcome : "");
    return 0;
}

struct pending {
    cn_db_done_cb cb;
    void *user;
};

static void on_recorded(const PGresult *res, const char *error, void *user)
{
    struct pending *p = user;
    if (p->cb != NULL) {
        if (error != NULL)
            p->cb(CN_DB_EQUERY, 0, error, p->user);
        else if (PQntuples(res) != 1)
            p->cb(CN_DB_EFORMAT, 0, "the audit insert returned no id", p->user);
        else
            p->cb(0, strtoll(PQgetvalue(res, 0, 0), NULL, 10), NULL, p->user);
    }
    free(p);
}

int cn_db_audit_record(struct cn_db_async *db, const char *actor, const char *action,
                       const char *object, const char *outcome, const char *detail_json,
                       cn_db_done_cb cb, void *user)
{
    if (db == NULL)
        return CN_DB_EINVAL;
    int rc = check_fields(actor, action, object, outcome, detail_json, NULL, 0);
    if (rc != 0)
        return rc;
    struct pending *p = malloc(sizeof *p);
    if (p == NULL)
        return CN_DB_ENOMEM;
    p->cb = cb;
    p->user = user;
    const char *params[RECORD_PARAM_COUNT] = {actor, action, object, outcome, detail_json};
    rc = cn_db_async_query(db, RECORD_SQL, RECORD_PARAM_COUNT, params, on_recorded, p);
    if (rc != 0)
        free(p);
    return rc;
}

int cn_db_audit_record_blocking(PGconn *conn, const char *actor, const char *action,
                                const char *object, const char *outcome, const char *detail_json,
                                int64_t *id, char *err, size_t err_len)
{
    if (conn == NULL)
        return cn_db_errorf(CN_DB_EINVAL, err, err_len, "no database connection");
    int rc = check_fields(actor, action, object, outcome, detail_json, err, err_len);
    if (rc != 0)
        return rc;
    const char *params[RECORD_PARAM_COUNT] = {actor, action, object, outcome, detail_json};
    PGresult *res = PQexecParams(conn, RECORD_SQL, RECORD_PARAM_COUNT, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        char line[CN_DB_ERR_SIZE];
        cn_db_one_line(PQerrorMessage(conn), line, sizeof line);
        PQclear(res);
        return cn_db_errorf(CN_DB_EQUERY, err, err_len, "could not record audit event \"%s\": %s",
                            action, line);
    }
    if (id != NULL)
        *id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}
