/* node/util: deterministic UIDs for the objects calcnode creates.
 *
 * DESIGN.md section 8: output UIDs derive from their inputs (study, algorithm version, run,
 * kind of object), so that a retry of the same work yields the same UIDs and never a
 * duplicate object. The UID is "2.25." followed by the decimal value of the first 128
 * bits of SHA-256 over the parts (PS3.5 B.2: UUID-derived UIDs under 2.25), at most 44
 * characters. Any thread. */
#ifndef CN_UTIL_UID_H
#define CN_UTIL_UID_H

#include <stddef.h>

#define CN_UID_BUFFER_SIZE 65

/* Writes the UID derived from parts[0..count) (each NUL terminated; the parts are
 * separated unambiguously) into out[CN_UID_BUFFER_SIZE]. Returns 0, or -1 when
 * hashing failed. */
int cn_uid_derive(const char *const *parts, size_t count, char out[CN_UID_BUFFER_SIZE]);

#endif
