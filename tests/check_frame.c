/*
 * The frame scanner (protocol/frame.c): a corpus of valid messages fed whole,
 * byte by byte and split in two at every boundary; pipelining; the size and
 * depth limits, including length claims that must be refused from their header
 * alone; and 0xc1. check_framefuzz.c holds the seeded fuzz loop.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ckrun.h"
#include "clinickv/error.h"
#include "frame.h"
#include "mp.h"

/* ------------------------------------------------------------------ helpers */

/* Scan buf[0..len) in one call with a fresh scanner. */
static int scan_whole(const struct frame_limits *lim, const char *buf, size_t len, size_t *flen)
{
    struct frame_scanner s;
    frame_scanner_init(&s, lim);
    return frame_scan(&s, buf, len, flen);
}

/*
 * Feed buf as a connection would see it, `first` bytes and then the rest, and
 * return the first non-zero result (or 0 when all bytes gave none).
 */
static int scan_split(const struct frame_limits *lim, const char *buf, size_t len, size_t first,
                      size_t *flen)
{
    struct frame_scanner s;
    frame_scanner_init(&s, lim);
    int rc = frame_scan(&s, buf, first, flen);
    if (rc != 0)
        return rc;
    return frame_scan(&s, buf, len, flen);
}

/* Feed buf one byte at a time, from zero bytes up to len: the first non-zero result, with
 * in *at how many bytes had arrived when it came (0 and len when none came). */
static int scan_bytewise(const struct frame_limits *lim, const char *buf, size_t len, size_t *flen,
                         size_t *at)
{
    struct frame_scanner s;
    frame_scanner_init(&s, lim);
    for (size_t n = 0; n <= len; n++) {
        int rc = frame_scan(&s, buf, n, flen);
        if (rc != 0) {
            *at = n;
            return rc;
        }
    }
    *at = len;
    return 0;
}

/* A request [0, msgid, method, [params]] whose params map holds `body`, a str of n bytes. */
static void pack_request_with_str(struct buf *b, uint32_t msgid, size_t n)
{
    msgpack_packer pk;
    buf_reset(b);
    mp_packer_init(&pk, b);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_uint32(&pk, msgid);
    mp_pack_cstr(&pk, "row.insert");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 1);
    mp_pack_cstr(&pk, "body");
    msgpack_pack_str(&pk, n);
    if (buf_reserve(b, n) == 0) {
        memset(b->data + b->len, 'x', n);
        b->len += n;
    }
    ck_assert(!b->oom);
}

/* n arrays nested in each other around the scalar 1 (or around nothing: [[[]]]). */
static void pack_nested_arrays(struct buf *b, unsigned n, bool empty_inside)
{
    buf_reset(b);
    for (unsigned k = 0; k < n; k++)
        buf_push(b, k + 1 < n || !empty_inside ? 0x91 : 0x90);
    if (!empty_inside)
        buf_push(b, 0x01);
    ck_assert(!b->oom);
}

/* ------------------------------------------------------------------ corpus */

struct sample {
    const char *name;
    struct buf b;
};

#define NCORPUS 12
static struct sample corpus[NCORPUS];

