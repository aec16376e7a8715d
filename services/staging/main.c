/* staging main: the service process — configuration, sockets and the loop.
 *   staging [run] --config FILE     serve until SIGTERM
 *   staging dump --config FILE      print the logical book (JSON lines: accounts, timelines)
 * The loop: take what intake, outreach, legal, sale and operators sent (one group commit
 * per batch), run a chunk of the daily run when one is due, apply what the catch-up
 * after a restore holds when it is due (catchup.h), drain the four outboxes;
 * on SIGHUP reload the keys and the configuration: the log level, and the strategy and
 * limitation files, each checked whole (a refused one keeps the policy in force). The
 * policy is swapped between steps: an account's policy is looked up afresh for each
 * account the run or a message touches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catchup.h"
#include "config.h"
#include "daily.h"
#include "log.h"
#include "metrics.h"
#include "signals.h"
#include "svcloop.h"
#include "svcnet.h"
#include "staging.h"

static const char *const outbox_names[STAGING_OUTBOXES] = {"to_outreach", "to_legal", "to_sale",
                                                           "to_intake"};
/* The configuration's name for each outbox's peer. */
static const char *const peer_settings[STAGING_OUTBOXES] = {"outreach", "legal", "sale", "intake"};

/* The collection policy files: the strategies (one per currency) and the limitation
 * rules. */
typedef struct {
    strategy_t *strategy[STAGING_MAX_STRATEGIES];
    size_t count;
    limitation_rules_t limitation;
} policy_files_t;

typedef struct {
    const char *config_path;
    staging_config_t cfg;
    store_t *store;
    inbox_t *inbox;
    crypt_t *crypt;
    svcnet_t *net;
    policy_files_t policy;   /* in force */
    staging_t app;
} service_t;

static void policy_files_destroy(policy_files_t *p)
{
    for (size_t i = 0; i < STAGING_MAX_STRATEGIES; i++)
        strategy_destroy(&p->strategy[i]);
}

static void service_close(service_t *s)
{
    svcnet_destroy(&s->net);
    for (int i = 0; i < STAGING_OUTBOXES; i++)
        outbox_destroy(&s->app.out[i]);
    ledger_destroy(&s->app.ledger);
    held_destroy(&s->app.held);
    inbox_destroy(&s->inbox);
    store_destroy(&s->store);
    crypt_destroy(&s->crypt);
    tz_cache_destroy(&s->app.zones);
    aclock_destroy(&s->app.clock);
    policy_files_destroy(&s->policy);
}


static uint64_t unacked_total(void *arg)
{
    service_t *s = arg;
    return svcnet_unacked(s->net);
}

/* Each file checked whole, and one strategy per currency. */
static int load_policy(const staging_config_t *c, policy_files_t *p, char *err, size_t len)
{
    int rc = limitation_rules_load(c->limitation_path, &p->limitation, err, len);
    for (size_t i = 0; rc == 0 && i < c->strategy_count; i++) {
        rc = strategy_load(c->strategy_paths[i], &p->strategy[i], err, len);
        for (size_t k = 0; rc == 0 && k < i; k++)
            if (strcmp(strategy_currency(p->strategy[k]), strategy_currency(p->strategy[i])) == 0) {
                snprintf(err, len, "%s: a second strategy for %s", c->strategy_paths[i],
                         strategy_currency(p->strategy[i]));
                rc = STRATEGY_EINVALID;
            }
        p->count = i + 1;
    }
    if (rc != 0)
        policy_files_destroy(p);
    return rc;
}

/* Puts the policy in force; the one it replaces comes back in *p. */
static void install_policy(service_t *s, policy_files_t *p)
{
    const staging_config_t *c = &s->cfg;
    policy_files_t old = s->policy;
    s->policy = *p;
    *p = old;
    for (size_t i = 0; i < s->policy.count; i++)
        s->app.policies[i] = (account_policy_t){
            .strategy = s->policy.strategy[i],
            .limitation = &s->policy.limitation,
            .retention = &c->retention,
            .waterfall = c->waterfall,
            .default_cap_bps = c->default_cap_bps,
            .freeze_after_charge_off = c->freeze_after_charge_off,
            .complaint_response_days = c->complaint_response_days,
            .dispute_response_days = c->dispute_response_days,
        };
    s->app.policy_count = s->policy.count;
}

