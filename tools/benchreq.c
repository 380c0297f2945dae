/*
 * The requests of the clinic-day workload: see benchreq.h.
 */
#include "benchreq.h"

#include <stdio.h>
#include <time.h>

#include "timeval.h"

#define SALE_ITEMS  3
#define QUERY_LIMIT 1000 /* the protocol's maximum page: reports page with `next` */

const char *const bop_names[BOP__COUNT] = {
    "get_patient",    "patient_appointments", "book_appointment", "pharmacy_sale",
    "expiring_drugs", "sales_today",          "front_desk",       "ping",
};

static void pack_kv_str(msgpack_packer *pk, const char *k, const char *v)
{
    mp_pack_cstr(pk, k);
    mp_pack_cstr(pk, v);
}

static void money(char *out, size_t n, long cents)
{
    snprintf(out, n, "%ld.%02ld", cents / 100, cents % 100);
}

/* the data set's "today" + days at hh:mm:ss as a protocol TIMESTAMP */
static void ts_at(const struct bids *ids, char out[25], int days, int secs)
{
    ck_ts_format(((int64_t)ids->anchor_days + days) * 86400000LL + (int64_t)secs * 1000, out);
}

static void date_at(const struct bids *ids, char out[11], int days)
{
    ck_date_format(ids->anchor_days + days, out);
}

enum bop bop_pick_mix(struct brng *r)
{
    uint64_t x = brng_below(r, 100);
    return x < 50   ? BOP_GET_PATIENT
           : x < 75 ? BOP_PATIENT_APPOINTMENTS
           : x < 90 ? BOP_BOOK_APPOINTMENT
                    : BOP_PHARMACY_SALE;
}

bool bop_is_query(enum bop op)
{
    return op == BOP_PATIENT_APPOINTMENTS || bop_is_report(op);
}

bool bop_is_report(enum bop op)
{
    return op == BOP_EXPIRING_DRUGS || op == BOP_SALES_TODAY;
}

void breq_pack_login(msgpack_packer *pk, struct bconn *c, const struct bids *ids, int tenant,
                     uint32_t *msgid)
{
    bconn_begin(c, pk, "auth.login", msgid);
    msgpack_pack_map(pk, 3);
    pack_kv_str(pk, "tenant", ids->tenants[tenant].slug);
    pack_kv_str(pk, "email", ids->tenants[tenant].email);
    pack_kv_str(pk, "password", ids->password);
}

void breq_pack_resume(msgpack_packer *pk, struct bconn *c, const char *token, uint32_t *msgid)
{
    bconn_begin(c, pk, "auth.resume", msgid);
    msgpack_pack_map(pk, 1);
    pack_kv_str(pk, "token", token);
}

/*
 * A report: the rows of table whose col lies between lo (inclusive) and hi
 * (inclusive with "lte", exclusive with "lt"), ordered by col in direction
 * dir, each with the rows of one include; pages of QUERY_LIMIT rows.
 */
struct report {
    const char *table, *col, *hi_op, *dir, *include;
};

static const struct report expiring_drugs = /* soonest first, with their drug */
    {"pharmacy_drug_inventory", "expiry_date", "lte", "asc", "drug_id"};
static const struct report sales_today = /* newest first, with their items */
    {"pharmacy_sales", "sale_date", "lt", "desc", "pharmacy_sale_items"};

static void pack_report(msgpack_packer *pk, const struct report *q, const char *lo, const char *hi,
                        const struct buf *after)
{
    bool later = after && after->len;
    msgpack_pack_map(pk, later ? 6 : 5);
    pack_kv_str(pk, "table", q->table);
    mp_pack_cstr(pk, "where");
    msgpack_pack_map(pk, 1);
    mp_pack_cstr(pk, q->col);
    msgpack_pack_map(pk, 2);
    pack_kv_str(pk, "gte", lo);
    pack_kv_str(pk, q->hi_op, hi);
    mp_pack_cstr(pk, "order_by");
    msgpack_pack_array(pk, 1);
    msgpack_pack_array(pk, 2);
    mp_pack_cstr(pk, q->col);
    mp_pack_cstr(pk, q->dir);
    mp_pack_cstr(pk, "include");
    msgpack_pack_array(pk, 1);
    mp_pack_cstr(pk, q->include);
    mp_pack_cstr(pk, "limit");
    msgpack_pack_uint16(pk, QUERY_LIMIT);
    if (later) {
        mp_pack_cstr(pk, "after");
        mp_pack_raw(pk, after->data, after->len);
    }
}

