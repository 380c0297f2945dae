/* The permission matrix and its checks. */
#include <string.h>

#include "rbac.h"

static const char *const action_names[CK_ACT__COUNT] = {"read", "write", "delete"};

const char *ck_action_name(unsigned action)
{
    return action < CK_ACT__COUNT ? action_names[action] : "?";
}

/* Actions as a 3-bit mask per group. */
#define R   1u
#define W   2u
#define D   4u
#define RW  (R | W)
#define RWD (R | W | D)

struct role_rule {
    const char *role;
    uint8_t groups[CK_G__COUNT]; /* core clinical marketplace pharmacy billing ai features system */
    bool phi;
    bool clinic_scoped;
};

/* The matrix. Roles appear in users.role order. */
/* clang-format off: a table, aligned by hand */
static const struct role_rule rules[] = {
    /* role                  core clin mkt  pharm bill ai   feat sys   phi    clinic */
    {"super_admin", {RWD, RWD, RWD, RWD, RWD, RWD, RWD, RWD}, true, false},
    {"tenant_admin", {RWD, RWD, RWD, RWD, RWD, RWD, RWD, RWD}, true, false},
    {"clinic_admin", {RWD, RWD, RWD, RWD, RWD, R, R, RW}, true, true},
    {"dentist", {RW, RWD, R, RW, R, R, R, R}, true, true},
    {"hygienist", {RW, RW, R, R, 0, R, R, 0}, true, true},
    {"dental_assistant", {RW, R, RW, R, 0, 0, R, 0}, true, true},
    {"receptionist", {RW, 0, 0, 0, R, 0, R, 0}, true, true},
    {"billing_specialist", {R, 0, R, R, RWD, R, R, 0}, true, true},
    {"pharmacist", {R, R, R, RWD, RW, 0, R, 0}, true, true},
    {"pharmacy_technician", {R, 0, R, RW, R, 0, R, 0}, false, true},
    {"analyst", {R, R, R, R, R, RWD, R, R}, false, false},
    {"support", {R, 0, R, R, R, R, R, RWD}, false, false},
};
/* clang-format on */

/* Writing users (staff accounts) takes an administrator, whatever the core grant. */
static bool is_admin_role(const char *role)
{
    return !strcmp(role, "super_admin") || !strcmp(role, "tenant_admin") ||
           !strcmp(role, "clinic_admin");
}

static const struct role_rule *rule_for(unsigned role)
{
    const struct ck_table *users = ck_table_find("users", 5);
    const struct ck_column *c = &users->cols[ck_column_find(users, "role", 4)];
    if (role < 1 || role > c->n_enum)
        return NULL;
    const char *name = c->enum_values[role - 1];
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (!strcmp(rules[i].role, name))
            return &rules[i];
    }
    return NULL;
}

static int group_by_name(const char *s, uint32_t len)
{
    for (unsigned g = 0; g < CK_G__COUNT; g++) {
        const char *n = ck_group_name(g);
        if (strlen(n) == len && !memcmp(n, s, len))
            return (int)g;
    }
    return -1;
}

static int action_by_name(const char *s, uint32_t len)
{
    for (unsigned a = 0; a < CK_ACT__COUNT; a++) {
        if (strlen(action_names[a]) == len && !memcmp(action_names[a], s, len))
            return (int)a;
    }
    return -1;
}

/* Read {group: [actions]} into a permission mask. */
static uint32_t read_grants(const char **p, const char *end)
{
    struct mp_obj m, k, a, x;
    uint32_t mask = 0;
    if (mp_next(p, end, &m) != 0)
        return 0;
    if (m.type != MP_MAP) {
        mp_skip(p, end);
        return 0;
    }
    for (uint32_t i = 0; i < m.v.n; i++) {
        if (mp_next(p, end, &k) != 0)
            return mask;
        int g = k.type == MP_STR ? group_by_name(k.v.str.ptr, k.v.str.len) : -1;
        const char *val = *p;
        if (mp_next(p, end, &a) != 0)
            return mask;
        if (a.type != MP_ARRAY) {
            *p = val;
            mp_skip(p, end);
            continue;
        }
        for (uint32_t j = 0; j < a.v.n; j++) {
            const char *el = *p;
            if (mp_next(p, end, &x) != 0)
                return mask;
            if (x.type == MP_STR) {
                int act = action_by_name(x.v.str.ptr, x.v.str.len);
                if (g >= 0 && act >= 0)
                    mask |= CK_PERM(g, act);
            } else {
                *p = el;
                mp_skip(p, end);
            }
        }
    }
    return mask;
}

