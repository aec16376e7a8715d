/* test_stage: stages from DPD ranges at every boundary, the whole transition table
 * (every stage against every event: the legal pairs lead where they should, the others
 * are refused and leave the stage as it was), the put-back window, stage ranges from
 * config with file:line errors, and holds suspending contact without moving the stage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "stage.h"

#define ERR_LEN 512
#define REFUSED (-1)

/* ---------------------------------------------------------------- DPD ranges */

static void test_stage_for_dpd_boundaries(void **state)
{
    (void)state;
    stage_ranges_t r = stage_ranges_default();
    assert_int_equal(stage_for_dpd(&r, 0, STAGE_NO_DUE_DAY), STAGE_CURRENT);
    assert_int_equal(stage_for_dpd(&r, 0, 4), STAGE_CURRENT);
    assert_int_equal(stage_for_dpd(&r, 0, 3), STAGE_PRE_DUE);   /* T-3 */
    assert_int_equal(stage_for_dpd(&r, 0, 0), STAGE_PRE_DUE);   /* T0 */
    static const struct {
        int32_t dpd;
        stage_t stage;
    } rows[] = {
        {1, STAGE_EARLY},        {30, STAGE_EARLY},       {31, STAGE_MIDDLE},
        {60, STAGE_MIDDLE},      {61, STAGE_LATE},        {90, STAGE_LATE},
        {91, STAGE_CHARGED_OFF}, {5000, STAGE_CHARGED_OFF}, {INT32_MAX, STAGE_CHARGED_OFF},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        /* days_to_due is ignored once something is overdue */
        assert_int_equal(stage_for_dpd(&r, rows[i].dpd, 0), rows[i].stage);
        assert_int_equal(stage_for_dpd(&r, rows[i].dpd, STAGE_NO_DUE_DAY), rows[i].stage);
    }
    r.reminder_days = 0;
    assert_int_equal(stage_for_dpd(&r, 0, 1), STAGE_CURRENT);
    assert_int_equal(stage_for_dpd(&r, 0, 0), STAGE_PRE_DUE);
}

static void test_names(void **state)
{
    (void)state;
    for (int s = 0; s < STAGE_COUNT; s++) {
        stage_t back;
        assert_int_equal(stage_from_name(stage_name((stage_t)s), &back), STAGE_OK);
        assert_int_equal(back, s);
        assert_string_equal(stage_names()[s], stage_name((stage_t)s));
    }
    assert_null(stage_names()[STAGE_COUNT]);
    assert_string_equal(stage_name(STAGE_CHARGED_OFF), "charged_off");
    assert_string_equal(stage_name(STAGE_PRE_DUE), "pre_due");
    assert_string_equal(stage_name((stage_t)99), "unknown");
    stage_t s;
    assert_int_equal(stage_from_name("M1", &s), STAGE_EUNKNOWN);
    for (int h = 0; h < HOLD_COUNT; h++) {
        hold_kind_t back;
        assert_int_equal(hold_from_name(hold_name((hold_kind_t)h), &back), STAGE_OK);
        assert_int_equal(back, h);
    }
    assert_int_equal(stage_is_terminal(STAGE_SOLD), true);
    assert_int_equal(stage_is_terminal(STAGE_SALE), false);
    assert_int_equal(stage_is_delinquent(STAGE_PRE_DUE), false);
    assert_int_equal(stage_is_delinquent(STAGE_CHARGED_OFF), true);
}

/* ---------------------------------------------------------------- transitions */

/* Where every (stage, event) pair leads, REFUSED for the illegal ones. Events that
 * return to a DPD stage carry dpd 45, so they land in middle. */
