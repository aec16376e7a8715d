/* svcconf: see svcconf.h. */
#include "svcconf.h"

#include <ctype.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "platform.pb-c.h"
#include "tz.h"

const char *const svcconf_keys[] = { "data_dir", "durability", "log_level", "keys", "limits",
                                     "metrics", NULL };

static const char *const limit_keys[] = {
    "max_message_bytes", "batch_max", "outbox_max_unacked", "window", "resend_timeout_ms",
    "retain_days", "map_size_mb", "map_max_mb", "queue_max_messages", NULL,
};

int svcconf_path(const conf_t *conf, const char *setting, const char *dflt,
                 char out[SVCCONF_PATH_MAX], char *err, size_t err_len)
{
    const char *value = NULL;
    int rc = conf_string(conf, setting, dflt, SVCCONF_PATH_MAX - 64, &value, err, err_len);
    if (rc != 0)
        return rc;
    if (!value) {
        snprintf(err, err_len, "%s: `%s` is required", conf_name(conf), setting);
        return CONF_ETYPE;
    }
    if (value[0] == '/') {
        snprintf(out, SVCCONF_PATH_MAX, "%s", value);
        return 0;
    }
    char name[SVCCONF_PATH_MAX];
    snprintf(name, sizeof name, "%s", conf_name(conf));
    snprintf(out, SVCCONF_PATH_MAX, "%s/%s", dirname(name), value);
    return 0;
}

bool svcconf_command_line(int argc, char **argv, const char *service, const char **command,
                          const char **config_path)
{
    bool named = argc > 1 && argv[1][0] != '-';
    *command = named ? argv[1] : "run";
    *config_path = NULL;
    for (int i = named ? 2 : 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0)
            *config_path = argv[i + 1];
    if (*config_path && (strcmp(*command, "run") == 0 || strcmp(*command, "dump") == 0))
        return true;
    fprintf(stderr, "usage: %s [run|dump] --config FILE\n", service);
    return false;
}

int svcconf_endpoint(const conf_t *conf, const char *setting, char out[LINK_ENDPOINT_MAX],
                     char *err, size_t err_len)
{
    const char *value = NULL;
    int rc = conf_string(conf, setting, NULL, LINK_ENDPOINT_MAX - 1, &value, err, err_len);
    if (rc == 0 && !value) {
        snprintf(err, err_len, "%s: `%s` is required", conf_name(conf), setting);
        return CONF_ETYPE;
    }
    if (rc == 0)
        snprintf(out, LINK_ENDPOINT_MAX, "%s", value);
    return rc;
}

static int load_limit(const conf_t *c, const char *name, int64_t dflt, int64_t min, int64_t max,
                      int64_t *out, char *err, size_t err_len)
{
    char path[64];
    snprintf(path, sizeof path, "limits.%s", name);
    return conf_int64(c, path, dflt, min, max, out, err, err_len);
}

static int load_limits(const conf_t *c, svcconf_t *o, char *err, size_t len)
{
    int64_t msg = 0, batch = 0, unacked = 0, window = 0, resend = 0, retain = 0, map = 0,
            map_max = 0, queue = 0;
    int rc = conf_check_keys(c, "limits", limit_keys, err, len);
    rc = rc ? rc : load_limit(c, "max_message_bytes", 1 << 20, 4096, 64 << 20, &msg, err, len);
    rc = rc ? rc : load_limit(c, "batch_max", 1000, 1, 100000, &batch, err, len);
    rc = rc ? rc : load_limit(c, "outbox_max_unacked", 100000, 1, 100000000, &unacked, err, len);
    rc = rc ? rc : load_limit(c, "window", 1000, 1, 1000000, &window, err, len);
    rc = rc ? rc : load_limit(c, "resend_timeout_ms", 2000, 10, 600000, &resend, err, len);
    rc = rc ? rc : load_limit(c, "retain_days", 7, 0, 3650, &retain, err, len);
    rc = rc ? rc : load_limit(c, "map_size_mb", 64, 1, 1 << 20, &map, err, len);
    rc = rc ? rc : load_limit(c, "map_max_mb", 16384, 1, 1 << 24, &map_max, err, len);
    rc = rc ? rc : load_limit(c, "queue_max_messages", 100000, 100, 10000000, &queue, err, len);
    if (rc != 0)
        return rc;
    o->link.max_message_bytes = (int)msg;
    o->link.queue_max_messages = (int)queue;
    o->receiver.batch_max = (size_t)batch;
    o->outbox.max_message_bytes = (size_t)msg;
    o->outbox.max_unacked = (uint64_t)unacked;
    o->outbox.retain_ms = retain * 24 * 3600 * 1000;
    o->sender.window = (uint64_t)window;
    o->sender.resend_timeout_ms = resend;
    o->store.map_size_bytes = (size_t)map << 20;
    o->store.map_max_bytes = (size_t)(map_max > map ? map_max : map) << 20;
    return 0;
}

