/* test_retention: the retention rule (retention.h) — which jurisdiction's days apply and
 * the first day erasure is due — and the `retention` group of staging's configuration
 * (config.c), accepted and refused with file:line.
 *
 * Days are day numbers: 20454 is 2026-01-01. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "retention.h"
#include "stage.h"

#define CLOSED 20454   /* 2026-01-01 */

/* UK 6 years, China 5, US 7, New York its own 3; a default of 6 (examples). */
static retention_rules_t rules(bool with_default)
{
    retention_rules_t r = {.has_default = with_default, .default_days = 2190, .count = 4};
    r.jurisdictions[0] = (retention_rule_t){"GB", 2190};
    r.jurisdictions[1] = (retention_rule_t){"CN", 1826};
    r.jurisdictions[2] = (retention_rule_t){"US", 2557};
    r.jurisdictions[3] = (retention_rule_t){"US-NY", 1095};
    return r;
}

static void day_before_and_day(void **state)
{
    (void)state;
    retention_rules_t r = rules(true);
    int32_t days = 0;
    assert_false(retention_due(&r, "CN", CLOSED, CLOSED + 1825, &days));
    assert_true(retention_due(&r, "CN", CLOSED, CLOSED + 1826, &days));
    assert_int_equal(days, 1826);
    assert_true(retention_due(&r, "CN", CLOSED, CLOSED + 5000, NULL));
    assert_false(retention_due(&r, "GB", CLOSED, CLOSED + 2189, NULL));
    assert_true(retention_due(&r, "GB", CLOSED, CLOSED + 2190, NULL));
    assert_false(retention_due(&r, "US", CLOSED, CLOSED + 2556, NULL));
    assert_true(retention_due(&r, "US", CLOSED, CLOSED + 2557, NULL));
}

/* A region has its own rule, or falls back to its country's. */
static void region_then_country(void **state)
{
    (void)state;
    retention_rules_t r = rules(true);
    int32_t days = 0;
    assert_true(retention_days_for(&r, "US-NY", &days));
    assert_int_equal(days, 1095);
    assert_true(retention_days_for(&r, "US-CA", &days));
    assert_int_equal(days, 2557);
    assert_true(retention_days_for(&r, "GB-SCT", &days));
    assert_int_equal(days, 2190);
}

/* A country without a rule, and an account without a jurisdiction, take the default. */
static void the_default(void **state)
{
    (void)state;
    retention_rules_t r = rules(true);
    r.default_days = 3650;
    int32_t days = 0;
    assert_true(retention_days_for(&r, "JP", &days));
    assert_int_equal(days, 3650);
    assert_true(retention_days_for(&r, "", &days));
    assert_int_equal(days, 3650);
    assert_false(retention_due(&r, "JP", CLOSED, CLOSED + 3649, NULL));
    assert_true(retention_due(&r, "JP", CLOSED, CLOSED + 3650, &days));
    assert_true(retention_due(&r, NULL, CLOSED, CLOSED + 3650, NULL));
}

/* No rule applies: never due, however long ago it closed. */
static void unknown_jurisdiction(void **state)
{
    (void)state;
    retention_rules_t r = rules(false);
    int32_t days = -1;
    assert_false(retention_days_for(&r, "JP", &days));
    assert_false(retention_due(&r, "JP", CLOSED, CLOSED + 100000, &days));
    assert_int_equal(days, -1);   /* untouched */
    assert_false(retention_due(&r, "", CLOSED, CLOSED + 100000, NULL));
    assert_false(retention_due(&r, "-", CLOSED, CLOSED + 100000, NULL));
    assert_false(retention_due(NULL, "GB", CLOSED, CLOSED + 100000, NULL));
    retention_rules_t none = {0};
    assert_false(retention_due(&none, "GB", CLOSED, CLOSED + 100000, NULL));
}

/* Never closed, or a closing day near the end of the range: no wrap into "due". */
static void edges(void **state)
{
    (void)state;
    retention_rules_t r = rules(true);
    assert_false(retention_due(&r, "GB", STAGE_NO_DAY, CLOSED, NULL));
    assert_false(retention_due(&r, "GB", INT32_MAX - 10, INT32_MAX, NULL));
    assert_false(retention_due(&r, "GB", CLOSED, CLOSED - 1, NULL));   /* closed "tomorrow" */
}

/* ---------------------------------------------------------------- configuration */

/* What staging's configuration requires besides (files named, never opened here). */
static const char BASE[] =
    "data_dir = \"/tmp/unused\";\n"
    "keys = { own = \"k/staging.key\"; allowed = \"k/allowed\"; secret = \"k/staging.secret\"; };\n"
    "listen = \"ipc:///tmp/unused.sock\";\n"
    "strategy = \"strategy.conf\";\n"
    "limitation = \"limitation.conf\";\n"
    "outreach = { endpoint = \"ipc:///tmp/o\"; public_key = \"k/o.pub\"; };\n"
    "legal = { endpoint = \"ipc:///tmp/l\"; public_key = \"k/l.pub\"; };\n"
    "sale = { endpoint = \"ipc:///tmp/s\"; public_key = \"k/s.pub\"; };\n"
    "intake = { endpoint = \"ipc:///tmp/i\"; public_key = \"k/i.pub\"; };\n";

