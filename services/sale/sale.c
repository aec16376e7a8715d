/* sale: listings, notices, bids, put-backs and the clock (see sale.h). */
#include "sale.h"

#include <stdlib.h>
#include <string.h>

#include "auction.h"
#include "log.h"
#include "money.h"
#include "validate.h"

sale_limits_t sale_default_limits(void)
{
    return (sale_limits_t){.award_max = 8, .list_max = 500, .chunk_max_bytes = 262144};
}

void sale_release(sale_t *self)
{
    free(self->tape.data);
    self->tape = (tape_cache_t){0};
}

bool sale_invited(const StoredPortfolio *p, const char *buyer)
{
    for (size_t i = 0; buyer && i < p->n_invited; i++)
        if (strcmp(p->invited[i], buyer) == 0)
            return true;
    return false;
}

int sale_pseudonym(sale_t *self, const char *buyer, const StoredListed *l,
                   char out[TAPE_PSEUDONYM_LEN + 1])
{
    return tape_pseudonym(self->pseudonym_key, buyer, l->platform, l->account_ref, out);
}

bool sale_has_room(sale_t *self, MDB_txn *txn, uint32_t shard, uint64_t n, int *rc)
{
    uint32_t count = self->cfg->staging.count;
    bool every = shard == SALE_EVERY_SHARD;
    *rc = 0;
    if (!every && shard >= count) {
        log_event(LOG_ERROR, "staging_shard_unknown", "shard=%u shards=%u", shard, count);
        return false;
    }
    for (uint32_t i = every ? 0 : shard; i < (every ? count : shard + 1); i++) {
        uint64_t room = 0;
        *rc = outbox_room(self->to_staging[i], txn, &room);
        if (*rc != 0 || room < n)
            return false;
    }
    return true;
}

/* sale_has_room for a message: 0 with room for one, else a BUSY refusal
 * (APPLY_REJECTED) or a store error, before anything changes. */
static int need_room(sale_t *self, MDB_txn *txn, uint32_t shard, reject_t *reject)
{
    int rc = 0;
    if (sale_has_room(self, txn, shard, 1, &rc))
        return 0;
    return rc ? rc : receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                                     "sale's outbox to staging shard %u is full: it is behind; "
                                     "retry later", shard);
}

int sale_tell_staging(sale_t *self, MDB_txn *txn, const StoredListed *l,
                      Arrears__SaleOutcome outcome, int64_t price_minor, const char *detail)
{
    Arrears__SaleResult m = ARREARS__SALE_RESULT__INIT;
    m.platform = l->platform;
    m.account_ref = l->account_ref;
    m.has_outcome = m.has_at_ms = 1;
    m.outcome = outcome;
    m.at_ms = aclock_now_ms(self->clock);
    m.buyer = outcome == ARREARS__SALE_OUTCOME__SALE_WITHDRAWN ? NULL : l->buyer;
    m.has_price_minor = outcome != ARREARS__SALE_OUTCOME__SALE_WITHDRAWN;
    m.price_minor = price_minor;
    m.portfolio_id = l->portfolio_id && *l->portfolio_id ? l->portfolio_id : NULL;
    char why[201];
    snprintf(why, sizeof why, "%s", detail ? detail : "");
    m.detail = why[0] ? why : NULL;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_RESULT;
    env.sale_result = &m;
    /* Every caller found room on this shard first (sale_has_room), which one past the
     * list never has: reaching here with one is an account this sale cannot answer. */
    if (l->staging_shard >= self->cfg->staging.count)
        return SALES_ECORRUPT;
    return outbox_append(self->to_staging[l->staging_shard], txn, &env, m.at_ms, NULL);
}

