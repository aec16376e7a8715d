/* test_outbox: the sender's stored half of effectively-once delivery (shared/outbox.c).
 * Proves: an outbox makes one stream id (non-zero, below 2^63) and keeps it across a
 * reopen; appends fill stream_id, seq 1, 2, 3, ... and sent_at_ms; an envelope without a
 * body and a message packing over max_message_bytes are refused with nothing appended
 * (the exact limit still passes); max_unacked answers OUTBOX_EFULL until an ack, noted
 * in memory or stored, frees room; an aborted transaction burns no seq; outbox_each
 * walks in order from a seq, decodes back to the same envelope, stops when told, and
 * says OUTBOX_EPRUNED below the first retained message; dead letters are copied with
 * their reject; pruning removes only acked messages past retain_ms or beyond
 * retain_max, at most max_deletes per call; an Ack's Applied is recorded per range of
 * seqs, keeps its first record, goes with the messages it names when they are pruned
 * and with the old stream on a roll; names and error strings. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outbox.h"

typedef struct {
    char dir[64];
    store_t *store;
    outbox_t *ob;
} fixture_t;

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
    strcpy(f->dir, "/tmp/t3outboxXXXXXX");
    store_options_t o = store_default_options();
    if (!mkdtemp(f->dir) || store_open(&f->store, f->dir, &o) != STORE_OK) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    outbox_destroy(&f->ob);
    store_destroy(&f->store);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

static outbox_t *open_outbox(fixture_t *f, const char *name, const outbox_limits_t *limits)
{
    outbox_destroy(&f->ob);
    assert_int_equal(outbox_open(f->store, name, limits, &f->ob), OUTBOX_OK);
    assert_non_null(f->ob);
    return f->ob;
}

/* ---- messages: a DemoItem whose payload is derived from its number ---- */

typedef struct {
    Arrears__Envelope env;
    Arrears__DemoItem item;
    uint8_t *payload;
} message_t;

static void message_init(message_t *m, uint64_t number, size_t payload_len)
{
    m->env = (Arrears__Envelope)ARREARS__ENVELOPE__INIT;
    m->item = (Arrears__DemoItem)ARREARS__DEMO_ITEM__INIT;
    m->payload = malloc(payload_len ? payload_len : 1);
    assert_non_null(m->payload);
    for (size_t i = 0; i < payload_len; i++)
        m->payload[i] = (uint8_t)(number * 17 + i);
    m->item.has_number = 1;
    m->item.number = number;
    m->item.has_payload = 1;
    m->item.payload = (ProtobufCBinaryData){ payload_len, m->payload };
    m->env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
    m->env.demo_item = &m->item;
}

static void message_free(message_t *m)
{
    free(m->payload);
    m->payload = NULL;
}

typedef struct {
    outbox_t *ob;
    message_t *msgs;
    size_t count;
    int64_t now_ms;
    int rc;          /* what outbox_append answered (the first failure) */
    uint64_t seq;    /* the seq of the last append that succeeded */
    int then;        /* the work's own return: 0 commits, anything else aborts */
} append_t;

static int append_work(MDB_txn *txn, void *arg)
{
    append_t *a = arg;
    a->rc = 0;
    for (size_t i = 0; i < a->count && a->rc == 0; i++) {
        uint64_t seq = 0;
        a->rc = outbox_append(a->ob, txn, &a->msgs[i].env, a->now_ms, &seq);
        if (a->rc == 0)
            a->seq = seq;
    }
    return a->then;
}

/* Appends one message in its own committed transaction; returns outbox_append's answer. */
static int append_one(fixture_t *f, message_t *m, int64_t now_ms, uint64_t *seq)
{
    append_t a = { f->ob, m, 1, now_ms, -1, 0, 0 };
    assert_int_equal(store_write(f->store, append_work, &a), 0);
    if (seq)
        *seq = a.seq;
    return a.rc;
}

