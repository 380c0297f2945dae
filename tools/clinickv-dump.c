/*
 * clinickv-dump: a consistent snapshot of a data directory, or of one tenant, or the
 * changes since a sequence number, written as a dump file (tools/dumpfmt.h,
 * docs/backup.md).
 *
 *   clinickv-dump --data DIR [--tenant SLUG] [--since SEQ] [--format native|jsonl|sql]
 *                 [--encrypt KEYFILE] [--seq-file FILE] [--verbose] -o FILE|-
 *
 * The environment is opened read-only beside a running server, and everything is
 * read in ONE LMDB read transaction: the rows (or the change records) and the
 * change-log sequence number they are consistent with. The server's writers are
 * never blocked; the cost is that pages freed while the dump runs are reused only
 * after it ends, so the data file may grow during a long dump.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "changelog.h"
#include "datadir.h"
#include "dumpfmt.h"
#include "dumpwrite.h"
#include "progress.h"
#include "row.h"
#include "tenants.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clinickv-dump --data DIR [--tenant SLUG] [--since SEQ]\n"
            "                     [--format native|jsonl|sql] [--encrypt KEYFILE]\n"
            "                     [--seq-file FILE] [--verbose] -o FILE|-\n\n"
            "Writes a consistent snapshot of the data directory DIR (one read transaction;\n"
            "a server may keep running and writing) to FILE, or to standard output with -o -.\n\n"
            "  --tenant SLUG      only this tenant (slug or id)\n"
            "  --since SEQ        an incremental dump: the changes after sequence number SEQ\n"
            "                     (the seq a previous dump recorded), up to the latest\n"
            "  --format F         native (msgpack, the default: fastest, exact), jsonl (one\n"
            "                     JSON object per line, readable), sql (INSERTs for MySQL or\n"
            "                     MariaDB after the DDL in schema/)\n"
            "  --encrypt KEYFILE  seal the dump (XChaCha20-Poly1305 secretstream); KEYFILE is\n"
            "                     exactly 32 random bytes with mode 0600:\n"
            "                       head -c 32 /dev/urandom > KEY; chmod 600 KEY\n"
            "  --seq-file FILE    write the dump's sequence number to FILE, the SEQ of the\n"
            "                     next incremental dump (--since \"$(cat FILE)\")\n"
            "  --verbose          print a summary line when done\n\n"
            "PHI columns stay encrypted in every format; the PHI key file (DIR/phi.keys) is\n"
            "not in any dump: back it up separately. Exit status 0 only on success; FILE is\n"
            "written under a temporary name and renamed when complete.\n");
}

struct dump_job {
    struct kv kv;
    MDB_txn *txn;
    struct dump_writer w;
    struct ck_err *err;
    struct progress prog;
    uint64_t done;
};

/* The highest sequence number the data directory has given out: the log's last,
 * or the high-water mark a pruned or restored log keeps in meta. */
static int last_seq(struct dump_job *j, uint64_t *seq_out)
{
    uint64_t last;
    int rc = ck_log_last_seq(j->txn, &j->kv, &last);
    if (rc)
        return ck_err_set(j->err, rc, "cannot read the change log");
    MDB_val v;
    if (kv_meta_get(&j->kv, j->txn, "log_high_water", &v) == 0 && v.mv_size == 8) {
        uint64_t hw = 0;
        for (int i = 0; i < 8; i++)
            hw = hw << 8 | ((const uint8_t *)v.mv_data)[i];
        if (hw > last)
            last = hw;
    }
    *seq_out = last;
    return 0;
}

static int emit_row(struct dump_job *j, const MDB_val *k, const MDB_val *v)
{
    if (k->mv_size != KV_ROW_KEY_LEN)
        return ck_err_set(j->err, -CK_EINTERNAL, "a key of the rows database has the wrong size");
    const uint8_t *key = k->mv_data;
    const struct ck_table *t = ck_table_by_id(key[16]);
    if (!t)
        return ck_err_set(j->err, -CK_EINTERNAL, "a stored row of unknown table %u", key[16]);
    int rc = dump_writer_row(&j->w, t, key, v->mv_data, v->mv_size);
    j->done++;
    progress_update(&j->prog, j->done, j->done);
    return rc;
}

