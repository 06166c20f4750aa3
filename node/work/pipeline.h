/* node/work: the analysis of one image, shared by `calcnode analyze` and the workers:
 * decode (node/dcm), find calcifications and clusters (analysis/), compute their features.
 * Blocking and CPU-bound: call it on a worker thread or the main thread of a command,
 * never on the loop thread. Reentrant: images may be analysed on several threads. */
#ifndef CN_WORK_PIPELINE_H
#define CN_WORK_PIPELINE_H

#include <stddef.h>

#include "calc/analysis.h"
#include "calc/features.h"
#include "dcm/dcm.h"

struct cn_pipeline_image {
    char source[4096];          /* the input path */
    int is_pgm;
    struct cn_dcm_header header; /* zeroed for PGM input */
    struct cn_dcm_image image;
    struct ca_result result;
    struct ca_features features;
    double decode_ms, analysis_ms, features_ms;
};

/* Analyses the file at path (DICOM, or binary PGM when it ends in .pgm, which then needs
 * pgm_spacing_mm > 0). On success returns 0 and fills *out (release with
 * cn_pipeline_image_free); on failure returns -1 with a one-line message naming the file
 * and the reason in err, and *out holds nothing. */
int cn_pipeline_analyze_image(const char *path, double pgm_spacing_mm,
                              struct cn_pipeline_image *out, char *err, size_t err_len);

void cn_pipeline_image_free(struct cn_pipeline_image *image);

#endif
