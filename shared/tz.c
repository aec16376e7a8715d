/* tz: reads TZif zone files (RFC 8536) into memory once per zone and answers "what is
 * the local time / date / offset here" and "when is 08:00 local" without the process-
 * global TZ machinery. See tz.h for the rules; this file is the parser (which trusts
 * nothing in the file: every count, index and string is checked against the bytes
 * actually read) and the POSIX TZ rule arithmetic for instants past the table's end.
 * Integers only. */
#include "tz.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DEFAULT_ZONEINFO_DIR "/usr/share/zoneinfo"

/* RFC 8536 says offsets SHOULD lie in -24:59:59..25:59:59; one hour beyond that is
 * still refused, which keeps every sum below far from overflow and bounds the search
 * window of tz_utc_of_local. */
#define MAX_UTOFF_S (26 * 3600)
/* Real files hold at most 27 leap records; the bound only keeps size arithmetic safe
 * while skipping the version 1 block of a right/ file. */
#define MAX_LEAPS 1000
/* Longest footer TZ string accepted; real ones are under 50 bytes. */
#define MAX_FOOTER_BYTES 255
/* RFC 8536 3.3.1 extends rule times to -167..167 hours. */
#define MAX_RULE_HOURS 167
/* POSIX: the std/dst offsets themselves are 0..24 hours. */
#define MAX_POSIX_OFFSET_HOURS 24
#define HEADER_BYTES 44
#define TYPE_RECORD_BYTES 6
/* 1970-01-01 was a Thursday. */
#define EPOCH_WEEKDAY 4
/* |days| that keeps a civil year inside int32 (about 1.9 billion years). */
#define MAX_CIVIL_DAYS INT64_C(700000000000)

typedef struct {
    int32_t utoff_s;
    bool is_dst;
    char abbrev[TZ_ABBREV_MAX + 1];
} zone_type_t;

typedef enum { RULE_JULIAN_NO_LEAP, RULE_ZERO_BASED, RULE_MONTH_WEEK_DAY } rule_kind_t;

/* One change of a POSIX TZ rule: "Jn", "n" or "Mm.w.d", then "/time". */
typedef struct {
    rule_kind_t kind;
    int day;        /* Jn: 1..365; n: 0..365; Mm.w.d: weekday 0..6 */
    int week;       /* Mm.w.d: 1..5, 5 = last */
    int month;      /* Mm.w.d: 1..12 */
    int32_t time_s; /* wall clock time of the change in the time being left */
} posix_rule_t;

/* The footer TZ string, parsed. */
typedef struct {
    bool present; /* a non-empty footer: it governs after the last transition */
    bool has_dst;
    zone_type_t std, dst;
    posix_rule_t start, end; /* start: std -> dst; end: dst -> std */
} posix_tz_t;

struct tz_zone {
    char name[TZ_MAX_NAME_LEN + 1];
    size_t transition_count;
    int64_t *transitions_utc_s;  /* strictly ascending */
    uint8_t *transition_types;   /* type index in force from each transition */
    size_t type_count;
    zone_type_t *types;
    posix_tz_t footer;
    /* Extremes over every type that can be in force: the answer to "when is this
     * wall time" lies within [wall - max_utoff_s, wall - min_utoff_s]. */
    int32_t min_utoff_s, max_utoff_s;
};

struct tz_cache {
    char *zoneinfo_dir;
    size_t max_zones;
    size_t zone_count;
    size_t zone_capacity;
    tz_zone_t **zones; /* sorted by name */
};

/* ---- calendar ---------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

bool tz_is_leap_year(int32_t year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int tz_days_in_month(int32_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    assert(month >= 1 && month <= 12);
    return days[month - 1] + (month == 2 && tz_is_leap_year(year));
}

/* Both directions count years from 1 March, so a leap day is the last day of its
 * counted year and months have a fixed cumulative length (153 days per 5 months),
 * and in 400-year eras of exactly 146097 days, so no loop over years is needed. */
int64_t tz_days_from_civil(int32_t year, int month, int day)
{
    assert(month >= 1 && month <= 12);
    int64_t march_year = (int64_t)year - (month <= 2 ? 1 : 0);
    int64_t era = floor_div(march_year, 400);
    int64_t year_of_era = march_year - era * 400;
    int64_t month_from_march = (month + 9) % 12;
    int64_t day_of_year = (153 * month_from_march + 2) / 5 + (int64_t)day - 1;
    int64_t day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    /* 719468 days lie between 0000-03-01 and 1970-01-01. */
    return era * 146097 + day_of_era - 719468;
}

