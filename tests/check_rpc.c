/*
 * msgpack-RPC envelopes (protocol/rpc.c): valid requests and notifications,
 * every malformed envelope with its error and answerability, the msgid peek
 * used for too_large, and the encoding of results, errors and notifications
 * checked byte for byte and decoded back with msgpack-c.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ckerr.h"
#include "ckrun.h"
#include "clinickv/error.h"
#include "frame.h"
#include "mp.h"
#include "rpc.h"

#define B(s) s, sizeof(s) - 1

/* Parse bytes from a heap copy, so that ASan sees any read past the frame. */
static int parse(const char *bytes, size_t len, struct rpc_msg *m, struct ck_err *err,
                 char **copy_out)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, bytes, len);
    *copy_out = copy;
    return rpc_parse(copy, len, m, err);
}

/* ------------------------------------------------------------------ valid */

START_TEST(test_request_empty_params)
{
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    char *f;
    /* [0, 0, "sys.ping", []] */
    ck_assert_int_eq(parse(B("\x94\x00\x00\xa8sys.ping\x90"), &m, &err, &f), 0);
    ck_assert_int_eq(m.type, RPC_REQUEST);
    ck_assert_uint_eq(m.msgid, 0);
    ck_assert_uint_eq(m.method_len, 8);
    ck_assert(memcmp(m.method, "sys.ping", 8) == 0);
    ck_assert_ptr_eq(m.method, f + 4);
    ck_assert_ptr_null(m.params);
    ck_assert_uint_eq(m.nparams, 0);
    ck_assert_ptr_eq(m.params_end, f + 13);
    ck_assert_int_eq(err.code, 0); /* not written on success */
    free(f);

    /* [0, UINT32_MAX, "row.get", [{}]]: an empty map is the same as no map. */
    ck_assert_int_eq(parse(B("\x94\x00\xce\xff\xff\xff\xff\xa7row.get\x91\x80"), &m, &err, &f), 0);
    ck_assert_int_eq(m.type, RPC_REQUEST);
    ck_assert_uint_eq(m.msgid, UINT32_MAX);
    ck_assert_ptr_null(m.params);
    ck_assert_uint_eq(m.nparams, 0);
    ck_assert_ptr_eq(m.params_end, f + 17);
    free(f);
    ck_err_free(&err);
}
END_TEST

START_TEST(test_request_with_params)
{
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_int(&pk, 0);
    msgpack_pack_uint32(&pk, 65536);
    msgpack_pack_bin_with_body(&pk, "row.get", 7); /* method as bin */
    msgpack_pack_array(&pk, 1);
    msgpack_pack_map(&pk, 2);
    mp_pack_cstr(&pk, "table");
    mp_pack_cstr(&pk, "patients");
    mp_pack_cstr(&pk, "with_deleted");
    msgpack_pack_true(&pk);
    ck_assert(!b.oom);

    char *f;
    ck_assert_int_eq(parse(b.data, b.len, &m, &err, &f), 0);
    ck_assert_int_eq(m.type, RPC_REQUEST);
    ck_assert_uint_eq(m.msgid, 65536);
    ck_assert_uint_eq(m.method_len, 7);
    ck_assert(memcmp(m.method, "row.get", 7) == 0);
    ck_assert_uint_eq(m.nparams, 2);
    ck_assert_ptr_nonnull(m.params);
    ck_assert_ptr_eq(m.params_end, f + b.len);

    /* params is the first key; the map can be searched in place. */
    struct mp_obj k;
    const char *p = m.params;
    ck_assert_int_eq(mp_next(&p, m.params_end, &k), 0);
    ck_assert(mp_obj_streq(&k, "table"));
    const char *val;
    ck_assert_int_eq(mp_map_find(m.params, m.params_end, m.nparams, "with_deleted", &val), 0);
    ck_assert_int_eq(mp_next(&val, m.params_end, &k), 0);
    ck_assert(k.type == MP_BOOL && k.v.b);
    free(f);
    buf_free(&b);
    ck_err_free(&err);
}
END_TEST

