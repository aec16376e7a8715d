/* cases: the legal service's durable state in its LMDB — cases and the indexes that
 * find them, the referrals and case files they came from (sealed: they hold the
 * borrower), and the recoveries on record. Storage only: what a case may do is decided
 * in legal.c by the pure rules (eligibility, lifecycle, assign, remit).
 *
 * Tables (instants big-endian so byte order is time order):
 *   legal.cases       case id -> StoredCase
 *   legal.referrals   case id -> LegalReferral, sealed
 *   legal.files       [case id][form u8] -> the case file in that form, sealed
 *   legal.accounts    "<platform>/<account_ref>" -> case id of the account's open case
 *   legal.assignees   [assignee]\0[case id] -> ""  (cases placed with it now, and
 *                     the cases that ended with it)
 *   legal.recoveries  [case id]\0[recovery ref] -> amount (8 bytes)
 *   legal.due         [due_ms u64][case id] -> ""  (an offer's deadline, a recall check)
 *   legal.waiting     case id -> ""  (open, with no assignee; ids grow with age)
 *   legal.meta        name -> u64 (the next case number, the clock, "open/<assignee>":
 *                     the open cases placed with it)
 *   legal.taken       "<platform>/<account_ref>"\0[what]\0[at_ms u64][reference] -> ""
 *                     (staging's referrals and notices taken, by their natural key)
 *   legal.ever        "<platform>/<account_ref>"\0[case id] -> ""  (every case the
 *                     account ever had, open or ended: what an erasure reaches)
 * Case ids are "L" and a 9-digit number, in the order referrals were taken. */
#ifndef ARREARS_LEGAL_CASES_H
#define ARREARS_LEGAL_CASES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "crypt.h"
#include "legal_store.pb-c.h"
#include "store.h"

typedef Arrears__StoredCase StoredCase;
typedef Arrears__StoredStep StoredStep;
typedef Arrears__LegalReferral LegalReferral;
#define STORED_CASE__INIT ARREARS__STORED_CASE__INIT
#define STORED_STEP__INIT ARREARS__STORED_STEP__INIT

#define CASES_ID_MAX 16
#define CASES_ACCOUNT_KEY_MAX 130        /* platform (64) + '/' + account ref (64) */
#define CASES_RECORD_MAX (512 * 1024)    /* a case with its history (512 steps of ~600 B) */
#define CASES_FILE_MAX (2 * 1024 * 1024) /* a case file in one form */
#define CASES_STEPS_MAX 512              /* history entries per case */
/* Of those, kept for legal's own steps (offers, deadlines, recalls, notices): an
 * assignee's reports stop here, so legal can always still move a full case. */
#define CASES_STEPS_RESERVED 64

enum {
    CASES_OK = 0,
    CASES_ECORRUPT = -41201,   /* a stored record does not decode or open */
    CASES_ETOO_LARGE = -41202, /* a record or file over its limit */
    CASES_EKEY = -41203,       /* an id or key over its limit */
};

typedef struct cases cases_t;

int cases_open(store_t *store, crypt_t *crypt, cases_t **self_p);
void cases_destroy(cases_t **self_p);
const char *cases_strerror(int code);

/* Case number n's id ("L000000042"); false when it would not fit CASES_ID_MAX. */
bool cases_id_of(uint64_t number, char id[CASES_ID_MAX + 1]);
/* The next case id; take counts it (else it is only read, nothing is written). */
int cases_next_id(cases_t *self, MDB_txn *txn, bool take, char id[CASES_ID_MAX + 1]);

/* *out NULL (and 0) when there is no such case; free with
 * arrears__stored_case__free_unpacked(*out, NULL). */
int cases_get(cases_t *self, MDB_txn *txn, const char *case_id, StoredCase **out);
/* Writes the case and moves its index entries from what before had (NULL: new) to what
 * after has: the account's open case, waiting, due, the assignee's list. */
