/*
 * Stage 4: calcification masks by region growing.
 *
 * Candidates are taken strongest first (those at or above contrast_min, then contrast,
 * scale, row, column: a total order, so the result is deterministic). From the brightest pixel of the 3x3
 * neighbourhood on a band-pass image of stage 3 (finest minus widest Gaussian, so the
 * tissue under a calcification is mostly removed; the narrower one for candidates at
 * or above contrast_min found at grow_narrow_sigma_max_mm or finer), the region grows
 * over 8-connected pixels above bg + grow_fraction * (peak - bg), where bg is the lower quartile of the
 * square ring at background_scales * sigma around the seed; a region too large at that
 * level is grown again at grow_fraction_max before it is rejected. A line (a candidate
 * at or above contrast_min that is a ridge, or whose region at grow_fraction turns out
 * elongated) grows at grow_linear_fraction instead: along a vessel the tissue is bright
 * enough to join a vascular calcification at grow_fraction. Holes in a region (pixels
 * 4-connected to nothing outside it, such as the lucent centre of a rim calcification)
 * are part of it. Growth stays in a window
 * just larger than macro_diameter_mm and never enters another object. Grown first from
 * the level of the wider surroundings (the ring at the window edge), a region that
 * reaches the window border is part of a larger object and rejected. A region is
 * rejected when it reaches the window border or is wider than macro_diameter_mm
 * (macro), or, grown from a candidate at or above contrast_min, is smaller than
 * min_area_mm2. A ridge candidate or a region whose
 * second-moment elongation exceeds elongation_max is kept and flagged linear (vascular
 * and fine linear calcifications are both lines; the cluster stage tells them apart). A
 * region at or above contrast_min found at vessel_end_sigma_min_mm or coarser whose
 * band-pass goes on past it, as a vessel's does, is the rounded end of a vessel and
 * rejected; a finer one whose narrow band-pass goes on past it is a noise peak grown
 * along a thin vessel and rejected too (vessel.c).
 * A region grown from a candidate below contrast_min (from its significant core only:
 * its level is at least second_stage_grow_snr_min noise units above bg) is kept only
 * when the second stage scores its features (among them the candidates within
 * second_stage_candidate_radius_mm against the count an even spread would give) at or
 * above second_stage_threshold (every candidate at or above
 * contrast_min has been grown by then, so its neighbour count is complete).
 * Rejected regions stay claimed until the stage ends, so weaker candidates inside them
 * are not grown again, and a region reaching one is rejected with it.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CLAIMED_REJECTED UINT32_MAX
#define MIN_RING_RADIUS_PX 2
/* The background is the lower quartile of the ring, not its median: near the rim of a
 * larger bright object half the ring lies outside it, and growing from the darker
 * side's level floods the object, which the macro test then rejects. */
#define BACKGROUND_QUANTILE 0.25
#define WINDOW_EXTRA_PX 2
/* Variance of a unit pixel's extent (1/12): keeps one-pixel-wide objects finite. */
#define PIXEL_VARIANCE (1.0 / 12.0)

static int by_strength(const void *a, const void *b)
{
    const struct ca_candidate *p = a, *q = b;
    if (p->strong != q->strong)
        return p->strong ? -1 : 1;
    if (p->contrast != q->contrast)
        return p->contrast > q->contrast ? -1 : 1;
    if (p->scale != q->scale)
        return p->scale < q->scale ? -1 : 1;
    if (p->y != q->y)
        return p->y < q->y ? -1 : 1;
    return p->x < q->x ? -1 : p->x > q->x;
}

struct grower {
    const float *fine;
    struct rect crop;
    uint32_t full_columns;
    uint32_t *labels;
    uint32_t hr, hc;          /* window half sizes */
    uint32_t *stamp;          /* (2hr+1)(2hc+1): candidate number that visited */
    uint32_t *region;         /* crop-linear indices of the region */
    uint32_t *saved;          /* a region kept while another level is tried */
    uint8_t *inside;          /* (2hr+3)(2hc+3): hole filling's marks */
    uint32_t *stack;
    float *ring;
    uint32_t *claimed;        /* full-image indices marked CLAIMED_REJECTED */
    size_t claimed_count, claimed_capacity;
};

