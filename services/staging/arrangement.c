/* arrangement: promises, plans, deferrals and settlements, each decision with its
 * reason. See arrangement.h. */
#include "arrangement.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "money.h"
#include "tz.h"

static const char *const outcome_names[ARRANGEMENT_OUTCOME_COUNT] = {
    [ARRANGEMENT_ACCEPTED] = "accepted",
    [ARRANGEMENT_REFUSED] = "refused",
    [ARRANGEMENT_NEEDS_APPROVAL] = "needs_approval",
    [ARRANGEMENT_PENDING] = "pending",
    [ARRANGEMENT_NONE] = "none",
    [ARRANGEMENT_KEPT] = "kept",
    [ARRANGEMENT_BROKEN] = "broken",
    [ARRANGEMENT_COMPLETED] = "completed",
    [ARRANGEMENT_SETTLED] = "settled",
};

const char *arrangement_outcome_name(arrangement_outcome_t outcome)
{
    return (unsigned)outcome < ARRANGEMENT_OUTCOME_COUNT ? outcome_names[outcome]
                                                         : "unknown";
}

/* "2026-03-05": reasons are read by people, who do not count days since 1970. */
typedef struct {
    char text[16];
} day_text_t;

static day_text_t day_text(int64_t day)
{
    day_text_t t;
    int32_t year;
    int month, mday;
    tz_civil_from_days(day, &year, &month, &mday);
    snprintf(t.text, sizeof t.text, "%04d-%02d-%02d", (int)year, month, mday);
    return t;
}
#define DAY(d) (day_text(d).text)

/* ---------------------------------------------------------------- policy */

void arrangement_policy_default(arrangement_policy_t *policy)
{
    assert(policy);
    memset(policy, 0, sizeof *policy);
    policy->promise_grace_days = 3;
    policy->promise_max_days_ahead = 30;
    policy->promise_kept_min_bps = MONEY_BPS_ONE;
    policy->plan_grace_days = 5;
    policy->plan_min_instalments = 2;
    policy->plan_max_instalments = 24;
    policy->plan_max_days = 730;
    policy->plan_may_waive_penalty = true;
    policy->deferral_max_days = 30;
    policy->settlement_grace_days = 0;
    policy->settlement_max_days_to_pay = 30;
    policy->settlement_default_max_discount_bps = 0;
}

/* "file:line: why" about setting s; returns ARRANGEMENT_ECONFIG. */
#define config_error(conf, s, err, err_len, ...) \
    conf_error_at(conf, s, ARRANGEMENT_ECONFIG, err, err_len, __VA_ARGS__)

/* An int32 number of days under group (absent: keeps *days). */
static int days_at(const conf_t *conf, const config_setting_t *group, const char *name,
                   int64_t min, int32_t *days, char *err, size_t err_len)
{
    int64_t value;
    if (conf_int64_at(conf, group, name, *days, min, ARRANGEMENT_MAX_DAYS, &value, err,
                      err_len) != CONF_OK)
        return ARRANGEMENT_ECONFIG;
    *days = (int32_t)value;
    return ARRANGEMENT_OK;
}

