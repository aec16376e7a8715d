/* legal: referrals, notices and the clock; the messages a case sends (see legal.h). */
#include "legal.h"

#include <stdlib.h>
#include <string.h>

#include "casefile.h"
#include "log.h"
#include "money.h"
#include "validate.h"

legal_limits_t legal_default_limits(void)
{
    return (legal_limits_t){.sweep_max = 256, .list_max = 500, .chunk_max_bytes = 262144};
}

const assignee_t *legal_assignee(const legal_t *self, const char *principal)
{
    for (size_t i = 0; principal && i < self->cfg->assignee_count; i++)
        if (strcmp(self->cfg->assignees[i].principal, principal) == 0)
            return &self->cfg->assignees[i];
    return NULL;
}

int64_t legal_day_of(legal_t *self, const StoredCase *c, int64_t at_ms)
{
    const tz_zone_t *zone = NULL;
    int64_t s = at_ms / 1000;
    if (c->time_zone && tz_cache_get(self->zones, c->time_zone, &zone) == TZ_OK)
        return tz_local_day(zone, s);
    return s / 86400;   /* a zone checked at referral cannot vanish; UTC is the fallback */
}

StoredStep legal_step(int64_t at_ms, Arrears__CaseStatus status, const char *actor,
                      const char *what, const char *assignee, const char *detail)
{
    StoredStep s = STORED_STEP__INIT;
    s.has_at_ms = s.has_status = 1;
    s.at_ms = at_ms;
    s.status = status;
    s.actor = (char *)actor;
    s.what = (char *)what;
    s.assignee = (char *)assignee;
    s.detail = (char *)detail;
    return s;
}

int legal_add_step(StoredCase *c, const StoredStep *step)
{
    if (c->n_steps >= CASES_STEPS_MAX)
        return CASES_ETOO_LARGE;
    StoredStep **steps = realloc(c->steps, (c->n_steps + 1) * sizeof *steps);
    StoredStep *copy = malloc(sizeof *copy);
    if (!steps || !copy) {
        free(copy);
        if (steps)
            c->steps = steps;
        return ENOMEM;
    }
    *copy = *step;
    /* The unpacked case owns its strings: copy the step's so free_unpacked frees them. */
    copy->actor = step->actor ? strdup(step->actor) : NULL;
    copy->what = step->what ? strdup(step->what) : NULL;
    copy->detail = step->detail ? strdup(step->detail) : NULL;
    copy->evidence_ref = step->evidence_ref ? strdup(step->evidence_ref) : NULL;
    copy->recovery_ref = step->recovery_ref ? strdup(step->recovery_ref) : NULL;
    copy->assignee = step->assignee ? strdup(step->assignee) : NULL;
    steps[c->n_steps++] = copy;
    c->steps = steps;
    return 0;
}

int legal_tell_staging(legal_t *self, MDB_txn *txn, const StoredCase *c, const StoredStep *s,
                       bool time_barred)
{
    Arrears__LegalUpdate m = ARREARS__LEGAL_UPDATE__INIT;
    m.platform = c->platform;
    m.account_ref = c->account_ref;
    m.case_id = c->case_id;
    m.has_status = m.has_at_ms = 1;
    m.status = c->status;
    m.at_ms = s->at_ms;
    m.has_recovery_minor = s->recovery_minor > 0;
    m.recovery_minor = s->recovery_minor;
    m.recovery_ref = s->recovery_minor > 0 ? s->recovery_ref : NULL;
    m.has_costs_minor = s->costs_minor > 0;
    m.costs_minor = s->costs_minor;
    char detail[201];
    snprintf(detail, sizeof detail, "%s%s%s", s->what ? s->what : "",
             s->detail && *s->detail ? ": " : "", s->detail ? s->detail : "");
    m.detail = detail;
    m.has_time_barred = time_barred;
    m.time_barred = time_barred;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_LEGAL_UPDATE;
    env.legal_update = &m;
    /* Every caller found room on this shard first (legal_has_room), which one past the
     * list never has: reaching here with one is a case this legal cannot answer. */
    if (c->staging_shard >= self->cfg->staging.count)
        return CASES_ECORRUPT;
    return outbox_append(self->to_staging[c->staging_shard], txn, &env,
                         aclock_now_ms(self->clock), NULL);
}

