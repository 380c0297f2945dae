/* Reading dumps back: native, JSON lines, and SQL verification (dumpread.h). */
#include <string.h>

#include "dumpread.h"
#include "jsonmp.h"
#include "kv.h"
#include "row.h"
#include "timeval.h"
#include "uuid.h"

#define SQL_TRAILER_PREFIX "-- clinickv-dump-trailer "
#define SQL_HEADER_PREFIX  "-- clinickv-dump "

static int corrupt(struct dump_reader *r, struct ck_err *err, const char *why)
{
    if (r->encoding == DUMP_NATIVE)
        return ck_err_set(err, -CK_EINVAL, "%s: corrupt dump at byte %llu: %s", r->src->name,
                          (unsigned long long)r->src->consumed, why);
    return ck_err_set(err, -CK_EINVAL, "%s: corrupt dump at line %llu: %s", r->src->name,
                      (unsigned long long)r->line, why);
}

static int truncated(struct dump_reader *r, struct ck_err *err)
{
    return ck_err_set(err, -CK_EINVAL,
                      "%s: the dump is truncated: it ends before its trailer (%llu bytes read)",
                      r->src->name, (unsigned long long)r->src->consumed);
}

/* Make the next whole msgpack object available; its length in *len. */
static int next_object(struct dump_reader *r, const char **obj, size_t *len, struct ck_err *err)
{
    size_t want = 4096;
    for (;;) {
        ssize_t avail = dump_source_fill(r->src, want, err);
        if (avail < 0)
            return (int)avail;
        if (avail == 0)
            return truncated(r, err);
        const char *p = r->src->buf.data + r->src->pos, *q = p;
        int rc = mp_skip(&q, p + avail);
        if (rc == 0) {
            *obj = p;
            *len = (size_t)(q - p);
            return 0;
        }
        if (rc != -CK_EAGAIN)
            return corrupt(r, err, "malformed msgpack");
        if ((size_t)avail < want)
            return truncated(r, err); /* the input ended inside the object */
        if (want >= DUMP_OBJECT_MAX)
            return corrupt(r, err, "object larger than any row can be");
        want *= 2;
    }
}

/* Make the next line available (without its newline); *len its length. */
static int next_line(struct dump_reader *r, const char **line, size_t *len, bool *complete,
                     struct ck_err *err)
{
    size_t want = 4096, scanned = 0;
    for (;;) {
        ssize_t avail = dump_source_fill(r->src, want, err);
        if (avail < 0)
            return (int)avail;
        const char *p = r->src->buf.data + r->src->pos;
        const char *nl = memchr(p + scanned, '\n', (size_t)avail - scanned);
        if (nl) {
            *line = p;
            *len = (size_t)(nl - p);
            *complete = true;
            r->line++;
            return 0;
        }
        scanned = (size_t)avail;
        if ((size_t)avail < want) {
            /* End of input: a last line without its newline is an unfinished one. */
            *line = p;
            *len = (size_t)avail;
            *complete = false;
            return 0;
        }
        if (want >= DUMP_OBJECT_MAX)
            return corrupt(r, err, "line longer than any row can be");
        want *= 2;
    }
}

/* After the trailer: the input must end here. */
static int expect_end(struct dump_reader *r, struct ck_err *err)
{
    ssize_t avail = dump_source_fill(r->src, 1, err);
    if (avail < 0)
        return (int)avail;
    if (avail > 0)
        return corrupt(r, err, "data after the trailer");
    r->done = true;
    return 0;
}

