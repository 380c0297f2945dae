/*
 * clinickv-schema: print the schema catalog compiled into this build, as the
 * schema.describe method reports it (storage/catalog_describe.h).
 *
 *   clinickv-schema [--table NAME] [--no-pharmacy] [--json | --msgpack]
 *
 * Exit status: 0 printed, 1 unknown table, 2 bad usage, 3 output failed.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "catalog.h"
#include "catalog_describe.h"
#include "clinickv/error.h"
#include "mp.h"
#include "mpjson.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv-schema [--table NAME] [--no-pharmacy] [--json | --msgpack]\n"
               "\n"
               "Print the schema catalog compiled into clinickv as schema.describe reports it:\n"
               "{tables: [...]} with every table, or only NAME with --table.\n"
               "\n"
               "  --table NAME     describe one table (exit 1 when there is none)\n"
               "  --no-pharmacy    leave out the optional pharmacy module, as a data\n"
               "                   directory created without it does\n"
               "  --json           compact JSON text and a newline (the default)\n"
               "  --msgpack        the msgpack bytes, as sent on the wire\n"
               "  --help           this text\n");
}

static bool core_only(const struct ck_table *t, void *arg)
{
    (void)arg;
    return !t->optional;
}

static int write_all(const char *p, size_t len)
{
    if (len && fwrite(p, 1, len, stdout) != len)
        return -1;
    return fflush(stdout) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *table_name = NULL;
    bool no_pharmacy = false, json = true;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--table") == 0 && i + 1 < argc) {
            table_name = argv[++i];
        } else if (strncmp(a, "--table=", 8) == 0) {
            table_name = a + 8;
        } else if (strcmp(a, "--no-pharmacy") == 0) {
            no_pharmacy = true;
        } else if (strcmp(a, "--json") == 0) {
            json = true;
        } else if (strcmp(a, "--msgpack") == 0) {
            json = false;
        } else {
            fprintf(stderr, "clinickv-schema: %s '%s'\n",
                    strcmp(a, "--table") == 0 ? "missing NAME after" : "unknown argument", a);
            usage(stderr);
            return 2;
        }
    }

    const struct ck_table *t = NULL;
    if (table_name) {
        t = ck_table_find(table_name, strlen(table_name));
        if (!t || (no_pharmacy && t->optional)) {
            fprintf(stderr, "clinickv-schema: no table '%s'%s\n", table_name,
                    t ? " without the pharmacy module" : "");
            return 1;
        }
    }

    struct buf mp = BUF_INIT, text = BUF_INIT;
    msgpack_packer pk;
    mp_packer_init(&pk, &mp);
    if (t) {
        /* One table has the same shape as schema.describe {table}: a one-element list. */
        msgpack_pack_map(&pk, 1);
        mp_pack_cstr(&pk, "tables");
        msgpack_pack_array(&pk, 1);
        ck_describe_table(&pk, t);
    } else {
        ck_describe(&pk, no_pharmacy ? core_only : NULL, NULL);
    }

    int rc = mp.oom ? -CK_ENOMEM : 0;
    const struct buf *result = &mp;
    if (rc == 0 && json) {
        const char *p = mp.data;
        rc = mp_to_json(&p, mp.data + mp.len, &text);
        buf_push(&text, '\n');
        if (rc == 0 && text.oom)
            rc = -CK_ENOMEM;
        result = &text;
    }
    int status = 0;
    if (rc) {
        fprintf(stderr, "clinickv-schema: %s\n", ck_strerror(rc));
        status = 3;
    } else if (write_all(result->data, result->len) != 0) {
        perror("clinickv-schema: writing the output");
        status = 3;
    }
    buf_free(&text);
    buf_free(&mp);
    return status;
}