static void build_corpus(void)
{
    msgpack_packer pk;
    struct buf *b;
    int k = 0;

    b = &corpus[k].b;
    corpus[k++].name = "sys.ping, params []";
    mp_packer_init(&pk, b);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_uint32(&pk, 1);
    mp_pack_cstr(&pk, "sys.ping");
    msgpack_pack_array(&pk, 0);

    b = &corpus[k].b;
    corpus[k++].name = "row.insert with every type";
    mp_packer_init(&pk, b);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_uint32(&pk, UINT32_MAX);
    msgpack_pack_bin_with_body(&pk, "row.insert", 10);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 2);
    mp_pack_cstr(&pk, "table");
    mp_pack_cstr(&pk, "patients");
    mp_pack_cstr(&pk, "row");
    msgpack_pack_map(&pk, 12);
    mp_pack_cstr(&pk, "i8");
    msgpack_pack_int64(&pk, -100);
    mp_pack_cstr(&pk, "i64");
    msgpack_pack_int64(&pk, INT64_MIN);
    mp_pack_cstr(&pk, "u64");
    msgpack_pack_uint64(&pk, UINT64_MAX);
    mp_pack_cstr(&pk, "f32");
    msgpack_pack_float(&pk, 1.5f);
    mp_pack_cstr(&pk, "f64");
    msgpack_pack_double(&pk, -2.25);
    mp_pack_cstr(&pk, "nil");
    msgpack_pack_nil(&pk);
    mp_pack_cstr(&pk, "t");
    msgpack_pack_true(&pk);
    mp_pack_cstr(&pk, "f");
    msgpack_pack_false(&pk);
    mp_pack_cstr(&pk, "blob");
    msgpack_pack_bin_with_body(&pk, "\xc1\xc1\x00", 3);
    mp_pack_cstr(&pk, "ts");
    msgpack_pack_ext_with_body(&pk, "\x00\x00\x00\x01", 4, -1);
    mp_pack_cstr(&pk, "ext300");
    msgpack_pack_ext(&pk, 300, 7);
    for (int i = 0; i < 300; i++)
        buf_push(b, 0xc1); /* data, not a type byte */
    mp_pack_cstr(&pk, "json");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_map(&pk, 0);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_str_with_body(&pk, "", 0);

    b = &corpus[k].b;
    corpus[k++].name = "client notification";
    mp_packer_init(&pk, b);
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 2);
    mp_pack_cstr(&pk, "nvim_set_client_info");
    msgpack_pack_array(&pk, 2);
    mp_pack_cstr(&pk, "pynvim");
    msgpack_pack_map(&pk, 1);
    mp_pack_cstr(&pk, "major");
    msgpack_pack_int(&pk, 0);

    b = &corpus[k].b;
    corpus[k++].name = "1 MiB string";
    pack_request_with_str(b, 7, 1u << 20);

    b = &corpus[k].b;
    corpus[k++].name = "arrays nested at depth 32";
    pack_nested_arrays(b, 32, false);

    b = &corpus[k].b;
    corpus[k++].name = "empty arrays nested at depth 32";
    pack_nested_arrays(b, 32, true);

    b = &corpus[k].b;
    corpus[k++].name = "maps nested at depth 32";
    for (int i = 0; i < 32; i++) {
        buf_push(b, 0x81);
        buf_push(b, 0xa1);
        buf_push(b, 'a');
    }
    buf_push(b, 0xc0);

    b = &corpus[k].b;
    corpus[k++].name = "scalar fixint";
    buf_push(b, 0x05);

    b = &corpus[k].b;
    corpus[k++].name = "scalar float64";
    buf_append(b, "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", 9);

    b = &corpus[k].b;
    corpus[k++].name = "wide encodings of small counts";
    /* array32 of 2: [map16 of 1 {str32 "k": bin32 ""}, array16 of 0] */
    buf_append(b, "\xdd\x00\x00\x00\x02", 5);
    buf_append(b, "\xde\x00\x01", 3);
    buf_append(b, "\xdb\x00\x00\x00\x01k", 6);
    buf_append(b, "\xc6\x00\x00\x00\x00", 5);
    buf_append(b, "\xdc\x00\x00", 3);

    b = &corpus[k].b;
    corpus[k++].name = "every fixext and ext";
    buf_push(b, 0x98);
    buf_append(b,
               "\xd4\x01"
               "a",
               3);
    buf_append(b,
               "\xd5\x01"
               "ab",
               4);
    buf_append(b,
               "\xd6\xff"
               "abcd",
               6);
    buf_append(b,
               "\xd7\x01"
               "abcdefgh",
               10);
    buf_append(b,
               "\xd8\x01"
               "abcdefghabcdefgh",
               18);
    buf_append(b, "\xc7\x00\x01", 3);
    buf_append(b,
               "\xc8\x00\x01\x01"
               "z",
               5);
    buf_append(b,
               "\xc9\x00\x00\x00\x02\x01"
               "zz",
               8);

    b = &corpus[k].b;
    corpus[k++].name = "txn.run with 50 ops";
    mp_packer_init(&pk, b);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_uint32(&pk, 70000);
    mp_pack_cstr(&pk, "txn.run");
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 1);
    mp_pack_cstr(&pk, "ops");
    msgpack_pack_array(&pk, 50);
    for (int i = 0; i < 50; i++) {
        msgpack_pack_map(&pk, 3);
        mp_pack_cstr(&pk, "op");
        mp_pack_cstr(&pk, "update");
        mp_pack_cstr(&pk, "set");
        msgpack_pack_map(&pk, 1);
        mp_pack_cstr(&pk, "quantity");
        msgpack_pack_map(&pk, 1);
        mp_pack_cstr(&pk, "$add");
        msgpack_pack_int(&pk, -i);
        mp_pack_cstr(&pk, "id");
        mp_pack_cstr(&pk, "0190b5a2-7c4e-7a3b-9f1d-2a6c8e4b1d3f");
    }

    ck_assert_int_eq(k, NCORPUS);
    for (k = 0; k < NCORPUS; k++)
        ck_assert_msg(!corpus[k].b.oom, "%s", corpus[k].name);
}

