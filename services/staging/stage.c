/* stage: DPD ranges, the transition table and overlay holds. See stage.h. */
#include "stage.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const stage_name_list[STAGE_COUNT + 1] = {
    [STAGE_CURRENT] = "current",         [STAGE_PRE_DUE] = "pre_due",
    [STAGE_EARLY] = "early",             [STAGE_MIDDLE] = "middle",
    [STAGE_LATE] = "late",               [STAGE_CHARGED_OFF] = "charged_off",
    [STAGE_LEGAL] = "legal",             [STAGE_SALE] = "sale",
    [STAGE_PAID] = "paid",               [STAGE_SETTLED] = "settled",
    [STAGE_RECALLED] = "recalled",       [STAGE_SOLD] = "sold",
    [STAGE_WRITTEN_OFF] = "written_off", [STAGE_COUNT] = NULL,
};

static const char *const event_name_list[STAGE_EVENT_COUNT] = {
    [STAGE_EVENT_DPD] = "dpd",
    [STAGE_EVENT_PAID] = "paid",
    [STAGE_EVENT_SETTLED] = "settled",
    [STAGE_EVENT_RECALLED] = "recalled",
    [STAGE_EVENT_WRITTEN_OFF] = "written_off",
    [STAGE_EVENT_REFER_LEGAL] = "refer_legal",
    [STAGE_EVENT_LEGAL_RETURNED] = "legal_returned",
    [STAGE_EVENT_LIST_FOR_SALE] = "list_for_sale",
    [STAGE_EVENT_SALE_WITHDRAWN] = "sale_withdrawn",
    [STAGE_EVENT_SOLD] = "sold",
    [STAGE_EVENT_PUT_BACK] = "put_back",
};

static const char *const hold_name_list[HOLD_COUNT] = {
    [HOLD_COMPLAINT] = "complaint",   [HOLD_DISPUTE] = "dispute",
    [HOLD_CEASE_CONTACT] = "cease_contact", [HOLD_BANKRUPTCY] = "bankruptcy",
    [HOLD_DECEASED] = "deceased",     [HOLD_LITIGATION] = "litigation",
    [HOLD_MANUAL] = "manual",
};

/* Index of a delinquent stage in stage_ranges_t's arrays. */
static const stage_t range_stage[STAGE_RANGE_COUNT] = {
    STAGE_EARLY, STAGE_MIDDLE, STAGE_LATE, STAGE_CHARGED_OFF,
};

const char *stage_name(stage_t stage)
{
    return (unsigned)stage < STAGE_COUNT ? stage_name_list[stage] : "unknown";
}

const char *const *stage_names(void)
{
    return stage_name_list;
}

int stage_from_name(const char *name, stage_t *stage)
{
    assert(name && stage);
    for (int i = 0; i < STAGE_COUNT; i++) {
        if (strcmp(name, stage_name_list[i]) == 0) {
            *stage = (stage_t)i;
            return STAGE_OK;
        }
    }
    return STAGE_EUNKNOWN;
}

const char *stage_event_name(stage_event_kind_t kind)
{
    return (unsigned)kind < STAGE_EVENT_COUNT ? event_name_list[kind] : "unknown";
}

bool stage_is_terminal(stage_t stage)
{
    return stage >= STAGE_PAID && stage < STAGE_COUNT;
}

bool stage_is_dpd_driven(stage_t stage)
{
    return stage >= STAGE_CURRENT && stage <= STAGE_CHARGED_OFF;
}

bool stage_is_delinquent(stage_t stage)
{
    return stage >= STAGE_EARLY && stage <= STAGE_CHARGED_OFF;
}

/* ---------------------------------------------------------------- DPD ranges */

stage_ranges_t stage_ranges_default(void)
{
    return (stage_ranges_t){
        .reminder_days = 3,
        .from_dpd = {1, 31, 61, 91},
        .to_dpd = {30, 60, 90, INT32_MAX},
        .put_back_window_days = 90,
    };
}