/* Appends numbers first..first+count-1 with small payloads, one commit each. */
static void append_many(fixture_t *f, uint64_t first, size_t count, int64_t now_ms,
                        int64_t step_ms)
{
    for (size_t i = 0; i < count; i++) {
        message_t m;
        message_init(&m, first + i, 10 + i);
        assert_int_equal(append_one(f, &m, now_ms + (int64_t)i * step_ms, NULL), OUTBOX_OK);
        message_free(&m);
    }
}

typedef struct {
    outbox_t *ob;
    outbox_state_t st;
} state_call_t;

static int state_work(MDB_txn *txn, void *arg)
{
    state_call_t *c = arg;
    return outbox_state(c->ob, txn, &c->st);
}

static outbox_state_t get_state(fixture_t *f)
{
    state_call_t c = { f->ob, { 0 } };
    assert_int_equal(store_read(f->store, state_work, &c), 0);
    return c.st;
}

typedef struct {
    outbox_t *ob;
    uint64_t acked;
} acked_call_t;

static int acked_work(MDB_txn *txn, void *arg)
{
    acked_call_t *c = arg;
    return outbox_store_acked(c->ob, txn, c->acked);
}

static void store_acked(fixture_t *f, uint64_t acked)
{
    acked_call_t c = { f->ob, acked };
    assert_int_equal(store_write(f->store, acked_work, &c), 0);
}

/* ---- stream id, name ---- */

static void test_stream_id_kept(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "orders", &lim);
    assert_string_equal(outbox_name(f->ob), "orders");
    outbox_state_t st = get_state(f);
    assert_true(st.stream_id != 0);
    assert_true(st.stream_id <= (uint64_t)INT64_MAX);
    assert_int_equal(st.last_seq, 0);
    assert_int_equal(st.acked_through, 0);
    assert_int_equal(st.first_retained, 0);
    assert_int_equal(st.dead_letters, 0);
    append_many(f, 1, 2, 1000, 1);

    outbox_destroy(&f->ob);
    store_destroy(&f->store);
    store_options_t o = store_default_options();
    assert_int_equal(store_open(&f->store, f->dir, &o), STORE_OK);
    open_outbox(f, "orders", &lim);
    outbox_state_t again = get_state(f);
    assert_int_equal(again.stream_id, st.stream_id);
    assert_int_equal(again.last_seq, 2);
    assert_int_equal(again.first_retained, 1);

    open_outbox(f, "invoices", &lim);   /* another outbox, another stream */
    assert_true(get_state(f).stream_id != st.stream_id);
}

static void test_names(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    outbox_t *ob = (outbox_t *)f;
    assert_int_equal(outbox_open(f->store, "", &lim, &ob), OUTBOX_ENAME);
    assert_null(ob);
    char name[OUTBOX_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;   /* 33 characters */
    assert_int_equal(outbox_open(f->store, name, &lim, &ob), OUTBOX_ENAME);
    assert_null(ob);
    name[OUTBOX_NAME_MAX] = 0;   /* 32 characters: the longest accepted */
    open_outbox(f, name, &lim);
    assert_string_equal(outbox_name(f->ob), name);
}

/* ---- append ---- */

static void test_append_fills_fields(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "q", &lim);
    uint64_t stream_id = get_state(f).stream_id;
    for (uint64_t i = 1; i <= 3; i++) {
        message_t m;
        message_init(&m, i, 8);
        uint64_t seq = 0;
        assert_int_equal(append_one(f, &m, (int64_t)i * 1000, &seq), OUTBOX_OK);
        assert_int_equal(seq, i);
        assert_true(m.env.has_stream_id && m.env.has_seq && m.env.has_sent_at_ms);
        assert_int_equal(m.env.stream_id, stream_id);
        assert_int_equal(m.env.seq, i);
        assert_int_equal(m.env.sent_at_ms, (int64_t)i * 1000);
        message_free(&m);
    }
    message_t two[2];
    message_init(&two[0], 4, 1);
    message_init(&two[1], 5, 1);
    append_t a = { f->ob, two, 2, 9000, -1, 0, 0 };   /* two appends, one transaction */
    assert_int_equal(store_write(f->store, append_work, &a), 0);
    assert_int_equal(a.rc, 0);
    assert_int_equal(two[0].env.seq, 4);
    assert_int_equal(two[1].env.seq, 5);
    message_free(&two[0]);
    message_free(&two[1]);
    outbox_state_t st = get_state(f);
    assert_int_equal(st.last_seq, 5);
    assert_int_equal(st.first_retained, 1);
    assert_int_equal(st.acked_through, 0);
}

