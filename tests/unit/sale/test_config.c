/* test_config: the shipped sale.example.conf loads with the values it states; each bad
 * setting is refused with file:line and why (an unknown key, overlapping bands, a band
 * without a curve, a curve out of order, a one-off plan without first_open, an unknown
 * product, a plan twice, no buyers, a bad currency); plans are found by product and
 * currency, and only their buyers are invited. `staging`, read only from a whole file
 * (with the other peers, before the example): one group is one shard named "staging",
 * a list the shards in order; two shards under one principal are refused at their
 * line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "sale.pb-c.h"
#include "svctest.h"

static char *read_example(void)
{
    FILE *f = fopen(SALE_EXAMPLE_CONF, "rb");
    assert_non_null(f);
    static char text[64 * 1024];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

static sale_config_t cfg;

static void test_example_loads(void **state)
{
    (void)state;
    char err[512] = "";
    int rc = sale_config_parse(read_example(), "sale.example.conf", &cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.cuts.min_accounts, 50);
    assert_int_equal(cfg.cuts.max_accounts, 5000);
    assert_int_equal(cfg.cuts.dpd_band_count, 3);
    assert_int_equal(cfg.cuts.dpd_bands[2].from_dpd, 360);
    assert_int_equal(cfg.cuts.dpd_bands[2].to_dpd, INT32_MAX);
    assert_int_equal(cfg.cuts.balance_band_count, 4);
    assert_string_equal(cfg.cuts.balance_bands[3].currency, "GBP");
    assert_int_equal(cfg.cuts.balance_bands[3].to_minor, INT64_MAX);
    assert_string_equal(cfg.curves.version, "2026-q4");
    assert_int_equal(cfg.curves.margin_bps, 1500);
    assert_int_equal(cfg.curves.curves[1].points[2].recovery_bps, 400);
    assert_int_equal(cfg.plan_count, 2);
    const sale_plan_t *cn = &cfg.plans[0], *gb = &cfg.plans[1];
    assert_int_equal(cn->kind, ARREARS__SALE_KIND__SALE_FORWARD_FLOW);
    assert_int_equal(cn->cycle_days, 30);
    assert_int_equal(cn->first_open_ms, INT64_C(1772323200000));   /* 2026-03-01 00:00 UTC */
    assert_int_equal(cn->buyer_count, 3);
    assert_int_equal(gb->kind, ARREARS__SALE_KIND__SALE_ONE_OFF);
    assert_int_equal(gb->cycle_days, 0);
    assert_int_equal(gb->put_back_days, 60);
    assert_int_equal(gb->relists, 0);
    assert_int_equal(cfg.sweep_every_ms, 1000);
}

static void test_plans_found(void **state)
{
    (void)state;
    char err[512] = "";
    assert_int_equal(sale_config_parse(read_example(), "sale.example.conf", &cfg, err, sizeof err), 0);
    assert_ptr_equal(sale_plan_for(&cfg, ARREARS__PRODUCT__BNPL, "CNY"), &cfg.plans[0]);
    assert_ptr_equal(sale_plan_for(&cfg, ARREARS__PRODUCT__CREDIT_CARD, "GBP"), &cfg.plans[1]);
    assert_null(sale_plan_for(&cfg, ARREARS__PRODUCT__BNPL, "GBP"));      /* not in gb's products */
    assert_null(sale_plan_for(&cfg, ARREARS__PRODUCT__ONLINE_LOAN, "USD"));
    assert_null(sale_plan_for(&cfg, 0, "CNY"));
    assert_null(sale_plan_for(&cfg, ARREARS__PRODUCT__BNPL, NULL));
    assert_ptr_equal(sale_plan_named(&cfg, "gb-2026"), &cfg.plans[1]);
    assert_null(sale_plan_named(&cfg, "gb"));
    assert_true(sale_plan_invites(&cfg.plans[0], "buyer-north"));
    assert_false(sale_plan_invites(&cfg.plans[0], "buyer-london"));
    assert_false(sale_plan_invites(&cfg.plans[0], NULL));
}

