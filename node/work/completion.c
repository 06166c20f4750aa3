#include "work/completion.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/async.h"
#include "util/log.h"

#define UID_SIZE 65
#define AE_SIZE 17

struct waiting_study {
    struct waiting_study *next;
    struct cn_completion *owner;
    uv_timer_t timer;
    char study_uid[UID_SIZE];
    char calling_ae[AE_SIZE];
};

struct cn_completion {
    uv_loop_t *loop;
    struct cn_db_async *db;
    cn_quiet_period_fn quiet;
    void *quiet_user;
    struct waiting_study *waiting;
    unsigned waiting_count;
    unsigned closing_handles;
    int pending_queries; /* callbacks still to come: c must live until they ran */
    int stopping;
    void (*stop_done)(void *user);
    void *stop_user;
};

struct note_request {
    struct cn_completion *c;
    char study_uid[UID_SIZE];
    char calling_ae[AE_SIZE];
};

static void maybe_finish_stop(struct cn_completion *c)
{
    if (!c->stopping || c->closing_handles || c->pending_queries || c->waiting)
        return;
    void (*done)(void *) = c->stop_done;
    void *user = c->stop_user;
    free(c);
    if (done)
        done(user);
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct waiting_study *w = handle->data;
    struct cn_completion *c = w->owner;
    free(w);
    c->closing_handles--;
    maybe_finish_stop(c);
}

static void forget(struct cn_completion *c, struct waiting_study *w)
{
    struct waiting_study **link = &c->waiting;
    while (*link && *link != w)
        link = &(*link)->next;
    if (*link)
        *link = w->next;
    c->waiting_count--;
    c->closing_handles++;
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}

static struct waiting_study *find(struct cn_completion *c, const char *study_uid)
{
    for (struct waiting_study *w = c->waiting; w; w = w->next)
        if (strcmp(w->study_uid, study_uid) == 0)
            return w;
    return NULL;
}

static void on_enqueued(const PGresult *res, const char *error, void *user)
{
    struct note_request *req = user;
    struct cn_completion *c = req->c;
    c->pending_queries--;
    if (error)
        cn_log_error("could not queue study %s for analysis: %s (it is queued again at the "
                     "next start)",
                     req->study_uid, error);
    else
        cn_log_info("study %s queued for analysis (job %s): no instance for the quiet period",
                    req->study_uid, PQntuples(res) ? PQgetvalue(res, 0, 0) : "?");
    free(req);
    maybe_finish_stop(c);
}

static void enqueue(struct cn_completion *c, const char *study_uid)
{
    struct note_request *req = calloc(1, sizeof *req);
    if (!req) {
        cn_log_error("out of memory queueing study %s", study_uid);
        return;
    }
    req->c = c;
    snprintf(req->study_uid, sizeof req->study_uid, "%s", study_uid);
    const char *params[] = {study_uid};
    if (cn_db_async_query(c->db, "SELECT calcnode_enqueue_study($1, 'quiet period')", 1, params,
                          on_enqueued, req) != 0) {
        cn_log_error("could not queue study %s: database queue unavailable", study_uid);
        free(req);
        return;
    }
    c->pending_queries++;
}

static void on_quiet_period_over(uv_timer_t *timer)
{
    struct waiting_study *w = timer->data;
    struct cn_completion *c = w->owner;
    enqueue(c, w->study_uid);
    forget(c, w);
}

static void arm(struct cn_completion *c, const char *study_uid, const char *calling_ae,
                uint64_t delay_ms)
{
    struct waiting_study *w = find(c, study_uid);
    if (!w) {
        w = calloc(1, sizeof *w);
        if (!w) {
            cn_log_error("out of memory: study %s is queued at the next start", study_uid);
            return;
        }
        w->owner = c;
        snprintf(w->study_uid, sizeof w->study_uid, "%s", study_uid);
        snprintf(w->calling_ae, sizeof w->calling_ae, "%s", calling_ae);
        uv_timer_init(c->loop, &w->timer);
        w->timer.data = w;
        w->next = c->waiting;
        c->waiting = w;
        c->waiting_count++;
    }
    uv_timer_start(&w->timer, on_quiet_period_over, delay_ms, 0);
}

