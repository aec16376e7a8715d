/* opclient: see opclient.h. */
#include "opclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <time.h>
#include <zmq.h>

#include "aclock.h"
#include "link.h"

#define BUSY_BACKOFF_FIRST_MS 2
#define BUSY_BACKOFF_MAX_MS 100

struct opclient {
    void *dealer;
    uint64_t stream_id;
    uint64_t next_seq;
    uint64_t next_request_id;
    uint8_t *buf;   /* OPCLIENT_MESSAGE_MAX: one packed message at a time */
};

opclient_t *opclient_new(void *ctx, const char *endpoint, const char *server_public_path,
                         const char *key_path, char *err, size_t err_len)
{
    opclient_t *self = calloc(1, sizeof *self);
    if (!self || !(self->buf = malloc(OPCLIENT_MESSAGE_MAX))) {
        snprintf(err, err_len, "out of memory");
        free(self);
        return NULL;
    }
    link_options_t lo = link_default_options();
    self->dealer = link_client_open(ctx, endpoint, server_public_path, key_path, &lo, err,
                                    err_len);
    if (!self->dealer) {
        opclient_destroy(&self);
        return NULL;
    }
    /* A random id: each connection is a new stream, so no state survives between runs
     * of the CLI and two runs never share a seq. */
    randombytes_buf(&self->stream_id, sizeof self->stream_id);
    self->stream_id = (self->stream_id >> 1) | 1;
    self->next_seq = 1;
    self->next_request_id = 1;
    return self;
}

void opclient_destroy(opclient_t **self_p)
{
    opclient_t *self = *self_p;
    if (!self)
        return;
    link_close(&self->dealer);
    free(self->buf);
    free(self);
    *self_p = NULL;
}

static int64_t remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - aclock_monotonic_ms();
    return left > 0 ? left : 0;
}

/* ZMQ_IMMEDIATE: nothing is queued before the connection is up, so a send is retried
 * until the deadline rather than lost. */
static int send_packed(opclient_t *self, size_t len, int64_t deadline_ms)
{
    while (zmq_send(self->dealer, self->buf, len, ZMQ_DONTWAIT) < 0) {
        if (zmq_errno() != EAGAIN || remaining_ms(deadline_ms) == 0)
            return OPCLIENT_ETIMEOUT;
        zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLOUT, 0 };
        zmq_poll(&item, 1, remaining_ms(deadline_ms) < 50 ? (long)remaining_ms(deadline_ms) : 50);
    }
    return OPCLIENT_OK;
}

/* The next reply within wait_ms, or NULL. */
static Arrears__Envelope *receive(opclient_t *self, int64_t wait_ms)
{
    zmq_pollitem_t item = { self->dealer, 0, ZMQ_POLLIN, 0 };
    if (zmq_poll(&item, 1, (long)wait_ms) <= 0)
        return NULL;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    Arrears__Envelope *env = NULL;
    if (zmq_msg_recv(&msg, self->dealer, ZMQ_DONTWAIT) >= 0)
        env = arrears__envelope__unpack(NULL, zmq_msg_size(&msg), zmq_msg_data(&msg));
    zmq_msg_close(&msg);
    return env;
}

static void copy_reject(const Arrears__Reject *r, reject_t *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    out->klass = r->reject_class;
    out->code = r->code;
    out->seq = r->seq;
    out->expected_seq = r->expected_seq;
    snprintf(out->field, sizeof out->field, "%s", r->field ? r->field : "");
    snprintf(out->reason, sizeof out->reason, "%s", r->reason ? r->reason : "");
}

int opclient_query(opclient_t *self, Arrears__Envelope *env, int reply_case,
                   Arrears__Envelope **reply, int64_t timeout_ms, reject_t *reject)
{
    int64_t deadline = aclock_monotonic_ms() + timeout_ms;
    uint64_t id = self->next_request_id++;
    size_t len = envelope_pack_reply(env, id, self->buf, OPCLIENT_MESSAGE_MAX);
    if (len == 0)
        return OPCLIENT_EPACK;
    *reply = NULL;
    while (remaining_ms(deadline) > 0) {
        if (send_packed(self, len, deadline) != 0)
            break;
        int64_t resend_at = aclock_monotonic_ms() + OPCLIENT_RESEND_MS;
        Arrears__Envelope *got;
        while ((got = receive(self, remaining_ms(resend_at < deadline ? resend_at : deadline)))) {
            if (got->request_id != id) {   /* a late answer to an earlier try */
                arrears__envelope__free_unpacked(got, NULL);
                continue;
            }
            if (got->body_case == ARREARS__ENVELOPE__BODY_REJECT) {
                copy_reject(got->reject, reject);
                arrears__envelope__free_unpacked(got, NULL);
                return OPCLIENT_EREJECTED;
            }
            if ((int)got->body_case != reply_case) {
                arrears__envelope__free_unpacked(got, NULL);
                return OPCLIENT_EREPLY;
            }
            *reply = got;
            return OPCLIENT_OK;
        }
    }
    return OPCLIENT_ETIMEOUT;
}

