/*
 * The consistency checker (storage/consistency.c) and `clinickv check`
 * (src/cmd_check.c): a database written through the storage layer checks clean,
 * and every kind of damage injected by raw LMDB writes beside the storage layer
 * (an index entry deleted, a stray one added, a parent row removed, a duplicate
 * unique key, values that break the catalog, malformed keys) is reported,
 * named by table, row id and index or constraint, never by a value.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckfix.h"
#include "ckrun.h"
#include "cli.h"
#include "consistency.h"
#include "index.h"
#include "uuid.h"

/* ------------------------------------------------------------------ the world */

struct world {
    uint8_t acme[16], beta[16];
    uint8_t clinic[16], clinic2[16], dentist[16];
    uint8_t patient[16], patient2[16];
    uint8_t appt[2][16];
    uint8_t invoice[16], payment[16], note[16];
    uint8_t beta_clinic[16];
};

static struct ckfix F;
static struct world W;

/* Two tenants; acme with a little of everything the checks below damage. */
static void setup(void)
{
    ckfix_setup(&F);
    ckfix_begin(&F, NULL);
    ckfix_tenant(&F, "acme", W.acme);
    ckfix_tenant(&F, "beta", W.beta);
    ckfix_use_tenant(&F, W.acme);
    ckfix_clinic(&F, "MAIN", W.clinic);
    ckfix_clinic(&F, "EAST", W.clinic2);
    ckfix_user(&F, "dentist@acme.example", W.clinic, W.dentist);
    ckfix_use_tenant(&F, W.beta);
    ckfix_clinic(&F, "MAIN", W.beta_clinic);
    ckfix_use_tenant(&F, W.acme);
    ckfix_commit(&F);
    /* Written as the dentist, so created_by/updated_by name a user. */
    ckfix_begin(&F, W.dentist);
    ckfix_patient(&F, W.clinic, "MRN-0001", W.patient);
    ckfix_patient(&F, W.clinic2, "MRN-0002", W.patient2);
    ckfix_appointment(&F, W.clinic, W.patient, W.appt[0]);
    ckfix_appointment(&F, W.clinic, W.patient, W.appt[1]);
    ckfix_invoice(&F, W.clinic, W.patient, "INV-1", W.invoice);
    ckfix_payment(&F, W.clinic, W.invoice, "PAY-1", W.payment);
    ckfix_insert(&F, "clinical_notes", W.note, "clinic_id", ckfix_id(W.clinic), "patient_id",
                 ckfix_id(W.patient), "appointment_id", ckfix_id(W.appt[0]), "author_id",
                 ckfix_id(W.dentist), "encrypted_content", "sealed", "content_key_id", "k1", NULL);
    ckfix_commit(&F);
}

static void teardown(void)
{
    ckfix_teardown(&F);
}

/* ------------------------------------------------------------------ running the checker */

#define MAX_SEEN 64

struct seen {
    unsigned n;
    struct ck_problem p[MAX_SEEN];
    char text[MAX_SEEN][512];
};

static void collect(void *arg, const struct ck_problem *p)
{
    struct seen *s = arg;
    if (s->n < MAX_SEEN) {
        s->p[s->n] = *p;
        ck_problem_format(p, s->text[s->n], sizeof s->text[0]);
    }
    s->n++;
}

/* Check (one tenant, or all when tenant is NULL) in a fresh read transaction. */
static struct ck_consistency_stats run(struct seen *s, const uint8_t *tenant)
{
    memset(s, 0, sizeof *s);
    MDB_txn *txn;
    ck_assert_int_eq(kv_read_begin(&F.kv, &txn), 0);
    struct ck_consistency_opts o = {.tenant = tenant, .report = collect, .arg = s};
    struct ck_consistency_stats st;
    struct ck_err err = CK_ERR_INIT;
    int rc = ck_consistency_check(&F.kv, txn, &o, &st, &err);
    ck_assert_msg(rc == 0, "check failed: %s", err.message);
    ck_err_free(&err);
    kv_read_end(&F.kv, txn);
    ck_assert_uint_eq(st.problems, s->n);
    return st;
}

