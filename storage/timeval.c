/* TIMESTAMP and DATE codecs, and local days in IANA time zones. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clinickv/error.h"
#include "timeval.h"

#define SECS_PER_DAY 86400

/* Floor division and its remainder, for instants before 1970. */
static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floormod(int64_t a, int64_t b)
{
    return a - floordiv(a, b) * b;
}

int32_t ck_days_from_civil(int y, unsigned m, unsigned d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    unsigned yoe = (unsigned)(yy - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int64_t)doe - 719468);
}

void ck_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d)
{
    int64_t z = (int64_t)days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned dd = doy - (153 * mp + 2) / 5 + 1;
    unsigned mm = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)((int64_t)yoe + era * 400 + (mm <= 2));
    *m = mm;
    *d = dd;
}

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(int y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Read n decimal digits at s; -1 if any is not a digit. */
static int digits(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* "YYYY-MM-DD" at s (10 bytes available), years 0000..9999. */
static int parse_ymd(const char *s, int32_t *days_out)
{
    int y = digits(s, 4), m = digits(s + 5, 2), d = digits(s + 8, 2);
    if (y < 0 || m < 1 || m > 12 || d < 1 || s[4] != '-' || s[7] != '-')
        return -CK_EINVAL;
    if ((unsigned)d > days_in_month(y, (unsigned)m))
        return -CK_EINVAL;
    *days_out = ck_days_from_civil(y, (unsigned)m, (unsigned)d);
    return 0;
}

int ck_ts_parse(const char *s, size_t len, int64_t *ms_out)
{
    if (s == NULL || len < 19)
        return -CK_EINVAL;
    int32_t days;
    if (parse_ymd(s, &days) != 0)
        return -CK_EINVAL;
    if (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
        return -CK_EINVAL;
    int hh = digits(s + 11, 2), mi = digits(s + 14, 2), ss = digits(s + 17, 2);
    if (hh < 0 || hh > 23 || mi < 0 || mi > 59 || ss < 0 || ss > 59 || s[13] != ':' || s[16] != ':')
        return -CK_EINVAL;

    size_t i = 19;
    int frac_ms = 0;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9' && i - start < 9) {
            if (i - start < 3)
                frac_ms = frac_ms * 10 + (s[i] - '0');
            i++;
        }
        size_t nd = i - start;
        if (nd == 0)
            return -CK_EINVAL;
        for (size_t k = nd; k < 3; k++)
            frac_ms *= 10;
    }

    int offset_min = 0;
    if (i < len) {
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            if (len - i < 6 || s[i + 3] != ':')
                return -CK_EINVAL;
            int oh = digits(s + i + 1, 2), om = digits(s + i + 4, 2);
            if (oh < 0 || oh > 23 || om < 0 || om > 59)
                return -CK_EINVAL;
            offset_min = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
            i += 6;
        } else {
            return -CK_EINVAL;
        }
    }
    if (i != len)
        return -CK_EINVAL;

    int64_t secs = (int64_t)days * SECS_PER_DAY + hh * 3600 + mi * 60 + ss - offset_min * 60;
    int64_t ms = secs * 1000 + frac_ms;
    if (ms < CK_TS_ISO_MIN_MS || ms > CK_TS_ISO_MAX_MS)
        return -CK_EINVAL;
    *ms_out = ms;
    return 0;
}

