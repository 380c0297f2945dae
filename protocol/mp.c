/* Zero-copy msgpack reader, and the msgpack-c packer glue. */
#include <string.h>

#include "clinickv/error.h"
#include "mp.h"

static inline uint16_t ld16(const unsigned char *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t ld32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t ld64(const unsigned char *p)
{
    return (uint64_t)ld32(p) << 32 | ld32(p + 4);
}

/* Bytes of header that follow the type byte, and the payload length rule, per type byte. */
int mp_next(const char **pp, const char *end, struct mp_obj *o)
{
    const unsigned char *p = (const unsigned char *)*pp;
    const unsigned char *e = (const unsigned char *)end;
    if (p >= e)
        return -CK_EAGAIN;
    unsigned c = *p++;
    size_t avail = (size_t)(e - p);
    uint32_t len;

#define NEED(n)                  \
    do {                         \
        if (avail < (size_t)(n)) \
            return -CK_EAGAIN;   \
    } while (0)

    if (c <= 0x7f) {
        o->type = MP_UINT;
        o->v.u = c;
    } else if (c >= 0xe0) {
        o->type = MP_INT;
        o->v.i = (int8_t)c;
    } else if (c >= 0x80 && c <= 0x8f) {
        o->type = MP_MAP;
        o->v.n = c & 0x0f;
    } else if (c >= 0x90 && c <= 0x9f) {
        o->type = MP_ARRAY;
        o->v.n = c & 0x0f;
    } else if (c >= 0xa0 && c <= 0xbf) {
        len = c & 0x1f;
        goto str_body;
    } else {
        switch (c) {
        case 0xc0: o->type = MP_NIL; break;
        case 0xc2:
            o->type = MP_BOOL;
            o->v.b = false;
            break;
        case 0xc3:
            o->type = MP_BOOL;
            o->v.b = true;
            break;
        case 0xc4:
            NEED(1);
            len = p[0];
            p += 1;
            avail -= 1;
            goto bin_body;
        case 0xc5:
            NEED(2);
            len = ld16(p);
            p += 2;
            avail -= 2;
            goto bin_body;
        case 0xc6:
            NEED(4);
            len = ld32(p);
            p += 4;
            avail -= 4;
            goto bin_body;
        case 0xc7:
            NEED(2);
            len = p[0];
            o->ext_type = (int8_t)p[1];
            p += 2;
            avail -= 2;
            goto ext_body;
        case 0xc8:
            NEED(3);
            len = ld16(p);
            o->ext_type = (int8_t)p[2];
            p += 3;
            avail -= 3;
            goto ext_body;
        case 0xc9:
            NEED(5);
            len = ld32(p);
            o->ext_type = (int8_t)p[4];
            p += 5;
            avail -= 5;
            goto ext_body;
        case 0xca: {
            NEED(4);
            uint32_t u = ld32(p);
            float f;
            memcpy(&f, &u, 4);
            o->type = MP_FLOAT;
            o->v.f = f;
            p += 4;
            break;
        }
        case 0xcb: {
            NEED(8);
            uint64_t u = ld64(p);
            double d;
            memcpy(&d, &u, 8);
            o->type = MP_FLOAT;
            o->v.f = d;
            p += 8;
            break;
        }
        case 0xcc:
            NEED(1);
            o->type = MP_UINT;
            o->v.u = p[0];
            p += 1;
            break;
        case 0xcd:
            NEED(2);
            o->type = MP_UINT;
            o->v.u = ld16(p);
            p += 2;
            break;
        case 0xce:
            NEED(4);
            o->type = MP_UINT;
            o->v.u = ld32(p);
            p += 4;
            break;
        case 0xcf:
            NEED(8);
            o->type = MP_UINT;
            o->v.u = ld64(p);
            p += 8;
            break;
        case 0xd0:
            NEED(1);
            o->v.i = (int8_t)p[0];
            p += 1;
            goto signed_int;
        case 0xd1:
            NEED(2);
            o->v.i = (int16_t)ld16(p);
            p += 2;
            goto signed_int;
        case 0xd2:
            NEED(4);
            o->v.i = (int32_t)ld32(p);
            p += 4;
            goto signed_int;
        case 0xd3:
            NEED(8);
            o->v.i = (int64_t)ld64(p);
            p += 8;
            goto signed_int;
        case 0xd4: len = 1; goto fixext;
        case 0xd5: len = 2; goto fixext;
        case 0xd6: len = 4; goto fixext;
        case 0xd7: len = 8; goto fixext;
        case 0xd8: len = 16; goto fixext;
        case 0xd9:
            NEED(1);
            len = p[0];
            p += 1;
            avail -= 1;
            goto str_body;
        case 0xda:
            NEED(2);
            len = ld16(p);
            p += 2;
            avail -= 2;
            goto str_body;
        case 0xdb:
            NEED(4);
            len = ld32(p);
            p += 4;
            avail -= 4;
            goto str_body;
        case 0xdc:
            NEED(2);
            o->type = MP_ARRAY;
            o->v.n = ld16(p);
            p += 2;
            break;
        case 0xdd:
            NEED(4);
            o->type = MP_ARRAY;
            o->v.n = ld32(p);
            p += 4;
            break;
        case 0xde:
            NEED(2);
            o->type = MP_MAP;
            o->v.n = ld16(p);
            p += 2;
            break;
        case 0xdf:
            NEED(4);
            o->type = MP_MAP;
            o->v.n = ld32(p);
            p += 4;
            break;
        default: return -CK_EBADREQ; /* 0xc1 */
        }
    }
    *pp = (const char *)p;
    return 0;

signed_int:
    if (o->v.i >= 0) {
        o->type = MP_UINT;
        o->v.u = (uint64_t)o->v.i;
    } else {
        o->type = MP_INT;
    }
    *pp = (const char *)p;
    return 0;
fixext:
    NEED(1);
    o->ext_type = (int8_t)p[0];
    p += 1;
    avail -= 1;
ext_body:
    o->type = MP_EXT;
    goto body;
str_body:
    o->type = MP_STR;
    goto body;
bin_body:
    o->type = MP_BIN;
body:
    NEED(len);
    o->v.str.ptr = (const char *)p;
    o->v.str.len = len;
    *pp = (const char *)(p + len);
    return 0;
#undef NEED
}

int mp_skip(const char **pp, const char *end)
{
    /* Count of objects still to skip, per nesting level; a flat loop, no recursion. */
    const char *p = *pp;
    uint64_t pending = 1;
    uint64_t stack[64];
    int depth = 0;
    for (;;) {
        while (pending == 0) {
            if (depth == 0) {
                *pp = p;
                return 0;
            }
            pending = stack[--depth];
        }
        struct mp_obj o;
        int rc = mp_next(&p, end, &o);
        if (rc)
            return rc;
        pending--;
        if (o.type == MP_ARRAY || o.type == MP_MAP) {
            uint64_t n = o.type == MP_MAP ? 2ull * o.v.n : o.v.n;
            if (n == 0)
                continue;
            if (depth == 64)
                return -CK_ETOOLARGE;
            stack[depth++] = pending;
            pending = n;
        }
    }
}

bool mp_obj_int64(const struct mp_obj *o, int64_t *out)
{
    if (o->type == MP_INT) {
        *out = o->v.i;
        return true;
    }
    if (o->type == MP_UINT && o->v.u <= (uint64_t)INT64_MAX) {
        *out = (int64_t)o->v.u;
        return true;
    }
    return false;
}

bool mp_obj_streq(const struct mp_obj *o, const char *s)
{
    if (o->type != MP_STR && o->type != MP_BIN)
        return false;
    size_t n = strlen(s);
    return o->v.str.len == n && memcmp(o->v.str.ptr, s, n) == 0;
}

int mp_map_find(const char *p, const char *end, uint32_t npairs, const char *name,
                const char **val_p)
{
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k;
        const char *key_start = p;
        if (mp_next(&p, end, &k) != 0)
            return -CK_ENOTFOUND;
        if (k.type == MP_ARRAY || k.type == MP_MAP) {
            /* A composite key never names anything: skip it whole. */
            p = key_start;
            if (mp_skip(&p, end) != 0)
                return -CK_ENOTFOUND;
        } else if (mp_obj_streq(&k, name)) {
            *val_p = p;
            return 0;
        }
        if (mp_skip(&p, end) != 0)
            return -CK_ENOTFOUND;
    }
    return -CK_ENOTFOUND;
}

static int buf_write_cb(void *data, const char *p, size_t len)
{
    struct buf *b = data;
    buf_append(b, p, len);
    return b->oom ? -1 : 0;
}

void mp_packer_init(msgpack_packer *pk, struct buf *b)
{
    msgpack_packer_init(pk, b, buf_write_cb);
}