static int load_promise_plan(const conf_t *conf, const config_setting_t *root,
                             arrangement_policy_t *p, char *err, size_t err_len)
{
    static const char *const promise_keys[] = {"grace_days", "max_days_ahead",
                                               "kept_min_bps", NULL};
    static const char *const plan_keys[] = {"grace_days", "min_instalments",
                                            "max_instalments", "max_days",
                                            "may_waive_penalty", NULL};
    const config_setting_t *g = config_setting_get_member(root, "promise");
    if (g && (conf_check_keys_at(conf, g, promise_keys, err, err_len)
              || days_at(conf, g, "grace_days", 0, &p->promise_grace_days, err, err_len)
              || days_at(conf, g, "max_days_ahead", 0, &p->promise_max_days_ahead, err,
                         err_len)
              || conf_int64_at(conf, g, "kept_min_bps", p->promise_kept_min_bps, 1,
                               MONEY_BPS_ONE, &p->promise_kept_min_bps, err, err_len)))
        return ARRANGEMENT_ECONFIG;
    g = config_setting_get_member(root, "plan");
    int64_t min_n = p->plan_min_instalments, max_n = p->plan_max_instalments;
    if (g && (conf_check_keys_at(conf, g, plan_keys, err, err_len)
              || days_at(conf, g, "grace_days", 0, &p->plan_grace_days, err, err_len)
              || days_at(conf, g, "max_days", 1, &p->plan_max_days, err, err_len)
              || conf_int64_at(conf, g, "min_instalments", min_n, 1, ARRANGEMENT_PLAN_MAX,
                               &min_n, err, err_len)
              || conf_int64_at(conf, g, "max_instalments", max_n, 1, ARRANGEMENT_PLAN_MAX,
                               &max_n, err, err_len)
              || conf_bool_at(conf, g, "may_waive_penalty", p->plan_may_waive_penalty,
                              &p->plan_may_waive_penalty, err, err_len)))
        return ARRANGEMENT_ECONFIG;
    if (min_n > max_n)
        return config_error(conf, g, err, err_len,
                            "plan: min_instalments %lld is above max_instalments %lld",
                            (long long)min_n, (long long)max_n);
    p->plan_min_instalments = (uint32_t)min_n;
    p->plan_max_instalments = (uint32_t)max_n;
    return ARRANGEMENT_OK;
}

/* One (stage, segment) -> max discount row; duplicates refused. */
static int load_limit(const conf_t *conf, const config_setting_t *g,
                      const segments_t *segments, arrangement_policy_t *p, char *err,
                      size_t err_len)
{
    static const char *const keys[] = {"stage", "segment", "max_discount_bps", NULL};
    const char *segment_list[SEGMENT_MAX + 1];
    segment_names(segments, segment_list);
    settlement_limit_t limit = {.segment = ARRANGEMENT_ANY_SEGMENT};
    int stage = -1;
    if (!config_setting_is_group(g))
        return config_error(conf, g, err, err_len, "a settlement limit must be a group");
    if (conf_check_keys_at(conf, g, keys, err, err_len)
        || conf_enum_at(conf, g, "stage", stage_names(), 0, &stage, err, err_len)
        || (config_setting_get_member(g, "segment")
            && conf_enum_at(conf, g, "segment", segment_list, 0, &limit.segment, err,
                            err_len))
        || conf_int64_at(conf, g, "max_discount_bps", 0, 0, MONEY_BPS_ONE,
                         &limit.max_discount_bps, err, err_len))
        return ARRANGEMENT_ECONFIG;
    if (!config_setting_get_member(g, "stage") || !config_setting_get_member(g, "max_discount_bps"))
        return config_error(conf, g, err, err_len,
                            "a settlement limit needs stage and max_discount_bps");
    limit.stage = (stage_t)stage;
    if (stage_is_terminal(limit.stage))
        return config_error(conf, g, err, err_len,
                            "stage %s is terminal: nothing there to settle",
                            stage_name(limit.stage));
    for (uint32_t i = 0; i < p->settlement_limit_count; i++)
        if (p->settlement_limits[i].stage == limit.stage
            && p->settlement_limits[i].segment == limit.segment)
            return config_error(conf, g, err, err_len,
                                "a second settlement limit for stage %s, segment %s",
                                stage_name(limit.stage),
                                limit.segment < 0 ? "(any)"
                                                  : segment_name(segments, limit.segment));
    p->settlement_limits[p->settlement_limit_count++] = limit;
    return ARRANGEMENT_OK;
}

