/* test_profile: the shipped jurisdiction profiles (services/outreach/profiles.conf, the
 * very file a deployment starts from) checked rule by rule through the conduct gate, and
 * the profile loader's refusal of malformed files.
 *
 * For each of us_reg_f, cn_industry and uk_conc7: the window at its edges, across a DST
 * change in the profile's country (New York, London; China keeps no DST, so its window
 * is also tried in Pacific/Kiritimati, UTC+14), every cap the file sets at its boundary
 * (n - 1 attempts send, n defer to the instant the cap allows), the wait after a
 * conversation, each hold and refusal (hold, cease, opt-out, unverified point, third
 * party), every banned phrase of every language, the opt-out notice, a holiday, and the
 * vulnerable-borrower rules. Each decision's verdict, rule, instant and reason are
 * asserted. Instants were worked out by hand from the zones' published offsets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "profile.h"

#define SMS 0
#define EMAIL 1
#define LETTER 2
#define CALL 3
#define VISIT 4
#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)
#define DAY_MS (24 * HOUR_MS)
#define NY "America/New_York"
#define SHANGHAI "Asia/Shanghai"
#define LONDON "Europe/London"
#define KIRITIMATI "Pacific/Kiritimati"
#define TEXT_MAX 256

static tz_cache_t *zones;
static profile_book_t *book;

/* ---------------------------------------------------------------- helpers */

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

static const profile_t *shipped(const char *name)
{
    const profile_t *p = profile_book_find(book, name);
    assert_non_null(p);
    return p;
}

/* A harmless message that carries the language's first opt-out phrase when it has one,
 * so only the rule under test can stop it. */
static const char *message(const profile_language_t *lang, char *buf)
{
    snprintf(buf, TEXT_MAX, "Your payment of 100.00 is due on the 20th.%s%s",
             lang && lang->opt_out_count ? " " : "",
             lang && lang->opt_out_count ? lang->opt_out[0] : "");
    return buf;
}

/* A task every refusal rule lets through, in the profile's language lang. */
static conduct_task_t task(const profile_t *p, const char *lang_tag, const char *zone_name,
                           int64_t now_ms, int channel, char *text_buf)
{
    const profile_language_t *lang = profile_language(p, lang_tag);
    conduct_task_t k = {
        .now_ms = now_ms, .zone = zone(zone_name), .channel = channel,
        .last_conversation_ms = INT64_MIN, .point_verified = true, .point_consented = true,
        .template_vetted = true,
        .text = channel == CALL || channel == VISIT ? NULL : message(lang, text_buf),
    };
    if (lang) {
        k.banned = lang->banned, k.banned_count = lang->banned_count;
        k.opt_out_phrases = lang->opt_out, k.opt_out_phrase_count = lang->opt_out_count;
    }
    return k;
}

/* Decides and checks verdict, rule, instant (DEFER only) and that the reason names the
 * profile and the rule. */
static conduct_decision_t expect(const profile_t *p, const conduct_task_t *k,
                                 conduct_verdict_t verdict, conduct_rule_t rule,
                                 int64_t not_before_ms)
{
    conduct_decision_t d;
    conduct_decide(&p->rules, k, &d);
    if (d.verdict != verdict || d.rule != rule)
        fail_msg("%s: expected %s %s, got %s %s (%s)", p->rules.name,
                 conduct_verdict_name(verdict), conduct_rule_name(rule),
                 conduct_verdict_name(d.verdict), conduct_rule_name(d.rule), d.reason);
    assert_non_null(strstr(d.reason, p->rules.name));
    if (verdict == CONDUCT_SEND)
        return d;
    assert_non_null(strstr(d.reason, conduct_rule_name(rule)));
    if (verdict == CONDUCT_DEFER)
        assert_int_equal(d.not_before_ms, not_before_ms);
    return d;
}

static void expect_send(const profile_t *p, const conduct_task_t *k)
{
    expect(p, k, CONDUCT_SEND, CONDUCT_RULE_NONE, 0);
}

static void expect_refusal(const profile_t *p, const conduct_task_t *k, conduct_rule_t rule)
{
    conduct_decision_t d = expect(p, k, CONDUCT_REFUSE, rule, 0);
    char want[CONDUCT_REASON_MAX];
    snprintf(want, sizeof want, "refused by %s: %s", p->rules.name, conduct_rule_name(rule));
    assert_memory_equal(d.reason, want, strlen(want));
}

/* ---------------------------------------------------------------- generic rule checks */

/* The window [start, end) of a profile on an ordinary day: a minute before opening waits
 * for the opening, the opening and the last minute send, the closing waits for the next
 * day's opening. */
static void check_window_edges(const profile_t *p, const char *lang, const char *z, int y,
                               int mo, int d)
{
    char text[TEXT_MAX];
    int open = p->rules.window_start_min, close = p->rules.window_end_min;
    conduct_task_t k = task(p, lang, z, at(z, y, mo, d, open / 60, open % 60) - MIN_MS, SMS,
                            text);
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, at(z, y, mo, d, open / 60, open % 60));
    k.now_ms += MIN_MS;
    expect_send(p, &k);
    k.now_ms = at(z, y, mo, d, close / 60, close % 60) - MIN_MS;
    expect_send(p, &k);
    k.now_ms += MIN_MS;
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, at(z, y, mo, d + 1, open / 60, open % 60));
}

