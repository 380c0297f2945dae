/*
 * The data generator's rules (benchgen_int.h): gen.py's row counts, the values
 * of each kind, cross-column fixups, and the PHI a clinickv client would write.
 * shared/bench/peers/gen.py's count_for, the value generators of make_value_gen
 * and fixup have their counterparts here; which kind each column gets, and the
 * FK plans (build_plan), are in benchgen_plan.c.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "benchgen_int.h"
#include "mp.h"
#include "timeval.h"

/* ------------------------------------------------------------------ gen.py's tables */

struct count_rule {
    const char *table;
    unsigned rows;
};

/* Rows per tenant at scale 1 (WORKLOAD.md), then gen.py's OTHER_ROWS. */
static const struct count_rule count_rules[] = {
    {"clinics", 3},
    {"users", 60},
    {"patients", 5000},
    {"appointments", 20000},
    {"clinical_notes", 5000},
    {"treatment_plans", 5000},
    {"suppliers", 20},
    {"products", 1000},
    {"inventory", 3000},
    {"orders", 1000},
    {"order_items", 4000},
    {"pharmacy_drugs", 500},
    {"pharmacy_drug_inventory", 5000},
    {"pharmacy_sales", 15000},
    {"pharmacy_sale_items", 35000},
    {"invoices", 10000},
    {"invoice_items", 25000},
    {"payments", 10000},
    {"analytics_events", 50000},
    {"ai_predictions", 10000},
    {"product_categories", 20},
    {"inventory_transactions", 300},
    {"insurance_providers", 15},
    {"patient_insurance", 300},
    {"appointment_recurrences", 100},
    {"appointment_conflicts", 50},
    {"payment_audit_log", 300},
    {"ai_models", 5},
    {"ai_insights", 100},
    {"feature_flags", 20},
    {"ab_tests", 5},
    {"ab_test_participants", 100},
    {"alerts", 20},
    {"alert_incidents", 100},
    {"pharmacy_suppliers", 10},
    {"pharmacy_drug_categories", 15},
    {"pharmacy_doctor_prescriptions", 300},
    {"pharmacy_prescription_items", 600},
};

/* Roles cycle so that every clinic has dentists and pharmacists. */
static const char *const user_roles[] = {"clinic_admin",
                                         "dentist",
                                         "dentist",
                                         "dentist",
                                         "dentist",
                                         "dentist",
                                         "hygienist",
                                         "hygienist",
                                         "hygienist",
                                         "dental_assistant",
                                         "dental_assistant",
                                         "dental_assistant",
                                         "receptionist",
                                         "receptionist",
                                         "receptionist",
                                         "pharmacist",
                                         "pharmacist",
                                         "pharmacy_technician",
                                         "billing_specialist",
                                         "analyst"};
#define NROLES (sizeof user_roles / sizeof user_roles[0])

bool bgen_role_in_set(unsigned role, int set)
{
    if (role == ROLE_ADMIN)
        return false;
    const char *r = user_roles[role];
    bool dentist = !strcmp(r, "dentist"), hygienist = !strcmp(r, "hygienist");
    return set == RS_DENTIST ? dentist : set == RS_HYGIENIST ? hygienist : dentist || hygienist;
}

static const char *const first_names[] = {"Ana",  "Ben",  "Chen", "Dana", "Eli",   "Fatma",
                                          "Gus",  "Hana", "Ivan", "Jo",   "Kemal", "Lea",
                                          "Mina", "Noor", "Omar", "Pia",  "Quinn", "Rosa",
                                          "Sami", "Tara", "Umut", "Vera", "Wen",   "Yara"};
static const char *const last_names[] = {"Adams",   "Baker",  "Costa",  "Demir",    "Evans",
                                         "Fischer", "Garcia", "Hill",   "Ito",      "Jensen",
                                         "Kaya",    "Lopez",  "Moreau", "Nakamura", "Okafor",
                                         "Patel",   "Rossi",  "Silva",  "Tanaka",   "Yilmaz"};