int sale_withdraw(sale_t *self, MDB_txn *txn, const StoredListed *before, StoredListed *after,
                  const char *detail)
{
    after->has_state = after->has_left_ms = 1;
    after->state = ARREARS__LISTED_STATE__LISTED_WITHDRAWN;
    after->left_ms = aclock_now_ms(self->clock);
    after->detail = (char *)detail;
    int rc = sales_listed_put(self->sales, txn, before, after);
    rc = rc ? rc : sale_tell_staging(self, txn, after, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN, 0,
                                     detail);
    log_event(LOG_INFO, "sale_withdrawn", "platform=%s account=%s portfolio=%s error=%d",
              after->platform, after->account_ref, after->portfolio_id ? after->portfolio_id : "",
              rc);   /* the reason may quote staging's free text: it is on the record, not here */
    return rc;
}

/* ---------------------------------------------------------------- listings */

/* "CN", or "CN-31": the tape shows the two letters, so nothing else may stand there. */
static bool is_region(const char *r)
{
    size_t n = strlen(r);
    bool letters = n >= 2 && r[0] >= 'A' && r[0] <= 'Z' && r[1] >= 'A' && r[1] <= 'Z';
    return letters && (n == 2 || (r[2] == '-' && n <= 16));
}

/* What both staging messages name: an account sale may store under its key. */
static int check_account(const char *platform, const char *account_ref, reject_t *reject)
{
    const Arrears__Reject__Code bad = ARREARS__REJECT__CODE__INVALID_FIELD;
    if (!platform || !*platform || strlen(platform) > INBOX_PRINCIPAL_MAX)
        return receiver_refuse(reject, bad, "platform", "1 to 64 bytes");
    if (!validate_ref(account_ref))
        return receiver_refuse(reject, bad, "account_ref", "1 to 64 bytes of [A-Za-z0-9._:-]");
    return 0;
}

static int check_listing(const SaleListing *l, reject_t *reject)
{
    const Arrears__Reject__Code bad = ARREARS__REJECT__CODE__INVALID_FIELD;
    int64_t day;
    if (check_account(l->platform, l->account_ref, reject) != 0)
        return APPLY_REJECTED;
    if (!l->currency || !money_currency_known(l->currency))
        return receiver_refuse(reject, bad, "currency", "an ISO 4217 code with a minor unit");
    if (!l->has_outstanding_minor || l->outstanding_minor < 0 || l->principal_minor < 0 ||
        l->interest_minor < 0 || l->penalty_minor < 0 || l->fees_minor < 0)
        return receiver_refuse(reject, bad, "outstanding_minor",
                               "required; no amount is ever negative");
    if (!l->has_product || l->product < 1 || l->product > 4)
        return receiver_refuse(reject, bad, "product", "a known product");
    if (!l->has_days_past_due || l->days_past_due < 0)
        return receiver_refuse(reject, bad, "days_past_due", "required, never negative");
    if (l->charged_off_date && validate_date(l->charged_off_date, &day) != 0)
        return receiver_refuse(reject, bad, "charged_off_date", "absent, or a date YYYY-MM-DD");
    if (l->last_payment_date && validate_date(l->last_payment_date, &day) != 0)
        return receiver_refuse(reject, bad, "last_payment_date", "absent, or a date YYYY-MM-DD");
    if (l->region && !is_region(l->region))
        return receiver_refuse(reject, bad, "region", "a country code, \"CN\" or \"CN-31\"");
    if (l->has_person_key && l->person_key.len > 32)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "person_key",
                               "at most 32 bytes");
    if (arrears__sale_listing__get_packed_size(l) > SALES_RECORD_MAX)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "file",
                               "a listing is at most %d bytes", SALES_RECORD_MAX);
    return 0;
}

/* Where the listing goes: its plan and cut, or why it cannot be sold. */
static bool place_listing(const sale_t *self, const SaleListing *l, const sale_plan_t **plan,
                          cut_t *cut, char *why, size_t why_len)
{
    listed_t facts = {
        .may_sell = l->may_sell, .bankrupt = l->bankrupt, .deceased = l->deceased,
        .dispute_open = l->dispute_open, .in_litigation = l->in_litigation,
        .product = l->product, .currency = l->currency,
        .outstanding_minor = l->outstanding_minor, .days_past_due = l->days_past_due,
    };
    if (portfolio_eligible(&facts, why, why_len) != PORTFOLIO_OK)
        return false;
    *plan = sale_plan_for(self->cfg, l->product, l->currency);
    if (!*plan) {
        snprintf(why, why_len, "no sale plan takes %s in %s",
                 protobuf_c_enum_descriptor_get_value(&arrears__product__descriptor, l->product)->name,
                 l->currency);
        return false;
    }
    return portfolio_cut_for(&self->cfg->cuts, &facts, cut, why, why_len) == PORTFOLIO_OK;
}

