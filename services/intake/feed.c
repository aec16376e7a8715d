/* feed: see feed.h. */
#include "feed.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "inbox.h"
#include "pbjson.h"

#define KEY_MAX (INBOX_PRINCIPAL_MAX + 1 + 8)
#define SEEN_HASH_BYTES 32
#define SEEN_KEY_BYTES (8 + SEEN_HASH_BYTES)

struct feed {
    feed_limits_t limits;
    MDB_dbi events;
    MDB_dbi meta;
    MDB_dbi seen;
};

typedef struct {
    uint64_t last;
    uint64_t earliest;   /* 0: nothing held yet */
} marks_t;

feed_limits_t feed_default_limits(void)
{
    return (feed_limits_t){ .retain_events = 1000000, .retain_ms = 90LL * 24 * 3600 * 1000 };
}

/* The seen key of an event: at_ms big-endian, then BLAKE2b-256 of its natural key —
 * platform, account_ref, kind, at_ms, stage, amount_minor, reference and detail, the
 * fields that say which news it is (platform.proto, FeedEventKind); the others
 * (days past due, outstanding, currency) describe the account at that moment. Strings
 * end with their NUL, so no two keys run together. at_ms first: new keys land at the
 * B-tree's right edge and pruned ones leave from its left, touching few pages. */
static MDB_val seen_key(const char *platform, const Arrears__FeedEvent *e,
                        uint8_t key[SEEN_KEY_BYTES])
{
    const char *texts[] = { platform, e->account_ref, e->stage, e->reference, e->detail };
    uint8_t numbers[8 + 1 + 8];
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, SEEN_HASH_BYTES);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        const char *t = texts[i] ? texts[i] : "";
        crypto_generichash_update(&st, (const uint8_t *)t, strlen(t) + 1);
    }
    store_put_u64(key, (uint64_t)e->at_ms);
    store_put_u64(numbers, (uint64_t)e->kind);
    numbers[8] = (uint8_t)e->has_amount_minor;
    store_put_u64(numbers + 9, e->has_amount_minor ? (uint64_t)e->amount_minor : 0);
    crypto_generichash_update(&st, key, 8);
    crypto_generichash_update(&st, numbers, sizeof numbers);
    crypto_generichash_final(&st, key + 8, SEEN_HASH_BYTES);
    return (MDB_val){ SEEN_KEY_BYTES, key };
}

static MDB_val seen_nothing(void)
{
    return (MDB_val){ 0, (void *)"" };
}

/* Notes the held event under k (platform NUL cursor) as seen. */
static int seen_put(feed_t *self, MDB_txn *txn, const MDB_val *k, const MDB_val *v)
{
    Arrears__FeedEvent *e = arrears__feed_event__unpack(NULL, v->mv_size, v->mv_data);
    if (!e)
        return MDB_CORRUPTED;
    uint8_t key[SEEN_KEY_BYTES];
    MDB_val sk = seen_key(k->mv_data, e, key), none = seen_nothing();
    arrears__feed_event__free_unpacked(e, NULL);
    return mdb_put(txn, self->seen, &sk, &none, 0);
}

/* A feed from the release before this one holds events but no seen keys: they are
 * noted once, so that their repeats are recognised too. Afterwards seen is never
 * empty while events are held (each event's key leaves with it). */
