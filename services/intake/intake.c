/* intake: see intake.h. */
#include "intake.h"

#include <stdbool.h>
#include <string.h>

#include "log.h"

static int refused(reject_t *reject, Arrears__Reject__Code code, const char *why)
{
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, code, "body", "%s", why);
    return APPLY_REJECTED;
}

/* Checked before anything changes: a full outbox must refuse, not half-apply. */
static int need_room(intake_t *self, MDB_txn *txn, uint32_t shard, reject_t *reject)
{
    uint64_t room = 0;
    int rc = outbox_room(self->to_staging[shard], txn, &room);
    if (rc != 0)
        return rc;
    if (room > 0)
        return APPLY_OK;
    reject_set(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, NULL,
               "staging is behind and intake's outbox is full; nothing was taken, resend later");
    return APPLY_REJECTED;
}

static int forward(intake_t *self, MDB_txn *txn, uint32_t shard, Arrears__AccountEvent *event)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    event->has_received_at_ms = 1;
    event->received_at_ms = aclock_now_ms(self->clock);
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
    env.account_event = event;
    return outbox_append(self->to_staging[shard], txn, &env, event->received_at_ms, NULL);
}

/* Each platform message: validate, find its shard, make room, settle, forward. */
typedef struct {
    intake_t *self;
    MDB_txn *txn;
    const char *platform;
    reject_t *reject;
    Arrears__AccountEvent ev;
    accepted_outcome_t outcome;
    uint32_t shard;
    const Arrears__Borrower *new_person;   /* noted on c->shard once its account is accepted */
} call_t;

static int settle(call_t *c, int rc)
{
    if (rc != 0)
        return rc;
    if (c->outcome == ACCEPTED_REFUSED)
        return APPLY_REJECTED;
    if (c->outcome == ACCEPTED_SAME)
        return APPLY_DUPLICATE;
    if (c->new_person)
        rc = accepted_place_person(c->self->accepted, c->txn, c->platform,
                                   &c->new_person->id_number_hash, c->shard);
    return rc ? rc : forward(c->self, c->txn, c->shard, &c->ev);
}

/* Where the account lives; for one not accepted yet, its person's shard when this is
 * its upload (borrower given), else shard 0: anything else about an unknown account is
 * refused by accepted_* anyway. A shard beyond the configured list (the list was cut
 * short, which shards.h forbids) refuses rather than sends the account elsewhere. */
static int find_shard(call_t *c, const char *account_ref, const Arrears__Borrower *borrower)
{
    intake_t *self = c->self;
    int rc = accepted_shard_of(self->accepted, c->txn, c->platform, account_ref, &c->shard);
    c->new_person = NULL;
    if (rc == MDB_NOTFOUND && borrower) {
        rc = accepted_person_shard(self->accepted, c->txn, c->platform,
                                   &borrower->id_number_hash, self->shards, &c->shard);
        c->new_person = rc == MDB_NOTFOUND ? borrower : NULL;
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
        return rc;
    if (c->shard < self->shards)
        return 0;
    log_event(LOG_ERROR, "shard_missing", "platform=%s account_ref=%s shard=%u shards=%u",
              c->platform, account_ref, c->shard, self->shards);
    reject_set(c->reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, NULL,
               "the account lives on staging shard %u, which intake's `staging` list does not "
               "name (it has %u): nothing was taken; resend once the shard is configured",
               c->shard, self->shards);
    return APPLY_REJECTED;
}

static int prepare(call_t *c, int validated, const char *account_ref,
                   const Arrears__Borrower *borrower)
{
    if (validated != 0)
        return validated;
    c->ev.platform = (char *)c->platform;
    c->ev.account_ref = (char *)account_ref;
    c->outcome = ACCEPTED_REFUSED;
    int rc = find_shard(c, account_ref, borrower);
    return rc ? rc : need_room(c->self, c->txn, c->shard, c->reject);
}

/* Refuses, before anything is written, an event that would not fit the outbox: a
 * platform message near the size limit grows when intake wraps it for staging. */
static int fits_forward(call_t *c)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    c->ev.has_received_at_ms = 1;
    c->ev.received_at_ms = INT64_MAX;   /* the widest encodings the real values can take */
    if (c->ev.has_version)
        c->ev.version = UINT64_MAX;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
    env.account_event = &c->ev;
    if (outbox_fits(c->self->to_staging[c->shard], &env))
        return APPLY_OK;
    reject_set(c->reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
               "body", "the message is too large to forward to staging; send it without the "
               "fields this version of arrears does not know, or smaller");
    return APPLY_REJECTED;
}

