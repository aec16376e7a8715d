/* arrangement: what a borrower agreed to instead of the contract's schedule, and
 * whether they keep it.
 *
 *   promise     pay amount by a date. Dunning pauses until date + grace days. Kept as
 *               soon as the payments since it was made reach the kept share of the
 *               amount (policy kept_min_bps; 10000 = all of it) on or before date +
 *               grace; broken the day after date + grace otherwise.
 *   plan        a repayment plan / restructuring: a new schedule of instalments that
 *               must add up to what is owed (less the penalty when waived). While every
 *               instalment due so far was paid within grace the plan is kept, and a
 *               kept plan freezes penalty; an instalment still unpaid the day after its
 *               date + grace breaks it. The penalty waiver is conditional: it takes
 *               effect when the plan completes, so a broken plan leaves penalty owed.
 *   deferral    one due date moved later, at most max_days, once per account.
 *   settlement  a discounted pay-off. Within the configured limit for the account's
 *               stage and segment it is accepted; above it it waits for an operator
 *               (NEEDS_APPROVAL). Approved and paid in full by its pay-by date + grace:
 *               SETTLED, and the account moves to the settled terminal stage.
 *
 * One arrangement runs at a time (promise, plan or settlement). A new plan or
 * settlement supersedes a pending promise (neither kept nor broken); a second promise
 * is refused while one is pending (re-promising must not postpone a break forever); a
 * promise is refused while a plan or settlement runs (its instalments are the
 * promises); a plan or settlement is refused while a plan or settlement runs.
 * Every broken promise, plan or lapsed settlement counts once toward escalation
 * (arrangement_broken_count).
 *
 * Every decision returns an outcome and fills a reason line for the account timeline.
 * Pure: days are borrower-local day numbers passed in; amounts are int64 minor units. */
#ifndef ARREARS_STAGING_ARRANGEMENT_H
#define ARREARS_STAGING_ARRANGEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "score.h"
#include "stage.h"

enum {
    ARRANGEMENT_OK = 0,
    ARRANGEMENT_ECONFIG = -32601,   /* policy refused (err: file:line and why) */
};

#define ARRANGEMENT_PLAN_MAX 60          /* instalments in one plan */
#define ARRANGEMENT_LIMITS_MAX 64        /* settlement limits (stage, segment) */
#define ARRANGEMENT_MAX_DAYS 3650        /* any configured number of days */
#define ARRANGEMENT_REASON_MAX 200
#define ARRANGEMENT_ANY_SEGMENT (-1)

typedef enum {
    ARRANGEMENT_ACCEPTED = 0,   /* recorded: promise made, plan started, deferral granted,
                                   settlement within its limit, approval given, a payment
                                   that decided nothing yet */
    ARRANGEMENT_REFUSED,        /* not allowed; nothing changed; reason says why */
    ARRANGEMENT_NEEDS_APPROVAL, /* settlement above the limit: recorded, awaits an operator */
    ARRANGEMENT_PENDING,        /* review: still running, nothing decided */
    ARRANGEMENT_NONE,           /* no open arrangement */
    ARRANGEMENT_KEPT,           /* promise kept */
    ARRANGEMENT_BROKEN,         /* promise or plan broken, settlement lapsed */
    ARRANGEMENT_COMPLETED,      /* plan paid through */
    ARRANGEMENT_SETTLED,        /* approved settlement paid in full: settle the account */
    ARRANGEMENT_OUTCOME_COUNT
} arrangement_outcome_t;

/* What a call decided. Every call that changes an arrangement first reviews it for
 * the day given, because events of a new day may arrive before its daily review runs:
 * when that review finds a promise or plan broken or a settlement lapsed, lapsed is set
 * and lapsed_reason says so (a timeline entry of its own, before reason's), and the call
 * then proceeds on what is left. */
typedef struct {
    arrangement_outcome_t outcome;
    char reason[ARRANGEMENT_REASON_MAX];
    bool lapsed;
    char lapsed_reason[ARRANGEMENT_REASON_MAX];
} arrangement_decision_t;

typedef enum {
    ARRANGEMENT_KIND_NONE = 0,
    ARRANGEMENT_KIND_PROMISE,
    ARRANGEMENT_KIND_PLAN,
    ARRANGEMENT_KIND_SETTLEMENT,
} arrangement_kind_t;

