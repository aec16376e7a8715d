/* casefile: the case file in HTML and machine form (see casefile.h). */
#include "casefile.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "money.h"

void casefile_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default: fputc(*s, out);
        }
    }
}

/* A table cell with escaped text. */
static void cell(FILE *out, const char *s)
{
    fputs("<td>", out);
    casefile_escape(out, s);
    fputs("</td>", out);
}

static void money_cell(FILE *out, int64_t minor, const char *currency)
{
    char text[MONEY_FORMAT_MAX];
    if (money_format(minor, currency, text, sizeof text) != MONEY_OK)
        snprintf(text, sizeof text, "%lld", (long long)minor);
    fputs("<td class=\"amount\">", out);
    fputs(text, out);
    fputs("</td>", out);
}

static void row(FILE *out, const char *label, const char *value)
{
    fputs("<tr><th>", out);
    casefile_escape(out, label);
    fputs("</th>", out);
    cell(out, value ? value : "");
    fputs("</tr>\n", out);
}

static void utc_text(int64_t ms, char out[32])
{
    time_t s = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%d %H:%M UTC", &tm);
}

static const char *product_name(int p)
{
    static const char *const names[] = {"unspecified", "online loan", "credit card",
                                        "instalment loan", "buy now, pay later"};
    return p >= 0 && p <= 4 ? names[p] : "unknown";
}

static void parties(FILE *out, const char *case_id, const Arrears__LegalReferral *r,
                    int64_t built_at_ms)
{
    char built[32], referred[32], dpd[16];
    utc_text(built_at_ms, built);
    utc_text(r->referred_at_ms, referred);
    snprintf(dpd, sizeof dpd, "%d", (int)r->days_past_due);
    fputs("<h2>The case</h2>\n<table>\n", out);
    row(out, "Case", case_id);
    row(out, "Creditor (platform)", r->platform);
    row(out, "Account", r->account_ref);
    row(out, "Product", product_name(r->product));
    row(out, "Jurisdiction", r->jurisdiction);
    row(out, "Referred", referred);
    row(out, "Reason for referral", r->reason);
    row(out, "Days past due", dpd);
    row(out, "First missed due date", r->first_missed_due_date);
    row(out, "Last payment", r->last_payment_date ? r->last_payment_date : "never");
    row(out, "File built", built);
    fputs("</table>\n", out);
    const Arrears__CaseStatement *st = r->statement;
    const Arrears__Borrower *b = st ? st->borrower : NULL;
    fputs("<h2>The borrower</h2>\n<table>\n", out);
    row(out, "Name", b ? b->name : "(not in the statement)");
    const Arrears__Address *a = b ? b->address : NULL;
    char place[512] = "";
    if (a)
        snprintf(place, sizeof place, "%s %s, %s %s, %s, %s", a->line1 ? a->line1 : "",
                 a->line2 ? a->line2 : "", a->postal_code ? a->postal_code : "",
                 a->city ? a->city : "", a->region ? a->region : "",
                 a->country ? a->country : "");
    row(out, "Address", place);
    row(out, "Time zone", r->time_zone);
    fputs("</table>\n", out);
}

static void owed(FILE *out, const Arrears__LegalReferral *r)
{
    const char *c = r->currency;
    fputs("<h2>What is owed</h2>\n<table>\n<tr><th>Principal</th><th>Interest</th>"
          "<th>Penalty</th><th>Fees</th><th>Total</th><th>Currency</th></tr>\n<tr>", out);
    money_cell(out, r->principal_minor, c);
    money_cell(out, r->interest_minor, c);
    money_cell(out, r->penalty_minor, c);
    money_cell(out, r->fees_minor, c);
    money_cell(out, r->outstanding_minor, c);
    cell(out, c);
    fputs("</tr>\n</table>\n", out);
}

static const char *period_name(Arrears__RatePeriod p)
{
    return p == ARREARS__RATE_PERIOD__PER_DAY ? "per day" : p == ARREARS__RATE_PERIOD__PER_YEAR
                                                             ? "per year (ACT/365)" : "";
}

