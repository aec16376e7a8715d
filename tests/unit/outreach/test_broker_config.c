/* test_broker_config: the broker's `staging` setting (services/outreach/broker_config.c)
 * loaded from a file, as the broker loads it: one group is one shard named "staging"
 * (every config written before shards), a list is the shards in order with their
 * principals, and a bad list is refused with the file and line ("<path>:N: ") and why —
 * two shards under one principal, a shard with a key it does not know, no shard at all
 * — or, for a shard without its endpoint (no line to name), with the setting's path.
 *
 * Why: the broker answers each task on the shard whose principal sent it; a list it
 * misread would answer on the wrong shard or refuse a shard's requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "broker_config.h"
#include "svctest.h"

/* Everything but `staging`, which starts on line 6. */
static const char HEAD[] =
    "data_dir = \"data\";\n"
    "keys = { own = \"keys/outreach.key\"; allowed = \"keys/allowed.conf\"; secret = \"keys/o.secret\"; };\n"
    "listen = \"tcp://127.0.0.1:7403\";\n"
    "profiles = \"profiles.conf\";\n"
    "templates = \"templates.conf\";\n";

static const char TWO_SHARDS[] =
    "staging = (\n"
    "  { endpoint = \"tcp://staging-0:7402\"; public_key = \"keys/staging.pub\"; principal = \"staging\"; },\n"
    "  { endpoint = \"tcp://staging-1:7402\"; public_key = \"/k/staging-1.pub\"; principal = \"staging-1\"; }\n"
    ");\n";

typedef struct {
    broker_config_t cfg;
    char path[SVCTEST_DIR_MAX];
    char err[512];
} fx_t;

static fx_t fx;

/* HEAD and then staging, loaded from a file; the file is gone afterwards. */
static int load(const char *staging)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", HEAD, staging);
    memset(&fx, 0, sizeof fx);
    svctest_text_file("t_broker_conf", text, fx.path);
    int rc = broker_config_load(fx.path, &fx.cfg, fx.err, sizeof fx.err);
    assert_int_equal(remove(fx.path), 0);
    return rc;
}

/* The refusal names the file and the line. */
static void assert_refused_at(int rc, int line, const char *why)
{
    char where[SVCTEST_DIR_MAX + 16];
    snprintf(where, sizeof where, "%s:%d: ", fx.path, line);
    assert_int_not_equal(rc, 0);
    if (!strstr(fx.err, where) || !strstr(fx.err, why))
        fail_msg("\"%s\" lacks \"%s\" or \"%s\"", fx.err, where, why);
}

static void test_one_group_is_shard_staging(void **state)
{
    (void)state;
    assert_int_equal(load("staging = { endpoint = \"tcp://staging:7402\"; "
                          "public_key = \"/k/staging.pub\"; };\n"), 0);
    assert_int_equal(fx.cfg.staging.count, 1);
    assert_string_equal(fx.cfg.staging.shard[0].principal, "staging");
    assert_string_equal(fx.cfg.staging.shard[0].endpoint, "tcp://staging:7402");
    assert_string_equal(fx.cfg.staging.shard[0].public_path, "/k/staging.pub");
}

static void test_list_is_the_shards_in_order(void **state)
{
    (void)state;
    assert_int_equal(load(TWO_SHARDS), 0);
    const shards_t *s = &fx.cfg.staging;
    assert_int_equal(s->count, 2);
    assert_int_equal(shards_find(s, "staging"), 0);
    assert_int_equal(shards_find(s, "staging-1"), 1);
    assert_string_equal(s->shard[1].endpoint, "tcp://staging-1:7402");
    assert_string_equal(s->shard[0].public_path, "/tmp/keys/staging.pub");   /* the file's folder */
    assert_string_equal(s->shard[1].public_path, "/k/staging-1.pub");
}

static void test_bad_lists_refused_where_they_are(void **state)
{
    (void)state;
    assert_refused_at(load("staging = (\n"
                           "  { endpoint = \"tcp://a:1\"; public_key = \"/k/a.pub\"; },\n"
                           "  { endpoint = \"tcp://b:1\"; public_key = \"/k/b.pub\"; }\n"
                           ");\n"),
                      8, "same principal");
    assert_refused_at(load("staging = (\n"
                           "  { endpoint = \"tcp://a:1\"; public_key = \"/k/a.pub\"; },\n"
                           "  { endpoint = \"tcp://b:1\"; public_key = \"/k/b.pub\"; port = 7402; }\n"
                           ");\n"),
                      8, "port");
    assert_refused_at(load("staging = ();\n"), 6, "1 .. 8 shards");
    /* A setting that is not there has no line: the refusal names it. */
    assert_int_equal(load("staging = (\n"
                          "  { endpoint = \"tcp://a:1\"; public_key = \"/k/a.pub\"; },\n"
                          "  { public_key = \"/k/b.pub\"; principal = \"staging-1\"; }\n"
                          ");\n"), CONF_ETYPE);
    assert_non_null(strstr(fx.err, "`staging.[1].endpoint` is required"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_group_is_shard_staging),
        cmocka_unit_test(test_list_is_the_shards_in_order),
        cmocka_unit_test(test_bad_lists_refused_where_they_are),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
