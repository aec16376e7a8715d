/* test_service: the sale service's decisions in process (services/sale/sale.c, cycle.c,
 * query.c, report.c), without sockets: a sale_t set up as main.c's service_open does,
 * on a store in a temporary directory (svctest), a simulated clock, buyers' CURVE keys
 * made here. Messages are handed to sale_apply in write transactions, queries to
 * sale_query in read ones; what the outbox to staging got is read back and checked.
 *
 * Covered:
 *   - listings: an eligible one waits in its cut; ineligible ones (bankrupt, no plan, no
 *     band) go back WITHDRAWN with the reason; malformed ones and a second listing are
 *     refused and change nothing, the same listing again (staging's instant) is a
 *     duplicate; a buyer may not list;
 *   - the cycle: portfolios open at first_open with their valuation; the list shows a
 *     buyer its invitations only;
 *   - bids: taken, a raise below the step, another currency, an uninvited buyer, a
 *     late bid — each refused with its reason and nothing changed;
 *   - a payment during bidding withdraws the account (not one dated before the listing:
 *     staging sends such a notice again after a restore); the award takes the winning bid
 *     down pro rata, sells every account with shares that add up to the price, and seals
 *     the file to the winner's key (opened here with its secret key: the pseudonyms are
 *     those of the winner's tape); a loser cannot pull the file; tapes carry no
 *     personal field;
 *   - ties go to the earlier bid; no bid at the reserve: relisted, then returned;
 *   - put-backs: in the window (price down by the share), twice, unknown, too late,
 *     by a loser;
 *   - the report; ClockAdvance busy while messages are unacknowledged;
 *   - what a review found: a put-back through an older portfolio of an account sold
 *     again, a one-off plan's unsold accounts, oversize and malformed input refused
 *     before anything is written, a band whose curve was dropped after listing;
 *   - staging in two shards (principals "staging" and "staging-1"; the other tests'
 *     staging is "staging"): an account keeps the shard that listed it and its end
 *     (withdrawn, sold in a portfolio of both shards' accounts, put back) goes there
 *     only (to_staging.1 for "staging-1"); a listing or notice from a staging principal
 *     not in the list is refused and changes nothing; an account stored before shards
 *     (no shard kept) is answered on shard 0;
 *   - the end of an account's retention (PersonalDataErased): the listing's borrower
 *     and a put-back's reason are erased, the winner's sealed file is deleted (a pull
 *     then says so), the tape and the report are the same; another account's listing is
 *     untouched; a repeat writes nothing; a message without its platform or account is
 *     refused and changes nothing.
 *
 * Times: the clock starts 2026-03-02 00:00 UTC; the plan opens 2026-03-05 and bids run
 * 7 days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "erasure.h"
#include "sale.h"
#include "svctest.h"

#define DAY INT64_C(86400000)
#define START INT64_C(1772409600000)    /* 2026-03-02 00:00 UTC */
#define OPEN (START + 3 * DAY)          /* first_open 2026-03-05 */
#define DEADLINE (OPEN + 7 * DAY)
#define ID1 "cn-000001"
#define R_INVALID ARREARS__REJECT__CODE__INVALID_FIELD
#define R_CONFLICT ARREARS__REJECT__CODE__CONFLICT
#define R_UNAUTHORIZED ARREARS__REJECT__CODE__UNAUTHORIZED
#define R_BUSY ARREARS__REJECT__CODE__BUSY
#define GOT_MAX 64

static const char CONFIG[] =
    "clock = { kind = \"simulated\"; start = \"2026-03-02\"; };\n"
    "sale = {\n"
    "  min_accounts = 2; max_accounts = 10;\n"
    "  dpd_bands = ( { name = \"d90+\"; from_dpd = 90; } );\n"
    "  balance_bands = ( { name = \"all\"; currency = \"CNY\"; from_minor = 1L; } );\n"
    "  curves = { version = \"v1\"; margin_bps = 1000;\n"
    "    bands = ( { balance_band = \"all\"; points = ( { from_dpd = 0; recovery_bps = 1000; } ); } ); };\n"
    "  plans = ( { name = \"cn\"; kind = \"forward_flow\"; currency = \"CNY\";\n"
    "    products = [\"online_loan\"]; buyers = [\"buyer-a\", \"buyer-b\"];\n"
    "    first_open = \"2026-03-05\"; cycle_days = 30; bidding_days = 7;\n"
    "    min_step_minor = 1000L; put_back_days = 30; relists = 1; } );\n"
    "};\n";

static const char *const TABLES[] = {
    "sale.listed", "sale.listings", "sale.waiting", "sale.portfolios", "sale.members",
    "sale.bids", "sale.files", "sale.pseudonyms", "sale.due", "sale.meta", "to_staging.log",
    "to_staging.1.log",
};
#define N_TABLES (sizeof TABLES / sizeof TABLES[0])

typedef struct {
    char dir[SVCTEST_DIR_MAX];
    store_t *store;
    crypt_t *crypt;
    sale_config_t cfg;
    sale_t app;
    uint64_t unacked;
    char public_z85[2][41], secret_z85[2][41];   /* buyer-a, buyer-b */
    int rc;
    reject_t reject;
    uint8_t buf[1 << 20];
    Arrears__Envelope *reply;
    uint64_t mark[2];                /* the last seq seen in each shard's outbox */
    Arrears__Envelope *got[GOT_MAX];
    size_t n_got;
    int64_t listings;   /* list_ok's so far: each is staging's listing of a later instant */
} fx_t;

static uint64_t unacked_stub(void *arg)
{
    return ((fx_t *)arg)->unacked;
}

