/* test_catchup: staging catching up after a restore (catchup.h, held.h), in process.
 *
 * Covered:
 *   - catchup_next, pure: idle when nothing is held, waiting until the replays are in,
 *     the daily run first at each run boundary up to a held message's first instant
 *     (one at that very instant included), the message once no boundary is left before
 *     it, done when nothing is held; held_settled: quiet for settle_ms with every replay
 *     in, or ten times that without;
 *   - the same book: one staging lives six days (a daily run a day, two payments from
 *     one stream and a complaint from another, days apart); a second, started from the
 *     first day's state as from a backup, gets those three messages as replays, one
 *     stream's before the other's, and catches up: the account ends with the same book,
 *     stage, holds, contacts and the same timeline, day by day, entry by entry;
 *   - meanwhile: a new message is refused `busy`, so is a clock advance (which still
 *     moves the clock); the replays are held, not applied, until the catch-up;
 *   - a store `arrears restore` marked catches up from its start, held replays or not,
 *     until the catch-up ends and answers the marker (a later start does not).
 *
 * Times: the borrower in Asia/Shanghai (local midnight at 16:00 UTC); day k is
 * 2026-04-02 04:00 UTC + k days, noon local; the instalment was due 2026-03-20. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup.h"
#include "daily.h"
#include "log.h"
#include "outbox.h"
#include "stagingfix.h"
#include "svctest.h"

#define DAY0 INT64_C(1775102400000)   /* 2026-04-02 04:00 UTC */
#define HOUR INT64_C(3600000)
#define DAY (24 * HOUR)
#define DAYS 6
#define ENTRIES_MAX 64

static const char STRATEGY[] =
    "currency = \"CNY\";\n"
    "arms = ( { name = \"champion\"; share_bps = 10000; action_lists = (\n"
    "  { stage = \"early\"; actions = (\n"
    "    { channel = \"sms\"; template = \"early_sms\"; cadence_days = 1; priority = 50; } ); }\n"
    "); } );\n";

static const char LIMITATION[] = "limitation = { default = { years = 6; }; };\n";

/* ---------------------------------------------------------------- pure */

static void test_next(void **state)
{
    (void)state;
    held_state_t st = { .active = false };
    int64_t to = 0;
    assert_int_equal(catchup_next(&st, 0, HOUR, &to), CATCHUP_IDLE);
    st.active = true;
    assert_int_equal(catchup_next(&st, 0, HOUR, &to), CATCHUP_WAIT);
    st.ready = true;
    st.count = 0;
    st.next_at_ms = INT64_MAX;
    assert_int_equal(catchup_next(&st, 0, HOUR, &to), CATCHUP_DONE);
    st.count = 2;
    st.next_at_ms = DAY0 + 90 * 60000;   /* 05:30 */
    assert_int_equal(catchup_next(&st, DAY0 - 3 * HOUR + 17, HOUR, &to), CATCHUP_RUN);
    assert_int_equal(to, DAY0 - 2 * HOUR);   /* the next boundary after the last run */
    assert_int_equal(catchup_next(&st, DAY0 + HOUR, HOUR, &to), CATCHUP_APPLY);
    st.next_at_ms = DAY0 + 2 * HOUR;   /* applied at a boundary: that run came first */
    to = 0;
    assert_int_equal(catchup_next(&st, DAY0 + HOUR, HOUR, &to), CATCHUP_RUN);
    assert_int_equal(to, DAY0 + 2 * HOUR);
    assert_int_equal(catchup_next(&st, DAY0 + 2 * HOUR, HOUR, &to), CATCHUP_APPLY);
}

static void test_settled(void **state)
{
    (void)state;
    assert_false(held_settled(1000, 0, 3000, true));
    assert_true(held_settled(3000, 0, 3000, true));
    assert_false(held_settled(29999, 0, 3000, false));   /* a replay not all in */
    assert_true(held_settled(30000, 0, 3000, false));    /* given up on */
}

/* ---------------------------------------------------------------- two stagings */

typedef struct {
    stagingfix_t first, again;
} fx_t;

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);   /* large: two scratch accounts */
    if (!f)
        return -1;
    *state = f;
    log_open("test_catchup", 2, LOG_ERROR);
    int rc = stagingfix_open(&f->first, "t_cu1", STRATEGY, LIMITATION, DAY0);
    rc = rc ? rc : stagingfix_open(&f->again, "t_cu2", STRATEGY, LIMITATION, DAY0);
    f->first.app.run_every_ms = f->again.app.run_every_ms = HOUR;
    return rc;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    int rc = stagingfix_close(&f->first);
    rc |= stagingfix_close(&f->again);
    free(f);
    return rc;
}

/* Due 2026-03-20: 100000 principal; a verified and consented phone. */
static void open_account(stagingfix_t *s)
{
    stagingfix_upload(s, "+8613800138000", NULL);
}

/* The three messages of the four days: (stream, seq, day, what). */
typedef struct {
    const char *principal;
    uint64_t stream_id, seq;
    int day;
    bool complaint;
    int64_t amount_minor;
} event_t;

