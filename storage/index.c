/* Secondary index maintenance and unique constraints. */
#include <string.h>

#include "collate.h"
#include "index.h"
#include "keycodec.h"

/* Bytes available for the encoded columns of an entry. */
#define COLS_BUDGET (CK_KEY_MAX - KV_TENANT_LEN - 2 - KV_ID_LEN)
/* Encoded size of a fixed-width value: tag + 16 bytes at most. */
#define FIXED_MAX 17
/* What kc_put_string adds beyond max_bytes at most: tag, marker, hash. */
#define STRING_OVERHEAD (1 + 2 + 16)

static bool is_string_type(unsigned type)
{
    return type == CK_T_VARCHAR || type == CK_T_CHAR || type == CK_T_TEXT;
}

/* The prefix budget of each string column of an index, so that any entry fits. */
static size_t string_budget(const struct ck_table *t, const struct ck_index *ix)
{
    size_t fixed = 0, nstr = 0;
    for (unsigned i = 0; i < ix->ncols; i++) {
        unsigned c = ix->cols[i];
        if ((int)c == t->col_tenant)
            continue;
        if (is_string_type(t->cols[c].type))
            nstr++;
        else
            fixed += FIXED_MAX;
    }
    if (nstr == 0)
        return 0;
    return (COLS_BUDGET - fixed) / nstr - STRING_OVERHEAD;
}

int ck_index_put_value(struct buf *key, const struct ck_table *t, const struct ck_index *ix,
                       unsigned col, const struct ck_val *v, bool desc)
{
    enum kc_dir d = desc ? KC_DESC : KC_ASC;
    const struct ck_column *c = &t->cols[col];
    if (v->kind == CK_V_NULL) {
        kc_put_nil(key, d);
        return 0;
    }
    switch (c->type) {
    case CK_T_UUID: kc_put_uuid(key, v->uuid, d); return 0;
    case CK_T_VARCHAR:
    case CK_T_CHAR:
    case CK_T_TEXT: {
        /* Collation keys of short strings are built on the stack. */
        char small[512];
        struct buf tmp;
        buf_init_borrowed(&tmp, small, sizeof small);
        int rc = ck_collate_key(v->p, v->len, &tmp);
        if (rc == 0)
            kc_put_string(key, tmp.data, tmp.len, string_budget(t, ix), d);
        buf_free(&tmp);
        return rc;
    }
    case CK_T_BOOL: kc_put_bool(key, v->i != 0, d); return 0;
    case CK_T_TIMESTAMP: kc_put_timestamp(key, v->i, d); return 0;
    case CK_T_DATE: kc_put_date(key, (int32_t)v->i, d); return 0;
    case CK_T_INT:
    case CK_T_DECIMAL:
    case CK_T_ENUM: kc_put_int(key, v->i, d); return 0;
    default: return -CK_EINVAL; /* JSON and BLOB columns are never indexed */
    }
}

void ck_index_put_prefix(struct buf *key, const uint8_t tenant[16], const struct ck_index *ix)
{
    uint8_t id[2] = {(uint8_t)(ix->id >> 8), (uint8_t)ix->id};
    buf_append(key, tenant, 16);
    buf_append(key, id, 2);
}

int ck_index_entry_key(struct buf *key, const uint8_t tenant[16], const struct ck_index *ix,
                       const struct ck_row *r, bool *any_null_out, size_t *cols_len_out)
{
    const struct ck_table *t = r->t;
    bool any_null = false;
    buf_reset(key);
    ck_index_put_prefix(key, tenant, ix);
    for (unsigned i = 0; i < ix->ncols; i++) {
        unsigned c = ix->cols[i];
        if ((int)c == t->col_tenant)
            continue;
        any_null |= r->v[c].kind == CK_V_NULL;
        int rc = ck_index_put_value(key, t, ix, c, &r->v[c], false);
        if (rc)
            return rc;
    }
    *cols_len_out = key->len;
    buf_append(key, r->v[t->col_id].uuid, 16);
    *any_null_out = any_null;
    return key->oom ? -CK_ENOMEM : 0;
}

static int unique_violation(struct ck_err *err, const struct ck_table *t, const struct ck_index *ix)
{
    const char *cols[CK_INDEX_MAX_COLS];
    for (unsigned i = 0; i < ix->ncols; i++)
        cols[i] = t->cols[ix->cols[i]].name;
    ck_err_set(err, -CK_EUNIQUE, "duplicate key for %s on %s", ix->name, t->name);
    ck_err_detail_str(err, "table", t->name);
    ck_err_detail_str(err, "constraint", ix->name);
    ck_err_detail_strs(err, "columns", cols, ix->ncols);
    return -CK_EUNIQUE;
}

