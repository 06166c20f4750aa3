/* node/send: the outbound queue (DESIGN.md sections 1 and 5): result objects waiting in
 * the PostgreSQL table `outbound` are sent back over C-STORE (node/send/scu.h) from the
 * loop, retried with backoff, and dead-lettered with an error an operator can read.
 *
 * Rows move queued -> sending -> sent, or -> failed (a retry is due at next_attempt_at)
 * -> sending ... or -> dead. One pass claims, with SELECT ... FOR UPDATE SKIP LOCKED, up
 * to batch_max due rows of one destination (queued or failed rows whose next_attempt_at
 * has come, and sending rows whose lease expired after a crash), sets them sending with a
 * lease and attempts + 1, and sends them on one association. Then each row:
 *   sent    only after a C-STORE-RSP Success or Warning (last_status and, for a warning,
 *           last_error keep what the peer said);
 *   failed  a transient failure (A7xx, network, timeouts, transient rejection) with
 *           attempts < max_attempts: next_attempt_at = now + backoff, where backoff is
 *           min(backoff_max_ms, backoff_min_ms * 2^(attempts - 1)) with jitter drawn
 *           uniformly from its upper half;
 *   dead    a transient failure at max_attempts, or a permanent one (A9xx, Cxxx, 0122,
 *           permanent rejection, rejected context, unreadable file) once attempts reach
 *           permanent_attempts (default 1: at once), or a destination AE with no peer
 *           ("no peer configured for AE X").
 * A retry sends the same file with the same SOP Instance UID: a receiving PACS treats it
 * as the same object, so a retry after a lost response never makes a duplicate.
 *
 * Waking: after a pass that sent something the sender claims again at once; otherwise it
 * sleeps until the earliest next_attempt_at or lease expiry, but at most idle_poll_ms, so
 * rows inserted by other processes are found within that bound. cn_sender_wake (and
 * cn_sender_enqueue) cut the sleep short for rows of this process.
 *
 * Loop thread only. */
#ifndef CN_SEND_SENDER_H
#define CN_SEND_SENDER_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "db/async.h"
#include "db/catalogue.h"
#include "send/scu.h"

#define CN_SEND_DEFAULT_MAX_ATTEMPTS 10u /* as the outbound table's default */
#define CN_SENDER_DEFAULT_BACKOFF_MIN_MS 5000u
#define CN_SENDER_DEFAULT_BACKOFF_MAX_MS (10u * 60u * 1000u)
#define CN_SENDER_DEFAULT_IDLE_POLL_MS 5000u
#define CN_SENDER_DEFAULT_LEASE_MS (15u * 60u * 1000u)
#define CN_SENDER_DEFAULT_BATCH_MAX 32u
/* The shortest sleep between two claims that found nothing (rows due but locked by
 * another sender must not make us spin). */
#define CN_SENDER_MIN_SLEEP_MS 200u

/* A destination: AE title -> address (the configuration's peer table). */
struct cn_send_peer {
    char ae_title[CN_SCU_AE_SIZE];
    char host[CN_SCU_HOST_SIZE];
    uint16_t port;
    int tls; /* DICOM TLS with the sender's tls_* files */
};

/* What one pass did, for logs and tests. */
struct cn_sender_pass {
    char destination_ae[CN_SCU_AE_SIZE];
    size_t sent, failed, dead;
};

struct cn_sender_config {
    const char *calling_ae;           /* our AE title; NULL: "CALCNODE" */
    const struct cn_send_peer *peers; /* copied */
    size_t peer_count;
    /* For peers with tls set (PS3.15 Annex B.9): our PEM certificate and key, presented
     * when the peer asks, and the CA that must have signed the peer's certificate (empty:
     * the system's default trust store). Copied. */
    const char *tls_cert;
    const char *tls_key;
    const char *tls_ca;
    uint32_t permanent_attempts; /* 0: 1 */
    uint64_t backoff_min_ms;     /* 0: CN_SENDER_DEFAULT_BACKOFF_MIN_MS */
    uint64_t backoff_max_ms;     /* 0: CN_SENDER_DEFAULT_BACKOFF_MAX_MS */
    uint64_t idle_poll_ms;       /* 0: CN_SENDER_DEFAULT_IDLE_POLL_MS */
    uint64_t lease_ms;           /* 0: CN_SENDER_DEFAULT_LEASE_MS; above any batch's time */
    size_t batch_max;            /* 0: CN_SENDER_DEFAULT_BATCH_MAX; at most CN_SCU_MAX_FILES */
    uint32_t timeout_ms;         /* the SCU's; 0: CN_SCU_DEFAULT_TIMEOUT_MS */
    /* optional: called after each pass's rows are updated (pass borrowed for the call) */
    void (*pass_done)(const struct cn_sender_pass *pass, void *user);
    void *user;
};

