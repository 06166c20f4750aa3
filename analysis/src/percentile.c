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

/* Clears bins first..last. */
static void clear(struct ca_rank_hist *h)
{
    memset(&h->count[h->first], 0, (h->last - h->first + 1) * sizeof(h->count[0]));
}

void ca_rank_hist_init(struct ca_rank_hist *h, size_t n, float min, float max)
{
    h->min = min, h->max = max;
    h->lo = min;
    h->unit = 0;
    h->first = 0;
    if (isfinite(min) && isfinite(max) && max > min) {
        /* about one value per bin for small n, so that few values share the wanted bins */
        size_t bins = n < CA_RANK_BINS ? n : CA_RANK_BINS;
        h->last = bins - 1;
        h->scale = (double)bins / ((double)max - (double)min);
    } else {
        /* all values equal, or a range the bins cannot split: one bin, plain selection */
        h->last = 0;
        h->scale = 0.0;
    }
    clear(h);
}

void ca_rank_hist_init_unit(struct ca_rank_hist *h, float min, float max)
{
    h->min = min, h->max = max;
    h->lo = 0.0;
    h->scale = CA_RANK_UNIT_SCALE;
    h->unit = 1;
    /* the bins of min and max, clamped to the grid */
    h->first_f = 0.0f, h->last_f = (float)CA_RANK_UNIT_SCALE;
    h->first = ca_rank_unit_bin(h, min), h->last = ca_rank_unit_bin(h, max);
    h->first_f = (float)h->first, h->last_f = (float)h->last;
    clear(h);
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
    uint32_t *count_of = h->count;
    /* For each wanted rank, the rank it has among the values of the wanted bins once
     * they are gathered: the values of a lower bin are all smaller than those of a
     * higher one, so it is the count of wanted values in lower bins plus the rank inside
     * its own bin (the rank minus the count of all values in lower bins). A wanted bin
     * is marked by the top bit of its count, which no count reaches. */
    const uint32_t mark = ~(UINT32_MAX >> 1);
    size_t inner[MAX_RANKS];
    size_t below = 0, wanted_below = 0, k = 0;
    for (size_t b = h->first; b <= h->last && k < count; b++) {
        size_t c = count_of[b];
        if (want[k] >= below + c) { /* most bins: no wanted rank */
            below += c;
            continue;
        }
        while (k < count && want[k] < below + c) {
            inner[k] = wanted_below + (want[k] - below);
            k++;
        }
        count_of[b] = (uint32_t)c | mark;
        below += c;
        wanted_below += c;
    }
    size_t gathered = 0;
    for (size_t i = 0; i < n; i++) {
        size_t b = h->unit ? ca_rank_unit_bin(h, v[i]) : ca_rank_bin(h, v[i]);
        if (count_of[b] & mark) {
            float t = v[i];
            v[i] = v[gathered];
            v[gathered++] = t;
        }
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
    if (!v || !q || !out || n == 0 || n > CA_RANK_MAX_VALUES || count == 0 ||
        count > CA_PERCENTILE_MAX_COUNT)
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