int legal_tell_outreach(legal_t *self, MDB_txn *txn, const StoredCase *c, const char *assignee,
                        bool active)
{
    Arrears__CaseAssignment m = ARREARS__CASE_ASSIGNMENT__INIT;
    m.platform = c->platform;
    m.account_ref = c->account_ref;
    m.case_id = c->case_id;
    m.assignee = (char *)assignee;
    m.has_active = m.has_at_ms = 1;
    m.active = active;
    m.at_ms = aclock_now_ms(self->clock);
    m.has_person_key = c->has_person_key;
    m.person_key = c->person_key;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_ASSIGNMENT;
    env.case_assignment = &m;
    return outbox_append(self->to_outreach, txn, &env, aclock_now_ms(self->clock), NULL);
}

/* ---------------------------------------------------------------- referrals */

static bool optional_date(const char *text, int64_t *day)
{
    *day = LIMITATION_DAY_NONE;
    return !text || !*text || validate_date(text, day) == 0;
}

/* Every field legal relies on, checked before anything is written. */
static int check_referral(legal_t *self, const LegalReferral *r, const tz_zone_t **zone,
                          eligibility_facts_t *f, reject_t *reject)
{
    const Arrears__Reject__Code bad = ARREARS__REJECT__CODE__INVALID_FIELD;
    if (!r->platform || !*r->platform || strlen(r->platform) > INBOX_PRINCIPAL_MAX)
        return receiver_refuse(reject, bad, "platform", "1 to 64 bytes");
    if (!validate_ref(r->account_ref))
        return receiver_refuse(reject, bad, "account_ref", "1 to 64 bytes of [A-Za-z0-9._:-]");
    if (!r->currency || !money_currency_known(r->currency))
        return receiver_refuse(reject, bad, "currency", "an ISO 4217 code with a minor unit");
    if (!r->has_outstanding_minor || r->outstanding_minor < 0)
        return receiver_refuse(reject, bad, "outstanding_minor", "required, never negative");
    if (!r->has_product || r->product < 1 || r->product > 4)
        return receiver_refuse(reject, bad, "product", "a known product");
    if (!r->time_zone || tz_cache_get(self->zones, r->time_zone, zone) != TZ_OK)
        return receiver_refuse(reject, bad, "time_zone", "an IANA time zone tzdata knows");
    if (r->jurisdiction && strlen(r->jurisdiction) > LIMITATION_NAME_MAX)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "jurisdiction", "at most 32 bytes");
    if ((r->reason && strlen(r->reason) > 200) || (r->has_person_key && r->person_key.len > 32))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE,
                               r->has_person_key && r->person_key.len > 32 ? "person_key" : "reason",
                               "reason at most 200 bytes, person_key 32");
    if (!r->first_missed_due_date || validate_date(r->first_missed_due_date, &f->first_missed_due_day) != 0)
        return receiver_refuse(reject, bad, "first_missed_due_date", "a date YYYY-MM-DD");
    if (!optional_date(r->last_payment_date, &f->last_payment_day))
        return receiver_refuse(reject, bad, "last_payment_date", "absent, or a date YYYY-MM-DD");
    if (!optional_date(r->last_acknowledgment_date, &f->last_acknowledgment_day))
        return receiver_refuse(reject, bad, "last_acknowledgment_date", "absent, or a date YYYY-MM-DD");
    f->jurisdiction = r->jurisdiction;
    f->currency = r->currency;
    f->outstanding_minor = r->outstanding_minor;
    f->today_day = tz_local_day(*zone, aclock_now_ms(self->clock) / 1000);
    f->may_refer_to_legal = r->has_may_refer_to_legal && r->may_refer_to_legal;
    f->deceased = r->has_deceased && r->deceased;
    f->bankrupt = r->has_bankrupt && r->bankrupt;
    f->dispute_open = r->has_dispute_open && r->dispute_open;
    return 0;
}

