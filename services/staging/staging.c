/* staging: what each inbound message does (see staging.h). */
#include "staging.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

typedef struct {
    staging_t *self;
    MDB_txn *txn;
    const receiver_peer_t *from;
    reject_t *reject;
    int64_t now_ms;
} call_t;

static int refused(reject_t *reject, Arrears__Reject__Code code, const char *field,
                   const char *why)
{
    Arrears__Reject__Class klass = code == ARREARS__REJECT__CODE__BUSY
                                       ? ARREARS__REJECT__CLASS__RETRY_LATER
                                       : ARREARS__REJECT__CLASS__PERMANENT;
    reject_set(reject, klass, code, field, "%s", why);
    return APPLY_REJECTED;
}

const account_policy_t *staging_policy_for(const staging_t *self, const char *currency)
{
    for (size_t i = 0; currency && i < self->policy_count; i++)
        if (strcmp(strategy_currency(self->policies[i].strategy), currency) == 0)
            return &self->policies[i];
    return NULL;
}

/* Makes the strategy of currency the current one; a refusal when there is none. */
static int use_policy(call_t *c, const char *currency)
{
    c->self->policy = staging_policy_for(c->self, currency);
    if (c->self->policy)
        return 0;
    reject_set(c->reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
               "currency", "staging has no collection strategy for %s: configure one (strategy.h)",
               currency ? currency : "(none)");
    return APPLY_REJECTED;
}

int staging_day_of(staging_t *self, const char *zone_name, int64_t at_ms, int32_t *day)
{
    const tz_zone_t *zone;
    int rc = tz_cache_get(self->zones, zone_name, &zone);
    if (rc != TZ_OK)
        return rc;
    int64_t s = at_ms >= 0 ? at_ms / 1000 : -((-at_ms + 999) / 1000);
    *day = (int32_t)tz_local_day(zone, s);
    return 0;
}

/* The account named, loaded into self->account, and its borrower-local today. */
static int load(call_t *c, const char *platform, const char *ref, int32_t *today)
{
    staging_t *s = c->self;
    uint64_t id;
    if (!platform || !*platform || !ref || !*ref)
        return refused(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref",
                       "platform and account_ref are required");
    int rc = ledger_find(s->ledger, c->txn, platform, ref, &id);
    if (rc == LEDGER_ENOTFOUND)
        return refused(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref",
                       "no such account: staging never received it");
    rc = rc ? rc : ledger_get(s->ledger, c->txn, id, &s->account);
    rc = rc ? rc : use_policy(c, s->account.currency);
    if (rc != 0)
        return rc;
    if (staging_day_of(s, s->account.time_zone, c->now_ms, today) != 0)
        return refused(c->reject, ARREARS__REJECT__CODE__BUSY, "time_zone",
                       "the account's time zone cannot be read now");
    /* Today's run may not have reached this account yet: an event sees today as the run
     * will, so it never acts on yesterday's stage. */
    effects_clear(&s->fx);
    return account_evaluate(&s->account, s->policy, *today, c->now_ms, &s->fx);
}

/* After the account module said yes: its writes, or the refusal it made. */
static int finish(call_t *c, int rc)
{
    if (rc == ACCOUNT_EREFUSED)
        return APPLY_REJECTED;
    return rc ? rc : staging_commit_account(c->self, c->txn, &c->self->account, c->now_ms);
}

static int open_account(call_t *c, const Arrears__AccountEvent *ev)
{
    staging_t *s = c->self;
    int rc = validate_account_upsert(ev->upsert, &s->limits, s->zones, c->reject);
    if (rc != 0)
        return APPLY_REJECTED;
    rc = use_policy(c, ev->upsert->currency);
    if (rc != 0)
        return rc;
    int32_t today;
    if (staging_day_of(s, ev->upsert->borrower->time_zone, c->now_ms, &today) != 0)
        return refused(c->reject, ARREARS__REJECT__CODE__BUSY, "borrower.time_zone",
                       "the time zone cannot be read now");
    effects_clear(&s->fx);
    rc = account_open(&s->account, s->policy, ev, 0, today, c->now_ms, &s->fx, c->reject);
    if (rc == ACCOUNT_EREFUSED)
        return finish(c, rc);
    rc = ledger_create(s->ledger, c->txn, ev->platform, ev->account_ref, &s->account.id);
    rc = rc ? rc : ledger_put_borrower(s->ledger, c->txn, s->account.id, ev->upsert->borrower);
    rc = rc ? rc : ledger_index_person(s->ledger, c->txn, &s->account);
    return finish(c, rc);
}

