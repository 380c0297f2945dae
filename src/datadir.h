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
