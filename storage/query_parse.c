/* Queries: reading row.query's params into a struct ck_query. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "collate.h"
#include "query.h"
#include "query_int.h"
#include "timeval.h"
#include "uuid.h"

/* Columns a query may filter and order on: not JSON or BLOB (no order, no
 * index holds them), not the sealed PHI, not what clients never see. */
static int check_usable(const struct ck_table *t, unsigned col, const char *what,
                        struct ck_err *err)
{
    unsigned type = t->cols[col].type;
    if (type == CK_T_JSON || type == CK_T_BLOB || (ck_table_hidden_cols(t) & CK_COL(col)) ||
        phi_plain_name(t, col)) {
        ck_err_set(err, -CK_EBADREQ, "row.query: cannot %s %s.%s", what, t->name,
                   t->cols[col].name);
        ck_err_detail_str(err, "column", t->cols[col].name);
        return -CK_EBADREQ;
    }
    return 0;
}

static int unknown_column(struct ck_err *err, const struct ck_table *t, const char *name,
                          uint32_t len)
{
    int n = (int)(len > 64 ? 64 : len);
    ck_err_set(err, -CK_EUNKCOLUMN, "unknown column %s.%.*s", t->name, n, name);
    ck_err_detail_str(err, "table", t->name);
    ck_err_detail_strn(err, "column", name, (size_t)n);
    return -CK_EUNKCOLUMN;
}

/* The bytes of a str or bin object. */
static bool obj_text(const struct mp_obj *o, const char **s, uint32_t *len)
{
    if (o->type != MP_STR && o->type != MP_BIN)
        return false;
    *s = o->v.str.ptr;
    *len = o->v.str.len;
    return true;
}