static int new_listed(sale_t *self, MDB_txn *txn, const SaleListing *l, uint32_t shard,
                      const sale_plan_t *plan, const cut_t *cut, StoredListed *out,
                      char cut_name[SALES_CUT_MAX + 1])
{
    uint64_t order = 0;
    int rc = sales_meta_get(self->sales, txn, "next_listed", 1, &order);
    rc = rc ? rc : sales_meta_put(self->sales, txn, "next_listed", order + 1);
    arrears__stored_listed__init(out);
    out->platform = l->platform;
    out->account_ref = l->account_ref;
    out->has_state = out->has_listed_ms = out->has_listed_order = out->has_product = 1;
    out->state = ARREARS__LISTED_STATE__LISTED_WAITING;
    out->listed_ms = aclock_now_ms(self->clock);
    out->listed_order = order;
    out->product = l->product;
    out->currency = l->currency;
    out->has_outstanding_minor = out->has_days_past_due = 1;
    out->outstanding_minor = l->outstanding_minor;
    out->days_past_due = l->days_past_due;
    out->has_staging_shard = 1;
    out->staging_shard = shard;
    if (plan) {
        const char *dpd = self->cfg->cuts.dpd_bands[cut->dpd_band].name;
        const char *bal = self->cfg->cuts.balance_bands[cut->balance_band].name;
        snprintf(cut_name, SALES_CUT_MAX + 1, "%d/%s/%s/%s", (int)cut->product, cut->currency,
                 dpd, bal);
        out->plan = (char *)plan->name;
        out->cut = cut_name;
        out->dpd_band = (char *)dpd;
        out->balance_band = (char *)bal;
    }
    return rc;
}

static bool still_for_sale(const StoredListed *l)
{
    return l && (l->state == ARREARS__LISTED_STATE__LISTED_WAITING ||
                 l->state == ARREARS__LISTED_STATE__LISTED_IN_PORTFOLIO ||
                 l->state == ARREARS__LISTED_STATE__LISTED_SOLD);
}

/* The instant staging listed the account last (its SaleListing's), 0 when never. */
static int last_listed_at(sale_t *self, MDB_txn *txn, const char *key, int64_t *at_ms)
{
    SaleListing *last = NULL;
    int rc = sales_listing_get(self->sales, txn, key, &last);
    *at_ms = rc == 0 && last && last->has_listed_at_ms ? last->listed_at_ms : 0;
    arrears__sale_listing__free_unpacked(last, NULL);
    return rc;
}

