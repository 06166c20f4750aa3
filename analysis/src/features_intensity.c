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
 * value clamped to [0,1]. */
enum { ENTROPY_BINS = (int)(1.0 / CA_FEATURES_BIN_WIDTH) + 2 };
/* Interleaved copies of the entropy histogram: runs of equal values (common in 12-bit
 * tissue) then increment different counters instead of waiting on one. */
enum { ENTROPY_LANES = 4 };

static int entropy_bin(float v)
{
    double x = v > 0.0f ? (v < 1.0f ? v : 1.0) : 0.0;
    return (int)(x / CA_FEATURES_BIN_WIDTH); /* x >= 0: truncation is floor */
}

static double entropy(uint32_t hist[ENTROPY_LANES][ENTROPY_BINS], size_t n)
{
    double h = 0.0;
    for (int b = 0; b < ENTROPY_BINS; b++) {
        uint32_t count = 0;
        for (int l = 0; l < ENTROPY_LANES; l++)
            count += hist[l][b];
        if (count) {
            double p = (double)count / (double)n;
            h -= p * log2(p + DBL_EPSILON);
        }
    }
    return h;
}

void ca_first_order(float *v, size_t n, double out[CA_FIRST_ORDER_COUNT])
{
    for (int i = 0; i < CA_FIRST_ORDER_COUNT; i++)
        out[i] = 0.0;
    if (n == 0)
        return;
    uint32_t hist[ENTROPY_LANES][ENTROPY_BINS];
    memset(hist, 0, sizeof(hist));
    double sum = 0.0, lo = v[0], hi = v[0];
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
        hist[i % ENTROPY_LANES][entropy_bin(v[i])]++;
    }
    /* the percentiles' histogram fills in the same pass as the moments */
    struct ca_rank_hist ranks;
    ca_rank_hist_init(&ranks, n, (float)lo, (float)hi);
    double mean = sum / (double)n, m2 = 0.0, m3 = 0.0, m4 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
        ca_rank_hist_add(&ranks, v[i]);
    }
    m2 /= (double)n, m3 /= (double)n, m4 /= (double)n;
    out[FO_MEAN] = mean;
    out[FO_STD] = sqrt(m2);
    out[FO_SKEWNESS] = m2 > 0.0 ? m3 / pow(m2, 1.5) : 0.0;
    out[FO_KURTOSIS] = m2 > 0.0 ? m4 / (m2 * m2) : 0.0;
    out[FO_MIN] = lo;
    out[FO_MAX] = hi;
    out[FO_ENTROPY] = entropy(hist, n);
    static const double q[2] = {PERCENTILE_LOW, PERCENTILE_HIGH};
    double p[2];
    ca_rank_hist_percentiles(&ranks, v, n, q, 2, p);
    out[FO_P10] = p[0];
    out[FO_P90] = p[1];
}
