/* eligibility: legal's own re-check of a referral before a case is opened (DESIGN.md
 * section 5). staging referred the account by its strategy's escalation rule; legal
 * checks again, because the facts may have moved while the referral travelled and
 * because a court case against a borrower who may not be sued is the worst mistake the
 * system can make. Pure: the caller passes every fact and day.
 *
 * The checks, in this order (the first that fails is the reason):
 *   mandate      the platform's mandate allows legal referral;
 *   deceased     no case against a deceased borrower (the estate is a person's work);
 *   bankruptcy   no case while the borrower is in bankruptcy proceedings;
 *   dispute      no case while the debt itself is disputed and unanswered;
 *   limitation   not time-barred, by the shared limitation rule (the same module and
 *                jurisdiction file staging uses, so the two cannot disagree); a
 *                jurisdiction with no rule is refused, never assumed in time;
 *   floor        the outstanding balance is at least the currency's floor (a case
 *                costs more than a small debt recovers); a currency with no floor
 *                configured is refused, so a new currency is a decision, not an accident.
 * Each refusal has its own verdict, so staging's timeline and the reports can count
 * them by reason; a time-barred refusal also tells staging to mark the account. */
#ifndef ARREARS_LEGAL_ELIGIBILITY_H
#define ARREARS_LEGAL_ELIGIBILITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limitation.h"
#include "money.h"

typedef enum {
    ELIGIBLE = 0,
    REFUSED_NO_MANDATE,
    REFUSED_DECEASED,
    REFUSED_BANKRUPT,
    REFUSED_DISPUTE,
    REFUSED_TIME_BARRED,
    REFUSED_NO_LIMITATION_RULE,
    REFUSED_BELOW_FLOOR,
    REFUSED_NO_FLOOR,
    ELIGIBILITY_VERDICTS
} eligibility_verdict_t;

#define ELIGIBILITY_MAX_FLOORS 64
#define ELIGIBILITY_REASON_MAX 200   /* LegalUpdate.detail's bound */

typedef struct {
    char currency[4];   /* ISO 4217 */
    int64_t min_outstanding_minor;
} eligibility_floor_t;

typedef struct {
    const limitation_rules_t *limitation;
    size_t floor_count;
    eligibility_floor_t floors[ELIGIBILITY_MAX_FLOORS];
} eligibility_policy_t;

/* Days are borrower-local days since 1970-01-01; LIMITATION_DAY_NONE when there is
 * no such day (never paid, never acknowledged). */
typedef struct {
    const char *jurisdiction;
    const char *currency;
    int64_t outstanding_minor;
    int64_t first_missed_due_day;
    int64_t last_payment_day;
    int64_t last_acknowledgment_day;
    int64_t today_day;
    bool may_refer_to_legal;
    bool deceased;
    bool bankrupt;
    bool dispute_open;
} eligibility_facts_t;

typedef struct {
    eligibility_verdict_t verdict;
    int64_t barred_since_day;   /* the first time-barred day, or LIMITATION_DAY_NONE */
    char reason[ELIGIBILITY_REASON_MAX + 1];
} eligibility_t;

/* The verdict's stable name ("time_barred"), for logs and report keys. */
const char *eligibility_verdict_name(eligibility_verdict_t verdict);

/* The floor for a currency, or NULL. */
const eligibility_floor_t *eligibility_floor_for(const eligibility_policy_t *policy,
                                                 const char *currency);

/* Checks a referral; always fills *out (ELIGIBLE with a reason saying what was met).
 * A day out of the limitation module's range is a refusal (REFUSED_NO_LIMITATION_RULE
 * with the module's reason): a date nobody can check is never in time. */
void eligibility_check(const eligibility_policy_t *policy, const eligibility_facts_t *facts,
                       eligibility_t *out);

#endif
