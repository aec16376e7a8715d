/* sale: the sale service's decisions, between the receiver (which deduplicates streams,
 * commits batches and replies after the commit) and its durable state (sales.c). What
 * comes in:
 *   from staging (role "service"), stream messages: SaleListing puts an account up for
 *     sale after sale's own eligibility re-check, in the first plan of its product and
 *     currency and the cut of its bands (refused ones go back WITHDRAWN with the
 *     reason); SaleNotice withdraws an account that paid, settled, was disputed or
 *     became ineligible, from the waiting list or from the portfolio bidding on it;
 *     PersonalDataErased erases the account's personal data (erase.c);
 *   from buyers (role "buyer"), stream messages: Bid and PutBack; queries: their
 *     portfolio list and chunks of tapes and files — never another buyer's bids, never
 *     a portfolio they are not invited to, never a file they did not win;
 *   from operators (role "operator"): ClockAdvance on a simulated clock; the report and
 *     health (also role "service").
 * What goes out: every account's end at sale (SOLD with its share of the price,
 * WITHDRAWN, PUT_BACK, each with why) to staging, in the same transaction as the change.
 * Staging may run in shards (shards.h): an account keeps the shard whose principal
 * listed it, and its end goes back to that shard; a listing or notice from a principal
 * not in the `staging` list is refused.
 * A sweep (cycle.c) opens each plan's portfolios when its cycle comes and awards those
 * whose bidding deadline has passed. */
#ifndef ARREARS_SALE_SALE_H
#define ARREARS_SALE_SALE_H

#include <stdbool.h>
#include <stdint.h>

#include "aclock.h"
#include "chunk.h"
#include "config.h"
#include "outbox.h"
#include "receiver.h"
#include "sales.h"
#include "tape.h"

typedef uint64_t (sale_unacked_fn)(void *arg);
/* The CURVE public key a buyer connects with (its file is sealed to it); false when the
 * keys file has none. */
typedef bool (sale_buyer_key_fn)(void *arg, const char *buyer, uint8_t key[32]);

typedef struct {
    size_t award_max;          /* portfolios awarded per sweep transaction */
    size_t list_max;           /* portfolios per PortfolioList reply */
    uint32_t chunk_max_bytes;  /* document bytes per chunk */
} sale_limits_t;

/* The last tape built: buyers pull one in many chunks, each answered from this copy
 * while the portfolio's version stands. */
typedef struct {
    char portfolio_id[SALES_ID_MAX + 1];
    char buyer[INBOX_PRINCIPAL_MAX + 1];
    uint32_t version;
    uint8_t *data;
    size_t len;
    uint8_t sha256[CHUNK_DIGEST_BYTES];
} tape_cache_t;

typedef struct {
    sales_t *sales;
    outbox_t *to_staging[SHARDS_MAX];   /* one per shard of cfg->staging, in its order */
    aclock_t *clock;
    const sale_config_t *cfg;
    sale_limits_t limits;
    uint8_t pseudonym_key[TAPE_KEY_BYTES];
    int64_t started_ms;
    sale_unacked_fn *unacked;          /* sent to staging and not yet acknowledged */
    void *unacked_arg;
    sale_buyer_key_fn *buyer_key;
    void *buyer_key_arg;
    tape_cache_t tape;
} sale_t;

sale_limits_t sale_default_limits(void);
void sale_release(sale_t *self);   /* frees what the service allocated (the tape cache) */

int sale_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
               const Arrears__Envelope *env, reject_t *reject);
size_t sale_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                  const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject);

/* Opens due cycles and awards portfolios past their deadline at now_ms of sale's clock;
 * *moved counts portfolios opened or closed. */
int sale_sweep(sale_t *self, MDB_txn *txn, size_t *moved);

/* The end of an account's retention (erase.c): its listing loses the borrower and the
 * record's free text, a put-back loses the buyer's reason, and the sealed file of the
 * portfolio it was sold in is deleted (sale cannot open it to take one account out; a
 * pull then says it was erased). The listed record, bands, prices and sale's report
 * stay. Idempotent: a repeat writes nothing. */
int sale_erase(sale_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
               reject_t *reject);

/* ---- shared between sale.c, cycle.c, query.c and report.c */

/* The SaleReport reply (report.c). */
size_t sale_report(sale_t *self, MDB_txn *txn, uint64_t request_id, uint8_t *buf, size_t cap,
                   reject_t *reject);

/* Tells the account's staging shard how its time at sale ended (SOLD, WITHDRAWN,
 * PUT_BACK). */
int sale_tell_staging(sale_t *self, MDB_txn *txn, const StoredListed *l,
                      Arrears__SaleOutcome outcome, int64_t price_minor, const char *detail);
/* The account leaves sale: WITHDRAWN with detail, staging told. after is the caller's
 * record to write, a stack record or a shallow copy of before (it borrows detail). */
int sale_withdraw(sale_t *self, MDB_txn *txn, const StoredListed *before, StoredListed *after,
                  const char *detail);
/* Whether the portfolio's invitation list names buyer. */
bool sale_invited(const StoredPortfolio *p, const char *buyer);
/* The buyer's pseudonym for an account. */
int sale_pseudonym(sale_t *self, const char *buyer, const StoredListed *l,
                   char out[TAPE_PSEUDONYM_LEN + 1]);
/* Whether a one-off plan has opened already (it takes no more accounts); false with
 * *rc on a store error. */
bool sale_plan_closed(sale_t *self, MDB_txn *txn, const sale_plan_t *plan, int *rc);
/* Room for n more messages in the outbox to staging shard `shard` (an account's
 * staging_shard), or in every shard's with SALE_EVERY_SHARD: an award or a one-off
 * opening tells about many accounts, each on its own shard, and counting them by shard
 * would read every one first. False with *rc on a store error. A shard past the list
 * (it shrank, which shards.h forbids) has none: its accounts wait. */
#define SALE_EVERY_SHARD UINT32_MAX
bool sale_has_room(sale_t *self, MDB_txn *txn, uint32_t shard, uint64_t n, int *rc);

#endif
