/*
 * Stage 1: stored values to a [0,1] image where dense tissue and calcifications are
 * bright. For Presentation data is scaled by bits stored (and inverted for MONOCHROME1,
 * PS3.3 C.7.6.3.1.2); For Processing data is linear in exposure, so its logarithm is
 * proportional to attenuation: v = 1 - log(1 + x) / log(1 + max). Padding pixels (PS3.3
 * C.7.5.1.1.2 Pixel Padding Value) become 0 and invalid. One table lookup per pixel.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

int ca_normalize(const struct ca_image *image, float *out, uint8_t *valid)
{
    uint32_t max_value = (uint32_t)((1u << image->bits_stored) - 1u);
    float *table = malloc(((size_t)UINT16_MAX + 1) * sizeof(float));
    if (!table)
        return CA_ERR_OUT_OF_MEMORY;
    double inv_log = 1.0 / log1p((double)max_value);
    double inv_max = 1.0 / (double)max_value;
    for (uint32_t raw = 0; raw <= UINT16_MAX; raw++) {
        uint32_t x = raw > max_value ? max_value : raw;
        double v;
        if (image->for_processing)
            v = 1.0 - log1p((double)x) * inv_log;
        else if (image->monochrome1)
            v = 1.0 - (double)x * inv_max;
        else
            v = (double)x * inv_max;
        table[raw] = (float)v;
    }
    size_t n = (size_t)image->rows * image->columns;
    const uint16_t *px = image->pixels;
    if (image->has_padding) {
        uint16_t pad = image->padding_value;
        for (size_t i = 0; i < n; i++) {
            valid[i] = px[i] != pad;
            out[i] = valid[i] ? table[px[i]] : 0.0f;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            valid[i] = 1;
            out[i] = table[px[i]];
        }
    }
    free(table);
    return 0;
}
