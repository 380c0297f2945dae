/* Rows in and out of row methods: passwords, PHI fields, clinic scope. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cond.h"
#include "mpw.h"
#include "phi.h"
#include "rbac.h"
#include "rowio.h"
#include "server.h"
#include "tenants.h"
#include "validate.h"

void rowio_ctx(struct ck_call *call, struct ck_ctx *c)
{
    memset(c, 0, sizeof *c);
    c->kv = call->kv;
    c->txn = call->txn;
    c->tenant = call->tenant;
    c->user = call->sess->has_user ? call->sess->user : NULL;
    c->now_ms = call->now_ms;
    c->log = call->log;
    c->err = call->err;
    c->clinic = call->sess->clinic_scoped ? call->sess->clinic : NULL;
}

int rowio_call_tenant(struct ck_call *call, const struct ck_table *t)
{
    if (call->has_tenant)
        return 0;
    const char *s;
    uint32_t len;
    int rc = ck_param_str_opt(call, "tenant", &s, &len);
    if (rc)
        return rc;
    if (!s) {
        if (t && t->col_tenant < 0)
            return 0; /* a global table */
        return ck_err_set(call->err, -CK_EBADREQ,
                          "system administrators name the tenant: params {tenant: slug or id}");
    }
    rc = ck_tenant_resolve(call->txn, call->kv, s, len, call->tenant);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(call->err, rc, "no such tenant");
    if (rc)
        return rc;
    call->has_tenant = true;
    return 0;
}

static int seal_phi(struct rowin *ri, struct ck_row *row, ck_colmask *present, bool insert);

/* ------------------------------------------------------------------ extras of a row map */

static int col_of(const struct ck_table *t, const char *name)
{
    return ck_column_find(t, name, strlen(name));
}

static int take_password(struct rowin *ri, struct ck_row *row, ck_colmask *present, const char **vp,
                         const char *end)
{
    struct ck_call *call = ri->call;
    struct mp_obj o;
    if (mp_next(vp, end, &o) != 0 || o.type != MP_STR || o.v.str.len == 0)
        return ck_err_set(call->err, -CK_EINVAL, "users.password must be a non-empty string");
    if (ri->has_password)
        return ck_err_set(call->err, -CK_EBADREQ, "password given twice");
    if (call->pw_next >= call->n_pw_hashes)
        return ck_err_set(call->err, -CK_EINTERNAL, "password was not prepared");
    const char *hash = call->pw_hashes[call->pw_next++];
    int col = col_of(ri->t, "password_hash");
    row->v[col].kind = CK_V_STR;
    row->v[col].p = hash;
    row->v[col].len = (uint32_t)strlen(hash);
    *present |= CK_COL(col);
    ri->has_password = true;
    return 1;
}

/* ck_extra_key_fn: keys of a row map that are not columns. */
static int extra_key(void *arg, struct ck_row *row, ck_colmask *present, const char *key,
                     uint32_t keylen, const char **vp, const char *end)
{
    struct rowin *ri = arg;
    if (keylen == 8 && !memcmp(key, "password", 8) && !strcmp(ri->t->name, "users"))
        return take_password(ri, row, present, vp, end);
    int enc = phi_plain_field(ri->t, key, keylen);
    if (enc >= 0) {
        if (!ri->call->sess->phi && !ri->call->sess->system_admin)
            return ck_err_set(ri->call->err, -CK_EFORBIDDEN, "role may not write PHI");
        if (ri->nphi == sizeof ri->phi / sizeof ri->phi[0])
            return ck_err_set(ri->call->err, -CK_EBADREQ, "too many PHI fields");
        const char *start = *vp;
        if (mp_skip(vp, end) != 0)
            return ck_err_set(ri->call->err, -CK_EBADREQ, "malformed value");
        ri->phi[ri->nphi++] = (struct phi_plain){enc, start, (uint32_t)(*vp - start)};
        return 1;
    }
    return 0;
}

/* Columns clients may never write themselves. */
static int check_protected(struct rowin *ri, ck_colmask given)
{
    const struct ck_table *t = ri->t;
    for (unsigned i = 0; i < t->ncols; i++) {
        if (!(given & CK_COL(i)))
            continue;
        if (!strcmp(t->name, "users") && !strcmp(t->cols[i].name, "password_hash") &&
            !ri->has_password)
            return ck_err_set(ri->call->err, -CK_EFORBIDDEN,
                              "password_hash is never written directly: send password");
        if (phi_protected_column(t, i))
            return ck_err_set(ri->call->err, -CK_EFORBIDDEN,
                              "%s.%s is maintained by the server: write the plain field instead",
                              t->name, t->cols[i].name);
    }
    return 0;
}

