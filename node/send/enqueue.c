/* Adding rows to the outbound queue (node/send/sender.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "send/meta.h"
#include "send/sender.h"

/* ON CONFLICT names the partial unique index of sql/002_outbound.sql: an object already
 * pending for the destination is not queued twice. */
static const char ENQUEUE_SQL[] =
    "INSERT INTO outbound (path, sop_class_uid, sop_instance_uid, destination_ae, job_id,"
    "                      max_attempts)"
    " VALUES ($1, $2, $3, $4, $5::bigint, $6::integer)"
    " ON CONFLICT (sop_instance_uid, destination_ae)"
    "   WHERE state IN ('queued', 'sending', 'failed') DO NOTHING"
    " RETURNING id";

#define NUMBER_TEXT_SIZE 24

struct enqueue_request {
    cn_db_done_cb cb;
    void *user;
};

static void on_inserted(const PGresult *res, const char *error, void *user)
{
    struct enqueue_request *req = user;
    if (req->cb != NULL) {
        if (error != NULL)
            req->cb(res != NULL ? CN_DB_EQUERY : CN_DB_ECONNECT, 0, error, req->user);
        else
            req->cb(0, PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : 0, NULL,
                    req->user);
    }
    free(req);
}

static int ae_is_valid(const char *ae)
{
    size_t n = ae != NULL ? strlen(ae) : 0;
    return n >= 1 && n < CN_SCU_AE_SIZE;
}

int cn_send_enqueue(struct cn_db_async *db, const struct cn_send_item *item, cn_db_done_cb cb,
                    void *user)
{
    if (db == NULL || item == NULL || item->path == NULL || item->path[0] == '\0' ||
        item->sop_class_uid == NULL || !cn_send_uid_is_valid(item->sop_class_uid) ||
        item->sop_instance_uid == NULL || !cn_send_uid_is_valid(item->sop_instance_uid) ||
        !ae_is_valid(item->destination_ae) || item->job_id < 0)
        return CN_DB_EINVAL;
    struct enqueue_request *req = malloc(sizeof *req);
    if (req == NULL)
        return CN_DB_ENOMEM;
    req->cb = cb;
    req->user = user;
    char job[NUMBER_TEXT_SIZE], attempts[NUMBER_TEXT_SIZE];
    snprintf(job, sizeof job, "%" PRId64, item->job_id);
    snprintf(attempts, sizeof attempts, "%" PRIu32,
             item->max_attempts != 0 ? item->max_attempts : CN_SEND_DEFAULT_MAX_ATTEMPTS);
    const char *params[6] = {
        item->path,           item->sop_class_uid,           item->sop_instance_uid,
        item->destination_ae, item->job_id > 0 ? job : NULL, attempts};
    int rc = cn_db_async_query(db, ENQUEUE_SQL, 6, params, on_inserted, req);
    if (rc != 0)
        free(req);
    return rc;
}
