/* Queries: choosing a plan, walking it, includes, explain (parsing is query_parse.c). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "collate.h"
#include "keycodec.h"
#include "query.h"
#include "query_int.h"

int ck__query_bad_request(struct ck_err *err, const char *what)
{
    return ck_err_set(err, -CK_EBADREQ, "row.query: %s", what);
}

static bool is_string_type(unsigned type)
{
    return type == CK_T_VARCHAR || type == CK_T_CHAR || type == CK_T_TEXT;
}

static bool is_range_op(unsigned op)
{
    return op == CK_Q_GT || op == CK_Q_GTE || op == CK_Q_LT || op == CK_Q_LTE ||
           op == CK_Q_NOT_NULL;
}

void ck_query_free(struct ck_query *q)
{
    if (q->inc_cur)
        mdb_cursor_close(q->inc_cur);
    q->inc_cur = NULL;
    q->inc_txn = NULL;
    for (unsigned i = 0; i < q->nf; i++) {
        free(q->f[i].in);
        q->f[i].in = NULL;
    }
    q->nf = 0;
    buf_free(&q->after);
    buf_free(&q->next);
    buf_free(&q->arena);
    if (q->scratch.data)
        sodium_memzero(q->scratch.data, q->scratch.cap);
    buf_free(&q->scratch);
    buf_free(&q->last);
    sodium_memzero(&q->search, sizeof q->search);
}

/* ------------------------------------------------------------------ planning */

/* The first equality on col (IS_NULL is equality with NULL, which keys hold). */
static int eq_filter_on(const struct ck_query *q, unsigned col)
{
    for (unsigned i = 0; i < q->nf; i++) {
        if (q->f[i].col == col && (q->f[i].op == CK_Q_EQ || q->f[i].op == CK_Q_IS_NULL))
            return (int)i;
    }
    return -1;
}

static bool range_on(const struct ck_query *q, unsigned col)
{
    for (unsigned i = 0; i < q->nf; i++) {
        if (q->f[i].col == col && is_range_op(q->f[i].op))
            return true;
    }
    return false;
}

/* The key columns of an index: its columns without tenant_id. */
static unsigned key_columns(const struct ck_table *t, const struct ck_index *ix,
                            uint16_t kc[CK_INDEX_MAX_COLS])
{
    unsigned n = 0;
    for (unsigned i = 0; i < ix->ncols; i++) {
        if ((int)ix->cols[i] != t->col_tenant)
            kc[n++] = ix->cols[i];
    }
    return n;
}

/*
 * Does walking key columns kc[k..nk) then the row id give the order rem?
 * Columns fixed by an equality filter hold one value among the results, so
 * they may be skipped on either side; nothing follows the id, which is unique.
 */
static bool order_matches(const struct ck_query *q, const struct ck_qorder *rem, unsigned nrem,
                          const uint16_t *kc, unsigned nk, unsigned k)
{
    unsigned r = 0, i = k;
    while (r < nrem) {
        if (i < nk) {
            if (kc[i] == rem[r].col) {
                r++;
                i++;
            } else if (eq_filter_on(q, kc[i]) >= 0) {
                i++;
            } else {
                return false;
            }
            continue;
        }
        return (int)rem[r].col == q->t->col_id;
    }
    return true;
}

struct cand {
    struct ck_qplan plan;
    uint64_t score;
};

/* Score a walk: unbounded scans last, then more equality columns, a range,
 * fewer filters left for the rows, shorter keys. */
static uint64_t score(bool scan, unsigned k, bool range, unsigned residual, unsigned nk)
{
    return (uint64_t)!scan << 40 | (uint64_t)k << 32 | (uint64_t)range << 31 |
           (uint64_t)(CK_QUERY_MAX_FILTERS - residual) << 16 | (uint64_t)(255 - nk);
}

