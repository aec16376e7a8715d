/* intake main: the service process — configuration, sockets and the loop.
 *   intake [run] --config FILE     serve platforms and staging until SIGTERM
 *   intake dump --config FILE      print the decrypted logical content (JSON lines)
 * The loop: take what platforms and staging sent (one group commit per batch), drain
 * the outbox to staging, prune the feed now and then; on SIGHUP reload the keys and the
 * configuration (the log level and the validation limits apply at once). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "intake.h"
#include "log.h"
#include "svcmain.h"

#define PRUNE_MAX 10000

typedef struct {
    const char *config_path;
    intake_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    intake_t app;
} service_t;

static void service_close(void *svc)
{
    service_t *s = svc;
    svcnet_destroy(&s->net);
    accepted_destroy(&s->app.accepted);
    feed_destroy(&s->app.feed);
    shards_close_outboxes(s->app.to_staging);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
}

static int open_store(void *svc)
{
    service_t *s = svc;
    const intake_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "intake: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    /* Forwarded accounts carry the borrower: sealed at rest like the book. */
    rc = rc ? rc : shards_open_outboxes(&c->staging, s->store, &c->svc.outbox, s->crypt,
                                        s->app.to_staging);
    s->app.shards = c->staging.count;
    rc = rc ? rc : accepted_open(s->store, s->crypt, &s->app.accepted);
    rc = rc ? rc : feed_open(s->store, &c->feed, &s->app.feed);
    if (rc != 0)
        fprintf(stderr, "intake: cannot open the store in %s: %s\n", c->svc.data_dir, outbox_strerror(rc));
    return rc;
}

static int open_links(service_t *s)
{
    const intake_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.service = "intake", .svc = &c->svc, .listen = c->listen};
    char err[512] = "";
    int rc = shards_add_peers(&c->staging, s->app.to_staging, &spec);
    if (rc != 0) {
        fprintf(stderr, "intake: %s\n", shards_strerror(rc));
        return rc;
    }
    receiver_handler_t h = {.apply = intake_apply, .query = intake_query};
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "intake: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(void *svc)
{
    service_t *s = svc;
    log_event(LOG_INFO, "intake_config", "listen=%s staging=%s shards=%u data_dir=%s",
              s->cfg.listen, s->cfg.staging.shard[0].endpoint, s->cfg.staging.count,
              s->cfg.svc.data_dir);
    s->app.clock = aclock_new_wall();
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = s->cfg.validate;
    s->app.started_ms = aclock_monotonic_ms();
    int rc = s->app.clock && s->app.zones ? 0 : -1;
    rc = rc ? rc : open_store(s);
    return rc ? rc : open_links(s);
}

static int prune_feed(MDB_txn *txn, void *svc)
{
    service_t *s = svc;
    return feed_prune(s->app.feed, txn, aclock_now_ms(s->app.clock), PRUNE_MAX, NULL);
}

static int reload(void *svc, char *msg, size_t len)
{
    service_t *s = svc;
    intake_config_t *fresh = calloc(1, sizeof *fresh);
    int rc = fresh ? intake_config_load(s->config_path, fresh, msg, len) : -1;
    if (!fresh)
        snprintf(msg, len, "out of memory");
    if (rc == 0) {
        svcconf_reload_t r = {0};
        svcconf_reload(&s->cfg.svc, &fresh->svc, "intake", &r);
        svcconf_reload_differs(&r, "listen", s->cfg.listen, fresh->listen);
        if (!shards_same(&s->cfg.staging, &fresh->staging))
            svcconf_reload_note(r.ignored, "staging");
        s->cfg.validate = s->app.limits = fresh->validate;   /* read afresh by every apply */
        svcconf_reload_note(r.applied, "validation");
        svcconf_reload_message(&r, msg, len);
    }
    free(fresh);
    return rc;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    int rc = accepted_dump(s->app.accepted, txn, stdout);
    return rc ? rc : feed_dump(s->app.feed, txn, stdout);
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "intake", &command, &config_path))
        return 2;
    service_t s = {.config_path = config_path};
    char err[1024];
    if (intake_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "intake: %s\n", err);
        return 2;
    }
    log_open("intake", 2, s.cfg.svc.log_level);
    svcmain_t m = {.name = "intake", .svc = &s, .open = service_open, .open_store = open_store,
                   .close = service_close, .dump = dump_all, .step_ms = 1000,
                   .sweep = prune_feed, .sweep_every_ms = s.cfg.feed_prune_every_ms,
                   .sweep_when_simulated = true, .strerror = outbox_strerror,
                   .reload = reload, .store = &s.store, .net = &s.net, .clock = &s.app.clock};
    return strcmp(command, "dump") == 0 ? svcmain_dump(&m) : svcmain_run(&m);
}
