/* bench_staging: staging's daily run over a seeded book, and the rate at which staging
 * applies intake's events, both in process through the service's own code (the account
 * module, the ledger, the outboxes, the chunked run) with durable LMDB commits.
 *
 * The book: ACCOUNTS accounts (default 1,000,000), borrowers across 20 time zones
 * (half- and quarter-hour offsets and both sides of the date line included), six
 * monthly instalments each with a per-day penalty rate, and a mix by days past due of
 * 60% early, 20% middle, 10% late, 10% charged off; 5% on a complaint hold, 5% with a
 * promise to pay, 5% on a repayment plan. Building it is not measured. Then the
 * simulated clock moves one day and the daily run evaluates every account (penalty,
 * arrangements, stage, score, escalation, contact requests) and commits each chunk
 * durably:
 *   RESULT daily_run accounts=N accounts_per_s=... seconds=... changed=...
 *          peak_rss_anon_mb=... chunk=...
 * Then EVENTS payments (default 200,000) for random accounts go through staging_apply
 * in batches of 1,000 per durable transaction, as the receiver commits them:
 *   RESULT staging_events events=... events_per_s=... batch=1000
 * Usage: bench_staging STRATEGY_FILE [ACCOUNTS [EVENTS [SEED]]] */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daily.h"
#include "staging.h"

#define CHUNK 10000
#define BATCH 1000
#define DAY_MS INT64_C(86400000)
#define START_MS (INT64_C(20454) * DAY_MS + 12 * 3600 * 1000)   /* 2026-01-01 12:00Z */

static const char *const zones[20] = {
    "Asia/Shanghai", "Asia/Kolkata", "Asia/Kathmandu", "Europe/London", "Europe/Berlin",
    "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Africa/Lagos",
    "Australia/Sydney", "Pacific/Auckland", "Asia/Tokyo", "Asia/Singapore", "Asia/Dubai",
    "Europe/Moscow", "America/Chicago", "America/Mexico_City", "Asia/Jakarta",
    "Pacific/Kiritimati", "Pacific/Pago_Pago"};

static staging_t app;   /* large: the scratch account */
static store_t *store;
static uint64_t rng_state;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static long rss_anon_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "RssAnon: %ld kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_staging: %s: %d %s\n", what, rc, ledger_strerror(rc));
    exit(1);
}

/* Days past due for account i by the mix: 60% early, 20% middle, 10% late, 10% off. */
static int dpd_for(uint64_t r)
{
    unsigned pct = (unsigned)(r % 100), spread = (unsigned)(r >> 8);
    if (pct < 60) return 1 + (int)(spread % 30);
    if (pct < 80) return 31 + (int)(spread % 30);
    if (pct < 90) return 61 + (int)(spread % 30);
    return 91 + (int)(spread % 200);
}

typedef struct {
    uint64_t first, count;
} populate_t;

static void make_upsert(uint64_t i, char ref[32], Arrears__AccountEvent *ev, Arrears__AccountUpsert *u,
                        Arrears__Borrower *b, Arrears__Instalment inst[6], Arrears__Instalment *ptrs[6],
                        char dates[6][11], Arrears__ContractRates *rates, int32_t today)
{
    uint64_t r = rng();
    int dpd = dpd_for(r);
    snprintf(ref, 32, "B%09llu", (unsigned long long)i);
    b->time_zone = (char *)zones[i % 20];
    b->name = "Bench Borrower";
    for (int k = 0; k < 6; k++) {
        tz_date_format(today - dpd + 30 * k, dates[k]);
        inst[k].due_date = dates[k];
        inst[k].has_principal_minor = inst[k].has_interest_minor = 1;
        inst[k].principal_minor = 100000 + (int64_t)(r % 50000);
        inst[k].interest_minor = 8000;
        ptrs[k] = &inst[k];
    }
    rates->has_penalty_bps = rates->has_penalty_period = 1;
    rates->penalty_bps = 5;
    rates->penalty_period = ARREARS__RATE_PERIOD__PER_DAY;
    u->account_ref = ref;
    u->has_product = 1;
    u->product = ARREARS__PRODUCT__ONLINE_LOAN;
    u->currency = "CNY";
    u->borrower = b;
    u->n_schedule = 6;
    u->schedule = ptrs;
    u->rates = rates;
    ev->platform = "p1";
    ev->account_ref = ref;
    ev->event_case = ARREARS__ACCOUNT_EVENT__EVENT_UPSERT;
    ev->upsert = u;
}

