/* Rows: stored format <-> values <-> wire format, and per-value validation. */
#include <pthread.h>
#include <string.h>

#include "collate.h"
#include "decimal.h"
#include "mpw.h"
#include "row.h"
#include "timeval.h"
#include "uuid.h"

/* ------------------------------------------------------------------ decoding */

int ck_row_decode(const struct ck_table *t, const void *data, size_t len, struct ck_row *out)
{
    const char *p = data, *end = p + len;
    struct mp_obj o;
    out->t = t;
    if (mp_next(&p, end, &o) != 0 || o.type != MP_ARRAY || o.v.n > t->ncols)
        return -CK_EINTERNAL;
    uint32_t n = o.v.n;
    for (uint32_t i = 0; i < n; i++) {
        struct ck_val *v = &out->v[i];
        const char *start = p;
        if (mp_next(&p, end, &o) != 0)
            return -CK_EINTERNAL;
        switch (o.type) {
        case MP_NIL: v->kind = CK_V_NULL; break;
        case MP_BOOL:
            v->kind = CK_V_INT;
            v->i = o.v.b;
            break;
        case MP_UINT:
            v->kind = CK_V_INT;
            v->i = (int64_t)o.v.u;
            break;
        case MP_INT:
            v->kind = CK_V_INT;
            v->i = o.v.i;
            break;
        case MP_STR:
            v->kind = CK_V_STR;
            v->p = o.v.str.ptr;
            v->len = o.v.str.len;
            break;
        case MP_BIN:
            if (t->cols[i].type == CK_T_UUID) {
                if (o.v.str.len != 16)
                    return -CK_EINTERNAL;
                v->kind = CK_V_UUID;
                memcpy(v->uuid, o.v.str.ptr, 16);
            } else {
                v->kind = CK_V_BIN;
                v->p = o.v.str.ptr;
                v->len = o.v.str.len;
            }
            break;
        case MP_ARRAY:
        case MP_MAP:
            p = start;
            if (mp_skip(&p, end) != 0)
                return -CK_EINTERNAL;
            v->kind = CK_V_JSON;
            v->p = start;
            v->len = (uint32_t)(p - start);
            break;
        default: return -CK_EINTERNAL;
        }
    }
    for (uint32_t i = n; i < t->ncols; i++)
        out->v[i].kind = CK_V_NULL;
    return 0;
}

/* ------------------------------------------------------------------ encoding */

void ck_row_encode(const struct ck_row *r, struct buf *out)
{
    msgpack_packer pk;
    mp_packer_init(&pk, out);
    const struct ck_table *t = r->t;
    msgpack_pack_array(&pk, t->ncols);
    for (unsigned i = 0; i < t->ncols; i++) {
        const struct ck_val *v = &r->v[i];
        switch (v->kind) {
        case CK_V_NULL: msgpack_pack_nil(&pk); break;
        case CK_V_INT:
            if (t->cols[i].type == CK_T_BOOL)
                v->i ? msgpack_pack_true(&pk) : msgpack_pack_false(&pk);
            else
                msgpack_pack_int64(&pk, v->i);
            break;
        case CK_V_STR: mp_pack_str(&pk, v->p, v->len); break;
        case CK_V_BIN:
            msgpack_pack_bin(&pk, v->len);
            msgpack_pack_bin_body(&pk, v->p, v->len);
            break;
        case CK_V_UUID:
            msgpack_pack_bin(&pk, 16);
            msgpack_pack_bin_body(&pk, v->uuid, 16);
            break;
        case CK_V_JSON: mp_pack_raw(&pk, v->p, v->len); break;
        }
    }
}

/* ------------------------------------------------------------------ wire output */

/* Column names as msgpack str, encoded once: every row a client reads repeats them. */
struct name_key {
    const char *p;
    uint8_t len;
};
static struct name_key *name_keys[256];
static pthread_once_t name_keys_once = PTHREAD_ONCE_INIT;

static void encode_name_keys(void)
{
    static char storage[16384];
    static struct name_key keys[64 * 64];
    size_t used = 0, k = 0;
    for (unsigned ti = 0; ti < ck_catalog.ntables; ti++) {
        const struct ck_table *t = &ck_catalog.tables[ti];
        name_keys[ti] = &keys[k];
        for (unsigned i = 0; i < t->ncols; i++, k++) {
            size_t n = strlen(t->cols[i].name);
            char *dst = storage + used;
            size_t h = mpw_strhdr(dst, (uint32_t)n, false);
            memcpy(dst + h, t->cols[i].name, n);
            keys[k].p = dst;
            keys[k].len = (uint8_t)(h + n);
            used += h + n;
        }
    }
}

