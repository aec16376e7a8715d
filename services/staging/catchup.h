/* catchup: staging after its store was put back from a backup (DESIGN.md "Restore").
 * What it had applied since the backup comes back from its senders' retained logs as
 * replays, each with when staging first applied it (Envelope.replay), and held.h holds
 * them. Once they are all in, staging applies them again in that order, each at its
 * first instant (its entries and messages dated then), with the daily runs that came
 * between them done first: so every account goes through the same days, payments,
 * outcomes and updates in the same order as the first time and decides the same. Only
 * then does staging take anything new (it answers `busy` meanwhile, clock advances
 * included), and its daily run goes on from there at its clock as ever (daily.h).
 *
 * The order (catchup_next): a held message first applied at instant X waits until the
 * daily run has run at every run boundary up to X — the grid of daily.every_ms, where
 * the first runs started (on a simulated clock the driver's steps fall on it); a
 * boundary where no borrower's day changed is passed at once. A staging that lost
 * nothing (restarted, or lagging behind on the wall clock) holds nothing, and nothing
 * here changes what it does. */
#ifndef ARREARS_STAGING_CATCHUP_H
#define ARREARS_STAGING_CATCHUP_H

#include <stdbool.h>
#include <stdint.h>

#include "held.h"
#include "staging.h"

typedef enum {
    CATCHUP_IDLE = 0,   /* not catching up: the daily run and messages as ever */
    CATCHUP_WAIT,       /* replays still coming in (or the restore's settle time) */
    CATCHUP_RUN,        /* the daily run first, to *run_to_ms */
    CATCHUP_APPLY,      /* the first held message now */
    CATCHUP_DONE,       /* everything applied: the catch-up ends */
} catchup_next_t;

/* Pure: what comes next, given the held state, the instant of the last completed run
 * and the run grid; *run_to_ms is set for CATCHUP_RUN. */
catchup_next_t catchup_next(const held_state_t *held, int64_t done_ms, int64_t every_ms,
                            int64_t *run_to_ms);

/* Applies the held messages that are due, in one transaction (at most the daily run's
 * chunk of them), or ends the catch-up; *worked says whether it did anything. */
int catchup_step(staging_t *self, store_t *store, bool *worked);

#endif
