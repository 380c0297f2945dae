/* Tenants: lookup, creation with an admin, demo data. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "index.h"
#include "phi.h"
#include "tenants.h"
#include "timeval.h"
#include "uuid.h"

int ck_tenant_resolve(MDB_txn *txn, struct kv *kv, const char *s, size_t len, uint8_t id_out[16])
{
    const struct ck_table *t = ck_table_find("tenants", 7);
    uint8_t id[16];
    if (ck_uuid_parse(s, len, id) == 0) {
        MDB_val v;
        struct ck_err err = CK_ERR_INIT;
        struct ck_ctx c = {.kv = kv, .txn = txn, .tenant = kv_system_tenant, .err = &err};
        int rc = ck_rows_get_raw(&c, t, id, &v);
        ck_err_free(&err);
        if (rc == 0)
            memcpy(id_out, id, 16);
        return rc;
    }
    const struct ck_index *ix = ck_index_find(t, "unique_tenant_slug", 18);
    struct ck_val v = {.kind = CK_V_STR, .len = (uint32_t)len, .p = s};
    return ck_index_find_unique(txn, kv, kv_system_tenant, t, ix, &v, id_out);
}

int ck_row_set_text(struct ck_row *row, ck_colmask *present, const char *name, const char *text)
{
    int col = ck_column_find(row->t, name, strlen(name));
    if (col < 0)
        return -CK_EUNKCOLUMN;
    int rc = ck_val_from_text(&row->t->cols[col], text, strlen(text), &row->v[col]);
    if (rc == 0)
        *present |= CK_COL(col);
    return rc;
}

void ck_row_set_uuid(struct ck_row *row, ck_colmask *present, const char *name,
                     const uint8_t id[16])
{
    int col = ck_column_find(row->t, name, strlen(name));
    if (col < 0)
        return;
    row->v[col].kind = CK_V_UUID;
    memcpy(row->v[col].uuid, id, 16);
    *present |= CK_COL(col);
}

int ck_password_hash(const char *password, size_t len, char *out)
{
    if (crypto_pwhash_str(out, password, len, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return -CK_ENOMEM;
    return 0;
}

static int insert(struct ck_ctx *c, struct ck_row *row, ck_colmask present, uint8_t id_out[16])
{
    struct buf stored = BUF_INIT;
    int rc = ck_rows_insert(c, row, present, &stored);
    if (rc == 0 && id_out)
        memcpy(id_out, row->v[row->t->col_id].uuid, 16);
    buf_free(&stored);
    return rc;
}

static int insert_user(struct ck_ctx *c, const char *email, const char *password,
                       const char *prehashed, const char *first, const char *last, const char *role,
                       const uint8_t *clinic, uint8_t id_out[16])
{
    char hash[crypto_pwhash_STRBYTES];
    int rc = 0;
    if (prehashed)
        snprintf(hash, sizeof hash, "%s", prehashed);
    else
        rc = ck_password_hash(password, strlen(password), hash);
    if (rc)
        return ck_err_set(c->err, rc, "cannot hash the password");
    struct ck_row row = {.t = ck_table_find("users", 5)};
    ck_colmask present = 0;
    if ((rc = ck_row_set_text(&row, &present, "email", email)) ||
        (rc = ck_row_set_text(&row, &present, "first_name", first)) ||
        (rc = ck_row_set_text(&row, &present, "last_name", last)) ||
        (rc = ck_row_set_text(&row, &present, "role", role)) ||
        (rc = ck_row_set_text(&row, &present, "status", "active")) ||
        (rc = ck_row_set_text(&row, &present, "password_hash", hash)))
        return ck_err_set(c->err, rc, "invalid user field (email too long?)");
    if (clinic)
        ck_row_set_uuid(&row, &present, "clinic_id", clinic);
    return insert(c, &row, present, id_out);
}

int ck_tenant_create(struct ck_ctx *c, const struct tenant_spec *spec, uint8_t tenant_id_out[16],
                     uint8_t user_id_out[16])
{
    struct ck_row row = {.t = ck_table_find("tenants", 7)};
    ck_colmask present = 0;
    int rc;
    if ((rc = ck_row_set_text(&row, &present, "slug", spec->slug)) ||
        (rc = ck_row_set_text(&row, &present, "name", spec->name ? spec->name : spec->slug)) ||
        (rc = ck_row_set_text(&row, &present, "status", "active")))
        return ck_err_set(c->err, -CK_EINVAL, "invalid tenant slug or name");
    struct ck_ctx tc = *c;
    tc.tenant = kv_system_tenant;
    tc.user = NULL;
    rc = insert(&tc, &row, present, tenant_id_out);
    if (rc)
        return rc;
    tc.tenant = tenant_id_out;
    return insert_user(&tc, spec->admin_email, spec->admin_password, spec->admin_password_hash,
                       spec->admin_first_name ? spec->admin_first_name : "Tenant",
                       spec->admin_last_name ? spec->admin_last_name : "Admin", "tenant_admin",
                       NULL, user_id_out);
}

/* ------------------------------------------------------------------ demo data */

static const struct {
    const char *first, *last, *dob, *phone, *email;
} demo_people[] = {
    {"Ana", "García", "1984-03-12", "+1 555 0101", "ana.garcia@example.com"},
    {"Ben", "Okafor", "1979-11-02", "+1 555 0102", "ben.okafor@example.com"},
    {"Chloé", "Martin", "1992-07-23", "+1 555 0103", "chloe.martin@example.com"},
    {"Dev", "Patel", "2001-01-30", "+1 555 0104", "dev.patel@example.com"},
    {"Eva", "Lindqvist", "1966-09-15", "+1 555 0105", "eva.lindqvist@example.com"},
};

