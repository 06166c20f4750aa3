#include "util/uid.h"

#include <openssl/evp.h>
#include <stdint.h>
#include <string.h>

/* The decimal digits of a 128-bit big-endian number, by repeated division by 10. */
static size_t u128_to_decimal(const uint8_t value[16], char *out)
{
    uint8_t n[16];
    memcpy(n, value, sizeof n);
    char digits[40];
    size_t count = 0;
    for (;;) {
        unsigned remainder = 0;
        int nonzero = 0;
        for (size_t i = 0; i < sizeof n; i++) {
            unsigned cur = (remainder << 8) | n[i];
            n[i] = (uint8_t)(cur / 10);
            remainder = cur % 10;
            nonzero |= n[i] != 0;
        }
        digits[count++] = (char)('0' + remainder);
        if (!nonzero)
            break;
    }
    for (size_t i = 0; i < count; i++)
        out[i] = digits[count - 1 - i];
    out[count] = '\0';
    return count;
}

int cn_uid_derive(const char *const *parts, size_t count, char out[CN_UID_BUFFER_SIZE])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(ctx);
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        /* length-prefixed, so ("ab","c") and ("a","bc") differ */
        uint64_t len = strlen(parts[i]);
        uint8_t prefix[8];
        for (int b = 0; b < 8; b++)
            prefix[b] = (uint8_t)(len >> (56 - 8 * b));
        if (EVP_DigestUpdate(ctx, prefix, sizeof prefix) != 1 ||
            EVP_DigestUpdate(ctx, parts[i], len) != 1) {
            EVP_MD_CTX_free(ctx);
            return -1;
        }
    }
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned digest_len = 0;
    int ok = EVP_DigestFinal_ex(ctx, digest, &digest_len) == 1 && digest_len >= 16;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return -1;
    memcpy(out, "2.25.", 5);
    u128_to_decimal(digest, out + 5);
    return 0;
}