static bool buyer_key_stub(void *arg, const char *buyer, uint8_t key[32])
{
    fx_t *f = arg;
    int i = strcmp(buyer, "buyer-a") == 0 ? 0 : strcmp(buyer, "buyer-b") == 0 ? 1 : -1;
    return i >= 0 && zmq_z85_decode(key, f->public_z85[i]) != NULL;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char err[512] = "";
    *state = f;
    if (!f || sale_config_parse(CONFIG, "sale.conf", &f->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    for (int i = 0; i < 2; i++)
        if (zmq_curve_keypair(f->public_z85[i], f->secret_z85[i]) != 0)
            return -1;
    outbox_limits_t ol = outbox_default_limits();
    /* Staging in two shards, as a `staging` list would load (sale_config_parse reads no
     * peers). */
    f->cfg.staging.count = 2;
    strcpy(f->cfg.staging.shard[0].principal, "staging");
    strcpy(f->cfg.staging.shard[1].principal, "staging-1");
    int rc = svctest_open("t_sale", f->dir, &f->store, &f->crypt);
    rc = rc ? rc : shards_open_outboxes(&f->cfg.staging, f->store, &ol, NULL, f->app.to_staging);
    rc = rc ? rc : sales_open(f->store, f->crypt, &f->app.sales);
    rc = rc ? rc : crypt_derive(f->crypt, "pseudony", 1, f->app.pseudonym_key);
    f->app.cfg = &f->cfg;
    f->app.limits = sale_default_limits();
    f->app.unacked = unacked_stub;
    f->app.unacked_arg = f;
    f->app.buyer_key = buyer_key_stub;
    f->app.buyer_key_arg = f;
    f->app.clock = aclock_new_simulated(START);
    return rc || !f->app.clock ? -1 : 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    svctest_free_got(f->got, f->n_got);
    arrears__envelope__free_unpacked(f->reply, NULL);
    sales_destroy(&f->app.sales);
    shards_close_outboxes(f->app.to_staging);
    aclock_destroy(&f->app.clock);
    sale_release(&f->app);
    int rc = svctest_close(f->dir, &f->store, &f->crypt);
    free(f);
    return rc;
}

/* ---------------------------------------------------------------- messages */

typedef struct {
    fx_t *f;
    receiver_peer_t peer;
    Arrears__Envelope *env;
} msg_t;

static void apply_work(MDB_txn *txn, void *arg)
{
    msg_t *m = arg;
    memset(&m->f->reject, 0, sizeof m->f->reject);
    m->f->rc = sale_apply(&m->f->app, txn, &m->peer, m->env, &m->f->reject);
}

static int apply_as(fx_t *f, const char *principal, const char *role, Arrears__Envelope *env)
{
    msg_t m = {f, svctest_peer(principal, role), env};
    svctest_write(f->store, apply_work, &m);
    return f->rc;
}

static void query_work(MDB_txn *txn, void *arg)
{
    msg_t *m = arg;
    fx_t *f = m->f;
    memset(&f->reject, 0, sizeof f->reject);
    size_t len = sale_query(&f->app, txn, &m->peer, m->env, f->buf, sizeof f->buf, &f->reject);
    arrears__envelope__free_unpacked(f->reply, NULL);
    f->reply = len ? arrears__envelope__unpack(NULL, len, f->buf) : NULL;
}

/* The reply, or NULL with f->reject filled. */
static Arrears__Envelope *query_as(fx_t *f, const char *principal, const char *role,
                                   Arrears__Envelope *env)
{
    msg_t m = {f, svctest_peer(principal, role), env};
    env->has_request_id = 1;
    env->request_id = 7;
    svctest_read(f->store, query_work, &m);
    return f->reply;
}

static void sweep_work(MDB_txn *txn, void *arg)
{
    fx_t *f = arg;
    size_t moved = 0;
    assert_int_equal(sale_sweep(&f->app, txn, &moved), 0);
}

static void advance(fx_t *f, int64_t to_ms)
{
    assert_int_equal(aclock_advance_to(f->app.clock, to_ms), ACLOCK_OK);
    svctest_write(f->store, sweep_work, f);
}

/* What staging shard `shard` got since the last look: f->got[0 .. n). */
static size_t news_on(fx_t *f, uint32_t shard)
{
    svctest_free_got(f->got, f->n_got);
    f->n_got = svctest_news(f->store, f->app.to_staging[shard], &f->mark[shard], f->got, GOT_MAX);
    return f->n_got;
}

static size_t news(fx_t *f)
{
    return news_on(f, 0);
}

static const Arrears__SaleResult *result(fx_t *f, size_t i)
{
    assert_true(i < f->n_got);
    assert_int_equal(f->got[i]->body_case, ARREARS__ENVELOPE__BODY_SALE_RESULT);
    return f->got[i]->sale_result;
}

static void digest(fx_t *f, uint8_t out[SVCTEST_DIGEST_BYTES])
{
    svctest_digest(f->store, TABLES, N_TABLES, out);
}

static void assert_unchanged(fx_t *f, const uint8_t before[SVCTEST_DIGEST_BYTES])
{
    uint8_t now[SVCTEST_DIGEST_BYTES];
    digest(f, now);
    assert_memory_equal(now, before, sizeof now);
}

/* ---------------------------------------------------------------- listings */

typedef struct {
    SaleListing l;
    Arrears__CaseStatement file;
    Arrears__Borrower b;
    char account[32], name[48];
} listing_t;

/* A listing sale takes: p1, online loan, CNY, DPD 200, the mandate, a borrower named
 * "Planted Name <account>" in the file. */
static SaleListing *listing(listing_t *x, const char *account, int64_t outstanding)
{
    memset(x, 0, sizeof *x);
    arrears__sale_listing__init(&x->l);
    arrears__case_statement__init(&x->file);
    arrears__borrower__init(&x->b);
    snprintf(x->account, sizeof x->account, "%s", account);
    snprintf(x->name, sizeof x->name, "Planted Name %s", account);
    SaleListing *l = &x->l;
    l->platform = "p1";
    l->account_ref = x->account;
    l->has_listed_at_ms = l->has_product = l->has_outstanding_minor = l->has_days_past_due = 1;
    l->listed_at_ms = START;
    l->product = ARREARS__PRODUCT__ONLINE_LOAN;
    l->currency = "CNY";
    l->outstanding_minor = outstanding;
    l->has_principal_minor = 1;
    l->principal_minor = outstanding;
    l->days_past_due = 200;
    l->charged_off_date = "2025-12-01";
    l->region = "CN";
    l->has_may_sell = l->may_sell = 1;
    l->time_zone = "Asia/Shanghai";
    x->b.name = x->name;
    x->file.borrower = &x->b;
    l->file = &x->file;
    return l;
}

static int list_from(fx_t *f, const char *principal, const char *role, SaleListing *l)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_LISTING;
    env.sale_listing = l;
    return apply_as(f, principal, role, &env);
}

static int list_as(fx_t *f, const char *role, SaleListing *l)
{
    return list_from(f, "staging", role, l);
}

static void list_ok(fx_t *f, const char *account, int64_t outstanding)
{
    listing_t x;
    SaleListing *l = listing(&x, account, outstanding);
    l->listed_at_ms = START + f->listings++;
    assert_int_equal(list_as(f, "service", l), 0);
}

typedef struct {
    fx_t *f;
    const char *key;
    StoredListed *out;
} get_listed_t;

static void get_listed_work(MDB_txn *txn, void *arg)
{
    get_listed_t *g = arg;
    assert_int_equal(sales_listed_get(g->f->app.sales, txn, g->key, &g->out), 0);
}

/* The account's state at sale (0 when sale never heard of it). */
static int listed_state(fx_t *f, const char *key)
{
    get_listed_t g = {f, key, NULL};
    svctest_read(f->store, get_listed_work, &g);
    int state = g.out ? (int)g.out->state : 0;
    arrears__stored_listed__free_unpacked(g.out, NULL);
    return state;
}

static void assert_withdrawn_with(fx_t *f, const char *account, const char *why)
{
    assert_int_equal(news(f), 1);
    const Arrears__SaleResult *r = result(f, 0);
    assert_string_equal(r->account_ref, account);
    assert_int_equal(r->outcome, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN);
    if (!strstr(r->detail, why))
        fail_msg("detail \"%s\" lacks \"%s\"", r->detail, why);
}

static void test_listings(void **state)
{
    fx_t *f = *state;
    listing_t x;
    uint8_t before[SVCTEST_DIGEST_BYTES];
    list_ok(f, "A1", 100000);
    assert_int_equal(listed_state(f, "p1/A1"), ARREARS__LISTED_STATE__LISTED_WAITING);
    assert_int_equal(news(f), 0);                       /* nothing to tell staging yet */
    SaleListing *l = listing(&x, "A2", 100000);
    l->has_bankrupt = l->bankrupt = 1;
    assert_int_equal(list_as(f, "service", l), 0);
    assert_withdrawn_with(f, "A2", "the borrower is bankrupt");
    assert_int_equal(listed_state(f, "p1/A2"), ARREARS__LISTED_STATE__LISTED_WITHDRAWN);
    l = listing(&x, "A3", 100000);
    l->currency = "USD";
    assert_int_equal(list_as(f, "service", l), 0);
    assert_withdrawn_with(f, "A3", "no sale plan takes ONLINE_LOAN in USD");
    l = listing(&x, "A4", 100000);
    l->days_past_due = 30;
    assert_int_equal(list_as(f, "service", l), 0);
    assert_withdrawn_with(f, "A4", "DPD 30 is in no DPD band");
    digest(f, before);
    l = listing(&x, "A5", 100000);
    l->currency = "XXX";
    svctest_assert_refused(list_as(f, "service", l), &f->reject, R_INVALID, "currency");
    l = listing(&x, "A5", -1);
    svctest_assert_refused(list_as(f, "service", l), &f->reject, R_INVALID, "outstanding_minor");
    l = listing(&x, "bad ref!", 100);
    svctest_assert_refused(list_as(f, "service", l), &f->reject, R_INVALID, "account_ref");
    l = listing(&x, "A1", 5);
    l->listed_at_ms = START + 1;   /* a second listing */
    svctest_assert_refused(list_as(f, "service", l), &f->reject, R_CONFLICT, "account_ref");
    /* The first one again (staging re-derives it after a restore): a duplicate. */
    assert_int_equal(list_as(f, "service", listing(&x, "A1", 5)), APPLY_DUPLICATE);
    svctest_assert_refused(list_as(f, "buyer", listing(&x, "A6", 5)), &f->reject, R_UNAUTHORIZED,
                           "body");
    assert_unchanged(f, before);
    assert_int_equal(news(f), 0);
    /* Withdrawn once, it may be listed again. */
    list_ok(f, "A2", 100000);
    assert_int_equal(listed_state(f, "p1/A2"), ARREARS__LISTED_STATE__LISTED_WAITING);
}

/* ---------------------------------------------------------------- portfolios, bids */

typedef struct {
    fx_t *f;
    const char *id;
    StoredPortfolio *out;
} get_portfolio_t;

static void get_portfolio_work(MDB_txn *txn, void *arg)
{
    get_portfolio_t *g = arg;
    assert_int_equal(sales_portfolio_get(g->f->app.sales, txn, g->id, &g->out), 0);
}

/* Free with arrears__stored_portfolio__free_unpacked. */
static StoredPortfolio *portfolio(fx_t *f, const char *id)
{
    get_portfolio_t g = {f, id, NULL};
    svctest_read(f->store, get_portfolio_work, &g);
    assert_non_null(g.out);
    return g.out;
}

static int bid_as(fx_t *f, const char *buyer, const char *id, int64_t amount, const char *currency)
{
    Arrears__Bid b = ARREARS__BID__INIT;
    b.portfolio_id = (char *)id;
    b.currency = (char *)currency;
    b.has_amount_minor = 1;
    b.amount_minor = amount;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_BID;
    env.bid = &b;
    return apply_as(f, buyer, "buyer", &env);
}

static const Arrears__PortfolioList *portfolios_of(fx_t *f, const char *buyer)
{
    Arrears__PortfolioListQuery q = ARREARS__PORTFOLIO_LIST_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_PORTFOLIO_LIST_QUERY;
    env.portfolio_list_query = &q;
    Arrears__Envelope *r = query_as(f, buyer, "buyer", &env);
    assert_non_null(r);
    assert_int_equal(r->body_case, ARREARS__ENVELOPE__BODY_PORTFOLIO_LIST);
    return r->portfolio_list;
}

/* Five accounts of 100,000 .. 500,000 listed, and the cycle opened. */
static void open_five(fx_t *f)
{
    const char *refs[] = {"B1", "B2", "B3", "B4", "B5"};
    for (int i = 0; i < 5; i++)
        list_ok(f, refs[i], 100000 * (i + 1));
    advance(f, OPEN - 1);
    StoredPortfolio *none = NULL;
    get_portfolio_t g = {f, ID1, NULL};
    svctest_read(f->store, get_portfolio_work, &g);
    none = g.out;
    assert_null(none);                                  /* not before first_open */
    advance(f, OPEN);
}

static void test_open_and_bid(void **state)
{
    fx_t *f = *state;
    open_five(f);
    StoredPortfolio *p = portfolio(f, ID1);
    assert_int_equal(p->state, ARREARS__PORTFOLIO_STATE__PORTFOLIO_BIDDING);
    assert_int_equal(p->accounts, 5);
    assert_int_equal(p->outstanding_minor, 1500000);
    assert_int_equal(p->deadline_ms, DEADLINE);
    /* 10% of 1,500,000 is the value; the reserve 10% less. */
    assert_int_equal(p->valuation->value_minor, 150000);
    assert_int_equal(p->valuation->reserve_minor, 135000);
    assert_string_equal(p->valuation->curve_version, "v1");
    arrears__stored_portfolio__free_unpacked(p, NULL);
    assert_int_equal(listed_state(f, "p1/B3"), ARREARS__LISTED_STATE__LISTED_IN_PORTFOLIO);
    const Arrears__PortfolioList *list = portfolios_of(f, "buyer-a");
    assert_int_equal(list->n_portfolios, 1);
    assert_string_equal(list->portfolios[0]->portfolio_id, ID1);
    assert_false(list->portfolios[0]->has_my_bid_minor);
    assert_int_equal(portfolios_of(f, "buyer-c")->n_portfolios, 0);
    uint8_t before[SVCTEST_DIGEST_BYTES];
    assert_int_equal(bid_as(f, "buyer-a", ID1, 140000, "CNY"), 0);
    digest(f, before);
    svctest_assert_refused(bid_as(f, "buyer-a", ID1, 140999, "CNY"), &f->reject, R_INVALID,
                           "amount_minor");
    svctest_assert_refused(bid_as(f, "buyer-b", ID1, 150000, "USD"), &f->reject, R_INVALID,
                           "currency");
    svctest_assert_refused(bid_as(f, "buyer-c", ID1, 150000, "CNY"), &f->reject, R_UNAUTHORIZED,
                           "portfolio_id");
    svctest_assert_refused(bid_as(f, "buyer-a", "cn-000099", 150000, "CNY"), &f->reject,
                           R_UNAUTHORIZED, "portfolio_id");
    assert_unchanged(f, before);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 141000, "CNY"), 0);   /* a raise by the step */
    list = portfolios_of(f, "buyer-a");
    assert_int_equal(list->portfolios[0]->my_bid_minor, 141000);
    list = portfolios_of(f, "buyer-b");
    assert_false(list->portfolios[0]->has_my_bid_minor);             /* sealed: not a's */
    aclock_advance_to(f->app.clock, DEADLINE);
    digest(f, before);
    svctest_assert_refused(bid_as(f, "buyer-b", ID1, 500000, "CNY"), &f->reject, R_CONFLICT,
                           "amount_minor");
    assert_unchanged(f, before);
}

