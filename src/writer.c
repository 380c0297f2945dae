/* The writer thread: nested transactions per job, one commit per group. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "changelog.h"
#include "dispatch.h"
#include "rpc.h"
#include "server.h"
#include "session.h"
#include "timeval.h"
#include "writer.h"

#define WRITER_DEFAULT_MAX_GROUP 1024

/* Run one job in a nested transaction of parent; build its response. Returns
 * -CK_EMAPFULL when the whole group must be retried on a bigger map. */
static int run_job(struct writer *w, MDB_txn *parent, struct ck_log *log, struct wjob *job,
                   int64_t now_ms)
{
    MDB_txn *txn;
    struct ck_err err = CK_ERR_INIT;
    int rc = kv_error(mdb_txn_begin(w->kv->env, parent, 0, &txn));
    if (rc) {
        ck_err_set(&err, rc, "cannot begin transaction");
        goto out_reply;
    }
    struct ck_log saved = *log;
    msgpack_packer pk;
    buf_reset(&job->reply);
    mp_packer_init(&pk, &job->reply);
    rpc_pack_result_header(&pk, job->msgid);
    size_t header_len = job->reply.len;
    struct ck_call call;
    dispatch_call_init(&call, w->srv, &job->session, job->params, job->nparams, job->params_end);
    call.txn = txn;
    call.log = log;
    call.now_ms = now_ms;
    call.pk = &pk;
    call.err = &err;
    call.pw_hashes = job->pw_hashes;
    call.n_pw_hashes = job->n_pw_hashes;
    rc = job->run(job, &call);
    if (rc == 0 && job->reply.oom)
        rc = ck_err_set(&err, -CK_ENOMEM, "out of memory building the reply");
    if (rc == 0) {
        rc = kv_error(mdb_txn_commit(txn));
        if (rc)
            ck_err_set(&err, rc, "cannot commit: %s", ck_strerror(rc));
    } else if (call.commit_on_error && rc != -CK_EMAPFULL) {
        int crc = kv_error(mdb_txn_commit(txn));
        if (crc)
            rc = ck_err_set(&err, crc, "cannot commit: %s", ck_strerror(crc));
        else
            saved = *log; /* the committed records keep their numbers */
    } else {
        mdb_txn_abort(txn);
    }
    if (rc) {
        *log = saved; /* the aborted job's sequence numbers are given back */
    } else {
        job->session_changed = call.session_changed;
        if (call.session_changed)
            job->new_session = call.new_session;
        (void)header_len;
    }
out_reply:
    job->status = rc;
    if (rc == -CK_EMAPFULL) {
        ck_err_free(&err);
        return rc;
    }
    if (rc) {
        if (err.code == 0)
            ck_err_set(&err, rc, "%s", ck_strerror(rc));
        buf_reset(&job->reply);
        msgpack_packer epk;
        mp_packer_init(&epk, &job->reply);
        rpc_pack_error(&epk, job->msgid, &err);
    }
    ck_err_free(&err);
    return 0;
}

static void fail_group(struct wjob *batch, int rc, const char *why)
{
    for (struct wjob *j = batch; j; j = j->next) {
        struct ck_err err = CK_ERR_INIT;
        ck_err_set(&err, rc, "write not committed: %s", why);
        j->status = rc;
        j->session_changed = false;
        buf_reset(&j->reply);
        msgpack_packer pk;
        mp_packer_init(&pk, &j->reply);
        rpc_pack_error(&pk, j->msgid, &err);
        ck_err_free(&err);
    }
}

/* Apply the change log retention inside the group's transaction. */
static int prune_log(struct writer *w, MDB_txn *txn)
{
    if (!w->log_retention)
        return 0;
    uint64_t last = 0, deleted = 0;
    int rc = ck_log_last_seq(txn, w->kv, &last);
    if (rc || last <= w->log_retention)
        return rc;
    /* Bounded work per group, so retention never stalls writes. */
    return ck_log_prune(txn, w->kv, last - w->log_retention + 1, 1000, &deleted);
}

/* Expired sessions are removed in the background, a bounded number a minute. */
#define SESSION_PRUNE_EVERY_MS 60000
#define SESSION_PRUNE_MAX      1000

static int prune_sessions(struct writer *w, MDB_txn *txn, int64_t now)
{
    if (now - w->last_session_prune_ms < SESSION_PRUNE_EVERY_MS)
        return 0;
    w->last_session_prune_ms = now;
    return session_prune(txn, w->kv, now, SESSION_PRUNE_MAX);
}

/* Log retention and session expiry, in a nested transaction of the group: a
 * failure there costs the housekeeping, never the group's writes. */
static int housekeeping(struct writer *w, MDB_txn *parent, int64_t now)
{
    MDB_txn *txn;
    if (mdb_txn_begin(w->kv->env, parent, 0, &txn) != 0)
        return 0;
    int rc = prune_log(w, txn);
    if (rc == 0)
        rc = prune_sessions(w, txn, now);
    if (rc == 0)
        rc = kv_error(mdb_txn_commit(txn));
    else
        mdb_txn_abort(txn);
    return rc;
}

