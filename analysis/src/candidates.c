/*
 * Stage 3: candidates by multi-scale difference of Gaussians with a Hessian blob test
 * (HDoG; Marasinou et al., HDoGReg, 2021).
 *
 * The Gaussians form a ladder G(sigma_0) ... G(sigma_n-1), G(ratio * sigma_n-1); scale i
 * responds with D_i = G(sigma_i) - G(sigma_i+1), positive on bright blobs. Only two
 * ladder images besides the finest (kept for region growing) are alive at a time.
 *
 * Noise: per scale, 1.4826 * MAD of D_i over the breast pixels of blocks of
 * noise_block_mm (sampled on a grid), bilinear between block centres; blocks without
 * enough breast pixels take the median of the others. A pixel is a candidate at scale i
 * when D_i is a strict 3x3 local maximum (ties go to the first in raster order),
 * D_i / noise >= second_stage_contrast_min * (sigma_i / sigma_0)^contrast_scale_exponent
 * (candidates below contrast_min there are left to the second stage; parenchyma
 * answers mostly at the coarse scales, calcifications at every scale), and the trace of
 * the Hessian of G(sigma_i) there is negative (a bright structure). Its shape is a blob
 * when both eigenvalues are negative and their magnitude ratio is at least
 * blob_eigen_ratio_min, else a ridge (a line: vessel, vascular or linear calcification);
 * ridges are kept and flagged, the region stage decides.
 *
 * The finest ladder image minus the widest (G(sigma_0) - G(ratio * sigma_n-1)) is left
 * for region growing: a band-pass that removes the slowly varying tissue under a
 * calcification (a fibrous strand). So is a narrower one, the finest minus
 * G(grow_narrow_outer_sigma_mm), which also removes most of a vessel under a fine
 * vascular or linear calcification (grow_narrow_sigma_max_mm). When that outer image is
 * no longer alive at the end of the ladder, it is blurred once more, in place.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc/kernels.h"
#include "internal.h"

#define NOISE_SAMPLE_CAP 1024u
#define NOISE_MIN_SAMPLES 32u
#define NOISE_MIN_BLOCK_PX 8u
#define MAD_TO_SIGMA 1.4826
/* Lower bound of a noise estimate, so a noiseless block does not divide by zero. */
#define NOISE_FLOOR 1e-6f

struct blocks {
    uint32_t size_r, size_c, nr, nc;
    float *noise;   /* nr * nc */
    float *min_nb;  /* nr * nc: minimum over the 3x3 neighbouring blocks */
};

static float median_of(float *v, size_t n)
{
    return ca_select(v, n, n / 2);
}

static int estimate_noise(const float *inner, const float *outer, const uint8_t *mask,
                          uint32_t rows, uint32_t columns, struct blocks *b,
                          float *samples, double *median_noise)
{
    size_t nb = (size_t)b->nr * b->nc, valid = 0;
    float *good = malloc(nb * sizeof(float));
    if (!good)
        return CA_ERR_OUT_OF_MEMORY;
    uint32_t area = b->size_r * b->size_c;
    uint32_t step = (uint32_t)ceil(sqrt((double)area / NOISE_SAMPLE_CAP));
    if (!step)
        step = 1;
    for (uint32_t by = 0; by < b->nr; by++)
        for (uint32_t bx = 0; bx < b->nc; bx++) {
            size_t n = 0;
            uint32_t y1 = (by + 1) * b->size_r, x1 = (bx + 1) * b->size_c;
            y1 = y1 < rows ? y1 : rows;
            x1 = x1 < columns ? x1 : columns;
            for (uint32_t y = by * b->size_r; y < y1; y += step)
                for (uint32_t x = bx * b->size_c; x < x1; x += step) {
                    size_t i = (size_t)y * columns + x;
                    if (mask[i])
                        samples[n++] = inner[i] - outer[i];
                }
            float *dst = &b->noise[(size_t)by * b->nc + bx];
            if (n < NOISE_MIN_SAMPLES) {
                *dst = -1.0f;
                continue;
            }
            float med = median_of(samples, n);
            for (size_t k = 0; k < n; k++)
                samples[k] = fabsf(samples[k] - med);
            float sigma = (float)(MAD_TO_SIGMA * median_of(samples, n));
            *dst = sigma > NOISE_FLOOR ? sigma : NOISE_FLOOR;
            good[valid++] = *dst;
        }
    float fill = valid ? median_of(good, valid) : NOISE_FLOOR;
    *median_noise = fill;
    free(good);
    for (size_t i = 0; i < nb; i++)
        if (b->noise[i] < 0.0f)
            b->noise[i] = fill;
    for (uint32_t by = 0; by < b->nr; by++)
        for (uint32_t bx = 0; bx < b->nc; bx++) {
            float m = b->noise[(size_t)by * b->nc + bx];
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int64_t yy = (int64_t)by + dy, xx = (int64_t)bx + dx;
                    if (yy < 0 || xx < 0 || yy >= b->nr || xx >= b->nc)
                        continue;
                    float v = b->noise[(size_t)yy * b->nc + (size_t)xx];
                    m = v < m ? v : m;
                }
            b->min_nb[(size_t)by * b->nc + bx] = m;
        }
    return 0;
}