/* Write v as exactly n decimal digits (v >= 0 and below 10^n). */
static void put_digits(char *out, unsigned v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static void format_ymd(int32_t days, char *out)
{
    /* Rows carry several timestamps of the same day, and replies many rows of the
     * same days: remember the last day formatted by this thread. */
    static _Thread_local int32_t last_days = INT32_MIN;
    static _Thread_local char last[10];
    if (days == last_days) {
        memcpy(out, last, 10);
        return;
    }
    int y;
    unsigned m, d;
    ck_civil_from_days(days, &y, &m, &d);
    put_digits(out, (unsigned)y, 4);
    out[4] = '-';
    put_digits(out + 5, m, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    memcpy(last, out, 10);
    last_days = days;
}

void ck_ts_format(int64_t ms, char out[25])
{
    if (ms < CK_TS_ISO_MIN_MS)
        ms = CK_TS_ISO_MIN_MS;
    if (ms > CK_TS_ISO_MAX_MS)
        ms = CK_TS_ISO_MAX_MS;
    int64_t days = floordiv(ms, CK_MS_PER_DAY);
    unsigned rem = (unsigned)(ms - days * CK_MS_PER_DAY);
    format_ymd((int32_t)days, out);
    out[10] = 'T';
    put_digits(out + 11, rem / 3600000u, 2);
    out[13] = ':';
    put_digits(out + 14, rem / 60000u % 60u, 2);
    out[16] = ':';
    put_digits(out + 17, rem / 1000u % 60u, 2);
    out[19] = '.';
    put_digits(out + 20, rem % 1000u, 3);
    out[23] = 'Z';
    out[24] = '\0';
}

bool ck_ts_in_mysql_range(int64_t ms)
{
    return ms >= CK_TS_MIN_MS && ms <= CK_TS_MAX_MS;
}

static uint32_t ld32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t ld64(const unsigned char *p)
{
    return (uint64_t)ld32(p) << 32 | ld32(p + 4);
}

int ck_ts_from_msgpack_ext(const char *data, uint32_t len, int64_t *ms_out)
{
    const unsigned char *p = (const unsigned char *)data;
    int64_t sec;
    uint32_t nsec;
    switch (len) {
    case 4:
        sec = ld32(p);
        nsec = 0;
        break;
    case 8: {
        uint64_t v = ld64(p);
        nsec = (uint32_t)(v >> 34);
        sec = (int64_t)(v & ((UINT64_C(1) << 34) - 1));
        break;
    }
    case 12:
        nsec = ld32(p);
        sec = (int64_t)ld64(p + 4);
        break;
    default: return -CK_EINVAL;
    }
    if (nsec >= 1000000000u)
        return -CK_EINVAL;
    /* Bound the seconds first so that the multiplication cannot overflow. */
    if (sec < CK_TS_ISO_MIN_MS / 1000 || sec > CK_TS_ISO_MAX_MS / 1000)
        return -CK_EINVAL;
    int64_t ms = sec * 1000 + nsec / 1000000u;
    if (ms > CK_TS_ISO_MAX_MS)
        return -CK_EINVAL;
    *ms_out = ms;
    return 0;
}

int ck_date_parse(const char *s, size_t len, int32_t *days_out)
{
    int32_t days;
    if (s == NULL || len != CK_DATE_STRLEN || parse_ymd(s, &days) != 0)
        return -CK_EINVAL;
    if (days < CK_DATE_MIN_DAYS || days > CK_DATE_MAX_DAYS)
        return -CK_EINVAL;
    *days_out = days;
    return 0;
}

void ck_date_format(int32_t days, char out[11])
{
    const int32_t lo = (int32_t)(CK_TS_ISO_MIN_MS / CK_MS_PER_DAY);
    const int32_t hi = (int32_t)(CK_TS_ISO_MAX_MS / CK_MS_PER_DAY);
    format_ymd(days < lo ? lo : days > hi ? hi : days, out);
    out[10] = '\0';
}

int64_t ck_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ time zones */

#define TZ_DIR      "/usr/share/zoneinfo"
#define TZ_NAME_MAX 128
#define TZ_FILE_MAX (1 << 20)
/* Offsets beyond a day and a bit are not real zones; the bound keeps sums small. */
#define TZ_OFFSET_MAX (26 * 3600)

/* One end of DST in a POSIX TZ rule: Mm.w.d, Jn or n, and a local time. */
struct tz_when {
    char kind; /* 'M', 'J' or 'N' (zero-based day of year) */
    unsigned m, w, d;
    unsigned n;
    int32_t time_s; /* local time of day, may be negative or beyond 24h (TZif v3) */
};

/* The POSIX TZ footer, "STDoff[DST[off][,start[/time],end[/time]]]". */
struct tz_rule {
    int32_t std_off; /* seconds east of UTC */
    int32_t dst_off;
    bool has_dst;
    struct tz_when start, end;
};

struct tz_zone {
    struct tz_zone *next; /* in the cache */
    char name[TZ_NAME_MAX + 1];
    int32_t off0; /* before the first transition: local time type 0 */
    bool has_rule;
    struct tz_rule rule;
    uint32_t ntrans;
    int64_t *trans;     /* UTC seconds, strictly increasing */
    int32_t *trans_off; /* the offset from each transition on */
};

static const struct tz_zone tz_utc = {.name = "UTC"};

static pthread_mutex_t tz_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct tz_zone *tz_cache;

/* Seconds since the epoch of a local time of day on a rule's day in year y. */
static int64_t tz_when_local(const struct tz_when *w, int y)
{
    int64_t day;
    if (w->kind == 'M') {
        int64_t first = ck_days_from_civil(y, w->m, 1);
        unsigned wday_first = (unsigned)floormod(first + 4, 7); /* 1970-01-01 was a Thursday */
        unsigned mday = 1 + (w->d + 7 - wday_first) % 7 + (w->w - 1) * 7;
        while (mday > days_in_month(y, w->m))
            mday -= 7;
        day = first + mday - 1;
    } else if (w->kind == 'J') {
        /* Jn counts 1..365 and never counts February 29. */
        day = ck_days_from_civil(y, 1, 1) + w->n - 1 + (is_leap(y) && w->n >= 60);
    } else {
        day = ck_days_from_civil(y, 1, 1) + w->n;
    }
    return day * SECS_PER_DAY + w->time_s;
}

/* A change of a POSIX rule: at UTC second `at`, DST starts or ends. */
struct tz_event {
    int64_t at;
    bool dst;
};

/* The offset a POSIX rule gives at t, and its next change after t (or INT64_MAX). */
static void tz_rule_lookup(const struct tz_rule *r, int64_t t, int32_t *off, int64_t *next)
{
    if (!r->has_dst) {
        *off = r->std_off;
        *next = INT64_MAX;
        return;
    }
    int y;
    unsigned m, d;
    ck_civil_from_days((int32_t)floordiv(t + r->std_off, SECS_PER_DAY), &y, &m, &d);

    /* The changes of the year before, this year and the next, in time order:
     * enough to know the state at t and the first change after it. A rule whose
     * DST ends exactly when the next year's begins (permanent DST) keeps DST,
     * because the later year's start follows the earlier year's end. */
    struct tz_event ev[6];
    int n = 0;
    for (int yy = y - 1; yy <= y + 1; yy++) {
        ev[n].at = tz_when_local(&r->start, yy) - r->std_off;
        ev[n++].dst = true;
        ev[n].at = tz_when_local(&r->end, yy) - r->dst_off;
        ev[n++].dst = false;
    }
    for (int i = 1; i < n; i++) {
        for (int j = i; j > 0 && ev[j - 1].at > ev[j].at; j--) {
            struct tz_event tmp = ev[j];
            ev[j] = ev[j - 1];
            ev[j - 1] = tmp;
        }
    }
    bool dst = !ev[0].dst;
    *next = INT64_MAX;
    for (int i = 0; i < n; i++) {
        if (ev[i].at <= t) {
            dst = ev[i].dst;
        } else {
            *next = ev[i].at;
            break;
        }
    }
    *off = dst ? r->dst_off : r->std_off;
}

/* The offset of zone z at t, and the instant of its next change after t. */
static void tz_lookup(const struct tz_zone *z, int64_t t, int32_t *off, int64_t *next)
{
    uint32_t n = z->ntrans;
    if (n == 0 || t >= z->trans[n - 1]) {
        if (z->has_rule) {
            tz_rule_lookup(&z->rule, t, off, next);
        } else {
            *off = n ? z->trans_off[n - 1] : z->off0;
            *next = INT64_MAX;
        }
        return;
    }
    if (t < z->trans[0]) {
        *off = z->off0;
        *next = z->trans[0];
        return;
    }
    /* trans[lo] <= t < trans[hi] */
    uint32_t lo = 0, hi = n - 1;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *off = z->trans_off[lo];
    *next = z->trans[hi];
}

/* The first instant, not before `from`, whose local time reads `wall` (seconds
 * of local time since the epoch) or later. Local time jumps at transitions, so
 * each constant-offset span [t, next) is asked for its first qualifying
 * instant, in time order; no span before wall - TZ_OFFSET_MAX can qualify. */
static int64_t tz_first_reaching(const struct tz_zone *z, int64_t wall, int64_t from)
{
    int64_t t = wall - TZ_OFFSET_MAX > from ? wall - TZ_OFFSET_MAX : from;
    for (;;) {
        int32_t off;
        int64_t next;
        tz_lookup(z, t, &off, &next);
        int64_t cand = wall - off > t ? wall - off : t;
        if (cand < next)
            return cand;
        t = next;
    }
}

/* ---- POSIX TZ strings */

/* [+-]hh[:mm[:ss]] with hh up to max_h. */
static bool tz_parse_hms(const char **pp, int max_h, int32_t *out)
{
    const char *p = *pp;
    int sign = 1;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    int parts[3] = {0, 0, 0};
    for (int k = 0; k < 3; k++) {
        if (k > 0) {
            if (*p != ':')
                break;
            p++;
        }
        if (*p < '0' || *p > '9')
            return false;
        int v = 0, nd = 0;
        while (*p >= '0' && *p <= '9' && nd < 3) {
            v = v * 10 + (*p++ - '0');
            nd++;
        }
        parts[k] = v;
    }
    if (parts[0] > max_h || parts[1] > 59 || parts[2] > 59)
        return false;
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    *pp = p;
    return true;
}

/* A zone abbreviation: "<+0530>" or three or more letters. */
static bool tz_parse_name(const char **pp)
{
    const char *p = *pp;
    if (*p == '<') {
        const char *q = strchr(p, '>');
        if (q == NULL || q - p < 4)
            return false;
        *pp = q + 1;
        return true;
    }
    const char *q = p;
    while ((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z'))
        q++;
    if (q - p < 3)
        return false;
    *pp = q;
    return true;
}

static bool tz_parse_when(const char **pp, struct tz_when *w)
{
    const char *p = *pp;
    char *end;
    memset(w, 0, sizeof *w);
    if (*p == 'M') {
        unsigned long v[3];
        p++;
        for (int k = 0; k < 3; k++) {
            if (k > 0 && *p++ != '.')
                return false;
            if (*p < '0' || *p > '9')
                return false;
            v[k] = strtoul(p, &end, 10);
            p = end;
        }
        if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6)
            return false;
        w->kind = 'M';
        w->m = (unsigned)v[0];
        w->w = (unsigned)v[1];
        w->d = (unsigned)v[2];
    } else {
        bool julian = *p == 'J';
        if (julian)
            p++;
        if (*p < '0' || *p > '9')
            return false;
        unsigned long n = strtoul(p, &end, 10);
        p = end;
        if (julian ? (n < 1 || n > 365) : n > 365)
            return false;
        w->kind = julian ? 'J' : 'N';
        w->n = (unsigned)n;
    }
    w->time_s = 2 * 3600;
    if (*p == '/') {
        p++;
        if (!tz_parse_hms(&p, 167, &w->time_s))
            return false;
    }
    *pp = p;
    return true;
}

/* Parse a TZ footer. A footer naming DST without rules (left to the
 * implementation by POSIX) is refused, and the zone then keeps its last offset. */
static bool tz_parse_rule(const char *s, struct tz_rule *r)
{
    const char *p = s;
    int32_t v;
    memset(r, 0, sizeof *r);
    if (!tz_parse_name(&p) || !tz_parse_hms(&p, 24, &v))
        return false;
    r->std_off = -v; /* POSIX counts hours west of Greenwich */
    if (*p == '\0')
        return true;
    if (!tz_parse_name(&p))
        return false;
    r->has_dst = true;
    r->dst_off = r->std_off + 3600;
    if (*p != ',' && *p != '\0') {
        if (!tz_parse_hms(&p, 24, &v))
            return false;
        r->dst_off = -v;
    }
    if (*p++ != ',' || !tz_parse_when(&p, &r->start) || *p++ != ',' ||
        !tz_parse_when(&p, &r->end) || *p != '\0')
        return false;
    return true;
}

/* ---- TZif files (RFC 8536) */

struct tzif_hdr {
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static void tzif_read_hdr(const unsigned char *p, struct tzif_hdr *h)
{
    h->isutcnt = ld32(p + 20);
    h->isstdcnt = ld32(p + 24);
    h->leapcnt = ld32(p + 28);
    h->timecnt = ld32(p + 32);
    h->typecnt = ld32(p + 36);
    h->charcnt = ld32(p + 40);
}

/* Bytes of the data block that follows a header, for 4- or 8-byte times;
 * 0 when the counts are impossible. */
static size_t tzif_block_size(const struct tzif_hdr *h, size_t tsize)
{
    if (h->timecnt > 100000 || h->typecnt == 0 || h->typecnt > 256 || h->charcnt > 65536 ||
        h->leapcnt > 10000 || (h->isstdcnt != 0 && h->isstdcnt != h->typecnt) ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt))
        return 0;
    return (size_t)h->timecnt * (tsize + 1) + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (tsize + 4) + h->isstdcnt + h->isutcnt;
}

/* Build a zone from a TZif image; NULL with *err set on failure. */
static struct tz_zone *tzif_parse(const unsigned char *buf, size_t len, const char *name, int *err)
{
    struct tzif_hdr h;
    *err = -CK_EINVAL;
    if (len < 44 || memcmp(buf, "TZif", 4) != 0)
        return NULL;
    unsigned version = buf[4];
    tzif_read_hdr(buf, &h);
    size_t bsize = tzif_block_size(&h, 4);
    if (bsize == 0 || len - 44 < bsize)
        return NULL;
    const unsigned char *blk = buf + 44;
    size_t tsize = 4;
    const char *footer = NULL;
    size_t footer_len = 0;

    /* Version 2 and later repeat the data with 64-bit times after the first
     * block, followed by the footer; only that second part is used then. */
    if (version >= '2') {
        const unsigned char *h2 = blk + bsize;
        size_t left = len - 44 - bsize;
        if (left < 44 || memcmp(h2, "TZif", 4) != 0)
            return NULL;
        tzif_read_hdr(h2, &h);
        tsize = 8;
        bsize = tzif_block_size(&h, 8);
        if (bsize == 0 || left - 44 < bsize)
            return NULL;
        blk = h2 + 44;
        const unsigned char *f = blk + bsize;
        size_t flen = left - 44 - bsize;
        if (flen < 2 || f[0] != '\n')
            return NULL;
        const unsigned char *nl = memchr(f + 1, '\n', flen - 1);
        if (nl == NULL)
            return NULL;
        footer = (const char *)f + 1;
        footer_len = (size_t)(nl - f - 1);
    } else if (version != 0) {
        return NULL;
    }
    /* Leap-second zones ("right/...") count TAI-like seconds, which our UTC
     * milliseconds do not; refusing them is simpler than converting. */
    if (h.leapcnt != 0)
        return NULL;

    const unsigned char *times = blk;
    const unsigned char *idx = times + (size_t)h.timecnt * tsize;
    const unsigned char *types = idx + h.timecnt;

    struct tz_zone *z = calloc(1, sizeof *z + (size_t)h.timecnt * (sizeof(int64_t) + 4));
    if (z == NULL) {
        *err = -CK_ENOMEM;
        return NULL;
    }
    z->trans = (int64_t *)(z + 1);
    z->trans_off = (int32_t *)(z->trans + h.timecnt);
    z->ntrans = h.timecnt;
    snprintf(z->name, sizeof z->name, "%s", name);

    int32_t offs[256];
    for (uint32_t i = 0; i < h.typecnt; i++) {
        int32_t o = (int32_t)ld32(types + 6 * i);
        if (o < -TZ_OFFSET_MAX || o > TZ_OFFSET_MAX || types[6 * i + 4] > 1)
            goto out_free;
        offs[i] = o;
    }
    z->off0 = offs[0];
    for (uint32_t i = 0; i < h.timecnt; i++) {
        int64_t t = tsize == 8 ? (int64_t)ld64(times + 8 * i) : (int32_t)ld32(times + 4 * i);
        if (idx[i] >= h.typecnt || (i > 0 && t <= z->trans[i - 1]))
            goto out_free;
        z->trans[i] = t;
        z->trans_off[i] = offs[idx[i]];
    }
    if (footer_len > 0 && footer_len < 128) {
        char tz[128];
        memcpy(tz, footer, footer_len);
        tz[footer_len] = '\0';
        z->has_rule = tz_parse_rule(tz, &z->rule);
        if (z->has_rule && (z->rule.std_off < -TZ_OFFSET_MAX || z->rule.std_off > TZ_OFFSET_MAX ||
                            z->rule.dst_off < -TZ_OFFSET_MAX || z->rule.dst_off > TZ_OFFSET_MAX))
            z->has_rule = false;
    }
    *err = 0;
    return z;

out_free:
    free(z);
    return NULL;
}

/* Zone names are relative paths of letters, digits and "_+-." with no empty,
 * "." or ".." component, so a client-supplied name cannot leave the tzdata tree. */
static bool tz_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > TZ_NAME_MAX)
        return false;
    const char *comp = name;
    for (const char *p = name;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            size_t clen = (size_t)(p - comp);
            if (clen == 0 || (clen == 1 && comp[0] == '.') ||
                (clen == 2 && comp[0] == '.' && comp[1] == '.'))
                return false;
            if (c == '\0')
                return true;
            comp = p + 1;
            continue;
        }
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '.';
        if (!ok)
            return false;
    }
}

