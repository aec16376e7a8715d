/* report: the broker's figures by channel, rule and profile (see report.h). */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char *const channel_names[CONDUCT_CHANNELS] = {"sms", "email", "letter", "call",
                                                            "visit"};

static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strnlen(src, cap - 1) : 0;
    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

int outreach_report_init(outreach_report_t *self, const char *platform)
{
    memset(self, 0, sizeof *self);
    self->sections = calloc(OUTREACH_REPORT_SECTIONS, sizeof *self->sections);
    copy_text(self->only, sizeof self->only, platform);
    return self->sections ? 0 : ENOMEM;
}

void outreach_report_free(outreach_report_t *self)
{
    free(self->sections);
    self->sections = NULL;
    self->count = 0;
}

/* ---------------------------------------------------------------- one task */

static outreach_section_figures_t *section_for(outreach_report_t *self, const char *platform,
                                               const char *currency)
{
    char p[OUTREACH_REPORT_PLATFORM_MAX + 1], c[OUTREACH_REPORT_CURRENCY_MAX + 1];
    copy_text(p, sizeof p, platform);
    copy_text(c, sizeof c, currency);
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->sections[i].platform, p) == 0 && strcmp(self->sections[i].currency, c) == 0)
            return &self->sections[i];
    if (self->count == OUTREACH_REPORT_SECTIONS)
        return NULL;
    outreach_section_figures_t *s = &self->sections[self->count++];
    memcpy(s->platform, p, sizeof p);
    memcpy(s->currency, c, sizeof c);
    return s;
}

/* The profile's figures; past the bound, "other" (the slot after the last). */
static outreach_profile_figures_t *profile_for(outreach_section_figures_t *s, const char *name)
{
    char n[CONDUCT_NAME_MAX + 1];
    copy_text(n, sizeof n, name);
    for (size_t i = 0; i < s->profile_count; i++)
        if (strcmp(s->profiles[i].name, n) == 0)
            return &s->profiles[i];
    if (s->profile_count == OUTREACH_REPORT_PROFILES) {
        outreach_profile_figures_t *other = &s->profiles[OUTREACH_REPORT_PROFILES];
        copy_text(other->name, sizeof other->name, "other");
        return other;
    }
    outreach_profile_figures_t *p = &s->profiles[s->profile_count++];
    memcpy(p->name, n, sizeof n);
    return p;
}

/* A done task's result: the contact made, not made, or not attempted. */
static uint64_t *done_bucket(outreach_channel_figures_t *c, ContactResult result)
{
    switch (result) {
    case ARREARS__CONTACT_RESULT__FAILED:
    case ARREARS__CONTACT_RESULT__NO_ANSWER:
    case ARREARS__CONTACT_RESULT__WRONG_NUMBER: return &c->failed;
    case ARREARS__CONTACT_RESULT__NOT_ATTEMPTED:
    case ARREARS__CONTACT_RESULT__CONTACT_RESULT_UNSPECIFIED: return &c->not_attempted;
    default: return &c->delivered;
    }
}

static uint64_t *state_bucket(outreach_channel_figures_t *c, const StoredTask *t)
{
    switch (t->state) {
    case TASK_DONE: return done_bucket(c, t->has_result ? t->result : 0);
    case TASK_CANCELLED: return &c->cancelled;
    case TASK_REFUSED: return &c->refused;
    default: return &c->open;   /* pending, leased, started, resolving, a person's */
    }
}

/* The rule of the decision that refused the task: its latest kept refusal. */
static conduct_rule_t refusing_rule(const StoredTask *t)
{
    for (size_t i = t->n_decisions; i-- > 0;)
        if (t->decisions[i]->verdict == CONDUCT_REFUSE)
            return t->decisions[i]->rule < CONDUCT_RULE_COUNT ? t->decisions[i]->rule
                                                              : CONDUCT_RULE_NONE;
    return CONDUCT_RULE_NONE;
}

