/* emit: an account's effects (account.h) as stored timeline entries and as messages in
 * staging's outboxes, all in the caller's transaction. A referral and a listing carry
 * the account's statement (statement.h) with the borrower and the collection record
 * from storage. */
#include <stdio.h>
#include <string.h>

#include "staging.h"

typedef struct {
    staging_t *self;
    MDB_txn *txn;
    account_t *account;
    int64_t now_ms;
} emit_t;

static int append(emit_t *c, staging_outbox_t which, Arrears__Envelope *env)
{
    uint64_t seq;
    return outbox_append(c->self->out[which], c->txn, env, c->now_ms, &seq);
}

static void copy_verified(Arrears__ContactPoint **in, size_t n, Arrears__ContactPoint **out,
                          size_t *n_out)
{
    *n_out = 0;
    for (size_t i = 0; i < n && i < 8; i++)
        if (in[i]->verified && in[i]->consent && !in[i]->third_party)
            out[(*n_out)++] = in[i];
}

/* The person key every message about an account carries, when the account has one. */
static protobuf_c_boolean person_key_of(const account_t *a, ProtobufCBinaryData *key)
{
    *key = (ProtobufCBinaryData){ACCOUNT_PERSON_KEY_BYTES, (uint8_t *)a->person_key};
    return a->has_person;
}

/* The account's jurisdiction, or absent: an account without an address country has
 * none, and an empty string is not a country code to any receiver. */
static char *jurisdiction_or_null(const account_t *a)
{
    return a->jurisdiction[0] ? (char *)a->jurisdiction : NULL;
}

