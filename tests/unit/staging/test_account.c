/* test_account: the staging service's pure account module (account.c, evaluate.c,
 * outcome.c) driven through its public calls with a strategy parsed from text (one arm,
 * so no hash decides which list applies), a limitation rule text, the default
 * waterfall, and AccountEvent upserts built from the generated protobuf-c structs
 * (borrower zone Asia/Shanghai, currency CNY, a schedule of due dates).
 *
 * Covered, with every figure worked out by hand in the comments: opening an account
 * ("opened" entry, ACCOUNT_ACCEPTED, overdue at entry); the daily evaluation moving
 * current -> pre_due -> early -> middle with exactly one "stage" entry per change and the
 * contacts following each action's after_days and cadence; payments (allocation by the
 * waterfall with penalty, PAYMENT_APPLIED, CANCEL of pending contacts, cure back to
 * current, "paid" when nothing is left); promises (broken the day after date + grace,
 * kept by a payment, dunning paused meanwhile); a complaint hold (no contacts, the
 * overdue answer noted once) lifted by an operator's RESOLVE_COMPLAINT; legal referral
 * after two broken promises with the mandate and none without it; the penalty journal
 * of a payment that changes the base; the statement of account a referral carries;
 * while legal holds the account, notices of complaints, disputes, platform payments and
 * the account closing, never of legal's own news; a DECLINED update that finds the debt
 * time-barred marking the account; listing for sale at charge-off with the mandate, and
 * while listed, notices to sale of payments, disputes, the close and a version that
 * makes the account unsellable (none for an account not listed); sale's WITHDRAWN
 * recorded (not refused) once the account left sale, SOLD refused unless listed, SOLD
 * cancelling contact and requesting one notice of assignment and nothing after;
 * refusals (negative or zero payment, another
 * currency, bad dates, a missing operator reason) answering ACCOUNT_EREFUSED with a
 * reject code and field; a day evaluated twice changing nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "account.h"
#include "statement.h"
#include "conf.h"
#include "limitation.h"
#include "strategy.h"
#include "tz.h"

#define ERR_LEN 512
#define INST_MAX 4
#define REF "LN-000000001"

/* One arm; promise grace 3 days; legal referral from DPD 10 with 2 broken promises;
 * listing for sale from DPD 91 (charged off), where an sms goes out weekly. */
static const char strategy_text[] =
    "currency = \"CNY\";\n"
    "stages = { reminder_days = 3;\n"
    "  early = { from_dpd = 1; to_dpd = 30; }; middle = { from_dpd = 31; to_dpd = 60; };\n"
    "  late = { from_dpd = 61; to_dpd = 90; }; charged_off = { from_dpd = 91; };\n"
    "  put_back_window_days = 90; };\n"
    "arrangements = { promise = { grace_days = 3; max_days_ahead = 30;\n"
    "  kept_min_bps = 10000; }; };\n"
    "arms = ( { name = \"champion\"; share_bps = 10000; action_lists = (\n"
    "  { stage = \"pre_due\"; actions = (\n"
    "    { channel = \"sms\"; template = \"reminder_sms\"; cadence_days = 3;\n"
    "      priority = 50; } ); },\n"
    "  { stage = \"early\"; actions = (\n"
    "    { channel = \"sms\"; template = \"early_sms\"; cadence_days = 5; priority = 40; },\n"
    "    { channel = \"email\"; template = \"early_email\"; after_days = 2; cadence_days = 7;\n"
    "      priority = 45; } ); },\n"
    "  { stage = \"middle\"; actions = (\n"
    "    { channel = \"call\"; template = \"middle_call\"; cadence_days = 4;\n"
    "      priority = 20; } ); },\n"
    "  { stage = \"sale\"; actions = (\n"
    "    { channel = \"sms\"; template = \"sale_sms\"; cadence_days = 7; priority = 60; } ); }\n"
    "); } );\n"
    "escalation = { legal = { enabled = true; min_dpd = 10; min_balance_minor = 50000;\n"
    "  min_broken_promises = 2; };\n"
    "  sale = { enabled = true; min_dpd = 91; min_balance_minor = 0; }; };\n";

static const char limitation_text[] =
    "limitation = { default = { years = 6; };\n"
    "  jurisdictions = ( { name = \"CN\"; years = 3; } ); };\n";

/* An AccountEvent carrying an upsert, with storage for everything it points at. */
typedef struct {
    Arrears__AccountEvent ev;
    Arrears__AccountUpsert up;
    Arrears__Borrower borrower;
    Arrears__Mandate mandate;
    Arrears__AccountFlags flags;
    Arrears__ContractRates rates;
    Arrears__Instalment inst[INST_MAX];
    Arrears__Instalment *inst_p[INST_MAX];
    char dates[INST_MAX][TZ_DATE_LEN + 1];
} upsert_t;

typedef struct {
    conf_t *conf;
    strategy_t *strategy;
    limitation_rules_t limitation;
    account_policy_t policy;
    account_t acc;
    effects_t fx;
    reject_t reject;
    upsert_t up;
} fixture_t;

static int32_t day_of(int year, int month, int day)
{
    return (int32_t)tz_days_from_civil(year, month, day);
}

static int64_t ms_of(int32_t day) { return (int64_t)day * 86400000 + 3600000; }

static void upsert_init(upsert_t *u)
{
    u->ev = (Arrears__AccountEvent)ARREARS__ACCOUNT_EVENT__INIT;
    u->up = (Arrears__AccountUpsert)ARREARS__ACCOUNT_UPSERT__INIT;
    u->borrower = (Arrears__Borrower)ARREARS__BORROWER__INIT;
    u->mandate = (Arrears__Mandate)ARREARS__MANDATE__INIT;
    u->flags = (Arrears__AccountFlags)ARREARS__ACCOUNT_FLAGS__INIT;
    u->rates = (Arrears__ContractRates)ARREARS__CONTRACT_RATES__INIT;
    u->ev.platform = "platform-a";
    u->ev.account_ref = REF;
    u->ev.has_version = 1;
    u->ev.version = 1;
    u->ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_UPSERT;
    u->ev.upsert = &u->up;
    u->up.account_ref = REF;
    u->up.has_product = 1;
    u->up.product = ARREARS__PRODUCT__ONLINE_LOAN;
    u->up.currency = "CNY";
    u->up.borrower = &u->borrower;
    u->up.mandate = &u->mandate;
    u->up.schedule = u->inst_p;
    u->borrower.name = "Test Borrower";
    u->borrower.time_zone = "Asia/Shanghai";
}

static void upsert_add(upsert_t *u, int32_t due_day, int64_t principal, int64_t interest,
                       int64_t fees)
{
    size_t i = u->up.n_schedule;
    assert_true(i < INST_MAX);
    tz_date_format(due_day, u->dates[i]);
    u->inst[i] = (Arrears__Instalment)ARREARS__INSTALMENT__INIT;
    u->inst[i].due_date = u->dates[i];
    u->inst[i].has_principal_minor = u->inst[i].has_interest_minor = 1;
    u->inst[i].has_fees_minor = 1;
    u->inst[i].principal_minor = principal;
    u->inst[i].interest_minor = interest;
    u->inst[i].fees_minor = fees;
    u->inst_p[i] = &u->inst[i];
    u->up.n_schedule = i + 1;
}

static int setup(void **state)
{
    static fixture_t f;
    memset(&f, 0, sizeof f);
    char err[ERR_LEN] = "";
    f.conf = conf_parse_string(strategy_text, "<strategy>", err, sizeof err);
    if (!f.conf)
        fail_msg("strategy text: %s", err);
    int rc = strategy_load_conf(f.conf, &f.strategy, err, sizeof err);
    if (rc != STRATEGY_OK)
        fail_msg("strategy: %s", err);
    if (limitation_rules_parse(limitation_text, "<limitation>", &f.limitation, err,
                               sizeof err) != 0)
        fail_msg("limitation: %s", err);
    f.policy = (account_policy_t){
        .strategy = f.strategy,
        .limitation = &f.limitation,
        .waterfall = book_waterfall_default(),
        .default_cap_bps = 360000,
        .freeze_after_charge_off = false,
        .complaint_response_days = 15,
        .dispute_response_days = 30,
    };
    account_init(&f.acc);
    effects_clear(&f.fx);
    upsert_init(&f.up);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    strategy_destroy(&f->strategy);
    conf_destroy(&f->conf);
    return 0;
}

/* ---------------------------------------------------------------- effects as text */

/* The effects in order, one word each: an entry's kind, "status:<FeedEventKind>",
 * "contact><template>", "cancel", "refer", "list", "notice:<CaseNoticeKind>". */
static const char *seq(const effects_t *fx)
{
    static char text[2048];
    size_t n = 0;
    text[0] = '\0';
    for (size_t i = 0; i < fx->count; i++) {
        const effect_t *e = &fx->items[i];
        const char *sep = i ? " " : "";
        const ProtobufCEnumValue *v;
        switch (e->kind) {
        case EFFECT_ENTRY: n += snprintf(text + n, sizeof text - n, "%s%s", sep, e->what); break;
        case EFFECT_CONTACT:
            n += snprintf(text + n, sizeof text - n, "%scontact>%s", sep, e->action->template_id);
            break;
        case EFFECT_CANCEL: n += snprintf(text + n, sizeof text - n, "%scancel", sep); break;
        case EFFECT_REFER: n += snprintf(text + n, sizeof text - n, "%srefer", sep); break;
        case EFFECT_LIST: n += snprintf(text + n, sizeof text - n, "%slist", sep); break;
        case EFFECT_STATUS:
            v = protobuf_c_enum_descriptor_get_value(&arrears__feed_event_kind__descriptor,
                                                     e->feed_kind);
            n += snprintf(text + n, sizeof text - n, "%sstatus:%s", sep, v ? v->name : "?");
            break;
        case EFFECT_NOTICE:
            v = protobuf_c_enum_descriptor_get_value(e->peer == PEER_SALE
                                                         ? &arrears__sale_notice_kind__descriptor
                                                         : &arrears__case_notice_kind__descriptor,
                                                     e->notice_kind);
            n += snprintf(text + n, sizeof text - n, "%snotice:%s", sep, v ? v->name : "?");
            break;
        case EFFECT_ERASED: n += snprintf(text + n, sizeof text - n, "%serased", sep); break;
        }
        assert_true(n < sizeof text);
    }
    return text;
}

