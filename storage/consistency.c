/* The consistency checker: rows against the catalog, and rows against index entries. */
#include <stdio.h>
#include <string.h>

#include "collate.h"
#include "consistency.h"
#include "fk.h"
#include "index.h"
#include "row.h"
#include "timeval.h"
#include "uuid.h"
#include "validate.h"

struct checker {
    struct kv *kv;
    MDB_txn *txn;
    const struct ck_consistency_opts *opts;
    struct ck_consistency_stats *st;
    struct ck_err *err;
    MDB_cursor *probe; /* an idx cursor kept open for the unique lookups */
    struct buf key;    /* entry keys being built */
};

static void report(struct checker *k, const struct ck_problem *p)
{
    k->st->problems++;
    if (k->opts && k->opts->report)
        k->opts->report(k->opts->arg, p);
}

/* A problem about one row. */
static void row_problem(struct checker *k, enum ck_problem_kind kind, const struct ck_table *t,
                        const uint8_t tenant[16], const uint8_t id[16], const char *constraint,
                        const char *column)
{
    struct ck_problem p = {.kind = kind, .table = t, .constraint = constraint, .column = column};
    if (tenant) {
        p.has_tenant = true;
        memcpy(p.tenant, tenant, 16);
    }
    if (id) {
        p.has_id = true;
        memcpy(p.id, id, 16);
    }
    report(k, &p);
}

/* ------------------------------------------------------------------ values */

static bool is_system(const uint8_t tenant[16])
{
    return memcmp(tenant, kv_system_tenant, 16) == 0;
}

/* 10^n for n <= 18. */
static int64_t pow10_i64(unsigned n)
{
    int64_t v = 1;
    while (n--)
        v *= 10;
    return v;
}

/* Does the decoded value fit its column as the write path would have stored it? */
static bool value_fits(const struct ck_column *c, const struct ck_val *v)
{
    size_t chars;
    if (v->kind == CK_V_NULL)
        return true; /* NOT NULL is its own problem */
    switch (c->type) {
    case CK_T_UUID: return v->kind == CK_V_UUID;
    case CK_T_VARCHAR:
    case CK_T_CHAR:
        return v->kind == CK_V_STR && ck_utf8_valid(v->p, v->len, &chars) && chars <= c->length;
    case CK_T_TEXT:
        return v->kind == CK_V_STR && v->len <= c->length && ck_utf8_valid(v->p, v->len, NULL);
    case CK_T_INT: return v->kind == CK_V_INT && v->i >= c->min && v->i <= c->max;
    case CK_T_BOOL: return v->kind == CK_V_INT && (v->i == 0 || v->i == 1);
    case CK_T_DECIMAL: {
        int64_t lim = pow10_i64(c->precision);
        return v->kind == CK_V_INT && v->i < lim && v->i > -lim;
    }
    case CK_T_DATE:
        return v->kind == CK_V_INT && v->i >= CK_DATE_MIN_DAYS && v->i <= CK_DATE_MAX_DAYS;
    case CK_T_TIMESTAMP: return v->kind == CK_V_INT && ck_ts_in_mysql_range(v->i);
    case CK_T_ENUM: return v->kind == CK_V_INT && v->i >= 1 && v->i <= c->n_enum;
    case CK_T_JSON: return v->kind == CK_V_JSON;
    case CK_T_BLOB: return v->kind == CK_V_BIN;
    case CK_T_VARBINARY: return v->kind == CK_V_BIN && v->len <= c->length;
    default: return false;
    }
}

/*
 * Evaluate CHECK i of the row's table alone. ck_row_check_constraints() stops
 * at the first false CHECK; the checker wants every one, so it evaluates each
 * through a copy of the table that holds only that CHECK.
 */
static bool check_holds(const struct ck_row *row, unsigned i)
{
    struct ck_table one = *row->t;
    one.nchecks = 1;
    one.checks = &row->t->checks[i];
    struct ck_row r = *row;
    r.t = &one;
    struct ck_err err = CK_ERR_INIT;
    int rc = ck_row_check_constraints(&r, &err);
    ck_err_free(&err);
    return rc == 0;
}

/* ------------------------------------------------------------------ one row */