stage_t stage_for_dpd(const stage_ranges_t *ranges, int32_t dpd, int32_t days_to_due)
{
    assert(ranges && dpd >= 0);
    if (dpd == 0) {
        assert(days_to_due >= 0);
        return days_to_due <= ranges->reminder_days ? STAGE_PRE_DUE : STAGE_CURRENT;
    }
    /* The ranges are contiguous from DPD 1 and the last is open (checked at load), so
     * the first range whose end is not before dpd holds it. */
    for (int i = 0; i < STAGE_RANGE_COUNT; i++)
        if (dpd <= ranges->to_dpd[i])
            return range_stage[i];
    return STAGE_CHARGED_OFF;
}

/* "file:line: why" about setting s; returns STAGE_ECONFIG. */
#define range_error(conf, s, err, err_len, ...) \
    conf_error_at(conf, s, STAGE_ECONFIG, err, err_len, __VA_ARGS__)

/* The setting name under group, NULL when absent. */
static const config_setting_t *member(const config_setting_t *group, const char *name)
{
    return config_setting_get_member(group, name);
}

/* One delinquent range: its group must be there, with from_dpd (and to_dpd unless it is
 * charged_off, which has no end). */
static int load_range(const conf_t *conf, const config_setting_t *group, int i,
                      stage_ranges_t *ranges, const config_setting_t **from_setting,
                      char *err, size_t err_len)
{
    const char *name = stage_name(range_stage[i]);
    bool last = i == STAGE_RANGE_COUNT - 1;
    const config_setting_t *rg = member(group, name);
    if (!rg)
        return range_error(conf, group, err, err_len,
                           "%s: the %s range is missing (all four of early, middle, "
                           "late, charged_off are required)",
                           config_setting_name(group), name);
    if (!config_setting_is_group(rg))
        return range_error(conf, rg, err, err_len, "%s must be a group { from_dpd = ..; }",
                           name);
    if (last && member(rg, "to_dpd"))
        return range_error(conf, member(rg, "to_dpd"), err, err_len,
                           "charged_off has no end: remove to_dpd (every DPD beyond "
                           "late is charged off)");
    static const char *const keys[] = {"from_dpd", "to_dpd", NULL};
    static const char *const last_keys[] = {"from_dpd", NULL};
    if (conf_check_keys_at(conf, rg, last ? last_keys : keys, err, err_len) != CONF_OK)
        return STAGE_ECONFIG;
    *from_setting = member(rg, "from_dpd");
    if (!*from_setting)
        return range_error(conf, rg, err, err_len, "%s: from_dpd is required", name);
    int64_t from, to = INT32_MAX;
    if (conf_int64_at(conf, rg, "from_dpd", 1, 1, STAGE_MAX_DPD, &from, err, err_len))
        return STAGE_ECONFIG;
    if (!last) {
        if (!member(rg, "to_dpd"))
            return range_error(conf, rg, err, err_len, "%s: to_dpd is required", name);
        if (conf_int64_at(conf, rg, "to_dpd", 1, 1, STAGE_MAX_DPD, &to, err, err_len))
            return STAGE_ECONFIG;
        if (to < from)
            return range_error(conf, member(rg, "to_dpd"), err, err_len,
                               "%s ends (to_dpd %lld) before it starts (from_dpd %lld)",
                               name, (long long)to, (long long)from);
    }
    ranges->from_dpd[i] = (int32_t)from;
    ranges->to_dpd[i] = (int32_t)to;
    return STAGE_OK;
}

/* Each range must start the day after the previous one ends, the first at DPD 1. */
static int check_contiguous(const conf_t *conf, const stage_ranges_t *r, int i,
                            const config_setting_t *from_setting, char *err,
                            size_t err_len)
{
    int64_t expected = i == 0 ? 1 : (int64_t)r->to_dpd[i - 1] + 1;
    int64_t from = r->from_dpd[i];
    const char *name = stage_name(range_stage[i]);
    const char *before = i == 0 ? "DPD 0 (current or pre_due)" : stage_name(range_stage[i - 1]);
    if (from > expected)
        return range_error(conf, from_setting, err, err_len,
                           "gap: DPD %lld to %lld has no stage (%s starts at %lld; it "
                           "must start the day after %s ends, at %lld)",
                           (long long)expected, (long long)(from - 1), name,
                           (long long)from, before, (long long)expected);
    if (from < expected)
        return range_error(conf, from_setting, err, err_len,
                           "overlap: DPD %lld to %lld is in both %s and %s (%s must "
                           "start at %lld)",
                           (long long)from, (long long)(expected - 1), before, name, name,
                           (long long)expected);
    return STAGE_OK;
}

