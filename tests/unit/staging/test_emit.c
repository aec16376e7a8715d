/* test_emit: what staging writes to its outboxes about a listed account (emit.c), in
 * process and without sockets: a staging_t set up as main.c's service_open does — a
 * strategy parsed from STRATEGY, the limitation rules of LIMITATION, a tz cache, a
 * simulated clock, the book on a store in a temporary directory with an at-rest key
 * made there, the four outboxes (sealed as main.c seals them). Messages are Envelopes
 * built here and handed to staging_apply inside store_write (as the receiver does); the
 * daily run is daily_step; what each outbox got is read back and unpacked.
 *
 * Covered:
 *   - a SaleListing carries the book by component, DPD and the charge-off date, the
 *     facts sale re-checks (mandate, bankrupt, deceased, dispute, litigation), the
 *     borrower's zone, region and person key, and the file: the statement of account
 *     with the borrower (only the points staging may use) and the collection record
 *     up to the listing;
 *   - a platform payment while listed is a SaleNotice (kind, amount, balance after);
 *   - SOLD: a ContactCancel (through the sms pending, not the letter after it), then
 *     exactly one ContactRequest for the notice of assignment by letter; ten days of the
 *     daily run after it add nothing to any outbox.
 *
 * Times: borrowers in Asia/Shanghai (UTC+8, no DST); the clock starts at 2026-04-02
 * 04:00 UTC, noon local: 91 days after the instalment due 2026-01-01. */
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
#include "log.h"
#include "staging.h"
#include "stagingfix.h"
#include "svctest.h"

#define NOW0 INT64_C(1775102400000)   /* 2026-04-02 04:00 UTC */
#define DAY INT64_C(86400000)
#define GOT_MAX 16

/* Listing from DPD 91 (charged off), and a weekly sms while listed. */
static const char STRATEGY[] =
    "currency = \"CNY\";\n"
    "arms = ( { name = \"champion\"; share_bps = 10000; action_lists = (\n"
    "  { stage = \"sale\"; actions = (\n"
    "    { channel = \"sms\"; template = \"sale_sms\"; cadence_days = 7; priority = 60; } ); }\n"
    "); } );\n"
    "escalation = { sale = { enabled = true; min_dpd = 91; min_balance_minor = 0; }; };\n";

static const char LIMITATION[] =
    "limitation = { default = { years = 6; }; jurisdictions = ( { name = \"CN\"; years = 3; } ); };\n";

typedef struct {
    stagingfix_t s;
    uint64_t mark[STAGING_OUTBOXES];   /* the last seq read from each outbox */
    Arrears__Envelope *got[GOT_MAX];   /* what news() found */
    size_t n_got;
} fx_t;

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);   /* large (the scratch account, the statement) */
    if (!f)
        return -1;
    *state = f;
    log_open("test_emit", 2, LOG_ERROR);
    return stagingfix_open(&f->s, "t_staging", STRATEGY, LIMITATION, NOW0);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    svctest_free_got(f->got, f->n_got);
    int rc = stagingfix_close(&f->s);
    free(f);
    return rc;
}

/* ---------------------------------------------------------------- driving staging */

/* Applies env as a service sends it; must be taken. */
static void apply(fx_t *f, Arrears__Envelope *env)
{
    if (stagingfix_apply(&f->s, "intake", "service", env) != APPLY_OK)
        fail_msg("refused: %s: %s", f->s.reject.field, f->s.reject.reason);
}

static void apply_event(fx_t *f, Arrears__AccountEvent *ev)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
    env.account_event = ev;
    apply(f, &env);
}

/* Due 2026-01-01: 100000 principal, 5000 interest, 700 fees; 10 bps a day of penalty;
 * the mandate to sell. A verified and consented phone, and an unverified one that
 * staging may not use and so never passes on. */
