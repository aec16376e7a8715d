/* test_sender: the sender's reactions, driven with explicit instants (no sleeps) over a
 * real DEALER whose frames a ROUTER in the test reads back: the window, cumulative
 * acks, resend after a timeout, dead letters on a permanent reject, rewind when an ack
 * was lost, rewind BELOW the acked mark when the receiver was restored from a backup
 * (served from the retained log), a stuck stream when what is asked for was pruned or
 * when the receiver is ahead, backoff doubling on retry-later, replies read from the
 * socket; messages resent to a restored receiver carry when it first applied them. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "outbox.h"
#include "sender.h"
#include "store.h"

typedef struct {
    char dir[64];
    store_t *store;
    outbox_t *outbox;
    void *ctx, *router, *dealer;
    sender_t *sender;
    uint8_t routing_id[256];
    size_t routing_id_len;
} rig_t;

static int rig_open(void **state, uint64_t window, uint64_t retain_max)
{
    static int counter;
    rig_t *r = calloc(1, sizeof *r);
    strcpy(r->dir, "/tmp/sendXXXXXX");
    assert_non_null(mkdtemp(r->dir));
    store_options_t so = store_default_options();
    assert_int_equal(store_open(&r->store, r->dir, &so), 0);
    outbox_limits_t ol = outbox_default_limits();
    ol.retain_max = retain_max;
    ol.retain_ms = retain_max ? ol.retain_ms : 0;
    assert_int_equal(outbox_open(r->store, "t", &ol, &r->outbox), 0);
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://sender-test-%d", counter++);
    r->ctx = zmq_ctx_new();
    r->router = zmq_socket(r->ctx, ZMQ_ROUTER);
    r->dealer = zmq_socket(r->ctx, ZMQ_DEALER);
    assert_int_equal(zmq_bind(r->router, ep), 0);
    assert_int_equal(zmq_connect(r->dealer, ep), 0);
    sender_limits_t sl = sender_default_limits();
    sl.window = window;
    sl.resend_timeout_ms = 1000;
    sl.backoff_initial_ms = 50;
    sl.backoff_max_ms = 400;
    r->sender = sender_new(r->store, r->outbox, r->dealer, &sl);
    assert_non_null(r->sender);
    *state = r;
    return 0;
}

static int setup(void **state) { return rig_open(state, 4, 1000); }
static int setup_no_retention(void **state) { return rig_open(state, 4, 0); }

static int teardown(void **state)
{
    rig_t *r = *state;
    sender_destroy(&r->sender);
    outbox_destroy(&r->outbox);
    store_destroy(&r->store);
    zmq_close(r->dealer);
    zmq_close(r->router);
    zmq_ctx_term(r->ctx);
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf %s", r->dir);
    assert_int_equal(system(cmd), 0);
    free(r);
    return 0;
}

static int append_items(MDB_txn *txn, void *arg)
{
    rig_t *r = ((void **)arg)[0];
    int n = *(int *)((void **)arg)[1];
    for (int i = 0; i < n; i++) {
        Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
        item.has_number = 1;
        item.number = 1;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
        env.demo_item = &item;
        int rc = outbox_append(r->outbox, txn, &env, 1000, NULL);
        if (rc)
            return rc;
    }
    return 0;
}

static void append(rig_t *r, int n)
{
    void *args[2] = { r, &n };
    assert_int_equal(store_write(r->store, append_items, args), 0);
}

/* The seqs that reached the ROUTER since the last call, in order, as a string "1,2,3";
 * with replays, a replayed one as "seq@at_ms/through_seq". */
static const char *receive_all(rig_t *r, bool replays)
{
    static char out[512];
    out[0] = 0;
    for (;;) {
        zmq_pollitem_t item = { r->router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 100) <= 0)
            return out;
        r->routing_id_len = (size_t)zmq_recv(r->router, r->routing_id, sizeof r->routing_id, 0);
        uint8_t buf[1024];
        int len = zmq_recv(r->router, buf, sizeof buf, 0);
        Arrears__Envelope *env = arrears__envelope__unpack(NULL, (size_t)len, buf);
        assert_non_null(env);
        snprintf(out + strlen(out), sizeof out - strlen(out), "%s%llu", out[0] ? "," : "",
                 (unsigned long long)env->seq);
        applied_t a;
        uint64_t through;
        if (replays && envelope_replay_of(env, &a, &through))
            snprintf(out + strlen(out), sizeof out - strlen(out), "@%lld/%llu",
                     (long long)a.at_ms, (unsigned long long)through);
        arrears__envelope__free_unpacked(env, NULL);
    }
}

