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
       F_LOG_PEAK, F_LOG1P_NEIGHBOURS, F_LOG1P_CANDIDATES, F_LOG1P_EXPECTED, F_COUNT };
/* The products x[i] * x[j], i <= j, in the order i = 0..F_COUNT-1, j = i..F_COUNT-1. */
#define F_PAIRS (F_COUNT * (F_COUNT + 1) / 2)

/* tools/fit-second-stage output: the intercept, one weight per feature above, one per
 * product. */
static const double intercept = -41.4648;
static const double linear[F_COUNT] = {
    1.34642, -8.05384, 3.13314, 3.4755, 45.568, 6.84884, 7.81224, -0.455926, 10.736, 9.54636};
static const double quadratic[F_PAIRS] = {
    3.96197, -5.0103, 1.26281, -0.685799, -3.26976, 2.00093, 0.908239, 1.12964, -4.60087,
    -1.95881, 1.67729, -0.576226, -0.956261, 2.74264, 0.23557, -0.303853, 0.257217,
    0.944634, 0.619465, 3.13314, 0.088327, 0.830354, -0.318213, 0.662929, 0.012801,
    -0.430382, -1.90146, 0.991501, -5.82308, 0.176799, 0.938165, -0.103225, -1.54356,
    2.93123, 1.95511, 4.37763, -13.8826, 0.250219, 2.25009, -13.7829, -0.691632, 0.0980202,
    -0.0943858, 0.435659, -1.87837, 0.269863, -0.982623, 0.299674, -0.959521, -1.45573,
    1.42411, 1.06143, -2.92774, 1.08454, 0.359141};

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
    double s = intercept;
    int pair = 0;
    for (int i = 0; i < F_COUNT; i++) {
        s += linear[i] * x[i];
        for (int j = i; j < F_COUNT; j++)
            s += quadratic[pair++] * x[i] * x[j];
    }
    return s;
}