static int sale_listing(sale_t *self, MDB_txn *txn, const SaleListing *l, uint32_t shard,
                        reject_t *reject)
{
    char key[SALES_ACCOUNT_KEY_MAX + 1], why[PORTFOLIO_REASON_MAX], cut_name[SALES_CUT_MAX + 1] = "";
    int64_t last_at = 0;
    int rc = check_listing(l, reject);
    rc = rc ? rc : sales_account_key(l->platform, l->account_ref, key);
    rc = rc ? rc : last_listed_at(self, txn, key, &last_at);
    if (rc != 0 || (l->has_listed_at_ms && last_at == l->listed_at_ms))
        return rc ? rc : APPLY_DUPLICATE;   /* the same listing, sent again after a restore */
    StoredListed *before = NULL, after;
    rc = sales_listed_get(self->sales, txn, key, &before);
    if (rc == 0 && still_for_sale(before)) {
        arrears__stored_listed__free_unpacked(before, NULL);
        return receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "account_ref",
                               "the account is already for sale or sold");
    }
    const sale_plan_t *plan = NULL;
    cut_t cut;
    bool placed = rc == 0 && place_listing(self, l, &plan, &cut, why, sizeof why);
    if (placed && sale_plan_closed(self, txn, plan, &rc)) {
        snprintf(why, sizeof why, "the one-off sale %s has closed", plan->name);
        placed = false;
    }
    rc = rc ? rc : new_listed(self, txn, l, shard, placed ? plan : NULL, &cut, &after, cut_name);
    rc = rc ? rc : sales_listing_put(self->sales, txn, key, l);
    if (rc == 0 && placed)
        rc = sales_listed_put(self->sales, txn, before, &after);
    else if (rc == 0)
        rc = sale_withdraw(self, txn, before, &after, why);
    log_event(LOG_INFO, "sale_listing", "platform=%s account=%s placed=%d plan=%s cut=%s error=%d",
              l->platform, l->account_ref, placed, plan ? plan->name : "-",
              placed ? cut_name : "-", rc);
    arrears__stored_listed__free_unpacked(before, NULL);
    return rc;
}

/* ---------------------------------------------------------------- notices */

static const char *notice_why(Arrears__SaleNoticeKind kind)
{
    switch (kind) {
    case ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT: return "a payment was posted";
    case ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_DISPUTE: return "the debt is disputed";
    case ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_CLOSED: return "the account closed";
    case ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_INELIGIBLE: return "the account became ineligible";
    default: return NULL;
    }
}

/* A withdrawn account leaves its bidding portfolio: bids will be taken down pro rata
 * at award, and tapes are rebuilt (the version). */
static int leave_portfolio(sale_t *self, MDB_txn *txn, const StoredListed *l)
{
    StoredPortfolio *before = NULL;
    int rc = sales_portfolio_get(self->sales, txn, l->portfolio_id, &before);
    if (rc == 0 && !before)
        rc = SALES_ECORRUPT;   /* the account names a portfolio that is not there */
    if (rc == 0) {
        StoredPortfolio after = *before;   /* shallow: before keeps owning the strings */
        after.accounts -= after.accounts > 0;
        after.outstanding_minor -= l->outstanding_minor;
        after.withdrawn++;
        after.version++;
        after.has_withdrawn = 1;
        rc = sales_portfolio_put(self->sales, txn, before, &after);
    }
    arrears__stored_portfolio__free_unpacked(before, NULL);
    return rc;
}

static int sale_notice(sale_t *self, MDB_txn *txn, const Arrears__SaleNotice *n, reject_t *reject)
{
    const char *what = notice_why(n->kind);
    if (!what)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "kind",
                               "not a sale notice kind");
    if (n->detail && strlen(n->detail) > 200)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "detail", "at most 200 bytes");
    if (check_account(n->platform, n->account_ref, reject) != 0)
        return APPLY_REJECTED;
    char key[SALES_ACCOUNT_KEY_MAX + 1], why[256];
    StoredListed *before = NULL;
    int64_t listed_at = 0;
    int rc = sales_account_key(n->platform, n->account_ref, key);
    rc = rc ? rc : last_listed_at(self, txn, key, &listed_at);
    if (rc == 0 && n->has_at_ms && n->at_ms < listed_at)
        return 0;   /* about an earlier listing (sent again after a restore): done then */
    rc = rc ? rc : sales_listed_get(self->sales, txn, key, &before);
    bool waiting = rc == 0 && before && before->state == ARREARS__LISTED_STATE__LISTED_WAITING;
    bool bidding = rc == 0 && before && before->state == ARREARS__LISTED_STATE__LISTED_IN_PORTFOLIO;
    snprintf(why, sizeof why, "%s during the sale%s%.150s", what, n->detail ? ": " : "",
             n->detail ? n->detail : "");
    if (bidding)
        rc = leave_portfolio(self, txn, before);
    if (rc == 0 && (waiting || bidding)) {
        StoredListed after = *before;   /* shallow: before keeps owning the strings */
        rc = sale_withdraw(self, txn, before, &after, why);
    }
    /* Sold, or already gone: nothing to withdraw; the notice is recorded in the log. */
    log_event(LOG_INFO, "sale_notice", "platform=%s account=%s kind=%d withdrawn=%d error=%d",
              n->platform ? n->platform : "", n->account_ref ? n->account_ref : "", (int)n->kind,
              waiting || bidding, rc);
    arrears__stored_listed__free_unpacked(before, NULL);
    return rc;
}

