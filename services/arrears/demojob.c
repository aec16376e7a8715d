/* demojob: `arrears demo`, the main job. Every service starts on this machine on the
 * embedded default with the simulated clock (a fresh run: stores, spool and clock
 * cleared, keys kept); a synthetic world — the demonstration platform, the example law
 * firms, agencies and debt buyers, each a client of the real socket API on its own key
 * (tests/clients/python/demo_world.py) — uploads a seeded portfolio and acts day by day
 * (payments, promises kept and broken, complaints, cases worked, bids), moving the clock
 * with `arrears simulate` between days; then the report is gathered from every service
 * and printed, and every process is stopped. */
#define _XOPEN_SOURCE 700
#include "demojob.h"

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "embedded.h"
#include "fleet.h"
#include "gather.h"
#include "render.h"
#include "rig.h"

#define ERR_MAX 1024
#define FILE_MAX (EMBEDDED_PATH_MAX + 64)
#define DEMO_START "2026-01-01"
#define DEMO_START_MS 1767225600000LL   /* 2026-01-01T00:00:00Z */

static const char *setting(const char *env, const char *compiled)
{
    const char *v = getenv(env);
    return v && *v ? v : compiled;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* A fresh run: no store, spool, world state or clock of an earlier one; keys kept. */
static void clear_run(const embedded_t *e)
{
    char path[FILE_MAX];
    for (size_t i = 0; i < e->count; i++) {
        embedded_path(e, e->service[i].name, "", path, sizeof path);
        rig_clear_store(path);
    }
    const char *trees[] = { "/spool", "/world" };
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s%s", e->dir, trees[i]);
        nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    snprintf(path, sizeof path, "%s/clock", e->run);
    remove(path);
}

static int run_world(const embedded_t *e, const demojob_options_t *o)
{
    char self[PATH_MAX], script[FILE_MAX], accounts[24], seed[24], days[24];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = 0;
    const char *python = setting("ARREARS_PYTHON", ARREARS_PYTHON_BIN);
    const char *proto = setting("ARREARS_PROTO_PYTHON", ARREARS_PROTO_PYTHON_DEFAULT);
    snprintf(script, sizeof script, "%s/demo_world.py",
             setting("ARREARS_CLIENT_DIR", ARREARS_CLIENT_DIR_DEFAULT));
    snprintf(accounts, sizeof accounts, "%llu", (unsigned long long)o->accounts);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    snprintf(days, sizeof days, "%llu", (unsigned long long)o->days);
    char *argv[] = { (char *)python, script, "--dir", (char *)e->dir, "--arrears", self,
                     "--accounts", accounts, "--seed", seed, "--days", days, "--start",
                     DEMO_START, "--proto-dir", (char *)proto, NULL };
    return rig_wait(rig_spawn(python, argv));
}

static int print_report(const embedded_t *e)
{
    gather_t g;
    char err[ERR_MAX], path[FILE_MAX];
    if (gather_reports(e, NULL, &g, err, sizeof err) != 0) {
        fprintf(stderr, "arrears demo: the report: %s\n", err);
        return -1;
    }
    render_table(stdout, &g);
    snprintf(path, sizeof path, "%s/report.txt", e->dir);
    FILE *f = fopen(path, "w");
    if (f) {
        render_table(f, &g);
        fclose(f);
    }
    gather_free(&g);
    return 0;
}

int demojob_main(const demojob_options_t *o)
{
    embedded_t e;
    char err[ERR_MAX];
    /* Relaxed: a demonstration that crashes is run again, and a commit's fsync per clock
     * step would make its six months take most of an hour; deploy/config is durable. */
    embedded_options_t eo = { true, DEMO_START, "relaxed", o->seed };
    if (embedded_open(o->dir, &e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears demo: %s\n", err);
        return 1;
    }
    fleet_down(&e);   /* an earlier run's processes, if one was interrupted */
    clear_run(&e);
    /* A fresh run may take any number of shards: no account is placed on one yet. */
    if (o->shards && embedded_set_shards(&e, o->shards, err, sizeof err) != 0) {
        fprintf(stderr, "arrears demo: %s\n", err);
        return 1;
    }
    clear_run(&e);   /* a shard that an earlier, larger run left */
    if (embedded_write(&e, &eo, err, sizeof err) != 0 ||
        driver_clock_start(&e, DEMO_START_MS) != 0 || fleet_up(&e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears demo: %s\n", err);
        fleet_down(&e);
        return 1;
    }
    printf("arrears demo: every service up in %s on the simulated clock from %s (CURVE on "
           "ipc://, staging in %u shard%s); a synthetic platform, firms, agencies and buyers "
           "act for %llu days on %llu accounts (seed %llu)\n", e.dir, DEMO_START, e.shards,
           e.shards == 1 ? "" : "s", (unsigned long long)o->days,
           (unsigned long long)o->accounts, (unsigned long long)o->seed);
    fflush(stdout);
    int world = run_world(&e, o);
    int report = world == 0 ? print_report(&e) : -1;
    int unclean = fleet_down(&e);
    printf("arrears demo: %s; every process stopped%s (logs in %s)\n",
           world == 0 && report == 0 ? "done" : "FAILED", unclean ? " (some not cleanly)" : "",
           e.log);
    return world == 0 && report == 0 && unclean == 0 ? 0 : 1;
}
