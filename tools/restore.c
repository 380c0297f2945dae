/* Restoring dumps: new data directories, one tenant live, incrementals (restore.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adminkey.h"
#include "bulkload.h"
#include "consistency.h"
#include "datadir.h"
#include "dumpread.h"
#include "fk.h"
#include "phi.h"
#include "progress.h"
#include "restore.h"
#include "restore_int.h"
#include "rows.h"
#include "tenants.h"
#include "timeval.h"
#include "uuid.h"

static ck_colmask all_columns(const struct ck_table *t)
{
    return t->ncols >= 64 ? ~(ck_colmask)0 : CK_COL(t->ncols) - 1;
}

static void be64_put(uint8_t out[8], uint64_t v)
{
    ck_seq_key(out, v);
}

static uint64_t be64_get(const void *p)
{
    const uint8_t *b = p;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

/* --verbose: how long each phase took, on stderr. */
static void phase(struct rs *s, const char *what, double *t)
{
    double now = progress_now();
    if (s->o->verbose) {
        progress_end(&s->prog);
        fprintf(stderr, "clinickv-restore: %s: %.2f s\n", what, now - *t);
    }
    *t = now;
}

/* A phase without a count of its own (the consistency check): a line saying what
 * is going on, on a terminal only. */
static void status(struct rs *s, const char *msg)
{
    if (!s->prog.on)
        return;
    progress_end(&s->prog);
    fprintf(stderr, "\rrestore: %s ...", msg);
    fflush(stderr);
    s->prog.drawn = true;
}

/* ------------------------------------------------------------------ PHI of a moved tenant */

static int load_reseal_keys(struct rs *s)
{
    if (!s->o->source_keys)
        return 0;
    char dst[4096];
    datadir_key_file(s->o->dir, s->o->key_file, dst, sizeof dst);
    int rc = phi_keyring_load(&s->src_kr, s->o->source_keys, s->err);
    if (rc == 0)
        rc = phi_keyring_load(&s->dst_kr, dst, s->err);
    if (rc == 0 && !phi_key_active(&s->dst_kr))
        rc = ck_err_set(s->err, -CK_EINVAL, "%s has no active key", dst);
    s->reseal = rc == 0;
    return rc;
}

static void free_reseal(struct rs *s)
{
    phi_keyring_wipe(&s->src_kr);
    phi_keyring_wipe(&s->dst_kr);
    phi_reseal_free(&s->scratch);
}

/*
 * Open each PHI value of row with the source's key it names and seal it again with
 * the target's active key; recompute the blind indexes of demographics with the
 * target's blind key. The row's views then point into s->scratch, valid until the
 * next row. Without --source-keys the values are kept as they are.
 */
static int reseal_row(struct rs *s, struct ck_row *row, const uint8_t tenant[16])
{
    if (!phi_table(row->t))
        return 0;
    s->phi_rows++;
    if (!s->reseal)
        return 0;
    ck_colmask changed = 0;
    return phi_reseal_row(row, tenant, &s->src_kr, phi_key_active(&s->dst_kr), &s->dst_kr,
                          &s->scratch, &changed, s->err);
}

/* ------------------------------------------------------------------ changes */

struct applier {
    struct ck_ctx c;
    struct ck_log log;
    bool mirror;   /* keep the source's sequence numbers (whole directory) */
    bool pharmacy; /* the target has the pharmacy module */
    const char *name;
    struct buf old_copy, stored;
};

static void applier_init(struct applier *a, struct kv *kv, MDB_txn *txn, bool mirror, bool pharmacy,
                         struct ck_err *err)
{
    memset(a, 0, sizeof *a);
    a->c.kv = kv;
    a->c.txn = txn;
    /* Timestamps, authors and audit rows all come from the dump. */
    a->c.flags = CK_W_KEEP_META | CK_W_NO_AUDIT;
    a->c.log = &a->log;
    a->c.err = err;
    a->mirror = mirror;
    a->pharmacy = pharmacy;
}

static void applier_free(struct applier *a)
{
    buf_free(&a->old_copy);
    buf_free(&a->stored);
}

