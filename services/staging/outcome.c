/* outcome: what outreach, legal, sale and operators report about an account, turned
 * into arrangements, holds and stage moves (account.h). Pure. */
#include <stdio.h>
#include <string.h>

#include "account_fx.h"
#include "tz.h"

#define DATE_YEAR_MIN 1970
#define DATE_YEAR_MAX 2200

static int refused(reject_t *reject, Arrears__Reject__Code code, const char *field,
                   const char *why)
{
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, code, field, "%s", why);
    return ACCOUNT_EREFUSED;
}

static bool date_of(const char *text, const char *field, int32_t *day, reject_t *reject)
{
    int64_t days;
    char why[96];
    if (!tz_date_parse(text, DATE_YEAR_MIN, DATE_YEAR_MAX, &days, why, sizeof why)) {
        refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, field, why);
        return false;
    }
    *day = (int32_t)days;
    return true;
}

static const arrangement_policy_t *terms(const account_policy_t *policy)
{
    return strategy_arrangement_policy(policy->strategy);
}

/* The entries outreach's outcome made from fx->items[from] on name the contact it
 * answers (its contact id): the report attributes the payments that follow an agreement
 * to that contact's channel (proto ReportSection.recovery_by_channel). Entries that
 * already name something keep it. */
static void name_contact(effects_t *fx, size_t from, const char *contact_id)
{
    for (size_t i = from; contact_id && *contact_id && i < fx->count; i++) {
        effect_t *e = &fx->items[i];
        if (e->kind == EFFECT_ENTRY && strcmp(e->actor, "outreach") == 0 && !e->reference[0])
            snprintf(e->reference, sizeof e->reference, "%s", contact_id);
    }
}

static int promise(account_t *self, const account_policy_t *policy,
                   const Arrears__ContactOutcome *o, int32_t today_day, effects_t *fx,
                   reject_t *reject)
{
    int32_t day;
    if (!date_of(o->promise_date, "promise_date", &day, reject))
        return ACCOUNT_EREFUSED;
    arrangement_kind_t before = self->arrangement.kind;
    arrangement_decision_t d;
    arrangement_outcome_t out =
        arrangement_promise(terms(policy), &self->arrangement, o->promise_amount_minor,
                            account_outstanding(self), today_day, day, &d);
    bool ok = out == ARRANGEMENT_ACCEPTED;
    size_t mark = fx->count;
    account_note_decision(self, before, &d, today_day, "outreach", ok ? "promise" : "refused",
                          o->promise_amount_minor, fx);
    name_contact(fx, mark, o->contact_id);
    if (ok) {
        self->stats.promises_made++;
        fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__PROMISE_RECORDED,
                  o->promise_amount_minor, o->contact_id, o->promise_date);
        fx_cancel(fx, self, today_day, "promise to pay recorded");
    }
    return ACCOUNT_OK;
}

static int plan(account_t *self, const account_policy_t *policy, const Arrears__ContactOutcome *o,
                int32_t today_day, effects_t *fx, reject_t *reject)
{
    plan_instalment_t items[ARRANGEMENT_PLAN_MAX];
    if (o->n_plan == 0 || o->n_plan > ARRANGEMENT_PLAN_MAX)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "plan",
                       "a plan holds 1 to 60 instalments");
    for (size_t i = 0; i < o->n_plan; i++) {
        char field[32];
        snprintf(field, sizeof field, "plan[%zu].due_date", i);
        if (!date_of(o->plan[i]->due_date, field, &items[i].due_day, reject))
            return ACCOUNT_EREFUSED;
        items[i].amount_minor = o->plan[i]->amount_minor;
    }
    int64_t penalty = 0;
    book_outstanding(&self->book, BOOK_PENALTY, &penalty);
    arrangement_kind_t before = self->arrangement.kind;
    arrangement_decision_t d;
    arrangement_outcome_t out =
        arrangement_plan(terms(policy), &self->arrangement, items, o->n_plan, o->waive_penalty,
                         account_outstanding(self), penalty, today_day, &d);
    bool ok = out == ARRANGEMENT_ACCEPTED;
    size_t mark = fx->count;
    account_note_decision(self, before, &d, today_day, "outreach", ok ? "plan" : "refused",
                          ok ? self->arrangement.amount_minor : 0, fx);
    name_contact(fx, mark, o->contact_id);
    if (ok)
        fx_cancel(fx, self, today_day, "repayment plan agreed");
    return ACCOUNT_OK;
}

