/* node/db/embedded: stopping, restarting over stale lock files, refusing bad set-ups. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db/db.h"
#include "db/embedded.h"
#include "cluster.h"

#define WATCHDOG_S 180

/* Processes whose working directory is dir: the postmaster and every backend chdir to
 * the data directory, so none may remain after a stop. */
static int processes_in(const char *dir)
{
    char resolved[PATH_MAX];
    if (realpath(dir, resolved) == NULL)
        return -1;
    DIR *proc = opendir("/proc");
    assert_non_null(proc);
    int count = 0;
    struct dirent *e;
    while ((e = readdir(proc)) != NULL) {
        char link[300], target[PATH_MAX];
        if (strspn(e->d_name, "0123456789") != strlen(e->d_name))
            continue;
        snprintf(link, sizeof link, "/proc/%s/cwd", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, resolved) == 0)
            count++;
    }
    closedir(proc);
    return count;
}

static void pg_dir(char *out, size_t out_len)
{
    snprintf(out, out_len, "%s/pg", test_cluster.state_dir);
}

static char *read_pid_file(void)
{
    char path[256];
    snprintf(path, sizeof path, "%s/pg/postmaster.pid", test_cluster.state_dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char *text = calloc(1, 4096);
    assert_non_null(text);
    size_t n = fread(text, 1, 4095, f);
    fclose(f);
    assert_true(n > 0);
    return text;
}

/* Writes postmaster.pid as the server left it, first line replaced by pid. */
static void write_pid_file(const char *original, long pid)
{
    char path[256];
    snprintf(path, sizeof path, "%s/pg/postmaster.pid", test_cluster.state_dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n%s", pid, strchr(original, '\n') + 1);
    fclose(f);
}

static void restart_ok(void)
{
    char err[CN_DB_ERR_SIZE];
    if (cn_pg_embedded_start(test_cluster.state_dir, &test_cluster.pg, err, sizeof err) != 0)
        fail_msg("%s", err);
    PGconn *conn = test_cluster_connect(NULL);
    assert_non_null(conn);
    PQfinish(conn);
}

static void test_embedded_stop_leaves_no_postgres_process(void **state)
{
    (void)state;
    char dir[256];
    pg_dir(dir, sizeof dir);
    assert_true(processes_in(dir) >= 1);
    pid_t pid = cn_pg_embedded_pid(test_cluster.pg);
    assert_int_equal(cn_pg_embedded_stop(test_cluster.pg), 0);
    test_cluster.pg = NULL;
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_int_equal(processes_in(dir), 0);
    restart_ok();
}

/* A crash leaves postmaster.pid naming a dead process: the next start proceeds. */
static void test_embedded_start_proceeds_over_a_dead_postmasters_pid_file(void **state)
{
    (void)state;
    char *original = read_pid_file();
    assert_int_equal(cn_pg_embedded_stop(test_cluster.pg), 0);
    test_cluster.pg = NULL;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(0);
    assert_int_equal(waitpid(child, NULL, 0), child); /* child is now a dead pid */
    write_pid_file(original, child);
    free(original);
    restart_ok();
}

/* After a reboot the recorded pid may belong to an unrelated live process. */
static void test_embedded_start_proceeds_when_the_pid_is_reused_by_another_program(void **state)
{
    (void)state;
    char *original = read_pid_file();
    assert_int_equal(cn_pg_embedded_stop(test_cluster.pg), 0);
    test_cluster.pg = NULL;
    /* Alive and not a postgres; not calcnode itself either (postgres already ignores its
     * own parent's pid). */
    pid_t bystander = fork();
    assert_true(bystander >= 0);
    if (bystander == 0) {
        /* Never outlives the test, even when an assertion skips the kill below. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        alarm(WATCHDOG_S);
        if (getppid() == 1)
            _exit(0);
        pause();
        _exit(0);
    }
    write_pid_file(original, (long)bystander);
    free(original);
    restart_ok();
    kill(bystander, SIGKILL);
    assert_int_equal(waitpid(bystander, NULL, 0), bystander);
}

static void test_embedded_start_explains_an_unsearchable_parent_when_root(void **state)
{
    (void)state;
    if (geteuid() != 0)
        skip();
    char parent[256], state_dir[300], err[CN_DB_ERR_SIZE];
    snprintf(parent, sizeof parent, "%s/private", test_cluster.state_dir);
    assert_int_equal(mkdir(parent, 0700), 0);
    snprintf(state_dir, sizeof state_dir, "%s/state", parent);
    struct cn_pg_embedded *pg = NULL;
    assert_int_equal(cn_pg_embedded_start(state_dir, &pg, err, sizeof err), CN_DB_ESYS);
    assert_null(pg);
    assert_non_null(strstr(err, "cannot enter directory"));
    assert_non_null(strstr(err, parent));
}

static void test_embedded_start_reports_missing_binaries(void **state)
{
    (void)state;
    char other[300], err[CN_DB_ERR_SIZE];
    snprintf(other, sizeof other, "%s/other", test_cluster.state_dir);
    assert_int_equal(setenv("CALCNODE_PG_BINDIR", "/nonexistent/bin", 1), 0);
    struct cn_pg_embedded *pg = NULL;
    int rc = cn_pg_embedded_start(other, &pg, err, sizeof err);
    unsetenv("CALCNODE_PG_BINDIR");
    assert_int_equal(rc, CN_DB_ENOTFOUND);
    assert_null(pg);
    assert_non_null(strstr(err, "/nonexistent/bin"));
}

int main(void)
{
    if (!test_cluster_available()) {
        fprintf(stderr, "skipped: no PostgreSQL server binaries installed\n");
        return TEST_SKIP;
    }
    alarm(WATCHDOG_S);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_embedded_stop_leaves_no_postgres_process),
        cmocka_unit_test(test_embedded_start_proceeds_over_a_dead_postmasters_pid_file),
        cmocka_unit_test(test_embedded_start_proceeds_when_the_pid_is_reused_by_another_program),
        cmocka_unit_test(test_embedded_start_explains_an_unsearchable_parent_when_root),
        cmocka_unit_test(test_embedded_start_reports_missing_binaries),
    };
    return cmocka_run_group_tests(tests, test_cluster_start, test_cluster_stop);
}
