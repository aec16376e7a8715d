/* account: one account as staging works it — its book, stage, holds, arrangement,
 * score, arm and action schedule — and every rule that moves it, from an intake event,
 * an outcome from outreach, legal or sale, an operator's action, or a new day.
 *
 * Pure: no storage, no sockets, no clock. The caller passes the borrower-local day
 * (tz_local_day of its clock in the account's zone) and the instant to stamp entries
 * with, and stores the account after each call. Each call appends what it caused to an
 * effects_t, in order: entries for the account's timeline, and the messages to send
 * (a contact request, a cancel, a referral, a listing, a status event for the
 * platform, a notice to legal or sale about an account it holds). The caller writes the
 * account, its entries and its messages in one transaction, so they happen together or
 * not at all.
 *
 * A call that refuses (ACCOUNT_EREFUSED, *reject filled with a code and a reason) may
 * have changed the account and effects part way: the caller, which loaded the account
 * for this one message, discards both and stores nothing (receiver.h: a refused message
 * changes nothing).
 *
 * account_t holds the book's instalments inline and book.instalments points at them:
 * never copy an account_t by value; account_init() it, then fill it. */
#ifndef ARREARS_STAGING_ACCOUNT_H
#define ARREARS_STAGING_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arrangement.h"
#include "book.h"
#include "envelope.h"
#include "journal.h"
#include "limitation.h"
#include "penalty.h"
#include "retention.h"
#include "stage.h"
#include "strategy.h"

enum {
    ACCOUNT_OK = 0,
    ACCOUNT_EREFUSED = -40301,   /* *reject says why; nothing changed */
};

#define ACCOUNT_PLATFORM_MAX 64
#define ACCOUNT_REF_MAX 64
#define ACCOUNT_TZ_MAX 64
#define ACCOUNT_PERSON_KEY_BYTES 16
#define ACCOUNT_PAYMENT_DAYS 16        /* recent payment days kept for the scorecard */
#define ACCOUNT_EFFECTS_MAX 64         /* effects of one call, at most */
#define ACCOUNT_REASON_MAX 200
#define ACCOUNT_REFERENCE_MAX 80
#define ACCOUNT_ACTOR_MAX 64
#define ACCOUNT_DAY_NONE STAGE_NO_DAY
/* The letter that tells a borrower their debt was sold (DESIGN.md section 5), in
 * outreach's catalogue (services/outreach/templates.conf). */
#define ACCOUNT_NOTICE_OF_ASSIGNMENT "notice_of_assignment_v1"

/* What staging's configuration says beyond the strategy. */
typedef struct {
    const strategy_t *strategy;
    const limitation_rules_t *limitation;
    book_waterfall_t waterfall;
    int64_t default_cap_bps;           /* the jurisdiction's cap when the contract has none */
    bool freeze_after_charge_off;      /* no penalty once charged off */
    int32_t complaint_response_days;   /* deadline to answer a complaint */
    int32_t dispute_response_days;     /* deadline to answer a dispute */
    const retention_rules_t *retention;/* NULL: no rule, nothing erased (retention.h) */
} account_policy_t;

/* Figures the reports are computed from (cumulative over the account's life). */
typedef struct {
    int64_t overdue_at_entry_minor;
    int64_t collected_minor;
    int64_t entered_at_ms, closed_at_ms;
    int32_t entered_day, closed_day;
    uint32_t promises_made, promises_kept, promises_broken;
    uint32_t complaints, complaints_late;
    uint32_t cures, contacts, referrals, listings;
} account_stats_t;

