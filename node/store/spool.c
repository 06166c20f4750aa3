/* The loop side of the spool: buffering, backpressure, and the jobs that write, hash and
 * commit in libuv's threadpool (one at a time per spool). See spool.h for the contract. */
#include "store/spool.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dimse/command.h"
#include "store/spool_internal.h"

#define SPOOL_SUBDIR "spool"
/* Longest state_dir: room for store/<study>/<series>/<sop>.dcm with 64-character UIDs. */
#define SPOOL_STATE_DIR_MAX_LEN 700
/* First allocation of a buffer; doubled up to its cap. */
#define SPOOL_BUFFER_INITIAL_LEN (64u * 1024u)

static const char *const ERROR_MESSAGES[] = {
    "ok",
    "could not write spool file",
    "out of memory",
    "spool buffer limit exceeded",
    "data set does not match the command",
    "data set cannot be understood",
    "invalid use of the spool",
};

const char *cn_spool_strerror(int err)
{
    if (err > 0 || -(long)err >= (long)(sizeof ERROR_MESSAGES / sizeof ERROR_MESSAGES[0]))
        return "unknown error";
    return ERROR_MESSAGES[-err];
}

uint16_t cn_spool_error_status(int err)
{
    switch (err) {
    case CN_SPOOL_OK:
        return CN_DIMSE_STATUS_SUCCESS;
    case CN_SPOOL_EMISMATCH:
        return CN_DIMSE_STATUS_DATA_SET_DOES_NOT_MATCH_SOP_CLASS;
    case CN_SPOOL_EINVALID:
        return CN_DIMSE_STATUS_CANNOT_UNDERSTAND;
    default:
        return CN_DIMSE_STATUS_OUT_OF_RESOURCES;
    }
}

