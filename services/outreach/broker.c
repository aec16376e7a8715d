/* broker: what each message from staging, legal and operators does (see broker.h); the
 * workers' calls are in lease.c, the gate's inputs in screen.c. */
#include "broker.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "log.h"
#include "report.h"
#include "validate.h"

broker_limits_t broker_default_limits(void)
{
    return (broker_limits_t){
        .lease_ms = 60000, .pull_scan_max = 256, .ledger_attempts_max = 256,
        .decisions_kept = 8, .account_tasks_max = 256,
    };
}

int broker_save(broker_t *self, MDB_txn *txn, const char *task_id, StoredTask *before,
                StoredTask *after)
{
    return tasks_save(self->tasks, txn, task_id, before, after);
}

/* ---------------------------------------------------------------- outcomes to staging */

int broker_room(broker_t *self, MDB_txn *txn, uint32_t shard, uint64_t *room)
{
    *room = 0;
    if (shard < self->staging->count)
        return outbox_room(self->to_staging[shard], txn, room);
    log_event(LOG_ERROR, "staging_shard_unknown", "shard=%u shards=%u", shard,
              self->staging->count);
    return 0;
}

static void copy_terms(Arrears__ContactOutcome *o, const Arrears__TaskReport *r)
{
    o->has_promise_amount_minor = r->has_promise_amount_minor;
    o->promise_amount_minor = r->promise_amount_minor;
    o->promise_date = r->promise_date;
    o->n_plan = r->n_plan;
    o->plan = r->plan;
    o->has_waive_penalty = r->has_waive_penalty;
    o->waive_penalty = r->waive_penalty;
    o->has_settlement_amount_minor = r->has_settlement_amount_minor;
    o->settlement_amount_minor = r->settlement_amount_minor;
    o->pay_by_date = r->pay_by_date;
    o->agent = r->agent;
}

int broker_tell_staging(broker_t *self, MDB_txn *txn, const StoredTask *t,
                        const Arrears__TaskReport *report, ContactResult result,
                        int64_t at_ms, const char *detail)
{
    Arrears__ContactOutcome o = ARREARS__CONTACT_OUTCOME__INIT;
    o.platform = t->request->platform;
    o.account_ref = t->request->account_ref;
    o.contact_id = t->request->contact_id;
    o.has_result = o.has_at_ms = o.has_channel = 1;
    o.result = result;
    o.at_ms = at_ms;
    o.channel = t->request->channel;
    char short_detail[201];
    snprintf(short_detail, sizeof short_detail, "%s", detail ? detail : "");
    o.detail = short_detail[0] ? short_detail : NULL;
    if (report)
        copy_terms(&o, report);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CONTACT_OUTCOME;
    env.contact_outcome = &o;
    uint64_t seq;
    /* Every caller found room on this shard first (broker_room), which one past the
     * list never has: reaching here with one is a record this broker cannot answer. */
    if (t->staging_shard >= self->staging->count)
        return TASKS_ECORRUPT;
    return outbox_append(self->to_staging[t->staging_shard], txn, &env, at_ms, &seq);
}

/* ---------------------------------------------------------------- from staging */

static int check_request(const ContactRequest *r, reject_t *reject)
{
    const char *field = NULL;
    if (!r->platform || !*r->platform || strlen(r->platform) > 64) field = "platform";
    else if (!r->account_ref || !*r->account_ref || strlen(r->account_ref) > 64) field = "account_ref";
    else if (!r->contact_id || !*r->contact_id || strlen(r->contact_id) > 80) field = "contact_id";
    else if (!r->has_channel || r->channel < ARREARS__CHANNEL__SMS || r->channel > ARREARS__CHANNEL__VISIT) field = "channel";
    else if (!r->template_id || !*r->template_id || strlen(r->template_id) > 64) field = "template_id";
    else if (!r->time_zone || !*r->time_zone) field = "time_zone";
    else if (r->has_priority && (r->priority < 1 || r->priority > TASKS_PRIORITY_MAX)) field = "priority";
    else if (r->has_person_key && r->person_key.len != TASKS_WHO_BYTES) field = "person_key";
    if (!field)
        return 0;
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
               field, "missing or out of its limits (outreach.proto ContactRequest)");
    return APPLY_REJECTED;
}

