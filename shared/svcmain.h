/* svcmain: the process shell of a service with a store, a network side (svcnet) and
 * periodic work of its own — the run (signals, open, the loop, a clean stop), the loop's
 * step (messages, then the sweep when it is due; an error the store survives is logged
 * and the loop goes on), the simulated clock resumed where it stopped, and the `dump`
 * command. A service's main.c keeps only what is its own: its configuration, its tables
 * and handlers, its sweep, what of its configuration a SIGHUP may change. */
#ifndef ARREARS_SVCMAIN_H
#define ARREARS_SVCMAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "aclock.h"
#include "store.h"
#include "svcloop.h"
#include "svcnet.h"

typedef struct {
    const char *name;                /* "legal": log events legal_start, legal_stop */
    void *svc;                       /* the service's own state, given to every hook */
    int (*open)(void *svc);          /* the whole service: store, clock, links */
    int (*open_store)(void *svc);    /* what `dump` needs: the store alone */
    void (*close)(void *svc);        /* everything open, even half-opened */
    int (*dump)(MDB_txn *txn, void *svc);   /* prints the store (JSON lines) to stdout */
    int64_t step_ms;                 /* the longest a step waits for messages */
    store_work_fn *sweep;            /* periodic work in a write transaction, or NULL */
    int64_t sweep_every_ms;          /* how often, on the monotonic clock */
    bool sweep_when_simulated;       /* false: on a simulated clock the advance sweeps */
    const char *(*strerror)(int code);
    /* SIGHUP: re-reads the configuration file, applies what may change at runtime (the
     * log level at least) and names what it ignored (svcloop.h); NULL: keys only. */
    svcloop_reload_fn *reload;
    /* Where the service keeps its store, network side and clock once open. */
    store_t **store;
    svcnet_t **net;
    aclock_t **clock;
} svcmain_t;

/* Serves until SIGTERM; the process's exit code. */
int svcmain_run(const svcmain_t *m);
/* `SERVICE dump`: the store printed; the process's exit code. */
int svcmain_dump(const svcmain_t *m);

/* The service's clock: the wall clock, or the simulated one resumed at the instant its
 * store kept (read_ms in a read transaction; 0: never advanced, start at start_ms). */
typedef int (svcmain_clock_fn)(MDB_txn *txn, void *svc, uint64_t *clock_ms);
int svcmain_open_clock(store_t *store, bool simulated, int64_t start_ms,
                       svcmain_clock_fn *read_ms, void *svc, aclock_t **clock);

#endif
