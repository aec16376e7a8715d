/* Unit tests for shared/limitation: the jurisdiction file (and its errors with
 * file:line), which rule applies, where the period starts (latest of first missed due
 * day, last payment, acknowledgment, per `from`), calendar years across Feb 29, and the
 * first barred day. Day numbers are days since 1970-01-01, worked out in comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "limitation.h"
#include "tz.h"

static const char example[] =
    "limitation = {\n"                                                         /* 1 */
    "  default = { years = 6; from = \"last_payment_or_acknowledgment\"; };\n" /* 2 */
    "  jurisdictions = (\n"                                                    /* 3 */
    "    { name = \"GB-EAW\"; years = 6; },\n"                                 /* 4 */
    "    { name = \"US-NY\"; years = 3; },\n"                                  /* 5 */
    "    { name = \"CN\"; years = 3; },\n"                                     /* 6 */
    "    { name = \"US\"; years = 4; from = \"last_payment\"; },\n"            /* 7 */
    "    { name = \"XX-DEF\"; years = 6; from = \"default\"; }\n"              /* 8 */
    "  );\n"
    "};\n";

static limitation_rules_t rules;

static int load_example(void **state)
{
    (void)state;
    char err[256] = "";
    int rc = limitation_rules_parse(example, "<test>", &rules, err, sizeof err);
    if (rc != CONF_OK)
        fail_msg("%s", err);
    return 0;
}

static int64_t day_of(int32_t year, int month, int day)
{
    return tz_days_from_civil(year, month, day);
}

static void test_example_loads(void **state)
{
    (void)state;
    assert_true(rules.has_default);
    assert_int_equal(rules.default_rule.years, 6);
    assert_int_equal(rules.default_rule.from, LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT);
    assert_int_equal(rules.count, 5);
    assert_string_equal(rules.jurisdictions[0].name, "GB-EAW");
    /* No `from`: the default's. */
    assert_int_equal(rules.jurisdictions[1].from, LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT);
    assert_int_equal(rules.jurisdictions[3].from, LIMITATION_FROM_LAST_PAYMENT);
    assert_int_equal(rules.jurisdictions[4].from, LIMITATION_FROM_DEFAULT);
}

static void test_rule_for(void **state)
{
    (void)state;
    assert_int_equal(limitation_rule_for(&rules, "US-NY")->years, 3);   /* exact */
    assert_int_equal(limitation_rule_for(&rules, "US-CA")->years, 4);   /* country */
    assert_string_equal(limitation_rule_for(&rules, "US-CA")->name, "US");
    assert_int_equal(limitation_rule_for(&rules, "CN")->years, 3);
    assert_ptr_equal(limitation_rule_for(&rules, "FR"), &rules.default_rule);
    assert_ptr_equal(limitation_rule_for(&rules, "GB-SCT"), &rules.default_rule);
    assert_ptr_equal(limitation_rule_for(&rules, ""), &rules.default_rule);
    assert_ptr_equal(limitation_rule_for(&rules, NULL), &rules.default_rule);
    /* "U" is not "US": prefixes match whole names only. */
    assert_ptr_equal(limitation_rule_for(&rules, "U"), &rules.default_rule);
}

static void test_add_years_across_feb_29(void **state)
{
    (void)state;
    /* 2024-02-29 is day 19782. */
    assert_int_equal(day_of(2024, 2, 29), 19782);
    /* + 1 year: 2025 is common, Feb 29 -> Feb 28 = day 20147. */
    assert_int_equal(limitation_add_years(19782, 1), 20147);
    /* + 3: 2027-02-28 = day 20877. */
    assert_int_equal(limitation_add_years(19782, 3), 20877);
    /* + 4: 2028 is leap, 2028-02-29 = day 21243. */
    assert_int_equal(limitation_add_years(19782, 4), 21243);
    /* Other days keep their date: 2023-03-01 + 1 = 2024-03-01, 2023-02-28 + 1 =
     * 2024-02-28 (the leap year does not move it). */
    assert_int_equal(limitation_add_years(day_of(2023, 3, 1), 1), day_of(2024, 3, 1));
    assert_int_equal(limitation_add_years(day_of(2023, 2, 28), 1), day_of(2024, 2, 28));
    assert_int_equal(limitation_add_years(day_of(2000, 2, 29), 100), day_of(2100, 2, 28));
    assert_int_equal(limitation_add_years(day_of(2000, 2, 29), 0), day_of(2000, 2, 29));
}

