/* Session tokens and records. */
#include <string.h>

#include <sodium.h>

#include "rbac.h"
#include "rows.h"
#include "session.h"

void session_token_new(char hex_out[SESSION_TOKEN_HEX + 1], uint8_t hash_out[32])
{
    uint8_t token[SESSION_TOKEN_BYTES];
    randombytes_buf(token, sizeof token);
    sodium_bin2hex(hex_out, SESSION_TOKEN_HEX + 1, token, sizeof token);
    crypto_generichash(hash_out, 32, token, sizeof token, NULL, 0);
    sodium_memzero(token, sizeof token);
}

int session_token_hash(const char *hex, size_t len, uint8_t hash_out[32])
{
    uint8_t token[SESSION_TOKEN_BYTES];
    size_t n = 0;
    if (len != SESSION_TOKEN_HEX ||
        sodium_hex2bin(token, sizeof token, hex, len, NULL, &n, NULL) != 0 || n != sizeof token)
        return -CK_EUNAUTH;
    crypto_generichash(hash_out, 32, token, sizeof token, NULL, 0);
    sodium_memzero(token, sizeof token);
    return 0;
}

int session_store(MDB_txn *txn, struct kv *kv, const uint8_t hash[32], const uint8_t tenant[16],
                  const uint8_t user[16], int64_t expires_ms, int64_t now_ms)
{
    char mem[128];
    struct buf b;
    buf_init_borrowed(&b, mem, sizeof mem);
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    msgpack_pack_array(&pk, 4);
    msgpack_pack_bin(&pk, 16);
    msgpack_pack_bin_body(&pk, tenant, 16);
    msgpack_pack_bin(&pk, 16);
    msgpack_pack_bin_body(&pk, user, 16);
    msgpack_pack_int64(&pk, expires_ms);
    msgpack_pack_int64(&pk, now_ms);
    MDB_val k = {32, (void *)hash}, v = {b.len, b.data};
    int rc = b.oom ? -CK_ENOMEM : kv_error(mdb_put(txn, kv->sess, &k, &v, 0));
    buf_free(&b);
    return rc;
}

static int decode_record(const MDB_val *v, uint8_t tenant[16], uint8_t user[16], int64_t *expires)
{
    const char *p = v->mv_data, *end = p + v->mv_size;
    struct mp_obj o;
    if (mp_next(&p, end, &o) || o.type != MP_ARRAY || o.v.n != 4)
        return -CK_EINTERNAL;
    if (mp_next(&p, end, &o) || o.type != MP_BIN || o.v.str.len != 16)
        return -CK_EINTERNAL;
    memcpy(tenant, o.v.str.ptr, 16);
    if (mp_next(&p, end, &o) || o.type != MP_BIN || o.v.str.len != 16)
        return -CK_EINTERNAL;
    memcpy(user, o.v.str.ptr, 16);
    if (mp_next(&p, end, &o) || !mp_obj_int64(&o, expires))
        return -CK_EINTERNAL;
    return 0;
}

int session_load(MDB_txn *txn, struct kv *kv, const uint8_t hash[32], int64_t now_ms,
                 uint8_t tenant_out[16], uint8_t user_out[16], int64_t *expires_out)
{
    MDB_val k = {32, (void *)hash}, v;
    int rc = mdb_get(txn, kv->sess, &k, &v);
    if (rc == MDB_NOTFOUND)
        return -CK_EUNAUTH;
    if (rc)
        return kv_error(rc);
    int64_t expires;
    uint8_t tenant[16], user[16];
    rc = decode_record(&v, tenant, user, &expires);
    if (rc)
        return rc;
    if (expires <= now_ms)
        return -CK_EUNAUTH;
    memcpy(tenant_out, tenant, 16);
    memcpy(user_out, user, 16);
    *expires_out = expires;
    return 0;
}

