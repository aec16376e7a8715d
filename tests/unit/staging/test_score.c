/* test_score: the scorecard gives the points the config says, with one reason per term
 * whose points add up to the score (checked by hand on known accounts and on 20,000
 * generated ones); the payment window's boundary; band and segment mistakes refused
 * with file:line; segments chosen first-match with a catch-all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "platform.pb-c.h"
#include "score.h"

#define ERR_LEN 512

/* One band per line: conf re-reads each integer literal from its source line to catch
 * libconfig's silent 32-bit wrap, and finds the first "from =" on a line. */
static const char card_text[] =
    "scorecard = {\n"
    "  base_points = 600;\n"
    "  payment_window_days = 90;\n"
    "  dpd = (\n"
    "    { from = 0; to = 0; points = 0; },\n"
    "    { from = 1; to = 30; points = -10; },\n"
    "    { from = 31; to = 60; points = -20; },\n"
    "    { from = 61; points = -60; } );\n"
    "  payments = (\n"
    "    { from = 0; to = 0; points = -30; },\n"
    "    { from = 1; to = 2; points = 10; },\n"
    "    { from = 3; points = 25; } );\n"
    "  broken_promises = (\n"
    "    { from = 0; to = 0; points = 0; },\n"
    "    { from = 1; points = -15; } );\n"
    "  contact_points = (\n"
    "    { from = 0; to = 0; points = -50; },\n"
    "    { from = 1; points = 5; } );\n"
    "  balance_minor = (\n"
    "    { from = 0; to = 99999; points = 10; },\n"
    "    { from = 100000; points = -5; } );\n"
    "};\n"
    "segments = (\n"
    "  { name = \"high_risk\"; max_score = 449; },\n"
    "  { name = \"card_big\"; min_balance_minor = 1000000; products = [\"credit_card\"]; },\n"
    "  { name = \"mid\"; min_score = 450; max_score = 599; min_balance_minor = 100;\n"
    "    max_balance_minor = 5000000000L; },\n"
    "  { name = \"standard\"; }\n"
    ");\n";

static conf_t *parse(const char *text)
{
    char err[ERR_LEN] = "";
    conf_t *conf = conf_parse_string(text, "<score>", err, sizeof err);
    if (!conf)
        fail_msg("parse: %s", err);
    return conf;
}

static void load_card(score_card_t *card, segments_t *segments)
{
    conf_t *conf = parse(card_text);
    char err[ERR_LEN] = "";
    if (score_card_load(conf, "scorecard", card, err, sizeof err) != SCORE_OK)
        fail_msg("card: %s", err);
    if (segments && segments_load(conf, "segments", segments, err, sizeof err) != SCORE_OK)
        fail_msg("segments: %s", err);
    conf_destroy(&conf);
}

static void assert_reasons_sum(const score_result_t *r)
{
    int64_t sum = 0;
    for (uint32_t i = 0; i < r->reason_count; i++) {
        sum += r->reasons[i].points;
        /* the text ends with the same points, signed */
        char tail[32];
        snprintf(tail, sizeof tail, ": %+lld", (long long)r->reasons[i].points);
        size_t n = strlen(r->reasons[i].text), t = strlen(tail);
        assert_true(n > t);
        assert_string_equal(r->reasons[i].text + n - t, tail);
    }
    assert_true(sum == r->points);
}

static void test_score_by_hand(void **state)
{
    (void)state;
    score_card_t card;
    load_card(&card, NULL);
    int32_t days[] = {1000, 990, 900, 1001};   /* 1001 is in the future: not counted */
    score_inputs_t in = {.dpd = 45, .today_day = 1000, .payment_days = days,
                         .payment_count = 4, .broken_promises = 3, .contact_points = 2,
                         .balance_minor = 250000};
    score_result_t r;
    score_account(&card, &in, &r);
    /* 600 - 20 + 10 (2 payments: day 1000 and 990; day 900 is 100 days ago) - 15 + 5 - 5 */
    assert_int_equal(r.points, 575);
    assert_int_equal(r.reason_count, 6);
    assert_string_equal(r.reasons[0].text, "base: +600");
    assert_string_equal(r.reasons[1].text, "dpd 31-60: -20");
    assert_string_equal(r.reasons[2].text, "payments 1-2: +10");
    assert_string_equal(r.reasons[3].text, "broken_promises 1+: -15");
    assert_string_equal(r.reasons[4].text, "contact_points 1+: +5");
    assert_string_equal(r.reasons[5].text, "balance_minor 100000+: -5");
    assert_reasons_sum(&r);

    score_inputs_t clean = {.dpd = 0, .today_day = 1000, .contact_points = 0,
                            .balance_minor = 99999};
    score_account(&card, &clean, &r);
    assert_int_equal(r.points, 600 + 0 - 30 + 0 - 50 + 10);
    assert_string_equal(r.reasons[1].text, "dpd 0: +0");
    assert_string_equal(r.reasons[2].text, "payments 0: -30");
    assert_string_equal(r.reasons[5].text, "balance_minor 0-99999: +10");
    assert_reasons_sum(&r);
}

