/*
 * Private to the query module (storage/query*.c): the cursor token layout, which
 * the parser checks and the executor writes, and the shared error helper.
 * Everyone else uses query.h.
 */
#ifndef CLINICKV_QUERY_INT_H
#define CLINICKV_QUERY_INT_H

#include "ckerr.h"
#include "index.h"

/* Cursor tokens: version | plan kind | direction | hash(8) | key without tenant,
 * sent as unpadded base64url text. */
#define CK__QCURSOR_VERSION 1
#define CK__QCURSOR_HASH    8
#define CK__QCURSOR_HEAD    (3 + CK__QCURSOR_HASH)
#define CK__QCURSOR_MAX     (CK__QCURSOR_HEAD + CK_KEY_MAX)

/* Set err to bad_request with message "row.query: <what>"; returns -CK_EBADREQ. */
int ck__query_bad_request(struct ck_err *err, const char *what);

#endif
