/*
 * txn.run: ordered operations in one transaction, all or nothing.
 *
 * Each op is a row method's params plus `op` (insert, update, delete, get,
 * query) and an optional `as` name. Before an op runs, its params are rewritten:
 * {"$ref": "name.column"} anywhere is replaced by that column of the result of
 * the earlier op named `name`, and {"$add": n} values of an update's `set` move
 * to its `add` map (row.update adds them to the current values, then evaluates
 * `check`, before the row's own constraints). Then the op runs through the very
 * handler of its row method, with the same permission and scope checks, inside
 * the job's transaction: a failing op aborts the whole transaction (the writer
 * rolls back the nested transaction), and the error names the op.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "method.h"
#include "server.h"

#define TXN_MAX_DEPTH 40

struct op_result {
    const char *as; /* in the request */
    uint32_t aslen;
    struct buf result; /* the op's result, msgpack */
};

struct txn {
    struct ck_call *call;
    struct op_result *res;
    unsigned nres;
    unsigned index; /* the op being rewritten */
};

static int op_error(struct txn *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int op_error(struct txn *x, const char *fmt, ...)
{
    char msg[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ck_err_set(x->call->err, -CK_EBADREQ, "op %u: %s", x->index, msg);
    ck_err_detail_int(x->call->err, "op", x->index);
    return -CK_EBADREQ;
}

/* Copy the raw object at *p to out. */
static int copy_raw(const char **p, const char *end, struct buf *out)
{
    const char *start = *p;
    if (mp_skip(p, end) != 0)
        return -CK_EBADREQ;
    buf_append(out, start, (size_t)(*p - start));
    return 0;
}

/* The value of "name.column" among earlier results, as raw msgpack. */
static int resolve_ref(struct txn *x, const char *ref, uint32_t len, const char **v_out,
                       const char **end_out)
{
    const char *dot = memchr(ref, '.', len);
    if (!dot)
        return op_error(x, "$ref must be \"name.column\"");
    uint32_t nlen = (uint32_t)(dot - ref);
    const char *col = dot + 1;
    uint32_t clen = len - nlen - 1;
    for (unsigned i = 0; i < x->nres; i++) {
        struct op_result *r = &x->res[i];
        if (!r->as || r->aslen != nlen || memcmp(r->as, ref, nlen) != 0)
            continue;
        const char *p = r->result.data, *end = p + r->result.len;
        struct mp_obj m;
        if (mp_next(&p, end, &m) != 0 || m.type != MP_MAP)
            return op_error(x, "$ref %.*s: that result is not a row", (int)(len > 80 ? 80 : len),
                            ref);
        char name[128];
        if (clen >= sizeof name)
            return op_error(x, "$ref: column name too long");
        memcpy(name, col, clen);
        name[clen] = 0;
        const char *v;
        if (mp_map_find(p, end, m.v.n, name, &v) != 0)
            return op_error(x, "$ref %.*s: no such column", (int)(len > 80 ? 80 : len), ref);
        *v_out = v;
        *end_out = end;
        return 0;
    }
    return op_error(x, "$ref %.*s: no earlier op is named so", (int)(len > 80 ? 80 : len), ref);
}

/* Is the map at p (npairs) a {"$ref": "..."} or {"$add": n}? Returns the value's position. */
static bool special(const char *p, const char *end, uint32_t npairs, const char *key,
                    const char **val)
{
    if (npairs != 1)
        return false;
    struct mp_obj k;
    if (mp_next(&p, end, &k) != 0 || !mp_obj_streq(&k, key))
        return false;
    *val = p;
    return true;
}

/* Copy the value at *p to out, replacing every {"$ref": ...} by its value. */
static int copy_value(struct txn *x, const char **p, const char *end, struct buf *out,
                      unsigned depth)
{
    if (depth > TXN_MAX_DEPTH)
        return op_error(x, "nested too deeply");
    const char *start = *p;
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0)
        return op_error(x, "malformed");
    msgpack_packer pk;
    mp_packer_init(&pk, out);
    const char *v;
    if (o.type == MP_MAP && special(*p, end, o.v.n, "$ref", &v)) {
        struct mp_obj ref;
        if (mp_next(&v, end, &ref) != 0 || ref.type != MP_STR)
            return op_error(x, "$ref takes a string");
        const char *val = NULL, *vend = NULL;
        int rc = resolve_ref(x, ref.v.str.ptr, ref.v.str.len, &val, &vend);
        if (rc)
            return rc;
        *p = v;
        return copy_raw(&val, vend, out);
    }
    if (o.type == MP_MAP || o.type == MP_ARRAY) {
        if (o.type == MP_MAP)
            msgpack_pack_map(&pk, o.v.n);
        else
            msgpack_pack_array(&pk, o.v.n);
        uint64_t n = o.type == MP_MAP ? 2ull * o.v.n : o.v.n;
        for (uint64_t i = 0; i < n; i++) {
            int rc = copy_value(x, p, end, out, depth + 1);
            if (rc)
                return rc;
        }
        return 0;
    }
    buf_append(out, start, (size_t)(*p - start));
    return 0;
}

/*
 * Rewrite an op map (cursor after its header, npairs) into out as a params map:
 * `op` and `as` are dropped, $ref resolved, and {"$add": n} values of `set`
 * moved into `add`. *verb gets the op's name.
 */
static int rewrite_op(struct txn *x, const char *p, const char *end, uint32_t npairs,
                      struct buf *out, struct mp_obj *verb, const char **as, uint32_t *aslen)
{
    struct buf set = BUF_INIT, add = BUF_INIT, rest = BUF_INIT;
    uint32_t nset = 0, nadd = 0, nrest = 0;
    bool has_set = false;
    int rc = 0;
    verb->type = MP_NIL;
    *as = NULL;
    *aslen = 0;
    for (uint32_t i = 0; i < npairs && rc == 0; i++) {
        struct mp_obj k;
        const char *key = p;
        if (mp_next(&p, end, &k) != 0 || k.type != MP_STR) {
            rc = op_error(x, "op keys must be strings");
            break;
        }
        if (mp_obj_streq(&k, "op") || mp_obj_streq(&k, "as")) {
            struct mp_obj v;
            if (mp_next(&p, end, &v) != 0 || v.type != MP_STR) {
                rc = op_error(x, "%s must be a string", mp_obj_streq(&k, "op") ? "op" : "as");
                break;
            }
            if (mp_obj_streq(&k, "op")) {
                *verb = v;
            } else {
                *as = v.v.str.ptr;
                *aslen = v.v.str.len;
            }
            continue;
        }
        if (mp_obj_streq(&k, "set")) {
            struct mp_obj m;
            if (mp_next(&p, end, &m) != 0 || m.type != MP_MAP) {
                rc = op_error(x, "set must be a map");
                break;
            }
            has_set = true;
            for (uint32_t j = 0; j < m.v.n && rc == 0; j++) {
                const char *col = p;
                if (mp_skip(&p, end) != 0) {
                    rc = op_error(x, "malformed set");
                    break;
                }
                const char *val = p, *inner;
                struct mp_obj vo;
                if (mp_next(&val, end, &vo) != 0) {
                    rc = op_error(x, "malformed set");
                    break;
                }
                bool is_add = vo.type == MP_MAP && special(val, end, vo.v.n, "$add", &inner);
                struct buf *dst = is_add ? &add : &set;
                buf_append(dst, col, (size_t)(p - col));
                if (is_add) {
                    const char *q = inner;
                    rc = copy_value(x, &q, end, dst, 1);
                    p = q;
                    nadd++;
                } else {
                    rc = copy_value(x, &p, end, dst, 1);
                    nset++;
                }
            }
            continue;
        }
        buf_append(&rest, key, (size_t)(p - key));
        rc = copy_value(x, &p, end, &rest, 1);
        nrest++;
    }
    if (rc == 0 && verb->type != MP_STR)
        rc = op_error(x, "op is required: insert, update, delete, get or query");
    if (rc == 0) {
        msgpack_packer pk;
        mp_packer_init(&pk, out);
        msgpack_pack_map(&pk, nrest + (has_set ? 1 : 0) + (nadd ? 1 : 0));
        buf_append(out, rest.data, rest.len);
        if (has_set) {
            mp_pack_cstr(&pk, "set");
            msgpack_pack_map(&pk, nset);
            buf_append(out, set.data, set.len);
        }
        if (nadd) {
            mp_pack_cstr(&pk, "add");
            msgpack_pack_map(&pk, nadd);
            buf_append(out, add.data, add.len);
        }
        if (out->oom || set.oom || add.oom || rest.oom)
            rc = ck_err_set(x->call->err, -CK_ENOMEM, "out of memory");
    }
    buf_free(&set);
    buf_free(&add);
    buf_free(&rest);
    return rc;
}

static ck_handler_fn handler_for(const struct mp_obj *verb)
{
    static const struct {
        const char *verb, *method;
    } map[] = {
        {"insert", "row.insert"}, {"update", "row.update"}, {"delete", "row.delete"},
        {"get", "row.get"},       {"query", "row.query"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (mp_obj_streq(verb, map[i].verb)) {
            const struct ck_method *m = ck_method_find(map[i].method, strlen(map[i].method));
            return m ? m->fn : NULL;
        }
    }
    return NULL;
}

/* Name the failing op in its error: message prefix and details {op, as}. */
static void tag_error(struct ck_call *call, unsigned index, const char *as, uint32_t aslen)
{
    struct ck_err *err = call->err;
    char prefix[64];
    if (as)
        snprintf(prefix, sizeof prefix, "op %u (%.*s): ", index, (int)(aslen > 40 ? 40 : aslen),
                 as);
    else
        snprintf(prefix, sizeof prefix, "op %u: ", index);
    size_t plen = strlen(prefix), mlen = strnlen(err->message, sizeof err->message - 1);
    if (plen + mlen >= sizeof err->message)
        mlen = sizeof err->message - 1 - plen;
    memmove(err->message + plen, err->message, mlen);
    memcpy(err->message, prefix, plen);
    err->message[plen + mlen] = 0;
    ck_err_detail_int(err, "op", index);
    if (as)
        ck_err_detail_strn(err, "as", as, aslen);
}

/* txn.run {ops: [...]} -> {results: [...]} */
int m_txn_run(struct ck_call *call)
{
    const char *p = ck_param(call, "ops");
    const char *end = call->params_end;
    struct mp_obj arr;
    if (!p || mp_next(&p, end, &arr) != 0 || arr.type != MP_ARRAY)
        return ck_err_set(call->err, -CK_EBADREQ, "param ops: expected an array of ops");
    if (arr.v.n > call->srv->opt.max_txn_ops) {
        ck_err_set(call->err, -CK_ETOOLARGE, "a transaction holds at most %u ops",
                   call->srv->opt.max_txn_ops);
        ck_err_detail_int(call->err, "max_ops", call->srv->opt.max_txn_ops);
        return -CK_ETOOLARGE;
    }
    struct txn x = {.call = call};
    x.res = calloc(arr.v.n ? arr.v.n : 1, sizeof *x.res);
    if (!x.res)
        return ck_err_set(call->err, -CK_ENOMEM, "out of memory");
    struct buf params = BUF_INIT;
    int rc = 0;
    for (uint32_t i = 0; i < arr.v.n && rc == 0; i++) {
        x.index = i;
        struct mp_obj m;
        if (mp_next(&p, end, &m) != 0 || m.type != MP_MAP) {
            rc = op_error(&x, "expected a map");
            break;
        }
        const char *op_start = p;
        struct mp_obj verb;
        const char *as;
        uint32_t aslen;
        buf_reset(&params);
        rc = rewrite_op(&x, op_start, end, m.v.n, &params, &verb, &as, &aslen);
        /* Skip to the next op. */
        p = op_start;
        for (uint32_t j = 0; j < 2 * m.v.n && rc == 0; j++) {
            if (mp_skip(&p, end) != 0)
                rc = op_error(&x, "malformed");
        }
        if (rc)
            break;
        ck_handler_fn fn = handler_for(&verb);
        if (!fn) {
            rc = op_error(&x, "unknown op %.*s", (int)(verb.v.str.len > 20 ? 20 : verb.v.str.len),
                          verb.v.str.ptr);
            break;
        }
        struct op_result *r = &x.res[i];
        r->as = as;
        r->aslen = aslen;
        struct ck_call sub = *call;
        const char *pp = params.data, *pend = params.data + params.len;
        struct mp_obj pm;
        mp_next(&pp, pend, &pm);
        sub.params = pm.v.n ? pp : NULL;
        sub.nparams = pm.v.n;
        sub.params_end = pend;
        msgpack_packer pk;
        mp_packer_init(&pk, &r->result);
        sub.pk = &pk;
        rc = fn(&sub);
        call->pw_next = sub.pw_next;
        if (rc == 0 && r->result.oom)
            rc = ck_err_set(call->err, -CK_ENOMEM, "out of memory");
        x.nres = i + 1;
        if (rc)
            tag_error(call, i, as, aslen);
    }
    if (rc == 0) {
        msgpack_pack_map(call->pk, 1);
        mp_pack_cstr(call->pk, "results");
        msgpack_pack_array(call->pk, arr.v.n);
        for (uint32_t i = 0; i < arr.v.n; i++)
            mp_pack_raw(call->pk, x.res[i].result.data, x.res[i].result.len);
    }
    for (uint32_t i = 0; i < arr.v.n; i++)
        buf_free(&x.res[i].result);
    free(x.res);
    buf_free(&params);
    return rc;
}