static int settlement(account_t *self, const account_policy_t *policy,
                      const Arrears__ContactOutcome *o, int32_t today_day, effects_t *fx,
                      reject_t *reject)
{
    int32_t day;
    if (!date_of(o->pay_by_date, "pay_by_date", &day, reject))
        return ACCOUNT_EREFUSED;
    arrangement_kind_t before = self->arrangement.kind;
    arrangement_decision_t d;
    arrangement_outcome_t out = arrangement_settlement(
        terms(policy), &self->arrangement, self->stage, self->segment, account_outstanding(self),
        o->settlement_amount_minor, today_day, day, &d);
    size_t mark = fx->count;
    account_note_decision(self, before, &d, today_day, "outreach",
                          out == ARRANGEMENT_REFUSED ? "refused" : "settlement",
                          o->settlement_amount_minor, fx);
    name_contact(fx, mark, o->contact_id);
    return ACCOUNT_OK;
}

/* The reason starts "<ContactResult> by <Channel>" in the proto's names: the report
 * reads the channel and whether the contact reached the borrower from it
 * (report_figures.c), on old timelines as on new ones. Keep that prefix. */
static void note_contact(account_t *self, const Arrears__ContactOutcome *o, int32_t today_day,
                         effects_t *fx)
{
    const ProtobufCEnumValue *r =
        protobuf_c_enum_descriptor_get_value(&arrears__contact_result__descriptor, o->result);
    const ProtobufCEnumValue *c =
        protobuf_c_enum_descriptor_get_value(&arrears__channel__descriptor, o->channel);
    fx_entry(fx, self, today_day, "outreach", "outcome", 0, o->contact_id, "%s by %s%s%.120s",
             r ? r->name : "?", c ? c->name : "an unnamed channel",
             o->detail && *o->detail ? ": " : "", o->detail ? o->detail : "");
}

int account_outcome(account_t *self, const account_policy_t *policy,
                    const Arrears__ContactOutcome *o, int32_t today_day, int64_t now_ms,
                    effects_t *fx, reject_t *reject)
{
    (void)now_ms;
    if (!protobuf_c_enum_descriptor_get_value(&arrears__contact_result__descriptor, o->result) ||
        o->result == ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "result", "not a result");
    switch (o->result) {
    case ARREARS__CONTACT_RESULT__PROMISE_TO_PAY:
        return promise(self, policy, o, today_day, fx, reject);
    case ARREARS__CONTACT_RESULT__PLAN_AGREED:
        return plan(self, policy, o, today_day, fx, reject);
    case ARREARS__CONTACT_RESULT__SETTLEMENT_OFFERED:
        return settlement(self, policy, o, today_day, fx, reject);
    case ARREARS__CONTACT_RESULT__DISPUTED:
    case ARREARS__CONTACT_RESULT__COMPLAINED:
        note_contact(self, o, today_day, fx);
        return account_complaint(self, policy, "outreach",
                                 o->result == ARREARS__CONTACT_RESULT__DISPUTED, o->contact_id,
                                 today_day, fx);
    case ARREARS__CONTACT_RESULT__OPTED_OUT:
        note_contact(self, o, today_day, fx);
        holds_place(&self->holds, HOLD_CEASE_CONTACT, today_day, STAGE_NO_DAY);
        fx_entry(fx, self, today_day, "outreach", "hold", 0, o->contact_id,
                 "cease_contact hold placed: the borrower opted out");
        fx_cancel(fx, self, today_day, "borrower opted out");
        fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, NULL,
                  "cease_contact");
        return ACCOUNT_OK;
    default:
        note_contact(self, o, today_day, fx);
        return ACCOUNT_OK;
    }
}

/* ---------------------------------------------------------------- legal and sale */

/* Legal's re-check found the debt time-barred: the same flag staging's own limitation
 * check sets (never lifted), so no referral again and no template that mentions legal
 * action. */
static void mark_time_barred_by_legal(account_t *self, const Arrears__LegalUpdate *u,
                                      int32_t today_day, effects_t *fx)
{
    self->time_barred = true;
    fx_entry(fx, self, today_day, "legal", "time_barred", 0, u->case_id, "%.190s",
             u->detail && *u->detail ? u->detail : "legal's re-check found the debt time-barred");
}

