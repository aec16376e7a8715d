/* test_intake: the service's decisions (services/intake/intake.c), called as the receiver
 * calls them — intake_apply inside a write transaction, intake_query inside a read one —
 * on a real store, key, outbox, book and feed, with a simulated clock. No sockets.
 *
 * Proves: a valid upsert from a platform is APPLY_OK and forwards one AccountEvent whose
 * platform is the connection's principal, with the version and received_at_ms = the
 * simulated clock; the same again is APPLY_DUPLICATE and forwards nothing; changed
 * content forwards version 2; an invalid message is APPLY_REJECTED INVALID_FIELD and
 * stores nothing; payments, contact updates, complaints and recalls are forwarded once
 * and refused (currency, unknown ref, conflict) without a forward; instants are judged by
 * the simulated clock, not the wall clock; with the outbox at max_unacked every new
 * platform message is APPLY_REJECTED RETRY_LATER BUSY and nothing changes (the dump and
 * the outbox are as they were) until an ack frees room, while status events from
 * staging still land; a StatusEvent from a platform, an AccountUpsert from a service and
 * anything from another role are UNAUTHORIZED; a StatusEvent from a service is appended
 * to the named platform's feed (its own cursor, whatever cursor it carried) and seen by
 * that platform's feed query only, once: told again (a restored staging re-sends its
 * events) it is APPLY_DUPLICATE and changes nothing, while one that differs in its
 * detail alone is news; a platform asking about a ref only another platform
 * holds gets known=false; health is answered to any role; an unknown query body, or a
 * platform-only query from a service, is UNKNOWN_TYPE. Two properties the design asks
 * for beyond the brief of each module: a status event sent without at_ms is not pruned
 * as "past retention" the moment it arrives, and intake's data file holds no borrower
 * personal data in clear, whichever table (book, outbox, feed) keeps it. With two staging
 * shards, a person's accounts go to the person's shard and everything about an account
 * follows it there (a changed borrower does not move it), an account accepted before
 * shards stays on shard 0, and last release's placement table moves into the account
 * records when the book opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <ftw.h>

#include "intake.h"

#define REPLY_CAP 65536
#define NOW_MS INT64_C(1772368200000)   /* 2026-03-01T12:30:00Z */
#define MAX_UNACKED 3
#define SEEN_MAX 16

static const receiver_peer_t LENDER_A = { "lender-a", "platform" };
static const receiver_peer_t LENDER_B = { "lender-b", "platform" };
static const receiver_peer_t STAGING = { "staging", "service" };
static const receiver_peer_t AGENT = { "agent-7", "agent" };

typedef struct {
    char dir[256];
    store_t *store;
    crypt_t *crypt;
    intake_t app;
    uint8_t buf[REPLY_CAP];
} fixture_t;

/* ---- fixture ----------------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static int open_app(fixture_t *f, uint32_t shards)
{
    intake_t *a = &f->app;
    outbox_limits_t ol = outbox_default_limits();
    feed_limits_t fl = feed_default_limits();
    ol.max_unacked = MAX_UNACKED;
    a->zones = tz_cache_new(NULL, 64);
    a->clock = aclock_new_simulated(NOW_MS);
    a->limits = validate_default_limits();
    a->started_ms = aclock_monotonic_ms();
    if (!a->zones || !a->clock)
        return -1;
    shards_t staging = { .count = shards };
    a->shards = shards;
    /* Sealed, as intake's main opens them. */
    int rc = shards_open_outboxes(&staging, f->store, &ol, f->crypt, a->to_staging);
    rc = rc ? rc : accepted_open(f->store, f->crypt, &a->accepted);
    return rc ? rc : feed_open(f->store, &fl, &a->feed);
}

