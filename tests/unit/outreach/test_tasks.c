/* test_tasks: the outreach broker's durable state alone (services/outreach/tasks.c),
 * without the broker's decisions. Every rule the broker relies on is a property of the
 * storage, so each is checked here on hand-made records:
 *   - a task survives save/get whole, and its LMDB value is sealed (the borrower's name
 *     and phone never appear in the raw bytes; altered bytes read as TASKS_ECORRUPT);
 *   - the queue is ordered by priority, then due time: tasks_due returns only tasks due
 *     at now or before, most urgent priority first, at most max;
 *   - tasks_save moves the index entries with the state: PENDING -> LEASED leaves the
 *     queue for the leases index; tasks_expired returns only leases that ended;
 *   - tasks_next_instant gives the earliest due across all priorities and the earliest
 *     lease end; tasks_of_account lists the account's open tasks and drops final ones;
 *   - the contact ledger (window from since_ms, cap, remove), persons, contact points
 *     (case-insensitive, several people per point), inbound ids taken once, meta
 *     counters, counts by state and the JSON-lines dump;
 *   - an account's holder is set, replaced (the old holder's list loses the account)
 *     and cleared; an assignee's accounts are read a bounded slice at a time from any
 *     start, round to the first, never one twice;
 *   - an assigned task (a "legal" call or visit) is never in an ordinary pull's queue
 *     walk, yet counts for the next instant and is listed with its account's tasks.
 * Work runs in store_write on a store in a fresh temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "tasks.h"

#define NAME "Ada Quillfeather"   /* the borrower: must never be stored in clear */
#define PHONE "+447700900123"
#define MAX_IDS 16

typedef struct {
    char dir[64];
    store_t *store;
    crypt_t *crypt;
    tasks_t *tasks;
} fixture_t;

/* ---------------------------------------------------------------- fixture */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    strcpy(f->dir, "/tmp/t_tasksXXXXXX");
    char key[128];
    store_options_t o = store_default_options();
    o.relaxed = true;
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(key, sizeof key, "%s/secret.key", f->dir);
    if (crypt_key_create(key) != CRYPT_OK || crypt_load(key, &f->crypt) != CRYPT_OK
        || store_open(&f->store, f->dir, &o) != STORE_OK
        || tasks_open(f->store, f->crypt, &f->tasks) != 0)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    tasks_destroy(&f->tasks);
    store_destroy(&f->store);
    crypt_destroy(&f->crypt);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* Runs fn(f, txn) inside one write transaction, committed. */
typedef void (txn_fn)(fixture_t *f, MDB_txn *txn);
typedef struct {
    fixture_t *f;
    txn_fn *fn;
} run_t;

static int run_work(MDB_txn *txn, void *arg)
{
    run_t *r = arg;
    r->fn(r->f, txn);
    return 0;
}

static void in_write(void **state, txn_fn *fn)
{
    run_t r = {*state, fn};
    assert_int_equal(store_write(r.f->store, run_work, &r), 0);
}

/* ---------------------------------------------------------------- records */

/* A task and the request it holds; the strings live in the struct. */
typedef struct {
    StoredTask t;
    ContactRequest r;
    ContactPoint phone;
    ContactPoint *phones[1];
    char account[32], contact[48], id[TASKS_ID_MAX + 1];
} rec_t;

static void rec_init(rec_t *x, const char *account, const char *contact, StoredTaskState state,
                     int priority, int64_t due_ms)
{
    memset(x, 0, sizeof *x);
    arrears__contact_request__init(&x->r);
    arrears__contact_point__init(&x->phone);
    arrears__stored_task__init(&x->t);
    snprintf(x->account, sizeof x->account, "%s", account);
    snprintf(x->contact, sizeof x->contact, "%s", contact);
    snprintf(x->id, sizeof x->id, "p1/%s", contact);
    x->phone.value = PHONE;
    x->phone.has_verified = x->phone.verified = x->phone.has_consent = x->phone.consent = 1;
    x->phones[0] = &x->phone;
    x->r.platform = "p1";
    x->r.account_ref = x->account;
    x->r.contact_id = x->contact;
    x->r.has_channel = 1;
    x->r.channel = ARREARS__CHANNEL__SMS;
    x->r.template_id = "reminder_sms_v1";
    x->r.time_zone = "Europe/London";
    x->r.borrower_name = NAME;
    x->r.n_phones = 1;
    x->r.phones = x->phones;
    x->t.request = &x->r;
    x->t.has_state = x->t.has_priority = x->t.has_due_ms = 1;
    x->t.state = state;
    x->t.priority = priority;
    x->t.due_ms = due_ms;
}

static void rec_lease(rec_t *x, StoredTaskState state, int64_t until_ms)
{
    x->t.state = state;
    x->t.has_lease_until_ms = x->t.has_lease_id = 1;
    x->t.lease_until_ms = until_ms;
    x->t.lease_id = 7;
}

static void save_new(fixture_t *f, MDB_txn *txn, rec_t *x)
{
    assert_int_equal(tasks_save(f->tasks, txn, x->id, NULL, &x->t), 0);
}

