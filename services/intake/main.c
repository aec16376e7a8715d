/* intake main: the service process — configuration, sockets and the loop.
 *   intake [run] --config FILE     serve platforms and staging until SIGTERM
 *   intake dump --config FILE      print the decrypted logical content (JSON lines)
 * The loop: take what platforms and staging sent (one group commit per batch), drain
 * the outbox to staging, prune the feed now and then, reload keys on SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "intake.h"
#include "log.h"
#include "signals.h"
#include "svcloop.h"
#include "svcnet.h"

#define PRUNE_MAX 10000

typedef struct {
    intake_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    intake_t app;
} service_t;

static void service_close(service_t *s)
{
    svcnet_destroy(&s->net);
    accepted_destroy(&s->app.accepted);
    feed_destroy(&s->app.feed);
    outbox_destroy(&s->app.to_staging);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
}

static int open_store(service_t *s)
{
    const intake_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "intake: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    rc = rc ? rc : outbox_open(s->store, "to_staging", &c->svc.outbox, &s->app.to_staging);
    /* Forwarded accounts carry the borrower: sealed at rest like the book. */
    rc = rc ? rc : outbox_seal_with(s->app.to_staging, s->crypt);
    rc = rc ? rc : accepted_open(s->store, s->crypt, &s->app.accepted);
    rc = rc ? rc : feed_open(s->store, &c->feed, &s->app.feed);
    if (rc != 0)
        fprintf(stderr, "intake: cannot open the store in %s: %s\n", c->svc.data_dir, outbox_strerror(rc));
    return rc;
}

static int open_links(service_t *s)
{
    const intake_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.svc = &c->svc, .listen = c->listen, .peer_count = 1};
    spec.peers[0] = (svcnet_peer_t){c->staging_endpoint, c->staging_public_path,
                                    s->app.to_staging};
    receiver_handler_t h = {.apply = intake_apply, .query = intake_query};
    char err[512] = "";
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "intake: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(service_t *s)
{
    s->app.clock = aclock_new_wall();
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = s->cfg.validate;
    s->app.started_ms = aclock_monotonic_ms();
    int rc = s->app.clock && s->app.zones ? 0 : -1;
    rc = rc ? rc : open_store(s);
    return rc ? rc : open_links(s);
}

typedef struct {
    feed_t *feed;
    int64_t now_ms;
} prune_call_t;

static int prune_feed(MDB_txn *txn, void *arg)
{
    prune_call_t *p = arg;
    return feed_prune(p->feed, txn, p->now_ms, PRUNE_MAX, NULL);
}

static int service_step(service_t *s, int64_t *next_prune_ms)
{
    int rc = svcnet_step(s->net, 1000, s->app.clock);
    int64_t now = aclock_monotonic_ms();
    if (rc == 0 && now >= *next_prune_ms) {
        prune_call_t p = { s->app.feed, aclock_now_ms(s->app.clock) };
        rc = store_write(s->store, prune_feed, &p);
        *next_prune_ms = now + s->cfg.feed_prune_every_ms;
    }
    if (rc != 0 && !store_is_fatal(rc)) {
        /* A full store or one bad batch: senders were told to retry; the next tick tries again. */
        log_event(LOG_ERROR, "step_failed", "error=%d what=%s", rc, outbox_strerror(rc));
        rc = 0;
    }
    return rc;
}

static int run(service_t *s)
{
    signals_install();
    int rc = service_open(s);
    log_event(LOG_INFO, "intake_start", "listen=%s staging=%s data_dir=%s error=%d", s->cfg.listen,
              s->cfg.staging_endpoint, s->cfg.svc.data_dir, rc);
    int64_t next_prune_ms = 0;
    while (svcloop_continue(svcnet_zap(s->net), rc))
        rc = service_step(s, &next_prune_ms);
    svcnet_flush(s->net);
    log_event(rc ? LOG_ERROR : LOG_INFO, "intake_stop", "error=%d reason=%s", rc,
              rc ? "a store or socket error stopped the loop" : "signal");
    service_close(s);
    return rc == 0 ? 0 : 1;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    int rc = accepted_dump(s->app.accepted, txn, stdout);
    return rc ? rc : feed_dump(s->app.feed, txn, stdout);
}

static int dump(service_t *s)
{
    int rc = open_store(s);
    rc = rc ? rc : store_read(s->store, dump_all, s);
    if (rc != 0)
        fprintf(stderr, "intake dump: %s\n", store_strerror(rc));
    service_close(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "intake", &command, &config_path))
        return 2;
    service_t s = { 0 };
    char err[1024];
    if (intake_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "intake: %s\n", err);
        return 2;
    }
    log_open("intake", 2, s.cfg.svc.log_level);
    return strcmp(command, "dump") == 0 ? dump(&s) : run(&s);
}
