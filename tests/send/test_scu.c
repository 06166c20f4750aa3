/* node/send/scu against real peers: DCMTK storescp and Orthanc as child processes. */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <uv.h>

#include "dimse/command.h"
#include "peer.h"
#include "send/scu.h"

#define WATCHDOG_S 300
#define MAX_RESULTS 16
#define SHORT_TIMEOUT_MS 500u
#define CALLED_AE "STORESCP"

struct outcome {
    struct cn_scu_result results[MAX_RESULTS];
    size_t count;
    int calls;
};

static char work_dir[64];
static char objects[3][512];

static int group_setup(void **state)
{
    (void)state;
    if (!peer_have("storescp") || !peer_have("dcmcjpeg")) {
        fprintf(stderr, "DCMTK tools are not installed: skipping\n");
        exit(PEER_SKIP);
    }
    alarm(WATCHDOG_S);
    snprintf(work_dir, sizeof work_dir, "/tmp/cn-scu-XXXXXX");
    if (mkdtemp(work_dir) == NULL)
        return -1;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/objects", work_dir);
    mkdir(dir, 0755);
    return peer_make_objects(dir, 7, objects);
}

static int group_teardown(void **state)
{
    (void)state;
    peer_remove_tree(work_dir);
    return 0;
}

static void on_done(const struct cn_scu_result *results, size_t count, void *user)
{
    struct outcome *o = user;
    o->calls++;
    o->count = count < MAX_RESULTS ? count : MAX_RESULTS;
    memcpy(o->results, results, o->count * sizeof *results);
}

static void run_scu(uint16_t port, const char *called_ae, const char *const *paths, size_t count,
                    uint32_t timeout_ms, struct outcome *o)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct cn_scu_options options = {.calling_ae = "CALCNODE",
                                     .called_ae = called_ae,
                                     .host = "127.0.0.1",
                                     .port = port,
                                     .timeout_ms = timeout_ms};
    memset(o, 0, sizeof *o);
    assert_int_equal(cn_scu_start(&loop, &options, paths, count, on_done, o, NULL), 0);
    assert_int_equal(o->calls, 0); /* never from inside the start */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o->calls, 1);
    assert_int_equal(o->count, count);
    assert_int_equal(uv_loop_close(&loop), 0);
}

#define DIR_SIZE 256

static pid_t start_storescp(const char *name, const char *extra, uint16_t *port, char *out_dir)
{
    *port = peer_free_port();
    char log[256];
    snprintf(out_dir, DIR_SIZE, "%s/%s", work_dir, name);
    mkdir(out_dir, 0755);
    snprintf(log, sizeof log, "%s/%s.log", work_dir, name);
    pid_t pid = peer_start_storescp(*port, CALLED_AE, out_dir, extra, log);
    assert_true(pid > 0);
    return pid;
}

/* The shared real objects of other SOP classes and transfer syntaxes, when present. */
static size_t add_shared_objects(const char **paths, size_t n, char storage[][512])
{
    static const char *const shared[] = {
        "seg/highdicom_seg_image_cr_binary.dcm",           /* Segmentation */
        "sr/dcmqi_sr-example_TID1500_ComprehensiveSR.dcm", /* Comprehensive SR */
        "sr/dcm4che_report_dfl_EnhancedSR_Deflated.dcm",   /* Deflated Explicit VR LE */
    };
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++) {
        snprintf(storage[i], 512, "%s/%s", CALCNODE_DATA_DIR, shared[i]);
        if (access(storage[i], R_OK) == 0)
            paths[n++] = storage[i];
    }
    return n;
}

