/* The system administrator key file. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "adminkey.h"

static void key_path(char *out, size_t n, const char *dir)
{
    snprintf(out, n, "%s/admin.key", dir);
}

int adminkey_create(const char *dir, struct ck_err *err)
{
    char path[4096];
    key_path(path, sizeof path, dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return ck_err_set(err, -CK_EIO, "cannot create %s: %s", path, strerror(errno));
    uint8_t key[32];
    char hex[ADMINKEY_HEX + 2];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    hex[ADMINKEY_HEX] = '\n';
    ssize_t w = write(fd, hex, ADMINKEY_HEX + 1);
    sodium_memzero(hex, sizeof hex);
    int rc = 0;
    if (w != ADMINKEY_HEX + 1 || fsync(fd) != 0)
        rc = ck_err_set(err, -CK_EIO, "cannot write %s", path);
    close(fd);
    if (rc)
        unlink(path);
    return rc;
}

void adminkey_remove(const char *dir)
{
    char path[4096];
    key_path(path, sizeof path, dir);
    unlink(path);
}

int adminkey_read(const char *dir, char hex_out[ADMINKEY_HEX + 1], struct ck_err *err)
{
    char path[4096];
    key_path(path, sizeof path, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ck_err_set(err, -CK_ENOTFOUND, "cannot read %s: %s", path, strerror(errno));
    char buf[ADMINKEY_HEX + 8];
    ssize_t n = read(fd, buf, sizeof buf);
    close(fd);
    if (n < ADMINKEY_HEX) {
        sodium_memzero(buf, sizeof buf);
        return ck_err_set(err, -CK_EINVAL, "%s is not an admin key file", path);
    }
    memcpy(hex_out, buf, ADMINKEY_HEX);
    hex_out[ADMINKEY_HEX] = 0;
    sodium_memzero(buf, sizeof buf);
    return 0;
}

bool adminkey_matches(const char *stored_hex, const char *given, size_t len)
{
    if (len != ADMINKEY_HEX || stored_hex[0] == 0)
        return false;
    return sodium_memcmp(stored_hex, given, ADMINKEY_HEX) == 0;
}
