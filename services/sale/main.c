/* sale: the sale service process — configuration, sockets and the loop.
 *   sale [run] --config FILE     serve until SIGTERM
 *   sale dump --config FILE      print every account listed, portfolio and bid (JSON lines)
 * The loop: take what staging, buyers and operators sent (one group commit per batch),
 * sweep now and then (cycles to open, deadlines passed), drain the outbox to staging,
 * reload keys on SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sale.h"
#include "signals.h"
#include "svcloop.h"
#include "svcnet.h"

typedef struct {
    sale_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    sale_t app;
} service_t;

static void service_close(service_t *s)
{
    svcnet_destroy(&s->net);
    outbox_destroy(&s->app.to_staging);
    sales_destroy(&s->app.sales);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    aclock_destroy(&s->app.clock);
    sale_release(&s->app);
}

static uint64_t unacked(void *arg)
{
    service_t *s = arg;
    return svcnet_unacked(s->net);
}

static bool buyer_key(void *arg, const char *buyer, uint8_t key[32])
{
    service_t *s = arg;
    return zap_public_of(svcnet_zap(s->net), buyer, "buyer", key);
}

static int open_store(service_t *s)
{
    const sale_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "sale: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = crypt_derive(s->crypt, "pseudony", 1, s->app.pseudonym_key);
    rc = rc ? rc : store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    rc = rc ? rc : outbox_open(s->store, "to_staging", &c->svc.outbox, &s->app.to_staging);
    rc = rc ? rc : sales_open(s->store, s->crypt, &s->app.sales);
    if (rc != 0)
        fprintf(stderr, "sale: cannot open the store in %s: %s\n", c->svc.data_dir,
                sales_strerror(rc));
    return rc;
}

/* The simulated clock resumes where it was before a restart. */
static int read_clock(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    uint64_t v = 0;
    int rc = sales_meta_get(s->app.sales, txn, "clock_ms", 0, &v);
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
    const sale_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.svc = &c->svc, .listen = c->listen, .peer_count = 1};
    spec.peers[0] = (svcnet_peer_t){c->staging_endpoint, c->staging_public, s->app.to_staging};
    receiver_handler_t h = {.apply = sale_apply, .query = sale_query};
    char err[512] = "";
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "sale: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(service_t *s)
{
    s->app.cfg = &s->cfg;
    s->app.limits = sale_default_limits();
    s->app.started_ms = aclock_monotonic_ms();
    s->app.unacked = unacked;
    s->app.unacked_arg = s;
    s->app.buyer_key = buyer_key;
    s->app.buyer_key_arg = s;
    int rc = open_store(s);
    rc = rc ? rc : open_clock(s);
    return rc ? rc : open_links(s);
}

static int sweep(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    size_t moved = 0;
    return sale_sweep(&s->app, txn, &moved);
}

static int service_step(service_t *s, int64_t *next_sweep_ms)
{
    int rc = svcnet_step(s->net, s->cfg.sweep_every_ms, s->app.clock);
    if (rc == 0 && !aclock_is_simulated(s->app.clock) && aclock_monotonic_ms() >= *next_sweep_ms) {
        rc = store_write(s->store, sweep, s);
        *next_sweep_ms = aclock_monotonic_ms() + s->cfg.sweep_every_ms;
        rc = rc ? rc : svcnet_pump(s->net);
    }
    if (rc != 0 && !store_is_fatal(rc)) {
        log_event(LOG_ERROR, "step_failed", "error=%d what=%s", rc, sales_strerror(rc));
        rc = 0;
    }
    return rc;
}

static int run(service_t *s)
{
    signals_install();
    int rc = service_open(s);
    log_event(LOG_INFO, "sale_start", "listen=%s data_dir=%s clock=%s plans=%zu error=%d",
              s->cfg.listen, s->cfg.svc.data_dir, s->cfg.simulated ? "simulated" : "wall",
              s->cfg.plan_count, rc);
    int64_t next_sweep = 0;
    while (svcloop_continue(svcnet_zap(s->net), rc))
        rc = service_step(s, &next_sweep);
    svcnet_flush(s->net);
    log_event(rc ? LOG_ERROR : LOG_INFO, "sale_stop", "error=%d reason=%s", rc,
              rc ? "a store or socket error stopped the loop" : "signal");
    service_close(s);
    return rc == 0 ? 0 : 1;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    return sales_dump(s->app.sales, txn, stdout);
}

static int dump(service_t *s)
{
    int rc = open_store(s);
    rc = rc ? rc : store_read(s->store, dump_all, s);
    if (rc != 0)
        fprintf(stderr, "sale dump: %s\n", sales_strerror(rc));
    service_close(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "sale", &command, &config_path))
        return 2;
    static service_t s;   /* large (the plans and curves): not on the stack */
    char err[1024];
    if (sale_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "sale: %s\n", err);
        return 2;
    }
    log_open("sale", 2, s.cfg.svc.log_level);
    return strcmp(command, "dump") == 0 ? dump(&s) : run(&s);
}
