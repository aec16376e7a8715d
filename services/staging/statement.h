/* statement: a referral's statement of account (proto CaseStatement), the content of
 * legal's case file that only staging can compute because staging owns the book: the
 * schedule with what each instalment was charged and paid, the contract's rates, and
 * the penalty computation day by day from the account's journal (journal.h). Pure; the
 * borrower and the collection record come from storage, and the caller adds them.
 *
 * statement_t is scratch: the message points into it and into the account, so both
 * must outlive the packing of the message. About 110 KiB: keep it off the stack. */
#ifndef ARREARS_STAGING_STATEMENT_H
#define ARREARS_STAGING_STATEMENT_H

#include "account.h"
#include "tz.h"

typedef struct {
    Arrears__CaseStatement msg;
    Arrears__ContractRates rates;
    Arrears__StatementInstalment schedule[BOOK_MAX_INSTALMENTS];
    Arrears__StatementInstalment *schedule_ptr[BOOK_MAX_INSTALMENTS];
    Arrears__PenaltyLine penalty[JOURNAL_MAX_LINES];
    Arrears__PenaltyLine *penalty_ptr[JOURNAL_MAX_LINES];
    char as_of[TZ_DATE_LEN + 1];
    char due_dates[BOOK_MAX_INSTALMENTS][TZ_DATE_LEN + 1];
    char line_dates[JOURNAL_MAX_LINES][3][TZ_DATE_LEN + 1];   /* due, from, to */
} statement_t;

/* self->msg: the account's statement as of the borrower-local as_of_day, with no
 * borrower and no record yet. The rates are the ones the book was computed with: the
 * penalty cap is the one that applied (the jurisdiction's when the contract had none). */
void statement_build(statement_t *self, const account_t *account, int32_t as_of_day);

#endif
