/* cycle: sale's own periodic work — each plan's portfolios opened when its cycle comes,
 * and portfolios past their bidding deadline awarded, relisted or returned (sale.h).
 *
 * Opening. Every waiting cut of the plan is sized (portfolio_plan): its oldest accounts
 * go into portfolios, each valued (valuation) with the inputs kept, offered to the
 * plan's buyers until now + bidding_days. A one-off plan opens once; accounts it could
 * not place then (too few for a portfolio) go back to staging, as do later listings.
 *
 * Awarding. The accounts still in the portfolio are re-valued; each bid is taken down
 * pro rata for the accounts that left (auction_pro_rata); the highest at or above the
 * new reserve wins (ties by time). A winner's accounts are SOLD with their shares of the
 * price and its file is sealed to its key. No winner: the accounts are offered again
 * (relists) or go back to staging. A buyer whose key is no longer in the keys file
 * cannot receive a file, so its bid does not count. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auction.h"
#include "log.h"
#include "money.h"
#include "sale.h"

#define CYCLE_DAY_MS INT64_C(86400000)
#define CYCLE_MAX_CUTS 256      /* cuts of one plan opened in one sweep */

/* ---------------------------------------------------------------- members */

/* The accounts a portfolio holds now (state IN_PORTFOLIO in it). */
typedef struct {
    size_t n, cap;
    char (*keys)[SALES_ACCOUNT_KEY_MAX + 1];
    int64_t *outstanding_minor;
    int64_t total_minor;
} held_t;

static void held_free(held_t *h)
{
    free(h->keys);
    free(h->outstanding_minor);
    *h = (held_t){0};
}

static int held_add(held_t *h, const char *key, int64_t outstanding_minor)
{
    if (h->n == h->cap) {
        size_t cap = h->cap ? 2 * h->cap : 256;
        void *k = realloc(h->keys, cap * sizeof *h->keys);
        if (k)
            h->keys = k;
        void *o = realloc(h->outstanding_minor, cap * sizeof *h->outstanding_minor);
        if (o)
            h->outstanding_minor = o;
        if (!k || !o)
            return ENOMEM;
        h->cap = cap;
    }
    if (money_add(h->total_minor, outstanding_minor, &h->total_minor) != MONEY_OK)
        return SALES_ETOO_LARGE;
    snprintf(h->keys[h->n], sizeof h->keys[h->n], "%s", key);
    h->outstanding_minor[h->n++] = outstanding_minor;
    return 0;
}

typedef struct {
    sale_t *self;
    MDB_txn *txn;
    const StoredPortfolio *p;
    held_t *h;
    valuation_t *v;
} held_walk_t;

static int hold_member(const char *key, void *arg)
{
    held_walk_t *w = arg;
    StoredListed *l = NULL;
    int rc = sales_listed_get(w->self->sales, w->txn, key, &l);
    bool in = rc == 0 && l && l->state == ARREARS__LISTED_STATE__LISTED_IN_PORTFOLIO &&
              l->portfolio_id && strcmp(l->portfolio_id, w->p->portfolio_id) == 0;
    if (in)
        rc = held_add(w->h, key, l->outstanding_minor);
    /* A band whose curve was since dropped is worth nothing; a sum past int64 fails. */
    if (in && rc == 0 && valuation_add(w->v, &w->self->cfg->curves, l->balance_band,
                                       l->days_past_due, l->outstanding_minor) ==
                             VALUATION_EOVERFLOW)
        rc = SALES_ETOO_LARGE;
    arrears__stored_listed__free_unpacked(l, NULL);
    return rc;
}

/* Reads the members still in portfolio p, valuing them into v. */
static int held_read(sale_t *self, MDB_txn *txn, const StoredPortfolio *p, held_t *h,
                     valuation_t *v)
{
    held_walk_t w = {self, txn, p, h, v};
    valuation_start(v, &self->cfg->curves);
    int rc = sales_each_member(self->sales, txn, p->portfolio_id, hold_member, &w);
    return rc ? rc : valuation_finish(v) == VALUATION_OK ? 0 : SALES_ETOO_LARGE;
}

