/*
 * Hard deletes (storage/ondelete.c) on a real LMDB environment: CASCADE chains,
 * SET NULL (which must move the cleared rows' index entries), the DDL's two
 * self-references, RESTRICT refusing the whole delete with the number of rows
 * that block it, the order independence that differs from InnoDB, and tenant
 * deletion removing the tenant's whole key space. After every delete that
 * succeeds the consistency checker must find nothing wrong.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "changelog.h"
#include "ckfix.h"
#include "ckrun.h"
#include "consistency.h"
#include "ondelete.h"
#include "uuid.h"

static struct ckfix F;
static uint8_t tenant[16], clinic[16], clinic2[16], dentist[16], patient[16], patient2[16];

static void setup(void)
{
    ckfix_setup(&F);
    ckfix_begin(&F, NULL);
    ckfix_tenant(&F, "acme", tenant);
    ckfix_use_tenant(&F, tenant);
    ckfix_clinic(&F, "MAIN", clinic);
    ckfix_clinic(&F, "EAST", clinic2);
    ckfix_user(&F, "dentist@acme.example", clinic, dentist);
    ckfix_commit(&F);
    ckfix_begin(&F, dentist);
    ckfix_patient(&F, clinic, "MRN-1", patient);
    ckfix_patient(&F, clinic, "MRN-2", patient2);
    ckfix_commit(&F);
}

static void teardown(void)
{
    if (F.txn)
        ckfix_abort(&F);
    ckfix_teardown(&F);
}

static const struct ck_table *T(const char *name)
{
    return ckfix_table(name);
}

static uint64_t cascaded(const struct ck_delete_result *r, const char *table)
{
    return r->cascaded[ck_table_index(T(table))];
}

static uint64_t set_null(const struct ck_delete_result *r, const char *table)
{
    return r->set_null[ck_table_index(T(table))];
}

static uint64_t total(const uint64_t counts[256])
{
    uint64_t n = 0;
    for (unsigned i = 0; i < 256; i++)
        n += counts[i];
    return n;
}

/* Hard-delete in the open transaction; returns the error. */
static int del(const char *table, const uint8_t id[16], struct ck_delete_result *res)
{
    ck_err_clear(&F.err);
    return ck_delete_hard(&F.c, T(table), id, res);
}

/* The whole environment checks clean (no transaction open). */
static void expect_consistent(void)
{
    MDB_txn *txn;
    ck_assert_int_eq(kv_read_begin(&F.kv, &txn), 0);
    struct ck_consistency_stats st;
    struct ck_err err = CK_ERR_INIT;
    ck_assert_int_eq(ck_consistency_check(&F.kv, txn, NULL, &st, &err), 0);
    kv_read_end(&F.kv, txn);
    ck_err_free(&err);
    ck_assert_msg(st.problems == 0, "%llu consistency problems", (unsigned long long)st.problems);
}

static uint64_t last_seq(void)
{
    uint64_t seq = 0;
    MDB_txn *txn;
    ck_assert_int_eq(kv_read_begin(&F.kv, &txn), 0);
    ck_assert_int_eq(ck_log_last_seq(txn, &F.kv, &seq), 0);
    kv_read_end(&F.kv, txn);
    return seq;
}

/* ------------------------------------------------------------------ CASCADE */

