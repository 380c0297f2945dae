/*
 * Progress of long runs (dump, restore, backup) on a terminal: a line on stderr,
 * redrawn at most four times a second, with the count, the rate and, when the total
 * is known, the share done and the time left. When stderr is not a terminal (cron,
 * scripts, pipes) nothing is printed at all.
 */
#ifndef CLINICKV_PROGRESS_H
#define CLINICKV_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
    bool on;          /* stderr is a terminal */
    const char *what; /* "dump", "restore" */
    const char *unit; /* "rows", "MiB" */
    uint64_t total;   /* of `done`'s measure (0: unknown) */
    double start_s, last_s;
    bool drawn;
    uint32_t calls;
};

/* Start; total may be 0 when unknown. Strings are borrowed. */
void progress_start(struct progress *p, const char *what, const char *unit, uint64_t total);

/* Report how far the run is: count is shown with its rate; done/total (any measure
 * of work, such as bytes read) gives the share and the time left. Cheap enough to
 * call for every row: it looks at the clock only every 1024 calls. */
void progress_update(struct progress *p, uint64_t count, uint64_t done);

/* Clear the line. */
void progress_end(struct progress *p);

/* Seconds on the monotonic clock. */
double progress_now(void);

#endif
