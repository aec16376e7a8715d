/* portfolio: which listed accounts may be sold, which portfolio each belongs in, and how
 * many portfolios a waiting group makes (DESIGN.md section 5). Pure.
 *
 * Eligibility. sale re-checks what staging checked when it listed the account: the
 * platform's mandate to sell, no bankruptcy, no death, no open dispute, no litigation,
 * something owed. A listing that fails is answered SALE_WITHDRAWN with the reason.
 *
 * Cutting. Accounts a buyer would price alike sell together: a cut is (product,
 * currency, DPD band, balance band). Bands are half-open ranges [from, to); the balance
 * bands are per currency, since 5,000 means little without one. An account in no band
 * is not for sale under this configuration (the reason names what it missed).
 *
 * Sizing. A cut's waiting accounts make portfolios of min_accounts to max_accounts. The
 * fewest portfolios that hold them all are made, as even as possible, when each can
 * still reach min_accounts; otherwise as many full portfolios (max_accounts) as the
 * waiting accounts fill and the rest waits for the next cycle. Fewer than min_accounts
 * make none. */
#ifndef ARREARS_SALE_PORTFOLIO_H
#define ARREARS_SALE_PORTFOLIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTFOLIO_MAX_BANDS 16
#define PORTFOLIO_BAND_NAME_MAX 24
#define PORTFOLIO_MAX_ACCOUNTS 100000   /* in one portfolio: its file must stay pullable */
#define PORTFOLIO_MAX_PORTFOLIOS 64     /* made from one cut in one cycle */
#define PORTFOLIO_REASON_MAX 160

enum {
    PORTFOLIO_OK = 0,
    PORTFOLIO_EINELIGIBLE = -31101,   /* the account may not be sold: see the reason */
    PORTFOLIO_ENOBAND = -31102,       /* in no DPD or balance band of the configuration */
    PORTFOLIO_EINVALID = -31103,      /* a configuration that cannot cut (checked at load) */
};

typedef struct {
    char name[PORTFOLIO_BAND_NAME_MAX + 1];
    int32_t from_dpd;     /* inclusive */
    int32_t to_dpd;       /* exclusive; INT32_MAX: no upper end */
} dpd_band_t;

typedef struct {
    char name[PORTFOLIO_BAND_NAME_MAX + 1];
    char currency[4];
    int64_t from_minor;   /* inclusive */
    int64_t to_minor;     /* exclusive; INT64_MAX: no upper end */
} balance_band_t;

typedef struct {
    size_t dpd_band_count;
    dpd_band_t dpd_bands[PORTFOLIO_MAX_BANDS];
    size_t balance_band_count;
    balance_band_t balance_bands[PORTFOLIO_MAX_BANDS];
    uint32_t min_accounts;   /* 1 .. max_accounts */
    uint32_t max_accounts;   /* .. PORTFOLIO_MAX_ACCOUNTS */
} cuts_t;

/* What eligibility and cutting read of a listing. */
typedef struct {
    bool may_sell;
    bool bankrupt;
    bool deceased;
    bool dispute_open;
    bool in_litigation;
    int product;              /* proto Product */
    const char *currency;
    int64_t outstanding_minor;
    int32_t days_past_due;
} listed_t;

typedef struct {
    int product;
    char currency[4];
    int dpd_band;             /* index into cuts_t.dpd_bands */
    int balance_band;         /* index into cuts_t.balance_bands */
} cut_t;

/* PORTFOLIO_OK, or PORTFOLIO_EINELIGIBLE with why (the first reason, in the order of
 * the top of this file). */
int portfolio_eligible(const listed_t *l, char *why, size_t why_len);

/* The account's cut: PORTFOLIO_OK, or PORTFOLIO_ENOBAND with why. Bands that overlap
 * are refused at load (portfolio_cuts_check), so the first match is the only one. */
int portfolio_cut_for(const cuts_t *cuts, const listed_t *l, cut_t *out, char *why,
                      size_t why_len);

/* PORTFOLIO_OK when the bands are named, non-empty, do not overlap (per currency) and
 * the sizes are sane; else PORTFOLIO_EINVALID with why. */
int portfolio_cuts_check(const cuts_t *cuts, char *why, size_t why_len);

/* How waiting accounts of one cut split into portfolios (the top of this file): fills
 * sizes[0 .. *count) and returns the accounts they take (the rest waits). */
size_t portfolio_plan(const cuts_t *cuts, size_t waiting, size_t sizes[PORTFOLIO_MAX_PORTFOLIOS],
                      size_t *count);

const char *portfolio_strerror(int code);

#endif
