/* test_broker: the outreach broker's decisions in process (services/outreach/broker.c,
 * lease.c, screen.c), without sockets: a broker_t on a store in a temporary directory, a
 * simulated clock, a profile book parsed from PROFILES below and the shipped template
 * book; messages and calls are Arrears__Envelope values built here and handed to
 * broker_apply / broker_call inside store_write, as the receiver does; replies are
 * unpacked and checked, and the stored tasks, ledger, persons and outbox are read back.
 *
 * Why: the broker is where the conduct rules meet durable state. Each test pins one
 * decision and the reason or state it leaves behind:
 *   - ContactRequest queues one task, a repeat is a duplicate, invalid fields are refused
 *     with the field named, only staging (role service) may send one;
 *   - TaskPull defers a task outside the window to 08:00 local and leases it inside with
 *     send_before = 21:00 local and the rendered text; only workers pull (agents: calls
 *     and visits only); a plain query is not a call; a banned phrase refuses the task;
 *   - AttemptStart with the task's lease says go and writes the ledger (person and
 *     account), idempotently; a wrong lease says no; the person's call cap defers the
 *     second of two calls leased together to the next local day;
 *   - TaskReport finishes a task and tells staging once; a conversation starts the wait
 *     after it; NOT_ATTEMPTED requeues and takes the attempt out of the ledger;
 *   - ContactCancel cancels pending and leased tasks, never a started one; a newer
 *     request on a channel supersedes the account's task still waiting on it;
 *   - a lease that ends (real time) requeues a leased task and sends a started one to
 *     resolution by its idempotency key (requeued, done or left to a person);
 *   - an inbound STOP opts the person out of the channel at once (a leased task's
 *     AttemptStart is refused too), once per inbound id;
 *   - ClockAdvance is busy while work due by the instant remains;
 *   - on a driven clock the queue is worked only in the broker's turn: out of it a
 *     worker's or agent's pull leases and screens nothing, an assignee's still does.
 *
 * Times: the borrower is in Europe/London; the day is Wednesday 2026-06-10 (BST, UTC+1)
 * and the simulated clock starts at 06:00 local, before the profile's 08:00-21:00 window.
 *   - a cancel that arrives while an attempt is started or being looked up ends the
 *     task there if it did not go: it never goes back to the queue;
 *   - a due call is offered to an agent behind any backlog of texts (the queue is kept
 *     by channel);
 *   - legal's CaseAssignment sets an account's holder, replaces it, clears it only when
 *     it names the holder (a stale end leaves a newer holder alone), and is refused
 *     malformed or from anyone but a service;
 *   - a "legal" stage call goes to the principal holding its account and nobody else
 *     (not a worker, an agent, another firm or agency; not before legal names a holder);
 *     an assignee's pull reads only its own accounts' legal calls, a bounded slice at a
 *     time yet reaching every account, and goes through the same gate (window, person
 *     caps); legal calls waiting for a holder never hold an agent's pull back;
 *   - a lease is its puller's: a start or report under it by any other principal is
 *     refused and changes nothing; a reassignment after the pull stops the call;
 *   - staging in two shards (principals "staging" and "staging-1"; the other tests'
 *     staging is "staging"): a task keeps the shard that sent its request and is told
 *     there only (to_staging.1 for "staging-1"); a request or cancel from a staging
 *     principal not in the list is refused and changes nothing; a task stored before
 *     shards (no shard kept) is told on shard 0; a shard whose outbox is full gets busy
 *     for its requests and its tasks' starts (nothing changed), the other shard goes on;
 *   - the end of an account's retention (PersonalDataErased): every task of the account
 *     loses the borrower (name, points, address, language, the point used, the detail)
 *     and keeps its state, result and the report's figures; one still waiting is
 *     cancelled and never leased; another account's task is untouched; a repeat writes
 *     nothing; a message without its platform or account is refused and changes nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "erasure.h"
#include "log.h"
#include "report.h"
#include "svctest.h"

#define ZONE "Europe/London"
#define PHONE "+447700900123"
#define NAME "Ada Quillfeather"
#define SMS ARREARS__CHANNEL__SMS
#define CALL ARREARS__CHANNEL__CALL
#define FIRM_1 "firm-1"
#define FIRM_2 "firm-2"
#define SMS_TPL "reminder_sms_v1"
#define CALL_TPL "early_call_v1"
#define BANNED_TPL "early_sms_v1"   /* "... is {dpd} days overdue ...": banned below */
#define LEASE_MS 5000
#define DAY_MS INT64_C(86400000)
#define NOBODY 0                    /* no person key: caps count per account */

static const char PROFILES[] =
    "default = \"t\";\n"
    "profiles = (\n"
    "  { name = \"t\"; jurisdictions = [\"GB\"];\n"
    "    window = { start = \"08:00\"; end = \"21:00\"; };\n"
    "    caps = ( { channel = \"call\"; person_per_day = 1; wait_after_conversation_days = 2; } );\n"
    "    opt_out_notice = [\"sms\"];\n"
    "    languages = ( { language = \"en\"; banned = [\"overdue\"]; opt_out = [\"reply stop\"]; } );\n"
    "  }\n"
    ");\n";

typedef struct {
    char dir[64];
    store_t *store;
    crypt_t *crypt;
    profile_book_t *profiles;
    template_book_t *templates;
    broker_t b;
    shards_t staging;            /* two shards, principals "staging" and "staging-1" */
    int rc;                      /* the last broker_apply / broker_call */
    reject_t reject;
    uint8_t buf[64 * 1024];
    size_t len;
    Arrears__Envelope *reply;    /* the last call's reply, unpacked */
    Arrears__Envelope *outcome;  /* the last outcome read from the outbox */
    StoredTask *task;            /* the last task read back */
    StoredPerson *person;        /* the last person read back */
    uint64_t unacked;            /* what the unacked stub answers */
    bool turn;                   /* what the in_turn stub answers */
} fx_t;

/* ---------------------------------------------------------------- fixture */

static const char *root_path(const char *rel)
{
    static char path[1024];
    const char *slash = strrchr(__FILE__, '/');
    assert_non_null(slash);
    snprintf(path, sizeof path, "%.*s/../../../%s", (int)(slash - __FILE__), __FILE__, rel);
    return path;
}

static const tz_zone_t *london(fx_t *f)
{
    const tz_zone_t *z = NULL;
    assert_int_equal(tz_cache_get(f->b.zones, ZONE, &z), TZ_OK);
    return z;
}

/* The instant of hh:mm London time, `day` days after 2026-06-10. */
static int64_t local(fx_t *f, int day, int hour, int minute)
{
    int64_t s = 0;
    assert_int_equal(tz_utc_of_local(london(f), 2026, 6, 10 + day, hour, minute, 0, &s), TZ_OK);
    return s * 1000;
}

static void move_clock(fx_t *f, int64_t to_ms)
{
    assert_int_equal(aclock_advance_to(f->b.clock, to_ms), ACLOCK_OK);
}

static int64_t now(fx_t *f)
{
    return aclock_now_ms(f->b.clock);
}