static void dump(const struct seen *s)
{
    for (unsigned i = 0; i < s->n && i < MAX_SEEN; i++)
        fprintf(stderr, "  %s\n", s->text[i]);
}

/* How many problems of this kind (and, when given, table, constraint and row) were reported. */
static unsigned count(const struct seen *s, enum ck_problem_kind kind, const char *table,
                      const char *constraint, const uint8_t *id)
{
    unsigned n = 0;
    for (unsigned i = 0; i < s->n && i < MAX_SEEN; i++) {
        const struct ck_problem *p = &s->p[i];
        if (p->kind != kind)
            continue;
        if (table && (!p->table || strcmp(p->table->name, table) != 0))
            continue;
        if (constraint && (!p->constraint || strcmp(p->constraint, constraint) != 0))
            continue;
        if (id && (!p->has_id || memcmp(p->id, id, 16) != 0))
            continue;
        n++;
    }
    return n;
}

static void expect_clean(void)
{
    struct seen s;
    run(&s, NULL);
    if (s.n)
        dump(&s);
    ck_assert_uint_eq(s.n, 0);
}

/* ------------------------------------------------------------------ raw damage */

static const struct ck_table *T(const char *name)
{
    return ckfix_table(name);
}

/* The entry key of a row's entry in an index, as the write path built it. */
static void entry_key(const char *table, const char *index, const uint8_t id[16], struct buf *key)
{
    const struct ck_table *t = T(table);
    const struct ck_index *ix = ck_index_find(t, index, strlen(index));
    ck_assert_ptr_nonnull(ix);
    struct ck_row r;
    ck_assert_int_eq(ckfix_get(&F, table, id, &r), 0);
    bool any_null;
    size_t cols_len;
    ck_assert_int_eq(
        ck_index_entry_key(key, ck_row_tenant(t, F.tenant), ix, &r, &any_null, &cols_len), 0);
}

static void raw_put(MDB_dbi dbi, const void *k, size_t klen, const void *v, size_t vlen)
{
    MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
    ck_assert_int_eq(mdb_put(F.txn, dbi, &key, &val, 0), 0);
}

static void raw_del(MDB_dbi dbi, const void *k, size_t klen)
{
    MDB_val key = {klen, (void *)k};
    ck_assert_int_eq(mdb_del(F.txn, dbi, &key, NULL), 0);
}

/* Rewrite a stored row with one column changed (to text, or NULL), and nothing
 * else: its index entries stay as they were. */
static void raw_set(const char *table, const uint8_t id[16], const char *col, const char *text)
{
    const struct ck_table *t = T(table);
    MDB_val v;
    ck_assert_int_eq(ck_rows_get_raw(&F.c, t, id, &v), 0);
    struct buf copy = BUF_INIT, enc = BUF_INIT;
    struct ck_row r;
    ck_assert_int_eq(ck_rows_decode_copy(t, &v, &copy, &r), 0);
    int c = ck_column_find(t, col, strlen(col));
    ck_assert_int_ge(c, 0);
    if (!text)
        r.v[c].kind = CK_V_NULL;
    else
        ck_assert_int_eq(ck_val_from_text(&t->cols[c], text, strlen(text), &r.v[c]), 0);
    ck_row_encode(&r, &enc);
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, ck_row_tenant(t, F.tenant), t->id, id);
    raw_put(F.kv.rows, key, sizeof key, enc.data, enc.len);
    buf_free(&copy);
    buf_free(&enc);
}

static void raw_set_int(const char *table, const uint8_t id[16], const char *col, int64_t i)
{
    const struct ck_table *t = T(table);
    MDB_val v;
    ck_assert_int_eq(ck_rows_get_raw(&F.c, t, id, &v), 0);
    struct buf copy = BUF_INIT, enc = BUF_INIT;
    struct ck_row r;
    ck_assert_int_eq(ck_rows_decode_copy(t, &v, &copy, &r), 0);
    int c = ck_column_find(t, col, strlen(col));
    r.v[c].kind = CK_V_INT;
    r.v[c].i = i;
    ck_row_encode(&r, &enc);
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, ck_row_tenant(t, F.tenant), t->id, id);
    raw_put(F.kv.rows, key, sizeof key, enc.data, enc.len);
    buf_free(&copy);
    buf_free(&enc);
}

