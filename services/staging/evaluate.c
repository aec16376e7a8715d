/* evaluate: an account's day — penalty, the arrangement's review, overdue complaint
 * answers, the time bar, DPD and stage, score and segment, escalation, and the contact
 * actions due (account.h). Also the stage moves every event shares. Pure. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "account_fx.h"
#include "tz.h"

static int32_t days_to_next_due(const account_t *self, int32_t today_day)
{
    for (size_t i = 0; i < self->book.count; i++) {
        const book_instalment_t *in = &self->book.instalments[i];
        if (in->due_day >= today_day && book_instalment_unpaid(in))
            return (int32_t)(in->due_day - today_day);
    }
    return STAGE_NO_DUE_DAY;
}

static int32_t oldest_unpaid_due_day(const account_t *self, int32_t today_day)
{
    for (size_t i = 0; i < self->book.count; i++) {
        const book_instalment_t *in = &self->book.instalments[i];
        if (in->due_day < today_day && book_instalment_unpaid(in))
            return (int32_t)in->due_day;
    }
    return ACCOUNT_DAY_NONE;
}

/* The account reached a terminal stage from stage before, moved by actor. */
static void note_closed(account_t *self, stage_t before, const char *actor, int32_t today_day,
                        int64_t now_ms, effects_t *fx)
{
    self->stats.closed_at_ms = now_ms;
    self->stats.closed_day = today_day;
    fx_cancel(fx, self, today_day, "account closed");
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__CLOSED, 0, NULL,
              stage_name(self->stage));
    fx_notice(fx, self, before, today_day, actor, NEWS_CLOSED, 0, NULL, stage_name(self->stage));
}

bool account_move(account_t *self, const account_policy_t *policy, stage_event_kind_t kind,
                  int32_t today_day, int64_t now_ms, const char *actor, const char *what,
                  effects_t *fx, char *reason, size_t reason_len)
{
    stage_event_t event = {
        .kind = kind,
        .dpd = self->dpd,
        .days_to_due = days_to_next_due(self, today_day),
        .day = today_day,
        .sold_day = self->stats.closed_day,
    };
    stage_t next;
    stage_t before = self->stage;
    int rc = stage_next(strategy_stage_ranges(policy->strategy), before, &event, &next,
                        reason, reason_len);
    if (rc != STAGE_OK)
        return false;
    if (next == before)
        return true;
    self->stage = next;
    self->stage_since_day = today_day;
    for (size_t i = 0; i < STRATEGY_MAX_ACTIONS; i++)
        self->action_last_day[i] = ACCOUNT_DAY_NONE;
    if (stage_is_delinquent(before) && (next == STAGE_CURRENT || next == STAGE_PRE_DUE))
        self->stats.cures++;
    fx_entry(fx, self, today_day, actor, what, 0, NULL, "%s (dpd %d)", reason, (int)self->dpd);
    if (stage_is_terminal(next))
        note_closed(self, before, actor, today_day, now_ms, fx);
    else if (before == STAGE_SOLD)
        self->stats.closed_day = ACCOUNT_DAY_NONE;   /* put back: open again */
    if (!stage_is_terminal(next))
        fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__STAGE_CHANGED, 0, NULL, what);
    return true;
}

void account_restage(account_t *self, const account_policy_t *policy, int32_t today_day,
                     int64_t now_ms, effects_t *fx)
{
    if (account_is_closed(self))
        return;
    self->dpd = (int32_t)book_dpd(&self->book, today_day);
    char reason[ACCOUNT_REASON_MAX];
    if (account_outstanding(self) == 0) {
        account_move(self, policy, STAGE_EVENT_PAID, today_day, now_ms, "staging", "stage",
                     fx, reason, sizeof reason);
        return;
    }
    if (stage_is_dpd_driven(self->stage))
        account_move(self, policy, STAGE_EVENT_DPD, today_day, now_ms, "staging", "stage", fx,
                     reason, sizeof reason);
}

/* The entry of an arrangement that lapsed, by the kind it was. */
static void note_lapse(account_t *self, arrangement_kind_t kind, const char *reason,
                       int32_t today_day, effects_t *fx)
{
    const char *what = kind == ARRANGEMENT_KIND_PLAN         ? "plan_broken"
                       : kind == ARRANGEMENT_KIND_SETTLEMENT ? "settlement_lapsed"
                                                             : "promise_broken";
    if (kind == ARRANGEMENT_KIND_PROMISE)
        self->stats.promises_broken++;
    fx_entry(fx, self, today_day, "staging", what, 0, NULL, "%s", reason);
}

