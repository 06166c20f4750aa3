/* The outbound queue's pass: claim one destination's due rows, send them on one
 * association, record each outcome, then claim again or sleep. One pass at a time. */
#include "send/sender.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db/db.h"
#include "net/tls.h"
#include "util/log.h"

#define DEFAULT_CALLING_AE "CALCNODE"
#define NUMBER_TEXT_SIZE 24

/* Claim: the destination of the earliest due row, then up to $1 of its due rows that no
 * other sender holds (SKIP LOCKED), leased for $2 ms. */
static const char CLAIM_SQL[] =
    "WITH dest AS ("
    "  SELECT destination_ae FROM outbound"
    "   WHERE (state IN ('queued', 'failed') AND next_attempt_at <= now())"
    "      OR (state = 'sending' AND lease_until < now())"
    "   ORDER BY next_attempt_at, id LIMIT 1),"
    " picked AS ("
    "  SELECT o.id FROM outbound o JOIN dest USING (destination_ae)"
    "   WHERE (o.state IN ('queued', 'failed') AND o.next_attempt_at <= now())"
    "      OR (o.state = 'sending' AND o.lease_until < now())"
    "   ORDER BY o.next_attempt_at, o.id LIMIT $1::integer"
    "   FOR UPDATE OF o SKIP LOCKED)"
    " UPDATE outbound o SET state = 'sending', attempts = o.attempts + 1,"
    "       lease_until = now() + $2::double precision * interval '1 millisecond',"
    "       updated_at = now()"
    "  FROM picked WHERE o.id = picked.id"
    " RETURNING o.id, o.path, o.sop_instance_uid, o.destination_ae, o.attempts,"
    "           o.max_attempts";

/* Milliseconds until the earliest due row or expiring lease (NULL: none). */
static const char NEXT_DUE_SQL[] =
    "SELECT ceil(extract(epoch FROM min(t) - now()) * 1000)::bigint FROM ("
    "  SELECT min(next_attempt_at) AS t FROM outbound WHERE state IN ('queued', 'failed')"
    "  UNION ALL"
    "  SELECT min(lease_until) FROM outbound WHERE state = 'sending') s";

/* One row's outcome: $2 state, $3 last_status (NULL: no response), $4 last_error (NULL:
 * none), $5 retry delay in ms (NULL: keep next_attempt_at). */
static const char UPDATE_SQL[] =
    "UPDATE outbound SET state = $2, last_status = $3::integer, last_error = $4,"
    "       next_attempt_at = CASE WHEN $5::double precision IS NULL THEN next_attempt_at"
    "           ELSE now() + $5::double precision * interval '1 millisecond' END,"
    "       lease_until = NULL, updated_at = now()"
    " WHERE id = $1::bigint AND state = 'sending'";

enum phase { PHASE_IDLE, PHASE_CLAIMING, PHASE_SENDING, PHASE_UPDATING, PHASE_PLANNING };

struct row {
    int64_t id;
    char *path;
    char sop_instance_uid[CN_SEND_UID_MAX_LEN + 1];
    uint32_t attempts, max_attempts;
};

struct cn_sender {
    uv_loop_t *loop;
    struct cn_db_async *db;
    struct cn_sender_config config;
    struct cn_send_peer *peers;
    struct cn_tls_context *tls; /* for peers with tls set; NULL when none has */
    char calling_ae[CN_SCU_AE_SIZE];
    uv_timer_t timer;
    enum phase phase;
    int wake_pending;
    int stopping;
    void (*stop_done)(void *user);
    void *stop_user;
    int queries_pending; /* every request in flight (the sender lives until they end) */
    int updates_pending; /* the current pass's row updates */
    uint64_t rng;
    /* the pass */
    struct row rows[CN_SCU_MAX_FILES];
    const char *paths[CN_SCU_MAX_FILES];
    size_t row_count;
    struct cn_scu *scu;
    struct cn_sender_pass pass;
    struct cn_sender_stats stats;
};

