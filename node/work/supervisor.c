#include "work/supervisor.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* One spawned child; its handle is freed in its close callback, so a restart never
 * reuses a handle that is still closing. */
struct child {
    uv_process_t handle;
    struct cn_supervisor *s;
};

struct cn_supervisor {
    uv_loop_t *loop;
    char *name;
    char **argv; /* NULL-terminated, each string owned */
    char **env;  /* NULL: inherit */
    struct cn_supervisor_backoff backoff;
    uint64_t stop_timeout_ms;
    cn_supervisor_exited_cb exited;
    void *exited_user;
    uv_timer_t restart_timer;
    uv_timer_t kill_timer;
    struct child *child; /* the running child, NULL between a death and its restart */
    long pid;
    uint64_t started_ms;
    uint64_t next_delay_ms;
    uint64_t spawn_count;
    int stopping;
    int timers_closed;
    unsigned closing; /* handles whose close callback has not run yet */
    void (*done)(void *user);
    void *done_user;
};

uint64_t cn_supervisor_restart_delay_ms(const struct cn_supervisor_backoff *backoff,
                                        uint64_t ran_ms, uint64_t *next_delay_ms)
{
    uint64_t min = backoff->min_ms ? backoff->min_ms : CN_SUPERVISOR_BACKOFF_MIN_MS;
    uint64_t max = backoff->max_ms ? backoff->max_ms : CN_SUPERVISOR_BACKOFF_MAX_MS;
    uint64_t healthy = backoff->healthy_ms ? backoff->healthy_ms : CN_SUPERVISOR_HEALTHY_MS;
    if (max < min)
        max = min;
    if (*next_delay_ms == 0 || ran_ms >= healthy)
        *next_delay_ms = min;
    uint64_t delay = *next_delay_ms > max ? max : *next_delay_ms;
    *next_delay_ms = delay > max / 2 ? max : delay * 2;
    return delay;
}

