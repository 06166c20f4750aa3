/* xoshiro256** 1.0 and splitmix64, written from the published algorithm descriptions. */
#include "rng.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void cn_rng_seed(struct cn_rng *rng, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t cn_rng_next(struct cn_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cn_rng_uniform(struct cn_rng *rng)
{
    return (double)(cn_rng_next(rng) >> 11) * 0x1.0p-53;
}

double cn_rng_range(struct cn_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * cn_rng_uniform(rng);
}

int cn_rng_int(struct cn_rng *rng, int lo, int hi)
{
    uint64_t span = (uint64_t)((int64_t)hi - (int64_t)lo) + 1;
    return (int)((int64_t)lo + (int64_t)(cn_rng_next(rng) % span));
}

double cn_rng_normal(struct cn_rng *rng)
{
    double u1 = 1.0 - cn_rng_uniform(rng); /* (0, 1]: log defined */
    double u2 = cn_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
