/* daily: the daily run, chunk by chunk (see daily.h). */
#include "daily.h"

#include <stdio.h>

#include "account_fx.h"
#include "catchup.h"
#include "log.h"
#include "retention.h"

typedef struct {
    staging_t *self;
    daily_step_t *step;
} chunk_t;

/* The run to do now, 0 for none: the instant due, when it is past the last run's (on the
 * wall clock the last boundary crossed, an instant a catch-up can run at again); while
 * staging catches up after a restore, the next run boundary before the first held
 * message, if any (catchup.h). */
static int run_due_ms(staging_t *self, MDB_txn *txn, int64_t done_ms, int64_t *to_ms)
{
    held_state_t st;
    int64_t boundary = 0;
    int rc = held_state(self->held, txn, aclock_monotonic_ms(), &st);
    *to_ms = 0;
    if (rc != 0 || st.active) {
        if (rc == 0 && catchup_next(&st, done_ms, self->run_every_ms, &boundary) == CATCHUP_RUN)
            *to_ms = boundary;
        return rc;
    }
    int64_t now = aclock_now_ms(self->clock);
    if (aclock_is_simulated(self->clock))
        *to_ms = self->advance_to_ms > done_ms ? self->advance_to_ms : 0;
    else if (now / self->run_every_ms > done_ms / self->run_every_ms)
        *to_ms = now / self->run_every_ms * self->run_every_ms;   /* as of the boundary */
    return 0;
}

typedef struct {
    staging_t *self;
    int64_t from_ms, to_ms;
    bool crossed;
} crossing_t;

static int zone_crossed(const char *zone, void *arg)
{
    crossing_t *c = arg;
    int32_t from = 0, to = 0;
    if (staging_day_of(c->self, zone, c->from_ms, &from) != 0 ||
        staging_day_of(c->self, zone, c->to_ms, &to) != 0 || to != from)
        c->crossed = true;   /* an unreadable zone runs rather than risks a missed day */
    return 0;
}

/* Whether some borrower's local day changed between the last run and to_ms: no account
 * has anything to evaluate otherwise (each is evaluated once per local day). Until one
 * complete run has noted every account's zone (a store from before the zones table), it
 * is always so. */
static int day_changed(staging_t *self, MDB_txn *txn, int64_t done_ms, int64_t to_ms,
                       bool *crossed)
{
    int64_t indexed = 0;
    crossing_t c = {self, done_ms, to_ms, done_ms == 0};
    int rc = ledger_meta_get(self->ledger, txn, "zones_indexed", 0, &indexed);
    c.crossed |= indexed == 0;
    rc = rc || c.crossed ? rc : ledger_each_zone(self->ledger, txn, zone_crossed, &c);
    *crossed = c.crossed;
    return rc;
}

/* The effects of one erasure at most: its entry, intake's status event and a
 * PersonalDataErased for each of legal, sale and the broker. */
#define ERASE_EFFECTS 5

/* Tells each service that keeps personal data of the account to erase it: legal when
 * the account was ever referred (a declined referral is kept too), sale when it was
 * ever listed, the broker when any contact was ever requested. */
static void tell_holders(effects_t *fx, const account_t *a, int32_t today)
{
    const bool holds[] = {[PEER_LEGAL] = a->stats.referrals > 0,
                          [PEER_SALE] = a->stats.listings > 0,
                          [PEER_OUTREACH] = a->contact_seq > 0};
    for (peer_t p = PEER_LEGAL; p <= PEER_OUTREACH; p++)
        if (holds[p])
            fx_push(fx, EFFECT_ERASED, a, today, "staging")->peer = p;
}

/* Erases the account's personal data when its jurisdiction's retention after closing
 * has run out (retention.h) — the sealed borrower, the only personal record staging
 * keeps for it (the record holds a person key that is a hash, references, counts and
 * figures), and the free text operators and agents put on its timeline (erasure.h) —
 * notes it on the timeline and the record, tells intake (PERSONAL_DATA_ERASED) and
 * every peer holding a copy (tell_holders). The flag makes it once only; the book,
 * stages, timeline and report figures stay: they are the anonymized record. */
static int erase_if_due(staging_t *self, MDB_txn *txn, int32_t today)
{
    account_t *a = &self->account;
    int32_t days = 0;
    if (a->erased || !account_is_closed(a) ||
        self->fx.count + ERASE_EFFECTS > ACCOUNT_EFFECTS_MAX ||
        !retention_due(self->policy->retention, a->jurisdiction, a->stats.closed_day, today,
                       &days))
        return 0;   /* a full effects list (never seen) only puts it off to tomorrow */
    int rc = ledger_erase_borrower(self->ledger, txn, a->id);
    rc = rc ? rc : ledger_erase_free_text(self->ledger, txn, a);
    if (rc != 0)
        return rc;
    a->erased = true;
    a->erased_day = today;
    char closed[TZ_DATE_LEN + 1];
    tz_date_format(a->stats.closed_day, closed);
    const char *where = a->jurisdiction[0] ? a->jurisdiction : "no jurisdiction (the default)";
    effect_t *e = &self->fx.items[self->fx.count++];
    *e = (effect_t){.kind = EFFECT_ENTRY, .day = today, .stage = a->stage, .what = "erased"};
    snprintf(e->actor, sizeof e->actor, "staging");
    snprintf(e->reason, sizeof e->reason,
             "personal data erased: retention of %d days in %s after closing on %s", (int)days,
             where, closed);
    /* Intake erases its copy on this news, and the platform learns it from its feed. */
    fx_status(&self->fx, a, today, ARREARS__FEED_EVENT_KIND__PERSONAL_DATA_ERASED, 0, NULL,
              a->jurisdiction[0] ? a->jurisdiction : "default");
    tell_holders(&self->fx, a, today);
    log_event(LOG_INFO, "erased", "account_id=%llu jurisdiction=%s retention_days=%d",
              (unsigned long long)a->id, a->jurisdiction[0] ? a->jurisdiction : "-", (int)days);
    return 0;
}

