/*
 * The schema catalog (storage/catalog.c and the data generated from the DDL):
 * totals as measured on MariaDB, every lookup in both directions, the invariants
 * the storage layer relies on (FK indexes, CHECK programs, refs order), facts
 * read off the DDL by hand, and the schema.describe packing decoded back.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "catalog_describe.h"
#include "ckrun.h"
#include "clinickv/error.h"
#include "mp.h"

static const struct ck_table *table(const char *name)
{
    const struct ck_table *t = ck_table_find(name, strlen(name));
    ck_assert_msg(t != NULL, "no table %s", name);
    return t;
}

static const struct ck_column *column(const struct ck_table *t, const char *name)
{
    int i = ck_column_find(t, name, strlen(name));
    ck_assert_msg(i >= 0, "no column %s.%s", t->name, name);
    return &t->cols[i];
}

static const struct ck_fk *fk_named(const struct ck_table *t, const char *name)
{
    for (unsigned i = 0; i < t->nfks; i++)
        if (strcmp(t->fks[i].name, name) == 0)
            return &t->fks[i];
    ck_abort_msg("no foreign key %s on %s", name, t->name);
    return NULL;
}

static const struct ck_check *check_named(const struct ck_table *t, const char *name)
{
    for (unsigned i = 0; i < t->nchecks; i++)
        if (strcmp(t->checks[i].name, name) == 0)
            return &t->checks[i];
    ck_abort_msg("no CHECK %s on %s", name, t->name);
    return NULL;
}

/* ------------------------------------------------------------------ totals */

START_TEST(test_totals)
{
    /* shared/schema/README.md, "Measured counts", 00 + 01 on MariaDB 10.11. */
    ck_assert_uint_eq(ck_catalog.ntables, 40);
    ck_assert_uint_eq(ck_catalog.ncolumns, 886);
    ck_assert_uint_eq(ck_catalog.nfks, 168);
    ck_assert_uint_eq(ck_catalog.nunique, 35);
    ck_assert_uint_eq(ck_catalog.nindexes_with_pk, 253);
    ck_assert_uint_eq(ck_catalog.nchecks, 37);

    /* The totals must also be what the arrays hold. */
    unsigned cols = 0, fks = 0, uniq = 0, idx = 0, chk = 0, refs = 0, optional = 0;
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        cols += t->ncols;
        fks += t->nfks;
        idx += t->nindexes + 1u;
        chk += t->nchecks;
        refs += t->nrefs;
        optional += t->optional;
        for (unsigned j = 0; j < t->nindexes; j++)
            uniq += t->indexes[j].unique;
    }
    ck_assert_uint_eq(cols, ck_catalog.ncolumns);
    ck_assert_uint_eq(fks, ck_catalog.nfks);
    ck_assert_uint_eq(uniq, ck_catalog.nunique);
    ck_assert_uint_eq(idx, ck_catalog.nindexes_with_pk);
    ck_assert_uint_eq(chk, ck_catalog.nchecks);
    ck_assert_uint_eq(refs, ck_catalog.nfks); /* every FK is seen once from its parent */
    ck_assert_uint_eq(optional, 8);

    /* 16 lowercase hex digits: BLAKE2b with an 8-byte digest. */
    ck_assert_uint_eq(strlen(ck_catalog.schema_version), 16);
    ck_assert_uint_eq(strspn(ck_catalog.schema_version, "0123456789abcdef"), 16);
}
END_TEST

/* ------------------------------------------------------------------ lookups */

START_TEST(test_table_lookup)
{
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        ck_assert_uint_eq(t->id, i + 1);
        ck_assert_uint_eq(ck_table_index(t), i);
        ck_assert_ptr_eq(ck_table_find(t->name, strlen(t->name)), t);
        ck_assert_ptr_eq(ck_table_by_id(t->id), t);

        /* The name need not be terminated: a longer buffer with the right len matches. */
        char buf[80];
        snprintf(buf, sizeof buf, "%sXYZ", t->name);
        ck_assert_ptr_eq(ck_table_find(buf, strlen(t->name)), t);
        /* ...but the longer name itself, and every strict prefix, do not. */
        ck_assert_ptr_null(ck_table_find(buf, strlen(buf)));
        for (size_t n = 0; n < strlen(t->name); n++) {
            const struct ck_table *p = ck_table_find(t->name, n);
            ck_assert_msg(p == NULL || strlen(p->name) == n, "prefix of %s matched %s", t->name,
                          p->name);
        }
    }
    ck_assert_ptr_null(ck_table_by_id(0));
    ck_assert_ptr_null(ck_table_by_id(41));
    ck_assert_ptr_null(ck_table_find("", 0));
    ck_assert_ptr_null(ck_table_find("Tenants", 7)); /* table names are case-sensitive */
    ck_assert_ptr_null(ck_table_find("tenants\0", 8));
    ck_assert_ptr_null(ck_table_find("pharmacy", 8));

    /* Load order is FK order: the DDL's first, last and module tables. */
    ck_assert_str_eq(ck_catalog.tables[0].name, "tenants");
    ck_assert_str_eq(ck_catalog.tables[1].name, "clinics");
    ck_assert_str_eq(ck_catalog.tables[2].name, "users");
    ck_assert_str_eq(ck_catalog.tables[31].name, "alert_incidents");
    ck_assert_str_eq(ck_catalog.tables[32].name, "pharmacy_drug_categories");
    ck_assert_str_eq(ck_catalog.tables[39].name, "pharmacy_sale_items");
}
END_TEST

