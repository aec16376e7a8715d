/* test_deadletters: an operator's dead letters (shared/deadletters.c) on a real store
 * with two outboxes, one clear ("to_a") and one sealed at rest ("to_b").
 * Proves: dead letters are listed in (outbox, seq) order with class, code, reason,
 * body type, size and sent time — sealed ones opened with the key —, counted, and paged
 * by the wire query with a cursor and a limit (1..500; 0 and 501 refused); inspect
 * gives the whole Envelope back; replay appends the same body as a new seq and removes
 * the dead letter in ONE transaction (aborted: neither happened; committed: both) and
 * audits it; discard removes it and audits it; an unknown outbox or seq, a missing or
 * oversize reason, a bad kind and a non-operator are refused with a code and a reason
 * and change no table (a digest of every table before and after); a letter that does
 * not open is unreadable, refused for replay (CONFLICT) and may be discarded; a full
 * outbox answers BUSY. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deadletters.h"
#include "svctest.h"

#define MESSAGES 4

typedef struct {
    char dir[SVCTEST_DIR_MAX];
    store_t *store;
    crypt_t *crypt;
    outbox_t *ob[2];     /* to_a (clear), to_b (sealed) */
    deadletters_t *dl;
} fixture_t;

/* ---- messages: DemoItems numbered 100 * outbox + i ---- */

typedef struct {
    outbox_t *ob;
    uint64_t number;
} append_t;

static int append_work(MDB_txn *txn, void *arg)
{
    append_t *a = arg;
    uint8_t payload[24];
    memset(payload, (int)a->number, sizeof payload);
    Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
    item.has_number = item.has_payload = 1;
    item.number = a->number;
    item.payload = (ProtobufCBinaryData){ sizeof payload, payload };
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
    env.demo_item = &item;
    return outbox_append(a->ob, txn, &env, 1000 + (int64_t)a->number, NULL);
}

typedef struct {
    outbox_t *ob;
    reject_t reject;
} kill_t;

static int kill_work(MDB_txn *txn, void *arg)
{
    kill_t *k = arg;
    return outbox_dead_letter(k->ob, txn, &k->reject);
}

static void kill(fixture_t *f, int ob, uint64_t seq, const char *why)
{
    kill_t k = { f->ob[ob], { 0 } };
    reject_set(&k.reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
               "x", "%s", why);
    k.reject.seq = seq;
    assert_int_equal(store_write(f->store, kill_work, &k), 0);
}

/* to_a: seqs 1..4 with 2 and 4 dead; to_b: 1..4 with 1, 2, 3 dead. */
static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (svctest_open("t3dead", f->dir, &f->store, &f->crypt) != 0)
        return -1;
    outbox_limits_t l = outbox_default_limits();
    l.max_unacked = 6;
    if (outbox_open(f->store, "to_a", &l, &f->ob[0]) || outbox_open(f->store, "to_b", &l, &f->ob[1]) ||
        outbox_seal_with(f->ob[1], f->crypt))
        return -1;
    for (int ob = 0; ob < 2; ob++)
        for (uint64_t i = 1; i <= MESSAGES; i++) {
            append_t a = { f->ob[ob], 100 * (uint64_t)ob + i };
            if (store_write(f->store, append_work, &a) != 0)
                return -1;
        }
    kill(f, 0, 2, "a2 refused");
    kill(f, 0, 4, "a4 refused");
    kill(f, 1, 1, "b1 refused");
    kill(f, 1, 2, "b2 refused");
    kill(f, 1, 3, "b3 refused");
    *state = f;
    return deadletters_new(f->store, f->ob, 2, f->crypt, &f->dl);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    deadletters_destroy(&f->dl);
    outbox_destroy(&f->ob[0]);
    outbox_destroy(&f->ob[1]);
    int rc = svctest_close(f->dir, &f->store, &f->crypt);
    free(f);
    return rc;
}

/* ---- a digest of every table the module may touch ---- */

static const char *const tables[] = { "to_a.log", "to_a.dead", "to_a.meta", "to_b.log",
                                      "to_b.dead", "to_b.meta", DEADLETTERS_AUDIT_TABLE };

static void fnv(uint64_t *h, const void *data, size_t len)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < len; i++)
        *h = (*h ^ p[i]) * 1099511628211ULL;
}

