/* PDU codec: every PDU fixture from shared/data decodes and, where our
 * encoder can reproduce it, re-encodes to the same bytes; hostile inputs
 * are refused with the right error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ul/assoc.h"
#include "ul/pdu.h"

#define FIXTURE_MAX_LEN 4096
#define OUT_CAP (CN_PDU_HEADER_LEN + CN_PDU_ASSOCIATE_MAX_BODY_LEN)

/* The PDU fixtures (the item and DIMSE fixtures are not PDUs). Reserved
 * fields are not tested on receipt and sent as 00H (PS3.8 9.3), so where a
 * fixture carries a non-zero reserved byte, the round trip is compared with
 * that byte cleared (reserved_at, 0 = none).
 * a_associate_ac_user declares a PDU length 14 bytes short of its content
 * (its user identity item was appended without updating the length): as
 * received it must be refused, and with the length corrected it must decode
 * and round trip (length_fixed). */
static const struct {
    const char *name;
    size_t reserved_at;
    int length_fixed;
} pdu_fixtures[] = {
    {"a_associate_rq", 0, 0}, {"a_associate_rq_user_async", 0, 0}, {"a_associate_rq_role", 0, 0},
    {"a_associate_rq_user_id_user_pass", 105, 0}, {"a_associate_rq_user_id_ext_neg", 0, 0},
    {"a_associate_rq_com_ext_neg", 0, 0}, {"a_associate_rq_called", 0, 0},
    {"a_associate_rq_calling", 0, 0}, {"a_associate_ac", 0, 0}, {"a_associate_ac_user", 0, 1},
    {"a_associate_ac_zero_ts", 0, 0}, {"a_associate_ac_no_ts", 0, 0}, {"a_associate_rj", 0, 0},
    {"a_release_rq", 0, 0}, {"a_release_rp", 0, 0}, {"a_abort", 0, 0}, {"a_p_abort", 0, 0},
    {"p_data_tf", 0, 0}, {"p_data_tf_rq", 0, 0}, {"p_data_tf_n_event_report", 0, 0},
};
#define FIXTURE_COUNT (sizeof pdu_fixtures / sizeof pdu_fixtures[0])

static uint8_t *out_buf;

static int load(const char *name, uint8_t *buf, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pdu/bin/encoded_pdu_items__%s.bin", CALCNODE_DATA_DIR,
             name);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return -1;
    *len = fread(buf, 1, FIXTURE_MAX_LEN, f);
    fclose(f);
    return 0;
}

static int setup(void **state)
{
    (void)state;
    out_buf = malloc(OUT_CAP);
    return out_buf == NULL;
}

static int teardown(void **state)
{
    (void)state;
    free(out_buf);
    return 0;
}

/* Decode one framed PDU and re-encode it; returns the encoded length, or
 * 0 when the PDU type has no structural re-encoding (P-DATA is rebuilt PDV
 * by PDV). */
