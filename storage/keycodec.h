/*
 * Order-preserving key encoding, in the manner of FoundationDB's tuple layer
 * and CockroachDB's key encoding.
 *
 * An index key is a concatenation of encoded values. LMDB compares keys with
 * memcmp (a shorter key that is a prefix of a longer one sorts first), and the
 * encoding is built so that this byte order is the order of the values: an
 * index range scan is a plain cursor walk, and equal values give equal bytes.
 *
 * Each value is a type tag byte and a payload:
 *
 *   nil        0x10                       (lowest tag: NULL sorts first, as in MySQL)
 *   false/true 0x20 / 0x21
 *   integer    0x30, 8 bytes big-endian, sign bit flipped
 *   timestamp  0x40, 8 bytes big-endian, sign bit flipped (ms since the epoch)
 *   date       0x50, 4 bytes big-endian, sign bit flipped (days since 1970-01-01)
 *   uuid       0x60, the 16 bytes as they are
 *   string     0x70, the bytes with 0x00 written as 0x00 0xFF, then 0x00 0x00
 *
 * Every encoding is self-delimiting (no encoding is a proper prefix of
 * another), so values of a composite key compare one after the other, and a
 * value encoded in descending order is simply every byte of its ascending
 * encoding complemented, tag included: descending NULLs sort last, as in MySQL,
 * and columns of one key may mix directions freely.
 *
 * The kc_put_* functions append to a struct buf and return nothing: a buffer
 * that fails to grow remembers it (b->oom), and the caller checks once after
 * building the whole key.
 */
#ifndef CLINICKV_KEYCODEC_H
#define CLINICKV_KEYCODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum kc_dir { KC_ASC = 0, KC_DESC = 1 };

/* Type tags of the ascending encoding (descending: their complement). Values of
 * one index column always have the same tag or nil's. */
enum kc_tag {
    KC_TAG_NIL = 0x10,
    KC_TAG_FALSE = 0x20,
    KC_TAG_TRUE = 0x21,
    KC_TAG_INT = 0x30,
    KC_TAG_TIMESTAMP = 0x40,
    KC_TAG_DATE = 0x50,
    KC_TAG_UUID = 0x60,
    KC_TAG_STRING = 0x70,
};

/* Bytes of the fixed-size encodings, tag included. */
#define KC_NIL_SIZE       1
#define KC_BOOL_SIZE      1
#define KC_INT_SIZE       9
#define KC_TIMESTAMP_SIZE 9
#define KC_DATE_SIZE      5
#define KC_UUID_SIZE      17

/* The length of the hash that ends a truncated string. */
#define KC_STRING_HASH_SIZE 16

/* Append NULL. */
void kc_put_nil(struct buf *b, enum kc_dir d);

/* Append a boolean: false sorts before true. */
void kc_put_bool(struct buf *b, bool v, enum kc_dir d);

/* Append a signed integer. Also used for DECIMAL units (a column has one scale,
 * so units order as the values do) and for ENUM ordinals. */
void kc_put_int(struct buf *b, int64_t v, enum kc_dir d);

/* Append a TIMESTAMP, milliseconds since the epoch. */
void kc_put_timestamp(struct buf *b, int64_t ms, enum kc_dir d);

/* Append a DATE, days since 1970-01-01. */
void kc_put_date(struct buf *b, int32_t days, enum kc_dir d);

/* Append a UUID. Its 16 bytes compare as they are, so UUIDv7 ids sort by time. */
void kc_put_uuid(struct buf *b, const uint8_t id[16], enum kc_dir d);

/*
 * Append a string, normally a collation key (ck_collate_key()), so that equal
 * keys mean equal values under the column's collation.
 *
 * LMDB keys are at most 511 bytes, so the payload is bounded by max_bytes: when
 * the escaped string (0x00 counted twice) is longer than max_bytes, only the
 * longest prefix whose escaped form fits max_bytes is written (an escape pair
 * is never split), then the marker 0x00 0x01 and a 16-byte BLAKE2b hash of the
 * whole string. The marker sorts after the terminator 0x00 0x00 of every
 * shorter string with that prefix and before any longer one, so:
 *  - equality stays exact (up to the hash: a collision needs 2^64 work);
 *  - order is exact between any two strings except two truncated strings with
 *    the same prefix, which sort by hash, i.e. in an arbitrary but fixed order.
 * The whole encoding takes at most kc_string_max_encoded(max_bytes) bytes.
 *
 * s:         the bytes; any bytes, NULs included; need not be terminated.
 * len:       their count.
 * max_bytes: the bound on the escaped payload (before terminator or marker).
 */
void kc_put_string(struct buf *b, const char *s, size_t len, size_t max_bytes, enum kc_dir d);

/* The most bytes kc_put_string() appends for a given max_bytes: tag, payload,
 * two bytes of terminator or marker, and the hash (1 + max_bytes + 2 + 16). */
size_t kc_string_max_encoded(size_t max_bytes);

/*
 * Turn the key prefix in b into its successor: the smallest key greater than
 * every key that starts with the prefix, which makes [prefix, successor) the
 * range of exactly the keys with that prefix (an exclusive upper bound for a
 * cursor walk). Trailing 0xFF bytes are dropped and the last remaining byte is
 * incremented: the successor of 61 FF FF is 62.
 *
 * Returns 0; -CK_ENOTFOUND when there is no such key because the prefix is
 * empty or all 0xFF bytes (the range is then unbounded above), in which case b
 * is unchanged.
 */
int kc_prefix_successor(struct buf *b);

#endif
