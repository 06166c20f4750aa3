/* node/db/catalogue: the instance catalogue (DESIGN.md sections 4 and 5).
 *
 * Storing an instance is one statement, the SQL function calcnode_store_instance (sql/),
 * so that in one transaction the study is upserted (last_received_at and instance_count
 * bumped only when the instance is new), the series upserted and the instance inserted
 * ON CONFLICT (sop_instance_uid) DO NOTHING. A second arrival of the same SOP Instance UID
 * therefore adds no row and changes no count; its outcome carries the stored instance's
 * sha256 and path so the caller can apply its policy for differing bytes.
 *
 * The async forms run on the loop thread through node/db/async; the _blocking forms take
 * a borrowed PGconn and are for worker threads, tools, CLI commands and tests. Strings in
 * the argument structs are borrowed for the duration of the call (the async forms copy
 * them). An empty string is stored as SQL NULL for optional attributes. */
#ifndef CN_DB_CATALOGUE_H
#define CN_DB_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db/async.h"

#define CN_DB_UID_SIZE 65    /* 64 characters (PS3.5 9.1) + NUL */
#define CN_DB_SHA256_SIZE 65 /* lower-case hex + NUL */
#define CN_DB_PATH_SIZE 4096

/* One received instance. Required: the four UIDs, path, sha256 (64 lower-case hex
 * characters), transfer_syntax_uid, calling_ae, called_ae. Others may be NULL or "". */
struct cn_db_instance {
    const char *sop_class_uid;
    const char *sop_instance_uid;
    const char *study_instance_uid;
    const char *series_instance_uid;
    const char *transfer_syntax_uid;
    /* study level */
    const char *specific_character_set;
    const char *patient_id;
    const char *patient_name;
    const char *patient_birth_date;
    const char *patient_sex;
    const char *study_date;
    const char *study_time;
    const char *accession_number;
    const char *study_description;
    /* series level */
    const char *modality;
    const char *series_number;
    /* instance level */
    const char *instance_number;
    const char *image_laterality;
    const char *view_position;
    uint32_t rows, columns; /* 0: not an image (stored as NULL) */
    const char *path;       /* final name of the fsync'd file */
    int64_t size_bytes;
    const char *sha256;
    const char *calling_ae;
    const char *called_ae;
    int64_t association_id; /* 0: none (stored as NULL) */
};

struct cn_db_store_outcome {
    int is_new; /* 1: a row was inserted; 0: the SOP Instance UID was already stored */
    char stored_sha256[CN_DB_SHA256_SIZE]; /* the catalogued row's (equal to ours if new) */
    char stored_path[CN_DB_PATH_SIZE];
};

/* Completion of cn_db_store_instance: status 0 and outcome filled, or a negative
 * cn_db_error, outcome NULL and error a one-line message. Both borrowed for the call. */
typedef void (*cn_db_store_cb)(int status, const struct cn_db_store_outcome *outcome,
                               const char *error, void *user);

/* Completion of a request that returns an id (id 0 on failure) or nothing (id 0). The
 * functions taking a cn_db_done_cb accept cb NULL when the caller does not need the
 * outcome (the statement still runs; its failure is then not reported). */
typedef void (*cn_db_done_cb)(int status, int64_t id, const char *error, void *user);

/* Statements cn_db_async must prepare for the async forms below: pass them as the
 * options' prepared list (or a list that includes them). */
extern const struct cn_db_prepared cn_db_catalogue_statements[];
extern const size_t cn_db_catalogue_statement_count;

/* Catalogues one instance (loop thread). Returns 0 (cb called exactly once, after the
 * transaction committed or failed) or a negative cn_db_error without calling cb
 * (CN_DB_EINVAL for a missing required field, or cn_db_async_query's errors). */
int cn_db_store_instance(struct cn_db_async *db, const struct cn_db_instance *instance,
                         cn_db_store_cb cb, void *user);

/* The same, blocking. Returns 0 with *outcome filled, or a negative cn_db_error. */
int cn_db_store_instance_blocking(PGconn *conn, const struct cn_db_instance *instance,
                                  struct cn_db_store_outcome *outcome, char *err, size_t err_len);

