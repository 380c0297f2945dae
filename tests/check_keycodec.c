/*
 * The key codec's promise, checked as a property: for many values of every
 * type, in both directions, memcmp order of the encodings (shorter first on a
 * common prefix, as LMDB compares) is the order of the values, and equal values
 * encode equal. Composite keys of mixed directions order as tuples.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "clinickv/error.h"
#include "decimal.h"
#include "keycodec.h"

/* ------------------------------------------------------------------ helpers */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64: a fixed seed makes every failure reproducible. */
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static uint64_t rnd_below(uint64_t n)
{
    return rnd() % n;
}

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* LMDB's default order: memcmp on the common length, then shorter first. */
static int keycmp(const struct buf *a, const struct buf *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = n ? memcmp(a->data, b->data, n) : 0;
    if (c != 0)
        return sign(c);
    return (a->len > b->len) - (a->len < b->len);
}

enum vtype { V_NIL, V_BOOL, V_INT, V_DEC, V_TS, V_DATE, V_UUID, V_STR };

struct val {
    enum vtype t;
    int64_t i; /* bool, int, decimal units, timestamp, date */
    uint8_t u[16];
    char s[320];
    size_t len;
};

/* What the model says about two values: an order, or "distinct but in an
 * unspecified order" (two truncated strings with the same prefix). */
#define UNORDERED 2

static size_t max_bytes_for_test = 8;

static size_t escaped_len(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += s[i] == 0 ? 2 : 1;
    return n;
}

/* The prefix length that kc_put_string keeps, computed independently. */
static size_t kept_prefix(const char *s, size_t len, size_t max_bytes, bool *truncated)
{
    size_t used = 0, i;
    for (i = 0; i < len; i++) {
        size_t w = s[i] == 0 ? 2 : 1;
        if (used + w > max_bytes)
            break;
        used += w;
    }
    *truncated = escaped_len(s, len) > max_bytes;
    return i;
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return sign(c);
    return (alen > blen) - (alen < blen);
}

static int model_cmp(const struct val *a, const struct val *b)
{
    if (a->t == V_NIL || b->t == V_NIL)
        return (a->t != V_NIL) - (b->t != V_NIL);
    ck_assert_int_eq(a->t, b->t);
    switch (a->t) {
    case V_BOOL:
    case V_INT:
    case V_TS:
    case V_DATE: return (a->i > b->i) - (a->i < b->i);
    case V_DEC: return sign(ck_decimal_cmp(a->i, 2, b->i, 2));
    case V_UUID: return sign(memcmp(a->u, b->u, 16));
    case V_STR: {
        int c = bytes_cmp(a->s, a->len, b->s, b->len);
        if (c == 0)
            return 0;
        bool ta, tb;
        size_t pa = kept_prefix(a->s, a->len, max_bytes_for_test, &ta);
        size_t pb = kept_prefix(b->s, b->len, max_bytes_for_test, &tb);
        if (ta && tb && pa == pb && memcmp(a->s, b->s, pa) == 0)
            return UNORDERED;
        return c;
    }
    default: ck_abort_msg("unreachable");
    }
    return 0;
}

static void encode(struct buf *b, const struct val *v, enum kc_dir d)
{
    switch (v->t) {
    case V_NIL: kc_put_nil(b, d); break;
    case V_BOOL: kc_put_bool(b, v->i != 0, d); break;
    case V_INT:
    case V_DEC: kc_put_int(b, v->i, d); break;
    case V_TS: kc_put_timestamp(b, v->i, d); break;
    case V_DATE: kc_put_date(b, (int32_t)v->i, d); break;
    case V_UUID: kc_put_uuid(b, v->u, d); break;
    case V_STR: kc_put_string(b, v->s, v->len, max_bytes_for_test, d); break;
    }
}

/* ------------------------------------------------------------------ value pools */

static const int64_t int_edges[] = {INT64_MIN, INT64_MIN + 1, -256, -255,          -1,       0,
                                    1,         255,           256,  INT64_MAX - 1, INT64_MAX};

static int64_t rnd_int(void)
{
    switch (rnd_below(4)) {
    case 0: return int_edges[rnd_below(sizeof int_edges / sizeof int_edges[0])];
    case 1: return (int64_t)rnd_below(2001) - 1000;
    case 2: return (int64_t)(rnd() >> rnd_below(64)) * (rnd() & 1 ? -1 : 1);
    default: return (int64_t)rnd();
    }
}

