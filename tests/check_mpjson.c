/*
 * msgpack to JSON (protocol/mpjson.c): every msgpack type against known JSON
 * text, RFC 8259 string escaping and UTF-8 repair, RFC 4648 base64 vectors,
 * non-string map keys, truncation at every byte, the nesting limit (also through
 * map keys), and random bytes.
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
#include "mpjson.h"

#define B(s) s, sizeof(s) - 1

struct vec {
    const char *name;
    const char *mp;
    size_t len;
    const char *json;
};

/* One vector per line. */
/* clang-format off */
static const struct vec vecs[] = {
    {"nil", B("\xc0"), "null"},
    {"true", B("\xc3"), "true"},
    {"false", B("\xc2"), "false"},
    {"fixint 0", B("\x00"), "0"},
    {"fixint 127", B("\x7f"), "127"},
    {"negfixint -1", B("\xff"), "-1"},
    {"negfixint -32", B("\xe0"), "-32"},
    {"uint64 max", B("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), "18446744073709551615"},
    {"int64 min", B("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"), "-9223372036854775808"},
    {"int16 -300", B("\xd1\xfe\xd4"), "-300"},
    {"float64 1.5", B("\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"), "1.5"},
    {"float64 0.1", B("\xcb\x3f\xb9\x99\x99\x99\x99\x99\x9a"), "0.10000000000000001"},
    {"float32 0.1", B("\xca\x3d\xcc\xcc\xcd"), "0.10000000149011612"},
    {"float64 -0", B("\xcb\x80\x00\x00\x00\x00\x00\x00\x00"), "-0.0"},
    {"float64 2", B("\xcb\x40\x00\x00\x00\x00\x00\x00\x00"), "2.0"},
    {"float64 1e20", B("\xcb\x44\x15\xaf\x1d\x78\xb5\x8c\x40"), "1e+20"},
    {"float32 -3", B("\xca\xc0\x40\x00\x00"), "-3.0"},
    {"float64 1e300", B("\xcb\x7e\x37\xe4\x3c\x88\x00\x75\x9c"), "1.0000000000000001e+300"},
    {"float64 NaN", B("\xcb\x7f\xf8\x00\x00\x00\x00\x00\x00"), "null"},
    {"float64 +inf", B("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00"), "null"},
    {"float32 -inf", B("\xca\xff\x80\x00\x00"), "null"},
    {"str empty", B("\xa0"), "\"\""},
    {"str ascii", B("\xa5hello"), "\"hello\""},
    {"str8", B("\xd9\x03" "abc"), "\"abc\""},
    {"str escapes", B("\xa8q\"b\\s/\n\t"), "\"q\\\"b\\\\s/\\n\\t\""},
    {"str controls", B("\xa6\x00\x01\x08\x0c\x0d\x1f"), "\"\\u0000\\u0001\\b\\f\\r\\u001f\""},
    {"str del kept", B("\xa1\x7f"), "\"\x7f\""},
    {"str utf8", B("\xa9\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\""},
    {"str utf8 U+10FFFF", B("\xa4\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""},
    {"str bad byte", B("\xa3" "a\xff" "b"), "\"a\xef\xbf\xbd" "b\""},
    {"str overlong", B("\xa2\xc0\xaf"), "\"\xef\xbf\xbd\xef\xbf\xbd\""},
    {"str surrogate", B("\xa3\xed\xa0\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
    {"str above U+10FFFF", B("\xa4\xf4\x90\x80\x80"), "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
    {"str cut sequence", B("\xa3\xe2\x82z"), "\"\xef\xbf\xbd\xef\xbf\xbdz\""},
    {"str lone continuation", B("\xa1\x80"), "\"\xef\xbf\xbd\""},
    {"bin empty", B("\xc4\x00"), "\"\""},
    {"bin f", B("\xc4\x01" "f"), "\"Zg==\""},
    {"bin fo", B("\xc4\x02" "fo"), "\"Zm8=\""},
    {"bin foo", B("\xc4\x03" "foo"), "\"Zm9v\""},
    {"bin foob", B("\xc4\x04" "foob"), "\"Zm9vYg==\""},
    {"bin fooba", B("\xc4\x05" "fooba"), "\"Zm9vYmE=\""},
    {"bin foobar", B("\xc4\x06" "foobar"), "\"Zm9vYmFy\""},
    {"bin high bytes", B("\xc4\x03\xff\xfe\xfd"), "\"//79\""},
    {"fixext1", B("\xd4\x05\x01"), "{\"$ext\":5,\"data\":\"AQ==\"}"},
    {"timestamp32", B("\xd6\xff\x00\x00\x00\x01"), "{\"$ext\":-1,\"data\":\"AAAAAQ==\"}"},
    {"ext8 empty", B("\xc7\x00\x07"), "{\"$ext\":7,\"data\":\"\"}"},
    {"array empty", B("\x90"), "[]"},
    {"map empty", B("\x80"), "{}"},
    {"array16 empty", B("\xdc\x00\x00"), "[]"},
    {"array", B("\x93\x01\xa1x\xc0"), "[1,\"x\",null]"},
    {"nested", B("\x92\x91\x90\x81\xa1k\x80"), "[[[]],{\"k\":{}}]"},
    {"map", B("\x82\xa1" "a\x01\xa1" "b\x92\xc3\xc2"), "{\"a\":1,\"b\":[true,false]}"},
    {"map key int", B("\x81\x01\xa1v"), "{\"1\":\"v\"}"},
    {"map key negative", B("\x81\xff\xc0"), "{\"-1\":null}"},
    {"map key nil", B("\x81\xc0\x00"), "{\"null\":0}"},
    {"map key bool", B("\x82\xc3\x01\xc2\x00"), "{\"true\":1,\"false\":0}"},
    {"map key array", B("\x81\x92\x01\x02\xc3"), "{\"[1,2]\":true}"},
    {"map key map", B("\x81\x81\xa1" "a\x01\x02"), "{\"{\\\"a\\\":1}\":2}"},
    {"map key bin", B("\x81\xc4\x02\x00\x01\xa0"), "{\"\\\"AAE=\\\"\":\"\"}"},
    {"map key float", B("\x81\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00\x90"), "{\"1.5\":[]}"},
    {"map key escaped str", B("\x81\xa2\"\n\x01"), "{\"\\\"\\n\":1}"},
    {"map in array in map", B("\x81\xa1m\x92\x81\xa1x\x01\x80"), "{\"m\":[{\"x\":1},{}]}"},
};
/* clang-format on */
#define NVEC (sizeof vecs / sizeof vecs[0])

START_TEST(test_vectors)
{
    const struct vec *v = &vecs[_i];
    struct buf out = BUF_INIT;
    buf_append(&out, "prefix:", 7); /* output is appended, earlier contents kept */
    const char *p = v->mp;
    int rc = mp_to_json(&p, v->mp + v->len, &out);
    ck_assert_msg(rc == 0, "%s: rc %d", v->name, rc);
    ck_assert_msg(p == v->mp + v->len, "%s: consumed %td of %zu", v->name, p - v->mp, v->len);
    ck_assert_uint_eq(out.len, 7 + strlen(v->json));
    ck_assert_msg(memcmp(out.data, "prefix:", 7) == 0 &&
                      memcmp(out.data + 7, v->json, strlen(v->json)) == 0,
                  "%s: got %.*s want %s", v->name, (int)out.len - 7, out.data + 7, v->json);
    buf_free(&out);
}
END_TEST

/* Every strict prefix of every vector: -CK_EAGAIN, nothing consumed, nothing written. */
START_TEST(test_truncated)
{
    const struct vec *v = &vecs[_i];
    for (size_t n = 0; n < v->len; n++) {
        char *copy = malloc(n ? n : 1); /* exact size, so ASan sees any over-read */
        memcpy(copy, v->mp, n);
        struct buf out = BUF_INIT;
        buf_append(&out, "keep", 4);
        const char *p = copy;
        ck_assert_msg(mp_to_json(&p, copy + n, &out) == -CK_EAGAIN, "%s cut at %zu", v->name, n);
        ck_assert_ptr_eq(p, copy);
        ck_assert_uint_eq(out.len, 4);
        ck_assert(!out.oom);
        buf_free(&out);
        free(copy);
    }
}
END_TEST

START_TEST(test_one_object_only)
{
    static const char two[] = "\x01\x92\x02\x03";
    struct buf out = BUF_INIT;
    const char *p = two;
    ck_assert_int_eq(mp_to_json(&p, two + 4, &out), 0);
    ck_assert_ptr_eq(p, two + 1);
    ck_assert_int_eq(mp_to_json(&p, two + 4, &out), 0);
    ck_assert_ptr_eq(p, two + 4);
    ck_assert_uint_eq(out.len, 6);
    ck_assert_int_eq(memcmp(out.data, "1[2,3]", 6), 0);
    buf_free(&out);
}
END_TEST

START_TEST(test_bad_bytes)
{
    static const char c1[] = "\x92\x01\xc1";
    struct buf out = BUF_INIT;
    const char *p = c1;
    ck_assert_int_eq(mp_to_json(&p, c1 + 3, &out), -CK_EBADREQ);
    ck_assert_ptr_eq(p, c1);
    ck_assert_uint_eq(out.len, 0);

    /* A count the bytes cannot hold is caught without allocating for it. */
    static const char huge[] = "\xdd\xff\xff\xff\xff\x01";
    p = huge;
    ck_assert_int_eq(mp_to_json(&p, huge + 6, &out), -CK_EAGAIN);
    static const char hugemap[] = "\xdf\xff\xff\xff\xff\xa1k";
    p = hugemap;
    ck_assert_int_eq(mp_to_json(&p, hugemap + 7, &out), -CK_EAGAIN);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&out);

    /* A buffer that already failed to grow is refused up front. */
    struct buf oom = BUF_INIT;
    oom.oom = true;
    p = c1 + 1;
    ck_assert_int_eq(mp_to_json(&p, c1 + 2, &oom), -CK_ENOMEM);
    ck_assert_ptr_eq(p, c1 + 1);
}
END_TEST

static void nested_arrays(struct buf *b, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        buf_push(b, 0x91);
    buf_push(b, 0x01);
}

START_TEST(test_depth)
{
    struct buf in = BUF_INIT, out = BUF_INIT;
    nested_arrays(&in, MP_JSON_MAX_DEPTH);
    const char *p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), 0);
    ck_assert_uint_eq(out.len, 2 * MP_JSON_MAX_DEPTH + 1);
    ck_assert_int_eq(out.data[MP_JSON_MAX_DEPTH], '1');

    buf_reset(&in);
    buf_reset(&out);
    nested_arrays(&in, MP_JSON_MAX_DEPTH + 1);
    p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), -CK_ETOOLARGE);
    ck_assert_ptr_eq(p, in.data);
    ck_assert_uint_eq(out.len, 0);

    /* Containers nested through non-str keys count towards the depth limit. */
    buf_reset(&in);
    buf_push(&in, 0x81);
    nested_arrays(&in, MP_JSON_MAX_DEPTH); /* the key: one level too deep */
    buf_push(&in, 0xc0);
    buf_reset(&out);
    p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), -CK_ETOOLARGE);
    ck_assert_uint_eq(out.len, 0);
    buf_free(&in);
    buf_free(&out);
}
END_TEST

/* {k: v} with k the map {k: v} ... `levels` times, the innermost key "\"". */
static void nested_keys(struct buf *b, unsigned levels)
{
    for (unsigned i = 0; i < levels; i++)
        buf_push(b, 0x81);
    buf_append(b, "\xa1\"", 2);
    for (unsigned i = 0; i < levels; i++)
        buf_push(b, 0x01);
}

/* Each key level escapes the text inside it again, doubling it: bounded, not 2^n. */
START_TEST(test_key_depth)
{
    struct buf in = BUF_INIT, out = BUF_INIT;
    nested_keys(&in, MP_JSON_MAX_KEY_DEPTH + 1); /* the outer map's key is not a key level */
    const char *p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), 0);
    ck_assert_ptr_eq(p, in.data + in.len);
    /* {"{\"{\\\"\\\\\\\"\\\":1}\":1}":1} for a limit of 2. */
    static const char want[] = "{\"{\\\"{\\\\\\\"\\\\\\\\\\\\\\\"\\\\\\\":1}\\\":1}\":1}";
    ck_assert_uint_eq(MP_JSON_MAX_KEY_DEPTH, 2);
    ck_assert_msg(out.len == sizeof want - 1 && memcmp(out.data, want, out.len) == 0, "got %.*s",
                  (int)out.len, out.data);

    buf_reset(&in);
    buf_reset(&out);
    nested_keys(&in, MP_JSON_MAX_KEY_DEPTH + 2);
    p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), -CK_ETOOLARGE);
    ck_assert_ptr_eq(p, in.data);
    ck_assert_uint_eq(out.len, 0);

    /* Deep enough to print 2^100000 bytes without the limit: refused at once. */
    buf_reset(&in);
    nested_keys(&in, 100000);
    p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), -CK_ETOOLARGE);
    ck_assert_uint_eq(out.len, 0);

    /* Scalar keys inside a composite key are fine at the last level. */
    static const char ok[] = "\x81\x91\x81\x01\x02\xc0"; /* {[{1:2}]: nil} */
    buf_reset(&out);
    p = ok;
    ck_assert_int_eq(mp_to_json(&p, ok + sizeof ok - 1, &out), 0);
    ck_assert_uint_eq(out.len, strlen("{\"[{\\\"1\\\":2}]\":null}"));
    ck_assert_int_eq(memcmp(out.data, "{\"[{\\\"1\\\":2}]\":null}", out.len), 0);
    buf_free(&in);
    buf_free(&out);
}
END_TEST

