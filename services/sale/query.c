/* query: what sale answers without changing anything — a buyer's portfolio list (its
 * invitations only, its own bid only), tapes and the winner's file in chunks, health,
 * and the sale report (report.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "chunk.h"
#include "envelope.h"
#include "health.h"
#include "sale.h"

/* Dead letters and what was appended: every shard's outbox. */
static size_t health(sale_t *self, MDB_txn *txn, uint64_t request_id, uint8_t *buf, size_t cap)
{
    health_t h = {"sale", self->started_ms, self->unacked ? self->unacked(self->unacked_arg) : 0,
                  self->to_staging, self->cfg->staging.count, INT64_MAX, self->clock};
    if (sales_next_due(self->sales, txn, &h.next_due_ms) != 0)
        h.next_due_ms = INT64_MAX;
    return health_reply(&h, txn, request_id, buf, cap);
}

/* ---------------------------------------------------------------- portfolio list */

typedef struct {
    sale_t *self;
    MDB_txn *txn;
    const char *buyer, *after;
    size_t max, n;
    bool more;
    StoredPortfolio **held;          /* owned copies of the rows' portfolios */
    Arrears__PortfolioSummary *rows;
    Arrears__PortfolioSummary **ptrs;
} listing_t;

static int summarize(listing_t *w, StoredPortfolio *p, Arrears__PortfolioSummary *s)
{
    arrears__portfolio_summary__init(s);
    s->portfolio_id = p->portfolio_id;
    s->sale = p->plan;
    s->has_kind = s->has_state = s->has_product = s->has_accounts = 1;
    s->kind = p->kind;
    s->state = p->state;
    s->product = p->product;
    s->currency = p->currency;
    s->dpd_band = p->dpd_band;
    s->balance_band = p->balance_band;
    s->accounts = p->accounts;
    s->has_outstanding_minor = s->has_opened_at_ms = s->has_bid_deadline_ms = 1;
    s->outstanding_minor = p->outstanding_minor;
    s->opened_at_ms = p->opened_ms;
    s->bid_deadline_ms = p->deadline_ms;
    s->has_min_step_minor = 1;
    s->min_step_minor = p->min_step_minor;
    StoredBid *mine = NULL;
    int rc = sales_bid_get(w->self->sales, w->txn, p->portfolio_id, w->buyer, &mine);
    s->has_my_bid_minor = mine != NULL;
    s->my_bid_minor = mine ? mine->amount_minor : 0;
    arrears__stored_bid__free_unpacked(mine, NULL);
    s->has_won = 1;
    s->won = p->winner && strcmp(p->winner, w->buyer) == 0;
    if (s->won) {
        s->has_price_minor = s->has_file_bytes = s->has_put_back_until_ms = 1;
        s->price_minor = p->price_minor;
        s->file_bytes = p->file_bytes;
        s->put_back_until_ms = p->put_back_until_ms;
    }
    return rc;
}

static int list_one(const StoredPortfolio *p, void *arg)
{
    listing_t *w = arg;
    if (!sale_invited(p, w->buyer) || strcmp(p->portfolio_id, w->after) <= 0)
        return 0;
    if (w->n == w->max) {
        w->more = true;
        return STORE_STOP;
    }
    /* The walk frees p after this call: the row keeps its own copy. */
    uint8_t *packed = malloc(arrears__stored_portfolio__get_packed_size(p) + 1);
    if (!packed)
        return ENOMEM;
    size_t len = arrears__stored_portfolio__pack(p, packed);
    w->held[w->n] = arrears__stored_portfolio__unpack(NULL, len, packed);
    free(packed);
    if (!w->held[w->n])
        return ENOMEM;
    w->ptrs[w->n] = &w->rows[w->n];
    int rc = summarize(w, w->held[w->n], &w->rows[w->n]);
    w->n++;   /* counted either way, so it is freed */
    return rc;
}

static size_t portfolio_list(sale_t *self, MDB_txn *txn, const char *buyer,
                             const Arrears__PortfolioListQuery *q, uint64_t request_id,
                             uint8_t *buf, size_t cap, reject_t *reject)
{
    size_t max = q->max_portfolios ? q->max_portfolios : 100, len = 0;
    if (max > self->limits.list_max)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD,
                                     "max_portfolios", "1 to 500");
    listing_t w = {.self = self, .txn = txn, .buyer = buyer, .max = max,
                   .after = q->after_portfolio_id ? q->after_portfolio_id : ""};
    w.held = calloc(max, sizeof *w.held);
    w.rows = calloc(max, sizeof *w.rows);
    w.ptrs = calloc(max, sizeof *w.ptrs);
    int rc = w.held && w.rows && w.ptrs ? 0 : ENOMEM;
    rc = rc ? rc : sales_each_portfolio(self->sales, txn, list_one, &w);
    Arrears__PortfolioList list = ARREARS__PORTFOLIO_LIST__INIT;
    list.n_portfolios = w.n;
    list.portfolios = w.ptrs;
    list.next_after = w.more ? w.held[w.n - 1]->portfolio_id : NULL;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_PORTFOLIO_LIST;
    env.portfolio_list = &list;
    if (rc == 0 && (len = envelope_pack_reply(&env, request_id, buf, cap)) == 0)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__TOO_LARGE,
                              "max_portfolios", "ask for fewer");
    else if (rc != 0)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__BUSY,
                              NULL, "the list could not be read now");
    for (size_t i = 0; w.held && i < w.n; i++)
        arrears__stored_portfolio__free_unpacked(w.held[i], NULL);
    free(w.held), free(w.rows), free(w.ptrs);
    return len;
}

