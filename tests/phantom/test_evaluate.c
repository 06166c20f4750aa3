/* The evaluator on hand-made truth and findings with known answers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phantom/eval.h"
#include "phantom/pgm.h"

#define SIDE 100

/* Truth "img": 100 x 100 px of 0.1 mm, 5 cm2 of breast.
 *   1 malignant amorphous,  mask x 19..21 y 19..21 (centroid 20, 20), cluster 1
 *   2 malignant fine linear, mask x 29..31 y 19..21 (centroid 30, 20), cluster 1
 *   3 benign round,          mask x 68..72 y 68..72 (centroid 70, 70), cluster 2
 *   4 benign, no morphology, mask x 80     y 80     (centroid 80, 80), cluster 2 */
static const char truth_json[] =
    "{\"sop_instance_uid\": \"1.2.3.4\", \"image\": {\"rows\": 100, \"columns\": 100,"
    " \"pixel_spacing_mm\": [0.1, 0.1], \"breast_area_mm2\": 500.0},"
    " \"calcifications\": ["
    "  {\"id\": 1, \"x\": 20, \"y\": 20, \"kind\": \"malignant\","
    "   \"morphology\": \"amorphous\", \"cluster\": 1},"
    "  {\"id\": 2, \"x\": 30, \"y\": 20, \"kind\": \"malignant\","
    "   \"morphology\": \"fine-linear-branching\", \"cluster\": 1},"
    "  {\"id\": 3, \"x\": 70, \"y\": 70, \"kind\": \"benign\", \"morphology\": \"round\","
    "   \"cluster\": 2},"
    "  {\"id\": 4, \"x\": 80, \"y\": 80, \"kind\": \"benign\", \"cluster\": 2}],"
    " \"clusters\": ["
    "  {\"id\": 1, \"x\": 25, \"y\": 20, \"bbox\": [19, 19, 31, 21], \"label\": \"malignant\"},"
    "  {\"id\": 2, \"x\": 75, \"y\": 75, \"bbox\": [68, 68, 80, 80], \"label\": \"benign\"}]}";