int account_legal_update(account_t *self, const account_policy_t *policy,
                         const Arrears__LegalUpdate *u, int32_t today_day, int64_t now_ms,
                         effects_t *fx, reject_t *reject)
{
    const ProtobufCEnumValue *st =
        protobuf_c_enum_descriptor_get_value(&arrears__case_status__descriptor, u->status);
    if (!st || u->status == ARREARS__CASE_STATUS__CASE_STATUS_UNSPECIFIED)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "status", "not a case status");
    if (u->recovery_minor < 0 || u->costs_minor < 0)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "recovery_minor",
                       "amounts are never negative");
    /* The case's last steps may follow the account's close (the firm's recovery paid it
     * off and the firm then reports the case closed): recorded, without money. */
    bool after_close = account_is_closed(self) && u->recovery_minor == 0 &&
                       u->case_id && strcmp(u->case_id, self->case_id) == 0;
    if (self->stage != STAGE_LEGAL && !after_close)
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "account_ref",
                       "the account is not with legal");
    if (after_close) {
        fx_entry(fx, self, today_day, "legal", "legal", u->costs_minor, u->case_id,
                 "case %s after the account closed%s%.120s", st->name,
                 u->detail && *u->detail ? ": " : "", u->detail ? u->detail : "");
        return ACCOUNT_OK;
    }
    snprintf(self->case_id, sizeof self->case_id, "%s", u->case_id ? u->case_id : "");
    fx_entry(fx, self, today_day, "legal", "legal", u->costs_minor, u->case_id,
             "case %s%s%.120s", st->name, u->detail && *u->detail ? ": " : "",
             u->detail ? u->detail : "");
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__LEGAL_STATUS, u->recovery_minor,
              u->case_id, st->name);
    if (u->recovery_minor > 0) {
        int rc = account_pay(self, policy, "legal", u->recovery_ref, u->recovery_minor,
                             self->currency, today_day, now_ms, fx, reject);
        if (rc != ACCOUNT_OK)
            return rc;
    }
    if (u->status == ARREARS__CASE_STATUS__DECLINED && u->time_barred)
        mark_time_barred_by_legal(self, u, today_day, fx);
    char why[ACCOUNT_REASON_MAX];
    if (u->status == ARREARS__CASE_STATUS__CASE_SETTLED && !account_is_closed(self))
        account_move(self, policy, STAGE_EVENT_SETTLED, today_day, now_ms, "legal", "stage", fx,
                     why, sizeof why);
    else if ((u->status == ARREARS__CASE_STATUS__WITHDRAWN ||
              u->status == ARREARS__CASE_STATUS__DECLINED ||
              u->status == ARREARS__CASE_STATUS__CASE_CLOSED) &&
             self->stage == STAGE_LEGAL) {
        self->dpd = (int32_t)book_dpd(&self->book, today_day);
        self->legal_returned_day = today_day;
        account_move(self, policy, STAGE_EVENT_LEGAL_RETURNED, today_day, now_ms, "legal", "stage",
                     fx, why, sizeof why);
    }
    return ACCOUNT_OK;
}

/* The one letter a sold account gets (account.h account_sale_result). */
static const strategy_action_t notice_of_assignment = {
    .channel = CHANNEL_LETTER,
    .template_id = ACCOUNT_NOTICE_OF_ASSIGNMENT,
    .cadence_days = 1,
    .priority = 10,
};

/* The borrower learns the debt now belongs to the buyer. Not a dunning contact:
 * contact_pending stays as the close left it, so no later payment or hold at staging
 * takes the notice back; the stage (sold) stops every other request. The close's cancel
 * went first, so outreach drops what was pending and keeps this. */
static void notify_assignment(account_t *self, const Arrears__SaleResult *r, int32_t today_day,
                              effects_t *fx)
{
    const effect_t *e = fx_contact(fx, self, today_day, &notice_of_assignment);
    fx_entry(fx, self, today_day, "staging", "contact", 0, e->reference,
             "letter %s: the borrower is told the debt was sold to %.64s",
             ACCOUNT_NOTICE_OF_ASSIGNMENT, r->buyer && *r->buyer ? r->buyer : "a buyer");
}

