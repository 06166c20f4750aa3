/* The libmicrohttpd daemon and its request handler. One internal polling thread
 * (MHD_USE_INTERNAL_POLLING_THREAD) runs every request, so the database connection and
 * the image cache below belong to that thread alone. */
#include "http/http.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http/buf.h"
#include "http/image.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "http/query.h"
#include "http/route.h"
#include "util/log.h"

#define PAGE_MAX_LEN (8u * 1024u * 1024u)
#define CONNECTION_LIMIT 32u
#define CONNECTION_TIMEOUT_S 15u
/* Rendered images kept (keyed by UID, rows and results folder: a new analysis run has a
 * new folder, so a cached picture never shows stale findings). */
#define IMAGE_CACHE_SLOTS 64
/* ...and at most this many bytes of them: large renderings (?rows= up to 2048 of a wide
 * image) must not make the cache a memory sink; one larger than a quarter is not kept. */
#define IMAGE_CACHE_MAX_BYTES (64u * 1024u * 1024u)
#define CACHE_KEY_SIZE 4200
#define ERR_SIZE 1024
#define VERSION_SIZE 64

struct cached_image {
    char key[CACHE_KEY_SIZE];
    uint8_t *png;
    size_t len;
    uint64_t used; /* tick of the last use; 0: empty */
};

struct cn_http {
    struct MHD_Daemon *daemon;
    struct cn_http_bridge bridge;
    struct cn_http_db db;
    char version[VERSION_SIZE];
    void (*closed)(void *user);
    void *closed_user;
    /* HTTP thread only */
    struct cached_image cache[IMAGE_CACHE_SLOTS];
    size_t cache_bytes;
    uint64_t tick;
};

static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status,
                               const char *content_type, void *body, size_t len)
{
    /* body is ours (malloc'd) and handed to libmicrohttpd, which frees it */
    struct MHD_Response *r = MHD_create_response_from_buffer(
        len, body, body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result rc = MHD_queue_response(connection, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result respond_text(struct MHD_Connection *connection, unsigned status,
                                    const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len + 2);
    if (!copy)
        return MHD_NO;
    memcpy(copy, text, len);
    copy[len] = '\n';
    copy[len + 1] = '\0';
    return respond(connection, status, "text/plain; charset=utf-8", copy, len + 1);
}

static enum MHD_Result respond_buf(struct MHD_Connection *connection, unsigned status,
                                   const char *content_type, struct cn_buf *b)
{
    size_t len = 0;
    char *body = cn_buf_take(b, &len);
    if (!body)
        return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "the page could not be made (out of memory or too large)");
    return respond(connection, status, content_type, body, len);
}

static int read_loop(struct cn_http *h, struct cn_metrics_loop *loop)
{
    return cn_http_bridge_read(&h->bridge, CN_HTTP_LOOP_TIMEOUT_MS, loop);
}

static enum MHD_Result page_metrics(struct cn_http *h, struct MHD_Connection *connection)
{
    static struct cn_metrics_snapshot snapshot; /* HTTP thread only; large for a stack */
    memset(&snapshot, 0, sizeof snapshot);
    snapshot.has_loop = read_loop(h, &snapshot.loop) == 0;
    char err[ERR_SIZE];
    cn_http_db_metrics(&h->db, &snapshot.db, err, sizeof err);
    if (!snapshot.db.up)
        cn_log_warning("http: /metrics without the database: %s", err);
    struct cn_buf b;
    cn_buf_init(&b, PAGE_MAX_LEN);
    cn_metrics_format(&snapshot, &b);
    return respond_buf(connection, MHD_HTTP_OK, CN_METRICS_CONTENT_TYPE, &b);
}

static enum MHD_Result page_healthz(struct cn_http *h, struct MHD_Connection *connection)
{
    static struct cn_metrics_loop loop; /* HTTP thread only */
    char err[ERR_SIZE], reason[ERR_SIZE + 64];
    if (read_loop(h, &loop) != 0)
        return respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "the event loop did not answer");
    if (!loop.listening)
        return respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE,
                            "the DICOM server is not listening");
    PGresult *res = cn_http_db_exec(&h->db, "SELECT 1", 0, NULL, err, sizeof err);
    if (!res) {
        snprintf(reason, sizeof reason, "database: %s", err);
        return respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, reason);
    }
    PQclear(res);
    return respond_text(connection, MHD_HTTP_OK, "ok");
}