/* The example with the first occurrence of from replaced by to. */
static char *edited(const char *from, const char *to)
{
    const char *text = read_example();
    const char *at = strstr(text, from);
    assert_non_null(at);
    static char out[64 * 1024];
    snprintf(out, sizeof out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static void assert_refused(const char *from, const char *to, const char *want)
{
    char err[512] = "";
    assert_int_not_equal(sale_config_parse(edited(from, to), "sale.conf", &cfg, err, sizeof err), 0);
    if (!strstr(err, want) || strncmp(err, "sale.conf:", 10) != 0)
        fail_msg("error \"%s\": expected \"sale.conf:\" and \"%s\"", err, want);
}

static void test_bad_settings_refused(void **state)
{
    (void)state;
    assert_refused("min_accounts = 50;", "min_acounts = 50;", "min_acounts");
    assert_refused("from_dpd = 180; to_dpd = 360;", "from_dpd = 170; to_dpd = 360;",
                   "DPD bands overlap: d180-359");
    assert_refused("{ balance_band = \"large\";", "{ balance_band = \"huge\";",
                   "balance band large has no curve");
    assert_refused("{ from_dpd = 180; recovery_bps = 1100; }", "{ from_dpd = 400; recovery_bps = 1100; }",
                   "a curve's points rise strictly by DPD: small");
    assert_refused("first_open = \"2026-06-01\"; ", "", "a one-off plan needs first_open");
    assert_refused("[\"credit_card\", \"online_loan\"]", "[\"credit_card\", \"mortgage\"]",
                   "product \"mortgage\" is not one of");
    assert_refused("name = \"gb-2026\"", "name = \"cn-flow\"", "plan cn-flow is listed twice");
    assert_refused("buyers = [\"buyer-london\"];", "buyers = [];", "a plan needs at least one buyer");
    assert_refused("currency = \"GBP\"; from_minor = 1L;", "currency = \"GBX\"; from_minor = 1L;",
                   "currency must be an ISO 4217 code");
    assert_refused("first_open = \"2026-03-01\"", "first_open = \"2026-02-30\"", "first_open:");
    assert_refused("margin_bps = 1500;", "margin_bps = 9500;", "margin_bps");
    assert_refused("plans = (", "planz = (", "planz");
}

/* The rest of a whole file (sale_config_parse reads no peers); `staging` follows from
 * line 4 on, then the example. */
static const char PEERS[] =
    "data_dir = \"data\";\n"
    "keys = { own = \"keys/sale.key\"; allowed = \"keys/allowed.conf\"; secret = \"keys/s\"; };\n"
    "listen = \"tcp://127.0.0.1:7405\";\n";

/* PEERS, staging and the example, loaded from a file as sale loads it; the path the
 * errors name in path. */
static int load_with(const char *staging, char path[SVCTEST_DIR_MAX], char *err, size_t len)
{
    static char text[72 * 1024];
    snprintf(text, sizeof text, "%s%s%s", PEERS, staging, read_example());
    svctest_text_file("t_sale_conf", text, path);
    int rc = sale_config_load(path, &cfg, err, len);
    assert_int_equal(remove(path), 0);
    return rc;
}

static void test_staging_one_group_or_a_list(void **state)
{
    (void)state;
    char path[SVCTEST_DIR_MAX], err[512] = "";
    int rc = load_with("staging = { endpoint = \"tcp://staging:7402\"; "
                       "public_key = \"/k/staging.pub\"; };\n", path, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.staging.count, 1);
    assert_string_equal(cfg.staging.shard[0].principal, "staging");
    rc = load_with("staging = (\n"
                   "  { endpoint = \"tcp://s0:7402\"; public_key = \"/k/s0.pub\"; },\n"
                   "  { endpoint = \"tcp://s1:7402\"; public_key = \"/k/s1.pub\";"
                   " principal = \"staging-1\"; }\n"
                   ");\n", path, err, sizeof err);
    if (rc != 0)
        fail_msg("%s", err);
    assert_int_equal(cfg.staging.count, 2);
    assert_int_equal(shards_find(&cfg.staging, "staging"), 0);
    assert_int_equal(shards_find(&cfg.staging, "staging-1"), 1);
    assert_string_equal(cfg.staging.shard[1].endpoint, "tcp://s1:7402");
    assert_int_equal(cfg.plan_count, 2);   /* the rest of the file as parsed */

    rc = load_with("staging = (\n"
                   "  { endpoint = \"tcp://s0:7402\"; public_key = \"/k/s0.pub\"; },\n"
                   "  { endpoint = \"tcp://s1:7402\"; public_key = \"/k/s1.pub\"; }\n"
                   ");\n", path, err, sizeof err);
    char where[SVCTEST_DIR_MAX + 8];
    snprintf(where, sizeof where, "%s:6: ", path);
    if (rc == 0 || strncmp(err, where, strlen(where)) != 0 || !strstr(err, "same principal"))
        fail_msg("rc %d, error \"%s\": expected \"%s\" and \"same principal\"", rc, err, where);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_plans_found),
        cmocka_unit_test(test_bad_settings_refused),
        cmocka_unit_test(test_staging_one_group_or_a_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
