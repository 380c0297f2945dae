/*
 * Rows: the stored format, the in-memory view, and the wire format.
 *
 * A stored row is a msgpack array in catalog column order (docs/storage.md):
 * values in a compact typed form (UUIDs as 16-byte bin, DECIMAL as an integer of
 * 10^-scale units, TIMESTAMP as epoch milliseconds, DATE as epoch days, ENUM as
 * its ordinal, JSON as the msgpack the client sent). Clients see a map of
 * column names to the wire values of PROTOCOL.md "Values".
 *
 * struct ck_row is a decoded view: string, bin and JSON values point into the
 * buffer the row was decoded from (an LMDB page, a request), so a view is valid
 * only as long as that buffer (for LMDB: until the transaction ends or writes).
 */
#ifndef CLINICKV_ROW_H
#define CLINICKV_ROW_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "catalog.h"
#include "ckerr.h"
#include "mp.h"

#define CK_MAX_COLS   64
#define CK_ROW_FORMAT 1 /* stored row format version, recorded in meta */

enum ck_vkind {
    CK_V_NULL = 0,
    CK_V_INT,  /* INT, BOOL (0/1), DECIMAL units, TIMESTAMP ms, DATE days, ENUM ordinal */
    CK_V_STR,  /* VARCHAR, CHAR, TEXT: UTF-8 */
    CK_V_BIN,  /* BLOB, VARBINARY */
    CK_V_UUID, /* UUID columns */
    CK_V_JSON, /* JSON: one msgpack map or array, raw */
};

struct ck_val {
    uint8_t kind; /* enum ck_vkind */
    uint32_t len; /* CK_V_STR, CK_V_BIN, CK_V_JSON */
    union {
        int64_t i;
        const char *p;
        uint8_t uuid[16];
    };
};

struct ck_row {
    const struct ck_table *t;
    struct ck_val v[CK_MAX_COLS];
};

/* Bit i set: column i. Tables have at most 64 columns (checked at startup). */
typedef uint64_t ck_colmask;
#define CK_COL(i) ((ck_colmask)1 << (i))

/* Decode a stored row. Columns missing at the end of an older row read as their
 * default-less NULL. -CK_EINTERNAL on a corrupt row. */
int ck_row_decode(const struct ck_table *t, const void *data, size_t len, struct ck_row *out);

/* Encode a row in the stored format, appending to out. */
void ck_row_encode(const struct ck_row *r, struct buf *out);

/* Pack one value in its wire form. */
void ck_val_pack_wire(msgpack_packer *pk, const struct ck_column *c, const struct ck_val *v);

/* Pack a UUID in its wire form (36-character string), or nil when id is NULL. */
void ck_uuid_pack(msgpack_packer *pk, const uint8_t *id);

/* Append the column's name as a msgpack str (encoded once per process). */
void ck_column_pack_name(struct buf *b, const struct ck_table *t, unsigned col);

/* Pack the row as a wire map of every column not in hide. */
void ck_row_pack_wire(msgpack_packer *pk, const struct ck_row *r, ck_colmask hide);

/*
 * Convert the wire value at *p (msgpack) for column c, checking its type, length,
 * enum membership and range (PROTOCOL.md "Values"). *p advances past the value.
 * nil gives CK_V_NULL (NOT NULL is checked separately). Strings, bins and JSON
 * point into the input. -CK_EINVAL with details {column} on a bad value.
 */
int ck_val_from_wire(const struct ck_table *t, unsigned col, const char **p, const char *end,
                     struct ck_val *out, struct ck_err *err);

/* The 1-based ordinal of an ENUM value, matched as the column's collation does
 * (ignoring case); 0 when s is not one of the column's values. */
int ck_enum_ordinal(const struct ck_column *c, const char *s, size_t len);

/* Convert a SQL-ish literal (a DDL default: "0.00", "trial", "1") for column c. */
int ck_val_from_text(const struct ck_column *c, const char *s, size_t len, struct ck_val *out);

/* Equality of two values of the same column (strings compare bytewise, as stored). */
bool ck_val_eq(const struct ck_column *c, const struct ck_val *a, const struct ck_val *b);

/* Set *out to the column's default for a new row at time now_ms (generating a
 * UUIDv7 for DEFAULT (UUID())). A column without default gets NULL. */
void ck_val_default(const struct ck_table *t, unsigned col, int64_t now_ms, struct ck_val *out);

/* Columns a client never sees (users.password_hash). */
ck_colmask ck_table_hidden_cols(const struct ck_table *t);

#endif