void tz_civil_from_days(int64_t days, int32_t *year, int *month, int *day)
{
    assert(days >= -MAX_CIVIL_DAYS && days <= MAX_CIVIL_DAYS);
    assert(year && month && day);
    int64_t since_0000_03_01 = days + 719468;
    int64_t era = floor_div(since_0000_03_01, 146097);
    int64_t day_of_era = since_0000_03_01 - era * 146097;
    /* Remove the leap days before this day, then whole 365-day years remain. */
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 -
                           day_of_era / 146096) / 365;
    int64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t month_from_march = (5 * day_of_year + 2) / 153;
    *day = (int)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
    *month = (int)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
    *year = (int32_t)(era * 400 + year_of_era + (*month <= 2 ? 1 : 0));
}

int tz_weekday_of_days(int64_t days)
{
    int remainder = (int)(days % 7); /* -6..6: no overflow even at the int64 ends */
    return (remainder + EPOCH_WEEKDAY + 7) % 7;
}

static int64_t clamp_utc(int64_t utc_s)
{
    if (utc_s < TZ_UTC_MIN_S) return TZ_UTC_MIN_S;
    if (utc_s > TZ_UTC_MAX_S) return TZ_UTC_MAX_S;
    return utc_s;
}

/* ---- POSIX TZ strings (the TZif footer) -------------------------------------- */

static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* Up to max_digits decimal digits; false if none. */
static bool parse_number(const char **sp, int max_digits, int *out)
{
    const char *s = *sp;
    int value = 0, digits = 0;
    while (digits < max_digits && is_digit(*s)) {
        value = value * 10 + (*s++ - '0');
        digits++;
    }
    if (digits == 0) return false;
    *sp = s;
    *out = value;
    return true;
}

/* "std"/"dst" name: 3+ letters, or 3+ of [A-Za-z0-9+-] in angle brackets. Longer
 * names than TZ_ABBREV_MAX are cut, as documented in tz.h. */
static bool parse_abbrev(const char **sp, char out[TZ_ABBREV_MAX + 1])
{
    const char *s = *sp;
    bool quoted = *s == '<';
    size_t n = 0;
    if (quoted) s++;
    for (;; s++, n++) {
        char c = *s;
        bool ok = is_alpha(c) || (quoted && (is_digit(c) || c == '+' || c == '-'));
        if (!ok) break;
        if (n < TZ_ABBREV_MAX) out[n] = c;
    }
    out[n < TZ_ABBREV_MAX ? n : TZ_ABBREV_MAX] = '\0';
    if (n < 3) return false;
    if (quoted && *s++ != '>') return false;
    *sp = s;
    return true;
}

/* [+-]h[h[h]][:mm[:ss]] with hours <= max_hours, as signed seconds. */
static bool parse_hms(const char **sp, int max_hours, int32_t *out_s)
{
    const char *s = *sp;
    int sign = 1, hours = 0, minutes = 0, seconds = 0;
    if (*s == '+' || *s == '-') sign = *s++ == '-' ? -1 : 1;
    if (!parse_number(&s, 3, &hours) || hours > max_hours) return false;
    if (*s == ':') {
        s++;
        if (!parse_number(&s, 2, &minutes) || minutes > 59) return false;
        if (*s == ':') {
            s++;
            if (!parse_number(&s, 2, &seconds) || seconds > 59) return false;
        }
    }
    *sp = s;
    *out_s = sign * (hours * 3600 + minutes * 60 + seconds);
    return true;
}

/* ",Jn[/time]", ",n[/time]" or ",Mm.w.d[/time]"; the time defaults to 02:00. */
static bool parse_rule(const char **sp, posix_rule_t *rule)
{
    const char *s = *sp;
    if (*s++ != ',') return false;
    if (*s == 'J') {
        s++;
        rule->kind = RULE_JULIAN_NO_LEAP;
        if (!parse_number(&s, 3, &rule->day) || rule->day < 1 || rule->day > 365)
            return false;
    } else if (*s == 'M') {
        s++;
        rule->kind = RULE_MONTH_WEEK_DAY;
        if (!parse_number(&s, 2, &rule->month) || rule->month < 1 || rule->month > 12 ||
            *s++ != '.' || !parse_number(&s, 1, &rule->week) || rule->week < 1 ||
            rule->week > 5 || *s++ != '.' || !parse_number(&s, 1, &rule->day) ||
            rule->day > 6)
            return false;
    } else {
        rule->kind = RULE_ZERO_BASED;
        if (!parse_number(&s, 3, &rule->day) || rule->day > 365) return false;
    }
    rule->time_s = 2 * 3600;
    if (*s == '/') {
        s++;
        if (!parse_hms(&s, MAX_RULE_HOURS, &rule->time_s)) return false;
    }
    *sp = s;
    return true;
}