#define M STAGE_MIDDLE
#define X REFUSED
static const int expected[STAGE_COUNT][STAGE_EVENT_COUNT] = {
    /*                    dpd          paid        settled        recalled        written_off        refer_legal  legal_ret list_sale    sale_wd sold        put_back */
    [STAGE_CURRENT] =     {M,           STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, X,           X,        X,           X,      X,          X},
    [STAGE_PRE_DUE] =     {M,           STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, X,           X,        X,           X,      X,          X},
    [STAGE_EARLY] =       {M,           STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, STAGE_LEGAL, X,        X,           X,      X,          X},
    [STAGE_MIDDLE] =      {M,           STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, STAGE_LEGAL, X,        X,           X,      X,          X},
    [STAGE_LATE] =        {M,           STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, STAGE_LEGAL, X,        X,           X,      X,          X},
    [STAGE_CHARGED_OFF] = {M,           STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, STAGE_LEGAL, X,        STAGE_SALE,  X,      X,          X},
    [STAGE_LEGAL] =       {STAGE_LEGAL, STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, X,           M,        X,           X,      X,          X},
    [STAGE_SALE] =        {STAGE_SALE,  STAGE_PAID, STAGE_SETTLED, STAGE_RECALLED, STAGE_WRITTEN_OFF, X,           X,        X,           M,      STAGE_SOLD, X},
    [STAGE_PAID] =        {X,           X,          X,             X,              X,                 X,           X,        X,           X,      X,          X},
    [STAGE_SETTLED] =     {X,           X,          X,             X,              X,                 X,           X,        X,           X,      X,          X},
    [STAGE_RECALLED] =    {X,           X,          X,             X,              X,                 X,           X,        X,           X,      X,          X},
    [STAGE_SOLD] =        {X,           X,          X,             X,              X,                 X,           X,        X,           X,      X,          M},
    [STAGE_WRITTEN_OFF] = {X,           X,          X,             X,              X,                 X,           X,        X,           X,      X,          X},
};
#undef M
#undef X

static void test_every_transition(void **state)
{
    (void)state;
    stage_ranges_t r = stage_ranges_default();
    int legal = 0, refused = 0;
    for (int s = 0; s < STAGE_COUNT; s++) {
        for (int e = 0; e < STAGE_EVENT_COUNT; e++) {
            stage_event_t ev = {.kind = (stage_event_kind_t)e, .dpd = 45, .days_to_due = 0,
                                .day = 20010, .sold_day = 20000};
            stage_t next = (stage_t)-1;
            char reason[160] = "";
            int rc = stage_next(&r, (stage_t)s, &ev, &next, reason, sizeof reason);
            if (expected[s][e] == REFUSED) {
                if (rc != STAGE_EILLEGAL || next != (stage_t)s)
                    fail_msg("%s + %s: expected a refusal, got rc %d next %s",
                             stage_name((stage_t)s), stage_event_name(ev.kind), rc,
                             stage_name(next));
                assert_non_null(strstr(reason, "refused"));
                assert_non_null(strstr(reason, stage_event_name(ev.kind)));
                refused++;
            } else {
                if (rc != STAGE_OK || next != (stage_t)expected[s][e])
                    fail_msg("%s + %s: expected %s, got rc %d next %s",
                             stage_name((stage_t)s), stage_event_name(ev.kind),
                             stage_name((stage_t)expected[s][e]), rc, stage_name(next));
                assert_true(reason[0] != '\0');
                legal++;
            }
        }
    }
    assert_int_equal(legal + refused, STAGE_COUNT * STAGE_EVENT_COUNT);
    assert_int_equal(legal, 49);
}

static void test_transition_reasons(void **state)
{
    (void)state;
    stage_ranges_t r = stage_ranges_default();
    stage_t next;
    char reason[160];
    stage_event_t paid = {.kind = STAGE_EVENT_PAID};
    assert_int_equal(stage_next(&r, STAGE_EARLY, &paid, &next, reason, sizeof reason),
                     STAGE_OK);
    assert_string_equal(reason, "early -> paid: paid");
    stage_event_t refer = {.kind = STAGE_EVENT_REFER_LEGAL};
    assert_int_equal(stage_next(&r, STAGE_PAID, &refer, &next, reason, sizeof reason),
                     STAGE_EILLEGAL);
    assert_string_equal(reason, "paid is terminal: refer_legal refused");
    assert_int_equal(stage_next(&r, STAGE_PRE_DUE, &refer, &next, reason, sizeof reason),
                     STAGE_EILLEGAL);
    assert_string_equal(reason, "refer_legal refused in stage pre_due");
    stage_event_t dpd = {.kind = STAGE_EVENT_DPD, .dpd = 70};
    assert_int_equal(stage_next(&r, STAGE_LEGAL, &dpd, &next, reason, sizeof reason),
                     STAGE_OK);
    assert_int_equal(next, STAGE_LEGAL);
    assert_string_equal(reason, "dpd: stays legal");
    /* reason is optional */
    assert_int_equal(stage_next(&r, STAGE_PAID, &refer, &next, NULL, 0), STAGE_EILLEGAL);
}