static const event_t EVENTS[] = {
    {"intake", 7, 1, 1, false, 30000},
    {"intake-b", 9, 1, 3, true, 0},
    {"intake", 7, 2, 5, false, 20000},
};
#define N_EVENTS (sizeof EVENTS / sizeof EVENTS[0])

/* Applies event e: at the clock, or held as a replay first applied at first. */
static int send(stagingfix_t *s, const event_t *e, const applied_t *first)
{
    char ref[16];
    snprintf(ref, sizeof ref, "R-%d", e->day);
    int64_t at = DAY0 + e->day * DAY - HOUR;
    Arrears__PaymentPosted p = ARREARS__PAYMENT_POSTED__INIT;
    p.account_ref = "A-1";
    p.payment_ref = ref;
    p.has_amount_minor = p.has_paid_at_ms = p.has_channel = 1;
    p.amount_minor = e->amount_minor;
    p.currency = "CNY";
    p.paid_at_ms = at;
    p.channel = ARREARS__PAYMENT_CHANNEL__BANK_TRANSFER;
    Arrears__Complaint c = ARREARS__COMPLAINT__INIT;
    c.account_ref = "A-1";
    c.complaint_ref = ref;
    c.has_kind = c.has_received_at_ms = 1;
    c.kind = ARREARS__COMPLAINT_KIND__COMPLAINT;
    c.category = "contact_frequency";
    c.received_at_ms = at;
    Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
    ev.platform = "platform-a";
    ev.account_ref = "A-1";
    ev.event_case = e->complaint ? ARREARS__ACCOUNT_EVENT__EVENT_COMPLAINT
                                 : ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT;
    if (e->complaint)   /* one of a oneof: they share their storage */
        ev.complaint = &c;
    else
        ev.payment = &p;
    Arrears__Applied when = ARREARS__APPLIED__INIT;
    Arrears__Replay replay = ARREARS__REPLAY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_stream_id = env.has_seq = 1;
    env.stream_id = e->stream_id;
    env.seq = e->seq;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
    env.account_event = &ev;
    if (first) {
        when.has_at_ms = when.has_order_us = replay.has_through_seq = 1;
        when.at_ms = first->at_ms;
        when.order_us = first->order_us;
        replay.applied = &when;
        replay.through_seq = e->seq == 1 && e->stream_id == 7 ? 2 : e->seq;
        env.replay = &replay;
    }
    return stagingfix_apply(s, e->principal, "service", &env);
}

/* Runs the daily run and the catch-up until neither has anything to do. */
static void settle(stagingfix_t *s)
{
    for (int i = 0; i < 10000; i++) {
        daily_step_t step = {0};
        bool caught = false;
        assert_int_equal(daily_step(&s->app, s->store, &step), 0);
        assert_int_equal(catchup_step(&s->app, s->store, &caught), 0);
        if (step.state == DAILY_IDLE && !caught)
            return;
    }
    fail_msg("the daily run and the catch-up never settled");
}

/* The clock to at_ms, as a driver's advance would, and its daily run. */
static void advance(stagingfix_t *s, int64_t at_ms)
{
    assert_int_equal(aclock_advance_to(s->app.clock, at_ms), ACLOCK_OK);
    s->app.advance_to_ms = at_ms;
    settle(s);
}

typedef struct {
    stagingfix_t *s;
    account_t account;
    char entries[ENTRIES_MAX][96];
    size_t n;
} seen_t;

static int keep_entry(const Arrears__TimelineEntry *t, void *arg)
{
    seen_t *b = arg;
    if (b->n < ENTRIES_MAX)
        snprintf(b->entries[b->n++], sizeof b->entries[0], "%s %s %s %s", t->day, t->kind,
                 t->stage, t->reference ? t->reference : "");
    return 0;
}

static int read_book(MDB_txn *txn, void *arg)
{
    seen_t *b = arg;
    ledger_t *l = b->s->app.ledger;
    uint64_t id;
    account_init(&b->account);
    int rc = ledger_find(l, txn, "platform-a", "A-1", &id);
    rc = rc ? rc : ledger_get(l, txn, id, &b->account);
    return rc ? rc : ledger_each_entry(l, txn, id, 0, ENTRIES_MAX, keep_entry, b);
}

static void assert_same_book(seen_t *x, seen_t *y)
{
    const account_t *a = &x->account, *b = &y->account;
    assert_int_equal(a->stage, b->stage);
    assert_int_equal(a->stage_since_day, b->stage_since_day);
    assert_int_equal(a->evaluated_day, b->evaluated_day);
    assert_int_equal(a->dpd, b->dpd);
    assert_int_equal(a->holds.bits, b->holds.bits);
    assert_int_equal(a->contact_seq, b->contact_seq);
    assert_int_equal(a->last_payment_day, b->last_payment_day);
    assert_int_equal(a->stats.collected_minor, b->stats.collected_minor);
    assert_int_equal(a->stats.complaints, b->stats.complaints);
    assert_memory_equal(a->instalments, b->instalments, sizeof a->instalments);
    assert_int_equal(x->n, y->n);
    for (size_t i = 0; i < x->n; i++)
        assert_string_equal(x->entries[i], y->entries[i]);
}

