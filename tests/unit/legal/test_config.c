/* test_config: the legal service's configuration (services/legal/config.c) parsed from
 * text: a good file with two currencies, a law firm and an agency loads with every
 * value; each refusal names the file and line ("test.conf:N: ") and says why — an
 * unknown key, a missing or unknown kind, an unknown product, a bad region code, a
 * principal or currency listed twice, an unknown currency, a capacity of 0 or none, a
 * commission over 5000 bps, an empty assignee list, a driven wall clock (svcconf.h: a
 * driven simulated one loads); and the law-firm threshold of a listed and of an
 * unlisted currency.
 *
 * The refusal tests take the good file, replace one numbered line (or add one) and
 * expect the error at that line.
 *
 * `staging`, read only from a file (with the other peers): one group is one shard
 * named "staging", a list the shards in order; two shards under one principal are
 * refused at their line, and so are more shards than legal can list dead letters for
 * beside outreach's outbox (DEADLETTERS_OUTBOXES_MAX). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "deadletters.h"
#include "svctest.h"

/* The good file, one entry a line: line N of the text is GOOD[N - 1]. */
static const char *const GOOD[] = {
    /*  1 */ "listen = \"tcp://127.0.0.1:7404\";",
    /*  2 */ "clock = { kind = \"simulated\"; start = \"2026-03-02\"; };",
    /*  3 */ "legal = {",
    /*  4 */ "  sweep_every_ms = 500;",
    /*  5 */ "  currencies = (",
    /*  6 */ "    { currency = \"CNY\"; floor_minor = 100000; firm_from_minor = 2000000; },",
    /*  7 */ "    { currency = \"USD\"; floor_minor = 50000; }",
    /*  8 */ "  );",
    /*  9 */ "  assignees = (",
    /* 10 */ "    { principal = \"firm-a\"; kind = \"firm\"; regions = [\"CN\"];",
    /* 11 */ "      products = [\"online_loan\", \"instalment_loan\"]; capacity = 200;",
    /* 12 */ "      accept_deadline_days = 5; },",
    /* 13 */ "    { principal = \"agency-b\"; kind = \"agency\"; regions = [\"CN-31\", \"CN-32\"];",
    /* 14 */ "      products = [\"online_loan\", \"credit_card\", \"bnpl\"]; capacity = 1000;",
    /* 15 */ "      commission_bps = 1800; accept_deadline_days = 3; recall_after_days = 90; }",
    /* 16 */ "  );",
    /* 17 */ "};",
};
#define GOOD_LINES (sizeof GOOD / sizeof GOOD[0])

typedef struct {
    legal_config_t cfg;   /* large: the fixture lives on the heap */
    char text[8192];
    char err[512];
    int rc;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    *state = f;
    return f ? 0 : -1;
}

static int teardown(void **state)
{
    free(*state);
    return 0;
}

/* The good file with line `line` (1-based; 0: none) replaced by `with`. */
static const char *text_with(fx_t *f, size_t line, const char *with)
{
    size_t used = 0;
    f->text[0] = '\0';
    for (size_t i = 0; i < GOOD_LINES; i++) {
        const char *l = i + 1 == line ? with : GOOD[i];
        int n = snprintf(f->text + used, sizeof f->text - used, "%s\n", l);
        assert_true(n > 0 && (size_t)n < sizeof f->text - used);
        used += (size_t)n;
    }
    return f->text;
}

static int parse(fx_t *f, const char *text)
{
    memset(f->err, 0, sizeof f->err);
    f->rc = legal_config_parse(text, "test.conf", &f->cfg, f->err, sizeof f->err);
    return f->rc;
}

/* Parses the good file with one line replaced and expects a refusal at `at_line`
 * (code `code`, or any non-zero when 0) whose message holds `why`. */
static void refused_at(fx_t *f, size_t line, const char *with, int code, int at_line,
                       const char *why)
{
    int rc = parse(f, text_with(f, line, with));
    if (code != 0)
        assert_int_equal(rc, code);
    else
        assert_int_not_equal(rc, 0);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "test.conf:%d: ", at_line);
    if (strncmp(f->err, prefix, strlen(prefix)) != 0 || !strstr(f->err, why)) {
        print_error("error \"%s\": expected prefix \"%s\" and \"%s\"\n", f->err, prefix, why);
        fail();
    }
}

/* ---------------------------------------------------------------- a good file */