int stage_ranges_load(const conf_t *conf, const char *group_path, stage_ranges_t *ranges,
                      char *err, size_t err_len)
{
    assert(conf && group_path && ranges);
    stage_ranges_t r = stage_ranges_default();
    const config_setting_t *group = conf_lookup(conf, group_path);
    if (!group) {
        *ranges = r;
        return STAGE_OK;
    }
    static const char *const keys[] = {"reminder_days", "early", "middle", "late",
                                       "charged_off", "put_back_window_days", NULL};
    if (conf_check_keys_at(conf, group, keys, err, err_len) != CONF_OK)
        return STAGE_ECONFIG;
    int64_t value;
    if (conf_int64_at(conf, group, "reminder_days", r.reminder_days, 0,
                      STAGE_MAX_REMINDER_DAYS, &value, err, err_len))
        return STAGE_ECONFIG;
    r.reminder_days = (int32_t)value;
    if (conf_int64_at(conf, group, "put_back_window_days", r.put_back_window_days, 0,
                      STAGE_MAX_DPD, &value, err, err_len))
        return STAGE_ECONFIG;
    r.put_back_window_days = (int32_t)value;
    for (int i = 0; i < STAGE_RANGE_COUNT; i++) {
        const config_setting_t *from_setting = NULL;
        int rc = load_range(conf, group, i, &r, &from_setting, err, err_len);
        if (rc == STAGE_OK)
            rc = check_contiguous(conf, &r, i, from_setting, err, err_len);
        if (rc != STAGE_OK)
            return rc;
    }
    *ranges = r;
    return STAGE_OK;
}

/* ---------------------------------------------------------------- transitions */

#define FROM(stage) (UINT32_C(1) << (stage))
#define FROM_NON_TERMINAL                                                              \
    (FROM(STAGE_CURRENT) | FROM(STAGE_PRE_DUE) | FROM(STAGE_EARLY) | FROM(STAGE_MIDDLE) \
     | FROM(STAGE_LATE) | FROM(STAGE_CHARGED_OFF) | FROM(STAGE_LEGAL) | FROM(STAGE_SALE))
#define FROM_DELINQUENT \
    (FROM(STAGE_EARLY) | FROM(STAGE_MIDDLE) | FROM(STAGE_LATE) | FROM(STAGE_CHARGED_OFF))
#define FROM_DPD_DRIVEN (FROM(STAGE_CURRENT) | FROM(STAGE_PRE_DUE) | FROM_DELINQUENT)

#define TO_DPD_STAGE (-1)   /* the stage DPD says (event.dpd, event.days_to_due) */
#define TO_SAME (-2)        /* the event changes nothing in this stage */

/* The whole transition table: an event is legal only from the stages of a row for it;
 * a (stage, event) pair without a row is refused. */
