/* The SCU's file I/O, all through uv_fs_* on the loop's threadpool so that the loop
 * never blocks on a disk: meta headers first, then each data set in parts. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "send/meta.h"
#include "send/scu_internal.h"

static void fs_start(struct cn_scu *scu, enum scu_fs_step step)
{
    scu->fs_step = step;
    scu->fs.data = scu;
    scu_ref(scu);
}

/* Ends the request in flight: returns its result (a libuv error or a count). */
static ssize_t fs_end(struct cn_scu *scu, uv_fs_t *req)
{
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    scu->fs_step = SCU_FS_IDLE;
    return result;
}

static void on_closed(uv_fs_t *req)
{
    struct cn_scu *scu = req->data;
    uv_fs_req_cleanup(req);
    free(req);
    scu_unref(scu);
}

void scu_file_close(struct cn_scu *scu)
{
    if (scu->fd < 0)
        return;
    uv_file fd = scu->fd;
    scu->fd = -1;
    uv_fs_t *req = malloc(sizeof *req);
    if (req != NULL) {
        req->data = scu;
        scu_ref(scu);
        if (uv_fs_close(scu->loop, req, fd, on_closed) == 0)
            return;
        scu_unref(scu);
        free(req);
    }
    /* no memory for an asynchronous close: close(2) on a regular file does not wait */
    uv_fs_t sync_req;
    uv_fs_close(NULL, &sync_req, fd, NULL);
    uv_fs_req_cleanup(&sync_req);
}

/* ---- meta phase ---- */

static void meta_read_more(struct cn_scu *scu);

static void meta_next(struct cn_scu *scu)
{
    scu_file_close(scu);
    scu->current++;
    scu_file_read_metas(scu);
}

static void meta_fail(struct cn_scu *scu, const char *what, int uv_error)
{
    struct scu_file *f = &scu->files[scu->current];
    f->finished = 1;
    f->r.outcome = CN_SCU_PERMANENT;
    snprintf(f->r.error, sizeof f->r.error, "could not %s file \"%s\": %s", what, f->r.path,
             uv_strerror(uv_error));
    meta_next(scu);
}

static void on_meta_read(uv_fs_t *req)
{
    struct cn_scu *scu = req->data;
    ssize_t n = fs_end(scu, req);
    if (scu->finishing) {
        scu_file_close(scu);
        scu_unref(scu);
        return;
    }
    if (n < 0) {
        meta_fail(scu, "read", (int)n);
    } else if (n > 0 && scu->chunk_len + (size_t)n < CN_SEND_META_MAX_LEN) {
        scu->chunk_len += (size_t)n;
        meta_read_more(scu);
    } else {
        scu->chunk_len += (size_t)n;
        struct scu_file *f = &scu->files[scu->current];
        struct cn_send_meta meta;
        char err[CN_SCU_ERROR_SIZE - 64];
        if (cn_send_meta_parse(scu->chunk, scu->chunk_len, n == 0, &meta, err, sizeof err) != 0) {
            f->finished = 1;
            f->r.outcome = CN_SCU_PERMANENT;
            snprintf(f->r.error, sizeof f->r.error, "could not send \"%s\": %s", f->r.path, err);
        } else {
            memcpy(f->r.sop_class_uid, meta.sop_class_uid, sizeof f->r.sop_class_uid);
            memcpy(f->r.sop_instance_uid, meta.sop_instance_uid, sizeof f->r.sop_instance_uid);
            memcpy(f->r.transfer_syntax_uid, meta.transfer_syntax_uid,
                   sizeof f->r.transfer_syntax_uid);
            f->data_set_offset = meta.data_set_offset;
            f->meta_ok = 1;
        }
        meta_next(scu);
    }
    scu_unref(scu);
}

static void meta_read_more(struct cn_scu *scu)
{
    fs_start(scu, SCU_FS_META_READ);
    uv_buf_t buf = uv_buf_init((char *)scu->chunk + scu->chunk_len,
                               (unsigned)(CN_SEND_META_MAX_LEN - scu->chunk_len));
    int rc =
        uv_fs_read(scu->loop, &scu->fs, scu->fd, &buf, 1, (int64_t)scu->chunk_len, on_meta_read);
    if (rc != 0) {
        scu->fs_step = SCU_FS_IDLE;
        scu_unref(scu);
        meta_fail(scu, "read", rc);
    }
}

static void on_meta_open(uv_fs_t *req)
{
    struct cn_scu *scu = req->data;
    ssize_t result = fs_end(scu, req);
    if (result >= 0)
        scu->fd = (uv_file)result;
    if (scu->finishing) {
        scu_file_close(scu);
    } else if (result < 0) {
        meta_fail(scu, "open", (int)result);
    } else {
        scu->chunk_len = 0;
        meta_read_more(scu);
    }
    scu_unref(scu);
}

