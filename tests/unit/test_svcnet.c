/* test_svcnet: a service's network side (shared/svcnet.c), two of them in one process
 * over ipc:// in temporary data dirs.
 * Proves: a keys (allowed) file that does not parse fails svcnet_new with file:line in
 * err and the ROUTER never bound (a regular file left at its ipc path survives; the same
 * path is bound once the file is fixed); a missing peer public key fails with that file
 * named and nothing listening on the ROUTER's path (leaks show under ASan); a round
 * trip: N DemoItems appended to A's outbox in one transaction reach B's apply in order
 * (seq and number 1..N, A's stream) as A's principal and role, B's inbox is at N, A
 * ends with nothing un-acked and svcnet_flush stores the acked mark and B's Ack's
 * Applied (B's clock) for a replay; svcnet_zap; and
 * svcnet_secret_open: missing without create fails, with create makes a 0600 key that
 * later opens load again (sealed by one, opened by another), never overwriting a bad one.
 * Turns (clock.driven): a driven A sends nothing of what it appends until an operator's
 * message gives it its turn; a ClockAdvance its handler acknowledges while A's senders
 * have not yet seen a fresh append is answered busy, and acknowledged once B has every
 * message; the turn then ends (what A appends next waits again); an operator's other
 * message is a turn too, ending once what waited is acknowledged. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <zmq.h>

#include "svcnet.h"

#define ITEMS 50

/* One service: its data dir, keys, store, inbox and one outbox. */
typedef struct {
    char dir[32];
    char endpoint[64];
    char pub_path[64];
    svcconf_t conf;
    link_keypair_t keys;
    store_t *store;
    inbox_t *inbox;
    outbox_t *outbox;
    svcnet_t *net;
} node_t;

typedef struct {
    node_t a, b;
} rig_t;

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

static void node_open(node_t *n, const char *name)
{
    strcpy(n->dir, "/tmp/svnXXXXXX");
    assert_non_null(mkdtemp(n->dir));
    snprintf(n->endpoint, sizeof n->endpoint, "ipc://%s/r", n->dir);
    snprintf(n->pub_path, sizeof n->pub_path, "%s/%s.pub", n->dir, name);
    char err[256];
    assert_int_equal(link_keypair_generate(&n->keys), LINK_OK);
    assert_int_equal(link_keypair_save(n->dir, name, &n->keys, err, sizeof err), LINK_OK);
    svcconf_t *c = &n->conf;
    snprintf(c->data_dir, sizeof c->data_dir, "%s", n->dir);
    snprintf(c->key_path, sizeof c->key_path, "%s/%s.key", n->dir, name);
    snprintf(c->allowed_path, sizeof c->allowed_path, "%s/allowed.conf", n->dir);
    c->log_level = LOG_WARN;
    c->store = store_default_options();
    c->store.relaxed = true;
    c->link = link_default_options();
    c->receiver = receiver_default_limits();
    c->sender = sender_default_limits();
    c->outbox = outbox_default_limits();
    assert_int_equal(store_open(&n->store, n->dir, &c->store), STORE_OK);
    assert_int_equal(inbox_open(n->store, &n->inbox), INBOX_OK);
    assert_int_equal(outbox_open(n->store, "out", &c->outbox, &n->outbox), OUTBOX_OK);
}

