/* outreach-worker: one worker process — pulls tasks from the broker and delivers them
 * through its channel adapters until SIGTERM. Any number run, on any host.
 *   outreach-worker [run] --config FILE
 * The configuration file:
 *   broker = { endpoint = "tcp://broker:7403"; public_key = "keys/outreach.pub"; };
 *   keys = { own = "keys/worker.key"; };
 *   name = "worker";                     # the instance adds "-<pid>-<random>"
 *   channels = ["sms", "email", "letter", "call", "visit"];
 *   spool = "var/spool";                 # the file spool and call log (spool.h)
 *   seed = 1;                            # simulated call outcomes (the voice robot)
 *   max_tasks = 16;  reply_timeout_ms = 2000;  call_attempts = 3;  idle_poll_ms = 200;
 *   rest_initial_ms = 500;  rest_max_ms = 60000;   # a channel that is down rests
 *   send_margin_ms = 1000;               # nothing sent with less left of its lease
 *   adapters = {                         # channels not named here go to the spool
 *     email = { kind = "smtp"; url = "smtp://mail:25"; from = "collections@example.com";
 *               timeout_ms = 10000; };
 *     sms = { kind = "http"; url = "http://gateway/sms"; status_url = "http://gateway/status";
 *             timeout_ms = 10000; };
 *   };
 *   log_level = "info";                  # SIGHUP applies a new one (the rest: next start)
 *   metrics = { listen = "127.0.0.1:9110"; };   # optional (metrics.h); ready while its
 *                                        # pulls are answered */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>
#include <zmq.h>

#include "conf.h"
#include "letter.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "outreach.pb-c.h"
#include "signals.h"
#include "svcconf.h"
#include "worker.h"

typedef struct {
    char endpoint[LINK_ENDPOINT_MAX];
    char broker_public[SVCCONF_PATH_MAX];
    char key_path[SVCCONF_PATH_MAX];
    char spool_dir[SVCCONF_PATH_MAX];
    char name[WORKER_NAME_MAX + 1];
    int channels[5];
    size_t channel_count;
    int64_t seed, idle_poll_ms;
    channel_config_t adapters[5];
    bool external;
    worker_limits_t limits;
    log_level_t log_level;
    char metrics_listen[METRICS_ADDRESS_MAX];
} worker_config_t;

static const char *const channel_names[] = {"sms", "email", "letter", "call", "visit", NULL};

/* A worker without a step for this long is not alive (/healthz): its longest step is a
 * few calls that each wait reply_timeout_ms. */
#define WORKER_STALE_MS 60000

static int load_channels(const conf_t *c, worker_config_t *o, char *err, size_t len)
{
    const config_setting_t *s = conf_lookup(c, "channels");
    int n = s ? config_setting_length(s) : 0;
    if (!s || !config_setting_is_array(s) || n < 1 || n > 5)
        return conf_error_at(c, s, CONF_ETYPE, err, len,
                             "channels: a list of 1 to 5 of sms, email, letter, call, visit");
    int rc = 0;
    for (int i = 0; rc == 0 && i < n; i++) {
        char path[32];
        int index = 0;
        snprintf(path, sizeof path, "channels.[%d]", i);
        rc = conf_enum(c, path, channel_names, 0, &index, err, len);
        o->channels[i] = index + 1;
    }
    o->channel_count = (size_t)n;
    return rc;
}

/* adapters.<channel> = { kind; url; status_url; from; timeout_ms; } */
static int load_adapter(const conf_t *c, const config_setting_t *a, channel_config_t *out,
                        char *err, size_t len)
{
    static const char *const keys[] = {"kind", "url", "status_url", "from", "timeout_ms", NULL};
    static const char *const kinds[] = {"spool", "smtp", "http", NULL};
    const char *url = "", *status = "", *from = "";
    int kind = 0;
    int rc = conf_check_keys_at(c, a, keys, err, len);
    rc = rc ? rc : conf_enum_at(c, a, "kind", kinds, 0, &kind, err, len);
    rc = rc ? rc : conf_string_at(c, a, "url", "", CHANNEL_URL_MAX - 1, &url, err, len);
    rc = rc ? rc : conf_string_at(c, a, "status_url", "", CHANNEL_URL_MAX - 1, &status, err, len);
    rc = rc ? rc : conf_string_at(c, a, "from", "", 255, &from, err, len);
    rc = rc ? rc : conf_int64_at(c, a, "timeout_ms", 10000, 100, 600000, &out->timeout_ms, err, len);
    if (rc == 0 && kind != CHANNEL_KIND_SPOOL && !*url)
        rc = conf_error_at(c, a, CONF_ERANGE, err, len, "an smtp or http adapter needs a url");
    if (rc == 0 && kind == CHANNEL_KIND_SMTP && !*from)
        rc = conf_error_at(c, a, CONF_ERANGE, err, len, "an smtp adapter needs a from address");
    out->kind = (channel_kind_t)kind;
    snprintf(out->url, sizeof out->url, "%s", url);
    snprintf(out->status_url, sizeof out->status_url, "%s", status);
    snprintf(out->from, sizeof out->from, "%s", from);
    return rc;
}

