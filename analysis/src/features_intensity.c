/*
 * Intensity features: pyradiomics first-order statistics and the rings of tissue
 * around calcifications (an exact Euclidean distance transform in mm over a window).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "calc/features.h"
#include "features_internal.h"
#include "internal.h"

/* Distances of pixels that see no object pixel in the window. Finite so that the
 * parabola intersections below never compute infinity minus infinity. */
#define FAR_MM2 1e30
/* Relative slack of the ring radius: a pixel at exactly r mm belongs to the ring even
 * when r^2 and its squared distance round differently. */
#define RADIUS_SLACK 1e-9
#define PERCENTILE_LOW 10.0
#define PERCENTILE_HIGH 90.0

enum { FO_MEAN, FO_STD, FO_SKEWNESS, FO_KURTOSIS, FO_MIN, FO_MAX, FO_P10, FO_P90, FO_ENTROPY };

/* numpy.percentile, linear method: a[i] + (a[i + 1] - a[i]) * t at index q / 100 * (n-1). */
static double percentile(float *v, size_t n, double q)
{
    double index = q / 100.0 * (double)(n - 1);
    size_t lo = (size_t)floor(index);
    double t = index - (double)lo;
    double a = ca_select(v, n, lo);
    if (lo + 1 >= n || t == 0.0)
        return a;
    float b = v[lo + 1];
    for (size_t i = lo + 2; i < n; i++)
        b = v[i] < b ? v[i] : b;
    return a + ((double)b - a) * t;
}

static double entropy(const float *v, size_t n)
{
    /* pyradiomics binWidth discretisation: bins [k w, (k + 1) w) */
    enum { BINS = (int)(1.0 / CA_FEATURES_BIN_WIDTH) + 2 };
    uint32_t hist[BINS] = {0};
    for (size_t i = 0; i < n; i++) {
        double x = v[i] > 0.0f ? (v[i] < 1.0f ? v[i] : 1.0) : 0.0;
        hist[(int)floor(x / CA_FEATURES_BIN_WIDTH)]++;
    }
    double h = 0.0;
    for (int b = 0; b < BINS; b++)
        if (hist[b]) {
            double p = (double)hist[b] / (double)n;
            h -= p * log2(p + DBL_EPSILON);
        }
    return h;
}

void ca_first_order(float *v, size_t n, double out[CA_FIRST_ORDER_COUNT])
{
    for (int i = 0; i < CA_FIRST_ORDER_COUNT; i++)
        out[i] = 0.0;
    if (n == 0)
        return;
    double sum = 0.0, lo = v[0], hi = v[0];
    for (size_t i = 0; i < n; i++) {
        sum += v[i];
        lo = fmin(lo, v[i]);
        hi = fmax(hi, v[i]);
    }
    double mean = sum / (double)n, m2 = 0.0, m3 = 0.0, m4 = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = v[i] - mean, d2 = d * d;
        m2 += d2;
        m3 += d2 * d;
        m4 += d2 * d2;
    }
    m2 /= (double)n, m3 /= (double)n, m4 /= (double)n;
    out[FO_MEAN] = mean;
    out[FO_STD] = sqrt(m2);
    out[FO_SKEWNESS] = m2 > 0.0 ? m3 / pow(m2, 1.5) : 0.0;
    out[FO_KURTOSIS] = m2 > 0.0 ? m4 / (m2 * m2) : 0.0;
    out[FO_MIN] = lo;
    out[FO_MAX] = hi;
    out[FO_ENTROPY] = entropy(v, n);
    out[FO_P10] = percentile(v, n, PERCENTILE_LOW);
    out[FO_P90] = percentile(v, n, PERCENTILE_HIGH);
}

/*
 * One column of the squared distance transform (Felzenszwalb and Huttenlocher, Theory
 * of Computing 8, 2012): d[q] = min_p f[p] + w2 (q - p)^2, through the lower envelope
 * of the parabolas. v (n) and z (n + 1) are scratch.
 */
static void dt_1d(const double *f, size_t n, double w2, double *d, size_t *v, double *z)
{
    size_t k = 0;
    v[0] = 0;
    z[0] = -INFINITY;
    z[1] = INFINITY;
    for (size_t q = 1; q < n; q++) {
        double fq = f[q] + w2 * (double)q * (double)q, s;
        /* z[0] is -infinity, so k never goes below 0 */
        for (;;) {
            size_t p = v[k];
            s = (fq - (f[p] + w2 * (double)p * (double)p)) / (2.0 * w2 * (double)(q - p));
            if (s > z[k])
                break;
            k--;
        }
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = INFINITY;
    }
    k = 0;
    for (size_t q = 0; q < n; q++) {
        while (z[k + 1] < (double)q)
            k++;
        double dq = (double)q - (double)v[k];
        d[q] = f[v[k]] + w2 * dq * dq;
    }
}

