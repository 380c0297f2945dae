/* Row validation: names, types, NOT NULL, defaults, CHECK constraints. */
#include <string.h>

#include "decimal.h"
#include "validate.h"

int ck_row_read_map(const struct ck_table *t, const char *p, const char *end, uint32_t npairs,
                    struct ck_row *row, ck_colmask *present_out, ck_extra_key_fn extra, void *arg,
                    struct ck_err *err)
{
    ck_colmask present = 0;
    row->t = t;
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k;
        if (mp_next(&p, end, &k) != 0)
            return ck_err_set(err, -CK_EBADREQ, "malformed row map");
        if (k.type != MP_STR && k.type != MP_BIN)
            return ck_err_set(err, -CK_EBADREQ, "row keys must be column names");
        int col = ck_column_find(t, k.v.str.ptr, k.v.str.len);
        if (col < 0) {
            if (extra) {
                int rc = extra(arg, row, &present, k.v.str.ptr, k.v.str.len, &p, end);
                if (rc < 0)
                    return rc;
                if (rc == 1)
                    continue;
            }
            ck_err_set(err, -CK_EUNKCOLUMN, "%s has no column %.*s", t->name,
                       (int)(k.v.str.len > 64 ? 64 : k.v.str.len), k.v.str.ptr);
            ck_err_detail_str(err, "table", t->name);
            ck_err_detail_strn(err, "column", k.v.str.ptr, k.v.str.len > 64 ? 64 : k.v.str.len);
            return -CK_EUNKCOLUMN;
        }
        if (present & CK_COL(col)) {
            ck_err_set(err, -CK_EBADREQ, "column %s given twice", t->cols[col].name);
            ck_err_detail_str(err, "column", t->cols[col].name);
            return -CK_EBADREQ;
        }
        int rc = ck_val_from_wire(t, (unsigned)col, &p, end, &row->v[col], err);
        if (rc)
            return rc;
        present |= CK_COL(col);
    }
    *present_out = present;
    return 0;
}

void ck_row_fill_defaults(struct ck_row *row, ck_colmask present, int64_t now_ms)
{
    const struct ck_table *t = row->t;
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!(present & CK_COL(i)))
            ck_val_default(t, i, now_ms, &row->v[i]);
    }
}

