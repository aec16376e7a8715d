/* receiver: see receiver.h. One batch = the messages waiting on the socket, read
 * without blocking; their effects share one write transaction and one fsync. */
#include "receiver.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "link.h"
#include "log.h"
#include "metrics.h"

#define ROUTING_ID_MAX 256

typedef struct {
    uint8_t routing_id[ROUTING_ID_MAX];
    size_t routing_id_len;
    receiver_peer_t from;
    Arrears__Envelope *env;
    envelope_kind_t kind;
    int call_rc;             /* a request: APPLY_OK / APPLY_REJECTED, or NOT_A_CALL */
    uint8_t *reply;          /* a call's reply, sent after the commit */
    size_t reply_len;
    reject_t call_reject;
} item_t;

/* One stream's progress within the batch being applied. */
typedef struct {
    const char *principal;   /* points into its item */
    uint64_t stream_id;
    uint64_t position;       /* applied through, as the transaction now stands */
    uint64_t ahead_max;      /* the highest seq dropped for jumping ahead of position + 1 */
    size_t last_item;        /* where to send the stream's replies */
    int advanced;            /* position moved: the inbox mark must be written */
    int fresh_any;           /* something not seen before was applied */
    int duplicate_any;
    int stalled;             /* answered retry-later: skip the rest of the batch */
} stream_t;

typedef struct {
    size_t item;
    reject_t reject;
} reply_t;

struct receiver {
    store_t *store;
    inbox_t *inbox;
    void *router;
    receiver_limits_t limits;
    receiver_handler_t handler;
    void *app;
    item_t *items;
    size_t count;
    stream_t *streams;
    size_t stream_count;
    reply_t *rejects;         /* per-message rejects, in order */
    size_t reject_count;
    size_t batch_applied;     /* applied without reject in the transaction being built */
    int64_t now_ms;
    int64_t order_us;         /* the batch's place among this receiver's (Ack.applied) */
    uint8_t *reply_buf;
    receiver_stats_t stats;
    receiver_timer_fn *timer;
    void *timer_arg;
};

receiver_limits_t receiver_default_limits(void)
{
    return (receiver_limits_t){ .batch_max = 1000, .query_reply_max_bytes = 1 << 20 };
}

receiver_t *receiver_new(store_t *store, inbox_t *inbox, void *router,
                         const receiver_limits_t *limits, const receiver_handler_t *handler,
                         void *app)
{
    assert(store && inbox && router && limits && handler && handler->apply);
    assert(limits->batch_max >= 1 && limits->query_reply_max_bytes >= ENVELOPE_REPLY_MAX_BYTES);
    receiver_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->inbox = inbox;
    self->router = router;
    self->limits = *limits;
    self->handler = *handler;
    self->app = app;
    self->items = calloc(limits->batch_max, sizeof *self->items);
    self->streams = calloc(limits->batch_max, sizeof *self->streams);
    self->rejects = calloc(limits->batch_max, sizeof *self->rejects);
    self->reply_buf = malloc(limits->query_reply_max_bytes);
    if (!self->items || !self->streams || !self->rejects || !self->reply_buf)
        receiver_destroy(&self);
    return self;
}

void receiver_destroy(receiver_t **self_p)
{
    assert(self_p);
    receiver_t *self = *self_p;
    if (!self)
        return;
    free(self->items);
    free(self->streams);
    free(self->rejects);
    free(self->reply_buf);
    free(self);
    *self_p = NULL;
}

const receiver_stats_t *receiver_stats(const receiver_t *self) { return &self->stats; }

void receiver_set_timer(receiver_t *self, receiver_timer_fn *fn, void *arg)
{
    self->timer = fn;
    self->timer_arg = arg;
}

static void timed(receiver_t *self, receiver_timed_t what, int64_t since_us)
{
    if (self->timer)
        self->timer(self->timer_arg, what, metrics_now_us() - since_us);
}

