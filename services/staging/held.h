/* held: the messages staging holds while it catches up after its store was put back
 * from a backup (catchup.h) — each one a replay (Envelope.replay) of a message it had
 * applied once and lost, kept sealed until it can be applied again in its first order.
 *
 * A replay is consumed when it arrives (the inbox moves on, the sender gets its Ack):
 * staging holds it, with who sent it and when staging first applied it, in the same
 * transaction. Held messages come out lowest first order first (the instant, then the
 * batch order staging's Ack gave, then arrival).
 *
 * The catch-up is active from the start of a store that `arrears restore` marked and
 * has not yet answered (outbox.h OUTBOX_RESTORED_TABLE), and whenever messages are held
 * or a stream's replay is not all in. It is ready to apply when every stream's replay
 * is in (each replay says its last seq) and no replay arrived for settle_ms: idle
 * senders only notice a restored receiver when they probe, every second or so. A
 * stream whose replay stops short is given up on after ten times settle_ms.
 *
 * Tables:
 *   staging.held     at_ms(be64) order_us(be64) arrival(be64) -> role NUL principal NUL
 *                                                             sealed packed Envelope
 *   staging.replays  principal NUL stream_id(be64)   -> through_seq(be64) held_seq(be64)
 *   staging.catchup  name -> be64 (arrivals, restore_answered) */
#ifndef ARREARS_STAGING_HELD_H
#define ARREARS_STAGING_HELD_H

#include <stdbool.h>
#include <stdint.h>

#include "crypt.h"
#include "envelope.h"
#include "receiver.h"
#include "store.h"

enum {
    HELD_OK = 0,
    HELD_ECORRUPT = -40801,   /* a held record does not open or decode */
};

typedef struct held held_t;

/* settle_ms: how long no replay must arrive before the held ones are applied. */
int held_open(store_t *store, crypt_t *crypt, int64_t settle_ms, held_t **self_p);
void held_destroy(held_t **self_p);

/* Holds env, a replay from `from` that staging first applied at first; through_seq is
 * the last seq its stream replays. */
int held_put(held_t *self, MDB_txn *txn, const receiver_peer_t *from,
             const Arrears__Envelope *env, const applied_t *first, uint64_t through_seq);

typedef struct {
    bool active;          /* catching up: nothing new is applied meanwhile */
    bool ready;           /* the held messages may be applied now */
    uint64_t count;       /* messages held */
    int64_t next_at_ms;   /* the first one's first instant; INT64_MAX when none */
} held_state_t;

/* The state at mono_ms (aclock_monotonic_ms). */
int held_state(held_t *self, MDB_txn *txn, int64_t mono_ms, held_state_t *state);

typedef struct {
    receiver_peer_t from;
    applied_t first;
    Arrears__Envelope *env;   /* free with envelope_free */
} held_msg_t;

/* Takes the first held message out (MDB_NOTFOUND when none). */
int held_take(held_t *self, MDB_txn *txn, held_msg_t *msg);
/* The catch-up is over: the replays are forgotten, the restore marker answered. */
int held_finish(held_t *self, MDB_txn *txn);

/* Pure: whether the catch-up may apply, at mono_ms, after the last replay arrived at
 * quiet_since_ms, with every replay in (complete) or not. */
bool held_settled(int64_t mono_ms, int64_t quiet_since_ms, int64_t settle_ms, bool complete);

const char *held_strerror(int code);

#endif
