#include "uid.h"

#include <stdio.h>
#include <string.h>

/* FNV-1a over the text, then splitmix64 finalisers to spread it over 128 bits. */
static uint64_t mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int cn_phantom_uid(uint64_t seed, const char *text, char *out, size_t out_len)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        h = (h ^ *p) * 0x100000001b3ULL;
    uint64_t hi = mix(seed ^ mix(h)), lo = mix(hi ^ h);
    /* the 128-bit value hi:lo in decimal: repeated division of four 32-bit limbs by 10 */
    uint32_t limb[4] = {(uint32_t)(hi >> 32), (uint32_t)hi, (uint32_t)(lo >> 32), (uint32_t)lo};
    char digits[40];
    size_t n = 0;
    do {
        uint64_t rem = 0;
        int nonzero = 0;
        for (int i = 0; i < 4; i++) {
            uint64_t cur = (rem << 32) | limb[i];
            limb[i] = (uint32_t)(cur / 10);
            rem = cur % 10;
            nonzero |= limb[i] != 0;
        }
        digits[n++] = (char)('0' + rem);
        if (!nonzero)
            break;
    } while (n < sizeof digits);
    if (out_len < n + 6)
        return -1;
    memcpy(out, "2.25.", 5);
    for (size_t i = 0; i < n; i++)
        out[5 + i] = digits[n - 1 - i];
    out[5 + n] = '\0';
    return 0;
}
