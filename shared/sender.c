/* sender: see sender.h. The in-memory marks: acked (highest seq the receiver has
 * confirmed), next (the next seq to put on the wire) and last_seq (the highest seq
 * appended, re-read from the outbox on each pump). In flight = acked+1 .. next-1. */
#include "sender.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "log.h"

/* Acks' Applied not yet stored: stored with the acked mark, or at once when full. */
#define PENDING_APPLIED_MAX 64
/* What an Envelope.replay adds to a message's bytes, at most. */
#define REPLAY_MAX_BYTES 64

typedef struct {
    uint64_t through;
    applied_t applied;
} pending_applied_t;

struct sender {
    store_t *store;
    outbox_t *outbox;
    void *dealer;
    sender_limits_t limits;
    uint64_t stream_id;
    uint64_t last_seq;
    uint64_t acked;
    uint64_t acked_high;   /* the highest seq ever acknowledged: above it all is new */
    uint64_t acked_stored;
    uint64_t next;
    int64_t last_progress_ms;
    int64_t backoff_until_ms;
    int64_t backoff_ms;
    int64_t last_store_ms;
    uint64_t rewound_to;
    int64_t rewound_at_ms;
    int64_t probed_at_ms;
    int stuck;             /* the stream cannot continue without an operator */
    uint64_t applied_through;   /* the highest seq with a stored Applied record */
    pending_applied_t pending[PENDING_APPLIED_MAX];
    size_t pending_count;
    uint8_t *replay_buf;   /* a message with its Envelope.replay appended */
    size_t replay_cap;
    sender_stats_t stats;
};

sender_limits_t sender_default_limits(void)
{
    return (sender_limits_t){
        .window = 1000,
        .resend_timeout_ms = 2000,
        .backoff_initial_ms = 50,
        .backoff_max_ms = 5000,
        .ack_store_ms = 200,
        .prune_max = 10000,
        .probe_ms = 1000,
    };
}

static int read_state(MDB_txn *txn, void *arg)
{
    sender_t *self = arg;
    outbox_state_t st;
    int rc = outbox_state(self->outbox, txn, &st);
    if (rc == 0) {
        self->stream_id = st.stream_id;
        self->last_seq = st.last_seq;
        /* At the start, or on a new stream after a realign: nothing above was acked. */
        self->acked = self->acked_stored = self->acked_high = st.acked_through;
    }
    return rc ? rc : outbox_applied_through(self->outbox, txn, &self->applied_through);
}

/* A store put back from a backup first leaves its old streams (outbox.h). */
static int settle_restore(MDB_txn *txn, void *arg)
{
    return outbox_settle_restore(arg, txn, NULL);
}

sender_t *sender_new(store_t *store, outbox_t *outbox, void *dealer,
                     const sender_limits_t *limits)
{
    assert(store && outbox && dealer && limits);
    assert(limits->window >= 1 && limits->resend_timeout_ms > 0 && limits->backoff_initial_ms > 0);
    sender_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->store = store;
    self->outbox = outbox;
    self->dealer = dealer;
    self->limits = *limits;
    self->backoff_ms = limits->backoff_initial_ms;
    if (store_write(store, settle_restore, outbox) != 0 ||
        store_read(store, read_state, self) != 0) {
        free(self);
        return NULL;
    }
    self->next = self->acked + 1;
    self->stats.highest_sent = self->acked;
    outbox_note_acked(outbox, self->acked);
    return self;
}

void sender_destroy(sender_t **self_p)
{
    assert(self_p);
    if (*self_p)
        free((*self_p)->replay_buf);
    free(*self_p);
    *self_p = NULL;
}

uint64_t sender_unacked(const sender_t *self) { return self->last_seq - self->acked; }
const sender_stats_t *sender_stats(const sender_t *self) { return &self->stats; }

static void set_stuck(sender_t *self, const char *why, uint64_t seq)
{
    if (!self->stuck)
        log_event(LOG_ERROR, "stream_stuck", "outbox=%s stream_id=%llu seq=%llu reason=\"%s\"",
                  outbox_name(self->outbox), (unsigned long long)self->stream_id,
                  (unsigned long long)seq, why);
    self->stuck = 1;
}

typedef struct {
    sender_t *self;
    uint64_t peer_mark;
} realign_t;

