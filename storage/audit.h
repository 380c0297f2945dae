/*
 * The payment audit trail: every insert, update and delete of a `payments` row
 * appends a `payment_audit_log` row in the same transaction, with who (the
 * session's user), when, the status before and after, and the whole row before
 * and after (old_values/new_values, as clients see rows). rows.c calls this for
 * every write, including cascaded SET NULLs and deletes, so no path escapes it.
 * The audit row of a delete has payment_id NULL: the payment is gone, and
 * payment_audit_log.payment_id is ON DELETE SET NULL for the older entries too.
 */
#ifndef CLINICKV_AUDIT_H
#define CLINICKV_AUDIT_H

#include "rows.h"

/* Record a write of row (old_row NULL: insert; new_row NULL: delete) when its
 * table is audited; otherwise do nothing. */
int ck_audit_write(struct ck_ctx *c, const struct ck_row *old_row, const struct ck_row *new_row);

#endif