/* Moves a saved record to a new state (before: its stored fields). */
static void save_move(fixture_t *f, MDB_txn *txn, rec_t *x, const StoredTask *before)
{
    assert_int_equal(tasks_save(f->tasks, txn, x->id, before, &x->t), 0);
}

typedef struct {
    char ids[MAX_IDS][TASKS_ID_MAX + 1];
    size_t n;
} ids_t;

static ids_t due(fixture_t *f, MDB_txn *txn, int64_t now_ms, size_t max)
{
    ids_t out;
    assert_int_equal(tasks_due(f->tasks, txn, now_ms, 0x1fu, max, out.ids, &out.n), 0);
    return out;
}

static ids_t expired(fixture_t *f, MDB_txn *txn, int64_t now_ms, size_t max)
{
    ids_t out;
    assert_int_equal(tasks_expired(f->tasks, txn, now_ms, max, out.ids, &out.n), 0);
    return out;
}

static ids_t of_account(fixture_t *f, MDB_txn *txn, const char *account_key)
{
    ids_t out;
    assert_int_equal(tasks_of_account(f->tasks, txn, account_key, MAX_IDS, out.ids, &out.n), 0);
    return out;
}

/* ids in this order, exactly: a NULL-terminated list. */
static void assert_ids(const ids_t *got, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++) {
        if (n >= got->n)
            fail_msg("got %zu ids, wanted at least %zu (missing %s)", got->n, n + 1, want[n]);
        assert_string_equal(got->ids[n], want[n]);
    }
    assert_int_equal(got->n, n);
}

static MDB_dbi table(MDB_txn *txn, const char *name)
{
    MDB_dbi dbi;
    assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
    return dbi;
}

/* ---------------------------------------------------------------- task records */

static void round_trip_work(fixture_t *f, MDB_txn *txn)
{
    rec_t x;
    rec_init(&x, "a1", "a1#1", TASK_PENDING, 20, 1000);
    x.t.has_created_ms = 1;
    x.t.created_ms = 999;
    save_new(f, txn, &x);

    StoredTask *t = NULL;
    assert_int_equal(tasks_get(f->tasks, txn, "p1/a1#1", &t), 0);
    assert_non_null(t);
    assert_int_equal(t->state, TASK_PENDING);
    assert_int_equal(t->priority, 20);
    assert_int_equal(t->due_ms, 1000);
    assert_int_equal(t->created_ms, 999);
    assert_string_equal(t->request->borrower_name, NAME);
    assert_string_equal(t->request->contact_id, "a1#1");
    assert_int_equal(t->request->n_phones, 1);
    assert_string_equal(t->request->phones[0]->value, PHONE);
    arrears__stored_task__free_unpacked(t, NULL);

    /* Sealed at rest: neither the name nor the phone is in the stored bytes. */
    MDB_val k = {strlen(x.id), x.id}, v;
    assert_int_equal(mdb_get(txn, table(txn, "outreach.tasks"), &k, &v), 0);
    assert_true(v.mv_size > CRYPT_OVERHEAD_BYTES);
    assert_null(memmem(v.mv_data, v.mv_size, NAME, strlen(NAME)));
    assert_null(memmem(v.mv_data, v.mv_size, PHONE, strlen(PHONE)));
    assert_null(memmem(v.mv_data, v.mv_size, "reminder_sms_v1", 15));

    /* Unknown: no task, no error. */
    assert_int_equal(tasks_get(f->tasks, txn, "p1/nobody#1", &t), 0);
    assert_null(t);
}

static void test_save_get_round_trip_sealed(void **state)
{
    in_write(state, round_trip_work);
}

