/* config: see config.h. */
#include "config.h"

#include <stdio.h>
#include <string.h>


static const char *const peer_names[4] = {"outreach", "legal", "sale", "intake"};

static int load_peers(const conf_t *c, staging_config_t *o, char *err, size_t len)
{
    int rc = 0;
    for (int i = 0; rc == 0 && i < 4; i++)
        rc = svcconf_peer(c, peer_names[i], o->peers[i].endpoint, o->peers[i].public_path, err, len);
    return rc;
}

/* `strategy`: one file, or a list of files (one per currency). */
static int load_strategies(const conf_t *c, staging_config_t *o, char *err, size_t len)
{
    const config_setting_t *st = conf_lookup(c, "strategy");
    if (!st || config_setting_type(st) == CONFIG_TYPE_STRING) {
        o->strategy_count = 1;
        return svcconf_path(c, "strategy", NULL, o->strategy_paths[0], err, len);
    }
    int n = config_setting_length(st);
    if (!config_setting_is_aggregate(st) || n < 1 || n > STAGING_MAX_STRATEGIES)
        return conf_error_at(c, st, CONF_ETYPE, err, len,
                             "strategy: a file name, or a list of 1 to %d (one per currency)",
                             STAGING_MAX_STRATEGIES);
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        char path[32];
        snprintf(path, sizeof path, "strategy.[%d]", i);
        rc = svcconf_path(c, path, NULL, o->strategy_paths[i], err, len);
    }
    o->strategy_count = (size_t)n;
    return rc;
}

/* "fees,penalty,interest,principal": the four components, each once. */
static int load_waterfall(const conf_t *c, staging_config_t *o, char *err, size_t len)
{
    static const char *const sweeps[] = {"by_instalment", "by_component", NULL};
    const char *text = NULL;
    int sweep = 0;
    int rc = conf_string(c, "book.waterfall", "fees,penalty,interest,principal", 64, &text, err, len);
    rc = rc ? rc : conf_enum(c, "book.sweep", sweeps, 0, &sweep, err, len);
    if (rc != 0)
        return rc;
    char copy[65], *save = NULL;
    snprintf(copy, sizeof copy, "%s", text);
    size_t n = 0;
    for (char *t = strtok_r(copy, ",", &save); t && n < BOOK_COMPONENTS; t = strtok_r(NULL, ",", &save))
        if (book_component_from_name(t, &o->waterfall.order[n++]) != BOOK_OK)
            n = BOOK_COMPONENTS + 1;
    o->waterfall.sweep = (book_sweep_t)sweep;
    if (n != BOOK_COMPONENTS || !book_waterfall_valid(&o->waterfall)) {
        snprintf(err, len, "%s: book.waterfall: name fees, penalty, interest and principal, each once, "
                 "separated by commas", conf_name(c));
        return CONF_ERANGE;
    }
    return 0;
}

static int load_book(const conf_t *c, staging_config_t *o, char *err, size_t len)
{
    static const char *const book_keys[] = {"waterfall", "sweep", "default_cap_bps",
                                            "freeze_after_charge_off", "complaint_response_days",
                                            "dispute_response_days", NULL};
    static const char *const daily_keys[] = {"chunk_accounts", "every_ms", "catchup_settle_ms",
                                              NULL};
    int64_t complaint = 0, dispute = 0;
    int rc = conf_check_keys(c, "book", book_keys, err, len);
    rc = rc ? rc : conf_check_keys(c, "daily", daily_keys, err, len);
    rc = rc ? rc : load_waterfall(c, o, err, len);
    rc = rc ? rc : conf_int64(c, "book.default_cap_bps", 360000, 0, PENALTY_MAX_CAP_BPS,
                              &o->default_cap_bps, err, len);
    rc = rc ? rc : conf_bool(c, "book.freeze_after_charge_off", true, &o->freeze_after_charge_off,
                             err, len);
    rc = rc ? rc : conf_int64(c, "book.complaint_response_days", 15, 1, 365, &complaint, err, len);
    rc = rc ? rc : conf_int64(c, "book.dispute_response_days", 30, 1, 365, &dispute, err, len);
    rc = rc ? rc : conf_int64(c, "daily.chunk_accounts", 5000, 1, 1000000, &o->chunk_accounts, err, len);
    rc = rc ? rc : conf_int64(c, "daily.every_ms", 3600000, 60000, 86400000, &o->run_every_ms, err, len);
    rc = rc ? rc : conf_int64(c, "daily.catchup_settle_ms", 3000, 0, 600000, &o->catchup_settle_ms,
                              err, len);
    o->complaint_response_days = (int32_t)complaint;
    o->dispute_response_days = (int32_t)dispute;
    return rc;
}

