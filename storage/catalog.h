/*
 * The schema catalog: every table, column, foreign key, unique constraint, index
 * and CHECK constraint of the DDL files in schema/, as read-only data.
 *
 * The data is generated at build time from the DDL by tools/ddl2catalog.py into
 * catalog_data.c, so the catalog and the DDL cannot drift; tests/test_catalog_ddl.py
 * re-reads the DDL independently and compares it with what the server describes.
 * Everything that depends on the schema (validation, index maintenance, FK rules,
 * dump order, schema.describe, permissions) is driven by this one catalog: there
 * are no per-table code paths.
 *
 * All pointers refer to static storage; nothing here is ever freed.
 */
#ifndef CLINICKV_CATALOG_H
#define CLINICKV_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a column's values are typed on the wire and stored (docs/storage.md). */
enum ck_type {
    CK_T_UUID = 1,  /* VARCHAR(36) id and FK columns: 36-char lowercase UUID      */
    CK_T_VARCHAR,   /* VARCHAR(n): string, length checked in characters          */
    CK_T_CHAR,      /* CHAR(n): string, trailing spaces removed as MySQL does     */
    CK_T_TEXT,      /* TEXT: string of at most 65,535 bytes                       */
    CK_T_INT,       /* TINYINT/SMALLINT/INT [UNSIGNED] other than TINYINT(1)      */
    CK_T_BOOL,      /* TINYINT(1)                                                 */
    CK_T_DECIMAL,   /* DECIMAL(p,s): exact, stored as an integer of 10^-s units   */
    CK_T_DATE,      /* DATE: days since 1970-01-01                               */
    CK_T_TIMESTAMP, /* TIMESTAMP[(fsp)]: milliseconds since the epoch, UTC       */
    CK_T_ENUM,      /* ENUM(...): stored as its 1-based ordinal                  */
    CK_T_JSON,      /* JSON: any msgpack map or array, stored as given           */
    CK_T_BLOB,      /* LONGBLOB: bin                                             */
    CK_T_VARBINARY, /* VARBINARY(n): bin of at most n bytes                      */
};

/* What an omitted column gets on insert. */
enum ck_default {
    CK_DEF_NONE = 0, /* no default: NOT NULL columns must be given       */
    CK_DEF_NULL,     /* DEFAULT NULL (or nullable without DEFAULT)        */
    CK_DEF_LITERAL,  /* DEFAULT 'text' / 0 / 0.00: see default_literal  */
    CK_DEF_NOW,      /* DEFAULT CURRENT_TIMESTAMP[(3)]                    */
    CK_DEF_UUID,     /* DEFAULT (UUID()): the server's UUIDv7            */
};

enum ck_on_delete {
    CK_FK_CASCADE = 1,
    CK_FK_SET_NULL,
    CK_FK_RESTRICT,
};

/* Table groups of the permission matrix, from the DDL's section headers. */
enum ck_group {
    CK_G_CORE = 0,     /* multi-tenancy layer, patients, scheduling           */
    CK_G_CLINICAL,     /* clinical notes, treatment plans                     */
    CK_G_MARKETPLACE,  /* suppliers, products, orders, inventory              */
    CK_G_PHARMACY,     /* the optional pharmacy module                        */
    CK_G_BILLING,      /* insurance, invoices, payments                       */
    CK_G_AI_ANALYTICS, /* AI/ML and analytics                                 */
    CK_G_FEATURES,     /* feature flags, A/B tests                            */
    CK_G_SYSTEM,       /* alerting                                            */
    CK_G__COUNT
};

struct ck_column {
    const char *name;
    const char *sql_type; /* as the DDL spells it: "VARCHAR(36)", "DECIMAL(10,2)" */
    uint8_t type;         /* enum ck_type */
    bool nullable;
    uint8_t default_kind; /* enum ck_default */
    bool on_update_now;   /* ON UPDATE CURRENT_TIMESTAMP */
    uint32_t length;      /* VARCHAR/CHAR: characters; TEXT: 65535 bytes; VARBINARY: bytes */
    uint8_t precision;    /* DECIMAL p; TIMESTAMP fsp (0 or 3) */
    uint8_t scale;        /* DECIMAL s */
    int64_t min, max;     /* CK_T_INT range (from the SQL type and UNSIGNED) */
    uint8_t n_enum;       /* CK_T_ENUM: number of values */
    const char *const *enum_values; /* CK_T_ENUM: values in DDL order (ordinal = index + 1) */
    const char
        *default_literal; /* CK_DEF_LITERAL: the literal as text, unquoted ("0.00", "trial") */
    int16_t fk;           /* index into the table's fks[] when this column is an FK, else -1 */
    const char *comment;  /* the DDL's COMMENT, or NULL */
};

struct ck_fk {
    const char *name;       /* constraint name, "fk_appointments_patient" */
    uint16_t column;        /* column index in the child (owning) table */
    uint16_t parent_table;  /* table index in the catalog */
    uint16_t parent_column; /* always the parent's id column here */
    uint8_t on_delete;      /* enum ck_on_delete */
    int16_t index;          /* index of the child table's indexes[] that serves
                               "children with this FK value" (its first column
                               after tenant_id is the FK column), or -1 for the
                               tenant_id FK, whose children are the whole tenant key space */
};

