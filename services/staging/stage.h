/* stage: where an account stands in collection, and which moves between stands are
 * legal.
 *
 * Three kinds of stage:
 *   - DPD stages, derived from days past due by configured ranges, never decided:
 *       current      nothing overdue and the next due date still far off
 *       pre_due      reminder window T-N .. T0 (nothing overdue yet)
 *       early  (M1), middle (M2), late (M3), charged_off (open-ended, a DPD range)
 *     An account moves between them, forwards or back (a cure), as its DPD moves.
 *   - Escalation stages, entered only by a decision (strategy_escalation) and left only
 *     by an event of their own: legal (referred to a firm or agency) and sale (listed
 *     in a portfolio for sale). DPD no longer moves them.
 *   - Terminal stages: paid, settled, recalled (by the platform), sold, written_off.
 *     Nothing leaves them, except sold -> put back by the buyer within its window.
 *
 * Overlay holds (complaint, dispute, cease-contact, bankruptcy, deceased, litigation,
 * manual) are not stages: they suspend contact while the stage goes on being what DPD
 * says, so lifting a hold resumes work exactly where the account now stands.
 *
 * Pure: no clock. Every day is a borrower-local day number (days since 1970-01-01). */
#ifndef ARREARS_STAGING_STAGE_H
#define ARREARS_STAGING_STAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum {
    STAGE_OK = 0,
    STAGE_EILLEGAL = -32501,   /* the event cannot happen in the current stage */
    STAGE_EWINDOW = -32502,    /* a put back outside the put-back window */
    STAGE_ECONFIG = -32503,    /* stage ranges refused (err names file:line and why) */
    STAGE_ENOTHELD = -32504,   /* lifting a hold that is not placed */
    STAGE_EUNKNOWN = -32505,   /* not a stage or hold name */
};

typedef enum {
    STAGE_CURRENT = 0,
    STAGE_PRE_DUE,
    STAGE_EARLY,        /* M1 */
    STAGE_MIDDLE,       /* M2 */
    STAGE_LATE,         /* M3 */
    STAGE_CHARGED_OFF,
    STAGE_LEGAL,
    STAGE_SALE,         /* listed for sale, not yet sold */
    STAGE_PAID,
    STAGE_SETTLED,
    STAGE_RECALLED,
    STAGE_SOLD,
    STAGE_WRITTEN_OFF,
    STAGE_COUNT
} stage_t;

/* Days until the next due date when there is none (every instalment paid or the
 * schedule ended): the account is current. */
#define STAGE_NO_DUE_DAY INT32_MAX

/* The configured DPD ranges. Each delinquent range is [from_dpd, to_dpd]; early starts
 * at DPD 1, each range starts the day after the previous one ends, and charged_off has
 * no end (to_dpd = INT32_MAX). */
#define STAGE_RANGE_COUNT 4   /* early, middle, late, charged_off */
#define STAGE_MAX_REMINDER_DAYS 60
#define STAGE_MAX_DPD 36500   /* a configured bound beyond this is a typo */

typedef struct {
    int32_t reminder_days;          /* pre_due from T-reminder_days to T0 */
    int32_t from_dpd[STAGE_RANGE_COUNT];
    int32_t to_dpd[STAGE_RANGE_COUNT];
    int32_t put_back_window_days;   /* a sold account may be put back this long after */
} stage_ranges_t;

/* 3 reminder days; early 1-30, middle 31-60, late 61-90, charged_off 91+; put back
 * within 90 days. */
stage_ranges_t stage_ranges_default(void);

/* Reads the group at group_path (e.g. "stages"), absent: the defaults:
 *   stages = {
 *     reminder_days = 3;
 *     early       = { from_dpd = 1;  to_dpd = 30; };
 *     middle      = { from_dpd = 31; to_dpd = 60; };
 *     late        = { from_dpd = 61; to_dpd = 90; };
 *     charged_off = { from_dpd = 91; };
 *     put_back_window_days = 90;
 *   };
 * A present group must name all four ranges. Overlaps, gaps, an early range not starting
 * at DPD 1, a range ending before it starts: STAGE_ECONFIG, err "file:line: why". */
int stage_ranges_load(const conf_t *conf, const char *group_path, stage_ranges_t *ranges,
                      char *err, size_t err_len);

/* The DPD stage for dpd >= 0. With dpd 0, days_to_due (>= 0, or STAGE_NO_DUE_DAY) is
 * the number of days until the next due date and decides pre_due against current. */
stage_t stage_for_dpd(const stage_ranges_t *ranges, int32_t dpd, int32_t days_to_due);

/* "early", "charged_off", ... ("unknown" for a value out of range). These names are
 * the ones in the strategy file and in AccountStatus.stage. */
const char *stage_name(stage_t stage);
/* STAGE_OK and *stage, or STAGE_EUNKNOWN. */
int stage_from_name(const char *name, stage_t *stage);
/* NULL-terminated list of every stage name, in stage_t order (for conf_enum). */
const char *const *stage_names(void);