static void free_corpus(void)
{
    for (int k = 0; k < NCORPUS; k++)
        buf_free(&corpus[k].b);
}

/* The corpus really is what it claims: msgpack-c's reader agrees on each length. */
START_TEST(test_corpus_is_valid)
{
    const struct sample *c = &corpus[_i];
    const char *p = c->b.data;
    ck_assert_int_eq(mp_skip(&p, c->b.data + c->b.len), 0);
    ck_assert_ptr_eq(p, c->b.data + c->b.len);
}
END_TEST

START_TEST(test_whole)
{
    const struct sample *c = &corpus[_i];
    size_t flen = 0;
    ck_assert_int_eq(scan_whole(NULL, c->b.data, c->b.len, &flen), 1);
    ck_assert_uint_eq(flen, c->b.len);
}
END_TEST

START_TEST(test_bytewise)
{
    const struct sample *c = &corpus[_i];
    size_t flen = 0, at = 0;
    ck_assert_msg(scan_bytewise(NULL, c->b.data, c->b.len, &flen, &at) == 1, "%s", c->name);
    ck_assert_uint_eq(at, c->b.len); /* not complete a byte too early */
    ck_assert_uint_eq(flen, c->b.len);
}
END_TEST

START_TEST(test_split_everywhere)
{
    const struct sample *c = &corpus[_i];
    for (size_t first = 0; first <= c->b.len; first++) {
        size_t flen = 0;
        int rc = scan_split(NULL, c->b.data, c->b.len, first, &flen);
        require(rc == 1 && flen == c->b.len, "%s split at %zu: rc %d flen %zu", c->name, first, rc,
                flen);
    }
}
END_TEST

/* Every proper prefix needs more bytes; none is mistaken for a frame. */
START_TEST(test_prefixes_incomplete)
{
    const struct sample *c = &corpus[_i];
    size_t step = c->b.len > 4096 ? 4093 : 1;
    for (size_t n = 0; n < c->b.len; n += step) {
        size_t flen = 12345;
        require(scan_whole(NULL, c->b.data, n, &flen) == 0, "%s prefix %zu", c->name, n);
        require(flen == 12345, "%s prefix %zu wrote frame_len", c->name, n);
    }
}
END_TEST

/* All the corpus back to back, then in one buffer fed in chunks of every size. */
START_TEST(test_pipelined)
{
    struct buf all = BUF_INIT;
    size_t lens[NCORPUS * 3];
    size_t nframes = 0;
    for (int r = 0; r < 3; r++) {
        for (int k = 0; k < NCORPUS; k++) {
            buf_append(&all, corpus[k].b.data, corpus[k].b.len);
            lens[nframes++] = corpus[k].b.len;
        }
    }
    ck_assert(!all.oom);

    /* Everything at once: one frame per call, each starting where the last ended. */
    struct frame_scanner s;
    frame_scanner_init(&s, NULL);
    size_t off = 0;
    for (size_t f = 0; f < nframes; f++) {
        size_t flen = 0;
        ck_assert_int_eq(frame_scan(&s, all.data + off, all.len - off, &flen), 1);
        ck_assert_uint_eq(flen, lens[f]);
        off += flen;
    }
    size_t flen = 0;
    ck_assert_int_eq(frame_scan(&s, all.data + off, 0, &flen), 0);

    /* As a connection receives it: chunks of a fixed size, frames consumed as they complete. */
    static const size_t chunks[] = {1, 2, 3, 7, 64, 1000, 65536};
    for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
        frame_scanner_init(&s, NULL);
        size_t start = 0, got = 0, f = 0;
        while (got < all.len) {
            got += chunks[ci];
            if (got > all.len)
                got = all.len;
            int rc;
            while ((rc = frame_scan(&s, all.data + start, got - start, &flen)) == 1) {
                require(flen == lens[f], "chunk %zu frame %zu", chunks[ci], f);
                start += flen;
                f++;
            }
            require(rc == 0, "chunk %zu: rc %d", chunks[ci], rc);
        }
        ck_assert_uint_eq(f, nframes);
        ck_assert_uint_eq(start, all.len);
    }
    buf_free(&all);
}
END_TEST

