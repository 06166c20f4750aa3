/*
 * Gaussian blur, difference of Gaussians and Hessian (calc/kernels.h).
 *
 * Large sigmas use the third-order recursive filter of Young and van Vliet (1995):
 * forward w[n] = B x[n] + b1 w[n-1] + b2 w[n-2] + b3 w[n-3], then backward on w. The
 * border is replicated: the forward state starts at the steady state of the first
 * sample (exactly an infinite run of it), and the forward pass runs on over a tail of
 * copies of the last sample long enough for the backward start to be negligible.
 *
 * Both passes run on "lanes": several independent lines interleaved so the inner loop
 * over lanes vectorises. Rows are filtered in groups of ROW_LANES rows copied into an
 * interleaved buffer; columns are filtered in strips of COL_LANES adjacent columns,
 * which are already interleaved in memory.
 */
#include "calc/kernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "calc/analysis.h"

#define ROW_LANES 16
#define COL_LANES 64
/* Tail length in sigmas: the backward start then errs by less than 1e-6 of the range. */
#define TAIL_SIGMAS 6.0
#define TAIL_EXTRA 8

struct yvv {
    float B, b1, b2, b3;
};

/* Young and van Vliet 1995, equations 11b and 8c (q from sigma, then b0..b3). */
static struct yvv yvv_coefficients(double sigma)
{
    double q = sigma >= 2.5 ? 0.98711 * sigma - 0.96330
                            : 3.97156 - 4.14554 * sqrt(1.0 - 0.26891 * sigma);
    double q2 = q * q, q3 = q2 * q;
    double b0 = 1.57825 + 2.44413 * q + 1.4281 * q2 + 0.422205 * q3;
    double b1 = (2.44413 * q + 2.85619 * q2 + 1.26661 * q3) / b0;
    double b2 = -(1.4281 * q2 + 1.26661 * q3) / b0;
    double b3 = 0.422205 * q3 / b0;
    struct yvv c = {(float)(1.0 - (b1 + b2 + b3)), (float)b1, (float)b2, (float)b3};
    return c;
}

static size_t tail_len(double sigma)
{
    return (size_t)ceil(TAIL_SIGMAS * sigma) + TAIL_EXTRA;
}

/*
 * Filters lanes interleaved lines of n samples followed by tail copies of sample n-1,
 * in place in buf ((n + tail) * lanes floats).
 */
static void yvv_lanes(float *buf, size_t n, size_t tail, size_t lanes, struct yvv c)
{
    size_t total = n + tail;
    for (size_t i = n; i < total; i++)
        memcpy(buf + i * lanes, buf + (n - 1) * lanes, lanes * sizeof(float));
    /* forward; w[-1] = w[-2] = w[-3] = x[0] */
    {
        float *p0 = buf;
        for (size_t k = 0; k < lanes; k++) {
            float x = p0[k];
            p0[k] = c.B * x + (c.b1 + c.b2 + c.b3) * x;
        }
    }
    if (total > 1) {
        float *p = buf + lanes;
        const float *m1 = buf;
        for (size_t k = 0; k < lanes; k++)
            p[k] = c.B * p[k] + c.b1 * m1[k] + (c.b2 + c.b3) * buf[k];
    }
    if (total > 2) {
        float *p = buf + 2 * lanes;
        const float *m1 = buf + lanes, *m2 = buf;
        for (size_t k = 0; k < lanes; k++)
            p[k] = c.B * p[k] + c.b1 * m1[k] + c.b2 * m2[k] + c.b3 * m2[k];
    }
    for (size_t i = 3; i < total; i++) {
        float *restrict p = buf + i * lanes;
        const float *m1 = p - lanes, *m2 = p - 2 * lanes, *m3 = p - 3 * lanes;
        for (size_t k = 0; k < lanes; k++)
            p[k] = c.B * p[k] + c.b1 * m1[k] + c.b2 * m2[k] + c.b3 * m3[k];
    }
    /* backward; y[total..total+2] = w[total-1] (the tail has converged) */
    {
        float *p = buf + (total - 1) * lanes;
        for (size_t k = 0; k < lanes; k++)
            p[k] = c.B * p[k] + (c.b1 + c.b2 + c.b3) * p[k];
    }
    if (total > 1) {
        float *p = buf + (total - 2) * lanes;
        const float *p1 = p + lanes;
        for (size_t k = 0; k < lanes; k++) {
            float edge = p1[k];
            p[k] = c.B * p[k] + c.b1 * edge + (c.b2 + c.b3) * edge;
        }
    }
    if (total > 2) {
        float *p = buf + (total - 3) * lanes;
        const float *p1 = p + lanes, *p2 = p + 2 * lanes;
        for (size_t k = 0; k < lanes; k++)
            p[k] = c.B * p[k] + c.b1 * p1[k] + c.b2 * p2[k] + c.b3 * p2[k];
    }
    for (size_t i = total - 3; i-- > 0;) {
        float *restrict p = buf + i * lanes;
        const float *p1 = p + lanes, *p2 = p + 2 * lanes, *p3 = p + 3 * lanes;
        for (size_t k = 0; k < lanes; k++)
            p[k] = c.B * p[k] + c.b1 * p1[k] + c.b2 * p2[k] + c.b3 * p3[k];
    }
}

