/*
 * Framing: find where one top-level msgpack object ends in a byte stream.
 *
 * msgpack-RPC has no length prefix: a message is exactly one msgpack object, so
 * the only way to know that a request is complete is to walk its structure. The
 * scanner does that walk incrementally, as bytes arrive, and enforces the
 * limits of PROTOCOL.md "Framing" while it walks:
 *
 * - It allocates nothing, and it never trusts a claimed length before it has
 *   compared it with what the message may still hold: a str/bin/ext body of L
 *   bytes, an array of n elements or a map of n pairs (2n objects, each at least
 *   one byte) must all fit in max_message together with everything already
 *   seen and everything already owed by the enclosing containers. A 5-byte
 *   header claiming a 4 GiB string or 2^32-1 elements is therefore too large
 *   the moment its header is read (even a partial header counts: its missing
 *   low-order bytes are taken as zero, which gives a lower bound).
 * - The state is small and fixed (no malloc): the offset reached and one
 *   pending-element count per open container.
 * - It is resumable: a call that runs out of bytes keeps its place, and the next
 *   call continues from there, so a message that arrives one byte at a time is
 *   still scanned in O(total bytes). A partial header (at most 9 bytes) is the
 *   only thing ever examined twice.
 *
 * Only framing is checked here: any well-formed msgpack object is a frame.
 * Whether it is a valid msgpack-RPC message is rpc_parse()'s concern (rpc.h).
 */
#ifndef CLINICKV_FRAME_H
#define CLINICKV_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* PROTOCOL.md defaults: one message at most 16 MiB, nesting at most 32 levels. */
#define FRAME_DEFAULT_MAX_MESSAGE ((size_t)16 * 1024 * 1024)
#define FRAME_DEFAULT_MAX_DEPTH   32u

/* The scanner's fixed stack holds this many levels; a larger max_depth is clamped. */
#define FRAME_DEPTH_CAP 64u

/* max_message values above this are clamped, so that offsets and lower bounds
 * can be added in 64-bit arithmetic without overflow on any platform. */
#define FRAME_MESSAGE_CAP ((size_t)(SIZE_MAX / 4))

struct frame_limits {
    size_t max_message; /* bytes in one message, all headers included */
    unsigned max_depth; /* arrays/maps open at once, at most FRAME_DEPTH_CAP */
};

/* Initializer with the protocol's defaults: struct frame_limits l = FRAME_LIMITS_DEFAULT; */
#define FRAME_LIMITS_DEFAULT                               \
    {                                                      \
        FRAME_DEFAULT_MAX_MESSAGE, FRAME_DEFAULT_MAX_DEPTH \
    }

/*
 * Scanner state. Treat as opaque outside protocol/; it is public only so that
 * it can be embedded in a connection without an allocation.
 */
struct frame_scanner {
    uint64_t off;       /* offset of the next header; past len while a body is in flight */
    uint64_t owed;      /* objects still owed by all open containers (each >= 1 byte) */
    unsigned level;     /* containers open; stack[0] is the top-level slot */
    int err;            /* 0, or the negative error already returned (sticky) */
    bool too_deep;      /* err is -CK_ETOOLARGE because of max_depth, not max_message */
    size_t max_message; /* limits, clamped at init */
    unsigned max_depth;
    uint64_t stack[FRAME_DEPTH_CAP + 1]; /* objects still to read at each level */
};

/*
 * Prepare s for the first frame of a stream. lim may be NULL for the defaults;
 * it is copied (max_depth clamped to FRAME_DEPTH_CAP, max_message to
 * FRAME_MESSAGE_CAP), so the caller need not keep it. Cannot fail.
 */
void frame_scanner_init(struct frame_scanner *s, const struct frame_limits *lim);

/*
 * Is a complete msgpack object at the start of buf?
 *
 * buf/len are all the bytes of the current frame received so far: the same
 * start at every call, longer (never shorter) as bytes arrive. The scanner only
 * reads buf[0..len) and keeps no pointer into it, so the caller may move or
 * grow its buffer between calls.
 *
 * Returns:
 *   1  a complete object of *frame_len bytes starts at buf. The scanner has
 *      reset itself: the next frame starts at buf + *frame_len, and the next
 *      call must pass that address (and the bytes after it) as its buf.
 *   0  more bytes are needed; the position reached is kept, so the next call
 *      resumes there. *frame_len is not written.
 *   -CK_ETOOLARGE  the message is certain to exceed max_message (a claimed
 *      length or element count that cannot fit in what is left of the allowance,
 *      or more than max_message bytes received without the object ending), or a
 *      container opens more than max_depth levels deep. An empty array or map
 *      counts as a level: [[]] is two levels deep.
 *   -CK_EBADREQ  malformed msgpack: the never-used type byte 0xc1.
 *
 * An error is sticky: every later call returns it again until
 * frame_scanner_init(). The stream cannot be resynchronised after an error, so
 * the connection has to be closed (docs/protocol.md).
 */
int frame_scan(struct frame_scanner *s, const char *buf, size_t len, size_t *frame_len);

/*
 * After frame_scan() returned -CK_ETOOLARGE: true when the nesting limit was
 * exceeded, false when the size limit was, so that the error can name the
 * limit. False when no error has been returned.
 */
bool frame_scanner_too_deep(const struct frame_scanner *s);

#endif
