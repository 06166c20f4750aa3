/* node/db/listen: LISTEN on one channel from the libuv loop (PostgreSQL NOTIFY), so that
 * work queued by other processes (workers on other machines) wakes this one at once
 * instead of at its next poll. Its own non-blocking connection, driven by a uv_poll on
 * PQsocket; reconnects with backoff. Loop thread only. A lost notification is harmless:
 * the listeners poll as well, this only shortens the wait. */
#ifndef CN_DB_LISTEN_H
#define CN_DB_LISTEN_H

#include <uv.h>

struct cn_db_listen;

/* Called on the loop thread for every notification on the channel (payload borrowed). */
typedef void (*cn_db_notify_cb)(const char *payload, void *user);

/* Starts listening. conninfo and channel are copied; channel must be a plain identifier.
 * Returns 0 and *out, or UV_EINVAL / UV_ENOMEM. */
int cn_db_listen_start(uv_loop_t *loop, const char *conninfo, const char *channel,
                       cn_db_notify_cb cb, void *user, struct cn_db_listen **out);

/* Stops, closes the connection and frees l once its handles are closed. */
void cn_db_listen_stop(struct cn_db_listen *l);

#endif