/* An owned copy (every string and the steps its own), so steps can be added to it. */
static StoredCase *case_copy(const StoredCase *c)
{
    size_t len = arrears__stored_case__get_packed_size(c);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return NULL;
    arrears__stored_case__pack(c, buf);
    StoredCase *copy = arrears__stored_case__unpack(NULL, len, buf);
    free(buf);
    return copy;
}

static StoredCase new_case(const LegalReferral *r, const char *id, const eligibility_t *e,
                           const casefile_t *file, uint32_t shard, int64_t now_ms)
{
    StoredCase c = STORED_CASE__INIT;
    c.case_id = (char *)id;
    c.has_staging_shard = 1;
    c.staging_shard = shard;
    c.platform = r->platform;
    c.account_ref = r->account_ref;
    c.has_status = c.has_opened_ms = c.has_product = c.has_outstanding_minor = 1;
    c.status = e->verdict == ELIGIBLE ? ARREARS__CASE_STATUS__REFERRED
                                      : ARREARS__CASE_STATUS__DECLINED;
    c.opened_ms = now_ms;
    c.currency = r->currency;
    c.jurisdiction = r->jurisdiction ? r->jurisdiction : "";
    c.product = r->product;
    c.outstanding_minor = r->outstanding_minor;
    c.has_person_key = r->has_person_key;
    c.person_key = r->person_key;
    c.time_zone = r->time_zone;
    c.verdict = (char *)eligibility_verdict_name(e->verdict);
    c.assignee = "";
    c.has_file_html_bytes = c.has_file_machine_bytes = 1;
    c.file_html_bytes = file->html_len;
    c.file_machine_bytes = file->machine_len;
    return c;
}

int legal_store_file(legal_t *self, MDB_txn *txn, const char *id, const casefile_t *f)
{
    int rc = cases_file_put(self->cases, txn, id, ARREARS__CASE_FILE_FORM__CASE_FILE_HTML,
                            (const uint8_t *)f->html, f->html_len);
    return rc ? rc : cases_file_put(self->cases, txn, id, ARREARS__CASE_FILE_FORM__CASE_FILE_MACHINE,
                                    f->machine, f->machine_len);
}

/* A referral's natural key: the account and staging's instant (cases.h cases_taken). */
static cases_taken_t referral_key(const LegalReferral *r)
{
    return (cases_taken_t){r->platform, r->account_ref, "referral", NULL, r->referred_at_ms};
}

static int open_case(legal_t *self, MDB_txn *txn, const LegalReferral *r,
                     const eligibility_t *e, const casefile_t *file, uint32_t shard,
                     int64_t now_ms)
{
    char id[CASES_ID_MAX + 1];
    int rc = cases_next_id(self->cases, txn, true, id);
    StoredCase init = new_case(r, id, e, file, shard, now_ms);
    StoredCase *c = rc ? NULL : case_copy(&init);
    if (rc == 0 && !c)
        rc = ENOMEM;
    bool declined = e->verdict != ELIGIBLE;
    StoredStep s = legal_step(now_ms, init.status, "legal", declined ? "declined" : "opened",
                              NULL, e->reason);
    cases_taken_t key = referral_key(r);
    rc = rc ? rc : cases_referral_put(self->cases, txn, id, r);
    rc = rc || !r->has_referred_at_ms ? rc : cases_take(self->cases, txn, &key);
    rc = rc ? rc : legal_add_step(c, &s);
    if (rc == 0 && declined) {
        rc = cases_save(self->cases, txn, NULL, c);
        rc = rc ? rc : legal_tell_staging(self, txn, c, &s, e->verdict == REFUSED_TIME_BARRED);
    } else if (rc == 0) {
        rc = legal_store_file(self, txn, id, file);
        rc = rc ? rc : legal_place(self, txn, NULL, c);
    }
    log_event(LOG_INFO, declined ? "case_declined" : "case_opened",
              "case=%s platform=%s account=%s verdict=%s error=%d", id, r->platform,
              r->account_ref, eligibility_verdict_name(e->verdict), rc);
    arrears__stored_case__free_unpacked(c, NULL);
    return rc;
}