static int change_failed(struct rs *s, const struct applier *a, const struct ck_change *ch,
                         const struct ck_table *t, int rc)
{
    char msg[sizeof s->err->message];
    snprintf(msg, sizeof msg, "%s", s->err->code ? s->err->message : ck_strerror(rc));
    return ck_err_set(s->err, rc, "%s: change %llu (%s of a %s row) does not apply: %s", a->name,
                      (unsigned long long)ch->seq,
                      ch->op == CK_LOG_INSERT   ? "insert"
                      : ch->op == CK_LOG_UPDATE ? "update"
                                                : "delete",
                      t->name, msg);
}

/* The current version of the changed row, copied out of the database. */
static int current_row(struct applier *a, const struct ck_table *t, const uint8_t id[16],
                       struct ck_row *out)
{
    MDB_val v;
    int rc = ck_rows_get_raw(&a->c, t, id, &v);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(a->c.err, rc, "the row is not there");
    if (rc)
        return rc;
    return ck_rows_decode_copy(t, &v, &a->old_copy, out);
}

static int apply_change(struct rs *s, void *arg, const struct dump_item *it)
{
    struct applier *a = arg;
    const struct ck_change *ch = &it->ch;
    const struct ck_table *t = it->t;
    if (s->filtering && (!s->filter_known || memcmp(ch->tenant, s->filter, 16) != 0))
        return 0;
    if (t->optional && !a->pharmacy)
        return ck_err_set(s->err, -CK_EINVAL, "%s: a change of %s, but %s has no pharmacy module",
                          a->name, t->name, s->o->dir);
    if (a->mirror) {
        a->log.loaded = true;
        a->log.next_seq = ch->seq;
    }
    a->c.user = ch->by;
    a->c.now_ms = ch->at_ms;
    a->c.tenant = ch->tenant;
    ck_err_clear(s->err);
    struct ck_row row, old;
    int rc = 0;
    if (ch->row) {
        if (ck_row_decode(t, ch->row, ch->rowlen, &row) != 0 ||
            row.v[t->col_id].kind != CK_V_UUID || memcmp(row.v[t->col_id].uuid, ch->id, 16) != 0)
            return change_failed(s, a, ch, t, ck_err_set(s->err, -CK_EINVAL, "malformed row"));
        if (!a->mirror && (rc = reseal_row(s, &row, ch->tenant)) != 0)
            return change_failed(s, a, ch, t, rc);
    }
    switch (ch->op) {
    case CK_LOG_INSERT: rc = ck_rows_insert(&a->c, &row, all_columns(t), &a->stored); break;
    case CK_LOG_UPDATE:
        rc = current_row(a, t, ch->id, &old);
        if (rc == 0)
            rc = ck_rows_replace(&a->c, &old, &row, all_columns(t), &a->stored);
        break;
    default:
        rc = current_row(a, t, ch->id, &old);
        if (rc == 0)
            rc = ck_rows_remove(&a->c, &old);
        break;
    }
    if (rc)
        return change_failed(s, a, ch, t, rc);
    s->changes++;
    return 0;
}

/* ------------------------------------------------------------------ meta */

static int meta_put_u64(struct kv *kv, MDB_txn *txn, const char *name, uint64_t v)
{
    uint8_t b[8];
    be64_put(b, v);
    return kv_meta_put(kv, txn, name, b, 8);
}

/* The position a restored directory is at: meta restored_seq, and the log's
 * numbering continues after it (log_high_water). */
static int put_position(struct kv *kv, MDB_txn *txn, uint64_t seq)
{
    int rc = meta_put_u64(kv, txn, "restored_seq", seq);
    if (rc == 0)
        rc = meta_put_u64(kv, txn, "log_high_water", seq);
    return rc;
}

static void tenant_meta_name(char out[64], const uint8_t tenant[16])
{
    char id[37];
    ck_uuid_format(tenant, id);
    snprintf(out, 64, "restored_seq/%s", id);
}

/* A restored tenant's position: the source's seq, and the target's own last seq
 * then, to tell later whether the tenant was written to since. */
