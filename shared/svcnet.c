/* svcnet: a service's sockets, senders and receiver, stepped together (see svcnet.h). */
#include "svcnet.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "deadletters.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "sender.h"

_Static_assert(DEADLETTERS_OUTBOXES_MAX >= SVCNET_MAX_PEERS,
               "every peer's outbox is listed for its dead letters");

/* The series svcnet publishes (metrics.h lists them); -1: a reject code not seen yet. */
typedef struct {
    int received, applied, duplicate, rejected, malformed, queries, batches;
    int reject_code[RECEIVER_REJECT_CODES];
    int appended[SVCNET_MAX_PEERS], acked[SVCNET_MAX_PEERS], unacked[SVCNET_MAX_PEERS],
        dead[SVCNET_MAX_PEERS];
    int map_used, map_size, apply, query, sweep, clock;
    metrics_process_t process;
} series_t;

/* A driven service's turn (svcnet.h). */
typedef enum {
    TURN_NONE,       /* what it appends waits */
    TURN_ASKED,      /* an operator's message is being worked (busy so far) */
    TURN_ANSWERED,   /* answered: the turn ends once nothing is unacknowledged */
} turn_t;

struct svcnet {
    void *ctx;
    zap_t *zap;
    void *router;
    size_t peer_count;
    void *dealer[SVCNET_MAX_PEERS];
    sender_t *sender[SVCNET_MAX_PEERS];
    outbox_t *outbox[SVCNET_MAX_PEERS];
    receiver_t *receiver;
    store_t *store;
    metrics_t *metrics;       /* NULL: no metrics endpoint */
    series_t series;
    int64_t store_published_ms;
    /* The service's handler, behind svcnet's own dispatch (dead letters first). */
    receiver_handler_t service;
    void *service_app;
    deadletters_t *dead;
    crypt_t *dead_key;        /* opens sealed dead letters; NULL: clear ones only */
    int64_t now_ms;           /* the service's clock at this drain */
    bool driven;              /* sends only in its turn (svcnet.h) */
    turn_t turn;
};

/* The at-rest key svcnet_secret_open() last opened in this process: every service
 * opens its key there, and a process is one service, so svcnet_new() finds it without
 * each service passing it on (a copy of its own, for the dead letters). */
static char secret_path[SVCCONF_PATH_MAX];

void svcnet_destroy(svcnet_t **self_p)
{
    svcnet_t *self = *self_p;
    if (!self)
        return;
    metrics_destroy(&self->metrics);   /* the HTTP thread first: it reads nothing else */
    receiver_destroy(&self->receiver);
    deadletters_destroy(&self->dead);
    crypt_destroy(&self->dead_key);
    for (size_t i = 0; i < self->peer_count; i++) {
        sender_destroy(&self->sender[i]);
        link_close(&self->dealer[i]);
    }
    link_close(&self->router);
    zap_destroy(&self->zap);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self);
    *self_p = NULL;
}

