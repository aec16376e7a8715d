/* intake: the service's decisions, between the receiver (which deduplicates streams and
 * commits batches) and its modules. For each platform message: validate every field,
 * find the staging shard of its account (shards.h: where the account was placed, or
 * its person's shard for a new one), make sure the outbox to that shard has room (else
 * `busy`, before anything changes), settle it against what was accepted before (new,
 * same again, or refused), and forward what is new to the shard as an AccountEvent in
 * the same transaction. Status
 * events from staging go to the platform's feed and account status, once each: a
 * repeat (feed.h) is acknowledged as a duplicate and changes nothing. Queries answer a
 * platform about its own accounts and feed only: the platform is always the
 * connection's principal, never a field. */
#ifndef ARREARS_INTAKE_H
#define ARREARS_INTAKE_H

#include "accepted.h"
#include "aclock.h"
#include "feed.h"
#include "outbox.h"
#include "receiver.h"
#include "shards.h"
#include "tz.h"
#include "validate.h"

typedef struct {
    outbox_t *to_staging[SHARDS_MAX];   /* one per staging shard, in shard order */
    uint32_t shards;
    accepted_t *accepted;
    feed_t *feed;
    tz_cache_t *zones;
    aclock_t *clock;
    validate_limits_t limits;
    int64_t started_ms;
} intake_t;

int intake_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                 const Arrears__Envelope *env, reject_t *reject);
size_t intake_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                    const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject);

#endif