static const char *received(rig_t *r) { return receive_all(r, false); }

static uint64_t stream_of(rig_t *r);

static void reply(rig_t *r, Arrears__Envelope *env, int64_t now_ms)
{
    env->has_stream_id = 1;
    env->stream_id = stream_of(r);
    assert_int_equal(sender_handle(r->sender, env, now_ms), 0);
}

/* An ack that says when the batch was applied (at_ms; no Applied when at_ms < 0). */
static void ack_at(rig_t *r, uint64_t through, int64_t at_ms, int64_t now_ms)
{
    Arrears__Ack a = ARREARS__ACK__INIT;
    a.has_through_seq = 1;
    a.through_seq = through;
    Arrears__Applied when = ARREARS__APPLIED__INIT;
    when.has_at_ms = when.has_order_us = 1;
    when.at_ms = at_ms;
    when.order_us = now_ms;
    a.applied = at_ms >= 0 ? &when : NULL;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ACK;
    env.ack = &a;
    reply(r, &env, now_ms);
}

static void ack(rig_t *r, uint64_t through, int64_t now_ms) { ack_at(r, through, -1, now_ms); }

static void reject(rig_t *r, Arrears__Reject__Class klass, Arrears__Reject__Code code,
                   uint64_t seq, uint64_t expected, int64_t now_ms)
{
    Arrears__Reject j = ARREARS__REJECT__INIT;
    j.has_seq = j.has_reject_class = j.has_code = 1;
    j.seq = seq;
    j.reject_class = klass;
    j.code = code;
    j.reason = "test";
    j.has_expected_seq = expected != 0;
    j.expected_seq = expected;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_REJECT;
    env.reject = &j;
    reply(r, &env, now_ms);
}

static int read_state(MDB_txn *txn, void *arg)
{
    rig_t *r = ((void **)arg)[0];
    return outbox_state(r->outbox, txn, ((void **)arg)[1]);
}

static outbox_state_t state_of(rig_t *r)
{
    outbox_state_t st;
    void *args[2] = { r, &st };
    assert_int_equal(store_read(r->store, read_state, args), 0);
    return st;
}

static uint64_t stream_of(rig_t *r) { return state_of(r).stream_id; }

static void test_window_and_cumulative_ack(void **state)
{
    rig_t *r = *state;
    append(r, 10);
    assert_int_equal(sender_pump(r->sender, 0), 0);
    assert_string_equal(received(r), "1,2,3,4");
    ack(r, 2, 10);
    assert_int_equal(sender_pump(r->sender, 10), 0);
    assert_string_equal(received(r), "5,6");
    assert_int_equal(sender_unacked(r->sender), 8);
}

static void test_resend_after_timeout(void **state)
{
    rig_t *r = *state;
    append(r, 3);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2,3");
    sender_pump(r->sender, 999);
    assert_string_equal(received(r), "");
    sender_pump(r->sender, 1000);
    assert_string_equal(received(r), "1,2,3");
    assert_int_equal(sender_stats(r->sender)->timeouts, 1);
    assert_int_equal(sender_stats(r->sender)->resent, 3);
}

static void test_permanent_reject_dead_letters(void **state)
{
    rig_t *r = *state;
    append(r, 3);
    sender_pump(r->sender, 0);
    received(r);
    reject(r, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD, 2, 0, 5);
    assert_int_equal(sender_stats(r->sender)->acked, 2);
    assert_int_equal(sender_stats(r->sender)->dead_lettered, 1);
    assert_int_equal(state_of(r).dead_letters, 1);
    ack(r, 3, 6);
    assert_int_equal(sender_unacked(r->sender), 0);
}

static void test_rewind_when_an_ack_was_lost(void **state)
{
    rig_t *r = *state;
    append(r, 5);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2,3,4");
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 4, 3, 1);
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 4, 3, 2); /* same burst */
    assert_int_equal(sender_stats(r->sender)->acked, 2);
    assert_int_equal(sender_stats(r->sender)->rewinds, 1);
    sender_pump(r->sender, 3);
    assert_string_equal(received(r), "3,4,5");
}

