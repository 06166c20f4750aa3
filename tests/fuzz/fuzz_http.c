/* Fuzz target: what an HTTP client controls and node/http parses or echoes: the request
 * path (cn_http_route_parse), the rows parameter (cn_http_parse_rows), and text escaped
 * into the pages (cn_html_escape) and the metrics (cn_metrics_label_value), which carry
 * values that came from DICOM peers. Checked properties: a routed UID is a valid UID; a
 * parsed row count is within the render limits; escaped HTML has no raw < > " ' and no
 * & that does not start an entity; an escaped label value has no raw line feed and no
 * unescaped double quote. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/buf.h"
#include "http/metrics.h"
#include "http/pages.h"
#include "http/render.h"
#include "http/route.h"

#define FUZZ_MAX_TEXT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_html(const char *text)
{
    struct cn_buf out;
    cn_buf_init(&out, 8 * FUZZ_MAX_TEXT);
    if (cn_html_escape(&out, text) != 0)
        abort();
    for (size_t i = 0; i < out.len; i++) {
        char c = out.data[i];
        if (c == '<' || c == '>' || c == '"' || c == '\'')
            abort();
        if (c == '&' && strchr(out.data + i, ';') == NULL)
            abort();
    }
    cn_buf_free(&out);
}

static void check_label(const char *text)
{
    struct cn_buf out;
    cn_buf_init(&out, 4 * FUZZ_MAX_TEXT);
    if (cn_metrics_label_value(&out, text) != 0)
        abort();
    for (size_t i = 0; i < out.len; i++) {
        if (out.data[i] == '\n')
            abort();
        if (out.data[i] == '\\') {
            i++; /* the escaped character */
            continue;
        }
        if (out.data[i] == '"')
            abort();
    }
    cn_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > FUZZ_MAX_TEXT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0'; /* the server hands C strings; an embedded NUL ends them */

    struct cn_http_route route;
    enum cn_http_page page = cn_http_route_parse(text, &route);
    if ((page == CN_HTTP_PAGE_STUDY || page == CN_HTTP_PAGE_IMAGE) && !cn_uid_is_valid(route.uid))
        abort();
    unsigned rows = 0;
    if (cn_http_parse_rows(text, 7, &rows) == 0 &&
        (rows < CN_RENDER_MIN_ROWS || rows > CN_RENDER_MAX_ROWS))
        abort();
    check_html(text);
    check_label(text);
    free(text);
    return 0;
}
