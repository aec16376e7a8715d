/* catchup: applying the held replays in their first order (see catchup.h). */
#include "catchup.h"

#include <string.h>

#include "log.h"

/* An apply that answered retry-later: the transaction is dropped, the message stays
 * held, and the next step tries again (as a live stream's sender would). */
#define CATCHUP_EAGAIN (-40901)

catchup_next_t catchup_next(const held_state_t *held, int64_t done_ms, int64_t every_ms,
                            int64_t *run_to_ms)
{
    if (!held->active)
        return CATCHUP_IDLE;
    if (!held->ready)
        return CATCHUP_WAIT;
    if (held->count == 0)
        return CATCHUP_DONE;
    int64_t boundary = (done_ms / every_ms + 1) * every_ms;
    if (boundary > held->next_at_ms)
        return CATCHUP_APPLY;
    *run_to_ms = boundary;
    return CATCHUP_RUN;
}

typedef struct {
    staging_t *self;
    size_t applied, refused;
    int64_t last_at_ms;
    bool finished;
} step_t;

/* What comes next in txn; a daily run in progress finishes first (daily.c). */
static int what_next(staging_t *self, MDB_txn *txn, catchup_next_t *next)
{
    int64_t running = 0, done = 0, run_to = 0;
    held_state_t st;
    int rc = ledger_meta_get(self->ledger, txn, "run_to_ms", 0, &running);
    rc = rc ? rc : ledger_meta_get(self->ledger, txn, "run_done_ms", 0, &done);
    rc = rc ? rc : held_state(self->held, txn, aclock_monotonic_ms(), &st);
    *next = rc == 0 && running == 0 ? catchup_next(&st, done, self->run_every_ms, &run_to)
                                    : CATCHUP_WAIT;
    return rc;
}

/* The first held message, applied at the instant staging first applied it. */
static int apply_first(step_t *c, MDB_txn *txn)
{
    staging_t *self = c->self;
    held_msg_t m;
    int rc = held_take(self->held, txn, &m);
    if (rc != 0)
        return rc;
    if (aclock_is_simulated(self->clock))   /* its clock was there then: never back */
        (void)aclock_advance_to(self->clock, m.first.at_ms);
    reject_t reject;
    memset(&reject, 0, sizeof reject);
    rc = staging_apply_at(self, txn, &m.from, m.env, m.first.at_ms, &reject);
    if (rc == APPLY_REJECTED && reject.klass != ARREARS__REJECT__CLASS__PERMANENT)
        rc = CATCHUP_EAGAIN;
    if (rc == APPLY_REJECTED) {   /* refused the first time too: nothing to redo */
        char reason[2 * REJECT_REASON_MAX];
        log_event(LOG_WARN, "replay_refused", "principal=%s stream_id=%llu seq=%llu code=%s "
                  "reason=%s", m.from.principal, (unsigned long long)m.env->stream_id,
                  (unsigned long long)m.env->seq, reject_code_name(reject.code),
                  log_quote(reject.reason, reason, sizeof reason));
        c->refused++;
        rc = 0;
    } else if (rc == APPLY_OK || rc == APPLY_DUPLICATE) {
        c->applied++;
        rc = 0;
    }
    c->last_at_ms = m.first.at_ms;
    envelope_free(&m.env);
    return rc;
}

static int step_txn(MDB_txn *txn, void *arg)
{
    step_t *c = arg;
    staging_t *self = c->self;
    c->applied = c->refused = 0;   /* from scratch: a full map replays the transaction */
    c->finished = false;
    for (size_t n = 0; n < self->run_chunk_accounts; n++) {
        catchup_next_t next;
        bool room = false;
        int rc = what_next(self, txn, &next);
        if (rc == 0 && next == CATCHUP_DONE) {
            c->finished = true;
            return held_finish(self->held, txn);
        }
        if (rc != 0 || next != CATCHUP_APPLY)
            return rc;
        rc = staging_has_room(self, txn, &room);
        if (rc != 0 || !room)
            return rc;   /* the outboxes drain first */
        rc = apply_first(c, txn);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int catchup_step(staging_t *self, store_t *store, bool *worked)
{
    step_t c = { .self = self };
    int rc = store_write(store, step_txn, &c);
    *worked = rc == 0 && (c.applied + c.refused > 0 || c.finished);
    if (rc == CATCHUP_EAGAIN)
        return 0;
    if (rc == 0 && c.applied + c.refused > 0)
        log_event(LOG_INFO, "catchup_applied", "applied=%zu refused=%zu through_at_ms=%lld",
                  c.applied, c.refused, (long long)c.last_at_ms);
    if (rc == 0 && c.finished)
        log_event(LOG_INFO, "caught_up", "clock_ms=%lld", (long long)aclock_now_ms(self->clock));
    return rc;
}
