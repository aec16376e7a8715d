/* sale: the sale service process — configuration, sockets and the loop.
 *   sale [run] --config FILE     serve until SIGTERM
 *   sale dump --config FILE      print every account listed, portfolio and bid (JSON lines)
 * The loop: take what staging, buyers and operators sent (one group commit per batch),
 * sweep now and then (cycles to open, deadlines passed), drain the outboxes to staging
 * (one per shard), reload keys on SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sale.h"
#include "svcmain.h"

typedef struct {
    const char *config_path;
    sale_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    sale_t app;
} service_t;

static void service_close(void *svc)
{
    service_t *s = svc;
    svcnet_destroy(&s->net);
    shards_close_outboxes(s->app.to_staging);
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

static int open_store(void *svc)
{
    service_t *s = svc;
    const sale_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "sale: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = crypt_derive(s->crypt, "pseudony", 1, s->app.pseudonym_key);
    rc = rc ? rc : store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    rc = rc ? rc : shards_open_outboxes(&c->staging, s->store, &c->svc.outbox, NULL,
                                        s->app.to_staging);
    rc = rc ? rc : sales_open(s->store, s->crypt, &s->app.sales);
    if (rc != 0)
        fprintf(stderr, "sale: cannot open the store in %s: %s\n", c->svc.data_dir,
                sales_strerror(rc));
    return rc;
}

static int read_clock_ms(MDB_txn *txn, void *svc, uint64_t *clock_ms)
{
    service_t *s = svc;
    return sales_meta_get(s->app.sales, txn, "clock_ms", 0, clock_ms);
}

static int open_links(service_t *s)
{
    const sale_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.service = "sale", .svc = &c->svc, .listen = c->listen};
    receiver_handler_t h = {.apply = sale_apply, .query = sale_query};
    char err[512] = "";
    int rc = shards_add_peers(&c->staging, s->app.to_staging, &spec);
    if (rc != 0) {
        fprintf(stderr, "sale: %s\n", shards_strerror(rc));
        return rc;
    }
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "sale: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(void *svc)
{
    service_t *s = svc;
    log_event(LOG_INFO, "sale_config", "listen=%s data_dir=%s plans=%zu staging_shards=%u",
              s->cfg.listen, s->cfg.svc.data_dir, s->cfg.plan_count, s->cfg.staging.count);
    s->app.cfg = &s->cfg;
    s->app.limits = sale_default_limits();
    s->app.started_ms = aclock_monotonic_ms();
    s->app.unacked = unacked;
    s->app.unacked_arg = s;
    s->app.buyer_key = buyer_key;
    s->app.buyer_key_arg = s;
    int rc = open_store(s);
    rc = rc ? rc : svcmain_open_clock(s->store, s->cfg.simulated, s->cfg.simulated_start_ms,
                                      read_clock_ms, s, &s->app.clock);
    return rc ? rc : open_links(s);
}

static int sweep(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    size_t moved = 0;
    return sale_sweep(&s->app, txn, &moved);
}

/* The log level applies at once; the rest is read at the next start. */
static int reload(void *svc, char *msg, size_t len)
{
    service_t *s = svc;
    sale_config_t *fresh = calloc(1, sizeof *fresh);   /* large: not on the stack */
    int rc = fresh ? sale_config_load(s->config_path, fresh, msg, len) : -1;
    if (!fresh)
        snprintf(msg, len, "out of memory");
    if (rc == 0) {
        svcconf_reload_t r = {0};
        svcconf_reload(&s->cfg.svc, &fresh->svc, "sale", &r);
        svcconf_reload_differs(&r, "listen", s->cfg.listen, fresh->listen);
        if (!shards_same(&s->cfg.staging, &fresh->staging))
            svcconf_reload_note(r.ignored, "staging");
        svcconf_reload_message(&r, msg, len);
    }
    free(fresh);
    return rc;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    return sales_dump(s->app.sales, txn, stdout);
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "sale", &command, &config_path))
        return 2;
    static service_t s;   /* large (the plans and curves): not on the stack */
    char err[1024];
    s.config_path = config_path;
    if (sale_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "sale: %s\n", err);
        return 2;
    }
    log_open("sale", 2, s.cfg.svc.log_level);
    svcmain_t m = {.name = "sale", .svc = &s, .open = service_open, .open_store = open_store,
                   .close = service_close, .dump = dump_all, .step_ms = s.cfg.sweep_every_ms, .sweep = sweep,
                   .sweep_every_ms = s.cfg.sweep_every_ms, .strerror = sales_strerror, .reload = reload,
                   .store = &s.store, .net = &s.net, .clock = &s.app.clock};
    return strcmp(command, "dump") == 0 ? svcmain_dump(&m) : svcmain_run(&m);
}
