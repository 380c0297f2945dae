/* Row operations: get, insert, update, soft delete, restore, remove. */
#include <string.h>

#include "audit.h"
#include "fk.h"
#include "index.h"
#include "rows.h"
#include "uuid.h"
#include "validate.h"

int ck_rows_get_raw(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16], MDB_val *out)
{
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, ck_row_tenant(t, c->tenant), t->id, id);
    MDB_val k = {sizeof key, key};
    return kv_error(mdb_get(c->txn, c->kv->rows, &k, out));
}

int ck_rows_get(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16], bool with_deleted,
                struct ck_row *out)
{
    MDB_val v;
    int rc = ck_rows_get_raw(c, t, id, &v);
    if (rc)
        return rc;
    rc = ck_row_decode(t, v.mv_data, v.mv_size, out);
    if (rc)
        return rc;
    if (!with_deleted && t->col_deleted_at >= 0 && out->v[t->col_deleted_at].kind != CK_V_NULL)
        return -CK_ENOTFOUND;
    return 0;
}

int ck_rows_decode_copy(const struct ck_table *t, const MDB_val *stored, struct buf *copy,
                        struct ck_row *out)
{
    buf_reset(copy);
    buf_append(copy, stored->mv_data, stored->mv_size);
    if (copy->oom)
        return -CK_ENOMEM;
    return ck_row_decode(t, copy->data, copy->len, out);
}

const uint8_t *ck_rows_log_tenant(const struct ck_ctx *c, const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    if (t->col_tenant >= 0)
        return c->tenant;
    /* The tenants table: each tenant's row belongs to that tenant's history. */
    if (t->col_id >= 0 && ck_table_find("tenants", 7) == t)
        return r->v[t->col_id].uuid;
    return kv_system_tenant;
}

static void set_uuid(struct ck_val *v, const uint8_t *id)
{
    if (id) {
        v->kind = CK_V_UUID;
        memcpy(v->uuid, id, 16);
    } else {
        v->kind = CK_V_NULL;
    }
}

static void set_int(struct ck_val *v, int64_t i)
{
    v->kind = CK_V_INT;
    v->i = i;
}

static int put_row(struct ck_ctx *c, const struct ck_row *r, const uint8_t *tenant,
                   unsigned mdb_flags, struct buf *stored)
{
    const struct ck_table *t = r->t;
    buf_reset(stored);
    ck_row_encode(r, stored);
    if (stored->oom)
        return -CK_ENOMEM;
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, tenant, t->id, r->v[t->col_id].uuid);
    MDB_val k = {sizeof key, key}, v = {stored->len, stored->data};
    int rc = mdb_put(c->txn, c->kv->rows, &k, &v, mdb_flags);
    if (rc == MDB_KEYEXIST) {
        static const char *const id_col[] = {"id"};
        ck_err_set(c->err, -CK_EUNIQUE, "%s already has a row with this id", t->name);
        ck_err_detail_str(c->err, "table", t->name);
        ck_err_detail_str(c->err, "constraint", "PRIMARY");
        ck_err_detail_strs(c->err, "columns", id_col, 1);
        return -CK_EUNIQUE;
    }
    return kv_error(rc);
}

static int log_change(struct ck_ctx *c, unsigned op, const struct ck_row *r,
                      const struct buf *stored)
{
    if (!c->log || (c->flags & CK_W_NO_LOG))
        return 0;
    const struct ck_table *t = r->t;
    return ck_log_append(c->log, c->txn, c->kv, op, t->id, ck_rows_log_tenant(c, r),
                         r->v[t->col_id].uuid, stored ? stored->data : NULL,
                         stored ? stored->len : 0, c->user, c->now_ms);
}

