/* clinickv init: create a data directory with its first tenant and admin. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"
#include "datadir.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv init --data DIR --tenant SLUG --admin-email EMAIL\n"
               "                     [--admin-password PASSWORD] [--demo] [--no-pharmacy]\n\n"
               "Creates DIR with the first tenant and its tenant_admin user. The password may\n"
               "come from $CLINICKV_ADMIN_PASSWORD instead, so it need not show in ps.\n"
               "--demo adds a demo clinic with staff (password: password), patients and\n"
               "appointments. --no-pharmacy leaves out the optional pharmacy module.\n"
               "An existing data directory is refused and left unchanged.\n");
}

bool cli_parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return false;
    switch (*end) {
    case 0: break;
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default: return false;
    }
    if (*end == 'i' || *end == 'B')
        end++;
    if (*end == 'B')
        end++;
    if (*end)
        return false;
    *out = (size_t)v;
    return true;
}

const char *cli_admin_password(const char *given)
{
    if (given)
        return given;
    const char *env = getenv("CLINICKV_ADMIN_PASSWORD");
    return env && *env ? env : NULL;
}

int cmd_init(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"tenant", required_argument, NULL, 't'},
        {"admin-email", required_argument, NULL, 'e'},
        {"admin-password", required_argument, NULL, 'p'},
        {"demo", no_argument, NULL, 'D'},
        {"no-pharmacy", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct datadir_init_options o = {.pharmacy = true};
    const char *password = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 't': o.tenant = optarg; break;
        case 'e': o.admin_email = optarg; break;
        case 'p': password = optarg; break;
        case 'D': o.demo = true; break;
        case 'P': o.pharmacy = false; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    o.admin_password = cli_admin_password(password);
    if (!o.dir || !o.tenant || !o.admin_email || !o.admin_password || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    struct ck_err err = CK_ERR_INIT;
    int rc = datadir_init(&o, &err);
    if (rc) {
        fprintf(stderr, "clinickv init: %s\n", err.message);
        ck_err_free(&err);
        return 1;
    }
    ck_err_free(&err);
    printf("created %s: tenant %s, admin %s%s%s\n", o.dir, o.tenant, o.admin_email,
           o.demo ? ", demo clinic" : "", o.pharmacy ? "" : ", no pharmacy module");
    printf("keep a copy of %s/phi.keys apart from the data: PHI cannot be read without it\n",
           o.dir);
    return 0;
}