/* ---------------------------------------------------------------- valuations */

static void stored_valuation(const valuation_t *v, int64_t at_ms, StoredValuation *s,
                             StoredValuationLine *lines, StoredValuationLine **ptrs)
{
    arrears__stored_valuation__init(s);
    s->curve_version = (char *)v->version;
    s->has_margin_bps = s->has_accounts = s->has_outstanding_minor = s->has_value_minor = 1;
    s->has_reserve_minor = s->has_valued_at_ms = 1;
    s->margin_bps = v->margin_bps;
    s->accounts = v->accounts;
    s->outstanding_minor = v->outstanding_minor;
    s->value_minor = v->value_minor;
    s->reserve_minor = v->reserve_minor;
    s->valued_at_ms = at_ms;
    for (size_t i = 0; i < v->line_count; i++) {
        const valuation_line_t *l = &v->lines[i];
        arrears__stored_valuation_line__init(&lines[i]);
        lines[i].balance_band = (char *)l->balance_band;
        lines[i].has_from_dpd = lines[i].has_recovery_bps = lines[i].has_accounts = 1;
        lines[i].has_outstanding_minor = lines[i].has_expected_minor = 1;
        lines[i].from_dpd = l->from_dpd;
        lines[i].recovery_bps = l->recovery_bps;
        lines[i].accounts = l->accounts;
        lines[i].outstanding_minor = l->outstanding_minor;
        lines[i].expected_minor = l->expected_minor;
        ptrs[i] = &lines[i];
    }
    s->n_lines = v->line_count;
    s->lines = ptrs;
}

/* ---------------------------------------------------------------- bids */

typedef struct {
    sale_t *self;
    int64_t remaining_minor, listed_minor;
    size_t n;
    bid_t bids[AUCTION_MAX_BIDS];          /* as they stand at award */
    int64_t as_bid_minor[AUCTION_MAX_BIDS];
    char buyers[AUCTION_MAX_BIDS][INBOX_PRINCIPAL_MAX + 1];
    uint8_t keys[AUCTION_MAX_BIDS][32];
} bids_t;

/* Each bid as it stands at award: taken down pro rata, and only from a buyer sale can
 * still seal a file to. */
static int gather_bid(const StoredBid *b, void *arg)
{
    bids_t *g = arg;
    if (g->n == AUCTION_MAX_BIDS)
        return 0;   /* more buyers than a plan may invite: cannot happen */
    sale_t *self = g->self;
    if (!self->buyer_key || !self->buyer_key(self->buyer_key_arg, b->buyer, g->keys[g->n])) {
        log_event(LOG_WARN, "sale_bid_void", "portfolio=%s buyer=%s why=\"no key in the keys "
                  "file\"", b->portfolio_id, b->buyer);
        return 0;
    }
    bid_t *out = &g->bids[g->n];
    out->at_ms = b->at_ms;
    out->order = b->order;
    if (auction_pro_rata(b->amount_minor, g->remaining_minor, g->listed_minor,
                         &out->amount_minor) != AUCTION_OK)
        return SALES_ETOO_LARGE;
    snprintf(g->buyers[g->n], sizeof g->buyers[g->n], "%s", b->buyer);
    g->as_bid_minor[g->n++] = b->amount_minor;
    return 0;
}

/* ---------------------------------------------------------------- the winner's file */

/* Appends one account to the file: a SaleFile holding just it. Serialized protobuf
 * messages concatenate into one whose repeated fields are the union, so the file
 * never has to be held as one message. */