/* Every encoding of a msgid a generic client might choose is read the same. */
START_TEST(test_request_msgid_encodings)
{
    static const struct {
        const char *bytes;
        size_t len;
        uint32_t msgid;
    } cases[] = {
        {B("\x94\x00\x7f\xa1m\x90"), 127},
        {B("\x94\x00\xcc\x80\xa1m\x90"), 128},
        {B("\x94\x00\xcd\x01\x00\xa1m\x90"), 256},
        {B("\x94\x00\xce\x00\x01\x00\x00\xa1m\x90"), 65536},
        {B("\x94\x00\xcf\x00\x00\x00\x00\xff\xff\xff\xff\xa1m\x90"), UINT32_MAX},
        {B("\x94\x00\xd0\x05\xa1m\x90"), 5},                     /* int8, non-negative */
        {B("\x94\x00\xd2\x7f\xff\xff\xff\xa1m\x90"), INT32_MAX}, /* int32 */
        {B("\xdc\x00\x04\x00\x09\xa1m\x90"), 9},                 /* array16 envelope */
        {B("\xdd\x00\x00\x00\x04\x00\x0a\xa1m\x90"), 10},        /* array32 envelope */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct ck_err err = CK_ERR_INIT;
        struct rpc_msg m;
        char *f;
        ck_assert_msg(parse(cases[k].bytes, cases[k].len, &m, &err, &f) == 0, "case %zu: %s", k,
                      err.message);
        ck_assert_int_eq(m.type, RPC_REQUEST);
        ck_assert_uint_eq(m.msgid, cases[k].msgid);
        ck_assert_uint_eq(m.method_len, 1);
        free(f);
        ck_err_free(&err);
    }
}
END_TEST

START_TEST(test_notification)
{
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    char *f;
    /* [2, "nvim_set_client_info", ["pynvim", {"major": 0}]], as pynvim announces itself */
    ck_assert_int_eq(
        parse(B("\x93\x02\xb4nvim_set_client_info\x92\xa6pynvim\x81\xa5major\x00"), &m, &err, &f),
        0);
    ck_assert_int_eq(m.type, RPC_NOTIFY);
    ck_assert_uint_eq(m.msgid, 0);
    ck_assert_uint_eq(m.method_len, 20);
    ck_assert(memcmp(m.method, "nvim_set_client_info", 20) == 0);
    ck_assert_ptr_null(m.params);
    ck_assert_uint_eq(m.nparams, 0);
    ck_assert_ptr_eq(m.params_end, f + 39);
    free(f);

    /* Method as bin, params empty. */
    ck_assert_int_eq(parse(B("\x93\x02\xc4\x01x\x90"), &m, &err, &f), 0);
    ck_assert_int_eq(m.type, RPC_NOTIFY);
    ck_assert_uint_eq(m.method_len, 1);
    ck_assert_int_eq(m.method[0], 'x');
    free(f);
    ck_err_free(&err);
}
END_TEST

/* ------------------------------------------------------------------ malformed */

struct bad {
    const char *name;
    const char *bytes;
    size_t len;
    int type;          /* out->type on error: who can be answered */
    uint32_t msgid;    /* out->msgid */
    bool method;       /* out->method set */
    const char *words; /* expected in the error message */
};

