/* remit: the money of a case — what an agency earns on what it recovers, and how a
 * recovery an assignee reports is matched by its reference so no money counts twice
 * (DESIGN.md section 5). Pure.
 *
 * Commission. An agency earns commission_bps of each recovery it reports, rounded
 * half to even once per recovery (money.h): the remittance statement sums the
 * per-recovery figures, so it can be checked line by line against the assignee's own.
 * A firm paid by its costs has rate 0.
 *
 * Matching. Every recovery carries the assignee's reference (its receipt number).
 * A reference reported again with the same amount is the same money, reported twice
 * (a resend): counted once and answered as a duplicate. The same reference with a
 * different amount is a conflict: refused, because one of the two reports is wrong and
 * a person must say which. The platform posting the same money as a payment under the
 * same reference is reconciled at staging, which owns the book (staging.c). */
#ifndef ARREARS_LEGAL_REMIT_H
#define ARREARS_LEGAL_REMIT_H

#include <stdbool.h>
#include <stdint.h>

#define REMIT_MAX_COMMISSION_BPS 5000   /* half of every recovery: more is a typo */

typedef enum {
    RECOVERY_NEW = 0,      /* count it */
    RECOVERY_REPEAT,       /* already counted: a duplicate */
    RECOVERY_CONFLICT,     /* same reference, other amount: refuse */
} recovery_match_t;

/* known: whether the reference is on record for the case, with known_minor. */
recovery_match_t recovery_match(bool known, int64_t known_minor, int64_t reported_minor);

/* commission_minor = recovery_minor * rate_bps / 10000, half to even. MONEY_* codes. */
int remit_commission(int64_t recovery_minor, int64_t rate_bps, int64_t *commission_minor);

/* An assignee's money over its cases, as the monthly statement states it. */
typedef struct {
    int64_t recovered_minor;
    int64_t commission_minor;
    int64_t costs_minor;
} remit_totals_t;

/* Adds one recovery (with its commission) and costs; MONEY_EOVERFLOW leaves *t as it was. */
int remit_add(remit_totals_t *t, int64_t recovery_minor, int64_t commission_minor,
              int64_t costs_minor);
/* What the platform receives: recovered less commission and costs (may be negative). */
int remit_net(const remit_totals_t *t, int64_t *net_minor);

#endif