static int emit_contact(emit_t *c, const effect_t *e)
{
    const account_t *a = c->account;
    const account_policy_t *p = c->self->policy;
    Arrears__Borrower *b = NULL;
    int rc = ledger_get_borrower(c->self->ledger, c->txn, a->id, &b);
    if (rc != 0)
        return rc;
    Arrears__ContactRequest r = ARREARS__CONTACT_REQUEST__INIT;
    Arrears__ContactPoint *phones[8], *emails[8];
    r.platform = (char *)a->platform;
    r.account_ref = (char *)a->account_ref;
    r.contact_id = (char *)e->reference;
    r.has_channel = r.has_priority = r.has_mentions_legal = r.has_days_past_due = 1;
    r.has_outstanding_minor = r.has_requested_at_ms = r.has_vulnerable = 1;
    r.channel = (Arrears__Channel)(e->action->channel + 1);   /* strategy 0-based, proto 1-based */
    r.template_id = (char *)e->action->template_id;
    r.priority = e->action->priority;
    r.mentions_legal = e->action->mentions_legal;
    r.has_person_key = person_key_of(a, &r.person_key);
    r.time_zone = (char *)a->time_zone;
    r.stage = (char *)stage_name(a->stage);
    r.days_past_due = a->dpd;
    r.outstanding_minor = account_outstanding(a);
    r.currency = (char *)a->currency;
    r.requested_at_ms = c->now_ms;
    bool vulnerable = false;
    rc = ledger_person_vulnerable(c->self->ledger, c->txn, a, &vulnerable);
    if (rc != 0) {
        if (b)
            arrears__borrower__free_unpacked(b, NULL);
        return rc;
    }
    r.vulnerable = vulnerable;
    r.jurisdiction = jurisdiction_or_null(a);
    r.segment = (char *)segment_name(strategy_segments(p->strategy), a->segment);
    r.arm = (char *)strategy_arm_name(p->strategy, a->arm);
    if (b) {
        r.language = b->language;
        r.borrower_name = b->name;
        copy_verified(b->phones, b->n_phones, phones, &r.n_phones);
        copy_verified(b->emails, b->n_emails, emails, &r.n_emails);
        r.phones = phones;
        r.emails = emails;
        r.address = b->address;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CONTACT_REQUEST;
    env.contact_request = &r;
    rc = append(c, STAGING_TO_OUTREACH, &env);
    if (b)
        arrears__borrower__free_unpacked(b, NULL);
    return rc;
}

static int emit_cancel(emit_t *c, const effect_t *e)
{
    Arrears__ContactCancel m = ARREARS__CONTACT_CANCEL__INIT;
    m.platform = c->account->platform;
    m.account_ref = c->account->account_ref;
    m.reason = (char *)e->reason;
    m.has_cancelled_at_ms = 1;
    m.cancelled_at_ms = c->now_ms;
    m.through_contact_id = (char *)e->reference;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CONTACT_CANCEL;
    env.contact_cancel = &m;
    return append(c, STAGING_TO_OUTREACH, &env);
}

static int64_t outstanding_of(const account_t *a, book_component_t component)
{
    int64_t v = 0;
    book_outstanding(&a->book, component, &v);
    return v;
}

static void date_or_null(int32_t day, char buf[TZ_DATE_LEN + 1], char **out)
{
    *out = NULL;
    if (day == ACCOUNT_DAY_NONE)
        return;
    tz_date_format(day, buf);
    *out = buf;
}

/* What a referral and a listing both carry about the account, under the same field
 * names in both messages (legal.proto LegalReferral, sale.proto SaleListing): the book
 * by component, DPD, the last payment (paid: storage for its date), the borrower's
 * zone and person, and the holds their receiver re-checks before it takes the account. */
#define SET_ACCOUNT_FACTS(m, a, paid)                                                  \
    do {                                                                               \
        (m)->has_product = (m)->has_outstanding_minor = (m)->has_days_past_due = 1;    \
        (m)->has_principal_minor = (m)->has_interest_minor = 1;                        \
        (m)->has_penalty_minor = (m)->has_fees_minor = 1;                              \
        (m)->product = (Arrears__Product)(a)->product;                                 \
        (m)->currency = (char *)(a)->currency;                                         \
        (m)->outstanding_minor = account_outstanding(a);                               \
        (m)->principal_minor = outstanding_of((a), BOOK_PRINCIPAL);                    \
        (m)->interest_minor = outstanding_of((a), BOOK_INTEREST);                      \
        (m)->penalty_minor = outstanding_of((a), BOOK_PENALTY);                        \
        (m)->fees_minor = outstanding_of((a), BOOK_FEES);                              \
        (m)->days_past_due = (a)->dpd;                                                 \
        date_or_null((a)->last_payment_day, (paid), &(m)->last_payment_date);          \
        (m)->time_zone = (char *)(a)->time_zone;                                       \
        (m)->has_person_key = person_key_of((a), &(m)->person_key);                    \
        (m)->has_bankrupt = (m)->has_deceased = (m)->has_dispute_open = 1;             \
        (m)->bankrupt = holds_has(&(a)->holds, HOLD_BANKRUPTCY);                       \
        (m)->deceased = holds_has(&(a)->holds, HOLD_DECEASED);                         \
        (m)->dispute_open = holds_has(&(a)->holds, HOLD_DISPUTE);                      \
    } while (0)

/* A referral and the storage its fields point at. */
typedef struct {
    Arrears__LegalReferral m;
    char missed[TZ_DATE_LEN + 1], paid[TZ_DATE_LEN + 1];
} referral_t;

/* The account's facts, the day the limitation runs from, and the mandate legal
 * re-checks. */
static void referral_facts(const emit_t *c, const effect_t *e, referral_t *r)
{
    const account_t *a = c->account;
    Arrears__LegalReferral *m = &r->m;
    *m = (Arrears__LegalReferral)ARREARS__LEGAL_REFERRAL__INIT;
    m->platform = (char *)a->platform;
    m->account_ref = (char *)a->account_ref;
    m->has_referred_at_ms = m->has_broken_promises = m->has_may_refer_to_legal = 1;
    m->referred_at_ms = c->now_ms;
    SET_ACCOUNT_FACTS(m, a, r->paid);
    date_or_null(a->first_missed_due_day, r->missed, &m->first_missed_due_date);
    m->jurisdiction = jurisdiction_or_null(a);
    m->broken_promises = arrangement_broken_count(&a->arrangement);
    m->reason = (char *)e->reason;
    m->may_refer_to_legal = a->may_refer_to_legal;
}

/* The borrower a statement names, as staging holds it: the contact points passed on
 * are the ones staging may use itself (copy_verified), as in a contact request. */
typedef struct {
    Arrears__Borrower borrower;
    Arrears__ContactPoint *phones[8], *emails[8];
} statement_borrower_t;

static void attach_borrower(statement_borrower_t *sb, Arrears__CaseStatement *s,
                            const Arrears__Borrower *b)
{
    sb->borrower = *b;
    copy_verified(b->phones, b->n_phones, sb->phones, &sb->borrower.n_phones);
    copy_verified(b->emails, b->n_emails, sb->emails, &sb->borrower.n_emails);
    sb->borrower.phones = sb->phones;
    sb->borrower.emails = sb->emails;
    s->borrower = &sb->borrower;
}

/* The collection record, oldest first; when the whole of it would make env too large
 * for the outbox, the latest entries that fit, with record_first_seq where they start
 * (the fewer entries kept, the smaller the message: a binary search). */
static void attach_record(const outbox_t *out, Arrears__Envelope *env,
                          Arrears__CaseStatement *s, const ledger_entries_t *entries)
{
    s->record = entries->items;
    s->n_record = entries->count;
    if (entries->count == 0 || outbox_fits(out, env))
        return;   /* with no record to shorten, outbox_append judges the size */
    size_t lo = 1, hi = entries->count;   /* the first entry kept is in [lo, hi] */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        s->record = entries->items + mid;
        s->n_record = entries->count - mid;
        if (outbox_fits(out, env))
            hi = mid;
        else
            lo = mid + 1;
    }
    s->record = entries->items + lo;
    s->n_record = entries->count - lo;
    s->has_record_first_seq = 1;
    s->record_first_seq = entries->items[lo - 1]->seq + 1;
}