static void open_listed(fx_t *f, const char *ref)
{
    Arrears__ContactPoint good = ARREARS__CONTACT_POINT__INIT, bad = ARREARS__CONTACT_POINT__INIT;
    Arrears__ContactPoint *phones[] = {&good, &bad};
    good.value = "+8613800138000";
    good.has_verified = good.verified = good.has_consent = good.consent = 1;
    bad.value = "+8613900139000";
    bad.has_consent = bad.consent = 1;
    uint8_t id_hash[32] = {7};
    Arrears__Address address = ARREARS__ADDRESS__INIT;
    address.line1 = "1 Road";
    address.city = "Shanghai";
    address.country = "CN";
    Arrears__Borrower b = ARREARS__BORROWER__INIT;
    b.name = "Borrower Sale";
    b.has_id_number_hash = 1;
    b.id_number_hash = (ProtobufCBinaryData){sizeof id_hash, id_hash};
    b.time_zone = "Asia/Shanghai";
    b.language = "zh-CN";
    b.n_phones = 2;
    b.phones = phones;
    b.address = &address;
    Arrears__Instalment inst = ARREARS__INSTALMENT__INIT;
    Arrears__Instalment *schedule[] = {&inst};
    inst.due_date = "2026-01-01";
    inst.has_principal_minor = inst.has_interest_minor = inst.has_fees_minor = 1;
    inst.principal_minor = 100000;
    inst.interest_minor = 5000;
    inst.fees_minor = 700;
    Arrears__ContractRates rates = ARREARS__CONTRACT_RATES__INIT;
    rates.has_penalty_bps = rates.has_penalty_period = 1;
    rates.penalty_bps = 10;
    rates.penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    Arrears__Mandate mandate = ARREARS__MANDATE__INIT;
    mandate.has_may_sell = mandate.may_sell = 1;
    Arrears__AccountUpsert up = ARREARS__ACCOUNT_UPSERT__INIT;
    up.account_ref = (char *)ref;
    up.has_product = 1;
    up.product = ARREARS__PRODUCT__ONLINE_LOAN;
    up.currency = "CNY";
    up.opened_date = "2025-06-01";
    up.borrower = &b;
    up.rates = &rates;
    up.mandate = &mandate;
    up.n_schedule = 1;
    up.schedule = schedule;
    Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
    ev.platform = "platform-a";
    ev.account_ref = (char *)ref;
    ev.has_version = 1;
    ev.version = 1;
    ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_UPSERT;
    ev.upsert = &up;
    apply_event(f, &ev);
}

static void pay(fx_t *f, const char *ref, const char *payment_ref, int64_t amount)
{
    Arrears__PaymentPosted p = ARREARS__PAYMENT_POSTED__INIT;
    p.account_ref = (char *)ref;
    p.payment_ref = (char *)payment_ref;
    p.has_amount_minor = p.has_paid_at_ms = p.has_channel = 1;
    p.amount_minor = amount;
    p.currency = "CNY";
    p.paid_at_ms = aclock_now_ms(f->s.app.clock);
    p.channel = ARREARS__PAYMENT_CHANNEL__BANK_TRANSFER;
    Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
    ev.platform = "platform-a";
    ev.account_ref = (char *)ref;
    ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT;
    ev.payment = &p;
    apply_event(f, &ev);
}

static void sold(fx_t *f, const char *ref)
{
    Arrears__SaleResult r = ARREARS__SALE_RESULT__INIT;
    r.platform = "platform-a";
    r.account_ref = (char *)ref;
    r.has_outcome = r.has_price_minor = r.has_at_ms = 1;
    r.outcome = ARREARS__SALE_OUTCOME__SALE_SOLD;
    r.price_minor = 30000;
    r.at_ms = aclock_now_ms(f->s.app.clock);
    r.buyer = "buyer-a";
    r.portfolio_id = "PF-1";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_RESULT;
    env.sale_result = &r;
    apply(f, &env);
}

/* The daily run for each of days more days, at noon Shanghai. */
static void run_days(fx_t *f, int days)
{
    for (int d = 1; d <= days; d++) {
        int64_t to = aclock_now_ms(f->s.app.clock) + DAY;
        assert_int_equal(aclock_advance_to(f->s.app.clock, to), ACLOCK_OK);
        f->s.app.advance_to_ms = to;
        daily_step_t step;
        do
            assert_int_equal(daily_step(&f->s.app, f->s.store, &step), 0);
        while (step.state == DAILY_MORE);
    }
}

/* ---------------------------------------------------------------- reading outboxes */

/* The messages outbox which got since the last look, in f->got. */
static size_t news(fx_t *f, staging_outbox_t which)
{
    svctest_free_got(f->got, f->n_got);
    f->n_got = svctest_news(f->s.store, f->s.app.out[which], &f->mark[which], f->got, GOT_MAX);
    return f->n_got;
}

/* ---------------------------------------------------------------- tests */

/* Opened at DPD 91: charged off and listed in the same transaction. One day of penalty
 * so far (10 bps of 105000: 105). The file is as of the listing: the borrower with the
 * one phone staging may use, the schedule, and the record ending with the listing. */