static int on_upsert(call_t *c, Arrears__AccountUpsert *m)
{
    int rc = prepare(c, validate_account_upsert(m, &c->self->limits, c->self->zones, c->reject),
                     m->account_ref, m->borrower);
    if (rc != 0)
        return rc;
    c->ev.has_version = 1;
    c->ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_UPSERT;
    c->ev.upsert = m;
    if ((rc = fits_forward(c)) != 0)
        return rc;
    rc = accepted_upsert(c->self->accepted, c->txn, c->platform, m, c->shard, &c->ev.version,
                         &c->outcome, c->reject);
    return settle(c, rc);
}

static int on_payment(call_t *c, Arrears__PaymentPosted *m)
{
    int64_t now = aclock_now_ms(c->self->clock);
    int rc = prepare(c, validate_payment(m, now, &c->self->limits, c->reject), m->account_ref,
                     NULL);
    if (rc != 0)
        return rc;
    c->ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT;
    c->ev.payment = m;
    if ((rc = fits_forward(c)) != 0)
        return rc;
    rc = accepted_payment(c->self->accepted, c->txn, c->platform, m, &c->outcome, c->reject);
    return settle(c, rc);
}

static int on_contact(call_t *c, Arrears__ContactUpdate *m)
{
    int rc = prepare(c, validate_contact_update(m, &c->self->limits, c->reject), m->account_ref,
                     NULL);
    if (rc != 0)
        return rc;
    c->ev.has_version = 1;
    c->ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_CONTACT;
    c->ev.contact = m;
    if ((rc = fits_forward(c)) != 0)
        return rc;
    rc = accepted_contact(c->self->accepted, c->txn, c->platform, m, &c->ev.version, &c->outcome,
                          c->reject);
    return settle(c, rc);
}

static int on_complaint(call_t *c, Arrears__Complaint *m)
{
    int64_t now = aclock_now_ms(c->self->clock);
    int rc = prepare(c, validate_complaint(m, now, &c->self->limits, c->reject), m->account_ref,
                     NULL);
    if (rc != 0)
        return rc;
    c->ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_COMPLAINT;
    c->ev.complaint = m;
    if ((rc = fits_forward(c)) != 0)
        return rc;
    rc = accepted_complaint(c->self->accepted, c->txn, c->platform, m, &c->outcome, c->reject);
    return settle(c, rc);
}

static int on_recall(call_t *c, Arrears__Recall *m)
{
    int rc = prepare(c, validate_recall(m, c->reject), m->account_ref, NULL);
    if (rc != 0)
        return rc;
    c->ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_RECALL;
    c->ev.recall = m;
    if ((rc = fits_forward(c)) != 0)
        return rc;
    rc = accepted_recall(c->self->accepted, c->txn, c->platform, m, &c->outcome, c->reject);
    return settle(c, rc);
}

static int on_platform(call_t *c, const Arrears__Envelope *env)
{
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_ACCOUNT_UPSERT: return on_upsert(c, env->account_upsert);
    case ARREARS__ENVELOPE__BODY_PAYMENT_POSTED: return on_payment(c, env->payment_posted);
    case ARREARS__ENVELOPE__BODY_CONTACT_UPDATE: return on_contact(c, env->contact_update);
    case ARREARS__ENVELOPE__BODY_COMPLAINT: return on_complaint(c, env->complaint);
    case ARREARS__ENVELOPE__BODY_RECALL: return on_recall(c, env->recall);
    case ARREARS__ENVELOPE__BODY_STATUS_EVENT:
        return refused(c->reject, ARREARS__REJECT__CODE__UNAUTHORIZED,
                       "status events come from arrears' own services, not from platforms");
    default:
        return refused(c->reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE,
                       "intake takes account_upsert, payment_posted, contact_update, complaint "
                       "and recall from a platform");
    }
}

/* Staging decided the retention period is over: intake's copy goes too. */
static int erase_account(call_t *c, const char *platform, const char *ref)
{
    bool erased_now = false;
    int rc = accepted_erase(c->self->accepted, c->txn, platform, ref, &erased_now);
    if (rc == 0 && erased_now)
        log_event(LOG_INFO, "erased", "platform=%s account_ref=%s", platform, ref);
    return rc;
}