static void send_reply(receiver_t *self, const item_t *to, const uint8_t *buf, size_t len)
{
    if (len == 0)
        return;
    /* A peer that went away simply misses the reply: it resends and gets a duplicate. */
    if (zmq_send(self->router, to->routing_id, to->routing_id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return;
    zmq_send(self->router, buf, len, ZMQ_DONTWAIT);
}

static void reply_reject(receiver_t *self, const item_t *to, uint64_t stream_id,
                         uint64_t request_id, const reject_t *reject)
{
    uint8_t buf[ENVELOPE_REPLY_MAX_BYTES];
    size_t len = envelope_pack_reject(stream_id, request_id, reject, buf, sizeof buf);
    send_reply(self, to, buf, len);
}

/* Reads the rest of a multipart message a well-behaved DEALER never sends. */
static int drop_extra_frames(void *socket)
{
    int more = 0, dropped = 0;
    size_t size = sizeof more;
    zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &size);
    while (more) {
        zmq_msg_t frame;
        zmq_msg_init(&frame);
        zmq_msg_recv(&frame, socket, 0);
        zmq_msg_close(&frame);
        zmq_getsockopt(socket, ZMQ_RCVMORE, &more, &size);
        dropped = 1;
    }
    return dropped;
}

static int frame_principal(zmq_msg_t *payload, item_t *item, reject_t *reject)
{
    const char *user = link_principal(payload);
    size_t len = user ? strlen(user) : 0;
    if (len == 0 || len > INBOX_PRINCIPAL_MAX) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__UNAUTHORIZED,
                   NULL, "the connection has no authenticated principal");
        return -1;
    }
    memcpy(item->from.principal, user, len + 1);
    const char *role = link_role(payload);
    snprintf(item->from.role, sizeof item->from.role, "%s", role ? role : "");
    return 0;
}

/* Receives one message into item. Returns 1 taken, 0 nothing waiting, -1 refused (a
 * seq-0 Reject already sent: nothing consumed). */
static int receive_one(receiver_t *self, item_t *item)
{
    int len = zmq_recv(self->router, item->routing_id, ROUTING_ID_MAX, ZMQ_DONTWAIT);
    if (len < 0)
        return 0;
    item->routing_id_len = (size_t)len < ROUTING_ID_MAX ? (size_t)len : ROUTING_ID_MAX;
    zmq_msg_t payload;
    zmq_msg_init(&payload);
    int got = zmq_msg_recv(&payload, self->router, 0);
    reject_t reject = { 0 };
    int rc = got < 0 ? -1 : 0;
    if (rc == 0 && drop_extra_frames(self->router)) {
        reject_set(&reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED,
                   NULL, "a message is exactly one frame holding one Envelope");
        rc = -1;
    }
    if (rc == 0)
        rc = frame_principal(&payload, item, &reject);
    if (rc == 0)
        rc = envelope_decode(zmq_msg_data(&payload), zmq_msg_size(&payload), &item->env,
                             &item->kind, &reject);
    zmq_msg_close(&payload);
    if (rc != 0 && got >= 0) {
        self->stats.malformed++;
        reject.seq = 0;
        reply_reject(self, item, 0, 0, &reject);
        char quoted[2 * REJECT_REASON_MAX];
        log_event(LOG_WARN, "reject", "principal=%s seq=0 code=%s reason=%s",
                  item->from.principal[0] ? item->from.principal : "-", reject_code_name(reject.code),
                  log_quote(reject.reason, quoted, sizeof quoted));
    }
    return rc == 0 ? 1 : -1;
}

static stream_t *stream_for(receiver_t *self, MDB_txn *txn, size_t item_index, int *rc)
{
    const item_t *item = &self->items[item_index];
    for (size_t i = 0; i < self->stream_count; i++) {
        stream_t *s = &self->streams[i];
        if (s->stream_id == item->env->stream_id && strcmp(s->principal, item->from.principal) == 0) {
            s->last_item = item_index;
            return s;
        }
    }
    stream_t *s = &self->streams[self->stream_count];
    memset(s, 0, sizeof *s);
    s->principal = item->from.principal;
    s->stream_id = item->env->stream_id;
    s->last_item = item_index;
    *rc = inbox_position(self->inbox, txn, s->principal, s->stream_id, &s->position);
    if (*rc != 0)
        return NULL;
    self->stream_count++;
    return s;
}

static void push_reject(receiver_t *self, size_t item_index, const reject_t *reject)
{
    assert(self->reject_count < self->limits.batch_max);
    reply_t *r = &self->rejects[self->reject_count++];
    r->item = item_index;
    r->reject = *reject;
}

