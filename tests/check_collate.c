/*
 * Collation keys: known answers measured on MariaDB, the ASCII fast path
 * against the utf8proc path, strict UTF-8 validation and character counting.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "ckrun.h"
#include "clinickv/error.h"
#include "collate.h"

#define S(lit) lit, sizeof(lit) - 1

struct pair {
    const char *a;
    size_t alen;
    const char *b;
    size_t blen;
    int mariadb_eq; /* SELECT a = b COLLATE utf8mb4_unicode_ci on MariaDB 10.11.19 */
    int ours_eq;    /* what ck_collate_eq() answers, by design */
};

/*
 * Measured on MariaDB 10.11.19 (Debian 12) with utf8mb4 literals given as hex,
 * docs/collation.md tells how. Where the two columns differ, clinickv is
 * stricter (calls equal what MariaDB keeps apart), never looser, so a dump
 * that satisfied clinickv's unique indexes also loads into MariaDB.
 */
static const struct pair pairs[] = {
    {S("LOT-A1"), S("lot-a1"), 1, 1},
    {S("José"), S("jose"), 1, 1},
    {S("Straße"), S("STRASSE"), 1, 1},
    {S("ß"), S("ss"), 1, 1},
    {S("ﬁ"), S("fi"), 1, 1},
    {S("abc"), S("abc "), 1, 1},
    {S("abc"), S("abc  "), 1, 1},
    {S(" abc"), S("abc"), 0, 0},
    {S("É"), S("e"), 1, 1},
    {S("ñ"), S("n"), 1, 1},
    {S("ü"), S("u"), 1, 1},
    {S("Å"), S("a"), 1, 1},
    {S("ç"), S("c"), 1, 1},
    {S("é"), S("é"), 1, 1},
    {S("é"), S("e"), 1, 1},
    {S("ä"), S("a"), 1, 1},
    {S("ø"), S("o"), 0, 0},
    {S("Ø"), S("o"), 0, 0},
    {S("ł"), S("l"), 0, 0},
    {S("Ł"), S("L"), 0, 0},
    {S("æ"), S("ae"), 0, 0},
    {S("Æ"), S("AE"), 0, 0},
    {S("đ"), S("d"), 0, 0},
    {S("Đ"), S("D"), 0, 0},
    {S("œ"), S("oe"), 1, 1},
    {S("þ"), S("th"), 0, 0},
    {S("ð"), S("d"), 0, 0},
    {S("ħ"), S("h"), 0, 0},
    {S("ŀ"), S("l"), 0, 0},
    {S("ĳ"), S("ij"), 1, 1},
    {S("ı"), S("i"), 0, 0},
    {S("İ"), S("i"), 1, 1},
    {S("ſ"), S("s"), 1, 1},
    {S("Ω"), S("ω"), 1, 1},
    {S("K"), S("k"), 1, 1},
    {S("Å"), S("a"), 1, 1},
    {S("ｆｕｌｌ"), S("full"), 1, 1},
    {S("①"), S("1"), 1, 1},
    {S("²"), S("2"), 1, 1},
    {S("ǆ"), S("dž"), 1, 1},
    {S("Ǆ"), S("dž"), 1, 1},
    {S("ǅ"), S("dž"), 1, 1},
    {S("ς"), S("σ"), 1, 1},
    {S("Σ"), S("σ"), 1, 1},
    {S("ά"), S("α"), 1, 1},
    {S("ё"), S("е"), 1, 1},
    {S("й"), S("и"), 0, 1},
    {S("한"), S("한"), 0, 1},
    {S("カ"), S("か"), 1, 1},
    {S("ｶ"), S("カ"), 1, 1},
    {S("Ⅳ"), S("iv"), 1, 1},
    {S("™"), S("tm"), 1, 1},
    {S("…"), S("..."), 1, 1},
    {S("½"), S("1/2"), 0, 0},
    {S("ﬀ"), S("ff"), 1, 1},
    {S("ﬆ"), S("st"), 1, 1},
    {S("ª"), S("a"), 1, 1},
    {S("℃"), S("°c"), 1, 1},
    {S("٣"), S("3"), 1, 1},
    {S("a-b"), S("ab"), 0, 0},
    {S("a b"), S("ab"), 0, 0},
    {S("😀"), S("😁"), 1, 1},
    {S("😀"), S("a"), 0, 0},
    {S("中"), S("国"), 0, 0},
    {S("𝐀"), S("a"), 0, 0},
    {S("abc\302\240"), S("abc"), 1, 1},
    {S("a\302\240b"), S("a b"), 1, 1},
    {S("ab\302\255c"), S("abc"), 0, 1},
    {S("a\342\200\213b"), S("ab"), 1, 1},
    {S("a\342\200\215b"), S("ab"), 1, 1},
    {S("a\357\270\217"), S("a"), 1, 1},
    {S("a\357\273\277b"), S("ab"), 1, 1},
    {S("a\001b"), S("ab"), 1, 1},
    {S("a\011b"), S("ab"), 0, 0},
    {S("a\011b"), S("a b"), 0, 0},
    {S("abc\011"), S("abc"), 0, 0},
    {S("abc\012"), S("abc"), 0, 0},
    {S("a\343\200\200b"), S("a b"), 1, 1},
    {S("\343\200\200"), S(""), 1, 1},
    {S(""), S(""), 1, 1},
    {S(""), S("   "), 1, 1},
    {S("Ǳ"), S("dz"), 1, 1},
    {S("ǉ"), S("lj"), 1, 1},
    {S("ŉ"), S("ʼn"), 1, 1},
    {S("ğ"), S("g"), 1, 1},
    {S("ş"), S("s"), 1, 1},
    {S("ț"), S("t"), 1, 1},
    {S("ș"), S("s"), 1, 1},
    {S("ą"), S("a"), 1, 1},
    {S("ę"), S("e"), 1, 1},
    {S("ő"), S("o"), 1, 1},
    {S("ű"), S("u"), 1, 1},
    {S("č"), S("c"), 1, 1},
    {S("ř"), S("r"), 1, 1},
    {S("ž"), S("z"), 1, 1},
    {S("å"), S("aa"), 0, 0},
    {S("ä"), S("ae"), 0, 0},
    {S("ö"), S("oe"), 0, 0},
    {S("ĸ"), S("k"), 0, 0},
    {S("ŋ"), S("n"), 0, 0},
    {S("ǝ"), S("e"), 0, 0},
    {S("ƒ"), S("f"), 0, 0},
    {S("µ"), S("μ"), 1, 1},
    {S("ﬃ"), S("ffi"), 1, 1},
    {S("Ⓐ"), S("a"), 1, 1},
    {S("⒜"), S("(a)"), 1, 1},
    {S("ß"), S("ẞ"), 0, 1},
    {S("ǰ"), S("j"), 1, 1},
    {S("ΐ"), S("ι"), 1, 1},
    {S("ω"), S("ώ"), 1, 1},
    {S("Ǿ"), S("ø"), 1, 1},
    {S("😀"), S("�"), 0, 0},
    {S("😀"), S("𠀀"), 1, 1},
    {S("ガ"), S("カ"), 1, 1},
    {S("が"), S("か"), 1, 1},
    {S("ｶﾞ"), S("ガ"), 1, 1},
    {S("ゝ"), S("ヽ"), 0, 0},
    {S("ヴ"), S("ゔ"), 1, 1},
    {S("ァ"), S("ぁ"), 1, 1},
    {S("ァ"), S("ア"), 1, 1},
    {S("ヵ"), S("ゕ"), 1, 1},
    {S("١"), S("1"), 1, 1},
    {S("٣"), S("۳"), 1, 1},
    {S("३"), S("3"), 1, 1},
    {S("𝟑"), S("3"), 0, 0},
    {S("\000"), S(""), 1, 1},
    {S("a\177"), S("a"), 1, 1},
    {S("a\302\205"), S("a"), 0, 0},
    {S("a\302\237"), S("a"), 1, 1},
    {S("a\013"), S("a"), 0, 0},
    {S("a\014"), S("a"), 0, 0},
    {S("a\015"), S("a"), 0, 0},
    {S("a\037"), S("a"), 1, 1},
    {S("a\010b"), S("ab"), 1, 1},
    {S("a\016b"), S("ab"), 1, 1},
    {S("Œ"), S("OE"), 1, 1},
    {S("œ"), S("OE"), 1, 1},
    {S("ў"), S("у"), 0, 1},
    {S("ї"), S("і"), 0, 1},
    {S("Ё"), S("е"), 1, 1},
    {S("ĳ"), S("IJ"), 1, 1},
    {S("\302\255"), S(""), 0, 1},
    {S("a‐b"), S("a-b"), 0, 0},
    {S("a‑b"), S("a-b"), 0, 0},
    {S("ﾟ"), S("゜"), 0, 1},
    {S("゛"), S("゙"), 0, 1},
    {S("a\315\217b"), S("ab"), 1, 1},
    {S("a\342\201\240b"), S("ab"), 1, 1},
    {S("a\341\240\216b"), S("ab"), 1, 1},
    {S("Ð"), S("Đ"), 0, 0},
    {S("ð"), S("đ"), 0, 0},
    {S("ħ"), S("ħ"), 1, 1},
    {S("ﬅ"), S("st"), 1, 1},
    {S("Ǣ"), S("æ"), 1, 1},
    {S("ǣ"), S("ae"), 0, 0},
    {S("ǽ"), S("æ"), 1, 1},
    {S("ẞ"), S("ss"), 0, 1},
    {S("ⅰ"), S("i"), 1, 1},
    {S("ℌ"), S("h"), 1, 1},
    {S("ℍ"), S("h"), 1, 1},
    {S("İ"), S("I"), 1, 1},
    {S("ı"), S("I"), 0, 0},
    {S("ǈ"), S("lj"), 1, 1},
    {S("ῼ"), S("ωι"), 0, 1},
    {S("ﬓ"), S("մն"), 1, 1},
    {S("ﾊﾟ"), S("パ"), 1, 1},
    {S("ㄱ"), S("ᄀ"), 1, 1},
    {S("ㅏ"), S("ᅡ"), 1, 1},
    {S("각"), S("각"), 0, 1},
    {S("ᄀ"), S("ㄱ"), 1, 1},
    {S("a\000b"), S("ab"), 1, 1},
    {S("Ａ"), S("a"), 1, 1},
    {S("ǲ"), S("dz"), 1, 1},
    {S("ᴀ"), S("a"), 0, 0},
    {S("ʀ"), S("r"), 0, 0},
    {S("ɑ"), S("a"), 0, 0},
    {S("ß"), S("ſs"), 1, 1},
    {S("ﬀ"), S("FF"), 1, 1},
};