/* Unique index ix: does another row hold the key in k->key[0..cols_len)? */
static int check_unique(struct checker *k, const struct ck_table *t, const struct ck_index *ix,
                        const uint8_t tenant[16], const uint8_t id[16], size_t cols_len)
{
    MDB_val key = {cols_len, k->key.data}, val;
    int rc = mdb_cursor_get(k->probe, &key, &val, MDB_SET_RANGE);
    while (rc == 0 && key.mv_size == cols_len + KV_ID_LEN &&
           memcmp(key.mv_data, k->key.data, cols_len) == 0) {
        const uint8_t *other = (const uint8_t *)key.mv_data + cols_len;
        /* Each pair once: from the row with the greater id. */
        if (memcmp(other, id, KV_ID_LEN) < 0) {
            struct ck_problem p = {.kind = CK_PROB_UNIQUE,
                                   .table = t,
                                   .constraint = ix->name,
                                   .has_tenant = true,
                                   .has_id = true,
                                   .has_other = true};
            memcpy(p.tenant, tenant, 16);
            memcpy(p.id, id, 16);
            memcpy(p.other_id, other, 16);
            report(k, &p);
        }
        rc = mdb_cursor_get(k->probe, &key, &val, MDB_NEXT);
    }
    k->st->unique_checked++;
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : kv_error(rc);
}

/* Every check of one decoded row whose values all fit their columns. */
static int check_row_constraints(struct checker *k, const struct ck_row *r,
                                 const uint8_t tenant[16], const uint8_t id[16])
{
    const struct ck_table *t = r->t;
    for (unsigned i = 0; i < t->nchecks; i++) {
        k->st->checks_evaluated++;
        if (!check_holds(r, i))
            row_problem(k, CK_PROB_CHECK, t, tenant, id, t->checks[i].name, NULL);
    }
    for (unsigned i = 0; i < t->nfks; i++) {
        const struct ck_fk *fk = &t->fks[i];
        const struct ck_val *v = &r->v[fk->column];
        if (v->kind != CK_V_UUID)
            continue;
        const struct ck_table *parent = &ck_catalog.tables[fk->parent_table];
        k->st->fks_checked++;
        if (parent == t && memcmp(v->uuid, id, 16) == 0)
            continue; /* a row may name itself (amended_from, parent_id) */
        int rc = ck_row_exists(k->txn, k->kv, tenant, parent, v->uuid);
        if (rc < 0)
            return rc;
        if (rc == 0) {
            struct ck_problem p = {.kind = CK_PROB_FK,
                                   .table = t,
                                   .constraint = fk->name,
                                   .column = t->cols[fk->column].name,
                                   .parent_table = parent->name,
                                   .has_tenant = true,
                                   .has_id = true};
            memcpy(p.tenant, tenant, 16);
            memcpy(p.id, id, 16);
            report(k, &p);
        }
    }
    /* Entries live under the row's own prefix: the system prefix for global tables. */
    for (unsigned i = 0; i < t->nindexes; i++) {
        const struct ck_index *ix = &t->indexes[i];
        bool any_null;
        size_t cols_len;
        int rc = ck_index_entry_key(&k->key, tenant, ix, r, &any_null, &cols_len);
        if (rc == -CK_ENOMEM)
            return ck_err_set(k->err, rc, "out of memory");
        if (rc)
            continue; /* an unencodable value, already reported as a bad value */
        MDB_val key = {k->key.len, k->key.data}, val;
        rc = mdb_get(k->txn, k->kv->idx, &key, &val);
        if (rc == MDB_NOTFOUND) {
            row_problem(k, CK_PROB_ENTRY_MISSING, t, tenant, id, ix->name, NULL);
            continue;
        }
        if (rc)
            return kv_error(rc);
        k->st->entries_verified++;
        if (ix->unique && !any_null) {
            rc = check_unique(k, t, ix, tenant, id, cols_len);
            if (rc)
                return rc;
        }
    }
    return 0;
}