/* std offset [dst [offset] [,start[/time],end[/time]]] -- the whole string. */
static bool posix_tz_parse(const char *text, posix_tz_t *tz)
{
    const char *s = text;
    int32_t posix_offset_s;
    memset(tz, 0, sizeof *tz);
    /* POSIX offsets count hours west of Greenwich: the negation of utoff. */
    if (!parse_abbrev(&s, tz->std.abbrev) ||
        !parse_hms(&s, MAX_POSIX_OFFSET_HOURS, &posix_offset_s))
        return false;
    tz->std.utoff_s = -posix_offset_s;
    tz->present = true;
    if (*s == '\0') return true;
    if (!parse_abbrev(&s, tz->dst.abbrev)) return false;
    tz->has_dst = true;
    tz->dst.is_dst = true;
    tz->dst.utoff_s = tz->std.utoff_s + 3600;
    if (*s != ',' && *s != '\0') {
        if (!parse_hms(&s, MAX_POSIX_OFFSET_HOURS, &posix_offset_s)) return false;
        tz->dst.utoff_s = -posix_offset_s;
    }
    if (*s == '\0') {
        /* No rule given: POSIX leaves it to the implementation. glibc takes the rule
         * of the posixrules file, normally America/New_York's, i.e. the US rule; we
         * use that rule without reading another file. zic never writes this form. */
        const char *us_rule = ",M3.2.0,M11.1.0";
        return parse_rule(&us_rule, &tz->start) && parse_rule(&us_rule, &tz->end);
    }
    return parse_rule(&s, &tz->start) && parse_rule(&s, &tz->end) && *s == '\0';
}

/* The local date (days since the epoch) on which a rule fires in the given year. */
static int64_t rule_day(const posix_rule_t *rule, int32_t year)
{
    int64_t jan1 = tz_days_from_civil(year, 1, 1);
    switch (rule->kind) {
    case RULE_JULIAN_NO_LEAP:
        /* Jn never counts 29 February, so J60 is always 1 March. */
        return jan1 + rule->day - 1 + (tz_is_leap_year(year) && rule->day >= 60 ? 1 : 0);
    case RULE_ZERO_BASED:
        return jan1 + rule->day;
    case RULE_MONTH_WEEK_DAY:
        break;
    }
    int64_t first = tz_days_from_civil(year, rule->month, 1);
    int mday = 1 + (rule->day - tz_weekday_of_days(first) + 7) % 7 + (rule->week - 1) * 7;
    int month_days = tz_days_in_month(year, rule->month);
    while (mday > month_days) mday -= 7; /* week 5 means the last such weekday */
    return first + mday - 1;
}

typedef struct {
    int64_t utc_s;
    bool to_dst;
} rule_event_t;

/* The footer's type at utc_s and the next instant after utc_s at which it may change
 * (INT64_MAX: never). The changes of the years around utc_s are computed and sorted,
 * rather than assuming start < end within one year: RFC 8536 rule times may run past
 * midnight or below zero and southern zones end DST before starting it. */
static void footer_lookup(const posix_tz_t *tz, int64_t utc_s, const zone_type_t **type,
                          int64_t *next_utc_s)
{
    *next_utc_s = INT64_MAX;
    if (!tz->has_dst) {
        *type = &tz->std;
        return;
    }
    int32_t year;
    int month, day;
    tz_civil_from_days(floor_div(utc_s + tz->std.utoff_s, TZ_DAY_S), &year, &month, &day);
    rule_event_t events[8];
    size_t count = 0;
    for (int32_t y = year - 1; y <= year + 2; y++) {
        /* Each change is stated in the wall clock of the time it leaves. */
        events[count++] = (rule_event_t){
            rule_day(&tz->start, y) * TZ_DAY_S + tz->start.time_s - tz->std.utoff_s, true};
        events[count++] = (rule_event_t){
            rule_day(&tz->end, y) * TZ_DAY_S + tz->end.time_s - tz->dst.utoff_s, false};
    }
    /* Insertion sort; at equal instants an end sorts before a start, so DST that ends
     * exactly when the next year's begins ("all year DST", RFC 8536 3.3.1) stays on. */
    for (size_t i = 1; i < count; i++) {
        rule_event_t e = events[i];
        size_t j = i;
        while (j > 0 && (events[j - 1].utc_s > e.utc_s ||
                         (events[j - 1].utc_s == e.utc_s && events[j - 1].to_dst && !e.to_dst))) {
            events[j] = events[j - 1];
            j--;
        }
        events[j] = e;
    }
    bool dst = !events[0].to_dst;
    for (size_t i = 0; i < count; i++) {
        if (events[i].utc_s > utc_s) {
            *next_utc_s = events[i].utc_s;
            break;
        }
        dst = events[i].to_dst;
    }
    *type = dst ? &tz->dst : &tz->std;
}

