/* node/http: the status page's image rendering: a stored grayscale image reduced to a
 * small 8-bit RGB picture (a display for finding the calcifications, not for diagnosis),
 * lines drawn on it, and PNG encoding (libpng). Pure; any thread; no global state. */
#ifndef CN_HTTP_RENDER_H
#define CN_HTTP_RENDER_H

#include <stddef.h>
#include <stdint.h>

/* Caps on what is rendered (a request names the height it wants). */
#define CN_RENDER_MIN_ROWS 16u
#define CN_RENDER_MAX_ROWS 2048u

struct cn_rgb_image {
    uint8_t *rgb; /* rows * columns * 3, row major; owned */
    uint32_t rows, columns;
};

struct cn_rgb {
    uint8_t r, g, b;
};

/* Reduces pixels[rows * columns] (unsigned stored values) to out_rows rows (the width in
 * proportion, at least 1) by averaging each output pixel's block of input pixels (no
 * aliasing of fine noise), then maps the 0.5th..99.5th percentiles of the image's values
 * to 0..255 (inverted when monochrome1: brighter is denser either way). out_rows above
 * rows renders at rows. Returns 0 and a new image in *out (free with cn_rgb_image_free),
 * or -1 for an empty input, out_rows outside [CN_RENDER_MIN_ROWS, CN_RENDER_MAX_ROWS] or
 * out of memory. */
int cn_render_gray(const uint16_t *pixels, uint32_t rows, uint32_t columns, int monochrome1,
                   uint32_t out_rows, struct cn_rgb_image *out);

void cn_rgb_image_free(struct cn_rgb_image *image);

/* Draws a line from (x0, y0) to (x1, y1) (column, row; any values: the parts outside the
 * image are clipped), thickness 1 or 2 pixels. */
void cn_render_line(struct cn_rgb_image *image, int x0, int y0, int x1, int y1, int thickness,
                    struct cn_rgb colour);

struct cn_point {
    double x, y;
};

/* The convex hull of points[count] (the analysis library's ca_hull, calc/kernels.h), into
 * hull (room for count points); collinear points are dropped. Returns the number of hull
 * points (count itself when count < 3; 0 when out of memory). points is not changed. */
size_t cn_render_hull(struct cn_point *points, size_t count, struct cn_point *hull);

/* Draws the closed polygon through points[count]. */
void cn_render_polygon(struct cn_rgb_image *image, const struct cn_point *points, size_t count,
                       int thickness, struct cn_rgb colour);

/* Encodes image as an 8-bit RGB PNG. Returns 0 and a new buffer (free with free()) in
 * *png, *png_len, or -1. */
int cn_render_png(const struct cn_rgb_image *image, uint8_t **png, size_t *png_len);

#endif
