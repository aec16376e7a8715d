/* legal: the legal service process — configuration, sockets and the loop.
 *   legal [run] --config FILE     serve until SIGTERM
 *   legal dump --config FILE      print every case with its history (JSON lines)
 * The loop: take what staging, firms, agencies and operators sent (one group commit per
 * batch), sweep placements now and then (deadlines, recalls, waiting cases), drain the
 * outboxes to staging (one per shard) and outreach, reload keys on SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "legal.h"
#include "log.h"
#include "svcmain.h"

typedef struct {
    const char *config_path;
    legal_config_t cfg;
    limitation_rules_t limitation;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    legal_t app;
} service_t;

static void service_close(void *svc)
{
    service_t *s = svc;
    svcnet_destroy(&s->net);
    shards_close_outboxes(s->app.to_staging);
    outbox_destroy(&s->app.to_outreach);
    cases_destroy(&s->app.cases);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
    free(s->app.file_buf);
    s->app.file_buf = NULL;
}

static uint64_t unacked(void *arg)
{
    service_t *s = arg;
    return svcnet_unacked(s->net);
}

static int open_store(void *svc)
{
    service_t *s = svc;
    const legal_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "legal: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    rc = rc ? rc : shards_open_outboxes(&c->staging, s->store, &c->svc.outbox, NULL,
                                        s->app.to_staging);
    rc = rc ? rc : outbox_open(s->store, "to_outreach", &c->svc.outbox, &s->app.to_outreach);
    rc = rc ? rc : cases_open(s->store, s->crypt, &s->app.cases);
    if (rc != 0)
        fprintf(stderr, "legal: cannot open the store in %s: %s\n", c->svc.data_dir,
                cases_strerror(rc));
    return rc;
}

static int read_clock_ms(MDB_txn *txn, void *svc, uint64_t *clock_ms)
{
    service_t *s = svc;
    return cases_meta_get(s->app.cases, txn, "clock_ms", 0, clock_ms);
}

static int open_links(service_t *s)
{
    const legal_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.service = "legal", .svc = &c->svc, .listen = c->listen};
    receiver_handler_t h = {.apply = legal_apply, .query = legal_query};
    char err[512] = "";
    int rc = shards_add_peers(&c->staging, s->app.to_staging, &spec);
    if (rc != 0) {
        fprintf(stderr, "legal: %s\n", shards_strerror(rc));
        return rc;
    }
    /* After the shards, so the outboxes list in the order they always did; there is room
     * (legal's config keeps the shards under DEADLETTERS_OUTBOXES_MAX). */
    spec.peers[spec.peer_count++] =
        (svcnet_peer_t){c->outreach_endpoint, c->outreach_public, s->app.to_outreach};
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "legal: %s\n", err);
    return s->net ? 0 : -1;
}

static int service_open(void *svc)
{
    service_t *s = svc;
    log_event(LOG_INFO, "legal_config", "listen=%s data_dir=%s assignees=%zu staging_shards=%u",
              s->cfg.listen, s->cfg.svc.data_dir, s->cfg.assignee_count, s->cfg.staging.count);
    char err[1024];
    int rc = limitation_rules_load(s->cfg.limitation_path, &s->limitation, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "legal: %s\n", err);
        return rc;
    }
    s->cfg.eligibility.limitation = &s->limitation;
    s->app.cfg = &s->cfg;
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = legal_default_limits();
    s->app.started_ms = aclock_monotonic_ms();
    s->app.unacked = unacked;
    s->app.unacked_arg = s;
    s->app.file_buf = malloc(CASES_FILE_MAX);
    rc = s->app.zones && s->app.file_buf ? 0 : -1;
    rc = rc ? rc : open_store(s);
    rc = rc ? rc : svcmain_open_clock(s->store, s->cfg.simulated, s->cfg.simulated_start_ms,
                                      read_clock_ms, s, &s->app.clock);
    return rc ? rc : open_links(s);
}

static int sweep(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    size_t moved = 0;
    return legal_sweep(&s->app, txn, &moved);
}

/* The log level applies at once; the rest is read at the next start. */
static int reload(void *svc, char *msg, size_t len)
{
    service_t *s = svc;
    legal_config_t *fresh = calloc(1, sizeof *fresh);   /* large: not on the stack */
    int rc = fresh ? legal_config_load(s->config_path, fresh, msg, len) : -1;
    if (!fresh)
        snprintf(msg, len, "out of memory");
    if (rc == 0) {
        svcconf_reload_t r = {0};
        svcconf_reload(&s->cfg.svc, &fresh->svc, "legal", &r);
        svcconf_reload_differs(&r, "listen", s->cfg.listen, fresh->listen);
        if (!shards_same(&s->cfg.staging, &fresh->staging))
            svcconf_reload_note(r.ignored, "staging");
        svcconf_reload_differs(&r, "outreach", s->cfg.outreach_endpoint, fresh->outreach_endpoint);
        svcconf_reload_message(&r, msg, len);
    }
    free(fresh);
    return rc;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    return cases_dump(s->app.cases, txn, stdout);
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "legal", &command, &config_path))
        return 2;
    static service_t s;   /* large (the assignee table): not on the stack */
    char err[1024];
    s.config_path = config_path;
    if (legal_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "legal: %s\n", err);
        return 2;
    }
    log_open("legal", 2, s.cfg.svc.log_level);
    svcmain_t m = {.name = "legal", .svc = &s, .open = service_open, .open_store = open_store,
                   .close = service_close, .dump = dump_all, .step_ms = s.cfg.sweep_every_ms, .sweep = sweep,
                   .sweep_every_ms = s.cfg.sweep_every_ms, .sweep_when_simulated = true,
                   .strerror = cases_strerror, .reload = reload, .store = &s.store, .net = &s.net,
                   .clock = &s.app.clock};
    return strcmp(command, "dump") == 0 ? svcmain_dump(&m) : svcmain_run(&m);
}