static int seen_backfill(MDB_txn *txn, void *arg)
{
    feed_t *self = arg;
    MDB_stat seen;
    MDB_cursor *cur;
    MDB_val k, v;
    int rc = mdb_stat(txn, self->seen, &seen);
    if (rc != 0 || seen.ms_entries > 0)
        return rc;
    if ((rc = mdb_cursor_open(txn, self->events, &cur)) != 0)
        return rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if ((rc = seen_put(self, txn, &k, &v)) != 0)
            break;
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int feed_open(store_t *store, const feed_limits_t *limits, feed_t **self_p)
{
    feed_t *self = calloc(1, sizeof *self);
    if (!self)
        return ENOMEM;
    self->limits = *limits;
    int rc = store_table(store, "feed.events", 0, &self->events);
    rc = rc ? rc : store_table(store, "feed.meta", 0, &self->meta);
    rc = rc ? rc : store_table(store, "feed.seen", 0, &self->seen);
    rc = rc ? rc : store_write(store, seen_backfill, self);
    if (rc != 0) {
        free(self);
        return rc;
    }
    *self_p = self;
    return 0;
}

void feed_destroy(feed_t **self_p)
{
    free(*self_p);
    *self_p = NULL;
}

static size_t event_key(uint8_t key[KEY_MAX], const char *platform, uint64_t cursor)
{
    size_t len = strnlen(platform, INBOX_PRINCIPAL_MAX);
    memcpy(key, platform, len);
    key[len] = 0;
    store_put_u64(key + len + 1, cursor);
    return len + 1 + 8;
}

static int marks_get(feed_t *self, MDB_txn *txn, const char *platform, marks_t *m)
{
    MDB_val k = { strnlen(platform, INBOX_PRINCIPAL_MAX), (void *)platform }, v;
    memset(m, 0, sizeof *m);
    int rc = mdb_get(txn, self->meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc == 0 && v.mv_size != 16)
        return MDB_CORRUPTED;
    if (rc == 0) {
        m->last = store_get_u64(v.mv_data);
        m->earliest = store_get_u64((uint8_t *)v.mv_data + 8);
    }
    return rc;
}

static int marks_put(feed_t *self, MDB_txn *txn, const char *platform, const marks_t *m)
{
    uint8_t value[16];
    store_put_u64(value, m->last);
    store_put_u64(value + 8, m->earliest);
    MDB_val k = { strnlen(platform, INBOX_PRINCIPAL_MAX), (void *)platform }, v = { 16, value };
    return mdb_put(txn, self->meta, &k, &v, 0);
}

int feed_append(feed_t *self, MDB_txn *txn, const char *platform, Arrears__FeedEvent *event,
                uint64_t *cursor)
{
    marks_t m;
    uint8_t seen[SEEN_KEY_BYTES];
    MDB_val sk = seen_key(platform, event, seen), none = seen_nothing();
    int rc = mdb_put(txn, self->seen, &sk, &none, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) {   /* a repeat: the platform heard it already */
        if (cursor)
            *cursor = 0;
        return 0;
    }
    rc = rc ? rc : marks_get(self, txn, platform, &m);
    if (rc != 0)
        return rc;
    event->has_cursor = 1;
    event->cursor = ++m.last;
    if (m.earliest == 0)
        m.earliest = m.last;
    size_t len = arrears__feed_event__get_packed_size(event);
    if (len > FEED_EVENT_MAX_BYTES)
        return EMSGSIZE;   /* validated fields keep events far below this */
    uint8_t key[KEY_MAX], value[FEED_EVENT_MAX_BYTES];
    arrears__feed_event__pack(event, value);
    MDB_val k = { event_key(key, platform, m.last), key }, v = { len, value };
    rc = mdb_put(txn, self->events, &k, &v, MDB_APPEND);
    if (rc == MDB_KEYEXIST)   /* MDB_APPEND needs global order; platforms interleave */
        rc = mdb_put(txn, self->events, &k, &v, 0);
    if (rc == 0)
        rc = marks_put(self, txn, platform, &m);
    if (rc == 0 && cursor)
        *cursor = m.last;
    return rc;
}

typedef struct {
    Arrears__FeedEvent **events;
    size_t count;
} page_events_t;

static void page_free(page_events_t *p)
{
    for (size_t i = 0; i < p->count; i++)
        arrears__feed_event__free_unpacked(p->events[i], NULL);
    free(p->events);
}

/* Reads at most max events and at most budget_bytes of them, so the reply always fits:
 * the platform pages on from the last cursor it got. */
static int page_read(feed_t *self, MDB_txn *txn, const char *platform, uint64_t from,
                     uint32_t max, size_t budget_bytes, page_events_t *p)
{
    p->events = calloc(max, sizeof *p->events);
    if (!p->events)
        return ENOMEM;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->events, &cur);
    if (rc != 0)
        return rc;
    uint8_t key[KEY_MAX];
    size_t prefix = event_key(key, platform, from) - 8;
    MDB_val k = { prefix + 8, key }, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    size_t used = 0;
    while (rc == 0 && p->count < max && k.mv_size == prefix + 8 && memcmp(k.mv_data, key, prefix) == 0) {
        used += v.mv_size + 8;   /* the event and its tag and length in the page */
        if (used > budget_bytes)
            break;
        p->events[p->count] = arrears__feed_event__unpack(NULL, v.mv_size, v.mv_data);
        if (!p->events[p->count]) {
            rc = MDB_CORRUPTED;
            break;
        }
        p->count++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND || rc == 0 ? 0 : rc;
}

static size_t page_pack(const page_events_t *p, const marks_t *m, uint64_t request_id,
                        uint8_t *buf, size_t cap)
{
    Arrears__FeedPage page = ARREARS__FEED_PAGE__INIT;
    page.n_events = p->count;
    page.events = p->events;
    page.has_last_cursor = page.has_earliest_cursor = 1;
    page.last_cursor = m->last;
    page.earliest_cursor = m->earliest;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_request_id = 1;
    env.request_id = request_id;
    env.body_case = ARREARS__ENVELOPE__BODY_FEED_PAGE;
    env.feed_page = &page;
    return envelope_pack(&env, buf, cap);
}

size_t feed_page(feed_t *self, MDB_txn *txn, const char *platform, uint64_t after_cursor,
                 uint32_t max_events, uint64_t request_id, uint8_t *buf, size_t cap,
                 reject_t *reject, int *error)
{
    marks_t m;
    *error = marks_get(self, txn, platform, &m);
    if (*error != 0)
        return 0;
    if (after_cursor >= m.last)
        after_cursor = m.last;   /* nothing follows the newest; never wrap past it */
    else if (after_cursor > 0 && after_cursor + 1 < m.earliest) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__CURSOR_EXPIRED,
                   "after_cursor", "events after cursor %llu are past retention; the earliest "
                   "held is %llu", (unsigned long long)after_cursor, (unsigned long long)m.earliest);
        reject->expected_seq = m.earliest;
        return 0;
    }
    uint32_t max = max_events == 0 ? FEED_PAGE_DEFAULT : max_events;
    max = max > FEED_PAGE_MAX ? FEED_PAGE_MAX : max;
    page_events_t p = { 0 };
    uint64_t from = after_cursor + 1 > m.earliest ? after_cursor + 1 : m.earliest;
    size_t budget = cap > 64 ? cap - 64 : 0;   /* room for the page's other fields */
    *error = from > m.last ? 0 : page_read(self, txn, platform, from, max, budget, &p);
    size_t len = *error == 0 ? page_pack(&p, &m, request_id, buf, cap) : 0;
    page_free(&p);
    if (len == 0 && *error == 0)
        *error = EMSGSIZE;
    return len;
}

