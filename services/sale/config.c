/* config: the sale service's configuration file (see config.h). */
#include "config.h"

#include <string.h>

#include "money.h"
#include "sale.pb-c.h"
#include "tz.h"

static const char *const kind_names[] = {"one_off", "forward_flow", NULL};

static int band_name(const conf_t *c, const config_setting_t *g, char *out, char *err,
                     size_t len)
{
    const char *name = NULL;
    int rc = conf_string_at(c, g, "name", NULL, PORTFOLIO_BAND_NAME_MAX, &name, err, len);
    if (rc == 0 && (!name || !*name || strchr(name, '/')))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "a band needs a name without '/'");
    if (rc == 0)
        snprintf(out, PORTFOLIO_BAND_NAME_MAX + 1, "%s", name);
    return rc;
}

static int load_dpd_band(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                         char *err, size_t len)
{
    sale_config_t *o = arg;
    static const char *const keys[] = {"name", "from_dpd", "to_dpd", NULL};
    dpd_band_t *b = &o->cuts.dpd_bands[i];
    int64_t from = 0, to = INT32_MAX;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : band_name(c, g, b->name, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "from_dpd", 0, 0, 100000, &from, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "to_dpd", INT32_MAX, 1, INT32_MAX, &to, err, len);
    b->from_dpd = (int32_t)from;
    b->to_dpd = (int32_t)to;
    return rc;
}

static int load_balance_band(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                             char *err, size_t len)
{
    sale_config_t *o = arg;
    static const char *const keys[] = {"name", "currency", "from_minor", "to_minor", NULL};
    balance_band_t *b = &o->cuts.balance_bands[i];
    const char *code = NULL;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : band_name(c, g, b->name, err, len);
    rc = rc ? rc : conf_string_at(c, g, "currency", NULL, 3, &code, err, len);
    if (rc == 0 && (!code || !money_currency_known(code)))
        return conf_error_at(c, g, CONF_ERANGE, err, len,
                             "currency must be an ISO 4217 code with a minor unit");
    rc = rc ? rc : conf_int64_at(c, g, "from_minor", 1, 1, INT64_MAX, &b->from_minor, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "to_minor", INT64_MAX, 1, INT64_MAX, &b->to_minor, err, len);
    if (rc == 0)
        snprintf(b->currency, sizeof b->currency, "%s", code);
    return rc;
}

static int load_point(const conf_t *c, const config_setting_t *g, curve_point_t *p, char *err,
                      size_t len)
{
    static const char *const keys[] = {"from_dpd", "recovery_bps", NULL};
    int64_t from = 0;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    if (rc == 0 && !config_setting_get_member(g, "recovery_bps"))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "recovery_bps is required");
    rc = rc ? rc : conf_int64_at(c, g, "from_dpd", 0, 0, 100000, &from, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "recovery_bps", 0, 0, MONEY_BPS_ONE, &p->recovery_bps,
                                 err, len);
    p->from_dpd = (int32_t)from;
    return rc;
}

static int load_curve(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                      char *err, size_t len)
{
    sale_config_t *o = arg;
    static const char *const keys[] = {"balance_band", "points", NULL};
    curve_t *cv = &o->curves.curves[i];
    const char *band = NULL;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : conf_string_at(c, g, "balance_band", NULL, PORTFOLIO_BAND_NAME_MAX, &band,
                                  err, len);
    const config_setting_t *points = rc ? NULL : config_setting_get_member(g, "points");
    if (rc == 0 && (!band || !points || !config_setting_is_list(points) ||
                    config_setting_length(points) < 1 ||
                    config_setting_length(points) > VALUATION_MAX_POINTS))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "a curve needs balance_band and "
                             "points = ( { from_dpd = ...; recovery_bps = ...; }, ... ), 1 to 16");
    if (rc != 0)
        return rc;
    snprintf(cv->balance_band, sizeof cv->balance_band, "%s", band);
    cv->point_count = (size_t)config_setting_length(points);
    for (size_t k = 0; rc == 0 && k < cv->point_count; k++)
        rc = load_point(c, config_setting_get_elem(points, (unsigned)k), &cv->points[k], err, len);
    return rc;
}

static int load_buyers(const conf_t *c, const config_setting_t *g, sale_plan_t *p, char *err,
                       size_t len)
{
    const char *buyers[SALE_MAX_BUYERS];
    int rc = conf_strings_at(c, g, "buyers", SALE_MAX_BUYERS, INBOX_PRINCIPAL_MAX, buyers,
                             &p->buyer_count, err, len);
    if (rc == 0 && p->buyer_count == 0)
        return conf_error_at(c, g, CONF_ERANGE, err, len, "a plan needs at least one buyer");
    for (size_t i = 0; rc == 0 && i < p->buyer_count; i++)
        snprintf(p->buyers[i], sizeof p->buyers[i], "%s", buyers[i]);
    return rc;
}

