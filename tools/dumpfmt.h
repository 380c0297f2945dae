/*
 * Dump files: what clinickv-dump writes and clinickv-restore reads (docs/backup.md).
 *
 * A dump is a header, a body and a trailer, in one of three encodings:
 *
 *   native  a stream of msgpack objects:
 *             header   map {"type": "header", "format": "clinickv-dump", ...}
 *             section  map {"type": "table", "table": NAME, "tenant": bin16}   (full dumps)
 *             row      the stored row, a msgpack array in column order        (full dumps)
 *             change   [seq, op, table id, tenant bin16, id bin16, row|nil, by bin16|nil, at ms]
 *                                                                            (incremental dumps)
 *             trailer  map {"type": "trailer", "rows": N, "counts": {table: n}, "checksum": bin32}
 *   jsonl   the same as one JSON object per line, rows in their wire form (PROTOCOL.md
 *           "Values"), bins (PHI ciphertexts included) as base64, the checksum as hex
 *   sql     INSERT statements for MySQL/MariaDB after the DDL in schema/, with the header and
 *           trailer as comments (clinickv-restore verifies it but does not load it)
 *
 * Full dumps list rows in the order of the rows database's keys: the system section
 * (the tenants and performance_metrics tables) first, then each tenant by id, its
 * tables in catalog (FK load) order, rows by id. The checksum is BLAKE2b-256 of every
 * byte before the trailer, so truncation and corruption are both detected.
 *
 * Any encoding may be sealed with crypto_secretstream_xchacha20poly1305 under a
 * 32-byte key file:
 *
 *   "CKVDMPE1" | secretstream header (24) | chunks: length (4, big-endian) | ciphertext
 *
 * each chunk holding at most DUMP_CHUNK plaintext bytes, the last one tagged FINAL,
 * so a dump cut short after any chunk is refused.
 */
#ifndef CLINICKV_DUMPFMT_H
#define CLINICKV_DUMPFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <sodium.h>

#include "buf.h"
#include "catalog.h"
#include "ckerr.h"
#include "mp.h"
#include "row.h"

#define DUMP_FORMAT_NAME    "clinickv-dump"
#define DUMP_FORMAT_VERSION 1
#define DUMP_CHECKSUM_LEN   32
#define DUMP_KEY_LEN        32
#define DUMP_SLUG_MAX       100
#define DUMP_CHUNK          (64 * 1024)
#define DUMP_ENC_MAGIC      "CKVDMPE1"
#define DUMP_ENC_MAGIC_LEN  8
/* The largest object (row, change, JSON line) a reader accepts: four times the
 * protocol's largest message, which bounds any row a server can have stored. */
#define DUMP_OBJECT_MAX (64u << 20)

enum dump_encoding { DUMP_NATIVE = 1, DUMP_JSONL, DUMP_SQL };
enum dump_kind { DUMP_FULL = 1, DUMP_INCREMENTAL };

/* What a dump holds; the header of every encoding carries all of it. */
struct dump_header {
    unsigned encoding;       /* enum dump_encoding */
    unsigned kind;           /* enum dump_kind */
    unsigned format_version; /* DUMP_FORMAT_VERSION */
    char schema_version[65]; /* ck_catalog.schema_version of the source */
    unsigned row_format;     /* CK_ROW_FORMAT of the source */
    bool pharmacy;           /* the source has the pharmacy module */
    bool has_tenant;         /* one tenant only */
    uint8_t tenant[16];
    char tenant_slug[DUMP_SLUG_MAX + 1];
    uint64_t since; /* incremental: changes after this seq */
    uint64_t seq;   /* the change-log seq the dump is consistent with */
};

/* Per-table counts and the checksum: what a trailer holds. */
struct dump_trailer {
    uint64_t total;       /* rows (full) or changes (incremental) */
    uint64_t counts[256]; /* by table index */
    uint8_t checksum[DUMP_CHECKSUM_LEN];
};

/* Name of an encoding ("native", "jsonl", "sql"), or NULL; and back (0 when unknown). */
const char *dump_encoding_name(unsigned encoding);
unsigned dump_encoding_from_name(const char *name);

/*
 * Read a key file: exactly DUMP_KEY_LEN bytes, a regular file readable and writable
 * by its owner only. Refuses (-CK_EINVAL or -CK_EFORBIDDEN, message in err) a file of
 * another size or one that group or others may read; key is written only on success.
 */
int dump_key_load(const char *path, uint8_t key[DUMP_KEY_LEN], struct ck_err *err);

/* ------------------------------------------------------------------ output */

