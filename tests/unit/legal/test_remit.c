/* test_remit: the money of a case against values worked out by hand: a reported
 * recovery matched by its reference (new, the same money reported again, a conflicting
 * amount), the commission at rate 0, at ordinary rates and at the cap, rounded half to
 * even on its ties (0.5 -> 0, 1.5 -> 2, 2.5 -> 2), the refusal of a negative recovery
 * and of a rate below 0 or above REMIT_MAX_COMMISSION_BPS, statement totals summed with
 * an overflow that leaves them as they were, and the net the platform receives
 * (negative when costs exceed the recovery; overflow reported). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "money.h"
#include "remit.h"

#define SENTINEL INT64_C(-777)

static int64_t commission(int64_t recovery_minor, int64_t rate_bps)
{
    int64_t c = SENTINEL;
    assert_int_equal(remit_commission(recovery_minor, rate_bps, &c), MONEY_OK);
    return c;
}

static void test_recovery_match(void **state)
{
    (void)state;
    /* A reference not on record is new, whatever known_minor holds. */
    assert_int_equal(recovery_match(false, 0, 5000), RECOVERY_NEW);
    assert_int_equal(recovery_match(false, 5000, 5000), RECOVERY_NEW);
    assert_int_equal(recovery_match(false, 4000, 5000), RECOVERY_NEW);
    /* On record with the same amount: the same money reported twice. */
    assert_int_equal(recovery_match(true, 5000, 5000), RECOVERY_REPEAT);
    assert_int_equal(recovery_match(true, 0, 0), RECOVERY_REPEAT);
    assert_int_equal(recovery_match(true, INT64_MAX, INT64_MAX), RECOVERY_REPEAT);
    /* Another amount, by one minor unit either way or by much: a conflict. */
    assert_int_equal(recovery_match(true, 5000, 5001), RECOVERY_CONFLICT);
    assert_int_equal(recovery_match(true, 5000, 4999), RECOVERY_CONFLICT);
    assert_int_equal(recovery_match(true, 5000, 0), RECOVERY_CONFLICT);
    assert_int_equal(recovery_match(true, 5000, 500000), RECOVERY_CONFLICT);
}

static void test_commission_rates(void **state)
{
    (void)state;
    /* A firm paid by its costs: rate 0 earns nothing. */
    assert_int_equal(commission(123456, 0), 0);
    assert_int_equal(commission(INT64_MAX, 0), 0);
    /* 1500 bps of 10000 = 10000 * 1500 / 10000 = 1500. */
    assert_int_equal(commission(10000, 1500), 1500);
    /* 1500 bps of 12345 = 1851.75 -> 1852; of 12341 = 1851.15 -> 1851. */
    assert_int_equal(commission(12345, 1500), 1852);
    assert_int_equal(commission(12341, 1500), 1851);
    /* 1 bps of 5001 = 0.5001 -> 1; of 4999 = 0.4999 -> 0. */
    assert_int_equal(commission(5001, 1), 1);
    assert_int_equal(commission(4999, 1), 0);
    /* Nothing recovered, nothing earned. */
    assert_int_equal(commission(0, 2000), 0);
    /* The cap itself is allowed: 5000 bps of 1000000 = 500000. */
    assert_int_equal(commission(1000000, REMIT_MAX_COMMISSION_BPS), 500000);
    /* No overflow on the largest recovery: INT64_MAX * 5000 / 10000 =
     * 4611686018427387903.5, a tie, to the even 4611686018427387904. */
    assert_int_equal(commission(INT64_MAX, 5000), INT64_C(4611686018427387904));
    /* 2500 bps of INT64_MAX = 2305843009213693951.75 -> 2305843009213693952. */
    assert_int_equal(commission(INT64_MAX, 2500), INT64_C(2305843009213693952));
}

/* Ties go to the even neighbour. */
static void test_commission_half_even(void **state)
{
    (void)state;
    assert_int_equal(commission(1, 5000), 0);   /* 0.5 -> 0 */
    assert_int_equal(commission(3, 5000), 2);   /* 1.5 -> 2 */
    assert_int_equal(commission(5, 5000), 2);   /* 2.5 -> 2 */
    assert_int_equal(commission(7, 5000), 4);   /* 3.5 -> 4 */
    assert_int_equal(commission(9, 5000), 4);   /* 4.5 -> 4 */
    assert_int_equal(commission(2, 2500), 0);   /* 0.5 -> 0 */
    assert_int_equal(commission(6, 2500), 2);   /* 1.5 -> 2 */
    assert_int_equal(commission(10, 2500), 2);  /* 2.5 -> 2 */
    assert_int_equal(commission(5000, 1), 0);   /* 0.5 -> 0 */
    assert_int_equal(commission(15000, 1), 2);  /* 1.5 -> 2 */
    assert_int_equal(commission(25000, 1), 2);  /* 2.5 -> 2 */
    /* 1500 bps of 10 = 1.5 -> 2; of 30 = 4.5 -> 4; of 50 = 7.5 -> 8. */
    assert_int_equal(commission(10, 1500), 2);
    assert_int_equal(commission(30, 1500), 4);
    assert_int_equal(commission(50, 1500), 8);

    /* Rounded once per recovery: two recoveries of 3 at 5000 bps earn 2 + 2 = 4, though
     * 6 at once would earn 3. */
    assert_int_equal(commission(3, 5000) + commission(3, 5000), 4);
    assert_int_equal(commission(6, 5000), 3);
}