static int upsert(call_t *c, const Arrears__AccountEvent *ev)
{
    staging_t *s = c->self;
    uint64_t id;
    int rc = ledger_find(s->ledger, c->txn, ev->platform, ev->account_ref, &id);
    if (rc == LEDGER_ENOTFOUND)
        return open_account(c, ev);
    if (rc != 0)
        return rc;
    if (validate_account_upsert(ev->upsert, &s->limits, s->zones, c->reject) != 0)
        return APPLY_REJECTED;
    int32_t today;
    rc = load(c, ev->platform, ev->account_ref, &today);
    if (rc != 0)
        return rc;
    uint64_t before = s->account.version;
    rc = account_update(&s->account, s->policy, ev, today, c->now_ms, &s->fx, c->reject);
    if (rc == 0 && s->account.version != before) {
        rc = ledger_put_borrower(s->ledger, c->txn, s->account.id, ev->upsert->borrower);
        rc = rc ? rc : ledger_index_person(s->ledger, c->txn, &s->account);
    }
    return finish(c, rc);
}

static int payment(call_t *c, const Arrears__AccountEvent *ev)
{
    staging_t *s = c->self;
    const Arrears__PaymentPosted *p = ev->payment;
    /* intake's clock stamped it; staging re-checks the content, not the time. */
    if (validate_payment(p, INT64_MAX, &s->limits, c->reject) != 0)
        return APPLY_REJECTED;
    int32_t today;
    int rc = load(c, ev->platform, ev->account_ref, &today);
    if (rc != 0)
        return rc;
    rc = account_pay(&s->account, s->policy, "platform", p->payment_ref, p->amount_minor,
                     p->currency, today, c->now_ms, &s->fx, c->reject);
    if (rc != 0)
        return finish(c, rc);
    bool seen = false;
    rc = ledger_note_payment(s->ledger, c->txn, s->account.id, p->payment_ref, p->amount_minor, &seen);
    if (rc == 0 && seen)
        return APPLY_DUPLICATE;   /* nothing was written: the ref was there */
    return finish(c, rc);
}

/* The kinds u lists replaced on the loaded account's borrower record, which contact
 * requests read (emit.c), and the account's count of usable points recomputed from it.
 * A platform's ContactUpdate and an operator's CORRECT_CONTACT both come here, u valid
 * and every other check passed: this is where they write. */
static int replace_contact(call_t *c, const Arrears__ContactUpdate *u)
{
    staging_t *s = c->self;
    Arrears__Borrower *b = NULL;
    int rc = ledger_get_borrower(s->ledger, c->txn, s->account.id, &b);
    if (rc != 0 || !b)
        return rc ? rc : refused(c->reject, ARREARS__REJECT__CODE__CONFLICT, "account_ref",
                                 "the account has no borrower on record");
    Arrears__Borrower merged = *b;
    if (u->n_phones || u->clear_phones)
        merged.n_phones = u->n_phones, merged.phones = u->phones;
    if (u->n_emails || u->clear_emails)
        merged.n_emails = u->n_emails, merged.emails = u->emails;
    if (u->address)
        merged.address = u->address;
    s->account.contact_points = account_contact_points(&merged);
    rc = ledger_put_borrower(s->ledger, c->txn, s->account.id, &merged);
    arrears__borrower__free_unpacked(b, NULL);
    return rc;
}

static int contact_update(call_t *c, const Arrears__AccountEvent *ev)
{
    staging_t *s = c->self;
    if (validate_contact_update(ev->contact, &s->limits, c->reject) != 0)
        return APPLY_REJECTED;
    int32_t today;
    int rc = load(c, ev->platform, ev->account_ref, &today);
    rc = rc ? rc : replace_contact(c, ev->contact);
    return rc ? rc : finish(c, account_contact_update(&s->account, today, &s->fx));
}

