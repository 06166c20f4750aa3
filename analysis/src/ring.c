/*
 * The rings of tissue around calcifications (calc/features.h): every pixel of a window
 * around the members is marked with the smallest ring that holds it, by stamping the
 * discs around the members' pixels row by row, then the marked columns are scanned once.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc/features.h"
#include "features_internal.h"

/* Relative slack of the ring radius: a pixel at exactly r mm belongs to the ring even
 * when r^2 and its squared distance round differently. */
#define RADIUS_SLACK 1e-9

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

/* Makes room in s for a window of n pixels and h rows whose discs reach ry rows, and
 * for the runs of an object of area_px pixels and bbox_rows rows. */
static int reserve(struct ca_ring_scratch *s, size_t n, size_t h, size_t ry, size_t area_px,
                   size_t bbox_rows)
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
    rows = rows > bbox_rows + 1 ? rows : bbox_rows + 1;
    if (rows > s->row_capacity) {
        free(s->half), free(s->span), free(s->row_start);
        s->half = malloc(rows * sizeof(int64_t));
        s->span = malloc(rows * sizeof(struct ca_span));
        s->row_start = malloc(rows * sizeof(size_t));
        s->row_capacity = s->half && s->span && s->row_start ? rows : 0;
        if (!s->row_capacity)
            return CA_ERR_OUT_OF_MEMORY;
    }
    if (area_px > s->run_capacity) {
        free(s->runs), free(s->pieces);
        s->runs = malloc(area_px * sizeof(struct ca_span));
        s->pieces = malloc(area_px * sizeof(struct ca_span));
        s->run_capacity = s->runs && s->pieces ? area_px : 0;
        if (!s->run_capacity)
            return CA_ERR_OUT_OF_MEMORY;
    }
    return 0;
}

void ca_ring_scratch_release(struct ca_ring_scratch *s)
{
    free(s->map), free(s->ring), free(s->half), free(s->span), free(s->row_start);
    free(s->runs), free(s->pieces);
    *s = (struct ca_ring_scratch){0};
}

/* The runs of the pixels of calcification index i along the rows of its bbox, in window
 * columns (origin x0): s->runs[s->row_start[k] .. s->row_start[k + 1] - 1] for bbox row k. */
static void member_runs(const struct ca_result *r, uint32_t i, uint32_t x0,
                        struct ca_ring_scratch *s)
{
    const uint32_t *b = r->calcifications[i].bbox, id = i + 1;
    size_t count = 0;
    for (uint32_t y = b[1]; y <= b[3]; y++) {
        const uint32_t *row = r->labels + (size_t)y * r->columns;
        s->row_start[y - b[1]] = count;
        for (uint32_t x = b[0]; x <= b[2]; x++) {
            if (row[x] != id)
                continue;
            uint32_t first = x;
            while (x + 1 <= b[2] && row[x + 1] == id)
                x++;
            s->runs[count++] = (struct ca_span){(int64_t)first - x0, (int64_t)x - x0};
        }
    }
    s->row_start[b[3] - b[1] + 1] = count;
}

/* Marks columns first..last of window row y with level (clipped to the window) and
 * widens the row's marked span. */
static void mark(struct ca_ring_scratch *s, uint32_t w, int64_t y, struct ca_span piece,
                 uint8_t level)
{
    int64_t xa = piece.first < 0 ? 0 : piece.first;
    int64_t xb = piece.last >= (int64_t)w ? (int64_t)w - 1 : piece.last;
    if (xa > xb)
        return;
    memset(s->map + (size_t)y * w + (size_t)xa, level, (size_t)(xb - xa + 1));
    struct ca_span *span = &s->span[y];
    span->first = xa < span->first ? xa : span->first;
    span->last = xb > span->last ? xb : span->last;
}

/*
 * Marks with level every window pixel within the disc rows half (rows -reach..reach) of
 * a pixel of the member whose runs member_runs left in s (bbox rows top..bottom, window
 * rows). The discs of a run's pixels cover, on each row, one interval [first - half,
 * last + half]; the intervals of the member's rows are merged on each window row so
 * that every pixel is written once. Discs around all the member's pixels, not
 * only its border pixels, mark no further pixel outside the member (the member pixel
 * nearest to an outside pixel is always a border pixel, one with a 4-neighbour outside:
 * a step towards the outside pixel would otherwise come closer), and the scan skips
 * every calcification pixel.
 */
static void stamp(struct ca_ring_scratch *s, uint32_t w, uint32_t h, int64_t top, int64_t bottom,
                  int64_t reach, uint8_t level)
{
    int64_t ya = top - reach < 0 ? 0 : top - reach;
    int64_t yb = bottom + reach >= (int64_t)h ? (int64_t)h - 1 : bottom + reach;
    for (int64_t y = ya; y <= yb; y++) {
        int64_t sa = y - reach > top ? y - reach : top;
        int64_t sb = y + reach < bottom ? y + reach : bottom;
        /* pieces[0..n-1]: disjoint intervals, none touching another (usually one) */
        size_t n = 0;
        for (int64_t src = sa; src <= sb; src++) {
            int64_t hw = s->half[src < y ? y - src : src - y];
            for (size_t k = s->row_start[src - top]; k < s->row_start[src - top + 1]; k++) {
                struct ca_span piece = {s->runs[k].first - hw, s->runs[k].last + hw};
                size_t j = 0;
                while (j < n) {
                    struct ca_span *q = &s->pieces[j];
                    if (q->first > piece.last + 1 || piece.first > q->last + 1) {
                        j++;
                        continue;
                    }
                    /* absorb q, and look again at the piece moved into its place */
                    piece.first = q->first < piece.first ? q->first : piece.first;
                    piece.last = q->last > piece.last ? q->last : piece.last;
                    *q = s->pieces[--n];
                }
                s->pieces[n++] = piece;
            }
        }
        for (size_t k = 0; k < n; k++)
            mark(s, w, y, s->pieces[k], level);
    }
}