int svcconf_load(const conf_t *c, svcconf_t *o, char *err, size_t len)
{
    static const char *const durability[] = { "durable", "relaxed", NULL };
    static const char *const levels[] = { "debug", "info", "warn", "error", NULL };
    static const char *const key_keys[] = { "own", "allowed", "secret", NULL };
    o->store = store_default_options();
    o->link = link_default_options();
    o->receiver = receiver_default_limits();
    o->sender = sender_default_limits();
    o->outbox = outbox_default_limits();
    int relaxed = 0, level = 1;
    int rc = conf_enum(c, "durability", durability, 0, &relaxed, err, len);
    rc = rc ? rc : conf_enum(c, "log_level", levels, 1, &level, err, len);
    rc = rc ? rc : conf_check_keys(c, "keys", key_keys, err, len);
    rc = rc ? rc : svcconf_path(c, "data_dir", NULL, o->data_dir, err, len);
    rc = rc ? rc : svcconf_path(c, "keys.own", NULL, o->key_path, err, len);
    rc = rc ? rc : svcconf_path(c, "keys.allowed", NULL, o->allowed_path, err, len);
    rc = rc ? rc : load_limits(c, o, err, len);
    rc = rc ? rc : svcconf_metrics(c, o->metrics_listen, err, len);
    rc = rc ? rc : conf_bool(c, "clock.driven", false, &o->driven, err, len);
    o->store.relaxed = relaxed == 1;
    o->log_level = (log_level_t)level;
    return rc;
}

int svcconf_metrics(const conf_t *c, char listen[METRICS_ADDRESS_MAX], char *err, size_t len)
{
    static const char *const metrics_keys[] = {"listen", NULL};
    const char *value = NULL;
    int rc = conf_check_keys(c, "metrics", metrics_keys, err, len);
    rc = rc ? rc : conf_string(c, "metrics.listen", "", METRICS_ADDRESS_MAX - 1, &value, err, len);
    if (rc == 0 && conf_lookup(c, "metrics") && metrics_address_check(value) != METRICS_OK)
        rc = conf_error_at(c, conf_lookup(c, "metrics"), CONF_ERANGE, err, len,
                           "listen: \"%s\": %s", value, metrics_strerror(METRICS_EADDRESS));
    if (rc == 0)
        snprintf(listen, METRICS_ADDRESS_MAX, "%s", value);
    return rc;
}

void svcconf_reload_note(char list[SVCCONF_NOTE_MAX], const char *name)
{
    size_t used = strlen(list);
    snprintf(list + used, SVCCONF_NOTE_MAX - used, "%s%s", used ? "," : "", name);
}

void svcconf_reload_differs(svcconf_reload_t *r, const char *setting, const char *old_value,
                            const char *new_value)
{
    if (strcmp(old_value, new_value) != 0)
        svcconf_reload_note(r->ignored, setting);
}

void svcconf_reload_message(const svcconf_reload_t *r, char *msg, size_t len)
{
    /* Settings a service reads once and neither applies nor compares: the next start. */
    snprintf(msg, len, "log_level=%s applied=%s ignored=%s others=next_start",
             log_level_name(r->log_level), r->applied[0] ? r->applied : "none",
             r->ignored[0] ? r->ignored : "none");
}

static bool same_limits(const svcconf_t *a, const svcconf_t *b)
{
    return a->link.max_message_bytes == b->link.max_message_bytes &&
           a->link.queue_max_messages == b->link.queue_max_messages &&
           a->receiver.batch_max == b->receiver.batch_max &&
           a->outbox.max_unacked == b->outbox.max_unacked &&
           a->outbox.retain_ms == b->outbox.retain_ms && a->sender.window == b->sender.window &&
           a->sender.resend_timeout_ms == b->sender.resend_timeout_ms &&
           a->store.map_size_bytes == b->store.map_size_bytes &&
           a->store.map_max_bytes == b->store.map_max_bytes;
}

