/* Unit tests for staging's account book: the payment waterfall (both sweeps, the
 * default and a custom order, partial, exact and over-payment), credit, the limits,
 * overflow refused instead of wrapped, and days past due counted in borrower-local
 * calendar days across a DST change, the date line and a half-hour zone. Every
 * expected value is worked out by hand in the comment beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "book.h"
#include "tz.h"

static book_instalment_t storage[BOOK_MAX_INSTALMENTS];
static book_t book;

static int64_t day_of(int32_t year, int month, int day)
{
    return tz_days_from_civil(year, month, day);
}

static void add(int64_t due_day, int64_t principal, int64_t interest, int64_t fees,
                int64_t penalty)
{
    book_waterfall_t w = book_waterfall_default();
    book_instalment_t in;
    assert_int_equal(book_instalment_make(due_day, principal, interest, fees, 0, &w, &in),
                     BOOK_OK);
    in.owed_minor[BOOK_PENALTY] = penalty;
    assert_int_equal(book_add_instalment(&book, &in), BOOK_OK);
}

/* #1 due 2026-01-15: fees 500, penalty 300, interest 1,000, principal 10,000 = 11,800
 * #2 due 2026-02-15: fees 500, penalty   0, interest   900, principal 10,000 = 11,400
 * together 23,200. */
static int two_instalments(void **state)
{
    (void)state;
    assert_int_equal(book_init(&book, storage, BOOK_MAX_INSTALMENTS), BOOK_OK);
    add(day_of(2026, 1, 15), 10000, 1000, 500, 300);
    add(day_of(2026, 2, 15), 10000, 900, 500, 0);
    return 0;
}

static int64_t outstanding(size_t i, book_component_t c)
{
    return book.instalments[i].owed_minor[c] - book.instalments[i].paid_minor[c];
}

static void assert_allocation(const book_allocation_t *a, int64_t fees, int64_t penalty,
                              int64_t interest, int64_t principal, int64_t credit)
{
    assert_int_equal(a->component_minor[BOOK_FEES], fees);
    assert_int_equal(a->component_minor[BOOK_PENALTY], penalty);
    assert_int_equal(a->component_minor[BOOK_INTEREST], interest);
    assert_int_equal(a->component_minor[BOOK_PRINCIPAL], principal);
    assert_int_equal(a->credit_minor, credit);
}

static void test_default_waterfall_two_instalments(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    book_allocation_t a;
    /* 12,000: #1 fees 500 (11,500 left), penalty 300 (11,200), interest 1,000
     * (10,200), principal 10,000 (200); then #2 fees 200 (0). */
    assert_int_equal(book_apply_payment(&book, &w, 12000, &a), BOOK_OK);
    assert_allocation(&a, 700, 300, 1000, 10000, 0);
    assert_int_equal(a.instalments_touched, 2);
    assert_int_equal(a.oldest_touched, 0);
    assert_int_equal(a.newest_touched, 1);
    assert_false(book_instalment_unpaid(&book.instalments[0]));
    assert_int_equal(outstanding(1, BOOK_FEES), 300); /* 500 - 200 */
    int64_t total = 0;
    assert_int_equal(book_outstanding_total(&book, &total), BOOK_OK);
    assert_int_equal(total, 11200); /* 23,200 - 12,000 */
    int64_t fees = 0;
    assert_int_equal(book_outstanding(&book, BOOK_FEES, &fees), BOOK_OK);
    assert_int_equal(fees, 300);
    /* #1 is paid, so DPD counts from #2: Feb 15 -> Feb 20 = 5 days. */
    assert_int_equal(book_dpd(&book, day_of(2026, 2, 20)), 5);
}

