#include "http/route.h"

#include <string.h>

#include "http/render.h"

#define STUDY_PREFIX "/study/"
#define IMAGE_PREFIX "/image/"
#define IMAGE_SUFFIX ".png"
#define MAX_ROWS_DIGITS 4

/* Copies the UID of len characters at text into out->uid when it is valid. */
static int take_uid(const char *text, size_t len, struct cn_http_route *out)
{
    if (len == 0 || len > CN_UID_MAX_LEN)
        return 0;
    memcpy(out->uid, text, len);
    out->uid[len] = '\0';
    return cn_uid_is_valid(out->uid);
}

enum cn_http_page cn_http_route_parse(const char *path, struct cn_http_route *out)
{
    memset(out, 0, sizeof *out);
    if (!path)
        return CN_HTTP_PAGE_NOT_FOUND;
    if (strcmp(path, "/") == 0)
        out->page = CN_HTTP_PAGE_STATUS;
    else if (strcmp(path, "/metrics") == 0)
        out->page = CN_HTTP_PAGE_METRICS;
    else if (strcmp(path, "/healthz") == 0)
        out->page = CN_HTTP_PAGE_HEALTHZ;
    else if (strncmp(path, STUDY_PREFIX, strlen(STUDY_PREFIX)) == 0) {
        const char *uid = path + strlen(STUDY_PREFIX);
        if (take_uid(uid, strlen(uid), out))
            out->page = CN_HTTP_PAGE_STUDY;
    } else if (strncmp(path, IMAGE_PREFIX, strlen(IMAGE_PREFIX)) == 0) {
        const char *uid = path + strlen(IMAGE_PREFIX);
        size_t len = strlen(uid);
        size_t suffix = strlen(IMAGE_SUFFIX);
        if (len > suffix && strcmp(uid + len - suffix, IMAGE_SUFFIX) == 0 &&
            take_uid(uid, len - suffix, out))
            out->page = CN_HTTP_PAGE_IMAGE;
    }
    if (out->page == CN_HTTP_PAGE_NOT_FOUND)
        out->uid[0] = '\0';
    return out->page;
}

int cn_http_parse_rows(const char *text, unsigned fallback, unsigned *rows)
{
    if (!text) {
        *rows = fallback;
        return 0;
    }
    size_t len = strlen(text);
    if (len == 0 || len > MAX_ROWS_DIGITS || strspn(text, "0123456789") != len)
        return -1;
    unsigned value = 0;
    for (size_t i = 0; i < len; i++)
        value = value * 10 + (unsigned)(text[i] - '0');
    if (value < CN_RENDER_MIN_ROWS || value > CN_RENDER_MAX_ROWS)
        return -1;
    *rows = value;
    return 0;
}