#define NPAIRS (sizeof pairs / sizeof pairs[0])

START_TEST(test_known_pairs)
{
    size_t same = 0;
    for (size_t i = 0; i < NPAIRS; i++) {
        const struct pair *p = &pairs[i];
        bool eq = ck_collate_eq(p->a, p->alen, p->b, p->blen);
        ck_assert_msg(eq == (p->ours_eq != 0), "pair %zu ('%s' vs '%s'): got %d", i, p->a, p->b,
                      eq);
        /* Symmetric, and the same answer as comparing the keys. */
        ck_assert_int_eq(ck_collate_eq(p->b, p->blen, p->a, p->alen), eq);
        struct buf ka = BUF_INIT, kb = BUF_INIT;
        ck_assert_int_eq(ck_collate_key(p->a, p->alen, &ka), 0);
        ck_assert_int_eq(ck_collate_key(p->b, p->blen, &kb), 0);
        ck_assert_int_eq(ka.len == kb.len && (ka.len == 0 || memcmp(ka.data, kb.data, ka.len) == 0),
                         eq);
        buf_free(&kb);
        buf_free(&ka);
        /* Never looser than MariaDB. */
        if (p->mariadb_eq)
            ck_assert_msg(p->ours_eq, "pair %zu is looser than MariaDB", i);
        same += p->mariadb_eq == p->ours_eq;
    }
    printf("collate: %zu known pairs checked, %zu agree with MariaDB, %zu stricter\n", NPAIRS, same,
           NPAIRS - same);
}
END_TEST