static const char *const words[] = {
    "amalgam",     "crown",       "molar",      "enamel",     "gingival", "implant",   "occlusal",
    "periodontal", "prophylaxis", "radiograph", "sealant",    "veneer",   "bridge",    "canal",
    "cleaning",    "review",      "follow",     "up",         "patient",  "tolerated", "procedure",
    "well",        "recommend",   "floss",      "twice",      "daily",    "next",      "visit",
    "six",         "months",      "local",      "anesthetic", "lidocaine"};
static const char *const drugs[] = {
    "Amoxicillin",  "Ibuprofen",   "Chlorhexidine", "Lidocaine",  "Articaine",    "Metronidazole",
    "Clindamycin",  "Paracetamol", "Fluoride",      "Benzocaine", "Naproxen",     "Azithromycin",
    "Penicillin V", "Doxycycline", "Nystatin",      "Acyclovir",  "Prednisolone", "Tramadol"};

static const int64_t strengths[] = {100, 200, 250, 400, 500};

const char *bgen_role_name(unsigned role)
{
    return role == ROLE_ADMIN ? "tenant_admin" : role < NROLES ? user_roles[role] : "";
}

/* count_for: rows per tenant (or in all, for global tables). */
uint32_t bgen_count_for(const struct gen *g, const struct ck_table *t, bool *global)
{
    double s = g->o->scale;
    if (!strcmp(t->name, "tenants")) {
        *global = true;
        return NTENANTS;
    }
    if (t->col_tenant < 0) {
        *global = true;
        double n = nearbyint((!strcmp(t->name, "performance_metrics") ? 1000 : 100) * s);
        return n < 10 ? 10 : (uint32_t)n;
    }
    *global = false;
    unsigned n = 20;
    for (size_t i = 0; i < NELEM(count_rules); i++) {
        if (!strcmp(count_rules[i].table, t->name))
            n = count_rules[i].rows;
    }
    if (!strcmp(t->name, "clinics"))
        return n;
    double v = nearbyint(n * s);
    unsigned min = !strcmp(t->name, "users") ? 9 : 2;
    return v < min ? min : (uint32_t)v;
}

/* ------------------------------------------------------------------ arena */

static char *arena_alloc(struct gen *g, size_t n)
{
    if (g->arena_len + n > sizeof g->arena)
        return NULL;
    char *p = g->arena + g->arena_len;
    g->arena_len += n;
    return p;
}

/* A string value of at most the column's length (gen.py's fit()); all generated
 * text is ASCII, so bytes are characters. */
void bgen_set_str(struct gen *g, const struct ck_column *c, struct ck_val *v, const char *s,
                  size_t len)
{
    if (c->length && len > c->length)
        len = c->length;
    char *p = arena_alloc(g, len ? len : 1);
    if (!p) {
        set_null(v);
        return;
    }
    memcpy(p, s, len);
    v->kind = CK_V_STR;
    v->p = p;
    v->len = (uint32_t)len;
}

static void set_fmt(struct gen *g, const struct ck_column *c, struct ck_val *v, const char *fmt,
                    ...) __attribute__((format(printf, 4, 5)));
static void set_fmt(struct gen *g, const struct ck_column *c, struct ck_val *v, const char *fmt,
                    ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    bgen_set_str(g, c, v, tmp, n < 0 ? 0 : (size_t)n >= sizeof tmp ? sizeof tmp - 1 : (size_t)n);
}

/* ------------------------------------------------------------------ rows */

static int64_t ts_ms(const struct gen *g, int64_t day, int64_t secs)
{
    return ((int64_t)g->anchor + day) * DAY_MS + secs * 1000;
}

static void json_small(struct gen *g, struct ck_val *v, int64_t n, const char *name)
{
    size_t nl = strlen(name);
    char *p = arena_alloc(g, 8 + nl);
    if (!p || nl > 255) {
        set_null(v);
        return;
    }
    char *q = p;
    *q++ = (char)0x82;
    *q++ = (char)0xa1;
    *q++ = 'v';
    *q++ = (char)n; /* a positive fixint: n < 100 */
    *q++ = (char)0xa1;
    *q++ = 'k';
    if (nl < 32) {
        *q++ = (char)(0xa0 | nl);
    } else {
        *q++ = (char)0xd9;
        *q++ = (char)nl;
    }
    memcpy(q, name, nl);
    q += nl;
    v->kind = CK_V_JSON;
    v->p = p;
    v->len = (uint32_t)(q - p);
}