static int put_tenant_position(struct kv *kv, MDB_txn *txn, const uint8_t tenant[16],
                               uint64_t source_seq, uint64_t target_seq)
{
    char name[64];
    uint8_t v[16];
    tenant_meta_name(name, tenant);
    be64_put(v, source_seq);
    be64_put(v + 8, target_seq);
    return kv_meta_put(kv, txn, name, v, 16);
}

/* The highest sequence number the target has given out. */
static int target_top(struct kv *kv, MDB_txn *txn, uint64_t *top)
{
    int rc = ck_log_last_seq(txn, kv, top);
    MDB_val v;
    if (rc == 0 && kv_meta_get(kv, txn, "log_high_water", &v) == 0 && v.mv_size == 8 &&
        be64_get(v.mv_data) > *top)
        *top = be64_get(v.mv_data);
    return rc;
}

/* Apply incrementals first..n-1 in txn. */
static int apply_incrementals(struct rs *s, struct applier *a, unsigned first)
{
    for (unsigned i = first; i < s->n; i++) {
        a->name = s->in[i].name;
        int rc = rs_read_dump(s, i, apply_change, a);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ verification */

static void first_problem(void *arg, const struct ck_problem *p)
{
    char *line = arg;
    if (!line[0])
        ck_problem_format(p, line, 300);
}

/* The restored data as `clinickv check` sees it (storage/consistency.h): every
 * row, index entry, foreign and unique key, in txn (one tenant, or all). */
static int verify_consistency(struct rs *s, struct kv *kv, MDB_txn *txn, const uint8_t *tenant)
{
    char line[300] = "";
    struct ck_consistency_opts opts = {.tenant = tenant, .report = first_problem, .arg = line};
    struct ck_consistency_stats *st = malloc(sizeof *st);
    if (!st)
        return ck_err_set(s->err, -CK_ENOMEM, "out of memory");
    int rc = ck_consistency_check(kv, txn, &opts, st, s->err);
    if (rc == 0 && st->problems)
        rc = ck_err_set(s->err, -CK_EINVAL,
                        "the restored data fails its consistency check (%llu problems; the first: "
                        "%s); nothing was restored",
                        (unsigned long long)st->problems, line);
    free(st);
    return rc;
}

/* ------------------------------------------------------------------ new directory */

struct new_dir {
    struct rs *s;
    struct kv *kv;
    struct bulk bulk;
    unsigned input; /* the incremental being applied */
};

static int bulk_item(struct rs *s, void *arg, const struct dump_item *it)
{
    struct new_dir *nd = arg;
    bool keep;
    int rc = rs_keep_row(s, it, &keep);
    if (rc || !keep)
        return rc;
    if (it->t->optional && !s->in[0].hdr.pharmacy)
        return ck_err_set(s->err, -CK_EINVAL, "%s holds %s rows but says it has no pharmacy module",
                          s->in[0].name, it->t->name);
    rc = bulk_row(&nd->bulk, it->t, it->tenant, it->row, it->rowlen);
    if (rc == 0)
        s->rows++;
    return rc;
}

static int new_meta_txn(MDB_txn *txn, void *arg)
{
    struct new_dir *nd = arg;
    struct rs *s = nd->s;
    const struct dump_header *h = &s->in[0].hdr;
    int rc;
    if ((rc = datadir_write_meta(nd->kv, txn, h->pharmacy)) ||
        (rc = put_position(nd->kv, txn, h->seq)) ||
        (s->filtering && (rc = kv_meta_put(nd->kv, txn, "restored_tenant", s->filter, 16))))
        return ck_err_set(s->err, rc, "cannot write metadata: %s", ck_strerror(rc));
    return 0;
}

static int new_incremental_txn(MDB_txn *txn, void *arg)
{
    struct new_dir *nd = arg;
    struct rs *s = nd->s;
    struct applier a;
    applier_init(&a, nd->kv, txn, true, s->in[0].hdr.pharmacy, s->err);
    a.name = s->in[nd->input].name;
    int rc = rs_read_dump(s, nd->input, apply_change, &a);
    if (rc == 0 && (rc = put_position(nd->kv, txn, s->in[nd->input].hdr.seq)) != 0)
        ck_err_set(s->err, rc, "cannot write metadata");
    applier_free(&a);
    return rc;
}

/* Copy the PHI key file into the new directory, checking it is one. */
static int copy_key_file(struct rs *s, const char *dir)
{
    struct phi_keyring kr;
    int rc = phi_keyring_load(&kr, s->o->key_file, s->err);
    phi_keyring_wipe(&kr);
    if (rc)
        return rc;
    char dst[4096 + 16];
    snprintf(dst, sizeof dst, "%s/phi.keys", dir);
    return datadir_copy_secret(s->o->key_file, dst, s->err);
}

static int restore_new_dir(struct rs *s)
{
    struct datadir_stage st;
    int rc = datadir_stage_begin(&st, s->o->dir, "restore", s->err);
    if (rc == -CK_EINVAL && strstr(s->err->message, "already holds"))
        ck_err_set(s->err, rc,
                   "%s already holds a data directory: restore into a new directory, "
                   "or one tenant into it with --tenant SLUG",
                   s->o->dir);
    if (rc)
        return rc;
    const char *tmp = st.tmp;
    struct kv kv;
    uint64_t map = s->total_bytes * 8;
    struct kv_options kopt = {.map_size = map > NEW_MAP_MIN ? map : NEW_MAP_MIN, .no_sync = true};
    struct new_dir nd = {.s = s, .kv = &kv};
    bool kv_open_ok = false;
    if ((rc = kv_open(&kv, tmp, true, &kopt, s->err)) != 0)
        goto out_remove;
    kv_open_ok = true;
    double t = progress_now();
    if ((rc = bulk_begin(&nd.bulk, &kv, s->err)) == 0) {
        rc = rs_read_dump(s, 0, bulk_item, &nd);
        if (rc == 0 && s->filtering && !s->filter_known)
            rc = rs_tenant_not_found(s);
        if (rc == 0)
            rc = bulk_finish(&nd.bulk);
    }
    bulk_free(&nd.bulk);
    if (rc == 0)
        rc = kv_write_run(&kv, new_meta_txn, &nd);
    phase(s, "bulk load (rows, index entries, foreign and unique keys)", &t);
    for (unsigned i = 1; i < s->n && rc == 0; i++) {
        nd.input = i;
        rc = kv_write_run(&kv, new_incremental_txn, &nd);
    }
    if (s->n > 1)
        phase(s, "incrementals", &t);
    if (rc == 0) {
        MDB_txn *txn;
        status(s, "checking every row, index entry, foreign and unique key");
        if ((rc = kv_read_begin(&kv, &txn)) != 0) {
            ck_err_set(s->err, rc, "cannot read %s", tmp);
        } else {
            rc = verify_consistency(s, &kv, txn, NULL);
            kv_read_end(&kv, txn);
        }
    }
    phase(s, "consistency check (storage/consistency)", &t);
    if (rc == 0 && (rc = kv_sync(&kv)) != 0)
        ck_err_set(s->err, rc, "cannot sync %s: %s", tmp, ck_strerror(rc));
    kv_close(&kv);
    kv_open_ok = false;
    if (rc == 0)
        rc = adminkey_create(tmp, s->err);
    if (rc == 0 && s->o->key_file)
        rc = copy_key_file(s, tmp);
    if (rc == 0)
        rc = datadir_stage_commit(&st, s->err);
    if (rc == 0) {
        phase(s, "sync and rename", &t);
        return 0;
    }
out_remove:
    if (kv_open_ok)
        kv_close(&kv);
    datadir_stage_abort(&st);
    return rc;
}

/* ------------------------------------------------------------------ one tenant, live */

struct late_fix {
    uint16_t table;
    uint16_t col;
    uint8_t id[16];
    uint8_t value[16];
};

struct live {
    struct rs *s;
    struct kv *kv;
    bool pharmacy;
    struct applier a;
    struct late_fix *fixes;
    size_t nfixes, cap;
    bool tenant_seen;
};

static int live_add_fix(struct live *l, const struct ck_table *t, unsigned col,
                        const uint8_t id[16], const uint8_t value[16])
{
    if (l->nfixes == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        struct late_fix *n = realloc(l->fixes, cap * sizeof *n);
        if (!n)
            return ck_err_set(l->s->err, -CK_ENOMEM, "out of memory");
        l->fixes = n;
        l->cap = cap;
    }
    struct late_fix *f = &l->fixes[l->nfixes++];
    f->table = (uint16_t)ck_table_index(t);
    f->col = (uint16_t)col;
    memcpy(f->id, id, 16);
    memcpy(f->value, value, 16);
    return 0;
}

static int live_row_failed(struct rs *s, const struct ck_table *t, const uint8_t id[16], int rc)
{
    char msg[sizeof s->err->message], ids[37];
    snprintf(msg, sizeof msg, "%s", s->err->code ? s->err->message : ck_strerror(rc));
    ck_uuid_format(id, ids);
    return ck_err_set(s->err, rc, "%s row %s: %s", t->name, ids, msg);
}

static int live_item(struct rs *s, void *arg, const struct dump_item *it)
{
    struct live *l = arg;
    bool keep;
    int rc = rs_keep_row(s, it, &keep);
    if (rc || !keep)
        return rc;
    const struct ck_table *t = it->t;
    if (t->optional && !l->pharmacy)
        return ck_err_set(s->err, -CK_EINVAL,
                          "the tenant has %s rows, but %s has no pharmacy module", t->name,
                          s->o->dir);
    struct ck_row row;
    if (ck_row_decode(t, it->row, it->rowlen, &row) != 0 || row.v[t->col_id].kind != CK_V_UUID)
        return ck_err_set(s->err, -CK_EINVAL, "a %s row does not decode", t->name);
    const uint8_t *id = row.v[t->col_id].uuid;
    ck_err_clear(s->err);
    if (t == rs_tenants_table()) {
        rc = ck_row_exists(l->a.c.txn, l->kv, kv_system_tenant, t, id);
        if (rc > 0)
            return ck_err_set(s->err, -CK_EUNIQUE,
                              "tenant %s already exists in %s: delete it first (clinickv tenant "
                              "delete) or restore into a new data directory",
                              s->o->tenant, s->o->dir);
        if (rc < 0)
            return rc;
        l->tenant_seen = true;
    }
    /* Columns pointing at the same or a later table are set once every row is in. */
    ck_colmask late = dump_late_columns(t);
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!(late & CK_COL(i)) || row.v[i].kind != CK_V_UUID)
            continue;
        if ((rc = live_add_fix(l, t, i, id, row.v[i].uuid)) != 0)
            return rc;
        row.v[i].kind = CK_V_NULL;
    }
    if ((rc = reseal_row(s, &row, s->filter)) != 0)
        return rc;
    l->a.c.tenant = s->filter;
    l->a.c.user = NULL;
    rc = ck_rows_insert(&l->a.c, &row, all_columns(t), &l->a.stored);
    if (rc)
        return live_row_failed(s, t, id, rc);
    s->rows++;
    return 0;
}

