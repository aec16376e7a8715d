/* test_retention_run: the daily run erases a closed account's personal data once its
 * jurisdiction's retention has run out (retention.h, daily.c), in process, with a
 * staging_t set up as main.c's service_open does (the fixture of test_emit.c) and
 * retention rules of GB 40 days and a default of 55.
 *
 * Covered:
 *   - the day before: nothing erased; the day of: the sealed borrower is gone (a
 *     tombstone), the record says erased, intake is told (PERSONAL_DATA_ERASED, the
 *     rule's jurisdiction), the timeline ends with one "erased" entry by
 *     staging with the rule in its reason, and the report's figures are unchanged;
 *   - the next day's run changes nothing (a digest of the tables but the account
 *     records, whose evaluated day moves; the erased record itself compared);
 *   - a late upsert of the erased account stores no borrower again;
 *   - a jurisdiction without a rule of its own (JP) is erased by the default, later;
 *   - `staging dump` says erased, and holds no personal field;
 *   - the services holding a copy are told (PersonalDataErased): legal and sale only
 *     when the account was ever referred or listed, the broker when it was contacted;
 *     an operator's free text on the timeline is replaced, staging's words and the
 *     entry's kind, actor and day kept.
 *
 * Times: borrowers in Asia/Shanghai; the clock starts at 2026-04-02 04:00 UTC (noon
 * local); the instalments fell due 2026-03-20, and both accounts are paid off on
 * 2026-04-02 (closed that day). GB is due on 2026-05-12, JP on 2026-05-27. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "daily.h"
#include "erasure.h"
#include "retention.h"
#include "log.h"
#include "staging.h"
#include "stagingfix.h"
#include "svctest.h"

#define NOW0 INT64_C(1775102400000)   /* 2026-04-02 04:00 UTC */
#define DAY INT64_C(86400000)

/* No escalation: the accounts here only open, are texted once and close. */
static const char STRATEGY[] =
    "currency = \"CNY\";\n"
    "arms = ( { name = \"champion\"; share_bps = 10000; action_lists = (\n"
    "  { stage = \"early\"; actions = (\n"
    "    { channel = \"sms\"; template = \"early_sms\"; cadence_days = 90; priority = 50; } ); },\n"
    "  { stage = \"sale\"; actions = (\n"
    "    { channel = \"sms\"; template = \"sale_sms\"; cadence_days = 7; priority = 60; } ); }\n"
    "); } );\n"
    "escalation = { sale = { enabled = false; }; };\n";

static const char LIMITATION[] =
    "limitation = { default = { years = 6; }; jurisdictions = ( { name = \"CN\"; years = 3; } ); };\n";

typedef struct {
    stagingfix_t s;
    retention_rules_t retention;
} fx_t;

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);   /* large (the scratch account, the statement) */
    if (!f)
        return -1;
    *state = f;
    log_open("test_retention_run", 2, LOG_ERROR);
    /* GB 40 days, everyone else the default's 55: short, for the test, and within one
     * month of the recovery curves (the report is compared across the erasure). */
    f->retention = (retention_rules_t){.has_default = true, .default_days = 55, .count = 1};
    f->retention.jurisdictions[0] = (retention_rule_t){"GB", 40};
    int rc = stagingfix_open(&f->s, "t_staging", STRATEGY, LIMITATION, NOW0);
    f->s.app.policies[0].retention = &f->retention;
    return rc;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    int rc = stagingfix_close(&f->s);
    free(f);
    return rc;
}


/* ---------------------------------------------------------------- driving staging */

static void apply_event(fx_t *f, Arrears__AccountEvent *ev)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
    env.account_event = ev;
    if (stagingfix_apply(&f->s, "intake", "service", &env) != APPLY_OK)
        fail_msg("refused: %s: %s", f->s.reject.field, f->s.reject.reason);
}

