/*
 * auth.login, auth.resume, auth.logout, auth.whoami.
 *
 * Login verifies an Argon2id hash, which costs tens of milliseconds and 64 MiB by
 * design, so it runs on libuv's thread pool, never on the loop. The session is
 * then stored by the writer thread, and only once it is durable does the client
 * get its token. Failed logins are counted on the user's row; after
 * AUTH_MAX_FAILURES in a row the account is locked for AUTH_LOCK_MS.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conn.h"
#include "dispatch.h"
#include "index.h"
#include "rbac.h"
#include "rows.h"
#include "rpc.h"
#include "server.h"
#include "session.h"
#include "tenants.h"
#include "timeval.h"
#include "uuid.h"

#define AUTH_MAX_FAILURES 5
#define AUTH_LOCK_MS      (15 * 60 * 1000LL)
#define AUTH_MAX_PASSWORD 1024

struct login {
    struct conn *c;
    uint32_t msgid;
    uv_work_t work;
    char password[AUTH_MAX_PASSWORD];
    size_t password_len;
    bool user_found;
    uint8_t tenant[16];
    uint8_t user[16];
    char hash[crypto_pwhash_STRBYTES];
    bool verified;
    struct wjob job;
};

/* A valid hash to verify against when the user does not exist, so that a refused
 * login takes as long whatever the reason. */
static char dummy_hash[crypto_pwhash_STRBYTES];
static uv_once_t dummy_once = UV_ONCE_INIT;