static void test_payment_window_boundary(void **state)
{
    (void)state;
    score_card_t card;
    score_card_init(&card);
    card.payment_window_days = 30;
    card.band_count[SCORE_FACTOR_PAYMENTS] = 2;
    card.bands[SCORE_FACTOR_PAYMENTS][0] = (score_band_t){0, 0, 0};
    card.bands[SCORE_FACTOR_PAYMENTS][1] = (score_band_t){1, SCORE_NO_UPPER, 7};
    score_result_t r;
    int32_t day = 500 - 29;   /* the window's first day: 30 days counting today */
    score_inputs_t in = {.today_day = 500, .payment_days = &day, .payment_count = 1};
    score_account(&card, &in, &r);
    assert_int_equal(r.points, 7);
    day = 500 - 30;
    score_account(&card, &in, &r);
    assert_int_equal(r.points, 0);
    day = 500;
    score_account(&card, &in, &r);
    assert_int_equal(r.points, 7);
}

/* No factors: the base alone, one reason. */
static void test_empty_card(void **state)
{
    (void)state;
    score_card_t card;
    conf_t *conf = parse("x = 1;\n");
    char err[ERR_LEN];
    assert_int_equal(score_card_load(conf, "scorecard", &card, err, sizeof err), SCORE_OK);
    conf_destroy(&conf);
    score_inputs_t in = {.dpd = 400, .balance_minor = 5};
    score_result_t r;
    score_account(&card, &in, &r);
    assert_int_equal(r.points, 0);
    assert_int_equal(r.reason_count, 1);
    assert_string_equal(r.reasons[0].text, "base: +0");
}

/* Whatever the account, the reasons add up to the score. */
static void test_reasons_always_sum(void **state)
{
    (void)state;
    score_card_t card;
    load_card(&card, NULL);
    uint64_t x = 0x9E3779B97F4A7C15u;   /* a fixed LCG: the same accounts every run */
    int32_t days[8];
    for (int n = 0; n < 20000; n++) {
        x = x * 6364136223846793005u + 1442695040888963407u;
        for (int k = 0; k < 8; k++)
            days[k] = 1000 - (int32_t)((x >> (k * 7)) % 200);
        score_inputs_t in = {.dpd = (int32_t)((x >> 8) % 400), .today_day = 1000,
                             .payment_days = days, .payment_count = (x >> 20) % 9,
                             .broken_promises = (uint32_t)((x >> 30) % 5),
                             .contact_points = (uint32_t)((x >> 34) % 4),
                             .balance_minor = (int64_t)((x >> 36) % 3000000)};
        score_result_t r;
        score_account(&card, &in, &r);
        assert_int_equal(r.reason_count, 6);
        assert_reasons_sum(&r);
    }
}

static void test_card_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *err;
    } rows[] = {
        {"scorecard = {\n dpd = ( { from = 0; to = 9; points = 1; },\n"
         "   { from = 12; points = 2; } );\n};\n",
         "<score>:3: dpd: gap: 10 to 11 has no band"},
        {"scorecard = {\n dpd = ( { from = 0; to = 9; points = 1; },\n"
         "   { from = 5; points = 2; } );\n};\n",
         "<score>:3: dpd: overlap: band 2 starts at 5, inside the band before it (it must "
         "start at 10)"},
        {"scorecard = {\n payments = ( { from = 1; points = 1; } );\n};\n",
         "<score>:2: payments: gap: 0 to 0 has no band"},
        {"scorecard = {\n dpd = ( { from = 0; points = 1; },\n"
         "   { from = 1; points = 2; } );\n};\n",
         "<score>:2: dpd: band 1 has no `to`: only the last band is open"},
        {"scorecard = {\n dpd = ( { from = 0; to = 4; points = 1; },\n"
         "   { from = 5; to = 9; points = 2; } );\n};\n",
         "<score>:3: dpd: the last band must have no `to`, so every value above it has a "
         "band"},
        {"scorecard = {\n dpd = ( { from = 0; to = 4; },\n"
         "   { from = 5; points = 2; } );\n};\n",
         "<score>:2: dpd band 1: points is required"},
        {"scorecard = {\n dpd = ( { from = 0; to = 4; points = 1; colour = 2; },\n"
         "   { from = 5; points = 2; } );\n};\n",
         "<score>:2: scorecard.dpd.[0].colour is not a known setting (known here: from, to, "
         "points)"},
        {"scorecard = {\n balance = ( { from = 0; points = 1; } );\n};\n",
         "<score>:2: scorecard.balance is not a known setting (known here: base_points, "
         "payment_window_days, dpd, payments, broken_promises, contact_points, "
         "balance_minor)"},
        {"scorecard = {\n dpd = ( { from = 0; to = 4; points = 100001; },\n"
         "   { from = 5; points = 2; } );\n};\n",
         "<score>:2: scorecard.dpd.[0].points must be between -100000 and 100000, got "
         "100001"},
        {"scorecard = {\n dpd = ();\n};\n", "<score>:2: dpd must have 1 to 16 bands, got 0"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        conf_t *conf = parse(rows[i].text);
        score_card_t card;
        char err[ERR_LEN] = "";
        assert_int_equal(score_card_load(conf, "scorecard", &card, err, sizeof err),
                         SCORE_ECONFIG);
        if (strcmp(err, rows[i].err) != 0)
            fail_msg("row %zu:\n got  %s\n want %s", i, err, rows[i].err);
        conf_destroy(&conf);
    }
}