/* ---------------------------------------------------------------- award, file, tape */

/* A notice staging (principal) dated at_ms (0: undated). */
static int notice_from_at(fx_t *f, const char *principal, const char *account,
                          Arrears__SaleNoticeKind kind, int64_t at_ms)
{
    Arrears__SaleNotice n = ARREARS__SALE_NOTICE__INIT;
    n.platform = "p1";
    n.account_ref = (char *)account;
    n.has_kind = 1;
    n.kind = kind;
    n.has_at_ms = at_ms != 0;
    n.at_ms = at_ms;
    n.detail = "posted by the platform";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_NOTICE;
    env.sale_notice = &n;
    return apply_as(f, principal, "service", &env);
}

static int notice_from(fx_t *f, const char *principal, const char *account,
                       Arrears__SaleNoticeKind kind)
{
    return notice_from_at(f, principal, account, kind, 0);
}

static int notice_at(fx_t *f, const char *account, Arrears__SaleNoticeKind kind, int64_t at_ms)
{
    return notice_from_at(f, "staging", account, kind, at_ms);
}

static int notice(fx_t *f, const char *account, Arrears__SaleNoticeKind kind)
{
    return notice_from_at(f, "staging", account, kind, 0);
}

/* The whole document, pulled in chunks of 100 bytes; NULL with f->reject when refused.
 * The SHA-256 of every chunk is the whole document's. */
