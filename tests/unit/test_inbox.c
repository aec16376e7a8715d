/* test_inbox: the receiver's stored half of effectively-once delivery (shared/inbox.c),
 * and the envelope framing it sits behind (shared/envelope.c).
 * Proves, for the inbox: an unseen stream is at position 0; advance moves it; streams are
 * keyed by (principal, stream id), so one stream id under two principals is two
 * streams; an empty, missing or over-64-byte principal is INBOX_EPRINCIPAL everywhere; a
 * recorded permanent reject reads back exactly (class, code, field, reason), an
 * unrejected seq is MDB_NOTFOUND; streams are counted; an aborted transaction leaves no
 * trace. For the envelope: random bytes and truncated envelopes become a seq-0
 * MALFORMED reject; a stream message without stream_id and an envelope with both seq
 * and request_id are MALFORMED; valid stream messages and queries decode with their
 * kind; packed Acks (with the Applied they carry) and Rejects decode back to the same
 * values; a replay appended to packed bytes merges into the message, or does not fit;
 * code and class names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "inbox.h"

typedef struct {
    char dir[64];
    store_t *store;
    inbox_t *inbox;
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
    strcpy(f->dir, "/tmp/t3inboxXXXXXX");
    store_options_t o = store_default_options();
    if (!mkdtemp(f->dir) || store_open(&f->store, f->dir, &o) != STORE_OK
        || inbox_open(f->store, &f->inbox) != INBOX_OK) {
        store_destroy(&f->store);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    inbox_destroy(&f->inbox);
    store_destroy(&f->store);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* ---- one call per transaction ---- */

typedef enum { POSITION, ADVANCE, RECORD, FIND, COUNT } op_kind_t;

typedef struct {
    inbox_t *inbox;
    op_kind_t op;
    const char *principal;
    uint64_t stream_id;
    uint64_t value;      /* ADVANCE: applied_through; POSITION, COUNT: the answer */
    reject_t reject;     /* RECORD: what to record; FIND: seq in, the answer out */
    int then;            /* non-zero: the work returns it, aborting the transaction */
} op_t;

static int op_work(MDB_txn *txn, void *arg)
{
    op_t *o = arg;
    int rc = -1;
    switch (o->op) {
    case POSITION:
        rc = inbox_position(o->inbox, txn, o->principal, o->stream_id, &o->value);
        break;
    case ADVANCE:
        rc = inbox_advance(o->inbox, txn, o->principal, o->stream_id, o->value, 1700000000000);
        break;
    case RECORD:
        rc = inbox_record_reject(o->inbox, txn, o->principal, o->stream_id, &o->reject);
        break;
    case FIND:
        rc = inbox_find_reject(o->inbox, txn, o->principal, o->stream_id, o->reject.seq,
                               &o->reject);
        break;
    case COUNT:
        rc = inbox_stream_count(o->inbox, txn, &o->value);
        break;
    }
    return rc != 0 ? rc : o->then;
}

static int run(fixture_t *f, op_t *o)
{
    o->inbox = f->inbox;
    return o->op == POSITION || o->op == FIND || o->op == COUNT
        ? store_read(f->store, op_work, o) : store_write(f->store, op_work, o);
}

static uint64_t position(fixture_t *f, const char *principal, uint64_t stream_id)
{
    op_t o = { .op = POSITION, .principal = principal, .stream_id = stream_id, .value = 999 };
    assert_int_equal(run(f, &o), INBOX_OK);
    return o.value;
}

static void advance(fixture_t *f, const char *principal, uint64_t stream_id, uint64_t through)
{
    op_t o = { .op = ADVANCE, .principal = principal, .stream_id = stream_id, .value = through };
    assert_int_equal(run(f, &o), INBOX_OK);
}

static uint64_t stream_count(fixture_t *f)
{
    op_t o = { .op = COUNT, .value = 999 };
    assert_int_equal(run(f, &o), 0);
    return o.value;
}

static int find(fixture_t *f, const char *principal, uint64_t stream_id, uint64_t seq,
                reject_t *out)
{
    op_t o = { .op = FIND, .principal = principal, .stream_id = stream_id };
    o.reject.seq = seq;
    int rc = run(f, &o);
    *out = o.reject;
    return rc;
}