static void run_group(struct writer *w, struct wjob *batch, unsigned n)
{
    for (;;) {
        MDB_txn *txn;
        int rc = kv_write_begin(w->kv, &txn);
        if (rc) {
            fail_group(batch, rc, ck_strerror(rc));
            return;
        }
        struct ck_log log = {0};
        int64_t now = ck_now_ms();
        bool retry = false;
        for (struct wjob *j = batch; j; j = j->next) {
            if (run_job(w, txn, &log, j, now) == -CK_EMAPFULL) {
                retry = true;
                break;
            }
        }
        if (!retry && housekeeping(w, txn, now) == -CK_EMAPFULL)
            retry = true;
        if (!retry) {
            rc = kv_write_commit(w->kv, txn);
            if (rc == 0) {
                pthread_mutex_lock(&w->lock);
                w->stats.groups++;
                w->stats.jobs += n;
                if (n > w->stats.max_group)
                    w->stats.max_group = n;
                pthread_mutex_unlock(&w->lock);
                return;
            }
            if (rc != -CK_EMAPFULL) {
                pthread_mutex_lock(&w->lock);
                w->stats.commit_errors++;
                pthread_mutex_unlock(&w->lock);
                fail_group(batch, rc, ck_strerror(rc));
                return;
            }
        } else {
            mdb_txn_abort(txn);
        }
        /* The map is full: grow it and run the whole group again from scratch. */
        rc = kv_grow(w->kv);
        if (rc) {
            fail_group(batch, -CK_EMAPFULL, "database map full and cannot grow");
            return;
        }
        pthread_mutex_lock(&w->lock);
        w->stats.map_grows++;
        pthread_mutex_unlock(&w->lock);
    }
}

static void *writer_main(void *arg)
{
    struct writer *w = arg;
    int64_t last_sync = ck_now_ms();
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop) {
            if (w->relaxed) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += (long)w->sync_interval_ms * 1000000L;
                ts.tv_sec += ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
                if (pthread_cond_timedwait(&w->cond, &w->lock, &ts) == ETIMEDOUT) {
                    pthread_mutex_unlock(&w->lock);
                    kv_sync(w->kv);
                    last_sync = ck_now_ms();
                    pthread_mutex_lock(&w->lock);
                }
            } else {
                pthread_cond_wait(&w->cond, &w->lock);
            }
        }
        if (!w->head && w->stop)
            break;
        /* Take up to max_group jobs, in arrival order. */
        struct wjob *batch = w->head, *last = batch;
        unsigned n = 1;
        while (last->next && n < w->max_group) {
            last = last->next;
            n++;
        }
        w->head = last->next;
        if (!w->head)
            w->tail = NULL;
        last->next = NULL;
        w->queued -= n;
        pthread_mutex_unlock(&w->lock);

        kv_grow_if_needed(w->kv);
        run_group(w, batch, n);
        if (w->relaxed && ck_now_ms() - last_sync >= w->sync_interval_ms) {
            kv_sync(w->kv);
            last_sync = ck_now_ms();
        }

        pthread_mutex_lock(&w->lock);
        if (w->done_tail)
            w->done_tail->next = batch;
        else
            w->done_head = batch;
        w->done_tail = last;
        pthread_mutex_unlock(&w->lock);
        uv_async_send(&w->async);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    if (w->relaxed)
        kv_sync(w->kv);
    return NULL;
}

/* Loop thread: hand finished jobs to their owners. */
static void on_async(uv_async_t *a)
{
    struct writer *w = a->data;
    pthread_mutex_lock(&w->lock);
    struct wjob *j = w->done_head;
    w->done_head = w->done_tail = NULL;
    pthread_mutex_unlock(&w->lock);
    while (j) {
        struct wjob *next = j->next;
        j->next = NULL;
        j->done(j);
        j = next;
    }
}

int writer_start(struct writer *w, struct server *srv, struct kv *kv, uv_loop_t *loop)
{
    w->kv = kv;
    w->srv = srv;
    if (!w->max_group)
        w->max_group = WRITER_DEFAULT_MAX_GROUP;
    if (!w->sync_interval_ms)
        w->sync_interval_ms = 100;
    if (pthread_mutex_init(&w->lock, NULL) != 0)
        return -CK_EINTERNAL;
    pthread_cond_init(&w->cond, NULL);
    if (uv_async_init(loop, &w->async, on_async) != 0)
        goto out_destroy;
    w->async.data = w;
    if (pthread_create(&w->thread, NULL, writer_main, w) != 0)
        goto out_close_async;
    w->running = true;
    return 0;
out_close_async:
    uv_close((uv_handle_t *)&w->async, NULL);
out_destroy:
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    return -CK_EINTERNAL;
}

void writer_submit(struct writer *w, struct wjob *job)
{
    job->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = job;
    else
        w->head = job;
    w->tail = job;
    w->queued++;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
}

void writer_stop(struct writer *w)
{
    if (!w->running)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->running = false;
    /* Deliver what the thread finished last. */
    on_async(&w->async);
    uv_close((uv_handle_t *)&w->async, NULL);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
}

void writer_get_stats(struct writer *w, struct writer_stats *out, uint64_t *queued_out)
{
    pthread_mutex_lock(&w->lock);
    *out = w->stats;
    if (queued_out)
        *queued_out = w->queued;
    pthread_mutex_unlock(&w->lock);
}
