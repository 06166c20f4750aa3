/* node/http: how the HTTP thread reads what the loop thread owns. The HTTP thread asks
 * (uv_async_send) and waits on a condition variable with a timeout; the loop answers from
 * its async callback by calling collect, which reads its own counters without locks, and
 * copies the result under the mutex. The loop never waits for the HTTP thread.
 *
 * Life: cn_http_bridge_init and cn_http_bridge_close on the loop thread;
 * cn_http_bridge_read on any other thread from init until cn_http_bridge_destroy (after
 * close it returns -1 at once: the handle is never touched once closing);
 * cn_http_bridge_destroy once no reader can call any more and the close callback ran. */
#ifndef CN_HTTP_BRIDGE_H
#define CN_HTTP_BRIDGE_H

#include <pthread.h>
#include <stdint.h>
#include <uv.h>

#include "http/metrics.h"

/* Fills *out from loop-owned state. Called on the loop thread. */
typedef void (*cn_http_collect_cb)(void *user, struct cn_metrics_loop *out);

struct cn_http_bridge {
    uv_async_t async;
    pthread_mutex_t mutex;
    pthread_cond_t answered;
    uint64_t asked, served; /* request generations */
    int closed;
    struct cn_metrics_loop latest;  /* under mutex */
    struct cn_metrics_loop scratch; /* loop thread only */
    cn_http_collect_cb collect;
    void *collect_user;
    void (*closed_cb)(void *user);
    void *closed_user;
};

/* Initialises bridge (caller-owned, stays in place until closed_cb of close). Returns 0
 * or a negative libuv error. Loop thread. */
int cn_http_bridge_init(uv_loop_t *loop, struct cn_http_bridge *bridge, cn_http_collect_cb collect,
                        void *user);

/* Asks the loop for a fresh reading and waits at most timeout_ms. Returns 0 with *out
 * filled, -1 when the loop did not answer in time or the bridge is closed. Any thread
 * but the loop's (it would wait for itself). */
int cn_http_bridge_read(struct cn_http_bridge *bridge, uint32_t timeout_ms,
                        struct cn_metrics_loop *out);

/* Wakes every waiting reader (they return -1), refuses new reads, closes the handle and
 * calls closed_cb(user) (may be NULL) from the loop when it is closed. Loop thread. */
void cn_http_bridge_close(struct cn_http_bridge *bridge, void (*closed_cb)(void *user), void *user);

/* Releases the mutex and condition variable. Any thread, after the close callback and
 * when no reader is running or can start. */
void cn_http_bridge_destroy(struct cn_http_bridge *bridge);

#endif