int account_sale_result(account_t *self, const account_policy_t *policy,
                        const Arrears__SaleResult *r, int32_t today_day, int64_t now_ms,
                        effects_t *fx, reject_t *reject)
{
    stage_event_kind_t kind;
    const char *what;
    switch (r->outcome) {
    case ARREARS__SALE_OUTCOME__SALE_SOLD: kind = STAGE_EVENT_SOLD; what = "sold"; break;
    case ARREARS__SALE_OUTCOME__SALE_WITHDRAWN:
        kind = STAGE_EVENT_SALE_WITHDRAWN;
        what = "sale_withdrawn";
        break;
    case ARREARS__SALE_OUTCOME__SALE_PUT_BACK: kind = STAGE_EVENT_PUT_BACK; what = "put_back"; break;
    default: return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "outcome", "not a sale outcome");
    }
    if (r->price_minor < 0)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "price_minor",
                       "a price is never negative");
    const char *detail_sep = r->detail && *r->detail ? ": " : "";
    const char *detail = r->detail ? r->detail : "";
    if (kind == STAGE_EVENT_SALE_WITHDRAWN && self->stage != STAGE_SALE) {
        /* Sale's answer to the news staging sent it (or a late one): on the record. */
        fx_entry(fx, self, today_day, "sale", what, 0, r->portfolio_id,
                 "withdrawn after the account left sale (stage %s)%s%.120s",
                 stage_name(self->stage), detail_sep, detail);
        return ACCOUNT_OK;
    }
    self->dpd = (int32_t)book_dpd(&self->book, today_day);
    char why[ACCOUNT_REASON_MAX];
    if (!account_move(self, policy, kind, today_day, now_ms, "sale", "stage", fx, why, sizeof why))
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "outcome", why);
    if (kind == STAGE_EVENT_SOLD)
        fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__SOLD, r->price_minor,
                  r->portfolio_id, "sold");
    fx_entry(fx, self, today_day, "sale", what, r->price_minor, r->portfolio_id, "%s%.64s%s%.120s",
             kind == STAGE_EVENT_SOLD ? "sold to " : "",
             kind == STAGE_EVENT_SOLD ? (r->buyer ? r->buyer : "a buyer") : "", detail_sep, detail);
    if (kind == STAGE_EVENT_SOLD)
        notify_assignment(self, r, today_day, fx);
    else
        self->sale_returned_day = today_day;   /* listed again only after the retry period */
    return ACCOUNT_OK;
}

/* ---------------------------------------------------------------- operators */

static int resolve_complaint(account_t *self, const char *who, const char *why, int32_t today_day,
                             effects_t *fx, reject_t *reject)
{
    bool lifted = false;
    static const hold_kind_t kinds[] = {HOLD_COMPLAINT, HOLD_DISPUTE};
    for (size_t i = 0; i < 2; i++) {
        if (!holds_has(&self->holds, kinds[i]))
            continue;
        bool late = holds_response_overdue(&self->holds, kinds[i], today_day);
        holds_lift(&self->holds, kinds[i]);
        fx_entry(fx, self, today_day, who, "hold_lifted", 0, NULL, "%s resolved%s: %.150s",
                 hold_name(kinds[i]), late ? " after its deadline" : "", why);
        lifted = true;
    }
    if (!lifted)
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "kind",
                       "the account has no open complaint or dispute");
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, NULL, "released");
    return ACCOUNT_OK;
}

static int lift_hold(account_t *self, const char *who, const Arrears__OperatorAction *a,
                     int32_t today_day, effects_t *fx, reject_t *reject)
{
    hold_kind_t kind;
    if (!a->hold || hold_from_name(a->hold, &kind) != STAGE_OK)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "hold", "not a hold name");
    if (holds_lift(&self->holds, kind) != STAGE_OK)
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "hold", "that hold is not placed");
    fx_entry(fx, self, today_day, who, "hold_lifted", 0, NULL, "%s lifted: %.150s",
             hold_name(kind), a->reason);
    fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, NULL, "released");
    return ACCOUNT_OK;
}

/* The unpaid instalment due on due_day, moved to new_due_day: once, within the policy,
 * and never past the next instalment (the schedule stays in order). */
static int defer(account_t *self, const account_policy_t *policy, const char *who,
                 const Arrears__OperatorAction *a, int32_t today_day, int64_t now_ms,
                 effects_t *fx, reject_t *reject)
{
    int32_t due, to;
    if (!date_of(a->due_date, "due_date", &due, reject) ||
        !date_of(a->new_due_date, "new_due_date", &to, reject))
        return ACCOUNT_EREFUSED;
    size_t i = 0;
    while (i < self->book.count && self->book.instalments[i].due_day != due)
        i++;
    if (i == self->book.count || !book_instalment_unpaid(&self->book.instalments[i]))
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "due_date",
                       "no unpaid instalment is due on that date");
    if (i + 1 < self->book.count && self->book.instalments[i + 1].due_day <= to)
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "new_due_date",
                       "the new date must come before the next instalment's");
    arrangement_kind_t before = self->arrangement.kind;
    arrangement_decision_t d;
    if (arrangement_defer(terms(policy), &self->arrangement, due, to, today_day, &d) !=
        ARRANGEMENT_ACCEPTED)
        return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "kind", d.reason);
    self->book.instalments[i].due_day = to;
    account_note_decision(self, before, &d, today_day, who, "deferral", 0, fx);
    account_restage(self, policy, today_day, now_ms, fx);
    return ACCOUNT_OK;
}

