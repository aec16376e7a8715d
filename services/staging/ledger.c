/* ledger: staging's stored accounts (see ledger.h). */
#include "ledger.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erasure.h"
#include "pbjson.h"
#include "staging_store.pb-c.h"
#include "tz.h"

#define KEY_MAX (ACCOUNT_PLATFORM_MAX + 1 + ACCOUNT_REF_MAX)
#define BORROWER_MAX_BYTES (64 * 1024)   /* a Borrower within intake's limits is far below */
#define ENTRY_MAX_BYTES 1024

struct ledger {
    MDB_dbi keys, accounts, borrowers, timeline, persons, payments, meta, zones, vulnerable;
    crypt_t *crypt;
    record_t *record;
    uint8_t plain[BORROWER_MAX_BYTES];
    uint8_t sealed[BORROWER_MAX_BYTES + CRYPT_OVERHEAD_BYTES];
};

int ledger_open(store_t *store, crypt_t *crypt, ledger_t **self_p)
{
    ledger_t *self = calloc(1, sizeof *self);
    if (!self)
        return LEDGER_ENOMEM;
    self->crypt = crypt;
    self->record = record_new();
    int rc = self->record ? 0 : LEDGER_ENOMEM;
    rc = rc ? rc : store_table(store, "staging.keys", 0, &self->keys);
    rc = rc ? rc : store_table(store, "staging.accounts", 0, &self->accounts);
    rc = rc ? rc : store_table(store, "staging.borrowers", 0, &self->borrowers);
    rc = rc ? rc : store_table(store, "staging.timeline", 0, &self->timeline);
    rc = rc ? rc : store_table(store, "staging.persons", MDB_DUPSORT, &self->persons);
    rc = rc ? rc : store_table(store, "staging.payments", 0, &self->payments);
    rc = rc ? rc : store_table(store, "staging.meta", 0, &self->meta);
    rc = rc ? rc : store_table(store, "staging.zones", 0, &self->zones);
    rc = rc ? rc : store_table(store, "staging.vulnerable", 0, &self->vulnerable);
    if (rc != 0) {
        ledger_destroy(&self);
        return rc;
    }
    *self_p = self;
    return LEDGER_OK;
}

void ledger_destroy(ledger_t **self_p)
{
    ledger_t *self = *self_p;
    if (!self)
        return;
    record_destroy(&self->record);
    free(self);
    *self_p = NULL;
}

static size_t account_key(const char *platform, const char *ref, char out[KEY_MAX])
{
    size_t p = strnlen(platform, ACCOUNT_PLATFORM_MAX), r = strnlen(ref, ACCOUNT_REF_MAX);
    memcpy(out, platform, p);
    out[p] = '\0';
    memcpy(out + p + 1, ref, r);
    return p + 1 + r;
}

int ledger_find(ledger_t *self, MDB_txn *txn, const char *platform, const char *account_ref,
                uint64_t *id)
{
    char key[KEY_MAX];
    MDB_val k = {account_key(platform, account_ref, key), key}, v;
    int rc = mdb_get(txn, self->keys, &k, &v);
    if (rc == MDB_NOTFOUND)
        return LEDGER_ENOTFOUND;
    if (rc != 0)
        return rc;
    if (v.mv_size != 8)
        return LEDGER_ECORRUPT;
    *id = store_get_u64(v.mv_data);
    return LEDGER_OK;
}

int ledger_create(ledger_t *self, MDB_txn *txn, const char *platform, const char *account_ref,
                  uint64_t *id)
{
    int64_t next = 0;
    int rc = ledger_meta_get(self, txn, "next_id", 1, &next);
    rc = rc ? rc : ledger_meta_put(self, txn, "next_id", next + 1);
    if (rc != 0)
        return rc;
    char key[KEY_MAX];
    uint8_t idb[8];
    store_put_u64(idb, (uint64_t)next);
    MDB_val k = {account_key(platform, account_ref, key), key}, v = {8, idb};
    rc = mdb_put(txn, self->keys, &k, &v, MDB_NOOVERWRITE);
    if (rc == 0)
        *id = (uint64_t)next;
    return rc;
}