static void test_component_sweep(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    w.sweep = BOOK_BY_COMPONENT;
    book_allocation_t a;
    /* 3,000: fees of #1 500 and #2 500 (2,000 left), penalty of #1 300 (1,700),
     * interest of #1 1,000 (700) and of #2 700 of its 900 (0). */
    assert_int_equal(book_apply_payment(&book, &w, 3000, &a), BOOK_OK);
    assert_allocation(&a, 1000, 300, 1700, 0, 0);
    assert_int_equal(a.instalments_touched, 2);
    assert_int_equal(outstanding(1, BOOK_INTEREST), 200); /* 900 - 700 */
    /* #1 still owes its principal: Jan 15 -> Feb 20 = 31 (to Feb 15) + 5 = 36. */
    assert_int_equal(book_dpd(&book, day_of(2026, 2, 20)), 36);
}

static void test_custom_order(void **state)
{
    (void)state;
    book_waterfall_t w = {
        .order = { BOOK_PRINCIPAL, BOOK_INTEREST, BOOK_PENALTY, BOOK_FEES },
        .sweep = BOOK_BY_INSTALMENT,
    };
    assert_true(book_waterfall_valid(&w));
    book_allocation_t a;
    /* 10,500: #1 principal 10,000 (500 left), #1 interest 500 of 1,000 (0). */
    assert_int_equal(book_apply_payment(&book, &w, 10500, &a), BOOK_OK);
    assert_allocation(&a, 0, 0, 500, 10000, 0);
    assert_int_equal(a.instalments_touched, 1);
    assert_int_equal(outstanding(0, BOOK_INTEREST), 500);
    assert_int_equal(outstanding(0, BOOK_PENALTY), 300);

    /* The same order, component-major, 12,000: principal across all first, #2 10,000
     * (2,000 left; #1's is paid), then interest #1 500 (1,500) and #2 900 (600), then
     * penalty #1 300 (300), then fees #1 300 of its 500 (0). */
    w.sweep = BOOK_BY_COMPONENT;
    assert_int_equal(book_apply_payment(&book, &w, 12000, &a), BOOK_OK);
    assert_allocation(&a, 300, 300, 1400, 10000, 0);
    assert_int_equal(a.oldest_touched, 0);
    assert_int_equal(a.newest_touched, 1);
    int64_t total = 0;
    assert_int_equal(book_outstanding_total(&book, &total), BOOK_OK);
    assert_int_equal(total, 700); /* 23,200 - 10,500 - 12,000: fees 200 + 500 */
}

static void test_partial_payment(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    book_allocation_t a;
    /* One minor unit: the first component of the oldest instalment, fees of #1. */
    assert_int_equal(book_apply_payment(&book, &w, 1, &a), BOOK_OK);
    assert_allocation(&a, 1, 0, 0, 0, 0);
    assert_int_equal(a.instalments_touched, 1);
    assert_int_equal(a.oldest_touched, 0);
    assert_int_equal(a.newest_touched, 0);
    assert_int_equal(outstanding(0, BOOK_FEES), 499);
    /* Still unpaid: DPD on Jan 20 = 5. */
    assert_int_equal(book_dpd(&book, day_of(2026, 1, 20)), 5);
}

static void test_exact_payoff(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    book_allocation_t a;
    /* 23,200 = fees 1,000 + penalty 300 + interest 1,900 + principal 20,000. */
    assert_int_equal(book_apply_payment(&book, &w, 23200, &a), BOOK_OK);
    assert_allocation(&a, 1000, 300, 1900, 20000, 0);
    assert_int_equal(book.credit_minor, 0);
    int64_t total = -1;
    assert_int_equal(book_outstanding_total(&book, &total), BOOK_OK);
    assert_int_equal(total, 0);
    assert_int_equal(book_dpd(&book, day_of(2026, 6, 1)), 0);
}