static int roll_stream(MDB_txn *txn, void *arg)
{
    realign_t *r = arg;
    /* What the receiver acked on the old stream is stored first, so it is not carried. */
    int rc = outbox_store_acked(r->self->outbox, txn, r->self->acked);
    return rc ? rc : outbox_roll(r->self->outbox, txn, "peer_ahead", r->peer_mark, NULL);
}

/* The receiver applied seqs this outbox never appended: this sender lost its state (a
 * store restored without `arrears restore`'s marker). Nothing can be sent on this stream
 * any more without being taken for what the receiver applied before, so move to a new
 * one (outbox_roll) and start it from seq 1. */
static int realign(sender_t *self, uint64_t peer_mark, int64_t now_ms)
{
    realign_t r = { self, peer_mark };
    log_event(LOG_WARN, "receiver_ahead", "outbox=%s stream_id=%llu last_seq=%llu peer_mark=%llu",
              outbox_name(self->outbox), (unsigned long long)self->stream_id,
              (unsigned long long)self->last_seq, (unsigned long long)peer_mark);
    int rc = store_write(self->store, roll_stream, &r);
    if (rc == 0)
        rc = store_read(self->store, read_state, self);
    if (rc != 0) {
        set_stuck(self, "the receiver is ahead of this stream and it could not move to a new one",
                  peer_mark);
        return rc;
    }
    self->next = self->acked + 1;
    self->stats.highest_sent = self->acked;
    self->pending_count = 0;   /* they named the old stream's seqs */
    self->rewound_to = 0;
    self->last_progress_ms = now_ms;
    self->stats.realigns++;
    outbox_note_acked(self->outbox, self->acked);
    return 0;
}

static void advance_acked(sender_t *self, uint64_t through, int64_t now_ms)
{
    if (through <= self->acked)
        return;
    self->acked = through;
    if (self->acked_high < through)
        self->acked_high = through;
    self->stats.acked = through;
    self->last_progress_ms = now_ms;
    self->backoff_ms = self->limits.backoff_initial_ms;
    if (self->next <= through)
        self->next = through + 1;
    outbox_note_acked(self->outbox, through);
}

/* The Applied records waiting in memory; *through gets the highest seq recorded. */
static int store_applied(sender_t *self, MDB_txn *txn, uint64_t *through)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->pending_count; i++)
        rc = outbox_note_applied(self->outbox, txn, self->pending[i].through,
                                 &self->pending[i].applied);
    return rc ? rc : outbox_applied_through(self->outbox, txn, through);
}

/* After a committed store of the records. */
static void applied_stored(sender_t *self, uint64_t through)
{
    self->pending_count = 0;
    self->applied_through = through;
}

typedef struct {
    sender_t *self;
    int64_t now_ms;
    uint64_t applied_through;
} store_call_t;

static int store_marks(MDB_txn *txn, void *arg)
{
    store_call_t *c = arg;
    int rc = outbox_store_acked(c->self->outbox, txn, c->self->acked);
    rc = rc ? rc : store_applied(c->self, txn, &c->applied_through);
    return rc ? rc : outbox_prune(c->self->outbox, txn, c->now_ms, c->self->limits.prune_max, NULL);
}

int sender_flush(sender_t *self, int64_t now_ms)
{
    if (self->acked == self->acked_stored && self->pending_count == 0)
        return 0;
    store_call_t c = { self, now_ms, 0 };
    int rc = store_write(self->store, store_marks, &c);
    if (rc == 0) {
        self->acked_stored = self->acked;
        self->last_store_ms = now_ms;
        applied_stored(self, c.applied_through);
    }
    return rc;
}

/* An Ack newly acknowledging seqs up to through said when they were applied: kept for
 * a replay (outbox.h "Replays"). */
static int note_applied(sender_t *self, uint64_t through, const Arrears__Applied *a,
                        int64_t now_ms)
{
    uint64_t last = self->pending_count ? self->pending[self->pending_count - 1].through
                                        : self->applied_through;
    if (!a || !a->has_at_ms || !a->has_order_us || through <= last)
        return 0;
    if (self->pending_count == PENDING_APPLIED_MAX) {
        int rc = sender_flush(self, now_ms);
        if (rc != 0)
            return rc;
    }
    self->pending[self->pending_count++] =
        (pending_applied_t){ through, { a->at_ms, a->order_us } };
    return 0;
}