static int legal_referral(legal_t *self, MDB_txn *txn, const LegalReferral *r, uint32_t shard,
                          reject_t *reject)
{
    const tz_zone_t *zone = NULL;
    eligibility_facts_t facts = {0};
    int rc = check_referral(self, r, &zone, &facts, reject);
    cases_taken_t key = referral_key(r);
    bool seen = false;
    rc = rc || !r->has_referred_at_ms ? rc : cases_taken(self->cases, txn, &key, &seen);
    if (rc != 0 || seen)   /* seen: staging sent it again after it was restored */
        return rc ? rc : APPLY_DUPLICATE;
    char open_id[CASES_ID_MAX + 1];
    rc = cases_of_account(self->cases, txn, r->platform, r->account_ref, open_id);
    if (rc != 0)
        return rc;
    if (*open_id)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "account_ref",
                               "the account already has open case %s", open_id);
    eligibility_t e;
    eligibility_check(&self->cfg->eligibility, &facts, &e);
    /* The file is built before anything is written: one too large is refused whole. */
    casefile_t file = {0};
    int64_t now = aclock_now_ms(self->clock);
    char id[CASES_ID_MAX + 1];
    rc = cases_next_id(self->cases, txn, false, id);
    if (rc == 0 && e.verdict == ELIGIBLE)
        rc = casefile_build(id, r, now, CASES_FILE_MAX, &file);
    if (rc == CASEFILE_ETOO_LARGE)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "statement",
                               "the case file would exceed %d bytes", CASES_FILE_MAX);
    rc = rc == CASEFILE_ENOMEM ? ENOMEM : rc;
    rc = rc ? rc : open_case(self, txn, r, &e, &file, shard, now);
    casefile_free(&file);
    return rc;
}

/* ---------------------------------------------------------------- notices */

static const char *notice_what(Arrears__CaseNoticeKind kind)
{
    switch (kind) {
    case ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT: return "complaint";
    case ARREARS__CASE_NOTICE_KIND__NOTICE_DISPUTE: return "dispute";
    case ARREARS__CASE_NOTICE_KIND__NOTICE_PAYMENT: return "platform_payment";
    case ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED: return "account_closed";
    default: return NULL;
    }
}

/* A notice's natural key: the account, its kind, staging's instant and its reference
 * (cases.h cases_taken). */
static cases_taken_t notice_key(const Arrears__CaseNotice *n)
{
    return (cases_taken_t){n->platform, n->account_ref, notice_what(n->kind), n->reference,
                           n->at_ms};
}

/* Records the notice on the case; an account closed at staging ends the case there. */
static int note_notice(legal_t *self, MDB_txn *txn, StoredCase *before, StoredCase *after,
                       const Arrears__CaseNotice *n, int64_t now_ms)
{
    StoredStep s = legal_step(now_ms, after->status, "staging", notice_what(n->kind),
                              after->assignee, n->detail);
    s.has_recovery_minor = n->kind == ARREARS__CASE_NOTICE_KIND__NOTICE_PAYMENT;
    s.recovery_minor = n->amount_minor;
    s.recovery_ref = n->reference;
    int rc = 0;
    if (n->kind == ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT && *after->assignee) {
        after->has_complaints = 1;
        after->complaints++;
    }
    if (n->kind == ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED) {
        after->status = ARREARS__CASE_STATUS__CASE_CLOSED;
        after->has_due_ms = 1;
        after->due_ms = 0;
        if (*before->assignee && before->status != ARREARS__CASE_STATUS__REFERRED)
            rc = legal_tell_outreach(self, txn, after, before->assignee, false);
    }
    s.status = after->status;
    cases_taken_t key = notice_key(n);
    rc = rc || !n->has_at_ms ? rc : cases_take(self->cases, txn, &key);
    if (rc == 0 && after->n_steps < CASES_STEPS_MAX)
        rc = legal_add_step(after, &s);
    else if (rc == 0)   /* a full history keeps its counts; the notice is in the log */
        log_event(LOG_WARN, "case_history_full", "case=%s notice=%s", after->case_id,
                  notice_what(n->kind));
    return rc ? rc : cases_save(self->cases, txn, before, after);
}

