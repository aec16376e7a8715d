/* Unit tests for the broker's report figures (report.c), worked by hand: tasks of two
 * platforms and currencies in every state, the gate's refusals and deferrals by rule
 * from the decisions kept, per profile with the bound folding the rest into "other",
 * the sections' bound, and the packed OutreachReport read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "envelope.h"
#include "report.h"

typedef struct {
    StoredTask task;
    ContactRequest request;
    StoredDecision decision[4];
    StoredDecision *decision_p[4];
    char platform[32], profile[40];   /* as large as the names the tests pass */
} fake_t;

/* A task on channel (proto Channel) in state, with its result, deferrals and the kept
 * decisions "v:r" pairs (verdict, rule) in order. */
static void fake(fake_t *f, const char *platform, const char *currency, int channel,
                 StoredTaskState state, ContactResult result, const char *profile,
                 uint32_t deferrals, const int (*decisions)[2], size_t n)
{
    memset(f, 0, sizeof *f);
    arrears__contact_request__init(&f->request);
    snprintf(f->platform, sizeof f->platform, "%s", platform);
    snprintf(f->profile, sizeof f->profile, "%s", profile);
    f->request.platform = f->platform;
    f->request.currency = (char *)currency;
    f->request.has_channel = 1;
    f->request.channel = channel;
    arrears__stored_task__init(&f->task);
    f->task.request = &f->request;
    f->task.has_state = 1;
    f->task.state = state;
    f->task.has_result = result != 0;
    f->task.result = result;
    f->task.profile = f->profile[0] ? f->profile : NULL;
    f->task.has_deferrals = 1;
    f->task.deferrals = deferrals;
    for (size_t i = 0; i < n; i++) {
        arrears__stored_decision__init(&f->decision[i]);
        f->decision[i].has_verdict = f->decision[i].has_rule = 1;
        f->decision[i].verdict = (uint32_t)decisions[i][0];
        f->decision[i].rule = (uint32_t)decisions[i][1];
        f->decision_p[i] = &f->decision[i];
    }
    f->task.n_decisions = n;
    f->task.decisions = f->decision_p;
}

static const int deferred_twice[][2] = {{CONDUCT_DEFER, CONDUCT_RULE_WINDOW},
                                         {CONDUCT_DEFER, CONDUCT_RULE_CAP_PERSON_DAY},
                                         {CONDUCT_SEND, CONDUCT_RULE_NONE}};
static const int refused_opt_out[][2] = {{CONDUCT_DEFER, CONDUCT_RULE_WINDOW},
                                          {CONDUCT_REFUSE, CONDUCT_RULE_OPT_OUT}};
static const int refused_hold[][2] = {{CONDUCT_REFUSE, CONDUCT_RULE_HOLD}};

/* Platform p, GBP: sms delivered (deferred twice), sms failed, sms refused (opt-out),
 * call answered with a promise, call no answer, call cancelled, call pending, letter
 * refused (hold), visit not attempted; platform p, USD: one e-mail delivered; platform
 * q: one e-mail delivered. */
