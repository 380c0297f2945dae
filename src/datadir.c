/* Data directories: init, open, lock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <utf8proc.h>

#include "adminkey.h"
#include "changelog.h"
#include "datadir.h"
#include "phi.h"
#include "row.h"
#include "tenants.h"
#include "timeval.h"

void datadir_collation_tag(char *out, size_t n)
{
    /* The collation key is in every string index entry: a different utf8proc or
     * Unicode version could change keys, so the version is recorded at init. */
    snprintf(out, n, "utf8proc %s unicode %s ck1", utf8proc_version(), utf8proc_unicode_version());
}

static bool dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    bool empty = true;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            empty = false;
            break;
        }
    }
    closedir(d);
    return empty;
}

struct init_work {
    const struct datadir_init_options *o;
    struct kv *kv;
    const struct phi_keyring *keys;
    struct ck_err *err;
};

static int init_txn(MDB_txn *txn, void *arg)
{
    struct init_work *w = arg;
    const struct datadir_init_options *o = w->o;
    char version = CK_DATA_FORMAT, row_format = CK_ROW_FORMAT, pharmacy = o->pharmacy;
    int rc;
    if ((rc = kv_meta_put(w->kv, txn, "format", &version, 1)) ||
        (rc = kv_meta_put(w->kv, txn, "row_format", &row_format, 1)) ||
        (rc = kv_meta_put(w->kv, txn, "pharmacy", &pharmacy, 1)) ||
        (rc = kv_meta_put(w->kv, txn, "schema_version", ck_catalog.schema_version,
                          strlen(ck_catalog.schema_version))))
        return ck_err_set(w->err, rc, "cannot write metadata");
    char tag[128];
    datadir_collation_tag(tag, sizeof tag);
    if ((rc = kv_meta_put(w->kv, txn, "collation", tag, strlen(tag))))
        return ck_err_set(w->err, rc, "cannot write metadata");
    struct ck_log log = {0};
    struct ck_ctx c = {.kv = w->kv, .txn = txn, .now_ms = ck_now_ms(), .log = &log, .err = w->err};
    struct tenant_spec spec = {.slug = o->tenant,
                               .admin_email = o->admin_email,
                               .admin_password = o->admin_password};
    uint8_t tenant[16], admin[16];
    rc = ck_tenant_create(&c, &spec, tenant, admin);
    if (rc)
        return rc;
    if (o->demo) {
        c.tenant = tenant;
        c.user = admin;
        rc = ck_tenant_add_demo(&c, w->keys, "password");
    }
    return rc;
}

int datadir_init(const struct datadir_init_options *o, struct ck_err *err)
{
    char path[4096];
    struct stat st;
    bool created = false;
    if (stat(o->dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return ck_err_set(err, -CK_EINVAL, "%s exists and is not a directory", o->dir);
        snprintf(path, sizeof path, "%s/db", o->dir);
        if (stat(path, &st) == 0)
            return ck_err_set(err, -CK_EINVAL,
                              "%s already holds a clinickv data directory; nothing was changed", o->dir);
        if (!dir_is_empty(o->dir))
            return ck_err_set(err, -CK_EINVAL, "%s is not empty; nothing was changed", o->dir);
    } else if (mkdir(o->dir, 0700) != 0) {
        return ck_err_set(err, -CK_EIO, "cannot create %s: %s", o->dir, strerror(errno));
    } else {
        created = true;
    }
    char keyfile[4096];
    datadir_key_file(o->dir, NULL, keyfile, sizeof keyfile);
    struct phi_keyring keys;
    struct kv kv;
    int rc = phi_keyring_create(keyfile, err);
    if (rc == 0)
        rc = phi_keyring_load(&keys, keyfile, err);
    if (rc)
        goto out_remove;
    rc = kv_open(&kv, o->dir, true, NULL, err);
    if (rc) {
        phi_keyring_wipe(&keys);
        goto out_remove;
    }
    struct init_work w = {.o = o, .kv = &kv, .keys = &keys, .err = err};
    rc = kv_write_run(&kv, init_txn, &w);
    kv_close(&kv);
    phi_keyring_wipe(&keys);
    if (rc) {
        if (err->code == 0)
            ck_err_set(err, rc, "cannot initialise: %s", ck_strerror(rc));
        goto out_remove;
    }
    rc = adminkey_create(o->dir, err);
    if (rc)
        goto out_remove;
    return 0;

out_remove:
    /* Leave nothing half-made behind. */
    snprintf(path, sizeof path, "%s/db/data.mdb", o->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/db/lock.mdb", o->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/db", o->dir);
    rmdir(path);
    adminkey_remove(o->dir);
    datadir_key_file(o->dir, NULL, path, sizeof path);
    unlink(path);
    if (created)
        rmdir(o->dir);
    return rc;
}

int datadir_open(struct kv *kv, const char *dir, const struct kv_options *opt, bool *pharmacy_out,
                 struct ck_err *err)
{
    int rc = kv_open(kv, dir, false, opt, err);
    if (rc)
        return rc;
    MDB_txn *txn;
    rc = kv_read_begin(kv, &txn);
    if (rc) {
        ck_err_set(err, rc, "cannot read %s", dir);
        goto out_close;
    }
    MDB_val v;
    if (kv_meta_get(kv, txn, "format", &v) != 0 || v.mv_size != 1) {
        rc = ck_err_set(err, -CK_ENOTFOUND, "%s is not a clinickv data directory", dir);
    } else if (*(const char *)v.mv_data != CK_DATA_FORMAT) {
        rc = ck_err_set(err, -CK_EINVAL, "%s has data format %d; this clinickv reads format %d", dir,
                        *(const char *)v.mv_data, CK_DATA_FORMAT);
    } else if (kv_meta_get(kv, txn, "schema_version", &v) != 0 ||
               v.mv_size != strlen(ck_catalog.schema_version) ||
               memcmp(v.mv_data, ck_catalog.schema_version, v.mv_size) != 0) {
        rc = ck_err_set(err, -CK_EINVAL,
                        "%s was made with another schema version than this clinickv's (%s)", dir,
                        ck_catalog.schema_version);
    } else {
        if (pharmacy_out)
            *pharmacy_out = kv_meta_get(kv, txn, "pharmacy", &v) == 0 && v.mv_size == 1 &&
                            *(const char *)v.mv_data == 1;
        char tag[128];
        datadir_collation_tag(tag, sizeof tag);
        if (kv_meta_get(kv, txn, "collation", &v) == 0 &&
            (v.mv_size != strlen(tag) || memcmp(v.mv_data, tag, v.mv_size) != 0))
            fprintf(stderr,
                    "clinickv: warning: %s was indexed with %.*s, this build uses %s; string keys "
                    "may compare differently until the data is dumped and restored\n",
                    dir, (int)(v.mv_size > 100 ? 100 : v.mv_size), (const char *)v.mv_data, tag);
    }
    kv_read_end(kv, txn);
    if (rc == 0)
        return 0;
out_close:
    kv_close(kv);
    return rc;
}

int datadir_lock(const char *dir, int *fd_out, struct ck_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/server.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ck_err_set(err, -CK_EIO, "cannot open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return ck_err_set(err, -CK_EBUSY, "another clinickv server is running on %s", dir);
        return ck_err_set(err, -CK_EIO, "cannot lock %s: %s", path, strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0) {
        /* The pid is informational only. */
    }
    *fd_out = fd;
    return 0;
}

void datadir_key_file(const char *dir, const char *given, char *out, size_t n)
{
    if (given)
        snprintf(out, n, "%s", given);
    else
        snprintf(out, n, "%s/phi.keys", dir);
}
