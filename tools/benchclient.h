/*
 * A minimal msgpack-RPC client connection for the load generator: blocking
 * sockets (TCP with TCP_NODELAY, or a Unix socket), requests built with the
 * msgpack-c packer, responses framed in place with frame.h and read with the
 * zero-copy reader of mp.h. One connection belongs to one thread.
 */
#ifndef CLINICKV_BENCHCLIENT_H
#define CLINICKV_BENCHCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ckerr.h"
#include "frame.h"
#include "mp.h"

struct bconn {
    int fd;
    struct buf in; /* received bytes; the next frame starts at in_off */
    size_t in_off;
    struct frame_scanner fs;
    uint32_t next_msgid;
};

/* A response, pointing into the connection's input buffer: valid until the next
 * bconn_read()/bconn_next() on the same connection. */
struct bresp {
    uint32_t msgid;
    bool error;       /* the error element was not nil */
    const char *code; /* error code string (error only) */
    uint32_t code_len;
    const char *message; /* error message (error only) */
    uint32_t message_len;
    const char *result; /* the result (or error) object */
    const char *end;    /* end of the frame */
};

/*
 * Connect to "HOST:PORT" (IPv4/IPv6 literal or name) or to a Unix socket path
 * (anything with a '/'). -CK_EIO with a message in err.
 */
int bconn_connect(struct bconn *c, const char *addr, struct ck_err *err);

/* Close the socket and free the buffers. Safe on a connection that never opened. */
void bconn_close(struct bconn *c);

/* Start a request in b: [0, msgid, method, [ ...: the caller packs one map and
 * calls nothing else to close it. *msgid_out gets the id. */
void bconn_begin(struct bconn *c, msgpack_packer *pk, const char *method, uint32_t *msgid_out);

/* Write all of b. -CK_EIO when the peer is gone. */
int bconn_send(struct bconn *c, const struct buf *b);

/* Take the next complete response already received: 1 (*r filled), 0 (none
 * complete yet), or a negative error for a malformed stream. */
int bconn_next(struct bconn *c, struct bresp *r);

/* Block until at least one more byte arrives. -CK_EIO on EOF or error. */
int bconn_read(struct bconn *c);

/* Send b and wait for the response to its msgid (other responses are dropped):
 * for setup calls (login), not for measured requests. */
int bconn_call(struct bconn *c, const struct buf *b, uint32_t msgid, struct bresp *r);

#endif
