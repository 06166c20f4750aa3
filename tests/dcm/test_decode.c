/* cn_dcm_decode_image: the fixture converted by DCMTK tools into every transfer syntax
 * the node accepts must decode to the source pixels, and agree with pydicom (an
 * independent decoder) where pydicom can decode; attribute handling (signed, 8-bit,
 * MONOCHROME1, padding, unsupported photometric). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcm/dcm.h"
#include "dcm_test_util.h"
#include "mg_fixture.h"

#define PYTHON "/usr/bin/python3"
#define FIXTURE_COUNT (FIXTURE_ROWS * FIXTURE_COLUMNS)

static char temp_dir[256];
static char source[512];

static int have_pydicom(void)
{
    if (run(PYTHON " -c 'import pydicom, numpy' >/dev/null 2>&1") == 0)
        return 1;
    fprintf(stderr, "skipped: python3 with pydicom and numpy is not installed\n");
    return 0;
}

/* pydicom's decoding of path, through tests/dcm/pixels.py, into a new array. */
static uint16_t *pydicom_pixels(const char *path, size_t count)
{
    char raw[600], cmd[2048];
    snprintf(raw, sizeof raw, "%s/ref.raw", temp_dir);
    snprintf(cmd, sizeof cmd, PYTHON " '%s/pixels.py' dump '%s' '%s'", CALCNODE_TEST_SOURCE_DIR,
             path, raw);
    assert_int_equal(run(cmd), 0);
    uint16_t *out = malloc(count * sizeof *out);
    assert_non_null(out);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    assert_int_equal(fread(out, sizeof *out, count, f), count);
    fclose(f);
    return out;
}

/* Converts the fixture with a shell command template ("%s" in, "%s" out). */
static const char *convert(const char *tool, const char *options, const char *name)
{
    static char out[600];
    char cmd[2048];
    snprintf(out, sizeof out, "%s/%s", temp_dir, name);
    snprintf(cmd, sizeof cmd, "%s %s '%s' '%s' >/dev/null 2>&1", tool, options, source, out);
    assert_int_equal(run(cmd), 0);
    return out;
}

struct syntax_case {
    const char *tool, *options, *name, *transfer_syntax_uid;
    int pydicom; /* pydicom decodes it without extra plug-ins */
};

static const struct syntax_case syntax_cases[] = {
    {"dcmconv", "+te", "le.dcm", "1.2.840.10008.1.2.1", 1},
    {"dcmconv", "+ti", "implicit.dcm", "1.2.840.10008.1.2", 1},
    {"dcmconv", "+tb", "be.dcm", "1.2.840.10008.1.2.2", 1},
    {"dcmconv", "+td", "deflated.dcm", "1.2.840.10008.1.2.1.99", 1},
    {"dcmcjpeg", "+e1", "jpeg_sv1.dcm", "1.2.840.10008.1.2.4.70", 0},
    {"dcmcjpeg", "+el", "jpeg_lossless.dcm", "1.2.840.10008.1.2.4.57", 0},
    {"dcmcjpls", "+el", "jpls.dcm", "1.2.840.10008.1.2.4.80", 0},
    {"dcmcrle", "", "rle.dcm", "1.2.840.10008.1.2.5", 1},
};

