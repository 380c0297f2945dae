/*
 * The query planner and executor (storage/query.c): which index the planner
 * picks for the catalog's tables, what it refuses, and what a walk returns and
 * visits in a real LMDB environment (order, ties, soft-deleted rows, pages,
 * cursors of other queries and other tenants, "today" in a time zone,
 * includes).
 *
 * Params are written as JSON with single quotes for readability and turned
 * into msgpack by the small converter below.
 */
#include <check.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckrun.h"
#include "query.h"
#include "tenants.h"
#include "timeval.h"
#include "uuid.h"

/* ------------------------------------------------------------------ JSON-ish params */

static const char *js_ws(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return s;
}

/* Convert one JSON value ('...' or "..." strings, integers, true, false, null,
 * arrays, objects) to msgpack. Returns the text after it. */
static const char *js_value(const char *s, msgpack_packer *pk)
{
    s = js_ws(s);
    if (*s == '\'' || *s == '"') {
        char q = *s++;
        const char *e = strchr(s, q);
        ck_assert_ptr_nonnull(e);
        mp_pack_str(pk, s, (size_t)(e - s));
        return e + 1;
    }
    if (*s == '[' || *s == '{') {
        bool map = *s == '{';
        char close = map ? '}' : ']';
        /* Count the elements first: msgpack headers come before them. */
        struct buf tmp = BUF_INIT;
        msgpack_packer tpk;
        mp_packer_init(&tpk, &tmp);
        uint32_t n = 0;
        s = js_ws(s + 1);
        while (*s != close) {
            s = js_value(s, &tpk);
            if (map) {
                s = js_ws(s);
                ck_assert_int_eq(*s, ':');
                s = js_value(s + 1, &tpk);
            }
            n++;
            s = js_ws(s);
            if (*s == ',')
                s = js_ws(s + 1);
        }
        if (map)
            msgpack_pack_map(pk, n);
        else
            msgpack_pack_array(pk, n);
        mp_pack_raw(pk, tmp.data, tmp.len);
        buf_free(&tmp);
        return s + 1;
    }
    if (!strncmp(s, "true", 4)) {
        msgpack_pack_true(pk);
        return s + 4;
    }
    if (!strncmp(s, "false", 5)) {
        msgpack_pack_false(pk);
        return s + 5;
    }
    if (!strncmp(s, "null", 4)) {
        msgpack_pack_nil(pk);
        return s + 4;
    }
    char *e;
    long long v = strtoll(s, &e, 10);
    ck_assert_ptr_ne(e, s);
    msgpack_pack_int64(pk, v);
    return e;
}

static struct buf params; /* the params of the last query: filters point into them */

