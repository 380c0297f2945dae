/*
 * Storage fixtures for Check suites: a real LMDB environment in a new temporary
 * directory, write transactions with a row context, and rows inserted through
 * the same storage calls the server uses (ck_rows_insert), given as column =
 * text pairs.
 *
 *   struct ckfix f;
 *   ckfix_setup(&f);
 *   uint8_t tenant[16], clinic[16];
 *   ckfix_begin(&f, NULL);
 *   ckfix_tenant(&f, "acme", tenant);
 *   ckfix_use_tenant(&f, tenant);
 *   ckfix_insert(&f, "clinics", clinic, "name", "Main", "code", "MAIN", NULL);
 *   ckfix_commit(&f);
 *   ...
 *   ckfix_teardown(&f);
 *
 * Failures are Check assertions, named by table and error message. Everything
 * here runs in the test's own (forked) process.
 */
#ifndef CLINICKV_CKFIX_H
#define CLINICKV_CKFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "changelog.h"
#include "kv.h"
#include "rows.h"

struct ckfix {
    char dir[256]; /* the temporary data directory (holds db/) */
    struct kv kv;
    MDB_txn *txn; /* the open write transaction, or NULL */
    struct ck_log log;
    struct ck_err err;  /* the last refusal's message and details */
    struct ck_ctx c;    /* context of the open transaction */
    uint8_t tenant[16]; /* the tenant rows are written to (ckfix_use_tenant) */
    uint8_t user[16];
    int64_t now_ms; /* advanced by one second per transaction, so updated_at moves */
};

/* Create the directory and environment. */
void ckfix_setup(struct ckfix *f);

/* Close the environment and remove the directory. No transaction may be open. */
void ckfix_teardown(struct ckfix *f);

/* Begin a write transaction acting as user (NULL: the system). */
void ckfix_begin(struct ckfix *f, const uint8_t *user);

/* Commit or abort the open transaction. */
void ckfix_commit(struct ckfix *f);
void ckfix_abort(struct ckfix *f);

/* Write rows of tenant id from now on (also inside an open transaction). */
void ckfix_use_tenant(struct ckfix *f, const uint8_t tenant[16]);

/* Insert a tenants row with this slug (in the open transaction). */
void ckfix_tenant(struct ckfix *f, const char *slug, uint8_t id_out[16]);

/*
 * Insert a row into table: NULL-terminated pairs of column name and text value,
 * the value as ck_val_from_text() reads it ("2026-01-01T09:00:00Z", "12.50",
 * an ENUM member, a UUID), or NULL for SQL NULL; LONGBLOB and VARBINARY
 * columns take the text's bytes. id_out (may be NULL) gets the new id.
 * ckfix_insert asserts success; ckfix_try_insert returns the error (0 on success).
 */
void ckfix_insert(struct ckfix *f, const char *table, uint8_t *id_out, ...);
int ckfix_try_insert(struct ckfix *f, const char *table, uint8_t *id_out, ...);

/* Rows that most tests need, with just their required columns (in the current
 * tenant, open transaction). clinic may be NULL for a tenant-wide user. */
void ckfix_clinic(struct ckfix *f, const char *code, uint8_t id_out[16]);
void ckfix_user(struct ckfix *f, const char *email, const uint8_t *clinic, uint8_t id_out[16]);
void ckfix_patient(struct ckfix *f, const uint8_t clinic[16], const char *mrn, uint8_t id_out[16]);
void ckfix_appointment(struct ckfix *f, const uint8_t clinic[16], const uint8_t patient[16],
                       uint8_t id_out[16]);
void ckfix_invoice(struct ckfix *f, const uint8_t clinic[16], const uint8_t patient[16],
                   const char *number, uint8_t id_out[16]);
void ckfix_payment(struct ckfix *f, const uint8_t clinic[16], const uint8_t invoice[16],
                   const char *number, uint8_t id_out[16]);

/* Update columns of a row as ckfix_insert takes them; returns the error. */
int ckfix_try_update(struct ckfix *f, const char *table, const uint8_t id[16], ...);

/* Read the row (with_deleted) into *out, a view into the open transaction. -CK_ENOTFOUND. */
int ckfix_get(struct ckfix *f, const char *table, const uint8_t id[16], struct ck_row *out);

/* Does the row exist (soft-deleted or not)? */
bool ckfix_exists(struct ckfix *f, const char *table, const uint8_t id[16]);

/* Column value of a row as text in a static buffer ("NULL" for NULL, ids as UUIDs). */
const char *ckfix_col(struct ckfix *f, const char *table, const uint8_t id[16], const char *col);

/* A detail of the last refusal (f->err): a string in a static buffer, or an
 * integer; the assertion fails when the detail is absent. */
const char *ckfix_detail_str(struct ckfix *f, const char *key);
int64_t ckfix_detail_int(struct ckfix *f, const char *key);

/* An id as text, in one of 16 rotating static buffers (for ckfix_insert values). */
const char *ckfix_id(const uint8_t id[16]);

/* The table, asserting it exists. */
const struct ck_table *ckfix_table(const char *name);

/* Keys in a database (rows or idx) that begin with prefix (len bytes), in its own
 * read of the open transaction (or a new read transaction when none is open). */
uint64_t ckfix_count_prefix(struct ckfix *f, MDB_dbi dbi, const void *prefix, size_t len);

/* Does the idx database hold an entry of index `index` of table for row id whose
 * indexed columns are the row's current values? */
bool ckfix_has_entry(struct ckfix *f, const char *table, const char *index, const uint8_t id[16]);

/* Entries of index `index` of table (in the current tenant, or the system prefix
 * for global tables) whose first column other than tenant_id holds the UUID
 * first (NULL: holds NULL): a lookup through the index, as ON DELETE makes one. */
uint64_t ckfix_index_count(struct ckfix *f, const char *table, const char *index,
                           const uint8_t *first);

#endif
