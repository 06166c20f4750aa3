/* node/db/audit: audit rows for the events that leave no row of their own (issue 7).
 *
 * Associations accepted and ended, instances catalogued and result objects sent or given
 * up are audited by the triggers of sql/004_audit.sql, in the transaction of the change.
 * What remains is recorded here: an association refused, the node starting and
 * stopping, and the actions of an operator's command. The table's columns and their
 * vocabulary are described in sql/004_audit.sql; node/audit/ turns rows into PS3.15 A.5
 * audit messages.
 *
 * Strings are borrowed for the call (copied before it returns). detail_json is a JSON
 * object text or NULL; it is stored as jsonb, so malformed JSON fails the statement. */
#ifndef CN_DB_AUDIT_H
#define CN_DB_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "db/async.h"
#include "db/catalogue.h"

/* Outcomes: PS3.15 A.5.2 EventOutcomeIndicator 0, 4, 8 and 12 in words. */
#define CN_DB_AUDIT_SUCCESS "success"
#define CN_DB_AUDIT_MINOR_FAILURE "minor failure"
#define CN_DB_AUDIT_SERIOUS_FAILURE "serious failure"
#define CN_DB_AUDIT_MAJOR_FAILURE "major failure"

/* Actions recorded through this interface (the triggers' own are listed in sql/). */
#define CN_DB_AUDIT_ASSOCIATION_REFUSED "association refused"
#define CN_DB_AUDIT_APPLICATION_START "application start"
#define CN_DB_AUDIT_APPLICATION_STOP "application stop"
#define CN_DB_AUDIT_RETRY_JOB "retry job"
#define CN_DB_AUDIT_CANCEL_JOB "cancel job"
#define CN_DB_AUDIT_REQUEUE_STUDY "requeue study"
#define CN_DB_AUDIT_RETRY_OUTBOUND "retry outbound"
#define CN_DB_AUDIT_CANCEL_OUTBOUND "cancel outbound"
#define CN_DB_AUDIT_MIGRATE_DATABASE "migrate database"

/* Bounds on the texts of one row. */
#define CN_DB_AUDIT_ACTOR_MAX_LEN 256
#define CN_DB_AUDIT_ACTION_MAX_LEN 64
#define CN_DB_AUDIT_OBJECT_MAX_LEN 1024
#define CN_DB_AUDIT_DETAIL_MAX_LEN CN_DB_ASYNC_MAX_PARAM_LEN

/* 1 when outcome is one of the four CN_DB_AUDIT_* outcomes, else 0. */
int cn_db_audit_outcome_valid(const char *outcome);

/* Inserts one audit row (loop thread). actor, action and outcome are required (outcome
 * one of the four above); object and detail_json may be NULL. Returns 0 (cb, which may
 * be NULL, is called exactly once with the new audit.id) or a negative cn_db_error and
 * cb is not called: CN_DB_EINVAL for a missing, too long or unknown field, or
 * cn_db_async_query's errors. */
int cn_db_audit_record(struct cn_db_async *db, const char *actor, const char *action,
                       const char *object, const char *outcome, const char *detail_json,
                       cn_db_done_cb cb, void *user);

/* The same on a blocking connection (CLI commands, worker threads, tests). Returns 0 with
 * *id set to the new audit.id (id may be NULL), or a negative cn_db_error with err
 * filled. */
int cn_db_audit_record_blocking(PGconn *conn, const char *actor, const char *action,
                                const char *object, const char *outcome, const char *detail_json,
                                int64_t *id, char *err, size_t err_len);

#endif
