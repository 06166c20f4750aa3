/* node/http: a growing text buffer with a hard cap (as curl's dynbuf): an append that
 * would pass the cap, or fails to allocate, frees the buffer and leaves it failed, so a
 * response is either complete or not sent. Not thread-safe; one owner. */
#ifndef CN_HTTP_BUF_H
#define CN_HTTP_BUF_H

#include <stddef.h>

struct cn_buf {
    char *data;     /* NUL terminated while not failed; owned */
    size_t len;     /* bytes before the NUL */
    size_t cap;     /* allocated bytes */
    size_t max_len; /* the cap on len */
    int failed;     /* 1 after an overflow or allocation failure: data is NULL */
};

/* An empty buffer that may grow to max_len bytes. Allocates nothing yet. */
void cn_buf_init(struct cn_buf *b, size_t max_len);

/* Appends len bytes. Returns 0, or -1 (buffer failed and freed). */
int cn_buf_append(struct cn_buf *b, const char *data, size_t len);

/* Appends a NUL-terminated string. Returns 0 or -1 as cn_buf_append. */
int cn_buf_puts(struct cn_buf *b, const char *text);

/* Appends printf-formatted text. Returns 0 or -1 as cn_buf_append. */
int cn_buf_printf(struct cn_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the bytes to the caller (free with free(); NULL when failed or empty) and resets
 * the buffer to empty. */
char *cn_buf_take(struct cn_buf *b, size_t *len);

/* Frees the bytes; the buffer is empty and usable again. */
void cn_buf_free(struct cn_buf *b);

#endif