/* The first effect of kind (and, for entries and statuses, with what / feed_kind). */
static const effect_t *find_entry(const effects_t *fx, const char *what)
{
    for (size_t i = 0; i < fx->count; i++)
        if (fx->items[i].kind == EFFECT_ENTRY && strcmp(fx->items[i].what, what) == 0)
            return &fx->items[i];
    fail_msg("no %s entry in: %s", what, seq(fx));
    return NULL;
}

static const effect_t *find_kind(const effects_t *fx, effect_kind_t kind, int feed_kind)
{
    for (size_t i = 0; i < fx->count; i++)
        if (fx->items[i].kind == kind &&
            (kind != EFFECT_STATUS || fx->items[i].feed_kind == feed_kind))
            return &fx->items[i];
    fail_msg("no effect of kind %d/%d in: %s", (int)kind, feed_kind, seq(fx));
    return NULL;
}

/* ---------------------------------------------------------------- driving the account */

static void open_at(fixture_t *f, int32_t today)
{
    effects_clear(&f->fx);
    int rc = account_open(&f->acc, &f->policy, &f->up.ev, 7, today, ms_of(today), &f->fx,
                          &f->reject);
    if (rc != ACCOUNT_OK)
        fail_msg("open refused: %s: %s", f->reject.field, f->reject.reason);
}

/* One day's evaluation; its effects as text. */
static const char *eval(fixture_t *f, int32_t day)
{
    effects_clear(&f->fx);
    assert_int_equal(account_evaluate(&f->acc, &f->policy, day, ms_of(day), &f->fx),
                     ACCOUNT_OK);
    return seq(&f->fx);
}

/* Evaluates every day from..to (inclusive); each must produce nothing. */
static void eval_quiet(fixture_t *f, int32_t from, int32_t to)
{
    for (int32_t d = from; d <= to; d++) {
        const char *s = eval(f, d);
        if (*s) {
            char date[TZ_DATE_LEN + 1];
            tz_date_format(d, date);
            fail_msg("%s: expected nothing, got: %s", date, s);
        }
    }
}

static const char *pay(fixture_t *f, int64_t amount, const char *ref, int32_t day)
{
    effects_clear(&f->fx);
    int rc = account_pay(&f->acc, &f->policy, "platform", ref, amount, "CNY", day, ms_of(day),
                         &f->fx, &f->reject);
    if (rc != ACCOUNT_OK)
        fail_msg("payment refused: %s: %s", f->reject.field, f->reject.reason);
    return seq(&f->fx);
}

static int promise(fixture_t *f, int64_t amount, const char *date, int32_t day)
{
    Arrears__ContactOutcome o = ARREARS__CONTACT_OUTCOME__INIT;
    o.platform = "platform-a";
    o.account_ref = REF;
    o.contact_id = "C-1";
    o.has_result = 1;
    o.result = ARREARS__CONTACT_RESULT__PROMISE_TO_PAY;
    o.has_channel = 1;
    o.channel = ARREARS__CHANNEL__CALL;
    o.has_promise_amount_minor = 1;
    o.promise_amount_minor = amount;
    o.promise_date = (char *)date;
    effects_clear(&f->fx);
    return account_outcome(&f->acc, &f->policy, &o, day, ms_of(day), &f->fx, &f->reject);
}

static int operator_action(fixture_t *f, Arrears__OperatorAction__Kind kind,
                           const char *reason, int32_t day)
{
    Arrears__OperatorAction a = ARREARS__OPERATOR_ACTION__INIT;
    a.platform = "platform-a";
    a.account_ref = REF;
    a.has_kind = 1;
    a.kind = kind;
    a.reason = (char *)reason;
    effects_clear(&f->fx);
    return account_operator(&f->acc, &f->policy, "op.alice", &a, day, ms_of(day), &f->fx,
                            &f->reject);
}

static void assert_refused(fixture_t *f, int rc, Arrears__Reject__Code code, const char *field)
{
    assert_int_equal(rc, ACCOUNT_EREFUSED);
    assert_int_equal(f->reject.klass, ARREARS__REJECT__CLASS__PERMANENT);
    assert_int_equal(f->reject.code, code);
    assert_string_equal(f->reject.field, field);
    assert_true(f->reject.reason[0] != '\0');
    memset(&f->reject, 0, sizeof f->reject);
}

/* ---------------------------------------------------------------- opening */

/* Due 2026-03-01: 30000 principal + 2000 interest + 500 fees = 32500; due 2026-04-01:
 * 30000 + 2000 = 32000; 64500 in all. Opened on 2026-03-11: DPD 10, early; overdue at
 * entry is the first instalment, 32500. */
static void test_open_in_arrears(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 3, 11);
    upsert_add(&f->up, day_of(2026, 3, 1), 30000, 2000, 500);
    upsert_add(&f->up, day_of(2026, 4, 1), 30000, 2000, 0);
    open_at(f, today);
    assert_string_equal(seq(&f->fx), "opened status:ACCOUNT_ACCEPTED stage status:STAGE_CHANGED "
                                     "contact>early_sms contact");
    const effect_t *e = find_entry(&f->fx, "opened");
    assert_int_equal(e->day, today);
    assert_string_equal(e->actor, "platform");
    assert_int_equal(e->amount_minor, 64500);
    assert_string_equal(e->reason, "version 1: 2 instalments, outstanding 64500 CNY, "
                                   "overdue 32500; arm champion");
    e = find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__ACCOUNT_ACCEPTED);
    assert_string_equal(e->what, "opened");
    e = find_entry(&f->fx, "stage");
    assert_string_equal(e->reason, "current -> early: dpd (dpd 10)");
    assert_int_equal(e->stage, STAGE_EARLY);
    e = find_kind(&f->fx, EFFECT_CONTACT, 0);
    assert_int_equal(e->action->channel, CHANNEL_SMS);
    assert_string_equal(e->reference, REF "#1");
    assert_string_equal(find_entry(&f->fx, "contact")->reason,
                        "sms early_sms: day 0 of early, segment all, arm champion");
    /* the account as stored */
    assert_int_equal(f->acc.id, 7);
    assert_int_equal(f->acc.version, 1);
    assert_string_equal(f->acc.currency, "CNY");
    assert_string_equal(f->acc.time_zone, "Asia/Shanghai");
    assert_int_equal(f->acc.stats.overdue_at_entry_minor, 32500);
    assert_int_equal(f->acc.stats.entered_day, today);
    assert_int_equal(f->acc.evaluated_day, today);
    assert_int_equal(f->acc.stage, STAGE_EARLY);
    assert_int_equal(f->acc.dpd, 10);
    assert_int_equal(f->acc.first_missed_due_day, day_of(2026, 3, 1));
    assert_int_equal(account_outstanding(&f->acc), 64500);
    assert_int_equal(account_overdue(&f->acc, today), 32500);
    assert_true(f->acc.contact_pending);
    assert_int_equal(f->acc.stats.contacts, 1);
    assert_false(account_is_closed(&f->acc));
}

/* Opened 9 days before the only due date (reminders start 3 days before): current,
 * nothing overdue, nothing to send. */
static void test_open_before_due_is_current(void **state)
{
    fixture_t *f = *state;
    upsert_add(&f->up, day_of(2026, 3, 10), 100000, 0, 0);
    open_at(f, day_of(2026, 3, 1));
    assert_string_equal(seq(&f->fx), "opened status:ACCOUNT_ACCEPTED");
    assert_string_equal(find_entry(&f->fx, "opened")->reason,
                        "version 1: 1 instalments, outstanding 100000 CNY, overdue 0; "
                        "arm champion");
    assert_int_equal(f->acc.stage, STAGE_CURRENT);
    assert_int_equal(f->acc.stats.overdue_at_entry_minor, 0);
    assert_int_equal(f->acc.dpd, 0);
    assert_false(f->acc.contact_pending);
    assert_int_equal(f->acc.first_missed_due_day, ACCOUNT_DAY_NONE);
}

/* ---------------------------------------------------------------- the daily run */

/* Due D = 2026-03-10. pre_due from D-3: reminder sms then every 3 days (D-3, D). Early
 * from D+1: sms every 5 days (D+1, +6, +11, +16, +21, +26), email 2 days in then every 7
 * (D+3, +10, +17, +24). Middle from D+31: call every 4 days (D+31, +35). */
