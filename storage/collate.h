/*
 * The equality of the DDL's utf8mb4_unicode_ci, as a byte string.
 *
 * Unique and FK index keys hold a collation key of each string column instead
 * of the string itself, so that two values MySQL would call equal ('LOT-A1'
 * and 'lot-a1 ') land on the same key and a memcmp decides equality. The key
 * is the string mapped by utf8proc (compatibility decomposition, canonical
 * composition, case folding, combining marks stripped, default-ignorable code
 * points removed) with trailing spaces removed (PAD SPACE).
 *
 * This is an approximation of MySQL's UCA 4.0.0 weights, not a copy: where the
 * two differ, and how that was measured on MariaDB, is in docs/collation.md.
 * Keys order by code point, not by UCA weight, so an index range over a string
 * column is in code point order of the folded text.
 */
#ifndef CLINICKV_COLLATE_H
#define CLINICKV_COLLATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Append the collation key of s to out.
 *
 * Pure ASCII input is folded directly (A-Z to a-z, trailing spaces removed),
 * which gives the same bytes utf8proc would; anything else goes through
 * utf8proc_map(). The key of a valid string is itself valid UTF-8 and may be
 * empty (a string of spaces). It may be longer than s ("ß" -> "ss",
 * "ﬃ" -> "ffi") or shorter.
 *
 * s:   UTF-8 text; need not be NUL-terminated; may contain U+0000.
 * len: its length in bytes.
 * out: OUT: the key is appended; nothing is appended on error. The caller owns
 *      the buffer.
 *
 * Returns 0; -CK_EINVAL when s is not valid UTF-8 (see ck_utf8_valid());
 * -CK_ENOMEM when memory runs out (out->oom is set if out could not grow).
 */
int ck_collate_key(const char *s, size_t len, struct buf *out);

/*
 * Validate UTF-8 strictly: no overlong forms, no surrogates (U+D800..U+DFFF),
 * nothing above U+10FFFF, no truncated sequences. U+0000 is valid.
 *
 * chars_out: OUT: the number of code points (VARCHAR(n) limits count these);
 *            written only when s is valid. May be NULL.
 *
 * Returns true when s is valid.
 */
bool ck_utf8_valid(const char *s, size_t len, size_t *chars_out);

/*
 * True when a and b are equal under the collation, i.e. have equal keys; used
 * to match ENUM values as MySQL does ('Active' for ENUM('active')). False when
 * either is invalid UTF-8 or memory runs out.
 */
bool ck_collate_eq(const char *a, size_t alen, const char *b, size_t blen);

#endif
