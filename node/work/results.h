/* node/work: what is written for one analysed image: its record in findings.json, an
 * optional label mask (PGM), its DICOM Segmentation, and its rows of the feature table.
 * Blocking file output: worker threads or a command's main thread. */
#ifndef CN_WORK_RESULTS_H
#define CN_WORK_RESULTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "work/pipeline.h"

/* The findings.json object of one image (a new reference). Coordinates are pixel
 * coordinates of the input image: x column, y row. */
json_t *cn_results_image_json(const struct cn_pipeline_image *record);

/* The header line of the feature table (--dump-features): identification columns, then
 * every cluster feature by name in the library's order, then an empty label column for
 * a site to fill. */
void cn_results_write_feature_header(FILE *csv);

/* One row per cluster of the record. */
void cn_results_write_feature_rows(FILE *csv, const struct cn_pipeline_image *record);

/* Writes OUTDIR/findings.json = {"images": images} atomically (temporary file, fsync,
 * rename). Returns 0 or -1 with err filled. */
int cn_results_write_findings(const char *output_dir, json_t *images, char *err,
                              size_t err_len);

/* Writes OUTDIR/<stem>.mask.pgm: 16-bit PGM, 0 background, k = calcification k (capped
 * at 65535). Returns 0 or -1 with err filled. */
int cn_results_write_mask(const char *output_dir, const struct cn_pipeline_image *record,
                          char *err, size_t err_len);

/* Writes OUTDIR/<stem>.seg.dcm, the binary Segmentation of the calcifications of a
 * DICOM input: same study, a new series shared by the SEGs of that study, UIDs derived
 * from (study or source instance, algorithm version, run) so that re-running gives the
 * same objects. Returns 0 or -1 with err filled. */
int cn_results_write_seg(const char *output_dir, const struct cn_pipeline_image *record,
                         int instance_number, char *err, size_t err_len);

/* The file name of path without folders and without its last extension, into buf. */
void cn_results_stem(const char *path, char *buf, size_t buf_len);

#endif