static int load_adapters(const conf_t *c, worker_config_t *o, char *err, size_t len)
{
    int rc = conf_check_keys(c, "adapters", channel_names, err, len);
    for (int i = 0; rc == 0 && i < 5; i++) {
        char path[32];
        snprintf(path, sizeof path, "adapters.%s", channel_names[i]);
        const config_setting_t *a = conf_lookup(c, path);
        o->adapters[i] = (channel_config_t){.kind = CHANNEL_KIND_SPOOL, .timeout_ms = 10000};
        rc = a ? load_adapter(c, a, &o->adapters[i], err, len) : 0;
        o->external |= o->adapters[i].kind != CHANNEL_KIND_SPOOL;
    }
    return rc;
}

static int load_numbers(const conf_t *c, worker_config_t *o, char *err, size_t len)
{
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    int64_t max_tasks = 16, timeout = 2000, attempts = 3, rest = 500, rest_max = 60000,
            margin = 1000;
    int level = 1;
    int rc = conf_int64(c, "seed", 1, 0, INT64_MAX, &o->seed, err, len);
    rc = rc ? rc : conf_int64(c, "max_tasks", 16, 1, 64, &max_tasks, err, len);
    rc = rc ? rc : conf_int64(c, "reply_timeout_ms", 2000, 10, 600000, &timeout, err, len);
    rc = rc ? rc : conf_int64(c, "call_attempts", 3, 1, 100, &attempts, err, len);
    rc = rc ? rc : conf_int64(c, "idle_poll_ms", 200, 1, 60000, &o->idle_poll_ms, err, len);
    rc = rc ? rc : conf_int64(c, "rest_initial_ms", 500, 1, 3600000, &rest, err, len);
    rc = rc ? rc : conf_int64(c, "rest_max_ms", 60000, 1, 86400000, &rest_max, err, len);
    rc = rc ? rc : conf_int64(c, "send_margin_ms", 1000, 0, 600000, &margin, err, len);
    rc = rc ? rc : conf_enum(c, "log_level", levels, 1, &level, err, len);
    o->limits = (worker_limits_t){(int)max_tasks, timeout, (int)attempts, rest,
                                  rest_max > rest ? rest_max : rest, margin};
    o->log_level = (log_level_t)level;
    return rc;
}

static int load_config(const char *path, worker_config_t *o, char *err, size_t len)
{
    static const char *const top[] = {"broker", "keys", "name", "channels", "spool", "seed",
                                      "max_tasks", "reply_timeout_ms", "call_attempts",
                                      "idle_poll_ms", "log_level", "adapters", "rest_initial_ms",
                                      "rest_max_ms", "send_margin_ms", "metrics", NULL};
    static const char *const key_keys[] = {"own", NULL};
    conf_t *c = conf_load(path, err, len);
    if (!c)
        return CONF_ESYNTAX;
    const char *name = NULL;
    int rc = conf_check_keys(c, NULL, top, err, len);
    rc = rc ? rc : conf_check_keys(c, "keys", key_keys, err, len);
    rc = rc ? rc : svcconf_peer(c, "broker", o->endpoint, o->broker_public, err, len);
    rc = rc ? rc : svcconf_path(c, "keys.own", NULL, o->key_path, err, len);
    rc = rc ? rc : svcconf_path(c, "spool", NULL, o->spool_dir, err, len);
    rc = rc ? rc : conf_string(c, "name", "worker", 32, &name, err, len);
    if (rc == 0 && (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != strlen(name)))
        rc = conf_error_at(c, conf_lookup(c, "name"), CONF_ERANGE, err, len,
                           "name: letters, digits, '-' and '_' only");
    rc = rc ? rc : load_channels(c, o, err, len);
    rc = rc ? rc : load_numbers(c, o, err, len);
    rc = rc ? rc : load_adapters(c, o, err, len);
    rc = rc ? rc : svcconf_metrics(c, o->metrics_listen, err, len);
    if (rc == 0)   /* a restarted worker is a new instance with a new name */
        snprintf(o->name, sizeof o->name, "%s-%ld-%08x", name, (long)getpid(),
                 (unsigned)randombytes_random());
    conf_destroy(&c);
    return rc;
}

