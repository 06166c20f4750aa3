/* tools/phantom: 16-bit binary PGM (Netpbm "P5", maxval up to 65535, samples big endian),
 * the format of the truth and predicted calcification masks.
 * Reentrant; any thread. */
#ifndef CN_PHANTOM_PGM_H
#define CN_PHANTOM_PGM_H

#include <stddef.h>
#include <stdint.h>

#define CN_PGM_MAX_SIDE_PX 65535u
#define CN_PGM_MAX_PIXELS (16384u * 16384u)

/* Writes rows x columns samples (each <= maxval, maxval 1..65535) to path.
 * 0 ok, -1 with a message in err. */
int cn_pgm_write(const char *path, const uint16_t *samples, uint32_t rows, uint32_t columns,
                 uint16_t maxval, char *err, size_t err_len);

/* Reads a P5 file with maxval 1..65535 (one or two bytes per sample) into a new array
 * *out (rows * columns, free with free()). 0 ok; -1 when the file cannot be read or is
 * not such a PGM (truncated, header values out of range, comments allowed), message in
 * err. On failure *out is NULL. */
int cn_pgm_read(const char *path, uint16_t **out, uint32_t *rows, uint32_t *columns,
                uint16_t *maxval, char *err, size_t err_len);

#endif