static void record(fixture_t *f, const char *principal, uint64_t stream_id, const reject_t *r)
{
    op_t o = { .op = RECORD, .principal = principal, .stream_id = stream_id, .reject = *r };
    assert_int_equal(run(f, &o), INBOX_OK);
}

/* ---- inbox ---- */

static void test_unseen_stream_at_zero(void **state)
{
    fixture_t *f = *state;
    assert_int_equal(position(f, "platform-a", 42), 0);
    assert_int_equal(stream_count(f), 0);   /* reading does not create */
}

static void test_advance_then_position(void **state)
{
    fixture_t *f = *state;
    advance(f, "platform-a", 42, 5);
    assert_int_equal(position(f, "platform-a", 42), 5);
    advance(f, "platform-a", 42, 6);
    assert_int_equal(position(f, "platform-a", 42), 6);
    advance(f, "platform-a", 42, UINT64_MAX);
    assert_int_equal(position(f, "platform-a", 42), UINT64_MAX);
    assert_int_equal(stream_count(f), 1);
}

static void test_streams_keyed_by_principal(void **state)
{
    fixture_t *f = *state;
    advance(f, "platform-a", 42, 5);
    advance(f, "platform-b", 42, 9);
    assert_int_equal(position(f, "platform-a", 42), 5);
    assert_int_equal(position(f, "platform-b", 42), 9);
    assert_int_equal(position(f, "platform-a", 43), 0);
    assert_int_equal(position(f, "platform", 42), 0);       /* a prefix is another name */
    assert_int_equal(position(f, "platform-ab", 42), 0);
    assert_int_equal(stream_count(f), 2);
    advance(f, "platform-a", 43, 1);
    assert_int_equal(stream_count(f), 3);
    assert_int_equal(position(f, "platform-a", 42), 5);
}

static void expect_principal_refused(fixture_t *f, const char *principal)
{
    reject_t r = { .klass = ARREARS__REJECT__CLASS__PERMANENT,
                   .code = ARREARS__REJECT__CODE__CONFLICT, .seq = 1 };
    op_kind_t ops[] = { POSITION, ADVANCE, RECORD, FIND };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        op_t o = { .op = ops[i], .principal = principal, .stream_id = 1, .value = 3,
                   .reject = r };
        assert_int_equal(run(f, &o), INBOX_EPRINCIPAL);
    }
}

static void test_principal_limits(void **state)
{
    fixture_t *f = *state;
    char name[INBOX_PRINCIPAL_MAX + 2];
    memset(name, 'p', sizeof name - 1);
    name[sizeof name - 1] = 0;   /* 65 bytes */
    expect_principal_refused(f, name);
    expect_principal_refused(f, "");
    expect_principal_refused(f, NULL);
    assert_int_equal(stream_count(f), 0);
    name[INBOX_PRINCIPAL_MAX] = 0;   /* 64 bytes: the longest accepted */
    advance(f, name, 7, 11);
    assert_int_equal(position(f, name, 7), 11);
    reject_t r = { .klass = ARREARS__REJECT__CLASS__PERMANENT,
                   .code = ARREARS__REJECT__CODE__UNAUTHORIZED, .seq = 12 };
    record(f, name, 7, &r);
    reject_t got;
    assert_int_equal(find(f, name, 7, 12, &got), INBOX_OK);
    assert_int_equal(got.code, ARREARS__REJECT__CODE__UNAUTHORIZED);
}

static void assert_reject_equal(const reject_t *got, const reject_t *want)
{
    assert_int_equal(got->klass, want->klass);
    assert_int_equal(got->code, want->code);
    assert_int_equal(got->seq, want->seq);
    assert_int_equal(got->expected_seq, 0);   /* permanent rejects carry none */
    assert_string_equal(got->field, want->field);
    assert_string_equal(got->reason, want->reason);
}

