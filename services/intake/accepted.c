/* accepted: see accepted.h. Content hashes are BLAKE2b-256 of the message as
 * protobuf-c packs it (deterministic for the same decoded content). */
#include "accepted.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "pbjson.h"
#include "shards.h"

#define KEY_MAX (INBOX_PRINCIPAL_MAX + 1 + 64)
#define HASH_BYTES 32
#define ACCOUNT_HEAD_BYTES (8 + 3 + 1 + HASH_BYTES)

struct accepted {
    crypt_t *crypt;
    MDB_dbi accounts;
    MDB_dbi payments;
    MDB_dbi complaints;
    MDB_dbi status;
    MDB_dbi persons;
    uint8_t person_key[CRYPT_DERIVED_BYTES];   /* keys the persons table's hashes */
};

/* The flags byte of an account record: two flags and, in its high nibble, the staging
 * shard the account was placed on. A record from before shards has 0 there: shard 0,
 * the one staging there was. */
#define FLAG_RECALLED 1
#define FLAG_ERASED 2   /* retention: the sealed upsert is an empty message */
#define SHARD_SHIFT 4
_Static_assert(SHARDS_MAX <= 1 << (8 - SHARD_SHIFT), "a shard fits the flags byte's nibble");

typedef struct {
    uint64_t version;
    char currency[4];
    int recalled;
    int erased;
    uint32_t shard;
    uint8_t hash[HASH_BYTES];
    const uint8_t *sealed;   /* into the map: valid until the next write */
    size_t sealed_len;
} account_rec_t;

static int placement_move(MDB_txn *txn, void *arg);

int accepted_open(store_t *store, crypt_t *crypt, accepted_t **self_p)
{
    accepted_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->crypt = crypt;
    int rc = store_table(store, "accounts", 0, &self->accounts);
    rc = rc ? rc : store_table(store, "payments", 0, &self->payments);
    rc = rc ? rc : store_table(store, "complaints", 0, &self->complaints);
    rc = rc ? rc : store_table(store, "status", 0, &self->status);
    rc = rc ? rc : store_table(store, "persons", 0, &self->persons);
    rc = rc ? rc : crypt_derive(crypt, "persons_", 0, self->person_key);
    rc = rc ? rc : store_write(store, placement_move, self);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

accepted_tables_t accepted_tables(const accepted_t *self)
{
    return (accepted_tables_t){ self->crypt, self->accounts, self->payments, self->complaints,
                                self->status, self->persons };
}

void accepted_destroy(accepted_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

static MDB_val natural_key(uint8_t key[KEY_MAX], const char *platform, const char *ref)
{
    size_t plen = strnlen(platform, INBOX_PRINCIPAL_MAX), rlen = strnlen(ref, 64);
    memcpy(key, platform, plen);
    key[plen] = 0;
    memcpy(key + plen + 1, ref, rlen);
    return (MDB_val){ plen + 1 + rlen, key };
}

static void content_hash(const ProtobufCMessage *m, uint8_t hash[HASH_BYTES], uint8_t **packed,
                         size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    *packed = malloc(*len ? *len : 1);
    if (*packed) {
        protobuf_c_message_pack(m, *packed);
        crypto_generichash(hash, HASH_BYTES, *packed, *len, NULL, 0);
    }
}

static int account_get(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                       account_rec_t *rec)
{
    uint8_t key[KEY_MAX];
    MDB_val k = natural_key(key, platform, ref), v;
    int rc = mdb_get(txn, self->accounts, &k, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size < ACCOUNT_HEAD_BYTES + CRYPT_OVERHEAD_BYTES)
        return MDB_CORRUPTED;
    const uint8_t *p = v.mv_data;
    rec->version = store_get_u64(p);
    memcpy(rec->currency, p + 8, 3);
    rec->currency[3] = 0;
    rec->recalled = (p[11] & FLAG_RECALLED) != 0;
    rec->erased = (p[11] & FLAG_ERASED) != 0;
    rec->shard = p[11] >> SHARD_SHIFT;
    memcpy(rec->hash, p + 12, HASH_BYTES);
    rec->sealed = p + ACCOUNT_HEAD_BYTES;
    rec->sealed_len = v.mv_size - ACCOUNT_HEAD_BYTES;
    return 0;
}

int accepted_shard_of(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                      uint32_t *shard)
{
    account_rec_t rec;
    int rc = account_get(self, txn, platform, ref, &rec);
    *shard = rc == 0 ? rec.shard : 0;
    return rc;
}

/* The persons table's key: keyed BLAKE2b of platform NUL id-number hash. An id-number
 * hash alone could be found again by hashing every possible number; keyed, it cannot
 * without intake's secret. */
static MDB_val person_key(const accepted_t *self, const char *platform, const uint8_t *id_hash,
                          size_t id_len, uint8_t out[HASH_BYTES])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, self->person_key, sizeof self->person_key, HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)platform, strlen(platform) + 1);
    crypto_generichash_update(&st, id_hash, id_len);
    crypto_generichash_final(&st, out, HASH_BYTES);
    return (MDB_val){ HASH_BYTES, out };
}

