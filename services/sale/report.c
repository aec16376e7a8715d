/* report: sale's figures from its own records (DESIGN.md section 7: each service
 * reports on what it holds; `arrears report` gathers them). One walk over the accounts
 * listed and one over the portfolios with their bids: an operator's query, not a hot
 * path. Accounts sold and put back are counted from the portfolios (an account put back
 * may be listed again and be waiting now); listings, waiting and withdrawn are the
 * accounts' states now. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "money.h"
#include "sale.h"

#define REPORT_MAX_CURRENCIES 16

typedef struct {
    sale_t *self;
    MDB_txn *txn;
    Arrears__SaleReport r;
    size_t currencies;
    Arrears__SaleProceeds proceeds[REPORT_MAX_CURRENCIES], *ptrs[REPORT_MAX_CURRENCIES];
    char codes[REPORT_MAX_CURRENCIES][4];
} report_t;

static int count_listed(const StoredListed *l, void *arg)
{
    Arrears__SaleReport *r = &((report_t *)arg)->r;
    r->listings++;
    r->waiting += l->state == ARREARS__LISTED_STATE__LISTED_WAITING;
    r->accounts_withdrawn += l->state == ARREARS__LISTED_STATE__LISTED_WITHDRAWN;
    return 0;
}

static int count_bid(const StoredBid *b, void *arg)
{
    ((report_t *)arg)->r.bids += 1 + b->raises;
    return 0;
}

static Arrears__SaleProceeds *proceeds_of(report_t *w, const char *currency)
{
    for (size_t i = 0; i < w->currencies; i++)
        if (strcmp(w->codes[i], currency) == 0)
            return &w->proceeds[i];
    if (w->currencies == REPORT_MAX_CURRENCIES)
        return NULL;
    Arrears__SaleProceeds *p = &w->proceeds[w->currencies];
    arrears__sale_proceeds__init(p);
    snprintf(w->codes[w->currencies], 4, "%.3s", currency);
    p->currency = w->codes[w->currencies];
    p->has_price_minor = p->has_outstanding_minor = 1;
    w->ptrs[w->currencies++] = p;
    return p;
}

static int count_portfolio(const StoredPortfolio *p, void *arg)
{
    report_t *w = arg;
    w->r.portfolios++;
    w->r.awarded += p->state == ARREARS__PORTFOLIO_STATE__PORTFOLIO_AWARDED;
    w->r.unsold += p->state == ARREARS__PORTFOLIO_STATE__PORTFOLIO_UNSOLD;
    if (p->state == ARREARS__PORTFOLIO_STATE__PORTFOLIO_AWARDED) {
        w->r.accounts_sold += p->accounts - p->put_back;
        w->r.accounts_put_back += p->put_back;
    }
    if (p->state == ARREARS__PORTFOLIO_STATE__PORTFOLIO_AWARDED && p->currency) {
        Arrears__SaleProceeds *sum = proceeds_of(w, p->currency);
        if (!sum || money_add(sum->price_minor, p->price_minor, &sum->price_minor) != MONEY_OK ||
            money_add(sum->outstanding_minor, p->outstanding_minor, &sum->outstanding_minor) !=
                MONEY_OK)
            return SALES_ETOO_LARGE;
    }
    return sales_bids(w->self->sales, w->txn, p->portfolio_id, count_bid, w);
}

size_t sale_report(sale_t *self, MDB_txn *txn, uint64_t request_id, uint8_t *buf, size_t cap,
                   reject_t *reject)
{
    report_t *w = calloc(1, sizeof *w);
    if (!w) {
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL, "out of memory");
        return 0;
    }
    w->self = self;
    w->txn = txn;
    arrears__sale_report__init(&w->r);
    int rc = sales_each_listed(self->sales, txn, count_listed, w);
    rc = rc ? rc : sales_each_portfolio(self->sales, txn, count_portfolio, w);
    Arrears__SaleReport *r = &w->r;
    r->has_listings = r->has_waiting = r->has_portfolios = r->has_awarded = r->has_unsold = 1;
    r->has_accounts_sold = r->has_accounts_withdrawn = r->has_accounts_put_back = r->has_bids = 1;
    r->n_proceeds = w->currencies;
    r->proceeds = w->ptrs;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_REPORT;
    env.sale_report = r;
    size_t len = rc ? 0 : envelope_pack_reply(&env, request_id, buf, cap);
    if (rc != 0 || len == 0)
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                              "the report could not be made now (%d)", rc);
    free(w);
    return len;
}