/* Many tiny frames in one buffer. */
START_TEST(test_many_pipelined)
{
    enum { N = 100000 };
    char *bytes = malloc(N * 2);
    ck_assert_ptr_nonnull(bytes);
    for (size_t k = 0; k < N; k++) {
        bytes[2 * k] = (char)0x91;
        bytes[2 * k + 1] = (char)(k & 0x7f);
    }
    struct frame_scanner s;
    frame_scanner_init(&s, NULL);
    size_t off = 0, n = 0, flen;
    while (frame_scan(&s, bytes + off, N * 2 - off, &flen) == 1) {
        require(flen == 2, "frame %zu: %zu bytes", n, flen);
        off += flen;
        n++;
    }
    ck_assert_uint_eq(n, N);
    ck_assert_uint_eq(off, N * 2);
    free(bytes);
}
END_TEST

/*
 * A 2 MB message of 500,000 small elements fed one byte at a time finishes in
 * well under the test timeout only if scanning is linear; a rescan from the
 * start at every call would take hours.
 */
START_TEST(test_linear_time)
{
    enum { N = 500000 };
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    msgpack_pack_array(&pk, N);
    for (int k = 0; k < N; k++)
        msgpack_pack_int(&pk, k);
    ck_assert(!b.oom);
    size_t flen = 0, at = 0;
    ck_assert_int_eq(scan_bytewise(NULL, b.data, b.len, &flen, &at), 1);
    ck_assert_uint_eq(flen, b.len);
    buf_free(&b);
}
END_TEST

/* ------------------------------------------------------------------ limits */

/* A request of exactly max_message bytes is a frame; one more byte is too large. */
START_TEST(test_max_message_exact)
{
    static const size_t maxes[] = {64, 1000, 70000};
    struct buf b = BUF_INIT;
    for (size_t m = 0; m < sizeof maxes / sizeof maxes[0]; m++) {
        struct frame_limits lim = {maxes[m], 32};
        /* The str length that makes the request exactly max bytes long. */
        size_t n = maxes[m];
        do
            pack_request_with_str(&b, 1, --n);
        while (b.len > maxes[m]);
        ck_assert_uint_eq(b.len, maxes[m]);
        size_t flen = 0, at = 0;
        ck_assert_int_eq(scan_whole(&lim, b.data, b.len, &flen), 1);
        ck_assert_uint_eq(flen, maxes[m]);
        ck_assert_int_eq(scan_bytewise(&lim, b.data, b.len, &flen, &at), 1);
        ck_assert_uint_eq(flen, maxes[m]);

        /* One byte more. Refused once the str header arrives, before its body. */
        pack_request_with_str(&b, 1, n + 1);
        ck_assert_uint_eq(b.len, maxes[m] + 1);
        ck_assert_int_eq(scan_whole(&lim, b.data, b.len, &flen), -CK_ETOOLARGE);
        ck_assert_int_eq(scan_bytewise(&lim, b.data, b.len, &flen, &at), -CK_ETOOLARGE);
        ck_assert_msg(at <= b.len - (n + 1), "refused only at byte %zu", at);
    }
    buf_free(&b);
}
END_TEST

