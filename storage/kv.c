/* The LMDB environment: open, transactions, map growth. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kv.h"

const uint8_t kv_system_tenant[16] = {0};

#define KV_DEFAULT_MAP     (256ull << 20)
#define KV_DEFAULT_MAX_MAP (1ull << 40)
#define KV_DEFAULT_READERS 512

int kv_error(int rc)
{
    switch (rc) {
    case 0: return 0;
    case MDB_NOTFOUND: return -CK_ENOTFOUND;
    case MDB_MAP_FULL: return -CK_EMAPFULL;
    case MDB_TXN_FULL: return -CK_ETOOLARGE;
    case MDB_READERS_FULL: return -CK_EBUSY;
    case MDB_KEYEXIST: return -CK_EUNIQUE;
    case MDB_BAD_VALSIZE: return -CK_ETOOLARGE;
    case ENOMEM: return -CK_ENOMEM;
    case EIO:
    case ENOSPC:
    case EACCES:
    case EROFS: return -CK_EIO;
    default: return -CK_EINTERNAL;
    }
}

static int open_dbis(struct kv *kv, bool create, struct ck_err *err)
{
    MDB_txn *txn;
    unsigned tflags = kv->read_only ? MDB_RDONLY : 0;
    int rc = mdb_txn_begin(kv->env, NULL, tflags, &txn);
    if (rc)
        return ck_err_set(err, kv_error(rc), "cannot begin transaction: %s", mdb_strerror(rc));
    struct {
        const char *name;
        MDB_dbi *dbi;
    } dbs[] = {
        {"rows", &kv->rows}, {"idx", &kv->idx},   {"log", &kv->log},
        {"meta", &kv->meta}, {"sess", &kv->sess},
    };
    for (size_t i = 0; i < sizeof dbs / sizeof dbs[0]; i++) {
        rc = mdb_dbi_open(txn, dbs[i].name, create ? MDB_CREATE : 0, dbs[i].dbi);
        if (rc) {
            mdb_txn_abort(txn);
            if (rc == MDB_NOTFOUND)
                return ck_err_set(err, -CK_ENOTFOUND, "%s is not a clinickv data directory",
                                  kv->dir);
            return ck_err_set(err, kv_error(rc), "cannot open database %s: %s", dbs[i].name,
                              mdb_strerror(rc));
        }
    }
    rc = mdb_txn_commit(txn);
    if (rc)
        return ck_err_set(err, kv_error(rc), "cannot open databases: %s", mdb_strerror(rc));
    return 0;
}

int kv_open(struct kv *kv, const char *dir, bool create, const struct kv_options *opt,
            struct ck_err *err)
{
    struct kv_options defaults = {0};
    if (!opt)
        opt = &defaults;
    memset(kv, 0, sizeof *kv);
    kv->map_size = opt->map_size ? opt->map_size : KV_DEFAULT_MAP;
    kv->max_map_size = opt->max_map_size ? opt->max_map_size : KV_DEFAULT_MAX_MAP;
    kv->read_only = opt->read_only;
    kv->no_sync = opt->no_sync;
    kv->dir = strdup(dir);
    if (!kv->dir)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");

    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/db", dir) >= sizeof path) {
        free(kv->dir);
        return ck_err_set(err, -CK_EINVAL, "data directory path too long");
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        if (!create || errno != ENOENT) {
            int e = errno;
            free(kv->dir);
            if (e == ENOENT)
                return ck_err_set(
                    err, -CK_ENOTFOUND,
                    "no clinickv data directory at %s (create one with clinickv init)", dir);
            return ck_err_set(err, -CK_EIO, "cannot access %s: %s", path, strerror(e));
        }
        if (mkdir(path, 0700) != 0) {
            int e = errno;
            free(kv->dir);
            return ck_err_set(err, -CK_EIO, "cannot create %s: %s", path, strerror(e));
        }
    } else if (!S_ISDIR(st.st_mode)) {
        free(kv->dir);
        return ck_err_set(err, -CK_ENOTFOUND, "%s is not a clinickv data directory", dir);
    }

    int rc = mdb_env_create(&kv->env);
    if (rc)
        goto out_free_dir;
    mdb_env_set_maxdbs(kv->env, 8);
    mdb_env_set_maxreaders(kv->env, opt->max_readers ? opt->max_readers : KV_DEFAULT_READERS);
    rc = mdb_env_set_mapsize(kv->env, kv->map_size);
    if (rc)
        goto out_close_env;
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
    if (kv->read_only)
        flags |= MDB_RDONLY;
    if (kv->no_sync)
        flags |= MDB_NOSYNC;
    rc = mdb_env_open(kv->env, path, flags, 0600);
    if (rc)
        goto out_close_env;
    /* Another process may have grown the map beyond our request: adopt its size. */
    MDB_envinfo info;
    mdb_env_info(kv->env, &info);
    if (info.me_mapsize > kv->map_size)
        kv->map_size = info.me_mapsize;
    /* Writer-preferring: a steady stream of readers must not starve a map resize. */
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int lrc = pthread_rwlock_init(&kv->resize_lock, &attr);
    pthread_rwlockattr_destroy(&attr);
    if (lrc != 0) {
        rc = ENOMEM;
        goto out_close_env;
    }
    int r = open_dbis(kv, create, err);
    if (r) {
        pthread_rwlock_destroy(&kv->resize_lock);
        mdb_env_close(kv->env);
        free(kv->dir);
        kv->env = NULL;
        return r;
    }
    return 0;

