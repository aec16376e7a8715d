/* update: a firm's or agency's report on its own case — a step of the lifecycle, money
 * (a recovery matched by its reference, costs), or the case handed back. Everything is
 * checked before anything is written; a refusal says why and changes nothing. */
#include "legal.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "remit.h"
#include "validate.h"

typedef struct {
    legal_t *self;
    MDB_txn *txn;
    const char *principal;
    const Arrears__CaseUpdate *u;
    reject_t *reject;
    int64_t now_ms;
    int64_t day;
    bool repeat;             /* the recovery was already counted: a resend */
    int64_t commission_minor;
} update_t;

static const Arrears__Reject__Code BAD = ARREARS__REJECT__CODE__INVALID_FIELD;

static int check_fields(update_t *x)
{
    const Arrears__CaseUpdate *u = x->u;
    if (u->evidence_ref && (strlen(u->evidence_ref) == 0 || strlen(u->evidence_ref) > 128))
        return receiver_refuse(x->reject, BAD, "evidence_ref", "1 to 128 bytes when given");
    if (u->recovery_minor < 0 || u->costs_minor < 0)
        return receiver_refuse(x->reject, BAD, "recovery_minor", "amounts are never negative");
    if (u->recovery_minor > 0 && !validate_ref(u->recovery_ref))
        return receiver_refuse(x->reject, BAD, "recovery_ref",
                               "a recovery needs its reference: 1 to 64 bytes of [A-Za-z0-9._:-]");
    if (u->detail && strlen(u->detail) > 200)
        return receiver_refuse(x->reject, ARREARS__REJECT__CODE__TOO_LARGE, "detail",
                               "at most 200 bytes");
    if (!u->hand_back && (!u->date || validate_date(u->date, &x->day) != 0))
        return receiver_refuse(x->reject, BAD, "date", "the step's date, YYYY-MM-DD");
    return 0;
}

/* The same refusal whether the case is unknown or another assignee's: an assignee
 * learns nothing about cases that are not its own. */
static int not_yours(update_t *x)
{
    return receiver_refuse(x->reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "case_id",
                           "no case %.16s is placed with %s", x->u->case_id ? x->u->case_id : "",
                           x->principal);
}

/* The lifecycle and money rules for this report on this case. */
static int check_step(update_t *x, const StoredCase *c, const assignee_t *a)
{
    const Arrears__CaseUpdate *u = x->u;
    bool known = false;
    int64_t known_minor = 0;
    int rc = u->recovery_minor > 0 ? cases_recovery_get(x->self->cases, x->txn, c->case_id,
                                                        u->recovery_ref, &known, &known_minor)
                                   : 0;
    if (rc != 0)
        return rc;
    recovery_match_t match = u->recovery_minor > 0 ? recovery_match(known, known_minor,
                                                                    u->recovery_minor)
                                                   : RECOVERY_NEW;
    if (match == RECOVERY_CONFLICT)
        return receiver_refuse(x->reject, ARREARS__REJECT__CODE__CONFLICT, "recovery_ref",
                               "recovery %s is on record with another amount (%lld)",
                               u->recovery_ref, (long long)known_minor);
    x->repeat = match == RECOVERY_REPEAT;
    bool money = (u->recovery_minor > 0 && !x->repeat) || u->costs_minor > 0;
    lifecycle_step_t st = {
        .from = (case_status_t)c->status, .to = (case_status_t)u->status, .day = x->day,
        .last_day = c->last_step_day, .today_day = legal_day_of(x->self, c, x->now_ms),
        .carries_money = money, .has_evidence = u->evidence_ref != NULL,
    };
    char why[LIFECYCLE_REASON_MAX];
    if (x->repeat && u->status == c->status && u->costs_minor == 0)
        return APPLY_DUPLICATE;   /* a resend of a money note already counted */
    if (lifecycle_check(&st, why, sizeof why) != LIFECYCLE_OK)
        return receiver_refuse(x->reject, ARREARS__REJECT__CODE__CONFLICT, "status", "%s", why);
    rc = x->repeat ? 0 : remit_commission(u->recovery_minor, a->commission_bps,
                                          &x->commission_minor);
    return rc == 0 ? 0 : receiver_refuse(x->reject, BAD, "recovery_minor",
                                         "the commission on it cannot be computed");
}

/* The step as recorded; from is the state the case was in before it. */
static StoredStep step_of(const update_t *x, const StoredCase *c, Arrears__CaseStatus from)
{
    const Arrears__CaseUpdate *u = x->u;
    bool note = u->status == from && u->status != ARREARS__CASE_STATUS__HEARING;
    StoredStep s = legal_step(x->now_ms, c->status, x->principal, note ? "money" : "step",
                              x->principal, u->detail);
    s.has_day = 1;
    s.day = x->day;
    s.evidence_ref = u->evidence_ref;
    s.has_recovery_minor = s.has_commission_minor = !x->repeat && u->recovery_minor > 0;
    s.recovery_minor = s.has_recovery_minor ? u->recovery_minor : 0;
    s.recovery_ref = s.has_recovery_minor ? u->recovery_ref : NULL;
    s.commission_minor = s.has_commission_minor ? x->commission_minor : 0;
    s.has_costs_minor = u->costs_minor > 0;
    s.costs_minor = u->costs_minor;
    return s;
}

