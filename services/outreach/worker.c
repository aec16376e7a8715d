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
#include "metrics.h"

#define REPLY_MAX_BYTES (4 * 1024 * 1024)
#define JOBS_MAX 64

/* One leased task on its way: what the worker decided and what came of it. */
typedef enum { JOB_SKIP, JOB_MISSED, JOB_START, JOB_SENT, JOB_RESOLVED } job_state_t;

typedef struct {
    const Arrears__Task *task;
    job_state_t state;
    int64_t now_ms;
    spool_outcome_t outcome;
    Arrears__ContactResult result;
    int64_t at_ms;
    const char *detail;
    char why[CHANNEL_WHY_MAX];       /* a channel's reason, reported after the call returns */
    char ref[SPOOL_PATH_MAX];
    Arrears__AttemptStart start;
    Arrears__TaskReport report;
    Arrears__Envelope env;
} job_t;

struct worker {
    void *dealer;
    char name[WORKER_NAME_MAX + 1];
    Arrears__Channel channels[5];
    size_t channel_count;
    spool_t *spool;
    channels_t *adapters;
    int64_t rest_until_ms[5], rest_ms[5];
    worker_limits_t limits;
    uint64_t next_request_id;
    uint8_t *buf, *rbuf;
    job_t *jobs;
    worker_stats_t stats;
    worker_timer_fn *timer;
    void *timer_arg;
};

worker_t *worker_new(void *dealer, const char *name, const int *channels, size_t channel_count,
                     spool_t *spool, channels_t *adapters, const worker_limits_t *limits)
{
    assert(dealer && name && channels && channel_count >= 1 && channel_count <= 5 && spool);
    assert(limits->max_tasks >= 1 && limits->max_tasks <= JOBS_MAX);
    worker_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->dealer = dealer;
    snprintf(self->name, sizeof self->name, "%s", name);
    for (size_t i = 0; i < channel_count; i++)
        self->channels[i] = (Arrears__Channel)channels[i];
    self->channel_count = channel_count;
    self->spool = spool;
    self->adapters = adapters;
    self->limits = *limits;
    self->next_request_id = 1;
    self->buf = malloc(REPLY_MAX_BYTES);
    self->rbuf = malloc(REPLY_MAX_BYTES);
    self->jobs = calloc(JOBS_MAX, sizeof *self->jobs);
    if (!self->buf || !self->rbuf || !self->jobs)
        worker_destroy(&self);
    return self;
}

void worker_destroy(worker_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        free((*self_p)->buf);
        free((*self_p)->rbuf);
        free((*self_p)->jobs);
    }
    free(*self_p);
    *self_p = NULL;
}

const worker_stats_t *worker_stats(const worker_t *self) { return &self->stats; }

void worker_set_timer(worker_t *self, worker_timer_fn *fn, void *arg)
{
    self->timer = fn;
    self->timer_arg = arg;
}

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- calls */

/* Sends one packed request without ever blocking on a broker that is away (the DEALER
 * has ZMQ_IMMEDIATE): waits for room as long as for a reply. */
static bool send_request(worker_t *self, Arrears__Envelope *request)
{
    size_t len = arrears__envelope__get_packed_size(request);
    if (len > REPLY_MAX_BYTES)
        return false;
    arrears__envelope__pack(request, self->buf);
    zmq_pollitem_t out = {self->dealer, 0, ZMQ_POLLOUT, 0};
    return zmq_poll(&out, 1, (long)self->limits.reply_timeout_ms) > 0 &&
           zmq_send(self->dealer, self->buf, len, ZMQ_DONTWAIT) >= 0;
}

/* Collects replies to requests[0..n) (matched by request id) until each has one or the
 * timeout passes; replies to calls asked before are dropped. Returns how many are in. */
