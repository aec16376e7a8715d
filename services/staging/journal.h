/* journal: the penalty computation day by day, as a referral's statement shows it to a
 * court (proto PenaltyLine). penalty.c notes every day an instalment accrued on a base
 * (penalty.h); the journal keeps those days as lines, each a run of consecutive
 * borrower-local days on which one instalment accrued on the same base at the same
 * rate and period, with the same capped flag, and the exact penalty booked over the
 * run. Because every day's amount is the one the book booked, the lines add up to the
 * penalty accrued on the book to the minor unit.
 *
 * Bounded: an account keeps at most JOURNAL_MAX_LINES lines (it lives in the account's
 * stored record, so the daily run writes it with the account and nothing more). When a
 * new line needs room, the oldest line is folded into brought_forward_minor, so always
 *     brought_forward_minor + sum(lines' accrued_minor) == penalty accrued so far.
 * Penalty that leaves the book otherwise (a plan's waiver, a schedule version that drops
 * an instalment) is not a line: the timeline records it.
 *
 * A day noted as not-accrued (frozen, nothing overdue) never reaches the journal, so a
 * run resumes as a new line after a gap. Pure; all zero is an empty journal. */
#ifndef ARREARS_STAGING_JOURNAL_H
#define ARREARS_STAGING_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lines kept per account: a year of a six-instalment loan whose base changes monthly
 * is ~80 lines; older ones fold into the brought-forward total. */
#define JOURNAL_MAX_LINES 128

typedef struct {
    int64_t due_day;        /* the instalment's due day when it accrued */
    int64_t from_day;       /* first day accrued */
    int64_t to_day;         /* last day accrued, inclusive */
    int64_t base_minor;     /* its overdue principal + interest */
    int64_t rate_bps;
    int32_t period;         /* penalty_period_t (proto RatePeriod) */
    bool capped;            /* the annual cap cut these days' accrual */
    int64_t accrued_minor;  /* booked over the run */
} journal_line_t;

typedef struct {
    journal_line_t lines[JOURNAL_MAX_LINES];   /* a ring: the oldest at first */
    size_t first, count;
    int64_t brought_forward_minor;             /* penalty of the lines folded away */
} journal_t;

/* One instalment's booked day (day->from_day == day->to_day): the instalment's latest
 * line grows by the day when it ended the day before with the same base, rate, period
 * and capped flag; otherwise the day starts a new line. */
void journal_note_day(journal_t *self, const journal_line_t *day);

/* Appends line as the newest, folding the oldest into the brought-forward total when
 * the journal is full (how a stored journal is read back, too). */
void journal_add_line(journal_t *self, const journal_line_t *line);

/* The i-th line, oldest first (i < self->count). */
const journal_line_t *journal_line(const journal_t *self, size_t i);

#endif