static int check_trailer(struct dump_reader *r, const struct dump_trailer *t, bool counts,
                         struct ck_err *err)
{
    uint8_t sum[DUMP_CHECKSUM_LEN];
    crypto_generichash_final(&r->hash, sum, sizeof sum);
    if (sodium_memcmp(sum, t->checksum, sizeof sum) != 0)
        return ck_err_set(err, -CK_EINVAL,
                          "%s: checksum mismatch: the dump was changed or damaged after it was "
                          "written",
                          r->src->name);
    if (counts) {
        if (t->total != r->seen.total)
            return ck_err_set(
                err, -CK_EINVAL, "%s: the trailer counts %llu %s, the dump holds %llu",
                r->src->name, (unsigned long long)t->total,
                r->hdr.kind == DUMP_FULL ? "rows" : "changes", (unsigned long long)r->seen.total);
        for (unsigned i = 0; i < ck_catalog.ntables; i++) {
            if (t->counts[i] != r->seen.counts[i])
                return ck_err_set(err, -CK_EINVAL, "%s: the trailer's count of %s does not match",
                                  r->src->name, ck_catalog.tables[i].name);
        }
    }
    return expect_end(r, err);
}

static int check_header(struct dump_reader *r, struct ck_err *err)
{
    if (strcmp(r->hdr.schema_version, ck_catalog.schema_version) != 0)
        return ck_err_set(
            err, -CK_EINVAL,
            "%s was dumped with schema version %s; this clinickv has schema version %s",
            r->src->name, r->hdr.schema_version, ck_catalog.schema_version);
    if (r->hdr.row_format != CK_ROW_FORMAT)
        return ck_err_set(err, -CK_EINVAL,
                          "%s holds rows of format %u; this clinickv reads format %d", r->src->name,
                          r->hdr.row_format, CK_ROW_FORMAT);
    if (r->hdr.encoding != r->encoding)
        return corrupt(r, err, "the header names another encoding");
    r->last_seq = r->hdr.since;
    return 0;
}

int dump_reader_open(struct dump_reader *r, struct dump_source *src, struct ck_err *err)
{
    memset(r, 0, sizeof *r);
    r->src = src;
    crypto_generichash_init(&r->hash, NULL, 0, DUMP_CHECKSUM_LEN);
    ssize_t avail = dump_source_fill(src, 1, err);
    if (avail < 0)
        return (int)avail;
    r->encoding = avail > 0 ? dump_sniff(src->buf.data + src->pos, (size_t)avail) : 0;
    if (!r->encoding)
        return ck_err_set(err, -CK_EINVAL, "%s is not a clinickv dump", src->name);
    const char *p = NULL;
    size_t len = 0;
    int rc;
    if (r->encoding == DUMP_NATIVE) {
        if ((rc = next_object(r, &p, &len, err)) != 0)
            return rc;
        const char *q = p;
        struct mp_obj o;
        if (mp_next(&q, p + len, &o) != 0 || o.type != MP_MAP)
            return ck_err_set(err, -CK_EINVAL, "%s is not a clinickv dump", src->name);
        if ((rc = dump_header_parse(q, p + len, o.v.n, &r->hdr, err)) != 0)
            return rc;
        crypto_generichash_update(&r->hash, (const unsigned char *)p, len);
        dump_source_consume(src, len);
        return check_header(r, err);
    }
    bool complete = false;
    if ((rc = next_line(r, &p, &len, &complete, err)) != 0)
        return rc;
    if (!complete)
        return truncated(r, err);
    const char *json = p;
    size_t jlen = len;
    if (r->encoding == DUMP_SQL) {
        size_t n = strlen(SQL_HEADER_PREFIX);
        if (len < n || memcmp(p, SQL_HEADER_PREFIX, n) != 0)
            return ck_err_set(err, -CK_EINVAL, "%s is not a clinickv dump", src->name);
        json += n;
        jlen -= n;
    }
    buf_reset(&r->mp);
    if (json_to_mp(json, jlen, &r->mp, err) != 0)
        return ck_err_set(err, -CK_EINVAL, "%s is not a clinickv dump", src->name);
    const char *q = r->mp.data;
    struct mp_obj o;
    if (mp_next(&q, r->mp.data + r->mp.len, &o) != 0 || o.type != MP_MAP)
        return ck_err_set(err, -CK_EINVAL, "%s is not a clinickv dump", src->name);
    if ((rc = dump_header_parse(q, r->mp.data + r->mp.len, o.v.n, &r->hdr, err)) != 0)
        return rc;
    crypto_generichash_update(&r->hash, (const unsigned char *)p, len + 1);
    dump_source_consume(src, len + 1);
    return check_header(r, err);
}