static void test_restored_receiver_gets_retained_messages(void **state)
{
    rig_t *r = *state;
    append(r, 4);
    sender_pump(r->sender, 0);
    received(r);
    ack(r, 4, 1);
    assert_int_equal(sender_flush(r->sender, 2), 0);
    assert_int_equal(state_of(r).acked_through, 4);
    /* The receiver came back from a backup that had applied only seq 1. */
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 4, 2, 3);
    assert_int_equal(state_of(r).acked_through, 1);
    sender_pump(r->sender, 4);
    assert_string_equal(received(r), "2,3,4");
    ack(r, 4, 5);
    assert_int_equal(sender_unacked(r->sender), 0);
}

static void test_pruned_rewind_is_stuck(void **state)
{
    rig_t *r = *state;
    append(r, 3);
    sender_pump(r->sender, 0);
    received(r);
    ack(r, 3, 1);
    assert_int_equal(sender_flush(r->sender, 2), 0);   /* retain nothing: 1..3 pruned */
    assert_int_equal(state_of(r).first_retained, 0);
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 3, 2, 3);
    append(r, 1);
    assert_int_equal(sender_pump(r->sender, 4), 0);
    assert_string_equal(received(r), "");
    assert_int_equal(sender_pump(r->sender, 5000), 0);
    assert_string_equal(received(r), "");
}

/* The receiver applied seqs this sender never appended (the sender was restored from a
 * backup): the outbox moves to a new stream and sends what was not acked from seq 1. */
static void test_receiver_ahead_realigns(void **state)
{
    rig_t *r = *state;
    append(r, 2);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2");
    uint64_t old = stream_of(r);
    ack(r, 99, 1);
    assert_int_not_equal(stream_of(r), old);
    assert_int_equal(sender_stats(r->sender)->realigns, 1);
    outbox_state_t st = state_of(r);
    assert_int_equal(st.last_seq, 2);
    assert_int_equal(st.acked_through, 0);
    append(r, 1);
    sender_pump(r->sender, 2);
    assert_string_equal(received(r), "1,2,3");
    ack(r, 3, 3);
    assert_int_equal(sender_unacked(r->sender), 0);
    /* A GAP asking beyond the last seq (a later restore) realigns the same way. */
    old = stream_of(r);
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 3, 50, 4);
    assert_int_not_equal(stream_of(r), old);
    assert_int_equal(state_of(r).last_seq, 0);   /* all acked: nothing to carry */
    sender_pump(r->sender, 5);
    assert_string_equal(received(r), "");
}

/* An idle stream resends its last acked message now and then: a restored receiver
 * answers GAP and gets the retained rest at once. */
static void test_idle_probe_lets_a_restored_receiver_catch_up(void **state)
{
    rig_t *r = *state;
    append(r, 3);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2,3");
    ack(r, 3, 1);
    sender_pump(r->sender, 2000);
    assert_string_equal(received(r), "3");
    sender_pump(r->sender, 2500);
    assert_string_equal(received(r), "");   /* not more often than probe_ms */
    assert_int_equal(sender_stats(r->sender)->probes, 1);
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 3, 2, 2600);
    sender_pump(r->sender, 2601);
    assert_string_equal(received(r), "2,3");
}

/* Out of a driven service's turn the sender probes and sends a restored receiver what it
 * acknowledged once (replays, applied in their first order whenever they come), but
 * nothing it never acknowledged: that waits for the turn. */
static void test_out_of_turn_only_replays(void **state)
{
    rig_t *r = *state;
    append(r, 3);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2,3");
    ack(r, 3, 1);
    append(r, 2);   /* appended out of turn: 4 and 5 wait */
    sender_pump_replays(r->sender, 2000);
    assert_string_equal(received(r), "3");   /* the probe */
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 3, 2, 2001);
    sender_pump_replays(r->sender, 2002);
    assert_string_equal(received(r), "2,3");
    ack(r, 3, 2003);
    sender_pump_replays(r->sender, 2004);
    assert_string_equal(received(r), "");
    sender_pump(r->sender, 2005);   /* the turn */
    assert_string_equal(received(r), "4,5");
}

