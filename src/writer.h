/*
 * The writer thread: group commit.
 *
 * One thread owns LMDB's write transaction. It takes every queued write job,
 * runs each in a nested transaction (a failing job rolls back alone), commits
 * the group with one fsync, and only then hands the jobs back to the loop
 * (uv_async_send), which sends their responses. A response is therefore never
 * sent before its write is durable, and N concurrent writers cost one fsync per
 * group rather than N.
 *
 * Jobs are self-contained: they own a copy of their request and of the caller's
 * session, so the connection may go away while they run.
 */
#ifndef CLINICKV_WRITER_H
#define CLINICKV_WRITER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "buf.h"
#include "ckerr.h"
#include "kv.h"
#include "method.h"

struct wjob;

/* Runs on the writer thread inside a nested transaction (call->txn). Packs the
 * result into call->pk and returns 0, or returns an error (call->err filled). */
typedef int (*wjob_run_fn)(struct wjob *job, struct ck_call *call);
/* Runs on the loop thread after the group committed (or failed). */
typedef void (*wjob_done_fn)(struct wjob *job);

struct wjob {
    struct wjob *next;
    wjob_run_fn run;
    wjob_done_fn done;
    void *owner; /* the connection (refcounted by its owner) */
    void *arg;   /* job-specific data, owned by the job's creator */
    uint32_t msgid;
    bool notify_only; /* internal job without a response */
    int status;       /* 0 or the job's error */
    struct buf reply; /* the complete msgpack-RPC response, built by the writer */
    /* Filled by the submitter: the request as the handler sees it. */
    char *frame; /* owned copy of the request bytes */
    size_t frame_len;
    const char *params;
    uint32_t nparams;
    const char *params_end;
    const struct ck_method *method;
    char **pw_hashes; /* prepared password hashes (pwprep.h), owned */
    unsigned n_pw_hashes;
    struct ck_session session; /* the caller's session, copied */
    bool session_changed;      /* the handler replaced the session (login/logout) */
    struct ck_session new_session;
};

struct writer_stats {
    uint64_t groups; /* group commits (one fsync each in the default durability) */
    uint64_t jobs;   /* write requests committed or refused */
    uint64_t max_group;
    uint64_t map_grows;
    uint64_t commit_errors;
};

struct writer {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct wjob *head, *tail;           /* queued */
    struct wjob *done_head, *done_tail; /* finished, for the loop */
    uv_async_t async;
    bool stop;
    bool running;
    unsigned max_group;
    bool relaxed; /* fsync off the commit path, every sync_interval_ms */
    int64_t sync_interval_ms;
    uint64_t log_retention;
    int64_t last_session_prune_ms; /* writer thread only */
    struct kv *kv;
    struct server *srv;
    struct writer_stats stats; /* guarded by lock */
    uint64_t queued;           /* guarded by lock */
};

/* Start the thread. -CK_EINTERNAL on failure. */
int writer_start(struct writer *w, struct server *srv, struct kv *kv, uv_loop_t *loop);

/* Queue a job (any thread). Not after writer_stop(): callers check srv->stopping. */
void writer_submit(struct writer *w, struct wjob *job);

/* Finish queued jobs, stop the thread and close the async handle. */
void writer_stop(struct writer *w);

/* A consistent copy of the statistics. */
void writer_get_stats(struct writer *w, struct writer_stats *out, uint64_t *queued_out);

#endif