static int file_add(uint8_t **file, size_t *len, size_t *cap, const Arrears__SaleFile *part)
{
    size_t n = arrears__sale_file__get_packed_size(part);
    if (*len + n > SALES_FILE_MAX - TAPE_SEAL_OVERHEAD)
        return SALES_ETOO_LARGE;
    if (*len + n > *cap) {
        size_t grown = (*len + n) * 2;
        uint8_t *p = realloc(*file, grown);
        if (!p)
            return ENOMEM;
        *file = p;
        *cap = grown;
    }
    *len += arrears__sale_file__pack(part, *file + *len);
    return 0;
}

static int file_add_account(sale_t *self, MDB_txn *txn, const char *key, const char *pseudonym,
                            int64_t share_minor, uint8_t **file, size_t *len, size_t *cap)
{
    SaleListing *listing = NULL;
    int rc = sales_listing_get(self->sales, txn, key, &listing);
    if (rc == 0 && !listing)
        rc = SALES_ECORRUPT;   /* a sold account without its listing */
    Arrears__SaleFileAccount account = ARREARS__SALE_FILE_ACCOUNT__INIT;
    Arrears__SaleFileAccount *accounts[1] = {&account};
    Arrears__SaleFile part = ARREARS__SALE_FILE__INIT;
    account.pseudonym = (char *)pseudonym;
    account.has_price_minor = 1;
    account.price_minor = share_minor;
    account.listing = listing;
    part.n_accounts = 1;
    part.accounts = accounts;
    rc = rc ? rc : file_add(file, len, cap, &part);
    arrears__sale_listing__free_unpacked(listing, NULL);
    return rc;
}

/* ---------------------------------------------------------------- award */

typedef struct {
    uint8_t *data;
    size_t len, cap;
    uint8_t sha256[CHUNK_DIGEST_BYTES];   /* of the sealed file */
} file_t;

static int sell_account(sale_t *self, MDB_txn *txn, const char *winner, const char *key,
                        int64_t share_minor, file_t *file)
{
    StoredListed *before = NULL;
    char pseudonym[TAPE_PSEUDONYM_LEN + 1], detail[96];
    int rc = sales_listed_get(self->sales, txn, key, &before);
    if (rc == 0 && !before)
        rc = SALES_ECORRUPT;
    if (rc != 0)
        return rc;
    StoredListed after = *before;   /* shallow: before keeps owning the strings */
    after.state = ARREARS__LISTED_STATE__LISTED_SOLD;
    after.has_price_minor = after.has_left_ms = 1;
    after.price_minor = share_minor;
    after.left_ms = aclock_now_ms(self->clock);
    after.buyer = (char *)winner;
    snprintf(detail, sizeof detail, "sold in portfolio %s", before->portfolio_id);
    rc = sale_pseudonym(self, winner, before, pseudonym);
    rc = rc ? rc : sales_pseudonym_put(self->sales, txn, before->portfolio_id, pseudonym, key);
    rc = rc ? rc : sales_listed_put(self->sales, txn, before, &after);
    rc = rc ? rc : sale_tell_staging(self, txn, &after, ARREARS__SALE_OUTCOME__SALE_SOLD,
                                     share_minor, detail);
    rc = rc ? rc : file_add_account(self, txn, key, pseudonym, share_minor, &file->data,
                                    &file->len, &file->cap);
    arrears__stored_listed__free_unpacked(before, NULL);
    return rc;
}

/* The file's head (who, when, what price) and its sealing to the winner's key. */
static int seal_file(sale_t *self, MDB_txn *txn, const StoredPortfolio *p, const uint8_t key[32],
                     file_t *file)
{
    Arrears__SaleFile head = ARREARS__SALE_FILE__INIT;
    head.portfolio_id = p->portfolio_id;
    head.buyer = p->winner;
    head.has_awarded_at_ms = head.has_price_minor = 1;
    head.awarded_at_ms = p->awarded_ms;
    head.price_minor = p->price_minor;
    head.currency = p->currency;
    int rc = file_add(&file->data, &file->len, &file->cap, &head);
    uint8_t *sealed = rc ? NULL : malloc(file->len + TAPE_SEAL_OVERHEAD);
    rc = rc ? rc : sealed ? 0 : ENOMEM;
    rc = rc ? rc : tape_seal(key, file->data, file->len, sealed, file->len + TAPE_SEAL_OVERHEAD);
    rc = rc ? rc : sales_file_put(self->sales, txn, p->portfolio_id, sealed,
                                  file->len + TAPE_SEAL_OVERHEAD);
    if (rc == 0)
        chunk_digest(sealed, file->len + TAPE_SEAL_OVERHEAD, file->sha256);
    free(sealed);
    return rc;
}

