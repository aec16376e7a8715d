/* portfolio: eligibility, cuts and sizes of the portfolios sale offers (portfolio.h). */
#include "portfolio.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

int portfolio_eligible(const listed_t *l, char *why, size_t why_len)
{
    const char *reason = NULL;
    if (!l->may_sell)
        reason = "the platform's mandate does not allow a sale";
    else if (l->bankrupt)
        reason = "the borrower is bankrupt";
    else if (l->deceased)
        reason = "the borrower is deceased";
    else if (l->dispute_open)
        reason = "the debt is disputed";
    else if (l->in_litigation)
        reason = "the account is in litigation";
    else if (l->outstanding_minor <= 0)
        reason = "nothing is owed";
    if (!reason)
        return PORTFOLIO_OK;
    snprintf(why, why_len, "%s", reason);
    return PORTFOLIO_EINELIGIBLE;
}

static int dpd_band_of(const cuts_t *cuts, int32_t dpd)
{
    for (size_t i = 0; i < cuts->dpd_band_count; i++)
        if (dpd >= cuts->dpd_bands[i].from_dpd && dpd < cuts->dpd_bands[i].to_dpd)
            return (int)i;
    return -1;
}

static int balance_band_of(const cuts_t *cuts, const char *currency, int64_t minor)
{
    for (size_t i = 0; i < cuts->balance_band_count; i++) {
        const balance_band_t *b = &cuts->balance_bands[i];
        if (strcmp(b->currency, currency) == 0 && minor >= b->from_minor && minor < b->to_minor)
            return (int)i;
    }
    return -1;
}

int portfolio_cut_for(const cuts_t *cuts, const listed_t *l, cut_t *out, char *why,
                      size_t why_len)
{
    int d = dpd_band_of(cuts, l->days_past_due);
    if (d < 0) {
        snprintf(why, why_len, "DPD %d is in no DPD band", (int)l->days_past_due);
        return PORTFOLIO_ENOBAND;
    }
    int b = balance_band_of(cuts, l->currency, l->outstanding_minor);
    if (b < 0) {
        snprintf(why, why_len, "a balance of %lld %.3s minor units is in no balance band",
                 (long long)l->outstanding_minor, l->currency);
        return PORTFOLIO_ENOBAND;
    }
    memset(out, 0, sizeof *out);
    out->product = l->product;
    snprintf(out->currency, sizeof out->currency, "%.3s", l->currency);
    out->dpd_band = d;
    out->balance_band = b;
    return PORTFOLIO_OK;
}

static int invalid(char *why, size_t why_len, const char *what, const char *name)
{
    snprintf(why, why_len, "%s%s%s", what, name ? ": " : "", name ? name : "");
    return PORTFOLIO_EINVALID;
}

static int check_dpd_bands(const cuts_t *cuts, char *why, size_t why_len)
{
    if (cuts->dpd_band_count == 0 || cuts->dpd_band_count > PORTFOLIO_MAX_BANDS)
        return invalid(why, why_len, "between 1 and 16 DPD bands are needed", NULL);
    for (size_t i = 0; i < cuts->dpd_band_count; i++) {
        const dpd_band_t *a = &cuts->dpd_bands[i];
        if (!a->name[0] || a->from_dpd < 0 || a->from_dpd >= a->to_dpd)
            return invalid(why, why_len, "a DPD band needs a name and 0 <= from < to", a->name);
        for (size_t j = 0; j < i; j++) {
            const dpd_band_t *b = &cuts->dpd_bands[j];
            if (strcmp(a->name, b->name) == 0)
                return invalid(why, why_len, "two DPD bands share a name", a->name);
            if (a->from_dpd < b->to_dpd && b->from_dpd < a->to_dpd)
                return invalid(why, why_len, "DPD bands overlap", a->name);
        }
    }
    return PORTFOLIO_OK;
}

static int check_balance_bands(const cuts_t *cuts, char *why, size_t why_len)
{
    if (cuts->balance_band_count == 0 || cuts->balance_band_count > PORTFOLIO_MAX_BANDS)
        return invalid(why, why_len, "between 1 and 16 balance bands are needed", NULL);
    for (size_t i = 0; i < cuts->balance_band_count; i++) {
        const balance_band_t *a = &cuts->balance_bands[i];
        if (!a->name[0] || strlen(a->currency) != 3 || a->from_minor < 0 ||
            a->from_minor >= a->to_minor)
            return invalid(why, why_len, "a balance band needs a name, a currency and "
                           "0 <= from < to", a->name);
        for (size_t j = 0; j < i; j++) {
            const balance_band_t *b = &cuts->balance_bands[j];
            if (strcmp(a->name, b->name) == 0 && strcmp(a->currency, b->currency) == 0)
                return invalid(why, why_len, "two balance bands of one currency share a name",
                               a->name);
            if (strcmp(a->currency, b->currency) == 0 && a->from_minor < b->to_minor &&
                b->from_minor < a->to_minor)
                return invalid(why, why_len, "balance bands overlap", a->name);
        }
    }
    return PORTFOLIO_OK;
}

int portfolio_cuts_check(const cuts_t *cuts, char *why, size_t why_len)
{
    int rc = check_dpd_bands(cuts, why, why_len);
    if (rc == PORTFOLIO_OK)
        rc = check_balance_bands(cuts, why, why_len);
    if (rc == PORTFOLIO_OK &&
        (cuts->min_accounts < 1 || cuts->max_accounts < cuts->min_accounts ||
         cuts->max_accounts > PORTFOLIO_MAX_ACCOUNTS))
        rc = invalid(why, why_len, "portfolio sizes need 1 <= min_accounts <= max_accounts "
                     "<= 100000", NULL);
    return rc;
}

size_t portfolio_plan(const cuts_t *cuts, size_t waiting, size_t sizes[PORTFOLIO_MAX_PORTFOLIOS],
                      size_t *count)
{
    size_t min = cuts->min_accounts, max = cuts->max_accounts;
    assert(min >= 1 && max >= min);
    size_t fewest = (waiting + max - 1) / max, most = waiting / min;
    size_t n, taken;
    if (most == 0) {
        *count = 0;
        return 0;
    }
    if (fewest <= most && fewest <= PORTFOLIO_MAX_PORTFOLIOS) {
        n = fewest;     /* all of them, as even as possible: each between min and max */
        taken = waiting;
    } else {
        n = waiting / max < PORTFOLIO_MAX_PORTFOLIOS ? waiting / max : PORTFOLIO_MAX_PORTFOLIOS;
        if (n == 0) {   /* min <= waiting < max would have been "all of them" */
            *count = 0;
            return 0;
        }
        taken = n * max;
    }
    for (size_t i = 0; i < n; i++)
        sizes[i] = taken / n + (i < taken % n ? 1 : 0);
    *count = n;
    return taken;
}

const char *portfolio_strerror(int code)
{
    switch (code) {
    case PORTFOLIO_OK: return "ok";
    case PORTFOLIO_EINELIGIBLE: return "the account may not be sold";
    case PORTFOLIO_ENOBAND: return "the account is in no band of the sale's cuts";
    case PORTFOLIO_EINVALID: return "the cuts are not valid";
    default: return "unknown portfolio error";
    }
}
