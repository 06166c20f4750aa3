/* cn_report_write_measurements / cn_report_write_cad: TID 1500 and Mammography CAD SRs
 * on the synthetic MG fixture and the real GE mammogram, judged by dciodvfy and dsrdump
 * and read back by DCMTK (cn_report_read_summary, cn_report_read_numbers). */
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

#define GE_IMAGE "mg/real_ge_senographe_rmlo_jpegls1.dcm"
#define COMPREHENSIVE_SR "1.2.840.10008.5.1.4.1.1.88.33"
#define MAMMO_CAD_SR "1.2.840.10008.5.1.4.1.1.88.50"
#define SR_SERIES "1.2.826.0.1.3680043.10.1000.20"
#define SR_INSTANCE "1.2.826.0.1.3680043.10.1000.20.1"
#define MAX_VALUES 32

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
    if (write_fixture(fixture_path, err, sizeof err) != CN_DCM_OK) {
        fprintf(stderr, "fixture: %s\n", err);
        return -1;
    }
    return 0;
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

/* dsrdump parses the file and DCMTK's own checks report nothing (-Ee: errors only). */
static void expect_dsrdump_parses(const char *path)
{
    if (!have_tool("dsrdump"))
        return;
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "dsrdump '%s' > '%s.dsrdump' 2>&1", path, path);
    if (run(cmd) != 0) {
        snprintf(cmd, sizeof cmd, "cat '%s.dsrdump' >&2", path);
        (void)run(cmd);
        fail_msg("dsrdump cannot parse %s", path);
    }
    snprintf(cmd, sizeof cmd, "grep -qi 'error\\|warning' '%s.dsrdump'", path);
    if (run(cmd) == 0) {
        snprintf(cmd, sizeof cmd, "grep -i 'error\\|warning' '%s.dsrdump' >&2", path);
        (void)run(cmd);
        fail_msg("dsrdump reports problems in %s", path);
    }
}

static size_t read_numbers(const char *path, const char *concept, double *values)
{
    char err[256] = "";
    size_t count = 0;
    assert_ok(cn_report_read_numbers(path, concept, values, MAX_VALUES, &count, err, sizeof err));
    return count;
}

