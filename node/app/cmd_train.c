/* calcnode train: trains the cluster risk model (node/risk/train.h) on a labelled
 * feature CSV and writes a model file (node/risk/model.h), printing the cross-validated
 * figures. Main thread. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/commands.h"
#include "app/options.h"
#include "calc/features.h"
#include "risk/category.h"
#include "risk/dataset.h"
#include "risk/model.h"
#include "risk/stats.h"
#include "risk/train.h"

#define WILSON_Z_95 1.959963984540054
#define EVALUATE_BOOTSTRAP_REPS 2000u

/* Largest difference allowed between the trainer's and the saved model's probability. */
#define SELF_CHECK_TOLERANCE 1e-6

enum {
    OPT_OUT = 'o',
    OPT_DATA = CN_OPT_FIRST_COMMAND_SPECIFIC,
    OPT_LABEL_COLUMN,
    OPT_FOLDS,
    OPT_TARGET_SENSITIVITY,
    OPT_SEED,
    OPT_DESCRIPTION,
    OPT_SYNTHETIC,
    OPT_PREDICTIONS,
    OPT_MAX_ROUNDS,
    OPT_EVALUATE,
    OPT_SOURCE,
    OPT_SENSITIVITY_BOUND_Z,
};

static const char train_usage[] =
    "usage: calcnode train --data CSV [--label-column NAME] [--folds K]\n"
    "                      [--target-sensitivity S] [--seed N] [--max-rounds N]\n"
    "                      [--description TEXT] [--source TEXT] [--synthetic]\n"
    "                      [--sensitivity-bound-z Z] [--predictions CSV]\n"
    "                      -o, --out MODEL.json\n"
    "Trains the cluster risk model (XGBoost) with group k-fold cross-validation by image,\n"
    "early stopping, class weighting, Platt calibration and a threshold for the target\n"
    "sensitivity (node/risk/train.h); prints the out-of-fold figures and writes the model\n"
    "file.\n"
    "\n"
    "  --data CSV                labelled features (calcnode analyze --dump-features)\n"
    "  --label-column NAME       the 0/1 column (default label)\n"
    "  --folds K                 cross-validation folds, 2..50 (default 5)\n"
    "  --target-sensitivity S    in (0, 1] (default 0.95)\n"
    "  --sensitivity-bound-z Z   the threshold keeps the Wilson lower bound at Z of the\n"
    "                            out-of-fold sensitivity at or above S (default 1.96;\n"
    "                            0: the point estimate)\n"
    "  --seed N                  folds, subsampling and bootstrap (default 1)\n"
    "  --max-rounds N            boosting rounds before early stopping (default 1000)\n"
    "  --description TEXT        stored in the model\n"
    "  --source TEXT             where the data came from, stored in the model (default\n"
    "                            the CSV path)\n"
    "  --synthetic               trained on phantoms: the model says so and is flagged\n"
    "                            \"synthetic data, not for clinical use\"\n"
    "  --predictions CSV         write row,fold,label,margin,probability out of fold\n"
    "  -o, --out MODEL.json      the model file to write\n"
    "  --evaluate MODEL.json     instead of training, score the labelled CSV (held-out\n"
    "                            data) with MODEL.json and print AUC, sensitivity,\n"
    "                            specificity and PPV at the model's threshold, the\n"
    "                            BI-RADS category counts and the scoring time\n";

struct train_options {
    const char *data;
    const char *label_column;
    const char *out;
    const char *description;
    const char *predictions;
    const char *evaluate;
    const char *source;
    int synthetic;
    struct cn_risk_train_options train;
};