/* A vulnerable account makes its person vulnerable, for every account of theirs. */
static int mark_vulnerable(broker_t *self, MDB_txn *txn, const tasks_who_t who)
{
    StoredPerson *p = NULL;
    int rc = tasks_person_get(self->tasks, txn, who, &p);
    StoredPerson fresh = STORED_PERSON__INIT;
    StoredPerson *use = p ? p : &fresh;
    if (rc == 0 && !use->vulnerable) {
        use->has_vulnerable = use->vulnerable = 1;
        rc = tasks_person_put(self->tasks, txn, who, use);
    }
    arrears__stored_person__free_unpacked(p, NULL);
    return rc;
}

/* Points and accounts lead back to the person: an inbound opt-out finds them. */
static int remember_person(broker_t *self, MDB_txn *txn, const ContactRequest *r)
{
    tasks_who_t who;
    tasks_who_of_request(r, who);
    int rc = r->has_vulnerable && r->vulnerable ? mark_vulnerable(self, txn, who) : 0;
    for (size_t i = 0; rc == 0 && i < r->n_phones; i++)
        rc = r->phones[i]->value ? tasks_point_link(self->tasks, txn, r->phones[i]->value, who) : 0;
    for (size_t i = 0; rc == 0 && i < r->n_emails; i++)
        rc = r->emails[i]->value ? tasks_point_link(self->tasks, txn, r->emails[i]->value, who) : 0;
    return rc;
}

/* A task that never started ends cancelled, with why. */
static void cancel_unstarted(StoredTask *t, int64_t now_ms, const char *why)
{
    t->state = TASK_CANCELLED;
    t->has_done_ms = 1;
    t->done_ms = now_ms;
    free(t->detail);
    t->detail = strdup(why);
}

/* A newer request for the account on the same channel replaces one still waiting in the
 * queue (a cadence that ran on while the window, a cap or a holiday held the older one):
 * the borrower gets the current message once, not a backlog of them. staging hears why,
 * on the older task's shard: the request's own, whose room was checked, as an account
 * never moves between shards (shards.h). */
static int supersede(broker_t *self, MDB_txn *txn, const ContactRequest *r, int64_t now_ms)
{
    char account[TASKS_ACCOUNT_KEY_MAX + 1], why[160];
    snprintf(account, sizeof account, "%s/%s", r->platform, r->account_ref);
    snprintf(why, sizeof why, "superseded by %.80s", r->contact_id);
    size_t max = self->limits.account_tasks_max, n = 0;
    char (*ids)[TASKS_ID_MAX + 1] = malloc(max * sizeof *ids);
    int rc = ids ? tasks_of_account(self->tasks, txn, account, max, ids, &n) : ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        StoredTask *before = NULL, *after = NULL;
        rc = tasks_get(self->tasks, txn, ids[i], &before);
        rc = rc ? rc : tasks_get(self->tasks, txn, ids[i], &after);
        if (rc == 0 && before && before->state == TASK_PENDING &&
            before->request->channel == r->channel) {
            cancel_unstarted(after, now_ms, why);
            rc = tasks_save(self->tasks, txn, ids[i], before, after);
            rc = rc ? rc : broker_tell_staging(self, txn, after, NULL,
                                               ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, now_ms, why);
        }
        arrears__stored_task__free_unpacked(before, NULL);
        arrears__stored_task__free_unpacked(after, NULL);
    }
    free(ids);
    return rc;
}