int cases_save(cases_t *self, MDB_txn *txn, const StoredCase *before, const StoredCase *after);

/* The open case of an account, "" when none. */
int cases_of_account(cases_t *self, MDB_txn *txn, const char *platform,
                     const char *account_ref, char id[CASES_ID_MAX + 1]);

/* Ids of every case the account ever had (at most max), oldest first. In a write
 * transaction: the first call on a store from before legal.ever indexes its cases. */
int cases_ever_of_account(cases_t *self, MDB_txn *txn, const char *platform,
                          const char *account_ref, size_t max, char (*ids)[CASES_ID_MAX + 1],
                          size_t *n);

/* Staging's messages by natural key — the account, what (a referral, a notice's kind),
 * staging's instant and a reference — so that what staging sends again after it was
 * restored from a backup (re-derived at the same instants, on a new stream: DESIGN.md
 * "Restore") is recognized and changes nothing. cases_taken reads (*seen), cases_take
 * records. */
typedef struct {
    const char *platform, *account_ref, *what, *reference;
    int64_t at_ms;
} cases_taken_t;
int cases_taken(cases_t *self, MDB_txn *txn, const cases_taken_t *key, bool *seen);
int cases_take(cases_t *self, MDB_txn *txn, const cases_taken_t *key);

int cases_referral_put(cases_t *self, MDB_txn *txn, const char *case_id, const LegalReferral *r);
/* *out NULL when absent; free with arrears__legal_referral__free_unpacked. */
int cases_referral_get(cases_t *self, MDB_txn *txn, const char *case_id, LegalReferral **out);

int cases_file_put(cases_t *self, MDB_txn *txn, const char *case_id, int form,
                   const uint8_t *data, size_t len);
/* The whole file opened into the caller's buffer (cap bytes); *len 0 when absent. */
int cases_file_get(cases_t *self, MDB_txn *txn, const char *case_id, int form, uint8_t *buf,
                   size_t cap, size_t *len);

/* A recovery reference on record for the case: *known with its amount. */
int cases_recovery_get(cases_t *self, MDB_txn *txn, const char *case_id, const char *ref,
                       bool *known, int64_t *amount_minor);
int cases_recovery_put(cases_t *self, MDB_txn *txn, const char *case_id, const char *ref,
                       int64_t amount_minor);

/* Ids of cases whose due instant is at or before now_ms (at most max). */
int cases_due(cases_t *self, MDB_txn *txn, int64_t now_ms, size_t max,
              char (*ids)[CASES_ID_MAX + 1], size_t *n);
/* Ids of waiting cases after after_id ("" from the oldest), oldest first, at most max. */
int cases_waiting(cases_t *self, MDB_txn *txn, const char *after_id, size_t max,
                  char (*ids)[CASES_ID_MAX + 1], size_t *n);
/* The earliest due instant, INT64_MAX when none. */
int cases_next_due(cases_t *self, MDB_txn *txn, int64_t *due_ms);
/* Ids of an assignee's cases after after_id, in id order (at most max). */
int cases_of_assignee(cases_t *self, MDB_txn *txn, const char *assignee, const char *after_id,
                      size_t max, char (*ids)[CASES_ID_MAX + 1], size_t *n);

/* Open cases placed with an assignee now (offered or accepted). */
int cases_open_count(cases_t *self, MDB_txn *txn, const char *assignee, uint32_t *n);

/* Visits every case in id order. */
typedef int (cases_visit_fn)(const StoredCase *c, void *arg);
int cases_each(cases_t *self, MDB_txn *txn, cases_visit_fn *visit, void *arg);

int cases_meta_get(cases_t *self, MDB_txn *txn, const char *name, uint64_t dflt, uint64_t *out);
int cases_meta_put(cases_t *self, MDB_txn *txn, const char *name, uint64_t value);

/* JSON lines for `legal dump`: every case with its history. */
int cases_dump(cases_t *self, MDB_txn *txn, FILE *out);

#endif
