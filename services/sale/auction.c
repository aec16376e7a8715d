/* auction: bids, award, withdrawal and put-back (auction.h). */
#include "auction.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "money.h"

static int refuse(int code, char *why, size_t why_len, const char *fmt, long long a,
                  long long b)
{
    snprintf(why, why_len, fmt, a, b);
    return code;
}

int auction_check_bid(const auction_terms_t *terms, bool invited, const bid_t *previous,
                      const char *currency, int64_t amount_minor, int64_t now_ms, char *why,
                      size_t why_len)
{
    assert(terms->min_step_minor >= 1);
    if (!invited) {
        snprintf(why, why_len, "the buyer is not invited to this portfolio");
        return AUCTION_ENOTINVITED;
    }
    if (now_ms < terms->opens_ms)
        return refuse(AUCTION_ECLOSED, why, why_len,
                      "bidding opens at %lld ms; received at %lld ms", terms->opens_ms, now_ms);
    if (now_ms >= terms->deadline_ms)
        return refuse(AUCTION_ECLOSED, why, why_len,
                      "bidding closed at %lld ms; received at %lld ms", terms->deadline_ms,
                      now_ms);
    if (!currency || strcmp(currency, terms->currency) != 0) {
        snprintf(why, why_len, "the portfolio is in %s, the bid in %s%.8s%s", terms->currency,
                 currency ? "\"" : "no currency", currency ? currency : "", currency ? "\"" : "");
        return AUCTION_ECURRENCY;
    }
    if (!previous && amount_minor < terms->min_step_minor)
        return refuse(AUCTION_ESTEP, why, why_len,
                      "a bid of %lld is below the minimum step of %lld", amount_minor,
                      terms->min_step_minor);
    if (previous && (amount_minor <= previous->amount_minor ||
                     amount_minor - previous->amount_minor < terms->min_step_minor))
        return refuse(AUCTION_ESTEP, why, why_len,
                      "a new bid must raise the standing bid of %lld by at least %lld",
                      previous->amount_minor, terms->min_step_minor);
    return AUCTION_OK;
}

/* a ranks before b: a higher amount, then an earlier receipt. */
static bool ranks_before(const bid_t *a, const bid_t *b)
{
    if (a->amount_minor != b->amount_minor)
        return a->amount_minor > b->amount_minor;
    if (a->at_ms != b->at_ms)
        return a->at_ms < b->at_ms;
    return a->order < b->order;
}

int auction_award(const bid_t *bids, size_t n, int64_t reserve_minor, size_t *winner)
{
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if (bids[i].amount_minor >= reserve_minor && (best == n || ranks_before(&bids[i], &bids[best])))
            best = i;
    if (best == n)
        return AUCTION_ENOWINNER;
    *winner = best;
    return AUCTION_OK;
}

int auction_pro_rata(int64_t amount_minor, int64_t remaining_minor, int64_t listed_minor,
                     int64_t *out_minor)
{
    assert(listed_minor > 0 && remaining_minor >= 0 && remaining_minor <= listed_minor);
    if (money_mul_div_round(amount_minor, remaining_minor, listed_minor, out_minor) != MONEY_OK)
        return AUCTION_EOVERFLOW;
    return AUCTION_OK;
}

int auction_shares(int64_t price_minor, const int64_t *weights_minor, size_t n,
                   int64_t *shares_minor)
{
    assert(price_minor >= 0);
    int64_t total = 0, cum = 0, given = 0, upto, rem;
    for (size_t i = 0; i < n; i++) {
        assert(weights_minor[i] >= 0);
        if (money_add(total, weights_minor[i], &total) != MONEY_OK)
            return AUCTION_EOVERFLOW;
    }
    assert(total > 0);
    for (size_t i = 0; i < n; i++) {
        cum += weights_minor[i];   /* <= total: cannot overflow */
        if (money_mul_div(price_minor, cum, total, &upto, &rem) != MONEY_OK)
            return AUCTION_EOVERFLOW;
        shares_minor[i] = upto - given;
        given = upto;
    }
    return AUCTION_OK;
}

int auction_put_back_open(int64_t awarded_ms, int32_t window_days, int64_t now_ms)
{
    assert(window_days >= 0 && window_days <= AUCTION_MAX_WINDOW_DAYS);
    return now_ms < awarded_ms + window_days * AUCTION_DAY_MS ? AUCTION_OK : AUCTION_EWINDOW;
}

const char *auction_strerror(int code)
{
    switch (code) {
    case AUCTION_OK: return "ok";
    case AUCTION_ENOTINVITED: return "the buyer is not invited to the portfolio";
    case AUCTION_ECLOSED: return "bidding is not open";
    case AUCTION_ECURRENCY: return "not the portfolio's currency";
    case AUCTION_ESTEP: return "below the minimum step";
    case AUCTION_ENOWINNER: return "no bid at or above the reserve";
    case AUCTION_EOVERFLOW: return "an amount overflows int64 minor units";
    case AUCTION_EWINDOW: return "the put-back window has closed";
    default: return "unknown auction error";
    }
}
