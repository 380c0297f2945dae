/*
 * The benchmark tools' random numbers: xoshiro256** seeded through splitmix64.
 *
 * Deterministic and fast, so that clinickv-gen makes the same data set from the
 * same seed on every machine, and clinickv-bench draws the same request stream
 * for the same --seed. Not for secrets.
 */
#ifndef CLINICKV_BENCHRNG_H
#define CLINICKV_BENCHRNG_H

#include <stdint.h>
#include <string.h>

struct brng {
    uint64_t s[4];
};

static inline uint64_t brng_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Seed from a number and a label (a table name), so that each table's stream
 * is independent of how many values the others drew. */
static inline void brng_seed(struct brng *r, uint64_t seed, const char *label)
{
    uint64_t h = 1469598103934665603ULL ^ seed;
    for (const char *p = label; p && *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    uint64_t x = h ^ (seed * 0x9e3779b97f4a7c15ULL);
    for (int i = 0; i < 4; i++)
        r->s[i] = brng_splitmix(&x);
}

static inline uint64_t brng_next(struct brng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is below 2^-32). */
static inline uint64_t brng_below(struct brng *r, uint64_t n)
{
    return (uint64_t)(((unsigned __int128)brng_next(r) * n) >> 64);
}

/* Uniform in [lo, hi], both inclusive (Python's randint). */
static inline int64_t brng_range(struct brng *r, int64_t lo, int64_t hi)
{
    return lo + (int64_t)brng_below(r, (uint64_t)(hi - lo + 1));
}

/* Uniform double in [0, 1). */
static inline double brng_unit(struct brng *r)
{
    return (double)(brng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

static inline void brng_bytes(struct brng *r, void *out, size_t n)
{
    uint8_t *p = out;
    while (n) {
        uint64_t v = brng_next(r);
        size_t k = n < 8 ? n : 8;
        memcpy(p, &v, k);
        p += k;
        n -= k;
    }
}

#endif