static void words_str(struct gen *g, struct brng *r, const struct ck_column *c, struct ck_val *v,
                      int64_t lo, int64_t hi)
{
    char tmp[400];
    size_t n = 0;
    int64_t k = brng_range(r, lo, hi);
    for (int64_t i = 0; i < k; i++) {
        const char *w = words[brng_below(r, NELEM(words))];
        size_t wl = strlen(w);
        if (n + wl + 1 >= sizeof tmp)
            break;
        if (i)
            tmp[n++] = ' ';
        memcpy(tmp + n, w, wl);
        n += wl;
    }
    bgen_set_str(g, c, v, tmp, n);
}

void bgen_value_gen(struct gen *g, struct brng *r, const struct ck_table *t, const struct vgen *vg,
                    struct ck_row *row, unsigned tn, uint32_t k, uint64_t n)
{
    const struct ck_column *c = &t->cols[vg->col];
    struct ck_val *v = &row->v[vg->col];
    if (vg->kind == K_NULL || (vg->present < 1.0 && !(brng_unit(r) < vg->present))) {
        set_null(v);
        return;
    }
    switch (vg->kind) {
    case K_ENUM_CONST: set_int(v, vg->a); break;
    case K_ENUM_MOSTLY:
        set_int(v, brng_unit(r) < 0.9 ? vg->a : (int64_t)brng_range(r, 1, c->n_enum));
        break;
    case K_ENUM_RAND: set_int(v, brng_range(r, 1, c->n_enum)); break;
    case K_INT_CONST: set_int(v, vg->a); break;
    case K_INT_RANGE: set_int(v, brng_range(r, vg->a, vg->b)); break;
    case K_INT_LIST: set_int(v, vg->list[brng_below(r, (uint64_t)vg->a)]); break;
    case K_DEC_CONF: {
        int64_t d = brng_range(r, 5000, 9990); /* "0.dddd" cut to the column's scale */
        int64_t s = vg->b;
        set_int(v, s >= 4 ? d * ipow10((unsigned)(s - 4)) : d / ipow10((unsigned)(4 - s)));
        break;
    }
    case K_DEC_RATING: {
        int64_t units = brng_range(r, 1, 4) * 100 + brng_range(r, 0, 99);
        set_int(v, vg->b >= 2 ? units * ipow10((unsigned)(vg->b - 2))
                              : units / ipow10((unsigned)(2 - vg->b)));
        break;
    }
    case K_DEC_PCT: set_int(v, brng_range(r, 1, 100) * ipow10((unsigned)vg->b)); break;
    case K_DEC_RAND: {
        int64_t ip = brng_range(r, 1, vg->a);
        set_int(v,
                vg->b ? ip * ipow10((unsigned)vg->b) + brng_range(r, 0, ipow10((unsigned)vg->b) - 1)
                      : ip);
        break;
    }
    case K_BLOB: {
        char *p = arena_alloc(g, (size_t)vg->a);
        if (!p) {
            set_null(v);
            break;
        }
        brng_bytes(r, p, (size_t)vg->a);
        v->kind = CK_V_BIN;
        v->p = p;
        v->len = (uint32_t)vg->a;
        break;
    }
    case K_PHI:
        v->kind = CK_V_BIN; /* sealed once the row's id and values are known */
        v->p = NULL;
        v->len = 0;
        break;
    case K_JSON: json_small(g, v, brng_range(r, 1, 99), c->name); break;
    case K_DATE: set_int(v, (int64_t)g->anchor + brng_range(r, vg->a, vg->b)); break;
    case K_TS_APPT: /* 9 months back, 3 ahead; 15-minute slots 08:00-17:45 */
        set_int(v, ts_ms(g, brng_range(r, -274, 90), 8 * 3600 + 900 * brng_range(r, 0, 39)));
        break;
    case K_TS_SALE:
        set_int(v, ts_ms(g, -brng_range(r, 0, vg->a - 1), brng_range(r, 8 * 3600, 20 * 3600 - 1)));
        break;
    case K_TS: set_int(v, ts_ms(g, brng_range(r, vg->a, vg->b), brng_range(r, 0, 86399))); break;
    case K_UUID:
        v->kind = CK_V_UUID;
        brng_bytes(r, v->uuid, 16);
        v->uuid[6] = (uint8_t)(0x40 | (v->uuid[6] & 0x0f));
        v->uuid[8] = (uint8_t)(0x80 | (v->uuid[8] & 0x3f));
        break;
    case K_SLUG: set_fmt(g, c, v, "bench-%llu", (unsigned long long)n); break;
    case K_STR_UEMAIL:
        set_fmt(g, c, v, "%c%llu@t%u.example.com", c->name[0], (unsigned long long)n, tn);
        break;
    case K_STR_DOMAIN: set_fmt(g, c, v, "tenant%llu.clinics.example", (unsigned long long)n); break;
    case K_STR_UNIQUE: {
        char pre[8];
        size_t pl = 0;
        for (const char *q = c->name; *q && pl < 4; q++) {
            if (q == c->name || q[-1] == '_')
                pre[pl++] = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
        }
        pre[pl] = 0;
        set_fmt(g, c, v, "%s-%07llu", pre, (unsigned long long)n);
        break;
    }
    case K_STR_HEX64: {
        uint8_t b[32];
        char hex[65];
        brng_bytes(r, b, sizeof b);
        sodium_bin2hex(hex, sizeof hex, b, sizeof b);
        bgen_set_str(g, c, v, hex, 64);
        break;
    }
    case K_STR_DIGITS4: set_fmt(g, c, v, "%04d", (int)brng_range(r, 0, 9999)); break;
    case K_STR_CONST: bgen_set_str(g, c, v, vg->s, strlen(vg->s)); break;
    case K_STR_KMS: set_fmt(g, c, v, "kms/tenant-%u/key-1", tn); break;
    case K_STR_FIRST: set_fmt(g, c, v, "%s", first_names[brng_below(r, NELEM(first_names))]); break;
    case K_STR_LAST: set_fmt(g, c, v, "%s", last_names[brng_below(r, NELEM(last_names))]); break;
    case K_STR_DRUG:
        set_fmt(g, c, v, "%s %lldmg #%llu", drugs[n % NELEM(drugs)],
                (long long)strengths[brng_below(r, NELEM(strengths))], (unsigned long long)n);
        break;
    case K_STR_EMAIL:
        set_fmt(g, c, v, "%.3s%llu@t%u.example.com", c->name, (unsigned long long)n, tn);
        break;
    case K_STR_PHONE:
        set_fmt(g, c, v, "+1-555-%03d-%04d", (int)brng_range(r, 0, 999),
                (int)brng_range(r, 0, 9999));
        break;
    case K_STR_URL:
        set_fmt(g, c, v, "https://t%u.example.com/%s/%llu", tn, c->name, (unsigned long long)n);
        break;
    case K_STR_IP:
        set_fmt(g, c, v, "10.%u.%d.%d", tn, (int)brng_range(r, 0, 255), (int)brng_range(r, 1, 254));
        break;
    case K_STR_PWHASH: bgen_set_str(g, c, v, g->pwhash, strlen(g->pwhash)); break;
    case K_STR_WORDS: words_str(g, r, c, v, vg->a, vg->b); break;
    case K_STR_NAMEISH: {
        const char *w = c->name;
        size_t wl = strcspn(w, "_");
        set_fmt(g, c, v, "%s %s %.*s %u", first_names[brng_below(r, NELEM(first_names))],
                last_names[brng_below(r, NELEM(last_names))], (int)wl, w, k);
        break;
    }
    case K_STR_GENERIC: set_fmt(g, c, v, "%.12s-%d", c->name, (int)brng_range(r, 1, 999)); break;
    default: set_null(v); break;
    }
}