static int check_row(struct checker *k, const MDB_val *key, const MDB_val *val)
{
    const uint8_t *kb = key->mv_data;
    if (key->mv_size != KV_ROW_KEY_LEN) {
        row_problem(k, CK_PROB_ROW_KEY, NULL, key->mv_size >= 16 ? kb : NULL, NULL, NULL, NULL);
        return 0;
    }
    const uint8_t *tenant = kb, *id = kb + 17;
    const struct ck_table *t = ck_table_by_id(kb[16]);
    if (!t) {
        row_problem(k, CK_PROB_ROW_KEY, NULL, tenant, id, NULL, NULL);
        return 0;
    }
    k->st->rows[ck_table_index(t)]++;
    k->st->rows_total++;
    if ((t->col_tenant < 0) != is_system(tenant))
        row_problem(k, CK_PROB_ROW_TENANT, t, tenant, id, NULL, NULL);

    struct ck_row r;
    if (ck_row_decode(t, val->mv_data, val->mv_size, &r) != 0) {
        row_problem(k, CK_PROB_ROW_DECODE, t, tenant, id, NULL, NULL);
        return 0;
    }
    const struct ck_val *idv = &r.v[t->col_id];
    bool id_ok = idv->kind == CK_V_UUID && memcmp(idv->uuid, id, 16) == 0;
    if (!id_ok)
        row_problem(k, CK_PROB_ROW_ID, t, tenant, id, NULL, t->cols[t->col_id].name);
    if (t->col_tenant >= 0) {
        const struct ck_val *tv = &r.v[t->col_tenant];
        if (tv->kind != CK_V_UUID || memcmp(tv->uuid, tenant, 16) != 0)
            row_problem(k, CK_PROB_ROW_TENANT, t, tenant, id, NULL, t->cols[t->col_tenant].name);
    }
    bool fits = true;
    for (unsigned i = 0; i < t->ncols; i++) {
        const struct ck_column *c = &t->cols[i];
        if (!value_fits(c, &r.v[i])) {
            row_problem(k, CK_PROB_VALUE, t, tenant, id, NULL, c->name);
            fits = false;
        } else if (!c->nullable && r.v[i].kind == CK_V_NULL) {
            row_problem(k, CK_PROB_NOT_NULL, t, tenant, id, NULL, c->name);
        }
    }
    /* CHECKs, FKs and index keys read values by their column's type: only a row
     * whose every value fits can be taken further without reading nonsense. Entry
     * keys end in the id column, so a row that disagrees with its key about its
     * id has no entries to look for either. */
    if (!fits || !id_ok)
        return 0;
    return check_row_constraints(k, &r, tenant, id);
}

/* ------------------------------------------------------------------ one index entry */

static int check_entry(struct checker *k, const MDB_val *key)
{
    const uint8_t *kb = key->mv_data;
    if (key->mv_size < KV_TENANT_LEN + 2 + KV_ID_LEN) {
        row_problem(k, CK_PROB_ENTRY_KEY, NULL, key->mv_size >= 16 ? kb : NULL, NULL, NULL, NULL);
        return 0;
    }
    const uint8_t *tenant = kb, *id = kb + key->mv_size - KV_ID_LEN;
    const struct ck_table *t;
    const struct ck_index *ix = ck_index_by_id((unsigned)kb[16] << 8 | kb[17], &t);
    if (!ix) {
        row_problem(k, CK_PROB_ENTRY_KEY, NULL, tenant, id, NULL, NULL);
        return 0;
    }
    k->st->entries_total++;
    if (ix->id <= CK_CONSISTENCY_MAX_INDEX_ID)
        k->st->entries[ix->id]++;

    uint8_t rkey[KV_ROW_KEY_LEN];
    kv_row_key(rkey, tenant, t->id, id);
    MDB_val rk = {sizeof rkey, rkey}, rv;
    int rc = mdb_get(k->txn, k->kv->rows, &rk, &rv);
    if (rc == MDB_NOTFOUND) {
        row_problem(k, CK_PROB_ENTRY_STRAY, t, tenant, id, ix->name, NULL);
        return 0;
    }
    if (rc)
        return kv_error(rc);
    struct ck_row r;
    if (ck_row_decode(t, rv.mv_data, rv.mv_size, &r) != 0)
        return 0; /* reported by the rows pass */
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!value_fits(&t->cols[i], &r.v[i]))
            return 0; /* likewise */
    }
    const struct ck_val *idv = &r.v[t->col_id];
    if (idv->kind != CK_V_UUID || memcmp(idv->uuid, id, 16) != 0)
        return 0; /* likewise */
    bool any_null;
    size_t cols_len;
    rc = ck_index_entry_key(&k->key, tenant, ix, &r, &any_null, &cols_len);
    if (rc == -CK_ENOMEM)
        return ck_err_set(k->err, rc, "out of memory");
    if (rc == 0 &&
        (k->key.len != key->mv_size || memcmp(k->key.data, key->mv_data, key->mv_size) != 0))
        row_problem(k, CK_PROB_ENTRY_STRAY, t, tenant, id, ix->name, NULL);
    return 0;
}

