/*
 * The zero-copy msgpack reader (protocol/mp.c): every format family at its
 * boundary values, truncation at every byte, nested skipping, map lookup, and
 * round-trips against msgpack-c's own packer.
 */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ckrun.h"
#include "clinickv/error.h"
#include "mp.h"

/* One hand-encoded object and what mp_next() must make of it. */
struct vec {
    const char *name;
    const char *bytes;
    size_t len;      /* encoded length */
    size_t consumed; /* bytes mp_next() consumes: the header only for arrays and maps */
    enum mp_type type;
    uint64_t u;      /* MP_UINT */
    int64_t i;       /* MP_INT */
    double f;        /* MP_FLOAT */
    uint32_t n;      /* MP_ARRAY/MP_MAP count; MP_STR/MP_BIN/MP_EXT data length */
    int8_t ext_type; /* MP_EXT */
    size_t data_off; /* MP_STR/MP_BIN/MP_EXT: where the data starts */
    bool b;          /* MP_BOOL */
};

#define B(s) s, sizeof(s) - 1

static const struct vec scalars[] = {
    {"nil", B("\xc0"), 1, MP_NIL, 0, 0, 0, 0, 0, 0, false},
    {"false", B("\xc2"), 1, MP_BOOL, 0, 0, 0, 0, 0, 0, false},
    {"true", B("\xc3"), 1, MP_BOOL, 0, 0, 0, 0, 0, 0, true},
    {"posfixint 0", B("\x00"), 1, MP_UINT, 0, 0, 0, 0, 0, 0, false},
    {"posfixint 127", B("\x7f"), 1, MP_UINT, 127, 0, 0, 0, 0, 0, false},
    {"negfixint -32", B("\xe0"), 1, MP_INT, 0, -32, 0, 0, 0, 0, false},
    {"negfixint -1", B("\xff"), 1, MP_INT, 0, -1, 0, 0, 0, 0, false},
    {"uint8 0", B("\xcc\x00"), 2, MP_UINT, 0, 0, 0, 0, 0, 0, false},
    {"uint8 128", B("\xcc\x80"), 2, MP_UINT, 128, 0, 0, 0, 0, 0, false},
    {"uint8 255", B("\xcc\xff"), 2, MP_UINT, 255, 0, 0, 0, 0, 0, false},
    {"uint16 256", B("\xcd\x01\x00"), 3, MP_UINT, 256, 0, 0, 0, 0, 0, false},
    {"uint16 65535", B("\xcd\xff\xff"), 3, MP_UINT, 65535, 0, 0, 0, 0, 0, false},
    {"uint32 65536", B("\xce\x00\x01\x00\x00"), 5, MP_UINT, 65536, 0, 0, 0, 0, 0, false},
    {"uint32 max", B("\xce\xff\xff\xff\xff"), 5, MP_UINT, UINT32_MAX, 0, 0, 0, 0, 0, false},
    {"uint64 2^32", B("\xcf\x00\x00\x00\x01\x00\x00\x00\x00"), 9, MP_UINT, 1ull << 32, 0, 0, 0, 0,
     0, false},
    {"uint64 max", B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), 9, MP_UINT, UINT64_MAX, 0, 0, 0, 0, 0,
     false},
    {"int8 -128", B("\xd0\x80"), 2, MP_INT, 0, -128, 0, 0, 0, 0, false},
    {"int8 -33", B("\xd0\xdf"), 2, MP_INT, 0, -33, 0, 0, 0, 0, false},
    {"int8 127 reads as uint", B("\xd0\x7f"), 2, MP_UINT, 127, 0, 0, 0, 0, 0, false},
    {"int8 0 reads as uint", B("\xd0\x00"), 2, MP_UINT, 0, 0, 0, 0, 0, 0, false},
    {"int16 -32768", B("\xd1\x80\x00"), 3, MP_INT, 0, INT16_MIN, 0, 0, 0, 0, false},
    {"int16 32767", B("\xd1\x7f\xff"), 3, MP_UINT, INT16_MAX, 0, 0, 0, 0, 0, false},
    {"int32 min", B("\xd2\x80\x00\x00\x00"), 5, MP_INT, 0, INT32_MIN, 0, 0, 0, 0, false},
    {"int32 -1", B("\xd2\xff\xff\xff\xff"), 5, MP_INT, 0, -1, 0, 0, 0, 0, false},
    {"int32 max", B("\xd2\x7f\xff\xff\xff"), 5, MP_UINT, INT32_MAX, 0, 0, 0, 0, 0, false},
    {"int64 min", B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), 9, MP_INT, 0, INT64_MIN, 0, 0, 0, 0,
     false},
    {"int64 max", B("\xd3\x7f\xff\xff\xff\xff\xff\xff\xff"), 9, MP_UINT, INT64_MAX, 0, 0, 0, 0, 0,
     false},
    {"float32 1.5", B("\xca\x3f\xc0\x00\x00"), 5, MP_FLOAT, 0, 0, 1.5, 0, 0, 0, false},
    {"float32 -0.25", B("\xca\xbe\x80\x00\x00"), 5, MP_FLOAT, 0, 0, -0.25, 0, 0, 0, false},
    {"float64 1.5", B("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"), 9, MP_FLOAT, 0, 0, 1.5, 0, 0, 0,
     false},
    {"float64 -1e300", B("\xcb\xfe\x37\xe4\x3c\x88\x00\x75\x9c"), 9, MP_FLOAT, 0, 0, -1e300, 0, 0,
     0, false},
    {"fixstr empty", B("\xa0"), 1, MP_STR, 0, 0, 0, 0, 0, 1, false},
    {"fixstr abc",
     B("\xa3"
       "abc"),
     4, MP_STR, 0, 0, 0, 3, 0, 1, false},
    {"str8", B("\xd9\x02xy"), 4, MP_STR, 0, 0, 0, 2, 0, 2, false},
    {"str16", B("\xda\x00\x01z"), 4, MP_STR, 0, 0, 0, 1, 0, 3, false},
    {"str32", B("\xdb\x00\x00\x00\x02hi"), 7, MP_STR, 0, 0, 0, 2, 0, 5, false},
    {"bin8 empty", B("\xc4\x00"), 2, MP_BIN, 0, 0, 0, 0, 0, 2, false},
    {"bin8", B("\xc4\x03\x00\xff\x01"), 5, MP_BIN, 0, 0, 0, 3, 0, 2, false},
    {"bin16", B("\xc5\x00\x02\xc1\xc1"), 5, MP_BIN, 0, 0, 0, 2, 0, 3, false},
    {"bin32", B("\xc6\x00\x00\x00\x01\x7f"), 6, MP_BIN, 0, 0, 0, 1, 0, 5, false},
    {"fixarray 0", B("\x90"), 1, MP_ARRAY, 0, 0, 0, 0, 0, 0, false},
    {"fixarray 15", B("\x9f"), 1, MP_ARRAY, 0, 0, 0, 15, 0, 0, false},
    {"array16", B("\xdc\x00\x10"), 3, MP_ARRAY, 0, 0, 0, 16, 0, 0, false},
    {"array16 max", B("\xdc\xff\xff"), 3, MP_ARRAY, 0, 0, 0, 65535, 0, 0, false},
    {"array32", B("\xdd\x00\x01\x00\x00"), 5, MP_ARRAY, 0, 0, 0, 65536, 0, 0, false},
    {"array32 max", B("\xdd\xff\xff\xff\xff"), 5, MP_ARRAY, 0, 0, 0, UINT32_MAX, 0, 0, false},
    {"fixmap 0", B("\x80"), 1, MP_MAP, 0, 0, 0, 0, 0, 0, false},
    {"fixmap 15", B("\x8f"), 1, MP_MAP, 0, 0, 0, 15, 0, 0, false},
    {"map16", B("\xde\x00\x10"), 3, MP_MAP, 0, 0, 0, 16, 0, 0, false},
    {"map32 max", B("\xdf\xff\xff\xff\xff"), 5, MP_MAP, 0, 0, 0, UINT32_MAX, 0, 0, false},
    {"fixext1", B("\xd4\x05\xaa"), 3, MP_EXT, 0, 0, 0, 1, 5, 2, false},
    {"fixext2", B("\xd5\xfe\xaa\xbb"), 4, MP_EXT, 0, 0, 0, 2, -2, 2, false},
    {"fixext4 timestamp32", B("\xd6\xff\x00\x00\x00\x01"), 6, MP_EXT, 0, 0, 0, 4, -1, 2, false},
    {"fixext8", B("\xd7\x01\x01\x02\x03\x04\x05\x06\x07\x08"), 10, MP_EXT, 0, 0, 0, 8, 1, 2, false},
    {"fixext16",
     B("\xd8\x7f"
       "0123456789abcdef"),
     18, MP_EXT, 0, 0, 0, 16, 127, 2, false},
    {"ext8 empty", B("\xc7\x00\x80"), 3, MP_EXT, 0, 0, 0, 0, -128, 3, false},
    {"ext8 timestamp96",
     B("\xc7\x0c\xff"
       "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01"),
     15, MP_EXT, 0, 0, 0, 12, -1, 3, false},
    {"ext16", B("\xc8\x00\x03\x10xyz"), 7, MP_EXT, 0, 0, 0, 3, 16, 4, false},
    {"ext32", B("\xc9\x00\x00\x00\x01\x20q"), 7, MP_EXT, 0, 0, 0, 1, 32, 6, false},
};

