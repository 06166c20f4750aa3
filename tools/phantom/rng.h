/* tools/phantom: the phantom's own pseudo-random generator, xoshiro256** seeded through
 * splitmix64 (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
 * 2021). Same seed, same sequence on every platform. One state per caller; no globals. */
#ifndef CN_PHANTOM_RNG_H
#define CN_PHANTOM_RNG_H

#include <stdint.h>

struct cn_rng {
    uint64_t s[4];
};

/* Seeds the state from seed and a stream number (independent sub-sequences for the
 * parts of the phantom, so adding draws to one part leaves the others unchanged). */
void cn_rng_seed(struct cn_rng *rng, uint64_t seed, uint64_t stream);
uint64_t cn_rng_next(struct cn_rng *rng);
/* Uniform in [0, 1), 53 random bits. */
double cn_rng_uniform(struct cn_rng *rng);
/* Uniform in [lo, hi). */
double cn_rng_range(struct cn_rng *rng, double lo, double hi);
/* Uniform integer in [lo, hi] inclusive; lo <= hi. */
int cn_rng_int(struct cn_rng *rng, int lo, int hi);
/* Standard normal (Box-Muller on two uniforms; no cached spare, so the sequence does not
 * depend on call parity). */
double cn_rng_normal(struct cn_rng *rng);

#endif