/* One account of the run: evaluated as of run_to_ms, written when anything changed. */
static int evaluate_one(staging_t *self, MDB_txn *txn, int64_t run_to_ms, bool *changed)
{
    account_t *a = &self->account;
    int32_t today;
    *changed = false;
    if (staging_day_of(self, a->time_zone, run_to_ms, &today) != 0) {
        log_event(LOG_WARN, "run_skip", "account_id=%llu reason=\"time zone unreadable\"",
                  (unsigned long long)a->id);
        return 0;
    }
    if (a->evaluated_day != ACCOUNT_DAY_NONE && today <= a->evaluated_day)
        return 0;
    self->policy = staging_policy_for(self, a->currency);
    if (!self->policy) {   /* its strategy was taken out of the configuration */
        log_event(LOG_WARN, "run_skip", "account_id=%llu currency=%s reason=\"no strategy\"",
                  (unsigned long long)a->id, a->currency);
        return 0;
    }
    effects_clear(&self->fx);
    int rc = account_evaluate(a, self->policy, today, run_to_ms, &self->fx);
    rc = rc ? rc : erase_if_due(self, txn, today);
    *changed = rc == 0;
    /* Dated at the run's instant: a catch-up's run is in the past of the clock. */
    return rc ? rc : staging_commit_account(self, txn, a, run_to_ms);
}

static int run_chunk(MDB_txn *txn, void *arg)
{
    chunk_t *c = arg;
    staging_t *self = c->self;
    ledger_t *l = self->ledger;
    *c->step = (daily_step_t){0};
    int64_t to_ms = 0, cursor = 0, done_ms = 0;
    int rc = ledger_meta_get(l, txn, "run_to_ms", 0, &to_ms);
    rc = rc ? rc : ledger_meta_get(l, txn, "run_cursor", 0, &cursor);
    rc = rc ? rc : ledger_meta_get(l, txn, "run_done_ms", 0, &done_ms);
    if (rc == 0 && to_ms == 0) {
        rc = run_due_ms(self, txn, done_ms, &to_ms);
        cursor = 0;
        if (rc != 0 || to_ms == 0)
            return rc;   /* DAILY_IDLE: nothing written */
        bool crossed = true;
        rc = day_changed(self, txn, done_ms, to_ms, &crossed);
        /* A run that would evaluate nothing is done at once; the next may be due now (a
         * catch-up passes boundaries one by one). */
        c->step->state = rc == 0 && !crossed ? DAILY_MORE : DAILY_IDLE;
        if (rc != 0 || !crossed)
            return rc ? rc : ledger_meta_put(l, txn, "run_done_ms", to_ms);
        log_event(LOG_INFO, "run_start", "run_to_ms=%lld", (long long)to_ms);
    }
    c->step->state = DAILY_MORE;
    for (size_t n = 0; rc == 0 && n < self->run_chunk_accounts; n++) {
        bool room = false, changed = false;
        rc = staging_has_room(self, txn, &room);
        if (rc == 0 && !room) {
            c->step->state = DAILY_BLOCKED;
            break;
        }
        rc = rc ? rc : ledger_next(l, txn, (uint64_t)cursor, &self->account);
        if (rc == LEDGER_ENOTFOUND) {   /* the run is complete: every zone noted */
            rc = ledger_meta_put(l, txn, "run_done_ms", to_ms);
            rc = rc ? rc : ledger_meta_put(l, txn, "zones_indexed", 1);
            rc = rc ? rc : ledger_meta_put(l, txn, "run_to_ms", 0);
            log_event(LOG_INFO, "run_done", "run_to_ms=%lld", (long long)to_ms);
            return rc ? rc : ledger_meta_put(l, txn, "run_cursor", 0);
        }
        rc = rc ? rc : ledger_note_zone(l, txn, self->account.time_zone);
        rc = rc ? rc : evaluate_one(self, txn, to_ms, &changed);
        cursor = (int64_t)self->account.id;
        c->step->evaluated++;
        c->step->changed += changed;
    }
    rc = rc ? rc : ledger_meta_put(l, txn, "run_to_ms", to_ms);
    return rc ? rc : ledger_meta_put(l, txn, "run_cursor", cursor);
}

int daily_step(staging_t *self, store_t *store, daily_step_t *step)
{
    chunk_t c = {self, step};
    return store_write(store, run_chunk, &c);
}

typedef struct {
    staging_t *self;
    int64_t clock_ms;
} restore_t;

static int read_clock(MDB_txn *txn, void *arg)
{
    restore_t *r = arg;
    int64_t v[3];
    const char *names[3] = {"clock_ms", "run_to_ms", "run_done_ms"};
    r->clock_ms = 0;
    for (int i = 0; i < 3; i++) {
        int rc = ledger_meta_get(r->self->ledger, txn, names[i], 0, &v[i]);
        if (rc != 0)
            return rc;
        if (v[i] > r->clock_ms)
            r->clock_ms = v[i];
    }
    return 0;
}

int daily_restored_clock_ms(staging_t *self, store_t *store, int64_t *clock_ms)
{
    restore_t r = {self, 0};
    int rc = store_read(store, read_clock, &r);
    *clock_ms = r.clock_ms;
    return rc;
}
