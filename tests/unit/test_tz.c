/* test_tz: the time zone module against hand-checked cases, hostile files, and glibc.
 *
 * The known cases pin down the behaviour a borrower sees (DST changes, half- and
 * quarter-hour zones, the date line, far-future rules, the repeated and the skipped
 * hour). Truncated and mutated copies of real files check the parser never reads out
 * of bounds (run under ASan). Then every installed zone is compared with glibc's
 * localtime_r, which reads the same files by an independent implementation: at every
 * transition 1970..2037 (-1 s, at, +1 s), at every change glibc shows while sweeping
 * 1970..2060 every 3 days 7 hours, and at each sampled instant, with a wall time ->
 * UTC round trip. ARREARS_TZ_SOAK=1 sweeps every hour of 1900..2100 instead (long).
 *
 * Only this test touches TZ/tzset: that is the global, non-thread-safe machinery the
 * module exists to avoid. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tz.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define ZONEINFO "/usr/share/zoneinfo"
#define MAX_ZONE_FILES 4096
#define MAX_PRINTED_MISMATCHES 20
#define MAX_FILE_BYTES (256 * 1024)

/* ---- helpers ------------------------------------------------------------------ */

static int64_t utc_of(int32_t year, int month, int day, int hour, int minute, int second)
{
    return tz_days_from_civil(year, month, day) * TZ_DAY_S + hour * 3600 + minute * 60 +
           second;
}

typedef struct {
    int32_t year;
    int month, day, hour, minute, second, weekday, yday;
    int32_t offset_s;
    bool is_dst;
    const char *abbrev;
} expected_t;

static void expect_local(const tz_zone_t *zone, int64_t utc_s, expected_t want)
{
    tz_local_t got;
    tz_local_at(zone, utc_s, &got);
    if (got.year != want.year || got.month != want.month || got.day != want.day ||
        got.hour != want.hour || got.minute != want.minute || got.second != want.second ||
        (want.weekday >= 0 && got.weekday != want.weekday) ||
        (want.yday >= 0 && got.yday != want.yday) || got.utc_offset_s != want.offset_s ||
        got.is_dst != want.is_dst || strcmp(got.abbrev, want.abbrev) != 0) {
        print_error("%s at %" PRId64 ": got %04d-%02d-%02d %02d:%02d:%02d wday %d yday %d "
                    "%d dst %d %s, want %04d-%02d-%02d %02d:%02d:%02d wday %d yday %d %d "
                    "dst %d %s\n",
                    tz_zone_name(zone), utc_s, (int)got.year, got.month, got.day, got.hour,
                    got.minute, got.second, got.weekday, got.yday, (int)got.utc_offset_s,
                    got.is_dst, got.abbrev, (int)want.year, want.month, want.day,
                    want.hour, want.minute, want.second, want.weekday, want.yday,
                    (int)want.offset_s, want.is_dst, want.abbrev);
        fail();
    }
    assert_int_equal(tz_offset_at(zone, utc_s), want.offset_s);
    assert_int_equal(tz_local_day(zone, utc_s),
                     tz_days_from_civil(want.year, want.month, want.day));
}

static void expect_utc_of_local(const tz_zone_t *zone, int32_t year, int month, int day,
                                int hour, int minute, int second, int64_t want_utc_s)
{
    int64_t got_utc_s = 0;
    assert_int_equal(tz_utc_of_local(zone, year, month, day, hour, minute, second,
                                     &got_utc_s),
                     TZ_OK);
    if (got_utc_s != want_utc_s) {
        print_error("%s %04d-%02d-%02d %02d:%02d:%02d: got utc %" PRId64 ", want %" PRId64
                    "\n",
                    tz_zone_name(zone), (int)year, month, day, hour, minute, second,
                    got_utc_s, want_utc_s);
        fail();
    }
}

static const tz_zone_t *get_zone(tz_cache_t *cache, const char *name)
{
    const tz_zone_t *zone = NULL;
    int rc = tz_cache_get(cache, name, &zone);
    if (rc != TZ_OK) print_error("%s: %s\n", name, tz_strerror(rc));
    assert_int_equal(rc, TZ_OK);
    assert_non_null(zone);
    return zone;
}

static int cache_setup(void **state)
{
    *state = tz_cache_new(NULL, 64);
    return *state ? 0 : -1;
}

static int cache_teardown(void **state)
{
    tz_cache_t *cache = *state;
    tz_cache_destroy(&cache);
    return 0;
}

static char temp_dir[256];

static void write_file(const char *path, const uint8_t *bytes, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static size_t read_whole(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t len = fread(buf, 1, cap, f);
    fclose(f);
    return len;
}

static int temp_setup(void **state)
{
    (void)state;
    const char *tmp = getenv("TMPDIR");
    snprintf(temp_dir, sizeof temp_dir, "%s/arrears-tz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    return mkdtemp(temp_dir) ? 0 : -1;
}

static int temp_teardown(void **state)
{
    (void)state;
    DIR *dir = opendir(temp_dir);
    if (!dir) return -1;
    struct dirent *entry;
    char path[1024];
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", temp_dir, entry->d_name);
        unlink(path);
    }
    closedir(dir);
    return rmdir(temp_dir);
}

/* ---- the calendar ------------------------------------------------------------- */

static void test_calendar(void **state)
{
    (void)state;
    assert_int_equal(tz_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(tz_days_from_civil(2000, 3, 1), 11017);
    assert_int_equal(tz_days_from_civil(1969, 12, 31), -1);
    assert_int_equal(tz_days_from_civil(1, 1, 1), -719162);
    assert_int_equal(tz_weekday_of_days(0), 4);                                /* Thu */
    assert_int_equal(tz_weekday_of_days(tz_days_from_civil(2026, 3, 8)), 0);   /* Sun */
    assert_int_equal(tz_weekday_of_days(tz_days_from_civil(1969, 12, 28)), 0); /* Sun */
    assert_true(tz_weekday_of_days(INT64_MIN) >= 0 && tz_weekday_of_days(INT64_MAX) <= 6);
    assert_true(tz_is_leap_year(2000) && tz_is_leap_year(2024) && !tz_is_leap_year(1900) &&
                !tz_is_leap_year(2100));
    assert_int_equal(tz_days_in_month(2100, 2), 28);
    assert_int_equal(tz_days_in_month(2400, 2), 29);
    /* Days past the month's end count on: handy for "due date + 1". */
    assert_int_equal(tz_days_from_civil(2026, 1, 32), tz_days_from_civil(2026, 2, 1));
    assert_int_equal(tz_days_from_civil(2024, 3, 0), tz_days_from_civil(2024, 2, 29));
    /* Against glibc's timegm and a day-by-day walk, 1600..2400 and around year 0. */
    int32_t year = 1600;
    int month = 1, day = 1;
    for (int64_t days = tz_days_from_civil(1600, 1, 1); days < tz_days_from_civil(2400, 1, 1);
         days++) {
        int32_t y;
        int m, d;
        tz_civil_from_days(days, &y, &m, &d);
        assert_true(y == year && m == month && d == day);
        assert_int_equal(tz_days_from_civil(y, m, d), days);
        struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d};
        assert_int_equal((int64_t)timegm(&tm), days * TZ_DAY_S);
        assert_int_equal(tm.tm_wday, tz_weekday_of_days(days));
        if (++day > tz_days_in_month(year, month)) {
            day = 1;
            if (++month > 12) month = 1, year++;
        }
    }
    for (int64_t days = -800000; days < -700000; days++) {
        int32_t y;
        int m, d;
        tz_civil_from_days(days, &y, &m, &d);
        assert_int_equal(tz_days_from_civil(y, m, d), days);
    }
}

/* ---- names and the cache ------------------------------------------------------ */

static void test_name_valid(void **state)
{
    (void)state;
    const char *good[] = {"America/New_York", "UTC", "Etc/GMT+5", "Etc/GMT-14",
                          "America/Argentina/ComodRivadavia", "America/Port-au-Prince"};
    const char *bad[] = {"", "..", "../etc/passwd", "/etc/passwd", "America/../UTC",
                         "America//New_York", "America/", "/UTC", "Europe/London ",
                         "Europe\\London", "zone.tab", "Asia/Kolkata\n", "UTC;rm",
                         "America/New_York\xc3\xa9"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) assert_true(tz_name_valid(good[i]));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (tz_name_valid(bad[i])) print_error("accepted \"%s\"\n", bad[i]);
        assert_false(tz_name_valid(bad[i]));
    }
    assert_false(tz_name_valid(NULL));
    char name[TZ_MAX_NAME_LEN + 2];
    memset(name, 'A', sizeof name);
    name[TZ_MAX_NAME_LEN] = '\0';
    assert_true(tz_name_valid(name));
    name[TZ_MAX_NAME_LEN] = 'A';
    name[TZ_MAX_NAME_LEN + 1] = '\0';
    assert_false(tz_name_valid(name));
}