out_close_env:
    mdb_env_close(kv->env);
    kv->env = NULL;
out_free_dir:
    free(kv->dir);
    kv->dir = NULL;
    if (rc == ENOENT || rc == EINVAL || rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
        return ck_err_set(err, -CK_ENOTFOUND, "%s is not a clinickv data directory (%s)", dir,
                          mdb_strerror(rc));
    return ck_err_set(err, kv_error(rc), "cannot open %s: %s", path, mdb_strerror(rc));
}

void kv_close(struct kv *kv)
{
    if (!kv->env)
        return;
    mdb_env_close(kv->env);
    kv->env = NULL;
    pthread_rwlock_destroy(&kv->resize_lock);
    free(kv->dir);
    kv->dir = NULL;
}

/* Adopt a map size set by another process. Caller holds resize_lock exclusively. */
static int adopt_map_size_locked(struct kv *kv)
{
    int rc = mdb_env_set_mapsize(kv->env, 0);
    if (rc)
        return kv_error(rc);
    MDB_envinfo info;
    mdb_env_info(kv->env, &info);
    kv->map_size = info.me_mapsize;
    return 0;
}

static int adopt_map_size(struct kv *kv)
{
    pthread_rwlock_wrlock(&kv->resize_lock);
    int rc = adopt_map_size_locked(kv);
    pthread_rwlock_unlock(&kv->resize_lock);
    return rc;
}

int kv_read_begin(struct kv *kv, MDB_txn **txn_out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        pthread_rwlock_rdlock(&kv->resize_lock);
        int rc = mdb_txn_begin(kv->env, NULL, MDB_RDONLY, txn_out);
        if (rc == 0)
            return 0;
        pthread_rwlock_unlock(&kv->resize_lock);
        if (rc != MDB_MAP_RESIZED)
            return kv_error(rc);
        rc = adopt_map_size(kv);
        if (rc)
            return rc;
    }
    return -CK_EBUSY;
}

void kv_read_end(struct kv *kv, MDB_txn *txn)
{
    mdb_txn_abort(txn);
    pthread_rwlock_unlock(&kv->resize_lock);
}

int kv_write_begin(struct kv *kv, MDB_txn **txn_out)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        int rc = mdb_txn_begin(kv->env, NULL, 0, txn_out);
        if (rc == 0)
            return 0;
        if (rc != MDB_MAP_RESIZED)
            return kv_error(rc);
        rc = adopt_map_size(kv);
        if (rc)
            return rc;
    }
    return -CK_EBUSY;
}

int kv_write_commit(struct kv *kv, MDB_txn *txn)
{
    (void)kv;
    return kv_error(mdb_txn_commit(txn));
}

int kv_grow(struct kv *kv)
{
    pthread_rwlock_wrlock(&kv->resize_lock);
    int rc = 0;
    /* Someone (another process) may have grown it already. */
    MDB_envinfo info;
    mdb_env_info(kv->env, &info);
    size_t cur = info.me_mapsize > kv->map_size ? info.me_mapsize : kv->map_size;
    if (cur >= kv->max_map_size) {
        rc = -CK_EMAPFULL;
        goto out_unlock;
    }
    size_t next = cur * 2 < kv->max_map_size ? cur * 2 : kv->max_map_size;
    int mrc = mdb_env_set_mapsize(kv->env, next);
    if (mrc) {
        rc = kv_error(mrc);
        goto out_unlock;
    }
    kv->map_size = next;
out_unlock:
    pthread_rwlock_unlock(&kv->resize_lock);
    return rc;
}

int kv_grow_if_needed(struct kv *kv)
{
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(kv->env, &info);
    mdb_env_stat(kv->env, &st);
    size_t used = (info.me_last_pgno + 1) * (size_t)st.ms_psize;
    if (used * 4 < info.me_mapsize * 3)
        return 0;
    return kv_grow(kv);
}

int kv_sync(struct kv *kv)
{
    if (kv->read_only)
        return 0;
    return kv_error(mdb_env_sync(kv->env, 1));
}

int kv_write_run(struct kv *kv, int (*fn)(MDB_txn *txn, void *arg), void *arg)
{
    for (;;) {
        MDB_txn *txn;
        int rc = kv_write_begin(kv, &txn);
        if (rc)
            return rc;
        rc = fn(txn, arg);
        if (rc == 0) {
            rc = kv_write_commit(kv, txn);
        } else {
            mdb_txn_abort(txn);
        }
        if (rc != -CK_EMAPFULL)
            return rc;
        rc = kv_grow(kv);
        if (rc)
            return rc;
    }
}

int kv_meta_get(struct kv *kv, MDB_txn *txn, const char *name, MDB_val *val_out)
{
    MDB_val k = {strlen(name), (void *)name};
    return kv_error(mdb_get(txn, kv->meta, &k, val_out));
}

int kv_meta_put(struct kv *kv, MDB_txn *txn, const char *name, const void *val, size_t len)
{
    MDB_val k = {strlen(name), (void *)name};
    MDB_val v = {len, (void *)val};
    return kv_error(mdb_put(txn, kv->meta, &k, &v, 0));
}