static int load_settlement(const conf_t *conf, const config_setting_t *root,
                           const segments_t *segments, arrangement_policy_t *p, char *err,
                           size_t err_len)
{
    static const char *const keys[] = {"grace_days", "max_days_to_pay",
                                       "default_max_discount_bps", "limits", NULL};
    const config_setting_t *g = config_setting_get_member(root, "settlement");
    if (!g)
        return ARRANGEMENT_OK;
    if (conf_check_keys_at(conf, g, keys, err, err_len)
        || days_at(conf, g, "grace_days", 0, &p->settlement_grace_days, err, err_len)
        || days_at(conf, g, "max_days_to_pay", 0, &p->settlement_max_days_to_pay, err,
                   err_len)
        || conf_int64_at(conf, g, "default_max_discount_bps",
                         p->settlement_default_max_discount_bps, 0, MONEY_BPS_ONE,
                         &p->settlement_default_max_discount_bps, err, err_len))
        return ARRANGEMENT_ECONFIG;
    const config_setting_t *limits = config_setting_get_member(g, "limits");
    if (!limits)
        return ARRANGEMENT_OK;
    int length = config_setting_length(limits);
    if (!config_setting_is_list(limits) || length > ARRANGEMENT_LIMITS_MAX)
        return config_error(conf, limits, err, err_len,
                            "limits must be a list of at most %d groups",
                            ARRANGEMENT_LIMITS_MAX);
    for (int i = 0; i < length; i++) {
        const config_setting_t *row = config_setting_get_elem(limits, (unsigned)i);
        int rc = load_limit(conf, row, segments, p, err, err_len);
        if (rc != ARRANGEMENT_OK)
            return rc;
    }
    return ARRANGEMENT_OK;
}

int arrangement_policy_load(const conf_t *conf, const char *group_path,
                            const segments_t *segments, arrangement_policy_t *policy,
                            char *err, size_t err_len)
{
    assert(conf && group_path && segments && policy);
    static const char *const keys[] = {"promise", "plan", "deferral", "settlement", NULL};
    static const char *const deferral_keys[] = {"max_days", NULL};
    arrangement_policy_t p;
    arrangement_policy_default(&p);
    const config_setting_t *root = conf_lookup(conf, group_path);
    if (!root) {
        *policy = p;
        return ARRANGEMENT_OK;
    }
    if (conf_check_keys_at(conf, root, keys, err, err_len))
        return ARRANGEMENT_ECONFIG;
    const config_setting_t *deferral = config_setting_get_member(root, "deferral");
    if (deferral && (conf_check_keys_at(conf, deferral, deferral_keys, err, err_len)
                     || days_at(conf, deferral, "max_days", 0, &p.deferral_max_days, err,
                                err_len)))
        return ARRANGEMENT_ECONFIG;
    int rc = load_promise_plan(conf, root, &p, err, err_len);
    if (rc == ARRANGEMENT_OK)
        rc = load_settlement(conf, root, segments, &p, err, err_len);
    if (rc == ARRANGEMENT_OK)
        *policy = p;
    return rc;
}

int64_t arrangement_settlement_limit_bps(const arrangement_policy_t *policy, stage_t stage,
                                         int segment)
{
    assert(policy);
    const settlement_limit_t *stage_wide = NULL;
    for (uint32_t i = 0; i < policy->settlement_limit_count; i++) {
        const settlement_limit_t *l = &policy->settlement_limits[i];
        if (l->stage != stage)
            continue;
        if (l->segment == segment)
            return l->max_discount_bps;
        if (l->segment == ARRANGEMENT_ANY_SEGMENT)
            stage_wide = l;
    }
    return stage_wide ? stage_wide->max_discount_bps
                      : policy->settlement_default_max_discount_bps;
}

/* ---------------------------------------------------------------- state */

void arrangement_init(arrangement_t *arr)
{
    assert(arr);
    memset(arr, 0, sizeof *arr);
}

bool arrangement_is_open(const arrangement_t *arr)
{
    assert(arr);
    switch (arr->kind) {
    case ARRANGEMENT_KIND_PROMISE:
        return arr->state == ARRANGEMENT_STATE_PENDING;
    case ARRANGEMENT_KIND_PLAN:
        return arr->state == ARRANGEMENT_STATE_KEPT;
    case ARRANGEMENT_KIND_SETTLEMENT:
        return arr->state == ARRANGEMENT_STATE_PENDING
               || arr->state == ARRANGEMENT_STATE_AWAITING_APPROVAL;
    default:
        return false;
    }
}

/* The last day the running promise or settlement may still be paid. */
static int64_t last_day_to_pay(const arrangement_policy_t *policy, const arrangement_t *arr)
{
    int32_t grace = arr->kind == ARRANGEMENT_KIND_PROMISE ? policy->promise_grace_days
                                                          : policy->settlement_grace_days;
    return (int64_t)arr->due_day + grace;
}