/* ------------------------------------------------------------------ native */

static int read_bin16(const char **p, const char *end, const uint8_t **out, bool nil_ok)
{
    struct mp_obj o;
    if (mp_next(p, end, &o) != 0)
        return -1;
    if (o.type == MP_NIL && nil_ok) {
        *out = NULL;
        return 0;
    }
    if (o.type != MP_BIN || o.v.str.len != 16)
        return -1;
    *out = (const uint8_t *)o.v.str.ptr;
    return 0;
}

static int check_change(struct dump_reader *r, struct dump_item *it, struct ck_err *err)
{
    struct ck_change *ch = &it->ch;
    if (ch->seq <= r->last_seq || ch->seq > r->hdr.seq)
        return corrupt(r, err,
                       "change sequence numbers out of order or outside the header's range");
    r->last_seq = ch->seq;
    it->t = ck_table_by_id(ch->table_id);
    if (!it->t || ch->op < CK_LOG_INSERT || ch->op > CK_LOG_DELETE)
        return corrupt(r, err, "a change of an unknown table or kind");
    if ((ch->op == CK_LOG_DELETE) != (ch->row == NULL))
        return corrupt(r, err, "a change without its row, or a delete with one");
    it->kind = DUMP_ITEM_CHANGE;
    memcpy(it->tenant, it->t->col_tenant >= 0 ? ch->tenant : kv_system_tenant, 16);
    it->row = ch->row;
    it->rowlen = ch->rowlen;
    r->seen.counts[ck_table_index(it->t)]++;
    r->seen.total++;
    return 1;
}

static int native_change(struct dump_reader *r, const char *p, const char *end,
                         struct dump_item *it, struct ck_err *err)
{
    struct ck_change *ch = &it->ch;
    struct mp_obj o;
    int64_t at;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_ARRAY || o.v.n != 8)
        return corrupt(r, err, "malformed change");
    if (mp_next(&p, end, &o) != 0 || o.type != MP_UINT)
        return corrupt(r, err, "malformed change");
    ch->seq = o.v.u;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_UINT || o.v.u > 255)
        return corrupt(r, err, "malformed change");
    ch->op = (unsigned)o.v.u;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_UINT || o.v.u > 255)
        return corrupt(r, err, "malformed change");
    ch->table_id = (unsigned)o.v.u;
    if (read_bin16(&p, end, &ch->tenant, false) || read_bin16(&p, end, &ch->id, false))
        return corrupt(r, err, "malformed change");
    const char *row = p;
    if (mp_next(&p, end, &o) != 0)
        return corrupt(r, err, "malformed change");
    ch->row = NULL;
    ch->rowlen = 0;
    if (o.type != MP_NIL) {
        p = row;
        if (o.type != MP_ARRAY || mp_skip(&p, end) != 0)
            return corrupt(r, err, "malformed change");
        ch->row = row;
        ch->rowlen = (size_t)(p - row);
    }
    if (read_bin16(&p, end, &ch->by, true) || mp_next(&p, end, &o) != 0 || !mp_obj_int64(&o, &at))
        return corrupt(r, err, "malformed change");
    ch->at_ms = at;
    return check_change(r, it, err);
}