static void expect_key(const char *s, size_t len, const char *want, size_t wantlen)
{
    struct buf k = BUF_INIT;
    ck_assert_int_eq(ck_collate_key(s, len, &k), 0);
    ck_assert_uint_eq(k.len, wantlen);
    ck_assert(wantlen == 0 || memcmp(k.data, want, wantlen) == 0);
    buf_free(&k);
}

START_TEST(test_keys)
{
    expect_key(S("LOT-A1 "), S("lot-a1"));
    expect_key(S("Straße"), S("strasse"));
    expect_key(S("   "), S(""));
    expect_key(S(""), S(""));
    expect_key(S(" x"), S(" x"));
    expect_key(S("Ωmega\302\240"), S("\317\211mega"));        /* NBSP is a trailing space */
    expect_key(S("\360\237\230\200"), S("\364\217\277\277")); /* supplementary: U+10FFFF */
    expect_key(S("\305\222uvre"), S("oeuvre"));
    expect_key(S("\343\202\253\343\202\241"), S("\343\201\213\343\201\202")); /* カァ -> かあ */
    expect_key(S("\331\243\340\245\251"), S("33")); /* Arabic-Indic and Devanagari three */
    expect_key(S("a\000b\177"), S("ab"));
    expect_key(S("a\tb\n"), S("a\tb\n"));

    /* Appends, and leaves what was there. */
    struct buf k = BUF_INIT;
    buf_append(&k, "pre|", 4);
    ck_assert_int_eq(ck_collate_key(S("JOSÉ"), &k), 0);
    ck_assert_uint_eq(k.len, 8);
    ck_assert_int_eq(memcmp(k.data, "pre|jose", 8), 0);
    buf_free(&k);
}
END_TEST

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

