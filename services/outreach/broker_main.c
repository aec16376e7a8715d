/* outreach-broker: the broker process — configuration, sockets and the loop.
 *   outreach-broker [run] --config FILE     serve until SIGTERM
 *   outreach-broker dump --config FILE      print tasks (with every kept gate decision),
 *                                           the contact ledger and persons as JSON lines
 * The loop: take what staging, workers and operators sent (one group commit per batch;
 * workers' calls answered after it), return tasks whose lease ended, drain the outbox
 * of outcomes to staging, reload keys on SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker_config.h"
#include "log.h"
#include "signals.h"
#include "svcloop.h"
#include "svcnet.h"

#define SWEEP_EVERY_MS 1000

typedef struct {
    broker_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    profile_book_t *profiles;
    template_book_t *templates;
    broker_t app;
} service_t;

static void service_close(service_t *s)
{
    svcnet_destroy(&s->net);
    outbox_destroy(&s->app.to_staging);
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

/* The profiles and templates, each file checked whole: a bad one stops the start. */
static int open_policy(service_t *s)
{
    char err[1024];
    s->profiles = profile_book_load(s->cfg.profiles_path, err, sizeof err);
    if (s->profiles)
        s->templates = template_book_load(s->cfg.templates_path, err, sizeof err);
    if (!s->profiles || !s->templates) {
        fprintf(stderr, "outreach-broker: %s\n", err);
        return -1;
    }
    s->app.profiles = s->profiles;
    s->app.templates = s->templates;
    return 0;
}

static int open_store(service_t *s)
{
    const broker_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "outreach-broker: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    rc = rc ? rc : outbox_open(s->store, "to_staging", &c->svc.outbox, &s->app.to_staging);
    rc = rc ? rc : tasks_open(s->store, s->crypt, &s->app.tasks);
    if (rc != 0)
        fprintf(stderr, "outreach-broker: cannot open the store in %s: %s\n", c->svc.data_dir,
                tasks_strerror(rc));
    return rc;
}

/* The simulated clock resumes where it was before a restart. */
static int read_clock(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    uint64_t v = 0;
    int rc = tasks_meta_get(s->app.tasks, txn, "clock_ms", 0, &v);
    s->app.clock = aclock_new_for_service(true, s->cfg.simulated_start_ms, (int64_t)v);
    return rc;
}

static int open_clock(service_t *s)
{
    if (!s->cfg.simulated)
        s->app.clock = aclock_new_for_service(false, 0, 0);
    else if (store_read(s->store, read_clock, s) != 0)
        return -1;
    return s->app.clock ? 0 : -1;
}

static int open_links(service_t *s)
{
    const broker_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.svc = &c->svc, .listen = c->listen, .peer_count = 1};
    spec.peers[0] = (svcnet_peer_t){c->staging_endpoint, c->staging_public, s->app.to_staging};
    receiver_handler_t h = {.apply = broker_apply, .query = broker_query, .call = broker_call};
    char err[512] = "";
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "outreach-broker: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(service_t *s)
{
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = s->cfg.limits;
    s->app.started_ms = aclock_monotonic_ms();
    s->app.unacked = unacked;
    s->app.unacked_arg = s;
    int rc = s->app.zones ? 0 : -1;
    rc = rc ? rc : open_policy(s);
    rc = rc ? rc : open_store(s);
    rc = rc ? rc : open_clock(s);
    return rc ? rc : open_links(s);
}

static int sweep(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    size_t returned = 0;
    return broker_expire_leases(&s->app, txn, &returned);
}

static int service_step(service_t *s, int64_t *next_sweep_ms)
{
    int rc = svcnet_step(s->net, SWEEP_EVERY_MS, s->app.clock);
    if (rc == 0 && aclock_monotonic_ms() >= *next_sweep_ms) {
        rc = store_write(s->store, sweep, s);
        *next_sweep_ms = aclock_monotonic_ms() + SWEEP_EVERY_MS;
        rc = rc ? rc : svcnet_pump(s->net);
    }
    if (rc != 0 && !store_is_fatal(rc)) {
        log_event(LOG_ERROR, "step_failed", "error=%d what=%s", rc, tasks_strerror(rc));
        rc = 0;
    }
    return rc;
}

static int run(service_t *s)
{
    signals_install();
    int rc = service_open(s);
    log_event(LOG_INFO, "broker_start", "listen=%s data_dir=%s clock=%s error=%d", s->cfg.listen,
              s->cfg.svc.data_dir, s->cfg.simulated ? "simulated" : "wall", rc);
    int64_t next_sweep = 0;
    while (svcloop_continue(svcnet_zap(s->net), rc))
        rc = service_step(s, &next_sweep);
    svcnet_flush(s->net);
    log_event(rc ? LOG_ERROR : LOG_INFO, "broker_stop", "error=%d reason=%s", rc,
              rc ? "a store or socket error stopped the loop" : "signal");
    service_close(s);
    return rc == 0 ? 0 : 1;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    return tasks_dump(s->app.tasks, txn, stdout);
}

static int dump(service_t *s)
{
    int rc = open_store(s);
    rc = rc ? rc : store_read(s->store, dump_all, s);
    if (rc != 0)
        fprintf(stderr, "outreach-broker dump: %s\n", tasks_strerror(rc));
    service_close(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "outreach-broker", &command, &config_path))
        return 2;
    static service_t s;
    char err[1024];
    if (broker_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "outreach-broker: %s\n", err);
        return 2;
    }
    log_open("outreach-broker", 2, s.cfg.svc.log_level);
    return strcmp(command, "dump") == 0 ? dump(&s) : run(&s);
}