static void test_reject_round_trip(void **state)
{
    fixture_t *f = *state;
    reject_t r;
    reject_set(&r, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
               "schedule[3].due_date", "due date %s does not exist", "2024-02-30");
    r.seq = 7;
    r.expected_seq = 0;
    advance(f, "platform-a", 42, 6);
    record(f, "platform-a", 42, &r);
    assert_int_equal(position(f, "platform-a", 42), 6);   /* the caller advances */

    reject_t got;
    memset(&got, 0x55, sizeof got);
    assert_int_equal(find(f, "platform-a", 42, 7, &got), INBOX_OK);
    assert_reject_equal(&got, &r);
    assert_string_equal(got.field, "schedule[3].due_date");
    assert_string_equal(got.reason, "due date 2024-02-30 does not exist");
    assert_int_equal(find(f, "platform-a", 42, 6, &got), MDB_NOTFOUND);
    assert_int_equal(find(f, "platform-a", 42, 8, &got), MDB_NOTFOUND);
    assert_int_equal(find(f, "platform-b", 42, 7, &got), MDB_NOTFOUND);
    assert_int_equal(find(f, "platform-a", 43, 7, &got), MDB_NOTFOUND);
}

static void test_reject_longest_and_empty(void **state)
{
    fixture_t *f = *state;
    char field[100], reason[400];
    memset(field, 'f', sizeof field - 1);
    field[sizeof field - 1] = 0;
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    reject_t longest;
    reject_set(&longest, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
               field, "%s", reason);
    assert_int_equal(strlen(longest.field), REJECT_FIELD_MAX - 1);
    assert_int_equal(strlen(longest.reason), REJECT_REASON_MAX - 1);
    longest.seq = 1;
    longest.expected_seq = 0;
    record(f, "platform-a", 1, &longest);

    reject_t empty;
    reject_set(&empty, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED,
               NULL, "%s", "");
    empty.seq = 2;
    empty.expected_seq = 0;
    record(f, "platform-a", 1, &empty);

    reject_t got;
    assert_int_equal(find(f, "platform-a", 1, 1, &got), INBOX_OK);
    assert_reject_equal(&got, &longest);
    assert_int_equal(find(f, "platform-a", 1, 2, &got), INBOX_OK);
    assert_reject_equal(&got, &empty);
    assert_string_equal(got.field, "");
    assert_string_equal(got.reason, "");
}

static void test_stream_count(void **state)
{
    fixture_t *f = *state;
    for (uint64_t id = 1; id <= 5; id++)
        advance(f, id % 2 ? "platform-a" : "platform-b", id, id);
    assert_int_equal(stream_count(f), 5);
    advance(f, "platform-a", 1, 10);   /* an existing stream */
    assert_int_equal(stream_count(f), 5);
    reject_t r = { .klass = ARREARS__REJECT__CLASS__PERMANENT,
                   .code = ARREARS__REJECT__CODE__CONFLICT, .seq = 1 };
    record(f, "platform-c", 99, &r);   /* a reject alone is no position */
    assert_int_equal(stream_count(f), 5);
}

static void test_abort_leaves_no_trace(void **state)
{
    fixture_t *f = *state;
    op_t o = { .op = ADVANCE, .principal = "platform-a", .stream_id = 42, .value = 3,
               .then = 1234 };
    assert_int_equal(run(f, &o), 1234);
    reject_t r;
    reject_set(&r, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__CONFLICT, NULL,
               "already applied");
    r.seq = 4;
    op_t rec = { .op = RECORD, .principal = "platform-a", .stream_id = 42, .reject = r,
                 .then = 1234 };
    assert_int_equal(run(f, &rec), 1234);
    assert_int_equal(position(f, "platform-a", 42), 0);
    reject_t got;
    assert_int_equal(find(f, "platform-a", 42, 4, &got), MDB_NOTFOUND);
    assert_int_equal(stream_count(f), 0);
}

static void test_inbox_strerror(void **state)
{
    (void)state;
    assert_string_equal(inbox_strerror(INBOX_EPRINCIPAL),
                        "principal missing or longer than 64 bytes");
    assert_string_equal(inbox_strerror(STORE_EFULL), store_strerror(STORE_EFULL));
    assert_string_equal(inbox_strerror(MDB_NOTFOUND), mdb_strerror(MDB_NOTFOUND));
}

/* ---- envelope ---- */

static const char NOT_ONE_KIND[] = "an envelope is either a stream message (seq >= 1, no "
                                   "request_id) or a query (seq 0, request_id >= 1)";

