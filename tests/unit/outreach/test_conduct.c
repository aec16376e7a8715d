/* test_conduct: the conduct gate, rule by rule, each decision's rule and instant checked
 * against values worked out by hand: the window in a DST change and in a far zone
 * (Pacific/Kiritimati, UTC+14), rest days and holidays, each cap at its boundary, the
 * wait after a conversation, and every refusal (hold, cease, opt-out, unverified point,
 * third party, unvetted template, legal threat on a time-barred debt, banned phrase,
 * missing opt-out notice, a harsh template for a vulnerable borrower), the vulnerable
 * borrower's tighter caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "conduct.h"

#define SMS 0
#define EMAIL 1
#define LETTER 2
#define CALL 3
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)

static tz_cache_t *zones;

static const tz_zone_t *zone(const char *name)
{
    const tz_zone_t *z = NULL;
    assert_int_equal(tz_cache_get(zones, name, &z), TZ_OK);
    return z;
}

/* The instant of a local wall time in a zone. */
static int64_t at(const char *name, int y, int mo, int d, int h, int mi)
{
    int64_t s;
    assert_int_equal(tz_utc_of_local(zone(name), y, mo, d, h, mi, 0, &s), TZ_OK);
    return s * 1000;
}

static conduct_task_t task(const char *zone_name, int64_t now_ms, int channel)
{
    return (conduct_task_t){
        .now_ms = now_ms, .zone = zone(zone_name), .channel = channel,
        .last_conversation_ms = INT64_MIN, .point_verified = true, .point_consented = true,
        .template_vetted = true,
    };
}

static conduct_decision_t decide(const conduct_profile_t *p, const conduct_task_t *k)
{
    conduct_decision_t d;
    conduct_decide(p, k, &d);
    return d;
}

static void test_inside_the_window_sends(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    conduct_task_t k = task("Asia/Shanghai", at("Asia/Shanghai", 2026, 3, 2, 8, 0), SMS);
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_SEND);
    assert_string_equal(d.reason, "allowed by test");
    k.now_ms = at("Asia/Shanghai", 2026, 3, 2, 20, 59);
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
}

/* 21:00 is outside [08:00, 21:00): deferred to 08:00 the next day; 07:59 to 08:00. */
static void test_window_edges_defer(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    conduct_task_t k = task("Asia/Shanghai", at("Asia/Shanghai", 2026, 3, 2, 21, 0), SMS);
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_DEFER);
    assert_int_equal(d.rule, CONDUCT_RULE_WINDOW);
    assert_int_equal(d.not_before_ms, at("Asia/Shanghai", 2026, 3, 3, 8, 0));
    assert_string_equal(d.reason, "deferred by test: window; next opening 2026-03-03 08:00 CST");
    k.now_ms = at("Asia/Shanghai", 2026, 3, 3, 7, 59);
    d = decide(&p, &k);
    assert_int_equal(d.not_before_ms, at("Asia/Shanghai", 2026, 3, 3, 8, 0));
}

/* New York springs forward on 2026-03-08: 08:00 EDT is 12:00Z, not 13:00Z as the day
 * before; a task at 22:00 EST on the 7th waits until 08:00 EDT on the 8th (10 hours). */
static void test_window_across_dst(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    int64_t now = at("America/New_York", 2026, 3, 7, 22, 0);
    conduct_task_t k = task("America/New_York", now, SMS);
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_DEFER);
    assert_int_equal(d.not_before_ms, now + 9 * HOUR_MS);   /* 22 EST -> 08 EDT: 9 h of clock */
    assert_int_equal(d.not_before_ms % DAY_MS, 12 * HOUR_MS);
    assert_string_equal(d.reason, "deferred by test: window; next opening 2026-03-08 08:00 EDT");
}

/* Kiritimati is UTC+14: 2026-03-02 19:00Z is already 09:00 on the 3rd there (open),
 * while 2026-03-02 07:30Z is 21:30 on the 2nd (closed until 08:00 on the 3rd, 18:00Z). */
static void test_window_in_a_far_zone(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    int64_t day = INT64_C(20514) * DAY_MS;   /* 2026-03-02 00:00Z */
    conduct_task_t k = task("Pacific/Kiritimati", day + 19 * HOUR_MS, SMS);
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.now_ms = day + 7 * HOUR_MS + 30 * MIN_MS;
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_DEFER);
    assert_int_equal(d.not_before_ms, day + 18 * HOUR_MS);
}