#define NVEC (sizeof scalars / sizeof scalars[0])

static void check_obj(const struct vec *v, const char *base, const struct mp_obj *o)
{
    ck_assert_msg(o->type == v->type, "%s: type %d, want %d", v->name, o->type, v->type);
    switch (v->type) {
    case MP_NIL: break;
    case MP_BOOL: ck_assert_msg(o->v.b == v->b, "%s", v->name); break;
    case MP_UINT:
        ck_assert_msg(o->v.u == v->u, "%s: %llu", v->name, (unsigned long long)o->v.u);
        break;
    case MP_INT: ck_assert_msg(o->v.i == v->i, "%s: %lld", v->name, (long long)o->v.i); break;
    case MP_FLOAT:
        ck_assert_msg(o->v.f == v->f && signbit(o->v.f) == signbit(v->f), "%s: %g", v->name,
                      o->v.f);
        break;
    case MP_ARRAY:
    case MP_MAP: ck_assert_msg(o->v.n == v->n, "%s: n=%u", v->name, o->v.n); break;
    case MP_EXT:
    case MP_STR:
    case MP_BIN:
        if (v->type == MP_EXT)
            ck_assert_msg(o->ext_type == v->ext_type, "%s: ext type %d", v->name, o->ext_type);
        ck_assert_msg(o->v.str.len == v->n, "%s: len %u", v->name, o->v.str.len);
        ck_assert_msg(o->v.str.ptr == base + v->data_off, "%s: data pointer", v->name);
        break;
    }
}

