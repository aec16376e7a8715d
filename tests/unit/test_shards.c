/* Unit tests for shared/shards: the `staging` setting as one group or a list (and its
 * refusals with file:line), the person's shard pinned to fixed values (it decides where
 * accounts live, so it must never change between builds), an even spread, all of one
 * person's accounts on one shard whatever the account, and the outbox names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "shards.h"

static int load_text(const char *text, shards_t *out, char *err, size_t len)
{
    conf_t *c = conf_parse_string(text, "<test>", err, len);
    assert_non_null(c);
    int rc = shards_load(c, "staging", out, err, len);
    conf_destroy(&c);
    return rc;
}

static void test_one_group_is_one_shard(void **state)
{
    (void)state;
    shards_t s;
    char err[256] = "";
    assert_int_equal(load_text("staging = { endpoint = \"ipc:///tmp/s\"; "
                               "public_key = \"/k/staging.pub\"; };", &s, err, sizeof err), 0);
    assert_int_equal(s.count, 1);
    assert_string_equal(s.shard[0].endpoint, "ipc:///tmp/s");
    assert_string_equal(s.shard[0].public_path, "/k/staging.pub");
    assert_string_equal(s.shard[0].principal, "staging");
    assert_int_equal(shards_find(&s, "staging"), 0);
    assert_int_equal(shards_find(&s, "staging-1"), -1);
}

static void test_a_list_is_the_shards_in_order(void **state)
{
    (void)state;
    shards_t s;
    char err[256] = "";
    assert_int_equal(load_text("staging = (\n"
                               " { endpoint = \"tcp://a:1\"; public_key = \"/k/a.pub\"; },\n"
                               " { endpoint = \"tcp://b:1\"; public_key = \"/k/b.pub\";"
                               " principal = \"staging-1\"; }\n);", &s, err, sizeof err), 0);
    assert_int_equal(s.count, 2);
    assert_string_equal(s.shard[1].endpoint, "tcp://b:1");
    assert_int_equal(shards_find(&s, "staging"), 0);
    assert_int_equal(shards_find(&s, "staging-1"), 1);
}

static void test_refusals_say_where(void **state)
{
    (void)state;
    shards_t s;
    char err[256] = "";
    assert_int_equal(load_text("staging = (\n"
                               " { endpoint = \"tcp://a:1\"; public_key = \"/k/a.pub\"; },\n"
                               " { endpoint = \"tcp://b:1\"; public_key = \"/k/b.pub\"; }\n);",
                               &s, err, sizeof err), CONF_ERANGE);
    assert_non_null(strstr(err, "<test>:3:"));
    assert_non_null(strstr(err, "same principal"));
    assert_int_equal(load_text("staging = ();", &s, err, sizeof err), CONF_ERANGE);
    assert_non_null(strstr(err, "1 .. 8 shards"));
    assert_int_equal(load_text("other = 1;", &s, err, sizeof err), CONF_ETYPE);
    assert_non_null(strstr(err, "`staging` is required"));
    assert_int_equal(load_text("staging = { endpoint = \"tcp://a:1\"; public_key = \"k\";"
                               " port = 3; };", &s, err, sizeof err), CONF_EUNKNOWN_KEY);
    assert_int_equal(load_text("staging = ( { public_key = \"k\"; } );", &s, err, sizeof err),
                     CONF_ETYPE);
    assert_non_null(strstr(err, "staging.[0].endpoint"));
}

static void person(uint32_t n, uint8_t id[32])
{
    memset(id, 0, 32);
    memcpy(id, &n, sizeof n);
}

/* Pinned: a change of hash, byte order or modulus would move every placed account. */
static void test_shard_of_person_is_pinned(void **state)
{
    (void)state;
    uint8_t id[32];
    uint32_t got[8];
    for (uint32_t n = 0; n < 8; n++) {
        person(n, id);
        got[n] = shard_of_person("demo-platform", id, sizeof id, 4);
    }
    const uint32_t want[8] = {0, 0, 2, 1, 2, 1, 2, 1};
    assert_memory_equal(got, want, sizeof got);
    person(0, id);
    assert_int_equal(shard_of_person("demo-platform", id, sizeof id, 1), 0);
}

static void test_persons_spread_evenly(void **state)
{
    (void)state;
    uint32_t on[2] = {0, 0};
    uint8_t id[32];
    for (uint32_t n = 0; n < 10000; n++) {
        person(n, id);
        on[shard_of_person("p", id, sizeof id, 2)]++;
    }
    /* Binomial(10000, 0.5): 4,700 .. 5,300 is over 9 standard deviations wide. */
    assert_in_range(on[0], 4700, 5300);
    /* The platform is part of the person: the same id elsewhere is another person. */
    uint32_t moved = 0;
    for (uint32_t n = 0; n < 1000; n++) {
        person(n, id);
        moved += shard_of_person("p", id, sizeof id, 2) != shard_of_person("q", id, sizeof id, 2);
    }
    assert_in_range(moved, 400, 600);
}

static void test_outbox_names(void **state)
{
    (void)state;
    char name[SHARDS_OUTBOX_NAME_MAX];
    shards_outbox_name(0, name);
    assert_string_equal(name, "to_staging");
    shards_outbox_name(7, name);
    assert_string_equal(name, "to_staging.7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_group_is_one_shard),
        cmocka_unit_test(test_a_list_is_the_shards_in_order),
        cmocka_unit_test(test_refusals_say_where),
        cmocka_unit_test(test_shard_of_person_is_pinned),
        cmocka_unit_test(test_persons_spread_evenly),
        cmocka_unit_test(test_outbox_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