static void test_decode_gives_source_pixels_in_every_lossless_transfer_syntax(void **state)
{
    (void)state;
    uint16_t *expected = fixture_pixels();
    assert_non_null(expected);
    int pydicom = have_pydicom();
    for (size_t i = 0; i < sizeof syntax_cases / sizeof syntax_cases[0]; i++) {
        const struct syntax_case *c = &syntax_cases[i];
        if (!have_tool(c->tool))
            continue;
        const char *path = convert(c->tool, c->options, c->name);
        char err[256] = "";
        struct cn_dcm_header h;
        assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
        assert_string_equal(h.transfer_syntax_uid, c->transfer_syntax_uid);
        struct cn_dcm_image img;
        int rc = cn_dcm_decode_image(path, &img, err, sizeof err);
        if (rc != CN_DCM_OK)
            fail_msg("%s: %d %s", c->name, rc, err);
        assert_int_equal(img.rows, FIXTURE_ROWS);
        assert_int_equal(img.columns, FIXTURE_COLUMNS);
        for (size_t p = 0; p < FIXTURE_COUNT; p++)
            if (img.pixels[p] != expected[p])
                fail_msg("%s: pixel %zu is %u, source %u", c->name, p, img.pixels[p],
                         expected[p]);
        if (pydicom && c->pydicom) {
            uint16_t *ref = pydicom_pixels(path, FIXTURE_COUNT);
            assert_memory_equal(img.pixels, ref, FIXTURE_COUNT * sizeof *ref);
            free(ref);
        }
        cn_dcm_image_free(&img);
    }
    free(expected);
}

/* dcmodify on a copy of the fixture; returns the copy's path. */
static const char *modified(const char *name, const char *edits)
{
    static char out[600];
    char cmd[2048];
    snprintf(out, sizeof out, "%s/%s", temp_dir, name);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && dcmodify -nb %s '%s' >/dev/null 2>&1", source,
             out, edits, out);
    assert_int_equal(run(cmd), 0);
    return out;
}

/* The same 12 stored bits read as two's complement: values >= 2048 are negative, and the
 * decoder offsets by 2048. Naive reference here; pydicom as the independent one. */
static void test_decode_offsets_signed_pixels_by_half_range(void **state)
{
    (void)state;
    if (!have_tool("dcmodify")) {
        skip();
        return;
    }
    const char *path = modified("signed.dcm", "-m '(0028,0103)=1' -m '(0028,1050)=0' "
                                              "-i '(0028,0120)=-2048'");
    char err[256] = "";
    struct cn_dcm_image img;
    assert_int_equal(cn_dcm_decode_image(path, &img, err, sizeof err), CN_DCM_OK);
    uint16_t *src = fixture_pixels();
    assert_non_null(src);
    for (size_t p = 0; p < FIXTURE_COUNT; p++) {
        int32_t v = src[p] >= 2048 ? (int32_t)src[p] - 4096 : src[p];
        assert_int_equal(img.pixels[p], (uint16_t)(v + 2048));
    }
    assert_int_equal(img.window_center, 2048);
    assert_true(img.has_padding);
    assert_int_equal(img.padding_value, 0);
    if (have_pydicom()) {
        uint16_t *ref = pydicom_pixels(path, FIXTURE_COUNT);
        assert_memory_equal(img.pixels, ref, FIXTURE_COUNT * sizeof *ref);
        free(ref);
    }
    free(src);
    cn_dcm_image_free(&img);
}

static void test_decode_reads_8_bit_allocated_pixels(void **state)
{
    (void)state;
    if (!have_pydicom()) {
        skip();
        return;
    }
    char out[600], cmd[2048], err[256] = "";
    snprintf(out, sizeof out, "%s/eight.dcm", temp_dir);
    snprintf(cmd, sizeof cmd, PYTHON " '%s/pixels.py' to8bit '%s' '%s'",
             CALCNODE_TEST_SOURCE_DIR, source, out);
    assert_int_equal(run(cmd), 0);
    struct cn_dcm_image img;
    assert_int_equal(cn_dcm_decode_image(out, &img, err, sizeof err), CN_DCM_OK);
    assert_int_equal(img.bits_stored, 8);
    uint16_t *src = fixture_pixels();
    assert_non_null(src);
    for (size_t p = 0; p < FIXTURE_COUNT; p++)
        assert_int_equal(img.pixels[p], src[p] >> 4);
    uint16_t *ref = pydicom_pixels(out, FIXTURE_COUNT);
    assert_memory_equal(img.pixels, ref, FIXTURE_COUNT * sizeof *ref);
    free(ref);
    free(src);
    cn_dcm_image_free(&img);
}