static void row_key(const char *table, const uint8_t id[16], uint8_t key[KV_ROW_KEY_LEN])
{
    const struct ck_table *t = T(table);
    kv_row_key(key, ck_row_tenant(t, F.tenant), t->id, id);
}

/* ------------------------------------------------------------------ clean databases */

START_TEST(test_clean)
{
    struct seen s;
    struct ck_consistency_stats st = run(&s, NULL);
    ck_assert_uint_eq(st.problems, 0);
    ck_assert_uint_eq(st.rows[ck_table_index(T("tenants"))], 2);
    ck_assert_uint_eq(st.rows[ck_table_index(T("clinics"))], 3);
    ck_assert_uint_eq(st.rows[ck_table_index(T("appointments"))], 2);
    /* tenants, clinics, users, patients, appointments, invoice, payment, note, and the
     * payment's audit row (storage/audit.c). */
    ck_assert_uint_eq(st.rows[ck_table_index(T("payment_audit_log"))], 1);
    ck_assert_uint_eq(st.rows_total, 2 + 3 + 1 + 2 + 2 + 1 + 1 + 1 + 1);
    /* Every entry was found from its row, and every entry walked belongs to one. */
    ck_assert_uint_gt(st.entries_total, 0);
    ck_assert_uint_eq(st.entries_total, st.entries_verified);
    /* One entry per row per index. */
    const struct ck_table *a = T("appointments");
    for (unsigned i = 0; i < a->nindexes; i++)
        ck_assert_uint_eq(st.entries[a->indexes[i].id], 2);
    ck_assert_uint_gt(st.fks_checked, 0);
    ck_assert_uint_gt(st.unique_checked, 0);
    ck_assert_uint_gt(st.checks_evaluated, 0);
}
END_TEST

START_TEST(test_clean_after_every_write_kind)
{
    /* Update (moving entries), soft delete, restore, SET NULL, cascade. */
    ckfix_begin(&F, W.dentist);
    ck_assert_int_eq(ckfix_try_update(&F, "appointments", W.appt[1], "appointment_date",
                                      "2026-11-02T10:30:00Z", "status", "confirmed", NULL),
                     0);
    ck_assert_int_eq(ck_rows_soft_delete(&F.c, T("patients"), W.patient2), 0);
    struct buf stored = BUF_INIT;
    ck_assert_int_eq(ck_rows_restore(&F.c, T("patients"), W.patient2, &stored), 0);
    ck_assert_int_eq(ck_rows_soft_delete(&F.c, T("patients"), W.patient2), 0);
    buf_free(&stored);
    ckfix_commit(&F);
    expect_clean();
}
END_TEST

START_TEST(test_tenant_scope_clean)
{
    struct seen s;
    struct ck_consistency_stats st = run(&s, W.beta);
    ck_assert_uint_eq(st.problems, 0);
    /* beta's clinic and beta's own tenants row, nothing of acme. */
    ck_assert_uint_eq(st.rows_total, 2);
    ck_assert_uint_eq(st.rows[ck_table_index(T("clinics"))], 1);
    ck_assert_uint_eq(st.rows[ck_table_index(T("tenants"))], 1);
}
END_TEST

/* ------------------------------------------------------------------ injected damage */

START_TEST(test_missing_entry)
{
    ckfix_begin(&F, NULL);
    struct buf key = BUF_INIT;
    entry_key("appointments", "idx_appointments_patient", W.appt[1], &key);
    raw_del(F.kv.idx, key.data, key.len);
    buf_free(&key);
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(
        count(&s, CK_PROB_ENTRY_MISSING, "appointments", "idx_appointments_patient", W.appt[1]), 1);
    ck_assert_ptr_nonnull(strstr(s.text[0], ckfix_id(W.appt[1])));
}
END_TEST

