#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp.h"
#include "net/tls.h"
#include "serve/disk_watch.h"
#include "serve/internal.h"
#include "util/log.h"

#define LISTEN_BACKLOG 128
/* How often the free space under state_dir is sampled for min_free_disk. */
#define DISK_SAMPLE_INTERVAL_MS 1000u

static void on_connection(uv_stream_t *listener, int status)
{
    struct cn_server *server = listener->data;
    if (status != 0) {
        cn_log_warning("could not accept a connection: %s", uv_strerror(status));
        return;
    }
    struct cn_tls_context *tls = listener == (uv_stream_t *)&server->tls_listener ? server->tls
                                                                                   : NULL;
    int rc = cn_session_accept(server, listener, tls);
    if (rc != 0)
        cn_log_warning("could not accept a connection: %s", uv_strerror(rc));
}

/* Undoes a start that failed after the listeners were set up (an initialised handle must
 * be closed before its memory goes). */
static void abandon_start(struct cn_server *server)
{
    if (server->listener.type == UV_TCP)
        uv_close((uv_handle_t *)&server->listener, NULL);
    if (server->tls_listener.type == UV_TCP)
        uv_close((uv_handle_t *)&server->tls_listener, NULL);
    uv_run(server->loop, UV_RUN_NOWAIT);
    cn_tls_context_free(server->tls);
    free(server);
}

/* PS3.15 B.9: the DICOM TLS listener beside the plain one. Fills err on failure. */
static int start_tls_listener(struct cn_server *server, const struct cn_server_config *config,
                              char *err, size_t err_len)
{
    char tls_err[CN_TLS_ERROR_SIZE];
    if (cn_tls_context_new(CN_TLS_SERVER, config->tls_cert, config->tls_key, config->tls_ca,
                           &server->tls, tls_err, sizeof tls_err) != 0) {
        snprintf(err, err_len, "could not start the DICOM TLS listener on port %u: %s",
                 (unsigned)config->tls_port, tls_err);
        return UV_EINVAL;
    }
    int rc = cn_tcp_listen(server->loop, &server->tls_listener, config->listen_host,
                           config->tls_port, LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        snprintf(err, err_len, "could not listen on %s:%u: %s", config->listen_host,
                 (unsigned)config->tls_port, uv_strerror(rc));
        return rc;
    }
    server->tls_listener.data = server;
    cn_log_info("DICOM TLS on %s:%u, %s", config->listen_host, (unsigned)config->tls_port,
                cn_tls_context_requires_peer_certificate(server->tls)
                    ? "client certificates required"
                    : "no client certificate asked for");
    return 0;
}

int cn_server_start(uv_loop_t *loop, const struct cn_server_config *config,
                    struct cn_db_async *db, struct cn_server **out, char *err, size_t err_len)
{
    struct cn_server *server = calloc(1, sizeof *server);
    if (!server) {
        snprintf(err, err_len, "out of memory");
        return UV_ENOMEM;
    }
    server->loop = loop;
    server->db = db;
    server->config = *config;
    snprintf(server->ae_title, sizeof server->ae_title, "%s", config->ae_title);
    snprintf(server->listen_host, sizeof server->listen_host, "%s", config->listen_host);
    snprintf(server->state_dir, sizeof server->state_dir, "%s", config->state_dir);
    server->config.ae_title = server->ae_title;
    server->config.listen_host = server->listen_host;
    server->config.state_dir = server->state_dir;
    cn_assoc_config_init(&server->assoc_config);
    snprintf(server->assoc_config.ae_title, sizeof server->assoc_config.ae_title, "%s",
             config->ae_title);
    server->assoc_config.max_pdu_len = config->max_pdu_len;
    server->assoc_config.artim_timeout_ms = config->artim_timeout_ms;
    int rc = cn_tcp_listen(loop, &server->listener, config->listen_host, config->port,
                           LISTEN_BACKLOG, on_connection);
    if (rc != 0) {
        snprintf(err, err_len, "could not listen on %s:%u: %s", config->listen_host,
                 (unsigned)config->port, uv_strerror(rc));
        abandon_start(server);
        return rc;
    }
    server->listener.data = server;
    server->tls_listener_closed = 1;
    if (config->tls_port != 0) {
        server->tls_listener_closed = 0;
        rc = start_tls_listener(server, config, err, err_len);
        if (rc != 0) {
            abandon_start(server);
            return rc;
        }
    }
    if (config->min_free_disk > 0) {
        rc = cn_disk_watch_start(loop, server->state_dir, DISK_SAMPLE_INTERVAL_MS, &server->disk);
        if (rc != 0) {
            snprintf(err, err_len, "could not watch the free space of \"%s\": %s",
                     server->state_dir, uv_strerror(rc));
            abandon_start(server);
            return rc;
        }
    }
    uv_timer_init(loop, &server->grace_timer);
    server->grace_timer.data = server;
    *out = server;
    return 0;
}