/* An old seq: resend its recorded Reject if it had one, else it is a plain duplicate. */
static int take_duplicate(receiver_t *self, MDB_txn *txn, stream_t *s, size_t item_index)
{
    const Arrears__Envelope *env = self->items[item_index].env;
    reject_t reject = { 0 };
    int rc = inbox_find_reject(self->inbox, txn, s->principal, s->stream_id, env->seq, &reject);
    if (rc == 0) {
        push_reject(self, item_index, &reject);
        return 0;
    }
    s->duplicate_any = 1;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int apply_next(receiver_t *self, MDB_txn *txn, stream_t *s, size_t item_index)
{
    const item_t *item = &self->items[item_index];
    reject_t reject = { 0 };
    memset(&reject, 0, sizeof reject);
    int rc;
    if (item->env->body_case == ARREARS__ENVELOPE__BODY__NOT_SET) {
        reject_set(&reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__UNKNOWN_TYPE,
                   "body", "the envelope carries no body this receiver knows");
        rc = APPLY_REJECTED;
    } else {
        rc = self->handler.apply(self->app, txn, &item->from, item->env, &reject);
    }
    if (rc != APPLY_OK && rc != APPLY_REJECTED && rc != APPLY_DUPLICATE)
        return rc;
    reject.seq = item->env->seq;
    if (rc == APPLY_REJECTED && reject.klass != ARREARS__REJECT__CLASS__PERMANENT) {
        s->stalled = 1;   /* busy: nothing consumed; the sender backs off and resends */
        push_reject(self, item_index, &reject);
        return 0;
    }
    if (rc == APPLY_REJECTED) {
        rc = inbox_record_reject(self->inbox, txn, s->principal, s->stream_id, &reject);
        if (rc != 0)
            return rc;
        push_reject(self, item_index, &reject);
        s->fresh_any = 1;   /* newly consumed, if without effect: not a duplicate */
    } else if (rc == APPLY_DUPLICATE) {
        s->duplicate_any = 1;
    } else {
        self->batch_applied++;
        s->fresh_any = 1;
    }
    s->position = item->env->seq;
    s->advanced = 1;
    return 0;
}

static int take_stream_message(receiver_t *self, MDB_txn *txn, size_t item_index)
{
    int rc = 0;
    stream_t *s = stream_for(self, txn, item_index, &rc);
    if (!s)
        return rc;
    uint64_t seq = self->items[item_index].env->seq;
    if (s->stalled)
        return 0;
    if (seq <= s->position)
        return take_duplicate(self, txn, s, item_index);
    if (seq > s->position + 1) {
        s->ahead_max = seq > s->ahead_max ? seq : s->ahead_max;
        return 0;
    }
    return apply_next(self, txn, s, item_index);
}

static void drop_call_reply(item_t *item)
{
    free(item->reply);
    item->reply = NULL;
    item->reply_len = 0;
    item->call_rc = RECEIVER_NOT_A_CALL;
}

/* A request that may be a call: answered in the batch's transaction. */
static int take_call(receiver_t *self, MDB_txn *txn, item_t *item)
{
    drop_call_reply(item);   /* a replayed batch answers afresh */
    if (!self->handler.call)
        return 0;
    size_t len = 0;
    memset(&item->call_reject, 0, sizeof item->call_reject);
    int rc = self->handler.call(self->app, txn, &item->from, item->env, self->reply_buf,
                                self->limits.query_reply_max_bytes, &len, &item->call_reject);
    if (rc == RECEIVER_NOT_A_CALL || rc == APPLY_REJECTED) {
        item->call_rc = rc;
        return 0;
    }
    if (rc != APPLY_OK)
        return rc;
    item->reply = malloc(len ? len : 1);
    if (!item->reply)
        return ENOMEM;
    memcpy(item->reply, self->reply_buf, len);
    item->reply_len = len;
    item->call_rc = APPLY_OK;
    return 0;
}

static void send_call_replies(receiver_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        item_t *item = &self->items[i];
        if (item->kind != ENVELOPE_QUERY || item->call_rc == RECEIVER_NOT_A_CALL)
            continue;
        if (item->call_rc == APPLY_OK)
            send_reply(self, item, item->reply, item->reply_len);
        else
            reply_reject(self, item, 0, item->env->request_id, &item->call_reject);
        drop_call_reply(item);
        item->call_rc = APPLY_REJECTED;   /* answered: not a query for answer_queries */
    }
}

