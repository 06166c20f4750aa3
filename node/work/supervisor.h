/* node/work: one supervised child process on the libuv loop.
 *
 * `calcnode serve` runs its analysis as a child process (`calcnode worker`), so that a
 * crash in decoding or analysis cannot take the DICOM receiver down with it. The
 * supervisor spawns the child with uv_spawn (the loop never waits for it), collects its
 * exit, reports it (exited callback, e.g. to release the jobs it held, work/release.h),
 * logs the exit status or the signal, and starts it again after a backoff: the first
 * restart after backoff.min_ms, each further one twice the previous delay up to
 * backoff.max_ms, back to min_ms once a child has run for backoff.healthy_ms
 * (cn_supervisor_restart_delay_ms). A child that cannot be spawned at all is retried on
 * the same schedule.
 *
 * Stopping sends SIGTERM, waits up to stop_timeout_ms for the child to finish what it
 * holds, then sends SIGKILL.
 *
 * Loop thread only: every function and callback runs on the thread of the loop. */
#ifndef CN_WORK_SUPERVISOR_H
#define CN_WORK_SUPERVISOR_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct cn_supervisor;

struct cn_supervisor_backoff {
    uint64_t min_ms;     /* delay of the first restart */
    uint64_t max_ms;     /* the longest delay */
    uint64_t healthy_ms; /* a child that ran this long resets the delay to min_ms */
};

/* The defaults: 1 s doubling to 60 s, reset after a minute of good running. */
#define CN_SUPERVISOR_BACKOFF_MIN_MS 1000u
#define CN_SUPERVISOR_BACKOFF_MAX_MS 60000u
#define CN_SUPERVISOR_HEALTHY_MS 60000u
#define CN_SUPERVISOR_STOP_TIMEOUT_MS 30000u
/* Bounds on what is copied from the configuration. */
#define CN_SUPERVISOR_MAX_ARGS 64
#define CN_SUPERVISOR_MAX_ENV 512

/* A child's end: exit_status is its exit code when term_signal is 0, else the signal
 * that ended it. stopping is 1 when the supervisor asked it to stop (cn_supervisor_stop). */
typedef void (*cn_supervisor_exited_cb)(void *user, long pid, int64_t exit_status, int term_signal,
                                        int stopping);

struct cn_supervisor_config {
    const char *name;        /* in log lines, e.g. "analysis process"; copied */
    const char *const *argv; /* argv[0] the executable's path; NULL-terminated; copied */
    const char *const *env;  /* "NAME=value" strings, NULL-terminated, the child's whole
                                environment; NULL: inherit ours; copied */
    struct cn_supervisor_backoff backoff; /* zero fields: the defaults above */
    uint64_t stop_timeout_ms;             /* 0: CN_SUPERVISOR_STOP_TIMEOUT_MS */
    cn_supervisor_exited_cb exited;       /* may be NULL; called after each exit */
    void *exited_user;
};

/* The delay before the next restart after a child that ran ran_ms, given the state
 * *next_delay_ms (set it to 0 before the first exit; it is updated for the following
 * one). Pure: the arithmetic of the backoff, with zero fields of backoff meaning the
 * defaults. */
uint64_t cn_supervisor_restart_delay_ms(const struct cn_supervisor_backoff *backoff,
                                        uint64_t ran_ms, uint64_t *next_delay_ms);

/* Copies config and spawns the first child now. Returns 0 and *out (freed by
 * cn_supervisor_stop), or a negative libuv error with err filled when config is unusable
 * (too many arguments, out of memory). A failed spawn is not an error here: it is logged
 * and retried with the backoff. */
int cn_supervisor_start(uv_loop_t *loop, const struct cn_supervisor_config *config,
                        struct cn_supervisor **out, char *err, size_t err_len);

/* The pid of the running child, or 0 while none runs (between a death and its restart). */
long cn_supervisor_pid(const struct cn_supervisor *s);

/* How many children have been spawned successfully (1 after the first). */
uint64_t cn_supervisor_spawn_count(const struct cn_supervisor *s);

/* Stops: no more restarts; SIGTERM to a running child, SIGKILL after stop_timeout_ms;
 * once it has exited (its exited callback has run) and the handles are closed, s is
 * freed and done(user) (may be NULL) is called from the loop. Call once. */
void cn_supervisor_stop(struct cn_supervisor *s, void (*done)(void *user), void *user);

#endif
