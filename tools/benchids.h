/*
 * DIR/bench/ids: what clinickv-gen leaves beside a generated data directory for
 * clinickv-bench to draw its requests from.
 *
 * Text, one record per line, fields separated by one TAB, `#` lines ignored.
 * <t> is the tenant's number (0-based, in tenant order); ids are 36-character
 * UUIDs; money is in cents. The kinds and fields, in file order:
 *
 *   format    1
 *   anchor    YYYY-MM-DD                  the data set's "today"
 *   scale     S                           scale factor
 *   seed      N
 *   password  PASSWORD                    every generated user's password
 *   tenant    <t> <id> <slug> <email>     email: the tenant_admin to log in as
 *   clinic    <t> <id>
 *   dentist   <t> <id> <clinic id>
 *   user      <t> <id>                    pharmacists and technicians (sellers)
 *   patient   <t> <id> <clinic id>        live patients only
 *   batch     <t> <id> <drug id> <clinic id> <price cents> <drug name> <cost cents>
 *
 * The clinic..batch lines have the same fields as the peer kit's ids.tsv
 * (shared/bench/peers/gen.py), so the two load generators draw alike.
 */
#ifndef CLINICKV_BENCHIDS_H
#define CLINICKV_BENCHIDS_H

#include <stdint.h>

#include "ckerr.h"

#define BIDS_FORMAT 1

typedef char bids_uuid[37];

struct bids_ref {
    bids_uuid id;
    int clinic; /* index into the tenant's clinics, or -1 */
};

struct bids_batch {
    bids_uuid id, drug_id;
    int clinic;
    long price_cents, cost_cents;
    char *drug_name;
};

struct bids_tenant {
    bids_uuid id;
    char *slug, *email;
    bids_uuid *clinics;
    int nclinics;
    struct bids_ref *dentists, *patients;
    int ndentists, npatients;
    bids_uuid *users;
    int nusers;
    struct bids_batch *batches;
    int nbatches;
};

struct bids {
    char anchor[11]; /* "YYYY-MM-DD" */
    int32_t anchor_days;
    double scale;
    uint64_t seed;
    char *password;
    struct bids_tenant *tenants;
    int ntenants;
};

/*
 * Read an ids file into *out (zeroed first; free with bids_free(), also after
 * an error). -CK_ENOTFOUND (no file), -CK_EINVAL (a malformed line, or a tenant
 * without clinics, dentists, patients or 3 batches: the message says which),
 * -CK_ENOMEM.
 */
int bids_load(const char *path, struct bids *out, struct ck_err *err);

/* Release everything bids_load() allocated. */
void bids_free(struct bids *b);

/* Index of a clinic id among tenant t's clinics, or -1. */
int bids_clinic_index(const struct bids_tenant *t, const char *id);

#endif
