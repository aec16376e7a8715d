/* sales: the sale service's durable state in its LMDB — the accounts listed, their
 * listings (sealed: they hold the borrower), the portfolios, who is in them, the bids,
 * the winners' sealed files and their pseudonyms. Storage only: what may happen is
 * decided in sale.c by the pure rules (portfolio, valuation, auction, tape).
 *
 * Tables (numbers big-endian so byte order is numeric order):
 *   sale.listed      "<platform>/<account_ref>" -> StoredListed
 *   sale.listings    "<platform>/<account_ref>" -> SaleListing, sealed
 *   sale.waiting     <plan>/<cut>\0<listed_order u64> -> account key (oldest first)
 *   sale.portfolios  portfolio id -> StoredPortfolio
 *   sale.members     <portfolio id>\0<account key> -> ""  (every account it was offered)
 *   sale.bids        <portfolio id>\0<buyer> -> StoredBid
 *   sale.files       portfolio id -> the winner's sealed file (crypto_box_seal)
 *   sale.pseudonyms  <portfolio id>\0<pseudonym> -> account key (the winner's names)
 *   sale.due         <deadline_ms u64><portfolio id> -> ""  (portfolios bidding)
 *   sale.meta        name -> u64 (the clock, the next portfolio and bid numbers, each
 *                    plan's next opening "open/<plan>")
 * Portfolio ids are "<plan>-" and a 6-digit number, in the order they opened. */
#ifndef ARREARS_SALE_SALES_H
#define ARREARS_SALE_SALES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypt.h"
#include "sale_store.pb-c.h"
#include "store.h"

typedef Arrears__StoredListed StoredListed;
typedef Arrears__StoredPortfolio StoredPortfolio;
typedef Arrears__StoredBid StoredBid;
typedef Arrears__StoredValuation StoredValuation;
typedef Arrears__StoredValuationLine StoredValuationLine;
typedef Arrears__SaleListing SaleListing;

#define SALES_ID_MAX 40                   /* plan name (24) + '-' + number */
#define SALES_ACCOUNT_KEY_MAX 130         /* platform (64) + '/' + account ref (64) */
#define SALES_CUT_MAX 96
#define SALES_RECORD_MAX (256 * 1024)     /* a listing with its file, a portfolio */
#define SALES_FILE_MAX (256 * 1024 * 1024) /* a winner's sealed file */

enum {
    SALES_OK = 0,
    SALES_ECORRUPT = -31501,   /* a stored record does not decode or open */
    SALES_ETOO_LARGE = -31502, /* a record or file over its limit */
    SALES_EKEY = -31503,       /* an id or key over its limit */
};

typedef struct sales sales_t;

int sales_open(store_t *store, crypt_t *crypt, sales_t **self_p);
void sales_destroy(sales_t **self_p);
const char *sales_strerror(int code);

/* "<platform>/<account_ref>"; SALES_EKEY when too long. */
int sales_account_key(const char *platform, const char *account_ref,
                      char key[SALES_ACCOUNT_KEY_MAX + 1]);

/* *out NULL when absent; free with arrears__stored_listed__free_unpacked. */
int sales_listed_get(sales_t *self, MDB_txn *txn, const char *account_key, StoredListed **out);
/* Writes the account and moves its waiting entry from before (NULL: new) to after. */
int sales_listed_put(sales_t *self, MDB_txn *txn, const StoredListed *before,
                     const StoredListed *after);

int sales_listing_put(sales_t *self, MDB_txn *txn, const char *account_key, const SaleListing *l);
/* *out NULL when absent; free with arrears__sale_listing__free_unpacked. */
int sales_listing_get(sales_t *self, MDB_txn *txn, const char *account_key, SaleListing **out);

/* The waiting cuts of a plan, each with how many accounts wait in it: visit(cut, count)
 * in cut order. */
typedef int (sales_cut_fn)(const char *cut, size_t count, void *arg);
int sales_waiting_cuts(sales_t *self, MDB_txn *txn, const char *plan, sales_cut_fn *visit,
                       void *arg);
