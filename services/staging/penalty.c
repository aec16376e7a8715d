/* penalty: daily penalty accrual with carried remainders and the annual cap. The rules
 * are stated once, in penalty.h; this file follows them. */
#include "penalty.h"

#include <assert.h>
#include <string.h>

#include "money.h"

const char *penalty_strerror(int code)
{
    switch (code) {
    case PENALTY_OK: return "ok";
    case PENALTY_EOVERFLOW: return "penalty beyond int64 minor units";
    case PENALTY_EINVALID: return "penalty terms or days out of their domain";
    case PENALTY_EOVERLAP: return "those days were already accrued";
    case PENALTY_ESPAN: return "too many days in one accrual";
    default: return "unknown error";
    }
}

bool penalty_terms_valid(const penalty_terms_t *terms)
{
    if (!terms)
        return false;
    if (terms->rate_bps < 0 || terms->rate_bps > PENALTY_MAX_RATE_BPS)
        return false;
    if (terms->cap_bps < 0 || terms->cap_bps > PENALTY_MAX_CAP_BPS)
        return false;
    if (terms->rate_bps > 0 && terms->period != PENALTY_PER_DAY &&
        terms->period != PENALTY_PER_YEAR)
        return false;
    return true;
}

/* The numerator over BOOK_CARRY_DEN of one day's rate: a per-day rate is r/10000 a day
 * = r x 365 / BOOK_CARRY_DEN; a per-year rate is ACT/365, r / (10000 x 365). */
static int64_t daily_num(const penalty_terms_t *terms)
{
    return terms->period == PENALTY_PER_DAY ? terms->rate_bps * PENALTY_YEAR_DAYS
                                            : terms->rate_bps;
}

static int64_t saturating_add(int64_t a, int64_t b)
{
    int64_t sum = 0;
    return money_add(a, b, &sum) == MONEY_OK ? sum : INT64_MAX;
}

/* Moves the cap window forward over whole 365-day periods until it holds day. The
 * first window opens on the due day of the oldest instalment that accrues. */
static void cap_window_reach(book_t *book, int64_t day, int64_t anchor_day)
{
    if (book->cap_window_start_day == BOOK_DAY_NONE) {
        book->cap_window_start_day = anchor_day;
        book->cap_window_penalty_minor = 0;
    }
    assert(day >= book->cap_window_start_day); /* days only move forward */
    int64_t periods = (day - book->cap_window_start_day) / PENALTY_YEAR_DAYS;
    if (periods > 0) {
        book->cap_window_start_day += periods * PENALTY_YEAR_DAYS;
        book->cap_window_penalty_minor = 0;
    }
}

/* Penalty the cap still allows in the current window: cap_bps of the outstanding
 * principal, less the interest due inside the window and the penalty already accrued
 * there. The cap is a bound, not an amount booked, so its sums saturate instead of
 * failing: a bound beyond int64 is no bound at all. */
static int64_t cap_room(const book_t *book, const penalty_terms_t *terms)
{
    if (terms->cap_bps == 0)
        return INT64_MAX;
    int64_t principal = 0;
    for (size_t i = 0; i < book->count; i++) {
        const book_instalment_t *in = &book->instalments[i];
        principal = saturating_add(principal, in->owed_minor[BOOK_PRINCIPAL] -
                                                  in->paid_minor[BOOK_PRINCIPAL]);
    }
    int64_t cap = 0, remainder = 0;
    if (money_mul_div(principal, terms->cap_bps, MONEY_BPS_ONE, &cap, &remainder) != MONEY_OK)
        cap = INT64_MAX;
    int64_t start = book->cap_window_start_day;
    int64_t counted = book->cap_window_penalty_minor;
    for (size_t i = 0; i < book->count; i++) {
        const book_instalment_t *in = &book->instalments[i];
        if (in->due_day >= start && in->due_day < start + PENALTY_YEAR_DAYS)
            counted = saturating_add(counted, in->owed_minor[BOOK_INTEREST]);
    }
    return counted >= cap ? 0 : cap - counted;
}

/* One day's work before anything is booked: each overdue instalment's base, accrual,
 * new carry and whether the cap cut it. *overdue is how many instalments (the oldest
 * ones) are overdue on day; *anchor_day the due day of the oldest with a base,
 * BOOK_DAY_NONE if none has one. */
typedef struct {
    int64_t base_minor[BOOK_MAX_INSTALMENTS];
    int64_t accrual_minor[BOOK_MAX_INSTALMENTS];
    int64_t carry[BOOK_MAX_INSTALMENTS];
    bool capped[BOOK_MAX_INSTALMENTS];
    size_t overdue;
    int64_t anchor_day;
} day_plan_t;

static int plan_day(const book_t *book, const penalty_terms_t *terms, int64_t day,
                    day_plan_t *plan)
{
    int64_t num = daily_num(terms);
    plan->overdue = 0;
    plan->anchor_day = BOOK_DAY_NONE;
    for (size_t i = 0; i < book->count && book->instalments[i].due_day < day; i++) {
        const book_instalment_t *in = &book->instalments[i];
        int64_t base = 0;
        if (money_add(in->owed_minor[BOOK_PRINCIPAL] - in->paid_minor[BOOK_PRINCIPAL],
                      in->owed_minor[BOOK_INTEREST] - in->paid_minor[BOOK_INTEREST],
                      &base) != MONEY_OK)
            return PENALTY_EOVERFLOW;
        plan->base_minor[i] = base;
        plan->carry[i] = in->penalty_carry;
        plan->accrual_minor[i] = 0;
        plan->capped[i] = false;
        if (base > 0) {
            if (plan->anchor_day == BOOK_DAY_NONE)
                plan->anchor_day = in->due_day;
            if (money_mul_div_carry(base, num, BOOK_CARRY_DEN, &plan->carry[i],
                                    &plan->accrual_minor[i]) != MONEY_OK)
                return PENALTY_EOVERFLOW;
        }
        plan->overdue = i + 1;
    }
    return PENALTY_OK;
}

