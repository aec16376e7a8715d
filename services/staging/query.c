/* query: staging's answers — health, one account with its collection record, and the
 * book's report computed from the stored accounts (DESIGN.md section 7). Read-only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "staging.h"

#define VIEW_ENTRIES_DEFAULT 100
#define VIEW_ENTRIES_MAX 500

static size_t pack_reply(Arrears__Envelope *env, uint64_t request_id, uint8_t *buf, size_t cap)
{
    env->has_request_id = 1;
    env->request_id = request_id;
    return envelope_pack(env, buf, cap);
}

typedef struct {
    staging_t *self;
    int64_t now_ms, next_ms;
} midnight_t;

/* The first borrower-local midnight after now in this zone. */
static int next_midnight(const char *zone_name, void *arg)
{
    midnight_t *m = arg;
    const tz_zone_t *zone;
    if (tz_cache_get(m->self->zones, zone_name, &zone) != TZ_OK)
        return 0;
    int32_t y;
    int mo, d;
    int64_t s = 0;
    tz_civil_from_days(tz_local_day(zone, m->now_ms / 1000) + 1, &y, &mo, &d);
    if (tz_utc_of_local(zone, y, mo, d, 0, 0, 0, &s) == TZ_OK && s * 1000 < m->next_ms)
        m->next_ms = s * 1000;
    return 0;
}

/* A run in progress, or a catch-up after a restore, is work now; else the next midnight
 * of the book's zones. */
static void next_work(staging_t *self, MDB_txn *txn, Arrears__Health *h)
{
    int64_t running = 0;
    midnight_t m = {self, aclock_now_ms(self->clock), INT64_MAX};
    held_state_t held;
    if (ledger_meta_get(self->ledger, txn, "run_to_ms", 0, &running) != 0 ||
        held_state(self->held, txn, aclock_monotonic_ms(), &held) != 0)
        return;
    running |= held.active;
    if (running == 0 && ledger_each_zone(self->ledger, txn, next_midnight, &m) != 0)
        return;
    h->has_next_work_ms = running != 0 || m.next_ms != INT64_MAX;
    h->next_work_ms = running != 0 ? m.now_ms : m.next_ms;
}

static size_t health(staging_t *self, MDB_txn *txn, uint64_t request_id, uint8_t *buf, size_t cap)
{
    Arrears__Health h = ARREARS__HEALTH__INIT;
    h.service = "staging";
    h.has_uptime_ms = h.has_outbox_unacked = h.has_dead_letters = h.has_outbox_appended = 1;
    h.uptime_ms = (uint64_t)(aclock_monotonic_ms() - self->started_ms);
    for (int i = 0; i < STAGING_OUTBOXES; i++) {
        outbox_state_t st;
        if (outbox_state(self->out[i], txn, &st) == 0) {
            h.dead_letters += st.dead_letters;
            h.outbox_appended += st.last_seq;
        }
    }
    h.outbox_unacked = self->unacked ? self->unacked(self->unacked_arg) : 0;
    next_work(self, txn, &h);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_HEALTH;
    env.health = &h;
    return pack_reply(&env, request_id, buf, cap);
}

/* ---------------------------------------------------------------- one account */

/* An entry's strings, copied out of the unpacked entry (freed after the visit). */
typedef struct {
    char day[TZ_DATE_LEN + 1];
    char actor[ACCOUNT_ACTOR_MAX + 1];
    char kind[32];
    char reason[ACCOUNT_REASON_MAX];
    char reference[ACCOUNT_REFERENCE_MAX + 1];
    char stage[24];
} entry_text_t;

typedef struct {
    Arrears__TimelineEntry *entries;
    Arrears__TimelineEntry **ptrs;
    entry_text_t *text;
    size_t count, max;
} entries_t;

#define COPY(dst, src) snprintf((dst), sizeof(dst), "%s", (src) ? (src) : "")

static int keep_entry(const Arrears__TimelineEntry *t, void *arg)
{
    entries_t *e = arg;
    Arrears__TimelineEntry *d = &e->entries[e->count];
    entry_text_t *x = &e->text[e->count];
    *d = *t;
    COPY(x->day, t->day);
    COPY(x->actor, t->actor);
    COPY(x->kind, t->kind);
    COPY(x->reason, t->reason);
    COPY(x->reference, t->reference);
    COPY(x->stage, t->stage);
    d->day = x->day;
    d->actor = x->actor;
    d->kind = x->kind;
    d->reason = x->reason;
    d->reference = t->reference ? x->reference : NULL;
    d->stage = x->stage;
    e->ptrs[e->count] = d;
    return ++e->count >= e->max;
}