/* The batch's write work; replayed from scratch after the map grows. */
static int apply_batch(MDB_txn *txn, void *arg)
{
    receiver_t *self = arg;
    self->stream_count = 0;
    self->reject_count = 0;
    self->batch_applied = 0;
    for (size_t i = 0; i < self->count; i++) {
        int rc = self->items[i].kind == ENVELOPE_STREAM ? take_stream_message(self, txn, i)
                                                        : take_call(self, txn, &self->items[i]);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < self->stream_count; i++) {
        stream_t *s = &self->streams[i];
        if (!s->advanced)
            continue;
        int rc = inbox_advance(self->inbox, txn, s->principal, s->stream_id, s->position,
                               self->now_ms);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static void log_reject(const item_t *item, const reject_t *r)
{
    char field[2 * REJECT_FIELD_MAX], reason[2 * REJECT_REASON_MAX];
    log_event(r->klass == ARREARS__REJECT__CLASS__PERMANENT ? LOG_WARN : LOG_INFO, "reject",
              "principal=%s stream_id=%llu seq=%llu class=%s code=%s field=%s reason=%s",
              item->from.principal, (unsigned long long)item->env->stream_id,
              (unsigned long long)r->seq, reject_class_name(r->klass), reject_code_name(r->code),
              log_quote(r->field[0] ? r->field : "-", field, sizeof field),
              log_quote(r->reason, reason, sizeof reason));
}

static void send_stream_replies(receiver_t *self)
{
    for (size_t i = 0; i < self->reject_count; i++) {
        const reply_t *r = &self->rejects[i];
        const item_t *item = &self->items[r->item];
        reply_reject(self, item, item->env->stream_id, 0, &r->reject);
        log_reject(item, &r->reject);
        if (r->reject.klass == ARREARS__REJECT__CLASS__PERMANENT) {
            unsigned code = (unsigned)r->reject.code;
            self->stats.rejected++;
            self->stats.rejected_by_code[code < RECEIVER_REJECT_CODES ? code : RECEIVER_REJECT_CODES - 1]++;
        }
    }
    uint8_t buf[ENVELOPE_REPLY_MAX_BYTES];
    for (size_t i = 0; i < self->stream_count; i++) {
        const stream_t *s = &self->streams[i];
        const item_t *to = &self->items[s->last_item];
        if (s->advanced || s->duplicate_any) {
            applied_t applied = { self->now_ms, self->order_us };
            size_t len = envelope_pack_ack(s->stream_id, s->position, !s->fresh_any,
                                           s->advanced ? &applied : NULL, buf, sizeof buf);
            send_reply(self, to, buf, len);
            self->stats.duplicates += !s->fresh_any;
        }
        /* A dropped message not applied later in the batch ([7, 5, 6] after a reconnect):
         * tell the sender now rather than let it wait for its resend timeout. */
        if (s->ahead_max > s->position && !s->stalled) {
            uint64_t expected = s->position + 1;
            reject_t gap = { 0 };
            reject_set(&gap, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, NULL,
                       "seq jumped ahead: resend from %llu", (unsigned long long)expected);
            gap.seq = s->ahead_max;
            gap.expected_seq = expected;
            reply_reject(self, to, s->stream_id, 0, &gap);
            self->stats.gaps++;
        }
    }
}

/* The store refused the batch (hard cap): nothing consumed, every stream told to wait. */
static void refuse_batch(receiver_t *self, int code)
{
    reject_t r = { 0 };
    reject_set(&r, ARREARS__REJECT__CLASS__RETRY_LATER,
               code == STORE_EFULL ? ARREARS__REJECT__CODE__STORE_FULL : ARREARS__REJECT__CODE__BUSY,
               NULL, "%s; nothing was consumed, resend later", store_strerror(code));
    for (size_t i = 0; i < self->count; i++) {
        item_t *item = &self->items[i];
        if (item->kind == ENVELOPE_QUERY && item->call_rc != RECEIVER_NOT_A_CALL) {
            drop_call_reply(item);
            reply_reject(self, item, 0, item->env->request_id, &r);
            item->call_rc = APPLY_REJECTED;
            continue;
        }
        if (item->kind != ENVELOPE_STREAM)
            continue;
        r.seq = item->env->seq;
        reply_reject(self, item, item->env->stream_id, 0, &r);
    }
    self->stats.store_full += code == STORE_EFULL;
    log_event(LOG_ERROR, "batch_refused", "messages=%zu error=\"%s\"", self->count,
              store_strerror(code));
}

typedef struct {
    receiver_t *self;
    const item_t *item;
    size_t len;
    reject_t reject;
} query_call_t;

static int answer_query(MDB_txn *txn, void *arg)
{
    query_call_t *q = arg;
    receiver_t *self = q->self;
    q->len = self->handler.query(self->app, txn, &q->item->from, q->item->env,
                                 self->reply_buf, self->limits.query_reply_max_bytes, &q->reject);
    return 0;
}

static void answer_queries(receiver_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        const item_t *item = &self->items[i];
        if (item->kind != ENVELOPE_QUERY || item->call_rc != RECEIVER_NOT_A_CALL)
            continue;
        query_call_t q = { .self = self, .item = item };
        reject_set(&q.reject, ARREARS__REJECT__CLASS__PERMANENT,
                   ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body", "this receiver answers no such query");
        int64_t start_us = metrics_now_us();
        int rc = self->handler.query ? store_read(self->store, answer_query, &q) : 0;
        timed(self, RECEIVER_TIMED_QUERY, start_us);
        self->stats.queries++;
        if (rc != 0)
            reject_set(&q.reject, ARREARS__REJECT__CLASS__RETRY_LATER,
                       ARREARS__REJECT__CODE__BUSY, NULL, "%s", store_strerror(rc));
        if (q.len > 0)
            send_reply(self, item, self->reply_buf, q.len);
        else
            reply_reject(self, item, 0, item->env->request_id, &q.reject);
    }
}

static void release_items(receiver_t *self)
{
    for (size_t i = 0; i < self->count; i++) {
        free(self->items[i].reply);
        self->items[i].reply = NULL;
        envelope_free(&self->items[i].env);
    }
    self->count = 0;
}

/* The wall clock in microseconds, kept increasing: two batches never share an order. */
static int64_t next_order_us(int64_t last_us)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
    return us > last_us ? us : last_us + 1;
}

int receiver_drain(receiver_t *self, int64_t now_ms)
{
    assert(self);
    self->now_ms = now_ms;
    self->order_us = next_order_us(self->order_us);
    self->count = 0;
    size_t taken = 0;
    while (self->count < self->limits.batch_max) {
        item_t *item = &self->items[self->count];
        memset(item, 0, sizeof *item);
        item->call_rc = RECEIVER_NOT_A_CALL;
        int got = receive_one(self, item);
        if (got == 0)
            break;
        taken++;
        self->stats.received++;
        if (got == 1)
            self->count++;
    }
    if (self->count == 0)
        return (int)taken;
    int64_t start_us = metrics_now_us();
    int rc = store_write(self->store, apply_batch, self);
    timed(self, RECEIVER_TIMED_BATCH, start_us);
    if (rc == 0) {
        self->stats.batches++;
        self->stats.applied += self->batch_applied;
        send_stream_replies(self);
        send_call_replies(self);
        if (self->handler.committed)
            self->handler.committed(self->app);
    } else {
        refuse_batch(self, rc);
    }
    answer_queries(self);
    release_items(self);
    return rc == 0 || rc == STORE_EFULL ? (int)taken : rc;
}

int receiver_refuse(reject_t *reject, Arrears__Reject__Code code, const char *field,
                    const char *reason_fmt, ...)
{
    Arrears__Reject__Class klass = ARREARS__REJECT__CLASS__PERMANENT;
    if (code == ARREARS__REJECT__CODE__BUSY || code == ARREARS__REJECT__CODE__STORE_FULL)
        klass = ARREARS__REJECT__CLASS__RETRY_LATER;
    else if (code == ARREARS__REJECT__CODE__GAP)
        klass = ARREARS__REJECT__CLASS__REWIND;
    char reason[REJECT_REASON_MAX];
    va_list args;
    va_start(args, reason_fmt);
    vsnprintf(reason, sizeof reason, reason_fmt, args);
    va_end(args);
    reject_set(reject, klass, code, field, "%s", reason);
    return APPLY_REJECTED;
}

size_t receiver_refuse_query(reject_t *reject, Arrears__Reject__Code code, const char *field,
                             const char *reason)
{
    (void)receiver_refuse(reject, code, field, "%s", reason);
    return 0;
}
