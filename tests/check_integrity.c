/*
 * Foreign keys and unique keys at the storage level (storage/fk.c,
 * storage/index.c, storage/rows.c), including what the wire cannot reach: the
 * tenant_id foreign key of a tenant whose row is gone, and the created_by /
 * updated_by foreign keys of a user deleted while their session writes on.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckfix.h"
#include "ckrun.h"
#include "ondelete.h"
#include "uuid.h"

static struct ckfix F;
static uint8_t acme[16], beta[16], clinic[16], beta_clinic[16], admin[16], patient[16];

static void setup(void)
{
    ckfix_setup(&F);
    ckfix_begin(&F, NULL);
    ckfix_tenant(&F, "acme", acme);
    ckfix_tenant(&F, "beta", beta);
    ckfix_use_tenant(&F, beta);
    ckfix_clinic(&F, "MAIN", beta_clinic);
    ckfix_use_tenant(&F, acme);
    ckfix_clinic(&F, "MAIN", clinic);
    ckfix_user(&F, "admin@acme.example", NULL, admin);
    ckfix_commit(&F);
    ckfix_begin(&F, admin);
    ckfix_patient(&F, clinic, "MRN-1", patient);
    ckfix_commit(&F);
}

static void teardown(void)
{
    if (F.txn)
        ckfix_abort(&F);
    ckfix_teardown(&F);
}

static void expect_fk(int rc, const char *constraint, const char *column, const char *parent)
{
    ck_assert_msg(rc == -CK_EFK, "expected fk_violation, got %s", ck_strerror(rc));
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), constraint);
    ck_assert_str_eq(ckfix_detail_str(&F, "column"), column);
    ck_assert_str_eq(ckfix_detail_str(&F, "parent_table"), parent);
}

static void expect_unique(int rc, const char *constraint)
{
    ck_assert_msg(rc == -CK_EUNIQUE, "expected unique_violation, got %s", ck_strerror(rc));
    ck_assert_str_eq(ckfix_detail_str(&F, "constraint"), constraint);
}

/* ------------------------------------------------------------------ foreign keys */

START_TEST(test_fk_missing_and_foreign_parent)
{
    uint8_t ghost[16], id[16];
    ck_uuid_v7(ghost);
    ckfix_begin(&F, admin);
    int rc = ckfix_try_insert(&F, "appointments", id, "clinic_id", ckfix_id(clinic), "patient_id",
                              ckfix_id(ghost), "appointment_date", "2026-10-01T09:00:00Z", NULL);
    expect_fk(rc, "fk_appointments_patient", "patient_id", "patients");
    /* Another tenant's clinic exists, but not here: the same refusal. */
    rc = ckfix_try_insert(&F, "patients", id, "clinic_id", ckfix_id(beta_clinic),
                          "medical_record_number", "MRN-9", "encrypted_demographics", "sealed",
                          "demographics_key_id", "k1", NULL);
    expect_fk(rc, "fk_patients_clinic", "clinic_id", "clinics");
    /* An update to a missing parent, likewise. */
    rc = ckfix_try_update(&F, "patients", patient, "preferred_dentist_id", ckfix_id(ghost), NULL);
    expect_fk(rc, "fk_patients_preferred_dentist", "preferred_dentist_id", "users");
    ckfix_abort(&F);
}
END_TEST

START_TEST(test_fk_tenant_without_row)
{
    /* A key space whose tenants row is missing (a tenant deleted while one of its
     * sessions still writes): tenant_id names no tenant. */
    uint8_t gone[16], id[16];
    ck_uuid_v7(gone);
    ckfix_begin(&F, NULL);
    ckfix_use_tenant(&F, gone);
    int rc = ckfix_try_insert(&F, "clinics", id, "name", "Ghost", "code", "GHOST", NULL);
    expect_fk(rc, "fk_clinics_tenant", "tenant_id", "tenants");
    ckfix_abort(&F);
}
END_TEST

