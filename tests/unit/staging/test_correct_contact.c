/* test_correct_contact: an operator's CORRECT_CONTACT (proto OperatorAction), through
 * staging_apply in process as the receiver runs it — a staging_t set up as test_emit's
 * (a strategy, a tz cache, a simulated clock, the book and its outboxes on a store in a
 * temporary directory), the operator's action and query built here.
 *
 * Covered:
 *   - applied: the phones and e-mails listed replace the borrower's (the address, not
 *     listed, is kept), and the next contact request carries the corrected points;
 *   - audited: one "updated" entry with the operator's principal as actor and their
 *     reason, counting the points and never showing a value;
 *   - refused: a bad phone is INVALID_FIELD naming "phones[1].value", nothing changes
 *     (a digest of every table), and so is a missing reason or an empty correction.
 *
 * Times: the borrower in Asia/Shanghai; the clock starts at 2026-04-02 04:00 UTC, noon
 * local, 13 days after the instalment due 2026-03-20 (stage early, a daily sms). */
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
#define REPLY_MAX 65536
#define OLD_PHONE "+8613800138000"
#define NEW_PHONE "+8613700137000"
#define NEW_PHONE2 "+8613600136000"
#define NEW_EMAIL "borrower@example.cn"

static const char STRATEGY[] =
    "currency = \"CNY\";\n"
    "arms = ( { name = \"champion\"; share_bps = 10000; action_lists = (\n"
    "  { stage = \"early\"; actions = (\n"
    "    { channel = \"sms\"; template = \"early_sms\"; cadence_days = 1; priority = 50; } ); }\n"
    "); } );\n";

static const char LIMITATION[] = "limitation = { default = { years = 6; }; };\n";

static const char *const TABLES[] = {
    "staging.keys", "staging.accounts", "staging.borrowers", "staging.timeline",
    "staging.persons", "staging.payments", "staging.meta", "to_outreach.log",
};
#define N_TABLES (sizeof TABLES / sizeof TABLES[0])

typedef struct {
    stagingfix_t s;
    uint64_t mark;                     /* the last seq read from to_outreach */
    Arrears__Envelope *got[GOT_MAX];
    size_t n_got;
} fx_t;

/* ---------------------------------------------------------------- fixture */

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);   /* large: the scratch account, the statement */
    if (!f)
        return -1;
    *state = f;
    log_open("test_correct_contact", 2, LOG_ERROR);
    return stagingfix_open(&f->s, "t_cc", STRATEGY, LIMITATION, NOW0);
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

static int apply(fx_t *f, const char *role, Arrears__Envelope *env)
{
    bool op = strcmp(role, "operator") == 0;
    return stagingfix_apply(&f->s, op ? "op.alice" : "intake", role, env);
}

/* Due 2026-03-20; a verified and consented phone and an address. */
static void open_account(fx_t *f)
{
    Arrears__Address address = ARREARS__ADDRESS__INIT;
    address.line1 = "1 Road";
    address.city = "Shanghai";
    address.country = "CN";
    stagingfix_upload(&f->s, OLD_PHONE, &address);
}

/* CORRECT_CONTACT with phones (n of them from values) and one e-mail if email. */
static int correct(fx_t *f, const char *const *values, size_t n, const char *email,
                   const char *reason)
{
    Arrears__ContactPoint points[3], *phones[2], *emails[1];
    for (size_t i = 0; i < n + 1; i++) {
        arrears__contact_point__init(&points[i]);
        points[i].value = (char *)(i < n ? values[i] : email);
        points[i].has_verified = points[i].verified = points[i].has_consent = points[i].consent = 1;
        if (i < n)
            phones[i] = &points[i];
    }
    emails[0] = &points[n];
    Arrears__OperatorAction a = ARREARS__OPERATOR_ACTION__INIT;
    a.platform = "platform-a";
    a.account_ref = "A-1";
    a.has_kind = 1;
    a.kind = ARREARS__OPERATOR_ACTION__KIND__CORRECT_CONTACT;
    a.reason = (char *)reason;
    a.n_phones = n, a.phones = phones;
    a.n_emails = email ? 1 : 0, a.emails = emails;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_OPERATOR_ACTION;
    env.operator_action = &a;
    return apply(f, "operator", &env);
}

/* ---------------------------------------------------------------- reading back */

typedef struct {
    fx_t *f;
    Arrears__Envelope *view;       /* the account query's answer */
    Arrears__Borrower *borrower;
} read_t;

static void read_in(MDB_txn *txn, void *arg)
{
    read_t *r = arg;
    staging_t *s = &r->f->s.app;
    Arrears__AccountQuery q = ARREARS__ACCOUNT_QUERY__INIT;
    q.platform = "platform-a";
    q.account_ref = "A-1";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_request_id = env.request_id = 1;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_QUERY;
    env.account_query = &q;
    receiver_peer_t from = svctest_peer("operator", "operator");
    static uint8_t buf[REPLY_MAX];
    size_t n = staging_query(s, txn, &from, &env, buf, sizeof buf, &r->f->s.reject);
    assert_true(n > 0);
    r->view = arrears__envelope__unpack(NULL, n, buf);
    assert_non_null(r->view);
    assert_int_equal(r->view->body_case, ARREARS__ENVELOPE__BODY_ACCOUNT_VIEW);
    uint64_t id;
    assert_int_equal(ledger_find(s->ledger, txn, "platform-a", "A-1", &id), 0);
    assert_int_equal(ledger_get_borrower(s->ledger, txn, id, &r->borrower), 0);
    assert_non_null(r->borrower);
}

