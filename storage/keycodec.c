/* Order-preserving key encoding. */
#include <pthread.h>

#include <sodium.h>

#include "clinickv/error.h"
#include "keycodec.h"

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;

static void sodium_init_once(void)
{
    /* BLAKE2b needs no random source; sodium_init() only picks its fastest
     * implementation, and a failure leaves the portable one in place. */
    if (sodium_init() < 0)
        return;
}

/* Complement the bytes appended since `from` when the direction is descending.
 * Encoding ascending first and flipping after keeps one code path per type. */
static void finish(struct buf *b, size_t from, enum kc_dir d)
{
    if (d != KC_DESC || b->oom)
        return;
    for (size_t i = from; i < b->len; i++)
        b->data[i] = (char)~(unsigned char)b->data[i];
}

static void put_be(struct buf *b, uint64_t v, int nbytes)
{
    uint8_t tmp[8];
    for (int i = 0; i < nbytes; i++)
        tmp[i] = (uint8_t)(v >> (8 * (nbytes - 1 - i)));
    buf_append(b, tmp, (size_t)nbytes);
}

void kc_put_nil(struct buf *b, enum kc_dir d)
{
    size_t from = b->len;
    buf_push(b, KC_TAG_NIL);
    finish(b, from, d);
}

void kc_put_bool(struct buf *b, bool v, enum kc_dir d)
{
    size_t from = b->len;
    buf_push(b, v ? KC_TAG_TRUE : KC_TAG_FALSE);
    finish(b, from, d);
}

/* Flipping the sign bit maps INT64_MIN..INT64_MAX onto 0..UINT64_MAX in order. */
static void put_signed(struct buf *b, enum kc_tag tag, int64_t v, int nbytes, enum kc_dir d)
{
    size_t from = b->len;
    uint64_t u = (uint64_t)v ^ (UINT64_C(1) << (8 * nbytes - 1));
    buf_push(b, tag);
    put_be(b, u, nbytes);
    finish(b, from, d);
}

void kc_put_int(struct buf *b, int64_t v, enum kc_dir d)
{
    put_signed(b, KC_TAG_INT, v, 8, d);
}

void kc_put_timestamp(struct buf *b, int64_t ms, enum kc_dir d)
{
    put_signed(b, KC_TAG_TIMESTAMP, ms, 8, d);
}

void kc_put_date(struct buf *b, int32_t days, enum kc_dir d)
{
    /* Through uint32_t so that the sign bit flipped is bit 31. */
    put_signed(b, KC_TAG_DATE, (int64_t)(uint32_t)days, 4, d);
}

void kc_put_uuid(struct buf *b, const uint8_t id[16], enum kc_dir d)
{
    size_t from = b->len;
    buf_push(b, KC_TAG_UUID);
    buf_append(b, id, 16);
    finish(b, from, d);
}

size_t kc_string_max_encoded(size_t max_bytes)
{
    return 1 + max_bytes + 2 + KC_STRING_HASH_SIZE;
}

void kc_put_string(struct buf *b, const char *s, size_t len, size_t max_bytes, enum kc_dir d)
{
    size_t from = b->len;
    /* Reserve the worst case once so that the loop appends without checks. */
    size_t need = 1 + (len < max_bytes ? 2 * len : max_bytes) + 2 + KC_STRING_HASH_SIZE;
    if (buf_reserve(b, need) != 0)
        return;
    unsigned char *o = (unsigned char *)b->data + b->len;
    size_t n = 0, used = 0, i;
    o[n++] = KC_TAG_STRING;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        size_t w = c == 0 ? 2 : 1;
        if (used + w > max_bytes)
            break;
        o[n++] = c;
        if (c == 0)
            o[n++] = 0xff;
        used += w;
    }
    o[n++] = 0x00;
    if (i == len) {
        o[n++] = 0x00;
    } else {
        o[n++] = 0x01;
        pthread_once(&sodium_once, sodium_init_once);
        crypto_generichash(o + n, KC_STRING_HASH_SIZE, (const unsigned char *)s, len, NULL, 0);
        n += KC_STRING_HASH_SIZE;
    }
    b->len += n;
    finish(b, from, d);
}

int kc_prefix_successor(struct buf *b)
{
    size_t n = b->len;
    while (n > 0 && (unsigned char)b->data[n - 1] == 0xff)
        n--;
    if (n == 0)
        return -CK_ENOTFOUND;
    b->data[n - 1] = (char)((unsigned char)b->data[n - 1] + 1);
    b->len = n;
    return 0;
}