START_TEST(test_cascade_chain)
{
    uint8_t a1[16], a2[16], rec[16], conflict[16], note[16], inv[16], item1[16], item2[16],
        plan[16];
    uint8_t other_appt[16];
    ckfix_begin(&F, dentist);
    ckfix_appointment(&F, clinic, patient, a1);
    ckfix_appointment(&F, clinic, patient, a2);
    ckfix_appointment(&F, clinic, patient2, other_appt);
    ckfix_insert(&F, "appointment_recurrences", rec, "appointment_id", ckfix_id(a1), "frequency",
                 "weekly", "start_date", "2026-10-01", NULL);
    ckfix_insert(&F, "appointment_conflicts", conflict, "appointment_id", ckfix_id(a2),
                 "conflicting_appointment_id", ckfix_id(a1), "conflict_type",
                 "provider_double_booked", NULL);
    ckfix_insert(&F, "clinical_notes", note, "clinic_id", ckfix_id(clinic), "patient_id",
                 ckfix_id(patient), "appointment_id", ckfix_id(a1), "encrypted_content", "sealed",
                 "content_key_id", "k1", NULL);
    ckfix_insert(&F, "treatment_plans", plan, "clinic_id", ckfix_id(clinic), "patient_id",
                 ckfix_id(patient), "plan_number", "TP-1", "title", "Crowns", NULL);
    ckfix_invoice(&F, clinic, patient, "INV-1", inv);
    ck_assert_int_eq(ckfix_try_update(&F, "invoices", inv, "treatment_plan_id", ckfix_id(plan),
                                      "appointment_id", ckfix_id(a1), NULL),
                     0);
    ckfix_insert(&F, "invoice_items", item1, "invoice_id", ckfix_id(inv), "line_number", "1",
                 "description", "Crown", "unit_price", "500.00", "line_total", "500.00", NULL);
    ckfix_insert(&F, "invoice_items", item2, "invoice_id", ckfix_id(inv), "line_number", "2",
                 "description", "X-ray", "unit_price", "50.00", "line_total", "50.00", NULL);
    ckfix_commit(&F);

    /* An appointment: its recurrence and the conflict naming it go (CASCADE through
     * conflicting_appointment_id too); the note and invoice only forget it. */
    ckfix_begin(&F, dentist);
    struct ck_delete_result res;
    ck_assert_int_eq(del("appointments", a1, &res), 0);
    ck_assert_uint_eq(res.deleted, 1);
    ck_assert_uint_eq(cascaded(&res, "appointment_recurrences"), 1);
    ck_assert_uint_eq(cascaded(&res, "appointment_conflicts"), 1);
    ck_assert_uint_eq(total(res.cascaded), 2);
    ck_assert_uint_eq(set_null(&res, "clinical_notes"), 1);
    ck_assert_uint_eq(set_null(&res, "invoices"), 1);
    ck_assert_uint_eq(total(res.set_null), 2);
    ck_assert(!ckfix_exists(&F, "appointments", a1));
    ck_assert(!ckfix_exists(&F, "appointment_recurrences", rec));
    ck_assert(!ckfix_exists(&F, "appointment_conflicts", conflict));
    ck_assert_str_eq(ckfix_col(&F, "clinical_notes", note, "appointment_id"), "NULL");
    ck_assert_str_eq(ckfix_col(&F, "invoices", inv, "appointment_id"), "NULL");
    ck_assert_str_eq(ckfix_col(&F, "invoices", inv, "treatment_plan_id"), ckfix_id(plan));
    ckfix_commit(&F);
    expect_consistent();

    /* The patient: everything of theirs, two levels down; patient2's rows stay. */
    uint64_t seq = last_seq();
    ckfix_begin(&F, dentist);
    ck_assert_int_eq(del("patients", patient, &res), 0);
    ck_assert_uint_eq(cascaded(&res, "appointments"), 1);
    ck_assert_uint_eq(cascaded(&res, "clinical_notes"), 1);
    ck_assert_uint_eq(cascaded(&res, "treatment_plans"), 1);
    ck_assert_uint_eq(cascaded(&res, "invoices"), 1);
    ck_assert_uint_eq(cascaded(&res, "invoice_items"), 2);
    ck_assert_uint_eq(total(res.cascaded), 6);
    /* The plan's invoice goes too, so nothing is left to set NULL. */
    ck_assert_uint_eq(total(res.set_null), 0);
    const uint8_t *gone[] = {patient, a2, note, plan, inv, item1, item2};
    const char *gone_t[] = {"patients", "appointments",  "clinical_notes", "treatment_plans",
                            "invoices", "invoice_items", "invoice_items"};
    for (unsigned i = 0; i < 7; i++)
        ck_assert_msg(!ckfix_exists(&F, gone_t[i], gone[i]), "%s row survived", gone_t[i]);
    ck_assert(ckfix_exists(&F, "patients", patient2));
    ck_assert(ckfix_exists(&F, "appointments", other_appt));
    ckfix_commit(&F);
    /* One change record per removed row, all from this one transaction. */
    ck_assert_uint_eq(last_seq() - seq, 7);
    expect_consistent();
}
END_TEST

