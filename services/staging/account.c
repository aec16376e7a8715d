/* account: the events that move an account (see account.h); the day's work is in
 * evaluate.c. */
#include "account.h"

#include <assert.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "account_fx.h"
#include "money.h"
#include "tz.h"

void account_init(account_t *self)
{
    memset(self, 0, sizeof *self);
    int rc = book_init(&self->book, self->instalments, BOOK_MAX_INSTALMENTS);
    assert(rc == BOOK_OK);
    (void)rc;
    holds_init(&self->holds);
    arrangement_init(&self->arrangement);
    self->stage = STAGE_CURRENT;
    self->stage_since_day = ACCOUNT_DAY_NONE;
    self->evaluated_day = ACCOUNT_DAY_NONE;
    self->last_payment_day = ACCOUNT_DAY_NONE;
    self->first_missed_due_day = ACCOUNT_DAY_NONE;
    self->legal_returned_day = ACCOUNT_DAY_NONE;
    self->sale_returned_day = ACCOUNT_DAY_NONE;
    self->stats.closed_day = ACCOUNT_DAY_NONE;
    for (size_t i = 0; i < STRATEGY_MAX_ACTIONS; i++)
        self->action_last_day[i] = ACCOUNT_DAY_NONE;
}

void effects_clear(effects_t *fx) { fx->count = 0; }

int64_t account_outstanding(const account_t *self)
{
    int64_t total = 0;
    return book_outstanding_total(&self->book, &total) == BOOK_OK ? total : INT64_MAX;
}

int64_t account_overdue(const account_t *self, int32_t day)
{
    int64_t total = 0;
    return book_overdue_total(&self->book, day, &total) == BOOK_OK ? total : INT64_MAX;
}

bool account_is_closed(const account_t *self) { return stage_is_terminal(self->stage); }

/* ---------------------------------------------------------------- effects */

effect_t *fx_push(effects_t *fx, effect_kind_t kind, const account_t *self, int32_t day,
                  const char *actor)
{
    assert(fx->count < ACCOUNT_EFFECTS_MAX);
    effect_t *e = &fx->items[fx->count++];
    e->kind = kind;
    e->day = day;
    e->stage = self->stage;
    e->what = "";
    snprintf(e->actor, sizeof e->actor, "%s", actor ? actor : "staging");
    e->reason[0] = '\0';
    e->reference[0] = '\0';
    e->amount_minor = 0;
    e->feed_kind = 0;
    e->peer = PEER_LEGAL;
    e->notice_kind = 0;
    e->action = NULL;
    return e;
}