static const struct bad bads[] = {
    /* Not a message at all: nobody to answer. */
    {"empty input", B(""), RPC_INVALID, 0, false, "truncated"},
    {"map",
     B("\x81\xa1"
       "a\x01"),
     RPC_INVALID, 0, false, "must be an array, got a map"},
    {"integer", B("\x07"), RPC_INVALID, 0, false, "must be an array, got an integer"},
    {"str",
     B("\xa3"
       "abc"),
     RPC_INVALID, 0, false, "must be an array, got a str"},
    {"0xc1", B("\xc1"), RPC_INVALID, 0, false, "not valid msgpack"},
    {"empty array", B("\x90"), RPC_INVALID, 0, false, "empty array"},
    {"type str",
     B("\x94\xa1"
       "0\x01\xa1m\x90"),
     RPC_INVALID, 0, false, "type must be an integer"},
    {"type negative", B("\x94\xff\x01\xa1m\x90"), RPC_INVALID, 0, false, "type must be an integer"},
    {"type nil", B("\x94\xc0\x01\xa1m\x90"), RPC_INVALID, 0, false, "type must be an integer"},
    {"response", B("\x94\x01\x05\xc0\xa2ok"), RPC_INVALID, 0, false, "no responses"},
    {"type 3", B("\x94\x03\x05\xa1m\x90"), RPC_INVALID, 0, false, "unknown message type 3"},
    {"request without msgid", B("\x91\x00"), RPC_INVALID, 0, false, "no msgid"},
    {"msgid negative", B("\x94\x00\xff\xa1m\x90"), RPC_INVALID, 0, false, "msgid"},
    {"msgid 2^32", B("\x94\x00\xcf\x00\x00\x00\x01\x00\x00\x00\x00\xa1m\x90"), RPC_INVALID, 0,
     false, "msgid"},
    {"msgid str",
     B("\x94\x00\xa1"
       "7\xa1m\x90"),
     RPC_INVALID, 0, false, "msgid"},
    {"msgid float", B("\x94\x00\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\xa1m\x90"), RPC_INVALID, 0,
     false, "msgid"},
    {"msgid nil", B("\x94\x00\xc0\xa1m\x90"), RPC_INVALID, 0, false, "msgid"},

    /* A request whose msgid was read: answerable with bad_request. */
    {"request of 2", B("\x92\x00\x07"), RPC_REQUEST, 7, false, "4 elements"},
    {"request of 3", B("\x93\x00\x07\xa1m"), RPC_REQUEST, 7, false, "got 3"},
    {"request of 5", B("\x95\x00\x07\xa1m\x90\x01"), RPC_REQUEST, 7, false, "got 5"},
    {"method integer", B("\x94\x00\x07\x05\x90"), RPC_REQUEST, 7, false,
     "method must be a str or bin, got an integer"},
    {"method nil", B("\x94\x00\x07\xc0\x90"), RPC_REQUEST, 7, false, "got nil"},
    {"method array", B("\x94\x00\x07\x91\xa1m\x90"), RPC_REQUEST, 7, false, "got an array"},
    {"params map", B("\x94\x00\x07\xa1m\x80"), RPC_REQUEST, 7, true,
     "params must be an array holding one map, got a map"},
    {"params nil", B("\x94\x00\x07\xa1m\xc0"), RPC_REQUEST, 7, true, "got nil"},
    {"params of 2 maps", B("\x94\x00\x07\xa1m\x92\x80\x80"), RPC_REQUEST, 7, true,
     "got 2 elements"},
    {"params holding an integer", B("\x94\x00\x07\xa1m\x91\x01"), RPC_REQUEST, 7, true,
     "holding an integer"},
    {"params holding an array", B("\x94\x00\x07\xa1m\x91\x90"), RPC_REQUEST, 7, true,
     "holding an array"},
    {"params truncated",
     B("\x94\x00\x07\xa1m\x91\x81\xa1"
       "a"),
     RPC_REQUEST, 7, true, "truncated"},
    {"method truncated", B("\x94\x00\x07\xa5m"), RPC_REQUEST, 7, false, "truncated"},
    {"trailing byte", B("\x94\x00\x07\xa1m\x90\xc0"), RPC_REQUEST, 7, true, "1 bytes follow"},
    {"msgid max, bad method", B("\x94\x00\xce\xff\xff\xff\xff\x01\x90"), RPC_REQUEST, UINT32_MAX,
     false, "method"},

    /* A notification of the wrong shape: nothing to answer. */
    {"notification of 2", B("\x92\x02\xa1m"), RPC_NOTIFY, 0, false, "3 elements"},
    {"notification of 4", B("\x94\x02\xa1m\x90\x90"), RPC_NOTIFY, 0, false, "got 4"},
    {"notification method integer", B("\x93\x02\x01\x90"), RPC_NOTIFY, 0, false,
     "notification method must be a str or bin"},
    {"notification params map", B("\x93\x02\xa1m\x80"), RPC_NOTIFY, 0, true,
     "params must be an array, got a map"},
    {"notification params truncated", B("\x93\x02\xa1m\x92\x01"), RPC_NOTIFY, 0, true, "truncated"},
    {"notification trailing", B("\x93\x02\xa1m\x90\x90"), RPC_NOTIFY, 0, true, "follow"},
};

#define NBAD (sizeof bads / sizeof bads[0])

