/* The server: listeners, signals, startup and clean shutdown. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "adminkey.h"
#include "conn.h"
#include "datadir.h"
#include "server.h"
#include "timeval.h"

static void on_connection(uv_stream_t *listener, int status)
{
    struct server *srv = listener->data;
    if (status < 0)
        return;
    conn_accept(srv, listener, listener == (uv_stream_t *)&srv->pipe);
}

static void on_shutdown_done(uv_shutdown_t *req, int status)
{
    (void)status;
    struct conn *c = req->data;
    free(req);
    conn_close(c);
}

static void begin_shutdown(struct server *srv)
{
    if (srv->stopping)
        return;
    srv->stopping = true;
    if (!srv->opt.quiet)
        fprintf(stderr, "clinickv: shutting down\n");
    if (srv->tcp_open)
        uv_close((uv_handle_t *)&srv->tcp, NULL);
    if (srv->pipe_open)
        uv_close((uv_handle_t *)&srv->pipe, NULL);
    /* The signal handlers stay (a second SIGTERM during shutdown must not kill the
     * process half-way) but no longer keep the loop alive; closed when it ends. */
    uv_unref((uv_handle_t *)&srv->sigint);
    uv_unref((uv_handle_t *)&srv->sigterm);
    uv_unref((uv_handle_t *)&srv->sighup);
    /* Finish the writes already queued: their clients get their answers. */
    writer_stop(&srv->writer);
    for (struct conn *c = srv->conns; c; c = c->next) {
        if (c->closing)
            continue;
        conn_flush(c);
        uv_shutdown_t *req = malloc(sizeof *req);
        if (!req || uv_shutdown(req, &c->h.stream, on_shutdown_done) != 0) {
            free(req);
            conn_close(c);
            continue;
        }
        req->data = c;
        uv_read_stop(&c->h.stream);
        c->reading = false;
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct server *srv = s->data;
    if (signum == SIGHUP) {
        /* `clinickv keys rotate` added or retired a PHI key. */
        struct ck_err err = CK_ERR_INIT;
        if (keys_reload(&srv->keys, &err) != 0)
            fprintf(stderr, "clinickv: cannot reload the PHI keys: %s\n", err.message);
        else if (!srv->opt.quiet)
            fprintf(stderr, "clinickv: PHI keys reloaded\n");
        ck_err_free(&err);
        return;
    }
    begin_shutdown(srv);
}

static int parse_listen(struct server *srv, struct ck_err *err)
{
    const char *host = srv->opt.listen_host ? srv->opt.listen_host : "127.0.0.1";
    int port = srv->opt.listen_port ? srv->opt.listen_port : 7420;
    if (srv->opt.listen_port < 0)
        return 0;
    struct sockaddr_storage addr;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0)
        return ck_err_set(err, -CK_EINVAL, "cannot listen on %s: not an IP address", host);
    uv_tcp_init(&srv->loop, &srv->tcp);
    srv->tcp.data = srv;
    srv->tcp_open = true;
    int rc = uv_tcp_bind(&srv->tcp, (struct sockaddr *)&addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&srv->tcp, 511, on_connection);
    if (rc) {
        if (rc == UV_EADDRINUSE)
            return ck_err_set(err, -CK_EBUSY, "cannot listen on %s:%d: the port is in use", host,
                              port);
        return ck_err_set(err, -CK_EIO, "cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
    }
    return 0;
}

static int open_socket(struct server *srv, struct ck_err *err)
{
    if (srv->opt.socket_path && srv->opt.socket_path[0] == 0)
        return 0;
    char path[4096];
    if (srv->opt.socket_path)
        snprintf(path, sizeof path, "%s", srv->opt.socket_path);
    else
        snprintf(path, sizeof path, "%s/clinickv.sock", srv->opt.data_dir);
    if (strlen(path) >= 108)
        return ck_err_set(err, -CK_EINVAL, "socket path too long for a Unix socket: %s", path);
    /* The server lock is ours, so a socket file left here is a stale one. */
    struct stat st;
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        unlink(path);
    uv_pipe_init(&srv->loop, &srv->pipe, 0);
    srv->pipe.data = srv;
    srv->pipe_open = true;
    int rc = uv_pipe_bind(&srv->pipe, path);
    if (rc == 0) {
        chmod(path, 0660);
        rc = uv_listen((uv_stream_t *)&srv->pipe, 511, on_connection);
    }
    if (rc)
        return ck_err_set(err, -CK_EIO, "cannot listen on %s: %s", path, uv_strerror(rc));
    srv->socket_path = strdup(path);
    return 0;
}