START_TEST(test_ascii_fast_path)
{
    /*
     * Two oracles for the fast path. Prefixing "é" sends the same text through
     * utf8proc (é's key is "e", and no ASCII character combines with what
     * precedes it). And for printable ASCII, where the project's adjustments do
     * nothing, utf8proc_map() with the documented options must agree.
     */
    rng_state = 7;
    const int opts = UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
                     UTF8PROC_IGNORE;
    long checked = 0;
    for (int trial = 0; trial < 20000; trial++) {
        char s[40], t[42];
        size_t len = (size_t)(rnd() % 32);
        bool printable = trial % 2 == 0;
        for (size_t i = 0; i < len; i++) {
            unsigned c = (unsigned)(rnd() % 128);
            if (printable)
                c = 0x20 + c % 95;
            else if (rnd() % 4 == 0)
                c = ' ';
            s[i] = (char)c;
        }
        struct buf fast = BUF_INIT, slow = BUF_INIT;
        ck_assert_int_eq(ck_collate_key(s, len, &fast), 0);
        memcpy(t, "\303\251", 2);
        memcpy(t + 2, s, len);
        ck_assert_int_eq(ck_collate_key(t, len + 2, &slow), 0);
        ck_assert_uint_eq(slow.len, fast.len + 1);
        ck_assert_int_eq(slow.data[0], 'e');
        ck_assert(fast.len == 0 || memcmp(slow.data + 1, fast.data, fast.len) == 0);
        if (printable) {
            utf8proc_uint8_t *m = NULL;
            utf8proc_ssize_t n =
                utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &m, opts);
            ck_assert_int_ge(n, 0);
            while (n > 0 && m[n - 1] == ' ')
                n--;
            ck_assert_uint_eq((size_t)n, fast.len);
            ck_assert(n == 0 || memcmp(m, fast.data, (size_t)n) == 0);
            free(m);
        }
        buf_free(&slow);
        buf_free(&fast);
        checked++;
    }
    printf("collate: %ld random ASCII strings: fast path == utf8proc path\n", checked);
}
END_TEST

/* The reference of validity: bytes are valid UTF-8 when they are the shortest
 * encoding of a code point that is not a surrogate, as utf8proc writes it. */
