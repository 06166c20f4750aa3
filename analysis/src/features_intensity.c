/*
 * Intensity features: pyradiomics first-order statistics (the rings of tissue around
 * calcifications are in ring.c).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "calc/features.h"
#include "features_internal.h"

#define PERCENTILE_LOW 10.0
#define PERCENTILE_HIGH 90.0

enum { FO_MEAN, FO_STD, FO_SKEWNESS, FO_KURTOSIS, FO_MIN, FO_MAX, FO_P10, FO_P90, FO_ENTROPY };

/* pyradiomics binWidth discretisation for the entropy: bins [k w, (k + 1) w) of the
 * value clamped to [0,1], w = CA_FEATURES_BIN_WIDTH = 25 / 4096. Unit-grid bin b
 * (ca_rank_hist_init_unit) lies in entropy bin b / CA_FEATURES_BIN_LEVELS: floor(x / w)
 * = floor(floor(4096 x) / 25), and 4096 x is exact. */
_Static_assert(CA_RANK_UNIT_SCALE == CA_FEATURES_BIN_SCALE_LEVELS,
               "the unit grid refines the entropy bins");

/* Independent accumulators of the sums: one would make every addition wait for the one
 * before (a four-cycle chain per value). */
enum { SUM_LANES = 4 };
_Static_assert(SUM_LANES == 4, "ca_first_order adds up exactly four lanes");

/* The entropy of the values counted in h, by pyradiomics binWidth bins. */
static double entropy(const struct ca_rank_hist *h, size_t n)
{
    double e = 0.0;
    const uint32_t *count = h->count;
    for (size_t b = h->first; b <= h->last;) {
        /* the unit-grid bins of one entropy bin */
        size_t end = (b / CA_FEATURES_BIN_LEVELS + 1) * CA_FEATURES_BIN_LEVELS;
        end = end <= h->last ? end : h->last + 1;
        uint32_t c = 0;
        for (; b < end; b++)
            c += count[b];
        if (c) {
            double p = (double)c / (double)n;
            e -= p * log2(p + DBL_EPSILON);
        }
    }
    return e;
}

/*
 * Three passes over v: the sum, smallest and largest value; the central moments with
 * the unit-grid histogram (the values are the [0,1] normalised image); the values of
 * the two bins holding the percentiles. Sums run in SUM_LANES interleaved lanes added
 * up at the end, so they may differ from a serial sum in the last bits.
 */
void ca_first_order(float *v, size_t n, double out[CA_FIRST_ORDER_COUNT])
{
    for (int i = 0; i < CA_FIRST_ORDER_COUNT; i++)
        out[i] = 0.0;
    if (n == 0)
        return;
    double sum[SUM_LANES] = {0};
    float lo[SUM_LANES], hi[SUM_LANES];
    for (int l = 0; l < SUM_LANES; l++)
        lo[l] = hi[l] = v[0];
    size_t i = 0;
    for (; i + SUM_LANES <= n; i += SUM_LANES) {
#pragma GCC unroll 4
        for (int l = 0; l < SUM_LANES; l++) {
            float x = v[i + l];
            sum[l] += x;
            lo[l] = x < lo[l] ? x : lo[l];
            hi[l] = x > hi[l] ? x : hi[l];
        }
    }
    for (; i < n; i++) {
        sum[0] += v[i];
        lo[0] = v[i] < lo[0] ? v[i] : lo[0];
        hi[0] = v[i] > hi[0] ? v[i] : hi[0];
    }
    double mean = ((sum[0] + sum[1]) + (sum[2] + sum[3])) / (double)n;
    float low = fminf(fminf(lo[0], lo[1]), fminf(lo[2], lo[3]));
    float high = fmaxf(fmaxf(hi[0], hi[1]), fmaxf(hi[2], hi[3]));

    struct ca_rank_hist ranks;
    ca_rank_hist_init_unit(&ranks, low, high);
    double m2[SUM_LANES] = {0}, m3[SUM_LANES] = {0}, m4[SUM_LANES] = {0};
    for (i = 0; i + SUM_LANES <= n; i += SUM_LANES) {
#pragma GCC unroll 4
        for (int l = 0; l < SUM_LANES; l++) {
            double d = v[i + l] - mean, d2 = d * d;
            m2[l] += d2;
            m3[l] += d2 * d;
            m4[l] += d2 * d2;
            ca_rank_hist_add_unit(&ranks, v[i + l]);
        }
    }
    for (; i < n; i++) {
        double d = v[i] - mean, d2 = d * d;
        m2[0] += d2;
        m3[0] += d2 * d;
        m4[0] += d2 * d2;
        ca_rank_hist_add_unit(&ranks, v[i]);
    }
    double c2 = ((m2[0] + m2[1]) + (m2[2] + m2[3])) / (double)n;
    double c3 = ((m3[0] + m3[1]) + (m3[2] + m3[3])) / (double)n;
    double c4 = ((m4[0] + m4[1]) + (m4[2] + m4[3])) / (double)n;
    out[FO_MEAN] = mean;
    out[FO_STD] = sqrt(c2);
    out[FO_SKEWNESS] = c2 > 0.0 ? c3 / pow(c2, 1.5) : 0.0;
    out[FO_KURTOSIS] = c2 > 0.0 ? c4 / (c2 * c2) : 0.0;
    out[FO_MIN] = low;
    out[FO_MAX] = high;
    out[FO_ENTROPY] = entropy(&ranks, n);
    static const double q[2] = {PERCENTILE_LOW, PERCENTILE_HIGH};
    double p[2];
    ca_rank_hist_percentiles(&ranks, v, n, q, 2, p);
    out[FO_P10] = p[0];
    out[FO_P90] = p[1];
}