static void count_rules(outreach_rule_figures_t *rules, const StoredTask *t)
{
    for (size_t i = 0; i < t->n_decisions; i++) {
        const StoredDecision *d = t->decisions[i];
        if (d->verdict == CONDUCT_DEFER && d->rule < CONDUCT_RULE_COUNT)
            rules[d->rule].deferred++;
    }
    if (t->state == TASK_REFUSED)
        rules[refusing_rule(t)].refused++;
}

void outreach_report_add(outreach_report_t *self, const StoredTask *t)
{
    const ContactRequest *r = t->request;
    if (!r || !r->platform || (self->only[0] && strcmp(self->only, r->platform) != 0))
        return;
    outreach_section_figures_t *s = section_for(self, r->platform, r->currency);
    if (!s) {
        self->unreported++;
        return;
    }
    int channel = r->channel - ARREARS__CHANNEL__SMS;
    if (channel >= 0 && channel < CONDUCT_CHANNELS) {
        outreach_channel_figures_t *c = &s->channels[channel];
        c->tasks++;
        (*state_bucket(c, t))++;
        c->deferrals += t->deferrals;
    }
    count_rules(s->rules, t);
    outreach_profile_figures_t *p = profile_for(s, t->profile ? t->profile : "");
    p->tasks++;
    p->refused += t->state == TASK_REFUSED;
    p->deferrals += t->deferrals;
    count_rules(p->rules, t);
}

/* ---------------------------------------------------------------- the reply */

/* The protobuf view of the figures: every message inline in one allocation. */
typedef struct {
    Arrears__OutreachSection section;
    Arrears__OutreachSection *section_p;
    Arrears__OutreachChannelFigures channel[CONDUCT_CHANNELS];
    Arrears__OutreachChannelFigures *channel_p[CONDUCT_CHANNELS];
    Arrears__OutreachRuleFigures rule[CONDUCT_RULE_COUNT];
    Arrears__OutreachRuleFigures *rule_p[CONDUCT_RULE_COUNT];
    Arrears__OutreachProfileFigures profile[OUTREACH_REPORT_PROFILES + 1];
    Arrears__OutreachProfileFigures *profile_p[OUTREACH_REPORT_PROFILES + 1];
    Arrears__OutreachRuleFigures profile_rule[OUTREACH_REPORT_PROFILES + 1][CONDUCT_RULE_COUNT];
    Arrears__OutreachRuleFigures *profile_rule_p[OUTREACH_REPORT_PROFILES + 1][CONDUCT_RULE_COUNT];
} view_t;

static size_t pack_rules(const outreach_rule_figures_t *in, Arrears__OutreachRuleFigures *out,
                         Arrears__OutreachRuleFigures **ptrs)
{
    size_t n = 0;
    for (int i = 0; i < CONDUCT_RULE_COUNT; i++) {
        if (in[i].refused == 0 && in[i].deferred == 0)
            continue;
        arrears__outreach_rule_figures__init(&out[i]);
        out[i].rule = (char *)conduct_rule_name((conduct_rule_t)i);
        out[i].has_refused = out[i].has_deferred = 1;
        out[i].refused = in[i].refused;
        out[i].deferred = in[i].deferred;
        ptrs[n++] = &out[i];
    }
    return n;
}

static void pack_channels(const outreach_section_figures_t *s, view_t *v)
{
    Arrears__OutreachSection *m = &v->section;
    for (int i = 0; i < CONDUCT_CHANNELS; i++) {
        const outreach_channel_figures_t *c = &s->channels[i];
        if (c->tasks == 0)
            continue;
        Arrears__OutreachChannelFigures *o = &v->channel[i];
        arrears__outreach_channel_figures__init(o);
        o->channel = (char *)channel_names[i];
        o->has_tasks = o->has_delivered = o->has_failed = o->has_not_attempted = 1;
        o->has_cancelled = o->has_refused = o->has_open = o->has_deferrals = 1;
        o->tasks = c->tasks;
        o->delivered = c->delivered;
        o->failed = c->failed;
        o->not_attempted = c->not_attempted;
        o->cancelled = c->cancelled;
        o->refused = c->refused;
        o->open = c->open;
        o->deferrals = c->deferrals;
        v->channel_p[m->n_channels++] = o;
    }
    m->channels = v->channel_p;
}