static int native_section(struct dump_reader *r, const char *p, const char *end, uint32_t npairs,
                          struct ck_err *err)
{
    const char *v;
    struct mp_obj o;
    const struct ck_table *t = NULL;
    if (mp_map_find(p, end, npairs, "table", &v) == 0 && mp_next(&v, end, &o) == 0 &&
        o.type == MP_STR)
        t = ck_table_find(o.v.str.ptr, o.v.str.len);
    if (!t || mp_map_find(p, end, npairs, "tenant", &v) != 0 || mp_next(&v, end, &o) != 0 ||
        o.type != MP_BIN || o.v.str.len != 16)
        return corrupt(r, err, "malformed table section");
    const uint8_t *tenant = (const uint8_t *)o.v.str.ptr;
    /* Sections follow the rows database's key order: tenant, then table. */
    if (r->have_section) {
        int c = memcmp(tenant, r->sec_tenant, 16);
        if (c < 0 || (c == 0 && t->id <= r->sec_table->id))
            return corrupt(r, err, "table sections out of order");
    }
    if ((t->col_tenant < 0) != (memcmp(tenant, kv_system_tenant, 16) == 0))
        return corrupt(r, err, "a table section under the wrong tenant");
    r->have_section = true;
    r->sec_table = t;
    memcpy(r->sec_tenant, tenant, 16);
    return 0;
}

static int native_next(struct dump_reader *r, struct dump_item *it, struct ck_err *err)
{
    for (;;) {
        const char *p;
        size_t len;
        int rc = next_object(r, &p, &len, err);
        if (rc)
            return rc;
        const char *q = p, *end = p + len;
        struct mp_obj o;
        mp_next(&q, end, &o);
        const char *type = NULL;
        uint32_t tlen = 0;
        if (o.type == MP_MAP && !dump_map_type(q, end, o.v.n, &type, &tlen))
            return corrupt(r, err, "a map without a type");
        if (o.type == MP_MAP && tlen == 7 && !memcmp(type, "trailer", 7)) {
            struct dump_trailer t;
            if ((rc = dump_trailer_parse(q, end, o.v.n, &t, err)) != 0)
                return rc;
            dump_source_consume(r->src, len);
            return check_trailer(r, &t, true, err);
        }
        crypto_generichash_update(&r->hash, (const unsigned char *)p, len);
        if (o.type == MP_MAP) {
            if (tlen != 5 || memcmp(type, "table", 5) != 0 || r->hdr.kind != DUMP_FULL)
                return corrupt(r, err, "unexpected record");
            rc = native_section(r, q, end, o.v.n, err);
            dump_source_consume(r->src, len);
            if (rc)
                return rc;
            continue;
        }
        if (o.type != MP_ARRAY)
            return corrupt(r, err, "unexpected record");
        dump_source_consume(r->src, len);
        if (r->hdr.kind == DUMP_INCREMENTAL)
            return native_change(r, p, end, it, err);
        if (!r->have_section)
            return corrupt(r, err, "a row before any table section");
        it->kind = DUMP_ITEM_ROW;
        it->t = r->sec_table;
        memcpy(it->tenant, r->sec_tenant, 16);
        it->row = p;
        it->rowlen = len;
        r->seen.counts[ck_table_index(it->t)]++;
        r->seen.total++;
        return 1;
    }
}

/* ------------------------------------------------------------------ JSON lines */

/* Decode standard base64 in place (the output never overtakes the input). */
static int base64_in_place(char *s, uint32_t len, uint32_t *out_len)
{
    static signed char dec[256];
    if (!dec['B']) {
        memset(dec, -1, sizeof dec);
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        for (int i = 0; i < 64; i++)
            dec[(unsigned char)a[i]] = (signed char)i;
    }
    if (len % 4)
        return -1;
    uint32_t o = 0;
    for (uint32_t i = 0; i < len; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            unsigned char c = (unsigned char)s[i + (uint32_t)k];
            if (c == '=' && i + 4 == len && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = dec[c]) < 0) {
                return -1;
            }
        }
        uint32_t x =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        s[o++] = (char)(x >> 16);
        if (pad < 2)
            s[o++] = (char)(x >> 8);
        if (pad < 1)
            s[o++] = (char)x;
    }
    *out_len = o;
    return 0;
}

