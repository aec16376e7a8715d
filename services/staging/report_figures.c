/* report_figures: figures from the accounts' timelines (see report_figures.h). */
#include "report_figures.h"

#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "money.h"
#include "outreach.pb-c.h"
#include "tz.h"

#define DATE_YEAR_MIN 1970
#define DATE_YEAR_MAX 2200
#define MS_PER_HOUR INT64_C(3600000)

/* Report sums stay far inside int64 for real money; saturating keeps them defined for
 * any stored input. */
static void add_money(int64_t *sum, int64_t amount)
{
    int64_t out = 0;
    if (money_add(*sum, amount, &out) != MONEY_OK)
        out = amount < 0 ? INT64_MIN : INT64_MAX;
    *sum = out;
}

/* ---------------------------------------------------------------- months */

int32_t report_month_of_day(int32_t day)
{
    int32_t y;
    int m, d;
    tz_civil_from_days(day, &y, &m, &d);
    return y * 12 + (m - 1);
}

void report_month_text(int32_t month, char out[REPORT_MONTH_TEXT])
{
    int32_t y = month / 12;
    int m = (int)(month % 12) + 1;
    if (y < 0 || y > 9999)
        y = 0;
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    out[2] = (char)('0' + y / 10 % 10);
    out[3] = (char)('0' + y % 10);
    out[4] = '-';
    out[5] = (char)('0' + m / 10);
    out[6] = (char)('0' + m % 10);
    out[7] = '\0';
}

int32_t report_months_between(int32_t from_day, int32_t to_day)
{
    if (to_day <= from_day)
        return 0;
    int32_t y1, y2;
    int m1, d1, m2, d2;
    tz_civil_from_days(from_day, &y1, &m1, &d1);
    tz_civil_from_days(to_day, &y2, &m2, &d2);
    int32_t n = (y2 * 12 + m2) - (y1 * 12 + m1) - (d2 < d1 ? 1 : 0);
    return n > 0 ? n : 0;
}

void report_figures_init(report_figures_t *f, int32_t last_month, uint32_t months)
{
    memset(f, 0, sizeof *f);
    f->months = months < 1 ? 1 : months > REPORT_MONTHS_MAX ? REPORT_MONTHS_MAX : months;
    f->first_month = last_month - (int32_t)f->months + 1;
}

/* The window's index of month, -1 outside it. */
static int window_index(const report_figures_t *f, int32_t month)
{
    int32_t i = month - f->first_month;
    return i >= 0 && i < (int32_t)f->months ? (int)i : -1;
}

/* ---------------------------------------------------------------- one account */

void report_account_begin(report_account_t *a, int32_t entered_day, int32_t today_day,
                          uint32_t arm, int64_t overdue_at_entry_minor)
{
    memset(a, 0, sizeof *a);
    a->entered_day = entered_day;
    a->today_day = today_day;
    a->arm = arm;
    a->overdue_at_entry_minor = overdue_at_entry_minor;
    a->stage = -1;
    a->reached_channel = -1;
    memset(a->month_end, -1, sizeof a->month_end);
    memset(a->contact_channel, -1, sizeof a->contact_channel);
}

/* Months from a->month up to (not including) until ended in a->stage. Slot 0 stands for
 * every month before the window (only the last of them matters: the window's start). */
static void close_months(report_account_t *a, const report_figures_t *f, int32_t until)
{
    int32_t from = a->month > f->first_month - 1 ? a->month : f->first_month - 1;
    int32_t to = until < f->first_month + (int32_t)f->months ? until
                                                             : f->first_month + (int32_t)f->months;
    for (int32_t m = from; a->stage >= 0 && m < to; m++)
        a->month_end[m - f->first_month + 1] = (int8_t)a->stage;
}

static void note_stage(report_account_t *a, const report_figures_t *f, const report_event_t *ev)
{
    int32_t month = report_month_of_day(ev->day);
    if (a->stage >= 0 && month > a->month)
        close_months(a, f, month);
    if (a->stage < 0 || month > a->month)
        a->month = month;
    if (ev->stage < 0)
        return;
    bool was_delinquent = a->stage >= 0 && stage_is_delinquent((stage_t)a->stage);
    if (was_delinquent && (ev->stage == STAGE_CURRENT || ev->stage == STAGE_PRE_DUE))
        a->cured = true;
    a->delinquent |= stage_is_delinquent((stage_t)ev->stage);
    a->stage = ev->stage;
}

