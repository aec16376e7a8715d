/* tz: borrower-local dates and times. Due dates, days past due and contact windows are
 * counted in the borrower's IANA time zone, DST included, and this is the one module
 * that knows how.
 *
 * It reads the system's compiled zone files (TZif, RFC 8536, as installed by tzdata)
 * itself, once per zone, and keeps the transitions in memory. It never touches
 * setenv("TZ")/tzset()/localtime(): those are process-global, slow to switch and not
 * thread-safe, and a service handles borrowers in many zones at once.
 *
 * Semantics follow RFC 8536: before the first transition time type 0 applies; after
 * the last one the footer POSIX TZ string ("EST5EDT,M3.2.0,M11.1.0") is evaluated for
 * any year, so "slim" files and far-future dates work; with no footer the last type
 * stays in effect. Files with leap-second records (the right/ tree) count leap seconds
 * inside their timestamps, which the rest of the project does not: they are refused
 * with TZ_EUNSUPPORTED.
 *
 * Supported instants: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z (TZ_UTC_MIN_S ..
 * TZ_UTC_MAX_S). The query functions below return void or a plain value, so an instant
 * outside that range is clamped into it rather than reported.
 *
 * Threads: a tz_zone_t never changes once loaded, so any number of threads may query
 * one. A tz_cache_t is not locked: one thread, or the caller's lock. */
#ifndef ARREARS_TZ_H
#define ARREARS_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tz_zone tz_zone_t;   /* immutable once loaded */
typedef struct tz_cache tz_cache_t; /* name -> zone, loaded once each; not thread-safe */

enum {
    TZ_OK = 0,
    TZ_EUNKNOWN = -31001,      /* no such zone (no file by that name) */
    TZ_EINVALID_NAME = -31002, /* not a zone name we will turn into a path */
    TZ_ECORRUPT = -31003,      /* the file is not valid TZif, or exceeds our limits */
    TZ_EFULL = -31004,         /* the cache already holds max_zones zones */
    TZ_ENOMEM = -31005,
    TZ_ERANGE = -31006,        /* a date out of the supported range, or not a date */
    TZ_EUNSUPPORTED = -31007,  /* valid TZif we do not use: leap-second (right/) data */
    TZ_EIO = -31008,           /* the zone file exists but could not be read */
};

/* Limits on what a zone file may hold. Real tzdata 2025 peaks at 310 transitions,
 * 18 types and 40 abbreviation bytes in under 4 KiB; anything far beyond that is a
 * damaged or hostile file, refused as TZ_ECORRUPT before any allocation. */
#define TZ_MAX_FILE_BYTES (256 * 1024)
#define TZ_MAX_TRANSITIONS 2000
#define TZ_MAX_TYPES 256
#define TZ_MAX_ABBREV_BYTES 4096
#define TZ_MAX_NAME_LEN 64
/* Longest abbreviation kept in tz_local_t.abbrev; longer ones are cut (real ones are
 * 3..6 characters). */
#define TZ_ABBREV_MAX 7

/* The supported instants: years 1..9999 in UTC. */
#define TZ_UTC_MIN_S INT64_C(-62135596800)
#define TZ_UTC_MAX_S INT64_C(253402300799)
#define TZ_DAY_S 86400

/* A static English message for a TZ_* code (or "unknown error"). */
const char *tz_strerror(int code);

/* A cache reading zones from zoneinfo_dir (NULL: /usr/share/zoneinfo), holding at most
 * max_zones (> 0) of them. NULL when out of memory. */
tz_cache_t *tz_cache_new(const char *zoneinfo_dir, size_t max_zones);

/* Frees the cache and every zone it handed out; sets *self_p to NULL. */
void tz_cache_destroy(tz_cache_t **self_p);

/* The zone called name ("America/New_York"), read from disk on first use and cached.
 * The pointer stays valid until the cache is destroyed; asking again returns the same
 * pointer. Failures are not cached: a caller that retries an unknown name re-reads the
 * disk, so remember the error instead. *zone is written only on TZ_OK. */
