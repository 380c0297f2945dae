/* Resumable msgpack frame scanner: see frame.h. */
#include <stdbool.h>
#include <string.h>

#include "clinickv/error.h"
#include "frame.h"

/* The longest msgpack header: a type byte and an 8-byte value (uint64, float64). */
#define FRAME_HDR_MAX 9

/* What one header says about its object. */
struct frame_hdr {
    unsigned size;     /* header bytes, type byte included */
    uint64_t body;     /* raw bytes after the header (str, bin, ext data) */
    uint64_t children; /* objects inside (array: n, map: 2n) */
    bool container;
};

/* What the length field of a 0xc0..0xdf header counts. */
enum frame_kind {
    FRAME_SCALAR, /* nothing: the object is its header */
    FRAME_BODY,   /* bytes of str/bin/ext data after the header */
    FRAME_ARRAY,  /* elements */
    FRAME_MAP,    /* pairs, so twice as many objects */
    FRAME_BAD,    /* 0xc1, never used */
};

/*
 * The headers 0xc0..0xdf, indexed by type byte - 0xc0: total header size, the
 * size of the big-endian length field at offset 1 (0: none), what it counts,
 * and the fixed body size of fixext. An ext header's size includes its one-byte
 * ext type, which follows the length.
 */
static const struct {
    uint8_t size;
    uint8_t len_bytes;
    uint8_t kind;
    uint8_t fixed_body;
} frame_fmts[32] = {
    [0x00] = {1, 0, FRAME_SCALAR, 0}, /* nil */
    [0x01] = {1, 0, FRAME_BAD, 0},    /* never used */
    [0x02] = {1, 0, FRAME_SCALAR, 0}, /* false */
    [0x03] = {1, 0, FRAME_SCALAR, 0}, /* true */
    [0x04] = {2, 1, FRAME_BODY, 0},   /* bin 8 */
    [0x05] = {3, 2, FRAME_BODY, 0},   /* bin 16 */
    [0x06] = {5, 4, FRAME_BODY, 0},   /* bin 32 */
    [0x07] = {3, 1, FRAME_BODY, 0},   /* ext 8 */
    [0x08] = {4, 2, FRAME_BODY, 0},   /* ext 16 */
    [0x09] = {6, 4, FRAME_BODY, 0},   /* ext 32 */
    [0x0a] = {5, 0, FRAME_SCALAR, 0}, /* float 32 */
    [0x0b] = {9, 0, FRAME_SCALAR, 0}, /* float 64 */
    [0x0c] = {2, 0, FRAME_SCALAR, 0}, /* uint 8 */
    [0x0d] = {3, 0, FRAME_SCALAR, 0}, /* uint 16 */
    [0x0e] = {5, 0, FRAME_SCALAR, 0}, /* uint 32 */
    [0x0f] = {9, 0, FRAME_SCALAR, 0}, /* uint 64 */
    [0x10] = {2, 0, FRAME_SCALAR, 0}, /* int 8 */
    [0x11] = {3, 0, FRAME_SCALAR, 0}, /* int 16 */
    [0x12] = {5, 0, FRAME_SCALAR, 0}, /* int 32 */
    [0x13] = {9, 0, FRAME_SCALAR, 0}, /* int 64 */
    [0x14] = {2, 0, FRAME_BODY, 1},   /* fixext 1 */
    [0x15] = {2, 0, FRAME_BODY, 2},   /* fixext 2 */
    [0x16] = {2, 0, FRAME_BODY, 4},   /* fixext 4 */
    [0x17] = {2, 0, FRAME_BODY, 8},   /* fixext 8 */
    [0x18] = {2, 0, FRAME_BODY, 16},  /* fixext 16 */
    [0x19] = {2, 1, FRAME_BODY, 0},   /* str 8 */
    [0x1a] = {3, 2, FRAME_BODY, 0},   /* str 16 */
    [0x1b] = {5, 4, FRAME_BODY, 0},   /* str 32 */
    [0x1c] = {3, 2, FRAME_ARRAY, 0},  /* array 16 */
    [0x1d] = {5, 4, FRAME_ARRAY, 0},  /* array 32 */
    [0x1e] = {3, 2, FRAME_MAP, 0},    /* map 16 */
    [0x1f] = {5, 4, FRAME_MAP, 0},    /* map 32 */
};

/*
 * Decode the header at h, which must have FRAME_HDR_MAX readable bytes (the
 * caller pads a partial header with zeros, which turns every length into a lower
 * bound of the real one). False for the never-used type byte 0xc1.
 */
