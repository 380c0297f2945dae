/*
 * Bulk loading a full dump into a new, empty LMDB environment, the fast path of
 * clinickv-restore: rows arrive in the rows database's key order (dumpfmt.h) and are
 * appended (MDB_APPEND, no page splits, no searches); index entries are computed,
 * collected, sorted and appended per table (or per tenant); transactions are
 * committed every few tens of MiB without fsync, and the map is grown between them.
 *
 * Everything the normal write path would refuse is refused here too, as the rows
 * load: rows that do not decode, NOT NULL and CHECK violations, rows out of key
 * order or twice (the primary key), a tenant_id that is not the section's, unique
 * keys (adjacent equal entries once sorted) and foreign keys (a parent in an earlier
 * table is looked up at once; one in the same or a later table, the circular and
 * self-references, once its tenant is loaded).
 */
#ifndef CLINICKV_BULKLOAD_H
#define CLINICKV_BULKLOAD_H

#include "kv.h"
#include "row.h"

struct bulk_key {
    uint64_t off; /* in the arena */
    uint16_t len;
    uint16_t cols_len; /* length before the row id */
    bool check_unique; /* a unique index and no NULL column */
};

struct bulk_fk {
    uint16_t table;     /* child table index */
    uint16_t fk;        /* index into its fks[] */
    uint8_t id[16];     /* the child row */
    uint8_t parent[16]; /* the value of its FK column */
};

struct bulk {
    struct kv *kv;
    MDB_txn *txn;
    struct ck_err *err;
    uint64_t txn_bytes; /* written in the current transaction */
    uint64_t rows;
    bool have_tenant;
    uint8_t tenant[16]; /* the key prefix being loaded */
    const struct ck_table *table;
    bool flush_per_table; /* index ids grow with table order: sort per table */
    struct buf arena;     /* index keys collected */
    struct bulk_key *keys;
    size_t nkeys, cap_keys;
    struct bulk_fk *fks; /* foreign keys to check at the tenant's end */
    size_t nfks, cap_fks;
    struct buf key; /* scratch */
};

/* Start loading into kv (new and empty; the caller owns it). */
int bulk_begin(struct bulk *b, struct kv *kv, struct ck_err *err);

/* Load one stored row of table t under key prefix tenant. Errors name the table,
 * tenant and row id, never a value. */
int bulk_row(struct bulk *b, const struct ck_table *t, const uint8_t tenant[16], const void *row,
             size_t len);

/* Flush what is collected, check the last tenant's deferred foreign keys and commit.
 * The loaded data is then durable only after kv_sync(). */
int bulk_finish(struct bulk *b);

/* Abort the open transaction (after an error) and free everything. */
void bulk_free(struct bulk *b);

#endif
