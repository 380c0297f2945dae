/* Collation keys for utf8mb4_unicode_ci equality, via utf8proc. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "clinickv/error.h"
#include "collate.h"

/* The mapping applied to non-ASCII text (docs/collation.md says why each). */
#define COLLATE_OPTS \
    (UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK | UTF8PROC_IGNORE)

/* MySQL's UCA 4.0.0 collations give every code point above U+FFFF one and the
 * same weight, so '😀' = '😁' there. All of them become this one (itself
 * supplementary, so no BMP text can produce it) to keep that equality. */
#define SUPPLEMENTARY_KEY 0x10FFFF

/* A default-ignorable code point that UTF8PROC_IGNORE then removes. */
#define DROPPED 0x200B

bool ck_utf8_valid(const char *s, size_t len, size_t *chars_out)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, chars = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        unsigned lo = 0x80, hi = 0xbf; /* allowed range of the first continuation byte */
        if (c < 0x80) {
            i++;
            chars++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong below U+0800 */
            else if (c == 0xed)
                hi = 0x9f; /* surrogates */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong below U+10000 */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return false; /* continuation byte, C0/C1 overlong lead, or F5..FF */
        }
        if (len - i - 1 < n)
            return false;
        if (p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= n; k++)
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
        i += n + 1;
        chars++;
    }
    if (chars_out != NULL)
        *chars_out = chars;
    return true;
}

/* Control characters have no weight in UCA 4.0.0 except the white-space ones
 * TAB, LF, VT, FF, CR and NEL, so 'a\x01b' = 'ab' in MySQL (measured). */
static bool ignorable_control(int32_t c)
{
    return (c <= 0x08) || (c >= 0x0e && c <= 0x1f) || (c >= 0x7f && c <= 0x9f && c != 0x85);
}

/* Applied by utf8proc to each input code point before decomposition. */
static utf8proc_int32_t premap(utf8proc_int32_t c, void *data)
{
    (void)data;
    if (c > 0xffff)
        return SUPPLEMENTARY_KEY;
    if (ignorable_control(c))
        return DROPPED;
    /* UCA gives the decimal digits of every script the weights of 0-9. Digits
     * come in runs of ten from zero, so a digit's value is its distance from
     * the start of its run, modulo ten. */
    if (c >= 0x80 && utf8proc_category(c) == UTF8PROC_CATEGORY_ND) {
        int32_t v = 0;
        while (utf8proc_category(c - v - 1) == UTF8PROC_CATEGORY_ND)
            v++;
        return '0' + v % 10;
    }
    return c;
}

/* Small kana and their large forms, which UCA 4.0.0 weighs alike (measured:
 * 'ァ' = 'ア' = 'あ'), as offsets into the hiragana block U+3040. */
static const unsigned char kana_large[0x60] = {
    [0x01] = 0x02, [0x03] = 0x04, [0x05] = 0x06, [0x07] = 0x08, [0x09] = 0x0a, [0x23] = 0x24,
    [0x43] = 0x44, [0x45] = 0x46, [0x47] = 0x48, [0x4e] = 0x4f, [0x55] = 0x0b, [0x56] = 0x11,
};

/*
 * Rewrite, in place, what utf8proc leaves unlike UCA 4.0.0 and can be fixed
 * without changing lengths: katakana become hiragana and small kana large
 * (each three bytes in, three out), and 'œ' becomes "oe" (two bytes in, two
 * out), as in MySQL where 'Œ' = 'oe'.
 */
static void postmap(unsigned char *p, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (p[i] == 0xc5 && p[i + 1] == 0x93) {
            p[i] = 'o';
            p[i + 1] = 'e';
            i++;
            continue;
        }
        if (p[i] != 0xe3 || i + 2 >= len || p[i + 1] < 0x81 || p[i + 1] > 0x83)
            continue;
        unsigned c = 0x3000u | (p[i + 1] & 0x3fu) << 6 | (p[i + 2] & 0x3fu);
        if (c >= 0x30a1 && c <= 0x30f6)
            c -= 0x60; /* katakana to hiragana */
        if (c >= 0x3040 && c < 0x30a0 && kana_large[c - 0x3040] != 0)
            c = 0x3040 + kana_large[c - 0x3040];
        p[i + 1] = (unsigned char)(0x80 | (c >> 6 & 0x3f));
        p[i + 2] = (unsigned char)(0x80 | (c & 0x3f));
        i += 2;
    }
}

static bool is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* The key of ASCII text, written to out (len bytes available): exactly what
 * the utf8proc path gives, since case folding and the control characters are
 * all that it changes in ASCII. Returns the key's length. */
static size_t ascii_key(const char *s, size_t len, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (ignorable_control((unsigned char)c))
            continue;
        out[n++] = c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    return n;
}

int ck_collate_key(const char *s, size_t len, struct buf *out)
{
    if (out->oom)
        return -CK_ENOMEM;
    if (len == 0)
        return 0;
    if (is_ascii(s, len)) {
        if (buf_reserve(out, len) != 0)
            return -CK_ENOMEM;
        out->len += ascii_key(s, len, out->data + out->len);
        return 0;
    }
    /* utf8proc has its own checks, but ours are the documented ones. */
    if (len > (size_t)PTRDIFF_MAX || !ck_utf8_valid(s, len, NULL))
        return -CK_EINVAL;
    utf8proc_uint8_t *mapped = NULL;
    utf8proc_ssize_t n = utf8proc_map_custom((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len,
                                             &mapped, COLLATE_OPTS, premap, NULL);
    if (n < 0)
        return n == UTF8PROC_ERROR_NOMEM || n == UTF8PROC_ERROR_OVERFLOW ? -CK_ENOMEM : -CK_EINVAL;
    size_t klen = (size_t)n;
    postmap(mapped, klen);
    while (klen > 0 && mapped[klen - 1] == ' ')
        klen--;
    int rc = buf_reserve(out, klen);
    if (rc == 0)
        buf_append(out, mapped, klen);
    free(mapped);
    return rc;
}

bool ck_collate_eq(const char *a, size_t alen, const char *b, size_t blen)
{
    /* ENUM values are short ASCII words: compare those without allocating. */
    char ka_small[64], kb_small[64];
    if (alen <= sizeof ka_small && blen <= sizeof kb_small && is_ascii(a, alen) &&
        is_ascii(b, blen)) {
        size_t na = ascii_key(a, alen, ka_small);
        size_t nb = ascii_key(b, blen, kb_small);
        return na == nb && memcmp(ka_small, kb_small, na) == 0;
    }
    struct buf ka = BUF_INIT, kb = BUF_INIT;
    bool eq = ck_collate_key(a, alen, &ka) == 0 && ck_collate_key(b, blen, &kb) == 0 &&
              ka.len == kb.len && (ka.len == 0 || memcmp(ka.data, kb.data, ka.len) == 0);
    buf_free(&kb);
    buf_free(&ka);
    return eq;
}
