/*
 * Subcommands of the clinickv program and the option helpers they share.
 */
#ifndef CLINICKV_CLI_H
#define CLINICKV_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the subcommand; returns the exit status */
    const char *help;
};

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_backup(int argc, char **argv);

/* Parse a size with an optional K/M/G suffix. */
bool cli_parse_size(const char *s, size_t *out);

/* The admin password from --admin-password or $CLINICKV_ADMIN_PASSWORD (so it
 * need not show in ps). NULL when neither is set. */
const char *cli_admin_password(const char *given);

#endif
