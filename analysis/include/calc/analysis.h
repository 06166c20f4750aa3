/*
 * calc/analysis.h: the calcification analysis engine.
 *
 * A pure C library: 16-bit pixels in, findings out. No DICOM, network or database
 * knowledge; the caller decodes the image and fills struct ca_image. Every size is
 * given in millimetres and converted to pixels with the image's pixel spacing.
 *
 * Pipeline (DESIGN.md section 7):
 *   1. normalise to [0,1] (MONOCHROME1 inverted, For Processing log-transformed and
 *      inverted so calcifications are bright, padding excluded);
 *   2. breast mask on a downsampled copy (Otsu, largest component, hole fill, saturated
 *      labels / markers / metal excluded, skin margin eroded);
 *   3. candidates: multi-scale difference of Gaussians with a Hessian shape test (HDoG),
 *      thresholded against a robust local noise estimate (MAD in blocks);
 *   4. calcification masks by region growing on a band-pass image, rejecting macro and
 *      faint objects and flagging line-like ones;
 *   5. clusters by the Tong rule and the BI-RADS rule.
 *
 * Threads: every function is reentrant; there is no global state. One call to
 * ca_analyze runs on the calling thread only. Results are deterministic: the same
 * input and parameters give bit-identical output on the same build.
 *
 * Memory: ca_analyze allocates its working buffers itself and frees them before it
 * returns; the result owns its arrays until ca_result_free.
 */
#ifndef CALC_ANALYSIS_H
#define CALC_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CA_VERSION_STRING "0.1.0"

/* Largest number of DoG scales a parameter set may carry. */
#define CA_MAX_SCALES 8
/* Largest image accepted, in pixels per side; bigger images are CA_ERR_IMAGE_TOO_LARGE. */
#define CA_MAX_DIMENSION_PX 32768u
/* Size of the error message buffer in struct ca_result. */
#define CA_MESSAGE_LEN 256

/* Error codes: 0 is success, every error is negative. Append only. */
enum ca_error {
    CA_OK = 0,
    CA_ERR_INVALID_ARGUMENT = -1, /* a NULL pointer or a parameter out of its range */
    CA_ERR_IMAGE_TOO_SMALL = -2,  /* fewer than 2 rows or 2 columns */
    CA_ERR_IMAGE_TOO_LARGE = -3,  /* a side above CA_MAX_DIMENSION_PX */
    CA_ERR_BAD_SPACING = -4,      /* a pixel spacing <= 0, NaN or infinite */
    CA_ERR_BAD_BITS_STORED = -5,  /* bits stored outside 1..16 */
    CA_ERR_NO_BREAST = -6,        /* no breast region of at least min_breast_area_mm2 */
    CA_ERR_OUT_OF_MEMORY = -7,
};

/* Returns a static, lower-case description of an enum ca_error value ("unknown error"
 * for anything else). Never NULL. */
const char *ca_strerror(int code);

/* The image to analyse. Every pointer is borrowed for the duration of the call. */
struct ca_image {
    const uint16_t *pixels; /* rows * columns stored values, row major, unsigned */
    uint32_t rows;
    uint32_t columns;
    uint32_t bits_stored; /* 1..16; values above 2^bits_stored - 1 are clamped */
    int monochrome1;      /* nonzero: low values are bright (inverted before use) */
    int for_processing;   /* nonzero: raw detector data, linear in exposure (PS3.3
                             Pixel Intensity Relationship LIN, sign +1): log-transformed
                             and inverted, monochrome1 is then ignored */
    double spacing_mm[2]; /* row spacing, column spacing (PS3.3 Pixel Spacing order) */
    int has_padding;      /* nonzero: pixels equal to padding_value are not image */
    uint16_t padding_value;
};

/*
 * Every threshold of the pipeline, named, in millimetres or dimensionless. Fill with
 * ca_params_default() and change single fields; ca_analyze rejects values out of range
 * with CA_ERR_INVALID_ARGUMENT.
 */
struct ca_params {
    /* breast mask */
    double mask_spacing_mm;     /* 0.5: working pixel size of the mask stage */
    double min_breast_area_mm2; /* 100: smaller breast regions are CA_ERR_NO_BREAST */
    double saturation_level;    /* 0.98: normalised values at or above are labels,
                                   markers or metal and are excluded */
    double saturation_margin_mm; /* 1.0: exclusion margin around saturated regions */
    double skin_margin_mm;       /* 1.5: the mask is eroded by this much */

