/* limitation: the time-bar rule and its jurisdiction file. See limitation.h. */
#include "limitation.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tz.h"

static const char *const from_names[] = {
    [LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT] = "last_payment_or_acknowledgment",
    [LIMITATION_FROM_LAST_PAYMENT] = "last_payment",
    [LIMITATION_FROM_DEFAULT] = "default",
    NULL,
};

const char *limitation_strerror(int code)
{
    switch (code) {
    case LIMITATION_OK: return "ok";
    case LIMITATION_EINVALID: return "a day out of range or a bad argument";
    case LIMITATION_EUNKNOWN: return "no limitation rule for the jurisdiction and no default";
    default: return conf_strerror(code);
    }
}

/* "file:line: " and the message, for the checks conf.h cannot make for us. */
#define fail_at conf_error_at

static bool name_valid(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > LIMITATION_NAME_MAX)
        return false;
    return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") ==
           len;
}

static int load_name(const conf_t *conf, const config_setting_t *group, const char *where,
                     limitation_rule_t *out, char *err, size_t err_len)
{
    const char *name = NULL;
    int rc = conf_string_at(conf, group, "name", NULL, LIMITATION_NAME_MAX, &name, err,
                            err_len);
    if (rc != CONF_OK)
        return rc;
    if (!name)
        return fail_at(conf, group, CONF_ETYPE, err, err_len, "%s.name is required", where);
    if (!name_valid(name))
        return fail_at(conf, group, CONF_ERANGE, err, err_len,
                       "%s.name must be 1 to %d characters of A-Z a-z 0-9 _ -, got \"%s\"",
                       where, LIMITATION_NAME_MAX, name);
    snprintf(out->name, sizeof out->name, "%s", name);
    return CONF_OK;
}

/* One rule group: the default (named false) or a jurisdiction. where is its path for
 * messages ("limitation.jurisdictions.[2]"). */
static int load_rule(const conf_t *conf, const config_setting_t *group, const char *where,
                     bool named, limitation_from_t dflt_from, limitation_rule_t *out,
                     char *err, size_t err_len)
{
    static const char *const named_keys[] = { "name", "years", "from", NULL };
    static const char *const default_keys[] = { "years", "from", NULL };
    memset(out, 0, sizeof *out);
    if (!config_setting_is_group(group))
        return fail_at(conf, group, CONF_ETYPE, err, err_len, "%s must be a group { ... }",
                       where);
    int rc = conf_check_keys_at(conf, group, named ? named_keys : default_keys, err, err_len);
    if (rc == CONF_OK && named)
        rc = load_name(conf, group, where, out, err, err_len);
    if (rc != CONF_OK)
        return rc;
    if (!config_setting_get_member(group, "years"))
        return fail_at(conf, group, CONF_ETYPE, err, err_len,
                       "%s.years is required (1 to %d)", where, LIMITATION_MAX_YEARS);
    int64_t years = 0;
    int from = (int)dflt_from;
    rc = conf_int64_at(conf, group, "years", 1, 1, LIMITATION_MAX_YEARS, &years, err, err_len);
    if (rc == CONF_OK)
        rc = conf_enum_at(conf, group, "from", from_names, from, &from, err, err_len);
    if (rc != CONF_OK)
        return rc;
    out->years = (int32_t)years;
    out->from = (limitation_from_t)from;
    return CONF_OK;
}

static int load_jurisdictions(const conf_t *conf, const config_setting_t *list,
                              limitation_rules_t *rules, char *err, size_t err_len)
{
    if (!config_setting_is_list(list))
        return fail_at(conf, list, CONF_ETYPE, err, err_len,
                       "limitation.jurisdictions must be a list ( {...}, {...} )");
    int n = config_setting_length(list);
    if (n > LIMITATION_MAX_JURISDICTIONS)
        return fail_at(conf, list, CONF_ERANGE, err, err_len,
                       "limitation.jurisdictions holds %d entries, at most %d", n,
                       LIMITATION_MAX_JURISDICTIONS);
    limitation_from_t dflt_from = rules->has_default
                                      ? rules->default_rule.from
                                      : LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT;
    for (int i = 0; i < n; i++) {
        const config_setting_t *elem = config_setting_get_elem(list, (unsigned)i);
        char where[64];
        snprintf(where, sizeof where, "limitation.jurisdictions.[%d]", i);
        limitation_rule_t *rule = &rules->jurisdictions[i];
        int rc = load_rule(conf, elem, where, true, dflt_from, rule, err, err_len);
        if (rc != CONF_OK)
            return rc;
        for (int j = 0; j < i; j++) {
            if (strcmp(rules->jurisdictions[j].name, rule->name) == 0)
                return fail_at(conf, elem, CONF_ERANGE, err, err_len,
                               "%s.name \"%s\" is already used by entry %d", where,
                               rule->name, j);
        }
        rules->count = (size_t)i + 1;
    }
    return CONF_OK;
}