/* Each vector decodes to its value and consumes exactly its bytes, in place. */
START_TEST(test_next_vectors)
{
    const struct vec *v = &scalars[_i];
    /* A heap copy, so that ASan sees any read past the object's end. */
    char *copy = malloc(v->len);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, v->bytes, v->len);

    const char *p = copy;
    struct mp_obj o;
    ck_assert_int_eq(mp_next(&p, copy + v->len, &o), 0);
    ck_assert_msg(p == copy + v->consumed, "%s: consumed %td, want %zu", v->name, p - copy,
                  v->consumed);
    check_obj(v, copy, &o);
    free(copy);
}
END_TEST

/* Cut before the object's last byte, every vector is incomplete, and the cursor stays. */
START_TEST(test_next_truncated)
{
    const struct vec *v = &scalars[_i];
    for (size_t cut = 0; cut < v->consumed; cut++) {
        char *copy = malloc(cut ? cut : 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, v->bytes, cut);
        const char *p = copy;
        struct mp_obj o;
        ck_assert_msg(mp_next(&p, copy + cut, &o) == -CK_EAGAIN, "%s cut at %zu", v->name, cut);
        ck_assert_msg(p == copy, "%s cut at %zu moved the cursor", v->name, cut);
        free(copy);
    }
}
END_TEST

