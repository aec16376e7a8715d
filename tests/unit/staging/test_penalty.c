/* Unit tests for staging's penalty accrual: the remainder carried day to day, per-day
 * and per-year (ACT/365) rates, a leap year, the annual cap reached mid-year and
 * holding, catch-up over N days equal to N single days, frozen days, overlap and bad
 * terms refused, overflow refused with each day all or nothing. Every expected value
 * is worked out by hand in the comment beside it. The carry is kept in units of
 * 1/3,650,000 of a minor unit (BOOK_CARRY_DEN = 10,000 bps x 365 days). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "book.h"
#include "penalty.h"
#include "tz.h"

static book_instalment_t storage[8];
static book_t book;

static int64_t day_of(int32_t year, int month, int day)
{
    return tz_days_from_civil(year, month, day);
}

static void fresh_book(void)
{
    assert_int_equal(book_init(&book, storage, 8), BOOK_OK);
}

static void add(book_t *b, int64_t due_day, int64_t principal, int64_t interest)
{
    book_waterfall_t w = book_waterfall_default();
    book_instalment_t in;
    assert_int_equal(book_instalment_make(due_day, principal, interest, 0, 0, &w, &in),
                     BOOK_OK);
    assert_int_equal(book_add_instalment(b, &in), BOOK_OK);
}

static int64_t accrue(book_t *b, const penalty_terms_t *t, int64_t from, int64_t to)
{
    int64_t added = -1;
    assert_int_equal(penalty_accrue(b, t, from, to, NULL, &added), PENALTY_OK);
    return added;
}

static void test_remainder_carried(void **state)
{
    (void)state;
    fresh_book();
    const int64_t due = day_of(2026, 1, 15);
    add(&book, due, 1234567, 0);
    penalty_terms_t t = { .rate_bps = 7, .period = PENALTY_PER_DAY };
    /* The due day itself is not overdue: nothing. */
    assert_int_equal(accrue(&book, &t, due, due + 1), 0);
    /* 7 bps a day on 1,234,567 = 8,641,969 / 10,000 = 864.1969 a day. In carry units:
     * 1,234,567 x (7 x 365 = 2,555) = 3,154,318,685; / 3,650,000 = 864, remainder
     * 3,154,318,685 - 3,153,600,000 = 718,685 (= 0.1969 x 3,650,000). */
    assert_int_equal(accrue(&book, &t, due + 1, due + 2), 864);
    assert_int_equal(book.instalments[0].penalty_carry, 718685);
    /* Days 2..5 carry 0.3938, 0.5907, 0.7876, 0.9845: still 864 each. */
    const int64_t carries[] = { 1437370, 2156055, 2874740, 3593425 };
    for (int k = 0; k < 4; k++) {
        assert_int_equal(accrue(&book, &t, due + 2 + k, due + 3 + k), 864);
        assert_int_equal(book.instalments[0].penalty_carry, carries[k]);
    }
    /* Day 6: 864.1969 + 0.9845 = 865.1814: the carry makes this day 865, and leaves
     * 0.1814 (= 662,110 / 3,650,000). */
    assert_int_equal(accrue(&book, &t, due + 6, due + 7), 865);
    assert_int_equal(book.instalments[0].penalty_carry, 662110);
    /* Six days: 5 x 864 + 865 = 5,185 = floor(6 x 864.1969 = 5,185.1814): no drift. */
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 5185);
    assert_int_equal(book.penalty_next_day, due + 7);
}

static void test_per_year_rate(void **state)
{
    (void)state;
    fresh_book();
    const int64_t due = day_of(2026, 1, 15);
    add(&book, due, 100000, 0);
    penalty_terms_t t = { .rate_bps = 2000, .period = PENALTY_PER_YEAR };
    /* 20% a year ACT/365 on 100,000: 100,000 x 2,000 = 200,000,000 a day over
     * 3,650,000 = 54.7945...
     *   day 1: 200,000,000             -> 54 r 2,900,000
     *   day 2: 202,900,000             -> 55 r 2,150,000
     *   day 3: 202,150,000             -> 55 r 1,400,000
     *   day 4: 201,400,000             -> 55 r   650,000
     *   day 5: 200,650,000             -> 54 r 3,550,000 */
    const int64_t expect[] = { 54, 55, 55, 55, 54 };
    for (int k = 0; k < 5; k++)
        assert_int_equal(accrue(&book, &t, due + 1 + k, due + 2 + k), expect[k]);
    assert_int_equal(book.instalments[0].penalty_carry, 3550000);
    /* 273 = floor(5 x 54.7945 = 273.97). */
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 273);
}

