/*
 * Row validation on write: column names, value types, NOT NULL, defaults and the
 * DDL's CHECK constraints. (Foreign keys and unique keys need the database and
 * live in fk.h and index.h.)
 */
#ifndef CLINICKV_VALIDATE_H
#define CLINICKV_VALIDATE_H

#include "row.h"

/*
 * Read a wire row map (cursor p on its first key, npairs pairs) into row, whose
 * other columns are left untouched. *present_out gets the columns given.
 * Errors: -CK_EUNKCOLUMN (details: table, column), -CK_EINVAL (a bad value, or a
 * key that is not a string), -CK_EBADREQ (a column given twice).
 * `extra`, when not NULL, is called for keys that are not columns before they are
 * reported unknown: it returns 1 when it consumed the key's value (advancing *vp;
 * it may set columns of row and their bits in *present), 0 when the key is
 * unknown to it too, or a negative error.
 */
typedef int (*ck_extra_key_fn)(void *arg, struct ck_row *row, ck_colmask *present, const char *key,
                               uint32_t keylen, const char **vp, const char *end);
int ck_row_read_map(const struct ck_table *t, const char *p, const char *end, uint32_t npairs,
                    struct ck_row *row, ck_colmask *present_out, ck_extra_key_fn extra, void *arg,
                    struct ck_err *err);

/* Give every column not in present its default (insert). */
void ck_row_fill_defaults(struct ck_row *row, ck_colmask present, int64_t now_ms);

/* -CK_ENOTNULL (details: table, column) when a NOT NULL column is NULL. */
int ck_row_check_not_null(const struct ck_row *row, struct ck_err *err);

/* Evaluate the table's CHECK constraints; -CK_EINVAL (details: table, constraint)
 * when one is false (NULL, as in SQL, passes). */
int ck_row_check_constraints(const struct ck_row *row, struct ck_err *err);

#endif
