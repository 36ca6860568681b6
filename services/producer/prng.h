/*  prng - the generator's own deterministic random numbers

    xoshiro256** seeded through splitmix64. The generator never touches
    rand () or any shared state, so one --seed gives the same records on
    every run and on every sink, and the hot path stays a few instructions
    per draw.                                                               */

#ifndef TXW_PRODUCER_PRNG_H
#define TXW_PRODUCER_PRNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s [4];
} prng_t;

//  Seeds the state from one 64-bit value (any value, zero included).
void prng_seed (prng_t *self, uint64_t seed);

static inline uint64_t
prng_rotl (uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

//  Next 64 random bits (xoshiro256**).
static inline uint64_t
prng_next (prng_t *self)
{
    uint64_t *s = self->s;
    uint64_t result = prng_rotl (s [1] * 5, 7) * 9;
    uint64_t t = s [1] << 17;
    s [2] ^= s [0];
    s [3] ^= s [1];
    s [1] ^= s [2];
    s [0] ^= s [3];
    s [2] ^= t;
    s [3] = prng_rotl (s [3], 45);
    return result;
}

//  Uniform double in [0, 1).
static inline double
prng_uniform (prng_t *self)
{
    return (double) (prng_next (self) >> 11) * 0x1.0p-53;
}

//  Uniform integer in [0, n); n > 0 (Lemire's multiply, bias < 2^-32).
static inline uint32_t
prng_below (prng_t *self, uint32_t n)
{
    return (uint32_t) (((prng_next (self) >> 32) * (uint64_t) n) >> 32);
}

//  Uniform integer in [lo, hi], lo <= hi.
static inline int
prng_range (prng_t *self, int lo, int hi)
{
    return lo + (int) prng_below (self, (uint32_t) (hi - lo + 1));
}

//  Uniform double in [lo, hi).
static inline double
prng_between (prng_t *self, double lo, double hi)
{
    return lo + (hi - lo) * prng_uniform (self);
}

//  Standard normal deviate (Box-Muller; one draw per call, no cached state).
double prng_normal (prng_t *self);

//  Exponential deviate with the given mean.
double prng_exponential (prng_t *self, double mean);

//  Index drawn from cumulative weights cum [0..n-1] (cum [n-1] is the total).
size_t prng_pick (prng_t *self, const double *cum, size_t n);

#endif
