/* render_table: `arrears report` as a terminal table — the figures gathered from each
 * service laid out per platform and currency as DESIGN.md section 7 defines them: the
 * book by stage, segment and strategy arm, promises, cure and cycle time, roll rates,
 * recovery curves by arm, recovery by channel and stage, complaints, the monthly
 * remittance statement, outreach by channel and conduct refusals; legal per firm and
 * agency; sale outcomes and proceeds. Money in its currency's exponent, rates as
 * percentages; counts stay plain (scripts read "promises N made"). */
#include "render.h"

#include <stdio.h>
#include <string.h>

#define ROLL_STAGES 16   /* stages a roll matrix shows: the 13 of staging and room */
#define ROLL_MONTHS 48   /* months of roll rates: ReportQuery.months is at most 36 */

typedef char num_t[RENDER_NUMBER_MAX];

static unsigned long long u(uint64_t v)
{
    return (unsigned long long)v;
}

static void group_row(FILE *f, const Arrears__ReportGroup *g, const char *currency)
{
    Arrears__ReportGroup zero = ARREARS__REPORT_GROUP__INIT;
    num_t a, b, c, r;
    g = g ? g : &zero;
    fprintf(f, "  %-22s %8llu %20s %20s %8s %20s\n", g->name ? g->name : "total", u(g->accounts),
            render_money(g->overdue_at_entry_minor, currency, a, sizeof a),
            render_money(g->collected_minor, currency, b, sizeof b),
            render_pct(g->collection_rate_bps, r, sizeof r),
            render_money(g->outstanding_minor, currency, c, sizeof c));
}

static void groups(FILE *f, const char *title, Arrears__ReportGroup **g, size_t n,
                   const char *currency)
{
    fprintf(f, " by %s\n", title);
    for (size_t i = 0; i < n; i++)
        group_row(f, g[i], currency);
}

static void book(FILE *f, const Arrears__ReportSection *s)
{
    num_t r, c;
    fprintf(f, "\n== %s %s ==\n  %-22s %8s %20s %20s %8s %20s\n", nz(s->platform),
            nz(s->currency), "group", "accounts", "overdue at entry", "collected", "rate",
            "outstanding");
    group_row(f, s->total, s->currency);
    groups(f, "stage (now)", s->by_stage, s->n_by_stage, s->currency);
    groups(f, "segment", s->by_segment, s->n_by_segment, s->currency);
    groups(f, "strategy arm", s->by_arm, s->n_by_arm, s->currency);
    fprintf(f, " promises %llu made, %llu kept, %llu broken: kept rate %s\n", u(s->promises_made),
            u(s->promises_kept), u(s->promises_broken), render_pct(s->promise_kept_rate_bps, r, sizeof r));
    fprintf(f, " cure rate %s: %llu of %llu accounts ever delinquent back to current (%llu cures)\n",
            render_pct(s->cure_rate_bps, c, sizeof c), u(s->accounts_cured),
            u(s->accounts_delinquent), u(s->cured));
    fprintf(f, " closed %llu, cycle time %.1f days on average\n", u(s->closed),
            s->closed ? (double)s->cycle_days_total / (double)s->closed : 0.0);
    fprintf(f, " complaints %llu (%llu answered late); contacts requested %llu; "
            "referred to legal %llu; listed for sale %llu; sold %llu\n", u(s->complaints),
            u(s->complaints_answered_late), u(s->contacts_requested), u(s->referrals),
            u(s->listings), u(s->sold));
}

static uint64_t roll_cell(const Arrears__ReportSection *s, const char *month, const char *from,
                          const char *to)
{
    for (size_t i = 0; i < s->n_roll_rates; i++) {
        const Arrears__RollCell *c = s->roll_rates[i];
        if (strcmp(nz(c->month), month) == 0 && strcmp(nz(c->from_stage), from) == 0 &&
            strcmp(nz(c->to_stage), to) == 0)
            return c->accounts;
    }
    return 0;
}