/* Sampled, normalised Gaussian of radius ceil(3 sigma); returns the radius. */
static uint32_t sampled_kernel(double sigma, float *w, uint32_t cap)
{
    uint32_t radius = (uint32_t)ceil(3.0 * sigma);
    if (radius > cap)
        radius = cap;
    double sum = 0.0, tmp[16];
    for (uint32_t i = 0; i <= radius; i++) {
        tmp[i] = exp(-0.5 * (double)(i * i) / (sigma * sigma));
        sum += i ? 2.0 * tmp[i] : tmp[i];
    }
    for (uint32_t i = 0; i <= radius; i++)
        w[i] = (float)(tmp[i] / sum);
    return radius;
}

#define SMALL_RADIUS_CAP 6

static int blur_rows(const float *in, float *out, uint32_t rows, uint32_t columns,
                     double sigma)
{
    if (sigma < CA_GAUSS_IIR_MIN_SIGMA_PX) {
        float w[SMALL_RADIUS_CAP + 1];
        uint32_t r = sampled_kernel(sigma, w, SMALL_RADIUS_CAP);
        float *pad = malloc(((size_t)columns + 2 * r) * sizeof(float));
        if (!pad)
            return CA_ERR_OUT_OF_MEMORY;
        for (uint32_t y = 0; y < rows; y++) {
            const float *src = in + (size_t)y * columns;
            float *dst = out + (size_t)y * columns;
            for (uint32_t i = 0; i < r; i++) {
                pad[i] = src[0];
                pad[(size_t)columns + r + i] = src[columns - 1];
            }
            memcpy(pad + r, src, (size_t)columns * sizeof(float));
            /* taps outer, pixels inner: the inner loop vectorises */
            const float *c = pad + r;
            for (uint32_t x = 0; x < columns; x++)
                dst[x] = w[0] * c[x];
            for (uint32_t i = 1; i <= r; i++) {
                const float *lo = c - i, *hi = c + i;
                float wi = w[i];
                for (uint32_t x = 0; x < columns; x++)
                    dst[x] += wi * (lo[x] + hi[x]);
            }
        }
        free(pad);
        return 0;
    }
    struct yvv c = yvv_coefficients(sigma);
    size_t tail = tail_len(sigma);
    float *buf = malloc(((size_t)columns + tail) * ROW_LANES * sizeof(float));
    if (!buf)
        return CA_ERR_OUT_OF_MEMORY;
    for (uint32_t y0 = 0; y0 < rows; y0 += ROW_LANES) {
        uint32_t lanes = rows - y0 < ROW_LANES ? rows - y0 : ROW_LANES;
        for (uint32_t k = 0; k < lanes; k++) {
            const float *src = in + (size_t)(y0 + k) * columns;
            for (uint32_t x = 0; x < columns; x++)
                buf[(size_t)x * ROW_LANES + k] = src[x];
        }
        for (uint32_t k = lanes; k < ROW_LANES; k++)
            for (uint32_t x = 0; x < columns; x++)
                buf[(size_t)x * ROW_LANES + k] = 0.0f;
        yvv_lanes(buf, columns, tail, ROW_LANES, c);
        for (uint32_t k = 0; k < lanes; k++) {
            float *dst = out + (size_t)(y0 + k) * columns;
            for (uint32_t x = 0; x < columns; x++)
                dst[x] = buf[(size_t)x * ROW_LANES + k];
        }
    }
    free(buf);
    return 0;
}