typedef enum {
    ARRANGEMENT_STATE_NONE = 0,
    ARRANGEMENT_STATE_PENDING,           /* promise before its deadline; approved
                                            settlement awaiting payment */
    ARRANGEMENT_STATE_AWAITING_APPROVAL, /* settlement above its limit */
    ARRANGEMENT_STATE_KEPT,              /* promise: kept (final); plan: being kept */
    ARRANGEMENT_STATE_BROKEN,
    ARRANGEMENT_STATE_COMPLETED,         /* plan paid through; settlement paid */
} arrangement_state_t;

typedef struct {
    int32_t due_day;
    int64_t amount_minor;
} plan_instalment_t;

typedef struct {
    stage_t stage;
    int segment;                 /* ARRANGEMENT_ANY_SEGMENT: every segment */
    int64_t max_discount_bps;
} settlement_limit_t;

typedef struct {
    int32_t promise_grace_days;
    int32_t promise_max_days_ahead;   /* latest promised date, from the day it is made */
    int64_t promise_kept_min_bps;     /* share of the amount that keeps it */
    int32_t plan_grace_days;
    uint32_t plan_min_instalments;
    uint32_t plan_max_instalments;
    int32_t plan_max_days;            /* last instalment at most this long after the start */
    bool plan_may_waive_penalty;
    int32_t deferral_max_days;        /* 0: deferrals are off */
    int32_t settlement_grace_days;
    int32_t settlement_max_days_to_pay;
    int64_t settlement_default_max_discount_bps;
    uint32_t settlement_limit_count;
    settlement_limit_t settlement_limits[ARRANGEMENT_LIMITS_MAX];
} arrangement_policy_t;

/* Promise grace 3 days, at most 30 days ahead, kept at 100%; plan grace 5 days, 2..24
 * instalments within 730 days, waiver allowed; deferral up to 30 days; settlement
 * grace 0, pay within 30 days, no discount without approval. */
void arrangement_policy_default(arrangement_policy_t *policy);

/* Reads the group at group_path (absent: the defaults):
 *   arrangements = {
 *     promise    = { grace_days = 3; max_days_ahead = 30; kept_min_bps = 10000; };
 *     plan       = { grace_days = 5; min_instalments = 2; max_instalments = 24;
 *                    max_days = 730; may_waive_penalty = true; };
 *     deferral   = { max_days = 30; };
 *     settlement = { grace_days = 0; max_days_to_pay = 30; default_max_discount_bps = 0;
 *                    limits = ( { stage = "charged_off"; segment = "high_risk";
 *                                 max_discount_bps = 5000; }, ... ); };
 *   };
 * Stage names as in stage.h, segment names from segments (a limit without segment
 * applies to every segment of its stage). ARRANGEMENT_ECONFIG with "file:line: why". */
int arrangement_policy_load(const conf_t *conf, const char *group_path,
                            const segments_t *segments, arrangement_policy_t *policy,
                            char *err, size_t err_len);

/* The discount limit for a stage and segment: the exact (stage, segment) limit, else the
 * stage's any-segment limit, else the default. */
int64_t arrangement_settlement_limit_bps(const arrangement_policy_t *policy, stage_t stage,
                                         int segment);

/* One account's arrangements. Zero it (or arrangement_init) for a new account. */
typedef struct {
    arrangement_kind_t kind;
    arrangement_state_t state;
    int32_t made_day;
    int32_t due_day;              /* promise date; settlement pay-by; plan: last instalment */
    int64_t amount_minor;         /* promised; settlement amount; plan total */
    int64_t paid_minor;           /* paid toward it since made_day */
    /* plan */
    bool waive_penalty;
    uint32_t plan_count;
    plan_instalment_t plan[ARRANGEMENT_PLAN_MAX];
    /* settlement */
    int64_t owed_minor;           /* what was owed when offered */
    int64_t discount_bps;         /* rounded up: 3000.4 bps shows as 3001 */
    /* lifetime */
    uint32_t kept_count;          /* promises kept, plans completed */
    uint32_t broken_count;        /* promises and plans broken, settlements lapsed */
    bool deferral_used;
    int32_t deferral_from_day, deferral_to_day;
} arrangement_t;

