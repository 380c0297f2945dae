/*
 * DECIMAL(p,s) as int64 units: known vectors for the DDL's column types, MySQL's
 * rounding (half away from zero) and range rules, cross-scale comparison, and
 * random round trips checked against independent oracles.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckrun.h"
#include "clinickv/error.h"
#include "decimal.h"

__extension__ typedef __int128 i128;

struct vec {
    unsigned p, s;
    const char *text;
    int rc;        /* 0 or -CK_EINVAL */
    int64_t units; /* when rc == 0 */
};

static const struct vec vecs[] = {
    /* DECIMAL(10,2): money */
    {10, 2, "12.5", 0, 1250},
    {10, 2, "12.50", 0, 1250},
    {10, 2, "-0.05", 0, -5},
    {10, 2, ".5", 0, 50},
    {10, 2, "5.", 0, 500},
    {10, 2, "+7", 0, 700},
    {10, 2, "0", 0, 0},
    {10, 2, "-0", 0, 0},
    {10, 2, "-0.001", 0, 0},
    {10, 2, "1.005", 0, 101},
    {10, 2, "-1.005", 0, -101},
    {10, 2, "1.004999", 0, 100},
    {10, 2, "1.00499999999999999999999999", 0, 100},
    {10, 2, "0.125", 0, 13},
    {10, 2, "0.135", 0, 14},
    {10, 2, "-0.125", 0, -13},
    {10, 2, "0.994", 0, 99},
    {10, 2, "0.995", 0, 100},
    {10, 2, "99999999.99", 0, INT64_C(9999999999)},
    {10, 2, "-99999999.99", 0, INT64_C(-9999999999)},
    {10, 2, "99999999.994", 0, INT64_C(9999999999)},
    {10, 2, "99999999.995", -CK_EINVAL, 0}, /* rounds to 100000000.00 */
    {10, 2, "100000000", -CK_EINVAL, 0},
    {10, 2, "00000000000000000000012.34", 0, 1234},
    {10, 2, "0000000000000000000000000", 0, 0},
    /* DECIMAL(5,2) */
    {5, 2, "999.99", 0, 99999},
    {5, 2, "-999.99", 0, -99999},
    {5, 2, "999.995", -CK_EINVAL, 0},
    {5, 2, "1000", -CK_EINVAL, 0},
    {5, 2, "0.001", 0, 0},
    /* DECIMAL(5,4): rates */
    {5, 4, "9.9999", 0, 99999},
    {5, 4, "10", -CK_EINVAL, 0},
    {5, 4, "9.99995", -CK_EINVAL, 0},
    {5, 4, "0.00005", 0, 1},
    {5, 4, "-0.00005", 0, -1},
    {5, 4, "0.00004", 0, 0},
    {5, 4, ".1234", 0, 1234},
    /* DECIMAL(12,2) */
    {12, 2, "9999999999.99", 0, INT64_C(999999999999)},
    {12, 2, "12345678901.5", -CK_EINVAL, 0},
    /* DECIMAL(18,6), the widest in the DDL */
    {18, 6, "999999999999.999999", 0, INT64_C(999999999999999999)},
    {18, 6, "-999999999999.9999995", -CK_EINVAL, 0},
    {18, 6, "1000000000000", -CK_EINVAL, 0},
    /* scale 0 */
    {3, 0, "999", 0, 999},
    {3, 0, "999.5", -CK_EINVAL, 0},
    {3, 0, "0.5", 0, 1},
    {3, 0, "-0.5", 0, -1},
    {3, 0, "0.4", 0, 0},
    {3, 0, "7.", 0, 7},
    /* malformed */
    {10, 2, "", -CK_EINVAL, 0},
    {10, 2, "-", -CK_EINVAL, 0},
    {10, 2, "+", -CK_EINVAL, 0},
    {10, 2, ".", -CK_EINVAL, 0},
    {10, 2, "-.", -CK_EINVAL, 0},
    {10, 2, "1e3", -CK_EINVAL, 0},
    {10, 2, " 1", -CK_EINVAL, 0},
    {10, 2, "1 ", -CK_EINVAL, 0},
    {10, 2, "1,5", -CK_EINVAL, 0},
    {10, 2, "1.2.3", -CK_EINVAL, 0},
    {10, 2, "--1", -CK_EINVAL, 0},
    {10, 2, "+-1", -CK_EINVAL, 0},
    {10, 2, "0x10", -CK_EINVAL, 0},
    {10, 2, "\331\241", -CK_EINVAL, 0}, /* Arabic-Indic one */
    {10, 2, "1.5a", -CK_EINVAL, 0},
    {10, 2, "NaN", -CK_EINVAL, 0},
    {10, 2, "Infinity", -CK_EINVAL, 0},
    {10, 2, "1_000", -CK_EINVAL, 0},
    /* unsupported types */
    {0, 0, "1", -CK_EINVAL, 0},
    {19, 2, "1", -CK_EINVAL, 0},
    {5, 6, "1", -CK_EINVAL, 0},
};