static int setup_shards(void **state, uint32_t shards)
{
    fixture_t *f = calloc(1, sizeof *f);
    const char *tmp = getenv("TMPDIR");
    char key[300];
    if (!f)
        return -1;
    snprintf(f->dir, sizeof f->dir, "%s/arrears-ut-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(key, sizeof key, "%s/intake.key", f->dir);
    store_options_t o = store_default_options();
    if (crypt_key_create(key) != CRYPT_OK || crypt_load(key, &f->crypt) != CRYPT_OK ||
        store_open(&f->store, f->dir, &o) != STORE_OK || open_app(f, shards) != 0)
        return -1;
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return setup_shards(state, 1);
}

static int setup_two_shards(void **state)
{
    return setup_shards(state, 2);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    shards_close_outboxes(f->app.to_staging);
    accepted_destroy(&f->app.accepted);
    feed_destroy(&f->app.feed);
    tz_cache_destroy(&f->app.zones);
    aclock_destroy(&f->app.clock);
    store_destroy(&f->store);
    crypt_destroy(&f->crypt);
    int rc = nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return rc;
}

/* ---- messages ---------------------------------------------------------------------- */

typedef struct {
    Arrears__AccountUpsert upsert;
    Arrears__Borrower borrower;
    Arrears__ContactPoint phone, email;
    Arrears__ContactPoint *phones[1], *emails[1];
    Arrears__Instalment instalments[2];
    Arrears__Instalment *schedule[2];
    uint8_t id_hash[32];
} account_msg_t;

static void borrower_build(account_msg_t *a)
{
    a->phone = (Arrears__ContactPoint)ARREARS__CONTACT_POINT__INIT;
    a->phone.value = "+447700900123";
    a->phone.has_verified = a->phone.verified = 1;
    a->phones[0] = &a->phone;
    a->email = (Arrears__ContactPoint)ARREARS__CONTACT_POINT__INIT;
    a->email.value = "borrower@example.org";
    a->emails[0] = &a->email;
    memset(a->id_hash, 0x3c, sizeof a->id_hash);
    a->borrower = (Arrears__Borrower)ARREARS__BORROWER__INIT;
    a->borrower.name = "Ada Example";
    a->borrower.has_id_number_hash = 1;
    a->borrower.id_number_hash = (ProtobufCBinaryData){ 32, a->id_hash };
    a->borrower.n_phones = 1;
    a->borrower.phones = a->phones;
    a->borrower.n_emails = 1;
    a->borrower.emails = a->emails;
    a->borrower.time_zone = "Europe/London";
    a->borrower.language = "en-GB";
}

static void account_build(account_msg_t *a, const char *ref)
{
    borrower_build(a);
    for (int i = 0; i < 2; i++) {
        a->instalments[i] = (Arrears__Instalment)ARREARS__INSTALMENT__INIT;
        a->instalments[i].due_date = i == 0 ? "2026-01-15" : "2026-02-15";
        a->instalments[i].has_principal_minor = 1;
        a->instalments[i].principal_minor = 50000;
        a->schedule[i] = &a->instalments[i];
    }
    a->upsert = (Arrears__AccountUpsert)ARREARS__ACCOUNT_UPSERT__INIT;
    a->upsert.account_ref = (char *)ref;
    a->upsert.has_product = 1;
    a->upsert.product = ARREARS__PRODUCT__ONLINE_LOAN;
    a->upsert.currency = "GBP";
    a->upsert.borrower = &a->borrower;
    a->upsert.n_schedule = 2;
    a->upsert.schedule = a->schedule;
    a->upsert.opened_date = "2025-12-01";
}

static Arrears__PaymentPosted payment_build(const char *account_ref, const char *payment_ref)
{
    Arrears__PaymentPosted p = ARREARS__PAYMENT_POSTED__INIT;
    p.account_ref = (char *)account_ref;
    p.payment_ref = (char *)payment_ref;
    p.has_amount_minor = 1;
    p.amount_minor = 2500;
    p.currency = "GBP";
    p.has_paid_at_ms = 1;
    p.paid_at_ms = NOW_MS - 60000;
    p.has_channel = 1;
    p.channel = ARREARS__PAYMENT_CHANNEL__BANK_TRANSFER;
    return p;
}

typedef struct {
    Arrears__StatusEvent status;
    Arrears__FeedEvent event;
} status_msg_t;

static void status_build(status_msg_t *s, const char *platform, const char *ref)
{
    s->event = (Arrears__FeedEvent)ARREARS__FEED_EVENT__INIT;
    s->event.account_ref = (char *)ref;
    s->event.has_kind = 1;
    s->event.kind = ARREARS__FEED_EVENT_KIND__STAGE_CHANGED;
    s->event.has_at_ms = 1;
    s->event.at_ms = NOW_MS;
    s->event.stage = "early";
    s->event.has_days_past_due = 1;
    s->event.days_past_due = 14;
    s->event.has_cursor = 1;
    s->event.cursor = 99;   /* intake gives its own */
    s->status = (Arrears__StatusEvent)ARREARS__STATUS_EVENT__INIT;
    s->status.platform = (char *)platform;
    s->status.event = &s->event;
}

/* An envelope around body: a stream message (seq 1) or, with a request id, a query. */
static Arrears__Envelope envelope(Arrears__Envelope__BodyCase body, void *msg, uint64_t request_id)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = body;
    switch (body) {
    case ARREARS__ENVELOPE__BODY_ACCOUNT_UPSERT: env.account_upsert = msg; break;
    case ARREARS__ENVELOPE__BODY_PAYMENT_POSTED: env.payment_posted = msg; break;
    case ARREARS__ENVELOPE__BODY_CONTACT_UPDATE: env.contact_update = msg; break;
    case ARREARS__ENVELOPE__BODY_COMPLAINT: env.complaint = msg; break;
    case ARREARS__ENVELOPE__BODY_RECALL: env.recall = msg; break;
    case ARREARS__ENVELOPE__BODY_STATUS_EVENT: env.status_event = msg; break;
    case ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS_QUERY: env.account_status_query = msg; break;
    case ARREARS__ENVELOPE__BODY_FEED_QUERY: env.feed_query = msg; break;
    case ARREARS__ENVELOPE__BODY_HEALTH_QUERY: env.health_query = msg; break;
    case ARREARS__ENVELOPE__BODY_HEALTH: env.health = msg; break;
    default: assert_null(msg); break;
    }
    if (request_id) {
        env.has_request_id = 1;
        env.request_id = request_id;
    } else {
        env.has_stream_id = env.has_seq = 1;
        env.stream_id = 5;
        env.seq = 1;
    }
    return env;
}

/* ---- apply ------------------------------------------------------------------------- */

typedef struct {
    intake_t *app;
    const receiver_peer_t *from;
    const Arrears__Envelope *env;
    reject_t reject;
    int rc;
} apply_call_t;

/* Commits whatever intake decided, as the receiver's batch would: a refusal must
 * already have written nothing. */
static int apply_work(MDB_txn *txn, void *arg)
{
    apply_call_t *c = arg;
    memset(&c->reject, 0, sizeof c->reject);
    c->rc = intake_apply(c->app, txn, c->from, c->env, &c->reject);
    return c->rc == APPLY_OK || c->rc == APPLY_DUPLICATE || c->rc == APPLY_REJECTED ? 0 : c->rc;
}

static apply_call_t apply(fixture_t *f, const receiver_peer_t *from, Arrears__Envelope__BodyCase body,
                          void *msg)
{
    Arrears__Envelope env = envelope(body, msg, 0);
    apply_call_t c = { &f->app, from, &env, { 0 }, 0 };
    assert_int_equal(store_write(f->store, apply_work, &c), 0);
    return c;
}

static void expect_applied(fixture_t *f, const receiver_peer_t *from,
                           Arrears__Envelope__BodyCase body, void *msg, int rc)
{
    apply_call_t c = apply(f, from, body, msg);
    if (c.rc != rc)
        fail_msg("expected %d, got %d (%s %s: %s)", rc, c.rc, reject_code_name(c.reject.code),
                 c.reject.field, c.reject.reason);
}

static void expect_rejected(fixture_t *f, const receiver_peer_t *from,
                            Arrears__Envelope__BodyCase body, void *msg,
                            Arrears__Reject__Class klass, Arrears__Reject__Code code,
                            const char *field)
{
    apply_call_t c = apply(f, from, body, msg);
    assert_int_equal(c.rc, APPLY_REJECTED);
    assert_int_equal(c.reject.klass, klass);
    assert_int_equal(c.reject.code, code);
    if (field)
        assert_string_equal(c.reject.field, field);
    assert_true(c.reject.reason[0] != 0);
}

#define UPSERT ARREARS__ENVELOPE__BODY_ACCOUNT_UPSERT
#define PAYMENT ARREARS__ENVELOPE__BODY_PAYMENT_POSTED
#define CONTACT ARREARS__ENVELOPE__BODY_CONTACT_UPDATE
#define COMPLAINT ARREARS__ENVELOPE__BODY_COMPLAINT
#define RECALL ARREARS__ENVELOPE__BODY_RECALL
#define STATUS ARREARS__ENVELOPE__BODY_STATUS_EVENT
#define PERMANENT ARREARS__REJECT__CLASS__PERMANENT

/* ---- the outbox and the book ----------------------------------------------------------- */

typedef struct {
    outbox_t *ob;
    outbox_state_t st;
    Arrears__Envelope *seen[SEEN_MAX];
    uint64_t seqs[SEEN_MAX];
    size_t n;
} outbox_call_t;

static int visit(uint64_t seq, const uint8_t *envelope, size_t len, void *arg)
{
    outbox_call_t *c = arg;
    assert_true(c->n < SEEN_MAX);
    c->seqs[c->n] = seq;
    c->seen[c->n] = arrears__envelope__unpack(NULL, len, envelope);
    assert_non_null(c->seen[c->n]);
    c->n++;
    return 0;
}

