/*
 * msgpack to JSON, for people and tools that do not speak msgpack: the schema
 * tool's --json output and the JSON-lines dump.
 *
 * The output is compact RFC 8259 JSON text:
 *   nil, bool, integers    null, true/false, decimal digits (all 64-bit values exact)
 *   float 32/64            "%.17g", plus ".0" when that prints an integer (2.0 -> "2.0",
 *                          so a reader gets a float back); a float 32 is widened first, so
 *                          0.1f prints as 0.10000000149011612; NaN and infinities, which
 *                          JSON cannot express, become null
 *   str                    a JSON string; '"', '\\' and control characters are escaped
 *                          (\b \f \n \r \t, others \u00XX); bytes that are not well-formed
 *                          UTF-8 are replaced by U+FFFD each, since JSON text must be UTF-8
 *   bin                    a string of its standard base64 (RFC 4648, padded)
 *   ext                    {"$ext": type, "data": "<base64>"}
 *   array, map             [...], {...}; a map key that is not a str becomes a string
 *                          holding the key's own JSON text (1 -> "1", [1,2] -> "[1,2]",
 *                          a bin -> "\"AAE=\"")
 * Numbers are printed in the C locale's format, which the server never changes.
 */
#ifndef CLINICKV_MPJSON_H
#define CLINICKV_MPJSON_H

#include "buf.h"

/* Deepest array/map nesting converted, as for mp_skip(). */
#define MP_JSON_MAX_DEPTH 64

/*
 * Deepest nesting of non-str map keys inside non-str map keys. Each level escapes
 * the text inside it once more, which can double its length ('"' -> '\"' ->
 * '\\\"'), so the output of nested keys grows as 2^levels: the limit keeps the
 * output within a small multiple of the input. Real data has no such keys.
 */
#define MP_JSON_MAX_KEY_DEPTH 2

/*
 * Convert the one msgpack object at *p (bounded by end) to JSON, appended to out.
 *
 * On success *p moves past the object and 0 is returned. On failure *p and
 * out's previous contents are left as they were and the error is returned:
 * -CK_EAGAIN when the bytes end inside the object, -CK_EBADREQ for the
 * never-used byte 0xc1, -CK_ETOOLARGE when nesting (map keys included) exceeds
 * MP_JSON_MAX_DEPTH or MP_JSON_MAX_KEY_DEPTH, -CK_ENOMEM when out cannot grow.
 * The caller owns out.
 */
int mp_to_json(const char **p, const char *end, struct buf *out);

#endif
