/* inbox: see inbox.h. Table "inbox.streams": principal NUL stream_id(be64) ->
 * applied_through(be64) updated_ms(be64). Table "inbox.rejects": the same key plus
 * seq(be64) -> class(1) code(1) field NUL reason NUL. */
#include "inbox.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct inbox {
    MDB_dbi streams;
    MDB_dbi rejects;
};

#define KEY_MAX (INBOX_PRINCIPAL_MAX + 1 + 8 + 8)

int inbox_open(store_t *store, inbox_t **self_p)
{
    assert(store && self_p);
    inbox_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    int rc = store_table(store, "inbox.streams", 0, &self->streams);
    if (rc == 0)
        rc = store_table(store, "inbox.rejects", 0, &self->rejects);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return INBOX_OK;
}

void inbox_destroy(inbox_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

static int stream_key(uint8_t key[KEY_MAX], const char *principal, uint64_t stream_id,
                      size_t *len)
{
    size_t plen = principal ? strlen(principal) : 0;
    if (plen == 0 || plen > INBOX_PRINCIPAL_MAX)
        return INBOX_EPRINCIPAL;
    memcpy(key, principal, plen);
    key[plen] = 0;
    store_put_u64(key + plen + 1, stream_id);
    *len = plen + 1 + 8;
    return INBOX_OK;
}

int inbox_position(inbox_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                   uint64_t *applied_through)
{
    uint8_t key[KEY_MAX];
    size_t klen;
    int rc = stream_key(key, principal, stream_id, &klen);
    if (rc != INBOX_OK)
        return rc;
    MDB_val k = { klen, key }, v;
    rc = mdb_get(txn, self->streams, &k, &v);
    if (rc == MDB_NOTFOUND) {
        *applied_through = 0;
        return INBOX_OK;
    }
    if (rc != 0)
        return rc;
    if (v.mv_size != 16)
        return MDB_CORRUPTED;
    *applied_through = store_get_u64(v.mv_data);
    return INBOX_OK;
}

int inbox_advance(inbox_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                  uint64_t applied_through, int64_t now_ms)
{
    uint8_t key[KEY_MAX], value[16];
    size_t klen;
    int rc = stream_key(key, principal, stream_id, &klen);
    if (rc != INBOX_OK)
        return rc;
    store_put_u64(value, applied_through);
    store_put_u64(value + 8, (uint64_t)now_ms);
    MDB_val k = { klen, key }, v = { sizeof value, value };
    return mdb_put(txn, self->streams, &k, &v, 0);
}

int inbox_record_reject(inbox_t *self, MDB_txn *txn, const char *principal,
                        uint64_t stream_id, const reject_t *reject)
{
    uint8_t key[KEY_MAX], value[2 + REJECT_FIELD_MAX + REJECT_REASON_MAX];
    size_t klen;
    int rc = stream_key(key, principal, stream_id, &klen);
    if (rc != INBOX_OK)
        return rc;
    store_put_u64(key + klen, reject->seq);
    size_t flen = strnlen(reject->field, REJECT_FIELD_MAX - 1);
    size_t rlen = strnlen(reject->reason, REJECT_REASON_MAX - 1);
    value[0] = (uint8_t)reject->klass;
    value[1] = (uint8_t)reject->code;
    memcpy(value + 2, reject->field, flen);
    value[2 + flen] = 0;
    memcpy(value + 3 + flen, reject->reason, rlen);
    value[3 + flen + rlen] = 0;
    MDB_val k = { klen + 8, key }, v = { 4 + flen + rlen, value };
    return mdb_put(txn, self->rejects, &k, &v, 0);
}

int inbox_find_reject(inbox_t *self, MDB_txn *txn, const char *principal, uint64_t stream_id,
                      uint64_t seq, reject_t *reject)
{
    uint8_t key[KEY_MAX];
    size_t klen;
    int rc = stream_key(key, principal, stream_id, &klen);
    if (rc != INBOX_OK)
        return rc;
    store_put_u64(key + klen, seq);
    MDB_val k = { klen + 8, key }, v;
    rc = mdb_get(txn, self->rejects, &k, &v);
    if (rc != 0)
        return rc;
    if (v.mv_size < 4)
        return MDB_CORRUPTED;
    const uint8_t *p = v.mv_data;
    const char *field = (const char *)p + 2;
    size_t flen = strnlen(field, v.mv_size - 2);
    if (3 + flen >= v.mv_size)
        return MDB_CORRUPTED;
    memset(reject, 0, sizeof *reject);
    reject->klass = p[0];
    reject->code = p[1];
    reject->seq = seq;
    memcpy(reject->field, field, flen < REJECT_FIELD_MAX ? flen : REJECT_FIELD_MAX - 1);
    const char *reason = field + flen + 1;
    size_t rlen = strnlen(reason, v.mv_size - 3 - flen);
    memcpy(reject->reason, reason, rlen < REJECT_REASON_MAX ? rlen : REJECT_REASON_MAX - 1);
    return INBOX_OK;
}

int inbox_stream_count(inbox_t *self, MDB_txn *txn, uint64_t *count)
{
    MDB_stat st;
    int rc = mdb_stat(txn, self->streams, &st);
    if (rc == 0)
        *count = st.ms_entries;
    return rc;
}

const char *inbox_strerror(int code)
{
    if (code == INBOX_EPRINCIPAL)
        return "principal missing or longer than 64 bytes";
    return store_strerror(code);
}