typedef struct {
    uint64_t id;                                  /* staging's own, from 1 */
    char platform[ACCOUNT_PLATFORM_MAX + 1];
    char account_ref[ACCOUNT_REF_MAX + 1];
    int product;                                  /* proto Product */
    char currency[4];
    char time_zone[ACCOUNT_TZ_MAX + 1];
    char jurisdiction[LIMITATION_NAME_MAX + 1];   /* the address's country, or "" */
    uint8_t person_key[ACCOUNT_PERSON_KEY_BYTES];
    bool has_person;
    uint64_t version;
    book_t book;
    book_instalment_t instalments[BOOK_MAX_INSTALMENTS];
    penalty_terms_t penalty;                      /* frozen is decided per day */
    int64_t interest_bps;                         /* the contract's, for the statement */
    int interest_period;                          /* proto RatePeriod; 0: not stated */
    journal_t penalty_journal;                    /* the penalty day by day (journal.h) */
    bool vulnerable, may_refer_to_legal, may_sell;
    stage_t stage;
    int32_t stage_since_day;
    int32_t evaluated_day;                        /* ACCOUNT_DAY_NONE before the first */
    int32_t dpd;
    holds_t holds;
    uint32_t hold_overdue_noted;                  /* HOLD_BITs whose lateness is recorded */
    arrangement_t arrangement;
    int32_t last_payment_day;
    int32_t payment_days[ACCOUNT_PAYMENT_DAYS];   /* a ring of the latest payment days */
    uint32_t payment_count;                       /* payments ever; ring index = count % N */
    int32_t first_missed_due_day;                 /* the limitation period's start */
    uint32_t contact_points;                      /* verified and consented */
    int64_t score;
    int32_t segment;
    uint32_t arm;
    int32_t action_last_day[STRATEGY_MAX_ACTIONS];/* per action of the current list */
    uint32_t contact_seq;                         /* contact requests made so far */
    bool contact_pending;                         /* requests out that a cancel would stop */
    uint32_t timeline_count;                      /* entries so far (the caller numbers) */
    bool time_barred;
    int32_t legal_returned_day;                   /* legal gave it back; NONE: never */
    int32_t sale_returned_day;                    /* sale gave it back; NONE: never */
    char case_id[ACCOUNT_REFERENCE_MAX + 1];
    account_stats_t stats;
    /* The borrower's personal data was erased after its retention period (daily.c):
     * the record is the anonymized one from then on, and never erased again. */
    bool erased;
    int32_t erased_day;                           /* the day it was, when erased */
} account_t;

typedef enum {
    EFFECT_ENTRY = 0,   /* a timeline entry */
    EFFECT_CONTACT,     /* a ContactRequest for action */
    EFFECT_CANCEL,      /* a ContactCancel: reason */
    EFFECT_REFER,       /* a LegalReferral: reason */
    EFFECT_LIST,        /* a SaleListing */
    EFFECT_STATUS,      /* a StatusEvent of feed_kind for the platform */
    EFFECT_NOTICE,      /* news for the peer holding the account: reason is its detail */
    EFFECT_ERASED,      /* a PersonalDataErased for peer (daily.c, at retention's end) */
} effect_kind_t;

/* The peers that hold an account for a while and hear what happens to it meanwhile:
 * legal while the account is in stage legal (CaseNotice), sale while it is listed, in
 * stage sale (SaleNotice). Each of them, and the outreach broker, keeps personal data
 * of the account and hears when its retention ends (EFFECT_ERASED). */
typedef enum {
    PEER_LEGAL = 0,
    PEER_SALE,
    PEER_OUTREACH,   /* for EFFECT_ERASED only: the broker hears no notices */
} peer_t;

/* What a holding peer may hear (account_fx.h fx_notice), each peer in its own words. */
typedef enum {
    NEWS_PAYMENT = 0,   /* the platform posted a payment */
    NEWS_COMPLAINT,     /* about how the debt is collected */
    NEWS_DISPUTE,       /* the debt itself is disputed */
    NEWS_CLOSED,        /* paid, settled, recalled or written off */
    NEWS_INELIGIBLE,    /* bankrupt, deceased, in litigation, or the mandate withdrawn */
    NEWS_COUNT
} news_t;

typedef struct {
    effect_kind_t kind;
    int32_t day;
    stage_t stage;                                /* the stage after it */
    const char *what;                             /* ENTRY: its kind; STATUS: detail */
    char actor[ACCOUNT_ACTOR_MAX + 1];
    char reason[ACCOUNT_REASON_MAX];
    char reference[ACCOUNT_REFERENCE_MAX + 1];
    int64_t amount_minor;
    int feed_kind;                                /* STATUS: proto FeedEventKind */
    peer_t peer;                                  /* NOTICE, ERASED: who hears it */
    int notice_kind;                              /* NOTICE: proto CaseNoticeKind (legal)
                                                     or SaleNoticeKind (sale) */
    const strategy_action_t *action;              /* CONTACT (lives with the strategy) */
} effect_t;

typedef struct {
    size_t count;
    effect_t items[ACCOUNT_EFFECTS_MAX];
} effects_t;

/* An empty account with its book's storage wired up. */
void account_init(account_t *self);
void effects_clear(effects_t *fx);

/* Sizes that decide: the outstanding balance and what is overdue on day. */
int64_t account_outstanding(const account_t *self);
int64_t account_overdue(const account_t *self, int32_t day);
/* True for paid, settled, recalled, sold and written off. */
bool account_is_closed(const account_t *self);

/* The first version of an account (ev carries an upsert): book from the schedule,
 * holds from the flags, the mandate, then today's evaluation. */
int account_open(account_t *self, const account_policy_t *policy,
                 const Arrears__AccountEvent *ev, uint64_t id, int32_t today_day,
                 int64_t now_ms, effects_t *fx, reject_t *reject);
