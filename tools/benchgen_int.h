/*
 * Private to the data generator: benchgen.c drives it (tables in FK order, write
 * transactions, DIR/bench/ids), benchgen_plan.c holds gen.py's FK plans and the
 * kind of value each column gets, benchgen_rules.c its counts, values, fixups
 * and PHI. Nothing here is used outside tools/benchgen*.c.
 */
#ifndef CLINICKV_BENCHGEN_INT_H
#define CLINICKV_BENCHGEN_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "benchgen.h"
#include "benchrng.h"
#include "buf.h"
#include "catalog.h"
#include "kv.h"
#include "phi.h"
#include "row.h"
#include "rows.h"

#define NTENANTS    10
#define DAY_MS      86400000LL
#define ARENA_SIZE  (64 * 1024)
#define MAX_STEPS   16
#define MAX_INHERIT 8
#define NELEM(a)    (sizeof(a) / sizeof((a)[0]))
#define ROLE_ADMIN  255 /* users row 0 of each tenant: its tenant_admin */

/* Role sets that FK columns to users point at (gen.py's ROLE_FOR). */
enum { RS_NONE = -1, RS_DENTIST, RS_DENT_HYG, RS_HYGIENIST, RS__COUNT };

/* What the generator remembers of a table it wrote: every row's id, by tenant. */
struct gtab {
    const struct ck_table *t;
    bool done;
    bool global; /* no tenant_id: one range over all rows */
    uint32_t lo[NTENANTS], hi[NTENANTS];
    uint8_t (*ids)[16];
    uint32_t n;
    uint8_t *urole;  /* users: index into user_roles, or ROLE_ADMIN */
    int8_t *uclinic; /* users: clinic index within the tenant, or -1 */
    /* users: row indexes by (tenant, clinic + 1 (0: any clinic), role set) */
    uint32_t *pool[NTENANTS][4][RS__COUNT];
    uint32_t npool[NTENANTS][4][RS__COUNT];
};

/* How one column gets its value (make_value_gen's branches). */
enum vkind {
    K_NULL = 0,
    K_ENUM_CONST,
    K_ENUM_RAND,
    K_ENUM_MOSTLY,
    K_INT_CONST,
    K_INT_RANGE,
    K_INT_LIST,
    K_DEC_CONF,
    K_DEC_RATING,
    K_DEC_PCT,
    K_DEC_RAND,
    K_BLOB,
    K_PHI,
    K_JSON,
    K_DATE,
    K_TS_APPT,
    K_TS_SALE,
    K_TS,
    K_STR_UEMAIL,
    K_STR_DOMAIN,
    K_STR_UNIQUE,
    K_STR_HEX64,
    K_STR_DIGITS4,
    K_STR_CONST,
    K_STR_KMS,
    K_STR_FIRST,
    K_STR_LAST,
    K_STR_DRUG,
    K_STR_EMAIL,
    K_STR_PHONE,
    K_STR_URL,
    K_STR_IP,
    K_STR_PWHASH,
    K_STR_WORDS,
    K_STR_NAMEISH,
    K_STR_GENERIC,
    K_UUID,
    K_SLUG,
};

struct vgen {
    uint16_t col;
    uint8_t kind;
    double present;      /* probability that the value is not NULL */
    int64_t a, b;        /* ranges, constants, sizes */
    const int64_t *list; /* K_INT_LIST */
    const char *s;       /* K_STR_CONST, K_STR_UNIQUE prefix */
};

struct fkstep {
    uint16_t col;
    bool self;
    double null_frac;
    struct gtab *parent;
    int role_set;
    unsigned ninherit;
    uint16_t inh_child[MAX_INHERIT], inh_parent[MAX_INHERIT];
};

struct combo {
    unsigned ncols;
    uint16_t cols[4];
    struct gtab *parents[4];
    uint64_t *picks; /* the current tenant's draws without replacement */
    uint64_t npicks;
};

struct seqcol {
    uint16_t col, fkcol;
    uint32_t *counts; /* per parent row */
};

struct copycol {
    uint16_t col, fkcol;
    struct gtab *parent;
    int name_col;
};

struct plan {
    const struct ck_table *t;
    struct fkstep steps[MAX_STEPS];
    unsigned nsteps;
    struct combo combos[4];
    unsigned ncombos;
    struct seqcol seqs[4];
    unsigned nseqs;
    struct copycol copies[4];
    unsigned ncopies;
    struct vgen vals[CK_MAX_COLS];
    unsigned nvals;
};

struct gen {
    const struct benchgen_options *o;
    struct kv kv;
    struct phi_keyring keys;
    struct gtab tabs[256];
    struct gtab *ten; /* the tenants table: ten->ids[t] is tenant t */
    int32_t anchor;   /* days */
    int64_t id_base_ms;
    char pwhash[256];
    MDB_txn *txn;
    unsigned txn_rows;
    uint64_t rows, total_est;
    double t0, last_progress;
    char arena[ARENA_SIZE];
    size_t arena_len;
    struct buf sealed[4];
    struct buf plain;
    struct ck_err *err;
};

static inline void set_null(struct ck_val *v)
{
    v->kind = CK_V_NULL;
}
static inline void set_int(struct ck_val *v, int64_t i)
{
    v->kind = CK_V_INT;
    v->i = i;
}
static inline int64_t ipow10(unsigned n)
{
    int64_t v = 1;
    while (n--)
        v *= 10;
    return v;
}

/* The ordinal of ENUM value s of column c (0: not one of its values). */
static inline int bgen_enum(const struct ck_column *c, const char *s)
{
    return ck_enum_ordinal(c, s, strlen(s));
}

/* Rows of table t per tenant (or in all, for tables without tenant_id: *global). */
uint32_t bgen_count_for(const struct gen *g, const struct ck_table *t, bool *global);

/* The plan of table t: unique keys, FK steps, value columns, denormalised copies.
 * Tables it refers to must be done (or are cycles broken with NULL). */
void bgen_plan_build(struct gen *g, const struct ck_table *t, struct plan *p);
void bgen_plan_free(struct plan *p);

/* Set column vg->col of row (tenant number tn, row k of the tenant, n of the table). */
void bgen_value_gen(struct gen *g, struct brng *r, const struct ck_table *t, const struct vgen *vg,
                    struct ck_row *row, unsigned tn, uint32_t k, uint64_t n);

/* The CHECKs that span columns, and the users' roles and clinics (users rows set
 * *clinic_out and *role_out). */
void bgen_fixup(struct gen *g, struct brng *r, const struct ck_table *t, struct ck_row *row,
                unsigned tn, uint32_t k, int *clinic_out, unsigned *role_out);

/* Seal the row's PHI columns (and fill patients' blind indexes) with the active key.
 * The sealed values live in g->sealed until the next row. Errors in g->err. */
int bgen_seal_phi(struct gen *g, struct brng *r, const struct ck_table *t, struct ck_row *row,
                  const uint8_t tenant[16], uint64_t n);

/* A string value in the row arena, cut to the column's length. */
void bgen_set_str(struct gen *g, const struct ck_column *c, struct ck_val *v, const char *s,
                  size_t len);

/* Is a users row's role (index into the role cycle, or ROLE_ADMIN) in a role set? */
bool bgen_role_in_set(unsigned role, int set);

/* The role's name ("dentist", "tenant_admin"). */
const char *bgen_role_name(unsigned role);

#endif
