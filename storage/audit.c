/* The payment audit trail. */
#include <string.h>

#include "audit.h"

/* The audited table and its trail, by name (the DDL's). */
#define AUDITED "payments"
#define TRAIL   "payment_audit_log"

static int col(const struct ck_table *t, const char *name)
{
    return ck_column_find(t, name, strlen(name));
}

static void set_str(struct ck_row *r, int c, const char *s)
{
    r->v[c].kind = CK_V_STR;
    r->v[c].p = s;
    r->v[c].len = (uint32_t)strlen(s);
}

static const char *status_of(const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    int sc = col(t, "status");
    const struct ck_val *v = &r->v[sc];
    if (v->kind != CK_V_INT || v->i < 1 || v->i > t->cols[sc].n_enum)
        return NULL;
    return t->cols[sc].enum_values[v->i - 1];
}

/* The row as clients see it, as a JSON (msgpack map) value in buf. */
static void json_of(const struct ck_row *r, struct buf *b, struct ck_val *out)
{
    msgpack_packer pk;
    mp_packer_init(&pk, b);
    ck_row_pack_wire(&pk, r, 0);
    out->kind = CK_V_JSON;
    out->p = b->data;
    out->len = (uint32_t)b->len;
}

int ck_audit_write(struct ck_ctx *c, const struct ck_row *old_row, const struct ck_row *new_row)
{
    const struct ck_row *any = new_row ? new_row : old_row;
    if ((c->flags & CK_W_NO_AUDIT) || strcmp(any->t->name, AUDITED) != 0)
        return 0;
    const struct ck_table *trail = ck_table_find(TRAIL, strlen(TRAIL));
    const struct ck_table *t = any->t;
    struct ck_row a = {.t = trail};
    ck_colmask present = 0;
    struct buf oldj = BUF_INIT, newj = BUF_INIT, stored = BUF_INIT;

    const char *before = old_row ? status_of(old_row) : NULL;
    const char *after = new_row ? status_of(new_row) : NULL;
    const char *action = !old_row                                     ? "created"
                         : !new_row                                   ? "deleted"
                         : (before && after && strcmp(before, after)) ? "status_changed"
                                                                      : "updated";
    /* action is an ENUM: stored as its ordinal, like every ENUM value. */
    int act = col(trail, "action");
    if (ck_val_from_text(&trail->cols[act], action, strlen(action), &a.v[act]) != 0)
        return -CK_EINTERNAL;
    if (before)
        set_str(&a, col(trail, "previous_status"), before);
    if (after)
        set_str(&a, col(trail, "new_status"), after);
    int pc = col(trail, "payment_id");
    if (new_row) {
        a.v[pc].kind = CK_V_UUID;
        memcpy(a.v[pc].uuid, new_row->v[t->col_id].uuid, 16);
    }
    a.v[col(trail, "amount")] = any->v[col(t, "amount")];
    if (old_row)
        json_of(old_row, &oldj, &a.v[col(trail, "old_values")]);
    if (new_row)
        json_of(new_row, &newj, &a.v[col(trail, "new_values")]);
    if (c->user) {
        int by = col(trail, "performed_by");
        a.v[by].kind = CK_V_UUID;
        memcpy(a.v[by].uuid, c->user, 16);
    }
    for (unsigned i = 0; i < trail->ncols; i++) {
        if (a.v[i].kind != CK_V_NULL)
            present |= CK_COL(i);
    }
    int rc = oldj.oom || newj.oom ? -CK_ENOMEM : 0;
    if (rc == 0) {
        /* Audit rows are written as the session writes, never with restored metadata. */
        struct ck_ctx ac = *c;
        ac.flags &= ~(unsigned)CK_W_KEEP_META;
        rc = ck_rows_insert(&ac, &a, present, &stored);
    }
    buf_free(&oldj);
    buf_free(&newj);
    buf_free(&stored);
    return rc;
}
