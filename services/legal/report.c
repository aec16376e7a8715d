/* report: the legal report from the case records (see report.h). */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "money.h"

#define REPORT_MAX_ROWS 1024   /* assignee x currency rows */

typedef struct {
    Arrears__AssigneeFigures f;
    char currency[4];
    int64_t *days;             /* acceptance to judgment, per judged case */
    size_t n_days, cap_days;
} row_t;

typedef struct {
    const char *platform;
    legal_t *self;
    row_t *rows;
    size_t n_rows;
    uint64_t referrals, declined, waiting;
    uint64_t by_verdict[ELIGIBILITY_VERDICTS];
} tally_t;

static row_t *row_for(tally_t *t, const char *assignee, const char *currency)
{
    for (size_t i = 0; i < t->n_rows; i++)
        if (strcmp(t->rows[i].f.assignee, assignee) == 0 && strcmp(t->rows[i].currency, currency) == 0)
            return &t->rows[i];
    const assignee_t *a = legal_assignee(t->self, assignee);
    if (t->n_rows == REPORT_MAX_ROWS || !a)
        return NULL;   /* an assignee no longer configured is left out of the figures */
    row_t *r = &t->rows[t->n_rows++];
    r->f = (Arrears__AssigneeFigures)ARREARS__ASSIGNEE_FIGURES__INIT;
    r->f.assignee = (char *)a->principal;
    r->f.kind = a->kind == ASSIGNEE_FIRM ? "firm" : "agency";
    snprintf(r->currency, sizeof r->currency, "%s", currency);
    r->f.currency = r->currency;
    return r;
}

static void note_judgment(row_t *r, int64_t days)
{
    if (r->n_days == r->cap_days) {
        size_t cap = r->cap_days ? 2 * r->cap_days : 16;
        int64_t *d = realloc(r->days, cap * sizeof *d);
        if (!d)
            return;   /* the median leaves this one out rather than failing the report */
        r->days = d, r->cap_days = cap;
    }
    r->days[r->n_days++] = days;
}

/* A figure's sum; past int64 (no real book comes near) it stays at the most a figure
 * can show rather than wrap into a wrong number. */
static void add_money(int64_t *sum, int64_t minor)
{
    if (money_add(*sum, minor, sum) != MONEY_OK)
        *sum = INT64_MAX;
}

/* One step's contribution to its assignee's row. */
static void tally_step(row_t *r, const StoredCase *c, const StoredStep *s, int64_t *accepted_ms)
{
    const char *what = s->what ? s->what : "";
    if (strcmp(what, "offered") == 0) {
        r->f.cases++;
        add_money(&r->f.placed_minor, c->outstanding_minor);
    } else if (strcmp(what, "deadline_passed") == 0 || strcmp(what, "recalled") == 0) {
        r->f.recalled++;
    } else if (strcmp(what, "complaint") == 0) {
        r->f.complaints++;
    }
    if (strcmp(what, "platform_payment") != 0)
        add_money(&r->f.recovered_minor, s->recovery_minor);
    add_money(&r->f.commission_minor, s->commission_minor);
    add_money(&r->f.costs_minor, s->costs_minor);
    if (strcmp(what, "step") == 0 && s->status == ARREARS__CASE_STATUS__ACCEPTED)
        *accepted_ms = s->at_ms;
    if (strcmp(what, "step") == 0 && s->status == ARREARS__CASE_STATUS__JUDGMENT) {
        r->f.judgments++;
        if (*accepted_ms > 0)
            note_judgment(r, (s->at_ms - *accepted_ms) / ASSIGN_DAY_MS);
    }
}

static int tally_case(const StoredCase *c, void *arg)
{
    tally_t *t = arg;
    if (t->platform && *t->platform && strcmp(t->platform, c->platform) != 0)
        return 0;
    t->referrals++;
    bool ended = case_status_terminal((case_status_t)c->status);
    if (c->status == ARREARS__CASE_STATUS__DECLINED) {
        t->declined++;
        for (int v = 0; v < ELIGIBILITY_VERDICTS; v++)
            t->by_verdict[v] += strcmp(c->verdict ? c->verdict : "", eligibility_verdict_name(v)) == 0;
    }
    t->waiting += !ended && (!c->assignee || !*c->assignee);
    int64_t accepted_ms = 0;
    for (size_t i = 0; i < c->n_steps; i++) {
        const StoredStep *s = c->steps[i];
        row_t *r = s->assignee && *s->assignee ? row_for(t, s->assignee, c->currency) : NULL;
        if (r)
            tally_step(r, c, s, &accepted_ms);
    }
    row_t *now = !ended && c->assignee && *c->assignee ? row_for(t, c->assignee, c->currency) : NULL;
    if (now)
        now->f.open++;
    return 0;
}

