/*
 * Intensity features: pyradiomics first-order statistics and the rings of tissue
 * around calcifications (discs stamped row by row around the border pixels).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc/features.h"
#include "features_internal.h"
#include "internal.h"

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
        hist[(int)(x / CA_FEATURES_BIN_WIDTH)]++; /* x >= 0: truncation is floor */
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
        lo = v[i] < lo ? v[i] : lo;
        hi = v[i] > hi ? v[i] : hi;
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

/* Levels of the ring map: a pixel's level is the smallest ring that holds it. */
enum { LEVEL_NONE, LEVEL_32, LEVEL_25, LEVEL_8 };

/*
 * half[dy] for dy = 0..ry: the largest dx with (dx sx)^2 + (dy sy)^2 <= r^2 (with the
 * slack), or -1 when the row dy is out of reach. Adjusted by the exact test so that
 * membership is the same as comparing squared distances.
 */
static void disc_rows(double r_mm, const double sp[2], int64_t ry, int64_t *half)
{
    double limit = r_mm * r_mm * (1.0 + RADIUS_SLACK);
    for (int64_t dy = 0; dy <= ry; dy++) {
        double yy = (double)dy * sp[0];
        yy *= yy;
        if (yy > limit) {
            half[dy] = -1;
            continue;
        }
        int64_t hw = (int64_t)floor(sqrt(limit - yy) / sp[1]);
        while ((double)(hw + 1) * sp[1] * (double)(hw + 1) * sp[1] + yy <= limit)
            hw++;
        while (hw >= 0 && (double)hw * sp[1] * (double)hw * sp[1] + yy > limit)
            hw--;
        half[dy] = hw;
    }
}

/* Marks with level every window pixel within the disc rows half of a border pixel. The
 * nearest pixel of a set to a pixel outside it is always a border pixel (one with a
 * 4-neighbour outside), so the discs of the border pixels cover the whole ring. */
static void stamp(uint8_t *map, uint32_t w, uint32_t h, uint32_t x0, uint32_t y0,
                  const struct ca_shape *shape, const int64_t *half, int64_t ry, uint8_t level)
{
    for (size_t b = 0; b < shape->border_count; b++) {
        int64_t bx = (int64_t)shape->border_xy[2 * b] - x0;
        int64_t by = (int64_t)shape->border_xy[2 * b + 1] - y0;
        for (int64_t dy = -ry; dy <= ry; dy++) {
            int64_t y = by + dy, hw = half[dy < 0 ? -dy : dy];
            if (y < 0 || y >= (int64_t)h || hw < 0)
                continue;
            int64_t xa = bx - hw < 0 ? 0 : bx - hw;
            int64_t xb = bx + hw >= (int64_t)w ? (int64_t)w - 1 : bx + hw;
            if (xa <= xb)
                memset(map + (size_t)y * w + (size_t)xa, level, (size_t)(xb - xa + 1));
        }
    }
}

int ca_ring_measure(const struct ca_result *r, const double spacing_mm[2],
                    const struct ca_shape *shapes, const uint32_t *members, size_t count,
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
    uint8_t *map = calloc(n, 1);
    float *ring = malloc(n * sizeof(float));
    int64_t *half = malloc(((size_t)ry + 1) * sizeof(int64_t));
    if (!map || !ring || !half) {
        free(map), free(ring), free(half);
        return CA_ERR_OUT_OF_MEMORY;
    }
    static const struct {
        double r_mm;
        uint8_t level;
    } discs[] = {{CA_FEATURES_DENSITY_32_MM, LEVEL_32},
                 {CA_FEATURES_RING_MM, LEVEL_25},
                 {CA_FEATURES_DENSITY_8_MM, LEVEL_8}};
    /* widest first: a narrower disc overwrites with its higher level */
    for (size_t d = with_32 ? 0 : 1; d < sizeof(discs) / sizeof(discs[0]); d++) {
        disc_rows(discs[d].r_mm, spacing_mm, ry, half);
        for (size_t m = 0; m < count; m++)
            stamp(map, w, h, x0, y0, &shapes[members[m]], half, ry, discs[d].level);
    }
    double sum8 = 0.0, sum32 = 0.0;
    size_t n8 = 0, n25 = 0, n32 = 0;
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *lv = map + (size_t)y * w;
        size_t img = (size_t)(y0 + y) * r->columns + x0;
        for (uint32_t x = 0; x < w; x++) {
            if (lv[x] == LEVEL_NONE || r->labels[img + x] != 0 || !r->breast_mask[img + x])
                continue;
            float value = r->normalized[img + x];
            if (lv[x] == LEVEL_8)
                sum8 += value, n8++;
            if (lv[x] >= LEVEL_25)
                ring[n25++] = value;
            sum32 += value, n32++;
        }
    }
    out->density_8 = n8 ? sum8 / (double)n8 : 0.0;
    out->density_32 = with_32 && n32 ? sum32 / (double)n32 : 0.0;
    ca_first_order(ring, n25, out->stats);
    free(map), free(ring), free(half);
    return 0;
}