typedef enum { PERSON, ACCOUNT, VULNERABLE } cap_kind_t;

static int32_t tighter(int32_t a, int32_t b)
{
    if (a == CONDUCT_NO_CAP || b == CONDUCT_NO_CAP)
        return a == CONDUCT_NO_CAP ? b : a;
    return a < b ? a : b;
}

/* The cap the file sets itself for a kind, channel and period, or NO_CAP. */
static int32_t cap_set(const conduct_profile_t *r, cap_kind_t kind, int channel, bool week)
{
    const conduct_cap_t *cap = kind == ACCOUNT  ? &r->account[channel]
                             : kind == PERSON   ? &r->person[channel]
                                                : &r->vulnerable_person[channel];
    return week ? cap->per_7_days : cap->per_day;
}

/* The cap as the gate applies it: a vulnerable borrower's is the tighter of the two. */
static int32_t cap_applied(const conduct_profile_t *r, cap_kind_t kind, int channel, bool week)
{
    int32_t own = cap_set(r, kind, channel, week);
    return kind == VULNERABLE ? tighter(cap_set(r, PERSON, channel, week), own) : own;
}

static conduct_rule_t cap_rule(cap_kind_t kind, bool week)
{
    if (kind == ACCOUNT)
        return week ? CONDUCT_RULE_CAP_ACCOUNT_WEEK : CONDUCT_RULE_CAP_ACCOUNT_DAY;
    return week ? CONDUCT_RULE_CAP_PERSON_WEEK : CONDUCT_RULE_CAP_PERSON_DAY;
}

/* One cap of n at its boundary on local day (y, mo, d), now at 12:00. A daily cap: the
 * n attempts made this morning; the nth waits for tomorrow's opening. A 7-day cap: one
 * attempt at 13:00 on each of the n days before (n <= 7, under any daily cap); the nth
 * waits until the oldest leaves the rolling week, today 13:00. Attempts all connected,
 * so count_connected does not change the count. */
static void check_one_cap(const profile_t *p, const char *z, int y, int mo, int d,
                          cap_kind_t kind, int channel, bool week, int32_t n)
{
    char text[TEXT_MAX];
    conduct_attempt_t made[8];
    int32_t weekly = cap_applied(&p->rules, kind, channel, true);
    assert_true(n >= 1 && n <= 7);   /* the shapes below need it, */
    assert_true(week || weekly == CONDUCT_NO_CAP || weekly > n);   /* and a week above a day */
    for (int32_t i = 0; i < n; i++)
        made[i] = (conduct_attempt_t){week ? at(z, y, mo, d - n + i, 13, 0)
                                           : at(z, y, mo, d, 8, (int)i),
                                      channel, true};
    conduct_task_t k = task(p, "en", z, at(z, y, mo, d, 12, 0), channel, text);
    k.vulnerable = kind == VULNERABLE;
    k.template_gentle = true;
    const conduct_attempt_t **list = kind == ACCOUNT ? &k.account_attempts : &k.person_attempts;
    size_t *count = kind == ACCOUNT ? &k.account_count : &k.person_count;
    *list = week ? made + 1 : made, *count = (size_t)n - 1;   /* the oldest left out */
    expect_send(p, &k);
    *list = made, *count = (size_t)n;
    int open = p->rules.window_start_min;
    int64_t release = week ? made[0].at_ms + 7 * DAY_MS : at(z, y, mo, d + 1, open / 60, open % 60);
    expect(p, &k, CONDUCT_DEFER, cap_rule(kind, week), release);
}

/* The caps and waits a profile sets, in words, to pin the shipped numbers:
 * "call: person 7/7d, account 7/7d, wait 7d; sms: ...". */
static const char *describe_caps(const conduct_profile_t *r, char *buf, size_t len)
{
    static const char *const channel[] = {"sms", "email", "letter", "call", "visit"};
    static const char *const kind[] = {"person", "account", "vulnerable"};
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < CONDUCT_CHANNELS; c++) {
        const char *sep = ": ";
        size_t start = used;
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? "; " : "", channel[c]);
        for (cap_kind_t k = PERSON; k <= VULNERABLE; k++)
            for (int week = 0; week <= 1; week++) {
                int32_t n = cap_set(r, k, c, week);
                if (n == CONDUCT_NO_CAP)
                    continue;
                used += (size_t)snprintf(buf + used, len - used, "%s%s %d/%s", sep, kind[k],
                                         (int)n, week ? "7d" : "day");
                sep = ", ";
            }
        if (r->wait_after_conversation_days[c] > 0)
            used += (size_t)snprintf(buf + used, len - used, "%swait %dd", sep,
                                     (int)r->wait_after_conversation_days[c]);
        if (sep[0] == ':')   /* nothing set on this channel */
            buf[used = start] = '\0';
        assert_true(used < len);
    }
    return buf;
}

/* Every cap the profile sets, each at its boundary; returns how many were checked. */
static int check_caps_at_their_boundaries(const profile_t *p, const char *z, int y, int mo,
                                          int d)
{
    int checked = 0;
    for (int c = 0; c < CONDUCT_CHANNELS; c++)
        for (cap_kind_t kind = PERSON; kind <= VULNERABLE; kind++)
            for (int week = 0; week <= 1; week++) {
                if (cap_set(&p->rules, kind, c, week) == CONDUCT_NO_CAP)
                    continue;
                check_one_cap(p, z, y, mo, d, kind, c, week, cap_applied(&p->rules, kind, c, week));
                checked++;
            }
    return checked;
}

