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

void ck_uuid_format(const uint8_t id[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[id[i] >> 4];
        out[o++] = hex[id[i] & 0x0f];
    }
    out[o] = '\0';
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