uint64_t cn_sender_backoff_ms(uint32_t attempts, uint64_t min_ms, uint64_t max_ms, uint64_t random)
{
    uint64_t d = min_ms;
    for (uint32_t i = 1; i < attempts && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    uint64_t half = d / 2;
    return half + random % (d - half + 1);
}

/* xorshift64*: the jitter only needs to spread retries, not to be unpredictable. */
static uint64_t next_random(struct cn_sender *s)
{
    s->rng ^= s->rng >> 12;
    s->rng ^= s->rng << 25;
    s->rng ^= s->rng >> 27;
    return s->rng * 0x2545F4914F6CDD1DULL;
}

static void clear_rows(struct cn_sender *s)
{
    for (size_t i = 0; i < s->row_count; i++)
        free(s->rows[i].path);
    s->row_count = 0;
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct cn_sender *s = handle->data;
    void (*done)(void *) = s->stop_done;
    void *user = s->stop_user;
    clear_rows(s);
    cn_tls_context_free(s->tls);
    free(s->peers);
    free(s);
    if (done != NULL)
        done(user);
}

static void maybe_finish_stop(struct cn_sender *s)
{
    if (s->stopping && s->scu == NULL && s->queries_pending == 0 &&
        !uv_is_closing((uv_handle_t *)&s->timer))
        uv_close((uv_handle_t *)&s->timer, on_timer_closed);
}

static void claim(struct cn_sender *s);

static void on_timer(uv_timer_t *timer)
{
    claim(timer->data);
}

static void sleep_ms(struct cn_sender *s, uint64_t ms)
{
    s->phase = PHASE_IDLE;
    if (s->wake_pending) {
        s->wake_pending = 0;
        ms = 0;
    }
    uv_timer_start(&s->timer, on_timer, ms, 0);
}

static int query(struct cn_sender *s, const char *sql, int n, const char *const *params,
                 cn_db_result_cb cb)
{
    int rc = cn_db_async_query(s->db, sql, n, params, cb, s);
    if (rc == 0)
        s->queries_pending++;
    else
        cn_log_warning("sender: could not queue a query: %s", cn_db_strerror(rc));
    return rc;
}

/* ---- sleep until the next due row ---- */

static void on_next_due(const PGresult *res, const char *error, void *user)
{
    struct cn_sender *s = user;
    s->queries_pending--;
    if (s->stopping) {
        maybe_finish_stop(s);
        return;
    }
    uint64_t ms = s->config.idle_poll_ms;
    if (error != NULL) {
        cn_log_warning("sender: could not read the next due time: %s", error);
    } else if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
        long long due = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        if (due < (long long)CN_SENDER_MIN_SLEEP_MS)
            due = CN_SENDER_MIN_SLEEP_MS;
        if ((uint64_t)due < ms)
            ms = (uint64_t)due;
    }
    sleep_ms(s, ms);
}

static void plan(struct cn_sender *s)
{
    s->phase = PHASE_PLANNING;
    if (query(s, NEXT_DUE_SQL, 0, NULL, on_next_due) != 0)
        sleep_ms(s, s->config.idle_poll_ms);
}

/* ---- record the outcomes ---- */

static void on_updated(const PGresult *res, const char *error, void *user)
{
    (void)res;
    struct cn_sender *s = user;
    s->queries_pending--;
    s->updates_pending--;
    if (error != NULL)
        cn_log_warning("sender: could not record an outbound outcome: %s", error);
    if (s->updates_pending > 0)
        return;
    if (s->config.pass_done != NULL)
        s->config.pass_done(&s->pass, s->config.user);
    clear_rows(s);
    if (s->stopping)
        maybe_finish_stop(s);
    else
        claim(s); /* more may be due at once */
}

static void update_row(struct cn_sender *s, const struct row *r, const char *state,
                       const int *status, const char *error, const uint64_t *delay_ms)
{
    char id[NUMBER_TEXT_SIZE], status_text[NUMBER_TEXT_SIZE], delay[NUMBER_TEXT_SIZE];
    snprintf(id, sizeof id, "%" PRId64, r->id);
    if (status != NULL)
        snprintf(status_text, sizeof status_text, "%d", *status);
    if (delay_ms != NULL)
        snprintf(delay, sizeof delay, "%" PRIu64, *delay_ms);
    const char *params[5] = {id, state, status != NULL ? status_text : NULL,
                             error != NULL && error[0] != '\0' ? error : NULL,
                             delay_ms != NULL ? delay : NULL};
    if (query(s, UPDATE_SQL, 5, params, on_updated) == 0)
        s->updates_pending++;
}

