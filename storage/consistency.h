/*
 * The consistency checker behind `clinickv check`: re-derives, from the stored
 * rows alone, everything the write path maintains and enforces, and reports
 * every place where the database disagrees.
 *
 * In one read transaction (a consistent snapshot, so it may run beside a
 * server that keeps writing) it makes two passes:
 *
 *   rows  every key is tenant(16) | table(1) | id(16) of a known table, under
 *         the system prefix exactly when the table has no tenant_id; the row
 *         decodes; its id and tenant_id columns agree with its key; every value
 *         has its column's type and fits it (length, range, ENUM ordinal,
 *         TIMESTAMP range); NOT NULL columns hold a value; every CHECK holds;
 *         every non-null foreign key names an existing parent row in the same
 *         tenant; every index of the table has the row's entry; no other row
 *         holds the same key in a unique index (NULLs never collide);
 *   idx   every entry is tenant | index id | columns | id of a known index, and
 *         its row exists and, re-encoded now, yields exactly this entry.
 *
 * Together the passes prove that the entries of each index are exactly the
 * entries of its table's rows. Because the entries are re-encoded with the
 * collation and key codec of this binary, a change to either that was not
 * followed by a rebuild shows up as missing and stray entries.
 *
 * Problems name a table, a tenant, a row id, an index or constraint and a
 * column, never a value: rows hold PHI, and a checker's report ends up in
 * tickets and logs.
 */
#ifndef CLINICKV_CONSISTENCY_H
#define CLINICKV_CONSISTENCY_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "catalog.h"
#include "ckerr.h"
#include "kv.h"

/* Index ids are catalog-wide and small (213 for the current DDL); the per-index
 * counts are an array indexed by id. ck_consistency_check() refuses a catalog
 * with larger ids (-CK_EINTERNAL) rather than overrun it. */
#define CK_CONSISTENCY_MAX_INDEX_ID 1023

enum ck_problem_kind {
    CK_PROB_ROW_KEY = 1,   /* a rows key of the wrong length or naming no table */
    CK_PROB_ROW_DECODE,    /* the stored bytes are not a row of the table */
    CK_PROB_ROW_ID,        /* the id column differs from the id in the key */
    CK_PROB_ROW_TENANT,    /* tenant_id differs from the key's tenant, or the table is
                              global and the key is not under the system prefix (or the
                              reverse) */
    CK_PROB_VALUE,         /* a column's value has the wrong type or does not fit it */
    CK_PROB_NOT_NULL,      /* a NOT NULL column is NULL */
    CK_PROB_CHECK,         /* a CHECK constraint is false */
    CK_PROB_FK,            /* a foreign key names no row of its parent table */
    CK_PROB_UNIQUE,        /* two rows hold the same key of a unique index */
    CK_PROB_ENTRY_MISSING, /* a row lacks its entry in one of its table's indexes */
    CK_PROB_ENTRY_STRAY,   /* an index entry whose row does not exist or does not have it */
    CK_PROB_ENTRY_KEY,     /* an idx key too short to be an entry, or naming no index */
};

/* One problem. Strings are static (catalog names); nothing here is a row value. */
struct ck_problem {
    enum ck_problem_kind kind;
    const struct ck_table *table; /* NULL when the key names no table */
    const char *constraint;       /* index, FK or CHECK name; NULL when none applies */
    const char *column;           /* column name; NULL when none applies */
    const char *parent_table;     /* CK_PROB_FK: the table the key should name */
    bool has_tenant, has_id, has_other;
    uint8_t tenant[16];   /* the key's tenant prefix (all zero: system) */
    uint8_t id[16];       /* the row's id */
    uint8_t other_id[16]; /* CK_PROB_UNIQUE: the row that holds the same key */
};

struct ck_consistency_stats {
    uint64_t rows[256]; /* rows per table, by table index (id - 1) */
    uint64_t rows_total;
    uint64_t entries[CK_CONSISTENCY_MAX_INDEX_ID + 1]; /* idx entries found, by index id */
    uint64_t entries_total;                            /* idx entries walked in the second pass */
    uint64_t entries_verified; /* (row, index) pairs whose entry was found in the first pass */
    uint64_t fks_checked;      /* non-null foreign key values resolved */
    uint64_t unique_checked;   /* unique keys without NULL looked up for duplicates */
    uint64_t checks_evaluated; /* CHECK constraints evaluated */
    uint64_t problems;         /* every problem, also those not reported */
};

struct ck_consistency_opts {
    /* NULL: the whole environment. Otherwise one tenant: its key space in rows
     * and idx, and its row in `tenants` with that row's index entries. */
    const uint8_t *tenant;
    /* Called once per problem, in key order, while the transaction is open;
     * the problem is valid during the call only. May be NULL. */
    void (*report)(void *arg, const struct ck_problem *p);
    void *arg;
};

/*
 * Check the environment (or one tenant) as seen by txn, a read (or write)
 * transaction the caller owns and ends; nothing is written.
 *
 * kv:    the environment (its named databases).
 * txn:   the snapshot to check; it stays open and unchanged.
 * opts:  scope and the problem callback; NULL checks everything, reporting nothing.
 * out:   OUT: counts, problems included; written whenever 0 is returned.
 * err:   a message when an error is returned.
 *
 * Returns 0 when the check ran to the end, whatever it found (out->problems
 * says); -CK_ENOMEM, or a translated LMDB error (-CK_EIO, -CK_EINTERNAL, ...)
 * when it could not read the database, in which case *out is unspecified.
 */
int ck_consistency_check(struct kv *kv, MDB_txn *txn, const struct ck_consistency_opts *opts,
                         struct ck_consistency_stats *out, struct ck_err *err);

/* A stable short name for a problem kind ("missing_entry", "fk_violation",
 * ...), used in `clinickv check --json`. Static; "unknown" outside the enum. */
const char *ck_problem_kind_name(enum ck_problem_kind kind);

/*
 * One line describing p for people, without values, into out (always
 * NUL-terminated, truncated to n bytes):
 *   "fk_violation: clinical_notes 0190...: fk_clinical_notes_patient (patient_id) names
 *    no patients row (tenant 0190...)"
 * Returns the length the full line needs, as snprintf does.
 */
int ck_problem_format(const struct ck_problem *p, char *out, size_t n);

#endif
