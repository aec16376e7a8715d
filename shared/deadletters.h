/* deadletters: an operator's hands on a service's dead-letter tables — list, read,
 * replay, discard — the same in every service (svcnet answers DeadLetterQuery and
 * applies DeadLetterAction with it, before the service's own handler sees them).
 *
 * It works on the tables outbox.h documents (NAME.dead: seq -> class, code, reason\0,
 * the stored message) through their names, not through outbox.c: the outbox appends
 * and dead-letters, this module only reads and removes dead letters, and a replay goes
 * back in through outbox_append(), so the outbox's stream, bound and sealing apply.
 *
 * Sealing: an outbox sealed at rest keeps its dead letters sealed. The module opens
 * them with the service's at-rest key when it has it (crypt may be NULL: then only
 * clear ones read); a letter that neither opens nor decodes is `unreadable` and may
 * only be discarded.
 *
 * Audit: each replay or discard is logged (event=dead_letter_replayed outbox= seq=
 * new_seq= by= reason=, event=dead_letter_discarded outbox= seq= by= reason=) and
 * written, in the same transaction, to the table DEADLETTERS_AUDIT_TABLE (be64 number ->
 * the same key=value text with at_ms), which keeps the last DEADLETTERS_AUDIT_MAX. */
#ifndef ARREARS_DEADLETTERS_H
#define ARREARS_DEADLETTERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypt.h"
#include "outbox.h"
#include "receiver.h"
#include "store.h"

#define DEADLETTERS_OUTBOXES_MAX 16       /* svcnet's peers (SVCNET_MAX_PEERS): one outbox each */
#define DEADLETTERS_PAGE_MAX 500        /* DeadLetterQuery.limit, at most */
#define DEADLETTERS_PAGE_DEFAULT 100
#define DEADLETTERS_ACTION_REASON_MAX 200
#define DEADLETTERS_BODY_TYPE_MAX 48    /* the longest Envelope body field name fits */
#define DEADLETTERS_AUDIT_TABLE "dead_letters.audit"
#define DEADLETTERS_AUDIT_MAX 10000

enum {
    DEADLETTERS_OK = 0,
    DEADLETTERS_EOUTBOX = -31701,       /* the service has no outbox of that name */
    DEADLETTERS_ESEQ = -31702,          /* no dead letter with that seq in the outbox */
    DEADLETTERS_EUNREADABLE = -31703,   /* it does not open or decode: discard only */
};

/* One dead letter as listed. Strings point into the transaction's pages or into
 * static descriptors: valid until the transaction ends. */
typedef struct {
    const char *outbox;
    uint64_t seq;
    Arrears__Reject__Class klass;
    Arrears__Reject__Code code;
    const char *reason;
    const char *body_type;    /* "" when unreadable */
    size_t size_bytes;        /* the opened, packed Envelope; 0 when unreadable */
    bool has_sent_at;
    int64_t sent_at_ms;
    bool unreadable;
} deadletter_t;

/* Called for each dead letter by deadletters_each; non-zero stops the walk (and
 * deadletters_each returns it, STORE_STOP returned as 0). */
typedef int (deadletters_visit_fn)(const deadletter_t *letter, void *arg);

typedef struct deadletters deadletters_t;

/* outboxes: the service's, in its order (count <= DEADLETTERS_OUTBOXES_MAX), opened;
 * crypt: its at-rest key or NULL. Opens the audit table (at start-up: store_table). */
int deadletters_new(store_t *store, outbox_t *const *outboxes, size_t count,
                    const crypt_t *crypt, deadletters_t **self_p);
void deadletters_destroy(deadletters_t **self_p);

size_t deadletters_outbox_count(const deadletters_t *self);
const char *deadletters_outbox_name(const deadletters_t *self, size_t i);
/* The outbox's index, or -1. */
int deadletters_outbox_index(const deadletters_t *self, const char *name);

/* Visits dead letters in (outbox order, seq) order: only outbox `only` (-1: every one),
 * starting after (after_outbox, after_seq) (after_outbox -1: from the first). */
int deadletters_each(deadletters_t *self, MDB_txn *txn, int only, int after_outbox,
                     uint64_t after_seq, deadletters_visit_fn *visit, void *arg);
/* How many dead letters outbox `only` holds (-1: every outbox). */
int deadletters_count(deadletters_t *self, MDB_txn *txn, int only, uint64_t *count);
/* One dead letter with its opened, packed Envelope in *envelope (malloc'd, the
 * caller's, NULL when unreadable). DEADLETTERS_ESEQ when there is none. */
int deadletters_read(deadletters_t *self, MDB_txn *txn, int outbox, uint64_t seq,
                     deadletter_t *letter, uint8_t **envelope, size_t *envelope_len);

/* Appends the message again to its outbox (a new seq, *new_seq) and removes the dead
 * letter, both in txn; audited as `by` for `reason`. Nothing is written when it fails:
 * DEADLETTERS_ESEQ, DEADLETTERS_EUNREADABLE, OUTBOX_EFULL, OUTBOX_ETOO_LARGE, or a
 * store error. */
int deadletters_replay(deadletters_t *self, MDB_txn *txn, int outbox, uint64_t seq,
                       int64_t now_ms, const char *by, const char *reason, uint64_t *new_seq);
/* Removes the dead letter in txn; audited. DEADLETTERS_ESEQ when there is none. */
int deadletters_discard(deadletters_t *self, MDB_txn *txn, int outbox, uint64_t seq,
                        int64_t now_ms, const char *by, const char *reason);

/* The wire side, with receiver.h's handler signatures (svcnet dispatches to them):
 * DeadLetterQuery answered into buf (0 with *reject when refused), DeadLetterAction
 * applied in txn (APPLY_OK, APPLY_REJECTED with *reject, or a store error). */
size_t deadletters_query(deadletters_t *self, MDB_txn *txn, const receiver_peer_t *from,
                         const Arrears__Envelope *env, uint8_t *buf, size_t cap,
                         reject_t *reject);
int deadletters_apply(deadletters_t *self, MDB_txn *txn, const receiver_peer_t *from,
                      const Arrears__Envelope *env, int64_t now_ms, reject_t *reject);

const char *deadletters_strerror(int code);

#endif
