/* Bulk loading into a new environment (bulkload.h). */
#include <stdlib.h>
#include <string.h>

#include "bulkload.h"
#include "fk.h"
#include "index.h"
#include "uuid.h"
#include "validate.h"

/* Commit after this many bytes. With the map grown whenever it is 3/4 full and a
 * map of at least 1 GiB, one transaction can never fill it. */
#define BULK_TXN_BYTES (32u << 20)

static int cycle_txn(struct bulk *b)
{
    int rc = kv_write_commit(b->kv, b->txn);
    b->txn = NULL;
    if (rc)
        return ck_err_set(b->err, rc, "cannot commit: %s", ck_strerror(rc));
    if ((rc = kv_grow_if_needed(b->kv)) != 0)
        return ck_err_set(b->err, rc, "cannot grow the database map: %s", ck_strerror(rc));
    if ((rc = kv_write_begin(b->kv, &b->txn)) != 0)
        return ck_err_set(b->err, rc, "cannot begin a transaction: %s", ck_strerror(rc));
    b->txn_bytes = 0;
    return 0;
}

/* Append one pair; MDB_KEYEXIST when the key does not sort after the last one. */
static int append(struct bulk *b, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                  size_t vlen)
{
    if (b->txn_bytes >= BULK_TXN_BYTES) {
        int rc = cycle_txn(b);
        if (rc)
            return rc;
    }
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    b->txn_bytes += klen + vlen + 16;
    return mdb_put(b->txn, dbi, &key, &val, MDB_APPEND);
}

int bulk_begin(struct bulk *b, struct kv *kv, struct ck_err *err)
{
    memset(b, 0, sizeof *b);
    b->kv = kv;
    b->err = err;
    /* Entries of one table can be appended when it is done if every table's index
     * ids are above the previous table's; otherwise per tenant. */
    b->flush_per_table = true;
    unsigned last = 0;
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        for (unsigned x = 0; x < t->nindexes; x++) {
            if (t->indexes[x].id <= last)
                b->flush_per_table = false;
            last = t->indexes[x].id;
        }
    }
    int rc = kv_write_begin(kv, &b->txn);
    return rc ? ck_err_set(err, rc, "cannot begin a transaction: %s", ck_strerror(rc)) : 0;
}