static int parse_unsigned(const char *arg, unsigned long long max, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    if (arg[0] == '-' || arg[0] == '\0')
        return -1;
    unsigned long long v = strtoull(arg, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

static int on_train_option(int code, const char *arg, void *user)
{
    struct train_options *o = user;
    unsigned long long v = 0;
    char *end = NULL;
    switch (code) {
    case OPT_OUT:
        o->out = arg;
        return 0;
    case OPT_DATA:
        o->data = arg;
        return 0;
    case OPT_LABEL_COLUMN:
        o->label_column = arg;
        return 0;
    case OPT_DESCRIPTION:
        o->description = arg;
        return 0;
    case OPT_PREDICTIONS:
        o->predictions = arg;
        return 0;
    case OPT_SOURCE:
        o->source = arg;
        return 0;
    case OPT_EVALUATE:
        o->evaluate = arg;
        return 0;
    case OPT_SYNTHETIC:
        o->synthetic = 1;
        return 0;
    case OPT_FOLDS:
        if (parse_unsigned(arg, CN_RISK_MAX_FOLDS, &v) != 0 || v < 2) {
            fprintf(stderr, "calcnode train: invalid --folds \"%s\" (2..%u)\n", arg,
                    CN_RISK_MAX_FOLDS);
            return -1;
        }
        o->train.folds = (unsigned)v;
        return 0;
    case OPT_MAX_ROUNDS:
        if (parse_unsigned(arg, 100000, &v) != 0 || v < 1) {
            fprintf(stderr, "calcnode train: invalid --max-rounds \"%s\" (1..100000)\n", arg);
            return -1;
        }
        o->train.max_rounds = (unsigned)v;
        return 0;
    case OPT_SEED:
        if (parse_unsigned(arg, UINT64_MAX, &v) != 0) {
            fprintf(stderr, "calcnode train: invalid --seed \"%s\"\n", arg);
            return -1;
        }
        o->train.seed = v;
        return 0;
    case OPT_TARGET_SENSITIVITY:
        errno = 0;
        o->train.target_sensitivity = strtod(arg, &end);
        if (errno != 0 || *end != '\0' || !(o->train.target_sensitivity > 0.0) ||
            o->train.target_sensitivity > 1.0) {
            fprintf(stderr, "calcnode train: invalid --target-sensitivity \"%s\" (0 < S <= 1)\n",
                    arg);
            return -1;
        }
        return 0;
    case OPT_SENSITIVITY_BOUND_Z:
        errno = 0;
        o->train.sensitivity_bound_z = strtod(arg, &end);
        if (errno != 0 || *end != '\0' || !(o->train.sensitivity_bound_z >= 0.0) ||
            !isfinite(o->train.sensitivity_bound_z)) {
            fprintf(stderr, "calcnode train: invalid --sensitivity-bound-z \"%s\" (Z >= 0)\n", arg);
            return -1;
        }
        return 0;
    default:
        return -1;
    }
}

static const struct option train_extra[] = {
    {"out", required_argument, NULL, OPT_OUT},
    {"data", required_argument, NULL, OPT_DATA},
    {"label-column", required_argument, NULL, OPT_LABEL_COLUMN},
    {"folds", required_argument, NULL, OPT_FOLDS},
    {"target-sensitivity", required_argument, NULL, OPT_TARGET_SENSITIVITY},
    {"seed", required_argument, NULL, OPT_SEED},
    {"max-rounds", required_argument, NULL, OPT_MAX_ROUNDS},
    {"description", required_argument, NULL, OPT_DESCRIPTION},
    {"synthetic", no_argument, NULL, OPT_SYNTHETIC},
    {"predictions", required_argument, NULL, OPT_PREDICTIONS},
    {"evaluate", required_argument, NULL, OPT_EVALUATE},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"sensitivity-bound-z", required_argument, NULL, OPT_SENSITIVITY_BOUND_Z},
    {NULL, 0, NULL, 0},
};

/* A JSON number, or null for NaN (a figure that does not exist, such as the PPV of
 * a threshold that calls nothing). */
static json_t *number(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *estimate_json(const struct cn_risk_estimate *e)
{
    return json_pack("{s:o, s:[o, o]}", "value", number(e->value), "ci95", number(e->low),
                     number(e->high));
}

/* The "training" report stored in the model beside rows, positives, source and date. */
static json_t *training_report(const struct train_options *o, const struct cn_risk_dataset *d,
                               const struct cn_risk_train_result *r)
{
    const struct cn_risk_train_options *t = &o->train;
    json_t *folds = json_array();
    for (unsigned f = 0; f < r->folds; f++)
        json_array_append_new(folds, json_pack("{s:i, s:o}", "rounds", (int)r->fold_rounds[f],
                                               "auc", number(r->fold_auc[f])));
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)t->seed);
    json_t *report = json_pack(
        "{s:i, s:s, s:i, s:s, s:o, s:{s:s, s:s, s:i, s:f, s:i, s:f, s:f, s:f, s:f, s:f, s:i, "
        "s:f}, s:{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:i, s:i, s:i, s:i}}}",
        "images", (int)d->group_count, "label_column", o->label_column, "folds", (int)t->folds,
        "seed", seed, "fold_results", folds, "xgboost_params", "objective", "binary:logistic",
        "tree_method", "hist", "max_depth", (int)t->max_depth, "eta", t->eta, "max_rounds",
        (int)t->max_rounds, "subsample", t->subsample, "colsample_bytree", t->colsample_bytree,
        "min_child_weight", t->min_child_weight, "validation_fraction", t->validation_fraction,
        "scale_pos_weight", r->final_scale_pos_weight, "final_rounds", (int)r->final_rounds,
        "target_sensitivity", t->target_sensitivity, "cross_validation", "method",
        "group k-fold by sop_instance_uid; round count by early stopping in each fold "
        "(median); out-of-fold predictions of boosters made as the final one",
        "auc_interval", "stratified percentile bootstrap", "proportion_interval", "wilson", "auc",
        estimate_json(&r->auc), "mean_fold_auc", number(r->mean_fold_auc), "sensitivity",
        estimate_json(&r->sensitivity), "specificity", estimate_json(&r->specificity), "ppv",
        estimate_json(&r->ppv), "bootstrap_reps", json_integer((json_int_t)t->bootstrap_reps),
        "confusion", "tp", (int)r->tp, "fp", (int)r->fp, "tn", (int)r->tn, "fn", (int)r->fn);
    json_t *cv = json_object_get(report, "cross_validation");
    if (cv &&
        (json_object_set_new(cv, "threshold_rule",
                             json_string("largest threshold whose Wilson lower bound of the "
                                         "out-of-fold sensitivity is at or above the target")) !=
             0 ||
         json_object_set_new(cv, "sensitivity_bound_z", number(t->sensitivity_bound_z)) != 0 ||
         json_object_set_new(cv, "sensitivity_lower_bound", number(r->sensitivity_bound)) != 0)) {
        json_decref(report);
        return NULL;
    }
    return report;
}