static uint64_t unacked_stub(void *arg)
{
    return ((fx_t *)arg)->unacked;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char key[128], err[512] = "";
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/t_brokerXXXXXX");
    store_options_t o = store_default_options();
    o.relaxed = true;
    outbox_limits_t ol = outbox_default_limits();
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(key, sizeof key, "%s/secret.key", f->dir);
    f->staging.count = 2;
    strcpy(f->staging.shard[0].principal, "staging");
    strcpy(f->staging.shard[1].principal, "staging-1");
    f->b.staging = &f->staging;
    f->b.limits = broker_default_limits();
    f->b.limits.lease_ms = LEASE_MS;
    f->b.started_ms = aclock_monotonic_ms();
    f->b.zones = tz_cache_new(NULL, 64);
    f->profiles = profile_book_parse(PROFILES, "test.conf", err, sizeof err);
    f->templates = template_book_load(root_path("services/outreach/templates.conf"), err, sizeof err);
    if (!f->profiles || !f->templates || !f->b.zones) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    f->b.profiles = f->profiles;
    f->b.templates = f->templates;
    if (crypt_key_create(key) != CRYPT_OK || crypt_load(key, &f->crypt) != CRYPT_OK
        || store_open(&f->store, f->dir, &o) != STORE_OK
        || shards_open_outboxes(&f->staging, f->store, &ol, NULL, f->b.to_staging) != 0
        || tasks_open(f->store, f->crypt, &f->b.tasks) != 0)
        return -1;
    *state = f;
    f->b.clock = aclock_new_simulated(local(f, 0, 6, 0));
    return f->b.clock ? 0 : -1;
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fx_t *f = *state;
    arrears__envelope__free_unpacked(f->reply, NULL);
    arrears__envelope__free_unpacked(f->outcome, NULL);
    arrears__stored_task__free_unpacked(f->task, NULL);
    arrears__stored_person__free_unpacked(f->person, NULL);
    tasks_destroy(&f->b.tasks);
    shards_close_outboxes(f->b.to_staging);
    store_destroy(&f->store);
    crypt_destroy(&f->crypt);
    aclock_destroy(&f->b.clock);
    tz_cache_destroy(&f->b.zones);
    profile_book_destroy(&f->profiles);
    template_book_destroy(&f->templates);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* ---------------------------------------------------------------- transactions */

typedef void (txn_fn)(fx_t *f, MDB_txn *txn, void *arg);
typedef struct {
    fx_t *f;
    txn_fn *fn;
    void *arg;
} run_t;

static int run_work(MDB_txn *txn, void *arg)
{
    run_t *r = arg;
    r->fn(r->f, txn, r->arg);
    return 0;
}

static void in_write(fx_t *f, txn_fn *fn, void *arg)
{
    run_t r = {f, fn, arg};
    assert_int_equal(store_write(f->store, run_work, &r), 0);
}

static void in_read(fx_t *f, txn_fn *fn, void *arg)
{
    run_t r = {f, fn, arg};
    assert_int_equal(store_read(f->store, run_work, &r), 0);
}

/* ---------------------------------------------------------------- messages and calls */

typedef struct {
    const char *role;
    const char *principal;       /* NULL: "<role>-1"; for role service "staging" */
    const Arrears__Envelope *env;
    bool call;
} msg_t;

/* One message or call in its own committed transaction, as the receiver would run it
 * (a refusal commits too: the broker must decide before it writes). */
static void msg_work(fx_t *f, MDB_txn *txn, void *arg)
{
    msg_t *m = arg;
    receiver_peer_t peer;
    memset(&peer, 0, sizeof peer);
    const char *principal = m->principal ? m->principal
                            : strcmp(m->role, "service") == 0 ? "staging"   /* its shard 0 */
                                                              : NULL;
    if (principal)
        snprintf(peer.principal, sizeof peer.principal, "%s", principal);
    else
        snprintf(peer.principal, sizeof peer.principal, "%s-1", m->role);
    snprintf(peer.role, sizeof peer.role, "%s", m->role);
    memset(&f->reject, 0, sizeof f->reject);
    f->len = 0;
    f->rc = m->call ? broker_call(&f->b, txn, &peer, m->env, f->buf, sizeof f->buf, &f->len,
                                  &f->reject)
                    : broker_apply(&f->b, txn, &peer, m->env, &f->reject);
}

/* A message by principal (NULL: as msg_t says) of role. */
static int send_msg_as(fx_t *f, const char *role, const char *principal,
                       const Arrears__Envelope *env)
{
    msg_t m = {role, principal, env, false};
    in_write(f, msg_work, &m);
    return f->rc;
}

static int send_msg(fx_t *f, const char *role, const Arrears__Envelope *env)
{
    return send_msg_as(f, role, NULL, env);
}

/* A call by principal (NULL: "<role>-1") of role. */
static int call_as(fx_t *f, const char *role, const char *principal, Arrears__Envelope *env)
{
    msg_t m = {role, principal, env, true};
    env->has_request_id = 1;
    env->request_id = 77;
    arrears__envelope__free_unpacked(f->reply, NULL);
    f->reply = NULL;
    in_write(f, msg_work, &m);
    if (f->rc == APPLY_OK) {
        f->reply = arrears__envelope__unpack(NULL, f->len, f->buf);
        assert_non_null(f->reply);
        assert_int_equal(f->reply->request_id, 77);
    }
    return f->rc;
}

static int call(fx_t *f, const char *role, Arrears__Envelope *env)
{
    return call_as(f, role, NULL, env);
}

static void assert_refused(fx_t *f, int rc, Arrears__Reject__Code code, const char *field)
{
    assert_int_equal(rc, APPLY_REJECTED);
    assert_int_equal(f->reject.code, code);
    assert_int_equal(f->reject.klass, code == ARREARS__REJECT__CODE__BUSY
                                          ? ARREARS__REJECT__CLASS__RETRY_LATER
                                          : ARREARS__REJECT__CLASS__PERMANENT);
    if (field)
        assert_string_equal(f->reject.field, field);
}

/* ---- ContactRequest */

typedef struct {
    ContactRequest r;
    ContactPoint phone;
    ContactPoint *phones[1];
    uint8_t person[TASKS_WHO_BYTES];
    char account[32], contact[48];
} req_t;

/* A valid request "<account>#<n>" of platform p1; person 0 sends no person key. */
static ContactRequest *req(req_t *q, const char *account, int n, Arrears__Channel channel,
                           const char *template_id, uint8_t person)
{
    memset(q, 0, sizeof *q);
    arrears__contact_request__init(&q->r);
    arrears__contact_point__init(&q->phone);
    snprintf(q->account, sizeof q->account, "%s", account);
    snprintf(q->contact, sizeof q->contact, "%s#%d", account, n);
    q->phone.value = PHONE;
    q->phone.has_verified = q->phone.verified = q->phone.has_consent = q->phone.consent = 1;
    q->phones[0] = &q->phone;
    ContactRequest *r = &q->r;
    r->platform = "p1";
    r->account_ref = q->account;
    r->contact_id = q->contact;
    r->has_channel = 1;
    r->channel = channel;
    r->template_id = (char *)template_id;
    r->time_zone = ZONE;
    r->language = "en";
    r->jurisdiction = "GB";
    r->borrower_name = NAME;
    r->has_outstanding_minor = r->has_days_past_due = 1;
    r->outstanding_minor = 12345;
    r->days_past_due = 12;
    r->currency = "GBP";
    r->n_phones = 1;
    r->phones = q->phones;
    if (person != NOBODY) {
        memset(q->person, person, sizeof q->person);
        r->has_person_key = 1;
        r->person_key = (ProtobufCBinaryData){sizeof q->person, q->person};
    }
    return r;
}

/* A request by principal (NULL: as msg_t says) of role. */
static int request_from(fx_t *f, const char *role, const char *principal, ContactRequest *r)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CONTACT_REQUEST;
    env.contact_request = r;
    return send_msg_as(f, role, principal, &env);
}

static int request_as(fx_t *f, const char *role, ContactRequest *r)
{
    return request_from(f, role, NULL, r);
}

/* Queues "<account>#<n>" (task id "p1/<account>#<n>"). */
static void queue(fx_t *f, const char *account, int n, Arrears__Channel channel,
                  const char *template_id, uint8_t person)
{
    req_t q;
    assert_int_equal(request_as(f, "service", req(&q, account, n, channel, template_id, person)),
                     APPLY_OK);
}

/* A cancel by principal (NULL: as msg_t says) of role. */
static int cancel_through(fx_t *f, const char *role, const char *principal,
                          const char *account, const char *through_contact_id)
{
    Arrears__ContactCancel m = ARREARS__CONTACT_CANCEL__INIT;
    m.platform = "p1";
    m.account_ref = (char *)account;
    m.through_contact_id = (char *)through_contact_id;
    m.reason = "payment received";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CONTACT_CANCEL;
    env.contact_cancel = &m;
    return send_msg_as(f, role, principal, &env);
}

static int cancel_from(fx_t *f, const char *role, const char *principal, const char *account)
{
    return cancel_through(f, role, principal, account, NULL);
}

static int cancel_as(fx_t *f, const char *role, const char *account)
{
    return cancel_from(f, role, NULL, account);
}

static int advance_as(fx_t *f, const char *role, int64_t to_ms)
{
    Arrears__ClockAdvance m = ARREARS__CLOCK_ADVANCE__INIT;
    m.has_to_ms = 1;
    m.to_ms = to_ms;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE;
    env.clock_advance = &m;
    return send_msg(f, role, &env);
}

/* ---- worker calls */

static int pull_call_as(fx_t *f, const char *role, const char *principal, const char *worker,
                        Arrears__Channel channel, int max)
{
    Arrears__Channel channels[1] = {channel};
    Arrears__TaskPull m = ARREARS__TASK_PULL__INIT;
    m.worker = (char *)worker;
    m.n_channels = channel ? 1 : 0;
    m.channels = channels;
    m.has_max_tasks = 1;
    m.max_tasks = max;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_TASK_PULL;
    env.task_pull = &m;
    return call_as(f, role, principal, &env);
}

static int pull_call(fx_t *f, const char *role, const char *worker, Arrears__Channel channel,
                     int max)
{
    return pull_call_as(f, role, NULL, worker, channel, max);
}

static const Arrears__TaskLease *pull(fx_t *f, Arrears__Channel channel, int max)
{
    assert_int_equal(pull_call(f, "worker", "w1", channel, max), APPLY_OK);
    assert_int_equal(f->reply->body_case, ARREARS__ENVELOPE__BODY_TASK_LEASE);
    return f->reply->task_lease;
}

typedef struct {
    char id[TASKS_ID_MAX + 1];
    uint64_t lease;
    Arrears__TaskKind kind;
} lease_t;

static lease_t lease_of(const Arrears__Task *t)
{
    lease_t l;
    snprintf(l.id, sizeof l.id, "%s", t->task_id);
    l.lease = t->lease_id;
    l.kind = t->kind;
    return l;
}

/* Pulls exactly one task. */
static lease_t lease_one(fx_t *f, Arrears__Channel channel)
{
    const Arrears__TaskLease *l = pull(f, channel, 1);
    assert_int_equal(l->n_tasks, 1);
    return lease_of(l->tasks[0]);
}

static bool go_reply(fx_t *f)
{
    assert_int_equal(f->reply->body_case, ARREARS__ENVELOPE__BODY_ATTEMPT_REPLY);
    assert_true(f->reply->attempt_reply->has_go);
    return f->reply->attempt_reply->go;
}

/* AttemptStart by principal (NULL: "<role>-1") of role. */
static int start_call(fx_t *f, const char *role, const char *principal, const char *task_id,
                      uint64_t lease_id)
{
    Arrears__AttemptStart m = ARREARS__ATTEMPT_START__INIT;
    m.task_id = (char *)task_id;
    m.has_lease_id = 1;
    m.lease_id = lease_id;
    m.worker = "w1";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ATTEMPT_START;
    env.attempt_start = &m;
    return call_as(f, role, principal, &env);
}

static bool start(fx_t *f, const char *task_id, uint64_t lease_id)
{
    assert_int_equal(start_call(f, "worker", NULL, task_id, lease_id), APPLY_OK);
    return go_reply(f);
}

/* TaskReport by principal (NULL: "<role>-1") of role; result 0: none given
 * (CONTACT_RESULT_UNSPECIFIED). */
static int report_call(fx_t *f, const char *role, const char *principal, const lease_t *l,
                       ContactResult result)
{
    Arrears__TaskReport m = ARREARS__TASK_REPORT__INIT;
    m.task_id = (char *)l->id;
    m.has_lease_id = 1;
    m.lease_id = l->lease;
    m.worker = "w1";
    m.has_result = result != 0;
    m.result = result;
    m.channel_ref = "gw-1";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_TASK_REPORT;
    env.task_report = &m;
    return call_as(f, role, principal, &env);
}

static bool report(fx_t *f, const lease_t *l, ContactResult result)
{
    assert_int_equal(report_call(f, "worker", NULL, l, result), APPLY_OK);
    return go_reply(f);
}

static bool inbound(fx_t *f, const char *text, const char *inbound_id, int64_t at_ms)
{
    Arrears__Inbound m = ARREARS__INBOUND__INIT;
    m.has_channel = m.has_at_ms = 1;
    m.channel = SMS;
    m.from = PHONE;
    m.text = (char *)text;
    m.at_ms = at_ms;
    m.inbound_id = (char *)inbound_id;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_INBOUND;
    env.inbound = &m;
    assert_int_equal(call(f, "worker", &env), APPLY_OK);
    return go_reply(f);
}

/* ---------------------------------------------------------------- reading state back */

static void get_task_work(fx_t *f, MDB_txn *txn, void *arg)
{
    arrears__stored_task__free_unpacked(f->task, NULL);
    f->task = NULL;
    assert_int_equal(tasks_get(f->b.tasks, txn, arg, &f->task), 0);
    assert_non_null(f->task);
}

/* The stored task (valid until the next stored()). */
static const StoredTask *stored(fx_t *f, const char *task_id)
{
    in_read(f, get_task_work, (void *)task_id);
    return f->task;
}

static conduct_rule_t last_rule(const StoredTask *t)
{
    assert_true(t->n_decisions > 0);
    return t->decisions[t->n_decisions - 1]->rule;
}

static void get_person_work(fx_t *f, MDB_txn *txn, void *arg)
{
    tasks_who_t who;
    memset(who, *(uint8_t *)arg, sizeof who);
    arrears__stored_person__free_unpacked(f->person, NULL);
    f->person = NULL;
    assert_int_equal(tasks_person_get(f->b.tasks, txn, who, &f->person), 0);
}

