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

/* Two order statistics per percentile (s[lo] and s[lo + 1]). */
#define MAX_RANKS (2 * CA_PERCENTILE_MAX_COUNT)

void ca_rank_hist_init(struct ca_rank_hist *h, size_t n, float min, float max)
{
    h->min = min, h->max = max;
    h->lo = min;
    if (isfinite(min) && isfinite(max) && max > min) {
        /* about one value per bin for small n, so that few values share the wanted bins */
        h->bins = n < CA_RANK_BINS ? n : CA_RANK_BINS;
        h->scale = (double)h->bins / ((double)max - (double)min);
    } else {
        /* all values equal, or a range the bins cannot split: one bin, plain selection */
        h->bins = 1;
        h->scale = 0.0;
    }
    memset(h->count, 0, h->bins * sizeof(h->count[0]));
}

/* The order statistics want[0..count-1] (ascending ranks below n) of v into value. */
static void order_statistics(struct ca_rank_hist *h, float *v, size_t n, const size_t *want,
                             size_t count, float *value)
{
    if (!(h->max > h->min)) {
        for (size_t k = 0; k < count; k++)
            value[k] = h->min;
        return;
    }
    /* For each wanted rank, the rank it has among the values of the wanted bins once
     * they are gathered: the values of a lower bin are all smaller than those of a
     * higher one, so it is the count of wanted values in lower bins plus the rank inside
     * its own bin (the rank minus the count of all values in lower bins). A wanted bin
     * is marked by the top bit of its count, which no count reaches. */
    const size_t mark = ~(SIZE_MAX >> 1);
    size_t inner[MAX_RANKS], below = 0, wanted_below = 0, k = 0;
    for (size_t b = 0; b < h->bins && k < count; b++) {
        size_t c = h->count[b];
        while (k < count && want[k] < below + c) {
            inner[k] = wanted_below + (want[k] - below);
            h->count[b] = c | mark;
            k++;
        }
        below += c;
        wanted_below += h->count[b] & mark ? c : 0;
    }
    size_t gathered = 0;
    for (size_t i = 0; i < n; i++)
        if (h->count[ca_rank_bin(h, v[i])] & mark) {
            float t = v[i];
            v[i] = v[gathered];
            v[gathered++] = t;
        }
    for (k = 0; k < count; k++)
        value[k] = ca_select(v, gathered, inner[k]);
}

void ca_rank_hist_percentiles(struct ca_rank_hist *h, float *v, size_t n, const double *q,
                              size_t count, double *out)
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
    order_statistics(h, v, n, want, rank_count, value);
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
    struct ca_rank_hist h;
    ca_rank_hist_init(&h, n, lo, hi);
    for (size_t i = 0; i < n; i++)
        ca_rank_hist_add(&h, v[i]);
    ca_rank_hist_percentiles(&h, v, n, q, count, out);
    return 0;
}