    /* candidates (HDoG) */
    uint32_t scale_count;              /* 4 */
    double sigmas_mm[CA_MAX_SCALES];   /* 0.08, 0.13, 0.21, 0.34 */
    double dog_ratio;                  /* 1.6: scale i responds with G(sigma_i) -
                                          G(sigma_i+1), the last with G(sigma) -
                                          G(ratio * sigma): a Gaussian ladder */
    double noise_block_mm;             /* 4.0: side of the blocks of the noise estimate */
    double contrast_min;               /* 5.5: DoG peak / local noise sigma to keep at
                                          the finest scale */
    double contrast_scale_exponent;    /* 0.6: scale i keeps contrast_min *
                                          (sigma_i / sigma_0)^exponent */
    double blob_eigen_ratio_min;       /* 0.25: |lambda_small| / |lambda_large| of the
                                          Hessian; below is a ridge (line-like) */
    uint32_t max_candidates;           /* 200000: named cap on candidates per image */

    /* calcification masks */
    double grow_fraction;        /* 0.2: grow over pixels above bg + fraction*(peak-bg) */
    double grow_fraction_max;    /* 0.75: second try for a region that is too large at
                                    grow_fraction (a calcification on a vessel) */
    double grow_linear_fraction; /* 0.5: grow_fraction of a line: a ridge candidate
                                    at or above contrast_min grows at it, and such a
                                    candidate's region found linear at grow_fraction
                                    is grown again at it (the tissue
                                    along a vessel stays out of a vascular one) */
    double grow_snr_min;         /* 12: the growing level is at least bg + grow_snr_min *
                                    the image's finest-scale noise (ca_result.noise_sigma) */
    double background_scales;    /* 3.0: background ring radius in units of the scale */
    double grow_narrow_sigma_max_mm; /* 0.13: a candidate at or above contrast_min
                                    found at this sigma or finer grows on the narrow
                                    band-pass G(sigma_0) - G(grow_narrow_outer_sigma_mm),
                                    which also removes a vessel under a vascular or
                                    linear calcification; the others on the wide one,
                                    G(sigma_0) - G(dog_ratio * sigma_last), which keeps
                                    the inside of a larger calcification. 0: every
                                    candidate grows on the wide one */
    double grow_narrow_outer_sigma_mm; /* 0.21: the narrow band-pass's outer sigma,
                                    above sigmas_mm[0]; free when it is one of the
                                    last two of the ladder, else one more blur */
    double macro_diameter_mm;    /* 2.5: larger objects are macro and rejected (vascular
                                    and rim calcifications reach 2 mm) */
    double min_area_mm2;         /* 0.01: smaller objects are rejected, unless the
                                    second stage judges them (below contrast_min: a
                                    faint calcification may show as its peak pixel
                                    only, and the second stage weighs its area) */
    double elongation_max;       /* 3.0: major/minor axis ratio above is flagged linear */
    double segmentation_area_min_mm2; /* 0.03: a calcification outside every cluster and
                                    smaller than this is listed but not painted in the
                                    segmentation (in_segmentation): on the tuning phantoms
                                    (seeds 201-400) 2 of the 689 such specks at or above
                                    contrast_min touched a calcification (1,132 pixels, 3
                                    of them on one) */
    double vessel_end_sigma_min_mm; /* 0.13: a region at or above contrast_min found at
                                    this sigma or coarser (where the rounded end of a
                                    vessel 0.5 mm wide or more answers; the thin lines of
                                    calcium mostly answer at the finest) is the end of a
                                    vessel when the band-pass past it (past one end of a
                                    line; in one of 16 directions from another region)
                                    stays at vessel_end_continuation_min of the region's
                                    mean or more for 1.5 mm, without a gap */
    double vessel_end_continuation_min; /* 0.5 (see vessel_end_sigma_min_mm); 0: no such
                                    test */
    double vessel_fine_continuation_min; /* 0.6: a region at or above contrast_min found
                                    finer than vessel_end_sigma_min_mm is a noise peak
                                    grown along a thin vessel when the narrow band-pass
                                    (grow_narrow_outer_sigma_mm) past it stays at this
                                    fraction of the region's mean or more (measured as
                                    for vessel_end_sigma_min_mm); a calcification on a
                                    vessel stands far above the vessel there. 0: no such
                                    test */