/* Sundays rest and 2026-03-03 is a holiday: Saturday 21:30 waits until Monday 08:00;
 * Monday 21:30 skips the holiday to Wednesday 08:00 (the window closed first). */
static void test_rest_days_and_holidays(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    p.rest_weekdays = 1;   /* Sunday */
    p.holidays[p.holiday_count++] = tz_days_from_civil(2026, 3, 3);
    conduct_task_t k = task("Europe/London", at("Europe/London", 2026, 2, 28, 21, 30), SMS);
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.rule, CONDUCT_RULE_WINDOW);
    assert_int_equal(d.not_before_ms, at("Europe/London", 2026, 3, 2, 8, 0));
    k.now_ms = at("Europe/London", 2026, 3, 1, 12, 0);   /* Sunday noon */
    d = decide(&p, &k);
    assert_int_equal(d.rule, CONDUCT_RULE_REST_DAY);
    assert_int_equal(d.not_before_ms, at("Europe/London", 2026, 3, 2, 8, 0));
    k.now_ms = at("Europe/London", 2026, 3, 3, 12, 0);   /* the holiday */
    d = decide(&p, &k);
    assert_int_equal(d.rule, CONDUCT_RULE_HOLIDAY);
    assert_int_equal(d.not_before_ms, at("Europe/London", 2026, 3, 4, 8, 0));
}

/* 3 connected calls a day per person: the 3rd today is allowed, the 4th waits for
 * tomorrow's 08:00; an unanswered call does not count with count_connected. */
static void test_daily_cap_at_its_boundary(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "cn");
    p.person[CALL].per_day = 3;
    p.count_connected = true;
    int64_t t = at("Asia/Shanghai", 2026, 3, 2, 15, 0);
    conduct_attempt_t made[4] = {{t - 5 * HOUR_MS, CALL, true}, {t - 4 * HOUR_MS, CALL, true},
                                 {t - 3 * HOUR_MS, CALL, false}, {t - 2 * HOUR_MS, CALL, true}};
    conduct_task_t k = task("Asia/Shanghai", t, CALL);
    k.person_attempts = made;
    k.person_count = 2;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.person_count = 3;   /* the third did not connect */
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.person_count = 4;
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_DEFER);
    assert_int_equal(d.rule, CONDUCT_RULE_CAP_PERSON_DAY);
    assert_int_equal(d.not_before_ms, at("Asia/Shanghai", 2026, 3, 3, 8, 0));
    k.channel = SMS;   /* caps are per channel */
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
}

/* 7 calls per account in a rolling 7 days: with 7 made, the next may go when the oldest
 * leaves the window (its instant + 7 days), inside the window that day. */
static void test_rolling_week_cap(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "us");
    p.account[CALL].per_7_days = 7;
    int64_t t = at("America/Chicago", 2026, 3, 10, 10, 0);
    conduct_attempt_t made[7];
    for (int i = 0; i < 7; i++)
        made[i] = (conduct_attempt_t){t - (6 - i) * DAY_MS - HOUR_MS, CALL, false};
    conduct_task_t k = task("America/Chicago", t, CALL);
    k.account_attempts = made;
    k.account_count = 6;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.account_count = 7;
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.rule, CONDUCT_RULE_CAP_ACCOUNT_WEEK);
    assert_int_equal(d.not_before_ms, made[0].at_ms + 7 * DAY_MS);   /* 2026-03-11 09:00 */
    assert_int_equal(d.not_before_ms, at("America/Chicago", 2026, 3, 11, 9, 0));
}

/* No call for 7 days after a conversation: 6 days 23 hours after it, deferred to the
 * instant the 7 days end; at exactly 7 days, allowed. */
static void test_wait_after_conversation(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "us");
    p.wait_after_conversation_days[CALL] = 7;
    int64_t talk = at("America/Chicago", 2026, 3, 2, 11, 0);
    conduct_task_t k = task("America/Chicago", talk + 7 * DAY_MS - HOUR_MS, CALL);
    k.last_conversation_ms = talk;
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.rule, CONDUCT_RULE_AFTER_CONVERSATION);
    assert_int_equal(d.not_before_ms, talk + 7 * DAY_MS);
    k.now_ms = talk + 7 * DAY_MS;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.channel = SMS;
    k.now_ms = talk + DAY_MS;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
}

static void expect_refusal(const conduct_task_t *k, conduct_rule_t rule, const char *reason)
{
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    conduct_decision_t d = decide(&p, k);
    assert_int_equal(d.verdict, CONDUCT_REFUSE);
    assert_int_equal(d.rule, rule);
    assert_string_equal(d.reason, reason);
}

