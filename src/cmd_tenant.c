/* clinickv tenant create|delete: manage tenants on a data directory, also while a
 * server runs on it (LMDB serialises the writers of both processes). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "datadir.h"
#include "ondelete.h"
#include "tenants.h"
#include "timeval.h"
#include "uuid.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv tenant create --data DIR --tenant SLUG --admin-email EMAIL\n"
               "                              [--admin-password PASSWORD] [--name NAME]\n"
               "       clinickv tenant delete --data DIR --tenant SLUG\n\n"
               "create adds a tenant with its tenant_admin user (the password may come from\n"
               "$CLINICKV_ADMIN_PASSWORD). delete removes the tenant with everything it owns\n"
               "and prints what was removed, per table.\n");
}

struct tenant_job {
    struct kv *kv;
    struct ck_err *err;
    struct tenant_spec spec;
    const char *slug;
    uint8_t tenant[16], admin[16];
    struct ck_delete_result res;
};

static int create_txn(MDB_txn *txn, void *arg)
{
    struct tenant_job *j = arg;
    struct ck_log log = {0};
    struct ck_ctx c = {.kv = j->kv, .txn = txn, .now_ms = ck_now_ms(), .log = &log, .err = j->err};
    return ck_tenant_create(&c, &j->spec, j->tenant, j->admin);
}

static int delete_txn(MDB_txn *txn, void *arg)
{
    struct tenant_job *j = arg;
    int rc = ck_tenant_resolve(txn, j->kv, j->slug, strlen(j->slug), j->tenant);
    if (rc == -CK_ENOTFOUND)
        return ck_err_set(j->err, rc, "no tenant %s", j->slug);
    if (rc)
        return rc;
    struct ck_log log = {0};
    struct ck_ctx c = {.kv = j->kv,
                       .txn = txn,
                       .tenant = kv_system_tenant,
                       .now_ms = ck_now_ms(),
                       .log = &log,
                       .err = j->err};
    return ck_delete_hard(&c, ck_table_find("tenants", 7), j->tenant, &j->res);
}

int cmd_tenant(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"tenant", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'},
        {"admin-email", required_argument, NULL, 'e'},
        {"admin-password", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *action = argv[1];
    const char *dir = NULL, *password = NULL;
    struct tenant_job j = {0};
    int ch;
    optind = 2;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': dir = optarg; break;
        case 't': j.slug = j.spec.slug = optarg; break;
        case 'n': j.spec.name = optarg; break;
        case 'e': j.spec.admin_email = optarg; break;
        case 'p': password = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    bool create = !strcmp(action, "create"), del = !strcmp(action, "delete");
    j.spec.admin_password = cli_admin_password(password);
    if ((!create && !del) || !dir || !j.slug || optind != argc ||
        (create && (!j.spec.admin_email || !j.spec.admin_password))) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    struct ck_err err = CK_ERR_INIT;
    struct kv kv;
    int rc = datadir_open(&kv, dir, NULL, NULL, &err);
    if (rc) {
        fprintf(stderr, "clinickv tenant: %s\n", err.message);
        ck_err_free(&err);
        return 1;
    }
    j.kv = &kv;
    j.err = &err;
    rc = kv_write_run(&kv, create ? create_txn : delete_txn, &j);
    kv_close(&kv);
    if (rc) {
        fprintf(stderr, "clinickv tenant %s: %s\n", action,
                err.code ? err.message : ck_strerror(rc));
        ck_err_free(&err);
        return 1;
    }
    ck_err_free(&err);
    char id[37];
    ck_uuid_format(j.tenant, id);
    if (create) {
        printf("created tenant %s (%s) with admin %s\n", j.slug, id, j.spec.admin_email);
        return 0;
    }
    uint64_t total = 0;
    printf("deleted tenant %s (%s)\n", j.slug, id);
    for (unsigned i = 0; i < ck_catalog.ntables; i++) {
        if (j.res.cascaded[i]) {
            printf("  %-32s %llu\n", ck_catalog.tables[i].name,
                   (unsigned long long)j.res.cascaded[i]);
            total += j.res.cascaded[i];
        }
    }
    printf("  %-32s %llu rows\n", "total", (unsigned long long)total + 1);
    return 0;
}