START_TEST(test_cascade_soft_deleted_children)
{
    /* A soft-deleted row still exists: it cascades like any other. */
    uint8_t a[16];
    ckfix_begin(&F, dentist);
    ckfix_appointment(&F, clinic, patient, a);
    ck_assert_int_eq(ck_rows_soft_delete(&F.c, T("appointments"), a), 0);
    ck_assert_int_eq(ck_rows_soft_delete(&F.c, T("patients"), patient), 0);
    struct ck_delete_result res;
    ck_assert_int_eq(del("patients", patient, &res), 0);
    ck_assert_uint_eq(cascaded(&res, "appointments"), 1);
    ck_assert(!ckfix_exists(&F, "appointments", a));
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

START_TEST(test_not_found)
{
    uint8_t ghost[16];
    ck_uuid_v7(ghost);
    ckfix_begin(&F, dentist);
    struct ck_delete_result res;
    ck_assert_int_eq(del("patients", ghost, &res), -CK_ENOTFOUND);
    ckfix_abort(&F);
}
END_TEST

/* ------------------------------------------------------------------ SET NULL */

START_TEST(test_set_null_moves_index_entries)
{
    /* A second dentist, referenced by appointments (dentist_id) and by the rows it
     * wrote (created_by, updated_by). */
    uint8_t doc[16], a[3][16], p3[16];
    ckfix_begin(&F, dentist);
    ckfix_user(&F, "doc@acme.example", clinic, doc);
    ckfix_commit(&F);
    ckfix_begin(&F, doc);
    for (unsigned i = 0; i < 3; i++) {
        ckfix_appointment(&F, clinic, patient, a[i]);
        ck_assert_int_eq(
            ckfix_try_update(&F, "appointments", a[i], "dentist_id", ckfix_id(doc), NULL), 0);
    }
    ckfix_patient(&F, clinic, "MRN-3", p3);
    ckfix_commit(&F);
    ckfix_begin(&F, dentist);
    ck_assert_uint_eq(ckfix_index_count(&F, "appointments", "idx_appointments_dentist_date", doc),
                      3);
    ck_assert_uint_eq(ckfix_index_count(&F, "appointments", "idx_appointments_created_by", doc), 3);
    uint64_t nulls_before =
        ckfix_index_count(&F, "appointments", "idx_appointments_dentist_date", NULL);
    char updated_at[64];
    snprintf(updated_at, sizeof updated_at, "%s",
             ckfix_col(&F, "appointments", a[0], "updated_at"));

    struct ck_delete_result res;
    ck_assert_int_eq(del("users", doc, &res), 0);
    /* Each row once, though two or three of its columns were cleared. */
    ck_assert_uint_eq(set_null(&res, "appointments"), 3);
    ck_assert_uint_eq(set_null(&res, "patients"), 1);
    ck_assert_uint_eq(total(res.set_null), 4);
    ck_assert_uint_eq(total(res.cascaded), 0);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_str_eq(ckfix_col(&F, "appointments", a[i], "dentist_id"), "NULL");
        ck_assert_str_eq(ckfix_col(&F, "appointments", a[i], "created_by"), "NULL");
        ck_assert_str_eq(ckfix_col(&F, "appointments", a[i], "updated_by"), "NULL");
        ck_assert(ckfix_has_entry(&F, "appointments", "idx_appointments_dentist_date", a[i]));
    }
    ck_assert_str_eq(ckfix_col(&F, "patients", p3, "created_by"), "NULL");
    /* The entries moved from the user's key to NULL's. */
    ck_assert_uint_eq(ckfix_index_count(&F, "appointments", "idx_appointments_dentist_date", doc),
                      0);
    ck_assert_uint_eq(ckfix_index_count(&F, "appointments", "idx_appointments_created_by", doc), 0);
    ck_assert_uint_eq(ckfix_index_count(&F, "appointments", "idx_appointments_dentist_date", NULL),
                      nulls_before + 3);
    /* As in InnoDB, the cascaded SET NULL is not an update by anyone: updated_at stays. */
    ck_assert_str_eq(ckfix_col(&F, "appointments", a[0], "updated_at"), updated_at);
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

START_TEST(test_self_reference_notes)
{
    /* n2 amends n1, n3 amends n2, n4 amends itself. */
    uint8_t n[5][16];
    ckfix_begin(&F, dentist);
    for (unsigned i = 1; i <= 4; i++)
        ckfix_insert(&F, "clinical_notes", n[i], "clinic_id", ckfix_id(clinic), "patient_id",
                     ckfix_id(patient), "encrypted_content", "sealed", "content_key_id", "k1",
                     NULL);
    ck_assert_int_eq(
        ckfix_try_update(&F, "clinical_notes", n[2], "amended_from_note_id", ckfix_id(n[1]), NULL),
        0);
    ck_assert_int_eq(
        ckfix_try_update(&F, "clinical_notes", n[3], "amended_from_note_id", ckfix_id(n[2]), NULL),
        0);
    ck_assert_int_eq(
        ckfix_try_update(&F, "clinical_notes", n[4], "amended_from_note_id", ckfix_id(n[4]), NULL),
        0);
    ckfix_commit(&F);
    expect_consistent();

    ckfix_begin(&F, dentist);
    struct ck_delete_result res;
    ck_assert_int_eq(del("clinical_notes", n[2], &res), 0);
    ck_assert_uint_eq(set_null(&res, "clinical_notes"), 1);
    ck_assert_uint_eq(total(res.cascaded), 0);
    ck_assert_str_eq(ckfix_col(&F, "clinical_notes", n[3], "amended_from_note_id"), "NULL");
    ck_assert(ckfix_has_entry(&F, "clinical_notes", "idx_clinical_notes_amended_from", n[3]));
    ck_assert(ckfix_exists(&F, "clinical_notes", n[1]));
    /* A note naming itself goes without clearing anything: its referrer is itself. */
    ck_assert_int_eq(del("clinical_notes", n[4], &res), 0);
    ck_assert_uint_eq(total(res.set_null), 0);
    ck_assert_uint_eq(
        ckfix_index_count(&F, "clinical_notes", "idx_clinical_notes_amended_from", n[4]), 0);
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

START_TEST(test_self_reference_categories)
{
    /* root <- child <- grandchild, and a cycle x <-> y. */
    uint8_t root[16], child[16], grand[16], x[16], y[16];
    ckfix_begin(&F, dentist);
    ckfix_insert(&F, "product_categories", root, "name", "Root", "slug", "root", NULL);
    ckfix_insert(&F, "product_categories", child, "name", "Child", "slug", "child", "parent_id",
                 ckfix_id(root), NULL);
    ckfix_insert(&F, "product_categories", grand, "name", "Grand", "slug", "grand", "parent_id",
                 ckfix_id(child), NULL);
    ckfix_insert(&F, "product_categories", x, "name", "X", "slug", "x", NULL);
    ckfix_insert(&F, "product_categories", y, "name", "Y", "slug", "y", "parent_id", ckfix_id(x),
                 NULL);
    ck_assert_int_eq(ckfix_try_update(&F, "product_categories", x, "parent_id", ckfix_id(y), NULL),
                     0);
    ckfix_commit(&F);

    ckfix_begin(&F, dentist);
    struct ck_delete_result res;
    ck_assert_int_eq(del("product_categories", root, &res), 0);
    ck_assert_uint_eq(set_null(&res, "product_categories"), 1);
    ck_assert_str_eq(ckfix_col(&F, "product_categories", child, "parent_id"), "NULL");
    ck_assert_str_eq(ckfix_col(&F, "product_categories", grand, "parent_id"), ckfix_id(child));
    ck_assert_int_eq(del("product_categories", x, &res), 0);
    ck_assert_uint_eq(set_null(&res, "product_categories"), 1);
    ck_assert_str_eq(ckfix_col(&F, "product_categories", y, "parent_id"), "NULL");
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

/* ------------------------------------------------------------------ RESTRICT */

/* The rows of a table in the tenant, counted through its primary key prefix. */
static uint64_t rows_of(const char *table)
{
    uint8_t prefix[17];
    memcpy(prefix, tenant, 16);
    prefix[16] = T(table)->id;
    return ckfix_count_prefix(&F, F.kv.rows, prefix, sizeof prefix);
}

START_TEST(test_restrict_refuses_everything)
{
    uint8_t inv[16], pay[3][16];
    ckfix_begin(&F, dentist);
    ckfix_invoice(&F, clinic, patient, "INV-1", inv);
    for (unsigned i = 0; i < 3; i++) {
        char num[16];
        snprintf(num, sizeof num, "PAY-%u", i);
        ckfix_payment(&F, clinic, inv, num, pay[i]);
    }
    ckfix_commit(&F);

    ckfix_begin(&F, dentist);
    uint64_t before[3] = {rows_of("invoices"), rows_of("payments"), rows_of("patients")};
    struct ck_delete_result res;
    ck_assert_int_eq(del("invoices", inv, &res), -CK_ERESTRICT);
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), "fk_payments_invoice");
    ck_assert_str_eq(ckfix_detail_str(&F, "child_table"), "payments");
    ck_assert_int_eq(ckfix_detail_int(&F, "count"), 3);
    /* Refused before anything was written: the same transaction sees every row. */
    ck_assert_uint_eq(rows_of("invoices"), before[0]);
    ck_assert_uint_eq(rows_of("payments"), before[1]);
    ck_assert(ckfix_exists(&F, "invoices", inv));
    /* Deeper: the patient's invoice is still paid for. */
    ck_assert_int_eq(del("patients", patient, &res), -CK_ERESTRICT);
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), "fk_payments_invoice");
    ck_assert_int_eq(ckfix_detail_int(&F, "count"), 3);
    ck_assert_uint_eq(rows_of("patients"), before[2]);
    ckfix_abort(&F);
    expect_consistent();
}
END_TEST