/* Squared distance in mm2 from every window pixel to the nearest object pixel. */
static int distance_sq(const uint8_t *obj, uint32_t w, uint32_t h, const double sp[2], double *d2)
{
    size_t len = (w > h ? w : h);
    double *f = malloc(len * sizeof(double)), *d = malloc(len * sizeof(double));
    double *z = malloc((len + 1) * sizeof(double));
    size_t *v = malloc(len * sizeof(size_t));
    if (!f || !d || !z || !v) {
        free(f), free(d), free(z), free(v);
        return CA_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *o = obj + (size_t)y * w;
        double *row = d2 + (size_t)y * w;
        double last = -1.0;
        for (uint32_t x = 0; x < w; x++) {
            if (o[x])
                last = x;
            row[x] = last < 0.0 ? FAR_MM2 : ((double)x - last) * sp[1];
        }
        last = -1.0;
        for (uint32_t x = w; x-- > 0;) {
            if (o[x])
                last = x;
            if (last >= 0.0)
                row[x] = fmin(row[x], (last - (double)x) * sp[1]);
            row[x] = row[x] >= FAR_MM2 ? FAR_MM2 : row[x] * row[x];
        }
    }
    for (uint32_t x = 0; x < w; x++) {
        for (uint32_t y = 0; y < h; y++)
            f[y] = d2[(size_t)y * w + x];
        dt_1d(f, h, sp[0] * sp[0], d, v, z);
        for (uint32_t y = 0; y < h; y++)
            d2[(size_t)y * w + x] = d[y];
    }
    free(f), free(d), free(z), free(v);
    return 0;
}

int ca_ring_measure(const struct ca_result *r, const double spacing_mm[2], const uint8_t *is_member,
                    const uint32_t box[4], int with_32, struct ca_ring *out)
{
    *out = (struct ca_ring){0};
    double reach_mm = with_32 ? CA_FEATURES_DENSITY_32_MM : CA_FEATURES_RING_MM;
    uint32_t rx = (uint32_t)ceil(reach_mm / spacing_mm[1]);
    uint32_t ry = (uint32_t)ceil(reach_mm / spacing_mm[0]);
    uint32_t x0 = box[0] > rx ? box[0] - rx : 0, y0 = box[1] > ry ? box[1] - ry : 0;
    uint32_t x1 = box[2] + rx < r->columns ? box[2] + rx : r->columns - 1;
    uint32_t y1 = box[3] + ry < r->rows ? box[3] + ry : r->rows - 1;
    uint32_t w = x1 - x0 + 1, h = y1 - y0 + 1;
    size_t n = (size_t)w * h;
    uint8_t *obj = malloc(n);
    double *d2 = malloc(n * sizeof(double));
    float *ring = malloc(n * sizeof(float));
    if (!obj || !d2 || !ring) {
        free(obj), free(d2), free(ring);
        return CA_ERR_OUT_OF_MEMORY;
    }
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            uint32_t id = r->labels[(size_t)(y0 + y) * r->columns + x0 + x];
            obj[(size_t)y * w + x] = id != 0 && id <= r->calcification_count && is_member[id];
        }
    int rc = distance_sq(obj, w, h, spacing_mm, d2);
    if (rc != 0) {
        free(obj), free(d2), free(ring);
        return rc;
    }
    double r8 = CA_FEATURES_DENSITY_8_MM * CA_FEATURES_DENSITY_8_MM * (1.0 + RADIUS_SLACK);
    double r25 = CA_FEATURES_RING_MM * CA_FEATURES_RING_MM * (1.0 + RADIUS_SLACK);
    double r32 = CA_FEATURES_DENSITY_32_MM * CA_FEATURES_DENSITY_32_MM * (1.0 + RADIUS_SLACK);
    double sum8 = 0.0, sum32 = 0.0;
    size_t n8 = 0, n25 = 0, n32 = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t img = (size_t)(y0 + y) * r->columns + x0 + x;
            double d = d2[(size_t)y * w + x];
            if (r->labels[img] != 0 || !r->breast_mask[img] || d > r32)
                continue;
            float value = r->normalized[img];
            if (d <= r8)
                sum8 += value, n8++;
            if (d <= r25)
                ring[n25++] = value;
            sum32 += value, n32++;
        }
    out->density_8 = n8 ? sum8 / (double)n8 : 0.0;
    out->density_32 = with_32 && n32 ? sum32 / (double)n32 : 0.0;
    ca_first_order(ring, n25, out->stats);
    free(obj), free(d2), free(ring);
    return 0;
}
