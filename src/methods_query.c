/*
 * row.query: the planner and executor of storage/query.h, with the session's
 * rules on top. The caller needs read permission on the table and on every
 * included table; clinic-scoped sessions see only their clinic's rows; a
 * tenant's users see only their own tenants row; every row goes out through
 * rowio_pack (no password hashes, PHI opened only for roles that may see it).
 *
 * The handler only reads call->txn and call->params, so txn.run runs its query
 * ops through it unchanged, inside the write transaction.
 */
#include <string.h>

#include <sodium.h>

#include "query.h"
#include "rbac.h"
#include "rowio.h"
#include "server.h"

struct qrun {
    struct ck_call *call;
    struct ck_ctx ctx;
    struct ck_query *q;
    struct buf scratch; /* one row packed before its _include key is added */
    struct ck_query_sink inc_sink;
    unsigned emitted; /* rows the include being packed has emitted */
};

/* Begin an array whose length is known only at its end: array32 with a zero
 * count, patched by close_array(). Any array encoding is valid msgpack. */
static size_t open_array(msgpack_packer *pk)
{
    static const char head[5] = {(char)0xdd, 0, 0, 0, 0};
    struct buf *b = pk->data;
    size_t at = b->len;
    buf_append(b, head, sizeof head);
    return at;
}

static void close_array(msgpack_packer *pk, size_t at, uint32_t n)
{
    struct buf *b = pk->data;
    if (b->oom)
        return;
    for (int i = 0; i < 4; i++)
        b->data[at + 1 + i] = (char)(n >> (24 - 8 * i));
}

/* Clinic scope, and a tenant's own tenants row only (rbac.h). */
static bool visible(void *arg, const struct ck_row *r)
{
    struct qrun *x = arg;
    return !ck_rbac_row_hidden(x->call->sess, r);
}

static int emit_included(void *arg, const struct ck_row *r)
{
    struct qrun *x = arg;
    x->emitted++;
    return rowio_pack(x->call, r);
}

/* The rows of each include, in the reserved key _include. */
static int pack_includes(struct qrun *x, const struct ck_row *r)
{
    struct ck_query *q = x->q;
    msgpack_packer *pk = x->call->pk;
    mp_pack_cstr(pk, "_include");
    msgpack_pack_map(pk, q->ninc);
    int rc = 0;
    for (unsigned i = 0; i < q->ninc && rc == 0; i++) {
        const struct ck_qinclude *inc = &q->inc[i];
        mp_pack_str(pk, inc->name, inc->name_len);
        x->emitted = 0;
        if (inc->child) {
            size_t at = open_array(pk);
            rc = ck_query_include(&x->ctx, q, inc, r, &x->inc_sink);
            close_array(pk, at, x->emitted);
        } else {
            rc = ck_query_include(&x->ctx, q, inc, r, &x->inc_sink);
            if (rc == 0 && x->emitted == 0)
                msgpack_pack_nil(pk);
        }
    }
    return rc;
}

static int emit_row(void *arg, const struct ck_row *r)
{
    struct qrun *x = arg;
    struct ck_call *call = x->call;
    if (x->q->ninc == 0)
        return rowio_pack(call, r);
    /* rowio_pack writes the row's own map; pack it aside to add one key. */
    msgpack_packer *out = call->pk, aside;
    buf_reset(&x->scratch);
    mp_packer_init(&aside, &x->scratch);
    call->pk = &aside;
    int rc = rowio_pack(call, r);
    call->pk = out;
    if (rc == 0 && x->scratch.oom)
        rc = -CK_ENOMEM;
    if (rc)
        return rc;
    const char *p = x->scratch.data, *end = p + x->scratch.len;
    struct mp_obj m;
    if (mp_next(&p, end, &m) != 0 || m.type != MP_MAP)
        return ck_err_set(call->err, -CK_EINTERNAL, "a packed row is not a map");
    msgpack_pack_map(out, m.v.n + 1);
    mp_pack_raw(out, p, (size_t)(end - p));
    return pack_includes(x, r);
}

/* Includes are read like the table itself: permission, and the module present. */
static int check_includes(struct ck_call *call, const struct ck_query *q)
{
    for (unsigned i = 0; i < q->ninc; i++) {
        const struct ck_table *it = q->inc[i].table;
        if (it->optional && !call->srv->pharmacy) {
            ck_err_set(call->err, -CK_EUNKTABLE, "unknown table %s", it->name);
            ck_err_detail_str(call->err, "table", it->name);
            return -CK_EUNKTABLE;
        }
        int rc = ck_rbac_check(call->sess, it, CK_ACT_READ, call->err);
        if (rc)
            return rc;
    }
    return 0;
}

/* row.query {table, where?, order_by?, limit?, after?, include?, with_deleted?,
 *            allow_scan?, explain?} -> {rows, next, explain?} */
int m_row_query(struct ck_call *call)
{
    const struct ck_table *t;
    int rc = ck_param_table(call, &t);
    if (rc == 0)
        rc = rowio_call_tenant(call, t);
    if (rc == 0)
        rc = ck_rbac_check(call->sess, t, CK_ACT_READ, call->err);
    if (rc)
        return rc;
    struct ck_query q;
    struct qrun x = {.call = call, .q = &q};
    rowio_ctx(call, &x.ctx);
    x.inc_sink = (struct ck_query_sink){visible, emit_included, &x};
    struct ck_query_env env = {keys_current(&call->srv->keys),
                               call->sess->phi || call->sess->system_admin};
    rc = ck_query_parse(&q, &x.ctx, t, call->params, call->nparams, call->params_end, &env);
    if (rc == 0)
        rc = check_includes(call, &q);
    if (rc == 0)
        rc = ck_query_plan(&q, call->err);
    if (rc)
        goto out;
    msgpack_packer *pk = call->pk;
    msgpack_pack_map(pk, q.explain ? 3 : 2);
    mp_pack_cstr(pk, "rows");
    size_t at = open_array(pk);
    struct ck_query_sink sink = {visible, emit_row, &x};
    rc = ck_query_run(&x.ctx, &q, &sink);
    if (rc)
        goto out;
    close_array(pk, at, (uint32_t)q.stats.rows_returned);
    mp_pack_cstr(pk, "next");
    if (q.more)
        mp_pack_str(pk, q.next.data, q.next.len);
    else
        msgpack_pack_nil(pk);
    if (q.explain) {
        mp_pack_cstr(pk, "explain");
        ck_query_pack_explain(pk, &q);
    }
out:
    ck_query_free(&q);
    /* The aside buffer held opened PHI. */
    if (x.scratch.data)
        sodium_memzero(x.scratch.data, x.scratch.cap);
    buf_free(&x.scratch);
    return rc;
}
