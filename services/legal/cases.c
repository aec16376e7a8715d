/* cases: the legal service's durable state (see cases.h). */
#include "cases.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "pbjson.h"

struct cases {
    crypt_t *crypt;
    MDB_dbi cases, referrals, files, accounts, assignees, recoveries, due, waiting, meta, taken;
    MDB_dbi ever;
    uint8_t plain[CASES_RECORD_MAX];
    uint8_t sealed[CASES_FILE_MAX + CRYPT_OVERHEAD_BYTES];
};

int cases_open(store_t *store, crypt_t *crypt, cases_t **self_p)
{
    cases_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->crypt = crypt;
    int rc = store_table(store, "legal.cases", 0, &self->cases);
    rc = rc ? rc : store_table(store, "legal.referrals", 0, &self->referrals);
    rc = rc ? rc : store_table(store, "legal.files", 0, &self->files);
    rc = rc ? rc : store_table(store, "legal.accounts", 0, &self->accounts);
    rc = rc ? rc : store_table(store, "legal.assignees", 0, &self->assignees);
    rc = rc ? rc : store_table(store, "legal.recoveries", 0, &self->recoveries);
    rc = rc ? rc : store_table(store, "legal.due", 0, &self->due);
    rc = rc ? rc : store_table(store, "legal.waiting", 0, &self->waiting);
    rc = rc ? rc : store_table(store, "legal.meta", 0, &self->meta);
    rc = rc ? rc : store_table(store, "legal.taken", 0, &self->taken);
    rc = rc ? rc : store_table(store, "legal.ever", 0, &self->ever);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void cases_destroy(cases_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

const char *cases_strerror(int code)
{
    switch (code) {
    case CASES_OK: return "ok";
    case CASES_ECORRUPT: return "a stored case record does not decode or open";
    case CASES_ETOO_LARGE: return "a case record or file over its limit";
    case CASES_EKEY: return "an id or key over its limit";
    default: return code > 0 || code <= MDB_KEYEXIST ? store_strerror(code) : crypt_strerror(code);
    }
}

int cases_meta_get(cases_t *self, MDB_txn *txn, const char *name, uint64_t dflt, uint64_t *out)
{
    return store_get_named_u64(txn, self->meta, name, dflt, out);
}

int cases_meta_put(cases_t *self, MDB_txn *txn, const char *name, uint64_t value)
{
    return store_put_named_u64(txn, self->meta, name, value);
}

bool cases_id_of(uint64_t number, char id[CASES_ID_MAX + 1])
{
    char text[32];
    int n = snprintf(text, sizeof text, "L%09llu", (unsigned long long)number);
    if (n < 0 || n > CASES_ID_MAX)
        return false;
    memcpy(id, text, (size_t)n + 1);
    return true;
}

int cases_next_id(cases_t *self, MDB_txn *txn, bool take, char id[CASES_ID_MAX + 1])
{
    uint64_t next = 0;
    int rc = cases_meta_get(self, txn, "next_case", 1, &next);
    if (rc == 0 && take)
        rc = cases_meta_put(self, txn, "next_case", next + 1);
    if (rc == 0 && !cases_id_of(next, id))
        rc = CASES_EKEY;
    return rc;
}

/* ---------------------------------------------------------------- sealed values */

static int put_sealed(cases_t *self, MDB_txn *txn, MDB_dbi dbi, const MDB_val *k,
                      const uint8_t *plain, size_t len)
{
    size_t sealed_len = 0;
    int rc = crypt_seal(self->crypt, plain, len, self->sealed, sizeof self->sealed, &sealed_len);
    MDB_val v = {sealed_len, self->sealed};
    return rc ? rc : mdb_put(txn, dbi, (MDB_val *)k, &v, 0);
}

/* Opens a sealed value into buf; *len 0 when absent. */
static int get_sealed(cases_t *self, MDB_txn *txn, MDB_dbi dbi, const MDB_val *k, uint8_t *buf,
                      size_t cap, size_t *len)
{
    MDB_val v;
    *len = 0;
    int rc = mdb_get(txn, dbi, (MDB_val *)k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    rc = rc ? rc : crypt_open(self->crypt, v.mv_data, v.mv_size, buf, cap, len);
    return rc == CRYPT_EFORGED ? CASES_ECORRUPT : rc;
}

int cases_referral_put(cases_t *self, MDB_txn *txn, const char *case_id, const LegalReferral *r)
{
    size_t len = arrears__legal_referral__get_packed_size(r);
    if (len > CASES_FILE_MAX)
        return CASES_ETOO_LARGE;
    uint8_t *plain = malloc(len ? len : 1);
    if (!plain)
        return ENOMEM;
    arrears__legal_referral__pack(r, plain);
    MDB_val k = {strlen(case_id), (void *)case_id};
    int rc = put_sealed(self, txn, self->referrals, &k, plain, len);
    free(plain);
    return rc;
}

int cases_referral_get(cases_t *self, MDB_txn *txn, const char *case_id, LegalReferral **out)
{
    *out = NULL;
    uint8_t *plain = malloc(CASES_FILE_MAX);
    if (!plain)
        return ENOMEM;
    size_t len = 0;
    MDB_val k = {strlen(case_id), (void *)case_id};
    int rc = get_sealed(self, txn, self->referrals, &k, plain, CASES_FILE_MAX, &len);
    if (rc == 0 && len > 0) {
        *out = arrears__legal_referral__unpack(NULL, len, plain);
        rc = *out ? 0 : CASES_ECORRUPT;
    }
    free(plain);
    return rc;
}

static size_t file_key(const char *case_id, int form, uint8_t key[CASES_ID_MAX + 1])
{
    size_t n = strlen(case_id);
    memcpy(key, case_id, n);
    key[n] = (uint8_t)form;
    return n + 1;
}

int cases_file_put(cases_t *self, MDB_txn *txn, const char *case_id, int form,
                   const uint8_t *data, size_t len)
{
    if (strlen(case_id) > CASES_ID_MAX)
        return CASES_EKEY;
    if (len > CASES_FILE_MAX)
        return CASES_ETOO_LARGE;
    uint8_t key[CASES_ID_MAX + 1];
    MDB_val k = {file_key(case_id, form, key), key};
    return put_sealed(self, txn, self->files, &k, data, len);
}

int cases_file_get(cases_t *self, MDB_txn *txn, const char *case_id, int form, uint8_t *buf,
                   size_t cap, size_t *len)
{
    if (strlen(case_id) > CASES_ID_MAX)
        return CASES_EKEY;
    uint8_t key[CASES_ID_MAX + 1];
    MDB_val k = {file_key(case_id, form, key), key};
    return get_sealed(self, txn, self->files, &k, buf, cap, len);
}

/* ---------------------------------------------------------------- case records */

int cases_get(cases_t *self, MDB_txn *txn, const char *case_id, StoredCase **out)
{
    *out = NULL;
    MDB_val k = {strlen(case_id), (void *)case_id}, v;
    int rc = mdb_get(txn, self->cases, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    *out = arrears__stored_case__unpack(NULL, v.mv_size, v.mv_data);
    return *out ? 0 : CASES_ECORRUPT;
}

static int account_key(const StoredCase *c, char out[CASES_ACCOUNT_KEY_MAX + 1])
{
    int n = snprintf(out, CASES_ACCOUNT_KEY_MAX + 1, "%s/%s", c->platform, c->account_ref);
    return n < 0 || n > CASES_ACCOUNT_KEY_MAX ? CASES_EKEY : 0;
}

/* [u64 instant][case id] */
static MDB_val timed_key(int64_t at_ms, const char *id, uint8_t key[8 + CASES_ID_MAX])
{
    size_t n = strlen(id);
    store_put_u64(key, (uint64_t)at_ms);
    memcpy(key + 8, id, n);
    return (MDB_val){8 + n, key};
}

static bool is_open(const StoredCase *c)
{
    return !case_status_terminal((case_status_t)c->status);
}

static bool has_assignee(const StoredCase *c)
{
    return c->assignee && *c->assignee;
}

static int put_or_del(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, bool add)
{
    int rc = add ? mdb_put(txn, dbi, k, v, 0) : mdb_del(txn, dbi, k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int index_assignee(cases_t *self, MDB_txn *txn, const StoredCase *c, bool add)
{
    if (!has_assignee(c))
        return 0;
    size_t a = strlen(c->assignee), n = strlen(c->case_id);
    uint8_t key[64 + 1 + CASES_ID_MAX + 1];
    if (a > 64)
        return CASES_EKEY;
    memcpy(key, c->assignee, a);
    key[a] = 0;
    memcpy(key + a + 1, c->case_id, n);
    MDB_val k = {a + 1 + n, key}, empty = {0, ""};
    return put_or_del(txn, self->assignees, &k, &empty, add);
}

/* The open cases placed with an assignee, a counter kept beside the index. */
static int count_open(cases_t *self, MDB_txn *txn, const char *assignee, bool add)
{
    char name[8 + 64 + 1];
    snprintf(name, sizeof name, "open/%s", assignee);
    uint64_t n = 0;
    int rc = cases_meta_get(self, txn, name, 0, &n);
    if (rc == 0 && !add && n == 0)
        return CASES_ECORRUPT;
    return rc ? rc : cases_meta_put(self, txn, name, add ? n + 1 : n - 1);
}

int cases_open_count(cases_t *self, MDB_txn *txn, const char *assignee, uint32_t *n)
{
    char name[8 + 64 + 1];
    snprintf(name, sizeof name, "open/%s", assignee);
    uint64_t v = 0;
    int rc = cases_meta_get(self, txn, name, 0, &v);
    *n = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
    return rc;
}

/* Adds (add true) or removes the index entries a case in this state has. */
static int index_case(cases_t *self, MDB_txn *txn, const StoredCase *c, bool add)
{
    uint8_t key[8 + CASES_ID_MAX];
    MDB_val k, empty = {0, ""};
    int rc = 0;
    if (c->due_ms > 0) {
        k = timed_key(c->due_ms, c->case_id, key);
        rc = put_or_del(txn, self->due, &k, &empty, add);
    }
    if (rc == 0 && is_open(c) && !has_assignee(c)) {
        k = (MDB_val){strlen(c->case_id), c->case_id};
        rc = put_or_del(txn, self->waiting, &k, &empty, add);
    }
    rc = rc ? rc : index_assignee(self, txn, c, add);
    if (rc == 0 && is_open(c) && has_assignee(c))
        rc = count_open(self, txn, c->assignee, add);
    if (rc != 0 || !is_open(c))
        return rc;
    char account[CASES_ACCOUNT_KEY_MAX + 1];
    if ((rc = account_key(c, account)) != 0)
        return rc;
    k = (MDB_val){strlen(account), account};
    MDB_val v = {strlen(c->case_id), c->case_id};
    return put_or_del(txn, self->accounts, &k, &v, add);
}

/* [account key]\0[case id] of legal.ever. */
static int ever_key(const StoredCase *c, char out[CASES_ACCOUNT_KEY_MAX + 2 + CASES_ID_MAX],
                    MDB_val *k)
{
    int rc = account_key(c, out);
    size_t n = strlen(out), id = strlen(c->case_id);
    if (rc != 0 || id > CASES_ID_MAX)
        return rc ? rc : CASES_EKEY;
    out[n] = '\0';
    memcpy(out + n + 1, c->case_id, id);
    *k = (MDB_val){n + 1 + id, out};
    return 0;
}

static int index_ever(cases_t *self, MDB_txn *txn, const StoredCase *c)
{
    char key[CASES_ACCOUNT_KEY_MAX + 2 + CASES_ID_MAX];
    MDB_val k, empty = {0, ""};
    int rc = ever_key(c, key, &k);
    return rc ? rc : mdb_put(txn, self->ever, &k, &empty, 0);
}

int cases_save(cases_t *self, MDB_txn *txn, const StoredCase *before, const StoredCase *after)
{
    assert(after->case_id && (!before || strcmp(before->case_id, after->case_id) == 0));
    if (strlen(after->case_id) > CASES_ID_MAX)
        return CASES_EKEY;
    size_t len = arrears__stored_case__get_packed_size(after);
    if (len > sizeof self->plain)
        return CASES_ETOO_LARGE;
    arrears__stored_case__pack(after, self->plain);
    MDB_val k = {strlen(after->case_id), after->case_id}, v = {len, self->plain};
    int rc = mdb_put(txn, self->cases, &k, &v, 0);
    rc = rc || !before ? rc : index_case(self, txn, before, false);
    rc = rc || before ? rc : index_ever(self, txn, after);
    return rc ? rc : index_case(self, txn, after, true);
}

static int index_ever_visit(const StoredCase *c, void *arg)
{
    void **a = arg;
    return index_ever(a[0], a[1], c);
}

/* Cases saved before legal.ever existed are indexed by one walk, the first time it is
 * read (meta "ever_indexed"): the table then holds every case. */
static int ever_complete(cases_t *self, MDB_txn *txn)
{
    uint64_t done = 0;
    int rc = cases_meta_get(self, txn, "ever_indexed", 0, &done);
    if (rc != 0 || done)
        return rc;
    void *a[2] = {self, txn};
    rc = cases_each(self, txn, index_ever_visit, a);
    return rc ? rc : cases_meta_put(self, txn, "ever_indexed", 1);
}

int cases_ever_of_account(cases_t *self, MDB_txn *txn, const char *platform,
                          const char *account_ref, size_t max, char (*ids)[CASES_ID_MAX + 1],
                          size_t *n)
{
    *n = 0;
    StoredCase probe = STORED_CASE__INIT;
    probe.platform = (char *)platform;
    probe.account_ref = (char *)account_ref;
    probe.case_id = "";
    char key[CASES_ACCOUNT_KEY_MAX + 2 + CASES_ID_MAX];
    MDB_val k, v;
    MDB_cursor *cur = NULL;
    int rc = ever_complete(self, txn);
    rc = rc ? rc : ever_key(&probe, key, &k);
    size_t prefix = k.mv_size;
    rc = rc ? rc : mdb_cursor_open(txn, self->ever, &cur);
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        size_t id = k.mv_size - prefix;
        if (k.mv_size <= prefix || memcmp(k.mv_data, key, prefix) != 0 || id > CASES_ID_MAX)
            break;
        memcpy(ids[*n], (uint8_t *)k.mv_data + prefix, id);
        ids[(*n)++][id] = '\0';
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_of_account(cases_t *self, MDB_txn *txn, const char *platform,
                     const char *account_ref, char id[CASES_ID_MAX + 1])
{
    id[0] = '\0';
    StoredCase probe = STORED_CASE__INIT;
    probe.platform = (char *)platform;
    probe.account_ref = (char *)account_ref;
    char account[CASES_ACCOUNT_KEY_MAX + 1];
    int rc = account_key(&probe, account);
    if (rc != 0)
        return rc;
    MDB_val k = {strlen(account), account}, v;
    rc = mdb_get(txn, self->accounts, &k, &v);
    if (rc == 0 && v.mv_size <= CASES_ID_MAX) {
        memcpy(id, v.mv_data, v.mv_size);
        id[v.mv_size] = '\0';
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ---------------------------------------------------------------- taken */

#define TAKEN_KEY_MAX (CASES_ACCOUNT_KEY_MAX + 1 + 32 + 1 + 8 + 64)

static int taken_key(const cases_taken_t *t, uint8_t key[TAKEN_KEY_MAX], MDB_val *k)
{
    StoredCase probe = STORED_CASE__INIT;
    probe.platform = (char *)t->platform;
    probe.account_ref = (char *)t->account_ref;
    char account[CASES_ACCOUNT_KEY_MAX + 1];
    int rc = account_key(&probe, account);
    size_t a = strlen(account), w = strlen(t->what), r = t->reference ? strlen(t->reference) : 0;
    if (rc != 0 || w > 32 || r > 64)
        return rc ? rc : CASES_EKEY;
    memcpy(key, account, a + 1);
    memcpy(key + a + 1, t->what, w + 1);
    store_put_u64(key + a + w + 2, (uint64_t)t->at_ms);
    memcpy(key + a + w + 10, t->reference ? t->reference : "", r);
    *k = (MDB_val){a + w + 10 + r, key};
    return 0;
}

int cases_taken(cases_t *self, MDB_txn *txn, const cases_taken_t *key, bool *seen)
{
    uint8_t buf[TAKEN_KEY_MAX];
    MDB_val k, v;
    int rc = taken_key(key, buf, &k);
    rc = rc ? rc : mdb_get(txn, self->taken, &k, &v);
    *seen = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_take(cases_t *self, MDB_txn *txn, const cases_taken_t *key)
{
    uint8_t buf[TAKEN_KEY_MAX];
    MDB_val k, v = {0, ""};
    int rc = taken_key(key, buf, &k);
    return rc ? rc : mdb_put(txn, self->taken, &k, &v, 0);
}

/* ---------------------------------------------------------------- recoveries */

static int recovery_key(const char *case_id, const char *ref, uint8_t key[CASES_ID_MAX + 66],
                        MDB_val *k)
{
    size_t n = strlen(case_id), r = strlen(ref);
    if (n > CASES_ID_MAX || r > 64)
        return CASES_EKEY;
    memcpy(key, case_id, n);
    key[n] = 0;
    memcpy(key + n + 1, ref, r);
    *k = (MDB_val){n + 1 + r, key};
    return 0;
}

int cases_recovery_get(cases_t *self, MDB_txn *txn, const char *case_id, const char *ref,
                       bool *known, int64_t *amount_minor)
{
    uint8_t key[CASES_ID_MAX + 66];
    MDB_val k, v;
    *known = false;
    int rc = recovery_key(case_id, ref, key, &k);
    rc = rc ? rc : mdb_get(txn, self->recoveries, &k, &v);
    if (rc == 0 && v.mv_size == 8) {
        *known = true;
        *amount_minor = (int64_t)store_get_u64(v.mv_data);
    }
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_recovery_put(cases_t *self, MDB_txn *txn, const char *case_id, const char *ref,
                       int64_t amount_minor)
{
    uint8_t key[CASES_ID_MAX + 66], b[8];
    MDB_val k;
    int rc = recovery_key(case_id, ref, key, &k);
    store_put_u64(b, (uint64_t)amount_minor);
    MDB_val v = {sizeof b, b};
    return rc ? rc : mdb_put(txn, self->recoveries, &k, &v, 0);
}

/* ---------------------------------------------------------------- scans */

static int take_id(const uint8_t *data, size_t len, char (*ids)[CASES_ID_MAX + 1], size_t *n)
{
    if (len > CASES_ID_MAX)
        return CASES_ECORRUPT;
    memcpy(ids[*n], data, len);
    ids[(*n)++][len] = '\0';
    return 0;
}

/* The ids of a timed table in time order; stop_after_ms bounds the instants taken. */
static int timed_ids(MDB_txn *txn, MDB_dbi dbi, int64_t stop_after_ms, size_t max,
                     char (*ids)[CASES_ID_MAX + 1], size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < 9)
            rc = CASES_ECORRUPT;
        if (rc != 0 || (int64_t)store_get_u64(k.mv_data) > stop_after_ms)
            break;
        rc = take_id((uint8_t *)k.mv_data + 8, k.mv_size - 8, ids, n);
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_due(cases_t *self, MDB_txn *txn, int64_t now_ms, size_t max,
              char (*ids)[CASES_ID_MAX + 1], size_t *n)
{
    return timed_ids(txn, self->due, now_ms, max, ids, n);
}

int cases_waiting(cases_t *self, MDB_txn *txn, const char *after_id, size_t max,
                  char (*ids)[CASES_ID_MAX + 1], size_t *n)
{
    *n = 0;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->waiting, &cur);
    MDB_val k = {strlen(after_id), (void *)after_id}, v;
    rc = rc ? rc : mdb_cursor_get(cur, &k, &v, *after_id ? MDB_SET_RANGE : MDB_FIRST);
    for (; rc == 0 && *n < max; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size == strlen(after_id) && memcmp(k.mv_data, after_id, k.mv_size) == 0)
            continue;   /* strictly after */
        rc = take_id(k.mv_data, k.mv_size, ids, n);
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_next_due(cases_t *self, MDB_txn *txn, int64_t *due_ms)
{
    *due_ms = INT64_MAX;
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->due, &cur);
    MDB_val k, v;
    rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && k.mv_size >= 8)
        *due_ms = (int64_t)store_get_u64(k.mv_data);
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_of_assignee(cases_t *self, MDB_txn *txn, const char *assignee, const char *after_id,
                      size_t max, char (*ids)[CASES_ID_MAX + 1], size_t *n)
{
    *n = 0;
    size_t a = strlen(assignee), after = after_id ? strlen(after_id) : 0;
    if (a > 64 || after > CASES_ID_MAX)
        return CASES_EKEY;
    uint8_t seek[64 + 1 + CASES_ID_MAX + 1];
    memcpy(seek, assignee, a);
    seek[a] = 0;
    memcpy(seek + a + 1, after_id ? after_id : "", after);
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->assignees, &cur);
    MDB_val k = {a + 1 + after, seek}, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && *n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *key = k.mv_data;
        if (k.mv_size <= a + 1 || memcmp(key, seek, a + 1) != 0)
            break;   /* past this assignee's entries */
        size_t id_len = k.mv_size - a - 1;
        if (after && id_len == after && memcmp(key + a + 1, after_id, after) == 0)
            continue;   /* strictly after */
        rc = take_id(key + a + 1, id_len, ids, n);
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int cases_each(cases_t *self, MDB_txn *txn, cases_visit_fn *visit, void *arg)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(txn, self->cases, &cur);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        StoredCase *c = arrears__stored_case__unpack(NULL, v.mv_size, v.mv_data);
        if (!c) {
            rc = CASES_ECORRUPT;
            break;
        }
        rc = visit(c, arg);
        arrears__stored_case__free_unpacked(c, NULL);
        if (rc != 0)
            break;
    }
    if (cur)
        mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static int dump_case(const StoredCase *c, void *arg)
{
    FILE *out = arg;
    fputs("{\"table\":\"case\",\"case\":", out);
    int rc = pbjson_print(out, &c->base);
    fputs("}\n", out);
    return rc;
}

int cases_dump(cases_t *self, MDB_txn *txn, FILE *out)
{
    return cases_each(self, txn, dump_case, out);
}
