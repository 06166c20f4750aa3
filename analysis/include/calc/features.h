/*
 * calc/features.h: features of calcifications and clusters, for the risk model and the
 * report (DESIGN.md section 7, step 6).
 *
 * Two named, ordered vectors of doubles: one per calcification, one per cluster. The
 * feature order is the order of the X-macro lists below; ca_calc_feature_name() and
 * ca_cluster_feature_name() return the static names, so a model file can check that its
 * feature order is ours. Append only: a new feature goes at the end of its list.
 *
 * Sources and definitions:
 *   - Tong et al., Front. Oncol. 2024 (counts, densities, size bins, shape bins);
 *   - Marathe et al. (area spread, centroid correlation, pairwise distance, regionprops
 *     aggregated per cluster, first-order statistics of the calcifications and of the
 *     surrounding tissue);
 *   - Chen et al., IEEE TBME 2014 (topology of the calcification graph at four scales).
 * Per-object shape follows scikit-image 0.19 regionprops exactly (pixel units, then
 * scaled to mm):
 *   - area: pixel count; extent: area / bounding-box area;
 *   - perimeter: skimage.measure.perimeter with 4-connectivity: border pixels (object
 *     pixels with a 4-neighbour outside) weighted by the pattern of their neighbours
 *     (1, sqrt 2 or (1 + sqrt 2) / 2); one- and two-pixel objects have perimeter 0;
 *   - major / minor axis: 4 sqrt of the eigenvalues of the inertia tensor of the pixel
 *     centres (negative rounding clipped to 0); eccentricity sqrt(1 - l2 / l1), 0 when
 *     l1 is 0 (one pixel);
 *   - solidity: area / convex area, the convex area being the pixels whose centres lie
 *     inside or on the convex hull of the pixels' edge midpoints (convex_hull_image).
 * Lengths in pixels are converted to mm with the geometric mean of the two spacings and
 * areas with their product (exact for square pixels).
 * Tong shape features:
 *   - roundness 4 pi area / perimeter^2 (pixel units); 0 when the perimeter is 0;
 *   - the minimum-area bounding rectangle of the pixels as unit squares (the convex hull
 *     of the pixel corners, in mm, rotating calipers): mbr_long_mm, mbr_short_mm,
 *     rectangularity = area_mm2 / rectangle area, length_ratio = long / short side.
 * Intensities are the normalised [0,1] image of the result (bright = dense).
 *   - first-order statistics follow pyradiomics: mean; std (population, ddof 0);
 *     skewness m3 / m2^1.5 and kurtosis m4 / m2^2 (not excess), both 0 when m2 is 0;
 *     min; max; 10th and 90th percentiles with linear interpolation (numpy); entropy
 *     -sum p log2(p + eps), eps = DBL_EPSILON, over bins of fixed width
 *     CA_FEATURES_BIN_WIDTH aligned at multiples of the width (pyradiomics binWidth 25
 *     on a 12-bit scale, i.e. 25 / 4096 of the normalised range);
 *   - the ring of radius r around a set of calcification pixels: pixels at a distance
 *     of more than 0 and at most r mm (pixel centres, Euclidean, in mm) from the set that
 *     belong to the breast mask and to no calcification;
 *   - density_8 and density_32: mean intensity of the ring of 0.8 mm and 3.2 mm (Tong's
 *     8 and 32 pixels at 0.1 mm); the ring statistics use CA_FEATURES_RING_MM (2.5 mm,
 *     Marathe's 25 pixels at 0.1 mm). An empty ring gives 0 for every statistic;
 *   - per calcification, calc_* describe its own pixels and the rings are around it;
 *     per cluster, calc_* describe the union of the members' pixels and the rings are
 *     around that union; the cluster's density is the mean of the members' calc_mean;
 *   - values outside [0,1] are clamped for the entropy bins only.
 * Size bins (Tong's 10 and 30 pixels at 0.1 mm): size_lt10 counts area_mm2 < 0.1,
 * size_10_30 0.1 <= area_mm2 <= 0.3, size_gt30 area_mm2 > 0.3 (compared at a relative
 * 1e-9 so that 10 pixels of 0.1 mm are 0.1 mm2).
 * Shape bins: a member is low when value < edge 1, medium when edge 1 <= value < edge 2,
 * high otherwise; the edges are the fixed CA_FEATURES_*_EDGE constants below, compared
 * at a relative 1e-9 (a value equal to an edge is in the upper bin).
 * Topology: at each scale s of CA_FEATURES_TOPOLOGY_SCALES_MM the cluster's members are
 * the nodes of a graph; two members are linked when their discs of radius s around every
 * pixel touch, i.e. when the smallest distance between a pixel centre of one and a pixel
 * centre of the other is at most 2 s mm. Per scale: subgraphs (connected components),
 * mean and max degree, mean eccentricity (largest hop distance to a node of the same
 * component; 0 for an isolated node), diameter (largest eccentricity), mean clustering
 * coefficient (2 T / (k (k - 1)) per node of degree k with T links among its
 * neighbours, 0 when k < 2, averaged over all nodes, as networkx average_clustering),
 * giant ratio (largest component / nodes), isolated fraction (degree 0 / nodes).
 * Marathe's centroid correlation is Pearson's between the members' centroid x and y in
 * mm and the mean pairwise distance is between centroids, in mm; aggregates (_mean,
 * _std, _max) use the population standard deviation.
 * Cluster values that need two or more members (standard deviations, the centroid
 * correlation, the mean pairwise distance) are 0 for a one-member cluster; the
 * correlation is also 0 when the x or the y centroids do not vary. A cluster without
 * members has zeros apart from its image context. No feature is ever NaN.
 *
 * Threads: reentrant, no global state; one call runs on the calling thread only.
 */