static void test_scu_sends_every_class_and_transfer_syntax_bit_exact_to_storescp(void **state)
{
    (void)state;
    uint16_t port;
    char dir[DIR_SIZE];
    pid_t pid = start_storescp("all", NULL, &port, dir);
    /* a large image: many CN_SCU_CHUNK_LEN parts, writes above the high-water mark */
    char large[512], cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 '%s/tools/make-test-images' '%s/objects' 1 --seed 8 --rows 1600 "
             "--columns 1200 >/dev/null",
             CALCNODE_SOURCE_DIR, work_dir);
    assert_int_equal(system(cmd), 0);
    snprintf(large, sizeof large, "%s/objects/mg_8_0001.dcm", work_dir);
    const char *paths[8] = {objects[0], objects[1], objects[2], large};
    char shared[3][512];
    size_t n = add_shared_objects(paths, 4, shared);
    if (n == 4)
        fprintf(stderr, "note: %s absent, sending the generated objects only\n", CALCNODE_DATA_DIR);
    struct outcome o;
    run_scu(port, CALLED_AE, paths, n, 0, &o);
    peer_stop(pid);
    for (size_t i = 0; i < n; i++) {
        const struct cn_scu_result *r = &o.results[i];
        assert_string_equal(r->path, paths[i]);
        if (r->outcome != CN_SCU_SENT)
            fail_msg("%s: %s %s", paths[i], cn_scu_outcome_name(r->outcome), r->error);
        assert_true(r->has_status);
        assert_int_equal(r->status, CN_DIMSE_STATUS_SUCCESS);
        assert_string_equal(r->error, "");
        char received[512];
        assert_int_equal(peer_find_received(dir, r->sop_instance_uid, received, sizeof received),
                         0);
        struct cn_send_meta meta;
        if (!peer_same_data_set(paths[i], received, &meta))
            fail_msg("%s arrived with different bytes as %s", paths[i], received);
    }
    assert_int_equal(peer_count_files(dir), (int)n);
}

static void test_scu_fails_only_the_files_whose_context_the_peer_rejects(void **state)
{
    (void)state;
    uint16_t port;
    char dir[DIR_SIZE];
    /* without +xa storescp accepts only the uncompressed syntaxes: JPEG Lossless is
     * refused */
    port = peer_free_port();
    snprintf(dir, sizeof dir, "%s/uncompressed", work_dir);
    mkdir(dir, 0755);
    char log[256], port_text[8];
    snprintf(log, sizeof log, "%s/uncompressed.log", work_dir);
    snprintf(port_text, sizeof port_text, "%u", port);
    char *argv[] = {"storescp", "-aet", CALLED_AE, "-od", dir, "+B", port_text, NULL};
    pid_t pid = peer_spawn(argv, log, port);
    assert_true(pid > 0);
    const char *paths[3] = {objects[0], objects[1], objects[2]};
    struct outcome o;
    run_scu(port, CALLED_AE, paths, 3, 0, &o);
    peer_stop(pid);
    assert_int_equal(o.results[0].outcome, CN_SCU_SENT);
    assert_int_equal(o.results[1].outcome, CN_SCU_SENT);
    assert_int_equal(o.results[2].outcome, CN_SCU_PERMANENT);
    assert_false(o.results[2].has_status);
    assert_non_null(strstr(o.results[2].error, "1.2.840.10008.1.2.4.70"));
    assert_non_null(strstr(o.results[2].error, "transfer syntax not supported"));
    assert_int_equal(peer_count_files(dir), 2);
}

static void test_scu_reports_a_refused_association_as_permanent(void **state)
{
    (void)state;
    uint16_t port;
    char dir[DIR_SIZE];
    pid_t pid = start_storescp("refuse", "--refuse", &port, dir);
    const char *paths[2] = {objects[0], objects[1]};
    struct outcome o;
    run_scu(port, CALLED_AE, paths, 2, 0, &o);
    peer_stop(pid);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(o.results[i].outcome, CN_SCU_PERMANENT);
        assert_non_null(strstr(o.results[i].error, "association permanently rejected"));
    }
    assert_int_equal(peer_count_files(dir), 0);
}

static void test_scu_reports_a_peer_that_is_down_as_transient(void **state)
{
    (void)state;
    uint16_t port = peer_free_port();
    const char *paths[2] = {objects[0], objects[2]};
    struct outcome o;
    run_scu(port, CALLED_AE, paths, 2, 0, &o);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(o.results[i].outcome, CN_SCU_TRANSIENT);
        assert_non_null(strstr(o.results[i].error, "could not connect"));
    }
}