int accepted_person_shard(accepted_t *self, MDB_txn *txn, const char *platform,
                          const ProtobufCBinaryData *id_hash, uint32_t count, uint32_t *shard)
{
    uint8_t key[HASH_BYTES];
    MDB_val k = person_key(self, platform, id_hash->data, id_hash->len, key), v;
    int rc = mdb_get(txn, self->persons, &k, &v);
    if (rc == 0 && v.mv_size != 1)
        return MDB_CORRUPTED;
    if (rc == 0)
        *shard = *(const uint8_t *)v.mv_data;
    else if (rc == MDB_NOTFOUND)
        *shard = shard_of_person(platform, id_hash->data, id_hash->len, count);
    return rc;
}

int accepted_place_person(accepted_t *self, MDB_txn *txn, const char *platform,
                          const ProtobufCBinaryData *id_hash, uint32_t shard)
{
    assert(shard < SHARDS_MAX);
    uint8_t key[HASH_BYTES], byte = (uint8_t)shard;
    MDB_val k = person_key(self, platform, id_hash->data, id_hash->len, key), v = { 1, &byte };
    /* The person's first account decides; later ones found it and went there already. */
    int rc = mdb_put(txn, self->persons, &k, &v, MDB_NOOVERWRITE);
    return rc == MDB_KEYEXIST ? 0 : rc;
}

/* Seals packed and writes the account record in one reserved value. */
static int account_put(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                       const account_rec_t *rec, const uint8_t *packed, size_t len)
{
    uint8_t key[KEY_MAX];
    MDB_val k = natural_key(key, platform, ref), v = { ACCOUNT_HEAD_BYTES + len + CRYPT_OVERHEAD_BYTES, NULL };
    int rc = mdb_put(txn, self->accounts, &k, &v, MDB_RESERVE);
    if (rc != 0)
        return rc;
    uint8_t *p = v.mv_data;
    store_put_u64(p, rec->version);
    memcpy(p + 8, rec->currency, 3);
    p[11] = (uint8_t)((rec->recalled ? FLAG_RECALLED : 0) | (rec->erased ? FLAG_ERASED : 0) |
                      rec->shard << SHARD_SHIFT);
    memcpy(p + 12, rec->hash, HASH_BYTES);
    size_t sealed_len;
    return crypt_seal(self->crypt, packed, len, p + ACCOUNT_HEAD_BYTES,
                      len + CRYPT_OVERHEAD_BYTES, &sealed_len);
}

/* Rewrites the record under k with bits added to its flags byte, the rest unchanged
 * (the sealed upsert stays sealed as it was). */
static int account_add_flags(accepted_t *self, MDB_txn *txn, MDB_val *k, uint8_t bits)
{
    MDB_val v;
    int rc = mdb_get(txn, self->accounts, k, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size < ACCOUNT_HEAD_BYTES)
        return MDB_CORRUPTED;
    uint8_t *copy = malloc(v.mv_size);   /* v points into the map, which the put changes */
    if (!copy)
        return ENOMEM;
    memcpy(copy, v.mv_data, v.mv_size);
    copy[11] |= bits;
    MDB_val nv = { v.mv_size, copy };
    rc = mdb_put(txn, self->accounts, k, &nv, 0);
    free(copy);
    return rc;
}

/* The store of the release before this one kept each account's shard in a table
 * "placement" (platform NUL ref -> one byte). Its placements move into the account
 * records and the table is dropped, in one transaction at open, so no message pays a
 * second lookup. Shard 0 needs no move: a record without a shard reads as 0. */