START_TEST(test_next_c1)
{
    const char bytes[] = "\xc1\x00";
    const char *p = bytes;
    struct mp_obj o;
    ck_assert_int_eq(mp_next(&p, bytes + 2, &o), -CK_EBADREQ);
    ck_assert_ptr_eq(p, bytes);
    ck_assert_int_eq(mp_skip(&p, bytes + 2), -CK_EBADREQ);
    ck_assert_ptr_eq(p, bytes);
}
END_TEST

/* Every type byte is either 0xc1 or decodes with enough bytes. */
START_TEST(test_next_every_type_byte)
{
    char bytes[32];
    for (unsigned c = 0; c < 256; c++) {
        memset(bytes, 0, sizeof bytes);
        bytes[0] = (char)c;
        const char *p = bytes;
        struct mp_obj o;
        int rc = mp_next(&p, bytes + sizeof bytes, &o);
        if (c == 0xc1) {
            ck_assert_int_eq(rc, -CK_EBADREQ);
        } else {
            ck_assert_msg(rc == 0, "type byte 0x%02x: %d", c, rc);
            ck_assert_msg(p > bytes && p <= bytes + sizeof bytes, "type byte 0x%02x", c);
        }
    }
}
END_TEST

static void pack_init(msgpack_packer *pk, struct buf *b)
{
    buf_reset(b);
    mp_packer_init(pk, b);
}

/* {"a": [1, [2, {"b": nil}], "x"], "c": {}, [1]: {"d": [[], {}]}} then a sentinel 0xc0. */
static void pack_nested(struct buf *b)
{
    msgpack_packer pk;
    pack_init(&pk, b);
    msgpack_pack_map(&pk, 3);
    mp_pack_cstr(&pk, "a");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_array(&pk, 2);
    msgpack_pack_int(&pk, 2);
    msgpack_pack_map(&pk, 1);
    mp_pack_cstr(&pk, "b");
    msgpack_pack_nil(&pk);
    mp_pack_cstr(&pk, "x");
    mp_pack_cstr(&pk, "c");
    msgpack_pack_map(&pk, 0);
    msgpack_pack_array(&pk, 1);
    msgpack_pack_int(&pk, 1);
    msgpack_pack_map(&pk, 1);
    mp_pack_cstr(&pk, "d");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_array(&pk, 0);
    msgpack_pack_map(&pk, 0);
    ck_assert(!b->oom);
}

START_TEST(test_skip_nested)
{
    struct buf b = BUF_INIT;
    pack_nested(&b);
    size_t objlen = b.len;
    buf_push(&b, 0xc0);

    const char *p = b.data;
    ck_assert_int_eq(mp_skip(&p, b.data + b.len), 0);
    ck_assert_ptr_eq(p, b.data + objlen);

    /* Every proper prefix is incomplete and leaves the cursor alone. */
    for (size_t cut = 0; cut < objlen; cut++) {
        p = b.data;
        ck_assert_msg(mp_skip(&p, b.data + cut) == -CK_EAGAIN, "cut %zu", cut);
        ck_assert_ptr_eq(p, b.data);
    }

    /* A scalar skips as itself. */
    const char one[] = "\xcd\x01\x00\xc0";
    p = one;
    ck_assert_int_eq(mp_skip(&p, one + 4), 0);
    ck_assert_ptr_eq(p, one + 3);
    buf_free(&b);
}
END_TEST

/* mp_skip walks at most 64 levels of non-empty containers. */
START_TEST(test_skip_depth)
{
    char bytes[70];
    for (unsigned depth = 60; depth <= 66; depth++) {
        memset(bytes, 0x91, depth); /* [[[ ... */
        bytes[depth] = 0x01;        /* ... 1 ]]] */
        const char *p = bytes;
        int rc = mp_skip(&p, bytes + depth + 1);
        if (depth <= 64) {
            ck_assert_msg(rc == 0, "depth %u: %d", depth, rc);
            ck_assert_ptr_eq(p, bytes + depth + 1);
        } else {
            ck_assert_msg(rc == -CK_ETOOLARGE, "depth %u: %d", depth, rc);
            ck_assert_ptr_eq(p, bytes);
        }
    }
}
END_TEST

