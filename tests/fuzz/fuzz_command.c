/* Fuzz target: DIMSE command set decode, then encode, then decode again. Whatever the
 * decoder accepts must re-encode, decode to the same command, and encode to the same
 * bytes a second time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dimse/command.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t first[CN_DIMSE_COMMAND_MAX_LEN], second[CN_DIMSE_COMMAND_MAX_LEN];
    struct cn_dimse_command a, b;
    char err[160];
    if (cn_dimse_command_decode(data, size, &a, err, sizeof err) != 0)
        return 0;
    int n = cn_dimse_command_encode(&a, first, sizeof first);
    if (n <= 0)
        abort();
    if (cn_dimse_command_decode(first, (size_t)n, &b, err, sizeof err) != 0)
        abort();
    a.present |= CN_DIMSE_HAS_GROUP_LENGTH; /* the encoder always writes it */
    if (memcmp(&a, &b, sizeof a) != 0)
        abort();
    int m = cn_dimse_command_encode(&b, second, sizeof second);
    if (m != n || memcmp(first, second, (size_t)n) != 0)
        abort();
    return 0;
}
