/*
 * The server: one libuv loop that owns the sockets, decodes requests and serves
 * reads, and one writer thread that owns the write transaction (writer.h).
 */
#ifndef CLINICKV_SERVER_H
#define CLINICKV_SERVER_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "adminkey.h"
#include "frame.h"
#include "kv.h"
#include "keys.h"
#include "writer.h"

struct server_options {
    const char *data_dir;
    const char *listen_host;  /* NULL: 127.0.0.1 */
    int listen_port;          /* 0: 7420; -1: no TCP listener */
    const char *socket_path;  /* NULL: DIR/clinickv.sock; "" disables */
    size_t max_message;       /* 16 MiB */
    unsigned max_depth;       /* 32 */
    unsigned max_connections; /* 1024 */
    unsigned max_inflight;    /* write requests in flight per connection: 1024 */
    size_t max_output;        /* unsent reply bytes per connection before reading pauses: 32 MiB */
    int64_t session_ttl_ms;   /* 12 h */
    int64_t session_recheck_ms; /* re-read a connection's session and user after this: 5 s */
    bool relaxed_durability;    /* commits do not fsync; synced every 100 ms */
    size_t map_size;            /* initial LMDB map size; 0: default */
    unsigned max_txn_ops;       /* txn.run op limit: 1000 */
    uint64_t log_retention;     /* change records kept; 0: keep all */
    bool quiet;
    const char *key_file; /* PHI key file; NULL: DIR/phi.keys */
};

struct server_stats {
    uint64_t requests;
    uint64_t connections_total;
    uint64_t connections_open;
};

struct server {
    uv_loop_t loop;
    uv_tcp_t tcp;
    uv_pipe_t pipe;
    uv_signal_t sigint, sigterm;
    bool tcp_open, pipe_open;
    bool stopping;
    struct server_options opt;
    struct kv kv;
    struct writer writer;
    struct frame_limits limits;
    struct server_stats stats;
    struct conn *conns; /* every open connection, for shutdown */
    int64_t started_ms;
    bool pharmacy;   /* the data directory has the pharmacy module */
    uid_t owner_uid; /* owner of the data directory: Unix-socket system admin */
    int lock_fd;     /* flock on DIR/server.lock */
    char *socket_path;
    char admin_key[ADMINKEY_HEX + 1]; /* "" when DIR/admin.key is missing */
    struct keys keys;                 /* PHI keys (keys.h): reloaded on SIGHUP and on a miss */
    uv_signal_t sighup;
};

/* Run a server until SIGINT/SIGTERM. Returns a process exit status; errors are
 * printed to stderr. */
int server_run(const struct server_options *opt);

#endif
