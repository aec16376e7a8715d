/* test_auction: each bid rule at its boundary (invitation, opening, the deadline's last
 * millisecond, currency, the first bid's step, a raise by less than the step), the award
 * (highest at or above reserve, reserve exactly met, no winner, ties by instant then by
 * order of receipt), withdrawal pro rata (half to even, the order of bids unchanged),
 * shares that add up to the price exactly, and the put-back window's last instant. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auction.h"

static const auction_terms_t terms = {
    .opens_ms = 1000, .deadline_ms = 5000, .min_step_minor = 100, .currency = "CNY",
};

static int check(bool invited, const bid_t *previous, const char *currency, int64_t amount,
                 int64_t now_ms, const char *want_why)
{
    char why[AUCTION_REASON_MAX] = "";
    int rc = auction_check_bid(&terms, invited, previous, currency, amount, now_ms, why, sizeof why);
    if (want_why)
        assert_string_equal(why, want_why);
    return rc;
}

static void test_bid_rules(void **state)
{
    (void)state;
    assert_int_equal(check(true, NULL, "CNY", 100, 1000, NULL), AUCTION_OK);
    assert_int_equal(check(true, NULL, "CNY", 100, 4999, NULL), AUCTION_OK);
    assert_int_equal(check(false, NULL, "CNY", 100, 2000, "the buyer is not invited to this portfolio"),
                     AUCTION_ENOTINVITED);
    assert_int_equal(check(true, NULL, "CNY", 100, 999, "bidding opens at 1000 ms; received at 999 ms"),
                     AUCTION_ECLOSED);
    assert_int_equal(check(true, NULL, "CNY", 100, 5000, "bidding closed at 5000 ms; received at 5000 ms"),
                     AUCTION_ECLOSED);
    assert_int_equal(check(true, NULL, "USD", 100, 2000, "the portfolio is in CNY, the bid in \"USD\""),
                     AUCTION_ECURRENCY);
    assert_int_equal(check(true, NULL, NULL, 100, 2000, "the portfolio is in CNY, the bid in no currency"),
                     AUCTION_ECURRENCY);
    assert_int_equal(check(true, NULL, "CNYX", 100, 2000, "the portfolio is in CNY, the bid in \"CNYX\""),
                     AUCTION_ECURRENCY);
    assert_int_equal(check(true, NULL, "CNY", 99, 2000, "a bid of 99 is below the minimum step of 100"),
                     AUCTION_ESTEP);
    assert_int_equal(check(true, NULL, "CNY", 0, 2000, NULL), AUCTION_ESTEP);
    assert_int_equal(check(true, NULL, "CNY", -500, 2000, NULL), AUCTION_ESTEP);
    /* A raise: by the step exactly is taken, by less (or a lower bid) is refused. */
    bid_t standing = {.amount_minor = 10000, .at_ms = 1500, .order = 1};
    assert_int_equal(check(true, &standing, "CNY", 10100, 2000, NULL), AUCTION_OK);
    assert_int_equal(check(true, &standing, "CNY", 10099, 2000,
                           "a new bid must raise the standing bid of 10000 by at least 100"),
                     AUCTION_ESTEP);
    assert_int_equal(check(true, &standing, "CNY", 9000, 2000, NULL), AUCTION_ESTEP);
    assert_int_equal(check(true, &standing, "CNY", 10000, 2000, NULL), AUCTION_ESTEP);
    /* The deadline comes before the step: a late raise is refused as late. */
    assert_int_equal(check(true, &standing, "CNY", 99999, 6000, NULL), AUCTION_ECLOSED);
}

static int winner_of(const bid_t *bids, size_t n, int64_t reserve)
{
    size_t w = 999;
    int rc = auction_award(bids, n, reserve, &w);
    return rc == AUCTION_OK ? (int)w : rc;
}

static void test_award(void **state)
{
    (void)state;
    const bid_t bids[] = {
        {.amount_minor = 50000, .at_ms = 2000, .order = 1},
        {.amount_minor = 70000, .at_ms = 3000, .order = 2},
        {.amount_minor = 60000, .at_ms = 1500, .order = 3},
    };
    assert_int_equal(winner_of(bids, 3, 40000), 1);
    assert_int_equal(winner_of(bids, 3, 70000), 1);   /* at the reserve wins */
    assert_int_equal(winner_of(bids, 3, 70001), AUCTION_ENOWINNER);
    assert_int_equal(winner_of(bids, 0, 0), AUCTION_ENOWINNER);
    /* Ties: the earlier instant; at one instant, the earlier receipt. */
    const bid_t tied[] = {
        {.amount_minor = 70000, .at_ms = 3000, .order = 7},
        {.amount_minor = 70000, .at_ms = 2000, .order = 9},
        {.amount_minor = 70000, .at_ms = 2000, .order = 8},
        {.amount_minor = 20000, .at_ms = 1000, .order = 1},
    };
    assert_int_equal(winner_of(tied, 4, 10000), 2);
    assert_int_equal(winner_of(tied, 2, 10000), 1);
    /* A lone bid wins exactly when it meets the reserve. */
    assert_int_equal(winner_of(tied + 3, 1, 20000), 0);
    assert_int_equal(winner_of(tied + 3, 1, 20001), AUCTION_ENOWINNER);
}

