/*
 * clinickv-bench: the clinic-day workload of bench/WORKLOAD.md against a running
 * clinickv server, in the manner of redis-benchmark (docs/bench.md).
 *
 *   clinickv-bench --data DIR --connect HOST:PORT --op NAME [--clients N]
 *                  [--duration S] [--requests N] [--pipeline K] [--warmup S]
 *                  [--seed N] [--label TEXT] [--sessions FILE] [--json]
 *
 * One OS thread per client, as the peer kit's peerbench. A client holds one
 * connection per tenant (requests draw the tenant uniformly, and a session is
 * bound to one tenant): the tenant's admin logs in once (auth.login) and every
 * connection binds itself to that session with auth.resume, as a pooled app
 * would. Each operation is the protocol request a real client sends: row.get,
 * row.query (with order_by, include and `next` paging), row.insert and one
 * txn.run per pharmacy sale. Every response is walked to its end, so the client
 * reads every column of every row as the peers' clients do.
 *
 * With --json it prints one JSON object with the field names of peerbench
 * (ops_per_s, p50_us, p99_us, p999_us, errors, rejected, mix, first_error ...)
 * plus the client's own cost (client_cpu_us_per_op), so that the load
 * generator's overhead is measured, not assumed.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "benchclient.h"
#include "benchids.h"
#include "benchreq.h"
#include "benchrng.h"

#define MAX_PIPELINE 256

/* ------------------------------------------------------------------ options, shared state */

static struct bids ids;
static const char *connect_addr = "127.0.0.1:7700";
static enum bop the_op = BOP__COUNT;
static int nclients = 1, pipeline = 1;
static double duration_s = 10, warmup_s = 0;
static uint64_t max_requests; /* 0: run for the duration */
static uint64_t seed = 42;
static char **tokens;      /* per tenant: the admin's session token */
static uint64_t run_nonce; /* keeps sale numbers unique across runs */

static atomic_int phase; /* 0 connecting, 1 warm-up, 2 measuring, 3 stop */
static atomic_int ready, finished;
static atomic_uint_fast64_t issued;

struct pending {
    bool used;
    enum bop op;
    int tenant;
    uint32_t msgid;
    uint64_t t0;
    bool measured;    /* issued while measuring */
    struct buf after; /* a query's `next`, to fetch the next page */
};

struct client {
    pthread_t th;
    struct brng rng;
    struct breq draws;   /* what its requests draw on */
    struct bconn *conns; /* one per tenant */
    int *inflight;       /* per connection */
    struct pending slots[MAX_PIPELINE];
    int busy;
    struct buf req;
    uint64_t *lat;
    size_t nlat, cap;
    uint64_t ok, rejected, errors, rows;
    uint64_t per_op[BOP__COUNT];
    char first_err[256];
    int fatal;
};

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------ the client loop */

static void note_error(struct client *cl, enum bop op, const char *what, size_t len)
{
    cl->errors++;
    if (!cl->first_err[0])
        snprintf(cl->first_err, sizeof cl->first_err, "%s: %.*s", bop_names[op],
                 (int)(len > 200 ? 200 : len), what);
}

/* Send s's request: its first page, or the page after s->after. */
static int issue(struct client *cl, struct pending *s)
{
    msgpack_packer pk;
    buf_reset(&cl->req);
    mp_packer_init(&pk, &cl->req);
    breq_pack(&cl->draws, &pk, &cl->conns[s->tenant], s->op, s->tenant, &s->after, &s->msgid);
    if (cl->req.oom)
        return -CK_ENOMEM;
    if (bconn_send(&cl->conns[s->tenant], &cl->req) != 0)
        return -CK_EIO;
    cl->inflight[s->tenant]++;
    return 0;
}

static int start_op(struct client *cl, struct pending *s)
{
    memset(s, 0, offsetof(struct pending, after));
    buf_reset(&s->after);
    s->used = true;
    s->op = the_op == BOP_FRONT_DESK ? bop_pick_mix(&cl->rng) : the_op;
    s->tenant = (int)brng_below(&cl->rng, (uint64_t)ids.ntenants);
    s->measured = atomic_load(&phase) == 2;
    s->t0 = now_ns();
    cl->busy++;
    return issue(cl, s);
}

