/* test_eligibility: legal's re-check of a referral, each refusal reason on its own and
 * in its order (mandate, deceased, bankruptcy, dispute, limitation, floor), the
 * limitation period across a leap year (from the last payment, from an acknowledgment,
 * ending on Feb 28 when it started on Feb 29), a jurisdiction with no rule and a
 * currency with no floor; every reason asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eligibility.h"
#include "tz.h"

static limitation_rules_t rules;

static const char *const rules_text =
    "limitation = {\n"
    "  jurisdictions = (\n"
    "    { name = \"CN\"; years = 3; },\n"
    "    { name = \"US-NY\"; years = 3; from = \"last_payment\"; },\n"
    "    { name = \"GB\"; years = 6; }\n"
    "  );\n"
    "};\n";

static int64_t day(int y, int m, int d)
{
    return tz_days_from_civil(y, m, d);
}

static eligibility_policy_t policy(void)
{
    eligibility_policy_t p = {.limitation = &rules, .floor_count = 2};
    p.floors[0] = (eligibility_floor_t){.currency = "CNY", .min_outstanding_minor = 100000};
    p.floors[1] = (eligibility_floor_t){.currency = "USD", .min_outstanding_minor = 50000};
    return p;
}

/* An account that passes every check: CN, 5,000.00 CNY, missed 2026-01-10, paid never. */
static eligibility_facts_t facts(void)
{
    return (eligibility_facts_t){
        .jurisdiction = "CN", .currency = "CNY", .outstanding_minor = 500000,
        .first_missed_due_day = day(2026, 1, 10), .last_payment_day = LIMITATION_DAY_NONE,
        .last_acknowledgment_day = LIMITATION_DAY_NONE, .today_day = day(2026, 11, 24),
        .may_refer_to_legal = true,
    };
}

static eligibility_t check(const eligibility_facts_t *f)
{
    eligibility_policy_t p = policy();
    eligibility_t out;
    eligibility_check(&p, f, &out);
    return out;
}

static int setup(void **state)
{
    (void)state;
    char err[256];
    return limitation_rules_parse(rules_text, "test", &rules, err, sizeof err);
}

static void test_an_account_that_passes_every_check_is_eligible(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, ELIGIBLE);
    assert_string_equal(eligibility_verdict_name(e.verdict), "eligible");
    /* 3 years from 2026-01-10: in time through 2029-01-10, barred from the 11th. */
    char date[TZ_DATE_LEN + 1];
    tz_date_format(e.barred_since_day, date);
    assert_string_equal(date, "2029-01-11");
}

static void test_each_hold_refuses_with_its_reason_in_order(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    f.dispute_open = f.bankrupt = f.deceased = true;
    f.may_refer_to_legal = false;
    static const struct {
        eligibility_verdict_t verdict;
        const char *name, *reason;
    } order[] = {
        {REFUSED_NO_MANDATE, "no_mandate", "the platform's mandate does not allow legal referral"},
        {REFUSED_DECEASED, "deceased", "the borrower is deceased"},
        {REFUSED_BANKRUPT, "bankrupt", "the borrower is in bankruptcy proceedings"},
        {REFUSED_DISPUTE, "dispute", "the debt is disputed and the dispute is open"},
    };
    for (size_t i = 0; i < 4; i++) {
        eligibility_t e = check(&f);
        assert_int_equal(e.verdict, order[i].verdict);
        assert_string_equal(eligibility_verdict_name(e.verdict), order[i].name);
        assert_string_equal(e.reason, order[i].reason);
        /* Clear the reason just seen: the next one in the order shows. */
        if (i == 0) f.may_refer_to_legal = true;
        if (i == 1) f.deceased = false;
        if (i == 2) f.bankrupt = false;
        if (i == 3) f.dispute_open = false;
    }
    assert_int_equal(check(&f).verdict, ELIGIBLE);
}

