/* File Meta Information read back by an independent parser (DCMTK dcmdump). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/part10.h"

static const struct cn_part10_meta META = {
    .media_storage_sop_class_uid = "1.2.840.10008.5.1.4.1.1.1.2",
    .media_storage_sop_instance_uid = "1.2.3.4.5", /* odd: padded with NUL */
    .transfer_syntax_uid = "1.2.840.10008.1.2.1",
    .implementation_class_uid = "1.2.826.0.1.3680043.10.999.1",
    .implementation_version_name = "CALCNODE_010", /* 12: even */
    .source_ae_title = "MODALITY1",               /* odd: padded with space */
};

static void test_part10_meta_has_preamble_prefix_and_group_length(void **state)
{
    (void)state;
    uint8_t buf[CN_PART10_META_MAX_LEN];
    int n = cn_part10_encode_meta(&META, buf, sizeof buf);
    assert_true(n > 132 + 12);
    for (int i = 0; i < CN_PART10_PREAMBLE_LEN; i++)
        assert_int_equal(buf[i], 0);
    assert_memory_equal(buf + 128, "DICM", 4);
    assert_memory_equal(buf + 132, "\x02\x00\x00\x00UL\x04\x00", 8);
    uint32_t group_len = (uint32_t)buf[140] | (uint32_t)buf[141] << 8 |
                         (uint32_t)buf[142] << 16 | (uint32_t)buf[143] << 24;
    assert_int_equal(group_len, (uint32_t)n - 144);
    assert_int_equal(n % 2, 0);
}

static void test_part10_meta_rejects_missing_or_long_values_and_small_buffers(void **state)
{
    (void)state;
    uint8_t buf[CN_PART10_META_MAX_LEN];
    struct cn_part10_meta m = META;
    m.transfer_syntax_uid = NULL;
    assert_int_equal(cn_part10_encode_meta(&m, buf, sizeof buf), -1);
    m = META;
    m.source_ae_title = "SEVENTEEN_CHARS_X";
    assert_int_equal(cn_part10_encode_meta(&m, buf, sizeof buf), -1);
    int n = cn_part10_encode_meta(&META, buf, sizeof buf);
    for (int size = 0; size < n; size += 7)
        assert_int_equal(cn_part10_encode_meta(&META, buf, (size_t)size), -2);
}

/* DCMTK's dcmdump parses the meta header (an empty data set follows). */
static void test_part10_meta_reads_back_with_dcmdump(void **state)
{
    (void)state;
    if (system("command -v dcmdump >/dev/null 2>&1") != 0) {
        print_message("dcmdump (DCMTK) absent: skipped\n");
        skip();
    }
    uint8_t buf[CN_PART10_META_MAX_LEN];
    int n = cn_part10_encode_meta(&META, buf, sizeof buf);
    assert_true(n > 0);
    char path[] = "/tmp/cn_part10_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, (size_t)n), n);
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "dcmdump -q -M +L %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096] = {0};
    size_t len = fread(out, 1, sizeof out - 1, p);
    int status = pclose(p);
    unlink(path);
    out[len] = '\0';
    print_message("%s", out);
    assert_int_equal(status, 0);
    char expected[128];
    snprintf(expected, sizeof expected, "(0002,0000) UL %d ", n - 144);
    assert_non_null(strstr(out, expected));
    assert_non_null(strstr(out, "(0002,0001) OB 00\\01"));
    assert_non_null(strstr(out, "(0002,0002) UI =DigitalMammographyXRayImageStorageForPresentation"));
    assert_non_null(strstr(out, "(0002,0003) UI [1.2.3.4.5]"));
    assert_non_null(strstr(out, "(0002,0010) UI =LittleEndianExplicit"));
    assert_non_null(strstr(out, "(0002,0012) UI [1.2.826.0.1.3680043.10.999.1]"));
    assert_non_null(strstr(out, "(0002,0013) SH [CALCNODE_010]"));
    assert_non_null(strstr(out, "(0002,0016) AE [MODALITY1]"));
    assert_null(strstr(out, "W: "));
    assert_null(strstr(out, "E: "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_part10_meta_has_preamble_prefix_and_group_length),
        cmocka_unit_test(test_part10_meta_rejects_missing_or_long_values_and_small_buffers),
        cmocka_unit_test(test_part10_meta_reads_back_with_dcmdump),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