/* A wire row map (cursor on its first key) to the stored form in r->row. */
static int wire_row(struct dump_reader *r, const struct ck_table *t, const char *p, const char *end,
                    uint32_t npairs, struct ck_err *err)
{
    struct ck_row row;
    row.t = t;
    for (unsigned i = 0; i < t->ncols; i++)
        row.v[i].kind = CK_V_NULL;
    for (uint32_t i = 0; i < npairs; i++) {
        struct mp_obj k;
        if (mp_next(&p, end, &k) != 0 || k.type != MP_STR)
            return corrupt(r, err, "malformed row");
        int col = ck_column_find(t, k.v.str.ptr, k.v.str.len);
        if (col < 0)
            return corrupt(r, err, "a row with a column the schema does not have");
        unsigned type = t->cols[col].type;
        if (type == CK_T_BLOB || type == CK_T_VARBINARY) {
            struct mp_obj v;
            if (mp_next(&p, end, &v) != 0 || (v.type != MP_STR && v.type != MP_NIL))
                return corrupt(r, err, "a binary value that is not base64");
            if (v.type == MP_NIL)
                continue;
            uint32_t n;
            /* The line's msgpack is ours to change: decode the base64 where it lies. */
            if (base64_in_place((char *)v.v.str.ptr, v.v.str.len, &n) != 0)
                return corrupt(r, err, "a binary value that is not base64");
            row.v[col].kind = CK_V_BIN;
            row.v[col].p = v.v.str.ptr;
            row.v[col].len = n;
            continue;
        }
        struct ck_err verr = CK_ERR_INIT;
        int rc = ck_val_from_wire(t, (unsigned)col, &p, end, &row.v[col], &verr);
        if (rc) {
            ck_err_set(err, -CK_EINVAL, "%s: corrupt dump at line %llu: %s", r->src->name,
                       (unsigned long long)r->line, verr.message);
            ck_err_free(&verr);
            return -CK_EINVAL;
        }
        ck_err_free(&verr);
    }
    if (row.v[t->col_id].kind != CK_V_UUID)
        return corrupt(r, err, "a row without its id");
    buf_reset(&r->row);
    ck_row_encode(&row, &r->row);
    if (r->row.oom)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    return 0;
}

/* Fields of a JSON-lines record map. */
struct jfields {
    const char *table, *row, *op, *tenant_id, *id, *by, *at, *seq;
};

static bool field_str(const char *v, const char *end, const char **s, uint32_t *len)
{
    struct mp_obj o;
    if (!v || mp_next(&v, end, &o) != 0 || o.type != MP_STR)
        return false;
    *s = o.v.str.ptr;
    *len = o.v.str.len;
    return true;
}

static int jsonl_row_of(struct dump_reader *r, const char *v, const char *end,
                        const struct ck_table *t, struct ck_err *err)
{
    struct mp_obj o;
    if (!v || mp_next(&v, end, &o) != 0 || o.type != MP_MAP)
        return corrupt(r, err, "a record without its row");
    return wire_row(r, t, v, end, o.v.n, err);
}

static int jsonl_uuid(struct dump_reader *r, const char *v, const char *end, uint8_t out[16],
                      bool nil_ok, bool *is_nil, struct ck_err *err)
{
    struct mp_obj o;
    *is_nil = false;
    if (v && mp_next(&v, end, &o) == 0) {
        if (o.type == MP_NIL && nil_ok) {
            *is_nil = true;
            return 0;
        }
        if (o.type == MP_STR && ck_uuid_parse(o.v.str.ptr, o.v.str.len, out) == 0)
            return 0;
    }
    return corrupt(r, err, "a change with a bad id");
}

