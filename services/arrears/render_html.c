/* render_html: `arrears report --format html` — one self-contained page (no script, no
 * network: inline CSS and SVG) with the report per platform and currency: headline
 * figures, the book, roll-rate heat maps, the recovery curve by strategy arm, recovery
 * by channel and stage, complaints, the monthly remittance statement, outreach and
 * conduct refusals by rule; then legal and sale. Every number cell that is a served
 * figure carries its CSV row as data attributes (figure_write), like the charts
 * (render_svg.c); derived numbers (totals, means, roll rates) carry none. Every text is
 * escaped: platform names come from outside. */
#include "render.h"

#include <stdio.h>
#include <string.h>

#define PAGE_MONTHS 48   /* months of roll rates: ReportQuery.months is at most 36 */

typedef char num_t[RENDER_NUMBER_MAX];

typedef struct {
    const char *key;     /* the proto field, as in the CSV */
    const char *label;   /* the column's heading */
} column_t;

static const column_t group_cols[] = {
    { "accounts", "Accounts" }, { "overdue_at_entry_minor", "Overdue at entry" },
    { "collected_minor", "Collected" }, { "collection_rate_bps", "Collection rate" },
    { "outstanding_minor", "Outstanding" }, { NULL, NULL } };
static const column_t recovery_cols[] = {
    { "payments", "Payments" }, { "accounts", "Accounts" }, { "collected_minor", "Collected" },
    { NULL, NULL } };
static const column_t remit_cols[] = {
    { "collected_minor", "Collected" }, { "legal_recovered_minor", "of which legal recovered" },
    { "legal_costs_minor", "Legal costs" }, { "sale_proceeds_minor", "Sale proceeds" },
    { "net_minor", "Net" }, { NULL, NULL } };
static const column_t complaint_cols[] = {
    { "received", "Received" }, { "answered_on_time", "Answered on time" },
    { "answered_late", "Answered late" }, { "open", "Open" },
    { "open_overdue", "Open, past deadline" }, { "response_hours_total", "Response hours (sum)" },
    { "response_ms_total", "Response ms (sum)" }, { NULL, NULL } };
static const column_t channel_cols[] = {
    { "tasks", "Tasks" }, { "delivered", "Delivered" }, { "failed", "Failed" },
    { "not_attempted", "Not attempted" }, { "cancelled", "Cancelled" }, { "refused", "Refused" },
    { "open", "Open" }, { "deferrals", "Deferrals" }, { NULL, NULL } };
static const column_t rule_cols[] = {
    { "refused", "Refused" }, { "deferred", "Deferred" }, { NULL, NULL } };
static const column_t profile_cols[] = {
    { "tasks", "Tasks" }, { "refused", "Refused" }, { "deferrals", "Deferrals" }, { NULL, NULL } };
static const column_t assignee_cols[] = {
    { "cases", "Cases" }, { "open", "Open" }, { "judgments", "Judgments" },
    { "recalled", "Recalled" }, { "placed_minor", "Placed" }, { "recovered_minor", "Recovered" },
    { "recovery_rate_bps", "Recovery rate" }, { "costs_minor", "Costs" },
    { "commission_minor", "Commission" }, { "median_days_to_judgment", "Median days to judgment" },
    { "complaints", "Complaints" }, { NULL, NULL } };
static const column_t proceeds_cols[] = {
    { "price_minor", "Price" }, { "outstanding_minor", "Balances sold" }, { NULL, NULL } };

static void cell(FILE *f, const figure_t *fig)
{
    num_t text;
    fputs("<td class=\"num\"", f);
    figure_write(f, fig, FIGURE_HTML_ATTRS);
    fputc('>', f);
    html_text(f, figure_text(fig, text, sizeof text));
    fputs("</td>", f);
}

static void plain_cell(FILE *f, const char *text)
{
    fputs("<td class=\"num\">", f);
    html_text(f, text);
    fputs("</td>", f);
}

static void table_head(FILE *f, const char *first, const column_t *cols, const char *extra)
{
    fputs("<table><thead><tr><th>", f);
    html_text(f, first);
    fputs("</th>", f);
    for (const column_t *c = cols; c->key; c++) {
        fputs("<th>", f);
        html_text(f, c->label);
        fputs("</th>", f);
    }
    if (extra)
        fprintf(f, "<th>%s</th>", extra);
    fputs("</tr></thead><tbody>\n", f);
}

