/* The model file: a trained model round-trips, scores the same from many threads, and
 * every damaged file is refused with a reason that names the problem. */
#include <jansson.h>
#include <pthread.h>
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

#define THREADS 4

struct fixture {
    char dir[64];
    char path[128];
    struct cn_risk_dataset data;
    struct cn_risk_train_result result;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/risk-model-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/model.json", f->dir);
    size_t len;
    char *csv = synth_csv(40, 3, 0.2, 21, &len);
    char err[512] = "";
    if (cn_risk_dataset_parse("synthetic.csv", csv, len, NULL, &f->data, err, sizeof err) != 0)
        return -1;
    free(csv);
    struct cn_risk_train_options o;
    cn_risk_train_options_default(&o);
    o.max_rounds = 60;
    o.bootstrap_reps = 50;
    if (cn_risk_train(&f->data, &o, &f->result, err, sizeof err) != 0)
        return -1;
    struct cn_risk_model_meta meta = {
        .platt_a = f->result.platt_a,
        .platt_b = f->result.platt_b,
        .threshold = f->result.threshold,
        .target_sensitivity = 0.95,
        .training_rows = f->data.rows,
        .training_positives = f->data.positives,
        .training_source = "synthetic.csv",
        .training_date = "2026-01-01T00:00:00Z",
        .description = "test",
        .synthetic = 1,
    };
    if (cn_risk_model_save(f->path, &meta, f->result.model_json, f->result.model_json_len, err,
                           sizeof err) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    char other[160];
    snprintf(other, sizeof other, "%s/bad.json", f->dir);
    unlink(other);
    rmdir(f->dir);
    cn_risk_train_result_free(&f->result);
    cn_risk_dataset_free(&f->data);
    free(f);
    return 0;
}

static void test_model_round_trip_scores_as_the_trainer(void **state)
{
    struct fixture *f = *state;
    struct cn_risk_model *m = NULL;
    char err[512] = "";
    assert_int_equal(cn_risk_model_load(f->path, &m, err, sizeof err), 0);
    const struct cn_risk_model_info *info = cn_risk_model_info(m);
    assert_true(info->synthetic);
    assert_string_equal(info->notice, CN_RISK_MODEL_SYNTHETIC_NOTICE);
    assert_int_equal(info->training_rows, f->data.rows);
    assert_true(info->threshold == f->result.threshold);
    for (size_t i = 0; i < f->data.rows; i++) {
        double p, margin;
        assert_int_equal(cn_risk_score(m, f->data.x + i * CA_CLUSTER_FEATURE_COUNT,
                                       CA_CLUSTER_FEATURE_COUNT, &p),
                         0);
        assert_int_equal(cn_risk_score_margin(m, f->data.x + i * CA_CLUSTER_FEATURE_COUNT,
                                              CA_CLUSTER_FEATURE_COUNT, &margin),
                         0);
        assert_float_equal(margin, f->result.final_margin[i], 1e-5);
        assert_float_equal(p, cn_risk_platt(info->platt_a, info->platt_b, margin), 1e-12);
        assert_true(p > 0.0 && p < 1.0);
    }
    double p;
    assert_int_equal(cn_risk_score(m, f->data.x, CA_CLUSTER_FEATURE_COUNT - 1, &p),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    double bad[CA_CLUSTER_FEATURE_COUNT] = {0};
    bad[3] = NAN;
    assert_int_equal(cn_risk_score(m, bad, CA_CLUSTER_FEATURE_COUNT, &p),
                     CN_RISK_ERR_INVALID_ARGUMENT);
    cn_risk_model_free(m);
}

struct worker {
    const struct cn_risk_model *model;
    const struct cn_risk_dataset *data;
    double *out;
    int failures;
};

static void *score_all(void *arg)
{
    struct worker *w = arg;
    for (int pass = 0; pass < 20; pass++)
        for (size_t i = 0; i < w->data->rows; i++)
            if (cn_risk_score(w->model, w->data->x + i * CA_CLUSTER_FEATURE_COUNT,
                              CA_CLUSTER_FEATURE_COUNT, &w->out[i]) != 0)
                w->failures++;
    return NULL;
}

static void test_model_scores_the_same_from_concurrent_threads(void **state)
{
    struct fixture *f = *state;
    struct cn_risk_model *m = NULL;
    char err[512] = "";
    assert_int_equal(cn_risk_model_load(f->path, &m, err, sizeof err), 0);
    double *serial = calloc(f->data.rows, sizeof *serial);
    for (size_t i = 0; i < f->data.rows; i++)
        assert_int_equal(cn_risk_score(m, f->data.x + i * CA_CLUSTER_FEATURE_COUNT,
                                       CA_CLUSTER_FEATURE_COUNT, &serial[i]),
                         0);
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){m, &f->data, calloc(f->data.rows, sizeof(double)), 0};
        assert_int_equal(pthread_create(&threads[t], NULL, score_all, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(workers[t].failures, 0);
        assert_memory_equal(workers[t].out, serial, f->data.rows * sizeof *serial);
        free(workers[t].out);
    }
    free(serial);
    cn_risk_model_free(m);
}

/* Writes text to dir/bad.json and expects the load to fail with code and needle. */
static void expect_load_error(struct fixture *f, const char *text, size_t len, int code,
                              const char *needle)
{
    char path[160];
    snprintf(path, sizeof path, "%s/bad.json", f->dir);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    assert_int_equal(fwrite(text, 1, len, out), len);
    assert_int_equal(fclose(out), 0);
    struct cn_risk_model *m = (struct cn_risk_model *)1;
    char err[1024] = "";
    assert_int_equal(cn_risk_model_load(path, &m, err, sizeof err), code);
    assert_null(m);
    if (!strstr(err, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

/* The fixture's model as JSON, edited by edit, then expected to fail. */
static void expect_edit_error(struct fixture *f, void (*edit)(json_t *), int code,
                              const char *needle)
{
    json_error_t jerr;
    json_t *doc = json_load_file(f->path, 0, &jerr);
    assert_non_null(doc);
    edit(doc);
    char *text = json_dumps(doc, JSON_REAL_PRECISION(17));
    expect_load_error(f, text, strlen(text), code, needle);
    free(text);
    json_decref(doc);
}

static void next_version(json_t *doc)
{
    json_object_set_new(doc, "format_version", json_integer(CN_RISK_MODEL_FORMAT_VERSION + 1));
}

static void swap_two_features(json_t *doc)
{
    json_t *features = json_object_get(doc, "features");
    json_t *a = json_incref(json_array_get(features, 4));
    json_t *b = json_incref(json_array_get(features, 5));
    json_array_set_new(features, 4, b);
    json_array_set_new(features, 5, a);
}

static void drop_last_feature(json_t *doc)
{
    json_t *features = json_object_get(doc, "features");
    json_array_remove(features, json_array_size(features) - 1);
}

static void drop_notice(json_t *doc)
{
    json_object_set_new(doc, "notice", json_string(""));
}

static void isotonic_calibration(json_t *doc)
{
    json_object_set_new(json_object_get(doc, "calibration"), "method", json_string("isotonic"));
}

static void threshold_one(json_t *doc)
{
    json_object_set_new(json_object_get(doc, "operating_point"), "threshold", json_real(1.0));
}

static void broken_booster(json_t *doc)
{
    json_object_set_new(doc, "xgboost", json_pack("{s:s}", "learner", "none"));
}

static void test_model_load_names_every_problem(void **state)
{
    struct fixture *f = *state;
    FILE *in = fopen(f->path, "r");
    char *text = malloc(1 << 22);
    size_t len = fread(text, 1, 1 << 22, in);
    fclose(in);
    expect_load_error(f, text, len / 2, CN_RISK_ERR_FORMAT, "truncated");
    expect_load_error(f, text, 0, CN_RISK_ERR_FORMAT, "truncated");
    free(text);
    expect_load_error(f, "[1, 2]", 6, CN_RISK_ERR_FORMAT, "not a JSON object");
    expect_edit_error(f, next_version, CN_RISK_ERR_VERSION, "format version 2");
    char needle[256];
    snprintf(needle, sizeof needle, "feature 4 is \"%s\" in the model but \"%s\" in this build",
             ca_cluster_feature_name(5), ca_cluster_feature_name(4));
    expect_edit_error(f, swap_two_features, CN_RISK_ERR_FEATURES, needle);
    snprintf(needle, sizeof needle, "%d features in the model, %d in this build",
             (int)CA_CLUSTER_FEATURE_COUNT - 1, (int)CA_CLUSTER_FEATURE_COUNT);
    expect_edit_error(f, drop_last_feature, CN_RISK_ERR_FEATURES, needle);
    expect_edit_error(f, drop_notice, CN_RISK_ERR_FORMAT, "synthetic but lacks the notice");
    expect_edit_error(f, isotonic_calibration, CN_RISK_ERR_FORMAT, "method \"platt\"");
    expect_edit_error(f, threshold_one, CN_RISK_ERR_FORMAT, "threshold in (0, 1)");
    expect_edit_error(f, broken_booster, CN_RISK_ERR_XGBOOST, "could not load the booster");

    struct cn_risk_model *m = NULL;
    char err[512] = "";
    assert_int_equal(cn_risk_model_load("/nonexistent/model.json", &m, err, sizeof err),
                     CN_RISK_ERR_IO);
    assert_non_null(strstr(err, "could not open risk model \"/nonexistent/model.json\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_round_trip_scores_as_the_trainer),
        cmocka_unit_test(test_model_scores_the_same_from_concurrent_threads),
        cmocka_unit_test(test_model_load_names_every_problem),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