static uint8_t *pull(fx_t *f, const char *buyer, Arrears__SaleDocForm form, size_t *len)
{
    uint8_t *doc = NULL;
    size_t got = 0, total = 0;
    uint8_t sha[32];
    do {
        Arrears__SaleDocQuery q = ARREARS__SALE_DOC_QUERY__INIT;
        q.portfolio_id = ID1;
        q.has_form = q.has_offset = q.has_max_bytes = 1;
        q.form = form;
        q.offset = got;
        q.max_bytes = 100;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_SALE_DOC_QUERY;
        env.sale_doc_query = &q;
        Arrears__Envelope *r = query_as(f, buyer, "buyer", &env);
        if (!r) {
            free(doc);
            return NULL;
        }
        const Arrears__SaleDocChunk *c = r->sale_doc_chunk;
        total = c->total_bytes;
        doc = doc ? doc : malloc(total ? total : 1);
        assert_int_equal(c->offset, got);
        memcpy(doc + got, c->data.data, c->data.len);
        got += c->data.len;
        memcpy(sha, c->sha256.data, sizeof sha);
    } while (got < total);
    uint8_t check[32];
    crypto_hash_sha256(check, doc, total);
    assert_memory_equal(check, sha, sizeof sha);
    *len = total;
    return doc;
}

static Arrears__SaleTape *tape_of(fx_t *f, const char *buyer)
{
    size_t len = 0;
    uint8_t *doc = pull(f, buyer, ARREARS__SALE_DOC_FORM__SALE_TAPE, &len);
    assert_non_null(doc);
    assert_null(memmem(doc, len, "Planted", 7));
    assert_null(memmem(doc, len, "B3", 2));             /* no account ref either */
    Arrears__SaleTape *t = arrears__sale_tape__unpack(NULL, len, doc);
    free(doc);
    assert_non_null(t);
    return t;
}