static void tamper_work(fixture_t *f, MDB_txn *txn)
{
    rec_t x;
    rec_init(&x, "a1", "a1#1", TASK_PENDING, 20, 1000);
    save_new(f, txn, &x);
    MDB_dbi dbi = table(txn, "outreach.tasks");
    MDB_val k = {strlen(x.id), x.id}, v;
    assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
    uint8_t copy[1024];
    assert_true(v.mv_size <= sizeof copy);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[v.mv_size - 1] ^= 0x01;
    MDB_val altered = {v.mv_size, copy};
    assert_int_equal(mdb_put(txn, dbi, &k, &altered, 0), 0);
    StoredTask *t = NULL;
    assert_int_equal(tasks_get(f->tasks, txn, x.id, &t), TASKS_ECORRUPT);
    assert_null(t);

    char long_id[TASKS_ID_MAX + 2];
    memset(long_id, 'x', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    assert_int_equal(tasks_save(f->tasks, txn, long_id, NULL, &x.t), TASKS_EKEY);
}

static void test_altered_record_and_long_id_refused(void **state)
{
    in_write(state, tamper_work);
}

/* ---------------------------------------------------------------- the queue */

static void queue_order_work(fixture_t *f, MDB_txn *txn)
{
    const int64_t now = 100000;
    struct { const char *contact; int priority; int64_t due; StoredTaskState state; } rows[] = {
        {"a1#1", 50, now - 1000, TASK_PENDING},
        {"a1#2", 10, now - 10, TASK_PENDING},
        {"a1#3", 10, now - 500, TASK_PENDING},
        {"a1#4", 50, now + 1000, TASK_PENDING},    /* not due yet */
        {"a1#5", 90, now - 5000, TASK_UNRESOLVED}, /* awaiting a look-up: queued too */
        {"a1#6", 10, now + 5, TASK_PENDING},       /* not due yet, most urgent priority */
        {"a1#7", 50, now, TASK_PENDING},           /* due exactly now */
        {"a1#8", 1, now - 9000, TASK_DONE},        /* final: never queued */
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        rec_t x;
        rec_init(&x, "a1", rows[i].contact, rows[i].state, rows[i].priority, rows[i].due);
        save_new(f, txn, &x);
    }
    ids_t got = due(f, txn, now, MAX_IDS);
    assert_ids(&got, (const char *const[]){"p1/a1#3", "p1/a1#2", "p1/a1#1", "p1/a1#7",
                                           "p1/a1#5", NULL});
    got = due(f, txn, now, 2);
    assert_ids(&got, (const char *const[]){"p1/a1#3", "p1/a1#2", NULL});
    got = due(f, txn, now - 20000, MAX_IDS);
    assert_ids(&got, (const char *const[]){NULL});
    got = due(f, txn, now + 5, MAX_IDS);   /* a1#6 now due: first by priority */
    assert_ids(&got, (const char *const[]){"p1/a1#3", "p1/a1#2", "p1/a1#6", "p1/a1#1",
                                           "p1/a1#7", "p1/a1#5", NULL});
}

static void test_queue_orders_by_priority_then_due(void **state)
{
    in_write(state, queue_order_work);
}

static void lease_move_work(fixture_t *f, MDB_txn *txn)
{
    rec_t x;
    rec_init(&x, "a1", "a1#1", TASK_PENDING, 50, 1000);
    save_new(f, txn, &x);
    StoredTask before = x.t;
    rec_lease(&x, TASK_LEASED, 5000);
    save_move(f, txn, &x, &before);

    ids_t got = due(f, txn, 10000, MAX_IDS);
    assert_ids(&got, (const char *const[]){NULL});   /* left the queue */
    got = expired(f, txn, 4999, MAX_IDS);
    assert_ids(&got, (const char *const[]){NULL});   /* lease not ended */
    got = expired(f, txn, 5000, MAX_IDS);
    assert_ids(&got, (const char *const[]){"p1/a1#1", NULL});
    int64_t due_ms, lease_ms;
    assert_int_equal(tasks_next_instant(f->tasks, txn, &due_ms, &lease_ms), 0);
    assert_true(due_ms == INT64_MAX);
    assert_int_equal(lease_ms, 5000);

    /* LEASED -> STARTED with a later lease: one lease entry, at the new end. */
    before = x.t;
    rec_lease(&x, TASK_STARTED, 8000);
    save_move(f, txn, &x, &before);
    got = expired(f, txn, 7000, MAX_IDS);
    assert_ids(&got, (const char *const[]){NULL});
    got = expired(f, txn, 9000, MAX_IDS);
    assert_ids(&got, (const char *const[]){"p1/a1#1", NULL});

    /* STARTED -> DONE: out of every index. */
    before = x.t;
    x.t.state = TASK_DONE;
    save_move(f, txn, &x, &before);
    got = expired(f, txn, INT64_MAX, MAX_IDS);
    assert_ids(&got, (const char *const[]){NULL});
    got = of_account(f, txn, "p1/a1");
    assert_ids(&got, (const char *const[]){NULL});
}

static void test_lease_moves_task_from_queue_to_leases(void **state)
{
    in_write(state, lease_move_work);
}

static void expired_work(fixture_t *f, MDB_txn *txn)
{
    const int64_t ends[] = {300, 100, 200};
    const StoredTaskState states[] = {TASK_LEASED, TASK_STARTED, TASK_RESOLVING};
    for (int i = 0; i < 3; i++) {
        rec_t x;
        char contact[16];
        snprintf(contact, sizeof contact, "a1#%d", i + 1);
        rec_init(&x, "a1", contact, TASK_PENDING, 50, 0);
        rec_lease(&x, states[i], ends[i]);
        save_new(f, txn, &x);
    }
    ids_t got = expired(f, txn, 99, MAX_IDS);
    assert_ids(&got, (const char *const[]){NULL});
    got = expired(f, txn, 200, MAX_IDS);
    assert_ids(&got, (const char *const[]){"p1/a1#2", "p1/a1#3", NULL});
    got = expired(f, txn, 1000, 1);
    assert_ids(&got, (const char *const[]){"p1/a1#2", NULL});
    got = expired(f, txn, 1000, MAX_IDS);
    assert_ids(&got, (const char *const[]){"p1/a1#2", "p1/a1#3", "p1/a1#1", NULL});
}

static void test_expired_returns_only_ended_leases(void **state)
{
    in_write(state, expired_work);
}

static void next_instant_work(fixture_t *f, MDB_txn *txn)
{
    int64_t due_ms = 0, lease_ms = 0;
    assert_int_equal(tasks_next_instant(f->tasks, txn, &due_ms, &lease_ms), 0);
    assert_true(due_ms == INT64_MAX && lease_ms == INT64_MAX);   /* nothing at all */

    /* The most urgent priority is not the earliest due: every priority counts. */
    struct { const char *contact; int priority; int64_t due; } rows[] = {
        {"a1#1", 10, 5000}, {"a1#2", 50, 3000}, {"a1#3", 90, 1000}, {"a1#4", 90, 700000},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        rec_t x;
        rec_init(&x, "a1", rows[i].contact, TASK_PENDING, rows[i].priority, rows[i].due);
        save_new(f, txn, &x);
    }
    rec_t l1, l2;
    rec_init(&l1, "a2", "a2#1", TASK_PENDING, 1, 0);
    rec_lease(&l1, TASK_LEASED, 9000);
    save_new(f, txn, &l1);
    rec_init(&l2, "a2", "a2#2", TASK_PENDING, 1, 0);
    rec_lease(&l2, TASK_STARTED, 4000);
    save_new(f, txn, &l2);
    assert_int_equal(tasks_next_instant(f->tasks, txn, &due_ms, &lease_ms), 0);
    assert_int_equal(due_ms, 1000);
    assert_int_equal(lease_ms, 4000);
}

static void test_next_instant_earliest_due_and_lease(void **state)
{
    in_write(state, next_instant_work);
}

static void of_account_work(fixture_t *f, MDB_txn *txn)
{
    rec_t a[4], b;
    const StoredTaskState states[] = {TASK_PENDING, TASK_LEASED, TASK_STARTED, TASK_UNRESOLVED};
    for (int i = 0; i < 4; i++) {
        char contact[16];
        snprintf(contact, sizeof contact, "a1#%d", i + 1);
        rec_init(&a[i], "a1", contact, TASK_PENDING, 50, 0);
        if (i > 0)
            rec_lease(&a[i], states[i], 1000);
        a[i].t.state = states[i];
        save_new(f, txn, &a[i]);
    }
    rec_init(&b, "a2", "a2#1", TASK_PENDING, 50, 0);
    save_new(f, txn, &b);
    ids_t got = of_account(f, txn, "p1/a1");
    assert_ids(&got, (const char *const[]){"p1/a1#1", "p1/a1#2", "p1/a1#3", "p1/a1#4", NULL});

    /* Each final state leaves the account's open tasks. */
    const StoredTaskState finals[] = {TASK_CANCELLED, TASK_REFUSED, TASK_DONE, TASK_NEEDS_PERSON};
    const char *const *left[] = {
        (const char *const[]){"p1/a1#2", "p1/a1#3", "p1/a1#4", NULL},
        (const char *const[]){"p1/a1#3", "p1/a1#4", NULL},
        (const char *const[]){"p1/a1#4", NULL},
        (const char *const[]){NULL},
    };
    for (int i = 0; i < 4; i++) {
        StoredTask before = a[i].t;
        a[i].t.state = finals[i];
        save_move(f, txn, &a[i], &before);
        got = of_account(f, txn, "p1/a1");
        assert_ids(&got, left[i]);
    }
    assert_ids(&got, (const char *const[]){NULL});
    got = of_account(f, txn, "p1/a2");
    assert_ids(&got, (const char *const[]){"p1/a2#1", NULL});
    got = of_account(f, txn, "p1/none");
    assert_ids(&got, (const char *const[]){NULL});
}

static void test_of_account_lists_open_tasks_only(void **state)
{
    in_write(state, of_account_work);
}

static void test_final_states(void **state)
{
    (void)state;
    assert_false(tasks_state_is_final(TASK_PENDING));
    assert_false(tasks_state_is_final(TASK_LEASED));
    assert_false(tasks_state_is_final(TASK_STARTED));
    assert_false(tasks_state_is_final(TASK_UNRESOLVED));
    assert_false(tasks_state_is_final(TASK_RESOLVING));
    assert_true(tasks_state_is_final(TASK_DONE));
    assert_true(tasks_state_is_final(TASK_CANCELLED));
    assert_true(tasks_state_is_final(TASK_REFUSED));
    assert_true(tasks_state_is_final(TASK_NEEDS_PERSON));
}

/* ---------------------------------------------------------------- who, ledger */

static void who_of(uint8_t byte, tasks_who_t who)
{
    memset(who, byte, TASKS_WHO_BYTES);
}

static void test_who_of_request(void **state)
{
    (void)state;
    rec_t x;
    rec_init(&x, "a1", "a1#1", TASK_PENDING, 50, 0);
    tasks_who_t got, acct;
    tasks_who_of_account("p1/a1", acct);
    tasks_who_of_request(&x.r, got);   /* no person key: the account */
    assert_memory_equal(got, acct, TASKS_WHO_BYTES);
    tasks_who_t other;
    tasks_who_of_account("p1/a2", other);
    assert_memory_not_equal(other, acct, TASKS_WHO_BYTES);

    uint8_t key[TASKS_WHO_BYTES];
    memset(key, 0xab, sizeof key);
    x.r.has_person_key = 1;
    x.r.person_key = (ProtobufCBinaryData){sizeof key, key};
    tasks_who_of_request(&x.r, got);
    assert_memory_equal(got, key, TASKS_WHO_BYTES);
    x.r.person_key.len = 15;           /* not a person key: the account again */
    tasks_who_of_request(&x.r, got);
    assert_memory_equal(got, acct, TASKS_WHO_BYTES);
}

static size_t ledger(fixture_t *f, MDB_txn *txn, const tasks_who_t who, int64_t since,
                     conduct_attempt_t *out, size_t cap)
{
    size_t n = 99;
    assert_int_equal(tasks_ledger_read(f->tasks, txn, who, since, out, cap, &n), 0);
    return n;
}

static void ledger_work(fixture_t *f, MDB_txn *txn)
{
    tasks_who_t w, x;
    who_of(0x11, w);
    who_of(0x12, x);
    assert_int_equal(tasks_ledger_add(f->tasks, txn, w, 3000, "p1/a1#3", 3, true), 0);
    assert_int_equal(tasks_ledger_add(f->tasks, txn, w, 1000, "p1/a1#1", 0, false), 0);
    assert_int_equal(tasks_ledger_add(f->tasks, txn, w, 2000, "p1/a1#2", 1, true), 0);
    assert_int_equal(tasks_ledger_add(f->tasks, txn, x, 1500, "p1/b1#1", 3, false), 0);

    conduct_attempt_t a[8];
    assert_int_equal(ledger(f, txn, w, 0, a, 8), 3);   /* oldest first */
    assert_int_equal(a[0].at_ms, 1000);
    assert_int_equal(a[0].channel, 0);
    assert_false(a[0].connected);
    assert_int_equal(a[1].at_ms, 2000);
    assert_int_equal(a[1].channel, 1);
    assert_true(a[1].connected);
    assert_int_equal(a[2].at_ms, 3000);
    assert_int_equal(a[2].channel, 3);
    assert_int_equal(ledger(f, txn, w, 2000, a, 8), 2);   /* since is inclusive */
    assert_int_equal(a[0].at_ms, 2000);
    assert_int_equal(ledger(f, txn, w, 3001, a, 8), 0);
    assert_int_equal(ledger(f, txn, w, -5000, a, 8), 3);  /* a negative since: all */
    assert_int_equal(ledger(f, txn, w, 0, a, 1), 1);      /* cap: the newest dropped */
    assert_int_equal(a[0].at_ms, 1000);
    assert_int_equal(ledger(f, txn, x, 0, a, 8), 1);

    /* The same attempt again overwrites (a report marks it connected). */
    assert_int_equal(tasks_ledger_add(f->tasks, txn, w, 1000, "p1/a1#1", 0, true), 0);
    assert_int_equal(ledger(f, txn, w, 0, a, 8), 3);
    assert_true(a[0].connected);

    assert_int_equal(tasks_ledger_remove(f->tasks, txn, w, 2000, "p1/a1#2"), 0);
    assert_int_equal(tasks_ledger_remove(f->tasks, txn, w, 2000, "p1/a1#2"), 0);   /* gone: ok */
    assert_int_equal(tasks_ledger_remove(f->tasks, txn, w, 3000, "p1/a1#9"), 0);   /* other id */
    assert_int_equal(ledger(f, txn, w, 0, a, 8), 2);
    assert_int_equal(a[0].at_ms, 1000);
    assert_int_equal(a[1].at_ms, 3000);
    assert_int_equal(ledger(f, txn, x, 0, a, 8), 1);   /* another who untouched */
}

static void test_ledger_window_cap_and_remove(void **state)
{
    in_write(state, ledger_work);
}

/* ---------------------------------------------------------------- persons, points */

static void person_work(fixture_t *f, MDB_txn *txn)
{
    tasks_who_t w;
    who_of(0x21, w);
    StoredPerson *p = (StoredPerson *)1;
    assert_int_equal(tasks_person_get(f->tasks, txn, w, &p), 0);
    assert_null(p);

    StoredPerson in = STORED_PERSON__INIT;
    in.has_last_conversation_ms = in.has_opted_out_channels = in.has_opted_out_ms = 1;
    in.last_conversation_ms = 12345;
    in.opted_out_channels = 1u << 0;
    in.opted_out_ms = 777;
    assert_int_equal(tasks_person_put(f->tasks, txn, w, &in), 0);
    assert_int_equal(tasks_person_get(f->tasks, txn, w, &p), 0);
    assert_non_null(p);
    assert_int_equal(p->last_conversation_ms, 12345);
    assert_int_equal(p->opted_out_channels, 1);
    assert_int_equal(p->opted_out_ms, 777);
    assert_false(p->vulnerable);
    arrears__stored_person__free_unpacked(p, NULL);

    in.has_vulnerable = in.vulnerable = 1;   /* a put replaces the record */
    assert_int_equal(tasks_person_put(f->tasks, txn, w, &in), 0);
    assert_int_equal(tasks_person_get(f->tasks, txn, w, &p), 0);
    assert_true(p->vulnerable);
    arrears__stored_person__free_unpacked(p, NULL);
}

static void test_person_get_put(void **state)
{
    in_write(state, person_work);
}

static size_t people(fixture_t *f, MDB_txn *txn, const char *point, tasks_who_t *out, size_t cap)
{
    size_t n = 99;
    assert_int_equal(tasks_point_people(f->tasks, txn, point, out, cap, &n), 0);
    return n;
}

static void points_work(fixture_t *f, MDB_txn *txn)
{
    tasks_who_t w1, w2, got[4];
    who_of(0x31, w1);
    who_of(0x32, w2);
    assert_int_equal(people(f, txn, "ada@example.com", got, 4), 0);
    assert_int_equal(tasks_point_link(f->tasks, txn, "Ada@Example.COM", w2), 0);
    assert_int_equal(tasks_point_link(f->tasks, txn, "ada@example.com", w1), 0);
    assert_int_equal(tasks_point_link(f->tasks, txn, "ADA@example.com", w1), 0);   /* once */
    assert_int_equal(tasks_point_link(f->tasks, txn, PHONE, w1), 0);

    assert_int_equal(people(f, txn, "ADA@EXAMPLE.COM", got, 4), 2);
    assert_memory_equal(got[0], w1, TASKS_WHO_BYTES);
    assert_memory_equal(got[1], w2, TASKS_WHO_BYTES);
    assert_int_equal(people(f, txn, "ada@example.com", got, 1), 1);   /* cap */
    assert_int_equal(people(f, txn, PHONE, got, 4), 1);
    assert_memory_equal(got[0], w1, TASKS_WHO_BYTES);
    assert_int_equal(people(f, txn, "+447700900124", got, 4), 0);

    /* Points are personal data: only their hash is stored. */
    MDB_dbi dbi = table(txn, "outreach.points");
    MDB_cursor *cur;
    MDB_val k, v;
    assert_int_equal(mdb_cursor_open(txn, dbi, &cur), 0);
    int rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        assert_int_equal(k.mv_size, 16);
        assert_null(memmem(k.mv_data, k.mv_size, "ada", 3));
    }
    mdb_cursor_close(cur);
}

