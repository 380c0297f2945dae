/*
 * The system administrator key: 32 random bytes, hex in DIR/admin.key (mode
 * 0600), created by `clinickv init`. A client that presents it with
 * auth.login {admin_key} gets a system administrator session, as the data
 * directory's owner does on the Unix socket without any key.
 */
#ifndef CLINICKV_ADMINKEY_H
#define CLINICKV_ADMINKEY_H

#include <stdbool.h>
#include <stddef.h>

#include "ckerr.h"

#define ADMINKEY_HEX 64

/* Create DIR/admin.key (refuses to overwrite). */
int adminkey_create(const char *dir, struct ck_err *err);

/* Remove DIR/admin.key (cleanup of a failed init). */
void adminkey_remove(const char *dir);

/* Read the key (hex, NUL-terminated) from DIR/admin.key. */
int adminkey_read(const char *dir, char hex_out[ADMINKEY_HEX + 1], struct ck_err *err);

/* Constant-time comparison of a presented key with the stored one. */
bool adminkey_matches(const char *stored_hex, const char *given, size_t len);

#endif