/* Every row, in key order: the system section, then each tenant. */
static int walk_rows(struct dump_job *j, const uint8_t *tenant)
{
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(j->txn, j->kv.rows, &cur));
    if (rc)
        return ck_err_set(j->err, rc, "cannot read rows");
    MDB_val k, v;
    int mrc;
    if (!tenant) {
        for (mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); mrc == 0 && rc == 0;
             mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            rc = emit_row(j, &k, &v);
    } else {
        /* One tenant: its tenants row, then its key space. */
        uint8_t key[KV_ROW_KEY_LEN];
        kv_row_key(key, kv_system_tenant, ck_table_find("tenants", 7)->id, tenant);
        k.mv_size = sizeof key;
        k.mv_data = key;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
        if (mrc == 0)
            rc = emit_row(j, &k, &v);
        k.mv_size = KV_TENANT_LEN;
        k.mv_data = (void *)tenant;
        for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
             mrc == 0 && rc == 0 && k.mv_size >= KV_TENANT_LEN && !memcmp(k.mv_data, tenant, 16);
             mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            rc = emit_row(j, &k, &v);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = ck_err_set(j->err, kv_error(mrc), "cannot read rows: %s", mdb_strerror(mrc));
    return rc;
}

static int walk_changes(struct dump_job *j, uint64_t since, const uint8_t *tenant)
{
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(j->txn, j->kv.log, &cur));
    if (rc)
        return ck_err_set(j->err, rc, "cannot read the change log");
    uint8_t key[8];
    ck_seq_key(key, since + 1);
    MDB_val k = {8, key}, v;
    int mrc;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && rc == 0;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ck_change ch;
        if (ck_change_decode(&k, &v, &ch) != 0) {
            rc = ck_err_set(j->err, -CK_EINTERNAL, "a change record does not decode");
            break;
        }
        if (tenant && memcmp(ch.tenant, tenant, 16) != 0)
            continue;
        rc = dump_writer_change(&j->w, &ch);
        progress_update(&j->prog, ++j->done, ch.seq - since);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc != 0 && mrc != MDB_NOTFOUND)
        rc = ck_err_set(j->err, kv_error(mrc), "cannot read the change log: %s", mdb_strerror(mrc));
    return rc;
}

/* Fill the header's tenant: its id and its slug as stored. */
static int resolve_tenant(struct dump_job *j, const char *slug, struct dump_header *h)
{
    int rc = ck_tenant_resolve(j->txn, &j->kv, slug, strlen(slug), h->tenant);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(j->err, rc, "no tenant %s in %s", slug, j->kv.dir);
    if (rc)
        return ck_err_set(j->err, rc, "cannot look up tenant %s", slug);
    const struct ck_table *t = ck_table_find("tenants", 7);
    struct ck_ctx c = {.kv = &j->kv, .txn = j->txn, .tenant = kv_system_tenant, .err = j->err};
    struct ck_row row;
    if ((rc = ck_rows_get(&c, t, h->tenant, true, &row)) != 0)
        return ck_err_set(j->err, rc, "cannot read tenant %s", slug);
    const struct ck_val *s = &row.v[ck_column_find(t, "slug", 4)];
    if (s->kind != CK_V_STR || s->len > DUMP_SLUG_MAX)
        return ck_err_set(j->err, -CK_EINTERNAL, "tenant %s has no slug", slug);
    memcpy(h->tenant_slug, s->p, s->len);
    h->tenant_slug[s->len] = 0;
    h->has_tenant = true;
    return 0;
}

