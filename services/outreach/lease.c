/* lease: the workers', agents' and assignees' calls to the broker — pull under a lease,
 * attempt started, report, inbound — and the return of tasks whose lease ended (see
 * broker.h). A lease is its puller's: the principal that pulled it, and only it, starts
 * and reports under it. Each call runs in the receiver's write transaction and is
 * answered after the commit, so a worker never hears "go" for an attempt the ledger
 * does not hold. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>


#include "broker.h"
#include "log.h"

#define PULL_MAX_TASKS 64
#define ALL_CHANNELS ((1u << CONDUCT_CHANNELS) - 1)

typedef struct {
    broker_t *self;
    MDB_txn *txn;
    const receiver_peer_t *from;
    int64_t now_ms;          /* business time: the service's clock */
    int64_t lease_now_ms;    /* lease time (broker_lease_now_ms) */
    reject_t *reject;
} call_t;

/* The fields tasks_save needs to move a task's index entries. */
static StoredTask index_view(const StoredTask *t)
{
    StoredTask v = STORED_TASK__INIT;
    v.request = t->request;
    v.state = t->state;
    v.priority = t->priority;
    v.due_ms = t->due_ms;
    v.lease_until_ms = t->lease_until_ms;
    return v;
}

static void set_string(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

static void set_state(StoredTask *t, StoredTaskState state)
{
    t->has_state = 1;
    t->state = state;
}

static int pack_reply(uint64_t request_id, Arrears__Envelope *env, uint8_t *buf, size_t cap,
                      size_t *len)
{
    env->has_request_id = 1;
    env->request_id = request_id;
    *len = envelope_pack(env, buf, cap);
    return *len ? 0 : OUTBOX_ETOO_LARGE;
}

static int reply_go(uint64_t request_id, bool go, const char *reason, uint8_t *buf, size_t cap,
                    size_t *len)
{
    Arrears__AttemptReply r = ARREARS__ATTEMPT_REPLY__INIT;
    r.has_go = 1;
    r.go = go;
    r.reason = (char *)(reason && *reason ? reason : NULL);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ATTEMPT_REPLY;
    env.attempt_reply = &r;
    return pack_reply(request_id, &env, buf, cap, len);
}

/* ---------------------------------------------------------------- the ledger */

static void account_key(const StoredTask *t, char out[TASKS_ACCOUNT_KEY_MAX + 1])
{
    snprintf(out, TASKS_ACCOUNT_KEY_MAX + 1, "%s/%s", t->request->platform, t->request->account_ref);
}

/* One attempt, in the ledger of the person and of the account (add false: removed). */
static int ledger_mark(broker_t *self, MDB_txn *txn, const char *id, const StoredTask *t,
                       bool add, bool connected)
{
    tasks_who_t who, acct;
    char account[TASKS_ACCOUNT_KEY_MAX + 1];
    account_key(t, account);
    tasks_who_of_request(t->request, who);
    tasks_who_of_account(account, acct);
    int channel = t->request->channel - 1;
    if (!add) {
        int rc = tasks_ledger_remove(self->tasks, txn, who, t->started_ms, id);
        return rc ? rc : tasks_ledger_remove(self->tasks, txn, acct, t->started_ms, id);
    }
    int rc = tasks_ledger_add(self->tasks, txn, who, t->started_ms, id, channel, connected);
    return rc ? rc : tasks_ledger_add(self->tasks, txn, acct, t->started_ms, id, channel, connected);
}

/* ---------------------------------------------------------------- pull */

typedef struct {
    Arrears__Task task;
    StoredTask *stored;
    screen_t screen;
    char id[TASKS_ID_MAX + 1];
    char key[TASKS_ID_MAX + 8];
} leased_t;

static void describe_task(call_t *c, leased_t *l, Arrears__TaskKind kind)
{
    StoredTask *t = l->stored;
    const ContactRequest *r = t->request;
    Arrears__Task *k = &l->task;
    arrears__task__init(k);
    k->task_id = l->id;
    k->has_lease_id = k->has_kind = k->has_lease_until_ms = k->has_send_before_ms = 1;
    k->has_clock_ms = k->has_simulated = k->has_channel = k->has_attempt = 1;
    k->lease_id = t->lease_id;
    k->kind = kind;
    k->lease_until_ms = t->lease_until_ms;
    k->send_before_ms = kind == ARREARS__TASK_KIND__TASK_SEND ? l->screen.window_closes_ms : INT64_MAX;
    k->clock_ms = c->now_ms;
    k->simulated = aclock_is_simulated(c->self->clock);
    k->channel = r->channel;
    snprintf(l->key, sizeof l->key, "%s#1", l->id);   /* one task, one attempt: one key */
    k->idempotency_key = l->key;
    k->to = kind == ARREARS__TASK_KIND__TASK_SEND ? l->screen.point : t->point;
    k->address = r->address;
    k->subject = l->screen.subject;
    k->text = l->screen.text;
    k->template_id = r->template_id;
    if (l->screen.template)
        k->has_template_version = 1, k->template_version = l->screen.template->version;
    k->language = l->screen.template ? (char *)l->screen.template->language : r->language;
    k->platform = r->platform;
    k->account_ref = r->account_ref;
    k->contact_id = r->contact_id;
    k->time_zone = r->time_zone;
    k->profile = t->profile;
    k->attempt = t->leases;
    k->borrower_name = r->borrower_name;
    k->has_outstanding_minor = r->has_outstanding_minor;
    k->outstanding_minor = r->outstanding_minor;
    k->currency = r->currency;
}

static void lease_to(call_t *c, StoredTask *t, const char *worker, uint64_t lease_id)
{
    t->has_lease_id = t->has_lease_until_ms = t->has_leases = 1;
    t->lease_id = lease_id;
    t->lease_until_ms = c->lease_now_ms + c->self->limits.lease_ms;
    t->leases++;
    set_string(&t->worker, worker);
    set_string(&t->puller, c->from->principal);
}

/* A task the gate refused: final, and staging hears why. */
static int refuse_task(call_t *c, const char *id, StoredTask *t, const conduct_decision_t *d)
{
    StoredTask before = index_view(t);
    set_state(t, TASK_REFUSED);
    t->has_done_ms = t->has_result = 1;
    t->done_ms = c->now_ms;
    t->result = ARREARS__CONTACT_RESULT__NOT_ATTEMPTED;
    set_string(&t->detail, d->reason);
    int rc = broker_save(c->self, c->txn, id, &before, t);
    return rc ? rc : broker_tell_staging(c->self, c->txn, t, NULL,
                                         ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, c->now_ms, d->reason);
}

static int defer_task(call_t *c, const char *id, StoredTask *t, int64_t not_before_ms)
{
    StoredTask before = index_view(t);
    set_state(t, TASK_PENDING);
    t->has_due_ms = 1;
    t->due_ms = not_before_ms;
    return broker_save(c->self, c->txn, id, &before, t);
}

/* Screens one due task for the puller: leased (true in *leased), deferred or refused. */
static int offer_one(call_t *c, leased_t *l, const char *worker, uint64_t lease_id, bool *leased)
{
    StoredTask *t = l->stored;
    StoredTask before = index_view(t);
    *leased = false;
    if (t->state == TASK_UNRESOLVED) {
        memset(&l->screen, 0, sizeof l->screen);
        set_state(t, TASK_RESOLVING);
        lease_to(c, t, worker, lease_id);
        *leased = true;
        return broker_save(c->self, c->txn, l->id, &before, t);
    }
    int rc = broker_screen(c->self, c->txn, l->id, t, c->now_ms, &l->screen);
    const conduct_decision_t *d = &l->screen.decision;
    if (rc != 0 || d->verdict == CONDUCT_REFUSE)
        return rc ? rc : refuse_task(c, l->id, t, d);
    if (d->verdict == CONDUCT_DEFER)
        return defer_task(c, l->id, t, d->not_before_ms);
    set_state(t, TASK_LEASED);
    set_string(&t->point, l->screen.point);
    lease_to(c, t, worker, lease_id);
    *leased = true;
    return broker_save(c->self, c->txn, l->id, &before, t);
}

#define REGIONS_MAX 16
#define AGENT_CHANNELS ((1u << (ARREARS__CHANNEL__CALL - 1)) | (1u << (ARREARS__CHANNEL__VISIT - 1)))

static int check_pull(const Arrears__TaskPull *m, bool agent, unsigned *mask, reject_t *reject)
{
    *mask = 0;
    for (size_t i = 0; i < m->n_channels; i++)
        if (m->channels[i] >= ARREARS__CHANNEL__SMS && m->channels[i] <= ARREARS__CHANNEL__VISIT)
            *mask |= 1u << (m->channels[i] - 1);
    if (!m->worker || !*m->worker || strlen(m->worker) > 64)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "worker", "1 to 64 bytes");
    if (*mask == 0 || *mask > ALL_CHANNELS || m->n_channels > CONDUCT_CHANNELS)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "channels",
                       "at least one known channel, each once");
    if (!m->has_max_tasks || m->max_tasks < 1 || m->max_tasks > PULL_MAX_TASKS)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "max_tasks", "1 to 64");
    if (agent && (*mask & ~AGENT_CHANNELS))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "channels",
                       "agents pull calls and visits only; messages go through workers");
    if (m->n_regions > REGIONS_MAX)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "regions", "at most 16");
    return 0;
}