/* 5% complaint hold, 5% promise, 5% plan: the arrangements the run reviews. */
static void arrange(account_t *a, uint64_t r, int32_t today, reject_t *reject)
{
    unsigned pct = (unsigned)(r % 100);
    char d1[11], d2[11];
    tz_date_format(today + 10, d1);
    tz_date_format(today + 40, d2);
    if (pct < 5) {
        account_complaint(a, app.policy, "platform", false, "C", today, &app.fx);
    } else if (pct < 10) {
        Arrears__ContactOutcome o = ARREARS__CONTACT_OUTCOME__INIT;
        o.result = ARREARS__CONTACT_RESULT__PROMISE_TO_PAY;
        o.promise_amount_minor = 10000;
        o.promise_date = d1;
        account_outcome(a, app.policy, &o, today, START_MS, &app.fx, reject);
    } else if (pct < 15) {
        int64_t owed = account_outstanding(a);
        Arrears__PlanInstalment p1 = ARREARS__PLAN_INSTALMENT__INIT, p2 = p1, *pp[2] = {&p1, &p2};
        p1.due_date = d1, p1.amount_minor = owed / 2;
        p2.due_date = d2, p2.amount_minor = owed - owed / 2;
        Arrears__ContactOutcome o = ARREARS__CONTACT_OUTCOME__INIT;
        o.result = ARREARS__CONTACT_RESULT__PLAN_AGREED;
        o.n_plan = 2;
        o.plan = pp;
        account_outcome(a, app.policy, &o, today, START_MS, &app.fx, reject);
    }
}