static int digest_work(MDB_txn *txn, void *arg)
{
    uint64_t *h = arg;
    *h = 14695981039346656037ULL;
    for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++) {
        MDB_dbi dbi;
        MDB_cursor *cur;
        MDB_val k, v;
        fnv(h, tables[t], strlen(tables[t]) + 1);
        if (mdb_dbi_open(txn, tables[t], 0, &dbi) != 0 || mdb_cursor_open(txn, dbi, &cur) != 0)
            return -1;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            fnv(h, k.mv_data, k.mv_size);
            fnv(h, v.mv_data, v.mv_size);
        }
        mdb_cursor_close(cur);
    }
    return 0;
}

static uint64_t digest(fixture_t *f)
{
    uint64_t h = 0;
    assert_int_equal(store_read(f->store, digest_work, &h), 0);
    return h;
}

/* ---- the wire side, in a transaction of its own ---- */

static const receiver_peer_t operator = { "ops-anna", "operator" };
static const receiver_peer_t platform = { "platform-a", "platform" };

typedef struct {
    fixture_t *f;
    const receiver_peer_t *from;
    Arrears__Envelope env;
    reject_t reject;
    int rc;            /* apply */
    size_t len;        /* query */
    uint8_t buf[1 << 16];
    int then;          /* the work's own return: non-zero aborts */
} call_t;

static int apply_work(MDB_txn *txn, void *arg)
{
    call_t *c = arg;
    c->rc = deadletters_apply(c->f->dl, txn, c->from, &c->env, 5000, &c->reject);
    return c->then;
}

static int query_work(MDB_txn *txn, void *arg)
{
    call_t *c = arg;
    c->len = deadletters_query(c->f->dl, txn, c->from, &c->env, c->buf, sizeof c->buf, &c->reject);
    return 0;
}

static call_t *act(fixture_t *f, const receiver_peer_t *from, Arrears__DeadLetterAction__Kind kind,
                   const char *outbox, uint64_t seq, const char *reason, int then)
{
    static Arrears__DeadLetterAction a;
    call_t *c = calloc(1, sizeof *c);
    a = (Arrears__DeadLetterAction)ARREARS__DEAD_LETTER_ACTION__INIT;
    a.has_kind = a.has_seq = 1;
    a.kind = kind;
    a.outbox = (char *)outbox;
    a.seq = seq;
    a.reason = (char *)reason;
    *c = (call_t){ .f = f, .from = from, .env = ARREARS__ENVELOPE__INIT, .then = then };
    c->env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER_ACTION;
    c->env.dead_letter_action = &a;
    int rc = store_write(f->store, apply_work, c);
    assert_int_equal(rc, then);
    return c;
}

/* Runs the query; returns the decoded reply (NULL when refused: c->reject says why). */
static Arrears__Envelope *ask(fixture_t *f, const receiver_peer_t *from,
                              const Arrears__DeadLetterQuery *q, reject_t *reject)
{
    call_t *c = calloc(1, sizeof *c);
    *c = (call_t){ .f = f, .from = from, .env = ARREARS__ENVELOPE__INIT };
    c->env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER_QUERY;
    c->env.dead_letter_query = (Arrears__DeadLetterQuery *)q;
    c->env.request_id = 7;
    assert_int_equal(store_read(f->store, query_work, c), 0);
    Arrears__Envelope *r = c->len ? arrears__envelope__unpack(NULL, c->len, c->buf) : NULL;
    if (reject)
        *reject = c->reject;
    free(c);
    return r;
}

/* ---- tests ---- */

typedef struct {
    char seen[256];
} walk_t;

static int walk_visit(const deadletter_t *d, void *arg)
{
    walk_t *w = arg;
    assert_string_equal(d->body_type, "demo_item");
    assert_false(d->unreadable);
    assert_true(d->has_sent_at);
    assert_true(d->size_bytes > 24);
    assert_int_equal(d->code, ARREARS__REJECT__CODE__INVALID_FIELD);
    assert_int_equal(d->klass, ARREARS__REJECT__CLASS__PERMANENT);
    assert_int_equal(d->sent_at_ms, 1000 + (d->outbox[3] == 'b' ? 100 : 0) + (int64_t)d->seq);
    size_t n = strlen(w->seen);
    snprintf(w->seen + n, sizeof w->seen - n, "%s%c%llu:%s", n ? "," : "", d->outbox[3],
             (unsigned long long)d->seq, d->reason);
    return 0;
}