/* A visit goes to an agent covering its region; anything else to any puller. */
static bool covers(const Arrears__TaskPull *m, const ContactRequest *r)
{
    if (r->channel != ARREARS__CHANNEL__VISIT || m->n_regions == 0)
        return true;
    const Arrears__Address *a = r->address;
    const char *region = a && a->region && *a->region ? a->region : a ? a->city : NULL;
    for (size_t i = 0; region && i < m->n_regions; i++)
        if (m->regions[i] && strcasecmp(m->regions[i], region) == 0)
            return true;
    return false;
}

/* One pull as it goes: what it asked for and what it has leased so far. */
typedef struct {
    const Arrears__TaskPull *m;
    unsigned mask;           /* the channels asked for */
    bool assignee;           /* a firm or agency: its held accounts' assigned tasks */
    leased_t *l;             /* m->max_tasks of them */
    size_t leased_n;
    uint64_t next_lease;
} pull_t;

static bool is_assignee(const receiver_peer_t *from)
{
    return strcmp(from->role, "firm") == 0 || strcmp(from->role, "agency") == 0;
}

/* May this task go to this pull: queued and due, on a channel asked for, in a region
 * covered, and assigned exactly when the puller is an assignee (who pulls from the
 * accounts it holds; workers and agents never get an assigned task). */