int session_remove(MDB_txn *txn, struct kv *kv, const uint8_t hash[32])
{
    MDB_val k = {32, (void *)hash};
    int rc = mdb_del(txn, kv->sess, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : kv_error(rc);
}

int session_prune(MDB_txn *txn, struct kv *kv, int64_t now_ms, unsigned max)
{
    MDB_cursor *cur;
    int rc = kv_error(mdb_cursor_open(txn, kv->sess, &cur));
    if (rc)
        return rc;
    MDB_val k, v;
    unsigned n = 0;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (mrc == 0 && n < max) {
        uint8_t tenant[16], user[16];
        int64_t expires;
        if (decode_record(&v, tenant, user, &expires) != 0 || expires <= now_ms) {
            uint8_t deleted[32];
            if (k.mv_size != sizeof deleted) {
                mrc = MDB_CORRUPTED;
                break;
            }
            memcpy(deleted, k.mv_data, sizeof deleted);
            mrc = mdb_cursor_del(cur, 0);
            if (mrc)
                break;
            n++;
            /* Continue at the first record after the deleted one. */
            k = (MDB_val){sizeof deleted, deleted};
            mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            continue;
        }
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return mrc == MDB_NOTFOUND ? 0 : kv_error(mrc);
}

int session_bind_user(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16], const uint8_t user[16],
                      int64_t now_ms, struct ck_session *sess)
{
    const struct ck_table *users = ck_table_find("users", 5);
    struct ck_err err = CK_ERR_INIT;
    struct ck_ctx c = {.kv = kv, .txn = txn, .tenant = tenant, .now_ms = now_ms, .err = &err};
    struct ck_row r;
    int rc = ck_rows_get(&c, users, user, false, &r);
    ck_err_free(&err);
    if (rc == -CK_ENOTFOUND)
        return -CK_EUNAUTH;
    if (rc)
        return rc;
    const struct ck_column *status = &users->cols[ck_column_find(users, "status", 6)];
    int scol = ck_column_find(users, "status", 6);
    const char *st = status->enum_values[r.v[scol].i - 1];
    if (strcmp(st, "active") != 0 && strcmp(st, "invited") != 0)
        return -CK_EUNAUTH;
    int lcol = ck_column_find(users, "locked_until", 12);
    if (r.v[lcol].kind == CK_V_INT && r.v[lcol].i > now_ms)
        return -CK_EUNAUTH;
    int rcol = ck_column_find(users, "role", 4);
    memset(sess, 0, sizeof *sess);
    sess->authenticated = true;
    memcpy(sess->tenant, tenant, 16);
    memcpy(sess->user, user, 16);
    sess->has_user = true;
    sess->role = (uint8_t)r.v[rcol].i;
    if (users->col_clinic >= 0 && r.v[users->col_clinic].kind == CK_V_UUID) {
        memcpy(sess->clinic, r.v[users->col_clinic].uuid, 16);
        sess->has_clinic = true;
    }
    const struct ck_val *perms = &r.v[ck_column_find(users, "permissions", 11)];
    ck_rbac_apply(sess, sess->role, perms->kind == CK_V_JSON ? perms->p : NULL, perms->len);
    sess->validated_at_ms = now_ms;
    return 0;
}

int session_revalidate(struct kv *kv, struct ck_session *sess, int64_t now_ms, int64_t recheck_ms)
{
    if (sess->has_token && sess->expires_at_ms <= now_ms)
        return -CK_EUNAUTH;
    if (now_ms - sess->validated_at_ms < recheck_ms)
        return 0;
    MDB_txn *txn;
    int rc = kv_read_begin(kv, &txn);
    if (rc)
        return 0; /* cannot read now: keep the session, try again on the next request */
    uint8_t tenant[16], user[16];
    int64_t expires = sess->expires_at_ms;
    if (sess->has_token)
        rc = session_load(txn, kv, sess->token_hash, now_ms, tenant, user, &expires);
    struct ck_session fresh;
    if (rc == 0)
        rc = session_bind_user(txn, kv, sess->tenant, sess->user, now_ms, &fresh);
    kv_read_end(kv, txn);
    if (rc)
        return -CK_EUNAUTH;
    memcpy(fresh.token_hash, sess->token_hash, sizeof fresh.token_hash);
    fresh.has_token = sess->has_token;
    fresh.expires_at_ms = expires;
    *sess = fresh;
    return 0;
}
