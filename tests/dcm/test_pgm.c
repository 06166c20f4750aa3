/* cn_dcm_read_pgm on mini-MIAS files (shared data) and on small files written here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcm/dcm.h"
#include "dcm_test_util.h"

static char temp_dir[256];

static const char *write_temp(const char *name, const void *bytes, size_t len)
{
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* Every mini-MIAS image equals the file's last width*height bytes (the raster of a P5
 * file with maxval < 256), read here without any header parsing. */
static void test_read_pgm_matches_raw_raster_of_every_mias_image(void **state)
{
    (void)state;
    static const char *names[] = {"mdb001", "mdb003", "mdb005", "mdb209", "mdb211",
                                  "mdb212", "mdb213", "mdb214", "mdb218", "mdb219",
                                  "mdb222", "mdb223", "mdb226", "mdb227"};
    for (size_t n = 0; n < sizeof names / sizeof names[0]; n++) {
        char rel[64], path[TEST_PATH_SIZE], err[256] = "";
        snprintf(rel, sizeof rel, "mias/%s.pgm", names[n]);
        data_path(path, sizeof path, rel);
        struct cn_dcm_image img;
        int rc = cn_dcm_read_pgm(path, 0.2, &img, err, sizeof err);
        if (rc != CN_DCM_OK)
            fail_msg("%s: %s", path, err);
        assert_int_equal(img.rows, 1024);
        assert_int_equal(img.columns, 1024);
        assert_int_equal(img.bits_stored, 8);
        assert_true(img.pixel_spacing_mm[0] == 0.2 && img.pixel_spacing_mm[1] == 0.2);
        assert_int_equal(img.monochrome1, 0);

        const size_t count = 1024 * 1024;
        unsigned char *raw = malloc(count);
        assert_non_null(raw);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        assert_int_equal(fseek(f, -(long)count, SEEK_END), 0);
        assert_int_equal(fread(raw, 1, count, f), count);
        fclose(f);
        for (size_t i = 0; i < count; i++)
            if (img.pixels[i] != raw[i])
                fail_msg("%s: pixel %zu is %u, raw %u", path, i, img.pixels[i], raw[i]);
        free(raw);
        cn_dcm_image_free(&img);
        assert_null(img.pixels);
    }
}

static void test_read_pgm_reads_16_bit_big_endian_samples_and_comments(void **state)
{
    (void)state;
    const char header[] = "P5\n# written by the test\n3 # width\n2\n# maxval next\n4095\n";
    unsigned char file[sizeof header - 1 + 12];
    memcpy(file, header, sizeof header - 1);
    const uint16_t values[6] = {0, 1, 256, 4095, 0x0A0B, 77};
    for (int i = 0; i < 6; i++) {
        file[sizeof header - 1 + 2 * i] = (unsigned char)(values[i] >> 8);
        file[sizeof header - 1 + 2 * i + 1] = (unsigned char)(values[i] & 0xFF);
    }
    const char *path = write_temp("p16.pgm", file, sizeof file);
    struct cn_dcm_image img;
    char err[256] = "";
    assert_int_equal(cn_dcm_read_pgm(path, 0.05, &img, err, sizeof err), CN_DCM_OK);
    assert_int_equal(img.rows, 2);
    assert_int_equal(img.columns, 3);
    assert_int_equal(img.bits_stored, 12);
    for (int i = 0; i < 6; i++)
        assert_int_equal(img.pixels[i], values[i]);
    cn_dcm_image_free(&img);
}

static void test_read_pgm_requires_positive_spacing(void **state)
{
    (void)state;
    const unsigned char file[] = "P5 1 1 255\n\x07";
    const char *path = write_temp("one.pgm", file, sizeof file - 1);
    struct cn_dcm_image img;
    char err[256] = "";
    assert_int_equal(cn_dcm_read_pgm(path, 0, &img, err, sizeof err), CN_DCM_EINVAL);
    assert_non_null(strstr(err, "needs --pixel-spacing-mm"));
    assert_int_equal(cn_dcm_read_pgm(path, -1, &img, err, sizeof err), CN_DCM_EINVAL);
    assert_int_equal(cn_dcm_read_pgm(path, 0.1, &img, err, sizeof err), CN_DCM_OK);
    assert_int_equal(img.pixels[0], 7);
    cn_dcm_image_free(&img);
}

