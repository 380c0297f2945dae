/* sys.ping, sys.info, schema.describe. */
#include <string.h>

#include "catalog_describe.h"
#include "changelog.h"
#include "method.h"
#include "server.h"

/* sys.ping {} -> "pong" */
int m_sys_ping(struct ck_call *call)
{
    mp_pack_cstr(call->pk, "pong");
    return 0;
}

static void pack_kv_u64(msgpack_packer *pk, const char *k, uint64_t v)
{
    mp_pack_cstr(pk, k);
    msgpack_pack_uint64(pk, v);
}

/* sys.info {} -> {version, protocol, schema_version, uptime_s, ...} */
int m_sys_info(struct ck_call *call)
{
    struct server *srv = call->srv;
    msgpack_packer *pk = call->pk;
    struct writer_stats ws;
    uint64_t queued;
    writer_get_stats(&srv->writer, &ws, &queued);
    uint64_t last_seq = 0, first_seq = 0;
    ck_log_last_seq(call->txn, call->kv, &last_seq);
    ck_log_first_seq(call->txn, call->kv, &first_seq);
    MDB_envinfo info;
    MDB_stat st;
    mdb_env_info(call->kv->env, &info);
    mdb_env_stat(call->kv->env, &st);
    unsigned ntables = 0;
    for (unsigned i = 0; i < ck_catalog.ntables; i++)
        ntables += !ck_catalog.tables[i].optional || srv->pharmacy;

    msgpack_pack_map(pk, 14);
    mp_pack_cstr(pk, "version");
    mp_pack_cstr(pk, CLINICKV_VERSION);
    pack_kv_u64(pk, "protocol", 1);
    mp_pack_cstr(pk, "schema_version");
    mp_pack_cstr(pk, ck_catalog.schema_version);
    pack_kv_u64(pk, "uptime_s", (uint64_t)((call->now_ms - srv->started_ms) / 1000));
    pack_kv_u64(pk, "tables", ntables);
    mp_pack_cstr(pk, "pharmacy");
    srv->pharmacy ? msgpack_pack_true(pk) : msgpack_pack_false(pk);
    mp_pack_cstr(pk, "durability");
    mp_pack_cstr(pk, srv->opt.relaxed_durability ? "relaxed" : "strict");
    mp_pack_cstr(pk, "writer");
    msgpack_pack_map(pk, 6);
    pack_kv_u64(pk, "group_commits", ws.groups);
    pack_kv_u64(pk, "write_requests", ws.jobs);
    pack_kv_u64(pk, "largest_group", ws.max_group);
    pack_kv_u64(pk, "queued", queued);
    pack_kv_u64(pk, "map_grows", ws.map_grows);
    pack_kv_u64(pk, "commit_errors", ws.commit_errors);
    pack_kv_u64(pk, "requests", srv->stats.requests);
    pack_kv_u64(pk, "connections", srv->stats.connections_open);
    pack_kv_u64(pk, "connections_total", srv->stats.connections_total);
    mp_pack_cstr(pk, "changes");
    msgpack_pack_map(pk, 2);
    pack_kv_u64(pk, "first_seq", first_seq);
    pack_kv_u64(pk, "last_seq", last_seq);
    pack_kv_u64(pk, "map_size", info.me_mapsize);
    pack_kv_u64(pk, "used_bytes", (info.me_last_pgno + 1) * (uint64_t)st.ms_psize);
    return 0;
}

static bool table_visible(const struct ck_table *t, void *arg)
{
    const struct server *srv = arg;
    return !t->optional || srv->pharmacy;
}

/* schema.describe {table?} -> {tables: [...]} */
int m_schema_describe(struct ck_call *call)
{
    const char *name;
    uint32_t len;
    int rc = ck_param_str_opt(call, "table", &name, &len);
    if (rc)
        return rc;
    if (!name) {
        ck_describe(call->pk, table_visible, call->srv);
        return 0;
    }
    const struct ck_table *t;
    rc = ck_param_table(call, &t);
    if (rc)
        return rc;
    msgpack_pack_map(call->pk, 1);
    mp_pack_cstr(call->pk, "tables");
    msgpack_pack_array(call->pk, 1);
    ck_describe_table(call->pk, t);
    return 0;
}