/* One instalment due 2026-03-20; the borrower's address in country. */
static void open_account(fx_t *f, const char *ref, const char *country, uint64_t version)
{
    Arrears__ContactPoint phone = ARREARS__CONTACT_POINT__INIT, *phones[] = {&phone};
    phone.value = "+447700900123";
    phone.has_verified = phone.verified = phone.has_consent = phone.consent = 1;
    uint8_t id_hash[32] = {9, 9};
    Arrears__Address address = ARREARS__ADDRESS__INIT;
    address.line1 = "221B Baker Street";
    address.city = "London";
    address.country = (char *)country;
    Arrears__Borrower b = ARREARS__BORROWER__INIT;
    b.name = "Borrower Retained";
    b.has_id_number_hash = 1;
    b.id_number_hash = (ProtobufCBinaryData){sizeof id_hash, id_hash};
    b.time_zone = "Asia/Shanghai";
    b.language = "en-GB";
    b.n_phones = 1;
    b.phones = phones;
    b.address = &address;
    Arrears__Instalment inst = ARREARS__INSTALMENT__INIT, *schedule[] = {&inst};
    inst.due_date = "2026-03-20";
    inst.has_principal_minor = inst.has_interest_minor = 1;
    inst.principal_minor = 100000;
    inst.interest_minor = 5000;
    Arrears__AccountUpsert up = ARREARS__ACCOUNT_UPSERT__INIT;
    up.account_ref = (char *)ref;
    up.has_product = 1;
    up.product = ARREARS__PRODUCT__ONLINE_LOAN;
    up.currency = "CNY";
    up.opened_date = "2025-06-01";
    up.borrower = &b;
    up.n_schedule = 1;
    up.schedule = schedule;
    Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
    ev.platform = "platform-a";
    ev.account_ref = (char *)ref;
    ev.has_version = 1;
    ev.version = version;
    ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_UPSERT;
    ev.upsert = &up;
    apply_event(f, &ev);
}

typedef struct {
    fx_t *f;
    const char *ref;
    account_t *account;   /* out */
    bool has_borrower;    /* out */
} look_t;

static void look_in(MDB_txn *txn, void *arg)
{
    look_t *l = arg;
    ledger_t *ledger = l->f->s.app.ledger;
    uint64_t id = 0;
    Arrears__Borrower *b = NULL;
    assert_int_equal(ledger_find(ledger, txn, "platform-a", l->ref, &id), 0);
    assert_int_equal(ledger_get(ledger, txn, id, l->account), 0);
    assert_int_equal(ledger_get_borrower(ledger, txn, id, &b), 0);
    l->has_borrower = b != NULL;
    if (b)
        arrears__borrower__free_unpacked(b, NULL);
}

/* The stored account of ref (into a heap copy the caller frees) and whether it has a
 * borrower. */
static account_t *look(fx_t *f, const char *ref, bool *has_borrower)
{
    account_t *a = malloc(sizeof *a);
    assert_non_null(a);
    look_t l = {f, ref, a, false};
    svctest_read(f->s.store, look_in, &l);
    *has_borrower = l.has_borrower;
    return a;
}

/* Pays ref's whole balance off: the account closes as paid. */
static void pay_off(fx_t *f, const char *ref)
{
    bool has = false;
    account_t *a = look(f, ref, &has);
    Arrears__PaymentPosted p = ARREARS__PAYMENT_POSTED__INIT;
    p.account_ref = (char *)ref;
    p.payment_ref = "PAY-ALL";
    p.has_amount_minor = p.has_paid_at_ms = p.has_channel = 1;
    p.amount_minor = account_outstanding(a);
    p.currency = "CNY";
    p.paid_at_ms = aclock_now_ms(f->s.app.clock);
    p.channel = ARREARS__PAYMENT_CHANNEL__BANK_TRANSFER;
    Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
    ev.platform = "platform-a";
    ev.account_ref = (char *)ref;
    ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT;
    ev.payment = &p;
    free(a);
    apply_event(f, &ev);
}

/* The clock days further on, and the daily run to it, whole. */
static void run_to(fx_t *f, int days)
{
    int64_t to = aclock_now_ms(f->s.app.clock) + days * DAY;
    assert_int_equal(aclock_advance_to(f->s.app.clock, to), ACLOCK_OK);
    f->s.app.advance_to_ms = to;
    daily_step_t step;
    do
        assert_int_equal(daily_step(&f->s.app, f->s.store, &step), 0);
    while (step.state == DAILY_MORE);
}