int ledger_get(ledger_t *self, MDB_txn *txn, uint64_t id, account_t *account)
{
    uint8_t idb[8];
    store_put_u64(idb, id);
    MDB_val k = {8, idb}, v;
    int rc = mdb_get(txn, self->accounts, &k, &v);
    if (rc == MDB_NOTFOUND)
        return LEDGER_ENOTFOUND;
    if (rc != 0)
        return rc;
    return record_decode(self->record, v.mv_data, v.mv_size, account) == RECORD_OK
               ? LEDGER_OK : LEDGER_ECORRUPT;
}

int ledger_put(ledger_t *self, MDB_txn *txn, const account_t *account)
{
    const uint8_t *bytes;
    size_t len;
    int rc = record_encode(self->record, account, &bytes, &len);
    if (rc != RECORD_OK)
        return rc;
    uint8_t idb[8];
    store_put_u64(idb, account->id);
    MDB_val k = {8, idb}, v = {len, (void *)bytes};
    rc = mdb_put(txn, self->accounts, &k, &v, 0);
    if (rc == 0 && account->has_person && account->vulnerable) {
        MDB_val pk = {ACCOUNT_PERSON_KEY_BYTES, (void *)account->person_key}, empty = {0, ""};
        rc = mdb_put(txn, self->vulnerable, &pk, &empty, 0);
    }
    return rc ? rc : ledger_note_zone(self, txn, account->time_zone);
}

