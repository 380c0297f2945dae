/*
 * TIMESTAMP and DATE codecs, msgpack timestamps and clinics' local days.
 *
 * Calendar results are checked against glibc's timegm()/gmtime_r(), which are
 * independent of our arithmetic and of the TZ variable. Time-zone answers were
 * computed on this machine with GNU date (TZ=zone date -d 'YYYY-MM-DD 00:00'
 * +%s) and zdump, and are written here as plain numbers.
 */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ckrun.h"
#include "clinickv/error.h"
#include "timeval.h"

#define S(lit) lit, sizeof(lit) - 1

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static int64_t parse_ok(const char *s)
{
    int64_t ms = 0;
    ck_assert_msg(ck_ts_parse(s, strlen(s), &ms) == 0, "rejected: %s", s);
    return ms;
}

/* ------------------------------------------------------------------ timestamps */

START_TEST(test_ts_known)
{
    const int64_t t = INT64_C(1795685400000); /* 2026-11-26T09:30:00Z, from GNU date */
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00.000Z"), t);
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00Z"), t);
    ck_assert_int_eq(parse_ok("2026-11-26 09:30:00"), t); /* as MySQL writes it */
    ck_assert_int_eq(parse_ok("2026-11-26t09:30:00z"), t);
    ck_assert_int_eq(parse_ok("2026-11-26T15:00:00+05:30"), t);
    ck_assert_int_eq(parse_ok("2026-11-26T01:30:00-08:00"), t);
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00-00:00"), t);
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00.5Z"), t + 500);
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00.12Z"), t + 120);
    ck_assert_int_eq(parse_ok("2026-11-26 09:30:00.123456"), t + 123);
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00.1239Z"), t + 123); /* truncated */
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00.999999999Z"), t + 999);
    ck_assert_int_eq(parse_ok("2026-11-26T09:30:00.999+01:00"), t - 3600000 + 999);

    /* Leap years: 2000 and 2024 are, 1900, 2023 and 2100 are not. */
    ck_assert_int_eq(parse_ok("2000-02-29T00:00:00Z"), INT64_C(951782400000));
    ck_assert_int_eq(parse_ok("2024-02-29T12:00:00Z"), INT64_C(1709208000000));
    int64_t ms = 0;
    ck_assert_int_eq(ck_ts_parse(S("1900-02-29T00:00:00Z"), &ms), -CK_EINVAL);
    ck_assert_int_eq(ck_ts_parse(S("2023-02-29T00:00:00Z"), &ms), -CK_EINVAL);
    ck_assert_int_eq(ck_ts_parse(S("2100-02-29T00:00:00Z"), &ms), -CK_EINVAL);
    ck_assert_int_eq(ms, 0);

    /* MySQL's TIMESTAMP range. */
    ck_assert_int_eq(parse_ok("2038-01-19T03:14:07.999Z"), CK_TS_MAX_MS);
    ck_assert_int_eq(parse_ok("1970-01-01 00:00:01"), CK_TS_MIN_MS);
    ck_assert(ck_ts_in_mysql_range(parse_ok("2038-01-19 03:14:07")));
    ck_assert(ck_ts_in_mysql_range(CK_TS_MAX_MS));
    ck_assert(!ck_ts_in_mysql_range(parse_ok("2038-01-19 03:14:08")));
    ck_assert(!ck_ts_in_mysql_range(parse_ok("1970-01-01 00:00:00.999")));
    ck_assert(ck_ts_in_mysql_range(parse_ok("2026-11-26 09:30:00")));

    /* The ends of the four-digit years, and before 1970. */
    ck_assert_int_eq(parse_ok("0000-01-01T00:00:00Z"), CK_TS_ISO_MIN_MS);
    ck_assert_int_eq(parse_ok("9999-12-31T23:59:59.999Z"), CK_TS_ISO_MAX_MS);
    ck_assert_int_eq(parse_ok("1969-12-31T23:59:59.999Z"), -1);
    ck_assert_int_eq(ck_ts_parse(S("0000-01-01T00:00:00+00:01"), &ms), -CK_EINVAL);
    ck_assert_int_eq(ck_ts_parse(S("9999-12-31T23:59:59-00:01"), &ms), -CK_EINVAL);
}
END_TEST