static bool has_person(fx_t *f, uint8_t byte)
{
    in_read(f, get_person_work, &byte);
    return f->person != NULL;
}

/* The stored person of key byte*16 (valid until the next person()). */
static const StoredPerson *person(fx_t *f, uint8_t byte)
{
    assert_true(has_person(f, byte));
    return f->person;
}

typedef struct {
    tasks_who_t who;
    conduct_attempt_t at[8];
    size_t n;
} ledger_t;

static void ledger_work(fx_t *f, MDB_txn *txn, void *arg)
{
    ledger_t *l = arg;
    assert_int_equal(tasks_ledger_read(f->b.tasks, txn, l->who, 0, l->at, 8, &l->n), 0);
}

/* The ledger of a person (person != NOBODY) or else of account "p1/<account>". */
static ledger_t ledger(fx_t *f, uint8_t person, const char *account)
{
    ledger_t l;
    char key[64];
    snprintf(key, sizeof key, "p1/%s", account ? account : "");
    if (person != NOBODY)
        memset(l.who, person, sizeof l.who);
    else
        tasks_who_of_account(key, l.who);
    in_read(f, ledger_work, &l);
    return l;
}

/* *arg: the shard in, the outcomes appended to it out. */
static void outbox_work(fx_t *f, MDB_txn *txn, void *arg)
{
    outbox_state_t st;
    assert_int_equal(outbox_state(f->b.to_staging[*(uint64_t *)arg], txn, &st), 0);
    *(uint64_t *)arg = st.last_seq;
}

/* Outcomes appended to staging shard `shard` so far. */
static uint64_t outcomes_on(fx_t *f, uint64_t shard)
{
    in_read(f, outbox_work, &shard);
    return shard;
}

/* Outcomes appended to staging (its shard 0) so far. */
static uint64_t outcomes(fx_t *f)
{
    return outcomes_on(f, 0);
}

static int visit_outcome(uint64_t seq, const uint8_t *envelope, size_t len, void *arg)
{
    fx_t *f = arg;
    (void)seq;
    arrears__envelope__free_unpacked(f->outcome, NULL);
    f->outcome = arrears__envelope__unpack(NULL, len, envelope);
    return 1;
}

/* arg: {shard, seq}. */
static void outcome_work(fx_t *f, MDB_txn *txn, void *arg)
{
    const uint64_t *at = arg;
    int rc = outbox_each(f->b.to_staging[at[0]], txn, at[1], 1, visit_outcome, f);
    assert_true(rc == 0 || rc == 1);
}

/* The outcome appended to staging shard `shard` as message seq. */
static const Arrears__ContactOutcome *outcome_on(fx_t *f, uint64_t shard, uint64_t seq)
{
    uint64_t at[2] = {shard, seq};
    arrears__envelope__free_unpacked(f->outcome, NULL);
    f->outcome = NULL;
    in_read(f, outcome_work, at);
    assert_non_null(f->outcome);
    assert_int_equal(f->outcome->body_case, ARREARS__ENVELOPE__BODY_CONTACT_OUTCOME);
    return f->outcome->contact_outcome;
}

/* The outcome appended to staging (its shard 0) as message seq. */
static const Arrears__ContactOutcome *outcome(fx_t *f, uint64_t seq)
{
    return outcome_on(f, 0, seq);
}

typedef struct {
    char ids[8][TASKS_ID_MAX + 1];
    size_t n;
} ids_t;

static void of_account_work(fx_t *f, MDB_txn *txn, void *arg)
{
    ids_t *ids = arg;
    assert_int_equal(tasks_of_account(f->b.tasks, txn, "p1/a1", 8, ids->ids, &ids->n), 0);
}

static void meta_work(fx_t *f, MDB_txn *txn, void *arg)
{
    assert_int_equal(tasks_meta_get(f->b.tasks, txn, "clock_ms", 0, arg), 0);
}

static void counts_work(fx_t *f, MDB_txn *txn, void *arg)
{
    assert_int_equal(tasks_count_states(f->b.tasks, txn, arg), 0);
}

static uint64_t tasks_total(fx_t *f)
{
    uint64_t counts[10], n = 0;
    in_read(f, counts_work, counts);
    for (int i = 0; i < 10; i++)
        n += counts[i];
    return n;
}

static void expire_work(fx_t *f, MDB_txn *txn, void *arg)
{
    assert_int_equal(broker_expire_leases(&f->b, txn, arg), 0);
}

static size_t expire(fx_t *f)
{
    size_t n = 99;
    in_write(f, expire_work, &n);
    return n;
}

/* Moves the task's lease end a second into the past (what a worker that died leaves). */
static void backdate_work(fx_t *f, MDB_txn *txn, void *arg)
{
    StoredTask *before = NULL, *after = NULL;
    assert_int_equal(tasks_get(f->b.tasks, txn, arg, &before), 0);
    assert_int_equal(tasks_get(f->b.tasks, txn, arg, &after), 0);
    after->lease_until_ms = broker_lease_now_ms(&f->b) - 1000;
    assert_int_equal(tasks_save(f->b.tasks, txn, arg, before, after), 0);
    arrears__stored_task__free_unpacked(before, NULL);
    arrears__stored_task__free_unpacked(after, NULL);
}

/* ---------------------------------------------------------------- ContactRequest */

static void test_request_queues_one_task(void **state)
{
    fx_t *f = *state;
    req_t q;
    assert_int_equal(request_as(f, "service", req(&q, "a1", 1, SMS, SMS_TPL, NOBODY)), APPLY_OK);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 0, 6, 0));
    assert_int_equal(t->created_ms, local(f, 0, 6, 0));
    assert_int_equal(t->priority, 50);
    assert_string_equal(t->request->borrower_name, NAME);

    /* The contact id is the natural key: again, even changed, is a duplicate. */
    assert_int_equal(request_as(f, "service", &q.r), APPLY_DUPLICATE);
    q.r.has_priority = 1;
    q.r.priority = 5;
    assert_int_equal(request_as(f, "service", &q.r), APPLY_DUPLICATE);
    assert_int_equal(tasks_total(f), 1);
    assert_int_equal(stored(f, "p1/a1#1")->priority, 50);
    assert_int_equal(outcomes(f), 0);
}

static void break_field(req_t *q, int i)
{
    static char long_id[82];
    memset(long_id, 'x', sizeof long_id - 1);
    ContactRequest *r = &q->r;
    switch (i) {
    case 0: r->platform = NULL; break;
    case 1: r->account_ref = ""; break;
    case 2: r->contact_id = long_id; break;   /* 81 bytes */
    case 3: r->channel = ARREARS__CHANNEL__CHANNEL_UNSPECIFIED; break;
    case 4: r->template_id = NULL; break;
    case 5: r->time_zone = NULL; break;
    case 6: r->time_zone = "Mars/Olympus_Mons"; break;
    case 7: r->has_priority = 1, r->priority = 0; break;
    case 8: r->has_priority = 1, r->priority = 101; break;
    default: r->person_key.len = 15; break;
    }
}

static void test_request_invalid_fields_named(void **state)
{
    fx_t *f = *state;
    static const char *const fields[] = {"platform", "account_ref", "contact_id", "channel",
                                         "template_id", "time_zone", "time_zone", "priority",
                                         "priority", "person_key"};
    for (int i = 0; i < 10; i++) {
        req_t q;
        req(&q, "a1", 1, SMS, SMS_TPL, 0x33);
        break_field(&q, i);
        assert_refused(f, request_as(f, "service", &q.r), ARREARS__REJECT__CODE__INVALID_FIELD,
                       fields[i]);
    }
    assert_int_equal(tasks_total(f), 0);
}

static void test_request_only_from_staging(void **state)
{
    fx_t *f = *state;
    req_t q;
    req(&q, "a1", 1, SMS, SMS_TPL, NOBODY);
    assert_refused(f, request_as(f, "worker", &q.r), ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_refused(f, request_as(f, "operator", &q.r), ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body");
    assert_refused(f, advance_as(f, "service", now(f) + 1000), ARREARS__REJECT__CODE__UNKNOWN_TYPE,
                   "body");
    assert_refused(f, cancel_as(f, "worker", "a1"), ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_int_equal(tasks_total(f), 0);
}

/* ---------------------------------------------------------------- TaskPull */

static void test_pull_outside_window_defers_to_opening(void **state)
{
    fx_t *f = *state;
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);   /* at 06:00 local */
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 0, 8, 0));
    assert_int_equal(t->due_ms, INT64_C(1781074800000));   /* 07:00 UTC */
    assert_int_equal(last_rule(t), CONDUCT_RULE_WINDOW);
    assert_int_equal(t->decisions[t->n_decisions - 1]->verdict, CONDUCT_DEFER);
    assert_int_equal(t->deferrals, 1);
    assert_string_equal(t->profile, "t");
    assert_int_equal(outcomes(f), 0);

    move_clock(f, local(f, 0, 7, 59));   /* still closed, and not due: nothing screened */
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);
    assert_int_equal(stored(f, "p1/a1#1")->deferrals, 1);
}

static void test_pull_inside_window_leases_rendered_task(void **state)
{
    fx_t *f = *state;
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    move_clock(f, local(f, 0, 10, 0));
    int64_t real_before = broker_lease_now_ms(&f->b);
    const Arrears__TaskLease *l = pull(f, SMS, 4);
    int64_t real_after = broker_lease_now_ms(&f->b);
    assert_int_equal(l->n_tasks, 1);
    const Arrears__Task *k = l->tasks[0];
    assert_string_equal(k->task_id, "p1/a1#1");
    assert_int_equal(k->lease_id, 1);
    assert_int_equal(k->kind, ARREARS__TASK_KIND__TASK_SEND);
    assert_int_equal(k->send_before_ms, local(f, 0, 21, 0));
    assert_int_equal(k->clock_ms, local(f, 0, 10, 0));
    assert_true(k->simulated);
    assert_true(k->lease_until_ms >= real_before + LEASE_MS && k->lease_until_ms <= real_after + LEASE_MS);
    assert_int_equal(k->channel, SMS);
    assert_string_equal(k->to, PHONE);
    assert_string_equal(k->idempotency_key, "p1/a1#1#1");
    assert_string_equal(k->template_id, SMS_TPL);
    assert_int_equal(k->template_version, 1);
    assert_string_equal(k->language, "en");
    assert_string_equal(k->profile, "t");
    assert_int_equal(k->attempt, 1);
    assert_non_null(strstr(k->text, NAME ", a reminder from p1"));
    assert_non_null(strstr(k->text, "GBP 123.45"));
    assert_non_null(strstr(k->text, "Reply STOP to opt out."));

    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_LEASED);
    assert_string_equal(t->worker, "w1");
    assert_string_equal(t->point, PHONE);
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);   /* leased: not offered twice */
    assert_int_equal(pull(f, CALL, 4)->n_tasks, 0);  /* nor on another channel */
}