START_TEST(test_malformed)
{
    const struct bad *c = &bads[_i];
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    char *f;
    int rc = parse(c->bytes, c->len, &m, &err, &f);
    ck_assert_msg(rc == -CK_EBADREQ, "%s: rc %d", c->name, rc);
    ck_assert_int_eq(err.code, -CK_EBADREQ);
    ck_assert_msg(m.type == c->type, "%s: type %d, want %d", c->name, m.type, c->type);
    ck_assert_msg(m.msgid == c->msgid, "%s: msgid %u", c->name, m.msgid);
    ck_assert_msg((m.method != NULL) == c->method, "%s: method %p", c->name, (void *)m.method);
    ck_assert_msg(strstr(err.message, c->words) != NULL, "%s: message \"%s\" lacks \"%s\"", c->name,
                  err.message, c->words);
    free(f);
    ck_err_free(&err);
}
END_TEST

/* An earlier error's details are dropped, and a reused rpc_msg is fully rewritten. */
START_TEST(test_malformed_resets)
{
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    char *f;
    ck_err_set(&err, -CK_EUNIQUE, "old");
    ck_err_detail_str(&err, "constraint", "uq");
    ck_assert_int_eq(parse(B("\x94\x00\x07\xa1m\x90"), &m, &err, &f), 0);
    free(f);
    ck_assert_int_eq(parse(B("\x93\x00\x07\xa1m"), &m, &err, &f), -CK_EBADREQ);
    ck_assert_uint_eq(err.ndetails, 0);
    ck_assert_ptr_null(m.method);
    ck_assert_ptr_null(m.params);
    ck_assert_ptr_null(m.params_end);
    free(f);
    ck_err_free(&err);
}
END_TEST

/* Every frame the scanner accepts either parses or is refused cleanly: each prefix of a
 * request, and each single-byte corruption of it. */
START_TEST(test_corruptions)
{
    static const char req[] = "\x94\x00\xcd\x01\x02\xa7row.get\x91\x82\xa5table\xa8patients"
                              "\xa2id\xc4\x03\x01\x02\x03";
    size_t len = sizeof req - 1;
    char *copy = malloc(len);
    ck_assert_ptr_nonnull(copy);
    unsigned parsed = 0, refused = 0;
    for (size_t at = 0; at < len; at++) {
        for (unsigned v = 0; v < 256; v++) {
            memcpy(copy, req, len);
            copy[at] = (char)v;
            size_t flen;
            struct frame_scanner s;
            frame_scanner_init(&s, NULL);
            if (frame_scan(&s, copy, len, &flen) != 1)
                continue;
            struct ck_err err = CK_ERR_INIT;
            struct rpc_msg m;
            int rc = rpc_parse(copy, flen, &m, &err);
            if (rc == 0) {
                parsed++;
                if (m.type != RPC_REQUEST && m.type != RPC_NOTIFY)
                    ck_abort_msg("byte %zu = 0x%02x: type %d", at, v, m.type);
            } else {
                refused++;
                if (rc != -CK_EBADREQ || err.message[0] == 0)
                    ck_abort_msg("byte %zu = 0x%02x: rc %d", at, v, rc);
                if (m.type == RPC_REQUEST && m.msgid != 0x102 && at > 4)
                    ck_abort_msg("byte %zu = 0x%02x: msgid %u", at, v, m.msgid);
            }
            ck_err_free(&err);
        }
    }
    ck_assert_uint_gt(parsed, 100);
    ck_assert_uint_gt(refused, 100);
    free(copy);
}
END_TEST

/* ------------------------------------------------------------------ peek */

START_TEST(test_peek_msgid)
{
    uint32_t id = 99;
    ck_assert(rpc_peek_msgid(B("\x94\x00\x07"), &id));
    ck_assert_uint_eq(id, 7);
    ck_assert(rpc_peek_msgid(B("\x94\x00\xce\xff\xff\xff\xff\xa1m\x91\xdf\xff\xff\xff\xff"), &id));
    ck_assert_uint_eq(id, UINT32_MAX);

    id = 99;
    ck_assert(!rpc_peek_msgid(B(""), &id));
    ck_assert(!rpc_peek_msgid(B("\x94"), &id));
    ck_assert(!rpc_peek_msgid(B("\x94\x00"), &id));
    ck_assert(!rpc_peek_msgid(B("\x94\x00\xce\x00\x01"), &id)); /* msgid not all here */
    ck_assert(!rpc_peek_msgid(B("\x93\x00\x07"), &id));         /* not 4 elements */
    ck_assert(!rpc_peek_msgid(B("\x94\x02\x07"), &id));         /* not a request */
    ck_assert(!rpc_peek_msgid(B("\x94\x00\xff"), &id));         /* negative */
    ck_assert(!rpc_peek_msgid(B("\x94\x00\xcf\x00\x00\x00\x01\x00\x00\x00\x00"), &id));
    ck_assert(!rpc_peek_msgid(B("\x84\x00\x07"), &id));
    ck_assert_uint_eq(id, 99); /* untouched when false */
}
END_TEST

