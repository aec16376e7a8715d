/* record: account_t <-> StoredAccount bytes (see record.h). */
#include "record.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "staging_store.pb-c.h"

#define ARENA_BYTES (1024 * 1024)
/* A journal line's numbers in StoredAccount.penalty_journal, in this order. */
enum { LINE_DUE, LINE_FROM, LINE_TO, LINE_BASE, LINE_RATE, LINE_PERIOD, LINE_CAPPED,
       LINE_ACCRUED, LINE_NUMBERS };
#define SET(msg, field, value)        \
    do {                              \
        (msg)->has_##field = 1;       \
        (msg)->field = (value);       \
    } while (0)

struct record {
    /* Unpacking: a bump arena handed to protobuf-c, reset for each record. */
    uint8_t *arena;
    size_t arena_used;
    ProtobufCAllocator allocator;
    /* Packing: the messages that point into account_t, and the output buffer. */
    Arrears__StoredInstalment inst[BOOK_MAX_INSTALMENTS];
    Arrears__StoredInstalment *inst_ptr[BOOK_MAX_INSTALMENTS];
    Arrears__StoredPlanInstalment plan[ARRANGEMENT_PLAN_MAX];
    Arrears__StoredPlanInstalment *plan_ptr[ARRANGEMENT_PLAN_MAX];
    int64_t journal[JOURNAL_MAX_LINES * LINE_NUMBERS];
    int32_t payment_days[ACCOUNT_PAYMENT_DAYS];
    uint8_t *out;
};

static void *arena_alloc(void *data, size_t size)
{
    record_t *self = data;
    size_t aligned = (size + 15) & ~(size_t)15;
    if (aligned < size || aligned > ARENA_BYTES - self->arena_used)
        return NULL;
    void *p = self->arena + self->arena_used;
    self->arena_used += aligned;
    return p;
}

static void arena_free(void *data, void *ptr)
{
    (void)data;
    (void)ptr;   /* the whole arena is reset before the next record */
}

record_t *record_new(void)
{
    record_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->arena = malloc(ARENA_BYTES);
    self->out = malloc(RECORD_MAX_BYTES);
    if (!self->arena || !self->out) {
        record_destroy(&self);
        return NULL;
    }
    self->allocator = (ProtobufCAllocator){arena_alloc, arena_free, self};
    return self;
}