/* A secondary index: every UNIQUE KEY and KEY of the DDL (the PRIMARY KEY is the
 * row key itself and is not listed). tenant_id columns are part of the key prefix
 * of every entry (docs/storage.md) and are listed here as in the DDL. */
#define CK_INDEX_MAX_COLS 6
struct ck_index {
    const char *name; /* "idx_appointments_tenant_patient_date" */
    uint16_t id;      /* catalog-wide index id, stored in every index key */
    bool unique;
    uint8_t ncols;
    uint16_t cols[CK_INDEX_MAX_COLS]; /* column indexes, DDL order */
};

/* CHECK constraints are held as data: a small postfix program over the row. */
enum ck_check_opcode {
    CK_OP_COL = 1, /* push column value (col)                                  */
    CK_OP_NUM,     /* push number num * 10^-scale                              */
    CK_OP_EQ,
    CK_OP_NE,
    CK_OP_LT,
    CK_OP_LE,
    CK_OP_GT,
    CK_OP_GE,      /* pop b, a; push a op b */
    CK_OP_BETWEEN, /* pop hi, lo, a; push lo <= a AND a <= hi                  */
    CK_OP_IS_NULL, /* pop a; push a IS NULL                                    */
    CK_OP_IS_NOT_NULL,
    CK_OP_AND,
    CK_OP_OR, /* pop b, a; push a op b, SQL three-valued logic         */
    CK_OP_NOT,
};

struct ck_check_op {
    uint8_t op;    /* enum ck_check_opcode */
    uint8_t scale; /* CK_OP_NUM */
    uint16_t col;  /* CK_OP_COL */
    int64_t num;   /* CK_OP_NUM */
};

struct ck_check {
    const char *name;       /* "chk_payments_amounts" */
    const char *expression; /* as the DDL spells it, whitespace collapsed */
    uint16_t nops;
    const struct ck_check_op *ops;
};

/* A foreign key that points at a table, seen from the parent: used by ON DELETE. */
struct ck_ref {
    uint16_t table; /* child table index */
    uint16_t fk;    /* index into the child's fks[] */
};

struct ck_table {
    const char *name;
    uint8_t id;    /* 1..255, stored in every row key; catalog index + 1 */
    uint8_t group; /* enum ck_group */
    bool optional; /* part of the optional pharmacy module */
    const char *comment;

    uint16_t ncols;
    const struct ck_column *cols;
    uint16_t nfks;
    const struct ck_fk *fks;
    uint16_t nindexes;
    const struct ck_index *indexes;
    uint16_t nchecks;
    const struct ck_check *checks;
    uint16_t nrefs; /* FKs of other (or this) tables pointing here */
    const struct ck_ref *refs;

    /* Column indexes of the columns the server maintains, or -1. */
    int16_t col_id;
    int16_t col_tenant; /* -1 for the global tables tenants, performance_metrics */
    int16_t col_clinic;
    int16_t col_created_at, col_updated_at, col_deleted_at;
    int16_t col_created_by, col_updated_by;
};

struct ck_catalog {
    uint16_t ntables;
    const struct ck_table *tables; /* in DDL (FK load) order */
    const char *schema_version;    /* BLAKE2b-derived hex digest of the DDL files */
    /* Totals as MariaDB's information_schema counts them (schema/README.md). */
    uint32_t ncolumns, nfks, nunique, nindexes_with_pk, nchecks;
};

/* The catalog compiled from the DDL. */
extern const struct ck_catalog ck_catalog;

/* Table by name, or NULL. len is the name's length (names need not be terminated). */
const struct ck_table *ck_table_find(const char *name, size_t len);

/* Table by its stored id (1..ntables), or NULL. */
const struct ck_table *ck_table_by_id(unsigned id);

/* Column index by name, or -1. */
int ck_column_find(const struct ck_table *t, const char *name, size_t len);

/* Index of table t by name, or NULL. */
const struct ck_index *ck_index_find(const struct ck_table *t, const char *name, size_t len);

/* Index by catalog-wide id, or NULL; *table_out gets its table. */
const struct ck_index *ck_index_by_id(unsigned id, const struct ck_table **table_out);

/* Name of a group ("core", "clinical", ...) and of an ON DELETE rule ("CASCADE"...);
 * NULL for a value outside its enum. The strings are static. */
const char *ck_group_name(unsigned group);
const char *ck_on_delete_name(unsigned rule);

/* The column that says which clinic a row of t belongs to (clinic scopes): its
 * clinic_id, the id of a clinics row (a clinic is its own clinic), or -1 when rows
 * of t belong to no clinic. */
int ck_table_clinic_col(const struct ck_table *t);

/* Index of a table in ck_catalog.tables (its id - 1). */
static inline unsigned ck_table_index(const struct ck_table *t)
{
    return (unsigned)t->id - 1u;
}

#endif
