/*
 * msgpack, read in place and written through msgpack-c.
 *
 * Reading: a zero-copy cursor over bytes. mp_next() decodes one object header
 * and, for scalars, the whole value; strings and bins point into the input.
 * Arrays and maps leave the cursor on their first element, so nested data is
 * walked with the same call. Every read is bounds-checked against `end`, so the
 * reader is safe on any bytes; the frame scanner (frame.h) additionally proves a
 * message complete and within limits before any of it is interpreted.
 *
 * Writing: msgpack-c's packer (msgpack_pack_*) appending to a struct buf.
 */
#ifndef CLINICKV_MP_H
#define CLINICKV_MP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "buf.h"

enum mp_type {
    MP_NIL = 0,
    MP_BOOL,
    MP_UINT,  /* non-negative integers, whatever their encoding */
    MP_INT,   /* negative integers */
    MP_FLOAT, /* float 32 and float 64 */
    MP_STR,
    MP_BIN,
    MP_ARRAY,
    MP_MAP,
    MP_EXT,
};

struct mp_obj {
    enum mp_type type;
    int8_t ext_type; /* MP_EXT */
    union {
        bool b;     /* MP_BOOL */
        uint64_t u; /* MP_UINT */
        int64_t i;  /* MP_INT */
        double f;   /* MP_FLOAT */
        struct {
            const char *ptr;
            uint32_t len;
        } str;      /* MP_STR, MP_BIN, MP_EXT (data) */
        uint32_t n; /* MP_ARRAY: elements, MP_MAP: pairs */
    } v;
};

/*
 * Decode the object at *p. On success *p moves past the object (for MP_ARRAY and
 * MP_MAP: past the header only) and 0 is returned. -CK_EAGAIN: the bytes end
 * inside the object; -CK_EBADREQ: the never-used byte 0xc1. *p is unchanged on
 * error.
 */
int mp_next(const char **p, const char *end, struct mp_obj *o);

/* Skip one complete object, nested contents included. Errors as mp_next(), plus
 * -CK_ETOOLARGE when nesting exceeds 64 levels. */
int mp_skip(const char **p, const char *end);

/* True when o is an integer that fits int64_t; *out gets it. */
bool mp_obj_int64(const struct mp_obj *o, int64_t *out);

/* True when o is a string (str, or bin where names may arrive as bin) equal to s. */
bool mp_obj_streq(const struct mp_obj *o, const char *s);

/*
 * Find key `name` in the map whose header was just read (cursor *p on its first
 * key, npairs pairs). On success *val_p points at the value and 0 is returned;
 * -CK_ENOTFOUND when absent. The map cursor itself is not advanced.
 */
int mp_map_find(const char *p, const char *end, uint32_t npairs, const char *name,
                const char **val_p);

/* A msgpack-c packer that appends to b. */
void mp_packer_init(msgpack_packer *pk, struct buf *b);

/* Append a str with body. */
static inline void mp_pack_str(msgpack_packer *pk, const char *s, size_t len)
{
    msgpack_pack_str(pk, len);
    msgpack_pack_str_body(pk, s, len);
}

static inline void mp_pack_cstr(msgpack_packer *pk, const char *s)
{
    mp_pack_str(pk, s, strlen(s));
}

/* Append already-encoded msgpack bytes verbatim. */
static inline void mp_pack_raw(msgpack_packer *pk, const void *p, size_t len)
{
    buf_append((struct buf *)pk->data, p, len);
}

#endif