static int blur_columns(const float *in, float *out, uint32_t rows, uint32_t columns,
                        double sigma)
{
    if (sigma < CA_GAUSS_IIR_MIN_SIGMA_PX) {
        float w[SMALL_RADIUS_CAP + 1];
        uint32_t r = sampled_kernel(sigma, w, SMALL_RADIUS_CAP);
        const float *rowp[2 * SMALL_RADIUS_CAP + 1];
        if (in != out) {
            for (uint32_t y = 0; y < rows; y++) {
                for (int32_t d = -(int32_t)r; d <= (int32_t)r; d++) {
                    int64_t sy = (int64_t)y + d;
                    sy = sy < 0 ? 0 : (sy >= (int64_t)rows ? (int64_t)rows - 1 : sy);
                    rowp[d + r] = in + (size_t)sy * columns;
                }
                float *dst = out + (size_t)y * columns;
                const float *mid = rowp[r];
                for (uint32_t x = 0; x < columns; x++)
                    dst[x] = w[0] * mid[x];
                for (uint32_t i = 1; i <= r; i++) {
                    const float *lo = rowp[r - i], *hi = rowp[r + i];
                    float wi = w[i];
                    for (uint32_t x = 0; x < columns; x++)
                        dst[x] += wi * (lo[x] + hi[x]);
                }
            }
            return 0;
        }
        /* in place: a ring of the last 2r+1 input rows */
        size_t ring_rows = 2 * (size_t)r + 1;
        float *ring = malloc(ring_rows * columns * sizeof(float));
        if (!ring)
            return CA_ERR_OUT_OF_MEMORY;
        /* fill the ring with input rows -r..r (clamped), then slide */
        for (uint32_t i = 0; i < ring_rows; i++) {
            int64_t sy = (int64_t)i - r;
            if (sy < 0)
                sy = 0;
            if (sy >= (int64_t)rows)
                sy = rows - 1;
            memcpy(ring + (size_t)i * columns, in + (size_t)sy * columns,
                   (size_t)columns * sizeof(float));
        }
        for (uint32_t y = 0; y < rows; y++) {
            /* ring slot of input row y + d is (y + d + r) mod ring_rows */
            for (int32_t d = -(int32_t)r; d <= (int32_t)r; d++)
                rowp[d + r] = ring + (size_t)(((int64_t)y + d + r) % (int64_t)ring_rows) * columns;
            float *dst = out + (size_t)y * columns;
            {
                const float *mid = rowp[r];
                for (uint32_t x = 0; x < columns; x++)
                    dst[x] = w[0] * mid[x];
            }
            for (uint32_t i = 1; i <= r; i++) {
                const float *lo = rowp[r - i], *hi = rowp[r + i];
                float wi = w[i];
                for (uint32_t x = 0; x < columns; x++)
                    dst[x] += wi * (lo[x] + hi[x]);
            }
            /* input row y - r is no longer needed: load row y + r + 1 into its slot */
            int64_t ny = (int64_t)y + r + 1;
            if (ny >= (int64_t)rows)
                ny = rows - 1;
            memcpy(ring + (size_t)(((int64_t)y) % (int64_t)ring_rows) * columns,
                   in + (size_t)ny * columns, (size_t)columns * sizeof(float));
        }
        free(ring);
        return 0;
    }
    struct yvv c = yvv_coefficients(sigma);
    size_t tail = tail_len(sigma);
    float *buf = malloc(((size_t)rows + tail) * COL_LANES * sizeof(float));
    if (!buf)
        return CA_ERR_OUT_OF_MEMORY;
    for (uint32_t x0 = 0; x0 < columns; x0 += COL_LANES) {
        uint32_t lanes = columns - x0 < COL_LANES ? columns - x0 : COL_LANES;
        for (uint32_t y = 0; y < rows; y++)
            memcpy(buf + (size_t)y * lanes, in + (size_t)y * columns + x0,
                   lanes * sizeof(float));
        yvv_lanes(buf, rows, tail, lanes, c);
        for (uint32_t y = 0; y < rows; y++)
            memcpy(out + (size_t)y * columns + x0, buf + (size_t)y * lanes,
                   lanes * sizeof(float));
    }
    free(buf);
    return 0;
}