static void assert_malformed(int rc, const Arrears__Envelope *env, const reject_t *r,
                             const char *field)
{
    assert_int_equal(rc, -1);
    assert_null(env);
    assert_int_equal(r->klass, ARREARS__REJECT__CLASS__PERMANENT);
    assert_int_equal(r->code, ARREARS__REJECT__CODE__MALFORMED);
    assert_int_equal(r->seq, 0);   /* nothing consumed */
    assert_int_equal(r->expected_seq, 0);
    assert_string_equal(r->field, field);
}

static void assert_undecodable(const uint8_t *bytes, size_t len)
{
    Arrears__Envelope *env = (Arrears__Envelope *)&env;
    envelope_kind_t kind;
    reject_t r;
    int rc = envelope_decode(bytes, len, &env, &kind, &r);
    assert_malformed(rc, env, &r, "");
    char want[REJECT_REASON_MAX];
    snprintf(want, sizeof want, "the %zu bytes received do not decode as an Envelope", len);
    assert_string_equal(r.reason, want);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Whatever random bytes do, the answer is a decoded envelope of a consistent kind or
 * a seq-0 MALFORMED reject — never anything else. */
static void test_decode_random_bytes(void **state)
{
    (void)state;
    uint64_t seed = 0x9e3779b97f4a7c15u;
    unsigned refused = 0, accepted = 0;
    for (int n = 0; n < 5000; n++) {
        uint8_t buf[96];
        size_t len = 1 + xorshift(&seed) % sizeof buf;
        for (size_t i = 0; i < len; i++)
            buf[i] = (uint8_t)xorshift(&seed);
        Arrears__Envelope *env = NULL;
        envelope_kind_t kind = 0;
        reject_t r;
        if (envelope_decode(buf, len, &env, &kind, &r) != 0) {
            assert_null(env);
            assert_int_equal(r.seq, 0);
            assert_int_equal(r.klass, ARREARS__REJECT__CLASS__PERMANENT);
            assert_int_equal(r.code, ARREARS__REJECT__CODE__MALFORMED);
            refused++;
            continue;
        }
        assert_true(kind == ENVELOPE_STREAM
                        ? env->seq >= 1 && env->stream_id >= 1 && env->request_id == 0
                        : kind == ENVELOPE_QUERY && env->seq == 0 && env->request_id >= 1);
        envelope_free(&env);
        accepted++;
    }
    assert_int_equal(refused + accepted, 5000);
    assert_true(refused > 4000);
    printf("random bytes: %u of 5000 refused as MALFORMED seq 0, %u decoded\n", refused,
           accepted);

    const uint8_t junk[8] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_undecodable(junk, sizeof junk);
    Arrears__Envelope *env = (Arrears__Envelope *)&env;   /* no bytes: an envelope of no kind */
    envelope_kind_t kind;
    reject_t r;
    int rc = envelope_decode(junk, 0, &env, &kind, &r);
    assert_malformed(rc, env, &r, "seq");
    assert_string_equal(r.reason, NOT_ONE_KIND);
}

typedef struct {
    Arrears__Envelope env;
    Arrears__DemoItem item;
    uint8_t trace[16];
    uint8_t payload[100];
} stream_msg_t;

static void stream_msg(stream_msg_t *m, uint64_t stream_id, uint64_t seq)
{
    m->env = (Arrears__Envelope)ARREARS__ENVELOPE__INIT;
    m->item = (Arrears__DemoItem)ARREARS__DEMO_ITEM__INIT;
    for (size_t i = 0; i < sizeof m->trace; i++)
        m->trace[i] = (uint8_t)(0xa0 + i);
    for (size_t i = 0; i < sizeof m->payload; i++)
        m->payload[i] = (uint8_t)(i * 3);
    m->item.has_number = 1;
    m->item.number = seq;
    m->item.has_payload = 1;
    m->item.payload = (ProtobufCBinaryData){ sizeof m->payload, m->payload };
    m->env.has_stream_id = stream_id != 0;
    m->env.stream_id = stream_id;
    m->env.has_seq = 1;
    m->env.seq = seq;
    m->env.has_sent_at_ms = 1;
    m->env.sent_at_ms = 1700000000123;
    m->env.has_trace_id = 1;
    m->env.trace_id = (ProtobufCBinaryData){ sizeof m->trace, m->trace };
    m->env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
    m->env.demo_item = &m->item;
}

static void test_decode_truncated(void **state)
{
    (void)state;
    stream_msg_t m;
    stream_msg(&m, 77, 3);
    uint8_t buf[512];
    size_t len = envelope_pack(&m.env, buf, sizeof buf);
    assert_true(len > 0);
    Arrears__Envelope bodiless = m.env;
    bodiless.body_case = ARREARS__ENVELOPE__BODY__NOT_SET;
    size_t body_at = arrears__envelope__get_packed_size(&bodiless);   /* the body is last */
    assert_true(body_at < len);
    assert_undecodable(buf, len - 1);
    for (size_t n = body_at + 1; n < len; n++)   /* every cut inside the body */
        assert_undecodable(buf, n);
}

static void expect_framing_refused(const Arrears__Envelope *env, const char *field,
                                   const char *reason)
{
    uint8_t buf[512];
    size_t len = envelope_pack(env, buf, sizeof buf);
    assert_true(len > 0);
    Arrears__Envelope *out = (Arrears__Envelope *)&out;
    envelope_kind_t kind;
    reject_t r;
    int rc = envelope_decode(buf, len, &out, &kind, &r);
    assert_malformed(rc, out, &r, field);
    assert_string_equal(r.reason, reason);
}

static void test_framing_refused(void **state)
{
    (void)state;
    stream_msg_t m;
    stream_msg(&m, 0, 5);   /* a stream message with stream_id 0 */
    expect_framing_refused(&m.env, "stream_id", "a stream message needs a stream_id of 1 or more");
    m.env.has_stream_id = 1;   /* explicitly 0 on the wire */
    expect_framing_refused(&m.env, "stream_id", "a stream message needs a stream_id of 1 or more");
    stream_msg(&m, 77, 5);
    m.env.has_request_id = 1;   /* both seq and request_id */
    m.env.request_id = 9;
    expect_framing_refused(&m.env, "request_id", NOT_ONE_KIND);
    stream_msg(&m, 77, 0);   /* neither */
    expect_framing_refused(&m.env, "seq", NOT_ONE_KIND);
}

static void test_decode_kinds(void **state)
{
    (void)state;
    stream_msg_t m;
    stream_msg(&m, 77, 3);
    uint8_t buf[512];
    size_t len = envelope_pack(&m.env, buf, sizeof buf);
    Arrears__Envelope *env = NULL;
    envelope_kind_t kind = 0;
    reject_t r;
    assert_int_equal(envelope_decode(buf, len, &env, &kind, &r), 0);
    assert_int_equal(kind, ENVELOPE_STREAM);
    assert_int_equal(env->stream_id, 77);
    assert_int_equal(env->seq, 3);
    assert_int_equal(env->sent_at_ms, 1700000000123);
    assert_memory_equal(env->trace_id.data, m.trace, sizeof m.trace);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_DEMO_ITEM);
    assert_int_equal(env->demo_item->number, 3);
    assert_memory_equal(env->demo_item->payload.data, m.payload, sizeof m.payload);
    envelope_free(&env);
    assert_null(env);
    envelope_free(&env);   /* harmless on NULL */

    Arrears__HealthQuery hq = ARREARS__HEALTH_QUERY__INIT;
    Arrears__Envelope q = ARREARS__ENVELOPE__INIT;
    q.has_request_id = 1;
    q.request_id = 9;
    q.body_case = ARREARS__ENVELOPE__BODY_HEALTH_QUERY;
    q.health_query = &hq;
    len = envelope_pack(&q, buf, sizeof buf);
    assert_int_equal(envelope_decode(buf, len, &env, &kind, &r), 0);
    assert_int_equal(kind, ENVELOPE_QUERY);
    assert_int_equal(env->request_id, 9);
    assert_int_equal(env->seq, 0);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_HEALTH_QUERY);
    envelope_free(&env);
}