static Arrears__SaleFile *file_of(fx_t *f, int buyer_index)
{
    size_t len = 0;
    uint8_t *sealed = pull(f, buyer_index ? "buyer-b" : "buyer-a", ARREARS__SALE_DOC_FORM__SALE_FILE, &len);
    assert_non_null(sealed);
    uint8_t pk[32], sk[32];
    assert_non_null(zmq_z85_decode(pk, f->public_z85[buyer_index]));
    assert_non_null(zmq_z85_decode(sk, f->secret_z85[buyer_index]));
    uint8_t *plain = malloc(len);
    assert_int_equal(crypto_box_seal_open(plain, sealed, len, pk, sk), 0);
    Arrears__SaleFile *file = arrears__sale_file__unpack(NULL, len - crypto_box_SEALBYTES, plain);
    free(plain), free(sealed);
    assert_non_null(file);
    return file;
}

static bool on_tape(const Arrears__SaleTape *t, const char *pseudonym)
{
    for (size_t i = 0; i < t->n_rows; i++)
        if (strcmp(t->rows[i]->pseudonym, pseudonym) == 0)
            return true;
    return false;
}

static void test_withdraw_and_award(void **state)
{
    fx_t *f = *state;
    open_five(f);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 141000, "CNY"), 0);
    assert_int_equal(bid_as(f, "buyer-b", ID1, 160000, "CNY"), 0);
    /* Dated before the listing: about an earlier one (sent again after a restore). */
    assert_int_equal(notice_at(f, "B2", ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT, START - 1), 0);
    assert_int_equal(news(f), 0);
    assert_int_equal(notice_at(f, "B2", ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT, OPEN), 0);
    assert_withdrawn_with(f, "B2", "a payment was posted during the sale");
    Arrears__SaleTape *ta = tape_of(f, "buyer-a");
    assert_int_equal(ta->n_rows, 4);                    /* B2 left the tape */
    advance(f, DEADLINE);
    StoredPortfolio *p = portfolio(f, ID1);
    assert_int_equal(p->state, ARREARS__PORTFOLIO_STATE__PORTFOLIO_AWARDED);
    assert_string_equal(p->winner, "buyer-b");
    assert_int_equal(p->winning_bid_minor, 160000);
    /* 160,000 * 1,300,000 / 1,500,000 = 138,666.67 -> 138,667. */
    assert_int_equal(p->price_minor, 138667);
    assert_int_equal(p->revaluation->reserve_minor, 117000);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    assert_int_equal(news(f), 4);
    int64_t sum = 0;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(result(f, i)->outcome, ARREARS__SALE_OUTCOME__SALE_SOLD);
        assert_string_equal(result(f, i)->buyer, "buyer-b");
        sum += result(f, i)->price_minor;
    }
    assert_int_equal(sum, 138667);
    Arrears__SaleFile *file = file_of(f, 1);
    Arrears__SaleTape *tb = tape_of(f, "buyer-b");
    assert_int_equal(file->n_accounts, 4);
    assert_int_equal(file->price_minor, 138667);
    for (size_t i = 0; i < file->n_accounts; i++) {
        assert_true(on_tape(tb, file->accounts[i]->pseudonym));
        assert_false(on_tape(ta, file->accounts[i]->pseudonym));   /* a's names differ */
        assert_non_null(strstr(file->accounts[i]->listing->file->borrower->name, "Planted"));
    }
    /* The loser gets no file. */
    size_t len = 0;
    assert_null(pull(f, "buyer-a", ARREARS__SALE_DOC_FORM__SALE_FILE, &len));
    assert_int_equal(f->reject.code, R_UNAUTHORIZED);
    arrears__sale_file__free_unpacked(file, NULL);
    arrears__sale_tape__free_unpacked(ta, NULL);
    arrears__sale_tape__free_unpacked(tb, NULL);
}

static void test_ties_and_unsold(void **state)
{
    fx_t *f = *state;
    open_five(f);
    /* Equal bids: the earlier wins. */
    aclock_advance_to(f->app.clock, OPEN + DAY);
    assert_int_equal(bid_as(f, "buyer-b", ID1, 200000, "CNY"), 0);
    aclock_advance_to(f->app.clock, OPEN + 2 * DAY);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 200000, "CNY"), 0);
    advance(f, DEADLINE);
    StoredPortfolio *p = portfolio(f, ID1);
    assert_string_equal(p->winner, "buyer-b");
    arrears__stored_portfolio__free_unpacked(p, NULL);
    /* A second cycle: no bid reaches the reserve, so the accounts wait again; a third:
     * they were offered twice (relists = 1) and go back to staging. */
    list_ok(f, "C1", 100000);
    list_ok(f, "C2", 100000);
    int64_t second = OPEN + 30 * DAY;
    advance(f, second);
    (void)news(f);
    const char *id2 = "cn-000002";
    assert_int_equal(bid_as(f, "buyer-a", id2, 1000, "CNY"), 0);   /* reserve 18,000 */
    advance(f, second + 7 * DAY);
    p = portfolio(f, id2);
    assert_int_equal(p->state, ARREARS__PORTFOLIO_STATE__PORTFOLIO_UNSOLD);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    assert_int_equal(news(f), 0);
    assert_int_equal(listed_state(f, "p1/C1"), ARREARS__LISTED_STATE__LISTED_WAITING);
    advance(f, second + 30 * DAY);
    advance(f, second + 37 * DAY);
    assert_int_equal(news(f), 2);
    assert_int_equal(result(f, 0)->outcome, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN);
    assert_non_null(strstr(result(f, 0)->detail, "no bid reached the reserve"));
    assert_int_equal(listed_state(f, "p1/C2"), ARREARS__LISTED_STATE__LISTED_WITHDRAWN);
}

static int put_back_as(fx_t *f, const char *buyer, const char *pseudonym, const char *reason)
{
    Arrears__PutBack b = ARREARS__PUT_BACK__INIT;
    b.portfolio_id = ID1;
    b.pseudonym = (char *)pseudonym;
    b.reason = (char *)reason;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_PUT_BACK;
    env.put_back = &b;
    return apply_as(f, buyer, "buyer", &env);
}