static void test_daily_stages_and_cadence(void **state)
{
    fixture_t *f = *state;
    int32_t due = day_of(2026, 3, 10);
    upsert_add(&f->up, due, 100000, 0, 0);
    open_at(f, due - 10);
    static const struct { int offset; const char *seq; } expect[] = {
        {-3, "stage status:STAGE_CHANGED contact>reminder_sms contact"},
        {0, "contact>reminder_sms contact"},
        {1, "stage status:STAGE_CHANGED contact>early_sms contact"},
        {3, "contact>early_email contact"},   {6, "contact>early_sms contact"},
        {10, "contact>early_email contact"},  {11, "contact>early_sms contact"},
        {16, "contact>early_sms contact"},    {17, "contact>early_email contact"},
        {21, "contact>early_sms contact"},    {24, "contact>early_email contact"},
        {26, "contact>early_sms contact"},
        {31, "stage status:STAGE_CHANGED contact>middle_call contact"},
        {35, "contact>middle_call contact"},
    };
    static const char *const stage_reasons[] = {"current -> pre_due: dpd (dpd 0)",
                                                "pre_due -> early: dpd (dpd 1)",
                                                "early -> middle: dpd (dpd 31)"};
    size_t stages = 0;
    for (int off = -9; off <= 35; off++) {
        const char *want = "";
        for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
            if (expect[i].offset == off)
                want = expect[i].seq;
        const char *got = eval(f, due + off);
        if (strcmp(got, want) != 0)
            fail_msg("D%+d: got \"%s\", want \"%s\"", off, got, want);
        for (size_t i = 0; i < f->fx.count; i++) {
            const effect_t *e = &f->fx.items[i];
            if (e->kind == EFFECT_ENTRY && strcmp(e->what, "stage") == 0) {
                assert_true(stages < 3);
                assert_string_equal(e->reason, stage_reasons[stages++]);
                assert_int_equal(e->day, due + off);
            }
        }
    }
    assert_int_equal(stages, 3);
    assert_int_equal(f->acc.stage, STAGE_MIDDLE);
    assert_int_equal(f->acc.stage_since_day, due + 31);
    assert_int_equal(f->acc.dpd, 35);
    assert_int_equal(f->acc.stats.contacts, 14);
    assert_int_equal(f->acc.contact_seq, 14);
}

/* A day evaluated again (or an earlier one) changes neither the account nor effects. */
static void test_evaluate_same_day_twice(void **state)
{
    fixture_t *f = *state;
    int32_t due = day_of(2026, 3, 1);
    upsert_add(&f->up, due, 100000, 0, 0);
    f->up.up.rates = &f->up.rates;   /* with penalty, so a second accrual would show */
    f->up.rates.has_penalty_bps = f->up.rates.has_penalty_period = 1;
    f->up.rates.penalty_bps = 10;
    f->up.rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    open_at(f, due + 1);
    assert_string_equal(eval(f, due + 2), "");
    assert_string_equal(eval(f, due + 3), "contact>early_email contact");
    static account_t before;
    memcpy(&before, &f->acc, sizeof before);
    assert_string_equal(eval(f, due + 3), "");
    assert_int_equal(f->fx.count, 0);
    assert_memory_equal(&before, &f->acc, sizeof before);
    assert_string_equal(eval(f, due + 2), "");
    assert_memory_equal(&before, &f->acc, sizeof before);
    /* 100000 x 10 bps = 100 a day for D+1, D+2, D+3: once each */
    assert_int_equal(account_outstanding(&f->acc), 100300);
    assert_int_equal(f->acc.evaluated_day, due + 3);
    assert_string_equal(eval(f, due + 4), "");
    assert_int_equal(account_outstanding(&f->acc), 100400);
}

/* Penalty for every day of a gap in the daily run: evaluated on D+1, then D+10. */
static void test_gap_accrues_every_day(void **state)
{
    fixture_t *f = *state;
    int32_t due = day_of(2026, 3, 1);
    upsert_add(&f->up, due, 100000, 0, 0);
    f->up.up.rates = &f->up.rates;
    f->up.rates.has_penalty_bps = f->up.rates.has_penalty_period = 1;
    f->up.rates.penalty_bps = 10;
    f->up.rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    open_at(f, due + 1);
    assert_int_equal(account_outstanding(&f->acc), 100100);
    /* sms last D+1: due again D+10 (9 >= 5); email: 9 days in stage >= 2 */
    assert_string_equal(eval(f, due + 10), "contact>early_sms contact contact>early_email contact");
    assert_int_equal(account_outstanding(&f->acc), 101000);   /* 10 days x 100 */
    assert_int_equal(f->acc.dpd, 10);
}

/* After a gap (staging down from D-3 to D+31) the day's work is done as of today only:
 * penalty is charged for every missed day, but the stage moves straight to where
 * today's DPD puts it — one "pre_due -> middle" entry — and no stale contact for a
 * missed day is sent (account.h, account_evaluate). */
static void test_gap_stages_once_as_of_today(void **state)
{
    fixture_t *f = *state;
    int32_t due = day_of(2026, 3, 10);
    upsert_add(&f->up, due, 100000, 0, 0);
    open_at(f, due - 3);
    assert_int_equal(f->acc.stage, STAGE_PRE_DUE);
    eval(f, due + 31);
    size_t stages = 0;
    for (size_t i = 0; i < f->fx.count; i++)
        stages += f->fx.items[i].kind == EFFECT_ENTRY && !strcmp(f->fx.items[i].what, "stage");
    assert_int_equal(stages, 1);
    assert_string_equal(find_entry(&f->fx, "stage")->reason, "pre_due -> middle: dpd (dpd 31)");
}

/* ---------------------------------------------------------------- payments */

/* 50000 due 2026-03-01 and 50000 due 2026-04-01, opened 2026-03-06 (DPD 5, early, an sms
 * out). Paying 50000 clears the first: DPD 0 and the next due date 26 days off -> current
 * (a cure), the sms cancelled. Paying the other 50000 leaves nothing: paid, closed. */
static void test_payment_cures_then_pays_off(void **state)
{
    fixture_t *f = *state;
    int32_t d1 = day_of(2026, 3, 1);
    upsert_add(&f->up, d1, 50000, 0, 0);
    upsert_add(&f->up, day_of(2026, 4, 1), 50000, 0, 0);
    open_at(f, d1 + 5);
    assert_int_equal(f->acc.stage, STAGE_EARLY);
    assert_true(f->acc.contact_pending);
    assert_string_equal(pay(f, 50000, "PAY-1", d1 + 5),
                        "payment status:PAYMENT_APPLIED cancel stage status:STAGE_CHANGED");
    const effect_t *e = find_entry(&f->fx, "payment");
    assert_int_equal(e->amount_minor, 50000);
    assert_string_equal(e->reference, "PAY-1");
    assert_string_equal(e->reason, "fees 0, penalty 0, interest 0, principal 50000, credit 0; "
                                   "outstanding 50000");
    e = find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__PAYMENT_APPLIED);
    assert_int_equal(e->amount_minor, 50000);
    assert_string_equal(e->reference, "PAY-1");
    assert_string_equal(find_kind(&f->fx, EFFECT_CANCEL, 0)->reason, "payment received");
    e = find_entry(&f->fx, "stage");
    assert_string_equal(e->reason, "early -> current: dpd (dpd 0)");
    assert_int_equal(e->stage, STAGE_CURRENT);
    assert_int_equal(f->acc.stage, STAGE_CURRENT);
    assert_int_equal(f->acc.stats.cures, 1);
    assert_false(f->acc.contact_pending);
    assert_int_equal(f->acc.last_payment_day, d1 + 5);
    assert_string_equal(eval(f, d1 + 6), "");   /* current: nothing to send */
    assert_string_equal(pay(f, 50000, "PAY-2", d1 + 7),
                        "payment status:PAYMENT_APPLIED stage status:CLOSED");
    assert_string_equal(find_entry(&f->fx, "stage")->reason, "current -> paid: paid (dpd 0)");
    assert_string_equal(find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__CLOSED)->what,
                        "paid");
    assert_int_equal(f->acc.stage, STAGE_PAID);
    assert_true(account_is_closed(&f->acc));
    assert_int_equal(account_outstanding(&f->acc), 0);
    assert_int_equal(f->acc.stats.collected_minor, 100000);
    assert_int_equal(f->acc.stats.closed_day, d1 + 7);
    assert_int_equal(f->acc.payment_count, 2);
    assert_string_equal(eval(f, d1 + 8), "");
    assert_int_equal(f->acc.evaluated_day, d1 + 8);
}

/* Due D: 100000 principal, 5000 interest, 1000 fees; penalty 10 bps a day on overdue
 * principal + interest: 105000 x 0.001 = 105 a day from D+1 (opened then) to D+4, 420.
 * 3000 paid on D+4 goes fees 1000, penalty 420, interest 1580: 106420 - 3000 = 103420 left.
 * D+5 accrues on 100000 + 3420: 103.42 -> 103. 200000 on D+5 pays off 103523 and keeps
 * 96477 as credit. */
static void test_payment_allocation_and_credit(void **state)
{
    fixture_t *f = *state;
    int32_t due = day_of(2026, 3, 1);
    upsert_add(&f->up, due, 100000, 5000, 1000);
    f->up.up.rates = &f->up.rates;
    f->up.rates.has_penalty_bps = f->up.rates.has_penalty_period = 1;
    f->up.rates.penalty_bps = 10;
    f->up.rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    open_at(f, due + 1);
    assert_int_equal(account_outstanding(&f->acc), 106105);
    eval(f, due + 2);
    eval(f, due + 3);
    eval(f, due + 4);
    assert_int_equal(account_outstanding(&f->acc), 106420);
    assert_string_equal(pay(f, 3000, "PAY-1", due + 4), "payment status:PAYMENT_APPLIED cancel");
    assert_string_equal(find_entry(&f->fx, "payment")->reason,
                        "fees 1000, penalty 420, interest 1580, principal 0, credit 0; "
                        "outstanding 103420");
    assert_int_equal(f->acc.stage, STAGE_EARLY);   /* still DPD 4 */
    assert_int_equal(f->acc.dpd, 4);
    assert_string_equal(eval(f, due + 5), "");
    assert_int_equal(account_outstanding(&f->acc), 103523);
    assert_string_equal(pay(f, 200000, "PAY-2", due + 5),
                        "payment status:PAYMENT_APPLIED stage status:CLOSED");
    assert_string_equal(find_entry(&f->fx, "payment")->reason,
                        "fees 0, penalty 103, interest 3420, principal 100000, credit 96477; "
                        "outstanding 0");
    assert_int_equal(f->acc.book.credit_minor, 96477);
    assert_int_equal(f->acc.stage, STAGE_PAID);
    assert_int_equal(f->acc.stats.collected_minor, 203000);
    /* The journal: D+1..D+4 on 105000 (420), then D+5 on 103420 (103), as charged. */
    const journal_t *j = &f->acc.penalty_journal;
    assert_int_equal(j->count, 2);
    const journal_line_t *line = journal_line(j, 0);
    assert_int_equal(line->due_day, due);
    assert_int_equal(line->from_day, due + 1);
    assert_int_equal(line->to_day, due + 4);
    assert_int_equal(line->base_minor, 105000);
    assert_int_equal(line->rate_bps, 10);
    assert_int_equal(line->period, PENALTY_PER_DAY);
    assert_false(line->capped);
    assert_int_equal(line->accrued_minor, 420);
    line = journal_line(j, 1);
    assert_int_equal(line->from_day, due + 5);
    assert_int_equal(line->to_day, due + 5);
    assert_int_equal(line->base_minor, 103420);
    assert_int_equal(line->accrued_minor, 103);
    assert_int_equal(j->brought_forward_minor, 0);
    assert_int_equal(f->acc.book.instalments[0].owed_minor[BOOK_PENALTY], 523);
}

