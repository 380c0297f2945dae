/*
 * clinickv-gen: make the clinic-day data set of bench/WORKLOAD.md in a new data
 * directory, for clinickv-bench and bench/compare.sh (docs/bench.md).
 *
 *   clinickv-gen --data DIR --scale S [--seed N] [--anchor YYYY-MM-DD]
 *                [--txn-rows N] [--verbose] [--quiet]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "benchgen.h"
#include "timeval.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: clinickv-gen --data DIR --scale S [--seed N] [--anchor YYYY-MM-DD]\n"
            "                    [--txn-rows N] [--verbose] [--quiet]\n\n"
            "Creates the data directory DIR (it must not exist, or be empty) holding the\n"
            "clinic-day data set of bench/WORKLOAD.md at scale factor S (1 = 10 tenants,\n"
            "about 2.07 million rows), deterministic from the seed (default 1) and the\n"
            "anchor date, the data set's \"today\" (default: today, UTC). The rules follow\n"
            "the peer kit's gen.py, so both hold equivalent data for the same S, seed and\n"
            "anchor. Every user's password is \"%s\". DIR/bench/ids lists what\n"
            "clinickv-bench draws from (tools/benchids.h). --txn-rows: rows per write\n"
            "transaction (default 50000). --verbose: a line per table.\n",
            BENCHGEN_PASSWORD);
}

int main(int argc, char **argv)
{
    struct benchgen_options o = {.scale = 0, .seed = 1, .progress = isatty(2) != 0};
    const char *anchor = NULL;
    bool quiet = false;
    static const struct option lo[] = {
        {"data", required_argument, NULL, 'd'},
        {"scale", required_argument, NULL, 's'},
        {"seed", required_argument, NULL, 'S'},
        {"anchor", required_argument, NULL, 'a'},
        {"txn-rows", required_argument, NULL, 't'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'd': o.dir = optarg; break;
        case 's': o.scale = atof(optarg); break;
        case 'S': o.seed = strtoull(optarg, NULL, 10); break;
        case 'a': anchor = optarg; break;
        case 't': o.txn_rows = (unsigned)atoi(optarg); break;
        case 'v': o.verbose = true; break;
        case 'q': quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!o.dir || o.scale <= 0 || optind != argc) {
        usage(stderr);
        return 2;
    }
    if (quiet)
        o.progress = o.verbose = false;
    if (anchor) {
        if (strlen(anchor) != 10 || ck_date_parse(anchor, 10, &o.anchor_days) != 0) {
            fprintf(stderr, "clinickv-gen: --anchor wants YYYY-MM-DD\n");
            return 2;
        }
    } else {
        o.anchor_days = (int32_t)(time(NULL) / 86400);
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "clinickv-gen: libsodium failed to initialise\n");
        return 1;
    }
    struct benchgen_stats st = {0};
    struct ck_err err = CK_ERR_INIT;
    int rc = benchgen_run(&o, &st, &err);
    if (rc) {
        fprintf(stderr, "clinickv-gen: %s\n", err.message[0] ? err.message : ck_strerror(rc));
        ck_err_free(&err);
        return 1;
    }
    ck_err_free(&err);
    char day[11];
    ck_date_format(o.anchor_days, day);
    if (!quiet)
        fprintf(stderr,
                "clinickv-gen: %llu rows, %u tables, S=%g, seed=%llu, anchor=%s -> %s in %.1f s "
                "(%.0f rows/s)\n",
                (unsigned long long)st.rows, st.tables, o.scale, (unsigned long long)o.seed, day,
                o.dir, st.seconds, st.seconds > 0 ? (double)st.rows / st.seconds : 0.0);
    return 0;
}
