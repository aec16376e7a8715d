/* assign: choosing an assignee and the placement deadlines (see assign.h). */
#include "assign.h"

#include <stdio.h>
#include <string.h>

bool assignee_serves_region(const assignee_t *a, const char *jurisdiction)
{
    if (!jurisdiction || !*jurisdiction)
        return false;
    size_t country = strcspn(jurisdiction, "-");
    for (size_t i = 0; i < a->region_count; i++) {
        const char *r = a->regions[i];
        if (strcmp(r, jurisdiction) == 0 ||
            (strlen(r) == country && strncmp(r, jurisdiction, country) == 0))
            return true;
    }
    return false;
}

bool assignee_serves_product(const assignee_t *a, int product)
{
    return product > 0 && product < 32 && (a->products & (UINT32_C(1) << product)) != 0;
}

static bool had_case(const assign_case_t *c, const char *principal)
{
    for (size_t i = 0; i < c->tried_count; i++)
        if (strcmp(c->tried[i], principal) == 0)
            return true;
    return false;
}

/* Whether i is less loaded than best: share of capacity, then open count, then name. */
static bool less_loaded(const assignee_t *as, const uint32_t *open, size_t i, size_t best)
{
    uint64_t li = (uint64_t)open[i] * as[best].capacity;
    uint64_t lb = (uint64_t)open[best] * as[i].capacity;
    if (li != lb)
        return li < lb;
    if (open[i] != open[best])
        return open[i] < open[best];
    return strcmp(as[i].principal, as[best].principal) < 0;
}

typedef struct {
    size_t serving, full, tried;
} why_not_t;

static int choose_of_kind(const assignee_t *as, size_t count, const uint32_t *open,
                          const assign_case_t *c, assignee_kind_t kind, why_not_t *w)
{
    int best = -1;
    for (size_t i = 0; i < count; i++) {
        const assignee_t *a = &as[i];
        if (a->kind != kind || !assignee_serves_region(a, c->jurisdiction) ||
            !assignee_serves_product(a, c->product))
            continue;
        w->serving++;
        if (had_case(c, a->principal))
            w->tried++;
        else if (open[i] >= a->capacity)
            w->full++;
        else if (best < 0 || less_loaded(as, open, i, (size_t)best))
            best = (int)i;
    }
    return best;
}

int assign_choose(const assignee_t *assignees, size_t count, const uint32_t *open_cases,
                  const assign_case_t *c, char *why, size_t why_len)
{
    bool firm_first = c->outstanding_minor >= c->firm_from_minor;
    why_not_t w = {0};
    int best = -1;
    if (firm_first)
        best = choose_of_kind(assignees, count, open_cases, c, ASSIGNEE_FIRM, &w);
    if (best < 0)
        best = choose_of_kind(assignees, count, open_cases, c, ASSIGNEE_AGENCY, &w);
    if (best >= 0) {
        snprintf(why, why_len, "%s %s: least loaded (%u of %u open) of those serving %.16s",
                 assignees[best].kind == ASSIGNEE_FIRM ? "law firm" : "agency",
                 assignees[best].principal, (unsigned)open_cases[best],
                 (unsigned)assignees[best].capacity, c->jurisdiction);
        return best;
    }
    const char *who = firm_first ? "law firm or agency" : "agency (below the law-firm threshold)";
    if (w.serving == 0)
        snprintf(why, why_len, "no %s serves %.16s for product %d", who,
                 c->jurisdiction ? c->jurisdiction : "", c->product);
    else
        snprintf(why, why_len,
                 "every %s serving %.16s is unavailable: %zu at capacity, %zu already had the case",
                 who, c->jurisdiction, w.full, w.tried);
    return -1;
}

static int64_t after_days(int64_t from_ms, int32_t days)
{
    return from_ms + (int64_t)days * ASSIGN_DAY_MS;
}

placement_action_t assign_due(const assignee_t *a, const placement_t *p, int64_t now_ms,
                              int64_t *due_ms)
{
    *due_ms = INT64_MAX;
    if (p->status == CASE_REFERRED) {
        *due_ms = after_days(p->offered_ms, a->accept_deadline_days);
        return now_ms >= *due_ms ? PLACEMENT_DEADLINE_PASSED : PLACEMENT_KEEP;
    }
    if (a->recall_after_days == 0 || !case_status_recallable(p->status))
        return PLACEMENT_KEEP;
    *due_ms = after_days(p->last_progress_ms, a->recall_after_days);
    return now_ms >= *due_ms ? PLACEMENT_RECALL : PLACEMENT_KEEP;
}

const char *placement_action_name(placement_action_t action)
{
    switch (action) {
    case PLACEMENT_KEEP: return "keep";
    case PLACEMENT_DEADLINE_PASSED: return "deadline_passed";
    case PLACEMENT_RECALL: return "recall";
    default: return "unknown";
    }
}