static int case_notice(legal_t *self, MDB_txn *txn, const Arrears__CaseNotice *n,
                       reject_t *reject)
{
    if (!n->platform || !*n->platform || strlen(n->platform) > INBOX_PRINCIPAL_MAX ||
        !validate_ref(n->account_ref) || !notice_what(n->kind))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "kind",
                               "a notice names the platform, the account and a known kind");
    if (n->amount_minor < 0 || (n->detail && strlen(n->detail) > 200) ||
        (n->reference && strlen(n->reference) > 64))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__INVALID_FIELD, "amount_minor",
                               "amount never negative, reference 64 bytes, detail 200");
    cases_taken_t key = notice_key(n);
    bool seen = false;
    int rc = n->has_at_ms ? cases_taken(self->cases, txn, &key, &seen) : 0;
    if (rc != 0 || seen)   /* seen: staging sent it again after it was restored */
        return rc ? rc : APPLY_DUPLICATE;
    char id[CASES_ID_MAX + 1];
    rc = cases_of_account(self->cases, txn, n->platform, n->account_ref, id);
    if (rc != 0 || !*id)
        return rc;   /* no open case (declined, ended): nothing to record */
    StoredCase *before = NULL, *after = NULL;
    rc = cases_get(self->cases, txn, id, &before);
    rc = rc ? rc : cases_get(self->cases, txn, id, &after);
    if (rc == 0 && (!before || !after))
        rc = CASES_ECORRUPT;   /* the index names a case that is not there */
    rc = rc ? rc : note_notice(self, txn, before, after, n, aclock_now_ms(self->clock));
    log_event(LOG_INFO, "case_notice", "case=%s kind=%s error=%d", id, notice_what(n->kind), rc);
    arrears__stored_case__free_unpacked(before, NULL);
    arrears__stored_case__free_unpacked(after, NULL);
    return rc;
}

/* ---------------------------------------------------------------- the clock */

/* Acknowledged once the sweep has nothing due by the instant and both peers have
 * acknowledged everything sent (DESIGN.md "Time"). */
static int clock_advance(legal_t *self, MDB_txn *txn, const Arrears__ClockAdvance *m,
                         reject_t *reject)
{
    if (!aclock_is_simulated(self->clock))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "clock_advance",
                               "legal runs on the wall clock: it takes no clock advances");
    if (!m->has_to_ms || aclock_advance_to(self->clock, m->to_ms) != ACLOCK_OK)
        return receiver_refuse(reject, ARREARS__REJECT__CODE__CONFLICT, "to_ms",
                               "the simulated clock never goes back");
    /* The sweep's changes are legal's own periodic work at the new instant, not this
     * message's effect: they stand even when the advance is answered busy. */
    size_t moved = 0;
    int rc = legal_sweep(self, txn, &moved);
    int64_t due = INT64_MAX;
    rc = rc ? rc : cases_next_due(self->cases, txn, &due);
    if (rc != 0)
        return rc;
    if (moved > 0 || due <= m->to_ms || (self->unacked && self->unacked(self->unacked_arg) > 0))
        return receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, "to_ms",
                               "advancing: placements due or messages unacknowledged");
    return cases_meta_put(self->cases, txn, "clock_ms", (uint64_t)m->to_ms);
}

