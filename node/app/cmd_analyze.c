/* calcnode analyze: the analysis pipeline offline. For every input (DICOM, or PGM with
 * --pixel-spacing-mm): decode, find calcifications and clusters, write a DICOM
 * Segmentation per DICOM input and one OUTDIR/findings.json for the run. A bad
 * input is reported by name and the run goes on; the exit status is then 1. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "app/analyze_output.h"
#include "app/commands.h"
#include "app/options.h"
#include "calc/analysis.h"
#include "dcm/dcm.h"
#include "util/log.h"

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

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

static double elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) * 1e3 +
           (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Analyses one file; appends its record to images. Returns 0 or -1 (message printed). */
static int analyze_one(const struct analyze_options *o, const char *path, int index,
                       json_t *images)
{
    char err[512] = "";
    struct cn_dcm_image image;
    struct cn_dcm_header header;
    memset(&header, 0, sizeof header);
    int is_pgm = has_suffix(path, ".pgm");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc;
    if (is_pgm) {
        if (!(o->pgm_spacing_mm > 0.0)) {
            fprintf(stderr, "calcnode analyze: %s: a PGM image needs --pixel-spacing-mm\n", path);
            return -1;
        }
        rc = cn_dcm_read_pgm(path, o->pgm_spacing_mm, &image, err, sizeof err);
    } else {
        rc = cn_dcm_read_header(path, &header, err, sizeof err);
        if (rc == 0)
            rc = cn_dcm_decode_image(path, &image, err, sizeof err);
    }
    if (rc != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err[0] ? err : path);
        return -1;
    }
    double decode_ms = elapsed_ms(&start);
    struct ca_image input = {
        .pixels = image.pixels,
        .rows = image.rows,
        .columns = image.columns,
        .bits_stored = image.bits_stored,
        .monochrome1 = image.monochrome1,
        .for_processing = image.for_processing,
        .spacing_mm = {image.pixel_spacing_mm[0], image.pixel_spacing_mm[1]},
        .has_padding = image.has_padding,
        .padding_value = image.padding_value,
    };
    struct ca_result result;
    memset(&result, 0, sizeof result);
    rc = ca_analyze(&input, NULL, &result);
    if (rc != 0) {
        fprintf(stderr, "calcnode analyze: %s: %s\n", path,
                result.message[0] ? result.message : ca_strerror(rc));
        cn_dcm_image_free(&image);
        return -1;
    }
    double analysis_ms = elapsed_ms(&start) - decode_ms;
    struct ca_features features;
    memset(&features, 0, sizeof features);
    rc = ca_features_compute(&result, input.spacing_mm, &features);
    if (rc != 0) {
        fprintf(stderr, "calcnode analyze: %s: could not compute features: %s\n", path,
                ca_strerror(rc));
        ca_result_free(&result);
        cn_dcm_image_free(&image);
        return -1;
    }
    double features_ms = elapsed_ms(&start) - decode_ms - analysis_ms;
    struct cn_analyze_record record = {
        .source = path,
        .header = is_pgm ? NULL : &header,
        .image = &image,
        .result = &result,
        .features = &features,
        .decode_ms = decode_ms,
        .analysis_ms = analysis_ms,
        .features_ms = features_ms,
    };
    int failed = 0;
    if (o->write_masks && cn_analyze_write_mask(o->output_dir, &record, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failed = 1;
    }
    if (!is_pgm && o->write_seg &&
        cn_analyze_write_seg(o->output_dir, &record, index, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failed = 1;
    }
    if (o->features_csv)
        cn_analyze_write_feature_rows(o->features_csv, &record);
    json_array_append_new(images, cn_analyze_image_json(&record));
    ca_features_free(&features);
    ca_result_free(&result);
    cn_dcm_image_free(&image);
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
    if (mkdir(o.output_dir, 0755) != 0 && errno != EEXIST) {
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
        cn_analyze_write_feature_header(o.features_csv);
    }
    json_t *images = json_array();
    int failures = 0;
    for (int i = first_file; i < argc; i++) {
        if (analyze_one(&o, argv[i], i - first_file + 1, images) != 0)
            failures++;
    }
    char err[512];
    if (cn_analyze_write_findings(o.output_dir, images, err, sizeof err) != 0) {
        fprintf(stderr, "calcnode analyze: %s\n", err);
        failures++;
    }
    json_decref(images);
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