/* Cuts the plan to the room the cap leaves, oldest instalment first; a cut instalment
 * loses its carry. Then checks every sum the booking will make, the caller's running
 * total (added_minor) included, so a booked day is always a reported day. */
static int fit_plan(const book_t *book, int64_t room_minor, int64_t added_minor,
                    day_plan_t *plan, int64_t *day_total_minor)
{
    int64_t total = 0;
    for (size_t i = 0; i < plan->overdue; i++) {
        int64_t want = plan->accrual_minor[i];
        if (want > room_minor) {
            plan->accrual_minor[i] = room_minor;
            plan->carry[i] = 0;
            plan->capped[i] = true;
        }
        room_minor -= plan->accrual_minor[i];
        int64_t owed = 0;
        if (money_add(book->instalments[i].owed_minor[BOOK_PENALTY], plan->accrual_minor[i],
                      &owed) != MONEY_OK ||
            money_add(total, plan->accrual_minor[i], &total) != MONEY_OK)
            return PENALTY_EOVERFLOW;
    }
    int64_t window = 0, added = 0;
    if (money_add(book->cap_window_penalty_minor, total, &window) != MONEY_OK ||
        money_add(added_minor, total, &added) != MONEY_OK)
        return PENALTY_EOVERFLOW;
    *day_total_minor = total;
    return PENALTY_OK;
}

/* The booked day of each instalment that accrued on a base, for the journal. */
static void note_day(journal_t *journal, const book_t *book, const penalty_terms_t *terms,
                     int64_t day, const day_plan_t *plan)
{
    for (size_t i = 0; i < plan->overdue; i++) {
        if (plan->base_minor[i] <= 0)
            continue;
        journal_line_t line = {
            .due_day = book->instalments[i].due_day,
            .from_day = day,
            .to_day = day,
            .base_minor = plan->base_minor[i],
            .rate_bps = terms->rate_bps,
            .period = (int32_t)terms->period,
            .capped = plan->capped[i],
            .accrued_minor = plan->accrual_minor[i],
        };
        journal_note_day(journal, &line);
    }
}

/* One day, all or nothing; *added_minor, the span's running total, grows by the day's
 * penalty. The plan lives in the caller's scratch (it is ~15 KiB). */
static int accrue_day(book_t *book, const penalty_terms_t *terms, int64_t day,
                      day_plan_t *plan, journal_t *journal, int64_t *added_minor)
{
    int rc = plan_day(book, terms, day, plan);
    if (rc != PENALTY_OK || plan->anchor_day == BOOK_DAY_NONE)
        return rc; /* nothing overdue carries a base: nothing accrues, nothing moves */

    /* The window may only move once the day is sure to be booked: keep the old one. */
    int64_t old_start = book->cap_window_start_day;
    int64_t old_penalty = book->cap_window_penalty_minor;
    cap_window_reach(book, day, plan->anchor_day);
    int64_t total = 0;
    rc = fit_plan(book, cap_room(book, terms), *added_minor, plan, &total);
    if (rc != PENALTY_OK) {
        book->cap_window_start_day = old_start;
        book->cap_window_penalty_minor = old_penalty;
        return rc;
    }
    for (size_t i = 0; i < plan->overdue; i++) {
        book->instalments[i].owed_minor[BOOK_PENALTY] += plan->accrual_minor[i];
        book->instalments[i].penalty_carry = plan->carry[i];
    }
    book->cap_window_penalty_minor += total;
    *added_minor += total;
    if (journal)
        note_day(journal, book, terms, day, plan);
    return PENALTY_OK;
}

static bool day_valid(int64_t day)
{
    return day >= BOOK_DAY_MIN && day <= BOOK_DAY_MAX;
}

int penalty_accrue(book_t *book, const penalty_terms_t *terms, int64_t from_day,
                   int64_t to_day, journal_t *journal, int64_t *added_minor)
{
    assert(book && added_minor);
    *added_minor = 0;
    if (!penalty_terms_valid(terms) || !day_valid(from_day) || !day_valid(to_day) ||
        from_day > to_day)
        return PENALTY_EINVALID;
    if (to_day - from_day > PENALTY_MAX_SPAN_DAYS)
        return PENALTY_ESPAN;
    if (book->penalty_next_day != BOOK_DAY_NONE && from_day < book->penalty_next_day)
        return PENALTY_EOVERLAP;
    /* A window opens on a due day before its first penalty day, so a day before the
     * window is a book whose stored state does not hang together. */
    if (book->cap_window_start_day != BOOK_DAY_NONE && from_day < book->cap_window_start_day)
        return PENALTY_EINVALID;
    if (terms->frozen || terms->rate_bps == 0) {
        /* Nothing accrues and nothing is carried; the cap windows are calendar
         * periods, found again from their start when accrual resumes. */
        book->penalty_next_day = to_day;
        return PENALTY_OK;
    }
    day_plan_t plan;
    int64_t added = 0;
    for (int64_t day = from_day; day < to_day; day++) {
        int rc = accrue_day(book, terms, day, &plan, journal, &added);
        if (rc != PENALTY_OK) {
            book->penalty_next_day = day;
            *added_minor = added;
            return rc;
        }
    }
    book->penalty_next_day = to_day;
    *added_minor = added;
    return PENALTY_OK;
}