/* One month: rows the stage at its start (with the row's accounts), columns the stage at
 * its end, each cell the share of the row. */
static void roll_month(FILE *f, const Arrears__ReportSection *s, const char *month,
                       const char **to, size_t nto)
{
    const char *from[ROLL_STAGES];
    size_t nfrom = 0;
    for (size_t i = 0; i < s->n_roll_rates; i++)
        if (strcmp(nz(s->roll_rates[i]->month), month) == 0)
            nfrom = render_add_name(from, nfrom, ROLL_STAGES, nz(s->roll_rates[i]->from_stage));
    render_sort_stages(from, nfrom);
    fprintf(f, "  %s  %-12s %8s", month, "from \\ to", "accounts");
    for (size_t k = 0; k < nto; k++)
        fprintf(f, " %11s", to[k]);
    fputc('\n', f);
    for (size_t i = 0; i < nfrom; i++) {
        uint64_t row = 0;
        for (size_t k = 0; k < nto; k++)
            row += roll_cell(s, month, from[i], to[k]);
        fprintf(f, "           %-12s %8llu", from[i], u(row));
        for (size_t k = 0; k < nto; k++) {
            num_t r;
            uint64_t c = roll_cell(s, month, from[i], to[k]);
            fprintf(f, " %11s", c ? render_pct((int64_t)(c * 10000 / row), r, sizeof r) : ".");
        }
        fputc('\n', f);
    }
}

static void roll_rates(FILE *f, const Arrears__ReportSection *s)
{
    const char *months[ROLL_MONTHS], *to[ROLL_STAGES];
    size_t nmonths = 0, nto = 0;
    for (size_t i = 0; i < s->n_roll_rates; i++) {
        const Arrears__RollCell *c = s->roll_rates[i];
        nto = render_add_name(to, nto, ROLL_STAGES, nz(c->to_stage));
        nmonths = render_add_name(months, nmonths, ROLL_MONTHS, nz(c->month));
    }
    if (nmonths == 0)
        return;
    render_sort_stages(to, nto);
    fprintf(f, " roll rates: accounts in a stage at the month's start, share in each stage at its end\n");
    for (size_t i = 0; i < nmonths; i++)
        roll_month(f, s, months[i], to, nto);
}

static void curves(FILE *f, const Arrears__ReportSection *s)
{
    if (s->n_recovery_curves == 0)
        return;
    fprintf(f, " recovery curve by strategy arm: collected / overdue at entry, by months since entry\n"
               "  %-22s", "arm \\ month");
    size_t months = 0;
    for (size_t i = 0; i < s->n_recovery_curves; i++)
        for (size_t k = 0; k < s->recovery_curves[i]->n_points; k++)
            if (s->recovery_curves[i]->points[k]->accounts && k + 1 > months)
                months = k + 1;
    for (size_t k = 0; k < months; k++)
        fprintf(f, " %8zu", k);
    fputc('\n', f);
    for (size_t i = 0; i < s->n_recovery_curves; i++) {
        const Arrears__RecoveryCurve *c = s->recovery_curves[i];
        fprintf(f, "  %-22s", nz(c->arm));
        for (size_t k = 0; k < months && k < c->n_points; k++) {
            num_t r;
            fprintf(f, " %8s", c->points[k]->accounts
                    ? render_pct(c->points[k]->recovery_rate_bps, r, sizeof r) : "-");
        }
        fputc('\n', f);
    }
}

static void recovery(FILE *f, const char *title, Arrears__RecoveryGroup **g, size_t n,
                     const char *currency)
{
    fprintf(f, " recovery by %s\n  %-22s %8s %8s %20s\n", title, title, "payments",
            "accounts", "collected");
    for (size_t i = 0; i < n; i++) {
        num_t a;
        fprintf(f, "  %-22s %8llu %8llu %20s\n", nz(g[i]->name), u(g[i]->payments),
                u(g[i]->accounts), render_money(g[i]->collected_minor, currency, a, sizeof a));
    }
}