static void test_errors(void **state)
{
    tz_cache_t *cache = *state;
    const tz_zone_t *zone = NULL;
    assert_int_equal(tz_cache_get(cache, "Mars/Olympus_Mons", &zone), TZ_EUNKNOWN);
    assert_int_equal(tz_cache_get(cache, "America", &zone), TZ_EUNKNOWN); /* a directory */
    assert_int_equal(tz_cache_get(cache, "../../etc/passwd", &zone), TZ_EINVALID_NAME);
    assert_int_equal(tz_cache_get(cache, "zone1970.tab", &zone), TZ_EINVALID_NAME);
    assert_int_equal(tz_cache_get(cache, "leapseconds", &zone), TZ_ECORRUPT); /* text */
    if (access(ZONEINFO "/right/America/New_York", R_OK) == 0)
        assert_int_equal(tz_cache_get(cache, "right/America/New_York", &zone),
                         TZ_EUNSUPPORTED);
    assert_null(zone);
    const int codes[] = {TZ_OK, TZ_EUNKNOWN, TZ_EINVALID_NAME, TZ_ECORRUPT, TZ_EFULL,
                         TZ_ENOMEM, TZ_ERANGE, TZ_EUNSUPPORTED, TZ_EIO};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        assert_string_not_equal(tz_strerror(codes[i]), "unknown error");
    assert_string_equal(tz_strerror(12345), "unknown error");
    assert_int_equal(TZ_EUNKNOWN, -31001);
}

static void test_cache(void **state)
{
    (void)state;
    tz_cache_t *cache = tz_cache_new(NULL, 2);
    assert_non_null(cache);
    const tz_zone_t *first = get_zone(cache, "Europe/London");
    const tz_zone_t *again = get_zone(cache, "Europe/London");
    assert_ptr_equal(first, again);
    assert_string_equal(tz_zone_name(first), "Europe/London");
    const tz_zone_t *other = get_zone(cache, "Asia/Tokyo");
    assert_ptr_not_equal(first, other);
    const tz_zone_t *zone = NULL;
    assert_int_equal(tz_cache_get(cache, "America/New_York", &zone), TZ_EFULL);
    assert_null(zone);
    /* Cached zones are still served when full, and failures take no slot. */
    assert_ptr_equal(get_zone(cache, "Asia/Tokyo"), other);
    tz_cache_destroy(&cache);
    assert_null(cache);
    tz_cache_destroy(&cache);

    cache = tz_cache_new(NULL, 1);
    assert_int_equal(tz_cache_get(cache, "No/Such_Zone", &zone), TZ_EUNKNOWN);
    get_zone(cache, "UTC");
    tz_cache_destroy(&cache);
}

/* ---- known cases ---------------------------------------------------------------- */

static void test_new_york(void **state)
{
    const tz_zone_t *ny = get_zone(*state, "America/New_York");
    /* 2026-03-08: 02:00 EST becomes 03:00 EDT at 07:00 UTC. */
    expect_local(ny, utc_of(2026, 3, 8, 6, 59, 59),
                 (expected_t){2026, 3, 8, 1, 59, 59, 0, 66, -18000, false, "EST"});
    expect_local(ny, utc_of(2026, 3, 8, 7, 0, 0),
                 (expected_t){2026, 3, 8, 3, 0, 0, 0, 66, -14400, true, "EDT"});
    /* 2026-11-01: 02:00 EDT becomes 01:00 EST at 06:00 UTC. */
    expect_local(ny, utc_of(2026, 11, 1, 5, 59, 59),
                 (expected_t){2026, 11, 1, 1, 59, 59, 0, 304, -14400, true, "EDT"});
    expect_local(ny, utc_of(2026, 11, 1, 6, 0, 0),
                 (expected_t){2026, 11, 1, 1, 0, 0, 0, 304, -18000, false, "EST"});
    /* The skipped hour moves forward by the gap: 02:30 -> 03:30 EDT. */
    expect_utc_of_local(ny, 2026, 3, 8, 2, 30, 0, utc_of(2026, 3, 8, 7, 30, 0));
    expect_utc_of_local(ny, 2026, 3, 8, 2, 0, 0, utc_of(2026, 3, 8, 7, 0, 0));
    expect_utc_of_local(ny, 2026, 3, 8, 1, 59, 59, utc_of(2026, 3, 8, 6, 59, 59));
    expect_utc_of_local(ny, 2026, 3, 8, 3, 0, 0, utc_of(2026, 3, 8, 7, 0, 0));
    /* The repeated hour gives the earlier instant (still EDT). */
    expect_utc_of_local(ny, 2026, 11, 1, 1, 30, 0, utc_of(2026, 11, 1, 5, 30, 0));
    expect_utc_of_local(ny, 2026, 11, 1, 0, 59, 59, utc_of(2026, 11, 1, 4, 59, 59));
    expect_utc_of_local(ny, 2026, 11, 1, 2, 0, 0, utc_of(2026, 11, 1, 7, 0, 0));
    /* "08:00 local tomorrow" on the day after the change. */
    expect_utc_of_local(ny, 2026, 11, 2, 8, 0, 0, utc_of(2026, 11, 2, 13, 0, 0));
}

/* The documented gap rule is glibc mktime's with tm_isdst = -1. (Not the repeated
 * hour: there glibc's pick depends on its previous call, so we fix the earlier.) */
