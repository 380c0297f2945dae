/* Hard deletes with ON DELETE CASCADE / SET NULL / RESTRICT. */
#include <stdlib.h>
#include <string.h>

#include "index.h"
#include "ondelete.h"

/* ------------------------------------------------------------------ a set of rows */

struct rowref {
    uint8_t table; /* table index */
    uint8_t id[16];
};

/* Insertion-ordered hash set of rows; the order doubles as the BFS queue. */
struct rowset {
    struct rowref *items;
    size_t n, cap;
    uint32_t *slots; /* 1-based item index, 0 empty */
    size_t nslots;
};

static uint64_t rowref_hash(unsigned table, const uint8_t id[16])
{
    /* UUIDv7 ids are time-ordered in their first bytes; mix the random tail. */
    uint64_t h;
    memcpy(&h, id + 8, 8);
    h ^= (uint64_t)table * 0x9e3779b97f4a7c15ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static int rowset_grow(struct rowset *s)
{
    size_t nslots = s->nslots ? s->nslots * 2 : 1024;
    uint32_t *slots = calloc(nslots, sizeof *slots);
    if (!slots)
        return -CK_ENOMEM;
    for (size_t i = 0; i < s->n; i++) {
        size_t j = rowref_hash(s->items[i].table, s->items[i].id) & (nslots - 1);
        while (slots[j])
            j = (j + 1) & (nslots - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = nslots;
    return 0;
}

/* 1: added, 0: already present, <0: error. */
static int rowset_add(struct rowset *s, unsigned table, const uint8_t id[16])
{
    if ((s->n + 1) * 2 > s->nslots && rowset_grow(s) != 0)
        return -CK_ENOMEM;
    size_t j = rowref_hash(table, id) & (s->nslots - 1);
    while (s->slots[j]) {
        const struct rowref *r = &s->items[s->slots[j] - 1];
        if (r->table == table && memcmp(r->id, id, 16) == 0)
            return 0;
        j = (j + 1) & (s->nslots - 1);
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        struct rowref *items = realloc(s->items, cap * sizeof *items);
        if (!items)
            return -CK_ENOMEM;
        s->items = items;
        s->cap = cap;
    }
    s->items[s->n].table = (uint8_t)table;
    memcpy(s->items[s->n].id, id, 16);
    s->slots[j] = (uint32_t)++s->n;
    return 1;
}

static bool rowset_has(const struct rowset *s, unsigned table, const uint8_t id[16])
{
    if (!s->nslots)
        return false;
    size_t j = rowref_hash(table, id) & (s->nslots - 1);
    while (s->slots[j]) {
        const struct rowref *r = &s->items[s->slots[j] - 1];
        if (r->table == table && memcmp(r->id, id, 16) == 0)
            return true;
        j = (j + 1) & (s->nslots - 1);
    }
    return false;
}

static void rowset_free(struct rowset *s)
{
    free(s->items);
    free(s->slots);
    memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------------ children of a row */

/* Call fn(arg, child_id) for every row of the child table whose FK column holds
 * parent_id. Stops early when fn returns non-zero (returned). */
static int for_each_child(struct ck_ctx *c, const struct ck_table *child, const struct ck_fk *fk,
                          const uint8_t parent_id[16],
                          int (*fn)(void *arg, const uint8_t child_id[16]), void *arg)
{
    const struct ck_index *ix = &child->indexes[fk->index];
    struct buf prefix = BUF_INIT;
    struct ck_val v = {.kind = CK_V_UUID};
    memcpy(v.uuid, parent_id, 16);
    ck_index_put_prefix(&prefix, ck_row_tenant(child, c->tenant), ix);
    int rc = ck_index_put_value(&prefix, child, ix, fk->column, &v, false);
    if (rc)
        goto out_free;
    MDB_cursor *cur;
    rc = kv_error(mdb_cursor_open(c->txn, c->kv->idx, &cur));
    if (rc)
        goto out_free;
    MDB_val k = {prefix.len, prefix.data}, val;
    int mrc = mdb_cursor_get(cur, &k, &val, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size >= prefix.len + 16 &&
           memcmp(k.mv_data, prefix.data, prefix.len) == 0) {
        uint8_t id[16];
        memcpy(id, (const char *)k.mv_data + k.mv_size - 16, 16);
        rc = fn(arg, id);
        if (rc)
            break;
        mrc = mdb_cursor_get(cur, &k, &val, MDB_NEXT);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
        rc = kv_error(mrc);
    mdb_cursor_close(cur);
out_free:
    buf_free(&prefix);
    return rc;
}

struct visit {
    struct rowset *set;
    unsigned child_table;
    uint64_t count;       /* RESTRICT: surviving children */
    struct rowset *nulls; /* SET NULL: (child, id) to clear ... */
    struct ck_delete_result *res;
};

static int add_cascade(void *arg, const uint8_t id[16])
{
    struct visit *v = arg;
    int rc = rowset_add(v->set, v->child_table, id);
    return rc < 0 ? rc : 0;
}

static int count_survivor(void *arg, const uint8_t id[16])
{
    struct visit *v = arg;
    v->count += !rowset_has(v->set, v->child_table, id);
    return 0;
}

/* ------------------------------------------------------------------ a tenant */

/* Remove a tenant's whole key space (rows, index entries) and its tenants row. */
static int delete_tenant(struct ck_ctx *c, const struct ck_table *tenants, const uint8_t id[16],
                         struct ck_delete_result *res)
{
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(c->txn, c->kv->rows, &cur));
    if (rc)
        return rc;
    struct buf copy = BUF_INIT;
    MDB_val k = {16, (void *)id}, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size == KV_ROW_KEY_LEN && memcmp(k.mv_data, id, 16) == 0) {
        const struct ck_table *t = ck_table_by_id(((const uint8_t *)k.mv_data)[16]);
        if (!t) {
            rc = -CK_EINTERNAL;
            break;
        }
        struct ck_row r;
        rc = ck_rows_decode_copy(t, &v, &copy, &r);
        if (rc)
            break;
        if (c->log && !(c->flags & CK_W_NO_LOG)) {
            rc = ck_log_append(c->log, c->txn, c->kv, CK_LOG_DELETE, t->id, id, r.v[t->col_id].uuid,
                               NULL, 0, c->user, c->now_ms);
            if (rc)
                break;
        }
        res->cascaded[ck_table_index(t)]++;
        mrc = mdb_cursor_del(cur, 0);
        if (mrc)
            break;
        k = (MDB_val){16, (void *)id};
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    buf_free(&copy);
    if (rc)
        return rc;
    if (mrc && mrc != MDB_NOTFOUND)
        return kv_error(mrc);

    /* Index entries of the tenant: one range. */
    rc = kv_error(mdb_cursor_open(c->txn, c->kv->idx, &cur));
    if (rc)
        return rc;
    k = (MDB_val){16, (void *)id};
    mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && k.mv_size > 16 && memcmp(k.mv_data, id, 16) == 0) {
        mrc = mdb_cursor_del(cur, 0);
        if (mrc)
            break;
        k = (MDB_val){16, (void *)id};
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    if (mrc && mrc != MDB_NOTFOUND)
        return kv_error(mrc);

    /* Finally the tenants row itself, with its global index entries. */
    struct buf trow = BUF_INIT;
    MDB_val tv;
    struct ck_row r;
    rc = ck_rows_get_raw(c, tenants, id, &tv);
    if (rc == 0)
        rc = ck_rows_decode_copy(tenants, &tv, &trow, &r);
    if (rc == 0)
        rc = ck_rows_remove(c, &r);
    buf_free(&trow);
    if (rc == 0)
        res->deleted = 1;
    return rc;
}

/* ------------------------------------------------------------------ any row */

static int restrict_violation(struct ck_ctx *c, const struct ck_table *parent,
                              const struct ck_table *child, const struct ck_fk *fk, uint64_t count)
{
    ck_err_set(c->err, -CK_ERESTRICT,
               "cannot delete %s row: %llu %s row(s) still reference it through %s", parent->name,
               (unsigned long long)count, child->name, fk->name);
    ck_err_detail_str(c->err, "constraint", fk->name);
    ck_err_detail_str(c->err, "table", parent->name);
    ck_err_detail_str(c->err, "child_table", child->name);
    ck_err_detail_int(c->err, "count", (int64_t)count);
    return -CK_ERESTRICT;
}

struct nullify {
    unsigned table;
    uint8_t id[16];
    ck_colmask cols;
};

struct null_list {
    struct nullify *items;
    size_t n, cap;
    struct rowset seen; /* rows already listed, to merge columns */
};

struct null_visit {
    struct rowset *set;
    struct null_list *list;
    unsigned child_table;
    unsigned col;
};

static int add_null(void *arg, const uint8_t id[16])
{
    struct null_visit *v = arg;
    if (rowset_has(v->set, v->child_table, id))
        return 0;
    struct null_list *l = v->list;
    int added = rowset_add(&l->seen, v->child_table, id);
    if (added < 0)
        return added;
    if (added == 0) {
        for (size_t i = 0; i < l->n; i++) {
            if (l->items[i].table == v->child_table && memcmp(l->items[i].id, id, 16) == 0) {
                l->items[i].cols |= CK_COL(v->col);
                return 0;
            }
        }
        return -CK_EINTERNAL;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct nullify *items = realloc(l->items, cap * sizeof *items);
        if (!items)
            return -CK_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n].table = v->child_table;
    memcpy(l->items[l->n].id, id, 16);
    l->items[l->n].cols = CK_COL(v->col);
    l->n++;
    return 0;
}

static int apply_set_null(struct ck_ctx *c, const struct nullify *n, struct ck_delete_result *res)
{
    const struct ck_table *t = &ck_catalog.tables[n->table];
    struct buf copy = BUF_INIT, stored = BUF_INIT;
    struct ck_row old_row, new_row;
    MDB_val v;
    int rc = ck_rows_get_raw(c, t, n->id, &v);
    if (rc == 0)
        rc = ck_rows_decode_copy(t, &v, &copy, &old_row);
    if (rc == 0) {
        new_row = old_row;
        for (unsigned i = 0; i < t->ncols; i++) {
            if (n->cols & CK_COL(i))
                new_row.v[i].kind = CK_V_NULL;
        }
        /* As in InnoDB, a cascaded SET NULL does not touch updated_at/updated_by. */
        struct ck_ctx nc = *c;
        nc.flags |= CK_W_KEEP_META;
        rc = ck_rows_replace(&nc, &old_row, &new_row, n->cols, &stored);
    }
    if (rc == 0)
        res->set_null[n->table]++;
    buf_free(&copy);
    buf_free(&stored);
    return rc;
}

int ck_delete_hard(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                   struct ck_delete_result *res)
{
    memset(res, 0, sizeof *res);
    MDB_val probe;
    int rc = ck_rows_get_raw(c, t, id, &probe);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(c->err, rc, "no such %s row", t->name);
    if (rc)
        return rc;
    /* The table without tenant_id that others reference is `tenants`. */
    if (t->col_tenant < 0 && t->nrefs > 0)
        return delete_tenant(c, t, id, res);

    struct rowset set = {0};
    struct null_list nulls = {0};
    rc = rowset_add(&set, ck_table_index(t), id);
    if (rc < 0)
        goto out;
    rc = 0;

    /* 1. Everything CASCADE reaches (set.items grows while we walk it). */
    for (size_t i = 0; i < set.n && rc == 0; i++) {
        struct rowref r = set.items[i];
        const struct ck_table *pt = &ck_catalog.tables[r.table];
        for (unsigned k = 0; k < pt->nrefs && rc == 0; k++) {
            const struct ck_table *ct = &ck_catalog.tables[pt->refs[k].table];
            const struct ck_fk *fk = &ct->fks[pt->refs[k].fk];
            if (fk->on_delete != CK_FK_CASCADE || fk->index < 0)
                continue;
            struct visit v = {.set = &set, .child_table = pt->refs[k].table};
            rc = for_each_child(c, ct, fk, r.id, add_cascade, &v);
        }
    }
    /* 2. RESTRICT: no surviving row may reference a row that goes. The first
     * constraint found blocking is reported with every surviving row that blocks
     * through it (over all the rows that would go), so `count` says how many rows
     * must go or change first. 3. SET NULL list, not needed once blocked. */
    const struct ck_fk *blocked = NULL;
    const struct ck_table *blocked_parent = NULL, *blocked_child = NULL;
    uint64_t blocked_count = 0;
    for (size_t i = 0; i < set.n && rc == 0; i++) {
        struct rowref r = set.items[i];
        const struct ck_table *pt = &ck_catalog.tables[r.table];
        for (unsigned k = 0; k < pt->nrefs && rc == 0; k++) {
            const struct ck_table *ct = &ck_catalog.tables[pt->refs[k].table];
            const struct ck_fk *fk = &ct->fks[pt->refs[k].fk];
            if (fk->index < 0)
                continue;
            if (fk->on_delete == CK_FK_RESTRICT && (!blocked || blocked == fk)) {
                struct visit v = {.set = &set, .child_table = pt->refs[k].table};
                rc = for_each_child(c, ct, fk, r.id, count_survivor, &v);
                if (rc == 0 && v.count > 0 && !blocked) {
                    blocked = fk;
                    blocked_parent = pt;
                    blocked_child = ct;
                }
                blocked_count += v.count;
            } else if (fk->on_delete == CK_FK_SET_NULL && !blocked) {
                struct null_visit v = {.set = &set,
                                       .list = &nulls,
                                       .child_table = pt->refs[k].table,
                                       .col = fk->column};
                rc = for_each_child(c, ct, fk, r.id, add_null, &v);
            }
        }
    }
    if (rc == 0 && blocked)
        rc = restrict_violation(c, blocked_parent, blocked_child, blocked, blocked_count);
    /* 4. Apply: clear the SET NULL columns of survivors, then remove the rows. */
    for (size_t i = 0; i < nulls.n && rc == 0; i++)
        rc = apply_set_null(c, &nulls.items[i], res);
    struct buf copy = BUF_INIT;
    for (size_t i = 0; i < set.n && rc == 0; i++) {
        const struct ck_table *rt = &ck_catalog.tables[set.items[i].table];
        MDB_val v;
        struct ck_row row;
        rc = ck_rows_get_raw(c, rt, set.items[i].id, &v);
        if (rc == 0)
            rc = ck_rows_decode_copy(rt, &v, &copy, &row);
        if (rc == 0)
            rc = ck_rows_remove(c, &row);
        if (rc == 0 && i > 0)
            res->cascaded[set.items[i].table]++;
    }
    buf_free(&copy);
    if (rc == 0)
        res->deleted = 1;
out:
    rowset_free(&set);
    rowset_free(&nulls.seen);
    free(nulls.items);
    return rc;
}

void ck_delete_result_pack(msgpack_packer *pk, const struct ck_delete_result *res)
{
    msgpack_pack_map(pk, 3);
    mp_pack_cstr(pk, "deleted");
    msgpack_pack_uint64(pk, res->deleted);
    const uint64_t *counts[2] = {res->cascaded, res->set_null};
    const char *names[2] = {"cascaded", "set_null"};
    for (int k = 0; k < 2; k++) {
        unsigned n = 0;
        for (unsigned i = 0; i < ck_catalog.ntables; i++)
            n += counts[k][i] != 0;
        mp_pack_cstr(pk, names[k]);
        msgpack_pack_map(pk, n);
        for (unsigned i = 0; i < ck_catalog.ntables; i++) {
            if (counts[k][i]) {
                mp_pack_cstr(pk, ck_catalog.tables[i].name);
                msgpack_pack_uint64(pk, counts[k][i]);
            }
        }
    }
}
