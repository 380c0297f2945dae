/*
 * Catalog lookups. The data and the name hash tables are generated from the DDL
 * (tools/ddl2catalog.py -> catalog_data.c); this file only reads them.
 */
#include <pthread.h>
#include <string.h>

#include "catalog.h"
#include "catalog_int.h"

/*
 * Entry index of `name` in hash h, or -1. Entries are the elements of an array of
 * structs whose first member is the name (struct ck_table, struct ck_column), so
 * one probe loop serves both; `stride` is the element size.
 */
static int name_hash_find(const struct ck_name_hash *h, const void *entries, size_t stride,
                          const char *name, size_t len)
{
    uint32_t slot = ck__name_hash(name, len, h->seed) & h->mask;
    for (unsigned probe = 0; probe < h->max_probe; probe++) {
        unsigned e = h->slots[slot];
        if (e == 0)
            return -1;
        e--;
        if (h->lens[e] == len) {
            const char *cand = *(const char *const *)((const char *)entries + e * stride);
            if (memcmp(cand, name, len) == 0)
                return (int)e;
        }
        slot = (slot + 1) & h->mask;
    }
    return -1;
}

const struct ck_table *ck_table_find(const char *name, size_t len)
{
    int i = name_hash_find(&ck_catalog_table_hash, ck_catalog.tables, sizeof(struct ck_table), name,
                           len);
    return i < 0 ? NULL : &ck_catalog.tables[i];
}

const struct ck_table *ck_table_by_id(unsigned id)
{
    if (id == 0 || id > ck_catalog.ntables)
        return NULL;
    return &ck_catalog.tables[id - 1];
}

int ck_column_find(const struct ck_table *t, const char *name, size_t len)
{
    return name_hash_find(&ck_catalog_column_hash[ck_table_index(t)], t->cols,
                          sizeof(struct ck_column), name, len);
}

const struct ck_index *ck_index_find(const struct ck_table *t, const char *name, size_t len)
{
    /* A NUL inside name would let strncmp() match a shorter index name and n[len] read
     * past it; no index name contains one, so such a name matches nothing. */
    if (memchr(name, '\0', len) != NULL)
        return NULL;
    /* At most a dozen indexes per table, and not on the row path: a scan is enough. */
    for (unsigned i = 0; i < t->nindexes; i++) {
        const char *n = t->indexes[i].name;
        if (strncmp(n, name, len) == 0 && n[len] == '\0')
            return &t->indexes[i];
    }
    return NULL;
}

const struct ck_index *ck_index_by_id(unsigned id, const struct ck_table **table_out)
{
    if (id == 0 || id > ck_catalog_nindex_ids)
        return NULL;
    const struct ck_index_loc *loc = &ck_catalog_index_locs[id - 1];
    const struct ck_table *t = &ck_catalog.tables[loc->table];
    if (table_out)
        *table_out = t;
    return &t->indexes[loc->pos];
}

static const char *const group_names[CK_G__COUNT] = {
    [CK_G_CORE] = "core",
    [CK_G_CLINICAL] = "clinical",
    [CK_G_MARKETPLACE] = "marketplace",
    [CK_G_PHARMACY] = "pharmacy",
    [CK_G_BILLING] = "billing",
    [CK_G_AI_ANALYTICS] = "ai_analytics",
    [CK_G_FEATURES] = "features",
    [CK_G_SYSTEM] = "system",
};

const char *ck_group_name(unsigned group)
{
    return group < CK_G__COUNT ? group_names[group] : NULL;
}

const char *ck_on_delete_name(unsigned rule)
{
    switch (rule) {
    case CK_FK_CASCADE: return "CASCADE";
    case CK_FK_SET_NULL: return "SET NULL";
    case CK_FK_RESTRICT: return "RESTRICT";
    default: return NULL;
    }
}

static int16_t clinic_cols[256];
static pthread_once_t clinic_cols_once = PTHREAD_ONCE_INIT;

static void find_clinic_cols(void)
{
    for (unsigned ti = 0; ti < ck_catalog.ntables; ti++) {
        const struct ck_table *t = &ck_catalog.tables[ti];
        clinic_cols[ti] = t->col_clinic;
        /* The parent of every clinic_id FK is the clinics table: its rows are clinics. */
        for (unsigned i = 0; i < t->nrefs && clinic_cols[ti] < 0; i++) {
            const struct ck_table *child = &ck_catalog.tables[t->refs[i].table];
            if ((int)child->fks[t->refs[i].fk].column == child->col_clinic)
                clinic_cols[ti] = t->col_id;
        }
    }
}

int ck_table_clinic_col(const struct ck_table *t)
{
    pthread_once(&clinic_cols_once, find_clinic_cols);
    return clinic_cols[ck_table_index(t)];
}