/* Every refusal that does not depend on the text, on a message and on a call. */
static void check_refusals(const profile_t *p, const char *z, int64_t now)
{
    static const int channels[] = {SMS, CALL};
    char text[TEXT_MAX];
    for (size_t i = 0; i < 2; i++) {
        conduct_task_t base = task(p, "en", z, now, channels[i], text), k;
        expect_send(p, &base);
        k = base, k.on_hold = true;
        expect_refusal(p, &k, CONDUCT_RULE_HOLD);
        k = base, k.cease_contact = true;
        expect_refusal(p, &k, CONDUCT_RULE_CEASE);
        k = base, k.opted_out = true;
        expect_refusal(p, &k, CONDUCT_RULE_OPT_OUT);
        k = base, k.point_verified = false;
        expect_refusal(p, &k, CONDUCT_RULE_UNVERIFIED);
        k = base, k.point_consented = false;
        expect_refusal(p, &k, CONDUCT_RULE_UNVERIFIED);
        k = base, k.third_party = true;
        expect_refusal(p, &k, CONDUCT_RULE_THIRD_PARTY);
        k = base, k.template_vetted = false;
        expect_refusal(p, &k, CONDUCT_RULE_TEMPLATE);
        k = base, k.mentions_legal = k.time_barred = true;
        expect_refusal(p, &k, CONDUCT_RULE_TIME_BARRED);
    }
}

/* Every banned phrase of a language, inside an otherwise harmless message in upper case
 * where it has ASCII letters (matching folds case), is refused. */
static void check_banned(const profile_t *p, const char *lang_tag, const char *z, int64_t now)
{
    const profile_language_t *lang = profile_language(p, lang_tag);
    assert_non_null(lang);
    assert_true(lang->banned_count > 0);
    for (size_t i = 0; i < lang->banned_count; i++) {
        char text[TEXT_MAX], shout[PROFILE_PHRASE_MAX + 1];
        conduct_task_t k = task(p, lang_tag, z, now, SMS, text);
        size_t n = strlen(lang->banned[i]);
        for (size_t j = 0; j <= n; j++)
            shout[j] = lang->banned[i][j] >= 'a' && lang->banned[i][j] <= 'z'
                           ? (char)(lang->banned[i][j] - 32) : lang->banned[i][j];
        snprintf(text, sizeof text, "Please pay. %s! %s", shout,
                 lang->opt_out_count ? lang->opt_out[0] : "");
        k.text = text;
        conduct_decision_t d = expect(p, &k, CONDUCT_REFUSE, CONDUCT_RULE_BANNED, 0);
        assert_non_null(strstr(d.reason, "banned_language "));
    }
}

/* ---------------------------------------------------------------- us_reg_f */

static void test_us_window_edges(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    assert_int_equal(p->rules.window_start_min, 8 * 60);
    assert_int_equal(p->rules.window_end_min, 21 * 60);
    check_window_edges(p, "en", NY, 2026, 3, 10);
}

/* New York springs forward on 2026-03-08 and falls back on 2026-11-01. 21:00 EST on the
 * 7th waits for 08:00 EDT on the 8th: 11 hours of clock, 10 of time; 21:00 EDT on
 * October 31 waits for 08:00 EST on November 1: 11 of clock, 12 of time. */
static void test_us_window_across_dst(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    char text[TEXT_MAX];
    int64_t now = at(NY, 2026, 3, 7, 21, 0);
    conduct_task_t k = task(p, "en", NY, now, SMS, text);
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, now + 10 * HOUR_MS);
    assert_string_equal(d.reason,
                        "deferred by us_reg_f: window; next opening 2026-03-08 08:00 EDT");
    k.now_ms = at(NY, 2026, 3, 8, 7, 59);
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, k.now_ms + MIN_MS);
    k.now_ms = now = at(NY, 2026, 10, 31, 21, 0);
    d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, now + 12 * HOUR_MS);
    assert_string_equal(d.reason,
                        "deferred by us_reg_f: window; next opening 2026-11-01 08:00 EST");
    k.now_ms = at(NY, 2026, 11, 1, 20, 59);
    expect_send(p, &k);
    k.now_ms += MIN_MS;
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, at(NY, 2026, 11, 2, 8, 0));
}

/* Reg F 1006.14(b)(2): 7 calls in 7 days, per person and per debt (account). */
static void test_us_caps_at_their_boundaries(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    char caps[512];
    assert_string_equal(describe_caps(&p->rules, caps, sizeof caps),
                        "call: person 7/7d, account 7/7d, wait 7d");
    assert_false(p->rules.count_connected);
    assert_int_equal(check_caps_at_their_boundaries(p, NY, 2026, 3, 18), 2);
}

/* No call within 7 days after a conversation; messages are not held back by it. */
static void test_us_wait_after_conversation(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    char text[TEXT_MAX];
    assert_int_equal(p->rules.wait_after_conversation_days[CALL], 7);
    int64_t talk = at(NY, 2026, 3, 11, 13, 0);
    conduct_task_t k = task(p, "en", NY, at(NY, 2026, 3, 18, 12, 0), CALL, text);
    k.last_conversation_ms = talk;
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_AFTER_CONVERSATION, talk + 7 * DAY_MS);
    k.now_ms = talk + 7 * DAY_MS;
    expect_send(p, &k);
    k = task(p, "en", NY, talk + DAY_MS, SMS, text);
    k.last_conversation_ms = talk;
    expect_send(p, &k);
}