/* A message the receiver acknowledged once is only asked for again by a receiver that
 * lost it: it goes with when that receiver first applied it (outbox.h "Replays"), or as
 * it is when no record says (or, never seen, when memory for the copy runs out). */
static const uint8_t *with_replay(sender_t *self, MDB_txn *txn, uint64_t seq,
                                  const uint8_t *envelope, size_t *len, int *rc)
{
    applied_t applied;
    bool found = false;
    *rc = seq <= self->applied_through
              ? outbox_applied_of(self->outbox, txn, seq, &applied, &found) : 0;
    if (*rc != 0 || !found)
        return envelope;
    if (self->replay_cap < *len + REPLAY_MAX_BYTES) {
        uint8_t *grown = realloc(self->replay_buf, *len + REPLAY_MAX_BYTES);
        if (!grown)
            return envelope;
        self->replay_buf = grown;
        self->replay_cap = *len + REPLAY_MAX_BYTES;
    }
    memcpy(self->replay_buf, envelope, *len);
    size_t n = envelope_append_replay(self->replay_buf, *len, self->replay_cap, &applied,
                                      self->applied_through);
    *len = n ? n : *len;
    return n ? self->replay_buf : envelope;
}

typedef struct {
    sender_t *self;
    MDB_txn *txn;
    uint64_t until;
    uint64_t limit;   /* the highest seq this pump may send */
    int blocked;
    int rc;
} send_call_t;

static int send_one(uint64_t seq, const uint8_t *envelope, size_t len, void *arg)
{
    send_call_t *c = arg;
    if (seq > c->until)
        return 1;
    envelope = with_replay(c->self, c->txn, seq, envelope, &len, &c->rc);
    if (c->rc != 0)
        return 1;
    if (zmq_send(c->self->dealer, envelope, len, ZMQ_DONTWAIT) < 0) {
        c->blocked = 1;   /* no connection yet, or the pipe is full: try on the next pump */
        return 1;
    }
    sender_t *self = c->self;
    self->stats.sent++;
    if (seq <= self->stats.highest_sent)
        self->stats.resent++;
    else
        self->stats.highest_sent = seq;
    self->next = seq + 1;
    return 0;
}

static int send_window(MDB_txn *txn, void *arg)
{
    send_call_t *c = arg;
    sender_t *self = c->self;
    c->txn = txn;
    outbox_state_t st;
    int rc = outbox_state(self->outbox, txn, &st);
    if (rc != 0)
        return rc;
    self->last_seq = st.last_seq;
    uint64_t until = self->acked + self->limits.window;
    until = until < st.last_seq ? until : st.last_seq;
    c->until = until < c->limit ? until : c->limit;
    if (self->next > c->until)
        return 0;
    rc = outbox_each(self->outbox, txn, self->next, c->until - self->next + 1, send_one, c);
    return rc == 1 ? c->rc : rc;
}

static void check_timeout(sender_t *self, int64_t now_ms)
{
    if (self->next <= self->acked + 1)
        return;
    if (now_ms - self->last_progress_ms < self->limits.resend_timeout_ms)
        return;
    log_event(LOG_INFO, "resend", "outbox=%s from_seq=%llu in_flight=%llu why=timeout",
              outbox_name(self->outbox), (unsigned long long)(self->acked + 1),
              (unsigned long long)(self->next - self->acked - 1));
    self->stats.timeouts++;
    self->next = self->acked + 1;
    self->last_progress_ms = now_ms;
}

static int probe_one(uint64_t seq, const uint8_t *envelope, size_t len, void *arg)
{
    send_call_t *c = arg;
    envelope = with_replay(c->self, c->txn, seq, envelope, &len, &c->rc);
    if (c->rc == 0 && zmq_send(c->self->dealer, envelope, len, ZMQ_DONTWAIT) >= 0)
        c->self->stats.probes++;
    return 1;
}

static int probe_read(MDB_txn *txn, void *arg)
{
    sender_t *self = arg;
    send_call_t c = { .self = self, .txn = txn };
    int rc = outbox_each(self->outbox, txn, self->acked, 1, probe_one, &c);
    if (rc == 1)
        return c.rc;
    return rc == OUTBOX_EPRUNED ? 0 : rc;   /* pruned: nothing to probe with */
}

