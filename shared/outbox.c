/* outbox: see outbox.h. */
#include "outbox.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "crypt.h"
#include "log.h"

#define HEADER_BYTES 8   /* append_ms before the packed envelope */

struct outbox {
    char name[OUTBOX_NAME_MAX + 1];
    outbox_limits_t limits;
    MDB_dbi log;
    MDB_dbi dead;
    MDB_dbi meta;
    MDB_dbi applied;       /* when the receiver first applied each range of seqs */
    MDB_dbi restored;      /* the store's restore marker (OUTBOX_RESTORED_TABLE) */
    uint64_t stream_id;
    uint64_t acked_seen;   /* the highest ack known in memory, for the bound */
    bool restore_pending;  /* at open: a restore marker not yet answered (for the log) */
    uint8_t *pack_buf;
    crypt_t *crypt;        /* non-NULL: messages are sealed at rest */
    uint8_t *open_buf;     /* a sealed message opened for sending */
};

static const char KEY_STREAM[] = "stream_id", KEY_LAST[] = "last_seq", KEY_ACKED[] = "acked";
/* The restore marker this outbox has already answered, and the stream it last left. */
static const char KEY_RESTORE_SEEN[] = "restore_seen", KEY_ROLLED_FROM[] = "rolled_from";

outbox_limits_t outbox_default_limits(void)
{
    return (outbox_limits_t){
        .max_message_bytes = 1 << 20,
        .max_unacked = 100000,
        .retain_ms = 7LL * 24 * 3600 * 1000,
        .retain_max = 1000000,
    };
}

static int meta_get(outbox_t *self, MDB_txn *txn, const char *key, uint64_t *value)
{
    MDB_val k = { strlen(key), (void *)key }, v;
    int rc = mdb_get(txn, self->meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *value = 0;
        return 0;
    }
    if (rc == 0 && v.mv_size != 8)
        return MDB_CORRUPTED;
    if (rc == 0)
        *value = store_get_u64(v.mv_data);
    return rc;
}

static int meta_put(outbox_t *self, MDB_txn *txn, const char *key, uint64_t value)
{
    uint8_t buf[8];
    store_put_u64(buf, value);
    MDB_val k = { strlen(key), (void *)key }, v = { 8, buf };
    return mdb_put(txn, self->meta, &k, &v, 0);
}

static uint64_t new_stream_id(void)
{
    uint64_t id = 0;
    while (id == 0) {
        if (getrandom(&id, sizeof id, 0) != sizeof id)
            id = 0;
        id &= INT64_MAX;   /* stays positive in every language's integer type */
    }
    return id;
}

/* The restore marker `arrears restore` wrote into this store (0: never restored). */
static int restore_marker(outbox_t *self, MDB_txn *txn, uint64_t *marker)
{
    MDB_val k = { strlen(OUTBOX_RESTORED_KEY), (void *)OUTBOX_RESTORED_KEY }, v;
    int rc = mdb_get(txn, self->restored, &k, &v);
    *marker = 0;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0 && v.mv_size != 8)
        return MDB_CORRUPTED;
    if (rc == 0)
        *marker = store_get_u64(v.mv_data);
    return rc;
}

/* The stream id is made once and kept: a restarted instance resumes its own stream. A
 * store put back from a backup is the exception: its receivers applied seqs this copy
 * never appended, so the outbox moves to a new stream before it sends anything. */
static int load_stream(MDB_txn *txn, void *arg)
{
    outbox_t *self = arg;
    uint64_t marker = 0, seen = 0;
    int rc = meta_get(self, txn, KEY_STREAM, &self->stream_id);
    rc = rc ? rc : restore_marker(self, txn, &marker);
    rc = rc ? rc : meta_get(self, txn, KEY_RESTORE_SEEN, &seen);
    if (rc == 0 && self->stream_id == 0) {
        self->stream_id = new_stream_id();
        rc = meta_put(self, txn, KEY_STREAM, self->stream_id);
        seen = marker;   /* a new outbox has nothing from before the restore */
        rc = rc ? rc : meta_put(self, txn, KEY_RESTORE_SEEN, marker);
    }
    /* The move waits for outbox_settle_restore (the sender's start): the messages it
     * carries over may be sealed, and the key comes with outbox_seal_with. */
    self->restore_pending = rc == 0 && marker != seen;
    if (rc == 0)
        rc = meta_get(self, txn, KEY_ACKED, &self->acked_seen);
    return rc;
}

