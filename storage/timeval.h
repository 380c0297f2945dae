/*
 * TIMESTAMP and DATE values, and the clinics' local days.
 *
 * A TIMESTAMP is held as milliseconds since 1970-01-01T00:00:00Z (UTC, leap
 * seconds ignored, as POSIX time does); a DATE as days since 1970-01-01. All
 * calendar arithmetic is proleptic Gregorian integer arithmetic (days from
 * civil, after H. Hinnant), so nothing here touches the C library's time zone
 * state (TZ, localtime), which is process-wide and not thread-safe.
 *
 * Time zones are read from the TZif files of the tzdata package
 * (/usr/share/zoneinfo) by this module itself, because "today" for a clinic is a
 * day in clinics.timezone, not in the server's zone.
 */
#ifndef CLINICKV_TIMEVAL_H
#define CLINICKV_TIMEVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CK_MS_PER_DAY INT64_C(86400000)

/*
 * The range of MySQL's TIMESTAMP(3): 1970-01-01 00:00:01.000 to
 * 2038-01-19 03:14:07.999 UTC (a 32-bit count of seconds; MariaDB before 11.5).
 * A value outside it would not load into the MySQL copy of a dump.
 *
 * For TIMESTAMP(0) columns note that MariaDB truncates fractional seconds
 * (measured on 10.11.19: '2038-01-19 03:14:07.5' is stored as 03:14:07) while
 * MySQL, by its manual, rounds them (and would refuse that value as 03:14:08);
 * storing whole seconds in fsp-0 columns avoids the question.
 */
#define CK_TS_MIN_MS INT64_C(1000)
#define CK_TS_MAX_MS INT64_C(2147483647999)

/* The instants the ISO form can spell with a four-digit year:
 * 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z. */
#define CK_TS_ISO_MIN_MS INT64_C(-62167219200000)
#define CK_TS_ISO_MAX_MS INT64_C(253402300799999)

/* The range of MySQL's DATE, 1000-01-01 to 9999-12-31, in days since 1970-01-01. */
#define CK_DATE_MIN_DAYS (-354285)
#define CK_DATE_MAX_DAYS 2932896

/* Length of ck_ts_format()'s output ("2026-11-26T09:30:00.000Z") without the NUL. */
#define CK_TS_STRLEN 24
/* Length of ck_date_format()'s output ("2026-11-26") without the NUL. */
#define CK_DATE_STRLEN 10

/*
 * Parse an ISO 8601 instant:
 *
 *     YYYY-MM-DD(T|t| )HH:MM:SS[.f{1,9}][Z|z|+HH:MM|-HH:MM]
 *
 * The space separator and the missing zone (meaning UTC) are how MySQL writes
 * TIMESTAMPs, so its output is accepted as it comes. Up to nine fractional
 * digits are accepted (the precision of the msgpack timestamp extension and of
 * many clients' "nano" formats); digits beyond milliseconds are truncated.
 * Fields are range-checked (month, day of month with leap years, hour < 24,
 * minute < 60, second < 60: no leap seconds, no 24:00). Offsets are HH < 24,
 * MM < 60.
 *
 * s:      the text; it need not be NUL-terminated.
 * len:    its length in bytes.
 * ms_out: OUT: milliseconds since the epoch; written only on success.
 *
 * Returns 0, or -CK_EINVAL for anything else, including an instant outside
 * CK_TS_ISO_MIN_MS..CK_TS_ISO_MAX_MS after applying the offset. Whether the
 * value fits a MySQL TIMESTAMP is a separate question: ck_ts_in_mysql_range().
 */
int ck_ts_parse(const char *s, size_t len, int64_t *ms_out);

/*
 * Write ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters) and a NUL.
 * ms is clamped to CK_TS_ISO_MIN_MS..CK_TS_ISO_MAX_MS, the instants that form
 * can spell; every value that ck_ts_parse() returns is inside.
 *
 * out: OUT: at least 25 bytes.
 */
void ck_ts_format(int64_t ms, char out[25]);

/* True when ms is inside CK_TS_MIN_MS..CK_TS_MAX_MS (MySQL's TIMESTAMP range). */
bool ck_ts_in_mysql_range(int64_t ms);

/*
 * Decode the payload of a msgpack timestamp extension (type -1) in any of its
 * three forms: 4 bytes (uint32 seconds), 8 bytes (30-bit nanoseconds, 34-bit
 * seconds) or 12 bytes (uint32 nanoseconds, int64 seconds). Nanoseconds are
 * truncated to milliseconds (towards the past, also before 1970).
 *
 * data:   the extension's data, without its type byte; the caller has checked
 *         that the type is -1.
 * len:    its length.
 * ms_out: OUT: milliseconds since the epoch; written only on success.
 *
 * Returns 0, or -CK_EINVAL for another length, nanoseconds of 10^9 or more, or
 * an instant outside CK_TS_ISO_MIN_MS..CK_TS_ISO_MAX_MS.
 */