static void set_error(struct cn_spool *spool, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records the first failure; later ones are consequences. */
static void set_error(struct cn_spool *spool, int err, const char *fmt, ...)
{
    if (spool->error != 0)
        return;
    spool->error = err;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(spool->message, sizeof spool->message, fmt, ap);
    va_end(ap);
}

static void pump(struct cn_spool *spool);

static void result_failed(struct cn_spool_result *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void result_failed(struct cn_spool_result *r, const char *fmt, ...)
{
    r->outcome = CN_SPOOL_FAILED;
    r->error = CN_SPOOL_EIO;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

static void spool_free(struct cn_spool *spool)
{
    EVP_MD_CTX_free(spool->hash);
    free(spool->fill.data);
    free(spool->flight.data);
    free(spool);
}

/* ---- the last job: write what is left, then commit or abandon ---- */

static void run_end(uv_work_t *req)
{
    struct cn_spool *spool = req->data;
    if (spool->end == SPOOL_END_DISCARD) {
        cn_spool_discard_work(spool);
        return;
    }
    if (spool->error == 0 && cn_spool_write_flight(spool) != 0) {
        spool->error = spool->job_error;
        memcpy(spool->message, spool->job_message, sizeof spool->message);
    }
    if (spool->end == SPOOL_END_FINISH)
        cn_spool_commit_work(spool);
    else
        cn_spool_abandon_work(spool);
}

static void after_end(uv_work_t *req, int status)
{
    struct cn_spool *spool = req->data;
    if (status != 0 && spool->result.error == 0)
        result_failed(&spool->result, "could not run spool work for \"%s\": %s",
                      spool->part_path, uv_strerror(status));
    spool->done(spool, spool->user, &spool->result);
    spool_free(spool);
}

/* ---- write jobs ---- */

static void run_write(uv_work_t *req)
{
    cn_spool_write_flight(req->data);
}

static void after_write(uv_work_t *req, int status)
{
    struct cn_spool *spool = req->data;
    spool->job_in_flight = 0;
    if (spool->job_error != 0)
        set_error(spool, spool->job_error, "%s", spool->job_message);
    else if (status != 0)
        set_error(spool, CN_SPOOL_EIO, "could not run spool write: %s", uv_strerror(status));
    spool->flight.len = 0;
    /* A buffer that grew while the caller ignored a pause goes back to normal. */
    if (spool->flight.cap > CN_SPOOL_BUFFER_LEN) {
        free(spool->flight.data);
        spool->flight.data = NULL;
        spool->flight.cap = 0;
    }
    pump(spool);
}

/* The fill buffer becomes the flight buffer (the next job's bytes). */
static void take_fill(struct cn_spool *spool)
{
    struct spool_buffer t = spool->flight;
    spool->flight = spool->fill;
    spool->fill = t;
    spool->fill.len = 0;
}

static void notify_drain(struct cn_spool *spool)
{
    if (spool->paused && (spool->error != 0 || spool->fill.len < CN_SPOOL_BUFFER_LEN)) {
        spool->paused = 0;
        if (spool->drain != NULL && spool->end == SPOOL_END_NONE)
            spool->drain(spool, spool->user);
    }
}

/* Starts the next job when none is running: the last one once the end is requested
 * (it writes the remaining bytes itself, saving a round trip), else a write of whatever
 * the fill buffer holds. Then settles a pending pause. */
static void pump(struct cn_spool *spool)
{
    if (!spool->job_in_flight && !spool->end_queued) {
        if (spool->end != SPOOL_END_NONE) {
            if (spool->error == 0)
                take_fill(spool);
            else
                spool->flight.len = 0;
            spool->end_queued = 1;
            spool->work.data = spool;
            int rc = uv_queue_work(spool->loop, &spool->work, run_end, after_end);
            if (rc < 0) {
                /* Cannot happen with a valid loop; report rather than lose the callback. */
                result_failed(&spool->result, "could not queue spool work: %s",
                              uv_strerror(rc));
                spool->done(spool, spool->user, &spool->result);
                spool_free(spool);
            }
            return;
        }
        if (spool->error == 0 && spool->fill.len > 0) {
            take_fill(spool);
            spool->work.data = spool;
            int rc = uv_queue_work(spool->loop, &spool->work, run_write, after_write);
            if (rc < 0)
                set_error(spool, CN_SPOOL_EIO, "could not queue spool write: %s",
                          uv_strerror(rc));
            else
                spool->job_in_flight = 1;
        }
    }
    notify_drain(spool);
}

/* Grows b to hold need bytes, doubling, at most cap. */
static int reserve_buffer(struct spool_buffer *b, size_t need, size_t cap)
{
    if (need <= b->cap)
        return 0;
    if (need > cap)
        return CN_SPOOL_ENOBUFS;
    size_t n = b->cap ? b->cap : SPOOL_BUFFER_INITIAL_LEN;
    while (n < need)
        n *= 2;
    if (n > cap)
        n = cap;
    uint8_t *grown = realloc(b->data, n);
    if (grown == NULL)
        return CN_SPOOL_ENOMEM;
    b->data = grown;
    b->cap = n;
    return 0;
}

int cn_spool_open(uv_loop_t *loop, const char *state_dir, const struct cn_part10_meta *meta,
                  cn_spool_drain_cb drain, void *user, struct cn_spool **out)
{
    if (loop == NULL || state_dir == NULL || meta == NULL || out == NULL ||
        strnlen(state_dir, SPOOL_STATE_DIR_MAX_LEN + 1) > SPOOL_STATE_DIR_MAX_LEN ||
        state_dir[0] == '\0')
        return CN_SPOOL_ESTATE;
    uint8_t header[CN_PART10_META_MAX_LEN];
    int header_len = cn_part10_encode_meta(meta, header, sizeof header);
    if (header_len < 0)
        return CN_SPOOL_ESTATE;

    struct cn_spool *spool = calloc(1, sizeof *spool);
    if (spool == NULL)
        return CN_SPOOL_ENOMEM;
    spool->loop = loop;
    spool->user = user;
    spool->drain = drain;
    spool->fd = -1;
    memcpy(spool->state_dir, state_dir, strlen(state_dir) + 1);
    if (cn_spool_join_path(spool->spool_dir, sizeof spool->spool_dir, state_dir, SPOOL_SUBDIR) < 0) {
        free(spool);
        return CN_SPOOL_ESTATE;
    }
    spool->hash = EVP_MD_CTX_new();
    if (spool->hash == NULL || EVP_DigestInit_ex(spool->hash, EVP_sha256(), NULL) != 1 ||
        reserve_buffer(&spool->fill, (size_t)header_len, CN_SPOOL_BUFFER_MAX_LEN) < 0) {
        spool_free(spool);
        return CN_SPOOL_ENOMEM;
    }
    memcpy(spool->fill.data, header, (size_t)header_len);
    spool->fill.len = (size_t)header_len;
    spool->accepted_len = (uint64_t)header_len;
    /* The first job creates STATE/spool and the file, and writes the meta header. */
    pump(spool);
    if (spool->error != 0) {
        spool_free(spool);
        return CN_SPOOL_EIO;
    }
    *out = spool;
    return 0;
}

int cn_spool_write(struct cn_spool *spool, const uint8_t *data, size_t len)
{
    if (spool == NULL || spool->end != SPOOL_END_NONE || (data == NULL && len > 0))
        return CN_SPOOL_ESTATE;
    if (spool->error != 0)
        return spool->error;
    if (len > CN_SPOOL_BUFFER_MAX_LEN - spool->fill.len) {
        set_error(spool, CN_SPOOL_ENOBUFS,
                  "spool buffer limit of %u bytes exceeded (writes continued while paused)",
                  CN_SPOOL_BUFFER_MAX_LEN);
        return spool->error;
    }
    int rc = reserve_buffer(&spool->fill, spool->fill.len + len, CN_SPOOL_BUFFER_MAX_LEN);
    if (rc < 0) {
        set_error(spool, rc, "could not buffer %zu bytes for the spool file", len);
        return rc;
    }
    if (len > 0)
        memcpy(spool->fill.data + spool->fill.len, data, len);
    spool->fill.len += len;
    spool->accepted_len += len;
    pump(spool);
    if (spool->error != 0)
        return spool->error;
    if (spool->fill.len >= CN_SPOOL_BUFFER_LEN) {
        spool->paused = 1;
        return CN_SPOOL_PAUSED;
    }
    return 0;
}

static void copy_uid(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src != NULL ? src : "");
}

void cn_spool_finish(struct cn_spool *spool, const char *expected_sop_class_uid,
                     const char *expected_sop_instance_uid, cn_spool_done_cb done)
{
    if (spool == NULL || done == NULL || spool->end != SPOOL_END_NONE)
        return;
    copy_uid(spool->expected_sop_class_uid, sizeof spool->expected_sop_class_uid,
             expected_sop_class_uid);
    copy_uid(spool->expected_sop_instance_uid, sizeof spool->expected_sop_instance_uid,
             expected_sop_instance_uid);
    spool->done = done;
    spool->end = SPOOL_END_FINISH;
    pump(spool);
}

void cn_spool_abandon(struct cn_spool *spool, cn_spool_done_cb done)
{
    if (spool == NULL || done == NULL || spool->end != SPOOL_END_NONE)
        return;
    spool->done = done;
    spool->end = SPOOL_END_ABANDON;
    pump(spool);
}

void cn_spool_discard(struct cn_spool *spool, cn_spool_done_cb done)
{
    if (spool == NULL || done == NULL || spool->end != SPOOL_END_NONE)
        return;
    spool->done = done;
    spool->end = SPOOL_END_DISCARD;
    pump(spool);
}

uint64_t cn_spool_bytes(const struct cn_spool *spool)
{
    return spool->accepted_len;
}