static int live_apply_fixes(struct live *l)
{
    struct rs *s = l->s;
    struct ck_row old, row;
    for (size_t i = 0; i < l->nfixes;) {
        const struct late_fix *f = &l->fixes[i];
        const struct ck_table *t = &ck_catalog.tables[f->table];
        int rc = current_row(&l->a, t, f->id, &old);
        if (rc)
            return live_row_failed(s, t, f->id, rc);
        row = old;
        ck_colmask changed = 0;
        size_t j = i;
        for (; j < l->nfixes && l->fixes[j].table == f->table && !memcmp(l->fixes[j].id, f->id, 16);
             j++) {
            struct ck_val *v = &row.v[l->fixes[j].col];
            v->kind = CK_V_UUID;
            memcpy(v->uuid, l->fixes[j].value, 16);
            changed |= CK_COL(l->fixes[j].col);
        }
        ck_err_clear(s->err);
        rc = ck_rows_replace(&l->a.c, &old, &row, changed, &l->a.stored);
        if (rc)
            return live_row_failed(s, t, f->id, rc);
        i = j;
    }
    return 0;
}

static int live_txn(MDB_txn *txn, void *arg)
{
    struct live *l = arg;
    struct rs *s = l->s;
    l->nfixes = 0;
    l->tenant_seen = false;
    s->rows = s->changes = s->phi_rows = 0; /* counted again when LMDB retries on a full map */
    applier_free(&l->a);
    applier_init(&l->a, l->kv, txn, false, l->pharmacy, s->err);
    l->a.c.now_ms = ck_now_ms();
    l->a.name = s->in[0].name;
    int rc = rs_read_dump(s, 0, live_item, l);
    if (rc == 0 && !l->tenant_seen)
        rc = rs_tenant_not_found(s);
    if (rc == 0)
        rc = live_apply_fixes(l);
    if (rc == 0)
        rc = apply_incrementals(s, &l->a, 1);
    uint64_t top = 0;
    if (rc == 0 && (rc = target_top(l->kv, txn, &top)) == 0) {
        if (l->a.log.loaded && l->a.log.next_seq - 1 > top)
            top = l->a.log.next_seq - 1;
        rc = put_tenant_position(l->kv, txn, s->filter, s->in[s->n - 1].hdr.seq, top);
    }
    if (rc == 0) {
        status(s, "checking the tenant's rows, index entries, foreign and unique keys");
        rc = verify_consistency(s, l->kv, txn, s->filter);
    }
    return rc;
}