static void test_pull_only_by_workers_and_query_is_not_a_call(void **state)
{
    fx_t *f = *state;
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    move_clock(f, local(f, 0, 10, 0));
    assert_refused(f, pull_call(f, "service", "w1", SMS, 1), ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_refused(f, pull_call(f, "operator", "w1", SMS, 1), ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    /* Agents (people, voice robots) work calls and visits only. */
    assert_refused(f, pull_call(f, "agent", "ag1", SMS, 1), ARREARS__REJECT__CODE__UNAUTHORIZED, "channels");
    assert_int_equal(pull_call(f, "agent", "ag1", CALL, 1), APPLY_OK);
    assert_int_equal(f->reply->task_lease->n_tasks, 0);
    assert_refused(f, pull_call(f, "worker", "", SMS, 1), ARREARS__REJECT__CODE__INVALID_FIELD, "worker");
    assert_refused(f, pull_call(f, "worker", "w1", 0, 1), ARREARS__REJECT__CODE__INVALID_FIELD, "channels");
    assert_refused(f, pull_call(f, "worker", "w1", SMS, 65), ARREARS__REJECT__CODE__INVALID_FIELD, "max_tasks");
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_PENDING);

    Arrears__HealthQuery hq = ARREARS__HEALTH_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_HEALTH_QUERY;
    env.health_query = &hq;
    assert_int_equal(call(f, "worker", &env), RECEIVER_NOT_A_CALL);
    assert_int_equal(call(f, "operator", &env), RECEIVER_NOT_A_CALL);
}

/* ---------------------------------------------------------------- AttemptStart */

static void test_attempt_start_goes_once_into_ledger(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, 0x51);
    lease_t l = lease_one(f, SMS);
    assert_true(start(f, l.id, l.lease));
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_STARTED);
    assert_int_equal(t->started_ms, local(f, 0, 10, 0));
    ledger_t p = ledger(f, 0x51, NULL), a = ledger(f, NOBODY, "a1");
    assert_int_equal(p.n, 1);
    assert_int_equal(p.at[0].at_ms, local(f, 0, 10, 0));
    assert_int_equal(p.at[0].channel, 0);   /* sms */
    assert_true(p.at[0].connected);         /* counted connected until its report */
    assert_int_equal(a.n, 1);

    assert_true(start(f, l.id, l.lease));   /* a repeat after a lost reply */
    assert_int_equal(ledger(f, 0x51, NULL).n, 1);
    assert_false(start(f, l.id, l.lease + 1));
    assert_non_null(strstr(f->reply->attempt_reply->reason, "no longer"));
    assert_int_equal(stored(f, l.id)->state, TASK_STARTED);
}

static void test_attempt_start_unknown_task_refused(void **state)
{
    fx_t *f = *state;
    Arrears__AttemptStart m = ARREARS__ATTEMPT_START__INIT;
    m.task_id = "p1/none#1";
    m.has_lease_id = 1;
    m.lease_id = 1;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ATTEMPT_START;
    env.attempt_start = &m;
    assert_refused(f, call(f, "worker", &env), ARREARS__REJECT__CODE__INVALID_FIELD, "task_id");
}

static void test_person_call_cap_defers_second_of_two(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, CALL, CALL_TPL, 0x61);
    queue(f, "a2", 1, CALL, CALL_TPL, 0x61);   /* another account, the same person */
    const Arrears__TaskLease *pl = pull(f, CALL, 2);
    assert_int_equal(pl->n_tasks, 2);   /* the gate at pull sees no attempt yet */
    lease_t first = lease_of(pl->tasks[0]), second = lease_of(pl->tasks[1]);
    assert_string_equal(first.id, "p1/a1#1");
    assert_string_equal(second.id, "p1/a2#1");

    assert_true(start(f, first.id, first.lease));
    assert_false(start(f, second.id, second.lease));
    const StoredTask *t = stored(f, second.id);
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 1, 8, 0));
    assert_int_equal(last_rule(t), CONDUCT_RULE_CAP_PERSON_DAY);
    assert_int_equal(ledger(f, 0x61, NULL).n, 1);
    assert_int_equal(ledger(f, NOBODY, "a2").n, 0);
    assert_int_equal(outcomes(f), 0);
}

/* ---------------------------------------------------------------- TaskReport */

static lease_t started(fx_t *f, const char *account, Arrears__Channel channel,
                       const char *template_id, uint8_t person)
{
    queue(f, account, 1, channel, template_id, person);
    lease_t l = lease_one(f, channel);
    assert_true(start(f, l.id, l.lease));
    return l;
}

static void test_report_delivered_done_and_told_once(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", SMS, SMS_TPL, 0x52);
    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__DELIVERED));
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_DONE);
    assert_int_equal(t->result, ARREARS__CONTACT_RESULT__DELIVERED);
    assert_int_equal(t->done_ms, local(f, 0, 10, 0));
    assert_string_equal(t->channel_ref, "gw-1");
    assert_int_equal(outcomes(f), 1);
    const Arrears__ContactOutcome *o = outcome(f, 1);
    assert_string_equal(o->platform, "p1");
    assert_string_equal(o->account_ref, "a1");
    assert_string_equal(o->contact_id, "a1#1");
    assert_int_equal(o->result, ARREARS__CONTACT_RESULT__DELIVERED);
    assert_int_equal(o->channel, SMS);
    assert_int_equal(o->at_ms, local(f, 0, 10, 0));
    ledger_t p = ledger(f, 0x52, NULL);
    assert_int_equal(p.n, 1);
    assert_true(p.at[0].connected);

    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__DELIVERED));   /* a repeat: ok */
    assert_int_equal(outcomes(f), 1);                                 /* nothing new */
    assert_int_equal(ledger(f, 0x52, NULL).n, 1);
}

static void test_report_failed_marks_attempt_unconnected(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", CALL, CALL_TPL, 0x53);
    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__NO_ANSWER));
    assert_int_equal(stored(f, l.id)->state, TASK_DONE);
    assert_int_equal(outcome(f, 1)->result, ARREARS__CONTACT_RESULT__NO_ANSWER);
    ledger_t p = ledger(f, 0x53, NULL);
    assert_int_equal(p.n, 1);   /* still an attempt: it counts against the caps */
    assert_false(p.at[0].connected);
    assert_false(has_person(f, 0x53));   /* no conversation: nothing to wait for */
}

static void test_conversation_defers_next_call(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", CALL, CALL_TPL, 0x71);
    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__RIGHT_PARTY_CONTACT));
    assert_int_equal(person(f, 0x71)->last_conversation_ms, local(f, 0, 10, 0));
    assert_int_equal(outcome(f, 1)->result, ARREARS__CONTACT_RESULT__RIGHT_PARTY_CONTACT);

    queue(f, "a2", 1, CALL, CALL_TPL, 0x71);
    move_clock(f, local(f, 1, 10, 0));   /* the day cap is past, the wait is not */
    assert_int_equal(pull(f, CALL, 4)->n_tasks, 0);
    const StoredTask *t = stored(f, "p1/a2#1");
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 2, 10, 0));
    assert_int_equal(last_rule(t), CONDUCT_RULE_AFTER_CONVERSATION);
}

static void test_not_attempted_requeues_without_ledger(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", SMS, SMS_TPL, 0x81);
    assert_int_equal(ledger(f, 0x81, NULL).n, 1);
    move_clock(f, local(f, 0, 10, 5));
    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED));
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 0, 10, 5));
    assert_int_equal(ledger(f, 0x81, NULL).n, 0);
    assert_int_equal(ledger(f, NOBODY, "a1").n, 0);
    assert_int_equal(outcomes(f), 0);
    assert_false(start(f, l.id, l.lease));   /* the old lease is spent */

    const Arrears__TaskLease *pl = pull(f, SMS, 1);
    assert_int_equal(pl->n_tasks, 1);
    const Arrears__Task *k = pl->tasks[0];
    assert_int_equal(k->lease_id, 2);
    assert_int_equal(k->attempt, 2);
}

static void test_report_without_result_refused(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", SMS, SMS_TPL, NOBODY);
    Arrears__TaskReport m = ARREARS__TASK_REPORT__INIT;
    m.task_id = l.id;
    m.has_lease_id = 1;
    m.lease_id = l.lease;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_TASK_REPORT;
    env.task_report = &m;
    assert_refused(f, call(f, "worker", &env), ARREARS__REJECT__CODE__INVALID_FIELD, "result");
    assert_int_equal(stored(f, l.id)->state, TASK_STARTED);
}

/* ---------------------------------------------------------------- ContactCancel */

static void test_cancel_spares_started_task(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    lease_t one = lease_of(pull(f, SMS, 1)->tasks[0]);
    assert_string_equal(one.id, "p1/a1#1");
    assert_true(start(f, one.id, one.lease));
    queue(f, "a1", 2, SMS, SMS_TPL, NOBODY);   /* a started one is not superseded */
    lease_t two = lease_of(pull(f, SMS, 1)->tasks[0]);
    assert_string_equal(two.id, "p1/a1#2");
    queue(f, "a1", 3, SMS, SMS_TPL, NOBODY);   /* nor a leased one */
    queue(f, "a2", 1, SMS, SMS_TPL, NOBODY);

    assert_int_equal(cancel_as(f, "service", "a1"), APPLY_OK);
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_STARTED);
    const StoredTask *t = stored(f, "p1/a1#2");
    assert_int_equal(t->state, TASK_CANCELLED);
    assert_string_equal(t->detail, "payment received");
    assert_int_equal(t->done_ms, local(f, 0, 10, 0));
    assert_int_equal(stored(f, "p1/a1#3")->state, TASK_CANCELLED);
    assert_int_equal(stored(f, "p1/a2#1")->state, TASK_PENDING);
    assert_false(start(f, two.id, two.lease));
    ids_t open;
    in_read(f, of_account_work, &open);
    assert_int_equal(open.n, 1);
    assert_string_equal(open.ids[0], "p1/a1#1");
    assert_refused(f, cancel_as(f, "service", ""), ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
}

/* A cancel through a contact id stops that request and those before it, never a later
 * one (a cancel staging sends again after a restore arrives after newer requests). */
static void test_cancel_through_spares_later_requests(void **state)
{
    fx_t *f = *state;
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    queue(f, "a1", 2, CALL, CALL_TPL, NOBODY);
    assert_refused(f, cancel_through(f, "service", NULL, "a1", "a1-no-number"),
                   ARREARS__REJECT__CODE__INVALID_FIELD, "through_contact_id");
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_PENDING);
    assert_int_equal(cancel_through(f, "service", NULL, "a1", "a1#1"), APPLY_OK);
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_CANCELLED);
    assert_int_equal(stored(f, "p1/a1#2")->state, TASK_PENDING);
    assert_int_equal(cancel_through(f, "service", NULL, "a1", "a1#2"), APPLY_OK);
    assert_int_equal(stored(f, "p1/a1#2")->state, TASK_CANCELLED);
}