void record_destroy(record_t **self_p)
{
    record_t *self = *self_p;
    if (!self)
        return;
    free(self->arena);
    free(self->out);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- encode */

static void encode_arrangement(record_t *self, const arrangement_t *a,
                               Arrears__StoredArrangement *m)
{
    SET(m, kind, a->kind);
    SET(m, state, a->state);
    SET(m, made_day, a->made_day);
    SET(m, due_day, a->due_day);
    SET(m, amount_minor, a->amount_minor);
    SET(m, paid_minor, a->paid_minor);
    SET(m, waive_penalty, a->waive_penalty);
    for (uint32_t i = 0; i < a->plan_count; i++) {
        arrears__stored_plan_instalment__init(&self->plan[i]);
        SET(&self->plan[i], due_day, a->plan[i].due_day);
        SET(&self->plan[i], amount_minor, a->plan[i].amount_minor);
        self->plan_ptr[i] = &self->plan[i];
    }
    m->n_plan = a->plan_count;
    m->plan = self->plan_ptr;
    SET(m, owed_minor, a->owed_minor);
    SET(m, discount_bps, a->discount_bps);
    SET(m, kept_count, a->kept_count);
    SET(m, broken_count, a->broken_count);
    SET(m, deferral_used, a->deferral_used);
    SET(m, deferral_from_day, a->deferral_from_day);
    SET(m, deferral_to_day, a->deferral_to_day);
}

static void encode_stats(const account_stats_t *s, Arrears__StoredStats *m)
{
    SET(m, overdue_at_entry_minor, s->overdue_at_entry_minor);
    SET(m, collected_minor, s->collected_minor);
    SET(m, entered_at_ms, s->entered_at_ms);
    SET(m, closed_at_ms, s->closed_at_ms);
    SET(m, entered_day, s->entered_day);
    SET(m, closed_day, s->closed_day);
    SET(m, promises_made, s->promises_made);
    SET(m, promises_kept, s->promises_kept);
    SET(m, promises_broken, s->promises_broken);
    SET(m, complaints, s->complaints);
    SET(m, complaints_late, s->complaints_late);
    SET(m, cures, s->cures);
    SET(m, contacts, s->contacts);
    SET(m, referrals, s->referrals);
    SET(m, listings, s->listings);
}

static void encode_book(record_t *self, const account_t *a, Arrears__StoredAccount *m)
{
    for (size_t i = 0; i < a->book.count; i++) {
        const book_instalment_t *in = &a->book.instalments[i];
        Arrears__StoredInstalment *s = &self->inst[i];
        arrears__stored_instalment__init(s);
        SET(s, due_day, in->due_day);
        s->n_owed_minor = BOOK_COMPONENTS;
        s->owed_minor = (int64_t *)in->owed_minor;
        s->n_paid_minor = BOOK_COMPONENTS;
        s->paid_minor = (int64_t *)in->paid_minor;
        SET(s, penalty_carry, in->penalty_carry);
        self->inst_ptr[i] = s;
    }
    m->n_instalments = a->book.count;
    m->instalments = self->inst_ptr;
    SET(m, credit_minor, a->book.credit_minor);
    SET(m, penalty_next_day, a->book.penalty_next_day);
    SET(m, cap_window_start_day, a->book.cap_window_start_day);
    SET(m, cap_window_penalty_minor, a->book.cap_window_penalty_minor);
    SET(m, penalty_rate_bps, a->penalty.rate_bps);
    SET(m, penalty_period, a->penalty.period);
    SET(m, penalty_cap_bps, a->penalty.cap_bps);
    SET(m, interest_bps, a->interest_bps);
    SET(m, interest_period, (uint32_t)a->interest_period);
}

static void encode_journal(record_t *self, const journal_t *j, Arrears__StoredAccount *m)
{
    for (size_t i = 0; i < j->count; i++) {
        const journal_line_t *line = journal_line(j, i);
        int64_t *n = &self->journal[i * LINE_NUMBERS];
        n[LINE_DUE] = line->due_day;
        n[LINE_FROM] = line->from_day;
        n[LINE_TO] = line->to_day;
        n[LINE_BASE] = line->base_minor;
        n[LINE_RATE] = line->rate_bps;
        n[LINE_PERIOD] = line->period;
        n[LINE_CAPPED] = line->capped;
        n[LINE_ACCRUED] = line->accrued_minor;
    }
    m->n_penalty_journal = j->count * LINE_NUMBERS;
    m->penalty_journal = self->journal;
    SET(m, penalty_brought_forward_minor, j->brought_forward_minor);
}

static void encode_state(record_t *self, const account_t *a, Arrears__StoredAccount *m)
{
    SET(m, vulnerable, a->vulnerable);
    SET(m, may_refer_to_legal, a->may_refer_to_legal);
    SET(m, may_sell, a->may_sell);
    SET(m, stage, a->stage);
    SET(m, stage_since_day, a->stage_since_day);
    SET(m, evaluated_day, a->evaluated_day);
    SET(m, dpd, a->dpd);
    SET(m, hold_bits, a->holds.bits);
    m->n_hold_since_day = HOLD_COUNT;
    m->hold_since_day = (int32_t *)a->holds.since_day;
    m->n_hold_deadline_day = HOLD_COUNT;
    m->hold_deadline_day = (int32_t *)a->holds.deadline_day;
    SET(m, hold_overdue_noted, a->hold_overdue_noted);
    SET(m, last_payment_day, a->last_payment_day);
    if (a->legal_returned_day != ACCOUNT_DAY_NONE)
        SET(m, legal_returned_day, a->legal_returned_day);
    if (a->sale_returned_day != ACCOUNT_DAY_NONE)
        SET(m, sale_returned_day, a->sale_returned_day);
    /* Oldest first, so the ring decodes with its next slot on the oldest day. */
    size_t n = a->payment_count < ACCOUNT_PAYMENT_DAYS ? a->payment_count : ACCOUNT_PAYMENT_DAYS;
    for (size_t i = 0; i < n; i++)
        self->payment_days[i] = a->payment_days[(a->payment_count - n + i) % ACCOUNT_PAYMENT_DAYS];
    m->n_payment_days = n;
    m->payment_days = self->payment_days;
    SET(m, first_missed_due_day, a->first_missed_due_day);
    SET(m, contact_points, a->contact_points);
    SET(m, score, a->score);
    SET(m, segment, a->segment);
    SET(m, arm, a->arm);
    m->n_action_last_day = STRATEGY_MAX_ACTIONS;
    m->action_last_day = (int32_t *)a->action_last_day;
    SET(m, contact_seq, a->contact_seq);
    SET(m, contact_pending, a->contact_pending);
    SET(m, timeline_count, a->timeline_count);
    SET(m, time_barred, a->time_barred);
    m->case_id = (char *)a->case_id;
    if (a->erased) {   /* absent on every other record: older readers see no change */
        SET(m, erased, true);
        SET(m, erased_day, a->erased_day);
    }
}

int record_encode(record_t *self, const account_t *a, const uint8_t **bytes, size_t *len)
{
    Arrears__StoredAccount m = ARREARS__STORED_ACCOUNT__INIT;
    Arrears__StoredArrangement arr = ARREARS__STORED_ARRANGEMENT__INIT;
    Arrears__StoredStats stats = ARREARS__STORED_STATS__INIT;
    SET(&m, id, a->id);
    m.platform = (char *)a->platform;
    m.account_ref = (char *)a->account_ref;
    SET(&m, product, (uint32_t)a->product);
    m.currency = (char *)a->currency;
    m.time_zone = (char *)a->time_zone;
    m.jurisdiction = (char *)a->jurisdiction;
    if (a->has_person)
        SET(&m, person_key, ((ProtobufCBinaryData){ACCOUNT_PERSON_KEY_BYTES, (uint8_t *)a->person_key}));
    SET(&m, version, a->version);
    encode_book(self, a, &m);
    encode_journal(self, &a->penalty_journal, &m);
    encode_state(self, a, &m);
    encode_arrangement(self, &a->arrangement, &arr);
    m.arrangement = &arr;
    encode_stats(&a->stats, &stats);
    m.stats = &stats;
    size_t size = arrears__stored_account__get_packed_size(&m);
    if (size > RECORD_MAX_BYTES)
        return RECORD_ETOO_LARGE;
    *len = arrears__stored_account__pack(&m, self->out);
    *bytes = self->out;
    return RECORD_OK;
}

/* ---------------------------------------------------------------- decode */

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static void copy_days(int32_t *dst, size_t cap, const int32_t *src, size_t n)
{
    if (n > 0)   /* protobuf-c leaves an empty repeated field NULL */
        memcpy(dst, src, (n < cap ? n : cap) * sizeof *dst);
}

static int decode_book(const Arrears__StoredAccount *m, account_t *a)
{
    if (m->n_instalments > BOOK_MAX_INSTALMENTS)
        return RECORD_ECORRUPT;
    for (size_t i = 0; i < m->n_instalments; i++) {
        const Arrears__StoredInstalment *s = m->instalments[i];
        if (s->n_owed_minor != BOOK_COMPONENTS || s->n_paid_minor != BOOK_COMPONENTS)
            return RECORD_ECORRUPT;
        book_instalment_t *in = &a->instalments[i];
        in->due_day = s->due_day;
        memcpy(in->owed_minor, s->owed_minor, sizeof in->owed_minor);
        memcpy(in->paid_minor, s->paid_minor, sizeof in->paid_minor);
        in->penalty_carry = s->penalty_carry;
    }
    a->book.count = m->n_instalments;
    a->book.credit_minor = m->credit_minor;
    a->book.penalty_next_day = m->penalty_next_day;
    a->book.cap_window_start_day = m->cap_window_start_day;
    a->book.cap_window_penalty_minor = m->cap_window_penalty_minor;
    a->penalty.rate_bps = m->penalty_rate_bps;
    a->penalty.period = (penalty_period_t)m->penalty_period;
    a->penalty.cap_bps = m->penalty_cap_bps;
    a->interest_bps = m->interest_bps;
    a->interest_period = (int)m->interest_period;
    return RECORD_OK;
}

/* The penalty a book has charged so far (paid or not); saturated, as journal.c's sums. */
static int64_t penalty_charged(const book_t *book)
{
    int64_t total = 0;
    for (size_t i = 0; i < book->count; i++)
        if (money_add(total, book->instalments[i].owed_minor[BOOK_PENALTY], &total) != MONEY_OK)
            return INT64_MAX;
    return total;
}

/* Lines beyond the journal's bound (a record of a build that kept more) fold into the
 * brought-forward total as they are read: the sum is kept either way. A record written
 * before the journal existed has no brought-forward total: the penalty its book had
 * already charged is brought forward whole, so the statement still adds up. */
static int decode_journal(const Arrears__StoredAccount *m, const book_t *book, journal_t *j)
{
    if (m->n_penalty_journal % LINE_NUMBERS != 0)
        return RECORD_ECORRUPT;
    j->brought_forward_minor = m->has_penalty_brought_forward_minor
                                   ? m->penalty_brought_forward_minor
                                   : penalty_charged(book);
    for (size_t i = 0; i < m->n_penalty_journal; i += LINE_NUMBERS) {
        const int64_t *n = &m->penalty_journal[i];
        journal_line_t line = {
            .due_day = n[LINE_DUE],
            .from_day = n[LINE_FROM],
            .to_day = n[LINE_TO],
            .base_minor = n[LINE_BASE],
            .rate_bps = n[LINE_RATE],
            .period = (int32_t)n[LINE_PERIOD],
            .capped = n[LINE_CAPPED] != 0,
            .accrued_minor = n[LINE_ACCRUED],
        };
        journal_add_line(j, &line);
    }
    return RECORD_OK;
}

static int decode_arrangement(const Arrears__StoredArrangement *m, arrangement_t *a)
{
    if (!m)
        return RECORD_OK;
    if (m->n_plan > ARRANGEMENT_PLAN_MAX)
        return RECORD_ECORRUPT;
    a->kind = (arrangement_kind_t)m->kind;
    a->state = (arrangement_state_t)m->state;
    a->made_day = m->made_day;
    a->due_day = m->due_day;
    a->amount_minor = m->amount_minor;
    a->paid_minor = m->paid_minor;
    a->waive_penalty = m->waive_penalty;
    a->plan_count = (uint32_t)m->n_plan;
    for (size_t i = 0; i < m->n_plan; i++)
        a->plan[i] = (plan_instalment_t){m->plan[i]->due_day, m->plan[i]->amount_minor};
    a->owed_minor = m->owed_minor;
    a->discount_bps = m->discount_bps;
    a->kept_count = m->kept_count;
    a->broken_count = m->broken_count;
    a->deferral_used = m->deferral_used;
    a->deferral_from_day = m->deferral_from_day;
    a->deferral_to_day = m->deferral_to_day;
    return RECORD_OK;
}

static void decode_stats(const Arrears__StoredStats *m, account_stats_t *s)
{
    if (!m)
        return;
    *s = (account_stats_t){
        .overdue_at_entry_minor = m->overdue_at_entry_minor,
        .collected_minor = m->collected_minor,
        .entered_at_ms = m->entered_at_ms,
        .closed_at_ms = m->closed_at_ms,
        .entered_day = m->entered_day,
        .closed_day = m->closed_day,
        .promises_made = m->promises_made,
        .promises_kept = m->promises_kept,
        .promises_broken = m->promises_broken,
        .complaints = m->complaints,
        .complaints_late = m->complaints_late,
        .cures = m->cures,
        .contacts = m->contacts,
        .referrals = m->referrals,
        .listings = m->listings,
    };
}

static void decode_state(const Arrears__StoredAccount *m, account_t *a)
{
    a->vulnerable = m->vulnerable;
    a->may_refer_to_legal = m->may_refer_to_legal;
    a->may_sell = m->may_sell;
    a->stage = m->stage < STAGE_COUNT ? (stage_t)m->stage : STAGE_CURRENT;
    a->stage_since_day = m->stage_since_day;
    a->evaluated_day = m->evaluated_day;
    a->dpd = m->dpd;
    a->holds.bits = m->hold_bits;
    copy_days(a->holds.since_day, HOLD_COUNT, m->hold_since_day, m->n_hold_since_day);
    copy_days(a->holds.deadline_day, HOLD_COUNT, m->hold_deadline_day, m->n_hold_deadline_day);
    a->hold_overdue_noted = m->hold_overdue_noted;
    a->last_payment_day = m->last_payment_day;
    copy_days(a->payment_days, ACCOUNT_PAYMENT_DAYS, m->payment_days, m->n_payment_days);
    a->first_missed_due_day = m->first_missed_due_day;
    a->contact_points = m->contact_points;
    a->score = m->score;
    a->segment = m->segment;
    a->arm = m->arm;
    copy_days(a->action_last_day, STRATEGY_MAX_ACTIONS, m->action_last_day, m->n_action_last_day);
    a->contact_seq = m->contact_seq;
    a->contact_pending = m->contact_pending;
    a->timeline_count = m->timeline_count;
    a->time_barred = m->time_barred;
    a->legal_returned_day = m->has_legal_returned_day ? m->legal_returned_day : ACCOUNT_DAY_NONE;
    a->sale_returned_day = m->has_sale_returned_day ? m->sale_returned_day : ACCOUNT_DAY_NONE;
    copy_text(a->case_id, sizeof a->case_id, m->case_id);
    a->erased = m->has_erased && m->erased;
    a->erased_day = a->erased && m->has_erased_day ? m->erased_day : ACCOUNT_DAY_NONE;
}

int record_decode(record_t *self, const uint8_t *bytes, size_t len, account_t *a)
{
    if (len > RECORD_MAX_BYTES)
        return RECORD_ETOO_LARGE;
    self->arena_used = 0;
    Arrears__StoredAccount *m = arrears__stored_account__unpack(&self->allocator, len, bytes);
    if (!m)
        return RECORD_ECORRUPT;
    account_init(a);
    a->id = m->id;
    copy_text(a->platform, sizeof a->platform, m->platform);
    copy_text(a->account_ref, sizeof a->account_ref, m->account_ref);
    a->product = (int)m->product;
    copy_text(a->currency, sizeof a->currency, m->currency);
    copy_text(a->time_zone, sizeof a->time_zone, m->time_zone);
    copy_text(a->jurisdiction, sizeof a->jurisdiction, m->jurisdiction);
    a->has_person = m->has_person_key && m->person_key.len == ACCOUNT_PERSON_KEY_BYTES;
    if (a->has_person)
        memcpy(a->person_key, m->person_key.data, ACCOUNT_PERSON_KEY_BYTES);
    a->version = m->version;
    /* Stored oldest first: the ring's next slot is n modulo its size. */
    a->payment_count = (uint32_t)m->n_payment_days;
    decode_state(m, a);
    int rc = decode_book(m, a);
    rc = rc ? rc : decode_journal(m, &a->book, &a->penalty_journal);
    rc = rc ? rc : decode_arrangement(m->arrangement, &a->arrangement);
    decode_stats(m->stats, &a->stats);
    return rc;
}

const char *record_strerror(int code)
{
    switch (code) {
    case RECORD_OK: return "ok";
    case RECORD_ECORRUPT: return "a stored account record does not decode";
    case RECORD_ETOO_LARGE: return "an account record over its size bound";
    default: return "unknown record error";
    }
}
