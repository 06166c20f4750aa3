/* node/http: the node's HTTP endpoints for operators, served by libmicrohttpd on a
 * thread of its own (the libuv loop never waits for it):
 *   /metrics              Prometheus text format 0.0.4 (http/metrics.h)
 *   /healthz              200 "ok" when the database answers and the DICOM server is
 *                         listening; else 503 with the reason (text/plain)
 *   /                     the status page: recent studies, their analysis and results
 *   /study/<uid>          one study with its images
 *   /image/<uid>.png      an analysed image, reduced (?rows=N, default 512) with the
 *                         outlines of its clusters (http/overlay.h)
 * Loop-owned numbers are read through http/bridge.h; the database through the HTTP
 * thread's own connection (http/query.h). Only GET and HEAD are served. */
#ifndef CN_HTTP_HTTP_H
#define CN_HTTP_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "http/bridge.h"

/* How long a request waits for the loop's numbers before answering without them. */
#define CN_HTTP_LOOP_TIMEOUT_MS 2000u
#define CN_HTTP_DEFAULT_IMAGE_ROWS 512u
#define CN_HTTP_THUMBNAIL_ROWS 160u

struct cn_http_config {
    const char *host;           /* address to listen on (a literal or a name); copied */
    uint16_t port;              /* nonzero */
    const char *conninfo;       /* the database; copied */
    const char *version;        /* shown on the status page; copied */
    cn_http_collect_cb collect; /* fills the loop's numbers, on the loop thread */
    void *collect_user;
};

struct cn_http;

/* Starts serving. Loop thread (the bridge's handle joins loop). Returns 0 and *out, or
 * -1 with err filled (bad address, port in use, out of memory). */
int cn_http_start(uv_loop_t *loop, const struct cn_http_config *config, struct cn_http **out,
                  char *err, size_t err_len);

/* Detaches from the loop without waiting for the HTTP thread: requests still served
 * answer without the loop's numbers (/healthz: 503). done(user) (may be NULL) runs from
 * the loop when the loop handle is closed. Loop thread. */
void cn_http_close(struct cn_http *http, void (*done)(void *user), void *user);

/* Stops the HTTP thread (waiting for a request in progress, bounded by the query and
 * loop timeouts), closes the database connection and frees http. Call after
 * cn_http_close's done, from a thread that is not the HTTP thread (e.g. after uv_run
 * returned). */
void cn_http_free(struct cn_http *http);

#endif