static int placement_move(MDB_txn *txn, void *arg)
{
    accepted_t *self = arg;
    MDB_dbi dbi;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_dbi_open(txn, "placement", 0, &dbi);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;   /* a new store, or moved before */
    if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        uint8_t shard = v.mv_size == 1 ? *(const uint8_t *)v.mv_data : UINT8_MAX;
        if (shard >= SHARDS_MAX)
            rc = MDB_CORRUPTED;
        else if (shard != 0)
            rc = account_add_flags(self, txn, &k, (uint8_t)(shard << SHARD_SHIFT));
        if (rc == MDB_NOTFOUND)   /* a placement without its account: no release wrote one */
            rc = MDB_CORRUPTED;
        if (rc != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? mdb_drop(txn, dbi, 1) : rc;
}

static int refuse(accepted_outcome_t *outcome, reject_t *reject, Arrears__Reject__Code code,
                  const char *field, const char *why, const char *ref)
{
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, code, field, "%s: %s", why, ref);
    *outcome = ACCEPTED_REFUSED;
    return 0;
}

/* Once its personal data is erased an account takes no new borrower data: bringing the
 * borrower back under the same ref would undo the erasure. */
static int refuse_erased(accepted_outcome_t *outcome, reject_t *reject, const char *ref)
{
    return refuse(outcome, reject, ARREARS__REJECT__CODE__CONFLICT, "account_ref",
                  "the account was closed and its borrower's personal data erased under the "
                  "retention rules; send a new account under a new ref", ref);
}

int accepted_upsert(accepted_t *self, MDB_txn *txn, const char *platform,
                    const Arrears__AccountUpsert *m, uint32_t shard, uint64_t *version,
                    accepted_outcome_t *outcome, reject_t *reject)
{
    (void)reject;
    account_rec_t old, rec = { 0 };
    int rc = account_get(self, txn, platform, m->account_ref, &old);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    uint8_t *packed;
    size_t len;
    content_hash(&m->base, rec.hash, &packed, &len);
    if (!packed)
        return ENOMEM;
    if (rc == 0 && memcmp(old.hash, rec.hash, HASH_BYTES) == 0) {
        *outcome = ACCEPTED_SAME;
        *version = old.version;
        free(packed);
        return 0;
    }
    if (rc == 0 && old.erased) {
        free(packed);
        return refuse_erased(outcome, reject, m->account_ref);
    }
    rec.version = rc == 0 ? old.version + 1 : 1;
    rec.recalled = rc == 0 ? old.recalled : 0;
    rec.shard = rc == 0 ? old.shard : shard;   /* placed for good when first accepted */
    memcpy(rec.currency, m->currency, 3);
    rc = account_put(self, txn, platform, m->account_ref, &rec, packed, len);
    free(packed);
    *outcome = ACCEPTED_NEW;
    *version = rec.version;
    return rc;
}

/* Payments and complaints: idempotent by ref, the content hash deciding same/conflict. */
static int by_ref(accepted_t *self, MDB_txn *txn, MDB_dbi dbi, const char *platform,
                  const char *ref, const ProtobufCMessage *m, int sealed,
                  accepted_outcome_t *outcome, reject_t *reject)
{
    uint8_t key[KEY_MAX], hash[HASH_BYTES], *packed;
    size_t len;
    content_hash(m, hash, &packed, &len);
    if (!packed)
        return ENOMEM;
    MDB_val k = natural_key(key, platform, ref), v;
    int rc = mdb_get(txn, dbi, &k, &v);
    if (rc == 0) {
        int same = v.mv_size >= HASH_BYTES && memcmp(v.mv_data, hash, HASH_BYTES) == 0;
        *outcome = same ? ACCEPTED_SAME : ACCEPTED_REFUSED;
        if (!same)
            refuse(outcome, reject, ARREARS__REJECT__CODE__CONFLICT, NULL,
                   "this ref was already accepted with different content", ref);
    } else if (rc == MDB_NOTFOUND) {
        v.mv_size = HASH_BYTES + len + (sealed ? CRYPT_OVERHEAD_BYTES : 0);
        rc = mdb_put(txn, dbi, &k, &v, MDB_RESERVE);
        if (rc == 0) {
            memcpy(v.mv_data, hash, HASH_BYTES);
            size_t out;
            if (sealed)
                rc = crypt_seal(self->crypt, packed, len, (uint8_t *)v.mv_data + HASH_BYTES,
                                len + CRYPT_OVERHEAD_BYTES, &out);
            else
                memcpy((uint8_t *)v.mv_data + HASH_BYTES, packed, len);
        }
        *outcome = ACCEPTED_NEW;
    }
    free(packed);
    return rc;
}

