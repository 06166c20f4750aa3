/* node/work: the study-level result objects beside the SEGs (DESIGN.md section 8): a TID
 * 1500 measurement report and a Mammography CAD SR for the study, and a GSPS per analysed
 * image, through node/dcm/report.h. UIDs derive from (study or image, algorithm version,
 * run), so writing the same run again gives the same objects, and a later run names the
 * previous run's reports in its Predecessor Documents Sequence. A study whose images
 * could not be analysed still gets a CAD SR saying that the processing failed, so a PACS
 * never waits for a result that will not come.
 * Blocking file output: worker threads or a command's main thread. */
#ifndef CN_WORK_STUDY_REPORT_H
#define CN_WORK_STUDY_REPORT_H

#include <jansson.h>
#include <stddef.h>

#include "work/pipeline.h"

struct cn_risk_model;

/* One image of the study: analysed (image set, seg_sop_instance_uid from
 * cn_results_write_seg) or failed (image NULL, failure_reason set). */
struct cn_study_image {
    const char *path;
    const struct cn_pipeline_image *image;
    const char *seg_sop_instance_uid;
    const char *failure_reason;
};

struct cn_study_report_request {
    const char *output_dir;
    const char *file_prefix; /* before each report's file name, e.g. "<study>."; NULL: "" */
    const char *study_instance_uid;
    const struct cn_study_image *images;
    size_t image_count;
    int run_number;          /* 1 for the first analysis of the study */
    int write_gsps;          /* GSPS per analysed image (on by default in the node) */
};

/* Writes the objects. For each object written, appends {"path", "sop_class_uid",
 * "sop_instance_uid", "kind"} to outputs (may be NULL). Returns 0, or -1 with err naming
 * the object and the reason. */
int cn_study_report_write(const struct cn_study_report_request *request, json_t *outputs,
                          char *err, size_t err_len);

/* 1 when sop_class_uid is an image class the analysis reads (mammography, DX, CR,
 * Secondary Capture): the classes a CAD SR's image library may list. */
int cn_study_report_is_analysable_class(const char *sop_class_uid);

/* The SEG series of a study's run (shared by its SEGs; see cn_results_write_seg). */
void cn_study_report_seg_series(const char *study_instance_uid, const char *run,
                                char uid_out[65]);

#endif