/* ------------------------------------------------------------------ encoding */

static void expect_bytes(const struct buf *b, const char *want, size_t len)
{
    ck_assert(!b->oom);
    ck_assert_msg(b->len == len, "length %zu, want %zu", b->len, len);
    for (size_t k = 0; k < len; k++)
        ck_assert_msg(b->data[k] == want[k], "byte %zu: 0x%02x, want 0x%02x", k,
                      (unsigned char)b->data[k], (unsigned char)want[k]);
}

/* Decode a whole response with msgpack-c and check its envelope. */
static msgpack_object *decode_response(msgpack_unpacked *u, const struct buf *b, uint32_t msgid)
{
    size_t off = 0;
    msgpack_unpacked_init(u);
    ck_assert_int_eq(msgpack_unpack_next(u, b->data, b->len, &off), MSGPACK_UNPACK_SUCCESS);
    ck_assert_uint_eq(off, b->len);
    msgpack_object *o = &u->data;
    ck_assert_int_eq(o->type, MSGPACK_OBJECT_ARRAY);
    ck_assert_uint_eq(o->via.array.size, 4);
    ck_assert_int_eq(o->via.array.ptr[0].type, MSGPACK_OBJECT_POSITIVE_INTEGER);
    ck_assert_uint_eq(o->via.array.ptr[0].via.u64, 1);
    ck_assert_uint_eq(o->via.array.ptr[1].via.u64, msgid);
    return o->via.array.ptr;
}

static bool obj_streq(const msgpack_object *o, const char *s)
{
    return o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

START_TEST(test_pack_result)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    rpc_pack_result_header(&pk, 7);
    mp_pack_cstr(&pk, "pong");
    expect_bytes(&b, B("\x94\x01\x07\xc0\xa4pong"));

    buf_reset(&b);
    rpc_pack_result_header(&pk, UINT32_MAX);
    msgpack_pack_true(&pk);
    expect_bytes(&b, B("\x94\x01\xce\xff\xff\xff\xff\xc0\xc3"));

    msgpack_unpacked u;
    msgpack_object *el = decode_response(&u, &b, UINT32_MAX);
    ck_assert_int_eq(el[2].type, MSGPACK_OBJECT_NIL);
    ck_assert_int_eq(el[3].type, MSGPACK_OBJECT_BOOLEAN);
    msgpack_unpacked_destroy(&u);

    /* The server's own parser does not take a response for a request. */
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    ck_assert_int_eq(rpc_parse(b.data, b.len, &m, &err), -CK_EBADREQ);
    ck_assert_int_eq(m.type, RPC_INVALID);
    ck_err_free(&err);
    buf_free(&b);
}
END_TEST