static void check(const char *jurisdiction, int64_t payment, int64_t ack, int64_t dflt,
                  int64_t today, bool want_barred, int64_t want_since)
{
    bool barred = !want_barred;
    int64_t since = 12345;
    assert_int_equal(limitation_is_time_barred(&rules, jurisdiction, payment, ack, dflt, today,
                                               &barred, &since),
                     LIMITATION_OK);
    assert_int_equal(barred, want_barred);
    assert_int_equal(since, want_since);
}

static void test_leap_day_start(void **state)
{
    (void)state;
    const int64_t none = LIMITATION_DAY_NONE;
    /* US-NY, 3 years from a first missed due day of 2024-02-29 (19782): the period
     * ends 2027-02-28 (20877), the debt is barred from 2027-03-01 (20878). */
    check("US-NY", none, none, 19782, 20877, false, 20878);
    check("US-NY", none, none, 19782, 20878, true, 20878);
    /* US-CA falls to US, 4 years: ends 2028-02-29 (21243), barred from 2028-03-01
     * (21244). */
    check("US-CA", none, none, 19782, 21243, false, 21244);
    check("US-CA", none, none, 19782, 21244, true, 21244);
}

static void test_period_start_is_the_latest(void **state)
{
    (void)state;
    const int64_t none = LIMITATION_DAY_NONE;
    const int64_t missed = day_of(2020, 1, 10), paid = day_of(2021, 5, 5),
                  acknowledged = day_of(2022, 7, 7);
    /* GB-EAW, 6 years, last payment or acknowledgment: from 2022-07-07, ends
     * 2028-07-07, barred from 2028-07-08. */
    check("GB-EAW", paid, acknowledged, missed, day_of(2028, 7, 7), false, day_of(2028, 7, 8));
    check("GB-EAW", paid, acknowledged, missed, day_of(2028, 7, 8), true, day_of(2028, 7, 8));
    /* US (last_payment), 4 years: the acknowledgment does not count; from 2021-05-05,
     * barred from 2025-05-06. */
    check("US-TX", paid, acknowledged, missed, day_of(2026, 1, 1), true, day_of(2025, 5, 6));
    /* XX-DEF (default only), 6 years: from 2020-01-10, barred from 2026-01-11. */
    check("XX-DEF", paid, acknowledged, missed, day_of(2026, 1, 10), false, day_of(2026, 1, 11));
    check("XX-DEF", paid, acknowledged, missed, day_of(2026, 1, 11), true, day_of(2026, 1, 11));
    /* A payment before the default does not move the start back: CN, 3 years from
     * 2020-01-10, barred from 2023-01-11. */
    check("CN", day_of(2019, 12, 1), none, missed, day_of(2023, 1, 11), true,
          day_of(2023, 1, 11));
    /* Nothing ever missed: nothing to bar. */
    check("CN", paid, none, none, day_of(2090, 1, 1), false, none);
}

static void test_bad_calls(void **state)
{
    (void)state;
    bool barred = true;
    int64_t since = 7;
    assert_int_equal(limitation_is_time_barred(&rules, "CN", LIMITATION_DAY_MAX + 1,
                                               LIMITATION_DAY_NONE, 0, 100, &barred, &since),
                     LIMITATION_EINVALID);
    assert_int_equal(limitation_is_time_barred(&rules, "CN", LIMITATION_DAY_NONE,
                                               LIMITATION_DAY_NONE, 0, LIMITATION_DAY_NONE,
                                               &barred, &since),
                     LIMITATION_EINVALID);
    assert_true(barred);
    assert_int_equal(since, 7);

    /* Without a default an unknown jurisdiction is an error, never "not barred". */
    limitation_rules_t only;
    char err[256] = "";
    assert_int_equal(limitation_rules_parse("limitation = { jurisdictions = ( { name = \"CN\"; "
                                            "years = 3; } ); };",
                                            "<t>", &only, err, sizeof err),
                     CONF_OK);
    assert_int_equal(limitation_is_time_barred(&only, "FR", LIMITATION_DAY_NONE,
                                               LIMITATION_DAY_NONE, 0, 100, &barred, &since),
                     LIMITATION_EUNKNOWN);
    assert_null(limitation_rule_for(&only, "FR"));
    assert_string_equal(limitation_strerror(LIMITATION_EUNKNOWN),
                        "no limitation rule for the jurisdiction and no default");
}

