/* Foreign key checks on insert and update. */
#include <string.h>

#include "fk.h"
#include "index.h"

int ck_row_exists(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16], const struct ck_table *t,
                  const uint8_t id[16])
{
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, ck_row_tenant(t, tenant), t->id, id);
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_get(txn, kv->rows, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    return rc ? kv_error(rc) : 1;
}

/* Is parent row id of table t in the clinic scope? 1 yes, 0 no (or absent), <0 error. */
static int parent_in_scope(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                           const uint8_t clinic[16], const struct ck_table *t, const uint8_t id[16])
{
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, ck_row_tenant(t, tenant), t->id, id);
    MDB_val k = {sizeof key, key}, v;
    int rc = mdb_get(txn, kv->rows, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return kv_error(rc);
    struct ck_row r;
    rc = ck_row_decode(t, v.mv_data, v.mv_size, &r);
    if (rc)
        return rc;
    const struct ck_val *cv = &r.v[ck_table_clinic_col(t)];
    /* A parent without a clinic (a tenant-wide user) is visible to every clinic; a
     * clinics row is its own clinic. */
    return cv->kind != CK_V_UUID || memcmp(cv->uuid, clinic, 16) == 0;
}

int ck_fk_check_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16], const uint8_t *clinic,
                    const struct ck_row *r, ck_colmask cols, struct ck_err *err)
{
    const struct ck_table *t = r->t;
    for (unsigned i = 0; i < t->nfks; i++) {
        const struct ck_fk *fk = &t->fks[i];
        const struct ck_val *v = &r->v[fk->column];
        if (!(cols & CK_COL(fk->column)) || v->kind == CK_V_NULL)
            continue;
        const struct ck_table *parent = &ck_catalog.tables[fk->parent_table];
        if (parent == t && memcmp(v->uuid, r->v[t->col_id].uuid, 16) == 0)
            continue;
        int rc = clinic && ck_table_clinic_col(parent) >= 0
                     ? parent_in_scope(txn, kv, tenant, clinic, parent, v->uuid)
                     : ck_row_exists(txn, kv, tenant, parent, v->uuid);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            ck_err_set(err, -CK_EFK, "%s.%s: no such %s row (%s)", t->name,
                       t->cols[fk->column].name, parent->name, fk->name);
            ck_err_detail_str(err, "table", t->name);
            ck_err_detail_str(err, "constraint", fk->name);
            ck_err_detail_str(err, "column", t->cols[fk->column].name);
            ck_err_detail_str(err, "parent_table", parent->name);
            return -CK_EFK;
        }
    }
    return 0;
}