/* A newer request on the same channel replaces the one still waiting; other channels
 * and other accounts keep theirs; staging hears why the older one was not attempted. */
static void test_newer_request_supersedes_waiting_one(void **state)
{
    fx_t *f = *state;
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);   /* 06:00 local: waits for the window */
    queue(f, "a1", 2, CALL, CALL_TPL, NOBODY);
    queue(f, "a2", 1, SMS, SMS_TPL, NOBODY);
    uint64_t before = outcomes(f);
    queue(f, "a1", 3, SMS, SMS_TPL, NOBODY);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_CANCELLED);
    assert_string_equal(t->detail, "superseded by a1#3");
    assert_int_equal(stored(f, "p1/a1#2")->state, TASK_PENDING);
    assert_int_equal(stored(f, "p1/a2#1")->state, TASK_PENDING);
    assert_int_equal(stored(f, "p1/a1#3")->state, TASK_PENDING);
    assert_int_equal(outcomes(f), before + 1);
}

/* ---------------------------------------------------------------- lease expiry */

static void test_ended_lease_returns_task_to_queue(void **state)
{
    fx_t *f = *state;
    f->b.limits.lease_ms = 50;   /* leases run on the real clock */
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    lease_t l = lease_one(f, SMS);
    int64_t until = stored(f, l.id)->lease_until_ms;
    while (broker_lease_now_ms(&f->b) <= until) {
        /* at most 50 ms */
    }
    move_clock(f, local(f, 0, 10, 30));
    assert_int_equal(expire(f), 1);
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 0, 10, 30));   /* business time */
    assert_int_equal(expire(f), 0);
    f->b.limits.lease_ms = LEASE_MS;
    assert_false(start(f, l.id, l.lease));
    const Arrears__TaskLease *pl = pull(f, SMS, 1);
    assert_int_equal(pl->n_tasks, 1);
    const Arrears__Task *k = pl->tasks[0];
    assert_int_equal(k->kind, ARREARS__TASK_KIND__TASK_SEND);
    assert_int_equal(k->lease_id, 2);
    assert_int_equal(k->attempt, 2);
}

/* A started attempt whose lease ended, leased again to be looked up. */
static lease_t to_resolve(fx_t *f, uint8_t person)
{
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", SMS, SMS_TPL, person);
    in_write(f, backdate_work, l.id);
    assert_int_equal(expire(f), 1);
    assert_int_equal(stored(f, l.id)->state, TASK_UNRESOLVED);
    const Arrears__TaskLease *pl = pull(f, SMS, 4);
    assert_int_equal(pl->n_tasks, 1);
    const Arrears__Task *k = pl->tasks[0];
    assert_int_equal(k->kind, ARREARS__TASK_KIND__TASK_RESOLVE);
    assert_true(k->lease_id != l.lease);
    assert_string_equal(k->idempotency_key, "p1/a1#1#1");   /* the key the send used */
    assert_true(k->send_before_ms == INT64_MAX);
    assert_true(k->text == NULL || k->text[0] == '\0');
    lease_t r = lease_of(k);
    assert_int_equal(stored(f, r.id)->state, TASK_RESOLVING);
    assert_false(start(f, l.id, l.lease));   /* the send lease is over */
    return r;
}

static void test_resolve_not_attempted_requeues(void **state)
{
    fx_t *f = *state;
    lease_t r = to_resolve(f, 0x41);
    assert_true(report(f, &r, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED));
    assert_int_equal(stored(f, r.id)->state, TASK_PENDING);
    assert_int_equal(ledger(f, 0x41, NULL).n, 0);
    assert_int_equal(outcomes(f), 0);
    assert_int_equal(lease_one(f, SMS).kind, ARREARS__TASK_KIND__TASK_SEND);
}

static void test_resolve_delivered_finishes(void **state)
{
    fx_t *f = *state;
    lease_t r = to_resolve(f, 0x42);
    assert_true(report(f, &r, ARREARS__CONTACT_RESULT__DELIVERED));
    assert_int_equal(stored(f, r.id)->state, TASK_DONE);
    assert_int_equal(outcomes(f), 1);
    assert_int_equal(outcome(f, 1)->result, ARREARS__CONTACT_RESULT__DELIVERED);
    ledger_t p = ledger(f, 0x42, NULL);
    assert_int_equal(p.n, 1);
    assert_true(p.at[0].connected);
}

static void test_resolve_unknown_needs_person(void **state)
{
    fx_t *f = *state;
    lease_t r = to_resolve(f, 0x43);
    assert_true(report(f, &r, 0));
    const StoredTask *t = stored(f, r.id);
    assert_int_equal(t->state, TASK_NEEDS_PERSON);
    assert_non_null(strstr(t->detail, "person"));
    assert_int_equal(ledger(f, 0x43, NULL).n, 1);   /* it may have gone: it still counts */
    assert_int_equal(outcomes(f), 0);
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);
    ids_t open;
    in_read(f, of_account_work, &open);
    assert_int_equal(open.n, 0);
}

/* ---------------------------------------------------------------- Inbound */

static void test_inbound_stop_opts_person_out_of_sms(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, 0x91);
    queue(f, "a1", 2, CALL, CALL_TPL, 0x91);
    int64_t at = local(f, 0, 9, 58);
    assert_true(inbound(f, "Thanks, I will pay", "in-0", at));   /* not an opt-out */
    assert_true(inbound(f, "  STOP", "in-1", at));
    const StoredPerson *p = person(f, 0x91);
    assert_int_equal(p->opted_out_channels, 1u << 0);   /* sms only */
    assert_int_equal(p->opted_out_ms, at);

    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_REFUSED);
    assert_int_equal(t->result, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED);
    assert_int_equal(last_rule(t), CONDUCT_RULE_OPT_OUT);
    assert_int_equal(outcomes(f), 1);
    const Arrears__ContactOutcome *o = outcome(f, 1);
    assert_string_equal(o->contact_id, "a1#1");
    assert_int_equal(o->result, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED);
    assert_non_null(strstr(o->detail, "opt_out"));

    assert_true(inbound(f, "STOP", "in-1", at + 60000));   /* the same inbound again */
    assert_int_equal(person(f, 0x91)->opted_out_ms, at);
    assert_int_equal(lease_one(f, CALL).kind, ARREARS__TASK_KIND__TASK_SEND);   /* calls go on */
}

static void test_opt_out_while_leased_refuses_attempt(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, 0x92);
    lease_t l = lease_one(f, SMS);
    assert_true(inbound(f, "unsubscribe", "in-9", now(f)));
    assert_false(start(f, l.id, l.lease));   /* the opt-out holds from its commit */
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_REFUSED);
    assert_int_equal(last_rule(t), CONDUCT_RULE_OPT_OUT);
    assert_int_equal(ledger(f, 0x92, NULL).n, 0);
    assert_int_equal(outcome(f, 1)->result, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED);
}

static void test_banned_phrase_refuses_task(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, BANNED_TPL, NOBODY);
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_REFUSED);
    assert_int_equal(last_rule(t), CONDUCT_RULE_BANNED);
    assert_non_null(strstr(outcome(f, 1)->detail, "overdue"));
}

/* ---------------------------------------------------------------- ClockAdvance */

static void test_clock_advance_busy_until_work_done(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    int64_t to = local(f, 0, 11, 0);
    assert_refused(f, advance_as(f, "operator", to), ARREARS__REJECT__CODE__BUSY, "to_ms");
    lease_t l = lease_one(f, SMS);
    assert_refused(f, advance_as(f, "operator", to), ARREARS__REJECT__CODE__BUSY, "to_ms");
    assert_true(start(f, l.id, l.lease));
    assert_refused(f, advance_as(f, "operator", to), ARREARS__REJECT__CODE__BUSY, "to_ms");
    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__DELIVERED));
    uint64_t clock_ms = 0;
    in_read(f, meta_work, &clock_ms);
    assert_int_equal(clock_ms, 0);   /* never stored while busy */
    assert_int_equal(advance_as(f, "operator", to), APPLY_OK);
    in_read(f, meta_work, &clock_ms);
    assert_int_equal(clock_ms, to);
    assert_int_equal(now(f), to);

    f->b.unacked = unacked_stub;   /* outcomes staging has not acknowledged */
    f->b.unacked_arg = f;
    f->unacked = 1;
    assert_refused(f, advance_as(f, "operator", to + 1000), ARREARS__REJECT__CODE__BUSY, "to_ms");
    f->unacked = 0;
    assert_int_equal(advance_as(f, "operator", to + 1000), APPLY_OK);
    assert_refused(f, advance_as(f, "operator", to), ARREARS__REJECT__CODE__CONFLICT, "to_ms");
}

static void test_clock_advance_ignores_work_due_later(void **state)
{
    fx_t *f = *state;
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);   /* 06:00: deferred to 08:00 by the pull */
    assert_int_equal(pull(f, SMS, 1)->n_tasks, 0);
    assert_int_equal(advance_as(f, "operator", local(f, 0, 7, 59)), APPLY_OK);
    assert_refused(f, advance_as(f, "operator", local(f, 0, 8, 0)), ARREARS__REJECT__CODE__BUSY,
                   "to_ms");

    aclock_t *sim = f->b.clock, *wall = aclock_new_wall();   /* a wall clock takes none */
    f->b.clock = wall;
    assert_refused(f, advance_as(f, "operator", local(f, 3, 0, 0)),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, "clock_advance");
    f->b.clock = sim;
    aclock_destroy(&wall);
}

/* ---------------------------------------------------------------- cancels and backlogs */

/* staging cancels the account while the attempt is started; the worker then reports it
 * did not send (send-before passed, no go from the channel). Nothing of the account may
 * go out any more, but the task is requeued and leased again. */
static void test_cancel_then_not_attempted_ends_cancelled(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", SMS, SMS_TPL, NOBODY);
    assert_int_equal(cancel_as(f, "service", "a1"), APPLY_OK);
    assert_int_equal(stored(f, l.id)->state, TASK_STARTED);   /* right: it may have gone */
    assert_true(report(f, &l, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED));
    StoredTaskState s = stored(f, l.id)->state;
    size_t leased = pull(f, SMS, 4)->n_tasks;
    if (s != TASK_CANCELLED || leased != 0)
        fail_msg("lease.c requeue_unsent: a task of a cancelled account went back to the "
                 "queue (state %d) and the next pull leased it %zu time(s)", s, leased);
}