static uint32_t *label_at(struct grower *g, uint32_t x, uint32_t y)
{
    return &g->labels[(size_t)(y + g->crop.y0) * g->full_columns + x + g->crop.x0];
}

static float ring_background(struct grower *g, uint32_t sx, uint32_t sy, uint32_t rr,
                         uint32_t rc)
{
    const float *f = g->fine;
    uint32_t w = g->crop.width, h = g->crop.height;
    int64_t x0 = (int64_t)sx - rc, x1 = (int64_t)sx + rc;
    int64_t y0 = (int64_t)sy - rr, y1 = (int64_t)sy + rr;
    size_t n = 0;
    for (int64_t x = x0; x <= x1; x++) {
        if (x < 0 || x >= w)
            continue;
        if (y0 >= 0)
            g->ring[n++] = f[(size_t)y0 * w + (size_t)x];
        if (y1 < h)
            g->ring[n++] = f[(size_t)y1 * w + (size_t)x];
    }
    for (int64_t y = y0 + 1; y < y1; y++) {
        if (y < 0 || y >= h)
            continue;
        if (x0 >= 0)
            g->ring[n++] = f[(size_t)y * w + (size_t)x0];
        if (x1 < w)
            g->ring[n++] = f[(size_t)y * w + (size_t)x1];
    }
    return n ? ca_select(g->ring, n, (size_t)(BACKGROUND_QUANTILE * (double)(n - 1)))
             : f[(size_t)sy * w + sx];
}

/* Floods from (sx, sy); returns the region size; *touched is set when the region
 * reached the window edge (it is then cut there) or a rejected object. */
static size_t flood(struct grower *g, uint32_t sx, uint32_t sy, float level,
                    uint32_t visit, int *touched)
{
    uint32_t w = g->crop.width, h = g->crop.height, ww = 2 * g->hc + 1;
    size_t n = 0, top = 0;
    *touched = 0;
    g->stack[top++] = sy * w + sx;
    g->stamp[g->hr * ww + g->hc] = visit;
    while (top) {
        uint32_t i = g->stack[--top];
        uint32_t x = i % w, y = i / w;
        g->region[n++] = i;
        for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++) {
                int64_t nx = (int64_t)x + dx, ny = (int64_t)y + dy;
                int64_t wx = nx - sx + g->hc, wy = ny - sy + g->hr;
                if ((!dx && !dy) || nx < 0 || ny < 0 || nx >= w || ny >= h)
                    continue;
                size_t ni = (size_t)ny * w + (size_t)nx;
                if (!(g->fine[ni] > level))
                    continue;
                uint32_t other = *label_at(g, (uint32_t)nx, (uint32_t)ny);
                if (other == CLAIMED_REJECTED)
                    *touched = 1; /* joins an object already rejected */
                if (other)
                    continue;
                if (wx <= 0 || wy <= 0 || wx >= 2 * (int64_t)g->hc ||
                    wy >= 2 * (int64_t)g->hr) {
                    *touched = 1;
                    continue;
                }
                uint32_t *st = &g->stamp[(size_t)wy * ww + (size_t)wx];
                if (*st == visit)
                    continue;
                *st = visit;
                g->stack[top++] = (uint32_t)ni;
            }
    }
    return n;
}