static int by_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void finish_row(row_t *r)
{
    r->f.has_cases = r->f.has_open = r->f.has_judgments = r->f.has_recalled = 1;
    r->f.has_placed_minor = r->f.has_recovered_minor = r->f.has_costs_minor = 1;
    r->f.has_commission_minor = r->f.has_complaints = r->f.has_recovery_rate_bps = 1;
    int64_t rate = 0, rest = 0;
    if (r->f.placed_minor > 0 &&
        money_mul_div(r->f.recovered_minor, MONEY_BPS_ONE, r->f.placed_minor, &rate, &rest) == MONEY_OK)
        r->f.recovery_rate_bps = rate > UINT32_MAX ? UINT32_MAX : (uint32_t)rate;
    if (r->n_days > 0) {   /* the lower median: a whole day that occurred */
        qsort(r->days, r->n_days, sizeof *r->days, by_day);
        r->f.has_median_days_to_judgment = 1;
        r->f.median_days_to_judgment = (uint32_t)r->days[(r->n_days - 1) / 2];
    }
}

static size_t pack_report(tally_t *t, uint64_t request_id, uint8_t *buf, size_t cap,
                          reject_t *reject)
{
    Arrears__LegalReport rep = ARREARS__LEGAL_REPORT__INIT;
    Arrears__AssigneeFigures *ptrs[REPORT_MAX_ROWS];
    char reasons[ELIGIBILITY_VERDICTS][48];
    char *reason_ptrs[ELIGIBILITY_VERDICTS];
    for (size_t i = 0; i < t->n_rows; i++) {
        finish_row(&t->rows[i]);
        ptrs[i] = &t->rows[i].f;
    }
    rep.assignees = ptrs;
    rep.n_assignees = t->n_rows;
    rep.has_referrals = rep.has_declined = rep.has_waiting = 1;
    rep.referrals = t->referrals;
    rep.declined = t->declined;
    rep.waiting = t->waiting;
    for (int v = 1; v < ELIGIBILITY_VERDICTS; v++)
        if (t->by_verdict[v] > 0) {
            snprintf(reasons[rep.n_declined_by_reason], sizeof reasons[0], "%s=%llu",
                     eligibility_verdict_name(v), (unsigned long long)t->by_verdict[v]);
            reason_ptrs[rep.n_declined_by_reason] = reasons[rep.n_declined_by_reason];
            rep.n_declined_by_reason++;
        }
    rep.declined_by_reason = reason_ptrs;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_LEGAL_REPORT;
    env.legal_report = &rep;
    env.has_request_id = 1;
    env.request_id = request_id;
    size_t len = envelope_pack(&env, buf, cap);
    if (len == 0)
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__TOO_LARGE, "platform",
                              "the report is over the reply limit: ask per platform");
    return len;
}

size_t legal_report(legal_t *self, MDB_txn *txn, const Arrears__LegalReportQuery *q,
                    uint64_t request_id, uint8_t *buf, size_t cap, reject_t *reject)
{
    tally_t t = {.platform = q->platform, .self = self};
    t.rows = calloc(REPORT_MAX_ROWS, sizeof *t.rows);
    int rc = t.rows ? cases_each(self->cases, txn, tally_case, &t) : ENOMEM;
    size_t len = 0;
    if (rc == 0)
        len = pack_report(&t, request_id, buf, cap, reject);
    else
        (void)receiver_refuse(reject, ARREARS__REJECT__CODE__BUSY, NULL,
                              "the cases could not be read now: %s", cases_strerror(rc));
    for (size_t i = 0; t.rows && i < t.n_rows; i++)
        free(t.rows[i].days);
    free(t.rows);
    return len;
}