static bool offerable(const call_t *c, const pull_t *p, const StoredTask *t)
{
    const ContactRequest *r = t->request;
    return (t->state == TASK_PENDING || t->state == TASK_UNRESOLVED) && t->due_ms <= c->now_ms &&
           r->channel >= ARREARS__CHANNEL__SMS && ((p->mask >> (r->channel - 1)) & 1) &&
           tasks_is_assigned(r) == p->assignee && covers(p->m, r);
}

/* Reads the task and screens it for the pull when it may go to it. The screening may
 * refuse it, and its shard hears of every refusal: while that shard's outbox is full
 * the task waits, and the other shards' tasks still go. */
static int offer_id(call_t *c, pull_t *p, const char *id)
{
    leased_t *cur = &p->l[p->leased_n];
    bool leased = false;
    uint64_t room = 0;
    snprintf(cur->id, sizeof cur->id, "%s", id);
    int rc = tasks_get(c->self->tasks, c->txn, cur->id, &cur->stored);
    if (rc == 0 && cur->stored && offerable(c, p, cur->stored))
        rc = broker_room(c->self, c->txn, cur->stored->staging_shard, &room);
    if (rc == 0 && room > 0)
        rc = offer_one(c, cur, p->m->worker, p->next_lease, &leased);
    if (leased) {
        p->next_lease++;
        p->leased_n++;
    } else {
        arrears__stored_task__free_unpacked(cur->stored, NULL);
        cur->stored = NULL;
    }
    return rc;
}

/* A worker's or agent's pull: the queue's due tasks on its channels, most urgent first;
 * nothing out of the broker's turn (broker.h in_turn). */
static int screen_queue(call_t *c, pull_t *p, size_t scan)
{
    if (c->self->in_turn && !c->self->in_turn(c->self->in_turn_arg))
        return 0;
    char (*ids)[TASKS_ID_MAX + 1] = malloc(scan * sizeof *ids);
    size_t n = 0;
    int rc = ids ? tasks_due(c->self->tasks, c->txn, c->now_ms, p->mask, scan, ids, &n) : ENOMEM;
    for (size_t i = 0; rc == 0 && i < n && p->leased_n < (size_t)p->m->max_tasks; i++)
        rc = offer_id(c, p, ids[i]);
    free(ids);
    return rc;
}

typedef struct {
    char id[TASKS_ID_MAX + 1];
    int32_t priority;
    int64_t due_ms;
} candidate_t;

static int by_urgency(const void *a, const void *b)
{
    const candidate_t *x = a, *y = b;
    if (x->priority != y->priority)
        return x->priority < y->priority ? -1 : 1;
    if (x->due_ms != y->due_ms)
        return x->due_ms < y->due_ms ? -1 : 1;
    return strcmp(x->id, y->id);
}

/* Where the assignee's next pull starts among the accounts it holds (tasks meta
 * "held_start/<principal>"): each pull goes on from where the last one stopped, round to
 * the first, so no account waits for ever behind the others, and a seeded simulation
 * pulls the same accounts every run. */
static int held_start(call_t *c, uint64_t *start, char name[TASKS_PRINCIPAL_MAX + 16])
{
    snprintf(name, TASKS_PRINCIPAL_MAX + 16, "held_start/%s", c->from->principal);
    return tasks_meta_get(c->self->tasks, c->txn, name, 0, start);
}

