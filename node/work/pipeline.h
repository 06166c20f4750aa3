/* node/work: the analysis of one image, shared by `calcnode analyze` and the workers:
 * decode (node/dcm), find calcifications and clusters (analysis/), compute their features.
 * Blocking and CPU-bound: call it on a worker thread or the main thread of a command,
 * never on the loop thread. Reentrant: images may be analysed on several threads. */
#ifndef CN_WORK_PIPELINE_H
#define CN_WORK_PIPELINE_H

#include <stddef.h>

#include "calc/analysis.h"
#include "calc/descriptors.h"
#include "calc/features.h"
#include "dcm/dcm.h"

struct cn_risk_model;

/* The assessment of one cluster: calibrated probability of malignancy (when a model is
 * loaded), its BI-RADS-like category, and the descriptors of calc/descriptors.h. */
struct cn_cluster_assessment {
    int has_score;
    double score;
    const char *category; /* static: "2", "3", "4A", "4B", "4C", "5"; NULL without a model */
    struct ca_cluster_description description;
    int reported; /* the cluster reaches the radiologist's reports (SR, GSPS) and the image's
                     and study's risk: see cn_pipeline_scoring */
};

struct cn_pipeline_image {
    char source[4096];          /* the input path */
    int is_pgm;
    struct cn_dcm_header header; /* zeroed for PGM input */
    struct cn_dcm_image image;
    struct ca_result result;
    struct ca_features features;
    struct cn_cluster_assessment *assessments; /* result.cluster_count, owned */
    int has_max_score;
    double max_score;         /* the image's most suspicious reported cluster */
    const char *max_category;
    double decode_ms, analysis_ms, features_ms, scoring_ms;
};

/* Which clusters are scored and reported. Without a model a cluster is reported when the
 * analysis rule holds (ca_cluster.suspicious). With one, it also needs a calibrated
 * probability of malignancy of at least report_probability_min, and a small group
 * (ca_cluster.small_group: too few members for the rule) is reported when its probability
 * is at least that and small_group_probability_min. When report_needs_rule is 0, the probability alone decides
 * (for a model trained on the site's own images: the shipped phantom model rates groups of
 * faint real detections 0.25-0.5, README). */
struct cn_pipeline_scoring {
    const struct cn_risk_model *model; /* borrowed; NULL: no scores, descriptors only */
    double report_probability_min;     /* in (0, 1] */
    int report_needs_rule;
    double small_group_probability_min; /* in (0, 1] */
};

/* Analyses the file at path (DICOM, or binary PGM when it ends in .pgm, which then needs
 * pgm_spacing_mm > 0), describes each cluster, scores it when scoring->model is set and
 * marks the reported ones (cn_cluster_assessment.reported). On success returns 0 and
 * fills *out (release with cn_pipeline_image_free); on failure returns -1 with a one-line
 * message naming the file and the reason in err, and *out holds nothing. */
int cn_pipeline_analyze_image(const char *path, double pgm_spacing_mm,
                              const struct cn_pipeline_scoring *scoring,
                              struct cn_pipeline_image *out, char *err, size_t err_len);

/* Frees the image-sized buffers (decoded pixels, labels, normalized image, breast mask)
 * and keeps the findings, features and assessments: what the study reports need, at a
 * small fraction of the memory. The mask and SEG writers need the buffers: call after
 * them. */
void cn_pipeline_image_release_pixels(struct cn_pipeline_image *image);

void cn_pipeline_image_free(struct cn_pipeline_image *image);

#endif