void ck_column_pack_name(struct buf *b, const struct ck_table *t, unsigned col)
{
    pthread_once(&name_keys_once, encode_name_keys);
    const struct name_key *k = &name_keys[ck_table_index(t)][col];
    buf_append(b, k->p, k->len);
}

static void val_write(struct buf *b, const struct ck_column *c, const struct ck_val *v)
{
    char tmp[40];
    switch (v->kind) {
    case CK_V_NULL: mpw_nil(b); return;
    case CK_V_STR: mpw_str(b, v->p, v->len); return;
    case CK_V_BIN: mpw_bin(b, v->p, v->len); return;
    case CK_V_JSON: buf_append(b, v->p, v->len); return;
    case CK_V_UUID:
        ck_uuid_format(v->uuid, tmp);
        mpw_str(b, tmp, 36);
        return;
    case CK_V_INT: break;
    }
    switch (c->type) {
    case CK_T_BOOL: mpw_bool(b, v->i != 0); return;
    case CK_T_DECIMAL: mpw_str(b, tmp, (uint32_t)ck_decimal_format(v->i, c->scale, tmp)); return;
    case CK_T_TIMESTAMP:
        ck_ts_format(v->i, tmp);
        mpw_str(b, tmp, 24);
        return;
    case CK_T_DATE:
        ck_date_format((int32_t)v->i, tmp);
        mpw_str(b, tmp, 10);
        return;
    case CK_T_ENUM:
        if (v->i >= 1 && v->i <= c->n_enum) {
            const char *e = c->enum_values[v->i - 1];
            mpw_str(b, e, (uint32_t)strlen(e));
        } else {
            mpw_nil(b);
        }
        return;
    default: mpw_int(b, v->i); return;
    }
}

void ck_uuid_pack(msgpack_packer *pk, const uint8_t *id)
{
    struct buf *b = mpw_buf(pk);
    if (!id) {
        mpw_nil(b);
        return;
    }
    char s[37];
    ck_uuid_format(id, s);
    mpw_str(b, s, 36);
}

void ck_val_pack_wire(msgpack_packer *pk, const struct ck_column *c, const struct ck_val *v)
{
    val_write(mpw_buf(pk), c, v);
}

void ck_row_pack_wire(msgpack_packer *pk, const struct ck_row *r, ck_colmask hide)
{
    const struct ck_table *t = r->t;
    struct buf *b = mpw_buf(pk);
    ck_colmask all = t->ncols == 64 ? ~(ck_colmask)0 : CK_COL(t->ncols) - 1;
    mpw_map(b, t->ncols - (unsigned)__builtin_popcountll(hide & all));
    pthread_once(&name_keys_once, encode_name_keys);
    const struct name_key *keys = name_keys[ck_table_index(t)];
    for (unsigned i = 0; i < t->ncols; i++) {
        if (hide & CK_COL(i))
            continue;
        buf_append(b, keys[i].p, keys[i].len);
        val_write(b, &t->cols[i], &r->v[i]);
    }
}

/* ------------------------------------------------------------------ wire input */

static int bad_value(struct ck_err *err, const struct ck_table *t, const struct ck_column *c,
                     const char *why)
{
    ck_err_set(err, -CK_EINVAL, "%s.%s: %s", t->name, c->name, why);
    ck_err_detail_str(err, "table", t->name);
    ck_err_detail_str(err, "column", c->name);
    return -CK_EINVAL;
}

int ck_enum_ordinal(const struct ck_column *c, const char *s, size_t len)
{
    for (unsigned i = 0; i < c->n_enum; i++) {
        const char *e = c->enum_values[i];
        if (strlen(e) == len && memcmp(e, s, len) == 0)
            return (int)i + 1;
    }
    for (unsigned i = 0; i < c->n_enum; i++) {
        const char *e = c->enum_values[i];
        if (ck_collate_eq(e, strlen(e), s, len))
            return (int)i + 1;
    }
    return 0;
}

static int string_value(const struct ck_column *c, const char *s, size_t len, struct ck_val *out,
                        const char **why)
{
    size_t chars;
    if (!ck_utf8_valid(s, len, &chars)) {
        *why = "not valid UTF-8";
        return -CK_EINVAL;
    }
    if (c->type == CK_T_CHAR) {
        /* MySQL strips trailing spaces from CHAR values. */
        while (len > 0 && s[len - 1] == ' ') {
            len--;
            chars--;
        }
    }
    if (c->type == CK_T_TEXT ? len > c->length : chars > c->length) {
        *why = "string too long";
        return -CK_EINVAL;
    }
    out->kind = CK_V_STR;
    out->p = s;
    out->len = (uint32_t)len;
    return 0;
}

/* Convert a scalar given as text (wire strings of DECIMAL/DATE/TIMESTAMP/ENUM/UUID,
 * and DDL default literals). */