static int open_tables(store_t *store, outbox_t *self)
{
    char table[OUTBOX_NAME_MAX + 8];
    snprintf(table, sizeof table, "%s.log", self->name);
    int rc = store_table(store, table, 0, &self->log);
    snprintf(table, sizeof table, "%s.dead", self->name);
    if (rc == 0)
        rc = store_table(store, table, 0, &self->dead);
    snprintf(table, sizeof table, "%s.meta", self->name);
    if (rc == 0)
        rc = store_table(store, table, 0, &self->meta);
    snprintf(table, sizeof table, "%s.applied", self->name);
    if (rc == 0)
        rc = store_table(store, table, 0, &self->applied);
    if (rc == 0)
        rc = store_table(store, OUTBOX_RESTORED_TABLE, 0, &self->restored);
    return rc;
}

int outbox_open(store_t *store, const char *name, const outbox_limits_t *limits,
                outbox_t **self_p)
{
    assert(store && name && limits && self_p);
    assert(limits->max_message_bytes >= ENVELOPE_REPLY_MAX_BYTES && limits->max_unacked >= 1);
    *self_p = NULL;
    size_t len = strlen(name);
    if (len == 0 || len > OUTBOX_NAME_MAX)
        return OUTBOX_ENAME;
    outbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    memcpy(self->name, name, len + 1);
    self->limits = *limits;
    self->pack_buf = malloc(HEADER_BYTES + limits->max_message_bytes);
    int rc = self->pack_buf ? open_tables(store, self) : ENOMEM;
    if (rc == 0)
        rc = store_write(store, load_stream, self);
    if (rc != 0) {
        outbox_destroy(&self);
        return rc;
    }
    log_event(LOG_INFO, "outbox_open", "outbox=%s stream_id=%llu acked=%llu restored=%s", self->name,
              (unsigned long long)self->stream_id, (unsigned long long)self->acked_seen,
              self->restore_pending ? "yes" : "no");
    *self_p = self;
    return OUTBOX_OK;
}

void outbox_destroy(outbox_t **self_p)
{
    assert(self_p);
    outbox_t *self = *self_p;
    if (!self)
        return;
    free(self->pack_buf);
    free(self->open_buf);
    free(self);
    *self_p = NULL;
}

const char *outbox_name(const outbox_t *self) { return self->name; }

int outbox_seal_with(outbox_t *self, crypt_t *crypt)
{
    assert(self && crypt);
    self->open_buf = malloc(self->limits.max_message_bytes);
    if (!self->open_buf)
        return ENOMEM;
    self->crypt = crypt;
    return OUTBOX_OK;
}

/* Stores the packed message at pack_buf + HEADER_BYTES, sealed when the outbox seals. */
static int put_message(outbox_t *self, MDB_txn *txn, uint64_t seq, size_t len, unsigned flags)
{
    uint8_t key[8];
    store_put_u64(key, seq);
    size_t stored = self->crypt ? len + CRYPT_OVERHEAD_BYTES : len;
    MDB_val k = { 8, key }, v = { HEADER_BYTES + stored, NULL };
    int rc = mdb_put(txn, self->log, &k, &v, flags | MDB_RESERVE);
    if (rc != 0)
        return rc;
    uint8_t *p = v.mv_data;
    memcpy(p, self->pack_buf, HEADER_BYTES);
    if (!self->crypt) {
        memcpy(p + HEADER_BYTES, self->pack_buf + HEADER_BYTES, len);
        return 0;
    }
    return crypt_seal(self->crypt, self->pack_buf + HEADER_BYTES, len, p + HEADER_BYTES, stored,
                      &stored);
}

static int unacked_now(outbox_t *self, MDB_txn *txn, uint64_t *last, uint64_t *unacked)
{
    uint64_t acked = 0;
    *last = 0;
    int rc = meta_get(self, txn, KEY_LAST, last);
    if (rc == 0)
        rc = meta_get(self, txn, KEY_ACKED, &acked);
    if (self->acked_seen > acked)
        acked = self->acked_seen;
    *unacked = *last > acked ? *last - acked : 0;
    return rc;
}

/* stream_id, seq, sent_at_ms: a tag byte and at most a 10-byte varint each. */
#define FRAME_FIELDS_MAX_BYTES 33

bool outbox_fits(const outbox_t *self, const Arrears__Envelope *env)
{
    return arrears__envelope__get_packed_size(env) + FRAME_FIELDS_MAX_BYTES <=
           self->limits.max_message_bytes;
}

