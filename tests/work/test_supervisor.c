/* The supervisor of the analysis process (work/supervisor.h): the backoff arithmetic
 * against a naive reference, and real children (/bin/sh) on a private loop: restarts
 * after deaths by signal with growing delays, SIGTERM at stop, SIGKILL for a child that
 * ignores it, and a program that cannot be spawned. Every loop ends closed. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "work/supervisor.h"

#define MAX_EXITS 8

/* The delays of the documented rule, one exit at a time: the first restart after min,
 * each further one twice the last (at most max), back to min after a healthy run. */
static uint64_t naive_delay(uint64_t min, uint64_t max, uint64_t healthy, uint64_t ran_ms,
                            uint64_t *last_delay)
{
    uint64_t delay;
    if (*last_delay == 0 || ran_ms >= healthy)
        delay = min;
    else
        delay = *last_delay * 2 > max ? max : *last_delay * 2;
    *last_delay = delay;
    return delay;
}

static void test_supervisor_backoff_doubles_from_one_second_to_a_minute(void **state)
{
    (void)state;
    struct cn_supervisor_backoff defaults = {0};
    uint64_t next = 0;
    static const uint64_t expected[] = {1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_int_equal(cn_supervisor_restart_delay_ms(&defaults, 500, &next), expected[i]);
    /* a minute of good running: back to a second */
    assert_int_equal(cn_supervisor_restart_delay_ms(&defaults, 60000, &next), 1000);
    assert_int_equal(cn_supervisor_restart_delay_ms(&defaults, 59999, &next), 2000);
}

static void test_supervisor_backoff_matches_a_naive_reference(void **state)
{
    (void)state;
    static const struct cn_supervisor_backoff cases[] = {
        {1000, 60000, 60000}, {10, 45, 100}, {7, 7, 1}, {300, 100, 5000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct cn_supervisor_backoff *b = &cases[c];
        uint64_t max = b->max_ms < b->min_ms ? b->min_ms : b->max_ms;
        uint64_t next = 0, last = 0;
        unsigned seed = 12345u + (unsigned)c;
        for (int i = 0; i < 200; i++) {
            seed = seed * 1103515245u + 12345u;
            uint64_t ran_ms = (seed >> 8) % (b->healthy_ms * 2 + 1);
            uint64_t got = cn_supervisor_restart_delay_ms(b, ran_ms, &next);
            uint64_t want = naive_delay(b->min_ms, max, b->healthy_ms, ran_ms, &last);
            assert_int_equal(got, want);
        }
    }
}

struct exit_record {
    long pid;
    int64_t status;
    int signal;
    int stopping;
    uint64_t at_ms;
};

struct fixture {
    uv_loop_t loop;
    struct cn_supervisor *supervisor;
    struct exit_record exits[MAX_EXITS];
    int exit_count;
    int stop_after; /* stop once this many unexpected exits were seen (0: never) */
    int stopped;
    uv_timer_t timer; /* test-driven actions */
    char ready_path[64];
};

static void on_stopped(void *user)
{
    struct fixture *f = user;
    f->stopped = 1;
}

static void on_exited(void *user, long pid, int64_t exit_status, int term_signal, int stopping)
{
    struct fixture *f = user;
    assert_true(f->exit_count < MAX_EXITS);
    f->exits[f->exit_count++] =
        (struct exit_record){pid, exit_status, term_signal, stopping, uv_now(&f->loop)};
    assert_int_equal(cn_supervisor_pid(f->supervisor), 0);
    if (f->stop_after && f->exit_count == f->stop_after)
        cn_supervisor_stop(f->supervisor, on_stopped, f);
}

static void start(struct fixture *f, const char *const *argv, uint64_t stop_timeout_ms)
{
    struct cn_supervisor_config config = {
        .name = "test child",
        .argv = argv,
        .backoff = {.min_ms = 20, .max_ms = 50, .healthy_ms = 60000},
        .stop_timeout_ms = stop_timeout_ms,
        .exited = on_exited,
        .exited_user = f,
    };
    char err[256];
    assert_int_equal(cn_supervisor_start(&f->loop, &config, &f->supervisor, err, sizeof err), 0);
}

static void finish(struct fixture *f)
{
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_true(f->stopped);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* A child that dies by SIGSEGV at once is restarted after 20, 40, then 50 ms (capped),
 * and each death is reported with its signal. */
static void test_supervisor_restarts_a_child_killed_by_a_signal(void **state)
{
    (void)state;
    struct fixture f = {.stop_after = 4};
    assert_int_equal(uv_loop_init(&f.loop), 0);
    static const char *const argv[] = {"/bin/sh", "-c", "kill -SEGV $$", NULL};
    start(&f, argv, 0);
    finish(&f);
    assert_int_equal(f.exit_count, 4);
    static const uint64_t delays[] = {20, 40, 50};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(f.exits[i].signal, SIGSEGV);
        assert_int_equal(f.exits[i].stopping, 0);
        assert_true(f.exits[i].pid > 0);
        if (i > 0) {
            assert_true(f.exits[i].pid != f.exits[i - 1].pid);
            assert_true(f.exits[i].at_ms - f.exits[i - 1].at_ms >= delays[i - 1]);
        }
    }
}

static void stop_now(uv_timer_t *timer)
{
    struct fixture *f = timer->data;
    uv_close((uv_handle_t *)timer, NULL);
    assert_true(cn_supervisor_pid(f->supervisor) > 0);
    cn_supervisor_stop(f->supervisor, on_stopped, f);
}

/* Polls (on the loop, no sleep) for the file the child creates once its SIGTERM
 * disposition is set, then stops the supervisor. */
static void stop_when_ready(uv_timer_t *timer)
{
    struct fixture *f = timer->data;
    struct stat st;
    if (stat(f->ready_path, &st) == 0) {
        uv_timer_stop(timer);
        stop_now(timer);
    }
}

/* A child stopped by the supervisor ends by SIGTERM, reported as asked for, and is not
 * restarted. */
static void test_supervisor_stop_ends_the_child_with_sigterm(void **state)
{
    (void)state;
    struct fixture f = {0};
    assert_int_equal(uv_loop_init(&f.loop), 0);
    static const char *const argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
    start(&f, argv, 0);
    assert_true(cn_supervisor_pid(f.supervisor) > 0);
    assert_int_equal(cn_supervisor_spawn_count(f.supervisor), 1);
    uv_timer_init(&f.loop, &f.timer);
    f.timer.data = &f;
    uv_timer_start(&f.timer, stop_now, 0, 0);
    finish(&f);
    assert_int_equal(f.exit_count, 1);
    assert_int_equal(f.exits[0].signal, SIGTERM);
    assert_int_equal(f.exits[0].stopping, 1);
}

/* A child that ignores SIGTERM is killed after the stop timeout. */
static void test_supervisor_stop_kills_a_child_that_ignores_sigterm(void **state)
{
    (void)state;
    struct fixture f = {0};
    assert_int_equal(uv_loop_init(&f.loop), 0);
    char dir[] = "/tmp/cn-supervisor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    snprintf(f.ready_path, sizeof f.ready_path, "%s/ready", dir);
    char script[160];
    snprintf(script, sizeof script, "trap '' TERM; : > %s; exec sleep 30", f.ready_path);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    start(&f, argv, 50);
    uv_timer_init(&f.loop, &f.timer);
    f.timer.data = &f;
    uv_timer_start(&f.timer, stop_when_ready, 1, 1);
    uint64_t begin = uv_now(&f.loop);
    finish(&f);
    assert_int_equal(f.exit_count, 1);
    assert_int_equal(f.exits[0].signal, SIGKILL);
    assert_int_equal(f.exits[0].stopping, 1);
    assert_true(f.exits[0].at_ms - begin >= 50);
    unlink(f.ready_path);
    rmdir(dir);
}

static void stop_unspawned(uv_timer_t *timer)
{
    struct fixture *f = timer->data;
    uv_close((uv_handle_t *)timer, NULL);
    assert_int_equal(cn_supervisor_pid(f->supervisor), 0);
    assert_int_equal(cn_supervisor_spawn_count(f->supervisor), 0);
    cn_supervisor_stop(f->supervisor, on_stopped, f);
}

/* A program that cannot be spawned is retried with the backoff, never reported as an
 * exit, and the supervisor still stops cleanly. */
static void test_supervisor_retries_a_program_that_cannot_be_spawned(void **state)
{
    (void)state;
    struct fixture f = {0};
    assert_int_equal(uv_loop_init(&f.loop), 0);
    static const char *const argv[] = {"/nonexistent/calcnode", "worker", NULL};
    start(&f, argv, 0);
    assert_int_equal(cn_supervisor_pid(f.supervisor), 0);
    uv_timer_init(&f.loop, &f.timer);
    f.timer.data = &f;
    uv_timer_start(&f.timer, stop_unspawned, 70, 0); /* past two retries (20 + 40 ms) */
    finish(&f);
    assert_int_equal(f.exit_count, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_supervisor_backoff_doubles_from_one_second_to_a_minute),
        cmocka_unit_test(test_supervisor_backoff_matches_a_naive_reference),
        cmocka_unit_test(test_supervisor_restarts_a_child_killed_by_a_signal),
        cmocka_unit_test(test_supervisor_stop_ends_the_child_with_sigterm),
        cmocka_unit_test(test_supervisor_stop_kills_a_child_that_ignores_sigterm),
        cmocka_unit_test(test_supervisor_retries_a_program_that_cannot_be_spawned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