static size_t decode_encode(const uint8_t *pdu, size_t len)
{
    uint8_t type;
    uint32_t body_len;
    long framed = cn_pdu_frame(pdu, len, CN_ASSOC_DEFAULT_MAX_PDU_LEN, &type, &body_len);
    assert_int_equal(framed, (long)len);
    const uint8_t *body = pdu + CN_PDU_HEADER_LEN;
    size_t out_len = 0;
    switch (type) {
    case CN_PDU_ASSOCIATE_RQ: {
        struct cn_assoc_rq *rq = cn_assoc_rq_new();
        assert_non_null(rq);
        assert_int_equal(cn_pdu_decode_rq(body, body_len, rq), 0);
        assert_int_equal(cn_pdu_encode_rq(rq, out_buf, OUT_CAP, &out_len), 0);
        free(rq);
        break;
    }
    case CN_PDU_ASSOCIATE_AC: {
        struct cn_assoc_ac *ac = cn_assoc_ac_new();
        assert_non_null(ac);
        assert_int_equal(cn_pdu_decode_ac(body, body_len, ac), 0);
        assert_int_equal(cn_pdu_encode_ac(ac, out_buf, OUT_CAP, &out_len), 0);
        free(ac);
        break;
    }
    case CN_PDU_ASSOCIATE_RJ: {
        struct cn_assoc_rj rj;
        assert_int_equal(cn_pdu_decode_rj(body, body_len, &rj), 0);
        assert_int_equal(cn_pdu_encode_rj(&rj, out_buf, OUT_CAP, &out_len), 0);
        break;
    }
    case CN_PDU_RELEASE_RQ:
    case CN_PDU_RELEASE_RP:
        assert_int_equal(cn_pdu_decode_release(body, body_len), 0);
        assert_int_equal(cn_pdu_encode_release(type, out_buf, OUT_CAP, &out_len), 0);
        break;
    case CN_PDU_ABORT: {
        uint8_t source, reason;
        assert_int_equal(cn_pdu_decode_abort(body, body_len, &source, &reason), 0);
        assert_int_equal(cn_pdu_encode_abort(source, reason, out_buf, OUT_CAP, &out_len), 0);
        break;
    }
    case CN_PDU_P_DATA_TF: {
        assert_int_equal(cn_pdu_check_pdata(body, body_len), 0);
        size_t off = 0, total = 0;
        struct cn_pdv pdv;
        uint8_t one[FIXTURE_MAX_LEN];
        int rc;
        /* Concatenate the PDV items of single-PDV encodings. */
        memcpy(out_buf, pdu, CN_PDU_HEADER_LEN);
        total = CN_PDU_HEADER_LEN;
        while ((rc = cn_pdu_next_pdv(body, body_len, &off, &pdv)) > 0) {
            size_t n;
            assert_int_equal(cn_pdu_encode_pdata(pdv.pc_id, pdv.control, pdv.data, pdv.len,
                                                 one, sizeof one, &n),
                             0);
            memcpy(out_buf + total, one + CN_PDU_HEADER_LEN, n - CN_PDU_HEADER_LEN);
            total += n - CN_PDU_HEADER_LEN;
        }
        assert_int_equal(rc, 0);
        out_len = total;
        break;
    }
    default:
        fail_msg("unexpected PDU type %u", type);
    }
    return out_len;
}

static void test_pdu_fixtures_decode_and_round_trip(void **state)
{
    (void)state;
    uint8_t buf[FIXTURE_MAX_LEN];
    size_t len;
    if (load(pdu_fixtures[0].name, buf, &len) != 0) {
        print_message("skipped: no fixtures under %s\n", CALCNODE_DATA_DIR);
        skip();
    }
    for (size_t i = 0; i < FIXTURE_COUNT; i++) {
        assert_int_equal(load(pdu_fixtures[i].name, buf, &len), 0);
        if (pdu_fixtures[i].length_fixed) {
            struct cn_assoc_ac *ac = cn_assoc_ac_new();
            uint8_t type;
            uint32_t body_len;
            long framed = cn_pdu_frame(buf, len, CN_ASSOC_DEFAULT_MAX_PDU_LEN, &type, &body_len);
            assert_true(framed > 0 && (size_t)framed < len);
            assert_int_equal(cn_pdu_decode_ac(buf + 6, body_len, ac), CN_UL_E_TRUNCATED);
            free(ac);
            size_t body = len - CN_PDU_HEADER_LEN;
            buf[2] = (uint8_t)(body >> 24);
            buf[3] = (uint8_t)(body >> 16);
            buf[4] = (uint8_t)(body >> 8);
            buf[5] = (uint8_t)body;
        }
        size_t out_len = decode_encode(buf, len);
        if (pdu_fixtures[i].reserved_at != 0) {
            assert_true(pdu_fixtures[i].reserved_at < len);
            assert_int_not_equal(buf[pdu_fixtures[i].reserved_at], 0);
            buf[pdu_fixtures[i].reserved_at] = 0;
        }
        size_t at = 0;
        while (at < len && at < out_len && out_buf[at] == buf[at])
            at++;
        if (out_len != len || at != len)
            fail_msg("fixture %s does not round trip: %zu bytes, %zu encoded, first "
                     "difference at %zu",
                     pdu_fixtures[i].name, len, out_len, at);
    }
}