START_TEST(test_stray_entry_no_row)
{
    /* A copy of a real entry with a row id that names no row. */
    ckfix_begin(&F, NULL);
    struct buf key = BUF_INIT;
    entry_key("patients", "idx_patients_tenant_clinic", W.patient, &key);
    uint8_t ghost[16];
    ck_uuid_v7(ghost);
    memcpy(key.data + key.len - 16, ghost, 16);
    raw_put(F.kv.idx, key.data, key.len, "", 0);
    buf_free(&key);
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(
        count(&s, CK_PROB_ENTRY_STRAY, "patients", "idx_patients_tenant_clinic", ghost), 1);
}
END_TEST

START_TEST(test_stray_entry_wrong_values)
{
    /* An entry of a real row, but for values the row does not hold: what a write
     * that moved a row without moving its entry would leave. */
    ckfix_begin(&F, NULL);
    struct buf key = BUF_INIT;
    entry_key("appointments", "idx_appointments_clinic_date", W.appt[0], &key);
    ckfix_commit(&F);
    ckfix_begin(&F, NULL);
    raw_set("appointments", W.appt[0], "appointment_date", "2027-03-03T08:00:00Z");
    ckfix_commit(&F);
    /* The old entry is still there; the new one was never written. */
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(
        count(&s, CK_PROB_ENTRY_STRAY, "appointments", "idx_appointments_clinic_date", W.appt[0]),
        1);
    ck_assert_uint_eq(
        count(&s, CK_PROB_ENTRY_MISSING, "appointments", "idx_appointments_clinic_date", W.appt[0]),
        1);
    /* Every index with appointment_date in it: one stray and one missing each. */
    const struct ck_table *t = T("appointments");
    unsigned with_date = 0;
    int date = ck_column_find(t, "appointment_date", 16);
    for (unsigned i = 0; i < t->nindexes; i++) {
        for (unsigned j = 0; j < t->indexes[i].ncols; j++)
            with_date += t->indexes[i].cols[j] == date;
    }
    ck_assert_uint_ge(with_date, 5);
    ck_assert_uint_eq(count(&s, CK_PROB_ENTRY_STRAY, "appointments", NULL, W.appt[0]), with_date);
    ck_assert_uint_eq(count(&s, CK_PROB_ENTRY_MISSING, "appointments", NULL, W.appt[0]), with_date);
    ck_assert_uint_eq(s.n, 2 * with_date);
    buf_free(&key);
}
END_TEST

START_TEST(test_orphan_fk)
{
    /* The patient row removed by a raw mdb_del: its appointments, invoice and note
     * now name no patient, and its own index entries name no row. */
    ckfix_begin(&F, NULL);
    uint8_t key[KV_ROW_KEY_LEN];
    row_key("patients", W.patient, key);
    raw_del(F.kv.rows, key, sizeof key);
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(count(&s, CK_PROB_FK, "appointments", "fk_appointments_patient", W.appt[0]),
                      1);
    ck_assert_uint_eq(count(&s, CK_PROB_FK, "appointments", "fk_appointments_patient", W.appt[1]),
                      1);
    ck_assert_uint_eq(count(&s, CK_PROB_FK, "invoices", "fk_invoices_patient", W.invoice), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_FK, "clinical_notes", "fk_clinical_notes_patient", W.note),
                      1);
    ck_assert_uint_eq(count(&s, CK_PROB_FK, NULL, NULL, NULL), 4);
    unsigned strays = count(&s, CK_PROB_ENTRY_STRAY, "patients", NULL, W.patient);
    ck_assert_uint_eq(strays, T("patients")->nindexes);
    ck_assert_uint_eq(s.n, 4 + strays);
    /* FK problems name the column and the parent table. */
    for (unsigned i = 0; i < s.n; i++) {
        if (s.p[i].kind == CK_PROB_FK) {
            ck_assert_str_eq(s.p[i].column, "patient_id");
            ck_assert_str_eq(s.p[i].parent_table, "patients");
        }
    }
}
END_TEST