static void test_per_day_equals_per_year_times_365(void **state)
{
    (void)state;
    /* 10 bps a day is 3,650 bps a year ACT/365: the same numerator (3,650) over the
     * same denominator, so the same pennies. 30 days on 1,234,567: 1,234,567 x 3,650
     * x 30 / 3,650,000 = 1,234,567 x 30 / 1,000 = 37,037.01 -> 37,037, carry 0.01 x
     * 3,650,000 = 36,500. */
    const penalty_terms_t terms[] = {
        { .rate_bps = 10, .period = PENALTY_PER_DAY },
        { .rate_bps = 3650, .period = PENALTY_PER_YEAR },
    };
    for (int k = 0; k < 2; k++) {
        fresh_book();
        add(&book, day_of(2026, 1, 15), 1234567, 0);
        assert_int_equal(accrue(&book, &terms[k], day_of(2026, 1, 16), day_of(2026, 2, 15)),
                         37037);
        assert_int_equal(book.instalments[0].penalty_carry, 36500);
    }
}

static void test_leap_year_act_365(void **state)
{
    (void)state;
    /* ACT/365 over all of 2028 (366 days): 10% a year on 100,000 accrues 366/365 of
     * 10,000: 100,000 x 1,000 x 366 / 3,650,000 = 10,027.397 -> 10,027, carry
     * 36,600,000,000 - 10,027 x 3,650,000 = 1,450,000. Not 10,000: the leap day is a
     * day like any other. */
    fresh_book();
    add(&book, day_of(2027, 12, 31), 100000, 0);
    penalty_terms_t t = { .rate_bps = 1000, .period = PENALTY_PER_YEAR };
    assert_int_equal(accrue(&book, &t, day_of(2028, 1, 1), day_of(2029, 1, 1)), 10027);
    assert_int_equal(book.instalments[0].penalty_carry, 1450000);

    /* February: 36.5% a year on 365,000 is exactly 365 a day (365,000 x 3,650 /
     * 3,650,000). February 2028 has 29 days, 29 x 365 = 10,585; February 2027 has
     * 28, 28 x 365 = 10,220. */
    t.rate_bps = 3650;
    fresh_book();
    add(&book, day_of(2028, 1, 1), 365000, 0);
    assert_int_equal(accrue(&book, &t, day_of(2028, 2, 1), day_of(2028, 3, 1)), 10585);
    fresh_book();
    add(&book, day_of(2027, 1, 1), 365000, 0);
    assert_int_equal(accrue(&book, &t, day_of(2027, 2, 1), day_of(2027, 3, 1)), 10220);
}

static void test_cap_reached_mid_year_and_holding(void **state)
{
    (void)state;
    fresh_book();
    const int64_t due = day_of(2026, 1, 15); /* day 20468 */
    add(&book, due, 100000, 5000);
    penalty_terms_t t = { .rate_bps = 11, .period = PENALTY_PER_DAY, .cap_bps = 3650 };
    /* Base 105,000 at 11 bps a day = 115.5 a day: 115 (carry 0.5), 116 (carry 0),
     * so 231 every two days. Cap: 36.5% of principal 100,000 = 36,500 a year; the
     * window [2026-01-15, 2027-01-15) holds the 5,000 interest due Jan 15, so penalty
     * may reach 31,500. 272 days (Jan 16 .. Oct 14) = 136 x 231 = 31,416. */
    assert_int_equal(accrue(&book, &t, due + 1, day_of(2026, 10, 15)), 31416);
    assert_int_equal(book.cap_window_start_day, 20468);
    /* Day 273, Oct 15: 115 wanted, 31,500 - 31,416 = 84 allowed; the cut day loses its
     * carry. */
    assert_int_equal(accrue(&book, &t, day_of(2026, 10, 15), day_of(2026, 10, 16)), 84);
    assert_int_equal(book.instalments[0].penalty_carry, 0);
    /* The cap holds to the end of the window: interest 5,000 + penalty 31,500 =
     * 36,500. */
    assert_int_equal(accrue(&book, &t, day_of(2026, 10, 16), day_of(2027, 1, 15)), 0);
    assert_int_equal(book.cap_window_penalty_minor, 31500);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 31500);
    /* 2027-01-15 = 20468 + 365 opens the next window, no interest due in it: room
     * 36,500 again, and the carry starts from 0: 115, then 116. */
    assert_int_equal(accrue(&book, &t, day_of(2027, 1, 15), day_of(2027, 1, 17)), 231);
    assert_int_equal(book.cap_window_start_day, 20833);
    assert_int_equal(book.cap_window_penalty_minor, 231);
}