static void test_listing_carries_the_facts_and_the_file(void **state)
{
    fx_t *f = *state;
    open_listed(f, "SALE-1");
    assert_int_equal(news(f, STAGING_TO_SALE), 1);
    assert_int_equal(f->got[0]->body_case, ARREARS__ENVELOPE__BODY_SALE_LISTING);
    const Arrears__SaleListing *m = f->got[0]->sale_listing;
    assert_string_equal(m->account_ref, "SALE-1");
    assert_int_equal(m->listed_at_ms, NOW0);
    assert_int_equal(m->outstanding_minor, 105805);
    assert_true(m->has_principal_minor && m->has_interest_minor && m->has_penalty_minor &&
                m->has_fees_minor);
    assert_int_equal(m->principal_minor, 100000);
    assert_int_equal(m->interest_minor, 5000);
    assert_int_equal(m->penalty_minor, 105);
    assert_int_equal(m->fees_minor, 700);
    assert_int_equal(m->days_past_due, 91);
    assert_string_equal(m->charged_off_date, "2026-04-02");
    assert_null(m->last_payment_date);
    assert_true(m->has_may_sell && m->may_sell);
    assert_true(m->has_bankrupt && !m->bankrupt);
    assert_true(m->has_deceased && !m->deceased);
    assert_true(m->has_dispute_open && !m->dispute_open);
    assert_true(m->has_in_litigation && !m->in_litigation);
    assert_string_equal(m->time_zone, "Asia/Shanghai");
    assert_string_equal(m->region, "CN");
    assert_true(m->has_person_key);
    assert_int_equal(m->person_key.len, ACCOUNT_PERSON_KEY_BYTES);
    const Arrears__CaseStatement *file = m->file;
    assert_non_null(file);
    assert_string_equal(file->as_of_date, "2026-04-02");
    assert_string_equal(file->borrower->name, "Borrower Sale");
    assert_int_equal(file->borrower->n_phones, 1);
    assert_string_equal(file->borrower->phones[0]->value, "+8613800138000");
    assert_int_equal(file->n_schedule, 1);
    assert_int_equal(file->schedule[0]->outstanding_minor, 105805);
    assert_int_equal(file->rates->penalty_bps, 10);
    assert_true(file->n_record >= 2);
    assert_string_equal(file->record[0]->kind, "opened");
    assert_string_equal(file->record[file->n_record - 1]->kind, "listing");
}

/* A platform payment while listed: the payment's SaleNotice, with the balance left. */
static void test_payment_while_listed_is_a_sale_notice(void **state)
{
    fx_t *f = *state;
    open_listed(f, "SALE-2");
    news(f, STAGING_TO_SALE);
    pay(f, "SALE-2", "PAY-1", 5805);
    assert_int_equal(news(f, STAGING_TO_SALE), 1);
    assert_int_equal(f->got[0]->body_case, ARREARS__ENVELOPE__BODY_SALE_NOTICE);
    const Arrears__SaleNotice *n = f->got[0]->sale_notice;
    assert_string_equal(n->platform, "platform-a");
    assert_string_equal(n->account_ref, "SALE-2");
    assert_int_equal(n->kind, ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT);
    assert_int_equal(n->at_ms, NOW0);
    assert_true(n->has_amount_minor);
    assert_int_equal(n->amount_minor, 5805);
    assert_string_equal(n->detail, "outstanding 100000 after it");
}

/* SOLD: the sms pending while listed is cancelled, then the one notice of assignment
 * is requested by letter; ten daily runs after it send nothing anywhere. */
static void test_sold_cancels_then_requests_one_notice(void **state)
{
    fx_t *f = *state;
    open_listed(f, "SALE-3");
    assert_int_equal(news(f, STAGING_TO_OUTREACH), 1);   /* the listed stage's sms */
    assert_string_equal(f->got[0]->contact_request->template_id, "sale_sms");
    news(f, STAGING_TO_SALE);
    news(f, STAGING_TO_INTAKE);
    sold(f, "SALE-3");
    assert_int_equal(news(f, STAGING_TO_OUTREACH), 2);
    assert_int_equal(f->got[0]->body_case, ARREARS__ENVELOPE__BODY_CONTACT_CANCEL);
    assert_string_equal(f->got[0]->contact_cancel->reason, "account closed");
    /* It cancels the sms (#1) and what came before it, never the letter after it. */
    assert_string_equal(f->got[0]->contact_cancel->through_contact_id, "SALE-3#1");
    assert_int_equal(f->got[1]->body_case, ARREARS__ENVELOPE__BODY_CONTACT_REQUEST);
    const Arrears__ContactRequest *r = f->got[1]->contact_request;
    assert_string_equal(r->template_id, ACCOUNT_NOTICE_OF_ASSIGNMENT);
    assert_int_equal(r->channel, ARREARS__CHANNEL__LETTER);
    assert_string_equal(r->contact_id, "SALE-3#2");
    assert_string_equal(r->stage, "sold");
    assert_false(r->mentions_legal);
    assert_string_equal(r->borrower_name, "Borrower Sale");
    assert_string_equal(r->address->line1, "1 Road");
    assert_int_equal(news(f, STAGING_TO_SALE), 0);   /* sale's own news is not echoed */
    assert_int_equal(news(f, STAGING_TO_INTAKE), 2);  /* the platform: closed, sold */
    assert_int_equal(f->got[1]->status_event->event->kind, ARREARS__FEED_EVENT_KIND__SOLD);
    run_days(f, 10);
    for (int i = 0; i < STAGING_OUTBOXES; i++)
        if (news(f, (staging_outbox_t)i) != 0)
            fail_msg("%s got body %d after the sale", stagingfix_outboxes[i], (int)f->got[0]->body_case);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_listing_carries_the_facts_and_the_file),
        T(test_payment_while_listed_is_a_sale_notice),
        T(test_sold_cancels_then_requests_one_notice),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
