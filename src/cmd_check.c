/*
 * clinickv check: verify every row, index entry, foreign key and unique key of a
 * data directory (storage/consistency.h), offline or beside a running server.
 *
 * The environment is opened read-only (MDB_RDONLY) and checked in one read
 * transaction, so a server may keep serving and writing meanwhile: the check
 * sees one consistent snapshot and changes nothing.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "consistency.h"
#include "datadir.h"
#include "tenants.h"
#include "uuid.h"

/* Exit statuses (documented in usage()). */
#define EXIT_CLEAN    0
#define EXIT_PROBLEMS 1
#define EXIT_USAGE    2
#define EXIT_CANNOT   3

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clinickv check --data DIR [--tenant SLUG] [--json] [--max-problems N]\n\n"
            "Verifies, in one read-only snapshot (a server may keep running), that every\n"
            "stored row decodes and satisfies the schema (types, lengths, NOT NULL, CHECKs),\n"
            "every foreign key names an existing row of the same tenant, no two rows share a\n"
            "unique key, every row has all its index entries and every index entry belongs\n"
            "to a row that has it. Prints rows per table, what was checked, and each problem\n"
            "by table, row id and index or constraint (never a value: rows hold PHI).\n\n"
            "  --tenant SLUG     check only this tenant (slug or id) and its tenants row\n"
            "  --json            print one JSON object instead of text\n"
            "  --max-problems N  list at most N problems (all are counted; default: all)\n\n"
            "Exit status: 0 no problem, 1 problems found, 2 usage, 3 the check could not run.\n");
}

/* Append s as a JSON string. Catalog names and ids are plain ASCII; the data
 * directory's path may hold anything, so everything below 0x20 is escaped. */
static void json_str(struct buf *b, const char *s)
{
    buf_push(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf_push(b, '\\');
            buf_push(b, c);
        } else if (c < 0x20) {
            buf_printf(b, "\\u%04x", c);
        } else {
            buf_push(b, c);
        }
    }
    buf_push(b, '"');
}

struct report {
    bool json;
    uint64_t max; /* 0: all */
    uint64_t listed;
    struct buf problems; /* JSON: the listed problems, comma-separated objects */
};

static void on_problem(void *arg, const struct ck_problem *p)
{
    struct report *r = arg;
    if (r->max && r->listed >= r->max)
        return;
    r->listed++;
    if (!r->json) {
        char line[512];
        ck_problem_format(p, line, sizeof line);
        printf("problem: %s\n", line);
        return;
    }
    struct buf *b = &r->problems;
    char id[37];
    if (b->len)
        buf_push(b, ',');
    buf_printf(b, "\n    {\"kind\": ");
    json_str(b, ck_problem_kind_name(p->kind));
    const char *keys[] = {"table", "constraint", "column", "parent_table"};
    const char *vals[] = {p->table ? p->table->name : NULL, p->constraint, p->column,
                          p->parent_table};
    for (unsigned i = 0; i < 4; i++) {
        if (vals[i]) {
            buf_printf(b, ", \"%s\": ", keys[i]);
            json_str(b, vals[i]);
        }
    }
    const bool has[] = {p->has_tenant, p->has_id, p->has_other};
    const uint8_t *ids[] = {p->tenant, p->id, p->other_id};
    const char *idkeys[] = {"tenant_id", "id", "other_id"};
    for (unsigned i = 0; i < 3; i++) {
        if (has[i]) {
            ck_uuid_format(ids[i], id);
            buf_printf(b, ", \"%s\": \"%s\"", idkeys[i], id);
        }
    }
    char line[512];
    ck_problem_format(p, line, sizeof line);
    buf_printf(b, ", \"message\": ");
    json_str(b, line);
    buf_push(b, '}');
}

static void print_text(const struct ck_consistency_stats *st, const struct report *r)
{
    printf("  %-32s %10s %10s\n", "table", "rows", "entries");
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        uint64_t entries = 0;
        for (unsigned j = 0; j < t->nindexes; j++)
            entries += st->entries[t->indexes[j].id];
        printf("  %-32s %10llu %10llu\n", t->name, (unsigned long long)st->rows[i],
               (unsigned long long)entries);
    }
    printf("rows: %llu; index entries: %llu (every row's own entries found: %llu)\n"
           "foreign keys resolved: %llu; unique keys checked: %llu; CHECKs evaluated: %llu\n",
           (unsigned long long)st->rows_total, (unsigned long long)st->entries_total,
           (unsigned long long)st->entries_verified, (unsigned long long)st->fks_checked,
           (unsigned long long)st->unique_checked, (unsigned long long)st->checks_evaluated);
    if (st->problems > r->listed)
        printf("%llu problem%s (%llu listed above)\n", (unsigned long long)st->problems,
               st->problems == 1 ? "" : "s", (unsigned long long)r->listed);
    else if (st->problems)
        printf("%llu problem%s\n", (unsigned long long)st->problems, st->problems == 1 ? "" : "s");
    else
        printf("no problems\n");
}

