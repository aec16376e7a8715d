/* conduct: the conduct gate — whether and when outreach may make one contact attempt,
 * by the rules of a jurisdiction profile (DESIGN.md section 4). The one place these
 * rules live: the broker asks it before every attempt and logs its decision and reason;
 * a worker asks it again at the moment of sending.
 *
 * Pure: no clock, no storage. The caller passes the instant, the borrower's zone, the
 * ledger of earlier attempts (for the person and for the account) and what staging and
 * the channel say about the task; the gate answers SEND, DEFER with the earliest instant
 * every rule allows (never a drop: outside the window or over a cap the task waits), or
 * REFUSE with the rule that forbids it (a hold, an opt-out, an unusable contact point, a
 * template that may not go out).
 *
 * Rules, in the order they are checked (the first refusal wins; deferrals combine):
 *   refuse  hold or cease-contact on the account; the borrower opted out of the
 *           channel; a contact point not both verified and consented, or a third
 *           party's; a template not vetted; a template that mentions legal action on a
 *           time-barred debt; rendered text holding a banned phrase (case-insensitive);
 *           on a channel whose profile requires an opt-out instruction (Reg F: sms,
 *           e-mail), a text holding none of the language's opt-out phrases (no text
 *           at all refuses too); a vulnerable borrower and a template outside the
 *           gentle set, where the profile allows only gentle ones;
 *   defer   the local window [start, end) by minutes of the day, rest weekdays and the
 *           holiday calendar (borrower-local dates); per channel, caps per person and per
 *           account per local day and per rolling 7 days (attempts counted; with
 *           count_connected, only attempts that reached the borrower), and a wait of
 *           whole days after a conversation with the person. A vulnerable borrower's
 *           person caps are the tighter of person[] and vulnerable_person[]. */
#ifndef ARREARS_OUTREACH_CONDUCT_H
#define ARREARS_OUTREACH_CONDUCT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tz.h"

#define CONDUCT_CHANNELS 5           /* sms, email, letter, call, visit (proto Channel - 1) */
#define CONDUCT_MAX_HOLIDAYS 64
#define CONDUCT_NAME_MAX 32
#define CONDUCT_REASON_MAX 160
#define CONDUCT_NO_CAP (-1)
/* A deferral is searched for at most this far ahead: a profile that never opens
 * (every weekday a rest day) refuses instead of looping. */
#define CONDUCT_HORIZON_DAYS 400

typedef enum {
    CONDUCT_SEND = 0,
    CONDUCT_DEFER,
    CONDUCT_REFUSE,
} conduct_verdict_t;

typedef enum {
    CONDUCT_RULE_NONE = 0,
    CONDUCT_RULE_HOLD,
    CONDUCT_RULE_CEASE,
    CONDUCT_RULE_OPT_OUT,
    CONDUCT_RULE_UNVERIFIED,
    CONDUCT_RULE_THIRD_PARTY,
    CONDUCT_RULE_TEMPLATE,
    CONDUCT_RULE_TIME_BARRED,
    CONDUCT_RULE_BANNED,
    CONDUCT_RULE_WINDOW,
    CONDUCT_RULE_REST_DAY,
    CONDUCT_RULE_HOLIDAY,
    CONDUCT_RULE_CAP_PERSON_DAY,
    CONDUCT_RULE_CAP_PERSON_WEEK,
    CONDUCT_RULE_CAP_ACCOUNT_DAY,
    CONDUCT_RULE_CAP_ACCOUNT_WEEK,
    CONDUCT_RULE_AFTER_CONVERSATION,
    CONDUCT_RULE_NO_OPENING,
    CONDUCT_RULE_NO_OPT_OUT_NOTICE,
    CONDUCT_RULE_NOT_GENTLE,
    CONDUCT_RULE_COUNT
} conduct_rule_t;

typedef struct {
    int32_t per_day;        /* CONDUCT_NO_CAP or >= 0 */
    int32_t per_7_days;
} conduct_cap_t;

typedef struct {
    char name[CONDUCT_NAME_MAX + 1];
    int32_t window_start_min;      /* local minutes of the day, [start, end) */
    int32_t window_end_min;
    uint8_t rest_weekdays;         /* bit d: weekday d (0 = Sunday) is a rest day */
    size_t holiday_count;
    int64_t holidays[CONDUCT_MAX_HOLIDAYS];   /* borrower-local days, any order */
    conduct_cap_t person[CONDUCT_CHANNELS];
    conduct_cap_t account[CONDUCT_CHANNELS];
    int32_t wait_after_conversation_days[CONDUCT_CHANNELS];   /* 0: none */
    bool count_connected;          /* caps count connected attempts only */
    bool opt_out_notice[CONDUCT_CHANNELS];   /* every text must say how to opt out */
    bool vulnerable_gentle_only;   /* a vulnerable borrower gets gentle templates only */
    /* A vulnerable borrower's person caps; the tighter of these and person[] applies.
     * CONDUCT_NO_CAP: person[] alone. */
    conduct_cap_t vulnerable_person[CONDUCT_CHANNELS];
} conduct_profile_t;

/* One earlier attempt from the contact ledger. */
typedef struct {
    int64_t at_ms;
    int channel;                   /* 0 .. CONDUCT_CHANNELS - 1 */
    bool connected;                /* reached the borrower (a call answered, a delivery) */
} conduct_attempt_t;

typedef struct {
    int64_t now_ms;
    const tz_zone_t *zone;         /* the borrower's */
    int channel;
    const conduct_attempt_t *person_attempts;   /* any order; older ones are ignored */
    size_t person_count;
    const conduct_attempt_t *account_attempts;
    size_t account_count;
    int64_t last_conversation_ms;  /* with the person, INT64_MIN: never */
    bool on_hold, cease_contact, opted_out;
    bool point_verified, point_consented, third_party;
    bool template_vetted, mentions_legal, time_barred;
    const char *text;              /* the rendered message; NULL for calls and visits */
    const char *const *banned;     /* phrases, lower case ASCII/UTF-8 */
    size_t banned_count;
    const char *const *opt_out_phrases;   /* in the text's language, lower case */
    size_t opt_out_phrase_count;
    bool vulnerable;               /* staging flagged the borrower as vulnerable */
    bool template_gentle;          /* the template is from the gentle set */
} conduct_task_t;

typedef struct {
    conduct_verdict_t verdict;
    conduct_rule_t rule;           /* what refused or deferred; NONE for SEND */
    int64_t not_before_ms;         /* DEFER: the earliest instant every rule allows */
    char reason[CONDUCT_REASON_MAX];
} conduct_decision_t;

/* 08:00-21:00, no rest days, no holidays, no caps, no opt-out notice, no gentle rule. */
void conduct_profile_init(conduct_profile_t *profile, const char *name);

void conduct_decide(const conduct_profile_t *profile, const conduct_task_t *task,
                    conduct_decision_t *decision);

const char *conduct_rule_name(conduct_rule_t rule);
const char *conduct_verdict_name(conduct_verdict_t verdict);

#endif