static void test_cancel_then_resolved_not_attempted_ends_cancelled(void **state)
{
    fx_t *f = *state;
    lease_t r = to_resolve(f, 0x44);
    assert_int_equal(cancel_as(f, "service", "a1"), APPLY_OK);
    assert_int_equal(stored(f, r.id)->state, TASK_RESOLVING);   /* right: look it up */
    assert_true(report(f, &r, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED));
    StoredTaskState s = stored(f, r.id)->state;
    size_t leased = pull(f, SMS, 4)->n_tasks;
    if (s != TASK_CANCELLED || leased != 0)
        fail_msg("lease.c finish_resolve -> requeue_unsent: a task of a cancelled account "
                 "went back to the queue (state %d) and the next pull leased it %zu time(s)",
                 s, leased);
}

/* A backlog of due sms tasks (no sms worker running, or one far behind) ahead of a due
 * call in the queue. An agent pulls calls: the call is due and nothing holds it back,
 * yet the lease comes back empty ("possibly empty: nothing due", outreach.proto),
 * because screen_due() fills its pull_scan_max window from tasks_due() before it skips
 * the channels the puller does not take. */
static void test_call_not_starved_behind_sms_backlog(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    size_t backlog = f->b.limits.pull_scan_max;   /* 256 by default */
    for (size_t i = 0; i < backlog; i++) {
        char account[32];
        snprintf(account, sizeof account, "s%03zu", i);
        queue(f, account, 1, SMS, SMS_TPL, NOBODY);
    }
    move_clock(f, local(f, 0, 10, 1));
    queue(f, "c1", 1, CALL, CALL_TPL, 0x93);
    move_clock(f, local(f, 0, 10, 2));
    assert_int_equal(pull_call(f, "agent", "ag1", CALL, 4), APPLY_OK);
    size_t leased = f->reply->task_lease->n_tasks;
    if (leased != 1)
        fail_msg("lease.c screen_due: a due call behind %zu due sms tasks is not offered "
                 "to an agent pulling calls (leased %zu)", backlog, leased);
}

/* ---------------------------------------------------------------- assignees */

static Arrears__CaseAssignment assignment(const char *account, const char *assignee, bool active)
{
    Arrears__CaseAssignment m = ARREARS__CASE_ASSIGNMENT__INIT;
    m.platform = "p1";
    m.account_ref = (char *)account;
    m.case_id = "C-1";
    m.assignee = (char *)assignee;
    m.has_active = m.has_at_ms = 1;
    m.active = active;
    m.at_ms = 1;
    return m;
}

static int assignment_as(fx_t *f, const char *role, Arrears__CaseAssignment *m)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_ASSIGNMENT;
    env.case_assignment = m;
    return send_msg(f, role, &env);
}

/* legal (role service) says the assignee holds account "p1/<account>", or no longer. */
static void assign(fx_t *f, const char *account, const char *assignee, bool active)
{
    Arrears__CaseAssignment m = assignment(account, assignee, active);
    assert_int_equal(assignment_as(f, "service", &m), APPLY_OK);
}

typedef struct {
    const char *account;
    const char *principal;
    char holder[TASKS_PRINCIPAL_MAX + 1];
    size_t held;
} holder_t;

static void holder_work(fx_t *f, MDB_txn *txn, void *arg)
{
    holder_t *h = arg;
    char key[64], accounts[8][TASKS_ACCOUNT_KEY_MAX + 1];
    size_t n = 0;
    snprintf(key, sizeof key, "p1/%s", h->account);
    assert_int_equal(tasks_holder_get(f->b.tasks, txn, key, h->holder), 0);
    assert_int_equal(tasks_held(f->b.tasks, txn, h->principal, 0, 8, accounts, &n, &h->held), 0);
}

/* The holder of "p1/<account>" ("" for none). */
static const char *holder(fx_t *f, const char *account)
{
    static holder_t h;
    h = (holder_t){.account = account, .principal = "-"};
    in_read(f, holder_work, &h);
    return h.holder;
}

/* How many accounts principal holds. */
static size_t held_by(fx_t *f, const char *principal)
{
    holder_t h = {.account = "-", .principal = principal};
    in_read(f, holder_work, &h);
    return h.held;
}

/* Queues a "legal" stage call "<account>#<n>": an assigned task. */
static void queue_legal(fx_t *f, const char *account, int n, uint8_t person)
{
    req_t q;
    ContactRequest *r = req(&q, account, n, CALL, CALL_TPL, person);
    r->stage = "legal";
    assert_int_equal(request_as(f, "service", r), APPLY_OK);
}

/* How many calls a pull by principal (NULL: "<role>-1") of role leased. */
static size_t pulled(fx_t *f, const char *role, const char *principal, int max)
{
    assert_int_equal(pull_call_as(f, role, principal, "w1", CALL, max), APPLY_OK);
    return f->reply->task_lease->n_tasks;
}

/* The one call a pull by the firm principal leased. */
static lease_t firm_lease(fx_t *f, const char *principal)
{
    assert_int_equal(pulled(f, "firm", principal, 8), 1);
    return lease_of(f->reply->task_lease->tasks[0]);
}

static bool turn_stub(void *arg)
{
    return ((fx_t *)arg)->turn;
}

/* Out of the broker's turn a due task waits unscreened: screened now, it would be
 * screened at whatever instant a worker happened to pull (broker.h in_turn). An
 * assignee's calls are people's work, pulled at any time. */
static void test_queue_worked_only_in_turn(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue(f, "a1", 1, SMS, SMS_TPL, NOBODY);
    queue(f, "a2", 1, CALL, CALL_TPL, NOBODY);
    f->b.in_turn = turn_stub;
    f->b.in_turn_arg = f;
    assign(f, "a3", FIRM_1, true);
    queue_legal(f, "a3", 1, NOBODY);
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 0);
    assert_int_equal(pulled(f, "agent", NULL, 4), 0);
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 1);   /* people's work: any time */
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_PENDING);
    assert_int_equal(stored(f, "p1/a1#1")->n_decisions, 0);
    f->turn = true;
    assert_int_equal(pull(f, SMS, 4)->n_tasks, 1);
    assert_int_equal(pulled(f, "agent", NULL, 4), 1);
}

static void test_assignment_sets_replaces_and_clears_holder(void **state)
{
    fx_t *f = *state;
    assert_string_equal(holder(f, "a1"), "");
    assign(f, "a1", FIRM_1, true);
    assert_string_equal(holder(f, "a1"), FIRM_1);
    assign(f, "a1", FIRM_1, true);   /* a repeat */
    assert_string_equal(holder(f, "a1"), FIRM_1);
    assert_int_equal(held_by(f, FIRM_1), 1);

    assign(f, "a1", FIRM_2, true);   /* reassigned: the new holder replaces the old */
    assert_string_equal(holder(f, "a1"), FIRM_2);
    assert_int_equal(held_by(f, FIRM_1), 0);
    assert_int_equal(held_by(f, FIRM_2), 1);

    assign(f, "a1", FIRM_1, false);  /* the old holder's end, late: the new one stays */
    assert_string_equal(holder(f, "a1"), FIRM_2);
    assert_int_equal(held_by(f, FIRM_2), 1);

    assign(f, "a1", FIRM_2, false);
    assert_string_equal(holder(f, "a1"), "");
    assert_int_equal(held_by(f, FIRM_2), 0);
    assign(f, "a1", FIRM_2, false);  /* ended twice: nothing more */
    assert_string_equal(holder(f, "a1"), "");
    assert_int_equal(outcomes(f), 0);   /* staging hears nothing of it */
}

static void test_assignment_invalid_or_not_from_a_service_refused(void **state)
{
    fx_t *f = *state;
    char longer[TASKS_PRINCIPAL_MAX + 2];
    memset(longer, 'f', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    struct { const char *platform, *account, *assignee, *field; } bad[] = {
        {"p1", "a1", NULL, "assignee"}, {"p1", "a1", "", "assignee"}, {"p1", "a1", longer, "assignee"},
        {"p1", "", FIRM_1, "account_ref"}, {"p1", "a/1", FIRM_1, "account_ref"},
        {"p1", NULL, FIRM_1, "account_ref"}, {"", "a1", FIRM_1, "platform"},
        {longer, "a1", FIRM_1, "platform"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        Arrears__CaseAssignment m = assignment(bad[i].account, bad[i].assignee, true);
        m.platform = (char *)bad[i].platform;
        assert_refused(f, assignment_as(f, "service", &m), ARREARS__REJECT__CODE__INVALID_FIELD,
                       bad[i].field);
    }
    Arrears__CaseAssignment m = assignment("a1", FIRM_1, true);
    assert_refused(f, assignment_as(f, "firm", &m), ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_refused(f, assignment_as(f, "operator", &m), ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body");
    assert_string_equal(holder(f, "a1"), "");
    assert_int_equal(held_by(f, FIRM_1), 0);
    assert_int_equal(held_by(f, longer), 0);
}

static void test_legal_call_leased_only_to_its_holder(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue_legal(f, "a1", 1, 0x31);
    /* No holder yet: the call waits, unscreened, for whoever legal names. */
    assert_int_equal(pulled(f, "worker", NULL, 8), 0);
    assert_int_equal(pulled(f, "agent", NULL, 8), 0);
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->n_decisions, 0);

    assign(f, "a1", FIRM_1, true);
    assert_int_equal(pulled(f, "worker", NULL, 8), 0);
    assert_int_equal(pulled(f, "agent", NULL, 8), 0);
    assert_int_equal(pulled(f, "firm", FIRM_2, 8), 0);
    assert_int_equal(pulled(f, "agency", "agency-1", 8), 0);
    assert_refused(f, pull_call_as(f, "buyer", "buyer-1", "w1", CALL, 8),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_PENDING);

    lease_t l = firm_lease(f, FIRM_1);
    assert_string_equal(l.id, "p1/a1#1");
    assert_int_equal(l.kind, ARREARS__TASK_KIND__TASK_SEND);
    t = stored(f, l.id);
    assert_int_equal(t->state, TASK_LEASED);
    assert_string_equal(t->puller, FIRM_1);
    assert_int_equal(last_rule(t), CONDUCT_RULE_NONE);   /* the gate let it go */
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);   /* leased: not offered twice */
}

static void test_assignee_pull_sees_only_its_accounts(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue_legal(f, "a1", 1, 0x32);
    queue_legal(f, "a2", 1, 0x33);
    queue_legal(f, "a3", 1, 0x34);                 /* nobody holds a3 */
    queue(f, "a4", 1, CALL, CALL_TPL, 0x35);        /* an ordinary call */
    queue(f, "a5", 1, CALL, CALL_TPL, 0x3a);        /* another, on a held account */
    assign(f, "a1", FIRM_1, true);
    assign(f, "a2", FIRM_2, true);
    assign(f, "a5", FIRM_1, true);

    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 1);
    assert_string_equal(f->reply->task_lease->tasks[0]->task_id, "p1/a1#1");
    assert_int_equal(pulled(f, "firm", FIRM_2, 8), 1);
    assert_string_equal(f->reply->task_lease->tasks[0]->task_id, "p1/a2#1");
    /* The ordinary calls stay the call centre's, held account or not. */
    assert_int_equal(pulled(f, "agent", NULL, 8), 2);
    assert_string_equal(f->reply->task_lease->tasks[0]->task_id, "p1/a4#1");
    assert_string_equal(f->reply->task_lease->tasks[1]->task_id, "p1/a5#1");
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);
    assert_int_equal(stored(f, "p1/a3#1")->n_decisions, 0);   /* never screened for anyone */
    /* Assignees, like agents, work calls and visits only. */
    assert_refused(f, pull_call_as(f, "firm", FIRM_1, "w1", SMS, 8),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, "channels");
}