/* Walk a result to its end (the client reads every value); for queries, count
 * the rows and keep `next`. 1: another page is needed. */
static int consume_result(struct client *cl, struct pending *s, const struct bresp *r)
{
    const char *p = r->result, *end = r->end;
    bool query = bop_is_query(s->op);
    struct mp_obj o;
    if (!query || mp_next(&p, end, &o) != 0 || o.type != MP_MAP) {
        if (query)
            return -CK_EBADREQ;
        const char *q = r->result;
        return mp_skip(&q, end) == 0 ? 0 : -CK_EBADREQ;
    }
    int more = 0;
    buf_reset(&s->after);
    for (uint32_t i = 0; i < o.v.n; i++) {
        struct mp_obj k, v;
        if (mp_next(&p, end, &k) != 0)
            return -CK_EBADREQ;
        const char *vp = p;
        if (mp_obj_streq(&k, "rows") && mp_next(&vp, end, &v) == 0 && v.type == MP_ARRAY)
            cl->rows += s->measured ? v.v.n : 0;
        /* a patient's appointments are one page (LIMIT 20); the reports read all pages */
        if (bop_is_report(s->op) && mp_obj_streq(&k, "next") && mp_next(&vp, end, &v) == 0 &&
            v.type != MP_NIL) {
            const char *q = p;
            if (mp_skip(&q, end) != 0)
                return -CK_EBADREQ;
            buf_append(&s->after, p, (size_t)(q - p));
            more = 1;
        }
        if (mp_skip(&p, end) != 0)
            return -CK_EBADREQ;
    }
    return more;
}

static void record(struct client *cl, struct pending *s, int outcome)
{
    uint64_t dt = now_ns() - s->t0;
    s->used = false;
    cl->busy--;
    if (!s->measured || atomic_load(&phase) != 2)
        return; /* warm-up, or finished after the deadline */
    if (outcome < 0)
        return; /* counted by note_error */
    if (outcome == 1)
        cl->rejected++;
    else
        cl->ok++;
    cl->per_op[s->op]++;
    if (cl->nlat == cl->cap) {
        size_t ncap = cl->cap ? 2 * cl->cap : 65536;
        uint64_t *p = realloc(cl->lat, ncap * sizeof *p);
        if (!p) {
            cl->fatal = -CK_ENOMEM;
            return;
        }
        cl->lat = p;
        cl->cap = ncap;
    }
    cl->lat[cl->nlat++] = dt;
}

static int handle_response(struct client *cl, int tenant, const struct bresp *r)
{
    struct pending *s = NULL;
    for (int i = 0; i < MAX_PIPELINE && i < pipeline; i++) {
        if (cl->slots[i].used && cl->slots[i].tenant == tenant && cl->slots[i].msgid == r->msgid) {
            s = &cl->slots[i];
            break;
        }
    }
    if (!s)
        return 0; /* not ours (cannot happen with a correct server): ignore */
    cl->inflight[tenant]--;
    if (r->error) {
        if (s->op == BOP_PHARMACY_SALE && r->code && r->code_len == 8 &&
            !memcmp(r->code, "conflict", 8)) {
            record(cl, s, 1); /* refused for lack of stock: a correct outcome */
            return 0;
        }
        bool counted = s->measured && atomic_load(&phase) == 2;
        if (counted) {
            char msg[240];
            snprintf(msg, sizeof msg, "%.*s %.*s", (int)r->code_len, r->code ? r->code : "",
                     (int)(r->message_len > 180 ? 180 : r->message_len),
                     r->message ? r->message : "");
            note_error(cl, s->op, msg, strlen(msg));
        }
        record(cl, s, -1);
        return 0;
    }
    int more = consume_result(cl, s, r);
    if (more < 0) {
        if (s->measured && atomic_load(&phase) == 2)
            note_error(cl, s->op, "malformed result", 16);
        record(cl, s, -1);
        return 0;
    }
    if (more && atomic_load(&phase) != 3)
        return issue(cl, s);
    record(cl, s, 0);
    return 0;
}

