/*
 * calc/kernels.h: the image kernels of the analysis engine, exported for tests and
 * reuse (features, the evaluator).
 *
 * Conventions: images are row major, rows x columns, float in [0,1] unless stated;
 * pixels outside the image are the nearest edge pixel (replicated border). Every
 * function returns 0 on success or a negative enum ca_error (calc/analysis.h); none
 * keeps a pointer after it returns; all are reentrant (no global state).
 */
#ifndef CALC_KERNELS_H
#define CALC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Below this sigma (pixels) ca_gauss_blur convolves with the sampled, normalised kernel
 * of radius ceil(3 sigma); from it on it uses the recursive filter. */
#define CA_GAUSS_IIR_MIN_SIGMA_PX 2.0

/*
 * Gaussian blur with standard deviation sigma_row_px along columns (between rows) and
 * sigma_col_px along rows. From CA_GAUSS_IIR_MIN_SIGMA_PX on, the third-order recursive
 * filter of Young and van Vliet (Signal Processing 44, 1995) runs forward and backward:
 * the cost does not depend on sigma. Against a direct convolution with the sampled
 * kernel the maximum absolute error on [0,1] images is below 0.02 (white noise with a unit
 * step, tests/analysis); below CA_GAUSS_IIR_MIN_SIGMA_PX it is below 5e-4 (truncation at 3 sigma).
 * in and out may be the same buffer. sigma 0 on an axis leaves that axis unchanged.
 * Errors: CA_ERR_INVALID_ARGUMENT (NULL, empty, negative or non-finite sigma),
 * CA_ERR_OUT_OF_MEMORY.
 */
int ca_gauss_blur(const float *in, float *out, uint32_t rows, uint32_t columns,
                  double sigma_row_px, double sigma_col_px);

/*
 * Difference of Gaussians: out = G(sigma) * in - G(ratio * sigma) * in, positive on
 * bright blobs of scale about sigma. scratch is a caller buffer of rows * columns floats
 * (borrowed); in, out and scratch must not overlap. ratio must be > 1.
 */
int ca_dog(const float *in, float *out, float *scratch, uint32_t rows, uint32_t columns,
           double sigma_row_px, double sigma_col_px, double ratio);

/*
 * Hessian of the Gaussian-blurred image by central finite differences on the blurred
 * image: hxx = d2/dx2 (along a row), hyy = d2/dy2, hxy = d2/dxdy, per pixel. blurred is
 * a caller buffer of rows * columns floats that receives G(sigma) * in. The four output
 * buffers must not overlap in.
 */
int ca_hessian(const float *in, float *blurred, float *hxx, float *hxy, float *hyy,
               uint32_t rows, uint32_t columns, double sigma_row_px, double sigma_col_px);

/*
 * The Hessian of img at one interior or border pixel (x column, y row), central finite
 * differences with replicated border. Fills h[0] = hxx, h[1] = hxy, h[2] = hyy.
 */
void ca_hessian_at(const float *img, uint32_t rows, uint32_t columns, uint32_t x,
                   uint32_t y, double h[3]);

/*
 * Connected components of the nonzero pixels of mask, 8-connectivity. labels (rows *
 * columns, caller buffer) receives 0 for background and 1..*count otherwise, components
 * numbered in raster order of their first pixel. Errors: CA_ERR_INVALID_ARGUMENT,
 * CA_ERR_OUT_OF_MEMORY.
 */
int ca_label(const uint8_t *mask, uint32_t *labels, uint32_t rows, uint32_t columns,
             uint32_t *count);

/*
 * Binary dilation (any nonzero in the window gives 1) and erosion (all nonzero gives 1;
 * pixels outside the image count as nonzero) by a box of k_rows x k_cols pixels. The
 * window of pixel (x, y) covers columns x - k_cols/2 .. x + (k_cols - 1 - k_cols/2),
 * rows likewise (the anchor of an even box is right of / below its centre). in and out
 * may be the same buffer. k_rows and k_cols must be >= 1.
 */
int ca_dilate_box(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                  uint32_t k_rows, uint32_t k_cols);
int ca_erode_box(const uint8_t *in, uint8_t *out, uint32_t rows, uint32_t columns,
                 uint32_t k_rows, uint32_t k_cols);

/*
 * Sets to 1 every zero pixel of mask not connected (4-connectivity) to the image border:
 * fills the holes of an 8-connected foreground.
 */
