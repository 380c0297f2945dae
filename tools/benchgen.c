/*
 * The clinic-day data set (benchgen.h): tables in the catalog's FK order, rows
 * through ck_rows_insert() in large write transactions, and DIR/bench/ids. The
 * values each row gets are gen.py's rules, in benchgen_rules.c.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "adminkey.h"
#include "benchgen_int.h"
#include "benchids.h"
#include "datadir.h"
#include "tenants.h"
#include "timeval.h"
#include "uuid.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct gtab *gtab_of(struct gen *g, const struct ck_table *t)
{
    return &g->tabs[ck_table_index(t)];
}

/* ------------------------------------------------------------------ sampling */

/* k distinct values of [0, space), in random order. */
static int sample_distinct(struct brng *r, uint64_t space, uint64_t k, uint64_t *out)
{
    if (space <= (uint64_t)1 << 23) {
        uint32_t *all = malloc((size_t)space * sizeof *all);
        if (!all)
            return -CK_ENOMEM;
        for (uint64_t i = 0; i < space; i++)
            all[i] = (uint32_t)i;
        for (uint64_t i = 0; i < k; i++) {
            uint64_t j = i + brng_below(r, space - i);
            uint32_t x = all[j];
            all[j] = all[i];
            all[i] = x;
            out[i] = x;
        }
        free(all);
        return 0;
    }
    /* a sparse draw from a large space: rejection with an open-addressed set */
    uint64_t cap = 16;
    while (cap < 4 * k)
        cap <<= 1;
    uint64_t *set = calloc((size_t)cap, sizeof *set);
    if (!set)
        return -CK_ENOMEM;
    for (uint64_t i = 0; i < k;) {
        uint64_t x = brng_below(r, space), h = (x * 0x9e3779b97f4a7c15ULL) & (cap - 1);
        bool dup = false;
        while (set[h]) {
            if (set[h] == x + 1) {
                dup = true;
                break;
            }
            h = (h + 1) & (cap - 1);
        }
        if (dup)
            continue;
        set[h] = x + 1;
        out[i++] = x;
    }
    free(set);
    return 0;
}

/* A UUIDv7 that orders rows of a table by generation (ms = base + row number),
 * with random bits from the table's stream. */
static void gen_uuid_v7(struct gen *g, struct brng *r, uint64_t n, uint8_t id[16])
{
    uint64_t ms = (uint64_t)g->id_base_ms + n;
    brng_bytes(r, id + 6, 10);
    for (int i = 0; i < 6; i++)
        id[i] = (uint8_t)(ms >> (40 - 8 * i));
    id[6] = (uint8_t)(0x70 | (id[6] & 0x0f));
    id[8] = (uint8_t)(0x80 | (id[8] & 0x3f));
}

/* ------------------------------------------------------------------ transactions, progress */

static void progress(struct gen *g, bool final)
{
    if (!g->o->progress)
        return;
    double now = now_s();
    if (!final && now - g->last_progress < 0.25)
        return;
    g->last_progress = now;
    double el = now - g->t0, rate = el > 0 ? (double)g->rows / el : 0;
    double eta = rate > 0 && g->total_est > g->rows ? (double)(g->total_est - g->rows) / rate : 0;
    fprintf(stderr, "\rclinickv-gen: %12llu / ~%llu rows  %8.0f rows/s  ETA %4.0f s  ",
            (unsigned long long)g->rows, (unsigned long long)g->total_est, rate, eta);
    if (final)
        fputc('\n', stderr);
}

static int txn_begin(struct gen *g)
{
    int rc = kv_grow_if_needed(&g->kv);
    if (rc == 0)
        rc = kv_write_begin(&g->kv, &g->txn);
    if (rc)
        return ck_err_set(g->err, rc, "cannot begin a write transaction: %s", ck_strerror(rc));
    g->txn_rows = 0;
    return 0;
}

static int txn_commit(struct gen *g)
{
    int rc = kv_write_commit(&g->kv, g->txn);
    g->txn = NULL;
    if (rc)
        return ck_err_set(g->err, rc, "cannot commit: %s", ck_strerror(rc));
    return 0;
}

