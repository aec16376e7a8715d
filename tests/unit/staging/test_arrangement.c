/* test_arrangement: promises kept and broken on both sides of date + grace, the partial
 * policy, plans broken on both sides of an instalment's grace and completed, the one
 * deferral, settlement limits exactly at the limit and one bps over, approval, lapse,
 * and the policy's config with file:line errors. Days are plain day numbers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "arrangement.h"
#include "tz.h"

#define ERR_LEN 512

/* 2026-01-01 and friends, so reasons read as dates. */
static int32_t day_of(int year, int month, int day)
{
    return (int32_t)tz_days_from_civil(year, month, day);
}

typedef struct {
    arrangement_policy_t policy;
    arrangement_t arr;
    arrangement_decision_t d;
} fixture_t;

static int setup(void **state)
{
    static fixture_t f;
    memset(&f, 0, sizeof f);
    arrangement_policy_default(&f.policy);
    arrangement_init(&f.arr);
    *state = &f;
    return 0;
}

/* ---------------------------------------------------------------- promises */

static void test_promise_kept_on_last_grace_day(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 1, 1), date = day_of(2026, 1, 10);   /* grace 3 */
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 50000, 80000, today, date, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_string_equal(f->d.reason, "promise of 50000 minor by 2026-01-10 recorded; dunning "
                                     "pauses until 2026-01-13");
    assert_true(arrangement_pauses_dunning(&f->policy, &f->arr, date + 3));
    assert_false(arrangement_pauses_dunning(&f->policy, &f->arr, date + 4));
    assert_int_equal(arrangement_review(&f->policy, &f->arr, date + 3, &f->d),
                     ARRANGEMENT_PENDING);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 50000, date + 3, &f->d),
                     ARRANGEMENT_KEPT);
    assert_false(f->d.lapsed);
    assert_string_equal(f->d.reason, "promise kept: 50000 of 50000 minor paid");
    assert_int_equal(f->arr.kept_count, 1);
    assert_int_equal(arrangement_broken_count(&f->arr), 0);
    assert_false(arrangement_is_open(&f->arr));
    assert_false(arrangement_pauses_dunning(&f->policy, &f->arr, date));
    assert_int_equal(arrangement_review(&f->policy, &f->arr, date + 100, &f->d),
                     ARRANGEMENT_NONE);
}

static void test_promise_broken_day_after_grace(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 1, 1), date = day_of(2026, 1, 10);
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 50000, 80000, today, date, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 20000, date, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_string_equal(f->d.reason, "promise: 20000 of 50000 minor paid");
    assert_int_equal(arrangement_review(&f->policy, &f->arr, date + 3, &f->d),
                     ARRANGEMENT_PENDING);
    assert_int_equal(arrangement_broken_count(&f->arr), 0);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, date + 4, &f->d),
                     ARRANGEMENT_BROKEN);
    assert_string_equal(f->d.reason, "promise broken: 20000 of 50000 minor paid by 2026-01-13 "
                                     "(date 2026-01-10 + 3 days' grace)");
    assert_int_equal(arrangement_broken_count(&f->arr), 1);
    assert_false(arrangement_is_open(&f->arr));
    /* Reviewing again does not count it twice. */
    assert_int_equal(arrangement_review(&f->policy, &f->arr, date + 5, &f->d),
                     ARRANGEMENT_NONE);
    assert_int_equal(arrangement_broken_count(&f->arr), 1);
    /* A second promise, broken too: two toward escalation. */
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 10000, 60000, date + 5,
                                         date + 6, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, date + 10, &f->d),
                     ARRANGEMENT_BROKEN);
    assert_int_equal(arrangement_broken_count(&f->arr), 2);
}

/* A payment arriving after date + grace before the daily review ran: the review happens
 * first (lapsed), and the payment keeps nothing. */