static void test_no_body_refused(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "q", &lim);
    append_many(f, 1, 1, 0, 0);
    message_t m;
    message_init(&m, 2, 4);
    m.env.body_case = ARREARS__ENVELOPE__BODY__NOT_SET;
    assert_int_equal(append_one(f, &m, 0, NULL), OUTBOX_ENOBODY);
    message_free(&m);
    assert_int_equal(get_state(f).last_seq, 1);
}

/* The payload length that makes the envelope pack to exactly `bytes` once the outbox
 * has filled in its stream id, the next seq and sent_at_ms. */
static size_t payload_for(fixture_t *f, size_t bytes, int64_t now_ms)
{
    outbox_state_t st = get_state(f);
    message_t m;
    message_init(&m, 7, 0);
    m.env.has_stream_id = m.env.has_seq = m.env.has_sent_at_ms = 1;
    m.env.stream_id = st.stream_id;
    m.env.seq = st.last_seq + 1;
    m.env.sent_at_ms = now_ms;
    size_t len = bytes - arrears__envelope__get_packed_size(&m.env);
    for (int i = 0; i < 4; i++) {   /* the length prefixes grow with the payload */
        m.item.payload.len = len;
        size_t packed = arrears__envelope__get_packed_size(&m.env);
        len = len + bytes - packed;
    }
    m.item.payload.len = len;
    assert_int_equal(arrears__envelope__get_packed_size(&m.env), bytes);
    message_free(&m);
    return len;
}

static void test_too_large_refused(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.max_message_bytes = 4096;
    open_outbox(f, "q", &lim);
    append_many(f, 1, 2, 0, 0);
    size_t exact = payload_for(f, lim.max_message_bytes, 5000);

    message_t m;
    message_init(&m, 3, exact + 1);
    assert_int_equal(append_one(f, &m, 5000, NULL), OUTBOX_ETOO_LARGE);   /* committed txn */
    message_free(&m);
    assert_int_equal(get_state(f).last_seq, 2);
    message_init(&m, 3, 2 << 20);   /* far over: a 2 MiB payload */
    assert_int_equal(append_one(f, &m, 5000, NULL), OUTBOX_ETOO_LARGE);
    message_free(&m);
    assert_int_equal(get_state(f).last_seq, 2);

    message_init(&m, 3, exact);   /* exactly max_message_bytes: accepted, no seq skipped */
    uint64_t seq = 0;
    assert_int_equal(append_one(f, &m, 5000, &seq), OUTBOX_OK);
    assert_int_equal(seq, 3);
    assert_int_equal(arrears__envelope__get_packed_size(&m.env), lim.max_message_bytes);
    message_free(&m);
    assert_int_equal(get_state(f).last_seq, 3);

    outbox_limits_t dflt = outbox_default_limits();   /* 1 MiB, the receivers' default */
    open_outbox(f, "big", &dflt);
    message_init(&m, 1, 2 << 20);
    assert_int_equal(append_one(f, &m, 0, NULL), OUTBOX_ETOO_LARGE);
    message_free(&m);
    assert_int_equal(get_state(f).last_seq, 0);
}

