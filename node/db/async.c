/* node/db/async: one non-blocking libpq connection on the libuv loop (async.h).
 *
 * States: WAITING (backoff timer before the next connection attempt), CONNECTING
 * (PQconnectPoll driven by the socket, bounded by the timer), PREPARING (the statements
 * of the options, one at a time), READY (user requests, one at a time), CLOSING.
 *
 * The socket is watched readable whenever connected, so a server that goes away while
 * the connection is idle is noticed at once, not at the next request. The uv_poll_t is
 * allocated per socket (libpq may change sockets while connecting, and every reconnect
 * has a new one) and freed in its close callback; the object itself is freed when the
 * last of its handles has closed. */
#include "db/async.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/util.h"

#define DEFAULT_RECONNECT_MIN_MS 100
#define DEFAULT_RECONNECT_MAX_MS 5000
#define DEFAULT_QUEUE_MAX 4096
/* PQconnectPoll ignores connect_timeout; this bounds an attempt instead. */
#define CONNECT_TIMEOUT_MS 10000

enum state { WAITING, CONNECTING, PREPARING, READY, CLOSING };

struct request {
    struct request *next;
    char *text; /* SQL, or the prepared statement's name */
    int prepared;
    int param_count;
    char **params;
    cn_db_result_cb cb;
    void *user;
    char error[CN_DB_ERR_SIZE + 64]; /* a failure waiting to be delivered */
};

struct cn_db_async {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_poll_t *poll; /* NULL when not watching a socket */
    int poll_fd;
    PGconn *conn;
    char *conninfo;
    const struct cn_db_prepared *prepared;
    size_t prepared_count;
    size_t prepare_index; /* PREPARING: the statement in flight */
    enum state state;
    struct request *head, *tail; /* queued, not yet sent */
    size_t queued;               /* queued plus in flight */
    size_t queue_max;
    struct request *inflight; /* READY: the request sent */
    /* Failures detected inside cn_db_async_query (whose caller must not be called back
     * before it returns), delivered from the timer callback, in order. */
    struct request *failed_head, *failed_tail;
    int in_enqueue;
    int busy;         /* a statement (request or prepare) awaits its result */
    int flushing;     /* PQflush has more to write */
    int dispatching;  /* a completion callback runs: do not send meanwhile */
    PGresult *result; /* result kept for the statement in flight */
    uint64_t reconnect_min_ms, reconnect_max_ms, backoff_ms;
    uint64_t connect_count;
    int open_handles; /* handles not yet closed (timer, polls) */
    void (*close_cb)(void *user);
    void *close_user;
};

static void start_connect(struct cn_db_async *db);
static void send_next(struct cn_db_async *db);
static void on_poll(uv_poll_t *handle, int status, int events);

static void free_request(struct request *req)
{
    if (req == NULL)
        return;
    for (int i = 0; i < req->param_count; i++)
        free(req->params[i]);
    free(req->params);
    free(req->text);
    free(req);
}

/* Runs req's callback and frees req. */
static void complete(struct cn_db_async *db, struct request *req, const PGresult *res,
                     const char *error)
{
    db->queued--;
    db->dispatching++;
    req->cb(res, error, req->user);
    db->dispatching--;
    free_request(req);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct cn_db_async *db = handle->data;
    if (handle != (uv_handle_t *)&db->timer)
        free(handle);
    if (--db->open_handles > 0)
        return;
    void (*cb)(void *) = db->close_cb;
    void *user = db->close_user;
    free(db->conninfo);
    free(db);
    if (cb != NULL)
        cb(user);
}

/* Stops watching the current socket (before libpq closes it, as libuv requires). */
static void close_poll(struct cn_db_async *db)
{
    if (db->poll == NULL)
        return;
    uv_close((uv_handle_t *)db->poll, on_handle_closed);
    db->poll = NULL;
}

/* Watches libpq's current socket for events; a changed socket gets a new handle. */
static int watch(struct cn_db_async *db, int events)
{
    int fd = PQsocket(db->conn);
    if (fd < 0)
        return -1;
    if (db->poll != NULL && db->poll_fd != fd)
        close_poll(db);
    if (db->poll == NULL) {
        uv_poll_t *poll = malloc(sizeof *poll);
        if (poll == NULL)
            return -1;
        if (uv_poll_init(db->loop, poll, fd) != 0) {
            free(poll);
            return -1;
        }
        poll->data = db;
        db->open_handles++;
        db->poll = poll;
        db->poll_fd = fd;
    }
    return uv_poll_start(db->poll, events, on_poll) == 0 ? 0 : -1;
}