/* The counters of ae, added when there is room; NULL when the table is full. */
static struct cn_sender_destination_stats *destination_stats(struct cn_sender *s,
                                                             const char *ae)
{
    struct cn_sender_stats *st = &s->stats;
    for (size_t i = 0; i < st->destination_count; i++)
        if (strcmp(st->destinations[i].ae_title, ae) == 0)
            return &st->destinations[i];
    if (st->destination_count == CN_SENDER_STATS_MAX_DESTINATIONS)
        return NULL;
    struct cn_sender_destination_stats *d = &st->destinations[st->destination_count++];
    snprintf(d->ae_title, sizeof d->ae_title, "%s", ae);
    return d;
}

static void count_outcome(struct cn_sender *s, int sent, int dead, uint64_t bytes)
{
    struct cn_sender_destination_stats *d = destination_stats(s, s->pass.destination_ae);
    if (sent) {
        s->stats.sent++;
        s->stats.bytes_sent += bytes;
        if (d) {
            d->sent++;
            d->bytes_sent += bytes;
        }
        return;
    }
    s->stats.failed++;
    s->stats.dead += dead != 0;
    if (d) {
        d->failed++;
        d->dead += dead != 0;
    }
}

static void record(struct cn_sender *s, const struct row *r, enum cn_scu_outcome outcome,
                   const int *status, const char *error, uint64_t bytes)
{
    if (outcome == CN_SCU_SENT) {
        count_outcome(s, 1, 0, bytes);
        s->pass.sent++;
        update_row(s, r, "sent", status, error, NULL);
        return;
    }
    uint32_t limit = outcome == CN_SCU_PERMANENT ? s->config.permanent_attempts : r->max_attempts;
    count_outcome(s, 0, r->attempts >= limit, 0);
    if (r->attempts >= limit) {
        s->pass.dead++;
        cn_log_warning("sender: %s to %s is dead after %u attempts: %s", r->sop_instance_uid,
                       s->pass.destination_ae, r->attempts, error);
        update_row(s, r, "dead", status, error, NULL);
        return;
    }
    s->pass.failed++;
    uint64_t delay = cn_sender_backoff_ms(r->attempts, s->config.backoff_min_ms,
                                          s->config.backoff_max_ms, next_random(s));
    cn_log_info("sender: %s to %s failed (attempt %u of %u), retry in %" PRIu64 " ms: %s",
                r->sop_instance_uid, s->pass.destination_ae, r->attempts, r->max_attempts, delay,
                error);
    update_row(s, r, "failed", status, error, &delay);
}

static void after_records(struct cn_sender *s)
{
    s->phase = PHASE_UPDATING;
    if (s->updates_pending == 0) { /* nothing could be queued */
        clear_rows(s);
        if (s->stopping)
            maybe_finish_stop(s);
        else
            sleep_ms(s, s->config.idle_poll_ms);
    }
}

static void on_scu_done(const struct cn_scu_result *results, size_t count, void *user)
{
    struct cn_sender *s = user;
    s->scu = NULL;
    for (size_t i = 0; i < count && i < s->row_count; i++) {
        int status = results[i].status;
        record(s, &s->rows[i], results[i].outcome, results[i].has_status ? &status : NULL,
               results[i].error, results[i].data_set_len);
    }
    after_records(s);
}

/* ---- claim and send ---- */

static const struct cn_send_peer *find_peer(const struct cn_sender *s, const char *ae)
{
    for (size_t i = 0; i < s->config.peer_count; i++)
        if (strcmp(s->peers[i].ae_title, ae) == 0)
            return &s->peers[i];
    return NULL;
}

