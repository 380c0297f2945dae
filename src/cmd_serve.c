/* clinickv serve: run the server. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "server.h"

static void usage(FILE *f)
{
    fprintf(
        f, "usage: clinickv serve --data DIR [options]\n\n"
           "  --listen HOST:PORT     TCP address (default 127.0.0.1:7420; \"none\": no TCP)\n"
           "  --socket PATH          Unix socket (default DIR/clinickv.sock; \"none\": no socket)\n"
           "  --durability MODE      strict (default): a write is answered once fsynced;\n"
           "                         relaxed: answered once committed, fsynced every 100 ms\n"
           "                         (a power cut may lose the last 100 ms; for UPS-backed boxes)\n"
           "  --key-file PATH        PHI key file (default DIR/phi.keys)\n"
           "  --max-message BYTES    largest request (default 16M)\n"
           "  --max-depth N          deepest nesting of a request (default 32)\n"
           "  --max-connections N    (default 1024)\n"
           "  --max-txn-ops N        operations per txn.run (default 1000)\n"
           "  --session-ttl SECONDS  session lifetime (default 43200)\n"
           "  --session-recheck S    re-read a connection's session and user after S seconds,\n"
           "                         so deleted users and role changes take effect (default 5)\n"
           "  --map-size BYTES       initial LMDB map size (grows as needed; default 256M)\n"
           "  --log-retention N      change records to keep (default: all)\n"
           "  --quiet                no startup messages\n");
}

static int parse_listen(const char *s, struct server_options *o)
{
    if (!strcmp(s, "none")) {
        o->listen_port = -1;
        return 0;
    }
    const char *colon = strrchr(s, ':');
    if (!colon)
        return -1;
    static char host[256];
    size_t n = (size_t)(colon - s);
    if (n >= sizeof host)
        return -1;
    memcpy(host, s, n);
    host[n] = 0;
    if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
        memmove(host, host + 1, n - 2);
        host[n - 2] = 0;
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port <= 0 || port > 65535)
        return -1;
    o->listen_host = host;
    o->listen_port = (int)port;
    return 0;
}

int cmd_serve(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"socket", required_argument, NULL, 's'},
        {"durability", required_argument, NULL, 'D'},
        {"key-file", required_argument, NULL, 'k'},
        {"max-message", required_argument, NULL, 'm'},
        {"max-depth", required_argument, NULL, 'x'},
        {"max-connections", required_argument, NULL, 'c'},
        {"max-txn-ops", required_argument, NULL, 'o'},
        {"session-ttl", required_argument, NULL, 'T'},
        {"session-recheck", required_argument, NULL, 'R'},
        {"map-size", required_argument, NULL, 'M'},
        {"log-retention", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0},
    };
    struct server_options o = {
        .max_message = 16u << 20,
        .max_depth = 32,
        .max_connections = 1024,
        .max_inflight = 1024,
        .max_output = 32u << 20,
        .session_ttl_ms = 12 * 3600 * 1000LL,
        .session_recheck_ms = 5000,
        .max_txn_ops = 1000,
    };
    int ch;
    size_t size;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': o.data_dir = optarg; break;
        case 'l':
            if (parse_listen(optarg, &o) != 0) {
                fprintf(stderr, "clinickv serve: --listen HOST:PORT, got %s\n", optarg);
                return 2;
            }
            break;
        case 's': o.socket_path = strcmp(optarg, "none") ? optarg : ""; break;
        case 'D':
            if (!strcmp(optarg, "relaxed"))
                o.relaxed_durability = true;
            else if (strcmp(optarg, "strict") != 0) {
                fprintf(stderr, "clinickv serve: --durability strict|relaxed\n");
                return 2;
            }
            break;
        case 'k': o.key_file = optarg; break;
        case 'm':
            if (!cli_parse_size(optarg, &o.max_message) || o.max_message < 64) {
                fprintf(stderr, "clinickv serve: bad --max-message\n");
                return 2;
            }
            break;
        case 'x': o.max_depth = (unsigned)atoi(optarg); break;
        case 'c': o.max_connections = (unsigned)atoi(optarg); break;
        case 'o': o.max_txn_ops = (unsigned)atoi(optarg); break;
        case 'T': o.session_ttl_ms = atoll(optarg) * 1000LL; break;
        case 'R': o.session_recheck_ms = (int64_t)(atof(optarg) * 1000); break;
        case 'M':
            if (!cli_parse_size(optarg, &size)) {
                fprintf(stderr, "clinickv serve: bad --map-size\n");
                return 2;
            }
            o.map_size = size;
            break;
        case 'r': o.log_retention = strtoull(optarg, NULL, 10); break;
        case 'q': o.quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.data_dir || optind != argc || o.max_depth < 2 || o.max_depth > 64 ||
        o.max_connections == 0 || o.max_txn_ops == 0 || o.session_ttl_ms <= 0) {
        usage(stderr);
        return 2;
    }
    return server_run(&o);
}