/* The offerable tasks of the accounts the assignee holds, at most scan tasks read, from
 * where its last pull stopped (held_start). */
static int held_candidates(call_t *c, const pull_t *p, size_t scan, candidate_t *out, size_t *n)
{
    tasks_t *tasks = c->self->tasks;
    char (*accounts)[TASKS_ACCOUNT_KEY_MAX + 1] = malloc(scan * sizeof *accounts);
    char (*ids)[TASKS_ID_MAX + 1] = malloc((scan + 1) * sizeof *ids);   /* +1: more left? */
    char name[TASKS_PRINCIPAL_MAX + 16];
    size_t held = 0, total = 0, read = 0, done = 0;
    uint64_t start = 0;
    int rc = accounts && ids ? held_start(c, &start, name) : ENOMEM;
    rc = rc ? rc : tasks_held(tasks, c->txn, c->from->principal, start, scan, accounts, &held, &total);
    *n = 0;
    for (size_t a = 0; rc == 0 && a < held && read < scan; a++) {
        size_t got = 0;
        rc = tasks_of_account(tasks, c->txn, accounts[a], scan - read + 1, ids, &got);
        done += rc == 0 && got <= scan - read;   /* every task of it read */
        got = got < scan - read ? got : scan - read;
        for (size_t i = 0; rc == 0 && i < got; i++, read++) {
            StoredTask *t = NULL;
            rc = tasks_get(tasks, c->txn, ids[i], &t);
            if (rc == 0 && t && offerable(c, p, t)) {
                candidate_t *k = &out[(*n)++];
                snprintf(k->id, sizeof k->id, "%s", ids[i]);
                k->priority = t->priority;
                k->due_ms = t->due_ms;
            }
            arrears__stored_task__free_unpacked(t, NULL);
        }
    }
    free(accounts);
    free(ids);
    /* Only an assignee holding more than one pull reads needs to move on (at least one
     * account, so a single account with more tasks than scan does not hold it still). */
    if (rc == 0 && total > done)
        rc = tasks_meta_put(tasks, c->txn, name, (start + (done ? done : 1)) % total);
    return rc;
}

/* An assignee's pull: the due assigned tasks of its own accounts, most urgent first. */
static int screen_held(call_t *c, pull_t *p, size_t scan)
{
    candidate_t *k = malloc(scan * sizeof *k);
    size_t n = 0;
    int rc = k ? held_candidates(c, p, scan, k, &n) : ENOMEM;
    if (rc == 0)
        qsort(k, n, sizeof *k, by_urgency);
    for (size_t i = 0; rc == 0 && i < n && p->leased_n < (size_t)p->m->max_tasks; i++)
        rc = offer_id(c, p, k[i].id);
    free(k);
    return rc;
}

/* Screens the tasks this pull may take into p->l, up to max leased: at most
 * pull_scan_max read, each only while its shard's outbox has room for a refusal. */
static int screen_pull(call_t *c, pull_t *p)
{
    broker_t *self = c->self;
    size_t scan = self->limits.pull_scan_max;
    int rc = tasks_meta_get(self->tasks, c->txn, "next_lease_id", 1, &p->next_lease);
    if (rc != 0)
        return rc;
    rc = p->assignee ? screen_held(c, p, scan) : screen_queue(c, p, scan);
    /* A pull that leased nothing writes nothing: an idle worker's poll costs no fsync. */
    return rc || p->leased_n == 0 ? rc : tasks_meta_put(self->tasks, c->txn, "next_lease_id", p->next_lease);
}

static int task_pull(call_t *c, const Arrears__Envelope *env, uint8_t *buf, size_t cap,
                     size_t *len)
{
    const Arrears__TaskPull *m = env->task_pull;
    pull_t p = {.m = m, .assignee = is_assignee(c->from)};
    if (check_pull(m, strcmp(c->from->role, "worker") != 0, &p.mask, c->reject) != 0)
        return APPLY_REJECTED;
    size_t expired = 0;
    int rc = broker_expire_leases(c->self, c->txn, &expired);
    p.l = rc ? NULL : calloc((size_t)m->max_tasks, sizeof *p.l);
    rc = rc ? rc : p.l ? screen_pull(c, &p) : ENOMEM;
    Arrears__Task *tasks[PULL_MAX_TASKS];
    for (size_t i = 0; rc == 0 && i < p.leased_n; i++) {
        leased_t *l = &p.l[i];
        bool resolve = l->stored->state == TASK_RESOLVING;
        describe_task(c, l, resolve ? ARREARS__TASK_KIND__TASK_RESOLVE : ARREARS__TASK_KIND__TASK_SEND);
        tasks[i] = &l->task;
        log_event(LOG_INFO, "task_leased", "task=%s worker=%s principal=%s lease=%llu kind=%s",
                  l->id, m->worker, c->from->principal, (unsigned long long)l->stored->lease_id,
                  resolve ? "resolve" : "send");
    }
    Arrears__TaskLease lease = ARREARS__TASK_LEASE__INIT;
    lease.n_tasks = p.leased_n;
    lease.tasks = tasks;
    Arrears__Envelope reply = ARREARS__ENVELOPE__INIT;
    reply.body_case = ARREARS__ENVELOPE__BODY_TASK_LEASE;
    reply.task_lease = &lease;
    rc = rc ? rc : pack_reply(env->request_id, &reply, buf, cap, len);
    for (size_t i = 0; p.l && i < p.leased_n; i++)
        arrears__stored_task__free_unpacked(p.l[i].stored, NULL);
    free(p.l);
    return rc;
}