/* fixup: the CHECKs that span columns, and the users' roles and clinics. */
void bgen_fixup(struct gen *g, struct brng *r, const struct ck_table *t, struct ck_row *row,
                unsigned tn, uint32_t k, int *clinic_out, unsigned *role_out)
{
    const char *name = t->name;
#define COL(n) ck_column_find(t, n, strlen(n))
    if (!strcmp(name, "users")) {
        struct gtab *cl = &g->tabs[ck_table_index(ck_table_find("clinics", 7))];
        uint32_t ncl = cl->hi[tn] - cl->lo[tn];
        int cc = COL("clinic_id"), rc = COL("role");
        if (k) {
            row->v[cc].kind = CK_V_UUID;
            memcpy(row->v[cc].uuid, cl->ids[cl->lo[tn] + k % ncl], 16);
            *clinic_out = (int)(k % ncl);
            *role_out = (k / ncl) % NROLES;
            set_int(&row->v[rc], bgen_enum(&t->cols[rc], user_roles[*role_out]));
        } else {
            set_null(&row->v[cc]);
            *clinic_out = -1;
            *role_out = ROLE_ADMIN;
            set_int(&row->v[rc], bgen_enum(&t->cols[rc], "tenant_admin"));
        }
        set_int(&row->v[COL("status")], bgen_enum(&t->cols[COL("status")], "active"));
        set_null(&row->v[COL("deleted_at")]);
        /* gen.py locks half the staff out (its "until" rule); nobody here could log in */
        set_null(&row->v[COL("locked_until")]);
    } else if (!strcmp(name, "appointment_recurrences")) {
        int e = COL("end_date");
        if (row->v[e].kind == CK_V_INT)
            row->v[e].i = row->v[COL("start_date")].i + brng_range(r, 30, 365);
    } else if (!strcmp(name, "patient_insurance")) {
        int e = COL("termination_date");
        if (row->v[e].kind == CK_V_INT)
            row->v[e].i = row->v[COL("effective_date")].i + brng_range(r, 30, 720);
    } else if (!strcmp(name, "invoices")) {
        int e = COL("due_date");
        if (row->v[e].kind == CK_V_INT)
            row->v[e].i = row->v[COL("issue_date")].i + brng_range(r, 0, 60);
    } else if (!strcmp(name, "feature_flags")) {
        int e = COL("ends_at"), s = COL("starts_at");
        if (row->v[e].kind == CK_V_INT) {
            if (row->v[s].kind != CK_V_INT)
                set_int(&row->v[s], ts_ms(g, -30, 0));
            row->v[e].i = row->v[s].i + brng_range(r, 1, 90) * DAY_MS;
        }
    } else if (!strcmp(name, "pharmacy_drug_inventory")) {
        int m = COL("manufacture_date");
        if (m >= 0 && row->v[m].kind == CK_V_INT)
            row->v[m].i = (int64_t)g->anchor - brng_range(r, 30, 700);
    } else if (!strcmp(name, "pharmacy_doctor_prescriptions")) {
        set_int(&row->v[COL("refills_used")], 0);
    }
#undef COL
    if (t->col_updated_at >= 0 && t->col_created_at >= 0 &&
        row->v[t->col_created_at].kind == CK_V_INT)
        row->v[t->col_updated_at] = row->v[t->col_created_at];
}

