/* report: the book's figures per platform and currency, computed from the stored
 * accounts at the moment of the query (DESIGN.md section 7): collection rate (collected /
 * overdue at entry) overall and by stage, segment and champion/challenger arm, promises
 * made, kept and broken, cures, closures and cycle time, complaints and late answers,
 * contacts, referrals, listings and sales; and from each account's timeline (pure, in
 * report_figures.c) roll rates, recovery curves by arm, recovery by channel and stage,
 * cure rate, complaint answers and the monthly remittance figures. A scan of every
 * account and its timeline: an operator's query, not a hot path. */
#include <stdlib.h>
#include <string.h>

#include "money.h"
#include "report_figures.h"
#include "staging.h"

#define SECTIONS_MAX 64
#define DAY_MS INT64_C(86400000)
#define MS_PER_HOUR INT64_C(3600000)

typedef struct {
    Arrears__ReportGroup total;
    Arrears__ReportGroup stage[STAGE_COUNT];
    Arrears__ReportGroup segment[SEGMENT_MAX];
    Arrears__ReportGroup arm[STRATEGY_MAX_ARMS];
    Arrears__ReportGroup *stage_p[STAGE_COUNT], *segment_p[SEGMENT_MAX], *arm_p[STRATEGY_MAX_ARMS];
    Arrears__ReportSection section;
    char platform[ACCOUNT_PLATFORM_MAX + 1];
    char currency[4];
    /* The timeline figures, then their protobuf view (roll cells allocated, the rest
     * bounded and inline). */
    report_figures_t fig;
    char month_text[REPORT_MONTHS_MAX][REPORT_MONTH_TEXT];
    Arrears__RollCell *cells, **cell_p;
    Arrears__RecoveryCurve curve[STRATEGY_MAX_ARMS], *curve_p[STRATEGY_MAX_ARMS];
    Arrears__CurvePoint point[STRATEGY_MAX_ARMS][REPORT_MONTHS_MAX];
    Arrears__CurvePoint *point_p[STRATEGY_MAX_ARMS][REPORT_MONTHS_MAX];
    Arrears__RecoveryGroup channel[REPORT_CHANNELS], *channel_p[REPORT_CHANNELS];
    Arrears__RecoveryGroup paid_in[STAGE_COUNT], *paid_in_p[STAGE_COUNT];
    Arrears__ComplaintFigures complaints;
    Arrears__RemittanceMonth remit[REPORT_MONTHS_MAX], *remit_p[REPORT_MONTHS_MAX];
} section_t;

/* The report's window: the months asked for, ending at the clock's UTC month. */
typedef struct {
    int32_t last_month;
    uint32_t months;
} window_t;

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
    g->collection_rate_bps = money_rate_bps(g->collected_minor, g->overdue_at_entry_minor);
}

static section_t *section_for(section_t *all, size_t *count, const account_t *a,
                              const window_t *w)
{
    for (size_t i = 0; i < *count; i++)
        if (strcmp(all[i].platform, a->platform) == 0 && strcmp(all[i].currency, a->currency) == 0)
            return &all[i];
    if (*count == SECTIONS_MAX)
        return NULL;
    section_t *s = &all[(*count)++];
    memcpy(s->platform, a->platform, sizeof s->platform);
    memcpy(s->currency, a->currency, sizeof s->currency);
    report_figures_init(&s->fig, w->last_month, w->months);
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
    r->promise_kept_rate_bps = money_rate_bps((int64_t)r->promises_kept, (int64_t)decided);
    r->has_promises_made = r->has_promises_kept = r->has_promises_broken = r->has_cured = 1;
    r->has_closed = r->has_cycle_days_total = r->has_complaints = 1;
    r->has_complaints_answered_late = r->has_contacts_requested = r->has_referrals = 1;
    r->has_listings = r->has_sold = 1;
}

/* ---------------------------------------------------------------- timeline figures */

/* The roll cells that hold accounts, month by month (allocated: up to months x
 * stages x stages). */