/* The same with the default 16 MiB limit, and with an array of fixints. */
START_TEST(test_max_message_default)
{
    struct frame_limits lim = FRAME_LIMITS_DEFAULT;
    ck_assert_uint_eq(lim.max_message, 16u << 20);
    ck_assert_uint_eq(lim.max_depth, 32);

    struct buf b = BUF_INIT;
    size_t n = (16u << 20) - 100;
    pack_request_with_str(&b, 1, n);
    n += (16u << 20) - b.len;
    pack_request_with_str(&b, 1, n);
    ck_assert_uint_eq(b.len, 16u << 20);
    size_t flen = 0;
    ck_assert_int_eq(scan_whole(NULL, b.data, b.len, &flen), 1);
    ck_assert_uint_eq(flen, b.len);
    pack_request_with_str(&b, 1, n + 1);
    ck_assert_int_eq(scan_whole(NULL, b.data, b.len, &flen), -CK_ETOOLARGE);
    /* The 16 MiB + 1 request is refused as soon as its str32 header (bytes 21..25) is
     * complete; one byte earlier its length could still be within the limit. */
    ck_assert_int_eq(scan_whole(NULL, b.data, 25, &flen), 0);
    ck_assert_int_eq(scan_whole(NULL, b.data, 26, &flen), -CK_ETOOLARGE);

    /* array32 header (5 bytes) + fixints: max - 5 elements fit, max - 4 cannot. */
    struct frame_limits small = {1000, 32};
    buf_reset(&b);
    buf_append(&b, "\xdd\x00\x00\x03\xe3", 5); /* 995 elements */
    for (int k = 0; k < 995; k++)
        buf_push(&b, 0x00);
    ck_assert_int_eq(scan_whole(&small, b.data, b.len, &flen), 1);
    ck_assert_uint_eq(flen, 1000);
    ck_assert_int_eq(scan_whole(&small, "\xdd\x00\x00\x03\xe4", 5, &flen), -CK_ETOOLARGE);
    /* A map's pairs are two objects each: 497 pairs fit after a map32 header, 498 do not. */
    ck_assert_int_eq(scan_whole(&small, "\xdf\x00\x00\x01\xf1", 5, &flen), 0);
    ck_assert_int_eq(scan_whole(&small, "\xdf\x00\x00\x01\xf2", 5, &flen), -CK_ETOOLARGE);
    buf_free(&b);
}
END_TEST

/* 5-byte headers claiming 0xffffffff elements or bytes: refused on the spot. */
START_TEST(test_huge_claims)
{
    static const char *const heads[] = {
        "\xdd\xff\xff\xff\xff",     /* array32 */
        "\xdf\xff\xff\xff\xff",     /* map32 */
        "\xdb\xff\xff\xff\xff",     /* str32 */
        "\xc6\xff\xff\xff\xff",     /* bin32 */
        "\xc9\xff\xff\xff\xff\x01", /* ext32 */
    };
    static const size_t sizes[] = {5, 5, 5, 5, 6};
    struct frame_limits limits[] = {FRAME_LIMITS_DEFAULT, {64, 32}, {(size_t)1 << 31, 32}};
    for (size_t h = 0; h < 5; h++) {
        for (size_t l = 0; l < 3; l++) {
            size_t flen;
            ck_assert_msg(scan_whole(&limits[l], heads[h], sizes[h], &flen) == -CK_ETOOLARGE,
                          "head %zu limit %zu", h, l);
            /* The first two bytes already prove it (the rest is at least zero). */
            ck_assert_msg(scan_whole(&limits[l], heads[h], 2, &flen) == -CK_ETOOLARGE,
                          "head %zu limit %zu, 2 bytes", h, l);
            /* Inside a request envelope, as a client would send it. */
            char req[32];
            size_t n = 0;
            memcpy(req, "\x94\x00\x01\xa1m\x91\x81\xa1k", 9);
            n = 9;
            memcpy(req + n, heads[h], sizes[h]);
            n += sizes[h];
            ck_assert_msg(scan_whole(&limits[l], req, n, &flen) == -CK_ETOOLARGE,
                          "head %zu in request", h);
        }
    }

    /* str16/array16 claims are checked against a small limit too. */
    struct frame_limits small = {100, 32};
    size_t flen;
    ck_assert_int_eq(scan_whole(&small, "\xda\x00\x60", 3, &flen), 0);
    ck_assert_int_eq(scan_whole(&small, "\xda\x00\x61", 3, &flen), 0); /* 3 + 97 = 100 */
    ck_assert_int_eq(scan_whole(&small, "\xda\x00\x62", 3, &flen), -CK_ETOOLARGE);
    ck_assert_int_eq(scan_whole(&small, "\xdc\x00\x61", 3, &flen), 0);
    ck_assert_int_eq(scan_whole(&small, "\xdc\x00\x62", 3, &flen), -CK_ETOOLARGE);
}
END_TEST

