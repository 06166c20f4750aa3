/* Power-law texture by pyramid synthesis: white noise on grids of cell size 2^L pixels,
 * each upsampled by 2 with the cubic B-spline subdivision mask (1 6 1)/8, (4 4)/8 and
 * added to the next finer level.
 *
 * Why this gives P(f) ~ 1/f^beta: level L holds white noise of amplitude a_L, i.e. a flat
 * spectrum of density a_L^2 4^L up to f = 1/2^(L+1). At frequency f every level coarser
 * than 1/(2f) contributes, dominated by the finest of them, so P(f) ~ a_L^2 4^L with
 * 2^L ~ 1/f. Choosing a_L = 2^(L (beta - 2) / 2) makes that 2^(L beta) ~ f^-beta.
 * Above max_scale_px the spectrum is flat (large-scale density comes from the envelope);
 * below min_scale_px no noise is added (the finest tissue detail is smoother than the
 * pixel grid; quantum noise dominates there anyway). */
#include "scene.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint32_t level_size(uint32_t n, int level)
{
    return ((n - 1) >> level) + 1;
}

static size_t clamp_index(long i, uint32_t n)
{
    return i < 0 ? 0 : (i >= (long)n ? n - 1 : (size_t)i);
}

/* out[i] (n_out samples, stride out_stride) from in (n_in samples, stride in_stride) at
 * half the rate. */
static void upsample_line(const float *in, size_t in_stride, uint32_t n_in, float *out,
                          size_t out_stride, uint32_t n_out)
{
    for (uint32_t i = 0; i < n_out; i++) {
        long k = (long)(i >> 1);
        float a = in[clamp_index(k, n_in) * in_stride];
        float b = in[clamp_index(k + 1, n_in) * in_stride];
        float v;
        if (i & 1) {
            v = 0.5f * (a + b);
        } else {
            float c = in[clamp_index(k - 1, n_in) * in_stride];
            v = (c + 6.0f * a + b) * 0.125f;
        }
        out[i * out_stride] = v;
    }
}

int scene_texture(float *out, uint32_t rows, uint32_t cols, double beta, double min_scale_px,
                  double max_scale_px, struct cn_rng *rng)
{
    int finest = 0;
    while (finest < 16 && (double)(1u << (finest + 1)) <= min_scale_px)
        finest++;
    int top = 0;
    while (top < 16 && (double)(1u << (top + 1)) <= max_scale_px &&
           level_size(rows, top + 1) >= 4 && level_size(cols, top + 1) >= 4)
        top++;
    size_t full = (size_t)rows * cols;
    float *cur = malloc(full * sizeof *cur);
    float *tmp = malloc(full * sizeof *tmp);
    if (!cur || !tmp) {
        free(cur);
        free(tmp);
        return -1;
    }
    uint32_t r = level_size(rows, top), c = level_size(cols, top);
    double amp = pow(2.0, top * (beta - 2.0) / 2.0);
    for (size_t i = 0; i < (size_t)r * c; i++)
        cur[i] = (float)(amp * cn_rng_normal(rng));
    for (int level = top - 1; level >= 0; level--) {
        uint32_t r2 = level_size(rows, level), c2 = level_size(cols, level);
        /* along rows: tmp is r x c2 */
        for (uint32_t y = 0; y < r; y++)
            upsample_line(cur + (size_t)y * c, 1, c, tmp + (size_t)y * c2, 1, c2);
        /* along columns: the result r2 x c2 lands in out (or cur at level 0) */
        float *dst = level == 0 ? out : cur;
        for (uint32_t x = 0; x < c2; x++)
            upsample_line(tmp + x, c2, r, dst + x, c2, r2);
        amp = pow(2.0, level * (beta - 2.0) / 2.0);
        for (size_t i = 0; level >= finest && i < (size_t)r2 * c2; i++)
            dst[i] += (float)(amp * cn_rng_normal(rng));
        r = r2;
        c = c2;
    }
    if (top == 0)
        memcpy(out, cur, full * sizeof *out);
    free(cur);
    free(tmp);
    /* zero mean, unit variance */
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < full; i++) {
        sum += out[i];
        sum2 += (double)out[i] * out[i];
    }
    double mean = sum / (double)full;
    double sd = sqrt(fmax(sum2 / (double)full - mean * mean, 1e-30));
    for (size_t i = 0; i < full; i++)
        out[i] = (float)((out[i] - mean) / sd);
    return 0;
}
