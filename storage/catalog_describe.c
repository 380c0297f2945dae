/* schema.describe: the catalog packed as msgpack (catalog_describe.h). */
#include <stdlib.h>

#include "catalog_describe.h"
#include "mp.h"

static void pack_bool(msgpack_packer *pk, bool b)
{
    if (b)
        msgpack_pack_true(pk);
    else
        msgpack_pack_false(pk);
}

static void pack_opt_cstr(msgpack_packer *pk, const char *s)
{
    if (s)
        mp_pack_cstr(pk, s);
    else
        msgpack_pack_nil(pk);
}

/* The default as PROTOCOL.md shows it: typed by the column, nil when there is none. */
static void pack_default(msgpack_packer *pk, const struct ck_column *c)
{
    switch (c->default_kind) {
    case CK_DEF_NOW:
        mp_pack_cstr(pk, c->precision ? "CURRENT_TIMESTAMP(3)" : "CURRENT_TIMESTAMP");
        return;
    case CK_DEF_UUID: mp_pack_cstr(pk, "UUID()"); return;
    case CK_DEF_LITERAL:
        /* The generator validated the literal against the column type, so it parses. */
        if (c->type == CK_T_INT)
            msgpack_pack_int64(pk, strtoll(c->default_literal, NULL, 10));
        else if (c->type == CK_T_BOOL)
            pack_bool(pk, strtoll(c->default_literal, NULL, 10) != 0);
        else
            mp_pack_cstr(pk, c->default_literal);
        return;
    default: msgpack_pack_nil(pk); return;
    }
}

static void pack_column(msgpack_packer *pk, const struct ck_column *c)
{
    msgpack_pack_map(pk, 4u + (c->on_update_now ? 1u : 0u) + (c->comment ? 1u : 0u));
    mp_pack_cstr(pk, "name");
    mp_pack_cstr(pk, c->name);
    mp_pack_cstr(pk, "type");
    mp_pack_cstr(pk, c->sql_type);
    mp_pack_cstr(pk, "nullable");
    pack_bool(pk, c->nullable);
    mp_pack_cstr(pk, "default");
    pack_default(pk, c);
    if (c->on_update_now) {
        mp_pack_cstr(pk, "on_update");
        mp_pack_cstr(pk, "CURRENT_TIMESTAMP");
    }
    if (c->comment) {
        mp_pack_cstr(pk, "comment");
        mp_pack_cstr(pk, c->comment);
    }
}

static void pack_index_columns(msgpack_packer *pk, const struct ck_table *t,
                               const struct ck_index *ix)
{
    msgpack_pack_array(pk, ix->ncols);
    for (unsigned i = 0; i < ix->ncols; i++)
        mp_pack_cstr(pk, t->cols[ix->cols[i]].name);
}

static void pack_fk(msgpack_packer *pk, const struct ck_table *t, const struct ck_fk *fk)
{
    const struct ck_table *parent = &ck_catalog.tables[fk->parent_table];
    msgpack_pack_map(pk, 5);
    mp_pack_cstr(pk, "name");
    mp_pack_cstr(pk, fk->name);
    mp_pack_cstr(pk, "column");
    mp_pack_cstr(pk, t->cols[fk->column].name);
    mp_pack_cstr(pk, "parent_table");
    mp_pack_cstr(pk, parent->name);
    mp_pack_cstr(pk, "parent_column");
    mp_pack_cstr(pk, parent->cols[fk->parent_column].name);
    mp_pack_cstr(pk, "on_delete");
    pack_opt_cstr(pk, ck_on_delete_name(fk->on_delete));
}

void ck_describe_table(msgpack_packer *pk, const struct ck_table *t)
{
    msgpack_pack_map(pk, 10);

    mp_pack_cstr(pk, "name");
    mp_pack_cstr(pk, t->name);

    mp_pack_cstr(pk, "columns");
    msgpack_pack_array(pk, t->ncols);
    for (unsigned i = 0; i < t->ncols; i++)
        pack_column(pk, &t->cols[i]);

    /* Every table's primary key is its id column: the generator refuses anything else. */
    mp_pack_cstr(pk, "primary_key");
    msgpack_pack_array(pk, 1);
    mp_pack_cstr(pk, t->cols[t->col_id].name);

    mp_pack_cstr(pk, "foreign_keys");
    msgpack_pack_array(pk, t->nfks);
    for (unsigned i = 0; i < t->nfks; i++)
        pack_fk(pk, t, &t->fks[i]);

    unsigned nunique = 0;
    for (unsigned i = 0; i < t->nindexes; i++)
        nunique += t->indexes[i].unique;
    mp_pack_cstr(pk, "unique");
    msgpack_pack_array(pk, nunique);
    for (unsigned i = 0; i < t->nindexes; i++) {
        const struct ck_index *ix = &t->indexes[i];
        if (!ix->unique)
            continue;
        msgpack_pack_map(pk, 2);
        mp_pack_cstr(pk, "name");
        mp_pack_cstr(pk, ix->name);
        mp_pack_cstr(pk, "columns");
        pack_index_columns(pk, t, ix);
    }

    mp_pack_cstr(pk, "indexes");
    msgpack_pack_array(pk, 1u + t->nindexes);
    msgpack_pack_map(pk, 3);
    mp_pack_cstr(pk, "name");
    mp_pack_cstr(pk, "PRIMARY");
    mp_pack_cstr(pk, "columns");
    msgpack_pack_array(pk, 1);
    mp_pack_cstr(pk, t->cols[t->col_id].name);
    mp_pack_cstr(pk, "unique");
    msgpack_pack_true(pk);
    for (unsigned i = 0; i < t->nindexes; i++) {
        const struct ck_index *ix = &t->indexes[i];
        msgpack_pack_map(pk, 3);
        mp_pack_cstr(pk, "name");
        mp_pack_cstr(pk, ix->name);
        mp_pack_cstr(pk, "columns");
        pack_index_columns(pk, t, ix);
        mp_pack_cstr(pk, "unique");
        pack_bool(pk, ix->unique);
    }

    mp_pack_cstr(pk, "checks");
    msgpack_pack_array(pk, t->nchecks);
    for (unsigned i = 0; i < t->nchecks; i++) {
        msgpack_pack_map(pk, 2);
        mp_pack_cstr(pk, "name");
        mp_pack_cstr(pk, t->checks[i].name);
        mp_pack_cstr(pk, "expression");
        mp_pack_cstr(pk, t->checks[i].expression);
    }

    mp_pack_cstr(pk, "group");
    pack_opt_cstr(pk, ck_group_name(t->group));
    mp_pack_cstr(pk, "optional");
    pack_bool(pk, t->optional);
    mp_pack_cstr(pk, "comment");
    pack_opt_cstr(pk, t->comment);
}

void ck_describe(msgpack_packer *pk, bool (*visible)(const struct ck_table *t, void *arg),
                 void *arg)
{
    /* Ask once per table: the array header needs the count before the tables. */
    bool show[256]; /* table ids are one byte */
    unsigned n = 0;
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        show[i] = !visible || visible(&ck_catalog.tables[i], arg);
        n += show[i];
    }
    msgpack_pack_map(pk, 1);
    mp_pack_cstr(pk, "tables");
    msgpack_pack_array(pk, n);
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        if (show[i])
            ck_describe_table(pk, &ck_catalog.tables[i]);
    }
}