static void test_full_at_max_unacked(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.max_unacked = 3;
    open_outbox(f, "q", &lim);
    append_many(f, 1, 3, 0, 0);
    message_t m;
    message_init(&m, 4, 4);
    assert_int_equal(append_one(f, &m, 0, NULL), OUTBOX_EFULL);
    assert_int_equal(get_state(f).last_seq, 3);

    outbox_note_acked(f->ob, 1);   /* the sender's in-memory view */
    uint64_t seq = 0;
    assert_int_equal(append_one(f, &m, 0, &seq), OUTBOX_OK);
    assert_int_equal(seq, 4);
    assert_int_equal(append_one(f, &m, 0, NULL), OUTBOX_EFULL);

    store_acked(f, 2);   /* the stored mark */
    assert_int_equal(get_state(f).acked_through, 2);
    assert_int_equal(append_one(f, &m, 0, &seq), OUTBOX_OK);
    assert_int_equal(seq, 5);
    assert_int_equal(append_one(f, &m, 0, NULL), OUTBOX_EFULL);

    open_outbox(f, "q", &lim);   /* reopened: the stored ack still bounds the window */
    assert_int_equal(append_one(f, &m, 0, NULL), OUTBOX_EFULL);
    outbox_note_acked(f->ob, 5);
    assert_int_equal(append_one(f, &m, 0, &seq), OUTBOX_OK);
    assert_int_equal(seq, 6);
    message_free(&m);
    outbox_state_t st = get_state(f);
    assert_int_equal(st.last_seq, 6);
    assert_int_equal(st.acked_through, 2);   /* note_acked stores nothing */
}

static void test_abort_burns_no_seq(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "q", &lim);
    append_many(f, 1, 2, 0, 0);
    message_t m;
    message_init(&m, 3, 4);
    append_t a = { f->ob, &m, 1, 0, -1, 0, 777 };
    assert_int_equal(store_write(f->store, append_work, &a), 777);
    assert_int_equal(a.rc, OUTBOX_OK);
    assert_int_equal(a.seq, 3);   /* appended inside, then rolled back */
    assert_int_equal(get_state(f).last_seq, 2);
    uint64_t seq = 0;
    assert_int_equal(append_one(f, &m, 0, &seq), OUTBOX_OK);
    assert_int_equal(seq, 3);
    message_free(&m);
}

/* ---- outbox_each ---- */

typedef struct {
    uint64_t stream_id;
    uint64_t seqs[16];
    size_t visited;
    size_t stop_after;   /* 0: never stop */
    int bad;             /* a message that did not decode back to what was appended */
} walk_t;

static int visit(uint64_t seq, const uint8_t *bytes, size_t len, void *arg)
{
    walk_t *w = arg;
    Arrears__Envelope *env = NULL;
    envelope_kind_t kind;
    reject_t why;
    if (envelope_decode(bytes, len, &env, &kind, &why) != 0)
        w->bad++;
    else {
        /* append_many: number seq, payload 10 + (seq - 1) bytes, sent at seq * 100 */
        message_t want;
        message_init(&want, seq, 10 + seq - 1);
        w->bad += kind != ENVELOPE_STREAM || env->stream_id != w->stream_id || env->seq != seq
            || env->sent_at_ms != (int64_t)seq * 100 || env->request_id != 0
            || env->body_case != ARREARS__ENVELOPE__BODY_DEMO_ITEM
            || env->demo_item->number != seq || env->demo_item->payload.len != 10 + seq - 1
            || memcmp(env->demo_item->payload.data, want.payload, 10 + seq - 1) != 0;
        message_free(&want);
        envelope_free(&env);
    }
    w->seqs[w->visited++] = seq;
    return w->stop_after && w->visited == w->stop_after ? 7 : 0;
}

typedef struct {
    outbox_t *ob;
    uint64_t from, max;
    walk_t *walk;
} each_call_t;

static int each_work(MDB_txn *txn, void *arg)
{
    each_call_t *c = arg;
    return outbox_each(c->ob, txn, c->from, c->max, visit, c->walk);
}

static int walk(fixture_t *f, uint64_t from, uint64_t max, size_t stop_after, walk_t *w)
{
    memset(w, 0, sizeof *w);
    w->stream_id = get_state(f).stream_id;
    w->stop_after = stop_after;
    each_call_t c = { f->ob, from, max, w };
    return store_read(f->store, each_work, &c);
}

static void assert_seqs(const walk_t *w, uint64_t first, size_t count)
{
    assert_int_equal(w->bad, 0);
    assert_int_equal(w->visited, count);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(w->seqs[i], first + i);
}