/* What the enclosing containers still owe counts against the limit too. */
START_TEST(test_owed_counts)
{
    struct frame_limits lim = {100, 32};
    size_t flen;
    /*
     * [str8 of L, and 3 more elements]: the array header, the str header and body, and one
     * byte for each element still owed: 1 + 2 + L + 3 <= 100 holds for L = 94, not 95,
     * although 1 + 2 + 95 alone would fit.
     */
    ck_assert_int_eq(scan_whole(&lim, "\x94\xd9\x5e", 3, &flen), 0);
    ck_assert_int_eq(scan_whole(&lim, "\x94\xd9\x5f", 3, &flen), -CK_ETOOLARGE);
    /* With 2 more elements owed, L = 95 fits and 96 does not. */
    ck_assert_int_eq(scan_whole(&lim, "\x93\xd9\x5f", 3, &flen), 0);
    ck_assert_int_eq(scan_whole(&lim, "\x93\xd9\x60", 3, &flen), -CK_ETOOLARGE);
    /* Owed elements of outer levels count too: [[str8 of L], x]. */
    ck_assert_int_eq(scan_whole(&lim, "\x92\x91\xd9\x5f", 4, &flen), 0);
    ck_assert_int_eq(scan_whole(&lim, "\x92\x91\xd9\x60", 4, &flen), -CK_ETOOLARGE);
}
END_TEST

START_TEST(test_depth)
{
    struct buf b = BUF_INIT;
    size_t flen = 0, at = 0;
    for (int empty = 0; empty <= 1; empty++) {
        pack_nested_arrays(&b, 32, empty);
        ck_assert_int_eq(scan_whole(NULL, b.data, b.len, &flen), 1);
        pack_nested_arrays(&b, 33, empty);
        ck_assert_int_eq(scan_whole(NULL, b.data, b.len, &flen), -CK_ETOOLARGE);
        /* Refused at the 33rd header, before anything after it arrives. */
        ck_assert_int_eq(scan_bytewise(NULL, b.data, b.len, &flen, &at), -CK_ETOOLARGE);
        ck_assert_uint_eq(at, 33);
    }

    /* Depth is nesting, not the number of containers: [[1], [1], ...] is depth 2. */
    buf_reset(&b);
    buf_append(&b, "\xdc\x01\x00", 3);
    for (int k = 0; k < 256; k++)
        buf_append(&b, "\x91\x01", 2);
    struct frame_limits two = {1 << 20, 2};
    struct frame_limits one = {1 << 20, 1};
    ck_assert_int_eq(scan_whole(&two, b.data, b.len, &flen), 1);
    ck_assert_int_eq(scan_whole(&one, b.data, b.len, &flen), -CK_ETOOLARGE);

    /* A container that ends as the last element of its parent still counts its parent. */
    struct frame_limits three = {1 << 20, 3};
    ck_assert_int_eq(scan_whole(&three, "\x92\x01\x91\x91\x01", 5, &flen), 1);
    ck_assert_int_eq(scan_whole(&three, "\x92\x91\x90\x91\x91\x91\x01", 7, &flen), -CK_ETOOLARGE);
    ck_assert_int_eq(scan_whole(&three, "\x92\x91\x90\x91\x91\x01", 6, &flen), 1);

    /* Maps count as levels, keys included. */
    ck_assert_int_eq(scan_whole(&two, "\x81\x91\x01\x01", 4, &flen), 1);
    ck_assert_int_eq(scan_whole(&one, "\x81\x91\x01\x01", 4, &flen), -CK_ETOOLARGE);

    /* max_depth 0: scalars only. */
    struct frame_limits zero = {1 << 20, 0};
    ck_assert_int_eq(scan_whole(&zero, "\x01", 1, &flen), 1);
    ck_assert_int_eq(scan_whole(&zero, "\x90", 1, &flen), -CK_ETOOLARGE);

    /* A larger max_depth is clamped to FRAME_DEPTH_CAP (64). */
    struct frame_limits deep = {1 << 20, 1000};
    pack_nested_arrays(&b, FRAME_DEPTH_CAP, false);
    ck_assert_int_eq(scan_whole(&deep, b.data, b.len, &flen), 1);
    pack_nested_arrays(&b, FRAME_DEPTH_CAP + 1, false);
    ck_assert_int_eq(scan_whole(&deep, b.data, b.len, &flen), -CK_ETOOLARGE);
    buf_free(&b);
}
END_TEST

