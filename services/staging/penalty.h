/* penalty: penalty interest on overdue amounts, accrued into the book once per
 * borrower-local day, exactly as DESIGN.md section 3 states. Pure: the caller says
 * which days to accrue and whether they are frozen.
 *
 * The rules, precisely:
 *
 * Days. penalty_accrue(from, to) accrues each day d in [from, to). On day d the
 *   instalments due before d (overdue on d: an instalment due on D accrues first on
 *   D + 1) each accrue on their own outstanding principal + interest; penalty does
 *   not accrue on penalty or fees. The penalty goes into the penalty component of the
 *   instalment it accrued on, so the waterfall and DPD see it where it arose. Credit is
 *   not netted against the base: apply it first (book_apply_credit).
 *
 * Rates. A rate is in bps per day or per year. A per-year rate is ACT/365: every day
 *   accrues rate/365 of the year's rate, whatever the year; a leap year has 366 such
 *   days and so accrues 366/365 of the annual rate. There is no leap-year special
 *   case: that is what ACT/365 means.
 *
 * Exactness. Each instalment's day is (base x num + carry) / BOOK_CARRY_DEN, in
 *   integers (money_mul_div_carry), with num = rate x 365 (per day) or rate (per
 *   year). The quotient is booked, the remainder carried to the instalment's next day
 *   (book_instalment_t.penalty_carry), so N days add up to exactly the sum of the exact
 *   daily amounts truncated once: no drift, no rounding.
 *
 * Cap. Interest plus penalty over a cap year never exceeds cap_bps (per year) of the
 *   outstanding principal (all instalments, due or not, on the day of accrual). The
 *   cap years are consecutive 365-day windows [s, s + 365), [s + 365, s + 730), ...,
 *   where s is the due day of the oldest instalment penalty accrued on, on the first
 *   day penalty accrued for the account (so that instalment's interest, due on s,
 *   counts in the first year). Counted against a window: the interest of every
 *   instalment due inside it (owed, paid or not, including instalments due later in
 *   the window, so interest falling due after the cap was reached can never take the
 *   total over it) and the penalty accrued on days inside it. On a day the room left
 *   is shared oldest instalment first; an instalment whose accrual is cut loses its
 *   carry too (the waived part, fraction included, is never charged later). Penalty
 *   already booked is never taken back when the principal falls. cap_bps 0: no cap.
 *
 * Frozen. A frozen day (a repayment plan kept, charge-off: the caller decides) accrues
 *   nothing, leaves every carry alone and adds nothing to its cap window; the windows
 *   are calendar periods and keep running through it.
 *
 * Catch-up. The state that decides a day (carries, cap window, penalty_next_day) lives
 *   in the book, so accruing [from, from + N) in one call gives exactly what N calls of
 *   one day give (as long as nothing else changes the book in between). Days already
 *   accrued are refused (PENALTY_EOVERLAP): a day can never be charged twice.
 *
 * Failure. Each day is all or nothing. On an error at day d the days before d stay
 *   accrued (book->penalty_next_day = d), *added_minor says what they added, and day d
 *   changed nothing.
 *
 * Journal. Given a journal (journal.h), every booked day of every overdue instalment
 *   with a base is noted in it: the base, the rate, whether the cap cut it, and the
 *   amount booked (0 on a day whose fraction went to the carry). A frozen day, a day
 *   with nothing overdue and an instalment without a base note nothing; a failed day
 *   notes nothing either, so the journal and the book always agree. */
#ifndef ARREARS_STAGING_PENALTY_H
#define ARREARS_STAGING_PENALTY_H

#include <stdbool.h>
#include <stdint.h>

#include "book.h"
#include "journal.h"

enum {
    PENALTY_OK = 0,
    PENALTY_EOVERFLOW = -40201, /* an amount beyond int64 minor units: refused */
    PENALTY_EINVALID = -40202,  /* terms or days out of their domain */
    PENALTY_EOVERLAP = -40203,  /* from_day is before book->penalty_next_day */
    PENALTY_ESPAN = -40204,     /* more than PENALTY_MAX_SPAN_DAYS in one call */
};

/* The values of proto RatePeriod, so the field converts by a cast. */
typedef enum {
    PENALTY_PER_DAY = 1,
    PENALTY_PER_YEAR = 2,
} penalty_period_t;

/* The contract's limits (proto ContractRates: 0 .. 1,000,000 bps). */
#define PENALTY_MAX_RATE_BPS INT64_C(1000000)
#define PENALTY_MAX_CAP_BPS INT64_C(1000000)
/* Days of the cap window and of the ACT/365 year. */
#define PENALTY_YEAR_DAYS 365
/* One call accrues at most this many days (100 years): bounded work per call. */
#define PENALTY_MAX_SPAN_DAYS INT64_C(36525)

typedef struct {
    int64_t rate_bps;        /* 0 .. PENALTY_MAX_RATE_BPS; 0 accrues nothing */
    penalty_period_t period; /* needed when rate_bps > 0 */
    int64_t cap_bps;         /* per year on outstanding principal; 0 = no cap */
    bool frozen;             /* the days of this call accrue nothing */
} penalty_terms_t;

const char *penalty_strerror(int code);

/* True when the terms are within the limits above. */
bool penalty_terms_valid(const penalty_terms_t *terms);

/* Accrues the days [from_day, to_day) (see the top of this file) and sets
 * book->penalty_next_day = to_day. *added_minor gets the penalty added. from_day ==
 * to_day is a valid empty span. journal may be NULL: no journal kept. */
int penalty_accrue(book_t *book, const penalty_terms_t *terms, int64_t from_day,
                   int64_t to_day, journal_t *journal, int64_t *added_minor);

#endif