START_TEST(test_column_lookup)
{
    unsigned checked = 0;
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        for (unsigned c = 0; c < t->ncols; c++) {
            const char *n = t->cols[c].name;
            ck_assert_int_eq(ck_column_find(t, n, strlen(n)), (int)c);
            char buf[80];
            snprintf(buf, sizeof buf, "%s_x", n);
            ck_assert_int_eq(ck_column_find(t, buf, strlen(n)), (int)c);
            /* The longer name is another column or none, never this one. */
            int other = ck_column_find(t, buf, strlen(buf));
            ck_assert(other < 0 || strcmp(t->cols[other].name, buf) == 0);
            checked++;
        }
        ck_assert_int_eq(ck_column_find(t, "", 0), -1);
        ck_assert_int_eq(ck_column_find(t, "no_such_column", 14), -1);
        ck_assert_int_eq(ck_column_find(t, "id\0", 3), -1);
        ck_assert_int_eq(ck_column_find(t, "ID", 2), -1);
    }
    ck_assert_uint_eq(checked, 886);

    /* A column of another table is not found here. */
    ck_assert_int_eq(ck_column_find(table("tenants"), "tenant_id", 9), -1);
    ck_assert_int_eq(ck_column_find(table("performance_metrics"), "tenant_id", 9), -1);
    ck_assert_int_eq(ck_column_find(table("clinics"), "password_hash", 13), -1);
}
END_TEST

START_TEST(test_index_ids)
{
    unsigned next = 1;
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        for (unsigned j = 0; j < t->nindexes; j++) {
            const struct ck_index *ix = &t->indexes[j];
            /* Ids are dense, in table order then DDL order, so each is unique. */
            ck_assert_uint_eq(ix->id, next++);
            const struct ck_table *owner = NULL;
            ck_assert_ptr_eq(ck_index_by_id(ix->id, &owner), ix);
            ck_assert_ptr_eq(owner, t);
            ck_assert_ptr_eq(ck_index_by_id(ix->id, NULL), ix);
            ck_assert_ptr_eq(ck_index_find(t, ix->name, strlen(ix->name)), ix);
            ck_assert_ptr_null(ck_index_find(t, ix->name, strlen(ix->name) - 1));
            ck_assert_uint_ge(ix->ncols, 1);
            ck_assert_uint_le(ix->ncols, CK_INDEX_MAX_COLS);
            for (unsigned c = 0; c < ix->ncols; c++)
                ck_assert_uint_lt(ix->cols[c], t->ncols);
        }
        ck_assert_ptr_null(ck_index_find(t, "PRIMARY", 7));
        ck_assert_ptr_null(ck_index_find(t, "idx_x\0", 6));
    }
    ck_assert_uint_eq(next - 1, 253 - 40);
    const struct ck_table *owner = NULL;
    ck_assert_ptr_null(ck_index_by_id(0, &owner));
    ck_assert_ptr_null(ck_index_by_id(next, &owner));
    ck_assert_ptr_null(owner);
    ck_assert_ptr_null(ck_index_find(table("users"), "idx_patients_tenant_clinic", 26));
}
END_TEST

/* ------------------------------------------------------------------ invariants */

START_TEST(test_fk_invariants)
{
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        for (unsigned f = 0; f < t->nfks; f++) {
            const struct ck_fk *fk = &t->fks[f];
            ck_assert_uint_lt(fk->column, t->ncols);
            ck_assert_uint_lt(fk->parent_table, ck_catalog.ntables);
            const struct ck_table *parent = &ck_catalog.tables[fk->parent_table];
            ck_assert_int_eq(fk->parent_column, parent->col_id);
            ck_assert_int_eq(t->cols[fk->column].fk, (int)f);
            ck_assert_uint_eq(t->cols[fk->column].type, CK_T_UUID);
            ck_assert_ptr_nonnull(ck_on_delete_name(fk->on_delete));
            if (fk->on_delete == CK_FK_SET_NULL)
                ck_assert(t->cols[fk->column].nullable);
            if ((int)fk->column == t->col_tenant) {
                ck_assert_int_eq(fk->index, -1);
                ck_assert_str_eq(parent->name, "tenants");
                continue;
            }
            /* The index that finds the children: its first non-tenant column is the FK. */
            ck_assert_msg(fk->index >= 0 && fk->index < t->nindexes, "%s has no index", fk->name);
            const struct ck_index *ix = &t->indexes[fk->index];
            unsigned c = 0;
            while (c < ix->ncols && (int)ix->cols[c] == t->col_tenant)
                c++;
            ck_assert_msg(c < ix->ncols && ix->cols[c] == fk->column, "%s: %s does not serve it",
                          fk->name, ix->name);
        }
        /* Columns point back at their FK, and only FK columns do. */
        unsigned nfkcols = 0;
        for (unsigned c = 0; c < t->ncols; c++) {
            if (t->cols[c].fk >= 0) {
                nfkcols++;
                ck_assert_uint_eq(t->fks[t->cols[c].fk].column, c);
            }
        }
        ck_assert_uint_eq(nfkcols, t->nfks);
    }
}
END_TEST

