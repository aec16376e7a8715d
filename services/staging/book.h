/* book: an account's book of what is owed and what was paid. Pure: no storage, no
 * sockets, no clock; the caller passes the day it means.
 *
 * The book is the schedule of instalments, each with four components owed and paid
 * (fees, penalty, interest, principal), the credit (money received beyond everything
 * owed, kept for the borrower, never lost), and the penalty accrual state that
 * penalty.c keeps (per-instalment carry, the cap window). Everything in book_t and
 * book_instalment_t is persistent state: store all of it, or penalty totals drift.
 *
 * Days are borrower-local calendar days since 1970-01-01 (tz_local_day() turns an
 * instant into one). An instalment due on day D is overdue from day D + 1.
 *
 * Invariants (kept by every function here, checked when instalments are added):
 *   0 <= paid_minor[c] <= owed_minor[c] for each component c, credit_minor >= 0,
 *   due days strictly increasing, count <= capacity <= BOOK_MAX_INSTALMENTS.
 * So owed - paid never overflows; sums across instalments may, and are checked.
 *
 * Errors are BOOK_* codes (book_strerror); on any error the book is unchanged. */
#ifndef ARREARS_STAGING_BOOK_H
#define ARREARS_STAGING_BOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    BOOK_OK = 0,
    BOOK_EOVERFLOW = -40101, /* a sum beyond int64 minor units: refused, never wrapped */
    BOOK_EINVALID = -40102,  /* an amount, day or setting out of its domain */
    BOOK_EFULL = -40103,     /* the book already holds its capacity of instalments */
    BOOK_EORDER = -40104,    /* due days must be strictly increasing */
};

/* The schedule limit of the contract (proto Instalment: at most 600). */
#define BOOK_MAX_INSTALMENTS 600

/* Days the book accepts: 0001-01-01 .. 9999-12-31, the range tz.h supports. */
#define BOOK_DAY_MIN INT64_C(-719162)
#define BOOK_DAY_MAX INT64_C(2932896)
/* "No such day yet" in the persistent state. */
#define BOOK_DAY_NONE INT64_MIN

/* The penalty carry is kept in units of 1 / BOOK_CARRY_DEN of a minor unit:
 * 10000 bps x 365 days, so a per-day rate (r x 365 / BOOK_CARRY_DEN) and a per-year
 * ACT/365 rate (r / BOOK_CARRY_DEN) share one unit and a contract that changes its
 * rate period keeps a meaningful carry. */
#define BOOK_CARRY_DEN INT64_C(3650000)

typedef enum {
    BOOK_FEES = 0,
    BOOK_PENALTY = 1,
    BOOK_INTEREST = 2,
    BOOK_PRINCIPAL = 3,
} book_component_t;
#define BOOK_COMPONENTS 4

typedef struct {
    int64_t due_day;                         /* borrower-local days since 1970-01-01 */
    int64_t owed_minor[BOOK_COMPONENTS];     /* indexed by book_component_t */
    int64_t paid_minor[BOOK_COMPONENTS];
    int64_t penalty_carry;                   /* 0 .. BOOK_CARRY_DEN - 1, see above */
} book_instalment_t;

typedef struct {
    book_instalment_t *instalments; /* the caller's storage, capacity entries */
    size_t count;
    size_t capacity;                /* <= BOOK_MAX_INSTALMENTS */
    int64_t credit_minor;           /* overpayment kept for the borrower, >= 0 */
    /* Penalty state, kept by penalty.c (see penalty.h). */
    int64_t penalty_next_day;         /* first day not yet accrued, or BOOK_DAY_NONE */
    int64_t cap_window_start_day;     /* the current cap window, or BOOK_DAY_NONE */
    int64_t cap_window_penalty_minor; /* penalty accrued inside that window */
} book_t;

/* How a payment sweeps the book.
 * BOOK_BY_INSTALMENT (instalment-major, the default): the oldest instalment with
 *   anything outstanding is paid off in component order before the next one gets
 *   anything: fees, penalty, interest, principal of #1, then of #2, ...
 * BOOK_BY_COMPONENT (component-major): the first component in the order is paid across
 *   all instalments, oldest first, before the next component gets anything: fees of
 *   #1, #2, ..., then penalty of #1, #2, ...
 * Either way a payment reaches instalments not yet due once the older ones are paid:
 * a collection account is worked toward its whole balance. Only money beyond the
 * whole balance becomes credit. */
