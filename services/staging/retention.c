/* retention: see retention.h. */
#include "retention.h"

#include <string.h>

#include "stage.h"

static const retention_rule_t *find(const retention_rules_t *rules, const char *name, size_t len)
{
    for (size_t i = 0; i < rules->count; i++) {
        const retention_rule_t *r = &rules->jurisdictions[i];
        if (strlen(r->country) == len && strncmp(r->country, name, len) == 0)
            return r;
    }
    return NULL;
}

bool retention_days_for(const retention_rules_t *rules, const char *jurisdiction,
                        int32_t *days)
{
    if (!rules)
        return false;
    const char *name = jurisdiction ? jurisdiction : "";
    size_t len = strnlen(name, RETENTION_NAME_MAX + 1);
    const retention_rule_t *r = len > 0 ? find(rules, name, len) : NULL;
    const char *dash = strchr(name, '-');
    if (!r && dash && dash > name)   /* "US-NY" without its own rule takes "US"'s */
        r = find(rules, name, (size_t)(dash - name));
    if (r) {
        *days = r->days;
        return true;
    }
    if (rules->has_default)
        *days = rules->default_days;
    return rules->has_default;
}

bool retention_due(const retention_rules_t *rules, const char *jurisdiction, int32_t closed_day,
                   int32_t today, int32_t *days)
{
    int32_t kept = 0;
    if (closed_day == STAGE_NO_DAY || !retention_days_for(rules, jurisdiction, &kept))
        return false;
    if (days)
        *days = kept;
    /* In 64 bits: a day near INT32_MAX plus a hundred years must not wrap to the past. */
    return (int64_t)today >= (int64_t)closed_day + kept;
}
