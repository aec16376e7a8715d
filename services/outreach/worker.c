/* worker: see worker.h. */
#include "worker.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "aclock.h"
#include "log.h"

#define REPLY_MAX_BYTES (4 * 1024 * 1024)

struct worker {
    void *dealer;
    char name[WORKER_NAME_MAX + 1];
    Arrears__Channel channels[5];
    size_t channel_count;
    spool_t *spool;
    worker_limits_t limits;
    uint64_t next_request_id;
    uint8_t *buf;
    worker_stats_t stats;
};

worker_t *worker_new(void *dealer, const char *name, const int *channels, size_t channel_count,
                     spool_t *spool, const worker_limits_t *limits)
{
    assert(dealer && name && channels && channel_count >= 1 && channel_count <= 5 && spool);
    worker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dealer = dealer;
    snprintf(self->name, sizeof self->name, "%s", name);
    for (size_t i = 0; i < channel_count; i++)
        self->channels[i] = (Arrears__Channel)channels[i];
    self->channel_count = channel_count;
    self->spool = spool;
    self->limits = *limits;
    self->next_request_id = 1;
    self->buf = malloc(REPLY_MAX_BYTES);
    if (!self->buf)
        worker_destroy(&self);
    return self;
}

void worker_destroy(worker_t **self_p)
{
    assert(self_p);
    if (*self_p)
        free((*self_p)->buf);
    free(*self_p);
    *self_p = NULL;
}

