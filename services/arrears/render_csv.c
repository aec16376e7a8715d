/* render_csv: `arrears report --format csv` — every figure the services serve, long form,
 * one figure a row, for a spreadsheet or a program to recompute and compare.
 *
 * The header is `section,platform,currency,group,key,value`. value is an integer:
 * money in minor units of the row's currency, rates in basis points (1/10000), counts,
 * days and hours as they are. platform and currency are "" where a figure is not per
 * platform or has no currency. Fields are RFC 4180: one holding a comma, quote or line
 * break is quoted with quotes doubled (only a platform's name from outside could).
 * key is the proto field's own name, and every integer field of the message is a row
 * (strings and nested messages are not), in the proto's field order. Rows come in this
 * order: each staging section (Report.sections, as served: per platform and currency)
 * with all its sections below in the order listed, then each outreach section, then the
 * figures that are not per platform.
 *
 *   section           group                    keys (message)
 *   book              all                      ReportGroup of `total` (accounts,
 *                                              overdue_at_entry_minor, collected_minor,
 *                                              outstanding_minor, collection_rate_bps),
 *                                              then ReportSection's integers (promises_made
 *                                              .. sold, accounts_delinquent, accounts_cured,
 *                                              cure_rate_bps)
 *   stage             stage name (now)         ReportGroup
 *   segment           segment name             ReportGroup
 *   arm               strategy arm             ReportGroup
 *   roll              month|from_stage|to_stage  accounts (RollCell); the roll rate is
 *                                              the cell over its row's sum, not a row
 *   curve             arm|month since entry    accounts, overdue_at_entry_minor,
 *                                              collected_minor, recovery_rate_bps
 *                                              (CurvePoint, every point served)
 *   channel           channel (or none)        payments, accounts, collected_minor
 *                                              (RecoveryGroup of recovery_by_channel)
 *   stage_recovery    stage                    the same, of recovery_by_stage
 *   complaints        all                      ComplaintFigures (received, answered_on_time,
 *                                              answered_late, open, open_overdue,
 *                                              response_hours_total,
 *                                              response_ms_total); zeros when absent
 *   remittance        month (YYYY-MM)          collected_minor, legal_recovered_minor,
 *                                              legal_costs_minor, sale_proceeds_minor,
 *                                              net_minor (RemittanceMonth)
 *   outreach_channel  channel                  tasks, delivered, failed, not_attempted,
 *                                              cancelled, refused, open, deferrals
 *   conduct_rule      rule                     refused, deferred (OutreachRuleFigures)
 *   conduct_profile   profile|all              tasks, refused, deferrals
 *                     profile|rule             refused, deferred (a task never screened
 *                                              has profile "")
 *   outreach          all  (platform, currency "")  tasks_unreported
 *   legal_assignee    assignee (currency: its) cases, open, judgments, recalled,
 *                                              placed_minor, recovered_minor,
 *                                              recovery_rate_bps, costs_minor,
 *                                              commission_minor, median_days_to_judgment,
 *                                              complaints (AssigneeFigures)
 *   legal             all                      referrals, declined, waiting
 *   legal_declined    reason                   declined (from "reason=N")
 *   sale              all                      listings, waiting, portfolios, awarded,
 *                                              unsold, accounts_sold, accounts_withdrawn,
 *                                              accounts_put_back, bids
 *   sale_proceeds     all (currency: its)      price_minor, outstanding_minor
 *
 * e.g. `book,demo-platform,CNY,all,collected_minor,123456`,
 * `roll,demo-platform,CNY,2026-03|early|middle,accounts,4`,
 * `conduct_profile,demo-platform,CNY,us_reg_f|window,refused,2`,
 * `legal_assignee,,CNY,firm-national,recovered_minor,98000`. Derived figures the table
 * and page show (roll rates, mean response hours, net after commission) are not rows:
 * each is a quotient or difference of rows. */
#include "render.h"

static void csv_row(const figure_t *fig, void *arg)
{
    figure_write(arg, fig, FIGURE_CSV_ROW);
}

int render_csv(FILE *f, const gather_t *g)
{
    fputs("section,platform,currency,group,key,value\n", f);
    figures_each(g, csv_row, f);
    return ferror(f) ? -1 : 0;
}