/* An element count that the bytes cannot hold is incomplete, not a crash. */
START_TEST(test_skip_huge_claim)
{
    const char bytes[] = "\xdd\xff\xff\xff\xff\x01\x02";
    const char *p = bytes;
    ck_assert_int_eq(mp_skip(&p, bytes + 7), -CK_EAGAIN);
    ck_assert_ptr_eq(p, bytes);
    const char str[] = "\xdb\xff\xff\xff\xff\x41";
    p = str;
    ck_assert_int_eq(mp_skip(&p, str + 6), -CK_EAGAIN);
    ck_assert_ptr_eq(p, str);
}
END_TEST

START_TEST(test_map_find)
{
    struct buf b = BUF_INIT;
    pack_nested(&b);
    const char *end = b.data + b.len;
    const char *p = b.data;
    struct mp_obj o;
    ck_assert_int_eq(mp_next(&p, end, &o), 0);
    ck_assert_int_eq(o.type, MP_MAP);
    ck_assert_uint_eq(o.v.n, 3);

    const char *val = NULL;
    ck_assert_int_eq(mp_map_find(p, end, o.v.n, "a", &val), 0);
    struct mp_obj v;
    ck_assert_int_eq(mp_next(&val, end, &v), 0);
    ck_assert_int_eq(v.type, MP_ARRAY);
    ck_assert_uint_eq(v.v.n, 3);

    /* The value of "c" follows the composite-valued "a"; [1] is a composite key. */
    val = NULL;
    ck_assert_int_eq(mp_map_find(p, end, o.v.n, "c", &val), 0);
    ck_assert_int_eq(mp_next(&val, end, &v), 0);
    ck_assert_int_eq(v.type, MP_MAP);
    ck_assert_uint_eq(v.v.n, 0);

    ck_assert_int_eq(mp_map_find(p, end, o.v.n, "d", &val), -CK_ENOTFOUND);
    ck_assert_int_eq(mp_map_find(p, end, o.v.n, "", &val), -CK_ENOTFOUND);
    ck_assert_int_eq(mp_map_find(p, end, 0, "a", &val), -CK_ENOTFOUND);
    /* A truncated map finds nothing rather than reading past end. */
    ck_assert_int_eq(mp_map_find(p, p + 3, o.v.n, "c", &val), -CK_ENOTFOUND);
    buf_free(&b);

    /* A value equal to the name is not a key: {1: "k"}. */
    const char value_k[] = "\x01\xa1"
                           "k";
    ck_assert_int_eq(mp_map_find(value_k, value_k + 3, 1, "k", &val), -CK_ENOTFOUND);

    /* Keys may arrive as bin: {b"k": 7}. */
    const char bin_key[] = "\xc4\x01"
                           "k"
                           "\x07";
    ck_assert_int_eq(mp_map_find(bin_key, bin_key + 4, 1, "k", &val), 0);
    ck_assert_ptr_eq(val, bin_key + 3);
}
END_TEST

START_TEST(test_obj_helpers)
{
    struct mp_obj o = {.type = MP_UINT};
    int64_t out = 0;
    o.v.u = (uint64_t)INT64_MAX;
    ck_assert(mp_obj_int64(&o, &out));
    ck_assert(out == INT64_MAX);
    o.v.u = (uint64_t)INT64_MAX + 1;
    ck_assert(!mp_obj_int64(&o, &out));
    o.type = MP_INT;
    o.v.i = INT64_MIN;
    ck_assert(mp_obj_int64(&o, &out));
    ck_assert(out == INT64_MIN);
    o.type = MP_FLOAT;
    o.v.f = 1.0;
    ck_assert(!mp_obj_int64(&o, &out));

    o.type = MP_STR;
    o.v.str.ptr = "table";
    o.v.str.len = 5;
    ck_assert(mp_obj_streq(&o, "table"));
    ck_assert(!mp_obj_streq(&o, "tables"));
    ck_assert(!mp_obj_streq(&o, "tabl"));
    o.type = MP_BIN;
    ck_assert(mp_obj_streq(&o, "table"));
    o.type = MP_EXT;
    ck_assert(!mp_obj_streq(&o, "table"));
}
END_TEST

/* Read back one object packed by msgpack-c; it must fill the buffer exactly. */
static void read_back(const struct buf *b, struct mp_obj *o)
{
    const char *p = b->data;
    ck_assert(!b->oom);
    ck_assert_int_eq(mp_next(&p, b->data + b->len, o), 0);
    ck_assert_msg(p == b->data + b->len, "consumed %td of %zu", p - b->data, b->len);
}

