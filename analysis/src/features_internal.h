/*
 * Internal interfaces of ca_features_compute (calc/features.h states the definitions).
 * Not installed; every function runs on the caller's thread and keeps no state.
 */
#ifndef CALC_FEATURES_INTERNAL_H
#define CALC_FEATURES_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "calc/analysis.h"
#include "calc/kernels.h"

/* Number of first-order statistics (calc/features.h CA_FIRST_ORDER order). */
#define CA_FIRST_ORDER_COUNT 9
/* Number of graph metrics (calc/features.h CA_TOPOLOGY order). */
#define CA_GRAPH_METRIC_COUNT 8

/* A point in the plane: x along a row (columns), y along a column (rows). */
/* The shape of one object, as scikit-image regionprops measures it (pixel units) plus
 * the minimum bounding rectangle in mm. hull_mm and border_xy are owned by the shape
 * (ca_shape_release). */
struct ca_shape {
    uint32_t area_px;
    uint32_t bbox_area_px;
    uint32_t convex_area_px;
    double row_px, col_px; /* centroid in image coordinates */
    double perimeter_px;
    double l1, l2; /* inertia tensor eigenvalues, l1 >= l2 >= 0 */
    double mbr_long_mm, mbr_short_mm, mbr_area_mm2;
    struct ca_pt *hull_mm; /* convex hull of the pixel corners, mm, image frame */
    size_t hull_count;
    uint32_t *border_xy; /* x, y pairs of the pixels with a 4-neighbour outside */
    size_t border_count;
};

/*
 * Measures the object given by mask (width * height bytes, nonzero = object, the
 * object's bounding box, origin x0, y0 in the image). spacing_mm as struct ca_image.
 * Errors: CA_ERR_INVALID_ARGUMENT (empty mask), CA_ERR_OUT_OF_MEMORY; on error nothing
 * is left allocated.
 */
int ca_shape_measure(const uint8_t *mask, uint32_t width, uint32_t height, uint32_t x0, uint32_t y0,
                     const double spacing_mm[2], struct ca_shape *out);

/* Frees what *shape owns; safe on a zeroed shape. */
void ca_shape_release(struct ca_shape *shape);

/* Area of a simple polygon (shoelace), >= 0. */
double ca_polygon_area(const struct ca_pt *p, size_t n);

/* pyradiomics first-order statistics of v[0..n-1] (reorders v) into out (calc/features.h
 * order); all zero when n is 0. */
void ca_first_order(float *v, size_t n, double out[CA_FIRST_ORDER_COUNT]);

/* Bins of a rank histogram (struct ca_rank_hist). */
#define CA_RANK_BINS 1024

/*
 * The histogram ca_percentiles (calc/kernels.h) builds, for a caller that fills it in a
 * pass of its own: ca_rank_hist_init with the count and the smallest and largest value,
 * ca_rank_hist_add for every value, then ca_rank_hist_percentiles. Lives on the caller's
 * stack (about 8 KB); no allocation.
 */
struct ca_rank_hist {
    double lo, scale; /* bin of x: (x - lo) * scale, truncated, at most bins - 1 */
    size_t bins;
    float min, max;
    size_t count[CA_RANK_BINS];
};

/* Prepares h for n > 0 values between min and max (inclusive). */
void ca_rank_hist_init(struct ca_rank_hist *h, size_t n, float min, float max);

/* Bin of x: monotone in x (subtracting lo, multiplying by a positive scale and
 * truncating each preserve order); a NaN, excluded by the contract, lands in the last
 * bin rather than being converted. */
static inline size_t ca_rank_bin(const struct ca_rank_hist *h, float x)
{
    double d = ((double)x - h->lo) * h->scale;
    return d < (double)h->bins ? (size_t)d : h->bins - 1;
}

static inline void ca_rank_hist_add(struct ca_rank_hist *h, float x)
{
    h->count[ca_rank_bin(h, x)]++;
}

/* The percentiles q[0..count-1] (count <= CA_PERCENTILE_MAX_COUNT, each in [0,100]) of
 * v[0..n-1], every value of which was added to h once, into out (ca_percentiles'
 * definition). Reorders v; leaves h's counts changed. */
void ca_rank_hist_percentiles(struct ca_rank_hist *h, float *v, size_t n, const double *q,
                              size_t count, double *out);

/* The tissue around a set of calcification pixels. */
struct ca_ring {
    double density_8;  /* mean of the CA_FEATURES_DENSITY_8_MM ring */
    double density_32; /* mean of the CA_FEATURES_DENSITY_32_MM ring (when asked) */
    double stats[CA_FIRST_ORDER_COUNT]; /* of the CA_FEATURES_RING_MM ring */
};

/* Columns first..last of a row. */
struct ca_span {
    int64_t first, last;
};

/* Buffers ca_ring_measure keeps from one call to the next, so that a result's hundreds
 * of rings allocate once. Zero it before the first call; ca_ring_scratch_release frees
 * what it owns. One scratch serves one thread. */
struct ca_ring_scratch {
    uint8_t *map;           /* ring level of each window pixel; all 0 between calls */
    float *ring;            /* the intensities of the CA_FEATURES_RING_MM ring */
    size_t capacity;        /* pixels of map and ring */
    int64_t *half;          /* half widths of a disc's rows */
    struct ca_span *span;   /* the marked columns of each window row */
    size_t *row_start;      /* first run of each row of a member's bbox, and the end */
    size_t row_capacity;    /* entries of half, span and row_start */
    struct ca_span *runs;   /* a member's runs of pixels along its rows */
    struct ca_span *pieces; /* a window row's intervals from the runs in reach */
    size_t run_capacity;    /* entries of runs and pieces */
};

/* Frees what *scratch owns and zeroes it; safe on a zeroed scratch. */
void ca_ring_scratch_release(struct ca_ring_scratch *scratch);

/*
 * Measures the rings around the calcifications members[0..count-1] (indices into the
 * result), whose pixels all lie in the image box x0, y0, x1, y1 (inclusive) and number
 * their area_px each (as ca_features_compute checks). with_32 nonzero: also density_32.
 * scratch: buffers reused across calls (grown as needed). Errors: CA_ERR_OUT_OF_MEMORY.
 */
int ca_ring_measure(const struct ca_result *r, const double spacing_mm[2], const uint32_t *members,
                    size_t count, const uint32_t box[4], int with_32,
                    struct ca_ring_scratch *scratch, struct ca_ring *out);

/* An undirected link between nodes a and b (a != b) of a graph. */
struct ca_edge {
    uint32_t a, b;
};

/*
 * Graph metrics of the undirected graph with n nodes and the given links (each pair at
 * most once) into out (calc/features.h CA_TOPOLOGY order). n 0 gives all zero. Time
 * O(n (n + links)) for the eccentricities, memory O(n + links). Errors:
 * CA_ERR_OUT_OF_MEMORY.
 */
int ca_graph_metrics(size_t n, const struct ca_edge *edges, size_t edge_count,
                     double out[CA_GRAPH_METRIC_COUNT]);

#endif