static int tz_load_file(const char *name, struct tz_zone **zone_out)
{
    char path[sizeof TZ_DIR + 1 + TZ_NAME_MAX + 1];
    snprintf(path, sizeof path, "%s/%s", TZ_DIR, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR || errno == EISDIR ? -CK_EINVAL : -CK_EIO;
    int rc = -CK_EINVAL;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = -CK_EIO;
        goto out_close;
    }
    if (!S_ISREG(st.st_mode) || st.st_size < 44 || st.st_size > TZ_FILE_MAX)
        goto out_close;
    size_t size = (size_t)st.st_size;
    unsigned char *buf = malloc(size);
    if (buf == NULL) {
        rc = -CK_ENOMEM;
        goto out_close;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = -CK_EIO;
            goto out_free_buf;
        }
        got += (size_t)n;
    }
    struct tz_zone *z = tzif_parse(buf, size, name, &rc);
    if (z != NULL)
        *zone_out = z;

out_free_buf:
    free(buf);
out_close:
    close(fd);
    return rc;
}

static bool tz_is_utc(const char *name)
{
    return strcmp(name, "UTC") == 0 || strcmp(name, "Etc/UTC") == 0 || strcmp(name, "GMT") == 0 ||
           strcmp(name, "Etc/GMT") == 0;
}

