/* Cross-validated training of the risk model on XGBoost (procedure in train.h). */
#include "risk/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>

#include "calc/features.h"
#include "risk/model.h"
#include "risk/stats.h"

#define FEATURES CA_CLUSTER_FEATURE_COUNT
#define WILSON_Z_95 1.959963984540054
/* Distinct streams of the seed for the outer folds, the inner splits and the bootstrap. */
#define STREAM_FOLDS 0x666f6c6473u
#define STREAM_INNER 0x696e6e6572u
#define STREAM_BOOTSTRAP 0x626f6f74u
/* Thresholds are kept strictly inside (0, 1), as the model file requires. */
#define THRESHOLD_MIN 1e-12

void cn_risk_train_options_default(struct cn_risk_train_options *o)
{
    *o = (struct cn_risk_train_options){
        .folds = 5,
        .target_sensitivity = 0.95,
        .seed = 1,
        .max_rounds = 1000,
        .early_stopping_rounds = 30,
        .validation_fraction = 0.2,
        .max_depth = 3,
        .eta = 0.05,
        .subsample = 0.8,
        .colsample_bytree = 0.8,
        .min_child_weight = 1.0,
        .bootstrap_reps = 2000,
        .threads = 1,
        .sensitivity_bound_z = WILSON_Z_95,
    };
}

struct group_info {
    size_t rows, positives;
    uint64_t shuffle; /* position after the seeded shuffle */
    size_t id;
};

static int by_positives_then_shuffle(const void *a, const void *b)
{
    const struct group_info *x = a, *y = b;
    if (x->positives != y->positives)
        return x->positives > y->positives ? -1 : 1;
    return (x->shuffle > y->shuffle) - (x->shuffle < y->shuffle);
}

/* Assigns the groups of the selected rows (selected[i] nonzero, or every row when
 * selected is NULL) to k parts: part_of_row[i] for selected rows. Returns 0 or -1 (out
 * of memory). */
