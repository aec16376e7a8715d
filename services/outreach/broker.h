/* broker: the outreach broker's decisions, between the receiver (which deduplicates
 * streams, commits batches and answers calls after the commit) and its durable state
 * (tasks.c). What comes in:
 *   from staging (role "service"), stream messages: ContactRequest queues a task (its
 *     (platform, contact_id) is the natural key: a repeat is a duplicate, never a second
 *     task); ContactCancel drops the account's tasks not yet started. Staging may run
 *     in shards (shards.h): a task keeps the shard whose principal sent its request, and
 *     everything staging hears of it goes back to that shard; a staging message from a
 *     principal not in the `staging` list is refused;
 *   PersonalDataErased, at the end of an account's retention, cancels what is left of
 *     its contact and erases the borrower from every task of the account (erase.c);
 *   from legal (role "service"), stream messages: CaseAssignment names the assignee
 *     (a law firm or agency principal) holding an account's case, or ends it;
 *   from operators (role "operator"): ClockAdvance on a simulated clock, answered busy
 *     until nothing due before the instant is still queued or leased and every outcome
 *     sent to staging is acknowledged (DESIGN.md "Time");
 *   from workers (role "worker", any channel), agents (role "agent") and assignees (role
 *     "firm" or "agency"; agents and assignees calls and visits only), calls: TaskPull
 *     leases due tasks the conduct gate lets go (deferring or refusing the others, each
 *     decision kept with its reason), AttemptStart checks the gate again at the moment
 *     of sending and records the attempt in the contact ledger before answering go,
 *     TaskReport records what came of it and tells staging, Inbound honours an opt-out
 *     at once. Only the principal that pulled a lease may start or report under it.
 * Queries: health from anyone; OutreachReportQuery (report.h) from operators and
 * services.
 * An assigned task (a "legal" stage call or visit, tasks_is_assigned) is leased only to
 * the assignee holding its account, which pulls from the accounts it holds; workers
 * and agents never see it, and it waits while its account has no holder. Every contact,
 * whoever makes it, passes the same gate.
 * A lease that ends before its report returns the task: to the queue when no attempt
 * started, else to resolution by its idempotency key in the channel's own record (a
 * worker looks it up) or to a person — never a blind resend. */
#ifndef ARREARS_OUTREACH_BROKER_H
#define ARREARS_OUTREACH_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#include "aclock.h"
#include "outbox.h"
#include "profile.h"
#include "receiver.h"
#include "shards.h"
#include "tasks.h"
#include "template.h"
#include "tz.h"

typedef struct {
    int64_t lease_ms;             /* a worker must report within this */
    size_t pull_scan_max;         /* due tasks screened per pull, at most */
    size_t ledger_attempts_max;   /* ledger entries read per who and decision */
    size_t decisions_kept;        /* gate decisions kept per task (the latest) */
    size_t account_tasks_max;     /* open tasks per account a cancel reaches */
} broker_limits_t;

typedef uint64_t (broker_unacked_fn)(void *arg);
typedef bool (broker_in_turn_fn)(void *arg);

typedef struct {
    tasks_t *tasks;
    const shards_t *staging;                 /* staging's shards, in shard order */
    outbox_t *to_staging[SHARDS_MAX];        /* one per shard, in the same order */
    aclock_t *clock;
    tz_cache_t *zones;
    const profile_book_t *profiles;
    const template_book_t *templates;
    broker_limits_t limits;
    int64_t started_ms;
    broker_unacked_fn *unacked;   /* outcomes sent to staging, not yet acknowledged */
    void *unacked_arg;
    /* Whether it is the broker's turn (svcnet_in_turn); NULL: always. Workers and agents
     * lease from the queue only in it, so on a driven clock a task is screened and sent
     * at the instant the driver settles and after every message of that instant, never
     * at whatever moment a worker happens to pull (lease.c). */
    broker_in_turn_fn *in_turn;
    void *in_turn_arg;
} broker_t;

/* Outcomes one message or call may append at most (a pull screens more tasks only
 * while the outbox has room for their refusals). */
#define BROKER_OUTCOMES_PER_MESSAGE 4

broker_limits_t broker_default_limits(void);

int broker_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                 const Arrears__Envelope *env, reject_t *reject);
int broker_call(void *app, MDB_txn *txn, const receiver_peer_t *from,
                const Arrears__Envelope *env, uint8_t *buf, size_t cap, size_t *len,
                reject_t *reject);
size_t broker_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                    const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject);

/* Returns tasks whose lease ended to the queue or to resolution (one transaction). */
int broker_expire_leases(broker_t *self, MDB_txn *txn, size_t *returned);

/* The time leases are measured in: always the real wall clock, also in a simulation. A
 * lease is a worker's real time to act; the simulated clock stands still while leases
 * are out (an advance waits for them), so a lease held by a worker that died must still
 * end, and one leased just before an advance must not end because the day jumped. */
int64_t broker_lease_now_ms(const broker_t *self);

/* ---- shared between broker.c, erase.c, lease.c and screen.c */

/* Drops the account's tasks not yet started, up to m->through_contact_id when given (a
 * started one is marked, to be resolved from its channel and never queued again);
 * staging is not told. */
int broker_cancel(broker_t *self, MDB_txn *txn, const Arrears__ContactCancel *m,
                  int64_t now_ms, reject_t *reject);
/* The end of an account's retention (erase.c): its unstarted tasks are cancelled
 * (broker_cancel), and every task it ever had loses the borrower's name, contact
 * points, address and language, the point used and the detail reported, and keeps its
 * state, channel, template, figures, decisions and result, so the outreach report is
 * the same. Idempotent: a repeat writes nothing. */
int broker_erase(broker_t *self, MDB_txn *txn, const Arrears__PersonalDataErased *m,
                 reject_t *reject);

/* Room in the outbox to staging shard `shard` (a task's staging_shard). A shard past
 * the list (it shrank, which shards.h forbids) has none: its tasks wait. */
int broker_room(broker_t *self, MDB_txn *txn, uint32_t shard, uint64_t *room);
/* The outcome of a task, appended to the outbox to the shard that sent it. */
int broker_tell_staging(broker_t *self, MDB_txn *txn, const StoredTask *t,
                        const Arrears__TaskReport *report, ContactResult result,
                        int64_t at_ms, const char *detail);
/* Moves a task to a new state and saves it (indexes follow). */
int broker_save(broker_t *self, MDB_txn *txn, const char *task_id, StoredTask *before,
                StoredTask *after);

/* What the gate said about a task, with everything a worker needs to send it. */
typedef struct {
    conduct_decision_t decision;
    const profile_t *profile;
    const template_t *template;
    const tz_zone_t *zone;
    char point[256];              /* the phone or e-mail used, "" for letters and visits */
    char subject[TEMPLATE_TEXT_MAX];
    char text[TEMPLATE_TEXT_MAX];
    int64_t window_closes_ms;     /* the end of the opening the task is in */
} screen_t;

/* Puts a task through the conduct gate at now_ms with the ledger, the person's record,
 * the profile of its jurisdiction and its rendered template. Records the decision on
 * the task (the latest limits.decisions_kept) and logs it. */
int broker_screen(broker_t *self, MDB_txn *txn, const char *task_id, StoredTask *t,
                  int64_t now_ms, screen_t *out);

#endif
