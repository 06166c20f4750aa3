/* node/send/meta: the File Meta Information reader, on hand-built headers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "send/meta.h"

#define BUF_LEN 1024
#define MG "1.2.840.10008.5.1.4.1.1.1.2"
#define EXPLICIT_LE "1.2.840.10008.1.2.1"

struct builder {
    uint8_t buf[BUF_LEN];
    size_t len;
};

static void start(struct builder *b)
{
    memset(b->buf, 0, sizeof b->buf);
    memcpy(b->buf + CN_SEND_META_PREAMBLE_LEN, "DICM", CN_SEND_META_PREFIX_LEN);
    b->len = CN_SEND_META_PREAMBLE_LEN + CN_SEND_META_PREFIX_LEN;
}

/* An element with a 2-byte length (UI, UL, ...), value padded with NUL to even length. */
static void element(struct builder *b, uint16_t group, uint16_t elem, const char *vr,
                    const char *value)
{
    size_t n = strlen(value), padded = n + (n & 1u);
    uint8_t *p = b->buf + b->len;
    p[0] = (uint8_t)group;
    p[1] = (uint8_t)(group >> 8);
    p[2] = (uint8_t)elem;
    p[3] = (uint8_t)(elem >> 8);
    memcpy(p + 4, vr, 2);
    p[6] = (uint8_t)padded;
    p[7] = (uint8_t)(padded >> 8);
    memcpy(p + 8, value, n);
    p[8 + n] = 0;
    b->len += 8 + padded;
}

static void standard(struct builder *b, const char *instance)
{
    start(b);
    element(b, 0x0002, 0x0002, "UI", MG);
    element(b, 0x0002, 0x0003, "UI", instance);
    element(b, 0x0002, 0x0010, "UI", EXPLICIT_LE);
}

static void test_meta_parse_finds_the_uids_and_the_data_set(void **state)
{
    (void)state;
    struct builder b;
    standard(&b, "1.2.3.4");
    size_t meta_end = b.len;
    element(&b, 0x0008, 0x0016, "UI", MG); /* the data set's first element */
    struct cn_send_meta meta;
    char err[128];
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), 0);
    assert_string_equal(meta.sop_class_uid, MG);
    assert_string_equal(meta.sop_instance_uid, "1.2.3.4");
    assert_string_equal(meta.transfer_syntax_uid, EXPLICIT_LE);
    assert_int_equal(meta.data_set_offset, meta_end);
}

static void test_meta_parse_accepts_a_file_without_data_set(void **state)
{
    (void)state;
    struct builder b;
    standard(&b, "1.2.3");
    struct cn_send_meta meta;
    char err[128];
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), 0);
    assert_int_equal(meta.data_set_offset, b.len);
    /* the same bytes when more of the file follows: the cap was reached */
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 0, &meta, err, sizeof err), -1);
}

static void test_meta_parse_rejects_a_file_without_dicm(void **state)
{
    (void)state;
    struct builder b;
    standard(&b, "1.2.3");
    b.buf[CN_SEND_META_PREAMBLE_LEN] = 'X';
    struct cn_send_meta meta;
    char err[128];
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a DICOM Part 10 file"));
    assert_int_equal(cn_send_meta_parse(b.buf, 10, 1, &meta, err, sizeof err), -1);
}

static void test_meta_parse_rejects_an_element_longer_than_the_file(void **state)
{
    (void)state;
    struct builder b;
    standard(&b, "1.2.3");
    element(&b, 0x0002, 0x0012, "UI", "1.2");
    b.buf[b.len - 4 - 2] = 0xFF; /* (0002,0012) claims 255 + bytes */
    struct cn_send_meta meta;
    char err[128];
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), -1);
    assert_non_null(strstr(err, "runs past"));
    /* every truncation of a valid header fails cleanly */
    standard(&b, "1.2.3");
    for (size_t n = CN_SEND_META_PREAMBLE_LEN + CN_SEND_META_PREFIX_LEN + 1; n < b.len; n++)
        assert_int_equal(cn_send_meta_parse(b.buf, n, 1, &meta, err, sizeof err), -1);
}

static void test_meta_parse_rejects_missing_and_malformed_uids(void **state)
{
    (void)state;
    struct builder b;
    struct cn_send_meta meta;
    char err[128];
    start(&b);
    element(&b, 0x0002, 0x0002, "UI", MG);
    element(&b, 0x0002, 0x0010, "UI", EXPLICIT_LE);
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), -1);
    assert_non_null(strstr(err, "Media Storage SOP Instance UID"));
    standard(&b, "1.2.x");
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), -1);
    assert_non_null(strstr(err, "(0002,0003)"));
    standard(&b, "1.2.3333333333333333333333333333333333333333333333333333333333333333");
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), -1);
}

static void test_meta_parse_skips_long_length_elements(void **state)
{
    (void)state;
    struct builder b;
    start(&b);
    /* (0002,0001) OB 00\01: reserved 2 bytes and a 4-byte length */
    uint8_t ob[] = {0x02, 0x00, 0x01, 0x00, 'O', 'B', 0, 0, 2, 0, 0, 0, 0x00, 0x01};
    memcpy(b.buf + b.len, ob, sizeof ob);
    b.len += sizeof ob;
    element(&b, 0x0002, 0x0002, "UI", MG);
    element(&b, 0x0002, 0x0003, "UI", "1.2.3");
    element(&b, 0x0002, 0x0010, "UI", EXPLICIT_LE);
    struct cn_send_meta meta;
    char err[128];
    assert_int_equal(cn_send_meta_parse(b.buf, b.len, 1, &meta, err, sizeof err), 0);
    assert_string_equal(meta.sop_instance_uid, "1.2.3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_meta_parse_finds_the_uids_and_the_data_set),
        cmocka_unit_test(test_meta_parse_accepts_a_file_without_data_set),
        cmocka_unit_test(test_meta_parse_rejects_a_file_without_dicm),
        cmocka_unit_test(test_meta_parse_rejects_an_element_longer_than_the_file),
        cmocka_unit_test(test_meta_parse_rejects_missing_and_malformed_uids),
        cmocka_unit_test(test_meta_parse_skips_long_length_elements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
