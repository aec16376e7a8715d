/* sales: the sale service's durable state (see sales.h). */
#include "sales.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"

struct sales {
    crypt_t *crypt;
    MDB_dbi listed, listings, waiting, portfolios, members, bids, files, pseudonyms, due, meta;
    uint8_t plain[SALES_RECORD_MAX];
    uint8_t sealed[SALES_RECORD_MAX + CRYPT_OVERHEAD_BYTES];
};

int sales_open(store_t *store, crypt_t *crypt, sales_t **self_p)
{
    sales_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->crypt = crypt;
    int rc = store_table(store, "sale.listed", 0, &self->listed);
    rc = rc ? rc : store_table(store, "sale.listings", 0, &self->listings);
    rc = rc ? rc : store_table(store, "sale.waiting", 0, &self->waiting);
    rc = rc ? rc : store_table(store, "sale.portfolios", 0, &self->portfolios);
    rc = rc ? rc : store_table(store, "sale.members", 0, &self->members);
    rc = rc ? rc : store_table(store, "sale.bids", 0, &self->bids);
    rc = rc ? rc : store_table(store, "sale.files", 0, &self->files);
    rc = rc ? rc : store_table(store, "sale.pseudonyms", 0, &self->pseudonyms);
    rc = rc ? rc : store_table(store, "sale.due", 0, &self->due);
    rc = rc ? rc : store_table(store, "sale.meta", 0, &self->meta);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void sales_destroy(sales_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

const char *sales_strerror(int code)
{
    switch (code) {
    case SALES_OK: return "ok";
    case SALES_ECORRUPT: return "a stored sale record does not decode or open";
    case SALES_ETOO_LARGE: return "a sale record or file over its limit";
    case SALES_EKEY: return "an id or key over its limit";
    default: return code > 0 || code <= MDB_KEYEXIST ? store_strerror(code) : crypt_strerror(code);
    }
}

int sales_meta_get(sales_t *self, MDB_txn *txn, const char *name, uint64_t dflt, uint64_t *out)
{
    return store_get_named_u64(txn, self->meta, name, dflt, out);
}

int sales_meta_put(sales_t *self, MDB_txn *txn, const char *name, uint64_t value)
{
    return store_put_named_u64(txn, self->meta, name, value);
}

int sales_account_key(const char *platform, const char *account_ref,
                      char key[SALES_ACCOUNT_KEY_MAX + 1])
{
    int n = snprintf(key, SALES_ACCOUNT_KEY_MAX + 1, "%s/%s", platform ? platform : "",
                     account_ref ? account_ref : "");
    return n < 0 || n > SALES_ACCOUNT_KEY_MAX ? SALES_EKEY : 0;
}

/* [a]\0[b] into key; its length, 0 when it does not fit. */
static size_t pair_key(const char *a, const char *b, uint8_t *key, size_t cap)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na + 1 + nb > cap)
        return 0;
    memcpy(key, a, na);
    key[na] = 0;
    memcpy(key + na + 1, b, nb);
    return na + 1 + nb;
}

/* ---------------------------------------------------------------- protobuf records */

static int put_record(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, const ProtobufCMessage *m)
{
    size_t len = protobuf_c_message_get_packed_size(m);
    MDB_val v = {len, NULL};
    int rc = mdb_put(txn, dbi, k, &v, MDB_RESERVE);
    if (rc == 0)
        protobuf_c_message_pack(m, v.mv_data);
    return rc;
}

