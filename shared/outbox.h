/* outbox: the sender's half of effectively-once delivery, as stored state.
 *
 * A service appends the messages a state change causes inside the SAME write
 * transaction as the change (transactional outbox), so either both are durable or
 * neither. Each outbox is one stream with its own stream id, kept in the store across
 * restarts; seqs start at 1. Acked messages are retained for a while (retain_ms, at
 * most retain_max) so a receiver restored from a backup can ask for them again.
 * Permanently rejected messages move to the dead-letter table for an operator.
 *
 * Limits are enforced at append, where the caller can still refuse its own inbound
 * traffic: a message over max_message_bytes (the receiver's ZMQ_MAXMSGSIZE, which
 * would drop the connection) is refused with a reason, and at max_unacked the outbox
 * answers OUTBOX_EFULL so the service says `busy` instead of growing without end.
 *
 * Tables, for outbox NAME: NAME.log (seq -> append_ms(be64) + packed Envelope),
 * NAME.dead (seq -> class, code, reason, packed Envelope), NAME.meta, NAME.applied
 * (through_seq -> from_seq, at_ms, order_us: when the receiver first applied seqs
 * from..through, as its Ack said; pruned with the messages).
 *
 * Replays. What a receiver restored from a backup asks for again was applied by it
 * once: the sender resends it with when that was (Envelope.replay), so the receiver can
 * apply what it lost in the order it first did (staging does: catchup.h).
 *
 * Realignment. A sender restored from a backup appended fewer seqs than its receivers
 * applied, so its seqs no longer name the same messages. `arrears restore` writes a
 * restore marker (OUTBOX_RESTORED_TABLE) into the store it puts back; at the sender's
 * start every outbox that has not answered that marker moves to a new stream id
 * (outbox_settle_restore), carrying what was not acknowledged to seqs 1.. of the new
 * stream. A sender told it is behind its receiver without a marker (an ack beyond its
 * last seq) does the same (outbox_roll). Receivers take the new stream from seq 1 and
 * recognize what they applied before by its natural key. Each move is logged
 * (event=stream_realigned) with the old and new stream and the marks. */
#ifndef ARREARS_OUTBOX_H
#define ARREARS_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "envelope.h"
#include "store.h"

#define OUTBOX_NAME_MAX 32
/* The store-wide restore marker: key OUTBOX_RESTORED_KEY -> be64 (any value that changes
 * on each restore; `arrears restore` writes the wall clock in ms). */
#define OUTBOX_RESTORED_TABLE "outbox.restored"
#define OUTBOX_RESTORED_KEY "restored_ms"

enum {
    OUTBOX_OK = 0,
    OUTBOX_ETOO_LARGE = -30401,  /* packed message over max_message_bytes */
    OUTBOX_EFULL = -30402,       /* max_unacked messages already waiting */
    OUTBOX_ENOBODY = -30403,     /* an envelope without a body */
    OUTBOX_ENAME = -30404,       /* name empty or over OUTBOX_NAME_MAX */
    OUTBOX_EPRUNED = -30405,     /* the seq asked for is no longer retained */
};

typedef struct {
    size_t max_message_bytes;
    uint64_t max_unacked;
    int64_t retain_ms;
    uint64_t retain_max;
} outbox_limits_t;

typedef struct {
    uint64_t stream_id;
    uint64_t last_seq;        /* highest seq appended (0: none yet) */
    uint64_t acked_through;   /* as stored; the sender may know of later acks */
    uint64_t acked_known;     /* what the sender knows (outbox_note_acked), >= acked_through */
    uint64_t first_retained;  /* lowest seq still held (0: none) */
    uint64_t dead_letters;
} outbox_state_t;

typedef struct outbox outbox_t;

/* Called for each message by outbox_each; a non-zero return stops the walk. */
typedef int (outbox_visit_fn)(uint64_t seq, const uint8_t *envelope, size_t len, void *arg);

outbox_limits_t outbox_default_limits(void);
int outbox_open(store_t *store, const char *name, const outbox_limits_t *limits,
                outbox_t **self_p);
void outbox_destroy(outbox_t **self_p);
const char *outbox_name(const outbox_t *self);
/* From now on messages are stored sealed with crypt (personal data at rest) and opened
 * for sending; dead letters keep the sealed bytes. Call right after outbox_open. */
int outbox_seal_with(outbox_t *self, crypt_t *crypt);

/* Fills env's stream_id, seq and sent_at_ms, packs it and appends it in txn. */
int outbox_append(outbox_t *self, MDB_txn *txn, Arrears__Envelope *env, int64_t now_ms,
                  uint64_t *seq);
int outbox_state(outbox_t *self, MDB_txn *txn, outbox_state_t *state);
/* How many more messages fit under max_unacked now. A service checks this before it
 * changes anything, so a full outbox refuses inbound work (`busy`) cleanly. */
int outbox_room(outbox_t *self, MDB_txn *txn, uint64_t *room);
/* Whether env, once given its stream id, seq and time, stays within max_message_bytes:
 * for callers that must refuse an oversize message before they change anything. */
bool outbox_fits(const outbox_t *self, const Arrears__Envelope *env);
int outbox_each(outbox_t *self, MDB_txn *txn, uint64_t from_seq, uint64_t max_count,
                outbox_visit_fn *visit, void *arg);

/* Acks move the stored mark forward; a restored receiver may move it back (rewind). */
int outbox_store_acked(outbox_t *self, MDB_txn *txn, uint64_t acked_through);
/* The sender's in-memory view of acks, so the bound holds between stored marks. */
void outbox_note_acked(outbox_t *self, uint64_t acked_through);
int outbox_dead_letter(outbox_t *self, MDB_txn *txn, const reject_t *reject);
int outbox_prune(outbox_t *self, MDB_txn *txn, int64_t now_ms, size_t max_deletes,
                 size_t *deleted);

/* Records when the receiver applied seqs up to through_seq (an Ack's Applied): the
 * range after the highest seq recorded so far. A seq keeps its first record: a
 * receiver rewound and acknowledging again does not replace it. */
int outbox_note_applied(outbox_t *self, MDB_txn *txn, uint64_t through_seq,
                        const applied_t *applied);
/* The highest seq recorded (0: none). */
int outbox_applied_through(outbox_t *self, MDB_txn *txn, uint64_t *through_seq);
/* When the receiver first applied seq: *found false when no record covers it (never
 * acknowledged with an Applied, or pruned). */
int outbox_applied_of(outbox_t *self, MDB_txn *txn, uint64_t seq, applied_t *applied,
                      bool *found);

/* Leaves the current stream for a new one (see the top): the un-acked messages become
 * seqs 1.. of it, the retained acked ones are dropped, with their Applied records.
 * peer_mark, what the receiver said it applied (0: not known), is only logged. On error
 * abort txn. */
int outbox_roll(outbox_t *self, MDB_txn *txn, const char *why, uint64_t peer_mark,
                uint64_t *new_stream);
/* outbox_roll when the store was restored since this outbox last answered a restore
 * marker; *rolled says whether it did. Idempotent: safe in a replayed transaction. */
int outbox_settle_restore(outbox_t *self, MDB_txn *txn, bool *rolled);

const char *outbox_strerror(int code);

#endif