/* Bilinear noise between block centres, clamped at the outer centres. */
static float noise_at(const struct blocks *b, uint32_t x, uint32_t y)
{
    double fy = ((double)y + 0.5) / b->size_r - 0.5, fx = ((double)x + 0.5) / b->size_c - 0.5;
    fy = fy < 0 ? 0 : (fy > b->nr - 1 ? b->nr - 1 : fy);
    fx = fx < 0 ? 0 : (fx > b->nc - 1 ? b->nc - 1 : fx);
    uint32_t y0 = (uint32_t)fy, x0 = (uint32_t)fx;
    uint32_t y1 = y0 + 1 < b->nr ? y0 + 1 : y0, x1 = x0 + 1 < b->nc ? x0 + 1 : x0;
    double ty = fy - y0, tx = fx - x0;
    const float *n = b->noise;
    double top = n[(size_t)y0 * b->nc + x0] * (1 - tx) + n[(size_t)y0 * b->nc + x1] * tx;
    double bot = n[(size_t)y1 * b->nc + x0] * (1 - tx) + n[(size_t)y1 * b->nc + x1] * tx;
    return (float)(top * (1 - ty) + bot * ty);
}

/* The Hessian shape at a DoG peak: 0 not a bright structure (trace >= 0), SHAPE_BLOB when
 * both eigenvalues are negative with |lambda_small| >= ratio_min |lambda_large|, else
 * SHAPE_RIDGE (a bright line: one eigenvalue near 0, such as a vessel or a linear
 * calcification). */
static int hessian_shape(const float *g, uint32_t rows, uint32_t columns, uint32_t x,
                         uint32_t y, double ratio_min)
{
    double h[3];
    ca_hessian_at(g, rows, columns, x, y, h);
    double tr = h[0] + h[2];
    if (!(tr < 0.0))
        return 0;
    double disc = sqrt(0.25 * (h[0] - h[2]) * (h[0] - h[2]) + h[1] * h[1]);
    double small = -0.5 * tr - disc, large = -0.5 * tr + disc; /* magnitudes */
    return small >= ratio_min * large ? CA_SHAPE_BLOB : CA_SHAPE_RIDGE;
}

static int push(struct ca_candidates *found, uint32_t cap, struct ca_candidate c)
{
    if (found->count == cap) {
        found->dropped++;
        return 0;
    }
    if (found->count == found->capacity) {
        size_t grown = found->capacity ? 2 * found->capacity : 1024;
        if (grown > cap)
            grown = cap;
        struct ca_candidate *p = realloc(found->items, grown * sizeof(*p));
        if (!p)
            return CA_ERR_OUT_OF_MEMORY;
        found->items = p;
        found->capacity = grown;
    }
    found->items[found->count++] = c;
    return 0;
}

static int scan_scale(const float *inner, const float *outer, const uint8_t *mask,
                      uint32_t rows, uint32_t columns, uint32_t scale,
                      const struct blocks *b, const struct ca_params *params,
                      struct ca_candidates *found)
{
    double factor = ca_contrast_factor(params, scale);
    float cmin = (float)(params->second_stage_contrast_min * factor);
    float strong_min = (float)(params->contrast_min * factor);
    for (uint32_t y = 1; y + 1 < rows; y++) {
        size_t row = (size_t)y * columns;
        const float *min_row = b->min_nb + (size_t)(y / b->size_r) * b->nc;
        for (uint32_t x = 1; x + 1 < columns; x++) {
            size_t i = row + x;
            float d = inner[i] - outer[i];
            if (d < cmin * min_row[x / b->size_c] || !mask[i])
                continue;
            /* strict maximum over earlier neighbours, at least as large as later ones */
            const size_t before[4] = {i - 1, i - columns - 1, i - columns, i - columns + 1};
            const size_t after[4] = {i + 1, i + columns - 1, i + columns, i + columns + 1};
            int peak = 1;
            for (int k = 0; k < 4 && peak; k++)
                peak = d > inner[before[k]] - outer[before[k]] &&
                       d >= inner[after[k]] - outer[after[k]];
            if (!peak)
                continue;
            float noise = noise_at(b, x, y);
            float contrast = d / noise;
            if (contrast < cmin)
                continue;
            int shape = hessian_shape(inner, rows, columns, x, y,
                                      params->blob_eigen_ratio_min);
            if (!shape)
                continue;
            struct ca_candidate c = {x, y, scale, contrast, noise, (uint8_t)shape,
                                     contrast >= strong_min};
            int rc = push(found, params->max_candidates, c);
            if (rc < 0)
                return rc;
        }
    }
    return 0;
}

