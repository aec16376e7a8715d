/* ops: up, down, status and simulate (see ops.h). */
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "driver.h"
#include "embedded.h"
#include "fleet.h"
#include "opclient.h"
#include "probe.h"

#define ERR_MAX 1024
#define DAY_MS 86400000LL
#define STATUS_TIMEOUT_MS 3000

ops_options_t ops_default_options(void)
{
    const char *home = getenv("ARREARS_HOME");
    return (ops_options_t){
        .dir = home && *home ? home : "var/arrears", .start = "2026-01-01",
        .durability = "durable", .seed = 1, .days = 1, .step_minutes = 60, .format = "table",
    };
}

/* "YYYY-MM-DD" as UTC midnight in ms; -1 if it is not a date. */
static int64_t day_start_ms(const char *day)
{
    struct tm tm = { 0 };
    char *end = strptime(day, "%Y-%m-%d", &tm);
    if (!end || *end)
        return -1;
    return (int64_t)timegm(&tm) * 1000;
}

/* A folder once started on the simulated clock stays on it: its stores hold simulated
 * instants that the wall clock would take for months of missed daily runs. */
static bool was_simulated(const embedded_t *e)
{
    char path[EMBEDDED_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/clock", e->run);
    return access(path, F_OK) == 0;
}

/* Staging in `shards` shards from now on, when it may: more shards with every service
 * stopped (their configurations change), never fewer (a shard's accounts live there). */
static int set_shards(embedded_t *e, uint32_t shards, char *err, size_t len)
{
    if (shards == 0 || shards == e->shards)
        return 0;
    if (shards < e->shards) {
        snprintf(err, len, "%s runs staging in %u shards, and a shard cannot be removed (its "
                 "accounts live there): `arrears up --shards %u` or more", e->dir, e->shards,
                 e->shards);
        return -1;
    }
    for (size_t i = 0; i < e->count; i++)
        if (fleet_running(e, &e->service[i])) {
            snprintf(err, len, "%s runs (%s is up): `arrears down` first, then `arrears up "
                     "--shards %u`", e->dir, e->service[i].name, shards);
            return -1;
        }
    return embedded_set_shards(e, shards, err, len);
}

/* A simulated fleet is settled at the driver's present before `up` returns: a service
 * started behind it (restored from a backup, say) catches up now, not after the world
 * has gone on acting at the present. */
static int settle_present(const embedded_t *e, char *err, size_t len)
{
    driver_t d;
    if (driver_open(&d, e, err, len) != 0)
        return -1;
    int64_t now = driver_now_ms(&d);
    int rc = now < 0 ? 0 : driver_settle(&d, now, err, len);
    driver_close(&d);
    return rc;
}

int ops_up_main(const ops_options_t *o)
{
    embedded_t e;
    char err[ERR_MAX] = "";
    if (o->simulated && day_start_ms(o->start) < 0) {
        fprintf(stderr, "arrears up: --start %s is not a date (YYYY-MM-DD)\n", o->start);
        return 2;
    }
    if (embedded_open(o->dir, &e, err, sizeof err) != 0 ||
        set_shards(&e, o->shards, err, sizeof err) != 0) {
        fprintf(stderr, "arrears up: %s\n", err);
        return 1;
    }
    embedded_options_t eo = { o->simulated || was_simulated(&e), o->start, o->durability, o->seed };
    if (embedded_write(&e, &eo, err, sizeof err) != 0 ||
        (eo.simulated && driver_clock_start(&e, day_start_ms(o->start)) != 0) ||
        fleet_up(&e, err, sizeof err) != 0 ||
        (eo.simulated && settle_present(&e, err, sizeof err) != 0)) {
        fprintf(stderr, "arrears up: %s\n", *err ? err : "cannot write the clock file");
        return 1;
    }
    printf("arrears up: every service runs in %s on %s (logs in %s)\n", e.dir,
           eo.simulated ? "the simulated clock" : "the wall clock", e.log);
    if (e.shards > 1) {
        printf("arrears up: staging in %u shards:", e.shards);
        for (uint32_t k = 0; k < e.shards; k++)
            printf(" %s", embedded_shard(&e, k)->name);
        printf("\n");
    }
    if (eo.simulated)
        printf("arrears up: move the clock with `arrears simulate --days N`\n");
    printf("arrears up: `arrears status` shows them; `arrears down` stops them\n");
    return 0;
}

int ops_down_main(const ops_options_t *o)
{
    embedded_t e;
    char err[ERR_MAX];
    if (embedded_open(o->dir, &e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears down: %s\n", err);
        return 1;
    }
    int unclean = fleet_down(&e);
    if (unclean)
        fprintf(stderr, "arrears down: %d service(s) did not stop cleanly: see %s\n", unclean,
                e.log);
    else
        printf("arrears down: every service stopped\n");
    return unclean ? 1 : 0;
}

static void probe_service(const embedded_t *e, const embedded_service_t *s, probe_t *p)
{
    char log[EMBEDDED_PATH_MAX + 64];
    snprintf(log, sizeof log, "%s/%s.log", e->log, s->name);
    probe_read(probe_port_from_log(log), p);
}

/* The metrics part of a line: ready, the store's fill, mean apply time, refusals, clock. */
static void print_probe(const probe_t *p)
{
    if (!p->reachable) {
        printf("  metrics not answering");
        return;
    }
    char day[16] = "-";
    time_t secs = (time_t)(p->clock_ms / 1000);
    struct tm tm;
    if (p->clock_ms > 0 && gmtime_r(&secs, &tm))
        strftime(day, sizeof day, "%Y-%m-%d", &tm);
    printf(" %5s %5.1f%% %8.2f %7.0f %s", p->ready ? "yes" : "NO",
           p->map_size_bytes > 0 ? 100.0 * p->map_used_bytes / p->map_size_bytes : 0.0,
           p->apply_count > 0 ? 1000.0 * p->apply_seconds_sum / p->apply_count : 0.0, p->rejects,
           day);
}

/* The broker's queue depth: tasks queued, leased, started or being resolved, from its
 * report (the figures it keeps per channel); -1 when it did not answer. */
static int64_t broker_queue(opclient_t *c)
{
    Arrears__OutreachReportQuery q = ARREARS__OUTREACH_REPORT_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT, *reply = NULL;
    env.body_case = ARREARS__ENVELOPE__BODY_OUTREACH_REPORT_QUERY;
    env.outreach_report_query = &q;
    if (opclient_query(c, &env, ARREARS__ENVELOPE__BODY_OUTREACH_REPORT, &reply,
                       STATUS_TIMEOUT_MS, NULL) != 0)
        return -1;
    int64_t open = 0;
    const Arrears__OutreachReport *r = reply->outreach_report;
    for (size_t i = 0; i < r->n_sections; i++)
        for (size_t j = 0; j < r->sections[i]->n_channels; j++)
            open += (int64_t)r->sections[i]->channels[j]->open;
    envelope_free(&reply);
    return open;
}

static void status_line(void *ctx, const embedded_t *e, const embedded_service_t *s)
{
    pid_t pid = fleet_running(e, s);
    probe_t p;
    if (!pid) {
        printf("%-9s %-8s\n", s->name, "stopped");
        return;
    }
    probe_service(e, s, &p);
    if (!*s->socket) {   /* the worker answers no queries: its metrics say the rest */
        printf("%-9s %-8s %7d %9s %7s %9s %5s", s->name, "running", (int)pid, "-", "-", "-", "-");
        print_probe(&p);
        printf("  deliveries %.0f\n", p.deliveries);
        return;
    }
    char key[EMBEDDED_PATH_MAX + 32], pub[EMBEDDED_PATH_MAX + 32], ep[EMBEDDED_PATH_MAX + 32];
    char err[ERR_MAX];
    embedded_key(e, "operator", "key", key, sizeof key);
    embedded_key(e, s->name, "pub", pub, sizeof pub);
    embedded_endpoint(e, s->name, ep, sizeof ep);
    opclient_t *c = opclient_new(ctx, ep, pub, key, err, sizeof err);
    Arrears__Health *h = NULL;
    int rc = c ? opclient_health(c, &h, STATUS_TIMEOUT_MS) : OPCLIENT_ECONNECT;
    if (rc != 0) {
        printf("%-9s %-8s %7d  not answering: %s\n", s->name, "running", (int)pid,
               opclient_strerror(rc));
    } else {
        printf("%-9s %-8s %7d %9llu %7llu %9llu %5llu", s->name, "up", (int)pid,
               (unsigned long long)(h->uptime_ms / 1000), (unsigned long long)h->streams,
               (unsigned long long)h->outbox_unacked, (unsigned long long)h->dead_letters);
        print_probe(&p);
        if (strcmp(s->program, "outreach") == 0)
            printf("  queue %lld", (long long)broker_queue(c));
        printf("\n");
        arrears__health__free_unpacked(h, NULL);
    }
    opclient_destroy(&c);
}

int ops_status_main(const ops_options_t *o)
{
    embedded_t e;
    char err[ERR_MAX];
    if (embedded_open(o->dir, &e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears status: %s\n", err);
        return 1;
    }
    void *ctx = zmq_ctx_new();
    printf("%-9s %-8s %7s %9s %7s %9s %5s %5s %6s %8s %7s %s\n", "service", "state", "pid",
           "uptime_s", "streams", "unacked", "dead", "ready", "map", "apply_ms", "refused",
           "clock");
    int down = 0;
    for (size_t i = 0; i < e.count; i++) {
        status_line(ctx, &e, &e.service[i]);
        down += fleet_running(&e, &e.service[i]) == 0;
    }
    zmq_ctx_term(ctx);
    if (down)
        printf("%d service(s) stopped: `arrears up` starts what is not running\n", down);
    return down ? 3 : 0;
}

int ops_simulate_main(const ops_options_t *o)
{
    embedded_t e;
    driver_t d;
    char err[ERR_MAX];
    if (o->days <= 0 || o->days > 3650 || o->step_minutes <= 0 || o->step_minutes > 1440) {
        fprintf(stderr, "arrears simulate: --days 1..3650, --step-minutes 1..1440\n");
        return 2;
    }
    if (embedded_open(o->dir, &e, err, sizeof err) != 0 || driver_open(&d, &e, err, sizeof err)) {
        fprintf(stderr, "arrears simulate: %s\n", err);
        return 1;
    }
    int64_t from = driver_now_ms(&d);
    if (from < 0) {
        driver_close(&d);
        fprintf(stderr, "arrears simulate: %s runs on the wall clock; for a simulation start it "
                "with `arrears up --simulated [--start YYYY-MM-DD]`\n", e.dir);
        return 1;
    }
    int rc = driver_run(&d, from, from + o->days * DAY_MS, o->step_minutes * 60000, 1, err,
                        sizeof err);
    driver_close(&d);
    if (rc != 0) {
        fprintf(stderr, "arrears simulate: %s\n(`arrears status` shows which service is "
                "behind; the services must be up on the simulated clock: "
                "`arrears up --simulated`)\n", err);
        return 1;
    }
    return 0;
}