/* ---------------------------------------------------------------- promises */

/* Due D = 2026-03-01, 100000, opened D+1. */
static void open_one_overdue(fixture_t *f, bool mandate)
{
    upsert_add(&f->up, day_of(2026, 3, 1), 100000, 0, 0);
    f->up.mandate.has_may_refer_to_legal = 1;
    f->up.mandate.may_refer_to_legal = mandate;
    open_at(f, day_of(2026, 3, 2));
    assert_int_equal(f->acc.stage, STAGE_EARLY);
}

/* A promise on D+1 of 100000 by 2026-03-07 (D+6): dunning waits through date + 3 days'
 * grace (2026-03-10, D+9); on D+10 it is broken and both early actions are due (sms last
 * sent D+1, email never). */
static void test_promise_broken_after_grace(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_int_equal(promise(f, 100000, "2026-03-07", d + 1), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "promise status:PROMISE_RECORDED cancel");
    const effect_t *e = find_entry(&f->fx, "promise");
    assert_string_equal(e->actor, "outreach");
    assert_int_equal(e->amount_minor, 100000);
    assert_string_equal(e->reason, "promise of 100000 minor by 2026-03-07 recorded; dunning "
                                   "pauses until 2026-03-10");
    e = find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__PROMISE_RECORDED);
    assert_int_equal(e->amount_minor, 100000);
    assert_string_equal(e->reference, "C-1");
    assert_string_equal(e->what, "2026-03-07");
    assert_string_equal(find_kind(&f->fx, EFFECT_CANCEL, 0)->reason, "promise to pay recorded");
    assert_int_equal(f->acc.stats.promises_made, 1);
    assert_string_equal(account_arrangement_text(&f->acc),
                        "promise pending: 100000 by 2026-03-07, 0 paid toward it");
    eval_quiet(f, d + 2, d + 9);
    assert_string_equal(eval(f, d + 10), "promise_broken contact>early_sms contact "
                                         "contact>early_email contact");
    e = find_entry(&f->fx, "promise_broken");
    assert_string_equal(e->actor, "staging");
    assert_string_equal(e->reason, "promise broken: 0 of 100000 minor paid by 2026-03-10 "
                                   "(date 2026-03-07 + 3 days' grace)");
    assert_int_equal(f->acc.stats.promises_broken, 1);
    assert_int_equal(arrangement_broken_count(&f->acc.arrangement), 1);
    assert_string_equal(account_arrangement_text(&f->acc),
                        "promise broken: 100000 by 2026-03-07, 0 paid toward it");
}

/* 40000 promised by 2026-03-07 and paid on 2026-03-06: kept; dunning resumes at once
 * (the promise no longer pauses it) and nothing breaks after the grace. */
static void test_promise_kept_by_payment(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_int_equal(promise(f, 40000, "2026-03-07", d + 1), ACCOUNT_OK);
    eval_quiet(f, d + 2, d + 5);
    assert_string_equal(pay(f, 40000, "PAY-1", d + 5),
                        "payment status:PAYMENT_APPLIED promise_kept");
    assert_string_equal(find_entry(&f->fx, "promise_kept")->reason,
                        "promise kept: 40000 of 40000 minor paid");
    assert_int_equal(f->acc.stats.promises_kept, 1);
    assert_int_equal(f->acc.stage, STAGE_EARLY);   /* 60000 of the instalment still owed */
    assert_string_equal(account_arrangement_text(&f->acc),
                        "promise kept: 40000 by 2026-03-07, 40000 paid toward it");
    assert_string_equal(eval(f, d + 6), "contact>early_sms contact contact>early_email contact");
    eval_quiet(f, d + 7, d + 10);
    assert_int_equal(f->acc.stats.promises_broken, 0);
    assert_int_equal(arrangement_broken_count(&f->acc.arrangement), 0);
}

/* A second promise while one is pending is refused (an entry, not a reject). */
static void test_second_promise_refused(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_int_equal(promise(f, 40000, "2026-03-07", d + 1), ACCOUNT_OK);
    assert_int_equal(promise(f, 50000, "2026-03-09", d + 2), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "refused");
    assert_string_equal(find_entry(&f->fx, "refused")->reason,
                        "promise refused: a promise is already pending");
    assert_int_equal(f->acc.stats.promises_made, 1);
    assert_int_equal(f->acc.arrangement.amount_minor, 40000);
}

/* A later version keeps the money staging applied: 60000 paid on a 100000 instalment
 * survives a version 2 that changes only a flag (outstanding stays 40000), and when
 * version 3 lowers the instalment to 50000, the 10000 paid beyond it becomes credit:
 * the account is paid, nothing is lost. A version already seen changes nothing. */
static void test_new_version_keeps_payments(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    upsert_add(&f->up, d, 100000, 0, 0);
    open_at(f, d + 5);
    pay(f, 60000, "PAY-1", d + 5);
    assert_int_equal(account_outstanding(&f->acc), 40000);
    f->up.ev.version = 2;
    f->up.mandate.has_may_sell = 1;
    f->up.mandate.may_sell = 1;
    effects_clear(&f->fx);
    assert_int_equal(account_update(&f->acc, &f->policy, &f->up.ev, d + 6, ms_of(d + 6), &f->fx,
                                    &f->reject), ACCOUNT_OK);
    assert_int_equal(account_outstanding(&f->acc), 40000);
    assert_true(f->acc.may_sell);
    f->up.ev.version = 3;
    f->up.inst[0].principal_minor = 50000;
    effects_clear(&f->fx);
    assert_int_equal(account_update(&f->acc, &f->policy, &f->up.ev, d + 7, ms_of(d + 7), &f->fx,
                                    &f->reject), ACCOUNT_OK);
    assert_int_equal(account_outstanding(&f->acc), 0);
    assert_int_equal(f->acc.book.credit_minor, 10000);
    assert_int_equal(f->acc.stage, STAGE_PAID);
    effects_clear(&f->fx);
    assert_int_equal(account_update(&f->acc, &f->policy, &f->up.ev, d + 8, ms_of(d + 8), &f->fx,
                                    &f->reject), ACCOUNT_OK);
    assert_int_equal(f->fx.count, 0);
}

/* An operator defers the instalment due 2026-03-01, 5 days late, to 2026-03-21 (20 days,
 * within the 30 the policy allows): the account is no longer overdue (early -> current,
 * 15 days to the new date). A second deferral is refused: once per account. */
static void test_operator_defers_once(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    upsert_add(&f->up, d, 100000, 0, 0);
    open_at(f, d + 5);
    assert_int_equal(f->acc.stage, STAGE_EARLY);
    Arrears__OperatorAction a = ARREARS__OPERATOR_ACTION__INIT;
    a.has_kind = 1;
    a.kind = ARREARS__OPERATOR_ACTION__KIND__DEFER;
    a.reason = "hospital stay, documents seen";
    a.due_date = "2026-03-01";
    a.new_due_date = "2026-03-21";
    effects_clear(&f->fx);
    assert_int_equal(account_operator(&f->acc, &f->policy, "op-1", &a, d + 5, ms_of(d + 5),
                                      &f->fx, &f->reject), ACCOUNT_OK);
    const effect_t *e = find_entry(&f->fx, "deferral");
    assert_string_equal(e->actor, "op-1");
    assert_string_equal(e->reason, "due date 2026-03-01 deferred to 2026-03-21 (20 days)");
    assert_int_equal(f->acc.stage, STAGE_CURRENT);
    assert_int_equal(f->acc.dpd, 0);
    a.due_date = "2026-03-21";
    a.new_due_date = "2026-03-25";
    effects_clear(&f->fx);
    assert_int_equal(account_operator(&f->acc, &f->policy, "op-1", &a, d + 6, ms_of(d + 6),
                                      &f->fx, &f->reject), ACCOUNT_EREFUSED);
    assert_int_equal(f->reject.code, ARREARS__REJECT__CODE__CONFLICT);
}

/* A promise of 100000 by 2026-03-07 (grace to 2026-03-10) is still pending when, on
 * 2026-03-11 before the daily run, a full settlement (100000 by 2026-03-20) is offered:
 * the catch-up review breaks the promise — its entry names the promise and counts it —
 * then the settlement starts. */
static void test_lapse_names_the_lapsed_arrangement(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_int_equal(promise(f, 100000, "2026-03-07", d + 1), ACCOUNT_OK);
    Arrears__ContactOutcome o = ARREARS__CONTACT_OUTCOME__INIT;
    o.has_result = 1;
    o.result = ARREARS__CONTACT_RESULT__SETTLEMENT_OFFERED;
    o.has_settlement_amount_minor = 1;
    o.settlement_amount_minor = 100000;
    o.pay_by_date = "2026-03-20";
    effects_clear(&f->fx);
    assert_int_equal(account_outcome(&f->acc, &f->policy, &o, d + 10, ms_of(d + 10), &f->fx,
                                     &f->reject),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "promise_broken settlement");
    assert_int_equal(f->acc.stats.promises_broken, 1);
}

