/* cn_dcm_read_header on real vendor files (shared data) and on edited copies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <dirent.h>

#include "dcm/dcm.h"
#include "dcm_test_util.h"

static void test_read_header_fills_catalogue_fields_of_ge_mammogram(void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    struct cn_dcm_header h;
    data_path(path, sizeof path, "mg/real_ge_senographe_rmlo_jpegls1.dcm");
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.transfer_syntax_uid, "1.2.840.10008.1.2.4.70");
    assert_string_equal(h.sop_class_uid, "1.2.840.10008.5.1.4.1.1.1.2");
    assert_string_equal(h.modality, "MG");
    assert_string_equal(h.image_laterality, "R");
    assert_string_equal(h.view_position, "MLO");
    assert_string_equal(h.presentation_intent, "FOR PRESENTATION");
    assert_int_equal(h.rows, 3062);
    assert_int_equal(h.columns, 2394);
    assert_int_equal(h.parse_incomplete, 0);
    assert_true(strlen(h.study_instance_uid) > 0);
    assert_true(strlen(h.series_instance_uid) > 0);
    assert_true(strlen(h.sop_instance_uid) > 0);
}

static void test_read_header_takes_laterality_from_laterality_when_image_laterality_absent(
    void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    struct cn_dcm_header h;
    data_path(path, sizeof path, "mg/real_ddsm_film_mg1_j2k_lossy.dcm");
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.image_laterality, "L");
    assert_string_equal(h.view_position, "MLO");
    assert_string_equal(h.transfer_syntax_uid, "1.2.840.10008.1.2.4.91");
}

static void test_read_header_keeps_utf8_patient_name_and_character_set(void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    struct cn_dcm_header h;
    data_path(path, sizeof path, "mg/header_MG-Im-GE-SenDS-scaled.dcm");
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.specific_character_set, "ISO_IR 192");
    assert_string_equal(h.patient_name, "Mamograf\xc3\xad" "a^B\xe1\xbb\x8bnhnh\xc3\xa2n");
    assert_string_equal(h.presentation_intent, "FOR PROCESSING");
    assert_string_equal(h.view_position, "CC");
    assert_string_equal(h.image_laterality, "L");
}

/* The view must come from the View Code Sequence when View Position is absent. */
static void test_read_header_maps_view_code_sequence_when_view_position_absent(void **state)
{
    (void)state;
    if (!have_tool("dcmodify")) {
        skip();
        return;
    }
    char dir[256], src[TEST_PATH_SIZE], dst[TEST_PATH_SIZE + 16], cmd[8 * TEST_PATH_SIZE];
    char err[256] = "";
    struct cn_dcm_header h;
    assert_non_null(make_temp_dir(dir, sizeof dir));
    data_path(src, sizeof src, "mg/header_MG-Im-GE_Seno_1_ForPresentation.dcm");
    snprintf(dst, sizeof dst, "%s/mlo.dcm", dir);
    /* R-10226 (SRT) medio-lateral oblique, PS3.16 CID 4014. */
    snprintf(cmd, sizeof cmd,
             "cp '%s' '%s' && chmod u+w '%s' && dcmodify -nb -ea '(0018,5101)' "
             "-m '(0054,0220)[0].(0008,0100)=R-10226' "
             "-m '(0054,0220)[0].(0008,0104)=medio-lateral oblique' '%s' >/dev/null 2>&1",
             src, dst, dst, dst);
    assert_int_equal(run(cmd), 0);
    assert_int_equal(cn_dcm_read_header(dst, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.view_position, "MLO");

    /* SNOMED CT form, recognised by code value alone (meaning deliberately odd). */
    snprintf(cmd, sizeof cmd,
             "dcmodify -nb -m '(0054,0220)[0].(0008,0100)=399162004' "
             "-m '(0054,0220)[0].(0008,0102)=SCT' "
             "-m '(0054,0220)[0].(0008,0104)=vendor text' '%s' >/dev/null 2>&1",
             dst);
    assert_int_equal(run(cmd), 0);
    assert_int_equal(cn_dcm_read_header(dst, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.view_position, "CC");
    remove_temp_dir(dir);
}

static void test_read_header_returns_partial_result_for_malformed_hologic_header(void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    struct cn_dcm_header h;
    data_path(path, sizeof path, "mg/header_MG-Im-Hologic-PropProj.dcm");
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
    assert_int_equal(h.parse_incomplete, 1);
    assert_true(strlen(err) > 0);
    assert_string_equal(h.sop_instance_uid, "1.2.826.0.1.3680043.8.498.8796749610338176875379319");
    assert_true(strlen(h.study_instance_uid) > 0);
    assert_string_equal(h.patient_id, "phy12345TomoSTPRot");
    assert_string_equal(h.modality, "MG");
}

static void test_read_header_reads_explicit_big_endian_sr(void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    struct cn_dcm_header h;
    data_path(path, sizeof path, "sr/openrem_MG-RDSR-Giotto-DBT.dcm");
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_OK);
    assert_string_equal(h.transfer_syntax_uid, "1.2.840.10008.1.2.2");
    assert_string_equal(h.modality, "SR");
    assert_string_equal(h.patient_name, "xxxx");
    assert_int_equal(h.rows, 0);
}

/* Every shared file of mg/, sr/ and seg/ gives its identifying UIDs. */
static void test_read_header_reads_every_shared_dicom_file(void **state)
{
    (void)state;
    const char *folders[] = {"mg", "sr", "seg"};
    int files = 0;
    for (size_t f = 0; f < sizeof folders / sizeof folders[0]; f++) {
        char dir_path[TEST_PATH_SIZE];
        DIR *dir = opendir(data_path(dir_path, sizeof dir_path, folders[f]));
        assert_non_null(dir);
        struct dirent *e;
        while ((e = readdir(dir)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n < 4 || strcmp(e->d_name + n - 4, ".dcm") != 0)
                continue;
            char path[2 * TEST_PATH_SIZE], err[256] = "";
            struct cn_dcm_header h;
            snprintf(path, sizeof path, "%s/%s", dir_path, e->d_name);
            int rc = cn_dcm_read_header(path, &h, err, sizeof err);
            if (rc != CN_DCM_OK)
                fail_msg("%s: %d %s", path, rc, err);
            assert_true(strlen(h.sop_instance_uid) > 0);
            assert_true(strlen(h.study_instance_uid) > 0);
            assert_true(strlen(h.transfer_syntax_uid) > 0);
            files++;
        }
        closedir(dir);
    }
    assert_true(files >= 30);
}

static void test_read_header_reports_missing_file_as_io_error(void **state)
{
    (void)state;
    char err[256] = "";
    struct cn_dcm_header h;
    assert_int_equal(cn_dcm_read_header("/nonexistent/x.dcm", &h, err, sizeof err), CN_DCM_EIO);
    assert_non_null(strstr(err, "could not open file"));
}

static void test_read_header_rejects_file_without_dicom_preamble(void **state)
{
    (void)state;
    char path[TEST_PATH_SIZE], err[256] = "";
    struct cn_dcm_header h;
    data_path(path, sizeof path, "mias/mdb001.pgm");
    assert_int_equal(cn_dcm_read_header(path, &h, err, sizeof err), CN_DCM_EFORMAT);
    assert_true(strlen(err) > 0);
}

static void test_read_header_rejects_truncated_file_before_uids(void **state)
{
    (void)state;
    char dir[256], src[TEST_PATH_SIZE], dst[TEST_PATH_SIZE + 16], cmd[8 * TEST_PATH_SIZE];
    char err[256] = "";
    struct cn_dcm_header h;
    assert_non_null(make_temp_dir(dir, sizeof dir));
    data_path(src, sizeof src, "mg/header_MG-Im-GE_Seno_1_ForPresentation.dcm");
    snprintf(dst, sizeof dst, "%s/cut.dcm", dir);
    /* 400 bytes: preamble, meta information and the start of group 0008 only. */
    snprintf(cmd, sizeof cmd, "head -c 400 '%s' > '%s'", src, dst);
    assert_int_equal(run(cmd), 0);
    int rc = cn_dcm_read_header(dst, &h, err, sizeof err);
    assert_true(rc == CN_DCM_EFORMAT || rc == CN_DCM_EMISSING);
    assert_true(strlen(err) > 0);
    remove_temp_dir(dir);
}

int main(void)
{
    if (!have_data("mg/real_ge_senographe_rmlo_jpegls1.dcm"))
        return TEST_EXIT_SKIP;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_header_fills_catalogue_fields_of_ge_mammogram),
        cmocka_unit_test(
            test_read_header_takes_laterality_from_laterality_when_image_laterality_absent),
        cmocka_unit_test(test_read_header_keeps_utf8_patient_name_and_character_set),
        cmocka_unit_test(test_read_header_maps_view_code_sequence_when_view_position_absent),
        cmocka_unit_test(test_read_header_returns_partial_result_for_malformed_hologic_header),
        cmocka_unit_test(test_read_header_reads_explicit_big_endian_sr),
        cmocka_unit_test(test_read_header_reads_every_shared_dicom_file),
        cmocka_unit_test(test_read_header_reports_missing_file_as_io_error),
        cmocka_unit_test(test_read_header_rejects_file_without_dicom_preamble),
        cmocka_unit_test(test_read_header_rejects_truncated_file_before_uids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