static void node_close(node_t *n)
{
    svcnet_destroy(&n->net);
    outbox_destroy(&n->outbox);
    inbox_destroy(&n->inbox);
    store_destroy(&n->store);
    if (n->dir[0])
        assert_int_equal(nftw(n->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* The allowed file: `text` verbatim, or (text NULL) one entry admitting `who` as svc-a. */
static void write_allowed(node_t *n, const char *text, const node_t *who)
{
    FILE *f = fopen(n->conf.allowed_path, "w");
    assert_non_null(f);
    if (text)
        fputs(text, f);
    else
        fprintf(f, "keys = (\n  { principal = \"svc-a\"; role = \"service\"; public = \"%s\"; }\n);\n",
                who->keys.public_z85);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    rig_t *r = calloc(1, sizeof *r);
    assert_non_null(r);
    node_open(&r->a, "a");
    node_open(&r->b, "b");
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    rig_t *r = *state;
    node_close(&r->a);
    node_close(&r->b);
    free(r);
    return 0;
}

/* ---- what B's (and A's) apply saw ---- */

typedef struct {
    uint64_t seq, stream_id, number;
    char principal[INBOX_PRINCIPAL_MAX + 1];
    char role[RECEIVER_ROLE_MAX];
} seen_t;

typedef struct {
    size_t count;
    seen_t seen[ITEMS + 8];
} app_t;

static int record_apply(void *arg, MDB_txn *txn, const receiver_peer_t *from,
                        const Arrears__Envelope *env, reject_t *reject)
{
    (void)txn, (void)reject;
    app_t *app = arg;
    if (app->count < sizeof app->seen / sizeof app->seen[0]) {
        seen_t *s = &app->seen[app->count];
        s->seq = env->seq;
        s->stream_id = env->stream_id;
        s->number = env->body_case == ARREARS__ENVELOPE__BODY_DEMO_ITEM ? env->demo_item->number : 0;
        snprintf(s->principal, sizeof s->principal, "%s", from->principal);
        snprintf(s->role, sizeof s->role, "%s", from->role);
    }
    app->count++;
    return APPLY_OK;
}

static const receiver_handler_t handler = { .apply = record_apply };

static svcnet_spec_t spec_for(node_t *n, size_t peer_count, const char *peer_endpoint,
                              const char *peer_public_path)
{
    svcnet_spec_t spec = { .svc = &n->conf, .listen = n->endpoint, .peer_count = peer_count };
    if (peer_count)
        spec.peers[0] = (svcnet_peer_t){ peer_endpoint, peer_public_path, n->outbox };
    return spec;
}

static const char *ipc_path(const node_t *n) { return n->endpoint + strlen("ipc://"); }

/* Whether something accepts connections on the unix socket at path (libzmq leaves the
 * socket file behind when it closes an ipc listener, so the file alone says nothing). */
static bool listening(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int rc = connect(fd, (struct sockaddr *)&addr, sizeof addr);
    int error = errno;
    close(fd);
    if (rc != 0)
        assert_true(error == ECONNREFUSED || error == ENOENT);
    return rc == 0;
}

/* ---- 1. an allowed file that does not parse: no ROUTER ---- */

static void test_bad_allowed_file_binds_nothing(void **state)
{
    rig_t *r = *state;
    node_t *b = &r->b;
    write_allowed(b, "keys = (\n  { principal = \"svc-a\"; role = \"service\"; }\n  not libconfig\n);\n",
                  NULL);
    FILE *f = fopen(ipc_path(b), "w");   /* a bind would unlink this file first */
    assert_non_null(f);
    fputs("sentinel\n", f);
    assert_int_equal(fclose(f), 0);

    app_t app = { 0 };
    char err[512] = "";
    svcnet_spec_t spec = spec_for(b, 0, NULL, NULL);
    assert_null(svcnet_new(&spec, b->store, b->inbox, &handler, &app, err, sizeof err));
    char want[SVCCONF_PATH_MAX + 8];
    snprintf(want, sizeof want, "%s:3", b->conf.allowed_path);
    assert_non_null(strstr(err, want));
    struct stat st;
    assert_int_equal(stat(ipc_path(b), &st), 0);
    assert_true(S_ISREG(st.st_mode));   /* the ROUTER was never bound */

    write_allowed(b, NULL, &r->a);   /* fixed: the same path is bound (the check can fail) */
    b->net = svcnet_new(&spec, b->store, b->inbox, &handler, &app, err, sizeof err);
    assert_non_null(b->net);
    assert_int_equal(stat(ipc_path(b), &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
}

/* ---- 2. a peer's public key file missing ---- */

static void test_missing_peer_key(void **state)
{
    rig_t *r = *state;
    node_t *a = &r->a;
    write_allowed(a, "keys = ( );\n", NULL);
    char missing[96];
    snprintf(missing, sizeof missing, "%s/nobody.pub", a->dir);
    app_t app = { 0 };
    char err[512] = "";
    svcnet_spec_t spec = spec_for(a, 1, r->b.endpoint, missing);
    assert_null(svcnet_new(&spec, a->store, a->inbox, &handler, &app, err, sizeof err));
    assert_non_null(strstr(err, missing));
    assert_false(listening(ipc_path(a)));   /* the ROUTER bound first is closed again */

    spec.peers[0].public_path = r->b.pub_path;   /* the same spec, fixed, opens */
    a->net = svcnet_new(&spec, a->store, a->inbox, &handler, &app, err, sizeof err);
    assert_non_null(a->net);
    assert_true(listening(ipc_path(a)));   /* the check can fail */
    assert_int_equal(svcnet_unacked(a->net), 0);
}

/* ---- 3. A's outbox reaches B's apply ---- */

static int append_items(MDB_txn *txn, void *arg)
{
    outbox_t *outbox = arg;
    for (uint64_t i = 1; i <= ITEMS; i++) {
        Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
        item.has_number = 1;
        item.number = i;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
        env.demo_item = &item;
        uint64_t seq = 0;
        int rc = outbox_append(outbox, txn, &env, 1000 + (int64_t)i, &seq);
        if (rc)
            return rc;
        if (seq != i)
            return -1;
    }
    return 0;
}

static int read_outbox(MDB_txn *txn, void *arg)
{
    node_t *n = ((void **)arg)[0];
    return outbox_state(n->outbox, txn, ((void **)arg)[1]);
}

static outbox_state_t outbox_state_of(node_t *n)
{
    outbox_state_t st;
    memset(&st, 0, sizeof st);
    void *args[2] = { n, &st };
    assert_int_equal(store_read(n->store, read_outbox, args), 0);
    return st;
}

/* B's simulated instant while it applies A's items. */
#define APPLIED_AT_MS 5000

typedef struct {
    node_t *node;
    uint64_t seq;
    applied_t applied;
    bool found;
} applied_read_t;

static int read_applied(MDB_txn *txn, void *arg)
{
    applied_read_t *r = arg;
    return outbox_applied_of(r->node->outbox, txn, r->seq, &r->applied, &r->found);
}

/* When A's outbox says B applied seq (its Ack's Applied), -1 for no record. */
static int64_t applied_at_of(node_t *n, uint64_t seq)
{
    applied_read_t r = { n, seq, { 0, 0 }, false };
    assert_int_equal(store_read(n->store, read_applied, &r), 0);
    return r.found ? r.applied.at_ms : -1;
}

typedef struct {
    inbox_t *inbox;
    uint64_t stream_id, applied;
} position_t;

static int read_position(MDB_txn *txn, void *arg)
{
    position_t *p = arg;
    return inbox_position(p->inbox, txn, "svc-a", p->stream_id, &p->applied);
}

static void test_round_trip(void **state)
{
    rig_t *r = *state;
    node_t *a = &r->a, *b = &r->b;
    write_allowed(a, "keys = ( );\n", NULL);
    write_allowed(b, NULL, a);
    app_t *seen_a = calloc(1, sizeof *seen_a), *seen_b = calloc(1, sizeof *seen_b);
    assert_non_null(seen_a);
    assert_non_null(seen_b);
    a->conf.sender.ack_store_ms = INT64_MAX / 2;   /* the acked mark is stored by the flush */
    char err[512] = "";
    svcnet_spec_t spec_a = spec_for(a, 1, b->endpoint, b->pub_path);
    svcnet_spec_t spec_b = spec_for(b, 0, NULL, NULL);
    b->net = svcnet_new(&spec_b, b->store, b->inbox, &handler, seen_b, err, sizeof err);
    assert_non_null(b->net);
    a->net = svcnet_new(&spec_a, a->store, a->inbox, &handler, seen_a, err, sizeof err);
    assert_non_null(a->net);
    assert_non_null(svcnet_zap(a->net));
    assert_non_null(svcnet_zap(b->net));
    assert_null(svcnet_zap(NULL));

    assert_int_equal(store_write(a->store, append_items, a->outbox), 0);
    uint64_t stream_id = outbox_state_of(a).stream_id;
    assert_int_equal(svcnet_pump(a->net), 0);
    assert_int_equal(svcnet_unacked(a->net), ITEMS);   /* B has not stepped: nothing acked */

    aclock_t *clock = aclock_new_simulated(APPLIED_AT_MS);
    assert_non_null(clock);
    int64_t deadline = aclock_monotonic_ms() + 10000;
    while ((seen_b->count < ITEMS || svcnet_unacked(a->net) != 0)
           && aclock_monotonic_ms() < deadline) {
        assert_int_equal(svcnet_step(a->net, 10, clock), 0);
        assert_int_equal(svcnet_step(b->net, 10, clock), 0);
    }
    aclock_destroy(&clock);

    assert_int_equal(seen_b->count, ITEMS);
    assert_int_equal(svcnet_unacked(a->net), 0);
    for (size_t i = 0; i < ITEMS; i++) {
        const seen_t *s = &seen_b->seen[i];
        assert_int_equal(s->seq, i + 1);
        assert_int_equal(s->number, i + 1);
        assert_int_equal(s->stream_id, stream_id);
        assert_string_equal(s->principal, "svc-a");
        assert_string_equal(s->role, "service");
    }
    assert_int_equal(seen_a->count, 0);   /* nothing was sent to A */
    position_t pos = { b->inbox, stream_id, 0 };
    assert_int_equal(store_read(b->store, read_position, &pos), 0);
    assert_int_equal(pos.applied, ITEMS);
    assert_true(zap_stats(svcnet_zap(b->net)).allowed >= 1);

    assert_int_equal(outbox_state_of(a).acked_through, 0);
    svcnet_flush(a->net);
    assert_int_equal(outbox_state_of(a).acked_through, ITEMS);
    assert_int_equal(applied_at_of(a, ITEMS), APPLIED_AT_MS);   /* B's clock, for a replay */
    free(seen_a);
    free(seen_b);
}

/* ---- 4. turns: a driven A sends only in its turn ---- */

/* A's handler: a ClockAdvance appends one item the first time (the advance's own work)
 * and is acknowledged whenever A's senders count nothing unacknowledged, as every
 * service's advance is; anything else is recorded. */
typedef struct {
    app_t seen;
    node_t *node;
    bool appended;
} driven_app_t;

static int one_item(outbox_t *outbox, MDB_txn *txn, uint64_t number)
{
    Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
    item.has_number = 1;
    item.number = number;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
    env.demo_item = &item;
    uint64_t seq = 0;
    return outbox_append(outbox, txn, &env, 1000, &seq);
}

static int driven_apply(void *arg, MDB_txn *txn, const receiver_peer_t *from,
                        const Arrears__Envelope *env, reject_t *reject)
{
    driven_app_t *app = arg;
    if (env->body_case != ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE)
        return record_apply(&app->seen, txn, from, env, reject);
    int rc = app->appended ? 0 : one_item(app->node->outbox, txn, ITEMS + 1);
    app->appended = true;
    if (rc == 0 && svcnet_unacked(app->node->net) > 0)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, "to_ms", "sending");
    return rc ? rc : APPLY_OK;
}

static int append_one(MDB_txn *txn, void *arg)
{
    return one_item(((node_t *)arg)->outbox, txn, 0);
}

/* Steps A and B for wait_ms (or until the operator's reply, when op is given). */
static Arrears__Envelope *step_both(rig_t *r, void *op, int64_t wait_ms)
{
    aclock_t *clock = aclock_new_wall();
    assert_non_null(clock);
    Arrears__Envelope *reply = NULL;
    uint8_t buf[4096];
    for (int64_t until = aclock_monotonic_ms() + wait_ms; !reply && aclock_monotonic_ms() < until;) {
        assert_int_equal(svcnet_step(r->a.net, 5, clock), 0);
        assert_int_equal(svcnet_step(r->b.net, 5, clock), 0);
        int n = op ? zmq_recv(op, buf, sizeof buf, ZMQ_DONTWAIT) : -1;
        if (n > 0)
            reply = arrears__envelope__unpack(NULL, (size_t)n, buf);
    }
    aclock_destroy(&clock);
    return reply;
}

/* The operator's message (seq), sent until it is acknowledged; how many busy answers
 * came first. */
static int operator_send(rig_t *r, void *op, Arrears__Envelope *env, uint64_t seq)
{
    uint8_t buf[256];
    env->has_stream_id = env->has_seq = 1;
    env->stream_id = 7;
    env->seq = seq;
    size_t len = envelope_pack(env, buf, sizeof buf);
    assert_true(len > 0);
    for (int busy = 0; busy < 100; busy++) {
        assert_int_equal(zmq_send(op, buf, len, 0), (int)len);
        Arrears__Envelope *reply = step_both(r, op, 5000);
        assert_non_null(reply);
        bool acked = reply->body_case == ARREARS__ENVELOPE__BODY_ACK && reply->ack->through_seq == seq;
        if (!acked)
            assert_int_equal(reply->reject->code, ARREARS__REJECT__CODE__BUSY);
        arrears__envelope__free_unpacked(reply, NULL);
        if (acked)
            return busy;
    }
    fail_msg("the operator's message was never acknowledged");
    return -1;
}

static void open_driven_pair(rig_t *r, driven_app_t *seen_a, app_t *seen_b, void *ctx,
                             void **op)
{
    node_t *a = &r->a, *b = &r->b;
    link_keypair_t op_keys;
    char err[512] = "";
    assert_int_equal(link_keypair_generate(&op_keys), LINK_OK);
    assert_int_equal(link_keypair_save(a->dir, "op", &op_keys, err, sizeof err), LINK_OK);
    char allowed[256];
    snprintf(allowed, sizeof allowed,
             "keys = (\n  { principal = \"op\"; role = \"operator\"; public = \"%s\"; }\n);\n",
             op_keys.public_z85);
    write_allowed(a, allowed, NULL);
    write_allowed(b, NULL, a);
    a->conf.driven = true;
    svcnet_spec_t spec_a = spec_for(a, 1, b->endpoint, b->pub_path);
    svcnet_spec_t spec_b = spec_for(b, 0, NULL, NULL);
    receiver_handler_t driven_handler = { .apply = driven_apply };
    b->net = svcnet_new(&spec_b, b->store, b->inbox, &handler, seen_b, err, sizeof err);
    a->net = svcnet_new(&spec_a, a->store, a->inbox, &driven_handler, seen_a, err, sizeof err);
    assert_non_null(b->net);
    assert_non_null(a->net);
    char key[96];
    snprintf(key, sizeof key, "%s/op.key", a->dir);
    link_options_t options = link_default_options();
    *op = link_client_open(ctx, a->endpoint, a->pub_path, key, &options, err, sizeof err);
    assert_non_null(*op);
}

static void test_driven_turns(void **state)
{
    rig_t *r = *state;
    node_t *a = &r->a;
    driven_app_t *seen_a = calloc(1, sizeof *seen_a);
    app_t *seen_b = calloc(1, sizeof *seen_b);
    assert_non_null(seen_a);
    assert_non_null(seen_b);
    seen_a->node = a;
    void *ctx = zmq_ctx_new(), *op = NULL;
    open_driven_pair(r, seen_a, seen_b, ctx, &op);

    assert_int_equal(store_write(a->store, append_items, a->outbox), 0);
    assert_int_equal(svcnet_pump(a->net), 0);
    step_both(r, NULL, 300);
    assert_false(svcnet_in_turn(a->net));
    assert_int_equal(seen_b->count, 0);   /* out of turn: nothing went */

    Arrears__ClockAdvance m = ARREARS__CLOCK_ADVANCE__INIT;
    Arrears__Envelope advance = ARREARS__ENVELOPE__INIT;
    advance.body_case = ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE;
    advance.clock_advance = &m;
    /* Busy at least once: its handler saw nothing unacknowledged, the outbox did. */
    assert_true(operator_send(r, op, &advance, 1) >= 1);
    assert_int_equal(seen_b->count, ITEMS + 1);   /* all of it, before the acknowledgement */
    assert_int_equal(seen_b->seen[ITEMS].number, ITEMS + 1);
    step_both(r, NULL, 20);
    assert_false(svcnet_in_turn(a->net));

    assert_int_equal(store_write(a->store, append_one, a), 0);
    assert_int_equal(svcnet_pump(a->net), 0);
    step_both(r, NULL, 300);
    assert_int_equal(seen_b->count, ITEMS + 1);   /* the turn is over: it waits */

    Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
    Arrears__Envelope action = ARREARS__ENVELOPE__INIT;
    action.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
    action.demo_item = &item;
    assert_int_equal(operator_send(r, op, &action, 2), 0);
    step_both(r, NULL, 300);
    assert_int_equal(seen_b->count, ITEMS + 2);   /* an operator's message is a turn too */
    assert_false(svcnet_in_turn(a->net));
    link_close(&op);
    zmq_ctx_term(ctx);
    free(seen_a);
    free(seen_b);
}

/* ---- 5. the at-rest key ---- */

static void test_secret_open(void **state)
{
    rig_t *r = *state;
    char path[96], other[96], bad[96];
    snprintf(path, sizeof path, "%s/secret.key", r->a.dir);
    snprintf(other, sizeof other, "%s/other.key", r->a.dir);
    snprintf(bad, sizeof bad, "%s/bad.key", r->a.dir);

    crypt_t *c1 = NULL, *c2 = NULL, *c3 = NULL;
    assert_int_equal(svcnet_secret_open(path, false, &c1), CRYPT_EKEYFILE);
    assert_null(c1);
    assert_int_equal(access(path, F_OK), -1);   /* not created without create */

    assert_int_equal(svcnet_secret_open(path, true, &c1), CRYPT_OK);
    assert_non_null(c1);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(svcnet_secret_open(path, false, &c2), CRYPT_OK);
    assert_non_null(c2);
    assert_int_equal(svcnet_secret_open(other, true, &c3), CRYPT_OK);

    const uint8_t plain[] = "borrower name and address";
    uint8_t sealed[sizeof plain + CRYPT_OVERHEAD_BYTES], opened[sizeof plain];
    size_t sealed_len = 0, opened_len = 0;
    assert_int_equal(crypt_seal(c1, plain, sizeof plain, sealed, sizeof sealed, &sealed_len),
                     CRYPT_OK);
    assert_int_equal(crypt_open(c2, sealed, sealed_len, opened, sizeof opened, &opened_len),
                     CRYPT_OK);
    assert_int_equal(opened_len, sizeof plain);
    assert_memory_equal(opened, plain, sizeof plain);
    assert_int_equal(crypt_open(c3, sealed, sealed_len, opened, sizeof opened, &opened_len),
                     CRYPT_EFORGED);   /* another file, another key */
    crypt_destroy(&c2);
    crypt_destroy(&c3);
    assert_int_equal(svcnet_secret_open(path, true, &c2), CRYPT_OK);   /* exists: loaded, kept */
    assert_int_equal(crypt_open(c2, sealed, sealed_len, opened, sizeof opened, &opened_len),
                     CRYPT_OK);

    FILE *f = fopen(bad, "w");   /* a broken key file is reported, never replaced */
    assert_non_null(f);
    fputs("not hex\n", f);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(bad, 0600), 0);   /* refused for its content, not its mode */
    assert_int_equal(svcnet_secret_open(bad, true, &c3), CRYPT_EKEYFILE);
    assert_null(c3);
    char line[32] = "";
    f = fopen(bad, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "not hex\n");
    crypt_destroy(&c1);
    crypt_destroy(&c2);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_bad_allowed_file_binds_nothing),
        T(test_missing_peer_key),
        T(test_round_trip),
        T(test_driven_turns),
        T(test_secret_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