static void contract(FILE *out, const Arrears__CaseStatement *st, const char *c)
{
    const Arrears__ContractRates *k = st->rates;
    char text[96];
    fputs("<h2>The contract</h2>\n<table>\n", out);
    if (k) {
        snprintf(text, sizeof text, "%lld bps %s", (long long)k->interest_bps,
                 period_name(k->interest_period));
        row(out, "Interest", text);
        snprintf(text, sizeof text, "%lld bps %s", (long long)k->penalty_bps,
                 period_name(k->penalty_period));
        row(out, "Penalty interest", text);
        snprintf(text, sizeof text, "%lld bps per year", (long long)k->penalty_cap_bps);
        row(out, "Cap on interest and penalty", k->penalty_cap_bps ? text : "the jurisdiction's");
    }
    fputs("</table>\n<h3>Schedule</h3>\n<table>\n<tr><th>Due</th><th>Principal</th>"
          "<th>Interest</th><th>Fees</th><th>Penalty</th><th>Paid</th><th>Outstanding</th></tr>\n",
          out);
    for (size_t i = 0; i < st->n_schedule; i++) {
        const Arrears__StatementInstalment *in = st->schedule[i];
        fputs("<tr>", out);
        cell(out, in->due_date);
        money_cell(out, in->principal_minor, c);
        money_cell(out, in->interest_minor, c);
        money_cell(out, in->fees_minor, c);
        money_cell(out, in->penalty_minor, c);
        money_cell(out, in->paid_minor, c);
        money_cell(out, in->outstanding_minor, c);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

/* Each run of days with its base, rate and exact total, then the sum: the figure a
 * court checks against the claim. */
static void penalty(FILE *out, const Arrears__CaseStatement *st, const char *c)
{
    fputs("<h2>Penalty interest, day by day</h2>\n<p>Each day accrues base &times; rate "
          "in integers; the remainder carries to the next day, so each line is exact.</p>\n"
          "<table>\n<tr><th>Instalment due</th><th>From</th><th>To</th><th>Base</th>"
          "<th>Rate</th><th>Accrued</th><th>Note</th></tr>\n", out);
    int64_t total = st->penalty_brought_forward_minor;
    if (total != 0) {
        fputs("<tr><td colspan=\"5\">brought forward</td>", out);
        money_cell(out, total, c);
        fputs("<td></td></tr>\n", out);
    }
    for (size_t i = 0; i < st->n_penalty; i++) {
        const Arrears__PenaltyLine *l = st->penalty[i];
        char rate[64];
        snprintf(rate, sizeof rate, "%lld bps %s", (long long)l->rate_bps, period_name(l->period));
        fputs("<tr>", out);
        cell(out, l->instalment_due_date);
        cell(out, l->from_date);
        cell(out, l->to_date);
        money_cell(out, l->base_minor, c);
        cell(out, rate);
        money_cell(out, l->accrued_minor, c);
        cell(out, l->capped ? "cut by the annual cap" : "");
        fputs("</tr>\n", out);
        if (money_add(total, l->accrued_minor, &total) != MONEY_OK)
            total = INT64_MAX;
    }
    fputs("<tr class=\"total\"><td colspan=\"5\">Total penalty accrued</td>", out);
    money_cell(out, total, c);
    fputs("<td></td></tr>\n</table>\n", out);
}

static void record(FILE *out, const Arrears__CaseStatement *st, const char *c)
{
    fputs("<h2>The collection record</h2>\n", out);
    if (st->record_first_seq > 1)
        fprintf(out, "<p>Entries from %u on (earlier ones are at staging).</p>\n",
                (unsigned)st->record_first_seq);
    fputs("<table>\n<tr><th>#</th><th>Day</th><th>By</th><th>What</th><th>Why</th>"
          "<th>Amount</th><th>Reference</th><th>Stage</th></tr>\n", out);
    for (size_t i = 0; i < st->n_record; i++) {
        const Arrears__TimelineEntry *e = st->record[i];
        char seq[16];
        snprintf(seq, sizeof seq, "%u", (unsigned)e->seq);
        fputs("<tr>", out);
        cell(out, seq);
        cell(out, e->day);
        cell(out, e->actor);
        cell(out, e->kind);
        cell(out, e->reason);
        if (e->amount_minor != 0)
            money_cell(out, e->amount_minor, c);
        else
            cell(out, "");
        cell(out, e->reference);
        cell(out, e->stage);
        fputs("</tr>\n", out);
    }
    fputs("</table>\n", out);
}

static int html(const char *case_id, const Arrears__LegalReferral *r, int64_t built_at_ms,
                casefile_t *f)
{
    FILE *out = open_memstream(&f->html, &f->html_len);
    if (!out)
        return CASEFILE_ENOMEM;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Case file ",
          out);
    casefile_escape(out, case_id);
    fputs("</title>\n<style>body{font-family:sans-serif;margin:2em}table{border-collapse:"
          "collapse;margin-bottom:1em}td,th{border:1px solid #999;padding:2px 6px;text-align:"
          "left}td.amount{text-align:right}tr.total{font-weight:bold}</style>\n</head><body>\n"
          "<h1>Case file ", out);
    casefile_escape(out, case_id);
    fputs("</h1>\n", out);
    parties(out, case_id, r, built_at_ms);
    owed(out, r);
    if (r->statement) {
        contract(out, r->statement, r->currency);
        penalty(out, r->statement, r->currency);
        record(out, r->statement, r->currency);
    } else {
        fputs("<p>Staging sent no statement with this referral.</p>\n", out);
    }
    fputs("</body></html>\n", out);
    return fclose(out) == 0 ? CASEFILE_OK : CASEFILE_ENOMEM;
}

int casefile_build(const char *case_id, const Arrears__LegalReferral *r, int64_t built_at_ms,
                   size_t max_bytes, casefile_t *out)
{
    memset(out, 0, sizeof *out);
    Arrears__CaseFile m = ARREARS__CASE_FILE__INIT;
    m.case_id = (char *)case_id;
    m.has_built_at_ms = 1;
    m.built_at_ms = built_at_ms;
    m.referral = (Arrears__LegalReferral *)r;
    out->machine_len = arrears__case_file__get_packed_size(&m);
    if (out->machine_len > max_bytes)
        return CASEFILE_ETOO_LARGE;
    out->machine = malloc(out->machine_len ? out->machine_len : 1);
    if (!out->machine)
        return CASEFILE_ENOMEM;
    arrears__case_file__pack(&m, out->machine);
    int rc = html(case_id, r, built_at_ms, out);
    if (rc == CASEFILE_OK && out->html_len > max_bytes)
        rc = CASEFILE_ETOO_LARGE;
    if (rc != CASEFILE_OK)
        casefile_free(out);
    return rc;
}

void casefile_free(casefile_t *f)
{
    free(f->html);
    free(f->machine);
    memset(f, 0, sizeof *f);
}