/* One row written: commit and start a new transaction every txn_rows rows. */
static int row_done(struct gen *g)
{
    g->rows++;
    if (++g->txn_rows < (g->o->txn_rows ? g->o->txn_rows : 50000))
        return 0;
    int rc = txn_commit(g);
    if (rc == 0)
        rc = txn_begin(g);
    progress(g, false);
    return rc;
}

/* ------------------------------------------------------------------ one table */

static struct ck_ctx ctx_for(struct gen *g, const uint8_t *tenant)
{
    return (struct ck_ctx){.kv = &g->kv,
                           .txn = g->txn,
                           .tenant = tenant,
                           .now_ms = (int64_t)g->anchor * DAY_MS,
                           .flags = CK_W_KEEP_META | CK_W_NO_LOG,
                           .err = g->err};
}

/* Pick a parent row for an FK step; -1 for NULL. */
static int64_t pick_parent(struct gen *g, struct brng *r, const struct fkstep *s,
                           const struct ck_row *row, unsigned tn, bool child_global)
{
    struct gtab *pd = s->parent;
    uint32_t plo = child_global || pd->global ? 0 : pd->lo[tn];
    uint32_t phi = child_global || pd->global ? pd->n : pd->hi[tn];
    if (phi <= plo)
        return -1;
    if (s->role_set != RS_NONE) {
        const struct ck_table *t = row->t;
        int clinic = -1;
        if (t->col_clinic >= 0 && row->v[t->col_clinic].kind == CK_V_UUID) {
            struct gtab *cl = &g->tabs[ck_table_index(ck_table_find("clinics", 7))];
            for (uint32_t i = cl->lo[tn]; i < cl->hi[tn]; i++) {
                if (!memcmp(cl->ids[i], row->v[t->col_clinic].uuid, 16))
                    clinic = (int)(i - cl->lo[tn]);
            }
        }
        int slot = clinic >= 0 && clinic < 3 ? clinic + 1 : 0;
        if (!pd->npool[tn][slot][s->role_set])
            slot = 0;
        if (pd->npool[tn][slot][s->role_set])
            return pd->pool[tn][slot][s->role_set][brng_below(r, pd->npool[tn][slot][s->role_set])];
    }
    return plo + (int64_t)brng_below(r, phi - plo);
}

static int build_pools(struct gtab *u)
{
    for (unsigned tn = 0; tn < NTENANTS; tn++) {
        for (uint32_t j = u->lo[tn]; j < u->hi[tn]; j++) {
            for (int rs = 0; rs < RS__COUNT; rs++) {
                if (!bgen_role_in_set(u->urole[j], rs))
                    continue;
                int slots[2] = {0,
                                u->uclinic[j] >= 0 && u->uclinic[j] < 3 ? u->uclinic[j] + 1 : -1};
                for (int si = 0; si < 2; si++) {
                    if (slots[si] < 0)
                        continue;
                    uint32_t **pool = &u->pool[tn][slots[si]][rs];
                    uint32_t *np = &u->npool[tn][slots[si]][rs];
                    uint32_t *p = realloc(*pool, (*np + 1) * sizeof **pool);
                    if (!p)
                        return -CK_ENOMEM;
                    *pool = p;
                    p[(*np)++] = j;
                }
            }
        }
    }
    return 0;
}

/* Copy what a child takes from a parent row: same-named FK columns, and names. */
static int read_parent(struct gen *g, struct gtab *pd, int64_t j, unsigned tn, struct ck_row *out)
{
    struct ck_ctx c = ctx_for(g, pd->global ? kv_system_tenant : g->ten->ids[tn]);
    int rc = ck_rows_get(&c, pd->t, pd->ids[j], true, out);
    if (rc)
        return ck_err_set(g->err, rc, "cannot read back %s row %lld", pd->t->name, (long long)j);
    return 0;
}

