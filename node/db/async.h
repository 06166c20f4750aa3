/* node/db/async: one non-blocking libpq connection driven by the libuv loop
 * (DESIGN.md section 3: nothing blocks the loop thread).
 *
 * The connection is opened with PQconnectStart/PQconnectPoll and driven by a uv_poll_t on
 * PQsocket. Requests (a SQL text or a prepared statement name, with text parameters)
 * wait in a FIFO queue; one is in flight at a time, sent with PQsendQueryParams or
 * PQsendQueryPrepared and flushed with PQflush while the socket is writable; its result
 * is read on readable with PQconsumeInput/PQisBusy/PQgetResult. Callbacks therefore run
 * in the order the requests were queued.
 *
 * Failures are never silent: a request in flight when the connection drops completes
 * with an error, and the connection is reopened with exponential backoff; requests still
 * queued are sent once it is back (they wait, bounded by queue_max). The prepared
 * statements given at init are prepared again after every (re)connect, before any
 * queued request is sent.
 *
 * Callbacks run from the loop (never from inside cn_db_async_query or _query_prepared),
 * or from inside cn_db_async_close.
 *
 * Threading: every function, and every callback, runs on the thread of the loop given to
 * cn_db_async_init. */
#ifndef CN_DB_ASYNC_H
#define CN_DB_ASYNC_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <uv.h>

struct cn_db_async;

/* Completion of one request. On success error is NULL and res is the statement's result
 * (PGRES_COMMAND_OK or PGRES_TUPLES_OK). On failure error is a one-line message and res
 * is the server's error result when the server answered (PQresultErrorField gives the
 * SQLSTATE), or NULL when the statement never reached the server or the connection was
 * lost. res is borrowed: it is cleared when the callback returns. The callback may queue
 * further requests and may call cn_db_async_close. */
typedef void (*cn_db_result_cb)(const PGresult *res, const char *error, void *user);

/* A statement prepared on every (re)connect; param_count text parameters, types left to
 * the server to infer. */
struct cn_db_prepared {
    const char *name;
    const char *sql;
    int param_count;
};

/* Bounds on the parameters of one request. */
#define CN_DB_ASYNC_MAX_PARAMS 64
#define CN_DB_ASYNC_MAX_PARAM_LEN (64 * 1024)

struct cn_db_async_options {
    const char *conninfo;                  /* copied */
    const struct cn_db_prepared *prepared; /* borrowed: must outlive the connection */
    size_t prepared_count;
    uint64_t reconnect_min_ms; /* first retry delay; 0: 100 ms */
    uint64_t reconnect_max_ms; /* backoff cap; 0: 5000 ms */
    size_t queue_max;          /* requests waiting or in flight; 0: 4096 */
};

/* Creates the connection object and starts connecting. Returns 0 and a new object in
 * *out (freed by cn_db_async_close), or a negative cn_db_error with err filled
 * (CN_DB_EINVAL, CN_DB_ENOMEM). A server that cannot be reached is not an error here:
 * the object keeps retrying and requests wait. */
int cn_db_async_init(uv_loop_t *loop, const struct cn_db_async_options *options,
                     struct cn_db_async **out, char *err, size_t err_len);

/* Queues a SQL statement (exactly one; use $1.. for parameters). params: param_count
 * NUL-terminated texts, an element NULL for SQL NULL; every string is copied. Returns 0
 * (cb will be called exactly once) or a negative cn_db_error and cb is not called:
 * CN_DB_EINVAL, CN_DB_ENOMEM, CN_DB_EBUSY (queue full), CN_DB_ECLOSED (closing). */
int cn_db_async_query(struct cn_db_async *db, const char *sql, int param_count,
                      const char *const *params, cn_db_result_cb cb, void *user);

/* Same, running a statement prepared through the options (by name). */
int cn_db_async_query_prepared(struct cn_db_async *db, const char *name, int param_count,
                               const char *const *params, cn_db_result_cb cb, void *user);

/* 1 when the connection is up and its statements prepared, else 0. */
int cn_db_async_is_connected(const struct cn_db_async *db);

/* How many times the connection has been established (1 after the first connect). */
uint64_t cn_db_async_connect_count(const struct cn_db_async *db);

/* Closes: every queued or in-flight request completes with an error (CN_DB_ECLOSED's
 * message), in order, before this returns; the connection is finished; the poll and timer
 * handles are closed, and when their close callbacks have run the object is freed and
 * close_cb (may be NULL) is called with user. Later calls on db are invalid. */
void cn_db_async_close(struct cn_db_async *db, void (*close_cb)(void *user), void *user);

#endif