/* What one reply says about seq: 1 acked, 0 not about it, -1 busy, -2 refused. */
static int judge_reply(const opclient_t *self, const Arrears__Envelope *got, uint64_t seq,
                       reject_t *reject)
{
    if (got->stream_id != self->stream_id)
        return 0;
    if (got->body_case == ARREARS__ENVELOPE__BODY_ACK)
        return got->ack->through_seq >= seq ? 1 : 0;
    if (got->body_case != ARREARS__ENVELOPE__BODY_REJECT || got->reject->seq != seq)
        return 0;
    if (got->reject->reject_class == ARREARS__REJECT__CLASS__RETRY_LATER)
        return -1;
    copy_reject(got->reject, reject);
    return -2;
}

int opclient_send(opclient_t *self, Arrears__Envelope *env, int64_t timeout_ms,
                  reject_t *reject)
{
    int64_t deadline = aclock_monotonic_ms() + timeout_ms;
    uint64_t seq = self->next_seq;
    env->has_stream_id = env->has_seq = 1;
    env->stream_id = self->stream_id;
    env->seq = seq;
    size_t len = envelope_pack(env, self->buf, OPCLIENT_MESSAGE_MAX);
    if (len == 0)
        return OPCLIENT_EPACK;
    int64_t backoff_ms = BUSY_BACKOFF_FIRST_MS;
    while (remaining_ms(deadline) > 0) {
        if (send_packed(self, len, deadline) != 0)
            break;
        int64_t resend_at = aclock_monotonic_ms() + OPCLIENT_RESEND_MS;
        int verdict = 0;
        Arrears__Envelope *got;
        while (verdict == 0 &&
               (got = receive(self, remaining_ms(resend_at < deadline ? resend_at : deadline)))) {
            verdict = judge_reply(self, got, seq, reject);
            arrears__envelope__free_unpacked(got, NULL);
        }
        if (verdict == 1 || verdict == -2) {
            self->next_seq++;   /* a permanent refusal consumed the seq too */
            return verdict == 1 ? OPCLIENT_OK : OPCLIENT_EREJECTED;
        }
        if (verdict == -1) {   /* busy: the receiver asks to be asked again soon */
            struct timespec pause = { 0, (long)backoff_ms * 1000000L };
            nanosleep(&pause, NULL);
            backoff_ms = backoff_ms * 2 > BUSY_BACKOFF_MAX_MS ? BUSY_BACKOFF_MAX_MS : backoff_ms * 2;
        }
    }
    return OPCLIENT_ETIMEOUT;
}

int opclient_health(opclient_t *self, Arrears__Health **health, int64_t timeout_ms)
{
    Arrears__HealthQuery q = ARREARS__HEALTH_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_HEALTH_QUERY;
    env.health_query = &q;
    Arrears__Envelope *reply = NULL;
    int rc = opclient_query(self, &env, ARREARS__ENVELOPE__BODY_HEALTH, &reply, timeout_ms, NULL);
    *health = NULL;
    if (rc != 0)
        return rc;
    *health = reply->health;
    reply->health = NULL;   /* handed to the caller; the envelope goes */
    reply->body_case = ARREARS__ENVELOPE__BODY__NOT_SET;
    arrears__envelope__free_unpacked(reply, NULL);
    return OPCLIENT_OK;
}

const char *opclient_strerror(int code)
{
    switch (code) {
    case OPCLIENT_OK: return "ok";
    case OPCLIENT_ECONNECT: return "cannot open the connection (key file or endpoint)";
    case OPCLIENT_ETIMEOUT: return "no answer in time: is the service up? (`arrears status`)";
    case OPCLIENT_EREJECTED: return "refused by the service";
    case OPCLIENT_EPACK: return "the message is too large";
    case OPCLIENT_EREPLY: return "the service answered with an unexpected body";
    default: return "unknown opclient error";
    }
}