static int jsonl_change(struct dump_reader *r, const char *p, const char *end, uint32_t npairs,
                        const struct ck_table *t, struct dump_item *it, struct ck_err *err)
{
    struct ck_change *ch = &it->ch;
    memset(ch, 0, sizeof *ch);
    const char *v, *s;
    uint32_t len;
    struct mp_obj o;
    bool nil;
    ch->table_id = t->id;
    if (mp_map_find(p, end, npairs, "seq", &v) != 0 || mp_next(&v, end, &o) != 0 ||
        o.type != MP_UINT)
        return corrupt(r, err, "a change without its seq");
    ch->seq = o.v.u;
    if (mp_map_find(p, end, npairs, "op", &v) != 0 || !field_str(v, end, &s, &len))
        return corrupt(r, err, "a change without its op");
    static const char *const ops[] = {"insert", "update", "delete"};
    for (unsigned i = 0; i < 3; i++)
        if (strlen(ops[i]) == len && !memcmp(ops[i], s, len))
            ch->op = CK_LOG_INSERT + i;
    int rc;
    const char *tv, *iv, *bv;
    if (mp_map_find(p, end, npairs, "tenant_id", &tv) != 0)
        tv = NULL;
    if (mp_map_find(p, end, npairs, "id", &iv) != 0)
        iv = NULL;
    if (mp_map_find(p, end, npairs, "by", &bv) != 0)
        bv = NULL;
    if ((rc = jsonl_uuid(r, tv, end, r->ids[0], false, &nil, err)) != 0 ||
        (rc = jsonl_uuid(r, iv, end, r->ids[1], false, &nil, err)) != 0 ||
        (rc = jsonl_uuid(r, bv, end, r->ids[2], true, &nil, err)) != 0)
        return rc;
    ch->tenant = r->ids[0];
    ch->id = r->ids[1];
    ch->by = nil ? NULL : r->ids[2];
    if (mp_map_find(p, end, npairs, "at", &v) != 0 || !field_str(v, end, &s, &len) ||
        ck_ts_parse(s, len, &ch->at_ms) != 0)
        return corrupt(r, err, "a change without its time");
    if (mp_map_find(p, end, npairs, "row", &v) != 0)
        return corrupt(r, err, "a change without its row");
    const char *rv = v;
    if (mp_next(&rv, end, &o) != 0)
        return corrupt(r, err, "malformed change");
    if (o.type != MP_NIL) {
        if ((rc = jsonl_row_of(r, v, end, t, err)) != 0)
            return rc;
        ch->row = r->row.data;
        ch->rowlen = r->row.len;
    }
    return check_change(r, it, err);
}