static int split_groups(const struct cn_risk_dataset *d, const unsigned char *selected, unsigned k,
                        uint64_t seed, unsigned *part_of_row)
{
    struct group_info *g = calloc(d->group_count ? d->group_count : 1, sizeof *g);
    size_t *order = malloc((d->group_count ? d->group_count : 1) * sizeof *order);
    unsigned *part_of_group = malloc((d->group_count ? d->group_count : 1) * sizeof *part_of_group);
    size_t part_rows[CN_RISK_MAX_FOLDS] = {0}, part_pos[CN_RISK_MAX_FOLDS] = {0};
    if (!g || !order || !part_of_group) {
        free(g);
        free(order);
        free(part_of_group);
        return -1;
    }
    for (size_t i = 0; i < d->rows; i++) {
        if (selected && !selected[i])
            continue;
        g[d->group[i]].rows++;
        g[d->group[i]].positives += d->label[i] != 0;
    }
    /* Fisher-Yates over the group ids gives each group its shuffled position. */
    for (size_t i = 0; i < d->group_count; i++)
        order[i] = i;
    uint64_t state = seed;
    for (size_t i = d->group_count; i > 1; i--) {
        size_t j = (size_t)cn_risk_rng_below(&state, i);
        size_t t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    for (size_t i = 0; i < d->group_count; i++) {
        g[order[i]].shuffle = i;
        g[order[i]].id = order[i];
    }
    qsort(g, d->group_count, sizeof *g, by_positives_then_shuffle);
    for (size_t i = 0; i < d->group_count; i++) {
        if (g[i].rows == 0)
            continue;
        unsigned best = 0;
        for (unsigned p = 1; p < k; p++)
            if (part_pos[p] < part_pos[best] ||
                (part_pos[p] == part_pos[best] && part_rows[p] < part_rows[best]))
                best = p;
        part_of_group[g[i].id] = best;
        part_pos[best] += g[i].positives;
        part_rows[best] += g[i].rows;
    }
    for (size_t i = 0; i < d->rows; i++)
        if (!selected || selected[i])
            part_of_row[i] = part_of_group[d->group[i]];
    free(g);
    free(order);
    free(part_of_group);
    return 0;
}

/* A DMatrix of the rows with mask[i] nonzero, labels set. NULL on failure. */
static DMatrixHandle make_matrix(const struct cn_risk_dataset *d, const unsigned char *mask,
                                 size_t *count_out, size_t *positives_out)
{
    size_t n = 0, pos = 0;
    for (size_t i = 0; i < d->rows; i++)
        if (mask[i]) {
            n++;
            pos += d->label[i] != 0;
        }
    float *x = malloc((n ? n : 1) * FEATURES * sizeof *x);
    float *y = malloc((n ? n : 1) * sizeof *y);
    DMatrixHandle m = NULL;
    if (x && y && n > 0) {
        size_t r = 0;
        for (size_t i = 0; i < d->rows; i++) {
            if (!mask[i])
                continue;
            for (size_t j = 0; j < FEATURES; j++)
                x[r * FEATURES + j] = (float)d->x[i * FEATURES + j];
            y[r] = d->label[i] ? 1.0f : 0.0f;
            r++;
        }
        if (XGDMatrixCreateFromMat(x, (bst_ulong)n, FEATURES, NAN, &m) != 0 ||
            XGDMatrixSetFloatInfo(m, "label", y, (bst_ulong)n) != 0) {
            if (m)
                XGDMatrixFree(m);
            m = NULL;
        }
    }
    free(x);
    free(y);
    *count_out = n;
    *positives_out = pos;
    return m;
}

static int set_params(BoosterHandle b, const struct cn_risk_train_options *o,
                      double scale_pos_weight)
{
    char v[8][64];
    snprintf(v[0], sizeof v[0], "%u", o->max_depth);
    snprintf(v[1], sizeof v[1], "%.17g", o->eta);
    snprintf(v[2], sizeof v[2], "%.17g", o->subsample);
    snprintf(v[3], sizeof v[3], "%.17g", o->colsample_bytree);
    snprintf(v[4], sizeof v[4], "%.17g", o->min_child_weight);
    snprintf(v[5], sizeof v[5], "%.17g", scale_pos_weight);
    snprintf(v[6], sizeof v[6], "%llu", (unsigned long long)(o->seed & 0x7fffffffu));
    snprintf(v[7], sizeof v[7], "%u", o->threads);
    const char *params[][2] = {
        {"objective", "binary:logistic"},
        {"eval_metric", "logloss"},
        {"tree_method", "hist"},
        {"verbosity", "0"},
        {"max_depth", v[0]},
        {"eta", v[1]},
        {"subsample", v[2]},
        {"colsample_bytree", v[3]},
        {"min_child_weight", v[4]},
        {"scale_pos_weight", v[5]},
        {"seed", v[6]},
        {"nthread", v[7]},
    };
    for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
        if (XGBoosterSetParam(b, params[i][0], params[i][1]) != 0)
            return -1;
    return 0;
}

/* The number after the last ':' of XGBoost's "[3]\tvalid-logloss:0.1234". */
static double parse_eval(const char *text)
{
    const char *colon = strrchr(text, ':');
    if (!colon)
        return NAN;
    char *end = NULL;
    double v = strtod(colon + 1, &end);
    return end == colon + 1 ? NAN : v;
}

/* Trains on train (rows count, pos positives) for rounds, or with early stopping on
 * valid when valid is not NULL (then *rounds_out is the best round count). */
static int fit(DMatrixHandle train, size_t count, size_t pos, DMatrixHandle valid,
               const struct cn_risk_train_options *o, unsigned rounds, BoosterHandle *out,
               unsigned *rounds_out, double *spw_out, char *err, size_t err_len)
{
    DMatrixHandle cache[2] = {train, valid};
    BoosterHandle b = NULL;
    double spw = pos > 0 ? (double)(count - pos) / (double)pos : 1.0;
    if (XGBoosterCreate(cache, valid ? 2 : 1, &b) != 0 || set_params(b, o, spw) != 0) {
        int rc = cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len, "could not set up a booster: %s",
                              XGBGetLastError());
        if (b)
            XGBoosterFree(b);
        return rc;
    }
    double best = INFINITY;
    unsigned best_rounds = rounds;
    const char *names[] = {"valid"};
    for (unsigned i = 0; i < rounds; i++) {
        if (XGBoosterUpdateOneIter(b, (int)i, train) != 0) {
            XGBoosterFree(b);
            return cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len, "could not train round %u: %s",
                                i, XGBGetLastError());
        }
        if (!valid)
            continue;
        const char *text = NULL;
        if (XGBoosterEvalOneIter(b, (int)i, &valid, names, 1, &text) != 0) {
            XGBoosterFree(b);
            return cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len,
                                "could not evaluate round %u: %s", i, XGBGetLastError());
        }
        double loss = parse_eval(text);
        if (loss < best) {
            best = loss;
            best_rounds = i + 1;
        } else if (i + 1 - best_rounds >= o->early_stopping_rounds) {
            break;
        }
    }
    *out = b;
    *rounds_out = best_rounds;
    *spw_out = spw;
    return 0;
}