static size_t prune(fixture_t *f, int64_t now_ms, size_t max_deletes);

static void test_each(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.retain_max = 2;
    open_outbox(f, "q", &lim);
    append_many(f, 1, 5, 100, 100);   /* seq n sent at n * 100 */
    walk_t w;
    assert_int_equal(walk(f, 2, 100, 0, &w), 0);
    assert_seqs(&w, 2, 4);
    assert_int_equal(walk(f, 1, 2, 0, &w), 0);   /* max_count */
    assert_seqs(&w, 1, 2);
    assert_int_equal(walk(f, 1, 100, 2, &w), 7);   /* the visitor's stop comes back */
    assert_seqs(&w, 1, 2);
    assert_int_equal(walk(f, 6, 100, 0, &w), 0);   /* past the end: nothing */
    assert_seqs(&w, 6, 0);

    store_acked(f, 3);
    assert_int_equal(prune(f, 600, 100), 3);   /* 5 held > retain_max 2, acked through 3 */
    assert_int_equal(get_state(f).first_retained, 4);
    assert_int_equal(walk(f, 2, 100, 0, &w), OUTBOX_EPRUNED);
    assert_int_equal(w.visited, 0);
    assert_int_equal(walk(f, 3, 100, 0, &w), OUTBOX_EPRUNED);
    assert_int_equal(walk(f, 4, 100, 0, &w), 0);
    assert_seqs(&w, 4, 2);
}

/* ---- dead letters ---- */

typedef struct {
    outbox_t *ob;
    const reject_t *reject;
} dead_call_t;

static int dead_work(MDB_txn *txn, void *arg)
{
    dead_call_t *c = arg;
    return outbox_dead_letter(c->ob, txn, c->reject);
}

typedef struct {
    uint64_t seq;
    const reject_t *want;
    int ok;
} dead_check_t;

/* Reads q.dead directly: class, code, reason NUL, then the packed envelope. */
static int dead_check_work(MDB_txn *txn, void *arg)
{
    dead_check_t *c = arg;
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, "q.dead", 0, &dbi);
    uint8_t key[8];
    store_put_u64(key, c->seq);
    MDB_val k = { 8, key }, v;
    if (rc == 0)
        rc = mdb_get(txn, dbi, &k, &v);
    if (rc != 0)
        return rc;
    const uint8_t *p = v.mv_data;
    size_t rlen = strlen(c->want->reason);
    if (p[0] != c->want->klass || p[1] != c->want->code || v.mv_size < 3 + rlen
        || memcmp(p + 2, c->want->reason, rlen + 1) != 0)
        return -1;
    Arrears__Envelope *env = NULL;
    envelope_kind_t kind;
    reject_t why;
    if (envelope_decode(p + 3 + rlen, v.mv_size - 3 - rlen, &env, &kind, &why) != 0)
        return -2;
    c->ok = env->seq == c->seq && env->demo_item && env->demo_item->number == c->seq;
    envelope_free(&env);
    return 0;
}

static void test_dead_letter(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "q", &lim);
    append_many(f, 1, 3, 100, 100);
    reject_t r = { 0 };
    char reason[400];
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    reject_set(&r, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
               "demo_item.number", "%s", reason);   /* cut to REJECT_REASON_MAX - 1 */
    assert_int_equal(strlen(r.reason), REJECT_REASON_MAX - 1);
    r.seq = 2;
    dead_call_t c = { f->ob, &r };
    assert_int_equal(store_write(f->store, dead_work, &c), 0);
    outbox_state_t st = get_state(f);
    assert_int_equal(st.dead_letters, 1);
    assert_int_equal(st.last_seq, 3);
    dead_check_t chk = { 2, &r, 0 };
    assert_int_equal(store_read(f->store, dead_check_work, &chk), 0);
    assert_true(chk.ok);

    r.seq = 99;   /* never appended */
    assert_int_equal(store_write(f->store, dead_work, &c), OUTBOX_EPRUNED);
    assert_int_equal(get_state(f).dead_letters, 1);

    walk_t w;   /* the message stays in the log: the ack mark decides what goes */
    assert_int_equal(walk(f, 2, 1, 0, &w), 0);
    assert_seqs(&w, 2, 1);

    store_acked(f, 1);   /* seq 1 pruned: no longer held either */
    assert_int_equal(prune(f, 100 + lim.retain_ms + 1, 10), 1);
    r.seq = 1;
    assert_int_equal(store_write(f->store, dead_work, &c), OUTBOX_EPRUNED);
    assert_int_equal(get_state(f).dead_letters, 1);
}

