/*
 * Shape of one object as scikit-image 0.19 regionprops measures it (area, centroid,
 * inertia tensor, 4-connectivity perimeter, convex hull image) and its minimum-area
 * bounding rectangle (rotating calipers over the hull of the pixel corners).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "features_internal.h"

/* skimage.measure.perimeter: a border pixel's code is 1 + 2 * (4-neighbours on the
 * border) + 10 * (diagonal neighbours on the border); the weights of the codes. */
#define PERIMETER_CODES 50
#define PERIMETER_SIDE_WEIGHT 2
#define PERIMETER_DIAGONAL_WEIGHT 10

static double perimeter_weight(unsigned code)
{
    switch (code) {
    case 5:
    case 7:
    case 15:
    case 17:
    case 25:
    case 27:
        return 1.0;
    case 21:
    case 33:
        return sqrt(2.0);
    case 13:
    case 23:
        return (1.0 + sqrt(2.0)) / 2.0;
    default:
        return 0.0;
    }
}

static double cross(struct ca_pt o, struct ca_pt a, struct ca_pt b)
{
    return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/* Lexicographic order by x, then y (the monotone chain's order). */
static int before(struct ca_pt a, struct ca_pt b)
{
    return a.x < b.x || (a.x == b.x && a.y < b.y);
}

/* Runs sorted by insertion before the merges: short enough that insertion is cheap. */
#define SORT_RUN 16

/* Sorts p[0..n-1] by before(), using tmp (n points): insertion sort of short runs, then
 * bottom-up merges between p and tmp. A comparison inline instead of qsort's call per
 * comparison; equal points are identical, so the order among them does not matter. */
static void sort_points(struct ca_pt *p, struct ca_pt *tmp, size_t n)
{
    for (size_t lo = 0; lo < n; lo += SORT_RUN) {
        size_t hi = lo + SORT_RUN < n ? lo + SORT_RUN : n;
        for (size_t i = lo + 1; i < hi; i++) {
            struct ca_pt t = p[i];
            size_t j = i;
            for (; j > lo && before(t, p[j - 1]); j--)
                p[j] = p[j - 1];
            p[j] = t;
        }
    }
    struct ca_pt *src = p, *dst = tmp;
    for (size_t width = SORT_RUN; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = before(src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        struct ca_pt *t = src;
        src = dst, dst = t;
    }
    if (src != p)
        memcpy(p, src, n * sizeof(*p));
}

size_t ca_hull(struct ca_pt *p, size_t n)
{
    if (n < 3)
        return n;
    struct ca_pt *h = malloc(2 * n * sizeof(*h));
    if (!h)
        return 0;
    sort_points(p, h, n);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        while (k >= 2 && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k++] = p[i];
    }
    for (size_t i = n - 1, lower = k + 1; i-- > 0;) {
        while (k >= lower && cross(h[k - 2], h[k - 1], p[i]) <= 0)
            k--;
        h[k++] = p[i];
    }
    k--; /* the last point repeats the first */
    for (size_t i = 0; i < k; i++)
        p[i] = h[i];
    free(h);
    return k;
}

double ca_polygon_area(const struct ca_pt *p, size_t n)
{
    double twice = 0.0;
    for (size_t i = 0; i < n; i++) {
        const struct ca_pt *a = &p[i], *b = &p[(i + 1) % n];
        twice += a->x * b->y - b->x * a->y;
    }
    return fabs(twice) / 2.0;
}

/* Object pixels that are first or last of their row or column: their hull is the hull
 * of all object pixels (skimage's possible_hull). Returns the count written to xy. */
static size_t extreme_pixels(const uint8_t *m, uint32_t w, uint32_t h, uint32_t *xy)
{
    size_t n = 0;
    for (uint32_t y = 0; y < h; y++) {
        uint32_t first = w, last = 0;
        for (uint32_t x = 0; x < w; x++)
            if (m[(size_t)y * w + x]) {
                first = first < x ? first : x;
                last = x;
            }
        if (first == w)
            continue;
        xy[2 * n] = first, xy[2 * n + 1] = y, n++;
        if (last != first)
            xy[2 * n] = last, xy[2 * n + 1] = y, n++;
    }
    for (uint32_t x = 0; x < w; x++) {
        uint32_t first = h, last = 0;
        for (uint32_t y = 0; y < h; y++)
            if (m[(size_t)y * w + x]) {
                first = first < y ? first : y;
                last = y;
            }
        if (first == h)
            continue;
        xy[2 * n] = x, xy[2 * n + 1] = first, n++;
        if (last != first)
            xy[2 * n] = x, xy[2 * n + 1] = last, n++;
    }
    return n;
}

/* Pixel (x, y) of the crop inside or on the hull p (doubled coordinates, k vertices). */
static int in_hull(const struct ca_pt *p, size_t k, uint32_t x, uint32_t y)
{
    struct ca_pt c = {2.0 * x, 2.0 * y};
    for (size_t e = 0; e < k; e++)
        if (cross(p[e], p[(e + 1) % k], c) < 0)
            return 0;
    return 1;
}

/*
 * skimage convex_hull_image: the hull of the pixels' edge midpoints (offset_coordinates),
 * then every pixel centre inside it or on it (grid_points_in_poly counts edge and vertex
 * points as inside). Coordinates doubled so that every test is exact.
 */
static int convex_area(const uint32_t *xy, size_t n, uint32_t w, uint32_t h, uint32_t *area)
{
    struct ca_pt *p = malloc(4 * n * sizeof(*p));
    if (!p)
        return CA_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++) {
        double x = 2.0 * xy[2 * i], y = 2.0 * xy[2 * i + 1];
        p[4 * i] = (struct ca_pt){x - 1.0, y};
        p[4 * i + 1] = (struct ca_pt){x + 1.0, y};
        p[4 * i + 2] = (struct ca_pt){x, y - 1.0};
        p[4 * i + 3] = (struct ca_pt){x, y + 1.0};
    }
    size_t k = ca_hull(p, 4 * n);
    if (k == 0) {
        free(p);
        return CA_ERR_OUT_OF_MEMORY;
    }
    /* the hull is convex: the pixels of a row inside it are contiguous */
    uint32_t count = 0;
    for (uint32_t y = 0; y < h; y++) {
        uint32_t xl = 0, xr = w - 1;
        while (xl < w && !in_hull(p, k, xl, y))
            xl++;
        if (xl == w)
            continue;
        while (xr > xl && !in_hull(p, k, xr, y))
            xr--;
        count += xr - xl + 1;
    }
    free(p);
    *area = count;
    return 0;
}

