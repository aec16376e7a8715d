/* shards: staging's shards as the services that send to it see them, and the stable
 * hash that places a person on one (DESIGN.md section 7: "Staging shards by a stable
 * hash of the person (platform, id-number hash), so all of one borrower's accounts live
 * on one shard").
 *
 * One staging, as before:
 *   staging = { endpoint = "tcp://staging:7402"; public_key = "keys/staging.pub"; };
 * Shards, a list whose order is the shard number:
 *   staging = (
 *     { endpoint = "tcp://staging-0:7402"; public_key = "keys/staging.pub";   principal = "staging"; },
 *     { endpoint = "tcp://staging-1:7402"; public_key = "keys/staging-1.pub"; principal = "staging-1"; }
 *   );
 * principal is the name the keys file gives the shard's key (role "service"), which is
 * how a receiver knows which shard a message came from; "staging" by default.
 *
 * Who routes how:
 *  - intake places each account when it first accepts it — on the shard of the person's
 *    first account if it knows the person, else on shard_of_person — and sends
 *    everything about the account there afterwards;
 *  - the broker, legal and sale answer each task, case and listing on the shard that
 *    sent it (they keep the shard number with it).
 * The list may grow (new persons spread over more shards; a known person's new accounts
 * still join the person's first) but never be reordered or shrink: placed accounts stay
 * where they were placed, and intake refuses (busy) rather than send one elsewhere.
 * Moving placed accounts between shards (a rebalance) is not implemented. */
#ifndef ARREARS_SHARDS_H
#define ARREARS_SHARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "inbox.h"
#include "link.h"
#include "outbox.h"
#include "svcconf.h"
#include "svcnet.h"

#define SHARDS_MAX 8
#define SHARDS_OUTBOX_NAME_MAX 32

enum {
    SHARDS_ETOO_MANY = -31801,   /* the shards and the other peers exceed SVCNET_MAX_PEERS */
};

typedef struct {
    char endpoint[LINK_ENDPOINT_MAX];
    char public_path[SVCCONF_PATH_MAX];
    char principal[INBOX_PRINCIPAL_MAX + 1];
} shard_peer_t;

typedef struct {
    uint32_t count;   /* 1 .. SHARDS_MAX */
    shard_peer_t shard[SHARDS_MAX];
} shards_t;

/* The setting `name` as one group or a list of groups (above). Errors: file:line. */
int shards_load(const conf_t *conf, const char *name, shards_t *out, char *err,
                size_t err_len);

/* The shard (0 .. count-1) of the person: BLAKE2b (libsodium's generichash) of
 * platform, a NUL, and the id-number hash, its first 8 bytes little-endian, modulo
 * count. Stable across hosts, builds and versions: it decides where accounts live. */
uint32_t shard_of_person(const char *platform, const uint8_t *id_number_hash,
                         size_t id_hash_len, uint32_t count);

/* Whether two configurations name the same shards (a reload cannot change them: the
 * sockets and outboxes are open). */
bool shards_same(const shards_t *a, const shards_t *b);

/* The shard whose principal this is, or -1: a message from a staging principal not in
 * the list has no shard to be answered on. */
int shards_find(const shards_t *self, const char *principal);
/* The shard of a message's sender into *shard, or APPLY_REJECTED with reject saying
 * (UNAUTHORIZED) that principal is not a staging shard of `service` and how to add it. */
int shards_of_sender(const shards_t *self, const char *principal, const char *service,
                     uint32_t *shard, reject_t *reject);

/* The outbox towards shard i: "to_staging" for shard 0 (so a store from before shards
 * keeps its stream), "to_staging.1", ... after. */
void shards_outbox_name(uint32_t i, char out[SHARDS_OUTBOX_NAME_MAX]);

/* Opens one outbox per shard in out[0 .. count-1], sealed with seal_with unless NULL;
 * on failure closes those it opened. */
int shards_open_outboxes(const shards_t *self, store_t *store, const outbox_limits_t *limits,
                         crypt_t *seal_with, outbox_t *out[SHARDS_MAX]);
void shards_close_outboxes(outbox_t *out[SHARDS_MAX]);
/* Adds one svcnet peer per shard, each fed by its outbox, after the peers spec has. */
int shards_add_peers(const shards_t *self, outbox_t *const out[SHARDS_MAX], svcnet_spec_t *spec);
/* SHARDS_ and outbox/store codes. */
const char *shards_strerror(int code);

#endif
