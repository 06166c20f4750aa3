/* node/risk: training the risk model on XGBoost's C API.
 *
 * cn_risk_train runs, for a data set (dataset.h) and a seed:
 *   1. group-stratified k-fold cross-validation: each image's clusters (group) stay in
 *      one fold; groups are shuffled by the seed, then placed, most positives first, in
 *      the fold with the fewest positives, then the fewest rows, then the lowest index;
 *   2. tuning, in each fold: the fold's training groups are split the same way into
 *      1 / validation_fraction parts (rounded) and the first part validates; the
 *      booster (binary:logistic, hist, scale_pos_weight = negatives / positives of its
 *      training rows) grows until validation log loss has not improved for
 *      early_stopping_rounds rounds; the best round count is the fold's (fold_rounds);
 *      the final round count is their median (final_rounds);
 *   3. assessment, in each fold: a booster made exactly as the final one is made (every
 *      training row of the fold, final_rounds rounds, scale_pos_weight of those rows)
 *      predicts the held-out rows (raw margins: out-of-fold predictions);
 *   4. Platt calibration fitted on the pooled out-of-fold margins (stats.h);
 *   5. the operating threshold: the largest calibrated probability at which the Wilson
 *      lower bound (sensitivity_bound_z, default 1.96: the low end of the 95 % interval)
 *      of the out-of-fold sensitivity is at or above target_sensitivity, probability >=
 *      threshold being positive (cn_risk_threshold_for_sensitivity);
 *   6. figures on the out-of-fold predictions: AUC with a stratified percentile bootstrap
 *      95 % interval, sensitivity, specificity and PPV at the threshold with Wilson 95 %
 *      intervals; the mean of the per-fold AUCs;
 *   7. the final booster on every row with final_rounds rounds.
 * Why steps 3 and 5: a threshold chosen and measured on the same predictions is
 * optimistic (it sits on the last positive it must keep, so on new data about half the
 * positives near it fall below), and a calibration fitted on the margins of boosters
 * grown differently from the final one (early-stopped on fewer rows) does not map the
 * final booster's margins to the same probabilities. Assessment boosters share the final
 * booster's recipe and differ from it only by the held-out fold (1 / folds of the rows),
 * so the calibration and threshold transfer. The lower bound is the margin for the
 * sampling error of the out-of-fold sensitivity: at z 1.96 the true sensitivity at the
 * threshold is at or above the target with about 97.5 % confidence (one-sided), paid
 * for in specificity. sensitivity_bound_z = 0 gives the point-estimate rule (out-of-fold
 * sensitivity >= target). Held-out data stays the honest check
 * (tools/train-default-model).
 * Deterministic for a seed: the layer's own generator (stats.h), XGBoost seeded and on
 * options.threads threads (hist is deterministic for a thread count).
 * Main thread or any one thread at a time per result; XGBoost is thread-safe across
 * boosters.
 */
#ifndef CN_RISK_TRAIN_H
#define CN_RISK_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "risk/dataset.h"
#include "risk/risk.h"

#define CN_RISK_MAX_FOLDS 50u

struct cn_risk_train_options {
    unsigned folds;                 /* 2..CN_RISK_MAX_FOLDS, default 5 */
    double target_sensitivity;      /* (0, 1], default 0.95 */
    uint64_t seed;                  /* default 1 */
    unsigned max_rounds;            /* default 1000 */
    unsigned early_stopping_rounds; /* default 30 */
    double validation_fraction;     /* (0, 0.5], default 0.2 */
    unsigned max_depth;             /* default 3 */
    double eta;                     /* default 0.05 */
    double subsample;               /* (0, 1], default 0.8 */
    double colsample_bytree;        /* (0, 1], default 0.8 */
    double min_child_weight;        /* default 1 */
    unsigned bootstrap_reps;        /* default 2000 */
    unsigned threads;               /* XGBoost threads, default 1 */
    double sensitivity_bound_z;     /* >= 0, default 1.959964 (Wilson 95 %) */
};

void cn_risk_train_options_default(struct cn_risk_train_options *options);

/* An estimate with its 95 % interval. */
struct cn_risk_estimate {
    double value, low, high;
};

struct cn_risk_train_result {
    size_t rows, positives;
    unsigned folds;
    unsigned *fold_of_row;   /* rows: the fold that held the row out */
    double *oof_margin;      /* rows: out-of-fold raw margin */
    double *oof_probability; /* rows: calibrated out-of-fold probability */
    double *fold_auc;        /* folds: AUC of each fold's held-out rows (assessment) */
    unsigned *fold_rounds;   /* folds: best round count by early stopping (tuning) */
    double mean_fold_auc;
    double platt_a, platt_b;
    double threshold;
    /* Wilson lower bound (sensitivity_bound_z) of the out-of-fold sensitivity at the
     * threshold; below target_sensitivity only when too few positives can show it (then
     * every positive is called). */
    double sensitivity_bound;
    size_t tp, fp, tn, fn;               /* out of fold, at the threshold */
    struct cn_risk_estimate auc;         /* pooled out-of-fold, bootstrap interval */
    struct cn_risk_estimate sensitivity; /* Wilson intervals */
    struct cn_risk_estimate specificity;
    struct cn_risk_estimate ppv;
    unsigned final_rounds;
    double final_scale_pos_weight;
    double *final_margin; /* rows: the final booster's margin on the training rows */
    char *model_json;     /* the final booster, XGBoost JSON, model_json_len bytes */
    size_t model_json_len;
};

/* Trains (see above). data and options borrowed. On success returns 0 and fills *out
 * (free with cn_risk_train_result_free); otherwise a negative cn_risk_error with the
 * reason in err: CN_RISK_ERR_INVALID_ARGUMENT (an option out of range),
 * CN_RISK_ERR_DATA (no positives, no negatives, fewer groups or positives than folds),
 * CN_RISK_ERR_XGBOOST, CN_RISK_ERR_OUT_OF_MEMORY. */
int cn_risk_train(const struct cn_risk_dataset *data, const struct cn_risk_train_options *options,
                  struct cn_risk_train_result *out, char *err, size_t err_len);

/* The operating threshold for a target sensitivity from the calibrated probabilities of
 * the count positive rows (borrowed, any order): the largest threshold t, among those
 * probabilities, at which the Wilson lower bound at z of the sensitivity (positives with
 * probability >= t, out of count) is at or above target; when no t reaches it, the
 * smallest probability (every positive called). Sets *threshold (clamped into (0, 1))
 * and *bound (the lower bound at *threshold). Returns 0, CN_RISK_ERR_INVALID_ARGUMENT
 * (NULL, count 0, target outside (0, 1], z < 0) or CN_RISK_ERR_OUT_OF_MEMORY. Any
 * thread. */
int cn_risk_threshold_for_sensitivity(const double *positive_probability, size_t count,
                                      double target, double z, double *threshold, double *bound);

/* Frees what *result owns and zeroes it; safe on a zeroed struct and NULL. */
void cn_risk_train_result_free(struct cn_risk_train_result *result);

#endif