static int outbox_work(MDB_txn *txn, void *arg)
{
    outbox_call_t *c = arg;
    int rc = outbox_state(c->ob, txn, &c->st);
    return rc ? rc : outbox_each(c->ob, txn, 1, SEEN_MAX, visit, c);
}

/* Everything in the outbox to staging shard i, decoded; free with outbox_free. */
static outbox_call_t outbox_read_shard(fixture_t *f, uint32_t i)
{
    outbox_call_t c = { .ob = f->app.to_staging[i] };
    assert_int_equal(store_read(f->store, outbox_work, &c), 0);
    assert_int_equal(c.n, c.st.last_seq);
    return c;
}

static outbox_call_t outbox_read(fixture_t *f)
{
    return outbox_read_shard(f, 0);
}

static void outbox_free(outbox_call_t *c)
{
    for (size_t i = 0; i < c->n; i++)
        arrears__envelope__free_unpacked(c->seen[i], NULL);
}

static uint64_t outbox_last(fixture_t *f)
{
    outbox_call_t c = outbox_read(f);
    outbox_free(&c);
    return c.st.last_seq;
}

/* The AccountEvent at seq (1-based) of the outbox, checked for what every one holds. */
static const Arrears__AccountEvent *forwarded(outbox_call_t *c, uint64_t seq,
                                              const char *platform, const char *ref,
                                              int64_t received_at_ms)
{
    assert_true(seq >= 1 && seq <= c->n);
    const Arrears__Envelope *env = c->seen[seq - 1];
    assert_int_equal(c->seqs[seq - 1], seq);
    assert_int_equal(env->seq, seq);
    assert_int_equal(env->sent_at_ms, received_at_ms);
    assert_int_equal(env->body_case, ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT);
    const Arrears__AccountEvent *e = env->account_event;
    assert_string_equal(e->platform, platform);
    assert_string_equal(e->account_ref, ref);
    assert_true(e->has_received_at_ms);
    assert_int_equal(e->received_at_ms, received_at_ms);
    return e;
}

typedef struct {
    accepted_t *acc;
    FILE *out;
} dump_call_t;

static int dump_work(MDB_txn *txn, void *arg)
{
    dump_call_t *c = arg;
    return accepted_dump(c->acc, txn, c->out);
}

static char *dump(fixture_t *f)
{
    char *text = NULL;
    size_t len = 0;
    dump_call_t c = { f->app.accepted, open_memstream(&text, &len) };
    assert_non_null(c.out);
    assert_int_equal(store_read(f->store, dump_work, &c), 0);
    assert_int_equal(fclose(c.out), 0);
    return text;
}

/* ---- queries --------------------------------------------------------------------------- */

typedef struct {
    fixture_t *f;
    const receiver_peer_t *from;
    const Arrears__Envelope *env;
    size_t len;
    reject_t reject;
} query_call_t;

static int query_work(MDB_txn *txn, void *arg)
{
    query_call_t *c = arg;
    c->len = intake_query(&c->f->app, txn, c->from, c->env, c->f->buf, REPLY_CAP, &c->reject);
    return 0;
}

static query_call_t query_raw(fixture_t *f, const receiver_peer_t *from,
                              Arrears__Envelope__BodyCase body, void *msg)
{
    Arrears__Envelope env = envelope(body, msg, 8080);
    query_call_t c = { f, from, &env, 0, { 0 } };
    assert_int_equal(store_read(f->store, query_work, &c), 0);
    return c;
}

/* A query that must be answered: the decoded reply, request id checked. */
static Arrears__Envelope *query(fixture_t *f, const receiver_peer_t *from,
                                Arrears__Envelope__BodyCase body, void *msg,
                                Arrears__Envelope__BodyCase reply)
{
    query_call_t c = query_raw(f, from, body, msg);
    if (c.len == 0)
        fail_msg("query refused: %s %s: %s", reject_code_name(c.reject.code), c.reject.field,
                 c.reject.reason);
    Arrears__Envelope *env = arrears__envelope__unpack(NULL, c.len, f->buf);
    assert_non_null(env);
    assert_int_equal(env->body_case, reply);
    assert_true(env->has_request_id);
    assert_int_equal(env->request_id, 8080);
    return env;
}

static void expect_query_refused(fixture_t *f, const receiver_peer_t *from,
                                 Arrears__Envelope__BodyCase body, void *msg,
                                 Arrears__Reject__Code code, const char *field)
{
    query_call_t c = query_raw(f, from, body, msg);
    assert_int_equal(c.len, 0);
    assert_int_equal(c.reject.klass, PERMANENT);
    assert_int_equal(c.reject.code, code);
    if (field)
        assert_string_equal(c.reject.field, field);
}

static Arrears__Envelope *feed_of(fixture_t *f, const receiver_peer_t *from, uint64_t after)
{
    Arrears__FeedQuery q = ARREARS__FEED_QUERY__INIT;
    q.has_after_cursor = 1;
    q.after_cursor = after;
    return query(f, from, ARREARS__ENVELOPE__BODY_FEED_QUERY, &q, ARREARS__ENVELOPE__BODY_FEED_PAGE);
}

static size_t feed_count(fixture_t *f, const receiver_peer_t *from)
{
    Arrears__Envelope *env = feed_of(f, from, 0);
    size_t n = env->feed_page->n_events;
    arrears__envelope__free_unpacked(env, NULL);
    return n;
}

static Arrears__Envelope *status_of(fixture_t *f, const receiver_peer_t *from, const char *ref)
{
    Arrears__AccountStatusQuery q = ARREARS__ACCOUNT_STATUS_QUERY__INIT;
    q.account_ref = (char *)ref;
    Arrears__Envelope *env = query(f, from, ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS_QUERY, &q,
                                   ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS);
    assert_string_equal(env->account_status->account_ref, ref);
    assert_true(env->account_status->has_known);
    return env;
}

static int known(fixture_t *f, const receiver_peer_t *from, const char *ref)
{
    Arrears__Envelope *env = status_of(f, from, ref);
    int k = env->account_status->known;
    arrears__envelope__free_unpacked(env, NULL);
    return k;
}

/* ---- upserts ---------------------------------------------------------------------------- */

static void test_upsert_forwarded(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);

    outbox_call_t c = outbox_read(f);
    assert_int_equal(c.n, 1);
    const Arrears__AccountEvent *e = forwarded(&c, 1, "lender-a", "ACC-1", NOW_MS);
    assert_true(e->has_version);
    assert_int_equal(e->version, 1);
    assert_int_equal(e->event_case, ARREARS__ACCOUNT_EVENT__EVENT_UPSERT);
    assert_string_equal(e->upsert->account_ref, "ACC-1");
    assert_string_equal(e->upsert->borrower->name, "Ada Example");
    assert_int_equal(e->upsert->n_schedule, 2);
    outbox_free(&c);
    assert_true(known(f, &LENDER_A, "ACC-1"));
}