static const struct tz_zone *tz_cache_find(const char *name)
{
    for (const struct tz_zone *z = tz_cache; z != NULL; z = z->next)
        if (strcmp(z->name, name) == 0)
            return z;
    return NULL;
}

/* The zone named name, from the cache or loaded into it. Cached zones are never
 * changed or freed, so they are used without holding the lock. */
static int tz_get(const char *name, const struct tz_zone **zone_out)
{
    if (name == NULL || !tz_name_ok(name))
        return -CK_EINVAL;
    if (tz_is_utc(name)) {
        *zone_out = &tz_utc;
        return 0;
    }
    pthread_mutex_lock(&tz_cache_lock);
    const struct tz_zone *found = tz_cache_find(name);
    pthread_mutex_unlock(&tz_cache_lock);
    if (found != NULL) {
        *zone_out = found;
        return 0;
    }

    /* Read the file without the lock; if another thread loaded the same zone
     * meanwhile, keep its copy so that each zone is cached once. */
    struct tz_zone *z = NULL;
    int rc = tz_load_file(name, &z);
    if (rc != 0)
        return rc;
    pthread_mutex_lock(&tz_cache_lock);
    found = tz_cache_find(name);
    if (found == NULL) {
        z->next = tz_cache;
        tz_cache = z;
        found = z;
        z = NULL;
    }
    pthread_mutex_unlock(&tz_cache_lock);
    free(z);
    *zone_out = found;
    return 0;
}