static unsigned popcount32(uint32_t v)
{
    unsigned n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static void consider_index(const struct ck_query *q, const struct ck_index *ix,
                           const struct ck_qorder *rem, unsigned nrem, bool desc, struct cand *best)
{
    const struct ck_table *t = q->t;
    uint16_t kc[CK_INDEX_MAX_COLS];
    unsigned nk = ix ? key_columns(t, ix, kc) : 0;
    struct ck_qplan pl;
    memset(&pl, 0, sizeof pl);
    pl.kind = ix ? CK_QPLAN_INDEX : CK_QPLAN_PRIMARY;
    pl.ix = ix;
    pl.desc = desc;
    pl.range_col = -1;
    pl.ids_filter = -1;
    unsigned k = 0;
    while (k < nk) {
        int f = eq_filter_on(q, kc[k]);
        if (f < 0)
            break;
        pl.eq_filter[k] = (int16_t)f;
        pl.served |= 1u << f;
        k++;
    }
    pl.neq = (uint8_t)k;
    /* The primary key's one key column is the id itself. */
    unsigned range_col = ix ? (k < nk ? kc[k] : 0u) : (unsigned)t->col_id;
    bool range = (ix ? k < nk : true) && range_on(q, range_col);
    if (range) {
        pl.range_col = (int16_t)range_col;
        /* Truncated strings order by hash in keys (keycodec.h): range filters on
         * strings are checked on the rows as well. */
        bool exact = !is_string_type(t->cols[range_col].type);
        for (unsigned i = 0; i < q->nf && exact; i++) {
            if (q->f[i].col == range_col && is_range_op(q->f[i].op))
                pl.served |= 1u << i;
        }
    }
    if (!order_matches(q, rem, nrem, kc, nk, k))
        return;
    bool bounded = k > 0 || range;
    pl.scan = !bounded && q->nf > 0;
    if (pl.scan && !q->allow_scan)
        return;
    unsigned residual = q->nf - popcount32(pl.served);
    uint64_t s = score(pl.scan, k, range, residual, ix ? nk : 0);
    if (!best->plan.kind || s > best->score) {
        best->plan = pl;
        best->score = s;
    }
}

static int no_index(const struct ck_query *q, const char *why, struct ck_err *err)
{
    const struct ck_table *t = q->t;
    const char *names[64];
    unsigned n = 0;
    for (unsigned i = 0; i < t->nindexes && n < 64; i++)
        names[n++] = t->indexes[i].name;
    ck_err_set(err, -CK_ENOINDEX,
               "no index of %s serves this query (%s): filter on an index's leading columns, or "
               "set allow_scan",
               t->name, why);
    ck_err_detail_str(err, "table", t->name);
    ck_err_detail_strs(err, "indexes", names, n);
    return -CK_ENOINDEX;
}

int ck_query_plan(struct ck_query *q, struct ck_err *err)
{
    const struct ck_table *t = q->t;
    /* Order items on columns fixed by an equality are no order at all. */
    struct ck_qorder rem[CK_QUERY_MAX_ORDER];
    unsigned nrem = 0;
    for (unsigned i = 0; i < q->norder; i++) {
        if (eq_filter_on(q, q->order[i].col) < 0)
            rem[nrem++] = q->order[i];
    }
    bool desc = nrem ? rem[0].desc : (q->norder ? q->order[0].desc : false);
    for (unsigned i = 1; i < nrem; i++) {
        if (rem[i].desc != desc)
            return no_index(q, "order_by mixes directions; a walk goes one way", err);
    }
    struct cand best;
    memset(&best, 0, sizeof best);
    /* Point reads of the ids an id filter names beat any walk. */
    for (unsigned i = 0; i < q->nf; i++) {
        const struct ck_qfilter *f = &q->f[i];
        if ((int)f->col != t->col_id || (f->op != CK_Q_EQ && f->op != CK_Q_IN))
            continue;
        if (!order_matches(q, rem, nrem, NULL, 0, 0))
            break;
        memset(&best.plan, 0, sizeof best.plan);
        best.plan.kind = CK_QPLAN_IDS;
        best.plan.desc = desc;
        best.plan.range_col = -1;
        best.plan.ids_filter = (int16_t)i;
        best.plan.served = 1u << i;
        q->plan = best.plan;
        return 0;
    }
    consider_index(q, NULL, rem, nrem, desc, &best);
    for (unsigned i = 0; i < t->nindexes; i++)
        consider_index(q, &t->indexes[i], rem, nrem, desc, &best);
    if (!best.plan.kind)
        return no_index(q,
                        q->allow_scan ? "no index gives the order_by asked for"
                                      : "no index's leading columns are filtered by equality or "
                                        "range, or give the order_by",
                        err);
    q->plan = best.plan;
    return 0;
}

const char *ck_query_index_name(const struct ck_query *q)
{
    return q->plan.kind == CK_QPLAN_INDEX ? q->plan.ix->name : "PRIMARY";
}

/* ------------------------------------------------------------------ rows */

/* Compare row value rv with filter value fv (both non-NULL, same column);
 * a string row value's collation key is in q->scratch. */
static int cmp_val(const struct ck_query *q, const struct ck_val *rv, const struct ck_qval *fv)
{
    const void *a, *b;
    size_t alen, blen;
    switch (rv->kind) {
    case CK_V_INT: return (rv->i > fv->v.i) - (rv->i < fv->v.i);
    case CK_V_UUID: return memcmp(rv->uuid, fv->v.uuid, 16);
    case CK_V_STR:
        a = q->scratch.data;
        alen = q->scratch.len;
        b = q->arena.data + fv->key_off;
        blen = fv->key_len;
        break;
    default:
        a = rv->p;
        alen = rv->len;
        b = fv->v.p;
        blen = fv->v.len;
        break;
    }
    size_t n = alen < blen ? alen : blen;
    int r = n ? memcmp(a, b, n) : 0;
    return r ? r : (alen > blen) - (alen < blen);
}

/* Does row value rv satisfy filter f? 1, 0, or an error. */
static int filter_match(struct ck_query *q, const struct ck_qfilter *f, const struct ck_val *rv)
{
    if (f->op == CK_Q_IS_NULL)
        return rv->kind == CK_V_NULL;
    if (f->op == CK_Q_NOT_NULL)
        return rv->kind != CK_V_NULL;
    if (rv->kind == CK_V_STR) {
        buf_reset(&q->scratch);
        int rc = ck_collate_key(rv->p, rv->len, &q->scratch);
        if (rc == 0 && q->scratch.oom)
            rc = -CK_ENOMEM;
        if (rc)
            return rc;
    }
    if (f->op == CK_Q_IN) {
        for (uint32_t i = 0; i < f->nin; i++) {
            const struct ck_qval *iv = &f->in[i];
            if (iv->v.kind == CK_V_NULL || rv->kind == CK_V_NULL) {
                if (iv->v.kind == rv->kind)
                    return 1;
                continue;
            }
            if (cmp_val(q, rv, iv) == 0)
                return 1;
        }
        return 0;
    }
    if (rv->kind == CK_V_NULL)
        return 0;
    int c = cmp_val(q, rv, &f->val);
    switch (f->op) {
    case CK_Q_EQ: return c == 0;
    case CK_Q_NE: return c != 0;
    case CK_Q_GT: return c > 0;
    case CK_Q_GTE: return c >= 0;
    case CK_Q_LT: return c < 0;
    case CK_Q_LTE: return c <= 0;
    default: return 0;
    }
}

/* Does a fetched row belong in the result? 1, 0, or an error. */
static int row_matches(struct ck_query *q, const struct ck_row *r, const struct ck_query_sink *sink)
{
    const struct ck_table *t = q->t;
    if (!q->with_deleted && t->col_deleted_at >= 0 && r->v[t->col_deleted_at].kind != CK_V_NULL)
        return 0;
    for (unsigned i = 0; i < q->nf; i++) {
        if (q->plan.served & (1u << i))
            continue;
        int m = filter_match(q, &q->f[i], &r->v[q->f[i].col]);
        if (m <= 0)
            return m;
    }
    if (sink->visible && !sink->visible(sink->arg, r))
        return 0;
    return 1;
}

/* ------------------------------------------------------------------ walking */

/* LMDB's default key order: memcmp, then the shorter key first. */
static int keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int r = n ? memcmp(a, b, n) : 0;
    return r ? r : (alen > blen) - (alen < blen);
}

