/* Sessions (src/session.h): tokens stored only as hashes, expiry, pruning, binding. */
#include <check.h>
#include <string.h>

#include "ckfix.h"
#include "ckrun.h"
#include "session.h"

static struct ckfix f;

static void setup(void)
{
    ckfix_setup(&f);
}

static void teardown(void)
{
    ckfix_teardown(&f);
}

START_TEST(token_is_stored_only_as_its_hash)
{
    char hex[SESSION_TOKEN_HEX + 1];
    uint8_t hash[32], again[32];
    session_token_new(hex, hash);
    ck_assert_uint_eq(strlen(hex), SESSION_TOKEN_HEX);
    ck_assert_int_eq(session_token_hash(hex, strlen(hex), again), 0);
    ck_assert_mem_eq(hash, again, 32);
    /* The hash is not the token's bytes. */
    uint8_t raw[32];
    for (int i = 0; i < 32; i++) {
        unsigned v;
        sscanf(hex + 2 * i, "%2x", &v);
        raw[i] = (uint8_t)v;
    }
    ck_assert(memcmp(raw, hash, 32) != 0);
    ck_assert_int_eq(session_token_hash("abc", 3, again), -CK_EUNAUTH);
    ck_assert_int_eq(session_token_hash("zz", 2, again), -CK_EUNAUTH);
}
END_TEST

START_TEST(expired_sessions_fail_and_are_pruned)
{
    uint8_t tenant[16] = {1}, user[16] = {2};
    uint8_t live[32], dead[32];
    char hex[SESSION_TOKEN_HEX + 1];
    session_token_new(hex, live);
    session_token_new(hex, dead);
    ckfix_begin(&f, NULL);
    ck_assert_int_eq(session_store(f.txn, &f.kv, live, tenant, user, 5000, 1000), 0);
    ck_assert_int_eq(session_store(f.txn, &f.kv, dead, tenant, user, 2000, 1000), 0);
    ckfix_commit(&f);

    ckfix_begin(&f, NULL);
    uint8_t t[16], u[16];
    int64_t exp;
    ck_assert_int_eq(session_load(f.txn, &f.kv, live, 3000, t, u, &exp), 0);
    ck_assert_int_eq(exp, 5000);
    ck_assert_mem_eq(t, tenant, 16);
    ck_assert_mem_eq(u, user, 16);
    /* Past its expiry a session is as good as absent. */
    ck_assert_int_eq(session_load(f.txn, &f.kv, dead, 3000, t, u, &exp), -CK_EUNAUTH);
    ck_assert_int_eq(session_prune(f.txn, &f.kv, 3000, 100), 0);
    MDB_val k = {32, dead}, v;
    ck_assert_int_eq(mdb_get(f.txn, f.kv.sess, &k, &v), MDB_NOTFOUND);
    k.mv_data = live;
    ck_assert_int_eq(mdb_get(f.txn, f.kv.sess, &k, &v), 0);
    /* Logout removes it; removing twice is fine. */
    ck_assert_int_eq(session_remove(f.txn, &f.kv, live), 0);
    ck_assert_int_eq(session_remove(f.txn, &f.kv, live), 0);
    ck_assert_int_eq(session_load(f.txn, &f.kv, live, 3000, t, u, &exp), -CK_EUNAUTH);
    ckfix_commit(&f);
}
END_TEST

START_TEST(prune_is_bounded)
{
    uint8_t tenant[16] = {1}, user[16] = {2};
    char hex[SESSION_TOKEN_HEX + 1];
    ckfix_begin(&f, NULL);
    for (int i = 0; i < 50; i++) {
        uint8_t h[32];
        session_token_new(hex, h);
        ck_assert_int_eq(session_store(f.txn, &f.kv, h, tenant, user, 10, 1), 0);
    }
    ck_assert_int_eq(session_prune(f.txn, &f.kv, 100, 20), 0);
    MDB_stat st;
    mdb_stat(f.txn, f.kv.sess, &st);
    ck_assert_uint_eq(st.ms_entries, 30);
    ck_assert_int_eq(session_prune(f.txn, &f.kv, 100, 1000), 0);
    mdb_stat(f.txn, f.kv.sess, &st);
    ck_assert_uint_eq(st.ms_entries, 0);
    ckfix_commit(&f);
}
END_TEST

START_TEST(bind_refuses_users_that_cannot_log_in)
{
    uint8_t tenant[16], user[16];
    ckfix_begin(&f, NULL);
    ckfix_tenant(&f, "acme", tenant);
    ckfix_use_tenant(&f, tenant);
    ckfix_insert(&f, "users", user, "email", "a@acme", "first_name", "A", "last_name", "B", "role",
                 "dentist", "status", "active", NULL);
    ckfix_commit(&f);
    struct ck_session s;
    ckfix_begin(&f, NULL);
    ck_assert_int_eq(session_bind_user(f.txn, &f.kv, tenant, user, f.now_ms, &s), 0);
    ck_assert(s.authenticated && s.has_user && !s.system_admin && s.phi);
    ck_assert_uint_eq(s.validated_at_ms, (uint64_t)f.now_ms);
    ckfix_abort(&f);
    /* Suspended: refused. */
    ckfix_begin(&f, NULL);
    ck_assert_int_eq(ckfix_try_update(&f, "users", user, "status", "suspended", NULL), 0);
    ck_assert_int_eq(session_bind_user(f.txn, &f.kv, tenant, user, f.now_ms, &s), -CK_EUNAUTH);
    ckfix_abort(&f);
    /* Locked until later: refused; after it: accepted. */
    ckfix_begin(&f, NULL);
    ck_assert_int_eq(
        ckfix_try_update(&f, "users", user, "locked_until", "2030-01-01T00:00:00Z", NULL), 0);
    ck_assert_int_eq(session_bind_user(f.txn, &f.kv, tenant, user, f.now_ms, &s), -CK_EUNAUTH);
    ck_assert_int_eq(session_bind_user(f.txn, &f.kv, tenant, user, 1924992000001LL, &s), 0);
    ckfix_abort(&f);
    /* Another tenant's user does not bind. */
    uint8_t other[16];
    ckfix_begin(&f, NULL);
    ckfix_tenant(&f, "other", other);
    ck_assert_int_eq(session_bind_user(f.txn, &f.kv, other, user, f.now_ms, &s), -CK_EUNAUTH);
    ckfix_abort(&f);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("session");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, token_is_stored_only_as_its_hash);
    tcase_add_test(tc, expired_sessions_fail_and_are_pruned);
    tcase_add_test(tc, prune_is_bounded);
    tcase_add_test(tc, bind_refuses_users_that_cannot_log_in);
    suite_add_tcase(s, tc);
    return ckrun(s);
}