static int restore_live_tenant(struct rs *s)
{
    struct kv kv;
    struct live l = {.s = s, .kv = &kv};
    int rc = datadir_open(&kv, s->o->dir, NULL, &l.pharmacy, s->err);
    if (rc)
        return rc;
    rc = load_reseal_keys(s);
    if (rc == 0)
        rc = kv_write_run(&kv, live_txn, &l);
    applier_free(&l.a);
    free(l.fixes);
    kv_close(&kv);
    return rc;
}

/* ------------------------------------------------------------------ incrementals only */

struct more {
    struct rs *s;
    struct kv *kv;
    bool pharmacy;
};

/* Has the tenant been written to since it was restored (target seq after)? */
static int tenant_changed_since(struct kv *kv, MDB_txn *txn, const uint8_t tenant[16],
                                uint64_t after, bool *changed)
{
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(txn, kv->log, &cur));
    if (rc)
        return rc;
    uint8_t key[8];
    ck_seq_key(key, after + 1);
    MDB_val k = {8, key}, v;
    *changed = false;
    int mrc;
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == 0 && !*changed;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        struct ck_change ch;
        if (ck_change_decode(&k, &v, &ch) != 0) {
            mrc = MDB_CORRUPTED;
            break;
        }
        *changed = memcmp(ch.tenant, tenant, 16) == 0;
    }
    mdb_cursor_close(cur);
    return mrc && mrc != MDB_NOTFOUND ? kv_error(mrc) : 0;
}