/* Appends env to outbox which with the account's statement of account as of day in
 * *slot (the referral's statement, the listing's file): the book from statement.h, the
 * borrower and the collection record from storage. */
static int append_with_statement(emit_t *c, staging_outbox_t which, Arrears__Envelope *env,
                                 Arrears__CaseStatement **slot, int32_t day)
{
    staging_t *s = c->self;
    statement_build(&s->statement, c->account, day);
    *slot = &s->statement.msg;
    statement_borrower_t sb;
    Arrears__Borrower *b = NULL;
    ledger_entries_t entries = {0};
    int rc = ledger_get_borrower(s->ledger, c->txn, c->account->id, &b);
    if (rc == 0 && b)
        attach_borrower(&sb, *slot, b);
    rc = rc ? rc : ledger_load_entries(s->ledger, c->txn, c->account, &entries);
    if (rc == 0) {
        attach_record(s->out[which], env, *slot, &entries);
        rc = append(c, which, env);
    }
    ledger_entries_free(&entries);
    if (b)
        arrears__borrower__free_unpacked(b, NULL);
    return rc;
}

static int emit_referral(emit_t *c, const effect_t *e)
{
    referral_t r;
    referral_facts(c, e, &r);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_LEGAL_REFERRAL;
    env.legal_referral = &r.m;
    return append_with_statement(c, STAGING_TO_LEGAL, &env, &r.m.statement, e->day);
}

/* Something legal should know about an account it holds (account_fx.h fx_notice). */
static int emit_case_notice(emit_t *c, const effect_t *e)
{
    Arrears__CaseNotice m = ARREARS__CASE_NOTICE__INIT;
    m.platform = c->account->platform;
    m.account_ref = c->account->account_ref;
    m.has_kind = m.has_at_ms = 1;
    m.kind = (Arrears__CaseNoticeKind)e->notice_kind;
    m.at_ms = c->now_ms;
    m.has_amount_minor = e->amount_minor != 0;
    m.amount_minor = e->amount_minor;
    m.reference = e->reference[0] ? (char *)e->reference : NULL;
    m.detail = e->reason[0] ? (char *)e->reason : NULL;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_NOTICE;
    env.case_notice = &m;
    return append(c, STAGING_TO_LEGAL, &env);
}

/* Something sale should know about an account it has listed (fx_notice). */
static int emit_sale_notice(emit_t *c, const effect_t *e)
{
    Arrears__SaleNotice m = ARREARS__SALE_NOTICE__INIT;
    m.platform = c->account->platform;
    m.account_ref = c->account->account_ref;
    m.has_kind = m.has_at_ms = 1;
    m.kind = (Arrears__SaleNoticeKind)e->notice_kind;
    m.at_ms = c->now_ms;
    m.has_amount_minor = e->amount_minor != 0;
    m.amount_minor = e->amount_minor;
    m.detail = e->reason[0] ? (char *)e->reason : NULL;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_NOTICE;
    env.sale_notice = &m;
    return append(c, STAGING_TO_SALE, &env);
}

static int emit_notice(emit_t *c, const effect_t *e)
{
    return e->peer == PEER_SALE ? emit_sale_notice(c, e) : emit_case_notice(c, e);
}

/* The end of the account's retention, for a peer that keeps its personal data
 * (account.proto PersonalDataErased): staging's instant is its natural key. */
static int emit_erased(emit_t *c, const effect_t *e)
{
    static const staging_outbox_t outbox_of[] = {
        [PEER_LEGAL] = STAGING_TO_LEGAL, [PEER_SALE] = STAGING_TO_SALE,
        [PEER_OUTREACH] = STAGING_TO_OUTREACH};
    Arrears__PersonalDataErased m = ARREARS__PERSONAL_DATA_ERASED__INIT;
    m.platform = c->account->platform;
    m.account_ref = c->account->account_ref;
    m.jurisdiction = c->account->jurisdiction[0] ? c->account->jurisdiction : "default";
    m.has_erased_at_ms = 1;
    m.erased_at_ms = c->now_ms;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_PERSONAL_DATA_ERASED;
    env.personal_data_erased = &m;
    return append(c, outbox_of[e->peer], &env);
}

