/* receiver: the loop step of every service that takes messages on a ROUTER socket.
 *
 * receiver_drain() takes every message waiting (up to batch_max), checks each stream
 * message against the inbox (next seq: apply; old: duplicate; ahead: gap), lets the
 * service apply the next ones inside ONE write transaction (group commit), commits, and
 * only then replies: one cumulative Ack per stream, a Reject for each refused message,
 * one Reject(GAP) per stream that jumped ahead. Queries are answered from a read
 * transaction after the commit; calls (requests that change state, see call below)
 * inside the batch's transaction, answered after the commit. The principal is the
 * connection's ZAP User-Id. An Ack that acknowledges newly applied messages says when
 * their batch was applied (Ack.applied: the now_ms given to receiver_drain, and the
 * batch's order), which senders keep for a replay (outbox.h "Replays").
 *
 * Contract for the service's apply function: decide first, write second. It must
 * return APPLY_REJECTED (with *reject filled) before writing anything, because the
 * writes of the messages before it in the batch share the transaction. It must keep
 * every effect inside the transaction: on MDB_MAP_FULL the whole batch is replayed. */
#ifndef ARREARS_RECEIVER_H
#define ARREARS_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "inbox.h"
#include "store.h"

enum {
    APPLY_OK = 0,
    APPLY_REJECTED = -30601,   /* *reject says why; its class says what happens */
    /* Consumed, but it repeats something already applied under a natural key (a
     * payment ref seen before with the same content): the Ack says `duplicate`. */
    APPLY_DUPLICATE = -30602,
    /* From a call handler: this request is a plain query; answer it as one. */
    RECEIVER_NOT_A_CALL = -30603,
};

#define RECEIVER_ROLE_MAX 16

/* Fills *reject with the class its code implies (BUSY and STORE_FULL: retry later; GAP:
 * rewind; every other code: permanent) and returns APPLY_REJECTED, so an apply function
 * can `return receiver_refuse(reject, CODE, "field", "why %d", n);`. */
int receiver_refuse(reject_t *reject, Arrears__Reject__Code code, const char *field,
                    const char *reason_fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same for a query handler, which answers a refusal with no reply bytes: returns 0,
 * so it can `return receiver_refuse_query(reject, CODE, "field", "why");`. */
size_t receiver_refuse_query(reject_t *reject, Arrears__Reject__Code code, const char *field,
                             const char *reason);

/* Who sent a message: what the ZAP handler said about its connection's key. */
typedef struct {
    char principal[INBOX_PRINCIPAL_MAX + 1];
    char role[RECEIVER_ROLE_MAX];
} receiver_peer_t;

typedef struct {
    /* Applies one next-in-order stream message inside txn. */
    int (*apply)(void *app, MDB_txn *txn, const receiver_peer_t *from,
                 const Arrears__Envelope *env, reject_t *reject);
    /* Answers a query: packs the reply (with env->request_id echoed) into buf and
     * returns its length, or returns 0 with *reject filled. May be NULL. */
    size_t (*query)(void *app, MDB_txn *txn, const receiver_peer_t *from,
                    const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject);
    /* Answers a call: a request (seq 0, request_id >= 1) that, unlike a query, changes
     * state — a worker's pull, attempt or report, idempotent by its own natural keys.
     * Runs inside the batch's write transaction (replayed from scratch after the map
     * grows: every effect must be in txn); packs the reply into buf, sent only after
     * the commit. Returns APPLY_OK with *len, APPLY_REJECTED with *reject,
     * RECEIVER_NOT_A_CALL for a plain query, or a store error. May be NULL. */
    int (*call)(void *app, MDB_txn *txn, const receiver_peer_t *from,
                const Arrears__Envelope *env, uint8_t *buf, size_t cap, size_t *len,
                reject_t *reject);
    /* Called after each committed batch that applied something (e.g. to pump outboxes). */
    void (*committed)(void *app);
} receiver_handler_t;

typedef struct {
    size_t batch_max;          /* messages per write transaction */
    size_t query_reply_max_bytes;
} receiver_limits_t;

/* Reject codes counted one by one (envelope.proto Reject.Code is 1 .. 10 today; a
 * larger one counts in the last slot). */
#define RECEIVER_REJECT_CODES 16

typedef struct {
    uint64_t received;      /* messages taken off the socket, malformed ones included */
    uint64_t applied;
    uint64_t duplicates;
    uint64_t gaps;
    uint64_t rejected;      /* consumed without effect (a PERMANENT Reject) */
    uint64_t rejected_by_code[RECEIVER_REJECT_CODES];   /* the same, by Reject code */
    uint64_t malformed;
    uint64_t batches;
    uint64_t store_full;
    uint64_t queries;       /* queries answered (a reply or a refusal) */
} receiver_stats_t;

/* What receiver_set_timer() reports, as it happens: each batch's write transaction
 * (its commit and fsync included, replays after a map growth too) and each query's
 * answer (its read transaction included). */
typedef enum { RECEIVER_TIMED_BATCH, RECEIVER_TIMED_QUERY } receiver_timed_t;
typedef void (receiver_timer_fn)(void *arg, receiver_timed_t what, int64_t elapsed_us);

typedef struct receiver receiver_t;

receiver_limits_t receiver_default_limits(void);
receiver_t *receiver_new(store_t *store, inbox_t *inbox, void *router,
                         const receiver_limits_t *limits, const receiver_handler_t *handler,
                         void *app);
void receiver_destroy(receiver_t **self_p);

/* Processes what is waiting on the socket now (never blocks). Returns the number of
 * messages taken, or a negative store/LMDB error that stopped the batch. */
int receiver_drain(receiver_t *self, int64_t now_ms);
const receiver_stats_t *receiver_stats(const receiver_t *self);
/* Latencies for a metrics endpoint (metrics.h); fn NULL: none measured (the default). */
void receiver_set_timer(receiver_t *self, receiver_timer_fn *fn, void *arg);

#endif