void breq_pack(struct breq *q, msgpack_packer *pk, struct bconn *c, enum bop op, int tenant,
               const struct buf *after, uint32_t *msgid)
{
    struct brng *r = q->rng;
    const struct bids_tenant *t = &q->ids->tenants[tenant];
    char a[32], b[32];
    switch (op) {
    case BOP_PING:
        bconn_begin(c, pk, "sys.ping", msgid);
        msgpack_pack_map(pk, 0);
        break;
    case BOP_GET_PATIENT: {
        const struct bids_ref *p = &t->patients[brng_below(r, (uint64_t)t->npatients)];
        bconn_begin(c, pk, "row.get", msgid);
        msgpack_pack_map(pk, 2);
        pack_kv_str(pk, "table", "patients");
        pack_kv_str(pk, "id", p->id);
        break;
    }
    case BOP_PATIENT_APPOINTMENTS: {
        const struct bids_ref *p = &t->patients[brng_below(r, (uint64_t)t->npatients)];
        bconn_begin(c, pk, "row.query", msgid);
        msgpack_pack_map(pk, 4);
        pack_kv_str(pk, "table", "appointments");
        mp_pack_cstr(pk, "where");
        msgpack_pack_map(pk, 1);
        pack_kv_str(pk, "patient_id", p->id);
        mp_pack_cstr(pk, "order_by");
        msgpack_pack_array(pk, 1);
        msgpack_pack_array(pk, 2);
        mp_pack_cstr(pk, "appointment_date");
        mp_pack_cstr(pk, "desc");
        mp_pack_cstr(pk, "limit");
        msgpack_pack_uint8(pk, 20);
        break;
    }
    case BOP_BOOK_APPOINTMENT: {
        const struct bids_ref *p = &t->patients[brng_below(r, (uint64_t)t->npatients)];
        int clinic = p->clinic >= 0 ? p->clinic : (int)brng_below(r, (uint64_t)t->nclinics);
        int start = (int)brng_below(r, (uint64_t)t->ndentists);
        const char *dentist = t->dentists[start].id;
        for (int i = 0; i < t->ndentists; i++) { /* a dentist of the patient's clinic */
            const struct bids_ref *d = &t->dentists[(start + i) % t->ndentists];
            if (d->clinic < 0 || d->clinic == clinic) {
                dentist = d->id;
                break;
            }
        }
        int day = 1 + (int)brng_below(r, 30), slot = (int)brng_below(r, 36); /* 08:00..16:45 */
        int duration = 15 * (1 + (int)brng_below(r, 4));
        ts_at(q->ids, a, day, 8 * 3600 + slot * 900);
        bconn_begin(c, pk, "row.insert", msgid);
        msgpack_pack_map(pk, 2);
        pack_kv_str(pk, "table", "appointments");
        mp_pack_cstr(pk, "row");
        msgpack_pack_map(pk, 9);
        pack_kv_str(pk, "clinic_id", t->clinics[clinic]);
        pack_kv_str(pk, "patient_id", p->id);
        pack_kv_str(pk, "dentist_id", dentist);
        pack_kv_str(pk, "appointment_date", a);
        mp_pack_cstr(pk, "duration_minutes");
        msgpack_pack_int(pk, duration);
        pack_kv_str(pk, "appointment_type", "checkup");
        pack_kv_str(pk, "status", "scheduled");
        pack_kv_str(pk, "source", "front_desk");
        pack_kv_str(pk, "reason", "routine check-up");
        break;
    }
    case BOP_PHARMACY_SALE: {
        int clinic = (int)brng_below(r, (uint64_t)t->nclinics);
        const char *patient = t->patients[brng_below(r, (uint64_t)t->npatients)].id;
        const struct bids_batch *items[SALE_ITEMS];
        int qty[SALE_ITEMS], picked[SALE_ITEMS];
        long total = 0;
        for (int i = 0; i < SALE_ITEMS; i++) {
            int bi, tries = 0;
            for (;;) { /* distinct batches, preferably of the selling clinic */
                bi = (int)brng_below(r, (uint64_t)t->nbatches);
                bool dup = false;
                for (int j = 0; j < i; j++)
                    dup |= picked[j] == bi;
                bool same = t->batches[bi].clinic < 0 || t->batches[bi].clinic == clinic;
                if (!dup && (same || tries > 64))
                    break;
                tries++;
            }
            picked[i] = bi;
            items[i] = &t->batches[bi];
            qty[i] = 1 + (int)brng_below(r, 3);
            total += items[i]->price_cents * qty[i];
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        ts_at(q->ids, a, 0, (int)(now.tv_sec % 86400)); /* "today" in the data set's calendar */
        char number[64];
        snprintf(number, sizeof number, "RX-%llx-%d-%llu", (unsigned long long)q->nonce, q->client,
                 (unsigned long long)q->seq++);
        bconn_begin(c, pk, "txn.run", msgid);
        msgpack_pack_map(pk, 1);
        mp_pack_cstr(pk, "ops");
        msgpack_pack_array(pk, 1 + 2 * SALE_ITEMS);
        msgpack_pack_map(pk, 4);
        pack_kv_str(pk, "op", "insert");
        pack_kv_str(pk, "table", "pharmacy_sales");
        pack_kv_str(pk, "as", "sale");
        mp_pack_cstr(pk, "row");
        msgpack_pack_map(pk, 11);
        pack_kv_str(pk, "clinic_id", t->clinics[clinic]);
        pack_kv_str(pk, "patient_id", patient);
        pack_kv_str(pk, "sale_number", number);
        pack_kv_str(pk, "sale_date", a);
        pack_kv_str(pk, "sale_type", "otc");
        money(b, sizeof b, total);
        pack_kv_str(pk, "subtotal", b);
        pack_kv_str(pk, "total_amount", b);
        pack_kv_str(pk, "amount_paid", b);
        pack_kv_str(pk, "payment_method", "cash");
        pack_kv_str(pk, "payment_status", "paid");
        pack_kv_str(pk, "status", "completed");
        for (int i = 0; i < SALE_ITEMS; i++) {
            msgpack_pack_map(pk, 3);
            pack_kv_str(pk, "op", "insert");
            pack_kv_str(pk, "table", "pharmacy_sale_items");
            mp_pack_cstr(pk, "row");
            msgpack_pack_map(pk, 9);
            mp_pack_cstr(pk, "sale_id");
            msgpack_pack_map(pk, 1);
            pack_kv_str(pk, "$ref", "sale.id");
            pack_kv_str(pk, "drug_id", items[i]->drug_id);
            pack_kv_str(pk, "inventory_id", items[i]->id);
            mp_pack_cstr(pk, "line_number");
            msgpack_pack_int(pk, i + 1);
            pack_kv_str(pk, "drug_name", items[i]->drug_name);
            mp_pack_cstr(pk, "quantity");
            msgpack_pack_int(pk, qty[i]);
            money(b, sizeof b, items[i]->price_cents);
            pack_kv_str(pk, "unit_price", b);
            money(b, sizeof b, items[i]->cost_cents);
            pack_kv_str(pk, "cost_price", b);
            money(b, sizeof b, items[i]->price_cents * qty[i]);
            pack_kv_str(pk, "line_total", b);
        }
        for (int i = 0; i < SALE_ITEMS; i++) {
            msgpack_pack_map(pk, 5);
            pack_kv_str(pk, "op", "update");
            pack_kv_str(pk, "table", "pharmacy_drug_inventory");
            pack_kv_str(pk, "id", items[i]->id);
            mp_pack_cstr(pk, "set");
            msgpack_pack_map(pk, 1);
            mp_pack_cstr(pk, "quantity");
            msgpack_pack_map(pk, 1);
            mp_pack_cstr(pk, "$add");
            msgpack_pack_int(pk, -qty[i]);
            mp_pack_cstr(pk, "check");
            msgpack_pack_map(pk, 1);
            mp_pack_cstr(pk, "quantity");
            msgpack_pack_map(pk, 1);
            mp_pack_cstr(pk, "gte");
            msgpack_pack_int(pk, 0);
        }
        break;
    }
    case BOP_EXPIRING_DRUGS: /* a tenant's batches expiring in the next 30 days */
        date_at(q->ids, a, 0);
        date_at(q->ids, b, 30);
        bconn_begin(c, pk, "row.query", msgid);
        pack_report(pk, &expiring_drugs, a, b, after);
        break;
    case BOP_SALES_TODAY: /* a tenant's sales of today */
        ts_at(q->ids, a, 0, 0);
        ts_at(q->ids, b, 1, 0);
        bconn_begin(c, pk, "row.query", msgid);
        pack_report(pk, &sales_today, a, b, after);
        break;
    default: break;
    }
}
