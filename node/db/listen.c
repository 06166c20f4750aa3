#include "db/listen.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define RECONNECT_MIN_MS 200u
#define RECONNECT_MAX_MS 10000u

struct cn_db_listen {
    uv_loop_t *loop;
    char *conninfo;
    char channel[64];
    cn_db_notify_cb cb;
    void *user;
    PGconn *conn;
    uv_poll_t *poll; /* one per connection: a closing handle is never reused */
    uv_timer_t retry;
    uint64_t retry_ms;
    int listening; /* LISTEN sent and acknowledged */
    int stopping;
    int open_handles;
};

static void start_connect(struct cn_db_listen *l);

static void release_if_done(struct cn_db_listen *l)
{
    if (--l->open_handles > 0)
        return;
    free(l->conninfo);
    free(l);
}

static void on_handle_closed(uv_handle_t *handle)
{
    release_if_done(handle->data);
}

static void on_poll_closed(uv_handle_t *handle)
{
    struct cn_db_listen *l = handle->data;
    free(handle);
    release_if_done(l);
}

static void drop_connection(struct cn_db_listen *l)
{
    if (l->poll) {
        uv_poll_stop(l->poll);
        uv_close((uv_handle_t *)l->poll, on_poll_closed);
        l->poll = NULL;
    }
    if (l->conn)
        PQfinish(l->conn);
    l->conn = NULL;
    l->listening = 0;
}

static void on_retry(uv_timer_t *timer)
{
    start_connect(timer->data);
}

static void schedule_retry(struct cn_db_listen *l, const char *why)
{
    /* why may be the connection's own error message: copied before PQfinish frees it */
    char reason[256];
    snprintf(reason, sizeof reason, "%s", why);
    drop_connection(l);
    if (l->stopping)
        return;
    cn_log_debug("LISTEN %s: %s; retrying in %llu ms", l->channel, reason,
                 (unsigned long long)l->retry_ms);
    uv_timer_start(&l->retry, on_retry, l->retry_ms, 0);
    l->retry_ms = l->retry_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : l->retry_ms * 2;
}

static void deliver(struct cn_db_listen *l)
{
    PGnotify *n;
    while ((n = PQnotifies(l->conn)) != NULL) {
        if (strcmp(n->relname, l->channel) == 0)
            l->cb(n->extra, l->user);
        PQfreemem(n);
    }
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    struct cn_db_listen *l = handle->data;
    if (status < 0) {
        schedule_retry(l, uv_strerror(status));
        return;
    }
    if (PQstatus(l->conn) != CONNECTION_OK || !l->listening) {
        /* still connecting: PQconnectPoll says what to wait for next */
        PostgresPollingStatusType st = PQconnectPoll(l->conn);
        if (st == PGRES_POLLING_FAILED) {
            schedule_retry(l, PQerrorMessage(l->conn));
            return;
        }
        if (st == PGRES_POLLING_OK && !l->listening) {
            char sql[96];
            snprintf(sql, sizeof sql, "LISTEN %s", l->channel);
            if (!PQsendQuery(l->conn, sql)) {
                schedule_retry(l, PQerrorMessage(l->conn));
                return;
            }
            l->listening = 1;
            l->retry_ms = RECONNECT_MIN_MS;
            uv_poll_start(l->poll, UV_READABLE, on_poll);
            return;
        }
        uv_poll_start(l->poll, st == PGRES_POLLING_WRITING ? UV_WRITABLE : UV_READABLE,
                      on_poll);
        return;
    }
    (void)events;
    if (!PQconsumeInput(l->conn)) {
        schedule_retry(l, PQerrorMessage(l->conn));
        return;
    }
    while (!PQisBusy(l->conn)) {
        PGresult *res = PQgetResult(l->conn);
        if (!res)
            break;
        PQclear(res); /* the LISTEN's own answer */
    }
    deliver(l);
}

static void start_connect(struct cn_db_listen *l)
{
    if (l->stopping)
        return;
    l->conn = PQconnectStart(l->conninfo);
    if (!l->conn || PQstatus(l->conn) == CONNECTION_BAD || PQsetnonblocking(l->conn, 1) != 0) {
        schedule_retry(l, l->conn ? PQerrorMessage(l->conn) : "out of memory");
        return;
    }
    uv_poll_t *poll = malloc(sizeof *poll);
    if (!poll || uv_poll_init_socket(l->loop, poll, PQsocket(l->conn)) != 0) {
        free(poll);
        schedule_retry(l, "could not watch the connection");
        return;
    }
    poll->data = l;
    l->poll = poll;
    l->open_handles++;
    uv_poll_start(l->poll, UV_WRITABLE, on_poll);
}

int cn_db_listen_start(uv_loop_t *loop, const char *conninfo, const char *channel,
                       cn_db_notify_cb cb, void *user, struct cn_db_listen **out)
{
    if (!conninfo || !channel || !cb || strlen(channel) >= sizeof((struct cn_db_listen *)0)->channel)
        return UV_EINVAL;
    for (const char *p = channel; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
            return UV_EINVAL;
    struct cn_db_listen *l = calloc(1, sizeof *l);
    if (!l || !(l->conninfo = strdup(conninfo))) {
        free(l);
        return UV_ENOMEM;
    }
    l->loop = loop;
    snprintf(l->channel, sizeof l->channel, "%s", channel);
    l->cb = cb;
    l->user = user;
    l->retry_ms = RECONNECT_MIN_MS;
    uv_timer_init(loop, &l->retry);
    l->retry.data = l;
    l->open_handles = 1;
    start_connect(l);
    *out = l;
    return 0;
}

void cn_db_listen_stop(struct cn_db_listen *l)
{
    l->stopping = 1;
    uv_timer_stop(&l->retry);
    drop_connection(l);
    uv_close((uv_handle_t *)&l->retry, on_handle_closed);
}