int ledger_person_vulnerable(ledger_t *self, MDB_txn *txn, const account_t *account, bool *yes)
{
    *yes = account->vulnerable;
    if (*yes || !account->has_person)
        return 0;
    MDB_val k = {ACCOUNT_PERSON_KEY_BYTES, (void *)account->person_key}, v;
    int rc = mdb_get(txn, self->vulnerable, &k, &v);
    *yes = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int ledger_note_zone(ledger_t *self, MDB_txn *txn, const char *zone)
{
    MDB_val k = {strlen(zone), (void *)zone}, v = {0, ""};
    if (k.mv_size == 0)
        return 0;
    int rc = mdb_put(txn, self->zones, &k, &v, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

int ledger_each_zone(ledger_t *self, MDB_txn *txn, ledger_zone_fn *visit, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->zones, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        char zone[ACCOUNT_TZ_MAX + 1];
        if (k.mv_size > ACCOUNT_TZ_MAX)
            continue;
        memcpy(zone, k.mv_data, k.mv_size);
        zone[k.mv_size] = '\0';
        if ((rc = visit(zone, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int ledger_index_person(ledger_t *self, MDB_txn *txn, const account_t *account)
{
    if (!account->has_person)
        return LEDGER_OK;
    uint8_t idb[8];
    store_put_u64(idb, account->id);
    MDB_val k = {ACCOUNT_PERSON_KEY_BYTES, (void *)account->person_key}, v = {8, idb};
    int rc = mdb_put(txn, self->persons, &k, &v, MDB_NODUPDATA);
    return rc == MDB_KEYEXIST ? LEDGER_OK : rc;
}

int ledger_put_borrower(ledger_t *self, MDB_txn *txn, uint64_t id, const Arrears__Borrower *b)
{
    uint8_t idb[8];
    store_put_u64(idb, id);
    MDB_val k = {8, idb}, v;
    int rc = mdb_get(txn, self->borrowers, &k, &v);
    if (rc == 0 && v.mv_size == 0)
        return LEDGER_OK;   /* erased: the tombstone stays */
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    size_t plain_len = arrears__borrower__get_packed_size(b);
    if (plain_len > BORROWER_MAX_BYTES)
        return RECORD_ETOO_LARGE;
    arrears__borrower__pack(b, self->plain);
    size_t sealed_len = 0;
    rc = crypt_seal(self->crypt, self->plain, plain_len, self->sealed, sizeof self->sealed,
                    &sealed_len);
    if (rc != 0)
        return rc;
    v = (MDB_val){sealed_len, self->sealed};
    return mdb_put(txn, self->borrowers, &k, &v, 0);
}

int ledger_erase_borrower(ledger_t *self, MDB_txn *txn, uint64_t id)
{
    uint8_t idb[8];
    store_put_u64(idb, id);
    MDB_val k = {8, idb}, empty = {0, ""};
    /* A put over the old value. LMDB may keep the old bytes in a free page until it
     * reuses it: they were sealed, so nothing is in clear there either. */
    return mdb_put(txn, self->borrowers, &k, &empty, 0);
}

int ledger_get_borrower(ledger_t *self, MDB_txn *txn, uint64_t id, Arrears__Borrower **b)
{
    *b = NULL;
    uint8_t idb[8];
    store_put_u64(idb, id);
    MDB_val k = {8, idb}, v;
    int rc = mdb_get(txn, self->borrowers, &k, &v);
    if (rc == MDB_NOTFOUND || (rc == 0 && v.mv_size == 0))   /* none, or erased */
        return LEDGER_OK;
    if (rc != 0)
        return rc;
    size_t plain_len = 0;
    rc = crypt_open(self->crypt, v.mv_data, v.mv_size, self->plain, sizeof self->plain, &plain_len);
    if (rc != 0)
        return rc;
    *b = arrears__borrower__unpack(NULL, plain_len, self->plain);
    return *b ? LEDGER_OK : LEDGER_ECORRUPT;
}

/* A timeline key: the account id and the entry's seq, big-endian. */
static void entry_key(uint8_t key[12], uint64_t id, uint32_t seq)
{
    store_put_u64(key, id);
    key[8] = (uint8_t)(seq >> 24), key[9] = (uint8_t)(seq >> 16);
    key[10] = (uint8_t)(seq >> 8), key[11] = (uint8_t)seq;
}

/* Writes t back over the entry of its seq. */
static int entry_rewrite(ledger_t *self, MDB_txn *txn, uint64_t id,
                         const Arrears__TimelineEntry *t)
{
    uint8_t buf[ENTRY_MAX_BYTES], key[12];
    size_t len = arrears__timeline_entry__get_packed_size(t);
    if (len > sizeof buf)
        return LEDGER_ECORRUPT;   /* never: the marker is shorter than a reason's bound */
    arrears__timeline_entry__pack(t, buf);
    entry_key(key, id, t->seq);
    MDB_val k = {sizeof key, key}, v = {len, buf};
    return mdb_put(txn, self->timeline, &k, &v, 0);
}

int ledger_erase_free_text(ledger_t *self, MDB_txn *txn, const account_t *account)
{
    ledger_entries_t entries = {0};
    int rc = ledger_load_entries(self, txn, account, &entries);
    for (size_t i = 0; rc == 0 && i < entries.count; i++) {
        Arrears__TimelineEntry *t = entries.items[i];
        char reason[ACCOUNT_REASON_MAX + sizeof ERASURE_MARKER];
        if (!erasure_entry_reason(t->actor, t->kind, t->reason, reason, sizeof reason))
            continue;
        char *unpacked = t->reason;   /* freed with the entry: restored after the write */
        t->reason = reason;
        rc = entry_rewrite(self, txn, account->id, t);
        t->reason = unpacked;
    }
    ledger_entries_free(&entries);
    return rc;
}

int ledger_append_entry(ledger_t *self, MDB_txn *txn, account_t *account, const effect_t *e,
                        int64_t now_ms)
{
    char day[TZ_DATE_LEN + 1];
    tz_date_format(e->day, day);
    Arrears__TimelineEntry t = ARREARS__TIMELINE_ENTRY__INIT;
    t.has_seq = t.has_at_ms = t.has_amount_minor = 1;
    t.seq = account->timeline_count + 1;
    t.at_ms = now_ms;
    t.day = day;
    t.actor = (char *)e->actor;
    t.kind = (char *)e->what;
    t.reason = (char *)e->reason;
    t.amount_minor = e->amount_minor;
    t.reference = e->reference[0] ? (char *)e->reference : NULL;
    t.stage = (char *)stage_name(e->stage);
    uint8_t buf[ENTRY_MAX_BYTES], key[12];
    size_t len = arrears__timeline_entry__get_packed_size(&t);
    assert(len <= sizeof buf);   /* every text field is bounded well below */
    arrears__timeline_entry__pack(&t, buf);
    entry_key(key, account->id, t.seq);
    MDB_val k = {sizeof key, key}, v = {len, buf};
    int rc = mdb_put(txn, self->timeline, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST)   /* not the table's last key: an older account's entry */
        rc = mdb_put(txn, self->timeline, &k, &v, 0);
    if (rc == 0)
        account->timeline_count = t.seq;
    return rc;
}

/* The stored bytes of an account's entries after after_seq, at most max, in order;
 * visit's non-zero return stops the walk and is returned (LEDGER_OK at the end). */
typedef int (raw_entry_fn)(const MDB_val *value, void *arg);

static int walk_entries(ledger_t *self, MDB_txn *txn, uint64_t id, uint32_t after_seq,
                        uint32_t max, raw_entry_fn *visit, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->timeline, &cur);
    if (rc != 0)
        return rc;
    uint8_t key[12];
    entry_key(key, id, after_seq + 1);
    MDB_val k = {sizeof key, key}, v;
    uint32_t n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), n++) {
        if (k.mv_size != 12 || store_get_u64(k.mv_data) != id)
            break;
        if ((rc = visit(&v, arg)) != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

typedef struct {
    ledger_entry_fn *visit;
    void *arg;
} each_entry_t;

/* A visitor's stop, within the ledger's codes so no LMDB or errno value is mistaken
 * for it; never returned to callers. */
#define STOP_WALK (-40599)

static int unpack_and_visit(const MDB_val *value, void *arg)
{
    each_entry_t *each = arg;
    Arrears__TimelineEntry *t = arrears__timeline_entry__unpack(NULL, value->mv_size,
                                                                value->mv_data);
    if (!t)
        return LEDGER_ECORRUPT;
    int stop = each->visit(t, each->arg);
    arrears__timeline_entry__free_unpacked(t, NULL);
    return stop ? STOP_WALK : 0;
}

int ledger_each_entry(ledger_t *self, MDB_txn *txn, uint64_t id, uint32_t after_seq,
                      uint32_t max, ledger_entry_fn *visit, void *arg)
{
    each_entry_t each = {visit, arg};
    int rc = walk_entries(self, txn, id, after_seq, max, unpack_and_visit, &each);
    return rc == STOP_WALK ? 0 : rc;
}

static int unpack_and_keep(const MDB_val *value, void *arg)
{
    ledger_entries_t *out = arg;   /* the walk's max is its capacity */
    Arrears__TimelineEntry *t = arrears__timeline_entry__unpack(NULL, value->mv_size,
                                                                value->mv_data);
    if (!t)
        return LEDGER_ECORRUPT;
    out->items[out->count++] = t;
    return 0;
}

int ledger_load_entries(ledger_t *self, MDB_txn *txn, const account_t *account,
                        ledger_entries_t *out)
{
    *out = (ledger_entries_t){0};
    if (account->timeline_count == 0)
        return LEDGER_OK;
    out->items = calloc(account->timeline_count, sizeof *out->items);
    if (!out->items)
        return LEDGER_ENOMEM;
    int rc = walk_entries(self, txn, account->id, 0, account->timeline_count, unpack_and_keep,
                          out);
    if (rc != 0)
        ledger_entries_free(out);
    return rc;
}

void ledger_entries_free(ledger_entries_t *entries)
{
    for (size_t i = 0; i < entries->count; i++)
        arrears__timeline_entry__free_unpacked(entries->items[i], NULL);
    free(entries->items);
    *entries = (ledger_entries_t){0};
}

static size_t payment_key(uint64_t id, const char *payment_ref,
                          uint8_t key[8 + ACCOUNT_REFERENCE_MAX])
{
    size_t n = strnlen(payment_ref ? payment_ref : "", ACCOUNT_REFERENCE_MAX);
    store_put_u64(key, id);
    memcpy(key + 8, payment_ref, n);
    return 8 + n;
}

int ledger_payment_seen(ledger_t *self, MDB_txn *txn, uint64_t id, const char *payment_ref,
                        bool *seen)
{
    uint8_t key[8 + ACCOUNT_REFERENCE_MAX];
    MDB_val k = {payment_key(id, payment_ref, key), key}, v;
    int rc = mdb_get(txn, self->payments, &k, &v);
    *seen = rc == 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int ledger_note_payment(ledger_t *self, MDB_txn *txn, uint64_t id, const char *payment_ref,
                        int64_t amount_minor, bool *seen)
{
    uint8_t key[8 + ACCOUNT_REFERENCE_MAX], val[8];
    store_put_u64(val, (uint64_t)amount_minor);
    MDB_val k = {payment_key(id, payment_ref, key), key}, v = {8, val};
    int rc = mdb_put(txn, self->payments, &k, &v, MDB_NOOVERWRITE);
    *seen = rc == MDB_KEYEXIST;
    return *seen ? 0 : rc;
}

int ledger_next(ledger_t *self, MDB_txn *txn, uint64_t after_id, account_t *account)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->accounts, &cur);
    if (rc != 0)
        return rc;
    uint8_t key[8];
    store_put_u64(key, after_id + 1);
    MDB_val k = {8, key}, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0)
        rc = record_decode(self->record, v.mv_data, v.mv_size, account) == RECORD_OK
                 ? LEDGER_OK : LEDGER_ECORRUPT;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? LEDGER_ENOTFOUND : rc;
}

int ledger_meta_get(ledger_t *self, MDB_txn *txn, const char *name, int64_t dflt, int64_t *value)
{
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, self->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *value = dflt;
        return 0;
    }
    if (rc == 0 && v.mv_size != 8)
        return LEDGER_ECORRUPT;
    if (rc == 0)
        *value = (int64_t)store_get_u64(v.mv_data);
    return rc;
}

int ledger_meta_put(ledger_t *self, MDB_txn *txn, const char *name, int64_t value)
{
    uint8_t buf[8];
    store_put_u64(buf, (uint64_t)value);
    MDB_val k = {strlen(name), (void *)name}, v = {8, buf};
    return mdb_put(txn, self->meta, &k, &v, 0);
}

static int dump_table(MDB_txn *txn, MDB_dbi dbi, const ProtobufCMessageDescriptor *desc, FILE *out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        ProtobufCMessage *m = protobuf_c_message_unpack(desc, NULL, v.mv_size, v.mv_data);
        if (!m) {
            rc = LEDGER_ECORRUPT;
            break;
        }
        rc = pbjson_print(out, m);
        if (rc == 0 && fputc('\n', out) == EOF)
            rc = -1;
        protobuf_c_message_free_unpacked(m, NULL);
        if (rc != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int ledger_dump(ledger_t *self, MDB_txn *txn, FILE *out)
{
    int rc = dump_table(txn, self->accounts, &arrears__stored_account__descriptor, out);
    return rc ? rc : dump_table(txn, self->timeline, &arrears__timeline_entry__descriptor, out);
}

const char *ledger_strerror(int code)
{
    switch (code) {
    case LEDGER_OK: return "ok";
    case LEDGER_ENOTFOUND: return "no such account";
    case LEDGER_ECORRUPT: return "a stored staging record does not decode";
    case LEDGER_ENOMEM: return "out of memory";
    default: return record_strerror(code);
    }
}