static void test_commission_refusals(void **state)
{
    (void)state;
    int64_t c = SENTINEL;
    assert_int_equal(remit_commission(-1, 1500, &c), MONEY_EINVALID);
    assert_int_equal(c, SENTINEL);
    assert_int_equal(remit_commission(INT64_MIN, 1500, &c), MONEY_EINVALID);
    assert_int_equal(remit_commission(-10000, 0, &c), MONEY_EINVALID);
    assert_int_equal(remit_commission(10000, -1, &c), MONEY_EINVALID);
    assert_int_equal(c, SENTINEL);
    assert_int_equal(remit_commission(10000, INT64_MIN, &c), MONEY_EINVALID);
    assert_int_equal(remit_commission(10000, REMIT_MAX_COMMISSION_BPS + 1, &c),
                     MONEY_EINVALID);
    assert_int_equal(c, SENTINEL);
    assert_int_equal(remit_commission(10000, 10000, &c), MONEY_EINVALID);
    assert_int_equal(remit_commission(10000, INT64_MAX, &c), MONEY_EINVALID);
    assert_int_equal(remit_commission(0, REMIT_MAX_COMMISSION_BPS + 1, &c), MONEY_EINVALID);
    assert_int_equal(c, SENTINEL);
    /* Just inside the domain is accepted. */
    assert_int_equal(remit_commission(10000, REMIT_MAX_COMMISSION_BPS, &c), MONEY_OK);
    assert_int_equal(c, 5000);
}

static void test_add_sums(void **state)
{
    (void)state;
    remit_totals_t t = {0, 0, 0};
    assert_int_equal(remit_add(&t, 10000, 1500, 200), MONEY_OK);
    assert_int_equal(t.recovered_minor, 10000);
    assert_int_equal(t.commission_minor, 1500);
    assert_int_equal(t.costs_minor, 200);
    assert_int_equal(remit_add(&t, 3, 2, 0), MONEY_OK);
    assert_int_equal(t.recovered_minor, 10003);
    assert_int_equal(t.commission_minor, 1502);
    assert_int_equal(t.costs_minor, 200);
    /* Costs alone (a court fee with no recovery). */
    assert_int_equal(remit_add(&t, 0, 0, 35000), MONEY_OK);
    assert_int_equal(t.recovered_minor, 10003);
    assert_int_equal(t.commission_minor, 1502);
    assert_int_equal(t.costs_minor, 35200);

    /* Up to INT64_MAX exactly. */
    remit_totals_t full = {INT64_MAX - 5, 10, 20};
    assert_int_equal(remit_add(&full, 5, 0, 0), MONEY_OK);
    assert_int_equal(full.recovered_minor, INT64_MAX);
    assert_int_equal(full.commission_minor, 10);
    assert_int_equal(full.costs_minor, 20);
}

/* An overflow in any of the three sums leaves all three as they were. */
static void test_add_overflow_leaves_totals(void **state)
{
    (void)state;
    remit_totals_t t = {INT64_MAX - 5, 10, 20};
    assert_int_equal(remit_add(&t, 6, 1, 1), MONEY_EOVERFLOW);
    assert_int_equal(t.recovered_minor, INT64_MAX - 5);
    assert_int_equal(t.commission_minor, 10);
    assert_int_equal(t.costs_minor, 20);

    /* The commission overflows; the recovery would have fitted. */
    t = (remit_totals_t){100, INT64_MAX, 20};
    assert_int_equal(remit_add(&t, 1, 1, 1), MONEY_EOVERFLOW);
    assert_int_equal(t.recovered_minor, 100);
    assert_true(t.commission_minor == INT64_MAX);
    assert_int_equal(t.costs_minor, 20);

    /* Only the costs overflow; recovery and commission would have fitted. */
    t = (remit_totals_t){100, 10, INT64_MAX};
    assert_int_equal(remit_add(&t, 1, 1, 1), MONEY_EOVERFLOW);
    assert_int_equal(t.recovered_minor, 100);
    assert_int_equal(t.commission_minor, 10);
    assert_true(t.costs_minor == INT64_MAX);

    /* And the totals still take a sum that fits afterwards. */
    assert_int_equal(remit_add(&t, 1, 1, 0), MONEY_OK);
    assert_int_equal(t.recovered_minor, 101);
    assert_int_equal(t.commission_minor, 11);
    assert_true(t.costs_minor == INT64_MAX);
}