static int claim_rejected(struct grower *g, size_t n)
{
    if (g->claimed_count + n > g->claimed_capacity) {
        size_t cap = g->claimed_capacity ? g->claimed_capacity : 4096;
        while (cap < g->claimed_count + n)
            cap *= 2;
        uint32_t *p = realloc(g->claimed, cap * sizeof(uint32_t));
        if (!p)
            return CA_ERR_OUT_OF_MEMORY;
        g->claimed = p;
        g->claimed_capacity = cap;
    }
    uint32_t w = g->crop.width;
    for (size_t k = 0; k < n; k++) {
        uint32_t x = g->region[k] % w, y = g->region[k] / w;
        *label_at(g, x, y) = CLAIMED_REJECTED;
        g->claimed[g->claimed_count++] =
            (uint32_t)((size_t)(y + g->crop.y0) * g->full_columns + x + g->crop.x0);
    }
    return 0;
}

/* Adds the holes of the region (unlabelled pixels of its box that a 4-connected walk
 * from outside the box cannot reach) to it; returns the new size. The box is inside the
 * growing window, so it fits g->inside with a one-pixel frame. */
static size_t fill_holes(struct grower *g, size_t n)
{
    enum { OUTSIDE_UNSEEN = 0, IN_REGION = 1, REACHED = 2 };
    uint32_t w = g->crop.width;
    uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t x = g->region[k] % w, y = g->region[k] / w;
        x0 = x < x0 ? x : x0;
        x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    if (x1 - x0 < 2 || y1 - y0 < 2)
        return n; /* no pixel can be enclosed */
    /* the box with a frame of one pixel, which is outside the region by construction */
    uint32_t bw = x1 - x0 + 3, bh = y1 - y0 + 3;
    memset(g->inside, OUTSIDE_UNSEEN, (size_t)bw * bh);
    for (size_t k = 0; k < n; k++)
        g->inside[(size_t)(g->region[k] / w - y0 + 1) * bw + (g->region[k] % w - x0 + 1)] =
            IN_REGION;
    size_t top = 0;
    g->stack[top++] = 0; /* a frame corner */
    g->inside[0] = REACHED;
    while (top) {
        uint32_t i = g->stack[--top], x = i % bw, y = i / bw;
        const int dx[4] = {1, -1, 0, 0}, dy[4] = {0, 0, 1, -1};
        for (int d = 0; d < 4; d++) {
            int64_t nx = (int64_t)x + dx[d], ny = (int64_t)y + dy[d];
            if (nx < 0 || ny < 0 || nx >= bw || ny >= bh)
                continue;
            uint8_t *m = &g->inside[(size_t)ny * bw + (size_t)nx];
            if (*m != OUTSIDE_UNSEEN)
                continue;
            *m = REACHED;
            g->stack[top++] = (uint32_t)((size_t)ny * bw + (size_t)nx);
        }
    }
    for (uint32_t y = 1; y + 1 < bh; y++)
        for (uint32_t x = 1; x + 1 < bw; x++) {
            if (g->inside[(size_t)y * bw + x] != OUTSIDE_UNSEEN)
                continue;
            uint32_t cx = x + x0 - 1, cy = y + y0 - 1;
            if (*label_at(g, cx, cy) == 0) /* another object inside stays its own */
                g->region[n++] = cy * w + cx;
        }
    return n;
}

/* Floods at level and fills the holes; see flood. */
static size_t grow_region(struct grower *g, uint32_t sx, uint32_t sy, float level,
                          uint32_t visit, int *touched)
{
    size_t n = flood(g, sx, sy, level, visit, touched);
    return *touched ? n : fill_holes(g, n);
}

static int append(struct ca_result *out, size_t *capacity, const struct ca_calcification *c)
{
    if (out->calcification_count == *capacity) {
        size_t cap = *capacity ? 2 * *capacity : 256;
        struct ca_calcification *p = realloc(out->calcifications, cap * sizeof(*p));
        if (!p)
            return CA_ERR_OUT_OF_MEMORY;
        out->calcifications = p;
        *capacity = cap;
    }
    out->calcifications[out->calcification_count++] = *c;
    return 0;
}