static void fill_view(staging_t *self, const account_t *a, int32_t today, Arrears__AccountView *v,
                      char holds[HOLD_COUNT][24], char **hold_ptrs, score_result_t *score,
                      char **reason_ptrs)
{
    v->platform = (char *)a->platform;
    v->account_ref = (char *)a->account_ref;
    v->stage = (char *)stage_name(a->stage);
    v->has_days_past_due = v->has_outstanding_minor = v->has_overdue_minor = 1;
    v->days_past_due = a->dpd;
    v->currency = (char *)a->currency;
    v->outstanding_minor = account_outstanding(a);
    v->overdue_minor = account_overdue(a, today);
    int64_t *parts[4] = {&v->fees_minor, &v->penalty_minor, &v->interest_minor, &v->principal_minor};
    for (int c = 0; c < BOOK_COMPONENTS; c++)
        book_outstanding(&a->book, (book_component_t)c, parts[c]);
    v->has_fees_minor = v->has_penalty_minor = v->has_interest_minor = v->has_principal_minor = 1;
    v->has_credit_minor = v->has_score = v->has_time_barred = v->has_broken_promises = 1;
    v->credit_minor = a->book.credit_minor;
    for (int k = 0; k < HOLD_COUNT; k++)
        if (holds_has(&a->holds, (hold_kind_t)k)) {
            snprintf(holds[v->n_holds], 24, "%s", hold_name((hold_kind_t)k));
            hold_ptrs[v->n_holds] = holds[v->n_holds];
            v->n_holds++;
        }
    v->holds = hold_ptrs;
    const account_policy_t *policy = staging_policy_for(self, a->currency);
    if (policy) {   /* else: its strategy was taken out of the configuration */
        account_score(a, policy, today, score);
        v->score = score->points;
        for (uint32_t i = 0; i < score->reason_count; i++)
            reason_ptrs[i] = score->reasons[i].text;
        v->n_score_reasons = score->reason_count;
        v->score_reasons = reason_ptrs;
        v->segment = (char *)segment_name(strategy_segments(policy->strategy), a->segment);
        v->arm = (char *)strategy_arm_name(policy->strategy, a->arm);
    }
    v->time_barred = a->time_barred;
    v->broken_promises = arrangement_broken_count(&a->arrangement);
}

static size_t account_view(staging_t *self, MDB_txn *txn, const Arrears__AccountQuery *q,
                           uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    uint64_t id;
    Arrears__AccountView v = ARREARS__ACCOUNT_VIEW__INIT;
    v.has_known = 1;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_VIEW;
    env.account_view = &v;
    if (!q->platform || !q->account_ref ||
        ledger_find(self->ledger, txn, q->platform, q->account_ref, &id) != 0 ||
        ledger_get(self->ledger, txn, id, &self->account) != 0)
        return pack_reply(&env, request_id, buf, cap);   /* known = false */
    account_t *a = &self->account;
    v.known = 1;
    int32_t today = a->evaluated_day;
    char holds[HOLD_COUNT][24], *hold_ptrs[HOLD_COUNT], *reason_ptrs[SCORE_MAX_REASONS];
    char arrangement[ACCOUNT_REASON_MAX], evaluated[TZ_DATE_LEN + 1] = "";
    score_result_t score;
    fill_view(self, a, today, &v, holds, hold_ptrs, &score, reason_ptrs);
    snprintf(arrangement, sizeof arrangement, "%s", account_arrangement_text(a));
    v.arrangement = arrangement;
    if (today != ACCOUNT_DAY_NONE)
        tz_date_format(today, evaluated);
    v.evaluated_day = evaluated;
    v.has_timeline_total = 1;
    v.timeline_total = a->timeline_count;
    size_t max = q->max_entries ? q->max_entries : VIEW_ENTRIES_DEFAULT;
    entries_t e = {calloc(VIEW_ENTRIES_MAX, sizeof *e.entries), calloc(VIEW_ENTRIES_MAX, sizeof *e.ptrs),
                   calloc(VIEW_ENTRIES_MAX, sizeof *e.text), 0, max > VIEW_ENTRIES_MAX ? VIEW_ENTRIES_MAX : max};
    size_t len = 0;
    if (e.entries && e.ptrs && e.text &&
        ledger_each_entry(self->ledger, txn, id, q->after_entry, (uint32_t)e.max, keep_entry, &e) == 0) {
        v.timeline = e.ptrs;
        /* A reply holds what fits; the asker pages on with after_entry. */
        for (v.n_timeline = e.count; (len = pack_reply(&env, request_id, buf, cap)) == 0 && v.n_timeline > 0;)
            v.n_timeline--;
    } else {
        reject_set(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, NULL,
                   "the timeline could not be read now");
    }
    free(e.entries);
    free(e.ptrs);
    free(e.text);
    return len;
}

size_t staging_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                     const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    staging_t *self = app;
    bool trusted = strcmp(from->role, "operator") == 0 || strcmp(from->role, "service") == 0;
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_HEALTH_QUERY: return health(self, txn, env->request_id, buf, cap);
    case ARREARS__ENVELOPE__BODY_ACCOUNT_QUERY:
        if (trusted)
            return account_view(self, txn, env->account_query, env->request_id, buf, cap, reject);
        break;
    case ARREARS__ENVELOPE__BODY_REPORT_QUERY:
        if (trusted)
            return staging_report(self, txn, env->report_query, env->request_id, buf, cap, reject);
        break;
    default:
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL,
                   "staging answers health, account and report queries");
        return 0;
    }
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
               "account and report queries are for operators and services");
    return 0;
}