static void test_refusals(void **state)
{
    (void)state;
    static const char *const banned[] = {"jail", "we will sue"};
    int64_t t = at("Asia/Shanghai", 2026, 3, 2, 12, 0);
    conduct_task_t k = task("Asia/Shanghai", t, SMS);
    k.on_hold = true;
    expect_refusal(&k, CONDUCT_RULE_HOLD, "refused by test: hold");
    k = task("Asia/Shanghai", t, SMS), k.cease_contact = true;
    expect_refusal(&k, CONDUCT_RULE_CEASE, "refused by test: cease_contact");
    k = task("Asia/Shanghai", t, SMS), k.opted_out = true;
    expect_refusal(&k, CONDUCT_RULE_OPT_OUT, "refused by test: opt_out");
    k = task("Asia/Shanghai", t, SMS), k.point_consented = false;
    expect_refusal(&k, CONDUCT_RULE_UNVERIFIED, "refused by test: unverified_point");
    k = task("Asia/Shanghai", t, SMS), k.third_party = true;
    expect_refusal(&k, CONDUCT_RULE_THIRD_PARTY, "refused by test: third_party");
    k = task("Asia/Shanghai", t, SMS), k.template_vetted = false;
    expect_refusal(&k, CONDUCT_RULE_TEMPLATE, "refused by test: template_not_vetted");
    k = task("Asia/Shanghai", t, SMS), k.mentions_legal = k.time_barred = true;
    expect_refusal(&k, CONDUCT_RULE_TIME_BARRED, "refused by test: legal_threat_time_barred");
    k = task("Asia/Shanghai", t, SMS);
    k.banned = banned, k.banned_count = 2;
    k.text = "Pay now or WE WILL SUE you";
    expect_refusal(&k, CONDUCT_RULE_BANNED, "refused by test: banned_language we will sue");
    k.text = "Please pay by Friday";
    conduct_profile_t p;
    conduct_profile_init(&p, "test");
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
}

/* A refusal wins over a deferral: a hold at midnight is refused, not deferred. */
static void test_refusal_before_deferral(void **state)
{
    (void)state;
    conduct_task_t k = task("Asia/Shanghai", at("Asia/Shanghai", 2026, 3, 2, 0, 0), SMS);
    k.on_hold = true;
    expect_refusal(&k, CONDUCT_RULE_HOLD, "refused by test: hold");
}

/* Every weekday a rest day: no opening within the horizon, refused rather than looping. */
static void test_never_open_is_refused(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "closed");
    p.rest_weekdays = 0x7f;
    conduct_task_t k = task("Asia/Shanghai", at("Asia/Shanghai", 2026, 3, 2, 12, 0), SMS);
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_REFUSE);
    assert_int_equal(d.rule, CONDUCT_RULE_NO_OPENING);
}

/* Reg F: every sms and e-mail carries an opt-out instruction. One of the phrases, in any
 * case, is enough; none refuses, and so does no text at all; letters need none. The
 * banned-language check comes first. */
static void test_opt_out_notice(void **state)
{
    (void)state;
    static const char *const phrases[] = {"reply stop", "unsubscribe"};
    static const char *const banned[] = {"jail"};
    conduct_profile_t p;
    conduct_profile_init(&p, "us");
    p.opt_out_notice[SMS] = p.opt_out_notice[EMAIL] = true;
    conduct_task_t k = task("America/Chicago", at("America/Chicago", 2026, 3, 2, 12, 0), SMS);
    k.opt_out_phrases = phrases, k.opt_out_phrase_count = 2;
    k.banned = banned, k.banned_count = 1;
    k.text = "Your payment is due. Reply STOP to opt out.";
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.text = "Your payment is due.";
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_REFUSE);
    assert_int_equal(d.rule, CONDUCT_RULE_NO_OPT_OUT_NOTICE);
    assert_string_equal(d.reason, "refused by us: no_opt_out_notice");
    k.text = NULL;
    assert_int_equal(decide(&p, &k).rule, CONDUCT_RULE_NO_OPT_OUT_NOTICE);
    k.channel = EMAIL, k.text = "Due today. Unsubscribe: https://x.example/u";
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.text = "Pay or jail. Unsubscribe here.";
    assert_int_equal(decide(&p, &k).rule, CONDUCT_RULE_BANNED);
    k.channel = LETTER, k.text = "Your payment is due.";
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.channel = SMS, k.text = "Reply STOP", k.opt_out_phrase_count = 0;   /* no phrases known */
    assert_int_equal(decide(&p, &k).rule, CONDUCT_RULE_NO_OPT_OUT_NOTICE);
}