START_TEST(test_duplicate_unique)
{
    /* A second users row with the first one's email (other case), written raw
     * with all its entries, so only the duplicate is wrong. */
    ckfix_begin(&F, NULL);
    const struct ck_table *t = T("users");
    MDB_val v;
    ck_assert_int_eq(ck_rows_get_raw(&F.c, t, W.dentist, &v), 0);
    struct buf copy = BUF_INIT, enc = BUF_INIT, key = BUF_INIT;
    struct ck_row r;
    ck_assert_int_eq(ck_rows_decode_copy(t, &v, &copy, &r), 0);
    uint8_t dup[16];
    ck_uuid_v7(dup);
    memcpy(r.v[t->col_id].uuid, dup, 16);
    int email = ck_column_find(t, "email", 5);
    r.v[email].p = "DENTIST@ACME.EXAMPLE";
    r.v[email].len = 20;
    ck_row_encode(&r, &enc);
    uint8_t rk[KV_ROW_KEY_LEN];
    kv_row_key(rk, F.tenant, t->id, dup);
    raw_put(F.kv.rows, rk, sizeof rk, enc.data, enc.len);
    for (unsigned i = 0; i < t->nindexes; i++) {
        bool any_null;
        size_t cols_len;
        ck_assert_int_eq(
            ck_index_entry_key(&key, F.tenant, &t->indexes[i], &r, &any_null, &cols_len), 0);
        raw_put(F.kv.idx, key.data, key.len, "", 0);
    }
    buf_free(&copy);
    buf_free(&enc);
    buf_free(&key);
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(s.n, 1);
    const struct ck_problem *p = &s.p[0];
    ck_assert_int_eq(p->kind, CK_PROB_UNIQUE);
    ck_assert_str_eq(p->constraint, "unique_tenant_email");
    ck_assert(p->has_id && p->has_other);
    /* The pair is named once, by both ids. */
    bool ids = (memcmp(p->id, dup, 16) == 0 && memcmp(p->other_id, W.dentist, 16) == 0) ||
               (memcmp(p->id, W.dentist, 16) == 0 && memcmp(p->other_id, dup, 16) == 0);
    ck_assert(ids);
    /* ...and never by the value they share. */
    ck_assert_ptr_null(strcasestr(s.text[0], "dentist@acme"));
}
END_TEST

START_TEST(test_check_violation)
{
    ckfix_begin(&F, NULL);
    raw_set("appointments", W.appt[0], "duration_minutes", "1");
    raw_set("payments", W.payment, "refunded_amount", "99.00");
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(
        count(&s, CK_PROB_CHECK, "appointments", "chk_appointments_duration", W.appt[0]), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_CHECK, "payments", "chk_payments_amounts", W.payment), 1);
    ck_assert_uint_eq(s.n, 2);
}
END_TEST

START_TEST(test_bad_values)
{
    ckfix_begin(&F, NULL);
    raw_set_int("appointments", W.appt[0], "reminder_count", 300); /* TINYINT UNSIGNED */
    raw_set_int("appointments", W.appt[1], "source", 99);          /* ENUM ordinal */
    raw_set_int("invoices", W.invoice, "issue_date", 4000000);     /* past 9999-12-31 */
    raw_set_int("payments", W.payment, "payment_date", INT64_C(4102444800000)); /* 2100 */
    raw_set("clinical_notes", W.note, "is_confidential", NULL);                 /* NOT NULL */
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(count(&s, CK_PROB_VALUE, "appointments", NULL, W.appt[0]), 1);
    ck_assert_str_eq(s.p[0].column, "reminder_count");
    ck_assert_uint_eq(count(&s, CK_PROB_VALUE, "appointments", NULL, W.appt[1]), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_VALUE, "invoices", NULL, W.invoice), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_VALUE, "payments", NULL, W.payment), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_NOT_NULL, "clinical_notes", NULL, W.note), 1);
    ck_assert_uint_eq(s.n, 5);
}
END_TEST

