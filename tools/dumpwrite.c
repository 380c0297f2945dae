/* Writing dumps: native msgpack, JSON lines and SQL (dumpwrite.h). */
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "dumpwrite.h"
#include "mpjson.h"
#include "row.h"
#include "timeval.h"
#include "uuid.h"

/* An INSERT is closed once it holds this much text: well below the 16 MiB
 * max_allowed_packet of MariaDB 10.11 (64 MiB on MySQL 8). */
#define SQL_STMT_MAX (512u << 10)

static const char *const op_names[] = {NULL, "insert", "update", "delete"};

static const char *op_name(unsigned op)
{
    return op >= CK_LOG_INSERT && op <= CK_LOG_DELETE ? op_names[op] : "unknown";
}

static int put(struct dump_writer *w, const struct buf *b)
{
    if (b->oom)
        return ck_err_set(w->sink->err, -CK_ENOMEM, "out of memory");
    return dump_sink_write(w->sink, b->data, b->len);
}

static int put_str(struct dump_writer *w, const char *s)
{
    return dump_sink_write(w->sink, s, strlen(s));
}

/* Convert the msgpack in w->scratch to a JSON line and write it. */
static int put_json_line(struct dump_writer *w)
{
    if (w->scratch.oom)
        return ck_err_set(w->sink->err, -CK_ENOMEM, "out of memory");
    buf_reset(&w->json);
    const char *p = w->scratch.data;
    int rc = mp_to_json(&p, w->scratch.data + w->scratch.len, &w->json);
    if (rc)
        return ck_err_set(w->sink->err, rc, "cannot convert a record to JSON: %s", ck_strerror(rc));
    buf_push(&w->json, '\n');
    return put(w, &w->json);
}

/* ------------------------------------------------------------------ SQL literals */

static void sql_string(struct buf *out, const char *s, size_t len)
{
    /* The escapes of mysql_real_escape_string(), as mysqldump writes them. */
    buf_push(out, '\'');
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        const char *esc = NULL;
        switch (s[i]) {
        case 0: esc = "\\0"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\\': esc = "\\\\"; break;
        case '\'': esc = "\\'"; break;
        case '"': esc = "\\\""; break;
        case '\032': esc = "\\Z"; break;
        default: continue;
        }
        buf_append(out, s + run, i - run);
        buf_append(out, esc, 2);
        run = i + 1;
    }
    buf_append(out, s + run, len - run);
    buf_push(out, '\'');
}

void dump_sql_value(struct buf *out, const struct ck_column *c, const struct ck_val *v)
{
    static const char hex[] = "0123456789ABCDEF";
    char tmp[48];
    switch (v->kind) {
    case CK_V_NULL: buf_append(out, "NULL", 4); return;
    case CK_V_UUID:
        ck_uuid_format(v->uuid, tmp);
        sql_string(out, tmp, CK_UUID_STRLEN);
        return;
    case CK_V_STR: sql_string(out, v->p, v->len); return;
    case CK_V_BIN:
        buf_append(out, "X'", 2);
        for (uint32_t i = 0; i < v->len; i++) {
            unsigned char b = (unsigned char)v->p[i];
            buf_push(out, (uint8_t)hex[b >> 4]);
            buf_push(out, (uint8_t)hex[b & 15]);
        }
        buf_push(out, '\'');
        return;
    case CK_V_JSON: {
        struct buf j = BUF_INIT;
        const char *p = v->p;
        if (mp_to_json(&p, v->p + v->len, &j) == 0)
            sql_string(out, j.data ? j.data : "", j.len);
        else
            out->oom = true; /* stored JSON that does not convert: refuse the dump */
        buf_free(&j);
        return;
    }
    case CK_V_INT: break;
    }
    switch (c->type) {
    case CK_T_BOOL: buf_push(out, v->i ? '1' : '0'); return;
    case CK_T_DECIMAL: {
        size_t n = ck_decimal_format(v->i, c->scale, tmp);
        buf_append(out, tmp, n);
        return;
    }
    case CK_T_TIMESTAMP:
        /* MySQL's form in UTC (the dump sets time_zone = '+00:00'). TIMESTAMP(0)
         * columns get whole seconds, truncated as MariaDB truncates (MySQL would
         * round), so both load the same value. */
        ck_ts_format(v->i, tmp);
        tmp[10] = ' ';
        sql_string(out, tmp, c->precision == 3 ? 23 : 19);
        return;
    case CK_T_DATE:
        ck_date_format((int32_t)v->i, tmp);
        sql_string(out, tmp, CK_DATE_STRLEN);
        return;
    case CK_T_ENUM:
        if (v->i >= 1 && v->i <= c->n_enum) {
            const char *e = c->enum_values[v->i - 1];
            sql_string(out, e, strlen(e));
        } else {
            out->oom = true; /* an ordinal outside the ENUM: a corrupt row */
        }
        return;
    default: buf_printf(out, "%lld", (long long)v->i); return;
    }
}