static int walk_each(MDB_txn *txn, void *arg)
{
    void **a = arg;
    return deadletters_each(a[0], txn, -1, -1, 0, walk_visit, a[1]);
}

static void test_list_in_order_opened(void **state)
{
    fixture_t *f = *state;
    walk_t w = { "" };
    void *a[2] = { f->dl, &w };
    assert_int_equal(store_read(f->store, walk_each, a), 0);
    assert_string_equal(w.seen, "a2:a2 refused,a4:a4 refused,b1:b1 refused,b2:b2 refused,"
                                "b3:b3 refused");
}

/* Pages of `limit` through the wire query: "a2 a4|b1 b2|b3" */
static void pages(fixture_t *f, const char *outbox, uint32_t limit, const char *want,
                  uint64_t want_total)
{
    char seen[256] = "";
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    q.outbox = (char *)outbox;
    q.has_limit = 1;
    q.limit = limit;
    char after[OUTBOX_NAME_MAX + 1] = "";
    for (int page = 0; page < 10; page++) {
        q.after_outbox = after;
        Arrears__Envelope *r = ask(f, &operator, &q, NULL);
        assert_non_null(r);
        assert_int_equal(r->body_case, ARREARS__ENVELOPE__BODY_DEAD_LETTER_LIST);
        const Arrears__DeadLetterList *l = r->dead_letter_list;
        assert_int_equal(l->total, want_total);
        assert_int_equal(l->n_outboxes, 2);
        assert_true(l->n_letters <= limit);
        for (size_t i = 0; i < l->n_letters; i++) {
            size_t n = strlen(seen);
            snprintf(seen + n, sizeof seen - n, "%s%c%llu", i ? " " : "", l->letters[i]->outbox[3],
                     (unsigned long long)l->letters[i]->seq);
            assert_false(l->letters[i]->has_envelope);   /* a list never carries bodies */
        }
        bool more = l->more;
        if (more) {
            snprintf(after, sizeof after, "%s", l->next_outbox);
            q.has_after_seq = 1;
            q.after_seq = l->next_after_seq;
            strcat(seen, "|");
        }
        envelope_free(&r);
        if (!more)
            break;
    }
    assert_string_equal(seen, want);
}

static void test_paging(void **state)
{
    fixture_t *f = *state;
    pages(f, NULL, 2, "a2 a4|b1 b2|b3", 5);
    pages(f, "", 500, "a2 a4 b1 b2 b3", 5);
    pages(f, "to_b", 1, "b1|b2|b3", 3);
    pages(f, "to_a", 2, "a2 a4", 2);
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    q.has_limit = 1;
    reject_t r;
    for (uint32_t bad = 0; bad <= 501; bad += 501) {
        q.limit = bad;
        assert_null(ask(f, &operator, &q, &r));
        assert_int_equal(r.code, ARREARS__REJECT__CODE__INVALID_FIELD);
        assert_string_equal(r.field, "limit");
    }
}

static void test_inspect_gives_the_envelope(void **state)
{
    fixture_t *f = *state;
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    q.outbox = "to_b";
    q.has_inspect_seq = 1;
    q.inspect_seq = 2;
    Arrears__Envelope *r = ask(f, &operator, &q, NULL);
    assert_non_null(r);
    assert_int_equal(r->body_case, ARREARS__ENVELOPE__BODY_DEAD_LETTER);
    const Arrears__DeadLetter *d = r->dead_letter;
    assert_string_equal(d->reason, "b2 refused");
    assert_true(d->has_envelope);
    assert_int_equal(d->envelope.len, d->size_bytes);
    Arrears__Envelope *inner = arrears__envelope__unpack(NULL, d->envelope.len, d->envelope.data);
    assert_non_null(inner);
    assert_int_equal(inner->seq, 2);
    assert_int_equal(inner->demo_item->number, 102);
    arrears__envelope__free_unpacked(inner, NULL);
    envelope_free(&r);
}

typedef struct {
    outbox_t *ob;
    uint64_t last;
    uint64_t number;   /* the DemoItem at seq `last` */
} last_t;

static int last_visit(uint64_t seq, const uint8_t *env, size_t len, void *arg)
{
    last_t *l = arg;
    Arrears__Envelope *e = arrears__envelope__unpack(NULL, len, env);
    assert_non_null(e);
    assert_int_equal(e->seq, seq);
    l->number = e->demo_item->number;
    arrears__envelope__free_unpacked(e, NULL);
    return 0;
}

