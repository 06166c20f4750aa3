/* Training on generated tables: separable structure is learnt, the threshold meets its
 * target, a seed gives the same model, and bad CSV is refused with a named reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "risk/dataset.h"
#include "risk/model.h"
#include "risk/train.h"
#include "synth.h"

/* Largest gap between the mean calibrated probability and the prevalence on held-out
 * rows. */
#define CALIBRATION_TOLERANCE 0.03

static void parse_ok(const char *text, size_t len, struct cn_risk_dataset *d)
{
    char err[512] = "";
    int rc = cn_risk_dataset_parse("synthetic.csv", text, len, NULL, d, err, sizeof err);
    if (rc != 0)
        fail_msg("parse: %s", err);
}

static void small_options(struct cn_risk_train_options *o)
{
    cn_risk_train_options_default(o);
    o->max_rounds = 200;
    o->early_stopping_rounds = 15;
    o->bootstrap_reps = 200;
}

static void test_train_learns_separable_structure_and_meets_the_target(void **state)
{
    (void)state;
    size_t len;
    char *csv = synth_csv(100, 4, 0.0, 7, &len);
    struct cn_risk_dataset d;
    parse_ok(csv, len, &d);
    assert_int_equal(d.rows, 400);
    assert_int_equal(d.group_count, 100);
    struct cn_risk_train_options o;
    small_options(&o);
    struct cn_risk_train_result r;
    char err[512] = "";
    assert_int_equal(cn_risk_train(&d, &o, &r, err, sizeof err), 0);
    assert_true(r.auc.value > 0.97);
    assert_true(r.auc.low <= r.auc.value && r.auc.value <= r.auc.high);
    assert_true(r.sensitivity.value >= o.target_sensitivity);
    /* Enough positives to show the target: the bound meets it, and it is the Wilson low
     * end of the reported sensitivity. */
    assert_true(r.sensitivity_bound >= o.target_sensitivity);
    assert_true(fabs(r.sensitivity_bound - r.sensitivity.low) < 1e-12);
    assert_true(r.sensitivity.low <= r.sensitivity.value &&
                r.sensitivity.value <= r.sensitivity.high);
    assert_int_equal(r.tp + r.fn, d.positives);
    assert_int_equal(r.tp + r.fp + r.tn + r.fn, d.rows);
    /* Calibration is monotone increasing in the margin. */
    assert_true(r.platt_a < 0.0);
    /* Each image's clusters are held out together. */
    for (size_t i = 0; i < d.rows; i++)
        for (size_t j = 0; j < d.rows; j++)
            if (d.group[i] == d.group[j])
                assert_int_equal(r.fold_of_row[i], r.fold_of_row[j]);
    assert_non_null(r.model_json);
    assert_true(r.final_rounds >= 1);
    cn_risk_train_result_free(&r);
    cn_risk_dataset_free(&d);
    free(csv);
}

static void test_train_is_deterministic_for_a_seed(void **state)
{
    (void)state;
    size_t len;
    char *csv = synth_csv(60, 3, 0.3, 11, &len);
    struct cn_risk_dataset d;
    parse_ok(csv, len, &d);
    struct cn_risk_train_options o;
    small_options(&o);
    o.seed = 42;
    struct cn_risk_train_result a, b, c;
    char err[512] = "";
    assert_int_equal(cn_risk_train(&d, &o, &a, err, sizeof err), 0);
    assert_int_equal(cn_risk_train(&d, &o, &b, err, sizeof err), 0);
    assert_memory_equal(a.oof_margin, b.oof_margin, d.rows * sizeof *a.oof_margin);
    assert_int_equal(a.model_json_len, b.model_json_len);
    assert_memory_equal(a.model_json, b.model_json, a.model_json_len);
    assert_true(a.threshold == b.threshold);
    o.seed = 43;
    assert_int_equal(cn_risk_train(&d, &o, &c, err, sizeof err), 0);
    assert_memory_not_equal(a.fold_of_row, c.fold_of_row, d.rows * sizeof *a.fold_of_row);
    cn_risk_train_result_free(&a);
    cn_risk_train_result_free(&b);
    cn_risk_train_result_free(&c);
    cn_risk_dataset_free(&d);
    free(csv);
}