/* Clinic-scoped sessions write rows of their own clinic only. */
static int check_clinic(struct rowin *ri, struct ck_row *row, ck_colmask given, bool fill)
{
    const struct ck_session *s = ri->call->sess;
    const struct ck_table *t = ri->t;
    int cc = ck_table_clinic_col(t);
    if (!s->clinic_scoped || cc < 0)
        return 0;
    if (cc == t->col_id) {
        /* A clinic-scoped session cannot make another clinic (it could not see it). */
        if (fill)
            return ck_err_set(ri->call->err, -CK_EFORBIDDEN, "clinic staff cannot create clinics");
        return 0;
    }
    struct ck_val *v = &row->v[cc];
    if (!(given & CK_COL(cc)) && !fill)
        return 0;
    if (!(given & CK_COL(cc))) {
        v->kind = CK_V_UUID;
        memcpy(v->uuid, s->clinic, 16);
        ri->present |= CK_COL(cc);
        return 0;
    }
    if (v->kind == CK_V_UUID && memcmp(v->uuid, s->clinic, 16) == 0)
        return 0;
    return ck_err_set(ri->call->err, -CK_EFORBIDDEN, "clinic_id must be the session's clinic");
}

/* Role rank for "a user cannot raise a role above their own". */
static int role_rank(const char *role)
{
    if (!strcmp(role, "super_admin"))
        return 3;
    if (!strcmp(role, "tenant_admin"))
        return 2;
    if (!strcmp(role, "clinic_admin"))
        return 1;
    return 0;
}

static int check_role(struct rowin *ri, const struct ck_row *old_row, const struct ck_row *new_row)
{
    const struct ck_session *s = ri->call->sess;
    const struct ck_table *t = ri->t;
    if (s->system_admin || strcmp(t->name, "users") != 0)
        return 0;
    int rc = col_of(t, "role");
    const struct ck_column *c = &t->cols[rc];
    const char *mine = s->role >= 1 ? c->enum_values[s->role - 1] : "";
    /* An insert without role (or with nil) checks before defaults are filled in:
     * the role it will get is the column's default (nil fails NOT NULL later). */
    struct ck_val role = new_row->v[rc];
    if (role.kind != CK_V_INT)
        ck_val_default(t, (unsigned)rc, 0, &role);
    if (role.kind != CK_V_INT || role.i < 1 || role.i > c->n_enum)
        return 0;
    const char *want = c->enum_values[role.i - 1];
    bool changed = !old_row || old_row->v[rc].i != new_row->v[rc].i;
    if (!changed)
        return 0;
    bool self = old_row && memcmp(old_row->v[t->col_id].uuid, s->user, 16) == 0;
    if (self)
        return ck_err_set(ri->call->err, -CK_EFORBIDDEN, "a user cannot change their own role");
    if (role_rank(want) > role_rank(mine))
        return ck_err_set(ri->call->err, -CK_EFORBIDDEN,
                          "cannot grant role %s above one's own (%s)", want, mine);
    return 0;
}

int rowio_read_insert(struct rowin *ri, struct ck_call *call, const struct ck_table *t,
                      struct ck_row *row, const char *p, const char *end, uint32_t npairs)
{
    memset(ri, 0, sizeof *ri);
    ri->call = call;
    ri->t = t;
    ri->row = row;
    row->t = t;
    ck_colmask given = 0;
    int rc = ck_row_read_map(t, p, end, npairs, row, &given, extra_key, ri, call->err);
    if (rc)
        return rc;
    if ((rc = check_protected(ri, given)))
        return rc;
    ri->present |= given;
    if ((rc = check_clinic(ri, row, given, true)))
        return rc;
    /* The row's id is known before insert, so PHI can be bound to it. */
    if (!(ri->present & CK_COL(t->col_id)) || row->v[t->col_id].kind == CK_V_NULL) {
        ck_val_default(t, (unsigned)t->col_id, call->now_ms, &row->v[t->col_id]);
        ri->present |= CK_COL(t->col_id);
    }
    if (t->col_tenant >= 0 && row->v[t->col_tenant].kind == CK_V_NULL) {
        row->v[t->col_tenant].kind = CK_V_UUID;
        memcpy(row->v[t->col_tenant].uuid, call->tenant, 16);
    }
    if ((rc = check_role(ri, NULL, row)) != 0)
        return rc;
    return seal_phi(ri, row, &ri->present, true);
}