void fx_entry(effects_t *fx, const account_t *self, int32_t day, const char *actor,
              const char *what, int64_t amount_minor, const char *reference,
              const char *fmt, ...)
{
    effect_t *e = fx_push(fx, EFFECT_ENTRY, self, day, actor);
    e->what = what;
    e->amount_minor = amount_minor;
    snprintf(e->reference, sizeof e->reference, "%s", reference ? reference : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
}

void fx_status(effects_t *fx, const account_t *self, int32_t day, int feed_kind,
               int64_t amount_minor, const char *reference, const char *detail)
{
    effect_t *e = fx_push(fx, EFFECT_STATUS, self, day, NULL);
    e->feed_kind = feed_kind;
    e->what = detail ? detail : "";
    e->amount_minor = amount_minor;
    snprintf(e->reference, sizeof e->reference, "%s", reference ? reference : "");
}

/* Each peer's word for each news (0: the peer is not told). */
static const int peer_kind[][NEWS_COUNT] = {
    [PEER_LEGAL] = {
        [NEWS_PAYMENT] = ARREARS__CASE_NOTICE_KIND__NOTICE_PAYMENT,
        [NEWS_COMPLAINT] = ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT,
        [NEWS_DISPUTE] = ARREARS__CASE_NOTICE_KIND__NOTICE_DISPUTE,
        [NEWS_CLOSED] = ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED,
    },
    [PEER_SALE] = {
        [NEWS_PAYMENT] = ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT,
        [NEWS_DISPUTE] = ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_DISPUTE,
        [NEWS_CLOSED] = ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_CLOSED,
        [NEWS_INELIGIBLE] = ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_INELIGIBLE,
    },
};
static const char *const peer_names[] = {[PEER_LEGAL] = "legal", [PEER_SALE] = "sale"};

void fx_notice(effects_t *fx, const account_t *self, stage_t stage_was, int32_t day,
               const char *actor, news_t news, int64_t amount_minor, const char *reference,
               const char *detail)
{
    peer_t peer;
    if (stage_was == STAGE_LEGAL)
        peer = PEER_LEGAL;
    else if (stage_was == STAGE_SALE)
        peer = PEER_SALE;
    else
        return;
    if (strcmp(actor, peer_names[peer]) == 0 || peer_kind[peer][news] == 0)
        return;
    effect_t *e = fx_push(fx, EFFECT_NOTICE, self, day, actor);
    e->peer = peer;
    e->notice_kind = peer_kind[peer][news];
    e->amount_minor = amount_minor;
    snprintf(e->reference, sizeof e->reference, "%s", reference ? reference : "");
    snprintf(e->reason, sizeof e->reason, "%s", detail ? detail : "");
}

/* The account's latest contact request's id, its natural key at the broker. */
static void latest_contact_id(const account_t *self, effect_t *e)
{
    snprintf(e->reference, sizeof e->reference, "%s#%u", self->account_ref, self->contact_seq);
}

void fx_cancel(effects_t *fx, account_t *self, int32_t day, const char *reason)
{
    if (!self->contact_pending)
        return;
    effect_t *e = fx_push(fx, EFFECT_CANCEL, self, day, NULL);
    snprintf(e->reason, sizeof e->reason, "%s", reason);
    latest_contact_id(self, e);   /* what it cancels: that request and those before */
    self->contact_pending = false;
}

effect_t *fx_contact(effects_t *fx, account_t *self, int32_t day,
                     const strategy_action_t *action)
{
    self->contact_seq++;
    self->stats.contacts++;
    effect_t *e = fx_push(fx, EFFECT_CONTACT, self, day, NULL);
    e->action = action;
    latest_contact_id(self, e);
    return e;
}

/* ---------------------------------------------------------------- opening */

static bool refuse(reject_t *reject, Arrears__Reject__Code code, const char *field,
                   const char *why)
{
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, code, field, "%s", why);
    return false;
}

uint32_t account_contact_points(const Arrears__Borrower *b)
{
    uint32_t n = 0;
    for (size_t i = 0; i < b->n_phones; i++)
        n += b->phones[i]->verified && b->phones[i]->consent;
    for (size_t i = 0; i < b->n_emails; i++)
        n += b->emails[i]->verified && b->emails[i]->consent;
    return n;
}

/* BLAKE2b-128 of platform, NUL, id-number hash: the person across their accounts. */
static void person_key_of(const char *platform, const ProtobufCBinaryData *id_hash,
                          uint8_t out[ACCOUNT_PERSON_KEY_BYTES])
{
    crypto_generichash_state state;
    crypto_generichash_init(&state, NULL, 0, ACCOUNT_PERSON_KEY_BYTES);
    crypto_generichash_update(&state, (const unsigned char *)platform, strlen(platform) + 1);
    crypto_generichash_update(&state, id_hash->data, id_hash->len);
    crypto_generichash_final(&state, out, ACCOUNT_PERSON_KEY_BYTES);
}

/* What an instalment of a new version keeps from the old one with the same due day:
 * the penalty arrears accrued (the platform does not know it), and the money paid on
 * each component, as the larger of the platform's paid and ours (the platform may or
 * may not count the payments it posted to us). Money that no longer fits the new
 * amounts owed goes to *spill_minor, for the credit: a new version never loses money. */