/* ---------------------------------------------------------------- attempt started */

/* Finds the task a start or report names; refuses one under another principal's lease
 * (the lease id alone does not make a lease the caller's), or while the outbox to the
 * task's shard has no room for what the call may tell it, before anything changes. */
static int leased_task(call_t *c, const char *task_id, bool has_lease, uint64_t lease_id,
                       StoredTask **t)
{
    *t = NULL;
    int rc = task_id && strlen(task_id) <= TASKS_ID_MAX ? tasks_get(c->self->tasks, c->txn, task_id, t) : 0;
    if (rc != 0 || !*t)
        return rc ? rc : receiver_refuse(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "task_id",
                                         "no such task");
    bool named = has_lease && lease_id == (*t)->lease_id;
    uint64_t room = 0;
    if (named && (*t)->puller && strcmp((*t)->puller, c->from->principal) != 0) {
        log_event(LOG_WARN, "lease_not_callers", "task=%s lease=%llu principal=%s", task_id,
                  (unsigned long long)lease_id, c->from->principal);
        rc = receiver_refuse(c->reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "lease_id",
                             "this lease is another puller's");
    } else {
        rc = broker_room(c->self, c->txn, (*t)->staging_shard, &room);
        if (rc == 0 && room < BROKER_OUTCOMES_PER_MESSAGE)
            rc = receiver_refuse(c->reject, ARREARS__REJECT__CODE__BUSY, NULL,
                                 "the outbox to the task's staging shard is full: it is behind; "
                                 "retry later");
    }
    if (rc != 0) {
        arrears__stored_task__free_unpacked(*t, NULL);
        *t = NULL;
    }
    return rc;
}

/* An assigned task goes only while the caller still holds its account's case: a recall
 * or a reassignment after the pull stops the call, and the task waits for its holder. */
static int still_holder(call_t *c, const char *id, StoredTask *t, const char **why)
{
    char holder[TASKS_PRINCIPAL_MAX + 1], account[TASKS_ACCOUNT_KEY_MAX + 1];
    if (!tasks_is_assigned(t->request))
        return 0;
    account_key(t, account);
    int rc = tasks_holder_get(c->self->tasks, c->txn, account, holder);
    if (rc != 0 || strcmp(holder, c->from->principal) == 0)
        return rc;
    *why = "the account's case is no longer this assignee's";
    return defer_task(c, id, t, c->now_ms);
}

/* The gate once more, at the moment of sending; on SEND the attempt enters the ledger. */
static int start_attempt(call_t *c, const char *id, StoredTask *t, const char **why)
{
    screen_t *s = malloc(sizeof *s);
    if (!s)
        return ENOMEM;
    int rc = broker_screen(c->self, c->txn, id, t, c->now_ms, s);
    conduct_decision_t d = s->decision;
    free(s);
    if (rc != 0)
        return rc;
    *why = d.verdict == CONDUCT_SEND ? NULL : "the conduct gate no longer allows it now";
    if (d.verdict == CONDUCT_REFUSE)
        return refuse_task(c, id, t, &d);
    if (d.verdict == CONDUCT_DEFER)
        return defer_task(c, id, t, d.not_before_ms);
    StoredTask before = index_view(t);
    set_state(t, TASK_STARTED);
    t->has_started_ms = 1;
    t->started_ms = c->now_ms;
    /* Counted as connected until its report says otherwise: caps on connected calls
     * must hold against attempts still in flight at the same instant. */
    rc = ledger_mark(c->self, c->txn, id, t, true, true);
    return rc ? rc : broker_save(c->self, c->txn, id, &before, t);
}