START_TEST(test_fk_deleted_acting_user)
{
    /* A user hard-deleted while their session still writes: created_by and
     * updated_by would name a missing user. */
    uint8_t nurse[16], a[16], id[16];
    ckfix_begin(&F, admin);
    ckfix_user(&F, "nurse@acme.example", clinic, nurse);
    ckfix_appointment(&F, clinic, patient, a);
    struct ck_delete_result res;
    ck_assert_int_eq(ck_delete_hard(&F.c, ckfix_table("users"), nurse, &res), 0);
    ckfix_commit(&F);

    ckfix_begin(&F, nurse);
    int rc = ckfix_try_insert(&F, "appointments", id, "clinic_id", ckfix_id(clinic), "patient_id",
                              ckfix_id(patient), "appointment_date", "2026-10-01T09:00:00Z", NULL);
    expect_fk(rc, "fk_appointments_created_by", "created_by", "users");
    rc = ckfix_try_update(&F, "appointments", a, "status", "confirmed", NULL);
    expect_fk(rc, "fk_appointments_updated_by", "updated_by", "users");
    rc = ck_rows_soft_delete(&F.c, ckfix_table("appointments"), a);
    expect_fk(rc, "fk_appointments_updated_by", "updated_by", "users");
    ckfix_abort(&F);
    /* The same update by an existing user is fine. */
    ckfix_begin(&F, admin);
    ck_assert_int_eq(ckfix_try_update(&F, "appointments", a, "status", "confirmed", NULL), 0);
    ckfix_commit(&F);
}
END_TEST

START_TEST(test_fk_self_and_soft_deleted_parent)
{
    uint8_t note[16], own[16], child[16];
    ck_uuid_v7(own);
    ckfix_begin(&F, admin);
    /* A row may name itself through a self-referencing FK. */
    ckfix_insert(&F, "clinical_notes", note, "id", ckfix_id(own), "clinic_id", ckfix_id(clinic),
                 "patient_id", ckfix_id(patient), "amended_from_note_id", ckfix_id(own),
                 "encrypted_content", "sealed", "content_key_id", "k1", NULL);
    ck_assert_mem_eq(note, own, 16);
    /* A soft-deleted parent still exists, as in MySQL. */
    ck_assert_int_eq(ck_rows_soft_delete(&F.c, ckfix_table("patients"), patient), 0);
    ckfix_appointment(&F, clinic, patient, child);
    ckfix_commit(&F);
}
END_TEST

/* ------------------------------------------------------------------ unique keys */

static int drug(const char *sku, const char *barcode, uint8_t id[16])
{
    return ckfix_try_insert(&F, "pharmacy_drugs", id, "clinic_id", ckfix_id(clinic), "sku", sku,
                            "barcode", barcode, "name", "Amoxicillin", "unit_price", "1.00", NULL);
}

static int batch(const uint8_t drug_id[16], const char *lot, uint8_t id[16])
{
    return ckfix_try_insert(&F, "pharmacy_drug_inventory", id, "clinic_id", ckfix_id(clinic),
                            "drug_id", ckfix_id(drug_id), "batch_id", lot, "quantity_received",
                            "10", "cost_price", "0.50", "expiry_date", "2027-01-31", NULL);
}

START_TEST(test_unique_collation)
{
    uint8_t d[16], b[16], id[16];
    ckfix_begin(&F, admin);
    ck_assert_int_eq(drug("AMX-500", NULL, d), 0);
    ck_assert_int_eq(batch(d, "LOT-A1", b), 0);
    /* Case, trailing spaces, accents and ß compare as utf8mb4_unicode_ci does. */
    expect_unique(batch(d, "lot-a1", id), "unique_batch_drug");
    expect_unique(batch(d, "LOT-A1   ", id), "unique_batch_drug");
    ck_assert_int_eq(batch(d, "LOT-Ä2", id), 0);
    expect_unique(batch(d, "lot-a2", id), "unique_batch_drug");
    ck_assert_int_eq(batch(d, "Straße", id), 0);
    expect_unique(batch(d, "STRASSE", id), "unique_batch_drug");
    ck_assert_int_eq(batch(d, "José", id), 0);
    expect_unique(batch(d, "jose", id), "unique_batch_drug");
    /* Leading spaces count (PAD SPACE pads at the end only). */
    ck_assert_int_eq(batch(d, " LOT-A1", id), 0);
    ckfix_commit(&F);
}
END_TEST

