/* assign: which law firm or collection agency gets a case, and when it loses it
 * (DESIGN.md section 5). Pure: the caller passes the assignees, their current loads and
 * the clock.
 *
 * Choosing. An assignee may take a case when it serves the case's region (its list
 * names the jurisdiction exactly, "CN-31", or the part before the first '-', "CN"), its
 * product, has room (open cases below its capacity) and has not had this case before
 * (one that let the acceptance deadline pass, or was recalled, is not offered the same
 * case again). Debts from firm_from_minor up go to law firms first and to agencies when
 * no firm can take them; smaller debts go to agencies only (a lawsuit would cost more
 * than it recovers). Among those that may, the least loaded wins: the lowest share of
 * capacity in use, then fewer open cases, then the principal's name (deterministic).
 *
 * Losing. A case offered and not accepted within the assignee's accept_deadline_days
 * is placed again elsewhere. An accepted case with no progress (a step or money) for
 * recall_after_days is recalled while that is still allowed (before filing; see
 * lifecycle.h) and placed again. Both are measured in whole days of legal's clock. */
#ifndef ARREARS_LEGAL_ASSIGN_H
#define ARREARS_LEGAL_ASSIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "inbox.h"
#include "lifecycle.h"

#define ASSIGN_MAX_ASSIGNEES 256
#define ASSIGN_MAX_REGIONS 32
#define ASSIGN_REGION_MAX 16
#define ASSIGN_MAX_TRIED 16         /* assignees remembered per case */
#define ASSIGN_MAX_CAPACITY 1000000
#define ASSIGN_MAX_DAYS 3650
#define ASSIGN_DAY_MS INT64_C(86400000)
#define ASSIGN_REASON_MAX 200

typedef enum { ASSIGNEE_FIRM = 0, ASSIGNEE_AGENCY = 1 } assignee_kind_t;

typedef struct {
    char principal[INBOX_PRINCIPAL_MAX + 1];   /* the ZAP principal of its key */
    assignee_kind_t kind;
    size_t region_count;
    char regions[ASSIGN_MAX_REGIONS][ASSIGN_REGION_MAX + 1];
    uint32_t products;              /* bit (1 << proto Product value) per product served */
    uint32_t capacity;              /* open cases at most, 1 .. ASSIGN_MAX_CAPACITY */
    int64_t commission_bps;         /* of each recovery; 0 for a firm paid by its costs */
    int32_t accept_deadline_days;   /* 1 .. ASSIGN_MAX_DAYS */
    int32_t recall_after_days;      /* 0: never recalled; else 1 .. ASSIGN_MAX_DAYS */
} assignee_t;

/* What choosing needs to know about the case. */
typedef struct {
    const char *jurisdiction;
    int product;                    /* proto Product */
    int64_t outstanding_minor;
    int64_t firm_from_minor;        /* the currency's threshold for law firms */
    size_t tried_count;
    const char *const *tried;       /* principals that had the case */
} assign_case_t;

/* The index of the chosen assignee in assignees[0..count), or -1 with why: nobody
 * serves the region and product, everyone who does is full, or has had the case.
 * open_cases[i] is assignee i's open case count. */
int assign_choose(const assignee_t *assignees, size_t count, const uint32_t *open_cases,
                  const assign_case_t *c, char *why, size_t why_len);

bool assignee_serves_region(const assignee_t *a, const char *jurisdiction);
bool assignee_serves_product(const assignee_t *a, int product);

typedef enum {
    PLACEMENT_KEEP = 0,
    PLACEMENT_DEADLINE_PASSED,   /* offered, not accepted in time: place it elsewhere */
    PLACEMENT_RECALL,            /* no progress for too long: recall and place again */
} placement_action_t;

/* Where one case's placement stands; 0 for an instant that has not happened. */
typedef struct {
    case_status_t status;
    int64_t offered_ms;
    int64_t last_progress_ms;    /* acceptance, a step or money */
} placement_t;

/* What is due for a placed case (offered to a, so p->offered_ms is set) at now_ms; *due_ms is when the next check matters
 * (INT64_MAX when never), so a loop can sleep until then. */
placement_action_t assign_due(const assignee_t *a, const placement_t *p, int64_t now_ms,
                              int64_t *due_ms);
const char *placement_action_name(placement_action_t action);

#endif