static void test_put_back(void **state)
{
    fx_t *f = *state;
    open_five(f);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 150000, "CNY"), 0);
    advance(f, DEADLINE);
    (void)news(f);
    Arrears__SaleFile *file = file_of(f, 0);
    const Arrears__SaleFileAccount *first = file->accounts[0];
    uint8_t before[SVCTEST_DIGEST_BYTES];
    digest(f, before);
    svctest_assert_refused(put_back_as(f, "buyer-b", first->pseudonym, "not mine"), &f->reject,
                           R_UNAUTHORIZED, "portfolio_id");
    svctest_assert_refused(put_back_as(f, "buyer-a", "00", "ineligible"), &f->reject, R_INVALID,
                           "pseudonym");
    svctest_assert_refused(put_back_as(f, "buyer-a", first->pseudonym, ""), &f->reject, R_INVALID,
                           "reason");
    assert_unchanged(f, before);
    aclock_advance_to(f->app.clock, DEADLINE + 30 * DAY - 1);   /* the window's last instant */
    assert_int_equal(put_back_as(f, "buyer-a", first->pseudonym, "borrower deceased before sale"), 0);
    assert_int_equal(news(f), 1);
    assert_int_equal(result(f, 0)->outcome, ARREARS__SALE_OUTCOME__SALE_PUT_BACK);
    assert_int_equal(result(f, 0)->price_minor, first->price_minor);
    assert_string_equal(result(f, 0)->detail, "borrower deceased before sale");
    StoredPortfolio *p = portfolio(f, ID1);
    assert_int_equal(p->price_minor, 150000 - first->price_minor);
    assert_int_equal(p->put_back, 1);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    svctest_assert_refused(put_back_as(f, "buyer-a", first->pseudonym, "again"), &f->reject,
                           R_CONFLICT, "pseudonym");
    aclock_advance_to(f->app.clock, DEADLINE + 30 * DAY);
    svctest_assert_refused(put_back_as(f, "buyer-a", file->accounts[1]->pseudonym, "late"),
                           &f->reject, R_CONFLICT, "portfolio_id");
    arrears__sale_file__free_unpacked(file, NULL);
}

static void test_report_and_clock(void **state)
{
    fx_t *f = *state;
    open_five(f);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 150000, "CNY"), 0);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 151000, "CNY"), 0);
    advance(f, DEADLINE);
    Arrears__SaleReportQuery q = ARREARS__SALE_REPORT_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_REPORT_QUERY;
    env.sale_report_query = &q;
    assert_null(query_as(f, "buyer-a", "buyer", &env));
    assert_int_equal(f->reject.code, R_UNAUTHORIZED);
    const Arrears__SaleReport *r = query_as(f, "ops", "operator", &env)->sale_report;
    assert_int_equal(r->listings, 5);
    assert_int_equal(r->portfolios, 1);
    assert_int_equal(r->awarded, 1);
    assert_int_equal(r->accounts_sold, 5);
    assert_int_equal(r->bids, 2);
    assert_int_equal(r->n_proceeds, 1);
    assert_string_equal(r->proceeds[0]->currency, "CNY");
    assert_int_equal(r->proceeds[0]->price_minor, 151000);
    /* A clock advance waits while staging has not acknowledged what it was sent. */
    Arrears__ClockAdvance a = ARREARS__CLOCK_ADVANCE__INIT;
    a.has_to_ms = 1;
    a.to_ms = DEADLINE + DAY;
    Arrears__Envelope adv = ARREARS__ENVELOPE__INIT;
    adv.body_case = ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE;
    adv.clock_advance = &a;
    f->unacked = 5;
    svctest_assert_refused(apply_as(f, "ops", "operator", &adv), &f->reject, R_BUSY, "to_ms");
    f->unacked = 0;
    a.to_ms = DEADLINE + 2 * DAY;
    assert_int_equal(apply_as(f, "ops", "operator", &adv), 0);
    svctest_assert_refused(apply_as(f, "staging", "service", &adv), &f->reject, R_UNAUTHORIZED,
                           "body");
}

/* ---------------------------------------------------------------- what a review found */

static void test_put_back_elsewhere(void **state)
{
    fx_t *f = *state;
    f->cfg.plans[0].put_back_days = 90;
    open_five(f);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 150000, "CNY"), 0);
    advance(f, DEADLINE);
    Arrears__SaleFile *file = file_of(f, 0);
    char pseudonym[TAPE_PSEUDONYM_LEN + 1], ref[32];
    snprintf(pseudonym, sizeof pseudonym, "%s", file->accounts[0]->pseudonym);
    snprintf(ref, sizeof ref, "%s", file->accounts[0]->listing->account_ref);
    arrears__sale_file__free_unpacked(file, NULL);
    assert_int_equal(put_back_as(f, "buyer-a", pseudonym, "not eligible"), 0);
    /* Listed again, it sells to the same buyer in the next cycle, under the same name. */
    list_ok(f, ref, 100000);
    list_ok(f, "X1", 100000);
    advance(f, OPEN + 30 * DAY);
    assert_int_equal(bid_as(f, "buyer-a", "cn-000002", 100000, "CNY"), 0);
    advance(f, OPEN + 37 * DAY);
    char key[64];
    snprintf(key, sizeof key, "p1/%s", ref);
    assert_int_equal(listed_state(f, key), ARREARS__LISTED_STATE__LISTED_SOLD);
    /* The first portfolio's put-back may not undo the second sale. */
    uint8_t before[SVCTEST_DIGEST_BYTES];
    digest(f, before);
    svctest_assert_refused(put_back_as(f, "buyer-a", pseudonym, "again"), &f->reject, R_CONFLICT,
                           "pseudonym");
    assert_unchanged(f, before);
}

static void test_one_off_unsold_returns(void **state)
{
    fx_t *f = *state;
    f->cfg.plans[0].kind = ARREARS__SALE_KIND__SALE_ONE_OFF;
    f->cfg.plans[0].cycle_days = 0;
    open_five(f);
    (void)news(f);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 1000, "CNY"), 0);   /* below the reserve */
    advance(f, DEADLINE);
    /* A one-off plan never opens again: all five go back, none waits. */
    assert_int_equal(news(f), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(result(f, i)->outcome, ARREARS__SALE_OUTCOME__SALE_WITHDRAWN);
    assert_int_equal(listed_state(f, "p1/B1"), ARREARS__LISTED_STATE__LISTED_WITHDRAWN);
    /* And a listing after it opened is returned at once. */
    listing_t x;
    assert_int_equal(list_as(f, "service", listing(&x, "L1", 100000)), 0);
    assert_withdrawn_with(f, "L1", "the one-off sale cn has closed");
}

