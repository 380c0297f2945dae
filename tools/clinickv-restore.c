/*
 * clinickv-restore: load dumps written by clinickv-dump (docs/backup.md).
 *
 *   clinickv-restore --data DIR -i FILE [-i INCREMENTAL ...] [--tenant SLUG]
 *                    [--decrypt KEYFILE] [--key-file PHIKEYS]
 *   clinickv-restore --verify -i FILE [-i INCREMENTAL ...] [--decrypt KEYFILE]
 *
 * The work is tools/restore.c; this file reads the command line.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dumpfmt.h"
#include "restore.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clinickv-restore --data DIR -i FILE [-i INCREMENTAL ...] [--tenant SLUG]\n"
            "                        [--decrypt KEYFILE] [--key-file PHIKEYS]\n"
            "                        [--source-keys PHIKEYS] [--verbose]\n"
            "       clinickv-restore --verify -i FILE [-i INCREMENTAL ...] [--decrypt KEYFILE]\n\n"
            "Restores a full dump and the incremental dumps after it, in order (-i - reads\n"
            "standard input). Every dump is verified (checksum, counts, foreign and unique\n"
            "keys) as it loads; a corrupt or truncated dump, a gap between dumps or another\n"
            "schema version is refused and DIR is left as it was.\n\n"
            "  DIR does not exist or is empty  a new data directory, bulk-loaded beside DIR\n"
            "                                  and renamed into place when complete\n"
            "  --tenant SLUG                   only this tenant; into an existing data\n"
            "                                  directory (a server may be running) it is\n"
            "                                  written in one transaction, and must not\n"
            "                                  exist there yet\n"
            "  only incrementals               applied to a directory (or with --tenant, a\n"
            "                                  tenant) restored before, if nothing was\n"
            "                                  written to it since\n"
            "  --decrypt KEYFILE               the key the dumps were encrypted with\n"
            "  --key-file PHIKEYS              copy this PHI key file into the new data\n"
            "                                  directory (dumps never hold PHI keys); with\n"
            "                                  --tenant into an existing directory: the key\n"
            "                                  file its server uses (default DIR/phi.keys)\n"
            "  --source-keys PHIKEYS           with --tenant into an existing directory: the\n"
            "                                  source's PHI key file, so the tenant's PHI is\n"
            "                                  sealed again with this directory's key (else\n"
            "                                  its server cannot read it)\n"
            "  --verbose                       the time of each phase\n"
            "  --verify                        only check the dumps and their chain\n\n"
            "Exit status 0 only on success.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"input", required_argument, NULL, 'i'},
        {"tenant", required_argument, NULL, 't'},
        {"decrypt", required_argument, NULL, 'k'},
        {"key-file", required_argument, NULL, 'K'},
        {"verify", no_argument, NULL, 'V'},
        {"source-keys", required_argument, NULL, 'S'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct restore_opts o = {0};
    const char *decrypt = NULL;
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs)
        return 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "i:vh", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.dir = optarg; break;
        case 'i': inputs[o.ninputs++] = optarg; break;
        case 't': o.tenant = optarg; break;
        case 'k': decrypt = optarg; break;
        case 'K': o.key_file = optarg; break;
        case 'S': o.source_keys = optarg; break;
        case 'V': o.verify_only = true; break;
        case 'v': o.verbose = true; break;
        case 'h':
            usage(stdout);
            free(inputs);
            return 0;
        default:
            usage(stderr);
            free(inputs);
            return 2;
        }
    }
    o.inputs = inputs;
    if (o.ninputs == 0 || (!o.dir && !o.verify_only) || optind != argc) {
        usage(stderr);
        free(inputs);
        return 2;
    }
    int rc = 1;
    struct ck_err err = CK_ERR_INIT;
    uint8_t key[DUMP_KEY_LEN];
    if (sodium_init() < 0) {
        fprintf(stderr, "clinickv-restore: cannot initialise libsodium\n");
        goto out;
    }
    if (decrypt && dump_key_load(decrypt, key, &err) != 0) {
        fprintf(stderr, "clinickv-restore: %s\n", err.message);
        goto out;
    }
    o.key = decrypt ? key : NULL;
    rc = restore_run(&o, &err);
    if (rc)
        fprintf(stderr, "clinickv-restore: %s\n", err.code ? err.message : ck_strerror(rc));
    rc = rc ? 1 : 0;
out:
    sodium_memzero(key, sizeof key);
    ck_err_free(&err);
    free(inputs);
    return rc;
}
