/* JSON text to canonical msgpack (jsonmp.h). */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonmp.h"
#include "mp.h"

struct jp {
    const char *start, *p, *end;
    struct buf *out;
    msgpack_packer pk;
    struct ck_err *err;
    unsigned depth;
};

static int jp_fail(struct jp *j, const char *why)
{
    return ck_err_set(j->err, -CK_EINVAL, "malformed JSON at byte %zu: %s",
                      (size_t)(j->p - j->start), why);
}

static void skip_ws(struct jp *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
        j->p++;
}

static bool literal(struct jp *j, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
        return false;
    j->p += n;
    return true;
}

/* Insert the smallest msgpack array/map header for n elements at offset at. */
static void insert_header(struct buf *b, size_t at, bool map, uint32_t n)
{
    unsigned char h[5];
    size_t hl;
    if (n < 16) {
        h[0] = (unsigned char)((map ? 0x80 : 0x90) | n);
        hl = 1;
    } else if (n <= 0xffff) {
        h[0] = map ? 0xde : 0xdc;
        h[1] = (unsigned char)(n >> 8);
        h[2] = (unsigned char)n;
        hl = 3;
    } else {
        h[0] = map ? 0xdf : 0xdd;
        h[1] = (unsigned char)(n >> 24);
        h[2] = (unsigned char)(n >> 16);
        h[3] = (unsigned char)(n >> 8);
        h[4] = (unsigned char)n;
        hl = 5;
    }
    if (buf_reserve(b, hl) != 0)
        return;
    memmove(b->data + at + hl, b->data + at, b->len - at);
    memcpy(b->data + at, h, hl);
    b->len += hl;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(struct buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xc0 | cp >> 6);
        u[1] = (char)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xe0 | cp >> 12);
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (char)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (char)(0xf0 | cp >> 18);
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    buf_append(b, u, n);
}

/* A string (cursor on its opening quote), packed as str. */
static int parse_string(struct jp *j)
{
    j->p++;
    /* Fast path: no escapes, so the bytes are the string. */
    const char *s = j->p;
    while (j->p < j->end && *j->p != '"' && *j->p != '\\' && (unsigned char)*j->p >= 0x20)
        j->p++;
    if (j->p < j->end && *j->p == '"') {
        mp_pack_str(&j->pk, s, (size_t)(j->p - s));
        j->p++;
        return 0;
    }
    struct buf tmp = BUF_INIT;
    buf_append(&tmp, s, (size_t)(j->p - s));
    int rc = 0;
    while (rc == 0) {
        if (j->p >= j->end) {
            rc = jp_fail(j, "unterminated string");
            break;
        }
        unsigned char c = (unsigned char)*j->p;
        if (c == '"') {
            j->p++;
            break;
        }
        if (c < 0x20) {
            rc = jp_fail(j, "control character in a string");
            break;
        }
        if (c != '\\') {
            buf_push(&tmp, c);
            j->p++;
            continue;
        }
        if (j->end - j->p < 2) {
            rc = jp_fail(j, "unterminated escape");
            break;
        }
        char e = j->p[1];
        j->p += 2;
        switch (e) {
        case '"': buf_push(&tmp, '"'); break;
        case '\\': buf_push(&tmp, '\\'); break;
        case '/': buf_push(&tmp, '/'); break;
        case 'b': buf_push(&tmp, '\b'); break;
        case 'f': buf_push(&tmp, '\f'); break;
        case 'n': buf_push(&tmp, '\n'); break;
        case 'r': buf_push(&tmp, '\r'); break;
        case 't': buf_push(&tmp, '\t'); break;
        case 'u': {
            unsigned cp, lo;
            if (j->end - j->p < 4 || hex4(j->p, &cp) != 0) {
                rc = jp_fail(j, "bad \\u escape");
                break;
            }
            j->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && j->end - j->p >= 6 && j->p[0] == '\\' &&
                j->p[1] == 'u' && hex4(j->p + 2, &lo) == 0 && lo >= 0xdc00 && lo <= 0xdfff) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                j->p += 6;
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd; /* a lone surrogate has no UTF-8 form */
            }
            put_utf8(&tmp, cp);
            break;
        }
        default: rc = jp_fail(j, "bad escape"); break;
        }
    }
    if (rc == 0 && tmp.oom)
        rc = -CK_ENOMEM;
    if (rc == 0)
        mp_pack_str(&j->pk, tmp.data ? tmp.data : "", tmp.len);
    buf_free(&tmp);
    return rc;
}