static void test_us_refusals(void **state)
{
    (void)state;
    check_refusals(shipped("us_reg_f"), NY, at(NY, 2026, 3, 10, 12, 0));
}

static void test_us_banned_language(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "en-US", NY, at(NY, 2026, 3, 10, 12, 0), SMS, text);
    k.text = "Pay today or you go to JAIL. Reply STOP to opt out.";
    conduct_decision_t d = expect(p, &k, CONDUCT_REFUSE, CONDUCT_RULE_BANNED, 0);
    assert_string_equal(d.reason, "refused by us_reg_f: banned_language jail");
    check_banned(p, "en", NY, at(NY, 2026, 3, 10, 12, 0));
}

/* 1006.6(e): texts and e-mails carry an opt-out statement; any listed phrase will do; no
 * statement, or no text, is refused; letters and calls need none. */
static void test_us_opt_out_notice(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    const profile_language_t *en = profile_language(p, "en");
    char text[TEXT_MAX];
    assert_true(p->rules.opt_out_notice[SMS] && p->rules.opt_out_notice[EMAIL]);
    assert_false(p->rules.opt_out_notice[LETTER] || p->rules.opt_out_notice[CALL]);
    int64_t now = at(NY, 2026, 3, 10, 12, 0);
    for (int channel = SMS; channel <= EMAIL; channel++) {
        conduct_task_t k = task(p, "en", NY, now, channel, text);
        k.text = "Your payment of 100.00 is due on the 20th.";
        expect_refusal(p, &k, CONDUCT_RULE_NO_OPT_OUT_NOTICE);
        k.text = NULL;
        expect_refusal(p, &k, CONDUCT_RULE_NO_OPT_OUT_NOTICE);
        for (size_t i = 0; i < en->opt_out_count; i++) {
            snprintf(text, sizeof text, "Payment due. %s", en->opt_out[i]);
            k.text = text;
            expect_send(p, &k);
        }
    }
    conduct_task_t k = task(p, "en", NY, now, LETTER, text);
    k.text = "Your payment of 100.00 is due on the 20th.";
    expect_send(p, &k);
    k = task(p, "en", NY, now, CALL, text);
    expect_send(p, &k);
}

/* Thanksgiving 2026 (Thursday, November 26) waits for Friday's opening; Independence Day
 * 2026 falls on a Saturday, so Friday the 3rd (observed) and the 4th are both closed. */
static void test_us_holidays(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "en", NY, at(NY, 2026, 11, 26, 12, 0), SMS, text);
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY,
                                  at(NY, 2026, 11, 27, 8, 0));
    assert_string_equal(d.reason,
                        "deferred by us_reg_f: holiday; next opening 2026-11-27 08:00 EST");
    k.now_ms = at(NY, 2026, 11, 25, 21, 30);   /* the window closes first */
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, at(NY, 2026, 11, 27, 8, 0));
    k.now_ms = at(NY, 2026, 7, 3, 10, 0);
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY, at(NY, 2026, 7, 5, 8, 0));
}

/* Regulation F has no gentle-template rule: a vulnerable borrower gets any vetted one. */
static void test_us_vulnerable_takes_any_template(void **state)
{
    (void)state;
    const profile_t *p = shipped("us_reg_f");
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "en", NY, at(NY, 2026, 3, 10, 12, 0), SMS, text);
    k.vulnerable = true;
    assert_false(p->rules.vulnerable_gentle_only);
    expect_send(p, &k);
}

/* ---------------------------------------------------------------- cn_industry */

static void test_cn_window_edges(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    assert_int_equal(p->rules.window_start_min, 8 * 60);
    assert_int_equal(p->rules.window_end_min, 22 * 60);
    check_window_edges(p, "zh", SHANGHAI, 2026, 3, 10);
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "zh", SHANGHAI, at(SHANGHAI, 2026, 3, 10, 22, 0), SMS, text);
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW,
                                  at(SHANGHAI, 2026, 3, 11, 8, 0));
    assert_string_equal(d.reason,
                        "deferred by cn_industry: window; next opening 2026-03-11 08:00 CST");
}

/* A borrower of a Chinese lender living in Kiritimati (UTC+14, no DST): the window and
 * the holidays are the borrower's local ones. 2026-03-10 07:59Z is 21:59 there (open);
 * 08:00Z is 22:00 (closed until 08:00 on the 11th, 18:00Z on the 10th). 2026-09-30
 * 12:00Z is already 02:00 on October 1 there: National Day, closed to October 8. */
static void test_cn_window_in_a_far_zone(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    char text[TEXT_MAX];
    int64_t day = INT64_C(20522) * DAY_MS;   /* 2026-03-10 00:00Z */
    assert_int_equal(day, at("UTC", 2026, 3, 10, 0, 0));
    conduct_task_t k = task(p, "zh", KIRITIMATI, day + 8 * HOUR_MS - MIN_MS, SMS, text);
    expect_send(p, &k);
    k.now_ms = day + 8 * HOUR_MS;
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, day + 18 * HOUR_MS);
    assert_string_equal(d.reason,
                        "deferred by cn_industry: window; next opening 2026-03-11 08:00 +14");
    k.now_ms = day + 18 * HOUR_MS - MIN_MS;
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, day + 18 * HOUR_MS);
    k.now_ms = at("UTC", 2026, 9, 30, 12, 0);
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY, at("UTC", 2026, 10, 7, 18, 0));
}