/* first_open: a date (00:00 UTC); required for a one-off plan. */
static int load_first_open(const conf_t *c, const config_setting_t *g, sale_plan_t *p,
                           char *err, size_t len)
{
    const char *text = NULL;
    int rc = conf_string_at(c, g, "first_open", NULL, TZ_DATE_LEN, &text, err, len);
    if (rc != 0)
        return rc;
    p->first_open_ms = -1;
    if (!text && p->kind == ARREARS__SALE_KIND__SALE_ONE_OFF)
        return conf_error_at(c, g, CONF_ERANGE, err, len, "a one-off plan needs first_open");
    int64_t day;
    char why[96];
    if (text && !tz_date_parse(text, 1970, 2200, &day, why, sizeof why))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "first_open: %s", why);
    if (text)
        p->first_open_ms = day * 86400000;
    return 0;
}

static int plan_numbers(const conf_t *c, const config_setting_t *g, sale_plan_t *p, char *err,
                        size_t len)
{
    int64_t cycle = 0, bidding = 0, put_back = 0, relists = 0;
    bool flow = p->kind == ARREARS__SALE_KIND__SALE_FORWARD_FLOW;
    int rc = conf_int64_at(c, g, "cycle_days", flow ? 30 : 0, flow ? 1 : 0,
                           flow ? SALE_MAX_DAYS : 0, &cycle, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "bidding_days", 7, 1, 365, &bidding, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "put_back_days", 30, 0, 365, &put_back, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "relists", 1, 0, SALE_MAX_RELISTS, &relists, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "min_step_minor", 100, 1, INT64_MAX / 2,
                                 &p->min_step_minor, err, len);
    p->cycle_days = (int32_t)cycle;
    p->bidding_days = (int32_t)bidding;
    p->put_back_days = (int32_t)put_back;
    p->relists = (uint32_t)relists;
    return rc;
}

static int load_plan(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                     char *err, size_t len)
{
    sale_config_t *o = arg;
    static const char *const keys[] = {"name", "kind", "currency", "products", "buyers",
                                       "first_open", "cycle_days", "bidding_days",
                                       "min_step_minor", "put_back_days", "relists", NULL};
    sale_plan_t *p = &o->plans[i];
    const char *name = NULL, *code = NULL;
    int kind = 0;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : conf_string_at(c, g, "name", NULL, SALE_PLAN_NAME_MAX, &name, err, len);
    if (rc == 0 && (!name || !*name || strchr(name, '/')))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "a plan needs a name without '/'");
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (strcmp(o->plans[j].name, name) == 0)
            return conf_error_at(c, g, CONF_ERANGE, err, len, "plan %s is listed twice", name);
    rc = rc ? rc : conf_enum_at(c, g, "kind", kind_names, 1, &kind, err, len);
    rc = rc ? rc : conf_string_at(c, g, "currency", NULL, 3, &code, err, len);
    if (rc == 0 && (!code || !money_currency_known(code)))
        return conf_error_at(c, g, CONF_ERANGE, err, len,
                             "currency must be an ISO 4217 code with a minor unit");
    if (rc != 0)
        return rc;
    snprintf(p->name, sizeof p->name, "%s", name);
    snprintf(p->currency, sizeof p->currency, "%s", code);
    p->kind = kind == 0 ? ARREARS__SALE_KIND__SALE_ONE_OFF : ARREARS__SALE_KIND__SALE_FORWARD_FLOW;
    rc = svcconf_products_at(c, g, "products", &p->products, err, len);
    rc = rc ? rc : load_buyers(c, g, p, err, len);
    rc = rc ? rc : load_first_open(c, g, p, err, len);
    return rc ? rc : plan_numbers(c, g, p, err, len);
}

/* The pure modules' own checks, reported at the group they concern. */
static int check_rules(const conf_t *c, sale_config_t *o, char *err, size_t len)
{
    char why[PORTFOLIO_REASON_MAX];
    if (portfolio_cuts_check(&o->cuts, why, sizeof why) != PORTFOLIO_OK)
        return conf_error_at(c, conf_lookup(c, "sale"), CONF_ERANGE, err, len, "%s", why);
    if (valuation_curves_check(&o->curves, why, sizeof why) != VALUATION_OK)
        return conf_error_at(c, conf_lookup(c, "sale.curves"), CONF_ERANGE, err, len, "%s", why);
    for (size_t i = 0; i < o->cuts.balance_band_count; i++) {
        int64_t bps;
        int32_t from;
        if (valuation_recovery_bps(&o->curves, o->cuts.balance_bands[i].name, 0, &bps, &from) != 0)
            return conf_error_at(c, conf_lookup(c, "sale.curves"), CONF_ERANGE, err, len,
                                 "balance band %s has no curve", o->cuts.balance_bands[i].name);
    }
    return 0;
}

