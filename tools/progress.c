/* Progress lines on a terminal (progress.h). */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, const char *what, const char *unit, uint64_t total)
{
    p->on = isatty(STDERR_FILENO) == 1;
    p->what = what;
    p->unit = unit;
    p->total = total;
    p->start_s = p->last_s = progress_now();
    p->drawn = false;
    p->calls = 0;
}

void progress_update(struct progress *p, uint64_t count, uint64_t done)
{
    if (!p->on || (p->calls++ & 1023) != 0)
        return;
    double now = progress_now();
    if (now - p->last_s < 0.25)
        return;
    p->last_s = now;
    double el = now - p->start_s;
    double rate = el > 0 ? (double)count / el : 0;
    fprintf(stderr, "\r%s: %llu %s, %.0f %s/s", p->what, (unsigned long long)count, p->unit, rate,
            p->unit);
    if (p->total && done > 0 && done <= p->total) {
        double left = el * (double)(p->total - done) / (double)done;
        fprintf(stderr, ", %3.0f%%, ETA %d:%02d", 100.0 * (double)done / (double)p->total,
                (int)(left / 60), (int)left % 60);
    }
    fputs("   ", stderr);
    fflush(stderr);
    p->drawn = true;
}

void progress_end(struct progress *p)
{
    if (p->on && p->drawn) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = false;
}