static const struct {
    stage_event_kind_t event;
    uint32_t from;
    int to;
} rules[] = {
    {STAGE_EVENT_DPD, FROM_DPD_DRIVEN, TO_DPD_STAGE},
    /* In legal or listed for sale, DPD goes on counting but the stage is the case's. */
    {STAGE_EVENT_DPD, FROM(STAGE_LEGAL) | FROM(STAGE_SALE), TO_SAME},
    {STAGE_EVENT_PAID, FROM_NON_TERMINAL, STAGE_PAID},
    {STAGE_EVENT_SETTLED, FROM_NON_TERMINAL, STAGE_SETTLED},
    {STAGE_EVENT_RECALLED, FROM_NON_TERMINAL, STAGE_RECALLED},
    {STAGE_EVENT_WRITTEN_OFF, FROM_NON_TERMINAL, STAGE_WRITTEN_OFF},
    /* Only something overdue can be referred: a current account has nothing to sue for. */
    {STAGE_EVENT_REFER_LEGAL, FROM_DELINQUENT, STAGE_LEGAL},
    {STAGE_EVENT_LEGAL_RETURNED, FROM(STAGE_LEGAL), TO_DPD_STAGE},
    {STAGE_EVENT_LIST_FOR_SALE, FROM(STAGE_CHARGED_OFF), STAGE_SALE},
    {STAGE_EVENT_SALE_WITHDRAWN, FROM(STAGE_SALE), TO_DPD_STAGE},
    {STAGE_EVENT_SOLD, FROM(STAGE_SALE), STAGE_SOLD},
    /* The one way out of a terminal stage; the window is checked in stage_next. */
    {STAGE_EVENT_PUT_BACK, FROM(STAGE_SOLD), TO_DPD_STAGE},
};