/* Strings over a small alphabet, rich in 0x00, 0xFF and shared prefixes. */
static void rnd_string(struct val *v, const struct val *pool, size_t npool, size_t maxlen)
{
    static const unsigned char alpha[] = {0x00, 0x01, 'a', 'b', 0xfe, 0xff};
    v->t = V_STR;
    if (npool > 0 && rnd_below(3) == 0) {
        /* A prefix or an extension of an earlier string. */
        const struct val *o = &pool[rnd_below(npool)];
        if (o->t == V_STR) {
            memcpy(v->s, o->s, o->len);
            v->len = o->len;
            if (rnd_below(2) && v->len > 0) {
                v->len = rnd_below(v->len + 1);
            } else {
                size_t extra = rnd_below(4);
                while (extra-- && v->len < maxlen)
                    v->s[v->len++] = (char)alpha[rnd_below(sizeof alpha)];
            }
            return;
        }
    }
    v->len = rnd_below(maxlen + 1);
    if (rnd_below(4) == 0)
        v->len = rnd_below(4);
    for (size_t i = 0; i < v->len; i++)
        v->s[i] = (char)alpha[rnd_below(sizeof alpha)];
}

static void rnd_value(struct val *v, enum vtype t, const struct val *pool, size_t npool,
                      size_t maxlen)
{
    memset(v, 0, sizeof *v);
    v->t = t;
    if (rnd_below(20) == 0) {
        v->t = V_NIL;
        return;
    }
    switch (t) {
    case V_NIL: break;
    case V_BOOL: v->i = (int64_t)rnd_below(2); break;
    case V_INT: v->i = rnd_int(); break;
    case V_DEC: {
        /* DECIMAL(10,2) values, made by the decimal parser from text. */
        char txt[32];
        int64_t whole = (int64_t)rnd_below(100000000);
        if (rnd_below(3) == 0)
            whole = (int64_t)rnd_below(3);
        snprintf(txt, sizeof txt, "%s%lld.%02u", rnd_below(2) ? "-" : "", (long long)whole,
                 (unsigned)rnd_below(100));
        ck_assert_int_eq(ck_decimal_parse(txt, strlen(txt), 10, 2, &v->i), 0);
        break;
    }
    case V_TS:
        v->i = rnd_below(3) ? (int64_t)rnd_below(INT64_C(4102444800000)) - INT64_C(86400000)
                            : rnd_int();
        break;
    case V_DATE: {
        static const int32_t edges[] = {INT32_MIN, -1, 0, 1, INT32_MAX};
        v->i = rnd_below(4) ? (int64_t)rnd_below(3300000) - 400000
                            : edges[rnd_below(sizeof edges / sizeof edges[0])];
        break;
    }
    case V_UUID:
        for (int k = 0; k < 16; k++)
            v->u[k] = (uint8_t)(rnd_below(4) == 0 ? (rnd_below(2) ? 0x00 : 0xff) : rnd());
        if (npool > 0 && rnd_below(4) == 0 && pool[0].t == V_UUID)
            memcpy(v->u, pool[0].u, 8 + rnd_below(8)); /* share a prefix */
        break;
    case V_STR: rnd_string(v, pool, npool, maxlen); break;
    }
}

/* ------------------------------------------------------------------ single values */

/* Encode a pool of n values both ways and compare every pair; returns the
 * number of comparisons made (two per ordered pair: ascending and descending). */
static long check_pool(enum vtype t, size_t n, size_t maxlen)
{
    struct val *pool = calloc(n, sizeof *pool);
    struct buf *asc = calloc(n, sizeof *asc);
    struct buf *desc = calloc(n, sizeof *desc);
    ck_assert_ptr_nonnull(pool);
    ck_assert_ptr_nonnull(asc);
    ck_assert_ptr_nonnull(desc);
    for (size_t i = 0; i < n; i++) {
        rnd_value(&pool[i], t, pool, i, maxlen);
        encode(&asc[i], &pool[i], KC_ASC);
        encode(&desc[i], &pool[i], KC_DESC);
        ck_assert(!asc[i].oom && !desc[i].oom);
        ck_assert_uint_eq(asc[i].len, desc[i].len);
        for (size_t k = 0; k < asc[i].len; k++)
            ck_assert_uint_eq((unsigned char)desc[i].data[k],
                              (unsigned char)~(unsigned char)asc[i].data[k]);
        if (pool[i].t == V_STR)
            ck_assert_uint_le(asc[i].len, kc_string_max_encoded(max_bytes_for_test));
    }
    long checked = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) {
            int want = model_cmp(&pool[i], &pool[j]);
            int got_a = keycmp(&asc[i], &asc[j]);
            int got_d = keycmp(&desc[i], &desc[j]);
            if (want == UNORDERED) {
                ck_assert_int_ne(got_a, 0);
                ck_assert_int_eq(got_d, -got_a);
            } else {
                ck_assert_msg(got_a == want, "type %d: pair %zu,%zu ascending: got %d want %d", t,
                              i, j, got_a, want);
                ck_assert_msg(got_d == -want, "type %d: pair %zu,%zu descending: got %d want %d", t,
                              i, j, got_d, -want);
            }
            checked += 2;
        }
    }
    for (size_t i = 0; i < n; i++) {
        buf_free(&asc[i]);
        buf_free(&desc[i]);
    }
    free(desc);
    free(asc);
    free(pool);
    return checked;
}