static void free_strings(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

/* A NULL-terminated copy of list (at most max entries), or NULL with *failed set. */
static char **copy_strings(const char *const *list, size_t max, int *failed)
{
    size_t n = 0;
    while (list[n])
        if (++n > max) {
            *failed = 1;
            return NULL;
        }
    char **copy = calloc(n + 1, sizeof *copy);
    if (!copy) {
        *failed = 1;
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if ((copy[i] = strdup(list[i])) == NULL) {
            free_strings(copy);
            *failed = 1;
            return NULL;
        }
    return copy;
}

static void destroy(struct cn_supervisor *s)
{
    free(s->name);
    free_strings(s->argv);
    free_strings(s->env);
    free(s);
}

/* Frees s and reports the stop once every handle is closed. */
static void maybe_finish(struct cn_supervisor *s)
{
    if (!s->stopping || !s->timers_closed || s->closing != 0 || s->child != NULL)
        return;
    void (*done)(void *user) = s->done;
    void *user = s->done_user;
    destroy(s);
    if (done)
        done(user);
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct cn_supervisor *s = handle->data;
    s->closing--;
    maybe_finish(s);
}

static void on_child_closed(uv_handle_t *handle)
{
    struct child *c = (struct child *)handle;
    struct cn_supervisor *s = c->s;
    free(c);
    s->closing--;
    maybe_finish(s);
}

static void close_timers(struct cn_supervisor *s)
{
    s->timers_closed = 1;
    s->closing += 2;
    uv_close((uv_handle_t *)&s->restart_timer, on_handle_closed);
    uv_close((uv_handle_t *)&s->kill_timer, on_handle_closed);
}

static void on_restart_timer(uv_timer_t *timer);

static void schedule_restart(struct cn_supervisor *s, uint64_t ran_ms)
{
    uint64_t delay = cn_supervisor_restart_delay_ms(&s->backoff, ran_ms, &s->next_delay_ms);
    cn_log_info("%s: restarting in %.1f s", s->name, (double)delay / 1000.0);
    uv_timer_start(&s->restart_timer, on_restart_timer, delay, 0);
}

static void on_child_exit(uv_process_t *handle, int64_t exit_status, int term_signal)
{
    struct child *c = (struct child *)handle;
    struct cn_supervisor *s = c->s;
    long pid = s->pid;
    uint64_t ran_ms = uv_now(s->loop) - s->started_ms;
    s->child = NULL;
    s->pid = 0;
    if (term_signal != 0)
        cn_log(s->stopping ? CN_LOG_INFO : CN_LOG_ERROR,
               "%s (pid %ld) %s by signal %d (%s) after %.1f s", s->name, pid,
               s->stopping ? "ended" : "died", term_signal, strsignal(term_signal),
               (double)ran_ms / 1000.0);
    else
        cn_log(s->stopping && exit_status == 0 ? CN_LOG_INFO : CN_LOG_ERROR,
               "%s (pid %ld) exited with status %lld after %.1f s%s", s->name, pid,
               (long long)exit_status, (double)ran_ms / 1000.0,
               s->stopping ? "" : " without being asked to");
    if (s->exited)
        s->exited(s->exited_user, pid, exit_status, term_signal, s->stopping);
    s->closing++;
    uv_close((uv_handle_t *)&c->handle, on_child_closed);
    if (s->stopping) {
        uv_timer_stop(&s->kill_timer);
        if (!s->timers_closed)
            close_timers(s);
        return;
    }
    schedule_restart(s, ran_ms);
}

static void spawn_child(struct cn_supervisor *s)
{
    if (s->stopping)
        return;
    struct child *c = calloc(1, sizeof *c);
    if (!c) {
        cn_log_error("could not start the %s: out of memory", s->name);
        schedule_restart(s, 0);
        return;
    }
    c->s = s;
    c->handle.data = s;
    /* stdin from /dev/null; stdout and stderr are ours, so the child's log lines join
     * the node's */
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_IGNORE},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t options = {
        .exit_cb = on_child_exit,
        .file = s->argv[0],
        .args = s->argv,
        .env = s->env,
        .stdio_count = 3,
        .stdio = stdio,
    };
    int rc = uv_spawn(s->loop, &c->handle, &options);
    if (rc != 0) {
        cn_log_error("could not start the %s \"%s\": %s", s->name, s->argv[0], uv_strerror(rc));
        /* the handle was initialised by uv_spawn and is closed like any other */
        s->closing++;
        uv_close((uv_handle_t *)&c->handle, on_child_closed);
        schedule_restart(s, 0);
        return;
    }
    s->child = c;
    s->pid = (long)c->handle.pid;
    s->started_ms = uv_now(s->loop);
    s->spawn_count++;
    cn_log_info("%s started (pid %ld)", s->name, s->pid);
}

static void on_restart_timer(uv_timer_t *timer)
{
    spawn_child(timer->data);
}

int cn_supervisor_start(uv_loop_t *loop, const struct cn_supervisor_config *config,
                        struct cn_supervisor **out, char *err, size_t err_len)
{
    if (!config->argv || !config->argv[0] || !config->name) {
        snprintf(err, err_len, "no program to supervise");
        return UV_EINVAL;
    }
    struct cn_supervisor *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return UV_ENOMEM;
    }
    int failed = 0;
    s->loop = loop;
    s->name = strdup(config->name);
    s->argv = copy_strings(config->argv, CN_SUPERVISOR_MAX_ARGS, &failed);
    if (config->env)
        s->env = copy_strings(config->env, CN_SUPERVISOR_MAX_ENV, &failed);
    if (failed || !s->name) {
        snprintf(err, err_len,
                 "could not copy the %s's command line or environment (at most "
                 "%d arguments and %d variables)",
                 config->name, CN_SUPERVISOR_MAX_ARGS, CN_SUPERVISOR_MAX_ENV);
        destroy(s);
        return UV_E2BIG;
    }
    s->backoff = config->backoff;
    s->stop_timeout_ms =
        config->stop_timeout_ms ? config->stop_timeout_ms : CN_SUPERVISOR_STOP_TIMEOUT_MS;
    s->exited = config->exited;
    s->exited_user = config->exited_user;
    uv_timer_init(loop, &s->restart_timer);
    uv_timer_init(loop, &s->kill_timer);
    s->restart_timer.data = s;
    s->kill_timer.data = s;
    spawn_child(s);
    *out = s;
    return 0;
}

long cn_supervisor_pid(const struct cn_supervisor *s)
{
    return s->pid;
}

uint64_t cn_supervisor_spawn_count(const struct cn_supervisor *s)
{
    return s->spawn_count;
}

static void on_stop_timeout(uv_timer_t *timer)
{
    struct cn_supervisor *s = timer->data;
    if (!s->child)
        return;
    cn_log_warning("%s (pid %ld) did not stop within %.0f s: killing it", s->name, s->pid,
                   (double)s->stop_timeout_ms / 1000.0);
    uv_process_kill(&s->child->handle, SIGKILL);
}

void cn_supervisor_stop(struct cn_supervisor *s, void (*done)(void *user), void *user)
{
    s->stopping = 1;
    s->done = done;
    s->done_user = user;
    uv_timer_stop(&s->restart_timer);
    if (s->child) {
        cn_log_info("stopping the %s (pid %ld)", s->name, s->pid);
        int rc = uv_process_kill(&s->child->handle, SIGTERM);
        if (rc != 0) /* already gone: its exit is being collected */
            cn_log_debug("%s: SIGTERM: %s", s->name, uv_strerror(rc));
        uv_timer_start(&s->kill_timer, on_stop_timeout, s->stop_timeout_ms, 0);
        return;
    }
    close_timers(s);
    maybe_finish(s);
}