START_TEST(test_refs)
{
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        unsigned expect = 0;
        for (unsigned j = 0; j < ck_catalog.ntables; j++)
            for (unsigned f = 0; f < ck_catalog.tables[j].nfks; f++)
                expect += ck_catalog.tables[j].fks[f].parent_table == i;
        ck_assert_uint_eq(t->nrefs, expect);
        const char *prev = "";
        for (unsigned r = 0; r < t->nrefs; r++) {
            const struct ck_ref *ref = &t->refs[r];
            ck_assert_uint_lt(ref->table, ck_catalog.ntables);
            const struct ck_table *child = &ck_catalog.tables[ref->table];
            ck_assert_uint_lt(ref->fk, child->nfks);
            const struct ck_fk *fk = &child->fks[ref->fk];
            ck_assert_uint_eq(fk->parent_table, i);
            /* InnoDB's visiting order: ascending constraint name. */
            ck_assert_int_lt(strcmp(prev, fk->name), 0);
            prev = fk->name;
        }
    }
    ck_assert_uint_eq(table("tenants")->nrefs, 38);
    ck_assert_uint_eq(table("performance_metrics")->nrefs, 0);
    /* invoices is referenced by invoice_items, payments: fk_invoice_items_invoice first. */
    const struct ck_table *inv = table("invoices");
    ck_assert_uint_eq(inv->nrefs, 2);
    ck_assert_str_eq(ck_catalog.tables[inv->refs[0].table].name, "invoice_items");
    ck_assert_str_eq(ck_catalog.tables[inv->refs[1].table].name, "payments");
}
END_TEST

/* Each opcode's (pops, pushes); the program must leave exactly one value. */
START_TEST(test_check_programs)
{
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        for (unsigned k = 0; k < t->nchecks; k++) {
            const struct ck_check *chk = &t->checks[k];
            ck_assert_uint_eq(strncmp(chk->name, "chk_", 4), 0);
            ck_assert_ptr_nonnull(strstr(chk->name, t->name));
            ck_assert_uint_ge(chk->nops, 2);
            int depth = 0;
            for (unsigned o = 0; o < chk->nops; o++) {
                const struct ck_check_op *op = &chk->ops[o];
                int pops;
                switch (op->op) {
                case CK_OP_COL:
                    ck_assert_uint_lt(op->col, t->ncols);
                    pops = 0;
                    break;
                case CK_OP_NUM: pops = 0; break;
                case CK_OP_BETWEEN: pops = 3; break;
                case CK_OP_IS_NULL:
                case CK_OP_IS_NOT_NULL:
                case CK_OP_NOT: pops = 1; break;
                case CK_OP_EQ:
                case CK_OP_NE:
                case CK_OP_LT:
                case CK_OP_LE:
                case CK_OP_GT:
                case CK_OP_GE:
                case CK_OP_AND:
                case CK_OP_OR: pops = 2; break;
                default: ck_abort_msg("%s: opcode %u", chk->name, op->op); return;
                }
                ck_assert_int_ge(depth, pops);
                depth = depth - pops + 1;
            }
            ck_assert_msg(depth == 1, "%s leaves %d values", chk->name, depth);
            /* The expression is the DDL's text with whitespace collapsed. */
            ck_assert_ptr_null(strstr(chk->expression, "  "));
            ck_assert_ptr_null(strchr(chk->expression, '\n'));
        }
    }
}
END_TEST

START_TEST(test_maintained_columns)
{
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        ck_assert_int_eq(t->col_id, 0);
        ck_assert_str_eq(t->cols[t->col_id].name, "id");
        ck_assert_uint_eq(t->cols[0].type, CK_T_UUID);
        ck_assert_uint_eq(t->cols[0].default_kind, CK_DEF_UUID);
        if (strcmp(t->name, "tenants") == 0 || strcmp(t->name, "performance_metrics") == 0) {
            ck_assert_int_eq(t->col_tenant, -1);
        } else {
            ck_assert_int_eq(t->col_tenant, 1);
            ck_assert_str_eq(t->cols[t->col_tenant].name, "tenant_id");
        }
        const int16_t *cols[] = {&t->col_clinic,     &t->col_created_at, &t->col_updated_at,
                                 &t->col_deleted_at, &t->col_created_by, &t->col_updated_by};
        const char *names[] = {"clinic_id",  "created_at", "updated_at",
                               "deleted_at", "created_by", "updated_by"};
        for (unsigned c = 0; c < 6; c++) {
            int found = ck_column_find(t, names[c], strlen(names[c]));
            ck_assert_int_eq(*cols[c], found);
        }
    }
    const struct ck_table *u = table("users");
    ck_assert_int_eq(u->col_clinic, 2);
    ck_assert_int_eq(u->col_deleted_at, 25);
    ck_assert_int_eq(u->col_created_by, 26);
    ck_assert_int_eq(table("tenants")->col_created_by, -1);
    ck_assert_int_eq(table("inventory_transactions")->col_updated_at, -1);
    ck_assert_int_eq(table("payments")->col_deleted_at, -1);
    ck_assert_int_eq(table("analytics_events")->col_clinic, 2);
}
END_TEST

/* ------------------------------------------------------------------ spot checks */