#ifndef CALC_FEATURES_H
#define CALC_FEATURES_H

#include <stddef.h>

#include "calc/analysis.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Tong's neighbourhoods and Marathe's ring, in mm (8, 32 and 25 pixels at 0.1 mm). */
#define CA_FEATURES_DENSITY_8_MM 0.8
#define CA_FEATURES_DENSITY_32_MM 3.2
#define CA_FEATURES_RING_MM 2.5
/* Tong's size bins, 10 and 30 pixels of 0.1 mm, in mm2. */
#define CA_FEATURES_SIZE_SMALL_MM2 0.1
#define CA_FEATURES_SIZE_LARGE_MM2 0.3
/* Entropy bin width on the normalised [0,1] scale: pyradiomics' 25 on 12 bits. */
#define CA_FEATURES_BIN_LEVELS 25
#define CA_FEATURES_BIN_SCALE_LEVELS 4096
#define CA_FEATURES_BIN_WIDTH ((double)CA_FEATURES_BIN_LEVELS / CA_FEATURES_BIN_SCALE_LEVELS)
/* Fixed tertile edges of the shape bins (low < EDGE1 <= medium < EDGE2 <= high). */
#define CA_FEATURES_DENSITY_EDGE1 (1.0 / 3.0)
#define CA_FEATURES_DENSITY_EDGE2 (2.0 / 3.0)
#define CA_FEATURES_PERIMETER_EDGE1_MM 0.8
#define CA_FEATURES_PERIMETER_EDGE2_MM 1.6
#define CA_FEATURES_ROUNDNESS_EDGE1 0.7
#define CA_FEATURES_ROUNDNESS_EDGE2 1.0
#define CA_FEATURES_MBR_LONG_EDGE1_MM 0.3
#define CA_FEATURES_MBR_LONG_EDGE2_MM 0.6
#define CA_FEATURES_RECTANGULARITY_EDGE1 0.7
#define CA_FEATURES_RECTANGULARITY_EDGE2 0.85
#define CA_FEATURES_LENGTH_RATIO_EDGE1 1.5
#define CA_FEATURES_LENGTH_RATIO_EDGE2 2.5
/* Topology scales, in mm; the names below spell them 05, 1, 2, 4. */
#define CA_FEATURES_TOPOLOGY_SCALE_COUNT 4
#define CA_FEATURES_TOPOLOGY_SCALES_MM                                                             \
    {                                                                                              \
        0.5, 1.0, 2.0, 4.0                                                                         \
    }