static int open_policy(service_t *s)
{
    char err[1024];
    policy_files_t p = {0};
    int rc = load_policy(&s->cfg, &p, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "staging: %s\n", err);
        return rc;
    }
    install_policy(s, &p);   /* replaces nothing */
    return 0;
}

static int open_store(service_t *s)
{
    const staging_config_t *c = &s->cfg;
    int rc = svcnet_secret_open(c->secret_path, c->create_secret, &s->crypt);
    if (rc != CRYPT_OK) {
        fprintf(stderr, "staging: %s: %s\n", c->secret_path, crypt_strerror(rc));
        return rc;
    }
    rc = store_open(&s->store, c->svc.data_dir, &c->svc.store);
    rc = rc ? rc : inbox_open(s->store, &s->inbox);
    for (int i = 0; rc == 0 && i < STAGING_OUTBOXES; i++) {
        rc = outbox_open(s->store, outbox_names[i], &c->svc.outbox, &s->app.out[i]);
        /* Contact requests, referrals and listings carry the borrower's personal data (a
         * referral's statement names who is sued, a listing's file is the buyer's): sealed
         * at rest. Only status events for intake carry none. */
        if (rc == 0 && i != STAGING_TO_INTAKE)
            rc = outbox_seal_with(s->app.out[i], s->crypt);
    }
    rc = rc ? rc : ledger_open(s->store, s->crypt, &s->app.ledger);
    rc = rc ? rc : held_open(s->store, s->crypt, c->catchup_settle_ms, &s->app.held);
    if (rc != 0)
        fprintf(stderr, "staging: cannot open the store in %s: %s\n", c->svc.data_dir,
                ledger_strerror(rc));
    return rc;
}

static int open_links(service_t *s)
{
    const staging_config_t *c = &s->cfg;
    svcnet_spec_t spec = {.service = "staging", .svc = &c->svc, .listen = c->listen,
                          .peer_count = STAGING_OUTBOXES};
    for (int i = 0; i < STAGING_OUTBOXES; i++)
        spec.peers[i] = (svcnet_peer_t){c->peers[i].endpoint, c->peers[i].public_path,
                                        s->app.out[i]};
    receiver_handler_t h = {.apply = staging_apply, .query = staging_query};
    char err[512] = "";
    s->net = svcnet_new(&spec, s->store, s->inbox, &h, &s->app, err, sizeof err);
    if (!s->net)
        fprintf(stderr, "staging: %s\n", err);
    return s->net ? 0 : -1;
}

static int open_clock(service_t *s)
{
    if (!s->cfg.simulated) {
        s->app.clock = aclock_new_wall();
        return s->app.clock ? 0 : -1;
    }
    int64_t restored = 0;
    int rc = daily_restored_clock_ms(&s->app, s->store, &restored);
    int64_t start = restored > s->cfg.simulated_start_ms ? restored : s->cfg.simulated_start_ms;
    s->app.clock = aclock_new_simulated(start);
    s->app.advance_to_ms = restored;
    return rc == 0 && s->app.clock ? 0 : -1;
}

static int service_open(service_t *s)
{
    s->app.zones = tz_cache_new(NULL, 1024);
    s->app.limits = validate_default_limits();
    s->app.started_ms = aclock_monotonic_ms();
    s->app.run_chunk_accounts = (size_t)s->cfg.chunk_accounts;
    s->app.run_every_ms = s->cfg.run_every_ms;
    s->app.unacked = unacked_total;
    s->app.unacked_arg = s;
    int rc = s->app.zones ? 0 : -1;
    rc = rc ? rc : open_policy(s);
    rc = rc ? rc : open_store(s);
    rc = rc ? rc : open_clock(s);
    return rc ? rc : open_links(s);
}

