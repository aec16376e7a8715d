/* validate: the checks of every field of every message a loan platform (or staging,
 * for status events) sends. intake applies them before anything is stored or
 * forwarded; staging applies them again at its own door, because what it receives may
 * come from an older intake with older rules.
 *
 * Pure: no sockets, no storage, no clock of its own (the caller passes now_ms), so
 * the rules can be tested exhaustively and the service's apply function can call it
 * first and write only after it said yes (receiver.h: decide first, write second).
 *
 * The rules are the limits written in proto/platform.proto and proto/account.proto.
 * A refusal is a Reject of class PERMANENT, code INVALID_FIELD, whose `field` is the
 * exact path of the offending field ("borrower.phones[2].value", "schedule[3].due_date")
 * and whose reason says what is wrong in words a platform engineer can act on. Reasons
 * never repeat personal data (names, phones, e-mails, addresses): rejects end up in
 * dead-letter tables and logs.
 *
 * Conventions:
 * - An optional text field that is absent or empty counts as not given; a required one
 *   that is absent or empty is refused as missing.
 * - An optional amount that is absent counts as 0.
 * - Every text field must be valid UTF-8 (no overlong forms, no UTF-16 surrogates,
 *   nothing above U+10FFFF). Single-line fields (names, address lines, refs, categories)
 *   also refuse control characters; free text (complaint text, recall reason) may hold
 *   tabs and line breaks.
 * - Enumerations are checked against the compiled contract: protobuf-c keeps an unknown
 *   enum number as it came, so a number a newer platform invents is refused here.
 *
 * One exception to "PERMANENT": when the borrower's time zone cannot be checked for a
 * reason that is ours (zone cache full, out of memory, zone file unreadable), the
 * reject is RETRY_LATER / BUSY, so a valid account is not dead-lettered for our fault. */
#ifndef ARREARS_VALIDATE_H
#define ARREARS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"   /* reject_t and the generated wire contract */
#include "tz.h"

/* Limits a deployment could tune; validate_default_limits() gives the documented ones. */
typedef struct {
    size_t max_instalments;     /* 600 */
    size_t max_contact_points;  /* 8 per list (phones, e-mails) */
    int64_t max_rate_bps;       /* 1,000,000 (10,000%) */
    int64_t future_slack_ms;    /* instants may be this far past now (clock skew): 300000 */
} validate_limits_t;

validate_limits_t validate_default_limits(void);

/* Each returns 0 when the message is valid, else APPLY_REJECTED with *reject filled
 * (PERMANENT, INVALID_FIELD; see the exception above for time zones). */

/* zones: the service's zone cache; the borrower's time zone must load from it. */
int validate_account_upsert(const Arrears__AccountUpsert *m, const validate_limits_t *lim,
                            tz_cache_t *zones, reject_t *reject);
/* now_ms: intake's clock; paid_at_ms may be at most lim->future_slack_ms past it.
 * Whether the currency is the account's is the caller's check: it has the account. */
int validate_payment(const Arrears__PaymentPosted *m, int64_t now_ms,
                     const validate_limits_t *lim, reject_t *reject);
int validate_contact_update(const Arrears__ContactUpdate *m, const validate_limits_t *lim,
                            reject_t *reject);
int validate_complaint(const Arrears__Complaint *m, int64_t now_ms,
                       const validate_limits_t *lim, reject_t *reject);
int validate_recall(const Arrears__Recall *m, reject_t *reject);
/* From staging: platform, event.account_ref and event.kind required; strings bounded. */
int validate_status_event(const Arrears__StatusEvent *m, reject_t *reject);
/* A query: max_events 0..1000 (0 or absent means the default page). */
int validate_feed_query(const Arrears__FeedQuery *m, reject_t *reject);

/* A platform reference (account, payment, complaint): 1..64 bytes of [A-Za-z0-9._:-]. */
#define VALIDATE_REF_MAX_BYTES 64
bool validate_ref(const char *ref);

/* "YYYY-MM-DD", a real calendar date with a year in 1970..2200: 0 and *days = days
 * since 1970-01-01; else -1 and *days untouched. */
#define VALIDATE_YEAR_MIN 1970
#define VALIDATE_YEAR_MAX 2200
int validate_date(const char *text, int64_t *days);

#endif
