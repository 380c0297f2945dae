/* Storage fixtures for Check suites (ckfix.h). */
#include <check.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckfix.h"
#include "datadir.h"
#include "index.h"
#include "uuid.h"

#define CKFIX_START_MS INT64_C(1790000000000) /* 2026-09-21, inside TIMESTAMP's range */

void ckfix_setup(struct ckfix *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/ckfix-XXXXXX");
    ck_assert_msg(mkdtemp(f->dir) != NULL, "mkdtemp failed");
    struct ck_err err = CK_ERR_INIT;
    int rc = kv_open(&f->kv, f->dir, true, NULL, &err);
    ck_assert_msg(rc == 0, "kv_open %s: %s", f->dir, err.message);
    ck_err_free(&err);
    f->now_ms = CKFIX_START_MS;
    /* The metadata datadir_open() verifies, so the directory is one `clinickv check` opens. */
    MDB_txn *txn;
    char format = CK_DATA_FORMAT, row_format = CK_ROW_FORMAT, pharmacy = 1;
    ck_assert_int_eq(kv_write_begin(&f->kv, &txn), 0);
    ck_assert_int_eq(kv_meta_put(&f->kv, txn, "format", &format, 1), 0);
    ck_assert_int_eq(kv_meta_put(&f->kv, txn, "row_format", &row_format, 1), 0);
    ck_assert_int_eq(kv_meta_put(&f->kv, txn, "pharmacy", &pharmacy, 1), 0);
    ck_assert_int_eq(kv_meta_put(&f->kv, txn, "schema_version", ck_catalog.schema_version,
                                 strlen(ck_catalog.schema_version)),
                     0);
    ck_assert_int_eq(kv_write_commit(&f->kv, txn), 0);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void ckfix_teardown(struct ckfix *f)
{
    ck_assert_msg(f->txn == NULL, "a transaction is still open");
    kv_close(&f->kv);
    ck_err_free(&f->err);
    ck_assert_int_eq(nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

void ckfix_begin(struct ckfix *f, const uint8_t *user)
{
    ck_assert_msg(f->txn == NULL, "a transaction is already open");
    ck_assert_int_eq(kv_write_begin(&f->kv, &f->txn), 0);
    f->log = (struct ck_log){0};
    f->now_ms += 1000;
    if (user)
        memcpy(f->user, user, 16);
    f->c = (struct ck_ctx){.kv = &f->kv,
                           .txn = f->txn,
                           .tenant = f->tenant,
                           .user = user ? f->user : NULL,
                           .now_ms = f->now_ms,
                           .log = &f->log,
                           .err = &f->err};
}

void ckfix_commit(struct ckfix *f)
{
    ck_assert_int_eq(kv_write_commit(&f->kv, f->txn), 0);
    f->txn = NULL;
}

void ckfix_abort(struct ckfix *f)
{
    mdb_txn_abort(f->txn);
    f->txn = NULL;
}

void ckfix_use_tenant(struct ckfix *f, const uint8_t tenant[16])
{
    memcpy(f->tenant, tenant, 16);
}

const struct ck_table *ckfix_table(const char *name)
{
    const struct ck_table *t = ck_table_find(name, strlen(name));
    ck_assert_msg(t != NULL, "no table %s", name);
    return t;
}

/* Set the columns of a va_list of (name, text) pairs into row. */
static void set_columns(struct ck_row *row, ck_colmask *present, va_list ap)
{
    const struct ck_table *t = row->t;
    const char *name;
    while ((name = va_arg(ap, const char *)) != NULL) {
        const char *text = va_arg(ap, const char *);
        int col = ck_column_find(t, name, strlen(name));
        ck_assert_msg(col >= 0, "no column %s.%s", t->name, name);
        struct ck_val *v = &row->v[col];
        const struct ck_column *c = &t->cols[col];
        if (!text) {
            v->kind = CK_V_NULL;
        } else if (c->type == CK_T_BLOB || c->type == CK_T_VARBINARY) {
            v->kind = CK_V_BIN;
            v->p = text;
            v->len = (uint32_t)strlen(text);
        } else {
            int rc = ck_val_from_text(c, text, strlen(text), v);
            ck_assert_msg(rc == 0, "%s.%s: bad fixture value", t->name, name);
        }
        *present |= CK_COL(col);
    }
}

static int insert_va(struct ckfix *f, const char *table, uint8_t *id_out, va_list ap)
{
    ck_assert_msg(f->txn != NULL, "no open transaction");
    const struct ck_table *t = ckfix_table(table);
    struct ck_row row;
    memset(&row, 0, sizeof row);
    row.t = t;
    ck_colmask present = 0;
    set_columns(&row, &present, ap);
    struct buf stored = BUF_INIT;
    ck_err_clear(&f->err);
    int rc = ck_rows_insert(&f->c, &row, present, &stored);
    buf_free(&stored);
    if (rc == 0 && id_out)
        memcpy(id_out, row.v[t->col_id].uuid, 16);
    return rc;
}

void ckfix_insert(struct ckfix *f, const char *table, uint8_t *id_out, ...)
{
    va_list ap;
    va_start(ap, id_out);
    int rc = insert_va(f, table, id_out, ap);
    va_end(ap);
    ck_assert_msg(rc == 0, "insert into %s: %s (%s)", table, f->err.message, ck_strerror(rc));
}

int ckfix_try_insert(struct ckfix *f, const char *table, uint8_t *id_out, ...)
{
    va_list ap;
    va_start(ap, id_out);
    int rc = insert_va(f, table, id_out, ap);
    va_end(ap);
    return rc;
}

int ckfix_try_update(struct ckfix *f, const char *table, const uint8_t id[16], ...)
{
    const struct ck_table *t = ckfix_table(table);
    MDB_val v;
    ck_err_clear(&f->err);
    int rc = ck_rows_get_raw(&f->c, t, id, &v);
    if (rc)
        return rc;
    struct buf copy = BUF_INIT, stored = BUF_INIT;
    struct ck_row old_row, new_row;
    rc = ck_rows_decode_copy(t, &v, &copy, &old_row);
    ck_assert_int_eq(rc, 0);
    new_row = old_row;
    ck_colmask changed = 0;
    va_list ap;
    va_start(ap, id);
    set_columns(&new_row, &changed, ap);
    va_end(ap);
    rc = ck_rows_replace(&f->c, &old_row, &new_row, changed, &stored);
    buf_free(&copy);
    buf_free(&stored);
    return rc;
}

int ckfix_get(struct ckfix *f, const char *table, const uint8_t id[16], struct ck_row *out)
{
    return ck_rows_get(&f->c, ckfix_table(table), id, true, out);
}

bool ckfix_exists(struct ckfix *f, const char *table, const uint8_t id[16])
{
    struct ck_row r;
    int rc = ckfix_get(f, table, id, &r);
    ck_assert_msg(rc == 0 || rc == -CK_ENOTFOUND, "get %s: %s", table, ck_strerror(rc));
    return rc == 0;
}

const char *ckfix_col(struct ckfix *f, const char *table, const uint8_t id[16], const char *col)
{
    static char text[128];
    const struct ck_table *t = ckfix_table(table);
    struct ck_row r;
    ck_assert_int_eq(ckfix_get(f, table, id, &r), 0);
    int c = ck_column_find(t, col, strlen(col));
    ck_assert_msg(c >= 0, "no column %s.%s", table, col);
    const struct ck_val *v = &r.v[c];
    switch (v->kind) {
    case CK_V_NULL: return "NULL";
    case CK_V_UUID: ck_uuid_format(v->uuid, text); return text;
    case CK_V_INT: snprintf(text, sizeof text, "%lld", (long long)v->i); return text;
    default:
        snprintf(text, sizeof text, "%.*s", (int)(v->len < 100 ? v->len : 100), v->p);
        return text;
    }
}

const char *ckfix_id(const uint8_t id[16])
{
    static char ring[16][37];
    static unsigned next;
    char *out = ring[next++ % 16];
    ck_uuid_format(id, out);
    return out;
}

void ckfix_tenant(struct ckfix *f, const char *slug, uint8_t id_out[16])
{
    uint8_t saved[16];
    memcpy(saved, f->tenant, 16);
    memcpy(f->tenant, kv_system_tenant, 16);
    ckfix_insert(f, "tenants", id_out, "slug", slug, "name", slug, "status", "active", NULL);
    memcpy(f->tenant, saved, 16);
}

uint64_t ckfix_count_prefix(struct ckfix *f, MDB_dbi dbi, const void *prefix, size_t len)
{
    MDB_txn *txn = f->txn;
    if (!txn)
        ck_assert_int_eq(kv_read_begin(&f->kv, &txn), 0);
    MDB_cursor *cur;
    ck_assert_int_eq(mdb_cursor_open(txn, dbi, &cur), 0);
    MDB_val k = {len, (void *)prefix}, v;
    uint64_t n = 0;
    int rc = mdb_cursor_get(cur, &k, &v, len ? MDB_SET_RANGE : MDB_FIRST);
    while (rc == 0 && k.mv_size >= len && memcmp(k.mv_data, prefix, len) == 0) {
        n++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (!f->txn)
        kv_read_end(&f->kv, txn);
    return n;
}

static const struct ck_index *index_named(const struct ck_table *t, const char *index)
{
    const struct ck_index *ix = ck_index_find(t, index, strlen(index));
    ck_assert_msg(ix != NULL, "no index %s on %s", index, t->name);
    return ix;
}

bool ckfix_has_entry(struct ckfix *f, const char *table, const char *index, const uint8_t id[16])
{
    const struct ck_table *t = ckfix_table(table);
    const struct ck_index *ix = index_named(t, index);
    struct ck_row r;
    ck_assert_int_eq(ckfix_get(f, table, id, &r), 0);
    struct buf key = BUF_INIT;
    bool any_null;
    size_t cols_len;
    ck_assert_int_eq(
        ck_index_entry_key(&key, ck_row_tenant(t, f->tenant), ix, &r, &any_null, &cols_len), 0);
    MDB_val k = {key.len, key.data}, v;
    int rc = mdb_get(f->txn, f->kv.idx, &k, &v);
    buf_free(&key);
    return rc == 0;
}

uint64_t ckfix_index_count(struct ckfix *f, const char *table, const char *index,
                           const uint8_t *first)
{
    const struct ck_table *t = ckfix_table(table);
    const struct ck_index *ix = index_named(t, index);
    unsigned col = ix->cols[0];
    if ((int)col == t->col_tenant)
        col = ix->cols[1];
    struct ck_val v = {.kind = first ? CK_V_UUID : CK_V_NULL};
    if (first)
        memcpy(v.uuid, first, 16);
    struct buf prefix = BUF_INIT;
    ck_index_put_prefix(&prefix, ck_row_tenant(t, f->tenant), ix);
    ck_assert_int_eq(ck_index_put_value(&prefix, t, ix, col, &v, false), 0);
    uint64_t n = ckfix_count_prefix(f, f->kv.idx, prefix.data, prefix.len);
    buf_free(&prefix);
    return n;
}

/* ------------------------------------------------------------------ common rows */

void ckfix_clinic(struct ckfix *f, const char *code, uint8_t id_out[16])
{
    ckfix_insert(f, "clinics", id_out, "name", code, "code", code, NULL);
}

void ckfix_user(struct ckfix *f, const char *email, const uint8_t *clinic, uint8_t id_out[16])
{
    ckfix_insert(f, "users", id_out, "email", email, "first_name", "Fix", "last_name", "Ture",
                 "role", "dentist", "clinic_id", clinic ? ckfix_id(clinic) : NULL, NULL);
}

void ckfix_patient(struct ckfix *f, const uint8_t clinic[16], const char *mrn, uint8_t id_out[16])
{
    /* The demographics are sealed by the server's row methods; storage keeps any bytes. */
    ckfix_insert(f, "patients", id_out, "clinic_id", ckfix_id(clinic), "medical_record_number", mrn,
                 "encrypted_demographics", "sealed", "demographics_key_id", "k1", NULL);
}

void ckfix_appointment(struct ckfix *f, const uint8_t clinic[16], const uint8_t patient[16],
                       uint8_t id_out[16])
{
    ckfix_insert(f, "appointments", id_out, "clinic_id", ckfix_id(clinic), "patient_id",
                 ckfix_id(patient), "appointment_date", "2026-10-01T09:00:00Z", NULL);
}

void ckfix_invoice(struct ckfix *f, const uint8_t clinic[16], const uint8_t patient[16],
                   const char *number, uint8_t id_out[16])
{
    ckfix_insert(f, "invoices", id_out, "clinic_id", ckfix_id(clinic), "patient_id",
                 ckfix_id(patient), "invoice_number", number, "issue_date", "2026-10-01", NULL);
}

void ckfix_payment(struct ckfix *f, const uint8_t clinic[16], const uint8_t invoice[16],
                   const char *number, uint8_t id_out[16])
{
    ckfix_insert(f, "payments", id_out, "clinic_id", ckfix_id(clinic), "invoice_id",
                 ckfix_id(invoice), "payment_number", number, "amount", "10.00", "payment_method",
                 "cash", NULL);
}

/* ------------------------------------------------------------------ error details */

static struct mp_obj detail(struct ckfix *f, const char *key)
{
    const char *p = f->err.details.data, *end = p + f->err.details.len, *v;
    struct mp_obj o;
    ck_assert_msg(p && mp_map_find(p, end, f->err.ndetails, key, &v) == 0, "no detail %s in \"%s\"",
                  key, f->err.message);
    ck_assert_int_eq(mp_next(&v, end, &o), 0);
    return o;
}

const char *ckfix_detail_str(struct ckfix *f, const char *key)
{
    static char text[256];
    struct mp_obj o = detail(f, key);
    ck_assert_msg(o.type == MP_STR, "detail %s is not a string", key);
    snprintf(text, sizeof text, "%.*s", (int)o.v.str.len, o.v.str.ptr);
    return text;
}

int64_t ckfix_detail_int(struct ckfix *f, const char *key)
{
    struct mp_obj o = detail(f, key);
    int64_t i;
    ck_assert_msg(mp_obj_int64(&o, &i), "detail %s is not an integer", key);
    return i;
}
