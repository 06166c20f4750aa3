/* cn_report_write_gsps: a GSPS per analysed image, judged by dciodvfy and read back by
 * pydicom (an independent reader): one circle and one label per cluster, referencing the
 * source image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dcm/dcm.h"
#include "dcm/report.h"
#include "dcm_test_util.h"
#include "mg_fixture.h"
#include "test_sr_fixture.h"

#define PYTHON "/usr/bin/python3"
#define GE_IMAGE "mg/real_ge_senographe_rmlo_jpegls1.dcm"
#define PS_SERIES "1.2.826.0.1.3680043.10.1000.30"
#define PS_INSTANCE "1.2.826.0.1.3680043.10.1000.30.1"

static char temp_dir[256];
static char fixture_path[600];

#define assert_ok(call)                                                                            \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        if (rc_ != CN_DCM_OK)                                                                      \
            fail_msg("%s: %d %s", #call, rc_, err);                                                \
    } while (0)

static int setup(void **state)
{
    (void)state;
    char err[256] = "";
    if (make_temp_dir(temp_dir, sizeof temp_dir) == NULL)
        return -1;
    snprintf(fixture_path, sizeof fixture_path, "%s/mg.dcm", temp_dir);
    return write_fixture(fixture_path, err, sizeof err) == CN_DCM_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    remove_temp_dir(temp_dir);
    return 0;
}

static void expect_dciodvfy_clean(const char *path)
{
    if (!have_tool("dciodvfy"))
        return;
    char log[700], cmd[2048];
    snprintf(log, sizeof log, "%s.dciodvfy.log", path);
    snprintf(cmd, sizeof cmd, "dciodvfy '%s' > '%s' 2>&1", path, log);
    (void)run(cmd);
    snprintf(cmd, sizeof cmd, "grep -q '^Error' '%s'", log);
    if (run(cmd) == 0) {
        snprintf(cmd, sizeof cmd, "cat '%s' >&2", log);
        (void)run(cmd);
        fail_msg("dciodvfy reports errors for %s", path);
    }
}

/* pydicom: circles, labels, the referenced source and the patient name. */
static void expect_pydicom_marks(const char *path, const char *source, int circles,
                                 const char *first_label)
{
    if (run(PYTHON " -c 'import pydicom' >/dev/null 2>&1") != 0) {
        fprintf(stderr, "pydicom is not installed: read-back skipped\n");
        return;
    }
    char cmd[4096];
    snprintf(cmd, sizeof cmd,
             PYTHON
             " -c '\n"
             "import sys, pydicom\n"
             "ps = pydicom.dcmread(sys.argv[1]); src = pydicom.dcmread(sys.argv[2])\n"
             "assert ps.SOPClassUID == \"1.2.840.10008.5.1.4.1.1.11.1\"\n"
             "assert ps.StudyInstanceUID == src.StudyInstanceUID\n"
             "assert ps.PatientName == src.PatientName or not str(src.PatientName)\n"
             "ref = ps.ReferencedSeriesSequence[0].ReferencedImageSequence[0]\n"
             "assert ref.ReferencedSOPInstanceUID == src.SOPInstanceUID\n"
             "ann = ps.get(\"GraphicAnnotationSequence\", [])\n"
             "g = [o for a in ann for o in a.get(\"GraphicObjectSequence\", [])]\n"
             "t = [o for a in ann for o in a.get(\"TextObjectSequence\", [])]\n"
             "assert len(g) == int(sys.argv[3]) and len(t) == len(g), (len(g), len(t))\n"
             "assert all(o.GraphicType == \"CIRCLE\" and o.NumberOfGraphicPoints == 2 for o in g)\n"
             "assert not t or t[0].UnformattedTextValue == sys.argv[4], t[0].UnformattedTextValue\n"
             "' '%s' '%s' %d '%s'",
             path, source, circles, first_label);
    assert_int_equal(run(cmd), 0);
}

static void test_gsps_marks_each_cluster_with_a_circle_and_a_label(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/ps.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(PS_SERIES, PS_INSTANCE);
    assert_ok(cn_report_write_gsps(path, &f.study, 0, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_pydicom_marks(path, fixture_path, SR_CLUSTER_COUNT, "cluster 1: 4B, 0.42");
}

static void test_gsps_without_findings_or_after_failure_has_no_marks(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/ps_failed.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    f.image.analysed = 0;
    f.image.failure_reason = "pixel data could not be decoded";
    struct cn_report_object o = sr_object(PS_SERIES, PS_INSTANCE);
    assert_ok(cn_report_write_gsps(path, &f.study, 0, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_pydicom_marks(path, fixture_path, 0, "");
}

static void test_gsps_rejects_an_image_index_out_of_range(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/ps_bad.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(PS_SERIES, PS_INSTANCE);
    assert_int_equal(cn_report_write_gsps(path, &f.study, 1, &o, err, sizeof err), CN_DCM_EINVAL);
    assert_false(file_exists(path));
}

static void test_gsps_on_the_real_ge_mammogram_passes_dciodvfy(void **state)
{
    (void)state;
    if (!have_data(GE_IMAGE))
        skip();
    char source[TEST_PATH_SIZE], path[700], err[256] = "";
    data_path(source, sizeof source, GE_IMAGE);
    snprintf(path, sizeof path, "%s/ge_ps.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, source, 1200, 1500);
    f.clusters[0].category = NULL;
    struct cn_report_object o = sr_object(PS_SERIES, PS_INSTANCE);
    assert_ok(cn_report_write_gsps(path, &f.study, 0, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_pydicom_marks(path, source, SR_CLUSTER_COUNT, "cluster 1: 0.42");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gsps_marks_each_cluster_with_a_circle_and_a_label),
        cmocka_unit_test(test_gsps_without_findings_or_after_failure_has_no_marks),
        cmocka_unit_test(test_gsps_rejects_an_image_index_out_of_range),
        cmocka_unit_test(test_gsps_on_the_real_ge_mammogram_passes_dciodvfy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