static void test_promise_payment_too_late(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 1, 1), date = day_of(2026, 1, 10);
    arrangement_promise(&f->policy, &f->arr, 50000, 80000, today, date, &f->d);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 50000, date + 4, &f->d),
                     ARRANGEMENT_NONE);
    assert_true(f->d.lapsed);
    assert_non_null(strstr(f->d.lapsed_reason, "promise broken"));
    assert_int_equal(arrangement_broken_count(&f->arr), 1);
    assert_int_equal(f->arr.kept_count, 0);
}

static void test_promise_partial_policy(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 2, 1);
    /* Default: all of it. Partial payments add up. */
    arrangement_promise(&f->policy, &f->arr, 50000, 50000, today, today + 5, &f->d);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 49999, today, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 1, today + 1, &f->d),
                     ARRANGEMENT_KEPT);
    /* 90% keeps it: 44999 does not, 45000 does. */
    f->policy.promise_kept_min_bps = 9000;
    arrangement_init(&f->arr);
    arrangement_promise(&f->policy, &f->arr, 50000, 50000, today, today + 5, &f->d);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 44999, today, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 1, today, &f->d),
                     ARRANGEMENT_KEPT);
    /* 44999 by the deadline: broken. */
    arrangement_init(&f->arr);
    arrangement_promise(&f->policy, &f->arr, 50000, 50000, today, today + 5, &f->d);
    arrangement_payment(&f->policy, &f->arr, 44999, today + 8, &f->d);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, today + 9, &f->d),
                     ARRANGEMENT_BROKEN);
}

static void test_promise_refusals(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 3, 1);
    static const struct {
        int64_t amount, owed;
        int32_t offset;
        const char *reason;
    } rows[] = {
        {0, 100, 1, "promise refused: 0 minor is not between 1 and the 100 owed"},
        {101, 100, 1, "promise refused: 101 minor is not between 1 and the 100 owed"},
        {50, 100, -1, "promise refused: date 2026-02-28 is not between today and 30 days "
                      "ahead"},
        {50, 100, 31, "promise refused: date 2026-04-01 is not between today and 30 days "
                      "ahead"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        assert_int_equal(arrangement_promise(&f->policy, &f->arr, rows[i].amount,
                                             rows[i].owed, today, today + rows[i].offset,
                                             &f->d),
                         ARRANGEMENT_REFUSED);
        assert_string_equal(f->d.reason, rows[i].reason);
        assert_int_equal(f->arr.kind, ARRANGEMENT_KIND_NONE);
    }
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 50, 100, today, today + 30,
                                         &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 60, 100, today, today + 2,
                                         &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "promise refused: a promise is already pending");
    assert_int_equal(f->arr.amount_minor, 50);
    /* today itself is a valid date */
    arrangement_init(&f->arr);
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 50, 100, today, today, &f->d),
                     ARRANGEMENT_ACCEPTED);
}

/* ---------------------------------------------------------------- plans */

static const plan_instalment_t three[] = {
    {.due_day = 20500, .amount_minor = 1000},
    {.due_day = 20530, .amount_minor = 1000},
    {.due_day = 20560, .amount_minor = 1000},
};

static void test_plan_broken_day_after_grace(void **state)
{
    fixture_t *f = *state;
    int32_t today = 20490;   /* grace 5 */
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, today,
                                      &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_true(arrangement_freezes_penalty(&f->arr));
    assert_true(arrangement_pauses_dunning(&f->policy, &f->arr, today + 500));
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 1000, 20505, &f->d),
                     ARRANGEMENT_ACCEPTED);   /* first instalment paid on its last grace day */
    assert_string_equal(f->d.reason, "plan: 1 of 3 instalments covered");
    assert_int_equal(arrangement_review(&f->policy, &f->arr, 20506, &f->d),
                     ARRANGEMENT_PENDING);
    /* the second one is short by 1 */
    arrangement_payment(&f->policy, &f->arr, 999, 20530, &f->d);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, 20535, &f->d),
                     ARRANGEMENT_PENDING);
    assert_true(arrangement_freezes_penalty(&f->arr));
    assert_int_equal(arrangement_review(&f->policy, &f->arr, 20536, &f->d),
                     ARRANGEMENT_BROKEN);
    /* day 20530 is 2026-03-18 */
    assert_string_equal(f->d.reason, "plan broken: instalment 2 of 3 (1000 minor due "
                                     "2026-03-18) still short by 1 minor after 5 days' "
                                     "grace; penalty accrues again");
    assert_false(arrangement_freezes_penalty(&f->arr));
    assert_false(arrangement_pauses_dunning(&f->policy, &f->arr, 20536));
    assert_int_equal(arrangement_broken_count(&f->arr), 1);
}