int outbox_room(outbox_t *self, MDB_txn *txn, uint64_t *room)
{
    uint64_t last = 0, unacked = 0;
    int rc = unacked_now(self, txn, &last, &unacked);
    *room = unacked < self->limits.max_unacked ? self->limits.max_unacked - unacked : 0;
    return rc;
}

int outbox_append(outbox_t *self, MDB_txn *txn, Arrears__Envelope *env, int64_t now_ms,
                  uint64_t *seq)
{
    assert(self && txn && env);
    if (env->body_case == ARREARS__ENVELOPE__BODY__NOT_SET)
        return OUTBOX_ENOBODY;
    uint64_t last, unacked;
    int rc = unacked_now(self, txn, &last, &unacked);
    if (rc != 0)
        return rc;
    if (unacked >= self->limits.max_unacked)
        return OUTBOX_EFULL;
    env->has_stream_id = 1;
    env->stream_id = self->stream_id;
    env->has_seq = 1;
    env->seq = last + 1;
    env->has_sent_at_ms = 1;
    env->sent_at_ms = now_ms;
    size_t len = envelope_pack(env, self->pack_buf + HEADER_BYTES, self->limits.max_message_bytes);
    if (len == 0)
        return OUTBOX_ETOO_LARGE;
    store_put_u64(self->pack_buf, (uint64_t)now_ms);
    rc = put_message(self, txn, env->seq, len, MDB_APPEND);
    if (rc == 0)
        rc = meta_put(self, txn, KEY_LAST, env->seq);
    if (rc == 0 && seq)
        *seq = env->seq;
    return rc;
}

static int first_key(MDB_txn *txn, MDB_dbi dbi, uint64_t *seq, MDB_val *value)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc != 0)
        return rc;
    MDB_val k;
    rc = mdb_cursor_get(cur, &k, value, MDB_FIRST);
    mdb_cursor_close(cur);
    if (rc == 0 && k.mv_size != 8)
        return MDB_CORRUPTED;
    *seq = rc == 0 ? store_get_u64(k.mv_data) : 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int outbox_state(outbox_t *self, MDB_txn *txn, outbox_state_t *state)
{
    memset(state, 0, sizeof *state);
    state->stream_id = self->stream_id;
    int rc = meta_get(self, txn, KEY_LAST, &state->last_seq);
    if (rc == 0)
        rc = meta_get(self, txn, KEY_ACKED, &state->acked_through);
    state->acked_known = self->acked_seen > state->acked_through ? self->acked_seen
                                                                 : state->acked_through;
    MDB_val v;
    if (rc == 0)
        rc = first_key(txn, self->log, &state->first_retained, &v);
    MDB_stat st;
    if (rc == 0)
        rc = mdb_stat(txn, self->dead, &st);
    if (rc == 0)
        state->dead_letters = st.ms_entries;
    return rc;
}