/* Sells the held accounts to bid w. digest (the caller's, as long as p) takes the
 * sealed file's SHA-256, which p then points to. */
static int sell(sale_t *self, MDB_txn *txn, StoredPortfolio *p, const held_t *h,
                const bids_t *g, size_t w, uint8_t digest[CHUNK_DIGEST_BYTES])
{
    const sale_plan_t *plan = sale_plan_named(self->cfg, p->plan);
    int64_t *shares = malloc((h->n ? h->n : 1) * sizeof *shares);
    file_t file = {0};
    int rc = shares ? 0 : ENOMEM;
    int64_t now = aclock_now_ms(self->clock);
    p->state = ARREARS__PORTFOLIO_STATE__PORTFOLIO_AWARDED;
    p->winner = (char *)g->buyers[w];
    p->has_winning_bid_minor = p->has_price_minor = p->has_awarded_ms = 1;
    p->has_put_back_until_ms = p->has_file_bytes = 1;
    p->winning_bid_minor = g->as_bid_minor[w];
    p->price_minor = g->bids[w].amount_minor;
    p->awarded_ms = now;
    p->put_back_until_ms = now + (plan ? plan->put_back_days : 0) * CYCLE_DAY_MS;
    rc = rc ? rc : auction_shares(p->price_minor, h->outstanding_minor, h->n, shares) == AUCTION_OK
                       ? 0 : SALES_ETOO_LARGE;
    for (size_t i = 0; rc == 0 && i < h->n; i++)
        rc = sell_account(self, txn, p->winner, h->keys[i], shares[i], &file);
    rc = rc ? rc : seal_file(self, txn, p, g->keys[w], &file);
    p->file_bytes = file.len + TAPE_SEAL_OVERHEAD;
    memcpy(digest, file.sha256, CHUNK_DIGEST_BYTES);
    p->has_file_sha256 = 1;
    p->file_sha256 = (ProtobufCBinaryData){CHUNK_DIGEST_BYTES, digest};
    log_event(LOG_INFO, "sale_awarded", "portfolio=%s buyer=%s accounts=%zu price_minor=%lld "
              "currency=%s error=%d", p->portfolio_id, p->winner, h->n,
              (long long)p->price_minor, p->currency, rc);
    free(shares);
    free(file.data);
    return rc;
}

/* No winner: each account is offered again while it has relists left, else it goes
 * back to staging. */
static int unsold(sale_t *self, MDB_txn *txn, StoredPortfolio *p, const held_t *h, char *detail,
                  size_t detail_len)
{
    const sale_plan_t *plan = sale_plan_named(self->cfg, p->plan);
    /* A one-off plan never opens again: its unsold accounts go back at once. */
    uint32_t relists = plan && plan->kind == ARREARS__SALE_KIND__SALE_FORWARD_FLOW ? plan->relists : 0;
    size_t again = 0;
    char why[160];
    snprintf(why, sizeof why, "unsold in portfolio %s: no bid reached the reserve",
             p->portfolio_id);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < h->n; i++) {
        StoredListed *before = NULL;
        rc = sales_listed_get(self->sales, txn, h->keys[i], &before);
        if (rc == 0 && !before)
            rc = SALES_ECORRUPT;
        if (rc != 0)
            break;
        StoredListed after = *before;   /* shallow: before keeps owning the strings */
        bool offer_again = before->times_offered <= relists;
        after.state = ARREARS__LISTED_STATE__LISTED_WAITING;
        rc = offer_again ? sales_listed_put(self->sales, txn, before, &after)
                         : sale_withdraw(self, txn, before, &after, why);
        again += offer_again;
        arrears__stored_listed__free_unpacked(before, NULL);
    }
    p->state = ARREARS__PORTFOLIO_STATE__PORTFOLIO_UNSOLD;
    snprintf(detail, detail_len, "no bid at or above the reserve; %zu accounts offered again, "
             "%zu returned to staging", again, h->n - again);
    p->detail = detail;
    log_event(LOG_INFO, "sale_unsold", "portfolio=%s accounts=%zu relisted=%zu error=%d",
              p->portfolio_id, h->n, again, rc);
    return rc;
}

