/* A blocking msgpack-RPC connection for clinickv-bench (benchclient.h). */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "benchclient.h"

int bconn_connect(struct bconn *c, const char *addr, struct ck_err *err)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    c->next_msgid = 1;
    frame_scanner_init(&c->fs, NULL);
    if (strchr(addr, '/')) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(addr) >= sizeof sa.sun_path)
            return ck_err_set(err, -CK_EINVAL, "socket path too long: %s", addr);
        strcpy(sa.sun_path, addr);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            int e = errno;
            bconn_close(c);
            return ck_err_set(err, -CK_EIO, "cannot connect to %s: %s", addr, strerror(e));
        }
        return 0;
    }
    char host[256];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        return ck_err_set(err, -CK_EINVAL, "address wants HOST:PORT or a socket path: %s", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    if (host[0] == '[') { /* [::1]:port */
        memmove(host, host + 1, strlen(host));
        host[strcspn(host, "]")] = 0;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0)
        return ck_err_set(err, -CK_EIO, "cannot resolve %s: %s", addr, gai_strerror(gai));
    int rc = -CK_EIO, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (c->fd < 0)
            continue;
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            int one = 1;
            setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            rc = 0;
            break;
        }
        e = errno;
        close(c->fd);
        c->fd = -1;
    }
    freeaddrinfo(res);
    if (rc)
        return ck_err_set(err, rc, "cannot connect to %s: %s", addr, strerror(e));
    return 0;
}

void bconn_close(struct bconn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    buf_free(&c->in);
}

void bconn_begin(struct bconn *c, msgpack_packer *pk, const char *method, uint32_t *msgid_out)
{
    uint32_t id = c->next_msgid++;
    msgpack_pack_array(pk, 4);
    msgpack_pack_uint8(pk, 0);
    msgpack_pack_uint32(pk, id);
    mp_pack_cstr(pk, method);
    msgpack_pack_array(pk, 1);
    *msgid_out = id;
}

int bconn_send(struct bconn *c, const struct buf *b)
{
    size_t off = 0;
    while (off < b->len) {
        ssize_t n = send(c->fd, b->data + off, b->len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -CK_EIO;
        off += (size_t)n;
    }
    return 0;
}

int bconn_read(struct bconn *c)
{
    /* drop consumed frames before reading more, so the buffer stays small */
    if (c->in_off && c->in_off == c->in.len) {
        c->in.len = 0;
        c->in_off = 0;
    } else if (c->in_off > 65536) {
        memmove(c->in.data, c->in.data + c->in_off, c->in.len - c->in_off);
        c->in.len -= c->in_off;
        c->in_off = 0;
    }
    if (buf_reserve(&c->in, 65536) != 0)
        return -CK_ENOMEM;
    for (;;) {
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -CK_EIO;
        c->in.len += (size_t)n;
        return 0;
    }
}

int bconn_next(struct bconn *c, struct bresp *r)
{
    size_t flen;
    int rc = frame_scan(&c->fs, c->in.data + c->in_off, c->in.len - c->in_off, &flen);
    if (rc <= 0)
        return rc;
    const char *p = c->in.data + c->in_off, *end = p + flen;
    c->in_off += flen;
    struct mp_obj o;
    memset(r, 0, sizeof *r);
    r->end = end;
    if (mp_next(&p, end, &o) || o.type != MP_ARRAY || o.v.n != 4 || mp_next(&p, end, &o) ||
        o.type != MP_UINT || o.v.u != 1 || mp_next(&p, end, &o) || o.type != MP_UINT)
        return -CK_EBADREQ;
    r->msgid = (uint32_t)o.v.u;
    const char *errp = p;
    if (mp_next(&p, end, &o))
        return -CK_EBADREQ;
    if (o.type != MP_NIL) {
        r->error = true;
        r->result = errp;
        /* [code, message, details?] */
        if (o.type == MP_ARRAY && o.v.n >= 2) {
            struct mp_obj s;
            if (mp_next(&p, end, &s) == 0 && s.type == MP_STR) {
                r->code = s.v.str.ptr;
                r->code_len = s.v.str.len;
            }
            if (mp_next(&p, end, &s) == 0 && s.type == MP_STR) {
                r->message = s.v.str.ptr;
                r->message_len = s.v.str.len;
            }
        }
        return 1;
    }
    r->result = p;
    return 1;
}

int bconn_call(struct bconn *c, const struct buf *b, uint32_t msgid, struct bresp *r)
{
    int rc = bconn_send(c, b);
    while (rc == 0) {
        rc = bconn_next(c, r);
        if (rc == 1 && r->msgid == msgid)
            return 0;
        if (rc == 0)
            rc = bconn_read(c);
        else if (rc == 1)
            rc = 0;
    }
    return rc;
}
