/* cn_dcm_decode_image on the real mammograms of the shared data: the GE Senographe
 * (JPEG lossless, first order prediction) against DCMTK's dcmdjpeg + pydicom, and the
 * DDSM film image stored twice (JPEG lossy via DCMTK, JPEG 2000 lossy via OpenJPEG):
 * both decodings must agree closely. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcm/dcm.h"
#include "dcm_test_util.h"

#define PYTHON "/usr/bin/python3"

static char temp_dir[256];

static void test_decode_ge_senographe_matches_dcmdjpeg_and_pydicom(void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    data_path(path, sizeof path, "mg/real_ge_senographe_rmlo_jpegls1.dcm");
    struct cn_dcm_image img;
    assert_int_equal(cn_dcm_decode_image(path, &img, err, sizeof err), CN_DCM_OK);
    assert_int_equal(img.rows, 3062);
    assert_int_equal(img.columns, 2394);
    assert_int_equal(img.bits_stored, 12);
    assert_int_equal(img.monochrome1, 0);
    assert_int_equal(img.for_processing, 0);
    assert_true(fabs(img.pixel_spacing_mm[0] - 0.0940909) < 1e-6);
    assert_true(fabs(img.pixel_spacing_mm[1] - 0.0940909) < 1e-6);
    assert_int_equal(img.has_padding, 1);
    assert_int_equal(img.padding_value, 0);
    assert_true(img.window_center == 2653 && img.window_width == 900);
    assert_string_equal(img.image_laterality, "R");
    assert_string_equal(img.view_position, "MLO");
    const size_t count = (size_t)img.rows * img.columns;
    for (size_t i = 0; i < count; i++)
        assert_true(img.pixels[i] < 4096);

    if (!have_tool("dcmdjpeg") ||
        run(PYTHON " -c 'import pydicom, numpy' >/dev/null 2>&1") != 0) {
        cn_dcm_image_free(&img);
        skip();
        return;
    }
    char plain[600], raw[600], cmd[3 * TEST_PATH_SIZE];
    snprintf(plain, sizeof plain, "%s/ge_plain.dcm", temp_dir);
    snprintf(raw, sizeof raw, "%s/ge.raw", temp_dir);
    snprintf(cmd, sizeof cmd, "dcmdjpeg '%s' '%s' && " PYTHON " '%s/pixels.py' dump '%s' '%s'",
             path, plain, CALCNODE_TEST_SOURCE_DIR, plain, raw);
    assert_int_equal(run(cmd), 0);
    uint16_t *ref = malloc(count * sizeof *ref);
    assert_non_null(ref);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    assert_int_equal(fread(ref, sizeof *ref, count, f), count);
    fclose(f);
    assert_memory_equal(img.pixels, ref, count * sizeof *ref);
    free(ref);
    cn_dcm_image_free(&img);
}

static void test_decode_ddsm_jpeg_and_jpeg2000_versions_agree(void **state)
{
    (void)state;
    char jpeg_path[TEST_PATH_SIZE], j2k_path[TEST_PATH_SIZE], err[256] = "";
    data_path(jpeg_path, sizeof jpeg_path, "mg/real_ddsm_film_mg1_jpeg_lossy.dcm");
    data_path(j2k_path, sizeof j2k_path, "mg/real_ddsm_film_mg1_j2k_lossy.dcm");
    struct cn_dcm_image jpeg, j2k;
    assert_int_equal(cn_dcm_decode_image(jpeg_path, &jpeg, err, sizeof err), CN_DCM_OK);
    int rc = cn_dcm_decode_image(j2k_path, &j2k, err, sizeof err);
    if (rc != CN_DCM_OK) {
        cn_dcm_image_free(&jpeg);
        fail_msg("%s", err);
    }
    assert_int_equal(jpeg.rows, 4664);
    assert_int_equal(jpeg.columns, 3064);
    assert_int_equal(j2k.rows, jpeg.rows);
    assert_int_equal(j2k.columns, jpeg.columns);
    assert_int_equal(j2k.bits_stored, 12);
    assert_string_equal(j2k.image_laterality, "L");
    const size_t count = (size_t)jpeg.rows * jpeg.columns;
    double sum_abs = 0, sum = 0;
    unsigned max_value = 0;
    for (size_t i = 0; i < count; i++) {
        int d = (int)jpeg.pixels[i] - (int)j2k.pixels[i];
        sum_abs += d < 0 ? -d : d;
        sum += jpeg.pixels[i];
        if (j2k.pixels[i] > max_value)
            max_value = j2k.pixels[i];
    }
    const double mean_abs = sum_abs / (double)count;
    fprintf(stderr, "DDSM JPEG vs JPEG 2000: mean |difference| %.3f, mean %.1f, max %u\n",
            mean_abs, sum / (double)count, max_value);
    /* Both are lossy encodings of one 12-bit film scan (measured: 13.3 of a mean near
     * 1600); a wrong decoder (byte order, signedness, shifted rows) gives hundreds. */
    assert_true(mean_abs < 20.0);
    assert_true(max_value < 4096 && max_value > 1000);

    /* pydicom's own JPEG 2000 path (Pillow) must give the same samples. */
    if (run(PYTHON " -c 'import pydicom, numpy, PIL.features as f; "
                   "exit(0 if f.check(\"jpg_2000\") else 1)' >/dev/null 2>&1") == 0) {
        char raw[600], cmd[2 * TEST_PATH_SIZE];
        snprintf(raw, sizeof raw, "%s/j2k.raw", temp_dir);
        snprintf(cmd, sizeof cmd, PYTHON " '%s/pixels.py' dump '%s' '%s'",
                 CALCNODE_TEST_SOURCE_DIR, j2k_path, raw);
        assert_int_equal(run(cmd), 0);
        uint16_t *ref = malloc(count * sizeof *ref);
        assert_non_null(ref);
        FILE *f = fopen(raw, "rb");
        assert_non_null(f);
        assert_int_equal(fread(ref, sizeof *ref, count, f), count);
        fclose(f);
        size_t differ = 0;
        for (size_t i = 0; i < count; i++)
            differ += ref[i] != j2k.pixels[i];
        free(ref);
        if (differ != 0)
            fail_msg("%zu of %zu JPEG 2000 pixels differ from pydicom", differ, count);
    } else {
        fprintf(stderr, "pydicom with Pillow JPEG 2000 is not installed: comparison skipped\n");
    }
    cn_dcm_image_free(&jpeg);
    cn_dcm_image_free(&j2k);
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
    if (!have_data("mg/real_ge_senographe_rmlo_jpegls1.dcm") ||
        !have_data("mg/real_ddsm_film_mg1_j2k_lossy.dcm"))
        return TEST_EXIT_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_ge_senographe_matches_dcmdjpeg_and_pydicom),
        cmocka_unit_test(test_decode_ddsm_jpeg_and_jpeg2000_versions_agree),
    };
    return cmocka_run_group_tests(tests, set_up, tear_down);
}