static int open_sockets(svcnet_t *self, const svcnet_spec_t *spec, char *err, size_t err_len)
{
    const svcconf_t *c = spec->svc;
    int rc = 0;
    self->zap = zap_new(self->ctx, c->allowed_path, &rc, err, err_len);
    if (self->zap)   /* the handler first: a CURVE socket bound without it admits every key */
        self->router = link_server_open(self->ctx, spec->listen, c->key_path, &c->link, err,
                                        err_len);
    if (!self->router)
        return -1;
    for (size_t i = 0; i < spec->peer_count; i++) {
        self->dealer[i] = link_client_open(self->ctx, spec->peers[i].endpoint,
                                           spec->peers[i].public_path, c->key_path, &c->link,
                                           err, err_len);
        if (!self->dealer[i])
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- metrics */

static int add(metrics_t *m, metrics_kind_t kind, const char *name, const char *help,
               const char *label, const char *value, int *id)
{
    metrics_label_t l = {label, value};
    return metrics_add(m, kind, name, help, &l, label ? 1 : 0, id);
}

static int add_messages(svcnet_t *self)
{
    metrics_t *m = self->metrics;
    series_t *s = &self->series;
    const char *h = "Stream messages by what became of them";
    int rc = add(m, METRICS_COUNTER, "arrears_messages_received_total",
                 "Messages taken off the socket", NULL, NULL, &s->received);
    rc = rc ? rc : add(m, METRICS_COUNTER, "arrears_messages_total", h, "outcome", "applied", &s->applied);
    rc = rc ? rc : add(m, METRICS_COUNTER, "arrears_messages_total", h, "outcome", "duplicate", &s->duplicate);
    rc = rc ? rc : add(m, METRICS_COUNTER, "arrears_messages_total", h, "outcome", "rejected", &s->rejected);
    rc = rc ? rc : add(m, METRICS_COUNTER, "arrears_messages_total", h, "outcome", "malformed", &s->malformed);
    rc = rc ? rc : add(m, METRICS_COUNTER, "arrears_queries_total", "Queries answered", NULL, NULL,
                       &s->queries);
    rc = rc ? rc : add(m, METRICS_COUNTER, "arrears_batches_total",
                       "Group commits (one write transaction each)", NULL, NULL, &s->batches);
    for (int i = 0; i < RECEIVER_REJECT_CODES; i++)
        s->reject_code[i] = -1;
    return rc;
}

static int add_outboxes(svcnet_t *self)
{
    metrics_t *m = self->metrics;
    series_t *s = &self->series;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->peer_count; i++) {
        const char *o = outbox_name(self->outbox[i]);
        rc = add(m, METRICS_GAUGE, "arrears_outbox_appended_messages",
                 "Messages ever appended to the outbox (its last seq)", "outbox", o, &s->appended[i]);
        rc = rc ? rc : add(m, METRICS_GAUGE, "arrears_outbox_acknowledged_messages",
                           "Messages the peer acknowledged", "outbox", o, &s->acked[i]);
        rc = rc ? rc : add(m, METRICS_GAUGE, "arrears_outbox_unacknowledged_messages",
                           "Messages sent and not yet acknowledged", "outbox", o, &s->unacked[i]);
        rc = rc ? rc : add(m, METRICS_GAUGE, "arrears_outbox_dead_letters_messages",
                           "Messages the peer refused for good", "outbox", o, &s->dead[i]);
    }
    return rc;
}

static int add_process(svcnet_t *self)
{
    metrics_t *m = self->metrics;
    series_t *s = &self->series;
    int rc = add(m, METRICS_GAUGE, "arrears_store_map_used_bytes",
                 "The LMDB map up to its last page in use (its high-water mark)",
                 NULL, NULL, &s->map_used);
    rc = rc ? rc : add(m, METRICS_GAUGE, "arrears_store_map_size_bytes", "The LMDB map's size",
                       NULL, NULL, &s->map_size);
    rc = rc ? rc : add(m, METRICS_HISTOGRAM, "arrears_apply_duration_seconds",
                       "One batch's write transaction, commit included", NULL, NULL, &s->apply);
    rc = rc ? rc : add(m, METRICS_HISTOGRAM, "arrears_query_duration_seconds",
                       "One query's answer", NULL, NULL, &s->query);
    rc = rc ? rc : add(m, METRICS_HISTOGRAM, "arrears_sweep_duration_seconds",
                       "The service's periodic work (staging: a daily-run chunk)", NULL, NULL, &s->sweep);
    rc = rc ? rc : add(m, METRICS_GAUGE, "arrears_clock_milliseconds",
                       "The service's clock, simulated or wall (ms since 1970)", NULL, NULL, &s->clock);
    return rc ? rc : metrics_process_add(m, &s->process);
}

static void on_timed(void *arg, receiver_timed_t what, int64_t elapsed_us)
{
    svcnet_t *self = arg;
    metrics_observe_us(self->metrics, what == RECEIVER_TIMED_BATCH ? self->series.apply
                                                                    : self->series.query,
                       elapsed_us);
}

static int open_metrics(svcnet_t *self, const svcnet_spec_t *spec, char *err, size_t err_len)
{
    assert(spec->service);
    self->metrics = metrics_new(spec->service);
    int rc = self->metrics ? 0 : METRICS_ENOMEM;
    rc = rc ? rc : add_messages(self);
    rc = rc ? rc : add_outboxes(self);
    rc = rc ? rc : add_process(self);
    int port = 0;
    rc = rc ? rc : metrics_serve(self->metrics, spec->svc->metrics_listen, SVCNET_STALE_MS, &port);
    if (rc != 0) {
        snprintf(err, err_len, "metrics on %s: %s", spec->svc->metrics_listen, metrics_strerror(rc));
        return rc;
    }
    receiver_set_timer(self->receiver, on_timed, self);
    log_event(LOG_INFO, "metrics_listen", "address=%s port=%d", spec->svc->metrics_listen, port);
    return 0;
}

static int publish_store(MDB_txn *txn, void *arg)
{
    svcnet_t *self = arg;
    series_t *s = &self->series;
    for (size_t i = 0; i < self->peer_count; i++) {
        outbox_state_t o;
        int rc = outbox_state(self->outbox[i], txn, &o);
        if (rc != 0)
            return rc;
        metrics_gauge_set(self->metrics, s->appended[i], (int64_t)o.last_seq);
        metrics_gauge_set(self->metrics, s->acked[i], (int64_t)o.acked_known);
        metrics_gauge_set(self->metrics, s->unacked[i], (int64_t)sender_unacked(self->sender[i]));
        metrics_gauge_set(self->metrics, s->dead[i], (int64_t)o.dead_letters);
    }
    MDB_envinfo info;
    MDB_stat stat;
    MDB_env *env = mdb_txn_env(txn);
    if (mdb_env_info(env, &info) == 0 && mdb_env_stat(env, &stat) == 0)
        metrics_gauge_set(self->metrics, s->map_used, (int64_t)((info.me_last_pgno + 1) * stat.ms_psize));
    metrics_gauge_set(self->metrics, s->map_size, (int64_t)store_map_size(self->store));
    return 0;
}

/* Reject codes get their series when first seen: a service shows the ones it met. */
static void publish_rejects(svcnet_t *self, const receiver_stats_t *r)
{
    for (int i = 0; i < RECEIVER_REJECT_CODES; i++) {
        int *id = &self->series.reject_code[i];
        if (r->rejected_by_code[i] == 0)
            continue;
        if (*id < 0 && add(self->metrics, METRICS_COUNTER, "arrears_rejects_total",
                           "Messages refused for good, by Reject code", "code",
                           reject_code_name((Arrears__Reject__Code)i), id) != 0)
            continue;   /* over the series limit: the total still counts it */
        metrics_counter_set(self->metrics, *id, r->rejected_by_code[i]);
    }
}

/* After a step: the modules' own counts, and the store's state now and then. */
static void publish(svcnet_t *self, const aclock_t *clock, bool ready)
{
    metrics_t *m = self->metrics;
    const series_t *s = &self->series;
    const receiver_stats_t *r = receiver_stats(self->receiver);
    metrics_counter_set(m, s->received, r->received);
    metrics_counter_set(m, s->applied, r->applied);
    metrics_counter_set(m, s->duplicate, r->duplicates);
    metrics_counter_set(m, s->rejected, r->rejected);
    metrics_counter_set(m, s->malformed, r->malformed);
    metrics_counter_set(m, s->queries, r->queries);
    metrics_counter_set(m, s->batches, r->batches);
    publish_rejects(self, r);
    metrics_process_publish(m, &s->process);
    metrics_gauge_set(m, s->clock, aclock_now_ms(clock));
    int64_t now = aclock_monotonic_ms();
    if (now - self->store_published_ms >= SVCNET_PUBLISH_MS &&
        store_read(self->store, publish_store, self) == 0)
        self->store_published_ms = now;
    metrics_beat(m, ready);
}

void svcnet_sweep_took(svcnet_t *self, int64_t elapsed_us)
{
    if (self && self->metrics)
        metrics_observe_us(self->metrics, self->series.sweep, elapsed_us);
}

void svcnet_reloaded(svcnet_t *self, bool ok)
{
    if (self && self->metrics)
        metrics_process_reloaded(self->metrics, &self->series.process, ok);
}

/* ---------------------------------------------------------------- dispatch */

bool svcnet_in_turn(const svcnet_t *self)
{
    return !self->driven || self->turn != TURN_NONE;
}

/* Every message appended, this transaction's included, acknowledged by its receiver?
 * (A service's own count of the unacknowledged is its senders': they learn of an append
 * only when they next pump.) */
static int drained(svcnet_t *self, MDB_txn *txn, bool *all)
{
    *all = true;
    for (size_t i = 0; i < self->peer_count && *all; i++) {
        outbox_state_t st;
        int rc = outbox_state(self->outbox[i], txn, &st);
        if (rc != 0)
            return rc;
        *all = st.last_seq <= st.acked_known;
    }
    return 0;
}

/* What every service answers the same way goes to svcnet's modules; the rest to the
 * service's own handler. */
static int dispatch_apply(svcnet_t *self, MDB_txn *txn, const receiver_peer_t *from,
                          const Arrears__Envelope *env, reject_t *reject)
{
    if (env->body_case == ARREARS__ENVELOPE__BODY_DEAD_LETTER_ACTION)
        return deadletters_apply(self->dead, txn, from, env, self->now_ms, reject);
    return self->service.apply(self->service_app, txn, from, env, reject);
}

/* An operator's message gives a driven service its turn, before the service applies it
 * (what it does must go out). The turn lasts while the message is answered busy (the
 * operator asks again) and then until nothing is unacknowledged (svcnet_step). A
 * ClockAdvance is acknowledged only with every message appended acknowledged: else one
 * sent a moment too late would wait for the next turn, and the driver, which moves on
 * at the acknowledgement, would find it there or not by the timing of the run. */
static int take_turn(svcnet_t *self, MDB_txn *txn, const receiver_peer_t *from,
                     const Arrears__Envelope *env, reject_t *reject)
{
    self->turn = TURN_ASKED;
    int rc = dispatch_apply(self, txn, from, env, reject);
    bool all = true;
    if (rc == APPLY_OK && env->body_case == ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE &&
        (rc = drained(self, txn, &all)) == 0 && !all)
        rc = receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, "to_ms",
                             "advancing: messages sent and not yet acknowledged");
    if (rc == APPLY_OK || (rc == APPLY_REJECTED && reject->klass == ARREARS__REJECT__CLASS__PERMANENT))
        self->turn = TURN_ANSWERED;
    return rc;
}