static void test_same_book(void **state)
{
    fx_t *f = *state;
    applied_t first[N_EVENTS];
    for (stagingfix_t *s = &f->first; s; s = s == &f->first ? &f->again : NULL) {
        open_account(s);   /* the backup: the account and its day-0 run */
        advance(s, DAY0);
    }
    for (int day = 1; day <= DAYS; day++) {   /* the first life */
        advance(&f->first, DAY0 + day * DAY);
        for (size_t i = 0; i < N_EVENTS; i++)
            if (EVENTS[i].day == day) {
                assert_int_equal(send(&f->first, &EVENTS[i], NULL), APPLY_OK);
                first[i] = (applied_t){DAY0 + day * DAY, (int64_t)i};
            }
    }
    static const size_t arrival[] = {0, 2, 1};   /* stream intake's replay, then intake-b's */
    for (size_t i = 0; i < N_EVENTS; i++)
        assert_int_equal(send(&f->again, &EVENTS[arrival[i]], &first[arrival[i]]), APPLY_OK);
    settle(&f->again);
    advance(&f->again, DAY0 + DAYS * DAY);   /* the driver's present, after the catch-up */
    static seen_t a, b;
    a.s = &f->first, b.s = &f->again;
    assert_int_equal(store_read(f->first.store, read_book, &a), 0);
    assert_int_equal(store_read(f->again.store, read_book, &b), 0);
    assert_true(a.n > 5);
    assert_same_book(&a, &b);
}

static void test_new_work_waits(void **state)
{
    fx_t *f = *state;
    stagingfix_t *s = &f->again;
    open_account(s);
    advance(s, DAY0);
    applied_t first = {DAY0 + DAY, 1};
    assert_int_equal(send(s, &EVENTS[0], &first), APPLY_OK);   /* held; seq 2 to come */
    static seen_t before;
    before.s = s;
    assert_int_equal(store_read(s->store, read_book, &before), 0);
    assert_int_equal(before.account.stats.collected_minor, 0);
    assert_int_equal(send(s, &EVENTS[1], NULL), APPLY_REJECTED);
    assert_int_equal(s->reject.code, ARREARS__REJECT__CODE__BUSY);
    Arrears__ClockAdvance adv = ARREARS__CLOCK_ADVANCE__INIT;
    adv.has_to_ms = 1;
    adv.to_ms = DAY0 + 2 * DAY;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_stream_id = env.has_seq = 1;
    env.stream_id = env.seq = 1;
    env.body_case = ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE;
    env.clock_advance = &adv;
    assert_int_equal(stagingfix_apply(s, "driver", "operator", &env), APPLY_REJECTED);
    assert_int_equal(s->reject.code, ARREARS__REJECT__CODE__BUSY);
    assert_int_equal(aclock_now_ms(s->app.clock), DAY0 + 2 * DAY);
    assert_int_equal(send(s, &EVENTS[2], &(applied_t){DAY0 + 5 * DAY, 2}), APPLY_OK);
    settle(s);   /* stream intake's replay is in: applied, in order */
    static seen_t after;
    after.s = s;
    assert_int_equal(store_read(s->store, read_book, &after), 0);
    assert_int_equal(after.account.stats.collected_minor, 50000);
    assert_int_equal(send(s, &EVENTS[1], NULL), APPLY_OK);   /* caught up: taken */
}

static int mark_restored(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi;
    uint8_t value[8];
    store_put_u64(value, *(uint64_t *)arg);
    MDB_val k = {strlen(OUTBOX_RESTORED_KEY), (void *)OUTBOX_RESTORED_KEY}, v = {8, value};
    int rc = mdb_dbi_open(txn, OUTBOX_RESTORED_TABLE, MDB_CREATE, &dbi);
    return rc ? rc : mdb_put(txn, dbi, &k, &v, 0);
}

/* held_open again, as at a start: what the store says, not what memory remembered. */
static void restart(stagingfix_t *s)
{
    held_destroy(&s->app.held);
    assert_int_equal(held_open(s->store, s->crypt, 0, &s->app.held), 0);
}

/* A store `arrears restore` marked catches up from its start, held replays or not (new
 * work waits), until the catch-up ends and answers the marker: a later start is not
 * catching up. */
static void test_restored_store_waits_until_answered(void **state)
{
    fx_t *f = *state;
    stagingfix_t *s = &f->again;
    open_account(s);
    uint64_t marker = 1234;
    assert_int_equal(store_write(s->store, mark_restored, &marker), 0);
    restart(s);
    assert_int_equal(send(s, &EVENTS[0], NULL), APPLY_REJECTED);
    assert_int_equal(s->reject.code, ARREARS__REJECT__CODE__BUSY);
    settle(s);   /* nothing held: the catch-up ends at once */
    restart(s);
    assert_int_equal(send(s, &EVENTS[0], NULL), APPLY_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_next),
        cmocka_unit_test(test_settled),
        cmocka_unit_test_setup_teardown(test_same_book, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_work_waits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restored_store_waits_until_answered, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
