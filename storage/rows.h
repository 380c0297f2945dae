/*
 * Row operations inside a transaction: get, insert, update, soft delete,
 * restore. Each write validates the row (validate.h), checks its foreign keys
 * (fk.h) and unique keys, moves its index entries (index.h) and appends to the
 * change log (changelog.h), all in the caller's transaction, so a failure at
 * any step can be rolled back whole. Hard deletes are ondelete.h.
 *
 * Every operation acts inside one tenant's key space (ctx->tenant): there is no
 * parameter through which another tenant's rows could be reached.
 */
#ifndef CLINICKV_ROWS_H
#define CLINICKV_ROWS_H

#include <lmdb.h>

#include "changelog.h"
#include "kv.h"
#include "row.h"
#include "validate.h"

/* Write flags. */
#define CK_W_KEEP_META \
    0x1                   /* keep the given created_at/updated_at/created_by/updated_by (restore) */
#define CK_W_NO_LOG   0x2 /* do not append to the change log (bulk restore writes its own) */
#define CK_W_NO_AUDIT 0x4 /* no payment_audit_log rows: a replay (restore) carries its own */

struct ck_ctx {
    struct kv *kv;
    MDB_txn *txn;
    const uint8_t *tenant; /* 16 bytes: the session's tenant */
    const uint8_t *user;   /* 16 bytes: the acting user, or NULL (system) */
    int64_t now_ms;
    unsigned flags;
    struct ck_log *log; /* NULL: no change log (read-only contexts) */
    const uint8_t
        *clinic; /* 16 bytes: a clinic-scoped writer's clinic (FK parents must be in it), or NULL */
    struct ck_err *err;
};

/*
 * Fetch a row by id into *out (a view into the transaction; copy before
 * writing). -CK_ENOTFOUND when absent, or soft-deleted and !with_deleted.
 */
int ck_rows_get(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16], bool with_deleted,
                struct ck_row *out);

/* The stored bytes of a row (a view into the transaction). -CK_ENOTFOUND. */
int ck_rows_get_raw(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16], MDB_val *out);

/*
 * Insert a row. row holds the client's values for the columns in present (other
 * columns get their defaults). The server fills id (unless given), tenant_id,
 * created_at, updated_at, created_by and updated_by. stored gets the stored row.
 * Errors: -CK_EFORBIDDEN (a tenant_id of another tenant), -CK_ENOTNULL,
 * -CK_EINVAL (CHECK), -CK_EFK, -CK_EUNIQUE (also for an existing id: constraint
 * PRIMARY), storage errors.
 */
int ck_rows_insert(struct ck_ctx *c, struct ck_row *row, ck_colmask present, struct buf *stored);

/*
 * Update row id of table t with the values of a wire map (set_p .. set_end,
 * npairs). expect_updated_at_ms >= 0: -CK_ECONFLICT unless the row's updated_at
 * equals it. `prepare`, when not NULL, may adjust the new row before it is
 * validated (txn.run's $add). stored gets the stored row.
 */
struct ck_update_hook {
    ck_extra_key_fn extra; /* extra keys of the set map (see validate.h) */
    void *arg;
    int (*prepare)(void *arg, const struct ck_row *old_row, struct ck_row *new_row,
                   ck_colmask *changed, struct ck_err *err);
};
int ck_rows_update(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                   const char *set_p, const char *set_end, uint32_t npairs,
                   int64_t expect_updated_at_ms, const struct ck_update_hook *hook,
                   struct buf *stored);

/* Replace a row with new_row (same id), with full validation; used by update,
 * soft delete, restore and SET NULL. old_row must not point into the database. */
int ck_rows_replace(struct ck_ctx *c, const struct ck_row *old_row, struct ck_row *new_row,
                    ck_colmask changed, struct buf *stored);

/* Soft delete (deleted_at = now) and restore (deleted_at = NULL). */
int ck_rows_soft_delete(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16]);
int ck_rows_restore(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                    struct buf *stored);

/* Remove one row and its index entries, logging the delete (no ON DELETE rules:
 * see ondelete.h). */
int ck_rows_remove(struct ck_ctx *c, const struct ck_row *r);

/* Decode a copy of a stored row held in buf (the row's views point into buf). */
int ck_rows_decode_copy(const struct ck_table *t, const MDB_val *stored, struct buf *copy,
                        struct ck_row *out);

/* The tenant a change record is filed under (the tenants table: the row's own id). */
const uint8_t *ck_rows_log_tenant(const struct ck_ctx *c, const struct ck_row *r);

#endif
