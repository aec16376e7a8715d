/* conduct: the conduct gate (see conduct.h). */
#include "conduct.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#define DAY_MS INT64_C(86400000)
#define WEEK_MS (7 * DAY_MS)
#define NEVER INT64_MIN
#define SETTLE_ROUNDS 64   /* window and caps push each other forward at most this often */

static const char *const rule_names[CONDUCT_RULE_COUNT] = {
    "none", "hold", "cease_contact", "opt_out", "unverified_point", "third_party",
    "template_not_vetted", "legal_threat_time_barred", "banned_language", "window",
    "rest_day", "holiday", "cap_person_day", "cap_person_7_days", "cap_account_day",
    "cap_account_7_days", "after_conversation", "no_opening", "no_opt_out_notice",
    "not_gentle",
};

const char *conduct_rule_name(conduct_rule_t rule)
{
    return (unsigned)rule < CONDUCT_RULE_COUNT ? rule_names[rule] : "unknown";
}

const char *conduct_verdict_name(conduct_verdict_t verdict)
{
    static const char *const names[] = {"send", "defer", "refuse"};
    return (unsigned)verdict < 3 ? names[verdict] : "unknown";
}

void conduct_profile_init(conduct_profile_t *p, const char *name)
{
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s", name);
    p->window_start_min = 8 * 60;
    p->window_end_min = 21 * 60;
    for (int c = 0; c < CONDUCT_CHANNELS; c++)
        p->person[c] = p->account[c] = p->vulnerable_person[c] =
            (conduct_cap_t){CONDUCT_NO_CAP, CONDUCT_NO_CAP};
}

/* ---------------------------------------------------------------- time */

