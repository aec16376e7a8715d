/* eligibility: legal's re-check of a referral (see eligibility.h for the rules). */
#include "eligibility.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "tz.h"

static const char *const verdict_names[ELIGIBILITY_VERDICTS] = {
    [ELIGIBLE] = "eligible",
    [REFUSED_NO_MANDATE] = "no_mandate",
    [REFUSED_DECEASED] = "deceased",
    [REFUSED_BANKRUPT] = "bankrupt",
    [REFUSED_DISPUTE] = "dispute",
    [REFUSED_TIME_BARRED] = "time_barred",
    [REFUSED_NO_LIMITATION_RULE] = "no_limitation_rule",
    [REFUSED_BELOW_FLOOR] = "below_floor",
    [REFUSED_NO_FLOOR] = "no_floor",
};

const char *eligibility_verdict_name(eligibility_verdict_t verdict)
{
    return (unsigned)verdict < ELIGIBILITY_VERDICTS ? verdict_names[verdict] : "unknown";
}

const eligibility_floor_t *eligibility_floor_for(const eligibility_policy_t *policy,
                                                 const char *currency)
{
    for (size_t i = 0; currency && i < policy->floor_count; i++)
        if (strcmp(policy->floors[i].currency, currency) == 0)
            return &policy->floors[i];
    return NULL;
}

static void verdict(eligibility_t *out, eligibility_verdict_t v, const char *reason)
{
    out->verdict = v;
    snprintf(out->reason, sizeof out->reason, "%s", reason);
}

static const char *from_words(limitation_from_t from)
{
    switch (from) {
    case LIMITATION_FROM_LAST_PAYMENT: return "the last payment";
    case LIMITATION_FROM_DEFAULT: return "the first missed due date";
    default: return "the last payment or acknowledgment";
    }
}

/* false (with the verdict set) when the debt is time-barred or cannot be checked. */
static bool within_limitation(const eligibility_policy_t *policy,
                              const eligibility_facts_t *f, eligibility_t *out)
{
    const char *j = f->jurisdiction ? f->jurisdiction : "";
    const limitation_rule_t *rule = limitation_rule_for(policy->limitation, j);
    bool barred = false;
    int64_t since = LIMITATION_DAY_NONE;
    int rc = rule ? limitation_is_time_barred(policy->limitation, j, f->last_payment_day,
                                              f->last_acknowledgment_day,
                                              f->first_missed_due_day, f->today_day, &barred,
                                              &since)
                  : LIMITATION_EUNKNOWN;
    if (rc != LIMITATION_OK) {
        out->verdict = REFUSED_NO_LIMITATION_RULE;
        snprintf(out->reason, sizeof out->reason,
                 "the limitation period cannot be checked for jurisdiction \"%.32s\": %s", j,
                 limitation_strerror(rc));
        return false;
    }
    out->barred_since_day = since;
    if (!barred)
        return true;
    char date[TZ_DATE_LEN + 1];
    tz_date_format(since, date);
    out->verdict = REFUSED_TIME_BARRED;
    snprintf(out->reason, sizeof out->reason,
             "time-barred since %s (%s: %d years from %s)", date,
             rule->name[0] ? rule->name : "default", (int)rule->years, from_words(rule->from));
    return false;
}

static bool above_floor(const eligibility_policy_t *policy, const eligibility_facts_t *f,
                        eligibility_t *out)
{
    const eligibility_floor_t *floor = eligibility_floor_for(policy, f->currency);
    if (!floor) {
        out->verdict = REFUSED_NO_FLOOR;
        snprintf(out->reason, sizeof out->reason,
                 "no balance floor is configured for %.3s: legal takes no case in it",
                 f->currency ? f->currency : "");
        return false;
    }
    if (f->outstanding_minor >= floor->min_outstanding_minor)
        return true;
    char owed[MONEY_FORMAT_MAX], min[MONEY_FORMAT_MAX];
    if (money_format(f->outstanding_minor, floor->currency, owed, sizeof owed) != MONEY_OK ||
        money_format(floor->min_outstanding_minor, floor->currency, min, sizeof min) != MONEY_OK) {
        snprintf(owed, sizeof owed, "?");   /* floors' currencies are checked at load */
        snprintf(min, sizeof min, "?");
    }
    out->verdict = REFUSED_BELOW_FLOOR;
    snprintf(out->reason, sizeof out->reason, "outstanding %s %s is below the floor %s %s",
             owed, floor->currency, min, floor->currency);
    return false;
}

void eligibility_check(const eligibility_policy_t *policy, const eligibility_facts_t *facts,
                       eligibility_t *out)
{
    assert(policy && policy->limitation && facts && out);
    memset(out, 0, sizeof *out);
    out->barred_since_day = LIMITATION_DAY_NONE;
    if (!facts->may_refer_to_legal)
        return verdict(out, REFUSED_NO_MANDATE,
                       "the platform's mandate does not allow legal referral");
    if (facts->deceased)
        return verdict(out, REFUSED_DECEASED, "the borrower is deceased");
    if (facts->bankrupt)
        return verdict(out, REFUSED_BANKRUPT, "the borrower is in bankruptcy proceedings");
    if (facts->dispute_open)
        return verdict(out, REFUSED_DISPUTE, "the debt is disputed and the dispute is open");
    if (!within_limitation(policy, facts, out) || !above_floor(policy, facts, out))
        return;
    verdict(out, ELIGIBLE, "eligible: mandate, no hold, within the limitation period, "
                           "above the balance floor");
}