static int gen_table(struct gen *g, const struct ck_table *t)
{
    struct gtab *gt = gtab_of(g, t);
    struct plan p;
    bool global;
    uint32_t per = bgen_count_for(g, t, &global);
    bool is_tenants = !strcmp(t->name, "tenants"), is_users = !strcmp(t->name, "users");
    unsigned ntn = is_tenants || global ? 1 : NTENANTS;
    uint32_t counts[NTENANTS];
    for (unsigned i = 0; i < ntn; i++)
        counts[i] = per;
    bgen_plan_build(g, t, &p);
    struct brng r;
    brng_seed(&r, g->o->seed, t->name);
    int rc = 0;
    /* unique keys made only of FK columns: drawn without replacement per tenant */
    uint64_t space[4][NTENANTS];
    for (unsigned ci = 0; ci < p.ncombos; ci++) {
        struct combo *cb = &p.combos[ci];
        for (unsigned tn = 0; tn < ntn; tn++) {
            uint64_t s = 1;
            for (unsigned k = 0; k < cb->ncols; k++)
                s *= cb->parents[k]->hi[tn] - cb->parents[k]->lo[tn];
            space[ci][tn] = s;
            if (s < counts[tn]) {
                if (g->o->verbose)
                    fprintf(stderr,
                            "clinickv-gen: %s: only %llu distinct values for a unique key; %u -> "
                            "%llu\n",
                            t->name, (unsigned long long)s, counts[tn], (unsigned long long)s);
                counts[tn] = (uint32_t)s;
            }
        }
    }
    uint64_t total = 0;
    for (unsigned tn = 0; tn < ntn; tn++)
        total += counts[tn];
    gt->ids = malloc((size_t)(total ? total : 1) * 16);
    if (is_users) {
        gt->urole = malloc((size_t)(total ? total : 1));
        gt->uclinic = malloc((size_t)(total ? total : 1));
    }
    if (!gt->ids || (is_users && (!gt->urole || !gt->uclinic))) {
        rc = ck_err_set(g->err, -CK_ENOMEM, "out of memory");
        goto out;
    }
    for (unsigned si = 0; si < p.nseqs; si++) {
        struct gtab *pd = g->tabs + t->fks[t->cols[p.seqs[si].fkcol].fk].parent_table;
        p.seqs[si].counts = calloc(pd->n ? pd->n : 1, sizeof *p.seqs[si].counts);
        if (!p.seqs[si].counts) {
            rc = ck_err_set(g->err, -CK_ENOMEM, "out of memory");
            goto out;
        }
    }
    uint64_t n = 0;
    for (unsigned tn = 0; tn < ntn; tn++) {
        uint32_t lo = gt->n;
        const uint8_t *tenant = is_tenants || global ? kv_system_tenant : g->ten->ids[tn];
        for (unsigned ci = 0; ci < p.ncombos; ci++) {
            struct combo *cb = &p.combos[ci];
            free(cb->picks);
            cb->picks = malloc((counts[tn] ? counts[tn] : 1) * sizeof *cb->picks);
            if (!cb->picks) {
                rc = ck_err_set(g->err, -CK_ENOMEM, "out of memory");
                goto out;
            }
            rc = sample_distinct(&r, space[ci][tn], counts[tn], cb->picks);
            if (rc) {
                ck_err_set(g->err, rc, "out of memory");
                goto out;
            }
        }
        for (uint32_t k = 0; k < counts[tn]; k++, n++) {
            struct ck_row row;
            memset(&row, 0, sizeof row);
            row.t = t;
            g->arena_len = 0;
            int64_t picked[CK_MAX_COLS];
            for (unsigned i = 0; i < CK_MAX_COLS; i++)
                picked[i] = -1;
            row.v[t->col_id].kind = CK_V_UUID;
            gen_uuid_v7(g, &r, n, row.v[t->col_id].uuid);
            if (t->col_tenant >= 0) {
                row.v[t->col_tenant].kind = CK_V_UUID;
                memcpy(row.v[t->col_tenant].uuid, tenant, 16);
            }
            for (unsigned ci = 0; ci < p.ncombos; ci++) {
                struct combo *cb = &p.combos[ci];
                uint64_t x = cb->picks[k];
                for (unsigned kk = 0; kk < cb->ncols; kk++) {
                    struct gtab *pd = cb->parents[kk];
                    uint32_t sz = pd->hi[tn] - pd->lo[tn];
                    uint32_t off = (uint32_t)(x % sz);
                    x /= sz;
                    struct ck_val *v = &row.v[cb->cols[kk]];
                    v->kind = CK_V_UUID;
                    memcpy(v->uuid, pd->ids[pd->lo[tn] + off], 16);
                    picked[cb->cols[kk]] = pd->lo[tn] + off;
                }
            }
            for (unsigned si = 0; si < p.nsteps; si++) {
                const struct fkstep *s = &p.steps[si];
                struct ck_val *v = &row.v[s->col];
                if (v->kind != CK_V_NULL)
                    continue;
                if (s->self) {
                    if (k && brng_unit(&r) < 0.5) {
                        v->kind = CK_V_UUID;
                        memcpy(v->uuid, gt->ids[lo + brng_below(&r, k)], 16);
                    }
                    continue;
                }
                if (s->null_frac > 0 && brng_unit(&r) < s->null_frac)
                    continue;
                int64_t j = pick_parent(g, &r, s, &row, tn, global && !is_tenants);
                if (j < 0)
                    continue;
                v->kind = CK_V_UUID;
                memcpy(v->uuid, s->parent->ids[j], 16);
                picked[s->col] = j;
                bool need = false;
                for (unsigned ii = 0; ii < s->ninherit; ii++)
                    need |= row.v[s->inh_child[ii]].kind == CK_V_NULL;
                if (!need)
                    continue;
                struct ck_row prow;
                rc = read_parent(g, s->parent, j, tn, &prow);
                if (rc)
                    goto out;
                for (unsigned ii = 0; ii < s->ninherit; ii++) {
                    if (row.v[s->inh_child[ii]].kind == CK_V_NULL &&
                        prow.v[s->inh_parent[ii]].kind == CK_V_UUID)
                        row.v[s->inh_child[ii]] = prow.v[s->inh_parent[ii]];
                }
            }
            for (unsigned vi = 0; vi < p.nvals; vi++)
                bgen_value_gen(g, &r, t, &p.vals[vi], &row, tn, k, n);
            for (unsigned si = 0; si < p.nseqs; si++) {
                int64_t j = picked[p.seqs[si].fkcol];
                set_int(&row.v[p.seqs[si].col], j >= 0 ? ++p.seqs[si].counts[j] : 1);
            }
            for (unsigned ci = 0; ci < p.ncopies; ci++) {
                const struct copycol *cc = &p.copies[ci];
                int64_t j = picked[cc->fkcol];
                if (j < 0)
                    continue;
                struct ck_row prow;
                rc = read_parent(g, cc->parent, j, tn, &prow);
                if (rc)
                    goto out;
                const struct ck_val *nv = &prow.v[cc->name_col];
                if (nv->kind == CK_V_STR)
                    bgen_set_str(g, &t->cols[cc->col], &row.v[cc->col], nv->p, nv->len);
            }
            int clinic = -1;
            unsigned role = 0;
            bgen_fixup(g, &r, t, &row, tn, k, &clinic, &role);
            if (is_users) {
                gt->urole[gt->n] = (uint8_t)role;
                gt->uclinic[gt->n] = (int8_t)clinic;
            }
            if (phi_table(t)) {
                rc = bgen_seal_phi(g, &r, t, &row, tenant, n);
                if (rc)
                    goto out;
            }
            if (g->arena_len >= sizeof g->arena) {
                rc = ck_err_set(g->err, -CK_EINTERNAL, "%s: a row outgrew the arena", t->name);
                goto out;
            }
            struct ck_ctx c = ctx_for(g, tenant);
            struct buf stored = BUF_INIT;
            rc = ck_rows_insert(&c, &row, ~(ck_colmask)0, &stored);
            buf_free(&stored);
            if (rc) {
                char msg[sizeof g->err->message];
                snprintf(msg, sizeof msg, "%s", g->err->message);
                ck_err_set(g->err, rc, "%s row %llu: %s", t->name, (unsigned long long)n, msg);
                goto out;
            }
            memcpy(gt->ids[gt->n++], row.v[t->col_id].uuid, 16);
            rc = row_done(g);
            if (rc)
                goto out;
        }
        if (is_tenants) {
            for (unsigned i = 0; i < NTENANTS; i++)
                gt->lo[i] = i, gt->hi[i] = i + 1;
        } else {
            gt->lo[tn] = lo;
            gt->hi[tn] = gt->n;
        }
    }
    gt->global = global && !is_tenants;
    if (gt->global) {
        for (unsigned i = 0; i < NTENANTS; i++)
            gt->lo[i] = 0, gt->hi[i] = gt->n;
    }
    gt->done = true;
    if (is_users)
        rc = build_pools(gt);
out:
    bgen_plan_free(&p);
    return rc;
}

