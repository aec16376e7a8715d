/* test_portfolio: eligibility (each reason, in order), cutting by product, currency, DPD
 * band and balance band at every band edge, cuts refused at load (overlap, empty,
 * unnamed, bad sizes), and portfolio sizing worked out by hand: too few, one, even
 * splits, splits that cannot all reach the minimum, and the per-cycle cap. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "portfolio.h"

static const listed_t good = {
    .may_sell = true, .product = 1, .currency = "CNY", .outstanding_minor = 500000,
    .days_past_due = 200,
};

static cuts_t cuts_fixture(void)
{
    cuts_t c = {.min_accounts = 10, .max_accounts = 100};
    c.dpd_band_count = 3;
    c.dpd_bands[0] = (dpd_band_t){"d90-179", 90, 180};
    c.dpd_bands[1] = (dpd_band_t){"d180-359", 180, 360};
    c.dpd_bands[2] = (dpd_band_t){"d360+", 360, INT32_MAX};
    c.balance_band_count = 3;
    c.balance_bands[0] = (balance_band_t){"small", "CNY", 1, 500000};
    c.balance_bands[1] = (balance_band_t){"large", "CNY", 500000, INT64_MAX};
    c.balance_bands[2] = (balance_band_t){"small", "GBP", 1, 100000};
    return c;
}

static void assert_ineligible(listed_t l, const char *want)
{
    char why[PORTFOLIO_REASON_MAX] = "";
    assert_int_equal(portfolio_eligible(&l, why, sizeof why), PORTFOLIO_EINELIGIBLE);
    assert_string_equal(why, want);
}

static void test_eligible(void **state)
{
    (void)state;
    char why[PORTFOLIO_REASON_MAX] = "untouched";
    assert_int_equal(portfolio_eligible(&good, why, sizeof why), PORTFOLIO_OK);
    assert_string_equal(why, "untouched");
    listed_t l = good;
    l.may_sell = false;
    assert_ineligible(l, "the platform's mandate does not allow a sale");
    l = good;
    l.bankrupt = true;
    assert_ineligible(l, "the borrower is bankrupt");
    l = good;
    l.deceased = true;
    assert_ineligible(l, "the borrower is deceased");
    l = good;
    l.dispute_open = true;
    assert_ineligible(l, "the debt is disputed");
    l = good;
    l.in_litigation = true;
    assert_ineligible(l, "the account is in litigation");
    l = good;
    l.outstanding_minor = 0;
    assert_ineligible(l, "nothing is owed");
    /* Several reasons: the mandate is named first, then bankruptcy before the rest. */
    l = good;
    l.may_sell = false;
    l.bankrupt = l.in_litigation = true;
    assert_ineligible(l, "the platform's mandate does not allow a sale");
    l.may_sell = true;
    assert_ineligible(l, "the borrower is bankrupt");
}

static cut_t cut_of(const cuts_t *c, int32_t dpd, const char *currency, int64_t minor)
{
    listed_t l = good;
    l.days_past_due = dpd;
    l.currency = currency;
    l.outstanding_minor = minor;
    cut_t out;
    char why[PORTFOLIO_REASON_MAX];
    assert_int_equal(portfolio_cut_for(c, &l, &out, why, sizeof why), PORTFOLIO_OK);
    return out;
}

static void assert_no_band(const cuts_t *c, int32_t dpd, const char *currency, int64_t minor,
                           const char *want)
{
    listed_t l = good;
    l.days_past_due = dpd;
    l.currency = currency;
    l.outstanding_minor = minor;
    cut_t out;
    char why[PORTFOLIO_REASON_MAX] = "";
    assert_int_equal(portfolio_cut_for(c, &l, &out, why, sizeof why), PORTFOLIO_ENOBAND);
    assert_string_equal(why, want);
}

static void test_cut_edges(void **state)
{
    (void)state;
    cuts_t c = cuts_fixture();
    /* DPD bands are [from, to): 179 is the first band's last day, 180 the second's first. */
    assert_int_equal(cut_of(&c, 90, "CNY", 1000).dpd_band, 0);
    assert_int_equal(cut_of(&c, 179, "CNY", 1000).dpd_band, 0);
    assert_int_equal(cut_of(&c, 180, "CNY", 1000).dpd_band, 1);
    assert_int_equal(cut_of(&c, 359, "CNY", 1000).dpd_band, 1);
    assert_int_equal(cut_of(&c, 360, "CNY", 1000).dpd_band, 2);
    assert_int_equal(cut_of(&c, 5000, "CNY", 1000).dpd_band, 2);
    /* Balance bands too, per currency: 499999 small, 500000 large in CNY. */
    assert_int_equal(cut_of(&c, 200, "CNY", 499999).balance_band, 0);
    assert_int_equal(cut_of(&c, 200, "CNY", 500000).balance_band, 1);
    assert_int_equal(cut_of(&c, 200, "GBP", 99999).balance_band, 2);
    cut_t k = cut_of(&c, 200, "GBP", 50);
    assert_string_equal(k.currency, "GBP");
    assert_int_equal(k.product, 1);
    assert_no_band(&c, 89, "CNY", 1000, "DPD 89 is in no DPD band");
    assert_no_band(&c, 200, "GBP", 100000,
                   "a balance of 100000 GBP minor units is in no balance band");
    assert_no_band(&c, 200, "USD", 1000, "a balance of 1000 USD minor units is in no balance band");
}

