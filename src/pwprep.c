/* Hashing users passwords off the loop before a write is queued. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "pwprep.h"
#include "rpc.h"
#include "server.h"
#include "tenants.h"

#define PWPREP_MAX 64

struct pwprep {
    uv_work_t work;
    struct conn *c;
    struct wjob *job;
    unsigned n;
    const char *pw[PWPREP_MAX];
    uint32_t len[PWPREP_MAX];
    int rc;
};

/* Is the map at p (npairs) for table users? Looks for "table": "users" in m. */
static bool is_users(const char *m, const char *end, uint32_t npairs)
{
    const char *v;
    struct mp_obj o;
    if (mp_map_find(m, end, npairs, "table", &v) != 0 || mp_next(&v, end, &o) != 0)
        return false;
    return mp_obj_streq(&o, "users");
}

/* Collect the password of a row/set map within an op map (m, npairs). */
static void collect(struct pwprep *pp, const char *m, const char *end, uint32_t npairs)
{
    if (!is_users(m, end, npairs))
        return;
    static const char *const keys[] = {"row", "set"};
    for (unsigned k = 0; k < 2; k++) {
        const char *v, *pw;
        struct mp_obj o;
        if (mp_map_find(m, end, npairs, keys[k], &v) != 0 || mp_next(&v, end, &o) != 0 ||
            o.type != MP_MAP)
            continue;
        if (mp_map_find(v, end, o.v.n, "password", &pw) != 0 || mp_next(&pw, end, &o) != 0 ||
            o.type != MP_STR || o.v.str.len == 0 || pp->n == PWPREP_MAX)
            continue;
        pp->pw[pp->n] = o.v.str.ptr;
        pp->len[pp->n++] = o.v.str.len;
    }
}

/* Find passwords in order: the params themselves, then txn.run's ops. */
static void scan(struct pwprep *pp, const struct wjob *job)
{
    if (!job->params)
        return;
    const char *end = job->params_end;
    /* tenant.create {admin_password} */
    const char *pw;
    struct mp_obj o;
    if (mp_map_find(job->params, end, job->nparams, "admin_password", &pw) == 0 &&
        mp_next(&pw, end, &o) == 0 && o.type == MP_STR && o.v.str.len > 0) {
        pp->pw[pp->n] = o.v.str.ptr;
        pp->len[pp->n++] = o.v.str.len;
    }
    collect(pp, job->params, end, job->nparams);
    const char *ops;
    if (mp_map_find(job->params, end, job->nparams, "ops", &ops) != 0 ||
        mp_next(&ops, end, &o) != 0 || o.type != MP_ARRAY)
        return;
    for (uint32_t i = 0; i < o.v.n; i++) {
        const char *op = ops;
        struct mp_obj m;
        if (mp_next(&op, end, &m) != 0)
            return;
        if (m.type == MP_MAP)
            collect(pp, op, end, m.v.n);
        if (mp_skip(&ops, end) != 0)
            return;
    }
}

static void hash_all(uv_work_t *w)
{
    struct pwprep *pp = w->data;
    struct wjob *job = pp->job;
    job->pw_hashes = calloc(pp->n, sizeof *job->pw_hashes);
    if (!job->pw_hashes) {
        pp->rc = -CK_ENOMEM;
        return;
    }
    for (unsigned i = 0; i < pp->n; i++) {
        job->pw_hashes[i] = malloc(crypto_pwhash_STRBYTES);
        if (!job->pw_hashes[i] || ck_password_hash(pp->pw[i], pp->len[i], job->pw_hashes[i]) != 0) {
            pp->rc = -CK_ENOMEM;
            return;
        }
        job->n_pw_hashes = i + 1;
    }
}

static void hashed(uv_work_t *w, int status)
{
    struct pwprep *pp = w->data;
    struct conn *c = pp->c;
    struct wjob *job = pp->job;
    free(pp);
    c->async_pending--;
    if (status != 0 || c->srv->stopping) {
        /* Cancelled, or the writer has stopped (shutdown): answer busy, write nothing. */
        struct ck_err err = CK_ERR_INIT;
        ck_err_set(&err, -CK_EBUSY, "server shutting down");
        buf_reset(&job->reply);
        msgpack_packer pk;
        mp_packer_init(&pk, &job->reply);
        rpc_pack_error(&pk, job->msgid, &err);
        ck_err_free(&err);
        job->status = -CK_EBUSY;
        job->done(job);
        return;
    }
    writer_submit(&c->srv->writer, job);
    if (!c->closing)
        conn_process(c); /* requests that waited for this one may go on */
}

void pwprep_submit(struct conn *c, struct wjob *job)
{
    struct pwprep *pp = calloc(1, sizeof *pp);
    if (pp) {
        pp->c = c;
        pp->job = job;
        scan(pp, job);
    }
    if (!pp || pp->n == 0) {
        free(pp);
        writer_submit(&c->srv->writer, job);
        return;
    }
    pp->work.data = pp;
    /* Later requests of this connection wait, so they are queued after this one. */
    c->async_pending++;
    if (uv_queue_work(&c->srv->loop, &pp->work, hash_all, hashed) != 0) {
        c->async_pending--;
        free(pp);
        writer_submit(&c->srv->writer, job);
    }
}

void pwprep_free(struct wjob *job)
{
    for (unsigned i = 0; i < job->n_pw_hashes; i++) {
        sodium_memzero(job->pw_hashes[i], crypto_pwhash_STRBYTES);
        free(job->pw_hashes[i]);
    }
    free(job->pw_hashes);
    job->pw_hashes = NULL;
    job->n_pw_hashes = 0;
}