static bool frame_hdr_decode(const unsigned char *h, struct frame_hdr *o)
{
    unsigned c = h[0];
    o->size = 1;
    o->body = 0;
    o->children = 0;
    o->container = false;

    if (c <= 0x7f || c >= 0xe0)
        return true; /* positive and negative fixint */
    if (c <= 0x8f) {
        o->container = true;
        o->children = 2u * (c & 0x0f);
        return true;
    }
    if (c <= 0x9f) {
        o->container = true;
        o->children = c & 0x0f;
        return true;
    }
    if (c <= 0xbf) {
        o->body = c & 0x1f;
        return true;
    }

    unsigned i = c - 0xc0;
    uint64_t n = frame_fmts[i].fixed_body;
    for (unsigned k = 1; k <= frame_fmts[i].len_bytes; k++)
        n = n << 8 | h[k];
    o->size = frame_fmts[i].size;
    switch (frame_fmts[i].kind) {
    case FRAME_BAD: return false;
    case FRAME_SCALAR: break;
    case FRAME_BODY: o->body = n; break;
    case FRAME_ARRAY:
        o->container = true;
        o->children = n;
        break;
    case FRAME_MAP:
        o->container = true;
        o->children = 2 * n;
        break;
    }
    return true;
}

static void frame_scanner_reset(struct frame_scanner *s)
{
    s->off = 0;
    s->owed = 1;
    s->level = 0;
    s->stack[0] = 1; /* the top-level object itself */
}

void frame_scanner_init(struct frame_scanner *s, const struct frame_limits *lim)
{
    struct frame_limits def = FRAME_LIMITS_DEFAULT;
    if (!lim)
        lim = &def;
    s->max_message = lim->max_message < FRAME_MESSAGE_CAP ? lim->max_message : FRAME_MESSAGE_CAP;
    s->max_depth = lim->max_depth < FRAME_DEPTH_CAP ? lim->max_depth : FRAME_DEPTH_CAP;
    s->err = 0;
    s->too_deep = false;
    frame_scanner_reset(s);
}

static int frame_fail(struct frame_scanner *s, int err)
{
    s->err = err;
    return err;
}

int frame_scan(struct frame_scanner *s, const char *buf, size_t len, size_t *frame_len)
{
    const unsigned char *p = (const unsigned char *)buf;

    if (s->err)
        return s->err;
    for (;;) {
        /* A str/bin/ext body whose header was accepted may still be arriving;
         * its bytes need no inspection, only their count. */
        if (s->off > len)
            break;
        while (s->level > 0 && s->stack[s->level] == 0)
            s->level--;
        if (s->level == 0 && s->stack[0] == 0) {
            *frame_len = (size_t)s->off;
            frame_scanner_reset(s);
            return 1;
        }
        if (s->off == len)
            break;

        size_t avail = len - (size_t)s->off;
        const unsigned char *h = p + s->off;
        unsigned char pad[FRAME_HDR_MAX];
        if (avail < FRAME_HDR_MAX) {
            memset(pad, 0, sizeof pad);
            memcpy(pad, h, avail);
            h = pad;
        }
        struct frame_hdr hd;
        if (!frame_hdr_decode(h, &hd))
            return frame_fail(s, -CK_EBADREQ);

        /*
         * The smallest message this object allows: everything before it, its
         * header and body, one byte per object it contains, and one byte per
         * object still owed by the enclosing containers. If even that exceeds the
         * limit, no bytes yet to come can help, so refuse now, before the caller
         * buffers (or anyone allocates for) the claimed length.
         */
        uint64_t owed = s->owed - 1;
        uint64_t min_end = s->off + hd.size + hd.body + hd.children + owed;
        if (min_end > s->max_message)
            return frame_fail(s, -CK_ETOOLARGE);
        if (hd.container && s->level + 1 > s->max_depth) {
            s->too_deep = true;
            return frame_fail(s, -CK_ETOOLARGE);
        }
        if (avail < hd.size)
            break; /* the header itself is incomplete: read it again next time */

        s->stack[s->level]--;
        s->owed = owed;
        if (hd.children > 0) {
            s->stack[++s->level] = hd.children;
            s->owed += hd.children;
        }
        s->off += hd.size + hd.body;
    }
    /* The object does not end within len, so it is longer than len. The bounds
     * above already imply len < max_message here; this keeps the limit on
     * received bytes explicit. */
    if (len >= s->max_message)
        return frame_fail(s, -CK_ETOOLARGE);
    return 0;
}

bool frame_scanner_too_deep(const struct frame_scanner *s)
{
    return s->err == -CK_ETOOLARGE && s->too_deep;
}