/* ---------------------------------------------------------------- buyers */

/* The portfolio, when it is one offered to buyer; one answer for "no such portfolio"
 * and "not yours", so a buyer learns nothing of portfolios it is not invited to. */
static int offered_to(sale_t *self, MDB_txn *txn, const char *id, const char *buyer,
                      StoredPortfolio **p, reject_t *reject)
{
    *p = NULL;
    int rc = id && strlen(id) <= SALES_ID_MAX ? sales_portfolio_get(self->sales, txn, id, p) : 0;
    if (rc == 0 && (!*p || !sale_invited(*p, buyer))) {
        arrears__stored_portfolio__free_unpacked(*p, NULL);
        *p = NULL;
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "portfolio_id",
                               "no portfolio %.40s is offered to you", id ? id : "");
    }
    return rc;
}

static int take_bid(sale_t *self, MDB_txn *txn, const char *buyer, const StoredPortfolio *p,
                    const Arrears__Bid *b, reject_t *reject)
{
    StoredBid *previous = NULL;
    int rc = sales_bid_get(self->sales, txn, p->portfolio_id, buyer, &previous);
    if (rc != 0)
        return rc;
    int64_t now = aclock_now_ms(self->clock);
    auction_terms_t terms = {p->opened_ms, p->deadline_ms, p->min_step_minor, p->currency};
    bid_t standing = {previous ? previous->amount_minor : 0, 0, 0};
    char why[AUCTION_REASON_MAX];
    bool bidding = p->state == ARREARS__PORTFOLIO_STATE__PORTFOLIO_BIDDING;
    int verdict = bidding ? auction_check_bid(&terms, true, previous ? &standing : NULL,
                                              b->currency, b->amount_minor, now, why, sizeof why)
                          : AUCTION_ECLOSED;
    if (!bidding)
        snprintf(why, sizeof why, "bidding on %s has closed", p->portfolio_id);
    uint64_t order = 0;
    if (verdict == AUCTION_OK)
        rc = sales_meta_get(self->sales, txn, "next_bid", 1, &order);
    rc = rc ? rc : verdict == AUCTION_OK ? sales_meta_put(self->sales, txn, "next_bid", order + 1) : 0;
    if (rc == 0 && verdict == AUCTION_OK) {
        StoredBid bid = ARREARS__STORED_BID__INIT;
        bid.portfolio_id = p->portfolio_id;
        bid.buyer = (char *)buyer;
        bid.has_amount_minor = bid.has_at_ms = bid.has_order = bid.has_raises = 1;
        bid.amount_minor = b->amount_minor;
        bid.at_ms = now;
        bid.order = order;
        bid.raises = previous ? previous->raises + 1 : 0;
        rc = sales_bid_put(self->sales, txn, &bid);
    }
    log_event(LOG_INFO, "sale_bid", "portfolio=%s buyer=%s taken=%d error=%d", p->portfolio_id,
              buyer, verdict == AUCTION_OK, rc);
    arrears__stored_bid__free_unpacked(previous, NULL);
    if (rc == 0 && verdict != AUCTION_OK)
        return receiver_refuse(reject, verdict == AUCTION_ECLOSED ? ARREARS__REJECT__CODE__CONFLICT
                                                                   : ARREARS__REJECT__CODE__INVALID_FIELD,
                               verdict == AUCTION_ECURRENCY ? "currency" : "amount_minor", "%s", why);
    return rc;
}