/* ---------------------------------------------------------------- tapes and files */

/* Whether a member account is on the portfolio's tape now: in it while bidding, sold
 * in it after (withdrawn, put back and relisted accounts are not). */
static bool on_tape(const StoredListed *l, const char *id)
{
    return l->portfolio_id && strcmp(l->portfolio_id, id) == 0 &&
           (l->state == ARREARS__LISTED_STATE__LISTED_IN_PORTFOLIO ||
            l->state == ARREARS__LISTED_STATE__LISTED_SOLD);
}

typedef struct {
    sale_t *self;
    MDB_txn *txn;
    const char *buyer, *id;
    uint8_t *tape;
    size_t len, cap;
} tape_walk_t;

static int tape_grow(tape_walk_t *w, size_t n)
{
    if (w->len + n <= w->cap)
        return 0;
    uint8_t *grown = realloc(w->tape, (w->len + n) * 2);
    if (!grown)
        return ENOMEM;
    w->tape = grown;
    w->cap = (w->len + n) * 2;
    return 0;
}

/* One row, packed as a SaleTape holding just it (rows concatenate, as in the file). */
static int tape_add(const char *key, void *arg)
{
    tape_walk_t *w = arg;
    StoredListed *l = NULL;
    SaleListing *listing = NULL;
    int rc = sales_listed_get(w->self->sales, w->txn, key, &l);
    if (rc != 0 || !l || !on_tape(l, w->id)) {
        arrears__stored_listed__free_unpacked(l, NULL);
        return rc;
    }
    char pseudonym[TAPE_PSEUDONYM_LEN + 1];
    tape_text_t text;
    Arrears__TapeRow row, *rows[1] = {&row};
    Arrears__SaleTape part = ARREARS__SALE_TAPE__INIT;
    rc = sales_listing_get(w->self->sales, w->txn, key, &listing);
    rc = rc ? rc : listing ? sale_pseudonym(w->self, w->buyer, l, pseudonym) : SALES_ECORRUPT;
    if (rc == 0) {
        tape_row_of(listing, pseudonym, l->dpd_band, l->balance_band, &text, &row);
        part.n_rows = 1;
        part.rows = rows;
        rc = tape_grow(w, arrears__sale_tape__get_packed_size(&part));
        w->len += rc ? 0 : arrears__sale_tape__pack(&part, w->tape + w->len);
    }
    arrears__sale_listing__free_unpacked(listing, NULL);
    arrears__stored_listed__free_unpacked(l, NULL);
    return rc;
}

/* Builds the buyer's tape of portfolio p into self->tape, unless it is there already
 * for this version. */
static int build_tape(sale_t *self, MDB_txn *txn, const StoredPortfolio *p, const char *buyer)
{
    tape_cache_t *c = &self->tape;
    if (c->data && c->version == p->version && strcmp(c->portfolio_id, p->portfolio_id) == 0 &&
        strcmp(c->buyer, buyer) == 0)
        return 0;
    sale_release(self);
    Arrears__SaleTape head = ARREARS__SALE_TAPE__INIT;
    head.portfolio_id = p->portfolio_id;
    head.buyer = (char *)buyer;
    head.has_built_at_ms = 1;
    head.built_at_ms = p->opened_ms;   /* fixed, so a rebuild gives the same bytes */
    tape_walk_t w = {self, txn, buyer, p->portfolio_id, NULL, 0, 0};
    int rc = tape_grow(&w, arrears__sale_tape__get_packed_size(&head));
    w.len = rc ? 0 : arrears__sale_tape__pack(&head, w.tape);
    rc = rc ? rc : sales_each_member(self->sales, txn, p->portfolio_id, tape_add, &w);
    if (rc != 0) {
        free(w.tape);
        return rc;
    }
    *c = (tape_cache_t){.version = p->version, .data = w.tape, .len = w.len};
    chunk_digest(w.tape, w.len, c->sha256);
    snprintf(c->portfolio_id, sizeof c->portfolio_id, "%s", p->portfolio_id);
    snprintf(c->buyer, sizeof c->buyer, "%s", buyer);
    return 0;
}

