/* PDV reassembly: fragmented commands, protocol errors, and a 100 MB data set streamed in
 * 16 KiB fragments without the receiver holding it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dimse/receiver.h"

#define PC_ID 3
#define OTHER_PC_ID 5

struct events {
    int commands;
    int command_errors;
    int data_calls;
    int completes;
    uint64_t data_len;
    uint32_t data_sum; /* Adler-like sum of the streamed bytes, to check nothing was lost */
    struct cn_dimse_command last;
    int fail_data; /* make the data callback fail */
};

static int on_command(void *user, uint8_t pc_id, const struct cn_dimse_command *cmd)
{
    struct events *e = user;
    assert_true(pc_id == PC_ID || pc_id == OTHER_PC_ID);
    e->commands++;
    e->last = *cmd;
    return 0;
}

static void on_command_error(void *user, uint8_t pc_id, int rc, const char *message)
{
    struct events *e = user;
    (void)pc_id;
    assert_true(rc < 0);
    assert_non_null(message);
    e->command_errors++;
}

static int on_data(void *user, uint8_t pc_id, const uint8_t *data, size_t len)
{
    struct events *e = user;
    (void)pc_id;
    if (e->fail_data)
        return -1000;
    e->data_calls++;
    e->data_len += len;
    for (size_t i = 0; i < len; i++)
        e->data_sum = e->data_sum * 31u + data[i];
    return 0;
}

static int on_complete(void *user, uint8_t pc_id)
{
    struct events *e = user;
    (void)pc_id;
    e->completes++;
    return 0;
}

static const struct cn_dimse_receiver_ops OPS = {on_command, on_command_error, on_data,
                                                 on_complete};

static int store_rq(uint8_t *buf, size_t size)
{
    return cn_dimse_encode_c_store_rq(buf, size, 42, "1.2.840.10008.5.1.4.1.1.1.2",
                                      "1.2.3.4.5.6", CN_DIMSE_PRIORITY_MEDIUM, NULL, 0);
}

static void test_receiver_reassembles_command_split_in_every_fragment_size(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    assert_true(n > 0);
    for (int frag = 1; frag <= n; frag++) {
        struct events e = {0};
        struct cn_dimse_receiver r;
        cn_dimse_receiver_init(&r, &OPS, &e);
        for (int off = 0; off < n; off += frag) {
            int len = off + frag > n ? n - off : frag;
            assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, off + len == n, cmd + off,
                                                   (size_t)len),
                             0);
            assert_int_equal(e.commands, off + len == n ? 1 : 0);
        }
        assert_int_equal(e.last.message_id, 42);
        assert_string_equal(e.last.affected_sop_instance_uid, "1.2.3.4.5.6");
        assert_int_equal(cn_dimse_receiver_get_state(&r), CN_DIMSE_RECEIVER_DATA);
        cn_dimse_receiver_free(&r);
    }
}

static void test_receiver_passes_data_through_and_reports_completion(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n), 0);
    const uint8_t a[] = {1, 2, 3}, b[] = {4, 5};
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 0, a, sizeof a), 0);
    assert_int_equal(e.completes, 0);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 1, b, sizeof b), 0);
    assert_int_equal(e.completes, 1);
    assert_int_equal(e.data_len, 5);
    assert_int_equal(cn_dimse_receiver_get_state(&r), CN_DIMSE_RECEIVER_IDLE);
    /* a second message on another context works the same */
    assert_int_equal(cn_dimse_receiver_pdv(&r, OTHER_PC_ID, 1, 1, cmd, (size_t)n), 0);
    assert_int_equal(cn_dimse_receiver_pdv(&r, OTHER_PC_ID, 0, 1, a, sizeof a), 0);
    assert_int_equal(e.commands, 2);
    assert_int_equal(e.completes, 2);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_data_before_command(void **state)
{
    (void)state;
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    const uint8_t a[] = {1};
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 1, a, 1), CN_DIMSE_EDATA_BEFORE_COMMAND);
    assert_int_equal(cn_dimse_receiver_get_state(&r), CN_DIMSE_RECEIVER_FAILED);
    assert_non_null(strstr(cn_dimse_receiver_message(&r), "no command pending"));
    /* refused until reset */
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 0, a, 1), CN_DIMSE_EINVAL);
    cn_dimse_receiver_reset(&r);
    assert_int_equal(cn_dimse_receiver_get_state(&r), CN_DIMSE_RECEIVER_IDLE);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_data_inside_fragmented_command(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 0, cmd, 10), 0);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 0, cmd, (size_t)n),
                     CN_DIMSE_EDATA_BEFORE_COMMAND);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_data_on_other_presentation_context(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n), 0);
    const uint8_t a[] = {1};
    assert_int_equal(cn_dimse_receiver_pdv(&r, OTHER_PC_ID, 0, 1, a, 1), CN_DIMSE_EDATA_CONTEXT);
    assert_int_equal(e.data_calls, 0);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_command_fragments_on_two_contexts(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 0, cmd, 10), 0);
    assert_int_equal(cn_dimse_receiver_pdv(&r, OTHER_PC_ID, 1, 1, cmd + 10, (size_t)n - 10),
                     CN_DIMSE_ECOMMAND_CONTEXT);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_command_while_data_set_in_progress(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n), 0);
    const uint8_t a[] = {1};
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 0, a, 1), 0);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n),
                     CN_DIMSE_ECOMMAND_DURING_DATA);
    assert_int_equal(e.commands, 1);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_data_after_command_without_data_set(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = cn_dimse_encode_c_echo_rq(cmd, sizeof cmd, 1, "1.2.840.10008.1.1");
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n), 0);
    assert_int_equal(cn_dimse_receiver_get_state(&r), CN_DIMSE_RECEIVER_IDLE);
    const uint8_t a[] = {1};
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 1, a, 1), CN_DIMSE_EUNEXPECTED_DATA);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_rejects_command_over_the_cap(void **state)
{
    (void)state;
    static uint8_t chunk[16384];
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    size_t sent = 0;
    int rc = 0;
    while (rc == 0 && sent <= CN_DIMSE_COMMAND_MAX_LEN) {
        rc = cn_dimse_receiver_pdv(&r, PC_ID, 1, 0, chunk, sizeof chunk);
        sent += sizeof chunk;
    }
    assert_int_equal(rc, CN_DIMSE_ECOMMAND_TOO_LONG);
    assert_true(sent == CN_DIMSE_COMMAND_MAX_LEN + sizeof chunk);
    assert_true(r.command_cap <= CN_DIMSE_COMMAND_MAX_LEN);
    cn_dimse_receiver_free(&r);
}

