/* DECIMAL(p,s) as int64 units of 10^-s: parse, format, compare. */
#include <stdbool.h>

#include "clinickv/error.h"
#include "decimal.h"

__extension__ typedef __int128 i128;

static const int64_t pow10_tab[CK_DECIMAL_MAX_PRECISION + 1] = {
    INT64_C(1),
    INT64_C(10),
    INT64_C(100),
    INT64_C(1000),
    INT64_C(10000),
    INT64_C(100000),
    INT64_C(1000000),
    INT64_C(10000000),
    INT64_C(100000000),
    INT64_C(1000000000),
    INT64_C(10000000000),
    INT64_C(100000000000),
    INT64_C(1000000000000),
    INT64_C(10000000000000),
    INT64_C(100000000000000),
    INT64_C(1000000000000000),
    INT64_C(10000000000000000),
    INT64_C(100000000000000000),
    INT64_C(1000000000000000000),
};

static bool type_ok(unsigned precision, unsigned scale)
{
    return precision >= 1 && precision <= CK_DECIMAL_MAX_PRECISION && scale <= precision;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int ck_decimal_parse(const char *s, size_t len, unsigned precision, unsigned scale,
                     int64_t *units_out)
{
    if (s == NULL || !type_ok(precision, scale))
        return -CK_EINVAL;
    size_t i = 0;
    bool neg = false;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        neg = s[i++] == '-';

    /* The integer part: leading zeros do not count towards the precision. */
    size_t ndigits = 0;
    unsigned sig = 0;
    int64_t ipart = 0;
    for (; i < len && is_digit(s[i]); i++, ndigits++) {
        if (sig == 0 && s[i] == '0')
            continue;
        if (++sig > precision - scale)
            return -CK_EINVAL;
        ipart = ipart * 10 + (s[i] - '0');
    }

    /* The fraction: scale digits are kept, the next one decides the rounding and
     * the rest only need to be digits (a digit after a 5 cannot change "half or
     * more" into "less than half"). */
    int64_t fpart = 0;
    unsigned nfrac = 0;
    bool round_up = false;
    if (i < len && s[i] == '.') {
        for (i++; i < len && is_digit(s[i]); i++, ndigits++) {
            if (nfrac < scale)
                fpart = fpart * 10 + (s[i] - '0');
            else if (nfrac == scale)
                round_up = s[i] >= '5';
            nfrac++;
        }
    }
    if (i != len || ndigits == 0)
        return -CK_EINVAL;
    for (unsigned k = nfrac; k < scale; k++)
        fpart *= 10;

    int64_t units = ipart * pow10_tab[scale] + fpart + (round_up ? 1 : 0);
    if (units > pow10_tab[precision] - 1)
        return -CK_EINVAL;
    *units_out = neg ? -units : units;
    return 0;
}

int ck_decimal_from_int(int64_t v, unsigned precision, unsigned scale, int64_t *units_out)
{
    if (!type_ok(precision, scale))
        return -CK_EINVAL;
    int64_t limit = pow10_tab[precision - scale];
    if (v >= limit || v <= -limit)
        return -CK_EINVAL;
    *units_out = v * pow10_tab[scale];
    return 0;
}

size_t ck_decimal_format(int64_t units, unsigned scale, char *out)
{
    if (scale > CK_DECIMAL_MAX_PRECISION)
        scale = CK_DECIMAL_MAX_PRECISION;
    /* The magnitude as unsigned, so that INT64_MIN has one too. */
    uint64_t mag = units < 0 ? 0u - (uint64_t)units : (uint64_t)units;
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + mag % 10);
        mag /= 10;
    } while (mag != 0);
    /* At least one digit before the point: 5 at scale 2 is "0.05". */
    while (n < scale + 1)
        digits[n++] = '0';

    size_t o = 0;
    if (units < 0)
        out[o++] = '-';
    for (size_t k = n; k > 0; k--) {
        if (k == scale && scale > 0)
            out[o++] = '.';
        out[o++] = digits[k - 1];
    }
    out[o] = '\0';
    return o;
}

int ck_decimal_cmp(int64_t a, unsigned scale_a, int64_t b, unsigned scale_b)
{
    /* At most 19 digits times 10^18 stays far inside __int128's 38 digits. */
    i128 x = a, y = b;
    if (scale_a < scale_b)
        x *= pow10_tab[scale_b - scale_a > CK_DECIMAL_MAX_PRECISION ? CK_DECIMAL_MAX_PRECISION
                                                                    : scale_b - scale_a];
    else if (scale_b < scale_a)
        y *= pow10_tab[scale_a - scale_b > CK_DECIMAL_MAX_PRECISION ? CK_DECIMAL_MAX_PRECISION
                                                                    : scale_a - scale_b];
    return (x > y) - (x < y);
}