static void test_plan_first_instalment_missed(void **state)
{
    fixture_t *f = *state;
    arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, 20490, &f->d);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, 20505, &f->d),
                     ARRANGEMENT_PENDING);
    /* a payment on the day after grace comes too late */
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 1000, 20506, &f->d),
                     ARRANGEMENT_NONE);
    assert_true(f->d.lapsed);
    assert_non_null(strstr(f->d.lapsed_reason, "instalment 1 of 3"));
    assert_false(arrangement_freezes_penalty(&f->arr));
}

static void test_plan_completes_with_waiver(void **state)
{
    fixture_t *f = *state;
    /* owed 3500 of which 500 penalty, waived: the plan covers 3000 */
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, true, 3500, 500, 20490,
                                      &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_non_null(strstr(f->d.reason, "penalty waived on completion"));
    arrangement_payment(&f->policy, &f->arr, 2000, 20500, &f->d);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 1000, 20560, &f->d),
                     ARRANGEMENT_COMPLETED);
    assert_string_equal(f->d.reason, "plan completed: 3000 minor paid; the penalty is waived");
    assert_false(arrangement_freezes_penalty(&f->arr));
    assert_int_equal(f->arr.kept_count, 1);
    assert_int_equal(arrangement_broken_count(&f->arr), 0);
}

static void test_plan_refusals(void **state)
{
    fixture_t *f = *state;
    plan_instalment_t bad[3];
    memcpy(bad, three, sizeof bad);
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3001, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "plan refused: instalments add up to 3000 minor, the "
                                     "plan must cover exactly 3001");
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 1, false, 1000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);   /* one payment is a promise, not a plan */
    bad[2].due_day = bad[1].due_day;
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, bad, 3, false, 3000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "plan refused: instalment dates must start today or "
                                     "later and strictly increase");
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, 20501,
                                      &f->d),
                     ARRANGEMENT_REFUSED);   /* first date before today */
    memcpy(bad, three, sizeof bad);
    bad[1].amount_minor = 0;
    bad[2].amount_minor = 2000;
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, bad, 3, false, 3000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "plan refused: every instalment must be above 0");
    f->policy.plan_max_days = 69;   /* the last instalment is 70 days out */
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);
    f->policy.plan_max_days = 70;
    f->policy.plan_may_waive_penalty = false;
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, true, 3500, 500, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "plan refused: the policy allows no penalty waiver");
    assert_int_equal(f->arr.kind, ARRANGEMENT_KIND_NONE);
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "plan refused: a repayment plan is running");
    assert_int_equal(arrangement_promise(&f->policy, &f->arr, 10, 3000, 20490, 20491, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "promise refused: a repayment plan is running: its "
                                     "instalments are the promises");
    assert_int_equal(arrangement_settlement(&f->policy, &f->arr, STAGE_LATE, 0, 3000, 3000,
                                            20490, 20495, &f->d),
                     ARRANGEMENT_REFUSED);
}

