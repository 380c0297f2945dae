/*
 * Reading a dump (dumpfmt.h) back as rows and changes in their stored form, whatever
 * its encoding, verifying it on the way: the trailer's checksum and counts, the
 * order of sections, the sequence numbers of changes.
 *
 * Native dumps hand out their rows as they are in the file. JSON-lines dumps are
 * converted back: each wire value is checked as a client's value would be
 * (ck_val_from_wire) and the row is encoded in the stored format, which gives the
 * same bytes as the source held. SQL dumps can only be verified (checksum), not read.
 *
 * Nothing a reader hands out is known to be intact until dump_reader_next() has
 * returned 0: corruption anywhere (a flipped byte in a row) is only detected by the
 * checksum at the end, so a caller must not make the data visible before that.
 */
#ifndef CLINICKV_DUMPREAD_H
#define CLINICKV_DUMPREAD_H

#include "changelog.h"
#include "dumpfmt.h"

enum dump_item_kind { DUMP_ITEM_ROW = 1, DUMP_ITEM_CHANGE };

struct dump_item {
    unsigned kind; /* enum dump_item_kind */
    const struct ck_table *t;
    uint8_t tenant[16]; /* the row's key prefix: its tenant, or the system tenant */
    const char *row;    /* the stored row (NULL for a delete) */
    size_t rowlen;
    struct ck_change ch; /* changes: seq, op, ids, by, at (ch.row == row) */
};

struct dump_reader {
    struct dump_source *src;
    struct dump_header hdr;
    unsigned encoding; /* what the bytes are (for SQL: verify only) */
    crypto_generichash_state hash;
    struct dump_trailer seen; /* counts of what was handed out */
    bool done;
    bool checksum_only; /* JSON lines: count records, do not convert rows */
    uint64_t line;      /* JSON lines and SQL: the current line, for messages */
    uint64_t last_seq;  /* incremental: the last change's seq */
    bool have_section;
    uint8_t sec_tenant[16];
    const struct ck_table *sec_table;
    struct buf mp;      /* JSON lines: the current line as msgpack */
    struct buf row;     /* JSON lines: the current row, stored form */
    uint8_t ids[3][16]; /* JSON lines: a change's tenant, id, by */
};

/*
 * Start reading src: read and check the header (an unknown format or version, a
 * schema version other than this program's, are refused with a message in err).
 */
int dump_reader_open(struct dump_reader *r, struct dump_source *src, struct ck_err *err);

/*
 * The next row or change: 1 with *it filled (its pointers valid until the next
 * call), 0 at the end once the trailer has verified, or a negative error with a
 * message in err: a truncated or corrupt dump, a checksum or count mismatch, data
 * after the trailer. SQL dumps give no items: their first call verifies the whole
 * dump.
 */
int dump_reader_next(struct dump_reader *r, struct dump_item *it, struct ck_err *err);

/* Release the reader's buffers (not the source). */
void dump_reader_close(struct dump_reader *r);

#endif