static void test_pdu_decode_reads_fields_of_rq_with_user_identity(void **state)
{
    (void)state;
    uint8_t buf[FIXTURE_MAX_LEN];
    size_t len;
    if (load("a_associate_rq_user_id_ext_neg", buf, &len) != 0)
        skip();
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    assert_int_equal(cn_pdu_decode_rq(buf + 6, len - 6, rq), 0);
    assert_string_equal(rq->called_ae, "ANY-SCP         ");
    assert_string_equal(rq->calling_ae, "ECHOSCU         ");
    assert_string_equal(rq->application_context, CN_APPLICATION_CONTEXT_NAME);
    assert_int_equal(rq->pc_count, 3);
    assert_int_equal(rq->pcs[0].id, 1);
    assert_string_equal(rq->pcs[0].abstract_syntax, "1.2.840.10008.1.1");
    assert_int_equal(rq->pcs[0].ts_count, 1);
    assert_string_equal(rq->pcs[0].transfer_syntaxes[0], "1.2.840.10008.1.2");
    assert_int_equal(rq->user.max_length_received, 16382);
    assert_string_equal(rq->user.implementation_version_name, "PYNETDICOM_090");
    assert_int_equal(rq->user.has_user_identity, 1);
    assert_int_equal(rq->user.user_identity_type, 1);
    assert_int_equal(rq->user.user_identity_primary_len, 10);
    assert_memory_equal(rq->user.user_identity_primary, "pynetdicom", 10);
    assert_int_equal(rq->user.has_async_ops, 1);
    assert_int_equal(rq->user.max_ops_invoked, 5);
    assert_int_equal(rq->user.ext_neg_count, 2);
    assert_string_equal(rq->user.ext_negs[0].sop_class, "1.2.840.10008.5.1.4.1.1.2");
    assert_int_equal(rq->user.ext_negs[0].info_len, 6);
    free(rq);
}

static void test_pdu_decode_reads_pdv_flags(void **state)
{
    (void)state;
    uint8_t buf[FIXTURE_MAX_LEN];
    size_t len;
    if (load("p_data_tf", buf, &len) != 0)
        skip();
    size_t off = 0;
    struct cn_pdv pdv;
    assert_int_equal(cn_pdu_next_pdv(buf + 6, len - 6, &off, &pdv), 1);
    assert_int_equal(pdv.pc_id, 1);
    assert_true(pdv.is_command);
    assert_true(pdv.is_last);
    assert_int_equal(pdv.len, 0x50 - 2);
    assert_int_equal(cn_pdu_next_pdv(buf + 6, len - 6, &off, &pdv), 0);
}

/* A minimal valid A-ASSOCIATE-RQ built by our encoder, for hostile edits. */
static size_t build_rq(uint8_t *out, size_t cap)
{
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    assert_non_null(rq);
    rq->protocol_version = 1;
    cn_ae_title_set(rq->called_ae, "CALCNODE");
    cn_ae_title_set(rq->calling_ae, "SCU");
    snprintf(rq->application_context, sizeof rq->application_context, "%s",
             CN_APPLICATION_CONTEXT_NAME);
    rq->pc_count = 1;
    rq->pcs[0].id = 1;
    snprintf(rq->pcs[0].abstract_syntax, sizeof(cn_uid), "1.2.840.10008.1.1");
    rq->pcs[0].ts_count = 1;
    snprintf(rq->pcs[0].transfer_syntaxes[0], sizeof(cn_uid), "1.2.840.10008.1.2");
    rq->has_user_info = 1;
    rq->user.has_max_length = 1;
    rq->user.max_length_received = 16384;
    size_t n = 0;
    assert_int_equal(cn_pdu_encode_rq(rq, out, cap, &n), 0);
    free(rq);
    return n;
}

static int decode_rq_bytes(const uint8_t *pdu, size_t len)
{
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    assert_non_null(rq);
    int rc = cn_pdu_decode_rq(pdu + CN_PDU_HEADER_LEN, len - CN_PDU_HEADER_LEN, rq);
    free(rq);
    return rc;
}

/* Offsets in build_rq's output: header 6 + fixed 68, then the application
 * context item (4 + 21), then the presentation context item. */
#define RQ_PC_ITEM_AT (6 + 68 + 4 + 21)

static void test_pdu_frame_rejects_garbage_bytes(void **state)
{
    (void)state;
    const uint8_t garbage[] = {0x47, 0x45, 0x54, 0x20, 0x2f, 0x20, 0x48, 0x54};
    uint8_t type;
    uint32_t body_len;
    assert_int_equal(cn_pdu_frame(garbage, sizeof garbage, 16384, &type, &body_len),
                     CN_UL_E_PDU_TYPE);
    const uint8_t zero[] = {0, 0, 0, 0, 0, 0};
    assert_int_equal(cn_pdu_frame(zero, sizeof zero, 16384, &type, &body_len),
                     CN_UL_E_PDU_TYPE);
}

static void test_pdu_frame_rejects_4gb_length_from_header_alone(void **state)
{
    (void)state;
    const uint8_t types[] = {1, 2, 3, 4, 5, 6, 7};
    for (size_t i = 0; i < sizeof types; i++) {
        const uint8_t hdr[] = {types[i], 0, 0xff, 0xff, 0xff, 0xff};
        uint8_t type;
        uint32_t body_len;
        assert_int_equal(cn_pdu_frame(hdr, sizeof hdr, 16384, &type, &body_len),
                         CN_UL_E_PDU_LENGTH);
    }
}