static void test_refused_before_any_write(void **state)
{
    fx_t *f = *state;
    listing_t x;
    uint8_t before[SVCTEST_DIGEST_BYTES];
    digest(f, before);
    SaleListing *l = listing(&x, "BIG", 100000);
    static char huge[SALES_RECORD_MAX + 1];
    memset(huge, 'n', sizeof huge - 1);
    x.b.name = huge;
    svctest_assert_refused(list_as(f, "service", l), &f->reject, ARREARS__REJECT__CODE__TOO_LARGE,
                           "file");
    l = listing(&x, "R1", 100000);
    l->region = "12 Planted Road";
    svctest_assert_refused(list_as(f, "service", l), &f->reject, R_INVALID, "region");
    char long_ref[200];
    memset(long_ref, 'A', sizeof long_ref - 1);
    long_ref[sizeof long_ref - 1] = '\0';
    svctest_assert_refused(notice(f, long_ref, ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT),
                           &f->reject, R_INVALID, "account_ref");
    assert_unchanged(f, before);
}

/* A band whose curve was dropped from the configuration after listing: its accounts are
 * worth nothing to the valuation, but their balances still weigh in the pro rata. */
static void test_band_without_curve(void **state)
{
    fx_t *f = *state;
    const char *refs[] = {"B1", "B2", "B3"};
    for (int i = 0; i < 3; i++)
        list_ok(f, refs[i], 100000 * (i + 1));
    snprintf(f->cfg.curves.curves[0].balance_band, sizeof f->cfg.curves.curves[0].balance_band,
             "%s", "renamed");
    advance(f, OPEN);
    StoredPortfolio *p = portfolio(f, ID1);
    assert_int_equal(p->listed_outstanding_minor, 600000);
    assert_int_equal(p->valuation->value_minor, 0);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 60000, "CNY"), 0);
    assert_int_equal(notice(f, "B3", ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_DISPUTE), 0);
    advance(f, DEADLINE);
    p = portfolio(f, ID1);
    assert_int_equal(p->state, ARREARS__PORTFOLIO_STATE__PORTFOLIO_AWARDED);
    assert_int_equal(p->price_minor, 30000);   /* 60,000 * 300,000 / 600,000 */
    arrears__stored_portfolio__free_unpacked(p, NULL);
}

/* ---------------------------------------------------------------- staging's shards */

static void assert_told(fx_t *f, size_t i, const char *account, Arrears__SaleOutcome outcome)
{
    assert_string_equal(result(f, i)->account_ref, account);
    assert_int_equal(result(f, i)->outcome, outcome);
}

/* The pseudonym the winner's file gives the account. */
static const char *pseudonym_of(const Arrears__SaleFile *file, const char *account)
{
    for (size_t i = 0; i < file->n_accounts; i++)
        if (strcmp(file->accounts[i]->listing->account_ref, account) == 0)
            return file->accounts[i]->pseudonym;
    fail_msg("%s is not in the file", account);
    return NULL;
}

/* An account keeps the shard that listed it: withdrawn at listing or by a notice, sold
 * in a portfolio with the other shard's accounts, put back — each told on its own
 * shard only. */
static void test_account_answered_on_the_shard_that_listed_it(void **state)
{
    fx_t *f = *state;
    listing_t x;
    SaleListing *l = listing(&x, "A1", 100000);
    l->has_bankrupt = l->bankrupt = 1;
    assert_int_equal(list_from(f, "staging-1", "service", l), 0);
    assert_int_equal(news_on(f, 1), 1);
    assert_told(f, 0, "A1", ARREARS__SALE_OUTCOME__SALE_WITHDRAWN);
    assert_int_equal(list_from(f, "staging-1", "service", listing(&x, "S1", 100000)), 0);
    assert_int_equal(list_from(f, "staging-1", "service", listing(&x, "S2", 200000)), 0);
    list_ok(f, "S3", 300000);
    assert_int_equal(notice_from(f, "staging-1", "S2", ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT), 0);
    assert_int_equal(news_on(f, 1), 1);
    assert_told(f, 0, "S2", ARREARS__SALE_OUTCOME__SALE_WITHDRAWN);
    assert_int_equal(news(f), 0);

    advance(f, OPEN);   /* S1 and S3: one portfolio, reserve 36,000 */
    assert_int_equal(bid_as(f, "buyer-a", ID1, 100000, "CNY"), 0);
    advance(f, DEADLINE);
    assert_int_equal(news_on(f, 1), 1);
    assert_told(f, 0, "S1", ARREARS__SALE_OUTCOME__SALE_SOLD);
    assert_int_equal(news(f), 1);
    assert_told(f, 0, "S3", ARREARS__SALE_OUTCOME__SALE_SOLD);
    Arrears__SaleFile *file = file_of(f, 0);
    assert_int_equal(put_back_as(f, "buyer-a", pseudonym_of(file, "S1"), "not as described"), 0);
    assert_int_equal(news_on(f, 1), 1);
    assert_told(f, 0, "S1", ARREARS__SALE_OUTCOME__SALE_PUT_BACK);
    assert_int_equal(news(f), 0);
    arrears__sale_file__free_unpacked(file, NULL);
}

/* A staging principal not in the list has no shard to be answered on: its listing and
 * its notice are refused, naming it and the setting, and change nothing. */
static void test_unknown_staging_principal_refused(void **state)
{
    fx_t *f = *state;
    listing_t x;
    list_ok(f, "A1", 100000);
    uint8_t before[SVCTEST_DIGEST_BYTES];
    digest(f, before);
    svctest_assert_refused(list_from(f, "staging-2", "service", listing(&x, "A2", 100000)),
                           &f->reject, R_UNAUTHORIZED, NULL);
    assert_non_null(strstr(f->reject.reason, "\"staging-2\""));
    assert_non_null(strstr(f->reject.reason, "`staging`"));
    svctest_assert_refused(notice_from(f, "staging-2", "A1",
                                       ARREARS__SALE_NOTICE_KIND__SALE_NOTICE_PAYMENT),
                           &f->reject, R_UNAUTHORIZED, NULL);
    assert_unchanged(f, before);
    assert_int_equal(listed_state(f, "p1/A1"), ARREARS__LISTED_STATE__LISTED_WAITING);
}

/* Drops the account's shard, as an account stored before shards has none. */
static void unshard_work(MDB_txn *txn, void *arg)
{
    get_listed_t *g = arg;
    StoredListed *before = NULL;
    assert_int_equal(sales_listed_get(g->f->app.sales, txn, g->key, &before), 0);
    assert_non_null(before);
    StoredListed after = *before;   /* shallow: before keeps owning the strings */
    after.has_staging_shard = 0;
    after.staging_shard = 0;
    assert_int_equal(sales_listed_put(g->f->app.sales, txn, before, &after), 0);
    arrears__stored_listed__free_unpacked(before, NULL);
}

