/*
 * libFuzzer target for everything that parses bytes from a client: the frame
 * scanner, the msgpack reader and the msgpack-RPC envelope parser.
 *
 * Input layout: byte 0 chooses the limits, byte 1 seeds the chunking, and the
 * rest is the byte stream of one connection. The stream is delivered in chunks
 * as a socket would deliver it, each frame_scan() call seeing a heap copy of
 * exactly the bytes received so far, so that ASan catches any read past them.
 * Every result is checked against an independent reading of the same bytes;
 * a disagreement aborts. See README.md beside this file for build and run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ckerr.h"
#include "clinickv/error.h"
#include "frame.h"
#include "mp.h"
#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_fail(const char *what, long a, long b)
{
    fprintf(stderr, "fuzz_frame: %s (%ld, %ld)\n", what, a, b);
    abort();
}

/* A heap copy of exactly len bytes: reading one byte past it is an ASan report. */
static char *exact_copy(const char *p, size_t len)
{
    char *c = malloc(len ? len : 1);
    if (!c)
        abort();
    if (len)
        memcpy(c, p, len);
    return c;
}

/*
 * Levels of nesting of the complete object at p, empty containers included, as
 * frame.h defines depth: an independent walk, for judging the scanner.
 */
static unsigned nesting(const char *p, const char *end)
{
    uint64_t stack[80];
    unsigned level = 0, deepest = 0;
    uint64_t pending = 1;
    for (;;) {
        while (pending == 0) {
            if (level == 0)
                return deepest;
            pending = stack[--level];
        }
        struct mp_obj o;
        if (mp_next(&p, end, &o) != 0)
            fuzz_fail("nesting of an incomplete object", 0, 0);
        pending--;
        if (o.type != MP_ARRAY && o.type != MP_MAP)
            continue;
        if (level + 1 > deepest)
            deepest = level + 1;
        uint64_t n = o.type == MP_MAP ? 2ull * o.v.n : o.v.n;
        if (n == 0)
            continue;
        if (level == 79)
            fuzz_fail("nesting deeper than mp_skip allows", level, 0);
        stack[level++] = pending;
        pending = n;
    }
}

/* Scan one frame from stream[0..len) in one call. */
static int scan_once(const struct frame_limits *lim, const char *stream, size_t len, size_t *flen)
{
    struct frame_scanner s;
    frame_scanner_init(&s, lim);
    char *c = exact_copy(stream, len);
    int rc = frame_scan(&s, c, len, flen);
    free(c);
    return rc;
}