static size_t send_chunk(const char *id, Arrears__SaleDocForm form, const uint8_t *doc,
                         size_t total, const uint8_t digest[CHUNK_DIGEST_BYTES],
                         const Arrears__SaleDocQuery *q, uint32_t limit, uint64_t request_id,
                         uint8_t *buf, size_t cap, reject_t *reject)
{
    chunk_t part;
    if (chunk_slice(total, q->offset, q->max_bytes, limit, &part) != CHUNK_OK)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "offset",
                                     "offset within the document, max_bytes at most 262144");
    Arrears__SaleDocChunk m = ARREARS__SALE_DOC_CHUNK__INIT;
    m.portfolio_id = (char *)id;
    m.has_form = m.has_total_bytes = m.has_offset = m.has_data = m.has_sha256 = 1;
    m.form = form;
    m.total_bytes = total;
    m.offset = part.offset;
    m.data = (ProtobufCBinaryData){part.len, (uint8_t *)doc + part.offset};
    m.sha256 = (ProtobufCBinaryData){CHUNK_DIGEST_BYTES, (uint8_t *)digest};
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_DOC_CHUNK;
    env.sale_doc_chunk = &m;
    size_t len = envelope_pack_reply(&env, request_id, buf, cap);
    return len ? len : receiver_refuse_query(reject, ARREARS__REJECT__CODE__TOO_LARGE,
                                             "max_bytes", "ask for less");
}

/* A chunk of a tape (any invited buyer) or of the file (the winner alone). */
static size_t sale_doc(sale_t *self, MDB_txn *txn, const char *buyer,
                       const Arrears__SaleDocQuery *q, uint64_t request_id, uint8_t *buf,
                       size_t cap, reject_t *reject)
{
    StoredPortfolio *p = NULL;
    if (!q->portfolio_id || strlen(q->portfolio_id) > SALES_ID_MAX ||
        sales_portfolio_get(self->sales, txn, q->portfolio_id, &p) != 0 || !p ||
        !sale_invited(p, buyer)) {
        arrears__stored_portfolio__free_unpacked(p, NULL);
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "portfolio_id",
                                     "no such portfolio is offered to you");
    }
    bool won = p->winner && strcmp(p->winner, buyer) == 0;
    const uint8_t *doc = NULL, *digest = NULL;
    size_t total = 0, len = 0;
    int rc = 0;
    if (q->form == ARREARS__SALE_DOC_FORM__SALE_TAPE) {
        rc = build_tape(self, txn, p, buyer);
        doc = self->tape.data;
        total = self->tape.len;
        digest = self->tape.sha256;
    } else if (q->form == ARREARS__SALE_DOC_FORM__SALE_FILE && won) {
        rc = sales_file_get(self->sales, txn, p->portfolio_id, &doc, &total);
        digest = p->file_sha256.len == CHUNK_DIGEST_BYTES ? p->file_sha256.data : NULL;
    }
    if (q->form != ARREARS__SALE_DOC_FORM__SALE_TAPE && q->form != ARREARS__SALE_DOC_FORM__SALE_FILE)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "form", "tape or file");
    else if (q->form == ARREARS__SALE_DOC_FORM__SALE_FILE && !won)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "form",
                              "the file goes to the portfolio's buyer alone");
    else if (rc == 0 && !doc && q->form == ARREARS__SALE_DOC_FORM__SALE_FILE)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__CONFLICT, "form",
                              "the file was erased when its accounts' retention ended");
    else if (rc != 0 || !doc || !digest)
        receiver_refuse_query(reject, ARREARS__REJECT__CODE__BUSY,
                              NULL, "the document could not be read now");
    else
        len = send_chunk(p->portfolio_id, q->form, doc, total, digest, q,
                         self->limits.chunk_max_bytes, request_id, buf, cap, reject);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    return len;
}

size_t sale_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                  const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    sale_t *self = app;
    bool trusted = strcmp(from->role, "operator") == 0 || strcmp(from->role, "service") == 0;
    bool buyer = strcmp(from->role, "buyer") == 0;
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_HEALTH_QUERY:
        return health(self, txn, env->request_id, buf, cap);
    case ARREARS__ENVELOPE__BODY_PORTFOLIO_LIST_QUERY:
        if (buyer)
            return portfolio_list(self, txn, from->principal, env->portfolio_list_query,
                                  env->request_id, buf, cap, reject);
        break;
    case ARREARS__ENVELOPE__BODY_SALE_DOC_QUERY:
        if (buyer)
            return sale_doc(self, txn, from->principal, env->sale_doc_query, env->request_id,
                            buf, cap, reject);
        break;
    case ARREARS__ENVELOPE__BODY_SALE_REPORT_QUERY:
        if (trusted)
            return sale_report(self, txn, env->request_id, buf, cap, reject);
        break;
    default:
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                                     "sale answers health, portfolio list, tape and file, and report queries");
    }
    return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "body",
                                 "portfolios, tapes and files are for buyers; reports for operators");
}
