#include "http/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIRST_ALLOCATION_LEN 1024

void cn_buf_init(struct cn_buf *b, size_t max_len)
{
    *b = (struct cn_buf){.max_len = max_len};
}

static int fail(struct cn_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 1;
    return -1;
}

/* Room for extra more bytes and the NUL. */
static int reserve(struct cn_buf *b, size_t extra)
{
    if (b->failed)
        return -1;
    if (extra > b->max_len - b->len)
        return fail(b);
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : FIRST_ALLOCATION_LEN;
    while (cap < need)
        cap *= 2;
    if (cap > b->max_len + 1)
        cap = b->max_len + 1;
    char *p = realloc(b->data, cap);
    if (!p)
        return fail(b);
    b->data = p;
    b->cap = cap;
    return 0;
}

int cn_buf_append(struct cn_buf *b, const char *data, size_t len)
{
    if (reserve(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int cn_buf_puts(struct cn_buf *b, const char *text)
{
    return cn_buf_append(b, text, strlen(text));
}

int cn_buf_printf(struct cn_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) != 0)
        return n < 0 ? fail(b) : -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

char *cn_buf_take(struct cn_buf *b, size_t *len)
{
    char *data = b->failed ? NULL : b->data;
    if (len)
        *len = data ? b->len : 0;
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
    return data;
}

void cn_buf_free(struct cn_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = 0;
}
