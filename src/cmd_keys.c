/*
 * clinickv keys rotate|list: PHI key rotation while the server serves.
 *
 * rotate adds a key to the key file (it becomes the active key), tells a running
 * server (SIGHUP to the pid in DIR/server.lock) so new writes use it, then
 * re-encrypts every PHI value sealed with an older key in bounded batches, one
 * short write transaction each, so the server's writers interleave. It repeats
 * until no row uses an old key (the server may have sealed a few with the old
 * key before it reloaded), and only then removes the old keys from the file.
 * Re-encrypted rows are logged as updates, so incremental backups carry the new
 * ciphertext; their updated_at and updated_by are kept (nothing a user wrote
 * changed).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "datadir.h"
#include "phi.h"
#include "rows.h"
#include "timeval.h"

#define BATCH_ROWS 500
#define MAX_PASSES 20

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv keys rotate --data DIR [--key-file PATH] [--batch N]\n"
               "       clinickv keys list   --data DIR [--key-file PATH]\n\n"
               "rotate adds a new active PHI key, re-encrypts every row sealed with an older\n"
               "key in batches (a running server keeps serving), then removes the old keys\n"
               "from the key file. Back up the key file again afterwards.\n"
               "list shows the keys and how many rows each one seals.\n");
}

struct keywork {
    struct kv *kv;
    struct phi_keyring kr;
    const struct phi_key *active;
    uint8_t from[KV_ROW_KEY_LEN]; /* resume after this row key */
    bool started, done;
    unsigned batch;
    uint64_t rewritten;
    uint64_t per_key[PHI_MAX_KEYS + 1]; /* list: rows per key; [PHI_MAX_KEYS]: unknown key */
    struct ck_err *err;
};

/* The key id a PHI row names (its first encrypted column's key id column). */
static const struct ck_val *row_key_id(const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    for (unsigned i = 0; i < t->ncols; i++) {
        int kc = phi_plain_name(t, i) ? phi_key_col(t, i) : -1;
        if (kc >= 0 && r->v[kc].kind == CK_V_STR)
            return &r->v[kc];
    }
    return NULL;
}

/* Re-seal every encrypted column of row r (a private copy) with the active key, and
 * write it back (logged as an update, so incremental backups carry it). */
static int reseal(struct keywork *w, MDB_txn *txn, const uint8_t tenant[16], struct ck_row *r)
{
    struct ck_row nr = *r;
    struct phi_reseal scratch = {0};
    ck_colmask changed = 0;
    int rc = phi_reseal_row(&nr, tenant, &w->kr, w->active, NULL, &scratch, &changed, w->err);
    if (rc == 0) {
        struct ck_log log = {0};
        struct buf stored = BUF_INIT;
        struct ck_ctx c = {.kv = w->kv,
                           .txn = txn,
                           .tenant = tenant,
                           .now_ms = ck_now_ms(),
                           .flags = CK_W_KEEP_META,
                           .log = &log,
                           .err = w->err};
        rc = ck_rows_replace(&c, r, &nr, changed, &stored);
        buf_free(&stored);
    }
    phi_reseal_free(&scratch);
    return rc;
}

/*
 * Walk rows from w->from. List mode (w->active NULL): count PHI rows per key.
 * Rotate mode: collect up to `max` row keys of PHI rows sealed with another key
 * than the active one into keys[], *n_out their number. Sets w->done at the end.
 */
static int scan(struct keywork *w, MDB_txn *txn, uint8_t (*keys)[KV_ROW_KEY_LEN], unsigned max,
                unsigned *n_out)
{
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(txn, w->kv->rows, &cur));
    if (rc)
        return rc;
    MDB_val k = {sizeof w->from, w->from}, v;
    int mrc = mdb_cursor_get(cur, &k, &v, w->started ? MDB_SET_RANGE : MDB_FIRST);
    if (mrc == 0 && w->started && k.mv_size == sizeof w->from &&
        !memcmp(k.mv_data, w->from, sizeof w->from))
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    unsigned n = 0;
    while (mrc == 0 && n < max && rc == 0) {
        if (k.mv_size == KV_ROW_KEY_LEN) {
            memcpy(w->from, k.mv_data, KV_ROW_KEY_LEN);
            w->started = true;
            const struct ck_table *t = ck_table_by_id(w->from[16]);
            struct ck_row r;
            if (t && phi_table(t) && (rc = ck_row_decode(t, v.mv_data, v.mv_size, &r)) == 0) {
                const struct ck_val *kid = row_key_id(&r);
                if (kid && !w->active) {
                    const struct phi_key *key = phi_key_find(&w->kr, kid->p, kid->len);
                    w->per_key[key ? (size_t)(key - w->kr.keys) : PHI_MAX_KEYS]++;
                } else if (kid && (kid->len != strlen(w->active->id) ||
                                   memcmp(kid->p, w->active->id, kid->len) != 0)) {
                    memcpy(keys[n++], w->from, KV_ROW_KEY_LEN);
                }
            }
        }
        if (rc == 0)
            mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (rc == 0 && mrc == MDB_NOTFOUND)
        w->done = true;
    else if (rc == 0 && mrc)
        rc = kv_error(mrc);
    *n_out = n;
    return rc;
}