static int account_must_exist(accepted_t *self, MDB_txn *txn, const char *platform,
                              const char *ref, account_rec_t *rec, accepted_outcome_t *outcome,
                              reject_t *reject, int *found)
{
    int rc = account_get(self, txn, platform, ref, rec);
    *found = rc == 0;
    if (rc == MDB_NOTFOUND) {
        refuse(outcome, reject, ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref",
               "no account with this ref was sent by this platform", ref);
        return 0;
    }
    return rc;
}

static int status_get(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                      Arrears__AccountStatus **status)
{
    uint8_t key[KEY_MAX];
    MDB_val k = natural_key(key, platform, ref), v;
    int rc = mdb_get(txn, self->status, &k, &v);
    *status = rc == 0 ? arrears__account_status__unpack(NULL, v.mv_size, v.mv_data) : NULL;
    if (rc == 0 && !*status)
        return MDB_CORRUPTED;
    return rc;
}

static int status_put(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                      const Arrears__AccountStatus *status)
{
    uint8_t key[KEY_MAX], value[1024];
    size_t len = arrears__account_status__get_packed_size(status);
    if (len > sizeof value)
        return EMSGSIZE;
    arrears__account_status__pack(status, value);
    MDB_val k = natural_key(key, platform, ref), v = { len, value };
    return mdb_put(txn, self->status, &k, &v, 0);
}

static int count_payment(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref)
{
    Arrears__AccountStatus *old = NULL, fresh = ARREARS__ACCOUNT_STATUS__INIT;
    int rc = status_get(self, txn, platform, ref, &old);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    Arrears__AccountStatus *s = old ? old : &fresh;
    s->has_payments_received = 1;
    s->payments_received++;
    rc = status_put(self, txn, platform, ref, s);
    if (old)
        arrears__account_status__free_unpacked(old, NULL);
    return rc;
}

int accepted_payment(accepted_t *self, MDB_txn *txn, const char *platform,
                     const Arrears__PaymentPosted *m, accepted_outcome_t *outcome,
                     reject_t *reject)
{
    account_rec_t acc;
    int found;
    int rc = account_must_exist(self, txn, platform, m->account_ref, &acc, outcome, reject, &found);
    if (rc != 0 || !found)
        return rc;
    if (strcmp(acc.currency, m->currency) != 0)
        return refuse(outcome, reject, ARREARS__REJECT__CODE__INVALID_FIELD, "currency",
                      "the payment's currency differs from the account's", acc.currency);
    /* Sealed too: a newer platform's fields we do not know may be personal. */
    rc = by_ref(self, txn, self->payments, platform, m->payment_ref, &m->base, 1, outcome, reject);
    if (rc == 0 && *outcome == ACCEPTED_NEW)
        rc = count_payment(self, txn, platform, m->account_ref);
    return rc;
}

int accepted_complaint(accepted_t *self, MDB_txn *txn, const char *platform,
                       const Arrears__Complaint *m, accepted_outcome_t *outcome,
                       reject_t *reject)
{
    account_rec_t acc;
    int found;
    int rc = account_must_exist(self, txn, platform, m->account_ref, &acc, outcome, reject, &found);
    if (rc != 0 || !found)
        return rc;
    return by_ref(self, txn, self->complaints, platform, m->complaint_ref, &m->base, 1, outcome,
                  reject);
}

int accepted_recall(accepted_t *self, MDB_txn *txn, const char *platform,
                    const Arrears__Recall *m, accepted_outcome_t *outcome, reject_t *reject)
{
    account_rec_t acc;
    int found;
    int rc = account_must_exist(self, txn, platform, m->account_ref, &acc, outcome, reject, &found);
    if (rc != 0 || !found)
        return rc;
    if (acc.recalled) {
        *outcome = ACCEPTED_SAME;
        return 0;
    }
    uint8_t key[KEY_MAX];
    MDB_val k = natural_key(key, platform, m->account_ref);
    *outcome = ACCEPTED_NEW;
    return account_add_flags(self, txn, &k, FLAG_RECALLED);
}