static int net_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                     const Arrears__Envelope *env, reject_t *reject)
{
    svcnet_t *self = app;
    if (self->driven && strcmp(from->role, "operator") == 0)
        return take_turn(self, txn, from, env, reject);
    return dispatch_apply(self, txn, from, env, reject);
}

static size_t net_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                        const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    svcnet_t *self = app;
    if (env->body_case == ARREARS__ENVELOPE__BODY_DEAD_LETTER_QUERY)
        return deadletters_query(self->dead, txn, from, env, buf, cap, reject);
    if (!self->service.query)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                                     "this receiver answers no such query");
    return self->service.query(self->service_app, txn, from, env, buf, cap, reject);
}

static int net_call(void *app, MDB_txn *txn, const receiver_peer_t *from,
                    const Arrears__Envelope *env, uint8_t *buf, size_t cap, size_t *len,
                    reject_t *reject)
{
    svcnet_t *self = app;
    if (env->body_case == ARREARS__ENVELOPE__BODY_DEAD_LETTER_QUERY)
        return RECEIVER_NOT_A_CALL;
    return self->service.call(self->service_app, txn, from, env, buf, cap, len, reject);
}

static void net_committed(void *app)
{
    svcnet_t *self = app;
    self->service.committed(self->service_app);
}

/* The dead letters of every outbox, opened with a copy of the service's key. */
static int open_dead_letters(svcnet_t *self, const receiver_handler_t *handler, void *app)
{
    self->service = *handler;
    self->service_app = app;
    if (secret_path[0] && crypt_load(secret_path, &self->dead_key) != CRYPT_OK)
        log_event(LOG_WARN, "dead_letters_key", "path=%s opened=no reason=\"sealed dead letters "
                  "will read as unreadable\"", secret_path);
    return deadletters_new(self->store, self->outbox, self->peer_count, self->dead_key,
                           &self->dead);
}