/* Decides a portfolio whose deadline passed. *held_back: not now (no room to tell
 * staging about every account). */
static int award(sale_t *self, MDB_txn *txn, const StoredPortfolio *before, bool *held_back)
{
    held_t h = {0};
    valuation_t *v = malloc(sizeof *v);
    bids_t *g = calloc(1, sizeof *g);
    StoredValuationLine lines[VALUATION_MAX_LINES], *ptrs[VALUATION_MAX_LINES];
    StoredValuation revaluation;
    char detail[160];
    uint8_t digest[CHUNK_DIGEST_BYTES];
    int rc = v && g ? 0 : ENOMEM;
    *held_back = rc == 0 && !sale_has_room(self, txn, SALE_EVERY_SHARD,
                                            (uint64_t)before->accounts + 1, &rc);
    if (rc != 0 || *held_back) {
        free(v), free(g);
        return rc;
    }
    StoredPortfolio after = *before;   /* shallow: before keeps owning the strings */
    rc = held_read(self, txn, before, &h, v);
    *g = (bids_t){.self = self, .remaining_minor = h.total_minor,
                  .listed_minor = before->listed_outstanding_minor};
    rc = rc ? rc : sales_bids(self->sales, txn, before->portfolio_id, gather_bid, g);
    stored_valuation(v, aclock_now_ms(self->clock), &revaluation, lines, ptrs);
    after.revaluation = &revaluation;
    size_t w = 0;
    if (rc == 0 && h.n == 0)
        after.state = ARREARS__PORTFOLIO_STATE__PORTFOLIO_EMPTY;
    else if (rc == 0 && auction_award(g->bids, g->n, v->reserve_minor, &w) == AUCTION_OK)
        rc = sell(self, txn, &after, &h, g, w, digest);
    else if (rc == 0)
        rc = unsold(self, txn, &after, &h, detail, sizeof detail);
    after.version++;
    rc = rc ? rc : sales_portfolio_put(self->sales, txn, before, &after);
    held_free(&h);
    free(v), free(g);
    return rc;
}

/* An award that cannot be made (a file past its limit, a key libsodium refuses) is
 * this portfolio's failure, not the sweep's: its accounts go back to staging with the
 * reason, and the other portfolios are awarded. */
static bool award_failure(int rc)
{
    return rc == SALES_ETOO_LARGE || rc == TAPE_ESODIUM || rc == TAPE_ESPACE;
}

static int fail_award(sale_t *self, MDB_txn *txn, const StoredPortfolio *before, int why_rc)
{
    held_t h = {0};
    valuation_t *v = malloc(sizeof *v);
    char why[160];
    snprintf(why, sizeof why, "the award of portfolio %s failed: %s", before->portfolio_id,
             why_rc == SALES_ETOO_LARGE ? sales_strerror(why_rc) : tape_strerror(why_rc));
    int rc = v ? held_read(self, txn, before, &h, v) : ENOMEM;
    for (size_t i = 0; rc == 0 && i < h.n; i++) {
        StoredListed *l = NULL;
        rc = sales_listed_get(self->sales, txn, h.keys[i], &l);
        if (rc == 0 && l) {
            StoredListed after = *l;   /* shallow: l keeps owning the strings */
            rc = sale_withdraw(self, txn, l, &after, why);
        }
        arrears__stored_listed__free_unpacked(l, NULL);
    }
    StoredPortfolio after = *before;   /* shallow: before keeps owning the strings */
    after.state = ARREARS__PORTFOLIO_STATE__PORTFOLIO_UNSOLD;
    after.detail = why;
    after.version++;
    rc = rc ? rc : sales_portfolio_put(self->sales, txn, before, &after);
    log_event(LOG_ERROR, "sale_award_failed", "portfolio=%s accounts=%zu why=%d error=%d",
              before->portfolio_id, h.n, why_rc, rc);
    held_free(&h);
    free(v);
    return rc;
}

