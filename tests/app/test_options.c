/* node/app/options: cn_options_parse over real argv arrays. Each test runs in a fresh
 * temporary working directory so that the default configuration path
 * (conf/calcnode.conf, relative) is under the test's control. */
#define _GNU_SOURCE
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

#include "app/options.h"

#define MAX_ARGS 32
#define USAGE "usage: calcnode test [options] FILE...\n"

static char work_dir[64];
static char old_cwd[4096];

static int setup(void **state)
{
    (void)state;
    if (getcwd(old_cwd, sizeof old_cwd) == NULL)
        return -1;
    snprintf(work_dir, sizeof work_dir, "/tmp/cn-options-XXXXXX");
    if (mkdtemp(work_dir) == NULL || chdir(work_dir) != 0)
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(CN_CONF_DEFAULT_PATH);
    rmdir("conf");
    unlink("a.conf");
    if (chdir(old_cwd) != 0)
        return -1;
    return rmdir(work_dir);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* A mutable argv (getopt permutes it) built from string literals. */
struct args {
    int argc;
    char *argv[MAX_ARGS + 1];
};

static void args_init(struct args *a, const char *const *list)
{
    memset(a, 0, sizeof *a);
    for (; *list; list++) {
        assert_true(a->argc < MAX_ARGS);
        a->argv[a->argc] = strdup(*list);
        assert_non_null(a->argv[a->argc]);
        a->argc++;
    }
}

static void args_free(struct args *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
}

/* What the command's own options delivered. */
struct seen {
    int count;
    int codes[8];
    char args[8][64];
    int fail_code; /* on_option returns -1 for this code */
};

static int on_option(int code, const char *arg, void *user)
{
    struct seen *seen = user;
    if (code == seen->fail_code)
        return -1;
    assert_true(seen->count < 8);
    seen->codes[seen->count] = code;
    snprintf(seen->args[seen->count], sizeof seen->args[0], "%s", arg ? arg : "(null)");
    seen->count++;
    return 0;
}

enum { OPT_DRY_RUN = CN_OPT_FIRST_COMMAND_SPECIFIC };

static const struct option extra[] = {
    {"output", required_argument, NULL, 'o'},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"json", no_argument, NULL, CN_OPT_JSON},
    {NULL, 0, NULL, 0},
};

/* Parses list; returns cn_options_parse's result. */
static int parse(const char *const *list, struct cn_conf *conf, struct seen *seen, int *positional,
                 struct args *a)
{
    args_init(a, list);
    return cn_options_parse(a->argc, a->argv, USAGE, extra, on_option, seen, conf, positional);
}

