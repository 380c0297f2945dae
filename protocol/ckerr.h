/*
 * An error as the protocol reports it: a code, a human message, and details.
 *
 * Storage and server code that refuses a request fills a struct ck_err and
 * returns its code; the dispatcher turns it into [code, message, details]
 * (PROTOCOL.md "Errors"). Messages never contain row values: they name tables,
 * columns and constraints only, so no PHI reaches a client log or ours.
 */
#ifndef CLINICKV_CKERR_H
#define CLINICKV_CKERR_H

#include <stdint.h>

#include "buf.h"
#include "clinickv/error.h"

struct ck_err {
    int code; /* 0, or a negative CK_E* value */
    char message[200];
    uint32_t ndetails;  /* pairs in details */
    struct buf details; /* msgpack: ndetails key/value pairs, without the map header */
};

#define CK_ERR_INIT         \
    {                       \
        0, {0}, 0, BUF_INIT \
    }

/* Set code and message (printf format) and drop earlier details. Returns code. */
int ck_err_set(struct ck_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Add a detail. */
void ck_err_detail_str(struct ck_err *e, const char *key, const char *val);
void ck_err_detail_strn(struct ck_err *e, const char *key, const char *val, size_t len);
void ck_err_detail_int(struct ck_err *e, const char *key, int64_t val);
void ck_err_detail_strs(struct ck_err *e, const char *key, const char *const *vals, unsigned n);

/* Forget the error (keeps the details buffer's memory). */
void ck_err_clear(struct ck_err *e);

/* Release memory. */
void ck_err_free(struct ck_err *e);

/* Copy src into dst (dst's earlier contents are dropped). */
void ck_err_copy(struct ck_err *dst, const struct ck_err *src);

#endif