static void test_overpayment_kept_as_credit(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    book_allocation_t a;
    /* 25,000 - 23,200 owed = 1,800 credit. */
    assert_int_equal(book_apply_payment(&book, &w, 25000, &a), BOOK_OK);
    assert_allocation(&a, 1000, 300, 1900, 20000, 1800);
    assert_int_equal(book.credit_minor, 1800);
    /* Nothing owed: all of 50 is credit, 1,800 + 50 = 1,850. */
    assert_int_equal(book_apply_payment(&book, &w, 50, &a), BOOK_OK);
    assert_allocation(&a, 0, 0, 0, 0, 50);
    assert_int_equal(a.instalments_touched, 0);
    assert_int_equal(a.oldest_touched, SIZE_MAX);
    assert_int_equal(book.credit_minor, 1850);
    /* A new instalment (fees 0, interest 100, principal 1,000): the credit pays it,
     * 1,850 - 1,100 = 750 left. */
    add(day_of(2026, 3, 15), 1000, 100, 0, 0);
    assert_int_equal(book_apply_credit(&book, &w, &a), BOOK_OK);
    assert_allocation(&a, 0, 0, 100, 1000, 0);
    assert_int_equal(book.credit_minor, 750);
}

static void test_waive(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    /* Pay 100 of #1's fees, then waive all penalty (300 on #1) and the rest of fees
     * (400 + 500). */
    assert_int_equal(book_apply_payment(&book, &w, 100, NULL), BOOK_OK);
    int64_t waived = 0;
    assert_int_equal(book_waive_outstanding(&book, BOOK_PENALTY, &waived), BOOK_OK);
    assert_int_equal(waived, 300);
    assert_int_equal(book_waive_outstanding(&book, BOOK_FEES, &waived), BOOK_OK);
    assert_int_equal(waived, 900);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_FEES], 100); /* = what was paid */
    int64_t total = 0;
    assert_int_equal(book_outstanding_total(&book, &total), BOOK_OK);
    assert_int_equal(total, 21900); /* interest 1,900 + principal 20,000 */
}

static void test_instalment_make_spreads_paid(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    book_instalment_t in;
    /* principal 1,000, interest 100, fees 50, paid 120: fees 50, interest 70. */
    assert_int_equal(book_instalment_make(day_of(2026, 1, 1), 1000, 100, 50, 120, &w, &in),
                     BOOK_OK);
    assert_int_equal(in.paid_minor[BOOK_FEES], 50);
    assert_int_equal(in.paid_minor[BOOK_PENALTY], 0);
    assert_int_equal(in.paid_minor[BOOK_INTEREST], 70);
    assert_int_equal(in.paid_minor[BOOK_PRINCIPAL], 0);
    /* Paid beyond the 1,150 owed, negatives, a day beyond 9999-12-31: refused. */
    assert_int_equal(book_instalment_make(0, 1000, 100, 50, 1151, &w, &in), BOOK_EINVALID);
    assert_int_equal(book_instalment_make(0, -1, 0, 0, 0, &w, &in), BOOK_EINVALID);
    assert_int_equal(book_instalment_make(BOOK_DAY_MAX + 1, 1, 0, 0, 0, &w, &in),
                     BOOK_EINVALID);
}