int ca_gauss_blur(const float *in, float *out, uint32_t rows, uint32_t columns,
                  double sigma_row_px, double sigma_col_px)
{
    if (!in || !out || rows == 0 || columns == 0 || !isfinite(sigma_row_px) ||
        !isfinite(sigma_col_px) || sigma_row_px < 0.0 || sigma_col_px < 0.0)
        return CA_ERR_INVALID_ARGUMENT;
    /* columns first: from a separate input the small-kernel pass reads it directly */
    const float *src = in;
    if (sigma_row_px > 0.0) {
        int rc = blur_columns(src, out, rows, columns, sigma_row_px);
        if (rc < 0)
            return rc;
        src = out;
    }
    if (sigma_col_px > 0.0) {
        int rc = blur_rows(src, out, rows, columns, sigma_col_px);
        if (rc < 0)
            return rc;
        src = out;
    }
    if (src != out)
        memmove(out, in, (size_t)rows * columns * sizeof(float));
    return 0;
}

int ca_dog(const float *in, float *out, float *scratch, uint32_t rows, uint32_t columns,
           double sigma_row_px, double sigma_col_px, double ratio)
{
    if (!scratch || !(ratio > 1.0))
        return CA_ERR_INVALID_ARGUMENT;
    int rc = ca_gauss_blur(in, out, rows, columns, sigma_row_px, sigma_col_px);
    if (rc < 0)
        return rc;
    rc = ca_gauss_blur(in, scratch, rows, columns, sigma_row_px * ratio,
                       sigma_col_px * ratio);
    if (rc < 0)
        return rc;
    size_t n = (size_t)rows * columns;
    for (size_t i = 0; i < n; i++)
        out[i] -= scratch[i];
    return 0;
}

void ca_hessian_at(const float *img, uint32_t rows, uint32_t columns, uint32_t x,
                   uint32_t y, double h[3])
{
    uint32_t xm = x ? x - 1 : 0, xp = x + 1 < columns ? x + 1 : x;
    uint32_t ym = y ? y - 1 : 0, yp = y + 1 < rows ? y + 1 : y;
    const float *r0 = img + (size_t)ym * columns, *r1 = img + (size_t)y * columns,
                *r2 = img + (size_t)yp * columns;
    double c = r1[x];
    h[0] = (double)r1[xp] - 2.0 * c + (double)r1[xm];
    h[1] = 0.25 * (((double)r2[xp] - (double)r2[xm]) - ((double)r0[xp] - (double)r0[xm]));
    h[2] = (double)r2[x] - 2.0 * c + (double)r0[x];
}

int ca_hessian(const float *in, float *blurred, float *hxx, float *hxy, float *hyy,
               uint32_t rows, uint32_t columns, double sigma_row_px, double sigma_col_px)
{
    if (!blurred || !hxx || !hxy || !hyy)
        return CA_ERR_INVALID_ARGUMENT;
    int rc = ca_gauss_blur(in, blurred, rows, columns, sigma_row_px, sigma_col_px);
    if (rc < 0)
        return rc;
    for (uint32_t y = 0; y < rows; y++)
        for (uint32_t x = 0; x < columns; x++) {
            double h[3];
            size_t i = (size_t)y * columns + x;
            ca_hessian_at(blurred, rows, columns, x, y, h);
            hxx[i] = (float)h[0];
            hxy[i] = (float)h[1];
            hyy[i] = (float)h[2];
        }
    return 0;
}