static void on_noted(const PGresult *res, const char *error, void *user)
{
    struct note_request *req = user;
    struct cn_completion *c = req->c;
    c->pending_queries--;
    if (error) {
        cn_log_error("could not check completion of study %s: %s", req->study_uid, error);
    } else if (!c->stopping && PQntuples(res) == 1) {
        const char *verdict = PQgetvalue(res, 0, 0);
        if (strcmp(verdict, "complete") == 0 || strcmp(verdict, "joined") == 0) {
            struct waiting_study *w = find(c, req->study_uid);
            if (w)
                forget(c, w);
            if (verdict[0] == 'c')
                cn_log_info("study %s queued for analysis: all four views present",
                            req->study_uid);
            else
                cn_log_debug("study %s: the new image joins the waiting run", req->study_uid);
        } else if (strcmp(verdict, "wait") == 0) {
            arm(c, req->study_uid, req->calling_ae, c->quiet(c->quiet_user, req->calling_ae));
        }
    }
    free(req);
    maybe_finish_stop(c);
}

void cn_completion_note(struct cn_completion *c, const char *study_instance_uid,
                        const char *calling_ae, const char *sop_class_uid, uint32_t rows)
{
    if (c->stopping)
        return;
    struct note_request *req = calloc(1, sizeof *req);
    if (!req)
        return;
    req->c = c;
    snprintf(req->study_uid, sizeof req->study_uid, "%s", study_instance_uid);
    snprintf(req->calling_ae, sizeof req->calling_ae, "%s", calling_ae);
    char rows_text[16];
    snprintf(rows_text, sizeof rows_text, "%u", rows);
    const char *params[] = {study_instance_uid, sop_class_uid, rows_text};
    if (cn_db_async_query(c->db, "SELECT calcnode_note_instance($1, $2, $3::integer)", 3, params,
                          on_noted, req) != 0) {
        free(req);
        return;
    }
    c->pending_queries++;
}

static void on_recovered(const PGresult *res, const char *error, void *user)
{
    struct cn_completion *c = user;
    c->pending_queries--;
    if (error) {
        cn_log_error("could not find the studies still receiving: %s", error);
    } else if (!c->stopping) {
        int n = PQntuples(res);
        for (int i = 0; i < n; i++) {
            const char *study = PQgetvalue(res, i, 0);
            const char *ae = PQgetvalue(res, i, 1);
            uint64_t elapsed_ms = strtoull(PQgetvalue(res, i, 2), NULL, 10);
            uint32_t quiet = c->quiet(c->quiet_user, ae);
            arm(c, study, ae, elapsed_ms >= quiet ? 0 : quiet - elapsed_ms);
        }
        if (n > 0)
            cn_log_info("%d studies were still receiving: completion timers armed again", n);
    }
    maybe_finish_stop(c);
}

int cn_completion_start(uv_loop_t *loop, struct cn_db_async *db, cn_quiet_period_fn quiet,
                        void *quiet_user, struct cn_completion **out)
{
    struct cn_completion *c = calloc(1, sizeof *c);
    if (!c)
        return UV_ENOMEM;
    c->loop = loop;
    c->db = db;
    c->quiet = quiet;
    c->quiet_user = quiet_user;
    static const char recover_sql[] =
        "SELECT s.study_instance_uid, coalesce(s.calling_ae, ''), "
        "       greatest(0, extract(epoch FROM now() - s.last_received_at) * 1000)::bigint "
        "  FROM studies s "
        " WHERE s.state = 'receiving' "
        "   AND EXISTS (SELECT 1 FROM instances i "
        "                WHERE i.study_instance_uid = s.study_instance_uid "
        "                  AND calcnode_is_analysable(i.sop_class_uid, i.rows))";
    if (cn_db_async_query(db, recover_sql, 0, NULL, on_recovered, c) == 0)
        c->pending_queries++;
    *out = c;
    return 0;
}

unsigned cn_completion_waiting(const struct cn_completion *c)
{
    return c->waiting_count;
}

void cn_completion_stop(struct cn_completion *c, void (*done)(void *user), void *user)
{
    c->stopping = 1;
    c->stop_done = done;
    c->stop_user = user;
    while (c->waiting)
        forget(c, c->waiting);
    maybe_finish_stop(c);
}
