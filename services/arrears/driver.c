/* driver: see driver.h. */
#include "driver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "aclock.h"

#define DAY_MS 86400000LL
#define HEALTH_TIMEOUT_MS 10000
#define DRAIN_POLL_MS 5

static void clock_path(const embedded_t *e, char *out, size_t len)
{
    snprintf(out, len, "%s/clock", e->run);
}

static int write_clock(const char *path, int64_t at_ms)
{
    char tmp[EMBEDDED_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    fprintf(f, "%lld\n", (long long)at_ms);
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path);
}

/* In pipeline order: intake, every staging shard, outreach, legal, sale. */
static void name_peers(driver_t *self, const embedded_t *e)
{
    static const char *const after_staging[] = { "outreach", "legal", "sale" };
    snprintf(self->name[self->peers++], EMBEDDED_NAME_MAX, "intake");
    for (uint32_t k = 0; k < e->shards; k++)
        snprintf(self->name[self->peers++], EMBEDDED_NAME_MAX, "%s", embedded_shard(e, k)->name);
    for (size_t i = 0; i < sizeof after_staging / sizeof *after_staging; i++)
        snprintf(self->name[self->peers++], EMBEDDED_NAME_MAX, "%s", after_staging[i]);
}

int driver_open(driver_t *self, const embedded_t *e, char *err, size_t err_len)
{
    memset(self, 0, sizeof *self);
    clock_path(e, self->clock_path, sizeof self->clock_path);
    self->ctx = zmq_ctx_new();
    char key[EMBEDDED_PATH_MAX + 32], pub[EMBEDDED_PATH_MAX + 32], ep[EMBEDDED_PATH_MAX + 32];
    embedded_key(e, "operator", "key", key, sizeof key);
    name_peers(self, e);
    for (size_t i = 0; i < self->peers; i++) {
        embedded_key(e, self->name[i], "pub", pub, sizeof pub);
        embedded_endpoint(e, self->name[i], ep, sizeof ep);
        self->peer[i] = opclient_new(self->ctx, ep, pub, key, err, err_len);
        if (!self->peer[i]) {
            driver_close(self);
            return -1;
        }
    }
    return 0;
}

void driver_close(driver_t *self)
{
    for (size_t i = 0; i < self->peers; i++)
        opclient_destroy(&self->peer[i]);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    self->ctx = NULL;
}

