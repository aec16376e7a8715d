/* tasks: the broker's durable state (see tasks.h). */
#include "tasks.h"

#include <assert.h>
#include <ctype.h>
#include <sodium.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbjson.h"

struct tasks {
    crypt_t *crypt;
    MDB_dbi tasks, queue, leases, accounts, ledger, persons, points, meta, inbound;
    MDB_dbi holders, held;
    uint8_t plain[TASKS_RECORD_MAX];
    uint8_t sealed[TASKS_RECORD_MAX + CRYPT_OVERHEAD_BYTES];
};

int tasks_open(store_t *store, crypt_t *crypt, tasks_t **self_p)
{
    tasks_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->crypt = crypt;
    int rc = store_table(store, "outreach.tasks", 0, &self->tasks);
    rc = rc ? rc : store_table(store, "outreach.queue", 0, &self->queue);
    rc = rc ? rc : store_table(store, "outreach.leases", 0, &self->leases);
    rc = rc ? rc : store_table(store, "outreach.accounts", MDB_DUPSORT, &self->accounts);
    rc = rc ? rc : store_table(store, "outreach.ledger", 0, &self->ledger);
    rc = rc ? rc : store_table(store, "outreach.persons", 0, &self->persons);
    rc = rc ? rc : store_table(store, "outreach.points", MDB_DUPSORT, &self->points);
    rc = rc ? rc : store_table(store, "outreach.meta", 0, &self->meta);
    rc = rc ? rc : store_table(store, "outreach.inbound", 0, &self->inbound);
    rc = rc ? rc : store_table(store, "outreach.holders", 0, &self->holders);
    rc = rc ? rc : store_table(store, "outreach.held", MDB_DUPSORT, &self->held);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void tasks_destroy(tasks_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

bool tasks_state_is_final(StoredTaskState s)
{
    return s == TASK_DONE || s == TASK_CANCELLED || s == TASK_REFUSED || s == TASK_NEEDS_PERSON;
}

static bool is_leased(StoredTaskState s)
{
    return s == TASK_LEASED || s == TASK_STARTED || s == TASK_RESOLVING;
}

/* ---------------------------------------------------------------- task records */

int tasks_get(tasks_t *self, MDB_txn *txn, const char *task_id, StoredTask **out)
{
    *out = NULL;
    MDB_val k = {strlen(task_id), (void *)task_id}, v;
    int rc = mdb_get(txn, self->tasks, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    size_t len = 0;
    rc = rc ? rc : crypt_open(self->crypt, v.mv_data, v.mv_size, self->plain, sizeof self->plain, &len);
    if (rc != 0)
        return rc == CRYPT_EFORGED ? TASKS_ECORRUPT : rc;
    *out = arrears__stored_task__unpack(NULL, len, self->plain);
    return *out ? 0 : TASKS_ECORRUPT;
}

bool tasks_is_assigned(const ContactRequest *r)
{
    return r->stage && strcmp(r->stage, "legal") == 0 &&
           (r->channel == ARREARS__CHANNEL__CALL || r->channel == ARREARS__CHANNEL__VISIT);
}

static size_t queue_key(const StoredTask *t, const char *id, uint8_t *key)
{
    size_t n = strlen(id);
    key[0] = (uint8_t)t->priority;
    key[1] = (uint8_t)((unsigned)t->request->channel |
                       (tasks_is_assigned(t->request) ? TASKS_BUCKET_ASSIGNED : 0u));
    store_put_u64(key + 2, (uint64_t)t->due_ms);
    memcpy(key + 10, id, n);
    return 10 + n;
}

static size_t lease_key(const StoredTask *t, const char *id, uint8_t *key)
{
    size_t n = strlen(id);
    store_put_u64(key, (uint64_t)t->lease_until_ms);
    memcpy(key + 8, id, n);
    return 8 + n;
}

static int account_key_of(const StoredTask *t, char out[TASKS_ACCOUNT_KEY_MAX + 1])
{
    int n = snprintf(out, TASKS_ACCOUNT_KEY_MAX + 1, "%s/%s", t->request->platform,
                     t->request->account_ref);
    return n < 0 || n > TASKS_ACCOUNT_KEY_MAX ? TASKS_EKEY : 0;
}

/* Adds (add true) or removes the index entries a task in this state has. */
static int index_task(tasks_t *self, MDB_txn *txn, const char *id, const StoredTask *t, bool add)
{
    uint8_t key[16 + TASKS_ID_MAX];
    MDB_val k, empty = {0, ""};
    int rc = 0;
    if (t->state == TASK_PENDING || t->state == TASK_UNRESOLVED) {
        k = (MDB_val){queue_key(t, id, key), key};
        rc = add ? mdb_put(txn, self->queue, &k, &empty, 0) : mdb_del(txn, self->queue, &k, NULL);
    } else if (is_leased(t->state)) {
        k = (MDB_val){lease_key(t, id, key), key};
        rc = add ? mdb_put(txn, self->leases, &k, &empty, 0) : mdb_del(txn, self->leases, &k, NULL);
    }
    if ((rc != 0 && rc != MDB_NOTFOUND) || tasks_state_is_final(t->state))
        return rc == MDB_NOTFOUND ? 0 : rc;
    char account[TASKS_ACCOUNT_KEY_MAX + 1];
    if ((rc = account_key_of(t, account)) != 0)
        return rc;
    k = (MDB_val){strlen(account), account};
    MDB_val v = {strlen(id), (void *)id};
    rc = add ? mdb_put(txn, self->accounts, &k, &v, 0) : mdb_del(txn, self->accounts, &k, &v);
    return rc == MDB_NOTFOUND || rc == MDB_KEYEXIST ? 0 : rc;
}

int tasks_save(tasks_t *self, MDB_txn *txn, const char *task_id, const StoredTask *before,
               const StoredTask *after)
{
    if (strlen(task_id) > TASKS_ID_MAX)
        return TASKS_EKEY;
    size_t len = arrears__stored_task__get_packed_size(after);
    if (len > sizeof self->plain)
        return TASKS_ETOO_LARGE;
    arrears__stored_task__pack(after, self->plain);
    size_t sealed_len = 0;
    int rc = crypt_seal(self->crypt, self->plain, len, self->sealed, sizeof self->sealed, &sealed_len);
    MDB_val k = {strlen(task_id), (void *)task_id}, v = {sealed_len, self->sealed};
    rc = rc ? rc : mdb_put(txn, self->tasks, &k, &v, 0);
    rc = rc || !before ? rc : index_task(self, txn, task_id, before, false);
    return rc ? rc : index_task(self, txn, task_id, after, true);
}

/* ---------------------------------------------------------------- the queue */

/* Appends the task id that ends key k (after prefix bytes). */
static int collect(const MDB_val *k, size_t prefix, size_t max,
                   char (*ids)[TASKS_ID_MAX + 1], size_t *n)
{
    size_t len = k->mv_size - prefix;
    if (len > TASKS_ID_MAX || *n >= max)
        return TASKS_ECORRUPT;
    memcpy(ids[*n], (uint8_t *)k->mv_data + prefix, len);
    ids[(*n)++][len] = '\0';
    return 0;
}

/* Where the queue scan goes after (priority, channel): the next channel of the mask at
 * this priority, else the first of the next priority. false: nothing after. */
static bool next_bucket(uint8_t priority, uint8_t channel, unsigned channels, uint8_t seek[10])
{
    memset(seek, 0, 10);
    for (unsigned c = channel + 1u; c <= 8; c++)
        if ((channels >> (c - 1)) & 1) {
            seek[0] = priority, seek[1] = (uint8_t)c;
            return true;
        }
    if (priority == 255)
        return false;
    seek[0] = priority + 1;
    return true;
}

int tasks_due(tasks_t *self, MDB_txn *txn, int64_t now_ms, unsigned channels, size_t max,
              char (*ids)[TASKS_ID_MAX + 1], size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->queue, &cur);
    if (rc != 0)
        return rc;
    uint8_t seek[10] = {0};
    MDB_val k = {sizeof seek, seek}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && *n < max) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size < 11) {
            rc = TASKS_ECORRUPT;
            break;
        }
        bool wanted = key[1] >= 1 && key[1] <= 8 && ((channels >> (key[1] - 1)) & 1);
        if (wanted && (int64_t)store_get_u64(key + 2) <= now_ms) {
            rc = collect(&k, 10, max, ids, n);
            rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_NEXT);
            continue;
        }
        /* Not this puller's channel, or nothing more due in it: skip the bucket. */
        if (!next_bucket(key[0], key[1], channels, seek))
            break;
        k = (MDB_val){sizeof seek, seek};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_expired(tasks_t *self, MDB_txn *txn, int64_t now_ms, size_t max,
                  char (*ids)[TASKS_ID_MAX + 1], size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->leases, &cur);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 9)
            rc = TASKS_ECORRUPT;
        if (rc != 0 || (int64_t)store_get_u64(k.mv_data) > now_ms)
            break;
        rc = collect(&k, 8, max, ids, n);
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Where a walk over every bucket goes after (priority, bucket). false: nothing after. */
static bool following_bucket(uint8_t priority, uint8_t bucket, uint8_t seek[10])
{
    memset(seek, 0, 10);
    if (bucket < 255) {
        seek[0] = priority, seek[1] = bucket + 1;
        return true;
    }
    seek[0] = priority + 1;
    return priority < 255;
}

