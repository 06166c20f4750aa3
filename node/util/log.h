/* node/util: process-wide logging to stderr, one line per event:
 *   2026-11-21T07:12:00.123Z INFO  [assoc 12] accepted STORESCU -> CALCNODE from 127.0.0.1:5555
 * The level is set once at start-up (before threads start); cn_log may be called from
 * any thread (each line is written with one locked stdio call). */
#ifndef CN_UTIL_LOG_H
#define CN_UTIL_LOG_H

enum cn_log_level { CN_LOG_ERROR = 0, CN_LOG_WARNING = 1, CN_LOG_INFO = 2, CN_LOG_DEBUG = 3 };

void cn_log_set_level(enum cn_log_level level);

/* Puts "[tag] " before every message of this process (tag copied, at most
 * CN_LOG_TAG_SIZE - 1 bytes kept; "" for none), so that the lines of a child process
 * sharing its parent's stderr can be told apart:
 *   2026-11-21T07:12:00.456Z INFO  [analysis 4242] job 7: analysing 4 images ...
 * Set once at start-up, before threads start. */
#define CN_LOG_TAG_SIZE 48
void cn_log_set_tag(const char *tag);
int cn_log_enabled(enum cn_log_level level);

__attribute__((format(printf, 2, 3))) void cn_log(enum cn_log_level level, const char *fmt, ...);

#define cn_log_error(...) cn_log(CN_LOG_ERROR, __VA_ARGS__)
#define cn_log_warning(...) cn_log(CN_LOG_WARNING, __VA_ARGS__)
#define cn_log_info(...) cn_log(CN_LOG_INFO, __VA_ARGS__)
#define cn_log_debug(...) cn_log(CN_LOG_DEBUG, __VA_ARGS__)

#endif
