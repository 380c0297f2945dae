/*
 * Fast msgpack writers for the hot paths (rows on their way to clients): each
 * reserves once and writes the bytes directly into a struct buf, where
 * msgpack-c's packer makes a callback per token. The encodings are msgpack's
 * smallest forms, exactly what msgpack-c would write.
 */
#ifndef CLINICKV_MPW_H
#define CLINICKV_MPW_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <msgpack.h>

#include "buf.h"

/* The buffer behind a packer made by mp_packer_init(). */
static inline struct buf *mpw_buf(msgpack_packer *pk)
{
    return (struct buf *)pk->data;
}

/* Room for n more bytes; false (and b->oom set) when memory ran out. */
static inline bool mpw_room(struct buf *b, size_t n)
{
    return !b->oom && (b->cap - b->len >= n || buf_reserve(b, n) == 0);
}

static inline void mpw_be16(char *p, uint16_t v)
{
    p[0] = (char)(v >> 8);
    p[1] = (char)v;
}

static inline void mpw_be32(char *p, uint32_t v)
{
    p[0] = (char)(v >> 24);
    p[1] = (char)(v >> 16);
    p[2] = (char)(v >> 8);
    p[3] = (char)v;
}

static inline void mpw_nil(struct buf *b)
{
    buf_push(b, 0xc0);
}

static inline void mpw_bool(struct buf *b, bool v)
{
    buf_push(b, v ? 0xc3 : 0xc2);
}

/* Write a str (or bin) header for n bytes at p; returns its size. */
static inline size_t mpw_strhdr(char *p, uint32_t n, bool bin)
{
    if (!bin && n < 32) {
        p[0] = (char)(0xa0 | n);
        return 1;
    }
    if (n < 256) {
        p[0] = (char)(bin ? 0xc4 : 0xd9);
        p[1] = (char)n;
        return 2;
    }
    if (n < 65536) {
        p[0] = (char)(bin ? 0xc5 : 0xda);
        mpw_be16(p + 1, (uint16_t)n);
        return 3;
    }
    p[0] = (char)(bin ? 0xc6 : 0xdb);
    mpw_be32(p + 1, n);
    return 5;
}

static inline void mpw_str(struct buf *b, const void *s, uint32_t n)
{
    if (!mpw_room(b, (size_t)n + 5))
        return;
    size_t h = mpw_strhdr(b->data + b->len, n, false);
    memcpy(b->data + b->len + h, s, n);
    b->len += h + n;
}

static inline void mpw_bin(struct buf *b, const void *s, uint32_t n)
{
    if (!mpw_room(b, (size_t)n + 5))
        return;
    size_t h = mpw_strhdr(b->data + b->len, n, true);
    memcpy(b->data + b->len + h, s, n);
    b->len += h + n;
}

static inline void mpw_map(struct buf *b, uint32_t n)
{
    if (!mpw_room(b, 5))
        return;
    char *p = b->data + b->len;
    if (n < 16) {
        p[0] = (char)(0x80 | n);
        b->len += 1;
    } else if (n < 65536) {
        p[0] = (char)0xde;
        mpw_be16(p + 1, (uint16_t)n);
        b->len += 3;
    } else {
        p[0] = (char)0xdf;
        mpw_be32(p + 1, n);
        b->len += 5;
    }
}

static inline void mpw_int(struct buf *b, int64_t v)
{
    if (v >= 0 && v < 128) {
        buf_push(b, (uint8_t)v);
    } else if (v >= -32 && v < 0) {
        buf_push(b, (uint8_t)(int8_t)v);
    } else {
        /* The smallest width, as msgpack-c chooses it. */
        char tmp[9];
        size_t n;
        if (v > 0) {
            uint64_t u = (uint64_t)v;
            if (u < 256) {
                tmp[0] = (char)0xcc, tmp[1] = (char)u, n = 2;
            } else if (u < 65536) {
                tmp[0] = (char)0xcd, mpw_be16(tmp + 1, (uint16_t)u), n = 3;
            } else if (u < 4294967296ull) {
                tmp[0] = (char)0xce, mpw_be32(tmp + 1, (uint32_t)u), n = 5;
            } else {
                tmp[0] = (char)0xcf, mpw_be32(tmp + 1, (uint32_t)(u >> 32)),
                mpw_be32(tmp + 5, (uint32_t)u), n = 9;
            }
        } else if (v >= -128) {
            tmp[0] = (char)0xd0, tmp[1] = (char)(int8_t)v, n = 2;
        } else if (v >= -32768) {
            tmp[0] = (char)0xd1, mpw_be16(tmp + 1, (uint16_t)(int16_t)v), n = 3;
        } else if (v >= INT32_MIN) {
            tmp[0] = (char)0xd2, mpw_be32(tmp + 1, (uint32_t)(int32_t)v), n = 5;
        } else {
            uint64_t u = (uint64_t)v;
            tmp[0] = (char)0xd3, mpw_be32(tmp + 1, (uint32_t)(u >> 32)),
            mpw_be32(tmp + 5, (uint32_t)u), n = 9;
        }
        buf_append(b, tmp, n);
    }
}

#endif