static void drop_connection(struct cn_db_async *db, const char *reason);

static void deliver_failed(struct cn_db_async *db)
{
    struct request *req;
    while ((req = db->failed_head) != NULL) {
        db->failed_head = req->next;
        if (db->failed_head == NULL)
            db->failed_tail = NULL;
        complete(db, req, NULL, req->error);
    }
}

static void on_timer(uv_timer_t *timer)
{
    struct cn_db_async *db = timer->data;
    deliver_failed(db);
    if (db->state == WAITING)
        start_connect(db);
    else if (db->state == CONNECTING)
        drop_connection(db, "timed out connecting to the database");
}

/* The connection failed or was lost: fail the request in flight (never silently),
 * finish the connection, and retry after the backoff delay. Queued requests stay. */
static void drop_connection(struct cn_db_async *db, const char *reason)
{
    char line[CN_DB_ERR_SIZE], message[CN_DB_ERR_SIZE + 64];
    cn_db_one_line(reason != NULL && reason[0] != '\0'
                       ? reason
                       : (db->conn != NULL ? PQerrorMessage(db->conn) : ""),
                   line, sizeof line);
    snprintf(message, sizeof message, "connection to the database lost: %s",
             line[0] != '\0' ? line : "no reason given");
    close_poll(db);
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    PQclear(db->result);
    db->result = NULL;
    db->busy = 0;
    db->flushing = 0;
    db->state = WAITING;
    uv_timer_start(&db->timer, on_timer, db->backoff_ms, 0);
    db->backoff_ms =
        db->backoff_ms * 2 > db->reconnect_max_ms ? db->reconnect_max_ms : db->backoff_ms * 2;
    struct request *req = db->inflight;
    db->inflight = NULL;
    if (req == NULL)
        return;
    if (!db->in_enqueue) {
        complete(db, req, NULL, message);
        return;
    }
    snprintf(req->error, sizeof req->error, "%s", message);
    req->next = NULL;
    if (db->failed_tail != NULL)
        db->failed_tail->next = req;
    else
        db->failed_head = req;
    db->failed_tail = req;
}

/* Notices would go to stderr by default; the loop thread never writes there. */
static void ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static void start_connect(struct cn_db_async *db)
{
    db->conn = PQconnectStart(db->conninfo);
    if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD ||
        PQsetnonblocking(db->conn, 1) != 0) {
        drop_connection(db, db->conn == NULL ? "out of memory" : NULL);
        return;
    }
    PQsetNoticeProcessor(db->conn, ignore_notice, NULL);
    db->state = CONNECTING;
    uv_timer_start(&db->timer, on_timer, CONNECT_TIMEOUT_MS, 0);
    if (watch(db, UV_WRITABLE) != 0)
        drop_connection(db, "could not watch the database socket");
}

static void connect_step(struct cn_db_async *db)
{
    PostgresPollingStatusType polling = PQconnectPoll(db->conn);
    /* libpq may have closed the socket and opened another, possibly with the same number,
     * which libuv could not tell apart: watch each step's socket with a new handle. */
    close_poll(db);
    switch (polling) {
    case PGRES_POLLING_READING:
        if (watch(db, UV_READABLE) != 0)
            drop_connection(db, "could not watch the database socket");
        return;
    case PGRES_POLLING_WRITING:
        if (watch(db, UV_WRITABLE) != 0)
            drop_connection(db, "could not watch the database socket");
        return;
    case PGRES_POLLING_OK:
        uv_timer_stop(&db->timer);
        db->backoff_ms = db->reconnect_min_ms;
        db->connect_count++;
        db->state = PREPARING;
        db->prepare_index = 0;
        if (watch(db, UV_READABLE) != 0) {
            drop_connection(db, "could not watch the database socket");
            return;
        }
        send_next(db);
        return;
    default:
        drop_connection(db, NULL);
        return;
    }
}

/* Writes what libpq has buffered; keeps watching writable until it is all sent. */
static void flush(struct cn_db_async *db)
{
    int r = PQflush(db->conn);
    if (r < 0) {
        drop_connection(db, NULL);
        return;
    }
    db->flushing = r == 1;
    if (watch(db, db->flushing ? UV_READABLE | UV_WRITABLE : UV_READABLE) != 0)
        drop_connection(db, "could not watch the database socket");
}

/* Sends the next prepare (PREPARING) or queued request (READY) when nothing is in
 * flight. */
