/*
 * The data directory: creating one (`clinickv init`), opening one and checking it
 * is ours and of this schema, and the lock that keeps a second server away.
 *
 *   DIR/db/           the LMDB environment (kv.h)
 *   DIR/server.lock   flock()ed by the running server
 *   DIR/clinickv.sock the server's Unix socket (default)
 *   DIR/admin.key     the system administrator key, mode 0600
 *   DIR/phi.keys      the PHI keys (phi.h), mode 0600, by default: keep a copy apart
 */
#ifndef CLINICKV_DATADIR_H
#define CLINICKV_DATADIR_H

#include <stdbool.h>

#include <lmdb.h>

#include "kv.h"

#define CK_DATA_FORMAT 1

struct datadir_init_options {
    const char *dir;
    const char *tenant;
    const char *admin_email;
    const char *admin_password;
    bool demo;
    bool pharmacy;
};

/* Create and populate a new data directory. Refuses (changing nothing) when DIR
 * already holds a data directory or is a non-empty directory. Messages in err. */
int datadir_init(const struct datadir_init_options *o, struct ck_err *err);

/* Write the metadata that makes an LMDB environment a data directory of this
 * build: format, row format, schema version, collation version, pharmacy module.
 * init, restore and clinickv-gen all create directories through it. */
int datadir_write_meta(struct kv *kv, MDB_txn *txn, bool pharmacy);

/*
 * A new data directory must go where nothing is: DIR must not exist (its parent
 * must) or be an empty directory. parent_out gets DIR's parent. -CK_EINVAL with
 * a message naming what is in the way.
 */
int datadir_check_new(const char *dir, char *parent_out, size_t n, struct ck_err *err);

/*
 * Building a data directory beside its final place and moving it there with one
 * rename, so a failed restore or backup leaves nothing half-made where DIR goes.
 */
struct datadir_stage {
    char dir[4096]; /* the final place */
    char parent[4096];
    char tmp[4096]; /* where it is built: PARENT/.NAME.WHAT-XXXXXX */
};

/* Check dir with datadir_check_new() and make the staging directory. */
int datadir_stage_begin(struct datadir_stage *st, const char *dir, const char *what,
                        struct ck_err *err);

/* fsync the staged tree, rename it to its place, fsync the parent. */
int datadir_stage_commit(struct datadir_stage *st, struct ck_err *err);

/* Remove what the staging directory holds (the files a data directory has). */
void datadir_stage_abort(struct datadir_stage *st);

/* Copy a secret file (admin.key, phi.keys) to dst, mode 0600, fsynced; dst must not
 * exist. The copy buffer is wiped. */
int datadir_copy_secret(const char *src, const char *dst, struct ck_err *err);

/* Open a data directory and verify its format and schema version. *pharmacy_out:
 * whether it has the pharmacy module (NULL allowed). */
int datadir_open(struct kv *kv, const char *dir, const struct kv_options *opt, bool *pharmacy_out,
                 struct ck_err *err);

/* Take DIR/server.lock; -CK_EBUSY with a message when another server holds it.
 * *fd_out stays open for the server's lifetime. */
int datadir_lock(const char *dir, int *fd_out, struct ck_err *err);

/* The collation version recorded in meta ("utf8proc 2.8.0 unicode 15.0.0 ck1"). */
void datadir_collation_tag(char *out, size_t n);

/* The PHI key file: `given` (--key-file) or DIR/phi.keys. */
void datadir_key_file(const char *dir, const char *given, char *out, size_t n);

#endif