/* *out NULL when absent. */
static int get_record(MDB_txn *txn, MDB_dbi dbi, MDB_val *k,
                      const ProtobufCMessageDescriptor *d, ProtobufCMessage **out)
{
    *out = NULL;
    MDB_val v;
    int rc = mdb_get(txn, dbi, k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    *out = protobuf_c_message_unpack(d, NULL, v.mv_size, v.mv_data);
    return *out ? 0 : SALES_ECORRUPT;
}

/* ---------------------------------------------------------------- listed accounts */

int sales_listed_get(sales_t *self, MDB_txn *txn, const char *account_key, StoredListed **out)
{
    MDB_val k = {strlen(account_key), (void *)account_key};
    return get_record(txn, self->listed, &k, &arrears__stored_listed__descriptor,
                      (ProtobufCMessage **)out);
}

/* <plan>/<cut>\0<listed_order> */
static size_t waiting_key(const StoredListed *l, uint8_t key[SALES_ID_MAX + SALES_CUT_MAX + 10])
{
    int n = snprintf((char *)key, SALES_ID_MAX + SALES_CUT_MAX + 1, "%s/%s", l->plan ? l->plan : "",
                     l->cut ? l->cut : "");
    if (n < 0 || n > SALES_ID_MAX + SALES_CUT_MAX)
        return 0;
    key[n] = 0;
    store_put_u64(key + n + 1, l->listed_order);
    return (size_t)n + 9;
}

static int index_waiting(sales_t *self, MDB_txn *txn, const StoredListed *l, bool add)
{
    if (!l || l->state != ARREARS__LISTED_STATE__LISTED_WAITING)
        return 0;
    uint8_t key[SALES_ID_MAX + SALES_CUT_MAX + 10];
    MDB_val k = {waiting_key(l, key), key};
    if (k.mv_size == 0)
        return SALES_EKEY;
    char account[SALES_ACCOUNT_KEY_MAX + 1];
    int rc = sales_account_key(l->platform, l->account_ref, account);
    MDB_val v = {strlen(account), account};
    if (rc != 0)
        return rc;
    rc = add ? mdb_put(txn, self->waiting, &k, &v, 0) : mdb_del(txn, self->waiting, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int sales_listed_put(sales_t *self, MDB_txn *txn, const StoredListed *before,
                     const StoredListed *after)
{
    char account[SALES_ACCOUNT_KEY_MAX + 1];
    int rc = sales_account_key(after->platform, after->account_ref, account);
    MDB_val k = {strlen(account), account};
    rc = rc ? rc : index_waiting(self, txn, before, false);
    rc = rc ? rc : index_waiting(self, txn, after, true);
    return rc ? rc : put_record(txn, self->listed, &k, &after->base);
}

int sales_listing_put(sales_t *self, MDB_txn *txn, const char *account_key, const SaleListing *l)
{
    size_t len = arrears__sale_listing__get_packed_size(l), sealed_len = 0;
    if (len > SALES_RECORD_MAX)
        return SALES_ETOO_LARGE;
    arrears__sale_listing__pack(l, self->plain);
    int rc = crypt_seal(self->crypt, self->plain, len, self->sealed, sizeof self->sealed,
                        &sealed_len);
    MDB_val k = {strlen(account_key), (void *)account_key}, v = {sealed_len, self->sealed};
    return rc ? rc : mdb_put(txn, self->listings, &k, &v, 0);
}

int sales_listing_get(sales_t *self, MDB_txn *txn, const char *account_key, SaleListing **out)
{
    *out = NULL;
    MDB_val k = {strlen(account_key), (void *)account_key}, v;
    size_t len = 0;
    int rc = mdb_get(txn, self->listings, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    rc = rc ? rc : crypt_open(self->crypt, v.mv_data, v.mv_size, self->plain, sizeof self->plain,
                              &len);
    if (rc == CRYPT_EFORGED)
        return SALES_ECORRUPT;
    if (rc == 0) {
        *out = arrears__sale_listing__unpack(NULL, len, self->plain);
        rc = *out ? 0 : SALES_ECORRUPT;
    }
    return rc;
}

/* ---------------------------------------------------------------- waiting cuts */

typedef struct {
    size_t prefix_len;
    char cut[SALES_CUT_MAX + 1];
    size_t count;
    sales_cut_fn *visit;
    void *arg;
} cut_walk_t;

static int count_cut(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)v;
    cut_walk_t *w = arg;
    const char *key = (const char *)k->mv_data + w->prefix_len;
    size_t n = k->mv_size - w->prefix_len;
    if (n < 9 || n - 9 > SALES_CUT_MAX)
        return SALES_ECORRUPT;
    size_t cut_len = n - 9;
    if (w->count > 0 && (strlen(w->cut) != cut_len || memcmp(w->cut, key, cut_len) != 0)) {
        int rc = w->visit(w->cut, w->count, w->arg);
        if (rc != 0)
            return rc;
        w->count = 0;
    }
    memcpy(w->cut, key, cut_len);
    w->cut[cut_len] = '\0';
    w->count++;
    return 0;
}

int sales_waiting_cuts(sales_t *self, MDB_txn *txn, const char *plan, sales_cut_fn *visit,
                       void *arg)
{
    char prefix[SALES_ID_MAX + 2];
    int n = snprintf(prefix, sizeof prefix, "%s/", plan);
    if (n < 0 || (size_t)n >= sizeof prefix)
        return SALES_EKEY;
    cut_walk_t w = {.prefix_len = (size_t)n, .visit = visit, .arg = arg};
    int rc = store_scan(txn, self->waiting, prefix, (size_t)n, NULL, 0, count_cut, &w);
    rc = rc == 0 && w.count > 0 ? visit(w.cut, w.count, arg) : rc;
    return rc == STORE_STOP ? 0 : rc;   /* the visitor had enough: not an error */
}

typedef struct {
    char (*keys)[SALES_ACCOUNT_KEY_MAX + 1];
    size_t max, *n;
} key_walk_t;

static int take_value_key(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)k;
    key_walk_t *w = arg;
    if (*w->n >= w->max)
        return STORE_STOP;
    if (v->mv_size > SALES_ACCOUNT_KEY_MAX)
        return SALES_ECORRUPT;
    memcpy(w->keys[*w->n], v->mv_data, v->mv_size);
    w->keys[(*w->n)++][v->mv_size] = '\0';
    return 0;
}

int sales_waiting(sales_t *self, MDB_txn *txn, const char *plan, const char *cut, size_t max,
                  char (*keys)[SALES_ACCOUNT_KEY_MAX + 1], size_t *n)
{
    *n = 0;
    uint8_t prefix[SALES_ID_MAX + SALES_CUT_MAX + 3];
    int len = snprintf((char *)prefix, sizeof prefix, "%s/%s", plan, cut);
    if (len < 0 || (size_t)len + 1 >= sizeof prefix)
        return SALES_EKEY;
    key_walk_t w = {keys, max, n};
    return store_scan(txn, self->waiting, prefix, (size_t)len + 1, NULL, 0, take_value_key, &w);
}

/* ---------------------------------------------------------------- portfolios */

int sales_portfolio_get(sales_t *self, MDB_txn *txn, const char *id, StoredPortfolio **out)
{
    MDB_val k = {strlen(id), (void *)id};
    return get_record(txn, self->portfolios, &k, &arrears__stored_portfolio__descriptor,
                      (ProtobufCMessage **)out);
}

static int index_due(sales_t *self, MDB_txn *txn, const StoredPortfolio *p, bool add)
{
    if (!p || p->state != ARREARS__PORTFOLIO_STATE__PORTFOLIO_BIDDING)
        return 0;
    uint8_t key[8 + SALES_ID_MAX];
    size_t n = strlen(p->portfolio_id);
    if (n > SALES_ID_MAX)
        return SALES_EKEY;
    store_put_u64(key, (uint64_t)p->deadline_ms);
    memcpy(key + 8, p->portfolio_id, n);
    MDB_val k = {8 + n, key}, v = {0, ""};
    int rc = add ? mdb_put(txn, self->due, &k, &v, 0) : mdb_del(txn, self->due, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int sales_portfolio_put(sales_t *self, MDB_txn *txn, const StoredPortfolio *before,
                        const StoredPortfolio *after)
{
    MDB_val k = {strlen(after->portfolio_id), after->portfolio_id};
    if (k.mv_size > SALES_ID_MAX)
        return SALES_EKEY;
    if (protobuf_c_message_get_packed_size(&after->base) > SALES_RECORD_MAX)
        return SALES_ETOO_LARGE;
    int rc = index_due(self, txn, before, false);
    rc = rc ? rc : index_due(self, txn, after, true);
    return rc ? rc : put_record(txn, self->portfolios, &k, &after->base);
}

int sales_next_portfolio_id(sales_t *self, MDB_txn *txn, const char *plan,
                            char id[SALES_ID_MAX + 1])
{
    uint64_t next = 0;
    int rc = sales_meta_get(self, txn, "next_portfolio", 1, &next);
    rc = rc ? rc : sales_meta_put(self, txn, "next_portfolio", next + 1);
    int n = snprintf(id, SALES_ID_MAX + 1, "%s-%06llu", plan, (unsigned long long)next);
    return rc ? rc : n < 0 || n > SALES_ID_MAX ? SALES_EKEY : 0;
}

typedef struct {
    int64_t now_ms;
    char (*ids)[SALES_ID_MAX + 1];
    size_t max, *n;
} due_walk_t;

static int take_due(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)v;
    due_walk_t *w = arg;
    if (k->mv_size < 9 || k->mv_size - 8 > SALES_ID_MAX)
        return SALES_ECORRUPT;
    if (*w->n >= w->max || (int64_t)store_get_u64(k->mv_data) > w->now_ms)
        return STORE_STOP;
    memcpy(w->ids[*w->n], (const uint8_t *)k->mv_data + 8, k->mv_size - 8);
    w->ids[(*w->n)++][k->mv_size - 8] = '\0';
    return 0;
}

int sales_due(sales_t *self, MDB_txn *txn, int64_t now_ms, size_t max,
              char (*ids)[SALES_ID_MAX + 1], size_t *n)
{
    *n = 0;
    due_walk_t w = {now_ms, ids, max, n};
    return store_scan(txn, self->due, NULL, 0, NULL, 0, take_due, &w);
}

static int first_due(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)v;
    if (k->mv_size < 8)
        return SALES_ECORRUPT;
    *(int64_t *)arg = (int64_t)store_get_u64(k->mv_data);
    return STORE_STOP;
}

int sales_next_due(sales_t *self, MDB_txn *txn, int64_t *due_ms)
{
    *due_ms = INT64_MAX;
    return store_scan(txn, self->due, NULL, 0, NULL, 0, first_due, due_ms);
}

/* ---------------------------------------------------------------- members */

int sales_member_add(sales_t *self, MDB_txn *txn, const char *id, const char *account_key)
{
    uint8_t key[SALES_ID_MAX + 1 + SALES_ACCOUNT_KEY_MAX];
    MDB_val k = {pair_key(id, account_key, key, sizeof key), key}, v = {0, ""};
    return k.mv_size ? mdb_put(txn, self->members, &k, &v, 0) : SALES_EKEY;
}

typedef struct {
    size_t prefix_len;
    sales_key_fn *visit;
    void *arg;
} member_walk_t;

static int visit_member(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)v;
    member_walk_t *w = arg;
    char key[SALES_ACCOUNT_KEY_MAX + 1];
    size_t n = k->mv_size - w->prefix_len;
    if (n > SALES_ACCOUNT_KEY_MAX)
        return SALES_ECORRUPT;
    memcpy(key, (const char *)k->mv_data + w->prefix_len, n);
    key[n] = '\0';
    return w->visit(key, w->arg);
}

int sales_each_member(sales_t *self, MDB_txn *txn, const char *id, sales_key_fn *visit,
                      void *arg)
{
    uint8_t prefix[SALES_ID_MAX + 1];
    size_t plen = pair_key(id, "", prefix, sizeof prefix);
    if (plen == 0)
        return SALES_EKEY;
    member_walk_t w = {plen, visit, arg};
    return store_scan(txn, self->members, prefix, plen, NULL, 0, visit_member, &w);
}

/* ---------------------------------------------------------------- bids */

int sales_bid_get(sales_t *self, MDB_txn *txn, const char *id, const char *buyer, StoredBid **out)
{
    uint8_t key[SALES_ID_MAX + 1 + 64];
    MDB_val k = {pair_key(id, buyer, key, sizeof key), key};
    *out = NULL;
    return k.mv_size ? get_record(txn, self->bids, &k, &arrears__stored_bid__descriptor,
                                  (ProtobufCMessage **)out)
                     : SALES_EKEY;
}

int sales_bid_put(sales_t *self, MDB_txn *txn, const StoredBid *bid)
{
    uint8_t key[SALES_ID_MAX + 1 + 64];
    MDB_val k = {pair_key(bid->portfolio_id, bid->buyer, key, sizeof key), key};
    return k.mv_size ? put_record(txn, self->bids, &k, &bid->base) : SALES_EKEY;
}

typedef struct {
    sales_bid_fn *visit;
    void *arg;
} bid_walk_t;

static int visit_bid(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)k;
    bid_walk_t *w = arg;
    StoredBid *b = arrears__stored_bid__unpack(NULL, v->mv_size, v->mv_data);
    if (!b)
        return SALES_ECORRUPT;
    int rc = w->visit(b, w->arg);
    arrears__stored_bid__free_unpacked(b, NULL);
    return rc;
}

