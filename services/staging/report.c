/* report: the book's figures per platform and currency, computed from the stored
 * accounts at the moment of the query (DESIGN.md section 7): collection rate (collected /
 * overdue at entry) overall and by stage, segment and champion/challenger arm, promises
 * made, kept and broken, cures, closures and cycle time, complaints and late answers,
 * contacts, referrals, listings and sales. A scan of every account: an operator's query,
 * not a hot path. */
#include <stdlib.h>
#include <string.h>

#include "staging.h"

#define SECTIONS_MAX 64

typedef struct {
    Arrears__ReportGroup total;
    Arrears__ReportGroup stage[STAGE_COUNT];
    Arrears__ReportGroup segment[SEGMENT_MAX];
    Arrears__ReportGroup arm[STRATEGY_MAX_ARMS];
    Arrears__ReportGroup *stage_p[STAGE_COUNT], *segment_p[SEGMENT_MAX], *arm_p[STRATEGY_MAX_ARMS];
    Arrears__ReportSection section;
    char platform[ACCOUNT_PLATFORM_MAX + 1];
    char currency[4];
} section_t;

static void add_to(Arrears__ReportGroup *g, const account_t *a)
{
    g->has_accounts = g->has_overdue_at_entry_minor = g->has_collected_minor = 1;
    g->has_outstanding_minor = 1;
    g->accounts++;
    g->overdue_at_entry_minor += a->stats.overdue_at_entry_minor;
    g->collected_minor += a->stats.collected_minor;
    g->outstanding_minor += account_outstanding(a);
}

static void finish_group(Arrears__ReportGroup *g)
{
    if (g->overdue_at_entry_minor <= 0)
        return;
    g->has_collection_rate_bps = 1;
    __int128 bps = (__int128)g->collected_minor * 10000 / g->overdue_at_entry_minor;
    g->collection_rate_bps = bps > UINT32_MAX ? UINT32_MAX : (uint32_t)bps;
}

static section_t *section_for(section_t *all, size_t *count, const account_t *a)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp(all[i].platform, a->platform) == 0 && strcmp(all[i].currency, a->currency) == 0)
            return &all[i];
    if (*count == SECTIONS_MAX)
        return NULL;
    section_t *s = &all[(*count)++];
    memcpy(s->platform, a->platform, sizeof s->platform);
    memcpy(s->currency, a->currency, sizeof s->currency);
    return s;
}

static void count_account(section_t *s, const account_t *a)
{
    Arrears__ReportSection *r = &s->section;
    add_to(&s->total, a);
    add_to(&s->stage[a->stage], a);
    if (a->segment >= 0 && a->segment < SEGMENT_MAX)
        add_to(&s->segment[a->segment], a);
    if (a->arm < STRATEGY_MAX_ARMS)
        add_to(&s->arm[a->arm], a);
    r->promises_made += a->stats.promises_made;
    r->promises_kept += a->stats.promises_kept;
    r->promises_broken += a->stats.promises_broken;
    r->cured += a->stats.cures;
    r->complaints += a->stats.complaints;
    r->complaints_answered_late += a->stats.complaints_late;
    r->contacts_requested += a->stats.contacts;
    r->referrals += a->stats.referrals;
    r->listings += a->stats.listings;
    r->sold += a->stage == STAGE_SOLD;
    if (stage_is_terminal(a->stage) && a->stats.closed_day != ACCOUNT_DAY_NONE) {
        r->closed++;
        r->cycle_days_total += a->stats.closed_day - a->stats.entered_day;
    }
}

/* The protobuf view of one section: named groups that hold accounts, rates filled. */
static void finish_section(staging_t *self, section_t *s)
{
    Arrears__ReportSection *r = &s->section;
    r->platform = s->platform;
    r->currency = s->currency;
    s->total.name = "all";
    finish_group(&s->total);
    r->total = &s->total;
    for (int i = 0; i < STAGE_COUNT; i++)
        if (s->stage[i].accounts) {
            s->stage[i].name = (char *)stage_name((stage_t)i);
            finish_group(&s->stage[i]);
            s->stage_p[r->n_by_stage++] = &s->stage[i];
        }
    const account_policy_t *policy = staging_policy_for(self, s->currency);
    for (int i = 0; policy && i < SEGMENT_MAX; i++)
        if (s->segment[i].accounts) {
            s->segment[i].name = (char *)segment_name(strategy_segments(policy->strategy), i);
            finish_group(&s->segment[i]);
            s->segment_p[r->n_by_segment++] = &s->segment[i];
        }
    for (unsigned i = 0; policy && i < STRATEGY_MAX_ARMS; i++)
        if (s->arm[i].accounts) {
            s->arm[i].name = (char *)strategy_arm_name(policy->strategy, i);
            finish_group(&s->arm[i]);
            s->arm_p[r->n_by_arm++] = &s->arm[i];
        }
    r->by_stage = s->stage_p;
    r->by_segment = s->segment_p;
    r->by_arm = s->arm_p;
    uint64_t decided = r->promises_kept + r->promises_broken;
    r->has_promise_kept_rate_bps = decided > 0;
    r->promise_kept_rate_bps = decided ? (uint32_t)(r->promises_kept * 10000 / decided) : 0;
    r->has_promises_made = r->has_promises_kept = r->has_promises_broken = r->has_cured = 1;
    r->has_closed = r->has_cycle_days_total = r->has_complaints = 1;
    r->has_complaints_answered_late = r->has_contacts_requested = r->has_referrals = 1;
    r->has_listings = r->has_sold = 1;
}

static void init_sections(section_t *all)
{
    for (size_t i = 0; i < SECTIONS_MAX; i++) {
        section_t *s = &all[i];
        arrears__report_group__init(&s->total);
        for (int k = 0; k < STAGE_COUNT; k++) arrears__report_group__init(&s->stage[k]);
        for (int k = 0; k < SEGMENT_MAX; k++) arrears__report_group__init(&s->segment[k]);
        for (int k = 0; k < STRATEGY_MAX_ARMS; k++) arrears__report_group__init(&s->arm[k]);
        arrears__report_section__init(&s->section);
    }
}

size_t staging_report(staging_t *self, MDB_txn *txn, const Arrears__ReportQuery *q,
                      uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    section_t *all = calloc(SECTIONS_MAX, sizeof *all);
    Arrears__ReportSection *ptrs[SECTIONS_MAX];
    if (!all) {
        reject_set(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY, NULL,
                   "out of memory for the report");
        return 0;
    }
    init_sections(all);
    size_t count = 0;
    const char *only = q->platform && *q->platform ? q->platform : NULL;
    int rc = 0;
    for (uint64_t id = 0; (rc = ledger_next(self->ledger, txn, id, &self->account)) == 0;
         id = self->account.id) {
        if (only && strcmp(only, self->account.platform) != 0)
            continue;
        section_t *s = section_for(all, &count, &self->account);
        if (s)
            count_account(s, &self->account);
    }
    Arrears__Report report = ARREARS__REPORT__INIT;
    for (size_t i = 0; i < count; i++) {
        finish_section(self, &all[i]);
        ptrs[i] = &all[i].section;
    }
    report.n_sections = count;
    report.sections = ptrs;
    report.has_as_of_ms = 1;
    report.as_of_ms = aclock_now_ms(self->clock);
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_REPORT;
    env.report = &report;
    env.has_request_id = 1;
    env.request_id = request_id;
    size_t len = rc == LEDGER_ENOTFOUND ? envelope_pack(&env, buf, cap) : 0;
    if (len == 0)
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE, NULL,
                   "the report does not fit in a reply: ask per platform");
    free(all);
    return len;
}