START_TEST(test_pack_error_plain)
{
    struct buf b = BUF_INIT;
    struct ck_err err = CK_ERR_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    ck_err_set(&err, -CK_ENOTFOUND, "no such row");
    rpc_pack_error(&pk, 9, &err);
    expect_bytes(&b, B("\x94\x01\x09\x92\xa9not_found\xabno such row\xc0"));

    msgpack_unpacked u;
    msgpack_object *el = decode_response(&u, &b, 9);
    ck_assert_int_eq(el[2].type, MSGPACK_OBJECT_ARRAY);
    ck_assert_uint_eq(el[2].via.array.size, 2);
    ck_assert(obj_streq(&el[2].via.array.ptr[0], "not_found"));
    ck_assert(obj_streq(&el[2].via.array.ptr[1], "no such row"));
    ck_assert_int_eq(el[3].type, MSGPACK_OBJECT_NIL);
    msgpack_unpacked_destroy(&u);

    /* Internal failures share one wire code. */
    static const int internal[] = {-CK_EINTERNAL, -CK_ENOMEM, -CK_EIO, -CK_EMAPFULL, 0};
    for (size_t k = 0; k < sizeof internal / sizeof internal[0]; k++) {
        buf_reset(&b);
        ck_err_clear(&err);
        err.code = internal[k];
        rpc_pack_error(&pk, 1, &err);
        expect_bytes(&b, B("\x94\x01\x01\x92\xa8internal\xa0\xc0"));
    }

    /* A message that fills its buffer is sent whole. */
    buf_reset(&b);
    char longmsg[300];
    memset(longmsg, 'm', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = 0;
    ck_err_set(&err, -CK_EINVAL, "%s", longmsg);
    rpc_pack_error(&pk, 1, &err);
    el = decode_response(&u, &b, 1);
    ck_assert_uint_eq(el[2].via.array.ptr[1].via.str.size, sizeof err.message - 1);
    msgpack_unpacked_destroy(&u);
    ck_err_free(&err);
    buf_free(&b);
}
END_TEST

START_TEST(test_pack_error_details)
{
    struct buf b = BUF_INIT;
    struct ck_err err = CK_ERR_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    static const char *const cols[] = {"tenant_id", "email"};
    ck_err_set(&err, -CK_EUNIQUE, "duplicate key");
    ck_err_detail_str(&err, "constraint", "uq_users_email");
    ck_err_detail_strs(&err, "columns", cols, 2);
    ck_err_detail_int(&err, "count", -3);
    rpc_pack_error(&pk, 300, &err);

    /* The same response packed independently with msgpack-c. */
    struct buf want = BUF_INIT;
    msgpack_packer wp;
    mp_packer_init(&wp, &want);
    msgpack_pack_array(&wp, 4);
    msgpack_pack_uint8(&wp, 1);
    msgpack_pack_uint16(&wp, 300);
    msgpack_pack_array(&wp, 3);
    mp_pack_cstr(&wp, "unique_violation");
    mp_pack_cstr(&wp, "duplicate key");
    msgpack_pack_map(&wp, 3);
    mp_pack_cstr(&wp, "constraint");
    mp_pack_cstr(&wp, "uq_users_email");
    mp_pack_cstr(&wp, "columns");
    msgpack_pack_array(&wp, 2);
    mp_pack_cstr(&wp, "tenant_id");
    mp_pack_cstr(&wp, "email");
    mp_pack_cstr(&wp, "count");
    msgpack_pack_int(&wp, -3);
    msgpack_pack_nil(&wp);
    expect_bytes(&b, want.data, want.len);

    msgpack_unpacked u;
    msgpack_object *el = decode_response(&u, &b, 300);
    ck_assert_uint_eq(el[2].via.array.size, 3);
    msgpack_object *det = &el[2].via.array.ptr[2];
    ck_assert_int_eq(det->type, MSGPACK_OBJECT_MAP);
    ck_assert_uint_eq(det->via.map.size, 3);
    ck_assert(obj_streq(&det->via.map.ptr[0].key, "constraint"));
    ck_assert(obj_streq(&det->via.map.ptr[0].val, "uq_users_email"));
    ck_assert_int_eq(det->via.map.ptr[2].val.via.i64, -3);
    msgpack_unpacked_destroy(&u);

    /* Details whose buffer ran out of memory are unreliable: the error goes without them. */
    buf_reset(&b);
    err.details.oom = true;
    rpc_pack_error(&pk, 300, &err);
    el = decode_response(&u, &b, 300);
    ck_assert_uint_eq(el[2].via.array.size, 2);
    ck_assert(obj_streq(&el[2].via.array.ptr[0], "unique_violation"));
    msgpack_unpacked_destroy(&u);

    ck_err_free(&err);
    buf_free(&want);
    buf_free(&b);
}
END_TEST

/* The response sent before closing on an oversized request: msgid peeked, or 0. */
START_TEST(test_pack_too_large)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    msgpack_unpacked u;
    size_t flen;
    struct frame_scanner s;

    /* Size: a request whose params claim a 4 GiB str; its msgid 42 has arrived. */
    const char big[] = "\x94\x00\x2a\xa1m\x91\x81\xa1k\xdb\xff\xff\xff\xff";
    frame_scanner_init(&s, NULL);
    ck_assert_int_eq(frame_scan(&s, big, sizeof big - 1, &flen), -CK_ETOOLARGE);
    ck_assert(!frame_scanner_too_deep(&s));
    rpc_pack_too_large(&pk, &s, big, sizeof big - 1);
    msgpack_object *el = decode_response(&u, &b, 42);
    ck_assert_int_eq(el[3].type, MSGPACK_OBJECT_NIL);
    msgpack_object *e = el[2].via.array.ptr;
    ck_assert_uint_eq(el[2].via.array.size, 3);
    ck_assert(obj_streq(&e[0], "too_large"));
    ck_assert(obj_streq(&e[1], "message is larger than 16777216 bytes"));
    ck_assert_uint_eq(e[2].via.map.size, 2);
    ck_assert(obj_streq(&e[2].via.map.ptr[0].key, "limit"));
    ck_assert(obj_streq(&e[2].via.map.ptr[0].val, "max_message"));
    ck_assert(obj_streq(&e[2].via.map.ptr[1].key, "max"));
    ck_assert_uint_eq(e[2].via.map.ptr[1].val.via.u64, 16u << 20);
    msgpack_unpacked_destroy(&u);

    /* Depth, with a custom limit; the envelope is not a request, so msgid 0. */
    struct frame_limits lim = {1000, 3};
    frame_scanner_init(&s, &lim);
    ck_assert_int_eq(frame_scan(&s, "\x91\x91\x91\x91", 4, &flen), -CK_ETOOLARGE);
    ck_assert(frame_scanner_too_deep(&s));
    buf_reset(&b);
    rpc_pack_too_large(&pk, &s, "\x91\x91\x91\x91", 4);
    el = decode_response(&u, &b, 0);
    e = el[2].via.array.ptr;
    ck_assert(obj_streq(&e[0], "too_large"));
    ck_assert(obj_streq(&e[1], "message nests deeper than 3 levels"));
    ck_assert(obj_streq(&e[2].via.map.ptr[0].val, "max_depth"));
    ck_assert_uint_eq(e[2].via.map.ptr[1].val.via.u64, 3);
    msgpack_unpacked_destroy(&u);

    /* No error, no depth flag; and a reset scanner forgets it. */
    frame_scanner_init(&s, &lim);
    ck_assert(!frame_scanner_too_deep(&s));
    buf_free(&b);
}
END_TEST