/* Minimum-area rectangle around the pixel squares: one side lies on a hull edge. The
 * hull (mm, image frame) is kept in out->hull_mm. */
static int min_rectangle(const uint32_t *xy, size_t n, uint32_t x0, uint32_t y0, const double sp[2],
                         struct ca_shape *out)
{
    struct ca_pt *p = malloc(4 * n * sizeof(*p));
    if (!p)
        return CA_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n; i++)
        for (uint32_t c = 0; c < 4; c++)
            p[4 * i + c] = (struct ca_pt){(double)(x0 + xy[2 * i] + (c & 1)) * sp[1],
                                          (double)(y0 + xy[2 * i + 1] + (c >> 1)) * sp[0]};
    size_t k = ca_hull(p, 4 * n);
    if (k == 0) {
        free(p);
        return CA_ERR_OUT_OF_MEMORY;
    }
    double best = INFINITY, best_u = 0.0, best_v = 0.0;
    for (size_t e = 0; e < k; e++) {
        struct ca_pt a = p[e], b = p[(e + 1) % k];
        double len = hypot(b.x - a.x, b.y - a.y);
        double ux = (b.x - a.x) / len, uy = (b.y - a.y) / len;
        double umin = INFINITY, umax = -INFINITY, vmin = INFINITY, vmax = -INFINITY;
        for (size_t i = 0; i < k; i++) {
            double u = p[i].x * ux + p[i].y * uy, v = -p[i].x * uy + p[i].y * ux;
            umin = fmin(umin, u), umax = fmax(umax, u);
            vmin = fmin(vmin, v), vmax = fmax(vmax, v);
        }
        double area = (umax - umin) * (vmax - vmin);
        if (area < best) {
            best = area;
            best_u = umax - umin;
            best_v = vmax - vmin;
        }
    }
    out->mbr_long_mm = fmax(best_u, best_v);
    out->mbr_short_mm = fmin(best_u, best_v);
    out->mbr_area_mm2 = best;
    out->hull_mm = p;
    out->hull_count = k;
    return 0;
}

