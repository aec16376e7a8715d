/* intake main: the service process — configuration, sockets and the loop.
 *   intake [run] --config FILE     serve platforms and staging until SIGTERM
 *   intake dump --config FILE      print the decrypted logical content (JSON lines)
 * The loop: take what platforms and staging sent (one group commit per batch), drain
 * the outbox to staging, prune the feed now and then, reload keys on SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "config.h"
#include "intake.h"
#include "link.h"
#include "log.h"
#include "sender.h"
#include "signals.h"
#include "svcloop.h"
#include "zap.h"

#define PRUNE_MAX 10000

typedef struct {
    intake_config_t cfg;
    void *ctx;
    zap_t *zap;
    void *router;
    void *dealer;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    receiver_t *receiver;
    sender_t *sender;
    intake_t app;
} service_t;

static void service_close(service_t *s)
{
    receiver_destroy(&s->receiver);
    sender_destroy(&s->sender);
    accepted_destroy(&s->app.accepted);
    feed_destroy(&s->app.feed);
    outbox_destroy(&s->app.to_staging);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
    link_close(&s->router);
    link_close(&s->dealer);
    zap_destroy(&s->zap);
    if (s->ctx)
        zmq_ctx_term(s->ctx);
}

static int open_store(service_t *s)
{
    const intake_config_t *c = &s->cfg;
    int rc = crypt_load(c->secret_path, &s->crypt);
    if (rc == CRYPT_EKEYFILE && c->create_secret && crypt_key_create(c->secret_path) == CRYPT_OK)
        rc = crypt_load(c->secret_path, &s->crypt);
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
    char err[512] = "";
    int rc = 0;
    s->ctx = zmq_ctx_new();
    s->zap = zap_new(s->ctx, c->svc.allowed_path, &rc, err, sizeof err);
    if (s->zap)   /* the handler first: a CURVE socket bound without it admits every key */
        s->router = link_server_open(s->ctx, c->listen, c->svc.key_path, &c->svc.link, err,
                                     sizeof err);
    if (s->router)
        s->dealer = link_client_open(s->ctx, c->staging_endpoint, c->staging_public_path,
                                     c->svc.key_path, &c->svc.link, err, sizeof err);
    if (!s->dealer) {
        fprintf(stderr, "intake: %s\n", err);
        return -1;
    }
    return 0;
}

static int service_open(service_t *s)
{
    s->app.clock = aclock_new_wall();
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = s->cfg.validate;
    s->app.started_ms = aclock_monotonic_ms();
    int rc = s->app.clock && s->app.zones ? 0 : -1;
    rc = rc ? rc : open_store(s);
    rc = rc ? rc : open_links(s);
    if (rc != 0)
        return rc;
    receiver_handler_t h = { .apply = intake_apply, .query = intake_query };
    s->receiver = receiver_new(s->store, s->inbox, s->router, &s->cfg.svc.receiver, &h, &s->app);
    s->sender = sender_new(s->store, s->app.to_staging, s->dealer, &s->cfg.svc.sender);
    return s->receiver && s->sender ? 0 : -1;
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
    int64_t now = aclock_monotonic_ms();
    int64_t wait = sender_wait_ms(s->sender, now);
    zmq_pollitem_t items[2] = { { s->router, 0, ZMQ_POLLIN, 0 }, { s->dealer, 0, ZMQ_POLLIN, 0 } };
    if (zmq_poll(items, 2, (long)(wait < 1000 ? wait : 1000)) < 0)
        return 0;   /* a signal: the loop checks its flags */
    int rc = 0;
    if (items[0].revents & ZMQ_POLLIN) {
        int taken = receiver_drain(s->receiver, aclock_now_ms(s->app.clock));
        rc = taken < 0 ? taken : 0;
    }
    if (rc == 0 && (items[1].revents & ZMQ_POLLIN))
        rc = sender_read_replies(s->sender, aclock_monotonic_ms());
    rc = rc ? rc : sender_pump(s->sender, aclock_monotonic_ms());
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
    while (svcloop_continue(s->zap, rc))
        rc = service_step(s, &next_prune_ms);
    if (s->sender)
        sender_flush(s->sender, aclock_monotonic_ms());
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