/* The audit of a CORRECT_CONTACT: who and why, and how many points of each kind, never
 * their values (the timeline is shown to operators and exported; the points live on the
 * borrower record only). staging writes the points once this said yes (staging.c). */
static int correct_contact(account_t *self, const char *who, const Arrears__OperatorAction *a,
                           int32_t today_day, effects_t *fx, reject_t *reject)
{
    if (!a->n_phones && !a->n_emails && !a->address)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "phones",
                       "name at least one phone, e-mail or the address to correct");
    char what[96] = "", *at = what;
    size_t left = sizeof what;
    const struct { size_t n; const char *one, *many; } kinds[] = {
        {a->n_phones, "phone", "phones"}, {a->n_emails, "email", "emails"}};
    for (size_t i = 0; i < 2; i++) {
        if (!kinds[i].n)
            continue;
        int w = snprintf(at, left, "%s%zu %s", at == what ? "" : ", ", kinds[i].n,
                         kinds[i].n == 1 ? kinds[i].one : kinds[i].many);
        at += w, left -= (size_t)w;
    }
    if (a->address)
        snprintf(at, left, "%sthe address", at == what ? "" : ", ");
    fx_entry(fx, self, today_day, who, "updated", 0, NULL, "%s corrected by operator: %.150s",
             what, a->reason);
    return ACCOUNT_OK;
}

int account_operator(account_t *self, const account_policy_t *policy, const char *who,
                     const Arrears__OperatorAction *a, int32_t today_day, int64_t now_ms,
                     effects_t *fx, reject_t *reject)
{
    if (!a->reason || !*a->reason || strlen(a->reason) > 200)
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "reason",
                       "every operator action needs a reason, 1 to 200 bytes");
    char why[ACCOUNT_REASON_MAX];
    switch (a->kind) {
    case ARREARS__OPERATOR_ACTION__KIND__RESOLVE_COMPLAINT:
        return resolve_complaint(self, who, a->reason, today_day, fx, reject);
    case ARREARS__OPERATOR_ACTION__KIND__PLACE_HOLD:
        holds_place(&self->holds, HOLD_MANUAL, today_day, STAGE_NO_DAY);
        fx_entry(fx, self, today_day, who, "hold", 0, NULL, "manual hold: %.150s", a->reason);
        fx_cancel(fx, self, today_day, "hold placed");
        fx_status(fx, self, today_day, ARREARS__FEED_EVENT_KIND__HOLD_CHANGED, 0, NULL, "manual");
        return ACCOUNT_OK;
    case ARREARS__OPERATOR_ACTION__KIND__LIFT_HOLD:
        return lift_hold(self, who, a, today_day, fx, reject);
    case ARREARS__OPERATOR_ACTION__KIND__WRITE_OFF:
        if (!account_move(self, policy, STAGE_EVENT_WRITTEN_OFF, today_day, now_ms, who, "stage",
                          fx, why, sizeof why))
            return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "kind", why);
        fx_entry(fx, self, today_day, who, "written_off", account_outstanding(self), NULL,
                 "%.150s", a->reason);
        return ACCOUNT_OK;
    case ARREARS__OPERATOR_ACTION__KIND__DEFER:
        return defer(self, policy, who, a, today_day, now_ms, fx, reject);
    case ARREARS__OPERATOR_ACTION__KIND__CORRECT_CONTACT:
        return correct_contact(self, who, a, today_day, fx, reject);
    case ARREARS__OPERATOR_ACTION__KIND__APPROVE_SETTLEMENT: {
        arrangement_kind_t before = self->arrangement.kind;
        arrangement_decision_t d;
        arrangement_outcome_t out = arrangement_approve(terms(policy), &self->arrangement,
                                                        today_day, &d);
        if (out == ARRANGEMENT_REFUSED)
            return refused(reject, ARREARS__REJECT__CODE__CONFLICT, "kind", d.reason);
        account_note_decision(self, before, &d, today_day, who, "settlement", 0, fx);
        if (out == ARRANGEMENT_SETTLED)
            account_move(self, policy, STAGE_EVENT_SETTLED, today_day, now_ms, who, "stage", fx,
                         why, sizeof why);
        return ACCOUNT_OK;
    }
    default:
        return refused(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "kind", "not an operator action");
    }
}
