#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static enum cn_log_level current_level = CN_LOG_INFO;

static char current_tag[CN_LOG_TAG_SIZE + 3]; /* "[tag] " or "" */

static const char *const level_names[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};

void cn_log_set_level(enum cn_log_level level)
{
    current_level = level;
}

void cn_log_set_tag(const char *tag)
{
    if (tag[0] == '\0')
        current_tag[0] = '\0';
    else
        snprintf(current_tag, sizeof current_tag, "[%.*s] ", CN_LOG_TAG_SIZE - 1, tag);
}

int cn_log_enabled(enum cn_log_level level)
{
    return level <= current_level;
}

void cn_log(enum cn_log_level level, const char *fmt, ...)
{
    if (level > current_level)
        return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char line[2048];
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s %s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, now.tv_nsec / 1000000L, level_names[level], current_tag);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    flockfile(stderr);
    fputs(line, stderr);
    fputc('\n', stderr);
    funlockfile(stderr);
}
