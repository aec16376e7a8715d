/* tasks: the outreach broker's durable state in its LMDB — the task table and the
 * indexes that make it a queue, the contact ledger, what it knows of each person, and
 * the contact points that lead back to a person. Storage only: what a task may do is the
 * broker's decision (broker.c) by the conduct gate's rules (conduct.c).
 *
 * Tables (keys big-endian so byte order is numeric order):
 *   outreach.tasks     task id "<platform>/<contact_id>" -> StoredTask, sealed (it holds
 *                      the borrower's name and contact points)
 *   outreach.queue     [priority u8][bucket u8][due_ms u64][task id] -> ""
 *                      (PENDING, UNRESOLVED; bucket = the channel, so a puller of calls is
 *                      never starved behind a backlog of texts it cannot send; an assigned
 *                      task's bucket is TASKS_BUCKET_ASSIGNED | channel, out of every
 *                      ordinary pull's way: only its account's holder finds it, by the
 *                      account)
 *   outreach.leases    [until_ms u64][task id] -> ""    (LEASED, STARTED, RESOLVING)
 *   outreach.accounts  "<platform>/<account_ref>" -> task id, dupsort (open tasks only)
 *   outreach.ledger    [who 16][at_ms u64][task id] -> [channel u8][connected u8]
 *   outreach.persons   [who 16] -> StoredPerson
 *   outreach.points    BLAKE2b-128 of a contact point -> [who 16], dupsort
 *   outreach.meta      name -> u64 (the next lease id, the clock)
 *   outreach.inbound   the channel's inbound id -> "" (an inbound taken once)
 *   outreach.holders   "<platform>/<account_ref>" -> the assignee principal holding the
 *                      account's case (legal's CaseAssignment)
 *   outreach.held      assignee principal -> "<platform>/<account_ref>", dupsort (the
 *                      accounts it holds, read a bounded slice at a time)
 * A "who" is a person (staging's 16-byte person key) or, for an account without one and
 * for per-account caps, the BLAKE2b-128 of "a:<platform>/<account_ref>". */
#ifndef ARREARS_OUTREACH_TASKS_H
#define ARREARS_OUTREACH_TASKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "conduct.h"
#include "crypt.h"
#include "outreach_store.pb-c.h"
#include "store.h"

/* Short names for the stored records (outreach_store.proto) and what they carry. */
typedef Arrears__StoredTask StoredTask;
typedef Arrears__StoredTaskState StoredTaskState;
typedef Arrears__StoredPerson StoredPerson;
typedef Arrears__StoredDecision StoredDecision;
typedef Arrears__ContactRequest ContactRequest;
typedef Arrears__ContactResult ContactResult;
typedef Arrears__ContactPoint ContactPoint;
#define STORED_TASK__INIT ARREARS__STORED_TASK__INIT
#define STORED_PERSON__INIT ARREARS__STORED_PERSON__INIT
#define TASK_PENDING ARREARS__STORED_TASK_STATE__TASK_PENDING
#define TASK_LEASED ARREARS__STORED_TASK_STATE__TASK_LEASED
#define TASK_STARTED ARREARS__STORED_TASK_STATE__TASK_STARTED
#define TASK_DONE ARREARS__STORED_TASK_STATE__TASK_DONE
#define TASK_CANCELLED ARREARS__STORED_TASK_STATE__TASK_CANCELLED
#define TASK_REFUSED ARREARS__STORED_TASK_STATE__TASK_REFUSED
#define TASK_UNRESOLVED ARREARS__STORED_TASK_STATE__TASK_UNRESOLVED
#define TASK_RESOLVING ARREARS__STORED_TASK_STATE__TASK_RESOLVING
#define TASK_NEEDS_PERSON ARREARS__STORED_TASK_STATE__TASK_NEEDS_PERSON

#define TASKS_ID_MAX 160            /* platform (64) + '/' + contact id (80), with room */
#define TASKS_ACCOUNT_KEY_MAX 130   /* platform (64) + '/' + account ref (64) */
#define TASKS_WHO_BYTES 16
#define TASKS_RECORD_MAX (64 * 1024)
#define TASKS_PRIORITY_MAX 100
#define TASKS_PRINCIPAL_MAX 64      /* an assignee principal, as legal names it */
#define TASKS_BUCKET_ASSIGNED 0x80u  /* the queue bucket bit of an assigned task */

enum {
    TASKS_OK = 0,
    TASKS_ECORRUPT = -31301,   /* a stored record does not decode or open */
    TASKS_ETOO_LARGE = -31302, /* a task record over TASKS_RECORD_MAX */
    TASKS_EKEY = -31303,       /* an id or key over its limit */
};

typedef struct tasks tasks_t;
typedef uint8_t tasks_who_t[TASKS_WHO_BYTES];

int tasks_open(store_t *store, crypt_t *crypt, tasks_t **self_p);
void tasks_destroy(tasks_t **self_p);

/* *out is NULL (and 0 returned) when there is no such task; free it with
 * arrears__stored_task__free_unpacked(*out, NULL). */
int tasks_get(tasks_t *self, MDB_txn *txn, const char *task_id, StoredTask **out);
/* Writes the task and moves its index entries from what before had (NULL: a new task)
 * to what after has: queue while PENDING, leases while leased, the account's open
 * tasks while not final. */
int tasks_save(tasks_t *self, MDB_txn *txn, const char *task_id, const StoredTask *before,
               const StoredTask *after);
bool tasks_state_is_final(StoredTaskState state);