static void test_upsert_duplicate_and_new_version(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    char *before = dump(f);
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_DUPLICATE);
    assert_int_equal(outbox_last(f), 1);
    char *after = dump(f);
    assert_string_equal(before, after);
    free(before);
    free(after);

    assert_int_equal(aclock_advance_to(f->app.clock, NOW_MS + 5000), ACLOCK_OK);
    a.instalments[0].principal_minor = 40000;
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    expect_applied(f, &LENDER_B, UPSERT, &a.upsert, APPLY_OK);   /* lender-b's own ACC-1 */
    outbox_call_t c = outbox_read(f);
    assert_int_equal(c.n, 3);
    assert_int_equal(forwarded(&c, 2, "lender-a", "ACC-1", NOW_MS + 5000)->version, 2);
    assert_int_equal(forwarded(&c, 3, "lender-b", "ACC-1", NOW_MS + 5000)->version, 1);
    outbox_free(&c);
}

/* A message just under the inbound limit (here padded by a field this version does not
 * know) grows when wrapped for staging: refused as TOO_LARGE before anything is written,
 * never a batch-killing store error. */
static void test_oversize_forward_refused_first(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    size_t pad_bytes = (1 << 20) - 200;
    uint8_t *pad = calloc(1, pad_bytes);
    ProtobufCMessageUnknownField unknown = { .tag = 999, .wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
                                             .len = pad_bytes, .data = pad };
    a.upsert.base.n_unknown_fields = 1;
    a.upsert.base.unknown_fields = &unknown;
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
                    "body");
    a.upsert.base.n_unknown_fields = 0;
    a.upsert.base.unknown_fields = NULL;
    free(pad);
    char *text = dump(f);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(outbox_last(f), 0);
}

static void test_invalid_upsert_rejected(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    a.upsert.currency = "POUNDS";
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, PERMANENT,
                    ARREARS__REJECT__CODE__INVALID_FIELD, "currency");
    account_build(&a, "ACC-1");
    a.borrower.time_zone = "Mars/Olympus_Mons";
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, PERMANENT,
                    ARREARS__REJECT__CODE__INVALID_FIELD, "borrower.time_zone");
    account_build(&a, "bad ref!");
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, PERMANENT,
                    ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");

    char *text = dump(f);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(outbox_last(f), 0);
    assert_false(known(f, &LENDER_A, "ACC-1"));
}

/* ---- other platform messages ---------------------------------------------------------- */

static void test_payment(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1");
    expect_rejected(f, &LENDER_A, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                    "account_ref");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    expect_rejected(f, &LENDER_B, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                    "account_ref");
    p.currency = "EUR";
    expect_rejected(f, &LENDER_A, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                    "currency");
    p.currency = "GBP";
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_OK);
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_DUPLICATE);
    p.amount_minor = 2600;
    expect_rejected(f, &LENDER_A, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__CONFLICT, NULL);

    outbox_call_t c = outbox_read(f);
    assert_int_equal(c.n, 2);
    const Arrears__AccountEvent *e = forwarded(&c, 2, "lender-a", "ACC-1", NOW_MS);
    assert_int_equal(e->event_case, ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT);
    assert_string_equal(e->payment->payment_ref, "PAY-1");
    assert_int_equal(e->payment->amount_minor, 2500);
    outbox_free(&c);

    Arrears__Envelope *env = status_of(f, &LENDER_A, "ACC-1");
    assert_int_equal(env->account_status->payments_received, 1);
    arrears__envelope__free_unpacked(env, NULL);
}

/* Instants are judged by intake's (simulated) clock: the wall clock is far later. */
static void test_simulated_clock_judges_instants(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1");
    p.paid_at_ms = NOW_MS + 3600000;   /* an hour in the simulated future */
    expect_rejected(f, &LENDER_A, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                    "paid_at_ms");
    assert_int_equal(aclock_advance_to(f->app.clock, NOW_MS + 7200000), ACLOCK_OK);
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_OK);
    outbox_call_t c = outbox_read(f);
    forwarded(&c, 2, "lender-a", "ACC-1", NOW_MS + 7200000);
    outbox_free(&c);
}

static void test_contact_complaint_recall(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    Arrears__ContactUpdate u = ARREARS__CONTACT_UPDATE__INIT;
    u.account_ref = "ACC-1";
    u.has_clear_phones = u.clear_phones = 1;
    expect_applied(f, &LENDER_A, CONTACT, &u, APPLY_OK);
    expect_applied(f, &LENDER_A, CONTACT, &u, APPLY_DUPLICATE);

    Arrears__Complaint m = ARREARS__COMPLAINT__INIT;
    m.account_ref = "ACC-1";
    m.complaint_ref = "CMP-1";
    m.has_kind = 1;
    m.kind = ARREARS__COMPLAINT_KIND__DISPUTE;
    m.category = "amount";
    m.text = "not mine";
    m.has_received_at_ms = 1;
    m.received_at_ms = NOW_MS - 1000;
    outbox_note_acked(f->app.to_staging[0], 2);   /* room for 3 more under MAX_UNACKED */
    expect_applied(f, &LENDER_A, COMPLAINT, &m, APPLY_OK);
    expect_applied(f, &LENDER_A, COMPLAINT, &m, APPLY_DUPLICATE);

    Arrears__Recall r = ARREARS__RECALL__INIT;
    r.account_ref = "ACC-1";
    expect_applied(f, &LENDER_A, RECALL, &r, APPLY_OK);
    expect_applied(f, &LENDER_A, RECALL, &r, APPLY_DUPLICATE);

    outbox_call_t c = outbox_read(f);
    assert_int_equal(c.n, 4);
    const Arrears__AccountEvent *e = forwarded(&c, 2, "lender-a", "ACC-1", NOW_MS);
    assert_int_equal(e->event_case, ARREARS__ACCOUNT_EVENT__EVENT_CONTACT);
    assert_int_equal(e->version, 2);
    assert_int_equal(forwarded(&c, 3, "lender-a", "ACC-1", NOW_MS)->event_case,
                     ARREARS__ACCOUNT_EVENT__EVENT_COMPLAINT);
    assert_int_equal(forwarded(&c, 4, "lender-a", "ACC-1", NOW_MS)->event_case,
                     ARREARS__ACCOUNT_EVENT__EVENT_RECALL);
    outbox_free(&c);
}

/* ---- a full outbox -------------------------------------------------------------------- */

typedef struct {
    outbox_t *ob;
    uint64_t through;
} ack_call_t;

static int ack_work(MDB_txn *txn, void *arg)
{
    ack_call_t *c = arg;
    return outbox_store_acked(c->ob, txn, c->through);
}