static Arrears__AccountUpsert *account_open(accepted_t *self, const account_rec_t *rec)
{
    uint8_t *plain = malloc(rec->sealed_len);
    size_t len;
    Arrears__AccountUpsert *u = NULL;
    if (plain && crypt_open(self->crypt, rec->sealed, rec->sealed_len, plain, rec->sealed_len,
                            &len) == CRYPT_OK)
        u = arrears__account_upsert__unpack(NULL, len, plain);
    free(plain);
    return u;
}

/* The contact change on the decoded account: the lists point into m until restored. */
typedef struct {
    size_t n_phones, n_emails;
    Arrears__ContactPoint **phones, **emails;
    Arrears__Address *address;
} contact_saved_t;

static void contact_swap_in(Arrears__Borrower *b, const Arrears__ContactUpdate *m, contact_saved_t *saved)
{
    *saved = (contact_saved_t){ b->n_phones, b->n_emails, b->phones, b->emails, b->address };
    if (m->clear_phones || m->n_phones) {
        b->n_phones = m->n_phones;
        b->phones = m->phones;
    }
    if (m->clear_emails || m->n_emails) {
        b->n_emails = m->n_emails;
        b->emails = m->emails;
    }
    if (m->address)
        b->address = m->address;
}

static void contact_swap_out(Arrears__Borrower *b, const contact_saved_t *saved)
{
    b->n_phones = saved->n_phones;
    b->phones = saved->phones;
    b->n_emails = saved->n_emails;
    b->emails = saved->emails;
    b->address = saved->address;
}

int accepted_contact(accepted_t *self, MDB_txn *txn, const char *platform,
                     const Arrears__ContactUpdate *m, uint64_t *version,
                     accepted_outcome_t *outcome, reject_t *reject)
{
    account_rec_t acc;
    int found;
    int rc = account_must_exist(self, txn, platform, m->account_ref, &acc, outcome, reject, &found);
    if (rc != 0 || !found)
        return rc;
    if (acc.erased)
        return refuse_erased(outcome, reject, m->account_ref);
    Arrears__AccountUpsert *u = account_open(self, &acc);
    if (!u || !u->borrower) {
        if (u)
            arrears__account_upsert__free_unpacked(u, NULL);
        return MDB_CORRUPTED;
    }
    contact_saved_t saved;
    contact_swap_in(u->borrower, m, &saved);
    account_rec_t rec = acc;
    uint8_t *packed;
    size_t len;
    content_hash(&u->base, rec.hash, &packed, &len);
    contact_swap_out(u->borrower, &saved);
    arrears__account_upsert__free_unpacked(u, NULL);
    if (!packed)
        return ENOMEM;
    *outcome = memcmp(rec.hash, acc.hash, HASH_BYTES) == 0 ? ACCEPTED_SAME : ACCEPTED_NEW;
    rec.version = acc.version + (*outcome == ACCEPTED_NEW);
    *version = rec.version;
    if (*outcome == ACCEPTED_NEW)
        rc = account_put(self, txn, platform, m->account_ref, &rec, packed, len);
    free(packed);
    return rc;
}

int accepted_note_status(accepted_t *self, MDB_txn *txn, const Arrears__StatusEvent *m)
{
    const Arrears__FeedEvent *e = m->event;
    Arrears__AccountStatus *old = NULL, fresh = ARREARS__ACCOUNT_STATUS__INIT;
    int rc = status_get(self, txn, m->platform, e->account_ref, &old);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    Arrears__AccountStatus *s = old ? old : &fresh;
    char *stage = s->stage, *currency = s->currency;   /* owned by old: restored below */
    if (e->stage)
        s->stage = e->stage;
    if (e->currency)
        s->currency = e->currency;
    if (e->has_days_past_due) {
        s->has_days_past_due = 1;
        s->days_past_due = e->days_past_due;
    }
    if (e->has_outstanding_minor) {
        s->has_outstanding_minor = 1;
        s->outstanding_minor = e->outstanding_minor;
    }
    s->has_contact_on_hold = m->has_contact_on_hold || s->has_contact_on_hold;
    s->contact_on_hold = m->has_contact_on_hold ? m->contact_on_hold : s->contact_on_hold;
    s->has_closed = m->has_closed || s->has_closed;
    s->closed = m->has_closed ? m->closed : s->closed;
    s->has_updated_at_ms = 1;
    s->updated_at_ms = e->at_ms;
    rc = status_put(self, txn, m->platform, e->account_ref, s);
    s->stage = stage;
    s->currency = currency;
    if (old)
        arrears__account_status__free_unpacked(old, NULL);
    return rc;
}

