/* screen: one task through the conduct gate (see broker.h). Gathers what the gate needs
 * — the profile of the borrower's jurisdiction, the borrower's zone, the rendered
 * template, the contact point, the ledger of the person and of the account, the
 * person's opt-outs and last conversation — and keeps the decision with the task. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "log.h"

#define DAY_MS INT64_C(86400000)
#define LEDGER_LOOKBACK_MS (8 * DAY_MS)   /* caps look back 7 days; a day's margin */
#define NEVER INT64_MIN

typedef struct {
    const ContactPoint *point;
    bool usable;
} pick_t;

/* The first verified, consented point of the borrower's own; else the first one, so the
 * gate names what is wrong with it. */
static pick_t pick_point(ContactPoint **points, size_t n)
{
    pick_t p = {n ? points[0] : NULL, false};
    for (size_t i = 0; i < n; i++)
        if (points[i]->verified && points[i]->consent && !points[i]->third_party)
            return (pick_t){points[i], true};
    return p;
}

/* Fills the contact point fields of the gate's task; false when there is none. */
static bool choose_point(const ContactRequest *r, conduct_task_t *k, screen_t *out)
{
    out->point[0] = '\0';
    if (k->channel == ARREARS__CHANNEL__LETTER - 1 || k->channel == ARREARS__CHANNEL__VISIT - 1) {
        k->point_verified = k->point_consented = r->address && r->address->line1;
        return k->point_verified;
    }
    bool phone = k->channel != ARREARS__CHANNEL__EMAIL - 1;
    pick_t p = phone ? pick_point(r->phones, r->n_phones) : pick_point(r->emails, r->n_emails);
    if (!p.point)
        return false;
    snprintf(out->point, sizeof out->point, "%s", p.point->value ? p.point->value : "");
    k->point_verified = p.point->verified;
    k->point_consented = p.point->consent;
    k->third_party = p.point->third_party;
    return true;
}

/* Renders the template's subject and text; false when it cannot be rendered. */
static bool render(const ContactRequest *r, const template_t *tp, screen_t *out)
{
    template_vars_t vars = {
        .name = r->borrower_name, .platform = r->platform, .account_ref = r->account_ref,
        .outstanding_minor = r->outstanding_minor, .currency = r->currency,
        .days_past_due = r->days_past_due, .stage = r->stage, .contact_id = r->contact_id,
    };
    return template_render(tp->subject ? tp->subject : "", &vars, out->subject,
                           sizeof out->subject) == TEMPLATE_OK &&
           template_render(tp->text, &vars, out->text, sizeof out->text) == TEMPLATE_OK;
}

/* The end of the window opening that contains now (or now itself, when outside). An
 * end of 24:00 is the next day's midnight. */
static int64_t window_closes(const conduct_profile_t *p, const tz_zone_t *zone, int64_t now_ms)
{
    int end = p->window_end_min;
    int64_t day = tz_local_day(zone, now_ms / 1000) + end / 1440;
    int32_t y;
    int mo, d;
    int64_t s = 0;
    tz_civil_from_days(day, &y, &mo, &d);
    end %= 1440;
    if (tz_utc_of_local(zone, y, mo, d, end / 60, end % 60, 0, &s) != TZ_OK)
        return now_ms;
    return s * 1000 > now_ms ? s * 1000 : now_ms;
}

typedef struct {
    conduct_attempt_t person[256], account[256];
    size_t person_n, account_n;
} history_t;

static int read_history(broker_t *self, MDB_txn *txn, const ContactRequest *r, int64_t now_ms,
                        history_t *h, conduct_task_t *k)
{
    tasks_who_t who, acct;
    char account[TASKS_ACCOUNT_KEY_MAX + 1];
    snprintf(account, sizeof account, "%s/%s", r->platform, r->account_ref);
    tasks_who_of_request(r, who);
    tasks_who_of_account(account, acct);
    size_t cap = self->limits.ledger_attempts_max < 256 ? self->limits.ledger_attempts_max : 256;
    int rc = tasks_ledger_read(self->tasks, txn, who, now_ms - LEDGER_LOOKBACK_MS, h->person,
                               cap, &h->person_n);
    rc = rc ? rc : tasks_ledger_read(self->tasks, txn, acct, now_ms - LEDGER_LOOKBACK_MS,
                                     h->account, cap, &h->account_n);
    StoredPerson *p = NULL;
    rc = rc ? rc : tasks_person_get(self->tasks, txn, who, &p);
    k->person_attempts = h->person;
    k->person_count = h->person_n;
    k->account_attempts = h->account;
    k->account_count = h->account_n;
    k->last_conversation_ms = p && p->has_last_conversation_ms ? p->last_conversation_ms : NEVER;
    k->opted_out = p && (p->opted_out_channels >> k->channel) & 1;
    k->vulnerable |= p && p->vulnerable;
    arrears__stored_person__free_unpacked(p, NULL);
    return rc;
}