typedef struct {
    fx_t *f;
    uint8_t *buf;
    size_t len;
} report_t;

static void report_in(MDB_txn *txn, void *arg)
{
    report_t *r = arg;
    Arrears__ReportQuery q = ARREARS__REPORT_QUERY__INIT;
    r->len = staging_report(&r->f->s.app, txn, &q, 1, r->buf, 1 << 20, &r->f->s.reject);
    assert_true(r->len > 0);
}

/* The report's packed bytes (free them), its as_of instant cleared: the figures are
 * what is compared, and the clock moves between two reports. */
static uint8_t *report(fx_t *f, size_t *len)
{
    report_t r = {f, malloc(1 << 20), 0};
    assert_non_null(r.buf);
    svctest_read(f->s.store, report_in, &r);
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, r.len, r.buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_REPORT);
    env->report->has_as_of_ms = 0;
    env->report->as_of_ms = 0;
    *len = arrears__envelope__pack(env, r.buf);
    arrears__envelope__free_unpacked(env, NULL);
    return r.buf;
}

/* Every table but the account records (whose evaluated day moves each day). */
static void digest(fx_t *f, uint8_t out[SVCTEST_DIGEST_BYTES])
{
    static const char *const tables[] = {"staging.keys", "staging.borrowers", "staging.timeline",
                                         "staging.persons", "staging.payments",
                                         "staging.vulnerable"};
    svctest_digest(f->s.store, tables, sizeof tables / sizeof tables[0], out);
}

typedef struct {
    fx_t *f;
    uint64_t id;
    uint32_t seq;
    char kind[32], actor[32], reason[ACCOUNT_REASON_MAX];
} last_t;

static int keep_last(const Arrears__TimelineEntry *t, void *arg)
{
    last_t *l = arg;
    l->seq = t->seq;
    snprintf(l->kind, sizeof l->kind, "%s", t->kind ? t->kind : "");
    snprintf(l->actor, sizeof l->actor, "%s", t->actor ? t->actor : "");
    snprintf(l->reason, sizeof l->reason, "%s", t->reason ? t->reason : "");
    return 0;
}

static void last_in(MDB_txn *txn, void *arg)
{
    last_t *l = arg;
    assert_int_equal(ledger_each_entry(l->f->s.app.ledger, txn, l->id, 0, 10000, keep_last, l), 0);
}

/* The account's last timeline entry. */
static last_t last_entry(fx_t *f, uint64_t id)
{
    last_t l = {.f = f, .id = id};
    svctest_read(f->s.store, last_in, &l);
    return l;
}

/* The last message to intake: its feed event's kind, ref and detail. */
typedef struct {
    int kind;
    char ref[65], detail[65];
} intake_news_t;

static int keep_news(uint64_t seq, const uint8_t *bytes, size_t len, void *arg)
{
    (void)seq;
    intake_news_t *n = arg;
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, len, bytes);
    assert_non_null(env);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_STATUS_EVENT);
    const Arrears__FeedEvent *e = env->status_event->event;
    n->kind = (int)e->kind;
    snprintf(n->ref, sizeof n->ref, "%s", e->account_ref);
    snprintf(n->detail, sizeof n->detail, "%s", e->detail ? e->detail : "");
    arrears__envelope__free_unpacked(env, NULL);
    return 0;
}

static void news_in(MDB_txn *txn, void *arg)
{
    void **a = arg;
    outbox_t *to_intake = a[0];
    outbox_state_t st;
    assert_int_equal(outbox_state(to_intake, txn, &st), 0);
    assert_int_equal(outbox_each(to_intake, txn, st.last_seq, 1, keep_news, a[1]), 0);
}

static intake_news_t last_news(fx_t *f)
{
    intake_news_t n = {0};
    void *a[2] = {f->s.app.out[STAGING_TO_INTAKE], &n};
    svctest_read(f->s.store, news_in, a);
    return n;
}

/* ---------------------------------------------------------------- tests */

