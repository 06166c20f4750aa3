/* tools/phantom: scores calcification findings against phantom truth.
 *
 * Truth: every DIR/<stem>.truth.json (cn_phantom_truth_write) with its DIR/<stem>.mask.pgm
 * when present. Findings: one JSON file {"images": [{"source", "sop_instance_uid",
 * "calcifications": [{"x", "y", "score"?}], "clusters": [{"x", "y", "bbox": [x0, y0, x1,
 * y1]}]}]}, x = column and y = row in pixels. A findings image matches a truth image by
 * file stem (source without folders and extension) or by SOP Instance UID.
 *
 * Rules:
 * - a truth calcification is found when a detection lies within match_mm of one of its
 *   mask pixels (its mask dilated by match_mm) or of its centroid; a detection matching
 *   no truth calcification is a false positive; rates are per cm2 of breast (truth
 *   breast_area_mm2);
 * - FROC (when every detection has a score): operating points over every score
 *   threshold, and the best sensitivity at 0.1, 0.2, 0.4 and 1 false positive per cm2;
 * - Dice of calcification pixels (label > 0) against masks_dir/<stem>.mask.pgm when it
 *   exists;
 * - a truth cluster is found when a detected cluster's bbox overlaps its bbox or their
 *   centroids lie within cluster_match_mm; detected clusters matching none are false
 *   positive clusters. Benign truth clusters found are reported as "flagged benign".
 * Truth images without findings count as all missed. Reentrant; any thread. */
#ifndef CN_PHANTOM_EVAL_H
#define CN_PHANTOM_EVAL_H

#include <stddef.h>
#include <stdio.h>

#define CN_EVAL_DEFAULT_MATCH_MM 0.5
#define CN_EVAL_DEFAULT_CLUSTER_MATCH_MM 5.0
#define CN_EVAL_FROC_RATES 4 /* 0.1, 0.2, 0.4, 1 FP/cm2 */
#define CN_EVAL_MAX_IMAGES 100000
#define CN_EVAL_MAX_DETECTIONS 1000000 /* per image */
#define CN_EVAL_STEM_SIZE 256

extern const double cn_eval_froc_rates[CN_EVAL_FROC_RATES];

/* The calcification morphologies of the phantom (phantom.h, BI-RADS 5th ed. names), in
 * report order, suspicious ones first; a truth calcification whose "morphology" is
 * missing or unknown counts under the last, "other". Sensitivity per morphology shows
 * where the misses are (faint amorphous ones are not lost the way fine linear ones are). */
#define CN_EVAL_MORPHOLOGIES 8
extern const char *const cn_eval_morphology_names[CN_EVAL_MORPHOLOGIES];

struct cn_eval_options {
    double match_mm;         /* > 0 */
    double cluster_match_mm; /* > 0 */
    const char *masks_dir;   /* NULL: no Dice; borrowed */
};

/* Counts for one image or summed over all. */
struct cn_eval_counts {
    size_t truth_calcs, found_calcs;
    size_t truth_malignant, found_malignant;
    size_t truth_benign, found_benign;
    size_t truth_by_morphology[CN_EVAL_MORPHOLOGIES], found_by_morphology[CN_EVAL_MORPHOLOGIES];
    size_t detections, false_positives;
    double breast_area_cm2;
    size_t truth_malignant_clusters, found_malignant_clusters;
    size_t truth_benign_clusters, flagged_benign_clusters;
    size_t detected_clusters, false_positive_clusters;
    int has_dice;            /* dice_* valid */
    size_t dice_truth_px, dice_predicted_px, dice_overlap_px;
};

struct cn_eval_image {
    char stem[CN_EVAL_STEM_SIZE];
    int has_findings;        /* 0: no findings image matched this truth */
    struct cn_eval_counts counts;
};

struct cn_eval_froc_point {
    double threshold;        /* detections with score >= threshold kept */
    double sensitivity;
    double fp_per_cm2;
};

struct cn_eval_result {
    struct cn_eval_image *images; /* image_count, sorted by stem; owned */
    size_t image_count;
    struct cn_eval_counts total;
    size_t unmatched_findings;    /* findings images matching no truth */
    int has_froc;
    struct cn_eval_froc_point *froc; /* froc_count points, threshold descending; owned */
    size_t froc_count;
    double sensitivity_at[CN_EVAL_FROC_RATES]; /* at cn_eval_froc_rates */
};

/* Sets opts to the defaults (match 0.5 mm, clusters 5 mm, no masks). */
void cn_eval_options_default(struct cn_eval_options *opts);

/* Scores findings_path against truth_dir into *out (caller owns; free with
 * cn_eval_result_free). Returns 0; -1 when an input cannot be read or is malformed (no
 * truth file, bad JSON, wrong types, a mask of the wrong size), with a message in err.
 * Warnings (truth without findings, findings without truth) go to warn when not NULL. */
int cn_eval_run(const char *truth_dir, const char *findings_path,
                const struct cn_eval_options *opts, struct cn_eval_result *out, FILE *warn,
                char *err, size_t err_len);

void cn_eval_result_free(struct cn_eval_result *res);

/* Derived figures; 0 when the denominator is 0 (dice: -1 when unavailable). */
double cn_eval_sensitivity(size_t found, size_t total);
double cn_eval_fp_per_cm2(const struct cn_eval_counts *c);
double cn_eval_dice(const struct cn_eval_counts *c);

/* A human-readable table to f. */
void cn_eval_print_table(const struct cn_eval_result *res, const struct cn_eval_options *opts,
                         FILE *f);
/* The result as one JSON document to f; 0 ok, -1 out of memory or write error. */
int cn_eval_print_json(const struct cn_eval_result *res, const struct cn_eval_options *opts,
                       FILE *f);

#endif