/* Measures the region; returns 1 when it is accepted as a calcification: not macro and,
 * for a region kept without the second stage (strong), at least min_area_mm2 (the second
 * stage weighs a faint region's area itself). */
static int measure(struct grower *g, size_t n, const float *norm, const double sp[2],
                   const struct ca_params *params, int strong, struct ca_calcification *c)
{
    uint32_t w = g->crop.width;
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sum = 0, peak = 0;
    uint32_t x0 = UINT32_MAX, y0 = UINT32_MAX, x1 = 0, y1 = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t x = g->region[k] % w + g->crop.x0, y = g->region[k] / w + g->crop.y0;
        double v = norm[(size_t)y * g->full_columns + x];
        sx += x;
        sy += y;
        sxx += (double)x * x;
        syy += (double)y * y;
        sxy += (double)x * y;
        sum += v;
        peak = v > peak ? v : peak;
        x0 = x < x0 ? x : x0;
        x1 = x > x1 ? x : x1;
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    double mx = sx / n, my = sy / n;
    /* second moments in mm^2 */
    double vxx = (sxx / n - mx * mx + PIXEL_VARIANCE) * sp[1] * sp[1];
    double vyy = (syy / n - my * my + PIXEL_VARIANCE) * sp[0] * sp[0];
    double vxy = (sxy / n - mx * my) * sp[0] * sp[1];
    double half_tr = 0.5 * (vxx + vyy);
    double disc = sqrt(0.25 * (vxx - vyy) * (vxx - vyy) + vxy * vxy);
    double l_small = half_tr - disc, l_large = half_tr + disc;
    c->x_px = mx;
    c->y_px = my;
    c->area_px = (uint32_t)n;
    c->area_mm2 = (double)n * sp[0] * sp[1];
    c->bbox[0] = x0;
    c->bbox[1] = y0;
    c->bbox[2] = x1;
    c->bbox[3] = y1;
    double wmm = (x1 - x0 + 1) * sp[1], hmm = (y1 - y0 + 1) * sp[0];
    c->diameter_mm = wmm > hmm ? wmm : hmm;
    c->elongation = l_small > 0 ? sqrt(l_large / l_small) : INFINITY;
    c->mean_intensity = sum / n;
    c->peak_intensity = peak;
    c->cluster = -1;
    return c->diameter_mm <= params->macro_diameter_mm &&
           (!strong || c->area_mm2 >= params->min_area_mm2);
}

/* Band-pass excess over bg summed over the region. */
static double region_excess(const struct grower *g, size_t n, float bg)
{
    double sum = 0.0;
    for (size_t k = 0; k < n; k++)
        sum += g->fine[g->region[k]] - bg;
    return sum;
}

/* Calcifications at or above contrast_min within radius_mm of c. */
static uint32_t strong_neighbours(const struct ca_result *out, const struct ca_calcification *c,
                                  const double sp[2], double radius_mm)
{
    uint32_t count = 0;
    double r2 = radius_mm * radius_mm;
    for (size_t i = 0; i < out->calcification_count; i++) {
        const struct ca_calcification *o = &out->calcifications[i];
        if (!isinf(o->second_stage_score))
            continue;
        double dx = (o->x_px - c->x_px) * sp[1], dy = (o->y_px - c->y_px) * sp[0];
        count += dx * dx + dy * dy <= r2;
    }
    return count;
}

/* The vessel tests of vessel.c on a region at or above contrast_min (n pixels in
 * g->region): found at vessel_end_sigma_min_mm or coarser, the rounded end of a vessel
 * (on the wide band-pass); finer, a noise peak grown along a thin vessel (on the narrow
 * band-pass, which takes most of a vessel out from under a calcification, so that a
 * vascular calcification stands far above the vessel beside it). */