static void complaints(FILE *f, const Arrears__ComplaintFigures *c)
{
    if (!c)
        return;
    uint64_t answered = c->answered_on_time + c->answered_late;
    fprintf(f, " complaint responses: %llu received, %llu answered on time, %llu late; "
            "%llu open (%llu past their deadline); mean response %.1f hours\n",
            u(c->received), u(c->answered_on_time), u(c->answered_late), u(c->open),
            u(c->open_overdue), answered ? (double)c->response_hours_total / (double)answered : 0.0);
}

static void remittance(FILE *f, const gather_t *g, const Arrears__ReportSection *s)
{
    num_t a, b, c, d, e;
    int64_t commission, net = 0;
    fprintf(f, " remittance statement to %s (%s)\n  %-8s %20s %20s %20s %20s %20s\n",
            nz(s->platform), nz(s->currency), "month", "collected", "of which legal",
            "legal costs", "sale proceeds", "net");
    for (size_t i = 0; i < s->n_remittance; i++) {
        const Arrears__RemittanceMonth *m = s->remittance[i];
        net += m->net_minor;
        fprintf(f, "  %-8s %20s %20s %20s %20s %20s\n", nz(m->month),
                render_money(m->collected_minor, s->currency, a, sizeof a),
                render_money(m->legal_recovered_minor, s->currency, b, sizeof b),
                render_money(m->legal_costs_minor, s->currency, c, sizeof c),
                render_money(m->sale_proceeds_minor, s->currency, d, sizeof d),
                render_money(m->net_minor, s->currency, e, sizeof e));
    }
    int who = render_commission(g, s->currency, &commission);
    if (who == 1)
        fprintf(f, "  legal commission since the start (legal's firms and agencies): %s; "
                "net after commission %s\n", render_money(commission, s->currency, a, sizeof a),
                render_money(net - commission, s->currency, b, sizeof b));
    else if (who == 0)
        fprintf(f, "  legal commission in %s since the start, every platform together: %s\n",
                nz(s->currency), render_money(commission, s->currency, a, sizeof a));
}

static void staging(FILE *f, const gather_t *g, const Arrears__ReportSection *s)
{
    book(f, s);
    roll_rates(f, s);
    curves(f, s);
    recovery(f, "channel", s->recovery_by_channel, s->n_recovery_by_channel, s->currency);
    recovery(f, "stage", s->recovery_by_stage, s->n_recovery_by_stage, s->currency);
    complaints(f, s->complaint_figures);
    remittance(f, g, s);
}

static void outreach(FILE *f, const Arrears__OutreachSection *o)
{
    fprintf(f, "\n== outreach %s %s ==\n  %-8s %8s %9s %8s %9s %9s %8s %8s %9s\n",
            nz(o->platform), nz(o->currency), "channel", "tasks", "delivered", "failed",
            "not tried", "cancelled", "refused", "open", "deferrals");
    for (size_t i = 0; i < o->n_channels; i++) {
        const Arrears__OutreachChannelFigures *c = o->channels[i];
        fprintf(f, "  %-8s %8llu %9llu %8llu %9llu %9llu %8llu %8llu %9llu\n", nz(c->channel),
                u(c->tasks), u(c->delivered), u(c->failed), u(c->not_attempted), u(c->cancelled),
                u(c->refused), u(c->open), u(c->deferrals));
    }
    fprintf(f, " conduct decisions by rule\n  %-26s %8s %9s\n", "rule", "refused", "deferred");
    for (size_t i = 0; i < o->n_rules; i++)
        fprintf(f, "  %-26s %8llu %9llu\n", nz(o->rules[i]->rule), u(o->rules[i]->refused),
                u(o->rules[i]->deferred));
    fprintf(f, " by jurisdiction profile\n  %-26s %8s %8s %9s  refused by rule\n", "profile",
            "tasks", "refused", "deferrals");
    for (size_t i = 0; i < o->n_profiles; i++) {
        const Arrears__OutreachProfileFigures *p = o->profiles[i];
        fprintf(f, "  %-26s %8llu %8llu %9llu ", *nz(p->profile) ? p->profile : "(not screened)",
                u(p->tasks), u(p->refused), u(p->deferrals));
        for (size_t k = 0; k < p->n_rules; k++)
            if (p->rules[k]->refused)
                fprintf(f, " %s=%llu", nz(p->rules[k]->rule), u(p->rules[k]->refused));
        fputc('\n', f);
    }
}