/* Awards one portfolio in a nested transaction, so a failure of its own leaves nothing
 * half-done. */
static int award_one(sale_t *self, MDB_txn *txn, const StoredPortfolio *p, bool *held_back)
{
    MDB_txn *child = NULL;
    int rc = mdb_txn_begin(mdb_txn_env(txn), txn, 0, &child);
    rc = rc ? rc : award(self, child, p, held_back);
    if (child && rc == 0)
        return mdb_txn_commit(child);
    if (child)
        mdb_txn_abort(child);
    return award_failure(rc) ? fail_award(self, txn, p, rc) : rc;
}

static int award_due(sale_t *self, MDB_txn *txn, size_t *moved)
{
    char (*ids)[SALES_ID_MAX + 1] = malloc(self->limits.award_max * sizeof *ids);
    size_t n = 0;
    int rc = ids ? 0 : ENOMEM;
    rc = rc ? rc : sales_due(self->sales, txn, aclock_now_ms(self->clock), self->limits.award_max,
                             ids, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        StoredPortfolio *p = NULL;
        bool held_back = false;
        rc = sales_portfolio_get(self->sales, txn, ids[i], &p);
        rc = rc ? rc : p ? award_one(self, txn, p, &held_back) : SALES_ECORRUPT;
        *moved += rc == 0 && !held_back;
        arrears__stored_portfolio__free_unpacked(p, NULL);
        if (held_back)
            break;   /* the outbox has no room: the next sweep tries again */
    }
    free(ids);
    return rc;
}

/* ---------------------------------------------------------------- opening */

/* Puts one waiting account in portfolio id: valued into v, its balance added to
 * *outstanding_minor (apart from the valuation, which leaves out a band without a
 * curve: the bids are taken down pro rata against every balance). */
static int open_member(sale_t *self, MDB_txn *txn, const char *id, const char *key,
                       valuation_t *v, int64_t *outstanding_minor, StoredListed **first)
{
    StoredListed *before = NULL;
    int rc = sales_listed_get(self->sales, txn, key, &before);
    if (rc == 0 && !before)
        rc = SALES_ECORRUPT;   /* the waiting index names an account that is not there */
    if (rc != 0)
        return rc;
    StoredListed after = *before;   /* shallow: before keeps owning the strings */
    after.state = ARREARS__LISTED_STATE__LISTED_IN_PORTFOLIO;
    after.portfolio_id = (char *)id;
    after.has_times_offered = 1;
    after.times_offered++;
    rc = sales_listed_put(self->sales, txn, before, &after);
    rc = rc ? rc : sales_member_add(self->sales, txn, id, key);
    if (rc == 0 && money_add(*outstanding_minor, before->outstanding_minor, outstanding_minor) !=
                       MONEY_OK)
        rc = SALES_ETOO_LARGE;
    /* A band whose curve was since dropped is worth nothing; a sum past int64 fails. */
    if (rc == 0 && valuation_add(v, &self->cfg->curves, before->balance_band,
                                 before->days_past_due, before->outstanding_minor) ==
                       VALUATION_EOVERFLOW)
        rc = SALES_ETOO_LARGE;
    if (rc == 0 && !*first)
        *first = before;
    else
        arrears__stored_listed__free_unpacked(before, NULL);
    return rc;
}