static void recover(report_recovery_t *g, uint32_t *paid_bits, unsigned bit, int64_t amount)
{
    g->payments++;
    add_money(&g->collected_minor, amount);
    if (!(*paid_bits & (UINT32_C(1) << bit)))
        g->accounts++;
    *paid_bits |= UINT32_C(1) << bit;
}

/* The payment's channel (report_figures.h, proto RecoveryGroup's rule), stage, age and
 * month. */
static void note_payment(report_account_t *a, report_figures_t *f, const report_event_t *ev)
{
    bool attributed = a->reached_channel >= 0 &&
                      ev->day - a->reached_day <= REPORT_ATTRIBUTION_DAYS;
    int channel = attributed ? a->reached_channel : REPORT_CHANNEL_NONE;
    recover(&f->by_channel[channel], &a->channel_paid, (unsigned)channel, ev->amount_minor);
    if (ev->stage >= 0 && ev->stage < STAGE_COUNT)
        recover(&f->by_stage[ev->stage], &a->stage_paid, (unsigned)ev->stage, ev->amount_minor);
    int32_t age = report_months_between(a->entered_day, ev->day);
    if (age < (int32_t)f->months)
        add_money(&a->paid_by_age[age], ev->amount_minor);
    int w = window_index(f, report_month_of_day(ev->day));
    if (w < 0)
        return;
    add_money(&f->remit[w].collected_minor, ev->amount_minor);
    if (ev->by_legal)
        add_money(&f->remit[w].legal_recovered_minor, ev->amount_minor);
    f->remit[w].any = true;
}

static void note_money(report_figures_t *f, const report_event_t *ev)
{
    int w = window_index(f, report_month_of_day(ev->day));
    if (w < 0)
        return;
    report_remit_t *r = &f->remit[w];
    if (ev->kind == REPORT_EV_LEGAL)
        add_money(&r->legal_costs_minor, ev->amount_minor);
    else if (ev->kind == REPORT_EV_SOLD)
        add_money(&r->sale_proceeds_minor, ev->amount_minor);
    else
        add_money(&r->sale_proceeds_minor, -ev->amount_minor);   /* a put-back's refund */
    r->any |= ev->amount_minor != 0;
}

static void note_contact(report_account_t *a, const report_event_t *ev)
{
    size_t slot = ev->contact_seq % REPORT_CONTACTS_KEPT;
    int channel = -1;
    if (ev->kind == REPORT_EV_CONTACT) {
        a->contact_channel[slot] = (int8_t)ev->channel;
        a->contact_seq[slot] = ev->contact_seq;
        return;
    }
    if (ev->kind == REPORT_EV_OUTCOME)
        channel = ev->reached ? ev->channel : -1;
    else if (ev->contact_seq && a->contact_seq[slot] == ev->contact_seq)
        channel = a->contact_channel[slot];   /* an agreement: its contact's channel */
    if (channel < 0)
        return;
    a->reached_channel = channel;
    a->reached_day = ev->day;
}

/* Complaints per hold kind: every open one is answered by the next lift of its hold;
 * an overdue note marks every one open then. */
static void note_complaint(report_account_t *a, report_figures_t *f, const report_event_t *ev)
{
    if (ev->hold != HOLD_COMPLAINT && ev->hold != HOLD_DISPUTE)
        return;
    report_held_t *h = &a->held[ev->hold == HOLD_DISPUTE];
    report_complaints_t *c = &f->complaints;
    if (ev->kind == REPORT_EV_COMPLAINT) {
        c->received++;
        h->open++;
        add_money(&h->received_ms_sum, ev->at_ms);
    } else if (ev->kind == REPORT_EV_OVERDUE) {
        h->overdue = h->open;
    } else if (h->open > 0) {
        uint64_t late = ev->late ? h->open : h->overdue;
        c->late += late;
        c->on_time += h->open - late;
        int64_t answered_ms = 0;
        if (money_mul(ev->at_ms, (int64_t)h->open, &answered_ms) != MONEY_OK)
            answered_ms = INT64_MAX;
        add_money(&c->response_ms, answered_ms - h->received_ms_sum);
        memset(h, 0, sizeof *h);
    }
}

