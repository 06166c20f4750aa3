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
       F_LOG_PEAK, F_LOG1P_NEIGHBOURS, F_COUNT };

/* tools/fit-second-stage output: intercept, then one weight per feature above. */
static const double intercept = -11.3850;
static const double weights[F_COUNT] = {1.4987, -2.4577, 0.3419, 0.9109,
                                        -1.2837, -0.4126, 2.9653, 3.6451};

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
    double s = intercept;
    for (int k = 0; k < F_COUNT; k++)
        s += weights[k] * x[k];
    return s;
}