/* The day the account was charged off: the first missed due day plus the charged_off
 * range's first DPD. */
static int32_t charged_off_day(const emit_t *c)
{
    const account_t *a = c->account;
    if (a->first_missed_due_day == ACCOUNT_DAY_NONE)
        return ACCOUNT_DAY_NONE;
    return a->first_missed_due_day +
           strategy_stage_ranges(c->self->policy->strategy)->from_dpd[STAGE_RANGE_COUNT - 1];
}

/* Everything sale re-checks and the winner's file (sale.proto SaleListing). */
static int emit_listing(emit_t *c, const effect_t *e)
{
    const account_t *a = c->account;
    char charged[TZ_DATE_LEN + 1], paid[TZ_DATE_LEN + 1];
    Arrears__SaleListing m = ARREARS__SALE_LISTING__INIT;
    m.platform = (char *)a->platform;
    m.account_ref = (char *)a->account_ref;
    m.has_listed_at_ms = m.has_may_sell = m.has_in_litigation = 1;
    m.listed_at_ms = c->now_ms;
    SET_ACCOUNT_FACTS(&m, a, paid);
    date_or_null(charged_off_day(c), charged, &m.charged_off_date);
    m.region = jurisdiction_or_null(a);
    m.may_sell = a->may_sell;
    m.in_litigation = holds_has(&a->holds, HOLD_LITIGATION);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_LISTING;
    env.sale_listing = &m;
    return append_with_statement(c, STAGING_TO_SALE, &env, &m.file, e->day);
}

static int emit_status(emit_t *c, const effect_t *e)
{
    const account_t *a = c->account;
    Arrears__FeedEvent f = ARREARS__FEED_EVENT__INIT;
    f.account_ref = (char *)a->account_ref;
    f.has_kind = f.has_at_ms = f.has_days_past_due = f.has_outstanding_minor = 1;
    f.kind = (Arrears__FeedEventKind)e->feed_kind;
    f.at_ms = c->now_ms;
    f.stage = (char *)stage_name(e->stage);
    f.days_past_due = a->dpd;
    f.outstanding_minor = account_outstanding(a);
    f.currency = (char *)a->currency;
    if (e->amount_minor) {
        f.has_amount_minor = 1;
        f.amount_minor = e->amount_minor;
    }
    f.reference = e->reference[0] ? (char *)e->reference : NULL;
    f.detail = e->what && *e->what ? (char *)e->what : NULL;
    Arrears__StatusEvent m = ARREARS__STATUS_EVENT__INIT;
    m.platform = (char *)a->platform;
    m.event = &f;
    m.has_contact_on_hold = m.has_closed = 1;
    m.contact_on_hold = holds_any(&a->holds);
    m.closed = stage_is_terminal(a->stage);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_STATUS_EVENT;
    env.status_event = &m;
    return append(c, STAGING_TO_INTAKE, &env);
}

int staging_commit_account(staging_t *self, MDB_txn *txn, account_t *account, int64_t now_ms)
{
    emit_t c = {self, txn, account, now_ms};
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->fx.count; i++) {
        const effect_t *e = &self->fx.items[i];
        switch (e->kind) {
        case EFFECT_ENTRY: rc = ledger_append_entry(self->ledger, txn, account, e, now_ms); break;
        case EFFECT_CONTACT: rc = emit_contact(&c, e); break;
        case EFFECT_CANCEL: rc = emit_cancel(&c, e); break;
        case EFFECT_REFER: rc = emit_referral(&c, e); break;
        case EFFECT_LIST: rc = emit_listing(&c, e); break;
        case EFFECT_STATUS: rc = emit_status(&c, e); break;
        case EFFECT_NOTICE: rc = emit_notice(&c, e); break;
        case EFFECT_ERASED: rc = emit_erased(&c, e); break;
        }
    }
    return rc ? rc : ledger_put(self->ledger, txn, account);
}

int staging_has_room(staging_t *self, MDB_txn *txn, bool *room)
{
    *room = true;
    for (int i = 0; i < STAGING_OUTBOXES && *room; i++) {
        uint64_t left = 0;
        int rc = outbox_room(self->out[i], txn, &left);
        if (rc != 0)
            return rc;
        *room = left >= ACCOUNT_EFFECTS_MAX;
    }
    return 0;
}