int ca_ring_measure(const struct ca_result *r, const double spacing_mm[2], const uint32_t *members,
                    size_t count, const uint32_t box[4], int with_32,
                    struct ca_ring_scratch *scratch, struct ca_ring *out)
{
    *out = (struct ca_ring){0};
    double reach_mm = with_32 ? CA_FEATURES_DENSITY_32_MM : CA_FEATURES_RING_MM;
    uint32_t rx = (uint32_t)ceil(reach_mm / spacing_mm[1]);
    uint32_t ry = (uint32_t)ceil(reach_mm / spacing_mm[0]);
    uint32_t x0 = box[0] > rx ? box[0] - rx : 0, y0 = box[1] > ry ? box[1] - ry : 0;
    uint32_t x1 = box[2] + rx < r->columns ? box[2] + rx : r->columns - 1;
    uint32_t y1 = box[3] + ry < r->rows ? box[3] + ry : r->rows - 1;
    uint32_t w = x1 - x0 + 1, h = y1 - y0 + 1;
    size_t n = (size_t)w * h, area_px = 0, bbox_rows = 0;
    for (size_t m = 0; m < count; m++) {
        const struct ca_calcification *c = &r->calcifications[members[m]];
        area_px = c->area_px > area_px ? c->area_px : area_px;
        bbox_rows =
            c->bbox[3] - c->bbox[1] + 1 > bbox_rows ? c->bbox[3] - c->bbox[1] + 1 : bbox_rows;
    }
    if (reserve(scratch, n, h, ry, area_px, bbox_rows) != 0)
        return CA_ERR_OUT_OF_MEMORY;
    for (uint32_t y = 0; y < h; y++)
        scratch->span[y] = (struct ca_span){w, -1};
    static const struct {
        double r_mm;
        uint8_t level;
    } discs[] = {{CA_FEATURES_DENSITY_32_MM, LEVEL_32},
                 {CA_FEATURES_RING_MM, LEVEL_25},
                 {CA_FEATURES_DENSITY_8_MM, LEVEL_8}};
    /* widest first: a narrower disc overwrites with its higher level */
    for (size_t d = with_32 ? 0 : 1; d < sizeof(discs) / sizeof(discs[0]); d++) {
        int64_t reach = disc_rows(discs[d].r_mm, spacing_mm, ry, scratch->half);
        for (size_t m = 0; m < count; m++) {
            const uint32_t *b = r->calcifications[members[m]].bbox;
            member_runs(r, members[m], x0, scratch);
            stamp(scratch, w, h, (int64_t)b[1] - y0, (int64_t)b[3] - y0, reach, discs[d].level);
        }
    }
    double sum8 = 0.0, sum32 = 0.0;
    size_t n8 = 0, n25 = 0, n32 = 0;
    float *ring = scratch->ring;
    /* only the marked columns of each row, which are cleared again after their scan */
    for (uint32_t y = 0; y < h; y++) {
        int64_t first = scratch->span[y].first, last = scratch->span[y].last;
        if (first > last)
            continue;
        uint8_t *lv = scratch->map + (size_t)y * w;
        size_t img = (size_t)(y0 + y) * r->columns + x0;
        const uint32_t *labels = r->labels + img;
        const uint8_t *breast = r->breast_mask + img;
        const float *value = r->normalized + img;
        /* two loops: the 3.2 mm sum is a second dependency chain that a calcification's
         * ring (without it) need not wait for */
        if (with_32) {
            for (int64_t x = first; x <= last; x++) {
                if (lv[x] == LEVEL_NONE || labels[x] != 0 || !breast[x])
                    continue;
                if (lv[x] == LEVEL_8)
                    sum8 += value[x], n8++;
                if (lv[x] >= LEVEL_25)
                    ring[n25++] = value[x];
                sum32 += value[x], n32++;
            }
        } else {
            for (int64_t x = first; x <= last; x++) {
                if (lv[x] == LEVEL_NONE || labels[x] != 0 || !breast[x])
                    continue;
                if (lv[x] == LEVEL_8)
                    sum8 += value[x], n8++;
                ring[n25++] = value[x];
            }
        }
        memset(lv + first, LEVEL_NONE, (size_t)(last - first + 1));
    }
    out->density_8 = n8 ? sum8 / (double)n8 : 0.0;
    out->density_32 = with_32 && n32 ? sum32 / (double)n32 : 0.0;
    ca_first_order(ring, n25, out->stats);
    return 0;
}
