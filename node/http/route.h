/* node/http: which page a request names. The UID in /study/<uid> and /image/<uid>.png
 * must pass cn_uid_is_valid (digits and single dots, at most 64 characters) before
 * anything else happens: nothing else (no slash, no "..", no percent escape) can reach
 * the database or the filesystem. Pure; any thread. */
#ifndef CN_HTTP_ROUTE_H
#define CN_HTTP_ROUTE_H

#include "store/uid.h"

enum cn_http_page {
    CN_HTTP_PAGE_NOT_FOUND = 0,
    CN_HTTP_PAGE_STATUS,  /* / */
    CN_HTTP_PAGE_METRICS, /* /metrics */
    CN_HTTP_PAGE_HEALTHZ, /* /healthz */
    CN_HTTP_PAGE_STUDY,   /* /study/<uid> */
    CN_HTTP_PAGE_IMAGE,   /* /image/<uid>.png */
};

struct cn_http_route {
    enum cn_http_page page;
    char uid[CN_UID_MAX_LEN + 1]; /* STUDY and IMAGE: a valid UID */
};

/* Parses the path of a request (no query string: the server passes it apart). Returns
 * the page; NOT_FOUND for anything else, including a malformed UID. */
enum cn_http_page cn_http_route_parse(const char *path, struct cn_http_route *out);

/* Parses the rows parameter of an image: 1 to 4 decimal digits, within
 * [CN_RENDER_MIN_ROWS, CN_RENDER_MAX_ROWS]. NULL gives fallback. Returns 0 with *rows
 * set, or -1. */
int cn_http_parse_rows(const char *text, unsigned fallback, unsigned *rows);

#endif