/* The demographics a front-desk app would write, sealed as the server seals
 * them, with the blind indexes of the name, birth date, phone and email. */
int bgen_seal_phi(struct gen *g, struct brng *r, const struct ck_table *t, struct ck_row *row,
                  const uint8_t tenant[16], uint64_t n)
{
    const struct phi_key *key = phi_key_active(&g->keys);
    unsigned nsealed = 0;
    for (unsigned ci = 0; ci < t->ncols; ci++) {
        const char *plain_name = phi_plain_name(t, ci);
        if (!plain_name)
            continue;
        int kc = phi_key_col(t, ci);
        struct ck_val *v = &row->v[ci];
        if (v->kind == CK_V_NULL) {
            if (kc >= 0 && t->cols[kc].nullable)
                set_null(&row->v[kc]);
            else if (kc >= 0)
                bgen_set_str(g, &t->cols[kc], &row->v[kc], key->id, strlen(key->id));
            continue;
        }
        struct buf *pl = &g->plain;
        buf_reset(pl);
        msgpack_packer pk;
        mp_packer_init(&pk, pl);
        bool demographics = !strcmp(plain_name, "demographics");
        if (demographics) {
            char tmp[96];
            const char *first = first_names[brng_below(r, NELEM(first_names))];
            const char *last = last_names[brng_below(r, NELEM(last_names))];
            msgpack_pack_map(&pk, 10);
            mp_pack_cstr(&pk, "first_name");
            mp_pack_cstr(&pk, first);
            mp_pack_cstr(&pk, "last_name");
            mp_pack_cstr(&pk, last);
            int32_t dob = g->anchor - (int32_t)brng_range(r, 365 * 2, 365 * 90);
            ck_date_format(dob, tmp);
            mp_pack_cstr(&pk, "date_of_birth");
            mp_pack_cstr(&pk, tmp);
            mp_pack_cstr(&pk, "gender");
            mp_pack_cstr(&pk, brng_below(r, 2) ? "female" : "male");
            snprintf(tmp, sizeof tmp, "+1-555-%03d-%04d", (int)brng_range(r, 0, 999),
                     (int)brng_range(r, 0, 9999));
            mp_pack_cstr(&pk, "phone");
            mp_pack_cstr(&pk, tmp);
            snprintf(tmp, sizeof tmp, "%s.%s%llu@mail.example.com", first, last,
                     (unsigned long long)n);
            mp_pack_cstr(&pk, "email");
            mp_pack_cstr(&pk, tmp);
            snprintf(tmp, sizeof tmp, "%d %s Street", (int)brng_range(r, 1, 999),
                     last_names[brng_below(r, NELEM(last_names))]);
            mp_pack_cstr(&pk, "address_line1");
            mp_pack_cstr(&pk, tmp);
            mp_pack_cstr(&pk, "city");
            mp_pack_cstr(&pk, "Springfield");
            snprintf(tmp, sizeof tmp, "%05d", (int)brng_range(r, 10000, 99999));
            mp_pack_cstr(&pk, "postal_code");
            mp_pack_cstr(&pk, tmp);
            mp_pack_cstr(&pk, "emergency_contact");
            msgpack_pack_map(&pk, 2);
            mp_pack_cstr(&pk, "name");
            snprintf(tmp, sizeof tmp, "%s %s", first_names[brng_below(r, NELEM(first_names))],
                     last);
            mp_pack_cstr(&pk, tmp);
            mp_pack_cstr(&pk, "phone");
            snprintf(tmp, sizeof tmp, "+1-555-%03d-%04d", (int)brng_range(r, 0, 999),
                     (int)brng_range(r, 0, 9999));
            mp_pack_cstr(&pk, tmp);
        } else {
            /* clinical text, medical history, subscriber details: a few words of text */
            char tmp[400];
            size_t len = 0;
            int64_t nw = brng_range(r, 20, 40);
            for (int64_t i = 0; i < nw && len + 16 < sizeof tmp; i++) {
                const char *w = words[brng_below(r, NELEM(words))];
                len += (size_t)snprintf(tmp + len, sizeof tmp - len, i ? " %s" : "%s", w);
            }
            mp_pack_str(&pk, tmp, len);
        }
        if (pl->oom)
            return ck_err_set(g->err, -CK_ENOMEM, "out of memory");
        if (demographics) {
            struct phi_search search;
            int rc =
                phi_search_hashes(&g->keys, tenant, pl->data, pl->data + pl->len, &search, g->err);
            if (rc)
                return rc;
            for (unsigned i = 0; i < PHI_NSEARCH; i++) {
                int hc = ck_column_find(t, phi_search_columns[i], strlen(phi_search_columns[i]));
                if (hc < 0)
                    continue;
                if (search.has[i])
                    bgen_set_str(g, &t->cols[hc], &row->v[hc], search.hex[i], 64);
                else
                    set_null(&row->v[hc]);
            }
        }
        if (nsealed == NELEM(g->sealed))
            return ck_err_set(g->err, -CK_EINTERNAL, "%s has too many PHI columns", t->name);
        struct buf *out = &g->sealed[nsealed++];
        buf_reset(out);
        int rc = phi_seal(key, tenant, t, row->v[t->col_id].uuid, ci, pl->data, pl->len, out);
        sodium_memzero(pl->data, pl->len);
        if (rc)
            return ck_err_set(g->err, rc, "cannot seal %s.%s", t->name, t->cols[ci].name);
        v->kind = CK_V_BIN;
        v->p = out->data;
        v->len = (uint32_t)out->len;
        if (kc >= 0)
            bgen_set_str(g, &t->cols[kc], &row->v[kc], key->id, strlen(key->id));
    }
    return 0;
}
