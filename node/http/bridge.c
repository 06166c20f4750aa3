#include "http/bridge.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static void on_async(uv_async_t *handle)
{
    struct cn_http_bridge *b = handle->data;
    /* the collect callback reads loop-owned counters: no lock needed while it runs; the
     * copy for the reader is published under the mutex */
    memset(&b->scratch, 0, sizeof b->scratch);
    b->collect(b->collect_user, &b->scratch);
    pthread_mutex_lock(&b->mutex);
    b->latest = b->scratch;
    b->served = b->asked;
    pthread_cond_broadcast(&b->answered);
    pthread_mutex_unlock(&b->mutex);
}

int cn_http_bridge_init(uv_loop_t *loop, struct cn_http_bridge *bridge, cn_http_collect_cb collect,
                        void *user)
{
    memset(bridge, 0, sizeof *bridge);
    bridge->collect = collect;
    bridge->collect_user = user;
    int rc = uv_async_init(loop, &bridge->async, on_async);
    if (rc != 0)
        return rc;
    bridge->async.data = bridge;
    pthread_mutex_init(&bridge->mutex, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&bridge->answered, &attr);
    pthread_condattr_destroy(&attr);
    return 0;
}

int cn_http_bridge_read(struct cn_http_bridge *bridge, uint32_t timeout_ms,
                        struct cn_metrics_loop *out)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int rc = -1;
    pthread_mutex_lock(&bridge->mutex);
    if (!bridge->closed) {
        uint64_t want = ++bridge->asked;
        /* sent under the mutex: close sets closed under it before uv_close, so the
         * handle is never signalled once closing */
        uv_async_send(&bridge->async);
        while (!bridge->closed && bridge->served < want) {
            if (pthread_cond_timedwait(&bridge->answered, &bridge->mutex, &deadline) == ETIMEDOUT)
                break;
        }
        if (!bridge->closed && bridge->served >= want) {
            *out = bridge->latest;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&bridge->mutex);
    return rc;
}

static void on_closed(uv_handle_t *handle)
{
    struct cn_http_bridge *b = handle->data;
    if (b->closed_cb)
        b->closed_cb(b->closed_user);
}

void cn_http_bridge_close(struct cn_http_bridge *bridge, void (*closed_cb)(void *user), void *user)
{
    pthread_mutex_lock(&bridge->mutex);
    bridge->closed = 1;
    pthread_cond_broadcast(&bridge->answered);
    pthread_mutex_unlock(&bridge->mutex);
    bridge->closed_cb = closed_cb;
    bridge->closed_user = user;
    uv_close((uv_handle_t *)&bridge->async, on_closed);
}

void cn_http_bridge_destroy(struct cn_http_bridge *bridge)
{
    pthread_cond_destroy(&bridge->answered);
    pthread_mutex_destroy(&bridge->mutex);
}
