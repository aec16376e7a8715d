/* ledger: staging's stored accounts — the account records, the borrowers (sealed: they
 * are personal data), the timelines, the persons across accounts and the payment refs
 * seen — in the service's LMDB, inside the caller's transactions.
 *
 * Tables:
 *   staging.keys       platform NUL account_ref       -> id (be64)
 *   staging.accounts   id (be64)                      -> StoredAccount (record.h)
 *   staging.borrowers  id (be64)                      -> sealed packed Borrower, or ""
 *                                                       once erased (a tombstone)
 *   staging.timeline   id (be64) seq (be32)           -> packed TimelineEntry
 *   staging.persons    person key (16 bytes), dupsort -> id (be64)
 *   staging.payments   id (be64) payment_ref          -> amount (be64)
 *   staging.meta       name                           -> value (next_id, the clock, the run)
 *   staging.zones      IANA zone name                 -> "" (the zones the book lives in)
 *   staging.vulnerable person key (16 bytes)          -> "" (a vulnerable account's person)
 * Account ids count from 1 in the order accounts arrive, so the daily run walks the
 * accounts table in key order and keeps its place with one id. */
#ifndef ARREARS_STAGING_LEDGER_H
#define ARREARS_STAGING_LEDGER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "account.h"
#include "crypt.h"
#include "record.h"
#include "store.h"

enum {
    LEDGER_OK = 0,
    LEDGER_ENOTFOUND = -40501,   /* no such account */
    LEDGER_ECORRUPT = -40502,    /* a stored record does not decode */
    LEDGER_ENOMEM = -40503,
};

typedef struct ledger ledger_t;

int ledger_open(store_t *store, crypt_t *crypt, ledger_t **self_p);
void ledger_destroy(ledger_t **self_p);

/* The id of (platform, account_ref), or LEDGER_ENOTFOUND. */
int ledger_find(ledger_t *self, MDB_txn *txn, const char *platform, const char *account_ref,
                uint64_t *id);
/* A new account's id (and the key index entry for it). */
int ledger_create(ledger_t *self, MDB_txn *txn, const char *platform, const char *account_ref,
                  uint64_t *id);
int ledger_get(ledger_t *self, MDB_txn *txn, uint64_t id, account_t *account);
int ledger_put(ledger_t *self, MDB_txn *txn, const account_t *account);
/* Writes the person index for an account that has a person key. */
int ledger_index_person(ledger_t *self, MDB_txn *txn, const account_t *account);

/* Seals and stores the borrower; for an erased account it stores nothing (LEDGER_OK): a
 * late upsert must not bring back the personal data retention took away. */
int ledger_put_borrower(ledger_t *self, MDB_txn *txn, uint64_t id, const Arrears__Borrower *b);
/* The borrower unpacked (free with arrears__borrower__free_unpacked(b, NULL)), or NULL
 * in *b when none is stored (or it was erased). */
int ledger_get_borrower(ledger_t *self, MDB_txn *txn, uint64_t id, Arrears__Borrower **b);
/* Erases the account's borrower at the end of its retention (retention.h): the sealed
 * record is replaced by an empty tombstone, which holds nothing personal and keeps
 * ledger_put_borrower from storing one again. Idempotent. The person index and the
 * vulnerable table stay: they hold a 16-byte hash of the platform and the id number's
 * hash, never the number, and the person's other accounts still need them. */
int ledger_erase_borrower(ledger_t *self, MDB_txn *txn, uint64_t id);

/* Replaces the free text operators and agents put on the account's timeline with
 * erasure.h's marker (erasure_entry_reason), at the end of its retention; each entry's
 * kind, actor, day, amount, reference and staging's own words stay. Idempotent. */
int ledger_erase_free_text(ledger_t *self, MDB_txn *txn, const account_t *account);

/* Appends entry as the account's next timeline entry (account->timeline_count + 1). */
int ledger_append_entry(ledger_t *self, MDB_txn *txn, account_t *account, const effect_t *e,
                        int64_t now_ms);
/* Calls visit for entries after after_seq, at most max; visit's non-zero return stops. */
typedef int (ledger_entry_fn)(const Arrears__TimelineEntry *entry, void *arg);
int ledger_each_entry(ledger_t *self, MDB_txn *txn, uint64_t id, uint32_t after_seq,
                      uint32_t max, ledger_entry_fn *visit, void *arg);

/* Every entry of an account (account->timeline_count of them), unpacked, oldest first:
 * a referral's collection record. Free with ledger_entries_free. */
typedef struct {
    Arrears__TimelineEntry **items;
    size_t count;
} ledger_entries_t;
int ledger_load_entries(ledger_t *self, MDB_txn *txn, const account_t *account,
                        ledger_entries_t *entries);
void ledger_entries_free(ledger_entries_t *entries);

/* Records payment_ref for the account; *seen when it was already recorded (nothing
 * written then). */
int ledger_note_payment(ledger_t *self, MDB_txn *txn, uint64_t id, const char *payment_ref,
                        int64_t amount_minor, bool *seen);

/* Whether payment_ref was recorded for the account (a read). */
int ledger_payment_seen(ledger_t *self, MDB_txn *txn, uint64_t id, const char *payment_ref,
                        bool *seen);

/* The next account after after_id in id order (LEDGER_ENOTFOUND at the end). */
/* Whether the account's borrower is vulnerable: flagged on this account or on any other
 * account of the same person (the gentler rules are about the person). A person stays
 * marked once flagged: clearing is left to an operator, never silent. */
int ledger_person_vulnerable(ledger_t *self, MDB_txn *txn, const account_t *account, bool *yes);

/* The time zones of the book (one entry each, noted by ledger_put): the daily run starts
 * only when the clock crosses a borrower-local midnight in one of them. */
int ledger_note_zone(ledger_t *self, MDB_txn *txn, const char *zone);
typedef int (ledger_zone_fn)(const char *zone, void *arg);
int ledger_each_zone(ledger_t *self, MDB_txn *txn, ledger_zone_fn *visit, void *arg);

int ledger_next(ledger_t *self, MDB_txn *txn, uint64_t after_id, account_t *account);

/* A named int64 in the meta table (dflt when absent). */
int ledger_meta_get(ledger_t *self, MDB_txn *txn, const char *name, int64_t dflt, int64_t *value);
int ledger_meta_put(ledger_t *self, MDB_txn *txn, const char *name, int64_t value);

/* Prints every account record, then every timeline entry, one JSON line each (the
 * logical content, borrowers left out: they are personal data). */
int ledger_dump(ledger_t *self, MDB_txn *txn, FILE *out);

const char *ledger_strerror(int code);

#endif
