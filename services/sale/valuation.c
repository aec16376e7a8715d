/* valuation: a portfolio's value and reserve from the recovery curve (valuation.h). */
#include "valuation.h"

#include <stdio.h>
#include <string.h>

#include "money.h"

static int invalid(char *why, size_t why_len, const char *what, const char *band)
{
    snprintf(why, why_len, "%s%s%s", what, band ? ": " : "", band ? band : "");
    return VALUATION_EINVALID;
}

static int check_curve(const curve_t *c, char *why, size_t why_len)
{
    if (!c->balance_band[0])
        return invalid(why, why_len, "a curve needs the balance band it is for", NULL);
    if (c->point_count == 0 || c->point_count > VALUATION_MAX_POINTS)
        return invalid(why, why_len, "a curve needs 1 to 16 points", c->balance_band);
    if (c->points[0].from_dpd != 0)
        return invalid(why, why_len, "a curve's first point is at DPD 0", c->balance_band);
    for (size_t i = 0; i < c->point_count; i++) {
        const curve_point_t *p = &c->points[i];
        if (p->recovery_bps < 0 || p->recovery_bps > MONEY_BPS_ONE)
            return invalid(why, why_len, "a recovery share is 0 .. 10000 bps", c->balance_band);
        if (i > 0 && p->from_dpd <= c->points[i - 1].from_dpd)
            return invalid(why, why_len, "a curve's points rise strictly by DPD",
                           c->balance_band);
    }
    return VALUATION_OK;
}

int valuation_curves_check(const curves_t *curves, char *why, size_t why_len)
{
    if (!curves->version[0])
        return invalid(why, why_len, "the curves need a version", NULL);
    if (curves->margin_bps < 0 || curves->margin_bps > VALUATION_MAX_MARGIN_BPS)
        return invalid(why, why_len, "margin_bps is 0 .. 9000", NULL);
    if (curves->curve_count == 0 || curves->curve_count > PORTFOLIO_MAX_BANDS)
        return invalid(why, why_len, "between 1 and 16 curves are needed", NULL);
    for (size_t i = 0; i < curves->curve_count; i++) {
        int rc = check_curve(&curves->curves[i], why, why_len);
        if (rc != VALUATION_OK)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(curves->curves[i].balance_band, curves->curves[j].balance_band) == 0)
                return invalid(why, why_len, "two curves for one balance band",
                               curves->curves[i].balance_band);
    }
    return VALUATION_OK;
}

int valuation_recovery_bps(const curves_t *curves, const char *balance_band, int32_t dpd,
                           int64_t *bps, int32_t *from_dpd)
{
    for (size_t i = 0; i < curves->curve_count; i++) {
        const curve_t *c = &curves->curves[i];
        if (strcmp(c->balance_band, balance_band) != 0)
            continue;
        size_t k = 0;
        while (k + 1 < c->point_count && c->points[k + 1].from_dpd <= dpd)
            k++;
        *bps = c->points[k].recovery_bps;
        *from_dpd = c->points[k].from_dpd;
        return VALUATION_OK;
    }
    return VALUATION_ENOCURVE;
}

void valuation_start(valuation_t *v, const curves_t *curves)
{
    memset(v, 0, sizeof *v);
    snprintf(v->version, sizeof v->version, "%s", curves->version);
    v->margin_bps = curves->margin_bps;
}

static valuation_line_t *line_for(valuation_t *v, const char *band, int32_t from_dpd,
                                  int64_t bps)
{
    for (size_t i = 0; i < v->line_count; i++)
        if (v->lines[i].from_dpd == from_dpd && strcmp(v->lines[i].balance_band, band) == 0)
            return &v->lines[i];
    if (v->line_count == VALUATION_MAX_LINES)
        return NULL;   /* cannot happen: a line per (curve, point) at most */
    valuation_line_t *l = &v->lines[v->line_count];
    memset(l, 0, sizeof *l);
    snprintf(l->balance_band, sizeof l->balance_band, "%s", band);
    l->from_dpd = from_dpd;
    l->recovery_bps = bps;
    return l;
}

int valuation_add(valuation_t *v, const curves_t *curves, const char *balance_band,
                  int32_t dpd, int64_t outstanding_minor)
{
    int64_t bps, expected, line_out, line_exp, total_out, value;
    int32_t from_dpd;
    if (valuation_recovery_bps(curves, balance_band, dpd, &bps, &from_dpd) != VALUATION_OK)
        return VALUATION_ENOCURVE;
    valuation_line_t *l = line_for(v, balance_band, from_dpd, bps);
    if (!l || money_apply_bps(outstanding_minor, bps, &expected) != MONEY_OK ||
        money_add(l->outstanding_minor, outstanding_minor, &line_out) != MONEY_OK ||
        money_add(l->expected_minor, expected, &line_exp) != MONEY_OK ||
        money_add(v->outstanding_minor, outstanding_minor, &total_out) != MONEY_OK ||
        money_add(v->value_minor, expected, &value) != MONEY_OK)
        return VALUATION_EOVERFLOW;
    if (l == &v->lines[v->line_count])
        v->line_count++;
    l->accounts++;
    l->outstanding_minor = line_out;
    l->expected_minor = line_exp;
    v->accounts++;
    v->outstanding_minor = total_out;
    v->value_minor = value;
    return VALUATION_OK;
}

int valuation_finish(valuation_t *v)
{
    int64_t margin;
    if (money_apply_bps(v->value_minor, v->margin_bps, &margin) != MONEY_OK ||
        money_sub(v->value_minor, margin, &v->reserve_minor) != MONEY_OK)
        return VALUATION_EOVERFLOW;
    return VALUATION_OK;
}

const char *valuation_strerror(int code)
{
    switch (code) {
    case VALUATION_OK: return "ok";
    case VALUATION_ENOCURVE: return "no recovery curve for the balance band";
    case VALUATION_EOVERFLOW: return "the valuation overflows int64 minor units";
    case VALUATION_EINVALID: return "the recovery curves are not valid";
    default: return "unknown valuation error";
    }
}
