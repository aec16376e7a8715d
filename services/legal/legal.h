/* legal: the legal service's decisions, between the receiver (which deduplicates
 * streams, commits batches and replies after the commit) and its durable state
 * (cases.c). What comes in:
 *   from staging (role "service"), stream messages: LegalReferral opens a case after
 *     legal's own eligibility re-check (a refusal goes back as DECLINED with its reason;
 *     a time-barred one tells staging to mark the account), builds the case file and
 *     places the case with a firm or agency; CaseNotice records a complaint, dispute or
 *     platform payment against the case and ends it when the account closed;
 *     PersonalDataErased erases the account's personal data from each of its cases
 *     (erase.c);
 *   from assignees (role "firm" or "agency"), stream messages: CaseUpdate moves their
 *     own case through the lifecycle table, reports money (recoveries matched by
 *     reference, commission by the assignee's rate) or hands the case back; queries:
 *     their case list and case file chunks — never another assignee's case;
 *   from operators (role "operator"): ClockAdvance on a simulated clock; the legal
 *     report and health (also role "service").
 * What goes out: every step of a case to staging (LegalUpdate: status, recoveries,
 * costs) and who holds which account to outreach (CaseAssignment), each in the same
 * transaction as the change. Staging may run in shards (shards.h): a case keeps the
 * shard whose principal referred it, and its steps go back to that shard; a referral
 * or notice from a principal not in the `staging` list is refused. A sweep places
 * waiting cases, moves offers not accepted by their deadline and recalls cases without
 * progress. */
#ifndef ARREARS_LEGAL_LEGAL_H
#define ARREARS_LEGAL_LEGAL_H

#include <stdbool.h>
#include <stdint.h>

#include "aclock.h"
#include "casefile.h"
#include "cases.h"
#include "config.h"
#include "outbox.h"
#include "receiver.h"
#include "tz.h"

typedef uint64_t (legal_unacked_fn)(void *arg);

typedef struct {
    size_t sweep_max;          /* cases moved per sweep transaction */
    size_t list_max;           /* cases per CaseList reply */
    uint32_t chunk_max_bytes;  /* case file bytes per chunk */
} legal_limits_t;

typedef struct {
    cases_t *cases;
    outbox_t *to_staging[SHARDS_MAX];   /* one per shard of cfg->staging, in its order */
    outbox_t *to_outreach;
    aclock_t *clock;
    tz_cache_t *zones;
    const legal_config_t *cfg;        /* its eligibility.limitation set */
    legal_limits_t limits;
    int64_t started_ms;
    legal_unacked_fn *unacked;        /* sent and not yet acknowledged, both outboxes */
    void *unacked_arg;
    uint8_t *file_buf;                /* CASES_FILE_MAX bytes: one case file at a time */
} legal_t;

/* Messages one apply may append at most, per outbox (room is checked first). */
#define LEGAL_MESSAGES_PER_APPLY 4

legal_limits_t legal_default_limits(void);

int legal_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                const Arrears__Envelope *env, reject_t *reject);
size_t legal_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                   const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject);

/* Deadlines passed, recalls due and waiting cases, at most limits.sweep_max, at now_ms
 * of legal's clock. *moved says how many cases changed. */
int legal_sweep(legal_t *self, MDB_txn *txn, size_t *moved);

/* ---- shared between legal.c, place.c, update.c and query.c */

/* Whether the outbox to staging shard `shard` (a case's staging_shard) and the one to
 * outreach have room for what one message or one swept case may append
 * (LEGAL_MESSAGES_PER_APPLY each); false with *rc set on a store error. A shard past
 * the list (it shrank, which shards.h forbids) has none: its cases wait. */
bool legal_has_room(legal_t *self, MDB_txn *txn, uint32_t shard, int *rc);
/* The same for a message: 0 with room, else a BUSY refusal (APPLY_REJECTED) or a store
 * error, before anything changes. */
int legal_need_room(legal_t *self, MDB_txn *txn, uint32_t shard, reject_t *reject);
/* A step of a case's history (strings borrowed: legal_add_step copies them). */
StoredStep legal_step(int64_t at_ms, Arrears__CaseStatus status, const char *actor,
                      const char *what, const char *assignee, const char *detail);
/* Appends a step to the case's history (CASES_ETOO_LARGE past CASES_STEPS_MAX). */
int legal_add_step(StoredCase *c, const StoredStep *step);
/* Tells the case's staging shard its status with this step's money and detail. */
int legal_tell_staging(legal_t *self, MDB_txn *txn, const StoredCase *c, const StoredStep *s,
                       bool time_barred);
/* Tells outreach whether the case's assignee holds the account now. */
int legal_tell_outreach(legal_t *self, MDB_txn *txn, const StoredCase *c, const char *assignee,
                        bool active);
/* Stores both forms of a case file, sealed. */
int legal_store_file(legal_t *self, MDB_txn *txn, const char *id, const casefile_t *f);
/* The end of an account's retention (erase.c): every case it ever had keeps its figures,
 * states, dates and history, and loses the borrower — in the referral, both forms of the
 * case file (rebuilt from the erased referral, so an assignee's pull shows "(erased)")
 * and the free text assignees wrote on its steps. Idempotent: a repeat writes nothing. */
int legal_erase(legal_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
                reject_t *reject);
/* An assignee's CaseUpdate (update.c). */
int legal_case_update(legal_t *self, MDB_txn *txn, const char *principal,
                      const Arrears__CaseUpdate *u, reject_t *reject);
/* Places a case without an assignee (offers it, or records why it waits) and saves it. */
int legal_place(legal_t *self, MDB_txn *txn, StoredCase *before, StoredCase *after);
/* The assignee loses the case (what: "deadline_passed", "recalled", "handed_back"): it
 * is REFERRED without an assignee again, ready for legal_place; staging and (for an
 * accepted case) outreach are told. */
int legal_take_back(legal_t *self, MDB_txn *txn, StoredCase *c, const char *what,
                    const char *detail);
/* The borrower-local day of an instant for the case. */
int64_t legal_day_of(legal_t *self, const StoredCase *c, int64_t at_ms);
const assignee_t *legal_assignee(const legal_t *self, const char *principal);

#endif
