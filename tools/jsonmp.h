/*
 * JSON text to msgpack: the way back from protocol/mpjson.h, for reading JSON-lines
 * dumps.
 *
 * The msgpack written is canonical (the smallest header for every length, the
 * smallest integer format for every integer), which is what msgpack-c and the common
 * clients write, so a JSON value that came from such msgpack through mp_to_json()
 * converts back to the same bytes:
 *   null, true, false      nil, bool
 *   integers               int/uint formats (a value beyond 64 bits becomes a float 64)
 *   other numbers          float 64 (strtod, C locale)
 *   strings                str, \u escapes decoded (surrogate pairs joined)
 *   arrays, objects        array, map (keys are str), members in their order
 * What mp_to_json() cannot express comes back otherwise: a bin comes back as the str
 * of its base64, a float 32 as a float 64.
 */
#ifndef CLINICKV_JSONMP_H
#define CLINICKV_JSONMP_H

#include <stddef.h>

#include "buf.h"
#include "ckerr.h"

/* Deepest nesting of arrays and objects accepted (as mp_to_json()). */
#define JSONMP_MAX_DEPTH 64

/*
 * Convert the one JSON value in text[0..len) (whitespace around it allowed, nothing
 * else) to msgpack appended to out. Returns 0, -CK_EINVAL for text that is not one
 * well-formed JSON value (message in err, with the byte offset), -CK_ETOOLARGE
 * beyond JSONMP_MAX_DEPTH, -CK_ENOMEM. On error out's length is restored.
 */
int json_to_mp(const char *text, size_t len, struct buf *out, struct ck_err *err);

#endif
