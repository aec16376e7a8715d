/* inbox: the receiver's half of effectively-once delivery. For each stream — keyed by
 * (principal, stream id), never by the ZeroMQ routing id, which changes on every
 * reconnect — it records how far the stream is applied, and which seqs were consumed
 * with a permanent reject (so a resend of one gets the same Reject, not an Ack).
 * Every function works inside the caller's write transaction, the same one that holds
 * the message's effect, so the mark and the effect commit or vanish together. */
#ifndef ARREARS_INBOX_H
#define ARREARS_INBOX_H

#include <stdint.h>

#include "envelope.h"
#include "store.h"

#define INBOX_PRINCIPAL_MAX 64   /* bytes of a principal name (the ZAP User-Id) */

enum {
    INBOX_OK = 0,
    INBOX_EPRINCIPAL = -30501,   /* principal empty or over INBOX_PRINCIPAL_MAX */
};

typedef struct inbox inbox_t;

int inbox_open(store_t *store, inbox_t **self_p);
void inbox_destroy(inbox_t **self_p);

/* The highest seq of the stream applied so far; 0 for a stream never seen. */
int inbox_position(inbox_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                   uint64_t *applied_through);
int inbox_advance(inbox_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                  uint64_t applied_through, int64_t now_ms);
/* Records that reject->seq was consumed with a permanent reject. */
int inbox_record_reject(inbox_t *self, MDB_txn *txn, const char *principal,
                        uint64_t stream_id, const reject_t *reject);
/* MDB_NOTFOUND when seq was applied normally. */
int inbox_find_reject(inbox_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                      uint64_t seq, reject_t *reject);
int inbox_stream_count(inbox_t *self, MDB_txn *txn, uint64_t *count);

const char *inbox_strerror(int code);

#endif