/*
 * Where a dump's bytes go: an fd, optionally through secretstream, with the running
 * BLAKE2b of the plaintext. Writes are buffered; the first error is remembered and
 * returned by every later call, so writers may check once at the end.
 */
struct dump_sink {
    int fd;
    bool encrypt;
    bool hashing;   /* still adding to the checksum */
    int error;      /* first error, negative */
    uint64_t bytes; /* plaintext bytes written */
    crypto_secretstream_xchacha20poly1305_state st;
    crypto_generichash_state hash;
    struct buf pending; /* plaintext not yet written */
    struct ck_err *err; /* where error messages go (borrowed) */
};

/* Start writing to fd (not taken over: the caller closes it). key: NULL for a plain
 * dump. err must outlive the sink. */
int dump_sink_open(struct dump_sink *s, int fd, const uint8_t *key, struct ck_err *err);

/* Append bytes to the dump (and the checksum). */
int dump_sink_write(struct dump_sink *s, const void *p, size_t n);

/* The checksum of everything written so far; later writes are not part of it. */
void dump_sink_checksum(struct dump_sink *s, uint8_t out[DUMP_CHECKSUM_LEN]);

/* Flush, write the final chunk of an encrypted dump, fsync a regular file, and
 * release the buffers. Returns the first error of the sink's life. */
int dump_sink_close(struct dump_sink *s);

/* ------------------------------------------------------------------ input */

/*
 * Where a dump's bytes come from: an fd, decrypted when it is sealed, buffered so
 * that readers can look at a whole object before consuming it.
 */
struct dump_source {
    int fd;
    const char *name; /* for messages (borrowed) */
    bool encrypted;
    bool final_seen; /* encrypted: the FINAL chunk has arrived */
    bool eof;        /* no more plaintext will come */
    crypto_secretstream_xchacha20poly1305_state st;
    struct buf buf;    /* plaintext */
    size_t pos;        /* consumed up to here */
    uint64_t consumed; /* plaintext bytes consumed in all */
    uint64_t raw_read; /* bytes read from fd (progress) */
    uint64_t raw_size; /* size of a regular input file, else 0 */
};

/*
 * Start reading fd (the caller closes it). key: the --decrypt key or NULL. A sealed
 * dump without a key, and a key for a dump that is not sealed, are refused with a
 * message in err.
 */
int dump_source_open(struct dump_source *s, int fd, const char *name, const uint8_t *key,
                     struct ck_err *err);

/*
 * Make at least want bytes available at s->buf.data + s->pos, reading (and
 * decrypting) more as needed. Returns the number available (which is less than want
 * only at the end of the input), or a negative error with a message in err
 * (a chunk that does not authenticate, an encrypted dump cut short).
 */
ssize_t dump_source_fill(struct dump_source *s, size_t want, struct ck_err *err);

/* Mark n available bytes consumed. */
void dump_source_consume(struct dump_source *s, size_t n);

/* Release the buffers. */
void dump_source_close(struct dump_source *s);

/* What the first bytes of a plain dump say it is: an enum dump_encoding, or 0. */
unsigned dump_sniff(const char *p, size_t n);

/* ------------------------------------------------------------------ headers */

/*
 * Pack a header or trailer as a msgpack map. wire: ids as UUID strings and the
 * checksum as hex (for JSON lines); otherwise as bins.
 */
void dump_header_pack(msgpack_packer *pk, const struct dump_header *h, bool wire);
void dump_trailer_pack(msgpack_packer *pk, const struct dump_trailer *t, unsigned kind, bool wire);

/*
 * Read a header map (cursor just past its map header, npairs pairs). Accepts both
 * forms of dump_header_pack. -CK_EINVAL with a message for a map that is not a
 * clinickv dump header or of a format version this program cannot read.
 */
int dump_header_parse(const char *p, const char *end, uint32_t npairs, struct dump_header *h,
                      struct ck_err *err);

/* Read a trailer map; counts of tables unknown to the catalog are refused. */
int dump_trailer_parse(const char *p, const char *end, uint32_t npairs, struct dump_trailer *t,
                       struct ck_err *err);

/* The "type" of a header, section or trailer map ("header", "table", "trailer"...);
 * false when the map has none. */
bool dump_map_type(const char *p, const char *end, uint32_t npairs, const char **type,
                   uint32_t *len);

/* Write the checksum as 64 lowercase hex digits and a NUL. */
void dump_checksum_hex(const uint8_t sum[DUMP_CHECKSUM_LEN], char out[2 * DUMP_CHECKSUM_LEN + 1]);

/* Columns whose foreign key points at the same table or a later one in catalog
 * order ("late" columns): a load in catalog order must write them in a second pass. */
ck_colmask dump_late_columns(const struct ck_table *t);

#endif