static int on_status(call_t *c, const Arrears__StatusEvent *m)
{
    int rc = validate_status_event(m, c->reject);
    if (rc != 0)
        return rc;
    Arrears__FeedEvent event = *m->event;   /* the cursor is intake's to give */
    event.has_cursor = 1;
    event.cursor = UINT64_MAX;   /* sized at its widest */
    if (arrears__feed_event__get_packed_size(&event) > FEED_EVENT_MAX_BYTES) {
        reject_set(c->reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
                   "event", "a feed event is at most %d bytes packed", FEED_EVENT_MAX_BYTES);
        return APPLY_REJECTED;
    }
    uint64_t cursor = 0;
    rc = feed_append(c->self->feed, c->txn, m->platform, &event, &cursor);
    if (rc == 0 && cursor == 0)
        return APPLY_DUPLICATE;   /* a restored staging telling it again: heard already */
    rc = rc ? rc : accepted_note_status(c->self->accepted, c->txn, m);
    if (rc == 0 && event.kind == ARREARS__FEED_EVENT_KIND__PERSONAL_DATA_ERASED)
        rc = erase_account(c, m->platform, event.account_ref);
    return rc;
}

int intake_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                 const Arrears__Envelope *env, reject_t *reject)
{
    call_t c = { .self = app, .txn = txn, .platform = from->principal, .reject = reject,
                 .ev = ARREARS__ACCOUNT_EVENT__INIT };
    if (env->body_case == ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE)
        return refused(reject, ARREARS__REJECT__CODE__UNAUTHORIZED,
                       "intake runs on the wall clock: it takes no clock advances");
    if (strcmp(from->role, "platform") == 0)
        return on_platform(&c, env);
    if (strcmp(from->role, "service") == 0 && env->body_case == ARREARS__ENVELOPE__BODY_STATUS_EVENT)
        return on_status(&c, env->status_event);
    return refused(reject, ARREARS__REJECT__CODE__UNAUTHORIZED,
                   "this principal's role may not send this to intake");
}

static size_t health_reply(intake_t *self, MDB_txn *txn, uint64_t request_id, uint8_t *buf,
                           size_t cap)
{
    outbox_state_t st;
    Arrears__Health h = ARREARS__HEALTH__INIT;
    h.service = "intake";
    h.has_uptime_ms = h.has_outbox_unacked = h.has_dead_letters = 1;
    h.uptime_ms = (uint64_t)(aclock_monotonic_ms() - self->started_ms);
    for (uint32_t i = 0; i < self->shards; i++)
        if (outbox_state(self->to_staging[i], txn, &st) == 0) {
            /* What the sender knows: the stored mark lags it by up to ack_store_ms. */
            h.outbox_unacked += st.last_seq - st.acked_known;
            h.dead_letters += st.dead_letters;
        }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_request_id = 1;
    env.request_id = request_id;
    env.body_case = ARREARS__ENVELOPE__BODY_HEALTH;
    env.health = &h;
    return envelope_pack(&env, buf, cap);
}

size_t intake_query(void *app, MDB_txn *txn, const receiver_peer_t *from,
                    const Arrears__Envelope *env, uint8_t *buf, size_t cap, reject_t *reject)
{
    intake_t *self = app;
    int error = 0;
    size_t len = 0;
    int platform = strcmp(from->role, "platform") == 0;
    if (env->body_case == ARREARS__ENVELOPE__BODY_HEALTH_QUERY)
        return health_reply(self, txn, env->request_id, buf, cap);
    if (platform && env->body_case == ARREARS__ENVELOPE__BODY_ACCOUNT_STATUS_QUERY) {
        const char *ref = env->account_status_query->account_ref;
        if (!ref || !validate_ref(ref)) {
            reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__INVALID_FIELD,
                       "account_ref", "1 to 64 bytes of [A-Za-z0-9._:-]");
            return 0;
        }
        len = accepted_status_reply(self->accepted, txn, from->principal, ref, env->request_id, buf,
                                    cap, &error);
    } else if (platform && env->body_case == ARREARS__ENVELOPE__BODY_FEED_QUERY) {
        const Arrears__FeedQuery *q = env->feed_query;
        if (validate_feed_query(q, reject) != 0)
            return 0;
        len = feed_page(self->feed, txn, from->principal, q->after_cursor, q->max_events,
                        env->request_id, buf, cap, reject, &error);
    } else {
        refused(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE,
                "intake answers health, account_status and feed queries (the last two from platforms)");
    }
    if (error != 0)
        reject_set(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, NULL,
                   "the query failed in the store: %s", store_strerror(error));
    return len;
}