/* With vulnerable_gentle_only a vulnerable borrower gets gentle templates only; other
 * borrowers, and profiles without the rule, take any vetted template. */
static void test_vulnerable_gentle_only(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "uk");
    conduct_task_t k = task("Europe/London", at("Europe/London", 2026, 3, 2, 12, 0), SMS);
    k.vulnerable = true;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);   /* rule off */
    p.vulnerable_gentle_only = true;
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_REFUSE);
    assert_int_equal(d.rule, CONDUCT_RULE_NOT_GENTLE);
    assert_string_equal(d.reason, "refused by uk: not_gentle");
    k.template_gentle = true;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.template_gentle = false, k.vulnerable = false;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.vulnerable = true, k.on_hold = true;   /* the earlier refusal wins */
    assert_int_equal(decide(&p, &k).rule, CONDUCT_RULE_HOLD);
}

/* A vulnerable borrower's person caps are the tighter of person[] and
 * vulnerable_person[]: 2 calls a day ordinarily, 1 when vulnerable; a vulnerable cap
 * looser than the ordinary one loosens nothing; a cap set only for the vulnerable
 * applies to them alone. */
static void test_vulnerable_person_caps(void **state)
{
    (void)state;
    conduct_profile_t p;
    conduct_profile_init(&p, "uk");
    p.person[CALL].per_day = 2;
    p.vulnerable_person[CALL].per_day = 1;
    int64_t t = at("Europe/London", 2026, 3, 2, 15, 0);
    conduct_attempt_t made[] = {{t - 2 * HOUR_MS, CALL, false}};
    conduct_task_t k = task("Europe/London", t, CALL);
    k.person_attempts = made, k.person_count = 1;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    k.vulnerable = true;
    conduct_decision_t d = decide(&p, &k);
    assert_int_equal(d.verdict, CONDUCT_DEFER);
    assert_int_equal(d.rule, CONDUCT_RULE_CAP_PERSON_DAY);
    assert_int_equal(d.not_before_ms, at("Europe/London", 2026, 3, 3, 8, 0));
    assert_string_equal(d.reason,
                        "deferred by uk: cap_person_day; next opening 2026-03-03 08:00 GMT");
    p.vulnerable_person[CALL].per_day = 5;   /* looser: the ordinary 2 still holds */
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
    p.person[CALL].per_day = CONDUCT_NO_CAP;
    p.vulnerable_person[CALL] = (conduct_cap_t){CONDUCT_NO_CAP, 1};
    d = decide(&p, &k);
    assert_int_equal(d.rule, CONDUCT_RULE_CAP_PERSON_WEEK);
    assert_int_equal(d.not_before_ms, made[0].at_ms + 7 * DAY_MS);
    k.vulnerable = false;
    assert_int_equal(decide(&p, &k).verdict, CONDUCT_SEND);
}

static void test_rule_names(void **state)
{
    (void)state;
    assert_string_equal(conduct_rule_name(CONDUCT_RULE_NO_OPENING), "no_opening");
    assert_string_equal(conduct_rule_name(CONDUCT_RULE_NO_OPT_OUT_NOTICE), "no_opt_out_notice");
    assert_string_equal(conduct_rule_name(CONDUCT_RULE_NOT_GENTLE), "not_gentle");
    assert_string_equal(conduct_rule_name(CONDUCT_RULE_COUNT), "unknown");
}

static int setup(void **state)
{
    (void)state;
    zones = tz_cache_new(NULL, 16);
    return zones ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    tz_cache_destroy(&zones);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_the_window_sends),
        cmocka_unit_test(test_window_edges_defer),
        cmocka_unit_test(test_window_across_dst),
        cmocka_unit_test(test_window_in_a_far_zone),
        cmocka_unit_test(test_rest_days_and_holidays),
        cmocka_unit_test(test_daily_cap_at_its_boundary),
        cmocka_unit_test(test_rolling_week_cap),
        cmocka_unit_test(test_wait_after_conversation),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusal_before_deferral),
        cmocka_unit_test(test_never_open_is_refused),
        cmocka_unit_test(test_opt_out_notice),
        cmocka_unit_test(test_vulnerable_gentle_only),
        cmocka_unit_test(test_vulnerable_person_caps),
        cmocka_unit_test(test_rule_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