/* Three connected calls a day: the fourth waits for tomorrow; unanswered ones do not
 * count. */
static void test_cn_connected_call_cap(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    char text[TEXT_MAX];
    char caps[512];
    assert_string_equal(describe_caps(&p->rules, caps, sizeof caps), "call: person 3/day");
    assert_true(p->rules.count_connected);
    assert_int_equal(check_caps_at_their_boundaries(p, SHANGHAI, 2026, 3, 18), 1);
    int64_t now = at(SHANGHAI, 2026, 3, 18, 15, 0);
    conduct_attempt_t made[8];
    for (int i = 0; i < 8; i++)   /* connected: the 1st, 4th and 7th */
        made[i] = (conduct_attempt_t){now - (8 - i) * 10 * MIN_MS, CALL, i % 3 == 0};
    conduct_task_t k = task(p, "zh", SHANGHAI, now, CALL, text);
    k.person_attempts = made, k.person_count = 6;   /* 2 connected, 4 not */
    expect_send(p, &k);
    k.person_count = 7;
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_CAP_PERSON_DAY,
                                  at(SHANGHAI, 2026, 3, 19, 8, 0));
    assert_string_equal(d.reason, "deferred by cn_industry: cap_person_day; "
                                  "next opening 2026-03-19 08:00 CST");
}

static void test_cn_refusals(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    check_refusals(p, SHANGHAI, at(SHANGHAI, 2026, 3, 10, 12, 0));
    char text[TEXT_MAX];   /* the rule the industry stresses: never a third party */
    conduct_task_t k = task(p, "zh", SHANGHAI, at(SHANGHAI, 2026, 3, 10, 12, 0), CALL, text);
    k.third_party = true;
    expect_refusal(p, &k, CONDUCT_RULE_THIRD_PARTY);
}

static void test_cn_banned_language(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    int64_t now = at(SHANGHAI, 2026, 3, 10, 12, 0);
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "zh-Hans-CN", SHANGHAI, now, SMS, text);
    k.text = "请尽快还款，否则让你坐牢。";
    conduct_decision_t d = expect(p, &k, CONDUCT_REFUSE, CONDUCT_RULE_BANNED, 0);
    assert_string_equal(d.reason, "refused by cn_industry: banned_language 坐牢");
    k = task(p, "en", SHANGHAI, now, SMS, text);
    k.text = "Pay now or we EXPOSE YOU to everyone.";
    d = expect(p, &k, CONDUCT_REFUSE, CONDUCT_RULE_BANNED, 0);
    assert_string_equal(d.reason, "refused by cn_industry: banned_language expose you");
    check_banned(p, "zh", SHANGHAI, now);
    check_banned(p, "en", SHANGHAI, now);
}

/* Spring Festival 2026 runs February 15-23: a task on the 20th waits for the 24th;
 * National Day, October 1-7, for the 8th. */
static void test_cn_holidays(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "zh", SHANGHAI, at(SHANGHAI, 2026, 2, 20, 12, 0), SMS, text);
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY,
                                  at(SHANGHAI, 2026, 2, 24, 8, 0));
    assert_string_equal(d.reason,
                        "deferred by cn_industry: holiday; next opening 2026-02-24 08:00 CST");
    k.now_ms = at(SHANGHAI, 2026, 10, 1, 9, 0);
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY, at(SHANGHAI, 2026, 10, 8, 8, 0));
}

/* No opt-out notice rule and no gentle-template rule in this profile. */
static void test_cn_messages_need_no_opt_out_notice(void **state)
{
    (void)state;
    const profile_t *p = shipped("cn_industry");
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "zh", SHANGHAI, at(SHANGHAI, 2026, 3, 10, 12, 0), SMS, text);
    k.text = "您的账单已逾期，请尽快还款。";
    expect_send(p, &k);
    k.text = NULL;
    k.vulnerable = true;
    expect_send(p, &k);
}

/* ---------------------------------------------------------------- uk_conc7 */

static void test_uk_window_edges(void **state)
{
    (void)state;
    const profile_t *p = shipped("uk_conc7");
    assert_int_equal(p->rules.window_start_min, 8 * 60);
    assert_int_equal(p->rules.window_end_min, 21 * 60);
    assert_int_equal(p->rules.rest_weekdays, 0);
    check_window_edges(p, "en", LONDON, 2026, 3, 10);
}

/* London springs forward on 2026-03-29 and falls back on 2026-10-25. */
static void test_uk_window_across_dst(void **state)
{
    (void)state;
    const profile_t *p = shipped("uk_conc7");
    char text[TEXT_MAX];
    int64_t now = at(LONDON, 2026, 3, 28, 21, 0);
    conduct_task_t k = task(p, "en-GB", LONDON, now, SMS, text);
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, now + 10 * HOUR_MS);
    assert_string_equal(d.reason,
                        "deferred by uk_conc7: window; next opening 2026-03-29 08:00 BST");
    k.now_ms = now = at(LONDON, 2026, 10, 24, 21, 0);
    d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_WINDOW, now + 12 * HOUR_MS);
    assert_string_equal(d.reason,
                        "deferred by uk_conc7: window; next opening 2026-10-25 08:00 GMT");
    k.now_ms = at(LONDON, 2026, 10, 25, 8, 0);
    expect_send(p, &k);
    k.now_ms = at(LONDON, 2026, 10, 25, 20, 59);
    expect_send(p, &k);
}