/* Up to max ids of queued tasks (PENDING, and UNRESOLVED awaiting a look-up) on the
 * channels of the mask (bit c: proto Channel c + 1) due at now_ms or before: most urgent
 * priority first, then by channel, then earliest due; never an assigned task (its
 * holder finds it by the account). ids is max rows of TASKS_ID_MAX + 1. */
int tasks_due(tasks_t *self, MDB_txn *txn, int64_t now_ms, unsigned channels, size_t max,
              char (*ids)[TASKS_ID_MAX + 1], size_t *n);
/* Up to max ids of tasks whose lease ended at now_ms or before. */
int tasks_expired(tasks_t *self, MDB_txn *txn, int64_t now_ms, size_t max,
                  char (*ids)[TASKS_ID_MAX + 1], size_t *n);
/* The earliest due instant in the queue and lease end, INT64_MAX when none. Assigned
 * tasks (a firm's or agency's calls) are left out of due_ms: they are people's work, which
 * neither holds a simulated clock nor counts as the broker's next work. */
int tasks_next_instant(tasks_t *self, MDB_txn *txn, int64_t *due_ms, int64_t *lease_ms);
/* Ids of the account's open tasks. */
int tasks_of_account(tasks_t *self, MDB_txn *txn, const char *account_key, size_t max,
                     char (*ids)[TASKS_ID_MAX + 1], size_t *n);
/* Up to max ids of tasks, in id order, whose id starts with prefix and comes after
 * after_id ("" from the first): every task of an account, open or ended, by its
 * contact ids' prefix "<platform>/<account_ref>#" (outreach.proto ContactRequest). */
int tasks_ids_after(tasks_t *self, MDB_txn *txn, const char *prefix, const char *after_id,
                    size_t max, char (*ids)[TASKS_ID_MAX + 1], size_t *n);
/* Calls visit for every task, in id order (the whole table: for reports and dumps);
 * visit's non-zero return stops the walk and is returned. */
typedef int (tasks_visit_fn)(const char *task_id, const StoredTask *t, void *arg);
int tasks_each(tasks_t *self, MDB_txn *txn, tasks_visit_fn *visit, void *arg);
/* Counts of tasks by state (index StoredTaskState) over the whole table. */
int tasks_count_states(tasks_t *self, MDB_txn *txn, uint64_t counts[10]);

/* An assigned task: a call or visit at the "legal" stage. Only the assignee holding its
 * account's case works it (outreach.proto, legal.proto CaseAssignment). */
bool tasks_is_assigned(const ContactRequest *r);

/* Who holds the account's case: holder "" (and 0 returned) when nobody does. */
int tasks_holder_get(tasks_t *self, MDB_txn *txn, const char *account_key,
                     char holder[TASKS_PRINCIPAL_MAX + 1]);
/* Makes principal the account's holder, in place of any earlier one. */
int tasks_holder_set(tasks_t *self, MDB_txn *txn, const char *account_key, const char *principal);
/* The account has no holder from now on (nothing when it had none). */
int tasks_holder_clear(tasks_t *self, MDB_txn *txn, const char *account_key);
/* Up to max of the accounts principal holds, in key order from the start-th (counted
 * from 0, modulo how many it holds; *total), wrapping round once. */
int tasks_held(tasks_t *self, MDB_txn *txn, const char *principal, size_t start, size_t max,
               char (*accounts)[TASKS_ACCOUNT_KEY_MAX + 1], size_t *n, size_t *total);

void tasks_who_of_account(const char *account_key, tasks_who_t who);
/* The request's person when staging sent one, else its account. */
void tasks_who_of_request(const ContactRequest *r, tasks_who_t who);

/* The contact ledger: one entry per attempt started. */
int tasks_ledger_add(tasks_t *self, MDB_txn *txn, const tasks_who_t who, int64_t at_ms,
                     const char *task_id, int channel, bool connected);
int tasks_ledger_remove(tasks_t *self, MDB_txn *txn, const tasks_who_t who, int64_t at_ms,
                        const char *task_id);
/* Attempts since since_ms, at most cap (the newest dropped beyond it: caps only
 * need the count up to the largest cap). */
int tasks_ledger_read(tasks_t *self, MDB_txn *txn, const tasks_who_t who, int64_t since_ms,
                      conduct_attempt_t *out, size_t cap, size_t *n);

/* *out NULL when unknown; free with arrears__stored_person__free_unpacked. */
int tasks_person_get(tasks_t *self, MDB_txn *txn, const tasks_who_t who, StoredPerson **out);
int tasks_person_put(tasks_t *self, MDB_txn *txn, const tasks_who_t who, const StoredPerson *p);

/* Contact points (lower-cased) that lead to a person, for inbound opt-outs. */
int tasks_point_link(tasks_t *self, MDB_txn *txn, const char *point, const tasks_who_t who);
int tasks_point_people(tasks_t *self, MDB_txn *txn, const char *point, tasks_who_t *out,
                       size_t cap, size_t *n);

/* First sight of an inbound id: *fresh true and it is recorded. */
int tasks_inbound_once(tasks_t *self, MDB_txn *txn, const char *inbound_id, bool *fresh);

int tasks_meta_get(tasks_t *self, MDB_txn *txn, const char *name, uint64_t dflt, uint64_t *out);
int tasks_meta_put(tasks_t *self, MDB_txn *txn, const char *name, uint64_t value);

/* JSON lines for `outreach-broker dump`: every task (with its decisions), the ledger,
 * the persons — what an independent checker reads. */
int tasks_dump(tasks_t *self, MDB_txn *txn, FILE *out);

const char *tasks_strerror(int code);

#endif
