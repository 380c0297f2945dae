/*
 * clinickv: the command line.
 *
 *   clinickv init    --data DIR --tenant SLUG --admin-email EMAIL --admin-password PW [--demo]
 * [--no-pharmacy] clinickv serve   --data DIR [--listen HOST:PORT] [--socket PATH] [--durability
 * strict|relaxed] ... clinickv tenant create --data DIR --tenant SLUG --admin-email EMAIL
 * --admin-password PW clinickv tenant delete --data DIR --tenant SLUG clinickv check   --data DIR
 *   clinickv keys rotate --data DIR
 *   clinickv backup  --data DIR --to DIR
 *
 * Each subcommand lives in its own cmd_*.c; this file only routes.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct cli_command commands[] = {
    {"init", cmd_init, "create a data directory with its first tenant"},
    {"serve", cmd_serve, "run the server"},
    {"tenant", cmd_tenant, "create or delete a tenant (also while a server runs)"},
    {"check", cmd_check, "verify every row, index entry, foreign key and unique key"},
    {"keys", cmd_keys, "rotate the PHI keys (re-encrypting rows while the server serves)"},
    {"backup", cmd_backup, "hot physical backup (compacting LMDB copy)"},
    /* more subcommands */
};

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv COMMAND [OPTIONS]   (clinickv COMMAND --help for its options)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nclinickv %s: the data service of a dental-practice platform.\n",
            CLINICKV_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("clinickv %s\n", CLINICKV_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "clinickv: unknown command %s\n", argv[1]);
    usage(stderr);
    return 2;
}