static int pack_rolls(section_t *s)
{
    const report_figures_t *f = &s->fig;
    size_t n = 0;
    for (uint32_t m = 0; m < f->months; m++)
        for (int a = 0; a < STAGE_COUNT; a++)
            for (int b = 0; b < STAGE_COUNT; b++)
                n += f->roll[m][a][b] > 0;
    s->cells = calloc(n ? n : 1, sizeof *s->cells);
    s->cell_p = calloc(n ? n : 1, sizeof *s->cell_p);
    if (!s->cells || !s->cell_p)
        return -1;
    Arrears__ReportSection *r = &s->section;
    for (uint32_t m = 0; m < f->months; m++)
        for (int a = 0; a < STAGE_COUNT; a++)
            for (int b = 0; b < STAGE_COUNT; b++) {
                if (f->roll[m][a][b] == 0)
                    continue;
                Arrears__RollCell *c = &s->cells[r->n_roll_rates];
                arrears__roll_cell__init(c);
                c->month = s->month_text[m];
                c->from_stage = (char *)stage_name((stage_t)a);
                c->to_stage = (char *)stage_name((stage_t)b);
                c->has_accounts = 1;
                c->accounts = f->roll[m][a][b];
                s->cell_p[r->n_roll_rates++] = c;
            }
    r->roll_rates = s->cell_p;
    return 0;
}

static void pack_curves(section_t *s, const account_policy_t *policy)
{
    Arrears__ReportSection *r = &s->section;
    for (unsigned arm = 0; policy && arm < STRATEGY_MAX_ARMS; arm++) {
        if (!s->fig.arm_seen[arm])
            continue;
        Arrears__RecoveryCurve *c = &s->curve[arm];
        arrears__recovery_curve__init(c);
        c->arm = (char *)strategy_arm_name(policy->strategy, arm);
        for (uint32_t k = 0; k < s->fig.months && s->fig.curve[arm][k].accounts; k++) {
            const report_point_t *p = &s->fig.curve[arm][k];
            Arrears__CurvePoint *cp = &s->point[arm][k];
            arrears__curve_point__init(cp);
            cp->has_month = cp->has_accounts = cp->has_overdue_at_entry_minor = 1;
            cp->has_collected_minor = cp->has_recovery_rate_bps = 1;
            cp->month = k;
            cp->accounts = p->accounts;
            cp->overdue_at_entry_minor = p->overdue_minor;
            cp->collected_minor = p->collected_minor;
            cp->recovery_rate_bps = money_rate_bps(p->collected_minor, p->overdue_minor);
            s->point_p[arm][c->n_points++] = cp;
        }
        c->points = s->point_p[arm];
        s->curve_p[r->n_recovery_curves++] = c;
    }
    r->recovery_curves = s->curve_p;
}

/* The groups that took payments, named by name_of(index). */
static size_t pack_groups(const report_recovery_t *in, size_t count, Arrears__RecoveryGroup *out,
                          Arrears__RecoveryGroup **ptrs, const char *(*name_of)(size_t))
{
    size_t n = 0;
    for (size_t i = 0; i < count; i++) {
        if (in[i].payments == 0)
            continue;
        arrears__recovery_group__init(&out[i]);
        out[i].name = (char *)name_of(i);
        out[i].has_payments = out[i].has_accounts = out[i].has_collected_minor = 1;
        out[i].payments = in[i].payments;
        out[i].accounts = in[i].accounts;
        out[i].collected_minor = in[i].collected_minor;
        ptrs[n++] = &out[i];
    }
    return n;
}

static const char *channel_name(size_t i)
{
    return i < CHANNEL_COUNT ? strategy_channel_name((strategy_channel_t)i) : "none";
}

static const char *stage_name_at(size_t i)
{
    return stage_name((stage_t)i);
}

static void pack_complaints(section_t *s)
{
    const report_complaints_t *c = &s->fig.complaints;
    Arrears__ComplaintFigures *m = &s->complaints;
    arrears__complaint_figures__init(m);
    m->has_received = m->has_answered_on_time = m->has_answered_late = 1;
    m->has_open = m->has_open_overdue = m->has_response_hours_total = 1;
    m->received = c->received;
    m->answered_on_time = c->on_time;
    m->answered_late = c->late;
    m->open = c->open;
    m->open_overdue = c->open_overdue;
    int64_t hours = 0;
    if (money_mul_div_round(c->response_ms > 0 ? c->response_ms : 0, 1, MS_PER_HOUR, &hours) !=
        MONEY_OK)
        hours = 0;
    m->response_hours_total = (uint64_t)hours;
    m->has_response_ms_total = 1;
    m->response_ms_total = c->response_ms > 0 ? (uint64_t)c->response_ms : 0;
    s->section.complaint_figures = m;
}