static void test_gap_matches_mktime(void **state)
{
    const tz_zone_t *ny = get_zone(*state, "America/New_York");
    setenv("TZ", ":America/New_York", 1);
    tzset();
    const int cases[][6] = {{2026, 3, 8, 2, 30, 0}, {2026, 3, 8, 2, 0, 0},
                            {2026, 3, 8, 2, 59, 59}, {2026, 7, 1, 8, 0, 0},
                            {2026, 11, 1, 2, 30, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const int *c = cases[i];
        struct tm tm = {.tm_year = c[0] - 1900, .tm_mon = c[1] - 1, .tm_mday = c[2],
                        .tm_hour = c[3], .tm_min = c[4], .tm_sec = c[5], .tm_isdst = -1};
        int64_t ours_s = 0;
        assert_int_equal(tz_utc_of_local(ny, c[0], c[1], c[2], c[3], c[4], c[5], &ours_s),
                         TZ_OK);
        assert_int_equal(ours_s, (int64_t)mktime(&tm));
    }
    unsetenv("TZ");
    tzset();
}

static void test_europe_london(void **state)
{
    const tz_zone_t *london = get_zone(*state, "Europe/London");
    expect_local(london, utc_of(2026, 3, 29, 0, 59, 59),
                 (expected_t){2026, 3, 29, 0, 59, 59, 0, 87, 0, false, "GMT"});
    expect_local(london, utc_of(2026, 3, 29, 1, 0, 0),
                 (expected_t){2026, 3, 29, 2, 0, 0, 0, 87, 3600, true, "BST"});
    expect_local(london, utc_of(2026, 10, 25, 0, 59, 59),
                 (expected_t){2026, 10, 25, 1, 59, 59, 0, 297, 3600, true, "BST"});
    expect_local(london, utc_of(2026, 10, 25, 1, 0, 0),
                 (expected_t){2026, 10, 25, 1, 0, 0, 0, 297, 0, false, "GMT"});
    expect_utc_of_local(london, 2026, 3, 29, 1, 30, 0, utc_of(2026, 3, 29, 1, 30, 0));
    expect_utc_of_local(london, 2026, 10, 25, 1, 30, 0, utc_of(2026, 10, 25, 0, 30, 0));
}

static void test_half_and_quarter_hours(void **state)
{
    tz_cache_t *cache = *state;
    const tz_zone_t *kolkata = get_zone(cache, "Asia/Kolkata");
    /* 20:00 UTC on the 15th is already the 16th for the borrower. */
    expect_local(kolkata, utc_of(2026, 1, 15, 20, 0, 0),
                 (expected_t){2026, 1, 16, 1, 30, 0, 5, 15, 19800, false, "IST"});
    const tz_zone_t *kathmandu = get_zone(cache, "Asia/Kathmandu");
    expect_local(kathmandu, utc_of(2026, 6, 1, 0, 0, 0),
                 (expected_t){2026, 6, 1, 5, 45, 0, 1, 151, 20700, false, "+0545"});
    expect_utc_of_local(kathmandu, 2026, 6, 1, 0, 0, 0, utc_of(2026, 5, 31, 18, 15, 0));

    /* Lord Howe: +10:30 standard, +11 summer; the clocks move 30 minutes. */
    const tz_zone_t *lord_howe = get_zone(cache, "Australia/Lord_Howe");
    expect_local(lord_howe, utc_of(2026, 4, 4, 14, 59, 59),
                 (expected_t){2026, 4, 5, 1, 59, 59, 0, 94, 39600, true, "+11"});
    expect_local(lord_howe, utc_of(2026, 4, 4, 15, 0, 0),
                 (expected_t){2026, 4, 5, 1, 30, 0, 0, 94, 37800, false, "+1030"});
    expect_local(lord_howe, utc_of(2026, 10, 3, 15, 29, 59),
                 (expected_t){2026, 10, 4, 1, 59, 59, 0, 276, 37800, false, "+1030"});
    expect_local(lord_howe, utc_of(2026, 10, 3, 15, 30, 0),
                 (expected_t){2026, 10, 4, 2, 30, 0, 0, 276, 39600, true, "+11"});
    expect_utc_of_local(lord_howe, 2026, 10, 4, 2, 15, 0, utc_of(2026, 10, 3, 15, 45, 0));
    expect_utc_of_local(lord_howe, 2026, 4, 5, 1, 45, 0, utc_of(2026, 4, 4, 14, 45, 0));
}

static void test_date_line(void **state)
{
    tz_cache_t *cache = *state;
    const tz_zone_t *kiritimati = get_zone(cache, "Pacific/Kiritimati");
    expect_local(kiritimati, utc_of(2026, 6, 1, 10, 0, 0),
                 (expected_t){2026, 6, 2, 0, 0, 0, 2, 152, 50400, false, "+14"});
    /* Samoa skipped Friday 2011-12-30 entirely, from -10 (DST) to +14 (DST). */
    const tz_zone_t *apia = get_zone(cache, "Pacific/Apia");
    expect_local(apia, utc_of(2011, 12, 30, 9, 59, 59),
                 (expected_t){2011, 12, 29, 23, 59, 59, 4, 362, -36000, true, "-10"});
    expect_local(apia, utc_of(2011, 12, 30, 10, 0, 0),
                 (expected_t){2011, 12, 31, 0, 0, 0, 6, 364, 50400, true, "+14"});
    /* A wall time on the missing day moves forward by the whole day. */
    expect_utc_of_local(apia, 2011, 12, 30, 12, 0, 0, utc_of(2011, 12, 30, 22, 0, 0));
    expect_utc_of_local(apia, 2011, 12, 31, 12, 0, 0, utc_of(2011, 12, 30, 22, 0, 0));
    expect_utc_of_local(apia, 2011, 12, 29, 12, 0, 0, utc_of(2011, 12, 29, 22, 0, 0));
}

static void test_local_day(void **state)
{
    tz_cache_t *cache = *state;
    const tz_zone_t *ny = get_zone(cache, "America/New_York");
    const tz_zone_t *kiritimati = get_zone(cache, "Pacific/Kiritimati");
    int64_t instant_s = utc_of(2026, 1, 15, 3, 0, 0);
    int64_t utc_day = tz_days_from_civil(2026, 1, 15);
    assert_int_equal(tz_local_day(ny, instant_s), utc_day - 1);
    assert_int_equal(tz_local_day(kiritimati, instant_s), utc_day);
    assert_int_equal(tz_local_day(kiritimati, utc_of(2026, 1, 15, 12, 0, 0)), utc_day + 1);
    /* Days past due: a payment due on the 14th, local, is 1 day late at 23:59 local. */
    int64_t due_day = tz_days_from_civil(2026, 1, 14);
    assert_int_equal(tz_local_day(ny, utc_of(2026, 1, 16, 4, 59, 59)) - due_day, 1);
    assert_int_equal(tz_local_day(ny, utc_of(2026, 1, 16, 5, 0, 0)) - due_day, 2);
    /* Clamped, never undefined, at the ends of int64. */
    tz_local_t local;
    tz_local_at(ny, INT64_MAX, &local);
    assert_true(local.year == 9999);
    tz_local_at(kiritimati, INT64_MIN, &local); /* LMT -10:29:20 in year 1 */
    assert_true(local.year == 0 && local.month == 12 && local.day == 31);
    (void)tz_local_day(kiritimati, INT64_MAX);
    (void)tz_local_day(ny, INT64_MIN);
}

static void test_far_future(void **state)
{
    const tz_zone_t *ny = get_zone(*state, "America/New_York");
    /* Past the table's end (2037): the footer rule, second Sunday of March = the 14th. */
    expect_local(ny, utc_of(2100, 3, 14, 6, 59, 59),
                 (expected_t){2100, 3, 14, 1, 59, 59, 0, 72, -18000, false, "EST"});
    expect_local(ny, utc_of(2100, 3, 14, 7, 0, 0),
                 (expected_t){2100, 3, 14, 3, 0, 0, 0, 72, -14400, true, "EDT"});
    expect_local(ny, utc_of(2100, 7, 4, 12, 0, 0),
                 (expected_t){2100, 7, 4, 8, 0, 0, 0, 184, -14400, true, "EDT"});
    expect_local(ny, utc_of(2100, 11, 7, 6, 0, 0),
                 (expected_t){2100, 11, 7, 1, 0, 0, 0, 310, -18000, false, "EST"});
    expect_utc_of_local(ny, 2100, 3, 14, 2, 30, 0, utc_of(2100, 3, 14, 7, 30, 0));
    expect_utc_of_local(ny, 2100, 11, 7, 1, 30, 0, utc_of(2100, 11, 7, 5, 30, 0));
    expect_utc_of_local(ny, 9999, 12, 31, 12, 0, 0, utc_of(9999, 12, 31, 17, 0, 0));
}

static void test_utc_of_local_range(void **state)
{
    const tz_zone_t *ny = get_zone(*state, "America/New_York");
    const tz_zone_t *kolkata = get_zone(*state, "Asia/Kolkata");
    int64_t utc_s = 42;
    assert_int_equal(tz_utc_of_local(ny, 2026, 13, 1, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 0, 1, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 2, 29, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 4, 31, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 1, 1, 24, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 1, 1, 0, 60, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 1, 1, 0, 0, 60, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 2026, 1, 1, -1, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 0, 1, 1, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 10000, 1, 1, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(tz_utc_of_local(ny, 9999, 12, 31, 23, 0, 0, &utc_s), TZ_ERANGE);
    /* Kolkata's LMT (+5:53:28) puts midnight of 0001-01-01 in year 0 UTC. */
    assert_int_equal(tz_utc_of_local(kolkata, 1, 1, 1, 0, 0, 0, &utc_s), TZ_ERANGE);
    assert_int_equal(utc_s, 42);
    assert_int_equal(tz_utc_of_local(ny, 2024, 2, 29, 0, 0, 0, &utc_s), TZ_OK);
}

/* ---- synthetic TZif files ------------------------------------------------------- */

typedef struct {
    int32_t utoff_s;
    uint8_t is_dst;
    const char *abbrev;
} syn_type_t;

typedef struct {
    uint8_t *p;
    size_t len;
} buf_t;

static void put_u32(buf_t *b, uint32_t v)
{
    for (int i = 3; i >= 0; i--) b->p[b->len++] = (uint8_t)(v >> (8 * i));
}

static void put_header(buf_t *b, char version, uint32_t times, uint32_t types, uint32_t chars)
{
    memcpy(b->p + b->len, "TZif", 4);
    b->p[b->len + 4] = (uint8_t)version;
    memset(b->p + b->len + 5, 0, 15);
    b->len += 20;
    put_u32(b, 0), put_u32(b, 0), put_u32(b, 0); /* isut, isstd, leap */
    put_u32(b, times), put_u32(b, types), put_u32(b, chars);
}

static void put_data(buf_t *b, size_t time_bytes, const int64_t *times_s,
                     const uint8_t *indices, size_t n, const syn_type_t *types, size_t ntypes)
{
    for (size_t i = 0; i < n; i++) {
        if (time_bytes == 8) put_u32(b, (uint32_t)((uint64_t)times_s[i] >> 32));
        put_u32(b, (uint32_t)(uint64_t)times_s[i]);
    }
    if (n > 0) memcpy(b->p + b->len, indices, n);
    b->len += n;
    size_t abbrev_at = 0;
    for (size_t i = 0; i < ntypes; i++) {
        put_u32(b, (uint32_t)types[i].utoff_s);
        b->p[b->len++] = types[i].is_dst;
        b->p[b->len++] = (uint8_t)abbrev_at;
        abbrev_at += strlen(types[i].abbrev) + 1;
    }
    for (size_t i = 0; i < ntypes; i++) {
        size_t len = strlen(types[i].abbrev) + 1;
        memcpy(b->p + b->len, types[i].abbrev, len);
        b->len += len;
    }
}

/* A TZif file; version '\0' writes only the 32-bit block, else both and the footer. */
static size_t build_tzif(uint8_t *out, char version, const int64_t *times_s,
                         const uint8_t *indices, size_t n, const syn_type_t *types,
                         size_t ntypes, const char *footer)
{
    buf_t b = {out, 0};
    uint32_t chars = 0;
    for (size_t i = 0; i < ntypes; i++) chars += (uint32_t)strlen(types[i].abbrev) + 1;
    put_header(&b, version, (uint32_t)n, (uint32_t)ntypes, chars);
    put_data(&b, 4, times_s, indices, n, types, ntypes);
    if (version == '\0') return b.len;
    put_header(&b, version, (uint32_t)n, (uint32_t)ntypes, chars);
    put_data(&b, 8, times_s, indices, n, types, ntypes);
    size_t footer_len = strlen(footer);
    b.p[b.len++] = '\n';
    memcpy(b.p + b.len, footer, footer_len);
    b.len += footer_len;
    b.p[b.len++] = '\n';
    return b.len;
}

/* Writes a zone under the temp dir and loads it with a fresh cache. */
static int load_bytes(const uint8_t *bytes, size_t len, const char *name, tz_cache_t **cache,
                      const tz_zone_t **zone)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    /* A fresh inode each time: truncating a file whose pages are still being written
     * back makes the kernel wait for them, which dominated this test's run time. */
    unlink(path);
    write_file(path, bytes, len);
    *cache = tz_cache_new(temp_dir, 4);
    assert_non_null(*cache);
    return tz_cache_get(*cache, name, zone);
}

/* Each footer gets its own file name: glibc skips re-reading a TZ file whose inode and
 * mtime look unchanged, and a rewrite within the same second would fool it. */
static int load_footer_zone(const char *name, const char *footer, tz_cache_t **cache,
                            const tz_zone_t **zone)
{
    static const syn_type_t types[] = {{0, 0, "LMT"}, {-18000, 0, "STD"}};
    const int64_t times_s[] = {-2208988800}; /* 1900-01-01: the footer rules after that */
    const uint8_t indices[] = {1};
    uint8_t file[1024];
    size_t len = build_tzif(file, '2', times_s, indices, 1, types, 2, footer);
    return load_bytes(file, len, name, cache, zone);
}

typedef struct {
    long comparisons;
    long round_trips;
    long mismatches;
    long table_transitions; /* listed in the file, 1970..2037, each checked 3 times */
    long found_changes;     /* found by bisecting glibc during sweeps */
} stats_t;

/* What glibc says is in force: offset, DST flag, abbreviation. */
typedef struct {
    long gmtoff;
    int isdst;
    char zone[16];
} glibc_state_t;

static glibc_state_t compare_at(const tz_zone_t *zone, const char *label, int64_t utc_s,
                                stats_t *st);
static void sweep_zone(const tz_zone_t *zone, const char *label, int64_t from_s, int64_t to_s,
                       int64_t step_s, stats_t *st);

/* Footer forms not all in today's tzdata, each checked against glibc reading the same
 * file: Julian Jn and zero-based n days, negative and >24 h rule times, southern
 * hemisphere rules, offsets with minutes and seconds. */
static void test_footer_forms_vs_glibc(void **state)
{
    (void)state;
    const char *footers[] = {
        "EST5EDT,M3.2.0,M11.1.0",      "XXX3YYY,J60/2,J300/2",      "XXX3YYY,59/2,299/2",
        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
        "EET-2EEST,M3.4.4/50,M10.4.4/50", "AAA-10BBB,M10.1.0,M4.1.0/3",
        "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", "IST-1GMT0,M10.5.0,M3.5.0/1",
        "<-06>6<-05>,M9.1.6/22,M4.1.6/22", "ABC-5:45:30", "<+0330>-3:30",
        "AAA3BBB2,M2.5.0/-167,M10.5.0/167", "UTC0", "ABC+11DEF+9,M1.1.1/12,M12.5.6/12"};
    stats_t st = {0};
    for (size_t i = 0; i < sizeof footers / sizeof *footers; i++) {
        tz_cache_t *cache = NULL;
        const tz_zone_t *zone = NULL;
        char name[32], tz_env[1024];
        snprintf(name, sizeof name, "Footer%zu", i);
        int rc = load_footer_zone(name, footers[i], &cache, &zone);
        if (rc != TZ_OK) print_error("footer \"%s\": %s\n", footers[i], tz_strerror(rc));
        assert_int_equal(rc, TZ_OK);
        snprintf(tz_env, sizeof tz_env, ":%s/%s", temp_dir, name);
        setenv("TZ", tz_env, 1);
        tzset();
        sweep_zone(zone, footers[i], utc_of(1990, 1, 1, 0, 0, 0), utc_of(2040, 1, 1, 0, 0, 0),
                   5 * 3600 + 13 * 60, &st);
        tz_cache_destroy(&cache);
    }
    unsetenv("TZ");
    tzset();
    assert_int_equal(st.mismatches, 0);
}

/* Cases glibc cannot referee: it evaluates a footer rule for the UTC year only, so
 * changes that fall in a different UTC year than local year come out late ("all
 * year" DST, DST from Jan 1 east of Greenwich); and it fetches a missing rule from the
 * posixrules file. Expected values by hand. */
static void test_footer_special_cases(void **state)
{
    (void)state;
    tz_cache_t *cache = NULL;
    const tz_zone_t *zone = NULL;
    /* RFC 8536 3.3.1 all-year DST: starts Jan 1 00:00, ends Dec 31 24:00 + 1 h. */
    assert_int_equal(load_footer_zone("Special", "EST5EDT,0/0,J365/25", &cache, &zone), TZ_OK);
    for (int32_t year = 2025; year <= 2027; year++) {
        assert_int_equal(tz_offset_at(zone, utc_of(year, 1, 1, 0, 0, 0)), -14400);
        assert_int_equal(tz_offset_at(zone, utc_of(year, 1, 1, 4, 59, 59)), -14400);
        assert_int_equal(tz_offset_at(zone, utc_of(year, 1, 1, 5, 0, 0)), -14400);
        assert_int_equal(tz_offset_at(zone, utc_of(year, 7, 1, 0, 0, 0)), -14400);
        assert_int_equal(tz_offset_at(zone, utc_of(year, 12, 31, 23, 0, 0)), -14400);
    }
    tz_cache_destroy(&cache);
    /* DST from Jan 1 00:00 local (+3), i.e. 21:00 UTC on Dec 31: glibc evaluates the
     * UTC year's rule and starts it 3 hours late. POSIX and RFC 8536 mean local. */
    assert_int_equal(load_footer_zone("Special2", "XXX-3YYY,J1/0,J365/23", &cache, &zone),
                     TZ_OK);
    expect_local(zone, utc_of(1990, 12, 31, 20, 59, 59),
                 (expected_t){1990, 12, 31, 23, 59, 59, 1, 364, 10800, false, "XXX"});
    expect_local(zone, utc_of(1990, 12, 31, 21, 0, 0),
                 (expected_t){1991, 1, 1, 1, 0, 0, 2, 0, 14400, true, "YYY"});
    expect_local(zone, utc_of(1991, 12, 31, 18, 59, 59),
                 (expected_t){1991, 12, 31, 22, 59, 59, 2, 364, 14400, true, "YYY"});
    expect_local(zone, utc_of(1991, 12, 31, 19, 0, 0),
                 (expected_t){1991, 12, 31, 22, 0, 0, 2, 364, 10800, false, "XXX"});
    expect_utc_of_local(zone, 1991, 1, 1, 0, 30, 0, utc_of(1990, 12, 31, 21, 30, 0));
    expect_utc_of_local(zone, 1991, 12, 31, 22, 30, 0, utc_of(1991, 12, 31, 18, 30, 0));
    tz_cache_destroy(&cache);
    /* A DST name without a rule: the US rule, as in glibc. */
    assert_int_equal(load_footer_zone("Special", "EST5EDT", &cache, &zone), TZ_OK);
    expect_local(zone, utc_of(2026, 3, 8, 7, 0, 0),
                 (expected_t){2026, 3, 8, 3, 0, 0, 0, 66, -14400, true, "EDT"});
    expect_local(zone, utc_of(2026, 11, 1, 6, 0, 0),
                 (expected_t){2026, 11, 1, 1, 0, 0, 0, 304, -18000, false, "EST"});
    tz_cache_destroy(&cache);
    /* An empty footer: the last type continues. */
    assert_int_equal(load_footer_zone("Special", "", &cache, &zone), TZ_OK);
    expect_local(zone, utc_of(2200, 7, 1, 0, 0, 0),
                 (expected_t){2200, 6, 30, 19, 0, 0, -1, -1, -18000, false, "STD"});
    tz_cache_destroy(&cache);
    /* Without transitions the footer governs all time (RFC 8536 3.2). */
    static const syn_type_t types[] = {{-18000, 0, "EST"}};
    uint8_t file[512];
    size_t len = build_tzif(file, '3', NULL, NULL, 0, types, 1, "EST5EDT,M3.2.0,M11.1.0");
    assert_int_equal(load_bytes(file, len, "NoTransitions", &cache, &zone), TZ_OK);
    assert_int_equal(tz_offset_at(zone, utc_of(1950, 7, 1, 0, 0, 0)), -14400);
    assert_int_equal(tz_offset_at(zone, utc_of(1950, 1, 1, 0, 0, 0)), -18000);
    tz_cache_destroy(&cache);
}

static void test_bad_footers(void **state)
{
    (void)state;
    const char *bad[] = {"EST",  "ES5", "5",   "EST5EDT,M3.2.0",     "EST5EDT,M13.1.0,M11.1.0",
                         "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0", "EST5EDT,J0,J300",
                         "EST5EDT,366,300", "EST5EDT,M3.2.0/168,M11.1.0", "<AB>5", "<ABC5",
                         "EST25", "EST5EDT,M3.2.0,M11.1.0x", "EST5:60", "EST5EDT,,",
                         "EST5EDT4,", "EST 5", "<A\001BC>5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        tz_cache_t *cache = NULL;
        const tz_zone_t *zone = NULL;
        int rc = load_footer_zone("Bad", bad[i], &cache, &zone);
        if (rc != TZ_ECORRUPT) print_error("footer \"%s\" gave %d\n", bad[i], rc);
        assert_int_equal(rc, TZ_ECORRUPT);
        tz_cache_destroy(&cache);
    }
}

/* A version 1 file (32-bit times, no footer): the last type continues forever. */
static void test_version1_file(void **state)
{
    (void)state;
    static const syn_type_t types[] = {{-17762, 0, "LMT"}, {-18000, 0, "EST"},
                                       {-14400, 1, "EDT"}};
    const int64_t times_s[] = {utc_of(1920, 1, 1, 5, 0, 0), utc_of(1990, 4, 1, 7, 0, 0),
                               utc_of(1990, 10, 28, 6, 0, 0), utc_of(2000, 4, 2, 7, 0, 0)};
    const uint8_t indices[] = {1, 2, 1, 2};
    uint8_t file[512];
    size_t len = build_tzif(file, '\0', times_s, indices, 4, types, 3, "");
    tz_cache_t *cache = NULL;
    const tz_zone_t *zone = NULL;
    assert_int_equal(load_bytes(file, len, "Version1", &cache, &zone), TZ_OK);
    char tz_env[1024];
    snprintf(tz_env, sizeof tz_env, ":%s/Version1", temp_dir);
    setenv("TZ", tz_env, 1);
    tzset();
    stats_t st = {0};
    sweep_zone(zone, "Version1", utc_of(1850, 1, 1, 0, 0, 0), utc_of(2050, 1, 1, 0, 0, 0),
               86400 + 3600, &st);
    for (size_t i = 0; i < 4; i++) {
        compare_at(zone, "Version1", times_s[i] - 1, &st);
        compare_at(zone, "Version1", times_s[i], &st);
    }
    unsetenv("TZ");
    tzset();
    assert_int_equal(st.mismatches, 0);
    expect_local(zone, utc_of(2030, 1, 1, 0, 0, 0),
                 (expected_t){2029, 12, 31, 20, 0, 0, 1, 364, -14400, true, "EDT"});
    tz_cache_destroy(&cache);
}

/* ---- hostile files -------------------------------------------------------------- */

/* Uses a zone that loaded from damaged bytes, so ASan sees every lookup path. */
static void exercise(const tz_zone_t *zone)
{
    static const int64_t instants_s[] = {INT64_MIN, -4000000000, -1, 0, 1700000000,
                                         2200000000, 4102444800, INT64_MAX};
    for (size_t i = 0; i < sizeof instants_s / sizeof *instants_s; i++) {
        tz_local_t local;
        tz_local_at(zone, instants_s[i], &local);
        assert_true(local.month >= 1 && local.month <= 12 && local.hour >= 0 &&
                    local.hour < 24 && strlen(local.abbrev) <= TZ_ABBREV_MAX);
        (void)tz_local_day(zone, instants_s[i]);
    }
    int64_t utc_s;
    (void)tz_utc_of_local(zone, 2026, 3, 8, 2, 30, 0, &utc_s);
    (void)tz_utc_of_local(zone, 1900, 1, 1, 0, 0, 0, &utc_s);
    (void)tz_utc_of_local(zone, 2100, 11, 7, 1, 30, 0, &utc_s);
}

static void truncate_every_length(const char *name)
{
    static uint8_t original[MAX_FILE_BYTES];
    char path[1024];
    snprintf(path, sizeof path, ZONEINFO "/%s", name);
    size_t len = read_whole(path, original, sizeof original);
    assert_true(len > 44);
    for (size_t cut = 0; cut <= len; cut++) {
        tz_cache_t *cache = NULL;
        const tz_zone_t *zone = NULL;
        int rc = load_bytes(original, cut, "Truncated", &cache, &zone);
        if (cut < len) {
            /* Every proper prefix misses at least the footer's final newline. */
            if (rc != TZ_ECORRUPT) print_error("%s cut at %zu: %d\n", name, cut, rc);
            assert_int_equal(rc, TZ_ECORRUPT);
        } else {
            assert_int_equal(rc, TZ_OK);
            exercise(zone);
        }
        tz_cache_destroy(&cache);
    }
}

static void test_truncated_files(void **state)
{
    (void)state;
    truncate_every_length("America/New_York");
    truncate_every_length("Australia/Lord_Howe");
    truncate_every_length("America/Nuuk"); /* version 3: negative rule times */
}

/* Every byte of a real file set to values that break counts, indices, offsets, flags
 * and the footer. Whatever loads must answer queries without faults. */
static void test_mutated_bytes(void **state)
{
    (void)state;
    static uint8_t original[MAX_FILE_BYTES], mutated[MAX_FILE_BYTES];
    size_t len = read_whole(ZONEINFO "/Australia/Lord_Howe", original, sizeof original);
    assert_true(len > 44);
    long loaded = 0, refused = 0;
    for (size_t at = 0; at < len; at++) {
        const uint8_t values[] = {0x00, 0xff, 0x7f, (uint8_t)(original[at] ^ 0x01),
                                  (uint8_t)(original[at] + 1), '\n', '-'};
        for (size_t v = 0; v < sizeof values; v++) {
            memcpy(mutated, original, len);
            mutated[at] = values[v];
            tz_cache_t *cache = NULL;
            const tz_zone_t *zone = NULL;
            int rc = load_bytes(mutated, len, "Mutated", &cache, &zone);
            if (rc == TZ_OK) {
                exercise(zone);
                loaded++;
            } else {
                assert_true(rc == TZ_ECORRUPT || rc == TZ_EUNSUPPORTED);
                refused++;
            }
            tz_cache_destroy(&cache);
        }
    }
    printf("tz: mutated %zu bytes x 7 values: %ld loaded, %ld refused\n", len, loaded,
           refused);
}

/* Counts far beyond the limits, and a huge file. */
static void test_limits(void **state)
{
    (void)state;
    static const syn_type_t types[] = {{0, 0, "UTC"}};
    uint8_t file[512];
    size_t len = build_tzif(file, '2', NULL, NULL, 0, types, 1, "UTC0");
    /* 2nd header's timecnt = 0xffffffff: must be refused, not allocated. */
    size_t second_header = 44 + 6 + 4;
    file[second_header + 32] = file[second_header + 33] = 0xff;
    file[second_header + 34] = file[second_header + 35] = 0xff;
    tz_cache_t *cache = NULL;
    const tz_zone_t *zone = NULL;
    assert_int_equal(load_bytes(file, len, "Limits", &cache, &zone), TZ_ECORRUPT);
    tz_cache_destroy(&cache);
    static uint8_t big[MAX_FILE_BYTES + 2];
    len = build_tzif(big, '2', NULL, NULL, 0, types, 1, "UTC0");
    memset(big + len, '\n', sizeof big - len);
    assert_int_equal(load_bytes(big, sizeof big, "Limits", &cache, &zone), TZ_ECORRUPT);
    tz_cache_destroy(&cache);
}

/* ---- every installed zone against glibc ----------------------------------------- */

static void format_tm(char *out, size_t cap, const struct tm *tm)
{
    snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d wday %d yday %d off %ld dst %d %s",
             tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday, tm->tm_hour, tm->tm_min,
             tm->tm_sec, tm->tm_wday, tm->tm_yday, tm->tm_gmtoff, tm->tm_isdst,
             tm->tm_zone ? tm->tm_zone : "(null)");
}

static void format_local(char *out, size_t cap, const tz_local_t *l)
{
    snprintf(out, cap, "%04d-%02d-%02d %02d:%02d:%02d wday %d yday %d off %d dst %d %s",
             (int)l->year, l->month, l->day, l->hour, l->minute, l->second, l->weekday,
             l->yday, (int)l->utc_offset_s, l->is_dst, l->abbrev);
}

static void report(stats_t *st, const char *label, int64_t utc_s, const char *what,
                   const char *ours, const char *theirs)
{
    if (st->mismatches++ >= MAX_PRINTED_MISMATCHES) return;
    print_error("MISMATCH %s at utc_s %" PRId64 " (%s)\n  ours:  %s\n  glibc: %s\n", label,
                utc_s, what, ours, theirs);
}

static bool same_wall(const tz_local_t *a, const tz_local_t *b)
{
    return a->year == b->year && a->month == b->month && a->day == b->day &&
           a->hour == b->hour && a->minute == b->minute && a->second == b->second;
}

/* The wall time at utc_s must map back to utc_s, or (a repeated wall time) to an
 * earlier instant showing the same wall time, which glibc must confirm too. */
static void check_round_trip(const tz_zone_t *zone, const char *label, int64_t utc_s,
                             const tz_local_t *local, stats_t *st)
{
    int64_t back_s = 0;
    st->round_trips++;
    int rc = tz_utc_of_local(zone, local->year, local->month, local->day, local->hour,
                             local->minute, local->second, &back_s);
    char ours[160], theirs[160];
    format_local(ours, sizeof ours, local);
    if (rc != TZ_OK) {
        report(st, label, utc_s, "round trip failed", ours, tz_strerror(rc));
        return;
    }
    if (back_s == utc_s) return;
    tz_local_t again;
    tz_local_at(zone, back_s, &again);
    struct tm tm;
    time_t t = (time_t)back_s;
    localtime_r(&t, &tm);
    bool glibc_same = tm.tm_year + 1900 == local->year && tm.tm_mon + 1 == local->month &&
                      tm.tm_mday == local->day && tm.tm_hour == local->hour &&
                      tm.tm_min == local->minute && tm.tm_sec == local->second;
    if (back_s > utc_s || !same_wall(&again, local) || !glibc_same) {
        snprintf(theirs, sizeof theirs, "tz_utc_of_local gave %" PRId64, back_s);
        report(st, label, utc_s, "round trip", ours, theirs);
    }
}

/* Copied by hand: this runs millions of times and snprintf showed in the profile. */
static glibc_state_t state_of(const struct tm *tm)
{
    glibc_state_t s = {tm->tm_gmtoff, tm->tm_isdst, ""};
    for (size_t i = 0; tm->tm_zone && tm->tm_zone[i] && i + 1 < sizeof s.zone; i++)
        s.zone[i] = tm->tm_zone[i];
    return s;
}

static glibc_state_t glibc_state_at(int64_t utc_s)
{
    struct tm tm;
    time_t t = (time_t)utc_s;
    glibc_state_t none = {0, -1, ""};
    return localtime_r(&t, &tm) ? state_of(&tm) : none;
}

static bool same_state(glibc_state_t a, glibc_state_t b)
{
    return a.gmtoff == b.gmtoff && a.isdst == b.isdst && strcmp(a.zone, b.zone) == 0;
}

/* Compares every field with glibc at utc_s, checks the wall time's round trip, and
 * returns glibc's state there for the caller's change detection. */
static glibc_state_t compare_at(const tz_zone_t *zone, const char *label, int64_t utc_s,
                                stats_t *st)
{
    tz_local_t ours;
    tz_local_at(zone, utc_s, &ours);
    check_round_trip(zone, label, utc_s, &ours, st);
    struct tm tm;
    time_t t = (time_t)utc_s;
    st->comparisons++;
    char ours_text[160], theirs_text[160];
    if (!localtime_r(&t, &tm)) {
        format_local(ours_text, sizeof ours_text, &ours);
        report(st, label, utc_s, "localtime_r failed", ours_text, "");
        return glibc_state_at(utc_s);
    }
    bool same = tm.tm_year + 1900 == ours.year && tm.tm_mon + 1 == ours.month &&
                tm.tm_mday == ours.day && tm.tm_hour == ours.hour &&
                tm.tm_min == ours.minute && tm.tm_sec == ours.second &&
                tm.tm_wday == ours.weekday && tm.tm_yday == ours.yday &&
                tm.tm_gmtoff == ours.utc_offset_s && (tm.tm_isdst > 0) == ours.is_dst &&
                tm.tm_zone && strcmp(tm.tm_zone, ours.abbrev) == 0;
    same = same && tz_offset_at(zone, utc_s) == ours.utc_offset_s &&
           tz_local_day(zone, utc_s) == tz_days_from_civil(ours.year, ours.month, ours.day);
    if (!same) {
        format_local(ours_text, sizeof ours_text, &ours);
        format_tm(theirs_text, sizeof theirs_text, &tm);
        report(st, label, utc_s, "local time", ours_text, theirs_text);
    }
    return state_of(&tm);
}

/* Samples [from_s, to_s) every step_s; where glibc's offset, DST flag or abbreviation
 * changes between two samples, bisects with glibc alone to the first second of the
 * new state and compares there and one second either side. That reaches the changes
 * glibc derives from the footer, which no table lists. */
static void sweep_zone(const tz_zone_t *zone, const char *label, int64_t from_s, int64_t to_s,
                       int64_t step_s, stats_t *st)
{
    glibc_state_t previous = glibc_state_at(from_s);
    for (int64_t utc_s = from_s; utc_s < to_s; utc_s += step_s) {
        glibc_state_t now = compare_at(zone, label, utc_s, st);
        if (!same_state(now, previous) && utc_s > from_s) {
            int64_t lo_s = utc_s - step_s, hi_s = utc_s; /* lo: old state, hi: new */
            st->found_changes++;
            while (hi_s - lo_s > 1) {
                int64_t mid_s = lo_s + (hi_s - lo_s) / 2;
                if (same_state(glibc_state_at(mid_s), previous))
                    lo_s = mid_s;
                else
                    hi_s = mid_s;
            }
            for (int64_t d = -1; d <= 1; d++) compare_at(zone, label, hi_s + d, st);
        }
        previous = now;
    }
}

/* The transition times straight from the file's 64-bit block, read independently of
 * the module (these are trusted system files). Returns the count. */
static size_t file_transitions(const char *path, int64_t *out_s, size_t cap)
{
    static uint8_t bytes[MAX_FILE_BYTES];
    size_t len = read_whole(path, bytes, sizeof bytes);
    if (len < 44 || memcmp(bytes, "TZif", 4) != 0 || bytes[4] < '2') return 0;
    uint32_t c[6];
    for (int i = 0; i < 6; i++) {
        const uint8_t *p = bytes + 20 + 4 * i;
        c[i] = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    }
    size_t v1 = (size_t)c[3] * 5 + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0];
    const uint8_t *h2 = bytes + 44 + v1;
    assert_true(44 + v1 + 44 <= len);
    size_t count = (size_t)h2[32] << 24 | (size_t)h2[33] << 16 | (size_t)h2[34] << 8 | h2[35];
    assert_true(count <= cap && 44 + v1 + 44 + count * 8 <= len);
    for (size_t i = 0; i < count; i++) {
        uint64_t u = 0;
        for (int k = 0; k < 8; k++) u = u << 8 | h2[44 + i * 8 + k];
        out_s[i] = (int64_t)u;
    }
    return count;
}

