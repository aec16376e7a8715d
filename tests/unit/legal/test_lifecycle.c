/* test_lifecycle: the case table. Every (from, to) pair of states, 13 x 13 and beyond,
 * is tried against the list of legal moves written out here by hand: each legal one
 * passes, every other is rejected with its reason. Then the conditions on a legal move:
 * evidence from the demand letter on, a progress note only with money or as a further
 * hearing, dates never before the last step or after today, recall only before filing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lifecycle.h"

/* The legal moves an assignee may report, as a collection lawyer would draw them. */
static const struct {
    case_status_t from, to;
} legal_moves[] = {
    {CASE_REFERRED, CASE_ACCEPTED},
    {CASE_ACCEPTED, CASE_DEMAND_LETTER}, {CASE_ACCEPTED, CASE_MEDIATION},
    {CASE_ACCEPTED, CASE_FILED},         {CASE_ACCEPTED, CASE_SETTLED},
    {CASE_ACCEPTED, CASE_WITHDRAWN},     {CASE_ACCEPTED, CASE_CLOSED},
    {CASE_DEMAND_LETTER, CASE_MEDIATION}, {CASE_DEMAND_LETTER, CASE_FILED},
    {CASE_DEMAND_LETTER, CASE_SETTLED},   {CASE_DEMAND_LETTER, CASE_WITHDRAWN},
    {CASE_DEMAND_LETTER, CASE_CLOSED},
    {CASE_MEDIATION, CASE_FILED},   {CASE_MEDIATION, CASE_SETTLED},
    {CASE_MEDIATION, CASE_WITHDRAWN}, {CASE_MEDIATION, CASE_CLOSED},
    {CASE_FILED, CASE_HEARING},     {CASE_FILED, CASE_JUDGMENT},   {CASE_FILED, CASE_SETTLED},
    {CASE_FILED, CASE_WITHDRAWN},   {CASE_FILED, CASE_CLOSED},
    {CASE_HEARING, CASE_HEARING},   {CASE_HEARING, CASE_JUDGMENT}, {CASE_HEARING, CASE_SETTLED},
    {CASE_HEARING, CASE_WITHDRAWN}, {CASE_HEARING, CASE_CLOSED},
    {CASE_JUDGMENT, CASE_ENFORCEMENT}, {CASE_JUDGMENT, CASE_SETTLED},
    {CASE_JUDGMENT, CASE_CLOSED},
    {CASE_ENFORCEMENT, CASE_SETTLED}, {CASE_ENFORCEMENT, CASE_CLOSED},
};

static bool listed(int from, int to)
{
    for (size_t i = 0; i < sizeof legal_moves / sizeof legal_moves[0]; i++)
        if ((int)legal_moves[i].from == from && (int)legal_moves[i].to == to)
            return true;
    return false;
}

static lifecycle_step_t step(case_status_t from, case_status_t to)
{
    return (lifecycle_step_t){.from = from, .to = to, .day = 100, .last_day = 90,
                              .today_day = 100, .has_evidence = true};
}

static int check(const lifecycle_step_t *s, char *why)
{
    return lifecycle_check(s, why, LIFECYCLE_REASON_MAX);
}

static void test_every_pair_of_states_against_the_table(void **state)
{
    (void)state;
    size_t passed = 0;
    for (int from = -1; from <= CASE_STATES; from++)
        for (int to = -1; to <= CASE_STATES; to++) {
            lifecycle_step_t s = step((case_status_t)from, (case_status_t)to);
            char why[LIFECYCLE_REASON_MAX];
            int rc = check(&s, why);
            if (listed(from, to)) {
                assert_int_equal(rc, LIFECYCLE_OK);
                passed++;
            } else {
                assert_int_equal(rc, LIFECYCLE_EILLEGAL);
                assert_true(strstr(why, "not a case state") || strstr(why, "has ended") ||
                            strstr(why, "same state") || strstr(why, "not a move"));
            }
        }
    assert_int_equal(passed, sizeof legal_moves / sizeof legal_moves[0]);
}

static void test_a_case_never_goes_back_and_an_ended_case_stays_ended(void **state)
{
    (void)state;
    char why[LIFECYCLE_REASON_MAX];
    lifecycle_step_t s = step(CASE_JUDGMENT, CASE_FILED);
    assert_int_equal(check(&s, why), LIFECYCLE_EILLEGAL);
    assert_string_equal(why, "judgment -> filed: not a move in the case table");
    s = step(CASE_JUDGMENT, CASE_WITHDRAWN);   /* the judgment stands */
    assert_int_equal(check(&s, why), LIFECYCLE_EILLEGAL);
    s = step(CASE_SETTLED, CASE_CLOSED);
    assert_int_equal(check(&s, why), LIFECYCLE_EILLEGAL);
    assert_string_equal(why, "settled -> closed: the case has ended");
    s = step(CASE_DECLINED, CASE_ACCEPTED);
    assert_int_equal(check(&s, why), LIFECYCLE_EILLEGAL);
}

