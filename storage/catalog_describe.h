/*
 * The catalog as the `schema.describe` method reports it (PROTOCOL.md), packed
 * as msgpack with msgpack-c.
 *
 * One table is a map:
 *   {name, columns: [{name, type, nullable, default, on_update?, comment?}],
 *    primary_key: ["id"],
 *    foreign_keys: [{name, column, parent_table, parent_column, on_delete}],
 *    unique: [{name, columns}],
 *    indexes: [{name, columns, unique}],   PRIMARY first, then the DDL's keys in order
 *    checks: [{name, expression}],
 *    group, optional, comment}
 * `type` is the SQL type as the DDL spells it ("DECIMAL(10,2)"). `default` is nil
 * (no default, or DEFAULT NULL), "CURRENT_TIMESTAMP" / "CURRENT_TIMESTAMP(3)",
 * "UUID()", or the literal typed by its column: an integer for integer columns, a
 * boolean for TINYINT(1), a string otherwise ("0.00", "trial", "US"). `on_update`
 * ("CURRENT_TIMESTAMP") and `comment` are present only when the DDL has them.
 *
 * The packers append to whatever buffer pk writes to (mp_packer_init()); a
 * buffer that ran out of memory records it in its oom flag, which the caller
 * checks once at the end.
 */
#ifndef CLINICKV_CATALOG_DESCRIBE_H
#define CLINICKV_CATALOG_DESCRIBE_H

#include <stdbool.h>

#include <msgpack.h>

#include "catalog.h"

/* Pack the describe map of table t. */
void ck_describe_table(msgpack_packer *pk, const struct ck_table *t);

/*
 * Pack {tables: [...]}: the describe map of every table for which visible(t, arg)
 * is true (every table when visible is NULL), in catalog order. A data directory
 * created without the optional pharmacy module hides those tables this way.
 * visible is called once per table, before anything is packed.
 */
void ck_describe(msgpack_packer *pk, bool (*visible)(const struct ck_table *t, void *arg),
                 void *arg);

#endif
