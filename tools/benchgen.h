/*
 * The clinic-day data set of bench/WORKLOAD.md, written straight into a new data
 * directory through the storage layer (clinickv-gen).
 *
 * The rules mirror the peer kit's generator (shared/bench/peers/gen.py), so that
 * clinickv and its peers hold equivalent data at the same scale, seed and anchor
 * date: the same row counts per table and tenant, the same value distributions,
 * every FK pointing at a row of the same tenant (an appointment's clinic taken
 * from its patient, its dentist drawn from that clinic), every UNIQUE key and
 * CHECK holding. Only the random stream differs (this is C, not Python's
 * Mersenne Twister), so ids and values are not byte-identical with gen.py's.
 *
 * What is clinickv's own: ids are UUIDv7 (time-ordered, as the server makes
 * them); PHI columns hold real ciphertexts sealed with the data directory's key
 * file (phi.h) and patients carry their blind indexes, so the server reads them
 * as it reads rows written by clients; every user's password_hash is the Argon2id
 * hash of one known password, so the bench can log in as any tenant's admin.
 *
 * Every row goes through ck_rows_insert() (validation, CHECKs, FK and unique
 * checks, index entries) in large write transactions without fsync (the
 * environment is synced once at the end) and without change-log records (a
 * generated data set has no history to replay, as the peers' loads skip the
 * binary log).
 */
#ifndef CLINICKV_BENCHGEN_H
#define CLINICKV_BENCHGEN_H

#include <stdbool.h>
#include <stdint.h>

#include "ckerr.h"

struct benchgen_options {
    const char *dir; /* the new data directory (must not exist or be empty) */
    double scale;    /* scale factor: 1 = WORKLOAD.md's ~2.07M rows */
    uint64_t seed;
    int32_t anchor_days;  /* the data set's "today", days since 1970-01-01 */
    unsigned txn_rows;    /* rows per write transaction (0: 50,000) */
    bool progress;        /* a live progress line on stderr (a terminal) */
    bool verbose;         /* one line per table on stderr */
    const char *password; /* every user's password (NULL: BENCHGEN_PASSWORD) */
};

#define BENCHGEN_PASSWORD "bench-password"

struct benchgen_stats {
    uint64_t rows; /* rows written */
    unsigned tables;
    double seconds; /* wall time, data directory creation to the final sync */
};

/*
 * Create o->dir as `clinickv init` does (the same files and metadata, with the
 * pharmacy module; DIR must not exist or be empty), fill it with the data set and
 * write DIR/bench/ids (benchids.h). The same scale, seed and anchor give the same
 * rows and ids; only the random parts of secrets differ (the Argon2id salt, PHI
 * nonces and keys), so ciphertexts differ while their plaintexts are equal. On
 * failure the message is in err and the directory is left as it is (remove it
 * before retrying). Errors: -CK_EINVAL (a scale outside (0, 100], DIR not
 * empty), anything ck_rows_insert() or the storage layer returns.
 */
int benchgen_run(const struct benchgen_options *o, struct benchgen_stats *st, struct ck_err *err);

#endif