int ck_rows_insert(struct ck_ctx *c, struct ck_row *row, ck_colmask present, struct buf *stored)
{
    const struct ck_table *t = row->t;
    const uint8_t *tenant = ck_row_tenant(t, c->tenant);

    if (t->col_tenant >= 0) {
        struct ck_val *tv = &row->v[t->col_tenant];
        if ((present & CK_COL(t->col_tenant)) && tv->kind == CK_V_UUID &&
            memcmp(tv->uuid, c->tenant, 16) != 0)
            return ck_err_set(c->err, -CK_EFORBIDDEN, "tenant_id must be the session's tenant");
        present |= CK_COL(t->col_tenant);
        set_uuid(tv, c->tenant);
    }
    if (!(present & CK_COL(t->col_id)) || row->v[t->col_id].kind == CK_V_NULL) {
        present |= CK_COL(t->col_id);
        row->v[t->col_id].kind = CK_V_UUID;
        ck_uuid_v7(row->v[t->col_id].uuid);
    }
    if (!(c->flags & CK_W_KEEP_META)) {
        ck_colmask meta = 0;
        if (t->col_created_at >= 0) {
            set_int(&row->v[t->col_created_at], c->now_ms);
            meta |= CK_COL(t->col_created_at);
        }
        if (t->col_updated_at >= 0) {
            set_int(&row->v[t->col_updated_at], c->now_ms);
            meta |= CK_COL(t->col_updated_at);
        }
        if (t->col_created_by >= 0) {
            set_uuid(&row->v[t->col_created_by], c->user);
            meta |= CK_COL(t->col_created_by);
        }
        if (t->col_updated_by >= 0) {
            set_uuid(&row->v[t->col_updated_by], c->user);
            meta |= CK_COL(t->col_updated_by);
        }
        present |= meta;
    }
    ck_row_fill_defaults(row, present, c->now_ms);

    int rc = ck_row_check_not_null(row, c->err);
    if (rc == 0)
        rc = ck_row_check_constraints(row, c->err);
    if (rc == 0)
        rc = ck_fk_check_row(c->txn, c->kv, c->tenant, c->clinic, row, ~(ck_colmask)0, c->err);
    if (rc == 0)
        rc = put_row(c, row, tenant, MDB_NOOVERWRITE, stored);
    if (rc == 0)
        rc = ck_index_insert_row(c->txn, c->kv, tenant, row, c->err);
    if (rc == 0)
        rc = log_change(c, CK_LOG_INSERT, row, stored);
    if (rc == 0)
        rc = ck_audit_write(c, NULL, row);
    return rc;
}

int ck_rows_replace(struct ck_ctx *c, const struct ck_row *old_row, struct ck_row *new_row,
                    ck_colmask changed, struct buf *stored)
{
    const struct ck_table *t = new_row->t;
    const uint8_t *tenant = ck_row_tenant(t, c->tenant);
    ck_colmask fk_cols = changed;

    if (!(c->flags & CK_W_KEEP_META)) {
        if (t->col_updated_at >= 0) {
            /* updated_at moves forward on every write, so expect_updated_at always
             * tells two versions apart, even within one millisecond. */
            int64_t prev = old_row->v[t->col_updated_at].kind == CK_V_INT
                               ? old_row->v[t->col_updated_at].i
                               : 0;
            set_int(&new_row->v[t->col_updated_at], c->now_ms > prev ? c->now_ms : prev + 1);
        }
        if (t->col_updated_by >= 0) {
            int ub = t->col_updated_by;
            set_uuid(&new_row->v[ub], c->user);
            /* updated_by is an FK like any other: a session can outlive its user
             * (hard-deleted meanwhile), and the row must not end up naming a
             * missing one, so a new value is checked though the client never gave it. */
            if (!ck_val_eq(&t->cols[ub], &old_row->v[ub], &new_row->v[ub]))
                fk_cols |= CK_COL(ub);
        }
    }
    int rc = ck_row_check_not_null(new_row, c->err);
    if (rc == 0)
        rc = ck_row_check_constraints(new_row, c->err);
    if (rc == 0)
        rc = ck_fk_check_row(c->txn, c->kv, c->tenant, c->clinic, new_row, fk_cols, c->err);
    if (rc == 0)
        rc = ck_index_update_row(c->txn, c->kv, tenant, old_row, new_row, c->err);
    if (rc == 0)
        rc = put_row(c, new_row, tenant, 0, stored);
    if (rc == 0)
        rc = log_change(c, CK_LOG_UPDATE, new_row, stored);
    if (rc == 0)
        rc = ck_audit_write(c, old_row, new_row);
    return rc;
}

/* Fetch a row for writing: a private copy, since writes move LMDB's pages. */
static int get_for_write(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                         bool with_deleted, struct buf *copy, struct ck_row *out)
{
    MDB_val v;
    int rc = ck_rows_get_raw(c, t, id, &v);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(c->err, rc, "no such %s row", t->name);
    if (rc)
        return rc;
    rc = ck_rows_decode_copy(t, &v, copy, out);
    if (rc)
        return rc;
    if (!with_deleted && t->col_deleted_at >= 0 && out->v[t->col_deleted_at].kind != CK_V_NULL)
        return ck_err_set(c->err, -CK_ENOTFOUND, "no such %s row", t->name);
    return 0;
}