START_TEST(test_bad_rows)
{
    ckfix_begin(&F, NULL);
    uint8_t key[KV_ROW_KEY_LEN];
    /* Bytes that are no row. */
    row_key("invoices", W.invoice, key);
    raw_put(F.kv.rows, key, sizeof key, "\xc1garbage", 8);
    /* A row whose id column is another row's. */
    raw_set("appointments", W.appt[1], "id", ckfix_id(W.appt[0]));
    /* A row whose tenant_id is another tenant's. */
    raw_set("clinics", W.clinic2, "tenant_id", ckfix_id(W.beta));
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(count(&s, CK_PROB_ROW_DECODE, "invoices", NULL, W.invoice), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_ROW_ID, "appointments", NULL, W.appt[1]), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_ROW_TENANT, "clinics", NULL, W.clinic2), 1);
    /* The clinic's entry under idx_clinics_tenant_active_name does not encode
     * tenant_id (the prefix does), so the entries still match: 3 problems. */
    ck_assert_uint_eq(s.n, 3);
}
END_TEST

START_TEST(test_bad_keys)
{
    ckfix_begin(&F, NULL);
    uint8_t key[KV_ROW_KEY_LEN + 1] = {0};
    memcpy(key, W.acme, 16);
    key[16] = 250; /* no such table */
    raw_put(F.kv.rows, key, KV_ROW_KEY_LEN, "\x90", 1);
    raw_put(F.kv.rows, key, 10, "\x90", 1); /* too short */
    uint8_t ekey[16 + 2 + 1 + 16] = {0};
    memcpy(ekey, W.acme, 16);
    ekey[16] = 0x7f; /* index id 0x7f01: no such index */
    ekey[17] = 0x01;
    raw_put(F.kv.idx, ekey, sizeof ekey, "", 0);
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(count(&s, CK_PROB_ROW_KEY, NULL, NULL, NULL), 2);
    ck_assert_uint_eq(count(&s, CK_PROB_ENTRY_KEY, NULL, NULL, NULL), 1);
    ck_assert_uint_eq(s.n, 3);
}
END_TEST

START_TEST(test_deleted_tenant_row)
{
    /* beta's tenants row removed raw: its clinic's tenant_id names no tenant, and
     * the row's global index entries (slug, custom domain, status) are stray. */
    ckfix_begin(&F, NULL);
    uint8_t key[KV_ROW_KEY_LEN];
    kv_row_key(key, kv_system_tenant, T("tenants")->id, W.beta);
    raw_del(F.kv.rows, key, sizeof key);
    ckfix_commit(&F);
    struct seen s;
    run(&s, NULL);
    dump(&s);
    ck_assert_uint_eq(count(&s, CK_PROB_FK, "clinics", "fk_clinics_tenant", W.beta_clinic), 1);
    ck_assert_uint_eq(count(&s, CK_PROB_ENTRY_STRAY, "tenants", NULL, W.beta),
                      T("tenants")->nindexes);
    ck_assert_uint_eq(s.n, 1 + T("tenants")->nindexes);
}
END_TEST

START_TEST(test_tenant_scope)
{
    /* Damage in beta is beta's: a check of acme does not see it. */
    ckfix_use_tenant(&F, W.beta);
    ckfix_begin(&F, NULL);
    struct buf key = BUF_INIT;
    entry_key("clinics", "unique_tenant_clinic_code", W.beta_clinic, &key);
    raw_del(F.kv.idx, key.data, key.len);
    buf_free(&key);
    ckfix_commit(&F);
    struct seen s;
    run(&s, W.acme);
    ck_assert_uint_eq(s.n, 0);
    run(&s, W.beta);
    ck_assert_uint_eq(s.n, 1);
    ck_assert_uint_eq(
        count(&s, CK_PROB_ENTRY_MISSING, "clinics", "unique_tenant_clinic_code", W.beta_clinic), 1);
    run(&s, NULL);
    ck_assert_uint_eq(s.n, 1);
}
END_TEST

START_TEST(test_kind_names)
{
    const char *seen[16] = {0};
    for (int k = CK_PROB_ROW_KEY; k <= CK_PROB_ENTRY_KEY; k++) {
        const char *name = ck_problem_kind_name((enum ck_problem_kind)k);
        ck_assert_str_ne(name, "unknown");
        for (int j = CK_PROB_ROW_KEY; j < k; j++)
            ck_assert_str_ne(seen[j], name);
        seen[k] = name;
    }
    ck_assert_str_eq(ck_problem_kind_name((enum ck_problem_kind)0), "unknown");
}
END_TEST