/* An idle stream (nothing it may send unacked, limit being the highest seq it may send)
 * says where it is now and then by resending its last acked message: a receiver that
 * has it answers `duplicate`; one restored from a backup answers GAP and gets the rest
 * from the retained log at once, not only when something new is sent. */
static int probe(sender_t *self, int64_t now_ms, uint64_t limit)
{
    uint64_t sendable = self->last_seq < limit ? self->last_seq : limit;
    if (self->limits.probe_ms <= 0 || self->acked == 0 || self->next != self->acked + 1 ||
        self->acked != sendable || now_ms - self->probed_at_ms < self->limits.probe_ms)
        return 0;
    self->probed_at_ms = now_ms;
    return store_read(self->store, probe_read, self);
}

static int pump(sender_t *self, int64_t now_ms, uint64_t limit)
{
    if (self->stuck || now_ms < self->backoff_until_ms)
        return 0;
    check_timeout(self, now_ms);
    if (self->acked > self->acked_stored && now_ms - self->last_store_ms >= self->limits.ack_store_ms) {
        int rc = sender_flush(self, now_ms);
        if (rc != 0)
            return rc;
    }
    if (self->next == self->acked + 1)
        self->last_progress_ms = now_ms;   /* idle until now: the timeout starts here */
    send_call_t c = { .self = self, .limit = limit };
    int rc = store_read(self->store, send_window, &c);
    if (rc == OUTBOX_EPRUNED) {
        set_stuck(self, "the receiver needs messages no longer retained; realign the stream",
                  self->next);
        return 0;
    }
    return rc ? rc : probe(self, now_ms, limit);
}

int sender_pump(sender_t *self, int64_t now_ms)
{
    assert(self);
    return pump(self, now_ms, UINT64_MAX);
}

int sender_pump_replays(sender_t *self, int64_t now_ms)
{
    assert(self);
    return pump(self, now_ms, self->acked_high);
}

static int dead_letter(MDB_txn *txn, void *arg)
{
    const void **args = arg;
    return outbox_dead_letter((outbox_t *)args[0], txn, args[1]);
}

static int on_permanent(sender_t *self, const reject_t *r, int64_t now_ms)
{
    const void *args[2] = { self->outbox, r };
    int rc = store_write(self->store, dead_letter, args);
    if (rc == OUTBOX_EPRUNED)
        rc = 0;   /* already dead-lettered and pruned long ago: a replayed reject */
    if (rc != 0)
        return rc;
    if (r->seq > self->acked)
        self->stats.dead_lettered++;
    char reason[2 * REJECT_REASON_MAX];
    log_event(LOG_WARN, "dead_letter", "outbox=%s seq=%llu code=%s reason=%s",
              outbox_name(self->outbox), (unsigned long long)r->seq, reject_code_name(r->code),
              log_quote(r->reason, reason, sizeof reason));
    advance_acked(self, r->seq, now_ms);
    return 0;
}

static int store_rewound(MDB_txn *txn, void *arg)
{
    store_call_t *c = arg;
    int rc = outbox_store_acked(c->self->outbox, txn, c->self->acked);
    return rc ? rc : store_applied(c->self, txn, &c->applied_through);
}

static int on_rewind(sender_t *self, uint64_t expected, int64_t now_ms)
{
    if (expected == 0)
        return 0;
    if (expected - 1 > self->last_seq)
        return realign(self, expected - 1, now_ms);
    if (expected == self->rewound_to && now_ms - self->rewound_at_ms < self->limits.resend_timeout_ms)
        return 0;   /* one rewind answers the whole burst that followed the hole */
    self->rewound_to = expected;
    self->rewound_at_ms = now_ms;
    self->stats.rewinds++;
    if (expected - 1 < self->acked) {
        /* A receiver restored from a backup: it lost what it had acked. */
        log_event(LOG_WARN, "receiver_behind", "outbox=%s acked=%llu expected=%llu",
                  outbox_name(self->outbox), (unsigned long long)self->acked,
                  (unsigned long long)expected);
        self->acked = expected - 1;
        outbox_note_acked(self->outbox, self->acked);
        store_call_t c = { self, now_ms, 0 };
        int rc = store_write(self->store, store_rewound, &c);
        if (rc != 0)
            return rc;
        self->acked_stored = self->acked;
        applied_stored(self, c.applied_through);
    }
    advance_acked(self, expected - 1, now_ms);
    self->next = expected;
    self->last_progress_ms = now_ms;
    return 0;
}