/* One write transaction: find the next batch of rows to re-seal, re-seal them. */
static int rotate_txn(MDB_txn *txn, void *arg)
{
    struct keywork *w = arg;
    uint8_t(*keys)[KV_ROW_KEY_LEN] = malloc((size_t)w->batch * KV_ROW_KEY_LEN);
    if (!keys)
        return -CK_ENOMEM;
    /* kv_write_run may run this again after growing the map: scan from the same place. */
    uint8_t from[KV_ROW_KEY_LEN];
    bool started = w->started;
    memcpy(from, w->from, sizeof from);
    unsigned n = 0;
    int rc = scan(w, txn, keys, w->batch, &n);
    struct buf copy = BUF_INIT;
    uint64_t done = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        const struct ck_table *t = ck_table_by_id(keys[i][16]);
        MDB_val k = {KV_ROW_KEY_LEN, keys[i]}, v;
        struct ck_row r;
        rc = kv_error(mdb_get(txn, w->kv->rows, &k, &v));
        if (rc == 0)
            rc = ck_rows_decode_copy(t, &v, &copy, &r);
        if (rc == 0)
            rc = reseal(w, txn, keys[i], &r);
        done += rc == 0;
    }
    if (rc == 0) {
        w->rewritten += done;
    } else {
        w->started = started;
        memcpy(w->from, from, sizeof from);
        w->done = false;
    }
    buf_free(&copy);
    free(keys);
    return rc;
}

static void signal_server(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/server.lock", dir);
    FILE *f = fopen(path, "r");
    long pid = 0;
    if (!f)
        return;
    if (fscanf(f, "%ld", &pid) == 1 && pid > 1 && kill((pid_t)pid, 0) == 0)
        kill((pid_t)pid, SIGHUP);
    fclose(f);
}

static int run_list(struct keywork *w)
{
    MDB_txn *txn;
    unsigned n;
    w->active = NULL;
    int rc = kv_read_begin(w->kv, &txn);
    if (rc)
        return rc;
    rc = scan(w, txn, NULL, UINT32_MAX, &n);
    kv_read_end(w->kv, txn);
    if (rc)
        return rc;
    printf("%-6s %-8s %s\n", "key", "active", "rows sealed");
    for (unsigned i = 0; i < w->kr.nkeys; i++)
        printf("%-6s %-8s %llu\n", w->kr.keys[i].id, i == w->kr.nkeys - 1 ? "yes" : "",
               (unsigned long long)w->per_key[i]);
    if (w->per_key[PHI_MAX_KEYS])
        printf("rows naming a key missing from the file: %llu\n",
               (unsigned long long)w->per_key[PHI_MAX_KEYS]);
    return 0;
}

int cmd_keys(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"key-file", required_argument, NULL, 'k'},
        {"batch", required_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *action = argv[1], *dir = NULL, *keyfile_opt = NULL;
    unsigned batch = BATCH_ROWS;
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': dir = optarg; break;
        case 'k': keyfile_opt = optarg; break;
        case 'b': batch = (unsigned)atoi(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    bool rotate = !strcmp(action, "rotate");
    if ((!rotate && strcmp(action, "list")) || !dir || optind != argc || batch == 0) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    char keyfile[4096];
    datadir_key_file(dir, keyfile_opt, keyfile, sizeof keyfile);
    struct ck_err err = CK_ERR_INIT;
    struct kv kv;
    struct keywork *w = calloc(1, sizeof *w);
    int rc = w ? datadir_open(&kv, dir, NULL, NULL, &err) : -CK_ENOMEM;
    if (rc) {
        fprintf(stderr, "clinickv keys: %s\n", err.code ? err.message : "out of memory");
        ck_err_free(&err);
        free(w);
        return 1;
    }
    w->kv = &kv;
    w->err = &err;
    w->batch = batch;
    char new_id[PHI_KEY_ID_MAX];
    if (!rotate) {
        rc = phi_keyring_load(&w->kr, keyfile, &err);
        if (rc == 0)
            rc = run_list(w);
        goto out;
    }
    rc = phi_keyring_add_key(keyfile, new_id, &err);
    if (rc == 0)
        rc = phi_keyring_load(&w->kr, keyfile, &err);
    if (rc)
        goto out;
    w->active = phi_key_active(&w->kr);
    printf("added key %s; it is the active key now\n", new_id);
    signal_server(dir);
    unsigned pass;
    uint64_t total = 0;
    for (pass = 0; pass < MAX_PASSES; pass++) {
        w->started = w->done = false;
        w->rewritten = 0;
        while (!w->done && rc == 0)
            rc = kv_write_run(&kv, rotate_txn, w);
        if (rc)
            goto out;
        total += w->rewritten;
        if (w->rewritten == 0)
            break;
    }
    if (pass == MAX_PASSES) {
        rc = ck_err_set(&err, -CK_EBUSY,
                        "rows keep being sealed with an old key: is the server reloading the key "
                        "file? Old keys were kept; run rotate again");
        goto out;
    }
    printf("re-encrypted %llu rows\n", (unsigned long long)total);
    const char *keep[1] = {w->active->id};
    rc = phi_keyring_retain(keyfile, keep, 1, &err);
    if (rc == 0) {
        signal_server(dir);
        printf("removed the old keys from %s: back it up again\n", keyfile);
    }
out:
    if (rc)
        fprintf(stderr, "clinickv keys %s: %s\n", action, err.code ? err.message : ck_strerror(rc));
    kv_close(&kv);
    phi_keyring_wipe(&w->kr);
    free(w);
    ck_err_free(&err);
    return rc ? 1 : 0;
}
