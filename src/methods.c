/* The method table, and the helpers handlers use to read their params. */
#include <string.h>

#include "method.h"
#include "server.h"
#include "uuid.h"

/* One static table: name, handler, where it runs and who may call it. */
const struct ck_method ck_methods[] = {
    {"sys.ping", m_sys_ping, NULL, M_READ},
    {"sys.info", m_sys_info, NULL, M_READ},
    {"schema.describe", m_schema_describe, NULL, M_READ},
    {"auth.login", NULL, m_auth_login, M_ASYNC},
    {"auth.resume", m_auth_resume, NULL, M_READ},
    {"auth.logout", m_auth_logout, NULL, M_WRITE | M_AUTH},
    {"auth.whoami", m_auth_whoami, NULL, M_READ | M_AUTH},
    {"row.get", m_row_get, NULL, M_READ | M_AUTH},
    {"row.insert", m_row_insert, NULL, M_WRITE | M_AUTH},
    {"row.update", m_row_update, NULL, M_WRITE | M_AUTH},
    {"row.delete", m_row_delete, NULL, M_WRITE | M_AUTH},
    {"row.restore", m_row_restore, NULL, M_WRITE | M_AUTH},
    /* queries (storage/query.h) */
    {"row.query", m_row_query, NULL, M_READ | M_AUTH},
    /* transactions and the change log */
    {"txn.run", m_txn_run, NULL, M_WRITE | M_AUTH},
    {"changes.since", m_changes_since, NULL, M_READ | M_AUTH},
    /* system administration */
    {"sys.permissions", m_sys_permissions, NULL, M_READ},
    {"tenant.create", m_tenant_create, NULL, M_WRITE | M_AUTH | M_ADMIN},
    {"tenant.delete", m_tenant_delete, NULL, M_WRITE | M_AUTH | M_ADMIN},
};
const unsigned ck_nmethods = sizeof ck_methods / sizeof ck_methods[0];

const struct ck_method *ck_method_find(const char *name, size_t len)
{
    for (unsigned i = 0; i < ck_nmethods; i++) {
        if (strlen(ck_methods[i].name) == len && memcmp(ck_methods[i].name, name, len) == 0)
            return &ck_methods[i];
    }
    return NULL;
}

/* ------------------------------------------------------------------ params */

const char *ck_param(const struct ck_call *call, const char *name)
{
    const char *v;
    if (!call->params || mp_map_find(call->params, call->params_end, call->nparams, name, &v) != 0)
        return NULL;
    return v;
}

static int bad_param(struct ck_call *call, const char *name, const char *why)
{
    ck_err_set(call->err, -CK_EBADREQ, "param %s: %s", name, why);
    ck_err_detail_str(call->err, "param", name);
    return -CK_EBADREQ;
}

int ck_param_str_opt(struct ck_call *call, const char *name, const char **s, uint32_t *len)
{
    const char *p = ck_param(call, name);
    *s = NULL;
    *len = 0;
    if (!p)
        return 0;
    struct mp_obj o;
    if (mp_next(&p, call->params_end, &o) != 0)
        return bad_param(call, name, "malformed");
    if (o.type == MP_NIL)
        return 0;
    if (o.type != MP_STR && o.type != MP_BIN)
        return bad_param(call, name, "expected a string");
    *s = o.v.str.ptr;
    *len = o.v.str.len;
    return 0;
}

int ck_param_str(struct ck_call *call, const char *name, const char **s, uint32_t *len)
{
    int rc = ck_param_str_opt(call, name, s, len);
    if (rc == 0 && !*s)
        return bad_param(call, name, "required");
    return rc;
}

int ck_param_bool(struct ck_call *call, const char *name, bool def, bool *out)
{
    const char *p = ck_param(call, name);
    *out = def;
    if (!p)
        return 0;
    struct mp_obj o;
    if (mp_next(&p, call->params_end, &o) != 0)
        return bad_param(call, name, "malformed");
    if (o.type == MP_NIL)
        return 0;
    if (o.type != MP_BOOL)
        return bad_param(call, name, "expected a boolean");
    *out = o.v.b;
    return 0;
}

int ck_param_uint(struct ck_call *call, const char *name, uint64_t def, uint64_t *out)
{
    const char *p = ck_param(call, name);
    *out = def;
    if (!p)
        return 0;
    struct mp_obj o;
    if (mp_next(&p, call->params_end, &o) != 0)
        return bad_param(call, name, "malformed");
    if (o.type == MP_NIL)
        return 0;
    if (o.type != MP_UINT)
        return bad_param(call, name, "expected a non-negative integer");
    *out = o.v.u;
    return 0;
}

int ck_param_map(struct ck_call *call, const char *name, const char **p_out, uint32_t *npairs)
{
    const char *p = ck_param(call, name);
    if (!p)
        return bad_param(call, name, "required");
    struct mp_obj o;
    if (mp_next(&p, call->params_end, &o) != 0 || o.type != MP_MAP)
        return bad_param(call, name, "expected a map");
    *p_out = p;
    *npairs = o.v.n;
    return 0;
}

int ck_param_table(struct ck_call *call, const struct ck_table **t_out)
{
    const char *name;
    uint32_t len;
    int rc = ck_param_str(call, "table", &name, &len);
    if (rc)
        return rc;
    const struct ck_table *t = ck_table_find(name, len);
    if (!t || (t->optional && !call->srv->pharmacy)) {
        ck_err_set(call->err, -CK_EUNKTABLE, "unknown table %.*s", (int)(len > 64 ? 64 : len),
                   name);
        ck_err_detail_strn(call->err, "table", name, len > 64 ? 64 : len);
        return -CK_EUNKTABLE;
    }
    *t_out = t;
    return 0;
}

int ck_param_id(struct ck_call *call, const char *name, uint8_t id[16])
{
    const char *s;
    uint32_t len;
    int rc = ck_param_str(call, name, &s, &len);
    if (rc)
        return rc;
    if (ck_uuid_parse(s, len, id) != 0)
        return bad_param(call, name, "not a UUID");
    return 0;
}
