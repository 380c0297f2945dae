/* Conditions on rows: check clauses and query filters. */
#include <string.h>

#include "collate.h"
#include "cond.h"
#include "keycodec.h"

/* Encode v as an index key holds it (order-preserving, strings as collation keys). */
static int encode(struct buf *b, const struct ck_column *c, const struct ck_val *v)
{
    if (v->kind == CK_V_NULL) {
        kc_put_nil(b, KC_ASC);
        return 0;
    }
    switch (c->type) {
    case CK_T_UUID: kc_put_uuid(b, v->uuid, KC_ASC); return 0;
    case CK_T_VARCHAR:
    case CK_T_CHAR:
    case CK_T_TEXT: {
        struct buf key = BUF_INIT;
        int rc = ck_collate_key(v->p, v->len, &key);
        if (rc == 0)
            kc_put_string(b, key.data ? key.data : "", key.len, key.len + 1, KC_ASC);
        buf_free(&key);
        return rc;
    }
    case CK_T_BOOL: kc_put_bool(b, v->i != 0, KC_ASC); return 0;
    case CK_T_TIMESTAMP: kc_put_timestamp(b, v->i, KC_ASC); return 0;
    case CK_T_DATE: kc_put_date(b, (int32_t)v->i, KC_ASC); return 0;
    case CK_T_INT:
    case CK_T_DECIMAL:
    case CK_T_ENUM: kc_put_int(b, v->i, KC_ASC); return 0;
    default:
        /* JSON and binary values: compared as bytes. */
        buf_append(b, v->p, v->len);
        return 0;
    }
}

int ck_val_cmp(const struct ck_table *t, unsigned col, const struct ck_val *a,
               const struct ck_val *b)
{
    const struct ck_column *c = &t->cols[col];
    if (a->kind == CK_V_INT && b->kind == CK_V_INT)
        return a->i < b->i ? -1 : a->i > b->i;
    if (a->kind == CK_V_UUID && b->kind == CK_V_UUID)
        return memcmp(a->uuid, b->uuid, 16);
    char ma[256], mb[256];
    struct buf ka, kb;
    buf_init_borrowed(&ka, ma, sizeof ma);
    buf_init_borrowed(&kb, mb, sizeof mb);
    encode(&ka, c, a);
    encode(&kb, c, b);
    size_t n = ka.len < kb.len ? ka.len : kb.len;
    int r = memcmp(ka.data, kb.data, n);
    if (r == 0)
        r = ka.len < kb.len ? -1 : ka.len > kb.len;
    buf_free(&ka);
    buf_free(&kb);
    return r;
}

enum op { OP_EQ, OP_NE, OP_GT, OP_GTE, OP_LT, OP_LTE, OP_IN, OP_IS_NULL };
static const char *const op_names[] = {"eq", "ne", "gt", "gte", "lt", "lte", "in", "is_null"};

static int op_find(const struct mp_obj *k)
{
    for (int i = 0; i < (int)(sizeof op_names / sizeof op_names[0]); i++) {
        if (mp_obj_streq(k, op_names[i]))
            return i;
    }
    return -1;
}

/* One comparison; value at *p is read for column col. 1 true, 0 false, <0 error. */
static int eval_op(const struct ck_row *r, unsigned col, int op, const char **p, const char *end,
                   struct ck_err *err)
{
    const struct ck_table *t = r->t;
    const struct ck_val *have = &r->v[col];
    struct mp_obj o;
    if (op == OP_IS_NULL) {
        if (mp_next(p, end, &o) != 0 || o.type != MP_BOOL)
            return ck_err_set(err, -CK_EINVAL, "is_null takes true or false");
        return (have->kind == CK_V_NULL) == o.v.b;
    }
    if (op == OP_IN) {
        if (mp_next(p, end, &o) != 0 || o.type != MP_ARRAY)
            return ck_err_set(err, -CK_EINVAL, "in takes an array");
        int found = 0;
        for (uint32_t i = 0; i < o.v.n; i++) {
            struct ck_val want;
            int rc = ck_val_from_wire(t, col, p, end, &want, err);
            if (rc)
                return rc;
            if (have->kind != CK_V_NULL && want.kind != CK_V_NULL &&
                ck_val_cmp(t, col, have, &want) == 0)
                found = 1;
        }
        return found;
    }
    struct ck_val want;
    int rc = ck_val_from_wire(t, col, p, end, &want, err);
    if (rc)
        return rc;
    if (have->kind == CK_V_NULL || want.kind == CK_V_NULL)
        return 0; /* SQL: a comparison with NULL is never true */
    int c = ck_val_cmp(t, col, have, &want);
    switch (op) {
    case OP_EQ: return c == 0;
    case OP_NE: return c != 0;
    case OP_GT: return c > 0;
    case OP_GTE: return c >= 0;
    case OP_LT: return c < 0;
    default: return c <= 0;
    }
}

int ck_cond_eval(const struct ck_row *r, const char *p, const char *end, uint32_t npairs,
                 int *failed_col_out, struct ck_err *err)
{
    const struct ck_table *t = r->t;
    int all = 1;
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k, v;
        if (mp_next(&p, end, &k) != 0 || (k.type != MP_STR && k.type != MP_BIN))
            return ck_err_set(err, -CK_EINVAL, "conditions are keyed by column name");
        int col = ck_column_find(t, k.v.str.ptr, k.v.str.len);
        if (col < 0) {
            ck_err_set(err, -CK_EUNKCOLUMN, "%s has no column %.*s", t->name,
                       (int)(k.v.str.len > 64 ? 64 : k.v.str.len), k.v.str.ptr);
            ck_err_detail_str(err, "table", t->name);
            ck_err_detail_strn(err, "column", k.v.str.ptr, k.v.str.len > 64 ? 64 : k.v.str.len);
            return -CK_EUNKCOLUMN;
        }
        const char *vp = p;
        if (mp_next(&vp, end, &v) != 0)
            return ck_err_set(err, -CK_EINVAL, "malformed condition");
        int ok;
        if (v.type == MP_MAP) {
            p = vp;
            ok = 1;
            for (uint32_t j = 0; j < v.v.n; j++) {
                struct mp_obj ok_key;
                if (mp_next(&p, end, &ok_key) != 0)
                    return ck_err_set(err, -CK_EINVAL, "malformed condition");
                int op = op_find(&ok_key);
                if (op < 0)
                    return ck_err_set(err, -CK_EINVAL,
                                      "unknown operator on %s (eq ne gt gte lt lte in is_null)",
                                      t->cols[col].name);
                int rc = eval_op(r, (unsigned)col, op, &p, end, err);
                if (rc < 0)
                    return rc;
                ok &= rc;
            }
        } else {
            ok = eval_op(r, (unsigned)col, OP_EQ, &p, end, err);
            if (ok < 0)
                return ok;
        }
        if (!ok && all) {
            all = 0;
            if (failed_col_out)
                *failed_col_out = col;
        }
    }
    return all;
}