/* Params from a printf format. */
static void P(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void P(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    buf_reset(&params);
    msgpack_packer pk;
    mp_packer_init(&pk, &params);
    const char *rest = js_value(text, &pk);
    ck_assert_int_eq(*js_ws(rest), 0);
}

/* ------------------------------------------------------------------ the world */

static char dir[64];
static struct kv kv;
static struct ck_err err;
static int64_t now_ms;

static struct {
    uint8_t a[16], b[16]; /* tenants */
    uint8_t clinic[16], clinic_b[16];
    uint8_t pat[16], pat2[16], pat_b[16];
    uint8_t appt[8][16]; /* pat's appointments, see setup */
    uint8_t drug[16], batch[16], sale[16], sale2[16];
    uint8_t item[3][16];
} W;

static MDB_txn *txn;
static struct ck_ctx ctx;

static void use_tenant(const uint8_t *t)
{
    ctx.tenant = t;
}

static void begin(void)
{
    ck_assert_int_eq(kv_write_begin(&kv, &txn), 0);
    memset(&ctx, 0, sizeof ctx);
    ctx.kv = &kv;
    ctx.txn = txn;
    ctx.now_ms = now_ms;
    ctx.err = &err;
    ctx.tenant = kv_system_tenant;
}

static void commit(void)
{
    ck_assert_int_eq(kv_write_commit(&kv, txn), 0);
    txn = NULL;
}

/* Insert a row: NULL-terminated column/text pairs (NULL text: SQL NULL). */
static void insert(const char *table, uint8_t *id_out, ...)
{
    struct ck_row row = {.t = ck_table_find(table, strlen(table))};
    ck_assert_ptr_nonnull(row.t);
    ck_colmask present = 0;
    va_list ap;
    va_start(ap, id_out);
    const char *col;
    while ((col = va_arg(ap, const char *)) != NULL) {
        const char *text = va_arg(ap, const char *);
        int c = ck_column_find(row.t, col, strlen(col));
        ck_assert_msg(c >= 0, "no column %s.%s", table, col);
        present |= CK_COL(c);
        if (!text) {
            row.v[c].kind = CK_V_NULL;
        } else if (row.t->cols[c].type == CK_T_BLOB) {
            row.v[c].kind = CK_V_BIN;
            row.v[c].p = text;
            row.v[c].len = (uint32_t)strlen(text);
        } else {
            ck_assert_msg(ck_row_set_text(&row, &present, col, text) == 0, "%s.%s = %s", table, col,
                          text);
        }
    }
    va_end(ap);
    struct buf stored = BUF_INIT;
    int rc = ck_rows_insert(&ctx, &row, present, &stored);
    ck_assert_msg(rc == 0, "insert %s: %s", table, err.message);
    if (id_out)
        memcpy(id_out, row.v[row.t->col_id].uuid, 16);
    buf_free(&stored);
}

static const char *idtext(const uint8_t id[16])
{
    static char bufs[8][37];
    static unsigned next;
    char *b = bufs[next++ % 8];
    ck_uuid_format(id, b);
    return b;
}

/* Params from a template naming the world's ids: $PAT, $CLINIC, $ID (pat's first
 * appointment), $A and $B (the tenants). */
static void T(const char *tmpl)
{
    static const struct {
        const char *token;
        const uint8_t *id;
    } subs[] = {
        {"$PAT", W.pat}, {"$CLINIC", W.clinic}, {"$ID", W.appt[0]}, {"$A", W.a}, {"$B", W.b}};
    char text[4096];
    size_t n = 0;
    while (*tmpl && n < sizeof text - 40) {
        size_t i = 0;
        while (i < sizeof subs / sizeof subs[0] &&
               strncmp(tmpl, subs[i].token, strlen(subs[i].token)))
            i++;
        if (i < sizeof subs / sizeof subs[0]) {
            n += (size_t)snprintf(text + n, sizeof text - n, "%s", idtext(subs[i].id));
            tmpl += strlen(subs[i].token);
        } else {
            text[n++] = *tmpl++;
        }
    }
    text[n] = 0;
    P("%s", text);
}

static void setup(void)
{
    strcpy(dir, "/tmp/check-query-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(kv_open(&kv, dir, true, NULL, &err), 0);
    ck_assert_int_eq(ck_ts_parse("2026-11-26T03:00:00Z", 20, &now_ms), 0);
    begin();
    insert("tenants", W.a, "slug", "acme", "name", "Acme", NULL);
    insert("tenants", W.b, "slug", "beta", "name", "Beta", NULL);
    use_tenant(W.a);
    insert("clinics", W.clinic, "name", "Main", "code", "MAIN", "timezone", "America/New_York",
           NULL);
    insert("patients", W.pat, "clinic_id", idtext(W.clinic), "medical_record_number", "M1",
           "encrypted_demographics", "x", "demographics_key_id", "k1", "next_recall_date",
           "2026-11-25", NULL);
    insert("patients", W.pat2, "clinic_id", idtext(W.clinic), "medical_record_number", "M2",
           "encrypted_demographics", "x", "demographics_key_id", "k1", "next_recall_date",
           "2026-11-26", NULL);
    /* pat: eight appointments; 2 and 3 tie on the date; 5 is soft-deleted below.
     * In New York, now (2026-11-25 22:00 local) is on the 25th: 3, 4 and 5 are "today". */
    static const char *const when[8] = {"2026-11-20T10:00:00Z", "2026-11-21T10:00:00Z",
                                        "2026-11-22T10:00:00Z", "2026-11-22T10:00:00Z",
                                        "2026-11-25T05:00:00Z", "2026-11-26T04:59:59Z",
                                        "2026-11-26T05:00:00Z", "2026-11-25T04:59:59Z"};
    /* Fix the ids' order so that the tie of 2 and 3 is decided by id. */
    for (int i = 0; i < 8; i++) {
        ck_uuid_v7(W.appt[i]);
        insert("appointments", NULL, "id", idtext(W.appt[i]), "clinic_id", idtext(W.clinic),
               "patient_id", idtext(W.pat), "appointment_date", when[i], "operatory",
               i % 2 ? "Op 1" : "OP 1 ", NULL);
    }
    insert("appointments", NULL, "clinic_id", idtext(W.clinic), "patient_id", idtext(W.pat2),
           "appointment_date", "2026-11-23T10:00:00Z", NULL);
    ck_assert_int_eq(ck_rows_soft_delete(&ctx, ck_table_find("appointments", 12), W.appt[5]), 0);

    /* Pharmacy: one drug, one batch, two sales, three items on the first. */
    insert("pharmacy_drugs", W.drug, "clinic_id", idtext(W.clinic), "sku", "AMOX", "name",
           "Amoxicillin", "unit_price", "1.50", NULL);
    insert("pharmacy_drug_inventory", W.batch, "clinic_id", idtext(W.clinic), "drug_id",
           idtext(W.drug), "batch_id", "LOT-1", "quantity", "100", "quantity_received", "100",
           "cost_price", "0.50", "expiry_date", "2026-12-10", NULL);
    insert("pharmacy_sales", W.sale, "clinic_id", idtext(W.clinic), "sale_number", "S-1",
           "sale_date", "2026-11-25T15:00:00Z", NULL);
    insert("pharmacy_sales", W.sale2, "clinic_id", idtext(W.clinic), "sale_number", "S-2",
           "sale_date", "2026-11-25T16:00:00Z", NULL);
    static const char *const lines[3] = {"3", "1", "2"};
    for (int i = 0; i < 3; i++)
        insert("pharmacy_sale_items", W.item[i], "sale_id", idtext(W.sale), "drug_id",
               idtext(W.drug), "inventory_id", idtext(W.batch), "line_number", lines[i],
               "drug_name", "Amoxicillin", "quantity", "1", "unit_price", "1.50", "cost_price",
               "0.50", "line_total", "1.50", NULL);
    insert("pharmacy_sale_items", NULL, "sale_id", idtext(W.sale2), "drug_id", idtext(W.drug),
           "inventory_id", idtext(W.batch), "line_number", "1", "drug_name", "Amoxicillin",
           "quantity", "1", "unit_price", "1.50", "cost_price", "0.50", "line_total", "1.50", NULL);

    /* Tenant beta: the same shapes, which acme must never see. */
    use_tenant(W.b);
    insert("clinics", W.clinic_b, "name", "Beta", "code", "MAIN", NULL);
    insert("patients", W.pat_b, "clinic_id", idtext(W.clinic_b), "medical_record_number", "M1",
           "encrypted_demographics", "x", "demographics_key_id", "k1", NULL);
    for (int i = 0; i < 3; i++)
        insert("appointments", NULL, "clinic_id", idtext(W.clinic_b), "patient_id", idtext(W.pat_b),
               "appointment_date", "2026-11-24T10:00:00Z", NULL);
    commit();
}

static void teardown(void)
{
    if (txn)
        mdb_txn_abort(txn);
    txn = NULL;
    kv_close(&kv);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    buf_free(&params);
    ck_err_free(&err);
}

/* ------------------------------------------------------------------ running queries */

struct got {
    unsigned n;
    uint8_t ids[64][16];
};

static int collect(void *arg, const struct ck_row *r)
{
    struct got *g = arg;
    ck_assert_uint_lt(g->n, 64);
    memcpy(g->ids[g->n++], r->v[r->t->col_id].uuid, 16);
    return 0;
}

/* Parse the params set by P() as a query of table in tenant, in ctx's txn. */
static int parse(struct ck_query *q, const char *table, const uint8_t *tenant)
{
    const char *p = params.data, *end = p + params.len;
    struct mp_obj m;
    ck_assert_int_eq(mp_next(&p, end, &m), 0);
    ck_assert_int_eq(m.type, MP_MAP);
    ctx.tenant = tenant;
    ck_err_clear(&err);
    return ck_query_parse(q, &ctx, ck_table_find(table, strlen(table)), p, m.v.n, end, NULL);
}

/* Parse, plan and run in a read snapshot; g gets the ids returned. */
static int run(struct ck_query *q, const char *table, const uint8_t *tenant, struct got *g)
{
    memset(g, 0, sizeof *g);
    ck_assert_int_eq(kv_read_begin(&kv, &txn), 0);
    ctx.txn = txn;
    int rc = parse(q, table, tenant);
    if (rc == 0)
        rc = ck_query_plan(q, &err);
    if (rc == 0) {
        struct ck_query_sink sink = {NULL, collect, g};
        rc = ck_query_run(&ctx, q, &sink);
    }
    kv_read_end(&kv, txn);
    txn = NULL;
    return rc;
}

static bool same_id(const uint8_t a[16], const uint8_t b[16])
{
    return memcmp(a, b, 16) == 0;
}

/* ------------------------------------------------------------------ planning */

struct plan_case {
    const char *table;
    const char *params;
    const char *index; /* "PRIMARY" for the primary key */
    unsigned kind;
    unsigned neq;
    const char *range; /* NULL: none */
    bool desc, scan;
};

START_TEST(test_plan_choices)
{
    const struct plan_case cases[] = {
        /* The seed's three queries. */
        {"appointments",
         "{'where': {'patient_id': '$PAT'}, 'order_by': [['appointment_date', 'desc']]}",
         "idx_appointments_tenant_patient_date", CK_QPLAN_INDEX, 1, NULL, true, false},
        {"pharmacy_sales",
         "{'where': {'sale_date': {'gte': '2026-11-25T05:00:00Z', 'lt': '2026-11-26T05:00:00Z'}}}",
         "idx_pharmacy_sales_tenant_date", CK_QPLAN_INDEX, 0, "sale_date", false, false},
        {"pharmacy_drug_inventory",
         "{'where': {'expiry_date': {'gte': '2026-11-26', 'lte': '2026-12-26'}}, 'order_by': "
         "[['expiry_date', 'asc']]}",
         "idx_pharmacy_drug_inventory_tenant_expiry", CK_QPLAN_INDEX, 0, "expiry_date", false,
         false},
        /* The shorter index wins when no order needs the longer one. */
        {"appointments", "{'where': {'patient_id': '$PAT'}}", "idx_appointments_patient",
         CK_QPLAN_INDEX, 1, NULL, false, false},
        /* Equality and range together; today_in_clinic is a range too. */
        {"pharmacy_sales",
         "{'where': {'clinic_id': '$CLINIC', 'sale_date': {'today_in_clinic': '$CLINIC'}}, "
         "'order_by': ['sale_date']}",
         "idx_pharmacy_sales_clinic_date", CK_QPLAN_INDEX, 1, "sale_date", false, false},
        {"appointments",
         "{'where': {'status': 'scheduled'}, 'order_by': [['appointment_date', 'desc']]}",
         "idx_appointments_tenant_status_date", CK_QPLAN_INDEX, 1, NULL, true, false},
        {"appointments",
         "{'where': {'clinic_id': '$CLINIC', 'operatory': 'op 1'}, 'order_by': "
         "[['appointment_date', 'asc'], ['id', 'asc']]}",
         "idx_appointments_clinic_operatory_date", CK_QPLAN_INDEX, 2, NULL, false, false},
        {"appointments",
         "{'where': {'clinic_id': '$CLINIC'}, 'order_by': [['appointment_date', 'asc']]}",
         "idx_appointments_clinic_date", CK_QPLAN_INDEX, 1, NULL, false, false},
        /* An order on a column fixed by equality is no order. */
        {"appointments",
         "{'where': {'patient_id': '$PAT'}, 'order_by': [['patient_id', 'desc'], "
         "['appointment_date', 'desc']]}",
         "idx_appointments_tenant_patient_date", CK_QPLAN_INDEX, 1, NULL, true, false},
        /* No filter: a walk in the order asked for, or the primary key. */
        {"appointments", "{'order_by': [['patient_id', 'asc'], ['appointment_date', 'asc']]}",
         "idx_appointments_tenant_patient_date", CK_QPLAN_INDEX, 0, NULL, false, false},
        {"appointments", "{}", "PRIMARY", CK_QPLAN_PRIMARY, 0, NULL, false, false},
        {"appointments", "{'order_by': [['id', 'desc']]}", "PRIMARY", CK_QPLAN_PRIMARY, 0, NULL,
         true, false},
        /* The primary key: point reads, a range. */
        {"appointments", "{'where': {'id': '$ID', 'status': 'scheduled'}}", "PRIMARY", CK_QPLAN_IDS,
         0, NULL, false, false},
        {"appointments", "{'where': {'id': {'in': ['$ID', '$PAT']}}}", "PRIMARY", CK_QPLAN_IDS, 0,
         NULL, false, false},
        {"appointments", "{'where': {'id': {'gt': '$ID'}}}", "PRIMARY", CK_QPLAN_PRIMARY, 0, "id",
         false, false},
        /* is_null is an equality with NULL, which keys hold; NOT NULL a range. */
        {"appointments",
         "{'where': {'dentist_id': null}, 'order_by': [['appointment_date', 'desc']]}",
         "idx_appointments_dentist_date", CK_QPLAN_INDEX, 1, NULL, true, false},
        {"appointments", "{'where': {'dentist_id': {'is_null': false}}}",
         "idx_appointments_dentist_date", CK_QPLAN_INDEX, 0, "dentist_id", false, false},
        /* Allowed scans: by the primary key, or by an index giving the order. */
        {"appointments", "{'where': {'notes': 'x'}, 'allow_scan': true}", "PRIMARY",
         CK_QPLAN_PRIMARY, 0, NULL, false, true},
        {"appointments",
         "{'where': {'notes': 'x'}, 'order_by': [['appointment_date', 'desc']], 'allow_scan': "
         "true}",
         "idx_appointments_date_status", CK_QPLAN_INDEX, 0, NULL, true, true},
        /* A tenant_id equal to the caller's is implicit. */
        {"patients", "{'where': {'tenant_id': '$A', 'status': 'active'}}",
         "idx_patients_tenant_status", CK_QPLAN_INDEX, 1, NULL, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct plan_case *pc = &cases[i];
        struct ck_query q;
        T(pc->params);
        ck_assert_int_eq(kv_read_begin(&kv, &txn), 0);
        ctx.txn = txn;
        int rc = parse(&q, pc->table, W.a);
        ck_assert_msg(rc == 0, "case %zu: parse: %s", i, err.message);
        rc = ck_query_plan(&q, &err);
        ck_assert_msg(rc == 0, "case %zu: plan: %s", i, err.message);
        ck_assert_msg(!strcmp(ck_query_index_name(&q), pc->index), "case %zu: %s, not %s", i,
                      ck_query_index_name(&q), pc->index);
        ck_assert_msg(q.plan.kind == pc->kind, "case %zu: kind %u", i, q.plan.kind);
        ck_assert_msg(q.plan.neq == pc->neq, "case %zu: neq %u", i, q.plan.neq);
        const char *range = q.plan.range_col >= 0 ? q.t->cols[q.plan.range_col].name : NULL;
        ck_assert_msg((range == NULL) == (pc->range == NULL) &&
                          (!range || !strcmp(range, pc->range)),
                      "case %zu: range %s", i, range ? range : "none");
        ck_assert_msg(q.plan.desc == pc->desc, "case %zu: direction", i);
        ck_assert_msg(q.plan.scan == pc->scan, "case %zu: scan", i);
        ck_query_free(&q);
        kv_read_end(&kv, txn);
        txn = NULL;
    }
}
END_TEST

struct refusal {
    const char *table;
    const char *params;
    int code;
    const char *in_message; /* NULL: any */
};

START_TEST(test_plan_refusals)
{
    const struct refusal cases[] = {
        {"appointments", "{'where': {'notes': 'x'}}", -CK_ENOINDEX, "allow_scan"},
        {"appointments", "{'where': {'patient_id': '$PAT'}, 'order_by': [['reason', 'asc']]}",
         -CK_ENOINDEX, NULL},
        {"appointments", "{'order_by': [['reason', 'asc']], 'allow_scan': true}", -CK_ENOINDEX,
         "order_by"},
        {"appointments",
         "{'where': {'patient_id': '$PAT'}, 'order_by': [['appointment_date', 'asc'], ['id', "
         "'desc']]}",
         -CK_ENOINDEX, "directions"},
        {"appointments", "{'limit': 1001}", -CK_EBADREQ, "limit"},
        {"appointments", "{'limit': 0}", -CK_EBADREQ, "limit"},
        {"appointments", "{'where': {'nope': 1}}", -CK_EUNKCOLUMN, NULL},
        {"appointments", "{'order_by': [['nope', 'asc']]}", -CK_EUNKCOLUMN, NULL},
        {"appointments", "{'where': {'status': {'like': 'x'}}}", -CK_EBADREQ, "operator"},
        {"appointments", "{'where': {'status': 'not-a-status'}}", -CK_EINVAL, NULL},
        {"appointments", "{'where': {'appointment_date': {'gt': null}}}", -CK_EBADREQ, "is_null"},
        {"appointments", "{'where': {'planned_procedures': 'x'}}", -CK_EBADREQ, "cannot filter"},
        {"users", "{'where': {'password_hash': 'x'}}", -CK_EBADREQ, "cannot filter"},
        {"patients", "{'where': {'encrypted_demographics': 'x'}}", -CK_EBADREQ, "cannot filter"},
        {"patients", "{'where': {'demographics': {'last_name': 'x', 'first_name': 'y'}}}",
         -CK_EFORBIDDEN, NULL},
        {"appointments", "{'where': {'tenant_id': '$B'}}", -CK_EFORBIDDEN, "tenant"},
        {"appointments", "{'where': {'reason': {'today_in': 'UTC'}}}", -CK_EBADREQ, "TIMESTAMP"},
        {"appointments", "{'where': {'appointment_date': {'today_in': 'Mars/Olympus'}}}",
         -CK_EINVAL, "time zone"},
        {"appointments", "{'where': {'appointment_date': {'today_in_clinic': '$PAT'}}}",
         -CK_ENOTFOUND, "clinic"},
        {"appointments", "{'after': 'not a cursor!'}", -CK_EBADREQ, "cursor"},
        {"appointments", "{'include': ['appointment_conflicts']}", -CK_EBADREQ, "several"},
        {"appointments", "{'include': ['reason']}", -CK_EBADREQ, "foreign key"},
        {"appointments", "{'include': ['clinics']}", -CK_EBADREQ, "no such foreign key"},
        {"appointments", "{'include': ['nope']}", -CK_EUNKTABLE, NULL},
        {"clinics", "{'include': ['users.tenant_id']}", -CK_EBADREQ, "no such foreign key"},
        {"tenants", "{'include': ['clinics']}", -CK_EBADREQ, "whole tenant"},
        {"appointments", "{'wher': {}}", -CK_EBADREQ, "unknown param"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct refusal *rf = &cases[i];
        struct ck_query q;
        T(rf->params);
        ck_assert_int_eq(kv_read_begin(&kv, &txn), 0);
        ctx.txn = txn;
        int rc = parse(&q, rf->table, W.a);
        if (rc == 0)
            rc = ck_query_plan(&q, &err);
        ck_assert_msg(rc == rf->code, "case %zu: got %d (%s), want %d", i, rc, err.message,
                      rf->code);
        ck_assert_msg(!rf->in_message || strstr(err.message, rf->in_message),
                      "case %zu: message %s", i, err.message);
        ck_query_free(&q);
        kv_read_end(&kv, txn);
        txn = NULL;
    }
}
END_TEST

START_TEST(test_include_resolution)
{
    struct ck_query q;
    P("{'include': ['pharmacy_sale_items', 'clinic_id', "
      "'appointment_conflicts.conflicting_appointment_id']}");
    ck_assert_int_eq(parse(&q, "pharmacy_sales", W.a), -CK_EBADREQ); /* no conflicts of a sale */
    ck_query_free(&q);
    P("{'include': ['pharmacy_sale_items', 'clinic_id', 'patient_id']}");
    ck_assert_int_eq(parse(&q, "pharmacy_sales", W.a), 0);
    ck_assert_uint_eq(q.ninc, 3);
    ck_assert(q.inc[0].child);
    ck_assert_str_eq(q.inc[0].table->name, "pharmacy_sale_items");
    ck_assert_str_eq(q.inc[0].table->cols[q.inc[0].fk->column].name, "sale_id");
    ck_assert(!q.inc[1].child);
    ck_assert_str_eq(q.inc[1].table->name, "clinics");
    ck_assert_str_eq(q.inc[2].table->name, "patients");
    ck_query_free(&q);
    P("{'include': ['appointment_conflicts.conflicting_appointment_id']}");
    ck_assert_int_eq(parse(&q, "appointments", W.a), 0);
    ck_assert_str_eq(q.inc[0].table->cols[q.inc[0].fk->column].name, "conflicting_appointment_id");
    ck_query_free(&q);
}
END_TEST

/* ------------------------------------------------------------------ walks */

START_TEST(test_newest_first_visits_only_its_keys)
{
    struct ck_query q;
    struct got g;
    P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'desc']]}", idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    /* Newest first, the tie of 2 and 3 by id descending, 5 soft-deleted. */
    static const int want[] = {6, 4, 7, 3, 2, 1, 0};
    ck_assert_uint_eq(g.n, 7);
    for (unsigned i = 0; i < 7; i++)
        ck_assert_msg(same_id(g.ids[i], W.appt[want[i]]), "row %u", i);
    ck_assert(!q.more);
    /* Eight entries in range (one soft-deleted) and the key that ends the walk. */
    ck_assert_uint_eq(q.stats.keys_visited, 8 + 1);
    ck_assert_uint_eq(q.stats.rows_examined, 8);
    ck_assert_uint_eq(q.stats.rows_returned, 7);
    ck_query_free(&q);

    /* with_deleted brings 5 back, in its place. */
    P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'desc']], 'with_deleted': "
      "true}",
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 8);
    ck_assert(same_id(g.ids[0], W.appt[6]) && same_id(g.ids[1], W.appt[5]));
    ck_query_free(&q);

    /* Ascending is the exact reverse. */
    P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'asc']]}", idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 7);
    for (unsigned i = 0; i < 7; i++)
        ck_assert(same_id(g.ids[i], W.appt[want[6 - i]]));
    ck_assert_uint_eq(q.stats.keys_visited, 8 + 1);
    ck_query_free(&q);
}
END_TEST