/* Parse a complete frame as the server would, and encode what the server would answer. */
static void check_rpc(const char *frame, size_t flen)
{
    char *c = exact_copy(frame, flen);
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    struct buf out = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &out);

    int rc = rpc_parse(c, flen, &m, &err);
    if (rc == 0) {
        if (m.type != RPC_REQUEST && m.type != RPC_NOTIFY)
            fuzz_fail("parsed with a bad type", m.type, 0);
        if (!m.method || m.params_end != c + flen)
            fuzz_fail("parsed request does not span the frame", 0, 0);
        if (m.type == RPC_REQUEST && m.nparams) {
            const char *val;
            (void)mp_map_find(m.params, m.params_end, m.nparams, "table", &val);
        }
        rpc_pack_result_header(&pk, m.msgid);
        msgpack_pack_nil(&pk);
    } else {
        if (rc != -CK_EBADREQ || err.code != rc || err.message[0] == 0)
            fuzz_fail("bad refusal", rc, err.code);
        if (m.type != RPC_REQUEST && m.msgid != 0)
            fuzz_fail("unanswerable message with a msgid", m.type, m.msgid);
        rpc_pack_error(&pk, m.msgid, &err);
    }
    /* Whatever the server answers is one well-formed msgpack object. */
    const char *p = out.data;
    if (out.oom || mp_skip(&p, out.data + out.len) != 0 || p != out.data + out.len)
        fuzz_fail("malformed reply", (long)out.len, 0);
    buf_free(&out);
    ck_err_free(&err);
    free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct frame_limits lims[4] = {
        FRAME_LIMITS_DEFAULT, {256, 4}, {4096, 32}, {100000, 1000}};
    static const unsigned chunk_max[4] = {1, 4, 17, 300};
    if (size < 2)
        return 0;
    const struct frame_limits *lim = &lims[data[0] & 3];
    unsigned cmax = chunk_max[(data[0] >> 2) & 3];
    uint32_t seed = data[1] * 2654435761u + (uint32_t)size;
    const char *stream = (const char *)data + 2;
    size_t len = size - 2;

    /* The connection: bytes arrive in chunks, frames are consumed as they complete. */
    struct frame_scanner s;
    frame_scanner_init(&s, lim);
    size_t start = 0, got = 0;
    for (;;) {
        seed = seed * 1103515245u + 12345u;
        got += 1 + (seed >> 16) % cmax;
        if (got > len)
            got = len;

        int rc;
        size_t flen = 0;
        for (;;) {
            char *c = exact_copy(stream + start, got - start);
            rc = frame_scan(&s, c, got - start, &flen);
            free(c);
            if (rc != 1)
                break;

            /* The same frame, scanned whole, and walked by mp_skip. */
            size_t flen2 = 0;
            int rc2 = scan_once(lim, stream + start, len - start, &flen2);
            if (rc2 != 1 || flen2 != flen)
                fuzz_fail("chunked frame differs from whole", rc2, (long)flen2);
            const char *p = stream + start;
            if (mp_skip(&p, stream + start + flen) != 0 || p != stream + start + flen)
                fuzz_fail("mp_skip disagrees with frame length", (long)flen, 0);
            if (flen > lim->max_message)
                fuzz_fail("frame over the limit", (long)flen, 0);
            unsigned depth = nesting(stream + start, stream + start + flen);
            if (depth > lim->max_depth)
                fuzz_fail("frame over the depth limit", depth, 0);
            check_rpc(stream + start, flen);
            start += flen;
        }
        if (rc < 0) {
            /* The whole stream must fail the same way, and the failure must be justified. */
            size_t flen2;
            int rc2 = scan_once(lim, stream + start, len - start, &flen2);
            if (rc2 != rc)
                fuzz_fail("chunked error differs from whole", rc, rc2);
            const char *p = stream + start;
            int skip = mp_skip(&p, stream + len);
            if (rc == -CK_EBADREQ && skip != -CK_EBADREQ)
                fuzz_fail("0xc1 not seen by mp_skip", skip, 0);
            if (rc == -CK_ETOOLARGE && skip == 0) {
                /* A complete object was refused: it must really break a limit. */
                size_t olen = (size_t)(p - (stream + start));
                unsigned depth = nesting(stream + start, p);
                unsigned max_depth =
                    lim->max_depth < FRAME_DEPTH_CAP ? lim->max_depth : FRAME_DEPTH_CAP;
                if (olen <= lim->max_message && depth <= max_depth)
                    fuzz_fail("too large, yet within both limits", (long)olen, depth);
            }
            if (rc == -CK_ETOOLARGE) {
                /* The response the server sends before closing: one msgpack object. */
                struct buf out = BUF_INIT;
                msgpack_packer pk;
                mp_packer_init(&pk, &out);
                char *c = exact_copy(stream + start, got - start);
                rpc_pack_too_large(&pk, &s, c, got - start);
                free(c);
                p = out.data;
                if (out.oom || mp_skip(&p, out.data + out.len) != 0 || p != out.data + out.len)
                    fuzz_fail("malformed too_large reply", (long)out.len, 0);
                buf_free(&out);
            }
            return 0;
        }
        if (got == len)
            break;
    }
    /* Out of bytes inside a frame: mp_skip must agree that it is incomplete. */
    const char *p = stream + start;
    if (start < len && mp_skip(&p, stream + len) != -CK_EAGAIN)
        fuzz_fail("incomplete frame that mp_skip completes", (long)start, (long)len);
    return 0;
}