static void test_scu_times_out_on_a_peer_that_never_answers(void **state)
{
    (void)state;
    /* a listening socket nobody accepts on: the kernel completes the connection, the
     * A-ASSOCIATE-RQ is never answered */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    const char *paths[1] = {objects[0]};
    struct outcome o;
    uint64_t start = uv_hrtime();
    run_scu(ntohs(addr.sin_port), CALLED_AE, paths, 1, SHORT_TIMEOUT_MS, &o);
    uint64_t elapsed_ms = (uv_hrtime() - start) / 1000000u;
    close(fd);
    assert_int_equal(o.results[0].outcome, CN_SCU_TRANSIENT);
    assert_non_null(
        strstr(o.results[0].error, "timed out after 500 ms waiting for A-ASSOCIATE-AC"));
    assert_true(elapsed_ms >= SHORT_TIMEOUT_MS);
    assert_true(elapsed_ms < 10u * SHORT_TIMEOUT_MS);
}

static void test_scu_fails_unreadable_files_permanently_and_sends_the_rest(void **state)
{
    (void)state;
    uint16_t port;
    char dir[DIR_SIZE];
    pid_t pid = start_storescp("unreadable", NULL, &port, dir);
    char missing[256], not_dicom[256];
    snprintf(missing, sizeof missing, "%s/missing.dcm", work_dir);
    snprintf(not_dicom, sizeof not_dicom, "%s/not-dicom.dcm", work_dir);
    FILE *f = fopen(not_dicom, "w");
    assert_non_null(f);
    fputs("this is not a DICOM file\n", f);
    fclose(f);
    const char *paths[3] = {missing, objects[0], not_dicom};
    struct outcome o;
    run_scu(port, CALLED_AE, paths, 3, 0, &o);
    peer_stop(pid);
    assert_int_equal(o.results[0].outcome, CN_SCU_PERMANENT);
    assert_non_null(strstr(o.results[0].error, "could not open file"));
    assert_int_equal(o.results[1].outcome, CN_SCU_SENT);
    assert_int_equal(o.results[2].outcome, CN_SCU_PERMANENT);
    assert_non_null(strstr(o.results[2].error, "not a DICOM Part 10 file"));
    assert_int_equal(peer_count_files(dir), 1);
}

static void test_scu_with_nothing_readable_finishes_without_connecting(void **state)
{
    (void)state;
    const char *paths[1] = {"/nonexistent/calcnode/file.dcm"};
    struct outcome o;
    run_scu(1, CALLED_AE, paths, 1, 0, &o);
    assert_int_equal(o.results[0].outcome, CN_SCU_PERMANENT);
}