/* ------------------------------------------------------------------ setup, ids file */

static void uuid_str(const uint8_t id[16], char out[37])
{
    ck_uuid_format(id, out);
}

static int64_t cents(const struct ck_val *v, unsigned scale)
{
    if (v->kind != CK_V_INT)
        return -1;
    return scale >= 2 ? v->i / ipow10(scale - 2) : v->i * ipow10(2 - scale);
}

/* write_ids: what clinickv-bench draws from (benchids.h). */
static int write_ids(struct gen *g)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench", g->o->dir);
    if (mkdir(path, 0700) != 0 && access(path, F_OK) != 0)
        return ck_err_set(g->err, -CK_EIO, "cannot create %s", path);
    snprintf(path, sizeof path, "%s/bench/ids", g->o->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return ck_err_set(g->err, -CK_EIO, "cannot write %s", path);
    MDB_txn *txn;
    int rc = kv_read_begin(&g->kv, &txn);
    if (rc) {
        fclose(f);
        return ck_err_set(g->err, rc, "cannot read the data directory");
    }
    const struct ck_table *tt = ck_table_find("tenants", 7), *ut = ck_table_find("users", 5),
                          *pt = ck_table_find("patients", 8), *ct = ck_table_find("clinics", 7),
                          *it = ck_table_find("pharmacy_drug_inventory", 23),
                          *dt = ck_table_find("pharmacy_drugs", 14);
    struct gtab *tg = gtab_of(g, tt), *ug = gtab_of(g, ut), *pg = gtab_of(g, pt),
                *cg = gtab_of(g, ct), *ig = gtab_of(g, it);
    char a[37], b[37], c3[37], anchor[11];
    ck_date_format(g->anchor, anchor);
    fprintf(f, "# clinickv-gen: the ids clinickv-bench draws from (tools/benchids.h)\n");
    fprintf(f, "format\t%d\nanchor\t%s\nscale\t%g\nseed\t%llu\npassword\t%s\n", BIDS_FORMAT, anchor,
            g->o->scale, (unsigned long long)g->o->seed,
            g->o->password ? g->o->password : BENCHGEN_PASSWORD);
    int ec = ck_column_find(ut, "email", 5), sc = ck_column_find(tt, "slug", 4);
    for (unsigned tn = 0; tn < NTENANTS && rc == 0; tn++) {
        struct ck_ctx sys = {.kv = &g->kv, .txn = txn, .tenant = kv_system_tenant, .err = g->err};
        struct ck_ctx c = {.kv = &g->kv, .txn = txn, .tenant = tg->ids[tn], .err = g->err};
        struct ck_row row;
        char slug[128], email[256];
        if ((rc = ck_rows_get(&sys, tt, tg->ids[tn], true, &row)) != 0)
            break;
        snprintf(slug, sizeof slug, "%.*s", (int)row.v[sc].len, row.v[sc].p);
        if ((rc = ck_rows_get(&c, ut, ug->ids[ug->lo[tn]], true, &row)) != 0)
            break;
        snprintf(email, sizeof email, "%.*s", (int)row.v[ec].len, row.v[ec].p);
        uuid_str(tg->ids[tn], a);
        fprintf(f, "tenant\t%u\t%s\t%s\t%s\n", tn, a, slug, email);
    }
    for (unsigned tn = 0; tn < NTENANTS && rc == 0; tn++) {
        for (uint32_t j = cg->lo[tn]; j < cg->hi[tn]; j++) {
            uuid_str(cg->ids[j], a);
            fprintf(f, "clinic\t%u\t%s\n", tn, a);
        }
    }
    for (unsigned tn = 0; tn < NTENANTS && rc == 0; tn++) {
        bool any = false;
        for (int pass = 0; pass < 2; pass++) {
            for (uint32_t j = ug->lo[tn]; j < ug->hi[tn]; j++) {
                unsigned role = ug->urole[j];
                const char *rn = bgen_role_name(role);
                uuid_str(ug->ids[j], a);
                if (pass == 0 && !strcmp(rn, "dentist")) {
                    uuid_str(cg->ids[cg->lo[tn] + (uint32_t)ug->uclinic[j]], b);
                    fprintf(f, "dentist\t%u\t%s\t%s\n", tn, a, b);
                }
                if (pass == 1 &&
                    (!strcmp(rn, "pharmacist") || !strcmp(rn, "pharmacy_technician"))) {
                    fprintf(f, "user\t%u\t%s\n", tn, a);
                    any = true;
                }
            }
        }
        if (!any) { /* gen.py: no sellers at a tiny scale -> every user sells */
            for (uint32_t j = ug->lo[tn]; j < ug->hi[tn]; j++) {
                uuid_str(ug->ids[j], a);
                fprintf(f, "user\t%u\t%s\n", tn, a);
            }
        }
    }
    for (unsigned tn = 0; tn < NTENANTS && rc == 0; tn++) {
        struct ck_ctx c = {.kv = &g->kv, .txn = txn, .tenant = tg->ids[tn], .err = g->err};
        for (uint32_t j = pg->lo[tn]; j < pg->hi[tn] && rc == 0; j++) {
            struct ck_row row;
            rc = ck_rows_get(&c, pt, pg->ids[j], false, &row);
            if (rc == -CK_ENOTFOUND) { /* soft-deleted: not drawn */
                rc = 0;
                continue;
            }
            if (rc)
                break;
            uuid_str(pg->ids[j], a);
            uuid_str(row.v[pt->col_clinic].uuid, b);
            fprintf(f, "patient\t%u\t%s\t%s\n", tn, a, b);
        }
    }
    int dc = ck_column_find(it, "drug_id", 7), spc = ck_column_find(it, "selling_price", 13),
        cpc = ck_column_find(it, "cost_price", 10), upc = ck_column_find(dt, "unit_price", 10),
        nc = ck_column_find(dt, "name", 4);
    for (unsigned tn = 0; tn < NTENANTS && rc == 0; tn++) {
        struct ck_ctx c = {.kv = &g->kv, .txn = txn, .tenant = tg->ids[tn], .err = g->err};
        for (uint32_t j = ig->lo[tn]; j < ig->hi[tn] && rc == 0; j++) {
            struct ck_row row, drug;
            if ((rc = ck_rows_get(&c, it, ig->ids[j], true, &row)) != 0)
                break;
            if ((rc = ck_rows_get(&c, dt, row.v[dc].uuid, true, &drug)) != 0)
                break;
            int64_t price = cents(&row.v[spc], it->cols[spc].scale);
            if (price < 0)
                price = cents(&drug.v[upc], dt->cols[upc].scale);
            uuid_str(ig->ids[j], a);
            uuid_str(row.v[dc].uuid, b);
            uuid_str(row.v[it->col_clinic].uuid, c3);
            fprintf(f, "batch\t%u\t%s\t%s\t%s\t%lld\t%.*s\t%lld\n", tn, a, b, c3, (long long)price,
                    (int)drug.v[nc].len, drug.v[nc].p,
                    (long long)cents(&row.v[cpc], it->cols[cpc].scale));
        }
    }
    kv_read_end(&g->kv, txn);
    if (fclose(f) != 0 && rc == 0)
        rc = ck_err_set(g->err, -CK_EIO, "cannot write %s", path);
    if (rc && g->err->code == 0)
        ck_err_set(g->err, rc, "cannot write %s: %s", path, ck_strerror(rc));
    return rc;
}