bool arrangement_pauses_dunning(const arrangement_policy_t *policy,
                                const arrangement_t *arr, int32_t day)
{
    assert(policy && arr);
    if (!arrangement_is_open(arr))
        return false;
    if (arr->kind == ARRANGEMENT_KIND_PLAN)
        return true;
    return day <= last_day_to_pay(policy, arr);
}

bool arrangement_freezes_penalty(const arrangement_t *arr)
{
    assert(arr);
    return arr->kind == ARRANGEMENT_KIND_PLAN && arr->state == ARRANGEMENT_STATE_KEPT;
}

uint32_t arrangement_broken_count(const arrangement_t *arr)
{
    assert(arr);
    return arr->broken_count;
}

/* ---------------------------------------------------------------- decisions */

static arrangement_outcome_t decide(arrangement_decision_t *d, arrangement_outcome_t outcome,
                                    const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static arrangement_outcome_t decide(arrangement_decision_t *d, arrangement_outcome_t outcome,
                                    const char *fmt, ...)
{
    if (d) {
        d->outcome = outcome;
        va_list args;
        va_start(args, fmt);
        vsnprintf(d->reason, sizeof d->reason, fmt, args);
        va_end(args);
    }
    return outcome;
}

static void decision_start(arrangement_decision_t *d)
{
    if (d) {
        d->outcome = ARRANGEMENT_NONE;
        d->reason[0] = '\0';
        d->lapsed = false;
        d->lapsed_reason[0] = '\0';
    }
}

/* Plan instalments 0..i add up to this. */
static int64_t plan_due_through(const arrangement_t *arr, uint32_t i)
{
    int64_t sum = 0;
    for (uint32_t k = 0; k <= i; k++)
        sum += arr->plan[k].amount_minor;   /* fits: the total was checked at creation */
    return sum;
}

static arrangement_outcome_t break_it(arrangement_t *arr, arrangement_decision_t *d,
                                      const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static arrangement_outcome_t break_it(arrangement_t *arr, arrangement_decision_t *d,
                                      const char *fmt, ...)
{
    arr->state = ARRANGEMENT_STATE_BROKEN;
    arr->broken_count++;
    if (d) {
        d->outcome = ARRANGEMENT_BROKEN;
        va_list args;
        va_start(args, fmt);
        vsnprintf(d->reason, sizeof d->reason, fmt, args);
        va_end(args);
    }
    return ARRANGEMENT_BROKEN;
}

static arrangement_outcome_t review_plan(const arrangement_policy_t *policy,
                                         arrangement_t *arr, int32_t today,
                                         arrangement_decision_t *d)
{
    /* The latest instalment whose grace has run out: everything through it must be paid
     * (payments toward a plan count cumulatively, oldest instalment first). */
    for (uint32_t n = arr->plan_count; n > 0; n--) {
        uint32_t i = n - 1;
        if ((int64_t)arr->plan[i].due_day + policy->plan_grace_days >= today)
            continue;
        int64_t due = plan_due_through(arr, i);
        if (arr->paid_minor >= due)
            break;
        return break_it(arr, d,
                        "plan broken: instalment %u of %u (%lld minor due %s) still short "
                        "by %lld minor after %d days' grace; penalty accrues again",
                        i + 1, arr->plan_count, (long long)arr->plan[i].amount_minor,
                        DAY(arr->plan[i].due_day), (long long)(due - arr->paid_minor),
                        (int)policy->plan_grace_days);
    }
    return decide(d, ARRANGEMENT_PENDING, "plan kept: %lld of %lld minor paid",
                  (long long)arr->paid_minor, (long long)arr->amount_minor);
}

arrangement_outcome_t arrangement_review(const arrangement_policy_t *policy,
                                         arrangement_t *arr, int32_t today_day,
                                         arrangement_decision_t *d)
{
    assert(policy && arr);
    decision_start(d);
    if (!arrangement_is_open(arr))
        return decide(d, ARRANGEMENT_NONE, "no open arrangement");
    if (arr->kind == ARRANGEMENT_KIND_PLAN)
        return review_plan(policy, arr, today_day, d);
    int64_t last = last_day_to_pay(policy, arr);
    if (today_day <= last)
        return decide(d, ARRANGEMENT_PENDING, "%s of %lld minor by %s: %lld paid so far",
                      arr->kind == ARRANGEMENT_KIND_PROMISE ? "promise" : "settlement",
                      (long long)arr->amount_minor, DAY(arr->due_day),
                      (long long)arr->paid_minor);
    if (arr->kind == ARRANGEMENT_KIND_PROMISE)
        return break_it(arr, d,
                        "promise broken: %lld of %lld minor paid by %s (date %s + %d "
                        "days' grace)",
                        (long long)arr->paid_minor, (long long)arr->amount_minor, DAY(last),
                        DAY(arr->due_day), (int)policy->promise_grace_days);
    return break_it(arr, d, "settlement lapsed: %lld of %lld minor paid by %s%s",
                    (long long)arr->paid_minor, (long long)arr->amount_minor, DAY(last),
                    arr->state == ARRANGEMENT_STATE_AWAITING_APPROVAL
                        ? " (never approved)" : "");
}

/* Reviews for today before another decision; a break found on the way is reported in
 * d->lapsed (see arrangement_decision_t). */
static void catch_up(const arrangement_policy_t *policy, arrangement_t *arr, int32_t today,
                     arrangement_decision_t *d)
{
    arrangement_decision_t review;
    if (arrangement_review(policy, arr, today, &review) == ARRANGEMENT_BROKEN && d) {
        d->lapsed = true;
        memcpy(d->lapsed_reason, review.reason, sizeof d->lapsed_reason);
    }
}

/* Why a new arrangement of kind cannot start now, or NULL. */
static const char *blocked_by_open(const arrangement_t *arr, arrangement_kind_t kind)
{
    if (!arrangement_is_open(arr))
        return NULL;
    switch (arr->kind) {
    case ARRANGEMENT_KIND_PROMISE:
        return kind == ARRANGEMENT_KIND_PROMISE ? "a promise is already pending" : NULL;
    case ARRANGEMENT_KIND_PLAN:
        return kind == ARRANGEMENT_KIND_PROMISE
                   ? "a repayment plan is running: its instalments are the promises"
                   : "a repayment plan is running";
    default:
        return "a settlement is open";
    }
}

/* Starts a new arrangement in the one slot, superseding a pending promise (which is
 * then neither kept nor broken: the caller's timeline says it was replaced). */
static void start(arrangement_t *arr, arrangement_kind_t kind, int32_t today,
                  int32_t due_day, int64_t amount_minor)
{
    arr->kind = kind;
    arr->state = ARRANGEMENT_STATE_PENDING;
    arr->made_day = today;
    arr->due_day = due_day;
    arr->amount_minor = amount_minor;
    arr->paid_minor = 0;
    arr->waive_penalty = false;
    arr->plan_count = 0;
    arr->owed_minor = 0;
    arr->discount_bps = 0;
}

arrangement_outcome_t arrangement_promise(const arrangement_policy_t *policy,
                                          arrangement_t *arr, int64_t amount_minor,
                                          int64_t owed_minor, int32_t today_day,
                                          int32_t promised_day, arrangement_decision_t *d)
{
    assert(policy && arr);
    decision_start(d);
    catch_up(policy, arr, today_day, d);
    const char *blocked = blocked_by_open(arr, ARRANGEMENT_KIND_PROMISE);
    if (blocked)
        return decide(d, ARRANGEMENT_REFUSED, "promise refused: %s", blocked);
    if (amount_minor <= 0 || amount_minor > owed_minor)
        return decide(d, ARRANGEMENT_REFUSED,
                      "promise refused: %lld minor is not between 1 and the %lld owed",
                      (long long)amount_minor, (long long)owed_minor);
    if (promised_day < today_day
        || (int64_t)promised_day - today_day > policy->promise_max_days_ahead)
        return decide(d, ARRANGEMENT_REFUSED,
                      "promise refused: date %s is not between today and %d days ahead",
                      DAY(promised_day), (int)policy->promise_max_days_ahead);
    start(arr, ARRANGEMENT_KIND_PROMISE, today_day, promised_day, amount_minor);
    return decide(d, ARRANGEMENT_ACCEPTED,
                  "promise of %lld minor by %s recorded; dunning pauses until %s",
                  (long long)amount_minor, DAY(promised_day),
                  DAY((int64_t)promised_day + policy->promise_grace_days));
}

/* Why the schedule cannot be a plan, or NULL; *total gets its sum. */
static const char *plan_schedule_problem(const arrangement_policy_t *policy,
                                         const plan_instalment_t *in, size_t count,
                                         int32_t today, int64_t *total)
{
    if (count < policy->plan_min_instalments || count > policy->plan_max_instalments)
        return "the number of instalments is outside the policy's limits";
    *total = 0;
    for (size_t i = 0; i < count; i++) {
        if (in[i].amount_minor <= 0)
            return "every instalment must be above 0";
        if (i == 0 ? in[i].due_day < today : in[i].due_day <= in[i - 1].due_day)
            return "instalment dates must start today or later and strictly increase";
        if (money_add(*total, in[i].amount_minor, total) != MONEY_OK)
            return "the instalments add up beyond what an amount can hold";
    }
    if ((int64_t)in[count - 1].due_day - today > policy->plan_max_days)
        return "the last instalment is later than the policy allows";
    return NULL;
}

arrangement_outcome_t arrangement_plan(const arrangement_policy_t *policy,
                                       arrangement_t *arr,
                                       const plan_instalment_t *instalments, size_t count,
                                       bool waive_penalty, int64_t owed_minor,
                                       int64_t penalty_minor, int32_t today_day,
                                       arrangement_decision_t *d)
{
    assert(policy && arr && (instalments || count == 0));
    decision_start(d);
    catch_up(policy, arr, today_day, d);
    const char *problem = blocked_by_open(arr, ARRANGEMENT_KIND_PLAN);
    int64_t total = 0;
    if (!problem && waive_penalty && !policy->plan_may_waive_penalty)
        problem = "the policy allows no penalty waiver";
    if (!problem && (penalty_minor < 0 || penalty_minor > owed_minor))
        problem = "the penalty is not part of what is owed";
    if (!problem)
        problem = plan_schedule_problem(policy, instalments, count, today_day, &total);
    int64_t to_cover = owed_minor - (waive_penalty ? penalty_minor : 0);
    if (!problem && total != to_cover)
        return decide(d, ARRANGEMENT_REFUSED,
                      "plan refused: instalments add up to %lld minor, the plan must cover "
                      "exactly %lld",
                      (long long)total, (long long)to_cover);
    if (problem)
        return decide(d, ARRANGEMENT_REFUSED, "plan refused: %s", problem);
    bool supersedes = arrangement_is_open(arr);
    start(arr, ARRANGEMENT_KIND_PLAN, today_day, instalments[count - 1].due_day, total);
    arr->state = ARRANGEMENT_STATE_KEPT;
    arr->waive_penalty = waive_penalty;
    arr->plan_count = (uint32_t)count;
    memcpy(arr->plan, instalments, count * sizeof *instalments);
    return decide(d, ARRANGEMENT_ACCEPTED,
                  "plan of %zu instalments, %lld minor, %s to %s%s%s; penalty frozen "
                  "while kept",
                  count, (long long)total, DAY(instalments[0].due_day),
                  DAY(instalments[count - 1].due_day),
                  waive_penalty ? "; penalty waived on completion" : "",
                  supersedes ? "; replaces the pending promise" : "");
}

arrangement_outcome_t arrangement_defer(const arrangement_policy_t *policy,
                                        arrangement_t *arr, int32_t due_day,
                                        int32_t new_due_day, int32_t today_day,
                                        arrangement_decision_t *d)
{
    assert(policy && arr);
    decision_start(d);
    catch_up(policy, arr, today_day, d);
    if (arr->deferral_used)
        return decide(d, ARRANGEMENT_REFUSED,
                      "deferral refused: one per account, and %s was already moved to %s",
                      DAY(arr->deferral_from_day), DAY(arr->deferral_to_day));
    if (policy->deferral_max_days == 0)
        return decide(d, ARRANGEMENT_REFUSED, "deferral refused: off by policy");
    if (arrangement_freezes_penalty(arr))
        return decide(d, ARRANGEMENT_REFUSED,
                      "deferral refused: a repayment plan replaces the schedule");
    if (new_due_day <= due_day || new_due_day <= today_day
        || (int64_t)new_due_day - due_day > policy->deferral_max_days)
        return decide(d, ARRANGEMENT_REFUSED,
                      "deferral refused: %s must move to after today and after itself, "
                      "by at most %d days (asked: %s)",
                      DAY(due_day), (int)policy->deferral_max_days, DAY(new_due_day));
    arr->deferral_used = true;
    arr->deferral_from_day = due_day;
    arr->deferral_to_day = new_due_day;
    return decide(d, ARRANGEMENT_ACCEPTED, "due date %s deferred to %s (%lld days)",
                  DAY(due_day), DAY(new_due_day), (long long)new_due_day - due_day);
}

/* The discount of amount against owed in bps, rounded up, and whether it is at most
 * limit_bps: compared exactly (discount * 10000 <= limit * owed), never by rounded bps. */
static bool discount_within(int64_t owed, int64_t amount, int64_t limit_bps,
                            int64_t *discount_bps)
{
    int64_t discount = owed - amount, q, r;
    int rc = money_mul_div(discount, MONEY_BPS_ONE, owed, &q, &r);
    assert(rc == MONEY_OK);   /* 0 <= discount <= owed: the quotient is at most 10000 */
    (void)rc;
    *discount_bps = q + (r > 0);
    return (__int128)discount * MONEY_BPS_ONE <= (__int128)limit_bps * owed;
}

arrangement_outcome_t arrangement_settlement(const arrangement_policy_t *policy,
                                             arrangement_t *arr, stage_t stage,
                                             int segment, int64_t owed_minor,
                                             int64_t amount_minor, int32_t today_day,
                                             int32_t pay_by_day, arrangement_decision_t *d)
{
    assert(policy && arr);
    decision_start(d);
    catch_up(policy, arr, today_day, d);
    const char *blocked = blocked_by_open(arr, ARRANGEMENT_KIND_SETTLEMENT);
    if (!blocked && stage_is_terminal(stage))
        blocked = "the account is closed";
    if (!blocked && (owed_minor <= 0 || amount_minor <= 0 || amount_minor > owed_minor))
        blocked = "the amount must be above 0 and at most what is owed";
    if (!blocked && (pay_by_day < today_day
                     || (int64_t)pay_by_day - today_day > policy->settlement_max_days_to_pay))
        blocked = "the pay-by date is not between today and the policy's limit";
    if (blocked)
        return decide(d, ARRANGEMENT_REFUSED, "settlement refused: %s", blocked);
    int64_t limit = arrangement_settlement_limit_bps(policy, stage, segment), bps;
    bool within = discount_within(owed_minor, amount_minor, limit, &bps);
    start(arr, ARRANGEMENT_KIND_SETTLEMENT, today_day, pay_by_day, amount_minor);
    arr->owed_minor = owed_minor;
    arr->discount_bps = bps;
    if (!within) {
        arr->state = ARRANGEMENT_STATE_AWAITING_APPROVAL;
        return decide(d, ARRANGEMENT_NEEDS_APPROVAL,
                      "settlement of %lld minor for %lld owed (discount %lld bps) is above "
                      "the %lld bps limit for %s: needs an operator's approval",
                      (long long)amount_minor, (long long)owed_minor, (long long)bps,
                      (long long)limit, stage_name(stage));
    }
    return decide(d, ARRANGEMENT_ACCEPTED,
                  "settlement of %lld minor for %lld owed (discount %lld bps, limit %lld) "
                  "to be paid by %s",
                  (long long)amount_minor, (long long)owed_minor, (long long)bps,
                  (long long)limit, DAY(pay_by_day));
}

/* An approved settlement paid in full settles the account. */
static arrangement_outcome_t settle_if_paid(arrangement_t *arr, arrangement_decision_t *d,
                                            const char *what)
{
    if (arr->paid_minor < arr->amount_minor)
        return decide(d, ARRANGEMENT_ACCEPTED, "%s: %lld of %lld minor paid", what,
                      (long long)arr->paid_minor, (long long)arr->amount_minor);
    arr->state = ARRANGEMENT_STATE_COMPLETED;
    arr->kept_count++;
    return decide(d, ARRANGEMENT_SETTLED,
                  "settled: %lld minor paid against %lld owed (discount %lld bps)",
                  (long long)arr->paid_minor, (long long)arr->owed_minor,
                  (long long)arr->discount_bps);
}

arrangement_outcome_t arrangement_approve(const arrangement_policy_t *policy,
                                          arrangement_t *arr, int32_t today_day,
                                          arrangement_decision_t *d)
{
    assert(policy && arr);
    decision_start(d);
    catch_up(policy, arr, today_day, d);
    if (arr->kind != ARRANGEMENT_KIND_SETTLEMENT
        || arr->state != ARRANGEMENT_STATE_AWAITING_APPROVAL)
        return decide(d, ARRANGEMENT_REFUSED, "approval refused: no settlement awaits it");
    arr->state = ARRANGEMENT_STATE_PENDING;
    return settle_if_paid(arr, d, "settlement approved");
}

static arrangement_outcome_t pay_promise(const arrangement_policy_t *policy,
                                         arrangement_t *arr, arrangement_decision_t *d)
{
    /* Kept at kept_min_bps of the amount, compared exactly. */
    if ((__int128)arr->paid_minor * MONEY_BPS_ONE
        < (__int128)arr->amount_minor * policy->promise_kept_min_bps)
        return decide(d, ARRANGEMENT_ACCEPTED, "promise: %lld of %lld minor paid",
                      (long long)arr->paid_minor, (long long)arr->amount_minor);
    arr->state = ARRANGEMENT_STATE_KEPT;
    arr->kept_count++;
    return decide(d, ARRANGEMENT_KEPT, "promise kept: %lld of %lld minor paid",
                  (long long)arr->paid_minor, (long long)arr->amount_minor);
}

static arrangement_outcome_t pay_plan(arrangement_t *arr, arrangement_decision_t *d)
{
    if (arr->paid_minor < arr->amount_minor) {
        uint32_t covered = 0;
        while (covered < arr->plan_count && plan_due_through(arr, covered) <= arr->paid_minor)
            covered++;
        return decide(d, ARRANGEMENT_ACCEPTED, "plan: %u of %u instalments covered", covered,
                      arr->plan_count);
    }
    arr->state = ARRANGEMENT_STATE_COMPLETED;
    arr->kept_count++;
    return decide(d, ARRANGEMENT_COMPLETED, "plan completed: %lld minor paid%s",
                  (long long)arr->paid_minor,
                  arr->waive_penalty ? "; the penalty is waived" : "");
}

arrangement_outcome_t arrangement_payment(const arrangement_policy_t *policy,
                                          arrangement_t *arr, int64_t amount_minor,
                                          int32_t day, arrangement_decision_t *d)
{
    assert(policy && arr);
    decision_start(d);
    if (amount_minor <= 0)
        return decide(d, ARRANGEMENT_REFUSED, "a payment must be above 0");
    catch_up(policy, arr, day, d);
    if (!arrangement_is_open(arr))
        return decide(d, ARRANGEMENT_NONE, "no open arrangement");
    if (money_add(arr->paid_minor, amount_minor, &arr->paid_minor) != MONEY_OK)
        arr->paid_minor = INT64_MAX;   /* more than any arrangement asks for */
    switch (arr->kind) {
    case ARRANGEMENT_KIND_PROMISE:
        return pay_promise(policy, arr, d);
    case ARRANGEMENT_KIND_PLAN:
        return pay_plan(arr, d);
    default:
        if (arr->state == ARRANGEMENT_STATE_AWAITING_APPROVAL)
            return decide(d, ARRANGEMENT_ACCEPTED,
                          "settlement awaiting approval: %lld of %lld minor paid",
                          (long long)arr->paid_minor, (long long)arr->amount_minor);
        return settle_if_paid(arr, d, "settlement");
    }
}

const char *arrangement_strerror(int code)
{
    switch (code) {
    case ARRANGEMENT_OK:
        return "success";
    case ARRANGEMENT_ECONFIG:
        return "arrangement policy refused";
    default:
        return "unknown arrangement error";
    }
}