struct fixture {
    char truth_dir[64];
    char pred_dir[64];
    char findings[128];
    uint16_t mask[SIDE * SIDE];
};

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void paint(uint16_t *mask, int x0, int y0, int x1, int y1, uint16_t label)
{
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            mask[y * SIDE + x] = label;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char path[192], err[256];
    snprintf(f->truth_dir, sizeof f->truth_dir, "/tmp/cn_eval_truth_XXXXXX");
    snprintf(f->pred_dir, sizeof f->pred_dir, "/tmp/cn_eval_pred_XXXXXX");
    if (!mkdtemp(f->truth_dir) || !mkdtemp(f->pred_dir))
        return -1;
    snprintf(f->findings, sizeof f->findings, "%s/findings.json", f->pred_dir);
    snprintf(path, sizeof path, "%s/img.truth.json", f->truth_dir);
    write_text(path, truth_json);
    paint(f->mask, 19, 19, 21, 21, 1);
    paint(f->mask, 29, 19, 31, 21, 2);
    paint(f->mask, 68, 68, 72, 72, 3);
    paint(f->mask, 80, 80, 80, 80, 4);
    snprintf(path, sizeof path, "%s/img.mask.pgm", f->truth_dir);
    if (cn_pgm_write(path, f->mask, SIDE, SIDE, 4, err, sizeof err) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char path[192];
    snprintf(path, sizeof path, "%s/img.truth.json", f->truth_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/img.mask.pgm", f->truth_dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/img.mask.pgm", f->pred_dir);
    unlink(path);
    unlink(f->findings);
    rmdir(f->truth_dir);
    rmdir(f->pred_dir);
    free(f);
    return 0;
}

static void run(struct fixture *f, const char *findings, struct cn_eval_result *res)
{
    struct cn_eval_options opts;
    char err[512] = "";
    cn_eval_options_default(&opts);
    opts.masks_dir = f->pred_dir;
    write_text(f->findings, findings);
    if (cn_eval_run(f->truth_dir, f->findings, &opts, res, NULL, err, sizeof err) != 0)
        fail_msg("evaluate: %s", err);
}

static void test_perfect_detection_gives_full_sensitivity_and_no_false_positive(void **state)
{
    struct fixture *f = *state;
    char path[192], err[256];
    snprintf(path, sizeof path, "%s/img.mask.pgm", f->pred_dir);
    assert_int_equal(cn_pgm_write(path, f->mask, SIDE, SIDE, 4, err, sizeof err), 0);
    struct cn_eval_result res;
    run(f,
        "{\"images\": [{\"source\": \"/in/img.dcm\", \"calcifications\": ["
        " {\"x\": 20, \"y\": 20}, {\"x\": 30, \"y\": 20}, {\"x\": 70, \"y\": 70},"
        " {\"x\": 80, \"y\": 80}], \"clusters\": ["
        " {\"x\": 25, \"y\": 20, \"bbox\": [19, 19, 31, 21]},"
        " {\"x\": 75, \"y\": 75, \"bbox\": [68, 68, 80, 80]}]}]}",
        &res);
    const struct cn_eval_counts *c = &res.total;
    assert_int_equal(res.image_count, 1);
    assert_true(res.images[0].has_findings);
    assert_int_equal(c->truth_calcs, 4);
    assert_int_equal(c->found_calcs, 4);
    assert_int_equal(c->false_positives, 0);
    assert_true(cn_eval_sensitivity(c->found_malignant, c->truth_malignant) == 1.0);
    assert_true(cn_eval_fp_per_cm2(c) == 0.0);
    assert_true(fabs(c->breast_area_cm2 - 5.0) < 1e-12);
    assert_int_equal(c->found_malignant_clusters, 1);
    assert_int_equal(c->flagged_benign_clusters, 1);
    assert_int_equal(c->false_positive_clusters, 0);
    assert_true(c->has_dice);
    assert_true(cn_eval_dice(c) == 1.0);
    assert_false(res.has_froc);
    cn_eval_result_free(&res);
    unlink(path);
}

static void test_shifted_detections_match_within_the_dilated_mask_only(void **state)
{
    struct fixture *f = *state;
    struct cn_eval_result res;
    /* (24, 20): 0.4 mm from calc 1's centroid: found.
     * (36, 20): 0.5 mm from calc 2's mask edge (x 31), 0.6 mm from its centroid: found.
     * (76, 70): 0.6 mm from calc 3's centroid but 0.4 mm from its mask (x 72): found.
     * (80, 86): 0.6 mm from calc 4 (mask = centroid): a false positive. */
    run(f,
        "{\"images\": [{\"source\": \"img.dcm\", \"calcifications\": ["
        " {\"x\": 24, \"y\": 20}, {\"x\": 36, \"y\": 20}, {\"x\": 76, \"y\": 70},"
        " {\"x\": 80, \"y\": 86}]}]}",
        &res);
    const struct cn_eval_counts *c = &res.total;
    assert_int_equal(c->found_calcs, 3);
    assert_int_equal(c->found_malignant, 2);
    assert_int_equal(c->found_benign, 1);
    assert_int_equal(c->false_positives, 1);
    assert_true(fabs(cn_eval_fp_per_cm2(c) - 0.2) < 1e-12);
    assert_int_equal(c->detected_clusters, 0);
    assert_int_equal(c->found_malignant_clusters, 0);
    assert_false(c->has_dice);
    cn_eval_result_free(&res);
}

/* Detections on calcifications 1 (malignant amorphous) and 3 (benign round) only. */
static const char half_found_findings[] =
    "{\"images\": [{\"source\": \"img.dcm\", \"calcifications\": ["
    " {\"x\": 20, \"y\": 20}, {\"x\": 70, \"y\": 70}], \"clusters\": []}]}";

static void test_missing_detections_lower_sensitivity_by_class(void **state)
{
    struct fixture *f = *state;
    struct cn_eval_result res;
    run(f, half_found_findings, &res);
    const struct cn_eval_counts *c = &res.total;
    assert_true(cn_eval_sensitivity(c->found_calcs, c->truth_calcs) == 0.5);
    assert_true(cn_eval_sensitivity(c->found_malignant, c->truth_malignant) == 0.5);
    assert_true(cn_eval_sensitivity(c->found_benign, c->truth_benign) == 0.5);
    assert_int_equal(c->false_positives, 0);
    cn_eval_result_free(&res);
}

static size_t morphology_count(const size_t *by_morphology, const char *name)
{
    for (int m = 0; m < CN_EVAL_MORPHOLOGIES; m++)
        if (strcmp(cn_eval_morphology_names[m], name) == 0)
            return by_morphology[m];
    fail_msg("no morphology \"%s\"", name);
    return 0;
}

static void test_sensitivity_is_counted_per_morphology_and_reported_in_json(void **state)
{
    struct fixture *f = *state;
    struct cn_eval_result res;
    run(f, half_found_findings, &res);
    const struct cn_eval_counts *c = &res.total;
    const char *names[] = {"amorphous", "fine-linear-branching", "round", "other", "vascular"};
    const size_t truth[] = {1, 1, 1, 1, 0}, found[] = {1, 0, 1, 0, 0};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        assert_int_equal(morphology_count(c->truth_by_morphology, names[i]), truth[i]);
        assert_int_equal(morphology_count(c->found_by_morphology, names[i]), found[i]);
    }

    struct cn_eval_options opts;
    cn_eval_options_default(&opts);
    char *text = NULL;
    size_t text_len = 0;
    FILE *out = open_memstream(&text, &text_len);
    assert_non_null(out);
    assert_int_equal(cn_eval_print_json(&res, &opts, out), 0);
    assert_int_equal(fclose(out), 0);
    json_error_t error;
    json_t *root = json_loads(text, 0, &error);
    free(text);
    assert_non_null(root);
    const json_t *by = json_object_get(json_object_get(root, "total"), "by_morphology");
    assert_int_equal(json_object_size(by), 4); /* only morphologies present in the truth */
    const json_t *linear = json_object_get(by, "fine-linear-branching");
    assert_int_equal(json_integer_value(json_object_get(linear, "truth")), 1);
    assert_int_equal(json_integer_value(json_object_get(linear, "found")), 0);
    assert_true(json_real_value(json_object_get(json_object_get(by, "amorphous"),
                                                "sensitivity")) == 1.0);
    assert_null(json_object_get(by, "vascular"));
    json_decref(root);
    cn_eval_result_free(&res);
}

