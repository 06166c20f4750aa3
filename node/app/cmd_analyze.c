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
#include "util/log.h"

/* Offline analysis is always run 1: the same inputs give the same objects. */
#define OFFLINE_RUN "1"

enum {
    OPT_OUTPUT = 'o',
    OPT_PIXEL_SPACING = CN_OPT_FIRST_COMMAND_SPECIFIC,
    OPT_WRITE_MASKS,
    OPT_NO_SEG,
    OPT_DUMP_FEATURES,
};

static const char analyze_usage[] =
    "usage: calcnode analyze [-c FILE] [--pixel-spacing-mm X] [--write-masks] [--no-seg]\n"
    "                        -o OUTDIR FILE...\n"
    "Finds microcalcifications and clusters in each mammogram and writes, for each DICOM\n"
    "input, a Segmentation OUTDIR/<name>.seg.dcm, and OUTDIR/findings.json for the run.\n"
    "\n"
    "  -o, --output DIR          where results go (created)\n"
    "      --pixel-spacing-mm X  pixel size of PGM inputs (PGM carries none)\n"
    "      --write-masks         also write OUTDIR/<name>.mask.pgm (16-bit labels)\n"
    "      --no-seg              do not write Segmentations\n"
    "      --dump-features CSV   write one row of features per cluster (label column\n"
    "                            empty), for a site to label and train on\n";

struct analyze_options {
    const char *output_dir;
    double pgm_spacing_mm;
    int write_masks;
    int write_seg;
    const char *features_csv_path;
    FILE *features_csv;
    const struct cn_risk_model *model;
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
    {NULL, 0, NULL, 0},
};

/* Analyses one file and writes what it yields; appends its record to images.
 * Returns 0 or -1 (message printed). */
static int analyze_one(const struct analyze_options *o, const char *path, int index,
                       json_t *images)
{
    char err[1024] = "";
    struct cn_pipeline_image record;
    if (cn_pipeline_analyze_image(path, o->pgm_spacing_mm, o->model, &record, err,
                                  sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        return -1;
    }
    int failed = 0;
    if (o->write_masks && cn_results_write_mask(o->output_dir, &record, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failed = 1;
    }
    if (!record.is_pgm && o->write_seg &&
        cn_results_write_seg(o->output_dir, &record, index, OFFLINE_RUN, NULL, NULL, 0, err,
                             sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failed = 1;
    }
    if (o->features_csv)
        cn_results_write_feature_rows(o->features_csv, &record);
    json_array_append_new(images, cn_results_image_json(&record));
    cn_pipeline_image_free(&record);
    return failed ? -1 : 0;
}

int cn_cmd_analyze(int argc, char **argv)
{
    struct cn_conf conf;
    struct analyze_options o = {.write_seg = 1};
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
    o.model = model;
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
    for (int i = first_file; i < argc; i++) {
        if (analyze_one(&o, argv[i], i - first_file + 1, images) != 0)
            failures++;
    }
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
    if (failures) {
        fprintf(stderr, "calcnode analyze: %d of %d inputs failed\n", failures,
                argc - first_file);
        return 1;
    }
    return 0;
}