/* ---- lookup ------------------------------------------------------------------ */

/* The type in force at utc_s and the next instant at which that may change. */
static void zone_lookup(const tz_zone_t *zone, int64_t utc_s, const zone_type_t **type,
                        int64_t *next_utc_s)
{
    size_t count = zone->transition_count;
    /* at_or_before = how many transitions happened at or before utc_s */
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (zone->transitions_utc_s[mid] <= utc_s)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t at_or_before = lo;
    if (at_or_before == count && zone->footer.present) {
        footer_lookup(&zone->footer, utc_s, type, next_utc_s);
        return;
    }
    if (at_or_before == 0) {
        /* Before the first transition (or none at all): type 0, per RFC 8536. */
        *type = &zone->types[0];
        *next_utc_s = count > 0 ? zone->transitions_utc_s[0] : INT64_MAX;
        return;
    }
    *type = &zone->types[zone->transition_types[at_or_before - 1]];
    *next_utc_s = at_or_before < count ? zone->transitions_utc_s[at_or_before] : INT64_MAX;
}

void tz_local_at(const tz_zone_t *zone, int64_t utc_s, tz_local_t *out)
{
    assert(zone && out);
    const zone_type_t *type;
    int64_t next_utc_s;
    utc_s = clamp_utc(utc_s);
    zone_lookup(zone, utc_s, &type, &next_utc_s);
    int64_t local_s = utc_s + type->utoff_s;
    int64_t days = floor_div(local_s, TZ_DAY_S);
    int64_t second_of_day = local_s - days * TZ_DAY_S;
    memset(out, 0, sizeof *out);
    tz_civil_from_days(days, &out->year, &out->month, &out->day);
    out->hour = (int)(second_of_day / 3600);
    out->minute = (int)(second_of_day / 60 % 60);
    out->second = (int)(second_of_day % 60);
    out->weekday = tz_weekday_of_days(days);
    out->yday = (int)(days - tz_days_from_civil(out->year, 1, 1));
    out->utc_offset_s = type->utoff_s;
    out->is_dst = type->is_dst;
    memcpy(out->abbrev, type->abbrev, sizeof out->abbrev);
}

int32_t tz_offset_at(const tz_zone_t *zone, int64_t utc_s)
{
    assert(zone);
    const zone_type_t *type;
    int64_t next_utc_s;
    zone_lookup(zone, clamp_utc(utc_s), &type, &next_utc_s);
    return type->utoff_s;
}

int64_t tz_local_day(const tz_zone_t *zone, int64_t utc_s)
{
    utc_s = clamp_utc(utc_s);
    return floor_div(utc_s + tz_offset_at(zone, utc_s), TZ_DAY_S);
}

/* Walks the spans of constant type covering every instant that could show wall_s,
 * oldest first, so the first span containing its candidate gives the earlier of a
 * repeated wall time. If the candidate of one span lies past its end and the next
 * span's lies before its start, wall_s fell in that gap and the first candidate is
 * the "moved forward by the gap" answer. The walk ends by the window's end at the
 * latest, because past wall_s - min_utoff_s every candidate precedes its span. */
static int64_t wall_to_utc(const tz_zone_t *zone, int64_t wall_s)
{
    const zone_type_t *type;
    int64_t span_start_s = wall_s - zone->max_utoff_s;
    int64_t span_end_s;
    zone_lookup(zone, span_start_s, &type, &span_end_s);
    int64_t candidate_s = wall_s - type->utoff_s;
    for (;;) {
        if (candidate_s < span_end_s) return candidate_s;
        int64_t earlier_candidate_s = candidate_s;
        span_start_s = span_end_s;
        zone_lookup(zone, span_start_s, &type, &span_end_s);
        candidate_s = wall_s - type->utoff_s;
        if (candidate_s < span_start_s) return earlier_candidate_s;
    }
}