static int attempt_start(call_t *c, const Arrears__Envelope *env, uint8_t *buf, size_t cap,
                         size_t *len)
{
    const Arrears__AttemptStart *m = env->attempt_start;
    StoredTask *t = NULL;
    int rc = leased_task(c, m->task_id, m->has_lease_id, m->lease_id, &t);
    if (rc != 0)
        return rc;
    const char *why = NULL;
    bool mine = m->has_lease_id && m->lease_id == t->lease_id;
    if (mine && t->state == TASK_STARTED)
        why = NULL;   /* a repeat after a lost reply: it already said go */
    else if (!mine || t->state != TASK_LEASED)
        why = "this lease is no longer the task's: it went back to the queue or was cancelled";
    else if (c->lease_now_ms > t->lease_until_ms)
        why = "the lease ended";
    else {
        rc = still_holder(c, m->task_id, t, &why);
        rc = rc || why ? rc : start_attempt(c, m->task_id, t, &why);
    }
    if (rc == 0)
        log_event(why ? LOG_INFO : LOG_DEBUG, "attempt_start", "task=%s lease=%llu go=%s",
                  m->task_id, (unsigned long long)m->lease_id, why ? "no" : "yes");
    arrears__stored_task__free_unpacked(t, NULL);
    return rc ? rc : reply_go(env->request_id, why == NULL, why, buf, cap, len);
}

/* ---------------------------------------------------------------- report */

static bool is_conversation(ContactResult r)
{
    switch (r) {
    case ARREARS__CONTACT_RESULT__RIGHT_PARTY_CONTACT:
    case ARREARS__CONTACT_RESULT__REFUSAL:
    case ARREARS__CONTACT_RESULT__PROMISE_TO_PAY:
    case ARREARS__CONTACT_RESULT__DISPUTED:
    case ARREARS__CONTACT_RESULT__COMPLAINED:
    case ARREARS__CONTACT_RESULT__PLAN_AGREED:
    case ARREARS__CONTACT_RESULT__SETTLEMENT_OFFERED:
    case ARREARS__CONTACT_RESULT__OPTED_OUT:
        return true;
    default:
        return false;
    }
}

/* A conversation starts the wait the profile asks for; "stop contacting me" on a call
 * opts the person out of every channel at once (staging then holds the account). */
static int note_person(call_t *c, const StoredTask *t, ContactResult result, int64_t at_ms)
{
    if (!is_conversation(result))
        return 0;
    tasks_who_t who;
    tasks_who_of_request(t->request, who);
    StoredPerson *p = NULL;
    int rc = tasks_person_get(c->self->tasks, c->txn, who, &p);
    StoredPerson fresh = STORED_PERSON__INIT;
    StoredPerson *use = p ? p : &fresh;
    use->has_last_conversation_ms = 1;
    use->last_conversation_ms = at_ms;
    if (result == ARREARS__CONTACT_RESULT__OPTED_OUT) {
        use->has_opted_out_channels = use->has_opted_out_ms = 1;
        use->opted_out_channels = ALL_CHANNELS;
        use->opted_out_ms = at_ms;
    }
    rc = rc ? rc : tasks_person_put(c->self->tasks, c->txn, who, use);
    arrears__stored_person__free_unpacked(p, NULL);
    return rc;
}

/* The worker did not send (no go, send-before passed): the attempt leaves the ledger
 * and the task waits in the queue for the gate again. */
static int requeue_unsent(call_t *c, const char *id, StoredTask *t)
{
    StoredTask before = index_view(t);
    int rc = t->state == TASK_STARTED ? ledger_mark(c->self, c->txn, id, t, false, false) : 0;
    if (t->cancel_requested) {   /* cancelled meanwhile: it surely did not go; it ends here */
        set_state(t, TASK_CANCELLED);
        t->has_done_ms = 1;
        t->done_ms = c->now_ms;
        log_event(LOG_INFO, "task_cancelled", "task=%s after=\"an attempt that did not go\"", id);
    } else {
        set_state(t, TASK_PENDING);
        t->has_due_ms = 1;
        t->due_ms = c->now_ms;
    }
    return rc ? rc : broker_save(c->self, c->txn, id, &before, t);
}

static int finish_task(call_t *c, const char *id, StoredTask *t, const Arrears__TaskReport *m,
                       ContactResult result)
{
    StoredTask before = index_view(t);
    int64_t at = m->has_at_ms ? m->at_ms : c->now_ms;
    if (t->state == TASK_LEASED) {   /* sent without asking: it happened, so it counts */
        log_event(LOG_WARN, "attempt_unannounced", "task=%s worker=%s", id, m->worker ? m->worker : "-");
        t->has_started_ms = 1;
        t->started_ms = at;
    }
    bool connected = is_conversation(result) || result == ARREARS__CONTACT_RESULT__DELIVERED;
    int rc = ledger_mark(c->self, c->txn, id, t, true, connected);
    set_state(t, TASK_DONE);
    t->has_result = t->has_done_ms = 1;
    t->result = result;
    t->done_ms = at;
    set_string(&t->channel_ref, m->channel_ref);
    set_string(&t->detail, m->detail);
    rc = rc ? rc : note_person(c, t, result, at);
    rc = rc ? rc : broker_save(c->self, c->txn, id, &before, t);
    return rc ? rc : broker_tell_staging(c->self, c->txn, t, m, result, at, m->detail);
}