/* Legal calls waiting for a holder (or for a holder that does not pull) sit out of the
 * ordinary queue's way: an agent's pull still reaches the due call behind them. */
static void test_waiting_legal_calls_never_starve_agents(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    size_t backlog = f->b.limits.pull_scan_max;
    for (size_t i = 0; i < backlog; i++) {
        char account[32];
        snprintf(account, sizeof account, "L%03zu", i);
        queue_legal(f, account, 1, NOBODY);
    }
    move_clock(f, local(f, 0, 10, 1));
    queue(f, "c1", 1, CALL, CALL_TPL, 0x3b);
    assert_int_equal(pulled(f, "agent", NULL, 4), 1);
    assert_string_equal(f->reply->task_lease->tasks[0]->task_id, "p1/c1#1");
}

/* One pull reads at most pull_scan_max tasks; a holder with more accounts than that
 * gets every account's call over a few pulls, each going on from where the last one
 * stopped (never the same slice for ever, and the same slices in every run). */
static void test_assignee_pull_bounded_yet_reaches_every_account(void **state)
{
    fx_t *f = *state;
    f->b.limits.pull_scan_max = 2;
    move_clock(f, local(f, 0, 10, 0));
    enum { ACCOUNTS = 5 };
    for (int i = 0; i < ACCOUNTS; i++) {
        char account[8];
        snprintf(account, sizeof account, "b%d", i);
        queue_legal(f, account, 1, (uint8_t)(0x40 + i));
        assign(f, account, FIRM_1, true);
    }
    const char *slices[][2] = {{"p1/b0#1", "p1/b1#1"}, {"p1/b2#1", "p1/b3#1"}, {"p1/b4#1", NULL}};
    for (size_t s = 0; s < 3; s++) {
        size_t n = pulled(f, "firm", FIRM_1, 8);
        assert_int_equal(n, slices[s][1] ? 2 : 1);
        for (size_t i = 0; i < n; i++)
            assert_string_equal(f->reply->task_lease->tasks[i]->task_id, slices[s][i]);
    }
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);   /* all leased */
    assert_int_equal(pulled(f, "firm", FIRM_2, 8), 0);
}

static void test_gate_defers_assignee_call_outside_window(void **state)
{
    fx_t *f = *state;
    queue_legal(f, "a1", 1, 0x36);   /* at 06:00 local, before the window */
    assign(f, "a1", FIRM_1, true);
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 0, 8, 0));
    assert_int_equal(last_rule(t), CONDUCT_RULE_WINDOW);
    assert_int_equal(t->decisions[t->n_decisions - 1]->verdict, CONDUCT_DEFER);
    assert_string_equal(t->decisions[t->n_decisions - 1]->reason,
                        "deferred by t: window; next opening 2026-06-10 08:00 BST");
    assert_int_equal(t->deferrals, 1);
    assert_int_equal(outcomes(f), 0);

    move_clock(f, local(f, 0, 8, 0));
    assert_string_equal(firm_lease(f, FIRM_1).id, "p1/a1#1");
}

/* The person's call today, made by the call centre, caps the firm's call too. */
static void test_assignee_call_counts_against_person_cap(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t ordinary = started(f, "a4", CALL, CALL_TPL, 0x37);
    assert_true(report(f, &ordinary, ARREARS__CONTACT_RESULT__NO_ANSWER));
    queue_legal(f, "a1", 1, 0x37);
    assign(f, "a1", FIRM_1, true);
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 1, 8, 0));
    assert_int_equal(last_rule(t), CONDUCT_RULE_CAP_PERSON_DAY);
}

static void test_lease_is_its_pullers_only(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue_legal(f, "a1", 1, 0x38);
    assign(f, "a1", FIRM_1, true);
    lease_t l = firm_lease(f, FIRM_1);

    assert_refused(f, start_call(f, "firm", FIRM_2, l.id, l.lease), ARREARS__REJECT__CODE__UNAUTHORIZED,
                   "lease_id");
    assert_string_equal(f->reject.reason, "this lease is another puller's");
    assert_int_equal(stored(f, l.id)->state, TASK_LEASED);
    assert_int_equal(ledger(f, 0x38, NULL).n, 0);

    assert_int_equal(start_call(f, "firm", FIRM_1, l.id, l.lease), APPLY_OK);
    assert_true(go_reply(f));
    assert_refused(f, report_call(f, "firm", FIRM_2, &l, ARREARS__CONTACT_RESULT__PROMISE_TO_PAY),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, "lease_id");
    assert_refused(f, report_call(f, "worker", NULL, &l, ARREARS__CONTACT_RESULT__NO_ANSWER),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, "lease_id");
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_STARTED);
    assert_null(t->channel_ref);
    assert_int_equal(outcomes(f), 0);
    assert_false(has_person(f, 0x38));
    /* A lease that is not the task's any more says so, to anyone: nothing is taken. */
    lease_t stale = l;
    stale.lease++;
    assert_int_equal(report_call(f, "firm", FIRM_2, &stale, ARREARS__CONTACT_RESULT__NO_ANSWER), APPLY_OK);
    assert_false(go_reply(f));

    assert_int_equal(report_call(f, "firm", FIRM_1, &l, ARREARS__CONTACT_RESULT__RIGHT_PARTY_CONTACT),
                     APPLY_OK);
    assert_true(go_reply(f));
    assert_int_equal(stored(f, l.id)->state, TASK_DONE);
    assert_int_equal(outcomes(f), 1);

    /* The same for a worker's lease: an agent may not report it. */
    queue(f, "a2", 1, SMS, SMS_TPL, NOBODY);
    lease_t w = lease_one(f, SMS);
    assert_refused(f, report_call(f, "agent", NULL, &w, ARREARS__CONTACT_RESULT__DELIVERED),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, "lease_id");
    assert_int_equal(stored(f, w.id)->state, TASK_LEASED);
    assert_int_equal(outcomes(f), 1);
}

/* Reassigned between the pull and the call: the old holder is told not to call, and
 * the task waits for the new one. */
static void test_reassignment_after_pull_stops_the_call(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    queue_legal(f, "a1", 1, 0x39);
    assign(f, "a1", FIRM_1, true);
    lease_t l = firm_lease(f, FIRM_1);
    assign(f, "a1", FIRM_2, true);
    assert_int_equal(start_call(f, "firm", FIRM_1, l.id, l.lease), APPLY_OK);
    assert_false(go_reply(f));
    assert_string_equal(f->reply->attempt_reply->reason, "the account's case is no longer this assignee's");
    const StoredTask *t = stored(f, l.id);
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->due_ms, local(f, 0, 10, 0));
    assert_int_equal(ledger(f, 0x39, NULL).n, 0);
    assert_int_equal(pulled(f, "firm", FIRM_1, 8), 0);
    assert_string_equal(firm_lease(f, FIRM_2).id, "p1/a1#1");
}

/* ---------------------------------------------------------------- staging's shards */

#define DELIVERED ARREARS__CONTACT_RESULT__DELIVERED

/* Every table a message from staging may change, the outboxes to both shards included. */
static const char *const TABLES[] = {
    "outreach.tasks", "outreach.queue", "outreach.leases", "outreach.accounts",
    "outreach.ledger", "outreach.persons", "outreach.points", "outreach.meta",
    "to_staging.log", "to_staging.meta", "to_staging.1.log", "to_staging.1.meta",
};

/* A task keeps the shard that sent its request; what it tells staging goes there only:
 * a supersession, a report. One from shard 0 is told on shard 0. */
static void test_task_answered_on_the_shard_that_sent_it(void **state)
{
    fx_t *f = *state;
    req_t q;
    assert_string_equal(outbox_name(f->b.to_staging[1]), "to_staging.1");
    assert_int_equal(request_from(f, "service", "staging-1", req(&q, "a1", 1, SMS, SMS_TPL, 0x61)),
                     APPLY_OK);
    assert_int_equal(stored(f, "p1/a1#1")->staging_shard, 1);
    assert_int_equal(request_from(f, "service", "staging-1", req(&q, "a1", 2, SMS, SMS_TPL, 0x61)),
                     APPLY_OK);   /* supersedes #1, still waiting for the window */
    assert_int_equal(outcomes_on(f, 1), 1);
    assert_string_equal(outcome_on(f, 1, 1)->contact_id, "a1#1");
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = lease_one(f, SMS);
    assert_string_equal(l.id, "p1/a1#2");
    assert_true(start(f, l.id, l.lease));
    assert_true(report(f, &l, DELIVERED));
    assert_int_equal(outcomes_on(f, 1), 2);
    assert_string_equal(outcome_on(f, 1, 2)->contact_id, "a1#2");
    assert_int_equal(outcome_on(f, 1, 2)->result, DELIVERED);
    assert_int_equal(outcomes(f), 0);

    l = started(f, "b1", SMS, SMS_TPL, 0x62);   /* from "staging" */
    assert_true(report(f, &l, DELIVERED));
    assert_int_equal(outcomes(f), 1);
    assert_string_equal(outcome(f, 1)->contact_id, "b1#1");
    assert_int_equal(outcomes_on(f, 1), 2);
}

/* A staging principal not in the list has no shard to be answered on: its request and
 * its cancel are refused, naming it and the setting, and change nothing. */