static void test_limits_and_order(void **state)
{
    (void)state;
    static book_instalment_t big[BOOK_MAX_INSTALMENTS + 1];
    book_t b;
    assert_int_equal(book_init(&b, big, 0), BOOK_EINVALID);
    assert_int_equal(book_init(&b, big, BOOK_MAX_INSTALMENTS + 1), BOOK_EINVALID);
    assert_int_equal(book_init(&b, big, BOOK_MAX_INSTALMENTS), BOOK_OK);
    book_instalment_t in = { .due_day = day_of(2026, 1, 1) };
    in.owed_minor[BOOK_PRINCIPAL] = 100;
    for (int i = 0; i < BOOK_MAX_INSTALMENTS; i++, in.due_day++)
        assert_int_equal(book_add_instalment(&b, &in), BOOK_OK);
    assert_int_equal(book_add_instalment(&b, &in), BOOK_EFULL); /* the 601st */
    assert_int_equal(b.count, 600);

    assert_int_equal(book_init(&b, big, 2), BOOK_OK);
    in.due_day = day_of(2026, 1, 1);
    assert_int_equal(book_add_instalment(&b, &in), BOOK_OK);
    assert_int_equal(book_add_instalment(&b, &in), BOOK_EORDER); /* same day */
    in.due_day--;
    assert_int_equal(book_add_instalment(&b, &in), BOOK_EORDER); /* earlier */
    in.due_day += 2;
    in.paid_minor[BOOK_PRINCIPAL] = 101; /* paid beyond owed */
    assert_int_equal(book_add_instalment(&b, &in), BOOK_EINVALID);
    in.paid_minor[BOOK_PRINCIPAL] = 0;
    in.penalty_carry = BOOK_CARRY_DEN; /* a carry is below one minor unit */
    assert_int_equal(book_add_instalment(&b, &in), BOOK_EINVALID);
    in.penalty_carry = 0;
    assert_int_equal(book_add_instalment(&b, &in), BOOK_OK);
    in.due_day++;
    assert_int_equal(book_add_instalment(&b, &in), BOOK_EFULL);

    book_waterfall_t w = book_waterfall_default();
    assert_int_equal(book_apply_payment(&b, &w, 0, NULL), BOOK_EINVALID);
    assert_int_equal(book_apply_payment(&b, &w, -5, NULL), BOOK_EINVALID);
    w.order[3] = BOOK_FEES; /* fees twice, principal never */
    assert_false(book_waterfall_valid(&w));
    assert_int_equal(book_apply_payment(&b, &w, 10, NULL), BOOK_EINVALID);
    w = book_waterfall_default();
    w.sweep = (book_sweep_t)7;
    assert_false(book_waterfall_valid(&w));
}

static void test_component_names(void **state)
{
    (void)state;
    book_component_t c;
    assert_int_equal(book_component_from_name("penalty", &c), BOOK_OK);
    assert_int_equal(c, BOOK_PENALTY);
    assert_string_equal(book_component_name(BOOK_PRINCIPAL), "principal");
    assert_int_equal(book_component_from_name("Principal", &c), BOOK_EINVALID);
    assert_null(book_component_name((book_component_t)4));
    assert_string_equal(book_strerror(BOOK_EOVERFLOW), "amount beyond int64 minor units");
}

static void test_overflow_refused(void **state)
{
    (void)state;
    book_waterfall_t w = book_waterfall_default();
    book_instalment_t in;
    /* INT64_MAX + 1 of principal and interest: refused, not wrapped. */
    assert_int_equal(book_instalment_make(0, INT64_MAX, 1, 0, 0, &w, &in), BOOK_EOVERFLOW);

    /* Two instalments of INT64_MAX principal each are valid alone; their sum is not. */
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    add(day_of(2026, 1, 15), INT64_MAX, 0, 0, 0);
    add(day_of(2026, 2, 15), INT64_MAX, 0, 0, 0);
    int64_t total = 42;
    assert_int_equal(book_outstanding_total(&book, &total), BOOK_EOVERFLOW);
    assert_int_equal(book_outstanding(&book, BOOK_PRINCIPAL, &total), BOOK_EOVERFLOW);
    assert_int_equal(book_overdue_total(&book, day_of(2026, 3, 1), &total), BOOK_EOVERFLOW);
    assert_int_equal(total, 42); /* untouched */
    /* Only #1 is overdue on Feb 1: that sum fits. */
    assert_int_equal(book_overdue_total(&book, day_of(2026, 2, 1), &total), BOOK_OK);
    assert_int_equal(total, INT64_MAX);
    int64_t waived = 7;
    assert_int_equal(book_waive_outstanding(&book, BOOK_PRINCIPAL, &waived), BOOK_EOVERFLOW);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PRINCIPAL], INT64_MAX);
    assert_int_equal(waived, 7);

    /* Credit that would pass INT64_MAX: principal 100, a payment of INT64_MAX leaves
     * credit INT64_MAX - 100. A new instalment of 10 and a payment of 111 would put
     * 10 on it and 101 on the credit: INT64_MAX + 1. Refused, the book unchanged. */
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    add(day_of(2026, 1, 15), 100, 0, 0, 0);
    assert_int_equal(book_apply_payment(&book, &w, INT64_MAX, NULL), BOOK_OK);
    assert_int_equal(book.credit_minor, INT64_MAX - 100);
    add(day_of(2026, 2, 15), 10, 0, 0, 0);
    book_allocation_t a = { .credit_minor = -9 };
    assert_int_equal(book_apply_payment(&book, &w, 111, &a), BOOK_EOVERFLOW);
    assert_int_equal(a.credit_minor, -9);
    assert_int_equal(book.instalments[1].paid_minor[BOOK_PRINCIPAL], 0);
    assert_int_equal(book.credit_minor, INT64_MAX - 100);
    /* 110 fits exactly: 10 to the instalment, credit INT64_MAX - 100 + 100. */
    assert_int_equal(book_apply_payment(&book, &w, 110, &a), BOOK_OK);
    assert_int_equal(book.credit_minor, INT64_MAX);
}

