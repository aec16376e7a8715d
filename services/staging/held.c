/* held: replays held until the catch-up applies them (see held.h). */
#include "held.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "aclock.h"
#include "outbox.h"

#define KEY_BYTES 24          /* at_ms, order_us, arrival */
#define STALL_FACTOR 10       /* a replay that stops short is given up on after this */

struct held {
    MDB_dbi held, replays, meta, restored;
    crypt_t *crypt;
    int64_t settle_ms;
    int64_t quiet_since_ms;   /* monotonic: the last replay held, or the start */
    bool restore_pending;     /* the store's restore marker not yet answered */
};

static const char KEY_ARRIVALS[] = "arrivals", KEY_ANSWERED[] = "restore_answered";

bool held_settled(int64_t mono_ms, int64_t quiet_since_ms, int64_t settle_ms, bool complete)
{
    int64_t quiet = mono_ms - quiet_since_ms;
    return quiet >= settle_ms && (complete || quiet >= STALL_FACTOR * settle_ms);
}

/* The restore marker `arrears restore` wrote (0: none) and the one last answered. */
static int markers(held_t *self, MDB_txn *txn, uint64_t *marker, uint64_t *answered)
{
    MDB_val k = { strlen(OUTBOX_RESTORED_KEY), (void *)OUTBOX_RESTORED_KEY }, v;
    int rc = mdb_get(txn, self->restored, &k, &v);
    *marker = rc == 0 && v.mv_size == 8 ? store_get_u64(v.mv_data) : 0;
    rc = rc == MDB_NOTFOUND ? 0 : rc;
    return rc ? rc : store_get_named_u64(txn, self->meta, KEY_ANSWERED, 0, answered);
}

static int read_marker(MDB_txn *txn, void *arg)
{
    held_t *self = arg;
    uint64_t marker = 0, answered = 0;
    int rc = markers(self, txn, &marker, &answered);
    self->restore_pending = rc == 0 && marker != answered;
    return rc;
}

