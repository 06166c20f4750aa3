/*
 * The second stage (DESIGN.md section 7.4): a logistic model on the features of a region
 * grown from a candidate below contrast_min. Its coefficients are fitted by
 * tools/fit-second-stage on the tuning phantoms (seeds 1-60) with their truth labels:
 * a region is positive when it lies within 0.5 mm of a truth calcification (the
 * evaluation's match rule). Positive scores favour a calcification.
 */
#include <math.h>

#include "internal.h"

/* Floors of the logarithms, so degenerate regions stay finite. */
#define LOG_FLOOR 1e-6
/* Elongation above this counts as this (a one-pixel-wide line is finite already). */
#define ELONGATION_CAP 100.0

enum { F_LOG_CONTRAST, F_SCALE, F_LINEAR, F_LOG_AREA, F_LOG_ELONGATION, F_LOG_EXCESS,
       F_LOG_PEAK, F_LOG1P_NEIGHBOURS, F_LOG1P_CANDIDATES, F_LOG1P_EXPECTED, F_COUNT };

/* tools/fit-second-stage output: intercept, then one weight per feature above. */
static const double intercept = -6.5494;
static const double weights[F_COUNT] = {1.1026, -2.7239, 0.2817, -0.3870, -1.1456,
                                        0.8419,  2.1237,  3.6270, 0.7760,  -5.4584};

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
    for (int k = 0; k < F_COUNT; k++)
        s += weights[k] * x[k];
    return s;
}