static int64_t pro_rata(int64_t amount, int64_t remaining, int64_t listed)
{
    int64_t out = -1;
    assert_int_equal(auction_pro_rata(amount, remaining, listed, &out), AUCTION_OK);
    return out;
}

static void test_withdrawal(void **state)
{
    (void)state;
    assert_int_equal(pro_rata(100000, 1000, 1000), 100000);    /* none left */
    assert_int_equal(pro_rata(100000, 750, 1000), 75000);
    assert_int_equal(pro_rata(100000, 0, 1000), 0);            /* every account left */
    /* 1001 * 1/2 = 500.5 -> 500; 1003 * 1/2 = 501.5 -> 502 (half to even). */
    assert_int_equal(pro_rata(1001, 1, 2), 500);
    assert_int_equal(pro_rata(1003, 1, 2), 502);
    /* Scaling keeps the order of bids (and keeps ties tied). */
    const int64_t amounts[] = {98765, 98766, 120000, 120000};
    for (size_t i = 1; i < 4; i++)
        assert_true(pro_rata(amounts[i - 1], 333, 1000) <= pro_rata(amounts[i], 333, 1000));
    /* Large balances: no overflow through the 128-bit product. */
    assert_int_equal(pro_rata(INT64_MAX / 2, INT64_MAX / 2, INT64_MAX / 2), INT64_MAX / 2);
}

static void assert_shares(int64_t price, const int64_t *w, size_t n, const int64_t *want)
{
    int64_t shares[16], sum = 0;
    assert_int_equal(auction_shares(price, w, n, shares), AUCTION_OK);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(shares[i], want[i]);
        sum += shares[i];
    }
    assert_int_equal(sum, price);
}

static void test_shares(void **state)
{
    (void)state;
    assert_shares(1000, (int64_t[]){1, 1, 1}, 3, (int64_t[]){333, 333, 334});
    assert_shares(100, (int64_t[]){3000, 1000}, 2, (int64_t[]){75, 25});
    assert_shares(0, (int64_t[]){5, 5}, 2, (int64_t[]){0, 0});
    assert_shares(7, (int64_t[]){0, 10, 0}, 3, (int64_t[]){0, 7, 0});
    /* 10 by 1:2:3:4 is exact. 11 by 1:1:1 -> floors of 11/3, 22/3, 33/3 -> 3, 4, 4. */
    assert_shares(10, (int64_t[]){1, 2, 3, 4}, 4, (int64_t[]){1, 2, 3, 4});
    assert_shares(11, (int64_t[]){1, 1, 1}, 3, (int64_t[]){3, 4, 4});
    /* Each share within one minor unit of its exact share. */
    int64_t w[16], s[16], total = 0, price = 987654321;
    for (size_t i = 0; i < 16; i++)
        total += w[i] = (int64_t)(i * 7919 % 1000 + 1);
    assert_int_equal(auction_shares(price, w, 16, s), AUCTION_OK);
    for (size_t i = 0; i < 16; i++) {
        __int128 exact_x_total = (__int128)price * w[i];
        __int128 diff = (__int128)s[i] * total - exact_x_total;
        assert_true(diff > -(__int128)total && diff < (__int128)total);
    }
    int64_t huge[2] = {INT64_MAX, 1};
    assert_int_equal(auction_shares(100, huge, 2, s), AUCTION_EOVERFLOW);
}

static void test_put_back_window(void **state)
{
    (void)state;
    int64_t awarded = 1000000;
    assert_int_equal(auction_put_back_open(awarded, 30, awarded), AUCTION_OK);
    assert_int_equal(auction_put_back_open(awarded, 30, awarded + 30 * AUCTION_DAY_MS - 1), AUCTION_OK);
    assert_int_equal(auction_put_back_open(awarded, 30, awarded + 30 * AUCTION_DAY_MS), AUCTION_EWINDOW);
    assert_int_equal(auction_put_back_open(awarded, 0, awarded), AUCTION_EWINDOW);   /* no window */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bid_rules),
        cmocka_unit_test(test_award),
        cmocka_unit_test(test_withdrawal),
        cmocka_unit_test(test_shares),
        cmocka_unit_test(test_put_back_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
