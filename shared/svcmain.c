/* svcmain: see svcmain.h. */
#include "svcmain.h"

#include "log.h"
#include "metrics.h"
#include "signals.h"

static int sweep_if_due(const svcmain_t *m, int64_t *next_sweep_ms)
{
    if (!m->sweep || (!m->sweep_when_simulated && aclock_is_simulated(*m->clock)) ||
        aclock_monotonic_ms() < *next_sweep_ms)
        return 0;
    int64_t start_us = metrics_now_us();
    int rc = store_write(*m->store, m->sweep, m->svc);
    svcnet_sweep_took(*m->net, metrics_now_us() - start_us);
    *next_sweep_ms = aclock_monotonic_ms() + m->sweep_every_ms;
    return rc ? rc : svcnet_pump(*m->net);
}

static int step(const svcmain_t *m, int64_t *next_sweep_ms)
{
    int rc = svcnet_step(*m->net, m->step_ms, *m->clock);
    rc = rc ? rc : sweep_if_due(m, next_sweep_ms);
    if (rc != 0 && !store_is_fatal(rc)) {
        log_event(LOG_ERROR, "step_failed", "error=%d what=%s", rc, m->strerror(rc));
        rc = 0;
    }
    return rc;
}

int svcmain_run(const svcmain_t *m)
{
    char start[48], stop[48];
    snprintf(start, sizeof start, "%s_start", m->name);
    snprintf(stop, sizeof stop, "%s_stop", m->name);
    signals_install();
    int rc = m->open(m->svc);
    log_event(rc ? LOG_ERROR : LOG_INFO, start, "clock=%s error=%d",
              *m->clock && aclock_is_simulated(*m->clock) ? "simulated" : "wall", rc);
    int64_t next_sweep = 0;
    while (svcloop_next(*m->net, m->reload, m->svc, rc))
        rc = step(m, &next_sweep);
    svcnet_flush(*m->net);
    log_event(rc ? LOG_ERROR : LOG_INFO, stop, "error=%d reason=%s", rc,
              rc ? "a store or socket error stopped the loop" : "signal");
    m->close(m->svc);
    return rc == 0 ? 0 : 1;
}

int svcmain_dump(const svcmain_t *m)
{
    int rc = m->open_store(m->svc);
    rc = rc ? rc : store_read(*m->store, m->dump, m->svc);
    if (rc != 0)
        fprintf(stderr, "%s dump: %s\n", m->name, m->strerror(rc));
    m->close(m->svc);
    return rc == 0 ? 0 : 1;
}

typedef struct {
    svcmain_clock_fn *read_ms;
    void *svc;
    uint64_t clock_ms;
} clock_read_t;

static int read_clock(MDB_txn *txn, void *arg)
{
    clock_read_t *r = arg;
    return r->read_ms(txn, r->svc, &r->clock_ms);
}

int svcmain_open_clock(store_t *store, bool simulated, int64_t start_ms,
                       svcmain_clock_fn *read_ms, void *svc, aclock_t **clock)
{
    clock_read_t r = {read_ms, svc, 0};
    if (simulated && store_read(store, read_clock, &r) != 0)
        return -1;
    *clock = aclock_new_for_service(simulated, simulated ? start_ms : 0, (int64_t)r.clock_ms);
    return *clock ? 0 : -1;
}
