/*
 * Tenants and their administrators: resolving a tenant by slug or id, creating
 * a tenant with its first admin user, and the demo data of `clinickv init --demo`.
 * Used by the command line (init, tenant create) and by system administrators
 * over the protocol.
 */
#ifndef CLINICKV_TENANTS_H
#define CLINICKV_TENANTS_H

#include <lmdb.h>

#include "phi.h"
#include "rows.h"

/* Find a tenant by slug (case-insensitive, as the DDL's collation) or by id.
 * -CK_ENOTFOUND. */
int ck_tenant_resolve(MDB_txn *txn, struct kv *kv, const char *s, size_t len, uint8_t id_out[16]);

/* Set column `name` of row from text (a literal as in SQL: "active", "0.00",
 * "2026-11-26T09:00:00Z"). -CK_EUNKCOLUMN or -CK_EINVAL. */
int ck_row_set_text(struct ck_row *row, ck_colmask *present, const char *name, const char *text);

/* Set a UUID column. */
void ck_row_set_uuid(struct ck_row *row, ck_colmask *present, const char *name,
                     const uint8_t id[16]);

/* Hash a password for users.password_hash (Argon2id, crypto_pwhash_str): out
 * must hold crypto_pwhash_STRBYTES. Slow by design: never on the loop thread. */
int ck_password_hash(const char *password, size_t len, char *out);

struct tenant_spec {
    const char *slug;
    const char *name; /* NULL: the slug */
    const char *admin_email;
    const char *admin_password;      /* hashed here (slow: not on the loop or writer thread) */
    const char *admin_password_hash; /* or an Argon2id hash made beforehand */
    const char *admin_first_name, *admin_last_name;
};

/*
 * Create a tenant and its tenant_admin user in transaction c->txn (c->tenant is
 * ignored). tenant_id_out/user_id_out receive the new ids. Errors as row
 * inserts (e.g. -CK_EUNIQUE for a slug in use), details in c->err.
 */
int ck_tenant_create(struct ck_ctx *c, const struct tenant_spec *spec, uint8_t tenant_id_out[16],
                     uint8_t user_id_out[16]);

/* Add the demo clinic, staff, patients (demographics sealed with kr's active key)
 * and appointments to a tenant. c->tenant and c->user must be set. */
int ck_tenant_add_demo(struct ck_ctx *c, const struct phi_keyring *kr, const char *staff_password);

#endif