static int on_vessel(const struct grower *g, const float *fine, const float *narrow, size_t n,
                     double sigma, int linear, const double sp[2], const struct ca_params *params)
{
    int coarse = sigma >= params->vessel_end_sigma_min_mm;
    double min = coarse ? params->vessel_end_continuation_min
                        : params->vessel_fine_continuation_min;
    return min > 0.0 && ca_vessel_continuation(coarse ? fine : narrow, g->crop.width,
                                               g->crop.height, g->region, n, sp, linear) > min;
}

int ca_grow(const float *fine, const float *narrow, const float *norm, struct rect crop,
            uint32_t full_columns,
            const double spacing_mm[2], const struct ca_params *params,
            struct ca_candidates *found, uint32_t *labels, struct ca_result *out)
{
    struct grower g;
    memset(&g, 0, sizeof(g));
    struct ca_candidate_grid grid, bright_grid;
    memset(&grid, 0, sizeof(grid));
    memset(&bright_grid, 0, sizeof(bright_grid));
    g.fine = fine;
    g.crop = crop;
    g.full_columns = full_columns;
    g.labels = labels;
    g.hr = (uint32_t)ceil(params->macro_diameter_mm / spacing_mm[0]) + WINDOW_EXTRA_PX;
    g.hc = (uint32_t)ceil(params->macro_diameter_mm / spacing_mm[1]) + WINDOW_EXTRA_PX;
    size_t window = (size_t)(2 * g.hr + 1) * (2 * g.hc + 1);
    uint32_t ring_r_max = 0, ring_c_max = 0;
    for (uint32_t s = 0; s < params->scale_count; s++) {
        uint32_t rr = (uint32_t)lround(params->background_scales * params->sigmas_mm[s] /
                                       spacing_mm[0]);
        uint32_t rc = (uint32_t)lround(params->background_scales * params->sigmas_mm[s] /
                                       spacing_mm[1]);
        ring_r_max = rr > ring_r_max ? rr : ring_r_max;
        ring_c_max = rc > ring_c_max ? rc : ring_c_max;
    }
    ring_r_max = ring_r_max < MIN_RING_RADIUS_PX ? MIN_RING_RADIUS_PX : ring_r_max;
    ring_c_max = ring_c_max < MIN_RING_RADIUS_PX ? MIN_RING_RADIUS_PX : ring_c_max;
    ring_r_max = g.hr > ring_r_max ? g.hr : ring_r_max;
    ring_c_max = g.hc > ring_c_max ? g.hc : ring_c_max;
    size_t ring_cap = 4 * ((size_t)ring_r_max + ring_c_max + 1);
    g.stamp = calloc(window, sizeof(uint32_t));
    g.region = malloc(window * sizeof(uint32_t));
    g.saved = malloc(window * sizeof(uint32_t));
    g.inside = malloc((size_t)(2 * g.hr + 3) * (2 * g.hc + 3));
    g.stack = malloc(window * 8 * sizeof(uint32_t));
    g.ring = malloc(ring_cap * sizeof(float));
    size_t capacity = 0;
    int rc = CA_ERR_OUT_OF_MEMORY;
    if (!g.stamp || !g.region || !g.saved || !g.inside || !g.stack || !g.ring)
        goto done;
    if (found->count > 0) /* qsort's array may not be NULL, even when empty */
        qsort(found->items, found->count, sizeof(found->items[0]), by_strength);
    double r_mm = params->second_stage_candidate_radius_mm;
    float bright_min[CA_MAX_SCALES];
    for (uint32_t s = 0; s < params->scale_count; s++)
        bright_min[s] =
            (float)(params->second_stage_bright_contrast * ca_contrast_factor(params, s));
    rc = ca_candidate_grid_build(found, crop.height, crop.width, spacing_mm, r_mm, NULL, &grid);
    if (rc == 0)
        rc = ca_candidate_grid_build(found, crop.height, crop.width, spacing_mm, r_mm,
                                     bright_min, &bright_grid);
    if (rc < 0)
        goto done;
    /* the counts a uniform spread over the breast would give */
    double disc_per_area = out->breast_area_mm2 > 0.0
                               ? M_PI * r_mm * r_mm / out->breast_area_mm2
                               : 0.0;
    double expected = (double)grid.count * disc_per_area;
    double bright_expected = (double)bright_grid.count * disc_per_area;
    for (size_t k = 0; k < found->count && rc == 0; k++) {
        const struct ca_candidate *cand = &found->items[k];
        if (*label_at(&g, cand->x, cand->y))
            continue;
        /* a fine-scale candidate at or above contrast_min grows on the narrow band-pass:
           a vessel under it would lift one side of the region. A fainter one keeps the
           wide band-pass its second-stage features were fitted on. */
        g.fine = cand->strong &&
                         params->sigmas_mm[cand->scale] <= params->grow_narrow_sigma_max_mm
                     ? narrow
                     : fine;
        /* seed: the brightest pixel of the 3x3 neighbourhood (first on ties) */
        uint32_t sx = cand->x, sy = cand->y;
        float best = g.fine[(size_t)sy * crop.width + sx];
        for (uint32_t y = cand->y - 1; y <= cand->y + 1; y++)
            for (uint32_t x = cand->x - 1; x <= cand->x + 1; x++) {
                float v = g.fine[(size_t)y * crop.width + x];
                if (v > best) {
                    best = v;
                    sx = x;
                    sy = y;
                }
            }
        if (*label_at(&g, sx, sy))
            continue;
        double sigma = params->sigmas_mm[cand->scale];
        uint32_t rr = (uint32_t)lround(params->background_scales * sigma / spacing_mm[0]);
        uint32_t rcol = (uint32_t)lround(params->background_scales * sigma / spacing_mm[1]);
        rr = rr < MIN_RING_RADIUS_PX ? MIN_RING_RADIUS_PX : rr;
        rcol = rcol < MIN_RING_RADIUS_PX ? MIN_RING_RADIUS_PX : rcol;
        float bg = ring_background(&g, sx, sy, rr, rcol);
        if (!(best > bg))
            continue;
        /* context: from the level of the wider surroundings (the ring at the window
           edge) the object must still stay inside the window, else it is part of
           something larger than a calcification. A region that floods the window at
           grow_fraction is tried once more at grow_fraction_max: a calcification on a
           vessel or strand stands out from it only near its peak. */
        int touched = 0;
        size_t n = 0;
        float wide = ring_background(&g, sx, sy, g.hr - 1, g.hc - 1);
        int ridge = cand->strong && cand->shape == CA_SHAPE_RIDGE;
        double first = ridge ? params->grow_linear_fraction : params->grow_fraction;
        const double fractions[2] = {first, fmax(first, params->grow_fraction_max)};
        /* a level this far above bg at least: a faint peak on textured tissue grows only
           over its significant pixels, not over the tissue around it; a candidate below
           contrast_min keeps only its core (second_stage_grow_snr_min), since most such
           regions are noise and each pixel of a false one lowers the mask's overlap */
        double snr_min = cand->strong ? params->grow_snr_min : params->second_stage_grow_snr_min;
        float floor_level = bg + (float)(snr_min * found->noise_sigma);
        double used = fractions[0];
        for (uint32_t t = 0; t < 2; t++) {
            float f = (float)fractions[t];
            used = f;
            /* visit stamps start at 1 so a zeroed stamp is never "visited" */
            uint32_t stamp = 4 * (uint32_t)k + 2 * t + 1;
            touched = 0;
            if (wide < bg)
                n = flood(&g, sx, sy, fmaxf(wide + f * (best - wide), floor_level), stamp,
                          &touched);
            if (!touched)
                n = grow_region(&g, sx, sy, fmaxf(bg + f * (best - bg), floor_level),
                                stamp + 1, &touched);
            if (!touched)
                break;
        }
        if (touched) {
            rc = claim_rejected(&g, n); /* wider than the window: macro */
            continue;
        }
        struct ca_calcification c;
        memset(&c, 0, sizeof(c));
        if (!measure(&g, n, norm, spacing_mm, params, cand->strong, &c)) {
            rc = claim_rejected(&g, n);
            continue;
        }
        c.scale_mm = sigma;
        c.contrast = cand->contrast;
        c.linear = cand->shape == CA_SHAPE_RIDGE || c.elongation > params->elongation_max;
        if (c.linear && cand->strong && used < params->grow_linear_fraction) {
            /* a line found at grow_fraction: again at grow_linear_fraction, kept when
               that region is still accepted (its stamps follow all of the others) */
            memcpy(g.saved, g.region, n * sizeof(uint32_t));
            float level = fmaxf(bg + (float)params->grow_linear_fraction * (best - bg),
                                floor_level);
            int cut = 0;
            size_t n2 = grow_region(&g, sx, sy, level,
                                    4 * (uint32_t)found->count + (uint32_t)k + 1, &cut);
            struct ca_calcification line;
            memset(&line, 0, sizeof(line));
            if (!cut && measure(&g, n2, norm, spacing_mm, params, cand->strong, &line)) {
                c = line;
                n = n2;
                c.scale_mm = sigma;
                c.contrast = cand->contrast;
                c.linear = 1;
            } else {
                memcpy(g.region, g.saved, n * sizeof(uint32_t));
            }
        }
        if (cand->strong && on_vessel(&g, fine, narrow, n, sigma, c.linear, spacing_mm, params)) {
            rc = claim_rejected(&g, n);
            continue;
        }
        c.peak_snr = (best - bg) / found->noise_sigma;
        c.excess_snr = region_excess(&g, n, bg) / found->noise_sigma;
        c.second_stage_score = INFINITY;
        if (!cand->strong) {
            c.strong_neighbours =
                strong_neighbours(out, &c, spacing_mm, params->second_stage_radius_mm);
            uint32_t around = ca_candidate_grid_count(&grid, c.x_px - crop.x0,
                                                      c.y_px - crop.y0, spacing_mm, r_mm);
            c.candidate_neighbours = around ? around - 1 : 0; /* itself excluded */
            c.candidate_neighbours_expected = expected;
            uint32_t bright = ca_candidate_grid_count(&bright_grid, c.x_px - crop.x0,
                                                      c.y_px - crop.y0, spacing_mm, r_mm);
            uint32_t self = cand->contrast >= bright_min[cand->scale];
            c.bright_neighbours = bright >= self ? bright - self : 0;
            c.bright_neighbours_expected = bright_expected;
            struct ca_second_stage_features f = {
                c.contrast,   cand->scale,  c.linear,
                c.area_mm2,   c.elongation, c.excess_snr,
                c.peak_snr,   c.strong_neighbours, c.candidate_neighbours,
                c.candidate_neighbours_expected, c.bright_neighbours,
                c.bright_neighbours_expected};
            c.second_stage_score = ca_second_stage_score(&f);
            if (c.second_stage_score < params->second_stage_threshold) {
                rc = claim_rejected(&g, n);
                continue;
            }
        }
        c.id = (uint32_t)out->calcification_count + 1;
        for (size_t i = 0; i < n; i++)
            *label_at(&g, g.region[i] % crop.width, g.region[i] / crop.width) = c.id;
        rc = append(out, &capacity, &c);
    }
    for (size_t i = 0; i < g.claimed_count; i++)
        if (labels[g.claimed[i]] == CLAIMED_REJECTED)
            labels[g.claimed[i]] = 0;
done:
    free(g.stamp);
    free(g.region);
    free(g.saved);
    free(g.inside);
    free(g.stack);
    free(g.ring);
    free(g.claimed);
    ca_candidate_grid_free(&grid);
    ca_candidate_grid_free(&bright_grid);
    return rc;
}