static bool ref_valid_one(const unsigned char *p, size_t len)
{
    utf8proc_int32_t cp;
    if (len == 1)
        return p[0] < 0x80;
    if (len == 2)
        cp = (p[0] & 0x1f) << 6 | (p[1] & 0x3f);
    else if (len == 3)
        cp = (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
    else
        cp = (p[0] & 0x07) << 18 | (p[1] & 0x3f) << 12 | (p[2] & 0x3f) << 6 | (p[3] & 0x3f);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return false;
    utf8proc_uint8_t enc[4];
    return (size_t)utf8proc_encode_char(cp, enc) == len && memcmp(enc, p, len) == 0;
}

/* Fails the test unless ck_utf8_valid() agrees with the reference on p. */
static void check_valid(const unsigned char *p, size_t len, bool want)
{
    if (ck_utf8_valid((const char *)p, len, NULL) != want)
        ck_abort_msg("%02x %02x %02x %02x (%zu bytes): want %d", p[0], len > 1 ? p[1] : 0,
                     len > 2 ? p[2] : 0, len > 3 ? p[3] : 0, len, want);
}

START_TEST(test_utf8_valid_exhaustive)
{
    /* Every 1-, 2- and 3-byte string, and a sample of 4-byte ones. */
    unsigned char p[4] = {0, 0, 0, 0};
    long checked = 0;
    for (unsigned v = 0; v < 0x100; v++, checked++) {
        p[0] = (unsigned char)v;
        check_valid(p, 1, ref_valid_one(p, 1));
    }
    for (unsigned v = 0; v < 0x10000; v++, checked++) {
        p[0] = (unsigned char)(v >> 8);
        p[1] = (unsigned char)v;
        check_valid(p, 2, ref_valid_one(p, 2) || (p[0] < 0x80 && p[1] < 0x80));
    }
    for (unsigned v = 0xe00000; v < 0xf80000; v++, checked++) {
        /* Lead bytes E0..F7: shorter sequences are covered above. */
        p[0] = (unsigned char)(v >> 16);
        p[1] = (unsigned char)(v >> 8);
        p[2] = (unsigned char)v;
        check_valid(p, 3, ref_valid_one(p, 3));
    }
    rng_state = 11;
    for (int i = 0; i < 1000000; i++, checked++) {
        uint64_t r = rnd();
        /* Half of them with well-formed continuation bytes, where the range
         * checks of F0 and F4 are what decides. */
        unsigned cont = i % 2 ? 0x80 : 0x00, mask = i % 2 ? 0x3f : 0xff;
        p[0] = (unsigned char)(0xf0 + (r & 7));
        p[1] = (unsigned char)(cont | ((r >> 8) & mask));
        p[2] = (unsigned char)(cont | ((r >> 16) & mask));
        p[3] = (unsigned char)(cont | ((r >> 24) & mask));
        check_valid(p, 4, ref_valid_one(p, 4));
    }
    /* Every code point's own encoding is valid and one character. */
    for (utf8proc_int32_t cp = 0; cp <= 0x10ffff; cp++, checked++) {
        if (cp == 0xd800)
            cp = 0xe000;
        utf8proc_uint8_t enc[4];
        utf8proc_ssize_t len = utf8proc_encode_char(cp, enc);
        size_t n = 0;
        if (!ck_utf8_valid((char *)enc, (size_t)len, &n) || n != 1)
            ck_abort_msg("U+%04X rejected or miscounted", (unsigned)cp);
    }
    printf("collate: %ld byte strings checked against the UTF-8 reference\n", checked);
}
END_TEST

START_TEST(test_invalid_rejected)
{
    static const struct {
        const char *s;
        size_t len;
    } bad[] = {
        {S("\300\200")},         /* overlong NUL */
        {S("\301\277")},         /* overlong 0x7F */
        {S("\340\200\200")},     /* overlong, 3 bytes */
        {S("\340\237\277")},     /* overlong U+07FF */
        {S("\360\200\200\200")}, /* overlong, 4 bytes */
        {S("\360\217\277\277")}, /* overlong U+FFFF */
        {S("\355\240\200")},     /* U+D800 */
        {S("\355\277\277")},     /* U+DFFF */
        {S("\364\220\200\200")}, /* U+110000 */
        {S("\365\200\200\200")}, /* F5 lead */
        {S("\377")},             /* FF */
        {S("\200")},             /* lone continuation */
        {S("abc\342\202")},      /* truncated at the end */
        {S("\342\202abc")},      /* truncated in the middle */
        {S("\303(")},            /* bad continuation */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 12345;
        ck_assert_msg(!ck_utf8_valid(bad[i].s, bad[i].len, &n), "case %zu accepted", i);
        ck_assert_uint_eq(n, 12345);
        struct buf k = BUF_INIT;
        buf_append(&k, "x", 1);
        ck_assert_int_eq(ck_collate_key(bad[i].s, bad[i].len, &k), -CK_EINVAL);
        ck_assert_uint_eq(k.len, 1);
        buf_free(&k);
        ck_assert(!ck_collate_eq(bad[i].s, bad[i].len, bad[i].s, bad[i].len));
    }
}
END_TEST

START_TEST(test_char_count)
{
    static const struct {
        const char *s;
        size_t len, chars;
    } v[] = {
        {S(""), 0},
        {S("abc"), 3},
        {S("Jos\303\251"), 4},
        {S("e\314\201"), 2},        /* e + combining acute: two code points */
        {S("\360\237\230\200"), 1}, /* one emoji, four bytes */
        {S("\343\201\213\343\201\202"), 2},
        {S("a\000b"), 3},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        size_t n = 999;
        ck_assert(ck_utf8_valid(v[i].s, v[i].len, &n));
        ck_assert_uint_eq(n, v[i].chars);
    }
    ck_assert(!ck_utf8_valid(S("\337"), NULL));
    ck_assert(ck_utf8_valid(S("ok"), NULL));
}
END_TEST

START_TEST(test_oom_buffer)
{
    struct buf k = BUF_INIT;
    k.oom = true;
    ck_assert_int_eq(ck_collate_key(S("abc"), &k), -CK_ENOMEM);
    ck_assert_int_eq(ck_collate_key(S("Jos\303\251"), &k), -CK_ENOMEM);
    buf_free(&k);
}
END_TEST

START_TEST(test_keys_valid_and_stable)
{
    /* Keys of random Unicode text are valid UTF-8, and a key is its own key,
     * so keys can be recomputed from keys (e.g. for an index rebuild). */
    rng_state = 99;
    static const utf8proc_int32_t pick[] = {
        'A',   'z',    ' ',    0xdf,   0xe9,   0x301,   0x152,   0x153, 0x3a3, 0x3c2,
        0x439, 0x30a1, 0x3099, 0xff76, 0xfb01, 0x1f600, 0x1d400, 0x663, 0xad,  0x200b,
        0x01,  0xac00, 0x1100, 0x1161, 0x11a8, 0x2126,  0x130,   0x131};
    long checked = 0;
    for (int trial = 0; trial < 20000; trial++) {
        char s[128];
        size_t len = 0;
        int nch = (int)(rnd() % 10);
        for (int i = 0; i < nch; i++) {
            utf8proc_int32_t cp = rnd() % 3 ? pick[rnd() % (sizeof pick / sizeof pick[0])]
                                            : (utf8proc_int32_t)(rnd() % 0x3000);
            if (cp >= 0xd800 && cp <= 0xdfff)
                cp = 'x';
            len += (size_t)utf8proc_encode_char(cp, (utf8proc_uint8_t *)s + len);
        }
        struct buf k1 = BUF_INIT, k2 = BUF_INIT;
        ck_assert_int_eq(ck_collate_key(s, len, &k1), 0);
        ck_assert(ck_utf8_valid(k1.data, k1.len, NULL));
        ck_assert_int_eq(ck_collate_key(k1.data, k1.len, &k2), 0);
        ck_assert_uint_eq(k1.len, k2.len);
        ck_assert(k1.len == 0 || memcmp(k1.data, k2.data, k1.len) == 0);
        buf_free(&k2);
        buf_free(&k1);
        checked++;
    }
    printf("collate: %ld random strings: keys valid and stable\n", checked);
}
END_TEST

static Suite *collate_suite(void)
{
    Suite *s = suite_create("collate");
    TCase *tc = tcase_create("collate");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_known_pairs);
    tcase_add_test(tc, test_keys);
    tcase_add_test(tc, test_ascii_fast_path);
    tcase_add_test(tc, test_utf8_valid_exhaustive);
    tcase_add_test(tc, test_invalid_rejected);
    tcase_add_test(tc, test_char_count);
    tcase_add_test(tc, test_oom_buffer);
    tcase_add_test(tc, test_keys_valid_and_stable);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(collate_suite());
}