static int text_value(const struct ck_column *c, const char *s, size_t len, struct ck_val *out,
                      const char **why)
{
    int64_t i64;
    int32_t days;
    int ord;
    switch (c->type) {
    case CK_T_UUID:
        if (ck_uuid_parse(s, len, out->uuid) != 0) {
            *why = "not a UUID";
            return -CK_EINVAL;
        }
        out->kind = CK_V_UUID;
        return 0;
    case CK_T_VARCHAR:
    case CK_T_CHAR:
    case CK_T_TEXT: return string_value(c, s, len, out, why);
    case CK_T_DECIMAL:
        if (ck_decimal_parse(s, len, c->precision, c->scale, &i64) != 0) {
            *why = "not a decimal in range";
            return -CK_EINVAL;
        }
        out->kind = CK_V_INT;
        out->i = i64;
        return 0;
    case CK_T_TIMESTAMP:
        if (ck_ts_parse(s, len, &i64) != 0) {
            *why = "not an ISO 8601 timestamp";
            return -CK_EINVAL;
        }
        if (!ck_ts_in_mysql_range(i64)) {
            *why = "timestamp outside 1970-01-01T00:00:01Z..2038-01-19T03:14:07Z";
            return -CK_EINVAL;
        }
        out->kind = CK_V_INT;
        out->i = i64;
        return 0;
    case CK_T_DATE:
        if (ck_date_parse(s, len, &days) != 0) {
            *why = "not a date YYYY-MM-DD";
            return -CK_EINVAL;
        }
        out->kind = CK_V_INT;
        out->i = days;
        return 0;
    case CK_T_ENUM:
        ord = ck_enum_ordinal(c, s, len);
        if (!ord) {
            *why = "not one of the ENUM's values";
            return -CK_EINVAL;
        }
        out->kind = CK_V_INT;
        out->i = ord;
        return 0;
    case CK_T_INT:
    case CK_T_BOOL: {
        /* Only DDL defaults arrive here as text. */
        int64_t v = 0;
        bool neg = len > 0 && s[0] == '-';
        size_t k = neg ? 1 : 0;
        if (k == len) {
            *why = "not an integer";
            return -CK_EINVAL;
        }
        for (; k < len; k++) {
            if (s[k] < '0' || s[k] > '9' || v > (INT64_MAX - 9) / 10) {
                *why = "not an integer";
                return -CK_EINVAL;
            }
            v = v * 10 + (s[k] - '0');
        }
        out->kind = CK_V_INT;
        out->i = neg ? -v : v;
        return 0;
    }
    default: *why = "wrong type"; return -CK_EINVAL;
    }
}

int ck_val_from_text(const struct ck_column *c, const char *s, size_t len, struct ck_val *out)
{
    const char *why;
    return text_value(c, s, len, out, &why);
}

