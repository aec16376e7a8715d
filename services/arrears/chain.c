/* chain: see chain.h. Tables: "chain.links" (link number be64 -> item number be64 +
 * hash), "chain.head" ("head" -> links be64 + hash). */
#include "chain.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct chain {
    MDB_dbi links;
    MDB_dbi head;
};

int chain_open(store_t *store, chain_t **self_p)
{
    if (sodium_init() < 0)
        return ENOSYS;
    chain_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    int rc = store_table(store, "chain.links", 0, &self->links);
    if (rc == 0)
        rc = store_table(store, "chain.head", 0, &self->head);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void chain_destroy(chain_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

int chain_read_head(chain_t *self, MDB_txn *txn, chain_head_t *head)
{
    MDB_val k = { 4, "head" }, v;
    memset(head, 0, sizeof *head);
    int rc = mdb_get(txn, self->head, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc != 0)
        return rc;
    if (v.mv_size != 8 + CHAIN_HASH_BYTES)
        return MDB_CORRUPTED;
    head->links = store_get_u64(v.mv_data);
    memcpy(head->head, (uint8_t *)v.mv_data + 8, CHAIN_HASH_BYTES);
    return 0;
}

static void link_hash(const uint8_t prev[CHAIN_HASH_BYTES], uint64_t number, const uint8_t *payload,
                      size_t len, uint8_t out[CHAIN_HASH_BYTES])
{
    crypto_generichash_state st;
    uint8_t n[8];
    store_put_u64(n, number);
    crypto_generichash_init(&st, NULL, 0, CHAIN_HASH_BYTES);
    crypto_generichash_update(&st, prev, CHAIN_HASH_BYTES);
    crypto_generichash_update(&st, n, sizeof n);
    crypto_generichash_update(&st, payload, len);
    crypto_generichash_final(&st, out, CHAIN_HASH_BYTES);
}

static int item_valid(const Arrears__Envelope *env, reject_t *reject)
{
    if (env->body_case != ARREARS__ENVELOPE__BODY_DEMO_ITEM) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__UNKNOWN_TYPE,
                   "body", "the demo receiver takes only demo_item bodies");
        return 0;
    }
    const Arrears__DemoItem *item = env->demo_item;
    if (!item->has_number || item->number == 0) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                   "demo_item.number", "number must be 1 or more");
        return 0;
    }
    if (item->payload.len > CHAIN_PAYLOAD_MAX_BYTES) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
                   "demo_item.payload", "payload is %zu bytes; at most %d", item->payload.len,
                   CHAIN_PAYLOAD_MAX_BYTES);
        return 0;
    }
    return 1;
}

int chain_apply(void *app, MDB_txn *txn, const receiver_peer_t *from, const Arrears__Envelope *env,
                reject_t *reject)
{
    (void)from;
    chain_t *self = app;
    if (!item_valid(env, reject))
        return APPLY_REJECTED;
    chain_head_t head;
    int rc = chain_read_head(self, txn, &head);
    if (rc != 0)
        return rc;
    const Arrears__DemoItem *item = env->demo_item;
    uint8_t value[8 + CHAIN_HASH_BYTES], key[8];
    link_hash(head.head, item->number, item->payload.data, item->payload.len, value + 8);
    store_put_u64(value, item->number);
    store_put_u64(key, ++head.links);
    MDB_val k = { 8, key }, v = { sizeof value, value };
    rc = mdb_put(txn, self->links, &k, &v, MDB_APPEND);
    if (rc != 0)
        return rc;
    store_put_u64(value, head.links);
    MDB_val hk = { 4, "head" }, hv = { sizeof value, value };
    return mdb_put(txn, self->head, &hk, &hv, 0);
}

void chain_payload(uint64_t number, uint8_t *buf, size_t len)
{
    uint64_t x = number * 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < len; i++) {
        x ^= x >> 31;
        x *= 0xBF58476D1CE4E5B9ull;
        x ^= x >> 29;
        buf[i] = (uint8_t)x;
    }
}

int chain_verify(chain_t *self, MDB_txn *txn, uint64_t expected_count, size_t payload_bytes,
                 char *err, size_t err_len)
{
    chain_head_t head;
    int rc = chain_read_head(self, txn, &head);
    if (rc != 0)
        return rc;
    if (head.links != expected_count) {
        snprintf(err, err_len, "chain holds %llu links, expected %llu",
                 (unsigned long long)head.links, (unsigned long long)expected_count);
        return -1;
    }
    uint8_t prev[CHAIN_HASH_BYTES] = { 0 }, expect[CHAIN_HASH_BYTES];
    uint8_t *payload = malloc(payload_bytes ? payload_bytes : 1);
    rc = payload ? 0 : ENOMEM;
    for (uint64_t i = 1; rc == 0 && i <= expected_count; i++) {
        uint8_t key[8];
        store_put_u64(key, i);
        MDB_val k = { 8, key }, v;
        rc = mdb_get(txn, self->links, &k, &v);
        if (rc != 0 || v.mv_size != 8 + CHAIN_HASH_BYTES) {
            snprintf(err, err_len, "link %llu missing", (unsigned long long)i);
            rc = -1;
            break;
        }
        chain_payload(i, payload, payload_bytes);
        link_hash(prev, i, payload, payload_bytes, expect);
        if (store_get_u64(v.mv_data) != i || memcmp(expect, (uint8_t *)v.mv_data + 8, CHAIN_HASH_BYTES)) {
            snprintf(err, err_len, "link %llu holds item %llu or a wrong hash: an item was applied "
                     "twice, skipped or reordered", (unsigned long long)i,
                     (unsigned long long)store_get_u64(v.mv_data));
            rc = -1;
            break;
        }
        memcpy(prev, expect, sizeof prev);
    }
    free(payload);
    if (rc == 0 && memcmp(prev, head.head, CHAIN_HASH_BYTES) != 0) {
        snprintf(err, err_len, "the stored head does not match the recomputed chain");
        rc = -1;
    }
    return rc;
}
