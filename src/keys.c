/* The server's reloadable PHI keyring. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"

static int publish(struct keys *k, struct phi_keyring *kr)
{
    struct phi_keyring **all = realloc(k->all, (k->nall + 1) * sizeof *all);
    if (!all)
        return -CK_ENOMEM;
    k->all = all;
    k->all[k->nall++] = kr;
    atomic_store(&k->current, kr);
    return 0;
}

int keys_init(struct keys *k, const char *path, struct ck_err *err)
{
    memset(k, 0, sizeof *k);
    pthread_mutex_init(&k->lock, NULL);
    snprintf(k->path, sizeof k->path, "%s", path);
    struct phi_keyring *kr = calloc(1, sizeof *kr);
    if (!kr || publish(k, kr) != 0) {
        free(kr);
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    }
    return phi_keyring_load(kr, path, err);
}

const struct phi_keyring *keys_current(struct keys *k)
{
    return atomic_load(&k->current);
}

int keys_reload(struct keys *k, struct ck_err *err)
{
    struct phi_keyring *kr = calloc(1, sizeof *kr);
    if (!kr)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    pthread_mutex_lock(&k->lock);
    int rc = phi_keyring_load(kr, k->path, err);
    if (rc == 0)
        rc = publish(k, kr);
    pthread_mutex_unlock(&k->lock);
    if (rc) {
        phi_keyring_wipe(kr);
        free(kr);
    }
    return rc;
}

const struct phi_key *keys_find(struct keys *k, const char *id, size_t len)
{
    const struct phi_key *key = phi_key_find(keys_current(k), id, len);
    if (key)
        return key;
    struct ck_err err = CK_ERR_INIT;
    if (keys_reload(k, &err) == 0)
        key = phi_key_find(keys_current(k), id, len);
    ck_err_free(&err);
    return key;
}

void keys_destroy(struct keys *k)
{
    for (unsigned i = 0; i < k->nall; i++) {
        phi_keyring_wipe(k->all[i]);
        free(k->all[i]);
    }
    free(k->all);
    k->all = NULL;
    k->nall = 0;
    pthread_mutex_destroy(&k->lock);
}
