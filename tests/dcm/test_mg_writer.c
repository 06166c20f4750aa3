/* cn_mg_write: IOD conformance (dciodvfy), round trip through our reader and pydicom,
 * determinism, argument checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcm/dcm.h"
#include "dcm/mg_writer.h"
#include "dcm_test_util.h"
#include "mg_fixture.h"

static char temp_dir[256];

static const char *temp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", temp_dir, name);
    return buf;
}

static void test_mg_write_output_passes_dciodvfy_without_errors(void **state)
{
    (void)state;
    if (!have_tool("dciodvfy")) {
        skip();
        return;
    }
    char path[512], log[512], cmd[2048], err[256] = "";
    assert_int_equal(write_fixture(temp_path(path, sizeof path, "mg.dcm"), err, sizeof err),
                     CN_DCM_OK);
    temp_path(log, sizeof log, "dciodvfy.log");
    snprintf(cmd, sizeof cmd, "dciodvfy '%s' > '%s' 2>&1", path, log);
    (void)run(cmd);
    snprintf(cmd, sizeof cmd, "grep -q '^Error' '%s'", log);
    if (run(cmd) == 0) {
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
        (void)run(cmd);
        fail_msg("dciodvfy reports errors for %s", path);
    }
}

static void test_mg_write_round_trips_pixels_and_attributes(void **state)
{
    (void)state;
    char path[512], err[256] = "";
    assert_int_equal(write_fixture(temp_path(path, sizeof path, "rt.dcm"), err, sizeof err),
                     CN_DCM_OK);
    struct cn_dcm_header h;
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.sop_class_uid, "1.2.840.10008.5.1.4.1.1.1.2");
    assert_string_equal(h.transfer_syntax_uid, "1.2.840.10008.1.2.1");
    assert_string_equal(h.study_instance_uid, "1.2.826.0.1.3680043.10.1000.1");
    assert_string_equal(h.specific_character_set, "ISO_IR 192");
    assert_string_equal(h.patient_name, "Test^Mamograf\xc3\xad" "a");
    assert_string_equal(h.image_laterality, "L");
    assert_string_equal(h.view_position, "MLO");
    assert_string_equal(h.presentation_intent, "FOR PRESENTATION");

    struct cn_dcm_image img;
    assert_int_equal(cn_dcm_decode_image(path, &img, err, sizeof err), CN_DCM_OK);
    assert_int_equal(img.rows, FIXTURE_ROWS);
    assert_int_equal(img.columns, FIXTURE_COLUMNS);
    assert_int_equal(img.bits_stored, FIXTURE_BITS);
    assert_true(img.pixel_spacing_mm[0] == 0.07 && img.pixel_spacing_mm[1] == 0.07);
    assert_int_equal(img.window_center, 2048);
    assert_int_equal(img.window_width, 4096);
    uint16_t *expected = fixture_pixels();
    assert_non_null(expected);
    assert_memory_equal(img.pixels, expected, FIXTURE_ROWS * FIXTURE_COLUMNS * 2);
    free(expected);
    cn_dcm_image_free(&img);
}

static void test_mg_write_is_deterministic(void **state)
{
    (void)state;
    char a[512], b[512], cmd[1200], err[256] = "";
    assert_int_equal(write_fixture(temp_path(a, sizeof a, "a.dcm"), err, sizeof err), CN_DCM_OK);
    assert_int_equal(write_fixture(temp_path(b, sizeof b, "b.dcm"), err, sizeof err), CN_DCM_OK);
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    assert_int_equal(run(cmd), 0);
}

static void test_mg_write_rejects_bad_arguments(void **state)
{
    (void)state;
    char path[512], err[256] = "";
    temp_path(path, sizeof path, "bad.dcm");
    uint16_t pixels[4] = {1, 2, 3, 4};
    struct cn_mg_identity id = fixture_identity();
    struct cn_mg_pixels img = {.pixels = pixels, .rows = 2, .columns = 2, .bits_stored = 12,
                               .pixel_spacing_mm = {0.1, 0.1}, .laterality = 'R',
                               .view = "CC"};
    assert_int_equal(cn_mg_write(path, &id, &img, err, sizeof err), CN_DCM_OK);

    struct cn_mg_identity bad_id = id;
    bad_id.sop_instance_uid = "1.2.abc";
    assert_int_equal(cn_mg_write(path, &bad_id, &img, err, sizeof err), CN_DCM_EINVAL);
    assert_non_null(strstr(err, "SOP instance UID"));
    bad_id = id;
    bad_id.study_instance_uid = NULL;
    assert_int_equal(cn_mg_write(path, &bad_id, &img, err, sizeof err), CN_DCM_EINVAL);

    struct cn_mg_pixels bad = img;
    bad.view = "ML";
    assert_int_equal(cn_mg_write(path, &id, &bad, err, sizeof err), CN_DCM_EINVAL);
    bad = img;
    bad.laterality = 'B';
    assert_int_equal(cn_mg_write(path, &id, &bad, err, sizeof err), CN_DCM_EINVAL);
    bad = img;
    bad.bits_stored = 17;
    assert_int_equal(cn_mg_write(path, &id, &bad, err, sizeof err), CN_DCM_EINVAL);
    bad = img;
    bad.pixel_spacing_mm[1] = 0;
    assert_int_equal(cn_mg_write(path, &id, &bad, err, sizeof err), CN_DCM_EINVAL);
    uint16_t too_big[4] = {1, 2, 4096, 4};
    bad = img;
    bad.pixels = too_big;
    assert_int_equal(cn_mg_write(path, &id, &bad, err, sizeof err), CN_DCM_EINVAL);
    assert_non_null(strstr(err, "pixel 2"));
    assert_int_equal(cn_mg_write("/nonexistent/dir/x.dcm", &id, &img, err, sizeof err),
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mg_write_output_passes_dciodvfy_without_errors),
        cmocka_unit_test(test_mg_write_round_trips_pixels_and_attributes),
        cmocka_unit_test(test_mg_write_is_deterministic),
        cmocka_unit_test(test_mg_write_rejects_bad_arguments),
    };
    return cmocka_run_group_tests(tests, set_up, tear_down);
}