/* A document packed by msgpack-c with long strings that need escaping throughout. */
START_TEST(test_packed_document)
{
    struct buf in = BUF_INIT, out = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &in);
    char big[70000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i % 7 == 0 ? '\n' : 'a' + i % 26);
    msgpack_pack_map(&pk, 3);
    mp_pack_cstr(&pk, "big");
    mp_pack_str(&pk, big, sizeof big);
    mp_pack_cstr(&pk, "nums");
    msgpack_pack_array(&pk, 3);
    msgpack_pack_int64(&pk, INT64_MIN);
    msgpack_pack_uint64(&pk, UINT64_MAX);
    msgpack_pack_double(&pk, 2.5);
    mp_pack_cstr(&pk, "bin");
    msgpack_pack_bin(&pk, 100000);
    msgpack_pack_bin_body(&pk, big, sizeof big);
    msgpack_pack_bin_body(&pk, big, 100000 - sizeof big);
    ck_assert(!in.oom);

    const char *p = in.data;
    ck_assert_int_eq(mp_to_json(&p, in.data + in.len, &out), 0);
    ck_assert_ptr_eq(p, in.data + in.len);
    /* 70000 bytes, 10000 of them '\n' written as two characters; base64 of 100000 bytes. */
    size_t expect = strlen("{\"big\":\"\",\"nums\":[-9223372036854775808,18446744073709551615,2.5]"
                           ",\"bin\":\"\"}") +
                    70000 + 10000 + (100000 + 2) / 3 * 4;
    ck_assert_uint_eq(out.len, expect);
    static const char head[] = "{\"big\":\"\\nbcdefg\\n";
    ck_assert_int_eq(memcmp(out.data, head, sizeof head - 1), 0);
    buf_free(&in);
    buf_free(&out);
}
END_TEST

