/* cn_seg_write / cn_seg_read: a SEG on the real GE mammogram and on the synthetic MG
 * fixture, judged by dciodvfy, read back by DCMTK (cn_seg_read) and by pydicom. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcm/dcm.h"
#include "dcm/seg_writer.h"
#include "dcm_test_util.h"
#include "mg_fixture.h"

#define PYTHON "/usr/bin/python3"
#define GE_ROWS 3062u
#define GE_COLUMNS 2394u
#define GE_SOP_INSTANCE_UID_PREFIX "1."

static char temp_dir[256];

/* Asserts that call returned CN_DCM_OK, showing the message otherwise. */
#define assert_ok(call)                                                                    \
    do {                                                                                   \
        int rc_ = (call);                                                                  \
        if (rc_ != CN_DCM_OK)                                                              \
            fail_msg("%s: %d %s", #call, rc_, err);                                        \
    } while (0)

/* Three small discs and a single pixel, as labels 1..4 (any nonzero is calcification);
 * the pixel count is returned in *set. */
static uint32_t *synthetic_labels(uint32_t rows, uint32_t columns, size_t *set)
{
    uint32_t *labels = calloc((size_t)rows * columns, sizeof *labels);
    assert_non_null(labels);
    const struct {
        uint32_t r, c, radius, label;
    } discs[] = {{rows / 3, columns / 2, 4, 1}, {rows / 2, columns / 3, 2, 2},
                 {rows / 2 + 7, columns / 3 + 9, 3, 3}, {rows - 1, columns - 1, 0, 4}};
    *set = 0;
    for (size_t d = 0; d < sizeof discs / sizeof discs[0]; d++)
        for (uint32_t r = 0; r < rows; r++)
            for (uint32_t c = 0; c < columns; c++) {
                int64_t dr = (int64_t)r - discs[d].r, dc = (int64_t)c - discs[d].c;
                if (dr * dr + dc * dc <= (int64_t)discs[d].radius * discs[d].radius) {
                    if (labels[(size_t)r * columns + c] == 0)
                        (*set)++;
                    labels[(size_t)r * columns + c] = discs[d].label;
                }
            }
    return labels;
}

static struct cn_seg_request request_for(const char *source, const uint32_t *labels,
                                         uint32_t rows, uint32_t columns)
{
    struct cn_seg_request req = {
        .source_path = source,
        .labels = labels,
        .mask = NULL,
        .rows = rows,
        .columns = columns,
        .algorithm_name = "calcnode HDoG",
        .algorithm_version = "0.1.0",
        .series_instance_uid = "1.2.826.0.1.3680043.10.1000.9",
        .sop_instance_uid = "1.2.826.0.1.3680043.10.1000.9.1",
        .dimension_organization_uid = NULL,
        .series_number = 901,
        .series_description = NULL,
        .instance_number = 1,
        .content_date = NULL,
        .content_time = NULL,
        .manufacturer = NULL,
    };
    return req;
}

static void expect_dciodvfy_clean(const char *path)
{
    if (!have_tool("dciodvfy"))
        return;
    char log[600], cmd[2048];
    snprintf(log, sizeof log, "%s/dciodvfy.log", temp_dir);
    snprintf(cmd, sizeof cmd, "dciodvfy '%s' > '%s' 2>&1", path, log);
    (void)run(cmd);
    snprintf(cmd, sizeof cmd, "grep -q '^Error' '%s'", log);
    if (run(cmd) == 0) {
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
        (void)run(cmd);
        fail_msg("dciodvfy reports errors for %s", path);
    }
}

static void expect_pydicom_mask(const char *path, const uint32_t *labels, uint32_t rows,
                                uint32_t columns)
{
    if (run(PYTHON " -c 'import pydicom, numpy' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "pydicom is not installed: read-back comparison skipped\n");
        return;
    }
    char raw[600], cmd[2048];
    snprintf(raw, sizeof raw, "%s/seg.raw", temp_dir);
    snprintf(cmd, sizeof cmd, PYTHON " '%s/pixels.py' seg '%s' '%s'", CALCNODE_TEST_SOURCE_DIR,
             path, raw);
    assert_int_equal(run(cmd), 0);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    uint32_t shape[3];
    assert_int_equal(fread(shape, sizeof shape[0], 3, f), 3);
    assert_int_equal(shape[0], 1);
    assert_int_equal(shape[1], rows);
    assert_int_equal(shape[2], columns);
    const size_t count = (size_t)rows * columns;
    uint8_t *mask = malloc(count);
    assert_non_null(mask);
    assert_int_equal(fread(mask, 1, count, f), count);
    fclose(f);
    for (size_t i = 0; i < count; i++)
        if (mask[i] != (labels[i] != 0))
            fail_msg("pydicom mask differs at pixel %zu", i);
    free(mask);
}

static void test_seg_write_on_ge_mammogram_is_valid_and_reads_back(void **state)
{
    (void)state;
    char source[TEST_PATH_SIZE], path[600], err[256] = "";
    data_path(source, sizeof source, "mg/real_ge_senographe_rmlo_jpegls1.dcm");
    snprintf(path, sizeof path, "%s/ge_seg.dcm", temp_dir);
    size_t set = 0;
    uint32_t *labels = synthetic_labels(GE_ROWS, GE_COLUMNS, &set);
    struct cn_seg_request req = request_for(source, labels, GE_ROWS, GE_COLUMNS);
    int rc = cn_seg_write(path, &req, err, sizeof err);
    if (rc != CN_DCM_OK)
        fail_msg("%d %s", rc, err);
    expect_dciodvfy_clean(path);

    struct cn_seg_summary s;
    rc = cn_seg_read(path, &s, err, sizeof err);
    if (rc != CN_DCM_OK)
        fail_msg("%d %s", rc, err);
    assert_int_equal(s.segment_count, 1);
    assert_int_equal(s.frame_count, 1);
    assert_int_equal(s.rows, GE_ROWS);
    assert_int_equal(s.columns, GE_COLUMNS);
    assert_string_equal(s.segment_label, "Calcification");
    struct cn_dcm_header src, seg;
    assert_int_equal(cn_dcm_read_header(source, &src, err, sizeof err), CN_DCM_OK);
    assert_string_equal(s.referenced_sop_instance_uid, src.sop_instance_uid);
    size_t got = 0;
    for (size_t i = 0; i < (size_t)GE_ROWS * GE_COLUMNS; i++) {
        if (s.mask[i] != (labels[i] != 0))
            fail_msg("DCMTK mask differs at pixel %zu", i);
        got += s.mask[i];
    }
    assert_int_equal(got, set);
    cn_seg_summary_free(&s);

    assert_int_equal(cn_dcm_read_header(path, &seg, err, sizeof err), CN_DCM_OK);
    assert_string_equal(seg.sop_class_uid, "1.2.840.10008.5.1.4.1.1.66.4");
    assert_string_equal(seg.modality, "SEG");
    assert_string_equal(seg.study_instance_uid, src.study_instance_uid);
    assert_string_equal(seg.patient_id, src.patient_id);
    assert_string_equal(seg.patient_name, src.patient_name);
    assert_string_equal(seg.series_instance_uid, "1.2.826.0.1.3680043.10.1000.9");
    assert_string_equal(seg.study_date, src.study_date);

    expect_pydicom_mask(path, labels, GE_ROWS, GE_COLUMNS);
    free(labels);
}

/* The fixture's UTF-8 patient name and Specific Character Set travel to the SEG; a uint8
 * mask works like labels; the same request gives the same bytes. */
static void test_seg_write_copies_character_set_and_is_deterministic(void **state)
{
    (void)state;
    char source[600], a[600], b[600], cmd[2048], err[256] = "";
    snprintf(source, sizeof source, "%s/mg.dcm", temp_dir);
    snprintf(a, sizeof a, "%s/seg_a.dcm", temp_dir);
    snprintf(b, sizeof b, "%s/seg_b.dcm", temp_dir);
    assert_int_equal(write_fixture(source, err, sizeof err), CN_DCM_OK);
    size_t set = 0;
    uint32_t *labels = synthetic_labels(FIXTURE_ROWS, FIXTURE_COLUMNS, &set);
    uint8_t *mask = malloc(FIXTURE_ROWS * FIXTURE_COLUMNS);
    assert_non_null(mask);
    for (size_t i = 0; i < FIXTURE_ROWS * FIXTURE_COLUMNS; i++)
        mask[i] = labels[i] != 0 ? 255 : 0;
    struct cn_seg_request req = request_for(source, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    assert_ok(cn_seg_write(a, &req, err, sizeof err));
    req.labels = NULL;
    req.mask = mask;
    assert_ok(cn_seg_write(b, &req, err, sizeof err));
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    assert_int_equal(run(cmd), 0);
    expect_dciodvfy_clean(a);

    struct cn_dcm_header h;
    assert_int_equal(cn_dcm_read_header(a, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.specific_character_set, "ISO_IR 192");
    assert_string_equal(h.patient_name, "Test^Mamograf\xc3\xad" "a");
    assert_string_equal(h.study_instance_uid, "1.2.826.0.1.3680043.10.1000.1");
    expect_pydicom_mask(a, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    free(mask);
    free(labels);
}

static void test_seg_write_accepts_empty_mask(void **state)
{
    (void)state;
    char source[600], path[600], err[256] = "";
    snprintf(source, sizeof source, "%s/mg_empty.dcm", temp_dir);
    snprintf(path, sizeof path, "%s/seg_empty.dcm", temp_dir);
    assert_int_equal(write_fixture(source, err, sizeof err), CN_DCM_OK);
    uint32_t *labels = calloc(FIXTURE_ROWS * FIXTURE_COLUMNS, sizeof *labels);
    assert_non_null(labels);
    struct cn_seg_request req = request_for(source, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    assert_ok(cn_seg_write(path, &req, err, sizeof err));
    struct cn_seg_summary s;
    assert_int_equal(cn_seg_read(path, &s, err, sizeof err), CN_DCM_OK);
    assert_int_equal(s.frame_count, 1);
    for (size_t i = 0; i < FIXTURE_ROWS * FIXTURE_COLUMNS; i++)
        assert_int_equal(s.mask[i], 0);
    cn_seg_summary_free(&s);
    expect_dciodvfy_clean(path);
    free(labels);
}

static void test_seg_write_rejects_bad_requests(void **state)
{
    (void)state;
    char source[600], path[600], err[256] = "";
    snprintf(source, sizeof source, "%s/mg_bad.dcm", temp_dir);
    snprintf(path, sizeof path, "%s/seg_bad.dcm", temp_dir);
    assert_int_equal(write_fixture(source, err, sizeof err), CN_DCM_OK);
    uint32_t *labels = calloc(FIXTURE_ROWS * FIXTURE_COLUMNS, sizeof *labels);
    assert_non_null(labels);

    struct cn_seg_request req = request_for(source, labels, FIXTURE_COLUMNS, FIXTURE_ROWS);
    assert_int_equal(cn_seg_write(path, &req, err, sizeof err), CN_DCM_EINVAL);
    assert_non_null(strstr(err, "mask is"));
    req = request_for(source, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    req.sop_instance_uid = "1.2.x";
    assert_int_equal(cn_seg_write(path, &req, err, sizeof err), CN_DCM_EINVAL);
    req = request_for(source, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    req.sop_instance_uid = "1.2.826.0.1.3680043.10.1000.9.111111111111111111111111111111111";
    assert_int_equal(cn_seg_write(path, &req, err, sizeof err), CN_DCM_EINVAL);
    assert_non_null(strstr(err, "dimension organization UID"));
    req = request_for(source, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    req.labels = NULL;
    assert_int_equal(cn_seg_write(path, &req, err, sizeof err), CN_DCM_EINVAL);
    req = request_for(source, labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    req.algorithm_version = "";
    assert_int_equal(cn_seg_write(path, &req, err, sizeof err), CN_DCM_EINVAL);
    req = request_for("/nonexistent.dcm", labels, FIXTURE_ROWS, FIXTURE_COLUMNS);
    assert_int_equal(cn_seg_write(path, &req, err, sizeof err), CN_DCM_EFORMAT);
    free(labels);
    assert_false(file_exists(path));
}

static int set_up(void **state)
{
    (void)state;
    return make_temp_dir(temp_dir, sizeof temp_dir) == NULL ? -1 : 0;
}

static int tear_down(void **state)
{
    (void)state;
    remove_temp_dir(temp_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest synthetic[] = {
        cmocka_unit_test(test_seg_write_copies_character_set_and_is_deterministic),
        cmocka_unit_test(test_seg_write_accepts_empty_mask),
        cmocka_unit_test(test_seg_write_rejects_bad_requests),
    };
    int failed = cmocka_run_group_tests(synthetic, set_up, tear_down);
    if (failed != 0)
        return failed;
    if (!have_data("mg/real_ge_senographe_rmlo_jpegls1.dcm"))
        return TEST_EXIT_SKIP;
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_seg_write_on_ge_mammogram_is_valid_and_reads_back),
    };
    return cmocka_run_group_tests(real, set_up, tear_down);
}