static void test_busy_when_outbox_full(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    const char *refs[MAX_UNACKED] = { "ACC-1", "ACC-2", "ACC-3" };
    for (int i = 0; i < MAX_UNACKED; i++) {
        account_build(&a, refs[i]);
        expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    }
    char *before = dump(f);
    account_build(&a, "ACC-4");
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, ARREARS__REJECT__CLASS__RETRY_LATER,
                    ARREARS__REJECT__CODE__BUSY, NULL);
    account_build(&a, "ACC-1");
    a.instalments[1].principal_minor = 1;   /* a new version of a held account */
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, ARREARS__REJECT__CLASS__RETRY_LATER,
                    ARREARS__REJECT__CODE__BUSY, NULL);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1");
    expect_rejected(f, &LENDER_A, PAYMENT, &p, ARREARS__REJECT__CLASS__RETRY_LATER,
                    ARREARS__REJECT__CODE__BUSY, NULL);
    char *after = dump(f);
    assert_string_equal(before, after);
    free(after);
    assert_int_equal(outbox_last(f), MAX_UNACKED);
    assert_false(known(f, &LENDER_A, "ACC-4"));

    /* Staging's status events need no room: they must not wait on staging. */
    status_msg_t s;
    status_build(&s, "lender-a", "ACC-1");
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_OK);
    assert_int_equal(outbox_last(f), MAX_UNACKED);

    ack_call_t ack = { f->app.to_staging[0], 1 };   /* an ack frees one place */
    assert_int_equal(store_write(f->store, ack_work, &ack), 0);
    account_build(&a, "ACC-4");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    expect_rejected(f, &LENDER_A, PAYMENT, &p, ARREARS__REJECT__CLASS__RETRY_LATER,
                    ARREARS__REJECT__CODE__BUSY, NULL);
    outbox_note_acked(f->app.to_staging[0], MAX_UNACKED + 1);
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_OK);
    assert_int_equal(outbox_last(f), MAX_UNACKED + 2);
    free(before);
}

/* ---- roles ------------------------------------------------------------------------------ */

static void test_status_event_from_platform_unauthorized(void **state)
{
    fixture_t *f = *state;
    status_msg_t s;
    status_build(&s, "lender-a", "ACC-1");
    expect_rejected(f, &LENDER_A, STATUS, &s.status, PERMANENT,
                    ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    assert_int_equal(feed_count(f, &LENDER_A), 0);
    expect_rejected(f, &AGENT, STATUS, &s.status, PERMANENT, ARREARS__REJECT__CODE__UNAUTHORIZED,
                    NULL);
    assert_int_equal(feed_count(f, &LENDER_A), 0);
}

static void test_status_event_from_service(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    status_msg_t s;
    status_build(&s, "lender-a", "ACC-1");
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_OK);
    s.event.kind = ARREARS__FEED_EVENT_KIND__PAYMENT_APPLIED;
    s.event.stage = NULL;
    s.event.reference = "PAY-1";
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_OK);
    assert_int_equal(outbox_last(f), 1);   /* nothing goes back to staging */

    Arrears__Envelope *env = feed_of(f, &LENDER_A, 0);
    const Arrears__FeedPage *page = env->feed_page;
    assert_int_equal(page->n_events, 2);
    assert_int_equal(page->events[0]->cursor, 1);
    assert_string_equal(page->events[0]->account_ref, "ACC-1");
    assert_int_equal(page->events[0]->kind, ARREARS__FEED_EVENT_KIND__STAGE_CHANGED);
    assert_string_equal(page->events[0]->stage, "early");
    assert_int_equal(page->events[1]->cursor, 2);
    assert_string_equal(page->events[1]->reference, "PAY-1");
    assert_int_equal(page->last_cursor, 2);
    arrears__envelope__free_unpacked(env, NULL);
    assert_int_equal(feed_count(f, &LENDER_B), 0);

    env = status_of(f, &LENDER_A, "ACC-1");
    assert_string_equal(env->account_status->stage, "early");
    assert_int_equal(env->account_status->days_past_due, 14);
    arrears__envelope__free_unpacked(env, NULL);

    s.status.platform = NULL;   /* invalid: refused, the feed unchanged */
    expect_rejected(f, &STAGING, STATUS, &s.status, PERMANENT,
                    ARREARS__REJECT__CODE__INVALID_FIELD, "platform");
    assert_int_equal(feed_count(f, &LENDER_A), 2);
}

/* Staging restored from a backup tells intake its events again: a repeat is a
 * duplicate that changes nothing (no second feed entry, the status as it was); an
 * event that differs in its detail alone is news. */
static void test_status_event_repeated(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    status_msg_t s;
    status_build(&s, "lender-a", "ACC-1");
    s.event.kind = ARREARS__FEED_EVENT_KIND__HOLD_CHANGED;
    s.event.detail = "complaint";
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_OK);
    char *before = dump(f);
    s.event.cursor = 7;   /* a new stream's message: whatever cursor it carried */
    s.event.days_past_due = 15;   /* the account's state, not which news it is */
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_DUPLICATE);
    char *after = dump(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(feed_count(f, &LENDER_A), 1);

    s.event.detail = "complaint_resolved";
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_OK);
    assert_int_equal(feed_count(f, &LENDER_A), 2);
    status_build(&s, "lender-b", "ACC-1");   /* the same news of another platform's ACC-1 */
    s.event.kind = ARREARS__FEED_EVENT_KIND__HOLD_CHANGED;
    s.event.detail = "complaint";
    expect_applied(f, &STAGING, STATUS, &s.status, APPLY_OK);
    assert_int_equal(feed_count(f, &LENDER_A), 2);
    assert_int_equal(feed_count(f, &LENDER_B), 1);
}

typedef struct {
    feed_t *feed;
    int64_t now_ms;
    size_t deleted;
} prune_call_t;

static int prune_work(MDB_txn *txn, void *arg)
{
    prune_call_t *c = arg;
    return feed_prune(c->feed, txn, c->now_ms, 100, &c->deleted);
}

/* An event staging sent without at_ms is not "older than retention" the moment it
 * arrives: either it is refused (event.at_ms required) or it survives an age prune now. */
static void test_status_event_without_at_ms(void **state)
{
    fixture_t *f = *state;
    status_msg_t s;
    status_build(&s, "lender-a", "ACC-1");
    s.event.has_at_ms = 0;
    s.event.at_ms = 0;
    apply_call_t c = apply(f, &STAGING, STATUS, &s.status);
    if (c.rc == APPLY_REJECTED) {
        assert_int_equal(c.reject.code, ARREARS__REJECT__CODE__INVALID_FIELD);
        assert_string_equal(c.reject.field, "event.at_ms");
        assert_int_equal(feed_count(f, &LENDER_A), 0);
        return;
    }
    assert_int_equal(c.rc, APPLY_OK);
    prune_call_t p = { f->app.feed, aclock_now_ms(f->app.clock), 99 };
    assert_int_equal(store_write(f->store, prune_work, &p), 0);
    assert_int_equal(p.deleted, 0);
    assert_int_equal(feed_count(f, &LENDER_A), 1);
}