/* The worker's series (metrics.h); a result's series is added when first seen. */
typedef struct {
    metrics_t *m;
    metrics_process_t process;
    int pulls, leased, latency;
    int results[WORKER_CHANNELS][WORKER_RESULTS];   /* -1: not seen yet */
} worker_metrics_t;

static void on_delivered(void *arg, int channel, int64_t elapsed_us)
{
    (void)channel;
    worker_metrics_t *wm = arg;
    metrics_observe_us(wm->m, wm->latency, elapsed_us);
}

static int metrics_open(const worker_config_t *cfg, worker_t *w, worker_metrics_t *wm)
{
    for (int c = 0; c < WORKER_CHANNELS; c++)
        for (int r = 0; r < WORKER_RESULTS; r++)
            wm->results[c][r] = -1;
    wm->m = metrics_new("outreach-worker");
    int port = 0, rc = wm->m ? 0 : METRICS_ENOMEM;
    rc = rc ? rc : metrics_process_add(wm->m, &wm->process);
    rc = rc ? rc : metrics_add(wm->m, METRICS_COUNTER, "arrears_pulls_total",
                               "Pull calls to the broker", NULL, 0, &wm->pulls);
    rc = rc ? rc : metrics_add(wm->m, METRICS_COUNTER, "arrears_tasks_pulled_total",
                               "Tasks leased by those pulls", NULL, 0, &wm->leased);
    rc = rc ? rc : metrics_add(wm->m, METRICS_HISTOGRAM, "arrears_delivery_duration_seconds",
                               "One delivery through its channel", NULL, 0, &wm->latency);
    rc = rc ? rc : metrics_serve(wm->m, cfg->metrics_listen, WORKER_STALE_MS, &port);
    if (rc != 0) {
        fprintf(stderr, "outreach-worker: metrics on %s: %s\n", cfg->metrics_listen,
                metrics_strerror(rc));
        return rc;
    }
    worker_set_timer(w, on_delivered, wm);
    log_event(LOG_INFO, "metrics_listen", "address=%s port=%d", cfg->metrics_listen, port);
    return 0;
}

/* "sms", "delivered": the label values of a result series. */
static void publish_result(worker_metrics_t *wm, int c, int r, uint64_t count)
{
    if (wm->results[c][r] < 0) {
        const ProtobufCEnumValue *v =
            protobuf_c_enum_descriptor_get_value(&arrears__contact_result__descriptor, r);
        char result[48] = "";
        for (size_t i = 0; v && v->name[i] && i + 1 < sizeof result; i++)
            result[i] = (char)tolower((unsigned char)v->name[i]);
        metrics_label_t labels[2] = {{"channel", channel_names[c]}, {"result", result}};
        if (metrics_add(wm->m, METRICS_COUNTER, "arrears_deliveries_total",
                        "Deliveries by channel and what they came to", labels, 2,
                        &wm->results[c][r]) != 0)
            return;   /* over the series limit */
    }
    metrics_counter_set(wm->m, wm->results[c][r], count);
}

static void metrics_publish(worker_metrics_t *wm, const worker_stats_t *st, bool ready)
{
    metrics_process_publish(wm->m, &wm->process);
    metrics_counter_set(wm->m, wm->pulls, st->pulls);
    metrics_counter_set(wm->m, wm->leased, st->leased);
    for (int c = 0; c < WORKER_CHANNELS; c++)
        for (int r = 0; r < WORKER_RESULTS; r++)
            if (st->results[c][r])
                publish_result(wm, c, r, st->results[c][r]);
    metrics_beat(wm->m, ready);
}