static void test_scu_start_rejects_bad_arguments(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct outcome o;
    const char *paths[1] = {objects[0]};
    struct cn_scu_options ok = {.called_ae = "X", .host = "127.0.0.1", .port = 104};
    struct cn_scu_options long_ae = {.called_ae = "SEVENTEEN_CHARS_X", .host = "h", .port = 1};
    struct cn_scu_options no_host = {.called_ae = "X", .host = "", .port = 1};
    assert_int_equal(cn_scu_start(&loop, &ok, paths, 0, on_done, &o, NULL), UV_EINVAL);
    assert_int_equal(cn_scu_start(&loop, &ok, paths, CN_SCU_MAX_FILES + 1, on_done, &o, NULL),
                     UV_EINVAL);
    assert_int_equal(cn_scu_start(&loop, &long_ae, paths, 1, on_done, &o, NULL), UV_EINVAL);
    assert_int_equal(cn_scu_start(&loop, &no_host, paths, 1, on_done, &o, NULL), UV_EINVAL);
    assert_int_equal(cn_scu_start(&loop, &ok, paths, 1, NULL, &o, NULL), UV_EINVAL);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_scu_status_outcomes_follow_ps3_4_table_b_2_1(void **state)
{
    (void)state;
    assert_int_equal(cn_scu_status_outcome(0x0000), CN_SCU_SENT);
    assert_int_equal(cn_scu_status_outcome(0xB000), CN_SCU_SENT);
    assert_int_equal(cn_scu_status_outcome(0xB007), CN_SCU_SENT);
    assert_int_equal(cn_scu_status_outcome(0xA700), CN_SCU_TRANSIENT);
    assert_int_equal(cn_scu_status_outcome(0xA7FF), CN_SCU_TRANSIENT);
    assert_int_equal(cn_scu_status_outcome(0xA900), CN_SCU_PERMANENT);
    assert_int_equal(cn_scu_status_outcome(0xA9FF), CN_SCU_PERMANENT);
    assert_int_equal(cn_scu_status_outcome(0xC000), CN_SCU_PERMANENT);
    assert_int_equal(cn_scu_status_outcome(0xCFFF), CN_SCU_PERMANENT);
    assert_int_equal(cn_scu_status_outcome(0x0122), CN_SCU_PERMANENT);
    assert_int_equal(cn_scu_status_outcome(0x0110), CN_SCU_TRANSIENT);
    assert_int_equal(cn_scu_status_outcome(0xFE00), CN_SCU_TRANSIENT);
}

/* Orthanc, the demonstration PACS, as started by tests/integration/lib/common.bash. */
static void test_scu_sends_to_orthanc(void **state)
{
    (void)state;
    if (!peer_have("Orthanc") || !peer_have("curl")) {
        fprintf(stderr, "Orthanc or curl is not installed: not run\n");
        return;
    }
    uint16_t dicom_port = peer_free_port(), http_port = peer_free_port();
    char dir[256], config[256], log[256];
    snprintf(dir, sizeof dir, "%s/orthanc", work_dir);
    mkdir(dir, 0755);
    snprintf(config, sizeof config, "%s/orthanc.json", dir);
    snprintf(log, sizeof log, "%s/orthanc.log", dir);
    FILE *f = fopen(config, "w");
    assert_non_null(f);
    fprintf(f,
            "{ \"Name\": \"calcnode-test-pacs\", \"StorageDirectory\": \"%s/db\",\n"
            "  \"IndexDirectory\": \"%s/db\", \"DicomAet\": \"ORTHANC\", \"DicomPort\": %u,\n"
            "  \"HttpPort\": %u, \"RemoteAccessAllowed\": false,\n"
            "  \"AuthenticationEnabled\": false, \"DicomCheckCalledAet\": false,\n"
            "  \"Plugins\": [] }\n",
            dir, dir, dicom_port, http_port);
    fclose(f);
    char *argv[] = {"Orthanc", config, NULL};
    pid_t pid = peer_spawn(argv, log, dicom_port);
    assert_true(pid > 0);
    const char *paths[3] = {objects[0], objects[1], objects[2]};
    struct outcome o;
    run_scu(dicom_port, "ORTHANC", paths, 3, 0, &o);
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "curl -sf http://127.0.0.1:%u/statistics | grep -q '\"CountInstances\" : 3'",
             http_port);
    int counted = system(cmd);
    peer_stop(pid);
    for (size_t i = 0; i < 3; i++)
        if (o.results[i].outcome != CN_SCU_SENT)
            fail_msg("%s: %s", paths[i], o.results[i].error);
    assert_int_equal(counted, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scu_status_outcomes_follow_ps3_4_table_b_2_1),
        cmocka_unit_test(test_scu_start_rejects_bad_arguments),
        cmocka_unit_test(test_scu_sends_every_class_and_transfer_syntax_bit_exact_to_storescp),
        cmocka_unit_test(test_scu_fails_only_the_files_whose_context_the_peer_rejects),
        cmocka_unit_test(test_scu_reports_a_refused_association_as_permanent),
        cmocka_unit_test(test_scu_reports_a_peer_that_is_down_as_transient),
        cmocka_unit_test(test_scu_times_out_on_a_peer_that_never_answers),
        cmocka_unit_test(test_scu_fails_unreadable_files_permanently_and_sends_the_rest),
        cmocka_unit_test(test_scu_with_nothing_readable_finishes_without_connecting),
        cmocka_unit_test(test_scu_sends_to_orthanc),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