int tasks_next_instant(tasks_t *self, MDB_txn *txn, int64_t *due_ms, int64_t *lease_ms)
{
    *due_ms = *lease_ms = INT64_MAX;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->queue, &cur);
    if (rc != 0)
        return rc;
    /* The first key of each (priority, bucket) is its earliest due. */
    uint8_t seek[10] = {0};
    MDB_val k = {sizeof seek, seek}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE)) {
        const uint8_t *key = k.mv_data;
        int64_t due = k.mv_size >= 10 ? (int64_t)store_get_u64(key + 2) : 0;
        /* An assigned task is a person's work (a firm's or agency's agent calls when
         * they call): the broker's clock does not wait for it. */
        if (k.mv_size < 10 || !(key[1] & TASKS_BUCKET_ASSIGNED))
            *due_ms = due < *due_ms ? due : *due_ms;
        if (k.mv_size < 10 || !following_bucket(key[0], key[1], seek))
            break;
        k = (MDB_val){sizeof seek, seek};
    }
    mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_cursor_open(txn, self->leases, &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && k.mv_size >= 8)
        *lease_ms = (int64_t)store_get_u64(k.mv_data);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_of_account(tasks_t *self, MDB_txn *txn, const char *account_key, size_t max,
                     char (*ids)[TASKS_ID_MAX + 1], size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->accounts, &cur);
    if (rc != 0)
        return rc;
    MDB_val k = {strlen(account_key), (void *)account_key}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP)) {
        if (v.mv_size > TASKS_ID_MAX) {
            rc = TASKS_ECORRUPT;
            break;
        }
        memcpy(ids[*n], v.mv_data, v.mv_size);
        ids[(*n)++][v.mv_size] = '\0';
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_ids_after(tasks_t *self, MDB_txn *txn, const char *prefix, const char *after_id,
                    size_t max, char (*ids)[TASKS_ID_MAX + 1], size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    size_t plen = strlen(prefix);
    bool from_prefix = !*after_id;
    MDB_val k = from_prefix ? (MDB_val){plen, (void *)prefix}
                            : (MDB_val){strlen(after_id), (void *)after_id}, v;
    int rc = mdb_cursor_open(txn, self->tasks, &cur);
    rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && !from_prefix && k.mv_size == strlen(after_id) &&
        memcmp(k.mv_data, after_id, k.mv_size) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);   /* after it, not it */
    for (; rc == 0 && *n < max; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        if (k.mv_size > TASKS_ID_MAX) {
            rc = TASKS_ECORRUPT;
            break;
        }
        memcpy(ids[*n], k.mv_data, k.mv_size);
        ids[(*n)++][k.mv_size] = '\0';
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- holders */

static int holder_keys(const char *account_key, const char *principal, MDB_val *account,
                       MDB_val *who)
{
    size_t a = strlen(account_key), p = principal ? strlen(principal) : 0;
    if (a == 0 || a > TASKS_ACCOUNT_KEY_MAX || p > TASKS_PRINCIPAL_MAX)
        return TASKS_EKEY;
    *account = (MDB_val){a, (void *)account_key};
    *who = (MDB_val){p, (void *)principal};
    return 0;
}

int tasks_holder_get(tasks_t *self, MDB_txn *txn, const char *account_key,
                     char holder[TASKS_PRINCIPAL_MAX + 1])
{
    MDB_val k, v, unused;
    holder[0] = '\0';
    int rc = holder_keys(account_key, NULL, &k, &unused);
    rc = rc ? rc : mdb_get(txn, self->holders, &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    if (v.mv_size == 0 || v.mv_size > TASKS_PRINCIPAL_MAX)
        return TASKS_ECORRUPT;
    memcpy(holder, v.mv_data, v.mv_size);
    holder[v.mv_size] = '\0';
    return 0;
}

/* Removes the account from its holder's list and the holder from the account. */
static int holder_drop(tasks_t *self, MDB_txn *txn, MDB_val *account, const char *holder)
{
    MDB_val who = {strlen(holder), (void *)holder};
    int rc = mdb_del(txn, self->held, &who, account);
    rc = rc == MDB_NOTFOUND ? 0 : rc;
    rc = rc ? rc : mdb_del(txn, self->holders, account, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_holder_set(tasks_t *self, MDB_txn *txn, const char *account_key, const char *principal)
{
    char old[TASKS_PRINCIPAL_MAX + 1];
    MDB_val k, who;
    int rc = holder_keys(account_key, principal, &k, &who);
    if (rc == 0 && who.mv_size == 0)
        rc = TASKS_EKEY;
    rc = rc ? rc : tasks_holder_get(self, txn, account_key, old);
    if (rc != 0 || strcmp(old, principal) == 0)
        return rc;
    rc = old[0] ? holder_drop(self, txn, &k, old) : 0;
    rc = rc ? rc : mdb_put(txn, self->holders, &k, &who, 0);
    rc = rc ? rc : mdb_put(txn, self->held, &who, &k, MDB_NODUPDATA);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

int tasks_holder_clear(tasks_t *self, MDB_txn *txn, const char *account_key)
{
    char old[TASKS_PRINCIPAL_MAX + 1];
    MDB_val k, unused;
    int rc = holder_keys(account_key, NULL, &k, &unused);
    rc = rc ? rc : tasks_holder_get(self, txn, account_key, old);
    return rc || !old[0] ? rc : holder_drop(self, txn, &k, old);
}

int tasks_held(tasks_t *self, MDB_txn *txn, const char *principal, size_t start, size_t max,
               char (*accounts)[TASKS_ACCOUNT_KEY_MAX + 1], size_t *n, size_t *total)
{
    *n = *total = 0;
    if (!*principal || strlen(principal) > TASKS_PRINCIPAL_MAX)
        return 0;   /* no such holder */
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->held, &cur);
    if (rc != 0)
        return rc;
    MDB_val who = {strlen(principal), (void *)principal}, k = who, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    rc = rc ? rc : mdb_cursor_count(cur, total);
    for (size_t i = 0; rc == 0 && i < start % *total; i++)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    while (rc == 0 && *n < max && *n < *total) {
        if (v.mv_size > TASKS_ACCOUNT_KEY_MAX) {
            rc = TASKS_ECORRUPT;
            break;
        }
        memcpy(accounts[*n], v.mv_data, v.mv_size);
        accounts[(*n)++][v.mv_size] = '\0';
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
        if (rc == MDB_NOTFOUND) {   /* past the last: round to the first */
            k = who;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
        }
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Visits every task in id order, each opened and decoded once. */
static int each_task(tasks_t *self, MDB_txn *txn, tasks_visit_fn *visit, void *arg)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->tasks, &cur);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char id[TASKS_ID_MAX + 1];
        StoredTask *t = NULL;
        if (k.mv_size > TASKS_ID_MAX)
            continue;
        memcpy(id, k.mv_data, k.mv_size);
        id[k.mv_size] = '\0';
        if ((rc = tasks_get(self, txn, id, &t)) != 0 || !t)
            break;
        rc = visit(id, t, arg);
        arrears__stored_task__free_unpacked(t, NULL);
        if (rc != 0)
            break;
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_each(tasks_t *self, MDB_txn *txn, tasks_visit_fn *visit, void *arg)
{
    return each_task(self, txn, visit, arg);
}

static int count_state(const char *id, const StoredTask *t, void *arg)
{
    uint64_t *counts = arg;
    (void)id;
    counts[(unsigned)t->state < 10 ? t->state : 0]++;
    return 0;
}

int tasks_count_states(tasks_t *self, MDB_txn *txn, uint64_t counts[10])
{
    memset(counts, 0, 10 * sizeof *counts);
    return each_task(self, txn, count_state, counts);
}

/* ---------------------------------------------------------------- who */

static void hash128(const void *data, size_t len, uint8_t out[16])
{
    crypto_generichash(out, 16, data, len, NULL, 0);
}

void tasks_who_of_account(const char *account_key, tasks_who_t who)
{
    char buf[TASKS_ACCOUNT_KEY_MAX + 3];
    int n = snprintf(buf, sizeof buf, "a:%s", account_key);
    hash128(buf, n > 0 && (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1, who);
}

void tasks_who_of_request(const ContactRequest *r, tasks_who_t who)
{
    if (r->has_person_key && r->person_key.len == TASKS_WHO_BYTES) {
        memcpy(who, r->person_key.data, TASKS_WHO_BYTES);
        return;
    }
    char account[TASKS_ACCOUNT_KEY_MAX + 1];
    snprintf(account, sizeof account, "%s/%s", r->platform, r->account_ref);
    tasks_who_of_account(account, who);
}

/* ---------------------------------------------------------------- the contact ledger */

static size_t ledger_key(const tasks_who_t who, int64_t at_ms, const char *id, uint8_t *key)
{
    size_t n = strlen(id);
    memcpy(key, who, TASKS_WHO_BYTES);
    store_put_u64(key + TASKS_WHO_BYTES, (uint64_t)at_ms);
    memcpy(key + TASKS_WHO_BYTES + 8, id, n);
    return TASKS_WHO_BYTES + 8 + n;
}

int tasks_ledger_add(tasks_t *self, MDB_txn *txn, const tasks_who_t who, int64_t at_ms,
                     const char *task_id, int channel, bool connected)
{
    uint8_t key[TASKS_WHO_BYTES + 8 + TASKS_ID_MAX], val[2] = {(uint8_t)channel, connected};
    if (strlen(task_id) > TASKS_ID_MAX)
        return TASKS_EKEY;
    MDB_val k = {ledger_key(who, at_ms, task_id, key), key}, v = {sizeof val, val};
    return mdb_put(txn, self->ledger, &k, &v, 0);
}

int tasks_ledger_remove(tasks_t *self, MDB_txn *txn, const tasks_who_t who, int64_t at_ms,
                        const char *task_id)
{
    uint8_t key[TASKS_WHO_BYTES + 8 + TASKS_ID_MAX];
    if (strlen(task_id) > TASKS_ID_MAX)
        return TASKS_EKEY;
    MDB_val k = {ledger_key(who, at_ms, task_id, key), key};
    int rc = mdb_del(txn, self->ledger, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_ledger_read(tasks_t *self, MDB_txn *txn, const tasks_who_t who, int64_t since_ms,
                      conduct_attempt_t *out, size_t cap, size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->ledger, &cur);
    if (rc != 0)
        return rc;
    uint8_t seek[TASKS_WHO_BYTES + 8];
    memcpy(seek, who, TASKS_WHO_BYTES);
    store_put_u64(seek + TASKS_WHO_BYTES, (uint64_t)(since_ms > 0 ? since_ms : 0));
    MDB_val k = {sizeof seek, seek}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && *n < cap;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < sizeof seek || memcmp(k.mv_data, who, TASKS_WHO_BYTES) != 0)
            break;
        const uint8_t *val = v.mv_data;
        out[(*n)++] = (conduct_attempt_t){
            .at_ms = (int64_t)store_get_u64((uint8_t *)k.mv_data + TASKS_WHO_BYTES),
            .channel = v.mv_size >= 2 ? val[0] : 0,
            .connected = v.mv_size >= 2 && val[1],
        };
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- persons, points */

int tasks_person_get(tasks_t *self, MDB_txn *txn, const tasks_who_t who, StoredPerson **out)
{
    *out = NULL;
    MDB_val k = {TASKS_WHO_BYTES, (void *)who}, v;
    int rc = mdb_get(txn, self->persons, &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    *out = arrears__stored_person__unpack(NULL, v.mv_size, v.mv_data);
    return *out ? 0 : TASKS_ECORRUPT;
}

int tasks_person_put(tasks_t *self, MDB_txn *txn, const tasks_who_t who, const StoredPerson *p)
{
    size_t len = arrears__stored_person__get_packed_size(p);
    if (len > sizeof self->plain)
        return TASKS_ETOO_LARGE;
    arrears__stored_person__pack(p, self->plain);
    MDB_val k = {TASKS_WHO_BYTES, (void *)who}, v = {len, self->plain};
    return mdb_put(txn, self->persons, &k, &v, 0);
}

/* Contact points are personal data: the table holds their hash, never the point. */
static void point_hash(const char *point, uint8_t out[16])
{
    char folded[256];
    size_t n = 0;
    for (; point[n] && n < sizeof folded; n++)
        folded[n] = (char)tolower((unsigned char)point[n]);
    hash128(folded, n, out);
}

int tasks_point_link(tasks_t *self, MDB_txn *txn, const char *point, const tasks_who_t who)
{
    uint8_t h[16];
    point_hash(point, h);
    MDB_val k = {sizeof h, h}, v = {TASKS_WHO_BYTES, (void *)who};
    int rc = mdb_put(txn, self->points, &k, &v, MDB_NODUPDATA);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

int tasks_point_people(tasks_t *self, MDB_txn *txn, const char *point, tasks_who_t *out,
                       size_t cap, size_t *n)
{
    *n = 0;
    uint8_t h[16];
    point_hash(point, h);
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->points, &cur);
    if (rc != 0)
        return rc;
    MDB_val k = {sizeof h, h}, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY); rc == 0 && *n < cap;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP))
        if (v.mv_size == TASKS_WHO_BYTES)
            memcpy(out[(*n)++], v.mv_data, TASKS_WHO_BYTES);
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_inbound_once(tasks_t *self, MDB_txn *txn, const char *inbound_id, bool *fresh)
{
    MDB_val k = {strlen(inbound_id), (void *)inbound_id}, v = {0, ""};
    int rc = mdb_put(txn, self->inbound, &k, &v, MDB_NOOVERWRITE);
    *fresh = rc == 0;
    return rc == MDB_KEYEXIST ? 0 : rc;
}

int tasks_meta_get(tasks_t *self, MDB_txn *txn, const char *name, uint64_t dflt, uint64_t *out)
{
    return store_get_named_u64(txn, self->meta, name, dflt, out);
}

int tasks_meta_put(tasks_t *self, MDB_txn *txn, const char *name, uint64_t value)
{
    return store_put_named_u64(txn, self->meta, name, value);
}

/* ---------------------------------------------------------------- dump */

static void print_hex(FILE *out, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", b[i]);
}

static int dump_task(const char *id, const StoredTask *t, void *arg)
{
    FILE *out = arg;
    fprintf(out, "{\"table\":\"task\",\"id\":\"%s\",\"task\":", id);
    int rc = pbjson_print(out, &t->base);
    fputs("}\n", out);
    return rc;
}

static int dump_ledger_and_persons(tasks_t *self, MDB_txn *txn, FILE *out)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    int rc = mdb_cursor_open(txn, self->ledger, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data, *val = v.mv_data;
        if (k.mv_size < TASKS_WHO_BYTES + 8 || v.mv_size < 2)
            continue;
        fputs("{\"table\":\"ledger\",\"who\":\"", out);
        print_hex(out, key, TASKS_WHO_BYTES);
        fprintf(out, "\",\"at_ms\":%lld,\"task\":\"%.*s\",\"channel\":%d,\"connected\":%s}\n",
                (long long)store_get_u64(key + TASKS_WHO_BYTES),
                (int)(k.mv_size - TASKS_WHO_BYTES - 8), key + TASKS_WHO_BYTES + 8, val[0] + 1,
                val[1] ? "true" : "false");
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND)
        return rc;
    rc = mdb_cursor_open(txn, self->persons, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        StoredPerson *p = arrears__stored_person__unpack(NULL, v.mv_size, v.mv_data);
        if (!p || k.mv_size != TASKS_WHO_BYTES) {
            arrears__stored_person__free_unpacked(p, NULL);
            continue;
        }
        fputs("{\"table\":\"person\",\"who\":\"", out);
        print_hex(out, k.mv_data, TASKS_WHO_BYTES);
        fputs("\",\"person\":", out);
        pbjson_print(out, &p->base);
        fputs("}\n", out);
        arrears__stored_person__free_unpacked(p, NULL);
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int tasks_dump(tasks_t *self, MDB_txn *txn, FILE *out)
{
    int rc = each_task(self, txn, dump_task, out);
    return rc ? rc : dump_ledger_and_persons(self, txn, out);
}

const char *tasks_strerror(int code)
{
    switch (code) {
    case TASKS_ECORRUPT: return "a stored outreach record does not decode or open";
    case TASKS_ETOO_LARGE: return "an outreach record is over its size limit";
    case TASKS_EKEY: return "an id or key is over its limit";
    default: return code > 0 || code <= MDB_KEYEXIST ? store_strerror(code) : crypt_strerror(code);
    }
}
