/*
 * Conditions on a row, as clients write them: {column: value} for equality, or
 * {column: {op: value, ...}} with op one of eq ne gt gte lt lte in is_null.
 * Used by txn.run's `check` (a failed check aborts the transaction with
 * conflict) and by query filters. Values are converted by the column's type
 * (ck_val_from_wire) and compared as index keys compare them (keycodec order,
 * strings by collation key), so a condition means what an index lookup means.
 * SQL semantics for NULL: a comparison with NULL is not true; use is_null.
 */
#ifndef CLINICKV_COND_H
#define CLINICKV_COND_H

#include "row.h"

/* Compare two values of column col of table t: <0, 0, >0. NULL sorts first. */
int ck_val_cmp(const struct ck_table *t, unsigned col, const struct ck_val *a,
               const struct ck_val *b);

/*
 * Evaluate the conditions of the map at p (npairs pairs) on row r. 1 when all
 * hold, 0 when one does not (*failed_col_out, when not NULL, gets its column),
 * or a negative error: -CK_EUNKCOLUMN, -CK_EINVAL (a bad value or operator),
 * with a message in err.
 */
int ck_cond_eval(const struct ck_row *r, const char *p, const char *end, uint32_t npairs,
                 int *failed_col_out, struct ck_err *err);

#endif
