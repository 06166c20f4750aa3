/* tools/phantom internals shared by the synthesis files; not a public interface.
 *
 * Everything is drawn in a canonical frame: chest wall at column 0, nipple toward +x.
 * generate.c mirrors the finished arrays for a right breast. Intensities are fractions
 * of full scale (0 air ... 1 maximum attenuation) until generate.c quantises them. */
#ifndef CN_PHANTOM_SCENE_H
#define CN_PHANTOM_SCENE_H

#include "phantom.h"
#include "rng.h"

#include <stddef.h>
#include <stdint.h>

/* Independent random streams, one per part of the phantom (rng.h). */
enum scene_stream {
    STREAM_GEOMETRY = 1,
    STREAM_TEXTURE,
    STREAM_STRANDS,
    STREAM_VESSELS,
    STREAM_CALCS,
    STREAM_NOISE,
};

#define SCENE_MAX_VESSELS 8
#define SCENE_MAX_VESSEL_POINTS 512

struct vessel {
    double x[SCENE_MAX_VESSEL_POINTS], y[SCENE_MAX_VESSEL_POINTS]; /* px, canonical */
    double radius_px[SCENE_MAX_VESSEL_POINTS];
    int point_count;
};

/* What the truth needs about a drawn calcification beyond its mask. */
struct calc_meta {
    enum cn_phantom_calc_kind kind;
    const char *morphology;
    double size_mm;
    double peak_contrast;
    int cluster_id;
};

struct cluster_meta {
    enum cn_phantom_calc_kind label;
    const char *distribution;
    double cx_px, cy_px; /* planned centre, canonical */
};

struct scene {
    struct cn_phantom_params p;
    uint32_t rows, cols;
    double mm_px;        /* pixel spacing, mm per pixel */
    double px_mm;        /* pixels per mm */
    /* Outline: |x / depth|^shape_p + ((y - yc) / half_h)^2 < 1, x >= 0. */
    double depth_px, half_h_px, yc_px, shape_p;
    double nipple_x, nipple_y;
    double falloff_px;   /* width of the band where compressed thickness falls to 0 */
    double skin_px;      /* skin line width */
    double pect_top_px, pect_side_px; /* MLO pectoral triangle legs; 0 for CC */
    double density;      /* 0..1 overall glandular density of this breast */
    double *col_axp, *col_gx; /* per column: |x / depth|^shape_p and its gradient term,
                                 filled by scene_geometry when allocated (speed only) */
    double beta;
    float *img;          /* rows * cols working intensities */
    float *aux;          /* rows * cols scratch: texture, then strands/vessels layer */
    uint16_t *mask;      /* rows * cols labels */
    uint8_t *breast;     /* rows * cols: 1 breast, 2 pectoral muscle, 0 air */
    struct vessel vessels[SCENE_MAX_VESSELS];
    int vessel_count;
    struct calc_meta *calcs; /* calc_count used, calc_cap allocated; index = label - 1 */
    size_t calc_count, calc_cap;
    struct cluster_meta *clusters;
    size_t cluster_count, cluster_cap;
};

/* anatomy.c */
/* Normalised outline radius (< 1 inside the outline) and the approximate distance in
 * pixels from (x, y) inward to the skin. */
void scene_outline(const struct scene *s, double x, double y, double *rho, double *skin_px);
/* Compressed thickness 0..1 at (x, y); 0 outside the breast. */
double scene_thickness(const struct scene *s, double x, double y);
/* The same from scene_outline's results. */
double scene_thickness_at(const struct scene *s, double rho, double skin_px);
/* 0..1 weight of the pectoral muscle at (x, y) (soft edge); 0 for CC. */
double scene_pectoral(const struct scene *s, double x, double y);
/* Glandular envelope 0..1: where dense tissue concentrates. */
double scene_envelope(const struct scene *s, double x, double y);
void scene_geometry(struct scene *s, struct cn_rng *rng);
/* Draws strands into s->aux (max-composited, 0..1). */
void scene_strands(struct scene *s, struct cn_rng *rng);
/* Draws vessels into s->aux (max-composited, tube profile scaled by contrast) and records
 * their centre lines in s->vessels. */
void scene_vessels(struct scene *s, struct cn_rng *rng);
/* Max-composites amp * profile(distance to segment) along segment a-b into layer.
 * Profile is a Gaussian of sigma half_width_px when gaussian != 0, else the projected
 * thickness of a tube of radius half_width_px. */
void scene_draw_segment(struct scene *s, float *layer, double ax, double ay, double bx,
                        double by, double half_width_px, double amp, int gaussian);

/* texture.c: zero-mean, unit-variance field with P(f) ~ 1/f^beta for scales between
 * min_scale_px and max_scale_px, into out (rows * cols). Returns 0 or -1 when out of
 * memory. */
int scene_texture(float *out, uint32_t rows, uint32_t cols, double beta, double min_scale_px,
                  double max_scale_px, struct cn_rng *rng);

/* calc.c: places the calcifications and clusters the kind asks for, drawing them into
 * s->img and s->mask. Returns 0 or -1 when out of memory. */
int scene_calcifications(struct scene *s, struct cn_rng *rng);

#endif