static void buf_set(struct buf *dst, const void *p, size_t n)
{
    buf_reset(dst);
    buf_append(dst, p, n);
}

/* [lo, hi) of the keys a walk visits; no hi: up to the end of the prefix. */
struct span {
    struct buf lo, hi;
    bool has_hi;
    bool empty; /* a lower bound above every possible key */
};

static void span_free(struct span *s)
{
    buf_free(&s->lo);
    buf_free(&s->hi);
}

/* Raise lo to key, or with past_prefix to its successor: past every key that
 * begins with it (a key of only 0xff bytes has none, and nothing is above it). */
static void raise_lo(struct span *s, const struct buf *key, bool past_prefix)
{
    struct buf k = BUF_INIT;
    buf_set(&k, key->data, key->len);
    if (past_prefix && kc_prefix_successor(&k) != 0)
        s->empty = true;
    else if (keycmp(k.data, k.len, s->lo.data, s->lo.len) > 0)
        buf_set(&s->lo, k.data, k.len);
    buf_free(&k);
}

/* Lower hi to key, or with past_prefix to its successor (none: no bound). */
static void lower_hi(struct span *s, const struct buf *key, bool past_prefix)
{
    struct buf k = BUF_INIT;
    buf_set(&k, key->data, key->len);
    if (past_prefix && kc_prefix_successor(&k) != 0) {
        buf_free(&k);
        return; /* unbounded above: hi stays */
    }
    if (!s->has_hi || keycmp(k.data, k.len, s->hi.data, s->hi.len) < 0) {
        buf_set(&s->hi, k.data, k.len);
        s->has_hi = true;
    }
    buf_free(&k);
}