    /* clusters */
    double cluster_kernel_mm;    /* 1.6: Tong et al. 16x16 px kernel at 0.1 mm */
    uint32_t tong_min_count;     /* 6: "more than 5" calcifications */
    double birads_area_mm2;      /* 100: the 1 cm2 of BI-RADS */
    uint32_t birads_min_count;   /* 3 */
    uint32_t suspicious_min_count;         /* 6: members a suspicious cluster needs
                                              unless the Tong rule holds */
    double suspicious_linear_fraction_max; /* 0.75: a cluster with a larger fraction
                                              of linear members (among those at or
                                              above contrast_min) is vascular, never
                                              suspicious */
    uint32_t suspicious_strong_min;        /* 5: confident members (at or above
                                              contrast_min, or confident_score_min) a
                                              suspicious cluster needs */
    uint32_t small_group_strong_min;       /* 3: confident members that make a cluster
                                              below the suspicious rule a small group
                                              (ca_cluster.small_group); 0: none is */
    double confident_score_min;            /* 0.5: second-stage score from which a
                                              member below contrast_min counts as
                                              confident: in dense, noisier tissue every
                                              member of a malignant cluster can lie below
                                              contrast_min; INFINITY: none does */
    uint32_t strong_member_min;            /* 2: members at or above contrast_min that a
                                              suspicious cluster or small group needs
                                              however many confident faint ones it has:
                                              on the noisier 0.2 mm mini-MIAS normals,
                                              groups of faint detections with at most one
                                              strong member would be reported */

    /* second stage (DESIGN.md 7.4): a candidate weaker than contrast_min but at least
       second_stage_contrast_min (scaled per scale like contrast_min) is grown and kept
       when the logistic score of its region's features (analysis/src/second_stage.c) is
       at least second_stage_threshold */
    double second_stage_contrast_min;  /* 2.0; equal to contrast_min: no second stage */
    double second_stage_threshold;     /* -2.3: logistic score (log odds) to keep; about
                                          0.3 false positives per cm2 on the tuning
                                          phantoms (seeds 1-200) */
    double second_stage_radius_mm;     /* 5.0: radius within which the calcifications at
                                          or above contrast_min count as neighbours */
    double second_stage_grow_snr_min;  /* 40: grow_snr_min of a candidate below
                                          contrast_min: a faint region keeps only its
                                          significant core (its peak pixel and the few
                                          beside it), so a false one marks few pixels */
    double second_stage_candidate_radius_mm; /* 2.5: radius of the candidate count
                                                against its expected value (noise peaks
                                                are spread evenly, a cluster's faint
                                                members are not) */
    double second_stage_bright_contrast; /* 3.5: contrast (noise units, scaled with the
                                            detection scale as contrast_min is) from
                                            which a candidate below contrast_min counts
                                            as a bright neighbour: a cluster whose
                                            members all lie below contrast_min (dense,
                                            noisier tissue) is a local excess of these,
                                            which the count of all candidates does not
                                            show */
    double cluster_score_min;          /* 0.0: second-stage score a calcification needs
                                          to take part in clusters (those at or above
                                          contrast_min always do); the fainter ones kept
                                          for the calcification figures stay single */
};

/* Fills *params with the documented defaults. */
void ca_params_default(struct ca_params *params);

/* One calcification; its id equals its index in ca_result.calcifications plus one and
 * the value of its pixels in ca_result.labels. */
struct ca_calcification {
    uint32_t id;
    double x_px, y_px;     /* centroid: column, row (pixel centres at integers) */
    uint32_t area_px;
    double area_mm2;
    uint32_t bbox[4];      /* x0, y0, x1, y1, inclusive */
    double diameter_mm;    /* largest bounding-box side, in mm */
    double elongation;     /* major / minor axis of the second moments, >= 1 */
    double scale_mm;       /* sigma of the DoG scale that detected it */
    double contrast;       /* peak DoG response in local noise units */
    double mean_intensity; /* mean normalised [0,1] value over its pixels */
    double peak_intensity; /* largest normalised value over its pixels */
    int32_t cluster;       /* index into ca_result.clusters, or -1 */
    int linear;            /* nonzero: line-like (a ridge in the Hessian at detection or
                              elongation above elongation_max): vascular or linear */
    double peak_snr;       /* band-pass peak above the region's background, in units of
                              the local noise of its detection scale */
    double excess_snr;     /* band-pass excess over the background summed over the
                              region, in the same noise units (an integrated signal) */
    uint32_t strong_neighbours; /* calcifications at or above contrast_min within
                                   second_stage_radius_mm, itself excluded (set for
                                   second-stage detections only, else 0) */
    uint32_t candidate_neighbours; /* candidates (any contrast) within
                                      second_stage_candidate_radius_mm, itself
                                      excluded (second-stage detections only, else 0) */
    double candidate_neighbours_expected; /* the count a uniform spread of the image's
                                             candidates over its breast would give */
    uint32_t bright_neighbours; /* candidates below contrast_min but at or above
                                   second_stage_bright_contrast within
                                   second_stage_candidate_radius_mm, itself excluded
                                   (second-stage detections only, else 0) */
    double bright_neighbours_expected; /* the same for a uniform spread of the image's
                                          bright candidates */
    double second_stage_score;  /* log odds of the second stage; INFINITY for a
                                   candidate at or above contrast_min */
    int in_segmentation;   /* nonzero: painted in the segmentation (ca_segmentation_label):
                              every cluster member, and alone a calcification at or above
                              contrast_min of segmentation_area_min_mm2 or more (alone,
                              most faint spots and most specks of a few pixels are
                              noise, and a faint one's outline is only its core) */
};

