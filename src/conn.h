/*
 * A client connection: input buffering and framing, request ordering, output.
 *
 * Requests are handled in arrival order. Writes go to the writer thread and
 * may be pipelined; a read that arrives while writes of the same connection are
 * in flight waits for them, so a connection always reads its own writes. Parsing
 * also pauses when too many writes are in flight or too many reply bytes are
 * unsent, which is the backpressure for clients that pipeline without reading.
 *
 * A connection is freed only when its handle is closed and no writer job refers
 * to it any more.
 */
#ifndef CLINICKV_CONN_H
#define CLINICKV_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "frame.h"
#include "method.h"

struct server;

struct conn {
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    struct server *srv;
    struct conn *prev, *next; /* server's list */
    struct buf in;            /* received bytes; in_off: start of the unparsed part */
    size_t in_off;
    struct frame_scanner scanner;
    struct buf out;         /* replies not yet handed to uv_write */
    size_t out_pending;     /* bytes handed to uv_write, not yet written */
    unsigned inflight;      /* writer jobs (and async work) not yet answered */
    unsigned async_pending; /* async requests (login) in flight: everything waits */
    unsigned refs;          /* inflight + 1 while the handle is open */
    bool reading;
    bool closing;
    bool blocked_on_writes; /* a read waits for this connection's writes */
    bool is_unix;
    struct ck_session sess;
};

/* Accept a connection on a listener. */
void conn_accept(struct server *srv, uv_stream_t *listener, bool is_unix);

/* Parse and handle buffered requests as far as ordering and backpressure allow. */
void conn_process(struct conn *c);

/* Close (idempotent). */
void conn_close(struct conn *c);

/* Queue reply bytes and write them out soon. */
void conn_send(struct conn *c, const void *data, size_t len);

/* Flush queued replies to the socket. */
void conn_flush(struct conn *c);

/* A writer job or async step of this connection finished: resume parsing. */
void conn_job_done(struct conn *c);

/* A job is about to refer to this connection. */
void conn_job_start(struct conn *c);

#endif
