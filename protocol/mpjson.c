/* msgpack to JSON (mpjson.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "clinickv/error.h"
#include "mp.h"
#include "mpjson.h"

/* Nonzero for the bytes a JSON string cannot hold as they are, or that start UTF-8
 * sequences to check: control characters, '"', '\\', and every byte >= 0x80. */
/* One row of 16 bytes per line. */
/* clang-format off */
static const unsigned char special[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x00 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x10 */
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x20: '"' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x30 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x40 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* 0x50: '\\' */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x60 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x70 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x80 and up: UTF-8 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};
/* clang-format on */

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0 when it is
 * not one (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
            return 0;
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
            return 0;
        return 4;
    }
    return 0;
}

static void put_json_string(struct buf *out, const char *str, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, run = 0;
    buf_push(out, '"');
    while (i < len) {
        /* Copy runs of bytes that need nothing in one append. */
        run = i;
        while (i < len && !special[s[i]])
            i++;
        buf_append(out, s + run, i - run);
        if (i == len)
            break;
        unsigned c = s[i];
        if (c >= 0x80) {
            size_t n = utf8_len(s + i, len - i);
            if (n) {
                buf_append(out, s + i, n);
                i += n;
            } else {
                buf_append(out, "\xef\xbf\xbd", 3); /* U+FFFD REPLACEMENT CHARACTER */
                i++;
            }
            continue;
        }
        char esc[6] = {'\\', 0, '0', '0', 0, 0};
        size_t elen = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            esc[1] = 'u';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
            break;
        }
        buf_append(out, esc, elen);
        i++;
    }
    buf_push(out, '"');
}

/* Standard base64 with padding, inside double quotes. */
static void put_base64(struct buf *out, const char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *s = (const unsigned char *)data;
    size_t olen = (len + 2) / 3 * 4;
    if (buf_reserve(out, olen + 2) != 0)
        return;
    char *o = out->data + out->len;
    *o++ = '"';
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = alphabet[(v >> 6) & 63];
        *o++ = alphabet[v & 63];
    }
    if (i < len) {
        uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < len ? (uint32_t)s[i + 1] << 8 : 0);
        *o++ = alphabet[v >> 18];
        *o++ = alphabet[(v >> 12) & 63];
        *o++ = i + 1 < len ? alphabet[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o++ = '"';
    out->len = (size_t)(o - out->data);
}

static void put_uint(struct buf *out, uint64_t v)
{
    char tmp[20];
    size_t n = sizeof tmp;
    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_append(out, tmp + n, sizeof tmp - n);
}

static void put_int(struct buf *out, int64_t v)
{
    if (v < 0) {
        buf_push(out, '-');
        put_uint(out, (uint64_t)0 - (uint64_t)v); /* exact for INT64_MIN too */
    } else {
        put_uint(out, (uint64_t)v);
    }
}

static void put_double(struct buf *out, double d)
{
    if (!isfinite(d)) {
        buf_append(out, "null", 4);
        return;
    }
    char tmp[40];
    int n = snprintf(tmp, sizeof tmp, "%.17g", d);
    if (n <= 0 || (size_t)n >= sizeof tmp - 2)
        return; /* cannot happen: %.17g of a finite double is at most 24 characters */
    /* "%.17g" prints 2.0 as "2"; keep a float a float for the reader that loads it back. */
    if (strspn(tmp, "-0123456789") == (size_t)n) {
        tmp[n++] = '.';
        tmp[n++] = '0';
    }
    buf_append(out, tmp, (size_t)n);
}

/* One open array or map: elements still to convert (a map counts keys and values). */
struct frame {
    uint64_t left;
    bool map;
    bool first;
};

static int convert(const char **pp, const char *end, struct buf *out, unsigned depth_base,
                   unsigned key_depth);

