/*
 * Methods: the static method table and the interface every handler implements.
 *
 * A handler turns one request into one result. It never touches a socket: it
 * packs its result into call->pk, or fills call->err and returns its code, and
 * the dispatcher builds the response. Handlers run where their flags say:
 * reads on the loop thread in a read snapshot, writes on the writer thread in a
 * nested write transaction (writer.h), so a failing write rolls back alone.
 */
#ifndef CLINICKV_METHOD_H
#define CLINICKV_METHOD_H

#include <stdbool.h>
#include <stdint.h>

#include <lmdb.h>

#include "catalog.h"
#include "changelog.h"
#include "ckerr.h"
#include "kv.h"
#include "mp.h"

struct server;

/* Who is calling: bound to a connection by auth.login/auth.resume, or by the
 * Unix socket's peer credentials for a system administrator. */
struct ck_session {
    bool authenticated;
    bool system_admin; /* the data directory's owner on the Unix socket, or the admin key */
    bool has_user;
    bool has_clinic;
    bool has_token;
    uint8_t role;       /* users.role ordinal (1-based), 0 for a system admin */
    uint8_t tenant[16]; /* the session's tenant (system admins: none until named) */
    uint8_t user[16];
    uint8_t clinic[16];
    uint8_t token_hash[32]; /* BLAKE2b of the session token (logout removes it) */
    int64_t expires_at_ms;
    int64_t validated_at_ms; /* when the session and its user were last read */
    uint32_t perms;          /* effective permission bits (rbac.h), role + users.permissions */
    bool phi;                /* may read and write PHI (demographics) */
    bool clinic_scoped;      /* sees and writes only rows of its clinic */
};

/* Method flags. */
#define M_AUTH  0x01 /* needs an authenticated session */
#define M_WRITE 0x02 /* runs on the writer thread, in a write transaction */
#define M_READ  0x04 /* runs on the loop thread, in a read snapshot */
#define M_ADMIN 0x08 /* system administrators only */
#define M_ASYNC 0x10 /* the handler completes the request itself (auth.login) */

struct ck_call {
    struct server *srv;
    struct kv *kv;
    const struct ck_session *sess;
    const char *params; /* first key of the params map (NULL when empty) */
    uint32_t nparams;
    const char *params_end;
    MDB_txn *txn;       /* read snapshot or nested write transaction */
    struct ck_log *log; /* writes: the change log of the group transaction */
    int64_t now_ms;
    msgpack_packer *pk; /* the result goes here: exactly one object */
    struct ck_err *err;
    /* A handler that changes the connection's session (login, logout) sets these;
     * the connection adopts new_session once the response is sent. */
    bool session_changed;
    struct ck_session new_session;
    /* Writes: commit what the handler wrote even though it returns an error (a
     * refused login still counts the failure on the user's row). */
    bool commit_on_error;
    /* The tenant the call acts on: the session's, or the one a system admin named. */
    uint8_t tenant[16];
    bool has_tenant;
    /* Argon2id hashes of the users passwords in the request, in order of appearance,
     * computed on the thread pool before the write was queued (pwprep.h). */
    char *const *pw_hashes;
    unsigned n_pw_hashes;
    unsigned pw_next;
};

typedef int (*ck_handler_fn)(struct ck_call *call);

struct conn;

/* M_ASYNC methods: start the work; params are valid only during the call, and the
 * method answers msgid on the connection itself later (conn_job_start/done). */
typedef void (*ck_async_fn)(struct conn *c, uint32_t msgid, struct ck_call *call);

struct ck_method {
    const char *name;
    ck_handler_fn fn;  /* M_READ and M_WRITE methods */
    ck_async_fn async; /* M_ASYNC methods */
    unsigned flags;
};

/* Find a method by name; NULL when unknown. */
const struct ck_method *ck_method_find(const char *name, size_t len);

/* All methods, for sys.info. */
extern const struct ck_method ck_methods[];
extern const unsigned ck_nmethods;

/* ---- parameter helpers: each fills call->err and returns its code on failure */

/* Value of params key `name` (cursor at the value), or NULL when absent. */
const char *ck_param(const struct ck_call *call, const char *name);

/* A required string param. */
int ck_param_str(struct ck_call *call, const char *name, const char **s, uint32_t *len);
/* An optional string param: 0 with *s = NULL when absent or nil. */
int ck_param_str_opt(struct ck_call *call, const char *name, const char **s, uint32_t *len);
/* An optional boolean (default def). */
int ck_param_bool(struct ck_call *call, const char *name, bool def, bool *out);
/* An optional non-negative integer (default def). */
int ck_param_uint(struct ck_call *call, const char *name, uint64_t def, uint64_t *out);
/* A required map param: cursor on its first key, pair count. */
int ck_param_map(struct ck_call *call, const char *name, const char **p, uint32_t *npairs);
/* The `table` param resolved against the catalog (and the data directory's modules). */
int ck_param_table(struct ck_call *call, const struct ck_table **t);
/* The `id` param as a UUID. */
int ck_param_id(struct ck_call *call, const char *name, uint8_t id[16]);

/* Handlers, by module. */
int m_sys_ping(struct ck_call *call);
int m_sys_info(struct ck_call *call);
int m_schema_describe(struct ck_call *call);
void m_auth_login(struct conn *c, uint32_t msgid, struct ck_call *call);
int m_auth_resume(struct ck_call *call);
int m_auth_logout(struct ck_call *call);
int m_auth_whoami(struct ck_call *call);
int m_row_get(struct ck_call *call);
int m_row_insert(struct ck_call *call);
int m_row_update(struct ck_call *call);
int m_row_delete(struct ck_call *call);
int m_row_restore(struct ck_call *call);
/* queries (storage/query.h) */
int m_row_query(struct ck_call *call);
/* transactions and the change log */
int m_txn_run(struct ck_call *call);
int m_changes_since(struct ck_call *call);
/* system administration */
int m_sys_permissions(struct ck_call *call);
int m_tenant_create(struct ck_call *call);
int m_tenant_delete(struct ck_call *call);

#endif