/* Deletes the oldest event of one platform if it is past retention. */
static int prune_platform(feed_t *self, MDB_txn *txn, const char *platform, marks_t *m,
                          int64_t now_ms, int *removed)
{
    *removed = 0;
    if (m->earliest == 0 || m->earliest > m->last)
        return 0;
    uint8_t key[KEY_MAX];
    MDB_val k = { event_key(key, platform, m->earliest), key }, v;
    int rc = mdb_get(txn, self->events, &k, &v);
    if (rc != 0)
        return rc == MDB_NOTFOUND ? 0 : rc;
    Arrears__FeedEvent *e = arrears__feed_event__unpack(NULL, v.mv_size, v.mv_data);
    uint8_t seen[SEEN_KEY_BYTES];
    MDB_val sk = e ? seen_key(platform, e, seen) : seen_nothing();
    int64_t at_ms = e ? e->at_ms : 0;
    if (e)
        arrears__feed_event__free_unpacked(e, NULL);
    uint64_t held = m->last - m->earliest + 1;
    if (held <= self->limits.retain_events && now_ms - at_ms <= self->limits.retain_ms)
        return 0;
    /* Its repeat is forgotten with it: seen keys last as long as the feed's events. */
    rc = sk.mv_size ? mdb_del(txn, self->seen, &sk, NULL) : 0;
    rc = rc == 0 || rc == MDB_NOTFOUND ? mdb_del(txn, self->events, &k, NULL) : rc;
    if (rc == 0) {
        m->earliest++;
        *removed = 1;
    }
    return rc;
}

int feed_prune(feed_t *self, MDB_txn *txn, int64_t now_ms, size_t max_deletes, size_t *deleted)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->meta, &cur);
    if (rc != 0)
        return rc;
    size_t n = 0;
    MDB_val k, v;
    char platform[INBOX_PRINCIPAL_MAX + 1];
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0 && n < max_deletes) {
        if (k.mv_size > INBOX_PRINCIPAL_MAX || v.mv_size != 16) {
            rc = MDB_CORRUPTED;
            break;
        }
        memcpy(platform, k.mv_data, k.mv_size);
        platform[k.mv_size] = 0;
        marks_t m = { store_get_u64(v.mv_data), store_get_u64((uint8_t *)v.mv_data + 8) };
        int removed = 1;
        uint64_t before = m.earliest;
        while (rc == 0 && removed && n < max_deletes) {
            rc = prune_platform(self, txn, platform, &m, now_ms, &removed);
            n += (size_t)removed;
        }
        if (rc == 0 && m.earliest != before) {
            uint8_t value[16];
            store_put_u64(value, m.last);
            store_put_u64(value + 8, m.earliest);
            MDB_val nv = { 16, value };
            rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT);
        }
        if (rc == 0)
            rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (deleted)
        *deleted = n;
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int feed_dump(feed_t *self, MDB_txn *txn, FILE *out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, self->events, &cur);
    if (rc != 0)
        return rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        Arrears__FeedEvent *e = arrears__feed_event__unpack(NULL, v.mv_size, v.mv_data);
        if (!e) {
            rc = MDB_CORRUPTED;
            break;
        }
        e->has_at_ms = 0;   /* differs between runs */
        fprintf(out, "{\"feed\":{\"platform\":\"%.*s\",\"event\":",
                (int)strnlen(k.mv_data, k.mv_size), (const char *)k.mv_data);
        pbjson_print(out, &e->base);
        fputs("}}\n", out);
        arrears__feed_event__free_unpacked(e, NULL);
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