/* The encoded bound `prefix | value` of the range column. */
static int bound_key(const struct ck_query *q, const struct buf *prefix, const struct ck_val *v,
                     struct buf *out)
{
    buf_set(out, prefix->data, prefix->len);
    if (q->plan.kind == CK_QPLAN_INDEX)
        return ck_index_put_value(out, q->t, q->plan.ix, (unsigned)q->plan.range_col, v, false);
    buf_append(out, v->uuid, 16); /* rows keys end with the raw id */
    return 0;
}

/* The walk's prefix (tenant, index or table, equality values) and span. */
static int build_span(struct ck_ctx *c, struct ck_query *q, struct buf *prefix, struct span *s)
{
    const struct ck_table *t = q->t;
    const struct ck_qplan *pl = &q->plan;
    const uint8_t *tenant = ck_row_tenant(t, c->tenant);
    int rc = 0;
    buf_reset(prefix);
    if (pl->kind == CK_QPLAN_INDEX) {
        uint16_t kc[CK_INDEX_MAX_COLS];
        key_columns(t, pl->ix, kc);
        ck_index_put_prefix(prefix, tenant, pl->ix);
        for (unsigned i = 0; i < pl->neq && rc == 0; i++)
            rc = ck_index_put_value(prefix, t, pl->ix, kc[i], &q->f[pl->eq_filter[i]].val.v, false);
    } else {
        buf_append(prefix, tenant, KV_TENANT_LEN);
        buf_push(prefix, t->id);
    }
    if (rc)
        return rc;
    buf_set(&s->lo, prefix->data, prefix->len);
    s->has_hi = false;
    lower_hi(s, prefix, true);
    if (pl->range_col >= 0) {
        struct buf b = BUF_INIT;
        if (pl->kind == CK_QPLAN_INDEX) {
            /* Comparisons are never true for NULL, which sorts first. */
            struct ck_val nil = {.kind = CK_V_NULL};
            rc = bound_key(q, prefix, &nil, &b);
            if (rc == 0)
                raise_lo(s, &b, true);
        }
        for (unsigned i = 0; i < q->nf && rc == 0; i++) {
            const struct ck_qfilter *f = &q->f[i];
            if ((int)f->col != pl->range_col || !is_range_op(f->op) || f->op == CK_Q_NOT_NULL)
                continue;
            rc = bound_key(q, prefix, &f->val.v, &b);
            if (rc)
                break;
            if (f->op == CK_Q_GT || f->op == CK_Q_GTE)
                raise_lo(s, &b, f->op == CK_Q_GT);
            else
                lower_hi(s, &b, f->op == CK_Q_LTE);
        }
        buf_free(&b);
    }
    if (rc == 0 && (prefix->oom || s->lo.oom || s->hi.oom))
        rc = -CK_ENOMEM;
    return rc;
}

/* The hash that ties a cursor to its query: plan kind, table, index and the
 * equality values (the walk's prefix without the tenant). */