static void test_cap_below_interest_allows_nothing(void **state)
{
    (void)state;
    fresh_book();
    /* Cap 36.5% of 10,000 = 3,650, below the 5,000 interest due in the window: the
     * penalty may never start. */
    add(&book, day_of(2026, 1, 15), 10000, 5000);
    penalty_terms_t t = { .rate_bps = 50, .period = PENALTY_PER_DAY, .cap_bps = 3650 };
    assert_int_equal(accrue(&book, &t, day_of(2026, 1, 16), day_of(2026, 6, 1)), 0);
    /* cap_bps 0 is no cap: 15,000 x 50 bps = 75 a day, 10 days = 750. */
    t.cap_bps = 0;
    assert_int_equal(accrue(&book, &t, day_of(2026, 6, 1), day_of(2026, 6, 11)), 750);
}

/* #1 due 2026-01-15 and #2 due 2026-02-15, each principal 12,345 + interest 655 =
 * base 13,000 at 7 bps a day = 9.1 a day each; cap 20% of principal 24,690 = 4,938. */
static void catch_up_book(book_t *b, book_instalment_t *store)
{
    assert_int_equal(book_init(b, store, 4), BOOK_OK);
    add(b, day_of(2026, 1, 15), 12345, 655);
    add(b, day_of(2026, 2, 15), 12345, 655);
}

static void test_catch_up_equals_single_days(void **state)
{
    (void)state;
    static book_instalment_t one_store[4], many_store[4];
    book_t one, many;
    catch_up_book(&one, one_store);
    catch_up_book(&many, many_store);
    penalty_terms_t t = { .rate_bps = 7, .period = PENALTY_PER_DAY, .cap_bps = 2000 };
    const int64_t from = day_of(2026, 1, 16), to = from + 400; /* to 2027-02-19 */

    int64_t single_days = 0;
    for (int64_t d = from; d < to; d++)
        single_days += accrue(&one, &t, d, d + 1);
    int64_t at_once = accrue(&many, &t, from, to);
    /* Window 1 [2026-01-15, 2027-01-15): room 4,938 - 1,310 interest = 3,628, all
     * taken (the cap is reached on 2026-08-18). Window 2 (Jan 15 .. Feb 19, 36 days):
     * no interest due, room 4,938; both carries were reset by the cut days, so each
     * instalment accrues 36 x 9.1 = 327.6 -> 327 with carry 0.6 x 3,650,000 =
     * 2,190,000: 654. Total 3,628 + 654 = 4,282. */
    assert_int_equal(at_once, 4282);
    assert_int_equal(single_days, 4282);
    assert_int_equal(many.cap_window_start_day, day_of(2027, 1, 15));
    assert_int_equal(many.cap_window_penalty_minor, 654);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(many.instalments[i].penalty_carry, 2190000);
        assert_int_equal(many.instalments[i].owed_minor[BOOK_PENALTY],
                         one.instalments[i].owed_minor[BOOK_PENALTY]);
        assert_int_equal(many.instalments[i].penalty_carry, one.instalments[i].penalty_carry);
    }
    assert_int_equal(many.cap_window_start_day, one.cap_window_start_day);
    assert_int_equal(many.cap_window_penalty_minor, one.cap_window_penalty_minor);
    assert_int_equal(many.penalty_next_day, one.penalty_next_day);
}