/* A payment after date + grace, before the daily run saw it: the promise is found broken
 * on the way (its entry first) and the payment counts toward nothing. */
static void test_late_payment_finds_promise_broken(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_int_equal(promise(f, 40000, "2026-03-07", d + 1), ACCOUNT_OK);
    pay(f, 40000, "PAY-1", d + 10);
    assert_string_equal(find_entry(&f->fx, "promise_broken")->reason,
                        "promise broken: 0 of 40000 minor paid by 2026-03-10 "
                        "(date 2026-03-07 + 3 days' grace)");
    assert_int_equal(f->acc.stats.promises_broken, 1);
    assert_int_equal(f->acc.stats.promises_kept, 0);
    assert_int_equal(f->acc.arrangement.paid_minor, 0);
}

/* The same late payment's entries: the payment and the lapse it found, nothing else
 * (every kind is in TimelineEntry.kind's vocabulary, proto/staging.proto). */
static void test_late_payment_entry_kinds(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_int_equal(promise(f, 40000, "2026-03-07", d + 1), ACCOUNT_OK);
    assert_string_equal(pay(f, 40000, "PAY-1", d + 10),
                        "payment status:PAYMENT_APPLIED promise_broken");
}

/* ---------------------------------------------------------------- holds */

/* A complaint on 2026-03-03 (D+2): answer due 15 days later, 2026-03-18 (D+17). Nothing
 * is sent while held; D+18 notes the late answer once; the operator's RESOLVE_COMPLAINT
 * on D+19 lifts it and that day's run sends both early actions. */
static void test_complaint_hold_and_resolve(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    assert_string_equal(eval(f, d + 2), "");
    effects_clear(&f->fx);
    assert_int_equal(account_complaint(&f->acc, &f->policy, "platform", false, "CMP-1", d + 2,
                                       &f->fx),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "hold cancel status:HOLD_CHANGED");
    const effect_t *e = find_entry(&f->fx, "hold");
    assert_string_equal(e->reason, "complaint received: contact held until it is resolved; "
                                   "answer due by 2026-03-18");
    assert_string_equal(e->reference, "CMP-1");
    assert_string_equal(find_kind(&f->fx, EFFECT_CANCEL, 0)->reason, "hold placed");
    e = find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED);
    assert_string_equal(e->what, "complaint");
    assert_true(holds_has(&f->acc.holds, HOLD_COMPLAINT));
    assert_int_equal(f->acc.stats.complaints, 1);
    eval_quiet(f, d + 3, d + 17);
    assert_string_equal(eval(f, d + 18), "complaint_overdue");
    assert_string_equal(find_entry(&f->fx, "complaint_overdue")->reason,
                        "the complaint is unanswered past its response deadline 2026-03-18");
    assert_int_equal(f->acc.stats.complaints_late, 1);
    assert_int_equal(operator_action(f, ARREARS__OPERATOR_ACTION__KIND__RESOLVE_COMPLAINT,
                                     "answered by letter", d + 19),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "hold_lifted status:HOLD_CHANGED");
    e = find_entry(&f->fx, "hold_lifted");
    assert_string_equal(e->actor, "op.alice");
    assert_string_equal(e->reason, "complaint resolved after its deadline: answered by letter");
    assert_string_equal(
        find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED)->what,
        "released");
    assert_false(holds_any(&f->acc.holds));
    assert_string_equal(eval(f, d + 19), "contact>early_sms contact contact>early_email contact");
    /* nothing left to resolve */
    assert_refused(f, operator_action(f, ARREARS__OPERATOR_ACTION__KIND__RESOLVE_COMPLAINT,
                                      "again", d + 20),
                   ARREARS__REJECT__CODE__CONFLICT, "kind");
    assert_int_equal(f->acc.stats.complaints_late, 1);
}

/* ---------------------------------------------------------------- escalation */

/* Promise A on D+1 by D+2: broken D+6 (sms and email resume). Promise B on D+6 by D+7:
 * broken D+11, when DPD is 11 (>= 10) and the balance 100000 (>= 50000). */
static void two_broken_promises(fixture_t *f, bool mandate)
{
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, mandate);
    assert_int_equal(promise(f, 100000, "2026-03-03", d + 1), ACCOUNT_OK);
    eval_quiet(f, d + 2, d + 5);
    assert_string_equal(eval(f, d + 6), "promise_broken contact>early_sms contact "
                                        "contact>early_email contact");
    assert_int_equal(f->acc.stage, STAGE_EARLY);   /* one broken promise: no referral */
    assert_int_equal(promise(f, 100000, "2026-03-08", d + 6), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "promise status:PROMISE_RECORDED cancel");
    eval_quiet(f, d + 7, d + 10);
}

static void test_legal_after_two_broken_promises(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    two_broken_promises(f, true);
    assert_string_equal(eval(f, d + 11), "promise_broken stage status:STAGE_CHANGED referral "
                                         "refer status:LEGAL_STATUS");
    assert_string_equal(find_entry(&f->fx, "stage")->reason,
                        "early -> legal: refer_legal (dpd 11)");
    const effect_t *e = find_entry(&f->fx, "referral");
    assert_int_equal(e->amount_minor, 100000);
    assert_int_equal(e->stage, STAGE_LEGAL);
    assert_string_equal(e->reason, "refer to legal: dpd 11, balance 100000 minor, 2 broken "
                                   "promises; mandate allows; not time-barred");
    assert_string_equal(find_kind(&f->fx, EFFECT_REFER, 0)->reason, e->reason);
    assert_string_equal(
        find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__LEGAL_STATUS)->what,
        "referred");
    assert_int_equal(f->acc.stage, STAGE_LEGAL);
    assert_int_equal(f->acc.stats.referrals, 1);
    assert_int_equal(f->acc.stats.promises_broken, 2);
    assert_false(f->acc.time_barred);
    eval_quiet(f, d + 12, d + 40);   /* legal contacts the borrower, staging does not */
    assert_int_equal(f->acc.stage, STAGE_LEGAL);
}

static void test_no_legal_without_mandate(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    two_broken_promises(f, false);
    /* sms last D+6: due D+11; email last D+6: not before D+13 */
    assert_string_equal(eval(f, d + 11), "promise_broken contact>early_sms contact");
    assert_int_equal(f->acc.stage, STAGE_EARLY);
    assert_int_equal(f->acc.stats.promises_broken, 2);
    for (int32_t day = d + 12; day <= d + 40; day++) {
        eval(f, day);
        for (size_t i = 0; i < f->fx.count; i++)
            assert_int_not_equal(f->fx.items[i].kind, EFFECT_REFER);
    }
    assert_int_equal(f->acc.stage, STAGE_MIDDLE);
    assert_int_equal(f->acc.stats.referrals, 0);
}

/* ---------------------------------------------------------------- the statement */

/* The statement legal's case file is built from, as of D+5 = 2026-03-06: 100000 +
 * 5000 interest + 1000 fees due D = 2026-03-01 and 100000 + 5000 due 2026-04-01;
 * penalty 10 bps a day, no cap in the contract (the jurisdiction's 360000 applied),
 * interest 18% a year. As in test_payment_allocation_and_credit: D+1..D+4 accrue 105 a
 * day on 105000 (420), 3000 paid on D+4 (fees 1000, penalty 420, interest 1580), D+5
 * accrues 103 on 103420. The first instalment: charged 106000 + 523 penalty, 3000 paid,
 * 103523 left; the second untouched. */
static void test_statement_of_account(void **state)
{
    fixture_t *f = *state;
    static statement_t st;
    int32_t due = day_of(2026, 3, 1);
    upsert_add(&f->up, due, 100000, 5000, 1000);
    upsert_add(&f->up, day_of(2026, 4, 1), 100000, 5000, 0);
    f->up.up.rates = &f->up.rates;
    f->up.rates.has_penalty_bps = f->up.rates.has_penalty_period = 1;
    f->up.rates.penalty_bps = 10;
    f->up.rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    f->up.rates.has_interest_bps = f->up.rates.has_interest_period = 1;
    f->up.rates.interest_bps = 1800;
    f->up.rates.interest_period = ARREARS__RATE_PERIOD__PER_YEAR;
    open_at(f, due + 1);
    for (int32_t d = due + 2; d <= due + 4; d++)
        eval(f, d);
    pay(f, 3000, "PAY-1", due + 4);
    eval(f, due + 5);
    statement_build(&st, &f->acc, due + 5);
    const Arrears__CaseStatement *m = &st.msg;
    assert_string_equal(m->as_of_date, "2026-03-06");
    assert_null(m->borrower);   /* the caller's, from storage */
    assert_int_equal(m->n_record, 0);
    assert_int_equal(m->rates->interest_bps, 1800);
    assert_int_equal(m->rates->interest_period, ARREARS__RATE_PERIOD__PER_YEAR);
    assert_int_equal(m->rates->penalty_bps, 10);
    assert_int_equal(m->rates->penalty_period, ARREARS__RATE_PERIOD__PER_DAY);
    assert_int_equal(m->rates->penalty_cap_bps, 360000);
    assert_int_equal(m->n_schedule, 2);
    const Arrears__StatementInstalment *in = m->schedule[0];
    assert_string_equal(in->due_date, "2026-03-01");
    assert_int_equal(in->principal_minor, 100000);
    assert_int_equal(in->interest_minor, 5000);
    assert_int_equal(in->fees_minor, 1000);
    assert_int_equal(in->penalty_minor, 523);
    assert_int_equal(in->paid_minor, 3000);
    assert_int_equal(in->outstanding_minor, 103523);
    in = m->schedule[1];
    assert_string_equal(in->due_date, "2026-04-01");
    assert_int_equal(in->penalty_minor, 0);
    assert_int_equal(in->paid_minor, 0);
    assert_int_equal(in->outstanding_minor, 105000);
    assert_true(m->has_penalty_brought_forward_minor);
    assert_int_equal(m->penalty_brought_forward_minor, 0);
    assert_int_equal(m->n_penalty, 2);
    const Arrears__PenaltyLine *line = m->penalty[0];
    assert_string_equal(line->instalment_due_date, "2026-03-01");
    assert_string_equal(line->from_date, "2026-03-02");
    assert_string_equal(line->to_date, "2026-03-05");
    assert_int_equal(line->base_minor, 105000);
    assert_int_equal(line->rate_bps, 10);
    assert_int_equal(line->period, ARREARS__RATE_PERIOD__PER_DAY);
    assert_int_equal(line->accrued_minor, 420);
    assert_false(line->capped);
    line = m->penalty[1];
    assert_string_equal(line->from_date, "2026-03-06");
    assert_string_equal(line->to_date, "2026-03-06");
    assert_int_equal(line->base_minor, 103420);
    assert_int_equal(line->accrued_minor, 103);
}