/* One row: the name, then each column's figure of m under fig's section and group.
 * Left open (no </tr>) when more cells follow: more true. */
static void figure_row(FILE *f, figure_t *fig, const char *name, const ProtobufCMessage *m,
                       const column_t *cols, const char *cls, bool more)
{
    fprintf(f, "<tr%s%s%s><th scope=\"row\">", cls ? " class=\"" : "", cls ? cls : "",
            cls ? "\"" : "");
    html_words(f, name);
    fputs("</th>", f);
    for (const column_t *c = cols; c->key; c++) {
        figure_key(fig, c->key, pbfield_named(m, c->key));
        cell(f, fig);
    }
    if (!more)
        fputs("</tr>\n", f);
}

static void kpi(FILE *f, const figure_t *fig, const char *title)
{
    num_t text;
    fprintf(f, "<div class=\"kpi\"><div class=\"label\">%s</div><div class=\"value\"", title);
    figure_write(f, fig, FIGURE_HTML_ATTRS);
    fputc('>', f);
    html_text(f, figure_text(fig, text, sizeof text));
    fputs("</div></div>\n", f);
}

static void kpis(FILE *f, const Arrears__ReportSection *s)
{
    static const column_t total[] = {
        { "accounts", "Accounts" }, { "overdue_at_entry_minor", "Overdue at entry" },
        { "collected_minor", "Collected" }, { "collection_rate_bps", "Collection rate" },
        { "outstanding_minor", "Outstanding" }, { NULL, NULL } };
    static const column_t book[] = {
        { "cure_rate_bps", "Cure rate" }, { "promise_kept_rate_bps", "Promise-kept rate" },
        { NULL, NULL } };
    figure_t fig;
    figure_start(&fig, "book", s->platform, s->currency);
    figure_group(&fig, "all", NULL, NULL);
    fputs("<div class=\"kpis\">\n", f);
    for (const column_t *c = total; c->key; c++) {
        figure_key(&fig, c->key, pbfield_named((const ProtobufCMessage *)s->total, c->key));
        kpi(f, &fig, c->label);
    }
    for (const column_t *c = book; c->key; c++) {
        figure_key(&fig, c->key, pbfield_named(&s->base, c->key));
        kpi(f, &fig, c->label);
    }
    fprintf(f, "<div class=\"kpi\"><div class=\"label\">Mean cycle time</div><div class=\"value\">"
            "%.1f days</div></div>\n</div>\n",
            s->closed ? (double)s->cycle_days_total / (double)s->closed : 0.0);
}

static void group_rows(FILE *f, const Arrears__ReportSection *s, const char *section,
                       const char *title, Arrears__ReportGroup **g, size_t n)
{
    figure_t fig;
    figure_start(&fig, section, s->platform, s->currency);
    fprintf(f, "<tr class=\"sub\"><th colspan=\"6\">%s</th></tr>\n", title);
    for (size_t i = 0; i < n; i++) {
        figure_group(&fig, nz(g[i]->name), NULL, NULL);
        figure_row(f, &fig, g[i]->name, &g[i]->base, group_cols, NULL, false);
    }
}

static void book_table(FILE *f, const Arrears__ReportSection *s)
{
    figure_t fig;
    figure_start(&fig, "book", s->platform, s->currency);
    figure_group(&fig, "all", NULL, NULL);
    fputs("<h3>The book by stage, segment and strategy arm</h3>\n<p class=\"note\">Collection "
          "rate: collected over overdue at entry. Stage: where the accounts stand now.</p>\n", f);
    table_head(f, "Group", group_cols, NULL);
    figure_row(f, &fig, "all accounts", (const ProtobufCMessage *)s->total, group_cols, "total",
               false);
    group_rows(f, s, "stage", "By stage (now)", s->by_stage, s->n_by_stage);
    group_rows(f, s, "segment", "By segment", s->by_segment, s->n_by_segment);
    group_rows(f, s, "arm", "By strategy arm", s->by_arm, s->n_by_arm);
    fputs("</tbody></table>\n", f);
}