/* ---------------------------------------------------------------- dispatch */

bool legal_has_room(legal_t *self, MDB_txn *txn, uint32_t shard, int *rc)
{
    uint64_t staging = 0, outreach = 0;
    *rc = 0;
    if (shard >= self->cfg->staging.count) {
        log_event(LOG_ERROR, "staging_shard_unknown", "shard=%u shards=%u", shard,
                  self->cfg->staging.count);
        return false;
    }
    *rc = outbox_room(self->to_staging[shard], txn, &staging);
    *rc = *rc ? *rc : outbox_room(self->to_outreach, txn, &outreach);
    return *rc == 0 && staging >= LEGAL_MESSAGES_PER_APPLY && outreach >= LEGAL_MESSAGES_PER_APPLY;
}

int legal_need_room(legal_t *self, MDB_txn *txn, uint32_t shard, reject_t *reject)
{
    int rc = 0;
    if (legal_has_room(self, txn, shard, &rc))
        return 0;
    return rc ? rc : receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                                     "legal's outbox to staging shard %u or to outreach is full: "
                                     "it is behind; retry later", shard);
}

/* A referral or a notice from staging, known by the shard whose principal sent it: the
 * case a referral opens is answered there, and a notice concerns an account of that
 * shard (an account never moves between shards, shards.h). */
static int from_staging(legal_t *self, MDB_txn *txn, const receiver_peer_t *from,
                        const Arrears__Envelope *env, reject_t *reject)
{
    uint32_t shard = 0;
    int rc = shards_of_sender(&self->cfg->staging, from->principal, "legal", &shard, reject);
    rc = rc ? rc : legal_need_room(self, txn, shard, reject);
    if (rc != 0)
        return rc;
    if (env->body_case == ARREARS__ENVELOPE__BODY_LEGAL_REFERRAL)
        return legal_referral(self, txn, env->legal_referral, shard, reject);
    return case_notice(self, txn, env->case_notice, reject);
}

static bool is_assignee_role(const char *role)
{
    return strcmp(role, "firm") == 0 || strcmp(role, "agency") == 0;
}

int legal_apply(void *app, MDB_txn *txn, const receiver_peer_t *from,
                const Arrears__Envelope *env, reject_t *reject)
{
    legal_t *self = app;
    bool service = strcmp(from->role, "service") == 0;
    bool operator = strcmp(from->role, "operator") == 0;
    /* The room to send is checked where the shard is known: here for staging's messages,
     * with the case for an update (update.c), case by case in an advance's sweep. */
    switch (env->body_case) {
    case ARREARS__ENVELOPE__BODY_LEGAL_REFERRAL:
    case ARREARS__ENVELOPE__BODY_CASE_NOTICE:
        if (service)
            return from_staging(self, txn, from, env, reject);
        break;
    case ARREARS__ENVELOPE__BODY_PERSONAL_DATA_ERASED:
        /* Tells nobody: it needs no room; any staging shard may send it (an erasure
         * changes no case's shard). */
        if (service && shards_find(&self->cfg->staging, from->principal) >= 0)
            return legal_erase(self, txn, env->personal_data_erased, reject);
        break;
    case ARREARS__ENVELOPE__BODY_CASE_UPDATE:
        if (is_assignee_role(from->role))
            return legal_case_update(self, txn, from->principal, env->case_update, reject);
        break;
    case ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE:
        if (operator)
            return clock_advance(self, txn, env->clock_advance, reject);
        break;
    default:
        return receiver_refuse(reject, ARREARS__REJECT__CODE__UNKNOWN_TYPE, "body",
                               "legal takes referrals, notices and erasures from staging, case "
                               "updates from firms and agencies, clock advances from operators");
    }
    return receiver_refuse(reject, ARREARS__REJECT__CODE__UNAUTHORIZED, "body",
                           "a principal of role %s may not send this to legal", from->role);
}