static void portfolio_head(const sale_plan_t *plan, const StoredListed *first, const char *id,
                           int64_t now, StoredPortfolio *p)
{
    arrears__stored_portfolio__init(p);
    p->portfolio_id = (char *)id;
    p->plan = (char *)plan->name;
    p->has_kind = p->has_state = p->has_product = 1;
    p->kind = plan->kind;
    p->state = ARREARS__PORTFOLIO_STATE__PORTFOLIO_BIDDING;
    p->cut = first->cut;
    p->product = first->product;
    p->currency = first->currency;
    p->dpd_band = first->dpd_band;
    p->balance_band = first->balance_band;
    p->has_opened_ms = p->has_deadline_ms = p->has_min_step_minor = p->has_version = 1;
    p->opened_ms = now;
    p->deadline_ms = now + plan->bidding_days * CYCLE_DAY_MS;
    p->min_step_minor = plan->min_step_minor;
    p->version = 1;
    p->n_invited = plan->buyer_count;
}

static int open_portfolio(sale_t *self, MDB_txn *txn, const sale_plan_t *plan, const char *cut,
                          size_t size)
{
    char (*keys)[SALES_ACCOUNT_KEY_MAX + 1] = malloc(size * sizeof *keys);
    valuation_t *v = malloc(sizeof *v);
    char id[SALES_ID_MAX + 1];
    const char *invited[SALE_MAX_BUYERS];
    StoredListed *first = NULL;
    size_t n = 0;
    int64_t now = aclock_now_ms(self->clock), outstanding = 0;
    int rc = keys && v ? 0 : ENOMEM;
    rc = rc ? rc : sales_waiting(self->sales, txn, plan->name, cut, size, keys, &n);
    rc = rc ? rc : sales_next_portfolio_id(self->sales, txn, plan->name, id);
    if (v)
        valuation_start(v, &self->cfg->curves);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = open_member(self, txn, id, keys[i], v, &outstanding, &first);
    rc = rc ? rc : first && valuation_finish(v) == VALUATION_OK ? 0 : SALES_ECORRUPT;
    if (rc == 0) {
        StoredPortfolio p;
        StoredValuation valuation;
        StoredValuationLine lines[VALUATION_MAX_LINES], *ptrs[VALUATION_MAX_LINES];
        portfolio_head(plan, first, id, now, &p);
        for (size_t i = 0; i < plan->buyer_count; i++)
            invited[i] = plan->buyers[i];
        p.invited = (char **)invited;
        p.has_listed_accounts = p.has_listed_outstanding_minor = 1;
        p.has_accounts = p.has_outstanding_minor = 1;
        p.listed_accounts = p.accounts = (uint32_t)n;
        p.listed_outstanding_minor = p.outstanding_minor = outstanding;
        stored_valuation(v, now, &valuation, lines, ptrs);
        p.valuation = &valuation;
        rc = sales_portfolio_put(self->sales, txn, NULL, &p);
        log_event(LOG_INFO, "sale_opened", "portfolio=%s cut=%s accounts=%zu value_minor=%lld "
                  "reserve_minor=%lld deadline_ms=%lld error=%d", id, cut, n,
                  (long long)v->value_minor, (long long)v->reserve_minor,
                  (long long)p.deadline_ms, rc);
    }
    arrears__stored_listed__free_unpacked(first, NULL);
    free(keys), free(v);
    return rc;
}

typedef struct {
    size_t n;
    char cut[CYCLE_MAX_CUTS][SALES_CUT_MAX + 1];
    size_t count[CYCLE_MAX_CUTS];
} cuts_seen_t;

static int note_cut(const char *cut, size_t count, void *arg)
{
    cuts_seen_t *s = arg;
    if (s->n == CYCLE_MAX_CUTS)
        return STORE_STOP;   /* the rest open at the next cycle */
    snprintf(s->cut[s->n], sizeof s->cut[s->n], "%s", cut);
    s->count[s->n++] = count;
    return 0;
}

