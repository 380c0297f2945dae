/* msgpack-RPC envelopes: see rpc.h. */
#include <string.h>

#include "clinickv/error.h"
#include "mp.h"
#include "rpc.h"

/* The msgpack type of an object as an error message names it. */
static const char *rpc_type_name(const struct mp_obj *o)
{
    switch (o->type) {
    case MP_NIL: return "nil";
    case MP_BOOL: return "a boolean";
    case MP_UINT:
    case MP_INT: return "an integer";
    case MP_FLOAT: return "a float";
    case MP_STR: return "a str";
    case MP_BIN: return "a bin";
    case MP_ARRAY: return "an array";
    case MP_MAP: return "a map";
    case MP_EXT: return "an ext";
    }
    return "an unknown type";
}

/*
 * Read the next element of the envelope. The frame scanner has proved the frame
 * complete, so a failure here means the caller passed bytes that were not one
 * frame; it is still reported, never trusted.
 */
static int rpc_next(const char **p, const char *end, struct mp_obj *o, struct ck_err *err)
{
    if (mp_next(p, end, o) != 0)
        return ck_err_set(err, -CK_EBADREQ, "message is truncated or not valid msgpack");
    return 0;
}

/* The method name of a request or notification: a str or a bin. */
static int rpc_parse_method(const char **p, const char *end, const char *what, struct rpc_msg *out,
                            struct ck_err *err)
{
    struct mp_obj o;
    if (rpc_next(p, end, &o, err))
        return err->code;
    if (o.type != MP_STR && o.type != MP_BIN)
        return ck_err_set(err, -CK_EBADREQ, "%s method must be a str or bin, got %s", what,
                          rpc_type_name(&o));
    out->method = o.v.str.ptr;
    out->method_len = o.v.str.len;
    return 0;
}

/* The rest of a request once its type and msgid are known: method and params. */
static int rpc_parse_request(const char *p, const char *end, uint32_t nelem, struct rpc_msg *out,
                             struct ck_err *err)
{
    struct mp_obj o;

    if (nelem != 4)
        return ck_err_set(err, -CK_EBADREQ,
                          "request must be an array of 4 elements [0, msgid, method, params], "
                          "got %u",
                          (unsigned)nelem);
    if (rpc_parse_method(&p, end, "request", out, err))
        return err->code;

    if (rpc_next(&p, end, &o, err))
        return err->code;
    if (o.type != MP_ARRAY)
        return ck_err_set(err, -CK_EBADREQ,
                          "request params must be an array holding one map, got %s",
                          rpc_type_name(&o));
    if (o.v.n > 1)
        return ck_err_set(err, -CK_EBADREQ,
                          "request params must be an array holding one map, got %u elements",
                          (unsigned)o.v.n);
    if (o.v.n == 1) {
        const char *map = p;
        if (rpc_next(&p, end, &o, err))
            return err->code;
        if (o.type != MP_MAP)
            return ck_err_set(err, -CK_EBADREQ,
                              "request params must be an array holding one map, got an array "
                              "holding %s",
                              rpc_type_name(&o));
        out->params = o.v.n ? p : NULL;
        out->nparams = o.v.n;
        p = map;
        if (mp_skip(&p, end) != 0)
            return ck_err_set(err, -CK_EBADREQ, "request params are truncated or too deep");
    }
    out->params_end = p;
    if (p != end)
        return ck_err_set(err, -CK_EBADREQ, "%zu bytes follow the request in its frame",
                          (size_t)(end - p));
    return 0;
}

/* The rest of a notification once its type is known: method, and params skipped. */
static int rpc_parse_notification(const char *p, const char *end, uint32_t nelem,
                                  struct rpc_msg *out, struct ck_err *err)
{
    struct mp_obj o;

    if (nelem != 3)
        return ck_err_set(err, -CK_EBADREQ,
                          "notification must be an array of 3 elements [2, method, params], "
                          "got %u",
                          (unsigned)nelem);
    if (rpc_parse_method(&p, end, "notification", out, err))
        return err->code;
    const char *params = p;
    if (rpc_next(&p, end, &o, err))
        return err->code;
    if (o.type != MP_ARRAY)
        return ck_err_set(err, -CK_EBADREQ, "notification params must be an array, got %s",
                          rpc_type_name(&o));
    p = params;
    if (mp_skip(&p, end) != 0)
        return ck_err_set(err, -CK_EBADREQ, "notification params are truncated or too deep");
    out->params_end = p;
    if (p != end)
        return ck_err_set(err, -CK_EBADREQ, "%zu bytes follow the notification in its frame",
                          (size_t)(end - p));
    return 0;
}

