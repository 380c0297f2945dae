/*
 * Restore's private parts (restore.h is the interface): the state of one run, and
 * the reading and checking of its dump files (restore_input.c), shared with the
 * restore modes (restore.c).
 */
#ifndef CLINICKV_RESTORE_INT_H
#define CLINICKV_RESTORE_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dumpread.h"
#include "phi.h"
#include "progress.h"
#include "restore.h"

#define MAX_INPUTS 1024
/* The bulk load's first map: enough for most dumps without growing (the map is
 * address space, not disk). */
#define NEW_MAP_MIN (1ull << 30)

struct input {
    const char *name;
    int fd;
    FILE *spool; /* standard input, copied so it can be read twice */
    struct dump_header hdr;
    uint64_t size;
};

struct rs {
    const struct restore_opts *o;
    struct ck_err *err;
    struct input *in;
    unsigned n;
    bool filtering;    /* one tenant only */
    bool filter_known; /* its id is known (else: found by slug in the dump) */
    uint8_t filter[16];
    struct progress prog;
    uint64_t items, bytes_before, total_bytes;
    uint64_t rows, changes, phi_rows;
    /* --source-keys: re-sealing a moved tenant's PHI with the target's keys */
    bool reseal;
    struct phi_keyring src_kr, dst_kr;
    struct phi_reseal scratch;
};

typedef int (*item_fn)(struct rs *s, void *arg, const struct dump_item *it);

/* The tenants table. */
const struct ck_table *rs_tenants_table(void);

/* Does text (a slug or an id) name the tenant id/slug? */
bool rs_names_tenant(const char *text, const uint8_t id[16], const char *slug, size_t slug_len);

int rs_open_inputs(struct rs *s);
void rs_close_inputs(struct rs *s);
/* Read dump i from its start, handing each row or change to fn; 0 only when the
 * whole dump has verified. checksum_only: a pass that proves the file intact and
 * hands out nothing (JSON-lines rows are not converted). */
int rs_read_dump_as(struct rs *s, unsigned i, item_fn fn, void *arg, bool checksum_only);
int rs_read_dump(struct rs *s, unsigned i, item_fn fn, void *arg);
/* Read every header and check that the dumps form one chain. */
int rs_check_chain(struct rs *s);
/* Which tenant to restore: the dump's only one, or --tenant's. */
int rs_choose_filter(struct rs *s);
/* Is this row of a full dump part of the restore? May learn the tenant's id. */
int rs_keep_row(struct rs *s, const struct dump_item *it, bool *keep);
int rs_tenant_not_found(struct rs *s);

#endif
