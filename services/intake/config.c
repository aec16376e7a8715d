/* config: see config.h. */
#include "config.h"

#include <stdio.h>

static int load_own(const conf_t *c, intake_config_t *o, char *err, size_t len)
{
    static const char *const feed_keys[] = { "retain_events", "retain_days", "prune_every_ms", NULL };
    static const char *const validation_keys[] = { "max_instalments", "max_contact_points",
                                                   "future_slack_ms", NULL };
    int64_t events = 0, days = 0, instalments = 0, points = 0, slack = 0;
    o->validate = validate_default_limits();
    o->feed = feed_default_limits();
    int rc = conf_check_keys(c, "feed", feed_keys, err, len);
    rc = rc ? rc : conf_check_keys(c, "validation", validation_keys, err, len);
    rc = rc ? rc : svcconf_endpoint(c, "listen", o->listen, err, len);
    rc = rc ? rc : shards_load(c, "staging", &o->staging, err, len);
    rc = rc ? rc : svcconf_path(c, "keys.secret", NULL, o->secret_path, err, len);
    rc = rc ? rc : conf_bool(c, "create_secret", false, &o->create_secret, err, len);
    rc = rc ? rc : conf_int64(c, "feed.retain_events", 1000000, 1, 1LL << 40, &events, err, len);
    rc = rc ? rc : conf_int64(c, "feed.retain_days", 90, 1, 3650, &days, err, len);
    rc = rc ? rc : conf_int64(c, "feed.prune_every_ms", 10000, 10, 86400000, &o->feed_prune_every_ms,
                              err, len);
    rc = rc ? rc : conf_int64(c, "validation.max_instalments", 600, 1, 600, &instalments, err, len);
    rc = rc ? rc : conf_int64(c, "validation.max_contact_points", 8, 1, 8, &points, err, len);
    rc = rc ? rc : conf_int64(c, "validation.future_slack_ms", 300000, 0, 86400000, &slack, err, len);
    o->feed.retain_events = (uint64_t)events;
    o->feed.retain_ms = days * 24 * 3600 * 1000;
    o->validate.max_instalments = (size_t)instalments;
    o->validate.max_contact_points = (size_t)points;
    o->validate.future_slack_ms = slack;
    return rc;
}

int intake_config_load(const char *path, intake_config_t *o, char *err, size_t len)
{
    static const char *const top[] = { "data_dir", "durability", "log_level", "keys", "limits",
                                       "metrics", "listen", "staging", "create_secret", "feed",
                                       "validation", NULL };
    conf_t *c = conf_load(path, err, len);
    if (!c)
        return CONF_ESYNTAX;
    int rc = conf_check_keys(c, NULL, top, err, len);
    rc = rc ? rc : svcconf_load(c, &o->svc, err, len);
    rc = rc ? rc : load_own(c, o, err, len);
    conf_destroy(&c);
    return rc;
}
