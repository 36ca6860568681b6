/*  prng - the generator's own deterministic random numbers                */

#include "prng.h"

#include <math.h>

static uint64_t
s_splitmix64 (uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void
prng_seed (prng_t *self, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        self->s [i] = s_splitmix64 (&x);
}

double
prng_normal (prng_t *self)
{
    //  1 - u keeps the logarithm away from zero.
    double u1 = 1.0 - prng_uniform (self);
    double u2 = prng_uniform (self);
    return sqrt (-2.0 * log (u1)) * cos (2.0 * M_PI * u2);
}

double
prng_exponential (prng_t *self, double mean)
{
    return -log (1.0 - prng_uniform (self)) * mean;
}

size_t
prng_pick (prng_t *self, const double *cum, size_t n)
{
    double x = prng_uniform (self) * cum [n - 1];
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (x < cum [mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