/* Random bytes: any outcome but a crash, an over-read (ASan) or a lie about progress. */
START_TEST(test_random_bytes)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    struct buf out = BUF_INIT;
    for (unsigned round = 0; round < 20000; round++) {
        unsigned char bytes[48];
        size_t n = 1 + round % sizeof bytes;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            /* Bias towards small containers and short strings so documents nest. */
            unsigned char c = (unsigned char)x;
            bytes[i] = (x >> 40) % 3 == 0 ? (unsigned char)(0x90 | (c & 3)) : c;
        }
        char *copy = malloc(n);
        memcpy(copy, bytes, n);
        const char *p = copy;
        buf_reset(&out);
        int rc = mp_to_json(&p, copy + n, &out);
        if (rc == 0) {
            ck_assert(p > copy && p <= copy + n);
            ck_assert_uint_gt(out.len, 0);
        } else {
            ck_assert(rc == -CK_EAGAIN || rc == -CK_EBADREQ || rc == -CK_ETOOLARGE);
            ck_assert_ptr_eq(p, copy);
            ck_assert_uint_eq(out.len, 0);
        }
        free(copy);
    }
    buf_free(&out);
}
END_TEST

static Suite *mpjson_suite(void)
{
    Suite *s = suite_create("mpjson");
    TCase *tc = tcase_create("convert");
    tcase_add_loop_test(tc, test_vectors, 0, (int)NVEC);
    tcase_add_loop_test(tc, test_truncated, 0, (int)NVEC);
    tcase_add_test(tc, test_one_object_only);
    tcase_add_test(tc, test_packed_document);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_test(tc, test_bad_bytes);
    tcase_add_test(tc, test_depth);
    tcase_add_test(tc, test_key_depth);
    tcase_add_test(tc, test_random_bytes);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(mpjson_suite());
}