/* After a move to a new stream nothing on it was ever acknowledged: out of the turn it
 * sends nothing, whatever the old stream's receiver had acknowledged. */
static void test_out_of_turn_nothing_on_a_new_stream(void **state)
{
    rig_t *r = *state;
    append(r, 2);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2");
    ack(r, 2, 1);
    ack(r, 99, 2);   /* the receiver is ahead: a new stream */
    assert_int_equal(sender_stats(r->sender)->realigns, 1);
    append(r, 2);
    sender_pump_replays(r->sender, 3);
    assert_string_equal(received(r), "");
    sender_pump(r->sender, 4);
    assert_string_equal(received(r), "1,2");
}

/* A restored receiver gets each message it acknowledged once with when it first applied
 * it, and the last seq so resent; what it never acknowledged goes as it was. */
static void test_replays_say_when_first_applied(void **state)
{
    rig_t *r = *state;
    append(r, 4);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2,3,4");
    ack_at(r, 2, 100, 1);
    ack_at(r, 3, 200, 2);
    assert_int_equal(sender_flush(r->sender, 3), 0);
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 4, 2, 4);
    sender_pump(r->sender, 5);
    assert_string_equal(receive_all(r, true), "2@100/3,3@200/3,4");
    ack_at(r, 4, 900, 6);   /* the restored receiver's own ack: 2, 3 keep their first */
    assert_int_equal(sender_flush(r->sender, 7), 0);
    reject(r, ARREARS__REJECT__CLASS__REWIND, ARREARS__REJECT__CODE__GAP, 4, 3, 2000);
    sender_pump(r->sender, 2001);
    assert_string_equal(receive_all(r, true), "3@200/4,4@900/4");
}

static void test_retry_later_backs_off_doubling(void **state)
{
    rig_t *r = *state;
    append(r, 2);
    sender_pump(r->sender, 0);
    received(r);
    reject(r, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, 1, 0, 100);
    reject(r, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, 2, 0, 101);
    assert_int_equal(sender_wait_ms(r->sender, 110), 40);
    sender_pump(r->sender, 149);
    assert_string_equal(received(r), "");
    sender_pump(r->sender, 150);
    assert_string_equal(received(r), "1,2");
    reject(r, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__STORE_FULL, 1, 0, 160);
    assert_int_equal(sender_wait_ms(r->sender, 160), 100);
    ack(r, 2, 300);
    reject(r, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, 3, 0, 400);
    assert_int_equal(sender_wait_ms(r->sender, 400), 50);   /* progress reset the backoff */
}

static void test_other_stream_ignored_and_socket_replies(void **state)
{
    rig_t *r = *state;
    append(r, 2);
    sender_pump(r->sender, 0);
    assert_string_equal(received(r), "1,2");
    uint8_t buf[64];
    size_t len = envelope_pack_ack(stream_of(r) + 1, 2, 0, NULL, buf, sizeof buf);
    zmq_send(r->router, r->routing_id, r->routing_id_len, ZMQ_SNDMORE);
    zmq_send(r->router, buf, len, 0);
    len = envelope_pack_ack(stream_of(r), 1, 0, NULL, buf, sizeof buf);
    zmq_send(r->router, r->routing_id, r->routing_id_len, ZMQ_SNDMORE);
    zmq_send(r->router, buf, len, 0);
    zmq_pollitem_t item = { r->dealer, 0, ZMQ_POLLIN, 0 };
    for (int i = 0; i < 50 && sender_stats(r->sender)->acked < 1; i++) {
        zmq_poll(&item, 1, 100);
        assert_int_equal(sender_read_replies(r->sender, 1), 0);
    }
    assert_int_equal(sender_stats(r->sender)->acked, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_window_and_cumulative_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resend_after_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_permanent_reject_dead_letters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rewind_when_an_ack_was_lost, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restored_receiver_gets_retained_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pruned_rewind_is_stuck, setup_no_retention, teardown),
        cmocka_unit_test_setup_teardown(test_receiver_ahead_realigns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idle_probe_lets_a_restored_receiver_catch_up, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_turn_only_replays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_turn_nothing_on_a_new_stream, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replays_say_when_first_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_later_backs_off_doubling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_stream_ignored_and_socket_replies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