static void on_claimed(const PGresult *res, const char *error, void *user)
{
    struct cn_sender *s = user;
    s->queries_pending--;
    if (s->stopping) {
        /* claimed rows stay sending until their lease expires, then are retried */
        maybe_finish_stop(s);
        return;
    }
    if (error != NULL) {
        cn_log_warning("sender: could not claim outbound rows: %s", error);
        sleep_ms(s, s->config.idle_poll_ms);
        return;
    }
    int n = PQntuples(res);
    if (n == 0) {
        plan(s);
        return;
    }
    memset(&s->pass, 0, sizeof s->pass);
    snprintf(s->pass.destination_ae, sizeof s->pass.destination_ae, "%s", PQgetvalue(res, 0, 3));
    for (int i = 0; i < n && s->row_count < CN_SCU_MAX_FILES; i++) {
        struct row *r = &s->rows[s->row_count];
        r->id = strtoll(PQgetvalue(res, i, 0), NULL, 10);
        r->path = strdup(PQgetvalue(res, i, 1));
        snprintf(r->sop_instance_uid, sizeof r->sop_instance_uid, "%s", PQgetvalue(res, i, 2));
        r->attempts = (uint32_t)strtoul(PQgetvalue(res, i, 4), NULL, 10);
        r->max_attempts = (uint32_t)strtoul(PQgetvalue(res, i, 5), NULL, 10);
        if (r->path == NULL)
            break;
        s->paths[s->row_count++] = r->path;
    }
    const struct cn_send_peer *peer = find_peer(s, s->pass.destination_ae);
    char error_text[CN_SCU_ERROR_SIZE];
    int rc = UV_ENOMEM;
    if (peer == NULL) {
        snprintf(error_text, sizeof error_text, "no peer configured for AE %s",
                 s->pass.destination_ae);
        for (size_t i = 0; i < s->row_count; i++) {
            s->rows[i].attempts = s->config.permanent_attempts; /* dead at once */
            record(s, &s->rows[i], CN_SCU_PERMANENT, NULL, error_text, 0);
        }
        after_records(s);
        return;
    }
    if (s->row_count > 0) {
        struct cn_scu_options options = {.calling_ae = s->calling_ae,
                                         .called_ae = peer->ae_title,
                                         .host = peer->host,
                                         .port = peer->port,
                                         .timeout_ms = s->config.timeout_ms,
                                         .tls = peer->tls ? s->tls : NULL};
        s->phase = PHASE_SENDING;
        rc = cn_scu_start(s->loop, &options, s->paths, s->row_count, on_scu_done, s, &s->scu);
        if (rc == 0)
            return;
        s->scu = NULL;
    }
    snprintf(error_text, sizeof error_text, "could not start the C-STORE SCU: %s", uv_strerror(rc));
    for (size_t i = 0; i < s->row_count; i++)
        record(s, &s->rows[i], CN_SCU_TRANSIENT, NULL, error_text, 0);
    after_records(s);
}

static void claim(struct cn_sender *s)
{
    if (s->stopping)
        return;
    s->wake_pending = 0;
    s->phase = PHASE_CLAIMING;
    char batch[NUMBER_TEXT_SIZE], lease[NUMBER_TEXT_SIZE];
    snprintf(batch, sizeof batch, "%zu", s->config.batch_max);
    snprintf(lease, sizeof lease, "%" PRIu64, s->config.lease_ms);
    const char *params[2] = {batch, lease};
    if (query(s, CLAIM_SQL, 2, params, on_claimed) != 0)
        sleep_ms(s, s->config.idle_poll_ms);
}

/* ---- public ---- */

struct sender_enqueue {
    struct cn_sender *sender;
    cn_db_done_cb cb;
    void *user;
};

static void on_sender_enqueued(int status, int64_t id, const char *error, void *user)
{
    struct sender_enqueue *req = user;
    req->sender->queries_pending--;
    if (req->cb != NULL)
        req->cb(status, id, error, req->user);
    if (status == 0 && id > 0)
        cn_sender_wake(req->sender);
    maybe_finish_stop(req->sender);
    free(req);
}

int cn_sender_enqueue(struct cn_sender *sender, const struct cn_send_item *item, cn_db_done_cb cb,
                      void *user)
{
    if (sender->stopping)
        return CN_DB_ECLOSED;
    struct sender_enqueue *req = malloc(sizeof *req);
    if (req == NULL)
        return CN_DB_ENOMEM;
    *req = (struct sender_enqueue){sender, cb, user};
    int rc = cn_send_enqueue(sender->db, item, on_sender_enqueued, req);
    if (rc != 0)
        free(req);
    else
        sender->queries_pending++; /* the sender stays until the callback */
    return rc;
}