/* Margins of the first `rounds` trees of b on m, into out[count]. */
static int predict_margin(BoosterHandle b, DMatrixHandle m, unsigned rounds, size_t count,
                          double *out, char *err, size_t err_len)
{
    char config[160];
    snprintf(config, sizeof config,
             "{\"type\": 1, \"training\": false, \"iteration_begin\": 0, "
             "\"iteration_end\": %u, \"strict_shape\": false}",
             rounds);
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *result = NULL;
    if (XGBoosterPredictFromDMatrix(b, m, config, &shape, &dim, &result) != 0)
        return cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len, "could not predict: %s",
                            XGBGetLastError());
    for (size_t i = 0; i < count; i++)
        out[i] = result[i];
    return 0;
}

/* Tuning pass of one outer fold: the fold's training groups split into an inner
 * training part and a validation part; early stopping on the latter gives the fold's
 * best round count (r->fold_rounds[fold]). The held-out fold is not touched. */
static int tune_fold(const struct cn_risk_dataset *d, const struct cn_risk_train_options *o,
                     unsigned fold, struct cn_risk_train_result *r, unsigned char *mask,
                     unsigned *inner, char *err, size_t err_len)
{
    unsigned inner_k = (unsigned)lround(1.0 / o->validation_fraction);
    for (size_t i = 0; i < d->rows; i++)
        mask[i] = r->fold_of_row[i] != fold;
    if (split_groups(d, mask, inner_k, o->seed ^ STREAM_INNER ^ ((uint64_t)fold << 40), inner) != 0)
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    size_t n_train, pos_train, n_valid, pos_valid;
    for (size_t i = 0; i < d->rows; i++)
        mask[i] = r->fold_of_row[i] != fold && inner[i] != 0;
    DMatrixHandle train = make_matrix(d, mask, &n_train, &pos_train);
    for (size_t i = 0; i < d->rows; i++)
        mask[i] = r->fold_of_row[i] != fold && inner[i] == 0;
    DMatrixHandle valid = make_matrix(d, mask, &n_valid, &pos_valid);
    int rc = 0;
    if (!train || !valid)
        rc = cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len,
                          "could not build the matrices of fold %u: %s", fold + 1,
                          XGBGetLastError());
    BoosterHandle b = NULL;
    double spw;
    if (rc == 0)
        rc = fit(train, n_train, pos_train, valid, o, o->max_rounds, &b, &r->fold_rounds[fold],
                 &spw, err, err_len);
    if (b)
        XGBoosterFree(b);
    if (train)
        XGDMatrixFree(train);
    if (valid)
        XGDMatrixFree(valid);
    return rc;
}

/* Assessment pass of one outer fold: the final model's recipe (every training row of
 * the fold, r->final_rounds rounds, scale_pos_weight of those rows) and the margins of
 * the held-out rows (r->oof_margin) with their AUC (r->fold_auc[fold]). */