/* ---- pruning ---- */

typedef struct {
    outbox_t *ob;
    int64_t now_ms;
    size_t max_deletes;
    size_t deleted;
} prune_call_t;

static int prune_work(MDB_txn *txn, void *arg)
{
    prune_call_t *c = arg;
    return outbox_prune(c->ob, txn, c->now_ms, c->max_deletes, &c->deleted);
}

static size_t prune(fixture_t *f, int64_t now_ms, size_t max_deletes)
{
    prune_call_t c = { f->ob, now_ms, max_deletes, 99999 };
    assert_int_equal(store_write(f->store, prune_work, &c), 0);
    return c.deleted;
}

static void test_prune_retention(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.retain_ms = 1000;
    lim.retain_max = 3;
    open_outbox(f, "q", &lim);
    append_many(f, 1, 6, 100, 100);   /* seq n appended at n * 100 */
    assert_int_equal(prune(f, 1000000000, 100), 0);   /* nothing acked: nothing goes */
    assert_int_equal(get_state(f).first_retained, 1);

    store_acked(f, 4);
    assert_int_equal(prune(f, 600, 100), 3);   /* beyond retain_max: 6 held, keep 3 */
    assert_int_equal(get_state(f).first_retained, 4);
    assert_int_equal(prune(f, 1400, 100), 0);   /* seq 4 is exactly retain_ms old: kept */
    assert_int_equal(prune(f, 1401, 100), 1);   /* past retain_ms; seq 5 is not acked */
    outbox_state_t st = get_state(f);
    assert_int_equal(st.first_retained, 5);
    assert_int_equal(st.last_seq, 6);
    assert_int_equal(st.acked_through, 4);
    prune_call_t c = { f->ob, 1000000000, 100, 0 };
    c.deleted = 5;
    assert_int_equal(store_write(f->store, prune_work, &c), 0);
    assert_int_equal(c.deleted, 0);
}

static void test_prune_max_deletes(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.retain_ms = 1000;
    open_outbox(f, "q", &lim);
    append_many(f, 1, 10, 0, 0);
    store_acked(f, 10);
    assert_int_equal(prune(f, 5000, 0), 0);
    assert_int_equal(prune(f, 5000, 4), 4);
    assert_int_equal(get_state(f).first_retained, 5);
    assert_int_equal(prune(f, 5000, 4), 4);
    assert_int_equal(get_state(f).first_retained, 9);
    assert_int_equal(prune(f, 5000, 4), 2);
    assert_int_equal(prune(f, 5000, 4), 0);
    outbox_state_t st = get_state(f);
    assert_int_equal(st.first_retained, 0);   /* none held */
    assert_int_equal(st.last_seq, 10);        /* the seqs go on */
    walk_t pruned;
    memset(&pruned, 0, sizeof pruned);
    assert_int_equal(walk(f, 5, 10, 0, &pruned), OUTBOX_EPRUNED);   /* not a silent stall */
    uint64_t seq = 0;
    message_t m;
    message_init(&m, 11, 1);
    assert_int_equal(append_one(f, &m, 6000, &seq), OUTBOX_OK);
    message_free(&m);
    assert_int_equal(seq, 11);
    assert_int_equal(get_state(f).first_retained, 11);

    prune_call_t c = { f->ob, 100000, 100, 7 };   /* unacked stays, however old */
    assert_int_equal(store_write(f->store, prune_work, &c), 0);
    assert_int_equal(c.deleted, 0);
}

static int prune_null_work(MDB_txn *txn, void *arg)
{
    return outbox_prune(arg, txn, 1000000, 100, NULL);
}

