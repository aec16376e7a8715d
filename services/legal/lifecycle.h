/* lifecycle: the legal case's states and the one table of the moves between them
 * (DESIGN.md section 5). An assignee (law firm or collection agency) reports each step
 * over the socket API; only a move in the table is accepted, each with its date and,
 * from the demand letter on, a reference to its evidence (a letter's number, a court
 * docket, a judgment's reference) that a person can find again. Pure.
 *
 *   referred -> accepted -> demand letter -> mediation -> filed -> hearing -> judgment
 *            -> enforcement; settled, withdrawn and closed end a case.
 *
 * Steps may be skipped forward where practice skips them (a firm may file without a
 * demand letter; a default judgment needs no hearing); a case never goes back. A
 * report that repeats the current state is a progress note: accepted only when it
 * carries money (a recovery or costs) or is a further hearing (an adjournment).
 * settled, withdrawn, closed and declined are terminal. A recall (an assignee who
 * made no progress for too long loses the case, which is placed again) is possible
 * only before filing: once a court has the case, the firm on record stays. The
 * values are those of proto CaseStatus, so a field converts by a cast. */
#ifndef ARREARS_LEGAL_LIFECYCLE_H
#define ARREARS_LEGAL_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    CASE_NONE = 0,
    CASE_REFERRED = 1,      /* opened; placed with an assignee or waiting for one */
    CASE_ACCEPTED = 2,
    CASE_DEMAND_LETTER = 3,
    CASE_FILED = 4,
    CASE_HEARING = 5,
    CASE_JUDGMENT = 6,
    CASE_ENFORCEMENT = 7,
    CASE_SETTLED = 8,
    CASE_WITHDRAWN = 9,     /* ended without recovery: back to collection at staging */
    CASE_CLOSED = 10,
    CASE_DECLINED = 11,     /* legal's re-check refused the referral */
    CASE_MEDIATION = 12,
    CASE_STATES
} case_status_t;

enum {
    LIFECYCLE_OK = 0,
    LIFECYCLE_EILLEGAL = -41101,    /* not a move in the table */
    LIFECYCLE_EEVIDENCE = -41102,   /* the step needs an evidence reference */
    LIFECYCLE_EDATE = -41103,       /* dated before the case's last step, or ahead of today */
};

#define LIFECYCLE_REASON_MAX 160

const char *lifecycle_strerror(int code);
/* "demand_letter"; "unknown" outside the enum. */
const char *case_status_name(case_status_t status);
bool case_status_valid(case_status_t status);
bool case_status_terminal(case_status_t status);
/* Whether an assignee may be recalled from a case in this state. */
bool case_status_recallable(case_status_t status);
/* Whether a report moving to this state must name its evidence. */
bool case_status_needs_evidence(case_status_t status);

/* A report from the case's assignee: move to `to` on day `day` (borrower-local days),
 * carrying money or not, with an evidence reference or not. last_day is the day of the
 * case's latest step, today_day legal's today. LIFECYCLE_OK, or an error with why. */
typedef struct {
    case_status_t from;
    case_status_t to;
    int64_t day;
    int64_t last_day;
    int64_t today_day;
    bool carries_money;
    bool has_evidence;
} lifecycle_step_t;

int lifecycle_check(const lifecycle_step_t *step, char *why, size_t why_len);

#endif
