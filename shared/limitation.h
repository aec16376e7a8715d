/* limitation: the one rule that says whether a debt is time-barred (past the
 * limitation period), and the jurisdiction file it reads. Staging marks accounts with
 * it and legal re-checks a referral with it, so the two can never disagree. Pure: the
 * caller passes every day, as borrower-local days since 1970-01-01 (tz_local_day()).
 *
 * The file (libconfig; it may also be a group inside a service's own file):
 *
 *   limitation = {
 *     default = { years = 6; from = "last_payment_or_acknowledgment"; };
 *     jurisdictions = (
 *       { name = "GB-EAW"; years = 6; },
 *       { name = "US-NY";  years = 3; },
 *       { name = "CN";     years = 3; }
 *     );
 *   };
 *
 * years: 1 .. LIMITATION_MAX_YEARS, required. from (optional; a jurisdiction without
 * one takes the default's, and the default's is "last_payment_or_acknowledgment"):
 *   "last_payment_or_acknowledgment"  the period runs from the latest of the first
 *        missed due day, the last payment and the last written acknowledgment (either
 *        restarts the clock);
 *   "last_payment"   the latest of the first missed due day and the last payment;
 *   "default"        the first missed due day only (nothing restarts it).
 * Names are 1 .. LIMITATION_NAME_MAX bytes of [A-Za-z0-9_-], unique. Unknown keys,
 * wrong types, out-of-range values and duplicates are refused with file:line and why.
 *
 * Which rule applies to a jurisdiction: the exact name ("US-NY"); else the part before
 * its first '-' ("US"); else the default; with no default, LIMITATION_EUNKNOWN (an
 * account is never silently treated as not time-barred).
 *
 * The calendar. The period ends on the anniversary of the start day `years` calendar
 * years later, in borrower-local calendar dates (not 365-day blocks). A start on
 * Feb 29 whose anniversary year is not a leap year ends on Feb 28: a period in years
 * ends within its anniversary month, never spilling into March (the end-of-month rule
 * of e.g. BGB §188(3)); it is also the earlier of the two candidates, and treating a
 * debt as time-barred a day early is the safe side of the conduct rules. The end day
 * itself is inside the period (the start day is excluded from the count, as English
 * law counts it): the debt is time-barred from the day after it.
 *   start 2024-02-29, 3 years: ends 2027-02-28, barred from 2027-03-01.
 *   start 2024-02-29, 4 years: ends 2028-02-29, barred from 2028-03-01. */
#ifndef ARREARS_LIMITATION_H
#define ARREARS_LIMITATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum {
    LIMITATION_OK = 0,
    LIMITATION_EINVALID = -31201, /* a day out of range, or a bad argument */
    LIMITATION_EUNKNOWN = -31202, /* no rule for the jurisdiction and no default */
};
/* Loading returns CONF_* codes (conf_strerror) with "file:line: why" in err. */

#define LIMITATION_MAX_JURISDICTIONS 256
#define LIMITATION_NAME_MAX 32
#define LIMITATION_MAX_YEARS 100

/* Days accepted: 0001-01-01 .. 9999-12-31 (tz.h's range); "no such day" (never paid,
 * never acknowledged, never missed a due day) is LIMITATION_DAY_NONE. */
#define LIMITATION_DAY_MIN INT64_C(-719162)
#define LIMITATION_DAY_MAX INT64_C(2932896)
#define LIMITATION_DAY_NONE INT64_MIN

typedef enum {
    LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT = 0,
    LIMITATION_FROM_LAST_PAYMENT = 1,
    LIMITATION_FROM_DEFAULT = 2,
} limitation_from_t;

typedef struct {
    char name[LIMITATION_NAME_MAX + 1]; /* "" for the default rule */
    int32_t years;
    limitation_from_t from;
} limitation_rule_t;

/* Plain data, no pointers: copy it, share it read-only between threads. */
typedef struct {
    bool has_default;
    limitation_rule_t default_rule;
    size_t count;
    limitation_rule_t jurisdictions[LIMITATION_MAX_JURISDICTIONS];
} limitation_rules_t;

const char *limitation_strerror(int code);

/* The `limitation` group of a loaded configuration (required). Only that group's keys
 * are checked, so it can live inside a service's file. */
int limitation_rules_from_conf(const conf_t *conf, limitation_rules_t *rules, char *err,
                               size_t err_len);
/* A file of its own: `limitation` must be its only top-level key. */
int limitation_rules_load(const char *path, limitation_rules_t *rules, char *err,
                          size_t err_len);
/* The same from text (tests, embedded defaults); name_for_errors as in conf.h. */
int limitation_rules_parse(const char *text, const char *name_for_errors,
                           limitation_rules_t *rules, char *err, size_t err_len);

/* The rule for a jurisdiction (see the top of this file), NULL when none applies. */
const limitation_rule_t *limitation_rule_for(const limitation_rules_t *rules,
                                             const char *jurisdiction);

/* day plus years calendar years, Feb 29 -> Feb 28 when the target year is not leap.
 * day within the range above, years 0 .. LIMITATION_MAX_YEARS (asserted). */
int64_t limitation_add_years(int64_t day, int32_t years);

/* Whether the debt is time-barred on today_day. The period starts on the latest of
 * the days the jurisdiction's `from` counts (LIMITATION_DAY_NONE days are skipped);
 * default_start_day is the first missed due day. *barred_since_day is the first
 * barred day even when it is still ahead (a date to re-check on), and
 * LIMITATION_DAY_NONE with *barred false when nothing was ever missed (no default, no
 * claim, nothing to bar). A day outside the range: LIMITATION_EINVALID; no rule:
 * LIMITATION_EUNKNOWN. Outputs are written only on LIMITATION_OK. */
int limitation_is_time_barred(const limitation_rules_t *rules, const char *jurisdiction,
                              int64_t last_payment_day, int64_t last_acknowledgment_day,
                              int64_t default_start_day, int64_t today_day, bool *barred,
                              int64_t *barred_since_day);

#endif