static void carry_over(book_instalment_t *inst, const book_instalment_t *was, int64_t *spill_minor)
{
    inst->owed_minor[BOOK_PENALTY] = was->owed_minor[BOOK_PENALTY];
    inst->penalty_carry = was->penalty_carry;
    for (int c = 0; c < BOOK_COMPONENTS; c++) {
        int64_t paid = was->paid_minor[c] > inst->paid_minor[c] ? was->paid_minor[c]
                                                                 : inst->paid_minor[c];
        int64_t kept = paid < inst->owed_minor[c] ? paid : inst->owed_minor[c];
        *spill_minor += was->paid_minor[c] > kept ? was->paid_minor[c] - kept : 0;
        inst->paid_minor[c] = kept;
    }
}

/* Money paid on an old instalment the new version dropped. */
static int64_t paid_on(const book_instalment_t *was)
{
    int64_t total = 0;
    for (int c = 0; c < BOOK_COMPONENTS; c++)
        total += was->paid_minor[c];
    return total;
}

static void install_book(account_t *self, const book_t *book)
{
    memcpy(self->instalments, book->instalments, book->count * sizeof book->instalments[0]);
    self->book.count = book->count;
    self->book.credit_minor = book->credit_minor;
    self->book.penalty_next_day = book->penalty_next_day;
    self->book.cap_window_start_day = book->cap_window_start_day;
    self->book.cap_window_penalty_minor = book->cap_window_penalty_minor;
}

/* The schedule into a fresh book; old (may be NULL: a first version) lends what
 * carry_over keeps, its credit and its penalty state. */
static bool build_book(account_t *self, const account_policy_t *policy,
                       const Arrears__AccountUpsert *u, const book_t *old, reject_t *reject)
{
    book_t book;
    static book_instalment_t scratch[BOOK_MAX_INSTALMENTS];   /* single-threaded service */
    book_init(&book, scratch, BOOK_MAX_INSTALMENTS);
    size_t j = 0;
    int64_t spill = 0;   /* bounded: the old book's paid amounts sum within int64 (book.h) */
    for (size_t i = 0; i < u->n_schedule; i++) {
        const Arrears__Instalment *in = u->schedule[i];
        int64_t day;
        char field[32], why[96];
        snprintf(field, sizeof field, "schedule[%zu]", i);
        if (!tz_date_parse(in->due_date, 1970, 2200, &day, why, sizeof why))
            return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, field, why);
        book_instalment_t inst;
        int rc = book_instalment_make(day, in->principal_minor, in->interest_minor,
                                      in->fees_minor, in->paid_minor, &policy->waterfall, &inst);
        for (; rc == BOOK_OK && old && j < old->count && old->instalments[j].due_day < day; j++)
            spill += paid_on(&old->instalments[j]);
        if (rc == BOOK_OK && old && j < old->count && old->instalments[j].due_day == day)
            carry_over(&inst, &old->instalments[j++], &spill);
        rc = rc ? rc : book_add_instalment(&book, &inst);
        if (rc != BOOK_OK)
            return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, field, book_strerror(rc));
    }
    for (; old && j < old->count; j++)
        spill += paid_on(&old->instalments[j]);
    if (old) {
        if (money_add(old->credit_minor, spill, &book.credit_minor) != MONEY_OK)
            return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "schedule",
                          "the credit would pass int64 minor units");
        book.penalty_next_day = old->penalty_next_day;
        book.cap_window_start_day = old->cap_window_start_day;
        book.cap_window_penalty_minor = old->cap_window_penalty_minor;
    }
    install_book(self, &book);
    return true;
}