/* ------------------------------------------------------------------ the passes */

/* Walk db from prefix (plen bytes; 0: everything) calling fn for each pair. */
static int walk(struct checker *k, MDB_dbi dbi, const uint8_t *prefix, size_t plen,
                int (*fn)(struct checker *k, const MDB_val *key, const MDB_val *val))
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(k->txn, dbi, &cur);
    if (rc)
        return ck_err_set(k->err, kv_error(rc), "cannot read: %s", mdb_strerror(rc));
    MDB_val key = {plen, (void *)prefix}, val;
    rc = mdb_cursor_get(cur, &key, &val, plen ? MDB_SET_RANGE : MDB_FIRST);
    int out = 0;
    while (rc == 0) {
        if (plen && (key.mv_size < plen || memcmp(key.mv_data, prefix, plen) != 0))
            break;
        out = fn(k, &key, &val);
        if (out)
            break;
        rc = mdb_cursor_get(cur, &key, &val, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (out)
        return out;
    if (rc && rc != MDB_NOTFOUND)
        return ck_err_set(k->err, kv_error(rc), "cannot read: %s", mdb_strerror(rc));
    return 0;
}

static int entry_fn(struct checker *k, const MDB_val *key, const MDB_val *val)
{
    (void)val;
    return check_entry(k, key);
}

/* One tenant's own row in `tenants` (under the system prefix) and its entries. */
static int check_tenant_row(struct checker *k, const uint8_t tenant[16])
{
    const struct ck_table *tenants = NULL;
    for (unsigned i = 0; i < ck_catalog.ntables && !tenants; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        if (t->col_tenant < 0 && t->nrefs > 0)
            tenants = t;
    }
    if (!tenants)
        return 0;
    uint8_t rkey[KV_ROW_KEY_LEN];
    kv_row_key(rkey, kv_system_tenant, tenants->id, tenant);
    MDB_val key = {sizeof rkey, rkey}, val;
    int rc = mdb_get(k->txn, k->kv->rows, &key, &val);
    if (rc == MDB_NOTFOUND)
        return 0; /* the key space's rows report their tenant_id FK */
    if (rc)
        return ck_err_set(k->err, kv_error(rc), "cannot read: %s", mdb_strerror(rc));
    return check_row(k, &key, &val);
}

int ck_consistency_check(struct kv *kv, MDB_txn *txn, const struct ck_consistency_opts *opts,
                         struct ck_consistency_stats *out, struct ck_err *err)
{
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        for (unsigned j = 0; j < t->nindexes; j++) {
            if (t->indexes[j].id > CK_CONSISTENCY_MAX_INDEX_ID)
                return ck_err_set(err, -CK_EINTERNAL, "index id %u over the checker's limit",
                                  t->indexes[j].id);
        }
    }
    memset(out, 0, sizeof *out);
    struct checker k = {.kv = kv, .txn = txn, .opts = opts, .st = out, .err = err, .key = BUF_INIT};
    int rc = mdb_cursor_open(txn, kv->idx, &k.probe);
    if (rc)
        return ck_err_set(err, kv_error(rc), "cannot read: %s", mdb_strerror(rc));
    const uint8_t *tenant = opts ? opts->tenant : NULL;
    size_t plen = tenant ? KV_TENANT_LEN : 0;
    if (tenant)
        rc = check_tenant_row(&k, tenant);
    if (rc == 0)
        rc = walk(&k, kv->rows, tenant, plen, check_row);
    if (rc == 0)
        rc = walk(&k, kv->idx, tenant, plen, entry_fn);
    mdb_cursor_close(k.probe);
    buf_free(&k.key);
    return rc;
}