static int contact_request(broker_t *self, MDB_txn *txn, const ContactRequest *r,
                           uint32_t shard, int64_t now_ms, reject_t *reject)
{
    if (check_request(r, reject) != 0)
        return APPLY_REJECTED;
    const tz_zone_t *zone;
    if (tz_cache_get(self->zones, r->time_zone, &zone) != TZ_OK)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "time_zone",
                       "not a time zone in this machine's tzdata");
    char id[TASKS_ID_MAX + 1];
    snprintf(id, sizeof id, "%s/%s", r->platform, r->contact_id);
    StoredTask *old = NULL;
    int rc = tasks_get(self->tasks, txn, id, &old);
    arrears__stored_task__free_unpacked(old, NULL);
    if (rc != 0 || old)
        return rc ? rc : APPLY_DUPLICATE;   /* the contact id is the attempt's natural key */
    StoredTask t = STORED_TASK__INIT;
    t.request = (ContactRequest *)r;
    t.has_state = t.has_due_ms = t.has_priority = t.has_created_ms = t.has_staging_shard = 1;
    t.staging_shard = shard;
    t.state = TASK_PENDING;
    t.due_ms = now_ms;
    t.priority = r->has_priority ? r->priority : 50;
    t.created_ms = now_ms;
    rc = supersede(self, txn, r, now_ms);
    rc = rc ? rc : tasks_save(self->tasks, txn, id, NULL, &t);
    return rc ? rc : remember_person(self, txn, r);
}

/* The n of a contact id "<account_ref>#<n>" (staging's numbering of the account's
 * requests, outreach.proto ContactCancel); false when it has none. */
static bool contact_number(const char *contact_id, uint64_t *n)
{
    const char *hash = contact_id ? strrchr(contact_id, '#') : NULL;
    char *end = NULL;
    if (!hash || hash[1] < '0' || hash[1] > '9')
        return false;
    errno = 0;
    *n = strtoull(hash + 1, &end, 10);
    return errno == 0 && *end == 0;
}

/* Whether a cancel through through_n (UINT64_MAX: all) reaches the task: a request staging made
 * after the cancel (a larger n) is not its business, e.g. a cancel re-sent after staging
 * was restored from a backup, arriving after newer requests. */
static bool cancel_reaches(const char *task_id, uint64_t through_n)
{
    uint64_t n = 0;
    return !contact_number(task_id, &n) || n <= through_n;
}

/* One open task of the account under a cancel. Started attempts stay: they are resolved
 * from the channel, never dropped, and never queued again. */
static int cancel_task(broker_t *self, MDB_txn *txn, const char *id, const char *reason,
                       int64_t now_ms)
{
    StoredTask *before = NULL, *after = NULL;
    int rc = tasks_get(self->tasks, txn, id, &before);
    rc = rc ? rc : tasks_get(self->tasks, txn, id, &after);
    bool unstarted = rc == 0 && before &&
                     (before->state == TASK_PENDING || before->state == TASK_LEASED);
    if (rc == 0 && before && !tasks_state_is_final(before->state) && !unstarted) {
        after->has_cancel_requested = after->cancel_requested = 1;
        rc = tasks_save(self->tasks, txn, id, before, after);
    } else if (unstarted) {
        cancel_unstarted(after, now_ms, reason);
        rc = tasks_save(self->tasks, txn, id, before, after);
        log_event(LOG_INFO, "task_cancelled", "task=%s", id);
    }
    arrears__stored_task__free_unpacked(before, NULL);
    arrears__stored_task__free_unpacked(after, NULL);
    return rc;
}