void arrangement_init(arrangement_t *arr);

/* A running promise, plan (kept) or settlement (pending or awaiting approval). */
bool arrangement_is_open(const arrangement_t *arr);
/* Whether dunning waits on day: a promise until its date + grace, a kept plan, an open
 * settlement until its pay-by date + grace. */
bool arrangement_pauses_dunning(const arrangement_policy_t *policy,
                                const arrangement_t *arr, int32_t day);
/* A plan in its kept state: penalty does not accrue (DESIGN.md section 3). */
bool arrangement_freezes_penalty(const arrangement_t *arr);
/* Broken commitments so far, for escalation and the scorecard. */
uint32_t arrangement_broken_count(const arrangement_t *arr);

/* A promise of amount_minor (1 .. owed_minor) by promised_day (today .. today +
 * max_days_ahead). ACCEPTED or REFUSED. */
arrangement_outcome_t arrangement_promise(const arrangement_policy_t *policy,
                                          arrangement_t *arr, int64_t amount_minor,
                                          int64_t owed_minor, int32_t today_day,
                                          int32_t promised_day,
                                          arrangement_decision_t *decision);

/* A plan of count instalments (strictly increasing days from today, each amount > 0)
 * adding up to owed_minor, or owed_minor - penalty_minor when waive_penalty. ACCEPTED or
 * REFUSED. */
arrangement_outcome_t arrangement_plan(const arrangement_policy_t *policy,
                                       arrangement_t *arr,
                                       const plan_instalment_t *instalments, size_t count,
                                       bool waive_penalty, int64_t owed_minor,
                                       int64_t penalty_minor, int32_t today_day,
                                       arrangement_decision_t *decision);

/* Moves the due date due_day to new_due_day (later, after today, by at most
 * deferral_max_days). Once per account. ACCEPTED or REFUSED; the schedule itself is the
 * book's to change. */
arrangement_outcome_t arrangement_defer(const arrangement_policy_t *policy,
                                        arrangement_t *arr, int32_t due_day,
                                        int32_t new_due_day, int32_t today_day,
                                        arrangement_decision_t *decision);

/* A settlement of amount_minor (1 .. owed_minor) paid by pay_by_day (today .. today +
 * max_days_to_pay), for an account in stage and segment. ACCEPTED when the discount is
 * at most the limit, NEEDS_APPROVAL above it, REFUSED when not allowed at all. */
arrangement_outcome_t arrangement_settlement(const arrangement_policy_t *policy,
                                             arrangement_t *arr, stage_t stage,
                                             int segment, int64_t owed_minor,
                                             int64_t amount_minor, int32_t today_day,
                                             int32_t pay_by_day,
                                             arrangement_decision_t *decision);

/* An operator approves the settlement awaiting approval. ACCEPTED (or SETTLED when it is
 * already paid in full), REFUSED when none awaits (one past its pay-by date + grace has
 * lapsed: see decision->lapsed). */
arrangement_outcome_t arrangement_approve(const arrangement_policy_t *policy,
                                          arrangement_t *arr, int32_t today_day,
                                          arrangement_decision_t *decision);

/* A payment of amount_minor (> 0) received on day, toward whatever runs. A payment after
 * a deadline finds the arrangement broken (decision->lapsed) and counts toward nothing.
 * KEPT, COMPLETED, SETTLED when it decides; ACCEPTED when it counted without deciding;
 * NONE when nothing runs. */
arrangement_outcome_t arrangement_payment(const arrangement_policy_t *policy,
                                          arrangement_t *arr, int64_t amount_minor,
                                          int32_t day, arrangement_decision_t *decision);

/* The daily check for today: a promise past date + grace, a plan instalment past its
 * date + grace, a settlement past pay-by + grace: BROKEN. Else PENDING (or NONE). */
arrangement_outcome_t arrangement_review(const arrangement_policy_t *policy,
                                         arrangement_t *arr, int32_t today_day,
                                         arrangement_decision_t *decision);

const char *arrangement_outcome_name(arrangement_outcome_t outcome);
const char *arrangement_strerror(int code);

#endif
