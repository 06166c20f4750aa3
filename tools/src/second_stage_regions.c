/* second_stage_regions: every region the second stage would score, for fitting it
 * (tools/fit-second-stage).
 *
 *   second_stage_regions FILE.dcm...
 *
 * Runs the analysis with second_stage_threshold = -infinity, so every region grown from
 * a candidate below contrast_min is kept, and prints one line per calcification:
 *   stem x_px y_px spacing_mm strong contrast scale_index linear area_mm2 elongation
 *   excess_snr peak_snr strong_neighbours candidate_neighbours candidate_neighbours_expected
 *   bright_neighbours bright_neighbours_expected
 * (strong = 1: at or above contrast_min, kept without the second stage). Exit status 0
 * success, 1 an input failed, 2 usage error. */
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "calc/analysis.h"
#include "dcm/dcm.h"

#define ERR_SIZE 512

static int scale_index(const struct ca_params *p, double sigma_mm)
{
    for (uint32_t s = 0; s < p->scale_count; s++)
        if (p->sigmas_mm[s] == sigma_mm)
            return (int)s;
    return -1;
}

static int dump(const char *path, const struct ca_params *params)
{
    char err[ERR_SIZE];
    struct cn_dcm_image im;
    if (cn_dcm_decode_image(path, &im, err, sizeof err) != 0) {
        fprintf(stderr, "second_stage_regions: %s\n", err);
        return 1;
    }
    struct ca_image input = {
        .pixels = im.pixels,
        .rows = im.rows,
        .columns = im.columns,
        .bits_stored = im.bits_stored,
        .monochrome1 = im.monochrome1,
        .for_processing = im.for_processing,
        .spacing_mm = {im.pixel_spacing_mm[0], im.pixel_spacing_mm[1]},
        .has_padding = im.has_padding,
        .padding_value = im.padding_value,
    };
    struct ca_result r;
    int rc = ca_analyze(&input, params, &r);
    if (rc != 0) {
        fprintf(stderr, "second_stage_regions: %s: %s\n", path, r.message);
        cn_dcm_image_free(&im);
        return 1;
    }
    char name[ERR_SIZE];
    snprintf(name, sizeof name, "%s", path);
    char *stem = basename(name);
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = '\0';
    for (size_t i = 0; i < r.calcification_count; i++) {
        const struct ca_calcification *c = &r.calcifications[i];
        printf("%s %.3f %.3f %.6g %d %.6g %d %d %.6g %.6g %.6g %.6g %u %u %.6g %u %.6g\n", stem,
               c->x_px, c->y_px, input.spacing_mm[0], isinf(c->second_stage_score) ? 1 : 0,
               c->contrast, scale_index(params, c->scale_mm), c->linear, c->area_mm2,
               c->elongation, c->excess_snr, c->peak_snr, c->strong_neighbours,
               c->candidate_neighbours, c->candidate_neighbours_expected,
               c->bright_neighbours, c->bright_neighbours_expected);
    }
    ca_result_free(&r);
    cn_dcm_image_free(&im);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: second_stage_regions FILE.dcm...\n");
        return 2;
    }
    struct ca_params params;
    ca_params_default(&params);
    params.second_stage_threshold = -INFINITY;
    int status = 0;
    for (int i = 1; i < argc; i++)
        status |= dump(argv[i], &params);
    return status;
}