static void pack_remittance(section_t *s)
{
    Arrears__ReportSection *r = &s->section;
    for (uint32_t i = 0; i < s->fig.months; i++) {
        const report_remit_t *f = &s->fig.remit[i];
        if (!f->any)
            continue;
        Arrears__RemittanceMonth *m = &s->remit[i];
        arrears__remittance_month__init(m);
        m->month = s->month_text[i];
        m->has_collected_minor = m->has_legal_recovered_minor = m->has_legal_costs_minor = 1;
        m->has_sale_proceeds_minor = m->has_net_minor = 1;
        m->collected_minor = f->collected_minor;
        m->legal_recovered_minor = f->legal_recovered_minor;
        m->legal_costs_minor = f->legal_costs_minor;
        m->sale_proceeds_minor = f->sale_proceeds_minor;
        if (money_add(f->collected_minor, f->sale_proceeds_minor, &m->net_minor) != MONEY_OK ||
            money_sub(m->net_minor, f->legal_costs_minor, &m->net_minor) != MONEY_OK)
            m->has_net_minor = 0;   /* beyond int64: left out rather than wrong */
        s->remit_p[r->n_remittance++] = m;
    }
    r->remittance = s->remit_p;
}

static int finish_figures(staging_t *self, section_t *s)
{
    Arrears__ReportSection *r = &s->section;
    for (uint32_t i = 0; i < s->fig.months; i++)
        report_month_text(s->fig.first_month + (int32_t)i, s->month_text[i]);
    pack_curves(s, staging_policy_for(self, s->currency));
    r->n_recovery_by_channel = pack_groups(s->fig.by_channel, REPORT_CHANNELS, s->channel,
                                           s->channel_p, channel_name);
    r->recovery_by_channel = s->channel_p;
    r->n_recovery_by_stage = pack_groups(s->fig.by_stage, STAGE_COUNT, s->paid_in,
                                         s->paid_in_p, stage_name_at);
    r->recovery_by_stage = s->paid_in_p;
    r->has_accounts_delinquent = r->has_accounts_cured = 1;
    r->accounts_delinquent = s->fig.delinquent;
    r->accounts_cured = s->fig.cured;
    r->has_cure_rate_bps = s->fig.delinquent > 0;
    r->cure_rate_bps = money_rate_bps((int64_t)s->fig.cured, (int64_t)s->fig.delinquent);
    pack_complaints(s);
    /* Answered late means answered, after the deadline: the timeline's figure. The stored
     * complaints_late counter also counts complaints still open past it. */
    r->complaints_answered_late = s->complaints.answered_late;
    pack_remittance(s);
    return pack_rolls(s);
}

typedef struct {
    report_account_t *walk;
    report_figures_t *fig;
} walk_t;

static int visit_entry(const Arrears__TimelineEntry *t, void *arg)
{
    walk_t *w = arg;
    report_event_t ev;
    if (report_event_parse(t, &ev))
        report_account_event(w->walk, w->fig, &ev);
    return 0;
}

static int by_platform_currency(const void *a, const void *b)
{
    const Arrears__ReportSection *x = *(Arrears__ReportSection *const *)a;
    const Arrears__ReportSection *y = *(Arrears__ReportSection *const *)b;
    int c = strcmp(x->platform, y->platform);
    return c ? c : strcmp(x->currency, y->currency);
}

/* The account in self->account, its timeline through the figures of section s. */
static int walk_timeline(staging_t *self, MDB_txn *txn, section_t *s, report_account_t *walk,
                         int64_t now_ms)
{
    const account_t *a = &self->account;
    int32_t today;
    if (staging_day_of(self, a->time_zone, now_ms, &today) != 0)
        today = a->evaluated_day;
    report_account_begin(walk, a->stats.entered_day, today, a->arm,
                         a->stats.overdue_at_entry_minor);
    walk_t w = {walk, &s->fig};
    int rc = ledger_each_entry(self->ledger, txn, a->id, 0, a->timeline_count, visit_entry, &w);
    report_account_end(walk, &s->fig);
    return rc;
}