static void test_good_file_loads_with_its_values(void **state)
{
    fx_t *f = *state;
    assert_int_equal(parse(f, text_with(f, 0, NULL)), 0);
    const legal_config_t *c = &f->cfg;
    assert_true(c->simulated);
    assert_int_equal(c->simulated_start_ms, INT64_C(1772409600000));   /* 2026-03-02 */
    assert_int_equal(c->sweep_every_ms, 500);
    assert_false(c->create_secret);

    assert_int_equal(c->eligibility.floor_count, 2);
    assert_string_equal(c->eligibility.floors[0].currency, "CNY");
    assert_int_equal(c->eligibility.floors[0].min_outstanding_minor, 100000);
    assert_string_equal(c->eligibility.floors[1].currency, "USD");
    assert_int_equal(c->eligibility.floors[1].min_outstanding_minor, 50000);
    assert_string_equal(c->routing[0].currency, "CNY");
    assert_int_equal(c->routing[0].firm_from_minor, 2000000);
    assert_int_equal(c->routing[1].firm_from_minor, INT64_MAX);   /* absent: agencies only */

    assert_int_equal(c->assignee_count, 2);
    const assignee_t *a = &c->assignees[0];
    assert_string_equal(a->principal, "firm-a");
    assert_int_equal(a->kind, ASSIGNEE_FIRM);
    assert_int_equal(a->region_count, 1);
    assert_string_equal(a->regions[0], "CN");
    assert_int_equal(a->products, (1u << 1) | (1u << 3));   /* online_loan, instalment_loan */
    assert_int_equal(a->capacity, 200);
    assert_int_equal(a->commission_bps, 0);
    assert_int_equal(a->accept_deadline_days, 5);
    assert_int_equal(a->recall_after_days, 0);

    const assignee_t *b = &c->assignees[1];
    assert_string_equal(b->principal, "agency-b");
    assert_int_equal(b->kind, ASSIGNEE_AGENCY);
    assert_int_equal(b->region_count, 2);
    assert_string_equal(b->regions[0], "CN-31");
    assert_string_equal(b->regions[1], "CN-32");
    assert_int_equal(b->products, (1u << 1) | (1u << 2) | (1u << 4));
    assert_int_equal(b->capacity, 1000);
    assert_int_equal(b->commission_bps, 1800);
    assert_int_equal(b->accept_deadline_days, 3);
    assert_int_equal(b->recall_after_days, 90);
}

static void test_firm_threshold_of_listed_and_unlisted_currency(void **state)
{
    fx_t *f = *state;
    assert_int_equal(parse(f, text_with(f, 0, NULL)), 0);
    assert_int_equal(legal_firm_from_minor(&f->cfg, "CNY"), 2000000);
    assert_int_equal(legal_firm_from_minor(&f->cfg, "USD"), INT64_MAX);   /* no threshold */
    assert_int_equal(legal_firm_from_minor(&f->cfg, "EUR"), INT64_MAX);   /* not listed */
    assert_int_equal(legal_firm_from_minor(&f->cfg, NULL), INT64_MAX);
}

/* ---------------------------------------------------------------- refusals */

static void test_unknown_key_refused_at_its_line(void **state)
{
    fx_t *f = *state;
    refused_at(f, 12, "      accept_deadline_days = 5; colour = \"red\"; },", CONF_EUNKNOWN_KEY,
               12, "colour is not a known setting");
    refused_at(f, 4, "  sweep_every_ms = 500; sweep_evry_ms = 5;", CONF_EUNKNOWN_KEY, 4,
               "sweep_evry_ms is not a known setting");
    refused_at(f, 1, "listen = \"tcp://127.0.0.1:7404\"; lisen = 1;", CONF_EUNKNOWN_KEY, 1,
               "lisen is not a known setting");
}

static void test_missing_or_unknown_kind_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 10, "    { principal = \"firm-a\"; regions = [\"CN\"];", CONF_ERANGE, 10,
               "kind is required: firm or agency");
    refused_at(f, 10, "    { principal = \"firm-a\"; kind = \"lawyer\"; regions = [\"CN\"];",
               CONF_ERANGE, 10, "must be one of firm, agency");
}

static void test_unknown_product_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 11, "      products = [\"online_loan\", \"mortgage\"]; capacity = 200;",
               CONF_ERANGE, 10, "product \"mortgage\" is not one of");
    refused_at(f, 11, "      products = [\"unspecified\"]; capacity = 200;", CONF_ERANGE, 10,
               "product \"unspecified\" is not one of");
}

