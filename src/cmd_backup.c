/*
 * clinickv backup: a hot physical backup, the fastest kind: a compacting copy of
 * the LMDB environment (mdb_env_copyfd2 with MDB_CP_COMPACT), taken from one read
 * transaction of an environment opened read-only beside a running server, whose
 * writers are never blocked.
 *
 *   clinickv backup --data DIR --to DIR2 [--with-keys] [--key-file PATH]
 *
 * DIR2 (which must not exist, or be empty) becomes a complete data directory: db/
 * with every named database (rows, indexes, change log, meta, sessions) and
 * admin.key. The PHI key file is copied only with --with-keys: a backup kept apart
 * from the keys leaks no PHI when it is lost. DIR2 is built under a temporary name
 * beside it and renamed when complete and synced, so it appears whole or not at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>
#include <sodium.h>

#include "cli.h"
#include "datadir.h"
#include "phi.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv backup --data DIR --to DIR2 [--with-keys] [--key-file PATH]\n"
               "                       [--verbose]\n\n"
               "Copies the data directory DIR to DIR2, compacting the database on the way\n"
               "(free pages are left out), from one consistent snapshot: a server may keep\n"
               "running and writing on DIR. DIR2 must not exist or be empty; it becomes a\n"
               "complete data directory (db/ and admin.key), renamed into place when done.\n\n"
               "  --with-keys      copy the PHI key file too (by default it is not: keep it\n"
               "                   apart from the backups, as its own backup)\n"
               "  --key-file PATH  where DIR's PHI key file is (default DIR/phi.keys)\n"
               "  --verbose        say what was copied (always said on a terminal)\n\n"
               "Exit status 0 only on success.\n");
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct copy_job {
    MDB_env *env;
    int fd;
    int rc;
};

static void *copy_thread(void *arg)
{
    struct copy_job *j = arg;
    j->rc = mdb_env_copyfd2(j->env, j->fd, MDB_CP_COMPACT);
    return NULL;
}

/* The compacting copy, with a progress line on a terminal: bytes written so far
 * against the pages in use, which bound the copy's size, so the share shown is a
 * lower bound and the time left an upper one. */
static int copy_env(struct kv *kv, int fd, struct ck_err *err)
{
    struct copy_job j = {.env = kv->env, .fd = fd};
    bool tty = isatty(STDERR_FILENO) == 1;
    if (!tty) {
        copy_thread(&j);
    } else {
        MDB_envinfo info;
        MDB_stat st;
        mdb_env_info(kv->env, &info);
        mdb_env_stat(kv->env, &st);
        double used = (double)(info.me_last_pgno + 1) * st.ms_psize, t0 = now_s();
        pthread_t th;
        if (pthread_create(&th, NULL, copy_thread, &j) != 0)
            return ck_err_set(err, -CK_EINTERNAL, "cannot start the copy");
        for (;;) {
            struct timespec ts = {0, 250 * 1000 * 1000};
            nanosleep(&ts, NULL);
            if (pthread_tryjoin_np(th, NULL) == 0)
                break;
            struct stat fs;
            if (fstat(fd, &fs) == 0 && used > 0) {
                double el = now_s() - t0, done = (double)fs.st_size / used;
                double left = done > 0 ? el * (1 - done) / done : 0;
                fprintf(stderr, "\rbackup: %.1f MiB, %.1f MiB/s, at least %.0f%%, ETA %d:%02d   ",
                        (double)fs.st_size / (1 << 20), (double)fs.st_size / (1 << 20) / el,
                        100 * done, (int)left / 60, (int)left % 60);
            }
        }
        fputs("\r\033[K", stderr);
    }
    if (j.rc)
        return ck_err_set(err, kv_error(j.rc), "cannot copy the database: %s", mdb_strerror(j.rc));
    if (fsync(fd) != 0)
        return ck_err_set(err, -CK_EIO, "cannot sync the copy: %s", strerror(errno));
    return 0;
}

struct backup_opts {
    const char *dir, *to, *key_file;
    bool with_keys, verbose;
};

static int run_backup(const struct backup_opts *o, struct ck_err *err)
{
    char path[4096 + 32], src[4096 + 32];
    struct datadir_stage st;
    int rc = datadir_stage_begin(&st, o->to, "backup", err);
    if (rc)
        return rc;
    struct kv kv;
    struct kv_options kopt = {.read_only = true};
    if ((rc = datadir_open(&kv, o->dir, &kopt, NULL, err)) != 0) {
        datadir_stage_abort(&st);
        return rc;
    }
    double t0 = now_s();
    snprintf(path, sizeof path, "%s/db", st.tmp);
    int fd = -1;
    if (mkdir(path, 0700) != 0) {
        rc = ck_err_set(err, -CK_EIO, "cannot create %s: %s", path, strerror(errno));
    } else {
        snprintf(path, sizeof path, "%s/db/data.mdb", st.tmp);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
            rc = ck_err_set(err, -CK_EIO, "cannot create %s: %s", path, strerror(errno));
    }
    if (rc == 0)
        rc = copy_env(&kv, fd, err);
    struct stat sb;
    off_t size = fd >= 0 && fstat(fd, &sb) == 0 ? sb.st_size : 0;
    if (fd >= 0)
        close(fd);
    kv_close(&kv);
    if (rc == 0) {
        snprintf(src, sizeof src, "%s/admin.key", o->dir);
        snprintf(path, sizeof path, "%s/admin.key", st.tmp);
        rc = datadir_copy_secret(src, path, err);
    }
    if (rc == 0 && o->with_keys) {
        datadir_key_file(o->dir, o->key_file, src, sizeof src);
        struct phi_keyring kr;
        rc = phi_keyring_load(&kr, src, err); /* copy only what is a key file, and private */
        phi_keyring_wipe(&kr);
        snprintf(path, sizeof path, "%s/phi.keys", st.tmp);
        if (rc == 0)
            rc = datadir_copy_secret(src, path, err);
    }
    if (rc == 0) {
        /* Prove the copy opens as a data directory of this schema. */
        struct kv check;
        rc = datadir_open(&check, st.tmp, NULL, NULL, err);
        if (rc == 0)
            kv_close(&check);
    }
    if (rc == 0)
        rc = datadir_stage_commit(&st, err);
    if (rc) {
        datadir_stage_abort(&st);
        return rc;
    }
    /* Quiet for cron unless asked or on a terminal: the exit status says it worked. */
    if (o->verbose || isatty(STDOUT_FILENO))
        printf("backed up %s to %s: %.1f MiB in %.2f s; %s\n", o->dir, o->to,
               (double)size / (1 << 20), now_s() - t0,
               o->with_keys ? "PHI keys copied (keep this backup as safe as the keys)"
                            : "PHI keys not copied: back up the key file separately");
    return 0;
}

int cmd_backup(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"to", required_argument, NULL, 't'},
        {"with-keys", no_argument, NULL, 'w'},
        {"key-file", required_argument, NULL, 'k'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct backup_opts o = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 't': o.to = optarg; break;
        case 'w': o.with_keys = true; break;
        case 'k': o.key_file = optarg; break;
        case 'v': o.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.dir || !o.to || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    struct ck_err err = CK_ERR_INIT;
    int rc = run_backup(&o, &err);
    if (rc)
        fprintf(stderr, "clinickv backup: %s\n", err.code ? err.message : ck_strerror(rc));
    ck_err_free(&err);
    return rc ? 1 : 0;
}