static int service_step(service_t *s, daily_state_t *run)
{
    int rc = svcnet_step(s->net, *run == DAILY_MORE ? 0 : 1000, s->app.clock);
    if (rc == 0) {
        daily_step_t step = {0};
        bool caught = false;
        int64_t start_us = metrics_now_us();
        rc = daily_step(&s->app, s->store, &step);
        if (step.evaluated > 0)   /* a chunk ran: the sweep's latency */
            svcnet_sweep_took(s->net, metrics_now_us() - start_us);
        *run = rc == 0 ? step.state : DAILY_IDLE;
        rc = rc ? rc : catchup_step(&s->app, s->store, &caught);
        if (caught && *run == DAILY_IDLE)   /* more may be due at once */
            *run = DAILY_MORE;
        rc = rc ? rc : svcnet_pump(s->net);
    }
    if (rc != 0 && !store_is_fatal(rc)) {
        log_event(LOG_ERROR, "step_failed", "error=%d what=%s", rc, ledger_strerror(rc));
        rc = 0;
    }
    return rc;
}

static void reload_policy_paths(staging_config_t *current, const staging_config_t *fresh)
{
    memcpy(current->strategy_paths, fresh->strategy_paths, sizeof current->strategy_paths);
    current->strategy_count = fresh->strategy_count;
    memcpy(current->limitation_path, fresh->limitation_path, sizeof current->limitation_path);
    current->retention = fresh->retention;   /* plain data; read only between steps */
}

static int reload(void *svc, char *msg, size_t len)
{
    service_t *s = svc;
    static staging_config_t fresh;   /* large; one reload at a time, on the loop's thread */
    policy_files_t p = {0};
    int rc = staging_config_load(s->config_path, &fresh, msg, len);
    rc = rc ? rc : load_policy(&fresh, &p, msg, len);
    if (rc != 0)
        return rc;
    svcconf_reload_t r = {0};
    svcconf_reload(&s->cfg.svc, &fresh.svc, "staging", &r);
    svcconf_reload_differs(&r, "listen", s->cfg.listen, fresh.listen);
    for (int i = 0; i < STAGING_OUTBOXES; i++)
        svcconf_reload_differs(&r, peer_settings[i], s->cfg.peers[i].endpoint,
                               fresh.peers[i].endpoint);
    reload_policy_paths(&s->cfg, &fresh);
    install_policy(s, &p);
    policy_files_destroy(&p);   /* the policy replaced */
    svcconf_reload_note(r.applied, "strategy");
    svcconf_reload_note(r.applied, "limitation");
    svcconf_reload_note(r.applied, "retention");
    svcconf_reload_message(&r, msg, len);
    return 0;
}

static int run(service_t *s)
{
    signals_install();
    int rc = service_open(s);
    log_event(LOG_INFO, "staging_start", "listen=%s data_dir=%s clock=%s error=%d", s->cfg.listen,
              s->cfg.svc.data_dir, s->cfg.simulated ? "simulated" : "wall", rc);
    /* As if a chunk just ran: a run interrupted by a crash resumes without waiting. */
    daily_state_t daily = DAILY_MORE;
    while (svcloop_next(s->net, reload, s, rc))
        rc = service_step(s, &daily);
    svcnet_flush(s->net);
    log_event(rc ? LOG_ERROR : LOG_INFO, "staging_stop", "error=%d reason=%s", rc,
              rc ? "a store or socket error stopped the loop" : "signal");
    service_close(s);
    return rc == 0 ? 0 : 1;
}

static int dump_all(MDB_txn *txn, void *arg)
{
    service_t *s = arg;
    return ledger_dump(s->app.ledger, txn, stdout);
}

static int dump(service_t *s)
{
    int rc = open_store(s);
    rc = rc ? rc : store_read(s->store, dump_all, s);
    if (rc != 0)
        fprintf(stderr, "staging dump: %s\n", ledger_strerror(rc));
    service_close(s);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *command, *config_path;
    if (!svcconf_command_line(argc, argv, "staging", &command, &config_path))
        return 2;
    static service_t s;   /* large (scratch account): not on the stack */
    char err[1024];
    s.config_path = config_path;
    if (staging_config_load(config_path, &s.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "staging: %s\n", err);
        return 2;
    }
    log_open("staging", 2, s.cfg.svc.log_level);
    return strcmp(command, "dump") == 0 ? dump(&s) : run(&s);
}