void account_note_decision(account_t *self, arrangement_kind_t before,
                           const arrangement_decision_t *decision, int32_t today_day,
                           const char *actor, const char *what, int64_t amount_minor,
                           effects_t *fx)
{
    if (decision->lapsed)
        note_lapse(self, before, decision->lapsed_reason, today_day, fx);
    if (what)
        fx_entry(fx, self, today_day, actor, what, amount_minor, NULL, "%s", decision->reason);
}

/* ---------------------------------------------------------------- the day's steps */

static void accrue_penalty(account_t *self, const account_policy_t *policy, int32_t today_day)
{
    int64_t from = self->book.penalty_next_day;
    if (from == BOOK_DAY_NONE || from < self->stats.entered_day)
        from = self->stats.entered_day;
    int64_t to = (int64_t)today_day + 1;
    if (from >= to)
        return;
    if (to - from > PENALTY_MAX_SPAN_DAYS)
        from = to - PENALTY_MAX_SPAN_DAYS;
    penalty_terms_t terms = self->penalty;
    terms.frozen = arrangement_freezes_penalty(&self->arrangement) ||
                   (policy->freeze_after_charge_off &&
                    (self->stage == STAGE_CHARGED_OFF || self->stage == STAGE_SALE));
    int64_t added = 0;
    /* An error stops at the day it hit (penalty.h), which the next run retries. */
    (void)penalty_accrue(&self->book, &terms, from, to, &self->penalty_journal, &added);
    if (self->book.credit_minor > 0)
        book_apply_credit(&self->book, &policy->waterfall, NULL);
}

static void review_arrangement(account_t *self, const account_policy_t *policy,
                               int32_t today_day, effects_t *fx)
{
    arrangement_kind_t kind = self->arrangement.kind;
    arrangement_decision_t d;
    if (arrangement_review(strategy_arrangement_policy(policy->strategy), &self->arrangement,
                           today_day, &d) == ARRANGEMENT_BROKEN)
        note_lapse(self, kind, d.reason, today_day, fx);
}

static void note_overdue_answers(account_t *self, int32_t today_day, effects_t *fx)
{
    static const hold_kind_t answered[] = {HOLD_COMPLAINT, HOLD_DISPUTE};
    for (size_t i = 0; i < 2; i++) {
        uint32_t bit = HOLD_BIT(answered[i]);
        if ((self->hold_overdue_noted & bit) ||
            !holds_response_overdue(&self->holds, answered[i], today_day))
            continue;
        self->hold_overdue_noted |= bit;
        self->stats.complaints_late++;
        char due[TZ_DATE_LEN + 1];
        tz_date_format(self->holds.deadline_day[answered[i]], due);
        fx_entry(fx, self, today_day, "staging", "complaint_overdue", 0, NULL,
                 "the %s is unanswered past its response deadline %s", hold_name(answered[i]),
                 due);
    }
}

static void mark_time_bar(account_t *self, const account_policy_t *policy, int32_t today_day)
{
    self->first_missed_due_day = oldest_unpaid_due_day(self, today_day);
    if (self->time_barred || self->first_missed_due_day == ACCOUNT_DAY_NONE)
        return;
    int64_t last_paid =
        self->last_payment_day == ACCOUNT_DAY_NONE ? LIMITATION_DAY_NONE : self->last_payment_day;
    bool barred = false;
    int64_t since = 0;
    int rc = limitation_is_time_barred(policy->limitation, self->jurisdiction, last_paid,
                                       LIMITATION_DAY_NONE, self->first_missed_due_day,
                                       today_day, &barred, &since);
    /* No rule for the jurisdiction: never silently treated as collectable at law. */
    self->time_barred = rc == LIMITATION_EUNKNOWN || (rc == LIMITATION_OK && barred);
}

void account_score(const account_t *self, const account_policy_t *policy, int32_t day,
                   score_result_t *result)
{
    size_t n = self->payment_count < ACCOUNT_PAYMENT_DAYS ? self->payment_count
                                                          : ACCOUNT_PAYMENT_DAYS;
    int64_t balance = account_outstanding(self);
    score_inputs_t in = {
        .dpd = self->dpd,
        .today_day = day,
        .payment_days = self->payment_days,
        .payment_count = n,
        .broken_promises = arrangement_broken_count(&self->arrangement),
        .contact_points = self->contact_points,
        .balance_minor = balance,
    };
    score_account(strategy_scorecard(policy->strategy), &in, result);
}

static void score_and_segment(account_t *self, const account_policy_t *policy, int32_t today_day)
{
    score_result_t result;
    account_score(self, policy, today_day, &result);
    int64_t balance = account_outstanding(self);
    self->score = result.points;
    int segment = segment_for(strategy_segments(policy->strategy), result.points, balance,
                              self->product);
    if (segment != self->segment) {
        /* Another segment works from another action list: its schedule starts afresh. */
        for (size_t i = 0; i < STRATEGY_MAX_ACTIONS; i++)
            self->action_last_day[i] = ACCOUNT_DAY_NONE;
        self->segment = segment;
    }
}