static int check_since(struct dump_job *j, uint64_t since, uint64_t top)
{
    if (since > top)
        return ck_err_set(j->err, -CK_EINVAL,
                          "--since %llu is beyond the last change of %s (%llu): was this dump "
                          "taken from another data directory?",
                          (unsigned long long)since, j->kv.dir, (unsigned long long)top);
    if (since == top)
        return 0; /* nothing changed: an empty incremental keeps the chain going */
    uint64_t first;
    int rc = ck_log_first_seq(j->txn, &j->kv, &first);
    if (rc)
        return ck_err_set(j->err, rc, "cannot read the change log");
    if (first == 0 || first > since + 1)
        return ck_err_set(
            j->err, -CK_ENOTFOUND,
            "the change log of %s no longer holds change %llu (it holds %llu..%llu; "
            "older changes were removed by --log-retention): take a full dump instead",
            j->kv.dir, (unsigned long long)since + 1, (unsigned long long)first,
            (unsigned long long)top);
    return 0;
}

static int write_seq_file(const char *path, uint64_t seq, struct ck_err *err)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return ck_err_set(err, -CK_EIO, "cannot write %s: %s", tmp, strerror(errno));
    int ok = fprintf(f, "%llu\n", (unsigned long long)seq) > 0;
    ok = fflush(f) == 0 && ok && fsync(fileno(f)) == 0;
    ok = fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return ck_err_set(err, -CK_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* fsync the directory holding path, so a rename in it is durable. */
static void sync_parent(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

struct dump_opts {
    const char *dir, *tenant, *out, *keyfile, *seq_file;
    unsigned encoding;
    bool incremental, verbose;
    uint64_t since;
};

static int run(const struct dump_opts *o, struct ck_err *err)
{
    uint8_t key[DUMP_KEY_LEN];
    int rc;
    if (o->keyfile && (rc = dump_key_load(o->keyfile, key, err)) != 0)
        return rc;
    struct dump_job j = {.err = err};
    struct kv_options kopt = {.read_only = true};
    bool pharmacy = false;
    if ((rc = datadir_open(&j.kv, o->dir, &kopt, &pharmacy, err)) != 0)
        goto out_wipe;

    char tmp[4096] = "";
    int fd = STDOUT_FILENO;
    if (strcmp(o->out, "-") != 0) {
        snprintf(tmp, sizeof tmp, "%s.partial-%ld", o->out, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            rc = ck_err_set(err, -CK_EIO, "cannot create %s: %s", tmp, strerror(errno));
            goto out_close_kv;
        }
    }
    if ((rc = kv_read_begin(&j.kv, &j.txn)) != 0) {
        ck_err_set(err, rc, "cannot read %s", o->dir);
        goto out_close_fd;
    }
    struct dump_header h = {.encoding = o->encoding,
                            .kind = o->incremental ? DUMP_INCREMENTAL : DUMP_FULL,
                            .format_version = DUMP_FORMAT_VERSION,
                            .row_format = CK_ROW_FORMAT,
                            .pharmacy = pharmacy,
                            .since = o->since};
    snprintf(h.schema_version, sizeof h.schema_version, "%s", ck_catalog.schema_version);
    if ((rc = last_seq(&j, &h.seq)) || (o->tenant && (rc = resolve_tenant(&j, o->tenant, &h))) ||
        (o->incremental && (rc = check_since(&j, o->since, h.seq))))
        goto out_end_txn;

    struct dump_sink sink;
    rc = dump_sink_open(&sink, fd, o->keyfile ? key : NULL, err);
    if (rc == 0)
        rc = dump_writer_begin(&j.w, &sink, &h);
    MDB_stat st;
    uint64_t total = 0;
    if (o->incremental)
        total = h.seq - h.since;
    else if (!o->tenant && mdb_stat(j.txn, j.kv.rows, &st) == 0)
        total = st.ms_entries;
    progress_start(&j.prog, "dump", o->incremental ? "changes" : "rows", total);
    double t0 = progress_now();
    if (rc == 0)
        rc = o->incremental ? walk_changes(&j, o->since, h.has_tenant ? h.tenant : NULL)
                            : walk_rows(&j, h.has_tenant ? h.tenant : NULL);
    if (rc == 0)
        rc = dump_writer_end(&j.w);
    progress_end(&j.prog);
    int crc = dump_sink_close(&sink);
    if (rc == 0)
        rc = crc;
    double secs = progress_now() - t0;
    uint64_t nrows = j.w.trailer.total, bytes = sink.bytes;
    dump_writer_free(&j.w);
    kv_read_end(&j.kv, j.txn);
    j.txn = NULL;
    if (rc == 0 && fd != STDOUT_FILENO) {
        if (close(fd) != 0)
            rc = ck_err_set(err, -CK_EIO, "cannot write %s: %s", tmp, strerror(errno));
        fd = -1;
        if (rc == 0 && rename(tmp, o->out) != 0)
            rc = ck_err_set(err, -CK_EIO, "cannot rename %s to %s: %s", tmp, o->out,
                            strerror(errno));
        if (rc == 0)
            sync_parent(o->out);
    }
    if (rc == 0 && o->seq_file)
        rc = write_seq_file(o->seq_file, h.seq, err);
    if (rc == 0 && (o->verbose || isatty(STDERR_FILENO))) {
        fprintf(stderr,
                "clinickv-dump: %s %s dump of %s at seq %llu: %llu %s, %.1f MiB in %.2f s "
                "(%.0f %s/s)%s\n",
                dump_encoding_name(o->encoding), o->incremental ? "incremental" : "full",
                o->tenant ? h.tenant_slug : "all tenants", (unsigned long long)h.seq,
                (unsigned long long)nrows, o->incremental ? "changes" : "rows",
                (double)bytes / (1 << 20), secs, secs > 0 ? (double)nrows / secs : 0.0,
                o->incremental ? "changes" : "rows", o->keyfile ? ", encrypted" : "");
    }
    goto out_close_fd;

out_end_txn:
    kv_read_end(&j.kv, j.txn);
out_close_fd:
    if (fd >= 0 && fd != STDOUT_FILENO)
        close(fd);
    if (rc && tmp[0])
        unlink(tmp);
out_close_kv:
    kv_close(&j.kv);
out_wipe:
    sodium_memzero(key, sizeof key);
    return rc;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},    {"tenant", required_argument, NULL, 't'},
        {"since", required_argument, NULL, 's'},   {"format", required_argument, NULL, 'f'},
        {"encrypt", required_argument, NULL, 'e'}, {"seq-file", required_argument, NULL, 'q'},
        {"output", required_argument, NULL, 'o'},  {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},          {0},
    };
    struct dump_opts o = {.encoding = DUMP_NATIVE};
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "o:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 't': o.tenant = optarg; break;
        case 's':
            errno = 0;
            o.since = strtoull(optarg, &end, 10);
            if (errno || end == optarg || *end || optarg[0] == '-') {
                fprintf(stderr, "clinickv-dump: --since takes a sequence number, not %s\n", optarg);
                return 2;
            }
            o.incremental = true;
            break;
        case 'f':
            o.encoding = dump_encoding_from_name(optarg);
            if (!o.encoding) {
                fprintf(stderr, "clinickv-dump: --format is native, jsonl or sql, not %s\n",
                        optarg);
                return 2;
            }
            break;
        case 'e': o.keyfile = optarg; break;
        case 'q': o.seq_file = optarg; break;
        case 'o': o.out = optarg; break;
        case 'v': o.verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.dir || !o.out || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "clinickv-dump: cannot initialise libsodium\n");
        return 1;
    }
    struct ck_err err = CK_ERR_INIT;
    int rc = run(&o, &err);
    if (rc)
        fprintf(stderr, "clinickv-dump: %s\n", err.code ? err.message : ck_strerror(rc));
    ck_err_free(&err);
    return rc ? 1 : 0;
}