static void run_type(enum vtype t, const char *name, size_t n, size_t maxlen, size_t max_bytes)
{
    rng_state = UINT64_C(0x5eed) + (uint64_t)t * 7919 + max_bytes;
    max_bytes_for_test = max_bytes;
    long checked = check_pool(t, n, maxlen);
    ck_assert_int_ge(checked, 100000);
    printf("keycodec: %-28s %ld comparisons checked\n", name, checked);
    fflush(stdout);
}

START_TEST(test_nil_bool)
{
    run_type(V_BOOL, "nil and booleans", 400, 0, 0);
}
END_TEST

START_TEST(test_int)
{
    run_type(V_INT, "integers", 400, 0, 0);
}
END_TEST

START_TEST(test_decimal)
{
    run_type(V_DEC, "decimals (10,2)", 400, 0, 0);
}
END_TEST

START_TEST(test_timestamp)
{
    run_type(V_TS, "timestamps", 400, 0, 0);
}
END_TEST

START_TEST(test_date)
{
    run_type(V_DATE, "dates", 400, 0, 0);
}
END_TEST

START_TEST(test_uuid)
{
    run_type(V_UUID, "uuids", 400, 0, 0);
}
END_TEST

START_TEST(test_string_short)
{
    /* A large bound: no string is truncated, the order is plain byte order. */
    run_type(V_STR, "strings, none truncated", 500, 12, 100);
}
END_TEST

START_TEST(test_string_truncated)
{
    /* A bound of 6 payload bytes truncates most strings, often right before
     * an escaped 0x00, which is where the marker's order matters. */
    run_type(V_STR, "strings, bound 6", 500, 12, 6);
}
END_TEST

START_TEST(test_string_long)
{
    run_type(V_STR, "strings, bound 200", 400, 300, 200);
}
END_TEST

/* ------------------------------------------------------------------ composite keys */

#define NCOLS 3

struct column {
    enum vtype t;
    enum kc_dir d;
};

struct tuple {
    struct val v[NCOLS];
};

/* Values from small domains, so that earlier columns tie often and the later
 * columns decide. */
static void rnd_small(struct val *v, enum vtype t)
{
    memset(v, 0, sizeof *v);
    v->t = t;
    if (rnd_below(6) == 0) {
        v->t = V_NIL;
        return;
    }
    switch (t) {
    case V_BOOL: v->i = (int64_t)rnd_below(2); break;
    case V_INT:
    case V_DEC:
    case V_TS:
    case V_DATE: v->i = (int64_t)rnd_below(5) - 2; break;
    case V_UUID: v->u[15] = (uint8_t)rnd_below(4); break;
    case V_STR: {
        static const char *words[] = {"", "a", "ab", "a\0", "a\0b", "b", "\xff", "a\xff"};
        static const size_t lens[] = {0, 1, 2, 2, 3, 1, 1, 2};
        size_t k = rnd_below(8);
        memcpy(v->s, words[k], lens[k]);
        v->len = lens[k];
        if (rnd_below(8) == 0) {
            /* Long enough to be truncated at the bound of 6. */
            memcpy(v->s, "abcdefgh", 8);
            v->s[8] = (char)('a' + rnd_below(3));
            v->len = 9;
        }
        break;
    }
    case V_NIL: break;
    }
}

static int tuple_cmp(const struct column *cols, const struct tuple *a, const struct tuple *b)
{
    for (int c = 0; c < NCOLS; c++) {
        int r = model_cmp(&a->v[c], &b->v[c]);
        if (r == UNORDERED)
            return UNORDERED;
        if (r != 0)
            return cols[c].d == KC_DESC ? -r : r;
    }
    return 0;
}