static void test_receiver_reports_undecodable_command(void **state)
{
    (void)state;
    const uint8_t garbage[] = {0x08, 0x00, 0x18, 0x00, 0x02, 0x00, 0x00, 0x00, '1', '2'};
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, garbage, sizeof garbage),
                     CN_DIMSE_EGROUP);
    assert_int_equal(e.command_errors, 1);
    assert_int_equal(e.commands, 0);
    assert_non_null(strstr(cn_dimse_receiver_message(&r), "could not decode command set"));
    cn_dimse_receiver_free(&r);
}

static void test_receiver_returns_callback_failure_unchanged(void **state)
{
    (void)state;
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    e.fail_data = 1;
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n), 0);
    const uint8_t a[] = {1};
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, 0, a, 1), -1000);
    assert_int_equal(cn_dimse_receiver_get_state(&r), CN_DIMSE_RECEIVER_FAILED);
    cn_dimse_receiver_free(&r);
}

/* 100 MB in 16 KiB fragments from one reused buffer: everything reaches the callback, and
 * the receiver's own memory stays at its command buffer whatever the object size. */
static void test_receiver_streams_100_mb_data_set_with_bounded_memory(void **state)
{
    (void)state;
    enum { FRAGMENT_LEN = 16384, TOTAL_LEN = 100 * 1000 * 1000 };
    static uint8_t fragment[FRAGMENT_LEN];
    uint8_t cmd[256];
    int n = store_rq(cmd, sizeof cmd);
    struct events e = {0};
    struct cn_dimse_receiver r;
    cn_dimse_receiver_init(&r, &OPS, &e);
    assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 1, 1, cmd, (size_t)n), 0);
    size_t command_cap = r.command_cap;
    uint32_t expected_sum = 0;
    size_t sent = 0;
    uint8_t counter = 0;
    while (sent < TOTAL_LEN) {
        size_t len = TOTAL_LEN - sent < FRAGMENT_LEN ? TOTAL_LEN - sent : FRAGMENT_LEN;
        for (size_t i = 0; i < len; i++) {
            fragment[i] = counter++;
            expected_sum = expected_sum * 31u + fragment[i];
        }
        sent += len;
        assert_int_equal(cn_dimse_receiver_pdv(&r, PC_ID, 0, sent == TOTAL_LEN, fragment, len), 0);
    }
    assert_int_equal(e.data_len, TOTAL_LEN);
    assert_int_equal(e.data_sum, expected_sum);
    assert_int_equal(e.completes, 1);
    assert_int_equal(r.command_cap, command_cap);
    assert_true(r.command_cap <= 1024);
    cn_dimse_receiver_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_receiver_reassembles_command_split_in_every_fragment_size),
        cmocka_unit_test(test_receiver_passes_data_through_and_reports_completion),
        cmocka_unit_test(test_receiver_rejects_data_before_command),
        cmocka_unit_test(test_receiver_rejects_data_inside_fragmented_command),
        cmocka_unit_test(test_receiver_rejects_data_on_other_presentation_context),
        cmocka_unit_test(test_receiver_rejects_command_fragments_on_two_contexts),
        cmocka_unit_test(test_receiver_rejects_command_while_data_set_in_progress),
        cmocka_unit_test(test_receiver_rejects_data_after_command_without_data_set),
        cmocka_unit_test(test_receiver_rejects_command_over_the_cap),
        cmocka_unit_test(test_receiver_reports_undecodable_command),
        cmocka_unit_test(test_receiver_returns_callback_failure_unchanged),
        cmocka_unit_test(test_receiver_streams_100_mb_data_set_with_bounded_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
