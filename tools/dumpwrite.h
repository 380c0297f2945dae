/*
 * Writing a dump in one of its encodings (dumpfmt.h): the header, then rows (full
 * dumps) or changes (incremental dumps) in order, then the trailer with the counts
 * and the checksum.
 *
 * Rows arrive in the order of the rows database's keys (dumpfmt.h), which is the
 * order every encoding keeps. The SQL encoding writes MySQL/MariaDB statements:
 *   - a full dump is multi-row INSERTs in that order; the columns whose foreign key
 *     points at the same table or a later one (dump_late_columns(): clinics and users
 *     created_by/updated_by, appointments.recurrence_id, the self-references) are
 *     inserted NULL and set by UPDATEs at the end of each tenant, so the file loads
 *     with FOREIGN_KEY_CHECKS=1;
 *   - an incremental dump is one transaction of upserts (INSERT ... ON DUPLICATE KEY
 *     UPDATE) and DELETEs; a run of consecutive deletes is written children first
 *     (reverse catalog order), because InnoDB checks ON DELETE RESTRICT row by row
 *     where clinickv removes a cascade as a whole.
 */
#ifndef CLINICKV_DUMPWRITE_H
#define CLINICKV_DUMPWRITE_H

#include "changelog.h"
#include "dumpfmt.h"

struct dump_writer {
    struct dump_sink *sink;
    struct dump_header hdr;
    struct dump_trailer trailer;
    struct buf scratch; /* one record being built */
    struct buf json;    /* wire form and JSON of one record */
    /* native: the section (tenant, table) of the last row */
    bool have_section;
    uint8_t sec_tenant[16];
    const struct ck_table *sec_table;
    /* sql */
    struct buf stmt; /* the INSERT being built */
    unsigned stmt_rows;
    struct buf late; /* UPDATEs of late columns, for the tenant's end */
    struct dump_delete {
        uint16_t table; /* catalog index */
        uint32_t pos;   /* place in the run, to keep a table's deletes in order */
        uint8_t id[16];
    } * deletes; /* a run of consecutive deletes, not yet written */
    size_t ndeletes, cap_deletes;
};

/* Start a dump on sink with header h (h->encoding picks the encoding). */
int dump_writer_begin(struct dump_writer *w, struct dump_sink *sink, const struct dump_header *h);

/* Add one stored row of table t under the key prefix tenant (full dumps). */
int dump_writer_row(struct dump_writer *w, const struct ck_table *t, const uint8_t tenant[16],
                    const void *row, size_t len);

/* Add one change record (incremental dumps). */
int dump_writer_change(struct dump_writer *w, const struct ck_change *ch);

/* Write what is pending and the trailer. The sink stays open. */
int dump_writer_end(struct dump_writer *w);

/* Release the writer's buffers (after end, or to abandon the dump). */
void dump_writer_free(struct dump_writer *w);

/* Append v, a value of column c, as a MySQL literal (exposed for tests). */
void dump_sql_value(struct buf *out, const struct ck_column *c, const struct ck_val *v);

#endif