/* ---------------------------------------------------------------- the query */

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

static void free_sections(section_t *all, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(all[i].cells);
        free(all[i].cell_p);
    }
    free(all);
}

static window_t window_of(const Arrears__ReportQuery *q, int64_t now_ms)
{
    int64_t day = now_ms >= 0 ? now_ms / DAY_MS : -((-now_ms + DAY_MS - 1) / DAY_MS);
    uint32_t months = q->months ? q->months : REPORT_MONTHS_MAX;
    return (window_t){report_month_of_day((int32_t)day),
                      months > REPORT_MONTHS_MAX ? REPORT_MONTHS_MAX : months};
}

/* Every account of the platform asked for (all when none) into its section. */
static int scan(staging_t *self, MDB_txn *txn, const Arrears__ReportQuery *q, const window_t *w,
                int64_t now_ms, section_t *all, size_t *count)
{
    const char *only = q->platform && *q->platform ? q->platform : NULL;
    report_account_t *walk = malloc(sizeof *walk);
    int rc = walk ? 0 : LEDGER_ENOMEM;
    for (uint64_t id = 0; rc == 0 && (rc = ledger_next(self->ledger, txn, id, &self->account)) == 0;
         id = self->account.id) {
        if (only && strcmp(only, self->account.platform) != 0)
            continue;
        section_t *s = section_for(all, count, &self->account, w);
        if (s) {
            count_account(s, &self->account);
            rc = walk_timeline(self, txn, s, walk, now_ms);
        }
    }
    free(walk);
    return rc == LEDGER_ENOTFOUND ? 0 : rc;
}

static size_t refuse(reject_t *reject, Arrears__Reject__Class cls, Arrears__Reject__Code code,
                     const char *why)
{
    reject_set(reject, cls, code, NULL, "%s", why);
    return 0;
}

size_t staging_report(staging_t *self, MDB_txn *txn, const Arrears__ReportQuery *q,
                      uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    if (q->months > REPORT_MONTHS_MAX)
        return refuse(reject, ARREARS__REJECT__CLASS__PERMANENT,
                      ARREARS__REJECT__CODE__INVALID_FIELD, "months: at most 36");
    section_t *all = calloc(SECTIONS_MAX, sizeof *all);
    Arrears__ReportSection *ptrs[SECTIONS_MAX];
    if (!all)
        return refuse(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY,
                      "out of memory for the report");
    init_sections(all);
    size_t count = 0;
    int64_t now_ms = aclock_now_ms(self->clock);
    window_t w = window_of(q, now_ms);
    int rc = scan(self, txn, q, &w, now_ms, all, &count);
    Arrears__Report report = ARREARS__REPORT__INIT;
    for (size_t i = 0; rc == 0 && i < count; i++) {
        finish_section(self, &all[i]);
        rc = finish_figures(self, &all[i]);
        ptrs[i] = &all[i].section;
    }
    /* By platform, then currency: the order does not depend on which account came first,
     * so shards' reports merge into the one a single staging gives. */
    qsort(ptrs, count, sizeof ptrs[0], by_platform_currency);
    report.n_sections = count;
    report.sections = ptrs;
    report.has_as_of_ms = 1;
    report.as_of_ms = now_ms;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_REPORT;
    env.report = &report;
    env.has_request_id = 1;
    env.request_id = request_id;
    size_t len = rc == 0 ? envelope_pack(&env, buf, cap) : 0;
    free_sections(all, count);
    if (rc != 0)
        return refuse(reject, ARREARS__REJECT__CLASS__RETRY_LATER, ARREARS__REJECT__CODE__BUSY,
                      "the book could not be read for the report now");
    if (len == 0)
        return refuse(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__TOO_LARGE,
                      "the report does not fit in a reply: ask per platform or for fewer months");
    return len;
}