static void escalate(account_t *self, const account_policy_t *policy, int32_t today_day,
                     int64_t now_ms, effects_t *fx)
{
    escalation_facts_t facts = {
        .stage = self->stage,
        .dpd = self->dpd,
        .balance_minor = account_outstanding(self),
        .broken_promises = arrangement_broken_count(&self->arrangement),
        .time_barred = self->time_barred,
        .hold_bits = self->holds.bits,
        .may_refer_to_legal = self->may_refer_to_legal,
        .may_sell = self->may_sell,
        .days_since_legal_return = self->legal_returned_day == ACCOUNT_DAY_NONE
                                       ? INT32_MAX : today_day - self->legal_returned_day,
        .days_since_sale_return = self->sale_returned_day == ACCOUNT_DAY_NONE
                                      ? INT32_MAX : today_day - self->sale_returned_day,
    };
    escalation_t decision;
    char why[ACCOUNT_REASON_MAX], moved[ACCOUNT_REASON_MAX];
    strategy_escalation(policy->strategy, &facts, &decision, why, sizeof why);
    if (decision == ESCALATION_NONE)
        return;
    bool legal = decision == ESCALATION_LEGAL;
    if (!account_move(self, policy, legal ? STAGE_EVENT_REFER_LEGAL : STAGE_EVENT_LIST_FOR_SALE,
                      today_day, now_ms, "staging", "stage", fx, moved, sizeof moved))
        return;
    fx_entry(fx, self, today_day, "staging", legal ? "referral" : "listing",
             account_outstanding(self), NULL, "%s", why);
    effect_t *e = fx_push(fx, legal ? EFFECT_REFER : EFFECT_LIST, self, today_day, NULL);
    snprintf(e->reason, sizeof e->reason, "%s", why);
    if (legal) {
        self->stats.referrals++;
        fx_cancel(fx, self, today_day, "referred to legal");
        fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__LEGAL_STATUS, 0, NULL,
                  "referred");
    } else {
        self->stats.listings++;
    }
}

static void request_contacts(account_t *self, const account_policy_t *policy, int32_t today_day,
                             effects_t *fx)
{
    if (!stage_contact_allowed(self->stage, &self->holds, NULL) ||
        arrangement_pauses_dunning(strategy_arrangement_policy(policy->strategy), &self->arrangement, today_day))
        return;
    const strategy_list_t *list = NULL;
    strategy_actions_for(policy->strategy, self->stage, self->segment, self->arm, &list);
    int32_t in_stage = today_day - self->stage_since_day;
    for (uint32_t i = 0; list && i < list->count; i++) {
        const strategy_action_t *a = &list->actions[i];
        int32_t last = self->action_last_day[i];
        if (in_stage < a->after_days || (last != ACCOUNT_DAY_NONE && today_day - last < a->cadence_days))
            continue;
        if (a->mentions_legal && self->time_barred)
            continue;   /* never a legal threat on a time-barred debt */
        self->action_last_day[i] = today_day;
        self->contact_pending = true;
        const effect_t *e = fx_contact(fx, self, today_day, a);
        fx_entry(fx, self, today_day, "staging", "contact", 0, e->reference,
                 "%s %s: day %d of %s, segment %s, arm %s", strategy_channel_name(a->channel),
                 a->template_id, (int)in_stage, stage_name(self->stage),
                 segment_name(strategy_segments(policy->strategy), self->segment),
                 strategy_arm_name(policy->strategy, self->arm));
    }
}

int account_evaluate(account_t *self, const account_policy_t *policy, int32_t today_day,
                     int64_t now_ms, effects_t *fx)
{
    if (self->evaluated_day != ACCOUNT_DAY_NONE && today_day <= self->evaluated_day)
        return ACCOUNT_OK;
    if (account_is_closed(self)) {
        self->evaluated_day = today_day;
        return ACCOUNT_OK;
    }
    accrue_penalty(self, policy, today_day);
    review_arrangement(self, policy, today_day, fx);
    note_overdue_answers(self, today_day, fx);
    mark_time_bar(self, policy, today_day);
    account_restage(self, policy, today_day, now_ms, fx);
    if (!account_is_closed(self)) {
        score_and_segment(self, policy, today_day);
        escalate(self, policy, today_day, now_ms, fx);
        request_contacts(self, policy, today_day, fx);
    }
    self->evaluated_day = today_day;
    return ACCOUNT_OK;
}
