/* node/db/util: see util.h. */
#include "db/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "db/db.h"

int cn_db_errorf(int code, char *err, size_t err_len, const char *fmt, ...)
{
    if (err != NULL && err_len > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_len, fmt, ap);
        va_end(ap);
    }
    return code;
}

int cn_db_conninfo_quote(const char *value, char *out, size_t out_len)
{
    size_t n = 0;
    if (out_len < 3)
        return CN_DB_EINVAL;
    out[n++] = '\'';
    for (const char *p = value; *p != '\0'; p++) {
        size_t need = (*p == '\'' || *p == '\\') ? 2 : 1;
        if (n + need + 2 > out_len)
            return CN_DB_EINVAL;
        if (need == 2)
            out[n++] = '\\';
        out[n++] = *p;
    }
    out[n++] = '\'';
    out[n] = '\0';
    return 0;
}

char *cn_db_one_line(const char *message, char *out, size_t out_len)
{
    if (out_len == 0)
        return out;
    snprintf(out, out_len, "%s", message != NULL ? message : "");
    size_t len = strlen(out);
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r' || out[len - 1] == ' '))
        out[--len] = '\0';
    for (size_t i = 0; i < len; i++) {
        if (out[i] == '\n' || out[i] == '\r' || out[i] == '\t')
            out[i] = ' ';
    }
    return out;
}