static bool terms_of(const account_policy_t *policy, const Arrears__AccountUpsert *u,
                     penalty_terms_t *terms, reject_t *reject)
{
    const Arrears__ContractRates *r = u->rates;
    terms->rate_bps = r ? r->penalty_bps : 0;
    terms->period = r && r->penalty_period ? (penalty_period_t)r->penalty_period : PENALTY_PER_DAY;
    terms->cap_bps = r && r->penalty_cap_bps > 0 ? r->penalty_cap_bps : policy->default_cap_bps;
    terms->frozen = false;
    if (!penalty_terms_valid(terms))
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "rates",
                      "penalty rate, period or cap out of range");
    return true;
}

/* The checks at staging's door: what intake validates, again, for an older intake. */
static bool upsert_acceptable(const Arrears__AccountEvent *ev, reject_t *reject)
{
    if (!ev->upsert || !ev->upsert->borrower)
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "upsert",
                      "an account event without the account");
    const Arrears__AccountUpsert *u = ev->upsert;
    if (!u->currency || !money_currency_known(u->currency))
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "currency",
                      "not an ISO 4217 currency");
    if (!u->borrower->time_zone || !tz_name_valid(u->borrower->time_zone) ||
        strlen(u->borrower->time_zone) > ACCOUNT_TZ_MAX)
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "borrower.time_zone",
                      "not an IANA time zone name");
    if (u->n_schedule == 0 || u->n_schedule > BOOK_MAX_INSTALMENTS)
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "schedule",
                      "a schedule holds 1 to 600 instalments");
    return true;
}

/* Flags that are holds: placed when the platform sets them, lifted when it clears them. */
static void apply_flag_holds(account_t *self, const Arrears__AccountFlags *f, int32_t day,
                             effects_t *fx)
{
    static const struct { hold_kind_t kind; size_t offset; } map[] = {
        {HOLD_BANKRUPTCY, offsetof(Arrears__AccountFlags, bankrupt)},
        {HOLD_DECEASED, offsetof(Arrears__AccountFlags, deceased)},
        {HOLD_CEASE_CONTACT, offsetof(Arrears__AccountFlags, cease_contact)},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        bool set = f && *(const protobuf_c_boolean *)((const char *)f + map[i].offset);
        bool held = holds_has(&self->holds, map[i].kind);
        if (set && !held) {
            holds_place(&self->holds, map[i].kind, day, STAGE_NO_DAY);
            fx_entry(fx, self, day, "platform", "hold", 0, NULL,
                     "%s hold placed: the platform flagged the account",
                     hold_name(map[i].kind));
            fx_cancel(fx, self, day, "hold placed");
            fx_status(fx, self, day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, NULL,
                      hold_name(map[i].kind));
        } else if (!set && held) {
            holds_lift(&self->holds, map[i].kind);
            fx_entry(fx, self, day, "platform", "hold_lifted", 0, NULL,
                     "%s hold lifted: the platform cleared the flag", hold_name(map[i].kind));
            fx_status(fx, self, day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, NULL, "released");
        }
    }
}

static void take_borrower_terms(account_t *self, const Arrears__AccountUpsert *u,
                                const penalty_terms_t *terms)
{
    const Arrears__Borrower *b = u->borrower;
    self->product = (int)u->product;
    snprintf(self->currency, sizeof self->currency, "%s", u->currency);
    snprintf(self->time_zone, sizeof self->time_zone, "%s", b->time_zone);
    const char *country = b->address && b->address->country ? b->address->country : "";
    snprintf(self->jurisdiction, sizeof self->jurisdiction, "%s", country);
    self->contact_points = account_contact_points(b);
    self->penalty = *terms;
    self->interest_bps = u->rates ? u->rates->interest_bps : 0;
    self->interest_period = u->rates ? (int)u->rates->interest_period : 0;
    self->vulnerable = u->flags && u->flags->vulnerable;
    self->may_refer_to_legal = u->mandate && u->mandate->may_refer_to_legal;
    self->may_sell = u->mandate && u->mandate->may_sell;
    self->has_person = b->has_id_number_hash && b->id_number_hash.len > 0;
    if (self->has_person)
        person_key_of(self->platform, &b->id_number_hash, self->person_key);
}