START_TEST(test_pages_resume_exactly)
{
    for (int desc = 0; desc < 2; desc++) {
        struct got all, g;
        struct ck_query q;
        P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', '%s']]}",
          idtext(W.pat), desc ? "desc" : "asc");
        ck_assert_int_eq(run(&q, "appointments", W.a, &all), 0);
        ck_query_free(&q);
        char cursor[1024] = "";
        unsigned seen = 0, pages = 0;
        for (;;) {
            if (cursor[0])
                P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', '%s']], "
                  "'limit': 2, 'after': '%s'}",
                  idtext(W.pat), desc ? "desc" : "asc", cursor);
            else
                P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', '%s']], "
                  "'limit': 2}",
                  idtext(W.pat), desc ? "desc" : "asc");
            ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
            pages++;
            for (unsigned i = 0; i < g.n; i++)
                ck_assert(same_id(g.ids[i], all.ids[seen + i]));
            seen += g.n;
            /* The page holds 2 rows and keeps looking for a third to know there is more. */
            ck_assert_uint_le(q.stats.rows_returned, 2);
            bool more = q.more;
            if (more)
                snprintf(cursor, sizeof cursor, "%.*s", (int)q.next.len, q.next.data);
            ck_query_free(&q);
            if (!more)
                break;
        }
        ck_assert_uint_eq(seen, all.n);
        ck_assert_uint_eq(pages, (all.n + 1) / 2);
    }
}
END_TEST