static void roll_figure(FILE *f, const Arrears__ReportSection *s, const char *month,
                        const char *latest)
{
    fputs("<figure class=\"chart\"><figcaption>", f);
    html_text(f, month);
    fputs(strcmp(month, latest) >= 0 ? " (month to date)" : "", f);
    fputs("</figcaption>\n", f);
    svg_roll_map(f, s, month);
    fputs("</figure>\n", f);
}

/* The latest full month first (the one a reader compares), the others folded below. */
static void roll_section(FILE *f, const Arrears__ReportSection *s, int64_t as_of_ms)
{
    const char *months[PAGE_MONTHS];
    size_t n = 0, shown = 0;
    char now[32];
    render_instant(as_of_ms, now, sizeof now);
    now[7] = '\0';   /* "YYYY-MM" of the book's clock (UTC): the month in progress */
    for (size_t i = 0; i < s->n_roll_rates; i++)
        n = render_add_name(months, n, PAGE_MONTHS, nz(s->roll_rates[i]->month));
    fputs("<h3>Roll rates</h3>\n<p class=\"note\">Of the accounts in a stage at a month's start "
          "(rows), the share in each stage at its end (columns), with the number of accounts. "
          "Accounts that entered during the month, or were already closed, do not roll.</p>\n", f);
    if (n == 0) {
        fputs("<p class=\"empty\">No month has begun with accounts on the book yet.</p>\n", f);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(months[i], now) < 0 && (shown == 0 || strcmp(months[i], months[shown - 1]) > 0))
            shown = i + 1;
    shown = shown ? shown : n;   /* no full month yet: the latest */
    roll_figure(f, s, months[shown - 1], now);
    if (n > 1) {
        fprintf(f, "<details><summary>The other %zu month(s)</summary>\n", n - 1);
        for (size_t i = 0; i < n; i++)
            if (i != shown - 1)
                roll_figure(f, s, months[i], now);
        fputs("</details>\n", f);
    }
}

static void recovery_table(FILE *f, const Arrears__ReportSection *s, const char *section,
                           const char *title, Arrears__RecoveryGroup **g, size_t n)
{
    figure_t fig;
    figure_start(&fig, section, s->platform, s->currency);
    fprintf(f, "<div><h3>Recovery by %s</h3>\n", title);
    table_head(f, title, recovery_cols, NULL);
    for (size_t i = 0; i < n; i++) {
        figure_group(&fig, nz(g[i]->name), NULL, NULL);
        figure_row(f, &fig, g[i]->name, &g[i]->base, recovery_cols, NULL, false);
    }
    fputs("</tbody></table></div>\n", f);
}

static void complaints_table(FILE *f, const Arrears__ReportSection *s)
{
    const Arrears__ComplaintFigures *c = s->complaint_figures;
    uint64_t answered = c ? c->answered_on_time + c->answered_late : 0;
    char mean[32];
    figure_t fig;
    figure_start(&fig, "complaints", s->platform, s->currency);
    figure_group(&fig, "all", NULL, NULL);
    fputs("<h3>Complaints and disputes against their response deadlines</h3>\n", f);
    table_head(f, "", complaint_cols, "Mean response");
    figure_row(f, &fig, "all", (const ProtobufCMessage *)c, complaint_cols, NULL, true);
    snprintf(mean, sizeof mean, "%.1f hours",
             answered ? (double)c->response_hours_total / (double)answered : 0.0);
    plain_cell(f, mean);
    fputs("</tr>\n</tbody></table>\n", f);
}

static void remittance_total(FILE *f, const gather_t *g, const Arrears__ReportSection *s)
{
    int64_t sum[5] = { 0 }, commission;
    num_t t;
    for (size_t i = 0; i < s->n_remittance; i++)
        for (int k = 0; k < 5; k++)
            sum[k] += pbfield_named(&s->remittance[i]->base, remit_cols[k].key);
    fputs("<tr class=\"total\"><th scope=\"row\">Total</th>", f);
    for (int k = 0; k < 5; k++)
        plain_cell(f, render_money(sum[k], s->currency, t, sizeof t));
    fputs("</tr>\n", f);
    int who = render_commission(g, s->currency, &commission);
    if (who < 0)
        return;
    fprintf(f, "<tr class=\"commission\"><th scope=\"row\" colspan=\"5\">Legal commission since "
            "the start (legal's firms and agencies%s)</th>", who ? "" : ", every platform in this "
            "currency together: not attributable to one");
    plain_cell(f, render_money(-commission, s->currency, t, sizeof t));
    fputs("</tr>\n", f);
    if (who == 1) {
        fputs("<tr class=\"total\"><th scope=\"row\" colspan=\"5\">Net after commission</th>", f);
        plain_cell(f, render_money(sum[4] - commission, s->currency, t, sizeof t));
        fputs("</tr>\n", f);
    }
}

