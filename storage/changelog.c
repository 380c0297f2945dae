/* The change log. */
#include <string.h>

#include "changelog.h"
#include "mp.h"

static uint64_t seq_from_key(const MDB_val *k)
{
    uint64_t s = 0;
    const uint8_t *p = k->mv_data;
    for (int i = 0; i < 8; i++)
        s = s << 8 | p[i];
    return s;
}

static int edge_seq(MDB_txn *txn, struct kv *kv, MDB_cursor_op op, uint64_t *seq_out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, kv->log, &cur);
    if (rc)
        return kv_error(rc);
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, op);
    mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        *seq_out = 0;
        return 0;
    }
    if (rc)
        return kv_error(rc);
    if (k.mv_size != 8)
        return -CK_EINTERNAL;
    *seq_out = seq_from_key(&k);
    return 0;
}

int ck_log_last_seq(MDB_txn *txn, struct kv *kv, uint64_t *seq_out)
{
    return edge_seq(txn, kv, MDB_LAST, seq_out);
}

int ck_log_first_seq(MDB_txn *txn, struct kv *kv, uint64_t *seq_out)
{
    return edge_seq(txn, kv, MDB_FIRST, seq_out);
}

int ck_log_append(struct ck_log *log, MDB_txn *txn, struct kv *kv, unsigned op, unsigned table_id,
                  const uint8_t tenant[16], const uint8_t id[16], const void *row, size_t rowlen,
                  const uint8_t *by, int64_t at_ms)
{
    if (!log->loaded) {
        /* The log can be pruned to empty: the high-water mark is kept in meta too. */
        uint64_t last = 0;
        int rc = ck_log_last_seq(txn, kv, &last);
        if (rc)
            return rc;
        MDB_val hw;
        if (kv_meta_get(kv, txn, "log_high_water", &hw) == 0 && hw.mv_size == 8) {
            uint64_t h = seq_from_key(&hw);
            if (h > last)
                last = h;
        }
        log->next_seq = last + 1;
        log->loaded = true;
    }
    char small[1024];
    struct buf b;
    buf_init_borrowed(&b, small, sizeof small);
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    msgpack_pack_array(&pk, 7);
    msgpack_pack_uint32(&pk, op);
    msgpack_pack_uint32(&pk, table_id);
    msgpack_pack_bin(&pk, 16);
    msgpack_pack_bin_body(&pk, tenant, 16);
    msgpack_pack_bin(&pk, 16);
    msgpack_pack_bin_body(&pk, id, 16);
    if (row)
        mp_pack_raw(&pk, row, rowlen);
    else
        msgpack_pack_nil(&pk);
    if (by) {
        msgpack_pack_bin(&pk, 16);
        msgpack_pack_bin_body(&pk, by, 16);
    } else {
        msgpack_pack_nil(&pk);
    }
    msgpack_pack_int64(&pk, at_ms);
    int rc = -CK_ENOMEM;
    if (!b.oom) {
        uint8_t key[8];
        ck_seq_key(key, log->next_seq);
        MDB_val k = {8, key}, v = {b.len, b.data};
        rc = kv_error(mdb_put(txn, kv->log, &k, &v, MDB_APPEND));
        if (rc == 0)
            log->next_seq++;
    }
    buf_free(&b);
    return rc;
}

static int read_bin16(const char **p, const char *end, const uint8_t **out, bool nil_ok)
{
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0)
        return -CK_EINTERNAL;
    if (o.type == MP_NIL && nil_ok) {
        *out = NULL;
        return 0;
    }
    if (o.type != MP_BIN || o.v.str.len != 16)
        return -CK_EINTERNAL;
    *out = (const uint8_t *)o.v.str.ptr;
    return 0;
}

int ck_change_decode(const MDB_val *key, const MDB_val *val, struct ck_change *out)
{
    if (key->mv_size != 8)
        return -CK_EINTERNAL;
    const char *p = val->mv_data, *end = p + val->mv_size;
    struct mp_obj o;
    int64_t i64;
    out->seq = seq_from_key(key);
    if (mp_next(&p, end, &o) || o.type != MP_ARRAY || o.v.n != 7)
        return -CK_EINTERNAL;
    if (mp_next(&p, end, &o) || o.type != MP_UINT)
        return -CK_EINTERNAL;
    out->op = (unsigned)o.v.u;
    if (mp_next(&p, end, &o) || o.type != MP_UINT)
        return -CK_EINTERNAL;
    out->table_id = (unsigned)o.v.u;
    if (read_bin16(&p, end, &out->tenant, false) || read_bin16(&p, end, &out->id, false))
        return -CK_EINTERNAL;
    const char *row = p;
    if (mp_next(&p, end, &o))
        return -CK_EINTERNAL;
    if (o.type == MP_NIL) {
        out->row = NULL;
        out->rowlen = 0;
    } else {
        p = row;
        if (mp_skip(&p, end))
            return -CK_EINTERNAL;
        out->row = row;
        out->rowlen = (size_t)(p - row);
    }
    if (read_bin16(&p, end, &out->by, true))
        return -CK_EINTERNAL;
    if (mp_next(&p, end, &o) || !mp_obj_int64(&o, &i64))
        return -CK_EINTERNAL;
    out->at_ms = i64;
    return 0;
}

int ck_log_prune(MDB_txn *txn, struct kv *kv, uint64_t before, uint64_t max, uint64_t *deleted_out)
{
    uint64_t last = 0;
    int rc = ck_log_last_seq(txn, kv, &last);
    if (rc)
        return rc;
    MDB_cursor *cur;
    rc = mdb_cursor_open(txn, kv->log, &cur);
    if (rc)
        return kv_error(rc);
    uint64_t n = 0;
    MDB_val k, v;
    int mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (mrc == 0 && n < max && seq_from_key(&k) < before) {
        mrc = mdb_cursor_del(cur, 0);
        if (mrc)
            break;
        n++;
        mrc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    }
    mdb_cursor_close(cur);
    if (mrc && mrc != MDB_NOTFOUND)
        return kv_error(mrc);
    if (n > 0) {
        /* Remember the high-water mark, so numbering continues after an emptied log. */
        uint8_t hw[8];
        ck_seq_key(hw, last);
        rc = kv_meta_put(kv, txn, "log_high_water", hw, 8);
        if (rc)
            return rc;
    }
    *deleted_out = n;
    return 0;
}