int cn_sender_start(uv_loop_t *loop, struct cn_db_async *db, const struct cn_sender_config *config,
                    struct cn_sender **out)
{
    if (loop == NULL || db == NULL || config == NULL || out == NULL ||
        (config->peer_count > 0 && config->peers == NULL) || config->batch_max > CN_SCU_MAX_FILES ||
        (config->calling_ae != NULL && strlen(config->calling_ae) >= CN_SCU_AE_SIZE))
        return UV_EINVAL;
    struct cn_sender *s = calloc(1, sizeof *s);
    if (s == NULL)
        return UV_ENOMEM;
    s->peers = calloc(config->peer_count > 0 ? config->peer_count : 1, sizeof *s->peers);
    if (s->peers == NULL) {
        free(s);
        return UV_ENOMEM;
    }
    if (config->peer_count > 0)
        memcpy(s->peers, config->peers, config->peer_count * sizeof *s->peers);
    int any_tls = 0;
    for (size_t i = 0; i < config->peer_count; i++)
        any_tls |= s->peers[i].tls;
    char tls_err[CN_TLS_ERROR_SIZE];
    if (any_tls && cn_tls_context_new(CN_TLS_CLIENT, config->tls_cert, config->tls_key,
                                      config->tls_ca, &s->tls, tls_err, sizeof tls_err) != 0) {
        cn_log_error("sender: peers with tls on cannot be reached: %s", tls_err);
        free(s->peers);
        free(s);
        return UV_EINVAL;
    }
    for (size_t i = 0; i < config->peer_count; i++)
        destination_stats(s, s->peers[i].ae_title); /* a peer's zeros show before any send */
    s->loop = loop;
    s->db = db;
    s->config = *config;
    s->config.peers = NULL;
    struct cn_sender_config *c = &s->config;
    if (c->permanent_attempts == 0)
        c->permanent_attempts = 1;
    if (c->backoff_min_ms == 0)
        c->backoff_min_ms = CN_SENDER_DEFAULT_BACKOFF_MIN_MS;
    if (c->backoff_max_ms == 0)
        c->backoff_max_ms = CN_SENDER_DEFAULT_BACKOFF_MAX_MS;
    if (c->backoff_max_ms < c->backoff_min_ms)
        c->backoff_max_ms = c->backoff_min_ms;
    if (c->idle_poll_ms == 0)
        c->idle_poll_ms = CN_SENDER_DEFAULT_IDLE_POLL_MS;
    if (c->lease_ms == 0)
        c->lease_ms = CN_SENDER_DEFAULT_LEASE_MS;
    if (c->batch_max == 0)
        c->batch_max = CN_SENDER_DEFAULT_BATCH_MAX;
    snprintf(s->calling_ae, sizeof s->calling_ae, "%s",
             config->calling_ae != NULL && config->calling_ae[0] != '\0' ? config->calling_ae
                                                                         : DEFAULT_CALLING_AE);
    s->rng = uv_hrtime() ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;
    if (s->rng == 0)
        s->rng = 1;
    uv_timer_init(loop, &s->timer);
    s->timer.data = s;
    sleep_ms(s, 0); /* the first claim runs from the loop */
    *out = s;
    return 0;
}

void cn_sender_get_stats(const struct cn_sender *sender, struct cn_sender_stats *out)
{
    *out = sender->stats;
}

void cn_sender_wake(struct cn_sender *sender)
{
    if (sender->stopping)
        return;
    if (sender->phase == PHASE_IDLE) {
        uv_timer_stop(&sender->timer);
        claim(sender);
    } else {
        sender->wake_pending = 1;
    }
}

void cn_sender_stop(struct cn_sender *sender, void (*done)(void *user), void *user)
{
    if (sender->stopping)
        return;
    sender->stopping = 1;
    sender->stop_done = done;
    sender->stop_user = user;
    uv_timer_stop(&sender->timer);
    if (sender->scu != NULL)
        cn_scu_cancel(sender->scu); /* its outcomes are still recorded */
    maybe_finish_stop(sender);
}