/* DPD stages follow DPD both ways: a cure goes back, a new account may enter deep. */
static void test_dpd_moves_both_ways(void **state)
{
    (void)state;
    stage_ranges_t r = stage_ranges_default();
    stage_t next;
    stage_event_t cure = {.kind = STAGE_EVENT_DPD, .dpd = 0, .days_to_due = 20};
    assert_int_equal(stage_next(&r, STAGE_CHARGED_OFF, &cure, &next, NULL, 0), STAGE_OK);
    assert_int_equal(next, STAGE_CURRENT);
    cure.days_to_due = 2;
    assert_int_equal(stage_next(&r, STAGE_LATE, &cure, &next, NULL, 0), STAGE_OK);
    assert_int_equal(next, STAGE_PRE_DUE);
    stage_event_t deep = {.kind = STAGE_EVENT_DPD, .dpd = 200};
    assert_int_equal(stage_next(&r, STAGE_CURRENT, &deep, &next, NULL, 0), STAGE_OK);
    assert_int_equal(next, STAGE_CHARGED_OFF);
    /* A case returned from legal lands where DPD now says, even a cure. */
    stage_event_t back = {.kind = STAGE_EVENT_LEGAL_RETURNED, .dpd = 0, .days_to_due = 9};
    assert_int_equal(stage_next(&r, STAGE_LEGAL, &back, &next, NULL, 0), STAGE_OK);
    assert_int_equal(next, STAGE_CURRENT);
}

static void test_put_back_window(void **state)
{
    (void)state;
    stage_ranges_t r = stage_ranges_default();   /* 90 days */
    stage_t next;
    char reason[160];
    stage_event_t ev = {.kind = STAGE_EVENT_PUT_BACK, .dpd = 150, .sold_day = 20000};
    ev.day = 20000 + 90;   /* the last day of the window */
    assert_int_equal(stage_next(&r, STAGE_SOLD, &ev, &next, reason, sizeof reason), STAGE_OK);
    assert_int_equal(next, STAGE_CHARGED_OFF);
    ev.day = 20000 + 91;
    assert_int_equal(stage_next(&r, STAGE_SOLD, &ev, &next, reason, sizeof reason),
                     STAGE_EWINDOW);
    assert_int_equal(next, STAGE_SOLD);
    assert_string_equal(reason, "put_back refused: day 20091 is 91 days after the sale on "
                                "day 20000; the window is 90 days");
    ev.day = 20000 - 1;   /* before the sale: nonsense, refused */
    assert_int_equal(stage_next(&r, STAGE_SOLD, &ev, &next, NULL, 0), STAGE_EWINDOW);
    ev.day = 20000;
    assert_int_equal(stage_next(&r, STAGE_SOLD, &ev, &next, NULL, 0), STAGE_OK);
    /* Not sold: a put back is illegal whatever the days. */
    assert_int_equal(stage_next(&r, STAGE_SALE, &ev, &next, NULL, 0), STAGE_EILLEGAL);
    assert_int_equal(stage_next(&r, STAGE_PAID, &ev, &next, NULL, 0), STAGE_EILLEGAL);
}

/* ---------------------------------------------------------------- ranges from config */

static int load_ranges(const char *text, stage_ranges_t *r, char *err)
{
    char perr[ERR_LEN] = "";
    conf_t *conf = conf_parse_string(text, "<stages>", perr, sizeof perr);
    if (!conf)
        fail_msg("parse: %s", perr);
    int rc = stage_ranges_load(conf, "stages", r, err, ERR_LEN);
    conf_destroy(&conf);
    return rc;
}

static void test_ranges_load(void **state)
{
    (void)state;
    stage_ranges_t r;
    char err[ERR_LEN] = "";
    assert_int_equal(load_ranges("other = 1;\n", &r, err), STAGE_OK);
    stage_ranges_t d = stage_ranges_default();
    assert_memory_equal(&r, &d, sizeof r);
    assert_int_equal(load_ranges("stages = {\n"
                                 "  reminder_days = 5;\n"
                                 "  early = { from_dpd = 1; to_dpd = 15; };\n"
                                 "  middle = { from_dpd = 16; to_dpd = 45; };\n"
                                 "  late = { from_dpd = 46; to_dpd = 120; };\n"
                                 "  charged_off = { from_dpd = 121; };\n"
                                 "  put_back_window_days = 30;\n"
                                 "};\n",
                                 &r, err),
                     STAGE_OK);
    assert_int_equal(r.reminder_days, 5);
    assert_int_equal(stage_for_dpd(&r, 0, 5), STAGE_PRE_DUE);
    assert_int_equal(stage_for_dpd(&r, 15, 0), STAGE_EARLY);
    assert_int_equal(stage_for_dpd(&r, 16, 0), STAGE_MIDDLE);
    assert_int_equal(stage_for_dpd(&r, 120, 0), STAGE_LATE);
    assert_int_equal(stage_for_dpd(&r, 121, 0), STAGE_CHARGED_OFF);
    assert_int_equal(r.put_back_window_days, 30);
}

