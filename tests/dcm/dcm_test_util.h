/* Helpers shared by the tests/dcm executables: shared-data paths, temporary folders,
 * external tools (DCMTK, dicom3tools, python3). Header-only (static inline) because each
 * test_*.c file is its own executable. */
#ifndef CN_TESTS_DCM_TEST_UTIL_H
#define CN_TESTS_DCM_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TEST_EXIT_SKIP 77
#define TEST_PATH_SIZE 4096

/* Builds CALCNODE_DATA_DIR/rel into buf. */
static inline const char *data_path(char *buf, size_t size, const char *rel)
{
    snprintf(buf, size, "%s/%s", CALCNODE_DATA_DIR, rel);
    return buf;
}

static inline int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* 1 when the shared data folder holds rel, else prints why the test is skipped. */
static inline int have_data(const char *rel)
{
    char path[TEST_PATH_SIZE];
    if (file_exists(data_path(path, sizeof path, rel)))
        return 1;
    fprintf(stderr, "skipped: shared test data \"%s\" is absent\n", path);
    return 0;
}

/* 1 when program is found on PATH, else prints why the test is skipped. */
static inline int have_tool(const char *program)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", program);
    if (system(cmd) == 0)
        return 1;
    fprintf(stderr, "skipped: tool \"%s\" is not installed\n", program);
    return 0;
}

/* Runs a shell command; returns its exit status, or -1 when it did not exit normally. */
static inline int run(const char *cmd)
{
    int status = system(cmd);
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* Creates a fresh temporary folder into buf (at least 64 bytes). */
static inline const char *make_temp_dir(char *buf, size_t size)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, size, "%s/cn_dcm_test_XXXXXX", base != NULL ? base : "/tmp");
    return mkdtemp(buf);
}

static inline void remove_temp_dir(const char *dir)
{
    char cmd[TEST_PATH_SIZE + 32];
    if (dir == NULL || strstr(dir, "cn_dcm_test_") == NULL)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    (void)run(cmd);
}

#endif