static void test_a_progress_note_needs_money_or_a_further_hearing(void **state)
{
    (void)state;
    char why[LIFECYCLE_REASON_MAX];
    lifecycle_step_t s = step(CASE_ENFORCEMENT, CASE_ENFORCEMENT);
    assert_int_equal(check(&s, why), LIFECYCLE_EILLEGAL);
    assert_string_equal(why, "enforcement -> enforcement: a report in the same state must "
                             "carry a recovery or costs");
    s.carries_money = true;   /* a garnishment's instalment */
    assert_int_equal(check(&s, why), LIFECYCLE_OK);
    s.has_evidence = false;   /* money notes need no evidence reference of their own */
    assert_int_equal(check(&s, why), LIFECYCLE_OK);
    s = step(CASE_REFERRED, CASE_REFERRED);   /* not yet accepted: no money to report */
    s.carries_money = true;
    assert_int_equal(check(&s, why), LIFECYCLE_EILLEGAL);
    s = step(CASE_HEARING, CASE_HEARING);   /* adjourned: a further hearing */
    assert_int_equal(check(&s, why), LIFECYCLE_OK);
    s.has_evidence = false;
    assert_int_equal(check(&s, why), LIFECYCLE_EEVIDENCE);
}

static void test_evidence_from_the_demand_letter_on(void **state)
{
    (void)state;
    char why[LIFECYCLE_REASON_MAX];
    lifecycle_step_t s = step(CASE_REFERRED, CASE_ACCEPTED);
    s.has_evidence = false;
    assert_int_equal(check(&s, why), LIFECYCLE_OK);   /* accepting needs none */
    static const case_status_t needing[] = {CASE_DEMAND_LETTER, CASE_MEDIATION, CASE_FILED,
                                            CASE_SETTLED, CASE_WITHDRAWN, CASE_CLOSED};
    for (size_t i = 0; i < sizeof needing / sizeof needing[0]; i++) {
        s = step(CASE_ACCEPTED, needing[i]);
        s.has_evidence = false;
        assert_int_equal(check(&s, why), LIFECYCLE_EEVIDENCE);
        assert_non_null(strstr(why, "needs an evidence reference"));
        assert_true(case_status_needs_evidence(needing[i]));
    }
    s = step(CASE_FILED, CASE_JUDGMENT);
    s.has_evidence = false;
    assert_int_equal(check(&s, why), LIFECYCLE_EEVIDENCE);
    assert_false(case_status_needs_evidence(CASE_ACCEPTED));
}

static void test_dates_between_the_last_step_and_today(void **state)
{
    (void)state;
    char why[LIFECYCLE_REASON_MAX];
    lifecycle_step_t s = step(CASE_FILED, CASE_HEARING);
    s.day = s.last_day;   /* the same day as the last step: fine */
    assert_int_equal(check(&s, why), LIFECYCLE_OK);
    s.day = s.last_day - 1;
    assert_int_equal(check(&s, why), LIFECYCLE_EDATE);
    assert_string_equal(why, "filed -> hearing: dated before the case's last step");
    s.day = s.today_day;
    assert_int_equal(check(&s, why), LIFECYCLE_OK);
    s.day = s.today_day + 1;
    assert_int_equal(check(&s, why), LIFECYCLE_EDATE);
    assert_string_equal(why, "filed -> hearing: dated in the future");
}

static void test_recall_only_before_filing_and_names(void **state)
{
    (void)state;
    for (int s = 0; s < CASE_STATES; s++) {
        bool expected = s == CASE_REFERRED || s == CASE_ACCEPTED || s == CASE_DEMAND_LETTER ||
                        s == CASE_MEDIATION;
        assert_int_equal(case_status_recallable((case_status_t)s), expected);
        bool ends = s == CASE_SETTLED || s == CASE_WITHDRAWN || s == CASE_CLOSED ||
                    s == CASE_DECLINED;
        assert_int_equal(case_status_terminal((case_status_t)s), ends);
    }
    assert_string_equal(case_status_name(CASE_DEMAND_LETTER), "demand_letter");
    assert_string_equal(case_status_name(CASE_MEDIATION), "mediation");
    assert_string_equal(case_status_name(CASE_STATES), "unknown");
    assert_string_equal(lifecycle_strerror(LIFECYCLE_EILLEGAL), "not a legal move for the case");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_pair_of_states_against_the_table),
        cmocka_unit_test(test_a_case_never_goes_back_and_an_ended_case_stays_ended),
        cmocka_unit_test(test_a_progress_note_needs_money_or_a_further_hearing),
        cmocka_unit_test(test_evidence_from_the_demand_letter_on),
        cmocka_unit_test(test_dates_between_the_last_step_and_today),
        cmocka_unit_test(test_recall_only_before_filing_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