START_TEST(test_spot_foreign_keys)
{
    const struct ck_fk *fk = fk_named(table("payments"), "fk_payments_invoice");
    ck_assert_uint_eq(fk->on_delete, CK_FK_RESTRICT);
    ck_assert_str_eq(ck_catalog.tables[fk->parent_table].name, "invoices");
    ck_assert_str_eq(table("payments")->cols[fk->column].name, "invoice_id");
    ck_assert_str_eq(table("payments")->indexes[fk->index].name, "idx_payments_invoice");

    /* RESTRICT 6, SET NULL 87, CASCADE 75 (README, "ON DELETE rules"). */
    unsigned rules[4] = {0};
    for (unsigned i = 0; i < ck_catalog.ntables; i++)
        for (unsigned f = 0; f < ck_catalog.tables[i].nfks; f++)
            rules[ck_catalog.tables[i].fks[f].on_delete]++;
    ck_assert_uint_eq(rules[CK_FK_CASCADE], 75);
    ck_assert_uint_eq(rules[CK_FK_SET_NULL], 87);
    ck_assert_uint_eq(rules[CK_FK_RESTRICT], 6);

    /* ALTER TABLE additions come after the table's own FKs, in DDL order. */
    const struct ck_table *c = table("clinics");
    ck_assert_uint_eq(c->nfks, 3);
    ck_assert_str_eq(c->fks[0].name, "fk_clinics_tenant");
    ck_assert_str_eq(c->fks[1].name, "fk_clinics_created_by");
    ck_assert_str_eq(c->fks[2].name, "fk_clinics_updated_by");
    ck_assert_str_eq(c->indexes[c->fks[1].index].name, "idx_clinics_created_by");
    const struct ck_table *a = table("appointments");
    ck_assert_uint_eq(a->nfks, 8);
    ck_assert_str_eq(a->fks[7].name, "fk_appointments_recurrence");
    ck_assert_str_eq(ck_catalog.tables[a->fks[7].parent_table].name, "appointment_recurrences");
    ck_assert_uint_eq(a->fks[7].on_delete, CK_FK_SET_NULL);

    /* patient_id: the single-column index wins over the composite one. */
    ck_assert_str_eq(a->indexes[fk_named(a, "fk_appointments_patient")->index].name,
                     "idx_appointments_patient");
    ck_assert_str_eq(a->indexes[fk_named(a, "fk_appointments_clinic")->index].name,
                     "idx_appointments_clinic_date");
    /* Self references and a unique key serving an FK. */
    const struct ck_fk *self = fk_named(table("clinical_notes"), "fk_clinical_notes_amended_from");
    ck_assert_ptr_eq(&ck_catalog.tables[self->parent_table], table("clinical_notes"));
    const struct ck_table *rec = table("appointment_recurrences");
    ck_assert_str_eq(
        rec->indexes[fk_named(rec, "fk_appointment_recurrences_appointment")->index].name,
        "unique_recurrence_appointment");
    /* tenant_id then the FK column: idx_inventory_tenant_product is not chosen over
     * idx_inventory_product, which has fewer columns. */
    const struct ck_table *inv = table("inventory");
    ck_assert_str_eq(inv->indexes[fk_named(inv, "fk_inventory_product")->index].name,
                     "idx_inventory_product");
    const struct ck_table *si = table("pharmacy_sale_items");
    ck_assert_str_eq(si->indexes[fk_named(si, "fk_pharmacy_sale_items_drug")->index].name,
                     "idx_pharmacy_sale_items_drug_created");
    ck_assert_uint_eq(fk_named(si, "fk_pharmacy_sale_items_inventory")->on_delete, CK_FK_RESTRICT);
}
END_TEST

START_TEST(test_spot_indexes)
{
    const struct ck_table *a = table("appointments");
    ck_assert_uint_eq(a->nindexes, 11);
    const struct ck_index *ix = ck_index_find(a, "idx_appointments_tenant_patient_date", 36);
    ck_assert_ptr_nonnull(ix);
    ck_assert(!ix->unique);
    ck_assert_uint_eq(ix->ncols, 3);
    ck_assert_str_eq(a->cols[ix->cols[0]].name, "tenant_id");
    ck_assert_str_eq(a->cols[ix->cols[1]].name, "patient_id");
    ck_assert_str_eq(a->cols[ix->cols[2]].name, "appointment_date");

    const struct ck_table *p = table("payments");
    ck_assert_uint_eq(p->nindexes, 8);
    ck_assert_str_eq(p->indexes[0].name, "unique_tenant_payment_number");
    ck_assert_str_eq(p->indexes[1].name, "unique_gateway_transaction");
    ck_assert_str_eq(p->indexes[2].name, "unique_tenant_idempotency_key");
    ck_assert(p->indexes[2].unique);
    ck_assert(!p->indexes[3].unique);

    const struct ck_index *u =
        ck_index_find(table("pharmacy_drug_inventory"), "unique_batch_drug", 17);
    ck_assert_ptr_nonnull(u);
    ck_assert(u->unique);
    ck_assert_str_eq(table("pharmacy_drug_inventory")->cols[u->cols[0]].name, "drug_id");
    ck_assert_str_eq(table("pharmacy_drug_inventory")->cols[u->cols[1]].name, "batch_id");

    ck_assert_uint_eq(table("tenants")->indexes[0].id, 1);
    ck_assert_uint_eq(table("pharmacy_sale_items")->indexes[4].id, 213);
    ck_assert_uint_eq(table("performance_metrics")->nindexes, 4);
}
END_TEST