static void print_figures(const struct train_options *o, const struct cn_risk_dataset *d,
                          const struct cn_risk_train_result *r)
{
    printf("data: %s: %zu clusters (%zu malignant) from %zu images\n", o->data, d->rows,
           d->positives, d->group_count);
    for (unsigned f = 0; f < r->folds; f++)
        printf("fold %u: %u rounds (early stopping), AUC %.4f at %u rounds\n", f + 1,
               r->fold_rounds[f], r->fold_auc[f], r->final_rounds);
    printf("cross-validated AUC %.4f (95%% CI %.4f-%.4f, stratified bootstrap, %u resamples); "
           "mean per-fold AUC %.4f\n",
           r->auc.value, r->auc.low, r->auc.high, o->train.bootstrap_reps, r->mean_fold_auc);
    printf("calibration: Platt, p = 1 / (1 + exp(%.6g * margin + %.6g))\n", r->platt_a, r->platt_b);
    printf("threshold %.6g for target sensitivity %.3g: Wilson lower bound (z %.3g) of the "
           "out-of-fold sensitivity %.4f\n",
           r->threshold, o->train.target_sensitivity, o->train.sensitivity_bound_z,
           r->sensitivity_bound);
    if (r->sensitivity_bound < o->train.target_sensitivity)
        printf("warning: %zu malignant rows cannot show sensitivity %.3g at z %.3g; the "
               "threshold calls every one of them\n",
               r->positives, o->train.target_sensitivity, o->train.sensitivity_bound_z);
    printf("out of fold at the threshold (95%% CIs Wilson):\n");
    printf("  sensitivity %.4f (%.4f-%.4f), %zu of %zu malignant\n", r->sensitivity.value,
           r->sensitivity.low, r->sensitivity.high, r->tp, r->tp + r->fn);
    printf("  specificity %.4f (%.4f-%.4f), %zu of %zu benign\n", r->specificity.value,
           r->specificity.low, r->specificity.high, r->tn, r->tn + r->fp);
    printf("  PPV         %.4f (%.4f-%.4f), %zu of %zu called\n", r->ppv.value, r->ppv.low,
           r->ppv.high, r->tp, r->tp + r->fp);
    printf("final model: %u rounds on all rows, scale_pos_weight %.4g\n", r->final_rounds,
           r->final_scale_pos_weight);
}