/* ---------------------------------------------------------------- with legal */

/* Referred on D+11 (two_broken_promises): 100000 outstanding, no penalty rate. */
static void refer(fixture_t *f)
{
    two_broken_promises(f, true);
    eval(f, day_of(2026, 3, 1) + 11);
    assert_int_equal(f->acc.stage, STAGE_LEGAL);
}

static int legal_update(fixture_t *f, Arrears__CaseStatus status, int64_t recovery,
                        const char *recovery_ref, bool time_barred, const char *detail,
                        int32_t day)
{
    Arrears__LegalUpdate u = ARREARS__LEGAL_UPDATE__INIT;
    u.platform = "platform-a";
    u.account_ref = REF;
    u.case_id = "CASE-1";
    u.has_status = u.has_recovery_minor = u.has_time_barred = 1;
    u.status = status;
    u.recovery_minor = recovery;
    u.recovery_ref = (char *)recovery_ref;
    u.time_barred = time_barred;
    u.detail = (char *)detail;
    effects_clear(&f->fx);
    return account_legal_update(&f->acc, &f->policy, &u, day, ms_of(day), &f->fx, &f->reject);
}

static int complaint(fixture_t *f, const char *actor, bool dispute, const char *ref, int32_t day)
{
    effects_clear(&f->fx);
    return account_complaint(&f->acc, &f->policy, actor, dispute, ref, day, &f->fx);
}

/* While legal holds the account it hears of a complaint (D+12: answer due 15 days later,
 * 2026-03-28), a dispute (D+13: 30 days, 2026-04-13) and the platform's payments, with
 * the balance left; never of its own recovery (D+15). The platform's last 50000 (D+16)
 * pays the account off: the payment, then the account closed ("paid"). */
static void test_legal_hears_of_complaints_and_payments(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    assert_int_equal(complaint(f, "platform", false, "CMP-7", d + 12), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "hold notice:NOTICE_COMPLAINT status:HOLD_CHANGED");
    const effect_t *e = find_kind(&f->fx, EFFECT_NOTICE, 0);
    assert_string_equal(e->actor, "platform");
    assert_string_equal(e->reference, "CMP-7");
    assert_string_equal(e->reason, "complaint received: contact held until it is resolved; "
                                   "answer due by 2026-03-28");
    assert_int_equal(complaint(f, "outreach", true, "C-9", d + 13), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "hold notice:NOTICE_DISPUTE status:HOLD_CHANGED");
    assert_string_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->reason,
                        "dispute received: contact held until it is resolved; "
                        "answer due by 2026-04-13");
    assert_string_equal(pay(f, 30000, "PAY-9", d + 14),
                        "payment status:PAYMENT_APPLIED notice:NOTICE_PAYMENT");
    e = find_kind(&f->fx, EFFECT_NOTICE, 0);
    assert_int_equal(e->notice_kind, ARREARS__CASE_NOTICE_KIND__NOTICE_PAYMENT);
    assert_int_equal(e->amount_minor, 30000);
    assert_string_equal(e->reference, "PAY-9");
    assert_string_equal(e->reason, "outstanding 70000 after it");
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__ENFORCEMENT, 20000, "REC-1", false,
                                  NULL, d + 15),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal status:LEGAL_STATUS payment status:PAYMENT_APPLIED");
    assert_string_equal(pay(f, 50000, "PAY-10", d + 16),
                        "payment status:PAYMENT_APPLIED notice:NOTICE_PAYMENT stage "
                        "status:CLOSED notice:NOTICE_ACCOUNT_CLOSED");
    e = &f->fx.items[f->fx.count - 1];
    assert_int_equal(e->notice_kind, ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED);
    assert_string_equal(e->reason, "paid");
    assert_int_equal(e->amount_minor, 0);
    assert_int_equal(f->acc.stage, STAGE_PAID);
}

/* The platform recalls an account legal holds: legal hears it closed ("recalled"). */
static void test_recall_from_legal_tells_legal(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    effects_clear(&f->fx);
    assert_int_equal(account_recall(&f->acc, &f->policy, d + 12, ms_of(d + 12), &f->fx,
                                    &f->reject),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "stage status:CLOSED notice:NOTICE_ACCOUNT_CLOSED recalled");
    assert_string_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->reason, "recalled");
}

/* Legal's own moves are not echoed: the settlement it reports closes the account with
 * no notice, and its recovery is no payment notice. */
static void test_legal_is_not_told_its_own_news(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__CASE_SETTLED, 60000, "REC-2", false,
                                  "settled for 60%", d + 12),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal status:LEGAL_STATUS payment status:PAYMENT_APPLIED "
                                     "stage status:CLOSED");
    assert_int_equal(f->acc.stage, STAGE_SETTLED);
}

/* A recovery that pays the whole balance is legal's money, but the account closing on
 * it is staging's news (the balance includes penalty legal does not follow): legal hears
 * the account closed, though not of the payment. */
static void test_recovery_paying_off_tells_legal_closed(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__ENFORCEMENT, 100000, "REC-3", false,
                                  NULL, d + 12),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal status:LEGAL_STATUS payment status:PAYMENT_APPLIED "
                                     "stage status:CLOSED notice:NOTICE_ACCOUNT_CLOSED");
    assert_int_equal(f->acc.stage, STAGE_PAID);
    /* The firm's closing report, after: recorded on the timeline, nothing else moves. */
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__CASE_CLOSED, 0, NULL, false,
                                  "enforcement complete", d + 13),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal");
    assert_string_equal(find_entry(&f->fx, "legal")->reason,
                        "case CASE_CLOSED after the account closed: enforcement complete");
    assert_int_equal(f->acc.stage, STAGE_PAID);
    /* Money after the close is not for the book to take: refused. */
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__CASE_CLOSED, 500, "REC-4", false,
                                  NULL, d + 13),
                     ACCOUNT_EREFUSED);
    assert_int_equal(f->reject.code, ARREARS__REJECT__CODE__CONFLICT);
}

/* Legal declines the referral because its re-check found the debt time-barred: staging
 * marks the account so (an entry with legal's reason) before it returns to collection
 * (DPD 12: early), and never refers it again. */
static void test_declined_time_barred_marks_the_account(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__DECLINED, 0, NULL, true,
                                  "limitation: 3 years from the last payment ran out", d + 12),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal status:LEGAL_STATUS time_barred stage "
                                     "status:STAGE_CHANGED");
    const effect_t *e = find_entry(&f->fx, "time_barred");
    assert_string_equal(e->actor, "legal");
    assert_string_equal(e->reference, "CASE-1");
    assert_string_equal(e->reason, "limitation: 3 years from the last payment ran out");
    assert_true(f->acc.time_barred);
    assert_int_equal(f->acc.stage, STAGE_EARLY);
    for (int32_t day = d + 13; day <= d + 40; day++) {
        eval(f, day);
        for (size_t i = 0; i < f->fx.count; i++)
            assert_int_not_equal(f->fx.items[i].kind, EFFECT_REFER);
    }
    assert_true(f->acc.time_barred);
}

/* Declined for another reason (legal's floor, say), the account still meets staging's
 * rule, but is not referred again until the rule's retry period (30 days) has passed
 * since legal gave it back: a decline is not asked again every day. */
static bool referred_on(fixture_t *f, int32_t day)
{
    eval(f, day);
    for (size_t i = 0; i < f->fx.count; i++)
        if (f->fx.items[i].kind == EFFECT_REFER)
            return true;
    return false;
}

static void test_declined_is_referred_again_after_the_retry_period(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__DECLINED, 0, NULL, false,
                                  "below the floor", d + 12),
                     ACCOUNT_OK);
    assert_int_equal(f->acc.legal_returned_day, d + 12);
    for (int32_t day = d + 13; day < d + 42; day++)
        assert_false(referred_on(f, day));
    assert_true(referred_on(f, d + 42));
    assert_int_equal(f->acc.stage, STAGE_LEGAL);
}

/* time_barred means something with DECLINED only; a decline for another reason leaves
 * the flag alone. */
static void test_declined_otherwise_leaves_the_time_bar(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    refer(f);
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__ACCEPTED, 0, NULL, true, NULL,
                                  d + 12),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal status:LEGAL_STATUS");
    assert_false(f->acc.time_barred);
    assert_int_equal(legal_update(f, ARREARS__CASE_STATUS__DECLINED, 0, NULL, false,
                                  "below the balance floor", d + 13),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "legal status:LEGAL_STATUS stage status:STAGE_CHANGED");
    assert_false(f->acc.time_barred);
}

