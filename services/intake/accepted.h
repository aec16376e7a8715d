/* accepted: what intake has accepted from each platform, keyed by (platform, natural
 * key) — accounts with their versions, payments and complaints by their refs, recalls —
 * and the account status staging last reported. It answers the natural-key questions
 * idempotence needs: is this upsert a new version or the same one again; was this
 * payment ref seen, with the same content or a conflicting one.
 *
 * Records that hold personal data (the account with its borrower, complaint texts, and
 * payments, whose fields unknown to this version may be personal) are sealed with crypt
 * before they touch the store. Every function works inside the
 * caller's write transaction and decides before it writes: an outcome other than
 * ACCEPTED_NEW leaves the store untouched.
 *
 * Tables: "accounts" (platform NUL ref -> version be64, currency[3], flags(1), content
 * hash[32], sealed AccountUpsert; the flags byte holds recalled (bit 0), erased (bit 1)
 * and in its high nibble the staging shard: where everything about the account goes,
 * fixed when it is first accepted), "payments" and "complaints" (platform NUL ref ->
 * content hash[32], sealed message), "status" (platform NUL ref -> packed
 * AccountStatus), "persons" (keyed BLAKE2b-256 of platform NUL id-number hash -> the
 * shard of the person's first account, one byte). The shard lives in the account record
 * because intake reads and writes that record anyway: a table of its own cost every
 * message a lookup and every new account a write. A store that has last release's
 * "placement" table (platform NUL ref -> shard) has it moved into the records and
 * dropped when it is opened. */
#ifndef ARREARS_ACCEPTED_H
#define ARREARS_ACCEPTED_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "crypt.h"
#include "envelope.h"
#include "store.h"

typedef enum {
    ACCEPTED_NEW = 0,          /* stored: forward it */
    ACCEPTED_SAME = 1,         /* already held with the same content: a duplicate */
    ACCEPTED_REFUSED = 2,      /* *reject says why (unknown account, conflict, currency) */
} accepted_outcome_t;

typedef struct accepted accepted_t;

int accepted_open(store_t *store, crypt_t *crypt, accepted_t **self_p);
void accepted_destroy(accepted_t **self_p);

/* A new account is placed on shard for good; a known one keeps its shard. */
int accepted_upsert(accepted_t *self, MDB_txn *txn, const char *platform,
                    const Arrears__AccountUpsert *m, uint32_t shard, uint64_t *version,
                    accepted_outcome_t *outcome, reject_t *reject);
int accepted_payment(accepted_t *self, MDB_txn *txn, const char *platform,
                     const Arrears__PaymentPosted *m, accepted_outcome_t *outcome,
                     reject_t *reject);
/* Applies the new contact details to the stored account (a new version). */
int accepted_contact(accepted_t *self, MDB_txn *txn, const char *platform,
                     const Arrears__ContactUpdate *m, uint64_t *version,
                     accepted_outcome_t *outcome, reject_t *reject);
int accepted_complaint(accepted_t *self, MDB_txn *txn, const char *platform,
                       const Arrears__Complaint *m, accepted_outcome_t *outcome,
                       reject_t *reject);
int accepted_recall(accepted_t *self, MDB_txn *txn, const char *platform,
                    const Arrears__Recall *m, accepted_outcome_t *outcome, reject_t *reject);

/* The staging shard of an accepted account: where it was placed, 0 for one accepted
 * before intake placed accounts (there was one staging then). MDB_NOTFOUND when the
 * account is not accepted yet. */
int accepted_shard_of(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                      uint32_t *shard);
/* The shard a new account of this person goes to: where the person's first account
 * was placed, so that a shard added later does not split a borrower's accounts; for a
 * person not seen before, shard_of_person over count shards (shards.h), and
 * MDB_NOTFOUND: the person is to be noted (accepted_place_person) once the account is. */
int accepted_person_shard(accepted_t *self, MDB_txn *txn, const char *platform,
                          const ProtobufCBinaryData *id_hash, uint32_t count, uint32_t *shard);
/* Notes a new person's shard: that of the person's first account, just accepted. */
int accepted_place_person(accepted_t *self, MDB_txn *txn, const char *platform,
                          const ProtobufCBinaryData *id_hash, uint32_t shard);

/* Retention (staging decided it, PERSONAL_DATA_ERASED): the account's upload and its
 * complaints keep their natural keys and content hashes, their sealed content becomes
 * empty, and later uploads or contact updates of the account are refused. Payments keep
 * theirs: their fields are amounts, dates, refs and channels, not personal data.
 * *erased_now is false when the account was erased before or is not held. */
int accepted_erase(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                   bool *erased_now);

/* Folds a status event from staging into the account's status. */
int accepted_note_status(accepted_t *self, MDB_txn *txn, const Arrears__StatusEvent *m);
/* Packs an AccountStatus reply (request_id echoed); 0 with *error set on failure. */
size_t accepted_status_reply(accepted_t *self, MDB_txn *txn, const char *platform,
                             const char *account_ref, uint64_t request_id, uint8_t *buf,
                             size_t cap, int *error);

/* The tables, for accepted_dump.c (the layout is documented above). */
typedef struct {
    crypt_t *crypt;
    MDB_dbi accounts, payments, complaints, status, persons;
} accepted_tables_t;
accepted_tables_t accepted_tables(const accepted_t *self);

/* The decrypted logical content, one JSON line per record, sorted by key: for dumps
 * that compare two runs (times that differ between runs are left out). */
int accepted_dump(accepted_t *self, MDB_txn *txn, FILE *out);

#endif