/* 0xc1 at the position of any object of a corpus message, fed whole and byte by byte. */
START_TEST(test_c1_anywhere)
{
    const struct sample *c = &corpus[_i];
    char *copy = malloc(c->b.len);
    ck_assert_ptr_nonnull(copy);

    /* Walk the message to learn where each object's type byte is. */
    const char *p = c->b.data;
    const char *end = c->b.data + c->b.len;
    size_t tested = 0;
    while (p < end) {
        size_t pos = (size_t)(p - c->b.data);
        struct mp_obj o;
        require(mp_next(&p, end, &o) == 0, "%s at %zu", c->name, pos);
        if (c->b.len > 4096 && pos > 64)
            continue; /* the 1 MiB sample: its few objects are all near the start */
        memcpy(copy, c->b.data, c->b.len);
        copy[pos] = (char)0xc1;
        size_t flen, at;
        require(scan_whole(NULL, copy, c->b.len, &flen) == -CK_EBADREQ, "%s at %zu", c->name, pos);
        require(scan_bytewise(NULL, copy, c->b.len, &flen, &at) == -CK_EBADREQ, "%s at %zu",
                c->name, pos);
        require(at == pos + 1, "%s at %zu: refused at %zu", c->name, pos, at);
        tested++;
    }
    ck_assert_uint_gt(tested, 0);
    free(copy);
}
END_TEST

/* Errors are sticky, and the byte after a complete frame starts the next one. */
START_TEST(test_error_sticky)
{
    struct frame_scanner s;
    size_t flen = 0;
    frame_scanner_init(&s, NULL);
    ck_assert_int_eq(frame_scan(&s, "\x01\xc1", 2, &flen), 1);
    ck_assert_uint_eq(flen, 1);
    ck_assert_int_eq(frame_scan(&s, "\xc1", 1, &flen), -CK_EBADREQ);
    ck_assert_int_eq(frame_scan(&s, "\x01", 1, &flen), -CK_EBADREQ);
    frame_scanner_init(&s, NULL);
    ck_assert_int_eq(frame_scan(&s, "\x01", 1, &flen), 1);

    struct frame_limits lim = {10, 32};
    frame_scanner_init(&s, &lim);
    ck_assert_int_eq(frame_scan(&s, "\xdc\x00\x20", 3, &flen), -CK_ETOOLARGE);
    ck_assert_int_eq(frame_scan(&s, "\x01", 1, &flen), -CK_ETOOLARGE);

    /* An empty buffer simply needs more, whatever the limit. */
    frame_scanner_init(&s, NULL);
    ck_assert_int_eq(frame_scan(&s, "", 0, &flen), 0);
    ck_assert_int_eq(frame_scan(&s, "", 0, &flen), 0);
}
END_TEST

static Suite *frame_suite(void)
{
    Suite *s = suite_create("frame");
    TCase *tc = tcase_create("corpus");
    tcase_add_unchecked_fixture(tc, build_corpus, free_corpus);
    tcase_set_timeout(tc, 300);
    tcase_add_loop_test(tc, test_corpus_is_valid, 0, NCORPUS);
    tcase_add_loop_test(tc, test_whole, 0, NCORPUS);
    tcase_add_loop_test(tc, test_bytewise, 0, NCORPUS);
    tcase_add_loop_test(tc, test_split_everywhere, 0, NCORPUS);
    tcase_add_loop_test(tc, test_prefixes_incomplete, 0, NCORPUS);
    tcase_add_loop_test(tc, test_c1_anywhere, 0, NCORPUS);
    tcase_add_test(tc, test_pipelined);
    tcase_add_test(tc, test_many_pipelined);
    tcase_add_test(tc, test_linear_time);
    suite_add_tcase(s, tc);

    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_max_message_exact);
    tcase_add_test(tc, test_max_message_default);
    tcase_add_test(tc, test_huge_claims);
    tcase_add_test(tc, test_owed_counts);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_error_sticky);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(frame_suite());
}