int tz_utc_of_local(const tz_zone_t *zone, int32_t year, int month, int day, int hour,
                    int minute, int second, int64_t *utc_s)
{
    assert(zone && utc_s);
    if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > tz_days_in_month(year, month) || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 59)
        return TZ_ERANGE;
    int64_t wall_s = tz_days_from_civil(year, month, day) * TZ_DAY_S + hour * 3600 +
                     minute * 60 + second;
    int64_t found_s = wall_to_utc(zone, wall_s);
    if (found_s < TZ_UTC_MIN_S || found_s > TZ_UTC_MAX_S) return TZ_ERANGE;
    *utc_s = found_s;
    return TZ_OK;
}

/* ---- TZif parsing ------------------------------------------------------------ */

typedef struct {
    const uint8_t *bytes;
    size_t len;
    size_t pos;
} reader_t;

/* Hands out the next n bytes, or false if the file has fewer left. */
static bool reader_take(reader_t *r, size_t n, const uint8_t **out)
{
    if (r->len - r->pos < n) return false;
    *out = r->bytes + r->pos;
    r->pos += n;
    return true;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Two's complement decoding spelled out: converting an out-of-range unsigned value
 * to a signed type is implementation-defined in C11. */
static int64_t be32_signed(const uint8_t *p)
{
    uint32_t u = be32(p);
    return u <= INT32_MAX ? (int64_t)u : (int64_t)u - INT64_C(4294967296);
}

static int64_t be64_signed(const uint8_t *p)
{
    uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
    return u <= INT64_MAX ? (int64_t)u : -(int64_t)(~u) - 1;
}

typedef struct {
    int version; /* 1, 2, 3, 4, ... */
    size_t isut_count, isstd_count, leap_count, time_count, type_count, char_count;
} header_t;

static int header_parse(reader_t *r, header_t *h)
{
    const uint8_t *p;
    if (!reader_take(r, HEADER_BYTES, &p) || memcmp(p, "TZif", 4) != 0)
        return TZ_ECORRUPT;
    if (p[4] == 0)
        h->version = 1;
    else if (p[4] >= '2' && p[4] <= '9')
        h->version = p[4] - '0';
    else
        return TZ_ECORRUPT;
    uint32_t counts[6];
    for (int i = 0; i < 6; i++) counts[i] = be32(p + 20 + 4 * i);
    h->isut_count = counts[0];
    h->isstd_count = counts[1];
    h->leap_count = counts[2];
    h->time_count = counts[3];
    h->type_count = counts[4];
    h->char_count = counts[5];
    /* Bounds first, so the size sums below cannot overflow. */
    if (h->type_count < 1 || h->type_count > TZ_MAX_TYPES || h->char_count < 1 ||
        h->char_count > TZ_MAX_ABBREV_BYTES || h->time_count > TZ_MAX_TRANSITIONS ||
        h->leap_count > MAX_LEAPS)
        return TZ_ECORRUPT;
    if ((h->isut_count != 0 && h->isut_count != h->type_count) ||
        (h->isstd_count != 0 && h->isstd_count != h->type_count))
        return TZ_ECORRUPT;
    return TZ_OK;
}

static size_t block_bytes(const header_t *h, size_t time_bytes)
{
    return h->time_count * (time_bytes + 1) + h->type_count * TYPE_RECORD_BYTES +
           h->char_count + h->leap_count * (time_bytes + 4) + h->isstd_count +
           h->isut_count;
}

static int type_parse(const uint8_t *record, const uint8_t *chars, size_t char_count,
                      zone_type_t *type)
{
    int64_t utoff_s = be32_signed(record);
    if (utoff_s < -MAX_UTOFF_S || utoff_s > MAX_UTOFF_S || record[4] > 1) return TZ_ECORRUPT;
    size_t abbrev_at = record[5];
    if (abbrev_at >= char_count) return TZ_ECORRUPT;
    const uint8_t *abbrev = chars + abbrev_at;
    const uint8_t *nul = memchr(abbrev, 0, char_count - abbrev_at);
    if (!nul) return TZ_ECORRUPT;
    size_t len = (size_t)(nul - abbrev);
    if (len > TZ_ABBREV_MAX) len = TZ_ABBREV_MAX;
    type->utoff_s = (int32_t)utoff_s;
    type->is_dst = record[4] == 1;
    memcpy(type->abbrev, abbrev, len);
    type->abbrev[len] = '\0';
    return TZ_OK;
}

/* The data block (version 1 layout with 4-byte times, version 2+ with 8-byte). */
static int block_parse(reader_t *r, const header_t *h, size_t time_bytes, tz_zone_t *zone)
{
    const uint8_t *times, *indices, *records, *chars, *rest;
    if (!reader_take(r, h->time_count * time_bytes, &times) ||
        !reader_take(r, h->time_count, &indices) ||
        !reader_take(r, h->type_count * TYPE_RECORD_BYTES, &records) ||
        !reader_take(r, h->char_count, &chars) ||
        !reader_take(r, h->leap_count * (time_bytes + 4) + h->isstd_count + h->isut_count,
                     &rest))
        return TZ_ECORRUPT;
    zone->transitions_utc_s = malloc((h->time_count + 1) * sizeof(int64_t));
    zone->transition_types = malloc(h->time_count + 1);
    zone->types = malloc(h->type_count * sizeof(zone_type_t));
    if (!zone->transitions_utc_s || !zone->transition_types || !zone->types)
        return TZ_ENOMEM;
    zone->transition_count = h->time_count;
    zone->type_count = h->type_count;
    for (size_t i = 0; i < h->time_count; i++) {
        const uint8_t *p = times + i * time_bytes;
        int64_t t = time_bytes == 8 ? be64_signed(p) : be32_signed(p);
        /* Binary search needs them strictly ascending, as RFC 8536 requires. */
        if ((i > 0 && t <= zone->transitions_utc_s[i - 1]) || indices[i] >= h->type_count)
            return TZ_ECORRUPT;
        zone->transitions_utc_s[i] = t;
        zone->transition_types[i] = indices[i];
    }
    for (size_t i = 0; i < h->type_count; i++) {
        int rc = type_parse(records + i * TYPE_RECORD_BYTES, chars, h->char_count,
                            &zone->types[i]);
        if (rc != TZ_OK) return rc;
    }
    return TZ_OK;
}

/* "\n" TZ-string "\n" after the version 2+ data block. An empty string means the
 * zone has no rule for later times and the last type simply continues. */
static int footer_parse(reader_t *r, posix_tz_t *footer)
{
    const uint8_t *newline;
    memset(footer, 0, sizeof *footer);
    if (!reader_take(r, 1, &newline) || *newline != '\n') return TZ_ECORRUPT;
    const uint8_t *start = r->bytes + r->pos;
    const uint8_t *end = memchr(start, '\n', r->len - r->pos);
    if (!end) return TZ_ECORRUPT;
    size_t len = (size_t)(end - start);
    if (len > MAX_FOOTER_BYTES || memchr(start, '\0', len)) return TZ_ECORRUPT;
    char text[MAX_FOOTER_BYTES + 1];
    memcpy(text, start, len);
    text[len] = '\0';
    r->pos += len + 1;
    if (len == 0) return TZ_OK;
    return posix_tz_parse(text, footer) ? TZ_OK : TZ_ECORRUPT;
}

static void utoff_bounds(tz_zone_t *zone)
{
    int32_t min_s = zone->types[0].utoff_s, max_s = min_s;
    for (size_t i = 1; i < zone->type_count; i++) {
        if (zone->types[i].utoff_s < min_s) min_s = zone->types[i].utoff_s;
        if (zone->types[i].utoff_s > max_s) max_s = zone->types[i].utoff_s;
    }
    if (zone->footer.present) {
        const zone_type_t *footer_types[2] = {&zone->footer.std, &zone->footer.dst};
        for (int i = 0; i < (zone->footer.has_dst ? 2 : 1); i++) {
            if (footer_types[i]->utoff_s < min_s) min_s = footer_types[i]->utoff_s;
            if (footer_types[i]->utoff_s > max_s) max_s = footer_types[i]->utoff_s;
        }
    }
    zone->min_utoff_s = min_s;
    zone->max_utoff_s = max_s;
}

/* Fills zone (allocated, zeroed) from a whole file. */
static int zone_parse(const uint8_t *bytes, size_t len, tz_zone_t *zone)
{
    reader_t r = {bytes, len, 0};
    header_t h;
    int rc = header_parse(&r, &h);
    if (rc != TZ_OK) return rc;
    if (h.version >= 2) {
        /* The version 1 block repeats the data with 32-bit times: skip it and use the
         * 64-bit block after the second header. */
        const uint8_t *skipped;
        if (!reader_take(&r, block_bytes(&h, 4), &skipped)) return TZ_ECORRUPT;
        rc = header_parse(&r, &h);
        if (rc != TZ_OK) return rc;
        if (h.version < 2) return TZ_ECORRUPT;
    }
    /* Leap records mean the timestamps count leap seconds (right/ zones). */
    if (h.leap_count > 0) return TZ_EUNSUPPORTED;
    rc = block_parse(&r, &h, h.version >= 2 ? 8 : 4, zone);
    if (rc != TZ_OK) return rc;
    if (h.version >= 2) {
        rc = footer_parse(&r, &zone->footer);
        if (rc != TZ_OK) return rc;
    }
    utoff_bounds(zone);
    return TZ_OK;
}

/* ---- files and the cache ----------------------------------------------------- */

static void zone_destroy(tz_zone_t **zone_p)
{
    assert(zone_p);
    tz_zone_t *zone = *zone_p;
    if (!zone) return;
    free(zone->transitions_utc_s);
    free(zone->transition_types);
    free(zone->types);
    free(zone);
    *zone_p = NULL;
}

static int errno_to_tz(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case ENAMETOOLONG:
        return TZ_EUNKNOWN;
    case ENOMEM:
        return TZ_ENOMEM;
    default:
        return TZ_EIO;
    }
}