int ck_tz_day_bounds(const char *zone, int64_t now_ms, int64_t *start_ms_out, int64_t *end_ms_out)
{
    if (now_ms < CK_TS_ISO_MIN_MS || now_ms > CK_TS_ISO_MAX_MS)
        return -CK_EINVAL;
    const struct tz_zone *z;
    int rc = tz_get(zone, &z);
    if (rc != 0)
        return rc;
    int64_t t = floordiv(now_ms, 1000);
    int32_t off;
    int64_t next;
    tz_lookup(z, t, &off, &next);
    int64_t day = floordiv(t + off, SECS_PER_DAY);
    /* Tomorrow is searched from now on, so that now always lies inside
     * [start, end), even in a repeated hour that shows yesterday's date again. */
    int64_t start = tz_first_reaching(z, day * SECS_PER_DAY, INT64_MIN);
    int64_t end = tz_first_reaching(z, (day + 1) * SECS_PER_DAY, t);
    *start_ms_out = start * 1000;
    *end_ms_out = end * 1000;
    return 0;
}

int ck_tz_utc_offset(const char *zone, int64_t ms, int32_t *offset_s_out)
{
    if (ms < CK_TS_ISO_MIN_MS || ms > CK_TS_ISO_MAX_MS)
        return -CK_EINVAL;
    const struct tz_zone *z;
    int rc = tz_get(zone, &z);
    if (rc != 0)
        return rc;
    int32_t off;
    int64_t next;
    tz_lookup(z, floordiv(ms, 1000), &off, &next);
    *offset_s_out = off;
    return 0;
}