/* An account stored before shards (no shard kept) is answered on shard 0, the one
 * staging there was; its portfolio's other account on its own shard. */
static void test_account_from_before_shards_answered_on_shard_0(void **state)
{
    fx_t *f = *state;
    listing_t x;
    assert_int_equal(list_from(f, "staging-1", "service", listing(&x, "S1", 100000)), 0);
    assert_int_equal(list_from(f, "staging-1", "service", listing(&x, "S2", 200000)), 0);
    get_listed_t g = {f, "p1/S1", NULL};
    svctest_write(f->store, unshard_work, &g);
    advance(f, OPEN);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 100000, "CNY"), 0);
    advance(f, DEADLINE);
    assert_int_equal(news(f), 1);
    assert_told(f, 0, "S1", ARREARS__SALE_OUTCOME__SALE_SOLD);
    assert_int_equal(news_on(f, 1), 1);
    assert_told(f, 0, "S2", ARREARS__SALE_OUTCOME__SALE_SOLD);
}

/* ---------------------------------------------------------------- erasure */

static int erase_msg(fx_t *f, const char *platform, const char *account)
{
    Arrears__PersonalDataErased m;
    Arrears__Envelope env;
    svctest_erasure(&m, &env, platform, account, NULL, aclock_now_ms(f->app.clock));
    return apply_as(f, "staging", "service", &env);
}

/* The report's bytes (the caller frees them). */
static uint8_t *report_bytes(fx_t *f, size_t *len)
{
    Arrears__SaleReportQuery q = ARREARS__SALE_REPORT_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_SALE_REPORT_QUERY;
    env.sale_report_query = &q;
    const Arrears__SaleReport *r = query_as(f, "ops", "operator", &env)->sale_report;
    *len = arrears__sale_report__get_packed_size(r);
    uint8_t *out = malloc(*len ? *len : 1);
    assert_non_null(out);
    arrears__sale_report__pack(r, out);
    return out;
}

typedef struct {
    fx_t *f;
    const char *key;
    SaleListing *out;
} get_listing_t;

static void get_listing_work(MDB_txn *txn, void *arg)
{
    get_listing_t *g = arg;
    assert_int_equal(sales_listing_get(g->f->app.sales, txn, g->key, &g->out), 0);
}

/* The borrower's name in the account's stored listing. */
static void assert_listed_name(fx_t *f, const char *key, const char *name)
{
    get_listing_t g = {f, key, NULL};
    svctest_read(f->store, get_listing_work, &g);
    assert_non_null(g.out);
    assert_string_equal(g.out->file->borrower->name, name);
    arrears__sale_listing__free_unpacked(g.out, NULL);
}

static void test_erasure_drops_the_person_keeps_the_figures(void **state)
{
    fx_t *f = *state;
    open_five(f);
    assert_int_equal(bid_as(f, "buyer-a", ID1, 150000, "CNY"), 0);
    advance(f, DEADLINE);
    Arrears__SaleFile *file = file_of(f, 0);
    assert_int_equal(put_back_as(f, "buyer-a", pseudonym_of(file, "B2"),
                                 "Planted Name B2 lives abroad"), 0);
    arrears__sale_file__free_unpacked(file, NULL);
    while (news(f) > 0)
        ;
    size_t len_before = 0, len_after = 0, tape_before = 0, tape_after = 0;
    uint8_t *before = report_bytes(f, &len_before);
    uint8_t *tape = pull(f, "buyer-a", ARREARS__SALE_DOC_FORM__SALE_TAPE, &tape_before);
    uint8_t d[SVCTEST_DIGEST_BYTES];
    digest(f, d);
    svctest_assert_refused(erase_msg(f, "", "B1"), &f->reject, R_INVALID, "platform");
    svctest_assert_refused(erase_msg(f, "p1", NULL), &f->reject, R_INVALID, "account_ref");
    assert_unchanged(f, d);

    assert_int_equal(erase_msg(f, "p1", "B1"), 0);
    assert_listed_name(f, "p1/B1", ERASURE_MARKER);
    assert_listed_name(f, "p1/B3", "Planted Name B3");   /* not erased */
    size_t len = 0;
    assert_null(pull(f, "buyer-a", ARREARS__SALE_DOC_FORM__SALE_FILE, &len));
    assert_int_equal(f->reject.code, R_CONFLICT);
    assert_int_equal(erase_msg(f, "p1", "B2"), 0);
    assert_listed_name(f, "p1/B2", ERASURE_MARKER);
    get_listed_t g = {f, "p1/B2", NULL};
    svctest_read(f->store, get_listed_work, &g);
    assert_string_equal(g.out->detail, ERASURE_MARKER);
    assert_int_equal(g.out->state, ARREARS__LISTED_STATE__LISTED_PUT_BACK);
    arrears__stored_listed__free_unpacked(g.out, NULL);
    uint8_t *after = report_bytes(f, &len_after);
    assert_int_equal(len_after, len_before);
    assert_memory_equal(after, before, len_before);
    uint8_t *tape2 = pull(f, "buyer-a", ARREARS__SALE_DOC_FORM__SALE_TAPE, &tape_after);
    assert_int_equal(tape_after, tape_before);
    assert_memory_equal(tape2, tape, tape_before);
    free(before), free(after), free(tape), free(tape2);
    assert_int_equal(news(f), 0);   /* staging hears nothing back */

    digest(f, d);   /* staging sends it again after a restore: nothing changes */
    assert_int_equal(erase_msg(f, "p1", "B2"), 0);
    assert_int_equal(erase_msg(f, "p1", "B1"), 0);
    assert_unchanged(f, d);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    log_open("test_service", 2, LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_listings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_and_bid, setup, teardown),
        cmocka_unit_test_setup_teardown(test_withdraw_and_award, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ties_and_unsold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_report_and_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_put_back_elsewhere, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_off_unsold_returns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_before_any_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_band_without_curve, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_answered_on_the_shard_that_listed_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_staging_principal_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_from_before_shards_answered_on_shard_0, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_erasure_drops_the_person_keeps_the_figures, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