START_TEST(test_spot_columns)
{
    const struct ck_column *role = column(table("users"), "role");
    ck_assert_uint_eq(role->type, CK_T_ENUM);
    ck_assert_uint_eq(role->n_enum, 12);
    static const char *const roles[] = {
        "super_admin", "tenant_admin",        "clinic_admin", "dentist",
        "hygienist",   "dental_assistant",    "receptionist", "billing_specialist",
        "pharmacist",  "pharmacy_technician", "analyst",      "support"};
    for (unsigned i = 0; i < 12; i++)
        ck_assert_str_eq(role->enum_values[i], roles[i]);
    ck_assert_uint_eq(role->default_kind, CK_DEF_LITERAL);
    ck_assert_str_eq(role->default_literal, "receptionist");
    ck_assert(!role->nullable);
    ck_assert_str_eq(role->sql_type,
                     "ENUM('super_admin','tenant_admin','clinic_admin','dentist','hygienist',"
                     "'dental_assistant','receptionist','billing_specialist','pharmacist',"
                     "'pharmacy_technician','analyst','support')");

    const struct ck_column *c = column(table("tenants"), "status");
    ck_assert_str_eq(c->sql_type, "ENUM('trial','active','suspended','cancelled')");
    ck_assert_str_eq(c->default_literal, "trial");

    c = column(table("tenants"), "max_clinics");
    ck_assert_str_eq(c->sql_type, "INT UNSIGNED");
    ck_assert_uint_eq(c->type, CK_T_INT);
    ck_assert_int_eq(c->min, 0);
    ck_assert_int_eq(c->max, 4294967295LL);
    ck_assert_uint_eq(c->default_kind, CK_DEF_NULL);
    ck_assert_str_eq(c->comment, "Plan limit; NULL = unlimited");

    c = column(table("appointments"), "reminder_count");
    ck_assert_str_eq(c->sql_type, "TINYINT UNSIGNED");
    ck_assert_int_eq(c->max, 255);
    c = column(table("product_categories"), "sort_order");
    ck_assert_str_eq(c->sql_type, "SMALLINT");
    ck_assert_int_eq(c->min, -32768);
    ck_assert_int_eq(c->max, 32767);
    c = column(table("order_items"), "quantity");
    ck_assert_str_eq(c->sql_type, "INT");
    ck_assert_int_eq(c->min, INT32_MIN);
    ck_assert_uint_eq(c->default_kind, CK_DEF_NONE);

    c = column(table("clinics"), "has_pharmacy");
    ck_assert_uint_eq(c->type, CK_T_BOOL);
    ck_assert_str_eq(c->sql_type, "TINYINT(1)");
    ck_assert_str_eq(c->default_literal, "0");
    c = column(table("ai_predictions"), "is_correct");
    ck_assert_uint_eq(c->type, CK_T_BOOL);
    ck_assert(c->nullable);
    ck_assert_uint_eq(c->default_kind, CK_DEF_NULL);

    c = column(table("ab_tests"), "confidence_level");
    ck_assert_uint_eq(c->type, CK_T_DECIMAL);
    ck_assert_uint_eq(c->precision, 4);
    ck_assert_uint_eq(c->scale, 3);
    ck_assert_str_eq(c->default_literal, "0.950");
    c = column(table("performance_metrics"), "value");
    ck_assert_str_eq(c->sql_type, "DECIMAL(18,6)");

    c = column(table("analytics_events"), "occurred_at");
    ck_assert_str_eq(c->sql_type, "TIMESTAMP(3)");
    ck_assert_uint_eq(c->precision, 3);
    ck_assert_uint_eq(c->default_kind, CK_DEF_NOW);
    c = column(table("appointments"), "appointment_date");
    ck_assert_uint_eq(c->type, CK_T_TIMESTAMP);
    ck_assert_uint_eq(c->default_kind, CK_DEF_NONE); /* explicit_defaults_for_timestamp = 1 */
    ck_assert_str_eq(c->comment, "Start instant");
    c = column(table("appointments"), "updated_at");
    ck_assert(c->on_update_now);
    ck_assert(!column(table("appointments"), "created_at")->on_update_now);

    /* VARCHAR(36) is a UUID only for id and FK columns. */
    c = column(table("ai_predictions"), "entity_ref");
    ck_assert_uint_eq(c->type, CK_T_VARCHAR);
    ck_assert_uint_eq(c->length, 36);
    ck_assert_int_eq(c->fk, -1);
    ck_assert_uint_eq(column(table("clinics"), "created_by")->type, CK_T_UUID); /* ALTER TABLE */
    ck_assert_uint_eq(column(table("appointments"), "recurrence_id")->type, CK_T_UUID);
    c = column(table("pharmacy_drug_inventory"), "batch_id");
    ck_assert_uint_eq(c->type, CK_T_VARCHAR);
    ck_assert_uint_eq(c->length, 100);

    ck_assert_uint_eq(column(table("appointments"), "notes")->type, CK_T_TEXT);
    ck_assert_uint_eq(column(table("appointments"), "notes")->length, 65535);
    ck_assert_uint_eq(column(table("patients"), "encrypted_demographics")->type, CK_T_BLOB);
    c = column(table("users"), "mfa_secret_encrypted");
    ck_assert_uint_eq(c->type, CK_T_VARBINARY);
    ck_assert_uint_eq(c->length, 512);
    c = column(table("patients"), "name_search_hash");
    ck_assert_uint_eq(c->type, CK_T_CHAR);
    ck_assert_uint_eq(c->length, 64);
    ck_assert_uint_eq(column(table("patients"), "next_recall_date")->type, CK_T_DATE);
    ck_assert_uint_eq(column(table("tenants"), "settings")->type, CK_T_JSON);
    ck_assert_str_eq(column(table("clinics"), "operating_hours")->comment,
                     "{\"mon\":[[\"08:00\",\"17:00\"]],...}");
    ck_assert_uint_eq(column(table("tenants"), "country_code")->length, 2);
}
END_TEST