/* ------------------------------------------------------------------ clinickv check */

/* Run cmd_check with args, its standard output in out (caller frees). */
static int cli(char **out, const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[8] = {"check", "--data", F.dir};
    int argc = 3;
    const char *extra[] = {a1, a2, a3, a4};
    for (unsigned i = 0; i < 4 && extra[i]; i++)
        argv[argc++] = (char *)extra[i];
    char path[300];
    snprintf(path, sizeof path, "%s/check.out", F.dir);
    fflush(stdout);
    int saved = dup(1);
    ck_assert(freopen(path, "w", stdout) != NULL);
    int status = cmd_check(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = 0;
    fclose(f);
    *out = strdup(text);
    return status;
}

START_TEST(test_cli)
{
    char *out;
    ck_assert_int_eq(cli(&out, NULL, NULL, NULL, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "no problems"));
    ck_assert_ptr_nonnull(strstr(out, "appointments"));
    free(out);
    ck_assert_int_eq(cli(&out, "--json", NULL, NULL, NULL), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"ok\": true"));
    ck_assert_ptr_nonnull(strstr(out, "\"idx_appointments_patient\": 2"));
    free(out);

    /* Two problems: exit status 1, each named, no values. */
    ckfix_begin(&F, NULL);
    struct buf key = BUF_INIT;
    entry_key("appointments", "idx_appointments_patient", W.appt[1], &key);
    raw_del(F.kv.idx, key.data, key.len);
    buf_free(&key);
    uint8_t rk[KV_ROW_KEY_LEN];
    row_key("invoices", W.invoice, rk);
    raw_del(F.kv.rows, rk, sizeof rk); /* the payment's invoice */
    ckfix_commit(&F);
    ck_assert_int_eq(cli(&out, NULL, NULL, NULL, NULL), 1);
    ck_assert_ptr_nonnull(strstr(out, "missing_entry: appointments"));
    ck_assert_ptr_nonnull(strstr(out, "idx_appointments_patient"));
    ck_assert_ptr_nonnull(strstr(out, "fk_payments_invoice (invoice_id) names no invoices row"));
    ck_assert_ptr_nonnull(strstr(out, ckfix_id(W.payment)));
    ck_assert_ptr_null(strstr(out, "INV-1"));
    ck_assert_ptr_null(strstr(out, "MRN-0001"));
    free(out);
    ck_assert_int_eq(cli(&out, "--json", "--max-problems", "1", NULL), 1);
    ck_assert_ptr_nonnull(strstr(out, "\"ok\": false"));
    ck_assert_ptr_nonnull(strstr(out, "\"problems_listed\": 1"));
    ck_assert_ptr_nonnull(strstr(out, "\"kind\": "));
    free(out);
    /* Scoped to beta, which is intact. */
    ck_assert_int_eq(cli(&out, "--tenant", "beta", NULL, NULL), 0);
    free(out);
    ck_assert_int_eq(cli(&out, "--tenant", "nosuch", NULL, NULL), 3);
    free(out);
    ck_assert_int_eq(cli(&out, "--bogus", NULL, NULL, NULL), 2);
    free(out);
}
END_TEST

static Suite *consistency_suite(void)
{
    Suite *s = suite_create("consistency");
    TCase *tc = tcase_create("clean");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_clean);
    tcase_add_test(tc, test_clean_after_every_write_kind);
    tcase_add_test(tc, test_tenant_scope_clean);
    tcase_add_test(tc, test_kind_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("damage");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_missing_entry);
    tcase_add_test(tc, test_stray_entry_no_row);
    tcase_add_test(tc, test_stray_entry_wrong_values);
    tcase_add_test(tc, test_orphan_fk);
    tcase_add_test(tc, test_duplicate_unique);
    tcase_add_test(tc, test_check_violation);
    tcase_add_test(tc, test_bad_values);
    tcase_add_test(tc, test_bad_rows);
    tcase_add_test(tc, test_bad_keys);
    tcase_add_test(tc, test_deleted_tenant_row);
    tcase_add_test(tc, test_tenant_scope);
    suite_add_tcase(s, tc);

    tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_cli);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(consistency_suite());
}