static void test_without_options_gives_the_defaults(void **state)
{
    (void)state;
    const char *const list[] = {"calcnode", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    int positional = -1;
    assert_int_equal(parse(list, &conf, &seen, &positional, &a), 0);
    assert_int_equal(positional, 1);
    assert_int_equal(conf.port, 11112);
    assert_string_equal(conf.ae_title, "CALCNODE");
    assert_string_equal(conf.source_path, "");
    assert_int_equal(seen.count, 0);
    args_free(&a);
}

static void test_config_option_loads_the_file(void **state)
{
    (void)state;
    write_file("a.conf", "[node]\nport = 2000\nae_title = FROMFILE\n[peer PACS]\nhost = h\n"
                         "port = 104\n");
    const char *const list[] = {"calcnode", "-c", "a.conf", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.port, 2000);
    assert_string_equal(conf.ae_title, "FROMFILE");
    assert_string_equal(conf.source_path, "a.conf");
    assert_non_null(cn_conf_find_peer(&conf, "PACS"));
    args_free(&a);

    const char *const list_long[] = {"calcnode", "--config=a.conf", NULL};
    assert_int_equal(parse(list_long, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.port, 2000);
    args_free(&a);
}

static void test_missing_explicit_config_file_is_an_error(void **state)
{
    (void)state;
    const char *const list[] = {"calcnode", "-c", "missing.conf", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), -1);
    args_free(&a);
}

static void test_default_config_path_is_loaded_when_present(void **state)
{
    (void)state;
    assert_int_equal(mkdir("conf", 0755), 0);
    write_file(CN_CONF_DEFAULT_PATH, "[node]\nworkers = 5\n");
    const char *const list[] = {"calcnode", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.workers, 5);
    assert_string_equal(conf.source_path, CN_CONF_DEFAULT_PATH);
    args_free(&a);

    /* -c names another file: the default one is not read */
    write_file("a.conf", "[node]\nport = 3000\n");
    const char *const list_c[] = {"calcnode", "-c", "a.conf", NULL};
    assert_int_equal(parse(list_c, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.workers, 0);
    assert_int_equal(conf.port, 3000);
    args_free(&a);
}

static void test_command_line_key_overrides_the_file_in_either_order(void **state)
{
    (void)state;
    write_file("a.conf", "[node]\nport = 2000\nlog_level = error\nstate_dir = /from/file\n");
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    const char *const before[] = {"calcnode", "--port", "3000", "--state-dir=/from/cli",
                                  "-c",       "a.conf", NULL};
    assert_int_equal(parse(before, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.port, 3000);
    assert_string_equal(conf.state_dir, "/from/cli");
    assert_int_equal(conf.log_level, 0); /* from the file */
    assert_string_equal(conf.source_path, "a.conf");
    args_free(&a);

    const char *const after[] = {"calcnode", "-c",          "a.conf",    "--port",
                                 "3000",     "--state-dir", "/from/cli", NULL};
    assert_int_equal(parse(after, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.port, 3000);
    assert_string_equal(conf.state_dir, "/from/cli");
    args_free(&a);
}

static void test_every_shared_override_reaches_the_configuration(void **state)
{
    (void)state;
    const char *const list[] = {"calcnode",
                                "--port=104",
                                "--ae-title=OVERRIDE",
                                "--state-dir=/srv/state",
                                "--database-url=host=/run dbname=x",
                                "--peer=PACS=10.1.2.3:4242",
                                "--workers=7",
                                "--listen-host=127.0.0.1",
                                "--artim-timeout=9",
                                "--max-pdu-length=65536",
                                "--log-level=warning",
                                "--sql-dir=/opt/sql",
                                NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.port, 104);
    assert_string_equal(conf.ae_title, "OVERRIDE");
    assert_string_equal(conf.state_dir, "/srv/state");
    assert_string_equal(conf.database_url, "host=/run dbname=x");
    const struct cn_peer *p = cn_conf_find_peer(&conf, "PACS");
    assert_non_null(p);
    assert_string_equal(p->host, "10.1.2.3");
    assert_int_equal(p->port, 4242);
    assert_int_equal(conf.workers, 7);
    assert_string_equal(conf.listen_host, "127.0.0.1");
    assert_int_equal(conf.artim_timeout_ms, 9000);
    assert_int_equal(conf.max_pdu_length, 65536);
    assert_int_equal(conf.log_level, 1);
    assert_string_equal(conf.sql_dir, "/opt/sql");
    assert_int_equal(seen.count, 0);
    args_free(&a);
}

static void test_command_line_peer_replaces_the_files_peer(void **state)
{
    (void)state;
    write_file("a.conf", "[peer PACS]\nhost = old\nport = 1\n[peer OTHER]\nhost = o\nport = 2\n");
    const char *const list[] = {"calcnode", "--peer", "PACS=new:3", "-c", "a.conf", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), 0);
    assert_int_equal(conf.peer_count, 2);
    assert_string_equal(cn_conf_find_peer(&conf, "PACS")->host, "new");
    assert_int_equal(cn_conf_find_peer(&conf, "PACS")->port, 3);
    assert_string_equal(cn_conf_find_peer(&conf, "OTHER")->host, "o");
    args_free(&a);
}

static void test_invalid_override_values_are_usage_errors(void **state)
{
    (void)state;
    const char *const *cases[] = {
        (const char *const[]){"calcnode", "--port", "0", NULL},
        (const char *const[]){"calcnode", "--port", "12ab", NULL},
        (const char *const[]){"calcnode", "--ae-title", "ABCDEFGHIJKLMNOPQ", NULL},
        (const char *const[]){"calcnode", "--log-level", "loud", NULL},
        (const char *const[]){"calcnode", "--peer", "PACS", NULL},
        (const char *const[]){"calcnode", "--port", NULL}, /* missing argument */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct cn_conf conf;
        struct seen seen = {0};
        struct args a;
        if (parse(cases[i], &conf, &seen, NULL, &a) != -1)
            fail_msg("case %zu accepted", i);
        args_free(&a);
    }
}

/* Regression (node/app/options.c apply_override): an override is applied by
 * parsing the text "[node]\nKEY = VALUE\n" with the file parser, so a value holding a
 * newline sets other keys ("--state-dir $'/x\nport = 1'" also changes the port), and a
 * value is cut at inih's 199-character line limit or at " ;" (an inline comment).
 * Fix: export the per-key setter of conf.c (e.g. cn_conf_set(conf, "node", key, value,
 * err, err_len)) and call it directly instead of going through inih. */
static void test_override_value_with_a_newline_sets_no_other_key(void **state)
{
    (void)state;
    const char *const list[] = {"calcnode", "--state-dir", "/srv/a\nport = 1", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    int rc = parse(list, &conf, &seen, NULL, &a);
    args_free(&a);
    /* either rejected, or taken verbatim as the directory name; never a second key */
    assert_int_equal(conf.port, 11112);
    if (rc == 0)
        assert_string_equal(conf.state_dir, "/srv/a\nport = 1");
}

static void test_help_returns_one(void **state)
{
    (void)state;
    const char *const list_long[] = {"calcnode", "--port", "104", "--help", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list_long, &conf, &seen, NULL, &a), 1);
    args_free(&a);
    const char *const list_short[] = {"calcnode", "-h", NULL};
    assert_int_equal(parse(list_short, &conf, &seen, NULL, &a), 1);
    args_free(&a);
}

static void test_unknown_option_returns_minus_one(void **state)
{
    (void)state;
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    const char *const list_long[] = {"calcnode", "--no-such-option", NULL};
    assert_int_equal(parse(list_long, &conf, &seen, NULL, &a), -1);
    args_free(&a);
    const char *const list_short[] = {"calcnode", "-z", NULL};
    assert_int_equal(parse(list_short, &conf, &seen, NULL, &a), -1);
    args_free(&a);
    assert_int_equal(seen.count, 0);
}

static void test_command_options_reach_on_option_short_and_long(void **state)
{
    (void)state;
    const char *const list[] = {"calcnode",      "-o",        "out1",   "--output", "out2",
                                "--output=out3", "--dry-run", "--json", "-oout4",   NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), 0);
    assert_int_equal(seen.count, 6);
    assert_int_equal(seen.codes[0], 'o');
    assert_string_equal(seen.args[0], "out1");
    assert_int_equal(seen.codes[1], 'o');
    assert_string_equal(seen.args[1], "out2");
    assert_int_equal(seen.codes[2], 'o');
    assert_string_equal(seen.args[2], "out3");
    assert_int_equal(seen.codes[3], OPT_DRY_RUN);
    assert_string_equal(seen.args[3], "(null)");
    assert_int_equal(seen.codes[4], CN_OPT_JSON);
    assert_int_equal(seen.codes[5], 'o');
    assert_string_equal(seen.args[5], "out4");
    args_free(&a);
}

static void test_on_option_failure_is_a_usage_error(void **state)
{
    (void)state;
    const char *const list[] = {"calcnode", "--dry-run", NULL};
    struct cn_conf conf;
    struct seen seen = {.fail_code = OPT_DRY_RUN};
    struct args a;
    assert_int_equal(parse(list, &conf, &seen, NULL, &a), -1);
    args_free(&a);

    /* a command option without an on_option handler */
    args_init(&a, list);
    assert_int_equal(cn_options_parse(a.argc, a.argv, USAGE, extra, NULL, NULL, &conf, NULL), -1);
    args_free(&a);
}

static void test_positional_arguments_follow_the_options(void **state)
{
    (void)state;
    write_file("a.conf", "[node]\nport = 2000\n");
    const char *const list[] = {"calcnode", "first.dcm", "-c",  "a.conf",    "second.dcm", "--port",
                                "3000",     "-o",        "dir", "third.dcm", NULL};
    struct cn_conf conf;
    struct seen seen = {0};
    struct args a;
    int positional = -1;
    assert_int_equal(parse(list, &conf, &seen, &positional, &a), 0);
    assert_int_equal(conf.port, 3000);
    assert_int_equal(seen.count, 1);
    assert_string_equal(seen.args[0], "dir");
    assert_int_equal(a.argc - positional, 3);
    assert_string_equal(a.argv[positional], "first.dcm");
    assert_string_equal(a.argv[positional + 1], "second.dcm");
    assert_string_equal(a.argv[positional + 2], "third.dcm");
    args_free(&a);

    /* "--" ends the options: what follows is positional even when it looks like one */
    const char *const list_dashes[] = {"calcnode", "--", "--port", NULL};
    assert_int_equal(parse(list_dashes, &conf, &seen, &positional, &a), 0);
    assert_int_equal(conf.port, 11112);
    assert_int_equal(a.argc - positional, 1);
    assert_string_equal(a.argv[positional], "--port");
    args_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_without_options_gives_the_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_option_loads_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_explicit_config_file_is_an_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_default_config_path_is_loaded_when_present, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_command_line_key_overrides_the_file_in_either_order,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_shared_override_reaches_the_configuration, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_command_line_peer_replaces_the_files_peer, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_invalid_override_values_are_usage_errors, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_override_value_with_a_newline_sets_no_other_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_help_returns_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_option_returns_minus_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_options_reach_on_option_short_and_long, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_on_option_failure_is_a_usage_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positional_arguments_follow_the_options, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