int sales_bids(sales_t *self, MDB_txn *txn, const char *id, sales_bid_fn *visit, void *arg)
{
    uint8_t prefix[SALES_ID_MAX + 1];
    size_t plen = pair_key(id, "", prefix, sizeof prefix);
    bid_walk_t w = {visit, arg};
    return plen ? store_scan(txn, self->bids, prefix, plen, NULL, 0, visit_bid, &w) : SALES_EKEY;
}

/* ---------------------------------------------------------------- files, pseudonyms */

int sales_file_put(sales_t *self, MDB_txn *txn, const char *id, const uint8_t *data, size_t len)
{
    if (len > SALES_FILE_MAX)
        return SALES_ETOO_LARGE;
    MDB_val k = {strlen(id), (void *)id}, v = {len, (void *)data};
    return mdb_put(txn, self->files, &k, &v, 0);
}

int sales_file_drop(sales_t *self, MDB_txn *txn, const char *id, bool *dropped)
{
    MDB_val k = {strlen(id), (void *)id};
    int rc = mdb_del(txn, self->files, &k, NULL);
    *dropped = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int sales_file_get(sales_t *self, MDB_txn *txn, const char *id, const uint8_t **data, size_t *len)
{
    MDB_val k = {strlen(id), (void *)id}, v;
    *data = NULL;
    *len = 0;
    int rc = mdb_get(txn, self->files, &k, &v);
    if (rc == 0) {
        *data = v.mv_data;
        *len = v.mv_size;
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int sales_pseudonym_put(sales_t *self, MDB_txn *txn, const char *id, const char *pseudonym,
                        const char *account_key)
{
    uint8_t key[SALES_ID_MAX + 1 + 64];
    MDB_val k = {pair_key(id, pseudonym, key, sizeof key), key};
    MDB_val v = {strlen(account_key), (void *)account_key};
    return k.mv_size ? mdb_put(txn, self->pseudonyms, &k, &v, 0) : SALES_EKEY;
}

int sales_pseudonym_get(sales_t *self, MDB_txn *txn, const char *id, const char *pseudonym,
                        char account_key[SALES_ACCOUNT_KEY_MAX + 1])
{
    uint8_t key[SALES_ID_MAX + 1 + 64];
    MDB_val k = {pair_key(id, pseudonym, key, sizeof key), key}, v;
    account_key[0] = '\0';
    if (k.mv_size == 0)
        return 0;   /* longer than any pseudonym: not one */
    int rc = mdb_get(txn, self->pseudonyms, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0 && v.mv_size > SALES_ACCOUNT_KEY_MAX)
        return SALES_ECORRUPT;
    if (rc == 0) {
        memcpy(account_key, v.mv_data, v.mv_size);
        account_key[v.mv_size] = '\0';
    }
    return rc;
}

/* ---------------------------------------------------------------- walks, dump */

typedef struct {
    sales_portfolio_fn *portfolio;
    sales_listed_fn *listed;
    void *arg;
} record_walk_t;

static int visit_portfolio(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)k;
    record_walk_t *w = arg;
    StoredPortfolio *p = arrears__stored_portfolio__unpack(NULL, v->mv_size, v->mv_data);
    if (!p)
        return SALES_ECORRUPT;
    int rc = w->portfolio(p, w->arg);
    arrears__stored_portfolio__free_unpacked(p, NULL);
    return rc;
}

static int visit_listed(const MDB_val *k, const MDB_val *v, void *arg)
{
    (void)k;
    record_walk_t *w = arg;
    StoredListed *l = arrears__stored_listed__unpack(NULL, v->mv_size, v->mv_data);
    if (!l)
        return SALES_ECORRUPT;
    int rc = w->listed(l, w->arg);
    arrears__stored_listed__free_unpacked(l, NULL);
    return rc;
}

int sales_each_portfolio(sales_t *self, MDB_txn *txn, sales_portfolio_fn *visit, void *arg)
{
    record_walk_t w = {.portfolio = visit, .arg = arg};
    return store_scan(txn, self->portfolios, NULL, 0, NULL, 0, visit_portfolio, &w);
}

int sales_each_listed(sales_t *self, MDB_txn *txn, sales_listed_fn *visit, void *arg)
{
    record_walk_t w = {.listed = visit, .arg = arg};
    return store_scan(txn, self->listed, NULL, 0, NULL, 0, visit_listed, &w);
}

typedef struct {
    FILE *out;
    sales_t *self;
    MDB_txn *txn;
} dump_t;

static int dump_line(FILE *out, const char *table, const char *field, const ProtobufCMessage *m)
{
    fprintf(out, "{\"table\":\"%s\",\"%s\":", table, field);
    int rc = pbjson_print(out, m);
    fputs("}\n", out);
    return rc;
}

static int dump_bid(const StoredBid *b, void *arg)
{
    return dump_line(((dump_t *)arg)->out, "bid", "bid", &b->base);
}

static int dump_portfolio(const StoredPortfolio *p, void *arg)
{
    dump_t *d = arg;
    int rc = dump_line(d->out, "portfolio", "portfolio", &p->base);
    return rc ? rc : sales_bids(d->self, d->txn, p->portfolio_id, dump_bid, d);
}

static int dump_listed(const StoredListed *l, void *arg)
{
    return dump_line(((dump_t *)arg)->out, "listed", "listed", &l->base);
}

int sales_dump(sales_t *self, MDB_txn *txn, FILE *out)
{
    dump_t d = {out, self, txn};
    int rc = sales_each_listed(self, txn, dump_listed, &d);
    return rc ? rc : sales_each_portfolio(self, txn, dump_portfolio, &d);
}