/* The cursor after the first two of pat's appointments, newest first. */
static void first_cursor(char *out, size_t n)
{
    struct ck_query q;
    struct got g;
    P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'desc']], 'limit': 2}",
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert(q.more);
    snprintf(out, n, "%.*s", (int)q.next.len, q.next.data);
    ck_query_free(&q);
}

START_TEST(test_cursor_belongs_to_its_query)
{
    char cur[1024];
    first_cursor(cur, sizeof cur);
    struct ck_query q;
    struct got g;
    const char *other[] = {
        /* another patient (the equality values), direction, index, table */
        "{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'desc']], 'after': "
        "'%s'}",
        "{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'asc']], 'after': '%s'}",
        "{'where': {'patient_id': '%s'}, 'after': '%s'}",
        "{'where': {'patient_id': '%s'}, 'order_by': [['prescribed_at', 'desc']], 'after': '%s'}",
    };
    const char *table[] = {"appointments", "appointments", "appointments",
                           "pharmacy_doctor_prescriptions"};
    for (int i = 0; i < 4; i++) {
        P(other[i], idtext(i == 0 ? W.pat2 : W.pat), cur);
        ck_assert_int_eq(run(&q, table[i], W.a, &g), -CK_EBADREQ);
        ck_assert_ptr_nonnull(strstr(err.message, "another query"));
        ck_query_free(&q);
    }
    /* A tampered cursor is refused or only moves the position: never an error of another kind. */
    for (size_t i = 0; i < strlen(cur); i++) {
        char bad[1024];
        strcpy(bad, cur);
        bad[i] = bad[i] == 'A' ? 'B' : 'A';
        P("{'where': {'patient_id': '%s'}, 'order_by': [['appointment_date', 'desc']], 'after': "
          "'%s'}",
          idtext(W.pat), bad);
        int rc = run(&q, "appointments", W.a, &g);
        ck_assert_msg(rc == 0 || rc == -CK_EBADREQ, "byte %zu: %d", i, rc);
        for (unsigned j = 0; j < g.n; j++) {
            bool ours = false;
            for (int k = 0; k < 8; k++)
                ours |= same_id(g.ids[j], W.appt[k]);
            ck_assert(ours);
        }
        ck_query_free(&q);
    }
}
END_TEST