/* ---------------------------------------------------------------- segments */

static void test_segment_for(void **state)
{
    (void)state;
    score_card_t card;
    segments_t seg;
    load_card(&card, &seg);
    assert_int_equal(seg.count, 4);
    int card_product = ARREARS__PRODUCT__CREDIT_CARD, loan = ARREARS__PRODUCT__ONLINE_LOAN;
    assert_string_equal(segment_name(&seg, segment_for(&seg, 449, 0, loan)), "high_risk");
    assert_string_equal(segment_name(&seg, segment_for(&seg, 450, 1000000, card_product)),
                        "card_big");
    assert_string_equal(segment_name(&seg, segment_for(&seg, 450, 999999, card_product)),
                        "mid");
    assert_string_equal(segment_name(&seg, segment_for(&seg, 599, 100, loan)), "mid");
    assert_string_equal(segment_name(&seg, segment_for(&seg, 599, 99, loan)), "standard");
    assert_string_equal(segment_name(&seg, segment_for(&seg, 600, 100, loan)), "standard");
    assert_string_equal(segment_name(&seg, segment_for(&seg, 599, 5000000001LL, loan)),
                        "standard");
    int index;
    assert_int_equal(segment_find(&seg, "mid", &index), SCORE_OK);
    assert_int_equal(index, 2);
    assert_int_equal(segment_find(&seg, "nope", &index), SCORE_EUNKNOWN);
    const char *names[SEGMENT_MAX + 1];
    segment_names(&seg, names);
    assert_string_equal(names[3], "standard");
    assert_null(names[4]);
    /* absent: one catch-all */
    conf_t *conf = parse("x = 1;\n");
    char err[ERR_LEN];
    assert_int_equal(segments_load(conf, "segments", &seg, err, sizeof err), SCORE_OK);
    conf_destroy(&conf);
    assert_int_equal(seg.count, 1);
    assert_int_equal(segment_for(&seg, -5000, 0, 0), 0);
    assert_string_equal(score_product_name(ARREARS__PRODUCT__BNPL), "bnpl");
}

static void test_segment_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *err;
    } rows[] = {
        {"segments = (\n { name = \"a\"; max_score = 10; },\n { name = \"b\"; min_score = 5; }\n);\n",
         "<score>:3: the last segment (\"b\") must match every account: give it no score, "
         "balance or product limits"},
        {"segments = (\n { name = \"a\"; max_score = 10; },\n { name = \"a\"; }\n);\n",
         "<score>:3: duplicate segment name \"a\" (first at line 2)"},
        {"segments = (\n { name = \"a\";\n   products = [\"mortgage\"]; },\n { name = \"b\"; }\n);\n",
         "<score>:3: unknown product \"mortgage\" (known: online_loan, credit_card, "
         "instalment_loan, bnpl)"},
        {"segments = (\n { name = \"a\"; min_score = 10; max_score = 5; },\n { name = \"b\"; }\n);\n",
         "<score>:2: segment \"a\": min_score 10 is above max_score 5"},
        {"segments = (\n { max_score = 5; },\n { name = \"b\"; }\n);\n",
         "<score>:2: a segment needs a name of letters, digits, '_', '-' or '.'"},
        {"segments = (\n { name = \"a b\"; },\n { name = \"b\"; }\n);\n",
         "<score>:2: a segment needs a name of letters, digits, '_', '-' or '.'"},
        {"segments = (\n { name = \"a\"; colour = 1; }\n);\n",
         "<score>:2: segments.[0].colour is not a known setting (known here: name, "
         "min_score, max_score, min_balance_minor, max_balance_minor, products)"},
        {"segments = ();\n", "<score>:1: segments must be a list of 1 to 16 segment groups"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        conf_t *conf = parse(rows[i].text);
        segments_t seg;
        char err[ERR_LEN] = "";
        assert_int_equal(segments_load(conf, "segments", &seg, err, sizeof err),
                         SCORE_ECONFIG);
        if (strcmp(err, rows[i].err) != 0)
            fail_msg("row %zu:\n got  %s\n want %s", i, err, rows[i].err);
        conf_destroy(&conf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_score_by_hand),
        cmocka_unit_test(test_payment_window_boundary),
        cmocka_unit_test(test_empty_card),
        cmocka_unit_test(test_reasons_always_sum),
        cmocka_unit_test(test_card_errors),
        cmocka_unit_test(test_segment_for),
        cmocka_unit_test(test_segment_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