/* Optional map param: cursor and pair count, or NULL. */
static int map_param(struct ck_call *call, const char *name, const char **p, uint32_t *n)
{
    *p = NULL;
    *n = 0;
    const char *v = ck_param(call, name);
    if (!v)
        return 0;
    struct mp_obj o;
    if (mp_next(&v, call->params_end, &o) != 0 || (o.type != MP_MAP && o.type != MP_NIL))
        return ck_err_set(call->err, -CK_EBADREQ, "param %s: expected a map", name);
    if (o.type == MP_MAP) {
        *p = v;
        *n = o.v.n;
    }
    return 0;
}

static int conflict(struct ck_call *call, const struct ck_table *t, int col)
{
    ck_err_set(call->err, -CK_ECONFLICT, "check failed on %s.%s", t->name,
               col >= 0 ? t->cols[col].name : "?");
    ck_err_detail_str(call->err, "table", t->name);
    if (col >= 0)
        ck_err_detail_str(call->err, "column", t->cols[col].name);
    return -CK_ECONFLICT;
}

static int eval_check(struct ck_call *call, const char *p, uint32_t n, const struct ck_row *r)
{
    if (!p)
        return 0;
    int failed = -1;
    int rc = ck_cond_eval(r, p, call->params_end, n, &failed, call->err);
    if (rc < 0)
        return rc == -CK_EINVAL ? (call->err->code = -CK_EBADREQ) : rc;
    return rc ? 0 : conflict(call, r->t, failed);
}

int rowio_check(struct ck_call *call, const struct ck_row *r)
{
    const char *p;
    uint32_t n;
    int rc = map_param(call, "check", &p, &n);
    return rc ? rc : eval_check(call, p, n, r);
}

/* {column: n}: add n to numeric columns (txn.run's {"$add": n}). NULL stays NULL. */
static int apply_add(struct rowin *ri, const struct ck_row *old_row, struct ck_row *new_row,
                     ck_colmask *changed)
{
    struct ck_call *call = ri->call;
    const struct ck_table *t = ri->t;
    const char *p = ri->add, *end = call->params_end;
    for (uint32_t i = 0; i < ri->nadd; i++) {
        struct mp_obj k;
        if (mp_next(&p, end, &k) != 0 || k.type != MP_STR)
            return ck_err_set(call->err, -CK_EBADREQ, "add: keys are column names");
        int col = ck_column_find(t, k.v.str.ptr, k.v.str.len);
        if (col < 0 || (t->cols[col].type != CK_T_INT && t->cols[col].type != CK_T_DECIMAL)) {
            ck_err_set(call->err, col < 0 ? -CK_EUNKCOLUMN : -CK_EINVAL,
                       "$add needs a numeric column of %s", t->name);
            ck_err_detail_str(call->err, "table", t->name);
            ck_err_detail_strn(call->err, "column", k.v.str.ptr,
                               k.v.str.len > 64 ? 64 : k.v.str.len);
            return call->err->code;
        }
        struct ck_val delta;
        int rc = ck_val_from_wire(t, (unsigned)col, &p, end, &delta, call->err);
        if (rc)
            return rc;
        struct ck_val *v = &new_row->v[col];
        *v = old_row->v[col];
        if (v->kind == CK_V_NULL || delta.kind == CK_V_NULL) {
            v->kind = CK_V_NULL;
        } else if (__builtin_add_overflow(v->i, delta.i, &v->i) ||
                   (t->cols[col].type == CK_T_INT &&
                    (v->i < t->cols[col].min || v->i > t->cols[col].max))) {
            ck_err_set(call->err, -CK_EINVAL, "%s.%s: result of $add out of range", t->name,
                       t->cols[col].name);
            ck_err_detail_str(call->err, "table", t->name);
            ck_err_detail_str(call->err, "column", t->cols[col].name);
            return -CK_EINVAL;
        }
        *changed |= CK_COL(col);
    }
    return 0;
}

static int update_prepare(void *arg, const struct ck_row *old_row, struct ck_row *new_row,
                          ck_colmask *changed, struct ck_err *err)
{
    struct rowin *ri = arg;
    (void)err;
    int rc;
    if ((rc = check_protected(ri, *changed)))
        return rc;
    if (ck_rbac_row_hidden(ri->call->sess, old_row))
        return ck_err_set(ri->call->err, -CK_ENOTFOUND, "no such %s row", ri->t->name);
    /* $add, then the caller's check, before the row's own constraints (PROTOCOL). */
    if ((rc = apply_add(ri, old_row, new_row, changed)))
        return rc;
    if ((rc = eval_check(ri->call, ri->check, ri->ncheck, new_row)))
        return rc;
    if ((rc = check_clinic(ri, new_row, *changed, false)))
        return rc;
    if ((rc = check_role(ri, old_row, new_row)))
        return rc;
    ck_colmask present = *changed | ri->present;
    rc = seal_phi(ri, new_row, &present, false);
    *changed = present;
    return rc;
}

