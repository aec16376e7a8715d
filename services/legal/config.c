/* config: the legal service's configuration file (see config.h). */
#include "config.h"

#include <string.h>

#include "deadletters.h"
#include "money.h"

static const char *const kind_names[] = {"firm", "agency", NULL};

static bool is_region(const char *r)
{
    for (const char *p = r; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-'))
            return false;
    return *r != '\0' && *r != '-';
}

static int load_currency(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                         char *err, size_t len)
{
    legal_config_t *o = arg;
    static const char *const keys[] = {"currency", "floor_minor", "firm_from_minor", NULL};
    const char *code = NULL;
    int64_t floor = 0, firm_from = 0;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : conf_string_at(c, g, "currency", NULL, 3, &code, err, len);
    if (rc == 0 && (!code || !money_currency_known(code)))
        return conf_error_at(c, g, CONF_ERANGE, err, len,
                             "currency must be an ISO 4217 code with a minor unit");
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (strcmp(o->eligibility.floors[j].currency, code) == 0)
            return conf_error_at(c, g, CONF_ERANGE, err, len, "%s is listed twice", code);
    if (rc == 0 && !config_setting_get_member(g, "floor_minor"))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "floor_minor is required");
    rc = rc ? rc : conf_int64_at(c, g, "floor_minor", 0, 0, INT64_MAX, &floor, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "firm_from_minor", INT64_MAX, 0, INT64_MAX, &firm_from,
                                 err, len);
    if (rc != 0)
        return rc;
    eligibility_floor_t *f = &o->eligibility.floors[i];
    snprintf(f->currency, sizeof f->currency, "%s", code);
    f->min_outstanding_minor = floor;
    o->routing[i] = (legal_routing_t){.firm_from_minor = firm_from};
    snprintf(o->routing[i].currency, sizeof o->routing[i].currency, "%s", code);
    return 0;
}

static int load_places(const conf_t *c, const config_setting_t *g, assignee_t *a, char *err,
                       size_t len)
{
    const char *regions[ASSIGN_MAX_REGIONS];
    size_t nr = 0;
    int rc = conf_strings_at(c, g, "regions", ASSIGN_MAX_REGIONS, ASSIGN_REGION_MAX, regions,
                             &nr, err, len);
    if (rc == 0 && nr == 0)
        return conf_error_at(c, g, CONF_ERANGE, err, len, "an assignee needs at least one region");
    for (size_t i = 0; rc == 0 && i < nr; i++) {
        if (!is_region(regions[i]))
            return conf_error_at(c, g, CONF_ERANGE, err, len,
                                 "region \"%s\" must be a code like \"CN\" or \"US-NY\"", regions[i]);
        snprintf(a->regions[i], sizeof a->regions[i], "%s", regions[i]);
    }
    a->region_count = nr;
    return rc ? rc : svcconf_products_at(c, g, "products", &a->products, err, len);
}

static int load_assignee(const conf_t *c, const config_setting_t *g, size_t i, void *arg,
                         char *err, size_t len)
{
    legal_config_t *o = arg;
    static const char *const keys[] = {"principal", "kind", "regions", "products", "capacity",
                                       "commission_bps", "accept_deadline_days",
                                       "recall_after_days", NULL};
    assignee_t *a = &o->assignees[i];
    memset(a, 0, sizeof *a);
    const char *principal = NULL;
    int kind = 0;
    int64_t capacity = 0, commission = 0, deadline = 0, recall = 0;
    int rc = conf_check_keys_at(c, g, keys, err, len);
    rc = rc ? rc : conf_string_at(c, g, "principal", NULL, INBOX_PRINCIPAL_MAX, &principal, err, len);
    if (rc == 0 && (!principal || !*principal))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "principal is required");
    for (size_t j = 0; rc == 0 && j < i; j++)
        if (strcmp(o->assignees[j].principal, principal) == 0)
            return conf_error_at(c, g, CONF_ERANGE, err, len, "%s is listed twice", principal);
    if (rc == 0 && !config_setting_get_member(g, "kind"))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "kind is required: firm or agency");
    rc = rc ? rc : conf_enum_at(c, g, "kind", kind_names, 0, &kind, err, len);
    if (rc == 0 && !config_setting_get_member(g, "capacity"))
        return conf_error_at(c, g, CONF_ERANGE, err, len, "capacity is required");
    rc = rc ? rc : conf_int64_at(c, g, "capacity", 1, 1, ASSIGN_MAX_CAPACITY, &capacity, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "commission_bps", 0, 0, 5000, &commission, err, len);
    rc = rc ? rc : conf_int64_at(c, g, "accept_deadline_days", 5, 1, ASSIGN_MAX_DAYS, &deadline,
                                 err, len);
    rc = rc ? rc : conf_int64_at(c, g, "recall_after_days", 0, 0, ASSIGN_MAX_DAYS, &recall, err, len);
    rc = rc ? rc : load_places(c, g, a, err, len);
    if (rc != 0)
        return rc;
    snprintf(a->principal, sizeof a->principal, "%s", principal);
    a->kind = kind == 0 ? ASSIGNEE_FIRM : ASSIGNEE_AGENCY;
    a->capacity = (uint32_t)capacity;
    a->commission_bps = commission;
    a->accept_deadline_days = (int32_t)deadline;
    a->recall_after_days = (int32_t)recall;
    return 0;
}