START_TEST(test_pack_notification)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    rpc_pack_notification(&pk, "changes", 1);
    mp_pack_cstr(&pk, "seq");
    msgpack_pack_int(&pk, 5);
    expect_bytes(&b, B("\x93\x02\xa7"
                       "changes\x91\x81\xa3seq\x05"));

    /* A client parsing it sees a well-formed notification. */
    struct ck_err err = CK_ERR_INIT;
    struct rpc_msg m;
    ck_assert_int_eq(rpc_parse(b.data, b.len, &m, &err), 0);
    ck_assert_int_eq(m.type, RPC_NOTIFY);
    ck_assert_uint_eq(m.method_len, 7);

    buf_reset(&b);
    rpc_pack_notification(&pk, "x", 0);
    expect_bytes(&b, B("\x93\x02\xa1x\x91\x80"));
    ck_err_free(&err);
    buf_free(&b);
}
END_TEST

static Suite *rpc_suite(void)
{
    Suite *s = suite_create("rpc");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, test_request_empty_params);
    tcase_add_test(tc, test_request_with_params);
    tcase_add_test(tc, test_request_msgid_encodings);
    tcase_add_test(tc, test_notification);
    tcase_add_loop_test(tc, test_malformed, 0, (int)NBAD);
    tcase_add_test(tc, test_malformed_resets);
    tcase_add_test(tc, test_corruptions);
    tcase_add_test(tc, test_peek_msgid);
    suite_add_tcase(s, tc);

    tc = tcase_create("pack");
    tcase_add_test(tc, test_pack_result);
    tcase_add_test(tc, test_pack_error_plain);
    tcase_add_test(tc, test_pack_error_details);
    tcase_add_test(tc, test_pack_too_large);
    tcase_add_test(tc, test_pack_notification);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(rpc_suite());
}