static void test_pdu_frame_needs_more_and_reports_length(void **state)
{
    (void)state;
    const uint8_t part[] = {4, 0, 0, 0, 0, 10, 1, 2};
    uint8_t type = 0;
    uint32_t body_len = 0;
    assert_int_equal(cn_pdu_frame(part, 3, 16384, &type, &body_len), 0);
    assert_int_equal(cn_pdu_frame(part, sizeof part, 16384, &type, &body_len), 0);
    assert_int_equal(type, CN_PDU_P_DATA_TF);
    assert_int_equal(body_len, 10);
}

static void test_pdu_frame_rejects_pdata_over_our_maximum(void **state)
{
    (void)state;
    const uint8_t hdr[] = {4, 0, 0, 0, 0x40, 0x01};
    uint8_t type;
    uint32_t body_len;
    assert_int_equal(cn_pdu_frame(hdr, sizeof hdr, 16384, &type, &body_len),
                     CN_UL_E_PDU_LENGTH);
    assert_int_equal(cn_pdu_frame(hdr, sizeof hdr, 16385, &type, &body_len), 0);
}

static void test_pdu_decode_rejects_too_short_associate_rq(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_rq(buf, sizeof buf);
    assert_int_equal(decode_rq_bytes(buf, n), 0);
    assert_int_equal(decode_rq_bytes(buf, CN_PDU_HEADER_LEN + 67), CN_UL_E_TRUNCATED);
    /* the fixed part alone has no application context */
    assert_int_equal(decode_rq_bytes(buf, CN_PDU_HEADER_LEN + 68), CN_UL_E_MISSING_ITEM);
}

static void test_pdu_decode_rejects_item_longer_than_pdu(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_rq(buf, sizeof buf);
    /* presentation context item length + 1 */
    buf[RQ_PC_ITEM_AT + 3]++;
    assert_int_equal(decode_rq_bytes(buf, n), CN_UL_E_TRUNCATED);
}

static void test_pdu_decode_rejects_even_presentation_context_id(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_rq(buf, sizeof buf);
    assert_int_equal(buf[RQ_PC_ITEM_AT], CN_ITEM_PC_RQ);
    buf[RQ_PC_ITEM_AT + 4] = 2;
    assert_int_equal(decode_rq_bytes(buf, n), CN_UL_E_PC_ID);
}

static void test_pdu_decode_rejects_uid_over_64_characters(void **state)
{
    (void)state;
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    uint8_t buf[512];
    size_t n = build_rq(buf, sizeof buf);
    assert_int_equal(cn_pdu_decode_rq(buf + 6, n - 6, rq), 0);
    /* a 65-character abstract syntax: encode refuses, and a hand-made PDU
     * carrying one is refused by the decoder */
    memset(rq->pcs[0].abstract_syntax, '1', CN_UID_MAX_LEN);
    rq->pcs[0].abstract_syntax[CN_UID_MAX_LEN] = '\0';
    assert_int_equal(cn_pdu_encode_rq(rq, buf, sizeof buf, &n), 0);
    /* grow the abstract syntax item by one character in place */
    uint8_t big[600];
    size_t as_at = RQ_PC_ITEM_AT + 8; /* abstract syntax item */
    assert_int_equal(buf[as_at], CN_ITEM_ABSTRACT_SYNTAX);
    size_t value_end = as_at + 4 + CN_UID_MAX_LEN;
    memcpy(big, buf, value_end);
    big[value_end] = '1';
    memcpy(big + value_end + 1, buf + value_end, n - value_end);
    size_t bn = n + 1;
    big[as_at + 3]++;                       /* abstract syntax item length */
    big[RQ_PC_ITEM_AT + 3]++;               /* presentation context item length */
    big[5]++;                               /* PDU length (small, no carry) */
    assert_int_equal(decode_rq_bytes(big, bn), CN_UL_E_UID_LENGTH);
    free(rq);
}

static void test_pdu_decode_rejects_pdv_shorter_than_2_bytes(void **state)
{
    (void)state;
    const uint8_t body[] = {0, 0, 0, 1, 1};
    size_t off = 0;
    struct cn_pdv pdv;
    assert_int_equal(cn_pdu_next_pdv(body, sizeof body, &off, &pdv), CN_UL_E_PDV_LENGTH);
    const uint8_t zero_len[] = {0, 0, 0, 0};
    off = 0;
    assert_int_equal(cn_pdu_next_pdv(zero_len, sizeof zero_len, &off, &pdv),
                     CN_UL_E_PDV_LENGTH);
}