int broker_cancel(broker_t *self, MDB_txn *txn, const Arrears__ContactCancel *m,
                  int64_t now_ms, reject_t *reject)
{
    if (!m->platform || !*m->platform || !m->account_ref || !*m->account_ref)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref",
                       "a cancel names the platform and the account");
    uint64_t through_n = UINT64_MAX;
    if (m->through_contact_id && *m->through_contact_id &&
        !contact_number(m->through_contact_id, &through_n))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "through_contact_id",
                               "a contact id ends in #<n>, the account's request number");
    char account[TASKS_ACCOUNT_KEY_MAX + 1];
    snprintf(account, sizeof account, "%s/%s", m->platform, m->account_ref);
    size_t max = self->limits.account_tasks_max, n = 0;
    char (*ids)[TASKS_ID_MAX + 1] = malloc(max * sizeof *ids);
    int rc = ids ? tasks_of_account(self->tasks, txn, account, max, ids, &n) : ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (cancel_reaches(ids[i], through_n))
            rc = cancel_task(self, txn, ids[i], m->reason ? m->reason : "cancelled by staging",
                             now_ms);
    free(ids);
    return rc;
}

/* ---------------------------------------------------------------- from legal */

static int check_assignment(const Arrears__CaseAssignment *m, reject_t *reject)
{
    const char *field = NULL;
    if (!m->platform || !*m->platform || strlen(m->platform) > 64) field = "platform";
    else if (!m->account_ref || !validate_ref(m->account_ref)) field = "account_ref";
    else if (!m->assignee || !*m->assignee || strlen(m->assignee) > TASKS_PRINCIPAL_MAX) field = "assignee";
    if (!field)
        return 0;
    return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, field,
                           "missing or out of its limits (legal.proto CaseAssignment)");
}

/* Who holds an account's case: an active assignment makes its assignee the holder (in
 * place of any earlier one); an ended one clears the holder only when it is still that
 * assignee, so an end that arrives after a reassignment leaves the new holder alone. */
static int case_assignment(broker_t *self, MDB_txn *txn, const Arrears__CaseAssignment *m,
                           reject_t *reject)
{
    if (check_assignment(m, reject) != 0)
        return APPLY_REJECTED;
    char account[TASKS_ACCOUNT_KEY_MAX + 1], holder[TASKS_PRINCIPAL_MAX + 1];
    snprintf(account, sizeof account, "%s/%s", m->platform, m->account_ref);
    int rc = tasks_holder_get(self->tasks, txn, account, holder);
    const char *did = "kept";
    if (rc == 0 && m->active) {
        did = !holder[0] ? "set" : strcmp(holder, m->assignee) != 0 ? "replaced" : "kept";
        rc = tasks_holder_set(self->tasks, txn, account, m->assignee);
    } else if (rc == 0 && strcmp(holder, m->assignee) == 0) {
        did = "cleared";
        rc = tasks_holder_clear(self->tasks, txn, account);
    } else if (rc == 0) {
        did = "ignored";   /* not (or no longer) this assignee's: nothing to end */
    }
    if (rc == 0)
        log_event(LOG_INFO, "case_assignment",
                  "account=%s case=%.64s assignee=%s active=%s holder_was=%s holder=%s", account,
                  m->case_id ? m->case_id : "-", m->assignee, m->active ? "yes" : "no",
                  holder[0] ? holder : "-", did);
    return rc;
}

/* ---------------------------------------------------------------- the clock */

/* Acknowledged only when nothing due by the instant waits in the queue or under a
 * lease and staging has acknowledged every outcome. */
static int clock_advance(broker_t *self, MDB_txn *txn, const Arrears__ClockAdvance *m,
                         reject_t *reject)
{
    if (!aclock_is_simulated(self->clock))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "clock_advance",
                       "the broker runs on the wall clock: it takes no clock advances");
    if (!m->has_to_ms || aclock_advance_to(self->clock, m->to_ms) != ACLOCK_OK)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "to_ms",
                       "the simulated clock never goes back");
    int64_t due = 0, lease = 0;
    int rc = tasks_next_instant(self->tasks, txn, &due, &lease);
    if (rc != 0)
        return rc;
    if (due <= m->to_ms || lease != INT64_MAX ||
        (self->unacked && self->unacked(self->unacked_arg) > 0))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, "to_ms",
                       "advancing: tasks due, leases out or outcomes unacknowledged");
    return tasks_meta_put(self->tasks, txn, "clock_ms", (uint64_t)m->to_ms);
}