static void legal(FILE *f, const Arrears__LegalReport *l)
{
    fprintf(f, "\n== legal ==\n referrals %llu, declined %llu, waiting for an assignee %llu\n",
            u(l->referrals), u(l->declined), u(l->waiting));
    for (size_t i = 0; i < l->n_declined_by_reason; i++)
        fprintf(f, "  declined %s\n", nz(l->declined_by_reason[i]));
    fprintf(f, "  %-16s %-7s %-4s %6s %5s %9s %8s %20s %20s %8s %18s %18s\n", "assignee", "kind",
            "cur", "cases", "open", "judgments", "recalled", "placed", "recovered", "rate",
            "costs", "commission");
    for (size_t i = 0; i < l->n_assignees; i++) {
        const Arrears__AssigneeFigures *x = l->assignees[i];
        num_t a, b, r, d, g;
        fprintf(f, "  %-16s %-7s %-4s %6llu %5llu %9llu %8llu %20s %20s %8s %18s %18s\n",
                nz(x->assignee), nz(x->kind), nz(x->currency), u(x->cases), u(x->open),
                u(x->judgments), u(x->recalled),
                render_money(x->placed_minor, x->currency, a, sizeof a),
                render_money(x->recovered_minor, x->currency, b, sizeof b),
                render_pct(x->recovery_rate_bps, r, sizeof r),
                render_money(x->costs_minor, x->currency, d, sizeof d),
                render_money(x->commission_minor, x->currency, g, sizeof g));
    }
}

static void sale(FILE *f, const Arrears__SaleReport *s)
{
    fprintf(f, "\n== sale ==\n listed %llu (waiting %llu); portfolios %llu: %llu awarded, %llu "
            "unsold; bids %llu\n accounts sold %llu, withdrawn %llu, put back %llu\n",
            u(s->listings), u(s->waiting), u(s->portfolios), u(s->awarded), u(s->unsold),
            u(s->bids), u(s->accounts_sold), u(s->accounts_withdrawn), u(s->accounts_put_back));
    for (size_t i = 0; i < s->n_proceeds; i++) {
        const Arrears__SaleProceeds *p = s->proceeds[i];
        num_t a, b;
        fprintf(f, "  %s: price %s for balances of %s\n", nz(p->currency),
                render_money(p->price_minor, p->currency, a, sizeof a),
                render_money(p->outstanding_minor, p->currency, b, sizeof b));
    }
}

void render_table(FILE *f, const gather_t *g)
{
    const Arrears__Report *r = g->staging->report;
    const Arrears__OutreachReport *o = g->outreach->outreach_report;
    num_t when;
    fprintf(f, "=== arrears report === (as of %s)\n", render_instant(r->as_of_ms, when, sizeof when));
    for (size_t i = 0; i < r->n_sections; i++) {
        const Arrears__OutreachSection *x = render_outreach_of(g, r->sections[i]->platform,
                                                               r->sections[i]->currency);
        staging(f, g, r->sections[i]);
        if (x)
            outreach(f, x);
    }
    for (size_t i = 0; i < o->n_sections; i++)
        if (!render_has_book(g, o->sections[i]))
            outreach(f, o->sections[i]);
    if (o->tasks_unreported)
        fprintf(f, " outreach tasks in platforms and currencies past the report's limit: %llu\n",
                u(o->tasks_unreported));
    legal(f, g->legal->legal_report);
    sale(f, g->sale->sale_report);
}