typedef enum {
    BOOK_BY_INSTALMENT = 0,
    BOOK_BY_COMPONENT = 1,
} book_sweep_t;

typedef struct {
    book_component_t order[BOOK_COMPONENTS]; /* a permutation of the four components */
    book_sweep_t sweep;
} book_waterfall_t;

/* Where one payment went. */
typedef struct {
    int64_t component_minor[BOOK_COMPONENTS]; /* paid to each component, all instalments */
    int64_t credit_minor;                     /* the part kept as credit */
    size_t instalments_touched;               /* how many instalments received something */
    size_t oldest_touched, newest_touched;    /* their index range; SIZE_MAX when none */
} book_allocation_t;

const char *book_strerror(int code);

/* "fees", "penalty", "interest", "principal"; NULL for a value out of range. */
const char *book_component_name(book_component_t component);
/* The component so named; BOOK_EINVALID for any other text. */
int book_component_from_name(const char *name, book_component_t *out);

/* fees -> penalty -> interest -> principal, oldest instalment first. */
book_waterfall_t book_waterfall_default(void);
/* True when order is a permutation of the four components and sweep is known. */
bool book_waterfall_valid(const book_waterfall_t *waterfall);

/* An empty book over the caller's storage of capacity instalments. capacity 0 or
 * beyond BOOK_MAX_INSTALMENTS: BOOK_EINVALID. */
int book_init(book_t *book, book_instalment_t *storage, size_t capacity);

/* An instalment as the platform states it (proto Instalment): paid_minor, paid before
 * the account reached arrears, is spread over the instalment's own components in the
 * waterfall's component order. Negative amounts, a sum beyond int64 or paid beyond the
 * sum: BOOK_EINVALID / BOOK_EOVERFLOW. */
int book_instalment_make(int64_t due_day, int64_t principal_minor, int64_t interest_minor,
                         int64_t fees_minor, int64_t paid_minor,
                         const book_waterfall_t *waterfall, book_instalment_t *out);

/* Appends a copy of instalment, checking the invariants above (BOOK_EINVALID), the
 * order (BOOK_EORDER) and the capacity (BOOK_EFULL). */
int book_add_instalment(book_t *book, const book_instalment_t *instalment);

/* Allocates amount_minor (> 0) by the waterfall; the part beyond everything owed is
 * added to the credit. allocation may be NULL. */
int book_apply_payment(book_t *book, const book_waterfall_t *waterfall, int64_t amount_minor,
                       book_allocation_t *allocation);

/* Allocates the credit to whatever is outstanding (after instalments were added or
 * penalty accrued), as a payment of that amount would. No credit: nothing happens. */
int book_apply_credit(book_t *book, const book_waterfall_t *waterfall,
                      book_allocation_t *allocation);

/* Forgives everything outstanding of one component (a plan's penalty waiver): owed is
 * lowered to paid on every instalment. waived_minor (may be NULL) gets the amount. */
int book_waive_outstanding(book_t *book, book_component_t component, int64_t *waived_minor);

/* Outstanding (owed - paid) of one component over all instalments, of all components,
 * and of instalments overdue on today_day (due before it). */
int book_outstanding(const book_t *book, book_component_t component, int64_t *out_minor);
int book_outstanding_total(const book_t *book, int64_t *out_minor);
int book_overdue_total(const book_t *book, int64_t today_day, int64_t *out_minor);

/* An instalment is unpaid while any component, penalty included, is outstanding. */
bool book_instalment_unpaid(const book_instalment_t *instalment);

/* Days past due on today_day: today_day minus the due day of the oldest unpaid
 * instalment, or 0 when none is overdue (never negative). Counted in calendar days,
 * so a DST change (a 23- or 25-hour day) changes nothing. */
int64_t book_dpd(const book_t *book, int64_t today_day);

#endif