static bool text_eq(const char *s, uint32_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

/* ------------------------------------------------------------------ filters */

/* Remember v in qv, with the collation key of a string in the arena (computed
 * once here, so no row comparison needs to fold the filter's side again). */
static int set_qval(struct ck_query *q, const struct ck_val *v, struct ck_qval *qv,
                    struct ck_err *err)
{
    qv->v = *v;
    qv->key_off = qv->key_len = 0;
    if (v->kind != CK_V_STR)
        return 0;
    size_t off = q->arena.len;
    int rc = ck_collate_key(v->p, v->len, &q->arena);
    if (rc == 0 && q->arena.oom)
        rc = -CK_ENOMEM;
    if (rc)
        return ck_err_set(err, rc, "row.query: cannot fold a string value");
    qv->key_off = (uint32_t)off;
    qv->key_len = (uint32_t)(q->arena.len - off);
    return 0;
}

static int add_filter(struct ck_query *q, unsigned col, unsigned op, const struct ck_val *v,
                      struct ck_err *err)
{
    if (q->nf == CK_QUERY_MAX_FILTERS) {
        ck_err_set(err, -CK_EBADREQ, "row.query: at most %d filters", CK_QUERY_MAX_FILTERS);
        ck_err_detail_int(err, "max", CK_QUERY_MAX_FILTERS);
        return -CK_EBADREQ;
    }
    struct ck_qfilter *f = &q->f[q->nf];
    memset(f, 0, sizeof *f);
    f->col = (uint16_t)col;
    f->op = (uint8_t)op;
    if (v) {
        int rc = set_qval(q, v, &f->val, err);
        if (rc)
            return rc;
    }
    q->nf++;
    return 0;
}

/* Read one value of column col at *p. */
static int read_value(struct ck_query *q, unsigned col, const char **p, const char *end,
                      struct ck_val *v, struct ck_err *err)
{
    return ck_val_from_wire(q->t, col, p, end, v, err);
}

/* A NUL-terminated copy of a time zone name. */
static int zone_copy(const struct mp_obj *o, char out[65], struct ck_err *err)
{
    const char *s;
    uint32_t len;
    if (!obj_text(o, &s, &len) || len == 0 || len > 64 || memchr(s, 0, len))
        return ck__query_bad_request(err, "today_in: expected an IANA time zone name");
    memcpy(out, s, len);
    out[len] = 0;
    return 0;
}

/* "Today" in zone for column col: [start, end) of the local day for a
 * TIMESTAMP, the local date for a DATE. */
static int add_today(struct ck_query *q, struct ck_ctx *c, unsigned col, const char *zone,
                     struct ck_err *err)
{
    const struct ck_column *cc = &q->t->cols[col];
    int rc;
    if (cc->type == CK_T_TIMESTAMP) {
        int64_t start, end;
        rc = ck_tz_day_bounds(zone, c->now_ms, &start, &end);
        if (rc == 0) {
            struct ck_val lo = {.kind = CK_V_INT, .i = start}, hi = {.kind = CK_V_INT, .i = end};
            rc = add_filter(q, col, CK_Q_GTE, &lo, err);
            if (rc == 0)
                rc = add_filter(q, col, CK_Q_LT, &hi, err);
            return rc;
        }
    } else if (cc->type == CK_T_DATE) {
        int32_t off;
        rc = ck_tz_utc_offset(zone, c->now_ms, &off);
        if (rc == 0) {
            int64_t local = c->now_ms + (int64_t)off * 1000;
            int64_t days = local / CK_MS_PER_DAY - (local % CK_MS_PER_DAY < 0);
            struct ck_val v = {.kind = CK_V_INT, .i = days};
            return add_filter(q, col, CK_Q_EQ, &v, err);
        }
    } else {
        ck_err_set(err, -CK_EBADREQ, "row.query: today_in needs a TIMESTAMP or DATE column, not %s",
                   cc->name);
        ck_err_detail_str(err, "column", cc->name);
        return -CK_EBADREQ;
    }
    if (rc == -CK_EINVAL) {
        ck_err_set(err, -CK_EINVAL, "unknown time zone %s", zone);
        ck_err_detail_str(err, "column", cc->name);
        ck_err_detail_str(err, "time_zone", zone);
        return rc;
    }
    return ck_err_set(err, rc, "cannot read time zone %s", zone);
}

/* today_in_clinic: the clinic's clinics.timezone, read in the query's snapshot. */
static int clinic_zone(struct ck_ctx *c, const struct mp_obj *o, char zone[65], struct ck_err *err)
{
    const char *s;
    uint32_t len;
    uint8_t id[16];
    if (!obj_text(o, &s, &len) || ck_uuid_parse(s, len, id) != 0)
        return ck__query_bad_request(err, "today_in_clinic: expected a clinic id");
    const struct ck_table *ct = ck_table_find("clinics", 7);
    int tzcol = ct ? ck_column_find(ct, "timezone", 8) : -1;
    if (tzcol < 0)
        return ck_err_set(err, -CK_EINTERNAL, "the schema has no clinics.timezone");
    struct ck_row r;
    int rc = ck_rows_get(c, ct, id, true, &r);
    if (rc == -CK_ENOTFOUND) {
        ck_err_set(err, rc, "today_in_clinic: no such clinic");
        ck_err_detail_str(err, "table", "clinics");
        return rc;
    }
    if (rc)
        return rc;
    const struct ck_val *v = &r.v[tzcol];
    if (v->kind != CK_V_STR || v->len == 0 || v->len > 64 || memchr(v->p, 0, v->len))
        return ck_err_set(err, -CK_EINVAL, "the clinic's timezone is not a zone name");
    memcpy(zone, v->p, v->len);
    zone[v->len] = 0;
    return 0;
}

/* tenant_id filters may only name the caller's tenant, which every key holds
 * anyway: they are checked and dropped. */
static int check_tenant_value(struct ck_query *q, struct ck_ctx *c, unsigned col, const char **p,
                              const char *end, struct ck_err *err)
{
    struct ck_val v;
    int rc = read_value(q, col, p, end, &v, err);
    if (rc)
        return rc;
    if (v.kind != CK_V_UUID || memcmp(v.uuid, c->tenant, 16) != 0)
        return ck_err_set(err, -CK_EFORBIDDEN, "tenant_id is always the session's tenant");
    return 0;
}

static const char *const op_names[] = {NULL, "eq", "ne", "gt", "gte", "lt", "lte", "in", "is_null"};

/* {op: value, ...} on column col. */
static int parse_ops(struct ck_query *q, struct ck_ctx *c, unsigned col, uint32_t nops,
                     const char **p, const char *end, struct ck_err *err)
{
    const struct ck_table *t = q->t;
    if (nops == 0)
        return ck__query_bad_request(err, "an operator map needs at least one operator");
    for (uint32_t i = 0; i < nops; i++) {
        struct mp_obj k, o;
        const char *name;
        uint32_t nlen;
        if (mp_next(p, end, &k) != 0 || !obj_text(&k, &name, &nlen))
            return ck__query_bad_request(err, "operator names are strings");
        unsigned op = 0;
        for (unsigned j = 1; j < sizeof op_names / sizeof op_names[0]; j++) {
            if (text_eq(name, nlen, op_names[j]))
                op = j;
        }
        if ((int)col == t->col_tenant) {
            if (op != CK_Q_EQ)
                return ck_err_set(err, -CK_EFORBIDDEN, "tenant_id is always the session's tenant");
            int rc = check_tenant_value(q, c, col, p, end, err);
            if (rc)
                return rc;
            continue;
        }
        bool today = text_eq(name, nlen, "today_in"),
             today_clinic = text_eq(name, nlen, "today_in_clinic");
        if (today || today_clinic) {
            char zone[65];
            if (mp_next(p, end, &o) != 0)
                return ck__query_bad_request(err, "malformed operator value");
            int rc = today ? zone_copy(&o, zone, err) : clinic_zone(c, &o, zone, err);
            if (rc == 0)
                rc = add_today(q, c, col, zone, err);
            if (rc)
                return rc;
            continue;
        }
        struct ck_val v;
        int rc = 0;
        switch (op) {
        case CK_Q_EQ:
        case CK_Q_NE:
            rc = read_value(q, col, p, end, &v, err);
            if (rc == 0 && v.kind == CK_V_NULL)
                rc = add_filter(q, col, op == CK_Q_EQ ? CK_Q_IS_NULL : CK_Q_NOT_NULL, NULL, err);
            else if (rc == 0)
                rc = add_filter(q, col, op, &v, err);
            break;
        case CK_Q_GT:
        case CK_Q_GTE:
        case CK_Q_LT:
        case CK_Q_LTE:
            rc = read_value(q, col, p, end, &v, err);
            if (rc == 0 && v.kind == CK_V_NULL) {
                ck_err_set(err, -CK_EBADREQ, "row.query: %s needs a value, not nil: use is_null",
                           op_names[op]);
                rc = -CK_EBADREQ;
            }
            if (rc == 0)
                rc = add_filter(q, col, op, &v, err);
            break;
        case CK_Q_IS_NULL:
            if (mp_next(p, end, &o) != 0 || o.type != MP_BOOL)
                return ck__query_bad_request(err, "is_null takes true or false");
            rc = add_filter(q, col, o.v.b ? CK_Q_IS_NULL : CK_Q_NOT_NULL, NULL, err);
            break;
        case CK_Q_IN: {
            if (mp_next(p, end, &o) != 0 || o.type != MP_ARRAY)
                return ck__query_bad_request(err, "in takes an array of values");
            if (o.v.n > CK_QUERY_MAX_IN) {
                ck_err_set(err, -CK_EBADREQ, "row.query: an in list holds at most %d values",
                           CK_QUERY_MAX_IN);
                ck_err_detail_int(err, "max", CK_QUERY_MAX_IN);
                return -CK_EBADREQ;
            }
            if (o.v.n == 1) {
                /* One value is an equality, which an index can serve. */
                rc = read_value(q, col, p, end, &v, err);
                if (rc == 0)
                    rc = add_filter(q, col, v.kind == CK_V_NULL ? CK_Q_IS_NULL : CK_Q_EQ,
                                    v.kind == CK_V_NULL ? NULL : &v, err);
                break;
            }
            rc = add_filter(q, col, CK_Q_IN, NULL, err);
            if (rc)
                return rc;
            struct ck_qfilter *f = &q->f[q->nf - 1];
            f->in = calloc(o.v.n ? o.v.n : 1, sizeof *f->in);
            if (!f->in)
                return ck_err_set(err, -CK_ENOMEM, "out of memory");
            for (uint32_t j = 0; j < o.v.n && rc == 0; j++) {
                rc = read_value(q, col, p, end, &v, err);
                if (rc == 0)
                    rc = set_qval(q, &v, &f->in[j], err);
                if (rc == 0)
                    f->nin++;
            }
            break;
        }
        default:
            ck_err_set(err, -CK_EBADREQ,
                       "row.query: unknown operator %.*s (eq ne gt gte lt lte in is_null "
                       "today_in today_in_clinic)",
                       (int)(nlen > 32 ? 32 : nlen), name);
            return -CK_EBADREQ;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* where {demographics: {last_name, first_name, date_of_birth, phone, email}}:
 * equality on the blind indexes (phi.h) the fields hash to. */
static int parse_demographics(struct ck_query *q, struct ck_ctx *c, const char **p, const char *end,
                              const struct ck_query_env *env, struct ck_err *err)
{
    static const char *const fields[] = {"last_name", "first_name", "date_of_birth", "phone",
                                         "email"};
    /* The search column each field feeds (the two names feed one). */
    static const unsigned feeds[] = {0, 0, 1, 2, 3};
    if (!env || !env->phi_search_allowed)
        return ck_err_set(err, -CK_EFORBIDDEN, "this role may not search patients by PHI");
    if (!env->phi || !env->phi->loaded)
        return ck_err_set(err, -CK_EINTERNAL, "the server has no PHI key file loaded");
    const char *start = *p, *s = *p;
    struct mp_obj m, k, v;
    if (mp_next(&s, end, &m) != 0 || m.type != MP_MAP || m.v.n == 0)
        return ck__query_bad_request(err, "demographics: expected a map of fields to search");
    unsigned given = 0;
    for (uint32_t i = 0; i < m.v.n; i++) {
        const char *name;
        uint32_t nlen;
        if (mp_next(&s, end, &k) != 0 || !obj_text(&k, &name, &nlen))
            return ck__query_bad_request(err, "demographics: field names are strings");
        unsigned f = 0;
        while (f < 5 && !text_eq(name, nlen, fields[f]))
            f++;
        if (f == 5)
            return ck__query_bad_request(err,
                                         "demographics: only last_name, first_name, date_of_birth, "
                                         "phone and email can be searched");
        if (mp_next(&s, end, &v) != 0 || v.type != MP_STR)
            return ck__query_bad_request(err, "demographics: field values are strings");
        given |= 1u << f;
    }
    *p = s;
    int rc = phi_search_hashes(env->phi, c->tenant, start, end, &q->search, err);
    if (rc)
        return rc;
    if ((given & 3u) && (given & 3u) != 3u)
        return ck__query_bad_request(
            err, "demographics: last_name and first_name are searched together");
    for (unsigned f = 0; f < 5; f++) {
        if ((given & (1u << f)) && !q->search.has[feeds[f]])
            return ck__query_bad_request(err, "demographics: a searched field is empty");
    }
    for (unsigned i = 0; i < PHI_NSEARCH && rc == 0; i++) {
        if (!q->search.has[i])
            continue;
        int col = ck_column_find(q->t, phi_search_columns[i], strlen(phi_search_columns[i]));
        if (col < 0)
            return ck_err_set(err, -CK_EINTERNAL, "no column %s", phi_search_columns[i]);
        struct ck_val hv = {.kind = CK_V_STR, .len = 64, .p = q->search.hex[i]};
        rc = add_filter(q, (unsigned)col, CK_Q_EQ, &hv, err);
    }
    return rc;
}

static int parse_where(struct ck_query *q, struct ck_ctx *c, const char **p, const char *end,
                       const struct ck_query_env *env, struct ck_err *err)
{
    const struct ck_table *t = q->t;
    struct mp_obj m;
    if (mp_next(p, end, &m) != 0)
        return ck__query_bad_request(err, "malformed where");
    if (m.type == MP_NIL)
        return 0;
    if (m.type != MP_MAP)
        return ck__query_bad_request(err,
                                     "where: expected a map of columns to values or {op: value}");
    bool demographics = false;
    for (uint32_t i = 0; i < m.v.n; i++) {
        struct mp_obj k;
        const char *name;
        uint32_t nlen;
        if (mp_next(p, end, &k) != 0 || !obj_text(&k, &name, &nlen))
            return ck__query_bad_request(err, "where: column names are strings");
        int col = ck_column_find(t, name, nlen);
        int rc;
        if (col < 0) {
            if (!text_eq(name, nlen, "demographics") || phi_plain_field(t, name, nlen) < 0)
                return unknown_column(err, t, name, nlen);
            if (demographics)
                return ck__query_bad_request(err, "where: demographics given twice");
            demographics = true;
            rc = parse_demographics(q, c, p, end, env, err);
            if (rc)
                return rc;
            continue;
        }
        rc = check_usable(t, (unsigned)col, "filter on", err);
        if (rc)
            return rc;
        const char *vp = *p;
        struct mp_obj o;
        if (mp_next(&vp, end, &o) != 0)
            return ck__query_bad_request(err, "malformed where value");
        if (o.type == MP_MAP) {
            *p = vp;
            rc = parse_ops(q, c, (unsigned)col, o.v.n, p, end, err);
        } else if (col == t->col_tenant) {
            rc = check_tenant_value(q, c, (unsigned)col, p, end, err);
        } else {
            struct ck_val v;
            rc = read_value(q, (unsigned)col, p, end, &v, err);
            if (rc == 0)
                rc = add_filter(q, (unsigned)col, v.kind == CK_V_NULL ? CK_Q_IS_NULL : CK_Q_EQ,
                                v.kind == CK_V_NULL ? NULL : &v, err);
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ other params */

static int parse_order(struct ck_query *q, const char **p, const char *end, struct ck_err *err)
{
    const struct ck_table *t = q->t;
    struct mp_obj a;
    if (mp_next(p, end, &a) != 0)
        return ck__query_bad_request(err, "malformed order_by");
    if (a.type == MP_NIL)
        return 0;
    if (a.type != MP_ARRAY)
        return ck__query_bad_request(err, "order_by: expected [[column, \"asc\"|\"desc\"], ...]");
    if (a.v.n > CK_QUERY_MAX_ORDER)
        return ck__query_bad_request(err, "order_by: too many columns");
    for (uint32_t i = 0; i < a.v.n; i++) {
        struct mp_obj it, o;
        const char *name = NULL, *dir = NULL;
        uint32_t nlen = 0, dlen = 0;
        if (mp_next(p, end, &it) != 0)
            return ck__query_bad_request(err, "malformed order_by");
        if (it.type == MP_ARRAY && (it.v.n == 1 || it.v.n == 2)) {
            if (mp_next(p, end, &o) != 0 || !obj_text(&o, &name, &nlen))
                return ck__query_bad_request(err, "order_by: column names are strings");
            if (it.v.n == 2 && (mp_next(p, end, &o) != 0 || !obj_text(&o, &dir, &dlen)))
                return ck__query_bad_request(err, "order_by: direction is \"asc\" or \"desc\"");
        } else if (!obj_text(&it, &name, &nlen)) {
            return ck__query_bad_request(err,
                                         "order_by: expected [[column, \"asc\"|\"desc\"], ...]");
        }
        bool desc = false;
        if (dir && text_eq(dir, dlen, "desc"))
            desc = true;
        else if (dir && !text_eq(dir, dlen, "asc"))
            return ck__query_bad_request(err, "order_by: direction is \"asc\" or \"desc\"");
        int col = ck_column_find(t, name, nlen);
        if (col < 0)
            return unknown_column(err, t, name, nlen);
        int rc = check_usable(t, (unsigned)col, "order by", err);
        if (rc)
            return rc;
        if (col == t->col_tenant)
            continue; /* one value in every key */
        q->order[q->norder].col = (uint16_t)col;
        q->order[q->norder].desc = desc;
        q->norder++;
    }
    return 0;
}

static int parse_limit(struct ck_query *q, const char **p, const char *end, struct ck_err *err)
{
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0)
        return ck__query_bad_request(err, "malformed limit");
    if (o.type == MP_NIL)
        return 0;
    if (o.type != MP_UINT || o.v.u == 0 || o.v.u > CK_QUERY_MAX_LIMIT) {
        ck_err_set(err, -CK_EBADREQ, "row.query: limit is an integer from 1 to %d",
                   CK_QUERY_MAX_LIMIT);
        ck_err_detail_str(err, "param", "limit");
        ck_err_detail_int(err, "max", CK_QUERY_MAX_LIMIT);
        return -CK_EBADREQ;
    }
    q->limit = (unsigned)o.v.u;
    return 0;
}

static int parse_after(struct ck_query *q, const char **p, const char *end, struct ck_err *err)
{
    struct mp_obj o;
    const char *s;
    uint32_t len;
    if (mp_next(p, end, &o) != 0)
        return ck__query_bad_request(err, "malformed after");
    if (o.type == MP_NIL)
        return 0;
    if (!obj_text(&o, &s, &len) || len == 0 || len > 2 * CK__QCURSOR_MAX)
        return ck__query_bad_request(err, "after: not a cursor of this server");
    if (buf_reserve(&q->after, CK__QCURSOR_MAX) != 0)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    size_t n = 0;
    const char *b64_end = NULL;
    if (sodium_base642bin((unsigned char *)q->after.data, CK__QCURSOR_MAX, s, len, NULL, &n,
                          &b64_end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        b64_end != s + len || n < CK__QCURSOR_HEAD ||
        (uint8_t)q->after.data[0] != CK__QCURSOR_VERSION)
        return ck__query_bad_request(err, "after: not a cursor of this server");
    q->after.len = n;
    q->has_after = true;
    return 0;
}

/* An include name: an FK column of the table (its parent row), a child table
 * with exactly one FK to the table, or "child_table.fk_column". */
static int resolve_include(struct ck_query *q, const char *name, uint32_t len,
                           struct ck_qinclude *inc, struct ck_err *err)
{
    const struct ck_table *t = q->t;
    int n = (int)(len > 64 ? 64 : len);
    inc->name = name;
    inc->name_len = len;
    int col = ck_column_find(t, name, len);
    if (col >= 0) {
        if (t->cols[col].fk < 0) {
            ck_err_set(err, -CK_EBADREQ, "row.query: include %.*s: not a foreign key column", n,
                       name);
            ck_err_detail_strn(err, "include", name, (size_t)n);
            return -CK_EBADREQ;
        }
        inc->child = false;
        inc->fk = &t->fks[t->cols[col].fk];
        inc->table = &ck_catalog.tables[inc->fk->parent_table];
        return 0;
    }
    const char *dot = memchr(name, '.', len);
    uint32_t tlen = dot ? (uint32_t)(dot - name) : len;
    const struct ck_table *ct = ck_table_find(name, tlen);
    if (!ct) {
        ck_err_set(err, -CK_EUNKTABLE, "include %.*s: no such column of %s nor table", n, name,
                   t->name);
        ck_err_detail_strn(err, "table", name, (size_t)(tlen > 64 ? 64 : tlen));
        return -CK_EUNKTABLE;
    }
    const struct ck_fk *found = NULL;
    unsigned count = 0;
    for (unsigned j = 0; j < ct->nfks; j++) {
        const struct ck_fk *fk = &ct->fks[j];
        if (fk->parent_table != ck_table_index(t))
            continue;
        const char *cname = ct->cols[fk->column].name;
        if (dot && !text_eq(dot + 1, (uint32_t)(name + len - dot - 1), cname))
            continue;
        found = fk;
        count++;
    }
    if (count != 1) {
        ck_err_set(err, -CK_EBADREQ,
                   count
                       ? "row.query: include %.*s: %s has several foreign keys to %s: name one as "
                         "table.column"
                       : "row.query: include %.*s: %s has no such foreign key to %s",
                   n, name, ct->name, t->name);
        ck_err_detail_strn(err, "include", name, (size_t)n);
        return -CK_EBADREQ;
    }
    if (found->index < 0) {
        ck_err_set(err, -CK_EBADREQ,
                   "row.query: include %.*s: its rows are the whole tenant: query %s instead", n,
                   name, ct->name);
        ck_err_detail_strn(err, "include", name, (size_t)n);
        return -CK_EBADREQ;
    }
    inc->child = true;
    inc->fk = found;
    inc->table = ct;
    return 0;
}

static int parse_include(struct ck_query *q, const char **p, const char *end, struct ck_err *err)
{
    struct mp_obj a, o;
    if (mp_next(p, end, &a) != 0)
        return ck__query_bad_request(err, "malformed include");
    if (a.type == MP_NIL)
        return 0;
    if (a.type != MP_ARRAY)
        return ck__query_bad_request(err, "include: expected an array of names");
    if (a.v.n > CK_QUERY_MAX_INCLUDES)
        return ck__query_bad_request(err, "include: too many names");
    for (uint32_t i = 0; i < a.v.n; i++) {
        const char *name;
        uint32_t len;
        if (mp_next(p, end, &o) != 0 || !obj_text(&o, &name, &len) || len == 0)
            return ck__query_bad_request(err, "include: names are strings");
        for (unsigned j = 0; j < q->ninc; j++) {
            if (q->inc[j].name_len == len && memcmp(q->inc[j].name, name, len) == 0)
                return ck__query_bad_request(err, "include: a name is given twice");
        }
        int rc = resolve_include(q, name, len, &q->inc[q->ninc], err);
        if (rc)
            return rc;
        q->ninc++;
    }
    return 0;
}

static int parse_flag(const char **p, const char *end, bool *out, const char *name,
                      struct ck_err *err)
{
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0 || (o.type != MP_BOOL && o.type != MP_NIL)) {
        ck_err_set(err, -CK_EBADREQ, "row.query: %s is true or false", name);
        ck_err_detail_str(err, "param", name);
        return -CK_EBADREQ;
    }
    *out = o.type == MP_BOOL && o.v.b;
    return 0;
}

int ck_query_parse(struct ck_query *q, struct ck_ctx *c, const struct ck_table *t, const char *p,
                   uint32_t npairs, const char *end, const struct ck_query_env *env)
{
    struct ck_err *err = c->err;
    memset(q, 0, sizeof *q);
    q->t = t;
    q->limit = CK_QUERY_DEFAULT_LIMIT;
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k;
        const char *name;
        uint32_t len;
        if (mp_next(&p, end, &k) != 0 || !obj_text(&k, &name, &len))
            return ck__query_bad_request(err, "param names are strings");
        int rc;
        if (text_eq(name, len, "where"))
            rc = parse_where(q, c, &p, end, env, err);
        else if (text_eq(name, len, "order_by"))
            rc = parse_order(q, &p, end, err);
        else if (text_eq(name, len, "limit"))
            rc = parse_limit(q, &p, end, err);
        else if (text_eq(name, len, "after"))
            rc = parse_after(q, &p, end, err);
        else if (text_eq(name, len, "include"))
            rc = parse_include(q, &p, end, err);
        else if (text_eq(name, len, "with_deleted"))
            rc = parse_flag(&p, end, &q->with_deleted, "with_deleted", err);
        else if (text_eq(name, len, "allow_scan"))
            rc = parse_flag(&p, end, &q->allow_scan, "allow_scan", err);
        else if (text_eq(name, len, "explain"))
            rc = parse_flag(&p, end, &q->explain, "explain", err);
        else if (text_eq(name, len, "table") || text_eq(name, len, "tenant") ||
                 text_eq(name, len, "op") || text_eq(name, len, "as"))
            rc = mp_skip(&p, end) == 0 ? 0 : ck__query_bad_request(err, "malformed params");
        else {
            ck_err_set(err, -CK_EBADREQ, "row.query: unknown param %.*s",
                       (int)(len > 32 ? 32 : len), name);
            ck_err_detail_strn(err, "param", name, len > 32 ? 32 : len);
            rc = -CK_EBADREQ;
        }
        if (rc)
            return rc;
    }
    return 0;
}