/* Take every complete response on connection i. */
static int drain(struct client *cl, int i)
{
    struct bresp r;
    int rc;
    while ((rc = bconn_next(&cl->conns[i], &r)) == 1) {
        if ((rc = handle_response(cl, i, &r)) != 0)
            return rc;
    }
    return rc;
}

/* Wait for at least one response: a blocking read when one connection waits,
 * poll() across the client's connections otherwise. */
static int wait_responses(struct client *cl)
{
    int only = -1, nwait = 0;
    for (int i = 0; i < ids.ntenants; i++) {
        if (cl->inflight[i]) {
            only = i;
            nwait++;
        }
    }
    if (nwait == 1) {
        int rc = bconn_read(&cl->conns[only]);
        return rc ? rc : drain(cl, only);
    }
    struct pollfd pfd[64];
    int map[64], n = 0;
    for (int i = 0; i < ids.ntenants && n < 64; i++) {
        if (cl->inflight[i]) {
            pfd[n].fd = cl->conns[i].fd;
            pfd[n].events = POLLIN;
            map[n++] = i;
        }
    }
    int k = poll(pfd, (nfds_t)n, 1000);
    if (k < 0 && errno != EINTR)
        return -CK_EIO;
    for (int j = 0; j < n && k > 0; j++) {
        if (!pfd[j].revents)
            continue;
        int rc = bconn_read(&cl->conns[map[j]]);
        if (rc == 0)
            rc = drain(cl, map[j]);
        if (rc)
            return rc;
    }
    return 0;
}

