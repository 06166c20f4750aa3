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
 * from (study or source instance, algorithm version, run) so that running the same
 * analysis again gives the same objects and a later run gives new ones. run is the
 * study's analysis run number as text. On success returns 0 and, when not NULL, the
 * SEG's SOP Instance UID in sop_uid_out[65] and its path in path_out[path_len];
 * otherwise -1 with err filled. */
int cn_results_write_seg(const char *output_dir, const struct cn_pipeline_image *record,
                         int instance_number, const char *run, char *sop_uid_out,
                         char *path_out, size_t path_len, char *err, size_t err_len);

/* SOP Class UID of the Segmentation objects written. */
#define CN_RESULTS_SEG_SOP_CLASS_UID "1.2.840.10008.5.1.4.1.1.66.4"

/* The file name of path without folders and without its last extension, into buf. */
void cn_results_stem(const char *path, char *buf, size_t buf_len);

#endif