/* The step applied to after (before is the case as it was). */
static int apply_step(update_t *x, const StoredCase *before, StoredCase *after,
                      const assignee_t *a)
{
    legal_t *self = x->self;
    bool accepting = before->status == ARREARS__CASE_STATUS__REFERRED;
    after->status = x->u->status;
    after->has_last_step_day = after->has_last_progress_ms = 1;
    after->last_step_day = x->day;
    after->last_progress_ms = x->now_ms;
    if (accepting) {
        after->has_accepted_ms = 1;
        after->accepted_ms = x->now_ms;
    }
    if (after->status == ARREARS__CASE_STATUS__JUDGMENT && after->judgment_ms == 0) {
        after->has_judgment_ms = 1;
        after->judgment_ms = x->now_ms;
    }
    bool ended = case_status_terminal((case_status_t)after->status);
    placement_t p = {(case_status_t)after->status, after->offered_ms, x->now_ms};
    int64_t due = INT64_MAX;
    (void)assign_due(a, &p, x->now_ms, &due);
    after->has_due_ms = 1;
    after->due_ms = ended || due == INT64_MAX ? 0 : due;
    StoredStep s = step_of(x, after, before->status);
    int rc = legal_add_step(after, &s);
    if (rc == 0 && s.has_recovery_minor)
        rc = cases_recovery_put(self->cases, x->txn, after->case_id, s.recovery_ref,
                                s.recovery_minor);
    if (rc == 0 && (accepting || ended))   /* the assignee holds the account, or no longer */
        rc = legal_tell_outreach(self, x->txn, after, x->principal, !ended);
    rc = rc ? rc : cases_save(self->cases, x->txn, before, after);
    return rc ? rc : legal_tell_staging(self, x->txn, after, &s, false);
}

static int hand_back(update_t *x, StoredCase *before, StoredCase *after)
{
    if (!case_status_recallable((case_status_t)before->status))
        return receiver_refuse(x->reject, ARREARS__REJECT__CODE__CONFLICT, "hand_back",
                               "a case in %s cannot be handed back: report it withdrawn",
                               case_status_name((case_status_t)before->status));
    int rc = legal_take_back(x->self, x->txn, after, "handed_back",
                             x->u->detail ? x->u->detail : "returned by the assignee");
    return rc ? rc : legal_place(x->self, x->txn, before, after);
}

/* A report on a case that has ended. Its end, reported again without money, is a
 * duplicate: legal may have closed the case first (the account was paid in full by the
 * assignee's own recovery) while the assignee's closing report was on its way. */
static int ended_already(update_t *x, const StoredCase *c)
{
    const Arrears__CaseUpdate *u = x->u;
    bool an_end = case_status_terminal((case_status_t)u->status) &&
                  u->status != ARREARS__CASE_STATUS__DECLINED;
    if (an_end && !u->hand_back && u->recovery_minor == 0 && u->costs_minor == 0)
        return APPLY_DUPLICATE;
    return receiver_refuse(x->reject, ARREARS__REJECT__CODE__CONFLICT, "case_id",
                           "case %s has ended (%s): money or steps after its end are for a "
                           "person at legal", c->case_id, case_status_name((case_status_t)c->status));
}

static int update_case(update_t *x, StoredCase *before, StoredCase *after)
{
    const assignee_t *a = legal_assignee(x->self, x->principal);
    bool mine = before && a && before->assignee && strcmp(before->assignee, x->principal) == 0;
    if (!mine)
        return not_yours(x);
    /* What the update tells goes to the shard that referred the case. */
    int rc = legal_need_room(x->self, x->txn, before->staging_shard, x->reject);
    if (rc != 0)
        return rc;
    if (case_status_terminal((case_status_t)before->status))
        return ended_already(x, before);
    if (before->n_steps >= CASES_STEPS_MAX - CASES_STEPS_RESERVED)
        return receiver_refuse(x->reject, ARREARS__REJECT__CODE__TOO_LARGE, "case_id",
                               "case %s's history is full (%zu steps): report the case's end, "
                               "or ask legal's operators", before->case_id, before->n_steps);
    if (x->u->hand_back)
        return hand_back(x, before, after);
    rc = check_step(x, before, a);
    return rc ? rc : apply_step(x, before, after, a);
}

int legal_case_update(legal_t *self, MDB_txn *txn, const char *principal,
                      const Arrears__CaseUpdate *u, reject_t *reject)
{
    update_t x = {self, txn, principal, u, reject, aclock_now_ms(self->clock), 0, false, 0};
    if (!u->case_id || !*u->case_id || strlen(u->case_id) > CASES_ID_MAX)
        return not_yours(&x);
    int rc = check_fields(&x);
    if (rc != 0)
        return rc;
    StoredCase *before = NULL, *after = NULL;
    rc = cases_get(self->cases, txn, u->case_id, &before);
    rc = rc ? rc : cases_get(self->cases, txn, u->case_id, &after);
    rc = rc ? rc : update_case(&x, before, after);
    char quoted[2 * REJECT_REASON_MAX];
    log_event(rc == APPLY_REJECTED ? LOG_WARN : LOG_INFO, "case_update",
              "case=%.16s assignee=%s status=%d hand_back=%d error=%d reason=%s", u->case_id,
              principal, (int)u->status, (int)u->hand_back, rc,
              log_quote(rc == APPLY_REJECTED ? reject->reason : "applied", quoted, sizeof quoted));
    arrears__stored_case__free_unpacked(before, NULL);
    arrears__stored_case__free_unpacked(after, NULL);
    return rc;
}