static int last_work(MDB_txn *txn, void *arg)
{
    last_t *l = arg;
    outbox_state_t s;
    int rc = outbox_state(l->ob, txn, &s);
    l->last = s.last_seq;
    return rc ? rc : outbox_each(l->ob, txn, s.last_seq, 1, last_visit, l);
}

static last_t last_of(fixture_t *f, int ob)
{
    last_t l = { f->ob[ob], 0, 0 };
    assert_int_equal(store_read(f->store, last_work, &l), 0);
    return l;
}

static void test_replay_is_one_transaction(void **state)
{
    fixture_t *f = *state;
    uint64_t before = digest(f);
    /* The same replay in a transaction that aborts after it: neither half stays. */
    free(act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY, "to_b", 2, "peer fixed", 99));
    assert_int_equal(digest(f), before);
    call_t *c = act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY, "to_b", 2,
                    "peer fixed", 0);
    assert_int_equal(c->rc, APPLY_OK);
    free(c);
    last_t l = last_of(f, 1);
    assert_int_equal(l.last, MESSAGES + 1);   /* a new seq, sealed and opened again */
    assert_int_equal(l.number, 102);          /* the same body */
    walk_t w = { "" };
    void *a[2] = { f->dl, &w };
    assert_int_equal(store_read(f->store, walk_each, a), 0);
    assert_string_equal(w.seen, "a2:a2 refused,a4:a4 refused,b1:b1 refused,b3:b3 refused");
    /* Gone now: the same seq again is refused and changes nothing. */
    before = digest(f);
    c = act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY, "to_b", 2, "again", 0);
    assert_int_equal(c->rc, APPLY_REJECTED);
    assert_string_equal(c->reject.field, "seq");
    free(c);
    assert_int_equal(digest(f), before);
}

static int audit_count(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi;
    MDB_stat st;
    int rc = mdb_dbi_open(txn, DEADLETTERS_AUDIT_TABLE, 0, &dbi);
    rc = rc ? rc : mdb_stat(txn, dbi, &st);
    *(size_t *)arg = rc ? 0 : st.ms_entries;
    return rc;
}

static void test_discard_and_audit(void **state)
{
    fixture_t *f = *state;
    call_t *c = act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__DISCARD, "to_a", 4,
                    "duplicate of a2", 0);
    assert_int_equal(c->rc, APPLY_OK);
    free(c);
    assert_int_equal(last_of(f, 0).last, MESSAGES);   /* nothing appended */
    size_t audited = 0;
    assert_int_equal(store_read(f->store, audit_count, &audited), 0);
    assert_int_equal(audited, 1);
    walk_t w = { "" };
    void *b[2] = { f->dl, &w };
    assert_int_equal(store_read(f->store, walk_each, b), 0);
    assert_string_equal(w.seen, "a2:a2 refused,b1:b1 refused,b2:b2 refused,b3:b3 refused");
}

static void refused(fixture_t *f, const receiver_peer_t *from, int kind, const char *outbox,
                    uint64_t seq, const char *reason, Arrears__Reject__Code code, const char *field)
{
    uint64_t before = digest(f);
    call_t *c = act(f, from, (Arrears__DeadLetterAction__Kind)kind, outbox, seq, reason, 0);
    assert_int_equal(c->rc, APPLY_REJECTED);
    assert_int_equal(c->reject.code, code);
    assert_string_equal(c->reject.field, field);
    assert_true(strlen(c->reject.reason) > 8);
    free(c);
    assert_int_equal(digest(f), before);
}