START_TEST(test_restrict_order_independent)
{
    /* InnoDB refuses to delete this clinic: when its cascade reaches the invoice
     * the payments (also the clinic's) still point at it. Here the payments are
     * part of what goes, so nothing survives to block. */
    uint8_t inv[16], pay[2][16];
    ckfix_begin(&F, dentist);
    ckfix_invoice(&F, clinic, patient, "INV-1", inv);
    ckfix_payment(&F, clinic, inv, "PAY-1", pay[0]);
    ckfix_payment(&F, clinic, inv, "PAY-2", pay[1]);
    ckfix_commit(&F);
    ckfix_begin(&F, NULL);
    struct ck_delete_result res;
    ck_assert_int_eq(del("clinics", clinic, &res), 0);
    ck_assert_uint_eq(cascaded(&res, "payments"), 2);
    ck_assert_uint_eq(cascaded(&res, "invoices"), 1);
    ck_assert_uint_eq(cascaded(&res, "patients"), 2);
    ck_assert_uint_eq(cascaded(&res, "users"), 1); /* users.clinic_id is CASCADE */
    ck_assert(!ckfix_exists(&F, "payments", pay[0]));
    ck_assert(ckfix_exists(&F, "clinics", clinic2));
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

START_TEST(test_restrict_survivor_deep_in_tree)
{
    /* Payments taken at another clinic for this clinic's invoices survive the
     * clinic and block it; count is every blocking payment over both invoices. */
    uint8_t inv[2][16], pay[4][16];
    ckfix_begin(&F, dentist);
    ckfix_invoice(&F, clinic, patient, "INV-1", inv[0]);
    ckfix_invoice(&F, clinic, patient2, "INV-2", inv[1]);
    for (unsigned i = 0; i < 4; i++) {
        char num[16];
        snprintf(num, sizeof num, "PAY-%u", i);
        ckfix_payment(&F, clinic2, inv[i / 2], num, pay[i]);
    }
    ckfix_commit(&F);
    ckfix_begin(&F, NULL);
    uint64_t before = rows_of("patients") + rows_of("invoices") + rows_of("payments") +
                      rows_of("users") + rows_of("clinics");
    struct ck_delete_result res;
    ck_assert_int_eq(del("clinics", clinic, &res), -CK_ERESTRICT);
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), "fk_payments_invoice");
    ck_assert_str_eq(ckfix_detail_str(&F, "child_table"), "payments");
    ck_assert_str_eq(ckfix_detail_str(&F, "table"), "invoices");
    ck_assert_int_eq(ckfix_detail_int(&F, "count"), 4);
    ck_assert_uint_eq(rows_of("patients") + rows_of("invoices") + rows_of("payments") +
                          rows_of("users") + rows_of("clinics"),
                      before);
    ckfix_abort(&F);
    /* Once those payments go, the clinic can. */
    ckfix_begin(&F, NULL);
    for (unsigned i = 0; i < 4; i++)
        ck_assert_int_eq(del("payments", pay[i], &res), 0);
    ck_assert_int_eq(del("clinics", clinic, &res), 0);
    ck_assert_uint_eq(cascaded(&res, "invoices"), 2);
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

