/* broker_config: see broker_config.h. */
#include "broker_config.h"

static int load_limits(const conf_t *c, broker_limits_t *l, char *err, size_t len)
{
    static const char *const keys[] = {"lease_ms", "pull_scan_max", "ledger_attempts_max",
                                       "decisions_kept", "account_tasks_max", NULL};
    broker_limits_t d = broker_default_limits();
    int64_t lease = 0, scan = 0, ledger = 0, kept = 0, account = 0;
    int rc = conf_check_keys(c, "broker", keys, err, len);
    rc = rc ? rc : conf_int64(c, "broker.lease_ms", d.lease_ms, 1000, 3600000, &lease, err, len);
    rc = rc ? rc : conf_int64(c, "broker.pull_scan_max", (int64_t)d.pull_scan_max, 1, 100000, &scan, err, len);
    rc = rc ? rc : conf_int64(c, "broker.ledger_attempts_max", (int64_t)d.ledger_attempts_max, 16,
                              256, &ledger, err, len);
    rc = rc ? rc : conf_int64(c, "broker.decisions_kept", (int64_t)d.decisions_kept, 1, 64, &kept, err, len);
    rc = rc ? rc : conf_int64(c, "broker.account_tasks_max", (int64_t)d.account_tasks_max, 16,
                              100000, &account, err, len);
    if (rc == 0)
        *l = (broker_limits_t){lease, (size_t)scan, (size_t)ledger, (size_t)kept, (size_t)account};
    return rc;
}

int broker_config_load(const char *path, broker_config_t *o, char *err, size_t len)
{
    static const char *const top[] = {"data_dir", "durability", "log_level", "keys", "limits",
                                      "listen", "staging", "profiles", "templates", "clock",
                                      "create_secret", "broker", "metrics", NULL};
    conf_t *c = conf_load(path, err, len);
    if (!c)
        return CONF_ESYNTAX;
    int rc = conf_check_keys(c, NULL, top, err, len);
    rc = rc ? rc : svcconf_load(c, &o->svc, err, len);
    rc = rc ? rc : svcconf_endpoint(c, "listen", o->listen, err, len);
    rc = rc ? rc : shards_load(c, "staging", &o->staging, err, len);
    rc = rc ? rc : svcconf_path(c, "profiles", NULL, o->profiles_path, err, len);
    rc = rc ? rc : svcconf_path(c, "templates", NULL, o->templates_path, err, len);
    rc = rc ? rc : svcconf_path(c, "keys.secret", NULL, o->secret_path, err, len);
    rc = rc ? rc : conf_bool(c, "create_secret", false, &o->create_secret, err, len);
    rc = rc ? rc : svcconf_clock(c, &o->simulated, &o->simulated_start_ms, err, len);
    rc = rc ? rc : load_limits(c, &o->limits, err, len);
    conf_destroy(&c);
    return rc;
}