static Arrears__Envelope *unpack(const uint8_t *buf, size_t len)
{
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, len, buf);
    assert_non_null(env);
    return env;
}

static void test_pack_ack(void **state)
{
    (void)state;
    uint8_t buf[ENVELOPE_REPLY_MAX_BYTES];
    size_t len = envelope_pack_ack(123, 45, 1, NULL, buf, sizeof buf);
    assert_true(len > 0);
    Arrears__Envelope *env = unpack(buf, len);
    assert_true(env->has_stream_id);
    assert_int_equal(env->stream_id, 123);
    assert_false(env->has_seq);
    assert_false(env->has_request_id);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_ACK);
    assert_true(env->ack->has_through_seq);
    assert_int_equal(env->ack->through_seq, 45);
    assert_true(env->ack->has_duplicate);
    assert_true(env->ack->duplicate);
    envelope_free(&env);

    len = envelope_pack_ack(123, 46, 0, NULL, buf, sizeof buf);
    env = unpack(buf, len);
    assert_int_equal(env->ack->through_seq, 46);
    assert_false(env->ack->has_duplicate);
    assert_false(env->ack->duplicate);
    envelope_free(&env);
    assert_int_equal(envelope_pack_ack(123, 46, 0, NULL, buf, len - 1), 0);   /* does not fit */
    assert_int_equal(envelope_pack_ack(123, 46, 0, NULL, buf, len), len);

    applied_t when = { 1767225600000, 42 };
    len = envelope_pack_ack(123, 47, 0, &when, buf, sizeof buf);
    env = unpack(buf, len);
    assert_non_null(env->ack->applied);
    assert_int_equal(env->ack->applied->at_ms, 1767225600000);
    assert_int_equal(env->ack->applied->order_us, 42);
    envelope_free(&env);
}