START_TEST(test_restrict_products)
{
    /* Retire a product, don't delete it: order lines and stock movements block. */
    uint8_t product[16], order[16], line[16], move[16];
    ckfix_begin(&F, dentist);
    ckfix_insert(&F, "products", product, "sku", "GLV-1", "name", "Gloves", "unit_price", "9.99",
                 NULL);
    ckfix_insert(&F, "orders", order, "clinic_id", ckfix_id(clinic), "order_number", "PO-1", NULL);
    ckfix_insert(&F, "order_items", line, "order_id", ckfix_id(order), "product_id",
                 ckfix_id(product), "product_name", "Gloves", "quantity", "2", "unit_price", "9.99",
                 "line_total", "19.98", NULL);
    ckfix_insert(&F, "inventory_transactions", move, "clinic_id", ckfix_id(clinic), "product_id",
                 ckfix_id(product), "transaction_type", "usage", "quantity", "-1", NULL);
    ckfix_commit(&F);
    ckfix_begin(&F, dentist);
    struct ck_delete_result res;
    ck_assert_int_eq(del("products", product, &res), -CK_ERESTRICT);
    /* refs are visited in constraint-name order, as InnoDB does. */
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), "fk_inventory_transactions_product");
    ck_assert_int_eq(ckfix_detail_int(&F, "count"), 1);
    ck_assert_int_eq(del("inventory_transactions", move, &res), 0);
    ck_assert_int_eq(del("products", product, &res), -CK_ERESTRICT);
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), "fk_order_items_product");
    /* Deleting the order takes its lines; then the product is free. */
    ck_assert_int_eq(del("orders", order, &res), 0);
    ck_assert_uint_eq(cascaded(&res, "order_items"), 1);
    ck_assert_int_eq(del("products", product, &res), 0);
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