static void cursor_hash(const struct ck_query *q, const struct buf *prefix,
                        uint8_t out[CK__QCURSOR_HASH])
{
    uint8_t head[4] = {q->plan.kind, q->t->id, 0, 0};
    if (q->plan.kind == CK_QPLAN_INDEX) {
        head[2] = (uint8_t)(q->plan.ix->id >> 8);
        head[3] = (uint8_t)q->plan.ix->id;
    }
    uint8_t h[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, head, sizeof head);
    if (prefix && prefix->len > KV_TENANT_LEN)
        crypto_generichash_update(&st, (const unsigned char *)prefix->data + KV_TENANT_LEN,
                                  prefix->len - KV_TENANT_LEN);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(out, h, CK__QCURSOR_HASH);
}

/* Check the cursor against the plan; *key gets the full key it names (tenant
 * prefix of this caller added). */
static int cursor_key(struct ck_ctx *c, struct ck_query *q, const struct buf *prefix,
                      struct buf *key)
{
    const uint8_t *a = (const uint8_t *)q->after.data;
    uint8_t h[CK__QCURSOR_HASH];
    cursor_hash(q, prefix, h);
    size_t klen = q->after.len - CK__QCURSOR_HEAD;
    const uint8_t *k = a + CK__QCURSOR_HEAD;
    bool ok = a[1] == q->plan.kind && a[2] == (q->plan.desc ? 1 : 0) &&
              memcmp(a + 3, h, CK__QCURSOR_HASH) == 0;
    if (ok && q->plan.kind == CK_QPLAN_INDEX) {
        /* Past the tenant: the index id and the equality values, then a row id. */
        size_t plen = prefix->len - KV_TENANT_LEN;
        ok = klen >= plen + KV_ID_LEN && memcmp(k, prefix->data + KV_TENANT_LEN, plen) == 0;
    } else if (ok) {
        ok = klen == 1 + KV_ID_LEN && k[0] == q->t->id;
    }
    if (!ok)
        return ck__query_bad_request(c->err,
                                     "after: the cursor belongs to another query (table, where "
                                     "equalities, order or index differ)");
    buf_reset(key);
    buf_append(key, ck_row_tenant(q->t, c->tenant), KV_TENANT_LEN);
    buf_append(key, k, klen);
    return key->oom ? -CK_ENOMEM : 0;
}