/* Loads extra then BASE (so extra's lines count from 1) from a temporary file; err gets
 * the message. */
static int load(const char *extra, staging_config_t *cfg, char *err, size_t len)
{
    char path[] = "/tmp/t_retentionXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fprintf(f, "%s%s", extra, BASE);
    fclose(f);
    memset(cfg, 0, sizeof *cfg);
    err[0] = '\0';
    int rc = staging_config_load(path, cfg, err, len);
    unlink(path);
    return rc;
}

static void config_accepted(void **state)
{
    (void)state;
    static staging_config_t cfg;
    char err[512];
    int rc = load("", &cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("the base configuration: %s", err);
    assert_false(cfg.retention.has_default);
    assert_int_equal(cfg.retention.count, 0);
    rc = load("retention = { default_days = 2190; jurisdictions = (\n"
              "  { country = \"GB\"; days = 2190; },\n"
              "  { country = \"CN\"; days = 1826; },\n"
              "  { country = \"US\"; days = 2557; } ); };\n", &cfg, err, sizeof err);
    assert_int_equal(rc, 0);
    assert_true(cfg.retention.has_default);
    assert_int_equal(cfg.retention.default_days, 2190);
    assert_int_equal(cfg.retention.count, 3);
    assert_string_equal(cfg.retention.jurisdictions[1].country, "CN");
    assert_int_equal(cfg.retention.jurisdictions[2].days, 2557);
    rc = load("retention = { jurisdictions = ( { country = \"GB\"; days = 1; } ); };\n", &cfg, err,
              sizeof err);
    assert_int_equal(rc, 0);
    assert_false(cfg.retention.has_default);
}

/* services/staging/retention.example.conf, as staging's file would hold it, loads
 * (found from this file's path: tests/unit/staging/ -> services/staging/). */
static void config_example(void **state)
{
    (void)state;
    static staging_config_t cfg;
    static char text[8192];
    char path[1024], err[512];
    const char *at = strstr(__FILE__, "tests/unit/staging/");
    if (!at)
        skip();   /* no way to the source tree from here */
    snprintf(path, sizeof path, "%.*sservices/staging/retention.example.conf",
             (int)(at - __FILE__), __FILE__);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    size_t n = fread(text, 1, sizeof text - 1, in);
    fclose(in);
    text[n] = '\0';
    int rc = load(text, &cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    int32_t days = 0;
    assert_true(retention_days_for(&cfg.retention, "GB", &days));
    assert_int_equal(days, 2190);
    assert_true(retention_days_for(&cfg.retention, "CN", &days));
    assert_int_equal(days, 1826);
    assert_true(retention_days_for(&cfg.retention, "US-NY", &days));
    assert_int_equal(days, 2557);
    assert_true(retention_days_for(&cfg.retention, "FR", &days));
    assert_int_equal(days, 2190);
}

/* Each refused, at its line where it has one. */
static void config_refused(void **state)
{
    (void)state;
    static staging_config_t cfg;
    static const struct {
        const char *text, *says;
    } bad[] = {
        {"retention = { default_days = 0; };\n", ":1:"},
        {"retention = { default_days = 36501; };\n", ":1:"},
        {"retention = { };\n", ":1:"},
        {"retention = { default_days = 10; years = 3; };\n", "years"},
        {"retention = 5;\n", ":1:"},
        {"retention = { jurisdictions = (\n { country = \"GB\"; days = 1; },\n"
         " { country = \"GB\"; days = 2; } ); };\n", ":3:"},
        {"retention = { jurisdictions = (\n { country = \"G B\"; days = 1; } ); };\n", ":2:"},
        {"retention = { jurisdictions = (\n { country = \"GB\"; } ); };\n", ":2:"},
        {"retention = { jurisdictions = (\n { days = 5; } ); };\n", ":2:"},
        {"retention = { jurisdictions = (\n { country = \"GB\"; days = 5; extra = 1; } ); };\n",
         "extra"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[512];
        int rc = load(bad[i].text, &cfg, err, sizeof err);
        if (rc == 0 || !strstr(err, bad[i].says))
            fail_msg("case %zu: rc %d, err \"%s\", expected \"%s\"", i, rc, err, bad[i].says);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(day_before_and_day),  cmocka_unit_test(region_then_country),
        cmocka_unit_test(the_default),         cmocka_unit_test(unknown_jurisdiction),
        cmocka_unit_test(edges),               cmocka_unit_test(config_accepted),
        cmocka_unit_test(config_refused),      cmocka_unit_test(config_example),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