static int parse_number(struct jp *j)
{
    const char *s = j->p;
    bool is_float = false;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    const char *digits = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
        j->p++;
    if (j->p == digits || (*digits == '0' && j->p - digits > 1))
        return jp_fail(j, "bad number");
    if (j->p < j->end && *j->p == '.') {
        is_float = true;
        const char *f = ++j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == f)
            return jp_fail(j, "bad number");
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        is_float = true;
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        const char *x = j->p;
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
        if (j->p == x)
            return jp_fail(j, "bad number");
    }
    char tmp[400];
    size_t n = (size_t)(j->p - s);
    if (n >= sizeof tmp)
        return jp_fail(j, "number too long");
    memcpy(tmp, s, n);
    tmp[n] = 0;
    if (!is_float) {
        errno = 0;
        if (*s == '-') {
            long long v = strtoll(tmp, NULL, 10);
            if (errno == 0) {
                msgpack_pack_int64(&j->pk, v);
                return 0;
            }
        } else {
            unsigned long long v = strtoull(tmp, NULL, 10);
            if (errno == 0) {
                msgpack_pack_uint64(&j->pk, v);
                return 0;
            }
        }
        /* Beyond 64 bits: a float, as most JSON readers would give. */
    }
    double d = strtod(tmp, NULL);
    if (!isfinite(d))
        return jp_fail(j, "number out of range");
    msgpack_pack_double(&j->pk, d);
    return 0;
}

static int parse_value(struct jp *j);

/* An array or object (cursor on its bracket). */
static int parse_container(struct jp *j, bool map)
{
    if (j->depth >= JSONMP_MAX_DEPTH)
        return ck_err_set(j->err, -CK_ETOOLARGE, "JSON nested deeper than %d", JSONMP_MAX_DEPTH);
    j->depth++;
    char close = map ? '}' : ']';
    size_t at = j->out->len;
    uint32_t n = 0;
    j->p++;
    skip_ws(j);
    int rc = 0;
    if (j->p < j->end && *j->p == close) {
        j->p++;
    } else {
        for (;;) {
            skip_ws(j);
            if (map) {
                if (j->p >= j->end || *j->p != '"') {
                    rc = jp_fail(j, "expected a member name");
                    break;
                }
                if ((rc = parse_string(j)) != 0)
                    break;
                skip_ws(j);
                if (j->p >= j->end || *j->p != ':') {
                    rc = jp_fail(j, "expected ':'");
                    break;
                }
                j->p++;
            }
            if ((rc = parse_value(j)) != 0)
                break;
            if (n == UINT32_MAX) {
                rc = jp_fail(j, "too many members");
                break;
            }
            n++;
            skip_ws(j);
            if (j->p < j->end && *j->p == ',') {
                j->p++;
                continue;
            }
            if (j->p < j->end && *j->p == close) {
                j->p++;
                break;
            }
            rc = jp_fail(j, map ? "expected ',' or '}'" : "expected ',' or ']'");
            break;
        }
    }
    j->depth--;
    if (rc == 0)
        insert_header(j->out, at, map, n);
    return rc;
}

static int parse_value(struct jp *j)
{
    skip_ws(j);
    if (j->p >= j->end)
        return jp_fail(j, "expected a value");
    switch (*j->p) {
    case '{': return parse_container(j, true);
    case '[': return parse_container(j, false);
    case '"': return parse_string(j);
    case 't':
        if (!literal(j, "true"))
            return jp_fail(j, "bad literal");
        msgpack_pack_true(&j->pk);
        return 0;
    case 'f':
        if (!literal(j, "false"))
            return jp_fail(j, "bad literal");
        msgpack_pack_false(&j->pk);
        return 0;
    case 'n':
        if (!literal(j, "null"))
            return jp_fail(j, "bad literal");
        msgpack_pack_nil(&j->pk);
        return 0;
    default:
        if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
            return parse_number(j);
        return jp_fail(j, "unexpected character");
    }
}

int json_to_mp(const char *text, size_t len, struct buf *out, struct ck_err *err)
{
    struct jp j = {.start = text, .p = text, .end = text + len, .out = out, .err = err};
    size_t mark = out->len;
    if (out->oom)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    mp_packer_init(&j.pk, out);
    int rc = parse_value(&j);
    if (rc == 0) {
        skip_ws(&j);
        if (j.p != j.end)
            rc = jp_fail(&j, "text after the value");
    }
    if (rc == 0 && out->oom)
        rc = ck_err_set(err, -CK_ENOMEM, "out of memory");
    if (rc) {
        out->len = mark;
        out->oom = false;
    }
    return rc;
}