int ca_find_candidates(const float *img, const uint8_t *mask, uint32_t rows,
                       uint32_t columns, const double spacing_mm[2],
                       const struct ca_params *params, float *fine, float *narrow,
                       struct ca_candidates *found, char *msg)
{
    size_t n = (size_t)rows * columns;
    struct blocks b;
    b.size_r = (uint32_t)lround(params->noise_block_mm / spacing_mm[0]);
    b.size_c = (uint32_t)lround(params->noise_block_mm / spacing_mm[1]);
    b.size_r = b.size_r < NOISE_MIN_BLOCK_PX ? NOISE_MIN_BLOCK_PX : b.size_r;
    b.size_c = b.size_c < NOISE_MIN_BLOCK_PX ? NOISE_MIN_BLOCK_PX : b.size_c;
    b.nr = (rows + b.size_r - 1) / b.size_r;
    b.nc = (columns + b.size_c - 1) / b.size_c;
    size_t nb = (size_t)b.nr * b.nc;
    size_t sample_cap = (size_t)b.size_r * b.size_c;
    b.noise = malloc(nb * sizeof(float));
    b.min_nb = malloc(nb * sizeof(float));
    float *samples = malloc(sample_cap * sizeof(float));
    float *ladder[2] = {malloc(n * sizeof(float)), malloc(n * sizeof(float))};
    int rc = CA_ERR_OUT_OF_MEMORY;
    if (!b.noise || !b.min_nb || !samples || !ladder[0] || !ladder[1])
        goto done;

    uint32_t S = params->scale_count;
    rc = ca_gauss_blur(img, fine, rows, columns, params->sigmas_mm[0] / spacing_mm[0],
                       params->sigmas_mm[0] / spacing_mm[1]);
    for (uint32_t s = 0; s < S && rc == 0; s++) {
        double next = s + 1 < S ? params->sigmas_mm[s + 1]
                                : params->dog_ratio * params->sigmas_mm[S - 1];
        const float *inner = s == 0 ? fine : ladder[(s - 1) % 2];
        float *outer = ladder[s % 2];
        rc = ca_gauss_blur(img, outer, rows, columns, next / spacing_mm[0],
                           next / spacing_mm[1]);
        if (rc < 0)
            break;
        double median_noise = 0.0;
        rc = estimate_noise(inner, outer, mask, rows, columns, &b, samples, &median_noise);
        if (rc < 0)
            break;
        if (s == 0)
            found->noise_sigma = median_noise;
        rc = scan_scale(inner, outer, mask, rows, columns, s, &b, params, found);
    }
    if (rc == 0) {
        /* the last two outer images are alive: G(sigma_last) and G(dog_ratio *
           sigma_last); an earlier one is blurred again into narrow (img is read no
           more) */
        int step = ca_narrow_outer_step(params);
        const float *widest = ladder[(S - 1) % 2];
        const float *outer = narrow;
        if (step == (int)S - 1)
            outer = widest;
        else if (step == (int)S - 2)
            outer = ladder[(S - 2) % 2];
        else
            rc = ca_gauss_blur(img, narrow, rows, columns,
                               params->grow_narrow_outer_sigma_mm / spacing_mm[0],
                               params->grow_narrow_outer_sigma_mm / spacing_mm[1]);
        for (size_t i = 0; i < n && rc == 0; i++) {
            narrow[i] = fine[i] - outer[i];
            fine[i] -= widest[i];
        }
    }
done:
    if (rc < 0)
        ca_fail(msg, rc, "could not detect candidates: %s", ca_strerror(rc));
    free(b.noise);
    free(b.min_nb);
    free(samples);
    free(ladder[0]);
    free(ladder[1]);
    return rc;
}

/* Hoare-style quickselect with the median of three as pivot: deterministic. */
float ca_select(float *v, size_t n, size_t k)
{
    ptrdiff_t lo = 0, hi = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
    while (lo < hi) {
        ptrdiff_t mid = lo + (hi - lo) / 2;
        float a = v[lo], m = v[mid], z = v[hi];
        float pivot = a < m ? (m < z ? m : (a < z ? z : a)) : (a < z ? a : (m < z ? z : m));
        ptrdiff_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot)
                i++;
            while (v[j] > pivot)
                j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j];
                v[j] = t;
                i++;
                j--;
            }
        }
        /* now v[lo..j] <= pivot, v[i..hi] >= pivot, v[j+1..i-1] == pivot */
        if (kk <= j)
            hi = j;
        else if (kk >= i)
            lo = i;
        else
            return v[kk];
    }
    return v[kk];
}