static int load_sale(conf_t *c, sale_config_t *o, char *err, size_t len)
{
    static const char *const sale_keys[] = {"min_accounts", "max_accounts", "dpd_bands",
                                            "balance_bands", "curves", "plans",
                                            "sweep_every_ms", NULL};
    static const char *const curve_keys[] = {"version", "margin_bps", "bands", NULL};
    int64_t min = 0, max = 0;
    const char *version = NULL;
    int rc = conf_check_keys(c, "sale", sale_keys, err, len);
    rc = rc ? rc : conf_check_keys(c, "sale.curves", curve_keys, err, len);
    rc = rc ? rc : conf_int64(c, "sale.min_accounts", 50, 1, PORTFOLIO_MAX_ACCOUNTS, &min, err, len);
    rc = rc ? rc : conf_int64(c, "sale.max_accounts", 5000, 1, PORTFOLIO_MAX_ACCOUNTS, &max, err, len);
    rc = rc ? rc : conf_int64(c, "sale.sweep_every_ms", 1000, 10, 3600000, &o->sweep_every_ms,
                              err, len);
    rc = rc ? rc : conf_string(c, "sale.curves.version", NULL, VALUATION_VERSION_MAX, &version,
                               err, len);
    rc = rc ? rc : conf_int64(c, "sale.curves.margin_bps", 1000, 0, VALUATION_MAX_MARGIN_BPS,
                              &o->curves.margin_bps, err, len);
    o->cuts.min_accounts = (uint32_t)min;
    o->cuts.max_accounts = (uint32_t)max;
    snprintf(o->curves.version, sizeof o->curves.version, "%s", version ? version : "");
    rc = rc ? rc : conf_each_group(c, "sale.dpd_bands", PORTFOLIO_MAX_BANDS, load_dpd_band, o,
                                   &o->cuts.dpd_band_count, err, len);
    rc = rc ? rc : conf_each_group(c, "sale.balance_bands", PORTFOLIO_MAX_BANDS,
                                   load_balance_band, o, &o->cuts.balance_band_count, err, len);
    rc = rc ? rc : conf_each_group(c, "sale.curves.bands", PORTFOLIO_MAX_BANDS, load_curve, o,
                                   &o->curves.curve_count, err, len);
    rc = rc ? rc : conf_each_group(c, "sale.plans", SALE_MAX_PLANS, load_plan, o,
                                   &o->plan_count, err, len);
    return rc ? rc : check_rules(c, o, err, len);
}

static int load_from(conf_t *c, sale_config_t *o, bool resolve_paths, char *err, size_t len)
{
    static const char *const top[] = {"data_dir", "durability", "log_level", "keys", "limits",
                                      "metrics", "listen", "staging", "clock", "create_secret",
                                      "sale", NULL};
    int rc = conf_check_keys(c, NULL, top, err, len);
    if (resolve_paths) {
        rc = rc ? rc : svcconf_load(c, &o->svc, err, len);
        rc = rc ? rc : svcconf_endpoint(c, "listen", o->listen, err, len);
        rc = rc ? rc : shards_load(c, "staging", &o->staging, err, len);
        rc = rc ? rc : svcconf_path(c, "keys.secret", NULL, o->secret_path, err, len);
    }
    rc = rc ? rc : conf_bool(c, "create_secret", false, &o->create_secret, err, len);
    rc = rc ? rc : svcconf_clock(c, &o->simulated, &o->simulated_start_ms, err, len);
    rc = rc ? rc : load_sale(c, o, err, len);
    /* An award tells staging about every account at once: the outbox must hold them. */
    if (rc == 0 && resolve_paths && o->cuts.max_accounts >= o->svc.outbox.max_unacked)
        rc = conf_error_at(c, conf_lookup(c, "sale"), CONF_ERANGE, err, len,
                           "max_accounts (%u) must be below limits.outbox_max_unacked (%llu): "
                           "an award tells staging about every account in one go",
                           o->cuts.max_accounts, (unsigned long long)o->svc.outbox.max_unacked);
    conf_destroy(&c);
    return rc;
}

int sale_config_load(const char *path, sale_config_t *o, char *err, size_t len)
{
    memset(o, 0, sizeof *o);
    conf_t *c = conf_load(path, err, len);
    return c ? load_from(c, o, true, err, len) : CONF_ESYNTAX;
}

int sale_config_parse(const char *text, const char *name, sale_config_t *o, char *err,
                      size_t len)
{
    memset(o, 0, sizeof *o);
    conf_t *c = conf_parse_string(text, name, err, len);
    return c ? load_from(c, o, false, err, len) : CONF_ESYNTAX;
}

const sale_plan_t *sale_plan_for(const sale_config_t *cfg, int product, const char *currency)
{
    for (size_t i = 0; currency && i < cfg->plan_count; i++) {
        const sale_plan_t *p = &cfg->plans[i];
        if (product > 0 && product < 32 && (p->products >> product & 1) &&
            strcmp(p->currency, currency) == 0)
            return p;
    }
    return NULL;
}

const sale_plan_t *sale_plan_named(const sale_config_t *cfg, const char *name)
{
    for (size_t i = 0; name && i < cfg->plan_count; i++)
        if (strcmp(cfg->plans[i].name, name) == 0)
            return &cfg->plans[i];
    return NULL;
}

bool sale_plan_invites(const sale_plan_t *plan, const char *buyer)
{
    for (size_t i = 0; buyer && i < plan->buyer_count; i++)
        if (strcmp(plan->buyers[i], buyer) == 0)
            return true;
    return false;
}
