/* lifecycle: the case state table (see lifecycle.h). */
#include "lifecycle.h"

#include <stdio.h>

#define TO(s) (1u << (s))
#define ENDINGS (TO(CASE_SETTLED) | TO(CASE_WITHDRAWN) | TO(CASE_CLOSED))

/* For each state, the states an assignee's report may move it to. After judgment a
 * case can no longer be withdrawn: it ends settled or closed (the judgment stands). */
static const unsigned moves[CASE_STATES] = {
    [CASE_REFERRED] = TO(CASE_ACCEPTED),
    [CASE_ACCEPTED] = TO(CASE_DEMAND_LETTER) | TO(CASE_MEDIATION) | TO(CASE_FILED) | ENDINGS,
    [CASE_DEMAND_LETTER] = TO(CASE_MEDIATION) | TO(CASE_FILED) | ENDINGS,
    [CASE_MEDIATION] = TO(CASE_FILED) | ENDINGS,
    [CASE_FILED] = TO(CASE_HEARING) | TO(CASE_JUDGMENT) | ENDINGS,
    [CASE_HEARING] = TO(CASE_HEARING) | TO(CASE_JUDGMENT) | ENDINGS,
    [CASE_JUDGMENT] = TO(CASE_ENFORCEMENT) | TO(CASE_SETTLED) | TO(CASE_CLOSED),
    [CASE_ENFORCEMENT] = TO(CASE_SETTLED) | TO(CASE_CLOSED),
};

static const unsigned terminal = ENDINGS | TO(CASE_DECLINED);
static const unsigned recallable = TO(CASE_REFERRED) | TO(CASE_ACCEPTED) |
                                   TO(CASE_DEMAND_LETTER) | TO(CASE_MEDIATION);
/* A money note (recovery or costs) may come in any working state after acceptance. */
static const unsigned working = TO(CASE_ACCEPTED) | TO(CASE_DEMAND_LETTER) | TO(CASE_MEDIATION) |
                                TO(CASE_FILED) | TO(CASE_HEARING) | TO(CASE_JUDGMENT) |
                                TO(CASE_ENFORCEMENT);

static const char *const names[CASE_STATES] = {
    [CASE_NONE] = "none",           [CASE_REFERRED] = "referred",
    [CASE_ACCEPTED] = "accepted",   [CASE_DEMAND_LETTER] = "demand_letter",
    [CASE_FILED] = "filed",         [CASE_HEARING] = "hearing",
    [CASE_JUDGMENT] = "judgment",   [CASE_ENFORCEMENT] = "enforcement",
    [CASE_SETTLED] = "settled",     [CASE_WITHDRAWN] = "withdrawn",
    [CASE_CLOSED] = "closed",       [CASE_DECLINED] = "declined",
    [CASE_MEDIATION] = "mediation",
};

const char *lifecycle_strerror(int code)
{
    switch (code) {
    case LIFECYCLE_OK: return "ok";
    case LIFECYCLE_EILLEGAL: return "not a legal move for the case";
    case LIFECYCLE_EEVIDENCE: return "the step needs an evidence reference";
    case LIFECYCLE_EDATE: return "the step's date is before the case's last step or in the future";
    default: return "unknown lifecycle error";
    }
}

bool case_status_valid(case_status_t s)
{
    return s > CASE_NONE && s < CASE_STATES;
}

static bool in(unsigned set, case_status_t s)
{
    return case_status_valid(s) && (set & TO(s)) != 0;
}

const char *case_status_name(case_status_t s)
{
    return case_status_valid(s) || s == CASE_NONE ? names[s] : "unknown";
}

bool case_status_terminal(case_status_t s) { return in(terminal, s); }
bool case_status_recallable(case_status_t s) { return in(recallable, s); }

bool case_status_needs_evidence(case_status_t s)
{
    return case_status_valid(s) && s != CASE_REFERRED && s != CASE_ACCEPTED &&
           s != CASE_DECLINED;
}

static int refuse(int code, char *why, size_t len, const lifecycle_step_t *st, const char *what)
{
    snprintf(why, len, "%s -> %s: %s", case_status_name(st->from), case_status_name(st->to),
             what);
    return code;
}

int lifecycle_check(const lifecycle_step_t *st, char *why, size_t why_len)
{
    if (!case_status_valid(st->from) || !case_status_valid(st->to))
        return refuse(LIFECYCLE_EILLEGAL, why, why_len, st, "not a case state");
    if (case_status_terminal(st->from))
        return refuse(LIFECYCLE_EILLEGAL, why, why_len, st, "the case has ended");
    bool same = st->from == st->to;
    if (same && st->to != CASE_HEARING && !(st->carries_money && in(working, st->from)))
        return refuse(LIFECYCLE_EILLEGAL, why, why_len, st,
                      "a report in the same state must carry a recovery or costs");
    if (!same && !(moves[st->from] & TO(st->to)))
        return refuse(LIFECYCLE_EILLEGAL, why, why_len, st, "not a move in the case table");
    bool adjourned = same && st->to == CASE_HEARING;
    if ((adjourned || (!same && case_status_needs_evidence(st->to))) && !st->has_evidence)
        return refuse(LIFECYCLE_EEVIDENCE, why, why_len, st,
                      "this step needs an evidence reference");
    if (st->day < st->last_day || st->day > st->today_day)
        return refuse(LIFECYCLE_EDATE, why, why_len, st,
                      st->day < st->last_day ? "dated before the case's last step"
                                             : "dated in the future");
    snprintf(why, why_len, "%s -> %s", case_status_name(st->from), case_status_name(st->to));
    return LIFECYCLE_OK;
}