int rowio_update_hook(struct rowin *ri, struct ck_call *call, const struct ck_table *t,
                      struct ck_update_hook *hook)
{
    memset(ri, 0, sizeof *ri);
    ri->call = call;
    ri->t = t;
    hook->extra = extra_key;
    hook->arg = ri;
    hook->prepare = update_prepare;
    int rc = map_param(call, "add", &ri->add, &ri->nadd);
    return rc ? rc : map_param(call, "check", &ri->check, &ri->ncheck);
}

void rowio_free(struct rowin *ri)
{
    for (unsigned i = 0; i < 4; i++) {
        if (ri->sealed[i].data)
            sodium_memzero(ri->sealed[i].data, ri->sealed[i].cap);
        buf_free(&ri->sealed[i]);
    }
}

/* The key that sealed PHI column col of row r (named by its key id column). */
static const struct phi_key *row_key(struct ck_call *call, const struct ck_row *r, unsigned col)
{
    int kc = phi_key_col(r->t, col);
    const struct ck_val *kv = kc >= 0 ? &r->v[kc] : NULL;
    if (!kv || kv->kind != CK_V_STR)
        return NULL;
    return keys_find(&call->srv->keys, kv->p, kv->len);
}

/* Open one PHI column of a stored row into out (plain msgpack), with key k. */
static int open_phi(struct ck_call *call, const struct ck_row *r, unsigned col,
                    const struct phi_key *k, struct buf *out)
{
    const struct ck_table *t = r->t;
    if (!k)
        return ck_err_set(call->err, -CK_EINTERNAL, "%s.%s: its key is not in the PHI key file",
                          t->name, t->cols[col].name);
    const uint8_t *tenant = call->tenant;
    int rc = phi_open(k, tenant, t, r->v[t->col_id].uuid, col, r->v[col].p, r->v[col].len, out);
    if (rc == -CK_EINVAL)
        return ck_err_set(call->err, -CK_EINTERNAL,
                          "%s.%s cannot be decrypted: wrong key or tampered ciphertext", t->name,
                          t->cols[col].name);
    return rc;
}

/*
 * Seal the PHI fields given in ri into row. All encrypted columns that share a
 * key id column are (re)sealed together with the active key, so one key id
 * always describes the whole row. Patients also get their blind indexes.
 */