static void sql_ident(struct buf *out, const char *name)
{
    buf_push(out, '`');
    buf_append(out, name, strlen(name));
    buf_push(out, '`');
}

static void sql_column_list(struct buf *out, const struct ck_table *t)
{
    buf_push(out, '(');
    for (unsigned i = 0; i < t->ncols; i++) {
        if (i)
            buf_push(out, ',');
        sql_ident(out, t->cols[i].name);
    }
    buf_push(out, ')');
}

/* (v1,v2,...) with the columns in mask_null written as NULL. */
static void sql_tuple(struct buf *out, const struct ck_row *r, ck_colmask mask_null)
{
    const struct ck_table *t = r->t;
    buf_push(out, '(');
    for (unsigned i = 0; i < t->ncols; i++) {
        if (i)
            buf_push(out, ',');
        if (mask_null & CK_COL(i))
            buf_append(out, "NULL", 4);
        else
            dump_sql_value(out, &t->cols[i], &r->v[i]);
    }
    buf_push(out, ')');
}

static int sql_flush_stmt(struct dump_writer *w)
{
    if (w->stmt_rows == 0)
        return 0;
    buf_append(&w->stmt, ";\n", 2);
    int rc = put(w, &w->stmt);
    buf_reset(&w->stmt);
    w->stmt_rows = 0;
    return rc;
}

static int sql_flush_late(struct dump_writer *w)
{
    if (w->late.len == 0)
        return 0;
    int rc = put(w, &w->late);
    buf_reset(&w->late);
    return rc;
}

static int sql_row(struct dump_writer *w, const struct ck_row *r, const uint8_t tenant[16])
{
    const struct ck_table *t = r->t;
    int rc = 0;
    if (!w->have_section || memcmp(tenant, w->sec_tenant, 16) != 0) {
        /* A tenant's late columns point inside the tenant: set them once it is loaded. */
        if ((rc = sql_flush_stmt(w)) || (rc = sql_flush_late(w)))
            return rc;
        w->have_section = true;
        memcpy(w->sec_tenant, tenant, 16);
    } else if (t != w->sec_table && (rc = sql_flush_stmt(w))) {
        return rc;
    }
    w->sec_table = t;
    if (w->stmt_rows == 0) {
        buf_append(&w->stmt, "INSERT INTO ", 12);
        sql_ident(&w->stmt, t->name);
        buf_push(&w->stmt, ' ');
        sql_column_list(&w->stmt, t);
        buf_append(&w->stmt, " VALUES\n", 8);
    } else {
        buf_append(&w->stmt, ",\n", 2);
    }
    ck_colmask late = dump_late_columns(t), set = 0;
    for (unsigned i = 0; i < t->ncols; i++) {
        if ((late & CK_COL(i)) && r->v[i].kind != CK_V_NULL)
            set |= CK_COL(i);
    }
    sql_tuple(&w->stmt, r, late);
    w->stmt_rows++;
    if (set) {
        buf_append(&w->late, "UPDATE ", 7);
        sql_ident(&w->late, t->name);
        buf_append(&w->late, " SET ", 5);
        bool first = true;
        for (unsigned i = 0; i < t->ncols; i++) {
            if (!(set & CK_COL(i)))
                continue;
            if (!first)
                buf_push(&w->late, ',');
            first = false;
            sql_ident(&w->late, t->cols[i].name);
            buf_push(&w->late, '=');
            dump_sql_value(&w->late, &t->cols[i], &r->v[i]);
        }
        buf_append(&w->late, " WHERE `id`=", 12);
        dump_sql_value(&w->late, &t->cols[t->col_id], &r->v[t->col_id]);
        buf_append(&w->late, ";\n", 2);
    }
    if (w->stmt.oom || w->late.oom)
        return ck_err_set(w->sink->err, -CK_ENOMEM,
                          "cannot write %s as SQL (out of memory, or a "
                          "stored value that SQL cannot express)",
                          t->name);
    return w->stmt.len >= SQL_STMT_MAX ? sql_flush_stmt(w) : 0;
}