static void test_platform_messages_from_service_unauthorized(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_rejected(f, &STAGING, UPSERT, &a.upsert, PERMANENT,
                    ARREARS__REJECT__CODE__UNAUTHORIZED, NULL);
    expect_rejected(f, &AGENT, UPSERT, &a.upsert, PERMANENT, ARREARS__REJECT__CODE__UNAUTHORIZED,
                    NULL);
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1");
    expect_rejected(f, &STAGING, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__UNAUTHORIZED,
                    NULL);
    char *text = dump(f);
    assert_string_equal(text, "");
    free(text);
    assert_int_equal(outbox_last(f), 0);
    assert_false(known(f, &LENDER_A, "ACC-1"));
}

static void test_unknown_body_from_platform(void **state)
{
    fixture_t *f = *state;
    Arrears__Health health = ARREARS__HEALTH__INIT;   /* a reply type, sent as a message */
    health.service = "intake";
    expect_rejected(f, &LENDER_A, ARREARS__ENVELOPE__BODY_HEALTH, &health, PERMANENT,
                    ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL);
    expect_rejected(f, &LENDER_A, ARREARS__ENVELOPE__BODY__NOT_SET, NULL, PERMANENT,
                    ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL);
    assert_int_equal(outbox_last(f), 0);
}

/* ---- personal data at rest ------------------------------------------------------------- */

static int file_holds(const char *path, const char *needle)
{
    FILE *in = fopen(path, "rb"), *copy;
    char *data = NULL, chunk[65536];
    size_t size = 0, n;
    assert_non_null(in);
    assert_non_null(copy = open_memstream(&data, &size));
    while ((n = fread(chunk, 1, sizeof chunk, in)) > 0)
        fwrite(chunk, 1, n, copy);
    fclose(in);
    assert_int_equal(fclose(copy), 0);
    int found = memmem(data, size, needle, strlen(needle)) != NULL;
    free(data);
    return found;
}

/* DESIGN.md section 6: sensitive personal fields are encrypted at rest. Whatever intake
 * keeps in its store (book, outbox to staging, feed), the data file holds none in clear. */
static void test_store_holds_no_personal_data_in_clear(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    char path[300];
    snprintf(path, sizeof path, "%s/data.mdb", f->dir);
    assert_true(file_holds(path, "ACC-1"));   /* the search works: refs are not personal */
    const char *personal[] = { "Ada Example", "+447700900123", "borrower@example.org" };
    for (size_t i = 0; i < 3; i++)
        if (file_holds(path, personal[i]))
            fail_msg("%s lies in clear in %s", personal[i], path);
}

/* ---- queries --------------------------------------------------------------------------- */

static void test_status_query_is_per_platform(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    Arrears__Envelope *env = status_of(f, &LENDER_A, "ACC-1");
    assert_true(env->account_status->known);
    assert_int_equal(env->account_status->version, 1);
    arrears__envelope__free_unpacked(env, NULL);

    env = status_of(f, &LENDER_B, "ACC-1");
    assert_false(env->account_status->known);
    assert_false(env->account_status->has_version);
    arrears__envelope__free_unpacked(env, NULL);

    Arrears__AccountStatusQuery q = ARREARS__ACCOUNT_STATUS_QUERY__INIT;
    expect_query_refused(f, &LENDER_A, ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS_QUERY, &q,
                         ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
    q.account_ref = "no spaces";
    expect_query_refused(f, &LENDER_A, ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS_QUERY, &q,
                         ARREARS__REJECT__CODE__INVALID_FIELD, "account_ref");
}

static void test_feed_query_limits(void **state)
{
    fixture_t *f = *state;
    Arrears__FeedQuery q = ARREARS__FEED_QUERY__INIT;
    q.has_max_events = 1;
    q.max_events = FEED_PAGE_MAX + 1;
    expect_query_refused(f, &LENDER_A, ARREARS__ENVELOPE__BODY_FEED_QUERY, &q,
                         ARREARS__REJECT__CODE__INVALID_FIELD, "max_events");
    q.max_events = FEED_PAGE_MAX;
    Arrears__Envelope *env = query(f, &LENDER_A, ARREARS__ENVELOPE__BODY_FEED_QUERY, &q,
                                   ARREARS__ENVELOPE__BODY_FEED_PAGE);
    assert_int_equal(env->feed_page->n_events, 0);
    assert_int_equal(env->feed_page->last_cursor, 0);
    arrears__envelope__free_unpacked(env, NULL);
}

static void test_health(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    Arrears__HealthQuery q = ARREARS__HEALTH_QUERY__INIT;
    const receiver_peer_t *askers[] = { &LENDER_A, &STAGING, &AGENT };
    for (size_t i = 0; i < 3; i++) {
        Arrears__Envelope *env = query(f, askers[i], ARREARS__ENVELOPE__BODY_HEALTH_QUERY, &q,
                                       ARREARS__ENVELOPE__BODY_HEALTH);
        assert_string_equal(env->health->service, "intake");
        assert_true(env->health->has_uptime_ms);
        assert_true(env->health->uptime_ms < 600000);
        assert_true(env->health->has_outbox_unacked);
        assert_int_equal(env->health->outbox_unacked, 1);
        assert_int_equal(env->health->dead_letters, 0);
        arrears__envelope__free_unpacked(env, NULL);
    }
}

static void test_unknown_query(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "ACC-1");
    expect_query_refused(f, &LENDER_A, UPSERT, &a.upsert, ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL);
    expect_query_refused(f, &LENDER_A, ARREARS__ENVELOPE__BODY__NOT_SET, NULL,
                         ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL);
    Arrears__FeedQuery fq = ARREARS__FEED_QUERY__INIT;   /* platforms only */
    expect_query_refused(f, &STAGING, ARREARS__ENVELOPE__BODY_FEED_QUERY, &fq,
                         ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL);
    Arrears__AccountStatusQuery sq = ARREARS__ACCOUNT_STATUS_QUERY__INIT;
    sq.account_ref = "ACC-1";
    expect_query_refused(f, &STAGING, ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS_QUERY, &sq,
                         ARREARS__REJECT__CODE__UNKNOWN_TYPE, NULL);
    assert_int_equal(outbox_last(f), 0);
}

/* ---- retention ---------------------------------------------------------------------- */