static int assess_fold(const struct cn_risk_dataset *d, const struct cn_risk_train_options *o,
                       unsigned fold, struct cn_risk_train_result *r, unsigned char *mask,
                       char *err, size_t err_len)
{
    size_t n_train, pos_train, n_test, pos_test;
    for (size_t i = 0; i < d->rows; i++)
        mask[i] = r->fold_of_row[i] != fold;
    DMatrixHandle train = make_matrix(d, mask, &n_train, &pos_train);
    for (size_t i = 0; i < d->rows; i++)
        mask[i] = r->fold_of_row[i] == fold;
    DMatrixHandle test = make_matrix(d, mask, &n_test, &pos_test);
    int rc = 0;
    if (!train || !test)
        rc = cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len,
                          "could not build the matrices of fold %u: %s", fold + 1,
                          XGBGetLastError());
    BoosterHandle b = NULL;
    unsigned rounds;
    double spw;
    double *margin = malloc((n_test ? n_test : 1) * sizeof *margin);
    int *labels = malloc((n_test ? n_test : 1) * sizeof *labels);
    if (rc == 0 && (!margin || !labels))
        rc = cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    if (rc == 0)
        rc = fit(train, n_train, pos_train, NULL, o, r->final_rounds, &b, &rounds, &spw, err,
                 err_len);
    if (rc == 0)
        rc = predict_margin(b, test, r->final_rounds, n_test, margin, err, err_len);
    if (rc == 0) {
        size_t t = 0;
        for (size_t i = 0; i < d->rows; i++)
            if (mask[i]) {
                r->oof_margin[i] = margin[t];
                labels[t++] = d->label[i];
            }
        r->fold_auc[fold] = cn_risk_auc(margin, labels, n_test);
    }
    free(margin);
    free(labels);
    if (b)
        XGBoosterFree(b);
    if (train)
        XGDMatrixFree(train);
    if (test)
        XGDMatrixFree(test);
    return rc;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cn_risk_threshold_for_sensitivity(const double *positive_probability, size_t count,
                                      double target, double z, double *threshold, double *bound)
{
    if (!positive_probability || count == 0 || !(target > 0.0) || target > 1.0 || !(z >= 0.0) ||
        !threshold || !bound)
        return CN_RISK_ERR_INVALID_ARGUMENT;
    double *pos = malloc(count * sizeof *pos);
    if (!pos)
        return CN_RISK_ERR_OUT_OF_MEMORY;
    memcpy(pos, positive_probability, count * sizeof *pos);
    qsort(pos, count, sizeof *pos, by_double);
    /* The Wilson lower bound grows with k, the number of positives called, so the
     * smallest k that meets the target is found by walking up from the point estimate's
     * minimum (z = 0 stops there); when no k below count does, every positive is called
     * (too few positives to show the target at this z). */
    size_t k = (size_t)ceil(target * (double)count - 1e-9);
    if (k == 0)
        k = 1;
    double low = 0.0, high = 0.0;
    for (;; k++) {
        cn_risk_wilson(k, count, z, &low, &high);
        if (low >= target || k >= count)
            break;
    }
    /* Calling the k highest: the threshold is the k-th highest probability; positives
     * tied with it are called too, which only raises the bound. */
    double t = pos[count - k];
    size_t called = 0;
    for (size_t i = 0; i < count; i++)
        called += pos[i] >= t;
    cn_risk_wilson(called, count, z, &low, &high);
    free(pos);
    *threshold = fmin(fmax(t, THRESHOLD_MIN), 1.0 - THRESHOLD_MIN);
    *bound = low;
    return 0;
}

/* The threshold on the calibrated out-of-fold probabilities of the positives (train.h). */
static int choose_threshold(struct cn_risk_train_result *r, const int *label,
                            const struct cn_risk_train_options *o, char *err, size_t err_len)
{
    double *pos = malloc(r->positives * sizeof *pos);
    if (!pos)
        return cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    size_t p = 0;
    for (size_t i = 0; i < r->rows; i++)
        if (label[i])
            pos[p++] = r->oof_probability[i];
    int rc =
        cn_risk_threshold_for_sensitivity(pos, p, o->target_sensitivity, o->sensitivity_bound_z,
                                          &r->threshold, &r->sensitivity_bound);
    free(pos);
    if (rc != 0)
        return cn_risk_fail(rc, err, err_len, "could not choose the threshold");
    return 0;
}