START_TEST(test_cursor_is_relative_to_the_caller_tenant)
{
    /* beta's walk of the same index resumes at the same position in beta's keys. */
    struct ck_query q;
    struct got g;
    P("{'order_by': [['appointment_date', 'asc']], 'limit': 1}");
    ck_assert_int_eq(run(&q, "appointments", W.b, &g), 0);
    ck_assert(q.more);
    char cur[1024];
    snprintf(cur, sizeof cur, "%.*s", (int)q.next.len, q.next.data);
    ck_query_free(&q);
    P("{'order_by': [['appointment_date', 'asc']], 'after': '%s'}", cur);
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    /* acme's appointments after 2026-11-24T10:00Z: 4, 7, 6 (5 soft-deleted). */
    ck_assert_uint_eq(g.n, 3);
    ck_assert(same_id(g.ids[0], W.appt[7]) && same_id(g.ids[1], W.appt[4]) &&
              same_id(g.ids[2], W.appt[6]));
    ck_query_free(&q);
}
END_TEST

START_TEST(test_filters_on_rows)
{
    struct ck_query q;
    struct got g;
    /* operatory: 'OP 1 ' and 'Op 1' are one value under the collation. */
    P("{'where': {'patient_id': '%s', 'operatory': 'op 1', 'appointment_date': {'ne': "
      "'2026-11-22T10:00:00Z'}}, 'order_by': [['appointment_date', 'asc']]}",
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 5);
    ck_assert_str_eq(ck_query_index_name(&q), "idx_appointments_tenant_patient_date");
    ck_query_free(&q);
    /* A range on the walk's column bounds the walk: one key past the range. */
    P("{'where': {'patient_id': '%s', 'appointment_date': {'gte': '2026-11-21T10:00:00Z', 'lt': "
      "'2026-11-25T05:00:00Z'}}, 'order_by': [['appointment_date', 'desc']]}",
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 4); /* 7, 3, 2, 1 */
    ck_assert(same_id(g.ids[0], W.appt[7]) && same_id(g.ids[3], W.appt[1]));
    ck_assert_uint_eq(q.stats.keys_visited, 4 + 1);
    ck_query_free(&q);
    /* in with NULL, is_null, and an in on the primary key. */
    P("{'where': {'id': {'in': ['%s', '%s', '%s']}}, 'order_by': [['id', 'desc']]}",
      idtext(W.appt[0]), idtext(W.appt[5]), idtext(W.appt[1]));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 2);
    ck_assert(same_id(g.ids[0], W.appt[1]) && same_id(g.ids[1], W.appt[0]));
    ck_query_free(&q);
    P("{'where': {'patient_id': '%s', 'dentist_id': {'in': [null, '%s']}}}", idtext(W.pat),
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 7);
    ck_query_free(&q);
    /* A cursor below the range (the client narrowed it between pages) starts at
     * the range's first key, even an id bound equal to a row's key. */
    P("{'order_by': [['id', 'asc']], 'limit': 1}");
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert(q.more && same_id(g.ids[0], W.appt[0]));
    char cur[1024];
    snprintf(cur, sizeof cur, "%.*s", (int)q.next.len, q.next.data);
    ck_query_free(&q);
    P("{'where': {'id': {'gte': '%s'}}, 'order_by': [['id', 'asc']], 'limit': 1, 'after': '%s'}",
      idtext(W.appt[3]), cur);
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 1);
    ck_assert(same_id(g.ids[0], W.appt[3]));
    ck_query_free(&q);
    /* beta's rows are not acme's: the same query in beta sees only beta's. */
    P("{'where': {'patient_id': '%s'}}", idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.b, &g), 0);
    ck_assert_uint_eq(g.n, 0);
    ck_query_free(&q);
}
END_TEST