/* ---------------------------------------------------------------- the network */

svcnet_t *svcnet_new(const svcnet_spec_t *spec, store_t *store, inbox_t *inbox,
                     const receiver_handler_t *handler, void *app, char *err, size_t err_len)
{
    assert(spec->peer_count <= SVCNET_MAX_PEERS);
    svcnet_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ctx = zmq_ctx_new())) {
        snprintf(err, err_len, "out of memory opening the sockets");
        free(self);
        return NULL;
    }
    self->peer_count = spec->peer_count;
    self->store = store;
    self->driven = spec->svc->driven;
    for (size_t i = 0; i < spec->peer_count; i++)
        self->outbox[i] = spec->peers[i].outbox;
    if (open_sockets(self, spec, err, err_len) != 0) {
        svcnet_destroy(&self);
        return NULL;
    }
    receiver_handler_t own = { .apply = net_apply, .query = net_query,
                               .call = handler->call ? net_call : NULL,
                               .committed = handler->committed ? net_committed : NULL };
    if (open_dead_letters(self, handler, app) == 0)
        self->receiver = receiver_new(store, inbox, self->router, &spec->svc->receiver, &own, self);
    bool ok = self->receiver != NULL;
    for (size_t i = 0; ok && i < spec->peer_count; i++) {
        self->sender[i] = sender_new(store, spec->peers[i].outbox, self->dealer[i],
                                     &spec->svc->sender);
        ok = self->sender[i] != NULL;
    }
    if (!ok) {
        snprintf(err, err_len, "cannot set up the receiver and senders (memory or store)");
        svcnet_destroy(&self);
    }
    if (self && spec->svc->metrics_listen[0] && open_metrics(self, spec, err, err_len) != 0)
        svcnet_destroy(&self);
    return self;
}