static void pack_profiles(const outreach_section_figures_t *s, view_t *v)
{
    Arrears__OutreachSection *m = &v->section;
    for (size_t i = 0; i < OUTREACH_REPORT_PROFILES + 1; i++) {   /* "other" last */
        const outreach_profile_figures_t *p = &s->profiles[i];
        if (p->tasks == 0)
            continue;
        Arrears__OutreachProfileFigures *o = &v->profile[i];
        arrears__outreach_profile_figures__init(o);
        o->profile = (char *)p->name;
        o->has_tasks = o->has_refused = o->has_deferrals = 1;
        o->tasks = p->tasks;
        o->refused = p->refused;
        o->deferrals = p->deferrals;
        o->n_rules = pack_rules(p->rules, v->profile_rule[i], v->profile_rule_p[i]);
        o->rules = v->profile_rule_p[i];
        v->profile_p[m->n_profiles++] = o;
    }
    m->profiles = v->profile_p;
}

static void pack_section(const outreach_section_figures_t *s, view_t *v)
{
    arrears__outreach_section__init(&v->section);
    v->section.platform = (char *)s->platform;
    v->section.currency = (char *)s->currency;
    pack_channels(s, v);
    v->section.n_rules = pack_rules(s->rules, v->rule, v->rule_p);
    v->section.rules = v->rule_p;
    pack_profiles(s, v);
    v->section_p = &v->section;
}

size_t outreach_report_pack(const outreach_report_t *r, int64_t as_of_ms, uint64_t request_id,
                            uint8_t *buf, size_t cap)
{
    view_t *views = calloc(r->count ? r->count : 1, sizeof *views);
    Arrears__OutreachSection **sections = calloc(r->count ? r->count : 1, sizeof *sections);
    size_t len = 0;
    if (views && sections) {
        for (size_t i = 0; i < r->count; i++) {
            pack_section(&r->sections[i], &views[i]);
            sections[i] = &views[i].section;
        }
        Arrears__OutreachReport m = ARREARS__OUTREACH_REPORT__INIT;
        m.n_sections = r->count;
        m.sections = sections;
        m.has_as_of_ms = m.has_tasks_unreported = 1;
        m.as_of_ms = as_of_ms;
        m.tasks_unreported = r->unreported;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_OUTREACH_REPORT;
        env.outreach_report = &m;
        env.has_request_id = 1;
        env.request_id = request_id;
        len = envelope_pack(&env, buf, cap);
    }
    free(views);
    free(sections);
    return len;
}

static int add_task(const char *task_id, const StoredTask *t, void *arg)
{
    (void)task_id;
    outreach_report_add(arg, t);
    return 0;
}

size_t broker_report(broker_t *self, MDB_txn *txn, const Arrears__OutreachReportQuery *q,
                     uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    outreach_report_t r;
    int rc = outreach_report_init(&r, q->platform);
    rc = rc ? rc : tasks_each(self->tasks, txn, add_task, &r);
    size_t len = rc ? 0 : outreach_report_pack(&r, aclock_now_ms(self->clock), request_id, buf, cap);
    outreach_report_free(&r);
    if (rc != 0) {
        log_event(LOG_WARN, "report_failed", "error=\"%s\"", tasks_strerror(rc));
        reject_set(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, NULL,
                   "the task store could not be read for the report now");
    } else if (len == 0) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
                   NULL, "the report does not fit in a reply: ask per platform");
    }
    return len;
}