START_TEST(test_parse_vectors)
{
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const struct vec *v = &vecs[i];
        int64_t units = 424242;
        int rc = ck_decimal_parse(v->text, strlen(v->text), v->p, v->s, &units);
        ck_assert_msg(rc == v->rc, "'%s' as (%u,%u): rc %d want %d", v->text, v->p, v->s, rc,
                      v->rc);
        ck_assert_msg(units == (rc == 0 ? v->units : 424242), "'%s' as (%u,%u): %lld", v->text,
                      v->p, v->s, (long long)units);
    }
    /* The length bounds the text: "12.34" cut after "12.3". */
    int64_t units;
    ck_assert_int_eq(ck_decimal_parse("12.34", 4, 10, 2, &units), 0);
    ck_assert_int_eq(units, 1230);
    ck_assert_int_eq(ck_decimal_parse("1\0", 2, 10, 2, &units), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_parse(NULL, 0, 10, 2, &units), -CK_EINVAL);
}
END_TEST

START_TEST(test_from_int)
{
    int64_t u = 9;
    ck_assert_int_eq(ck_decimal_from_int(12, 10, 2, &u), 0);
    ck_assert_int_eq(u, 1200);
    ck_assert_int_eq(ck_decimal_from_int(99999999, 10, 2, &u), 0);
    ck_assert_int_eq(u, INT64_C(9999999900));
    ck_assert_int_eq(ck_decimal_from_int(-99999999, 10, 2, &u), 0);
    ck_assert_int_eq(u, INT64_C(-9999999900));
    ck_assert_int_eq(ck_decimal_from_int(0, 5, 5, &u), 0);
    ck_assert_int_eq(u, 0);
    u = 9;
    ck_assert_int_eq(ck_decimal_from_int(100000000, 10, 2, &u), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_from_int(-100000000, 10, 2, &u), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_from_int(INT64_MIN, 18, 0, &u), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_from_int(INT64_MAX, 18, 0, &u), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_from_int(10, 5, 4, &u), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_from_int(1, 5, 5, &u), -CK_EINVAL);
    ck_assert_int_eq(ck_decimal_from_int(1, 19, 0, &u), -CK_EINVAL);
    ck_assert_int_eq(u, 9);
    ck_assert_int_eq(ck_decimal_from_int(9, 5, 4, &u), 0);
    ck_assert_int_eq(u, 90000);
    ck_assert_int_eq(ck_decimal_from_int(INT64_C(999999999999999999), 18, 0, &u), 0);
    ck_assert_int_eq(u, INT64_C(999999999999999999));
}
END_TEST

static void expect_format(int64_t units, unsigned scale, const char *want)
{
    char out[CK_DECIMAL_STRMAX];
    size_t n = ck_decimal_format(units, scale, out);
    ck_assert_str_eq(out, want);
    ck_assert_uint_eq(n, strlen(want));
}

START_TEST(test_format)
{
    expect_format(1250, 2, "12.50");
    expect_format(-5, 2, "-0.05");
    expect_format(0, 2, "0.00");
    expect_format(7, 0, "7");
    expect_format(-7, 0, "-7");
    expect_format(0, 0, "0");
    expect_format(5, 4, "0.0005");
    expect_format(99999, 4, "9.9999");
    expect_format(INT64_C(9999999999), 2, "99999999.99");
    expect_format(INT64_MIN, 18, "-9.223372036854775808");
    expect_format(INT64_MIN, 0, "-9223372036854775808");
    expect_format(INT64_MAX, 0, "9223372036854775807");
    expect_format(1, 18, "0.000000000000000001");
    expect_format(-1, 18, "-0.000000000000000001");
}
END_TEST

/* An oracle for comparison that works on text: sign, then integer digits,
 * then fraction digits, as a person would compare two amounts. */
static int text_cmp(const char *a, const char *b)
{
    bool na = a[0] == '-', nb = b[0] == '-';
    a += na;
    b += nb;
    bool za = strspn(a, "0.") == strlen(a), zb = strspn(b, "0.") == strlen(b);
    if (za)
        na = false;
    if (zb)
        nb = false;
    if (na != nb)
        return na ? -1 : 1;
    size_t ia = strcspn(a, "."), ib = strcspn(b, ".");
    int mag;
    if (ia != ib) {
        mag = ia < ib ? -1 : 1;
    } else {
        int c = strncmp(a, b, ia);
        if (c != 0) {
            mag = c < 0 ? -1 : 1;
        } else {
            const char *fa = a[ia] ? a + ia + 1 : "", *fb = b[ib] ? b + ib + 1 : "";
            size_t la = strlen(fa), lb = strlen(fb);
            mag = 0;
            for (size_t k = 0; k < la || k < lb; k++) {
                char ca = k < la ? fa[k] : '0', cb = k < lb ? fb[k] : '0';
                if (ca != cb) {
                    mag = ca < cb ? -1 : 1;
                    break;
                }
            }
        }
    }
    return na ? -mag : mag;
}