static void test_dpd_basics(void **state)
{
    (void)state;
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    assert_int_equal(book_dpd(&book, day_of(2026, 3, 1)), 0); /* an empty book */
    add(day_of(2026, 3, 10), 1000, 0, 0, 0);
    add(day_of(2026, 4, 10), 1000, 0, 0, 0);
    assert_int_equal(book_dpd(&book, day_of(2026, 3, 9)), 0);  /* before: never negative */
    assert_int_equal(book_dpd(&book, day_of(2026, 3, 10)), 0); /* due today: not late */
    assert_int_equal(book_dpd(&book, day_of(2026, 3, 11)), 1);
    /* Both overdue on May 1: DPD counts from the oldest, Mar 10 -> May 1 = 21 + 30 = 52. */
    assert_int_equal(book_dpd(&book, day_of(2026, 5, 1)), 52);
    book_waterfall_t w = book_waterfall_default();
    assert_int_equal(book_apply_payment(&book, &w, 1000, NULL), BOOK_OK);
    /* #1 paid: from Apr 10 -> May 1 = 21. */
    assert_int_equal(book_dpd(&book, day_of(2026, 5, 1)), 21);
    /* Penalty alone keeps an instalment unpaid. */
    book.instalments[0].owed_minor[BOOK_PENALTY] = 5;
    assert_int_equal(book_dpd(&book, day_of(2026, 5, 1)), 52);
}

static tz_cache_t *zones;

static int64_t local_day(const char *zone_name, int64_t utc_s)
{
    const tz_zone_t *zone = NULL;
    assert_int_equal(tz_cache_get(zones, zone_name, &zone), TZ_OK);
    return tz_local_day(zone, utc_s);
}

static void test_dpd_across_dst(void **state)
{
    (void)state;
    zones = tz_cache_new(NULL, 8);
    assert_non_null(zones);
    const tz_zone_t *ny = NULL;
    assert_int_equal(tz_cache_get(zones, "America/New_York", &ny), TZ_OK);

    /* Spring forward: New York skips 02:00-03:00 on Sunday 2026-03-08. Due Saturday
     * Mar 7 (day 20519); it began 00:00 EST = 05:00Z = 20519 x 86400 + 18,000 =
     * 1,772,859,600. Now: Mon Mar 9 00:30 EDT = 04:30Z = 20521 x 86400 + 16,200 =
     * 1,773,030,600. 171,000 s = 47.5 hours have passed, one whole 24-hour period; but
     * two calendar days (Mar 7 -> Mar 9), and DPD counts calendar days: 2. */
    int64_t now = 0;
    assert_int_equal(tz_utc_of_local(ny, 2026, 3, 9, 0, 30, 0, &now), TZ_OK);
    assert_int_equal(now, INT64_C(1773030600));
    int64_t due_start = 0;
    assert_int_equal(tz_utc_of_local(ny, 2026, 3, 7, 0, 0, 0, &due_start), TZ_OK);
    assert_int_equal(now - due_start, 171000); /* 47.5 h */
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    add(day_of(2026, 3, 7), 1000, 0, 0, 0);
    assert_int_equal(day_of(2026, 3, 7), 20519);
    assert_int_equal(tz_local_day(ny, now), 20521);
    assert_int_equal(book_dpd(&book, tz_local_day(ny, now)), 2);

    /* Fall back: 2026-11-01 has 25 hours. Due Sat Oct 31 (20757), began 00:00 EDT =
     * 04:00Z = 1,793,419,200. Now: Sun Nov 1 23:30 EST = Nov 2 04:30Z = 20759 x 86400
     * + 16,200 = 1,793,593,800. 174,600 s = 48.5 hours, two 24-hour periods; one
     * calendar day (Oct 31 -> Nov 1): DPD 1. */
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    add(day_of(2026, 10, 31), 1000, 0, 0, 0);
    assert_int_equal(tz_utc_of_local(ny, 2026, 11, 1, 23, 30, 0, &now), TZ_OK);
    assert_int_equal(now, INT64_C(1793593800));
    assert_int_equal(tz_local_day(ny, now), 20758);
    assert_int_equal(book_dpd(&book, tz_local_day(ny, now)), 1);
}