START_TEST(test_composite)
{
    rng_state = UINT64_C(0xc0ffee);
    max_bytes_for_test = 6;
    static const enum vtype types[] = {V_BOOL, V_INT, V_DEC, V_TS, V_DATE, V_UUID, V_STR};
    const size_t ntypes = sizeof types / sizeof types[0];
    const size_t n = 150;
    long checked = 0;
    for (int schema = 0; schema < 12; schema++) {
        struct column cols[NCOLS];
        for (int c = 0; c < NCOLS; c++) {
            cols[c].t = types[rnd_below(ntypes)];
            cols[c].d = rnd_below(2) ? KC_DESC : KC_ASC;
        }
        if (schema < 2) /* strings first: their terminator must separate columns */
            cols[0].t = V_STR;
        struct tuple *tp = calloc(n, sizeof *tp);
        struct buf *keys = calloc(n, sizeof *keys);
        ck_assert_ptr_nonnull(tp);
        ck_assert_ptr_nonnull(keys);
        for (size_t i = 0; i < n; i++) {
            for (int c = 0; c < NCOLS; c++) {
                rnd_small(&tp[i].v[c], cols[c].t);
                encode(&keys[i], &tp[i].v[c], cols[c].d);
            }
        }
        for (size_t i = 0; i < n; i++) {
            for (size_t j = 0; j < n; j++) {
                int want = tuple_cmp(cols, &tp[i], &tp[j]);
                int got = keycmp(&keys[i], &keys[j]);
                if (want == UNORDERED)
                    ck_assert_int_ne(got, 0);
                else
                    ck_assert_msg(got == want, "schema %d pair %zu,%zu: got %d want %d", schema, i,
                                  j, got, want);
                checked++;
            }
        }
        for (size_t i = 0; i < n; i++)
            buf_free(&keys[i]);
        free(keys);
        free(tp);
    }
    ck_assert_int_ge(checked, 100000);
    printf("keycodec: %-28s %ld comparisons checked\n", "composite (3 columns)", checked);
    fflush(stdout);
}
END_TEST

/* ------------------------------------------------------------------ known answers */

static void expect_bytes(const struct buf *b, const char *hex)
{
    char got[512];
    size_t o = 0;
    for (size_t i = 0; i < b->len && o + 3 < sizeof got; i++)
        o += (size_t)snprintf(got + o, sizeof got - o, "%02x", (unsigned char)b->data[i]);
    got[o] = '\0';
    ck_assert_str_eq(got, hex);
}

START_TEST(test_known_encodings)
{
    /* These bytes are stored in every index: a change here is a format change. */
    struct buf b = BUF_INIT;
    kc_put_nil(&b, KC_ASC);
    expect_bytes(&b, "10");
    buf_reset(&b);
    kc_put_nil(&b, KC_DESC);
    expect_bytes(&b, "ef");
    buf_reset(&b);
    kc_put_bool(&b, true, KC_ASC);
    expect_bytes(&b, "21");
    buf_reset(&b);
    kc_put_int(&b, 0, KC_ASC);
    expect_bytes(&b, "308000000000000000");
    buf_reset(&b);
    kc_put_int(&b, -1, KC_ASC);
    expect_bytes(&b, "307fffffffffffffff");
    buf_reset(&b);
    kc_put_int(&b, 1, KC_DESC);
    expect_bytes(&b, "cf7ffffffffffffffe");
    buf_reset(&b);
    kc_put_date(&b, -1, KC_ASC);
    expect_bytes(&b, "507fffffff");
    buf_reset(&b);
    kc_put_timestamp(&b, 1000, KC_ASC);
    expect_bytes(&b, "4080000000000003e8");
    buf_reset(&b);
    static const uint8_t id[16] = {0x01, 0x8f, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0xff};
    kc_put_uuid(&b, id, KC_ASC);
    expect_bytes(&b, "60018f00000000700080000000000000ff");
    buf_reset(&b);
    kc_put_string(&b, "a\0b", 3, 100, KC_ASC);
    expect_bytes(&b, "706100ff620000");
    buf_reset(&b);
    kc_put_string(&b, "", 0, 100, KC_DESC);
    expect_bytes(&b, "8fffff");
    buf_reset(&b);
    /* Truncated: "ab" fits a bound of 3, the escaped 0x00 would not. */
    kc_put_string(&b, "ab\0", 3, 3, KC_ASC);
    ck_assert_uint_eq(b.len, 1 + 2 + 2 + KC_STRING_HASH_SIZE);
    ck_assert_int_eq(memcmp(b.data,
                            "\x70"
                            "ab\x00\x01",
                            5),
                     0);
    buf_free(&b);
}
END_TEST