START_TEST(test_spot_tables)
{
    static const struct {
        const char *name;
        unsigned group;
    } groups[] = {
        {"tenants", CK_G_CORE},
        {"appointment_conflicts", CK_G_CORE},
        {"clinical_notes", CK_G_CLINICAL},
        {"treatment_plans", CK_G_CLINICAL},
        {"suppliers", CK_G_MARKETPLACE},
        {"inventory_transactions", CK_G_MARKETPLACE},
        {"insurance_providers", CK_G_BILLING},
        {"payment_audit_log", CK_G_BILLING},
        {"ai_models", CK_G_AI_ANALYTICS},
        {"performance_metrics", CK_G_AI_ANALYTICS},
        {"feature_flags", CK_G_FEATURES},
        {"ab_test_participants", CK_G_FEATURES},
        {"alerts", CK_G_SYSTEM},
        {"alert_incidents", CK_G_SYSTEM},
        {"pharmacy_drug_categories", CK_G_PHARMACY},
        {"pharmacy_sale_items", CK_G_PHARMACY},
    };
    for (unsigned i = 0; i < sizeof groups / sizeof groups[0]; i++) {
        const struct ck_table *t = table(groups[i].name);
        ck_assert_msg(t->group == groups[i].group, "%s in group %s", t->name,
                      ck_group_name(t->group));
        ck_assert(t->optional == (groups[i].group == CK_G_PHARMACY));
    }
    ck_assert_str_eq(ck_group_name(CK_G_CORE), "core");
    ck_assert_str_eq(ck_group_name(CK_G_AI_ANALYTICS), "ai_analytics");
    ck_assert_str_eq(ck_group_name(CK_G_SYSTEM), "system");
    ck_assert_ptr_null(ck_group_name(CK_G__COUNT));
    ck_assert_str_eq(ck_on_delete_name(CK_FK_SET_NULL), "SET NULL");
    ck_assert_ptr_null(ck_on_delete_name(0));

    ck_assert_str_eq(table("tenants")->comment, "Organisations using the platform");
    ck_assert_str_eq(table("pharmacy_sale_items")->comment, "Sale line items");

    /* README's per-table column counts, a few of them. */
    ck_assert_uint_eq(table("tenants")->ncols, 22);
    ck_assert_uint_eq(table("appointments")->ncols, 29);
    ck_assert_uint_eq(table("pharmacy_drugs")->ncols, 32);
    ck_assert_uint_eq(table("product_categories")->ncols, 10);
}
END_TEST

START_TEST(test_spot_checks)
{
    /* amount > 0 AND refunded_amount >= 0 AND refunded_amount <= amount */
    const struct ck_table *p = table("payments");
    const struct ck_check *chk = check_named(p, "chk_payments_amounts");
    ck_assert_str_eq(chk->expression,
                     "amount > 0 AND refunded_amount >= 0 AND refunded_amount <= amount");
    int amount = ck_column_find(p, "amount", 6),
        refunded = ck_column_find(p, "refunded_amount", 15);
    const struct ck_check_op want[] = {
        {CK_OP_COL, 0, (uint16_t)amount, 0},
        {CK_OP_NUM, 0, 0, 0},
        {CK_OP_GT, 0, 0, 0},
        {CK_OP_COL, 0, (uint16_t)refunded, 0},
        {CK_OP_NUM, 0, 0, 0},
        {CK_OP_GE, 0, 0, 0},
        {CK_OP_AND, 0, 0, 0},
        {CK_OP_COL, 0, (uint16_t)refunded, 0},
        {CK_OP_COL, 0, (uint16_t)amount, 0},
        {CK_OP_LE, 0, 0, 0},
        {CK_OP_AND, 0, 0, 0},
    };
    ck_assert_uint_eq(chk->nops, sizeof want / sizeof want[0]);
    for (unsigned i = 0; i < chk->nops; i++) {
        ck_assert_uint_eq(chk->ops[i].op, want[i].op);
        if (want[i].op == CK_OP_COL)
            ck_assert_uint_eq(chk->ops[i].col, want[i].col);
        if (want[i].op == CK_OP_NUM) {
            ck_assert_int_eq(chk->ops[i].num, 0);
            ck_assert_uint_eq(chk->ops[i].scale, 0);
        }
    }

    /* BETWEEN: a, lo, hi, BETWEEN. */
    chk = check_named(table("appointments"), "chk_appointments_duration");
    ck_assert_str_eq(chk->expression, "duration_minutes BETWEEN 5 AND 720");
    ck_assert_uint_eq(chk->nops, 4);
    ck_assert_uint_eq(chk->ops[0].op, CK_OP_COL);
    ck_assert_int_eq(chk->ops[1].num, 5);
    ck_assert_int_eq(chk->ops[2].num, 720);
    ck_assert_uint_eq(chk->ops[3].op, CK_OP_BETWEEN);

    /* OR binds looser than the parenthesised groups and AND of a multi-line CHECK. */
    chk = check_named(table("patient_insurance"), "chk_patient_insurance_amounts");
    ck_assert_str_eq(chk->expression,
                     "(annual_maximum IS NULL OR annual_maximum >= 0) AND (deductible IS NULL OR "
                     "deductible >= 0) AND deductible_met >= 0");
    ck_assert_uint_eq(chk->ops[1].op, CK_OP_IS_NULL);
    ck_assert_uint_eq(chk->ops[5].op, CK_OP_OR);
    ck_assert_uint_eq(chk->ops[chk->nops - 1].op, CK_OP_AND);

    /* The three-way OR of IS NULL tests and a comparison, left-associative. */
    chk = check_named(table("feature_flags"), "chk_feature_flags_window");
    static const uint8_t window[] = {CK_OP_COL, CK_OP_IS_NULL, CK_OP_COL, CK_OP_IS_NULL, CK_OP_OR,
                                     CK_OP_COL, CK_OP_COL,     CK_OP_GT,  CK_OP_OR};
    ck_assert_uint_eq(chk->nops, sizeof window);
    for (unsigned i = 0; i < sizeof window; i++)
        ck_assert_uint_eq(chk->ops[i].op, window[i]);

    chk = check_named(table("inventory_transactions"), "chk_inventory_transactions_quantity");
    ck_assert_uint_eq(chk->ops[2].op, CK_OP_NE); /* quantity <> 0 */

    /* A decimal literal keeps its scale: 0.950 would be num 950, scale 3. */
    chk = check_named(table("ab_tests"), "chk_ab_tests_confidence");
    ck_assert_str_eq(chk->expression, "confidence_level > 0 AND confidence_level < 1");
    ck_assert_int_eq(chk->ops[4].num, 1);
    ck_assert_uint_eq(chk->ops[5].op, CK_OP_LT);

    chk = check_named(table("pharmacy_drugs"), "chk_pharmacy_drugs_controlled");
    ck_assert_str_eq(chk->expression, "controlled_schedule IS NULL OR is_controlled_substance = 1");
    ck_assert_uint_eq(chk->ops[3].op, CK_OP_NUM);
    ck_assert_uint_eq(chk->ops[4].op, CK_OP_EQ);
}
END_TEST