static void assert_cuts_refused(cuts_t c, const char *want_prefix)
{
    char why[PORTFOLIO_REASON_MAX] = "";
    assert_int_equal(portfolio_cuts_check(&c, why, sizeof why), PORTFOLIO_EINVALID);
    assert_memory_equal(why, want_prefix, strlen(want_prefix));
}

static void test_cuts_check(void **state)
{
    (void)state;
    char why[PORTFOLIO_REASON_MAX];
    cuts_t c = cuts_fixture();
    assert_int_equal(portfolio_cuts_check(&c, why, sizeof why), PORTFOLIO_OK);
    c.dpd_bands[1].from_dpd = 179;   /* overlaps [90, 180) by one day */
    assert_cuts_refused(c, "DPD bands overlap: d180-359");
    c = cuts_fixture();
    c.balance_bands[1].from_minor = 499999;
    assert_cuts_refused(c, "balance bands overlap: large");
    c = cuts_fixture();
    c.balance_bands[2].from_minor = 499999;   /* another currency: no overlap */
    c.balance_bands[2].to_minor = 600000;
    assert_int_equal(portfolio_cuts_check(&c, why, sizeof why), PORTFOLIO_OK);
    c = cuts_fixture();
    c.dpd_band_count = 0;
    assert_cuts_refused(c, "between 1 and 16 DPD bands");
    c = cuts_fixture();
    c.dpd_bands[0].name[0] = '\0';
    assert_cuts_refused(c, "a DPD band needs a name");
    c = cuts_fixture();
    c.dpd_bands[0].to_dpd = 90;   /* empty */
    assert_cuts_refused(c, "a DPD band needs a name and 0 <= from < to");
    c = cuts_fixture();
    strcpy(c.balance_bands[2].currency, "GB");
    assert_cuts_refused(c, "a balance band needs a name, a currency");
    c = cuts_fixture();
    c.min_accounts = 0;
    assert_cuts_refused(c, "portfolio sizes");
    c = cuts_fixture();
    c.max_accounts = 9;
    assert_cuts_refused(c, "portfolio sizes");
    c = cuts_fixture();
    c.max_accounts = PORTFOLIO_MAX_ACCOUNTS + 1;
    assert_cuts_refused(c, "portfolio sizes");
}

/* Plans waiting accounts and checks the sizes and how many were taken. */
static void assert_plan(uint32_t min, uint32_t max, size_t waiting, size_t want_taken,
                        size_t want_count, const size_t *want_sizes)
{
    cuts_t c = cuts_fixture();
    c.min_accounts = min;
    c.max_accounts = max;
    size_t sizes[PORTFOLIO_MAX_PORTFOLIOS], count = 99;
    assert_int_equal(portfolio_plan(&c, waiting, sizes, &count), want_taken);
    assert_int_equal(count, want_count);
    size_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        assert_int_equal(sizes[i], want_sizes[i]);
        assert_true(sizes[i] >= min && sizes[i] <= max);
        sum += sizes[i];
    }
    assert_int_equal(sum, want_taken);
}

static void test_plan(void **state)
{
    (void)state;
    assert_plan(10, 100, 0, 0, 0, NULL);
    assert_plan(10, 100, 9, 0, 0, NULL);                       /* too few: all wait */
    assert_plan(10, 100, 10, 10, 1, (size_t[]){10});
    assert_plan(10, 100, 100, 100, 1, (size_t[]){100});
    assert_plan(10, 100, 101, 101, 2, (size_t[]){51, 50});     /* fewest, as even as can be */
    assert_plan(10, 100, 250, 250, 3, (size_t[]){84, 83, 83});
    /* 90..100: 101 cannot make two of 90; one full portfolio, one account waits. */
    assert_plan(90, 100, 101, 100, 1, (size_t[]){100});
    assert_plan(90, 100, 180, 180, 2, (size_t[]){90, 90});
    assert_plan(90, 100, 179, 100, 1, (size_t[]){100});
    /* More than a cycle's cap of portfolios: 64 full ones, the rest waits. */
    size_t full[PORTFOLIO_MAX_PORTFOLIOS];
    for (size_t i = 0; i < PORTFOLIO_MAX_PORTFOLIOS; i++)
        full[i] = 10;
    assert_plan(1, 10, 10 * PORTFOLIO_MAX_PORTFOLIOS + 5, 10 * PORTFOLIO_MAX_PORTFOLIOS,
                PORTFOLIO_MAX_PORTFOLIOS, full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eligible),
        cmocka_unit_test(test_cut_edges),
        cmocka_unit_test(test_cuts_check),
        cmocka_unit_test(test_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