int account_open(account_t *self, const account_policy_t *policy,
                 const Arrears__AccountEvent *ev, uint64_t id, int32_t today_day,
                 int64_t now_ms, effects_t *fx, reject_t *reject)
{
    penalty_terms_t terms;
    if (!upsert_acceptable(ev, reject) || !terms_of(policy, ev->upsert, &terms, reject))
        return ACCOUNT_EREFUSED;
    account_init(self);
    if (!build_book(self, policy, ev->upsert, NULL, reject))
        return ACCOUNT_EREFUSED;
    self->id = id;
    self->version = ev->version ? ev->version : 1;
    snprintf(self->platform, sizeof self->platform, "%s", ev->platform);
    snprintf(self->account_ref, sizeof self->account_ref, "%s", ev->account_ref);
    take_borrower_terms(self, ev->upsert, &terms);
    self->arm = strategy_arm_for(policy->strategy, self->platform, self->account_ref);
    self->stage_since_day = today_day;
    self->stats.entered_at_ms = now_ms;
    self->stats.entered_day = today_day;
    self->stats.overdue_at_entry_minor = account_overdue(self, today_day);
    fx_entry(fx, self, today_day, "platform", "opened", account_outstanding(self), NULL,
             "version %llu: %zu instalments, outstanding %lld %s, overdue %lld; arm %s",
             (unsigned long long)self->version, self->book.count,
             (long long)account_outstanding(self), self->currency,
             (long long)self->stats.overdue_at_entry_minor,
             strategy_arm_name(policy->strategy, self->arm));
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__ACCOUNT_ACCEPTED, 0, NULL, "opened");
    apply_flag_holds(self, ev->upsert->flags, today_day, fx);
    return account_evaluate(self, policy, today_day, now_ms, fx);
}

/* Why the account may not be sold now, or NULL: the facts an upsert can change that
 * rule a sale out (a dispute is its own news: account_complaint). */
static const char *sale_bar(const account_t *self)
{
    static const struct {
        hold_kind_t kind;
        const char *why;
    } bars[] = {
        {HOLD_BANKRUPTCY, "the borrower is bankrupt"},
        {HOLD_DECEASED, "the borrower is deceased"},
        {HOLD_LITIGATION, "the account is in litigation"},
    };
    for (size_t i = 0; i < sizeof bars / sizeof bars[0]; i++)
        if (holds_has(&self->holds, bars[i].kind))
            return bars[i].why;
    return self->may_sell ? NULL : "the platform's mandate no longer allows a sale";
}

int account_update(account_t *self, const account_policy_t *policy,
                   const Arrears__AccountEvent *ev, int32_t today_day, int64_t now_ms,
                   effects_t *fx, reject_t *reject)
{
    if (ev->version != 0 && ev->version <= self->version)
        return ACCOUNT_OK;   /* a version already seen: intake resent it */
    penalty_terms_t terms;
    if (!upsert_acceptable(ev, reject) || !terms_of(policy, ev->upsert, &terms, reject))
        return ACCOUNT_EREFUSED;
    if (strcmp(ev->upsert->currency, self->currency) != 0)
        return refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "currency",
                      "an account's currency cannot change"), ACCOUNT_EREFUSED;
    static book_instalment_t old_instalments[BOOK_MAX_INSTALMENTS];
    book_t old = self->book;
    memcpy(old_instalments, self->instalments, old.count * sizeof old_instalments[0]);
    old.instalments = old_instalments;
    if (!build_book(self, policy, ev->upsert, &old, reject))
        return ACCOUNT_EREFUSED;
    self->version = ev->version ? ev->version : self->version + 1;
    const char *barred_before = sale_bar(self);
    take_borrower_terms(self, ev->upsert, &terms);
    fx_entry(fx, self, today_day, "platform", "updated", account_outstanding(self), NULL,
             "version %llu: %zu instalments, outstanding %lld %s",
             (unsigned long long)self->version, self->book.count,
             (long long)account_outstanding(self), self->currency);
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__ACCOUNT_ACCEPTED, 0, NULL, "updated");
    apply_flag_holds(self, ev->upsert->flags, today_day, fx);
    const char *barred = sale_bar(self);
    if (barred && !barred_before)
        fx_notice(fx, self, self->stage, today_day, "platform", NEWS_INELIGIBLE, 0, NULL, barred);
    book_apply_credit(&self->book, &policy->waterfall, NULL);
    account_restage(self, policy, today_day, now_ms, fx);
    return ACCOUNT_OK;
}

