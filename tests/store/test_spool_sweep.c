/* cn_spool_sweep on hand-made state folders: what a crash after a commit leaves behind
 * (a .part name that is a second link to a stored file) goes; everything else stays. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/spool.h"

struct fixture {
    char state_dir[256];
    char spool_dir[300];
    char store_dir[300];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->state_dir, sizeof f->state_dir, "/tmp/cn_sweep_XXXXXX");
    assert_non_null(mkdtemp(f->state_dir));
    snprintf(f->spool_dir, sizeof f->spool_dir, "%s/spool", f->state_dir);
    snprintf(f->store_dir, sizeof f->store_dir, "%s/store", f->state_dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->state_dir);
    assert_int_equal(system(cmd), 0);
    free(f);
    return 0;
}

static void write_text(const char *dir, const char *name, const char *text, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fputs(text, fp) >= 0, 1);
    assert_int_equal(fclose(fp), 0);
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

static void test_spool_sweep_removes_only_part_names_that_are_second_links(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(mkdir(f->spool_dir, 0750), 0);
    assert_int_equal(mkdir(f->store_dir, 0750), 0);
    char stored[400], committed[400], receiving[400], other[400], linked_other[400];
    /* committed: a .part name still linked to its stored file */
    write_text(f->store_dir, "1.2.3.dcm", "stored bytes", stored, sizeof stored);
    snprintf(committed, sizeof committed, "%s/aaaa.part", f->spool_dir);
    assert_int_equal(link(stored, committed), 0);
    /* receiving (or kept after a failure): a single link */
    write_text(f->spool_dir, "bbbb.part", "partial", receiving, sizeof receiving);
    /* not a .part name, even with a second link */
    write_text(f->spool_dir, "notes.txt", "x", other, sizeof other);
    snprintf(linked_other, sizeof linked_other, "%s/notes.keep", f->store_dir);
    assert_int_equal(link(other, linked_other), 0);

    size_t removed = 99;
    char err[256] = "";
    assert_int_equal(cn_spool_sweep(f->state_dir, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 1);
    assert_false(exists(committed));
    assert_true(exists(stored));
    assert_true(exists(receiving));
    assert_true(exists(other));
    struct stat st;
    assert_int_equal(stat(stored, &st), 0);
    assert_int_equal(st.st_nlink, 1);
    assert_int_equal(st.st_size, (off_t)strlen("stored bytes"));

    /* a second sweep finds nothing more */
    assert_int_equal(cn_spool_sweep(f->state_dir, &removed, err, sizeof err), 0);
    assert_int_equal(removed, 0);
}

static void test_spool_sweep_accepts_a_state_folder_without_spool(void **state)
{
    struct fixture *f = *state;
    size_t removed = 99;
    assert_int_equal(cn_spool_sweep(f->state_dir, &removed, NULL, 0), 0);
    assert_int_equal(removed, 0);
}

static void test_spool_sweep_reports_an_unreadable_spool_path(void **state)
{
    struct fixture *f = *state;
    char path[400];
    write_text(f->state_dir, "spool", "a file, not a folder", path, sizeof path);
    size_t removed = 99;
    char err[256] = "";
    assert_int_equal(cn_spool_sweep(f->state_dir, &removed, err, sizeof err), CN_SPOOL_EIO);
    assert_int_equal(removed, 0);
    assert_non_null(strstr(err, "could not open directory"));
    assert_non_null(strstr(err, path));
}

static void test_spool_sweep_refuses_a_missing_state_dir_argument(void **state)
{
    (void)state;
    char err[256] = "";
    assert_int_equal(cn_spool_sweep(NULL, NULL, err, sizeof err), CN_SPOOL_ESTATE);
    assert_string_equal(err, "no state folder given");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_spool_sweep_removes_only_part_names_that_are_second_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_sweep_accepts_a_state_folder_without_spool,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_spool_sweep_reports_an_unreadable_spool_path, setup,
                                        teardown),
        cmocka_unit_test(test_spool_sweep_refuses_a_missing_state_dir_argument),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