/* ------------------------------------------------------------------ tenants */

START_TEST(test_tenant_deletion_removes_key_space)
{
    uint8_t beta[16], beta_clinic[16], inv[16], pay[16], a[16];
    ckfix_begin(&F, dentist);
    ckfix_appointment(&F, clinic, patient, a);
    ckfix_invoice(&F, clinic, patient, "INV-1", inv);
    ckfix_payment(&F, clinic, inv, "PAY-1", pay);
    ckfix_commit(&F);
    ckfix_begin(&F, NULL);
    ckfix_tenant(&F, "beta", beta);
    ckfix_use_tenant(&F, beta);
    ckfix_clinic(&F, "MAIN", beta_clinic);
    ckfix_use_tenant(&F, tenant);
    ckfix_commit(&F);
    uint64_t beta_rows = ckfix_count_prefix(&F, F.kv.rows, beta, 16);
    uint64_t beta_entries = ckfix_count_prefix(&F, F.kv.idx, beta, 16);
    ck_assert_uint_gt(ckfix_count_prefix(&F, F.kv.rows, tenant, 16), 0);

    /* As `clinickv tenant delete` does it: the system deleting a tenants row. */
    ckfix_begin(&F, NULL);
    ckfix_use_tenant(&F, kv_system_tenant);
    struct ck_delete_result res;
    ck_assert_int_eq(del("tenants", tenant, &res), 0);
    ck_assert_uint_eq(res.deleted, 1);
    /* The payment goes with its tenant, where InnoDB would refuse (README). */
    ck_assert_uint_eq(cascaded(&res, "payments"), 1);
    ck_assert_uint_eq(cascaded(&res, "invoices"), 1);
    ck_assert_uint_eq(cascaded(&res, "appointments"), 1);
    ck_assert_uint_eq(cascaded(&res, "patients"), 2);
    ck_assert_uint_eq(cascaded(&res, "users"), 1);
    ck_assert_uint_eq(cascaded(&res, "clinics"), 2);
    ckfix_commit(&F);
    /* Nothing is left under the tenant's prefix, in rows or in idx. */
    ck_assert_uint_eq(ckfix_count_prefix(&F, F.kv.rows, tenant, 16), 0);
    ck_assert_uint_eq(ckfix_count_prefix(&F, F.kv.idx, tenant, 16), 0);
    /* The other tenant is untouched. */
    ck_assert_uint_eq(ckfix_count_prefix(&F, F.kv.rows, beta, 16), beta_rows);
    ck_assert_uint_eq(ckfix_count_prefix(&F, F.kv.idx, beta, 16), beta_entries);
    expect_consistent();
    /* The tenants row and its global unique entries went too: the slug is free. */
    uint8_t again[16];
    ckfix_begin(&F, NULL);
    ck_assert(!ckfix_exists(&F, "tenants", tenant));
    ckfix_tenant(&F, "acme", again);
    ckfix_commit(&F);
    expect_consistent();
}
END_TEST

static Suite *ondelete_suite(void)
{
    Suite *s = suite_create("ondelete");
    TCase *tc = tcase_create("cascade");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cascade_chain);
    tcase_add_test(tc, test_cascade_soft_deleted_children);
    tcase_add_test(tc, test_not_found);
    suite_add_tcase(s, tc);

    tc = tcase_create("set_null");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_set_null_moves_index_entries);
    tcase_add_test(tc, test_self_reference_notes);
    tcase_add_test(tc, test_self_reference_categories);
    suite_add_tcase(s, tc);

    tc = tcase_create("restrict");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_restrict_refuses_everything);
    tcase_add_test(tc, test_restrict_order_independent);
    tcase_add_test(tc, test_restrict_survivor_deep_in_tree);
    tcase_add_test(tc, test_restrict_products);
    suite_add_tcase(s, tc);

    tc = tcase_create("tenant");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_tenant_deletion_removes_key_space);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(ondelete_suite());
}
