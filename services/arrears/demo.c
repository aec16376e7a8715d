/* demo: see demo.h. Each side is a thin loop around the shared delivery modules:
 * receiver = link + inbox/receiver + chain; sender = producer + outbox/sender + link. */
#include "demo.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "aclock.h"
#include "chain.h"
#include "link.h"
#include "log.h"
#include "outbox.h"
#include "receiver.h"
#include "sender.h"
#include "signals.h"
#include "store.h"
#include "zap.h"

demo_options_t demo_default_options(void)
{
    return (demo_options_t){
        .count = 100000, .window = 1000, .payload_bytes = 240, .map_mb = 64,
        .map_max_mb = 16384, .batch_max = 1000, .progress_every = 0,
    };
}

static int open_store(const demo_options_t *o, store_t **store)
{
    store_options_t so = store_default_options();
    so.map_size_bytes = o->map_mb << 20;
    so.map_max_bytes = o->map_max_mb << 20;
    int rc = store_open(store, o->data_dir, &so);
    if (rc != 0)
        fprintf(stderr, "arrears: cannot open the store in %s: %s\n", o->data_dir, store_strerror(rc));
    return rc;
}

static size_t answer_health(void *app, MDB_txn *txn, const receiver_peer_t *from,
                            const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    (void)app, (void)txn, (void)from;
    if (env->body_case != ARREARS__ENVELOPE__BODY_HEALTH_QUERY) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__UNKNOWN_TYPE,
                   "body", "the demo receiver answers only health queries");
        return 0;
    }
    Arrears__Health health = ARREARS__HEALTH__INIT;
    health.service = "demo-receiver";
    Arrears__Envelope reply = ARREARS__ENVELOPE__INIT;
    reply.has_request_id = 1;
    reply.request_id = env->request_id;
    reply.body_case = ARREARS__ENVELOPE__BODY_HEALTH;
    reply.health = &health;
    return envelope_pack(&reply, buf, cap);
}

typedef struct {
    void *ctx;
    zap_t *zap;
    void *router;
    store_t *store;
    inbox_t *inbox;
    chain_t *chain;
    receiver_t *receiver;
} receiver_side_t;

static void receiver_side_close(receiver_side_t *r)
{
    receiver_destroy(&r->receiver);
    chain_destroy(&r->chain);
    inbox_destroy(&r->inbox);
    store_destroy(&r->store);
    link_close(&r->router);
    zap_destroy(&r->zap);
    if (r->ctx)
        zmq_ctx_term(r->ctx);
}

static int receiver_side_open(const demo_options_t *o, receiver_side_t *r)
{
    char err[512] = "";
    int rc = 0;
    link_options_t lo = link_default_options();
    r->ctx = zmq_ctx_new();
    r->zap = zap_new(r->ctx, o->keys_file, &rc, err, sizeof err);
    if (r->zap)
        r->router = link_server_open(r->ctx, o->endpoint, o->key_file, &lo, err, sizeof err);
    if (!r->router) {
        fprintf(stderr, "arrears demo-receiver: %s\n", err);
        return -1;
    }
    rc = open_store(o, &r->store);
    rc = rc ? rc : inbox_open(r->store, &r->inbox);
    rc = rc ? rc : chain_open(r->store, &r->chain);
    if (rc != 0)
        return rc;
    receiver_limits_t rl = receiver_default_limits();
    rl.batch_max = o->batch_max;
    receiver_handler_t handler = { .apply = chain_apply, .query = answer_health };
    r->receiver = receiver_new(r->store, r->inbox, r->router, &rl, &handler, r->chain);
    return r->receiver ? 0 : ENOMEM;
}

int demo_receiver_main(const demo_options_t *o)
{
    log_open("demo-receiver", 2, LOG_INFO);
    signals_install();
    receiver_side_t r = { 0 };
    int rc = receiver_side_open(o, &r);
    while (rc == 0 && !signals_stop_requested()) {
        if (signals_take_reload()) {
            char err[512];
            zap_reload(r.zap, err, sizeof err);
        }
        zmq_pollitem_t item = { r.router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 200) > 0) {
            int taken = receiver_drain(r.receiver, aclock_monotonic_ms());
            rc = taken < 0 ? taken : 0;
        }
    }
    if (r.receiver) {
        const receiver_stats_t *s = receiver_stats(r.receiver);
        log_event(LOG_INFO, "receiver_stop", "applied=%llu duplicates=%llu gaps=%llu rejected=%llu "
                  "malformed=%llu batches=%llu store_full=%llu error=%d",
                  (unsigned long long)s->applied, (unsigned long long)s->duplicates,
                  (unsigned long long)s->gaps, (unsigned long long)s->rejected,
                  (unsigned long long)s->malformed, (unsigned long long)s->batches,
                  (unsigned long long)s->store_full, rc);
    }
    receiver_side_close(&r);
    return rc == 0 ? 0 : 1;
}

/* The producer's own state change, committed with its outbox appends. */
typedef struct {
    outbox_t *outbox;
    MDB_dbi produced_dbi;
    const demo_options_t *o;
    uint8_t *payload;
    uint64_t produced;
} producer_t;