static void on_retry_later(sender_t *self, int64_t now_ms)
{
    self->stats.retry_laters++;
    self->next = self->acked + 1;
    if (now_ms < self->backoff_until_ms)
        return;   /* one of a burst already answered by the current wait */
    self->backoff_until_ms = now_ms + self->backoff_ms;
    log_event(LOG_INFO, "backoff", "outbox=%s wait_ms=%lld", outbox_name(self->outbox),
              (long long)self->backoff_ms);
    self->backoff_ms *= 2;
    if (self->backoff_ms > self->limits.backoff_max_ms)
        self->backoff_ms = self->limits.backoff_max_ms;
}

static int on_reject(sender_t *self, const Arrears__Reject *body, int64_t now_ms)
{
    reject_t r;
    memset(&r, 0, sizeof r);
    reject_set(&r, body->reject_class, body->code, body->field, "%s",
               body->reason ? body->reason : "");
    r.seq = body->seq;
    if (r.seq == 0) {
        char reason[2 * REJECT_REASON_MAX];
        log_event(LOG_ERROR, "reject_undecodable", "outbox=%s code=%s reason=%s",
                  outbox_name(self->outbox), reject_code_name(r.code),
                  log_quote(r.reason, reason, sizeof reason));
        return 0;
    }
    switch (body->reject_class) {
    case ARREARS__REJECT__CLASS__PERMANENT: return on_permanent(self, &r, now_ms);
    case ARREARS__REJECT__CLASS__REWIND: return on_rewind(self, body->expected_seq, now_ms);
    case ARREARS__REJECT__CLASS__RETRY_LATER: on_retry_later(self, now_ms); return 0;
    default: return 0;
    }
}

int sender_handle(sender_t *self, const Arrears__Envelope *reply, int64_t now_ms)
{
    /* Undecodable bytes are answered on stream 0: the receiver could not read ours. */
    if (reply->body_case == ARREARS__ENVELOPE__BODY_REJECT && reply->reject->seq == 0 &&
        reply->request_id == 0)
        return on_reject(self, reply->reject, now_ms);
    if (reply->stream_id != self->stream_id)
        return 0;   /* not about this stream: a stale reply after a stream change */
    if (reply->body_case == ARREARS__ENVELOPE__BODY_ACK) {
        uint64_t through = reply->ack->through_seq;
        if (through > self->last_seq)
            return realign(self, through, now_ms);
        int rc = through > self->acked ? note_applied(self, through, reply->ack->applied, now_ms) : 0;
        advance_acked(self, through, now_ms);
        return rc;
    }
    if (reply->body_case == ARREARS__ENVELOPE__BODY_REJECT)
        return on_reject(self, reply->reject, now_ms);
    return 0;
}

int sender_read_replies(sender_t *self, int64_t now_ms)
{
    for (;;) {
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&msg);
            return errno == EAGAIN ? 0 : -errno;
        }
        Arrears__Envelope *reply =
            arrears__envelope__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
        zmq_msg_close(&msg);
        if (!reply) {
            log_event(LOG_WARN, "reply_undecodable", "outbox=%s", outbox_name(self->outbox));
            continue;
        }
        int rc = sender_handle(self, reply, now_ms);
        arrears__envelope__free_unpacked(reply, NULL);
        if (rc != 0)
            return rc;
    }
}

int64_t sender_wait_ms(const sender_t *self, int64_t now_ms)
{
    int64_t wait = 1000;   /* re-check at least once a second */
    if (self->stuck)
        return wait;   /* nothing moves until an operator acts: do not spin */
    if (self->backoff_until_ms > now_ms)
        return self->backoff_until_ms - now_ms;
    if (self->next > self->acked + 1) {
        int64_t t = self->last_progress_ms + self->limits.resend_timeout_ms - now_ms;
        wait = t < wait ? t : wait;
    }
    if (self->acked > self->acked_stored) {
        int64_t t = self->last_store_ms + self->limits.ack_store_ms - now_ms;
        wait = t < wait ? t : wait;
    }
    return wait > 0 ? wait : 0;
}
