/*
 * Sessions: random tokens handed to clients, stored only as their BLAKE2b hash
 * in the `sess` database with the tenant, user and expiry, so a copy of the
 * database does not contain usable tokens.
 *
 *   sess: BLAKE2b-256(token) -> [tenant(bin16), user(bin16), expires_ms, created_ms]
 */
#ifndef CLINICKV_SESSION_H
#define CLINICKV_SESSION_H

#include <lmdb.h>

#include "kv.h"
#include "method.h"

#define SESSION_TOKEN_BYTES 32
#define SESSION_TOKEN_HEX   (2 * SESSION_TOKEN_BYTES)

/* A new random token, as hex text (NUL-terminated), and its hash. */
void session_token_new(char hex_out[SESSION_TOKEN_HEX + 1], uint8_t hash_out[32]);

/* Hash a token given by a client. -CK_EUNAUTH when it is not a well-formed token. */
int session_token_hash(const char *hex, size_t len, uint8_t hash_out[32]);

/* Store a session record. */
int session_store(MDB_txn *txn, struct kv *kv, const uint8_t hash[32], const uint8_t tenant[16],
                  const uint8_t user[16], int64_t expires_ms, int64_t now_ms);

/* Load a session record: -CK_EUNAUTH when absent or expired at now_ms. */
int session_load(MDB_txn *txn, struct kv *kv, const uint8_t hash[32], int64_t now_ms,
                 uint8_t tenant_out[16], uint8_t user_out[16], int64_t *expires_out);

/* Remove a session record (absent is fine). */
int session_remove(MDB_txn *txn, struct kv *kv, const uint8_t hash[32]);

/* Remove expired sessions, at most max of them. */
int session_prune(MDB_txn *txn, struct kv *kv, int64_t now_ms, unsigned max);

/*
 * Bind the user (tenant, user id) to sess from their current users row: role,
 * clinic, status. -CK_EUNAUTH when the user is gone, soft-deleted, not active
 * (suspended, locked, deactivated) or locked_until is in the future.
 */
int session_bind_user(MDB_txn *txn, struct kv *kv, const uint8_t tenant[16], const uint8_t user[16],
                      int64_t now_ms, struct ck_session *sess);

/*
 * Check a connection's session: expired -> -CK_EUNAUTH; and when it was last
 * validated more than recheck_ms ago (serve --session-recheck, 5 s by default),
 * read its record and its user again (in a read snapshot) and rebind role, clinic
 * and permissions. So a deleted, deactivated or locked user, a changed role or
 * clinic, or a logout on another connection takes effect within recheck_ms.
 * -CK_EUNAUTH when the session no longer stands.
 */
int session_revalidate(struct kv *kv, struct ck_session *sess, int64_t now_ms, int64_t recheck_ms);

#endif
