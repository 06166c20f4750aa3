/* node/store: UID syntax (PS3.5 section 9.1). Pure; any thread. */
#ifndef CN_STORE_UID_H
#define CN_STORE_UID_H

#include <stddef.h>

#define CN_UID_MAX_LEN 64 /* PS3.5 9.1: at most 64 characters */

/* Returns 1 when uid (NUL terminated, padding already removed) is a valid UID: 1 to 64
 * characters of [0-9.], components separated by single dots (no empty component, so no
 * leading, trailing or double dot), and no multi-digit component starting with 0.
 * Returns 0 otherwise, and for NULL. Only UIDs that pass may become storage paths. */
int cn_uid_is_valid(const char *uid);

#endif