START_TEST(test_roundtrip_ints)
{
    static const uint64_t us[] = {0,
                                  1,
                                  127,
                                  128,
                                  255,
                                  256,
                                  65535,
                                  65536,
                                  UINT32_MAX,
                                  1ull << 32,
                                  INT64_MAX,
                                  (uint64_t)INT64_MAX + 1,
                                  UINT64_MAX - 1,
                                  UINT64_MAX};
    static const int64_t is[] = {-1,
                                 -32,
                                 -33,
                                 -128,
                                 -129,
                                 -32768,
                                 -32769,
                                 INT32_MIN,
                                 (int64_t)INT32_MIN - 1,
                                 INT64_MIN + 1,
                                 INT64_MIN};
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    struct mp_obj o;

    for (size_t k = 0; k < sizeof us / sizeof us[0]; k++) {
        pack_init(&pk, &b);
        msgpack_pack_uint64(&pk, us[k]);
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_UINT);
        ck_assert(o.v.u == us[k]);
        if (us[k] <= (uint64_t)INT64_MAX) {
            /* msgpack-c may choose a signed encoding for non-negative values. */
            pack_init(&pk, &b);
            msgpack_pack_int64(&pk, (int64_t)us[k]);
            read_back(&b, &o);
            ck_assert_int_eq(o.type, MP_UINT);
            ck_assert(o.v.u == us[k]);
        }
    }
    for (size_t k = 0; k < sizeof is / sizeof is[0]; k++) {
        pack_init(&pk, &b);
        msgpack_pack_int64(&pk, is[k]);
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_INT);
        ck_assert(o.v.i == is[k]);
        /* The fixed-width packers force each encoding, not just the smallest. */
        if (is[k] >= INT8_MIN) {
            pack_init(&pk, &b);
            msgpack_pack_fix_int8(&pk, (int8_t)is[k]);
            read_back(&b, &o);
            ck_assert(o.type == MP_INT && o.v.i == is[k]);
        }
        if (is[k] >= INT16_MIN) {
            pack_init(&pk, &b);
            msgpack_pack_fix_int16(&pk, (int16_t)is[k]);
            read_back(&b, &o);
            ck_assert(o.type == MP_INT && o.v.i == is[k]);
        }
        if (is[k] >= INT32_MIN) {
            pack_init(&pk, &b);
            msgpack_pack_fix_int32(&pk, (int32_t)is[k]);
            read_back(&b, &o);
            ck_assert(o.type == MP_INT && o.v.i == is[k]);
        }
        pack_init(&pk, &b);
        msgpack_pack_fix_int64(&pk, is[k]);
        read_back(&b, &o);
        ck_assert(o.type == MP_INT && o.v.i == is[k]);
    }
    pack_init(&pk, &b);
    msgpack_pack_fix_uint8(&pk, 0);
    read_back(&b, &o);
    ck_assert(o.type == MP_UINT && o.v.u == 0 && b.len == 2);
    pack_init(&pk, &b);
    msgpack_pack_fix_uint64(&pk, 5);
    read_back(&b, &o);
    ck_assert(o.type == MP_UINT && o.v.u == 5 && b.len == 9);
    buf_free(&b);
}
END_TEST

START_TEST(test_roundtrip_scalars)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    struct mp_obj o;
    static const double ds[] = {0.0, -0.0, 1.5, -2.75, 1e300, -1e-300, INFINITY};

    for (size_t k = 0; k < sizeof ds / sizeof ds[0]; k++) {
        pack_init(&pk, &b);
        msgpack_pack_double(&pk, ds[k]);
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_FLOAT);
        ck_assert(o.v.f == ds[k] && signbit(o.v.f) == signbit(ds[k]));
        pack_init(&pk, &b);
        msgpack_pack_float(&pk, (float)ds[k]);
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_FLOAT);
        ck_assert(o.v.f == (double)(float)ds[k]);
    }
    pack_init(&pk, &b);
    msgpack_pack_double(&pk, NAN);
    read_back(&b, &o);
    ck_assert(o.type == MP_FLOAT && isnan(o.v.f));

    pack_init(&pk, &b);
    msgpack_pack_nil(&pk);
    read_back(&b, &o);
    ck_assert_int_eq(o.type, MP_NIL);
    pack_init(&pk, &b);
    msgpack_pack_true(&pk);
    read_back(&b, &o);
    ck_assert(o.type == MP_BOOL && o.v.b);
    pack_init(&pk, &b);
    msgpack_pack_false(&pk);
    read_back(&b, &o);
    ck_assert(o.type == MP_BOOL && !o.v.b);
    buf_free(&b);
}
END_TEST