static void test_ranges_errors(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *err;
    } rows[] = {
        {"stages = {\n early = { from_dpd = 1; to_dpd = 30; };\n"
         " middle = { from_dpd = 25; to_dpd = 60; };\n"
         " late = { from_dpd = 61; to_dpd = 90; };\n charged_off = { from_dpd = 91; };\n};\n",
         "<stages>:3: overlap: DPD 25 to 30 is in both early and middle (middle must start "
         "at 31)"},
        {"stages = {\n early = { from_dpd = 1; to_dpd = 30; };\n"
         " middle = { from_dpd = 31; to_dpd = 60; };\n"
         " late = { from_dpd = 65; to_dpd = 90; };\n charged_off = { from_dpd = 91; };\n};\n",
         "<stages>:4: gap: DPD 61 to 64 has no stage (late starts at 65; it must start the "
         "day after middle ends, at 61)"},
        {"stages = {\n early = { from_dpd = 3; to_dpd = 30; };\n"
         " middle = { from_dpd = 31; to_dpd = 60; };\n"
         " late = { from_dpd = 61; to_dpd = 90; };\n charged_off = { from_dpd = 91; };\n};\n",
         "<stages>:2: gap: DPD 1 to 2 has no stage (early starts at 3; it must start the "
         "day after DPD 0 (current or pre_due) ends, at 1)"},
        {"stages = {\n early = { from_dpd = 1; to_dpd = 30; };\n"
         " middle = { from_dpd = 31;\n to_dpd = 20; };\n"
         " late = { from_dpd = 61; to_dpd = 90; };\n charged_off = { from_dpd = 91; };\n};\n",
         "<stages>:4: middle ends (to_dpd 20) before it starts (from_dpd 31)"},
        {"stages = {\n early = { from_dpd = 1; to_dpd = 30; };\n"
         " middle = { from_dpd = 31; to_dpd = 60; };\n"
         " late = { from_dpd = 61; to_dpd = 90; };\n"
         " charged_off = { from_dpd = 91; to_dpd = 400; };\n};\n",
         "<stages>:5: charged_off has no end: remove to_dpd (every DPD beyond late is "
         "charged off)"},
        {"stages = {\n early = { from_dpd = 1; to_dpd = 30; };\n"
         " late = { from_dpd = 31; to_dpd = 90; };\n charged_off = { from_dpd = 91; };\n};\n",
         "<stages>:1: stages: the middle range is missing (all four of early, middle, late, "
         "charged_off are required)"},
        {"stages = {\n reminder_dayz = 3;\n};\n",
         "<stages>:2: stages.reminder_dayz is not a known setting (known here: "
         "reminder_days, early, middle, late, charged_off, put_back_window_days)"},
        {"stages = {\n reminder_days = 61;\n};\n",
         "<stages>:2: stages.reminder_days must be between 0 and 60, got 61"},
        {"stages = {\n early = { from_dpd = 1; };\n};\n",
         "<stages>:2: early: to_dpd is required"},
        {"stages = {\n early = { from_dpd = 0; to_dpd = 5; };\n};\n",
         "<stages>:2: stages.early.from_dpd must be between 1 and 36500, got 0"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        stage_ranges_t r = stage_ranges_default();
        stage_ranges_t before = r;
        char err[ERR_LEN] = "";
        assert_int_equal(load_ranges(rows[i].text, &r, err), STAGE_ECONFIG);
        if (strcmp(err, rows[i].err) != 0)
            fail_msg("row %zu:\n got  %s\n want %s", i, err, rows[i].err);
        assert_memory_equal(&r, &before, sizeof r);   /* untouched on error */
    }
}

/* ---------------------------------------------------------------- holds and contact */