void svcconf_reload(svcconf_t *current, const svcconf_t *fresh, const char *service,
                    svcconf_reload_t *r)
{
    svcconf_reload_differs(r, "data_dir", current->data_dir, fresh->data_dir);
    if (current->store.relaxed != fresh->store.relaxed)
        svcconf_reload_note(r->ignored, "durability");
    svcconf_reload_differs(r, "keys.own", current->key_path, fresh->key_path);
    svcconf_reload_differs(r, "keys.allowed", current->allowed_path, fresh->allowed_path);
    if (!same_limits(current, fresh))
        svcconf_reload_note(r->ignored, "limits");
    svcconf_reload_differs(r, "metrics", current->metrics_listen, fresh->metrics_listen);
    current->log_level = r->log_level = fresh->log_level;
    /* log.h has no level setter: log_open with the same name and fd sets the level. */
    log_open(service, 2, fresh->log_level);
    svcconf_reload_note(r->applied, "log_level");
}

int svcconf_peer(const conf_t *c, const char *name, char endpoint[LINK_ENDPOINT_MAX],
                 char public_path[SVCCONF_PATH_MAX], char *err, size_t len)
{
    static const char *const peer_keys[] = {"endpoint", "public_key", NULL};
    char setting[96];
    int rc = conf_check_keys(c, name, peer_keys, err, len);
    snprintf(setting, sizeof setting, "%s.endpoint", name);
    rc = rc ? rc : svcconf_endpoint(c, setting, endpoint, err, len);
    snprintf(setting, sizeof setting, "%s.public_key", name);
    return rc ? rc : svcconf_path(c, setting, NULL, public_path, err, len);
}

int svcconf_clock(const conf_t *c, bool *simulated, int64_t *start_ms, char *err, size_t len)
{
    static const char *const clock_keys[] = {"kind", "start", "driven", NULL};
    static const char *const kinds[] = {"wall", "simulated", NULL};
    int kind = 0;
    bool driven = false;
    const char *start = NULL;
    int rc = conf_check_keys(c, "clock", clock_keys, err, len);
    rc = rc ? rc : conf_enum(c, "clock.kind", kinds, 0, &kind, err, len);
    rc = rc ? rc : conf_string(c, "clock.start", "2026-01-01", TZ_DATE_LEN, &start, err, len);
    rc = rc ? rc : conf_bool(c, "clock.driven", false, &driven, err, len);
    if (rc == 0 && driven && kind != 1)
        rc = conf_error_at(c, conf_lookup(c, "clock.driven"), CONF_ERANGE, err, len,
                           "clock.driven: only a simulated clock has a driver");
    if (rc != 0)
        return rc;
    int64_t day;
    char why[96];
    *simulated = kind == 1;
    if (!tz_date_parse(start, 1970, 2200, &day, why, sizeof why)) {
        snprintf(err, len, "%s: clock.start: %s", conf_name(c), why);
        return CONF_ERANGE;
    }
    *start_ms = day * 86400000;
    return 0;
}

/* The proto Product value named (lower case) by name; 0 when none. */
static int product_named(const char *name)
{
    const ProtobufCEnumDescriptor *d = &arrears__product__descriptor;
    for (unsigned i = 0; i < d->n_values; i++) {
        const char *v = d->values[i].name;
        size_t k = 0;
        while (v[k] && name[k] && tolower((unsigned char)v[k]) == name[k])
            k++;
        if (!v[k] && !name[k] && d->values[i].value > 0)
            return d->values[i].value;
    }
    return 0;
}

int svcconf_products_at(const conf_t *c, const config_setting_t *base, const char *path,
                        uint32_t *mask, char *err, size_t len)
{
    const char *names[16];
    size_t n = 0;
    int rc = conf_strings_at(c, base, path, 16, 32, names, &n, err, len);
    if (rc == 0 && n == 0)
        return conf_error_at(c, base, CONF_ERANGE, err, len, "%s needs at least one product", path);
    *mask = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int p = product_named(names[i]);
        if (p <= 0 || p >= 32)
            return conf_error_at(c, base, CONF_ERANGE, err, len,
                                 "product \"%s\" is not one of online_loan, credit_card, "
                                 "instalment_loan, bnpl", names[i]);
        *mask |= UINT32_C(1) << p;
    }
    return rc;
}
