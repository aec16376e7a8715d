/* Unit tests for the report's timeline figures (report_figures.c), worked by hand: a
 * roll-rate matrix of five accounts over two months, payments attributed to channels,
 * a recovery curve by months since entry, complaint answers against their deadlines,
 * and a remittance month. Every account is fed as stored TimelineEntry messages in the
 * words the account module writes them, so the parsing is tested with the sums. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"
#include "report_figures.h"
#include "tz.h"

#define HOUR_MS INT64_C(3600000)

static int32_t day_of(const char *date)
{
    int64_t d = 0;
    char why[96];
    assert_true(tz_date_parse(date, 1970, 2200, &d, why, sizeof why));
    return (int32_t)d;
}

static int32_t month_of(const char *date)
{
    return report_month_of_day(day_of(date));
}

typedef struct {
    const char *day, *actor, *kind, *stage;
    int64_t amount;
    const char *reference, *reason;
    int64_t at_ms;
} row_t;

/* One account's timeline through the figures, as report.c feeds it. */
static void walk(report_figures_t *f, const char *entered, const char *today, uint32_t arm,
                 int64_t overdue, const row_t *rows, size_t n)
{
    report_account_t a;
    report_account_begin(&a, entered ? day_of(entered) : ACCOUNT_DAY_NONE, day_of(today), arm,
                         overdue);
    for (size_t i = 0; i < n; i++) {
        Arrears__TimelineEntry t = ARREARS__TIMELINE_ENTRY__INIT;
        t.day = (char *)rows[i].day;
        t.actor = (char *)rows[i].actor;
        t.kind = (char *)rows[i].kind;
        t.stage = (char *)rows[i].stage;
        t.has_amount_minor = 1;
        t.amount_minor = rows[i].amount;
        t.reference = (char *)rows[i].reference;
        t.reason = (char *)rows[i].reason;
        t.has_at_ms = 1;
        t.at_ms = rows[i].at_ms;
        report_event_t ev;
        assert_true(report_event_parse(&t, &ev));
        report_account_event(&a, f, &ev);
    }
    report_account_end(&a, f);
}

#define WALK(f, entered, today, arm, overdue, rows) \
    walk(f, entered, today, arm, overdue, rows, sizeof rows / sizeof rows[0])

static void test_months(void **state)
{
    (void)state;
    char text[REPORT_MONTH_TEXT];
    report_month_text(month_of("2026-02-17"), text);
    assert_string_equal(text, "2026-02");
    assert_int_equal(month_of("2026-01-01") - month_of("2025-12-31"), 1);
    assert_int_equal(report_months_between(day_of("2026-01-15"), day_of("2026-02-14")), 0);
    assert_int_equal(report_months_between(day_of("2026-01-15"), day_of("2026-02-15")), 1);
    assert_int_equal(report_months_between(day_of("2026-01-31"), day_of("2026-02-28")), 0);
    assert_int_equal(report_months_between(day_of("2026-01-31"), day_of("2026-03-01")), 1);
    assert_int_equal(report_months_between(day_of("2026-03-01"), day_of("2026-01-01")), 0);
    report_figures_t *f = test_malloc(sizeof *f);
    report_figures_init(f, month_of("2026-02-01"), 99);   /* clamped */
    assert_int_equal(f->months, REPORT_MONTHS_MAX);
    assert_int_equal(f->first_month, month_of("2023-03-01"));
    test_free(f);
}

/* Five accounts, January and February 2026 (the report's month: February).
 *   A  early in Dec; middle Jan 5; late Feb 3        Jan early->middle, Feb middle->late
 *   B  early in Dec; pays Jan 20, current (a cure)   Jan early->current, Feb current->current
 *   C  middle in Dec, nothing after                  Jan middle->middle, Feb middle->middle
 *   D  early in Dec; paid Jan 15                     Jan early->paid, Feb: closed, left out
 *   E  enters Jan 10 early; middle Feb 20            Jan: entered in it, left out;
 *                                                    Feb early->middle
 * January's early row: 3 accounts, one each to middle, current and paid. */
