/* Free-disk sampling on libuv's threadpool: see disk_watch.h. */
#include "serve/disk_watch.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

#define DISK_WATCH_PATH_SIZE 1024
#define NS_PER_MS 1000000ull

struct cn_disk_watch {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_fs_t req;
    char path[DISK_WATCH_PATH_SIZE];
    uint64_t interval_ms;
    uint64_t last_start_ns; /* uv_hrtime of the last sample's start; 0: none yet */
    uint64_t free_len;
    int known;
    int sampling; /* req is in flight */
    int stopping;
    int timer_closed;
    int failure_logged; /* one warning per run of failures */
};

static void maybe_free(struct cn_disk_watch *w)
{
    if (w->stopping && w->timer_closed && !w->sampling)
        free(w);
}

static void on_statfs(uv_fs_t *req)
{
    struct cn_disk_watch *w = req->data;
    w->sampling = 0;
    if (req->result == 0 && req->ptr) {
        const uv_statfs_t *st = req->ptr;
        w->free_len = st->f_bavail * st->f_bsize;
        w->known = 1;
        w->failure_logged = 0;
    } else if (!w->failure_logged) {
        w->failure_logged = 1;
        cn_log_warning("could not read the free space of \"%s\": %s", w->path,
                       uv_strerror((int)req->result));
    }
    uv_fs_req_cleanup(req);
    maybe_free(w);
}

static void sample(struct cn_disk_watch *w)
{
    if (w->sampling || w->stopping)
        return;
    w->last_start_ns = uv_hrtime();
    w->req.data = w;
    int rc = uv_fs_statfs(w->loop, &w->req, w->path, on_statfs);
    if (rc == 0) {
        w->sampling = 1;
    } else if (!w->failure_logged) {
        w->failure_logged = 1;
        cn_log_warning("could not read the free space of \"%s\": %s", w->path, uv_strerror(rc));
    }
}

static void on_timer(uv_timer_t *timer)
{
    sample(timer->data);
}

int cn_disk_watch_start(uv_loop_t *loop, const char *path, uint32_t interval_ms,
                        struct cn_disk_watch **out)
{
    size_t len = strlen(path);
    if (len >= DISK_WATCH_PATH_SIZE)
        return UV_ENAMETOOLONG;
    struct cn_disk_watch *w = calloc(1, sizeof *w);
    if (!w)
        return UV_ENOMEM;
    w->loop = loop;
    memcpy(w->path, path, len + 1);
    w->interval_ms = interval_ms;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_timer_start(&w->timer, on_timer, 0, interval_ms);
    *out = w;
    return 0;
}

int cn_disk_watch_free(const struct cn_disk_watch *w, uint64_t *free_len)
{
    if (!w->known)
        return 0;
    *free_len = w->free_len;
    return 1;
}

void cn_disk_watch_poke(struct cn_disk_watch *w)
{
    if (w->sampling || w->stopping)
        return;
    if (w->last_start_ns != 0 && uv_hrtime() - w->last_start_ns < w->interval_ms * NS_PER_MS)
        return;
    sample(w);
}

static void on_timer_closed(uv_handle_t *handle)
{
    struct cn_disk_watch *w = handle->data;
    w->timer_closed = 1;
    maybe_free(w);
}

void cn_disk_watch_stop(struct cn_disk_watch *w)
{
    if (w->stopping)
        return;
    w->stopping = 1;
    uv_close((uv_handle_t *)&w->timer, on_timer_closed);
}