struct cn_sender;

/* Counters of one destination AE since the sender started (for /metrics). failed counts
 * every attempt that did not end sent (retried or dead); dead the rows given up. */
struct cn_sender_destination_stats {
    char ae_title[CN_SCU_AE_SIZE];
    uint64_t sent, bytes_sent, failed, dead;
};

/* Destinations counted one by one: the configured peers first, then AE titles without a
 * peer as they appear; beyond this many, rows are counted in the totals only. */
#define CN_SENDER_STATS_MAX_DESTINATIONS 64

struct cn_sender_stats {
    uint64_t sent;       /* objects acknowledged (Success or Warning) */
    uint64_t bytes_sent; /* their data set bytes */
    uint64_t failed, dead;
    size_t destination_count;
    struct cn_sender_destination_stats destinations[CN_SENDER_STATS_MAX_DESTINATIONS];
};

/* Starts the sender on loop with db (borrowed: must outlive the sender; its connection
 * may still be coming up). The first claim runs from the loop. Returns 0 and a new
 * sender in *out, or UV_EINVAL (bad config, or TLS files that cannot be loaded while a
 * peer has tls set: the reason is logged) / UV_ENOMEM. */
int cn_sender_start(uv_loop_t *loop, struct cn_db_async *db, const struct cn_sender_config *config,
                    struct cn_sender **out);

/* Claims at once if idle (rows were added). */
void cn_sender_wake(struct cn_sender *sender);

/* Stops: a running association is aborted (its rows keep state sending until their lease
 * expires, then are retried: nothing is lost), pending updates complete, and done(user)
 * runs from the loop when the sender is freed. */
void cn_sender_stop(struct cn_sender *sender, void (*done)(void *user), void *user);

/* Copies the counters into *out. Loop thread (the sender's counters are loop-owned). */
void cn_sender_get_stats(const struct cn_sender *sender, struct cn_sender_stats *out);

/* One object to send. Strings are borrowed for the call. */
struct cn_send_item {
    const char *path;          /* a Part 10 file */
    const char *sop_class_uid; /* as in its meta header */
    const char *sop_instance_uid;
    const char *destination_ae; /* 1..16 characters */
    int64_t job_id;             /* 0: none */
    uint32_t max_attempts;      /* 0: CN_SEND_DEFAULT_MAX_ATTEMPTS */
};

/* Inserts a queued row (the table's trigger notifies CN_DB_CHANNEL_OUTBOUND). cb (may be
 * NULL) receives status 0 and the new id, or id 0 when the same SOP Instance UID is
 * already pending for that destination, or a negative cn_db_error. Returns 0 (cb called
 * exactly once, from the loop) or a negative cn_db_error without calling cb (CN_DB_EINVAL
 * for a missing path, an invalid UID or AE title). */
int cn_send_enqueue(struct cn_db_async *db, const struct cn_send_item *item, cn_db_done_cb cb,
                    void *user);

/* The same through the sender's database, then cn_sender_wake. */
int cn_sender_enqueue(struct cn_sender *sender, const struct cn_send_item *item, cn_db_done_cb cb,
                      void *user);

/* The backoff before retry number attempts (>= 1), with random (any value) choosing the
 * jitter: in [d/2, d] for d = min(max_ms, min_ms * 2^(attempts - 1)). Pure. */
uint64_t cn_sender_backoff_ms(uint32_t attempts, uint64_t min_ms, uint64_t max_ms, uint64_t random);

#endif
