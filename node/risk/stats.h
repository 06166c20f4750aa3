/* node/risk: the statistics of training and reporting. Pure functions, any thread. */
#ifndef CN_RISK_STATS_H
#define CN_RISK_STATS_H

#include <stddef.h>
#include <stdint.h>

/* splitmix64 (Steele, Lea, Flood 2014): the layer's only random source, so a seed gives
 * the same folds, splits and bootstrap on every machine. Advances *state. */
uint64_t cn_risk_rng_next(uint64_t *state);
/* Uniform in [0, bound) for bound > 0 (rejection sampling, no modulo bias). */
uint64_t cn_risk_rng_below(uint64_t *state, uint64_t bound);

/* Area under the ROC curve: the Mann-Whitney U statistic over n scores with labels 0/1,
 * ties counted one half (midranks). NaN when a class is absent. Returns NaN too when
 * memory runs out. */
double cn_risk_auc(const double *score, const int *label, size_t n);

/* Wilson score interval for k successes in n trials at z (1.959964 for 95 %); low and
 * high in [0, 1]. n = 0 gives [0, 1]. */
void cn_risk_wilson(size_t k, size_t n, double z, double *low, double *high);

/* Percentile bootstrap of the AUC: reps resamples of the n rows with replacement
 * (stratified: positives resampled among positives, negatives among negatives, so every
 * resample has both classes), seeded; the 2.5th and 97.5th percentiles. Returns 0, or -1
 * (a class absent, reps 0, out of memory). */
int cn_risk_auc_bootstrap(const double *score, const int *label, size_t n, unsigned reps,
                          uint64_t seed, double *low, double *high);

/* Platt scaling (Platt 1999, with the Lin, Lin and Weng 2007 Newton method and Platt's
 * smoothed targets (N+ + 1) / (N+ + 2) and 1 / (N- + 2)): fits
 * p = 1 / (1 + exp(a * margin + b)). Stops when the gradient is below 1e-5 or the line
 * search cannot improve. Returns 0, or -1 when a class is absent, memory runs out or
 * the fit is not finite. */
int cn_risk_platt_fit(const double *margin, const int *label, size_t n, double *a, double *b);

#endif