const worker_stats_t *worker_stats(const worker_t *self) { return &self->stats; }

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for the reply to request_id; older replies (to calls asked again) are dropped. */
static Arrears__Envelope *await_reply(worker_t *self, uint64_t request_id)
{
    int64_t until = aclock_monotonic_ms() + self->limits.reply_timeout_ms;
    for (int64_t left; (left = until - aclock_monotonic_ms()) > 0;) {
        zmq_pollitem_t item = {self->dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        int n = zmq_recv(self->dealer, self->buf, REPLY_MAX_BYTES, ZMQ_DONTWAIT);
        if (n < 0 || n > REPLY_MAX_BYTES)
            continue;
        Arrears__Envelope *env = arrears__envelope__unpack(NULL, (size_t)n, self->buf);
        if (env && env->request_id == request_id)
            return env;
        arrears__envelope__free_unpacked(env, NULL);
    }
    return NULL;
}

/* Asks the broker; NULL when it did not answer after every attempt. */
static Arrears__Envelope *call(worker_t *self, Arrears__Envelope *request)
{
    request->has_request_id = 1;
    request->request_id = self->next_request_id++;
    size_t len = arrears__envelope__get_packed_size(request);
    if (len > REPLY_MAX_BYTES)
        return NULL;
    arrears__envelope__pack(request, self->buf);
    for (int attempt = 0; attempt < self->limits.call_attempts; attempt++) {
        /* Never block on a broker that is away (the DEALER has ZMQ_IMMEDIATE): wait for
         * room as long as for a reply, then count it as unanswered. */
        zmq_pollitem_t out = {self->dealer, 0, ZMQ_POLLOUT, 0};
        if (zmq_poll(&out, 1, (long)self->limits.reply_timeout_ms) <= 0 ||
            zmq_send(self->dealer, self->buf, len, ZMQ_DONTWAIT) < 0)
            continue;
        Arrears__Envelope *reply = await_reply(self, request->request_id);
        if (reply)
            return reply;
        arrears__envelope__pack(request, self->buf);   /* await_reply reused the buffer */
    }
    log_event(LOG_WARN, "broker_silent", "worker=%s request=%llu", self->name,
              (unsigned long long)request->request_id);
    return NULL;
}

/* A call answered with an AttemptReply: 1 go/recorded, 0 not, -1 no answer. */
static int call_for_go(worker_t *self, Arrears__Envelope *request, const char *task_id)
{
    Arrears__Envelope *reply = call(self, request);
    if (!reply)
        return -1;
    int go = reply->body_case == ARREARS__ENVELOPE__BODY_ATTEMPT_REPLY && reply->attempt_reply->go;
    if (!go)
        log_event(LOG_INFO, "broker_said_no", "task=%s reason=%s", task_id,
                  reply->body_case == ARREARS__ENVELOPE__BODY_ATTEMPT_REPLY && reply->attempt_reply->reason
                      ? reply->attempt_reply->reason : reply->body_case == ARREARS__ENVELOPE__BODY_REJECT
                      ? reply->reject->reason : "-");
    arrears__envelope__free_unpacked(reply, NULL);
    return go;
}

static int attempt_start(worker_t *self, const Arrears__Task *t)
{
    Arrears__AttemptStart m = ARREARS__ATTEMPT_START__INIT;
    m.task_id = t->task_id;
    m.has_lease_id = 1;
    m.lease_id = t->lease_id;
    m.worker = self->name;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ATTEMPT_START;
    env.attempt_start = &m;
    return call_for_go(self, &env, t->task_id);
}

static int report(worker_t *self, const Arrears__Task *t, Arrears__ContactResult result,
                  int64_t at_ms, const char *ref, const char *detail, const spool_outcome_t *o)
{
    Arrears__TaskReport m = ARREARS__TASK_REPORT__INIT;
    m.task_id = t->task_id;
    m.has_lease_id = m.has_at_ms = 1;
    m.lease_id = t->lease_id;
    m.worker = self->name;
    m.has_result = result != ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    m.result = result;
    m.at_ms = at_ms;
    m.channel_ref = (char *)ref;
    m.detail = (char *)detail;
    if (o && result == ARREARS__CONTACT_RESULT__PROMISE_TO_PAY) {
        m.has_promise_amount_minor = 1;
        m.promise_amount_minor = o->promise_amount_minor;
        m.promise_date = (char *)o->promise_date;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_TASK_REPORT;
    env.task_report = &m;
    int rc = call_for_go(self, &env, t->task_id);
    self->stats.reports_lost += rc < 0;
    return rc < 0 ? -1 : 0;
}

/* The borrower answered the text with STOP: the broker hears it at once. */
static void send_opt_out(worker_t *self, const Arrears__Task *t, int64_t at_ms)
{
    char id[200];
    snprintf(id, sizeof id, "%s#stop", t->idempotency_key);
    Arrears__Inbound m = ARREARS__INBOUND__INIT;
    m.has_channel = m.has_at_ms = 1;
    m.channel = t->channel;
    m.from = t->to;
    m.text = "STOP";
    m.at_ms = at_ms;
    m.inbound_id = id;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_INBOUND;
    env.inbound = &m;
    self->stats.opt_outs += call_for_go(self, &env, t->task_id) == 1;
}

/* The channel's record says whether the key went; the broker decides what follows. */
static int resolve(worker_t *self, const Arrears__Task *t)
{
    bool found = false;
    Arrears__ContactResult result = ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    int64_t at = t->clock_ms;
    int rc = spool_lookup(self->spool, t, &found, &result, &at);
    if (rc == 0 && !found)
        result = ARREARS__CONTACT_RESULT__NOT_ATTEMPTED;
    self->stats.resolved++;
    return report(self, t, rc == 0 ? result : ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED,
                  at, NULL, rc == 0 ? (found ? "found in the channel's record" : "not in the channel's record")
                                    : spool_strerror(rc), NULL);
}

static int send_one(worker_t *self, const Arrears__Task *t)
{
    /* The business clock: the lease's instant in a simulation, else the wall clock. */
    int64_t now = t->simulated ? t->clock_ms : real_now_ms();
    if (real_now_ms() >= t->lease_until_ms)
        return 0;   /* the lease is gone: the broker has taken the task back */
    if (now >= t->send_before_ms) {
        self->stats.missed++;
        return report(self, t, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, now, NULL, "missed", NULL);
    }
    int go = attempt_start(self, t);
    if (go <= 0) {
        self->stats.no_go += go == 0;
        return go < 0 ? -1 : 0;   /* no go: the broker already put the task back */
    }
    spool_outcome_t o;
    char ref[SPOOL_PATH_MAX];
    spool_outcome(self->spool, t, now, &o);
    int rc = spool_deliver(self->spool, t, now, self->name, &o, ref, sizeof ref);
    if (rc == SPOOL_EEXISTS)   /* delivered before under this key: report that record */
        return resolve(self, t);
    if (rc != 0) {
        /* Nothing reached the channel: the broker requeues it for the gate. */
        log_event(LOG_ERROR, "spool_failed", "task=%s error=%s", t->task_id, spool_strerror(rc));
        return report(self, t, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, now, NULL, spool_strerror(rc), NULL);
    }
    self->stats.sent++;
    rc = report(self, t, o.result, now, ref, NULL, &o);
    if (rc == 0 && o.opt_out_reply && o.result == ARREARS__CONTACT_RESULT__DELIVERED)
        send_opt_out(self, t, now);
    return rc;
}

int worker_step(worker_t *self, int *leased)
{
    *leased = 0;
    Arrears__TaskPull m = ARREARS__TASK_PULL__INIT;
    m.worker = self->name;
    m.n_channels = self->channel_count;
    m.channels = self->channels;
    m.has_max_tasks = 1;
    m.max_tasks = self->limits.max_tasks;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_TASK_PULL;
    env.task_pull = &m;
    Arrears__Envelope *reply = call(self, &env);
    self->stats.pulls++;
    if (!reply)
        return -1;
    int rc = 0;
    if (reply->body_case == ARREARS__ENVELOPE__BODY_TASK_LEASE) {
        const Arrears__TaskLease *lease = reply->task_lease;
        *leased = (int)lease->n_tasks;
        self->stats.leased += lease->n_tasks;
        for (size_t i = 0; rc == 0 && i < lease->n_tasks; i++)
            rc = lease->tasks[i]->kind == ARREARS__TASK_KIND__TASK_RESOLVE
                     ? resolve(self, lease->tasks[i]) : send_one(self, lease->tasks[i]);
    } else if (reply->body_case == ARREARS__ENVELOPE__BODY_REJECT) {
        log_event(LOG_WARN, "pull_refused", "worker=%s reason=%s", self->name,
                  reply->reject->reason ? reply->reject->reason : "-");
    }
    arrears__envelope__free_unpacked(reply, NULL);
    return rc;
}