static void test_net(void **state)
{
    (void)state;
    int64_t net = SENTINEL;
    /* 10000 - 1500 - 200 = 8300. */
    remit_totals_t t = {10000, 1500, 200};
    assert_int_equal(remit_net(&t, &net), MONEY_OK);
    assert_int_equal(net, 8300);
    /* Costs above the recovery: 1000 - 150 - 2000 = -1150. */
    t = (remit_totals_t){1000, 150, 2000};
    assert_int_equal(remit_net(&t, &net), MONEY_OK);
    assert_int_equal(net, -1150);
    /* Costs with nothing recovered: -35000. */
    t = (remit_totals_t){0, 0, 35000};
    assert_int_equal(remit_net(&t, &net), MONEY_OK);
    assert_int_equal(net, -35000);
    t = (remit_totals_t){0, 0, 0};
    assert_int_equal(remit_net(&t, &net), MONEY_OK);
    assert_int_equal(net, 0);

    /* Summed with remit_add from the commission: 12345 at 1500 bps = 1852, costs 300;
     * 3 at 5000 bps = 2, costs 0. Net 12348 - 1854 - 300 = 10194. */
    remit_totals_t s = {0, 0, 0};
    assert_int_equal(remit_add(&s, 12345, commission(12345, 1500), 300), MONEY_OK);
    assert_int_equal(remit_add(&s, 3, commission(3, 5000), 0), MONEY_OK);
    assert_int_equal(remit_net(&s, &net), MONEY_OK);
    assert_int_equal(net, 10194);

    /* The lowest net that fits: -1 - INT64_MAX = INT64_MIN. */
    t = (remit_totals_t){-1, INT64_MAX, 0};
    assert_int_equal(remit_net(&t, &net), MONEY_OK);
    assert_true(net == INT64_MIN);
}

/* A net below INT64_MIN is an overflow, reported. */
static void test_net_overflow(void **state)
{
    (void)state;
    int64_t net = SENTINEL;
    /* 0 - INT64_MAX - 2 = INT64_MIN - 1. */
    remit_totals_t t = {0, INT64_MAX, 2};
    assert_int_equal(remit_net(&t, &net), MONEY_EOVERFLOW);
    /* -2 - INT64_MAX - 0 = INT64_MIN - 1. */
    t = (remit_totals_t){-2, INT64_MAX, 0};
    assert_int_equal(remit_net(&t, &net), MONEY_EOVERFLOW);
    /* 0 - INT64_MAX - INT64_MAX. */
    t = (remit_totals_t){0, INT64_MAX, INT64_MAX};
    assert_int_equal(remit_net(&t, &net), MONEY_EOVERFLOW);
}

/* A net that fits in int64 is not an overflow, even when commission + costs alone would
 * not fit: the largest recovery, its commission at the cap (4611686018427387904, see
 * test_commission_rates) and costs of as much again: INT64_MAX - 2^62 - 2^62 = -1,
 * though 2^62 + 2^62 = 2^63 exceeds INT64_MAX. */
static void test_net_fits_though_commission_plus_costs_does_not(void **state)
{
    (void)state;
    const int64_t c = commission(INT64_MAX, REMIT_MAX_COMMISSION_BPS);
    assert_int_equal(c, INT64_C(4611686018427387904));
    remit_totals_t t = {0, 0, 0};
    assert_int_equal(remit_add(&t, INT64_MAX, c, c), MONEY_OK);
    int64_t net = SENTINEL;
    assert_int_equal(remit_net(&t, &net), MONEY_OK);
    assert_int_equal(net, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_recovery_match),
        cmocka_unit_test(test_commission_rates),
        cmocka_unit_test(test_commission_half_even),
        cmocka_unit_test(test_commission_refusals),
        cmocka_unit_test(test_add_sums),
        cmocka_unit_test(test_add_overflow_leaves_totals),
        cmocka_unit_test(test_net),
        cmocka_unit_test(test_net_overflow),
        cmocka_unit_test(test_net_fits_though_commission_plus_costs_does_not),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
