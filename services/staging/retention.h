/* retention: how long staging keeps a closed account's personal data, per jurisdiction
 * (DESIGN.md section 7), and the one rule that says when it is due for erasure. Pure:
 * no storage, no clock; days are borrower-local day numbers (tz_local_day), as in the
 * rest of staging.
 *
 * The rules come from staging's configuration (config.h, the `retention` group):
 *
 *   retention = {
 *     default_days = 2190;
 *     jurisdictions = ( { country = "GB"; days = 2190; }, { country = "CN"; days = 1826; } );
 *   };
 *
 * Which rule applies to an account's jurisdiction (the country of the borrower's
 * address, maybe with a region: "US-NY"): the exact name, else the part before its
 * first '-', else the default. No rule (no default, or no retention group at all):
 * nothing is ever due — erasing personal data is irreversible, so it happens only
 * under a rule someone wrote down.
 *
 * The period: an account that reached a terminal stage on closed_day keeps its
 * personal data for `days` days after it; erasure is due from closed_day + days:
 *   closed 2026-01-01, 365 days: kept through 2026-12-31, due on 2027-01-01. */
#ifndef ARREARS_STAGING_RETENTION_H
#define ARREARS_STAGING_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limitation.h"

#define RETENTION_MAX_JURISDICTIONS 64
#define RETENTION_NAME_MAX LIMITATION_NAME_MAX   /* an account's jurisdiction fits */
#define RETENTION_MAX_DAYS 36500                 /* a hundred years bounds a typo */

typedef struct {
    char country[RETENTION_NAME_MAX + 1];
    int32_t days;
} retention_rule_t;

/* Plain data, no pointers: copy it, share it read-only. All zero: no rules. */
typedef struct {
    bool has_default;
    int32_t default_days;
    size_t count;
    retention_rule_t jurisdictions[RETENTION_MAX_JURISDICTIONS];
} retention_rules_t;

/* The days kept for jurisdiction ("" takes the default); false when no rule applies. */
bool retention_days_for(const retention_rules_t *rules, const char *jurisdiction,
                        int32_t *days);

/* Whether an account of jurisdiction that closed on closed_day is due for erasure on
 * today; *days (may be NULL) gets the rule's days when one applies. false for no rule,
 * a NULL rules, or closed_day STAGE_NO_DAY (never closed). */
bool retention_due(const retention_rules_t *rules, const char *jurisdiction, int32_t closed_day,
                   int32_t today, int32_t *days);

#endif
