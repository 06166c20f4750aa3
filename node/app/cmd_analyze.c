/* calcnode analyze: the analysis pipeline offline. For every input (DICOM, or PGM with
 * --pixel-spacing-mm): decode, find calcifications and clusters, write a DICOM
 * Segmentation per DICOM input and one OUTDIR/findings.json for the run. A bad
 * input is reported by name and the run goes on; the exit status is then 1. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "app/commands.h"
#include "app/model.h"
#include "app/options.h"
#include "risk/model.h"
#include "work/pipeline.h"
#include "work/results.h"
#include "work/study_report.h"
#include "util/log.h"

/* Offline analysis is always run 1: the same inputs give the same objects. */
#define OFFLINE_RUN "1"

enum {
    OPT_OUTPUT = 'o',
    OPT_PIXEL_SPACING = CN_OPT_FIRST_COMMAND_SPECIFIC,
    OPT_WRITE_MASKS,
    OPT_NO_SEG,
    OPT_DUMP_FEATURES,
    OPT_NO_GSPS,
};

static const char analyze_usage[] =
    "usage: calcnode analyze [-c FILE] [--pixel-spacing-mm X] [--write-masks] [--no-seg]\n"
    "                        -o OUTDIR FILE...\n"
    "Finds microcalcifications and clusters in each mammogram and writes, for each DICOM\n"
    "input, a Segmentation OUTDIR/<name>.seg.dcm and a presentation state\n"
    "OUTDIR/<name>.gsps.dcm; for each study, a TID 1500 measurement report\n"
    "OUTDIR/<study>.measurement-report.dcm and a Mammography CAD SR\n"
    "OUTDIR/<study>.cad-report.dcm; and OUTDIR/findings.json for the run.\n"
    "\n"
    "  -o, --output DIR          where results go (created)\n"
    "      --pixel-spacing-mm X  pixel size of PGM inputs (PGM carries none)\n"
    "      --write-masks         also write OUTDIR/<name>.mask.pgm (16-bit labels)\n"
    "      --no-seg              do not write Segmentations and reports\n"
    "      --no-gsps             do not write presentation states\n"
    "      --dump-features CSV   write one row of features per cluster (label column\n"
    "                            empty), for a site to label and train on\n";

struct analyze_options {
    const char *output_dir;
    double pgm_spacing_mm;
    int write_masks;
    int write_seg;   /* and the study reports */
    int write_gsps;
    const char *features_csv_path;
    FILE *features_csv;
    struct cn_pipeline_scoring scoring;
};

static int on_analyze_option(int code, const char *arg, void *user)
{
    struct analyze_options *o = user;
    char *end = NULL;
    switch (code) {
    case OPT_OUTPUT:
        o->output_dir = arg;
        return 0;
    case OPT_PIXEL_SPACING:
        errno = 0;
        o->pgm_spacing_mm = strtod(arg, &end);
        if (errno != 0 || *end != '\0' || !(o->pgm_spacing_mm > 0.0) ||
            o->pgm_spacing_mm > 10.0) {
            fprintf(stderr, "calcnode analyze: invalid --pixel-spacing-mm \"%s\"\n", arg);
            return -1;
        }
        return 0;
    case OPT_WRITE_MASKS:
        o->write_masks = 1;
        return 0;
    case OPT_NO_SEG:
        o->write_seg = 0;
        return 0;
    case OPT_NO_GSPS:
        o->write_gsps = 0;
        return 0;
    case OPT_DUMP_FEATURES:
        o->features_csv_path = arg;
        return 0;
    default:
        return -1;
    }
}

static const struct option analyze_extra[] = {
    {"output", required_argument, NULL, OPT_OUTPUT},
    {"pixel-spacing-mm", required_argument, NULL, OPT_PIXEL_SPACING},
    {"write-masks", no_argument, NULL, OPT_WRITE_MASKS},
    {"no-seg", no_argument, NULL, OPT_NO_SEG},
    {"dump-features", required_argument, NULL, OPT_DUMP_FEATURES},
    {"no-gsps", no_argument, NULL, OPT_NO_GSPS},
    {NULL, 0, NULL, 0},
};

/* What is kept of an input until its study's reports are written. */
struct kept_input {
    char study_uid[65];
    char seg_uid[65];
    char failure[1024];          /* non-empty: the analysis failed */
    struct cn_pipeline_image *record; /* NULL when it failed; pixels released */
    const char *path;
};

/* Analyses one file and writes what it yields per image; appends its record to images
 * and what the study reports need to *kept. Returns 0 or -1 (message printed). */