/* A one-off plan's accounts it could not place when it opened go back to staging. */
static int return_leftovers(sale_t *self, MDB_txn *txn, const sale_plan_t *plan,
                            const char *cut, size_t count)
{
    char (*keys)[SALES_ACCOUNT_KEY_MAX + 1] = malloc((count ? count : 1) * sizeof *keys);
    char why[160];
    size_t n = 0;
    int rc = keys ? 0 : ENOMEM;
    rc = rc ? rc : sales_waiting(self->sales, txn, plan->name, cut, count, keys, &n);
    snprintf(why, sizeof why, "the one-off sale %s opened without it: too few accounts of "
             "its kind for a portfolio", plan->name);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        StoredListed *before = NULL;
        rc = sales_listed_get(self->sales, txn, keys[i], &before);
        if (rc == 0 && before) {
            StoredListed after = *before;   /* shallow: before keeps owning the strings */
            rc = sale_withdraw(self, txn, before, &after, why);
        }
        arrears__stored_listed__free_unpacked(before, NULL);
    }
    free(keys);
    return rc;
}

static int open_plan(sale_t *self, MDB_txn *txn, const sale_plan_t *plan, size_t *moved)
{
    char name[SALES_ID_MAX + 8];
    snprintf(name, sizeof name, "open/%s", plan->name);
    int64_t now = aclock_now_ms(self->clock);
    uint64_t next = 0;
    int rc = sales_meta_get(self->sales, txn, name,
                            (uint64_t)(plan->first_open_ms >= 0 ? plan->first_open_ms : now), &next);
    if (rc != 0 || (int64_t)next > now)
        return rc;
    cuts_seen_t *seen = calloc(1, sizeof *seen);
    rc = seen ? sales_waiting_cuts(self->sales, txn, plan->name, note_cut, seen) : ENOMEM;
    bool one_off = plan->kind == ARREARS__SALE_KIND__SALE_ONE_OFF;
    size_t waiting = 0;
    for (size_t c = 0; seen && c < seen->n; c++)
        waiting += seen->count[c];
    /* A one-off plan returns what it cannot place, once: it opens when staging can be
     * told about every account it may return. */
    if (rc == 0 && one_off && !sale_has_room(self, txn, SALE_EVERY_SHARD, waiting, &rc)) {
        free(seen);
        return rc;
    }
    for (size_t c = 0; rc == 0 && c < seen->n; c++) {
        size_t sizes[PORTFOLIO_MAX_PORTFOLIOS], k = 0;
        size_t taken = portfolio_plan(&self->cfg->cuts, seen->count[c], sizes, &k);
        for (size_t j = 0; rc == 0 && j < k; j++, (*moved)++)
            rc = open_portfolio(self, txn, plan, seen->cut[c], sizes[j]);
        if (rc == 0 && one_off && taken < seen->count[c])
            rc = return_leftovers(self, txn, plan, seen->cut[c], seen->count[c] - taken);
    }
    free(seen);
    int64_t step = plan->cycle_days * CYCLE_DAY_MS;
    while (!one_off && (int64_t)next <= now)
        next += (uint64_t)step;
    return rc ? rc : sales_meta_put(self->sales, txn, name, one_off ? (uint64_t)INT64_MAX : next);
}

bool sale_plan_closed(sale_t *self, MDB_txn *txn, const sale_plan_t *plan, int *rc)
{
    char name[SALES_ID_MAX + 8];
    uint64_t next = 0;
    snprintf(name, sizeof name, "open/%s", plan->name);
    *rc = sales_meta_get(self->sales, txn, name, 0, &next);
    return *rc == 0 && next == (uint64_t)INT64_MAX;
}

int sale_sweep(sale_t *self, MDB_txn *txn, size_t *moved)
{
    *moved = 0;
    int rc = award_due(self, txn, moved);
    for (size_t i = 0; rc == 0 && i < self->cfg->plan_count; i++)
        rc = open_plan(self, txn, &self->cfg->plans[i], moved);
    return rc;
}
