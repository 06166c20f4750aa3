/* Synthetic feature tables for the risk tests: CSV text in the --dump-features layout
 * with a known relation between features and label. */
#ifndef TESTS_RISK_SYNTH_H
#define TESTS_RISK_SYNTH_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calc/features.h"

static inline double synth_uniform(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return (double)((z ^ (z >> 31)) >> 11) / 9007199254740992.0;
}

/* images * per_image rows of uniform [0, 1) features. noise 0: label = f0 + f1 > 1
 * (separable); noise > 0: label ~ Bernoulli(sigmoid((f0 + f1 - 1 + f2 / 2 - 0.25) /
 * noise)). Returns malloc'd CSV text (free) and its length. */
static inline char *synth_csv(size_t images, size_t per_image, double noise, uint64_t seed,
                              size_t *len_out)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    uint64_t s = seed;
#define SYNTH_PUT(...)                                                                             \
    do {                                                                                           \
        if (cap - len < 4096) {                                                                    \
            cap *= 2;                                                                              \
            buf = realloc(buf, cap);                                                               \
        }                                                                                          \
        len += (size_t)snprintf(buf + len, cap - len, __VA_ARGS__);                                \
    } while (0)
    SYNTH_PUT("source,sop_instance_uid,cluster");
    for (size_t j = 0; j < CA_CLUSTER_FEATURE_COUNT; j++)
        SYNTH_PUT(",%s", ca_cluster_feature_name(j));
    SYNTH_PUT(",label\n");
    for (size_t i = 0; i < images; i++) {
        for (size_t k = 0; k < per_image; k++) {
            double f[CA_CLUSTER_FEATURE_COUNT];
            SYNTH_PUT("\"img,%zu.dcm\",2.25.%zu,%zu", i, i + 1, k);
            for (size_t j = 0; j < CA_CLUSTER_FEATURE_COUNT; j++) {
                f[j] = synth_uniform(&s);
                SYNTH_PUT(",%.9g", f[j]);
            }
            int label;
            if (noise == 0.0) {
                label = f[0] + f[1] > 1.0;
            } else {
                double z = (f[0] + f[1] - 1.0 + 0.5 * f[2] - 0.25) / noise;
                label = synth_uniform(&s) < 1.0 / (1.0 + exp(-z));
            }
            SYNTH_PUT(",%d\n", label);
        }
    }
#undef SYNTH_PUT
    *len_out = len;
    return buf;
}

#endif