/* A replay appended to a packed message's bytes merges into it; the rest is unchanged. */
static void test_append_replay(void **state)
{
    (void)state;
    Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
    item.has_number = 1;
    item.number = 7;
    Arrears__Envelope msg = ARREARS__ENVELOPE__INIT;
    msg.has_stream_id = msg.has_seq = 1;
    msg.stream_id = 9;
    msg.seq = 3;
    msg.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
    msg.demo_item = &item;
    uint8_t buf[256];
    size_t len = envelope_pack(&msg, buf, sizeof buf);
    applied_t when = { 5000, 77 }, got = { 0, 0 };
    uint64_t through = 0;
    assert_int_equal(envelope_append_replay(buf, len, len + 4, &when, 12), 0);   /* no room */
    Arrears__Envelope *env = unpack(buf, len);
    assert_int_equal(envelope_replay_of(env, &got, &through), 0);   /* none */
    envelope_free(&env);
    size_t more = envelope_append_replay(buf, len, sizeof buf, &when, 12);
    assert_true(more > len);
    env = unpack(buf, more);
    assert_int_equal(env->seq, 3);
    assert_int_equal(env->demo_item->number, 7);
    assert_int_equal(envelope_replay_of(env, &got, &through), 1);
    assert_int_equal(got.at_ms, 5000);
    assert_int_equal(got.order_us, 77);
    assert_int_equal(through, 12);
    envelope_free(&env);
}

static void test_pack_reject(void **state)
{
    (void)state;
    reject_t r;
    reject_set(&r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, NULL,
               "expected seq %d", 10);
    r.seq = 12;
    r.expected_seq = 10;
    uint8_t buf[ENVELOPE_REPLY_MAX_BYTES];
    size_t len = envelope_pack_reject(77, 0, &r, buf, sizeof buf);
    assert_true(len > 0);
    Arrears__Envelope *env = unpack(buf, len);
    assert_true(env->has_stream_id);
    assert_int_equal(env->stream_id, 77);
    assert_false(env->has_request_id);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_REJECT);
    Arrears__Reject *got = env->reject;
    assert_int_equal(got->seq, 12);
    assert_int_equal(got->reject_class, ARREARS__REJECT__CLASS__REWIND);
    assert_int_equal(got->code, ARREARS__REJECT__CODE__GAP);
    assert_string_equal(got->reason, "expected seq 10");
    assert_null(got->field);   /* absent when empty */
    assert_true(got->has_expected_seq);
    assert_int_equal(got->expected_seq, 10);
    envelope_free(&env);
    assert_int_equal(envelope_pack_reject(77, 0, &r, buf, len - 1), 0);
}