static int more_tenant_txn(struct more *m, MDB_txn *txn)
{
    struct rs *s = m->s;
    const struct dump_header *h0 = &s->in[0].hdr;
    int rc = ck_tenant_resolve(txn, m->kv, s->o->tenant, strlen(s->o->tenant), s->filter);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(s->err, rc, "no tenant %s in %s", s->o->tenant, s->o->dir);
    if (rc)
        return rc;
    if (h0->has_tenant && memcmp(h0->tenant, s->filter, 16) != 0)
        return ck_err_set(s->err, -CK_EINVAL, "%s holds tenant %s, not %s", s->in[0].name,
                          h0->tenant_slug, s->o->tenant);
    s->filter_known = true;
    char name[64];
    tenant_meta_name(name, s->filter);
    MDB_val v;
    if (kv_meta_get(m->kv, txn, name, &v) != 0 || v.mv_size != 16)
        return ck_err_set(s->err, -CK_EINVAL,
                          "tenant %s of %s was not restored from a dump: incrementals apply only "
                          "after the full dump they follow",
                          s->o->tenant, s->o->dir);
    uint64_t at = be64_get(v.mv_data), target_at = be64_get((const char *)v.mv_data + 8);
    if (at != h0->since)
        return ck_err_set(s->err, -CK_EINVAL,
                          "tenant %s is at seq %llu of its source, but %s holds the changes after "
                          "seq %llu",
                          s->o->tenant, (unsigned long long)at, s->in[0].name,
                          (unsigned long long)h0->since);
    bool changed;
    if ((rc = tenant_changed_since(m->kv, txn, s->filter, target_at, &changed)) != 0)
        return rc;
    if (changed)
        return ck_err_set(s->err, -CK_ECONFLICT,
                          "tenant %s was written to in %s since it was restored: the source's "
                          "changes no longer apply",
                          s->o->tenant, s->o->dir);
    struct applier a;
    applier_init(&a, m->kv, txn, false, m->pharmacy, s->err);
    rc = apply_incrementals(s, &a, 0);
    uint64_t top = 0;
    if (rc == 0 && (rc = target_top(m->kv, txn, &top)) == 0) {
        if (a.log.loaded && a.log.next_seq - 1 > top)
            top = a.log.next_seq - 1;
        rc = put_tenant_position(m->kv, txn, s->filter, s->in[s->n - 1].hdr.seq, top);
    }
    applier_free(&a);
    return rc;
}