/* Create DIR as `clinickv init` does (datadir.c), but with no tenant: the
 * generator makes all ten, so that tenant 0 is as deterministic as the rest. */
static int create_datadir(struct gen *g, const struct kv_options *kvo)
{
    const char *dir = g->o->dir;
    char parent[4096];
    struct stat st;
    int crc = datadir_check_new(dir, parent, sizeof parent, g->err);
    if (crc)
        return crc;
    if (stat(dir, &st) != 0 && mkdir(dir, 0700) != 0)
        return ck_err_set(g->err, -CK_EIO, "cannot create %s: %s", dir, strerror(errno));
    char keyfile[4096];
    datadir_key_file(dir, NULL, keyfile, sizeof keyfile);
    int rc = phi_keyring_create(keyfile, g->err);
    if (rc == 0)
        rc = adminkey_create(dir, g->err);
    if (rc == 0)
        rc = kv_open(&g->kv, dir, true, kvo, g->err);
    if (rc)
        return rc;
    if ((rc = kv_write_begin(&g->kv, &g->txn)) != 0 ||
        (rc = datadir_write_meta(&g->kv, g->txn, true)) != 0) {
        if (g->txn)
            mdb_txn_abort(g->txn);
        g->txn = NULL;
        kv_close(&g->kv);
        return ck_err_set(g->err, rc, "cannot write the data directory's metadata");
    }
    rc = txn_commit(g);
    if (rc)
        kv_close(&g->kv);
    return rc;
}

