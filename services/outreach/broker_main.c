/* outreach-broker: the broker process — configuration, sockets and the loop.
 *   outreach-broker [run] --config FILE     serve until SIGTERM
 *   outreach-broker dump --config FILE      print tasks (with every kept gate decision),
 *                                           the contact ledger and persons as JSON lines
 * The loop: take what staging, workers and operators sent (one group commit per batch;
 * workers' calls answered after it), return tasks whose lease ended, drain the outboxes
 * of outcomes to staging (one per shard); on SIGHUP reload the keys and the
 * configuration: the log level, and the profiles and templates files, each checked
 * whole (a refused one keeps the books in force); staging's shards change at a start.
 * The books are swapped between steps: a screening reads them within one call and
 * keeps no pointer into them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_config.h"
#include "log.h"
#include "svcmain.h"

#define SWEEP_EVERY_MS 1000

typedef struct {
    const char *config_path;
    broker_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    profile_book_t *profiles;
    template_book_t *templates;
    broker_t app;
} service_t;

static void service_close(void *svc)
{
    service_t *s = svc;
    svcnet_destroy(&s->net);
    shards_close_outboxes(s->app.to_staging);
    tasks_destroy(&s->app.tasks);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
    profile_book_destroy(&s->profiles);
    template_book_destroy(&s->templates);
}

static uint64_t unacked(void *arg)
{
    service_t *s = arg;
    return svcnet_unacked(s->net);
}

static bool in_turn(void *arg)
{
    service_t *s = arg;
    return svcnet_in_turn(s->net);
}

/* The profiles and templates, each file checked whole; NULL both with err when one is
 * refused. */
static int load_policy(const broker_config_t *c, profile_book_t **profiles,
                       template_book_t **templates, char *err, size_t len)
{
    *profiles = profile_book_load(c->profiles_path, err, len);
    *templates = *profiles ? template_book_load(c->templates_path, err, len) : NULL;
    if (!*templates)
        profile_book_destroy(profiles);
    return *templates ? 0 : -1;
}

/* Puts the books in force; the ones they replace come back in *profiles, *templates. */
static void install_policy(service_t *s, profile_book_t **profiles, template_book_t **templates)
{
    profile_book_t *old_profiles = s->profiles;
    template_book_t *old_templates = s->templates;
    s->app.profiles = s->profiles = *profiles;
    s->app.templates = s->templates = *templates;
    *profiles = old_profiles;
    *templates = old_templates;
}

/* A bad file stops the start. */
static int open_policy(service_t *s)
{
    char err[1024];
    profile_book_t *profiles = NULL;
    template_book_t *templates = NULL;
    if (load_policy(&s->cfg, &profiles, &templates, err, sizeof err) != 0) {
        fprintf(stderr, "outreach-broker: %s\n", err);
        return -1;
    }
    install_policy(s, &profiles, &templates);   /* replaces nothing */
    return 0;
}

static int open_store(void *svc)
{
    service_t *s = svc;
    const broker_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "outreach-broker: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    rc = rc ? rc : shards_open_outboxes(&c->staging, s->store, &c->svc.outbox, NULL,
                                        s->app.to_staging);
    rc = rc ? rc : tasks_open(s->store, s->crypt, &s->app.tasks);
    if (rc != 0)
        fprintf(stderr, "outreach-broker: cannot open the store in %s: %s\n", c->svc.data_dir,
                tasks_strerror(rc));
    return rc;
}

static int read_clock_ms(MDB_txn *txn, void *svc, uint64_t *clock_ms)
{
    service_t *s = svc;
    return tasks_meta_get(s->app.tasks, txn, "clock_ms", 0, clock_ms);
}

static int open_links(service_t *s)
{
    const broker_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.service = "outreach-broker", .svc = &c->svc, .listen = c->listen};
    receiver_handler_t h = {.apply = broker_apply, .query = broker_query, .call = broker_call};
    char err[512] = "";
    int rc = shards_add_peers(&c->staging, s->app.to_staging, &spec);
    if (rc != 0) {
        fprintf(stderr, "outreach-broker: %s\n", shards_strerror(rc));
        return rc;
    }
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "outreach-broker: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(void *svc)
{
    service_t *s = svc;
    log_event(LOG_INFO, "broker_config", "listen=%s data_dir=%s staging_shards=%u",
              s->cfg.listen, s->cfg.svc.data_dir, s->cfg.staging.count);
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = s->cfg.limits;
    s->app.staging = &s->cfg.staging;
    s->app.started_ms = aclock_monotonic_ms();
    s->app.unacked = unacked;
    s->app.unacked_arg = s;
    s->app.in_turn = in_turn;
    s->app.in_turn_arg = s;
    int rc = s->app.zones ? 0 : -1;
    rc = rc ? rc : open_policy(s);
    rc = rc ? rc : open_store(s);
    rc = rc ? rc : svcmain_open_clock(s->store, s->cfg.simulated, s->cfg.simulated_start_ms,
                                      read_clock_ms, s, &s->app.clock);
    return rc ? rc : open_links(s);
}

static int sweep(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    size_t returned = 0;
    return broker_expire_leases(&s->app, txn, &returned);
}

static int reload(void *svc, char *msg, size_t len)
{
    service_t *s = svc;
    broker_config_t *fresh = calloc(1, sizeof *fresh);
    profile_book_t *profiles = NULL;
    template_book_t *templates = NULL;
    int rc = fresh ? broker_config_load(s->config_path, fresh, msg, len) : -1;
    if (!fresh)
        snprintf(msg, len, "out of memory");
    rc = rc ? rc : load_policy(fresh, &profiles, &templates, msg, len);
    if (rc == 0) {
        svcconf_reload_t r = {0};
        svcconf_reload(&s->cfg.svc, &fresh->svc, "outreach-broker", &r);
        svcconf_reload_differs(&r, "listen", s->cfg.listen, fresh->listen);
        if (!shards_same(&s->cfg.staging, &fresh->staging))
            svcconf_reload_note(r.ignored, "staging");   /* shards, endpoints, keys: at start */
        install_policy(s, &profiles, &templates);
        memcpy(s->cfg.profiles_path, fresh->profiles_path, sizeof s->cfg.profiles_path);
        memcpy(s->cfg.templates_path, fresh->templates_path, sizeof s->cfg.templates_path);
        svcconf_reload_note(r.applied, "profiles");
        svcconf_reload_note(r.applied, "templates");
        svcconf_reload_message(&r, msg, len);
    }
    profile_book_destroy(&profiles);   /* the old books, or the new ones refused */
    template_book_destroy(&templates);
    free(fresh);
    return rc;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    return tasks_dump(s->app.tasks, txn, stdout);
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "outreach-broker", &command, &config_path))
        return 2;
    static service_t s;
    char err[1024];
    s.config_path = config_path;
    if (broker_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "outreach-broker: %s\n", err);
        return 2;
    }
    log_open("outreach-broker", 2, s.cfg.svc.log_level);
    svcmain_t m = {.name = "broker", .svc = &s, .open = service_open, .open_store = open_store,
                   .close = service_close, .dump = dump_all, .step_ms = SWEEP_EVERY_MS, .sweep = sweep,
                   .sweep_every_ms = SWEEP_EVERY_MS, .sweep_when_simulated = true,
                   .strerror = tasks_strerror, .reload = reload, .store = &s.store, .net = &s.net,
                   .clock = &s.app.clock};
    return strcmp(command, "dump") == 0 ? svcmain_dump(&m) : svcmain_run(&m);
}