int ck_row_check_not_null(const struct ck_row *row, struct ck_err *err)
{
    const struct ck_table *t = row->t;
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!t->cols[i].nullable && row->v[i].kind == CK_V_NULL) {
            ck_err_set(err, -CK_ENOTNULL, "%s.%s cannot be null", t->name, t->cols[i].name);
            ck_err_detail_str(err, "table", t->name);
            ck_err_detail_str(err, "column", t->cols[i].name);
            return -CK_ENOTNULL;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ CHECK constraints */

/* SQL three-valued logic: a value is a number with a scale, or NULL. */
enum tv { TV_FALSE = 0, TV_TRUE = 1, TV_NULL = 2 };

struct slot {
    bool is_null;
    bool is_bool; /* result of a comparison or logic op */
    enum tv tv;
    int64_t num;
    unsigned scale;
};

static struct slot col_slot(const struct ck_row *row, unsigned col)
{
    struct slot s = {0};
    const struct ck_val *v = &row->v[col];
    const struct ck_column *c = &row->t->cols[col];
    if (v->kind == CK_V_NULL) {
        s.is_null = true;
        s.tv = TV_NULL;
        return s;
    }
    s.num = v->i;
    s.scale = c->type == CK_T_DECIMAL ? c->scale : 0;
    return s;
}

static enum tv slot_tv(const struct slot *s)
{
    if (s->is_null)
        return TV_NULL;
    if (s->is_bool)
        return s->tv;
    return s->num != 0 ? TV_TRUE : TV_FALSE;
}

static struct slot tv_slot(enum tv v)
{
    struct slot s = {0};
    s.is_bool = true;
    s.tv = v;
    s.is_null = v == TV_NULL;
    return s;
}

static enum tv compare(const struct slot *a, const struct slot *b, unsigned op)
{
    if (a->is_null || b->is_null)
        return TV_NULL;
    int c = ck_decimal_cmp(a->num, a->scale, b->num, b->scale);
    bool r;
    switch (op) {
    case CK_OP_EQ: r = c == 0; break;
    case CK_OP_NE: r = c != 0; break;
    case CK_OP_LT: r = c < 0; break;
    case CK_OP_LE: r = c <= 0; break;
    case CK_OP_GT: r = c > 0; break;
    default: r = c >= 0; break;
    }
    return r ? TV_TRUE : TV_FALSE;
}

static enum tv tv_and(enum tv a, enum tv b)
{
    if (a == TV_FALSE || b == TV_FALSE)
        return TV_FALSE;
    if (a == TV_NULL || b == TV_NULL)
        return TV_NULL;
    return TV_TRUE;
}

static enum tv tv_or(enum tv a, enum tv b)
{
    if (a == TV_TRUE || b == TV_TRUE)
        return TV_TRUE;
    if (a == TV_NULL || b == TV_NULL)
        return TV_NULL;
    return TV_FALSE;
}

/* Run a CHECK program. Returns the constraint's truth value. */
static enum tv eval_check(const struct ck_check *ck, const struct ck_row *row)
{
    struct slot st[32];
    unsigned sp = 0;
    for (unsigned i = 0; i < ck->nops; i++) {
        const struct ck_check_op *op = &ck->ops[i];
        struct slot a, b, c;
        switch (op->op) {
        case CK_OP_COL: st[sp++] = col_slot(row, op->col); break;
        case CK_OP_NUM:
            st[sp] = (struct slot){0};
            st[sp].num = op->num;
            st[sp].scale = op->scale;
            sp++;
            break;
        case CK_OP_EQ:
        case CK_OP_NE:
        case CK_OP_LT:
        case CK_OP_LE:
        case CK_OP_GT:
        case CK_OP_GE:
            b = st[--sp];
            a = st[--sp];
            st[sp++] = tv_slot(compare(&a, &b, op->op));
            break;
        case CK_OP_BETWEEN:
            c = st[--sp];
            b = st[--sp];
            a = st[--sp];
            st[sp++] = tv_slot(tv_and(compare(&a, &b, CK_OP_GE), compare(&a, &c, CK_OP_LE)));
            break;
        case CK_OP_IS_NULL:
            a = st[--sp];
            st[sp++] = tv_slot(a.is_null ? TV_TRUE : TV_FALSE);
            break;
        case CK_OP_IS_NOT_NULL:
            a = st[--sp];
            st[sp++] = tv_slot(a.is_null ? TV_FALSE : TV_TRUE);
            break;
        case CK_OP_AND:
            b = st[--sp];
            a = st[--sp];
            st[sp++] = tv_slot(tv_and(slot_tv(&a), slot_tv(&b)));
            break;
        case CK_OP_OR:
            b = st[--sp];
            a = st[--sp];
            st[sp++] = tv_slot(tv_or(slot_tv(&a), slot_tv(&b)));
            break;
        case CK_OP_NOT: {
            enum tv v = slot_tv(&st[--sp]);
            st[sp++] = tv_slot(v == TV_NULL ? TV_NULL : v == TV_TRUE ? TV_FALSE : TV_TRUE);
            break;
        }
        default: return TV_FALSE;
        }
    }
    return sp == 1 ? slot_tv(&st[0]) : TV_FALSE;
}

int ck_row_check_constraints(const struct ck_row *row, struct ck_err *err)
{
    const struct ck_table *t = row->t;
    for (unsigned i = 0; i < t->nchecks; i++) {
        const struct ck_check *ck = &t->checks[i];
        if (eval_check(ck, row) == TV_FALSE) {
            ck_err_set(err, -CK_EINVAL, "%s violates %s (%s)", t->name, ck->name, ck->expression);
            ck_err_detail_str(err, "table", t->name);
            ck_err_detail_str(err, "constraint", ck->name);
            return -CK_EINVAL;
        }
    }
    return 0;
}