START_TEST(test_today_in_a_zone)
{
    struct ck_query q;
    struct got g;
    /* now is 2026-11-26T03:00Z: the 25th in New York (05:00Z to 05:00Z next day). */
    P("{'where': {'patient_id': '%s', 'appointment_date': {'today_in': 'America/New_York'}}, "
      "'order_by': [['appointment_date', 'asc']], 'with_deleted': true}",
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 2);
    ck_assert(same_id(g.ids[0], W.appt[4]) && same_id(g.ids[1], W.appt[5]));
    ck_query_free(&q);
    /* The clinic's own zone, read from clinics.timezone. */
    P("{'where': {'patient_id': '%s', 'appointment_date': {'today_in_clinic': '%s'}}}",
      idtext(W.pat), idtext(W.clinic));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 1); /* 4; 5 is soft-deleted */
    ck_query_free(&q);
    /* In UTC it is already the 26th. */
    P("{'where': {'patient_id': '%s', 'appointment_date': {'today_in': 'UTC'}}, 'with_deleted': "
      "true}",
      idtext(W.pat));
    ck_assert_int_eq(run(&q, "appointments", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 2); /* 5 and 6 */
    ck_query_free(&q);
    /* A DATE column: today is a date. */
    P("{'where': {'clinic_id': '%s', 'next_recall_date': {'today_in': 'America/New_York'}}}",
      idtext(W.clinic));
    ck_assert_int_eq(run(&q, "patients", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 1);
    ck_assert(same_id(g.ids[0], W.pat));
    ck_assert_str_eq(ck_query_index_name(&q), "idx_patients_clinic_recall");
    ck_assert_uint_eq(q.plan.neq, 2);
    ck_query_free(&q);
}
END_TEST

START_TEST(test_includes)
{
    struct ck_query q;
    struct got g, items;
    P("{'where': {'sale_date': {'today_in_clinic': '%s'}}, 'include': ['pharmacy_sale_items', "
      "'clinic_id']}",
      idtext(W.clinic));
    ck_assert_int_eq(run(&q, "pharmacy_sales", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 2);
    ck_assert(same_id(g.ids[0], W.sale) && same_id(g.ids[1], W.sale2));
    ck_assert_uint_eq(q.stats.keys_visited, 2 + 1);
    /* The first sale's items, by line number (the FK's index is sale_id, line_number). */
    ck_assert_int_eq(kv_read_begin(&kv, &txn), 0);
    ctx.txn = txn;
    ctx.tenant = W.a;
    struct ck_row r;
    ck_assert_int_eq(ck_rows_get(&ctx, q.t, W.sale, false, &r), 0);
    memset(&items, 0, sizeof items);
    struct ck_query_sink sink = {NULL, collect, &items};
    ck_assert_int_eq(ck_query_include(&ctx, &q, &q.inc[0], &r, &sink), 0);
    ck_assert_uint_eq(items.n, 3);
    ck_assert(same_id(items.ids[0], W.item[1]) && same_id(items.ids[1], W.item[2]) &&
              same_id(items.ids[2], W.item[0]));
    ck_assert_uint_eq(q.stats.include_keys_visited, 3 + 1);
    memset(&items, 0, sizeof items);
    ck_assert_int_eq(ck_query_include(&ctx, &q, &q.inc[1], &r, &sink), 0);
    ck_assert_uint_eq(items.n, 1);
    ck_assert(same_id(items.ids[0], W.clinic));
    kv_read_end(&kv, txn);
    txn = NULL;
    ck_query_free(&q);
}
END_TEST

START_TEST(test_key_budget_ends_a_page)
{
    /* More rows than one call may visit, and a scan for the last one. */
    begin();
    use_tenant(W.a);
    char slug[32];
    for (int i = 0; i < CK_QUERY_KEY_BUDGET + 5; i++) {
        snprintf(slug, sizeof slug, "c%05d", i);
        insert("product_categories", NULL, "name", slug, "slug", slug, "description",
               i == CK_QUERY_KEY_BUDGET + 4 ? "needle" : NULL, NULL);
    }
    commit();
    struct ck_query q;
    struct got g;
    P("{'where': {'description': 'needle'}, 'allow_scan': true, 'limit': 5}");
    ck_assert_int_eq(run(&q, "product_categories", W.a, &g), 0);
    ck_assert(q.plan.scan);
    ck_assert_uint_eq(q.stats.keys_visited, CK_QUERY_KEY_BUDGET);
    ck_assert_uint_eq(g.n, 0);
    ck_assert(q.more);
    char cur[1024];
    snprintf(cur, sizeof cur, "%.*s", (int)q.next.len, q.next.data);
    ck_query_free(&q);
    P("{'where': {'description': 'needle'}, 'allow_scan': true, 'limit': 5, 'after': '%s'}", cur);
    ck_assert_int_eq(run(&q, "product_categories", W.a, &g), 0);
    ck_assert_uint_eq(g.n, 1);
    ck_assert(!q.more);
    ck_assert_uint_eq(q.stats.keys_visited, 5 + 1);
    ck_query_free(&q);
}
END_TEST

static Suite *query_suite(void)
{
    Suite *s = suite_create("query");
    TCase *tc = tcase_create("plan");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_plan_choices);
    tcase_add_test(tc, test_plan_refusals);
    tcase_add_test(tc, test_include_resolution);
    suite_add_tcase(s, tc);
    tc = tcase_create("run");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_newest_first_visits_only_its_keys);
    tcase_add_test(tc, test_pages_resume_exactly);
    tcase_add_test(tc, test_cursor_belongs_to_its_query);
    tcase_add_test(tc, test_cursor_is_relative_to_the_caller_tenant);
    tcase_add_test(tc, test_filters_on_rows);
    tcase_add_test(tc, test_today_in_a_zone);
    tcase_add_test(tc, test_includes);
    tcase_add_test(tc, test_key_budget_ends_a_page);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return ckrun(query_suite());
}
