/* changes.since: the change log, for incremental backups and sync to a central database. */
#include <string.h>

#include "changelog.h"
#include "method.h"
#include "rowio.h"
#include "server.h"
#include "timeval.h"
#include "uuid.h"

#define CHANGES_DEFAULT_LIMIT 1000
#define CHANGES_MAX_LIMIT     10000
/* Records of other tenants skipped per call at most, so one call stays short. */
#define CHANGES_MAX_SCAN 100000

static const char *const op_names[] = {"", "insert", "update", "delete"};

static int pack_change(struct ck_call *call, const struct ck_change *ch)
{
    msgpack_packer *pk = call->pk;
    const struct ck_table *t = ck_table_by_id(ch->table_id);
    if (!t || ch->op < CK_LOG_INSERT || ch->op > CK_LOG_DELETE)
        return ck_err_set(call->err, -CK_EINTERNAL, "corrupt change record %llu",
                          (unsigned long long)ch->seq);
    char at[25];
    ck_ts_format(ch->at_ms, at);
    msgpack_pack_map(pk, 8);
    mp_pack_cstr(pk, "seq");
    msgpack_pack_uint64(pk, ch->seq);
    mp_pack_cstr(pk, "op");
    mp_pack_cstr(pk, op_names[ch->op]);
    mp_pack_cstr(pk, "table");
    mp_pack_cstr(pk, t->name);
    mp_pack_cstr(pk, "tenant_id");
    ck_uuid_pack(pk, memcmp(ch->tenant, kv_system_tenant, 16) ? ch->tenant : NULL);
    mp_pack_cstr(pk, "id");
    ck_uuid_pack(pk, ch->id);
    mp_pack_cstr(pk, "row");
    if (ch->row) {
        struct ck_row r;
        int rc = ck_row_decode(t, ch->row, ch->rowlen, &r);
        if (rc)
            return ck_err_set(call->err, rc, "corrupt row in change %llu",
                              (unsigned long long)ch->seq);
        /* PHI is opened with the row's own tenant (its associated data). */
        memcpy(call->tenant, ch->tenant, 16);
        rc = rowio_pack(call, &r);
        if (rc)
            return rc;
    } else {
        msgpack_pack_nil(pk);
    }
    mp_pack_cstr(pk, "by");
    ck_uuid_pack(pk, ch->by);
    mp_pack_cstr(pk, "at");
    mp_pack_str(pk, at, 24);
    return 0;
}

/* changes.since {seq, limit?} -> {changes: [...], last_seq} */
int m_changes_since(struct ck_call *call)
{
    const struct ck_session *s = call->sess;
    uint64_t seq, limit;
    int rc = ck_param_uint(call, "seq", UINT64_MAX, &seq);
    if (rc == 0 && seq == UINT64_MAX)
        rc = ck_err_set(call->err, -CK_EBADREQ, "param seq: required");
    if (rc == 0)
        rc = ck_param_uint(call, "limit", CHANGES_DEFAULT_LIMIT, &limit);
    if (rc)
        return rc;
    if (limit == 0 || limit > CHANGES_MAX_LIMIT)
        return ck_err_set(call->err, -CK_EBADREQ, "param limit: 1 to %d", CHANGES_MAX_LIMIT);
    /* Tenant administrators read their tenant's changes; system administrators all. */
    const struct ck_table *users = ck_table_find("users", 5);
    const struct ck_column *role = &users->cols[ck_column_find(users, "role", 4)];
    const char *rname =
        s->role >= 1 && s->role <= role->n_enum ? role->enum_values[s->role - 1] : "";
    bool all = s->system_admin;
    if (!all && strcmp(rname, "tenant_admin") && strcmp(rname, "super_admin"))
        return ck_err_set(call->err, -CK_EFORBIDDEN, "changes.since is for tenant administrators");
    uint8_t mine[16];
    memcpy(mine, s->tenant, 16);

    MDB_cursor *cur;
    rc = kv_error(mdb_cursor_open(call->txn, call->kv->log, &cur));
    if (rc)
        return rc;
    /* The array length is known only at the end: pack rows into a side buffer. */
    struct buf rows = BUF_INIT;
    msgpack_packer *out = call->pk, pk;
    mp_packer_init(&pk, &rows);
    call->pk = &pk;
    uint8_t key[8];
    ck_seq_key(key, seq == UINT64_MAX ? seq : seq + 1);
    MDB_val k = {8, key}, v;
    uint64_t n = 0, scanned = 0, last = seq;
    int mrc = seq == UINT64_MAX ? MDB_NOTFOUND : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (mrc == 0 && n < limit && scanned < CHANGES_MAX_SCAN) {
        struct ck_change ch;
        rc = ck_change_decode(&k, &v, &ch);
        if (rc) {
            ck_err_set(call->err, rc, "corrupt change record");
            break;
        }
        scanned++;
        last = ch.seq;
        if (all || memcmp(ch.tenant, mine, 16) == 0) {
            rc = pack_change(call, &ch);
            if (rc)
                break;
            n++;
        }
        mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    call->pk = out;
    if (rc == 0 && mrc && mrc != MDB_NOTFOUND)
        rc = kv_error(mrc);
    if (rc == 0) {
        msgpack_pack_map(out, 2);
        mp_pack_cstr(out, "changes");
        msgpack_pack_array(out, (uint32_t)n);
        mp_pack_raw(out, rows.data, rows.len);
        mp_pack_cstr(out, "last_seq");
        msgpack_pack_uint64(out, last);
    }
    buf_free(&rows);
    return rc;
}
