/*
 * The frame scanner (protocol/frame.c) under seeded random input: request
 * envelopes and arbitrary values, mutated with random bytes, 0xc1, huge length
 * claims, cuts and second frames, each checked against mp_skip() and
 * msgpack-c's own unpacker. The seed is fixed, so a failure reproduces.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"
#include "ckrun.h"
#include "clinickv/error.h"
#include "frame.h"
#include "mp.h"

static uint64_t rng_state;

static uint64_t rng(void)
{
    /* xorshift64*: deterministic, so a failure reproduces from the seed alone. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static unsigned rnd(unsigned n)
{
    return (unsigned)(rng() % n);
}

/* Append a random msgpack value, at most `depth` levels of containers deep. */
static void gen_value(msgpack_packer *pk, struct buf *b, int depth)
{
    static const char text[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    unsigned kind = rnd(depth > 0 ? 14 : 11);
    switch (kind) {
    case 0: msgpack_pack_nil(pk); break;
    case 1:
        if (rnd(2))
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        break;
    case 2: msgpack_pack_uint64(pk, rng() >> rnd(64)); break;
    case 3: msgpack_pack_int64(pk, -(int64_t)(rng() >> (rnd(63) + 1))); break;
    case 4: msgpack_pack_double(pk, (double)rng()); break;
    case 5: msgpack_pack_float(pk, (float)rnd(1000)); break;
    case 6:
    case 7: {
        size_t n = rnd(8) == 0 ? rnd(400) : rnd(40);
        msgpack_pack_str(pk, n);
        for (size_t k = 0; k < n; k++)
            buf_push(b, (uint8_t)text[rnd(sizeof text - 1)]);
        break;
    }
    case 8: {
        size_t n = rnd(30);
        msgpack_pack_bin(pk, n);
        for (size_t k = 0; k < n; k++)
            buf_push(b, (uint8_t)rng());
        break;
    }
    case 9: {
        static const size_t ext_lens[] = {1, 2, 4, 8, 16, 0, 3, 12, 300};
        size_t n = ext_lens[rnd(9)];
        msgpack_pack_ext(pk, n, (int8_t)rng());
        for (size_t k = 0; k < n; k++)
            buf_push(b, (uint8_t)rng());
        break;
    }
    case 10: msgpack_pack_uint32(pk, (uint32_t)rng()); break;
    case 11:
    case 12: {
        unsigned n = rnd(6);
        msgpack_pack_array(pk, n);
        for (unsigned k = 0; k < n; k++)
            gen_value(pk, b, depth - 1);
        break;
    }
    default: {
        unsigned n = rnd(5);
        msgpack_pack_map(pk, n);
        for (unsigned k = 0; k < n; k++) {
            gen_value(pk, b, 0);
            gen_value(pk, b, depth - 1);
        }
        break;
    }
    }
}

/* A random message: usually a request envelope, sometimes any value, then mutated. */
static void gen_message(struct buf *b)
{
    msgpack_packer pk;
    buf_reset(b);
    mp_packer_init(&pk, b);
    unsigned shape = rnd(10);
    if (shape < 6) {
        msgpack_pack_array(&pk, 4);
        msgpack_pack_int(&pk, 0);
        msgpack_pack_uint32(&pk, (uint32_t)rng());
        mp_pack_cstr(&pk, "row.query");
        msgpack_pack_array(&pk, 1);
        unsigned n = rnd(4);
        msgpack_pack_map(&pk, n);
        for (unsigned k = 0; k < n; k++) {
            gen_value(&pk, b, 0);
            gen_value(&pk, b, 1 + (int)rnd(5));
        }
    } else if (shape < 8) {
        gen_value(&pk, b, 1 + (int)rnd(6));
    } else {
        size_t n = rnd(64);
        for (size_t k = 0; k < n; k++)
            buf_push(b, (uint8_t)rng());
        return;
    }

    /* Mutations: random bytes, 0xc1, a huge length, a cut, a second frame. */
    unsigned nmut = rnd(4);
    for (unsigned m = 0; m < nmut && b->len > 0; m++) {
        size_t at = rnd((unsigned)b->len);
        switch (rnd(5)) {
        case 0: b->data[at] = (char)rng(); break;
        case 1: b->data[at] = (char)0xc1; break;
        case 2:
            for (size_t k = at + 1; k < at + 5 && k < b->len; k++)
                b->data[k] = (char)0xff;
            break;
        case 3: b->len = at; break;
        default: gen_value(&pk, b, 2); break;
        }
    }
}

/*
 * Invariants over seeded random input:
 *  - a frame found whole is found again when the same bytes arrive in random
 *    chunks, with the same length, and any other result is the same too;
 *  - a frame's length is what mp_skip() and msgpack-c's unpacker both say;
 *  - "needs more" means mp_skip() also runs out of bytes, and 0xc1 means it
 *    also meets 0xc1;
 *  - frames after the first are scanned from where the first ended.
 */
START_TEST(test_fuzz)
{
    enum { ITERATIONS = 200000 };
    struct frame_limits lims[] = {FRAME_LIMITS_DEFAULT, {512, 4}, {4096, 32}};
    struct buf b = BUF_INIT;
    unsigned counts[4] = {0};
    rng_state = 0x9e3779b97f4a7c15ull;

    for (unsigned it = 0; it < ITERATIONS; it++) {
        gen_message(&b);
        require(!b.oom, "it %u: out of memory", it);
        const struct frame_limits *lim = &lims[it % 3];
        const char *data = b.len ? b.data : "";
        size_t off = 0;
        for (int frame = 0; frame < 3; frame++) {
            const char *buf = data + off;
            size_t len = b.len - off;
            size_t flen = 0;
            struct frame_scanner whole;
            frame_scanner_init(&whole, lim);
            int rc = frame_scan(&whole, buf, len, &flen);

            /* The same bytes in random chunks. */
            struct frame_scanner s;
            frame_scanner_init(&s, lim);
            size_t got = 0, flen2 = 0;
            int rc2 = 0;
            do {
                got += 1 + rnd(rnd(4) ? 8 : 200);
                if (got > len)
                    got = len;
                rc2 = frame_scan(&s, buf, got, &flen2);
            } while (rc2 == 0 && got < len);
            require(rc == rc2, "it %u: whole %d, chunked %d", it, rc, rc2);

            const char *p = buf;
            int skip = mp_skip(&p, buf + len);
            if (rc == 1) {
                counts[0]++;
                require(flen2 == flen, "it %u: %zu vs %zu", it, flen, flen2);
                require(skip == 0 && (size_t)(p - buf) == flen, "it %u: skip %d", it, skip);
                require(flen <= lim->max_message, "it %u: %zu bytes", it, flen);
                size_t uoff = 0;
                msgpack_unpacked u;
                msgpack_unpacked_init(&u);
                msgpack_unpack_return ur = msgpack_unpack_next(&u, buf, flen, &uoff);
                require(ur == MSGPACK_UNPACK_SUCCESS && uoff == flen,
                        "it %u: msgpack-c says %d at %zu of %zu", it, (int)ur, uoff, flen);
                msgpack_unpacked_destroy(&u);
                off += flen;
                continue;
            }
            if (rc == 0) {
                counts[1]++;
                require(skip == -CK_EAGAIN, "it %u: needs more, skip %d", it, skip);
            } else if (rc == -CK_EBADREQ) {
                counts[2]++;
                require(skip == -CK_EBADREQ, "it %u: 0xc1, skip %d", it, skip);
            } else {
                counts[3]++;
                require(rc == -CK_ETOOLARGE, "it %u: rc %d", it, rc);
            }
            break;
        }
    }
    /* The generator reaches every outcome often enough to mean something. */
    for (int k = 0; k < 4; k++)
        require(counts[k] > ITERATIONS / 100, "outcome %d seen %u times", k, counts[k]);
    buf_free(&b);
}
END_TEST

static Suite *framefuzz_suite(void)
{
    Suite *s = suite_create("framefuzz");
    TCase *tc = tcase_create("fuzz");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_fuzz);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(framefuzz_suite());
}