static void test_plan_supersedes_promise(void **state)
{
    fixture_t *f = *state;
    arrangement_promise(&f->policy, &f->arr, 500, 3000, 20490, 20495, &f->d);
    assert_int_equal(arrangement_plan(&f->policy, &f->arr, three, 3, false, 3000, 0, 20490,
                                      &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_non_null(strstr(f->d.reason, "replaces the pending promise"));
    assert_int_equal(f->arr.kind, ARRANGEMENT_KIND_PLAN);
    assert_int_equal(f->arr.kept_count + f->arr.broken_count, 0);
}

/* ---------------------------------------------------------------- deferral */

static void test_deferral_once(void **state)
{
    fixture_t *f = *state;   /* max 30 days */
    int32_t today = day_of(2026, 4, 1), due = day_of(2026, 4, 5);
    assert_int_equal(arrangement_defer(&f->policy, &f->arr, due, due + 31, today, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_int_equal(arrangement_defer(&f->policy, &f->arr, due, due, today, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_int_equal(arrangement_defer(&f->policy, &f->arr, due - 10, today, today, &f->d),
                     ARRANGEMENT_REFUSED);   /* to today: still due now, pointless */
    assert_int_equal(arrangement_defer(&f->policy, &f->arr, due, due + 30, today, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_string_equal(f->d.reason, "due date 2026-04-05 deferred to 2026-05-05 (30 days)");
    assert_int_equal(arrangement_defer(&f->policy, &f->arr, due + 30, due + 31, today, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "deferral refused: one per account, and 2026-04-05 was "
                                     "already moved to 2026-05-05");
    arrangement_init(&f->arr);
    f->policy.deferral_max_days = 0;
    assert_int_equal(arrangement_defer(&f->policy, &f->arr, due, due + 1, today, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "deferral refused: off by policy");
}

/* ---------------------------------------------------------------- settlement */

static void add_limit(arrangement_policy_t *p, stage_t stage, int segment, int64_t bps)
{
    p->settlement_limits[p->settlement_limit_count++] =
        (settlement_limit_t){.stage = stage, .segment = segment, .max_discount_bps = bps};
}

static arrangement_outcome_t offer(fixture_t *f, stage_t stage, int segment, int64_t owed,
                                   int64_t amount)
{
    arrangement_init(&f->arr);
    return arrangement_settlement(&f->policy, &f->arr, stage, segment, owed, amount, 20000,
                                  20010, &f->d);
}

static void test_settlement_limits(void **state)
{
    fixture_t *f = *state;
    add_limit(&f->policy, STAGE_CHARGED_OFF, ARRANGEMENT_ANY_SEGMENT, 3000);
    add_limit(&f->policy, STAGE_CHARGED_OFF, 0, 5000);
    assert_int_equal(arrangement_settlement_limit_bps(&f->policy, STAGE_CHARGED_OFF, 0), 5000);
    assert_int_equal(arrangement_settlement_limit_bps(&f->policy, STAGE_CHARGED_OFF, 1), 3000);
    assert_int_equal(arrangement_settlement_limit_bps(&f->policy, STAGE_LATE, 0), 0);

    /* at the limit: agreed */
    assert_int_equal(offer(f, STAGE_CHARGED_OFF, 1, 1000000, 700000), ARRANGEMENT_ACCEPTED);
    assert_string_equal(f->d.reason, "settlement of 700000 minor for 1000000 owed (discount "
                                     "3000 bps, limit 3000) to be paid by 2024-10-14");
    assert_int_equal(f->arr.state, ARRANGEMENT_STATE_PENDING);
    /* one bps over: an operator must approve */
    assert_int_equal(offer(f, STAGE_CHARGED_OFF, 1, 1000000, 699900), ARRANGEMENT_NEEDS_APPROVAL);
    assert_string_equal(f->d.reason, "settlement of 699900 minor for 1000000 owed (discount "
                                     "3001 bps) is above the 3000 bps limit for charged_off: "
                                     "needs an operator's approval");
    assert_int_equal(f->arr.state, ARRANGEMENT_STATE_AWAITING_APPROVAL);
    /* less than one bps over still is over: compared exactly, shown rounded up */
    assert_int_equal(offer(f, STAGE_CHARGED_OFF, 1, 1000000, 699999), ARRANGEMENT_NEEDS_APPROVAL);
    assert_int_equal(f->arr.discount_bps, 3001);
    assert_int_equal(offer(f, STAGE_CHARGED_OFF, 1, 1000001, 700001), ARRANGEMENT_ACCEPTED);
    assert_int_equal(f->arr.discount_bps, 3000);
    /* the segment's own limit */
    assert_int_equal(offer(f, STAGE_CHARGED_OFF, 0, 1000000, 500000), ARRANGEMENT_ACCEPTED);
    assert_int_equal(offer(f, STAGE_CHARGED_OFF, 0, 1000000, 499900), ARRANGEMENT_NEEDS_APPROVAL);
    /* the default (0): any discount needs approval; none is fine */
    assert_int_equal(offer(f, STAGE_EARLY, 0, 1000000, 999999), ARRANGEMENT_NEEDS_APPROVAL);
    assert_int_equal(offer(f, STAGE_EARLY, 0, 1000000, 1000000), ARRANGEMENT_ACCEPTED);
    /* refusals */
    assert_int_equal(offer(f, STAGE_PAID, 0, 1000, 900), ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "settlement refused: the account is closed");
    assert_int_equal(offer(f, STAGE_LATE, 0, 1000, 1001), ARRANGEMENT_REFUSED);
    assert_int_equal(offer(f, STAGE_LATE, 0, 1000, 0), ARRANGEMENT_REFUSED);
    arrangement_init(&f->arr);
    assert_int_equal(arrangement_settlement(&f->policy, &f->arr, STAGE_LATE, 0, 1000, 900,
                                            20000, 20031, &f->d),
                     ARRANGEMENT_REFUSED);   /* pay-by beyond 30 days */
    assert_int_equal(arrangement_settlement(&f->policy, &f->arr, STAGE_LATE, 0, 1000, 900,
                                            20000, 20030, &f->d),
                     ARRANGEMENT_NEEDS_APPROVAL);
    assert_int_equal(arrangement_settlement(&f->policy, &f->arr, STAGE_LATE, 0, 1000, 900,
                                            20000, 20030, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_string_equal(f->d.reason, "settlement refused: a settlement is open");
}

static void test_settlement_paid_then_approved(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(offer(f, STAGE_LATE, 0, 10000, 6000), ARRANGEMENT_NEEDS_APPROVAL);
    assert_true(arrangement_pauses_dunning(&f->policy, &f->arr, 20010));
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 6000, 20005, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_string_equal(f->d.reason, "settlement awaiting approval: 6000 of 6000 minor paid");
    assert_int_equal(arrangement_approve(&f->policy, &f->arr, 20006, &f->d),
                     ARRANGEMENT_SETTLED);
    assert_string_equal(f->d.reason, "settled: 6000 minor paid against 10000 owed (discount "
                                     "4000 bps)");
    assert_false(arrangement_is_open(&f->arr));
    assert_int_equal(arrangement_approve(&f->policy, &f->arr, 20006, &f->d),
                     ARRANGEMENT_REFUSED);
}

static void test_settlement_approved_then_paid(void **state)
{
    fixture_t *f = *state;
    offer(f, STAGE_LATE, 0, 10000, 6000);
    assert_int_equal(arrangement_approve(&f->policy, &f->arr, 20001, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 5999, 20002, &f->d),
                     ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_payment(&f->policy, &f->arr, 1, 20010, &f->d),
                     ARRANGEMENT_SETTLED);   /* on the pay-by day (grace 0) */
}

static void test_settlement_lapses(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(offer(f, STAGE_LATE, 0, 10000, 10000), ARRANGEMENT_ACCEPTED);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, 20010, &f->d),
                     ARRANGEMENT_PENDING);
    assert_int_equal(arrangement_review(&f->policy, &f->arr, 20011, &f->d),
                     ARRANGEMENT_BROKEN);
    assert_non_null(strstr(f->d.reason, "settlement lapsed"));
    assert_int_equal(arrangement_broken_count(&f->arr), 1);
    /* never approved, then lapsed: approval comes too late */
    offer(f, STAGE_LATE, 0, 10000, 5000);
    assert_int_equal(arrangement_approve(&f->policy, &f->arr, 20011, &f->d),
                     ARRANGEMENT_REFUSED);
    assert_true(f->d.lapsed);
    assert_non_null(strstr(f->d.lapsed_reason, "(never approved)"));
}

/* ---------------------------------------------------------------- policy config */

static const char policy_text[] =
    "segments = (\n"
    "  { name = \"high_risk\"; max_score = 449; },\n"
    "  { name = \"standard\"; }\n"
    ");\n"
    "arrangements = {\n"
    "  promise = { grace_days = 2; max_days_ahead = 14; kept_min_bps = 9500; };\n"
    "  plan = { grace_days = 7; min_instalments = 3; max_instalments = 6; max_days = 180;\n"
    "           may_waive_penalty = false; };\n"
    "  deferral = { max_days = 10; };\n"
    "  settlement = { grace_days = 1; max_days_to_pay = 20; default_max_discount_bps = 100;\n"
    "    limits = (\n"
    "      { stage = \"charged_off\"; max_discount_bps = 3000; },\n"
    "      { stage = \"charged_off\"; segment = \"high_risk\"; max_discount_bps = 5000; }\n"
    "    );\n"
    "  };\n"
    "};\n";

static int load_policy(const char *text, arrangement_policy_t *p, char *err)
{
    char perr[ERR_LEN] = "";
    conf_t *conf = conf_parse_string(text, "<policy>", perr, sizeof perr);
    if (!conf)
        fail_msg("parse: %s", perr);
    segments_t seg;
    if (segments_load(conf, "segments", &seg, perr, sizeof perr) != SCORE_OK)
        fail_msg("segments: %s", perr);
    int rc = arrangement_policy_load(conf, "arrangements", &seg, p, err, ERR_LEN);
    conf_destroy(&conf);
    return rc;
}

static void test_policy_load(void **state)
{
    (void)state;
    arrangement_policy_t p;
    char err[ERR_LEN] = "";
    assert_int_equal(load_policy(policy_text, &p, err), ARRANGEMENT_OK);
    assert_int_equal(p.promise_grace_days, 2);
    assert_int_equal(p.promise_max_days_ahead, 14);
    assert_int_equal(p.promise_kept_min_bps, 9500);
    assert_int_equal(p.plan_grace_days, 7);
    assert_int_equal(p.plan_min_instalments, 3);
    assert_int_equal(p.plan_max_instalments, 6);
    assert_int_equal(p.plan_max_days, 180);
    assert_false(p.plan_may_waive_penalty);
    assert_int_equal(p.deferral_max_days, 10);
    assert_int_equal(p.settlement_grace_days, 1);
    assert_int_equal(p.settlement_max_days_to_pay, 20);
    assert_int_equal(arrangement_settlement_limit_bps(&p, STAGE_CHARGED_OFF, 0), 5000);
    assert_int_equal(arrangement_settlement_limit_bps(&p, STAGE_CHARGED_OFF, 1), 3000);
    assert_int_equal(arrangement_settlement_limit_bps(&p, STAGE_LEGAL, 1), 100);
    arrangement_policy_t d;
    arrangement_policy_default(&d);
    assert_int_equal(load_policy("segments = ({ name = \"all\"; });\n", &p, err),
                     ARRANGEMENT_OK);
    assert_memory_equal(&p, &d, sizeof p);
}

static void test_policy_errors(void **state)
{
    (void)state;
    static const char head[] = "segments = (\n { name = \"high_risk\"; max_score = 9; },\n"
                               " { name = \"standard\"; }\n);\n";   /* 4 lines */
    static const struct {
        const char *text;
        const char *err;
    } rows[] = {
        {"arrangements = {\n settlement = { limits = (\n"
         "  { stage = \"charged_off\"; segment = \"low_risk\"; max_discount_bps = 1; }\n ); };\n};\n",
         "<policy>:7: arrangements.settlement.limits.[0].segment must be one of high_risk, "
         "standard; got \"low_risk\""},
        {"arrangements = {\n settlement = { limits = (\n"
         "  { stage = \"paid\"; max_discount_bps = 1; }\n ); };\n};\n",
         "<policy>:7: stage paid is terminal: nothing there to settle"},
        {"arrangements = {\n settlement = { limits = (\n"
         "  { stage = \"late\"; max_discount_bps = 1; },\n"
         "  { stage = \"late\"; max_discount_bps = 2; }\n ); };\n};\n",
         "<policy>:8: a second settlement limit for stage late, segment (any)"},
        {"arrangements = {\n settlement = { limits = (\n"
         "  { stage = \"late\"; max_discount_bps = 10001; }\n ); };\n};\n",
         "<policy>:7: arrangements.settlement.limits.[0].max_discount_bps must be between 0 "
         "and 10000, got 10001"},
        {"arrangements = {\n settlement = { limits = (\n"
         "  { stage = \"late\"; }\n ); };\n};\n",
         "<policy>:7: a settlement limit needs stage and max_discount_bps"},
        {"arrangements = {\n plan = {\n min_instalments = 5;\n max_instalments = 4; };\n};\n",
         "<policy>:6: plan: min_instalments 5 is above max_instalments 4"},
        {"arrangements = {\n promise = {\n kept_min_bps = 0; };\n};\n",
         "<policy>:7: arrangements.promise.kept_min_bps must be between 1 and 10000, got 0"},
        {"arrangements = {\n promise = {\n grace = 3; };\n};\n",
         "<policy>:7: arrangements.promise.grace is not a known setting (known here: "
         "grace_days, max_days_ahead, kept_min_bps)"},
        {"arrangements = {\n refund = 1;\n};\n",
         "<policy>:6: arrangements.refund is not a known setting (known here: promise, plan, "
         "deferral, settlement)"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s", head, rows[i].text);
        arrangement_policy_t p;
        char err[ERR_LEN] = "";
        assert_int_equal(load_policy(text, &p, err), ARRANGEMENT_ECONFIG);
        if (strcmp(err, rows[i].err) != 0)
            fail_msg("row %zu:\n got  %s\n want %s", i, err, rows[i].err);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_promise_kept_on_last_grace_day, setup),
        cmocka_unit_test_setup(test_promise_broken_day_after_grace, setup),
        cmocka_unit_test_setup(test_promise_payment_too_late, setup),
        cmocka_unit_test_setup(test_promise_partial_policy, setup),
        cmocka_unit_test_setup(test_promise_refusals, setup),
        cmocka_unit_test_setup(test_plan_broken_day_after_grace, setup),
        cmocka_unit_test_setup(test_plan_first_instalment_missed, setup),
        cmocka_unit_test_setup(test_plan_completes_with_waiver, setup),
        cmocka_unit_test_setup(test_plan_refusals, setup),
        cmocka_unit_test_setup(test_plan_supersedes_promise, setup),
        cmocka_unit_test_setup(test_deferral_once, setup),
        cmocka_unit_test_setup(test_settlement_limits, setup),
        cmocka_unit_test_setup(test_settlement_paid_then_approved, setup),
        cmocka_unit_test_setup(test_settlement_approved_then_paid, setup),
        cmocka_unit_test_setup(test_settlement_lapses, setup),
        cmocka_unit_test(test_policy_load),
        cmocka_unit_test(test_policy_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
