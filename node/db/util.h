/* node/db/util: helpers shared by the files of node/db only (not a public interface). */
#ifndef CN_DB_UTIL_H
#define CN_DB_UTIL_H

#include <stddef.h>

#include <libpq-fe.h>

/* Formats a message into err[err_len] (when err is not NULL and err_len > 0) and returns
 * code, so that callers can write `return cn_db_errorf(CN_DB_EIO, err, len, "...", ...)`. */
int cn_db_errorf(int code, char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Writes value into out[out_len] as a libpq conninfo value: single quoted, with ' and \
 * escaped by a backslash. Returns 0, or CN_DB_EINVAL when it does not fit. */
int cn_db_conninfo_quote(const char *value, char *out, size_t out_len);

/* Copies PQerrorMessage(conn) (or a result's message) into out as one line: the
 * trailing newline removed and inner newlines replaced by spaces. Returns out. */
char *cn_db_one_line(const char *message, char *out, size_t out_len);

#endif
