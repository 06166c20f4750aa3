/*
 * Percentiles by a histogram of the values: the bins that hold the wanted order
 * statistics are found from the counts, their values are gathered at the front of the
 * array, and the statistics are selected among those few values only. Exact: binning
 * is monotone (a smaller value never lands in a higher bin), so the k-th smallest value
 * is the (k - values in lower bins)-th smallest of its bin.
 */
#include <math.h>
#include <string.h>

#include "calc/kernels.h"
#include "features_internal.h"
#include "internal.h"

/* Bins of the histogram: enough that the bins holding the wanted statistics of a ring of
 * tens of thousands of pixels hold a few dozen values, small enough to live on the stack
 * and be cleared at every call. */
#define RANK_BINS 1024
/* Two order statistics per percentile (s[lo] and s[lo + 1]). */
#define MAX_RANKS (2 * CA_PERCENTILE_MAX_COUNT)

/* Bin of x for values in [lo, hi] spread over bins at scale bins / (hi - lo): monotone in
 * x, since subtracting lo, multiplying by a positive scale and truncating each preserve
 * order; a NaN (excluded by the contract) lands in the last bin instead of being converted. */
static size_t bin_of(float x, double lo, double scale, size_t bins)
{
    double d = ((double)x - lo) * scale;
    return d < (double)bins ? (size_t)d : bins - 1;
}

/* The order statistics want[0..count-1] (ascending ranks below n) of v into value. */
static void order_statistics(float *v, size_t n, float lo, float hi, const size_t *want,
                             size_t count, float *value)
{
    if (!isfinite(lo) || !isfinite(hi) || !(hi > lo)) {
        /* all values equal, or a range the bins cannot split: plain selection */
        for (size_t k = 0; k < count; k++)
            value[k] = hi > lo ? ca_select(v, n, want[k]) : lo;
        return;
    }
    size_t bins = n < RANK_BINS ? n : RANK_BINS;
    size_t hist[RANK_BINS];
    uint8_t wanted[RANK_BINS];
    memset(hist, 0, bins * sizeof(hist[0]));
    memset(wanted, 0, bins);
    double scale = (double)bins / ((double)hi - (double)lo);
    for (size_t i = 0; i < n; i++)
        hist[bin_of(v[i], lo, scale, bins)]++;

    /* For each wanted rank, the rank it has among the values of the wanted bins once
     * they are gathered: the values of a lower bin are all smaller than those of a
     * higher one, so it is the count of wanted values in lower bins plus the rank inside
     * its own bin (the rank minus the count of all values in lower bins). */
    size_t inner[MAX_RANKS], below = 0, wanted_below = 0, k = 0;
    for (size_t b = 0; b < bins && k < count; b++) {
        while (k < count && want[k] < below + hist[b]) {
            inner[k] = wanted_below + (want[k] - below);
            wanted[b] = 1;
            k++;
        }
        below += hist[b];
        wanted_below += wanted[b] ? hist[b] : 0;
    }
    size_t gathered = 0;
    for (size_t i = 0; i < n; i++)
        if (wanted[bin_of(v[i], lo, scale, bins)]) {
            float t = v[i];
            v[i] = v[gathered];
            v[gathered++] = t;
        }
    for (k = 0; k < count; k++)
        value[k] = ca_select(v, gathered, inner[k]);
}

void ca_percentiles_in_range(float *v, size_t n, float lo, float hi, const double *q, size_t count,
                             double *out)
{
    size_t want[MAX_RANKS] = {0}, rank_count = 0, lo_rank[CA_PERCENTILE_MAX_COUNT] = {0};
    double frac[CA_PERCENTILE_MAX_COUNT] = {0};
    for (size_t k = 0; k < count; k++) {
        /* numpy.percentile, linear method: index q / 100 (n - 1) */
        double index = q[k] / 100.0 * (double)(n - 1);
        lo_rank[k] = (size_t)floor(index);
        frac[k] = index - (double)lo_rank[k];
        want[rank_count++] = lo_rank[k];
        if (lo_rank[k] + 1 < n && frac[k] != 0.0)
            want[rank_count++] = lo_rank[k] + 1;
    }
    /* ascending ranks, as order_statistics walks the bins upwards */
    for (size_t i = 1; i < rank_count; i++)
        for (size_t j = i; j > 0 && want[j - 1] > want[j]; j--) {
            size_t t = want[j];
            want[j] = want[j - 1];
            want[j - 1] = t;
        }
    float value[MAX_RANKS] = {0};
    order_statistics(v, n, lo, hi, want, rank_count, value);
    for (size_t k = 0; k < count; k++) {
        size_t i = 0;
        while (want[i] != lo_rank[k])
            i++;
        double a = value[i];
        if (lo_rank[k] + 1 >= n || frac[k] == 0.0) {
            out[k] = a;
            continue;
        }
        while (want[i] != lo_rank[k] + 1)
            i++;
        out[k] = a + ((double)value[i] - a) * frac[k];
    }
}

int ca_percentiles(float *v, size_t n, const double *q, size_t count, double *out)
{
    if (!v || !q || !out || n == 0 || count == 0 || count > CA_PERCENTILE_MAX_COUNT)
        return CA_ERR_INVALID_ARGUMENT;
    for (size_t k = 0; k < count; k++)
        if (!(q[k] >= 0.0 && q[k] <= 100.0))
            return CA_ERR_INVALID_ARGUMENT;
    float lo = v[0], hi = v[0];
    for (size_t i = 1; i < n; i++) {
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
    }
    ca_percentiles_in_range(v, n, lo, hi, q, count, out);
    return 0;
}