static int jsonl_next(struct dump_reader *r, struct dump_item *it, struct ck_err *err)
{
    const char *line;
    size_t len;
    bool complete = false;
    int rc = next_line(r, &line, &len, &complete, err);
    if (rc)
        return rc;
    if (!complete)
        return truncated(r, err);
    buf_reset(&r->mp);
    struct ck_err jerr = CK_ERR_INIT;
    rc = json_to_mp(line, len, &r->mp, &jerr);
    ck_err_free(&jerr);
    if (rc)
        return corrupt(r, err, "not a JSON object");
    const char *p = r->mp.data, *end = r->mp.data + r->mp.len;
    struct mp_obj o;
    const char *type, *v, *s;
    uint32_t tlen, slen;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_MAP ||
        !dump_map_type(p, end, o.v.n, &type, &tlen))
        return corrupt(r, err, "a line without a record type");
    uint32_t npairs = o.v.n;
    if (tlen == 7 && !memcmp(type, "trailer", 7)) {
        struct dump_trailer t;
        if ((rc = dump_trailer_parse(p, end, npairs, &t, err)) != 0)
            return rc;
        dump_source_consume(r->src, len + 1);
        return check_trailer(r, &t, true, err);
    }
    crypto_generichash_update(&r->hash, (const unsigned char *)line, len + 1);
    dump_source_consume(r->src, len + 1);
    const struct ck_table *t = NULL;
    if (mp_map_find(p, end, npairs, "table", &v) == 0 && field_str(v, end, &s, &slen))
        t = ck_table_find(s, slen);
    if (!t)
        return corrupt(r, err, "a record of an unknown table");
    bool is_row = tlen == 3 && !memcmp(type, "row", 3);
    bool is_change = tlen == 6 && !memcmp(type, "change", 6);
    if (r->checksum_only &&
        (is_row ? r->hdr.kind == DUMP_FULL : is_change && r->hdr.kind == DUMP_INCREMENTAL)) {
        /* A first pass that only proves the file intact: the rows are converted
         * (and checked) by the pass that loads them. */
        memset(it, 0, sizeof *it);
        it->kind = is_row ? DUMP_ITEM_ROW : DUMP_ITEM_CHANGE;
        it->t = t;
        r->seen.counts[ck_table_index(t)]++;
        r->seen.total++;
        return 1;
    }
    if (is_change && r->hdr.kind == DUMP_INCREMENTAL)
        return jsonl_change(r, p, end, npairs, t, it, err);
    if (!is_row || r->hdr.kind != DUMP_FULL)
        return corrupt(r, err, "unexpected record");
    if (mp_map_find(p, end, npairs, "row", &v) != 0)
        v = NULL;
    if ((rc = jsonl_row_of(r, v, end, t, err)) != 0)
        return rc;
    it->kind = DUMP_ITEM_ROW;
    it->t = t;
    it->row = r->row.data;
    it->rowlen = r->row.len;
    struct ck_row row;
    if (ck_row_decode(t, it->row, it->rowlen, &row) != 0)
        return corrupt(r, err, "malformed row");
    if (t->col_tenant < 0)
        memcpy(it->tenant, kv_system_tenant, 16);
    else if (row.v[t->col_tenant].kind == CK_V_UUID)
        memcpy(it->tenant, row.v[t->col_tenant].uuid, 16);
    else
        return corrupt(r, err, "a row without its tenant_id");
    r->seen.counts[ck_table_index(t)]++;
    r->seen.total++;
    return 1;
}

/* ------------------------------------------------------------------ SQL */

static int sql_verify(struct dump_reader *r, struct ck_err *err)
{
    size_t n = strlen(SQL_TRAILER_PREFIX);
    for (;;) {
        const char *line;
        size_t len;
        bool complete = false;
        int rc = next_line(r, &line, &len, &complete, err);
        if (rc)
            return rc;
        if (!complete)
            return truncated(r, err);
        if (len >= n && !memcmp(line, SQL_TRAILER_PREFIX, n)) {
            buf_reset(&r->mp);
            struct dump_trailer t;
            const char *p, *end;
            struct mp_obj o;
            if (json_to_mp(line + n, len - n, &r->mp, err) != 0)
                return corrupt(r, err, "malformed trailer");
            p = r->mp.data;
            end = p + r->mp.len;
            if (mp_next(&p, end, &o) != 0 || o.type != MP_MAP ||
                (rc = dump_trailer_parse(p, end, o.v.n, &t, err)) != 0)
                return rc ? rc : corrupt(r, err, "malformed trailer");
            dump_source_consume(r->src, len + 1);
            r->seen = t; /* statements are not counted back: the checksum covers them */
            return check_trailer(r, &t, false, err);
        }
        crypto_generichash_update(&r->hash, (const unsigned char *)line, len + 1);
        dump_source_consume(r->src, len + 1);
    }
}

int dump_reader_next(struct dump_reader *r, struct dump_item *it, struct ck_err *err)
{
    if (r->done)
        return 0;
    switch (r->encoding) {
    case DUMP_NATIVE: return native_next(r, it, err);
    case DUMP_JSONL: return jsonl_next(r, it, err);
    default: return sql_verify(r, err);
    }
}

void dump_reader_close(struct dump_reader *r)
{
    buf_free(&r->mp);
    buf_free(&r->row);
}