static void test_pdu_decode_rejects_pdv_running_past_pdu(void **state)
{
    (void)state;
    const uint8_t body[] = {0, 0, 0, 5, 1, 3, 0xaa, 0xbb};
    size_t off = 0;
    struct cn_pdv pdv;
    assert_int_equal(cn_pdu_next_pdv(body, sizeof body, &off, &pdv), CN_UL_E_TRUNCATED);
    assert_int_equal(cn_pdu_check_pdata(body, 0), CN_UL_E_MISSING_ITEM);
}

static void test_pdu_decode_skips_unknown_user_item(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_rq(buf, sizeof buf);
    /* append an unknown sub-item 0x6f of 3 bytes to the user information */
    const uint8_t extra[] = {0x6f, 0, 0, 3, 'a', 'b', 'c'};
    memcpy(buf + n, extra, sizeof extra);
    size_t user_at = n - 12; /* user info item: 4 + max length sub-item 8 */
    assert_int_equal(buf[user_at], CN_ITEM_USER_INFORMATION);
    buf[user_at + 3] += sizeof extra;
    buf[5] += sizeof extra;
    assert_int_equal(decode_rq_bytes(buf, n + sizeof extra), 0);
}

static void test_pdu_decode_rejects_fixed_pdus_of_wrong_length(void **state)
{
    (void)state;
    const uint8_t body[3] = {0};
    struct cn_assoc_rj rj;
    uint8_t s, r;
    assert_int_equal(cn_pdu_decode_rj(body, 3, &rj), CN_UL_E_TRUNCATED);
    assert_int_equal(cn_pdu_decode_abort(body, 3, &s, &r), CN_UL_E_TRUNCATED);
    assert_int_equal(cn_pdu_decode_release(body, 3), CN_UL_E_TRUNCATED);
    const uint8_t bad_rj[4] = {0, 9, 1, 1};
    assert_int_equal(cn_pdu_decode_rj(bad_rj, 4, &rj), CN_UL_E_VALUE);
}

static void test_pdu_encode_reports_small_buffer(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t n = build_rq(buf, sizeof buf);
    struct cn_assoc_rq *rq = cn_assoc_rq_new();
    assert_int_equal(cn_pdu_decode_rq(buf + 6, n - 6, rq), 0);
    size_t m;
    assert_int_equal(cn_pdu_encode_rq(rq, buf, n - 1, &m), CN_UL_E_BUFFER);
    assert_int_equal(cn_pdu_encode_abort(0, 0, buf, 9, &m), CN_UL_E_BUFFER);
    free(rq);
}

static void test_ae_title_compare_ignores_padding(void **state)
{
    (void)state;
    char a[17];
    cn_ae_title_set(a, "CALCNODE");
    assert_string_equal(a, "CALCNODE        ");
    assert_true(cn_ae_title_equal(a, "  CALCNODE"));
    assert_false(cn_ae_title_equal(a, "CALCNODE2"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pdu_fixtures_decode_and_round_trip),
        cmocka_unit_test(test_pdu_decode_reads_fields_of_rq_with_user_identity),
        cmocka_unit_test(test_pdu_decode_reads_pdv_flags),
        cmocka_unit_test(test_pdu_frame_rejects_garbage_bytes),
        cmocka_unit_test(test_pdu_frame_rejects_4gb_length_from_header_alone),
        cmocka_unit_test(test_pdu_frame_needs_more_and_reports_length),
        cmocka_unit_test(test_pdu_frame_rejects_pdata_over_our_maximum),
        cmocka_unit_test(test_pdu_decode_rejects_too_short_associate_rq),
        cmocka_unit_test(test_pdu_decode_rejects_item_longer_than_pdu),
        cmocka_unit_test(test_pdu_decode_rejects_even_presentation_context_id),
        cmocka_unit_test(test_pdu_decode_rejects_uid_over_64_characters),
        cmocka_unit_test(test_pdu_decode_rejects_pdv_shorter_than_2_bytes),
        cmocka_unit_test(test_pdu_decode_rejects_pdv_running_past_pdu),
        cmocka_unit_test(test_pdu_decode_skips_unknown_user_item),
        cmocka_unit_test(test_pdu_decode_rejects_fixed_pdus_of_wrong_length),
        cmocka_unit_test(test_pdu_encode_reports_small_buffer),
        cmocka_unit_test(test_ae_title_compare_ignores_padding),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
