/*
 * The LMDB environment of a data directory: named databases, transactions, and
 * a map that grows instead of failing.
 *
 * Layout (docs/storage.md): DIR/db/ holds LMDB's data.mdb and lock.mdb, with the
 * named databases
 *   rows  tenant(16) | table(1) | id(16)                    -> row (msgpack array)
 *   idx   tenant(16) | index id(2) | encoded columns | id(16) -> empty
 *   log   seq(8, big-endian)                                -> change record
 *   meta  name                                              -> value
 *   sess  BLAKE2b(token)(32)                                -> session record
 *
 * Several processes may open one environment (the server, `clinickv tenant
 * create`, dump); LMDB serialises their write transactions. The map is grown on
 * MDB_MAP_FULL, and a map grown by another process is adopted on MDB_MAP_RESIZED.
 * mdb_env_set_mapsize() needs every transaction of this process closed, so each
 * read transaction holds `resize_lock` shared and growing takes it exclusively.
 */
#ifndef CLINICKV_KV_H
#define CLINICKV_KV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "ckerr.h"

#define KV_TENANT_LEN  16
#define KV_ID_LEN      16
#define KV_ROW_KEY_LEN (KV_TENANT_LEN + 1 + KV_ID_LEN)

struct kv_options {
    size_t map_size;      /* initial map size in bytes (0: 256 MiB) */
    size_t max_map_size;  /* growth stops here (0: 1 TiB) */
    unsigned max_readers; /* concurrent read transactions (0: 512) */
    bool read_only;       /* open without write access (dump beside a server) */
    bool no_sync;         /* relaxed durability: commits do not fsync (kv_sync does) */
};

struct kv {
    MDB_env *env;
    MDB_dbi rows, idx, log, meta, sess;
    pthread_rwlock_t resize_lock;
    size_t map_size;
    size_t max_map_size;
    bool read_only;
    bool no_sync;
    char *dir; /* the data directory (not the db/ subdirectory) */
};

/*
 * Open the environment in DIR/db. With create, make DIR/db if missing (DIR must
 * exist). Fails with a message in err naming the problem: -CK_ENOTFOUND (no
 * environment there), -CK_EIO (permissions, I/O), -CK_EINTERNAL.
 */
int kv_open(struct kv *kv, const char *dir, bool create, const struct kv_options *opt,
            struct ck_err *err);

/* Close the environment. No transaction may be open. */
void kv_close(struct kv *kv);

/* Begin a read-only snapshot. The transaction must be ended with kv_read_end() on
 * the same thread. -CK_EINTERNAL etc. on failure. */
int kv_read_begin(struct kv *kv, MDB_txn **txn_out);
void kv_read_end(struct kv *kv, MDB_txn *txn);

/* Begin a write transaction (blocks while another process or thread writes).
 * Adopts a map grown by another process. */
int kv_write_begin(struct kv *kv, MDB_txn **txn_out);

/* Commit; -CK_EMAPFULL when the map must grow first (the transaction is gone
 * either way). */
int kv_write_commit(struct kv *kv, MDB_txn *txn);

/* Double the map size (up to max_map_size). The caller holds no transaction. */
int kv_grow(struct kv *kv);

/* Grow ahead of time when the map is more than 3/4 used. No transaction held. */
int kv_grow_if_needed(struct kv *kv);

/* Flush to disk (relaxed durability mode's periodic sync, and shutdown). */
int kv_sync(struct kv *kv);

/*
 * Run fn(txn, arg) in a write transaction and commit it; when the map fills, abort,
 * grow and run fn again from scratch (fn must only depend on the transaction).
 * Returns fn's error (the transaction aborted) or the commit's.
 */
int kv_write_run(struct kv *kv, int (*fn)(MDB_txn *txn, void *arg), void *arg);

/* Translate an LMDB return code into the project's error space. */
int kv_error(int mdb_rc);

/* Meta values (small, binary-safe). kv_meta_get: -CK_ENOTFOUND when absent;
 * *val_out points into the transaction's snapshot. */
int kv_meta_get(struct kv *kv, MDB_txn *txn, const char *name, MDB_val *val_out);
int kv_meta_put(struct kv *kv, MDB_txn *txn, const char *name, const void *val, size_t len);

/* Row keys. */
static inline void kv_row_key(uint8_t key[KV_ROW_KEY_LEN], const uint8_t tenant[16],
                              unsigned table_id, const uint8_t id[16])
{
    for (int i = 0; i < 16; i++)
        key[i] = tenant[i];
    key[16] = (uint8_t)table_id;
    for (int i = 0; i < 16; i++)
        key[17 + i] = id[i];
}

/* The tenant prefix of the global tables (tenants, performance_metrics). */
extern const uint8_t kv_system_tenant[16];

#endif