static void test_roll_matrix(void **state)
{
    (void)state;
    report_figures_t *f = test_calloc(1, sizeof *f);
    report_figures_init(f, month_of("2026-02-01"), 2);
    const char *today = "2026-02-25";
    const row_t a[] = {{"2025-12-01", "platform", "opened", "current", 0, NULL, "", 0},
                       {"2025-12-10", "staging", "stage", "early", 0, NULL, "", 0},
                       {"2026-01-05", "staging", "stage", "middle", 0, NULL, "", 0},
                       {"2026-02-03", "staging", "stage", "late", 0, NULL, "", 0}};
    const row_t b[] = {{"2025-12-01", "platform", "opened", "early", 0, NULL, "", 0},
                       {"2026-01-20", "platform", "payment", "early", 500, "b-1", "", 0},
                       {"2026-01-20", "staging", "stage", "current", 0, NULL, "", 0}};
    const row_t c[] = {{"2025-12-02", "platform", "opened", "middle", 0, NULL, "", 0}};
    const row_t d[] = {{"2025-12-03", "platform", "opened", "early", 0, NULL, "", 0},
                       {"2026-01-15", "platform", "payment", "early", 900, "d-1", "", 0},
                       {"2026-01-15", "staging", "stage", "paid", 0, NULL, "", 0}};
    const row_t e[] = {{"2026-01-10", "platform", "opened", "early", 0, NULL, "", 0},
                       {"2026-02-20", "staging", "stage", "middle", 0, NULL, "", 0}};
    WALK(f, "2025-12-01", today, 0, 0, a);
    WALK(f, "2025-12-01", today, 0, 0, b);
    WALK(f, "2025-12-02", today, 0, 0, c);
    WALK(f, "2025-12-03", today, 0, 0, d);
    WALK(f, "2026-01-10", today, 0, 0, e);
    uint64_t (*jan)[STAGE_COUNT] = f->roll[0], (*feb)[STAGE_COUNT] = f->roll[1];
    uint64_t total = 0;
    for (int m = 0; m < 2; m++)
        for (int i = 0; i < STAGE_COUNT; i++)
            for (int j = 0; j < STAGE_COUNT; j++)
                total += f->roll[m][i][j];
    assert_int_equal(total, 8);   /* 4 in January, 4 in February */
    assert_int_equal(jan[STAGE_EARLY][STAGE_MIDDLE], 1);
    assert_int_equal(jan[STAGE_EARLY][STAGE_CURRENT], 1);
    assert_int_equal(jan[STAGE_EARLY][STAGE_PAID], 1);
    assert_int_equal(jan[STAGE_MIDDLE][STAGE_MIDDLE], 1);
    assert_int_equal(feb[STAGE_MIDDLE][STAGE_LATE], 1);
    assert_int_equal(feb[STAGE_CURRENT][STAGE_CURRENT], 1);
    assert_int_equal(feb[STAGE_MIDDLE][STAGE_MIDDLE], 1);
    assert_int_equal(feb[STAGE_EARLY][STAGE_MIDDLE], 1);
    /* Every one was delinquent; B alone came back to current. */
    assert_int_equal(f->delinquent, 5);
    assert_int_equal(f->cured, 1);
    /* Paid in: B and D in early. */
    assert_int_equal(f->by_stage[STAGE_EARLY].payments, 2);
    assert_int_equal(f->by_stage[STAGE_EARLY].accounts, 2);
    assert_int_equal(f->by_stage[STAGE_EARLY].collected_minor, 1400);
    test_free(f);
}

/* One account: an SMS delivered earns the next payments for 30 days, a call not
 * answered earns nothing, a promise on a call moves them to the call, and a payment
 * more than 30 days after the last contact that reached the borrower goes to none. */
static void test_channel_attribution(void **state)
{
    (void)state;
    report_figures_t *f = test_calloc(1, sizeof *f);
    report_figures_init(f, month_of("2026-03-01"), 12);
    const row_t rows[] = {
        {"2026-01-01", "staging", "contact", "early", 0, "X#1", "sms early_sms_v1: day 1 of early", 0},
        {"2026-01-01", "outreach", "outcome", "early", 0, "X#1", "DELIVERED by SMS", 0},
        {"2026-01-10", "platform", "payment", "early", 1000, "p1", "fees 0", 0},
        {"2026-01-12", "staging", "contact", "early", 0, "X#2", "call early_call_v1: day 12", 0},
        {"2026-01-12", "outreach", "outcome", "early", 0, "X#2", "NO_ANSWER by CALL: rang out", 0},
        {"2026-01-13", "platform", "payment", "early", 500, "p2", "fees 0", 0},
        {"2026-01-20", "staging", "contact", "early", 0, "X#3", "call early_call_v1: day 20", 0},
        {"2026-01-20", "outreach", "promise", "early", 2000, "X#3", "promise of 2000 accepted", 0},
        {"2026-01-25", "platform", "payment", "early", 2000, "p3", "fees 0", 0},
        {"2026-03-01", "platform", "payment", "early", 300, "p4", "fees 0", 0},
        /* An inbound promise (no contact id) earns nothing. */
        {"2026-03-02", "outreach", "promise", "early", 100, NULL, "promise of 100 accepted", 0},
        {"2026-03-03", "platform", "payment", "early", 100, "p5", "fees 0", 0},
    };
    WALK(f, "2026-01-01", "2026-03-10", 0, 4000, rows);
    const report_recovery_t *sms = &f->by_channel[CHANNEL_SMS], *call = &f->by_channel[CHANNEL_CALL];
    const report_recovery_t *none = &f->by_channel[REPORT_CHANNEL_NONE];
    assert_int_equal(sms->payments, 2);
    assert_int_equal(sms->accounts, 1);
    assert_int_equal(sms->collected_minor, 1500);
    assert_int_equal(call->payments, 1);
    assert_int_equal(call->collected_minor, 2000);
    assert_int_equal(none->payments, 2);
    assert_int_equal(none->accounts, 1);
    assert_int_equal(none->collected_minor, 400);
    assert_int_equal(f->by_channel[CHANNEL_EMAIL].payments, 0);
    test_free(f);
}