static void test_dpd_across_the_date_line(void **state)
{
    (void)state;
    /* One instant, 2026-03-10T10:30Z = 20522 x 86400 + 37,800 = 1,773,138,600:
     *   Pacific/Pago_Pago (UTC-11):    Mar 9  23:30 -> day 20521
     *   UTC:                           Mar 10 10:30 -> day 20522
     *   Pacific/Kiritimati (UTC+14):   Mar 11 00:30 -> day 20523
     * An instalment due Mar 9 (20521) is 0, 1 and 2 days past due at that instant. */
    const int64_t now = INT64_C(1773138600);
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    add(day_of(2026, 3, 9), 1000, 0, 0, 0);
    assert_int_equal(local_day("Pacific/Pago_Pago", now), 20521);
    assert_int_equal(local_day("UTC", now), 20522);
    assert_int_equal(local_day("Pacific/Kiritimati", now), 20523);
    assert_int_equal(book_dpd(&book, local_day("Pacific/Pago_Pago", now)), 0);
    assert_int_equal(book_dpd(&book, local_day("UTC", now)), 1);
    assert_int_equal(book_dpd(&book, local_day("Pacific/Kiritimati", now)), 2);
}

static void test_dpd_in_a_half_hour_zone(void **state)
{
    (void)state;
    /* Asia/Kolkata is UTC+5:30. Due Mar 10 (20522). 2026-03-10T18:29:59Z =
     * 20522 x 86400 + 66,599 = 1,773,167,399 is 23:59:59 local on Mar 10: DPD 0.
     * One second later it is 00:00 on Mar 11 local (still Mar 10 in UTC): DPD 1. */
    assert_int_equal(book_init(&book, storage, 4), BOOK_OK);
    add(day_of(2026, 3, 10), 1000, 0, 0, 0);
    assert_int_equal(book_dpd(&book, local_day("Asia/Kolkata", INT64_C(1773167399))), 0);
    assert_int_equal(book_dpd(&book, local_day("Asia/Kolkata", INT64_C(1773167400))), 1);
    assert_int_equal(book_dpd(&book, local_day("UTC", INT64_C(1773167400))), 0);
    tz_cache_destroy(&zones);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_default_waterfall_two_instalments, two_instalments),
        cmocka_unit_test_setup(test_component_sweep, two_instalments),
        cmocka_unit_test_setup(test_custom_order, two_instalments),
        cmocka_unit_test_setup(test_partial_payment, two_instalments),
        cmocka_unit_test_setup(test_exact_payoff, two_instalments),
        cmocka_unit_test_setup(test_overpayment_kept_as_credit, two_instalments),
        cmocka_unit_test_setup(test_waive, two_instalments),
        cmocka_unit_test(test_instalment_make_spreads_paid),
        cmocka_unit_test(test_limits_and_order),
        cmocka_unit_test(test_component_names),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_dpd_basics),
        cmocka_unit_test(test_dpd_across_dst),
        cmocka_unit_test(test_dpd_across_the_date_line),
        cmocka_unit_test(test_dpd_in_a_half_hour_zone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