static int populate_chunk(MDB_txn *txn, void *arg)
{
    populate_t *p = arg;
    for (uint64_t i = p->first; i < p->first + p->count; i++) {
        char ref[32], dates[6][11];
        Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
        Arrears__AccountUpsert u = ARREARS__ACCOUNT_UPSERT__INIT;
        Arrears__Borrower b = ARREARS__BORROWER__INIT;
        Arrears__Instalment inst[6], *ptrs[6];
        Arrears__ContractRates rates = ARREARS__CONTRACT_RATES__INIT;
        for (int k = 0; k < 6; k++)
            arrears__instalment__init(&inst[k]);
        int32_t today;
        staging_day_of(&app, zones[i % 20], START_MS, &today);
        make_upsert(i, ref, &ev, &u, &b, inst, ptrs, dates, &rates, today);
        reject_t reject;
        effects_clear(&app.fx);
        int rc = account_open(&app.account, app.policy, &ev, 0, today, START_MS, &app.fx, &reject);
        rc = rc ? rc : ledger_create(app.ledger, txn, "p1", ref, &app.account.id);
        rc = rc ? rc : ledger_put_borrower(app.ledger, txn, app.account.id, &b);
        if (rc == 0)
            arrange(&app.account, rng(), today, &reject);
        rc = rc ? rc : staging_commit_account(&app, txn, &app.account, START_MS);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int mark_run_done(MDB_txn *txn, void *arg)
{
    (void)arg;
    return ledger_meta_put(app.ledger, txn, "run_done_ms", START_MS);
}

typedef struct {
    uint64_t accounts, first, count;
} events_t;

/* A batch of payments as the receiver applies them: one transaction, staging_apply each. */
static int apply_batch(MDB_txn *txn, void *arg)
{
    events_t *e = arg;
    receiver_peer_t from = {.principal = "intake", .role = "service"};
    for (uint64_t n = e->first; n < e->first + e->count; n++) {
        char ref[32], pref[32];
        snprintf(ref, sizeof ref, "B%09llu", (unsigned long long)(rng() % e->accounts));
        snprintf(pref, sizeof pref, "P%llu", (unsigned long long)n);
        Arrears__PaymentPosted p = ARREARS__PAYMENT_POSTED__INIT;
        p.account_ref = ref;
        p.payment_ref = pref;
        p.has_amount_minor = p.has_paid_at_ms = p.has_channel = 1;
        p.amount_minor = 5000;
        p.currency = "CNY";
        p.paid_at_ms = START_MS;
        p.channel = ARREARS__PAYMENT_CHANNEL__BANK_TRANSFER;
        Arrears__AccountEvent ev = ARREARS__ACCOUNT_EVENT__INIT;
        ev.platform = "p1";
        ev.account_ref = ref;
        ev.event_case = ARREARS__ACCOUNT_EVENT__EVENT_PAYMENT;
        ev.payment = &p;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_EVENT;
        env.account_event = &ev;
        reject_t reject;
        int rc = staging_apply(&app, txn, &from, &env, &reject);
        if (rc != 0 && rc != APPLY_REJECTED && rc != APPLY_DUPLICATE)
            return rc;
    }
    return 0;
}

static void open_everything(const char *dir, const char *strategy_path)
{
    static strategy_t *strategy;
    static limitation_rules_t limitation;
    char err[512], key[600];
    if (strategy_load(strategy_path, &strategy, err, sizeof err) != 0 ||
        limitation_rules_parse("limitation = { default = { years = 6; }; };", "<bench>", &limitation,
                               err, sizeof err) != 0) {
        fprintf(stderr, "bench_staging: %s\n", err);
        exit(1);
    }
    app.policies[0] = (account_policy_t){strategy, &limitation, book_waterfall_default(), 360000, true, 15, 30, NULL};
    app.policy_count = 1;
    app.policy = &app.policies[0];
    store_options_t so = store_default_options();
    so.map_size_bytes = (size_t)4 << 30;
    so.map_max_bytes = (size_t)256 << 30;
    snprintf(key, sizeof key, "%s/secret", dir);
    crypt_t *crypt = NULL;
    int rc = crypt_key_create(key);
    rc = rc ? rc : crypt_load(key, &crypt);
    rc = rc ? rc : store_open(&store, dir, &so);
    outbox_limits_t ol = outbox_default_limits();
    ol.max_unacked = UINT64_C(1) << 40;   /* nobody acks here: the run must not block */
    static const char *const names[STAGING_OUTBOXES] = {"to_outreach", "to_legal", "to_sale", "to_intake"};
    for (int i = 0; rc == 0 && i < STAGING_OUTBOXES; i++)
        rc = outbox_open(store, names[i], &ol, &app.out[i]);
    rc = rc ? rc : outbox_seal_with(app.out[STAGING_TO_OUTREACH], crypt);
    rc = rc ? rc : ledger_open(store, crypt, &app.ledger);
    if (rc != 0)
        die("open", rc);
    app.zones = tz_cache_new(NULL, 64);
    app.clock = aclock_new_simulated(START_MS);
    app.limits = validate_default_limits();
    app.run_chunk_accounts = CHUNK;
    app.run_every_ms = DAY_MS;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void bench_run(uint64_t accounts)
{
    aclock_advance_to(app.clock, START_MS + DAY_MS);
    app.advance_to_ms = START_MS + DAY_MS;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long peak_kb = rss_anon_kb();
    uint64_t evaluated = 0, changed = 0;
    daily_step_t step = {.state = DAILY_MORE};
    do {
        int rc = daily_step(&app, store, &step);
        if (rc != 0)
            die("daily run", rc);
        evaluated += step.evaluated;
        changed += step.changed;
        long kb = rss_anon_kb();
        peak_kb = kb > peak_kb ? kb : peak_kb;
    } while (step.state == DAILY_MORE);
    double s = seconds_since(&t0);
    printf("RESULT daily_run accounts=%llu accounts_per_s=%.0f seconds=%.2f changed=%llu "
           "peak_rss_anon_mb=%.1f chunk=%d evaluated=%llu\n", (unsigned long long)accounts,
           (double)evaluated / s, s, (unsigned long long)changed, (double)peak_kb / 1024.0, CHUNK,
           (unsigned long long)evaluated);
    fflush(stdout);
}

static void bench_events(uint64_t accounts, uint64_t events)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t first = 0; first < events; first += BATCH) {
        events_t e = {accounts, first, events - first < BATCH ? events - first : BATCH};
        int rc = store_write(store, apply_batch, &e);
        if (rc != 0)
            die("events", rc);
    }
    double s = seconds_since(&t0);
    printf("RESULT staging_events events=%llu events_per_s=%.0f seconds=%.2f batch=%d mode=in_process\n",
           (unsigned long long)events, (double)events / s, s, BATCH);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_staging STRATEGY_FILE [ACCOUNTS [EVENTS [SEED]]]\n");
        return 2;
    }
    uint64_t accounts = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    uint64_t events = argc > 3 ? strtoull(argv[3], NULL, 10) : 200000;
    rng_state = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    rng_state = rng_state ? rng_state : 1;
    char dir[] = "/tmp/benchstXXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    fprintf(stderr, "bench_staging: seed=%llu accounts=%llu in %s\n",
            (unsigned long long)rng_state, (unsigned long long)accounts, dir);
    open_everything(dir, argv[1]);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (uint64_t first = 0; first < accounts; first += CHUNK) {
        populate_t p = {first, accounts - first < CHUNK ? accounts - first : CHUNK};
        int rc = store_write(store, populate_chunk, &p);
        if (rc != 0)
            die("populate", rc);
    }
    int rc = store_write(store, mark_run_done, NULL);
    if (rc != 0)
        die("populate", rc);
    fprintf(stderr, "bench_staging: book built in %.1f s\n", seconds_since(&t0));
    bench_run(accounts);
    bench_events(accounts, events);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}
