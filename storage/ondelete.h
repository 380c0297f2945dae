/*
 * Hard deletes and the DDL's ON DELETE rules, applied in one transaction.
 *
 * The rows that will disappear are computed first: the target and, recursively,
 * every row reached through an ON DELETE CASCADE foreign key. Then every
 * RESTRICT foreign key pointing at one of those rows is checked: a referencing
 * row that would survive refuses the whole delete (restrict_violation) before
 * anything is written. Then SET NULL children that survive get their column
 * cleared (and their index entries moved), and the rows are removed.
 *
 * This is deliberately order-independent. InnoDB checks RESTRICT in the middle
 * of its depth-first cascade, in constraint-name order, so there deleting a
 * tenant that has payments fails (a payment still points at an invoice when the
 * invoice's turn comes), while here the payments are part of the tenant and go
 * with it; deleting an invoice that has payments fails in both (docs/storage.md).
 *
 * A tenant's rows all live under its key prefix and can reference only rows of
 * the same tenant, so deleting a tenant removes its whole key space.
 */
#ifndef CLINICKV_ONDELETE_H
#define CLINICKV_ONDELETE_H

#include "rows.h"

struct ck_delete_result {
    uint64_t deleted;       /* the target row: 1 */
    uint64_t cascaded[256]; /* rows removed by CASCADE, per table index */
    uint64_t set_null[256]; /* rows whose FK column(s) were cleared, per table index */
};

/*
 * Hard-delete row id of table t and apply every ON DELETE rule that points at it.
 * -CK_ENOTFOUND, -CK_ERESTRICT (details: constraint, table, child_table, count:
 * the first RESTRICT constraint found blocking, and how many surviving rows
 * block through it, over every row that would go),
 * storage errors; on error nothing must be committed (the caller aborts).
 */
int ck_delete_hard(struct ck_ctx *c, const struct ck_table *t, const uint8_t id[16],
                   struct ck_delete_result *res);

/* Pack {deleted, cascaded: {table: n}, set_null: {table: n}}. */
void ck_delete_result_pack(msgpack_packer *pk, const struct ck_delete_result *res);

#endif