static int seal_phi(struct rowin *ri, struct ck_row *row, ck_colmask *present, bool insert)
{
    struct ck_call *call = ri->call;
    const struct ck_table *t = ri->t;
    if (!phi_table(t))
        return 0;
    if (ri->nphi == 0) {
        if (!insert)
            return 0;
        for (unsigned i = 0; i < t->ncols; i++) {
            if (phi_plain_name(t, i) && !t->cols[i].nullable) {
                ck_err_set(call->err, -CK_ENOTNULL, "%s.%s is required", t->name,
                           phi_plain_name(t, i));
                ck_err_detail_str(call->err, "table", t->name);
                ck_err_detail_str(call->err, "column", phi_plain_name(t, i));
                return -CK_ENOTNULL;
            }
        }
        return 0;
    }
    const struct phi_keyring *kr = keys_current(&call->srv->keys);
    const struct phi_key *active = phi_key_active(kr);
    if (!kr->loaded || !active)
        return ck_err_set(call->err, -CK_EINTERNAL, "the server has no PHI key file loaded");
    const uint8_t *id = row->v[t->col_id].uuid;
    /* The keys of the values sealed before: the loop below moves the key ids. */
    const struct phi_key *old_keys[CK_MAX_COLS] = {0};
    for (unsigned col = 0; col < t->ncols; col++) {
        if (phi_plain_name(t, col) && row->v[col].kind == CK_V_BIN)
            old_keys[col] = row_key(call, row, col);
    }
    struct buf plain = BUF_INIT;
    int rc = 0;
    unsigned slot = 0;
    for (unsigned col = 0; col < t->ncols && rc == 0; col++) {
        if (!phi_plain_name(t, col))
            continue;
        /* The plain value: given now, or the one sealed before (re-sealed with the
         * active key so the row's key id covers every column). */
        const char *pv = NULL;
        uint32_t plen = 0;
        for (unsigned i = 0; i < ri->nphi; i++) {
            if (ri->phi[i].col == (int)col) {
                pv = ri->phi[i].p;
                plen = ri->phi[i].len;
            }
        }
        buf_reset(&plain);
        if (!pv && row->v[col].kind == CK_V_BIN) {
            rc = open_phi(call, row, col, old_keys[col], &plain);
            pv = plain.data;
            plen = (uint32_t)plain.len;
        }
        if (rc || !pv)
            continue;
        *present |= CK_COL(col);
        if (plen == 1 && (uint8_t)pv[0] == 0xc0) {
            row->v[col].kind = CK_V_NULL;
            continue;
        }
        if (col == (unsigned)phi_plain_field(t, "demographics", 12)) {
            rc = phi_search_hashes(kr, call->tenant, pv, pv + plen, &ri->search, call->err);
            for (unsigned i = 0; i < PHI_NSEARCH && rc == 0; i++) {
                int hc = ck_column_find(t, phi_search_columns[i], strlen(phi_search_columns[i]));
                if (hc < 0)
                    continue;
                if (ri->search.has[i]) {
                    row->v[hc].kind = CK_V_STR;
                    row->v[hc].p = ri->search.hex[i];
                    row->v[hc].len = 64;
                } else {
                    row->v[hc].kind = CK_V_NULL;
                }
                *present |= CK_COL(hc);
            }
            if (rc)
                break;
        }
        struct buf *out = &ri->sealed[slot++];
        buf_reset(out);
        rc = phi_seal(active, call->tenant, t, id, col, pv, plen, out);
        if (rc)
            break;
        row->v[col].kind = CK_V_BIN;
        row->v[col].p = out->data;
        row->v[col].len = (uint32_t)out->len;
        int kc = phi_key_col(t, col);
        if (kc >= 0) {
            snprintf(ri->key_id, sizeof ri->key_id, "%s", active->id);
            row->v[kc].kind = CK_V_STR;
            row->v[kc].p = ri->key_id;
            row->v[kc].len = (uint32_t)strlen(ri->key_id);
            *present |= CK_COL(kc);
        }
    }
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    buf_free(&plain);
    return rc;
}

/* Per table: columns never shown (password_hash), and the PHI columns. */
static ck_colmask hidden_cols[256], phi_cols[256];
static pthread_once_t masks_once = PTHREAD_ONCE_INIT;

static void compute_masks(void)
{
    for (unsigned ti = 0; ti < ck_catalog.ntables; ti++) {
        const struct ck_table *t = &ck_catalog.tables[ti];
        hidden_cols[ti] = ck_table_hidden_cols(t);
        for (unsigned i = 0; i < t->ncols; i++) {
            if (phi_plain_name(t, i))
                phi_cols[ti] |= CK_COL(i);
        }
    }
}

int rowio_pack(struct ck_call *call, const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    const struct ck_session *s = call->sess;
    pthread_once(&masks_once, compute_masks);
    ck_colmask phi_mask = phi_cols[ck_table_index(t)];
    ck_colmask hide = hidden_cols[ck_table_index(t)];
    if (!phi_mask) {
        ck_row_pack_wire(call->pk, r, hide);
        return 0;
    }
    /* PHI columns go out as their plain fields, opened, for roles that may see them. */
    bool phi = s->phi || s->system_admin;
    ck_colmask all = t->ncols == 64 ? ~(ck_colmask)0 : CK_COL(t->ncols) - 1;
    unsigned n = t->ncols - (unsigned)__builtin_popcountll((hide | phi_mask) & all);
    if (phi)
        n += (unsigned)__builtin_popcountll(phi_mask);
    struct buf *b = mpw_buf(call->pk);
    mpw_map(b, n);
    struct buf plain = BUF_INIT;
    int rc = 0;
    for (unsigned i = 0; i < t->ncols && rc == 0; i++) {
        if (phi_mask & CK_COL(i)) {
            if (!phi)
                continue;
            const char *name = phi_plain_name(t, i);
            mpw_str(b, name, (uint32_t)strlen(name));
            if (r->v[i].kind != CK_V_BIN) {
                mpw_nil(b);
                continue;
            }
            buf_reset(&plain);
            rc = open_phi(call, r, i, row_key(call, r, i), &plain);
            if (rc == 0)
                buf_append(b, plain.data, plain.len);
            continue;
        }
        if (hide & CK_COL(i))
            continue;
        ck_column_pack_name(b, t, i);
        ck_val_pack_wire(call->pk, &t->cols[i], &r->v[i]);
    }
    if (plain.data)
        sodium_memzero(plain.data, plain.cap);
    buf_free(&plain);
    return rc;
}
