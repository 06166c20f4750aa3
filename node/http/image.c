#include "http/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dcm/dcm.h"
#include "http/overlay.h"
#include "http/render.h"
#include "util/log.h"

/* Reads the whole file at path (at most max_len bytes). Returns a new buffer (free with
 * free()) or NULL with err filled; *missing is 1 when the file does not exist. */
static char *read_file(const char *path, size_t max_len, size_t *len, int *missing, char *err,
                       size_t err_len)
{
    *missing = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        *missing = errno == ENOENT;
        snprintf(err, err_len, "could not open \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > max_len) {
        snprintf(err, err_len, "\"%s\" is larger than %zu bytes or unreadable", path, max_len);
        fclose(f);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *data = malloc(size + 1);
    if (!data || fread(data, 1, size, f) != size) {
        snprintf(err, err_len, "could not read \"%s\"", path);
        free(data);
        fclose(f);
        return NULL;
    }
    fclose(f);
    data[size] = '\0';
    *len = size;
    return data;
}

static void draw_findings(const char *results_dir, const char *uid, struct cn_rgb_image *image)
{
    char path[4096], err[512];
    int n = snprintf(path, sizeof path, "%s/findings.json", results_dir);
    if (n < 0 || (size_t)n >= sizeof path)
        return;
    size_t len = 0;
    int missing = 0;
    char *text = read_file(path, CN_HTTP_FINDINGS_MAX_LEN, &len, &missing, err, sizeof err);
    if (!text) {
        if (!missing)
            cn_log_warning("http: %s", err);
        return;
    }
    struct cn_overlay overlay;
    int rc = cn_overlay_parse(text, len, uid, &overlay, err, sizeof err);
    free(text);
    if (rc < 0) {
        cn_log_warning("http: could not read the findings in \"%s\": %s", path, err);
        return;
    }
    if (rc == 1) {
        cn_overlay_draw(&overlay, image);
        cn_overlay_free(&overlay);
    }
}

int cn_http_image_png(const char *path, const char *results_dir, const char *sop_instance_uid,
                      unsigned rows, uint8_t **png, size_t *png_len, char *err, size_t err_len)
{
    struct cn_dcm_image decoded;
    if (cn_dcm_decode_image(path, &decoded, err, err_len) != 0)
        return -1;
    struct cn_rgb_image image;
    int rc = cn_render_gray(decoded.pixels, decoded.rows, decoded.columns, decoded.monochrome1,
                            rows, &image);
    cn_dcm_image_free(&decoded);
    if (rc != 0) {
        snprintf(err, err_len, "could not render \"%s\" at %u rows", path, rows);
        return -1;
    }
    if (results_dir && results_dir[0])
        draw_findings(results_dir, sop_instance_uid, &image);
    rc = cn_render_png(&image, png, png_len);
    cn_rgb_image_free(&image);
    if (rc != 0)
        snprintf(err, err_len, "could not encode the PNG of \"%s\"", path);
    return rc;
}
