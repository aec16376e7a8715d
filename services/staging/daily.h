/* daily: the daily run — every account evaluated for its borrower-local today, in
 * chunks of run_chunk_accounts, each chunk one write transaction, so inbound traffic
 * interleaves with the run between chunks.
 *
 * A run evaluates every account as of one instant (run_to_ms). It starts when the clock
 * crosses a boundary: on the wall clock each multiple of run_every_ms (an hour by
 * default, so every borrower's midnight, half-hour zones included, is acted on within
 * the hour), as of that multiple; on a simulated clock each advance. Its place (run_to_ms and the last id
 * done) is stored with each chunk, so after a crash the run resumes where its last
 * committed chunk ended; and since an account evaluated for a day is not evaluated for
 * it again, a repeated chunk changes nothing.
 *
 * While staging catches up after a restore (catchup.h) the run goes from one run
 * boundary to the next no further than the first held message, whatever the clock
 * says. Entries and messages of a run are dated at its instant (run_to_ms).
 *
 * Meta keys: run_to_ms (0: no run in progress), run_cursor (last id done), run_done_ms
 * (the instant of the last completed run). */
#ifndef ARREARS_STAGING_DAILY_H
#define ARREARS_STAGING_DAILY_H

#include <stdbool.h>

#include "staging.h"
#include "store.h"

typedef enum {
    DAILY_IDLE = 0,   /* no run due */
    DAILY_MORE,       /* a chunk was done; more remain */
    DAILY_BLOCKED,    /* an outbox is full: wait for acknowledgements */
} daily_state_t;

typedef struct {
    uint64_t evaluated;   /* accounts evaluated in this step */
    uint64_t changed;     /* of which changed (written) */
    daily_state_t state;
} daily_step_t;

/* Runs one chunk of the run in progress (starting one when due). */
int daily_step(staging_t *self, store_t *store, daily_step_t *step);

/* The instant the stored state says the clock had reached: a simulated clock is
 * restored to it at start. */
int daily_restored_clock_ms(staging_t *self, store_t *store, int64_t *clock_ms);

#endif