/* Reads the whole file, at most TZ_MAX_FILE_BYTES. O_NONBLOCK and the regular-file
 * check keep a FIFO or device planted in the tree from blocking or feeding us. The
 * buffer is sized from fstat plus one byte, so a file growing under us (tzdata is
 * replaced by rename, never rewritten in place) shows as a full buffer: TZ_EIO. */
static int file_read(const char *path, uint8_t **bytes, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) return errno_to_tz(errno);
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return TZ_EUNKNOWN; /* a directory ("America") is not a zone */
    }
    if (st.st_size > TZ_MAX_FILE_BYTES) {
        close(fd);
        return TZ_ECORRUPT;
    }
    size_t cap = (size_t)st.st_size + 1;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return TZ_ENOMEM;
    }
    size_t used = 0;
    int rc = TZ_OK;
    while (used < cap) {
        ssize_t n = read(fd, buf + used, cap - used);
        if (n == 0) break;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            rc = TZ_EIO;
            break;
        }
        used += (size_t)n;
    }
    close(fd);
    if (rc == TZ_OK && used == cap) rc = TZ_EIO;
    if (rc != TZ_OK) {
        free(buf);
        return rc;
    }
    *bytes = buf;
    *len = used;
    return TZ_OK;
}

static int zone_load(const char *dir, const char *name, tz_zone_t **out)
{
    char path[PATH_MAX];
    int written = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (written < 0 || (size_t)written >= sizeof path) return TZ_EUNKNOWN;
    uint8_t *bytes = NULL;
    size_t len = 0;
    int rc = file_read(path, &bytes, &len);
    if (rc != TZ_OK) return rc;
    tz_zone_t *zone = calloc(1, sizeof *zone);
    if (!zone) {
        free(bytes);
        return TZ_ENOMEM;
    }
    rc = zone_parse(bytes, len, zone);
    free(bytes);
    if (rc != TZ_OK) {
        zone_destroy(&zone);
        return rc;
    }
    snprintf(zone->name, sizeof zone->name, "%s", name);
    *out = zone;
    return TZ_OK;
}