/* ------------------------------------------------------------------ describe */

/* The value of key in the map at *p (its header not yet read). */
static const char *map_get(const char *p, const char *end, const char *key)
{
    struct mp_obj o;
    ck_assert_int_eq(mp_next(&p, end, &o), 0);
    ck_assert_int_eq(o.type, MP_MAP);
    const char *val = NULL;
    if (mp_map_find(p, end, o.v.n, key, &val) != 0)
        return NULL;
    return val;
}

static uint32_t array_len(const char *p, const char *end)
{
    struct mp_obj o;
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(mp_next(&p, end, &o), 0);
    ck_assert_int_eq(o.type, MP_ARRAY);
    return o.v.n;
}

static bool str_is(const char *p, const char *end, const char *s)
{
    struct mp_obj o;
    return p && mp_next(&p, end, &o) == 0 && o.type == MP_STR && mp_obj_streq(&o, s);
}

/* The element i of the array at p. */
static const char *array_at(const char *p, const char *end, uint32_t i)
{
    struct mp_obj o;
    ck_assert_int_eq(mp_next(&p, end, &o), 0);
    ck_assert_int_eq(o.type, MP_ARRAY);
    ck_assert_uint_lt(i, o.v.n);
    while (i--)
        ck_assert_int_eq(mp_skip(&p, end), 0);
    return p;
}

/* The describe map of the column named `name` in a table map. */
static const char *describe_column(const char *tmap, const char *end, const char *name)
{
    const char *cols = map_get(tmap, end, "columns");
    uint32_t n = array_len(cols, end);
    for (uint32_t i = 0; i < n; i++) {
        const char *c = array_at(cols, end, i);
        if (str_is(map_get(c, end, "name"), end, name))
            return c;
    }
    ck_abort_msg("describe has no column %s", name);
    return NULL;
}

static bool no_pharmacy(const struct ck_table *t, void *arg)
{
    (*(unsigned *)arg)++;
    return !t->optional;
}

START_TEST(test_describe_all)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    ck_describe(&pk, NULL, NULL);
    ck_assert(!b.oom);
    const char *end = b.data + b.len;

    /* Exactly one object, nothing after it. */
    const char *p = b.data;
    ck_assert_int_eq(mp_skip(&p, end), 0);
    ck_assert_ptr_eq(p, end);

    const char *tables = map_get(b.data, end, "tables");
    ck_assert_uint_eq(array_len(tables, end), 40);
    unsigned cols = 0, fks = 0, uniq = 0, idx = 0, chk = 0;
    for (unsigned i = 0; i < 40; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        const char *tm = array_at(tables, end, i);
        ck_assert(str_is(map_get(tm, end, "name"), end, t->name));
        ck_assert_uint_eq(array_len(map_get(tm, end, "columns"), end), t->ncols);
        ck_assert_uint_eq(array_len(map_get(tm, end, "foreign_keys"), end), t->nfks);
        ck_assert_uint_eq(array_len(map_get(tm, end, "indexes"), end), t->nindexes + 1u);
        ck_assert_uint_eq(array_len(map_get(tm, end, "checks"), end), t->nchecks);
        ck_assert_uint_eq(array_len(map_get(tm, end, "primary_key"), end), 1);
        ck_assert(str_is(array_at(map_get(tm, end, "primary_key"), end, 0), end, "id"));
        ck_assert(str_is(map_get(tm, end, "group"), end, ck_group_name(t->group)));
        const char *first_ix = array_at(map_get(tm, end, "indexes"), end, 0);
        ck_assert(str_is(map_get(first_ix, end, "name"), end, "PRIMARY"));
        cols += array_len(map_get(tm, end, "columns"), end);
        fks += array_len(map_get(tm, end, "foreign_keys"), end);
        uniq += array_len(map_get(tm, end, "unique"), end);
        idx += array_len(map_get(tm, end, "indexes"), end);
        chk += array_len(map_get(tm, end, "checks"), end);

        struct mp_obj o;
        const char *opt = map_get(tm, end, "optional");
        ck_assert_int_eq(mp_next(&opt, end, &o), 0);
        ck_assert_int_eq(o.type, MP_BOOL);
        ck_assert(o.v.b == t->optional);
    }
    ck_assert_uint_eq(cols, 886);
    ck_assert_uint_eq(fks, 168);
    ck_assert_uint_eq(uniq, 35);
    ck_assert_uint_eq(idx, 253);
    ck_assert_uint_eq(chk, 37);
    buf_free(&b);
}
END_TEST

START_TEST(test_describe_filter)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    unsigned calls = 0;
    ck_describe(&pk, no_pharmacy, &calls);
    ck_assert_uint_eq(calls, 40); /* asked once per table */
    const char *end = b.data + b.len;
    const char *tables = map_get(b.data, end, "tables");
    ck_assert_uint_eq(array_len(tables, end), 32);
    ck_assert(str_is(map_get(array_at(tables, end, 31), end, "name"), end, "alert_incidents"));
    buf_free(&b);
}
END_TEST