static int analyze_one(const struct analyze_options *o, const char *path, int index,
                       json_t *images, struct kept_input *kept)
{
    char err[1024] = "";
    memset(kept, 0, sizeof *kept);
    kept->path = path;
    struct cn_pipeline_image *record = calloc(1, sizeof *record);
    if (!record) {
        fprintf(stderr, "calcnode analyze: %s: out of memory\n", path);
        return -1;
    }
    if (cn_pipeline_analyze_image(path, o->pgm_spacing_mm, &o->scoring, record, err,
                                  sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        free(record);
        /* a DICOM image of a known study that could not be analysed is reported as such
         * in its study's CAD SR */
        struct cn_dcm_header header;
        char ignored[256];
        if (cn_dcm_read_header(path, &header, ignored, sizeof ignored) == 0 &&
            !header.parse_incomplete && header.rows > 0 && header.study_instance_uid[0] &&
            cn_study_report_is_analysable_class(header.sop_class_uid)) {
            snprintf(kept->study_uid, sizeof kept->study_uid, "%s", header.study_instance_uid);
            snprintf(kept->failure, sizeof kept->failure, "%s", err);
        }
        return -1;
    }
    int failed = 0;
    if (o->write_masks && cn_results_write_mask(o->output_dir, record, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failed = 1;
    }
    if (!record->is_pgm && o->write_seg &&
        cn_results_write_seg(o->output_dir, record, index, OFFLINE_RUN, kept->seg_uid, NULL, 0,
                             err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failed = 1;
    }
    if (o->features_csv)
        cn_results_write_feature_rows(o->features_csv, record);
    json_array_append_new(images, cn_results_image_json(record));
    cn_pipeline_image_release_pixels(record);
    if (record->is_pgm || failed) {
        cn_pipeline_image_free(record);
        free(record);
    } else {
        snprintf(kept->study_uid, sizeof kept->study_uid, "%s", record->header.study_instance_uid);
        kept->record = record;
    }
    return failed ? -1 : 0;
}

/* The study reports (TID 1500, CAD SR, GSPS) of every study among the inputs, named
 * <study>.<kind>.dcm in the output directory. Returns the number of studies that failed. */
static int write_study_reports(const struct analyze_options *o, struct kept_input *kept,
                               size_t count)
{
    int failures = 0;
    struct cn_study_image *images = calloc(count ? count : 1, sizeof *images);
    if (!images)
        return 1;
    for (size_t i = 0; i < count; i++) {
        if (!kept[i].study_uid[0])
            continue;
        size_t n = 0;
        for (size_t j = i; j < count; j++) {
            if (strcmp(kept[j].study_uid, kept[i].study_uid) != 0)
                continue;
            images[n++] = (struct cn_study_image){
                .path = kept[j].path,
                .image = kept[j].record,
                .seg_sop_instance_uid = kept[j].seg_uid[0] ? kept[j].seg_uid : NULL,
                .failure_reason = kept[j].failure[0] ? kept[j].failure : NULL,
            };
            if (j != i)
                kept[j].study_uid[0] = '\0'; /* reported with this study */
        }
        char prefix[80];
        snprintf(prefix, sizeof prefix, "%s.", kept[i].study_uid);
        struct cn_study_report_request request = {
            .output_dir = o->output_dir,
            .file_prefix = prefix,
            .study_instance_uid = kept[i].study_uid,
            .images = images,
            .image_count = n,
            .run_number = 1,
            .write_gsps = o->write_gsps,
        };
        char err[1024];
        if (cn_study_report_write(&request, NULL, err, sizeof err) != 0) {
            fprintf(stderr, "calcnode analyze: %s\n", err);
            failures++;
        }
    }
    free(images);
    return failures;
}

int cn_cmd_analyze(int argc, char **argv)
{
    struct cn_conf conf;
    struct analyze_options o = {.write_seg = 1, .write_gsps = 1};
    int first_file = 0;
    int rc = cn_options_parse(argc, argv, analyze_usage, analyze_extra, on_analyze_option, &o,
                              &conf, &first_file);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    if (!o.output_dir || first_file >= argc) {
        fputs(analyze_usage, stderr);
        return 2;
    }
    char model_err[1024];
    struct cn_risk_model *model = NULL;
    if (cn_app_load_model(&conf, &model, model_err, sizeof model_err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", model_err);
        return 1;
    }
    o.scoring = (struct cn_pipeline_scoring){model, conf.report_probability_min,
                                             conf.report_needs_rule,
                                             conf.report_small_group_probability_min};
    if (mkdir(o.output_dir, 0755) != 0 && errno != EEXIST) {
        cn_risk_model_free(model);
        fprintf(stderr, "calcnode analyze: could not create directory \"%s\": %s\n",
                o.output_dir, strerror(errno));
        return 1;
    }
    if (o.features_csv_path) {
        o.features_csv = fopen(o.features_csv_path, "w");
        if (!o.features_csv) {
            fprintf(stderr, "calcnode analyze: could not create \"%s\": %s\n",
                    o.features_csv_path, strerror(errno));
            return 1;
        }
        cn_results_write_feature_header(o.features_csv);
    }
    json_t *images = json_array();
    int failures = 0;
    size_t input_count = (size_t)(argc - first_file);
    struct kept_input *kept = calloc(input_count, sizeof *kept);
    if (!kept) {
        fprintf(stderr, "calcnode analyze: out of memory\n");
        return 1;
    }
    for (int i = first_file; i < argc; i++) {
        if (analyze_one(&o, argv[i], i - first_file + 1, images, &kept[i - first_file]) != 0)
            failures++;
    }
    int report_failures = o.write_seg ? write_study_reports(&o, kept, input_count) : 0;
    for (size_t i = 0; i < input_count; i++) {
        if (kept[i].record) {
            cn_pipeline_image_free(kept[i].record);
            free(kept[i].record);
        }
    }
    free(kept);
    char err[512];
    if (cn_results_write_findings(o.output_dir, images, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failures++;
    }
    json_decref(images);
    cn_risk_model_free(model);
    if (o.features_csv && fclose(o.features_csv) != 0) {
        fprintf(stderr, "calcnode analyze: could not write \"%s\": %s\n", o.features_csv_path,
                strerror(errno));
        failures++;
    }
    if (report_failures)
        fprintf(stderr, "calcnode analyze: %d study reports could not be written\n",
                report_failures);
    if (failures)
        fprintf(stderr, "calcnode analyze: %d of %d inputs failed\n", failures,
                argc - first_file);
    if (failures || report_failures)
        return 1;
    return 0;
}