int ck_val_from_wire(const struct ck_table *t, unsigned col, const char **pp, const char *end,
                     struct ck_val *out, struct ck_err *err)
{
    const struct ck_column *c = &t->cols[col];
    const char *p = *pp;
    struct mp_obj o;
    const char *why = "wrong type";
    int64_t i64;
    if (mp_next(&p, end, &o) != 0)
        return bad_value(err, t, c, "malformed value");
    if (o.type == MP_NIL) {
        out->kind = CK_V_NULL;
        *pp = p;
        return 0;
    }
    switch (c->type) {
    case CK_T_INT:
        if (!mp_obj_int64(&o, &i64))
            return bad_value(err, t, c,
                             o.type == MP_UINT ? "integer out of range" : "expected an integer");
        if (i64 < c->min || i64 > c->max)
            return bad_value(err, t, c, "integer out of range");
        out->kind = CK_V_INT;
        out->i = i64;
        break;
    case CK_T_BOOL:
        if (o.type == MP_BOOL) {
            out->i = o.v.b;
        } else if (mp_obj_int64(&o, &i64) && (i64 == 0 || i64 == 1)) {
            out->i = i64;
        } else {
            return bad_value(err, t, c, "expected a boolean");
        }
        out->kind = CK_V_INT;
        break;
    case CK_T_DECIMAL:
        if (o.type == MP_STR) {
            if (text_value(c, o.v.str.ptr, o.v.str.len, out, &why) != 0)
                return bad_value(err, t, c, why);
        } else if (mp_obj_int64(&o, &i64)) {
            if (ck_decimal_from_int(i64, c->precision, c->scale, &out->i) != 0)
                return bad_value(err, t, c, "decimal out of range");
            out->kind = CK_V_INT;
        } else {
            return bad_value(err, t, c,
                             o.type == MP_FLOAT ? "floats are refused: send DECIMAL as a string"
                                                : "expected a decimal string or integer");
        }
        break;
    case CK_T_TIMESTAMP:
        if (o.type == MP_EXT && o.ext_type == -1) {
            if (ck_ts_from_msgpack_ext(o.v.str.ptr, o.v.str.len, &i64) != 0)
                return bad_value(err, t, c, "bad msgpack timestamp");
            if (!ck_ts_in_mysql_range(i64))
                return bad_value(err, t, c,
                                 "timestamp outside 1970-01-01T00:00:01Z..2038-01-19T03:14:07Z");
            out->kind = CK_V_INT;
            out->i = i64;
            break;
        }
        /* fallthrough */
    case CK_T_UUID:
    case CK_T_VARCHAR:
    case CK_T_CHAR:
    case CK_T_TEXT:
    case CK_T_DATE:
    case CK_T_ENUM:
        if (o.type != MP_STR)
            return bad_value(err, t, c, "expected a string");
        if (text_value(c, o.v.str.ptr, o.v.str.len, out, &why) != 0)
            return bad_value(err, t, c, why);
        break;
    case CK_T_JSON:
        if (o.type != MP_ARRAY && o.type != MP_MAP)
            return bad_value(err, t, c, "expected a map or an array");
        p = *pp;
        if (mp_skip(&p, end) != 0)
            return bad_value(err, t, c, "malformed value");
        out->kind = CK_V_JSON;
        out->p = *pp;
        out->len = (uint32_t)(p - *pp);
        break;
    case CK_T_BLOB:
    case CK_T_VARBINARY:
        if (o.type != MP_BIN)
            return bad_value(err, t, c, "expected bin");
        if (c->type == CK_T_VARBINARY && o.v.str.len > c->length)
            return bad_value(err, t, c, "value too long");
        out->kind = CK_V_BIN;
        out->p = o.v.str.ptr;
        out->len = o.v.str.len;
        break;
    default: return bad_value(err, t, c, why);
    }
    *pp = p;
    return 0;
}

/* ------------------------------------------------------------------ defaults */

/* Literal defaults parsed once: [table index][column]. */
static struct ck_val *literal_defaults[256];
static pthread_once_t defaults_once = PTHREAD_ONCE_INIT;

static void parse_literal_defaults(void)
{
    for (unsigned ti = 0; ti < ck_catalog.ntables; ti++) {
        const struct ck_table *t = &ck_catalog.tables[ti];
        static struct ck_val storage[64 * 64];
        static unsigned used;
        literal_defaults[ti] = &storage[used];
        for (unsigned i = 0; i < t->ncols; i++) {
            struct ck_val *v = &storage[used + i];
            v->kind = CK_V_NULL;
            const struct ck_column *c = &t->cols[i];
            if (c->default_kind == CK_DEF_LITERAL)
                ck_val_from_text(c, c->default_literal, strlen(c->default_literal), v);
        }
        used += t->ncols;
    }
}

void ck_val_default(const struct ck_table *t, unsigned col, int64_t now_ms, struct ck_val *out)
{
    const struct ck_column *c = &t->cols[col];
    switch (c->default_kind) {
    case CK_DEF_LITERAL:
        pthread_once(&defaults_once, parse_literal_defaults);
        *out = literal_defaults[ck_table_index(t)][col];
        return;
    case CK_DEF_NOW:
        out->kind = CK_V_INT;
        out->i = now_ms;
        return;
    case CK_DEF_UUID:
        out->kind = CK_V_UUID;
        ck_uuid_v7(out->uuid);
        return;
    case CK_DEF_NONE:
        /* MySQL's implicit default of an ENUM NOT NULL column without DEFAULT is its
         * first member, in strict mode too: MariaDB 10.11 stores it for an insert that
         * omits the column (where any other NOT NULL column without DEFAULT is error
         * 1364). Omitting it here must be accepted the same way. */
        if (c->type == CK_T_ENUM && !c->nullable && c->n_enum > 0) {
            out->kind = CK_V_INT;
            out->i = 1;
            return;
        }
        out->kind = CK_V_NULL;
        return;
    default: out->kind = CK_V_NULL; return;
    }
}

/* ------------------------------------------------------------------ misc */

bool ck_val_eq(const struct ck_column *c, const struct ck_val *a, const struct ck_val *b)
{
    (void)c;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case CK_V_NULL: return true;
    case CK_V_INT: return a->i == b->i;
    case CK_V_UUID: return memcmp(a->uuid, b->uuid, 16) == 0;
    default: return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
    }
}

ck_colmask ck_table_hidden_cols(const struct ck_table *t)
{
    if (strcmp(t->name, "users") == 0) {
        int c = ck_column_find(t, "password_hash", 13);
        if (c >= 0)
            return CK_COL(c);
    }
    return 0;
}
