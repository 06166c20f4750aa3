#include "work/pipeline.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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

int cn_pipeline_analyze_image(const char *path, double pgm_spacing_mm,
                              struct cn_pipeline_image *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    snprintf(out->source, sizeof out->source, "%s", path);
    out->is_pgm = has_suffix(path, ".pgm");
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    char detail[512] = "";
    int rc;
    if (out->is_pgm) {
        if (!(pgm_spacing_mm > 0.0)) {
            snprintf(err, err_len, "%s: a PGM image needs --pixel-spacing-mm", path);
            return -1;
        }
        rc = cn_dcm_read_pgm(path, pgm_spacing_mm, &out->image, detail, sizeof detail);
    } else {
        rc = cn_dcm_read_header(path, &out->header, detail, sizeof detail);
        if (rc == 0)
            rc = cn_dcm_decode_image(path, &out->image, detail, sizeof detail);
    }
    if (rc != 0) {
        /* node/dcm messages name the file already */
        snprintf(err, err_len, "%s", detail[0] ? detail : path);
        memset(out, 0, sizeof *out);
        return -1;
    }
    out->decode_ms = elapsed_ms(&start);
    const struct cn_dcm_image *im = &out->image;
    struct ca_image input = {
        .pixels = im->pixels,
        .rows = im->rows,
        .columns = im->columns,
        .bits_stored = im->bits_stored,
        .monochrome1 = im->monochrome1,
        .for_processing = im->for_processing,
        .spacing_mm = {im->pixel_spacing_mm[0], im->pixel_spacing_mm[1]},
        .has_padding = im->has_padding,
        .padding_value = im->padding_value,
    };
    rc = ca_analyze(&input, NULL, &out->result);
    if (rc != 0) {
        snprintf(err, err_len, "%s: %s", path,
                 out->result.message[0] ? out->result.message : ca_strerror(rc));
        cn_pipeline_image_free(out);
        return -1;
    }
    out->analysis_ms = elapsed_ms(&start) - out->decode_ms;
    rc = ca_features_compute(&out->result, input.spacing_mm, &out->features);
    if (rc != 0) {
        snprintf(err, err_len, "%s: could not compute features: %s", path, ca_strerror(rc));
        cn_pipeline_image_free(out);
        return -1;
    }
    out->features_ms = elapsed_ms(&start) - out->decode_ms - out->analysis_ms;
    return 0;
}

void cn_pipeline_image_free(struct cn_pipeline_image *image)
{
    ca_features_free(&image->features);
    ca_result_free(&image->result);
    cn_dcm_image_free(&image->image);
    memset(image, 0, sizeof *image);
}