int outbox_each(outbox_t *self, MDB_txn *txn, uint64_t from_seq, uint64_t max_count,
                outbox_visit_fn *visit, void *arg)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->log, &cur);
    if (rc != 0)
        return rc;
    uint8_t key[8];
    store_put_u64(key, from_seq);
    MDB_val k = { 8, key }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND && max_count > 0) {
        /* Nothing at or after from_seq: the end of the log, or everything was pruned. */
        uint64_t last;
        int meta_rc = meta_get(self, txn, KEY_LAST, &last);
        rc = meta_rc != 0 ? meta_rc : from_seq <= last ? OUTBOX_EPRUNED : MDB_NOTFOUND;
    }
    for (uint64_t n = 0; rc == 0 && n < max_count; n++) {
        if (k.mv_size != 8 || v.mv_size < HEADER_BYTES) {
            rc = MDB_CORRUPTED;
            break;
        }
        uint64_t seq = store_get_u64(k.mv_data);
        if (n == 0 && seq != from_seq) {
            rc = OUTBOX_EPRUNED;   /* the first one asked for is gone */
            break;
        }
        const uint8_t *msg = (const uint8_t *)v.mv_data + HEADER_BYTES;
        size_t len = v.mv_size - HEADER_BYTES;
        if (self->crypt && crypt_open(self->crypt, msg, len, self->open_buf,
                                      self->limits.max_message_bytes, &len) != CRYPT_OK) {
            rc = MDB_CORRUPTED;   /* a sealed message that does not open: never send it */
            break;
        }
        rc = visit(seq, self->crypt ? self->open_buf : msg, len, arg);
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int outbox_store_acked(outbox_t *self, MDB_txn *txn, uint64_t acked_through)
{
    return meta_put(self, txn, KEY_ACKED, acked_through);
}

void outbox_note_acked(outbox_t *self, uint64_t acked_through)
{
    self->acked_seen = acked_through;
}

int outbox_dead_letter(outbox_t *self, MDB_txn *txn, const reject_t *reject)
{
    uint8_t key[8];
    store_put_u64(key, reject->seq);
    MDB_val k = { 8, key }, msg;
    int rc = mdb_get(txn, self->log, &k, &msg);
    if (rc == MDB_NOTFOUND)
        return OUTBOX_EPRUNED;
    if (rc != 0)
        return rc;
    size_t rlen = strnlen(reject->reason, REJECT_REASON_MAX - 1);
    size_t body = msg.mv_size - HEADER_BYTES;
    MDB_val v = { 3 + rlen + body, NULL };
    rc = mdb_put(txn, self->dead, &k, &v, MDB_RESERVE);
    if (rc == 0)   /* data from mdb_get is only valid until the next write */
        rc = mdb_get(txn, self->log, &k, &msg);
    if (rc != 0)
        return rc;
    uint8_t *p = v.mv_data;
    p[0] = (uint8_t)reject->klass;
    p[1] = (uint8_t)reject->code;
    memcpy(p + 2, reject->reason, rlen);
    p[2 + rlen] = 0;
    memcpy(p + 3 + rlen, (const uint8_t *)msg.mv_data + HEADER_BYTES, body);
    return 0;
}

static int prune_step(outbox_t *self, MDB_cursor *cur, uint64_t acked, uint64_t held,
                      int64_t now_ms, int *removed)
{
    MDB_val k, v;
    *removed = 0;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc != 0)
        return rc;
    if (k.mv_size != 8 || v.mv_size < HEADER_BYTES)
        return MDB_CORRUPTED;
    uint64_t seq = store_get_u64(k.mv_data);
    int64_t append_ms = (int64_t)store_get_u64(v.mv_data);
    int expired = now_ms - append_ms > self->limits.retain_ms;
    int over = held > self->limits.retain_max;
    if (seq > acked || (!expired && !over))
        return MDB_NOTFOUND;
    *removed = 1;
    return mdb_cursor_del(cur, 0);
}

/* ---- Applied records (outbox.h "Replays"): through_seq -> from, at_ms, order_us ---- */

#define APPLIED_BYTES 24

/* The first record whose range ends at or after seq (MDB_NOTFOUND: none). */
static int applied_at_or_after(outbox_t *self, MDB_txn *txn, uint64_t seq, uint64_t *through,
                               uint64_t *from, applied_t *applied)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->applied, &cur);
    if (rc != 0)
        return rc;
    uint8_t key[8];
    store_put_u64(key, seq);
    MDB_val k = { 8, key }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    if (rc == 0 && (k.mv_size != 8 || v.mv_size != APPLIED_BYTES))
        rc = MDB_CORRUPTED;
    if (rc == 0) {
        const uint8_t *p = v.mv_data;
        *through = store_get_u64(k.mv_data);
        *from = store_get_u64(p);
        applied->at_ms = (int64_t)store_get_u64(p + 8);
        applied->order_us = (int64_t)store_get_u64(p + 16);
    }
    mdb_cursor_close(cur);
    return rc;
}

int outbox_applied_through(outbox_t *self, MDB_txn *txn, uint64_t *through_seq)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->applied, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    mdb_cursor_close(cur);
    if (rc == 0 && k.mv_size != 8)
        return MDB_CORRUPTED;
    *through_seq = rc == 0 ? store_get_u64(k.mv_data) : 0;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int outbox_note_applied(outbox_t *self, MDB_txn *txn, uint64_t through_seq,
                        const applied_t *applied)
{
    uint64_t recorded = 0;
    int rc = outbox_applied_through(self, txn, &recorded);
    if (rc != 0 || through_seq <= recorded)
        return rc;   /* already recorded: the first record stays */
    uint8_t key[8], value[APPLIED_BYTES];
    store_put_u64(key, through_seq);
    store_put_u64(value, recorded + 1);
    store_put_u64(value + 8, (uint64_t)applied->at_ms);
    store_put_u64(value + 16, (uint64_t)applied->order_us);
    MDB_val k = { 8, key }, v = { APPLIED_BYTES, value };
    return mdb_put(txn, self->applied, &k, &v, MDB_APPEND);
}