static size_t collect(worker_t *self, Arrears__Envelope **requests, size_t n,
                      Arrears__Envelope **replies, size_t have)
{
    int64_t until = aclock_monotonic_ms() + self->limits.reply_timeout_ms;
    for (int64_t left; have < n && (left = until - aclock_monotonic_ms()) > 0;) {
        zmq_pollitem_t item = {self->dealer, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        int len = zmq_recv(self->dealer, self->rbuf, REPLY_MAX_BYTES, ZMQ_DONTWAIT);
        Arrears__Envelope *env = len < 0 || len > REPLY_MAX_BYTES
                                     ? NULL : arrears__envelope__unpack(NULL, (size_t)len, self->rbuf);
        size_t i = 0;
        while (env && i < n && (replies[i] || requests[i]->request_id != env->request_id))
            i++;
        if (env && i < n) {
            replies[i] = env;
            have++;
        } else {
            arrears__envelope__free_unpacked(env, NULL);
        }
    }
    return have;
}

/* Puts requests[0..n) in flight together — the broker takes them in one batch, one
 * commit — and waits for their replies, asking again for the unanswered (the calls are
 * idempotent) up to call_attempts times. replies[i] NULL: no answer. */
static void call_many(worker_t *self, Arrears__Envelope **requests, size_t n,
                      Arrears__Envelope **replies)
{
    size_t have = 0;
    for (size_t i = 0; i < n; i++) {
        replies[i] = NULL;
        requests[i]->has_request_id = 1;
        requests[i]->request_id = self->next_request_id++;
    }
    for (int attempt = 0; attempt < self->limits.call_attempts && have < n; attempt++) {
        for (size_t i = 0; i < n; i++)
            if (!replies[i])
                send_request(self, requests[i]);
        have = collect(self, requests, n, replies, have);
    }
    if (have < n)
        log_event(LOG_WARN, "broker_silent", "worker=%s unanswered=%zu", self->name, n - have);
}

static Arrears__Envelope *call(worker_t *self, Arrears__Envelope *request)
{
    Arrears__Envelope *reply;
    call_many(self, &request, 1, &reply);
    return reply;
}

/* An AttemptReply's verdict: 1 go / recorded, 0 not, -1 no answer. Frees the reply. */
static int verdict(Arrears__Envelope *reply, const char *task_id)
{
    if (!reply)
        return -1;
    bool attempt_reply = reply->body_case == ARREARS__ENVELOPE__BODY_ATTEMPT_REPLY;
    int go = attempt_reply && reply->attempt_reply->go;
    if (!go)
        log_event(LOG_INFO, "broker_said_no", "task=%s reason=%s", task_id,
                  attempt_reply && reply->attempt_reply->reason ? reply->attempt_reply->reason
                  : reply->body_case == ARREARS__ENVELOPE__BODY_REJECT ? reply->reject->reason : "-");
    arrears__envelope__free_unpacked(reply, NULL);
    return go;
}

/* ---------------------------------------------------------------- one lease's jobs */

static void job_report(job_t *j, const char *worker, Arrears__ContactResult result,
                       int64_t at_ms, const char *detail)
{
    Arrears__TaskReport *m = &j->report;
    arrears__task_report__init(m);
    m->task_id = j->task->task_id;
    m->has_lease_id = m->has_at_ms = 1;
    m->lease_id = j->task->lease_id;
    m->worker = (char *)worker;
    m->has_result = result != ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    m->result = result;
    m->at_ms = at_ms;
    m->channel_ref = j->ref[0] ? j->ref : NULL;
    m->detail = (char *)detail;
    if (result == ARREARS__CONTACT_RESULT__PROMISE_TO_PAY) {
        m->has_promise_amount_minor = 1;
        m->promise_amount_minor = j->outcome.promise_amount_minor;
        m->promise_date = j->outcome.promise_date;
    }
    arrears__envelope__init(&j->env);
    j->env.body_case = ARREARS__ENVELOPE__BODY_TASK_REPORT;
    j->env.task_report = m;
}

/* The channel's record says whether the key went; the broker decides what follows. */
static void resolve_job(worker_t *self, job_t *j)
{
    bool found = false, unknown = false;
    Arrears__ContactResult result = ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    int64_t at = j->task->clock_ms;
    int rc = self->adapters ? channels_lookup(self->adapters, j->task, &found, &unknown, &result, &at)
                            : spool_lookup(self->spool, j->task, &found, &result, &at);
    if (rc != 0 || unknown)
        result = ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED;
    else if (!found)
        result = ARREARS__CONTACT_RESULT__NOT_ATTEMPTED;
    self->stats.resolved++;
    j->state = JOB_RESOLVED;
    job_report(j, self->name, result, at,
               rc ? spool_strerror(rc) : unknown ? "the channel cannot tell whether it went"
               : found ? "found in the channel's record" : "not in the channel's record");
}

/* Before asking to start: a lease gone is left alone, a window closed is reported. */
static void prepare_job(worker_t *self, job_t *j, const Arrears__Task *t)
{
    memset(j, 0, sizeof *j);
    j->task = t;
    /* The business clock: the lease's instant in a simulation, else the wall clock. */
    j->now_ms = t->simulated ? t->clock_ms : real_now_ms();
    if (t->kind == ARREARS__TASK_KIND__TASK_RESOLVE) {
        resolve_job(self, j);
    } else if (real_now_ms() >= t->lease_until_ms) {
        j->state = JOB_SKIP;   /* the broker has taken the task back */
    } else if (j->now_ms >= t->send_before_ms) {
        self->stats.missed++;
        j->state = JOB_MISSED;
        job_report(j, self->name, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, j->now_ms, "missed");
    } else {
        j->state = JOB_START;
        arrears__attempt_start__init(&j->start);
        j->start.task_id = t->task_id;
        j->start.has_lease_id = 1;
        j->start.lease_id = t->lease_id;
        j->start.worker = self->name;
        arrears__envelope__init(&j->env);
        j->env.body_case = ARREARS__ENVELOPE__BODY_ATTEMPT_START;
        j->env.attempt_start = &j->start;
    }
}
/* Asks to start every job that may go, all at once; those told go are sent. */
static void start_jobs(worker_t *self, size_t n)
{
    Arrears__Envelope *requests[JOBS_MAX], *replies[JOBS_MAX];
    job_t *which[JOBS_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (self->jobs[i].state == JOB_START)
            which[k] = &self->jobs[i], requests[k++] = &self->jobs[i].env;
    call_many(self, requests, k, replies);
    for (size_t i = 0; i < k; i++) {
        int go = verdict(replies[i], which[i]->task->task_id);
        /* No go: the broker already put the task back. No answer: nothing is sent, and
         * the lease runs out at the broker, which looks the key up before anything else. */
        which[i]->state = go == 1 ? JOB_SENT : JOB_SKIP;
        self->stats.no_go += go == 0;
    }
}

/* A channel that is down rests, longer each time; one that works is tried at once. */
static void rest_channel(worker_t *self, int channel, bool down)
{
    int c = channel - 1;
    if (!down) {
        self->rest_ms[c] = 0;
        return;
    }
    int64_t next = self->rest_ms[c] ? self->rest_ms[c] * 2 : self->limits.rest_initial_ms;
    self->rest_ms[c] = next < self->limits.rest_max_ms ? next : self->limits.rest_max_ms;
    self->rest_until_ms[c] = aclock_monotonic_ms() + self->rest_ms[c];
    self->stats.channel_down++;
    log_event(LOG_WARN, "channel_down", "worker=%s channel=%d rest_ms=%lld", self->name, channel,
              (long long)self->rest_ms[c]);
}

/* SMTP or HTTP: the channel's answer decides the report (channel.h); the spool keeps
 * the record of what the channel accepted or refused. */
static void deliver_external(worker_t *self, job_t *j)
{
    const Arrears__Task *t = j->task;
    char record_ref[SPOOL_PATH_MAX], *why = j->why;
    if (self->rest_until_ms[t->channel - 1] > aclock_monotonic_ms()) {
        /* Found down earlier in this lease: not tried again until its rest is over. */
        job_report(j, self->name, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, j->now_ms, "channel resting");
        return;
    }
    channel_send_t r = channels_send(self->adapters, t, j->ref, sizeof j->ref, why, sizeof j->why);
    rest_channel(self, t->channel, r == CHANNEL_DOWN);
    if (r == CHANNEL_UNKNOWN) {   /* it may have gone: the key is looked up after the lease */
        self->stats.unknown++;
        j->state = JOB_SKIP;
        log_event(LOG_WARN, "attempt_unknown", "task=%s why=\"%s\"", t->task_id, why);
        return;
    }
    if (r == CHANNEL_DOWN) {
        job_report(j, self->name, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, j->now_ms, "channel down");
        return;
    }
    memset(&j->outcome, 0, sizeof j->outcome);
    j->outcome.result = r == CHANNEL_SENT ? ARREARS__CONTACT_RESULT__DELIVERED
                                          : ARREARS__CONTACT_RESULT__FAILED;
    if (spool_deliver(self->spool, t, j->now_ms, self->name, &j->outcome, record_ref,
                      sizeof record_ref) != 0)
        log_event(LOG_ERROR, "journal_failed", "task=%s", t->task_id);   /* the look-up asks the channel */
    self->stats.sent += r == CHANNEL_SENT;
    job_report(j, self->name, j->outcome.result, j->now_ms, r == CHANNEL_SENT ? NULL : why);
}

/* Delivers one job told go through its channel, and prepares its report. */
static void deliver_job(worker_t *self, job_t *j)
{
    const Arrears__Task *t = j->task;
    if (self->adapters && channels_external(self->adapters, t->channel)) {
        deliver_external(self, j);
        return;
    }
    spool_outcome(self->spool, t, j->now_ms, &j->outcome);
    int rc = spool_deliver(self->spool, t, j->now_ms, self->name, &j->outcome, j->ref, sizeof j->ref);
    if (rc == SPOOL_EEXISTS) {   /* delivered before under this key: report that record */
        j->ref[0] = '\0';
        resolve_job(self, j);
        return;
    }
    if (rc != 0) {   /* nothing reached the channel: the broker requeues it for the gate */
        log_event(LOG_ERROR, "spool_failed", "task=%s error=%s", t->task_id, spool_strerror(rc));
        j->ref[0] = '\0';
        job_report(j, self->name, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, j->now_ms, spool_strerror(rc));
        return;
    }
    self->stats.sent++;
    job_report(j, self->name, j->outcome.result, j->now_ms, NULL);
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
    self->stats.opt_outs += verdict(call(self, &env), t->task_id) == 1;
}

/* Every report of the lease at once; then the STOP replies the texts drew. */
static void report_jobs(worker_t *self, size_t n)
{
    Arrears__Envelope *requests[JOBS_MAX], *replies[JOBS_MAX];
    job_t *which[JOBS_MAX];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (self->jobs[i].state != JOB_SKIP && self->jobs[i].state != JOB_START)
            which[k] = &self->jobs[i], requests[k++] = &self->jobs[i].env;
    call_many(self, requests, k, replies);
    for (size_t i = 0; i < k; i++) {
        job_t *j = which[i];
        self->stats.reports_lost += verdict(replies[i], j->task->task_id) < 0;
        if (j->state == JOB_SENT && j->outcome.opt_out_reply &&
            j->report.result == ARREARS__CONTACT_RESULT__DELIVERED)
            send_opt_out(self, j->task, j->now_ms);
    }
}

/* NULL also when every channel rests: nothing to ask for now. */
static Arrears__Envelope *pull(worker_t *self)
{
    Arrears__Channel awake[5];
    size_t n = 0;
    int64_t now = aclock_monotonic_ms();
    for (size_t i = 0; i < self->channel_count; i++)
        if (self->rest_until_ms[self->channels[i] - 1] <= now)
            awake[n++] = self->channels[i];
    if (n == 0)
        return NULL;
    Arrears__TaskPull m = ARREARS__TASK_PULL__INIT;
    m.worker = self->name;
    m.n_channels = n;
    m.channels = awake;
    m.has_max_tasks = 1;
    m.max_tasks = self->limits.max_tasks;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_TASK_PULL;
    env.task_pull = &m;
    self->stats.pulls++;
    return call(self, &env);
}

/* A lease's sends go one after another (each durable); one that would start too near
 * its lease's end is not sent at all, and says so: the broker puts it back, or, if the
 * lease has already ended, finds nothing under its key. */
static void deliver_in_lease(worker_t *self, job_t *j)
{
    if (real_now_ms() + self->limits.send_margin_ms < j->task->lease_until_ms) {
        int64_t start_us = metrics_now_us();
        deliver_job(self, j);
        const Arrears__TaskReport *r = &j->report;
        if (j->state != JOB_SENT || !r->has_result || r->result >= WORKER_RESULTS ||
            j->task->channel < 1 || j->task->channel > WORKER_CHANNELS)
            return;   /* resolved from an earlier record, or its outcome unknown yet */
        self->stats.results[j->task->channel - 1][r->result]++;
        if (self->timer)
            self->timer(self->timer_arg, j->task->channel, metrics_now_us() - start_us);
        return;
    }
    self->stats.missed++;
    log_event(LOG_WARN, "lease_too_short", "task=%s worker=%s", j->task->task_id, self->name);
    job_report(j, self->name, ARREARS__CONTACT_RESULT__NOT_ATTEMPTED, j->now_ms,
               "the lease ran out before it could be sent");
}

int worker_step(worker_t *self, int *leased)
{
    *leased = 0;
    Arrears__Envelope *reply = pull(self);
    if (!reply)
        return -1;
    if (reply->body_case == ARREARS__ENVELOPE__BODY_REJECT)
        log_event(LOG_WARN, "pull_refused", "worker=%s reason=%s", self->name,
                  reply->reject->reason ? reply->reject->reason : "-");
    if (reply->body_case == ARREARS__ENVELOPE__BODY_TASK_LEASE) {
        const Arrears__TaskLease *lease = reply->task_lease;
        size_t n = lease->n_tasks < JOBS_MAX ? lease->n_tasks : JOBS_MAX;
        *leased = (int)n;
        self->stats.leased += n;
        for (size_t i = 0; i < n; i++)
            prepare_job(self, &self->jobs[i], lease->tasks[i]);
        start_jobs(self, n);
        for (size_t i = 0; i < n; i++)
            if (self->jobs[i].state == JOB_SENT)
                deliver_in_lease(self, &self->jobs[i]);
        /* Reported only once durable; unreported, the leases run out and the broker
         * looks the keys up. */
        if (spool_commit(self->spool) == 0)
            report_jobs(self, n);
        else
            log_event(LOG_ERROR, "spool_failed", "worker=%s what=\"the spool folders cannot be synced\"",
                      self->name);
    }
    arrears__envelope__free_unpacked(reply, NULL);
    return 0;
}