static void test_decode_reports_monochrome1_padding_and_processing_intent(void **state)
{
    (void)state;
    if (!have_tool("dcmodify")) {
        skip();
        return;
    }
    const char *path = modified("mono1.dcm", "-m '(0028,0004)=MONOCHROME1' "
                                             "-i '(0028,0120)=4095' "
                                             "-m '(0008,0068)=FOR PROCESSING' "
                                             "-e '(0028,0030)' "
                                             "-m '(0018,1164)=0.1\\0.2'");
    char err[256] = "";
    struct cn_dcm_image img;
    assert_int_equal(cn_dcm_decode_image(path, &img, err, sizeof err), CN_DCM_OK);
    assert_int_equal(img.monochrome1, 1);
    assert_int_equal(img.for_processing, 1);
    assert_int_equal(img.has_padding, 1);
    assert_int_equal(img.padding_value, 4095);
    assert_true(img.pixel_spacing_mm[0] == 0.1 && img.pixel_spacing_mm[1] == 0.2);
    assert_string_equal(img.image_laterality, "L");
    assert_string_equal(img.view_position, "MLO");
    cn_dcm_image_free(&img);
}

static void test_decode_rejects_color_and_missing_pixel_data(void **state)
{
    (void)state;
    if (!have_tool("dcmodify")) {
        skip();
        return;
    }
    char err[256] = "";
    struct cn_dcm_image img;
    const char *rgb = modified("rgb.dcm", "-m '(0028,0004)=RGB'");
    assert_int_equal(cn_dcm_decode_image(rgb, &img, err, sizeof err), CN_DCM_EUNSUPPORTED);
    assert_non_null(strstr(err, "RGB"));
    assert_null(img.pixels);
    const char *bits = modified("bits.dcm", "-m '(0028,0101)=17'");
    assert_int_equal(cn_dcm_decode_image(bits, &img, err, sizeof err), CN_DCM_EUNSUPPORTED);
    const char *none = modified("nopixels.dcm", "-e '(7fe0,0010)'");
    assert_int_equal(cn_dcm_decode_image(none, &img, err, sizeof err), CN_DCM_EMISSING);
    assert_int_equal(cn_dcm_decode_image("/nonexistent.dcm", &img, err, sizeof err),
                     CN_DCM_EIO);
}

/* A file cut inside its Pixel Data must fail cleanly (never read past the end). */
static void test_decode_rejects_truncated_pixel_data(void **state)
{
    (void)state;
    char out[600], cmd[2048], err[256] = "";
    snprintf(out, sizeof out, "%s/cut.dcm", temp_dir);
    snprintf(cmd, sizeof cmd, "head -c -1000 '%s' > '%s'", source, out);
    assert_int_equal(run(cmd), 0);
    struct cn_dcm_image img;
    int rc = cn_dcm_decode_image(out, &img, err, sizeof err);
    assert_true(rc == CN_DCM_EFORMAT || rc == CN_DCM_EDECODE);
    assert_null(img.pixels);
}

static int set_up(void **state)
{
    (void)state;
    char err[256] = "";
    if (make_temp_dir(temp_dir, sizeof temp_dir) == NULL)
        return -1;
    snprintf(source, sizeof source, "%s/source.dcm", temp_dir);
    return write_fixture(source, err, sizeof err) == CN_DCM_OK ? 0 : -1;
}

static int tear_down(void **state)
{
    (void)state;
    remove_temp_dir(temp_dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_gives_source_pixels_in_every_lossless_transfer_syntax),
        cmocka_unit_test(test_decode_offsets_signed_pixels_by_half_range),
        cmocka_unit_test(test_decode_reads_8_bit_allocated_pixels),
        cmocka_unit_test(test_decode_reports_monochrome1_padding_and_processing_intent),
        cmocka_unit_test(test_decode_rejects_color_and_missing_pixel_data),
        cmocka_unit_test(test_decode_rejects_truncated_pixel_data),
    };
    return cmocka_run_group_tests(tests, set_up, tear_down);
}