static void remittance_table(FILE *f, const gather_t *g, const Arrears__ReportSection *s)
{
    figure_t fig;
    figure_start(&fig, "remittance", s->platform, s->currency);
    fputs("<h3>Monthly remittance statement to ", f);
    html_text(f, nz(s->platform));
    fputs("</h3>\n<p class=\"note\">Net: collected plus sale proceeds less legal costs. Legal's "
          "commission is reported per firm and agency, not by month: it is shown once, "
          "below.</p>\n", f);
    table_head(f, "Month", remit_cols, NULL);
    for (size_t i = 0; i < s->n_remittance; i++) {
        figure_group(&fig, nz(s->remittance[i]->month), NULL, NULL);
        figure_row(f, &fig, s->remittance[i]->month, &s->remittance[i]->base, remit_cols, NULL,
                   false);
    }
    remittance_total(f, g, s);
    fputs("</tbody></table>\n", f);
}

static void section_title(FILE *f, const char *id_prefix, size_t i, const char *what,
                          const char *platform, const char *currency)
{
    fprintf(f, "<section class=\"block\" id=\"%s%zu\">\n<h2>%s", id_prefix, i, what);
    html_text(f, nz(platform));
    fputs(" <span class=\"cur\">", f);
    html_text(f, nz(currency));
    fputs("</span></h2>\n", f);
}

static void outreach_tables(FILE *f, const Arrears__OutreachSection *o)
{
    figure_t fig;
    figure_start(&fig, "outreach_channel", o->platform, o->currency);
    fputs("<h3>Outreach by channel</h3>\n<p class=\"note\">Contact tasks by their state now; "
          "deferrals: each time the conduct gate put one off.</p>\n", f);
    table_head(f, "Channel", channel_cols, NULL);
    for (size_t i = 0; i < o->n_channels; i++) {
        figure_group(&fig, nz(o->channels[i]->channel), NULL, NULL);
        figure_row(f, &fig, o->channels[i]->channel, &o->channels[i]->base, channel_cols, NULL,
                   false);
    }
    fputs("</tbody></table>\n", f);
}

/* The bars and their table side by side: the picture and the exact counts. */
static void rules_block(FILE *f, const Arrears__OutreachSection *o)
{
    figure_t fig;
    fputs("<h3>Conduct refusals and deferrals by rule</h3>\n<p class=\"note\">Tasks the "
          "conduct gate refused, by the rule that refused them, and the deferral decisions it "
          "keeps, by rule.</p>\n", f);
    if (o->n_rules == 0) {
        fputs("<p class=\"empty\">No conduct decision yet.</p>\n", f);
        return;
    }
    fputs("<div class=\"side\">\n", f);
    svg_rules(f, o);
    figure_start(&fig, "conduct_rule", o->platform, o->currency);
    table_head(f, "Rule", rule_cols, NULL);
    for (size_t i = 0; i < o->n_rules; i++) {
        figure_group(&fig, nz(o->rules[i]->rule), NULL, NULL);
        figure_row(f, &fig, o->rules[i]->rule, &o->rules[i]->base, rule_cols, NULL, false);
    }
    fputs("</tbody></table>\n</div>\n", f);
}