static void test_refusals_change_nothing(void **state)
{
    fixture_t *f = *state;
    char long_reason[DEADLETTERS_ACTION_REASON_MAX + 2];
    memset(long_reason, 'x', sizeof long_reason - 1);
    long_reason[sizeof long_reason - 1] = 0;
    const int replay = ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY;
    refused(f, &operator, replay, "to_z", 2, "why", ARREARS__REJECT__CODE__INVALID_FIELD, "outbox");
    refused(f, &operator, replay, "to_a", 3, "why", ARREARS__REJECT__CODE__INVALID_FIELD, "seq");
    refused(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__DISCARD, "to_a", 99, "why",
            ARREARS__REJECT__CODE__INVALID_FIELD, "seq");
    refused(f, &operator, replay, "to_a", 2, NULL, ARREARS__REJECT__CODE__INVALID_FIELD, "reason");
    refused(f, &operator, replay, "to_a", 2, "", ARREARS__REJECT__CODE__INVALID_FIELD, "reason");
    refused(f, &operator, replay, "to_a", 2, "two\nlines", ARREARS__REJECT__CODE__INVALID_FIELD,
            "reason");
    refused(f, &operator, replay, "to_a", 2, long_reason, ARREARS__REJECT__CODE__TOO_LARGE, "reason");
    refused(f, &operator, 7, "to_a", 2, "why", ARREARS__REJECT__CODE__INVALID_FIELD, "kind");
    refused(f, &platform, replay, "to_a", 2, "why", ARREARS__REJECT__CODE__UNAUTHORIZED, "");
    /* Queries: the same refusals, answered with no reply. */
    reject_t r;
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    assert_null(ask(f, &platform, &q, &r));
    assert_int_equal(r.code, ARREARS__REJECT__CODE__UNAUTHORIZED);
    q.outbox = "to_z";
    assert_null(ask(f, &operator, &q, &r));
    assert_int_equal(r.code, ARREARS__REJECT__CODE__INVALID_FIELD);
    assert_non_null(strstr(r.reason, "to_a, to_b"));   /* says which there are */
    q.outbox = "to_a";
    q.has_inspect_seq = 1;
    q.inspect_seq = 3;
    assert_null(ask(f, &operator, &q, &r));
    assert_string_equal(r.field, "seq");
}

/* Without the key a sealed letter is unreadable: listed, not replayed, discarded. */
static void test_unreadable_only_discarded(void **state)
{
    fixture_t *f = *state;
    deadletters_destroy(&f->dl);
    assert_int_equal(deadletters_new(f->store, f->ob, 2, NULL, &f->dl), 0);
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    q.outbox = "to_b";
    Arrears__Envelope *r = ask(f, &operator, &q, NULL);
    assert_non_null(r);
    assert_int_equal(r->dead_letter_list->n_letters, 3);
    assert_true(r->dead_letter_list->letters[0]->unreadable);
    assert_string_equal(r->dead_letter_list->letters[0]->body_type, "");
    envelope_free(&r);
    refused(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY, "to_b", 1, "why",
            ARREARS__REJECT__CODE__CONFLICT, "seq");
    call_t *c = act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__DISCARD, "to_b", 1,
                    "cannot be read", 0);
    assert_int_equal(c->rc, APPLY_OK);
    free(c);
}

/* max_unacked is 6 and 4 are unacked: two replays fit, the third waits (BUSY). */
static void test_full_outbox_is_busy(void **state)
{
    fixture_t *f = *state;
    for (uint64_t seq = 1; seq <= 2; seq++) {
        call_t *c = act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY, "to_b", seq,
                        "retry", 0);
        assert_int_equal(c->rc, APPLY_OK);
        free(c);
    }
    uint64_t before = digest(f);
    call_t *c = act(f, &operator, ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY, "to_b", 3, "retry", 0);
    assert_int_equal(c->rc, APPLY_REJECTED);
    assert_int_equal(c->reject.code, ARREARS__REJECT__CODE__BUSY);
    assert_int_equal(c->reject.klass, ARREARS__REJECT__CLASS__RETRY_LATER);
    free(c);
    assert_int_equal(digest(f), before);
}

static void test_names_and_errors(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(deadletters_outbox_count(f->dl), 2);
    assert_string_equal(deadletters_outbox_name(f->dl, 1), "to_b");
    assert_int_equal(deadletters_outbox_index(f->dl, "to_a"), 0);
    assert_int_equal(deadletters_outbox_index(f->dl, "to_"), -1);
    assert_int_equal(deadletters_outbox_index(f->dl, NULL), -1);
    assert_non_null(strstr(deadletters_strerror(DEADLETTERS_ESEQ), "seq"));
    assert_non_null(strstr(deadletters_strerror(DEADLETTERS_EUNREADABLE), "discard"));
    assert_non_null(strstr(deadletters_strerror(OUTBOX_EFULL), "full"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_list_in_order_opened, setup, teardown),
        cmocka_unit_test_setup_teardown(test_paging, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_gives_the_envelope, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_is_one_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_discard_and_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refusals_change_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_only_discarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_full_outbox_is_busy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_and_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