int held_open(store_t *store, crypt_t *crypt, int64_t settle_ms, held_t **self_p)
{
    held_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->crypt = crypt;
    self->settle_ms = settle_ms;
    self->quiet_since_ms = aclock_monotonic_ms();
    int rc = store_table(store, "staging.held", 0, &self->held);
    rc = rc ? rc : store_table(store, "staging.replays", 0, &self->replays);
    rc = rc ? rc : store_table(store, "staging.catchup", 0, &self->meta);
    rc = rc ? rc : store_table(store, OUTBOX_RESTORED_TABLE, 0, &self->restored);
    rc = rc ? rc : store_read(store, read_marker, self);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void held_destroy(held_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

/* principal NUL stream_id(be64): the replays table's key. */
static size_t stream_key(const char *principal, uint64_t stream_id, uint8_t *key)
{
    size_t n = strlen(principal) + 1;
    memcpy(key, principal, n);
    store_put_u64(key + n, stream_id);
    return n + 8;
}

/* Notes how far the stream's replay is held, and where it ends. */
static int note_stream(held_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                       uint64_t seq, uint64_t through_seq)
{
    uint8_t key[INBOX_PRINCIPAL_MAX + 9], value[16];
    MDB_val k = { stream_key(principal, stream_id, key), key }, v = { 16, value };
    store_put_u64(value, through_seq);
    store_put_u64(value + 8, seq);
    return mdb_put(txn, self->replays, &k, &v, 0);
}

/* role NUL principal NUL, then the sealed message: one record, sealed in place. */
static int put_record(held_t *self, MDB_txn *txn, const uint8_t key[KEY_BYTES],
                      const receiver_peer_t *from, const uint8_t *plain, size_t len)
{
    size_t role = strlen(from->role) + 1, principal = strlen(from->principal) + 1;
    size_t sealed = len + CRYPT_OVERHEAD_BYTES;
    MDB_val k = { KEY_BYTES, (void *)key }, v = { role + principal + sealed, NULL };
    int rc = mdb_put(txn, self->held, &k, &v, MDB_RESERVE);
    if (rc != 0)
        return rc;
    uint8_t *p = v.mv_data;
    memcpy(p, from->role, role);
    memcpy(p + role, from->principal, principal);
    return crypt_seal(self->crypt, plain, len, p + role + principal, sealed, &sealed) == CRYPT_OK
               ? 0 : HELD_ECORRUPT;
}

int held_put(held_t *self, MDB_txn *txn, const receiver_peer_t *from,
             const Arrears__Envelope *env, const applied_t *first, uint64_t through_seq)
{
    uint64_t arrival = 0;
    int rc = store_get_named_u64(txn, self->meta, KEY_ARRIVALS, 0, &arrival);
    rc = rc ? rc : store_put_named_u64(txn, self->meta, KEY_ARRIVALS, ++arrival);
    size_t len = arrears__envelope__get_packed_size(env);
    uint8_t *plain = rc == 0 ? malloc(len ? len : 1) : NULL;
    if (rc != 0 || !plain)
        return rc ? rc : ENOMEM;
    arrears__envelope__pack(env, plain);
    uint8_t key[KEY_BYTES];
    store_put_u64(key, (uint64_t)first->at_ms);
    store_put_u64(key + 8, (uint64_t)first->order_us);
    store_put_u64(key + 16, arrival);
    rc = put_record(self, txn, key, from, plain, len);
    free(plain);
    rc = rc ? rc : note_stream(self, txn, from->principal, env->stream_id, env->seq, through_seq);
    self->quiet_since_ms = aclock_monotonic_ms();
    return rc;
}

typedef struct {
    bool any, complete;
} streams_t;

static int visit_stream(const MDB_val *key, const MDB_val *value, void *arg)
{
    streams_t *s = arg;
    (void)key;
    if (value->mv_size != 16)
        return HELD_ECORRUPT;
    const uint8_t *p = value->mv_data;
    s->any = true;
    s->complete &= store_get_u64(p + 8) >= store_get_u64(p);
    return 0;
}

int held_state(held_t *self, MDB_txn *txn, int64_t mono_ms, held_state_t *state)
{
    *state = (held_state_t){ .next_at_ms = INT64_MAX };
    streams_t s = { false, true };
    MDB_stat st;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_stat(txn, self->held, &st);
    rc = rc ? rc : store_scan(txn, self->replays, NULL, 0, NULL, 0, visit_stream, &s);
    rc = rc ? rc : mdb_cursor_open(txn, self->held, &cur);
    if (rc != 0)
        return rc;
    int got = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    mdb_cursor_close(cur);
    if (got == 0 && k.mv_size == KEY_BYTES)
        state->next_at_ms = (int64_t)store_get_u64(k.mv_data);
    state->count = st.ms_entries;
    state->active = self->restore_pending || st.ms_entries > 0 || s.any;
    state->ready = state->active && held_settled(mono_ms, self->quiet_since_ms, self->settle_ms,
                                                 s.complete);
    return got == 0 || got == MDB_NOTFOUND ? 0 : got;
}

/* Splits a held record into who sent it and its message. */
static int open_record(held_t *self, const MDB_val *v, held_msg_t *msg)
{
    const char *p = v->mv_data, *end = p + v->mv_size;
    const char *principal = memchr(p, 0, v->mv_size);
    const char *sealed = principal ? memchr(principal + 1, 0, (size_t)(end - principal - 1)) : NULL;
    if (!sealed || (size_t)(principal - p) >= sizeof msg->from.role ||
        (size_t)(sealed - principal - 1) > INBOX_PRINCIPAL_MAX)
        return HELD_ECORRUPT;
    memcpy(msg->from.role, p, (size_t)(principal - p) + 1);
    memcpy(msg->from.principal, principal + 1, (size_t)(sealed - principal));
    size_t len = (size_t)(end - sealed - 1), plain_len = 0;
    uint8_t *plain = malloc(len ? len : 1);
    int rc = plain ? crypt_open(self->crypt, (const uint8_t *)sealed + 1, len, plain, len,
                                &plain_len) : ENOMEM;
    msg->env = rc == CRYPT_OK ? arrears__envelope__unpack(NULL, plain_len, plain) : NULL;
    free(plain);
    return rc == ENOMEM ? rc : msg->env ? 0 : HELD_ECORRUPT;
}

int held_take(held_t *self, MDB_txn *txn, held_msg_t *msg)
{
    MDB_cursor *cur;
    MDB_val k, v;
    memset(msg, 0, sizeof *msg);
    int rc = mdb_cursor_open(txn, self->held, &cur);
    if (rc != 0)
        return rc;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && k.mv_size != KEY_BYTES)
        rc = HELD_ECORRUPT;
    if (rc == 0) {
        msg->first.at_ms = (int64_t)store_get_u64(k.mv_data);
        msg->first.order_us = (int64_t)store_get_u64((const uint8_t *)k.mv_data + 8);
        rc = open_record(self, &v, msg);
    }
    rc = rc ? rc : mdb_cursor_del(cur, 0);
    mdb_cursor_close(cur);
    if (rc != 0)
        envelope_free(&msg->env);
    return rc;
}

int held_finish(held_t *self, MDB_txn *txn)
{
    uint64_t marker = 0, answered = 0;
    int rc = mdb_drop(txn, self->replays, 0);
    rc = rc ? rc : markers(self, txn, &marker, &answered);
    rc = rc ? rc : store_put_named_u64(txn, self->meta, KEY_ANSWERED, marker);
    if (rc == 0)
        self->restore_pending = false;
    return rc;
}

const char *held_strerror(int code)
{
    switch (code) {
    case HELD_ECORRUPT: return "a held message does not open or decode";
    default: return store_strerror(code);
    }
}