/* ---------------------------------------------------------------- payments, holds */

static void note_payment_day(account_t *self, int32_t day)
{
    self->payment_days[self->payment_count % ACCOUNT_PAYMENT_DAYS] = day;
    self->payment_count++;
    self->last_payment_day = day;
}

/* What an arrangement made of a payment: kept, completed (a waiver takes effect), settled. */
static void settle_arrangement(account_t *self, const account_policy_t *policy,
                               int64_t amount_minor, int32_t today_day, int64_t now_ms,
                               effects_t *fx)
{
    arrangement_kind_t kind = self->arrangement.kind;
    arrangement_decision_t d;
    arrangement_outcome_t out = arrangement_payment(strategy_arrangement_policy(policy->strategy),
                                                    &self->arrangement, amount_minor,
                                                    today_day, &d);
    account_note_decision(self, kind, &d, today_day, "staging", NULL, 0, fx);
    char reason[ACCOUNT_REASON_MAX];
    if (out == ARRANGEMENT_KEPT) {
        self->stats.promises_kept += kind == ARRANGEMENT_KIND_PROMISE;
        fx_entry(fx, self, today_day, "staging", "promise_kept", 0, NULL, "%s", d.reason);
    } else if (out == ARRANGEMENT_COMPLETED) {
        int64_t waived = 0;
        if (self->arrangement.waive_penalty)
            book_waive_outstanding(&self->book, BOOK_PENALTY, &waived);
        fx_entry(fx, self, today_day, "staging", "plan_completed", waived, NULL,
                 "%s; penalty waived %lld", d.reason, (long long)waived);
    } else if (out == ARRANGEMENT_SETTLED) {
        fx_entry(fx, self, today_day, "staging", "settlement", 0, NULL, "%s", d.reason);
        account_move(self, policy, STAGE_EVENT_SETTLED, today_day, now_ms, "staging", "stage",
                     fx, reason, sizeof reason);
    }
}

int account_pay(account_t *self, const account_policy_t *policy, const char *actor,
                const char *reference, int64_t amount_minor, const char *currency,
                int32_t today_day, int64_t now_ms, effects_t *fx, reject_t *reject)
{
    if (amount_minor <= 0)
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "amount_minor",
                      "a payment must be more than 0"), ACCOUNT_EREFUSED;
    if (!currency || strcmp(currency, self->currency) != 0)
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "currency",
                      "the payment's currency is not the account's"), ACCOUNT_EREFUSED;
    book_allocation_t alloc;
    int rc = book_apply_payment(&self->book, &policy->waterfall, amount_minor, &alloc);
    if (rc != BOOK_OK)
        return refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "amount_minor",
                      book_strerror(rc)), ACCOUNT_EREFUSED;
    note_payment_day(self, today_day);
    self->stats.collected_minor += amount_minor;
    fx_entry(fx, self, today_day, actor, "payment", amount_minor, reference,
             "fees %lld, penalty %lld, interest %lld, principal %lld, credit %lld; outstanding %lld",
             (long long)alloc.component_minor[BOOK_FEES],
             (long long)alloc.component_minor[BOOK_PENALTY],
             (long long)alloc.component_minor[BOOK_INTEREST],
             (long long)alloc.component_minor[BOOK_PRINCIPAL], (long long)alloc.credit_minor,
             (long long)account_outstanding(self));
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__PAYMENT_APPLIED, amount_minor,
              reference, NULL);
    char outstanding[ACCOUNT_REASON_MAX];
    snprintf(outstanding, sizeof outstanding, "outstanding %lld after it",
             (long long)account_outstanding(self));
    fx_notice(fx, self, self->stage, today_day, actor, NEWS_PAYMENT, amount_minor, reference,
              outstanding);
    fx_cancel(fx, self, today_day, "payment received");
    settle_arrangement(self, policy, amount_minor, today_day, now_ms, fx);
    account_restage(self, policy, today_day, now_ms, fx);
    return ACCOUNT_OK;
}