static void test_unknown_staging_principal_refused(void **state)
{
    fx_t *f = *state;
    req_t q;
    queue(f, "a1", 1, SMS, SMS_TPL, 0x63);
    uint8_t before[SVCTEST_DIGEST_BYTES], after[SVCTEST_DIGEST_BYTES];
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, before);
    assert_refused(f, request_from(f, "service", "staging-2", req(&q, "a2", 1, SMS, SMS_TPL, 0x64)),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_non_null(strstr(f->reject.reason, "\"staging-2\""));
    assert_non_null(strstr(f->reject.reason, "`staging`"));
    assert_refused(f, cancel_from(f, "service", "staging-2", "a1"),
                   ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(stored(f, "p1/a1#1")->state, TASK_PENDING);
}

/* Drops the task's shard, as a task stored before shards has none. */
static void unshard_work(fx_t *f, MDB_txn *txn, void *arg)
{
    StoredTask *before = NULL, *after = NULL;
    assert_int_equal(tasks_get(f->b.tasks, txn, arg, &before), 0);
    assert_int_equal(tasks_get(f->b.tasks, txn, arg, &after), 0);
    after->has_staging_shard = 0;
    after->staging_shard = 0;
    assert_int_equal(tasks_save(f->b.tasks, txn, arg, before, after), 0);
    arrears__stored_task__free_unpacked(before, NULL);
    arrears__stored_task__free_unpacked(after, NULL);
}

/* A task stored before shards (no shard kept) is answered on shard 0, the one staging
 * there was. */
static void test_task_from_before_shards_answered_on_shard_0(void **state)
{
    fx_t *f = *state;
    req_t q;
    move_clock(f, local(f, 0, 10, 0));
    assert_int_equal(request_from(f, "service", "staging-1", req(&q, "a1", 1, SMS, SMS_TPL, 0x65)),
                     APPLY_OK);
    in_write(f, unshard_work, "p1/a1#1");
    assert_false(stored(f, "p1/a1#1")->has_staging_shard);
    lease_t l = lease_one(f, SMS);
    assert_true(start(f, l.id, l.lease));
    assert_true(report(f, &l, DELIVERED));
    assert_int_equal(outcomes(f), 1);
    assert_string_equal(outcome(f, 1)->contact_id, "a1#1");
    assert_int_equal(outcomes_on(f, 1), 0);
}

/* The outbox to shard 1 with room for BROKER_OUTCOMES_PER_MESSAGE outcomes only. */
static void narrow_shard_1(fx_t *f)
{
    outbox_limits_t ol = outbox_default_limits();
    ol.max_unacked = BROKER_OUTCOMES_PER_MESSAGE;
    outbox_destroy(&f->b.to_staging[1]);
    assert_int_equal(outbox_open(f->store, "to_staging.1", &ol, &f->b.to_staging[1]), 0);
}

/* Room is checked on the outbox that will be used: a shard whose outbox is behind gets
 * `busy` for its own requests and its tasks' starts, changing nothing, while the other
 * shard's requests and tasks go on. */
static void test_full_shard_outbox_holds_only_its_own(void **state)
{
    fx_t *f = *state;
    req_t q;
    narrow_shard_1(f);
    assert_int_equal(request_from(f, "service", "staging-1", req(&q, "a1", 1, SMS, SMS_TPL, 0x66)),
                     APPLY_OK);
    assert_int_equal(request_from(f, "service", "staging-1", req(&q, "a1", 2, SMS, SMS_TPL, 0x66)),
                     APPLY_OK);   /* supersedes #1: one outcome, room for 3 left */
    uint8_t before[SVCTEST_DIGEST_BYTES], after[SVCTEST_DIGEST_BYTES];
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, before);
    assert_refused(f, request_from(f, "service", "staging-1", req(&q, "b1", 1, SMS, SMS_TPL, 0x67)),
                   ARREARS__REJECT__CODE__BUSY, NULL);
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, after);
    assert_memory_equal(before, after, sizeof before);
    assert_int_equal(request_from(f, "service", "staging", req(&q, "c1", 1, SMS, SMS_TPL, 0x68)),
                     APPLY_OK);

    move_clock(f, local(f, 0, 10, 0));
    const Arrears__TaskLease *lease = pull(f, SMS, 4);   /* a refusal would still fit */
    assert_int_equal(lease->n_tasks, 2);
    lease_t l[2] = {lease_of(lease->tasks[0]), lease_of(lease->tasks[1])};
    int one = strcmp(l[0].id, "p1/a1#2") == 0 ? 0 : 1;   /* the task of shard 1 */
    assert_string_equal(l[one].id, "p1/a1#2");
    assert_refused(f, start_call(f, "worker", NULL, l[one].id, l[one].lease),
                   ARREARS__REJECT__CODE__BUSY, NULL);
    assert_int_equal(stored(f, l[one].id)->state, TASK_LEASED);
    assert_true(start(f, l[1 - one].id, l[1 - one].lease));
    assert_true(report(f, &l[1 - one], DELIVERED));
    assert_int_equal(outcomes(f), 1);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* ---------------------------------------------------------------- erasure */

static int erase_as(fx_t *f, const char *platform, const char *account)
{
    Arrears__PersonalDataErased m;
    Arrears__Envelope env;
    svctest_erasure(&m, &env, platform, account, "GB", now(f));
    return send_msg(f, "service", &env);
}

static void report_work(fx_t *f, MDB_txn *txn, void *arg)
{
    (void)arg;
    Arrears__OutreachReportQuery q = ARREARS__OUTREACH_REPORT_QUERY__INIT;
    f->len = broker_report(&f->b, txn, &q, 1, f->buf, sizeof f->buf, &f->reject);
    assert_true(f->len > 0);
}

/* The report's figures as bytes (the caller frees them), its as_of instant cleared. */
static uint8_t *report_bytes(fx_t *f, size_t *len)
{
    in_read(f, report_work, NULL);
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, f->len, f->buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_OUTREACH_REPORT);
    env->outreach_report->has_as_of_ms = 0;
    *len = arrears__envelope__get_packed_size(env);
    uint8_t *out = malloc(*len);
    assert_non_null(out);
    arrears__envelope__pack(env, out);
    arrears__envelope__free_unpacked(env, NULL);
    return out;
}

static void assert_no_borrower(const StoredTask *t)
{
    const ContactRequest *r = t->request;
    assert_string_equal(r->borrower_name, ERASURE_MARKER);
    assert_int_equal(r->n_phones, 0);
    assert_int_equal(r->n_emails, 0);
    assert_null(r->address);
    assert_null(r->language);
    assert_true(!t->point || strcmp(t->point, ERASURE_MARKER) == 0);
}

static void test_erasure_drops_the_person_keeps_the_figures(void **state)
{
    fx_t *f = *state;
    move_clock(f, local(f, 0, 10, 0));
    lease_t l = started(f, "a1", SMS, SMS_TPL, 0x71);   /* a1#1: delivered */
    assert_true(report(f, &l, DELIVERED));
    queue(f, "a1", 2, SMS, SMS_TPL, 0x71);              /* a1#2: cancelled at closing */
    assert_int_equal(cancel_as(f, "service", "a1"), APPLY_OK);
    queue(f, "a2", 1, CALL, CALL_TPL, 0x72);            /* another account's */
    assert_string_equal(stored(f, "p1/a1#1")->point, PHONE);
    uint64_t told = outcomes(f);
    size_t len_before = 0, len_after = 0;
    uint8_t *before = report_bytes(f, &len_before);
    uint8_t d[SVCTEST_DIGEST_BYTES];
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, d);
    assert_refused(f, erase_as(f, NULL, "a1"), ARREARS__REJECT__CODE__INVALID_FIELD, "platform");
    assert_refused(f, erase_as(f, "p1", ""), ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
    uint8_t again[SVCTEST_DIGEST_BYTES];
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, again);
    assert_memory_equal(again, d, sizeof d);

    assert_int_equal(erase_as(f, "p1", "a1"), APPLY_OK);
    const StoredTask *t = stored(f, "p1/a1#1");
    assert_int_equal(t->state, TASK_DONE);
    assert_int_equal(t->result, DELIVERED);
    assert_string_equal(t->channel_ref, "gw-1");
    assert_no_borrower(t);
    assert_no_borrower(stored(f, "p1/a1#2"));
    assert_string_equal(stored(f, "p1/a2#1")->request->borrower_name, NAME);
    assert_int_equal(ledger(f, 0x71, NULL).n, 1);        /* the caps' record stays */
    uint8_t *after = report_bytes(f, &len_after);
    assert_int_equal(len_after, len_before);
    assert_memory_equal(after, before, len_before);
    free(before);
    free(after);
    assert_int_equal(outcomes(f), told);                  /* staging hears nothing */

    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, d);
    assert_int_equal(erase_as(f, "p1", "a1"), APPLY_OK);  /* again: nothing changes */
    svctest_digest(f->store, TABLES, sizeof TABLES / sizeof *TABLES, again);
    assert_memory_equal(again, d, sizeof d);

    /* A task still waiting (its cancel lost) is cancelled, and never leased. */
    queue(f, "a3", 1, SMS, SMS_TPL, 0x73);
    assert_int_equal(erase_as(f, "p1", "a3"), APPLY_OK);
    assert_int_equal(stored(f, "p1/a3#1")->state, TASK_CANCELLED);
    assert_no_borrower(f->task);
    assert_int_equal(pull(f, SMS, 5)->n_tasks, 0);
}

int main(void)
{
    log_open("test_broker", 2, LOG_ERROR);
    const struct CMUnitTest tests[] = {
        T(test_request_queues_one_task),
        T(test_request_invalid_fields_named),
        T(test_request_only_from_staging),
        T(test_pull_outside_window_defers_to_opening),
        T(test_pull_inside_window_leases_rendered_task),
        T(test_pull_only_by_workers_and_query_is_not_a_call),
        T(test_attempt_start_goes_once_into_ledger),
        T(test_attempt_start_unknown_task_refused),
        T(test_person_call_cap_defers_second_of_two),
        T(test_report_delivered_done_and_told_once),
        T(test_report_failed_marks_attempt_unconnected),
        T(test_conversation_defers_next_call),
        T(test_not_attempted_requeues_without_ledger),
        T(test_report_without_result_refused),
        T(test_cancel_spares_started_task),
        T(test_cancel_through_spares_later_requests),
        T(test_newer_request_supersedes_waiting_one),
        T(test_ended_lease_returns_task_to_queue),
        T(test_resolve_not_attempted_requeues),
        T(test_resolve_delivered_finishes),
        T(test_resolve_unknown_needs_person),
        T(test_inbound_stop_opts_person_out_of_sms),
        T(test_opt_out_while_leased_refuses_attempt),
        T(test_banned_phrase_refuses_task),
        T(test_clock_advance_busy_until_work_done),
        T(test_clock_advance_ignores_work_due_later),
    T(test_queue_worked_only_in_turn),
        T(test_cancel_then_not_attempted_ends_cancelled),
        T(test_cancel_then_resolved_not_attempted_ends_cancelled),
        T(test_call_not_starved_behind_sms_backlog),
        T(test_assignment_sets_replaces_and_clears_holder),
        T(test_assignment_invalid_or_not_from_a_service_refused),
        T(test_legal_call_leased_only_to_its_holder),
        T(test_assignee_pull_sees_only_its_accounts),
        T(test_waiting_legal_calls_never_starve_agents),
        T(test_assignee_pull_bounded_yet_reaches_every_account),
        T(test_gate_defers_assignee_call_outside_window),
        T(test_assignee_call_counts_against_person_cap),
        T(test_lease_is_its_pullers_only),
        T(test_reassignment_after_pull_stops_the_call),
        T(test_task_answered_on_the_shard_that_sent_it),
        T(test_unknown_staging_principal_refused),
        T(test_task_from_before_shards_answered_on_shard_0),
        T(test_full_shard_outbox_holds_only_its_own),
        T(test_erasure_drops_the_person_keeps_the_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