static void profile_table(FILE *f, const Arrears__OutreachSection *o)
{
    figure_t fig;
    figure_start(&fig, "conduct_profile", o->platform, o->currency);
    fputs("<h3>By jurisdiction profile</h3>\n", f);
    table_head(f, "Profile / rule", profile_cols, NULL);
    for (size_t i = 0; i < o->n_profiles; i++) {
        const Arrears__OutreachProfileFigures *p = o->profiles[i];
        figure_group(&fig, nz(p->profile), "all", NULL);
        figure_row(f, &fig, *nz(p->profile) ? p->profile : "(not screened)", &p->base,
                   profile_cols, "total", false);
        for (size_t k = 0; k < p->n_rules; k++) {
            figure_group(&fig, nz(p->profile), nz(p->rules[k]->rule), NULL);
            fputs("<tr class=\"rule\"><th scope=\"row\">", f);
            html_words(f, p->rules[k]->rule);
            fputs("</th><td></td>", f);
            for (const column_t *c = rule_cols; c->key; c++) {
                figure_key(&fig, c->key, pbfield_named(&p->rules[k]->base, c->key));
                cell(f, &fig);
            }
            fputs("</tr>\n", f);
        }
    }
    fputs("</tbody></table>\n", f);
}

static void outreach_block(FILE *f, const Arrears__OutreachSection *o)
{
    outreach_tables(f, o);
    rules_block(f, o);
    profile_table(f, o);
}

static void staging_block(FILE *f, const gather_t *g, const Arrears__ReportSection *s, size_t i)
{
    section_title(f, "s", i, "", s->platform, s->currency);
    kpis(f, s);
    book_table(f, s);
    roll_section(f, s, g->staging->report->as_of_ms);
    fputs("<h3>Recovery curve by strategy arm</h3>\n<p class=\"note\">Collected over overdue "
          "at entry, cumulative, by whole months since each account's entry; each point over "
          "the arm's accounts on the book that long.</p>\n", f);
    if (s->n_recovery_curves)
        svg_curves(f, s);
    fputs("<div class=\"grid2\">\n", f);
    recovery_table(f, s, "channel", "channel", s->recovery_by_channel, s->n_recovery_by_channel);
    recovery_table(f, s, "stage_recovery", "stage", s->recovery_by_stage, s->n_recovery_by_stage);
    fputs("</div>\n", f);
    complaints_table(f, s);
    remittance_table(f, g, s);
    const Arrears__OutreachSection *o = render_outreach_of(g, s->platform, s->currency);
    if (o)
        outreach_block(f, o);
    fputs("</section>\n", f);
}