static void test_bad_region_code_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 10, "    { principal = \"firm-a\"; kind = \"firm\"; regions = [\"cn\"];",
               CONF_ERANGE, 10, "region \"cn\" must be a code like");
    refused_at(f, 10, "    { principal = \"firm-a\"; kind = \"firm\"; regions = [\"-CN\"];",
               CONF_ERANGE, 10, "region \"-CN\" must be a code like");
    refused_at(f, 10, "    { principal = \"firm-a\"; kind = \"firm\"; regions = [\"CN 31\"];",
               CONF_ERANGE, 10, "region \"CN 31\" must be a code like");
    refused_at(f, 10, "    { principal = \"firm-a\"; kind = \"firm\"; regions = [];", CONF_ERANGE,
               10, "an assignee needs at least one region");
}

static void test_duplicate_principal_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 13, "    { principal = \"firm-a\"; kind = \"agency\"; regions = [\"CN-31\"];",
               CONF_ERANGE, 13, "firm-a is listed twice");
}

static void test_duplicate_and_unknown_currency_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 7, "    { currency = \"CNY\"; floor_minor = 50000; }", CONF_ERANGE, 7,
               "CNY is listed twice");
    refused_at(f, 7, "    { currency = \"ZZZ\"; floor_minor = 50000; }", CONF_ERANGE, 7,
               "currency must be an ISO 4217 code");
    refused_at(f, 7, "    { currency = \"XAU\"; floor_minor = 50000; }", CONF_ERANGE, 7,
               "currency must be an ISO 4217 code");   /* gold: no minor unit */
    refused_at(f, 7, "    { floor_minor = 50000; }", CONF_ERANGE, 7,
               "currency must be an ISO 4217 code");
    refused_at(f, 7, "    { currency = \"USD\"; }", CONF_ERANGE, 7, "floor_minor is required");
}

static void test_capacity_zero_or_missing_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 11, "      products = [\"online_loan\"]; capacity = 0;", CONF_ERANGE, 11,
               "capacity must be between 1 and 1000000, got 0");
    refused_at(f, 11, "      products = [\"online_loan\"];", CONF_ERANGE, 10,
               "capacity is required");
}

static void test_commission_over_5000_bps_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 15, "      commission_bps = 5001; accept_deadline_days = 3; }", CONF_ERANGE, 15,
               "commission_bps must be between 0 and 5000, got 5001");
    /* 5000 itself is the limit, and loads. */
    assert_int_equal(parse(f, text_with(f, 15, "      commission_bps = 5000; }")), 0);
    assert_int_equal(f->cfg.assignees[1].commission_bps, 5000);
}

static void test_empty_assignee_list_refused(void **state)
{
    fx_t *f = *state;
    static const char text[] = "legal = {\n"
                               "  currencies = ( { currency = \"CNY\"; floor_minor = 1; } );\n"
                               "  assignees = ( );\n"
                               "};\n";
    assert_int_equal(parse(f, text), CONF_ETYPE);
    const char *prefix = "test.conf:3: ";
    assert_memory_equal(f->err, prefix, strlen(prefix));
    assert_non_null(strstr(f->err, "legal.assignees must be a non-empty list"));

    static const char none[] = "legal = {\n"
                               "  currencies = ( { currency = \"CNY\"; floor_minor = 1; } );\n"
                               "};\n";
    assert_int_equal(parse(f, none), CONF_ETYPE);
    assert_non_null(strstr(f->err, "legal.assignees must be a non-empty list"));
}

/* ---------------------------------------------------------------- staging's shards */

/* The rest of a whole file (legal_config_parse reads no peers); `staging` follows from
 * line 5 on, then the good file. */
static const char PEERS[] =
    "data_dir = \"data\";\n"
    "keys = { own = \"keys/legal.key\"; allowed = \"keys/allowed.conf\"; secret = \"keys/s\"; };\n"
    "outreach = { endpoint = \"tcp://outreach:7403\"; public_key = \"keys/outreach.pub\"; };\n"
    "limitation = \"limitation.conf\";\n";

/* PEERS, staging and the good file, loaded from a file as legal loads it; the path
 * the errors name is in path. */