void scu_file_read_metas(struct cn_scu *scu)
{
    if (scu->finishing)
        return;
    if (scu->current >= scu->count) {
        scu_meta_done(scu);
        return;
    }
    fs_start(scu, SCU_FS_META_OPEN);
    int rc =
        uv_fs_open(scu->loop, &scu->fs, scu->files[scu->current].r.path, O_RDONLY, 0, on_meta_open);
    if (rc != 0) {
        scu->fs_step = SCU_FS_IDLE;
        scu_unref(scu);
        meta_fail(scu, "open", rc);
    }
}

/* ---- send phase ---- */

static void send_fail(struct cn_scu *scu, const char *what, int uv_error)
{
    scu_file_finish(scu, CN_SCU_PERMANENT, "could not %s file \"%s\": %s", what,
                    scu->files[scu->current].r.path, uv_strerror(uv_error));
    scu_file_close(scu);
    scu_send_next(scu);
}

static void on_send_stat(uv_fs_t *req)
{
    struct cn_scu *scu = req->data;
    ssize_t result = req->result;
    uint64_t size = req->statbuf.st_size;
    fs_end(scu, req);
    struct scu_file *f = &scu->files[scu->current];
    if (scu->finishing) {
        scu_file_close(scu);
    } else if (result < 0) {
        send_fail(scu, "stat", (int)result);
    } else if (size < f->data_set_offset) {
        scu_file_finish(scu, CN_SCU_PERMANENT, "file \"%s\" is shorter than its meta header",
                        f->r.path);
        scu_file_close(scu);
        scu_send_next(scu);
    } else {
        scu->read_offset = f->data_set_offset;
        scu->remaining = size - f->data_set_offset;
        f->r.data_set_len = scu->remaining;
        scu_begin_store(scu);
    }
    scu_unref(scu);
}

static void on_send_open(uv_fs_t *req)
{
    struct cn_scu *scu = req->data;
    ssize_t result = fs_end(scu, req);
    if (result >= 0)
        scu->fd = (uv_file)result;
    if (scu->finishing) {
        scu_file_close(scu);
    } else if (result < 0) {
        send_fail(scu, "open", (int)result);
    } else {
        fs_start(scu, SCU_FS_SEND_STAT);
        int rc = uv_fs_fstat(scu->loop, &scu->fs, scu->fd, on_send_stat);
        if (rc != 0) {
            scu->fs_step = SCU_FS_IDLE;
            scu_unref(scu);
            send_fail(scu, "stat", rc);
        }
    }
    scu_unref(scu);
}

void scu_file_open_for_send(struct cn_scu *scu)
{
    fs_start(scu, SCU_FS_SEND_OPEN);
    int rc =
        uv_fs_open(scu->loop, &scu->fs, scu->files[scu->current].r.path, O_RDONLY, 0, on_send_open);
    if (rc != 0) {
        scu->fs_step = SCU_FS_IDLE;
        scu_unref(scu);
        send_fail(scu, "open", rc);
    }
}

/* A data set partly sent cannot be completed: the association must be aborted. */
static void read_failed(struct cn_scu *scu, const char *reason)
{
    const char *path = scu->files[scu->current].r.path;
    scu_file_finish(scu, CN_SCU_TRANSIENT, "could not read file \"%s\" while sending it: %s", path,
                    reason);
    scu_set_failure(scu, CN_SCU_TRANSIENT, "association aborted after a read error on \"%s\"",
                    path);
    scu_finish(scu);
}

static void on_send_read(uv_fs_t *req)
{
    struct cn_scu *scu = req->data;
    ssize_t n = fs_end(scu, req);
    if (scu->finishing) {
        scu_file_close(scu);
    } else if (n < 0) {
        read_failed(scu, uv_strerror((int)n));
    } else if (n == 0) {
        read_failed(scu, "the file is shorter than when it was opened");
    } else {
        scu->remaining -= (uint64_t)n;
        scu->read_offset += (uint64_t)n;
        if (scu->remaining == 0)
            scu_file_close(scu);
        scu_send_part(scu, scu->chunk, (size_t)n);
    }
    scu_unref(scu);
}

void scu_file_read_next(struct cn_scu *scu)
{
    size_t len = scu->remaining < CN_SCU_CHUNK_LEN ? (size_t)scu->remaining : CN_SCU_CHUNK_LEN;
    fs_start(scu, SCU_FS_SEND_READ);
    uv_buf_t buf = uv_buf_init((char *)scu->chunk, (unsigned)len);
    int rc =
        uv_fs_read(scu->loop, &scu->fs, scu->fd, &buf, 1, (int64_t)scu->read_offset, on_send_read);
    if (rc != 0) {
        scu->fs_step = SCU_FS_IDLE;
        scu_unref(scu);
        read_failed(scu, uv_strerror(rc));
    }
}
