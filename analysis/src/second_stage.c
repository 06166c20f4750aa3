/*
 * The second stage (DESIGN.md section 7.4): a logistic model on the features of a region
 * grown from a candidate below contrast_min and on all their pairwise products (a
 * quadratic decision surface: how much a faint region's contrast counts depends on its
 * shape and on its neighbourhood). Its coefficients are fitted by tools/fit-second-stage
 * on the tuning phantoms (seeds 1-200) with their truth labels: a region is positive when
 * it lies within 0.5 mm of a truth calcification (the evaluation's match rule). Positive
 * scores favour a calcification.
 */
#include <math.h>

#include "internal.h"

/* Floors of the logarithms, so degenerate regions stay finite. */
#define LOG_FLOOR 1e-6
/* Elongation above this counts as this (a one-pixel-wide line is finite already). */
#define ELONGATION_CAP 100.0

enum { F_LOG_CONTRAST, F_SCALE, F_LINEAR, F_LOG_AREA, F_LOG_ELONGATION, F_LOG_EXCESS,
       F_LOG_PEAK, F_LOG1P_NEIGHBOURS, F_LOG1P_CANDIDATES, F_LOG1P_EXPECTED, F_LOG1P_BRIGHT,
       F_LOG1P_BRIGHT_EXPECTED, F_COUNT };
/* The products x[i] * x[j], i <= j, in the order i = 0..F_COUNT-1, j = i..F_COUNT-1. */
#define F_PAIRS (F_COUNT * (F_COUNT + 1) / 2)

/* tools/fit-second-stage output: the intercept, one weight per feature above, one per
 * product. */
static const double intercept = -19.1937;
static const double linear[F_COUNT] = {
    -10.2322, -6.20295, 2.04035, 3.83434, 34.0718, 10.1434, 11.734, -5.87048, -9.40457,
    13.0311, 5.08929, -2.38604};
static const double quadratic[F_PAIRS] = {
    3.67551, -6.09252, 0.919777, -0.937827, -4.54648, 1.27948, 1.57696, 1.42309,
    -2.79846, 0.836865, -1.19363, -3.13142, 1.79539, -0.437759, -0.599349, 1.73635,
    0.409733, -0.185861, 0.172321, 1.11483, 0.662982, -0.0390893, -0.133335, 2.04035,
    -0.301944, 0.432319, 0.442115, -0.120302, 0.180983, 0.205914, -2.17014, -0.528022,
    -0.199633, 0.948675, -7.99938, 0.460641, 0.643132, 0.217339, -1.81353, 2.99177,
    0.150394, -0.78201, 1.73062, 5.47454, -15.8969, 2.0669, 5.36455, -14.7207,
    -0.116303, 1.2898, -0.455282, -0.193667, -0.42044, 0.0694526, -2.55429, 0.52263,
    -0.100389, 0.0246609, -0.747728, -0.754662, -1.66981, 0.3957, 2.60106, -1.55796,
    1.95453, 2.67284, -0.064975, -0.212497, -0.320691, 2.33447, -1.63978, -0.840571,
    -0.348796, 0.9018, -1.50181, -0.246164, -1.35287, 2.0064};

static double safe_log(double v)
{
    return log(v > LOG_FLOOR ? v : LOG_FLOOR);
}

double ca_second_stage_score(const struct ca_second_stage_features *f)
{
    double x[F_COUNT];
    x[F_LOG_CONTRAST] = safe_log(f->contrast);
    x[F_SCALE] = f->scale;
    x[F_LINEAR] = f->linear ? 1.0 : 0.0;
    x[F_LOG_AREA] = safe_log(f->area_mm2);
    x[F_LOG_ELONGATION] = safe_log(f->elongation < ELONGATION_CAP ? f->elongation : ELONGATION_CAP);
    x[F_LOG_EXCESS] = safe_log(f->excess_snr);
    x[F_LOG_PEAK] = safe_log(f->peak_snr);
    x[F_LOG1P_NEIGHBOURS] = log1p((double)f->strong_neighbours);
    x[F_LOG1P_CANDIDATES] = log1p((double)f->candidate_neighbours);
    x[F_LOG1P_EXPECTED] = log1p(f->candidate_neighbours_expected);
    x[F_LOG1P_BRIGHT] = log1p((double)f->bright_neighbours);
    x[F_LOG1P_BRIGHT_EXPECTED] = log1p(f->bright_neighbours_expected);
    double s = intercept;
    int pair = 0;
    for (int i = 0; i < F_COUNT; i++) {
        s += linear[i] * x[i];
        for (int j = i; j < F_COUNT; j++)
            s += quadratic[pair++] * x[i] * x[j];
    }
    return s;
}
