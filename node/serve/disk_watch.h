/* node/serve: the free space under the state directory, sampled without blocking the
 * loop (uv_fs_statfs runs in libuv's threadpool) so that the association check reads a
 * recent figure at no cost. One sample every interval, and one more on request (after a
 * stored instance) when the last began at least an interval ago; never two at once.
 *
 * Loop thread only. */
#ifndef CN_SERVE_DISK_WATCH_H
#define CN_SERVE_DISK_WATCH_H

#include <stdint.h>
#include <uv.h>

struct cn_disk_watch;

/* Starts sampling path (copied) every interval_ms, the first sample at once. Returns 0
 * with *out set, or a negative libuv error (UV_ENOMEM, UV_ENAMETOOLONG). */
int cn_disk_watch_start(uv_loop_t *loop, const char *path, uint32_t interval_ms,
                        struct cn_disk_watch **out);

/* The last sample: 1 with *free_len (bytes available to the process, as df's "Avail")
 * set, or 0 when no sample has succeeded yet. */
int cn_disk_watch_free(const struct cn_disk_watch *w, uint64_t *free_len);

/* Something was written: sample now unless a sample is running or the last began less
 * than an interval ago. */
void cn_disk_watch_poke(struct cn_disk_watch *w);

/* Stops sampling. The watch frees itself once its timer is closed and a running sample
 * has returned (both keep the loop alive until then); w must not be used afterwards. */
void cn_disk_watch_stop(struct cn_disk_watch *w);

#endif