void ck_rbac_apply(struct ck_session *sess, unsigned role, const char *perm_json, uint32_t len)
{
    const struct role_rule *r = rule_for(role);
    sess->perms = 0;
    sess->phi = false;
    sess->clinic_scoped = false;
    if (!r)
        return;
    for (unsigned g = 0; g < CK_G__COUNT; g++) {
        for (unsigned a = 0; a < CK_ACT__COUNT; a++) {
            if (r->groups[g] & (1u << a))
                sess->perms |= CK_PERM(g, a);
        }
    }
    sess->phi = r->phi;
    sess->clinic_scoped = r->clinic_scoped && sess->has_clinic;
    if (!perm_json)
        return;
    const char *p = perm_json, *end = p + len;
    struct mp_obj m, k;
    if (mp_next(&p, end, &m) != 0 || m.type != MP_MAP)
        return;
    uint32_t grant = 0, deny = 0;
    for (uint32_t i = 0; i < m.v.n; i++) {
        if (mp_next(&p, end, &k) != 0)
            return;
        if (mp_obj_streq(&k, "grant"))
            grant |= read_grants(&p, end);
        else if (mp_obj_streq(&k, "deny"))
            deny |= read_grants(&p, end);
        else if (mp_skip(&p, end) != 0)
            return;
    }
    sess->perms = (sess->perms | grant) & ~deny;
}

static const char *role_name(unsigned role)
{
    const struct role_rule *r = rule_for(role);
    return r ? r->role : "unknown";
}

int ck_rbac_check(const struct ck_session *sess, const struct ck_table *t, unsigned action,
                  struct ck_err *err)
{
    if (sess->system_admin)
        return 0;
    bool ok = (sess->perms & CK_PERM(t->group, action)) != 0;
    if (ok && t->col_tenant < 0) {
        /* tenants: readable by its users; performance_metrics: platform data. */
        ok = action == CK_ACT_READ && t->nrefs > 0;
    }
    if (ok && action != CK_ACT_READ && !strcmp(t->name, "users"))
        ok = is_admin_role(role_name(sess->role));
    if (ok)
        return 0;
    ck_err_set(err, -CK_EFORBIDDEN, "role %s may not %s %s (%s)", role_name(sess->role),
               ck_action_name(action), t->name, ck_group_name(t->group));
    ck_err_detail_str(err, "role", role_name(sess->role));
    ck_err_detail_str(err, "action", ck_action_name(action));
    ck_err_detail_str(err, "table", t->name);
    ck_err_detail_str(err, "group", ck_group_name(t->group));
    return -CK_EFORBIDDEN;
}

static void pack_actions(msgpack_packer *pk, unsigned mask)
{
    unsigned n = 0;
    for (unsigned a = 0; a < CK_ACT__COUNT; a++)
        n += (mask >> a) & 1;
    msgpack_pack_array(pk, n);
    for (unsigned a = 0; a < CK_ACT__COUNT; a++) {
        if ((mask >> a) & 1)
            mp_pack_cstr(pk, action_names[a]);
    }
}

void ck_rbac_pack_permissions(msgpack_packer *pk, const struct ck_session *sess)
{
    msgpack_pack_map(pk, CK_G__COUNT);
    for (unsigned g = 0; g < CK_G__COUNT; g++) {
        mp_pack_cstr(pk, ck_group_name(g));
        unsigned mask = sess->system_admin ? 7u : (sess->perms >> (g * CK_ACT__COUNT)) & 7u;
        pack_actions(pk, mask);
    }
}

void ck_rbac_pack_matrix(msgpack_packer *pk)
{
    size_t n = sizeof rules / sizeof rules[0];
    msgpack_pack_map(pk, 2);
    mp_pack_cstr(pk, "groups");
    msgpack_pack_array(pk, CK_G__COUNT);
    for (unsigned g = 0; g < CK_G__COUNT; g++)
        mp_pack_cstr(pk, ck_group_name(g));
    mp_pack_cstr(pk, "roles");
    msgpack_pack_map(pk, n);
    for (size_t i = 0; i < n; i++) {
        mp_pack_cstr(pk, rules[i].role);
        msgpack_pack_map(pk, 3);
        mp_pack_cstr(pk, "groups");
        msgpack_pack_map(pk, CK_G__COUNT);
        for (unsigned g = 0; g < CK_G__COUNT; g++) {
            mp_pack_cstr(pk, ck_group_name(g));
            pack_actions(pk, rules[i].groups[g]);
        }
        mp_pack_cstr(pk, "phi");
        rules[i].phi ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
        mp_pack_cstr(pk, "clinic_scoped");
        rules[i].clinic_scoped ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    }
}

bool ck_rbac_row_hidden(const struct ck_session *sess, const struct ck_row *r)
{
    const struct ck_table *t = r->t;
    if (sess->system_admin)
        return false;
    if (t->col_tenant < 0) {
        /* Global tables: of `tenants`, a tenant's users see their own tenant's row only. */
        return memcmp(r->v[t->col_id].uuid, sess->tenant, 16) != 0;
    }
    int cc = ck_table_clinic_col(t);
    if (!sess->clinic_scoped || cc < 0)
        return false;
    const struct ck_val *v = &r->v[cc];
    if (v->kind != CK_V_UUID) {
        /* users.clinic_id NULL: a tenant-wide account, visible to clinic staff. */
        return false;
    }
    return memcmp(v->uuid, sess->clinic, 16) != 0;
}
