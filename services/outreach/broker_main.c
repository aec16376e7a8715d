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
#include <zmq.h>

#include "broker_config.h"
#include "link.h"
#include "log.h"
#include "sender.h"
#include "signals.h"
#include "svcloop.h"
#include "zap.h"

#define SWEEP_EVERY_MS 1000

typedef struct {
    broker_config_t cfg;
    void *ctx;
    zap_t *zap;
    void *router, *dealer;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    receiver_t *receiver;
    sender_t *sender;
    profile_book_t *profiles;
    template_book_t *templates;
    broker_t app;
} service_t;

static void service_close(service_t *s)
{
    receiver_destroy(&s->receiver);
    sender_destroy(&s->sender);
    outbox_destroy(&s->app.to_staging);
    link_close(&s->dealer);
    tasks_destroy(&s->app.tasks);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
    profile_book_destroy(&s->profiles);
    template_book_destroy(&s->templates);
    link_close(&s->router);
    zap_destroy(&s->zap);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
}

static uint64_t unacked(void *arg)
{
    service_t *s = arg;
    return s->sender ? sender_unacked(s->sender) : 0;
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
    int rc = crypt_load(c->secret_path, &s->crypt);
    if (rc == CRYPT_EKEYFILE && c->create_secret && crypt_key_create(c->secret_path) == CRYPT_OK)
        rc = crypt_load(c->secret_path, &s->crypt);
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

static int read_clock(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    uint64_t v = 0;
    int rc = tasks_meta_get(s->app.tasks, txn, "clock_ms", 0, &v);
    int64_t restored = (int64_t)v;
    int64_t start = restored > s->cfg.simulated_start_ms ? restored : s->cfg.simulated_start_ms;
    s->app.clock = aclock_new_simulated(start);
    return rc;
}

static int open_clock(service_t *s)
{
    if (!s->cfg.simulated)
        s->app.clock = aclock_new_wall();
    else if (store_read(s->store, read_clock, s) != 0)
        return -1;
    return s->app.clock ? 0 : -1;
}

static int open_links(service_t *s)
{
    const broker_config_t *c = &s->cfg;
    char err[512] = "";
    int rc = 0;
    s->ctx = zmq_ctx_new();
    s->zap = zap_new(s->ctx, c->svc.allowed_path, &rc, err, sizeof err);
    if (s->zap)   /* the handler first: a CURVE socket bound without it admits every key */
        s->router = link_server_open(s->ctx, c->listen, c->svc.key_path, &c->svc.link, err, sizeof err);
    if (s->router)
        s->dealer = link_client_open(s->ctx, c->staging_endpoint, c->staging_public,
                                     c->svc.key_path, &c->svc.link, err, sizeof err);
    if (!s->dealer) {
        fprintf(stderr, "outreach-broker: %s\n", err);
        return -1;
    }
    return 0;
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
    rc = rc ? rc : open_links(s);
    if (rc != 0)
        return rc;
    receiver_handler_t h = {.apply = broker_apply, .query = broker_query, .call = broker_call};
    s->receiver = receiver_new(s->store, s->inbox, s->router, &s->cfg.svc.receiver, &h, &s->app);
    s->sender = sender_new(s->store, s->app.to_staging, s->dealer, &s->cfg.svc.sender);
    return s->receiver && s->sender ? 0 : -1;
}

static int sweep(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    size_t returned = 0;
    return broker_expire_leases(&s->app, txn, &returned);
}

static int service_step(service_t *s, int64_t *next_sweep_ms)
{
    int64_t now = aclock_monotonic_ms();
    int64_t wait = sender_wait_ms(s->sender, now);
    wait = wait < SWEEP_EVERY_MS ? wait : SWEEP_EVERY_MS;
    zmq_pollitem_t items[2] = {{s->router, 0, ZMQ_POLLIN, 0}, {s->dealer, 0, ZMQ_POLLIN, 0}};
    if (zmq_poll(items, 2, (long)wait) < 0)
        return 0;   /* a signal: the loop checks its flags */
    int rc = 0;
    if (items[0].revents & ZMQ_POLLIN) {
        int taken = receiver_drain(s->receiver, aclock_now_ms(s->app.clock));
        rc = taken < 0 ? taken : 0;
    }
    if (rc == 0 && (items[1].revents & ZMQ_POLLIN))
        rc = sender_read_replies(s->sender, aclock_monotonic_ms());
    if (rc == 0 && aclock_monotonic_ms() >= *next_sweep_ms) {
        rc = store_write(s->store, sweep, s);
        *next_sweep_ms = aclock_monotonic_ms() + SWEEP_EVERY_MS;
    }
    rc = rc ? rc : sender_pump(s->sender, aclock_monotonic_ms());
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
    while (svcloop_continue(s->zap, rc))
        rc = service_step(s, &next_sweep);
    if (s->sender)
        sender_flush(s->sender, aclock_monotonic_ms());
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