START_TEST(test_ts_invalid)
{
    static const char *const bad[] = {
        "",
        "2026-11-26",
        "2026-11-26T09:30",
        "2026-11-26T09:30:00.",
        "2026-11-26T09:30:00.1234567891Z", /* ten fractional digits */
        "2026-11-26T09:30:00.Z",
        "2026-13-01T00:00:00Z",
        "2026-00-01T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-04-00T00:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T23:60:00Z",
        "2026-11-26T23:59:60Z", /* no leap seconds */
        "2026-11-26X09:30:00Z",
        "2026-11-26T09:30:00+0530",
        "2026-11-26T09:30:00+05",
        "2026-11-26T09:30:00+24:00",
        "2026-11-26T09:30:00+05:60",
        "2026-11-26T09:30:00+05:3",
        " 2026-11-26T09:30:00Z",
        "2026-11-26T09:30:00Z ",
        "2026-11-26T09:30:00ZZ",
        "2026-1-26T09:30:00Z",
        "2026/11/26 09:30:00",
        "-2026-11-26T09:30:00Z",
        "+2026-11-26T09:30:00Z",
        "2026-11-26T9:30:00Z",
        "2026-11-26T09:30:00 UTC",
        "2026-11-26T09:30:00.12a",
        "20261126T093000Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ms = 42;
        ck_assert_msg(ck_ts_parse(bad[i], strlen(bad[i]), &ms) == -CK_EINVAL, "accepted: '%s'",
                      bad[i]);
        ck_assert_int_eq(ms, 42);
    }
    /* An embedded NUL, and a length that cuts the text short. */
    int64_t ms = 42;
    ck_assert_int_eq(ck_ts_parse(S("2026-11-26T09:30:00\0Z"), &ms), -CK_EINVAL);
    ck_assert_int_eq(ck_ts_parse("2026-11-26T09:30:00Z", 18, &ms), -CK_EINVAL);
    ck_assert_int_eq(ck_ts_parse(NULL, 0, &ms), -CK_EINVAL);
    ck_assert_int_eq(ms, 42);
}
END_TEST

START_TEST(test_ts_format_known)
{
    char out[25];
    ck_ts_format(0, out);
    ck_assert_str_eq(out, "1970-01-01T00:00:00.000Z");
    ck_ts_format(-1, out);
    ck_assert_str_eq(out, "1969-12-31T23:59:59.999Z");
    ck_ts_format(INT64_C(1795685400000), out);
    ck_assert_str_eq(out, "2026-11-26T09:30:00.000Z");
    ck_ts_format(CK_TS_MAX_MS, out);
    ck_assert_str_eq(out, "2038-01-19T03:14:07.999Z");
    ck_ts_format(CK_TS_MIN_MS, out);
    ck_assert_str_eq(out, "1970-01-01T00:00:01.000Z");
    ck_ts_format(INT64_C(951782400000), out);
    ck_assert_str_eq(out, "2000-02-29T00:00:00.000Z");
    /* Outside the four-digit years: clamped, never longer. */
    ck_ts_format(INT64_MIN, out);
    ck_assert_str_eq(out, "0000-01-01T00:00:00.000Z");
    ck_ts_format(INT64_MAX, out);
    ck_assert_str_eq(out, "9999-12-31T23:59:59.999Z");
    ck_assert_uint_eq(strlen(out), CK_TS_STRLEN);
}
END_TEST