static void test_frozen_days(void **state)
{
    (void)state;
    fresh_book();
    const int64_t due = day_of(2026, 1, 15);
    add(&book, due, 1234567, 0);
    penalty_terms_t t = { .rate_bps = 7, .period = PENALTY_PER_DAY };
    assert_int_equal(accrue(&book, &t, due + 1, due + 2), 864); /* carry 718,685 */
    /* Three frozen days: nothing added, the carry untouched, the days consumed. */
    t.frozen = true;
    assert_int_equal(accrue(&book, &t, due + 2, due + 5), 0);
    assert_int_equal(book.instalments[0].penalty_carry, 718685);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 864);
    assert_int_equal(book.penalty_next_day, due + 5);
    assert_int_equal(book.cap_window_penalty_minor, 864);
    /* Thawed: the next day is what day 2 would have been, 864 with carry 1,437,370. */
    t.frozen = false;
    assert_int_equal(accrue(&book, &t, due + 5, due + 6), 864);
    assert_int_equal(book.instalments[0].penalty_carry, 1437370);

    /* Frozen across the end of the cap window (window 1 is [Jan 15, 2027-01-15)): the
     * window is calendar time and moves on; the first day after thawing, 2027-01-20,
     * is in window 2 [2027-01-15, 2028-01-15) with that day's 864 only (carry 0.3938 +
     * 0.1969 = 0.5907, 2,156,055 < 3,650,000: still 864). */
    t.frozen = true;
    assert_int_equal(accrue(&book, &t, due + 6, day_of(2027, 1, 20)), 0);
    t.frozen = false;
    assert_int_equal(accrue(&book, &t, day_of(2027, 1, 20), day_of(2027, 1, 21)), 864);
    assert_int_equal(book.cap_window_start_day, day_of(2027, 1, 15));
    assert_int_equal(book.cap_window_penalty_minor, 864);
}

static void test_overlap_and_bad_terms_refused(void **state)
{
    (void)state;
    fresh_book();
    const int64_t due = day_of(2026, 1, 15);
    add(&book, due, 1000000, 0);
    penalty_terms_t t = { .rate_bps = 10, .period = PENALTY_PER_DAY };
    assert_int_equal(accrue(&book, &t, due + 1, due + 3), 2000); /* 1,000 a day */
    int64_t added = -1;
    /* The same day twice would charge it twice. */
    assert_int_equal(penalty_accrue(&book, &t, due + 2, due + 4, NULL, &added), PENALTY_EOVERLAP);
    assert_int_equal(added, 0);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 2000);
    /* A gap is the caller's decision: allowed. */
    assert_int_equal(accrue(&book, &t, due + 10, due + 11), 1000);

    penalty_terms_t bad = t;
    bad.rate_bps = PENALTY_MAX_RATE_BPS + 1;
    assert_int_equal(penalty_accrue(&book, &bad, due + 11, due + 12, NULL, &added),
                     PENALTY_EINVALID);
    bad = t;
    bad.period = (penalty_period_t)0;
    assert_false(penalty_terms_valid(&bad));
    bad.rate_bps = 0; /* no rate, no period needed */
    assert_true(penalty_terms_valid(&bad));
    bad = t;
    bad.cap_bps = -1;
    assert_false(penalty_terms_valid(&bad));
    assert_int_equal(penalty_accrue(&book, &t, due + 12, due + 11, NULL, &added), PENALTY_EINVALID);
    assert_int_equal(penalty_accrue(&book, &t, due + 12, due + 12 + PENALTY_MAX_SPAN_DAYS + 1,
                                    NULL, &added),
                     PENALTY_ESPAN);
    assert_int_equal(accrue(&book, &t, due + 12, due + 12), 0); /* an empty span */
    assert_string_equal(penalty_strerror(PENALTY_EOVERLAP), "those days were already accrued");
}