/* First-order statistics, in this order, for a prefix P ("calc_", "ring_"). */
#define CA_FIRST_ORDER(X, E, P)                                                                    \
    X(E##_MEAN, P "mean")                                                                          \
    X(E##_STD, P "std")                                                                            \
    X(E##_SKEWNESS, P "skewness")                                                                  \
    X(E##_KURTOSIS, P "kurtosis")                                                                  \
    X(E##_MIN, P "min")                                                                            \
    X(E##_MAX, P "max")                                                                            \
    X(E##_P10, P "p10")                                                                            \
    X(E##_P90, P "p90")                                                                            \
    X(E##_ENTROPY, P "entropy")

/* The per-calcification vector. */
#define CA_CALC_FEATURES(X)                                                                        \
    X(AREA_MM2, "area_mm2")                                                                        \
    X(PERIMETER_MM, "perimeter_mm")                                                                \
    X(MAJOR_AXIS_MM, "major_axis_mm")                                                              \
    X(MINOR_AXIS_MM, "minor_axis_mm")                                                              \
    X(ECCENTRICITY, "eccentricity")                                                                \
    X(SOLIDITY, "solidity")                                                                        \
    X(EXTENT, "extent")                                                                            \
    X(ROUNDNESS, "roundness")                                                                      \
    X(MBR_LONG_MM, "mbr_long_mm")                                                                  \
    X(MBR_SHORT_MM, "mbr_short_mm")                                                                \
    X(RECTANGULARITY, "rectangularity")                                                            \
    X(LENGTH_RATIO, "length_ratio")                                                                \
    X(DENSITY_8, "density_8")                                                                      \
    CA_FIRST_ORDER(X, CALC, "calc_")                                                               \
    CA_FIRST_ORDER(X, RING, "ring_")

/* Mean, std and max over a cluster's members of a calcification feature. */
#define CA_AGGREGATE(X, E, P) X(E##_MEAN, P "_mean") X(E##_STD, P "_std") X(E##_MAX, P "_max")
/* Low, medium and high counts of a shape bin. */
#define CA_BINS(X, E, P) X(E##_LOW, P "_low") X(E##_MEDIUM, P "_medium") X(E##_HIGH, P "_high")
/* The graph metrics at one topology scale. */
#define CA_TOPOLOGY(X, E, P)                                                                       \
    X(E##_SUBGRAPHS, P "_subgraphs")                                                               \
    X(E##_MEAN_DEGREE, P "_mean_degree")                                                           \
    X(E##_MAX_DEGREE, P "_max_degree")                                                             \
    X(E##_MEAN_ECCENTRICITY, P "_mean_eccentricity")                                               \
    X(E##_DIAMETER, P "_diameter")                                                                 \
    X(E##_MEAN_CLUSTERING, P "_mean_clustering")                                                   \
    X(E##_GIANT_RATIO, P "_giant_ratio")                                                           \
    X(E##_ISOLATED_FRACTION, P "_isolated_fraction")

/*
 * The per-cluster vector. calc_area_mm2 is the summed member area, hull_area_mm2 the
 * area of the convex hull of the members' pixels (as unit squares); density is the
 * mean over members of their mean intensity; image_* describe the whole image: its
 * number of clusters and the member count and hull area of its largest cluster (most
 * members, then largest hull area, then lowest index).
 */
#define CA_CLUSTER_FEATURES(X)                                                                     \
    X(CALC_NUM, "calc_num")                                                                        \
    X(DENSITY, "density")                                                                          \
    X(DENSITY_8, "density_8")                                                                      \
    X(DENSITY_32, "density_32")                                                                    \
    X(SIZE_LT10, "size_lt10")                                                                      \
    X(SIZE_10_30, "size_10_30")                                                                    \
    X(SIZE_GT30, "size_gt30")                                                                      \
    X(CALC_AREA_MM2, "calc_area_mm2")                                                              \
    X(HULL_AREA_MM2, "hull_area_mm2")                                                              \
    X(IMAGE_CLUSTER_COUNT, "image_cluster_count")                                                  \
    X(IMAGE_LARGEST_CALC_NUM, "image_largest_calc_num")                                            \
    X(IMAGE_LARGEST_AREA_MM2, "image_largest_area_mm2")                                            \
    CA_BINS(X, DENSITY_BIN, "density")                                                             \
    CA_BINS(X, PERIMETER_BIN, "perimeter")                                                         \
    CA_BINS(X, ROUNDNESS_BIN, "roundness")                                                         \
    CA_BINS(X, MBR_LONG_BIN, "mbr_long")                                                           \
    CA_BINS(X, RECTANGULARITY_BIN, "rectangularity")                                               \
    CA_BINS(X, LENGTH_RATIO_BIN, "length_ratio")                                                   \
    CA_AGGREGATE(X, AREA, "area_mm2")                                                              \
    CA_AGGREGATE(X, PERIMETER, "perimeter_mm")                                                     \
    CA_AGGREGATE(X, MAJOR_AXIS, "major_axis_mm")                                                   \
    CA_AGGREGATE(X, MINOR_AXIS, "minor_axis_mm")                                                   \
    CA_AGGREGATE(X, ECCENTRICITY, "eccentricity")                                                  \
    CA_AGGREGATE(X, SOLIDITY, "solidity")                                                          \
    CA_AGGREGATE(X, EXTENT, "extent")                                                              \
    X(CENTROID_XY_CORRELATION, "centroid_xy_correlation")                                          \
    X(MEAN_PAIRWISE_DISTANCE_MM, "mean_pairwise_distance_mm")                                      \
    CA_FIRST_ORDER(X, CALC, "calc_")                                                               \
    CA_FIRST_ORDER(X, RING, "ring_")                                                               \
    CA_TOPOLOGY(X, TOPO_05MM, "topo_05mm")                                                         \
    CA_TOPOLOGY(X, TOPO_1MM, "topo_1mm")                                                           \
    CA_TOPOLOGY(X, TOPO_2MM, "topo_2mm")                                                           \
    CA_TOPOLOGY(X, TOPO_4MM, "topo_4mm")

#define CA_FEATURE_ENUM_CALC(e, name) CA_CF_##e,
#define CA_FEATURE_ENUM_CLUSTER(e, name) CA_KF_##e,
/* Indices into a calcification's vector: CA_CF_AREA_MM2, ..., CA_CF_RING_ENTROPY. */
enum ca_calc_feature { CA_CALC_FEATURES(CA_FEATURE_ENUM_CALC) CA_CALC_FEATURE_COUNT };
/* Indices into a cluster's vector: CA_KF_CALC_NUM, ..., CA_KF_TOPO_4MM_ISOLATED_FRACTION. */
enum ca_cluster_feature { CA_CLUSTER_FEATURES(CA_FEATURE_ENUM_CLUSTER) CA_CLUSTER_FEATURE_COUNT };

/* Returns the static name of calcification feature i ("area_mm2", ...), or NULL when i
 * is not below CA_CALC_FEATURE_COUNT. */
const char *ca_calc_feature_name(size_t i);
/* Returns the static name of cluster feature i ("calc_num", ...), or NULL when i is not
 * below CA_CLUSTER_FEATURE_COUNT. */
const char *ca_cluster_feature_name(size_t i);

/* The features of one result. Every pointer is owned by the struct (ca_features_free). */
struct ca_features {
    size_t calcification_count; /* equals the result's calcification_count */
    double *calcification;      /* calcification_count * CA_CALC_FEATURE_COUNT, row i for
                                   the calcification of id i + 1 */
    size_t cluster_count;       /* equals the result's cluster_count */
    double *cluster;            /* cluster_count * CA_CLUSTER_FEATURE_COUNT, row k for
                                   result cluster k */
};

/*
 * Computes the features of a result of ca_analyze (or of a result built by the caller
 * with the same invariants: labels, normalized and breast_mask of rows * columns; the
 * pixels of calcification i labelled i + 1 and all inside its bbox, area_px of them;
 * cluster members valid, ascending and distinct indices). spacing_mm is the analysed
 * image's pixel spacing (row spacing, column spacing, as struct ca_image). Borrows
 * result and spacing_mm for the call. On success returns 0 and fills *out (free with
 * ca_features_free); on failure returns a negative enum ca_error and leaves *out
 * zeroed: CA_ERR_INVALID_ARGUMENT (NULL pointers, missing images, a calcification whose
 * pixels disagree with its bbox and area, a bad member index), CA_ERR_BAD_SPACING,
 * CA_ERR_OUT_OF_MEMORY. A result without calcifications gives empty vectors.
 */
int ca_features_compute(const struct ca_result *result, const double spacing_mm[2],
                        struct ca_features *out);

/* Frees everything *features owns and zeroes it; safe on a zeroed struct and on NULL. */
void ca_features_free(struct ca_features *features);

#ifdef __cplusplus
}
#endif

#endif