static void say(char *reason, size_t reason_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(char *reason, size_t reason_len, const char *fmt, ...)
{
    if (!reason || reason_len == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(reason, reason_len, fmt, args);
    va_end(args);
}

static int refuse(stage_t current, const stage_event_t *event, stage_t *next,
                  char *reason, size_t reason_len)
{
    *next = current;
    if (stage_is_terminal(current))
        say(reason, reason_len, "%s is terminal: %s refused", stage_name(current),
            stage_event_name(event->kind));
    else
        say(reason, reason_len, "%s refused in stage %s", stage_event_name(event->kind),
            stage_name(current));
    return STAGE_EILLEGAL;
}

/* A put back is legal only within the window after the sale (day counts inclusive:
 * the last day of the window is sold_day + window). */
static bool put_back_in_window(const stage_ranges_t *ranges, const stage_event_t *event)
{
    int64_t since = (int64_t)event->day - event->sold_day;
    return since >= 0 && since <= ranges->put_back_window_days;
}

int stage_next(const stage_ranges_t *ranges, stage_t current, const stage_event_t *event,
               stage_t *next, char *reason, size_t reason_len)
{
    assert(ranges && event && next && (unsigned)current < STAGE_COUNT);
    assert((unsigned)event->kind < STAGE_EVENT_COUNT);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        if (rules[i].event != event->kind || !(rules[i].from & FROM(current)))
            continue;
        if (event->kind == STAGE_EVENT_PUT_BACK && !put_back_in_window(ranges, event)) {
            *next = current;
            say(reason, reason_len,
                "put_back refused: day %d is %lld days after the sale on day %d; the "
                "window is %d days",
                (int)event->day, (long long)event->day - event->sold_day,
                (int)event->sold_day, (int)ranges->put_back_window_days);
            return STAGE_EWINDOW;
        }
        if (rules[i].to == TO_SAME)
            *next = current;
        else if (rules[i].to == TO_DPD_STAGE)
            *next = stage_for_dpd(ranges, event->dpd, event->days_to_due);
        else
            *next = (stage_t)rules[i].to;
        if (*next == current)
            say(reason, reason_len, "%s: stays %s", stage_event_name(event->kind),
                stage_name(current));
        else
            say(reason, reason_len, "%s -> %s: %s", stage_name(current),
                stage_name(*next), stage_event_name(event->kind));
        return STAGE_OK;
    }
    return refuse(current, event, next, reason, reason_len);
}

/* ---------------------------------------------------------------- holds */

void holds_init(holds_t *holds)
{
    assert(holds);
    holds->bits = 0;
    for (int i = 0; i < HOLD_COUNT; i++) {
        holds->since_day[i] = STAGE_NO_DAY;
        holds->deadline_day[i] = STAGE_NO_DAY;
    }
}

void holds_place(holds_t *holds, hold_kind_t kind, int32_t day, int32_t deadline_day)
{
    assert(holds && (unsigned)kind < HOLD_COUNT);
    if (!(holds->bits & HOLD_BIT(kind))) {
        holds->bits |= HOLD_BIT(kind);
        holds->since_day[kind] = day;
        holds->deadline_day[kind] = deadline_day;
        return;
    }
    int32_t old = holds->deadline_day[kind];
    if (old == STAGE_NO_DAY || (deadline_day != STAGE_NO_DAY && deadline_day < old))
        holds->deadline_day[kind] = deadline_day;
}

int holds_lift(holds_t *holds, hold_kind_t kind)
{
    assert(holds && (unsigned)kind < HOLD_COUNT);
    if (!(holds->bits & HOLD_BIT(kind)))
        return STAGE_ENOTHELD;
    holds->bits &= ~HOLD_BIT(kind);
    holds->since_day[kind] = STAGE_NO_DAY;
    holds->deadline_day[kind] = STAGE_NO_DAY;
    return STAGE_OK;
}

bool holds_has(const holds_t *holds, hold_kind_t kind)
{
    assert(holds && (unsigned)kind < HOLD_COUNT);
    return (holds->bits & HOLD_BIT(kind)) != 0;
}

bool holds_any(const holds_t *holds)
{
    assert(holds);
    return holds->bits != 0;
}

bool holds_response_overdue(const holds_t *holds, hold_kind_t kind, int32_t today_day)
{
    return holds_has(holds, kind) && holds->deadline_day[kind] != STAGE_NO_DAY
           && today_day > holds->deadline_day[kind];
}

const char *hold_name(hold_kind_t kind)
{
    return (unsigned)kind < HOLD_COUNT ? hold_name_list[kind] : "unknown";
}

int hold_from_name(const char *name, hold_kind_t *kind)
{
    assert(name && kind);
    for (int i = 0; i < HOLD_COUNT; i++) {
        if (strcmp(name, hold_name_list[i]) == 0) {
            *kind = (hold_kind_t)i;
            return STAGE_OK;
        }
    }
    return STAGE_EUNKNOWN;
}

/* ---------------------------------------------------------------- contact */

/* The hold that explains a suspension, most serious first, so the timeline names the
 * reason that will outlast the others. */
static const struct {
    hold_kind_t kind;
    const char *reason;
} hold_reasons[] = {
    {HOLD_DECEASED, "on hold: deceased"},
    {HOLD_BANKRUPTCY, "on hold: bankruptcy"},
    {HOLD_LITIGATION, "on hold: litigation"},
    {HOLD_CEASE_CONTACT, "on hold: cease_contact"},
    {HOLD_DISPUTE, "on hold: dispute"},
    {HOLD_COMPLAINT, "on hold: complaint"},
    {HOLD_MANUAL, "on hold: manual"},
};

static const char *stage_refusal(stage_t stage)
{
    switch (stage) {
    case STAGE_CURRENT:
        return "current: nothing to collect yet";
    case STAGE_PAID:
        return "closed: paid";
    case STAGE_SETTLED:
        return "closed: settled";
    case STAGE_RECALLED:
        return "closed: recalled by the platform";
    case STAGE_SOLD:
        return "closed: sold";
    case STAGE_WRITTEN_OFF:
        return "closed: written off";
    default:
        return NULL;
    }
}

bool stage_contact_allowed(stage_t stage, const holds_t *holds, const char **reason)
{
    assert(holds && (unsigned)stage < STAGE_COUNT);
    const char *why = stage_refusal(stage);
    for (size_t i = 0; !why && i < sizeof hold_reasons / sizeof hold_reasons[0]; i++)
        if (holds_has(holds, hold_reasons[i].kind))
            why = hold_reasons[i].reason;
    if (reason)
        *reason = why ? why : "contact allowed";
    return why == NULL;
}

const char *stage_strerror(int code)
{
    switch (code) {
    case STAGE_OK:
        return "success";
    case STAGE_EILLEGAL:
        return "stage transition not allowed";
    case STAGE_EWINDOW:
        return "put back outside its window";
    case STAGE_ECONFIG:
        return "stage ranges refused";
    case STAGE_ENOTHELD:
        return "hold not placed";
    case STAGE_EUNKNOWN:
        return "unknown stage or hold name";
    default:
        return "unknown stage error";
    }
}