int benchgen_run(const struct benchgen_options *o, struct benchgen_stats *st, struct ck_err *err)
{
    if (!(o->scale > 0 && o->scale <= 100))
        return ck_err_set(err, -CK_EINVAL, "--scale must be in (0, 100]");
    struct gen *g = calloc(1, sizeof *g);
    if (!g)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    g->o = o;
    g->err = err;
    g->anchor = o->anchor_days;
    g->id_base_ms = ((int64_t)o->anchor_days - 400) * DAY_MS;
    g->t0 = now_s();
    const char *password = o->password ? o->password : BENCHGEN_PASSWORD;
    int rc = ck_password_hash(password, strlen(password), g->pwhash);
    bool kv_open_ = false, keys_open = false;
    if (rc) {
        ck_err_set(err, rc, "cannot hash the password");
        goto out;
    }
    /* room for the whole data set up front (the map grows if not), no fsync per
     * commit: one kv_sync at the end makes the data set durable */
    struct kv_options kvo = {.map_size =
                                 (size_t)((o->scale < 0.25 ? 0.25 : o->scale) * 6.0 * (1 << 30)),
                             .no_sync = true};
    if ((rc = create_datadir(g, &kvo)) != 0)
        goto out;
    kv_open_ = true;
    char keyfile[4096];
    datadir_key_file(o->dir, NULL, keyfile, sizeof keyfile);
    if ((rc = phi_keyring_load(&g->keys, keyfile, err)) != 0)
        goto out;
    keys_open = true;
    g->ten = gtab_of(g, ck_table_find("tenants", 7));
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        bool gl;
        const struct ck_table *t = &ck_catalog.tables[i];
        g->tabs[i].t = t;
        uint32_t n = bgen_count_for(g, t, &gl);
        g->total_est += !strcmp(t->name, "tenants") || gl ? n : (uint64_t)n * NTENANTS;
    }
    if ((rc = txn_begin(g)) != 0)
        goto out;
    for (unsigned i = 0; i < ck_catalog.ntables && rc == 0; i++) {
        double t1 = now_s();
        uint64_t before = g->rows;
        rc = gen_table(g, &ck_catalog.tables[i]);
        if (rc == 0 && o->verbose)
            fprintf(stderr, "%sclinickv-gen: %s: %llu rows in %.1f s\n", o->progress ? "\r" : "",
                    ck_catalog.tables[i].name, (unsigned long long)(g->rows - before),
                    now_s() - t1);
    }
    if (rc == 0) {
        rc = txn_commit(g);
    } else if (g->txn) {
        mdb_txn_abort(g->txn);
        g->txn = NULL;
    }
    if (rc == 0 && (rc = kv_sync(&g->kv)) != 0)
        ck_err_set(err, rc, "cannot sync the data directory");
    if (rc == 0)
        rc = write_ids(g);
    progress(g, true);
    st->rows = g->rows;
    st->tables = ck_catalog.ntables;
    st->seconds = now_s() - g->t0;
out:
    if (kv_open_)
        kv_close(&g->kv);
    if (keys_open)
        phi_keyring_wipe(&g->keys);
    for (unsigned i = 0; i < 256; i++) {
        struct gtab *gt = &g->tabs[i];
        free(gt->ids);
        free(gt->urole);
        free(gt->uclinic);
        for (unsigned a = 0; a < NTENANTS; a++)
            for (unsigned b = 0; b < 4; b++)
                for (unsigned c = 0; c < RS__COUNT; c++)
                    free(gt->pool[a][b][c]);
    }
    for (unsigned i = 0; i < NELEM(g->sealed); i++)
        buf_free(&g->sealed[i]);
    sodium_memzero(g->plain.data, g->plain.cap);
    buf_free(&g->plain);
    free(g);
    return rc;
}