static void test_erased_after_retention_once(void **state)
{
    fx_t *f = *state;
    bool has = false;
    open_account(f, "GB-1", "GB", 1);
    open_account(f, "JP-1", "JP", 1);
    pay_off(f, "GB-1");
    pay_off(f, "JP-1");
    account_t *a = look(f, "GB-1", &has);
    assert_true(account_is_closed(a) && has && !a->erased);
    int32_t closed = a->stats.closed_day;
    free(a);

    run_to(f, 39);   /* 2026-05-11: the day before GB's erasure */
    a = look(f, "GB-1", &has);
    assert_true(has && !a->erased);
    uint32_t entries = a->timeline_count;
    free(a);
    size_t len_before = 0, len_after = 0;
    uint8_t *before = report(f, &len_before);

    run_to(f, 1);    /* 2026-05-12: the day */
    a = look(f, "GB-1", &has);
    assert_false(has);
    assert_true(a->erased);
    assert_int_equal(a->erased_day, closed + 40);
    assert_int_equal(a->timeline_count, entries + 1);
    assert_int_equal(a->stats.closed_day, closed);   /* the anonymized record stays */
    assert_true(a->stats.collected_minor > 0);
    last_t l = last_entry(f, a->id);
    assert_int_equal(l.seq, entries + 1);
    assert_string_equal(l.kind, "erased");
    assert_string_equal(l.actor, "staging");
    assert_string_equal(l.reason, "personal data erased: retention of 40 days in GB after closing "
                                  "on 2026-04-02");
    uint64_t gb = a->id;
    free(a);
    intake_news_t n = last_news(f);   /* intake is told, so it erases its copy */
    assert_int_equal(n.kind, ARREARS__FEED_EVENT_KIND__PERSONAL_DATA_ERASED);
    assert_string_equal(n.ref, "GB-1");
    assert_string_equal(n.detail, "GB");
    a = look(f, "JP-1", &has);
    assert_true(has && !a->erased);   /* the default's 55 days are not over */
    free(a);
    uint8_t *after = report(f, &len_after);
    assert_int_equal(len_after, len_before);
    assert_memory_equal(after, before, len_before);
    free(before);
    free(after);

    /* The next day's run: nothing of the erasure again. */
    uint8_t d1[SVCTEST_DIGEST_BYTES], d2[SVCTEST_DIGEST_BYTES];
    digest(f, d1);
    run_to(f, 1);
    digest(f, d2);
    assert_memory_equal(d1, d2, sizeof d1);
    a = look(f, "GB-1", &has);
    assert_true(a->erased && !has);
    assert_int_equal(a->erased_day, closed + 40);
    assert_int_equal(a->timeline_count, entries + 1);
    assert_int_equal(last_entry(f, gb).seq, entries + 1);
    free(a);
}

/* A later version from the platform does not bring the borrower back. */
static void test_late_upsert_stores_no_borrower(void **state)
{
    fx_t *f = *state;
    bool has = true;
    open_account(f, "GB-2", "GB", 1);
    pay_off(f, "GB-2");
    run_to(f, 40);
    free(look(f, "GB-2", &has));
    assert_false(has);
    open_account(f, "GB-2", "GB", 2);
    account_t *a = look(f, "GB-2", &has);
    assert_false(has);
    assert_true(a->erased);
    free(a);
}

/* No rule for JP: the default's 55 days, and the entry says where it applied. */
static void test_default_rule_later(void **state)
{
    fx_t *f = *state;
    bool has = false;
    open_account(f, "JP-2", "JP", 1);
    pay_off(f, "JP-2");
    run_to(f, 54);
    free(look(f, "JP-2", &has));
    assert_true(has);
    run_to(f, 1);
    account_t *a = look(f, "JP-2", &has);
    assert_false(has);
    assert_true(a->erased);
    last_t l = last_entry(f, a->id);
    assert_string_equal(l.reason, "personal data erased: retention of 55 days in JP after closing "
                                  "on 2026-04-02");
    free(a);
}

typedef struct {
    fx_t *f;
    char *text;
    size_t len;
} dump_t;

static void dump_in(MDB_txn *txn, void *arg)
{
    dump_t *d = arg;
    FILE *out = open_memstream(&d->text, &d->len);
    assert_non_null(out);
    assert_int_equal(ledger_dump(d->f->s.app.ledger, txn, out), 0);
    fclose(out);
}