static void test_time_barred_from_the_day_after_the_period_ends(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    f.first_missed_due_day = day(2023, 5, 1);
    f.today_day = day(2026, 5, 1);   /* the period's last day: still in time */
    assert_int_equal(check(&f).verdict, ELIGIBLE);
    f.today_day = day(2026, 5, 2);
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, REFUSED_TIME_BARRED);
    assert_int_equal(e.barred_since_day, day(2026, 5, 2));
    assert_string_equal(e.reason, "time-barred since 2026-05-02 (CN: 3 years from the last "
                                  "payment or acknowledgment)");
    /* Time-barred outranks the floor: the reason staging must mark is the bar. */
    f.outstanding_minor = 1;
    assert_int_equal(check(&f).verdict, REFUSED_TIME_BARRED);
}

static void test_limitation_across_a_leap_year(void **state)
{
    (void)state;
    /* Last paid on Feb 29, 2024: 3 years end on Feb 28, 2027 (2027 is not leap). */
    eligibility_facts_t f = facts();
    f.first_missed_due_day = day(2023, 12, 1);
    f.last_payment_day = day(2024, 2, 29);
    f.today_day = day(2027, 2, 28);
    assert_int_equal(check(&f).verdict, ELIGIBLE);
    f.today_day = day(2027, 3, 1);
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, REFUSED_TIME_BARRED);
    assert_int_equal(e.barred_since_day, day(2027, 3, 1));
    /* GB, 6 years from Feb 29, 2024: Feb 28, 2030 is the last day. */
    f.jurisdiction = "GB-EAW";
    f.today_day = day(2030, 2, 28);
    assert_int_equal(check(&f).verdict, ELIGIBLE);
    f.today_day = day(2030, 3, 1);
    e = check(&f);
    assert_int_equal(e.verdict, REFUSED_TIME_BARRED);
    assert_non_null(strstr(e.reason, "since 2030-03-01 (GB: 6 years"));
}

static void test_an_acknowledgment_restarts_the_period_only_where_the_rule_says(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    f.first_missed_due_day = day(2022, 1, 1);
    f.last_acknowledgment_day = day(2024, 6, 1);
    f.today_day = day(2026, 6, 1);
    assert_int_equal(check(&f).verdict, ELIGIBLE);   /* CN: from payment or acknowledgment */
    f.jurisdiction = "US-NY";   /* from the last payment only: barred since 2025-01-02 */
    f.currency = "USD";
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, REFUSED_TIME_BARRED);
    assert_string_equal(e.reason,
                        "time-barred since 2025-01-02 (US-NY: 3 years from the last payment)");
}

static void test_a_jurisdiction_with_no_rule_is_never_assumed_in_time(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    f.jurisdiction = "FR";
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, REFUSED_NO_LIMITATION_RULE);
    assert_non_null(strstr(e.reason, "cannot be checked for jurisdiction \"FR\""));
    f.jurisdiction = NULL;
    assert_int_equal(check(&f).verdict, REFUSED_NO_LIMITATION_RULE);
}

static void test_the_balance_floor_at_its_boundary(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    f.outstanding_minor = 100000;   /* exactly the floor: taken */
    assert_int_equal(check(&f).verdict, ELIGIBLE);
    f.outstanding_minor = 99999;
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, REFUSED_BELOW_FLOOR);
    assert_string_equal(e.reason, "outstanding 999.99 CNY is below the floor 1000.00 CNY");
}

static void test_a_currency_with_no_floor_is_refused(void **state)
{
    (void)state;
    eligibility_facts_t f = facts();
    f.currency = "JPY";
    eligibility_t e = check(&f);
    assert_int_equal(e.verdict, REFUSED_NO_FLOOR);
    assert_string_equal(e.reason, "no balance floor is configured for JPY: legal takes no case in it");
    assert_string_equal(eligibility_verdict_name(ELIGIBILITY_VERDICTS), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_an_account_that_passes_every_check_is_eligible),
        cmocka_unit_test(test_each_hold_refuses_with_its_reason_in_order),
        cmocka_unit_test(test_time_barred_from_the_day_after_the_period_ends),
        cmocka_unit_test(test_limitation_across_a_leap_year),
        cmocka_unit_test(test_an_acknowledgment_restarts_the_period_only_where_the_rule_says),
        cmocka_unit_test(test_a_jurisdiction_with_no_rule_is_never_assumed_in_time),
        cmocka_unit_test(test_the_balance_floor_at_its_boundary),
        cmocka_unit_test(test_a_currency_with_no_floor_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
