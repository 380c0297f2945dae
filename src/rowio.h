/*
 * Rows as clients write and read them, beyond the plain columns:
 *
 *   - users rows take a plain `password`, stored only as its Argon2id hash
 *     (hashed on the thread pool before the write is queued: prepared
 *     hashes arrive in ck_call), and password_hash is never accepted nor shown;
 *   - PHI columns (encrypted_*) are written and read as their plain fields
 *     (phi.h), for roles allowed to see PHI;
 *   - clinic-scoped sessions write only rows of their clinic.
 *
 * Every row method goes through rowio_read_* on the way in and rowio_pack on
 * the way out, so these rules hold for row.*, txn.run and includes alike.
 */
#ifndef CLINICKV_ROWIO_H
#define CLINICKV_ROWIO_H

#include "method.h"
#include "phi.h"
#include "rows.h"

/* A row being written: the client's values plus what the extras produced. */
struct rowin {
    struct ck_call *call;
    const struct ck_table *t;
    struct ck_row *row;
    ck_colmask present;
    bool has_password;
    struct phi_plain {
        int col;       /* the encrypted_* column */
        const char *p; /* plain value (msgpack) in the request */
        uint32_t len;
    } phi[4];
    unsigned nphi;
    struct buf sealed[4];     /* sealed PHI values the row points into */
    char key_id[16];          /* the key id the row points at */
    struct phi_search search; /* blind indexes the row points into */
    /* Updates: params `add` ({column: n}, txn.run's $add) and `check` ({column: cond}). */
    const char *add;
    uint32_t nadd;
    const char *check;
    uint32_t ncheck;
};

/* Release what a rowin holds; the row's PHI values become invalid. */
void rowio_free(struct rowin *ri);

/* Read the row map of an insert into ri (ri->row's columns start NULL). Checks
 * clinic scope, fills users.password_hash and seals PHI fields. */
int rowio_read_insert(struct rowin *ri, struct ck_call *call, const struct ck_table *t,
                      struct ck_row *row, const char *p, const char *end, uint32_t npairs);

/* Hooks for ck_rows_update(): the extras of a set map, the call's `add` and
 * `check` params, and the checks that need the old row (clinic scope, roles, PHI
 * sealing). ri must live during the update. -CK_EBADREQ for malformed add/check. */
int rowio_update_hook(struct rowin *ri, struct ck_call *call, const struct ck_table *t,
                      struct ck_update_hook *hook);

/* Evaluate the call's `check` param on row r: 0 when absent or true, -CK_ECONFLICT
 * (details: table, column) when false, or a bad-request error. */
int rowio_check(struct ck_call *call, const struct ck_row *r);

/* Pack a row for the session: hidden columns dropped, PHI opened for roles that
 * may see it. */
int rowio_pack(struct ck_call *call, const struct ck_row *r);

/* The tenant the call acts on: the session's, or for a system administrator the
 * one named by params `tenant` (slug or id). Global tables need none. */
int rowio_call_tenant(struct ck_call *call, const struct ck_table *t);

/* A ck_ctx for row operations of this call. */
void rowio_ctx(struct ck_call *call, struct ck_ctx *c);

#endif