int limitation_rules_from_conf(const conf_t *conf, limitation_rules_t *rules, char *err,
                               size_t err_len)
{
    static const char *const keys[] = { "default", "jurisdictions", NULL };
    assert(conf && rules);
    memset(rules, 0, sizeof *rules);
    const config_setting_t *top = conf_lookup(conf, "limitation");
    if (!top) {
        snprintf(err, err_len, "%s: `limitation` is required", conf_name(conf));
        return CONF_ETYPE;
    }
    if (!config_setting_is_group(top))
        return fail_at(conf, top, CONF_ETYPE, err, err_len, "limitation must be a group");
    int rc = conf_check_keys_at(conf, top, keys, err, err_len);
    if (rc != CONF_OK)
        return rc;
    const config_setting_t *dflt = config_setting_get_member(top, "default");
    if (dflt) {
        rc = load_rule(conf, dflt, "limitation.default", false,
                       LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT, &rules->default_rule,
                       err, err_len);
        if (rc != CONF_OK)
            return rc;
        rules->has_default = true;
    }
    const config_setting_t *list = config_setting_get_member(top, "jurisdictions");
    if (list) {
        rc = load_jurisdictions(conf, list, rules, err, err_len);
        if (rc != CONF_OK)
            return rc;
    }
    if (!rules->has_default && rules->count == 0)
        return fail_at(conf, top, CONF_ERANGE, err, err_len,
                       "limitation needs a default or at least one jurisdiction");
    return CONF_OK;
}

/* A file or text of its own: `limitation` is the only key at the top. */
static int rules_from_own_file(conf_t *conf, limitation_rules_t *rules, char *err,
                               size_t err_len)
{
    static const char *const top[] = { "limitation", NULL };
    int rc = conf_check_keys(conf, NULL, top, err, err_len);
    if (rc == CONF_OK)
        rc = limitation_rules_from_conf(conf, rules, err, err_len);
    conf_destroy(&conf);
    return rc;
}

int limitation_rules_load(const char *path, limitation_rules_t *rules, char *err,
                          size_t err_len)
{
    int code = CONF_OK;
    conf_t *conf = conf_load_code(path, &code, err, err_len);
    if (!conf)
        return code;
    return rules_from_own_file(conf, rules, err, err_len);
}

int limitation_rules_parse(const char *text, const char *name_for_errors,
                           limitation_rules_t *rules, char *err, size_t err_len)
{
    conf_t *conf = conf_parse_string(text, name_for_errors, err, err_len);
    if (!conf)
        return CONF_ESYNTAX;
    return rules_from_own_file(conf, rules, err, err_len);
}

static const limitation_rule_t *find_named(const limitation_rules_t *rules, const char *name,
                                           size_t len)
{
    for (size_t i = 0; i < rules->count; i++) {
        const char *candidate = rules->jurisdictions[i].name;
        if (strlen(candidate) == len && memcmp(candidate, name, len) == 0)
            return &rules->jurisdictions[i];
    }
    return NULL;
}

const limitation_rule_t *limitation_rule_for(const limitation_rules_t *rules,
                                             const char *jurisdiction)
{
    assert(rules);
    if (jurisdiction && *jurisdiction) {
        const limitation_rule_t *rule = find_named(rules, jurisdiction, strlen(jurisdiction));
        if (rule)
            return rule;
        /* "US-NY" falls back to "US": a country-wide rule covers its subdivisions. */
        const char *dash = strchr(jurisdiction, '-');
        rule = dash ? find_named(rules, jurisdiction, (size_t)(dash - jurisdiction)) : NULL;
        if (rule)
            return rule;
    }
    return rules->has_default ? &rules->default_rule : NULL;
}

static bool day_valid(int64_t day)
{
    return day >= LIMITATION_DAY_MIN && day <= LIMITATION_DAY_MAX;
}

int64_t limitation_add_years(int64_t day, int32_t years)
{
    assert(day_valid(day) && years >= 0 && years <= LIMITATION_MAX_YEARS);
    int32_t year = 0;
    int month = 0, mday = 0;
    tz_civil_from_days(day, &year, &month, &mday);
    year += years;
    /* Feb 29 into a common year: the period ends within February (limitation.h). */
    if (month == 2 && mday == 29 && !tz_is_leap_year(year))
        mday = 28;
    return tz_days_from_civil(year, month, mday);
}

/* The first day of the period: the latest of the days `from` counts. */
static int64_t period_start(limitation_from_t from, int64_t last_payment_day,
                            int64_t last_acknowledgment_day, int64_t default_start_day)
{
    int64_t start = default_start_day;
    if (from != LIMITATION_FROM_DEFAULT && last_payment_day != LIMITATION_DAY_NONE &&
        last_payment_day > start)
        start = last_payment_day;
    if (from == LIMITATION_FROM_LAST_PAYMENT_OR_ACKNOWLEDGMENT &&
        last_acknowledgment_day != LIMITATION_DAY_NONE && last_acknowledgment_day > start)
        start = last_acknowledgment_day;
    return start;
}

int limitation_is_time_barred(const limitation_rules_t *rules, const char *jurisdiction,
                              int64_t last_payment_day, int64_t last_acknowledgment_day,
                              int64_t default_start_day, int64_t today_day, bool *barred,
                              int64_t *barred_since_day)
{
    assert(rules && barred && barred_since_day);
    int64_t optional[] = { last_payment_day, last_acknowledgment_day, default_start_day };
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        if (optional[i] != LIMITATION_DAY_NONE && !day_valid(optional[i]))
            return LIMITATION_EINVALID;
    }
    if (!day_valid(today_day))
        return LIMITATION_EINVALID;
    const limitation_rule_t *rule = limitation_rule_for(rules, jurisdiction);
    if (!rule)
        return LIMITATION_EUNKNOWN;
    if (default_start_day == LIMITATION_DAY_NONE) {
        *barred = false; /* nothing was ever missed: no claim has arisen to be barred */
        *barred_since_day = LIMITATION_DAY_NONE;
        return LIMITATION_OK;
    }
    int64_t start = period_start(rule->from, last_payment_day, last_acknowledgment_day,
                                 default_start_day);
    int64_t since = limitation_add_years(start, rule->years) + 1;
    *barred = today_day >= since;
    *barred_since_day = since;
    return LIMITATION_OK;
}