static void make_dummy_hash(void)
{
    if (crypto_pwhash_str(dummy_hash, "clinickv", 8, crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        dummy_hash[0] = 0; /* out of memory: verification below simply fails */
}

static void pack_user(msgpack_packer *pk, const struct ck_session *s)
{
    const struct ck_table *users = ck_table_find("users", 5);
    const struct ck_column *role = &users->cols[ck_column_find(users, "role", 4)];
    msgpack_pack_map(pk, 4);
    mp_pack_cstr(pk, "id");
    ck_uuid_pack(pk, s->user);
    mp_pack_cstr(pk, "tenant_id");
    ck_uuid_pack(pk, s->tenant);
    mp_pack_cstr(pk, "clinic_id");
    ck_uuid_pack(pk, s->has_clinic ? s->clinic : NULL);
    mp_pack_cstr(pk, "role");
    mp_pack_cstr(pk, s->role >= 1 && s->role <= role->n_enum ? role->enum_values[s->role - 1] : "");
}

/* {token, expires_at, user} */
static void pack_session_result(msgpack_packer *pk, const char *token, const struct ck_session *s)
{
    char ts[25];
    msgpack_pack_map(pk, 3);
    mp_pack_cstr(pk, "token");
    mp_pack_str(pk, token, SESSION_TOKEN_HEX);
    mp_pack_cstr(pk, "expires_at");
    ck_ts_format(s->expires_at_ms, ts);
    mp_pack_str(pk, ts, 24);
    mp_pack_cstr(pk, "user");
    pack_user(pk, s);
}

/* ------------------------------------------------------------------ login: writer step */

static int users_col(const char *name)
{
    return ck_column_find(ck_table_find("users", 5), name, strlen(name));
}

/* Record the outcome of a login on the user's row: last_login_at and a reset
 * failure count, or one more failure (and a lock when there are too many). */
static int record_login(struct ck_call *call, const uint8_t tenant[16], const uint8_t user[16],
                        bool success)
{
    const struct ck_table *users = ck_table_find("users", 5);
    struct ck_err err = CK_ERR_INIT;
    struct ck_ctx c = {.kv = call->kv,
                       .txn = call->txn,
                       .tenant = tenant,
                       .user = NULL,
                       .now_ms = call->now_ms,
                       .flags = CK_W_KEEP_META,
                       .log = call->log,
                       .err = &err};
    struct buf copy = BUF_INIT, stored = BUF_INIT;
    struct ck_row old_row, new_row;
    MDB_val v;
    int rc = ck_rows_get_raw(&c, users, user, &v);
    if (rc == 0)
        rc = ck_rows_decode_copy(users, &v, &copy, &old_row);
    if (rc == 0) {
        new_row = old_row;
        int failed = users_col("failed_login_attempts");
        ck_colmask changed = CK_COL(failed);
        if (success) {
            new_row.v[failed].i = 0;
            int last = users_col("last_login_at");
            new_row.v[last].kind = CK_V_INT;
            new_row.v[last].i = call->now_ms;
            changed |= CK_COL(last);
        } else {
            int64_t n = old_row.v[failed].i + 1;
            new_row.v[failed].i = n > 65535 ? 65535 : n;
            if (n >= AUTH_MAX_FAILURES) {
                int locked = users_col("locked_until");
                new_row.v[locked].kind = CK_V_INT;
                new_row.v[locked].i = call->now_ms + AUTH_LOCK_MS;
                new_row.v[failed].i = 0;
                changed |= CK_COL(locked);
            }
        }
        rc = ck_rows_replace(&c, &old_row, &new_row, changed, &stored);
    }
    buf_free(&copy);
    buf_free(&stored);
    ck_err_free(&err);
    return rc;
}

static int login_commit(struct wjob *job, struct ck_call *call)
{
    struct login *l = job->arg;
    if (!l->user_found || !l->verified) {
        if (l->user_found && record_login(call, l->tenant, l->user, false) == 0)
            call->commit_on_error = true; /* the failure counts although the login is refused */
        return ck_err_set(call->err, -CK_EUNAUTH, "login refused");
    }
    struct ck_session s;
    int rc = session_bind_user(call->txn, call->kv, l->tenant, l->user, call->now_ms, &s);
    if (rc == -CK_EUNAUTH)
        return ck_err_set(call->err, rc, "login refused");
    if (rc)
        return ck_err_set(call->err, rc, "cannot read the user");
    char token[SESSION_TOKEN_HEX + 1];
    session_token_new(token, s.token_hash);
    s.has_token = true;
    s.expires_at_ms = call->now_ms + call->srv->opt.session_ttl_ms;
    rc = session_store(call->txn, call->kv, s.token_hash, l->tenant, l->user, s.expires_at_ms,
                       call->now_ms);
    if (rc == 0)
        rc = record_login(call, l->tenant, l->user, true);
    if (rc) {
        sodium_memzero(token, sizeof token);
        return ck_err_set(call->err, rc, "cannot store the session");
    }
    pack_session_result(call->pk, token, &s);
    sodium_memzero(token, sizeof token);
    call->session_changed = true;
    call->new_session = s;
    return 0;
}

static void login_free(struct login *l)
{
    sodium_memzero(l, sizeof *l);
    free(l);
}

static void login_done(struct wjob *job)
{
    struct login *l = job->arg;
    struct conn *c = l->c;
    /* A refused login still commits its failure count; the client sees the error. */
    if (!c->closing) {
        conn_send(c, job->reply.data, job->reply.len);
        if (job->status == 0 && job->session_changed)
            c->sess = job->new_session;
    }
    buf_free(&job->reply);
    c->async_pending--;
    login_free(l);
    conn_job_done(c);
}

/* ------------------------------------------------------------------ login: thread pool step */

static void login_verify(uv_work_t *w)
{
    struct login *l = w->data;
    uv_once(&dummy_once, make_dummy_hash);
    const char *hash = l->user_found && l->hash[0] ? l->hash : dummy_hash;
    bool ok = crypto_pwhash_str_verify(hash, l->password, l->password_len) == 0;
    l->verified = ok && l->user_found && l->hash[0];
    sodium_memzero(l->password, sizeof l->password);
}

static void login_verified(uv_work_t *w, int status)
{
    struct login *l = w->data;
    struct conn *c = l->c;
    if (status != 0 || c->srv->stopping) {
        struct ck_err err = CK_ERR_INIT;
        ck_err_set(&err, -CK_EBUSY, "server shutting down");
        if (!c->closing)
            dispatch_send_error(c, l->msgid, &err);
        ck_err_free(&err);
        c->async_pending--;
        login_free(l);
        conn_job_done(c);
        return;
    }
    l->job.run = login_commit;
    l->job.done = login_done;
    l->job.owner = c;
    l->job.arg = l;
    l->job.msgid = l->msgid;
    l->job.session = c->sess;
    writer_submit(&c->srv->writer, &l->job);
}

/* ------------------------------------------------------------------ login: loop step */

/* Find the user's id and password hash. Absent users leave user_found false. */
static int find_user(struct ck_call *call, struct login *l, const char *tenant, uint32_t tlen,
                     const char *email, uint32_t elen)
{
    MDB_txn *txn;
    int rc = kv_read_begin(call->kv, &txn);
    if (rc)
        return rc;
    const struct ck_table *users = ck_table_find("users", 5);
    if (ck_tenant_resolve(txn, call->kv, tenant, tlen, l->tenant) == 0) {
        const struct ck_index *ix = ck_index_find(users, "unique_tenant_email", 19);
        struct ck_val vals[2] = {{.kind = CK_V_NULL}, {.kind = CK_V_STR, .len = elen, .p = email}};
        if (ck_index_find_unique(txn, call->kv, l->tenant, users, ix, vals, l->user) == 0) {
            struct ck_err err = CK_ERR_INIT;
            struct ck_ctx c = {.kv = call->kv, .txn = txn, .tenant = l->tenant, .err = &err};
            struct ck_row r;
            if (ck_rows_get(&c, users, l->user, false, &r) == 0) {
                const struct ck_val *h = &r.v[users_col("password_hash")];
                if (h->kind == CK_V_STR && h->len < sizeof l->hash) {
                    memcpy(l->hash, h->p, h->len);
                    l->hash[h->len] = 0;
                }
                l->user_found = true;
            }
            ck_err_free(&err);
        }
    }
    kv_read_end(call->kv, txn);
    return 0;
}

static void answer(struct conn *c, uint32_t msgid, struct ck_err *err)
{
    dispatch_send_error(c, msgid, err);
    ck_err_free(err);
}

/* auth.login {tenant, email, password} -> {token, expires_at, user}
 * auth.login {admin_key}               -> {system_admin: true} (extension) */
void m_auth_login(struct conn *c, uint32_t msgid, struct ck_call *call)
{
    struct ck_err err = CK_ERR_INIT;
    call->err = &err;
    const char *key, *tenant, *email, *password;
    uint32_t klen, tlen, elen, plen;
    if (ck_param_str_opt(call, "admin_key", &key, &klen) != 0)
        return answer(c, msgid, &err);
    if (key) {
        if (!adminkey_matches(c->srv->admin_key, key, klen)) {
            ck_err_set(&err, -CK_EUNAUTH, "login refused");
            return answer(c, msgid, &err);
        }
        memset(&c->sess, 0, sizeof c->sess);
        c->sess.authenticated = c->sess.system_admin = true;
        char mem[64];
        struct buf b;
        buf_init_borrowed(&b, mem, sizeof mem);
        msgpack_packer pk;
        mp_packer_init(&pk, &b);
        rpc_pack_result_header(&pk, msgid);
        msgpack_pack_map(&pk, 1);
        mp_pack_cstr(&pk, "system_admin");
        msgpack_pack_true(&pk);
        conn_send(c, b.data, b.len);
        buf_free(&b);
        ck_err_free(&err);
        return;
    }
    if (ck_param_str(call, "tenant", &tenant, &tlen) ||
        ck_param_str(call, "email", &email, &elen) ||
        ck_param_str(call, "password", &password, &plen))
        return answer(c, msgid, &err);
    if (plen >= AUTH_MAX_PASSWORD) {
        ck_err_set(&err, -CK_EUNAUTH, "login refused");
        return answer(c, msgid, &err);
    }
    struct login *l = calloc(1, sizeof *l);
    if (!l) {
        ck_err_set(&err, -CK_EBUSY, "out of memory: retry later");
        return answer(c, msgid, &err);
    }
    l->c = c;
    l->msgid = msgid;
    memcpy(l->password, password, plen);
    l->password_len = plen;
    int rc = find_user(call, l, tenant, tlen, email, elen);
    if (rc) {
        login_free(l);
        ck_err_set(&err, rc, "cannot look up the user");
        return answer(c, msgid, &err);
    }
    l->work.data = l;
    conn_job_start(c);
    c->async_pending++;
    if (uv_queue_work(&c->srv->loop, &l->work, login_verify, login_verified) != 0) {
        c->async_pending--;
        login_free(l);
        ck_err_set(&err, -CK_EBUSY, "cannot verify now: retry later");
        dispatch_send_error(c, msgid, &err);
        conn_job_done(c);
    }
    ck_err_free(&err);
}

/* ------------------------------------------------------------------ resume, logout, whoami */

/* auth.resume {token} -> {token, expires_at, user} */
int m_auth_resume(struct ck_call *call)
{
    const char *token;
    uint32_t len;
    int rc = ck_param_str(call, "token", &token, &len);
    if (rc)
        return rc;
    struct ck_session s;
    uint8_t hash[32], tenant[16], user[16];
    int64_t expires;
    rc = session_token_hash(token, len, hash);
    if (rc == 0)
        rc = session_load(call->txn, call->kv, hash, call->now_ms, tenant, user, &expires);
    if (rc == 0)
        rc = session_bind_user(call->txn, call->kv, tenant, user, call->now_ms, &s);
    if (rc == -CK_EUNAUTH)
        return ck_err_set(call->err, rc, "no such session, or it expired");
    if (rc)
        return ck_err_set(call->err, rc, "cannot resume the session");
    memcpy(s.token_hash, hash, 32);
    s.has_token = true;
    s.expires_at_ms = expires;
    pack_session_result(call->pk, token, &s);
    call->session_changed = true;
    call->new_session = s;
    return 0;
}

/* auth.logout {} -> true */
int m_auth_logout(struct ck_call *call)
{
    if (call->sess->has_token) {
        int rc = session_remove(call->txn, call->kv, call->sess->token_hash);
        if (rc)
            return ck_err_set(call->err, rc, "cannot remove the session");
    }
    msgpack_pack_true(call->pk);
    call->session_changed = true;
    memset(&call->new_session, 0, sizeof call->new_session);
    return 0;
}

/* auth.whoami {} -> {user_id, tenant_id, clinic_id, role, system_admin, permissions} */
int m_auth_whoami(struct ck_call *call)
{
    const struct ck_session *s = call->sess;
    msgpack_packer *pk = call->pk;
    msgpack_pack_map(pk, 6);
    mp_pack_cstr(pk, "user_id");
    ck_uuid_pack(pk, s->has_user ? s->user : NULL);
    mp_pack_cstr(pk, "tenant_id");
    ck_uuid_pack(pk, s->system_admin ? NULL : s->tenant);
    mp_pack_cstr(pk, "clinic_id");
    ck_uuid_pack(pk, s->has_clinic ? s->clinic : NULL);
    const struct ck_table *users = ck_table_find("users", 5);
    const struct ck_column *role = &users->cols[users_col("role")];
    mp_pack_cstr(pk, "role");
    if (s->role >= 1 && s->role <= role->n_enum)
        mp_pack_cstr(pk, role->enum_values[s->role - 1]);
    else
        msgpack_pack_nil(pk);
    mp_pack_cstr(pk, "system_admin");
    s->system_admin ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    mp_pack_cstr(pk, "permissions");
    ck_rbac_pack_permissions(pk, s);
    return 0;
}