static void test_holds(void **state)
{
    (void)state;
    holds_t h;
    holds_init(&h);
    assert_false(holds_any(&h));
    holds_place(&h, HOLD_DISPUTE, 100, 130);
    assert_true(holds_has(&h, HOLD_DISPUTE));
    assert_int_equal(h.since_day[HOLD_DISPUTE], 100);
    /* a second dispute neither restarts the hold nor postpones the first answer */
    holds_place(&h, HOLD_DISPUTE, 110, 140);
    assert_int_equal(h.since_day[HOLD_DISPUTE], 100);
    assert_int_equal(h.deadline_day[HOLD_DISPUTE], 130);
    holds_place(&h, HOLD_DISPUTE, 111, 125);
    assert_int_equal(h.deadline_day[HOLD_DISPUTE], 125);
    assert_false(holds_response_overdue(&h, HOLD_DISPUTE, 125));
    assert_true(holds_response_overdue(&h, HOLD_DISPUTE, 126));
    holds_place(&h, HOLD_CEASE_CONTACT, 101, STAGE_NO_DAY);
    assert_false(holds_response_overdue(&h, HOLD_CEASE_CONTACT, 100000));
    assert_int_equal(h.bits, HOLD_BIT(HOLD_DISPUTE) | HOLD_BIT(HOLD_CEASE_CONTACT));
    assert_int_equal(holds_lift(&h, HOLD_DISPUTE), STAGE_OK);
    assert_false(holds_response_overdue(&h, HOLD_DISPUTE, 200));
    assert_int_equal(holds_lift(&h, HOLD_DISPUTE), STAGE_ENOTHELD);
    assert_int_equal(holds_lift(&h, HOLD_CEASE_CONTACT), STAGE_OK);
    assert_false(holds_any(&h));
}

static void test_contact_allowed(void **state)
{
    (void)state;
    holds_t h;
    holds_init(&h);
    const char *why = NULL;
    static const stage_t working[] = {STAGE_PRE_DUE, STAGE_EARLY, STAGE_MIDDLE, STAGE_LATE,
                                      STAGE_CHARGED_OFF, STAGE_LEGAL, STAGE_SALE};
    for (size_t i = 0; i < sizeof working / sizeof working[0]; i++) {
        assert_true(stage_contact_allowed(working[i], &h, &why));
        assert_string_equal(why, "contact allowed");
    }
    static const struct {
        stage_t stage;
        const char *why;
    } closed[] = {
        {STAGE_CURRENT, "current: nothing to collect yet"},
        {STAGE_PAID, "closed: paid"},
        {STAGE_SETTLED, "closed: settled"},
        {STAGE_RECALLED, "closed: recalled by the platform"},
        {STAGE_SOLD, "closed: sold"},
        {STAGE_WRITTEN_OFF, "closed: written off"},
    };
    for (size_t i = 0; i < sizeof closed / sizeof closed[0]; i++) {
        assert_false(stage_contact_allowed(closed[i].stage, &h, &why));
        assert_string_equal(why, closed[i].why);
    }
    /* Each hold alone suspends contact in every working stage; the stage is untouched
     * (holds are not stages), and lifting the hold resumes contact there. */
    for (int k = 0; k < HOLD_COUNT; k++) {
        char want[64];
        snprintf(want, sizeof want, "on hold: %s", hold_name((hold_kind_t)k));
        for (size_t i = 0; i < sizeof working / sizeof working[0]; i++) {
            holds_place(&h, (hold_kind_t)k, 10, STAGE_NO_DAY);
            assert_false(stage_contact_allowed(working[i], &h, &why));
            assert_string_equal(why, want);
            assert_int_equal(holds_lift(&h, (hold_kind_t)k), STAGE_OK);
            assert_true(stage_contact_allowed(working[i], &h, NULL));
        }
    }
    /* Several holds: the most lasting one is named. */
    holds_place(&h, HOLD_COMPLAINT, 1, 15);
    holds_place(&h, HOLD_BANKRUPTCY, 2, STAGE_NO_DAY);
    assert_false(stage_contact_allowed(STAGE_LATE, &h, &why));
    assert_string_equal(why, "on hold: bankruptcy");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stage_for_dpd_boundaries),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_every_transition),
        cmocka_unit_test(test_transition_reasons),
        cmocka_unit_test(test_dpd_moves_both_ways),
        cmocka_unit_test(test_put_back_window),
        cmocka_unit_test(test_ranges_load),
        cmocka_unit_test(test_ranges_errors),
        cmocka_unit_test(test_holds),
        cmocka_unit_test(test_contact_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