/* A look-up in the channel's record: what it says went (done, with the recorded
 * result), it surely did not go (queued again), or the channel cannot tell (a person
 * decides; the attempt still counts against the caps). */
static int finish_resolve(call_t *c, const char *id, StoredTask *t, const Arrears__TaskReport *m)
{
    ContactResult result = m->has_result ? m->result : ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    if (result == ARREARS__CONTACT_RESULT__NOT_ATTEMPTED) {
        t->state = TASK_STARTED;   /* so the ledger entry is removed */
        return requeue_unsent(c, id, t);
    }
    if (result != ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED)
        return finish_task(c, id, t, m, result);
    StoredTask before = index_view(t);
    set_state(t, TASK_NEEDS_PERSON);
    set_string(&t->detail, "the channel cannot tell whether the attempt went: a person decides");
    log_event(LOG_WARN, "task_needs_person", "task=%s", id);
    return broker_save(c->self, c->txn, id, &before, t);
}

static int apply_report(call_t *c, const Arrears__TaskReport *m, StoredTask *t, const char **why)
{
    bool mine = m->has_lease_id && m->lease_id == t->lease_id;
    ContactResult result = m->has_result ? m->result : ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    *why = NULL;
    if (mine && tasks_state_is_final(t->state))
        return 0;   /* a repeat after a lost reply */
    if (!mine) {
        *why = "this lease is no longer the task's";
        return 0;
    }
    if (t->state == TASK_RESOLVING)
        return finish_resolve(c, m->task_id, t, m);
    if (result == ARREARS__CONTACT_RESULT__NOT_ATTEMPTED)
        return requeue_unsent(c, m->task_id, t);
    if (result == ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED)
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "result",
                       "a sent task's report names what came of it");
    return finish_task(c, m->task_id, t, m, result);
}

static int task_report(call_t *c, const Arrears__Envelope *env, uint8_t *buf, size_t cap,
                       size_t *len)
{
    const Arrears__TaskReport *m = env->task_report;
    if (m->has_result && (m->result < 0 || m->result > ARREARS__CONTACT_RESULT__NOT_ATTEMPTED))
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "result", "unknown result");
    if ((m->detail && strlen(m->detail) > 200) || (m->channel_ref && strlen(m->channel_ref) > 200))
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__TOO_LARGE, "detail",
                       "detail and channel_ref: at most 200 bytes");
    StoredTask *t = NULL;
    int rc = leased_task(c, m->task_id, m->has_lease_id, m->lease_id, &t);
    if (rc != 0)
        return rc;
    const char *why = NULL;
    rc = apply_report(c, m, t, &why);
    arrears__stored_task__free_unpacked(t, NULL);
    if (rc == 0)
        log_event(LOG_INFO, "task_report", "task=%s lease=%llu result=%d recorded=%s", m->task_id,
                  (unsigned long long)m->lease_id, m->has_result ? m->result : 0, why ? "no" : "yes");
    return rc ? rc : reply_go(env->request_id, why == NULL, why, buf, cap, len);
}

/* ---------------------------------------------------------------- inbound */

static bool asks_to_stop(const char *text)
{
    static const char *const words[] = {"stop", "unsubscribe", "opt out", "opt-out",
                                        "退订", "td", "cancel", "end", "quit"};
    char folded[1001];
    size_t n = 0;
    for (; text && text[n] && n < sizeof folded - 1; n++)
        folded[n] = (char)(text[n] >= 'A' && text[n] <= 'Z' ? text[n] + 32 : text[n]);
    folded[n] = '\0';
    char *s = folded;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strncmp(s, words[i], strlen(words[i])) == 0 || (i < 5 && strstr(s, words[i])))
            return true;
    return false;
}

static int opt_out_person(call_t *c, const tasks_who_t who, int channel, int64_t at_ms)
{
    StoredPerson *p = NULL;
    int rc = tasks_person_get(c->self->tasks, c->txn, who, &p);
    StoredPerson fresh = STORED_PERSON__INIT;
    StoredPerson *use = p ? p : &fresh;
    use->has_opted_out_channels = use->has_opted_out_ms = 1;
    use->opted_out_channels |= 1u << channel;
    use->opted_out_ms = at_ms;
    rc = rc ? rc : tasks_person_put(c->self->tasks, c->txn, who, use);
    arrears__stored_person__free_unpacked(p, NULL);
    return rc;
}