static int cmp_delete(const void *a, const void *b)
{
    const struct dump_delete *x = a, *y = b;
    if (x->table != y->table)
        return x->table > y->table ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int sql_flush_deletes(struct dump_writer *w)
{
    if (w->ndeletes == 0)
        return 0;
    qsort(w->deletes, w->ndeletes, sizeof *w->deletes, cmp_delete);
    int rc = 0;
    char id[37];
    for (size_t i = 0; i < w->ndeletes && rc == 0; i++) {
        buf_reset(&w->scratch);
        buf_append(&w->scratch, "DELETE FROM ", 12);
        sql_ident(&w->scratch, ck_catalog.tables[w->deletes[i].table].name);
        buf_append(&w->scratch, " WHERE `id`=", 12);
        ck_uuid_format(w->deletes[i].id, id);
        sql_string(&w->scratch, id, CK_UUID_STRLEN);
        buf_append(&w->scratch, ";\n", 2);
        rc = put(w, &w->scratch);
    }
    w->ndeletes = 0;
    return rc;
}

static int sql_change(struct dump_writer *w, const struct ck_change *ch, const struct ck_table *t,
                      const struct ck_row *r)
{
    if (ch->op == CK_LOG_DELETE) {
        if (w->ndeletes == w->cap_deletes) {
            size_t cap = w->cap_deletes ? w->cap_deletes * 2 : 256;
            struct dump_delete *d = realloc(w->deletes, cap * sizeof *d);
            if (!d)
                return ck_err_set(w->sink->err, -CK_ENOMEM, "out of memory");
            w->deletes = d;
            w->cap_deletes = cap;
        }
        struct dump_delete *d = &w->deletes[w->ndeletes];
        d->table = (uint16_t)ck_table_index(t);
        d->pos = (uint32_t)w->ndeletes;
        memcpy(d->id, ch->id, 16);
        w->ndeletes++;
        return 0;
    }
    int rc = sql_flush_deletes(w);
    if (rc)
        return rc;
    /* An upsert, so replaying a change already applied is harmless. */
    buf_reset(&w->scratch);
    buf_append(&w->scratch, "INSERT INTO ", 12);
    sql_ident(&w->scratch, t->name);
    buf_push(&w->scratch, ' ');
    sql_column_list(&w->scratch, t);
    buf_append(&w->scratch, " VALUES ", 8);
    sql_tuple(&w->scratch, r, 0);
    buf_append(&w->scratch, " ON DUPLICATE KEY UPDATE ", 25);
    bool first = true;
    for (unsigned i = 0; i < t->ncols; i++) {
        if ((int)i == t->col_id)
            continue;
        if (!first)
            buf_push(&w->scratch, ',');
        first = false;
        sql_ident(&w->scratch, t->cols[i].name);
        buf_append(&w->scratch, "=VALUES(", 8);
        sql_ident(&w->scratch, t->cols[i].name);
        buf_push(&w->scratch, ')');
    }
    buf_append(&w->scratch, ";\n", 2);
    return put(w, &w->scratch);
}

/* ------------------------------------------------------------------ the writer */

int dump_writer_begin(struct dump_writer *w, struct dump_sink *sink, const struct dump_header *h)
{
    memset(w, 0, sizeof *w);
    w->sink = sink;
    w->hdr = *h;
    msgpack_packer pk;
    mp_packer_init(&pk, &w->scratch);
    dump_header_pack(&pk, h, h->encoding != DUMP_NATIVE);
    if (h->encoding == DUMP_NATIVE)
        return put(w, &w->scratch);
    if (h->encoding == DUMP_JSONL)
        return put_json_line(w);
    /* SQL: the header as a JSON comment that clinickv-restore --verify reads back. */
    buf_reset(&w->json);
    const char *p = w->scratch.data;
    mp_to_json(&p, w->scratch.data + w->scratch.len, &w->json);
    int rc;
    if ((rc = put_str(w, "-- clinickv-dump ")) || (rc = put(w, &w->json)))
        return rc;
    rc = put_str(w, "\n-- Load into MySQL/MariaDB after schema/00-master-schema.sql");
    if (rc == 0 && h->pharmacy)
        rc = put_str(w, " and schema/01-pharmacy-module.sql");
    if (rc == 0)
        rc = put_str(w,
                     ".\n-- PHI columns (encrypted_*) hold clinickv ciphertexts: the PHI key file "
                     "is not in this dump.\n"
                     "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
                     "SET SESSION time_zone = '+00:00';\n"
                     "SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION';\n"
                     "SET SESSION foreign_key_checks = 1;\n"
                     "SET SESSION unique_checks = 1;\n");
    if (rc == 0 && h->kind == DUMP_INCREMENTAL)
        rc = put_str(w, "START TRANSACTION;\n");
    return rc;
}

int dump_writer_row(struct dump_writer *w, const struct ck_table *t, const uint8_t tenant[16],
                    const void *row, size_t len)
{
    w->trailer.counts[ck_table_index(t)]++;
    w->trailer.total++;
    if (w->hdr.encoding == DUMP_NATIVE) {
        if (!w->have_section || w->sec_table != t || memcmp(tenant, w->sec_tenant, 16) != 0) {
            buf_reset(&w->scratch);
            msgpack_packer pk;
            mp_packer_init(&pk, &w->scratch);
            msgpack_pack_map(&pk, 3);
            mp_pack_cstr(&pk, "type");
            mp_pack_cstr(&pk, "table");
            mp_pack_cstr(&pk, "table");
            mp_pack_cstr(&pk, t->name);
            mp_pack_cstr(&pk, "tenant");
            msgpack_pack_bin(&pk, 16);
            msgpack_pack_bin_body(&pk, tenant, 16);
            int rc = put(w, &w->scratch);
            if (rc)
                return rc;
            w->have_section = true;
            w->sec_table = t;
            memcpy(w->sec_tenant, tenant, 16);
        }
        return dump_sink_write(w->sink, row, len);
    }
    struct ck_row r;
    if (ck_row_decode(t, row, len, &r) != 0)
        return ck_err_set(w->sink->err, -CK_EINTERNAL, "a stored %s row does not decode", t->name);
    if (w->hdr.encoding == DUMP_SQL)
        return sql_row(w, &r, tenant);
    buf_reset(&w->scratch);
    msgpack_packer pk;
    mp_packer_init(&pk, &w->scratch);
    msgpack_pack_map(&pk, 3);
    mp_pack_cstr(&pk, "type");
    mp_pack_cstr(&pk, "row");
    mp_pack_cstr(&pk, "table");
    mp_pack_cstr(&pk, t->name);
    mp_pack_cstr(&pk, "row");
    ck_row_pack_wire(&pk, &r, 0);
    return put_json_line(w);
}

int dump_writer_change(struct dump_writer *w, const struct ck_change *ch)
{
    const struct ck_table *t = ck_table_by_id(ch->table_id);
    if (!t)
        return ck_err_set(w->sink->err, -CK_EINTERNAL, "change %llu names an unknown table",
                          (unsigned long long)ch->seq);
    w->trailer.counts[ck_table_index(t)]++;
    w->trailer.total++;
    buf_reset(&w->scratch);
    msgpack_packer pk;
    mp_packer_init(&pk, &w->scratch);
    if (w->hdr.encoding == DUMP_NATIVE) {
        msgpack_pack_array(&pk, 8);
        msgpack_pack_uint64(&pk, ch->seq);
        msgpack_pack_uint32(&pk, ch->op);
        msgpack_pack_uint32(&pk, ch->table_id);
        msgpack_pack_bin(&pk, 16);
        msgpack_pack_bin_body(&pk, ch->tenant, 16);
        msgpack_pack_bin(&pk, 16);
        msgpack_pack_bin_body(&pk, ch->id, 16);
        if (ch->row)
            mp_pack_raw(&pk, ch->row, ch->rowlen);
        else
            msgpack_pack_nil(&pk);
        if (ch->by) {
            msgpack_pack_bin(&pk, 16);
            msgpack_pack_bin_body(&pk, ch->by, 16);
        } else {
            msgpack_pack_nil(&pk);
        }
        msgpack_pack_int64(&pk, ch->at_ms);
        return put(w, &w->scratch);
    }
    struct ck_row r;
    if (ch->row && ck_row_decode(t, ch->row, ch->rowlen, &r) != 0)
        return ck_err_set(w->sink->err, -CK_EINTERNAL,
                          "change %llu holds a row that does not decode",
                          (unsigned long long)ch->seq);
    if (ch->op != CK_LOG_DELETE && !ch->row)
        return ck_err_set(w->sink->err, -CK_EINTERNAL, "change %llu has no row",
                          (unsigned long long)ch->seq);
    if (w->hdr.encoding == DUMP_SQL)
        return sql_change(w, ch, t, &r);
    char at[CK_TS_STRLEN + 1];
    ck_ts_format(ch->at_ms, at);
    msgpack_pack_map(&pk, 9);
    mp_pack_cstr(&pk, "type");
    mp_pack_cstr(&pk, "change");
    mp_pack_cstr(&pk, "seq");
    msgpack_pack_uint64(&pk, ch->seq);
    mp_pack_cstr(&pk, "op");
    mp_pack_cstr(&pk, op_name(ch->op));
    mp_pack_cstr(&pk, "table");
    mp_pack_cstr(&pk, t->name);
    mp_pack_cstr(&pk, "tenant_id");
    ck_uuid_pack(&pk, ch->tenant);
    mp_pack_cstr(&pk, "id");
    ck_uuid_pack(&pk, ch->id);
    mp_pack_cstr(&pk, "row");
    if (ch->row)
        ck_row_pack_wire(&pk, &r, 0);
    else
        msgpack_pack_nil(&pk);
    mp_pack_cstr(&pk, "by");
    ck_uuid_pack(&pk, ch->by);
    mp_pack_cstr(&pk, "at");
    mp_pack_str(&pk, at, CK_TS_STRLEN);
    return put_json_line(w);
}

int dump_writer_end(struct dump_writer *w)
{
    int rc = 0;
    if (w->hdr.encoding == DUMP_SQL) {
        if ((rc = sql_flush_stmt(w)) || (rc = sql_flush_late(w)) || (rc = sql_flush_deletes(w)))
            return rc;
        if (w->hdr.kind == DUMP_INCREMENTAL && (rc = put_str(w, "COMMIT;\n")))
            return rc;
    }
    dump_sink_checksum(w->sink, w->trailer.checksum);
    buf_reset(&w->scratch);
    msgpack_packer pk;
    mp_packer_init(&pk, &w->scratch);
    dump_trailer_pack(&pk, &w->trailer, w->hdr.kind, w->hdr.encoding != DUMP_NATIVE);
    if (w->hdr.encoding == DUMP_NATIVE)
        return put(w, &w->scratch);
    if (w->hdr.encoding == DUMP_JSONL)
        return put_json_line(w);
    buf_reset(&w->json);
    const char *p = w->scratch.data;
    mp_to_json(&p, w->scratch.data + w->scratch.len, &w->json);
    if ((rc = put_str(w, "-- clinickv-dump-trailer ")) || (rc = put(w, &w->json)))
        return rc;
    return put_str(w, "\n");
}

void dump_writer_free(struct dump_writer *w)
{
    buf_free(&w->scratch);
    buf_free(&w->json);
    buf_free(&w->stmt);
    buf_free(&w->late);
    free(w->deletes);
    w->deletes = NULL;
}
