/* staging: the service's decisions, between the receiver (which deduplicates streams and
 * commits batches) and the account module. For each message: check who sent it and
 * that every outbox has room (else `busy`, before anything changes), load the account,
 * let the account module decide, and write the account, its timeline entries and the
 * messages it caused in the receiver's transaction. The daily run (daily.c) does the
 * same for every account, chunk by chunk, when the clock crosses a run boundary.
 *
 * Who may send what: AccountEvent, ContactOutcome, LegalUpdate and SaleResult come
 * from principals with role "service"; OperatorAction and ClockAdvance from role
 * "operator". Queries: health from anyone, account and report from "operator" or
 * "service". */
#ifndef ARREARS_STAGING_STAGING_H
#define ARREARS_STAGING_STAGING_H

#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "aclock.h"
#include "config.h"
#include "held.h"
#include "ledger.h"
#include "outbox.h"
#include "receiver.h"
#include "statement.h"
#include "tz.h"
#include "validate.h"

typedef enum {
    STAGING_TO_OUTREACH = 0,
    STAGING_TO_LEGAL,
    STAGING_TO_SALE,
    STAGING_TO_INTAKE,
    STAGING_OUTBOXES
} staging_outbox_t;

/* Messages sent but not yet acknowledged, over every outbox (from the senders). */
typedef uint64_t (staging_unacked_fn)(void *arg);

typedef struct {
    ledger_t *ledger;
    outbox_t *out[STAGING_OUTBOXES];
    tz_cache_t *zones;
    aclock_t *clock;
    /* One per currency (strategy.h: every *_minor amount of a strategy is in its
     * currency), so a book in several currencies is worked by the right amounts. */
    account_policy_t policies[STAGING_MAX_STRATEGIES];
    size_t policy_count;
    const account_policy_t *policy;   /* the current account's: its currency's */
    validate_limits_t limits;
    int64_t started_ms;
    size_t run_chunk_accounts;      /* accounts per daily-run transaction */
    int64_t run_every_ms;           /* wall clock: a run at each multiple of this */
    int64_t advance_to_ms;          /* simulated: the latest instant asked for */
    staging_unacked_fn *unacked;
    void *unacked_arg;
    held_t *held;                   /* replays waiting for the catch-up (catchup.h) */
    /* Scratch for one account at a time (the service is single-threaded). */
    account_t account;
    effects_t fx;
    statement_t statement;          /* a referral's, while it is packed */
} staging_t;

/* The receiver's apply: a replay is held for the catch-up (catchup.h); anything else
 * is refused `busy` while staging catches up, and applied at its clock otherwise. */
int staging_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                  const Arrears__Envelope *env, reject_t *reject);
/* What env does, applied at instant at_ms (the catch-up's: when staging first did). */
int staging_apply_at(staging_t *self, MDB_txn *txn, const receiver_peer_t *from,
                     const Arrears__Envelope *env, int64_t at_ms, reject_t *reject);
size_t staging_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                     const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject);

/* The policy whose strategy is in currency, NULL when none is configured. */
const account_policy_t *staging_policy_for(const staging_t *self, const char *currency);

/* The report query's answer (report.c). */
size_t staging_report(staging_t *self, MDB_txn *txn, const Arrears__ReportQuery *q,
                      uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject);

/* The borrower-local day of instant at_ms in zone_name; TZ_* errors. */
int staging_day_of(staging_t *self, const char *zone_name, int64_t at_ms, int32_t *day);
/* Writes the account, its entries and its messages (self->fx) in txn. */
int staging_commit_account(staging_t *self, MDB_txn *txn, account_t *account, int64_t now_ms);
/* Whether every outbox has room for one account's worth of messages. */
int staging_has_room(staging_t *self, MDB_txn *txn, bool *room);

#endif