int account_contact_update(account_t *self, int32_t today_day, effects_t *fx)
{
    fx_entry(fx, self, today_day, "platform", "updated", 0, NULL,
             "contact details corrected: %u verified and consented points",
             self->contact_points);
    return ACCOUNT_OK;
}

int account_complaint(account_t *self, const account_policy_t *policy, const char *actor,
                      bool dispute, const char *reference, int32_t today_day, effects_t *fx)
{
    hold_kind_t kind = dispute ? HOLD_DISPUTE : HOLD_COMPLAINT;
    int32_t days = dispute ? policy->dispute_response_days : policy->complaint_response_days;
    holds_place(&self->holds, kind, today_day, today_day + days);
    self->hold_overdue_noted &= ~HOLD_BIT(kind);
    self->stats.complaints++;
    char due[TZ_DATE_LEN + 1], why[ACCOUNT_REASON_MAX];
    tz_date_format(self->holds.deadline_day[kind], due);
    snprintf(why, sizeof why,
             "%s received: contact held until it is resolved; answer due by %s",
             hold_name(kind), due);
    fx_entry(fx, self, today_day, actor, "hold", 0, reference, "%s", why);
    fx_notice(fx, self, self->stage, today_day, actor, dispute ? NEWS_DISPUTE : NEWS_COMPLAINT,
              0, reference, why);
    fx_cancel(fx, self, today_day, "hold placed");
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, reference,
              hold_name(kind));
    return ACCOUNT_OK;
}

int account_recall(account_t *self, const account_policy_t *policy, int32_t today_day, int64_t now_ms,
                   effects_t *fx, reject_t *reject)
{
    /* The platform's free-text reason may be personal: it stays out of the record. */
    char why[ACCOUNT_REASON_MAX];
    if (!account_move(self, policy, STAGE_EVENT_RECALLED, today_day, now_ms, "platform", "stage",
                      fx, why, sizeof why))
        return refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "account_ref", why),
               ACCOUNT_EREFUSED;
    fx_entry(fx, self, today_day, "platform", "recalled", account_outstanding(self), NULL,
             "the platform took the account back");
    return ACCOUNT_OK;
}

const char *account_arrangement_text(const account_t *self)
{
    static char text[ACCOUNT_REASON_MAX];
    static const char *const kinds[] = {"none", "promise", "plan", "settlement"};
    static const char *const states[] = {"", "pending", "awaiting approval", "kept", "broken",
                                         "completed"};
    const arrangement_t *a = &self->arrangement;
    if (a->kind == ARRANGEMENT_KIND_NONE)
        return "none";
    char due[TZ_DATE_LEN + 1] = "";
    if (a->due_day != ACCOUNT_DAY_NONE && a->due_day != 0)
        tz_date_format(a->due_day, due);
    snprintf(text, sizeof text, "%s %s: %lld by %s, %lld paid toward it", kinds[a->kind],
             states[a->state], (long long)a->amount_minor, due, (long long)a->paid_minor);
    return text;
}

const char *account_strerror(int code)
{
    switch (code) {
    case ACCOUNT_OK: return "ok";
    case ACCOUNT_EREFUSED: return "refused (see the reject's reason)";
    default: return "unknown account error";
    }
}