static int sale_bid(sale_t *self, MDB_txn *txn, const char *buyer, const Arrears__Bid *b,
                    reject_t *reject)
{
    StoredPortfolio *p = NULL;
    int rc = offered_to(self, txn, b->portfolio_id, buyer, &p, reject);
    if (rc == 0 && !b->has_amount_minor)
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "amount_minor", "required");
    rc = rc ? rc : take_bid(self, txn, buyer, p, b, reject);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    return rc;
}

/* The sold account comes back: PUT_BACK to staging with the buyer's reason, its share
 * off the portfolio's price. */
static int return_account(sale_t *self, MDB_txn *txn, const StoredPortfolio *p,
                          const char *key, const char *reason)
{
    StoredListed *before = NULL;
    int rc = sales_listed_get(self->sales, txn, key, &before);
    if (rc == 0 && !before)
        rc = SALES_ECORRUPT;
    if (rc == 0) {
        StoredListed after = *before;   /* shallow: before and p keep owning the strings */
        StoredPortfolio pa = *p;
        after.state = ARREARS__LISTED_STATE__LISTED_PUT_BACK;
        after.has_left_ms = 1;
        after.left_ms = aclock_now_ms(self->clock);
        after.detail = (char *)reason;
        pa.price_minor -= before->price_minor;
        pa.put_back++;
        pa.has_put_back = 1;
        pa.version++;
        rc = sales_listed_put(self->sales, txn, before, &after);
        rc = rc ? rc : sales_portfolio_put(self->sales, txn, p, &pa);
        rc = rc ? rc : sale_tell_staging(self, txn, &after, ARREARS__SALE_OUTCOME__SALE_PUT_BACK,
                                         before->price_minor, reason);
    }
    arrears__stored_listed__free_unpacked(before, NULL);
    return rc;
}

static int sale_put_back(sale_t *self, MDB_txn *txn, const char *buyer, const Arrears__PutBack *b,
                         reject_t *reject)
{
    StoredPortfolio *p = NULL;
    char key[SALES_ACCOUNT_KEY_MAX + 1] = "";
    int rc = offered_to(self, txn, b->portfolio_id, buyer, &p, reject);
    bool won = rc == 0 && p->winner && strcmp(p->winner, buyer) == 0;
    if (rc == 0 && !won)
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "portfolio_id",
                             "only the portfolio's buyer may put an account back");
    if (rc == 0 && (!b->reason || !*b->reason || strlen(b->reason) > 200))
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "reason",
                             "why the account was not eligible, 1 to 200 bytes");
    if (rc == 0 && auction_put_back_open(p->awarded_ms, (int32_t)((p->put_back_until_ms - p->awarded_ms) /
                                                                  AUCTION_DAY_MS),
                                         aclock_now_ms(self->clock)) != AUCTION_OK)
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "portfolio_id",
                             "the put-back window closed at %lld ms", (long long)p->put_back_until_ms);
    rc = rc ? rc : sales_pseudonym_get(self->sales, txn, p->portfolio_id,
                                       b->pseudonym ? b->pseudonym : "", key);
    if (rc == 0 && !*key)
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "pseudonym",
                             "not an account of this portfolio");
    StoredListed *l = NULL;
    rc = rc ? rc : sales_listed_get(self->sales, txn, key, &l);
    /* A pseudonym names the account in every portfolio the buyer won: only the sale in
     * this one may be undone here. */
    bool sold_here = rc == 0 && l && l->state == ARREARS__LISTED_STATE__LISTED_SOLD &&
                     l->portfolio_id && strcmp(l->portfolio_id, p->portfolio_id) == 0 &&
                     l->buyer && strcmp(l->buyer, buyer) == 0;
    if (rc == 0 && !sold_here)
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "pseudonym",
                             "the account is no longer yours in this portfolio (put back "
                             "already, or sold again)");
    rc = rc ? rc : need_room(self, txn, l->staging_shard, reject);   /* staging hears of it */
    arrears__stored_listed__free_unpacked(l, NULL);
    rc = rc ? rc : return_account(self, txn, p, key, b->reason);
    log_event(LOG_INFO, "sale_put_back", "portfolio=%s buyer=%s error=%d",
              b->portfolio_id ? b->portfolio_id : "", buyer, rc);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    return rc;
}