/* The modest defaults CONC's "not excessive" is read as, ordinary and vulnerable. */
static void test_uk_caps_at_their_boundaries(void **state)
{
    (void)state;
    const profile_t *p = shipped("uk_conc7");
    char caps[512];
    assert_string_equal(describe_caps(&p->rules, caps, sizeof caps),
                        "sms: person 1/day, person 3/7d, vulnerable 2/7d; "
                        "email: person 1/day, person 3/7d, vulnerable 2/7d; "
                        "call: person 2/day, person 7/7d, vulnerable 1/day, vulnerable 3/7d; "
                        "visit: person 1/7d, vulnerable 1/7d");
    assert_false(p->rules.count_connected);
    /* call 4 (day, week, vulnerable day, vulnerable week), sms 3, email 3, visit 2 */
    assert_int_equal(check_caps_at_their_boundaries(p, LONDON, 2026, 3, 18), 12);
}

/* A vulnerable borrower: gentle templates only, and one call a day where others get two. */
static void test_uk_vulnerable_borrower(void **state)
{
    (void)state;
    const profile_t *p = shipped("uk_conc7");
    char text[TEXT_MAX];
    assert_true(p->rules.vulnerable_gentle_only);
    int64_t now = at(LONDON, 2026, 3, 10, 15, 0);
    conduct_task_t k = task(p, "en", LONDON, now, SMS, text);
    k.vulnerable = true;
    expect_refusal(p, &k, CONDUCT_RULE_NOT_GENTLE);
    k.template_gentle = true;
    expect_send(p, &k);
    k.vulnerable = false, k.template_gentle = false;
    expect_send(p, &k);
    conduct_attempt_t made[] = {{now - 3 * HOUR_MS, CALL, false}};
    k = task(p, "en", LONDON, now, CALL, text);
    k.person_attempts = made, k.person_count = 1;
    k.template_gentle = true;
    expect_send(p, &k);
    k.vulnerable = true;
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_CAP_PERSON_DAY,
                                  at(LONDON, 2026, 3, 11, 8, 0));
    assert_string_equal(d.reason,
                        "deferred by uk_conc7: cap_person_day; next opening 2026-03-11 08:00 GMT");
}

static void test_uk_refusals(void **state)
{
    (void)state;
    check_refusals(shipped("uk_conc7"), LONDON, at(LONDON, 2026, 3, 10, 12, 0));
}

static void test_uk_banned_language(void **state)
{
    (void)state;
    const profile_t *p = shipped("uk_conc7");
    int64_t now = at(LONDON, 2026, 3, 10, 12, 0);
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "en-GB", LONDON, now, LETTER, text);
    k.text = "Pay in full: the Bailiffs will call on Monday.";
    conduct_decision_t d = expect(p, &k, CONDUCT_REFUSE, CONDUCT_RULE_BANNED, 0);
    assert_string_equal(d.reason, "refused by uk_conc7: banned_language bailiffs will");
    check_banned(p, "en", LONDON, now);
    assert_false(p->rules.opt_out_notice[SMS]);   /* CONC asks for no opt-out line */
    k = task(p, "en", LONDON, now, SMS, text);
    k.text = "Your payment is due.";
    expect_send(p, &k);
}

/* The early May bank holiday 2026 (Monday the 4th) waits for Tuesday; Christmas Day 2026
 * (Friday) skips Boxing Day to Sunday the 27th, a working day under CONC. */
static void test_uk_holidays(void **state)
{
    (void)state;
    const profile_t *p = shipped("uk_conc7");
    char text[TEXT_MAX];
    conduct_task_t k = task(p, "en", LONDON, at(LONDON, 2026, 5, 4, 12, 0), SMS, text);
    conduct_decision_t d = expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY,
                                  at(LONDON, 2026, 5, 5, 8, 0));
    assert_string_equal(d.reason,
                        "deferred by uk_conc7: holiday; next opening 2026-05-05 08:00 BST");
    k.now_ms = at(LONDON, 2026, 12, 25, 10, 0);
    expect(p, &k, CONDUCT_DEFER, CONDUCT_RULE_HOLIDAY, at(LONDON, 2026, 12, 27, 8, 0));
}

/* ---------------------------------------------------------------- the book */

static void test_shipped_book_lookups(void **state)
{
    (void)state;
    assert_int_equal(profile_book_count(book), 3);
    assert_string_equal(profile_book_at(book, 0)->rules.name, "us_reg_f");
    assert_ptr_equal(profile_book_for(book, "US"), shipped("us_reg_f"));
    assert_ptr_equal(profile_book_for(book, "cn"), shipped("cn_industry"));
    assert_ptr_equal(profile_book_for(book, "GB"), shipped("uk_conc7"));
    assert_ptr_equal(profile_book_for(book, "FR"), shipped("us_reg_f"));   /* the default */
    assert_ptr_equal(profile_book_for(book, NULL), shipped("us_reg_f"));
    assert_null(profile_book_find(book, "eu_gdpr"));
    const profile_t *cn = shipped("cn_industry");
    assert_string_equal(profile_language(cn, "zh-Hans-CN")->language, "zh");
    assert_string_equal(profile_language(cn, "EN")->language, "en");
    assert_string_equal(profile_language(shipped("uk_conc7"), "en-GB")->language, "en");
    assert_null(profile_language(shipped("us_reg_f"), "es"));
    assert_null(profile_language(shipped("us_reg_f"), "eng"));
}