/* The parse of outreach's outcome words (outcome.c note_contact): what reached. */
static void test_outcome_words(void **state)
{
    (void)state;
    static const struct { const char *reason; int channel; bool reached; } cases[] = {
        {"DELIVERED by EMAIL", CHANNEL_EMAIL, true},
        {"RIGHT_PARTY_CONTACT by VISIT: at the door", CHANNEL_VISIT, true},
        {"FAILED by LETTER: returned", CHANNEL_LETTER, false},
        {"WRONG_NUMBER by CALL", CHANNEL_CALL, false},
        {"NOT_ATTEMPTED by SMS: window", CHANNEL_SMS, false},
        {"DELIVERED by an unnamed channel", -1, false},
        {"garbage", -1, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Arrears__TimelineEntry t = ARREARS__TIMELINE_ENTRY__INIT;
        t.day = "2026-01-01";
        t.kind = "outcome";
        t.actor = "outreach";
        t.reason = (char *)cases[i].reason;
        report_event_t ev;
        assert_true(report_event_parse(&t, &ev));
        assert_int_equal(ev.kind, REPORT_EV_OUTCOME);
        assert_int_equal(ev.channel, cases[i].channel);
        assert_int_equal(ev.reached, cases[i].reached);
        assert_int_equal(ev.stage, -1);
    }
    Arrears__TimelineEntry bad = ARREARS__TIMELINE_ENTRY__INIT;
    bad.day = "2026-13-01";
    report_event_t ev;
    assert_false(report_event_parse(&bad, &ev));
}

/* Arm 1: P entered 2026-01-15 (overdue 1000) pays 100 in month 0 and 200 in month 1 and
 * is 2 months on the book on 2026-03-20; Q entered 2026-03-01 (overdue 500) pays
 * nothing and has reached month 0 only. */
static void test_recovery_curve(void **state)
{
    (void)state;
    report_figures_t *f = test_calloc(1, sizeof *f);
    report_figures_init(f, month_of("2026-03-01"), 6);
    const row_t p[] = {{"2026-01-15", "platform", "opened", "early", 0, NULL, "", 0},
                       {"2026-02-10", "platform", "payment", "early", 100, "p1", "", 0},
                       {"2026-02-20", "platform", "payment", "early", 200, "p2", "", 0}};
    const row_t q[] = {{"2026-03-01", "platform", "opened", "early", 0, NULL, "", 0}};
    WALK(f, "2026-01-15", "2026-03-20", 1, 1000, p);
    WALK(f, NULL, "2026-03-20", 1, 500, q);   /* no stored entry day: its first entry's */
    const report_point_t *c = f->curve[1];
    assert_true(f->arm_seen[1]);
    assert_false(f->arm_seen[0]);
    assert_int_equal(c[0].accounts, 2);
    assert_int_equal(c[0].overdue_minor, 1500);
    assert_int_equal(c[0].collected_minor, 100);
    assert_int_equal(c[1].accounts, 1);
    assert_int_equal(c[1].overdue_minor, 1000);
    assert_int_equal(c[1].collected_minor, 300);
    assert_int_equal(c[2].accounts, 1);
    assert_int_equal(c[2].collected_minor, 300);
    assert_int_equal(c[3].accounts, 0);
    test_free(f);
}

/* A complaint answered in 48 hours; a dispute noted overdue and answered 240 hours in
 * (late); a complaint answered "after its deadline" before the run noted it (late, 100
 * hours); one still open and overdue; one still open. The platform's other holds and
 * their lifting are not complaints. */
static void test_complaints(void **state)
{
    (void)state;
    report_figures_t *f = test_calloc(1, sizeof *f);
    report_figures_init(f, month_of("2026-03-01"), 3);
    int64_t t0 = INT64_C(1767225600000);   /* 2026-01-01T00:00Z */
    const row_t rows[] = {
        {"2026-01-01", "platform", "hold", "early", 0, "c1", "complaint received: contact held until it is resolved; answer due by 2026-01-15", t0},
        {"2026-01-03", "ops", "hold_lifted", "early", 0, NULL, "complaint resolved: apologised", t0 + 48 * HOUR_MS},
        {"2026-01-05", "outreach", "hold", "early", 0, "X#4", "dispute received: contact held until it is resolved; answer due by 2026-01-12", t0 + 96 * HOUR_MS},
        {"2026-01-13", "staging", "complaint_overdue", "early", 0, NULL, "the dispute is unanswered past its response deadline 2026-01-12", t0 + 288 * HOUR_MS},
        {"2026-01-15", "ops", "hold_lifted", "early", 0, NULL, "dispute resolved after its deadline: statement sent", t0 + 336 * HOUR_MS},
        {"2026-01-20", "platform", "hold", "early", 0, NULL, "cease_contact hold placed: the platform flagged the account", t0},
        {"2026-01-21", "platform", "hold_lifted", "early", 0, NULL, "cease_contact hold lifted: the platform cleared the flag", t0},
        {"2026-02-01", "platform", "hold", "early", 0, "c2", "complaint received: answer due by 2026-02-15", t0 + 744 * HOUR_MS},
        {"2026-02-16", "ops", "hold_lifted", "early", 0, NULL, "complaint resolved after its deadline: fixed", t0 + 844 * HOUR_MS},
        {"2026-02-20", "platform", "hold", "early", 0, "c3", "complaint received: answer due by 2026-03-06", t0},
        {"2026-03-07", "staging", "complaint_overdue", "early", 0, NULL, "the complaint is unanswered past its response deadline 2026-03-06", t0},
    };
    const row_t other[] = {
        {"2026-03-01", "platform", "hold", "early", 0, "d9", "dispute received: answer due by 2026-03-08", t0}};
    WALK(f, "2026-01-01", "2026-03-10", 0, 0, rows);
    WALK(f, "2026-01-01", "2026-03-10", 0, 0, other);
    const report_complaints_t *c = &f->complaints;
    assert_int_equal(c->received, 5);
    assert_int_equal(c->on_time, 1);
    assert_int_equal(c->late, 2);
    assert_int_equal(c->open, 2);
    assert_int_equal(c->open_overdue, 1);
    assert_int_equal(c->response_ms, (48 + 240 + 100) * HOUR_MS);
    test_free(f);
}

/* January: the platform's 1000 and legal's recovery of 500 with 200 of costs; February:
 * an account sold for 3000 and another's 1000 given back on a put-back; December (out
 * of the window) only in the totals. */
static void test_remittance(void **state)
{
    (void)state;
    report_figures_t *f = test_calloc(1, sizeof *f);
    report_figures_init(f, month_of("2026-02-01"), 2);
    const row_t x[] = {{"2025-12-20", "platform", "payment", "early", 70, "x0", "", 0},
                       {"2026-01-05", "platform", "payment", "early", 1000, "x1", "", 0},
                       {"2026-01-09", "legal", "legal", "legal", 200, "CASE-1", "case FILED", 0},
                       {"2026-01-20", "legal", "payment", "legal", 500, "r1", "", 0}};
    const row_t y[] = {{"2026-02-02", "sale", "sold", "sold", 3000, "PF-1", "sold to b", 0},
                       {"2026-02-03", "sale", "put_back", "charged_off", 1000, "PF-1", "", 0}};
    WALK(f, "2025-12-01", "2026-02-25", 0, 0, x);
    WALK(f, "2025-12-01", "2026-02-25", 0, 0, y);
    const report_remit_t *jan = &f->remit[0], *feb = &f->remit[1];
    assert_true(jan->any);
    assert_int_equal(jan->collected_minor, 1500);
    assert_int_equal(jan->legal_recovered_minor, 500);
    assert_int_equal(jan->legal_costs_minor, 200);
    assert_int_equal(jan->sale_proceeds_minor, 0);
    assert_true(feb->any);
    assert_int_equal(feb->collected_minor, 0);
    assert_int_equal(feb->sale_proceeds_minor, 2000);
    /* Everything paid counts by channel (none here), the window or not. */
    assert_int_equal(f->by_channel[REPORT_CHANNEL_NONE].collected_minor, 1570);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_months),
        cmocka_unit_test(test_roll_matrix),
        cmocka_unit_test(test_channel_attribution),
        cmocka_unit_test(test_outcome_words),
        cmocka_unit_test(test_recovery_curve),
        cmocka_unit_test(test_complaints),
        cmocka_unit_test(test_remittance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