static void test_read_pgm_rejects_sample_above_maxval(void **state)
{
    (void)state;
    const unsigned char file[] = "P5 2 1 100\n\x64\x65";
    const char *path = write_temp("over.pgm", file, sizeof file - 1);
    struct cn_dcm_image img;
    char err[256] = "";
    assert_int_equal(cn_dcm_read_pgm(path, 0.1, &img, err, sizeof err), CN_DCM_EFORMAT);
    assert_non_null(strstr(err, "exceeds maxval"));
    assert_null(img.pixels);
}

static void test_read_pgm_rejects_truncated_raster(void **state)
{
    (void)state;
    const unsigned char file[] = "P5 4 4 255\n\x01\x02\x03";
    const char *path = write_temp("short.pgm", file, sizeof file - 1);
    struct cn_dcm_image img;
    char err[256] = "";
    assert_int_equal(cn_dcm_read_pgm(path, 0.1, &img, err, sizeof err), CN_DCM_EFORMAT);
    assert_non_null(strstr(err, "truncated"));
}

static void test_read_pgm_rejects_bad_headers_and_sizes(void **state)
{
    (void)state;
    struct cn_dcm_image img;
    char err[256] = "";
    const struct {
        const char *text;
        int rc;
    } cases[] = {
        {"P2 1 1 255\n1", CN_DCM_EFORMAT},          /* ASCII PGM */
        {"P5 1 1 0\n\x01", CN_DCM_EFORMAT},         /* maxval 0 */
        {"P5 1 1 65536\n\x01\x01", CN_DCM_EFORMAT}, /* maxval above 16 bits */
        {"P5 0 1 255\n", CN_DCM_EUNSUPPORTED},      /* empty image */
        {"P5 70000 1 255\n", CN_DCM_EUNSUPPORTED},  /* side above the cap */
        {"P5 65535 65535 255\n", CN_DCM_EUNSUPPORTED}, /* pixels above the cap */
        {"P5 99999999999 1 255\n", CN_DCM_EFORMAT}, /* too many digits */
        {"P5 1x 1 255\n\x01", CN_DCM_EFORMAT},      /* junk after a number */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = write_temp("bad.pgm", cases[i].text, strlen(cases[i].text));
        int rc = cn_dcm_read_pgm(path, 0.1, &img, err, sizeof err);
        if (rc != cases[i].rc)
            fail_msg("case %zu: rc %d (%s), expected %d", i, rc, err, cases[i].rc);
        assert_null(img.pixels);
    }
    assert_int_equal(cn_dcm_read_pgm("/nonexistent.pgm", 0.1, &img, err, sizeof err),
                     CN_DCM_EIO);
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
        cmocka_unit_test(test_read_pgm_reads_16_bit_big_endian_samples_and_comments),
        cmocka_unit_test(test_read_pgm_requires_positive_spacing),
        cmocka_unit_test(test_read_pgm_rejects_sample_above_maxval),
        cmocka_unit_test(test_read_pgm_rejects_truncated_raster),
        cmocka_unit_test(test_read_pgm_rejects_bad_headers_and_sizes),
    };
    int failed = cmocka_run_group_tests(synthetic, set_up, tear_down);
    if (failed != 0)
        return failed;
    if (!have_data("mias/mdb001.pgm"))
        return TEST_EXIT_SKIP;
    const struct CMUnitTest real[] = {
        cmocka_unit_test(test_read_pgm_matches_raw_raster_of_every_mias_image),
    };
    return cmocka_run_group_tests(real, NULL, NULL);
}