/* A profile with only what is required loads, with nothing but the window set. */
static void test_minimal_profile(void **state)
{
    (void)state;
    char err[256] = "";
    profile_book_t *b = profile_book_parse(
        "default = \"p\";\nprofiles = ( { name = \"p\"; window = { start = \"00:00\"; "
        "end = \"24:00\"; }; languages = ( { language = \"en-GB\"; } ); } );\n",
        "min.conf", err, sizeof err);
    assert_non_null(b);
    const profile_t *p = profile_book_for(b, "US");
    assert_string_equal(p->rules.name, "p");
    assert_int_equal(p->rules.window_start_min, 0);
    assert_int_equal(p->rules.window_end_min, 24 * 60);
    assert_int_equal(p->rules.person[CALL].per_day, CONDUCT_NO_CAP);
    assert_int_equal(p->rules.vulnerable_person[SMS].per_7_days, CONDUCT_NO_CAP);
    assert_int_equal(p->jurisdiction_count, 0);
    assert_string_equal(profile_language(p, "en-gb")->language, "en-GB");
    assert_null(profile_language(p, "en"));   /* the entry is a full tag, not "en" */
    profile_book_destroy(&b);
    assert_null(b);
}

#define PROFILE_WITH(line3) \
    "default = \"p\";\nprofiles = ( { name = \"p\";\n" line3 "\n} );\n"
#define WINDOW "window = { start = \"08:00\"; end = \"21:00\"; }; "

typedef struct {
    const char *text;
    int line;
    const char *why;   /* a word of the reason */
} malformed_t;

static const malformed_t malformed[] = {
    {PROFILE_WITH("window = { start = \"25:00\"; end = \"21:00\"; };"), 3, "HH:MM"},
    {PROFILE_WITH("window = { start = \"8:00\"; end = \"21:00\"; };"), 3, "HH:MM"},
    {PROFILE_WITH("window = { start = \"09:00\"; end = \"09:00\"; };"), 3, "after its start"},
    {PROFILE_WITH("window = { start = \"08:00\"; end = \"21:00\"; tz = \"UTC\"; };"), 3,
     "not a known setting"},
    {PROFILE_WITH("rest_days = [];"), 2, "needs window"},
    {PROFILE_WITH(WINDOW "caps = ( { channel = \"fax\"; person_per_day = 1; } );"), 3,
     "must be one of"},
    {PROFILE_WITH(WINDOW "caps = ( { channel = \"call\"; person_per_day = -1; } );"), 3,
     "between 1 and"},
    {PROFILE_WITH(WINDOW "caps = ( { channel = \"call\"; person_per_7_days = 0; } );"), 3,
     "between 1 and"},
    {PROFILE_WITH(WINDOW "caps = ( { channel = \"call\"; per_day = 1; } );"), 3,
     "not a known setting"},
    {PROFILE_WITH(WINDOW "caps = ( { channel = \"sms\"; }, { channel = \"sms\"; } );"), 3,
     "twice"},
    {PROFILE_WITH(WINDOW "rest_days = [\"sunday\"];"), 3, "rest day"},
    {PROFILE_WITH(WINDOW "holidays = [\"2026-02-30\"];"), 3, "not a calendar date"},
    {PROFILE_WITH(WINDOW "holidays = [\"26-12-25\"];"), 3, "YYYY-MM-DD"},
    {PROFILE_WITH(WINDOW "count_connected = 1;"), 3, "true or false"},
    {PROFILE_WITH(WINDOW "languages = ( { language = \"en\"; banned = [\"Jail\"]; } );"), 3,
     "lower case"},
    {PROFILE_WITH(WINDOW "languages = ( { language = \"en\"; banned = [\"\"]; } );"), 3,
     "bytes long"},
    {PROFILE_WITH(WINDOW "languages = ( { language = \"en\"; bannned = []; } );"), 3,
     "not a known setting"},
    {PROFILE_WITH(WINDOW "languages = ( { language = \"english_us\"; } );"), 3, "BCP 47"},
    {PROFILE_WITH(WINDOW "languages = ( { language = \"en\"; }, { language = \"EN\"; } );"), 3,
     "twice"},
    {PROFILE_WITH(WINDOW "opt_out_notice = [\"sms\"]; languages = ( { language = \"en\"; } );"),
     3, "needs opt_out phrases"},
    {PROFILE_WITH(WINDOW "opt_out_notice = [\"fax\"];"), 3, "must be one of"},
    {PROFILE_WITH(WINDOW "jurisdictions = [\"us\"];"), 3, "alpha-2"},
    {PROFILE_WITH(WINDOW "jurisdictions = [\"US\"]; }, { name = \"q\"; " WINDOW
                  "jurisdictions = [\"US\"];"), 3, "already listed by profile \"p\""},
    {PROFILE_WITH(WINDOW "jurisdictions = [\"US\", \"CA\", \"US\"];"), 3, "listed twice"},
    {PROFILE_WITH(WINDOW "}, { name = \"p\"; " WINDOW), 3, "used twice"},
    {PROFILE_WITH(WINDOW "colour = \"red\";"), 3, "not a known setting"},
    {PROFILE_WITH("window = { start = ; };"), 3, "syntax error"},
    {"default = \"q\";\nprofiles = ( { name = \"p\"; " WINDOW "} );\n", 1, "names no profile"},
    {"default = \"p\";\ncolour = 1;\nprofiles = ( { name = \"p\"; " WINDOW "} );\n", 2,
     "not a known setting"},
};