static enum MHD_Result page_status(struct cn_http *h, struct MHD_Connection *connection,
                                   const char *study_uid)
{
    static struct cn_metrics_loop loop; /* HTTP thread only */
    static struct cn_status_study rows[CN_HTTP_STATUS_STUDIES];
    char err[ERR_SIZE];
    size_t count = 0;
    PGresult *res = cn_http_db_studies(
        &h->db, study_uid, rows, study_uid ? 1 : CN_HTTP_STATUS_STUDIES, &count, err, sizeof err);
    struct cn_buf b;
    cn_buf_init(&b, PAGE_MAX_LEN);
    if (study_uid) {
        if (!res)
            return respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, err);
        if (count == 0) {
            PQclear(res);
            return respond_text(connection, MHD_HTTP_NOT_FOUND, "no such study");
        }
        cn_pages_study(&b, &rows[0], CN_HTTP_DEFAULT_IMAGE_ROWS);
    } else {
        struct cn_status_node node = {
            .version = h->version,
            .loop_answered = read_loop(h, &loop) == 0,
            .loop = &loop,
            .database_up = res != NULL,
            .database_error = res ? NULL : err,
        };
        cn_pages_status(&b, &node, rows, count, CN_HTTP_STATUS_STUDIES_WITH_IMAGES,
                        CN_HTTP_THUMBNAIL_ROWS);
    }
    PQclear(res);
    return respond_buf(connection, MHD_HTTP_OK, "text/html; charset=utf-8", &b);
}

static struct cached_image *cache_find(struct cn_http *h, const char *key)
{
    for (int i = 0; i < IMAGE_CACHE_SLOTS; i++)
        if (h->cache[i].used && strcmp(h->cache[i].key, key) == 0)
            return &h->cache[i];
    return NULL;
}

/* The least recently used slot: an empty one first when empty_first is set, else the
 * oldest in use (NULL when none is). */
static struct cached_image *cache_oldest(struct cn_http *h, int empty_first)
{
    struct cached_image *oldest = NULL;
    for (int i = 0; i < IMAGE_CACHE_SLOTS; i++) {
        struct cached_image *slot = &h->cache[i];
        if (!slot->used) {
            if (empty_first)
                return slot;
            continue;
        }
        if (oldest == NULL || slot->used < oldest->used)
            oldest = slot;
    }
    return oldest;
}

static void cache_evict(struct cn_http *h, struct cached_image *slot)
{
    h->cache_bytes -= slot->len;
    free(slot->png);
    slot->png = NULL;
    slot->len = 0;
    slot->used = 0;
}

static void cache_put(struct cn_http *h, const char *key, const uint8_t *png, size_t len)
{
    if (len > IMAGE_CACHE_MAX_BYTES / 4)
        return;
    struct cached_image *slot;
    while (h->cache_bytes + len > IMAGE_CACHE_MAX_BYTES && (slot = cache_oldest(h, 0)) != NULL)
        cache_evict(h, slot);
    slot = cache_oldest(h, 1); /* all slots used: the oldest */
    if (slot->used)
        cache_evict(h, slot);
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, png, len);
    h->cache_bytes += len;
    snprintf(slot->key, sizeof slot->key, "%s", key);
    slot->png = copy;
    slot->len = len;
    slot->used = ++h->tick;
}

