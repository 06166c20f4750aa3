#include "http/render.h"

#include <math.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

#include "calc/kernels.h"

/* The share of darkest and brightest pixel values clipped by the display window. */
#define CLIP_FRACTION 0.005
#define VALUE_COUNT 65536u

void cn_rgb_image_free(struct cn_rgb_image *image)
{
    free(image->rgb);
    image->rgb = NULL;
    image->rows = image->columns = 0;
}

/* The value at fraction of the histogram's mass (hist over 0..65535 of total values). */
static uint32_t percentile(const uint32_t *hist, uint64_t total, double fraction)
{
    uint64_t target = (uint64_t)(fraction * (double)total);
    uint64_t seen = 0;
    for (uint32_t v = 0; v < VALUE_COUNT; v++) {
        seen += hist[v];
        if (seen > target)
            return v;
    }
    return VALUE_COUNT - 1;
}

int cn_render_gray(const uint16_t *pixels, uint32_t rows, uint32_t columns, int monochrome1,
                   uint32_t out_rows, struct cn_rgb_image *out)
{
    *out = (struct cn_rgb_image){0};
    if (!pixels || rows == 0 || columns == 0 || out_rows < CN_RENDER_MIN_ROWS ||
        out_rows > CN_RENDER_MAX_ROWS)
        return -1;
    if (out_rows > rows)
        out_rows = rows;
    uint32_t out_columns = (uint32_t)(((uint64_t)columns * out_rows + rows / 2) / rows);
    if (out_columns == 0)
        out_columns = 1;
    uint32_t *hist = calloc(VALUE_COUNT, sizeof *hist);
    double *mean = malloc((size_t)out_rows * out_columns * sizeof *mean);
    uint8_t *rgb = malloc((size_t)out_rows * out_columns * 3);
    if (!hist || !mean || !rgb) {
        free(hist);
        free(mean);
        free(rgb);
        return -1;
    }
    /* each output pixel averages the input block [y0, y1) x [x0, x1) (at least one) */
    for (uint32_t oy = 0; oy < out_rows; oy++) {
        uint32_t y0 = (uint32_t)((uint64_t)oy * rows / out_rows);
        uint32_t y1 = (uint32_t)((uint64_t)(oy + 1) * rows / out_rows);
        if (y1 <= y0)
            y1 = y0 + 1;
        for (uint32_t ox = 0; ox < out_columns; ox++) {
            uint32_t x0 = (uint32_t)((uint64_t)ox * columns / out_columns);
            uint32_t x1 = (uint32_t)((uint64_t)(ox + 1) * columns / out_columns);
            if (x1 <= x0)
                x1 = x0 + 1;
            uint64_t sum = 0;
            for (uint32_t y = y0; y < y1; y++)
                for (uint32_t x = x0; x < x1; x++)
                    sum += pixels[(size_t)y * columns + x];
            double m = (double)sum / ((double)(y1 - y0) * (double)(x1 - x0));
            mean[(size_t)oy * out_columns + ox] = m;
            hist[(uint32_t)lround(m)]++;
        }
    }
    uint64_t total = (uint64_t)out_rows * out_columns;
    double lo = percentile(hist, total, CLIP_FRACTION);
    double hi = percentile(hist, total, 1.0 - CLIP_FRACTION);
    double span = hi > lo ? hi - lo : 1.0;
    for (size_t i = 0; i < total; i++) {
        double t = (mean[i] - lo) / span;
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        if (monochrome1)
            t = 1.0 - t;
        uint8_t v = (uint8_t)lround(t * 255.0);
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
    }
    free(hist);
    free(mean);
    *out = (struct cn_rgb_image){.rgb = rgb, .rows = out_rows, .columns = out_columns};
    return 0;
}

static void plot(struct cn_rgb_image *image, int x, int y, int thickness, struct cn_rgb c)
{
    for (int dy = 0; dy < thickness; dy++)
        for (int dx = 0; dx < thickness; dx++) {
            long px = (long)x + dx, py = (long)y + dy;
            if (px < 0 || py < 0 || px >= (long)image->columns || py >= (long)image->rows)
                continue;
            uint8_t *p = image->rgb + ((size_t)py * image->columns + (size_t)px) * 3;
            p[0] = c.r;
            p[1] = c.g;
            p[2] = c.b;
        }
}

/* Lines longer than this are not drawn (coordinates are ours, but bounded anyway). */
#define MAX_LINE_STEPS 100000L

void cn_render_line(struct cn_rgb_image *image, int x0, int y0, int x1, int y1, int thickness,
                    struct cn_rgb colour)
{
    if (thickness < 1)
        thickness = 1;
    if (thickness > 2)
        thickness = 2;
    /* Bresenham over all octants */
    long dx = labs((long)x1 - x0), dy = -labs((long)y1 - y0);
    if (dx > MAX_LINE_STEPS || -dy > MAX_LINE_STEPS)
        return;
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    long err = dx + dy;
    long x = x0, y = y0;
    for (;;) {
        plot(image, (int)x, (int)y, thickness, colour);
        if (x == x1 && y == y1)
            break;
        long e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y += sy;
        }
    }
}

size_t cn_render_hull(struct cn_point *points, size_t count, struct cn_point *hull)
{
    /* the analysis library's monotone chain, on a copy in its point type */
    struct ca_pt *p = malloc((count ? count : 1) * sizeof *p);
    if (!p)
        return 0;
    for (size_t i = 0; i < count; i++)
        p[i] = (struct ca_pt){points[i].x, points[i].y};
    size_t k = ca_hull(p, count);
    for (size_t i = 0; i < k; i++)
        hull[i] = (struct cn_point){p[i].x, p[i].y};
    free(p);
    return k;
}

void cn_render_polygon(struct cn_rgb_image *image, const struct cn_point *points, size_t count,
                       int thickness, struct cn_rgb colour)
{
    for (size_t i = 0; i < count; i++) {
        const struct cn_point *a = &points[i], *b = &points[(i + 1) % count];
        cn_render_line(image, (int)lround(a->x), (int)lround(a->y), (int)lround(b->x),
                       (int)lround(b->y), thickness, colour);
    }
}

int cn_render_png(const struct cn_rgb_image *image, uint8_t **png, size_t *png_len)
{
    *png = NULL;
    *png_len = 0;
    png_image pi;
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    pi.width = image->columns;
    pi.height = image->rows;
    pi.format = PNG_FORMAT_RGB;
    png_alloc_size_t len = 0;
    /* first call: the size needed (libpng 1.6 simplified API) */
    if (!png_image_write_to_memory(&pi, NULL, &len, 0, image->rgb, 0, NULL) || len == 0)
        return -1;
    uint8_t *buf = malloc(len);
    if (!buf)
        return -1;
    if (!png_image_write_to_memory(&pi, buf, &len, 0, image->rgb, 0, NULL)) {
        free(buf);
        return -1;
    }
    *png = buf;
    *png_len = len;
    return 0;
}
