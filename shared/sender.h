/* sender: drains one outbox over a DEALER socket, in order, with a bounded window of
 * un-acked messages, and reacts to what the receiver answers:
 *   Ack(through N)            the stream is applied through N: slide the window;
 *   Reject PERMANENT (seq S)  S was consumed without effect: move it to dead letters;
 *   Reject REWIND (expected)  resend from the expected seq (a restored receiver may
 *                             ask for acked messages: they are retained for that, and
 *                             go with when it first applied them, Envelope.replay, from
 *                             the Ack's Applied kept beside them: outbox.h "Replays");
 *   Reject RETRY_LATER        back off (doubling, capped), then resend;
 *   idle                      every probe_ms, resend the last acked message: a
 *                             receiver restored from a backup answers GAP at once;
 *   silence                   after resend_timeout_ms without progress, resend from the
 *                             first un-acked message (a reconnect loses what was in
 *                             flight; duplicates that follow are normal).
 *   Ack or Reject REWIND beyond the last appended seq
 *                             the receiver is ahead: this sender lost state (restored
 *                             from a backup); move to a new stream (outbox_roll).
 * At start a restored store's outboxes move to new streams (outbox_settle_restore).
 * The acked mark is stored lazily (every ack_store_ms): after a crash the sender
 * resends a little more, and the receiver answers `duplicate`. */
#ifndef ARREARS_SENDER_H
#define ARREARS_SENDER_H

#include <stdint.h>

#include "outbox.h"
#include "store.h"

typedef struct {
    uint64_t window;             /* un-acked messages in flight at most */
    int64_t resend_timeout_ms;   /* no progress this long: resend from first un-acked */
    int64_t backoff_initial_ms;  /* first wait after a retry-later */
    int64_t backoff_max_ms;      /* the wait doubles up to this */
    int64_t ack_store_ms;        /* how stale the stored acked mark may get */
    size_t prune_max;            /* retained messages deleted per store of the mark */
    int64_t probe_ms;            /* idle: resend the last acked message this often (0: never) */
} sender_limits_t;

typedef struct {
    uint64_t sent;
    uint64_t resent;        /* sends of a seq sent before */
    uint64_t acked;         /* the highest seq acknowledged */
    uint64_t highest_sent;  /* the highest seq ever put on the wire */
    uint64_t dead_lettered;
    uint64_t rewinds;
    uint64_t retry_laters;
    uint64_t timeouts;
    uint64_t probes;        /* idle resends of the last acked message */
    uint64_t realigns;      /* moves to a new stream: the receiver was ahead (outbox.h) */
} sender_stats_t;

typedef struct sender sender_t;

sender_limits_t sender_default_limits(void);
sender_t *sender_new(store_t *store, outbox_t *outbox, void *dealer,
                     const sender_limits_t *limits);
void sender_destroy(sender_t **self_p);

/* Sends what the window allows and handles timers. Call after every append and
 * whenever the poll times out; never blocks. Returns 0 or a store error. */
int sender_pump(sender_t *self, int64_t now_ms);
/* sender_pump for a driven service out of its turn (svcnet.h): probes an idle stream and
 * sends again what a receiver restored from a backup lost (the replays: seqs it had
 * acknowledged once, which it applies in their first order, not in arrival order), but
 * nothing it never acknowledged. */
int sender_pump_replays(sender_t *self, int64_t now_ms);
/* Reads every reply waiting on the socket and acts on it. */
int sender_read_replies(sender_t *self, int64_t now_ms);
/* Acts on one decoded reply (exposed for tests). */
int sender_handle(sender_t *self, const Arrears__Envelope *reply, int64_t now_ms);
/* Stores the acked mark now (e.g. before a clean exit). */
int sender_flush(sender_t *self, int64_t now_ms);

uint64_t sender_unacked(const sender_t *self);
/* Milliseconds until the sender wants sender_pump called again (for the poll timeout). */
int64_t sender_wait_ms(const sender_t *self, int64_t now_ms);
const sender_stats_t *sender_stats(const sender_t *self);

#endif