START_TEST(test_ts_random_round_trip)
{
    /* Random instants over the whole range: our format agrees with gmtime_r,
     * and parsing the format gives the instant back. Random civil times with
     * random offsets agree with timegm. */
    rng_state = 2026;
    long checked = 0;
    const uint64_t span = (uint64_t)(CK_TS_ISO_MAX_MS - CK_TS_ISO_MIN_MS) + 1;
    for (int i = 0; i < 200000; i++) {
        int64_t ms = CK_TS_ISO_MIN_MS + (int64_t)(rnd() % span);
        if (i % 4 == 0) /* denser around the MySQL range */
            ms = (int64_t)(rnd() % (uint64_t)(CK_TS_MAX_MS + 1));
        char out[25], want[96];
        ck_ts_format(ms, out);
        time_t secs = (time_t)((ms - (((ms % 1000) + 1000) % 1000)) / 1000);
        struct tm tm;
        ck_assert_ptr_nonnull(gmtime_r(&secs, &tm));
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(((ms % 1000) + 1000) % 1000));
        ck_assert_str_eq(out, want);
        int64_t back = 0;
        ck_assert_int_eq(ck_ts_parse(out, CK_TS_STRLEN, &back), 0);
        ck_assert_int_eq(back, ms);
        checked++;
    }
    for (int i = 0; i < 100000; i++) {
        struct tm tm = {0};
        tm.tm_year = 1 + (int)(rnd() % 9998) - 1900;
        tm.tm_mon = (int)(rnd() % 12);
        tm.tm_mday = 1 + (int)(rnd() % 28);
        tm.tm_hour = (int)(rnd() % 24);
        tm.tm_min = (int)(rnd() % 60);
        tm.tm_sec = (int)(rnd() % 60);
        int frac = (int)(rnd() % 1000);
        int off = (int)(rnd() % (2 * 14 * 60 + 1)) - 14 * 60; /* minutes, -14:00..+14:00 */
        char txt[64];
        snprintf(txt, sizeof txt, "%04d-%02d-%02d%c%02d:%02d:%02d.%03d%c%02d:%02d",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, i % 2 ? 'T' : ' ', tm.tm_hour,
                 tm.tm_min, tm.tm_sec, frac, off < 0 ? '-' : '+', abs(off) / 60, abs(off) % 60);
        int64_t want = ((int64_t)timegm(&tm) - (int64_t)off * 60) * 1000 + frac;
        int64_t got = 0;
        ck_assert_msg(ck_ts_parse(txt, strlen(txt), &got) == 0, "rejected %s", txt);
        ck_assert_int_eq(got, want);
        checked++;
    }
    printf("timeval: %ld random timestamps checked against gmtime_r/timegm\n", checked);
}
END_TEST

static int ext(const unsigned char *p, uint32_t len, int64_t *ms)
{
    return ck_ts_from_msgpack_ext((const char *)p, len, ms);
}