void report_account_event(report_account_t *a, report_figures_t *f, const report_event_t *ev)
{
    if (a->stage < 0 && a->entered_day == ACCOUNT_DAY_NONE)
        a->entered_day = ev->day;
    switch (ev->kind) {
    case REPORT_EV_PAYMENT: note_payment(a, f, ev); break;
    case REPORT_EV_CONTACT:
    case REPORT_EV_OUTCOME:
    case REPORT_EV_AGREED: note_contact(a, ev); break;
    case REPORT_EV_LEGAL:
    case REPORT_EV_SOLD:
    case REPORT_EV_PUT_BACK: note_money(f, ev); break;
    case REPORT_EV_COMPLAINT:
    case REPORT_EV_ANSWERED:
    case REPORT_EV_OVERDUE: note_complaint(a, f, ev); break;
    default: break;
    }
    note_stage(a, f, ev);
}

static void add_rolls(const report_account_t *a, report_figures_t *f)
{
    for (uint32_t i = 0; i < f->months; i++) {
        int from = a->month_end[i], to = a->month_end[i + 1];
        if (from >= 0 && to >= 0 && !stage_is_terminal((stage_t)from))
            f->roll[i][from][to]++;
    }
}

/* The account counts at every month since entry it has reached, with what it paid up
 * to that month. */
static void add_curve(const report_account_t *a, report_figures_t *f)
{
    if (a->arm >= STRATEGY_MAX_ARMS || a->entered_day == ACCOUNT_DAY_NONE)
        return;
    int32_t age = report_months_between(a->entered_day, a->today_day);
    int64_t paid = 0;
    f->arm_seen[a->arm] = true;
    for (int32_t k = 0; k <= age && k < (int32_t)f->months; k++) {
        report_point_t *p = &f->curve[a->arm][k];
        add_money(&paid, a->paid_by_age[k]);
        p->accounts++;
        add_money(&p->overdue_minor, a->overdue_at_entry_minor);
        add_money(&p->collected_minor, paid);
    }
}

void report_account_end(report_account_t *a, report_figures_t *f)
{
    if (a->stage >= 0) {
        int32_t today = report_month_of_day(a->today_day);
        close_months(a, f, (today > a->month ? today : a->month) + 1);
    }
    add_rolls(a, f);
    add_curve(a, f);
    f->delinquent += a->delinquent;
    f->cured += a->cured;
    for (size_t i = 0; i < 2; i++) {
        f->complaints.open += a->held[i].open;
        f->complaints.open_overdue += a->held[i].overdue;
    }
}

/* ---------------------------------------------------------------- parsing entries */

/* The hold a reason starts with ("complaint received: ...", "dispute resolved ...",
 * "the complaint is unanswered ..." after skipping "the "): -1 unless complaint or
 * dispute. */
static int hold_in(const char *reason)
{
    if (!reason)
        return -1;
    if (strncmp(reason, "the ", 4) == 0)
        reason += 4;
    if (strncmp(reason, "complaint ", 10) == 0)
        return HOLD_COMPLAINT;
    if (strncmp(reason, "dispute ", 8) == 0)
        return HOLD_DISPUTE;
    return -1;
}

/* n of a contact id "<account_ref>#n"; 0 when it is not one. */
static uint32_t contact_seq_of(const char *reference)
{
    const char *hash = reference ? strrchr(reference, '#') : NULL;
    if (!hash || hash[1] < '1' || hash[1] > '9')
        return 0;
    char *end;
    unsigned long n = strtoul(hash + 1, &end, 10);
    return *end == '\0' && n <= UINT32_MAX ? (uint32_t)n : 0;
}

/* A contact entry's reason starts with staging's channel name ("sms early_sms_v1: ..."). */
static int request_channel(const char *reason)
{
    for (int c = 0; reason && c < CHANNEL_COUNT; c++) {
        const char *name = strategy_channel_name((strategy_channel_t)c);
        size_t n = strlen(name);
        if (strncmp(reason, name, n) == 0 && reason[n] == ' ')
            return c;
    }
    return -1;
}

