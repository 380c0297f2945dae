/*
 * Queries: the planner and executor behind row.query (docs/protocol.md
 * "row.query"), below the RPC layer.
 *
 * A query is read from its params map (ck_query_parse), planned against the
 * catalog (ck_query_plan) and run in a transaction (ck_query_run), which hands
 * each matching row to a sink. Nothing here knows about sessions or sockets:
 * the caller decides through the sink which rows a session may see and how a
 * row is written out, so row.query and txn.run's query ops share one executor.
 *
 * Plans. Every index entry is tenant | index id | encoded columns | row id
 * (index.h), so tenant_id is implicit and a query only ever reads the caller's
 * tenant. The planner picks, among
 *   - the primary key: `id` equal to a value or `in` a list (point reads), or
 *     an `id` range (a walk of the rows database);
 *   - each secondary index: its leading key columns matched by equality
 *     filters, the next one optionally bounded by a range, and the requested
 *     order equal to the key order of the columns that follow (then row id);
 * the one that matches the most equality columns, then has a range, then
 * leaves the fewest filters to check on fetched rows, then has the shortest
 * key. The walk is one LMDB cursor, forwards for ascending order and
 * backwards (MDB_PREV) for descending. Filters the walk does not imply are
 * evaluated on each fetched row. A query no index serves fails with
 * -CK_ENOINDEX unless allow_scan, which walks the tenant's rows (or an index
 * giving the requested order) checking every filter.
 *
 * Pages. A call visits at most CK_QUERY_KEY_BUDGET keys and returns at most
 * `limit` rows. After the last row it keeps walking to the next matching row,
 * so `more` is exact: it is false only when the walk reached the end of its
 * range. The cursor of the next page holds the key of the last row returned
 * (or, when the budget ran out, the last key visited) without the tenant
 * prefix, so it resumes exactly after that position whatever was inserted or
 * deleted meanwhile, and can never reach another tenant's keys.
 *
 * Values. Filter values are wire values (PROTOCOL.md "Values") of the column.
 * Strings compare by their collation key (collate.h), as the indexes order and
 * match them. NULL matches only is_null (a nil value means is_null); every
 * other comparison with NULL is false, as in SQL.
 */
#ifndef CLINICKV_QUERY_H
#define CLINICKV_QUERY_H

#include <stdbool.h>
#include <stdint.h>

#include "index.h"
#include "mp.h"
#include "phi.h"
#include "rows.h"

#define CK_QUERY_DEFAULT_LIMIT 100
#define CK_QUERY_MAX_LIMIT     1000
#define CK_QUERY_MAX_FILTERS   32    /* filters of one where (an op map counts each op) */
#define CK_QUERY_MAX_IN        1000  /* values of one `in` list */
#define CK_QUERY_MAX_ORDER     8     /* order_by items */
#define CK_QUERY_MAX_INCLUDES  8     /* include names */
#define CK_QUERY_MAX_INCLUDED  1000  /* rows of one included child list */
#define CK_QUERY_KEY_BUDGET    20000 /* keys one call may visit before it returns a page */

/* Filter operators. */
enum ck_qop {
    CK_Q_EQ = 1,
    CK_Q_NE,
    CK_Q_GT,
    CK_Q_GTE,
    CK_Q_LT,
    CK_Q_LTE,
    CK_Q_IN,
    CK_Q_IS_NULL,
    CK_Q_NOT_NULL,
};

/* A filter value, with the collation key of a string in the query's arena. */
struct ck_qval {
    struct ck_val v;
    uint32_t key_off, key_len;
};

struct ck_qfilter {
    uint16_t col;
    uint8_t op;         /* enum ck_qop */
    struct ck_qval val; /* every op but IN, IS_NULL, NOT_NULL */
    struct ck_qval *in; /* CK_Q_IN: nin values (owned by the query) */
    uint32_t nin;
};

struct ck_qorder {
    uint16_t col;
    bool desc;
};

/* An included relation: the child rows of a table whose FK points at the
 * queried row, or the parent row an FK column of the queried row names. */
struct ck_qinclude {
    const char *name; /* as requested (points into the params) */
    uint32_t name_len;
    bool child;
    const struct ck_table *table; /* the included rows' table */
    const struct ck_fk *fk;       /* child: the child's FK; parent: the queried table's */
};

enum ck_qplan_kind {
    CK_QPLAN_IDS = 1, /* point reads of the ids an `id` eq/in filter names */
    CK_QPLAN_PRIMARY, /* a walk of the rows database in id order */
    CK_QPLAN_INDEX,   /* a walk of one secondary index */
};

struct ck_qplan {
    uint8_t kind; /* enum ck_qplan_kind */
    bool desc;
    bool scan;                 /* allowed only by allow_scan: nothing bounds the walk */
    const struct ck_index *ix; /* CK_QPLAN_INDEX */
    uint8_t neq;               /* leading key columns (tenant_id skipped) matched by equality */
    int16_t eq_filter[CK_INDEX_MAX_COLS]; /* the filter giving each of them */
    int16_t range_col;                    /* the key column bounded by a range, or -1 */
    int16_t ids_filter;                   /* CK_QPLAN_IDS: the filter on id */
    uint32_t served;                      /* bit i: filter i holds for every key the walk visits */
};

