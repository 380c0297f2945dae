/*
 * The dispatcher: one place that checks every request before a handler runs
 * (envelope, method, authentication, role, ordering) and decides where it runs.
 */
#ifndef CLINICKV_DISPATCH_H
#define CLINICKV_DISPATCH_H

#include <stddef.h>

#include "conn.h"

enum { DISPATCH_OK = 0, DISPATCH_WAIT = 1, DISPATCH_CLOSE = 2 };

/*
 * Handle one complete frame of connection c. DISPATCH_WAIT: the request must
 * wait for this connection's writes in flight (nothing was consumed);
 * DISPATCH_CLOSE: answer sent, close the connection.
 */
int dispatch_frame(struct conn *c, const char *frame, size_t len);

/* The input stream cannot be framed (err: -CK_ETOOLARGE or -CK_EBADREQ): answer
 * too_large when a msgid can be read (PROTOCOL.md), nothing for malformed input. */
void dispatch_refuse_stream(struct conn *c, int err, const char *start, size_t avail);

/* Send a complete error response for msgid on c. */
void dispatch_send_error(struct conn *c, uint32_t msgid, const struct ck_err *err);

/* Prepare the call context shared by reads and writes. */
void dispatch_call_init(struct ck_call *call, struct server *srv, const struct ck_session *sess,
                        const char *params, uint32_t nparams, const char *params_end);

#endif