int tz_cache_get(tz_cache_t *self, const char *name, const tz_zone_t **zone);

/* Zone names are made into paths under zoneinfo_dir, so only plain IANA-style names
 * pass: 1..TZ_MAX_NAME_LEN characters from [A-Za-z0-9/_+-], not starting or ending
 * with '/', no "//". ("." is outside the set, so ".." and "x/../y" cannot pass.) */
bool tz_name_valid(const char *name);

/* The name the zone was asked for. */
const char *tz_zone_name(const tz_zone_t *zone);

/* Broken-down local time, the fields of struct tm without its offsets. */
typedef struct {
    int32_t year;          /* e.g. 2026 */
    int month, day;        /* 1..12, 1..31 */
    int hour, minute, second;
    int weekday;           /* 0 = Sunday */
    int yday;              /* 0..365 */
    int32_t utc_offset_s;  /* local = UTC + utc_offset_s */
    bool is_dst;
    char abbrev[TZ_ABBREV_MAX + 1]; /* "EST", "+0545" */
} tz_local_t;

/* The local time in the zone at the instant utc_s (seconds since the epoch, no leap
 * seconds). */
void tz_local_at(const tz_zone_t *zone, int64_t utc_s, tz_local_t *out);

/* The zone's UTC offset in effect at utc_s. */
int32_t tz_offset_at(const tz_zone_t *zone, int64_t utc_s);

/* The borrower-local calendar date at utc_s, as days since 1970-01-01: the unit days
 * past due are counted in (days_past_due = tz_local_day(now) - due_day). */
int64_t tz_local_day(const tz_zone_t *zone, int64_t utc_s);

/* The instant at which the zone's clocks show the given wall time. The fields must
 * form a real date and time (year 1..9999, second 0..59), else TZ_ERANGE.
 * - A wall time that occurs twice (fall back) gives the EARLIER instant.
 * - A wall time that never occurs (spring forward) is moved forward by the length of
 *   the gap: 02:30 in a 02:00->03:00 gap gives the instant of 03:30. That is what
 *   glibc's mktime() does with tm_isdst = -1 at DST changes; at the rarer changes of
 *   standard offset (Samoa skipping 2011-12-30) glibc moves back instead, we always
 *   move forward, so a contact window "08:00 local" errs on the late side.
 * *utc_s is written only on TZ_OK. */
int tz_utc_of_local(const tz_zone_t *zone, int32_t year, int month, int day, int hour,
                    int minute, int second, int64_t *utc_s);

/* Pure calendar arithmetic, proleptic Gregorian, no zone. */

/* Days since 1970-01-01 of year-month-day. month must be 1..12; day may run past the
 * month's end or below 1 and simply counts on (day 32 of January is February 1). */
int64_t tz_days_from_civil(int32_t year, int month, int day);
/* The inverse; days must lie within the int32 year range (a programmer error else). */
void tz_civil_from_days(int64_t days, int32_t *year, int *month, int *day);
/* 0 = Sunday. */
int tz_weekday_of_days(int64_t days);
bool tz_is_leap_year(int32_t year);
int tz_days_in_month(int32_t year, int month);

/* "YYYY-MM-DD" is 10 bytes. */
#define TZ_DATE_LEN 10
/* Parses a calendar date "YYYY-MM-DD" with year_min <= year <= year_max (within
 * 1..9999). true and *days, or false with a sentence in why; the text is echoed in
 * the sentence only once it is known to be digits and dashes. */
bool tz_date_parse(const char *text, int32_t year_min, int32_t year_max, int64_t *days,
                   char *why, size_t why_len);
/* Writes days as "YYYY-MM-DD" (year 1..9999, asserted). */
void tz_date_format(int64_t days, char out[TZ_DATE_LEN + 1]);

#endif
