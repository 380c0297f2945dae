/*
 * Secondary indexes, kept by hand: one LMDB entry per row per index of the DDL
 * (every KEY and UNIQUE KEY), in the `idx` database:
 *
 *   tenant(16) | index id(2, big-endian) | encoded columns | row id(16)  -> empty
 *
 * The columns are encoded with the order-preserving key codec (keycodec.h);
 * strings as their collation key (collate.h), so equality follows the DDL's
 * utf8mb4_unicode_ci. tenant_id columns are not encoded: every entry already
 * begins with its tenant. Rows of the global tables (tenants,
 * performance_metrics) use the system tenant prefix, so their unique keys are
 * global. Nothing but this module writes index entries.
 */
#ifndef CLINICKV_INDEX_H
#define CLINICKV_INDEX_H

#include <lmdb.h>

#include "kv.h"
#include "row.h"

#define CK_KEY_MAX 511 /* LMDB's compiled-in key size limit */

/* Append the encoding of one indexed value (column c of an index) to key, as
 * index keys and query bounds hold it. desc: descending order. */
int ck_index_put_value(struct buf *key, const struct ck_table *t, const struct ck_index *ix,
                       unsigned col, const struct ck_val *v, bool desc);

/* Append tenant | index id to key: the prefix of every entry of index ix. */
void ck_index_put_prefix(struct buf *key, const uint8_t tenant[16], const struct ck_index *ix);

/*
 * Build the full entry key of row r for index ix into key (reset first).
 * *any_null_out: some indexed column is NULL (such rows never collide in a
 * unique index). *cols_len_out: length of the key before the row id.
 */
int ck_index_entry_key(struct buf *key, const uint8_t tenant[16], const struct ck_index *ix,
                       const struct ck_row *r, bool *any_null_out, size_t *cols_len_out);

/* Add entries for a new row; checks unique keys first (-CK_EUNIQUE with
 * details: table, constraint, columns). */
int ck_index_insert_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                        const struct ck_row *r, struct ck_err *err);

/* Move entries of a changed row (old -> new); unique keys checked for moved entries. */
int ck_index_update_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                        const struct ck_row *old_row, const struct ck_row *new_row,
                        struct ck_err *err);

/* Remove every entry of a row. */
int ck_index_delete_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                        const struct ck_row *r);

/*
 * Find the row holding the given values in unique index ix: vals[i] is the value
 * of the index's i-th column (tenant_id columns are skipped, whatever they hold).
 * -CK_ENOTFOUND when no row has them.
 */
int ck_index_find_unique(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16],
                         const struct ck_table *t, const struct ck_index *ix,
                         const struct ck_val *vals, uint8_t id_out[16]);

/* The tenant prefix of a table's rows and index entries. */
static inline const uint8_t *ck_row_tenant(const struct ck_table *t,
                                           const uint8_t session_tenant[16])
{
    return t->col_tenant < 0 ? kv_system_tenant : session_tenant;
}

#endif