START_TEST(test_unique_nulls_and_soft_delete)
{
    uint8_t d1[16], d2[16], u[16], id[16];
    ckfix_begin(&F, admin);
    /* NULL never collides: two drugs without a barcode. */
    ck_assert_int_eq(drug("AMX-1", NULL, d1), 0);
    ck_assert_int_eq(drug("AMX-2", NULL, d2), 0);
    expect_unique(drug("amx-1", "4006381333931", id), "unique_clinic_drug_sku");
    /* A soft-deleted user keeps the email. */
    ckfix_user(&F, "gone@acme.example", clinic, u);
    ck_assert_int_eq(ck_rows_soft_delete(&F.c, ckfix_table("users"), u), 0);
    int rc = ckfix_try_insert(&F, "users", id, "email", "GONE@acme.example", "first_name", "A",
                              "last_name", "B", NULL);
    expect_unique(rc, "unique_tenant_email");
    /* Moving a key onto another row's is refused; onto NULL is fine. */
    ck_assert_int_eq(ckfix_try_update(&F, "pharmacy_drugs", d2, "barcode", "123", NULL), 0);
    expect_unique(ckfix_try_update(&F, "pharmacy_drugs", d1, "barcode", "123 ", NULL),
                  "unique_clinic_drug_barcode");
    ck_assert_int_eq(ckfix_try_update(&F, "pharmacy_drugs", d2, "barcode", NULL, NULL), 0);
    ck_assert_int_eq(ckfix_try_update(&F, "pharmacy_drugs", d1, "barcode", "123", NULL), 0);
    ckfix_commit(&F);
}
END_TEST

START_TEST(test_unique_scope)
{
    uint8_t id[16];
    ckfix_begin(&F, NULL);
    /* unique_gateway_transaction lacks tenant_id in the DDL, and still holds per tenant. */
    uint8_t inv[16], inv2[16];
    ckfix_invoice(&F, clinic, patient, "INV-1", inv);
    ck_assert_int_eq(ckfix_try_insert(&F, "payments", id, "clinic_id", ckfix_id(clinic),
                                      "invoice_id", ckfix_id(inv), "payment_number", "P1", "amount",
                                      "1.00", "payment_method", "cash", "payment_gateway", "stripe",
                                      "gateway_reference", "ch_1", NULL),
                     0);
    expect_unique(ckfix_try_insert(&F, "payments", id, "clinic_id", ckfix_id(clinic), "invoice_id",
                                   ckfix_id(inv), "payment_number", "P2", "amount", "1.00",
                                   "payment_method", "cash", "payment_gateway", "Stripe",
                                   "gateway_reference", "CH_1", NULL),
                  "unique_gateway_transaction");
    ckfix_use_tenant(&F, beta);
    uint8_t bp[16];
    ckfix_patient(&F, beta_clinic, "MRN-1", bp); /* the same MRN in another tenant */
    ckfix_invoice(&F, beta_clinic, bp, "INV-1", inv2);
    ck_assert_int_eq(ckfix_try_insert(&F, "payments", id, "clinic_id", ckfix_id(beta_clinic),
                                      "invoice_id", ckfix_id(inv2), "payment_number", "P1",
                                      "amount", "1.00", "payment_method", "cash", "payment_gateway",
                                      "stripe", "gateway_reference", "ch_1", NULL),
                     0);
    /* tenants' unique keys are global. */
    int rc = ckfix_try_insert(&F, "tenants", id, "slug", "ACME", "name", "Other", NULL);
    expect_unique(rc, "unique_tenant_slug");
    ckfix_commit(&F);
}
END_TEST

static Suite *integrity_suite(void)
{
    Suite *s = suite_create("integrity");
    TCase *tc = tcase_create("fk");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_fk_missing_and_foreign_parent);
    tcase_add_test(tc, test_fk_tenant_without_row);
    tcase_add_test(tc, test_fk_deleted_acting_user);
    tcase_add_test(tc, test_fk_self_and_soft_deleted_parent);
    suite_add_tcase(s, tc);

    tc = tcase_create("unique");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_unique_collation);
    tcase_add_test(tc, test_unique_nulls_and_soft_delete);
    tcase_add_test(tc, test_unique_scope);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(integrity_suite());
}