static void send_next(struct cn_db_async *db)
{
    if (db->busy || db->dispatching > 0 || db->conn == NULL)
        return;
    if (db->state == PREPARING) {
        if (db->prepare_index < db->prepared_count) {
            const struct cn_db_prepared *p = &db->prepared[db->prepare_index];
            if (!PQsendPrepare(db->conn, p->name, p->sql, p->param_count, NULL)) {
                drop_connection(db, NULL);
                return;
            }
            db->busy = 1;
            flush(db);
            return;
        }
        db->state = READY;
    }
    if (db->state != READY || db->head == NULL)
        return;
    struct request *req = db->head;
    db->head = req->next;
    if (db->head == NULL)
        db->tail = NULL;
    req->next = NULL;
    db->inflight = req;
    const char *const *params = (const char *const *)req->params;
    int sent =
        req->prepared
            ? PQsendQueryPrepared(db->conn, req->text, req->param_count, params, NULL, NULL, 0)
            : PQsendQueryParams(db->conn, req->text, req->param_count, NULL, params, NULL, NULL, 0);
    if (!sent) {
        /* Never sent: it waits for the next connection at the head of the queue. */
        db->inflight = NULL;
        req->next = db->head;
        db->head = req;
        if (db->tail == NULL)
            db->tail = req;
        drop_connection(db, NULL);
        return;
    }
    db->busy = 1;
    flush(db);
}

/* The statement in flight has all its results: hand them over and send the next. */
static void statement_done(struct cn_db_async *db)
{
    PGresult *res = db->result;
    db->result = NULL;
    db->busy = 0;
    if (db->state == PREPARING) {
        /* A statement that fails to prepare is not fatal: requests using it fail with the
         * server's "prepared statement does not exist", naming it. */
        PQclear(res);
        db->prepare_index++;
        send_next(db);
        return;
    }
    struct request *req = db->inflight;
    db->inflight = NULL;
    if (req != NULL) {
        ExecStatusType st = PQresultStatus(res);
        char line[CN_DB_ERR_SIZE];
        if (res == NULL)
            complete(db, req, NULL, "the database returned no result");
        else if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
            complete(db, req, res, NULL);
        else
            complete(db, req, res, cn_db_one_line(PQresultErrorMessage(res), line, sizeof line));
    }
    PQclear(res);
    if (db->state == READY)
        send_next(db);
}

static void read_results(struct cn_db_async *db)
{
    if (!PQconsumeInput(db->conn)) {
        drop_connection(db, NULL);
        return;
    }
    PGnotify *notify;
    while ((notify = PQnotifies(db->conn)) != NULL)
        PQfreemem(notify);
    while (db->busy && !PQisBusy(db->conn)) {
        PGresult *res = PQgetResult(db->conn);
        if (res == NULL) {
            statement_done(db);
            if (db->state == CLOSING || db->state == WAITING)
                return;
            continue;
        }
        /* Keep the first error, else the last result. */
        ExecStatusType st = PQresultStatus(res);
        int is_error = st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK;
        if (db->result == NULL || (is_error && (PQresultStatus(db->result) == PGRES_COMMAND_OK ||
                                                PQresultStatus(db->result) == PGRES_TUPLES_OK))) {
            PQclear(db->result);
            db->result = res;
        } else {
            PQclear(res);
        }
    }
    if (PQstatus(db->conn) == CONNECTION_BAD)
        drop_connection(db, NULL);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    struct cn_db_async *db = handle->data;
    if (handle != db->poll || db->conn == NULL)
        return;
    if (status < 0) {
        drop_connection(db, uv_strerror(status));
        return;
    }
    if (db->state == CONNECTING) {
        connect_step(db);
        return;
    }
    if ((events & UV_WRITABLE) && db->flushing) {
        flush(db);
        if (db->conn == NULL)
            return;
    }
    if (events & UV_READABLE)
        read_results(db);
}