/* SIGHUP: the log level applies at once; the rest is read at the next start. */
static void reload(const char *config_path, worker_config_t *cfg, worker_metrics_t *wm)
{
    static worker_config_t fresh;
    char msg[1024] = "";
    int rc = load_config(config_path, &fresh, msg, sizeof msg);
    if (wm->m)
        metrics_process_reloaded(wm->m, &wm->process, rc == 0);
    if (rc != 0) {
        char quoted[2100];
        log_event(LOG_ERROR, "config_reload_failed", "error=%d reason=%s kept=\"the settings in force\"",
                  rc, log_quote(msg, quoted, sizeof quoted));
        return;
    }
    svcconf_reload_t r = {.log_level = fresh.log_level};
    svcconf_reload_differs(&r, "broker", cfg->endpoint, fresh.endpoint);
    svcconf_reload_differs(&r, "spool", cfg->spool_dir, fresh.spool_dir);
    svcconf_reload_differs(&r, "metrics", cfg->metrics_listen, fresh.metrics_listen);
    cfg->log_level = fresh.log_level;
    log_open("outreach-worker", 2, fresh.log_level);
    svcconf_reload_note(r.applied, "log_level");
    svcconf_reload_message(&r, msg, sizeof msg);
    log_event(LOG_INFO, "config_reload", "%s", msg);
}

static int run(const char *config_path, worker_config_t *cfg)
{
    char err[512] = "";
    void *ctx = zmq_ctx_new();
    link_options_t options = link_default_options();
    void *dealer = link_client_open(ctx, cfg->endpoint, cfg->broker_public, cfg->key_path,
                                    &options, err, sizeof err);
    spool_t *spool = dealer ? spool_new(cfg->spool_dir, (uint64_t)cfg->seed) : NULL;
    channels_t *adapters = spool && cfg->external ? channels_new(spool, cfg->adapters) : NULL;
    worker_t *w = spool && (adapters || !cfg->external)
                      ? worker_new(dealer, cfg->name, cfg->channels, cfg->channel_count, spool,
                                   adapters, &cfg->limits)
                      : NULL;
    if (!w)
        fprintf(stderr, "outreach-worker: %s\n", err[0] ? err : "cannot open the spool");
    worker_metrics_t wm = {0};
    if (w && cfg->metrics_listen[0] && metrics_open(cfg, w, &wm) != 0)
        worker_destroy(&w);
    log_event(LOG_INFO, "worker_start", "name=%s broker=%s spool=%s", cfg->name, cfg->endpoint,
              cfg->spool_dir);
    while (w && !signals_stop_requested()) {
        if (signals_take_reload())
            reload(config_path, cfg, &wm);
        int leased = 0;
        int rc = worker_step(w, &leased);
        if (wm.m)   /* ready while its pulls are answered (a channel awake, the broker up) */
            metrics_publish(&wm, worker_stats(w), rc == 0);
        if (rc != 0 || leased == 0) {   /* nothing due, or the broker is away: wait a little */
            zmq_pollitem_t none = {NULL, -1, 0, 0};
            zmq_poll(&none, 0, (long)cfg->idle_poll_ms);
        }
    }
    if (wm.m)
        metrics_stopping(wm.m);
    if (w) {
        const worker_stats_t *st = worker_stats(w);
        log_event(LOG_INFO, "worker_stop", "name=%s pulls=%llu leased=%llu sent=%llu missed=%llu "
                  "no_go=%llu resolved=%llu", cfg->name, (unsigned long long)st->pulls,
                  (unsigned long long)st->leased, (unsigned long long)st->sent,
                  (unsigned long long)st->missed, (unsigned long long)st->no_go,
                  (unsigned long long)st->resolved);
    }
    int ok = w != NULL;
    metrics_destroy(&wm.m);
    worker_destroy(&w);
    channels_destroy(&adapters);
    spool_destroy(&spool);
    link_close(&dealer);
    zmq_ctx_term(ctx);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "outreach-worker", &command, &config_path))
        return 2;
    if (strcmp(command, "run") != 0) {
        fprintf(stderr, "outreach-worker: only `run`: a worker keeps no state to dump\n");
        return 2;
    }
    static worker_config_t cfg;
    char err[1024];
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
        load_config(config_path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "outreach-worker: %s\n", err);
        return 2;
    }
    log_open("outreach-worker", 2, cfg.log_level);
    signals_install();
    int rc = run(config_path, &cfg);
    curl_global_cleanup();
    letter_shutdown();
    return rc;
}