/* ---------------------------------------------------------------- with sale */

#define LISTED_DAY day_of(2026, 4, 2)

/* Due 2026-01-01: 100000 + 5000 interest; opened 2026-04-02 at DPD 91 with (or
 * without) the mandate to sell: charged off, and with the mandate listed at once;
 * collection goes on while listed (the weekly sms), so a contact is pending. */
static void open_charged_off(fixture_t *f, bool may_sell)
{
    upsert_add(&f->up, day_of(2026, 1, 1), 100000, 5000, 0);
    f->up.mandate.has_may_sell = 1;
    f->up.mandate.may_sell = may_sell;
    open_at(f, LISTED_DAY);
    assert_int_equal(f->acc.stage, may_sell ? STAGE_SALE : STAGE_CHARGED_OFF);
}

/* The same account, its next version from the platform (flags and mandate as f->up). */
static const char *update(fixture_t *f, int32_t day)
{
    f->up.ev.version++;
    f->up.up.flags = &f->up.flags;
    effects_clear(&f->fx);
    int rc = account_update(&f->acc, &f->policy, &f->up.ev, day, ms_of(day), &f->fx, &f->reject);
    if (rc != ACCOUNT_OK)
        fail_msg("update refused: %s: %s", f->reject.field, f->reject.reason);
    return seq(&f->fx);
}

static int sale_result(fixture_t *f, Arrears__SaleOutcome outcome, int32_t day)
{
    Arrears__SaleResult r = ARREARS__SALE_RESULT__INIT;
    r.platform = "platform-a";
    r.account_ref = REF;
    r.has_outcome = r.has_price_minor = 1;
    r.outcome = outcome;
    r.price_minor = outcome == ARREARS__SALE_OUTCOME__SALE_SOLD ? 31500 : 0;
    r.buyer = outcome == ARREARS__SALE_OUTCOME__SALE_SOLD ? "buyer-a" : NULL;
    r.portfolio_id = "PF-1";
    effects_clear(&f->fx);
    return account_sale_result(&f->acc, &f->policy, &r, day, ms_of(day), &f->fx, &f->reject);
}

static size_t count_kind(const effects_t *fx, effect_kind_t kind)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->count; i++)
        n += fx->items[i].kind == kind;
    return n;
}

/* Listed on opening, after the move to charged off; the listing carries the reason. */
static void test_listed_at_charge_off_with_the_mandate(void **state)
{
    fixture_t *f = *state;
    open_charged_off(f, true);
    assert_string_equal(seq(&f->fx), "opened status:ACCOUNT_ACCEPTED stage status:STAGE_CHANGED "
                                     "stage status:STAGE_CHANGED listing list "
                                     "contact>sale_sms contact");
    assert_int_equal(f->acc.stats.listings, 1);
    assert_true(f->acc.contact_pending);
}

/* While listed, sale hears of the platform's payments (amount, balance after), a
 * dispute (not a complaint: sale has no word for it), and the account closing when a
 * payment clears it: the payment's notice, then the close's. */
static void test_sale_hears_of_payments_disputes_and_the_close(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, true);
    assert_string_equal(pay(f, 30000, "PAY-S1", d + 1),
                        "payment status:PAYMENT_APPLIED notice:SALE_NOTICE_PAYMENT cancel");
    const effect_t *e = find_kind(&f->fx, EFFECT_NOTICE, 0);
    assert_int_equal(e->peer, PEER_SALE);
    assert_int_equal(e->notice_kind, ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT);
    assert_int_equal(e->amount_minor, 30000);
    assert_string_equal(e->reason, "outstanding 75000 after it");
    assert_int_equal(complaint(f, "platform", false, "CMP-S", d + 2), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "hold status:HOLD_CHANGED");
    assert_int_equal(complaint(f, "outreach", true, "C-S", d + 3), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "hold notice:SALE_NOTICE_DISPUTE status:HOLD_CHANGED");
    assert_int_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->peer, PEER_SALE);
    assert_string_equal(pay(f, 75000, "PAY-S2", d + 4),
                        "payment status:PAYMENT_APPLIED notice:SALE_NOTICE_PAYMENT stage "
                        "status:CLOSED notice:SALE_NOTICE_CLOSED");
    e = &f->fx.items[f->fx.count - 1];
    assert_int_equal(e->notice_kind, ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_CLOSED);
    assert_string_equal(e->reason, "paid");
    assert_int_equal(f->acc.stage, STAGE_PAID);
}

/* Recalled or written off while listed: sale hears the account closed, with how. */
static void test_sale_hears_of_recall_and_write_off(void **state)
{
    fixture_t *f = *state;
    open_charged_off(f, true);
    effects_clear(&f->fx);
    assert_int_equal(account_recall(&f->acc, &f->policy, LISTED_DAY + 1, ms_of(LISTED_DAY + 1),
                                    &f->fx, &f->reject),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "stage cancel status:CLOSED notice:SALE_NOTICE_CLOSED recalled");
    assert_string_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->reason, "recalled");
    teardown(state);
    setup(state);
    f = *state;
    open_charged_off(f, true);
    assert_int_equal(operator_action(f, ARREARS__OPERATOR_ACTION__KIND__WRITE_OFF,
                                     "uneconomic to pursue", LISTED_DAY + 1),
                     ACCOUNT_OK);
    assert_string_equal(seq(&f->fx),
                        "stage cancel status:CLOSED notice:SALE_NOTICE_CLOSED written_off");
    assert_string_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->reason, "written_off");
}

/* A new version that makes the account unsellable (bankrupt, deceased, the mandate
 * withdrawn) is news for sale once, when it happens; one that keeps it so is not. */
static void test_sale_hears_the_account_became_ineligible(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, true);
    f->up.flags.has_bankrupt = f->up.flags.bankrupt = 1;
    assert_string_equal(update(f, d + 1), "updated status:ACCOUNT_ACCEPTED hold cancel "
                                          "status:HOLD_CHANGED notice:SALE_NOTICE_INELIGIBLE");
    const effect_t *e = find_kind(&f->fx, EFFECT_NOTICE, 0);
    assert_int_equal(e->peer, PEER_SALE);
    assert_string_equal(e->actor, "platform");
    assert_string_equal(e->reason, "the borrower is bankrupt");
    f->up.flags.has_deceased = f->up.flags.deceased = 1;   /* still unsellable: no news */
    assert_string_equal(update(f, d + 2), "updated status:ACCOUNT_ACCEPTED hold status:HOLD_CHANGED");
    f->up.flags.bankrupt = f->up.flags.deceased = 0;
    assert_string_equal(update(f, d + 3), "updated status:ACCOUNT_ACCEPTED hold_lifted "
                                          "status:HOLD_CHANGED hold_lifted status:HOLD_CHANGED");
    f->up.mandate.may_sell = 0;
    assert_string_equal(update(f, d + 4),
                        "updated status:ACCOUNT_ACCEPTED notice:SALE_NOTICE_INELIGIBLE");
    assert_string_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->reason,
                        "the platform's mandate no longer allows a sale");
    assert_int_equal(f->acc.stage, STAGE_SALE);   /* sale withdraws it and answers */
}

/* The borrower's death, told alone, names itself. */
static void test_sale_hears_the_borrower_died(void **state)
{
    fixture_t *f = *state;
    open_charged_off(f, true);
    f->up.flags.has_deceased = f->up.flags.deceased = 1;
    update(f, LISTED_DAY + 1);
    assert_string_equal(find_kind(&f->fx, EFFECT_NOTICE, 0)->reason, "the borrower is deceased");
}

/* An account that is not listed is nobody's news: charged off without the mandate,
 * the same payment, dispute, bankruptcy and close tell no peer. */
static void test_unlisted_account_tells_sale_nothing(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, false);
    pay(f, 30000, "PAY-N1", d + 1);
    assert_int_equal(count_kind(&f->fx, EFFECT_NOTICE), 0);
    assert_int_equal(complaint(f, "outreach", true, "C-N", d + 2), ACCOUNT_OK);
    assert_int_equal(count_kind(&f->fx, EFFECT_NOTICE), 0);
    f->up.flags.has_bankrupt = f->up.flags.bankrupt = 1;
    update(f, d + 3);
    assert_int_equal(count_kind(&f->fx, EFFECT_NOTICE), 0);
    pay(f, 75000, "PAY-N2", d + 4);
    assert_int_equal(count_kind(&f->fx, EFFECT_NOTICE), 0);
    assert_int_equal(f->acc.stage, STAGE_PAID);
}

/* The account paid in full during bidding; sale, told so, withdraws it and answers
 * WITHDRAWN: recorded on the timeline, nothing else changes (a refusal would
 * dead-letter sale's answer). */
static void test_withdrawn_after_the_close_is_recorded(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, true);
    pay(f, 105000, "PAY-W", d + 1);
    assert_int_equal(f->acc.stage, STAGE_PAID);
    assert_int_equal(sale_result(f, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN, d + 1), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "sale_withdrawn");
    const effect_t *e = find_entry(&f->fx, "sale_withdrawn");
    assert_string_equal(e->actor, "sale");
    assert_string_equal(e->reference, "PF-1");
    assert_string_equal(e->reason, "withdrawn after the account left sale (stage paid)");
    assert_int_equal(f->acc.stage, STAGE_PAID);
}

/* WITHDRAWN for a listed account returns it to collection where DPD puts it; a second,
 * late WITHDRAWN finds it no longer listed and is recorded only. */
static void test_withdrawn_returns_to_collection_once(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, true);
    assert_int_equal(sale_result(f, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN, d + 1), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "stage status:STAGE_CHANGED sale_withdrawn");
    assert_int_equal(f->acc.stage, STAGE_CHARGED_OFF);
    assert_int_equal(sale_result(f, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN, d + 1), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "sale_withdrawn");
    assert_string_equal(find_entry(&f->fx, "sale_withdrawn")->reason,
                        "withdrawn after the account left sale (stage charged_off)");
    assert_int_equal(f->acc.stage, STAGE_CHARGED_OFF);
}

