/*
 * The data generator's rules (benchgen_int.h): gen.py's row counts, value
 * distributions, FK plans and cross-column fixups, and the PHI a clinickv client
 * would write. shared/bench/peers/gen.py's count_for, make_value_gen, build_plan
 * and fixup have their counterparts here, driven by the catalog.
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

/* FK columns to users that point at a role: the role sets of gen.py's ROLE_FOR. */
static int role_set_for(const char *col)
{
    if (!strcmp(col, "dentist_id") || !strcmp(col, "preferred_dentist_id") ||
        !strcmp(col, "doctor_id") || !strcmp(col, "cosigner_id"))
        return RS_DENTIST;
    if (!strcmp(col, "author_id"))
        return RS_DENT_HYG;
    if (!strcmp(col, "hygienist_id"))
        return RS_HYGIENIST;
    return RS_NONE;
}

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

static const int64_t durations[] = {15, 30, 30, 45, 60, 90};
static const int64_t status_codes[] = {200, 200, 201, 404, 500};
static const int64_t strengths[] = {100, 200, 250, 400, 500};

static bool name_in(const char *name, const char *const *list)
{
    for (; *list; list++) {
        if (!strcmp(name, *list))
            return true;
    }
    return false;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

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

static int enum_ordinal(const struct ck_column *c, const char *s)
{
    for (unsigned i = 0; i < c->n_enum; i++) {
        if (!strcmp(c->enum_values[i], s))
            return (int)i + 1;
    }
    return 0;
}

/* ------------------------------------------------------------------ plan */

static bool is_int_type(const struct ck_column *c)
{
    return c->type == CK_T_INT || c->type == CK_T_BOOL;
}

static const char *const zero_ints[] = {"quantity_reserved",     "returned_quantity",
                                        "quantity_dispensed",    "refills_used",
                                        "failed_login_attempts", "occurrences_created",
                                        "exposure_count",        "notifications_sent",
                                        "quantity_received",     NULL};
static const char *const small_ints[] = {"interval_count", "package_size",
                                         "pack_size",      "min_order_quantity",
                                         "sample_count",   "evaluation_interval_minutes",
                                         "version",        NULL};
static const char *const zero_decs[] = {"refunded_amount",
                                        "discount_amount",
                                        "change_given",
                                        "deductible_met",
                                        "amount_paid",
                                        "insurance_portion",
                                        "tax_amount",
                                        "shipping_amount",
                                        "tax_rate",
                                        "rollout_percentage",
                                        NULL};
static const char *const nameish[] = {
    "name",      "title",        "contact_name", "legal_name",   "customer_name", "prescriber_name",
    "plan_name", "generic_name", "brand_name",   "manufacturer", "brand",         NULL};
static const char *const textish[] = {
    "reason",           "description",  "notes", "cancellation_reason",
    "resolution_notes", "instructions", NULL};
static const char *const null_ts[] = {
    "cancelled_at", "voided_at", "suspended_at", "locked_until", "retired_at", "refunded_at", NULL};
static const char *const half_null_fks[] = {"hygienist_id",
                                            "appointment_id",
                                            "prescription_id",
                                            "cosigner_id",
                                            "amended_from_note_id",
                                            "treatment_plan_id",
                                            "patient_insurance_id",
                                            "prescription_item_id",
                                            "order_id",
                                            "conflicting_appointment_id",
                                            NULL};

static bool contains_any(const char *name, const char *const *parts)
{
    for (; *parts; parts++) {
        if (strstr(name, *parts))
            return true;
    }
    return false;
}

/* make_value_gen for a non-FK column. */
static void plan_value(struct gen *g, const struct ck_table *t, unsigned ci, bool unique_free,
                       struct vgen *v)
{
    const struct ck_column *c = &t->cols[ci];
    const char *name = c->name;
    const char *tn = t->name;
    memset(v, 0, sizeof *v);
    v->col = (uint16_t)ci;
    v->present = 1.0;
    if (phi_plain_name(t, ci)) {
        v->kind = K_PHI;
        v->present = c->nullable ? 0.5 : 1.0;
        return;
    }
    switch (c->type) {
    case CK_T_ENUM:
        if (!strcmp(name, "status") && !strcmp(tn, "patients")) {
            v->kind = K_ENUM_MOSTLY;
            v->a = enum_ordinal(c, "active");
        } else if (!strcmp(name, "status") &&
                   (!strcmp(tn, "users") || !strcmp(tn, "pharmacy_drug_inventory") ||
                    !strcmp(tn, "pharmacy_sales"))) {
            v->kind = K_ENUM_CONST;
            v->a = enum_ordinal(c, !strcmp(tn, "users") ? "active"
                                   : tn[9] == 'd'       ? "available"
                                                        : "completed");
        } else if (!strcmp(name, "controlled_schedule")) {
            v->kind = K_NULL; /* CHECK: only for controlled substances */
        } else {
            v->kind = K_ENUM_RAND;
            v->present = c->nullable ? 0.7 : 1.0;
        }
        return;
    case CK_T_BOOL:
        v->kind = K_INT_CONST;
        if (!strcmp(name, "is_active"))
            v->a = 1;
        else if (!strcmp(name, "is_controlled_substance") || !strcmp(name, "mfa_enabled") ||
                 !strcmp(name, "is_confidential"))
            v->a = 0;
        else {
            v->kind = K_INT_RANGE;
            v->a = 0;
            v->b = 1;
        }
        return;
    case CK_T_INT: {
        bool pdi = !strcmp(tn, "pharmacy_drug_inventory");
        if (pdi && !strcmp(name, "quantity")) {
            v->kind = K_INT_RANGE, v->a = 200, v->b = 600;
        } else if (pdi && !strcmp(name, "quantity_received")) {
            v->kind = K_INT_CONST, v->a = 600;
        } else if (name_in(name, zero_ints)) {
            v->kind = K_INT_CONST, v->a = 0;
        } else if (!strcmp(name, "duration_minutes")) {
            v->kind = K_INT_LIST, v->list = durations, v->a = NELEM(durations);
        } else if (name_in(name, small_ints)) {
            v->kind = K_INT_RANGE, v->a = 1, v->b = 4;
        } else if (!strcmp(name, "status_code")) {
            v->kind = K_INT_LIST, v->list = status_codes, v->a = NELEM(status_codes);
        } else if (strstr(name, "quantity")) {
            v->kind = K_INT_RANGE, v->a = 1, v->b = 20;
        } else {
            v->kind = K_INT_RANGE;
            v->a = 1;
            v->b = !strncmp(c->sql_type, "TINYINT", 7)    ? 3
                   : !strncmp(c->sql_type, "SMALLINT", 8) ? 300
                                                          : 1000;
            v->present = c->nullable ? 0.8 : 1.0;
        }
        return;
    }
    case CK_T_DECIMAL: {
        unsigned s = c->scale, intdig = c->precision - c->scale;
        v->b = s;
        if (name_in(name, zero_decs)) {
            v->kind = K_INT_CONST, v->a = 0;
        } else if (strstr(name, "confidence") || !strcmp(name, "accuracy")) {
            v->kind = K_DEC_CONF;
        } else if (!strcmp(name, "rating")) {
            v->kind = K_DEC_RATING;
        } else if (strstr(name, "percentage")) {
            v->kind = K_DEC_PCT;
        } else {
            int64_t hi = ipow10(intdig) - 1;
            v->kind = K_DEC_RAND;
            v->a = hi < 2000 ? hi : 2000;
            v->present = c->nullable ? 0.8 : 1.0;
        }
        return;
    }
    case CK_T_BLOB:
    case CK_T_VARBINARY:
        v->kind = K_BLOB;
        v->a = c->type == CK_T_VARBINARY ? 48 : 200;
        v->present = c->nullable ? 0.5 : 1.0;
        return;
    case CK_T_JSON:
        v->kind = K_JSON;
        v->present = c->nullable ? 0.5 : 1.0;
        return;
    case CK_T_DATE:
        v->kind = K_DATE;
        if (!strcmp(name, "expiry_date")) {
            v->a = 1, v->b = 730;
            return;
        }
        static const char *const future[] = {"expir", "valid_until", "next_",       "end",
                                             "due",   "expected",    "termination", NULL};
        if (contains_any(name, future))
            v->a = 1, v->b = 365;
        else
            v->a = -730, v->b = 0;
        v->present = c->nullable && strcmp(name, "next_recall_date") ? 0.7 : 1.0;
        return;
    case CK_T_TIMESTAMP:
        if (!strcmp(name, "appointment_date")) {
            v->kind = K_TS_APPT;
        } else if (!strcmp(name, "sale_date")) {
            double span = nearbyint(365 * g->o->scale);
            v->kind = K_TS_SALE;
            v->a = span < 7 ? 7 : span > 365 ? 365 : (int64_t)span;
        } else if (!strcmp(name, "deleted_at")) {
            v->kind = K_TS, v->a = -90, v->b = 0;
            v->present = !strcmp(tn, "patients") || !strcmp(tn, "appointments") ||
                                 !strcmp(tn, "clinical_notes")
                             ? 0.02
                             : 0.0;
        } else if (!strcmp(name, "created_at") || !strcmp(name, "updated_at") || !c->nullable) {
            v->kind = K_TS, v->a = -365, v->b = -1;
        } else {
            static const char *const until[] = {"until", "ends_at", "expires_at", "trial_ends",
                                                NULL};
            v->kind = K_TS;
            if (contains_any(name, until))
                v->a = 1, v->b = 365, v->present = 0.5;
            else if (name_in(name, null_ts))
                v->kind = K_NULL;
            else
                v->a = -365, v->b = 0, v->present = 0.5;
        }
        return;
    case CK_T_UUID:
        v->kind = K_UUID;
        v->present = c->nullable ? 0.7 : 1.0;
        return;
    default: break;
    }
    /* strings */
    if (!strcmp(tn, "tenants") && !strcmp(name, "slug")) {
        v->kind = K_SLUG; /* readable slugs to log in with ("bench-3") */
        return;
    }
    if (unique_free) {
        if (strstr(name, "email")) {
            v->kind = K_STR_UEMAIL;
        } else if (!strcmp(name, "custom_domain")) {
            v->kind = K_STR_DOMAIN, v->present = 0.5;
        } else {
            v->kind = K_STR_UNIQUE;
            v->present = c->nullable ? 0.8 : 1.0;
        }
        return;
    }
    v->present = c->nullable ? 0.7 : 1.0;
    if (c->type == CK_T_CHAR && ends_with(name, "_hash"))
        v->kind = K_STR_HEX64, v->present = 1.0;
    else if (c->type == CK_T_CHAR && c->length == 4)
        v->kind = K_STR_DIGITS4, v->present = 1.0;
    else if (!strcmp(name, "country_code"))
        v->kind = K_STR_CONST, v->s = "US", v->present = 1.0;
    else if (!strcmp(name, "currency"))
        v->kind = K_STR_CONST, v->s = "USD", v->present = 1.0;
    else if (!strcmp(name, "timezone"))
        v->kind = K_STR_CONST, v->s = "UTC", v->present = 1.0;
    else if (!strcmp(name, "locale"))
        v->kind = K_STR_CONST, v->s = "en-US", v->present = 1.0;
    else if (!strcmp(name, "preferred_language"))
        v->kind = K_STR_CONST, v->s = "en", v->present = 1.0;
    else if (ends_with(name, "key_id"))
        v->kind = K_STR_KMS, v->present = 1.0;
    else if (!strcmp(name, "first_name"))
        v->kind = K_STR_FIRST, v->present = 1.0;
    else if (!strcmp(name, "last_name"))
        v->kind = K_STR_LAST, v->present = 1.0;
    else if (!strcmp(name, "name") && !strcmp(tn, "pharmacy_drugs"))
        v->kind = K_STR_DRUG, v->present = 1.0;
    else if (strstr(name, "email"))
        v->kind = K_STR_EMAIL;
    else if (strstr(name, "phone") || !strcmp(name, "fax"))
        v->kind = K_STR_PHONE;
    else if (ends_with(name, "url") || !strcmp(name, "website") || !strcmp(name, "artifact_uri"))
        v->kind = K_STR_URL;
    else if (!strcmp(name, "ip_address"))
        v->kind = K_STR_IP;
    else if (!strcmp(name, "user_agent"))
        v->kind = K_STR_CONST, v->s = "Mozilla/5.0 (X11; Linux x86_64) clinic-app/2.0";
    else if (!strcmp(name, "password_hash"))
        v->kind = K_STR_PWHASH, v->present = 1.0;
    else if (c->type == CK_T_TEXT)
        v->kind = K_STR_WORDS, v->a = 8, v->b = 20;
    else if (name_in(name, nameish))
        v->kind = K_STR_NAMEISH;
    else if (name_in(name, textish))
        v->kind = K_STR_WORDS, v->a = 3, v->b = 9;
    else
        v->kind = K_STR_GENERIC;
}

static int cmp_steps(const void *pa, const void *pb, void *arg)
{
    const struct ck_table *t = arg;
    const struct fkstep *a = pa, *b = pb;
    const struct ck_column *ca = &t->cols[a->col], *cb = &t->cols[b->col];
    if (ca->nullable != cb->nullable)
        return ca->nullable ? 1 : -1;
    /* deepest parent first: self references (-1) last among their kind */
    int ta = a->self ? -1 : (int)ck_table_index(a->parent->t);
    int tb = b->self ? -1 : (int)ck_table_index(b->parent->t);
    if (ta != tb)
        return ta > tb ? -1 : 1;
    bool ba = ends_with(ca->name, "_by"), bb = ends_with(cb->name, "_by");
    if (ba != bb)
        return ba ? 1 : -1;
    return strcmp(ca->name, cb->name);
}

static void sort_steps(struct plan *p)
{
    /* insertion sort: a dozen steps at most, and qsort_r is not C11 */
    for (unsigned i = 1; i < p->nsteps; i++) {
        struct fkstep x = p->steps[i];
        unsigned j = i;
        while (j > 0 && cmp_steps(&p->steps[j - 1], &x, (void *)p->t) > 0) {
            p->steps[j] = p->steps[j - 1];
            j--;
        }
        p->steps[j] = x;
    }
}

/* build_plan: unique keys, FK steps, value columns, denormalised copies. */
void bgen_plan_build(struct gen *g, const struct ck_table *t, struct plan *p)
{
    memset(p, 0, sizeof *p);
    p->t = t;
    ck_colmask combo_cols = 0, free_unique = 0, seq_cols = 0;
    for (unsigned i = 0; i < t->nindexes; i++) {
        const struct ck_index *ix = &t->indexes[i];
        if (!ix->unique)
            continue;
        int fks[CK_INDEX_MAX_COLS], nfks = 0, last_free = -1, first_int = -1, nints = 0;
        for (unsigned k = 0; k < ix->ncols; k++) {
            unsigned col = ix->cols[k];
            const struct ck_column *c = &t->cols[col];
            if ((int)col == t->col_tenant)
                continue;
            bool fk = c->fk >= 0;
            if (fk && t->fks[c->fk].parent_table != ck_table_index(t))
                fks[nfks++] = (int)col;
            else if (!fk && c->type != CK_T_ENUM && !is_int_type(c))
                last_free = (int)col;
            else if (!fk && is_int_type(c)) {
                if (first_int < 0)
                    first_int = (int)col;
                nints++;
            }
        }
        if (last_free >= 0) {
            free_unique |= CK_COL(last_free);
        } else if (nints && nfks == 1 && p->nseqs < NELEM(p->seqs)) {
            p->seqs[p->nseqs].col = (uint16_t)first_int;
            p->seqs[p->nseqs].fkcol = (uint16_t)fks[0];
            p->nseqs++;
            seq_cols |= CK_COL(first_int);
        } else if (nfks && p->ncombos < NELEM(p->combos)) {
            struct combo *cb = &p->combos[p->ncombos++];
            cb->ncols = (unsigned)nfks;
            for (int k = 0; k < nfks; k++) {
                cb->cols[k] = (uint16_t)fks[k];
                cb->parents[k] = &g->tabs[t->fks[t->cols[fks[k]].fk].parent_table];
                combo_cols |= CK_COL(fks[k]);
            }
        }
    }
    for (unsigned f = 0; f < t->nfks; f++) {
        const struct ck_fk *fk = &t->fks[f];
        unsigned col = fk->column;
        if ((int)col == t->col_tenant || (combo_cols & CK_COL(col)))
            continue;
        struct gtab *pt = &g->tabs[fk->parent_table];
        bool self = fk->parent_table == ck_table_index(t);
        if (!self && !pt->done)
            continue; /* a cycle broken here (gen.py's back edges): NULL */
        if (p->nsteps == MAX_STEPS)
            break;
        struct fkstep *s = &p->steps[p->nsteps++];
        memset(s, 0, sizeof *s);
        s->col = (uint16_t)col;
        s->self = self;
        s->parent = pt;
        const char *cname = t->cols[col].name;
        if (t->cols[col].nullable)
            s->null_frac = name_in(cname, half_null_fks) ? 0.5 : 0.05;
        s->role_set = !strcmp(pt->t->name, "users") ? role_set_for(cname) : RS_NONE;
        if (self)
            continue;
        /* inherit same-named FK columns from the parent row (clinic of the patient, ...) */
        for (unsigned f2 = 0; f2 < t->nfks && s->ninherit < MAX_INHERIT; f2++) {
            const struct ck_fk *o = &t->fks[f2];
            if (f2 == f || (int)o->column == t->col_tenant)
                continue;
            const char *oname = t->cols[o->column].name;
            int pc = ck_column_find(pt->t, oname, strlen(oname));
            if (pc < 0 || pt->t->cols[pc].fk < 0 ||
                pt->t->fks[pt->t->cols[pc].fk].parent_table != o->parent_table)
                continue;
            s->inh_child[s->ninherit] = (uint16_t)o->column;
            s->inh_parent[s->ninherit] = (uint16_t)pc;
            s->ninherit++;
        }
    }
    sort_steps(p);
    for (unsigned i = 0; i < t->ncols; i++) {
        const struct ck_column *c = &t->cols[i];
        if (c->fk >= 0 || (int)i == t->col_id || (int)i == t->col_tenant || (seq_cols & CK_COL(i)))
            continue;
        plan_value(g, t, i, (free_unique & CK_COL(i)) != 0, &p->vals[p->nvals++]);
    }
    for (unsigned i = 0; i < t->ncols && p->ncopies < NELEM(p->copies); i++) {
        const char *name = t->cols[i].name;
        if (!ends_with(name, "_name"))
            continue;
        char base[128];
        snprintf(base, sizeof base, "%.*s_id", (int)(strlen(name) - 5), name);
        int fc = ck_column_find(t, base, strlen(base));
        if (fc < 0 || t->cols[fc].fk < 0)
            continue;
        struct gtab *pt = &g->tabs[t->fks[t->cols[fc].fk].parent_table];
        int nc = ck_column_find(pt->t, "name", 4);
        if (nc < 0 || !pt->done)
            continue;
        p->copies[p->ncopies++] = (struct copycol){(uint16_t)i, (uint16_t)fc, pt, nc};
    }
}

void bgen_plan_free(struct plan *p)
{
    for (unsigned i = 0; i < p->ncombos; i++)
        free(p->combos[i].picks);
    for (unsigned i = 0; i < p->nseqs; i++)
        free(p->seqs[i].counts);
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
            set_int(&row->v[rc], enum_ordinal(&t->cols[rc], user_roles[*role_out]));
        } else {
            set_null(&row->v[cc]);
            *clinic_out = -1;
            *role_out = ROLE_ADMIN;
            set_int(&row->v[rc], enum_ordinal(&t->cols[rc], "tenant_admin"));
        }
        set_int(&row->v[COL("status")], enum_ordinal(&t->cols[COL("status")], "active"));
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