/* The dump of an erased account says so, and names nobody. */
static void test_dump_says_erased(void **state)
{
    fx_t *f = *state;
    open_account(f, "GB-3", "GB", 1);
    pay_off(f, "GB-3");
    run_to(f, 40);
    dump_t d = {f, NULL, 0};
    svctest_read(f->s.store, dump_in, &d);
    char *line = strstr(d.text, "\"GB-3\"");
    assert_non_null(line);
    char *end = strchr(line, '\n');
    assert_non_null(end);
    *end = '\0';
    assert_non_null(strstr(line, "\"erased\":true"));
    *end = '\n';
    assert_null(strstr(d.text, "Borrower Retained"));
    assert_null(strstr(d.text, "Baker"));
    assert_null(strstr(d.text, "+447700900123"));
    assert_non_null(strstr(d.text, "\"kind\":\"erased\""));
    free(d.text);
}

/* ---------------------------------------------------------------- the holders */

static void operator_act(fx_t *f, const char *ref, Arrears__OperatorAction__Kind kind,
                         const char *hold, const char *reason)
{
    Arrears__OperatorAction a = ARREARS__OPERATOR_ACTION__INIT;
    a.platform = "platform-a";
    a.account_ref = (char *)ref;
    a.has_kind = 1;
    a.kind = kind;
    a.hold = (char *)hold;
    a.reason = (char *)reason;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_OPERATOR_ACTION;
    env.operator_action = &a;
    if (stagingfix_apply(&f->s, "op-alice", "operator", &env) != APPLY_OK)
        fail_msg("refused: %s: %s", f->s.reject.field, f->s.reject.reason);
}

typedef struct {
    fx_t *f;
    const char *ref;
} mark_t;

/* As if the account had been referred to legal and listed for sale once: staging's
 * counts are what decide who hears of the erasure (escalating for real would need a
 * strategy and months this test does not need). */
static void mark_in(MDB_txn *txn, void *arg)
{
    mark_t *m = arg;
    ledger_t *ledger = m->f->s.app.ledger;
    account_t *a = malloc(sizeof *a);
    uint64_t id = 0;
    assert_non_null(a);
    assert_int_equal(ledger_find(ledger, txn, "platform-a", m->ref, &id), 0);
    assert_int_equal(ledger_get(ledger, txn, id, a), 0);
    a->stats.referrals = a->stats.listings = 1;
    assert_int_equal(ledger_put(ledger, txn, a), 0);
    free(a);
}

/* The PersonalDataErased messages for ref after *mark in the outbox to peer. */
static size_t erasures(fx_t *f, staging_outbox_t peer, uint64_t *mark, const char *ref,
                       int64_t *at_ms)
{
    Arrears__Envelope *got[64];
    size_t n = svctest_news(f->s.store, f->s.app.out[peer], mark, got, 64), found = 0;
    for (size_t i = 0; i < n; i++) {
        const Arrears__PersonalDataErased *m = got[i]->personal_data_erased;
        if (got[i]->body_case != ARREARS__ENVELOPE__BODY_PERSONAL_DATA_ERASED ||
            strcmp(m->account_ref, ref) != 0)
            continue;
        assert_string_equal(m->platform, "platform-a");
        assert_true(m->has_erased_at_ms);
        *at_ms = m->erased_at_ms;
        found++;
    }
    svctest_free_got(got, n);
    return found;
}

typedef struct {
    size_t operator_entries;
    bool leaked;
    char hold[ACCOUNT_REASON_MAX], lifted[ACCOUNT_REASON_MAX];
} reasons_t;

static int check_reason(const Arrears__TimelineEntry *t, void *arg)
{
    reasons_t *r = arg;
    r->leaked |= t->reason && strstr(t->reason, "Mrs Example") != NULL;
    if (strcmp(t->actor, "op-alice") != 0)
        return 0;
    r->operator_entries++;
    if (strcmp(t->kind, "hold") == 0)
        snprintf(r->hold, sizeof r->hold, "%s", t->reason);
    if (strcmp(t->kind, "hold_lifted") == 0)
        snprintf(r->lifted, sizeof r->lifted, "%s", t->reason);
    return 0;
}