/* Make q->next, the cursor after key (a full key, tenant first). */
static int make_cursor(struct ck_query *q, const struct buf *prefix, const struct buf *key)
{
    uint8_t raw[CK__QCURSOR_MAX];
    size_t klen = key->len - KV_TENANT_LEN;
    if (klen > CK_KEY_MAX)
        return -CK_EINTERNAL;
    raw[0] = CK__QCURSOR_VERSION;
    raw[1] = q->plan.kind;
    raw[2] = q->plan.desc ? 1 : 0;
    cursor_hash(q, prefix, raw + 3);
    memcpy(raw + CK__QCURSOR_HEAD, key->data + KV_TENANT_LEN, klen);
    size_t n = sodium_base64_ENCODED_LEN(CK__QCURSOR_HEAD + klen,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    buf_reset(&q->next);
    if (buf_reserve(&q->next, n) != 0)
        return -CK_ENOMEM;
    sodium_bin2base64(q->next.data, n, raw, CK__QCURSOR_HEAD + klen,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    q->next.len = strlen(q->next.data);
    return 0;
}

/* Fetch and judge one row; emit it when it matches and the page has room.
 * *stop: the page is full and this row would begin the next one. */
static int take_row(struct ck_query *q, const MDB_val *stored, const MDB_val *key,
                    const struct ck_query_sink *sink, bool *stop)
{
    struct ck_row r;
    q->stats.rows_examined++;
    int rc = ck_row_decode(q->t, stored->mv_data, stored->mv_size, &r);
    if (rc)
        return rc;
    int m = row_matches(q, &r, sink);
    if (m <= 0)
        return m;
    if (q->stats.rows_returned == q->limit) {
        q->more = true;
        *stop = true;
        return 0;
    }
    rc = sink->emit(sink->arg, &r);
    if (rc)
        return rc;
    q->stats.rows_returned++;
    buf_set(&q->last, key->mv_data, key->mv_size);
    return q->last.oom ? -CK_ENOMEM : 0;
}

/* Walk an index (or the rows database) over span s. */
static int run_walk(struct ck_ctx *c, struct ck_query *q, const struct buf *prefix,
                    const struct span *s, const struct ck_query_sink *sink)
{
    const struct ck_table *t = q->t;
    bool rows_db = q->plan.kind == CK_QPLAN_PRIMARY, desc = q->plan.desc;
    if (s->empty || (s->has_hi && keycmp(s->lo.data, s->lo.len, s->hi.data, s->hi.len) >= 0))
        return 0; /* an empty range */
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(c->txn, rows_db ? c->kv->rows : c->kv->idx, &cur));
    if (rc)
        return rc;
    MDB_val k, v;
    int mrc;
    if (!desc) {
        k = (MDB_val){s->lo.len, s->lo.data};
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    } else if (s->has_hi) {
        /* The last key below hi: the one before the first key at or above it. */
        k = (MDB_val){s->hi.len, s->hi.data};
        mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        mrc = mrc == 0              ? mdb_cursor_get(cur, &k, &v, MDB_PREV)
              : mrc == MDB_NOTFOUND ? mdb_cursor_get(cur, &k, &v, MDB_LAST)
                                    : mrc;
    } else {
        mrc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    }
    uint8_t rkey[KV_ROW_KEY_LEN];
    bool stop = false;
    while (mrc == 0 && rc == 0 && !stop) {
        q->stats.keys_visited++;
        bool in = k.mv_size >= prefix->len && memcmp(k.mv_data, prefix->data, prefix->len) == 0 &&
                  (desc ? keycmp(k.mv_data, k.mv_size, s->lo.data, s->lo.len) >= 0
                        : !s->has_hi || keycmp(k.mv_data, k.mv_size, s->hi.data, s->hi.len) < 0);
        if (!in)
            break;
        MDB_val row = v;
        if (!rows_db) {
            if (k.mv_size < prefix->len + KV_ID_LEN) {
                rc = -CK_EINTERNAL;
                break;
            }
            kv_row_key(rkey, ck_row_tenant(t, c->tenant), t->id,
                       (const uint8_t *)k.mv_data + k.mv_size - KV_ID_LEN);
            MDB_val rk = {sizeof rkey, rkey};
            int grc = mdb_get(c->txn, c->kv->rows, &rk, &row);
            if (grc) {
                rc = grc == MDB_NOTFOUND
                         ? ck_err_set(c->err, -CK_EINTERNAL, "index %s holds a row that is gone",
                                      q->plan.ix->name)
                         : kv_error(grc);
                break;
            }
        }
        rc = take_row(q, &row, &k, sink, &stop);
        if (rc || stop)
            break;
        if (q->stats.keys_visited >= CK_QUERY_KEY_BUDGET) {
            /* Enough work for one call: the next page resumes after this key. */
            q->more = true;
            buf_set(&q->last, k.mv_data, k.mv_size);
            break;
        }
        mrc = mdb_cursor_get(cur, &k, &v, desc ? MDB_PREV : MDB_NEXT);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
        rc = kv_error(mrc);
    mdb_cursor_close(cur);
    return rc;
}

static int uuid_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* Point reads of the ids an id filter names, in id order. */
static int run_ids(struct ck_ctx *c, struct ck_query *q, const struct buf *after_key,
                   const struct ck_query_sink *sink)
{
    const struct ck_table *t = q->t;
    const struct ck_qfilter *f = &q->f[q->plan.ids_filter];
    uint32_t n = f->op == CK_Q_IN ? f->nin : 1;
    uint8_t(*ids)[16] = malloc((size_t)(n ? n : 1) * 16);
    if (!ids)
        return -CK_ENOMEM;
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct ck_val *v = f->op == CK_Q_IN ? &f->in[i].v : &f->val.v;
        if (v->kind == CK_V_UUID)
            memcpy(ids[m++], v->uuid, 16);
    }
    qsort(ids, m, 16, uuid_cmp);
    const uint8_t *tenant = ck_row_tenant(t, c->tenant);
    const uint8_t *from = after_key ? (const uint8_t *)after_key->data + KV_TENANT_LEN + 1 : NULL;
    int rc = 0;
    bool stop = false;
    for (uint32_t j = 0; j < m && rc == 0 && !stop; j++) {
        uint32_t i = q->plan.desc ? m - 1 - j : j;
        if ((i > 0 && !q->plan.desc && !memcmp(ids[i], ids[i - 1], 16)) ||
            (i + 1 < m && q->plan.desc && !memcmp(ids[i], ids[i + 1], 16)))
            continue; /* a duplicate */
        if (from && (q->plan.desc ? memcmp(ids[i], from, 16) >= 0 : memcmp(ids[i], from, 16) <= 0))
            continue;
        uint8_t key[KV_ROW_KEY_LEN];
        kv_row_key(key, tenant, t->id, ids[i]);
        MDB_val k = {sizeof key, key}, v;
        q->stats.keys_visited++;
        int grc = mdb_get(c->txn, c->kv->rows, &k, &v);
        if (grc == MDB_NOTFOUND)
            continue;
        if (grc) {
            rc = kv_error(grc);
            break;
        }
        rc = take_row(q, &v, &k, sink, &stop);
    }
    free(ids);
    return rc;
}

int ck_query_run(struct ck_ctx *c, struct ck_query *q, const struct ck_query_sink *sink)
{
    struct buf prefix = BUF_INIT, akey = BUF_INIT;
    struct span s = {BUF_INIT, BUF_INIT, false, false};
    memset(&q->stats, 0, sizeof q->stats);
    q->more = false;
    buf_reset(&q->next);
    buf_reset(&q->last);
    int rc = build_span(c, q, &prefix, &s);
    if (rc == 0 && q->has_after)
        rc = cursor_key(c, q, &prefix, &akey);
    if (rc)
        goto out;
    if (q->plan.kind == CK_QPLAN_IDS) {
        rc = run_ids(c, q, q->has_after ? &akey : NULL, sink);
    } else {
        if (q->has_after && !q->plan.desc) {
            /* key | 0x00 is the least key greater than the cursor's. */
            buf_push(&akey, 0);
            raise_lo(&s, &akey, false);
        } else if (q->has_after) {
            lower_hi(&s, &akey, false);
        }
        if (akey.oom || s.lo.oom || s.hi.oom)
            rc = -CK_ENOMEM;
        if (rc == 0)
            rc = run_walk(c, q, &prefix, &s, sink);
    }
    if (rc == 0 && q->more)
        rc = make_cursor(q, &prefix, &q->last);
out:
    buf_free(&prefix);
    buf_free(&akey);
    span_free(&s);
    return rc;
}

/* ------------------------------------------------------------------ includes */

int ck_query_include(struct ck_ctx *c, struct ck_query *q, const struct ck_qinclude *inc,
                     const struct ck_row *r, const struct ck_query_sink *sink)
{
    const struct ck_table *ct = inc->table;
    if (!inc->child) {
        const struct ck_val *v = &r->v[inc->fk->column];
        if (v->kind != CK_V_UUID)
            return 0;
        struct ck_row pr;
        q->stats.include_keys_visited++;
        int rc = ck_rows_get(c, ct, v->uuid, q->with_deleted, &pr);
        if (rc == -CK_ENOTFOUND)
            return 0;
        if (rc)
            return rc;
        if (sink->visible && !sink->visible(sink->arg, &pr))
            return 0;
        return sink->emit(sink->arg, &pr);
    }
    const struct ck_index *ix = &ct->indexes[inc->fk->index];
    const uint8_t *tenant = ck_row_tenant(ct, c->tenant);
    /* tenant | index id | the parent's id: on the stack, once per parent row. */
    char mem[KV_TENANT_LEN + 2 + KC_UUID_SIZE];
    struct buf prefix;
    buf_init_borrowed(&prefix, mem, sizeof mem);
    ck_index_put_prefix(&prefix, tenant, ix);
    int rc = ck_index_put_value(&prefix, ct, ix, inc->fk->column, &r->v[q->t->col_id], false);
    if (rc == 0 && prefix.oom)
        rc = -CK_ENOMEM;
    /* One cursor serves every include walk of the query. */
    if (rc == 0 && (!q->inc_cur || q->inc_txn != c->txn)) {
        if (q->inc_cur)
            mdb_cursor_close(q->inc_cur);
        q->inc_cur = NULL;
        rc = kv_error(mdb_cursor_open(c->txn, c->kv->idx, &q->inc_cur));
        q->inc_txn = c->txn;
    }
    if (rc)
        goto out;
    MDB_val k = {prefix.len, prefix.data}, v;
    unsigned n = 0;
    int mrc = mdb_cursor_get(q->inc_cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0) {
        q->stats.include_keys_visited++;
        if (k.mv_size < prefix.len + KV_ID_LEN || memcmp(k.mv_data, prefix.data, prefix.len) != 0)
            break;
        uint8_t rkey[KV_ROW_KEY_LEN];
        kv_row_key(rkey, tenant, ct->id, (const uint8_t *)k.mv_data + k.mv_size - KV_ID_LEN);
        MDB_val rk = {sizeof rkey, rkey}, row;
        struct ck_row cr;
        int grc = mdb_get(c->txn, c->kv->rows, &rk, &row);
        if (grc) {
            rc = grc == MDB_NOTFOUND ? ck_err_set(c->err, -CK_EINTERNAL,
                                                  "index %s holds a row that is gone", ix->name)
                                     : kv_error(grc);
            break;
        }
        rc = ck_row_decode(ct, row.mv_data, row.mv_size, &cr);
        if (rc)
            break;
        bool gone = !q->with_deleted && ct->col_deleted_at >= 0 &&
                    cr.v[ct->col_deleted_at].kind != CK_V_NULL;
        if (!gone && (!sink->visible || sink->visible(sink->arg, &cr))) {
            if (++n > CK_QUERY_MAX_INCLUDED) {
                ck_err_set(c->err, -CK_ETOOLARGE,
                           "include %s: a row has more than %d of them: query %s instead", ct->name,
                           CK_QUERY_MAX_INCLUDED, ct->name);
                ck_err_detail_str(c->err, "table", ct->name);
                ck_err_detail_int(c->err, "max", CK_QUERY_MAX_INCLUDED);
                rc = -CK_ETOOLARGE;
                break;
            }
            rc = sink->emit(sink->arg, &cr);
            if (rc)
                break;
        }
        mrc = mdb_cursor_get(q->inc_cur, &k, &v, MDB_NEXT);
    }
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
        rc = kv_error(mrc);
out:
    buf_free(&prefix);
    return rc;
}

/* ------------------------------------------------------------------ explain */

void ck_query_pack_explain(msgpack_packer *pk, const struct ck_query *q)
{
    const struct ck_table *t = q->t;
    const struct ck_qplan *pl = &q->plan;
    static const char *const kinds[] = {"", "primary_key", "primary_range", "index"};
    msgpack_pack_map(pk, 11);
    mp_pack_cstr(pk, "kind");
    mp_pack_cstr(pk, kinds[pl->kind]);
    mp_pack_cstr(pk, "index");
    mp_pack_cstr(pk, ck_query_index_name(q));
    mp_pack_cstr(pk, "scan");
    pl->scan ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    mp_pack_cstr(pk, "direction");
    mp_pack_cstr(pk, pl->desc ? "desc" : "asc");
    mp_pack_cstr(pk, "eq");
    if (pl->kind == CK_QPLAN_INDEX) {
        uint16_t kc[CK_INDEX_MAX_COLS];
        key_columns(t, pl->ix, kc);
        msgpack_pack_array(pk, pl->neq);
        for (unsigned i = 0; i < pl->neq; i++)
            mp_pack_cstr(pk, t->cols[kc[i]].name);
    } else if (pl->kind == CK_QPLAN_IDS) {
        msgpack_pack_array(pk, 1);
        mp_pack_cstr(pk, t->cols[t->col_id].name);
    } else {
        msgpack_pack_array(pk, 0);
    }
    mp_pack_cstr(pk, "range");
    if (pl->range_col >= 0)
        mp_pack_cstr(pk, t->cols[pl->range_col].name);
    else
        msgpack_pack_nil(pk);
    mp_pack_cstr(pk, "filters");
    msgpack_pack_array(pk, q->nf - popcount32(pl->served));
    for (unsigned i = 0; i < q->nf; i++) {
        if (!(pl->served & (1u << i)))
            mp_pack_cstr(pk, t->cols[q->f[i].col].name);
    }
    mp_pack_cstr(pk, "keys_visited");
    msgpack_pack_uint64(pk, q->stats.keys_visited);
    mp_pack_cstr(pk, "rows_examined");
    msgpack_pack_uint64(pk, q->stats.rows_examined);
    mp_pack_cstr(pk, "rows_returned");
    msgpack_pack_uint64(pk, q->stats.rows_returned);
    mp_pack_cstr(pk, "include_keys_visited");
    msgpack_pack_uint64(pk, q->stats.include_keys_visited);
}