/* An outcome entry's reason: "<ContactResult> by <Channel>[: detail]" (outcome.c). */
static void outcome_of(const char *reason, report_event_t *ev)
{
    char result[32], channel[32];
    const char *by = reason ? strstr(reason, " by ") : NULL;
    size_t n = by ? (size_t)(by - reason) : 0;
    if (!by || n == 0 || n >= sizeof result)
        return;
    memcpy(result, reason, n);
    result[n] = '\0';
    size_t m = strcspn(by + 4, ": ");
    if (m == 0 || m >= sizeof channel)
        return;
    memcpy(channel, by + 4, m);
    channel[m] = '\0';
    const ProtobufCEnumValue *r =
        protobuf_c_enum_descriptor_get_value_by_name(&arrears__contact_result__descriptor, result);
    const ProtobufCEnumValue *c =
        protobuf_c_enum_descriptor_get_value_by_name(&arrears__channel__descriptor, channel);
    if (!r || !c || c->value < ARREARS__CHANNEL__SMS || c->value > ARREARS__CHANNEL__VISIT)
        return;
    ev->channel = c->value - ARREARS__CHANNEL__SMS;   /* proto Channel - 1: strategy order */
    ev->reached = r->value != ARREARS__CONTACT_RESULT__FAILED &&
                  r->value != ARREARS__CONTACT_RESULT__NO_ANSWER &&
                  r->value != ARREARS__CONTACT_RESULT__WRONG_NUMBER &&
                  r->value != ARREARS__CONTACT_RESULT__NOT_ATTEMPTED;
}

static bool is(const char *text, const char *word)
{
    return text && strcmp(text, word) == 0;
}

static void classify(const Arrears__TimelineEntry *t, report_event_t *ev)
{
    const char *k = t->kind;
    bool outreach = is(t->actor, "outreach");
    if (is(k, "payment")) {
        ev->kind = REPORT_EV_PAYMENT;
        ev->by_legal = is(t->actor, "legal");
    } else if (is(k, "contact")) {
        ev->kind = REPORT_EV_CONTACT;
        ev->channel = request_channel(t->reason);
    } else if (is(k, "outcome")) {
        ev->kind = REPORT_EV_OUTCOME;
        outcome_of(t->reason, ev);
    } else if (outreach && (is(k, "promise") || is(k, "plan") || is(k, "settlement"))) {
        ev->kind = REPORT_EV_AGREED;
    } else if (is(k, "legal") || is(k, "sold") || is(k, "put_back")) {
        ev->kind = is(k, "legal") ? REPORT_EV_LEGAL : is(k, "sold") ? REPORT_EV_SOLD
                                                                     : REPORT_EV_PUT_BACK;
    } else if ((is(k, "hold") && t->reason && strstr(t->reason, " received")) ||
               is(k, "hold_lifted") || is(k, "complaint_overdue")) {
        ev->hold = hold_in(t->reason);
        ev->kind = ev->hold < 0 ? REPORT_EV_OTHER
                   : is(k, "hold") ? REPORT_EV_COMPLAINT
                   : is(k, "hold_lifted") ? REPORT_EV_ANSWERED : REPORT_EV_OVERDUE;
        ev->late = t->reason && strstr(t->reason, "after its deadline");
    }
}

bool report_event_parse(const Arrears__TimelineEntry *t, report_event_t *ev)
{
    int64_t day = 0;
    char why[96];
    memset(ev, 0, sizeof *ev);
    ev->channel = ev->hold = ev->stage = -1;
    if (!t->day || !tz_date_parse(t->day, DATE_YEAR_MIN, DATE_YEAR_MAX, &day, why, sizeof why))
        return false;
    ev->day = (int32_t)day;
    ev->at_ms = t->at_ms;
    ev->amount_minor = t->has_amount_minor ? t->amount_minor : 0;
    stage_t stage;
    if (t->stage && stage_from_name(t->stage, &stage) == STAGE_OK)
        ev->stage = (int)stage;
    ev->contact_seq = contact_seq_of(t->reference);
    classify(t, ev);
    return true;
}
