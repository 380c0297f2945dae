/* Client connections: reading, framing, ordering, writing. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "conn.h"
#include "dispatch.h"
#include "rpc.h"
#include "server.h"

#define READ_CHUNK (64 * 1024)

struct write_req {
    uv_write_t req;
    struct conn *c;
    char *data;
    size_t len;
};

static void conn_free(struct conn *c)
{
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

static void conn_unref(struct conn *c)
{
    if (--c->refs == 0)
        conn_free(c);
}

static void on_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    struct server *srv = c->srv;
    if (c->prev)
        c->prev->next = c->next;
    else
        srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    srv->stats.connections_open--;
    conn_unref(c);
}

void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_close(&c->h.handle, on_close);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *out)
{
    struct conn *c = h->data;
    (void)suggested;
    if (buf_reserve(&c->in, READ_CHUNK) != 0) {
        out->base = NULL;
        out->len = 0;
        return;
    }
    out->base = c->in.data + c->in.len;
    out->len = c->in.cap - c->in.len;
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = w->c;
    c->out_pending -= w->len;
    free(w->data);
    free(w);
    if (status < 0)
        conn_close(c);
    else if (!c->closing)
        conn_process(c); /* output drained: parsing may resume */
    conn_unref(c);
}

void conn_flush(struct conn *c)
{
    if (c->closing || c->out.len == 0)
        return;
    struct write_req *w = malloc(sizeof *w);
    if (!w) {
        conn_close(c);
        return;
    }
    w->c = c;
    w->data = buf_steal(&c->out, &w->len);
    uv_buf_t b = uv_buf_init(w->data, (unsigned)w->len);
    c->refs++;
    c->out_pending += w->len;
    if (uv_write(&w->req, &c->h.stream, &b, 1, on_write) != 0) {
        c->out_pending -= w->len;
        free(w->data);
        free(w);
        c->refs--;
        conn_close(c);
    }
}

void conn_send(struct conn *c, const void *data, size_t len)
{
    if (c->closing)
        return;
    buf_append(&c->out, data, len);
    if (c->out.oom)
        conn_close(c);
}

/* May parsing go on? Not while too much output or too many writes are pending. */
static bool can_parse(const struct conn *c)
{
    const struct server_options *o = &c->srv->opt;
    return !c->closing && !c->blocked_on_writes && c->inflight < o->max_inflight &&
           c->out_pending + c->out.len < o->max_output;
}

static void set_reading(struct conn *c, bool on);

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    (void)b;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    c->in.len += (size_t)nread;
    conn_process(c);
}

static void set_reading(struct conn *c, bool on)
{
    if (c->closing || c->reading == on)
        return;
    if (on) {
        if (uv_read_start(&c->h.stream, on_alloc, on_read) == 0)
            c->reading = true;
    } else {
        uv_read_stop(&c->h.stream);
        c->reading = false;
    }
}

void conn_process(struct conn *c)
{
    while (can_parse(c) && c->in.len > c->in_off) {
        size_t flen;
        const char *start = c->in.data + c->in_off;
        size_t avail = c->in.len - c->in_off;
        int rc = frame_scan(&c->scanner, start, avail, &flen);
        if (rc == 0)
            break;
        if (rc < 0) {
            dispatch_refuse_stream(c, rc, start, avail);
            conn_close(c);
            break;
        }
        int d = dispatch_frame(c, start, flen);
        if (d == DISPATCH_WAIT) {
            /* Re-scan this frame when the connection's writes are done. */
            frame_scanner_init(&c->scanner, &c->srv->limits);
            c->blocked_on_writes = true;
            break;
        }
        c->in_off += flen;
        c->srv->stats.requests++;
        if (d == DISPATCH_CLOSE) {
            conn_close(c);
            break;
        }
    }
    if (c->closing)
        return;
    /* Drop consumed input. */
    if (c->in_off == c->in.len) {
        c->in.len = c->in_off = 0;
    } else if (c->in_off > c->in.len / 2 || c->in_off > (1u << 20)) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    /* Read only while parsing can go on: that is the backpressure. */
    set_reading(c, can_parse(c));
    conn_flush(c);
}

void conn_job_start(struct conn *c)
{
    c->inflight++;
    c->refs++;
}

void conn_job_done(struct conn *c)
{
    c->inflight--;
    if (c->inflight == 0)
        c->blocked_on_writes = false;
    if (!c->closing)
        conn_process(c);
    conn_unref(c);
}

static bool peer_is_owner(struct conn *c)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    uv_os_fd_t fd;
    if (uv_fileno(&c->h.handle, &fd) != 0)
        return false;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return false;
    return cred.uid == c->srv->owner_uid;
}

void conn_accept(struct server *srv, uv_stream_t *listener, bool is_unix)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->srv = srv;
    c->is_unix = is_unix;
    c->refs = 1;
    int rc = is_unix ? uv_pipe_init(&srv->loop, &c->h.pipe, 0) : uv_tcp_init(&srv->loop, &c->h.tcp);
    if (rc) {
        free(c);
        return;
    }
    c->h.handle.data = c;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    srv->stats.connections_open++;
    srv->stats.connections_total++;
    if (uv_accept(listener, &c->h.stream) != 0 || srv->stopping ||
        srv->stats.connections_open > srv->opt.max_connections) {
        conn_close(c);
        return;
    }
    if (!is_unix)
        uv_tcp_nodelay(&c->h.tcp, 1);
    frame_scanner_init(&c->scanner, &srv->limits);
    if (is_unix && peer_is_owner(c)) {
        c->sess.authenticated = true;
        c->sess.system_admin = true;
    }
    set_reading(c, true);
}
