/*
 * Foreign keys, checked on insert and update: every non-null FK value must name
 * an existing row of the parent table in the same tenant. A row of another
 * tenant lives under another key prefix, so it is simply not found: an id of
 * another tenant is indistinguishable from a missing one.
 *
 * (What happens to children when a parent is hard-deleted is ondelete.h.)
 */
#ifndef CLINICKV_FK_H
#define CLINICKV_FK_H

#include <lmdb.h>

#include "kv.h"
#include "row.h"

/*
 * Check the FKs of row r among `cols` (all FK columns for an insert, the changed
 * ones for an update). A self-reference to r's own id is satisfied by r itself.
 * clinic, when not NULL, is the writer's clinic scope: a parent row of another
 * clinic is out of scope and counts as missing, as it would for a read.
 * -CK_EFK with details {table, constraint, column, parent_table}.
 */
int ck_fk_check_row(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16], const uint8_t *clinic,
                    const struct ck_row *r, ck_colmask cols, struct ck_err *err);

/* Does the row (table t, id) exist in the tenant's key space? 1 yes, 0 no, <0 error. */
int ck_row_exists(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16], const struct ck_table *t,
                  const uint8_t id[16]);

#endif