/* Columns a client may not change, and those the server maintains itself. */
static int check_immutable(struct ck_ctx *c, const struct ck_table *t, const struct ck_row *old_row,
                           const struct ck_row *new_row, ck_colmask given)
{
    if ((given & CK_COL(t->col_id)) &&
        !ck_val_eq(&t->cols[t->col_id], &old_row->v[t->col_id], &new_row->v[t->col_id])) {
        ck_err_set(c->err, -CK_EINVAL, "%s.id cannot change", t->name);
        ck_err_detail_str(c->err, "table", t->name);
        ck_err_detail_str(c->err, "column", "id");
        return -CK_EINVAL;
    }
    if (t->col_tenant >= 0 && (given & CK_COL(t->col_tenant)) &&
        !ck_val_eq(&t->cols[t->col_tenant], &old_row->v[t->col_tenant], &new_row->v[t->col_tenant]))
        return ck_err_set(c->err, -CK_EFORBIDDEN, "tenant_id must be the session's tenant");
    return 0;
}

int ck_rows_update(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                   const char *set_p, const char *set_end, uint32_t npairs,
                   int64_t expect_updated_at_ms, const struct ck_update_hook *hook,
                   struct buf *stored)
{
    struct buf copy = BUF_INIT;
    struct ck_row old_row, new_row;
    int rc = get_for_write(c, t, id, false, &copy, &old_row);
    if (rc)
        goto out;
    if (expect_updated_at_ms >= 0 && t->col_updated_at >= 0 &&
        old_row.v[t->col_updated_at].i != expect_updated_at_ms) {
        rc = ck_err_set(c->err, -CK_ECONFLICT, "%s row was changed since it was read", t->name);
        ck_err_detail_str(c->err, "table", t->name);
        goto out;
    }
    new_row = old_row;
    ck_colmask given = 0;
    rc = ck_row_read_map(t, set_p, set_end, npairs, &new_row, &given, hook ? hook->extra : NULL,
                         hook ? hook->arg : NULL, c->err);
    if (rc)
        goto out;
    rc = check_immutable(c, t, &old_row, &new_row, given);
    if (rc)
        goto out;
    /* Server-maintained columns keep their values unless a restore writes them. */
    if (!(c->flags & CK_W_KEEP_META)) {
        int keep[] = {t->col_created_at, t->col_created_by};
        for (unsigned i = 0; i < 2; i++) {
            if (keep[i] >= 0) {
                new_row.v[keep[i]] = old_row.v[keep[i]];
                given &= ~CK_COL(keep[i]);
            }
        }
    }
    if (hook && hook->prepare) {
        rc = hook->prepare(hook->arg, &old_row, &new_row, &given, c->err);
        if (rc)
            goto out;
    }
    rc = ck_rows_replace(c, &old_row, &new_row, given, stored);
out:
    buf_free(&copy);
    return rc;
}

static int set_deleted_at(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                          bool deleted, struct buf *stored)
{
    if (t->col_deleted_at < 0) {
        ck_err_set(c->err, -CK_EBADREQ, "%s has no soft delete (no deleted_at column)", t->name);
        ck_err_detail_str(c->err, "table", t->name);
        return -CK_EBADREQ;
    }
    struct buf copy = BUF_INIT;
    struct ck_row old_row, new_row;
    int rc = get_for_write(c, t, id, true, &copy, &old_row);
    if (rc == 0) {
        new_row = old_row;
        if (deleted)
            set_int(&new_row.v[t->col_deleted_at], c->now_ms);
        else
            new_row.v[t->col_deleted_at].kind = CK_V_NULL;
        rc = ck_rows_replace(c, &old_row, &new_row, CK_COL(t->col_deleted_at), stored);
    }
    buf_free(&copy);
    return rc;
}

int ck_rows_soft_delete(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16])
{
    struct buf stored = BUF_INIT;
    int rc = set_deleted_at(c, t, id, true, &stored);
    buf_free(&stored);
    return rc;
}

int ck_rows_restore(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                    struct buf *stored)
{
    return set_deleted_at(c, t, id, false, stored);
}

int ck_rows_remove(struct ck_ctx *c, const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    const uint8_t *tenant = ck_row_tenant(t, c->tenant);
    int rc = ck_index_delete_row(c->txn, c->kv, tenant, r);
    if (rc)
        return rc;
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, tenant, t->id, r->v[t->col_id].uuid);
    MDB_val k = {sizeof key, key};
    rc = kv_error(mdb_del(c->txn, c->kv->rows, &k, NULL));
    if (rc == 0)
        rc = log_change(c, CK_LOG_DELETE, r, NULL);
    if (rc == 0)
        rc = ck_audit_write(c, r, NULL);
    return rc;
}