static int write_predictions(const char *path, const struct cn_risk_dataset *d,
                             const struct cn_risk_train_result *r)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "calcnode train: could not create \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    fputs("row,fold,label,margin,probability\n", f);
    for (size_t i = 0; i < d->rows; i++)
        fprintf(f, "%zu,%u,%d,%.9g,%.9g\n", i, r->fold_of_row[i], d->label[i], r->oof_margin[i],
                r->oof_probability[i]);
    if (fclose(f) != 0) {
        fprintf(stderr, "calcnode train: could not write \"%s\": %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Loads the written file back and checks that it scores the training rows as the
 * trainer does: the model file round trip is exact to SELF_CHECK_TOLERANCE. */
static int self_check(const char *path, const struct cn_risk_dataset *d,
                      const struct cn_risk_train_result *r)
{
    char err[1024];
    struct cn_risk_model *model = NULL;
    if (cn_risk_model_load(path, &model, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode train: the written model does not load: %s\n", err);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < d->rows && rc == 0; i++) {
        double p;
        double want = cn_risk_platt(r->platt_a, r->platt_b, r->final_margin[i]);
        if (cn_risk_score(model, d->x + i * CA_CLUSTER_FEATURE_COUNT, CA_CLUSTER_FEATURE_COUNT,
                          &p) != 0 ||
            fabs(p - want) > SELF_CHECK_TOLERANCE) {
            fprintf(stderr,
                    "calcnode train: the written model scores row %zu as %.9g, the "
                    "trainer as %.9g\n",
                    i, p, want);
            rc = -1;
        }
    }
    cn_risk_model_free(model);
    return rc;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* --evaluate: scores held-out labelled rows with an existing model. */
static int evaluate(const struct train_options *o, const struct cn_risk_dataset *d)
{
    char err[1024];
    struct cn_risk_model *model = NULL;
    if (cn_risk_model_load(o->evaluate, &model, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode train: %s\n", err);
        return 1;
    }
    const struct cn_risk_model_info *info = cn_risk_model_info(model);
    double *p = malloc((d->rows ? d->rows : 1) * sizeof *p);
    if (!p) {
        cn_risk_model_free(model);
        fprintf(stderr, "calcnode train: out of memory\n");
        return 1;
    }
    size_t tp = 0, fp = 0, tn = 0, fn = 0, categories[CN_RISK_CATEGORY_COUNT] = {0};
    double start = now_ms();
    for (size_t i = 0; i < d->rows; i++) {
        if (cn_risk_score(model, d->x + i * CA_CLUSTER_FEATURE_COUNT, CA_CLUSTER_FEATURE_COUNT,
                          &p[i]) != 0) {
            fprintf(stderr, "calcnode train: could not score row %zu\n", i + 1);
            free(p);
            cn_risk_model_free(model);
            return 1;
        }
    }
    double per_cluster_ms = (now_ms() - start) / (double)(d->rows ? d->rows : 1);
    for (size_t i = 0; i < d->rows; i++) {
        int called = p[i] >= info->threshold;
        size_t *cell = d->label[i] ? (called ? &tp : &fn) : (called ? &fp : &tn);
        (*cell)++;
        categories[cn_risk_category_of(p[i], 0)]++;
    }
    struct cn_risk_estimate auc = {cn_risk_auc(p, d->label, d->rows), NAN, NAN};
    cn_risk_auc_bootstrap(p, d->label, d->rows, EVALUATE_BOOTSTRAP_REPS, o->train.seed, &auc.low,
                          &auc.high);
    double lo, hi;
    printf("model: %s%s\n", o->evaluate,
           info->synthetic ? " (" CN_RISK_MODEL_SYNTHETIC_NOTICE ")" : "");
    printf("data: %s: %zu clusters (%zu malignant) from %zu images\n", o->data, d->rows,
           d->positives, d->group_count);
    printf("AUC %.4f (95%% CI %.4f-%.4f, stratified bootstrap, %u resamples)\n", auc.value, auc.low,
           auc.high, EVALUATE_BOOTSTRAP_REPS);
    printf("at the model's threshold %.6g (95%% CIs Wilson):\n", info->threshold);
    cn_risk_wilson(tp, tp + fn, WILSON_Z_95, &lo, &hi);
    printf("  sensitivity %.4f (%.4f-%.4f), %zu of %zu malignant\n",
           tp + fn ? (double)tp / (double)(tp + fn) : NAN, lo, hi, tp, tp + fn);
    cn_risk_wilson(tn, tn + fp, WILSON_Z_95, &lo, &hi);
    printf("  specificity %.4f (%.4f-%.4f), %zu of %zu benign\n",
           tn + fp ? (double)tn / (double)(tn + fp) : NAN, lo, hi, tn, tn + fp);
    cn_risk_wilson(tp, tp + fp, WILSON_Z_95, &lo, &hi);
    printf("  PPV         %.4f (%.4f-%.4f), %zu of %zu called\n",
           tp + fp ? (double)tp / (double)(tp + fp) : NAN, lo, hi, tp, tp + fp);
    printf("categories:");
    for (int c = CN_RISK_CATEGORY_3; c < CN_RISK_CATEGORY_COUNT; c++)
        printf(" %s %zu", cn_risk_category_name(c), categories[c]);
    printf("\nscoring: %.4f ms per cluster\n", per_cluster_ms);
    free(p);
    cn_risk_model_free(model);
    return 0;
}

int cn_cmd_train(int argc, char **argv)
{
    struct train_options o = {.label_column = CN_RISK_DEFAULT_LABEL_COLUMN};
    cn_risk_train_options_default(&o.train);
    struct cn_conf conf;
    int rc =
        cn_options_parse(argc, argv, train_usage, train_extra, on_train_option, &o, &conf, NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (!o.data || (!o.out && !o.evaluate)) {
        fprintf(stderr, "calcnode train: --data and --out (or --evaluate) are required\n%s",
                train_usage);
        return 2;
    }
    char err[1024];
    struct cn_risk_dataset data;
    if (cn_risk_dataset_read_csv(o.data, o.label_column, &data, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode train: %s\n", err);
        return 1;
    }
    if (o.evaluate) {
        rc = evaluate(&o, &data);
        cn_risk_dataset_free(&data);
        return rc;
    }
    struct cn_risk_train_result result;
    if (cn_risk_train(&data, &o.train, &result, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode train: %s\n", err);
        cn_risk_dataset_free(&data);
        return 1;
    }
    print_figures(&o, &data, &result);
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    json_t *report = training_report(&o, &data, &result);
    struct cn_risk_model_meta meta = {
        .platt_a = result.platt_a,
        .platt_b = result.platt_b,
        .threshold = result.threshold,
        .target_sensitivity = o.train.target_sensitivity,
        .training_rows = data.rows,
        .training_positives = data.positives,
        .training_source = o.source ? o.source : o.data,
        .training_date = date,
        .description = o.description,
        .synthetic = o.synthetic,
        .report = report,
    };
    rc = 0;
    if (!report) {
        fprintf(stderr, "calcnode train: could not build the training report\n");
        rc = 1;
    } else if (cn_risk_model_save(o.out, &meta, result.model_json, result.model_json_len, err,
                                  sizeof err) != 0) {
        fprintf(stderr, "calcnode train: %s\n", err);
        rc = 1;
    } else if (self_check(o.out, &data, &result) != 0) {
        rc = 1;
    } else {
        printf("wrote %s%s\n", o.out, o.synthetic ? " (" CN_RISK_MODEL_SYNTHETIC_NOTICE ")" : "");
    }
    if (rc == 0 && o.predictions && write_predictions(o.predictions, &data, &result) != 0)
        rc = 1;
    json_decref(report);
    cn_risk_train_result_free(&result);
    cn_risk_dataset_free(&data);
    return rc;
}
