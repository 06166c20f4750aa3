/* tools/phantom: deterministic DICOM UIDs for phantom objects. */
#ifndef CN_PHANTOM_UID_H
#define CN_PHANTOM_UID_H

#include <stddef.h>
#include <stdint.h>

#define CN_PHANTOM_UID_SIZE 65

/* Writes "2.25.<decimal>" (PS3.5 B.2: a UID from a 128-bit integer) into out[out_len]
 * where the integer is a hash of (seed, text). At most 44 characters, so any out_len >=
 * 45 suffices; returns 0, or -1 when out_len is too small. Same inputs, same UID. */
int cn_phantom_uid(uint64_t seed, const char *text, char *out, size_t out_len);

#endif