typedef struct {
    char *names[MAX_ZONE_FILES];
    size_t count;
} zone_list_t;

static bool is_tzif(const char *path)
{
    uint8_t magic[4];
    return read_whole(path, magic, sizeof magic) == 4 && memcmp(magic, "TZif", 4) == 0;
}

/* Every TZif file under ZONEINFO/relative, following symlinked files (aliases such as
 * US/Eastern) but not symlinked directories, and leaving out right/ (leap seconds)
 * and posix/ (copies). */
static void list_zones(const char *relative, zone_list_t *list)
{
    char dir_path[512];
    snprintf(dir_path, sizeof dir_path, "%s%s%s", ZONEINFO, *relative ? "/" : "", relative);
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    struct dirent *entry;
    while ((entry = readdir(dir)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        char name[512], path[1024];
        snprintf(name, sizeof name, "%s%s%s", relative, *relative ? "/" : "", entry->d_name);
        if (strcmp(name, "right") == 0 || strcmp(name, "posix") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", ZONEINFO, name);
        struct stat link_st, st;
        if (lstat(path, &link_st) != 0 || stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (!S_ISLNK(link_st.st_mode)) list_zones(name, list);
        } else if (S_ISREG(st.st_mode) && is_tzif(path)) {
            assert_true(list->count < MAX_ZONE_FILES);
            list->names[list->count++] = strdup(name);
        }
    }
    closedir(dir);
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void compare_zone(tz_cache_t *cache, const char *name, bool soak, stats_t *st)
{
    const tz_zone_t *zone = get_zone(cache, name);
    assert_true(tz_name_valid(name));
    char tz_env[1024];
    snprintf(tz_env, sizeof tz_env, ":%s", name);
    setenv("TZ", tz_env, 1);
    tzset();
    static int64_t transitions_s[4096];
    char path[512];
    snprintf(path, sizeof path, ZONEINFO "/%s", name);
    size_t count = file_transitions(path, transitions_s, 4096);
    const int64_t from_s = utc_of(1970, 1, 1, 0, 0, 0), to_s = utc_of(2037, 1, 1, 0, 0, 0);
    for (size_t i = 0; i < count; i++) {
        if (transitions_s[i] < from_s || transitions_s[i] >= to_s) continue;
        st->table_transitions++;
        for (int64_t d = -1; d <= 1; d++) compare_at(zone, name, transitions_s[i] + d, st);
    }
    if (soak)
        sweep_zone(zone, name, utc_of(1900, 1, 1, 0, 0, 0), utc_of(2100, 1, 1, 0, 0, 0), 3600,
                   st);
    else
        sweep_zone(zone, name, from_s, utc_of(2060, 1, 1, 0, 0, 0), 3 * 86400 + 7 * 3600, st);
}

static void test_all_zones_vs_glibc(void **state)
{
    (void)state;
    const char *soak_env = getenv("ARREARS_TZ_SOAK");
    bool soak = soak_env && strcmp(soak_env, "1") == 0;
    unsetenv("TZDIR"); /* glibc must read the same tree as the module */
    static zone_list_t list;
    list.count = 0;
    list_zones("", &list);
    qsort(list.names, list.count, sizeof *list.names, compare_names);
    assert_true(list.count > 300);
    tz_cache_t *cache = tz_cache_new(NULL, MAX_ZONE_FILES);
    assert_non_null(cache);
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    stats_t st = {0};
    for (size_t i = 0; i < list.count; i++) compare_zone(cache, list.names[i], soak, &st);
    clock_gettime(CLOCK_MONOTONIC, &end);
    long elapsed_ms = (long)(end.tv_sec - start.tv_sec) * 1000 +
                      (end.tv_nsec - start.tv_nsec) / 1000000;
    printf("tz: %zu zones (%s), %ld comparisons with localtime_r, %ld round trips, "
           "%ld table transitions and %ld changes found by bisection checked at -1/0/+1 s, "
           "%ld mismatches, %ld ms\n",
           list.count, soak ? "soak: hourly 1900..2100" : "every 3d7h 1970..2060",
           st.comparisons, st.round_trips, st.table_transitions, st.found_changes,
           st.mismatches, elapsed_ms);
    for (size_t i = 0; i < list.count; i++) free(list.names[i]);
    tz_cache_destroy(&cache);
    unsetenv("TZ");
    tzset();
    assert_int_equal(st.mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest known[] = {
        cmocka_unit_test(test_calendar),
        cmocka_unit_test(test_name_valid),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_new_york),
        cmocka_unit_test(test_gap_matches_mktime),
        cmocka_unit_test(test_europe_london),
        cmocka_unit_test(test_half_and_quarter_hours),
        cmocka_unit_test(test_date_line),
        cmocka_unit_test(test_local_day),
        cmocka_unit_test(test_far_future),
        cmocka_unit_test(test_utc_of_local_range),
    };
    const struct CMUnitTest files[] = {
        cmocka_unit_test(test_footer_forms_vs_glibc),
        cmocka_unit_test(test_footer_special_cases),
        cmocka_unit_test(test_bad_footers),
        cmocka_unit_test(test_version1_file),
        cmocka_unit_test(test_truncated_files),
        cmocka_unit_test(test_mutated_bytes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_all_zones_vs_glibc),
    };
    int failed = cmocka_run_group_tests_name("tz known cases", known, cache_setup,
                                             cache_teardown);
    failed += cmocka_run_group_tests_name("tz files and glibc", files, temp_setup,
                                          temp_teardown);
    return failed;
}
