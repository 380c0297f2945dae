/*
 * The change log: every committed write appends, in its own transaction, one
 * record per row it changed, under a monotonically increasing sequence number.
 * Incremental backups and `changes.since` read it (docs/storage.md).
 *
 *   log: seq(8, big-endian) -> [op, table id, tenant(bin16), id(bin16),
 *                               row (stored row array) | nil, by(bin16) | nil, at(ms)]
 *
 * Sequence numbers have no gaps: a write that rolls back gives its numbers back
 * (the writer saves and restores `next_seq` around each nested transaction).
 */
#ifndef CLINICKV_CHANGELOG_H
#define CLINICKV_CHANGELOG_H

#include <lmdb.h>
#include <stdint.h>

#include "kv.h"

enum ck_log_op { CK_LOG_INSERT = 1, CK_LOG_UPDATE = 2, CK_LOG_DELETE = 3 };

/* Per write transaction: the next sequence number, read from the log lazily. */
struct ck_log {
    uint64_t next_seq;
    bool loaded;
};

/* Append one change. row/rowlen: the stored row after the change (NULL for a
 * delete); by: the acting user or NULL. */
int ck_log_append(struct ck_log *log, MDB_txn *txn, struct kv *kv, unsigned op, unsigned table_id,
                  const uint8_t tenant[16], const uint8_t id[16], const void *row, size_t rowlen,
                  const uint8_t *by, int64_t at_ms);

/* The last sequence number committed (0 when the log is empty), seen by txn. */
int ck_log_last_seq(MDB_txn *txn, struct kv *kv, uint64_t *seq_out);

/* The first sequence number still in the log (0 when empty). */
int ck_log_first_seq(MDB_txn *txn, struct kv *kv, uint64_t *seq_out);

/* A decoded change record; pointers into the transaction's snapshot. */
struct ck_change {
    uint64_t seq;
    unsigned op;
    unsigned table_id;
    const uint8_t *tenant; /* 16 bytes */
    const uint8_t *id;     /* 16 bytes */
    const char *row;       /* stored row, or NULL */
    size_t rowlen;
    const uint8_t *by; /* 16 bytes, or NULL */
    int64_t at_ms;
};

int ck_change_decode(const MDB_val *key, const MDB_val *val, struct ck_change *out);

/* Delete records with seq < before (retention). *deleted_out: how many. */
int ck_log_prune(MDB_txn *txn, struct kv *kv, uint64_t before, uint64_t max, uint64_t *deleted_out);

static inline void ck_seq_key(uint8_t key[8], uint64_t seq)
{
    for (int i = 7; i >= 0; i--) {
        key[i] = (uint8_t)seq;
        seq >>= 8;
    }
}

#endif