static void *client_main(void *arg)
{
    struct client *cl = arg;
    atomic_fetch_add(&ready, 1);
    while (atomic_load(&phase) == 0)
        usleep(1000);
    int rc = 0;
    for (;;) {
        int ph = atomic_load(&phase);
        if (ph == 3)
            break;
        bool stop_issuing = max_requests && atomic_load(&issued) >= max_requests;
        for (int i = 0; i < pipeline && !stop_issuing && rc == 0; i++) {
            if (cl->slots[i].used)
                continue;
            if (max_requests && ph == 2 && atomic_fetch_add(&issued, 1) >= max_requests) {
                stop_issuing = true;
                break;
            }
            rc = start_op(cl, &cl->slots[i]);
        }
        if (rc || cl->fatal)
            break;
        if (!cl->busy) {
            if (stop_issuing)
                break;
            continue;
        }
        if ((rc = wait_responses(cl)) != 0)
            break;
    }
    if (rc && atomic_load(&phase) != 3) {
        cl->fatal = rc;
        note_error(cl, the_op, "connection lost", 15);
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

/* ------------------------------------------------------------------ setup */

/* --sessions FILE: tokens saved by an earlier run, one line per tenant. 0 when
 * every tenant has one, -1 otherwise (then everyone logs in). */
static int load_sessions(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    int n = 0;
    while (n < ids.ntenants && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        free(tokens[n]);
        tokens[n++] = strdup(line);
    }
    fclose(f);
    return n == ids.ntenants ? 0 : -1;
}

static void save_sessions(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fchmod(fileno(f), 0600);
    for (int i = 0; i < ids.ntenants; i++)
        fprintf(f, "%s\n", tokens[i]);
    fclose(f);
}

static int login_all(const char *sessions, struct ck_err *err)
{
    tokens = calloc((size_t)ids.ntenants, sizeof *tokens);
    if (!tokens)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    if (sessions && load_sessions(sessions) == 0)
        return 0; /* auth.resume checks them; an expired one fails the run */
    for (int i = 0; i < ids.ntenants; i++) {
        struct bconn c;
        int rc = bconn_connect(&c, connect_addr, err);
        if (rc)
            return rc;
        struct buf b = BUF_INIT;
        msgpack_packer pk;
        mp_packer_init(&pk, &b);
        uint32_t id;
        breq_pack_login(&pk, &c, &ids, i, &id);
        struct bresp r;
        rc = bconn_call(&c, &b, id, &r);
        buf_free(&b);
        if (rc == 0 && r.error) {
            rc = ck_err_set(err, -CK_EUNAUTH, "login to tenant %s failed: %.*s %.*s",
                            ids.tenants[i].slug, (int)r.code_len, r.code ? r.code : "",
                            (int)r.message_len, r.message ? r.message : "");
        } else if (rc == 0) {
            const char *p = r.result, *tp;
            struct mp_obj o;
            if (mp_next(&p, r.end, &o) == 0 && o.type == MP_MAP &&
                mp_map_find(p, r.end, o.v.n, "token", &tp) == 0 && mp_next(&tp, r.end, &o) == 0 &&
                o.type == MP_STR) {
                tokens[i] = strndup(o.v.str.ptr, o.v.str.len);
            }
            if (!tokens[i])
                rc = ck_err_set(err, -CK_EBADREQ, "login to tenant %s: no token in the response",
                                ids.tenants[i].slug);
        } else {
            ck_err_set(err, rc, "login to tenant %s: connection lost", ids.tenants[i].slug);
        }
        bconn_close(&c);
        if (rc)
            return rc;
    }
    if (sessions)
        save_sessions(sessions);
    return 0;
}

static int client_connect(struct client *cl, struct ck_err *err)
{
    cl->conns = calloc((size_t)ids.ntenants, sizeof *cl->conns);
    cl->inflight = calloc((size_t)ids.ntenants, sizeof *cl->inflight);
    if (!cl->conns || !cl->inflight)
        return ck_err_set(err, -CK_ENOMEM, "out of memory");
    for (int i = 0; i < ids.ntenants; i++)
        cl->conns[i].fd = -1;
    for (int i = 0; i < ids.ntenants; i++) {
        struct bconn *c = &cl->conns[i];
        int rc = bconn_connect(c, connect_addr, err);
        if (rc)
            return rc;
        struct buf b = BUF_INIT;
        msgpack_packer pk;
        mp_packer_init(&pk, &b);
        uint32_t id;
        breq_pack_resume(&pk, c, tokens[i], &id);
        struct bresp r;
        rc = bconn_call(c, &b, id, &r);
        buf_free(&b);
        if (rc == 0 && r.error)
            rc = ck_err_set(err, -CK_EUNAUTH, "auth.resume failed: %.*s %.*s", (int)r.code_len,
                            r.code ? r.code : "", (int)r.message_len, r.message ? r.message : "");
        else if (rc)
            ck_err_set(err, rc, "auth.resume: connection lost");
        if (rc)
            return rc;
    }
    return 0;
}

static void client_free(struct client *cl)
{
    if (cl->conns) {
        for (int i = 0; i < ids.ntenants; i++)
            bconn_close(&cl->conns[i]);
    }
    for (int i = 0; i < MAX_PIPELINE; i++)
        buf_free(&cl->slots[i].after);
    free(cl->conns);
    free(cl->inflight);
    free(cl->lat);
    buf_free(&cl->req);
}

/* ------------------------------------------------------------------ results */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p * (double)n);
    if (i >= n)
        i = n - 1;
    return (double)v[i] / 1000.0;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long v = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            v = atol(line + 6);
            break;
        }
    }
    fclose(f);
    return v;
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        if ((unsigned char)*s >= 0x20)
            putchar(*s);
    }
    putchar('"');
}

static void usage(FILE *f)
{
    fprintf(f, "usage: clinickv-bench --data DIR --connect HOST:PORT|SOCKET --op NAME [options]\n"
               "  --op get_patient|patient_appointments|book_appointment|pharmacy_sale|\n"
               "       expiring_drugs|sales_today|front_desk|ping\n"
               "  --clients N (1)     one thread per client, one connection per tenant each\n"
               "  --duration S (10)   measured seconds (with --requests: the time limit)\n"
               "  --requests N        stop after N measured requests\n"
               "  --pipeline K (1)    requests in flight per client\n"
               "  --warmup S (0)      unmeasured seconds first\n"
               "  --seed N (42)       the request stream's seed\n"
               "  --label TEXT        a \"label\" field in the JSON\n"
               "  --sessions FILE     reuse the session tokens in FILE (auth.resume, no Argon2id\n"
               "                      login); after logging in, save them there (mode 0600)\n"
               "  --json              one JSON object (peerbench's fields) instead of text\n"
               "DIR is a data directory made by clinickv-gen (it reads DIR/bench/ids).\n");
}