/* A map key that is not a str: its JSON text, written as a JSON string. */
static int put_key_text(const char **pp, const char *end, struct buf *out, unsigned depth,
                        unsigned key_depth)
{
    if (key_depth >= MP_JSON_MAX_KEY_DEPTH)
        return -CK_ETOOLARGE;
    struct buf tmp = BUF_INIT;
    int rc = convert(pp, end, &tmp, depth, key_depth + 1);
    if (rc == 0 && tmp.oom)
        rc = -CK_ENOMEM;
    if (rc == 0)
        put_json_string(out, tmp.data, tmp.len);
    buf_free(&tmp);
    return rc;
}

/*
 * The conversion proper, iterative over one object. Non-str map keys are converted
 * by a nested call: depth_base is the container nesting and key_depth the key
 * nesting of the callers, so both limits bound the recursion. *pp advances only
 * on success.
 */
static int convert(const char **pp, const char *end, struct buf *out, unsigned depth_base,
                   unsigned key_depth)
{
    struct frame stack[MP_JSON_MAX_DEPTH];
    unsigned depth = 0;
    const char *p = *pp;
    int rc;

    for (;;) {
        bool is_key = false;
        if (depth > 0) {
            struct frame *f = &stack[depth - 1];
            if (f->left == 0) {
                buf_push(out, f->map ? '}' : ']');
                if (--depth == 0)
                    break;
                continue;
            }
            if (f->map) {
                is_key = f->left % 2 == 0;
                if (!is_key)
                    buf_push(out, ':');
                else if (!f->first)
                    buf_push(out, ',');
            } else if (!f->first) {
                buf_push(out, ',');
            }
            f->first = false;
            f->left--;
        }

        const char *start = p;
        struct mp_obj o;
        rc = mp_next(&p, end, &o);
        if (rc)
            return rc;
        if (is_key && o.type != MP_STR) {
            p = start;
            rc = put_key_text(&p, end, out, depth_base + depth, key_depth);
            if (rc)
                return rc;
            continue;
        }

        switch (o.type) {
        case MP_NIL: buf_append(out, "null", 4); break;
        case MP_BOOL:
            if (o.v.b)
                buf_append(out, "true", 4);
            else
                buf_append(out, "false", 5);
            break;
        case MP_UINT: put_uint(out, o.v.u); break;
        case MP_INT: put_int(out, o.v.i); break;
        case MP_FLOAT: put_double(out, o.v.f); break;
        case MP_STR: put_json_string(out, o.v.str.ptr, o.v.str.len); break;
        case MP_BIN: put_base64(out, o.v.str.ptr, o.v.str.len); break;
        case MP_EXT:
            buf_append(out, "{\"$ext\":", 8);
            put_int(out, o.ext_type);
            buf_append(out, ",\"data\":", 8);
            put_base64(out, o.v.str.ptr, o.v.str.len);
            buf_push(out, '}');
            break;
        case MP_ARRAY:
        case MP_MAP: {
            bool map = o.type == MP_MAP;
            if (o.v.n == 0) {
                buf_append(out, map ? "{}" : "[]", 2);
                break;
            }
            if (depth_base + depth >= MP_JSON_MAX_DEPTH)
                return -CK_ETOOLARGE;
            stack[depth].left = map ? 2 * (uint64_t)o.v.n : o.v.n;
            stack[depth].map = map;
            stack[depth].first = true;
            depth++;
            buf_push(out, map ? '{' : '[');
            break;
        }
        }
        if (depth == 0)
            break;
    }
    *pp = p;
    return 0;
}

int mp_to_json(const char **p, const char *end, struct buf *out)
{
    if (out->oom)
        return -CK_ENOMEM;
    size_t mark = out->len;
    int rc = convert(p, end, out, 0, 0);
    if (rc == 0 && out->oom)
        rc = -CK_ENOMEM;
    if (rc) {
        /* Drop the partial text; the buffer keeps what the caller had written before. */
        out->len = mark;
        out->oom = false;
    }
    return rc;
}