const char *tz_strerror(int code)
{
    switch (code) {
    case TZ_OK: return "ok";
    case TZ_EUNKNOWN: return "no such time zone";
    case TZ_EINVALID_NAME: return "invalid time zone name";
    case TZ_ECORRUPT: return "time zone file is corrupt or over the size limits";
    case TZ_EFULL: return "time zone cache is full";
    case TZ_ENOMEM: return "out of memory";
    case TZ_ERANGE: return "date or time out of the supported range";
    case TZ_EUNSUPPORTED: return "time zone file uses leap seconds (not supported)";
    case TZ_EIO: return "time zone file could not be read";
    default: return "unknown error";
    }
}

bool tz_name_valid(const char *name)
{
    if (!name) return false;
    size_t len = strnlen(name, TZ_MAX_NAME_LEN + 1);
    if (len == 0 || len > TZ_MAX_NAME_LEN || name[0] == '/' || name[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = is_alpha(c) || is_digit(c) || c == '/' || c == '_' || c == '+' || c == '-';
        if (!ok || (c == '/' && name[i + 1] == '/')) return false;
    }
    return true;
}

const char *tz_zone_name(const tz_zone_t *zone)
{
    assert(zone);
    return zone->name;
}

tz_cache_t *tz_cache_new(const char *zoneinfo_dir, size_t max_zones)
{
    assert(max_zones > 0);
    tz_cache_t *self = calloc(1, sizeof *self);
    if (!self) return NULL;
    self->zoneinfo_dir = strdup(zoneinfo_dir ? zoneinfo_dir : DEFAULT_ZONEINFO_DIR);
    if (!self->zoneinfo_dir) {
        free(self);
        return NULL;
    }
    self->max_zones = max_zones;
    return self;
}

void tz_cache_destroy(tz_cache_t **self_p)
{
    assert(self_p);
    tz_cache_t *self = *self_p;
    if (!self) return;
    for (size_t i = 0; i < self->zone_count; i++) zone_destroy(&self->zones[i]);
    free(self->zones);
    free(self->zoneinfo_dir);
    free(self);
    *self_p = NULL;
}

/* Binary search by name; *at is the match or the insertion point. */
static bool cache_find(const tz_cache_t *self, const char *name, size_t *at)
{
    size_t lo = 0, hi = self->zone_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int order = strcmp(self->zones[mid]->name, name);
        if (order == 0) {
            *at = mid;
            return true;
        }
        if (order < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return false;
}

static int cache_reserve(tz_cache_t *self)
{
    if (self->zone_count < self->zone_capacity) return TZ_OK;
    size_t capacity = self->zone_capacity ? self->zone_capacity * 2 : 16;
    if (capacity > self->max_zones) capacity = self->max_zones;
    tz_zone_t **zones = realloc(self->zones, capacity * sizeof *zones);
    if (!zones) return TZ_ENOMEM;
    self->zones = zones;
    self->zone_capacity = capacity;
    return TZ_OK;
}

int tz_cache_get(tz_cache_t *self, const char *name, const tz_zone_t **zone)
{
    assert(self && zone);
    if (!tz_name_valid(name)) return TZ_EINVALID_NAME;
    size_t at;
    if (cache_find(self, name, &at)) {
        *zone = self->zones[at];
        return TZ_OK;
    }
    if (self->zone_count >= self->max_zones) return TZ_EFULL;
    int rc = cache_reserve(self);
    if (rc != TZ_OK) return rc;
    tz_zone_t *loaded = NULL;
    rc = zone_load(self->zoneinfo_dir, name, &loaded);
    if (rc != TZ_OK) return rc;
    memmove(&self->zones[at + 1], &self->zones[at],
            (self->zone_count - at) * sizeof *self->zones);
    self->zones[at] = loaded;
    self->zone_count++;
    *zone = loaded;
    return TZ_OK;
}

static bool is_date_digit(char c) { return c >= '0' && c <= '9'; }
static int two_digits(const char *s) { return (s[0] - '0') * 10 + (s[1] - '0'); }

bool tz_date_parse(const char *text, int32_t year_min, int32_t year_max, int64_t *days,
                   char *why, size_t why_len)
{
    static const int digit_at[] = {0, 1, 2, 3, 5, 6, 8, 9};
    bool form_ok = text && strlen(text) == TZ_DATE_LEN && text[4] == '-' && text[7] == '-';
    for (size_t i = 0; form_ok && i < sizeof digit_at / sizeof digit_at[0]; i++)
        form_ok = is_date_digit(text[digit_at[i]]);
    if (!form_ok) {
        snprintf(why, why_len, "not a date in the form YYYY-MM-DD");
        return false;
    }
    int year = two_digits(text) * 100 + two_digits(text + 2);
    int month = two_digits(text + 5), day = two_digits(text + 8);
    if (year < year_min || year > year_max || year < 1) {
        snprintf(why, why_len, "%s: the year must be %d to %d", text, (int)year_min,
                 (int)year_max);
        return false;
    }
    if (month < 1 || month > 12) {
        snprintf(why, why_len, "%s: there is no month %02d", text, month);
        return false;
    }
    int month_days = tz_days_in_month(year, month);
    if (day < 1 || day > month_days) {
        snprintf(why, why_len, "%s is not a calendar date: %.7s has %d days", text, text,
                 month_days);
        return false;
    }
    *days = tz_days_from_civil(year, month, day);
    return true;
}

void tz_date_format(int64_t days, char out[TZ_DATE_LEN + 1])
{
    int32_t year;
    int month, day;
    tz_civil_from_days(days, &year, &month, &day);
    assert(year >= 1 && year <= 9999);
    snprintf(out, TZ_DATE_LEN + 1, "%04d-%02d-%02d", (int)year, month, day);
}