static void expect_refused(const char *text, int line, const char *why)
{
    char err[512] = "", prefix[32];
    profile_book_t *b = profile_book_parse(text, "bad.conf", err, sizeof err);
    if (b)
        fail_msg("accepted:\n%s", text);
    snprintf(prefix, sizeof prefix, "bad.conf:%d: ", line);
    if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, why))
        fail_msg("want \"%s...%s\", got \"%s\"\nfor:\n%s", prefix, why, err, text);
}

static void test_malformed_profiles_are_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++)
        expect_refused(malformed[i].text, malformed[i].line, malformed[i].why);
}

/* A phrase one byte too long, a list one phrase too long. */
static void test_phrase_limits(void **state)
{
    (void)state;
    char phrase[PROFILE_PHRASE_MAX + 2], text[PROFILE_MAX_PHRASES * 16 + 512];
    memset(phrase, 'a', PROFILE_PHRASE_MAX + 1);
    phrase[PROFILE_PHRASE_MAX + 1] = '\0';
    snprintf(text, sizeof text, PROFILE_WITH(WINDOW "languages = ( { language = \"en\"; "
                                                    "banned = [\"%s\"]; } );"), phrase);
    expect_refused(text, 3, "bytes long");
    phrase[PROFILE_PHRASE_MAX] = '\0';   /* exactly the limit loads */
    snprintf(text, sizeof text, PROFILE_WITH(WINDOW "languages = ( { language = \"en\"; "
                                                    "banned = [\"%s\"]; } );"), phrase);
    char err[256] = "";
    profile_book_t *b = profile_book_parse(text, "ok.conf", err, sizeof err);
    assert_non_null(b);
    profile_book_destroy(&b);
    int n = snprintf(text, sizeof text, "default = \"p\";\nprofiles = ( { name = \"p\"; " WINDOW
                     "\nlanguages = ( { language = \"en\"; opt_out = [");
    for (int i = 0; i <= PROFILE_MAX_PHRASES; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%s\"stop %d\"", i ? ", " : "", i);
    snprintf(text + n, sizeof text - (size_t)n, "]; } ); } );\n");
    expect_refused(text, 3, "at most 128");
}

static void test_missing_file(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(profile_book_load("/nonexistent/profiles.conf", err, sizeof err));
    assert_non_null(strstr(err, "/nonexistent/profiles.conf: cannot open"));
}

/* ---------------------------------------------------------------- main */

/* The shipped file, found from this source file's own path:
 * tests/unit/outreach/ -> services/outreach/profiles.conf. */
static void shipped_path(char *buf, size_t len)
{
    const char *file = __FILE__;
    const char *slash = strrchr(file, '/');
    int dir = slash ? (int)(slash - file) : 1;
    snprintf(buf, len, "%.*s/../../../services/outreach/profiles.conf", dir,
             slash ? file : ".");
}

static int setup(void **state)
{
    (void)state;
    char path[1024], err[512] = "";
    shipped_path(path, sizeof path);
    zones = tz_cache_new(NULL, 16);
    book = profile_book_load(path, err, sizeof err);
    if (!book)
        fprintf(stderr, "%s\n", err);
    return zones && book ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    profile_book_destroy(&book);
    tz_cache_destroy(&zones);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_us_window_edges),
        cmocka_unit_test(test_us_window_across_dst),
        cmocka_unit_test(test_us_caps_at_their_boundaries),
        cmocka_unit_test(test_us_wait_after_conversation),
        cmocka_unit_test(test_us_refusals),
        cmocka_unit_test(test_us_banned_language),
        cmocka_unit_test(test_us_opt_out_notice),
        cmocka_unit_test(test_us_holidays),
        cmocka_unit_test(test_us_vulnerable_takes_any_template),
        cmocka_unit_test(test_cn_window_edges),
        cmocka_unit_test(test_cn_window_in_a_far_zone),
        cmocka_unit_test(test_cn_connected_call_cap),
        cmocka_unit_test(test_cn_refusals),
        cmocka_unit_test(test_cn_banned_language),
        cmocka_unit_test(test_cn_holidays),
        cmocka_unit_test(test_cn_messages_need_no_opt_out_notice),
        cmocka_unit_test(test_uk_window_edges),
        cmocka_unit_test(test_uk_window_across_dst),
        cmocka_unit_test(test_uk_caps_at_their_boundaries),
        cmocka_unit_test(test_uk_vulnerable_borrower),
        cmocka_unit_test(test_uk_refusals),
        cmocka_unit_test(test_uk_banned_language),
        cmocka_unit_test(test_uk_holidays),
        cmocka_unit_test(test_shipped_book_lookups),
        cmocka_unit_test(test_minimal_profile),
        cmocka_unit_test(test_malformed_profiles_are_refused),
        cmocka_unit_test(test_phrase_limits),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
