/* score: the transparent risk scorecard and the segments built on it.
 *
 * A score is base points plus one band's points per factor, all from the config, and
 * every score carries its reasons: one line per term, whose points add up to the score
 * exactly ("base: +600", "dpd 31-60: -20", ...). Nothing is fitted or hidden, so an
 * operator, a complaint handler or a court can see why an account was treated as it was.
 *
 * Factors (each a list of bands covering 0 .. infinity without gaps or overlaps):
 *   dpd              days past due
 *   payments         payments received in the last payment_window_days (today included)
 *   broken_promises  broken promises and plans so far
 *   contact_points   phones and e-mails that are both verified and consented
 *   balance_minor    outstanding balance, minor units of the strategy's currency
 * A factor left out of the config scores nothing and gives no reason line.
 *
 * Segments split accounts by score band, balance band and product; the first segment in
 * the file that matches wins, and the last must match everything (a catch-all), so every
 * account has exactly one segment. */
#ifndef ARREARS_STAGING_SCORE_H
#define ARREARS_STAGING_SCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"

enum {
    SCORE_OK = 0,
    SCORE_ECONFIG = -32701,   /* scorecard or segments refused (err: file:line and why) */
    SCORE_EUNKNOWN = -32702,  /* no segment or product by that name */
};

#define SCORE_MAX_BANDS 16          /* per factor */
#define SCORE_MAX_POINTS 100000     /* |points| of one band or the base */
#define SCORE_MAX_WINDOW_DAYS 3650
#define SCORE_REASON_MAX 72         /* bytes of one reason line, NUL included */
#define SEGMENT_MAX 16
#define SEGMENT_NAME_MAX 32         /* bytes, NUL excluded */
#define SCORE_NO_UPPER INT64_MAX    /* an open-ended band's to */

typedef enum {
    SCORE_FACTOR_DPD = 0,
    SCORE_FACTOR_PAYMENTS,
    SCORE_FACTOR_BROKEN_PROMISES,
    SCORE_FACTOR_CONTACT_POINTS,
    SCORE_FACTOR_BALANCE,
    SCORE_FACTOR_COUNT
} score_factor_t;

/* Base points, then one line per factor. */
#define SCORE_MAX_REASONS (1 + SCORE_FACTOR_COUNT)

typedef struct {
    int64_t from;   /* inclusive */
    int64_t to;     /* inclusive; SCORE_NO_UPPER for the last band */
    int64_t points;
} score_band_t;

typedef struct {
    int64_t base_points;
    int32_t payment_window_days;
    uint32_t band_count[SCORE_FACTOR_COUNT];   /* 0: the factor is not scored */
    score_band_t bands[SCORE_FACTOR_COUNT][SCORE_MAX_BANDS];
} score_card_t;

typedef struct {
    int32_t dpd;                     /* >= 0 */
    int32_t today_day;
    const int32_t *payment_days;     /* the days payments were received, any order */
    size_t payment_count;
    uint32_t broken_promises;
    uint32_t contact_points;         /* verified AND consented phones + e-mails */
    int64_t balance_minor;           /* >= 0 */
} score_inputs_t;

typedef struct {
    int64_t points;
    char text[SCORE_REASON_MAX];     /* "dpd 31-60: -20" */
} score_reason_t;

typedef struct {
    int64_t points;                  /* the sum of reasons[].points */
    uint32_t reason_count;
    score_reason_t reasons[SCORE_MAX_REASONS];
} score_result_t;

/* A card with base 0, a 90-day payment window and no factors. */
void score_card_init(score_card_t *card);

/* Reads the group at group_path (absent: score_card_init's card):
 *   scorecard = {
 *     base_points = 600;
 *     payment_window_days = 90;
 *     dpd = ( { from = 0; to = 0; points = 0; }, { from = 1; to = 30; points = -10; },
 *             { from = 31; points = -40; } );      # the last band has no `to`
 *     payments = ( ... ); broken_promises = ( ... ); contact_points = ( ... );
 *     balance_minor = ( ... );
 *   };
 * Bands start at 0, each starts the day after the previous ends, the last is open:
 * otherwise SCORE_ECONFIG with "file:line: why" (gap, overlap, ...). */
int score_card_load(const conf_t *conf, const char *group_path, score_card_t *card,
                    char *err, size_t err_len);

/* The factor names above ("dpd", "payments", ...). */
const char *score_factor_name(score_factor_t factor);

/* Scores one account. Always succeeds for inputs within their domain (asserted). */
void score_account(const score_card_t *card, const score_inputs_t *inputs,
                   score_result_t *result);

/* ---------------------------------------------------------------- segments */

/* Product names as the strategy file writes them, one per proto Product value:
 * "online_loan", "credit_card", "instalment_loan", "bnpl". */
const char *score_product_name(int product);
int score_product_from_name(const char *name, int *product);

typedef struct {
    char name[SEGMENT_NAME_MAX + 1];
    int64_t min_score, max_score;                 /* inclusive; INT64_MIN/MAX: open */
    int64_t min_balance_minor, max_balance_minor; /* inclusive */
    uint32_t product_bits;                        /* 1 << product; 0: any product */
} segment_t;

typedef struct {
    uint32_t count;
    segment_t segments[SEGMENT_MAX];
} segments_t;

/* One catch-all segment called "all". */
void segments_init(segments_t *segments);

/* Reads the list at list_path (absent: segments_init's):
 *   segments = (
 *     { name = "high_risk"; max_score = 449; },
 *     { name = "large_card"; min_balance_minor = 2000000L; products = ["credit_card"]; },
 *     { name = "standard"; }                         # catch-all, last
 *   );
 * Refused: a duplicate or empty name, min above max, an unknown product, more than
 * SEGMENT_MAX, a last segment that does not match every account. */
int segments_load(const conf_t *conf, const char *list_path, segments_t *segments,
                  char *err, size_t err_len);

/* The index of the first segment matching; always one (the catch-all). */
int segment_for(const segments_t *segments, int64_t score, int64_t balance_minor,
                int product);
const char *segment_name(const segments_t *segments, int index);
/* SCORE_OK and *index, or SCORE_EUNKNOWN. */
int segment_find(const segments_t *segments, const char *name, int *index);
/* Fills names with every segment name in order and a NULL after them (for conf_enum);
 * the pointers are into segments. */
void segment_names(const segments_t *segments, const char *names[SEGMENT_MAX + 1]);

const char *score_strerror(int code);

#endif