static void test_froc_sweeps_scores_and_reads_sensitivity_at_fixed_rates(void **state)
{
    struct fixture *f = *state;
    struct cn_eval_result res;
    /* scores: calc 1 0.9, false positive 0.8, calc 2 0.7, calc 3 0.6, calc 4 0.5;
     * one false positive in 5 cm2 = 0.2 FP/cm2 */
    run(f,
        "{\"images\": [{\"source\": \"img.dcm\", \"calcifications\": ["
        " {\"x\": 20, \"y\": 20, \"score\": 0.9}, {\"x\": 50, \"y\": 50, \"score\": 0.8},"
        " {\"x\": 30, \"y\": 20, \"score\": 0.7}, {\"x\": 70, \"y\": 70, \"score\": 0.6},"
        " {\"x\": 80, \"y\": 80, \"score\": 0.5}]}]}",
        &res);
    assert_true(res.has_froc);
    assert_int_equal(res.froc_count, 5);
    assert_true(res.froc[0].threshold == 0.9);
    assert_true(res.froc[0].sensitivity == 0.25 && res.froc[0].fp_per_cm2 == 0.0);
    assert_true(res.froc[1].sensitivity == 0.25 && fabs(res.froc[1].fp_per_cm2 - 0.2) < 1e-12);
    assert_true(res.froc[4].sensitivity == 1.0);
    assert_true(res.sensitivity_at[0] == 0.25); /* 0.1 FP/cm2 */
    assert_true(res.sensitivity_at[1] == 1.0);  /* 0.2 FP/cm2 */
    assert_true(res.sensitivity_at[3] == 1.0);
    cn_eval_result_free(&res);
}

static void test_clusters_match_by_bbox_or_centroid_and_extra_ones_are_false_positives(
    void **state)
{
    struct fixture *f = *state;
    struct cn_eval_result res;
    /* (25, 60) without bbox: 4 mm from cluster 1's centroid (25, 20), within 5 mm: found;
     * (5, 95) with a bbox far from both: a false positive cluster */
    run(f,
        "{\"images\": [{\"sop_instance_uid\": \"1.2.3.4\", \"source\": \"renamed.dcm\","
        " \"calcifications\": [], \"clusters\": ["
        " {\"x\": 25, \"y\": 60}, {\"x\": 5, \"y\": 95, \"bbox\": [0, 90, 10, 99]}]}]}",
        &res);
    const struct cn_eval_counts *c = &res.total;
    assert_true(res.images[0].has_findings); /* matched by SOP Instance UID */
    assert_int_equal(c->detected_clusters, 2);
    assert_int_equal(c->found_malignant_clusters, 1);
    assert_int_equal(c->flagged_benign_clusters, 0);
    assert_int_equal(c->false_positive_clusters, 1);
    assert_int_equal(c->found_calcs, 0);
    cn_eval_result_free(&res);
}

static void test_truth_without_findings_counts_as_missed(void **state)
{
    struct fixture *f = *state;
    struct cn_eval_result res;
    run(f, "{\"images\": [{\"source\": \"someone-else.dcm\", \"calcifications\": []}]}", &res);
    assert_false(res.images[0].has_findings);
    assert_int_equal(res.unmatched_findings, 1);
    assert_int_equal(res.total.truth_calcs, 4);
    assert_int_equal(res.total.found_calcs, 0);
    cn_eval_result_free(&res);
}

static void test_malformed_findings_are_an_error_not_a_crash(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "not json",
        "{\"images\": 3}",
        "{\"images\": [{\"source\": \"img.dcm\", \"calcifications\": [{\"x\": \"1\", \"y\": 2}]}]}",
        "{\"images\": [{\"source\": \"img.dcm\", \"calcifications\": {}}]}",
        "{\"images\": [{\"source\": \"img.dcm\"}, {\"source\": \"img.dcm\"}]}",
    };
    struct cn_eval_options opts;
    cn_eval_options_default(&opts);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cn_eval_result res;
        char err[512] = "";
        write_text(f->findings, bad[i]);
        assert_int_equal(cn_eval_run(f->truth_dir, f->findings, &opts, &res, NULL, err,
                                     sizeof err),
                         -1);
        assert_true(err[0] != '\0');
        assert_null(res.images);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_perfect_detection_gives_full_sensitivity_and_no_false_positive, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_shifted_detections_match_within_the_dilated_mask_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_detections_lower_sensitivity_by_class,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_sensitivity_is_counted_per_morphology_and_reported_in_json, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_froc_sweeps_scores_and_reads_sensitivity_at_fixed_rates, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_clusters_match_by_bbox_or_centroid_and_extra_ones_are_false_positives, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_truth_without_findings_counts_as_missed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_malformed_findings_are_an_error_not_a_crash,
                                        setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