START_TEST(test_msgpack_ext)
{
    int64_t ms = 7;
    /* timestamp 32: 1795685400 s */
    static const unsigned char t32[] = {0x6b, 0x07, 0xfc, 0x18};
    ck_assert_int_eq(ext(t32, 4, &ms), 0);
    ck_assert_int_eq(ms, INT64_C(1795685400000));
    static const unsigned char t32max[] = {0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(ext(t32max, 4, &ms), 0);
    ck_assert_int_eq(ms, INT64_C(4294967295000));

    /* timestamp 64: nsec 123456789 in the top 30 bits, seconds 1 in the low 34 */
    uint64_t v = (UINT64_C(123456789) << 34) | 1;
    unsigned char t64[8];
    for (int i = 0; i < 8; i++)
        t64[i] = (unsigned char)(v >> (56 - 8 * i));
    ck_assert_int_eq(ext(t64, 8, &ms), 0);
    ck_assert_int_eq(ms, 1123);
    /* seconds beyond 32 bits (year 2514) */
    v = (UINT64_C(999999999) << 34) | ((UINT64_C(1) << 34) - 1);
    for (int i = 0; i < 8; i++)
        t64[i] = (unsigned char)(v >> (56 - 8 * i));
    ck_assert_int_eq(ext(t64, 8, &ms), 0);
    ck_assert_int_eq(ms, (int64_t)((UINT64_C(1) << 34) - 1) * 1000 + 999);
    /* nanoseconds out of range */
    v = (UINT64_C(1000000000) << 34) | 1;
    for (int i = 0; i < 8; i++)
        t64[i] = (unsigned char)(v >> (56 - 8 * i));
    ms = 7;
    ck_assert_int_eq(ext(t64, 8, &ms), -CK_EINVAL);
    ck_assert_int_eq(ms, 7);

    /* timestamp 96: nsec 999000000, seconds -1 -> 1969-12-31T23:59:59.999Z */
    static const unsigned char t96[] = {0x3b, 0x8b, 0x87, 0xc0, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    ck_assert_int_eq(ext(t96, 12, &ms), 0);
    ck_assert_int_eq(ms, -1);
    /* nanoseconds are truncated towards the past, before 1970 too */
    static const unsigned char t96b[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    ck_assert_int_eq(ext(t96b, 12, &ms), 0);
    ck_assert_int_eq(ms, -2000);
    /* seconds far outside the four-digit years */
    static const unsigned char t96big[] = {0,    0,    0,    0,    0x7f, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const unsigned char t96small[] = {0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char t96ns[] = {0x3b, 0x9a, 0xca, 0x00, 0, 0, 0, 0, 0, 0, 0, 1};
    ms = 7;
    ck_assert_int_eq(ext(t96big, 12, &ms), -CK_EINVAL);
    ck_assert_int_eq(ext(t96small, 12, &ms), -CK_EINVAL);
    ck_assert_int_eq(ext(t96ns, 12, &ms), -CK_EINVAL);
    /* other lengths */
    ck_assert_int_eq(ext(t96, 0, &ms), -CK_EINVAL);
    ck_assert_int_eq(ext(t96, 5, &ms), -CK_EINVAL);
    ck_assert_int_eq(ext(t96, 16, &ms), -CK_EINVAL);
    ck_assert_int_eq(ms, 7);
}
END_TEST

/* ------------------------------------------------------------------ dates */

START_TEST(test_dates)
{
    int32_t d = 5;
    ck_assert_int_eq(ck_date_parse(S("1970-01-01"), &d), 0);
    ck_assert_int_eq(d, 0);
    ck_assert_int_eq(ck_date_parse(S("1000-01-01"), &d), 0);
    ck_assert_int_eq(d, CK_DATE_MIN_DAYS);
    ck_assert_int_eq(ck_date_parse(S("9999-12-31"), &d), 0);
    ck_assert_int_eq(d, CK_DATE_MAX_DAYS);
    ck_assert_int_eq(ck_date_parse(S("2024-02-29"), &d), 0);
    ck_assert_int_eq(d, 19782);
    d = 5;
    static const char *const bad[] = {"0999-12-31",  "2023-02-29",
                                      "1900-02-29",  "2026-13-01",
                                      "2026-11-31",  "2026-11-26T00:00:00Z",
                                      "2026-11-26 ", "2026-1-26",
                                      "26-11-2026",  "",
                                      "2026-11-2x"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(ck_date_parse(bad[i], strlen(bad[i]), &d) == -CK_EINVAL, "accepted %s",
                      bad[i]);
    ck_assert_int_eq(d, 5);

    char out[11];
    ck_date_format(0, out);
    ck_assert_str_eq(out, "1970-01-01");
    ck_date_format(-1, out);
    ck_assert_str_eq(out, "1969-12-31");
    ck_date_format(INT32_MIN, out);
    ck_assert_str_eq(out, "0000-01-01");
    ck_date_format(INT32_MAX, out);
    ck_assert_str_eq(out, "9999-12-31");

    /* Every day of MySQL's DATE range: format, parse back, and agree with gmtime_r. */
    long checked = 0;
    for (int32_t day = CK_DATE_MIN_DAYS; day <= CK_DATE_MAX_DAYS; day++) {
        ck_date_format(day, out);
        int32_t back;
        if (ck_date_parse(out, CK_DATE_STRLEN, &back) != 0 || back != day)
            ck_abort_msg("day %d: %s", day, out);
        if (day % 97 == 0) {
            time_t secs = (time_t)day * 86400;
            struct tm tm;
            char want[48];
            gmtime_r(&secs, &tm);
            snprintf(want, sizeof want, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday);
            ck_assert_str_eq(out, want);
        }
        checked++;
    }
    printf("timeval: %ld dates round-tripped\n", checked);
}
END_TEST

START_TEST(test_civil)
{
    ck_assert_int_eq(ck_days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(ck_days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(ck_days_from_civil(1, 1, 1), -719162);
    ck_assert_int_eq(ck_days_from_civil(0, 3, 1), -719468);
    ck_assert_int_eq(ck_days_from_civil(-1, 12, 31), -719529);
    int y;
    unsigned m, d;
    for (int32_t day = -3000000; day <= 3000000; day += 7) {
        ck_civil_from_days(day, &y, &m, &d);
        if (ck_days_from_civil(y, m, d) != day || m < 1 || m > 12 || d < 1 || d > 31)
            ck_abort_msg("day %d -> %d-%u-%u", day, y, m, d);
    }
    ck_civil_from_days(INT32_MIN, &y, &m, &d);
    ck_assert_int_eq(ck_days_from_civil(y, m, d), INT32_MIN);
    ck_civil_from_days(INT32_MAX, &y, &m, &d);
    ck_assert_int_eq(ck_days_from_civil(y, m, d), INT32_MAX);
}
END_TEST

START_TEST(test_now)
{
    int64_t a = (int64_t)time(NULL) * 1000;
    int64_t now = ck_now_ms();
    ck_assert_int_ge(now, a - 1000);
    ck_assert_int_le(now, a + 2000);
}
END_TEST

/* ------------------------------------------------------------------ time zones */

static bool have_tzdata(void)
{
    struct stat st;
    if (stat("/usr/share/zoneinfo/America/New_York", &st) == 0)
        return true;
    printf("timeval: /usr/share/zoneinfo missing (apt-get install tzdata): zone files not "
           "tested\n");
    return false;
}

struct day_case {
    const char *zone;
    int64_t now, start, end; /* seconds */
};

/* From GNU date on Debian 12, tzdata 2025b. */
static const struct day_case day_cases[] = {
    /* 2026-11-26T09:30Z */
    {"UTC", 1795685400, 1795651200, 1795737600},
    /* 1969-12-31T23:59:59Z */
    {"Etc/UTC", -1, -86400, 0},
    /* 2026-03-08 16:00Z: 23 h */
    {"America/New_York", 1772985600, 1772946000, 1773028800},
    /* 2026-03-08 04:59:59Z = Mar 7 23:59:59 EST */
    {"America/New_York", 1772945999, 1772859600, 1772946000},
    /* 2026-11-01 17:00Z: 25 h */
    {"America/New_York", 1793552400, 1793505600, 1793595600},
    /* 01:30 EDT */
    {"America/New_York", 1793511000, 1793505600, 1793595600},
    /* 01:30 EST, the second time */
    {"America/New_York", 1793514600, 1793505600, 1793595600},
    /* 2026-07-04 */
    {"America/New_York", 1783166400, 1783137600, 1783224000},
    /* 2040-03-11: footer rule */
    {"America/New_York", 2215080000, 2215054800, 2215137600},
    /* 2040-11-04: footer rule */
    {"America/New_York", 2235643200, 2235614400, 2235704400},
    /* 2100-03-14: footer rule */
    {"America/New_York", 4108708800, 4108683600, 4108766400},
    /* 2026-03-29: 23 h */
    {"Europe/Berlin", 1774785600, 1774738800, 1774821600},
    /* 2026-10-25: 25 h */
    {"Europe/Berlin", 1792929600, 1792879200, 1792969200},
    /* 2026-01-15 */
    {"Europe/Berlin", 1768478400, 1768431600, 1768518000},
    /* 2026-11-27 01:30 IST */
    {"Asia/Kolkata", 1795723200, 1795717800, 1795804200},
    /* 2026-04-05: 24.5 h */
    {"Australia/Lord_Howe", 1775390400, 1775307600, 1775395800},
    /* 2026-10-04: 23.5 h */
    {"Australia/Lord_Howe", 1791115200, 1791034200, 1791118800},
    /* 2045-04-02: footer */
    {"Australia/Lord_Howe", 2374725600, 2374664400, 2374752600},
    /* 2045-10-01: footer */
    {"Australia/Lord_Howe", 2390450400, 2390391000, 2390475600},
    /* 2030-03-31: rule time -1:00 */
    {"America/Nuuk", 1901188800, 1901149200, 1901235600},
    /* From zdump: midnight skipped on 2018-11-04 (00:00 -03 -> 01:00 -02), so the
     * day starts at the transition, 03:00Z, and ends at 2018-11-05 00:00 -02. */
    {"America/Sao_Paulo", 1541343600, 1541300400, 1541383200},
    /* From zdump: 2026-10-25 00:00 EEST -> 2026-10-24 23:00 EET at 21:00Z, so
     * Saturday lasts 25 hours, 2026-10-23T21:00Z to 2026-10-24T22:00Z. */
    {"Asia/Beirut", 1792877400, 1792789200, 1792879200},
};

START_TEST(test_tz_day_bounds)
{
    if (!have_tzdata())
        return;
    for (size_t i = 0; i < sizeof day_cases / sizeof day_cases[0]; i++) {
        const struct day_case *c = &day_cases[i];
        int64_t start = 1, end = 2;
        int rc = ck_tz_day_bounds(c->zone, c->now * 1000 + 123, &start, &end);
        ck_assert_msg(rc == 0, "%s: %d", c->zone, rc);
        ck_assert_msg(start == c->start * 1000 && end == c->end * 1000,
                      "case %zu %s: got %lld..%lld want %lld..%lld", i, c->zone,
                      (long long)start / 1000, (long long)end / 1000, (long long)c->start,
                      (long long)c->end);
    }
    int32_t off = 0;
    ck_assert_int_eq(ck_tz_utc_offset("America/New_York", INT64_C(-5364662400000), &off), 0);
    ck_assert_int_eq(off, -17762); /* 1800: local mean time, -4:56:02 */
    ck_assert_int_eq(ck_tz_utc_offset("Asia/Kolkata", 0, &off), 0);
    ck_assert_int_eq(off, 19800);
    ck_assert_int_eq(ck_tz_utc_offset("Australia/Lord_Howe", INT64_C(2390450400000), &off), 0);
    ck_assert_int_eq(off, 39600);
}
END_TEST

struct transition_case {
    const char *zone;
    int64_t at;            /* seconds: the first second of the new offset */
    int32_t before, after; /* offsets, seconds east */
};

/* From zdump -v on Debian 12, tzdata 2025b. 2040 lies beyond the files' last
 * transition (2037), so those come from the footer rules. */
static const struct transition_case transitions[] = {
    /* 2026-03-08T07:00:00Z */
    {"America/New_York", 1772953200, -18000, -14400},
    /* 2026-11-01T06:00:00Z */
    {"America/New_York", 1793512800, -14400, -18000},
    /* 2040-03-11T07:00:00Z */
    {"America/New_York", 2215062000, -18000, -14400},
    /* 2040-11-04T06:00:00Z */
    {"America/New_York", 2235621600, -14400, -18000},
    /* 2040-03-31T15:00:00Z */
    {"Australia/Lord_Howe", 2216818800, 39600, 37800},
    /* 2040-10-06T15:30:00Z */
    {"Australia/Lord_Howe", 2233150200, 37800, 39600},
    /* 2040-03-25T01:00:00Z */
    {"America/Nuuk", 2216250000, -7200, -3600},
    /* 2040-10-28T01:00:00Z */
    {"America/Nuuk", 2234998800, -3600, -7200},
    /* 2040-03-25T01:00:00Z */
    {"Europe/Berlin", 2216250000, 3600, 7200},
    /* 2040-10-28T01:00:00Z */
    {"Europe/Berlin", 2234998800, 7200, 3600},
};

START_TEST(test_tz_transitions)
{
    if (!have_tzdata())
        return;
    for (size_t i = 0; i < sizeof transitions / sizeof transitions[0]; i++) {
        const struct transition_case *c = &transitions[i];
        int32_t before = 0, after = 0;
        ck_assert_int_eq(ck_tz_utc_offset(c->zone, c->at * 1000 - 1, &before), 0);
        ck_assert_int_eq(ck_tz_utc_offset(c->zone, c->at * 1000, &after), 0);
        ck_assert_msg(before == c->before && after == c->after, "case %zu %s: %d -> %d", i, c->zone,
                      before, after);
    }
}
END_TEST

START_TEST(test_tz_utc_without_files)
{
    /* "UTC" must work on a machine without tzdata. */
    static const char *const names[] = {"UTC", "Etc/UTC", "GMT", "Etc/GMT"};
    for (size_t i = 0; i < 4; i++) {
        int64_t start, end;
        ck_assert_int_eq(ck_tz_day_bounds(names[i], INT64_C(1795685400123), &start, &end), 0);
        ck_assert_int_eq(start, INT64_C(1795651200000));
        ck_assert_int_eq(end, INT64_C(1795737600000));
        ck_assert_int_eq(ck_tz_day_bounds(names[i], -1, &start, &end), 0);
        ck_assert_int_eq(start, -CK_MS_PER_DAY);
        ck_assert_int_eq(end, 0);
    }
}
END_TEST

START_TEST(test_tz_invalid)
{
    static const char *const bad[] = {
        "",
        "Mars/Olympus_Mons",
        "../../../etc/passwd",
        "/etc/localtime",
        "America/",
        "America//New_York",
        "America/./New_York",
        "zone.tab",
        "America",
        "America/New York",
        "right/UTC",
        "Europe/Berlin\n",
        "iso3166.tab",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t start = 1, end = 2;
        int rc = ck_tz_day_bounds(bad[i], 0, &start, &end);
        ck_assert_msg(rc == -CK_EINVAL, "'%s' gave %d", bad[i], rc);
        ck_assert_int_eq(start, 1);
        ck_assert_int_eq(end, 2);
    }
    int64_t start, end;
    ck_assert_int_eq(ck_tz_day_bounds(NULL, 0, &start, &end), -CK_EINVAL);
    ck_assert_int_eq(ck_tz_day_bounds("UTC", CK_TS_ISO_MAX_MS + 1, &start, &end), -CK_EINVAL);
    ck_assert_int_eq(ck_tz_day_bounds("UTC", INT64_MIN, &start, &end), -CK_EINVAL);
}
END_TEST

static const char *const prop_zones[] = {"America/New_York",    "Europe/Berlin",   "Asia/Kolkata",
                                         "Australia/Lord_Howe", "America/Nuuk",    "Asia/Beirut",
                                         "America/Sao_Paulo",   "Pacific/Chatham", "Europe/London",
                                         "Africa/Casablanca"};
#define NPROP (sizeof prop_zones / sizeof prop_zones[0])

/* The local calendar day of an instant, given the offset in force then. */
static int64_t local_day(int64_t ms, int32_t off_s)
{
    int64_t secs = (ms >= 0 ? ms : ms - 999) / 1000 + off_s;
    return (secs >= 0 ? secs : secs - 86399) / 86400;
}

/* Properties of any day: it contains now, lasts 23 to 25 hours, starts where
 * the local date changes (the instant before shows an earlier date), and the
 * next day starts where this one ends. */
static long check_day_properties(const char *zone, uint64_t seed, int n)
{
    uint64_t state = seed;
    long checked = 0;
    for (int i = 0; i < n; i++) {
        state = state * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
        /* 1900..2200, where the files and the footer rules both matter */
        int64_t now = INT64_C(-2208988800000) + (int64_t)((state >> 11) % UINT64_C(9467020800000));
        int64_t start, end, start2, end2;
        int32_t off_now, off_s, off_before, off_end;
        ck_assert_int_eq(ck_tz_day_bounds(zone, now, &start, &end), 0);
        ck_assert_int_le(start, now);
        ck_assert_int_lt(now, end);
        ck_assert_int_ge(end - start, 23 * 3600000);
        ck_assert_int_le(end - start, 25 * 3600000);
        ck_assert_int_eq(ck_tz_utc_offset(zone, now, &off_now), 0);
        ck_assert_int_eq(ck_tz_utc_offset(zone, start, &off_s), 0);
        ck_assert_int_eq(ck_tz_utc_offset(zone, start - 1000, &off_before), 0);
        ck_assert_int_eq(local_day(start, off_s), local_day(now, off_now));
        ck_assert_int_lt(local_day(start - 1000, off_before), local_day(start, off_s));
        ck_assert_int_eq(ck_tz_utc_offset(zone, end, &off_end), 0);
        ck_assert_int_gt(local_day(end, off_end), local_day(now, off_now));
        ck_assert_int_eq(ck_tz_day_bounds(zone, end, &start2, &end2), 0);
        ck_assert_int_eq(start2, end);
        checked++;
    }
    return checked;
}

START_TEST(test_tz_properties)
{
    if (!have_tzdata())
        return;
    long checked = 0;
    for (size_t z = 0; z < NPROP; z++)
        checked += check_day_properties(prop_zones[z], 1000 + z, 5000);
    printf("timeval: %ld random local days checked in %zu zones\n", checked, NPROP);
}
END_TEST

struct thread_arg {
    int id;
    long checked;
};

static void *tz_thread(void *p)
{
    struct thread_arg *a = p;
    for (size_t z = 0; z < NPROP; z++)
        a->checked += check_day_properties(prop_zones[(z + (size_t)a->id) % NPROP],
                                           (uint64_t)a->id * 77 + z, 300);
    return NULL;
}

START_TEST(test_tz_threads)
{
    /* Four threads load and use the same zones at once: the cache must hand
     * each a complete zone (ASan and the properties would notice otherwise). */
    if (!have_tzdata())
        return;
    pthread_t th[4];
    struct thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].id = i;
        args[i].checked = 0;
        ck_assert_int_eq(pthread_create(&th[i], NULL, tz_thread, &args[i]), 0);
    }
    long checked = 0;
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
        checked += args[i].checked;
    }
    printf("timeval: %ld local days checked from 4 threads\n", checked);
}
END_TEST

static Suite *timeval_suite(void)
{
    Suite *s = suite_create("timeval");
    TCase *tc = tcase_create("values");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_ts_known);
    tcase_add_test(tc, test_ts_invalid);
    tcase_add_test(tc, test_ts_format_known);
    tcase_add_test(tc, test_ts_random_round_trip);
    tcase_add_test(tc, test_msgpack_ext);
    tcase_add_test(tc, test_dates);
    tcase_add_test(tc, test_civil);
    tcase_add_test(tc, test_now);
    suite_add_tcase(s, tc);
    TCase *tz = tcase_create("zones");
    tcase_set_timeout(tz, 300);
    tcase_add_test(tz, test_tz_day_bounds);
    tcase_add_test(tz, test_tz_transitions);
    tcase_add_test(tz, test_tz_utc_without_files);
    tcase_add_test(tz, test_tz_invalid);
    tcase_add_test(tz, test_tz_properties);
    tcase_add_test(tz, test_tz_threads);
    suite_add_tcase(s, tz);
    return s;
}

int main(void)
{
    return ckrun(timeval_suite());
}