static int more_txn(MDB_txn *txn, void *arg)
{
    struct more *m = arg;
    struct rs *s = m->s;
    s->changes = 0;
    if (s->o->tenant)
        return more_tenant_txn(m, txn);
    const struct dump_header *h0 = &s->in[0].hdr;
    MDB_val v;
    if (kv_meta_get(m->kv, txn, "restored_seq", &v) != 0 || v.mv_size != 8)
        return ck_err_set(s->err, -CK_EINVAL,
                          "%s was not made by clinickv-restore: incrementals apply only after the "
                          "full dump they follow",
                          s->o->dir);
    uint64_t at = be64_get(v.mv_data), top;
    int rc = target_top(m->kv, txn, &top);
    if (rc)
        return rc;
    if (at != h0->since)
        return ck_err_set(
            s->err, -CK_EINVAL,
            "%s is at seq %llu of its source, but %s holds the changes after seq %llu", s->o->dir,
            (unsigned long long)at, s->in[0].name, (unsigned long long)h0->since);
    if (top != at)
        return ck_err_set(s->err, -CK_ECONFLICT,
                          "%s was written to since it was restored (its log is at seq %llu): the "
                          "source's changes no longer apply",
                          s->o->dir, (unsigned long long)top);
    if (kv_meta_get(m->kv, txn, "restored_tenant", &v) == 0 && v.mv_size == 16) {
        s->filtering = s->filter_known = true;
        memcpy(s->filter, v.mv_data, 16);
        if (h0->has_tenant && memcmp(h0->tenant, s->filter, 16) != 0)
            return ck_err_set(s->err, -CK_EINVAL, "%s holds another tenant than %s", s->in[0].name,
                              s->o->dir);
    } else if (h0->has_tenant) {
        return ck_err_set(s->err, -CK_EINVAL, "%s holds one tenant; %s was restored with all",
                          s->in[0].name, s->o->dir);
    }
    struct applier a;
    applier_init(&a, m->kv, txn, true, m->pharmacy, s->err);
    rc = apply_incrementals(s, &a, 0);
    if (rc == 0 && (rc = put_position(m->kv, txn, s->in[s->n - 1].hdr.seq)) != 0)
        ck_err_set(s->err, rc, "cannot write metadata");
    applier_free(&a);
    return rc;
}

static int restore_more(struct rs *s)
{
    struct kv kv;
    struct more m = {.s = s, .kv = &kv};
    int rc = datadir_open(&kv, s->o->dir, NULL, &m.pharmacy, s->err);
    if (rc)
        return rc;
    rc = s->o->tenant ? load_reseal_keys(s) : 0;
    if (rc == 0)
        rc = kv_write_run(&kv, more_txn, &m);
    kv_close(&kv);
    return rc;
}

/* ------------------------------------------------------------------ entry */

static bool is_data_dir(const char *dir)
{
    char db[4096];
    struct stat st;
    snprintf(db, sizeof db, "%s/db", dir);
    return stat(db, &st) == 0 && S_ISDIR(st.st_mode);
}