START_TEST(test_describe_values)
{
    struct buf b = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    const struct ck_table *t = table("clinics");
    ck_describe_table(&pk, t);
    const char *end = b.data + b.len;
    struct mp_obj o;
    const char *v;

    /* Integer column: integer default. Boolean column: boolean default. */
    v = map_get(describe_column(b.data, end, "number_of_chairs"), end, "default");
    ck_assert_int_eq(mp_next(&v, end, &o), 0);
    ck_assert_int_eq(o.type, MP_UINT);
    ck_assert_uint_eq(o.v.u, 1);
    v = map_get(describe_column(b.data, end, "is_active"), end, "default");
    ck_assert_int_eq(mp_next(&v, end, &o), 0);
    ck_assert_int_eq(o.type, MP_BOOL);
    ck_assert(o.v.b);
    v = map_get(describe_column(b.data, end, "has_pharmacy"), end, "default");
    ck_assert_int_eq(mp_next(&v, end, &o), 0);
    ck_assert_int_eq(o.type, MP_BOOL);
    ck_assert(!o.v.b);
    /* CHAR: a string; no default: nil; nullable without a default: nil. */
    ck_assert(
        str_is(map_get(describe_column(b.data, end, "country_code"), end, "default"), end, "US"));
    v = map_get(describe_column(b.data, end, "name"), end, "default");
    ck_assert_int_eq(mp_next(&v, end, &o), 0);
    ck_assert_int_eq(o.type, MP_NIL);
    ck_assert(str_is(map_get(describe_column(b.data, end, "id"), end, "default"), end, "UUID()"));
    ck_assert(str_is(map_get(describe_column(b.data, end, "id"), end, "type"), end, "VARCHAR(36)"));

    /* on_update and comment only where the DDL has them. */
    const char *upd = describe_column(b.data, end, "updated_at");
    ck_assert(str_is(map_get(upd, end, "on_update"), end, "CURRENT_TIMESTAMP"));
    ck_assert(str_is(map_get(upd, end, "default"), end, "CURRENT_TIMESTAMP"));
    ck_assert_ptr_null(map_get(upd, end, "comment"));
    ck_assert_ptr_null(map_get(describe_column(b.data, end, "created_at"), end, "on_update"));
    ck_assert(str_is(map_get(describe_column(b.data, end, "code"), end, "comment"), end,
                     "Short clinic code, unique per tenant"));

    /* FKs by name, including the ALTER TABLE ones. */
    const char *fk = array_at(map_get(b.data, end, "foreign_keys"), end, 2);
    ck_assert(str_is(map_get(fk, end, "name"), end, "fk_clinics_updated_by"));
    ck_assert(str_is(map_get(fk, end, "column"), end, "updated_by"));
    ck_assert(str_is(map_get(fk, end, "parent_table"), end, "users"));
    ck_assert(str_is(map_get(fk, end, "parent_column"), end, "id"));
    ck_assert(str_is(map_get(fk, end, "on_delete"), end, "SET NULL"));

    const char *un = array_at(map_get(b.data, end, "unique"), end, 0);
    ck_assert(str_is(map_get(un, end, "name"), end, "unique_tenant_clinic_code"));
    ck_assert_uint_eq(array_len(map_get(un, end, "columns"), end), 2);
    ck_assert(str_is(array_at(map_get(un, end, "columns"), end, 1), end, "code"));
    buf_reset(&b);

    /* Timestamp(3) default and DECIMAL default strings. */
    ck_describe_table(&pk, table("analytics_events"));
    end = b.data + b.len;
    ck_assert(str_is(map_get(describe_column(b.data, end, "occurred_at"), end, "default"), end,
                     "CURRENT_TIMESTAMP(3)"));
    buf_reset(&b);
    ck_describe_table(&pk, table("ab_tests"));
    end = b.data + b.len;
    ck_assert(str_is(map_get(describe_column(b.data, end, "confidence_level"), end, "default"), end,
                     "0.950"));
    const char *c = array_at(map_get(b.data, end, "checks"), end, 1);
    ck_assert(str_is(map_get(c, end, "name"), end, "chk_ab_tests_confidence"));
    ck_assert(str_is(map_get(c, end, "expression"), end,
                     "confidence_level > 0 AND confidence_level < 1"));
    buf_free(&b);
}
END_TEST

static Suite *catalog_suite(void)
{
    Suite *s = suite_create("catalog");
    TCase *tc = tcase_create("lookup");
    tcase_add_test(tc, test_totals);
    tcase_add_test(tc, test_table_lookup);
    tcase_add_test(tc, test_column_lookup);
    tcase_add_test(tc, test_index_ids);
    suite_add_tcase(s, tc);

    tc = tcase_create("invariants");
    tcase_add_test(tc, test_fk_invariants);
    tcase_add_test(tc, test_refs);
    tcase_add_test(tc, test_check_programs);
    tcase_add_test(tc, test_maintained_columns);
    suite_add_tcase(s, tc);

    tc = tcase_create("ddl");
    tcase_add_test(tc, test_spot_foreign_keys);
    tcase_add_test(tc, test_spot_indexes);
    tcase_add_test(tc, test_spot_columns);
    tcase_add_test(tc, test_spot_tables);
    tcase_add_test(tc, test_spot_checks);
    suite_add_tcase(s, tc);

    tc = tcase_create("describe");
    tcase_add_test(tc, test_describe_all);
    tcase_add_test(tc, test_describe_filter);
    tcase_add_test(tc, test_describe_values);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(catalog_suite());
}
