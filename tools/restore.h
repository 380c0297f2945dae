/*
 * Restoring dumps (dumpfmt.h): the work of clinickv-restore.
 *
 * Three cases, told apart by the first dump and the target:
 *
 *   new data directory   a full dump (and incrementals after it) into DIR that does not
 *                        exist or is empty: bulk-loaded (bulkload.h) into a temporary
 *                        directory beside DIR, incrementals replayed there, synced, and
 *                        renamed to DIR at the very end, so DIR appears complete or not
 *                        at all. The new directory gets its own admin.key; the source's
 *                        change-log position is kept (meta "restored_seq", and the log
 *                        continues numbering from it), so later incrementals of the
 *                        source apply to it.
 *   one tenant, live     --tenant SLUG and a full dump into an existing data directory
 *                        (a server may be running): the tenant's rows go through the
 *                        normal write path (storage/rows.h: validation, FKs, unique keys,
 *                        change log) in ONE write transaction, keeping their timestamps
 *                        and authors (CK_W_KEEP_META). The tenant must not exist there.
 *                        Its PHI was sealed with the source's keys: with the source's
 *                        key file (--source-keys) it is opened and sealed again with the
 *                        target's active key, and the blind indexes are recomputed with
 *                        the target's blind key, so the target's server can read it.
 *   incrementals only    into a directory (or tenant) restored before: applied in one
 *                        write transaction, if they continue exactly where it stopped
 *                        and nothing was written to it since.
 *
 * Every dump is verified (checksum, counts, order) as it is read and before anything
 * becomes visible; the chain of dumps is checked before any work starts: one full
 * dump first, then incrementals each starting where the previous one ended, all of
 * this program's schema version. Any refusal leaves the target as it was.
 */
#ifndef CLINICKV_RESTORE_H
#define CLINICKV_RESTORE_H

#include <stdbool.h>
#include <stdint.h>

#include "ckerr.h"

struct restore_opts {
    const char *dir;           /* target data directory (not needed to verify) */
    const char *const *inputs; /* dump files in order; "-" is standard input */
    unsigned ninputs;
    const char *tenant;      /* --tenant SLUG (or id), or NULL */
    const uint8_t *key;      /* --decrypt key (32 bytes), or NULL */
    const char *key_file;    /* --key-file: the PHI key file to copy into a new directory,
                                or the existing directory's (default DIR/phi.keys) */
    const char *source_keys; /* --source-keys: the source's PHI key file; a tenant
                                restored into an existing directory gets its PHI
                                re-sealed with that directory's active key */
    bool verify_only;        /* --verify: check the dumps, restore nothing */
    bool verbose;
};

/* Run a restore (or a verification). Returns 0, or an error with the reason in err;
 * on error the target is unchanged. Prints what was done on standard output. */
int restore_run(const struct restore_opts *o, struct ck_err *err);

#endif
