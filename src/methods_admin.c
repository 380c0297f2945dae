/* System administration over the protocol: tenants, and the permission matrix. */
#include <string.h>

#include "method.h"
#include "ondelete.h"
#include "rbac.h"
#include "rowio.h"
#include "server.h"
#include "tenants.h"
#include "uuid.h"

/* sys.permissions {} -> {groups, roles: {role: {groups: {group: [actions]}, phi, clinic_scoped}}}
 */
int m_sys_permissions(struct ck_call *call)
{
    ck_rbac_pack_matrix(call->pk);
    return 0;
}

/* tenant.create {slug, name?, admin_email, admin_password} -> {tenant_id, admin_user_id}
 * (system administrators; the password was hashed on the thread pool, pwprep.c) */
int m_tenant_create(struct ck_call *call)
{
    const char *slug, *name, *email, *pw;
    uint32_t slen, nlen, elen, plen;
    int rc = ck_param_str(call, "slug", &slug, &slen);
    if (rc == 0)
        rc = ck_param_str_opt(call, "name", &name, &nlen);
    if (rc == 0)
        rc = ck_param_str(call, "admin_email", &email, &elen);
    if (rc == 0)
        rc = ck_param_str(call, "admin_password", &pw, &plen);
    if (rc)
        return rc;
    if (call->pw_next >= call->n_pw_hashes)
        return ck_err_set(call->err, -CK_EINTERNAL, "password was not prepared");
    char s[101], n[256], e[256];
    if (slen >= sizeof s || nlen >= sizeof n || elen >= sizeof e)
        return ck_err_set(call->err, -CK_EINVAL, "slug, name or email too long");
    memcpy(s, slug, slen);
    s[slen] = 0;
    memcpy(e, email, elen);
    e[elen] = 0;
    if (name) {
        memcpy(n, name, nlen);
        n[nlen] = 0;
    }
    struct tenant_spec spec = {.slug = s,
                               .name = name ? n : NULL,
                               .admin_email = e,
                               .admin_password_hash = call->pw_hashes[call->pw_next++]};
    struct ck_ctx c;
    rowio_ctx(call, &c);
    uint8_t tenant[16], admin[16];
    rc = ck_tenant_create(&c, &spec, tenant, admin);
    if (rc)
        return rc;
    msgpack_pack_map(call->pk, 2);
    mp_pack_cstr(call->pk, "tenant_id");
    ck_uuid_pack(call->pk, tenant);
    mp_pack_cstr(call->pk, "admin_user_id");
    ck_uuid_pack(call->pk, admin);
    return 0;
}

/* tenant.delete {tenant} -> {deleted, cascaded, set_null}: the tenant and everything it owns */
int m_tenant_delete(struct ck_call *call)
{
    const char *s;
    uint32_t len;
    uint8_t id[16];
    int rc = ck_param_str(call, "tenant", &s, &len);
    if (rc)
        return rc;
    rc = ck_tenant_resolve(call->txn, call->kv, s, len, id);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(call->err, rc, "no such tenant");
    if (rc)
        return rc;
    struct ck_ctx c;
    rowio_ctx(call, &c);
    c.tenant = kv_system_tenant;
    struct ck_delete_result res;
    rc = ck_delete_hard(&c, ck_table_find("tenants", 7), id, &res);
    if (rc == 0)
        ck_delete_result_pack(call->pk, &res);
    return rc;
}