static void test_measurement_report_holds_one_group_per_cluster_and_the_study(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/tid1500.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    assert_ok(cn_report_write_measurements(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_dsrdump_parses(path);

    struct cn_report_summary s;
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_string_equal(s.sop_class_uid, COMPREHENSIVE_SR);
    assert_string_equal(s.sop_instance_uid, SR_INSTANCE);
    assert_string_equal(s.root_concept, "126000");
    assert_int_equal(s.measurement_group_count, SR_CLUSTER_COUNT + 1);
    assert_int_equal(s.image_library_count, 1);
    assert_int_equal(s.predecessor_count, 0);
    struct cn_mg_identity id = fixture_identity();
    assert_string_equal(s.specific_character_set, id.specific_character_set);
    assert_string_equal(s.patient_name, id.patient_name);

    double v[MAX_VALUES];
    assert_int_equal(read_numbers(path, "111038", v), 2);
    assert_true(v[0] == 3 && v[1] == 3);
    assert_int_equal(read_numbers(path, "42798000", v), 2);
    assert_true(v[0] == 1.5 && v[1] == 2.25);
    assert_int_equal(read_numbers(path, "CN001", v), 2);
    assert_true(v[0] == 0.04 && v[1] == 0.1);
    /* cluster 1 and the study carry a probability; cluster 2 has none (no model) */
    assert_int_equal(read_numbers(path, "111047", v), 2);
    assert_true(v[0] == 42 && v[1] == 42);
}

static void test_cad_report_has_clusters_as_composite_features_over_findings(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/cad.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    assert_ok(cn_report_write_cad(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_dsrdump_parses(path);

    struct cn_report_summary s;
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_string_equal(s.sop_class_uid, MAMMO_CAD_SR);
    assert_string_equal(s.root_concept, "111036");
    assert_string_equal(s.findings_summary, "111242"); /* all succeeded; with findings */
    assert_int_equal(s.image_library_count, 1);
    assert_int_equal(s.composite_feature_count, SR_CLUSTER_COUNT);
    /* one finding per cluster, one per calcification */
    assert_int_equal(s.single_image_finding_count, SR_CLUSTER_COUNT + SR_CALC_COUNT);
    /* centre and outline of each composite feature and cluster finding, centre and
     * outline of each calcification */
    assert_int_equal(s.scoord_count, 4 * SR_CLUSTER_COUNT + 2 * SR_CALC_COUNT);

    double v[MAX_VALUES];
    assert_int_equal(read_numbers(path, "111038", v), 2);
    assert_true(v[0] == 3 && v[1] == 3);
    assert_int_equal(read_numbers(path, "111072", v), 2); /* per detection performed */
    assert_true(v[0] == 3);
    assert_int_equal(read_numbers(path, "111071", v), SR_CALC_COUNT);
    assert_true(v[0] == 2);
}

static void test_failed_analysis_still_gives_a_cad_report_that_says_so(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/cad_failed.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    f.study.analysis_failed = 1;
    f.study.failure_reason = "no breast found";
    f.study.has_study_score = 0;
    f.study.study_category = NULL;
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    assert_ok(cn_report_write_cad(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_dsrdump_parses(path);
    struct cn_report_summary s;
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_string_equal(s.findings_summary, "111245"); /* no algorithms succeeded */
    assert_int_equal(s.composite_feature_count, 0);
    assert_int_equal(s.single_image_finding_count, 0);
    assert_int_equal(s.image_library_count, 1);

    snprintf(path, sizeof path, "%s/tid1500_failed.dcm", temp_dir);
    assert_ok(cn_report_write_measurements(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_int_equal(s.measurement_group_count, 0);
}

static void test_reports_without_scores_omit_probability_and_category(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    f.clusters[0].has_score = 0;
    f.clusters[0].category = NULL;
    f.study.has_study_score = 0;
    f.study.study_category = NULL;
    f.study.operating_point_count = 0;
    f.study.operating_point = 0;
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    double v[MAX_VALUES];
    snprintf(path, sizeof path, "%s/tid1500_noscore.dcm", temp_dir);
    assert_ok(cn_report_write_measurements(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    assert_int_equal(read_numbers(path, "111047", v), 0);
    struct cn_report_summary s;
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_int_equal(s.measurement_group_count, SR_CLUSTER_COUNT);
    snprintf(path, sizeof path, "%s/cad_noscore.dcm", temp_dir);
    assert_ok(cn_report_write_cad(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_dsrdump_parses(path);
    assert_int_equal(read_numbers(path, "111047", v), 0);
    assert_int_equal(read_numbers(path, "111071", v), 0);
}

static void test_reanalysis_names_the_previous_report_as_predecessor(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE ".2");
    o.predecessor_series_instance_uid = SR_SERIES;
    o.predecessor_sop_instance_uid = SR_INSTANCE;
    struct cn_report_summary s;
    snprintf(path, sizeof path, "%s/cad_run2.dcm", temp_dir);
    assert_ok(cn_report_write_cad(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_int_equal(s.predecessor_count, 1);
    snprintf(path, sizeof path, "%s/tid1500_run2.dcm", temp_dir);
    assert_ok(cn_report_write_measurements(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_int_equal(s.predecessor_count, 1);
}

static void test_reports_are_the_same_bytes_when_written_twice(void **state)
{
    (void)state;
    char a[700], b[700], cmd[1600], err[256] = "";
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    snprintf(a, sizeof a, "%s/twice_a.dcm", temp_dir);
    snprintf(b, sizeof b, "%s/twice_b.dcm", temp_dir);
    assert_ok(cn_report_write_cad(a, &f.study, &o, err, sizeof err));
    assert_ok(cn_report_write_cad(b, &f.study, &o, err, sizeof err));
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    assert_int_equal(run(cmd), 0);
    assert_ok(cn_report_write_measurements(a, &f.study, &o, err, sizeof err));
    assert_ok(cn_report_write_measurements(b, &f.study, &o, err, sizeof err));
    assert_int_equal(run(cmd), 0);
}

static void test_reports_reject_bad_studies(void **state)
{
    (void)state;
    char path[700], err[256] = "";
    snprintf(path, sizeof path, "%s/bad.dcm", temp_dir);
    struct sr_fixture f;
    sr_fixture_init(&f, fixture_path, 10, 12);
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    f.members0[1] = SR_CALC_COUNT; /* no such calcification */
    assert_int_equal(cn_report_write_cad(path, &f.study, &o, err, sizeof err), CN_DCM_EINVAL);
    sr_fixture_init(&f, fixture_path, 10, 12);
    f.clusters[0].category = "7";
    assert_int_equal(cn_report_write_measurements(path, &f.study, &o, err, sizeof err),
                     CN_DCM_EINVAL);
    sr_fixture_init(&f, fixture_path, 10, 12);
    f.clusters[0].outline_count = 2;
    assert_int_equal(cn_report_write_cad(path, &f.study, &o, err, sizeof err), CN_DCM_EINVAL);
    sr_fixture_init(&f, fixture_path, 10, 12);
    o.sop_instance_uid = "1.2.abc";
    assert_int_equal(cn_report_write_cad(path, &f.study, &o, err, sizeof err), CN_DCM_EINVAL);
    o = sr_object(SR_SERIES, SR_INSTANCE);
    f.image.path = "/nonexistent/x.dcm";
    assert_int_equal(cn_report_write_cad(path, &f.study, &o, err, sizeof err), CN_DCM_EFORMAT);
    assert_false(file_exists(path));
}

static void test_reports_on_the_real_ge_mammogram_pass_dciodvfy(void **state)
{
    (void)state;
    if (!have_data(GE_IMAGE))
        skip();
    char source[TEST_PATH_SIZE], path[700], err[256] = "";
    data_path(source, sizeof source, GE_IMAGE);
    struct sr_fixture f;
    sr_fixture_init(&f, source, 1200, 1500);
    struct cn_report_object o = sr_object(SR_SERIES, SR_INSTANCE);
    struct cn_report_summary s;
    snprintf(path, sizeof path, "%s/ge_tid1500.dcm", temp_dir);
    assert_ok(cn_report_write_measurements(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_dsrdump_parses(path);
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_int_equal(s.measurement_group_count, SR_CLUSTER_COUNT + 1);
    snprintf(path, sizeof path, "%s/ge_cad.dcm", temp_dir);
    assert_ok(cn_report_write_cad(path, &f.study, &o, err, sizeof err));
    expect_dciodvfy_clean(path);
    expect_dsrdump_parses(path);
    assert_ok(cn_report_read_summary(path, &s, err, sizeof err));
    assert_int_equal(s.composite_feature_count, SR_CLUSTER_COUNT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_measurement_report_holds_one_group_per_cluster_and_the_study),
        cmocka_unit_test(test_cad_report_has_clusters_as_composite_features_over_findings),
        cmocka_unit_test(test_failed_analysis_still_gives_a_cad_report_that_says_so),
        cmocka_unit_test(test_reports_without_scores_omit_probability_and_category),
        cmocka_unit_test(test_reanalysis_names_the_previous_report_as_predecessor),
        cmocka_unit_test(test_reports_are_the_same_bytes_when_written_twice),
        cmocka_unit_test(test_reports_reject_bad_studies),
        cmocka_unit_test(test_reports_on_the_real_ge_mammogram_pass_dciodvfy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