static int64_t seconds_of(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

static int64_t local_day(const tz_zone_t *zone, int64_t ms)
{
    return tz_local_day(zone, seconds_of(ms));
}

static int local_minute(const tz_zone_t *zone, int64_t ms)
{
    tz_local_t lt;
    tz_local_at(zone, seconds_of(ms), &lt);
    return lt.hour * 60 + lt.minute;
}

/* The instant of minute m of local day `day` (a DST gap moves it later, tz.h). */
static int64_t instant_of(const tz_zone_t *zone, int64_t day, int minute)
{
    int32_t y;
    int mo, d;
    int64_t s = 0;
    tz_civil_from_days(day, &y, &mo, &d);
    int rc = tz_utc_of_local(zone, y, mo, d, minute / 60, minute % 60, 0, &s);
    assert(rc == TZ_OK);   /* days come from instants the zone handles */
    (void)rc;
    return s * 1000;
}

static bool is_holiday(const conduct_profile_t *p, int64_t day)
{
    for (size_t i = 0; i < p->holiday_count; i++)
        if (p->holidays[i] == day)
            return true;
    return false;
}

/* The first instant at or after t inside the window on a working day; NEVER when none
 * within the horizon. *why: what moved it (window, rest day, holiday). */
static int64_t next_opening(const conduct_profile_t *p, const tz_zone_t *zone, int64_t t,
                            conduct_rule_t *why)
{
    int64_t day = local_day(zone, t);
    int minute = local_minute(zone, t);
    *why = CONDUCT_RULE_NONE;
    for (int i = 0; i < CONDUCT_HORIZON_DAYS; i++, day++) {
        conduct_rule_t closed = (p->rest_weekdays >> tz_weekday_of_days(day)) & 1
                                    ? CONDUCT_RULE_REST_DAY
                                : is_holiday(p, day) ? CONDUCT_RULE_HOLIDAY : CONDUCT_RULE_NONE;
        if (closed != CONDUCT_RULE_NONE) {
            *why = *why ? *why : closed;
            continue;
        }
        if (i == 0 && minute >= p->window_start_min && minute < p->window_end_min)
            return t;
        if (i == 0 || *why == CONDUCT_RULE_NONE)
            *why = CONDUCT_RULE_WINDOW;
        if (i > 0 || minute < p->window_start_min)
            return instant_of(zone, day, p->window_start_min);
    }
    return NEVER;
}

/* ---------------------------------------------------------------- caps */

static bool counts(const conduct_profile_t *p, const conduct_attempt_t *a, int channel)
{
    return a->channel == channel && (!p->count_connected || a->connected);
}

/* When cap on attempts allows one more at t (t when it already does). */
static int64_t cap_release(const conduct_profile_t *p, const tz_zone_t *zone,
                           const conduct_cap_t *cap, const conduct_attempt_t *at, size_t n,
                           int channel, int64_t t, bool *by_day)
{
    bool day_cap = cap->per_day != CONDUCT_NO_CAP;
    if (!day_cap && cap->per_7_days == CONDUCT_NO_CAP) {
        *by_day = false;
        return t;
    }
    /* Today is [from, until): two zone look-ups instead of one per attempt. */
    int64_t day = day_cap ? local_day(zone, t) : 0, oldest = INT64_MAX;
    int64_t from = day_cap ? instant_of(zone, day, 0) : 0;
    int64_t until = day_cap ? instant_of(zone, day + 1, 0) : 0;
    int32_t today = 0, week = 0;
    for (size_t i = 0; i < n; i++) {
        if (!counts(p, &at[i], channel) || at[i].at_ms > t)
            continue;
        today += at[i].at_ms >= from && at[i].at_ms < until;
        if (at[i].at_ms > t - WEEK_MS) {
            week++;
            oldest = at[i].at_ms < oldest ? at[i].at_ms : oldest;
        }
    }
    *by_day = cap->per_day != CONDUCT_NO_CAP && today >= cap->per_day;
    if (*by_day)
        return until;
    if (cap->per_7_days != CONDUCT_NO_CAP && week >= cap->per_7_days)
        return oldest + WEEK_MS;   /* the oldest leaves the window; checked again after */
    return t;
}

static int32_t tighter(int32_t a, int32_t b)
{
    if (a == CONDUCT_NO_CAP || b == CONDUCT_NO_CAP)
        return a == CONDUCT_NO_CAP ? b : a;
    return a < b ? a : b;
}

/* The person cap on the task's channel: a vulnerable borrower's is the tighter of the
 * ordinary one and the profile's vulnerable one, so setting only the latter still
 * never loosens the ordinary cap. */
static conduct_cap_t person_cap(const conduct_profile_t *p, const conduct_task_t *k)
{
    conduct_cap_t cap = p->person[k->channel];
    if (k->vulnerable) {
        const conduct_cap_t *v = &p->vulnerable_person[k->channel];
        cap.per_day = tighter(cap.per_day, v->per_day);
        cap.per_7_days = tighter(cap.per_7_days, v->per_7_days);
    }
    return cap;
}

/* The latest release among the caps and the wait after a conversation. */
static int64_t caps_release(const conduct_profile_t *p, const conduct_task_t *k, int64_t t,
                            conduct_rule_t *why)
{
    bool by_day;
    int64_t best = t;
    conduct_cap_t person = person_cap(p, k);
    int64_t r = cap_release(p, k->zone, &person, k->person_attempts,
                            k->person_count, k->channel, t, &by_day);
    if (r > best)
        best = r, *why = by_day ? CONDUCT_RULE_CAP_PERSON_DAY : CONDUCT_RULE_CAP_PERSON_WEEK;
    r = cap_release(p, k->zone, &p->account[k->channel], k->account_attempts, k->account_count,
                    k->channel, t, &by_day);
    if (r > best)
        best = r, *why = by_day ? CONDUCT_RULE_CAP_ACCOUNT_DAY : CONDUCT_RULE_CAP_ACCOUNT_WEEK;
    int32_t wait = p->wait_after_conversation_days[k->channel];
    if (wait > 0 && k->last_conversation_ms != NEVER && k->last_conversation_ms + wait * DAY_MS > best)
        best = k->last_conversation_ms + wait * DAY_MS, *why = CONDUCT_RULE_AFTER_CONVERSATION;
    return best;
}

/* ---------------------------------------------------------------- refusals */

static bool contains_folded(const char *text, const char *phrase)
{
    size_t n = strlen(phrase);
    for (const char *s = text; n && *s; s++) {
        size_t i = 0;
        while (i < n && s[i] && (s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]) == phrase[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* The text in ASCII lower case, once per decision; NULL when it does not fit (then
 * contains_folded). */
static const char *fold(const char *text, char *buf, size_t cap)
{
    size_t i = 0;
    for (; text[i]; i++) {
        if (i + 1 == cap)
            return NULL;
        char c = text[i];
        buf[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
    }
    buf[i] = '\0';
    return buf;
}

static bool holds(const char *folded, const char *text, const char *phrase)
{
    if (!*phrase)
        return false;
    return folded ? strstr(folded, phrase) != NULL : contains_folded(text, phrase);
}

static bool holds_any(const char *folded, const char *text, const char *const *phrases, size_t count)
{
    for (size_t i = 0; text && i < count; i++)
        if (holds(folded, text, phrases[i]))
            return true;
    return false;
}

/* Whether anyone may be contacted at all through this point about this debt. */
static conduct_rule_t refusal_of_contact(const conduct_task_t *k)
{
    if (k->on_hold) return CONDUCT_RULE_HOLD;
    if (k->cease_contact) return CONDUCT_RULE_CEASE;
    if (k->opted_out) return CONDUCT_RULE_OPT_OUT;
    if (k->third_party) return CONDUCT_RULE_THIRD_PARTY;
    if (!k->point_verified || !k->point_consented) return CONDUCT_RULE_UNVERIFIED;
    if (!k->template_vetted) return CONDUCT_RULE_TEMPLATE;
    if (k->mentions_legal && k->time_barred) return CONDUCT_RULE_TIME_BARRED;
    return CONDUCT_RULE_NONE;
}

/* Whether this message may go: its words, its opt-out instruction (a channel that
 * needs one refuses a missing text too: nothing shows the instruction is there), and
 * for a vulnerable borrower, where the profile says so, its template's tone. */
static conduct_rule_t refusal_of_message(const conduct_profile_t *p, const conduct_task_t *k,
                                         const char **phrase)
{
    char buf[4096];   /* a template's longest text; a longer one is scanned unfolded */
    const char *folded = k->text ? fold(k->text, buf, sizeof buf) : NULL;
    for (size_t i = 0; k->text && i < k->banned_count; i++)
        if (holds(folded, k->text, k->banned[i]))
            return (*phrase = k->banned[i]), CONDUCT_RULE_BANNED;
    if (p->opt_out_notice[k->channel]
        && !holds_any(folded, k->text, k->opt_out_phrases, k->opt_out_phrase_count))
        return CONDUCT_RULE_NO_OPT_OUT_NOTICE;
    if (p->vulnerable_gentle_only && k->vulnerable && !k->template_gentle)
        return CONDUCT_RULE_NOT_GENTLE;
    return CONDUCT_RULE_NONE;
}

static conduct_rule_t refusal(const conduct_profile_t *p, const conduct_task_t *k,
                              const char **phrase)
{
    *phrase = NULL;
    conduct_rule_t rule = refusal_of_contact(k);
    return rule != CONDUCT_RULE_NONE ? rule : refusal_of_message(p, k, phrase);
}

static void decide(conduct_decision_t *d, conduct_verdict_t verdict, conduct_rule_t rule,
                   int64_t not_before_ms)
{
    d->verdict = verdict;
    d->rule = rule;
    d->not_before_ms = not_before_ms;
}

void conduct_decide(const conduct_profile_t *p, const conduct_task_t *k, conduct_decision_t *d)
{
    assert(p && k && d && k->zone && k->channel >= 0 && k->channel < CONDUCT_CHANNELS);
    const char *phrase;
    conduct_rule_t rule = refusal(p, k, &phrase);
    if (rule != CONDUCT_RULE_NONE) {
        decide(d, CONDUCT_REFUSE, rule, 0);
        snprintf(d->reason, sizeof d->reason, "refused by %s: %s%s%s", p->name,
                 conduct_rule_name(rule), phrase ? " " : "", phrase ? phrase : "");
        return;
    }
    int64_t t = k->now_ms;
    conduct_rule_t first = CONDUCT_RULE_NONE, why;
    for (int round = 0; round < SETTLE_ROUNDS; round++) {
        int64_t open = next_opening(p, k->zone, t, &why);
        if (open == NEVER) {
            decide(d, CONDUCT_REFUSE, CONDUCT_RULE_NO_OPENING, 0);
            snprintf(d->reason, sizeof d->reason, "refused by %s: no opening within %d days",
                     p->name, CONDUCT_HORIZON_DAYS);
            return;
        }
        first = first ? first : (open > t ? why : CONDUCT_RULE_NONE);
        t = open;
        int64_t release = caps_release(p, k, t, &why);
        if (release <= t)
            break;
        first = first ? first : why;
        t = release;
    }
    /* Past SETTLE_ROUNDS the instant may still be capped: the gate runs again then. */
    if (t == k->now_ms) {
        decide(d, CONDUCT_SEND, CONDUCT_RULE_NONE, 0);
        snprintf(d->reason, sizeof d->reason, "allowed by %s", p->name);
        return;
    }
    tz_local_t lt;
    tz_local_at(k->zone, seconds_of(t), &lt);
    decide(d, CONDUCT_DEFER, first, t);
    snprintf(d->reason, sizeof d->reason, "deferred by %s: %s; next opening %04d-%02d-%02d %02d:%02d %s",
             p->name, conduct_rule_name(first), (int)lt.year, lt.month, lt.day, lt.hour, lt.minute,
             lt.abbrev);
}