static int cmp_keys(const void *a, const void *b, void *arg)
{
    const struct bulk_key *x = a, *y = b;
    const char *base = arg;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(base + x->off, base + y->off, n);
    if (c)
        return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

static int flush_keys(struct bulk *b)
{
    if (b->nkeys == 0)
        return 0;
    if (b->arena.oom)
        return ck_err_set(b->err, -CK_ENOMEM, "out of memory collecting index entries");
    qsort_r(b->keys, b->nkeys, sizeof *b->keys, cmp_keys, b->arena.data);
    int rc = 0;
    for (size_t i = 0; i < b->nkeys && rc == 0; i++) {
        const struct bulk_key *k = &b->keys[i];
        const char *kd = b->arena.data + k->off;
        if (i > 0 && k->check_unique) {
            const struct bulk_key *p = &b->keys[i - 1];
            if (p->check_unique && p->cols_len == k->cols_len &&
                !memcmp(b->arena.data + p->off, kd, k->cols_len)) {
                const struct ck_table *t;
                unsigned id = (unsigned)(uint8_t)kd[16] << 8 | (uint8_t)kd[17];
                const struct ck_index *ix = ck_index_by_id(id, &t);
                char a[37], c[37];
                ck_uuid_format((const uint8_t *)b->arena.data + p->off + p->cols_len, a);
                ck_uuid_format((const uint8_t *)kd + k->cols_len, c);
                return ck_err_set(b->err, -CK_EUNIQUE,
                                  "unique key %s of %s: rows %s and %s hold the same value",
                                  ix ? ix->name : "?", t ? t->name : "?", a, c);
            }
        }
        int mrc = append(b, b->kv->idx, kd, k->len, "", 0);
        if (mrc == MDB_KEYEXIST)
            rc = ck_err_set(b->err, -CK_EINTERNAL, "index entries out of order");
        else if (mrc > 0)
            rc = ck_err_set(b->err, kv_error(mrc), "cannot write an index entry: %s",
                            mdb_strerror(mrc));
        else
            rc = mrc;
    }
    b->nkeys = 0;
    buf_reset(&b->arena);
    return rc;
}

static int fk_missing(struct bulk *b, const struct ck_table *t, const struct ck_fk *fk,
                      const uint8_t id[16])
{
    char s[37];
    ck_uuid_format(id, s);
    return ck_err_set(b->err, -CK_EFK,
                      "foreign key %s: %s row %s points at a %s row that is not in the dump",
                      fk->name, t->name, s, ck_catalog.tables[fk->parent_table].name);
}

/* The end of a key prefix: its index entries, and the references that had to wait
 * for the whole tenant. */
static int end_tenant(struct bulk *b)
{
    int rc = flush_keys(b);
    for (size_t i = 0; i < b->nfks && rc == 0; i++) {
        const struct bulk_fk *d = &b->fks[i];
        const struct ck_table *t = &ck_catalog.tables[d->table];
        const struct ck_fk *fk = &t->fks[d->fk];
        int e = ck_row_exists(b->txn, b->kv, b->tenant, &ck_catalog.tables[fk->parent_table],
                              d->parent);
        if (e < 0)
            rc = ck_err_set(b->err, e, "cannot read: %s", ck_strerror(e));
        else if (e == 0)
            rc = fk_missing(b, t, fk, d->id);
    }
    b->nfks = 0;
    return rc;
}

static int defer_fk(struct bulk *b, const struct ck_table *t, unsigned fk, const uint8_t id[16],
                    const uint8_t parent[16])
{
    if (b->nfks == b->cap_fks) {
        size_t cap = b->cap_fks ? b->cap_fks * 2 : 1024;
        struct bulk_fk *n = realloc(b->fks, cap * sizeof *n);
        if (!n)
            return ck_err_set(b->err, -CK_ENOMEM, "out of memory");
        b->fks = n;
        b->cap_fks = cap;
    }
    struct bulk_fk *d = &b->fks[b->nfks++];
    d->table = (uint16_t)ck_table_index(t);
    d->fk = (uint16_t)fk;
    memcpy(d->id, id, 16);
    memcpy(d->parent, parent, 16);
    return 0;
}

static int check_fks(struct bulk *b, const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    const uint8_t *id = r->v[t->col_id].uuid;
    for (unsigned i = 0; i < t->nfks; i++) {
        const struct ck_fk *fk = &t->fks[i];
        const struct ck_val *v = &r->v[fk->column];
        if (v->kind == CK_V_NULL)
            continue;
        if (v->kind != CK_V_UUID)
            return ck_err_set(b->err, -CK_EINVAL, "%s.%s holds a value that is not an id", t->name,
                              t->cols[fk->column].name);
        if (fk->parent_table >= ck_table_index(t)) {
            int rc = defer_fk(b, t, i, id, v->uuid);
            if (rc)
                return rc;
            continue;
        }
        int e =
            ck_row_exists(b->txn, b->kv, b->tenant, &ck_catalog.tables[fk->parent_table], v->uuid);
        if (e < 0)
            return ck_err_set(b->err, e, "cannot read: %s", ck_strerror(e));
        if (e == 0)
            return fk_missing(b, t, fk, id);
    }
    return 0;
}

static int collect_keys(struct bulk *b, const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    for (unsigned i = 0; i < t->nindexes; i++) {
        const struct ck_index *ix = &t->indexes[i];
        bool any_null;
        size_t cols_len;
        int rc = ck_index_entry_key(&b->key, b->tenant, ix, r, &any_null, &cols_len);
        if (rc)
            return ck_err_set(b->err, rc, "cannot build an index entry of %s", ix->name);
        if (b->nkeys == b->cap_keys) {
            size_t cap = b->cap_keys ? b->cap_keys * 2 : 4096;
            struct bulk_key *n = realloc(b->keys, cap * sizeof *n);
            if (!n)
                return ck_err_set(b->err, -CK_ENOMEM, "out of memory");
            b->keys = n;
            b->cap_keys = cap;
        }
        struct bulk_key *k = &b->keys[b->nkeys++];
        k->off = b->arena.len;
        k->len = (uint16_t)b->key.len;
        k->cols_len = (uint16_t)cols_len;
        k->check_unique = ix->unique && !any_null;
        buf_append(&b->arena, b->key.data, b->key.len);
    }
    return b->arena.oom ? ck_err_set(b->err, -CK_ENOMEM, "out of memory") : 0;
}

int bulk_row(struct bulk *b, const struct ck_table *t, const uint8_t tenant[16], const void *row,
             size_t len)
{
    int rc;
    if (!b->have_tenant || memcmp(tenant, b->tenant, 16) != 0) {
        if (b->have_tenant && (rc = end_tenant(b)) != 0)
            return rc;
        b->have_tenant = true;
        memcpy(b->tenant, tenant, 16);
        b->table = NULL;
    } else if (t != b->table && b->flush_per_table && (rc = flush_keys(b)) != 0) {
        return rc;
    }
    b->table = t;
    struct ck_row r;
    if (ck_row_decode(t, row, len, &r) != 0)
        return ck_err_set(b->err, -CK_EINVAL, "a %s row does not decode", t->name);
    if (r.v[t->col_id].kind != CK_V_UUID)
        return ck_err_set(b->err, -CK_EINVAL, "a %s row without an id", t->name);
    char id[37];
    ck_uuid_format(r.v[t->col_id].uuid, id);
    bool system = memcmp(tenant, kv_system_tenant, 16) == 0;
    if (t->col_tenant < 0 ? !system
                          : system || r.v[t->col_tenant].kind != CK_V_UUID ||
                                memcmp(r.v[t->col_tenant].uuid, tenant, 16) != 0)
        return ck_err_set(b->err, -CK_EINVAL, "%s row %s is filed under another tenant", t->name,
                          id);
    if ((rc = ck_row_check_not_null(&r, b->err)) != 0 ||
        (rc = ck_row_check_constraints(&r, b->err)) != 0) {
        char msg[sizeof b->err->message];
        snprintf(msg, sizeof msg, "%s", b->err->message);
        return ck_err_set(b->err, rc, "%s row %s: %s", t->name, id, msg);
    }
    if ((rc = check_fks(b, &r)) != 0)
        return rc;
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, tenant, t->id, r.v[t->col_id].uuid);
    int mrc = append(b, b->kv->rows, key, sizeof key, row, len);
    if (mrc == MDB_KEYEXIST)
        return ck_err_set(b->err, -CK_EUNIQUE, "%s row %s comes twice, or out of order", t->name,
                          id);
    if (mrc > 0)
        return ck_err_set(b->err, kv_error(mrc), "cannot write a row: %s", mdb_strerror(mrc));
    if (mrc < 0)
        return mrc;
    b->rows++;
    return collect_keys(b, &r);
}

int bulk_finish(struct bulk *b)
{
    int rc = b->have_tenant ? end_tenant(b) : 0;
    if (rc)
        return rc;
    rc = kv_write_commit(b->kv, b->txn);
    b->txn = NULL;
    return rc ? ck_err_set(b->err, rc, "cannot commit: %s", ck_strerror(rc)) : 0;
}

void bulk_free(struct bulk *b)
{
    if (b->txn)
        mdb_txn_abort(b->txn);
    b->txn = NULL;
    buf_free(&b->arena);
    buf_free(&b->key);
    free(b->keys);
    free(b->fks);
    b->keys = NULL;
    b->fks = NULL;
}