/* Parses text and expects code, with want (file:line and why) inside the message. */
static void refused(const char *text, int code, const char *want)
{
    limitation_rules_t r;
    char err[256] = "";
    assert_int_equal(limitation_rules_parse(text, "<bad>", &r, err, sizeof err), code);
    if (!strstr(err, want))
        fail_msg("wanted \"%s\" in \"%s\"", want, err);
}

static void test_bad_files_refused(void **state)
{
    (void)state;
    refused("limitation = {\n default = { years = 0; };\n};", CONF_ERANGE,
            "<bad>:2: limitation.default.years must be between 1 and 100, got 0");
    refused("limitation = {\n default = { yeras = 6; };\n};", CONF_EUNKNOWN_KEY, "<bad>:2:");
    refused("limitation = {\n default = { from = \"default\"; };\n};", CONF_ETYPE,
            "<bad>:2: limitation.default.years is required (1 to 100)");
    refused("limitation = {\n default = { years = 6; from = \"whenever\"; };\n};", CONF_ERANGE,
            "<bad>:2: limitation.default.from");
    refused("limitation = {\n jurisdictions = (\n  { name = \"CN\"; years = 3; },\n"
            "  { name = \"CN\"; years = 2; }\n );\n};",
            CONF_ERANGE,
            "<bad>:4: limitation.jurisdictions.[1].name \"CN\" is already used by entry 0");
    refused("limitation = {\n jurisdictions = (\n  { name = \"C N\"; years = 3; }\n );\n};",
            CONF_ERANGE, "<bad>:3: limitation.jurisdictions.[0].name must be 1 to 32");
    refused("limitation = {\n jurisdictions = (\n  { years = 3; }\n );\n};", CONF_ETYPE,
            "<bad>:3: limitation.jurisdictions.[0].name is required");
    refused("limitation = {\n jurisdictions = 3;\n};", CONF_ETYPE,
            "<bad>:2: limitation.jurisdictions must be a list");
    refused("limitation = {\n};", CONF_ERANGE,
            "limitation needs a default or at least one jurisdiction");
    refused("other = 1;", CONF_EUNKNOWN_KEY, "<bad>:1:");
    refused("limitation = { default = { years = 6; }; };\nextra = 1;", CONF_EUNKNOWN_KEY,
            "<bad>:2:");
    refused("# nothing here\n", CONF_ETYPE, "`limitation` is required");
    refused("limitation = {\n default = { years = 6 \n};", CONF_ESYNTAX, "<bad>:");
    refused("limitation = {\n default = { years = \"six\"; };\n};", CONF_ETYPE, "<bad>:2:");
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_limitation_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, example, sizeof example - 1), (ssize_t)(sizeof example - 1));
    close(fd);
    limitation_rules_t r;
    char err[256] = "";
    assert_int_equal(limitation_rules_load(path, &r, err, sizeof err), CONF_OK);
    assert_int_equal(r.count, 5);
    unlink(path);
    assert_int_equal(limitation_rules_load(path, &r, err, sizeof err), CONF_EIO);
    assert_non_null(strstr(err, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_rule_for),
        cmocka_unit_test(test_add_years_across_feb_29),
        cmocka_unit_test(test_leap_day_start),
        cmocka_unit_test(test_period_start_is_the_latest),
        cmocka_unit_test(test_bad_calls),
        cmocka_unit_test(test_bad_files_refused),
        cmocka_unit_test(test_load_file),
    };
    return cmocka_run_group_tests(tests, load_example, NULL);
}
