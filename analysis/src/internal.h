/*
 * Internal interfaces between the stages of ca_analyze. Not installed; every function
 * here runs on the caller's thread and keeps no state between calls.
 */
#ifndef CALC_INTERNAL_H
#define CALC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "calc/analysis.h"

/* A rectangle of the image: columns x0..x0+width-1, rows y0..y0+height-1. */
struct rect {
    uint32_t x0, y0, width, height;
};

/* Writes a printf-style message into msg (CA_MESSAGE_LEN bytes) and returns code. */
int ca_fail(char *msg, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Checks params against their documented ranges; 0 or CA_ERR_INVALID_ARGUMENT. */
int ca_params_check(const struct ca_params *params, char *msg);

/* Stage 1: stored values to [0,1] (bright = dense); valid[i] = 0 for padding. */
/* Errors: CA_ERR_OUT_OF_MEMORY. */
int ca_normalize(const struct ca_image *image, float *out, uint8_t *valid);

/*
 * Stage 2: the breast mask at full resolution (1 = analyse) and its area. Errors:
 * CA_ERR_NO_BREAST, CA_ERR_OUT_OF_MEMORY (message written to msg).
 */
int ca_breast_mask(const float *img, const uint8_t *valid, uint32_t rows,
                   uint32_t columns, const double spacing_mm[2],
                   const struct ca_params *params, uint8_t *mask, double *area_mm2,
                   char *msg);

/* A DoG peak that passed the contrast and Hessian tests, in crop coordinates. */
/* Hessian shape of a candidate (see ca_find_candidates). */
#define CA_SHAPE_BLOB 1
#define CA_SHAPE_RIDGE 2

struct ca_candidate {
    uint32_t x, y;
    uint32_t scale;
    float contrast; /* DoG peak / noise */
    float noise;    /* the local noise estimate of the DoG at this scale */
    uint8_t shape;  /* CA_SHAPE_BLOB or CA_SHAPE_RIDGE */
    uint8_t strong; /* at or above contrast_min (scaled): kept without the second stage */
};

struct ca_candidates {
    struct ca_candidate *items;
    size_t count, capacity;
    uint32_t dropped;
    double noise_sigma; /* median block noise of the finest scale */
};

/*
 * Stage 3 on a crop (contiguous rows x columns): fills *found (free items with free)
 * and leaves the band-passes for region growing (rows * columns floats, caller buffers):
 * G(sigma_0) * img - G(dog_ratio * sigma_last) * img in fine and
 * G(sigma_0) * img - G(grow_narrow_outer_sigma_mm) * img in narrow (see
 * grow_narrow_sigma_max_mm). narrow may be img itself: img is read no more by then.
 * mask is the crop of the breast mask. Errors: CA_ERR_OUT_OF_MEMORY.
 */
/* The ladder step whose outer Gaussian is grow_narrow_outer_sigma_mm (sigmas_mm[s + 1],
 * or dog_ratio * the last sigma for the last step), or -1 when there is none. */
int ca_narrow_outer_step(const struct ca_params *p);

/* How much more contrast a candidate needs at scale s than at the finest: coarser scales
 * answer more to parenchyma than to calcifications, so every contrast threshold rises as
 * (sigma_s / sigma_0)^contrast_scale_exponent. */
double ca_contrast_factor(const struct ca_params *p, uint32_t s);

int ca_find_candidates(const float *img, const uint8_t *mask, uint32_t rows,
                       uint32_t columns, const double spacing_mm[2],
                       const struct ca_params *params, float *fine, float *narrow,
                       struct ca_candidates *found, char *msg);

/*
 * Stage 4: region growing from the candidates on fine or narrow (the crop's band-pass
 * images of ca_find_candidates; narrow by the candidate's scale, see
 * grow_narrow_sigma_max_mm). Writes ids into labels (full image, stride full_columns,
 * crop origin crop.x0/y0) and appends the accepted calcifications to *out
 * (calcifications, calcification_count). norm is the full normalised image (for
 * intensities). Sorts found->items.
 */
int ca_grow(const float *fine, const float *narrow, const float *norm, struct rect crop,
            uint32_t full_columns,
            const double spacing_mm[2], const struct ca_params *params,
            struct ca_candidates *found, uint32_t *labels, struct ca_result *out);

/* Stage 4's vessel tests (vessel.c): the largest, over the directions tried, of the
 * lowest 0.3 mm running mean of band on the ray from 0.1 to 1.5 mm past the region's reach
 * in that direction, over the region's mean band. The directions: both ways along the
 * major axis when linear, else 16 evenly spread; a ray leaving band is not counted.
 * region: n indices into band (rows of width, height rows); sp: row and column spacing in
 * mm. Returns 0 for an empty region, one whose mean band is not positive, or one with
 * no ray inside band. */
double ca_vessel_continuation(const float *band, uint32_t width, uint32_t height,
                              const uint32_t *region, size_t n, const double sp[2], int linear);

/* Stage 5: clusters of the calcifications of out whose second-stage score is at least
 * cluster_score_min (labels: full image); the others get cluster -1. */
int ca_make_clusters(const uint32_t *labels, const double spacing_mm[2],
                     const struct ca_params *params, struct ca_result *out);

/* The candidates of a crop bucketed by square cells of the counting radius. */
struct ca_candidate_grid {
    uint32_t cell_r, cell_c, nr, nc; /* cell size in pixels; cells per column, per row */
    uint32_t *start;                 /* nr * nc + 1: first point of each cell */
    uint32_t *points;                /* x, y (crop pixels) of each candidate, by cell */
    size_t count;                    /* candidates bucketed */
};

/* Buckets found->items (crop of rows x columns pixels) for counts within radius_mm: all
 * of them when contrast_min_by_scale is NULL, else those below contrast_min (not strong)
 * whose contrast is at least contrast_min_by_scale[scale]. Free with
 * ca_candidate_grid_free (also after an error).
 * Errors: CA_ERR_OUT_OF_MEMORY. */
int ca_candidate_grid_build(const struct ca_candidates *found, uint32_t rows,
                            uint32_t columns, const double spacing_mm[2], double radius_mm,
                            const float *contrast_min_by_scale,
                            struct ca_candidate_grid *grid);

/* Candidates within radius_mm (the grid's radius or less) of (x_px, y_px), crop pixels. */
uint32_t ca_candidate_grid_count(const struct ca_candidate_grid *grid, double x_px,
                                 double y_px, const double spacing_mm[2], double radius_mm);

void ca_candidate_grid_free(struct ca_candidate_grid *grid);

/* The region features the second stage scores (ca_second_stage_score). */
struct ca_second_stage_features {
    double contrast;           /* candidate DoG contrast, noise units */
    uint32_t scale;            /* index of the detection scale */
    int linear;                /* flagged linear (ridge at detection or elongated) */
    double area_mm2;           /* region area */
    double elongation;         /* >= 1; a one-pixel line counts as its length */
    double excess_snr;         /* summed band-pass excess / noise */
    double peak_snr;           /* band-pass peak excess / noise */
    uint32_t strong_neighbours; /* calcifications >= contrast_min within the radius */
    uint32_t candidate_neighbours;        /* candidates within candidate_radius_mm */
    double candidate_neighbours_expected; /* the image's candidates per breast area
                                             times the disc's area */
    uint32_t bright_neighbours;         /* the same for candidates below contrast_min */
    double bright_neighbours_expected;  /* at or above second_stage_bright_contrast */
};

/* Log odds that the region is a calcification: a logistic model on the features and
 * their pairwise products, fitted by tools/fit-second-stage on the tuning phantoms
 * (seeds 1-200). Pure; any thread. */
double ca_second_stage_score(const struct ca_second_stage_features *f);

/* Selection of the k-th smallest of v[0..n-1] (reorders v); n > 0, k < n. */
float ca_select(float *v, size_t n, size_t k);

#endif