static Arrears__Complaint complaint_build(const char *account_ref, const char *ref)
{
    Arrears__Complaint m = ARREARS__COMPLAINT__INIT;
    m.account_ref = (char *)account_ref;
    m.complaint_ref = (char *)ref;
    m.has_kind = 1;
    m.kind = ARREARS__COMPLAINT_KIND__DISPUTE;
    m.category = "amount";
    m.text = "Ada Example says this is not hers";
    m.has_received_at_ms = 1;
    m.received_at_ms = NOW_MS - 1000;
    return m;
}

/* Staging's PERSONAL_DATA_ERASED: the upload and the account's complaints lose their
 * content (another account's complaint keeps its own), the platform hears it on its feed,
 * the account takes no new borrower data, payments still count, and a repeat of the news
 * changes nothing. */
static void test_erased_by_retention(void **state)
{
    fixture_t *f = *state;
    account_msg_t a, b;
    account_build(&a, "ACC-1");
    account_build(&b, "ACC-2");
    b.email.value = "someone.else@example.org";
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    expect_applied(f, &LENDER_A, UPSERT, &b.upsert, APPLY_OK);
    Arrears__Complaint c1 = complaint_build("ACC-1", "CMP-1"), c2 = complaint_build("ACC-2", "CMP-2");
    expect_applied(f, &LENDER_A, COMPLAINT, &c1, APPLY_OK);
    outbox_note_acked(f->app.to_staging[0], 3);
    expect_applied(f, &LENDER_A, COMPLAINT, &c2, APPLY_OK);

    status_msg_t st;
    status_build(&st, "lender-a", "ACC-1");
    st.event.kind = ARREARS__FEED_EVENT_KIND__PERSONAL_DATA_ERASED;
    st.event.detail = "GB";
    expect_applied(f, &STAGING, STATUS, &st.status, APPLY_OK);
    char *text = dump(f);
    assert_non_null(strstr(text, "\"erased\":true"));
    assert_null(strstr(text, "borrower@example.org"));
    assert_non_null(strstr(text, "CMP-2"));
    const char *kept = strstr(text, "Ada Example says");   /* CMP-2's, and only it */
    assert_non_null(kept);
    assert_null(strstr(kept + 1, "Ada Example says"));
    free(text);
    assert_int_equal(feed_count(f, &LENDER_A), 1);

    a.instalments[0].principal_minor = 1;   /* a new version: refused */
    expect_rejected(f, &LENDER_A, UPSERT, &a.upsert, PERMANENT, ARREARS__REJECT__CODE__CONFLICT,
                    "account_ref");
    Arrears__ContactUpdate u = ARREARS__CONTACT_UPDATE__INIT;
    u.account_ref = "ACC-1";
    u.has_clear_phones = u.clear_phones = 1;
    expect_rejected(f, &LENDER_A, CONTACT, &u, PERMANENT, ARREARS__REJECT__CODE__CONFLICT,
                    "account_ref");
    Arrears__PaymentPosted p = payment_build("ACC-1", "PAY-1");
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_OK);
    char *before = dump(f);
    expect_applied(f, &STAGING, STATUS, &st.status, APPLY_DUPLICATE);   /* told again */
    char *after = dump(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
}

/* ---- staging shards ------------------------------------------------------------------- */

/* Makes a's borrower the nth person (from 0) that lender-a's accounts place on shard
 * want of 2. */
static void nth_person_on_shard(account_msg_t *a, uint32_t want, int nth)
{
    for (int fill = 0; fill < 256; fill++) {
        memset(a->id_hash, fill, sizeof a->id_hash);
        if (shard_of_person("lender-a", a->id_hash, sizeof a->id_hash, 2) == want && nth-- == 0)
            return;
    }
    fail_msg("no such person on shard %u", want);
}

static void person_on_shard(account_msg_t *a, uint32_t want)
{
    nth_person_on_shard(a, want, 0);
}

/* of one person on shard a_shard; B-1 of the b_nth person on b_shard. */
static void two_persons(account_msg_t *a1, account_msg_t *a2, account_msg_t *b1, uint32_t a_shard,
                        uint32_t b_shard, int b_nth)
{
    account_build(a1, "A-1");
    account_build(a2, "A-2");
    account_build(b1, "B-1");
    person_on_shard(a1, a_shard);
    person_on_shard(a2, a_shard);
    nth_person_on_shard(b1, b_shard, b_nth);
}

static size_t shard_count_of(fixture_t *f, uint32_t shard)
{
    outbox_call_t c = outbox_read_shard(f, shard);
    outbox_free(&c);
    return c.n;
}

/* A person's accounts go to the person's shard, and everything about an account follows
 * it there, even after its borrower changes: the account stays where it was placed. */
static void test_accounts_follow_their_person(void **state)
{
    fixture_t *f = *state;
    account_msg_t a1, a2, b1;
    two_persons(&a1, &a2, &b1, 1, 0, 0);
    expect_applied(f, &LENDER_A, UPSERT, &a1.upsert, APPLY_OK);
    expect_applied(f, &LENDER_A, UPSERT, &a2.upsert, APPLY_OK);
    expect_applied(f, &LENDER_A, UPSERT, &b1.upsert, APPLY_OK);
    assert_int_equal(shard_count_of(f, 1), 2);
    assert_int_equal(shard_count_of(f, 0), 1);
    outbox_note_acked(f->app.to_staging[1], 2);   /* shard 1 took them: room for more */

    Arrears__PaymentPosted p = payment_build("A-2", "PAY-1");
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_OK);
    person_on_shard(&a1, 0);   /* the platform corrects A-1's borrower */
    expect_applied(f, &LENDER_A, UPSERT, &a1.upsert, APPLY_OK);
    outbox_call_t c = outbox_read_shard(f, 1);
    assert_int_equal(c.n, 4);
    assert_int_equal(forwarded(&c, 3, "lender-a", "A-2", NOW_MS)->event_case,
                     ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT);
    assert_int_equal(forwarded(&c, 4, "lender-a", "A-1", NOW_MS)->version, 2);
    outbox_free(&c);

    /* About an account intake does not hold: refused, nothing goes anywhere. */
    p = payment_build("NOPE", "PAY-2");
    expect_rejected(f, &LENDER_A, PAYMENT, &p, PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                    "account_ref");
    assert_int_equal(shard_count_of(f, 0) + shard_count_of(f, 1), 5);
}

/* A shard added later takes new persons; a known person's new accounts still go where
 * the person's first one went, so a borrower's accounts stay together. */
static void test_known_person_stays_after_a_shard_is_added(void **state)
{
    fixture_t *f = *state;
    account_msg_t a1, a2, b1;
    two_persons(&a1, &a2, &b1, 1, 1, 1);   /* B-1: the second person of shard 1 */
    f->app.shards = 1;         /* one staging when A-1 came */
    expect_applied(f, &LENDER_A, UPSERT, &a1.upsert, APPLY_OK);
    f->app.shards = 2;         /* a second shard added */
    expect_applied(f, &LENDER_A, UPSERT, &a2.upsert, APPLY_OK);
    expect_applied(f, &LENDER_A, UPSERT, &b1.upsert, APPLY_OK);
    outbox_call_t c = outbox_read_shard(f, 0);
    assert_int_equal(c.n, 2);
    forwarded(&c, 2, "lender-a", "A-2", NOW_MS);
    outbox_free(&c);
    c = outbox_read_shard(f, 1);
    assert_int_equal(c.n, 1);
    forwarded(&c, 1, "lender-a", "B-1", NOW_MS);
    outbox_free(&c);
}