static enum MHD_Result page_image(struct cn_http *h, struct MHD_Connection *connection,
                                  const char *uid)
{
    unsigned rows;
    const char *rows_text = MHD_lookup_connection_value(connection, MHD_GET_ARGUMENT_KIND, "rows");
    if (cn_http_parse_rows(rows_text, CN_HTTP_DEFAULT_IMAGE_ROWS, &rows) != 0)
        return respond_text(connection, MHD_HTTP_BAD_REQUEST, "rows must be 16 to 2048");
    char path[4096], results_dir[4096], err[ERR_SIZE];
    /* the UID is valid (route.h); the database says whether it is ours and where */
    int found = cn_http_db_instance(&h->db, uid, path, sizeof path, results_dir, sizeof results_dir,
                                    err, sizeof err);
    if (found < 0)
        return respond_text(connection, MHD_HTTP_SERVICE_UNAVAILABLE, err);
    if (found == 0)
        return respond_text(connection, MHD_HTTP_NOT_FOUND, "no such instance");
    char key[CACHE_KEY_SIZE];
    snprintf(key, sizeof key, "%s %u %s", uid, rows, results_dir);
    struct cached_image *hit = cache_find(h, key);
    if (hit) {
        uint8_t *copy = malloc(hit->len);
        if (!copy)
            return MHD_NO;
        memcpy(copy, hit->png, hit->len);
        hit->used = ++h->tick;
        return respond(connection, MHD_HTTP_OK, "image/png", copy, hit->len);
    }
    uint8_t *png = NULL;
    size_t len = 0;
    if (cn_http_image_png(path, results_dir, uid, rows, &png, &len, err, sizeof err) != 0) {
        cn_log_warning("http: image %s: %s", uid, err);
        /* the detail (paths of the state directory) stays in the log */
        return respond_text(connection, MHD_HTTP_INTERNAL_SERVER_ERROR,
                            "the image could not be rendered; the node's log says why");
    }
    cache_put(h, key, png, len);
    return respond(connection, MHD_HTTP_OK, "image/png", png, len);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **request_state)
{
    (void)version;
    (void)upload_data;
    (void)upload_data_size;
    struct cn_http *h = cls;
    /* the first call announces the headers; answer on the second (MHD convention) */
    static int headers_seen;
    if (*request_state == NULL) {
        *request_state = &headers_seen;
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET and HEAD");
    struct cn_http_route route;
    switch (cn_http_route_parse(url, &route)) {
    case CN_HTTP_PAGE_METRICS:
        return page_metrics(h, connection);
    case CN_HTTP_PAGE_HEALTHZ:
        return page_healthz(h, connection);
    case CN_HTTP_PAGE_STATUS:
        return page_status(h, connection, NULL);
    case CN_HTTP_PAGE_STUDY:
        return page_status(h, connection, route.uid);
    case CN_HTTP_PAGE_IMAGE:
        return page_image(h, connection, route.uid);
    case CN_HTTP_PAGE_NOT_FOUND:
        break;
    }
    return respond_text(connection, MHD_HTTP_NOT_FOUND, "not found");
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[ERR_SIZE];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t len = strlen(line);
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        line[--len] = '\0';
    cn_log_warning("http: %s", line);
}

static void free_http(struct cn_http *h)
{
    for (int i = 0; i < IMAGE_CACHE_SLOTS; i++)
        free(h->cache[i].png);
    cn_http_db_close(&h->db);
    free(h);
}

int cn_http_start(uv_loop_t *loop, const struct cn_http_config *config, struct cn_http **out,
                  char *err, size_t err_len)
{
    char port[8];
    snprintf(port, sizeof port, "%u", (unsigned)config->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(config->host, port, &hints, &ai);
    if (gai != 0) {
        snprintf(err, err_len, "could not resolve the HTTP address \"%s\": %s", config->host,
                 gai_strerror(gai));
        return -1;
    }
    struct cn_http *h = calloc(1, sizeof *h);
    if (!h || cn_http_db_init(&h->db, config->conninfo) != 0) {
        freeaddrinfo(ai);
        free(h);
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    snprintf(h->version, sizeof h->version, "%s", config->version ? config->version : "");
    if (cn_http_bridge_init(loop, &h->bridge, config->collect, config->collect_user) != 0) {
        freeaddrinfo(ai);
        free_http(h);
        snprintf(err, err_len, "could not set up the HTTP bridge to the loop");
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    /* the logger first, so that the daemon's own start-up messages go through it */
    h->daemon = MHD_start_daemon(
        flags, config->port, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
        NULL, MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT, CONNECTION_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, CONNECTION_TIMEOUT_S, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->daemon) {
        snprintf(err, err_len, "could not serve HTTP on %s:%u (address in use or not ours?)",
                 config->host, (unsigned)config->port);
        /* the bridge's handle belongs to the loop now: close it, free when closed */
        cn_http_close(h, NULL, NULL);
        return -1;
    }
    *out = h;
    return 0;
}

static void on_bridge_closed(void *user)
{
    struct cn_http *h = user;
    void (*done)(void *) = h->closed;
    void *done_user = h->closed_user;
    if (!h->daemon) { /* a failed start: nobody else will free it */
        cn_http_bridge_destroy(&h->bridge);
        free_http(h);
    }
    if (done)
        done(done_user);
}

void cn_http_close(struct cn_http *http, void (*done)(void *user), void *user)
{
    http->closed = done;
    http->closed_user = user;
    cn_http_bridge_close(&http->bridge, on_bridge_closed, http);
}

void cn_http_free(struct cn_http *http)
{
    if (!http)
        return;
    MHD_stop_daemon(http->daemon);
    cn_http_bridge_destroy(&http->bridge);
    free_http(http);
}