static void figures(const struct cn_risk_dataset *d, const struct cn_risk_train_options *o,
                    struct cn_risk_train_result *r)
{
    for (size_t i = 0; i < d->rows; i++) {
        int called = r->oof_probability[i] >= r->threshold;
        size_t *cell = d->label[i] ? (called ? &r->tp : &r->fn) : (called ? &r->fp : &r->tn);
        (*cell)++;
    }
    r->auc.value = cn_risk_auc(r->oof_margin, d->label, d->rows);
    if (cn_risk_auc_bootstrap(r->oof_margin, d->label, d->rows, o->bootstrap_reps,
                              o->seed ^ STREAM_BOOTSTRAP, &r->auc.low, &r->auc.high) != 0)
        r->auc.low = r->auc.high = NAN;
    r->sensitivity.value = (double)r->tp / (double)(r->tp + r->fn);
    cn_risk_wilson(r->tp, r->tp + r->fn, WILSON_Z_95, &r->sensitivity.low, &r->sensitivity.high);
    r->specificity.value = (double)r->tn / (double)(r->tn + r->fp);
    cn_risk_wilson(r->tn, r->tn + r->fp, WILSON_Z_95, &r->specificity.low, &r->specificity.high);
    r->ppv.value = r->tp + r->fp ? (double)r->tp / (double)(r->tp + r->fp) : NAN;
    cn_risk_wilson(r->tp, r->tp + r->fp, WILSON_Z_95, &r->ppv.low, &r->ppv.high);
    double sum = 0.0;
    for (unsigned f = 0; f < r->folds; f++)
        sum += r->fold_auc[f];
    r->mean_fold_auc = sum / r->folds;
}

static int by_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return (x > y) - (x < y);
}

/* The final round count: the median of the folds' early-stopped counts (the upper
 * median, rounded, for an even fold count). */
static void choose_final_rounds(struct cn_risk_train_result *r)
{
    unsigned sorted[CN_RISK_MAX_FOLDS];
    memcpy(sorted, r->fold_rounds, r->folds * sizeof *sorted);
    qsort(sorted, r->folds, sizeof *sorted, by_unsigned);
    r->final_rounds = r->folds % 2 ? sorted[r->folds / 2]
                                   : (sorted[r->folds / 2 - 1] + sorted[r->folds / 2] + 1) / 2;
}

static int fit_final(const struct cn_risk_dataset *d, const struct cn_risk_train_options *o,
                     struct cn_risk_train_result *r, unsigned char *mask, char *err, size_t err_len)
{
    memset(mask, 1, d->rows);
    size_t n, pos;
    DMatrixHandle all = make_matrix(d, mask, &n, &pos);
    if (!all)
        return cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len, "could not build a matrix: %s",
                            XGBGetLastError());
    BoosterHandle b = NULL;
    unsigned rounds;
    int rc = fit(all, n, pos, NULL, o, r->final_rounds, &b, &rounds, &r->final_scale_pos_weight,
                 err, err_len);
    if (rc == 0)
        rc = predict_margin(b, all, r->final_rounds, n, r->final_margin, err, err_len);
    if (rc == 0) {
        bst_ulong len = 0;
        const char *json = NULL;
        if (XGBoosterSaveModelToBuffer(b, "{\"format\": \"json\"}", &len, &json) != 0) {
            rc = cn_risk_fail(CN_RISK_ERR_XGBOOST, err, err_len, "could not save the booster: %s",
                              XGBGetLastError());
        } else if (!(r->model_json = malloc(len + 1))) {
            rc = cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
        } else {
            memcpy(r->model_json, json, len);
            r->model_json[len] = '\0';
            r->model_json_len = len;
        }
    }
    if (b)
        XGBoosterFree(b);
    XGDMatrixFree(all);
    return rc;
}