static void add_book(outreach_report_t *r)
{
    fake_t f;
    struct { const char *pf, *cur; int ch; StoredTaskState st; ContactResult res;
             const char *profile; uint32_t deferrals; const int (*d)[2]; size_t n; } rows[] = {
        {"p", "GBP", ARREARS__CHANNEL__SMS, TASK_DONE, ARREARS__CONTACT_RESULT__DELIVERED, "uk", 2, deferred_twice, 3},
        {"p", "GBP", ARREARS__CHANNEL__SMS, TASK_DONE, ARREARS__CONTACT_RESULT__FAILED, "uk", 0, NULL, 0},
        {"p", "GBP", ARREARS__CHANNEL__SMS, TASK_REFUSED, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, "uk", 1, refused_opt_out, 2},
        {"p", "GBP", ARREARS__CHANNEL__CALL, TASK_DONE, ARREARS__CONTACT_RESULT__PROMISE_TO_PAY, "uk", 0, NULL, 0},
        {"p", "GBP", ARREARS__CHANNEL__CALL, TASK_DONE, ARREARS__CONTACT_RESULT__NO_ANSWER, "uk", 0, NULL, 0},
        {"p", "GBP", ARREARS__CHANNEL__CALL, TASK_CANCELLED, 0, "", 0, NULL, 0},
        {"p", "GBP", ARREARS__CHANNEL__CALL, TASK_PENDING, 0, "uk", 5, NULL, 0},
        {"p", "GBP", ARREARS__CHANNEL__LETTER, TASK_REFUSED, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, "us_reg_f", 0, refused_hold, 1},
        {"p", "GBP", ARREARS__CHANNEL__VISIT, TASK_DONE, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, "uk", 0, NULL, 0},
        {"p", "USD", ARREARS__CHANNEL__EMAIL, TASK_DONE, ARREARS__CONTACT_RESULT__DELIVERED, "us_reg_f", 0, NULL, 0},
        {"q", "GBP", ARREARS__CHANNEL__EMAIL, TASK_DONE, ARREARS__CONTACT_RESULT__DELIVERED, "uk", 0, NULL, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        fake(&f, rows[i].pf, rows[i].cur, rows[i].ch, rows[i].st, rows[i].res, rows[i].profile,
             rows[i].deferrals, rows[i].d, rows[i].n);
        outreach_report_add(r, &f.task);
    }
}

static const outreach_profile_figures_t *profile(const outreach_section_figures_t *s,
                                                 const char *name)
{
    for (size_t i = 0; i <= OUTREACH_REPORT_PROFILES; i++)
        if (strcmp(s->profiles[i].name, name) == 0 && s->profiles[i].tasks)
            return &s->profiles[i];
    fail_msg("no profile %s", name);
    return NULL;
}

static void test_figures(void **state)
{
    (void)state;
    outreach_report_t r;
    assert_int_equal(outreach_report_init(&r, NULL), 0);
    add_book(&r);
    assert_int_equal(r.count, 3);
    const outreach_section_figures_t *s = &r.sections[0];
    assert_string_equal(s->platform, "p");
    assert_string_equal(s->currency, "GBP");
    const outreach_channel_figures_t *sms = &s->channels[0], *call = &s->channels[3];
    assert_int_equal(sms->tasks, 3);
    assert_int_equal(sms->delivered, 1);
    assert_int_equal(sms->failed, 1);
    assert_int_equal(sms->refused, 1);
    assert_int_equal(sms->deferrals, 3);
    assert_int_equal(call->tasks, 4);
    assert_int_equal(call->delivered, 1);   /* the promise reached the borrower */
    assert_int_equal(call->failed, 1);
    assert_int_equal(call->cancelled, 1);
    assert_int_equal(call->open, 1);
    assert_int_equal(s->channels[2].refused, 1);
    assert_int_equal(s->channels[4].not_attempted, 1);
    assert_int_equal(s->channels[1].tasks, 0);
    /* By rule: deferrals kept (window twice, a person's daily cap once), refusals by the
     * refusing decision. */
    assert_int_equal(s->rules[CONDUCT_RULE_WINDOW].deferred, 2);
    assert_int_equal(s->rules[CONDUCT_RULE_CAP_PERSON_DAY].deferred, 1);
    assert_int_equal(s->rules[CONDUCT_RULE_OPT_OUT].refused, 1);
    assert_int_equal(s->rules[CONDUCT_RULE_HOLD].refused, 1);
    assert_int_equal(s->rules[CONDUCT_RULE_NONE].refused + s->rules[CONDUCT_RULE_NONE].deferred, 0);
    const outreach_profile_figures_t *uk = profile(s, "uk"), *us = profile(s, "us_reg_f");
    assert_int_equal(uk->tasks, 7);
    assert_int_equal(uk->refused, 1);
    assert_int_equal(uk->deferrals, 8);
    assert_int_equal(uk->rules[CONDUCT_RULE_OPT_OUT].refused, 1);
    assert_int_equal(us->tasks, 1);
    assert_int_equal(us->rules[CONDUCT_RULE_HOLD].refused, 1);
    assert_int_equal(profile(s, "")->tasks, 1);   /* cancelled before any screening */
    assert_string_equal(r.sections[1].currency, "USD");
    assert_string_equal(r.sections[2].platform, "q");
    outreach_report_free(&r);
}

static void test_one_platform_and_bounds(void **state)
{
    (void)state;
    outreach_report_t r;
    assert_int_equal(outreach_report_init(&r, "q"), 0);
    add_book(&r);
    assert_int_equal(r.count, 1);
    assert_int_equal(r.sections[0].channels[1].delivered, 1);
    outreach_report_free(&r);
    /* More profiles than kept: the rest under "other"; more sections: counted only. */
    assert_int_equal(outreach_report_init(&r, ""), 0);
    fake_t f;
    char name[32];
    for (int i = 0; i < OUTREACH_REPORT_PROFILES + 3; i++) {
        snprintf(name, sizeof name, "profile%d", i);
        fake(&f, "p", "GBP", ARREARS__CHANNEL__SMS, TASK_PENDING, 0, name, 0, NULL, 0);
        outreach_report_add(&r, &f.task);
    }
    assert_int_equal(r.sections[0].profile_count, OUTREACH_REPORT_PROFILES);
    assert_string_equal(r.sections[0].profiles[OUTREACH_REPORT_PROFILES].name, "other");
    assert_int_equal(r.sections[0].profiles[OUTREACH_REPORT_PROFILES].tasks, 3);
    for (int i = 0; i < OUTREACH_REPORT_SECTIONS + 2; i++) {
        snprintf(name, sizeof name, "x%d", i);
        fake(&f, name, "GBP", ARREARS__CHANNEL__SMS, TASK_PENDING, 0, "uk", 0, NULL, 0);
        outreach_report_add(&r, &f.task);
    }
    assert_int_equal(r.count, OUTREACH_REPORT_SECTIONS);
    assert_int_equal(r.unreported, 3);   /* p is one of the 64 */
    outreach_report_free(&r);
}

static void test_packed(void **state)
{
    (void)state;
    outreach_report_t r;
    assert_int_equal(outreach_report_init(&r, "p"), 0);
    add_book(&r);
    static uint8_t buf[1 << 16];
    size_t len = outreach_report_pack(&r, 1234, 77, buf, sizeof buf);
    assert_int_equal(outreach_report_pack(&r, 1234, 77, buf, 16), 0);   /* does not fit */
    outreach_report_free(&r);
    assert_true(len > 0);
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, len, buf);
    assert_non_null(env);
    assert_int_equal(env->request_id, 77);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_OUTREACH_REPORT);
    const Arrears__OutreachReport *m = env->outreach_report;
    assert_int_equal(m->as_of_ms, 1234);
    assert_int_equal(m->n_sections, 2);
    const Arrears__OutreachSection *s = m->sections[0];
    assert_int_equal(s->n_channels, 4);   /* sms, letter, call, visit */
    assert_string_equal(s->channels[0]->channel, "sms");
    assert_int_equal(s->channels[0]->deferrals, 3);
    assert_string_equal(s->channels[2]->channel, "call");
    assert_int_equal(s->channels[2]->open, 1);
    assert_int_equal(s->n_rules, 4);   /* hold, opt_out, window, cap_person_day: in rule order */
    assert_string_equal(s->rules[0]->rule, "hold");
    assert_int_equal(s->rules[0]->refused, 1);
    assert_string_equal(s->rules[2]->rule, "window");
    assert_int_equal(s->rules[2]->deferred, 2);
    assert_int_equal(s->n_profiles, 3);
    arrears__envelope__free_unpacked(env, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_figures),
        cmocka_unit_test(test_one_platform_and_bounds),
        cmocka_unit_test(test_packed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