/* SOLD for an account that is not listed is refused (CONFLICT) with nothing changed:
 * sale must never sell it, and the refusal is the evidence. */
static void test_sold_when_not_listed_is_refused(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, true);
    pay(f, 105000, "PAY-X", d + 1);
    uint32_t contacts = f->acc.contact_seq;
    assert_refused(f, sale_result(f, ARREARS__SALE_OUTCOME__SALE_SOLD, d + 2),
                   ARREARS__REJECT__CODE__CONFLICT, "outcome");
    assert_int_equal(f->fx.count, 0);
    assert_int_equal(f->acc.stage, STAGE_PAID);
    assert_int_equal(f->acc.contact_seq, contacts);
    teardown(state);
    setup(state);
    f = *state;
    open_charged_off(f, false);   /* charged off, never listed */
    assert_refused(f, sale_result(f, ARREARS__SALE_OUTCOME__SALE_SOLD, d + 1),
                   ARREARS__REJECT__CODE__CONFLICT, "outcome");
    assert_int_equal(f->fx.count, 0);
    assert_int_equal(f->acc.stage, STAGE_CHARGED_OFF);
}

/* SOLD: the close cancels the pending sms, the platform hears closed and sold, and the
 * borrower is sent exactly one notice of assignment (a letter, after the cancel, so
 * outreach keeps it). Nothing is requested on the days after, nor on a payment or a
 * hold that reaches the sold account, and a second SOLD is refused. */
static void test_sold_cancels_and_sends_one_notice_of_assignment(void **state)
{
    fixture_t *f = *state;
    int32_t d = LISTED_DAY;
    open_charged_off(f, true);
    assert_int_equal(sale_result(f, ARREARS__SALE_OUTCOME__SALE_SOLD, d + 3), ACCOUNT_OK);
    assert_string_equal(seq(&f->fx), "stage cancel status:CLOSED status:SOLD sold "
                                     "contact>" ACCOUNT_NOTICE_OF_ASSIGNMENT " contact");
    assert_int_equal(count_kind(&f->fx, EFFECT_CONTACT), 1);
    const effect_t *e = find_kind(&f->fx, EFFECT_CONTACT, 0);
    assert_int_equal(e->action->channel, CHANNEL_LETTER);
    assert_false(e->action->mentions_legal);
    assert_int_equal(e->stage, STAGE_SOLD);
    assert_string_equal(e->reference, REF "#2");
    const effect_t *entry = find_entry(&f->fx, "contact");
    assert_string_equal(entry->reference, REF "#2");
    assert_string_equal(entry->reason, "letter notice_of_assignment_v1: the borrower is told "
                                       "the debt was sold to buyer-a");
    assert_int_equal(find_kind(&f->fx, EFFECT_STATUS, ARREARS__FEED_EVENT_KIND__SOLD)->amount_minor,
                     31500);
    assert_int_equal(f->acc.stage, STAGE_SOLD);
    assert_false(f->acc.contact_pending);
    eval_quiet(f, d + 4, d + 40);
    assert_string_equal(pay(f, 5000, "PAY-AFTER", d + 41), "payment status:PAYMENT_APPLIED");
    assert_int_equal(complaint(f, "platform", false, "CMP-AFTER", d + 42), ACCOUNT_OK);
    assert_int_equal(count_kind(&f->fx, EFFECT_CANCEL) + count_kind(&f->fx, EFFECT_CONTACT), 0);
    eval_quiet(f, d + 43, d + 50);
    assert_refused(f, sale_result(f, ARREARS__SALE_OUTCOME__SALE_SOLD, d + 51),
                   ARREARS__REJECT__CODE__CONFLICT, "outcome");
    assert_int_equal(f->acc.stage, STAGE_SOLD);
}

/* ---------------------------------------------------------------- refusals */

static void test_payment_refusals(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    static account_t before;
    memcpy(&before, &f->acc, sizeof before);
    struct { int64_t amount; const char *currency, *field; } rows[] = {
        {-100, "CNY", "amount_minor"},
        {0, "CNY", "amount_minor"},
        {100, "USD", "currency"},
        {100, NULL, "currency"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        effects_clear(&f->fx);
        int rc = account_pay(&f->acc, &f->policy, "platform", "PAY-X", rows[i].amount,
                             rows[i].currency, d + 1, ms_of(d + 1), &f->fx, &f->reject);
        assert_refused(f, rc, ARREARS__REJECT__CODE__INVALID_FIELD, rows[i].field);
        assert_int_equal(f->fx.count, 0);
    }
    assert_memory_equal(&before, &f->acc, sizeof before);
    assert_int_equal(account_outstanding(&f->acc), 100000);
    assert_int_equal(f->acc.payment_count, 0);
}

static void test_other_refusals(void **state)
{
    fixture_t *f = *state;
    int32_t d = day_of(2026, 3, 1);
    open_one_overdue(f, false);
    /* an update may not change the currency */
    f->up.ev.version = 2;
    f->up.up.currency = "USD";
    effects_clear(&f->fx);
    assert_refused(f, account_update(&f->acc, &f->policy, &f->up.ev, d + 1, ms_of(d + 1),
                                     &f->fx, &f->reject),
                   ARREARS__REJECT__CODE__CONFLICT, "currency");
    assert_string_equal(f->acc.currency, "CNY");
    /* an outcome without a result; a promise with no such date */
    Arrears__ContactOutcome o = ARREARS__CONTACT_OUTCOME__INIT;
    assert_refused(f, account_outcome(&f->acc, &f->policy, &o, d + 1, 0, &f->fx, &f->reject),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "result");
    assert_refused(f, promise(f, 1000, "2026-02-30", d + 1), ARREARS__REJECT__CODE__INVALID_FIELD,
                   "promise_date");
    assert_int_equal(f->acc.arrangement.kind, ARRANGEMENT_KIND_NONE);
    /* every operator action needs a reason */
    assert_refused(f, operator_action(f, ARREARS__OPERATOR_ACTION__KIND__PLACE_HOLD, "", d + 1),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "reason");
    assert_false(holds_any(&f->acc.holds));
}

static void test_open_refusals(void **state)
{
    fixture_t *f = *state;
    int32_t today = day_of(2026, 3, 2);
    upsert_add(&f->up, day_of(2026, 3, 1), 100000, 0, 0);
    f->up.inst[0].due_date = "2026-02-30";
    assert_refused(f, account_open(&f->acc, &f->policy, &f->up.ev, 1, today, 0, &f->fx,
                                   &f->reject),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "schedule[0]");
    f->up.inst[0].due_date = f->up.dates[0];
    f->up.borrower.time_zone = "Asia/../Shanghai";   /* not a plain zone name */
    assert_refused(f, account_open(&f->acc, &f->policy, &f->up.ev, 1, today, 0, &f->fx,
                                   &f->reject),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "borrower.time_zone");
    f->up.borrower.time_zone = "Asia/Shanghai";
    f->up.up.n_schedule = 0;
    assert_refused(f, account_open(&f->acc, &f->policy, &f->up.ev, 1, today, 0, &f->fx,
                                   &f->reject),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "schedule");
    f->up.up.n_schedule = 1;
    f->up.inst[0].paid_minor = 100001;   /* paid beyond what the instalment asks */
    f->up.inst[0].has_paid_minor = 1;
    assert_refused(f, account_open(&f->acc, &f->policy, &f->up.ev, 1, today, 0, &f->fx,
                                   &f->reject),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "schedule[0]");
    f->up.inst[0].paid_minor = 0;
    open_at(f, today);   /* the same event, repaired, is taken */
    assert_int_equal(account_outstanding(&f->acc), 100000);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_open_in_arrears),
        T(test_open_before_due_is_current),
        T(test_daily_stages_and_cadence),
        T(test_evaluate_same_day_twice),
        T(test_gap_accrues_every_day),
        T(test_gap_stages_once_as_of_today),
        T(test_payment_cures_then_pays_off),
        T(test_new_version_keeps_payments),
        T(test_operator_defers_once),
        T(test_payment_allocation_and_credit),
        T(test_promise_broken_after_grace),
        T(test_promise_kept_by_payment),
        T(test_second_promise_refused),
        T(test_lapse_names_the_lapsed_arrangement),
        T(test_late_payment_finds_promise_broken),
        T(test_late_payment_entry_kinds),
        T(test_complaint_hold_and_resolve),
        T(test_legal_after_two_broken_promises),
        T(test_no_legal_without_mandate),
        T(test_statement_of_account),
        T(test_legal_hears_of_complaints_and_payments),
        T(test_recall_from_legal_tells_legal),
        T(test_legal_is_not_told_its_own_news),
        T(test_recovery_paying_off_tells_legal_closed),
        T(test_declined_is_referred_again_after_the_retry_period),
        T(test_declined_time_barred_marks_the_account),
        T(test_declined_otherwise_leaves_the_time_bar),
        T(test_listed_at_charge_off_with_the_mandate),
        T(test_sale_hears_of_payments_disputes_and_the_close),
        T(test_sale_hears_of_recall_and_write_off),
        T(test_sale_hears_the_account_became_ineligible),
        T(test_sale_hears_the_borrower_died),
        T(test_unlisted_account_tells_sale_nothing),
        T(test_withdrawn_after_the_close_is_recorded),
        T(test_withdrawn_returns_to_collection_once),
        T(test_sold_when_not_listed_is_refused),
        T(test_sold_cancels_and_sends_one_notice_of_assignment),
        T(test_payment_refusals),
        T(test_other_refusals),
        T(test_open_refusals),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