/* An opt-out holds from the moment the broker commits it: every later gate decision
 * and every AttemptStart for the channel is refused. */
static int inbound(call_t *c, const Arrears__Envelope *env, uint8_t *buf, size_t cap, size_t *len)
{
    const Arrears__Inbound *m = env->inbound;
    if (!m->has_channel || m->channel < ARREARS__CHANNEL__SMS || m->channel > ARREARS__CHANNEL__VISIT)
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "channel", "a known channel");
    if (!m->from || !*m->from || strlen(m->from) > 254)
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "from", "1 to 254 bytes");
    if (!m->inbound_id || !*m->inbound_id || strlen(m->inbound_id) > 128)
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__INVALID_FIELD, "inbound_id", "1 to 128 bytes");
    if (m->text && strlen(m->text) > 1000)
        return receiver_refuse(c->reject, ARREARS__REJECT__CODE__TOO_LARGE, "text", "at most 1000 bytes");
    bool fresh = false, stop = asks_to_stop(m->text);
    int rc = tasks_inbound_once(c->self->tasks, c->txn, m->inbound_id, &fresh);
    tasks_who_t people[16];
    size_t n = 0;
    if (rc == 0 && fresh && stop)
        rc = tasks_point_people(c->self->tasks, c->txn, m->from, people, 16, &n);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = opt_out_person(c, people[i], m->channel - 1, m->has_at_ms ? m->at_ms : c->now_ms);
    if (rc == 0)
        log_event(LOG_INFO, "inbound", "channel=%d opt_out=%s persons=%zu fresh=%s", m->channel,
                  stop ? "yes" : "no", n, fresh ? "yes" : "no");
    return rc ? rc : reply_go(env->request_id, true, NULL, buf, cap, len);
}

/* ---------------------------------------------------------------- leases that ended */

int64_t broker_lease_now_ms(const broker_t *self)
{
    (void)self;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int broker_expire_leases(broker_t *self, MDB_txn *txn, size_t *returned)
{
    char ids[64][TASKS_ID_MAX + 1];
    size_t n = 0;
    int64_t now_ms = aclock_now_ms(self->clock);
    *returned = 0;
    int rc = tasks_expired(self->tasks, txn, broker_lease_now_ms(self), 64, ids, &n);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        StoredTask *t = NULL;
        rc = tasks_get(self->tasks, txn, ids[i], &t);
        if (rc != 0 || !t)
            break;
        StoredTask before = index_view(t);
        /* Never started: back to the queue. Started: it may have gone — look it up. */
        set_state(t, t->state == TASK_LEASED ? TASK_PENDING : TASK_UNRESOLVED);
        t->has_due_ms = 1;
        t->due_ms = now_ms;
        log_event(LOG_WARN, "lease_ended", "task=%s worker=%s now=%s", ids[i],
                  t->worker ? t->worker : "-", t->state == TASK_PENDING ? "queued" : "unresolved");
        rc = broker_save(self, txn, ids[i], &before, t);
        arrears__stored_task__free_unpacked(t, NULL);
        *returned += rc == 0;
    }
    return rc;
}

int broker_call(void *app, MDB_txn *txn, const receiver_peer_t *from,
                const Arrears__Envelope *env, uint8_t *buf, size_t cap, size_t *len,
                reject_t *reject)
{
    broker_t *self = app;
    call_t c = {self, txn, from, aclock_now_ms(self->clock), broker_lease_now_ms(self), reject};
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_TASK_PULL:
    case ARREARS__ENVELOPE__BODY_ATTEMPT_START:
    case ARREARS__ENVELOPE__BODY_TASK_REPORT:
    case ARREARS__ENVELOPE__BODY_INBOUND:
        break;
    default:
        return RECEIVER_NOT_A_CALL;
    }
    if (strcmp(from->role, "worker") != 0 && strcmp(from->role, "agent") != 0 && !is_assignee(from))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, NULL,
                       "only workers, agents and assignees pull, start and report tasks");
    /* The room to tell staging is checked per task, on its shard: a pull's as it screens
     * (offer_id), a start's or report's with its task (leased_task); inbound tells none. */
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_TASK_PULL: return task_pull(&c, env, buf, cap, len);
    case ARREARS__ENVELOPE__BODY_ATTEMPT_START: return attempt_start(&c, env, buf, cap, len);
    case ARREARS__ENVELOPE__BODY_TASK_REPORT: return task_report(&c, env, buf, cap, len);
    default: return inbound(&c, env, buf, cap, len);
    }
}
