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

/* Bins of a rank histogram over a value range (struct ca_rank_hist). */
#define CA_RANK_BINS 1024
/* Bins of a rank histogram on the unit grid: [k / CA_RANK_UNIT_SCALE, (k + 1) /
 * CA_RANK_UNIT_SCALE) for k < CA_RANK_UNIT_SCALE, and 1.0 itself (values clamped to
 * [0,1]). A multiple of 4096 bins per unit refines the pyradiomics bins of width
 * CA_FEATURES_BIN_WIDTH (25 / 4096, aligned at its multiples), so the entropy's
 * histogram is a sum of unit-grid counts. */
#define CA_RANK_UNIT_SCALE 4096
#define CA_RANK_UNIT_BINS (CA_RANK_UNIT_SCALE + 1)
/* Most values a rank histogram counts: a count keeps its top bit free for a mark. */
#define CA_RANK_MAX_VALUES ((size_t)INT32_MAX)

/*
 * The histogram ca_percentiles (calc/kernels.h) builds, for a caller that fills it in a
 * pass of its own: ca_rank_hist_init with the count (at most CA_RANK_MAX_VALUES) and
 * the smallest and largest value, or ca_rank_hist_init_unit, then ca_rank_hist_add (or
 * ca_rank_hist_add_unit) for every value, then ca_rank_hist_percentiles. Only bins
 * first..last are used and cleared. Lives on the caller's stack (about 16 KB); no
 * allocation.
 */
struct ca_rank_hist {
    double lo, scale;    /* range grid: bin of x is (x - lo) * scale, truncated, clamped */
    size_t first, last;  /* the bins in use */
    float min, max;
    int unit;            /* prepared by ca_rank_hist_init_unit */
    float first_f, last_f; /* first and last, on the unit grid */
    uint32_t count[CA_RANK_UNIT_BINS];
};

/* Prepares h for 0 < n <= CA_RANK_MAX_VALUES values between min and max (inclusive),
 * with at most CA_RANK_BINS bins spread over that range. */
void ca_rank_hist_init(struct ca_rank_hist *h, size_t n, float min, float max);

/* Prepares h for at most CA_RANK_MAX_VALUES values between min and max (inclusive) on
 * the unit grid (CA_RANK_UNIT_SCALE); values outside [0,1] count in the end bins. */
void ca_rank_hist_init_unit(struct ca_rank_hist *h, float min, float max);

/* Bin of x (between the min and the max h was prepared with) on a range grid
 * (ca_rank_hist_init): monotone in x (subtracting lo, multiplying by a positive scale
 * and truncating each preserve order); a NaN, excluded by the contract, lands in the
 * last bin rather than being converted. */
static inline size_t ca_rank_bin(const struct ca_rank_hist *h, float x)
{
    double d = ((double)x - h->lo) * h->scale;
    return d < (double)h->last ? (size_t)d : h->last;
}

/* Bin of x on the unit grid (ca_rank_hist_init_unit): x times the grid's power of two
 * is exact, clamped to the bins in use and truncated, so monotone; a NaN lands in the
 * first bin. */
static inline size_t ca_rank_unit_bin(const struct ca_rank_hist *h, float x)
{
    float d = x * (float)CA_RANK_UNIT_SCALE;
    d = d > h->first_f ? d : h->first_f;
    d = d < h->last_f ? d : h->last_f;
    return (size_t)d;
}

/* Counts x on a range grid. */
static inline void ca_rank_hist_add(struct ca_rank_hist *h, float x)
{
    h->count[ca_rank_bin(h, x)]++;
}

/* Counts x on the unit grid. */
static inline void ca_rank_hist_add_unit(struct ca_rank_hist *h, float x)
{
    h->count[ca_rank_unit_bin(h, x)]++;
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