int rpc_parse(const char *frame, size_t len, struct rpc_msg *out, struct ck_err *err)
{
    const char *p = frame;
    const char *end = frame + len;
    struct mp_obj o;

    memset(out, 0, sizeof *out);
    out->type = RPC_INVALID;

    if (rpc_next(&p, end, &o, err))
        return err->code;
    if (o.type != MP_ARRAY)
        return ck_err_set(err, -CK_EBADREQ, "message must be an array, got %s", rpc_type_name(&o));
    uint32_t nelem = o.v.n;
    if (nelem == 0)
        return ck_err_set(err, -CK_EBADREQ, "message must not be an empty array");

    if (rpc_next(&p, end, &o, err))
        return err->code;
    if (o.type != MP_UINT)
        return ck_err_set(err, -CK_EBADREQ, "message type must be an integer, got %s",
                          rpc_type_name(&o));
    if (o.v.u == RPC_NOTIFY) {
        out->type = RPC_NOTIFY;
        return rpc_parse_notification(p, end, nelem, out, err);
    }
    if (o.v.u == RPC_RESPONSE)
        return ck_err_set(err, -CK_EBADREQ, "the server accepts no responses from clients");
    if (o.v.u != RPC_REQUEST)
        return ck_err_set(err, -CK_EBADREQ, "unknown message type %llu", (unsigned long long)o.v.u);

    /* Until the msgid is read, a bad request cannot be answered. */
    if (nelem < 2)
        return ck_err_set(err, -CK_EBADREQ, "request has no msgid");
    if (rpc_next(&p, end, &o, err))
        return err->code;
    if (o.type != MP_UINT || o.v.u > UINT32_MAX)
        return ck_err_set(err, -CK_EBADREQ, "request msgid must be an unsigned 32-bit integer");
    out->type = RPC_REQUEST;
    out->msgid = (uint32_t)o.v.u;
    return rpc_parse_request(p, end, nelem, out, err);
}

bool rpc_peek_msgid(const char *buf, size_t len, uint32_t *msgid)
{
    const char *p = buf;
    const char *end = buf + len;
    struct mp_obj o;

    if (mp_next(&p, end, &o) != 0 || o.type != MP_ARRAY || o.v.n != 4)
        return false;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_UINT || o.v.u != RPC_REQUEST)
        return false;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_UINT || o.v.u > UINT32_MAX)
        return false;
    *msgid = (uint32_t)o.v.u;
    return true;
}

void rpc_pack_result_header(msgpack_packer *pk, uint32_t msgid)
{
    msgpack_pack_array(pk, 4);
    msgpack_pack_int(pk, RPC_RESPONSE);
    msgpack_pack_uint32(pk, msgid);
    msgpack_pack_nil(pk);
}

void rpc_pack_error(msgpack_packer *pk, uint32_t msgid, const struct ck_err *err)
{
    bool details = err->ndetails > 0 && !err->details.oom;
    int code = err->code ? err->code : -CK_EINTERNAL;

    msgpack_pack_array(pk, 4);
    msgpack_pack_int(pk, RPC_RESPONSE);
    msgpack_pack_uint32(pk, msgid);
    msgpack_pack_array(pk, details ? 3 : 2);
    mp_pack_cstr(pk, ck_error_code(code));
    mp_pack_str(pk, err->message, strnlen(err->message, sizeof err->message));
    if (details) {
        msgpack_pack_map(pk, err->ndetails);
        mp_pack_raw(pk, err->details.data, err->details.len);
    }
    msgpack_pack_nil(pk);
}

void rpc_pack_too_large(msgpack_packer *pk, const struct frame_scanner *s, const char *buf,
                        size_t len)
{
    struct ck_err err = CK_ERR_INIT;
    uint32_t msgid = 0;

    (void)rpc_peek_msgid(buf, len, &msgid);
    if (frame_scanner_too_deep(s)) {
        ck_err_set(&err, -CK_ETOOLARGE, "message nests deeper than %u levels", s->max_depth);
        ck_err_detail_str(&err, "limit", "max_depth");
        ck_err_detail_int(&err, "max", s->max_depth);
    } else {
        ck_err_set(&err, -CK_ETOOLARGE, "message is larger than %zu bytes", s->max_message);
        ck_err_detail_str(&err, "limit", "max_message");
        ck_err_detail_int(&err, "max", (int64_t)s->max_message);
    }
    rpc_pack_error(pk, msgid, &err);
    ck_err_free(&err);
}

void rpc_pack_notification(msgpack_packer *pk, const char *method, uint32_t npairs)
{
    msgpack_pack_array(pk, 3);
    msgpack_pack_int(pk, RPC_NOTIFY);
    mp_pack_cstr(pk, method);
    msgpack_pack_array(pk, 1);
    msgpack_pack_map(pk, npairs);
}
