/* node/http: the HTTP thread's own blocking PostgreSQL connection and the queries of the
 * pages. Every query is bounded: it is sent asynchronously and waited for at most
 * CN_HTTP_QUERY_TIMEOUT_MS (then cancelled and the connection dropped), and the server
 * side has the same statement_timeout; a lost connection is opened again by the next
 * query (connect_timeout bounds that). HTTP thread only. */
#ifndef CN_HTTP_QUERY_H
#define CN_HTTP_QUERY_H

#include <libpq-fe.h>
#include <stddef.h>

#include "http/metrics.h"
#include "http/pages.h"

#define CN_HTTP_QUERY_TIMEOUT_MS 3000
#define CN_HTTP_CONNECT_TIMEOUT_S "3"
/* Studies on the status page, and those among them whose images are shown. */
#define CN_HTTP_STATUS_STUDIES 50
#define CN_HTTP_STATUS_STUDIES_WITH_IMAGES 10

struct cn_http_db {
    char *conninfo; /* owned */
    PGconn *conn;   /* NULL until the first query or after a failure */
};

/* Copies conninfo; connects lazily. Returns 0 or -1 (out of memory). */
int cn_http_db_init(struct cn_http_db *db, const char *conninfo);
void cn_http_db_close(struct cn_http_db *db);

/* Runs sql with text params. Returns a result with PGRES_TUPLES_OK or PGRES_COMMAND_OK
 * (free with PQclear), or NULL with err filled (connection, timeout or query error). */
PGresult *cn_http_db_exec(struct cn_http_db *db, const char *sql, int n_params,
                          const char *const *params, char *err, size_t err_len);

/* Fills *out with the database gauges; out->up is 0 when that failed (err filled). */
void cn_http_db_metrics(struct cn_http_db *db, struct cn_metrics_db *out, char *err,
                        size_t err_len);

/* The studies for the status page, newest first (study_uid NULL; at most max_rows), or
 * the one study. Returns the result backing the rows' strings (PQclear it after using
 * them) and fills rows[max_rows] and *count, or NULL with err filled. */
PGresult *cn_http_db_studies(struct cn_http_db *db, const char *study_uid,
                             struct cn_status_study *rows, size_t max_rows, size_t *count,
                             char *err, size_t err_len);

/* The stored file of an instance and the results folder of its study's latest finished
 * analysis. Returns 1 (found: path and results_dir filled, results_dir "" when never
 * analysed), 0 (no such instance), -1 (database error, err filled). uid must already be
 * a valid UID. */
int cn_http_db_instance(struct cn_http_db *db, const char *uid, char *path, size_t path_len,
                        char *results_dir, size_t results_dir_len, char *err, size_t err_len);

#endif