static int read_produced(MDB_txn *txn, producer_t *p)
{
    MDB_val k = { 8, "produced" }, v;
    int rc = mdb_get(txn, p->produced_dbi, &k, &v);
    p->produced = rc == 0 && v.mv_size == 8 ? store_get_u64(v.mv_data) : 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int produce_batch(MDB_txn *txn, void *arg)
{
    producer_t *p = arg;
    int rc = read_produced(txn, p);
    uint64_t n = 0;
    while (rc == 0 && p->produced < p->o->count && n < 1000) {
        uint64_t number = p->produced + 1;
        chain_payload(number, p->payload, p->o->payload_bytes);
        Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
        item.has_number = 1;
        item.number = number;
        item.has_payload = 1;
        item.payload.data = p->payload;
        item.payload.len = p->o->payload_bytes;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
        env.demo_item = &item;
        rc = outbox_append(p->outbox, txn, &env, aclock_monotonic_ms(), NULL);
        if (rc == OUTBOX_EFULL && n > 0) {
            rc = 0;   /* commit what fitted; the rest waits for acks */
            break;
        }
        if (rc != 0)
            return rc;
        p->produced = number;
        n++;
    }
    if (rc != 0)
        return rc;
    uint8_t buf[8];
    store_put_u64(buf, p->produced);
    MDB_val k = { 8, "produced" }, v = { 8, buf };
    return mdb_put(txn, p->produced_dbi, &k, &v, 0);
}

typedef struct {
    void *ctx;
    void *dealer;
    store_t *store;
    outbox_t *outbox;
    sender_t *sender;
    producer_t producer;
} sender_side_t;

static void sender_side_close(sender_side_t *s)
{
    sender_destroy(&s->sender);
    outbox_destroy(&s->outbox);
    store_destroy(&s->store);
    link_close(&s->dealer);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
    free(s->producer.payload);
}

static int sender_side_open(const demo_options_t *o, sender_side_t *s)
{
    char err[512] = "";
    link_options_t lo = link_default_options();
    lo.queue_max_messages = (int)(o->window * 2 + 1000);
    s->ctx = zmq_ctx_new();
    s->dealer = link_client_open(s->ctx, o->endpoint, o->server_pub, o->key_file, &lo, err,
                                 sizeof err);
    if (!s->dealer) {
        fprintf(stderr, "arrears demo-sender: %s\n", err);
        return -1;
    }
    int rc;
    outbox_limits_t ol = outbox_default_limits();
    ol.max_unacked = o->window * 2;
    rc = open_store(o, &s->store);
    rc = rc ? rc : outbox_open(s->store, "demo", &ol, &s->outbox);
    rc = rc ? rc : store_table(s->store, "demo.producer", 0, &s->producer.produced_dbi);
    if (rc != 0)
        return rc;
    s->producer.outbox = s->outbox;
    s->producer.o = o;
    s->producer.payload = malloc(o->payload_bytes ? o->payload_bytes : 1);
    sender_limits_t sl = sender_default_limits();
    sl.window = o->window;
    s->sender = sender_new(s->store, s->outbox, s->dealer, &sl);
    return s->sender && s->producer.payload ? 0 : ENOMEM;
}

static int sender_step(sender_side_t *s, const demo_options_t *o)
{
    int64_t now = aclock_monotonic_ms();
    int rc = 0;
    if (s->producer.produced < o->count) {
        rc = store_write(s->store, produce_batch, &s->producer);
        if (rc == OUTBOX_EFULL)
            rc = 0;
    }
    rc = rc ? rc : sender_pump(s->sender, now);
    if (rc != 0)
        return rc;
    int64_t wait = sender_wait_ms(s->sender, now);
    if (s->producer.produced < o->count && sender_unacked(s->sender) < o->window)
        wait = 0;
    zmq_pollitem_t item = { s->dealer, 0, ZMQ_POLLIN, 0 };
    zmq_poll(&item, 1, (long)wait);
    return sender_read_replies(s->sender, aclock_monotonic_ms());
}

static void report_progress(const sender_t *sender, uint64_t *reported, int every)
{
    uint64_t acked = sender_stats(sender)->acked;
    if (every <= 0 || acked < *reported + (uint64_t)every)
        return;
    *reported = acked - acked % (uint64_t)every;
    printf("progress acked=%llu\n", (unsigned long long)acked);
    fflush(stdout);
}

int demo_sender_main(const demo_options_t *o)
{
    log_open("demo-sender", 2, LOG_INFO);
    signals_install();
    sender_side_t s = { 0 };
    int rc = sender_side_open(o, &s);
    uint64_t reported = 0;
    while (rc == 0 && !signals_stop_requested()) {
        rc = sender_step(&s, o);
        report_progress(s.sender, &reported, o->progress_every);
        if (s.producer.produced >= o->count && sender_unacked(s.sender) == 0)
            break;
    }
    if (s.sender) {
        rc = rc ? rc : sender_flush(s.sender, aclock_monotonic_ms());
        const sender_stats_t *st = sender_stats(s.sender);
        log_event(LOG_INFO, "sender_stop", "produced=%llu acked=%llu sent=%llu resent=%llu "
                  "timeouts=%llu rewinds=%llu retry_laters=%llu dead_lettered=%llu error=%d",
                  (unsigned long long)s.producer.produced, (unsigned long long)st->acked,
                  (unsigned long long)st->sent, (unsigned long long)st->resent,
                  (unsigned long long)st->timeouts, (unsigned long long)st->rewinds,
                  (unsigned long long)st->retry_laters, (unsigned long long)st->dead_lettered, rc);
    }
    int done = s.producer.produced >= o->count && s.sender && sender_unacked(s.sender) == 0;
    sender_side_close(&s);
    return rc == 0 && done ? 0 : (rc == 0 ? 3 : 1);
}