static void test_point_link_case_insensitive(void **state)
{
    in_write(state, points_work);
}

static void inbound_meta_work(fixture_t *f, MDB_txn *txn)
{
    bool fresh = false;
    assert_int_equal(tasks_inbound_once(f->tasks, txn, "sms-1", &fresh), 0);
    assert_true(fresh);
    assert_int_equal(tasks_inbound_once(f->tasks, txn, "sms-1", &fresh), 0);
    assert_false(fresh);
    assert_int_equal(tasks_inbound_once(f->tasks, txn, "sms-2", &fresh), 0);
    assert_true(fresh);

    uint64_t v = 0;
    assert_int_equal(tasks_meta_get(f->tasks, txn, "next_lease_id", 1, &v), 0);
    assert_int_equal(v, 1);   /* the default when absent */
    assert_int_equal(tasks_meta_put(f->tasks, txn, "next_lease_id", 42), 0);
    assert_int_equal(tasks_meta_put(f->tasks, txn, "clock_ms", UINT64_C(1781000000000)), 0);
    assert_int_equal(tasks_meta_get(f->tasks, txn, "next_lease_id", 1, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(tasks_meta_get(f->tasks, txn, "clock_ms", 0, &v), 0);
    assert_int_equal(v, UINT64_C(1781000000000));
    assert_int_equal(tasks_meta_put(f->tasks, txn, "next_lease_id", 43), 0);
    assert_int_equal(tasks_meta_get(f->tasks, txn, "next_lease_id", 1, &v), 0);
    assert_int_equal(v, 43);
}

static void test_inbound_once_and_meta(void **state)
{
    in_write(state, inbound_meta_work);
}

/* ---------------------------------------------------------------- counts, dump */

static void count_work(fixture_t *f, MDB_txn *txn)
{
    const StoredTaskState states[] = {TASK_PENDING, TASK_PENDING, TASK_LEASED, TASK_DONE,
                                      TASK_DONE, TASK_DONE, TASK_REFUSED, TASK_NEEDS_PERSON};
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        rec_t x;
        char contact[16];
        snprintf(contact, sizeof contact, "a1#%zu", i + 1);
        rec_init(&x, "a1", contact, TASK_PENDING, 50, 0);
        if (states[i] == TASK_LEASED)
            rec_lease(&x, TASK_LEASED, 100);
        x.t.state = states[i];
        save_new(f, txn, &x);
    }
    uint64_t counts[10];
    assert_int_equal(tasks_count_states(f->tasks, txn, counts), 0);
    const uint64_t want[10] = {0, 2, 1, 0, 3, 0, 1, 0, 0, 1};
    assert_memory_equal(counts, want, sizeof want);
}

static void test_count_states(void **state)
{
    in_write(state, count_work);
}

static size_t count_lines(const char *text, const char *needle)
{
    size_t n = 0;
    for (const char *line = text; *line;) {
        const char *end = strchr(line, '\n');
        assert_non_null(end);   /* every line ends */
        assert_int_equal(line[0], '{');
        assert_int_equal(end[-1], '}');
        size_t len = (size_t)(end - line);
        n += memmem(line, len, needle, strlen(needle)) != NULL;
        line = end + 1;
    }
    return n;
}

static void dump_work(fixture_t *f, MDB_txn *txn)
{
    rec_t x, y;
    rec_init(&x, "a1", "a1#1", TASK_PENDING, 50, 1000);
    rec_init(&y, "a2", "a2#1", TASK_DONE, 50, 1000);
    save_new(f, txn, &x);
    save_new(f, txn, &y);
    tasks_who_t w;
    who_of(0xab, w);
    assert_int_equal(tasks_ledger_add(f->tasks, txn, w, 1000, "p1/a2#1", 3, true), 0);
    StoredPerson p = STORED_PERSON__INIT;
    p.has_last_conversation_ms = 1;
    p.last_conversation_ms = 1000;
    assert_int_equal(tasks_person_put(f->tasks, txn, w, &p), 0);

    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    assert_int_equal(tasks_dump(f->tasks, txn, out), 0);
    fclose(out);
    assert_int_equal(count_lines(text, "\"table\":\"task\""), 2);
    assert_int_equal(count_lines(text, "\"table\":\"ledger\""), 1);
    assert_int_equal(count_lines(text, "\"table\":\"person\""), 1);
    assert_int_equal(count_lines(text, "\"id\":\"p1/a1#1\""), 1);
    /* The ledger line: who in hex, the channel as the proto number (call = 4). */
    assert_int_equal(count_lines(text, "\"who\":\"abababababababababababababababab\",\"at_ms\":1000,"
                                       "\"task\":\"p1/a2#1\",\"channel\":4,\"connected\":true"), 1);
    free(text);
}

static void test_dump_prints_json_lines(void **state)
{
    in_write(state, dump_work);
}

/* ---------------------------------------------------------------- holders */

typedef struct {
    char accounts[MAX_IDS][TASKS_ACCOUNT_KEY_MAX + 1];
    size_t n, total;
} held_t;

static held_t held(fixture_t *f, MDB_txn *txn, const char *principal, size_t start, size_t max)
{
    held_t h;
    assert_true(max <= MAX_IDS);
    assert_int_equal(tasks_held(f->tasks, txn, principal, start, max, h.accounts, &h.n, &h.total), 0);
    return h;
}

/* The slice, exactly: a NULL-terminated list. */
static void assert_held(const held_t *got, const char *const *want)
{
    size_t n = 0;
    for (; want[n]; n++) {
        if (n >= got->n)
            fail_msg("got %zu accounts, wanted at least %zu (missing %s)", got->n, n + 1, want[n]);
        assert_string_equal(got->accounts[n], want[n]);
    }
    assert_int_equal(got->n, n);
}

static const char *holder_of(fixture_t *f, MDB_txn *txn, const char *account)
{
    static char holder[TASKS_PRINCIPAL_MAX + 1];
    assert_int_equal(tasks_holder_get(f->tasks, txn, account, holder), 0);
    return holder;
}

static void holders_work(fixture_t *f, MDB_txn *txn)
{
    assert_string_equal(holder_of(f, txn, "p1/a"), "");
    const char *accounts[] = {"p1/a", "p1/b", "p1/c"};
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(tasks_holder_set(f->tasks, txn, accounts[i], "firm-1"), 0);
    assert_int_equal(tasks_holder_set(f->tasks, txn, "p1/d", "firm-2"), 0);
    assert_int_equal(tasks_holder_set(f->tasks, txn, "p1/b", "firm-2"), 0);   /* replaced */
    assert_int_equal(tasks_holder_set(f->tasks, txn, "p1/b", "firm-2"), 0);   /* again: no change */
    assert_string_equal(holder_of(f, txn, "p1/b"), "firm-2");
    held_t h = held(f, txn, "firm-1", 0, 8);
    assert_held(&h, (const char *[]){"p1/a", "p1/c", NULL});
    assert_int_equal(h.total, 2);
    h = held(f, txn, "firm-2", 0, 8);
    assert_held(&h, (const char *[]){"p1/b", "p1/d", NULL});

    /* Slices: from any start (modulo the count), round to the first, each once. */
    h = held(f, txn, "firm-1", 1, 1);
    assert_held(&h, (const char *[]){"p1/c", NULL});
    assert_int_equal(h.total, 2);
    h = held(f, txn, "firm-1", 1, 8);
    assert_held(&h, (const char *[]){"p1/c", "p1/a", NULL});
    h = held(f, txn, "firm-1", 7, 8);
    assert_held(&h, (const char *[]){"p1/c", "p1/a", NULL});

    assert_int_equal(tasks_holder_clear(f->tasks, txn, "p1/c"), 0);
    assert_int_equal(tasks_holder_clear(f->tasks, txn, "p1/c"), 0);   /* nobody: nothing */
    assert_string_equal(holder_of(f, txn, "p1/c"), "");
    h = held(f, txn, "firm-1", 0, 8);
    assert_held(&h, (const char *[]){"p1/a", NULL});
    h = held(f, txn, "nobody", 3, 8);
    assert_true(h.n == 0 && h.total == 0);
    h = held(f, txn, "", 0, 8);
    assert_true(h.n == 0 && h.total == 0);

    char longer[TASKS_PRINCIPAL_MAX + 2];
    memset(longer, 'x', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    assert_int_equal(tasks_holder_set(f->tasks, txn, "p1/e", longer), TASKS_EKEY);
    assert_int_equal(tasks_holder_set(f->tasks, txn, "p1/e", ""), TASKS_EKEY);
    assert_string_equal(holder_of(f, txn, "p1/e"), "");
}

static void test_holders_set_replace_clear_and_slices(void **state)
{
    in_write(state, holders_work);
}

static void test_assigned_is_a_legal_call_or_visit(void **state)
{
    (void)state;
    rec_t x;
    rec_init(&x, "a1", "a1#1", TASK_PENDING, 10, 0);
    struct { const char *stage; Arrears__Channel channel; bool assigned; } rows[] = {
        {"legal", ARREARS__CHANNEL__CALL, true}, {"legal", ARREARS__CHANNEL__VISIT, true},
        {"legal", ARREARS__CHANNEL__SMS, false}, {"legal", ARREARS__CHANNEL__LETTER, false},
        {"late", ARREARS__CHANNEL__CALL, false}, {NULL, ARREARS__CHANNEL__CALL, false},
    };
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
        x.r.stage = (char *)rows[i].stage;
        x.r.channel = rows[i].channel;
        assert_int_equal(tasks_is_assigned(&x.r), rows[i].assigned);
    }
}

static void assigned_queue_work(fixture_t *f, MDB_txn *txn)
{
    /* At one priority: a legal call, a legal visit due first of all, an ordinary call
     * and a legal-stage sms (not assigned: anyone's). */
    struct { const char *contact; const char *stage; Arrears__Channel channel; int64_t due; } rows[] = {
        {"a1#1", "legal", ARREARS__CHANNEL__CALL, 5000}, {"a1#2", "legal", ARREARS__CHANNEL__VISIT, 900},
        {"a1#3", "late", ARREARS__CHANNEL__CALL, 3000}, {"a1#4", "legal", ARREARS__CHANNEL__SMS, 4000},
    };
    rec_t x[4];
    for (size_t i = 0; i < 4; i++) {
        rec_init(&x[i], "a1", rows[i].contact, TASK_PENDING, 10, rows[i].due);
        x[i].r.stage = (char *)rows[i].stage;
        x[i].r.channel = rows[i].channel;
        save_new(f, txn, &x[i]);
    }
    ids_t got = due(f, txn, 10000, MAX_IDS);
    assert_ids(&got, (const char *[]){"p1/a1#4", "p1/a1#3", NULL});   /* sms, then call */
    int64_t due_ms = 0, lease_ms = 0;
    assert_int_equal(tasks_next_instant(f->tasks, txn, &due_ms, &lease_ms), 0);
    /* The assigned visit (900) is a person's work: the clock waits for the ordinary call. */
    assert_int_equal(due_ms, 3000);
    got = of_account(f, txn, "p1/a1");
    assert_int_equal(got.n, 4);

    /* Leased and back: the index entry moves out of and into the assigned bucket. */
    StoredTask before = x[0].t;
    rec_lease(&x[0], TASK_LEASED, 20000);
    save_move(f, txn, &x[0], &before);
    before = x[0].t;
    x[0].t.state = TASK_PENDING;
    x[0].t.due_ms = 100;
    save_move(f, txn, &x[0], &before);
    assert_int_equal(tasks_next_instant(f->tasks, txn, &due_ms, &lease_ms), 0);
    assert_int_equal(due_ms, 3000);   /* back among people's work, not the clock's */
    assert_int_equal(lease_ms, INT64_MAX);
    got = due(f, txn, 10000, MAX_IDS);
    assert_int_equal(got.n, 2);
}

static void test_assigned_tasks_out_of_the_ordinary_queue(void **state)
{
    in_write(state, assigned_queue_work);
}

int main(void)
{
    log_open("test_tasks", 2, LOG_WARN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_save_get_round_trip_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_altered_record_and_long_id_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_orders_by_priority_then_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease_moves_task_from_queue_to_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_returns_only_ended_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_instant_earliest_due_and_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_of_account_lists_open_tasks_only, setup, teardown),
        cmocka_unit_test(test_final_states),
        cmocka_unit_test(test_who_of_request),
        cmocka_unit_test_setup_teardown(test_ledger_window_cap_and_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_person_get_put, setup, teardown),
        cmocka_unit_test_setup_teardown(test_point_link_case_insensitive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inbound_once_and_meta, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_states, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_prints_json_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holders_set_replace_clear_and_slices, setup, teardown),
        cmocka_unit_test(test_assigned_is_a_legal_call_or_visit),
        cmocka_unit_test_setup_teardown(test_assigned_tasks_out_of_the_ordinary_queue, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
