/*
 * The requests of the clinic-day workload (bench/WORKLOAD.md): for each
 * operation, the protocol request a real client sends, drawn as the peer
 * kit's peerbench draws it (patients, dentists, batches and slots uniformly
 * from DIR/bench/ids).
 */
#ifndef CLINICKV_BENCHREQ_H
#define CLINICKV_BENCHREQ_H

#include <stdbool.h>
#include <stdint.h>

#include "benchclient.h"
#include "benchids.h"
#include "benchrng.h"

enum bop {
    BOP_GET_PATIENT,
    BOP_PATIENT_APPOINTMENTS,
    BOP_BOOK_APPOINTMENT,
    BOP_PHARMACY_SALE,
    BOP_EXPIRING_DRUGS,
    BOP_SALES_TODAY,
    BOP_FRONT_DESK, /* the mix: never sent itself */
    BOP_PING,
    BOP__COUNT
};

extern const char *const bop_names[BOP__COUNT];

/* The front-desk mix: 50% get_patient, 25% patient_appointments, 15%
 * book_appointment, 10% pharmacy_sale. */
enum bop bop_pick_mix(struct brng *r);

/* A row.query whose result is read for rows (and, for the reports, `next`). */
bool bop_is_query(enum bop op);

/* A report pages with `next`: the next page repeats the request with `after`. */
bool bop_is_report(enum bop op);

/* What one client's requests draw on. */
struct breq {
    const struct bids *ids;
    struct brng *rng;
    uint64_t nonce; /* sale numbers are RX-<nonce>-<client>-<seq>: unique across */
    int client;     /* runs, clients and a client's sales */
    uint64_t seq;
};

/*
 * Pack op's request for tenant as the next request on c into pk (*msgid gets
 * its id). after: for a report's later page, the `next` of the page before;
 * NULL for a first page.
 */
void breq_pack(struct breq *q, msgpack_packer *pk, struct bconn *c, enum bop op, int tenant,
               const struct buf *after, uint32_t *msgid);

/* The session requests: a tenant's admin logs in (auth.login); a connection
 * binds itself to that session (auth.resume). */
void breq_pack_login(msgpack_packer *pk, struct bconn *c, const struct bids *ids, int tenant,
                     uint32_t *msgid);
void breq_pack_resume(msgpack_packer *pk, struct bconn *c, const char *token, uint32_t *msgid);

#endif
