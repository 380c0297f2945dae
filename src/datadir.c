/* Data directories: init, open, lock. */
#include <dirent.h>
#include <libgen.h>
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

int datadir_write_meta(struct kv *kv, MDB_txn *txn, bool pharmacy)
{
    char version = CK_DATA_FORMAT, row_format = CK_ROW_FORMAT, ph = pharmacy;
    char tag[128];
    datadir_collation_tag(tag, sizeof tag);
    int rc;
    if ((rc = kv_meta_put(kv, txn, "format", &version, 1)) ||
        (rc = kv_meta_put(kv, txn, "row_format", &row_format, 1)) ||
        (rc = kv_meta_put(kv, txn, "pharmacy", &ph, 1)) ||
        (rc = kv_meta_put(kv, txn, "schema_version", ck_catalog.schema_version,
                          strlen(ck_catalog.schema_version))) ||
        (rc = kv_meta_put(kv, txn, "collation", tag, strlen(tag))))
        return rc;
    return 0;
}

static int init_txn(MDB_txn *txn, void *arg)
{
    struct init_work *w = arg;
    const struct datadir_init_options *o = w->o;
    int rc = datadir_write_meta(w->kv, txn, o->pharmacy);
    if (rc)
        return ck_err_set(w->err, rc, "cannot write metadata");
    struct ck_log log = {0};
    struct ck_ctx c = {.kv = w->kv, .txn = txn, .now_ms = ck_now_ms(), .log = &log, .err = w->err};
    struct tenant_spec spec = {
        .slug = o->tenant, .admin_email = o->admin_email, .admin_password = o->admin_password};
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

int datadir_check_new(const char *dir, char *parent_out, size_t n, struct ck_err *err)
{
    struct stat st;
    char path[4096 + 8];
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            return ck_err_set(err, -CK_EINVAL, "%s exists and is not a directory", dir);
        snprintf(path, sizeof path, "%s/db", dir);
        if (stat(path, &st) == 0)
            return ck_err_set(err, -CK_EINVAL,
                              "%s already holds a data directory; nothing was changed", dir);
        if (!dir_is_empty(dir))
            return ck_err_set(err, -CK_EINVAL, "%s is not empty; nothing was changed", dir);
    } else if (errno != ENOENT) {
        return ck_err_set(err, -CK_EIO, "cannot access %s: %s", dir, strerror(errno));
    }
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", dir);
    snprintf(parent_out, n, "%s", dirname(copy));
    if (stat(parent_out, &st) != 0 || !S_ISDIR(st.st_mode))
        return ck_err_set(err, -CK_ENOTFOUND, "the parent directory %s does not exist", parent_out);
    return 0;
}

int datadir_stage_begin(struct datadir_stage *st, const char *dir, const char *what,
                        struct ck_err *err)
{
    int rc = datadir_check_new(dir, st->parent, sizeof st->parent, err);
    if (rc)
        return rc;
    char copy[4096];
    snprintf(st->dir, sizeof st->dir, "%s", dir);
    snprintf(copy, sizeof copy, "%s", dir);
    if ((size_t)snprintf(st->tmp, sizeof st->tmp, "%s/.%s.%s-XXXXXX", st->parent, basename(copy),
                         what) >= sizeof st->tmp)
        return ck_err_set(err, -CK_EINVAL, "path too long: %s", dir);
    if (!mkdtemp(st->tmp))
        return ck_err_set(err, -CK_EIO, "cannot create a directory in %s: %s", st->parent,
                          strerror(errno));
    return 0;
}

static int sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int datadir_stage_commit(struct datadir_stage *st, struct ck_err *err)
{
    char db[4096 + 8];
    snprintf(db, sizeof db, "%s/db", st->tmp);
    if (sync_dir(db) != 0 || sync_dir(st->tmp) != 0)
        return ck_err_set(err, -CK_EIO, "cannot sync %s: %s", st->tmp, strerror(errno));
    /* An empty directory in the way is replaced by the rename itself, atomically. */
    if (rename(st->tmp, st->dir) != 0)
        return ck_err_set(err, -CK_EIO, "cannot rename %s to %s: %s", st->tmp, st->dir,
                          strerror(errno));
    sync_dir(st->parent);
    return 0;
}

void datadir_stage_abort(struct datadir_stage *st)
{
    static const char *const files[] = {"db/data.mdb", "db/lock.mdb", "admin.key", "phi.keys"};
    char path[4096 + 32];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", st->tmp, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/db", st->tmp);
    rmdir(path);
    rmdir(st->tmp);
}

int datadir_copy_secret(const char *src, const char *dst, struct ck_err *err)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return ck_err_set(err, -CK_EIO, "cannot read %s: %s", src, strerror(errno));
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
        int e = errno;
        close(in);
        return ck_err_set(err, -CK_EIO, "cannot create %s: %s", dst, strerror(e));
    }
    char buf[8192];
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = read(in, buf, sizeof buf)) != 0) {
        if (n < 0 || write(out, buf, (size_t)n) != n)
            rc = ck_err_set(err, -CK_EIO, "cannot copy %s to %s: %s", src, dst, strerror(errno));
    }
    if (rc == 0 && fsync(out) != 0)
        rc = ck_err_set(err, -CK_EIO, "cannot sync %s: %s", dst, strerror(errno));
    sodium_memzero(buf, sizeof buf);
    close(in);
    close(out);
    return rc;
}

int datadir_init(const struct datadir_init_options *o, struct ck_err *err)
{
    char path[4096], parent[4096];
    struct stat st;
    bool created = false;
    int crc = datadir_check_new(o->dir, parent, sizeof parent, err);
    if (crc)
        return crc;
    if (stat(o->dir, &st) != 0) {
        if (mkdir(o->dir, 0700) != 0)
            return ck_err_set(err, -CK_EIO, "cannot create %s: %s", o->dir, strerror(errno));
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
        rc = ck_err_set(err, -CK_EINVAL, "%s has data format %d; this clinickv reads format %d",
                        dir, *(const char *)v.mv_data, CK_DATA_FORMAT);
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