/* ------------------------------------------------------------------ reporting */

const char *ck_problem_kind_name(enum ck_problem_kind kind)
{
    switch (kind) {
    case CK_PROB_ROW_KEY: return "bad_row_key";
    case CK_PROB_ROW_DECODE: return "bad_row";
    case CK_PROB_ROW_ID: return "wrong_id";
    case CK_PROB_ROW_TENANT: return "wrong_tenant";
    case CK_PROB_VALUE: return "invalid_value";
    case CK_PROB_NOT_NULL: return "not_null_violation";
    case CK_PROB_CHECK: return "check_violation";
    case CK_PROB_FK: return "fk_violation";
    case CK_PROB_UNIQUE: return "unique_violation";
    case CK_PROB_ENTRY_MISSING: return "missing_entry";
    case CK_PROB_ENTRY_STRAY: return "stray_entry";
    case CK_PROB_ENTRY_KEY: return "bad_entry_key";
    }
    return "unknown";
}

int ck_problem_format(const struct ck_problem *p, char *out, size_t n)
{
    char id[37] = "?", tenant[37] = "?", other[37] = "?";
    if (p->has_id)
        ck_uuid_format(p->id, id);
    if (p->has_tenant)
        ck_uuid_format(p->tenant, tenant);
    if (p->has_other)
        ck_uuid_format(p->other_id, other);
    const char *table = p->table ? p->table->name : "?";
    const char *kind = ck_problem_kind_name(p->kind);
    switch (p->kind) {
    case CK_PROB_ROW_KEY:
        return snprintf(out, n, "%s: a rows key that names no table row (tenant %s, id %s)", kind,
                        tenant, id);
    case CK_PROB_ENTRY_KEY:
        return snprintf(out, n, "%s: an idx key that names no index (tenant %s)", kind, tenant);
    case CK_PROB_ROW_DECODE:
        return snprintf(out, n, "%s: %s %s does not decode as a row of %s (tenant %s)", kind, table,
                        id, table, tenant);
    case CK_PROB_ROW_ID:
        return snprintf(out, n, "%s: %s %s: its id column differs from its key (tenant %s)", kind,
                        table, id, tenant);
    case CK_PROB_ROW_TENANT:
        return snprintf(out, n, "%s: %s %s is stored under the wrong tenant prefix%s%s (tenant %s)",
                        kind, table, id, p->column ? ": " : "", p->column ? p->column : "", tenant);
    case CK_PROB_VALUE:
        return snprintf(out, n,
                        "%s: %s %s: column %s holds a value of the wrong type or size "
                        "(tenant %s)",
                        kind, table, id, p->column, tenant);
    case CK_PROB_NOT_NULL:
        return snprintf(out, n, "%s: %s %s: NOT NULL column %s is NULL (tenant %s)", kind, table,
                        id, p->column, tenant);
    case CK_PROB_CHECK:
        return snprintf(out, n, "%s: %s %s: %s is false (tenant %s)", kind, table, id,
                        p->constraint, tenant);
    case CK_PROB_FK:
        return snprintf(out, n, "%s: %s %s: %s (%s) names no %s row (tenant %s)", kind, table, id,
                        p->constraint, p->column, p->parent_table, tenant);
    case CK_PROB_UNIQUE:
        return snprintf(out, n, "%s: %s %s and %s hold the same %s key (tenant %s)", kind, table,
                        id, other, p->constraint, tenant);
    case CK_PROB_ENTRY_MISSING:
        return snprintf(out, n, "%s: %s %s has no entry in %s (tenant %s)", kind, table, id,
                        p->constraint, tenant);
    case CK_PROB_ENTRY_STRAY:
        return snprintf(out, n,
                        "%s: an entry of %s names %s %s, which does not have it (tenant %s)", kind,
                        p->constraint, table, id, tenant);
    }
    return snprintf(out, n, "%s", kind);
}
