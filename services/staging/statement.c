/* statement: the referral's statement of account from the book and the penalty
 * journal (see statement.h). */
#include "statement.h"

#include "money.h"

static void build_rates(statement_t *self, const account_t *a)
{
    Arrears__ContractRates *r = &self->rates;
    *r = (Arrears__ContractRates)ARREARS__CONTRACT_RATES__INIT;
    r->has_interest_bps = r->has_penalty_bps = r->has_penalty_period = 1;
    r->has_penalty_cap_bps = 1;
    r->interest_bps = a->interest_bps;
    r->has_interest_period = a->interest_period != 0;
    r->interest_period = (Arrears__RatePeriod)a->interest_period;
    r->penalty_bps = a->penalty.rate_bps;
    r->penalty_period = (Arrears__RatePeriod)a->penalty.period;
    r->penalty_cap_bps = a->penalty.cap_bps;
    self->msg.rates = r;
}

/* The four components summed (owed or paid). Only penalty beyond int64 minor units,
 * which no real debt reaches, could pass int64: saturated rather than wrapped. */
static int64_t instalment_total(const int64_t minor[BOOK_COMPONENTS])
{
    int64_t total = 0;
    for (int c = 0; c < BOOK_COMPONENTS; c++)
        if (money_add(total, minor[c], &total) != MONEY_OK)
            return INT64_MAX;
    return total;
}

static void build_schedule(statement_t *self, const account_t *a)
{
    for (size_t i = 0; i < a->book.count; i++) {
        const book_instalment_t *in = &a->book.instalments[i];
        Arrears__StatementInstalment *s = &self->schedule[i];
        *s = (Arrears__StatementInstalment)ARREARS__STATEMENT_INSTALMENT__INIT;
        tz_date_format(in->due_day, self->due_dates[i]);
        s->due_date = self->due_dates[i];
        s->has_principal_minor = s->has_interest_minor = s->has_fees_minor = 1;
        s->has_penalty_minor = s->has_paid_minor = s->has_outstanding_minor = 1;
        s->principal_minor = in->owed_minor[BOOK_PRINCIPAL];
        s->interest_minor = in->owed_minor[BOOK_INTEREST];
        s->fees_minor = in->owed_minor[BOOK_FEES];
        s->penalty_minor = in->owed_minor[BOOK_PENALTY];
        s->paid_minor = instalment_total(in->paid_minor);
        s->outstanding_minor = instalment_total(in->owed_minor) - s->paid_minor;
        self->schedule_ptr[i] = s;
    }
    self->msg.n_schedule = a->book.count;
    self->msg.schedule = self->schedule_ptr;
}

static void build_penalty(statement_t *self, const journal_t *j)
{
    for (size_t i = 0; i < j->count; i++) {
        const journal_line_t *line = journal_line(j, i);
        Arrears__PenaltyLine *p = &self->penalty[i];
        char(*dates)[TZ_DATE_LEN + 1] = self->line_dates[i];
        *p = (Arrears__PenaltyLine)ARREARS__PENALTY_LINE__INIT;
        tz_date_format(line->due_day, dates[0]);
        tz_date_format(line->from_day, dates[1]);
        tz_date_format(line->to_day, dates[2]);
        p->instalment_due_date = dates[0];
        p->from_date = dates[1];
        p->to_date = dates[2];
        p->has_base_minor = p->has_rate_bps = p->has_period = p->has_accrued_minor = 1;
        p->has_capped = 1;
        p->base_minor = line->base_minor;
        p->rate_bps = line->rate_bps;
        p->period = (Arrears__RatePeriod)line->period;
        p->accrued_minor = line->accrued_minor;
        p->capped = line->capped;
        self->penalty_ptr[i] = p;
    }
    self->msg.n_penalty = j->count;
    self->msg.penalty = self->penalty_ptr;
    self->msg.has_penalty_brought_forward_minor = 1;
    self->msg.penalty_brought_forward_minor = j->brought_forward_minor;
}

void statement_build(statement_t *self, const account_t *account, int32_t as_of_day)
{
    self->msg = (Arrears__CaseStatement)ARREARS__CASE_STATEMENT__INIT;
    tz_date_format(as_of_day, self->as_of);
    self->msg.as_of_date = self->as_of;
    build_rates(self, account);
    build_schedule(self, account);
    build_penalty(self, &account->penalty_journal);
}
