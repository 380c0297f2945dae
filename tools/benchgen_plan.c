/*
 * The data generator's plans (benchgen_int.h): for each table, gen.py's
 * build_plan (unique keys, FK steps with their inherited columns, denormalised
 * copies) and make_value_gen's choice of how each other column gets its value,
 * driven by the catalog. benchgen_rules.c makes the values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "benchgen_int.h"

static const int64_t durations[] = {15, 30, 30, 45, 60, 90};
static const int64_t status_codes[] = {200, 200, 201, 404, 500};
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
            v->a = bgen_enum(c, "active");
        } else if (!strcmp(name, "status") &&
                   (!strcmp(tn, "users") || !strcmp(tn, "pharmacy_drug_inventory") ||
                    !strcmp(tn, "pharmacy_sales"))) {
            v->kind = K_ENUM_CONST;
            v->a = bgen_enum(c, !strcmp(tn, "users") ? "active"
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