struct ck_query_stats {
    uint64_t keys_visited;  /* index entries (or rows-database keys) compared */
    uint64_t rows_examined; /* rows fetched and decoded */
    uint64_t rows_returned;
    uint64_t include_keys_visited; /* keys visited by include walks and parent reads */
};

struct ck_query {
    const struct ck_table *t;
    struct ck_qfilter f[CK_QUERY_MAX_FILTERS];
    unsigned nf;
    struct ck_qorder order[CK_QUERY_MAX_ORDER];
    unsigned norder;
    unsigned limit;
    bool with_deleted, allow_scan, explain;
    bool has_after;
    struct buf after; /* the decoded cursor */
    struct ck_qinclude inc[CK_QUERY_MAX_INCLUDES];
    unsigned ninc;
    struct ck_qplan plan;        /* after ck_query_plan() */
    struct ck_query_stats stats; /* after ck_query_run() */
    bool more;                   /* after ck_query_run(): there may be another page */
    struct buf next;             /* after ck_query_run(): its cursor (text) when more */
    /* Private to query.c. */
    struct buf arena;         /* collation keys of string filter values */
    struct buf scratch;       /* collation key of the row value being compared */
    struct buf last;          /* key of the last row returned */
    struct phi_search search; /* blind indexes the PHI search filters point into */
    MDB_cursor *inc_cur;      /* the cursor of include walks, opened in inc_txn */
    MDB_txn *inc_txn;
};

/* What the caller lends the parser. */
struct ck_query_env {
    const struct phi_keyring *phi; /* for where {demographics: {...}}; may be NULL */
    bool phi_search_allowed;       /* the session may search PHI */
};

/* Where matching rows go. */
struct ck_query_sink {
    /* May the caller see this row? Rows it may not are skipped (and counted as
     * examined). NULL: every row is visible. */
    bool (*visible)(void *arg, const struct ck_row *r);
    /* Take one matching row (a view valid during the call only). A non-zero
     * return stops the query with that error. */
    int (*emit)(void *arg, const struct ck_row *r);
    void *arg;
};

/*
 * Read a query from the params map of row.query (p at its first key, npairs
 * pairs, end the end of the params): where, order_by, limit, after, include,
 * with_deleted, allow_scan, explain (table, tenant, op and as are the
 * caller's and ignored here). c gives the tenant, the transaction (today_in_clinic
 * reads the clinic's time zone) and the clock (c->now_ms: "today").
 *
 * String values of filters point into the params, which must outlive q.
 * Errors (message and details in c->err): -CK_EBADREQ (shape, unknown
 * parameter or operator, limit outside 1..1000, malformed cursor, ambiguous
 * include), -CK_EUNKCOLUMN, -CK_EUNKTABLE (include), -CK_EINVAL (a value the
 * column cannot hold, an unknown time zone), -CK_EFORBIDDEN (a tenant_id other
 * than the caller's; a PHI search without phi_search_allowed), -CK_ENOTFOUND
 * (today_in_clinic names no clinic), -CK_ENOMEM. q must be freed with
 * ck_query_free() whatever the result.
 */
int ck_query_parse(struct ck_query *q, struct ck_ctx *c, const struct ck_table *t, const char *p,
                   uint32_t npairs, const char *end, const struct ck_query_env *env);

/*
 * Choose the plan (q->plan). -CK_ENOINDEX when no index serves the query and
 * allow_scan is false, or when the order cannot be produced by any walk (an
 * order_by that mixes directions or that no index's key order gives); err's
 * details name the table and its indexes.
 */
int ck_query_plan(struct ck_query *q, struct ck_err *err);

/*
 * Run the planned query in c->txn, handing up to q->limit matching rows, in
 * order, to sink->emit; then sets q->more, q->next and q->stats. Soft-deleted
 * rows are skipped unless q->with_deleted. Errors: -CK_EBADREQ (a cursor from
 * another query: another table, index, direction or equality values), the
 * sink's errors, storage errors (-CK_EINTERNAL on an index entry without its
 * row).
 */
int ck_query_run(struct ck_ctx *c, struct ck_query *q, const struct ck_query_sink *sink);

/*
 * Hand the rows that include inc relates to row r to sink->emit: a child
 * include emits the child rows whose FK names r, in the order of the FK's
 * index; a parent include emits the parent row, or nothing when the FK column
 * is NULL or the parent is gone, soft-deleted (unless q->with_deleted) or not
 * visible. Keys visited are added to q->stats.include_keys_visited.
 * -CK_ETOOLARGE when a child list would exceed CK_QUERY_MAX_INCLUDED rows.
 */
int ck_query_include(struct ck_ctx *c, struct ck_query *q, const struct ck_qinclude *inc,
                     const struct ck_row *r, const struct ck_query_sink *sink);

/*
 * Pack the explain map of a query that ran: {kind, index, direction, eq, range,
 * filters, keys_visited, rows_examined, rows_returned, include_keys_visited}
 * (docs/protocol.md).
 */
void ck_query_pack_explain(msgpack_packer *pk, const struct ck_query *q);

/* Name of the plan's index ("PRIMARY" for the primary key). */
const char *ck_query_index_name(const struct ck_query *q);

/* Release what q holds; q may then be parsed again. Safe on a zeroed q. After
 * ck_query_include() ran in a write transaction, call it before that transaction
 * ends (it closes a cursor of the transaction); after a read-only one, at any time. */
void ck_query_free(struct ck_query *q);

#endif
