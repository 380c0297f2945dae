/* Protocol-level errors with details. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ckerr.h"
#include "mp.h"

int ck_err_set(struct ck_err *e, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    e->code = code;
    e->ndetails = 0;
    buf_reset(&e->details);
    return code;
}

static void detail_key(struct ck_err *e, msgpack_packer *pk, const char *key)
{
    mp_packer_init(pk, &e->details);
    mp_pack_cstr(pk, key);
    e->ndetails++;
}

void ck_err_detail_strn(struct ck_err *e, const char *key, const char *val, size_t len)
{
    msgpack_packer pk;
    detail_key(e, &pk, key);
    mp_pack_str(&pk, val, len);
}

void ck_err_detail_str(struct ck_err *e, const char *key, const char *val)
{
    ck_err_detail_strn(e, key, val, strlen(val));
}

void ck_err_detail_int(struct ck_err *e, const char *key, int64_t val)
{
    msgpack_packer pk;
    detail_key(e, &pk, key);
    msgpack_pack_int64(&pk, val);
}

void ck_err_detail_strs(struct ck_err *e, const char *key, const char *const *vals, unsigned n)
{
    msgpack_packer pk;
    detail_key(e, &pk, key);
    msgpack_pack_array(&pk, n);
    for (unsigned i = 0; i < n; i++)
        mp_pack_cstr(&pk, vals[i]);
}

void ck_err_clear(struct ck_err *e)
{
    e->code = 0;
    e->message[0] = 0;
    e->ndetails = 0;
    buf_reset(&e->details);
}

void ck_err_free(struct ck_err *e)
{
    buf_free(&e->details);
    e->ndetails = 0;
    e->code = 0;
}

void ck_err_copy(struct ck_err *dst, const struct ck_err *src)
{
    dst->code = src->code;
    memcpy(dst->message, src->message, sizeof dst->message);
    dst->ndetails = src->ndetails;
    buf_reset(&dst->details);
    buf_append(&dst->details, src->details.data, src->details.len);
}