static void fill_language(const profile_t *profile, const template_t *tp, conduct_task_t *k)
{
    const profile_language_t *lang = profile_language(profile, tp ? tp->language : "");
    if (!lang)
        return;
    k->banned = lang->banned;
    k->banned_count = lang->banned_count;
    k->opt_out_phrases = lang->opt_out;
    k->opt_out_phrase_count = lang->opt_out_count;
}

/* Keeps the decision on the task: the latest `kept`, oldest first. */
static int keep_decision(StoredTask *t, const conduct_decision_t *d, int64_t now_ms, size_t kept)
{
    StoredDecision *sd = malloc(sizeof *sd);
    char *reason = strdup(d->reason);
    if (!sd || !reason) {
        free(sd);
        free(reason);
        return ENOMEM;
    }
    arrears__stored_decision__init(sd);
    sd->has_at_ms = sd->has_verdict = sd->has_rule = sd->has_not_before_ms = 1;
    sd->at_ms = now_ms;
    sd->verdict = d->verdict;
    sd->rule = d->rule;
    sd->not_before_ms = d->not_before_ms;
    sd->reason = reason;
    if (kept && t->n_decisions >= kept) {
        arrears__stored_decision__free_unpacked(t->decisions[0], NULL);
        memmove(t->decisions, t->decisions + 1, (t->n_decisions - 1) * sizeof *t->decisions);
        t->n_decisions--;
    }
    StoredDecision **grown = realloc(t->decisions, (t->n_decisions + 1) * sizeof *grown);
    if (!grown) {
        arrears__stored_decision__free_unpacked(sd, NULL);
        return ENOMEM;
    }
    t->decisions = grown;
    t->decisions[t->n_decisions++] = sd;
    t->deferrals += d->verdict == CONDUCT_DEFER;
    t->has_deferrals = 1;
    return 0;
}

static void log_decision(const char *task_id, const StoredTask *t, const screen_t *s)
{
    char reason[2 * CONDUCT_REASON_MAX];
    log_event(s->decision.verdict == CONDUCT_SEND ? LOG_DEBUG : LOG_INFO, "gate_decision",
              "task=%s channel=%d profile=%s verdict=%s rule=%s not_before_ms=%lld reason=%s",
              task_id, t->request->channel, s->profile ? s->profile->rules.name : "-",
              conduct_verdict_name(s->decision.verdict), conduct_rule_name(s->decision.rule),
              (long long)s->decision.not_before_ms,
              log_quote(s->decision.reason, reason, sizeof reason));
}

int broker_screen(broker_t *self, MDB_txn *txn, const char *task_id, StoredTask *t,
                  int64_t now_ms, screen_t *out)
{
    const ContactRequest *r = t->request;
    memset(&out->decision, 0, sizeof out->decision);
    out->profile = profile_book_for(self->profiles, r->jurisdiction ? r->jurisdiction : "");
    out->template = NULL;
    out->subject[0] = out->text[0] = '\0';
    int rc = tz_cache_get(self->zones, r->time_zone, &out->zone);
    if (rc != TZ_OK)
        return rc;
    conduct_task_t k = {.now_ms = now_ms, .zone = out->zone, .channel = r->channel - 1,
                        .mentions_legal = r->mentions_legal, .vulnerable = r->vulnerable};
    history_t *h = malloc(sizeof *h);
    rc = h ? read_history(self, txn, r, now_ms, h, &k) : ENOMEM;
    /* The person's vulnerability (any of their accounts) picks the gentle set. */
    out->template = template_book_pick(self->templates, r->template_id, r->channel - 1,
                                       r->language, k.vulnerable);
    choose_point(r, &k, out);
    k.template_vetted = out->template && out->template->vetted && render(r, out->template, out);
    k.template_gentle = out->template && out->template->gentle;
    k.mentions_legal |= out->template && out->template->mentions_legal;
    k.text = out->text[0] ? out->text : NULL;
    fill_language(out->profile, out->template, &k);
    if (rc == 0)
        conduct_decide(&out->profile->rules, &k, &out->decision);
    free(h);
    out->window_closes_ms = window_closes(&out->profile->rules, out->zone, now_ms);
    rc = rc ? rc : keep_decision(t, &out->decision, now_ms, self->limits.decisions_kept);
    if (t->profile == NULL || strcmp(t->profile, out->profile->rules.name) != 0) {
        free(t->profile);
        t->profile = strdup(out->profile->rules.name);
    }
    if (rc == 0)
        log_decision(task_id, t, out);
    return rc;
}