/* PS3.8 7.1-7.3: how an association ended. */
enum cn_db_association_outcome {
    CN_DB_ASSOCIATION_RELEASED,
    CN_DB_ASSOCIATION_ABORTED,
    CN_DB_ASSOCIATION_REJECTED,
};

/* Records the start of an association; cb receives the new associations.id. peer_address
 * is the remote "ip:port" text. */
int cn_db_association_start(struct cn_db_async *db, const char *calling_ae, const char *called_ae,
                            const char *peer_address, cn_db_done_cb cb, void *user);

/* Records its end: ended_at = now(), outcome, and the number of instances it stored. */
int cn_db_association_end(struct cn_db_async *db, int64_t association_id,
                          enum cn_db_association_outcome outcome, int64_t instances_stored,
                          cn_db_done_cb cb, void *user);

/* Marks instances as received on an aborted association (DESIGN.md section 4: kept and
 * marked). sop_instance_uid NULL marks every instance of the association; cb's id is the
 * number of rows marked. */
int cn_db_mark_aborted(struct cn_db_async *db, int64_t association_id, const char *sop_instance_uid,
                       cn_db_done_cb cb, void *user);

/* Records that sop_instance_uid arrived again with different bytes, kept at path with the
 * given sha256. association_id 0: none. cb's id is the new conflicts.id. */
int cn_db_record_conflict(struct cn_db_async *db, const char *sop_instance_uid, const char *path,
                          const char *sha256, const char *calling_ae, int64_t association_id,
                          cn_db_done_cb cb, void *user);

/* Job and outbound states, as stored (CHECK constraints in sql/). */
enum cn_db_job_state {
    CN_DB_JOB_QUEUED,
    CN_DB_JOB_RUNNING,
    CN_DB_JOB_DONE,
    CN_DB_JOB_FAILED,
    CN_DB_JOB_DEAD,
    CN_DB_JOB_STATE_COUNT
};
enum cn_db_outbound_state {
    CN_DB_OUTBOUND_QUEUED,
    CN_DB_OUTBOUND_SENDING,
    CN_DB_OUTBOUND_SENT,
    CN_DB_OUTBOUND_FAILED,
    CN_DB_OUTBOUND_DEAD,
    CN_DB_OUTBOUND_STATE_COUNT
};

/* The stored text of a state ("queued", ...), NULL when out of range. */
const char *cn_db_job_state_name(enum cn_db_job_state state);
const char *cn_db_outbound_state_name(enum cn_db_outbound_state state);

struct cn_db_counts {
    int64_t studies;
    int64_t series;
    int64_t instances;
    int64_t associations;
    int64_t conflicts;
    int64_t jobs[CN_DB_JOB_STATE_COUNT];
    int64_t outbound[CN_DB_OUTBOUND_STATE_COUNT];
};

/* Fills *counts in one snapshot (for `calcnode status`). Blocking. */
int cn_db_counts_blocking(PGconn *conn, struct cn_db_counts *counts, char *err, size_t err_len);

/* One row of the instance list. Strings are borrowed for the callback's duration. */
struct cn_db_instance_row {
    const char *sop_instance_uid;
    const char *study_instance_uid;
    const char *series_instance_uid;
    const char *path;
    int64_t size_bytes;
    const char *transfer_syntax_uid;
    const char *calling_ae;
    const char *received_at; /* ISO 8601 text, UTC */
    int aborted_association;
};

/* Calls row_cb for every catalogued instance (of one study when study_instance_uid is not
 * NULL), ordered by received_at then sop_instance_uid, streaming rows (single-row mode) so
 * a large catalogue is never held in memory. A non-zero return from row_cb stops the
 * listing and is returned. Returns 0, row_cb's non-zero value, or a negative cn_db_error.
 * Blocking (for `calcnode ls`). */
int cn_db_list_instances_blocking(PGconn *conn, const char *study_instance_uid,
                                  int (*row_cb)(const struct cn_db_instance_row *row, void *user),
                                  void *user, char *err, size_t err_len);

#endif