/* One `retention.jurisdictions` entry: a country named once, with its days. */
static int load_retention_rule(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                               char *err, size_t len)
{
    static const char *const keys[] = {"country", "days", NULL};
    retention_rules_t *r = arg;
    retention_rule_t *rule = &r->jurisdictions[i];
    const char *country = NULL;
    int64_t days = 0;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : conf_string_at(c, g, "country", NULL, RETENTION_NAME_MAX, &country, err, len);
    if (rc == 0 && !config_setting_get_member(g, "days"))
        return conf_error_at(c, g, CONF_ETYPE, err, len, "retention.jurisdictions.[%zu].days: "
                             "required, 1 to %d", i, RETENTION_MAX_DAYS);
    rc = rc ? rc : conf_int64_at(c, g, "days", 1, 1, RETENTION_MAX_DAYS, &days, err, len);
    if (rc != 0)
        return rc;
    if (!country || !*country || strspn(country, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                 "0123456789_-") != strlen(country))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "retention.jurisdictions.[%zu].country: "
                             "a code such as \"GB\" or \"US-NY\" (letters, digits, _ and -)", i);
    for (size_t j = 0; j < i; j++)
        if (strcmp(r->jurisdictions[j].country, country) == 0)
            return conf_error_at(c, g, CONF_ERANGE, err, len, "retention.jurisdictions.[%zu]: "
                                 "country \"%s\" is already used by entry %zu", i, country, j);
    snprintf(rule->country, sizeof rule->country, "%s", country);
    rule->days = (int32_t)days;
    r->count = i + 1;
    return 0;
}

/* `retention` (optional: without it nothing is ever erased, see retention.h). */
static int load_retention(const conf_t *c, staging_config_t *o, char *err, size_t len)
{
    static const char *const keys[] = {"default_days", "jurisdictions", NULL};
    retention_rules_t *r = &o->retention;
    memset(r, 0, sizeof *r);
    const config_setting_t *g = conf_lookup(c, "retention");
    if (!g)
        return 0;
    if (!config_setting_is_group(g))
        return conf_error_at(c, g, CONF_ETYPE, err, len, "retention must be a group { ... }");
    int64_t dflt = 0;
    int rc = conf_check_keys(c, "retention", keys, err, len);
    if (rc == 0 && config_setting_get_member(g, "default_days"))
        rc = conf_int64(c, "retention.default_days", 1, 1, RETENTION_MAX_DAYS, &dflt, err, len);
    if (rc != 0)
        return rc;
    r->has_default = dflt > 0;
    r->default_days = (int32_t)dflt;
    if (!config_setting_get_member(g, "jurisdictions")) {
        if (!r->has_default)
            return conf_error_at(c, g, CONF_ERANGE, err, len,
                                 "retention: give default_days, jurisdictions, or both");
        return 0;
    }
    size_t n = 0;
    return conf_each_group(c, "retention.jurisdictions", RETENTION_MAX_JURISDICTIONS,
                           load_retention_rule, r, &n, err, len);
}

int staging_config_load(const char *path, staging_config_t *o, char *err, size_t len)
{
    static const char *const top[] = {"data_dir", "durability", "log_level", "keys", "limits",
                                      "listen", "strategy", "limitation", "clock", "outreach",
                                      "legal", "sale", "intake", "create_secret", "book", "daily",
                                      "metrics", "retention", NULL};
    conf_t *c = conf_load(path, err, len);
    if (!c)
        return CONF_ESYNTAX;
    int rc = conf_check_keys(c, NULL, top, err, len);
    rc = rc ? rc : svcconf_load(c, &o->svc, err, len);
    rc = rc ? rc : svcconf_endpoint(c, "listen", o->listen, err, len);
    rc = rc ? rc : load_strategies(c, o, err, len);
    rc = rc ? rc : svcconf_path(c, "limitation", NULL, o->limitation_path, err, len);
    rc = rc ? rc : svcconf_path(c, "keys.secret", NULL, o->secret_path, err, len);
    rc = rc ? rc : conf_bool(c, "create_secret", false, &o->create_secret, err, len);
    rc = rc ? rc : svcconf_clock(c, &o->simulated, &o->simulated_start_ms, err, len);
    rc = rc ? rc : load_peers(c, o, err, len);
    rc = rc ? rc : load_book(c, o, err, len);
    rc = rc ? rc : load_retention(c, o, err, len);
    conf_destroy(&c);
    return rc;
}