/* ---------------------------------------------------------------- the clock */

/* Acknowledged once the sweep has nothing due by the instant and staging has
 * acknowledged everything sent (DESIGN.md "Time"). */
static int clock_advance(sale_t *self, MDB_txn *txn, const Arrears__ClockAdvance *m,
                         reject_t *reject)
{
    if (!aclock_is_simulated(self->clock))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "clock_advance",
                               "sale runs on the wall clock: it takes no clock advances");
    if (!m->has_to_ms || aclock_advance_to(self->clock, m->to_ms) != ACLOCK_OK)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "to_ms",
                               "the simulated clock never goes back");
    /* The sweep's changes are sale's own periodic work at the new instant, not this
     * message's effect: they stand even when the advance is answered busy. */
    size_t moved = 0;
    int rc = sale_sweep(self, txn, &moved);
    int64_t due = INT64_MAX;
    rc = rc ? rc : sales_next_due(self->sales, txn, &due);
    if (rc != 0)
        return rc;
    if (moved > 0 || due <= m->to_ms || (self->unacked && self->unacked(self->unacked_arg) > 0))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, "to_ms",
                               "advancing: portfolios due or messages unacknowledged");
    return sales_meta_put(self->sales, txn, "clock_ms", (uint64_t)m->to_ms);
}

/* ---------------------------------------------------------------- dispatch */

/* A listing or a notice from staging, known by the shard whose principal sent it: a
 * listed account is answered there, and a notice concerns an account of that shard (an
 * account never moves between shards, shards.h). Each appends one message at most. */
static int from_staging(sale_t *self, MDB_txn *txn, const receiver_peer_t *from,
                        const Arrears__Envelope *env, reject_t *reject)
{
    uint32_t shard = 0;
    int rc = shards_of_sender(&self->cfg->staging, from->principal, "sale", &shard, reject);
    rc = rc ? rc : need_room(self, txn, shard, reject);
    if (rc != 0)
        return rc;
    if (env->body_case == ARREARS__ENVELOPE__BODY_SALE_LISTING)
        return sale_listing(self, txn, env->sale_listing, shard, reject);
    return sale_notice(self, txn, env->sale_notice, reject);
}

int sale_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
               const Arrears__Envelope *env, reject_t *reject)
{
    sale_t *self = app;
    bool service = strcmp(from->role, "service") == 0;
    bool buyer = strcmp(from->role, "buyer") == 0;
    /* The room to tell staging is checked where the shard is known: here for staging's
     * messages, with the account for a put-back, in the sweep for awards and openings.
     * A bid tells staging nothing. */
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_SALE_LISTING:
    case ARREARS__ENVELOPE__BODY_SALE_NOTICE:
        if (service)
            return from_staging(self, txn, from, env, reject);
        break;
    case ARREARS__ENVELOPE__BODY_PERSONAL_DATA_ERASED:
        /* Tells staging nothing: it needs no room. */
        if (service && shards_find(&self->cfg->staging, from->principal) >= 0)
            return sale_erase(self, txn, env->personal_data_erased, reject);
        break;
    case ARREARS__ENVELOPE__BODY_BID:
        if (buyer)
            return sale_bid(self, txn, from->principal, env->bid, reject);
        break;
    case ARREARS__ENVELOPE__BODY_PUT_BACK:
        if (buyer)
            return sale_put_back(self, txn, from->principal, env->put_back, reject);
        break;
    case ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE:
        if (strcmp(from->role, "operator") == 0)
            return clock_advance(self, txn, env->clock_advance, reject);
        break;
    default:
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                               "sale takes listings, notices and erasures from staging, bids and "
                               "put-backs from buyers, clock advances from operators");
    }
    return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "body",
                           "a principal of role %s may not send this to sale", from->role);
}