static void print_json(const struct ck_consistency_stats *st, const char *dir, const char *tenant,
                       const struct report *r)
{
    struct buf b = BUF_INIT;
    buf_printf(&b, "{\"data\": ");
    json_str(&b, dir);
    buf_printf(&b, ", \"tenant\": ");
    if (tenant)
        json_str(&b, tenant);
    else
        buf_printf(&b, "null");
    buf_printf(&b, ", \"ok\": %s,\n  \"rows\": {", st->problems ? "false" : "true");
    for (unsigned i = 0; i < ck_catalog.ntables; i++)
        buf_printf(&b, "%s\"%s\": %llu", i ? ", " : "", ck_catalog.tables[i].name,
                   (unsigned long long)st->rows[i]);
    /* Per index, PRIMARY (the rows themselves) first, as schema.describe lists them. */
    buf_printf(&b, "},\n  \"index_entries\": {");
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        const struct ck_table *t = &ck_catalog.tables[i];
        buf_printf(&b, "%s\n    \"%s\": {\"PRIMARY\": %llu", i ? "," : "", t->name,
                   (unsigned long long)st->rows[i]);
        for (unsigned j = 0; j < t->nindexes; j++)
            buf_printf(&b, ", \"%s\": %llu", t->indexes[j].name,
                       (unsigned long long)st->entries[t->indexes[j].id]);
        buf_push(&b, '}');
    }
    buf_printf(&b,
               "},\n  \"rows_total\": %llu, \"entries_total\": %llu, \"entries_verified\": %llu, "
               "\"fks_checked\": %llu, \"unique_checked\": %llu, \"checks_evaluated\": %llu,\n"
               "  \"problems_total\": %llu, \"problems_listed\": %llu, \"problems\": [",
               (unsigned long long)st->rows_total, (unsigned long long)st->entries_total,
               (unsigned long long)st->entries_verified, (unsigned long long)st->fks_checked,
               (unsigned long long)st->unique_checked, (unsigned long long)st->checks_evaluated,
               (unsigned long long)st->problems, (unsigned long long)r->listed);
    buf_append(&b, r->problems.data, r->problems.len);
    buf_printf(&b, "%s]}\n", r->problems.len ? "\n  " : "");
    if (b.oom)
        fprintf(stderr, "clinickv check: out of memory\n");
    else
        fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

int cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'}, {"tenant", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},       {"max-problems", required_argument, NULL, 'm'},
        {"help", no_argument, NULL, 'h'},       {0},
    };
    const char *dir = NULL, *slug = NULL;
    struct report r = {.problems = BUF_INIT};
    int ch;
    optind = 1; /* tests call cmd_check() more than once in a process */
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': dir = optarg; break;
        case 't': slug = optarg; break;
        case 'j': r.json = true; break;
        case 'm': {
            char *end;
            r.max = strtoull(optarg, &end, 10);
            if (*optarg == '-' || *end || end == optarg) {
                usage(stderr);
                return EXIT_USAGE;
            }
            break;
        }
        case 'h': usage(stdout); return EXIT_CLEAN;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (!dir || optind != argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    struct ck_err err = CK_ERR_INIT;
    struct kv kv;
    struct kv_options kopt = {.read_only = true};
    int rc = datadir_open(&kv, dir, &kopt, NULL, &err);
    if (rc) {
        fprintf(stderr, "clinickv check: %s\n", err.message);
        ck_err_free(&err);
        return EXIT_CANNOT;
    }
    MDB_txn *txn;
    struct ck_consistency_stats *st = NULL;
    int status = EXIT_CANNOT;
    rc = kv_read_begin(&kv, &txn);
    if (rc) {
        fprintf(stderr, "clinickv check: cannot read %s: %s\n", dir, ck_strerror(rc));
        goto out_close;
    }
    uint8_t tenant[16];
    if (slug) {
        rc = ck_tenant_resolve(txn, &kv, slug, strlen(slug), tenant);
        if (rc) {
            fprintf(stderr, "clinickv check: %s %s\n",
                    rc == -CK_ENOTFOUND ? "no tenant" : "cannot look up tenant", slug);
            goto out_end_txn;
        }
    }
    st = malloc(sizeof *st);
    if (!st) {
        fprintf(stderr, "clinickv check: out of memory\n");
        goto out_end_txn;
    }
    if (!r.json)
        printf("clinickv check %s%s%s\n", dir, slug ? ", tenant " : "", slug ? slug : "");
    struct ck_consistency_opts o = {
        .tenant = slug ? tenant : NULL, .report = on_problem, .arg = &r};
    rc = ck_consistency_check(&kv, txn, &o, st, &err);
    if (rc) {
        fprintf(stderr, "clinickv check: %s\n", err.code ? err.message : ck_strerror(rc));
        goto out_end_txn;
    }
    if (r.json)
        print_json(st, dir, slug, &r);
    else
        print_text(st, &r);
    status = st->problems ? EXIT_PROBLEMS : EXIT_CLEAN;
out_end_txn:
    kv_read_end(&kv, txn);
out_close:
    kv_close(&kv);
    free(st);
    buf_free(&r.problems);
    ck_err_free(&err);
    return status;
}
