/* chain: the delivery demonstration's receiving effect, deliberately NOT idempotent.
 * Each DemoItem extends a hash chain stored with it (link k = BLAKE2b(link k-1, number,
 * payload)), so applying an item twice, skipping one or reordering two changes every
 * later link, and chain_verify() finds it. Used by `arrears demo`, the crash, bad-input
 * and map-full tests, and the delivery benchmark. */
#ifndef ARREARS_CHAIN_H
#define ARREARS_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "receiver.h"
#include "store.h"

#define CHAIN_PAYLOAD_MAX_BYTES (64 * 1024)
#define CHAIN_HASH_BYTES 32

typedef struct chain chain_t;

typedef struct {
    uint64_t links;
    uint8_t head[CHAIN_HASH_BYTES];
} chain_head_t;

int chain_open(store_t *store, chain_t **self_p);
void chain_destroy(chain_t **self_p);

/* The receiver's apply function (receiver.h), with a chain_t as app. */
int chain_apply(void *app, MDB_txn *txn, const receiver_peer_t *from, const Arrears__Envelope *env,
                reject_t *reject);
int chain_read_head(chain_t *self, MDB_txn *txn, chain_head_t *head);

/* The deterministic payload of item `number`, as the demo sender makes it. */
void chain_payload(uint64_t number, uint8_t *buf, size_t len);

/* Recomputes every link from the expected payloads: 0 when links 1..expected_count
 * hold items 1..expected_count, each once, in order; else a description in err. */
int chain_verify(chain_t *self, MDB_txn *txn, uint64_t expected_count, size_t payload_bytes,
                 char *err, size_t err_len);

#endif