static void test_pack_query_reject(void **state)
{
    (void)state;
    reject_t r;
    reject_set(&r, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
               "after_cursor", "cursor %s", "from the future");
    r.seq = 0;
    r.expected_seq = 0;
    uint8_t buf[ENVELOPE_REPLY_MAX_BYTES];
    size_t len = envelope_pack_reject(0, 55, &r, buf, sizeof buf);
    Arrears__Envelope *env = unpack(buf, len);
    assert_false(env->has_stream_id);
    assert_true(env->has_request_id);
    assert_int_equal(env->request_id, 55);
    assert_int_equal(env->reject->seq, 0);
    assert_int_equal(env->reject->reject_class, ARREARS__REJECT__CLASS__PERMANENT);
    assert_int_equal(env->reject->code, ARREARS__REJECT__CODE__INVALID_FIELD);
    assert_string_equal(env->reject->field, "after_cursor");
    assert_string_equal(env->reject->reason, "cursor from the future");
    assert_false(env->reject->has_expected_seq);
    envelope_free(&env);
}

/* The largest Reject a receiver can build fits the reply buffer bound. */
static void test_largest_reject_fits(void **state)
{
    (void)state;
    reject_t r;
    char field[100], reason[400];
    memset(field, 'f', sizeof field - 1);
    field[sizeof field - 1] = 0;
    memset(reason, 'r', sizeof reason - 1);
    reason[sizeof reason - 1] = 0;
    reject_set(&r, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__CURSOR_EXPIRED,
               field, "%s", reason);
    r.seq = UINT64_MAX;
    r.expected_seq = UINT64_MAX;
    uint8_t buf[ENVELOPE_REPLY_MAX_BYTES];
    size_t len = envelope_pack_reject(UINT64_MAX, UINT64_MAX, &r, buf, sizeof buf);
    assert_true(len > 0 && len <= ENVELOPE_REPLY_MAX_BYTES);
    Arrears__Envelope *env = unpack(buf, len);
    assert_string_equal(env->reject->field, r.field);
    assert_string_equal(env->reject->reason, r.reason);
    assert_int_equal(env->reject->expected_seq, UINT64_MAX);
    envelope_free(&env);
}

static void test_names(void **state)
{
    (void)state;
    static const char *codes[] = { "MALFORMED", "TOO_LARGE", "UNKNOWN_TYPE", "INVALID_FIELD",
                                   "UNAUTHORIZED", "CONFLICT", "GAP", "BUSY", "STORE_FULL",
                                   "CURSOR_EXPIRED" };
    for (int c = 1; c <= 10; c++)
        assert_string_equal(reject_code_name((Arrears__Reject__Code)c), codes[c - 1]);
    assert_string_equal(reject_code_name((Arrears__Reject__Code)0), "unknown");
    assert_string_equal(reject_code_name((Arrears__Reject__Code)11), "unknown");
    assert_string_equal(reject_class_name(ARREARS__REJECT__CLASS__PERMANENT), "PERMANENT");
    assert_string_equal(reject_class_name(ARREARS__REJECT__CLASS__REWIND), "REWIND");
    assert_string_equal(reject_class_name(ARREARS__REJECT__CLASS__RETRY_LATER), "RETRY_LATER");
    assert_string_equal(reject_class_name((Arrears__Reject__Class)0), "unknown");
    assert_string_equal(reject_class_name((Arrears__Reject__Class)4), "unknown");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_unseen_stream_at_zero),
        T(test_advance_then_position),
        T(test_streams_keyed_by_principal),
        T(test_principal_limits),
        T(test_reject_round_trip),
        T(test_reject_longest_and_empty),
        T(test_stream_count),
        T(test_abort_leaves_no_trace),
        cmocka_unit_test(test_inbox_strerror),
        cmocka_unit_test(test_decode_random_bytes),
        cmocka_unit_test(test_decode_truncated),
        cmocka_unit_test(test_framing_refused),
        cmocka_unit_test(test_decode_kinds),
        cmocka_unit_test(test_pack_ack),
        cmocka_unit_test(test_append_replay),
        cmocka_unit_test(test_pack_reject),
        cmocka_unit_test(test_pack_query_reject),
        cmocka_unit_test(test_largest_reject_fits),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