static void reasons_in(MDB_txn *txn, void *arg)
{
    void **a = arg;
    fx_t *f = a[0];
    assert_int_equal(ledger_each_entry(f->s.app.ledger, txn, *(uint64_t *)a[1], 0, 10000,
                                       check_reason, a[2]), 0);
}

static reasons_t reasons(fx_t *f, uint64_t id)
{
    reasons_t r = {0};
    void *a[3] = {f, &id, &r};
    svctest_read(f->s.store, reasons_in, a);
    return r;
}

/* Legal, sale and the broker hear of GB-4's erasure (it was referred, listed and
 * texted); only the broker of JP-4's (texted, never referred nor listed). The
 * operator's words about the borrower go from the timeline. */
static void test_holders_told_and_free_text_erased(void **state)
{
    fx_t *f = *state;
    bool has = false;
    open_account(f, "GB-4", "GB", 1);
    open_account(f, "JP-4", "JP", 1);
    operator_act(f, "GB-4", ARREARS__OPERATOR_ACTION__KIND__PLACE_HOLD, NULL,
                 "Mrs Example is in hospital");
    operator_act(f, "GB-4", ARREARS__OPERATOR_ACTION__KIND__LIFT_HOLD, "manual",
                 "Mrs Example called back");
    mark_t m = {f, "GB-4"};
    svctest_write(f->s.store, mark_in, &m);
    pay_off(f, "GB-4");
    pay_off(f, "JP-4");
    account_t *a = look(f, "GB-4", &has);
    assert_true(a->contact_seq > 0);   /* texted: the broker holds its points */
    uint64_t id = a->id;
    free(a);
    uint64_t marks[STAGING_OUTBOXES] = {0};
    int64_t at = 0;
    run_to(f, 39);
    for (int p = 0; p < STAGING_OUTBOXES; p++)
        assert_int_equal(erasures(f, (staging_outbox_t)p, &marks[p], "GB-4", &at), 0);
    reasons_t r = reasons(f, id);
    assert_true(r.leaked);   /* the operator's words are there until the erasure */

    run_to(f, 1);   /* GB's 40 days */
    int64_t now = aclock_now_ms(f->s.app.clock);
    uint64_t again[STAGING_OUTBOXES];
    memcpy(again, marks, sizeof again);
    assert_int_equal(erasures(f, STAGING_TO_LEGAL, &marks[STAGING_TO_LEGAL], "GB-4", &at), 1);
    assert_int_equal(at, now);
    assert_int_equal(erasures(f, STAGING_TO_SALE, &marks[STAGING_TO_SALE], "GB-4", &at), 1);
    assert_int_equal(erasures(f, STAGING_TO_OUTREACH, &marks[STAGING_TO_OUTREACH], "GB-4", &at), 1);
    r = reasons(f, id);
    assert_false(r.leaked);
    assert_int_equal(r.operator_entries, 2);   /* kind, actor and day stay */
    assert_string_equal(r.hold, "manual hold: " ERASURE_MARKER);
    assert_string_equal(r.lifted, "manual lifted: " ERASURE_MARKER);

    run_to(f, 15);   /* JP's default 55 days */
    assert_int_equal(erasures(f, STAGING_TO_LEGAL, &again[STAGING_TO_LEGAL], "JP-4", &at), 0);
    assert_int_equal(erasures(f, STAGING_TO_SALE, &again[STAGING_TO_SALE], "JP-4", &at), 0);
    assert_int_equal(erasures(f, STAGING_TO_OUTREACH, &again[STAGING_TO_OUTREACH], "JP-4", &at), 1);
    /* and nothing more of GB-4 since its erasure */
    assert_int_equal(erasures(f, STAGING_TO_LEGAL, &marks[STAGING_TO_LEGAL], "GB-4", &at), 0);
    assert_int_equal(erasures(f, STAGING_TO_OUTREACH, &marks[STAGING_TO_OUTREACH], "GB-4", &at), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_erased_after_retention_once),
        T(test_late_upsert_stores_no_borrower),
        T(test_default_rule_later),
        T(test_dump_says_erased),
        T(test_holders_told_and_free_text_erased),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