int cn_db_async_init(uv_loop_t *loop, const struct cn_db_async_options *options,
                     struct cn_db_async **out, char *err, size_t err_len)
{
    if (loop == NULL || options == NULL || out == NULL || options->conninfo == NULL ||
        (options->prepared_count > 0 && options->prepared == NULL))
        return cn_db_errorf(CN_DB_EINVAL, err, err_len,
                            "invalid arguments to the async database connection");
    struct cn_db_async *db = calloc(1, sizeof *db);
    if (db == NULL || (db->conninfo = strdup(options->conninfo)) == NULL) {
        free(db);
        return cn_db_errorf(CN_DB_ENOMEM, err, err_len, "out of memory");
    }
    db->loop = loop;
    db->prepared = options->prepared;
    db->prepared_count = options->prepared_count;
    db->reconnect_min_ms =
        options->reconnect_min_ms > 0 ? options->reconnect_min_ms : DEFAULT_RECONNECT_MIN_MS;
    db->reconnect_max_ms =
        options->reconnect_max_ms > 0 ? options->reconnect_max_ms : DEFAULT_RECONNECT_MAX_MS;
    if (db->reconnect_max_ms < db->reconnect_min_ms)
        db->reconnect_max_ms = db->reconnect_min_ms;
    db->backoff_ms = db->reconnect_min_ms;
    db->queue_max = options->queue_max > 0 ? options->queue_max : DEFAULT_QUEUE_MAX;
    uv_timer_init(loop, &db->timer);
    db->timer.data = db;
    db->open_handles = 1;
    start_connect(db);
    *out = db;
    return 0;
}

static int enqueue(struct cn_db_async *db, int prepared, const char *text, int param_count,
                   const char *const *params, cn_db_result_cb cb, void *user)
{
    if (db == NULL || text == NULL || cb == NULL || param_count < 0 ||
        param_count > CN_DB_ASYNC_MAX_PARAMS || (param_count > 0 && params == NULL))
        return CN_DB_EINVAL;
    if (db->state == CLOSING)
        return CN_DB_ECLOSED;
    if (db->queued >= db->queue_max)
        return CN_DB_EBUSY;
    for (int i = 0; i < param_count; i++) {
        if (params[i] != NULL &&
            strnlen(params[i], CN_DB_ASYNC_MAX_PARAM_LEN + 1) > CN_DB_ASYNC_MAX_PARAM_LEN)
            return CN_DB_EINVAL;
    }
    struct request *req = calloc(1, sizeof *req);
    if (req == NULL)
        return CN_DB_ENOMEM;
    req->prepared = prepared;
    req->cb = cb;
    req->user = user;
    req->text = strdup(text);
    req->params = param_count > 0 ? calloc((size_t)param_count, sizeof *req->params) : NULL;
    if (req->text == NULL || (param_count > 0 && req->params == NULL)) {
        free_request(req);
        return CN_DB_ENOMEM;
    }
    req->param_count = param_count;
    for (int i = 0; i < param_count; i++) {
        if (params[i] != NULL && (req->params[i] = strdup(params[i])) == NULL) {
            free_request(req);
            return CN_DB_ENOMEM;
        }
    }
    if (db->tail != NULL)
        db->tail->next = req;
    else
        db->head = req;
    db->tail = req;
    db->queued++;
    db->in_enqueue = 1;
    send_next(db);
    db->in_enqueue = 0;
    return 0;
}

int cn_db_async_query(struct cn_db_async *db, const char *sql, int param_count,
                      const char *const *params, cn_db_result_cb cb, void *user)
{
    return enqueue(db, 0, sql, param_count, params, cb, user);
}

int cn_db_async_query_prepared(struct cn_db_async *db, const char *name, int param_count,
                               const char *const *params, cn_db_result_cb cb, void *user)
{
    return enqueue(db, 1, name, param_count, params, cb, user);
}

int cn_db_async_is_connected(const struct cn_db_async *db)
{
    return db->state == READY;
}

uint64_t cn_db_async_connect_count(const struct cn_db_async *db)
{
    return db->connect_count;
}

void cn_db_async_close(struct cn_db_async *db, void (*close_cb)(void *user), void *user)
{
    if (db == NULL || db->state == CLOSING)
        return;
    db->state = CLOSING;
    db->close_cb = close_cb;
    db->close_user = user;
    uv_timer_stop(&db->timer);
    close_poll(db);
    if (db->conn != NULL)
        PQfinish(db->conn);
    db->conn = NULL;
    PQclear(db->result);
    db->result = NULL;
    const char *message = "database connection closed before the statement ran";
    deliver_failed(db);
    struct request *req = db->inflight;
    db->inflight = NULL;
    if (req != NULL)
        complete(db, req, NULL, "database connection closed while the statement ran");
    while ((req = db->head) != NULL) {
        db->head = req->next;
        if (db->head == NULL)
            db->tail = NULL;
        complete(db, req, NULL, message);
    }
    uv_close((uv_handle_t *)&db->timer, on_handle_closed);
}
