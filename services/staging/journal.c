/* journal: runs of penalty days per instalment, bounded (see journal.h). */
#include "journal.h"

#include "money.h"

/* A journal total is at most the penalty ever booked on the account, far inside int64
 * for real money; saturating keeps it defined for any stored input. */
static int64_t saturating_add(int64_t a, int64_t b)
{
    int64_t sum = 0;
    return money_add(a, b, &sum) == MONEY_OK ? sum : INT64_MAX;
}

const journal_line_t *journal_line(const journal_t *self, size_t i)
{
    return &self->lines[(self->first + i) % JOURNAL_MAX_LINES];
}

static journal_line_t *slot(journal_t *self, size_t i)
{
    return (journal_line_t *)journal_line(self, i);
}

/* The newest line of the instalment due on due_day, NULL when none is kept. */
static journal_line_t *latest_line_of(journal_t *self, int64_t due_day)
{
    for (size_t i = self->count; i-- > 0;) {
        journal_line_t *line = slot(self, i);
        if (line->due_day == due_day)
            return line;
    }
    return NULL;
}

static bool same_terms(const journal_line_t *a, const journal_line_t *b)
{
    return a->base_minor == b->base_minor && a->rate_bps == b->rate_bps &&
           a->period == b->period && a->capped == b->capped;
}

void journal_add_line(journal_t *self, const journal_line_t *line)
{
    if (self->count == JOURNAL_MAX_LINES) {
        self->brought_forward_minor =
            saturating_add(self->brought_forward_minor, slot(self, 0)->accrued_minor);
        self->first = (self->first + 1) % JOURNAL_MAX_LINES;
        self->count--;
    }
    *slot(self, self->count) = *line;
    self->count++;
}

void journal_note_day(journal_t *self, const journal_line_t *day)
{
    journal_line_t *last = latest_line_of(self, day->due_day);
    if (last && last->to_day + 1 == day->from_day && same_terms(last, day)) {
        last->to_day = day->to_day;
        last->accrued_minor = saturating_add(last->accrued_minor, day->accrued_minor);
        return;
    }
    journal_add_line(self, day);
}