static void test_prune_null_deleted(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.retain_ms = 10;
    open_outbox(f, "q", &lim);
    append_many(f, 1, 3, 0, 0);
    store_acked(f, 2);
    assert_int_equal(store_write(f->store, prune_null_work, f->ob), 0);
    assert_int_equal(get_state(f).first_retained, 3);
}

/* ---- realignment: a new stream, the un-acked messages renumbered from 1 ---- */

typedef struct {
    uint64_t stream_id;
    uint64_t seqs[16], numbers[16];
    size_t visited;
} renumbered_t;

static int visit_renumbered(uint64_t seq, const uint8_t *bytes, size_t len, void *arg)
{
    renumbered_t *w = arg;
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, len, bytes);
    assert_non_null(env);
    assert_int_equal(env->seq, seq);
    assert_int_equal(env->stream_id, w->stream_id);
    assert_int_equal(env->sent_at_ms, (int64_t)env->demo_item->number * 100);   /* kept */
    w->seqs[w->visited] = seq;
    w->numbers[w->visited++] = env->demo_item->number;
    arrears__envelope__free_unpacked(env, NULL);
    return 0;
}

static int renumbered_work(MDB_txn *txn, void *arg)
{
    void **a = arg;
    return outbox_each(a[0], txn, 1, 16, visit_renumbered, a[1]);
}

static int roll_work(MDB_txn *txn, void *arg)
{
    return outbox_roll(arg, txn, "test", 9, NULL);
}

static void test_roll_carries_unacked(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "r", &lim);
    append_many(f, 1, 5, 100, 100);
    store_acked(f, 2);
    uint64_t old = get_state(f).stream_id;
    assert_int_equal(store_write(f->store, roll_work, f->ob), 0);
    outbox_state_t st = get_state(f);
    assert_int_not_equal(st.stream_id, old);
    assert_int_equal(st.last_seq, 3);
    assert_int_equal(st.acked_through, 0);
    assert_int_equal(st.first_retained, 1);   /* the acked 1..2 are gone */
    renumbered_t w = { .stream_id = st.stream_id };
    void *a[2] = { f->ob, &w };
    assert_int_equal(store_read(f->store, renumbered_work, a), 0);
    assert_int_equal(w.visited, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(w.seqs[i], i + 1);
        assert_int_equal(w.numbers[i], i + 3);
    }
    open_outbox(f, "r", &lim);   /* the new stream is the one kept */
    assert_int_equal(get_state(f).stream_id, st.stream_id);
}

static int mark_work(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi;
    int rc = mdb_dbi_open(txn, OUTBOX_RESTORED_TABLE, MDB_CREATE, &dbi);
    uint8_t v8[8];
    store_put_u64(v8, *(uint64_t *)arg);
    MDB_val k = { strlen(OUTBOX_RESTORED_KEY), (void *)OUTBOX_RESTORED_KEY }, v = { 8, v8 };
    return rc ? rc : mdb_put(txn, dbi, &k, &v, 0);
}

static int settle_work(MDB_txn *txn, void *arg)
{
    void **a = arg;
    return outbox_settle_restore(a[0], txn, a[1]);
}

static bool settle(fixture_t *f)
{
    bool rolled = false;
    void *a[2] = { f->ob, &rolled };
    assert_int_equal(store_write(f->store, settle_work, a), 0);
    return rolled;
}

static void test_restore_marker_rolls_once(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    open_outbox(f, "m", &lim);
    append_many(f, 1, 3, 100, 100);
    assert_false(settle(f));   /* never restored */
    uint64_t old = get_state(f).stream_id, marker = 1234;
    assert_int_equal(store_write(f->store, mark_work, &marker), 0);
    open_outbox(f, "m", &lim);
    assert_true(settle(f));
    assert_int_not_equal(get_state(f).stream_id, old);
    assert_int_equal(get_state(f).last_seq, 3);
    assert_false(settle(f));   /* that marker is answered */
    open_outbox(f, "n", &lim);  /* an outbox made after the restore has nothing to move */
    assert_false(settle(f));
}