int svcnet_pump(svcnet_t *self)
{
    int rc = 0;
    bool in_turn = svcnet_in_turn(self);
    for (size_t i = 0; rc == 0 && i < self->peer_count; i++)
        rc = in_turn ? sender_pump(self->sender[i], aclock_monotonic_ms())
                     : sender_pump_replays(self->sender[i], aclock_monotonic_ms());
    return rc;
}

static int step(svcnet_t *self, int64_t wait_max_ms, const aclock_t *clock)
{
    zmq_pollitem_t items[1 + SVCNET_MAX_PEERS] = {{self->router, 0, ZMQ_POLLIN, 0}};
    int64_t now = aclock_monotonic_ms(), wait = wait_max_ms;
    if (self->metrics && wait > SVCNET_PUBLISH_MS)
        wait = SVCNET_PUBLISH_MS;
    for (size_t i = 0; i < self->peer_count; i++) {
        items[1 + i] = (zmq_pollitem_t){self->dealer[i], 0, ZMQ_POLLIN, 0};
        int64_t w = sender_wait_ms(self->sender[i], now);   /* at most a second: no spin */
        wait = w < wait ? w : wait;
    }
    if (zmq_poll(items, (int)(1 + self->peer_count), (long)(wait > 0 ? wait : 0)) < 0)
        return zmq_errno() == EINTR ? 0 : zmq_errno();   /* a signal: the loop checks its flags */
    int rc = 0;
    if (items[0].revents & ZMQ_POLLIN) {
        self->now_ms = aclock_now_ms(clock);
        int taken = receiver_drain(self->receiver, self->now_ms);
        rc = taken < 0 ? taken : 0;
    }
    for (size_t i = 0; rc == 0 && i < self->peer_count; i++)
        if (items[1 + i].revents & ZMQ_POLLIN)
            rc = sender_read_replies(self->sender[i], aclock_monotonic_ms());
    rc = rc ? rc : svcnet_pump(self);
    if (self->turn == TURN_ANSWERED && svcnet_unacked(self) == 0)
        self->turn = TURN_NONE;   /* the pump read every append: all are acknowledged */
    return rc;
}

int svcnet_step(svcnet_t *self, int64_t wait_max_ms, const aclock_t *clock)
{
    int rc = step(self, wait_max_ms, clock);
    if (self->metrics)
        publish(self, clock, rc == 0);
    return rc;
}

void svcnet_flush(svcnet_t *self)
{
    if (self && self->metrics)
        metrics_stopping(self->metrics);
    for (size_t i = 0; self && i < self->peer_count; i++)
        sender_flush(self->sender[i], aclock_monotonic_ms());
}

uint64_t svcnet_unacked(const svcnet_t *self)
{
    uint64_t n = 0;
    for (size_t i = 0; self && i < self->peer_count; i++)
        n += sender_unacked(self->sender[i]);
    return n;
}

zap_t *svcnet_zap(svcnet_t *self)
{
    return self ? self->zap : NULL;
}

int svcnet_secret_open(const char *path, bool create, crypt_t **crypt)
{
    int rc = crypt_load(path, crypt);
    if (rc == CRYPT_EKEYFILE && create && crypt_key_create(path) == CRYPT_OK)
        rc = crypt_load(path, crypt);
    if (rc == CRYPT_OK)
        snprintf(secret_path, sizeof secret_path, "%s", path);
    return rc;
}