/* The oldest max account keys waiting in a plan's cut. */
int sales_waiting(sales_t *self, MDB_txn *txn, const char *plan, const char *cut, size_t max,
                  char (*keys)[SALES_ACCOUNT_KEY_MAX + 1], size_t *n);

/* *out NULL when absent; free with arrears__stored_portfolio__free_unpacked. */
int sales_portfolio_get(sales_t *self, MDB_txn *txn, const char *id, StoredPortfolio **out);
/* Writes the portfolio and moves its due entry (bidding portfolios by deadline). */
int sales_portfolio_put(sales_t *self, MDB_txn *txn, const StoredPortfolio *before,
                        const StoredPortfolio *after);
/* The next portfolio id of a plan; the number is taken. */
int sales_next_portfolio_id(sales_t *self, MDB_txn *txn, const char *plan,
                            char id[SALES_ID_MAX + 1]);
/* Ids of bidding portfolios whose deadline is at or before now_ms (at most max). */
int sales_due(sales_t *self, MDB_txn *txn, int64_t now_ms, size_t max,
              char (*ids)[SALES_ID_MAX + 1], size_t *n);
/* The earliest deadline, INT64_MAX when none. */
int sales_next_due(sales_t *self, MDB_txn *txn, int64_t *due_ms);

int sales_member_add(sales_t *self, MDB_txn *txn, const char *id, const char *account_key);
/* Every account key a portfolio was offered, in key order: visit(key). */
typedef int (sales_key_fn)(const char *account_key, void *arg);
int sales_each_member(sales_t *self, MDB_txn *txn, const char *id, sales_key_fn *visit,
                      void *arg);

/* *out NULL when absent; free with arrears__stored_bid__free_unpacked. */
int sales_bid_get(sales_t *self, MDB_txn *txn, const char *id, const char *buyer, StoredBid **out);
int sales_bid_put(sales_t *self, MDB_txn *txn, const StoredBid *bid);
/* Every bid on a portfolio, in buyer order: visit(bid). */
typedef int (sales_bid_fn)(const StoredBid *bid, void *arg);
int sales_bids(sales_t *self, MDB_txn *txn, const char *id, sales_bid_fn *visit, void *arg);

int sales_file_put(sales_t *self, MDB_txn *txn, const char *id, const uint8_t *data, size_t len);
/* Deletes the portfolio's sealed file; *dropped false when there was none. */
int sales_file_drop(sales_t *self, MDB_txn *txn, const char *id, bool *dropped);
/* Points into the map (valid until the transaction ends); *len 0 when absent. */
int sales_file_get(sales_t *self, MDB_txn *txn, const char *id, const uint8_t **data, size_t *len);

int sales_pseudonym_put(sales_t *self, MDB_txn *txn, const char *id, const char *pseudonym,
                        const char *account_key);
/* account_key "" when the pseudonym is not one of the portfolio's. */
int sales_pseudonym_get(sales_t *self, MDB_txn *txn, const char *id, const char *pseudonym,
                        char account_key[SALES_ACCOUNT_KEY_MAX + 1]);

/* Every portfolio in id order. */
typedef int (sales_portfolio_fn)(const StoredPortfolio *p, void *arg);
int sales_each_portfolio(sales_t *self, MDB_txn *txn, sales_portfolio_fn *visit, void *arg);
/* Every listed account in key order. */
typedef int (sales_listed_fn)(const StoredListed *l, void *arg);
int sales_each_listed(sales_t *self, MDB_txn *txn, sales_listed_fn *visit, void *arg);

int sales_meta_get(sales_t *self, MDB_txn *txn, const char *name, uint64_t dflt, uint64_t *out);
int sales_meta_put(sales_t *self, MDB_txn *txn, const char *name, uint64_t value);

/* JSON lines for `sale dump`: every account listed, every portfolio and bid. */
int sales_dump(sales_t *self, MDB_txn *txn, FILE *out);

#endif