/* One cluster: a set of calcifications for which the Tong rule, the BI-RADS rule or both
 * hold (see ca_cluster_points in calc/kernels.h for the exact definition). */
struct ca_cluster {
    double x_px, y_px;  /* mean of the member centroids: column, row */
    uint32_t bbox[4];   /* x0, y0, x1, y1 inclusive, union of the members' boxes */
    uint32_t count;     /* number of members */
    double area_mm2;    /* summed area of the members */
    int rule_tong;      /* nonzero: contains more than 5 calcifications connected after
                           dilation by the cluster kernel (Tong et al.) */
    int rule_birads;    /* nonzero: contains at least 3 calcifications within 1 cm2 */
    int suspicious;     /* nonzero: the cluster to report and score. It holds when the
                           Tong rule holds or the cluster has at least
                           suspicious_min_count members, and at most
                           suspicious_linear_fraction_max of its members are linear
                           (calcified vessels are chains of lines). Small BI-RADS groups
                           of scattered benign or spurious findings are kept with
                           suspicious = 0 so a later stage can still see them. */
    int small_group;    /* nonzero: not suspicious, but at least small_group_strong_min
                           confident members, no larger linear fraction than
                           a suspicious cluster may have: a small group of conspicuous
                           calcifications (BI-RADS: 3 or more within 1 cm2). Malignant
                           clusters whose fainter members were missed look like this, and
                           so do groups of benign ones: only a risk model can tell them
                           apart (node/work/pipeline.h reports them from a higher
                           probability). */
    uint32_t *members;  /* count indices into ca_result.calcifications, ascending */
};

/* Stages timed in ca_result.stage_ms. */
enum ca_stage {
    CA_STAGE_NORMALIZE,
    CA_STAGE_MASK,
    CA_STAGE_CANDIDATES,
    CA_STAGE_GROW,
    CA_STAGE_CLUSTER,
    CA_STAGE_COUNT
};

/* Returns the stage's static name ("normalize", ...), or "unknown". */
const char *ca_stage_name(int stage);

/* The findings. Every pointer is owned by the result and freed by ca_result_free. */
struct ca_result {
    uint32_t rows, columns; /* of the analysed image */
    struct ca_calcification *calcifications;
    size_t calcification_count;
    struct ca_cluster *clusters;
    size_t cluster_count;
    uint32_t *labels;       /* rows * columns: 0 background, else calcification id */
    uint8_t *breast_mask;   /* rows * columns: 1 inside the analysed breast region */
    float *normalized;      /* rows * columns: the [0,1] image analysed (bright = dense) */
    double breast_area_mm2;
    uint32_t candidate_count;   /* candidates that passed the HDoG test */
    uint32_t candidates_dropped; /* candidates lost to max_candidates (0 normally) */
    double noise_sigma;     /* median over blocks of the finest-scale noise estimate */
    double stage_ms[CA_STAGE_COUNT]; /* wall time per stage (not deterministic) */
    char message[CA_MESSAGE_LEN];    /* on error: what failed, PostgreSQL style */
};

/*
 * Analyses one image. params may be NULL for the defaults. On success returns 0 and
 * fills *out (free with ca_result_free). On failure returns a negative enum ca_error,
 * leaves no allocation in *out and describes the failure in out->message (when out is
 * not NULL). Errors: CA_ERR_INVALID_ARGUMENT, CA_ERR_IMAGE_TOO_SMALL,
 * CA_ERR_IMAGE_TOO_LARGE, CA_ERR_BAD_SPACING, CA_ERR_BAD_BITS_STORED, CA_ERR_NO_BREAST,
 * CA_ERR_OUT_OF_MEMORY.
 */
int ca_analyze(const struct ca_image *image, const struct ca_params *params,
               struct ca_result *out);

/* Frees everything *result owns and zeroes it; safe on a zeroed or freed result and on
 * NULL. */
void ca_result_free(struct ca_result *result);

/* The segmentation's value of pixel i (row major): its label when that calcification is
 * in_segmentation, else 0. labels itself keeps every calcification's pixels and must
 * not have been freed; i < rows * columns. */
uint32_t ca_segmentation_label(const struct ca_result *result, size_t i);

#ifdef __cplusplus
}
#endif

#endif