static void legal_block(FILE *f, const Arrears__LegalReport *l)
{
    static const column_t totals[] = {
        { "referrals", "Referrals" }, { "declined", "Declined" },
        { "waiting", "Waiting for an assignee" }, { NULL, NULL } };
    figure_t fig;
    figure_start(&fig, "legal", "", "");
    figure_group(&fig, "all", NULL, NULL);
    fputs("<section class=\"block\" id=\"legal\">\n<h2>Legal: firms and agencies</h2>\n"
          "<div class=\"kpis\">\n", f);
    for (const column_t *c = totals; c->key; c++) {
        figure_key(&fig, c->key, pbfield_named(&l->base, c->key));
        kpi(f, &fig, c->label);
    }
    fputs("</div>\n", f);
    for (size_t i = 0; i < l->n_declined_by_reason; i++) {
        fputs(i ? ", " : "<p class=\"note\">Declined: ", f);
        html_text(f, l->declined_by_reason[i]);
    }
    fputs(l->n_declined_by_reason ? "</p>\n" : "", f);
    table_head(f, "Assignee", assignee_cols, NULL);
    for (size_t i = 0; i < l->n_assignees; i++) {
        const Arrears__AssigneeFigures *a = l->assignees[i];
        char name[FIGURE_GROUP_MAX];
        figure_start(&fig, "legal_assignee", "", a->currency);
        figure_group(&fig, nz(a->assignee), NULL, NULL);
        snprintf(name, sizeof name, "%s (%s, %s)", nz(a->assignee), nz(a->kind), nz(a->currency));
        figure_row(f, &fig, name, &a->base, assignee_cols, NULL, false);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

static void sale_block(FILE *f, const Arrears__SaleReport *s)
{
    static const column_t totals[] = {
        { "listings", "Accounts listed" }, { "waiting", "Waiting for a portfolio" },
        { "portfolios", "Portfolios" }, { "awarded", "Awarded" }, { "unsold", "Unsold" },
        { "bids", "Bids" }, { "accounts_sold", "Accounts sold" },
        { "accounts_withdrawn", "Withdrawn" }, { "accounts_put_back", "Put back" },
        { NULL, NULL } };
    figure_t fig;
    figure_start(&fig, "sale", "", "");
    figure_group(&fig, "all", NULL, NULL);
    fputs("<section class=\"block\" id=\"sale\">\n<h2>Debt sale</h2>\n<div class=\"kpis\">\n", f);
    for (const column_t *c = totals; c->key; c++) {
        figure_key(&fig, c->key, pbfield_named(&s->base, c->key));
        kpi(f, &fig, c->label);
    }
    fputs("</div>\n<h3>Proceeds by currency</h3>\n", f);
    table_head(f, "Currency", proceeds_cols, NULL);
    for (size_t i = 0; i < s->n_proceeds; i++) {
        figure_start(&fig, "sale_proceeds", "", s->proceeds[i]->currency);
        figure_group(&fig, "all", NULL, NULL);
        figure_row(f, &fig, s->proceeds[i]->currency, &s->proceeds[i]->base, proceeds_cols, NULL,
                   false);
    }
    fputs("</tbody></table>\n</section>\n", f);
}

/* The page's look: a report a collections team prints or reads on a screen. Numbers
 * right-aligned in tabular figures; the charts' colours match the legend. */
static const char page_style[] =
    ":root{--ink:#1b2430;--muted:#5b6776;--line:#e1e6ec;--rule:#c5cfda;--bg:#f3f5f8;"
    "--accent:#1f4e79}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font:14px/1.45 \"Segoe UI\",Roboto,\"Helvetica Neue\",Arial,\"DejaVu Sans\","
    "sans-serif;color:var(--ink);background:var(--bg)}\n"
    "header{background:#14324f;color:#fff;padding:22px 36px 18px}\n"
    "header h1{margin:0;font-size:23px;font-weight:600;letter-spacing:.2px}\n"
    "header p{margin:6px 0 0;color:#c3d2e1;font-size:13px}\n"
    "nav{background:#fff;border-bottom:1px solid var(--line);padding:9px 36px;font-size:13px}\n"
    "nav a{color:var(--accent);text-decoration:none;margin-right:20px}\n"
    "main{padding:24px 36px;max-width:1360px}\n"
    ".block{background:#fff;border:1px solid var(--line);border-radius:8px;padding:20px 26px 14px;"
    "margin-bottom:26px;box-shadow:0 1px 2px rgba(20,40,70,.05)}\n"
    "h2{font-size:19px;margin:0 0 14px;font-weight:600}\n"
    "h2 .cur{font-size:13px;font-weight:600;color:#fff;background:var(--accent);border-radius:4px;"
    "padding:2px 7px;margin-left:8px;vertical-align:2px}\n"
    "h3{font-size:15px;margin:24px 0 4px;color:#1f3550;font-weight:600}\n"
    "p.note{color:var(--muted);font-size:12.5px;margin:0 0 10px;max-width:900px}\n"
    "p.empty{color:var(--muted);font-style:italic}\n"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0 10px}\n"
    "th,td{padding:5px 12px;border-bottom:1px solid var(--line)}\n"
    "thead th{text-align:right;font-weight:600;font-size:12px;color:var(--muted);"
    "border-bottom:2px solid var(--rule);vertical-align:bottom;max-width:150px}\n"
    "thead th:first-child,tbody th{text-align:left}\n"
    "tbody th{font-weight:500;white-space:nowrap}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "tr.total th,tr.total td{font-weight:650;background:#f6f8fb}\n"
    "tr.sub th{background:#eef2f7;color:#33475e;font-size:12px;text-transform:uppercase;"
    "letter-spacing:.4px;padding-top:7px}\n"
    "tr.rule th{padding-left:28px;font-weight:400;color:#33475e}\n"
    "tr.commission th,tr.commission td{color:#8a3b12}\n"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(138px,1fr));gap:10px;"
    "margin:4px 0 8px}\n"
    ".kpi{border:1px solid var(--line);border-radius:6px;padding:9px 12px;background:#f9fafc}\n"
    ".side{display:flex;flex-wrap:wrap;gap:12px 36px;align-items:flex-start}\n"
    ".kpi .label{color:var(--muted);font-size:12px;white-space:nowrap}\n"
    ".kpi .value{font-size:18px;font-weight:600;font-variant-numeric:tabular-nums;margin-top:2px}\n"
    ".grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 28px}\n"
    "figure.chart{margin:8px 0 14px}\n"
    "figcaption{font-size:13px;font-weight:600;color:#33475e;margin-bottom:4px}\n"
    "details summary{cursor:pointer;color:var(--accent);font-size:13px;margin:4px 0 8px}\n"
    "svg text{font-size:12px;fill:#33475e}\n"
    "svg text.axis-title{font-size:11.5px;fill:var(--muted)}\n"
    "svg text.on-dark{fill:#fff;font-size:11.5px}svg text.on-light{fill:#1b2430;font-size:11.5px}\n"
    "svg text.num{font-variant-numeric:tabular-nums}\n"
    "svg rect.empty{fill:#f7f8fa;stroke:#e8ecf1}\n"
    "svg line.grid{stroke:#e3e8ee}\n"
    "svg polyline.line{fill:none;stroke-width:2.5}\n"
    "svg circle.point{stroke:#fff;stroke-width:1.5}\n"
    "svg .refused{fill:#b5405a}svg .deferred{fill:#9fb7d3}\n"
    "footer{color:var(--muted);font-size:12px;padding:0 36px 30px;max-width:1100px}\n";

static void page_head(FILE *f, const gather_t *g)
{
    const Arrears__Report *r = g->staging->report;
    const Arrears__OutreachReport *o = g->outreach->outreach_report;
    char when[32], owhen[32];
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<title>Arrears report, %s</title>\n<style>\n%s</style></head><body>\n"
            "<header><h1>Arrears report</h1><p>Book as of %s (staging's clock); outreach as of %s. "
            "Money in each currency's units; rates as percentages.</p></header>\n<nav>",
            render_instant(r->as_of_ms, when, sizeof when), page_style, when,
            render_instant(o->as_of_ms, owhen, sizeof owhen));
    for (size_t i = 0; i < r->n_sections; i++) {
        fprintf(f, "<a href=\"#s%zu\">", i);
        html_text(f, nz(r->sections[i]->platform));
        fputc(' ', f);
        html_text(f, nz(r->sections[i]->currency));
        fputs("</a>", f);
    }
    fputs("<a href=\"#legal\">Legal</a><a href=\"#sale\">Sale</a></nav>\n<main>\n", f);
}

