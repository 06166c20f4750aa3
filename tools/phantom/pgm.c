/* Netpbm PGM "P5": header "P5 <width> <height> <maxval>" with whitespace and '#'
 * comments, one whitespace byte, then samples row by row, 2 bytes big endian each when
 * maxval > 255 (netpbm.sourceforge.net/doc/pgm.html). */
#include "pgm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cn_pgm_write(const char *path, const uint16_t *samples, uint32_t rows, uint32_t columns,
                 uint16_t maxval, char *err, size_t err_len)
{
    if (rows == 0 || columns == 0 || rows > CN_PGM_MAX_SIDE_PX ||
        columns > CN_PGM_MAX_SIDE_PX || maxval == 0) {
        snprintf(err, err_len, "invalid PGM geometry %ux%u maxval %u", columns, rows, maxval);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, err_len, "could not create file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    fprintf(f, "P5\n%u %u\n%u\n", columns, rows, maxval);
    size_t bytes_per_sample = maxval > 255 ? 2 : 1;
    unsigned char *line = malloc((size_t)columns * bytes_per_sample);
    int rc = line ? 0 : -1;
    for (uint32_t y = 0; rc == 0 && y < rows; y++) {
        const uint16_t *src = samples + (size_t)y * columns;
        for (uint32_t x = 0; x < columns; x++) {
            if (bytes_per_sample == 2) {
                line[2 * x] = (unsigned char)(src[x] >> 8);
                line[2 * x + 1] = (unsigned char)(src[x] & 0xff);
            } else {
                line[x] = (unsigned char)src[x];
            }
        }
        if (fwrite(line, bytes_per_sample, columns, f) != columns)
            rc = -1;
    }
    free(line);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0)
        snprintf(err, err_len, "could not write file \"%s\": %s", path, strerror(errno));
    return rc;
}

/* Reads one unsigned decimal header field, skipping whitespace and comments.
 * 0 ok, -1 malformed or larger than limit. */
static int read_field(FILE *f, uint32_t limit, uint32_t *out)
{
    int c = fgetc(f);
    for (;;) {
        if (c == '#') {
            while (c != EOF && c != '\n')
                c = fgetc(f);
        } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            c = fgetc(f);
        } else {
            break;
        }
    }
    if (c < '0' || c > '9')
        return -1;
    uint64_t value = 0;
    while (c >= '0' && c <= '9') {
        value = value * 10 + (uint64_t)(c - '0');
        if (value > limit)
            return -1;
        c = fgetc(f);
    }
    /* exactly one whitespace byte ends a field (the last one precedes the raster) */
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return -1;
    *out = (uint32_t)value;
    return 0;
}

int cn_pgm_read(const char *path, uint16_t **out, uint32_t *rows, uint32_t *columns,
                uint16_t *maxval, char *err, size_t err_len)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "could not open file \"%s\": %s", path, strerror(errno));
        return -1;
    }
    uint32_t w = 0, h = 0, m = 0;
    char magic[2];
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || magic[1] != '5' ||
        read_field(f, CN_PGM_MAX_SIDE_PX, &w) != 0 ||
        read_field(f, CN_PGM_MAX_SIDE_PX, &h) != 0 || read_field(f, 65535, &m) != 0 ||
        w == 0 || h == 0 || m == 0 || (uint64_t)w * h > CN_PGM_MAX_PIXELS) {
        snprintf(err, err_len, "file \"%s\" is not a binary PGM within limits", path);
        fclose(f);
        return -1;
    }
    size_t count = (size_t)w * h;
    size_t bytes_per_sample = m > 255 ? 2 : 1;
    unsigned char *raw = malloc(count * bytes_per_sample);
    uint16_t *samples = malloc(count * sizeof *samples);
    if (!raw || !samples) {
        snprintf(err, err_len, "out of memory reading \"%s\"", path);
        free(raw);
        free(samples);
        fclose(f);
        return -1;
    }
    size_t got = fread(raw, bytes_per_sample, count, f);
    fclose(f);
    if (got != count) {
        snprintf(err, err_len, "file \"%s\" is truncated: %zu of %zu samples", path, got,
                 count);
        free(raw);
        free(samples);
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        samples[i] = bytes_per_sample == 2
                         ? (uint16_t)((raw[2 * i] << 8) | raw[2 * i + 1])
                         : raw[i];
    free(raw);
    *out = samples;
    *rows = h;
    *columns = w;
    *maxval = (uint16_t)m;
    return 0;
}