/* A request or cancel from staging, known by the shard whose principal sent it. A
 * request's task tells that shard its outcomes: its outbox must have room before
 * anything changes. A cancel tells staging nothing. */
static int from_staging(broker_t *self, MDB_txn *txn, const receiver_peer_t *from,
                        const Arrears__Envelope *env, reject_t *reject)
{
    uint32_t shard = 0;
    int rc = shards_of_sender(self->staging, from->principal, "the broker", &shard, reject);
    if (rc != 0)
        return rc;
    int64_t now = aclock_now_ms(self->clock);
    if (env->body_case == ARREARS__ENVELOPE__BODY_CONTACT_CANCEL)
        return broker_cancel(self, txn, env->contact_cancel, now, reject);
    uint64_t room = 0;
    rc = broker_room(self, txn, shard, &room);
    if (rc != 0)
        return rc;
    if (room < BROKER_OUTCOMES_PER_MESSAGE)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                               "the outbox to staging shard %s is full: it is behind; retry "
                               "later", from->principal);
    return contact_request(self, txn, env->contact_request, shard, now, reject);
}

int broker_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                 const Arrears__Envelope *env, reject_t *reject)
{
    broker_t *self = app;
    bool service = strcmp(from->role, "service") == 0;
    /* An assignment tells staging nothing: it never waits for staging's outbox. */
    if (service && env->body_case == ARREARS__ENVELOPE__BODY_CASE_ASSIGNMENT)
        return case_assignment(self, txn, env->case_assignment, reject);
    /* An erasure tells staging nothing either; it comes from a staging shard. */
    if (service && env->body_case == ARREARS__ENVELOPE__BODY_PERSONAL_DATA_ERASED &&
        shards_find(self->staging, from->principal) >= 0)
        return broker_erase(self, txn, env->personal_data_erased, reject);
    if (service && (env->body_case == ARREARS__ENVELOPE__BODY_CONTACT_REQUEST ||
                    env->body_case == ARREARS__ENVELOPE__BODY_CONTACT_CANCEL))
        return from_staging(self, txn, from, env, reject);
    /* An advance tells staging nothing either: it waits for staging's acks instead. */
    if (strcmp(from->role, "operator") == 0 && env->body_case == ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE)
        return clock_advance(self, txn, env->clock_advance, reject);
    if (service || strcmp(from->role, "operator") == 0)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                       "the broker takes contact requests, cancels and erasures from staging, "
                       "case assignments from legal, clock advances from operators");
    return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                   "this principal's role may not send stream messages to the broker");
}

size_t broker_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                    const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    broker_t *self = app;
    if (env->body_case == ARREARS__ENVELOPE__BODY_OUTREACH_REPORT_QUERY) {
        if (strcmp(from->role, "operator") == 0 || strcmp(from->role, "service") == 0)
            return broker_report(self, txn, env->outreach_report_query, env->request_id, buf,
                                 cap, reject);
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                                     "the outreach report is for operators and services");
    }
    if (env->body_case != ARREARS__ENVELOPE__BODY_HEALTH_QUERY)
        return receiver_refuse_query(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                                     "the broker answers health and outreach report queries");
    int64_t due = INT64_MAX, lease = INT64_MAX;
    if (tasks_next_instant(self->tasks, txn, &due, &lease) != 0)
        due = INT64_MAX;   /* unknown: no next work said */
    /* Dead letters and what was appended: every shard's outbox. */
    health_t h = {"outreach-broker", self->started_ms,
                  self->unacked ? self->unacked(self->unacked_arg) : 0, self->to_staging,
                  self->staging->count, due, self->clock};
    return health_reply(&h, txn, env->request_id, buf, cap);
}