static void test_train_refuses_data_without_positives(void **state)
{
    (void)state;
    size_t len;
    char *csv = synth_csv(20, 2, 0.0, 3, &len);
    struct cn_risk_dataset d;
    parse_ok(csv, len, &d);
    for (size_t i = 0; i < d.rows; i++)
        d.label[i] = 0;
    d.positives = 0;
    struct cn_risk_train_options o;
    small_options(&o);
    struct cn_risk_train_result r;
    char err[512] = "";
    assert_int_equal(cn_risk_train(&d, &o, &r, err, sizeof err), CN_RISK_ERR_DATA);
    assert_non_null(strstr(err, "no positive rows"));
    cn_risk_dataset_free(&d);
    free(csv);
}

/* Held-out figures of a trained model on an independent table: sensitivity at the
 * model's threshold and the mean calibrated probability. */
struct held_out {
    double sensitivity, mean_probability, prevalence;
};

static struct held_out score_held_out(const struct cn_risk_train_result *r,
                                      const struct cn_risk_dataset *test)
{
    char dir[] = "/tmp/risk-held-out-XXXXXX", path[64], err[512] = "";
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/model.json", dir);
    struct cn_risk_model_meta meta = {
        .platt_a = r->platt_a,
        .platt_b = r->platt_b,
        .threshold = r->threshold,
        .target_sensitivity = 0.95,
        .training_rows = r->rows,
        .training_positives = r->positives,
        .training_source = "synthetic.csv",
        .training_date = "2026-01-01T00:00:00Z",
    };
    assert_int_equal(
        cn_risk_model_save(path, &meta, r->model_json, r->model_json_len, err, sizeof err), 0);
    struct cn_risk_model *model = NULL;
    assert_int_equal(cn_risk_model_load(path, &model, err, sizeof err), 0);
    unlink(path);
    rmdir(dir);
    size_t tp = 0, sum_label = 0;
    double sum_p = 0.0;
    for (size_t i = 0; i < test->rows; i++) {
        double p;
        assert_int_equal(cn_risk_score(model, test->x + i * CA_CLUSTER_FEATURE_COUNT,
                                       CA_CLUSTER_FEATURE_COUNT, &p),
                         0);
        sum_p += p;
        sum_label += test->label[i] != 0;
        tp += test->label[i] && p >= r->threshold;
    }
    cn_risk_model_free(model);
    return (struct held_out){
        .sensitivity = (double)tp / (double)test->positives,
        .mean_probability = sum_p / (double)test->rows,
        .prevalence = (double)sum_label / (double)test->rows,
    };
}

/* The point of the assessment boosters and of the lower bound: on rows never seen in
 * training, the final model's threshold keeps the target sensitivity and its calibrated
 * probabilities average to the prevalence. The point-estimate rule (z = 0) sits on the
 * edge and is reported beside it for comparison. */
static void test_train_threshold_holds_the_target_on_independent_data(void **state)
{
    (void)state;
    size_t len_train, len_test;
    char *csv_train = synth_csv(250, 4, 0.15, 2024, &len_train);
    char *csv_test = synth_csv(1500, 4, 0.15, 4048, &len_test);
    struct cn_risk_dataset d, test;
    parse_ok(csv_train, len_train, &d);
    parse_ok(csv_test, len_test, &test);
    struct cn_risk_train_options o;
    small_options(&o);
    struct cn_risk_train_result bounded, point;
    char err[512] = "";
    assert_int_equal(cn_risk_train(&d, &o, &bounded, err, sizeof err), 0);
    o.sensitivity_bound_z = 0.0;
    assert_int_equal(cn_risk_train(&d, &o, &point, err, sizeof err), 0);
    struct held_out hb = score_held_out(&bounded, &test), hp = score_held_out(&point, &test);
    print_message("held out: sensitivity %.4f (point-estimate rule %.4f); mean probability "
                  "%.4f, prevalence %.4f; out of fold %.4f, bound %.4f\n",
                  hb.sensitivity, hp.sensitivity, hb.mean_probability, hb.prevalence,
                  bounded.sensitivity.value, bounded.sensitivity_bound);
    assert_true(bounded.sensitivity_bound >= o.target_sensitivity);
    assert_true(bounded.threshold <= point.threshold);
    assert_true(hb.sensitivity >= o.target_sensitivity);
    assert_true(fabs(hb.mean_probability - hb.prevalence) <= CALIBRATION_TOLERANCE);
    cn_risk_train_result_free(&bounded);
    cn_risk_train_result_free(&point);
    cn_risk_dataset_free(&d);
    cn_risk_dataset_free(&test);
    free(csv_train);
    free(csv_test);
}

