/* render: `arrears report` as a terminal table — the figures gathered from each service
 * (gather.h), laid out per platform and currency as DESIGN.md section 7 defines them:
 * collection rate (collected / overdue at entry), the book by stage, segment and strategy
 * arm, promise-kept and cure figures, cycle time, complaints; legal per firm and agency;
 * sale outcomes and proceeds. Rates are basis points shown as percentages. */
#include "render.h"

#include <stdio.h>
#include <string.h>

#include "money.h"

static const char *pct(uint32_t bps, char *buf, size_t len)
{
    snprintf(buf, len, "%u.%02u%%", bps / 100, bps % 100);
    return buf;
}

static const char *amount(int64_t minor, const char *currency, char *buf, size_t len)
{
    if (money_format(minor, currency, buf, len) != 0)
        snprintf(buf, len, "%lld", (long long)minor);
    return buf;
}

static void group_row(FILE *f, const Arrears__ReportGroup *g, const char *currency)
{
    char a[MONEY_FORMAT_MAX], b[MONEY_FORMAT_MAX], c[MONEY_FORMAT_MAX], r[16];
    fprintf(f, "  %-22s %8llu %18s %18s %7s %18s\n", g->name ? g->name : "total",
            (unsigned long long)g->accounts, amount(g->overdue_at_entry_minor, currency, a, sizeof a),
            amount(g->collected_minor, currency, b, sizeof b), pct(g->collection_rate_bps, r, sizeof r),
            amount(g->outstanding_minor, currency, c, sizeof c));
}

static void groups(FILE *f, const char *title, Arrears__ReportGroup **g, size_t n,
                   const char *currency)
{
    fprintf(f, " by %s\n", title);
    for (size_t i = 0; i < n; i++)
        group_row(f, g[i], currency);
}

static void section(FILE *f, const Arrears__ReportSection *s)
{
    char r[16];
    fprintf(f, "\n== %s %s ==\n  %-22s %8s %18s %18s %7s %18s\n", s->platform, s->currency,
            "group", "accounts", "overdue at entry", "collected", "rate", "outstanding");
    group_row(f, s->total, s->currency);
    groups(f, "stage (now)", s->by_stage, s->n_by_stage, s->currency);
    groups(f, "segment", s->by_segment, s->n_by_segment, s->currency);
    groups(f, "strategy arm", s->by_arm, s->n_by_arm, s->currency);
    fprintf(f, " promises %llu made, %llu kept, %llu broken: kept rate %s\n",
            (unsigned long long)s->promises_made, (unsigned long long)s->promises_kept,
            (unsigned long long)s->promises_broken, pct(s->promise_kept_rate_bps, r, sizeof r));
    fprintf(f, " cured %llu; closed %llu, cycle time %.1f days on average\n",
            (unsigned long long)s->cured, (unsigned long long)s->closed,
            s->closed ? (double)s->cycle_days_total / (double)s->closed : 0.0);
    fprintf(f, " complaints %llu (%llu answered late); contacts requested %llu; "
            "referred to legal %llu; listed for sale %llu; sold %llu\n",
            (unsigned long long)s->complaints, (unsigned long long)s->complaints_answered_late,
            (unsigned long long)s->contacts_requested, (unsigned long long)s->referrals,
            (unsigned long long)s->listings, (unsigned long long)s->sold);
}

static void legal(FILE *f, const Arrears__LegalReport *l)
{
    char a[MONEY_FORMAT_MAX], b[MONEY_FORMAT_MAX], r[16];
    fprintf(f, "\n== legal ==\n referrals %llu, declined %llu, waiting for an assignee %llu\n",
            (unsigned long long)l->referrals, (unsigned long long)l->declined,
            (unsigned long long)l->waiting);
    for (size_t i = 0; i < l->n_declined_by_reason; i++)
        fprintf(f, "  declined %s\n", l->declined_by_reason[i]);
    fprintf(f, "  %-16s %-7s %-4s %6s %5s %9s %8s %18s %18s %7s %16s %16s\n", "assignee", "kind",
            "cur", "cases", "open", "judgments", "recalled", "placed", "recovered", "rate",
            "costs", "commission");
    for (size_t i = 0; i < l->n_assignees; i++) {
        const Arrears__AssigneeFigures *x = l->assignees[i];
        char d[MONEY_FORMAT_MAX], g[MONEY_FORMAT_MAX];
        fprintf(f, "  %-16s %-7s %-4s %6llu %5llu %9llu %8llu %18s %18s %7s %16s %16s\n",
                x->assignee, x->kind, x->currency, (unsigned long long)x->cases,
                (unsigned long long)x->open, (unsigned long long)x->judgments,
                (unsigned long long)x->recalled, amount(x->placed_minor, x->currency, a, sizeof a),
                amount(x->recovered_minor, x->currency, b, sizeof b),
                pct(x->recovery_rate_bps, r, sizeof r), amount(x->costs_minor, x->currency, d, sizeof d),
                amount(x->commission_minor, x->currency, g, sizeof g));
    }
}

static void sale(FILE *f, const Arrears__SaleReport *s)
{
    fprintf(f, "\n== sale ==\n listed %llu (waiting %llu); portfolios %llu: %llu awarded, %llu "
            "unsold; bids %llu\n accounts sold %llu, withdrawn %llu, put back %llu\n",
            (unsigned long long)s->listings, (unsigned long long)s->waiting,
            (unsigned long long)s->portfolios, (unsigned long long)s->awarded,
            (unsigned long long)s->unsold, (unsigned long long)s->bids,
            (unsigned long long)s->accounts_sold, (unsigned long long)s->accounts_withdrawn,
            (unsigned long long)s->accounts_put_back);
    for (size_t i = 0; i < s->n_proceeds; i++) {
        const Arrears__SaleProceeds *p = s->proceeds[i];
        char a[MONEY_FORMAT_MAX], b[MONEY_FORMAT_MAX];
        fprintf(f, "  %s: price %s for balances of %s\n", p->currency,
                amount(p->price_minor, p->currency, a, sizeof a),
                amount(p->outstanding_minor, p->currency, b, sizeof b));
    }
}

void render_table(FILE *f, const gather_t *g)
{
    const Arrears__Report *r = g->staging->report;
    fprintf(f, "=== arrears report ===\n");
    for (size_t i = 0; i < r->n_sections; i++)
        section(f, r->sections[i]);
    legal(f, g->legal->legal_report);
    sale(f, g->sale->sale_report);
}