int ca_fill_holes(uint8_t *mask, uint32_t rows, uint32_t columns);

/*
 * Otsu's threshold (IEEE SMC 9, 1979) of a histogram: returns the bin t that maximises
 * the between-class variance of bins 0..t versus t+1..bin_count-1 (the first such bin on
 * ties); foreground is bin > t. Returns -1 when fewer than two bins are occupied.
 */
int ca_otsu_threshold(const uint32_t *histogram, uint32_t bin_count);

/* A point in the plane (pixel or mm coordinates, x across, y down or up). */
struct ca_pt {
    double x, y;
};

/*
 * Convex hull of p[0..n-1] by the monotone chain (Andrew 1979): reorders p, leaves the
 * vertices counter-clockwise (in a y-up frame) in p[0..k-1] without collinear points and
 * returns k (n when n < 3; 0 when out of memory). Exact for coordinates that are small
 * integers or half-integers. Any thread.
 */
size_t ca_hull(struct ca_pt *p, size_t n);

/* Most percentiles one ca_percentiles call computes. */
#define CA_PERCENTILE_MAX_COUNT 4

/*
 * Percentiles of v[0..n-1] (finite values; reorders v) at q[0..count-1] percent, as
 * numpy.percentile's linear method: with i = q / 100 (n - 1), lo = floor(i) and the
 * order statistics s (s[0] smallest), s[lo] + (s[lo + 1] - s[lo]) (i - lo), or s[lo]
 * when i is whole or lo is the last index. The order statistics are the very values a
 * sort would give, so the results are bit-identical to that formula on a sorted copy.
 * One histogram pass over v (at most 1024 bins between the smallest and the largest
 * value) locates the bins holding the wanted order statistics, a second pass moves those
 * bins' values to the front of v, and a selection among them alone gives each
 * statistic: time O(n), about 16 KB of stack, no allocation. Any thread.
 * Errors: CA_ERR_INVALID_ARGUMENT (NULL, n 0 or above 2^31 - 1, count 0 or above
 * CA_PERCENTILE_MAX_COUNT, a q outside [0,100]).
 */
int ca_percentiles(float *v, size_t n, const double *q, size_t count, double *out);

/* A calcification as seen by the clustering rules. */
struct ca_point {
    double x_mm, y_mm;   /* centroid */
    uint32_t tong_group; /* component of the calcification mask dilated by the Tong
                            kernel (ca_tong_groups); equal values are connected */
};

/* The two cluster rules. */
struct ca_cluster_rule {
    uint32_t tong_min_count;   /* a Tong group of at least this many is a cluster (6) */
    double birads_radius_mm;   /* radius of the 1 cm2 circle: sqrt(100 / pi) mm */
    uint32_t birads_min_count; /* 3 */
};

/*
 * Groups points into clusters. Definitions:
 *   - Tong: a Tong group (equal tong_group) with >= tong_min_count members qualifies.
 *   - BI-RADS: a point is a core point when the circle of birads_radius_mm centred on it
 *     holds >= birads_min_count points (itself included, distance <= radius); it is
 *     linked to every point in that circle (density-based clustering, as DBSCAN).
 *   - Points are linked when they share a Tong group or by a BI-RADS link; a connected
 *     set of linked points is a cluster when it contains a qualifying Tong group or a
 *     core point.
 * cluster_of (count entries) receives the cluster index or -1; clusters are numbered in
 * the order of their lowest point index; *cluster_count their number. rule_tong and
 * rule_birads (count entries each, may be NULL) receive per cluster whether each rule
 * holds. Errors: CA_ERR_INVALID_ARGUMENT, CA_ERR_OUT_OF_MEMORY.
 */
int ca_cluster_points(const struct ca_point *points, size_t count,
                      const struct ca_cluster_rule *rule, int32_t *cluster_of,
                      size_t *cluster_count, uint8_t *rule_tong, uint8_t *rule_birads);

/*
 * Tong groups of a label image (0 background, else 1..label_count): the nonzero pixels
 * are dilated by a k_rows x k_cols box (ca_dilate_box) and labelled (ca_label);
 * group_of[id - 1] receives the dilated component of calcification id. group_of has
 * label_count entries.
 */
int ca_tong_groups(const uint32_t *labels, uint32_t rows, uint32_t columns,
                   uint32_t label_count, uint32_t k_rows, uint32_t k_cols,
                   uint32_t *group_of);

#ifdef __cplusplus
}
#endif

#endif
