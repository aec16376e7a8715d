/* valuation: what a portfolio is worth and the least the seller takes for it (DESIGN.md
 * section 5). Pure.
 *
 * The curve. The configuration states, per balance band, the share of the balance a
 * buyer can expect to recover at each age: points (from_dpd, recovery_bps), sorted by
 * from_dpd, each holding until the next. An older debt recovers less, so the shares are
 * usually falling; that is the configuration's business, not checked here.
 *
 * Value. Each account's expected recovery is outstanding * recovery_bps / 10000,
 * rounded half to even once per account; the value is their sum. The reserve is the
 * value less margin_bps of it (half to even): the seller's price floor, never shown to
 * a buyer.
 *
 * Inputs kept. A valuation keeps its lines: for each (balance band, curve point) used,
 * the accounts, their balance and their expected recovery, plus the curve's version and
 * the margin. Anyone can redo the sum from them; a curve edited later does not change
 * a valuation already made. */
#ifndef ARREARS_SALE_VALUATION_H
#define ARREARS_SALE_VALUATION_H

#include <stddef.h>
#include <stdint.h>

#include "portfolio.h"

#define VALUATION_MAX_POINTS 16
#define VALUATION_VERSION_MAX 32
#define VALUATION_MAX_LINES (PORTFOLIO_MAX_BANDS * VALUATION_MAX_POINTS)
#define VALUATION_MAX_MARGIN_BPS 9000

enum {
    VALUATION_OK = 0,
    VALUATION_ENOCURVE = -31201,   /* no curve for the account's balance band */
    VALUATION_EOVERFLOW = -31202,  /* a sum beyond int64 minor units */
    VALUATION_EINVALID = -31203,   /* a curve that cannot value (checked at load) */
};

typedef struct {
    int32_t from_dpd;
    int64_t recovery_bps;          /* 0 .. 10000 */
} curve_point_t;

typedef struct {
    char balance_band[PORTFOLIO_BAND_NAME_MAX + 1];   /* a band name of the cuts */
    size_t point_count;
    curve_point_t points[VALUATION_MAX_POINTS];
} curve_t;

typedef struct {
    char version[VALUATION_VERSION_MAX + 1];   /* the configuration's name for it */
    int64_t margin_bps;                        /* 0 .. VALUATION_MAX_MARGIN_BPS */
    size_t curve_count;
    curve_t curves[PORTFOLIO_MAX_BANDS];
} curves_t;

typedef struct {
    char balance_band[PORTFOLIO_BAND_NAME_MAX + 1];
    int32_t from_dpd;
    int64_t recovery_bps;
    uint32_t accounts;
    int64_t outstanding_minor;
    int64_t expected_minor;
} valuation_line_t;

typedef struct {
    char version[VALUATION_VERSION_MAX + 1];
    int64_t margin_bps;
    uint32_t accounts;
    int64_t outstanding_minor;
    int64_t value_minor;           /* the sum of the lines' expected recoveries */
    int64_t reserve_minor;         /* value less margin_bps of it */
    size_t line_count;
    valuation_line_t lines[VALUATION_MAX_LINES];
} valuation_t;

/* VALUATION_OK when every curve names a band, has 1.. points sorted by from_dpd
 * (strictly), the first at 0, shares within 0 .. 10000, and margin is in range. */
int valuation_curves_check(const curves_t *curves, char *why, size_t why_len);

/* The share the curve gives a balance band at a DPD; VALUATION_ENOCURVE when no curve. */
int valuation_recovery_bps(const curves_t *curves, const char *balance_band, int32_t dpd,
                           int64_t *bps, int32_t *from_dpd);

/* Starts a valuation under curves (empty, version and margin copied). */
void valuation_start(valuation_t *v, const curves_t *curves);

/* Adds one account; on an error *v is unchanged. */
int valuation_add(valuation_t *v, const curves_t *curves, const char *balance_band,
                  int32_t dpd, int64_t outstanding_minor);

/* Computes reserve_minor from value_minor and margin_bps. */
int valuation_finish(valuation_t *v);

const char *valuation_strerror(int code);

#endif