/* A later version: borrower flags, mandate, rates and the schedule (penalty already
 * accrued on a due date kept is kept). An old version changes nothing (ACCOUNT_OK).
 * While the account is listed, sale hears when the version makes it unsellable
 * (bankrupt, deceased, or the mandate's may_sell withdrawn: SALE_NOTICE_INELIGIBLE). */
int account_update(account_t *self, const account_policy_t *policy,
                   const Arrears__AccountEvent *ev, int32_t today_day, int64_t now_ms,
                   effects_t *fx, reject_t *reject);
/* A payment from actor ("platform", or "legal" for a recovery). While legal holds the
 * account it hears of the payments it did not report itself (NOTICE_PAYMENT), and of
 * the account closing (NOTICE_ACCOUNT_CLOSED) whoever but legal closed it; while the
 * account is listed, sale hears the same (SALE_NOTICE_PAYMENT, SALE_NOTICE_CLOSED). */
int account_pay(account_t *self, const account_policy_t *policy, const char *actor,
                const char *reference, int64_t amount_minor, const char *currency,
                int32_t today_day, int64_t now_ms, effects_t *fx, reject_t *reject);
/* Phones and e-mails both verified and consented: the points staging may have used. */
uint32_t account_contact_points(const Arrears__Borrower *borrower);
/* A platform's ContactUpdate, once staging replaced the points on the borrower record
 * and set contact_points from it: the timeline entry (counts, never the values). */
int account_contact_update(account_t *self, int32_t today_day, effects_t *fx);
/* A complaint (dispute = false) or dispute from the platform or an outcome; legal hears
 * of it while it holds the account (it counts complaints against its assignee), sale of
 * a dispute while the account is listed (a disputed debt leaves the portfolio). */
int account_complaint(account_t *self, const account_policy_t *policy, const char *actor,
                      bool dispute, const char *reference, int32_t today_day,
                      effects_t *fx);
int account_recall(account_t *self, const account_policy_t *policy, int32_t today_day, int64_t now_ms, effects_t *fx, reject_t *reject);
int account_outcome(account_t *self, const account_policy_t *policy,
                    const Arrears__ContactOutcome *outcome, int32_t today_day,
                    int64_t now_ms, effects_t *fx, reject_t *reject);
/* A case's step from legal. DECLINED with time_barred marks the account time-barred
 * (as staging's own limitation check would) before it returns to collection. */
int account_legal_update(account_t *self, const account_policy_t *policy,
                         const Arrears__LegalUpdate *update, int32_t today_day,
                         int64_t now_ms, effects_t *fx, reject_t *reject);
/* What sale made of a listing. SOLD closes the account: pending contact is cancelled
 * and the borrower is sent one notice of assignment (a letter, template
 * ACCOUNT_NOTICE_OF_ASSIGNMENT), the only request a sold account ever makes. SOLD or
 * PUT_BACK out of turn is refused (CONFLICT). WITHDRAWN for an account no longer
 * listed (it paid or closed during bidding, and sale then withdrew it) is recorded on
 * the timeline and changes nothing else: refusing it would dead-letter sale's answer. */
int account_sale_result(account_t *self, const account_policy_t *policy,
                        const Arrears__SaleResult *result, int32_t today_day,
                        int64_t now_ms, effects_t *fx, reject_t *reject);
/* An operator's action, audited with operator_name and the reason it requires.
 * CORRECT_CONTACT is decided and audited here (at least one point; the entry counts
 * them, never their values); staging then writes the points as for a ContactUpdate. */
int account_operator(account_t *self, const account_policy_t *policy, const char *operator_name,
                     const Arrears__OperatorAction *action, int32_t today_day,
                     int64_t now_ms, effects_t *fx, reject_t *reject);

/* The day's work for today_day: penalty for every day since the last evaluated one
 * (catch-up after an outage charges each missed day), then, as of today only, the
 * arrangement's review, overdue complaint answers, time bar, DPD and stage, score and
 * segment, escalation, and the contact actions due today. Missed days are not replayed
 * one by one: their contacts would be stale, and the stage moves straight to where
 * today's DPD puts it. A day already evaluated changes nothing: the daily run may
 * repeat after a crash. */
int account_evaluate(account_t *self, const account_policy_t *policy, int32_t today_day,
                     int64_t now_ms, effects_t *fx);

/* The account's score on day, with its reasons (the stored score has none). */
void account_score(const account_t *self, const account_policy_t *policy, int32_t day,
                   score_result_t *result);
/* One line on the running arrangement, e.g. "promise pending: 50000 by 2026-03-01". */
const char *account_arrangement_text(const account_t *self);

const char *account_strerror(int code);

#endif