/* A demo patient with sealed demographics and blind indexes, as a client's
 * row.insert with a demographics map would store it. */
static int demo_patient(struct ck_ctx *c, const struct phi_keyring *kr, const uint8_t clinic[16],
                        unsigned n, uint8_t id_out[16])
{
    struct ck_row row = {.t = ck_table_find("patients", 8)};
    const struct ck_table *t = row.t;
    ck_colmask present = 0;
    char mrn[32];
    snprintf(mrn, sizeof mrn, "DEMO-%04u", n + 1);
    ck_row_set_uuid(&row, &present, "clinic_id", clinic);
    int rc = ck_row_set_text(&row, &present, "medical_record_number", mrn);
    if (rc)
        return rc;
    uint8_t id[16];
    ck_uuid_v7(id);
    ck_row_set_uuid(&row, &present, "id", id);

    struct buf plain = BUF_INIT, sealed = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &plain);
    msgpack_pack_map(&pk, 5);
    mp_pack_cstr(&pk, "first_name");
    mp_pack_cstr(&pk, demo_people[n].first);
    mp_pack_cstr(&pk, "last_name");
    mp_pack_cstr(&pk, demo_people[n].last);
    mp_pack_cstr(&pk, "date_of_birth");
    mp_pack_cstr(&pk, demo_people[n].dob);
    mp_pack_cstr(&pk, "phone");
    mp_pack_cstr(&pk, demo_people[n].phone);
    mp_pack_cstr(&pk, "email");
    mp_pack_cstr(&pk, demo_people[n].email);
    struct phi_search search;
    int col = ck_column_find(t, "encrypted_demographics", 22);
    const struct phi_key *k = phi_key_active(kr);
    rc = phi_search_hashes(kr, c->tenant, plain.data, plain.data + plain.len, &search, c->err);
    if (rc == 0)
        rc = phi_seal(k, c->tenant, t, id, (unsigned)col, plain.data, plain.len, &sealed);
    if (rc == 0) {
        row.v[col].kind = CK_V_BIN;
        row.v[col].p = sealed.data;
        row.v[col].len = (uint32_t)sealed.len;
        present |= CK_COL(col);
        rc = ck_row_set_text(&row, &present, "demographics_key_id", k->id);
        for (unsigned i = 0; i < PHI_NSEARCH && rc == 0; i++) {
            if (search.has[i])
                rc = ck_row_set_text(&row, &present, phi_search_columns[i], search.hex[i]);
        }
    }
    if (rc == 0)
        rc = insert(c, &row, present, id_out);
    sodium_memzero(plain.data, plain.cap);
    buf_free(&plain);
    buf_free(&sealed);
    return rc;
}

int ck_tenant_add_demo(struct ck_ctx *c, const struct phi_keyring *kr, const char *staff_password)
{
    struct ck_row row = {.t = ck_table_find("clinics", 7)};
    ck_colmask present = 0;
    uint8_t clinic[16], dentist[16], patient[16];
    int rc;
    if ((rc = ck_row_set_text(&row, &present, "name", "Main Street Dental")) ||
        (rc = ck_row_set_text(&row, &present, "code", "MAIN")) ||
        (rc = ck_row_set_text(&row, &present, "has_pharmacy", "1")) ||
        (rc = ck_row_set_text(&row, &present, "number_of_chairs", "4")))
        return ck_err_set(c->err, rc, "demo clinic");
    rc = insert(c, &row, present, clinic);
    if (rc)
        return rc;
    static const struct {
        const char *email, *first, *last, *role;
    } staff[] = {
        {"dentist@demo.clinic", "Dana", "Molar", "dentist"},
        {"hygienist@demo.clinic", "Hal", "Floss", "hygienist"},
        {"frontdesk@demo.clinic", "Fran", "Desk", "receptionist"},
        {"pharmacist@demo.clinic", "Phil", "Pill", "pharmacist"},
    };
    for (unsigned i = 0; i < sizeof staff / sizeof staff[0]; i++) {
        rc = insert_user(c, staff[i].email, staff_password, NULL, staff[i].first, staff[i].last,
                         staff[i].role, clinic, i == 0 ? dentist : NULL);
        if (rc)
            return rc;
    }
    int64_t day = 24 * 3600 * 1000LL;
    int64_t base = c->now_ms - c->now_ms % day + 9 * 3600 * 1000LL;
    for (unsigned p = 0; p < 5; p++) {
        rc = demo_patient(c, kr, clinic, p, patient);
        if (rc)
            return rc;
        for (unsigned a = 0; a < 2; a++) {
            struct ck_row ap = {.t = ck_table_find("appointments", 12)};
            ck_colmask ap_present = 0;
            char when[25];
            ck_ts_format(base + (int64_t)(p * 2 + a) * day + (int64_t)p * 3600 * 1000LL, when);
            ck_row_set_uuid(&ap, &ap_present, "clinic_id", clinic);
            ck_row_set_uuid(&ap, &ap_present, "patient_id", patient);
            ck_row_set_uuid(&ap, &ap_present, "dentist_id", dentist);
            if ((rc = ck_row_set_text(&ap, &ap_present, "appointment_date", when)) ||
                (rc = ck_row_set_text(&ap, &ap_present, "appointment_type",
                                      a ? "cleaning" : "checkup")))
                return ck_err_set(c->err, rc, "demo appointment");
            rc = insert(c, &ap, ap_present, NULL);
            if (rc)
                return rc;
        }
    }
    return 0;
}