int ck_ts_from_msgpack_ext(const char *data, uint32_t len, int64_t *ms_out);

/*
 * Parse a DATE, exactly "YYYY-MM-DD", within MySQL's range 1000-01-01 to
 * 9999-12-31, with the day checked against the month (leap years included).
 *
 * days_out: OUT: days since 1970-01-01; written only on success.
 *
 * Returns 0, or -CK_EINVAL.
 */
int ck_date_parse(const char *s, size_t len, int32_t *days_out);

/*
 * Write days as "YYYY-MM-DD" and a NUL. days is clamped to the four-digit
 * years 0000-01-01..9999-12-31; every value ck_date_parse() returns is inside.
 *
 * out: OUT: at least 11 bytes.
 */
void ck_date_format(int32_t days, char out[11]);

/* The current time, CLOCK_REALTIME, in milliseconds since the epoch. */
int64_t ck_now_ms(void);

/*
 * Days since 1970-01-01 of the proleptic Gregorian date y-m-d (m 1..12, d 1..31;
 * a day past the month's end simply continues into the next month). Exact for
 * years -5,000,000..5,000,000.
 */
int32_t ck_days_from_civil(int y, unsigned m, unsigned d);

/* The proleptic Gregorian date of a day count; the inverse of ck_days_from_civil(). */
void ck_civil_from_days(int32_t days, int *y, unsigned *m, unsigned *d);

/*
 * The current local day of a clinic: the UTC instants at which "today" starts
 * and "tomorrow" starts in the IANA zone `zone` ("America/New_York").
 *
 * "Today" is the local calendar date at now_ms. Its start is the first instant
 * whose local time is at or after that date's 00:00, so on a day whose midnight
 * is skipped by a DST change the day starts at the first local time that exists
 * (01:00 in such zones: America/Sao_Paulo on 2018-11-04). Tomorrow's start is
 * the first instant after now_ms whose local time is at or after the next
 * date's 00:00. The day is the half-open range [start, end), always contains
 * now_ms, and lasts 23, 24 or 25 hours (23.5 or 24.5 on Lord Howe Island). A
 * zone whose clocks go back at midnight (Asia/Beirut, 00:00 -> 23:00) simply
 * has a 25-hour day. Were a zone's clocks to go back from after midnight to
 * before it, the repeated time would show yesterday's date again; asked then,
 * the answer is that date from its start until midnight comes round the second
 * time, which overlaps the following day's range.
 * Results are whole seconds (zone offsets are).
 *
 * Zones: "UTC", "Etc/UTC", "GMT" and "Etc/GMT" need no files. Any other name is
 * read from /usr/share/zoneinfo/<zone> (TZif version 1 to 4); instants after
 * the file's last transition follow the file's POSIX TZ footer rule
 * ("EST5EDT,M3.2.0,M11.1.0", including the Jn, n and negative or >24h time
 * forms), so dates beyond 2037 keep their DST. A zone without a usable footer
 * keeps the offset of its last transition. Parsed zones are cached for the life
 * of the process (thread-safe; a tzdata upgrade is seen after a restart), and
 * at most one copy of each zone is kept.
 *
 * zone:         NUL-terminated zone name, as stored in clinics.timezone.
 * now_ms:       the instant whose day is wanted, within CK_TS_ISO_MIN_MS..
 *               CK_TS_ISO_MAX_MS.
 * start_ms_out: OUT: today's first instant; written only on success.
 * end_ms_out:   OUT: tomorrow's first instant; written only on success.
 *
 * Returns 0; -CK_EINVAL for a name that is not a zone (malformed, no such file,
 * not a TZif file, a "right/" zone with leap seconds, or no tzdata installed)
 * or now_ms out of range; -CK_EIO when the file exists but cannot be read;
 * -CK_ENOMEM.
 */
int ck_tz_day_bounds(const char *zone, int64_t now_ms, int64_t *start_ms_out, int64_t *end_ms_out);

/*
 * The UTC offset in seconds (east positive: New York in winter is -18000) that
 * zone has at instant ms. Zones, errors and caching as ck_tz_day_bounds().
 *
 * offset_s_out: OUT: written only on success.
 */
int ck_tz_utc_offset(const char *zone, int64_t ms, int32_t *offset_s_out);

#endif