START_TEST(test_cmp)
{
    ck_assert_int_eq(ck_decimal_cmp(15, 1, 150, 2), 0);
    ck_assert_int_gt(ck_decimal_cmp(1, 0, 99, 2), 0);
    ck_assert_int_lt(ck_decimal_cmp(-1, 0, -99, 2), 0);
    ck_assert_int_gt(ck_decimal_cmp(INT64_MAX, 0, INT64_MAX, 18), 0);
    ck_assert_int_lt(ck_decimal_cmp(INT64_MIN, 0, INT64_MIN, 18), 0);
    ck_assert_int_lt(ck_decimal_cmp(INT64_MIN, 0, INT64_MAX, 0), 0);
    ck_assert_int_eq(ck_decimal_cmp(0, 0, 0, 18), 0);
    ck_assert_int_lt(ck_decimal_cmp(-1, 18, 0, 0), 0);
    ck_assert_int_eq(ck_decimal_cmp(INT64_C(1000000000000000000), 18, 1, 0), 0);

    /* Random values at random scales against the text oracle. */
    uint64_t st = 12345;
    long checked = 0;
    for (int i = 0; i < 200000; i++) {
        st = st * UINT64_C(6364136223846793005) + 1;
        int64_t a = (int64_t)st >> (st % 64);
        unsigned sa = (unsigned)(st >> 7) % 19;
        st = st * UINT64_C(6364136223846793005) + 1;
        int64_t b = (int64_t)st >> (st % 64);
        unsigned sb = (unsigned)(st >> 7) % 19;
        if (i % 3 == 0) { /* equal values at different scales */
            b = a;
            sb = sa;
            while (sb < 18 && b > -INT64_C(900000000000000000) && b < INT64_C(900000000000000000)) {
                b *= 10;
                sb++;
                if (st >> (sb + 20) & 1)
                    break;
            }
        }
        char ta[CK_DECIMAL_STRMAX], tb[CK_DECIMAL_STRMAX];
        ck_decimal_format(a, sa, ta);
        ck_decimal_format(b, sb, tb);
        int want = text_cmp(ta, tb);
        int got = ck_decimal_cmp(a, sa, b, sb);
        ck_assert_msg(((got > 0) - (got < 0)) == want, "%s vs %s: got %d want %d", ta, tb, got,
                      want);
        checked++;
    }
    printf("decimal: %ld cross-scale comparisons checked\n", checked);
}
END_TEST

static const unsigned types[][2] = {{10, 2}, {5, 2}, {5, 4}, {12, 2}, {18, 6}, {18, 4},
                                    {14, 4}, {3, 2}, {4, 3}, {3, 0},  {18, 0}, {18, 18}};

static int64_t pow10i(unsigned n)
{
    int64_t v = 1;
    while (n--)
        v *= 10;
    return v;
}

START_TEST(test_random_round_trips)
{
    /* Every value formats and parses back; and text with extra fractional
     * digits rounds as an oracle computed in __int128 says. */
    uint64_t st = 777;
    long checked = 0;
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        unsigned p = types[t][0], s = types[t][1];
        int64_t max = pow10i(p) - 1;
        for (int i = 0; i < 20000; i++) {
            st = st * UINT64_C(6364136223846793005) + 1442695040888963407u;
            int64_t units = (int64_t)((st >> 1) % (uint64_t)(2 * max + 1)) - max;
            if (i < 4)
                units = i == 0 ? max : i == 1 ? -max : i == 2 ? 0 : 1;
            char txt[CK_DECIMAL_STRMAX + 8];
            ck_decimal_format(units, s, txt);
            int64_t back = 0;
            ck_assert_msg(ck_decimal_parse(txt, strlen(txt), p, s, &back) == 0, "%s (%u,%u)", txt,
                          p, s);
            ck_assert_int_eq(back, units);

            /* Append 1 to 3 random digits and round with the oracle. */
            unsigned extra = 1 + (unsigned)(st >> 40) % 3;
            size_t len = strlen(txt);
            if (s == 0)
                txt[len++] = '.';
            i128 full = units < 0 ? -(i128)units : (i128)units;
            for (unsigned k = 0; k < extra; k++) {
                unsigned dgt = (unsigned)(st >> (10 + 4 * k)) % 10;
                txt[len++] = (char)('0' + dgt);
                full = full * 10 + dgt;
            }
            txt[len] = '\0';
            i128 div = pow10i(extra);
            i128 q = full / div, r = full % div;
            if (2 * r >= div)
                q++;
            int rc = ck_decimal_parse(txt, len, p, s, &back);
            if (q > max) {
                ck_assert_int_eq(rc, -CK_EINVAL);
            } else {
                ck_assert_msg(rc == 0, "%s (%u,%u)", txt, p, s);
                ck_assert_int_eq(back, units < 0 ? -(int64_t)q : (int64_t)q);
            }
            checked += 2;
        }
    }
    printf("decimal: %ld random round trips and roundings checked\n", checked);
}
END_TEST

static Suite *decimal_suite(void)
{
    Suite *s = suite_create("decimal");
    TCase *tc = tcase_create("decimal");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_parse_vectors);
    tcase_add_test(tc, test_from_int);
    tcase_add_test(tc, test_format);
    tcase_add_test(tc, test_cmp);
    tcase_add_test(tc, test_random_round_trips);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(decimal_suite());
}
