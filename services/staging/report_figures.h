/* report_figures: the report's figures that come from the accounts' timelines (proto
 * ReportSection, fields 20 on): roll rates, recovery curves by arm, recovery by channel
 * and by stage, cures, complaint answers against their deadlines, and the monthly
 * remittance figures. Pure: the caller (report.c) walks the store, turns each stored
 * TimelineEntry into a report_event_t with report_event_parse, and feeds one account's
 * events in timeline order between report_account_begin and report_account_end; the
 * figures of a section add up over its accounts.
 *
 * Derived from the timeline rather than from new stored state, so a store written
 * before these figures existed reports them too. Every entry carries the stage after
 * it and its borrower-local day, so the stage an account stood in at any day is the
 * stage of its latest entry on or before that day.
 *
 * Months are borrower-local calendar months, counted as year * 12 + (month - 1). The
 * monthly figures cover a window of at most REPORT_MONTHS_MAX months ending at the
 * report's month; older entries count in the totals only. */
#ifndef ARREARS_STAGING_REPORT_FIGURES_H
#define ARREARS_STAGING_REPORT_FIGURES_H

#include <stdbool.h>
#include <stdint.h>

#include "stage.h"
#include "staging.pb-c.h"
#include "strategy.h"

#define REPORT_MONTHS_MAX 36          /* months of roll rates, curve and remittance */
#define REPORT_ATTRIBUTION_DAYS 30    /* a contact older than this earns no payment */
#define REPORT_CONTACTS_KEPT 64       /* contact channels remembered per account */
#define REPORT_CHANNEL_NONE CHANNEL_COUNT   /* a payment no contact earned */
#define REPORT_CHANNELS (CHANNEL_COUNT + 1)
#define REPORT_MONTH_TEXT 8           /* "YYYY-MM" and its NUL */

typedef enum {
    REPORT_EV_OTHER = 0,   /* only its stage matters */
    REPORT_EV_PAYMENT,     /* amount; by_legal: a firm's or agency's recovery */
    REPORT_EV_CONTACT,     /* staging asked for a contact: channel, contact_seq */
    REPORT_EV_OUTCOME,     /* outreach's outcome: channel, reached */
    REPORT_EV_AGREED,      /* a promise, plan or settlement from outreach: contact_seq */
    REPORT_EV_LEGAL,       /* a case step: amount = its costs */
    REPORT_EV_SOLD,        /* amount = the account's price */
    REPORT_EV_PUT_BACK,    /* amount = the price given back */
    REPORT_EV_COMPLAINT,   /* a complaint or dispute received: hold */
    REPORT_EV_ANSWERED,    /* its hold lifted: hold; late when after its deadline */
    REPORT_EV_OVERDUE,     /* noted unanswered past its deadline: hold */
} report_ev_kind_t;

typedef struct {
    report_ev_kind_t kind;
    int32_t day;           /* borrower-local */
    int64_t at_ms;         /* staging's clock */
    int stage;             /* stage_t after the entry; -1 when the entry names none */
    int64_t amount_minor;
    bool by_legal;
    int channel;           /* strategy_channel_t; -1 when unknown */
    bool reached;
    uint32_t contact_seq;  /* n of the contact id "<account_ref>#n"; 0: none */
    int hold;              /* HOLD_COMPLAINT or HOLD_DISPUTE */
    bool late;
} report_event_t;

typedef struct {
    uint64_t payments, accounts;
    int64_t collected_minor;
} report_recovery_t;

typedef struct {
    uint64_t accounts;
    int64_t overdue_minor, collected_minor;
} report_point_t;

typedef struct {
    int64_t collected_minor, legal_recovered_minor, legal_costs_minor, sale_proceeds_minor;
    bool any;              /* an entry with money fell in the month */
} report_remit_t;

typedef struct {
    uint64_t received, on_time, late, open, open_overdue;
    int64_t response_ms;   /* summed over the answered ones */
} report_complaints_t;

/* One section's figures (a platform and currency). All zero but the window after init. */
typedef struct {
    int32_t first_month;   /* the window's first month */
    uint32_t months;       /* 1 .. REPORT_MONTHS_MAX */
    uint64_t roll[REPORT_MONTHS_MAX][STAGE_COUNT][STAGE_COUNT];
    report_point_t curve[STRATEGY_MAX_ARMS][REPORT_MONTHS_MAX];
    bool arm_seen[STRATEGY_MAX_ARMS];
    report_recovery_t by_channel[REPORT_CHANNELS];
    report_recovery_t by_stage[STAGE_COUNT];
    uint64_t delinquent, cured;
    report_complaints_t complaints;
    report_remit_t remit[REPORT_MONTHS_MAX];
} report_figures_t;

/* An account's complaints (or disputes) received and not yet answered. */
typedef struct {
    uint64_t open, overdue;     /* of the open ones, noted overdue */
    int64_t received_ms_sum;    /* their receipts' instants, summed */
} report_held_t;

/* The state of one account's walk (the caller's, reused from account to account). */
typedef struct {
    int32_t entered_day, today_day;
    uint32_t arm;
    int64_t overdue_at_entry_minor;
    int stage;                                  /* after the latest event, -1: none yet */
    int32_t month;                              /* of the latest event */
    int8_t month_end[REPORT_MONTHS_MAX + 1];    /* [0]: before the window, [i + 1]: the
                                                   stage at month i's end; -1 unknown */
    int64_t paid_by_age[REPORT_MONTHS_MAX];     /* by months since entry */
    int reached_channel;                        /* of the latest contact that reached */
    int32_t reached_day;
    int8_t contact_channel[REPORT_CONTACTS_KEPT];
    uint32_t contact_seq[REPORT_CONTACTS_KEPT];
    bool delinquent, cured;
    uint32_t channel_paid, stage_paid;          /* bits: groups it paid in */
    report_held_t held[2];                      /* HOLD_COMPLAINT, HOLD_DISPUTE */
} report_account_t;

/* The month (year * 12 + month - 1) of a borrower-local day, and back to "YYYY-MM". */
int32_t report_month_of_day(int32_t day);
void report_month_text(int32_t month, char out[REPORT_MONTH_TEXT]);
/* Whole calendar months from from_day to to_day (0 when to_day is not later). */
int32_t report_months_between(int32_t from_day, int32_t to_day);

/* A window of months (1 .. REPORT_MONTHS_MAX, clamped) ending at last_month. */
void report_figures_init(report_figures_t *f, int32_t last_month, uint32_t months);

/* An account's walk begins: its entry day (ACCOUNT_DAY_NONE: its first event's), its
 * borrower-local today, its arm and what was overdue at entry. */
void report_account_begin(report_account_t *a, int32_t entered_day, int32_t today_day,
                          uint32_t arm, int64_t overdue_at_entry_minor);
/* The next event of the account's timeline, oldest first. */
void report_account_event(report_account_t *a, report_figures_t *f, const report_event_t *ev);
/* The walk ends: the account's rolls, curve, cure and open complaints go to f. */
void report_account_end(report_account_t *a, report_figures_t *f);

/* What a stored timeline entry says for the figures; false when it has no readable day
 * (such an entry is skipped). Reads the vocabulary the account module writes: kinds,
 * actors, stage names, and the first words of a few reasons (see report_figures.c). */
bool report_event_parse(const Arrears__TimelineEntry *t, report_event_t *ev);

#endif