int driver_clock_start(const embedded_t *e, int64_t start_ms)
{
    char path[EMBEDDED_PATH_MAX + 16];
    clock_path(e, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (f) {
        fclose(f);
        return 0;
    }
    return write_clock(path, start_ms);
}

int64_t driver_now_ms(const driver_t *self)
{
    FILE *f = fopen(self->clock_path, "r");
    long long ms = -1;
    if (f) {
        if (fscanf(f, "%lld", &ms) != 1)
            ms = -1;
        fclose(f);
    }
    return ms;
}

static int health(driver_t *self, size_t p, Arrears__Health **h, char *err, size_t len)
{
    int rc = opclient_health(self->peer[p], h, HEALTH_TIMEOUT_MS);
    if (rc != 0)
        snprintf(err, len, "%s: %s", self->name[p], opclient_strerror(rc));
    return rc;
}

/* What staging and the services after it ever put in their outboxes. */
static int appended(driver_t *self, uint64_t *total, char *err, size_t len)
{
    *total = 0;
    for (size_t p = DRIVER_STAGING; p < self->peers; p++) {
        Arrears__Health *h;
        if (health(self, p, &h, err, len) != 0)
            return -1;
        *total += h->outbox_appended;
        arrears__health__free_unpacked(h, NULL);
    }
    return 0;
}

static int intake_drained(driver_t *self, char *err, size_t len)
{
    int64_t deadline = aclock_monotonic_ms() + DRIVER_ROUND_TIMEOUT_MS;
    for (;;) {
        Arrears__Health *h;
        if (health(self, DRIVER_INTAKE, &h, err, len) != 0)
            return -1;
        uint64_t unacked = h->outbox_unacked;
        arrears__health__free_unpacked(h, NULL);
        if (unacked == 0)
            return 0;
        if (aclock_monotonic_ms() > deadline) {
            snprintf(err, len, "intake still has %llu messages for staging after %d s",
                     (unsigned long long)unacked, DRIVER_ROUND_TIMEOUT_MS / 1000);
            return -1;
        }
        struct timespec t = { 0, DRAIN_POLL_MS * 1000000L };
        nanosleep(&t, NULL);
    }
}

static int advance(driver_t *self, size_t p, int64_t at_ms, char *err, size_t len)
{
    Arrears__ClockAdvance m = ARREARS__CLOCK_ADVANCE__INIT;
    m.has_to_ms = 1;
    m.to_ms = at_ms;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE;
    env.clock_advance = &m;
    reject_t reject;
    int rc = opclient_send(self->peer[p], &env, DRIVER_ROUND_TIMEOUT_MS, &reject);
    if (rc == OPCLIENT_EREJECTED)
        snprintf(err, len, "%s refused the clock advance: %s (%s)", self->name[p],
                 reject.reason, reject_code_name(reject.code));
    else if (rc != 0)
        snprintf(err, len, "%s did not take the clock advance: %s", self->name[p],
                 opclient_strerror(rc));
    return rc;
}

int driver_settle(driver_t *self, int64_t at_ms, char *err, size_t err_len)
{
    for (int round = 0; round < DRIVER_ROUNDS_MAX; round++) {
        uint64_t before, after;
        if (appended(self, &before, err, err_len) != 0 || intake_drained(self, err, err_len) != 0)
            return -1;
        for (size_t p = DRIVER_STAGING; p < self->peers; p++)
            if (advance(self, p, at_ms, err, err_len) != 0)
                return -1;
        if (appended(self, &after, err, err_len) != 0)
            return -1;
        if (after == before)
            return write_clock(self->clock_path, at_ms) == 0 ? 0 : -1;
    }
    snprintf(err, err_len, "the services still moved after %d rounds at one instant",
             DRIVER_ROUNDS_MAX);
    return -1;
}

/* The earliest instant any service has work of its own, or INT64_MAX. */
static int next_work_ms(driver_t *self, int64_t *next, char *err, size_t len)
{
    *next = INT64_MAX;
    for (size_t p = DRIVER_STAGING; p < self->peers; p++) {
        Arrears__Health *h;
        if (health(self, p, &h, err, len) != 0)
            return -1;
        if (h->has_next_work_ms && h->next_work_ms < *next)
            *next = h->next_work_ms;
        arrears__health__free_unpacked(h, NULL);
    }
    return 0;
}

static void print_day(int64_t at_ms, int64_t from_ms, int64_t to_ms)
{
    time_t secs = (time_t)(at_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    printf("simulate: %04d-%02d-%02d settled (day %lld of %lld)\n", tm.tm_year + 1900,
           tm.tm_mon + 1, tm.tm_mday, (long long)((at_ms - from_ms) / DAY_MS),
           (long long)((to_ms - from_ms + DAY_MS - 1) / DAY_MS));
    fflush(stdout);
}

int driver_run(driver_t *self, int64_t from_ms, int64_t to_ms, int64_t step_ms, int progress,
               char *err, size_t err_len)
{
    int64_t t = from_ms;
    if (driver_settle(self, t, err, err_len) != 0)
        return -1;
    while (t < to_ms) {
        int64_t next;
        if (next_work_ms(self, &next, err, err_len) != 0)
            return -1;
        int64_t step = t + step_ms;
        if (next > step && next != INT64_MAX)   /* idle until then: jump, on the grid */
            step = from_ms + (next - from_ms + step_ms - 1) / step_ms * step_ms;
        else if (next == INT64_MAX)
            step = to_ms;
        int64_t day_end = from_ms + ((t - from_ms) / DAY_MS + 1) * DAY_MS;
        if (progress && step > day_end)   /* a progress line per day passed, even idle */
            step = day_end;
        step = step < to_ms ? step : to_ms;
        if (driver_settle(self, step, err, err_len) != 0)
            return -1;
        if (progress && (step - from_ms) % DAY_MS == 0)
            print_day(step, from_ms, to_ms);
        t = step;
    }
    return 0;
}