static int account_event(call_t *c, const Arrears__AccountEvent *ev)
{
    int32_t today;
    int rc;
    switch (ev->event_case) {
    case ARREARS__ACCOUNT_EVENT__EVENT_UPSERT: return upsert(c, ev);
    case ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT: return payment(c, ev);
    case ARREARS__ACCOUNT_EVENT__EVENT_CONTACT: return contact_update(c, ev);
    case ARREARS__ACCOUNT_EVENT__EVENT_COMPLAINT:
        if (validate_complaint(ev->complaint, INT64_MAX, &c->self->limits, c->reject) != 0)
            return APPLY_REJECTED;
        rc = load(c, ev->platform, ev->account_ref, &today);
        return rc ? rc : finish(c, account_complaint(&c->self->account, c->self->policy, "platform",
                                                     ev->complaint->kind == ARREARS__COMPLAINT_KIND__DISPUTE,
                                                     ev->complaint->complaint_ref, today, &c->self->fx));
    case ARREARS__ACCOUNT_EVENT__EVENT_RECALL:
        rc = load(c, ev->platform, ev->account_ref, &today);
        return rc ? rc : finish(c, account_recall(&c->self->account, c->self->policy, today,
                                                  c->now_ms, &c->self->fx, c->reject));
    default:
        return refused(c->reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "event",
                       "an account event with no event this version knows");
    }
}

static int legal_update(call_t *c, const Arrears__LegalUpdate *u)
{
    staging_t *s = c->self;
    int32_t today;
    int rc = load(c, u->platform, u->account_ref, &today);
    if (rc != 0)
        return rc;
    Arrears__LegalUpdate m = *u;
    bool has_ref = m.recovery_minor > 0 && m.recovery_ref && *m.recovery_ref, seen = false;
    rc = has_ref ? ledger_payment_seen(s->ledger, c->txn, s->account.id, m.recovery_ref, &seen) : 0;
    if (rc != 0)
        return rc;
    if (seen)   /* the platform posted the same money under the same ref: counted once */
        m.recovery_minor = 0;
    rc = account_legal_update(&s->account, s->policy, &m, today, c->now_ms, &s->fx, c->reject);
    if (rc == 0 && has_ref && !seen)
        rc = ledger_note_payment(s->ledger, c->txn, s->account.id, m.recovery_ref, m.recovery_minor,
                                 &seen);
    return finish(c, rc);
}

/* Whether staging is catching up after a restore (catchup.h). */
static int catching_up(staging_t *self, MDB_txn *txn, bool *yes)
{
    held_state_t st;
    int rc = held_state(self->held, txn, aclock_monotonic_ms(), &st);
    *yes = rc == 0 && st.active;
    return rc;
}

/* A simulated clock moves when the driver says; the advance is acknowledged only once
 * the daily run reached the instant and nothing sent is still un-acknowledged. */
static int clock_advance(call_t *c, const Arrears__ClockAdvance *m)
{
    staging_t *s = c->self;
    if (!aclock_is_simulated(s->clock))
        return refused(c->reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "clock_advance",
                       "staging runs on the wall clock: it takes no clock advances");
    if (!m->has_to_ms || aclock_advance_to(s->clock, m->to_ms) != ACLOCK_OK)
        return refused(c->reject, ARREARS__REJECT__CODE__CONFLICT, "to_ms",
                       "the simulated clock never goes back");
    if (m->to_ms > s->advance_to_ms)
        s->advance_to_ms = m->to_ms;
    int64_t done = 0;
    bool behind = false;
    int rc = ledger_meta_get(s->ledger, c->txn, "run_done_ms", 0, &done);
    rc = rc ? rc : catching_up(s, c->txn, &behind);
    if (rc != 0)
        return rc;
    if (behind || done < m->to_ms || (s->unacked && s->unacked(s->unacked_arg) > 0))
        return refused(c->reject, ARREARS__REJECT__CODE__BUSY, "to_ms",
                       "advancing: the catch-up, the daily run or the outboxes have not "
                       "caught up yet");
    return ledger_meta_put(s->ledger, c->txn, "clock_ms", m->to_ms);
}