bool stage_is_terminal(stage_t stage);
/* current .. charged_off: the stages DPD decides. */
bool stage_is_dpd_driven(stage_t stage);
/* early .. charged_off: something is overdue. */
bool stage_is_delinquent(stage_t stage);

/* ---------------------------------------------------------------- transitions */

typedef enum {
    STAGE_EVENT_DPD = 0,        /* daily re-ageing or a payment: dpd, days_to_due */
    STAGE_EVENT_PAID,           /* nothing left to pay */
    STAGE_EVENT_SETTLED,        /* an approved settlement paid in full */
    STAGE_EVENT_RECALLED,       /* the platform took the account back */
    STAGE_EVENT_WRITTEN_OFF,    /* an operator wrote it off */
    STAGE_EVENT_REFER_LEGAL,    /* escalation: referred to a firm or agency */
    STAGE_EVENT_LEGAL_RETURNED, /* the case ended without payment: dpd, days_to_due */
    STAGE_EVENT_LIST_FOR_SALE,  /* escalation: listed in a portfolio */
    STAGE_EVENT_SALE_WITHDRAWN, /* left the portfolio unsold: dpd, days_to_due */
    STAGE_EVENT_SOLD,           /* awarded to a buyer */
    STAGE_EVENT_PUT_BACK,       /* the buyer returned it: dpd, days_to_due, day, sold_day */
    STAGE_EVENT_COUNT
} stage_event_kind_t;

typedef struct {
    stage_event_kind_t kind;
    int32_t dpd;           /* where DPD stands now, for events that return to a DPD stage */
    int32_t days_to_due;   /* with dpd 0: see stage_for_dpd */
    int32_t day;           /* PUT_BACK: today */
    int32_t sold_day;      /* PUT_BACK: the day the account was sold */
} stage_event_t;

const char *stage_event_name(stage_event_kind_t kind);

/* The stage after event. STAGE_OK with *next (possibly == current: the event changed
 * nothing), or STAGE_EILLEGAL / STAGE_EWINDOW with *next = current. reason (may be NULL)
 * receives a line for the account timeline either way:
 *   "early -> paid: paid"            "paid is terminal: refer_legal refused" */
int stage_next(const stage_ranges_t *ranges, stage_t current, const stage_event_t *event,
               stage_t *next, char *reason, size_t reason_len);

/* ---------------------------------------------------------------- holds */

typedef enum {
    HOLD_COMPLAINT = 0,   /* about how the debt is collected; response deadline */
    HOLD_DISPUTE,         /* the debt itself is disputed; response deadline */
    HOLD_CEASE_CONTACT,   /* the borrower asked not to be contacted */
    HOLD_BANKRUPTCY,
    HOLD_DECEASED,
    HOLD_LITIGATION,      /* a court case about the account is running */
    HOLD_MANUAL,          /* an operator placed it */
    HOLD_COUNT
} hold_kind_t;

#define HOLD_BIT(kind) (UINT32_C(1) << (kind))
#define STAGE_NO_DAY INT32_MIN   /* a day not set (a hold not placed, no deadline) */

/* The holds on one account: a bit per kind, with the day each was placed and, for a
 * complaint or dispute, the day a response is due. */
typedef struct {
    uint32_t bits;
    int32_t since_day[HOLD_COUNT];
    int32_t deadline_day[HOLD_COUNT];
} holds_t;

void holds_init(holds_t *holds);
/* Places a hold on day. deadline_day (STAGE_NO_DAY for none) is the response deadline
 * of a complaint or dispute. Placing one already placed keeps the first day and the
 * earlier deadline: a second complaint does not postpone the answer to the first. */
void holds_place(holds_t *holds, hold_kind_t kind, int32_t day, int32_t deadline_day);
/* STAGE_OK, or STAGE_ENOTHELD when it was not placed. */
int holds_lift(holds_t *holds, hold_kind_t kind);
bool holds_has(const holds_t *holds, hold_kind_t kind);
bool holds_any(const holds_t *holds);
/* A complaint or dispute still open after its response deadline day. */
bool holds_response_overdue(const holds_t *holds, hold_kind_t kind, int32_t today_day);

const char *hold_name(hold_kind_t kind);
int hold_from_name(const char *name, hold_kind_t *kind);

/* Whether staging may ask outreach to contact the borrower about this account now.
 * false in a terminal stage, in current (nothing to collect) and under any hold. In
 * legal the strategy's legal-stage actions are requested like any other: outreach
 * leases their calls and visits only to the firm or agency holding the case, through
 * the gate. *reason (may be NULL) gets a static line saying why ("on hold: dispute"),
 * or "contact allowed". */
bool stage_contact_allowed(stage_t stage, const holds_t *holds, const char **reason);

const char *stage_strerror(int code);

#endif