/* ---- Applied records: when the receiver first applied each range of seqs ---- */

typedef struct {
    outbox_t *ob;
    uint64_t through, seq;
    applied_t applied;
    bool found;
} applied_call_t;

static int note_work(MDB_txn *txn, void *arg)
{
    applied_call_t *c = arg;
    return outbox_note_applied(c->ob, txn, c->through, &c->applied);
}

static void note(fixture_t *f, uint64_t through, int64_t at_ms, int64_t order_us)
{
    applied_call_t c = { f->ob, through, 0, { at_ms, order_us }, false };
    assert_int_equal(store_write(f->store, note_work, &c), 0);
}

static int applied_work(MDB_txn *txn, void *arg)
{
    applied_call_t *c = arg;
    int rc = outbox_applied_of(c->ob, txn, c->seq, &c->applied, &c->found);
    return rc ? rc : outbox_applied_through(c->ob, txn, &c->through);
}

/* The at_ms recorded for seq, -1 for none; *through: the highest seq recorded. */
static int64_t applied_at(fixture_t *f, uint64_t seq, uint64_t *through)
{
    applied_call_t c = { f->ob, 0, seq, { 0, 0 }, false };
    assert_int_equal(store_read(f->store, applied_work, &c), 0);
    if (through)
        *through = c.through;
    return c.found ? c.applied.at_ms : -1;
}

static void test_applied_records(void **state)
{
    fixture_t *f = *state;
    outbox_limits_t lim = outbox_default_limits();
    lim.retain_ms = 1000;
    open_outbox(f, "a", &lim);
    append_many(f, 1, 6, 100, 100);
    uint64_t through = 9;
    assert_int_equal(applied_at(f, 1, &through), -1);
    assert_int_equal(through, 0);
    note(f, 2, 500, 1);
    note(f, 4, 700, 2);
    note(f, 3, 999, 3);   /* already recorded: the first record stays */
    assert_int_equal(applied_at(f, 1, NULL), 500);
    assert_int_equal(applied_at(f, 2, NULL), 500);
    assert_int_equal(applied_at(f, 3, &through), 700);
    assert_int_equal(through, 4);
    assert_int_equal(applied_at(f, 5, NULL), -1);
    store_acked(f, 4);
    assert_int_equal(prune(f, 1250, 100), 2);   /* seqs 1, 2 past retention */
    assert_int_equal(applied_at(f, 2, NULL), -1);
    assert_int_equal(applied_at(f, 3, NULL), 700);
    assert_int_equal(store_write(f->store, roll_work, f->ob), 0);
    assert_int_equal(applied_at(f, 1, &through), -1);   /* the old stream's seqs */
    assert_int_equal(through, 0);
}

static void test_strerror(void **state)
{
    (void)state;
    assert_string_equal(outbox_strerror(OUTBOX_ETOO_LARGE),
                        "message larger than the receiver's size limit");
    assert_string_equal(outbox_strerror(OUTBOX_EFULL),
                        "outbox full: too many messages not yet acknowledged");
    assert_string_equal(outbox_strerror(OUTBOX_ENOBODY), "envelope has no body");
    assert_string_equal(outbox_strerror(OUTBOX_ENAME), "outbox name empty or too long");
    assert_string_equal(outbox_strerror(OUTBOX_EPRUNED), "message no longer retained");
    assert_string_equal(outbox_strerror(STORE_EFULL), store_strerror(STORE_EFULL));
    assert_string_equal(outbox_strerror(MDB_NOTFOUND), mdb_strerror(MDB_NOTFOUND));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_stream_id_kept),
        T(test_names),
        T(test_append_fills_fields),
        T(test_no_body_refused),
        T(test_too_large_refused),
        T(test_full_at_max_unacked),
        T(test_abort_burns_no_seq),
        T(test_each),
        T(test_dead_letter),
        T(test_prune_retention),
        T(test_prune_max_deletes),
        T(test_prune_null_deleted),
        T(test_roll_carries_unacked),
        T(test_restore_marker_rolls_once),
        T(test_applied_records),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