static int from_service(call_t *c, const Arrears__Envelope *env)
{
    staging_t *s = c->self;
    int32_t today;
    int rc;
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT: return account_event(c, env->account_event);
    case ARREARS__ENVELOPE__BODY_CONTACT_OUTCOME:
        rc = load(c, env->contact_outcome->platform, env->contact_outcome->account_ref, &today);
        return rc ? rc : finish(c, account_outcome(&s->account, s->policy, env->contact_outcome,
                                                   today, c->now_ms, &s->fx, c->reject));
    case ARREARS__ENVELOPE__BODY_LEGAL_UPDATE: return legal_update(c, env->legal_update);
    case ARREARS__ENVELOPE__BODY_SALE_RESULT:
        rc = load(c, env->sale_result->platform, env->sale_result->account_ref, &today);
        return rc ? rc : finish(c, account_sale_result(&s->account, s->policy, env->sale_result,
                                                       today, c->now_ms, &s->fx, c->reject));
    case ARREARS__ENVELOPE__BODY_OPERATOR_ACTION:
    case ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE:
        return refused(c->reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "body",
                       "operator actions and clock advances come from operators only");
    default:
        return refused(c->reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                       "staging takes account events, contact outcomes, legal updates and sale results from services");
    }
}

static int from_operator(call_t *c, const Arrears__Envelope *env)
{
    staging_t *s = c->self;
    if (env->body_case == ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE)
        return clock_advance(c, env->clock_advance);
    if (env->body_case != ARREARS__ENVELOPE__BODY_OPERATOR_ACTION)
        return refused(c->reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "body",
                       "operators send operator actions and clock advances only");
    const Arrears__OperatorAction *a = env->operator_action;
    /* CORRECT_CONTACT is a platform's ContactUpdate in the operator's name: the same
     * checks first, the account module's audit (reason, entry) next, the same write. */
    bool contact = a->kind == ARREARS__OPERATOR_ACTION__KIND__CORRECT_CONTACT;
    Arrears__ContactUpdate u = ARREARS__CONTACT_UPDATE__INIT;
    u.account_ref = a->account_ref;
    u.n_phones = a->n_phones, u.phones = a->phones;
    u.n_emails = a->n_emails, u.emails = a->emails;
    u.address = a->address;
    if (contact && validate_contact_update(&u, &s->limits, c->reject) != 0)
        return APPLY_REJECTED;
    int32_t today;
    int rc = load(c, a->platform, a->account_ref, &today);
    rc = rc ? rc : account_operator(&s->account, s->policy, c->from->principal, a, today,
                                    c->now_ms, &s->fx, c->reject);
    if (rc == 0 && contact)
        rc = replace_contact(c, &u);
    return finish(c, rc);
}

int staging_apply_at(staging_t *self, MDB_txn *txn, const receiver_peer_t *from,
                     const Arrears__Envelope *env, int64_t at_ms, reject_t *reject)
{
    call_t c = {self, txn, from, reject, at_ms};
    bool room = false;
    int rc = staging_has_room(self, txn, &room);
    if (rc != 0)
        return rc;
    if (!room)
        return refused(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                       "staging's outboxes are full: its receivers are behind; retry later");
    if (strcmp(from->role, "service") == 0)
        return from_service(&c, env);
    if (strcmp(from->role, "operator") == 0)
        return from_operator(&c, env);
    return refused(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                   "this principal's role may not send to staging");
}

int staging_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                  const Arrears__Envelope *env, reject_t *reject)
{
    staging_t *s = app;
    applied_t first;
    uint64_t through = 0;
    bool busy = false;
    if (strcmp(from->role, "service") == 0 && envelope_replay_of(env, &first, &through))
        return held_put(s->held, txn, from, env, &first, through);
    /* A clock advance moves the clock first, then waits (clock_advance). */
    int rc = env->body_case == ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE ? 0
                                                                     : catching_up(s, txn, &busy);
    if (rc != 0)
        return rc;
    if (busy)
        return refused(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                       "staging is catching up after a restore: what it lost comes first");
    return staging_apply_at(s, txn, from, env, aclock_now_ms(s->clock), reject);
}