static void walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int server_run(const struct server_options *opt)
{
    struct server *srv = calloc(1, sizeof *srv);
    struct ck_err err = CK_ERR_INIT;
    int status = 1;
    if (!srv || sodium_init() < 0) {
        fprintf(stderr, "clinickv: cannot initialise\n");
        free(srv);
        return 1;
    }
    srv->opt = *opt;
    srv->limits.max_message = opt->max_message;
    srv->limits.max_depth = opt->max_depth;
    srv->started_ms = ck_now_ms();
    srv->lock_fd = -1;

    struct stat st;
    if (stat(opt->data_dir, &st) != 0) {
        fprintf(stderr, "clinickv: no data directory at %s (create one with clinickv init)\n",
                opt->data_dir);
        goto out_free;
    }
    srv->owner_uid = st.st_uid;
    struct kv_options kvo = {.map_size = opt->map_size, .no_sync = opt->relaxed_durability};
    if (datadir_lock(opt->data_dir, &srv->lock_fd, &err) ||
        datadir_open(&srv->kv, opt->data_dir, &kvo, &srv->pharmacy, &err)) {
        fprintf(stderr, "clinickv: %s\n", err.message);
        goto out_unlock;
    }
    if (adminkey_read(opt->data_dir, srv->admin_key, &err) != 0)
        srv->admin_key[0] = 0; /* no key file: only the Unix-socket owner is an admin */
    ck_err_clear(&err);
    char keyfile[4096];
    datadir_key_file(opt->data_dir, opt->key_file, keyfile, sizeof keyfile);
    if (keys_init(&srv->keys, keyfile, &err) != 0) {
        if (err.code != -CK_ENOTFOUND) {
            fprintf(stderr, "clinickv: %s\n", err.message);
            goto out_close_kv;
        }
        fprintf(stderr, "clinickv: warning: %s; PHI cannot be written or read\n", err.message);
    }
    ck_err_clear(&err);

    uv_loop_init(&srv->loop);
    srv->writer.relaxed = opt->relaxed_durability;
    srv->writer.log_retention = opt->log_retention;
    if (parse_listen(srv, &err) || open_socket(srv, &err)) {
        fprintf(stderr, "clinickv: %s\n", err.message);
        goto out_close_loop;
    }
    if (writer_start(&srv->writer, srv, &srv->kv, &srv->loop) != 0) {
        fprintf(stderr, "clinickv: cannot start the writer thread\n");
        goto out_close_loop;
    }
    uv_signal_init(&srv->loop, &srv->sigint);
    uv_signal_init(&srv->loop, &srv->sigterm);
    uv_signal_init(&srv->loop, &srv->sighup);
    srv->sigint.data = srv->sigterm.data = srv->sighup.data = srv;
    uv_signal_start(&srv->sigint, on_signal, SIGINT);
    uv_signal_start(&srv->sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv->sighup, on_signal, SIGHUP);
    signal(SIGPIPE, SIG_IGN);

    if (!opt->quiet) {
        fprintf(stderr, "clinickv %s: data %s, durability %s\n", CLINICKV_VERSION, opt->data_dir,
                opt->relaxed_durability ? "relaxed" : "strict (fsync per group commit)");
        if (srv->tcp_open)
            fprintf(stderr, "clinickv: listening on %s:%d\n",
                    opt->listen_host ? opt->listen_host : "127.0.0.1",
                    opt->listen_port ? opt->listen_port : 7420);
        if (srv->socket_path)
            fprintf(stderr, "clinickv: listening on %s\n", srv->socket_path);
    }
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    status = 0;

out_close_loop:
    if (!srv->stopping) /* startup failed after the loop was made */
        writer_stop(&srv->writer);
    /* Close what is left (the signal handlers; after a failed startup, everything). */
    uv_walk(&srv->loop, walk_close, NULL);
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    /* Shutting down already: another SIGTERM must not cut the last syncs short. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    uv_loop_close(&srv->loop);
    if (srv->socket_path) {
        unlink(srv->socket_path);
        free(srv->socket_path);
    }
out_close_kv:
    kv_close(&srv->kv);
out_unlock:
    if (srv->lock_fd >= 0)
        close(srv->lock_fd);
out_free:
    sodium_memzero(srv->admin_key, sizeof srv->admin_key);
    keys_destroy(&srv->keys);
    ck_err_free(&err);
    free(srv);
    return status;
}