size_t accepted_status_reply(accepted_t *self, MDB_txn *txn, const char *platform,
                             const char *account_ref, uint64_t request_id, uint8_t *buf,
                             size_t cap, int *error)
{
    account_rec_t acc = { 0 };
    Arrears__AccountStatus *stored = NULL, fresh = ARREARS__ACCOUNT_STATUS__INIT;
    int rc = account_get(self, txn, platform, account_ref, &acc);
    int known = rc == 0;
    if (known)
        rc = status_get(self, txn, platform, account_ref, &stored);
    *error = rc == MDB_NOTFOUND ? 0 : rc;
    if (*error != 0)
        return 0;
    Arrears__AccountStatus *s = stored ? stored : &fresh;
    char *ref = s->account_ref;   /* owned by stored: restored below */
    s->account_ref = (char *)account_ref;
    s->has_known = 1;
    s->known = known;
    s->has_version = known;
    s->version = acc.version;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_request_id = 1;
    env.request_id = request_id;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS;
    env.account_status = s;
    size_t len = envelope_pack(&env, buf, cap);
    s->account_ref = ref;
    if (stored)
        arrears__account_status__free_unpacked(stored, NULL);
    if (len == 0)
        *error = EMSGSIZE;
    return len;
}

/* Replaces the record under the cursor by its content hash and a sealed empty message:
 * the natural key still answers "seen, same or conflicting", the content is gone. */
static int empty_sealed(accepted_t *self, MDB_cursor *cur, MDB_val *key, const MDB_val *v)
{
    uint8_t value[HASH_BYTES + CRYPT_OVERHEAD_BYTES];
    size_t sealed_len;
    memcpy(value, v->mv_data, HASH_BYTES);
    int rc = crypt_seal(self->crypt, value, 0, value + HASH_BYTES, CRYPT_OVERHEAD_BYTES,
                        &sealed_len);
    MDB_val nv = { HASH_BYTES + sealed_len, value };
    return rc ? rc : mdb_cursor_put(cur, key, &nv, MDB_CURRENT);
}

/* Whether the sealed complaint in v is about ref. */
static int complaint_is_about(accepted_t *self, const MDB_val *v, const char *ref, bool *about)
{
    size_t cap = v->mv_size - HASH_BYTES, len = 0;
    uint8_t *plain = malloc(cap ? cap : 1);
    if (!plain)
        return ENOMEM;
    *about = false;
    if (crypt_open(self->crypt, (const uint8_t *)v->mv_data + HASH_BYTES, cap, plain, cap,
                   &len) == CRYPT_OK && len > 0) {
        Arrears__Complaint *c = arrears__complaint__unpack(NULL, len, plain);
        *about = c && c->account_ref && strcmp(c->account_ref, ref) == 0;
        if (c)
            arrears__complaint__free_unpacked(c, NULL);
    }
    free(plain);
    return 0;
}

/* The account's complaints (their texts are personal) emptied: a scan of the platform's
 * complaints, which are keyed by their own refs. Complaints are few beside accounts. */
static int erase_complaints(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref)
{
    MDB_cursor *cur;
    uint8_t key[KEY_MAX];
    MDB_val k = natural_key(key, platform, ""), v;
    size_t prefix = k.mv_size;
    int rc = mdb_cursor_open(txn, self->complaints, &cur);
    if (rc != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        bool about = false;
        if (k.mv_size < prefix || memcmp(k.mv_data, key, prefix) != 0)
            break;
        rc = v.mv_size < HASH_BYTES ? MDB_CORRUPTED : complaint_is_about(self, &v, ref, &about);
        rc = rc == 0 && about ? empty_sealed(self, cur, &k, &v) : rc;
        if (rc != 0)
            break;
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int accepted_erase(accepted_t *self, MDB_txn *txn, const char *platform, const char *ref,
                   bool *erased_now)
{
    account_rec_t rec;
    *erased_now = false;
    int rc = account_get(self, txn, platform, ref, &rec);
    if (rc != 0 || rec.erased)
        return rc == MDB_NOTFOUND ? 0 : rc;   /* unknown here, or done before: nothing to do */
    rec.erased = 1;
    rc = account_put(self, txn, platform, ref, &rec, (const uint8_t *)"", 0);
    rc = rc ? rc : erase_complaints(self, txn, platform, ref);
    *erased_now = rc == 0;
    return rc;
}