static int load_from(conf_t *c, legal_config_t *o, bool resolve_paths, char *err, size_t len)
{
    static const char *const top[] = {"data_dir", "durability", "log_level", "keys", "limits",
                                      "metrics", "listen", "staging", "outreach", "limitation",
                                      "clock", "create_secret", "legal", NULL};
    static const char *const legal_keys[] = {"currencies", "assignees", "sweep_every_ms", NULL};
    int rc = conf_check_keys(c, NULL, top, err, len);
    rc = rc ? rc : conf_check_keys(c, "legal", legal_keys, err, len);
    if (resolve_paths) {
        rc = rc ? rc : svcconf_load(c, &o->svc, err, len);
        rc = rc ? rc : svcconf_endpoint(c, "listen", o->listen, err, len);
        rc = rc ? rc : shards_load(c, "staging", &o->staging, err, len);
        rc = rc ? rc : svcconf_peer(c, "outreach", o->outreach_endpoint, o->outreach_public, err, len);
        rc = rc ? rc : svcconf_path(c, "limitation", NULL, o->limitation_path, err, len);
        rc = rc ? rc : svcconf_path(c, "keys.secret", NULL, o->secret_path, err, len);
    }
    rc = rc ? rc : conf_bool(c, "create_secret", false, &o->create_secret, err, len);
    rc = rc ? rc : svcconf_clock(c, &o->simulated, &o->simulated_start_ms, err, len);
    rc = rc ? rc : conf_int64(c, "legal.sweep_every_ms", 1000, 10, 3600000, &o->sweep_every_ms,
                              err, len);
    rc = rc ? rc : conf_each_group(c, "legal.currencies", ELIGIBILITY_MAX_FLOORS, load_currency,
                                   o, &o->eligibility.floor_count, err, len);
    rc = rc ? rc : conf_each_group(c, "legal.assignees", ASSIGN_MAX_ASSIGNEES, load_assignee, o,
                                   &o->assignee_count, err, len);
    conf_destroy(&c);
    return rc;
}

int legal_config_load(const char *path, legal_config_t *o, char *err, size_t len)
{
    memset(o, 0, sizeof *o);
    conf_t *c = conf_load(path, err, len);
    return c ? load_from(c, o, true, err, len) : CONF_ESYNTAX;
}

int legal_config_parse(const char *text, const char *name, legal_config_t *o, char *err,
                       size_t len)
{
    memset(o, 0, sizeof *o);
    conf_t *c = conf_parse_string(text, name, err, len);
    return c ? load_from(c, o, false, err, len) : CONF_ESYNTAX;
}

int64_t legal_firm_from_minor(const legal_config_t *cfg, const char *currency)
{
    for (size_t i = 0; currency && i < cfg->eligibility.floor_count; i++)
        if (strcmp(cfg->routing[i].currency, currency) == 0)
            return cfg->routing[i].firm_from_minor;
    return INT64_MAX;
}