/* Border pixels (skimage: the object minus its erosion by the 4-cross, zero outside)
 * and the weighted perimeter. */
static int perimeter(const uint8_t *m, uint32_t w, uint32_t h, uint32_t x0, uint32_t y0,
                     struct ca_shape *out)
{
    uint8_t *border = calloc((size_t)w * h, 1);
    out->border_xy = malloc(2 * (size_t)out->area_px * sizeof(uint32_t));
    if (!border || !out->border_xy) {
        free(border);
        return CA_ERR_OUT_OF_MEMORY;
    }
    size_t nb = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            if (!m[i])
                continue;
            int inner = x > 0 && x + 1 < w && y > 0 && y + 1 < h && m[i - 1] && m[i + 1] &&
                        m[i - w] && m[i + w];
            if (inner)
                continue;
            border[i] = 1;
            out->border_xy[2 * nb] = x0 + x;
            out->border_xy[2 * nb + 1] = y0 + y;
            nb++;
        }
    out->border_count = nb;
    double total = 0.0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            if (!border[(size_t)y * w + x])
                continue;
            unsigned code = 1;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    int64_t xx = (int64_t)x + dx, yy = (int64_t)y + dy;
                    if ((dx == 0 && dy == 0) || xx < 0 || yy < 0 || xx >= w || yy >= h)
                        continue;
                    if (border[(size_t)yy * w + (size_t)xx])
                        code += dx && dy ? PERIMETER_DIAGONAL_WEIGHT : PERIMETER_SIDE_WEIGHT;
                }
            if (code < PERIMETER_CODES)
                total += perimeter_weight(code);
        }
    free(border);
    out->perimeter_px = total;
    return 0;
}

/* Central second moments of the pixel centres and the eigenvalues of skimage's inertia
 * tensor [[mu02, -mu11], [-mu11, mu20]] / mu00 (rows first, as numpy indexes). */
static void inertia(const uint8_t *m, uint32_t w, uint32_t h, uint32_t x0, uint32_t y0,
                    struct ca_shape *out)
{
    double sr = 0.0, sc = 0.0;
    uint32_t n = 0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if (m[(size_t)y * w + x]) {
                sr += y;
                sc += x;
                n++;
            }
    double cr = sr / n, cc = sc / n;
    double mu20 = 0.0, mu02 = 0.0, mu11 = 0.0;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            if (m[(size_t)y * w + x]) {
                double dr = y - cr, dc = x - cc;
                mu20 += dr * dr;
                mu02 += dc * dc;
                mu11 += dr * dc;
            }
    double a = mu02 / n, c = mu20 / n, b = -mu11 / n;
    double mean = (a + c) / 2.0, d = sqrt((a - c) * (a - c) / 4.0 + b * b);
    out->l1 = fmax(mean + d, 0.0);
    out->l2 = fmax(mean - d, 0.0);
    out->area_px = n;
    out->row_px = y0 + cr;
    out->col_px = x0 + cc;
}

int ca_shape_measure(const uint8_t *mask, uint32_t width, uint32_t height, uint32_t x0, uint32_t y0,
                     const double spacing_mm[2], struct ca_shape *out)
{
    *out = (struct ca_shape){0};
    size_t pixels = (size_t)width * height, n = 0;
    for (size_t i = 0; i < pixels; i++)
        n += mask[i] != 0;
    if (n == 0)
        return CA_ERR_INVALID_ARGUMENT;
    inertia(mask, width, height, x0, y0, out);
    out->bbox_area_px = (uint32_t)pixels;
    uint32_t *xy = malloc(4 * ((size_t)width + height) * sizeof(uint32_t));
    if (!xy)
        return CA_ERR_OUT_OF_MEMORY;
    size_t ne = extreme_pixels(mask, width, height, xy);
    int rc = perimeter(mask, width, height, x0, y0, out);
    if (rc == 0)
        rc = convex_area(xy, ne, width, height, &out->convex_area_px);
    if (rc == 0)
        rc = min_rectangle(xy, ne, x0, y0, spacing_mm, out);
    free(xy);
    if (rc != 0)
        ca_shape_release(out);
    return rc;
}

void ca_shape_release(struct ca_shape *shape)
{
    free(shape->hull_mm);
    free(shape->border_xy);
    shape->hull_mm = NULL;
    shape->border_xy = NULL;
    shape->hull_count = 0;
    shape->border_count = 0;
}