START_TEST(test_string_bound)
{
    /* Every encoding fits the documented bound, for every bound and length. */
    char s[64];
    for (size_t i = 0; i < sizeof s; i++)
        s[i] = (char)(i % 3 == 0 ? 0 : 'x');
    for (size_t max = 0; max < 40; max++) {
        for (size_t len = 0; len <= sizeof s; len++) {
            struct buf b = BUF_INIT;
            kc_put_string(&b, s, len, max, KC_ASC);
            ck_assert_uint_le(b.len, kc_string_max_encoded(max));
            ck_assert_uint_le(b.len, 1 + max + 2 + 16);
            buf_free(&b);
        }
    }
    ck_assert_uint_eq(kc_string_max_encoded(200), 219);
}
END_TEST

START_TEST(test_prefix_successor)
{
    struct buf b = BUF_INIT;
    ck_assert_int_eq(kc_prefix_successor(&b), -CK_ENOTFOUND);
    buf_append(&b, "\xff\xff", 2);
    ck_assert_int_eq(kc_prefix_successor(&b), -CK_ENOTFOUND);
    ck_assert_uint_eq(b.len, 2);
    buf_reset(&b);
    buf_append(&b, "a\xff\xff", 3);
    ck_assert_int_eq(kc_prefix_successor(&b), 0);
    ck_assert_uint_eq(b.len, 1);
    ck_assert_int_eq(b.data[0], 'b');
    buf_reset(&b);
    buf_append(&b, "a\x00", 2);
    ck_assert_int_eq(kc_prefix_successor(&b), 0);
    ck_assert_int_eq(memcmp(b.data, "a\x01", 2), 0);

    /* As a property: [P, succ(P)) holds exactly the keys that start with P. */
    rng_state = 42;
    long checked = 0;
    static const unsigned char alpha[] = {0x00, 0x01, 0x7f, 0xfe, 0xff};
    for (int trial = 0; trial < 20000; trial++) {
        struct buf p = BUF_INIT, s = BUF_INIT, k = BUF_INIT;
        size_t plen = 1 + rnd_below(4), klen = rnd_below(7);
        for (size_t i = 0; i < plen; i++)
            buf_push(&p, alpha[rnd_below(sizeof alpha)]);
        for (size_t i = 0; i < klen; i++)
            buf_push(&k, alpha[rnd_below(sizeof alpha)]);
        if (rnd_below(2)) { /* make k start with p half of the time */
            struct buf t = BUF_INIT;
            buf_append(&t, p.data, p.len);
            if (k.len)
                buf_append(&t, k.data, k.len);
            buf_free(&k);
            k = t;
        }
        buf_append(&s, p.data, p.len);
        bool has_prefix = k.len >= p.len && memcmp(k.data, p.data, p.len) == 0;
        if (kc_prefix_successor(&s) == 0) {
            bool inside = keycmp(&p, &k) <= 0 && keycmp(&k, &s) < 0;
            ck_assert_int_eq(inside, has_prefix);
        } else {
            /* All 0xFF: every key at or after P starts with P. */
            ck_assert_int_eq(keycmp(&p, &k) <= 0, has_prefix);
        }
        checked++;
        buf_free(&k);
        buf_free(&s);
        buf_free(&p);
    }
    printf("keycodec: %-28s %ld keys checked\n", "prefix successor", checked);
    buf_free(&b);
}
END_TEST

static Suite *keycodec_suite(void)
{
    Suite *s = suite_create("keycodec");
    TCase *tc = tcase_create("order");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_nil_bool);
    tcase_add_test(tc, test_int);
    tcase_add_test(tc, test_decimal);
    tcase_add_test(tc, test_timestamp);
    tcase_add_test(tc, test_date);
    tcase_add_test(tc, test_uuid);
    tcase_add_test(tc, test_string_short);
    tcase_add_test(tc, test_string_truncated);
    tcase_add_test(tc, test_string_long);
    tcase_add_test(tc, test_composite);
    suite_add_tcase(s, tc);
    TCase *tk = tcase_create("format");
    tcase_add_test(tk, test_known_encodings);
    tcase_add_test(tk, test_string_bound);
    tcase_add_test(tk, test_prefix_successor);
    suite_add_tcase(s, tk);
    return s;
}

int main(void)
{
    return ckrun(keycodec_suite());
}