static int load_with(fx_t *f, const char *staging, char path[SVCTEST_DIR_MAX])
{
    static char text[16384];
    snprintf(text, sizeof text, "%s%s%s", PEERS, staging, text_with(f, 0, NULL));
    svctest_text_file("t_legal_conf", text, path);
    memset(f->err, 0, sizeof f->err);
    f->rc = legal_config_load(path, &f->cfg, f->err, sizeof f->err);
    assert_int_equal(remove(path), 0);
    return f->rc;
}

static void assert_error_at(const fx_t *f, const char *path, int line, const char *why)
{
    char where[SVCTEST_DIR_MAX + 16];
    snprintf(where, sizeof where, "%s:%d: ", path, line);
    if (f->rc == 0 || strncmp(f->err, where, strlen(where)) != 0 || !strstr(f->err, why))
        fail_msg("rc %d, error \"%s\": expected \"%s\" and \"%s\"", f->rc, f->err, where, why);
}

static void test_staging_one_group_or_a_list(void **state)
{
    fx_t *f = *state;
    char path[SVCTEST_DIR_MAX];
    assert_int_equal(load_with(f, "staging = { endpoint = \"tcp://staging:7402\"; "
                                  "public_key = \"/k/staging.pub\"; };\n", path), 0);
    assert_int_equal(f->cfg.staging.count, 1);
    assert_string_equal(f->cfg.staging.shard[0].principal, "staging");
    assert_string_equal(f->cfg.staging.shard[0].endpoint, "tcp://staging:7402");
    assert_int_equal(load_with(f, "staging = (\n"
                                  "  { endpoint = \"tcp://s0:7402\"; public_key = \"/k/s0.pub\"; },\n"
                                  "  { endpoint = \"tcp://s1:7402\"; public_key = \"keys/s1.pub\";"
                                  " principal = \"staging-1\"; }\n"
                                  ");\n", path), 0);
    assert_int_equal(f->cfg.staging.count, 2);
    assert_int_equal(shards_find(&f->cfg.staging, "staging"), 0);
    assert_int_equal(shards_find(&f->cfg.staging, "staging-1"), 1);
    assert_string_equal(f->cfg.staging.shard[1].public_path, "/tmp/keys/s1.pub");
    assert_int_equal(f->cfg.assignee_count, 2);   /* the rest of the file as parsed */
}

static void test_staging_list_refused_at_its_line(void **state)
{
    fx_t *f = *state;
    char path[SVCTEST_DIR_MAX];
    load_with(f, "staging = (\n"
                 "  { endpoint = \"tcp://s0:7402\"; public_key = \"/k/s0.pub\"; },\n"
                 "  { endpoint = \"tcp://s1:7402\"; public_key = \"/k/s1.pub\"; }\n"
                 ");\n", path);
    assert_error_at(f, path, 7, "same principal");
    /* One shard more than shards.h allows. */
    char list[2048] = "staging = (\n";
    for (int i = 0; i <= SHARDS_MAX; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list),
                 "  { endpoint = \"tcp://s%d:7402\"; public_key = \"/k/s%d.pub\"; "
                 "principal = \"staging-%d\"; }%s\n", i, i, i, i < SHARDS_MAX ? "," : "");
    snprintf(list + strlen(list), sizeof list - strlen(list), ");\n");
    load_with(f, list, path);
    assert_error_at(f, path, 5, "1 .. 8 shards");
}

static void test_driven_wall_clock_refused(void **state)
{
    fx_t *f = *state;
    refused_at(f, 2, "clock = { kind = \"wall\"; driven = true; };", CONF_ERANGE, 2,
               "only a simulated clock has a driver");
    assert_int_equal(parse(f, text_with(f, 2, "clock = { kind = \"simulated\"; driven = true; };")), 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_good_file_loads_with_its_values),
        T(test_firm_threshold_of_listed_and_unlisted_currency),
        T(test_unknown_key_refused_at_its_line),
        T(test_missing_or_unknown_kind_refused),
        T(test_unknown_product_refused),
        T(test_bad_region_code_refused),
        T(test_duplicate_principal_refused),
        T(test_duplicate_and_unknown_currency_refused),
        T(test_capacity_zero_or_missing_refused),
        T(test_commission_over_5000_bps_refused),
        T(test_empty_assignee_list_refused),
        T(test_staging_one_group_or_a_list),
        T(test_staging_list_refused_at_its_line),
        T(test_driven_wall_clock_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