/* Is there an entry with the same columns (key[0..cols_len)) but another row id? */
static int unique_check(MDB_txn *txn, struct kv *kv, const struct buf *key, size_t cols_len,
                        const struct ck_table *t, const struct ck_index *ix, struct ck_err *err)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, kv->idx, &cur);
    if (rc)
        return kv_error(rc);
    MDB_val k = {cols_len, key->data}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    int out = 0;
    while (rc == 0 && k.mv_size == cols_len + KV_ID_LEN &&
           memcmp(k.mv_data, key->data, cols_len) == 0) {
        if (memcmp((char *)k.mv_data + cols_len, key->data + cols_len, KV_ID_LEN) != 0) {
            out = unique_violation(err, t, ix);
            break;
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (rc && rc != MDB_NOTFOUND && out == 0)
        out = kv_error(rc);
    mdb_cursor_close(cur);
    return out;
}

static int put_entry(MDB_txn *txn, struct kv *kv, const struct buf *key)
{
    MDB_val k = {key->len, key->data}, v = {0, ""};
    return kv_error(mdb_put(txn, kv->idx, &k, &v, 0));
}

static int del_entry(MDB_txn *txn, struct kv *kv, const struct buf *key)
{
    MDB_val k = {key->len, key->data};
    int rc = mdb_del(txn, kv->idx, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : kv_error(rc);
}

int ck_index_insert_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                        const struct ck_row *r, struct ck_err *err)
{
    const struct ck_table *t = r->t;
    struct buf key = BUF_INIT;
    int rc = 0;
    /* Check every unique key before writing anything, so a refusal writes nothing. */
    for (unsigned i = 0; i < t->nindexes && rc == 0; i++) {
        const struct ck_index *ix = &t->indexes[i];
        bool any_null;
        size_t cols_len;
        if (!ix->unique)
            continue;
        rc = ck_index_entry_key(&key, tenant, ix, r, &any_null, &cols_len);
        if (rc == 0 && !any_null)
            rc = unique_check(txn, kv, &key, cols_len, t, ix, err);
    }
    for (unsigned i = 0; i < t->nindexes && rc == 0; i++) {
        bool any_null;
        size_t cols_len;
        rc = ck_index_entry_key(&key, tenant, &t->indexes[i], r, &any_null, &cols_len);
        if (rc == 0)
            rc = put_entry(txn, kv, &key);
    }
    buf_free(&key);
    return rc;
}

int ck_index_update_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                        const struct ck_row *old_row, const struct ck_row *new_row,
                        struct ck_err *err)
{
    const struct ck_table *t = new_row->t;
    struct buf okey = BUF_INIT, nkey = BUF_INIT;
    int rc = 0;
    bool moved[64] = {false};
    for (unsigned i = 0; i < t->nindexes && rc == 0; i++) {
        const struct ck_index *ix = &t->indexes[i];
        bool onull, nnull;
        size_t olen, nlen;
        rc = ck_index_entry_key(&okey, tenant, ix, old_row, &onull, &olen);
        if (rc == 0)
            rc = ck_index_entry_key(&nkey, tenant, ix, new_row, &nnull, &nlen);
        if (rc)
            break;
        moved[i] = okey.len != nkey.len || memcmp(okey.data, nkey.data, okey.len) != 0;
        if (moved[i] && ix->unique && !nnull)
            rc = unique_check(txn, kv, &nkey, nlen, t, ix, err);
    }
    for (unsigned i = 0; i < t->nindexes && rc == 0; i++) {
        if (!moved[i])
            continue;
        const struct ck_index *ix = &t->indexes[i];
        bool any_null;
        size_t cols_len;
        rc = ck_index_entry_key(&okey, tenant, ix, old_row, &any_null, &cols_len);
        if (rc == 0)
            rc = del_entry(txn, kv, &okey);
        if (rc == 0)
            rc = ck_index_entry_key(&nkey, tenant, ix, new_row, &any_null, &cols_len);
        if (rc == 0)
            rc = put_entry(txn, kv, &nkey);
    }
    buf_free(&okey);
    buf_free(&nkey);
    return rc;
}

int ck_index_delete_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                        const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    struct buf key = BUF_INIT;
    int rc = 0;
    for (unsigned i = 0; i < t->nindexes && rc == 0; i++) {
        bool any_null;
        size_t cols_len;
        rc = ck_index_entry_key(&key, tenant, &t->indexes[i], r, &any_null, &cols_len);
        if (rc == 0)
            rc = del_entry(txn, kv, &key);
    }
    buf_free(&key);
    return rc;
}

int ck_index_find_unique(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                         const struct ck_table *t, const struct ck_index *ix,
                         const struct ck_val *vals, uint8_t id_out[16])
{
    struct buf key = BUF_INIT;
    ck_index_put_prefix(&key, tenant, ix);
    int rc = 0;
    for (unsigned i = 0; i < ix->ncols && rc == 0; i++) {
        if ((int)ix->cols[i] == t->col_tenant)
            continue;
        rc = ck_index_put_value(&key, t, ix, ix->cols[i], &vals[i], false);
    }
    if (rc == 0 && key.oom)
        rc = -CK_ENOMEM;
    MDB_cursor *cur = NULL;
    if (rc == 0)
        rc = kv_error(mdb_cursor_open(txn, kv->idx, &cur));
    if (rc == 0) {
        MDB_val k = {key.len, key.data}, v;
        int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (mrc == 0 && k.mv_size == key.len + KV_ID_LEN &&
            memcmp(k.mv_data, key.data, key.len) == 0)
            memcpy(id_out, (const char *)k.mv_data + key.len, KV_ID_LEN);
        else
            rc = mrc && mrc != MDB_NOTFOUND ? kv_error(mrc) : -CK_ENOTFOUND;
        mdb_cursor_close(cur);
    }
    buf_free(&key);
    return rc;
}