/* Replaces the first occurrence of from by to in a copy of text. */
static char *replace(const char *text, const char *from, const char *to, size_t *len)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    size_t head = (size_t)(at - text);
    memcpy(out, text, head);
    memcpy(out + head, to, strlen(to));
    memcpy(out + head + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
    *len = n;
    return out;
}

static void expect_csv_error(const char *text, size_t len, int code, const char *needle)
{
    struct cn_risk_dataset d;
    char err[512] = "";
    assert_int_equal(cn_risk_dataset_parse("bad.csv", text, len, NULL, &d, err, sizeof err), code);
    if (!strstr(err, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err, needle);
    assert_null(d.x);
}

static void test_dataset_rejects_missing_reordered_unknown_and_non_finite(void **state)
{
    (void)state;
    size_t len, n;
    char *csv = synth_csv(3, 2, 0.0, 5, &len);
    char header_pair[128], swapped[128];
    snprintf(header_pair, sizeof header_pair, ",%s,%s,", ca_cluster_feature_name(0),
             ca_cluster_feature_name(1));
    snprintf(swapped, sizeof swapped, ",%s,%s,", ca_cluster_feature_name(1),
             ca_cluster_feature_name(0));
    char *bad = replace(csv, header_pair, swapped, &n);
    expect_csv_error(bad, n, CN_RISK_ERR_FEATURES, "feature order differs");
    free(bad);

    char missing[128];
    snprintf(missing, sizeof missing, ",%s,", ca_cluster_feature_name(2));
    bad = replace(csv, missing, ",mystery_feature,", &n);
    expect_csv_error(bad, n, CN_RISK_ERR_FEATURES, "unknown column \"mystery_feature\"");
    free(bad);

    bad = replace(csv, ",label\n", ",truth_outcome\n", &n);
    expect_csv_error(bad, n, CN_RISK_ERR_FORMAT, "label column \"label\" is missing");
    free(bad);

    /* The first data row's first feature becomes NaN. */
    const char *row = strchr(csv, '\n') + 1;
    const char *value = strchr(strchr(strchr(row + 1, '"') + 1, ',') + 1, ',');
    value = strchr(value + 1, ',') + 1;
    size_t head = (size_t)(value - csv);
    const char *after = strchr(value, ',');
    bad = malloc(len + 8);
    memcpy(bad, csv, head);
    n = head + (size_t)snprintf(bad + head, len + 8 - head, "nan%s", after);
    expect_csv_error(bad, n, CN_RISK_ERR_FORMAT, "\"nan\" is not a finite number");
    free(bad);

    bad = replace(csv, "0\n", "2\n", &n);
    expect_csv_error(bad, n, CN_RISK_ERR_FORMAT, "neither 0 nor 1");
    free(bad);

    bad = replace(csv, "\n\"img,1", ",9\n\"img,1", &n);
    expect_csv_error(bad, n, CN_RISK_ERR_FORMAT, "fields, the header has");
    free(bad);

    expect_csv_error("", 0, CN_RISK_ERR_FORMAT, "is empty");
    free(csv);
}

static void test_dataset_reads_quoted_fields_and_groups_by_uid(void **state)
{
    (void)state;
    size_t len;
    char *csv = synth_csv(4, 3, 0.0, 9, &len);
    struct cn_risk_dataset d;
    parse_ok(csv, len, &d);
    assert_int_equal(d.rows, 12);
    assert_int_equal(d.group_count, 4);
    for (size_t i = 0; i < d.rows; i++)
        assert_int_equal(d.group[i], i / 3);
    cn_risk_dataset_free(&d);
    free(csv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_train_learns_separable_structure_and_meets_the_target),
        cmocka_unit_test(test_train_is_deterministic_for_a_seed),
        cmocka_unit_test(test_train_refuses_data_without_positives),
        cmocka_unit_test(test_train_threshold_holds_the_target_on_independent_data),
        cmocka_unit_test(test_dataset_rejects_missing_reordered_unknown_and_non_finite),
        cmocka_unit_test(test_dataset_reads_quoted_fields_and_groups_by_uid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
