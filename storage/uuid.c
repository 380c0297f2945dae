/* UUID text form and UUIDv7 generation. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clinickv/error.h"
#include "uuid.h"

/* Bits of the 60-bit counter (timestamp << 12 | sequence). */
#define V7_SEQ_BITS 12
#define V7_MS_MASK  ((UINT64_C(1) << 48) - 1)

/* The last (timestamp << 12 | sequence) handed out; 0 before the first id. */
static _Atomic uint64_t v7_last;

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_init_once(void)
{
    /* sodium_init() fails only when the random source cannot be opened, and then
     * randombytes_buf() aborts with a clear message, so the result adds nothing. */
    if (sodium_init() < 0)
        return;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_dash_pos(size_t i)
{
    return i == 8 || i == 13 || i == 18 || i == 23;
}

int ck_uuid_parse(const char *s, size_t len, uint8_t out[16])
{
    if (s == NULL || len != CK_UUID_STRLEN)
        return -CK_EINVAL;
    uint8_t id[16];
    size_t n = 0;
    for (size_t i = 0; i < CK_UUID_STRLEN; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_dash_pos(i)) {
            if (c != '-')
                return -CK_EINVAL;
            continue;
        }
        /* Every group has an even number of digits, so a pair never spans a dash. */
        int hi = hexval(c);
        int lo = hexval((unsigned char)s[i + 1]);
        if (hi < 0 || lo < 0)
            return -CK_EINVAL;
        id[n++] = (uint8_t)(hi << 4 | lo);
        i++;
    }
    memcpy(out, id, sizeof id);
    return 0;
}

/* "000102...ff": the two hex digits of every byte value. */
static const char hex_pairs[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

static inline void put_hex(char *out, const uint8_t *id, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        memcpy(out + 2 * i, hex_pairs + 2 * id[i], 2);
}

void ck_uuid_format(const uint8_t id[16], char out[37])
{
    /* Every row a client reads formats several ids: two digits per byte from a
     * table, the groups 8-4-4-4-12 in straight-line code. */
    put_hex(out, id, 4);
    out[8] = '-';
    put_hex(out + 9, id + 4, 2);
    out[13] = '-';
    put_hex(out + 14, id + 6, 2);
    out[18] = '-';
    put_hex(out + 19, id + 8, 2);
    out[23] = '-';
    put_hex(out + 24, id + 10, 6);
    out[36] = '\0';
}

static uint64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec < 0)
        return 0;
    return ((uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u) & V7_MS_MASK;
}

void ck_uuid_v7(uint8_t out[16])
{
    uint8_t rnd[10];
    pthread_once(&sodium_once, sodium_init_once);
    randombytes_buf(rnd, sizeof rnd);

    /* A fresh millisecond starts its sequence below 2048, which leaves at least
     * 2048 increments before the carry has to borrow the next millisecond. */
    uint64_t now = realtime_ms();
    uint64_t fresh = now << V7_SEQ_BITS | ((uint64_t)(rnd[0] << 8 | rnd[1]) & 0x7ff);
    uint64_t last = atomic_load(&v7_last);
    uint64_t next;
    do {
        next = now > last >> V7_SEQ_BITS ? fresh : last + 1;
    } while (!atomic_compare_exchange_weak(&v7_last, &last, next));

    uint64_t ms = next >> V7_SEQ_BITS & V7_MS_MASK;
    unsigned seq = (unsigned)(next & ((1u << V7_SEQ_BITS) - 1));
    for (int i = 0; i < 6; i++)
        out[i] = (uint8_t)(ms >> (40 - 8 * i));
    out[6] = (uint8_t)(0x70 | seq >> 8);
    out[7] = (uint8_t)seq;
    out[8] = (uint8_t)(0x80 | (rnd[2] & 0x3f));
    memcpy(out + 9, rnd + 3, 7);
}

int64_t ck_uuid_v7_ms(const uint8_t id[16])
{
    uint64_t ms = 0;
    for (int i = 0; i < 6; i++)
        ms = ms << 8 | id[i];
    return (int64_t)ms;
}
