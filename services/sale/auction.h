/* auction: the rules of a sealed-bid sale, from the first bid to the last put-back
 * (DESIGN.md section 5). Pure: the caller passes the bids, the clock and the portfolio.
 *
 * Bids. A buyer bids for a portfolio it is invited to, in the portfolio's currency,
 * from the moment bidding opens until its deadline: a bid received at or after
 * deadline_ms is late. Bids are sealed: no buyer sees another's. A buyer's later bid
 * replaces its earlier one and must raise it by at least min_step_minor; the first bid
 * must be at least min_step_minor (a bid of 1 is noise). The instant is sale's clock on
 * receipt, never the buyer's.
 *
 * Award. At the deadline the highest bid at or above the reserve wins. Equal amounts go
 * to the earlier bid (its receipt instant, then its order of receipt). No bid at or
 * above the reserve: no winner.
 *
 * Withdrawal. An account that pays, settles or disputes during bidding leaves the
 * portfolio before award. Every bid was for the portfolio as listed, so each is taken
 * down pro rata by balance: amount * outstanding now / outstanding at opening, half to
 * even. All bids scale alike, so the order of bids does not change; the reserve is
 * re-valued from the accounts that remain.
 *
 * Shares. The price is shared among the accounts by balance, by cumulative rounding:
 * account i gets floor(P * (w1 + .. + wi) / W) - floor(P * (w1 + .. + wi-1) / W). The
 * shares add up to the price exactly, each is within one minor unit of its exact share,
 * and it needs no sorting and no memory. An account's share is what comes off the price
 * when it is put back.
 *
 * Put-back. The winner may return an ineligible account while now < awarded_ms +
 * window_days * 86400000. */
#ifndef ARREARS_SALE_AUCTION_H
#define ARREARS_SALE_AUCTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUCTION_DAY_MS INT64_C(86400000)
#define AUCTION_MAX_BIDS 64            /* buyers bidding on one portfolio */
#define AUCTION_MAX_WINDOW_DAYS 365
#define AUCTION_REASON_MAX 200

enum {
    AUCTION_OK = 0,
    AUCTION_ENOTINVITED = -31301,  /* the buyer is not invited to the portfolio */
    AUCTION_ECLOSED = -31302,      /* bidding has not opened or has closed */
    AUCTION_ECURRENCY = -31303,    /* not the portfolio's currency */
    AUCTION_ESTEP = -31304,        /* below the step, or a raise smaller than it */
    AUCTION_ENOWINNER = -31305,    /* no bid at or above the reserve */
    AUCTION_EOVERFLOW = -31306,
    AUCTION_EWINDOW = -31307,      /* the put-back window has closed */
};

typedef struct {
    int64_t opens_ms;
    int64_t deadline_ms;
    int64_t min_step_minor;        /* >= 1 */
    const char *currency;
} auction_terms_t;

typedef struct {
    int64_t amount_minor;
    int64_t at_ms;                 /* sale's clock on receipt */
    uint64_t order;                /* receipt order among all bids, for equal instants */
} bid_t;

/* May this bid be taken? previous: the buyer's standing bid, or NULL. AUCTION_OK or a
 * refusal with why (a sentence for the buyer). */
int auction_check_bid(const auction_terms_t *terms, bool invited, const bid_t *previous,
                      const char *currency, int64_t amount_minor, int64_t now_ms, char *why,
                      size_t why_len);

/* The winning bid's index among bids[0 .. n), or AUCTION_ENOWINNER. */
int auction_award(const bid_t *bids, size_t n, int64_t reserve_minor, size_t *winner);

/* A bid taken down for withdrawn accounts (the top of this file). */
int auction_pro_rata(int64_t amount_minor, int64_t remaining_minor, int64_t listed_minor,
                     int64_t *out_minor);

/* shares[i] of price_minor >= 0 by weights_minor[i] >= 0 (balances, not all 0), by
 * cumulative rounding; they add up to price_minor. */
int auction_shares(int64_t price_minor, const int64_t *weights_minor, size_t n,
                   int64_t *shares_minor);

/* AUCTION_OK while a put-back is still taken, else AUCTION_EWINDOW. */
int auction_put_back_open(int64_t awarded_ms, int32_t window_days, int64_t now_ms);

const char *auction_strerror(int code);

#endif