/* A list cut short (which shards.h forbids) refuses, and sends nothing elsewhere. */
static void test_account_on_a_shard_not_configured_is_refused(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "A-1");
    person_on_shard(&a, 1);
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    f->app.shards = 1;
    char *before = dump(f);
    Arrears__PaymentPosted p = payment_build("A-1", "PAY-1");
    expect_rejected(f, &LENDER_A, PAYMENT, &p, ARREARS__REJECT__CLASS__RETRY_LATER,
                    ARREARS__REJECT__CODE__BUSY, NULL);
    char *after = dump(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    assert_int_equal(shard_count_of(f, 0), 0);
    f->app.shards = 2;
}

/* Makes A-1's record what a release before shards wrote: no shard in its flags byte
 * (accepted.h: the high nibble of the byte after version and currency). */
static int unplace_work(MDB_txn *txn, void *arg)
{
    accepted_tables_t t = accepted_tables(arg);
    MDB_val k = { sizeof "lender-a" + 3, "lender-a\0A-1" }, v;
    int rc = mdb_get(txn, t.accounts, &k, &v);
    if (rc != 0)
        return rc;
    uint8_t *copy = malloc(v.mv_size);
    assert_non_null(copy);
    memcpy(copy, v.mv_data, v.mv_size);
    copy[11] &= 0x0f;
    MDB_val nv = { v.mv_size, copy };
    rc = mdb_put(txn, t.accounts, &k, &nv, 0);
    free(copy);
    return rc;
}

/* An account accepted before intake placed accounts lives on shard 0, the one staging
 * there was: it stays there when shards are added. */
static void test_account_from_before_shards_stays_on_shard_zero(void **state)
{
    fixture_t *f = *state;
    account_msg_t a;
    account_build(&a, "A-1");
    person_on_shard(&a, 1);
    expect_applied(f, &LENDER_A, UPSERT, &a.upsert, APPLY_OK);
    assert_int_equal(store_write(f->store, unplace_work, f->app.accepted), 0);
    Arrears__PaymentPosted p = payment_build("A-1", "PAY-1");
    expect_applied(f, &LENDER_A, PAYMENT, &p, APPLY_OK);
    assert_int_equal(shard_count_of(f, 1), 1);   /* the upload */
    outbox_call_t c = outbox_read_shard(f, 0);
    assert_int_equal(c.n, 1);
    assert_int_equal(forwarded(&c, 1, "lender-a", "A-1", NOW_MS)->event_case,
                     ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT);
    outbox_free(&c);
}

/* The store of the release before: A-1's shard (1) in a table "placement", not in its
 * record; B-1 placed there on shard 0. */
static int old_placement_work(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi;
    uint8_t one = 1, zero = 0;
    MDB_val a = { sizeof "lender-a" + 3, "lender-a\0A-1" }, va = { 1, &one };
    MDB_val b = { sizeof "lender-a" + 3, "lender-a\0B-1" }, vb = { 1, &zero };
    int rc = unplace_work(txn, arg);
    rc = rc ? rc : mdb_dbi_open(txn, "placement", MDB_CREATE, &dbi);
    rc = rc ? rc : mdb_put(txn, dbi, &a, &va, 0);
    return rc ? rc : mdb_put(txn, dbi, &b, &vb, 0);
}

static int placement_gone_work(MDB_txn *txn, void *arg)
{
    MDB_dbi dbi;
    (void)arg;
    return mdb_dbi_open(txn, "placement", 0, &dbi);
}

/* Last release's "placement" table moves into the account records when the book is
 * opened, and is dropped: the accounts stay where they were placed. */
static void test_placement_table_moved_on_open(void **state)
{
    fixture_t *f = *state;
    account_msg_t a1, a2, b1;
    two_persons(&a1, &a2, &b1, 1, 0, 0);
    expect_applied(f, &LENDER_A, UPSERT, &a1.upsert, APPLY_OK);
    expect_applied(f, &LENDER_A, UPSERT, &b1.upsert, APPLY_OK);
    assert_int_equal(store_write(f->store, old_placement_work, f->app.accepted), 0);
    accepted_destroy(&f->app.accepted);
    assert_int_equal(accepted_open(f->store, f->crypt, &f->app.accepted), 0);
    assert_int_equal(store_read(f->store, placement_gone_work, NULL), MDB_NOTFOUND);
    accepted_destroy(&f->app.accepted);   /* and again: nothing left to move */
    assert_int_equal(accepted_open(f->store, f->crypt, &f->app.accepted), 0);

    Arrears__PaymentPosted pa = payment_build("A-1", "PAY-1"), pb = payment_build("B-1", "PAY-2");
    expect_applied(f, &LENDER_A, PAYMENT, &pa, APPLY_OK);
    expect_applied(f, &LENDER_A, PAYMENT, &pb, APPLY_OK);
    outbox_call_t c = outbox_read_shard(f, 1);
    assert_int_equal(c.n, 2);
    assert_int_equal(forwarded(&c, 2, "lender-a", "A-1", NOW_MS)->event_case,
                     ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT);
    outbox_free(&c);
    c = outbox_read_shard(f, 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(forwarded(&c, 2, "lender-a", "B-1", NOW_MS)->event_case,
                     ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT);
    outbox_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_upsert_forwarded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upsert_duplicate_and_new_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_upsert_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_forward_refused_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_payment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_simulated_clock_judges_instants, setup, teardown),
        cmocka_unit_test_setup_teardown(test_contact_complaint_recall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_busy_when_outbox_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_event_from_platform_unauthorized, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_status_event_from_service, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_event_without_at_ms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_event_repeated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_holds_no_personal_data_in_clear, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_platform_messages_from_service_unauthorized, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unknown_body_from_platform, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_query_is_per_platform, setup, teardown),
        cmocka_unit_test_setup_teardown(test_feed_query_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_query, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erased_by_retention, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounts_follow_their_person, setup_two_shards,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_account_from_before_shards_stays_on_shard_zero,
                                        setup_two_shards, teardown),
        cmocka_unit_test_setup_teardown(test_placement_table_moved_on_open, setup_two_shards,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_known_person_stays_after_a_shard_is_added,
                                        setup_two_shards, teardown),
        cmocka_unit_test_setup_teardown(test_account_on_a_shard_not_configured_is_refused,
                                        setup_two_shards, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