/* Outreach sections with no book of the same platform and currency (a currency staging
 * did not send, ""), and the tasks past the broker's limit. */
static void outreach_rest(FILE *f, const gather_t *g)
{
    const Arrears__OutreachReport *o = g->outreach->outreach_report;
    for (size_t i = 0; i < o->n_sections; i++) {
        const Arrears__OutreachSection *x = o->sections[i];
        if (render_has_book(g, x))
            continue;
        section_title(f, "o", i, "Outreach: ", x->platform, x->currency);
        outreach_block(f, x);
        fputs("</section>\n", f);
    }
    if (o->tasks_unreported) {
        figure_t fig;
        figure_start(&fig, "outreach", "", "");
        figure_group(&fig, "all", NULL, NULL);
        figure_key(&fig, "tasks_unreported", (int64_t)o->tasks_unreported);
        fputs("<section class=\"block\"><div class=\"kpis\">\n", f);
        kpi(f, &fig, "Outreach tasks past the report's limit");
        fputs("</div></section>\n", f);
    }
}

int render_html(FILE *f, const gather_t *g)
{
    const Arrears__Report *r = g->staging->report;
    page_head(f, g);
    for (size_t i = 0; i < r->n_sections; i++)
        staging_block(f, g, r->sections[i], i);
    outreach_rest(f, g);
    legal_block(f, g->legal->legal_report);
    sale_block(f, g->sale->sale_report);
    fputs("</main>\n<footer>Every figure on this page is a row of <code>arrears report --format "
          "csv</code> (section, platform, currency, group, key, value), carried by its cell or "
          "chart element as data attributes. Rates are truncated basis points; roll rates, "
          "totals and means are computed from the rows shown.</footer>\n</body></html>\n", f);
    return ferror(f) ? -1 : 0;
}