static void maybe_finish_stop(struct cn_server *server)
{
    if (!server->stopping || server->sessions || !server->listener_closed ||
        !server->tls_listener_closed || !server->grace_timer_closed)
        return;
    void (*done)(void *) = server->stop_done;
    void *user = server->stop_user;
    cn_tls_context_free(server->tls);
    free(server);
    if (done)
        done(user);
}

static void on_grace_timer_closed(uv_handle_t *handle)
{
    struct cn_server *server = handle->data;
    server->grace_timer_closed = 1;
    maybe_finish_stop(server);
}

void cn_server_session_gone(struct cn_server *server)
{
    if (server->stopping && !server->sessions &&
        !uv_is_closing((uv_handle_t *)&server->grace_timer))
        uv_close((uv_handle_t *)&server->grace_timer, on_grace_timer_closed);
    maybe_finish_stop(server);
}

static void on_listener_closed(uv_handle_t *handle)
{
    struct cn_server *server = handle->data;
    if (handle == (uv_handle_t *)&server->tls_listener)
        server->tls_listener_closed = 1;
    else
        server->listener_closed = 1;
    maybe_finish_stop(server);
}

static void abort_all(struct cn_server *server)
{
    struct cn_session *s = server->sessions;
    while (s) {
        struct cn_session *next = s->next;
        cn_session_abort(s);
        s = next;
    }
}

static void on_grace_expired(uv_timer_t *timer)
{
    struct cn_server *server = timer->data;
    cn_log_warning("shutdown: aborting the associations still open");
    abort_all(server);
    uv_close((uv_handle_t *)&server->grace_timer, on_grace_timer_closed);
}

void cn_server_stop(struct cn_server *server, uint32_t grace_ms, void (*done)(void *user),
                    void *user)
{
    if (server->stopping)
        return;
    server->stopping = 1;
    server->stop_done = done;
    server->stop_user = user;
    if (server->disk) {
        cn_disk_watch_stop(server->disk);
        server->disk = NULL;
    }
    uv_close((uv_handle_t *)&server->listener, on_listener_closed);
    if (server->tls != NULL)
        uv_close((uv_handle_t *)&server->tls_listener, on_listener_closed);
    if (!server->sessions) {
        uv_close((uv_handle_t *)&server->grace_timer, on_grace_timer_closed);
        return;
    }
    if (grace_ms == 0) {
        abort_all(server);
        uv_close((uv_handle_t *)&server->grace_timer, on_grace_timer_closed);
        return;
    }
    cn_log_info("shutdown: waiting up to %u ms for %u associations", grace_ms,
                server->stats.associations_active);
    uv_timer_start(&server->grace_timer, on_grace_expired, grace_ms, 0);
}

void cn_server_get_stats(const struct cn_server *server, struct cn_server_stats *out)
{
    *out = server->stats;
}
