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

/* Levels of the ring map: a pixel's level is the smallest ring that holds it. */
enum { LEVEL_NONE, LEVEL_32, LEVEL_25, LEVEL_8 };

/*
 * half[dy] for dy = 0..ry: the largest dx with (dx sx)^2 + (dy sy)^2 <= r^2 (with the
 * slack), or -1 when the row dy is out of reach. Adjusted by the exact test so that
 * membership is the same as comparing squared distances. Returns the last dy in reach
 * (half is -1 exactly beyond it, as the rows' distance only grows with dy).
 */
static int64_t disc_rows(double r_mm, const double sp[2], int64_t ry, int64_t *half)
{
    double limit = r_mm * r_mm * (1.0 + RADIUS_SLACK);
    int64_t last = -1;
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
        last = dy;
    }
    return last;
}

/* Marks with level every window pixel within the disc rows half (rows -reach..reach) of
 * a border pixel, and widens span (first and last marked column of each row) to hold
 * them. The nearest pixel of a set to a pixel outside it is always a border
 * pixel (one with a 4-neighbour outside), so the discs of the border pixels cover the
 * whole ring. Border pixels side by side on a row are taken as one run: the union of
 * their discs' rows is one interval per row, [first - half, last + half]. */
static void stamp(uint8_t *map, uint32_t *span, uint32_t w, uint32_t h, uint32_t x0, uint32_t y0,
                  const struct ca_shape *shape, const int64_t *half, int64_t reach, uint8_t level)
{
    const uint32_t *p = shape->border_xy;
    size_t count = shape->border_count;
    for (size_t b = 0; b < count;) {
        size_t e = b + 1;
        while (e < count && p[2 * e + 1] == p[2 * b + 1] && p[2 * e] == p[2 * e - 2] + 1)
            e++;
        int64_t first = (int64_t)p[2 * b] - x0, last = (int64_t)p[2 * e - 2] - x0;
        int64_t by = (int64_t)p[2 * b + 1] - y0;
        int64_t ya = by - reach < 0 ? 0 : by - reach;
        int64_t yb = by + reach >= (int64_t)h ? (int64_t)h - 1 : by + reach;
        for (int64_t y = ya; y <= yb; y++) {
            int64_t hw = half[y < by ? by - y : y - by];
            int64_t xa = first - hw < 0 ? 0 : first - hw;
            int64_t xb = last + hw >= (int64_t)w ? (int64_t)w - 1 : last + hw;
            if (xa > xb)
                continue;
            memset(map + (size_t)y * w + (size_t)xa, level, (size_t)(xb - xa + 1));
            span[2 * y] = (uint32_t)xa < span[2 * y] ? (uint32_t)xa : span[2 * y];
            span[2 * y + 1] = (uint32_t)xb > span[2 * y + 1] ? (uint32_t)xb : span[2 * y + 1];
        }
        b = e;
    }
}

/* Makes room in s for a window of n pixels and h rows whose discs reach ry rows. */
static int reserve(struct ca_ring_scratch *s, size_t n, size_t h, size_t ry)
{
    if (n > s->capacity) {
        free(s->map), free(s->ring);
        s->map = calloc(n, 1); /* all LEVEL_NONE, as every call leaves it */
        s->ring = malloc(n * sizeof(float));
        s->capacity = s->map && s->ring ? n : 0;
        if (!s->capacity)
            return CA_ERR_OUT_OF_MEMORY;
    }
    size_t rows = h > ry + 1 ? h : ry + 1;
    if (rows > s->row_capacity) {
        free(s->half), free(s->span);
        s->half = malloc(rows * sizeof(int64_t));
        s->span = malloc(2 * rows * sizeof(uint32_t));
        s->row_capacity = s->half && s->span ? rows : 0;
        if (!s->row_capacity)
            return CA_ERR_OUT_OF_MEMORY;
    }
    return 0;
}

void ca_ring_scratch_release(struct ca_ring_scratch *s)
{
    free(s->map), free(s->ring), free(s->half), free(s->span);
    *s = (struct ca_ring_scratch){0};
}

int ca_ring_measure(const struct ca_result *r, const double spacing_mm[2],
                    const struct ca_shape *shapes, const uint32_t *members, size_t count,
                    const uint32_t box[4], int with_32, struct ca_ring_scratch *scratch,
                    struct ca_ring *out)
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
    if (reserve(scratch, n, h, ry) != 0)
        return CA_ERR_OUT_OF_MEMORY;
    uint8_t *map = scratch->map;
    float *ring = scratch->ring;
    int64_t *half = scratch->half;
    uint32_t *span = scratch->span;
    for (uint32_t y = 0; y < h; y++)
        span[2 * y] = w, span[2 * y + 1] = 0;
    static const struct {
        double r_mm;
        uint8_t level;
    } discs[] = {{CA_FEATURES_DENSITY_32_MM, LEVEL_32},
                 {CA_FEATURES_RING_MM, LEVEL_25},
                 {CA_FEATURES_DENSITY_8_MM, LEVEL_8}};
    /* widest first: a narrower disc overwrites with its higher level */
    for (size_t d = with_32 ? 0 : 1; d < sizeof(discs) / sizeof(discs[0]); d++) {
        int64_t reach = disc_rows(discs[d].r_mm, spacing_mm, ry, half);
        for (size_t m = 0; m < count; m++)
            stamp(map, span, w, h, x0, y0, &shapes[members[m]], half, reach, discs[d].level);
    }
    double sum8 = 0.0, sum32 = 0.0;
    size_t n8 = 0, n25 = 0, n32 = 0;
    /* only the marked columns of each row, which are cleared again after their scan */
    for (uint32_t y = 0; y < h; y++) {
        uint32_t first = span[2 * y], last = span[2 * y + 1];
        if (first > last)
            continue;
        uint8_t *lv = map + (size_t)y * w;
        size_t img = (size_t)(y0 + y) * r->columns + x0;
        const uint32_t *labels = r->labels + img;
        const uint8_t *breast = r->breast_mask + img;
        const float *value = r->normalized + img;
        /* two loops: the 3.2 mm sum is a second dependency chain that a calcification's
         * ring (without it) need not wait for */
        if (with_32) {
            for (uint32_t x = first; x <= last; x++) {
                if (lv[x] == LEVEL_NONE || labels[x] != 0 || !breast[x])
                    continue;
                if (lv[x] == LEVEL_8)
                    sum8 += value[x], n8++;
                if (lv[x] >= LEVEL_25)
                    ring[n25++] = value[x];
                sum32 += value[x], n32++;
            }
        } else {
            for (uint32_t x = first; x <= last; x++) {
                if (lv[x] == LEVEL_NONE || labels[x] != 0 || !breast[x])
                    continue;
                if (lv[x] == LEVEL_8)
                    sum8 += value[x], n8++;
                ring[n25++] = value[x];
            }
        }
        memset(lv + first, LEVEL_NONE, last - first + 1);
    }
    out->density_8 = n8 ? sum8 / (double)n8 : 0.0;
    out->density_32 = with_32 && n32 ? sum32 / (double)n32 : 0.0;
    ca_first_order(ring, n25, out->stats);
    return 0;
}
