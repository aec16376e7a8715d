/* stagingfix: see stagingfix.h. */
#include "stagingfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "aclock.h"
#include "book.h"
#include "ledger.h"
#include "tz.h"
#include "validate.h"

const char *const stagingfix_outboxes[STAGING_OUTBOXES] = {"to_outreach", "to_legal", "to_sale",
                                                          "to_intake"};

static int open_policy(stagingfix_t *self, const char *strategy, const char *limitation)
{
    char err[512] = "";
    self->conf = conf_parse_string(strategy, "strategy.conf", err, sizeof err);
    if (!self->conf ||
        strategy_load_conf(self->conf, &self->strategy, err, sizeof err) != STRATEGY_OK ||
        limitation_rules_parse(limitation, "limitation.conf", &self->limitation, err,
                               sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    self->app.policies[0] = (account_policy_t){
        .strategy = self->strategy,
        .limitation = &self->limitation,
        .waterfall = book_waterfall_default(),
        .default_cap_bps = 360000,
        .complaint_response_days = 15,
        .dispute_response_days = 30,
    };
    self->app.policy_count = 1;
    return 0;
}

static int open_state(stagingfix_t *self, const char *name)
{
    outbox_limits_t ol = outbox_default_limits();
    int rc = svctest_open(name, self->dir, &self->store, &self->crypt);
    for (int i = 0; rc == 0 && i < STAGING_OUTBOXES; i++) {
        rc = outbox_open(self->store, stagingfix_outboxes[i], &ol, &self->app.out[i]);
        if (rc == 0 && i != STAGING_TO_INTAKE)
            rc = outbox_seal_with(self->app.out[i], self->crypt);
    }
    rc = rc ? rc : ledger_open(self->store, self->crypt, &self->app.ledger);
    return rc ? rc : held_open(self->store, self->crypt, 0, &self->app.held);
}

int stagingfix_open(stagingfix_t *self, const char *name, const char *strategy,
                    const char *limitation, int64_t now_ms)
{
    if (open_policy(self, strategy, limitation) != 0)
        return -1;
    self->app.zones = tz_cache_new(NULL, 64);
    self->app.clock = aclock_new_simulated(now_ms);
    self->app.limits = validate_default_limits();
    self->app.started_ms = aclock_monotonic_ms();
    self->app.run_chunk_accounts = 100;
    if (!self->app.zones || !self->app.clock)
        return -1;
    return open_state(self, name);
}

int stagingfix_close(stagingfix_t *self)
{
    ledger_destroy(&self->app.ledger);
    held_destroy(&self->app.held);
    for (int i = 0; i < STAGING_OUTBOXES; i++)
        outbox_destroy(&self->app.out[i]);
    tz_cache_destroy(&self->app.zones);
    aclock_destroy(&self->app.clock);
    strategy_destroy(&self->strategy);
    conf_destroy(&self->conf);
    return self->store ? svctest_close(self->dir, &self->store, &self->crypt) : 0;
}

typedef struct {
    stagingfix_t *self;
    receiver_peer_t from;
    const Arrears__Envelope *env;
    int rc;
} apply_t;

static int apply_in(MDB_txn *txn, void *arg)
{
    apply_t *a = arg;
    a->rc = staging_apply(&a->self->app, txn, &a->from, a->env, &a->self->reject);
    return a->rc == APPLY_REJECTED ? 0 : a->rc;   /* a refusal commits nothing of its own */
}

int stagingfix_apply(stagingfix_t *self, const char *principal, const char *role,
                     const Arrears__Envelope *env)
{
    apply_t a = {self, svctest_peer(principal, role), env, 0};
    int rc = store_write(self->store, apply_in, &a);
    return rc ? rc : a.rc;
}

void stagingfix_upload(stagingfix_t *self, const char *phone, Arrears__Address *address)
{
    Arrears__ContactPoint point = ARREARS__CONTACT_POINT__INIT;
    Arrears__ContactPoint *phones[] = {&point};
    point.value = (char *)phone;
    point.has_verified = point.verified = point.has_consent = point.consent = 1;
    Arrears__Borrower b = ARREARS__BORROWER__INIT;
    uint8_t id_hash[32] = {7};
    b.name = "Borrower One";
    b.has_id_number_hash = 1;
    b.id_number_hash = (ProtobufCBinaryData){sizeof id_hash, id_hash};
    b.time_zone = "Asia/Shanghai";
    b.language = "zh-CN";
    b.n_phones = 1;
    b.phones = phones;
    b.address = address;
    Arrears__Instalment inst = ARREARS__INSTALMENT__INIT;
    Arrears__Instalment *schedule[] = {&inst};
    inst.due_date = "2026-03-20";
    inst.has_principal_minor = 1;
    inst.principal_minor = 100000;
    Arrears__AccountUpsert up = ARREARS__ACCOUNT_UPSERT__INIT;
    up.account_ref = "A-1";
    up.has_product = 1;
    up.product = ARREARS__PRODUCT__ONLINE_LOAN;
    up.currency = "CNY";
    up.opened_date = "2025-06-01";
    up.borrower = &b;
    up.n_schedule = 1;
    up.schedule = schedule;
    Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
    ev.platform = "platform-a";
    ev.account_ref = "A-1";
    ev.has_version = ev.version = 1;
    ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_UPSERT;
    ev.upsert = &up;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
    env.account_event = &ev;
    if (stagingfix_apply(self, "intake", "service", &env) != APPLY_OK)
        fail_msg("refused: %s: %s", self->reject.field, self->reject.reason);
}
