/* The dispatcher: envelope, method lookup, authentication, ordering, execution. */
#include <stdlib.h>
#include <string.h>

#include "dispatch.h"
#include "pwprep.h"
#include "rpc.h"
#include "server.h"
#include "session.h"
#include "timeval.h"

void dispatch_send_error(struct conn *c, uint32_t msgid, const struct ck_err *err)
{
    char mem[512];
    struct buf b;
    buf_init_borrowed(&b, mem, sizeof mem);
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    rpc_pack_error(&pk, msgid, err);
    conn_send(c, b.data, b.len);
    buf_free(&b);
}

static void send_error_code(struct conn *c, uint32_t msgid, int code, const char *msg)
{
    struct ck_err err = CK_ERR_INIT;
    ck_err_set(&err, code, "%s", msg);
    dispatch_send_error(c, msgid, &err);
    ck_err_free(&err);
}

void dispatch_refuse_stream(struct conn *c, int err, const char *start, size_t avail)
{
    if (err != -CK_ETOOLARGE)
        return; /* malformed msgpack: the connection is closed without an answer */
    char mem[256];
    struct buf b;
    buf_init_borrowed(&b, mem, sizeof mem);
    msgpack_packer pk;
    mp_packer_init(&pk, &b);
    rpc_pack_too_large(&pk, &c->scanner, start, avail);
    conn_send(c, b.data, b.len);
    buf_free(&b);
    conn_flush(c);
}

void dispatch_call_init(struct ck_call *call, struct server *srv, const struct ck_session *sess,
                        const char *params, uint32_t nparams, const char *params_end)
{
    memset(call, 0, sizeof *call);
    call->srv = srv;
    call->kv = &srv->kv;
    call->sess = sess;
    call->params = params;
    call->nparams = nparams;
    call->params_end = params_end;
    call->now_ms = ck_now_ms();
    if (sess->authenticated && !sess->system_admin) {
        memcpy(call->tenant, sess->tenant, 16);
        call->has_tenant = true;
    }
}

/* ------------------------------------------------------------------ reads */

static void run_read(struct conn *c, const struct ck_method *m, const struct rpc_msg *msg)
{
    struct ck_err err = CK_ERR_INIT;
    struct ck_call call;
    dispatch_call_init(&call, c->srv, &c->sess, msg->params, msg->nparams, msg->params_end);
    call.err = &err;
    size_t mark = c->out.len;
    msgpack_packer pk;
    mp_packer_init(&pk, &c->out);
    call.pk = &pk;
    rpc_pack_result_header(&pk, msg->msgid);
    MDB_txn *txn;
    int rc = kv_read_begin(&c->srv->kv, &txn);
    if (rc == 0) {
        call.txn = txn;
        rc = m->fn(&call);
        kv_read_end(&c->srv->kv, txn);
    } else {
        ck_err_set(&err, rc, "cannot begin a read: %s", ck_strerror(rc));
    }
    if (rc == 0 && c->out.oom)
        rc = ck_err_set(&err, -CK_ENOMEM, "out of memory");
    if (rc) {
        c->out.len = mark;
        c->out.oom = false;
        if (err.code == 0)
            ck_err_set(&err, rc, "%s", ck_strerror(rc));
        dispatch_send_error(c, msg->msgid, &err);
    } else if (call.session_changed) {
        c->sess = call.new_session;
    }
    ck_err_free(&err);
}

/* ------------------------------------------------------------------ writes */

static int run_method_job(struct wjob *job, struct ck_call *call)
{
    return job->method->fn(call);
}

static void on_job_done(struct wjob *job)
{
    struct conn *c = job->owner;
    if (!c->closing) {
        conn_send(c, job->reply.data, job->reply.len);
        if (job->status == 0 && job->session_changed)
            c->sess = job->new_session;
    }
    buf_free(&job->reply);
    pwprep_free(job);
    free(job->frame);
    free(job);
    conn_job_done(c);
}

static void submit_write(struct conn *c, const struct ck_method *m, const char *frame, size_t len,
                         uint32_t msgid)
{
    struct wjob *job = calloc(1, sizeof *job);
    char *copy = malloc(len);
    if (!job || !copy) {
        free(job);
        free(copy);
        send_error_code(c, msgid, -CK_EBUSY, "out of memory: retry later");
        return;
    }
    memcpy(copy, frame, len);
    struct rpc_msg msg;
    struct ck_err err = CK_ERR_INIT;
    /* The copy parses exactly as the original did. */
    rpc_parse(copy, len, &msg, &err);
    ck_err_free(&err);
    job->frame = copy;
    job->frame_len = len;
    job->params = msg.params;
    job->nparams = msg.nparams;
    job->params_end = msg.params_end;
    job->method = m;
    job->msgid = msgid;
    job->session = c->sess;
    job->run = run_method_job;
    job->done = on_job_done;
    job->owner = c;
    conn_job_start(c);
    pwprep_submit(c, job);
}

/* ------------------------------------------------------------------ any request */

int dispatch_frame(struct conn *c, const char *frame, size_t len)
{
    struct rpc_msg msg;
    struct ck_err err = CK_ERR_INIT;
    int rc = rpc_parse(frame, len, &msg, &err);
    if (rc) {
        if (msg.type == RPC_REQUEST)
            dispatch_send_error(c, msg.msgid, &err);
        else if (msg.type == RPC_INVALID)
            dispatch_send_error(c, 0, &err);
        ck_err_free(&err);
        return DISPATCH_OK;
    }
    ck_err_free(&err);
    if (msg.type != RPC_REQUEST)
        return DISPATCH_OK; /* client notifications are ignored */

    const struct ck_method *m = ck_method_find(msg.method, msg.method_len);
    if (!m) {
        char text[128];
        snprintf(text, sizeof text, "unknown method %.*s",
                 (int)(msg.method_len > 64 ? 64 : msg.method_len), msg.method);
        send_error_code(c, msg.msgid, -CK_EBADREQ, text);
        return DISPATCH_OK;
    }
    /* Reads see this connection's earlier writes: they wait until those are done.
     * Everything waits for a login in progress, which changes the session. */
    if ((!(m->flags & M_WRITE) && c->inflight > 0) || c->async_pending > 0)
        return DISPATCH_WAIT;

    struct ck_session *s = &c->sess;
    if (s->authenticated && s->has_user &&
        session_revalidate(&c->srv->kv, s, ck_now_ms(), c->srv->opt.session_recheck_ms) != 0)
        memset(s, 0, sizeof *s); /* expired, logged out elsewhere, or the user is gone */
    if ((m->flags & M_AUTH) && !s->authenticated) {
        send_error_code(c, msg.msgid, -CK_EUNAUTH, "log in first (auth.login or auth.resume)");
        return DISPATCH_OK;
    }
    if ((m->flags & M_ADMIN) && !s->system_admin) {
        send_error_code(c, msg.msgid, -CK_EFORBIDDEN, "system administrators only");
        return DISPATCH_OK;
    }
    if (c->srv->stopping && (m->flags & (M_WRITE | M_ASYNC))) {
        send_error_code(c, msg.msgid, -CK_EBUSY, "server shutting down");
    } else if (m->flags & M_WRITE) {
        submit_write(c, m, frame, len, msg.msgid);
    } else if (m->flags & M_ASYNC) {
        struct ck_call call;
        dispatch_call_init(&call, c->srv, s, msg.params, msg.nparams, msg.params_end);
        m->async(c, msg.msgid, &call);
    } else {
        run_read(c, m, &msg);
    }
    return DISPATCH_OK;
}
