/*
 * DECIMAL(p,s) values as exact integers: a value is held as an int64_t count of
 * 10^-s units, so 12.50 in a DECIMAL(10,2) column is 1250. Money is never a
 * binary float: nothing in this module uses floating point.
 *
 * Precision is limited to 18 digits, which int64_t always holds; the DDL's
 * widest column is DECIMAL(18,6). A column's scale is fixed, so values of one
 * column compare as plain integers (and encode as keys with kc_put_int());
 * values of different scales compare with ck_decimal_cmp().
 */
#ifndef CLINICKV_DECIMAL_H
#define CLINICKV_DECIMAL_H

#include <stddef.h>
#include <stdint.h>

#define CK_DECIMAL_MAX_PRECISION 18

/* Bytes ck_decimal_format() may write, NUL included: a sign, 19 digits, a point
 * and the NUL ("-9.223372036854775808" at scale 18), with room to spare. */
#define CK_DECIMAL_STRMAX 24

/*
 * Parse "[+-]digits[.digits]" ("12.5", "-0.05", ".5", "5.", "+7") as a
 * DECIMAL(precision, scale) value, as MySQL does in strict mode:
 *  - more fractional digits than scale are rounded half away from zero
 *    ("1.005" -> 1.01, "-1.005" -> -1.01), judged on the exact decimal digits;
 *  - a value whose integer part (after rounding) needs more than
 *    precision - scale digits is out of range ("1000.00" in DECIMAL(5,2)),
 *    leading zeros not counted;
 *  - no spaces (leading or trailing), no exponent, no thousands separators, no
 *    lone sign or point; "-0" and "-0.001" at scale 2 are 0.
 *
 * s:         the text; it need not be NUL-terminated.
 * len:       its length in bytes.
 * precision: p, 1..18.
 * scale:     s, 0..p.
 * units_out: OUT: the value in 10^-scale units; written only on success.
 *
 * Returns 0, or -CK_EINVAL for malformed text, a value out of range, or an
 * unsupported precision/scale.
 */
int ck_decimal_parse(const char *s, size_t len, unsigned precision, unsigned scale,
                     int64_t *units_out);

/*
 * The integer v as a DECIMAL(precision, scale) value: v * 10^scale units.
 *
 * Returns 0, or -CK_EINVAL when |v| needs more than precision - scale digits or
 * precision/scale are unsupported. units_out is written only on success.
 */
int ck_decimal_from_int(int64_t v, unsigned precision, unsigned scale, int64_t *units_out);

/*
 * Write units at scale as text that always shows the scale: "12.50", "-0.05",
 * "0.00", and "7" at scale 0, NUL-terminated.
 *
 * scale: 0..18.
 * out:   OUT: at least CK_DECIMAL_STRMAX bytes.
 *
 * Returns the length written, without the NUL.
 */
size_t ck_decimal_format(int64_t units, unsigned scale, char *out);

/*
 * Compare a (at scale_a) with b (at scale_b) exactly, whatever the two scales
 * (each 0..18): 1.5 at scale 1 equals 1.50 at scale 2.
 *
 * Returns a negative number, 0 or a positive number as a <, = or > b.
 */
int ck_decimal_cmp(int64_t a, unsigned scale_a, int64_t b, unsigned scale_b);

#endif