int main(int argc, char **argv)
{
    const char *data = NULL, *op_name = NULL, *label = "", *sessions = NULL;
    bool json = false;
    static const struct option lo[] = {
        {"data", 1, NULL, 'd'},     {"connect", 1, NULL, 'c'},  {"op", 1, NULL, 'o'},
        {"clients", 1, NULL, 'n'},  {"duration", 1, NULL, 't'}, {"requests", 1, NULL, 'r'},
        {"pipeline", 1, NULL, 'P'}, {"warmup", 1, NULL, 'w'},   {"seed", 1, NULL, 's'},
        {"label", 1, NULL, 'l'},    {"sessions", 1, NULL, 'S'}, {"json", 0, NULL, 'j'},
        {"help", 0, NULL, 'h'},     {NULL, 0, NULL, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'd': data = optarg; break;
        case 'c': connect_addr = optarg; break;
        case 'o': op_name = optarg; break;
        case 'n': nclients = atoi(optarg); break;
        case 't': duration_s = atof(optarg); break;
        case 'r': max_requests = strtoull(optarg, NULL, 10); break;
        case 'P': pipeline = atoi(optarg); break;
        case 'w': warmup_s = atof(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'l': label = optarg; break;
        case 'S': sessions = optarg; break;
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    for (int i = 0; op_name && i < BOP__COUNT; i++) {
        if (!strcmp(op_name, bop_names[i]))
            the_op = (enum bop)i;
    }
    if (!data || the_op == BOP__COUNT || nclients < 1 || nclients > 1024 || pipeline < 1 ||
        pipeline > MAX_PIPELINE || duration_s <= 0 || duration_s > 86400 || warmup_s < 0 ||
        optind != argc) {
        usage(stderr);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/bench/ids", data);
    struct ck_err err = CK_ERR_INIT;
    int rc = bids_load(path, &ids, &err);
    if (rc == 0)
        rc = login_all(sessions, &err);
    struct timespec rt;
    clock_gettime(CLOCK_REALTIME, &rt);
    run_nonce = (uint64_t)rt.tv_sec * 1000000ULL + (uint64_t)rt.tv_nsec / 1000;
    struct client *cls = calloc((size_t)nclients, sizeof *cls);
    if (rc == 0 && !cls)
        rc = ck_err_set(&err, -CK_ENOMEM, "out of memory");
    int started = 0;
    for (int i = 0; rc == 0 && i < nclients; i++) {
        brng_seed(&cls[i].rng, seed * 1000003ULL + (uint64_t)i * 7919ULL + (uint64_t)the_op,
                  "clinickv-bench");
        cls[i].draws =
            (struct breq){.ids = &ids, .rng = &cls[i].rng, .nonce = run_nonce, .client = i};
        rc = client_connect(&cls[i], &err);
    }
    long rss_rest = rss_kb();
    for (int i = 0; rc == 0 && i < nclients; i++) {
        if (pthread_create(&cls[i].th, NULL, client_main, &cls[i]) != 0)
            rc = ck_err_set(&err, -CK_ENOMEM, "cannot start a client thread");
        else
            started++;
    }
    if (rc) {
        atomic_store(&phase, 3);
        for (int i = 0; i < started; i++)
            pthread_join(cls[i].th, NULL);
        fprintf(stderr, "clinickv-bench: %s\n", err.message[0] ? err.message : ck_strerror(rc));
        goto out;
    }
    while (atomic_load(&ready) < nclients)
        usleep(1000);
    if (warmup_s > 0) {
        atomic_store(&phase, 1);
        usleep((useconds_t)(warmup_s * 1e6));
    }
    double c0 = cpu_s();
    uint64_t t1 = now_ns();
    atomic_store(&phase, 2);
    long rss_load = 0;
    uint64_t end = t1 + (uint64_t)(duration_s * 1e9);
    while (now_ns() < end) {
        if (max_requests && atomic_load(&finished) == nclients)
            break;
        usleep(20000);
        long r = rss_kb();
        if (r > rss_load)
            rss_load = r;
    }
    atomic_store(&phase, 3);
    uint64_t t2 = now_ns();
    double c1 = cpu_s();
    for (int i = 0; i < nclients; i++)
        pthread_join(cls[i].th, NULL);

    size_t n = 0;
    uint64_t rej = 0, errs = 0, rows = 0, per_op[BOP__COUNT] = {0};
    for (int i = 0; i < nclients; i++) {
        n += cls[i].nlat;
        rej += cls[i].rejected;
        errs += cls[i].errors;
        rows += cls[i].rows;
        for (int k = 0; k < BOP__COUNT; k++)
            per_op[k] += cls[i].per_op[k];
    }
    uint64_t *all = malloc((n ? n : 1) * sizeof *all);
    if (!all) {
        rc = -CK_ENOMEM;
        goto out;
    }
    size_t k = 0;
    for (int i = 0; i < nclients; i++) {
        if (cls[i].nlat)
            memcpy(all + k, cls[i].lat, cls[i].nlat * sizeof *all);
        k += cls[i].nlat;
    }
    qsort(all, n, sizeof *all, cmp_u64);
    double el = (double)(t2 - t1) / 1e9, mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += (double)all[i];
    mean = n ? mean / (double)n / 1000.0 : 0;
    const char *first_err = "";
    for (int i = 0; i < nclients; i++) {
        if (cls[i].first_err[0]) {
            first_err = cls[i].first_err;
            break;
        }
    }
    double cpu_us_op = n ? (c1 - c0) * 1e6 / (double)n : 0;
    if (json) {
        printf("{\"peer\":\"clinickv\",\"op\":\"%s\",\"clients\":%d,\"pipeline\":%d,\"duration_s\":"
               "%.3f,\"label\":",
               bop_names[the_op], nclients, pipeline, el);
        json_str(label);
        printf(",\"ops\":%zu,\"ops_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
               "\"mean_us\":%.1f,\"max_us\":%.1f,\"errors\":%llu,\"rejected\":%llu,"
               "\"rows_per_op\":%.1f,\"client_rss_kb_rest\":%ld,\"client_rss_kb_load\":%ld,"
               "\"client_cpu_s\":%.3f,\"client_cpu_us_per_op\":%.2f",
               n, (double)n / el, pct(all, n, 0.50), pct(all, n, 0.99), pct(all, n, 0.999), mean,
               n ? (double)all[n - 1] / 1000.0 : 0.0, (unsigned long long)errs,
               (unsigned long long)rej, n ? (double)rows / (double)n : 0.0, rss_rest, rss_load,
               c1 - c0, cpu_us_op);
        if (the_op == BOP_FRONT_DESK) {
            printf(",\"mix\":{");
            for (int i = 0; i < BOP_FRONT_DESK; i++)
                printf("%s\"%s\":%llu", i ? "," : "", bop_names[i], (unsigned long long)per_op[i]);
            printf("}");
        }
        printf(",\"first_error\":");
        json_str(first_err);
        printf("}\n");
    } else {
        printf("%s: %.0f ops/s, %d client%s x pipeline %d, %.1f s, %zu ops\n", bop_names[the_op],
               (double)n / el, nclients, nclients == 1 ? "" : "s", pipeline, el, n);
        printf("  latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  mean %.1f  max %.1f\n",
               pct(all, n, 0.50), pct(all, n, 0.99), pct(all, n, 0.999), mean,
               n ? (double)all[n - 1] / 1000.0 : 0.0);
        printf("  errors %llu  rejected %llu  rows/op %.1f  client CPU %.1f us/op (%.0f%% of a "
               "core)\n",
               (unsigned long long)errs, (unsigned long long)rej,
               n ? (double)rows / (double)n : 0.0, cpu_us_op, el > 0 ? (c1 - c0) / el * 100 : 0.0);
        if (the_op == BOP_FRONT_DESK) {
            printf("  mix:");
            for (int i = 0; i < BOP_FRONT_DESK; i++)
                printf(" %s %llu", bop_names[i], (unsigned long long)per_op[i]);
            printf("\n");
        }
        if (first_err[0])
            printf("  first error: %s\n", first_err);
    }
    fflush(stdout);
    free(all);
out:
    for (int i = 0; cls && i < nclients; i++)
        client_free(&cls[i]);
    free(cls);
    for (int i = 0; tokens && i < ids.ntenants; i++)
        free(tokens[i]);
    free(tokens);
    bids_free(&ids);
    ck_err_free(&err);
    return rc ? 1 : 0;
}