static void test_overflow_refused(void **state)
{
    (void)state;
    int64_t added = -1;
    /* 100x a day (1,000,000 bps) on 2^62 is 100 x 2^62, beyond int64: refused; the
     * failing first day changed nothing. */
    fresh_book();
    const int64_t due = day_of(2026, 1, 15);
    add(&book, due, INT64_C(1) << 62, 0);
    penalty_terms_t t = { .rate_bps = PENALTY_MAX_RATE_BPS, .period = PENALTY_PER_DAY };
    assert_int_equal(penalty_accrue(&book, &t, due + 1, due + 3, NULL, &added), PENALTY_EOVERFLOW);
    assert_int_equal(added, 0);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 0);
    assert_int_equal(book.instalments[0].penalty_carry, 0);
    assert_int_equal(book.penalty_next_day, due + 1);
    assert_int_equal(book.cap_window_start_day, BOOK_DAY_NONE);

    /* Principal INT64_MAX plus interest 1 as the base: refused. */
    fresh_book();
    add(&book, due, INT64_MAX, 0);
    book.instalments[0].owed_minor[BOOK_INTEREST] = 1;
    t.rate_bps = 1;
    assert_int_equal(penalty_accrue(&book, &t, due + 1, due + 2, NULL, &added), PENALTY_EOVERFLOW);

    /* Penalty owed INT64_MAX - 250, 1 bps a day on 1,000,000 = 100 a day: days 1 and 2
     * fit (INT64_MAX - 50), day 3 would pass INT64_MAX. Days 1-2 stay booked and
     * reported; day 3 and after are not, and penalty_next_day points at day 3. */
    fresh_book();
    add(&book, due, 1000000, 0);
    book.instalments[0].owed_minor[BOOK_PENALTY] = INT64_MAX - 250;
    assert_int_equal(penalty_accrue(&book, &t, due + 1, due + 6, NULL, &added), PENALTY_EOVERFLOW);
    assert_int_equal(added, 200);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], INT64_MAX - 50);
    assert_int_equal(book.penalty_next_day, due + 3);
    assert_int_equal(book.cap_window_penalty_minor, 200);
}

static void test_paid_instalments_stop_accruing(void **state)
{
    (void)state;
    fresh_book();
    const int64_t due = day_of(2026, 1, 15);
    add(&book, due, 1000000, 0);       /* 10 bps a day: 1,000 a day */
    add(&book, due + 10, 500000, 0);   /* 500 a day from due + 11 */
    penalty_terms_t t = { .rate_bps = 10, .period = PENALTY_PER_DAY };
    /* Days due+1 .. due+12: #1 12 days x 1,000 = 12,000; #2 days due+11, due+12:
     * 2 x 500 = 1,000. Each instalment's penalty sits on that instalment. */
    assert_int_equal(accrue(&book, &t, due + 1, due + 13), 13000);
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 12000);
    assert_int_equal(book.instalments[1].owed_minor[BOOK_PENALTY], 1000);
    /* Pay #1's principal off (custom order, principal first): it stops accruing; its
     * own penalty does not accrue penalty. */
    book_waterfall_t w = { .order = { BOOK_PRINCIPAL, BOOK_INTEREST, BOOK_PENALTY, BOOK_FEES },
                           .sweep = BOOK_BY_INSTALMENT };
    assert_int_equal(book_apply_payment(&book, &w, 1000000, NULL), BOOK_OK);
    assert_int_equal(accrue(&book, &t, due + 13, due + 15), 1000); /* #2 only, 2 x 500 */
    assert_int_equal(book.instalments[0].owed_minor[BOOK_PENALTY], 12000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_remainder_carried),
        cmocka_unit_test(test_per_year_rate),
        cmocka_unit_test(test_per_day_equals_per_year_times_365),
        cmocka_unit_test(test_leap_year_act_365),
        cmocka_unit_test(test_cap_reached_mid_year_and_holding),
        cmocka_unit_test(test_cap_below_interest_allows_nothing),
        cmocka_unit_test(test_catch_up_equals_single_days),
        cmocka_unit_test(test_frozen_days),
        cmocka_unit_test(test_overlap_and_bad_terms_refused),
        cmocka_unit_test(test_overflow_refused),
        cmocka_unit_test(test_paid_instalments_stop_accruing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