/* Lengths on both sides of every encoding boundary of str, bin and ext. */
START_TEST(test_roundtrip_raw)
{
    static const size_t lens[] = {0, 1, 2, 4, 8, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000};
    char *data = malloc(70000);
    ck_assert_ptr_nonnull(data);
    for (size_t k = 0; k < 70000; k++)
        data[k] = (char)(k * 7 + 3);
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    struct mp_obj o;

    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        size_t n = lens[k];
        pack_init(&pk, &b);
        msgpack_pack_str_with_body(&pk, data, n);
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_STR);
        ck_assert_uint_eq(o.v.str.len, n);
        ck_assert(o.v.str.ptr == b.data + b.len - n);
        ck_assert(memcmp(o.v.str.ptr, data, n) == 0);

        pack_init(&pk, &b);
        msgpack_pack_bin_with_body(&pk, data, n);
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_BIN);
        ck_assert_uint_eq(o.v.str.len, n);
        ck_assert(memcmp(o.v.str.ptr, data, n) == 0);

        pack_init(&pk, &b);
        msgpack_pack_ext_with_body(&pk, data, n, (int8_t)(k - 5));
        read_back(&b, &o);
        ck_assert_int_eq(o.type, MP_EXT);
        ck_assert_int_eq(o.ext_type, (int8_t)(k - 5));
        ck_assert_uint_eq(o.v.str.len, n);
        ck_assert(memcmp(o.v.str.ptr, data, n) == 0);
    }
    buf_free(&b);
    free(data);
}
END_TEST

START_TEST(test_roundtrip_containers)
{
    static const uint32_t counts[] = {0, 1, 15, 16, 65535, 65536, UINT32_MAX};
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    struct mp_obj o;

    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        pack_init(&pk, &b);
        msgpack_pack_array(&pk, counts[k]);
        read_back(&b, &o);
        ck_assert(o.type == MP_ARRAY && o.v.n == counts[k]);
        pack_init(&pk, &b);
        msgpack_pack_map(&pk, counts[k]);
        read_back(&b, &o);
        ck_assert(o.type == MP_MAP && o.v.n == counts[k]);
    }

    /* A whole document packed by msgpack-c is walked to its exact end. */
    pack_nested(&b);
    const char *p = b.data;
    ck_assert_int_eq(mp_skip(&p, b.data + b.len), 0);
    ck_assert_ptr_eq(p, b.data + b.len);
    buf_free(&b);
}
END_TEST

static Suite *mp_suite(void)
{
    Suite *s = suite_create("mp");
    TCase *tc = tcase_create("next");
    tcase_add_loop_test(tc, test_next_vectors, 0, (int)NVEC);
    tcase_add_loop_test(tc, test_next_truncated, 0, (int)NVEC);
    tcase_add_test(tc, test_next_c1);
    tcase_add_test(tc, test_next_every_type_byte);
    suite_add_tcase(s, tc);

    tc = tcase_create("skip");
    tcase_add_test(tc, test_skip_nested);
    tcase_add_test(tc, test_skip_depth);
    tcase_add_test(tc, test_skip_huge_claim);
    tcase_add_test(tc, test_map_find);
    tcase_add_test(tc, test_obj_helpers);
    suite_add_tcase(s, tc);

    tc = tcase_create("roundtrip");
    tcase_add_test(tc, test_roundtrip_ints);
    tcase_add_test(tc, test_roundtrip_scalars);
    tcase_add_test(tc, test_roundtrip_raw);
    tcase_add_test(tc, test_roundtrip_containers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(mp_suite());
}
