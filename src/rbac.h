/*
 * Roles and permissions.
 *
 * The permission matrix is data, in one place (rbac.c): for each role of the
 * DDL's users.role, the actions (read, write, delete) it may take on each table
 * group of the catalog (core, clinical, marketplace, pharmacy, billing,
 * AI/analytics, feature management, system), whether it may see PHI, and
 * whether it is confined to its own clinic. A user's users.permissions JSON adds
 * grants and denies on top:
 *
 *   {"grant": {"billing": ["read"]}, "deny": {"clinical": ["delete"]}}
 *
 * Denies win over grants and over the role. Rules that are not about groups:
 * tenants rows are read-only to tenant users (their own tenant only), and
 * performance_metrics belongs to system administrators.
 */
#ifndef CLINICKV_RBAC_H
#define CLINICKV_RBAC_H

#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "method.h"
#include "row.h"

enum ck_action { CK_ACT_READ = 0, CK_ACT_WRITE, CK_ACT_DELETE, CK_ACT__COUNT };

/* Permission bit of (group, action). */
#define CK_PERM(group, action) ((uint32_t)1 << ((group)*CK_ACT__COUNT + (action)))

/* Name of an action ("read", "write", "delete"). */
const char *ck_action_name(unsigned action);

/*
 * Fill sess->perms, sess->phi and sess->clinic_scoped for a user of role (1-based
 * ordinal of users.role), with the user's permissions JSON (msgpack, may be
 * NULL). Unknown groups or actions in the JSON are ignored.
 */
void ck_rbac_apply(struct ck_session *sess, unsigned role, const char *perm_json, uint32_t len);

/*
 * May the session take action on table t? 0, or -CK_EFORBIDDEN with a message in
 * err naming the role, action and group. System administrators may do anything.
 */
int ck_rbac_check(const struct ck_session *sess, const struct ck_table *t, unsigned action,
                  struct ck_err *err);

/* Pack {group: [actions]} of the session (auth.whoami). */
void ck_rbac_pack_permissions(msgpack_packer *pk, const struct ck_session *sess);

/* Pack the whole matrix: {roles: {role: {groups: {group: [actions]}, phi, clinic_scoped}}}
 * (sys.permissions). */
void ck_rbac_pack_matrix(msgpack_packer *pk);

/* Is row r outside the session's scope: another tenant's `tenants` row, or for
 * clinic-scoped sessions a row of another clinic? Such rows are reported as not
 * found. */
bool ck_rbac_row_hidden(const struct ck_session *sess, const struct ck_row *r);

#endif
