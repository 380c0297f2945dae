/*
 * The server's PHI keys (phi.h), reloadable while it serves.
 *
 * `clinickv keys rotate` adds a key to the key file and re-encrypts rows while the
 * server runs, so the server must learn new keys: it reloads the file on SIGHUP
 * (the rotate command sends it) and whenever a row names a key it does not know.
 * Readers on the loop and writer threads use the current keyring without a lock;
 * a reload publishes a new one and keeps the old ones until shutdown, so a
 * keyring is never freed while a thread may read it. Reloads are rare (one per
 * rotation), so the memory kept is bounded by the number of rotations.
 */
#ifndef CLINICKV_KEYS_H
#define CLINICKV_KEYS_H

#include <pthread.h>
#include <stdatomic.h>

#include "phi.h"

struct keys {
    _Atomic(struct phi_keyring *) current;
    struct phi_keyring **all; /* every keyring loaded, freed at shutdown */
    unsigned nall;
    pthread_mutex_t lock; /* serialises reloads */
    char path[4096];
};

/* Load the key file at path. A missing file leaves an empty keyring (PHI cannot be
 * written or read) and returns -CK_ENOTFOUND with a message; other errors fail. */
int keys_init(struct keys *k, const char *path, struct ck_err *err);

/* The current keyring (never NULL after keys_init). */
const struct phi_keyring *keys_current(struct keys *k);

/* Reload the file; on failure the current keyring stays. */
int keys_reload(struct keys *k, struct ck_err *err);

/* Find a key by id, reloading the file once if it is unknown. */
const struct phi_key *keys_find(struct keys *k, const char *id, size_t len);

/* Wipe and free every keyring. */
void keys_destroy(struct keys *k);

#endif