int restore_run(const struct restore_opts *o, struct ck_err *err)
{
    if (o->ninputs == 0 || o->ninputs > MAX_INPUTS)
        return ck_err_set(err, -CK_EINVAL, "give between 1 and %d dumps", MAX_INPUTS);
    struct rs s = {.o = o, .err = err, .n = o->ninputs};
    s.in = calloc(o->ninputs, sizeof *s.in);
    if (!s.in)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    int rc = rs_open_inputs(&s);
    if (rc == 0)
        rc = rs_check_chain(&s);
    if (rc == 0)
        rc = rs_choose_filter(&s);
    const struct dump_header *h0 = &s.in[0].hdr;
    bool data_dir = o->dir && is_data_dir(o->dir);
    double t0 = progress_now();
    progress_start(&s.prog, "verify", "records", s.total_bytes);
    const char *what = "";
    /* Prove every dump intact before any work: then a problem found while loading is
     * one of the data (a foreign key, a unique key), never a damaged file, and the
     * live cases never hold the write lock over a dump that turns out corrupt. */
    double t = progress_now();
    for (unsigned i = 0; i < s.n && rc == 0 && !o->verify_only; i++)
        rc = rs_read_dump_as(&s, i, NULL, NULL, true);
    if (rc == 0 && !o->verify_only)
        phase(&s, "checksums verified", &t);
    progress_end(&s.prog);
    if (!o->verify_only) {
        s.items = s.bytes_before = 0;
        progress_start(&s.prog, "restore", h0->kind == DUMP_FULL && s.n == 1 ? "rows" : "records",
                       s.total_bytes);
    }
    if (rc) {
        /* refused before any work */
    } else if (o->verify_only) {
        for (unsigned i = 0; i < s.n && rc == 0; i++)
            rc = rs_read_dump(&s, i, NULL, NULL);
        what = "verified";
    } else if (h0->kind == DUMP_INCREMENTAL) {
        if (!data_dir)
            rc = ck_err_set(err, -CK_EINVAL,
                            "%s starts with an incremental dump: restore the full dump it follows "
                            "first, into %s",
                            s.in[0].name, o->dir);
        else
            rc = restore_more(&s);
        what = "applied";
    } else if (data_dir && o->tenant) {
        rc = restore_live_tenant(&s);
        what = "restored one tenant into";
    } else if (o->source_keys) {
        rc = ck_err_set(err, -CK_EINVAL,
                        "--source-keys re-seals a tenant restored into an existing data directory; "
                        "a new data directory takes the source's key file as it is (--key-file)");
    } else {
        rc = restore_new_dir(&s);
        what = "restored";
    }
    progress_end(&s.prog);
    if (rc == 0 && o->verify_only && s.n > 1)
        printf("clinickv-restore: %u dumps form one chain up to seq %llu\n", s.n,
               (unsigned long long)s.in[s.n - 1].hdr.seq);
    if (rc == 0 && !o->verify_only) {
        double secs = progress_now() - t0;
        const struct dump_header *hl = &s.in[s.n - 1].hdr;
        printf("clinickv-restore: %s %s: %llu rows, %llu changes, now at seq %llu of the source "
               "(%.2f s)\n",
               what, o->dir, (unsigned long long)s.rows, (unsigned long long)s.changes,
               (unsigned long long)hl->seq, secs);
        if (o->tenant && data_dir && s.phi_rows && !s.reseal)
            printf("clinickv-restore: %llu rows of the tenant hold PHI sealed with the source's "
                   "keys, which %s's server cannot open: restore with --source-keys (the source's "
                   "phi.keys) to seal them with this directory's key\n",
                   (unsigned long long)s.phi_rows, o->dir);
        if (h0->kind == DUMP_FULL && !data_dir && !o->key_file)
            printf(
                "clinickv-restore: PHI key file not restored (it is never in a dump): copy the "
                "source's phi.keys to %s/phi.keys (mode 0600) before serving, or use --key-file\n",
                o->dir);
    }
    free_reseal(&s);
    rs_close_inputs(&s);
    free(s.in);
    return rc;
}
