/* node/dcm: cn_dcm_read_pgm, binary PGM (Netpbm "P5") images such as mini-MIAS.
 *
 * Netpbm PGM format: "P5", whitespace, width, whitespace, height, whitespace, maxval
 * (1..65535), one whitespace character, then height rows of width samples, one byte each
 * when maxval < 256, else two bytes, most significant first. '#' starts a comment that
 * runs to the end of the line, anywhere in the header before the raster. */
#include "dcm/dcm.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Caps: at most 65535 pixels per side (DICOM's US Rows/Columns) and 2^28 pixels. */
#define PGM_MAX_SIDE_PX 65535u
#define PGM_MAX_PIXELS (1ull << 28)
#define PGM_MAX_MAXVAL 65535u
#define PGM_MAX_DIGITS 10

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and comments, then reads one decimal number of at most
 * PGM_MAX_DIGITS digits. Returns 0, or -1 when no number is there. The character that
 * ended the number is consumed and returned in *after. */
static int read_number(FILE *f, unsigned long *value, int *after)
{
    int c = getc(f);
    for (;;) {
        if (c == '#') {
            while (c != EOF && c != '\n' && c != '\r')
                c = getc(f);
        } else if (is_space(c)) {
            c = getc(f);
        } else {
            break;
        }
    }
    if (c < '0' || c > '9')
        return -1;
    unsigned long v = 0;
    int digits = 0;
    while (c >= '0' && c <= '9') {
        if (++digits > PGM_MAX_DIGITS)
            return -1;
        v = v * 10 + (unsigned long)(c - '0');
        c = getc(f);
    }
    *value = v;
    *after = c;
    return 0;
}

static int read_pgm(FILE *f, const char *path, double spacing_mm, struct cn_dcm_image *out,
                    char *err, size_t err_len)
{
    if (getc(f) != 'P' || getc(f) != '5')
        return fail(err, err_len, CN_DCM_EFORMAT, "\"%s\" is not a binary PGM file (P5)", path);
    unsigned long width, height, maxval;
    int after;
    if (read_number(f, &width, &after) != 0 || !is_space(after) ||
        read_number(f, &height, &after) != 0 || !is_space(after) ||
        read_number(f, &maxval, &after) != 0 || !is_space(after))
        return fail(err, err_len, CN_DCM_EFORMAT, "PGM header of \"%s\" is malformed", path);
    if (width == 0 || height == 0 || width > PGM_MAX_SIDE_PX || height > PGM_MAX_SIDE_PX ||
        (unsigned long long)width * height > PGM_MAX_PIXELS)
        return fail(err, err_len, CN_DCM_EUNSUPPORTED,
                    "PGM size %lux%lu of \"%s\" is outside the supported range", width, height,
                    path);
    if (maxval == 0 || maxval > PGM_MAX_MAXVAL)
        return fail(err, err_len, CN_DCM_EFORMAT, "PGM maxval %lu of \"%s\" is not in 1..65535",
                    maxval, path);

    const size_t count = (size_t)width * height;
    const size_t sample_len = maxval < 256 ? 1 : 2;
    unsigned char *raster = malloc(count * sample_len);
    uint16_t *pixels = malloc(count * sizeof *pixels);
    if (raster == NULL || pixels == NULL) {
        free(raster);
        free(pixels);
        return fail(err, err_len, CN_DCM_ENOMEM, "out of memory reading \"%s\"", path);
    }
    size_t got = fread(raster, sample_len, count, f);
    if (got != count) {
        free(raster);
        free(pixels);
        return fail(err, err_len, CN_DCM_EFORMAT,
                    "PGM raster of \"%s\" is truncated: %zu of %zu samples", path, got, count);
    }
    for (size_t i = 0; i < count; i++) {
        unsigned v = sample_len == 1 ? raster[i]
                                     : (unsigned)raster[2 * i] << 8 | raster[2 * i + 1];
        if (v > maxval) {
            free(raster);
            free(pixels);
            return fail(err, err_len, CN_DCM_EFORMAT,
                        "PGM sample %u at index %zu of \"%s\" exceeds maxval %lu", v, i, path,
                        maxval);
        }
        pixels[i] = (uint16_t)v;
    }
    free(raster);

    unsigned bits = 1;
    while (bits < 16 && (1ul << bits) <= maxval)
        bits++;
    memset(out, 0, sizeof *out);
    out->pixels = pixels;
    out->rows = (uint32_t)height;
    out->columns = (uint32_t)width;
    out->bits_stored = bits;
    out->pixel_spacing_mm[0] = spacing_mm;
    out->pixel_spacing_mm[1] = spacing_mm;
    return CN_DCM_OK;
}

int cn_dcm_read_pgm(const char *path, double spacing_mm, struct cn_dcm_image *out, char *err,
                    size_t err_len)
{
    if (path == NULL || out == NULL)
        return fail(err, err_len, CN_DCM_EINVAL, "cn_dcm_read_pgm needs a path and a result");
    memset(out, 0, sizeof *out);
    if (!isfinite(spacing_mm) || spacing_mm <= 0)
        return fail(err, err_len, CN_DCM_EINVAL,
                    "PGM file \"%s\" carries no pixel spacing: it needs --pixel-spacing-mm",
                    path);
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return fail(err, err_len, CN_DCM_EIO, "could not open file \"%s\": %s", path,
                    strerror(errno));
    int rc = read_pgm(f, path, spacing_mm, out, err, err_len);
    if (rc == CN_DCM_OK && ferror(f))
        rc = fail(err, err_len, CN_DCM_EIO, "could not read file \"%s\"", path);
    fclose(f);
    if (rc != CN_DCM_OK)
        cn_dcm_image_free(out);
    return rc;
}