static read_t read_back(fx_t *f)
{
    read_t r = {f, NULL, NULL};
    svctest_read(f->s.store, read_in, &r);
    return r;
}

static void read_free(read_t *r)
{
    arrears__envelope__free_unpacked(r->view, NULL);
    arrears__borrower__free_unpacked(r->borrower, NULL);
}

/* The ContactRequests to_outreach got since the last look: the last one's phones. */
static const Arrears__ContactRequest *last_request(fx_t *f)
{
    svctest_free_got(f->got, f->n_got);
    f->n_got = svctest_news(f->s.store, f->s.app.out[STAGING_TO_OUTREACH], &f->mark, f->got, GOT_MAX);
    const Arrears__ContactRequest *last = NULL;
    for (size_t i = 0; i < f->n_got; i++)
        if (f->got[i]->body_case == ARREARS__ENVELOPE__BODY_CONTACT_REQUEST)
            last = f->got[i]->contact_request;
    return last;
}

static void run_day(fx_t *f)
{
    int64_t to = aclock_now_ms(f->s.app.clock) + DAY;
    assert_int_equal(aclock_advance_to(f->s.app.clock, to), ACLOCK_OK);
    f->s.app.advance_to_ms = to;
    daily_step_t step;
    do
        assert_int_equal(daily_step(&f->s.app, f->s.store, &step), 0);
    while (step.state == DAILY_MORE);
}

/* ---------------------------------------------------------------- tests */

static void test_applied_and_audited_without_values(void **state)
{
    fx_t *f = *state;
    open_account(f);
    const Arrears__ContactRequest *r = last_request(f);
    assert_non_null(r);
    assert_string_equal(r->phones[0]->value, OLD_PHONE);

    const char *const phones[] = {NEW_PHONE, NEW_PHONE2};
    assert_int_equal(correct(f, phones, 2, NEW_EMAIL, "borrower called: number changed"),
                     APPLY_OK);
    read_t rb = read_back(f);
    const Arrears__Borrower *b = rb.borrower;
    assert_int_equal(b->n_phones, 2);
    assert_string_equal(b->phones[0]->value, NEW_PHONE);
    assert_string_equal(b->phones[1]->value, NEW_PHONE2);
    assert_int_equal(b->n_emails, 1);
    assert_string_equal(b->emails[0]->value, NEW_EMAIL);
    assert_string_equal(b->address->line1, "1 Road");   /* not listed: kept */
    const Arrears__AccountView *v = rb.view->account_view;
    const Arrears__TimelineEntry *t = v->timeline[v->n_timeline - 1];
    assert_string_equal(t->kind, "updated");
    assert_string_equal(t->actor, "op.alice");
    assert_string_equal(t->reason,
                        "2 phones, 1 email corrected by operator: borrower called: number changed");
    for (size_t i = 0; i < v->n_timeline; i++) {
        assert_null(strstr(v->timeline[i]->reason, "8613"));
        assert_null(strstr(v->timeline[i]->reason, "example.cn"));
    }
    read_free(&rb);

    run_day(f);   /* the next day's sms goes to the corrected points */
    r = last_request(f);
    assert_non_null(r);
    assert_int_equal(r->n_phones, 2);
    assert_string_equal(r->phones[0]->value, NEW_PHONE);
    assert_int_equal(r->n_emails, 1);
    assert_string_equal(r->emails[0]->value, NEW_EMAIL);
}

static void test_refused_changes_nothing(void **state)
{
    fx_t *f = *state;
    open_account(f);
    uint8_t before[SVCTEST_DIGEST_BYTES], after[SVCTEST_DIGEST_BYTES];
    svctest_digest(f->s.store, TABLES, N_TABLES, before);

    const char *const bad[] = {NEW_PHONE, "13700137000"};   /* no '+': not E.164 */
    svctest_assert_refused(correct(f, bad, 2, NULL, "typo"), &f->s.reject,
                           ARREARS__REJECT__CODE__INVALID_FIELD, "phones[1].value");
    assert_null(strstr(f->s.reject.reason, "13700137000"));   /* rejects name no values */
    const char *const good[] = {NEW_PHONE};
    svctest_assert_refused(correct(f, good, 1, NULL, ""), &f->s.reject,
                           ARREARS__REJECT__CODE__INVALID_FIELD, "reason");
    svctest_assert_refused(correct(f, good, 0, NULL, "nothing"), &f->s.reject,
                           ARREARS__REJECT__CODE__INVALID_FIELD, "phones");
    svctest_assert_refused(correct(f, good, 1, "not-an-email", "typo"), &f->s.reject,
                           ARREARS__REJECT__CODE__INVALID_FIELD, "emails[0].value");

    svctest_digest(f->s.store, TABLES, N_TABLES, after);
    assert_memory_equal(before, after, sizeof before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_applied_and_audited_without_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_changes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