int outbox_applied_of(outbox_t *self, MDB_txn *txn, uint64_t seq, applied_t *applied,
                      bool *found)
{
    uint64_t through = 0, from = 0;
    int rc = applied_at_or_after(self, txn, seq, &through, &from, applied);
    *found = rc == 0 && from <= seq;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Drops the records of ranges that end before the first message still retained. */
static int prune_applied(outbox_t *self, MDB_txn *txn, size_t max_deletes)
{
    uint64_t first = 0;
    MDB_val v;
    MDB_cursor *cur;
    int rc = first_key(txn, self->log, &first, &v);
    rc = rc ? rc : mdb_cursor_open(txn, self->applied, &cur);
    if (rc != 0)
        return rc;
    MDB_val k;
    for (size_t n = 0; rc == 0 && n < max_deletes; n++) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
        if (rc == 0 && k.mv_size != 8)
            rc = MDB_CORRUPTED;
        if (rc != 0 || (first != 0 && store_get_u64(k.mv_data) >= first))
            break;   /* an empty log retains nothing: every record goes */
        rc = mdb_cursor_del(cur, 0);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int outbox_prune(outbox_t *self, MDB_txn *txn, int64_t now_ms, size_t max_deletes,
                 size_t *deleted)
{
    uint64_t acked;
    int rc = meta_get(self, txn, KEY_ACKED, &acked);
    MDB_stat st;
    if (rc == 0)
        rc = mdb_stat(txn, self->log, &st);
    MDB_cursor *cur;
    if (rc == 0)
        rc = mdb_cursor_open(txn, self->log, &cur);
    if (rc != 0)
        return rc;
    size_t n = 0;
    uint64_t held = st.ms_entries;
    while (n < max_deletes) {
        int removed;
        rc = prune_step(self, cur, acked, held, now_ms, &removed);
        if (rc != 0 || !removed)
            break;
        n++;
        held--;
    }
    mdb_cursor_close(cur);
    if (deleted)
        *deleted = n;
    rc = rc == MDB_NOTFOUND ? 0 : rc;
    return rc ? rc : prune_applied(self, txn, max_deletes);
}

/* ---- realignment: a new stream for a sender whose receivers are ahead of it ----
 *
 * A store put back from a backup (or a sender that lost its state) appended fewer seqs
 * than its receivers applied: seq N on the wire no longer names one message. So the
 * outbox leaves that stream for good: what the receivers may not have (everything after
 * the stored acked mark) is renumbered 1.. on a fresh stream id, in order, with its
 * original append time; the retained acked messages are dropped, as no receiver can ask
 * for them on the old stream again. The receivers see a new stream and apply it from 1;
 * whatever in it repeats what they applied before is recognized by its natural key
 * (contact id, account, payment ref...), so it changes nothing. */

typedef struct {
    outbox_t *self;
    MDB_txn *txn;
    uint64_t acked;       /* old stream: everything through here was applied */
    uint64_t new_stream;
    uint64_t carried;     /* messages moved to the new stream so far */
    uint8_t *copy;        /* one stored message, copied out of the map before writes */
} roll_t;

/* Moves old seq to new seq (acked below it): open, renumber, pack, seal, store. */
static int carry_one(roll_t *r, uint64_t old_seq, const MDB_val *v)
{
    outbox_t *self = r->self;
    if (v->mv_size < HEADER_BYTES || v->mv_size > HEADER_BYTES + self->limits.max_message_bytes +
                                                      CRYPT_OVERHEAD_BYTES)
        return MDB_CORRUPTED;
    memcpy(r->copy, v->mv_data, v->mv_size);
    const uint8_t *msg = r->copy + HEADER_BYTES;
    size_t len = v->mv_size - HEADER_BYTES;
    if (self->crypt && crypt_open(self->crypt, msg, len, self->open_buf,
                                  self->limits.max_message_bytes, &len) != CRYPT_OK)
        return MDB_CORRUPTED;
    Arrears__Envelope *env =
        arrears__envelope__unpack(NULL, len, self->crypt ? self->open_buf : msg);
    if (!env)
        return MDB_CORRUPTED;
    env->stream_id = r->new_stream;
    env->seq = old_seq - r->acked;   /* sent_at_ms stays: the message's own time */
    size_t packed = envelope_pack(env, self->pack_buf + HEADER_BYTES, self->limits.max_message_bytes);
    uint64_t new_seq = env->seq;
    arrears__envelope__free_unpacked(env, NULL);
    if (packed == 0)
        return OUTBOX_ETOO_LARGE;
    memcpy(self->pack_buf, r->copy, HEADER_BYTES);   /* the original append time */
    uint8_t key[8];
    store_put_u64(key, old_seq);
    MDB_val k = { 8, key };
    int rc = new_seq == old_seq ? 0 : mdb_del(r->txn, self->log, &k, NULL);
    rc = rc ? rc : put_message(self, r->txn, new_seq, packed, 0);
    r->carried += rc == 0;
    return rc;
}

/* Deletes the retained (acked) messages, then carries the rest in seq order. New seqs
 * are below old ones, so each lands on a key already emptied. */
static int carry_all(roll_t *r, uint64_t last)
{
    MDB_cursor *cur = NULL;
    int rc = mdb_cursor_open(r->txn, r->self->log, &cur);
    MDB_val k, v;
    for (rc = rc ? rc : mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 8) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (store_get_u64(k.mv_data) > r->acked)
            break;
        rc = mdb_cursor_del(cur, 0);
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    for (uint64_t seq = r->acked + 1; seq <= last; seq++) {
        uint8_t key[8];
        store_put_u64(key, seq);
        MDB_val kk = { 8, key }, vv;
        rc = mdb_get(r->txn, r->self->log, &kk, &vv);
        if (rc == MDB_NOTFOUND)
            continue;   /* dead-lettered and pruned: nothing to carry */
        rc = rc ? rc : carry_one(r, seq, &vv);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int outbox_roll(outbox_t *self, MDB_txn *txn, const char *why, uint64_t peer_mark,
                uint64_t *new_stream)
{
    assert(self && txn && why);
    uint64_t last = 0, acked = 0, old = self->stream_id;
    int rc = meta_get(self, txn, KEY_LAST, &last);
    rc = rc ? rc : meta_get(self, txn, KEY_ACKED, &acked);
    if (rc != 0)
        return rc;
    if (acked > last)
        acked = last;
    roll_t r = { self, txn, acked, new_stream_id(), 0,
                 malloc(HEADER_BYTES + self->limits.max_message_bytes + CRYPT_OVERHEAD_BYTES) };
    rc = r.copy ? carry_all(&r, last) : ENOMEM;
    free(r.copy);
    rc = rc ? rc : mdb_drop(txn, self->applied, 0);   /* they named the old stream's seqs */
    rc = rc ? rc : meta_put(self, txn, KEY_STREAM, r.new_stream);
    rc = rc ? rc : meta_put(self, txn, KEY_ROLLED_FROM, old);
    rc = rc ? rc : meta_put(self, txn, KEY_LAST, r.carried);
    rc = rc ? rc : meta_put(self, txn, KEY_ACKED, 0);
    if (rc != 0)
        return rc;   /* the caller aborts txn: the outbox stays on its old stream */
    self->stream_id = r.new_stream;
    self->acked_seen = 0;
    log_event(LOG_WARN, "stream_realigned",
              "outbox=%s why=%s old_stream=%llu old_last_seq=%llu old_acked=%llu peer_mark=%llu "
              "new_stream=%llu carried=%llu", self->name, why, (unsigned long long)old,
              (unsigned long long)last, (unsigned long long)acked, (unsigned long long)peer_mark,
              (unsigned long long)r.new_stream, (unsigned long long)r.carried);
    if (new_stream)
        *new_stream = r.new_stream;
    return 0;
}

int outbox_settle_restore(outbox_t *self, MDB_txn *txn, bool *rolled)
{
    assert(self && txn);
    uint64_t marker = 0, seen = 0;
    int rc = restore_marker(self, txn, &marker);
    rc = rc ? rc : meta_get(self, txn, KEY_RESTORE_SEEN, &seen);
    bool roll = rc == 0 && marker != seen;
    if (roll) {
        rc = outbox_roll(self, txn, "restored", 0, NULL);
        rc = rc ? rc : meta_put(self, txn, KEY_RESTORE_SEEN, marker);
    }
    if (rolled)
        *rolled = rc == 0 && roll;
    return rc;
}

const char *outbox_strerror(int code)
{
    switch (code) {
    case OUTBOX_ETOO_LARGE: return "message larger than the receiver's size limit";
    case OUTBOX_EFULL: return "outbox full: too many messages not yet acknowledged";
    case OUTBOX_ENOBODY: return "envelope has no body";
    case OUTBOX_ENAME: return "outbox name empty or too long";
    case OUTBOX_EPRUNED: return "message no longer retained";
    default: return store_strerror(code);
    }
}