static int check_inputs(const struct cn_risk_dataset *d, const struct cn_risk_train_options *o,
                        char *err, size_t err_len)
{
    if (o->folds < 2 || o->folds > CN_RISK_MAX_FOLDS || !(o->target_sensitivity > 0.0) ||
        o->target_sensitivity > 1.0 || o->max_rounds == 0 || o->early_stopping_rounds == 0 ||
        !(o->validation_fraction > 0.0) || o->validation_fraction > 0.5 || o->max_depth == 0 ||
        !(o->eta > 0.0) || !(o->subsample > 0.0) || o->subsample > 1.0 ||
        !(o->colsample_bytree > 0.0) || o->colsample_bytree > 1.0 ||
        !(o->min_child_weight >= 0.0) || o->bootstrap_reps == 0 || o->threads == 0 ||
        !(o->sensitivity_bound_z >= 0.0) || !isfinite(o->sensitivity_bound_z))
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len,
                            "training option out of range (folds 2..%u, target sensitivity "
                            "in (0, 1], validation fraction in (0, 0.5], sensitivity bound z >= 0)",
                            CN_RISK_MAX_FOLDS);
    if (d->positives == 0)
        return cn_risk_fail(CN_RISK_ERR_DATA, err, err_len,
                            "the training data has no positive rows (label 1): a risk model "
                            "needs malignant and benign examples");
    if (d->positives == d->rows)
        return cn_risk_fail(CN_RISK_ERR_DATA, err, err_len,
                            "the training data has no negative rows (label 0): a risk model "
                            "needs malignant and benign examples");
    if (d->positives < o->folds || d->group_count < o->folds)
        return cn_risk_fail(CN_RISK_ERR_DATA, err, err_len,
                            "%u folds need at least %u positive rows and %u images; the data "
                            "has %zu positive rows in %zu images",
                            o->folds, o->folds, o->folds, d->positives, d->group_count);
    return 0;
}

int cn_risk_train(const struct cn_risk_dataset *d, const struct cn_risk_train_options *o,
                  struct cn_risk_train_result *r, char *err, size_t err_len)
{
    if (r)
        memset(r, 0, sizeof *r);
    if (!d || !o || !r || !d->x || !d->label || !d->group)
        return cn_risk_fail(CN_RISK_ERR_INVALID_ARGUMENT, err, err_len, "invalid argument");
    int rc = check_inputs(d, o, err, err_len);
    if (rc != 0)
        return rc;
    r->rows = d->rows;
    r->positives = d->positives;
    r->folds = o->folds;
    r->fold_of_row = calloc(d->rows, sizeof *r->fold_of_row);
    r->oof_margin = calloc(d->rows, sizeof *r->oof_margin);
    r->oof_probability = calloc(d->rows, sizeof *r->oof_probability);
    r->final_margin = calloc(d->rows, sizeof *r->final_margin);
    r->fold_auc = calloc(o->folds, sizeof *r->fold_auc);
    r->fold_rounds = calloc(o->folds, sizeof *r->fold_rounds);
    unsigned char *mask = malloc(d->rows);
    unsigned *inner = calloc(d->rows, sizeof *inner);
    if (!r->fold_of_row || !r->oof_margin || !r->oof_probability || !r->final_margin ||
        !r->fold_auc || !r->fold_rounds || !mask || !inner ||
        split_groups(d, NULL, o->folds, o->seed ^ STREAM_FOLDS, r->fold_of_row) != 0)
        rc = cn_risk_fail(CN_RISK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
    for (unsigned f = 0; rc == 0 && f < o->folds; f++)
        rc = tune_fold(d, o, f, r, mask, inner, err, err_len);
    if (rc == 0)
        choose_final_rounds(r);
    for (unsigned f = 0; rc == 0 && f < o->folds; f++)
        rc = assess_fold(d, o, f, r, mask, err, err_len);
    if (rc == 0 &&
        cn_risk_platt_fit(r->oof_margin, d->label, d->rows, &r->platt_a, &r->platt_b) != 0)
        rc = cn_risk_fail(CN_RISK_ERR_DATA, err, err_len,
                          "could not fit the Platt calibration on the out-of-fold margins");
    if (rc == 0) {
        for (size_t i = 0; i < d->rows; i++)
            r->oof_probability[i] = cn_risk_platt(r->platt_a, r->platt_b, r->oof_margin[i]);
        rc = choose_threshold(r, d->label, o, err, err_len);
    }
    if (rc == 0) {
        figures(d, o, r);
        rc = fit_final(d, o, r, mask, err, err_len);
    }
    free(mask);
    free(inner);
    if (rc != 0)
        cn_risk_train_result_free(r);
    return rc;
}

void cn_risk_train_result_free(struct cn_risk_train_result *r)
{
    if (!r)
        return;
    free(r->fold_of_row);
    free(r->oof_margin);
    free(r->oof_probability);
    free(r->final_margin);
    free(r->fold_auc);
    free(r->fold_rounds);
    free(r->model_json);
    memset(r, 0, sizeof *r);
}
