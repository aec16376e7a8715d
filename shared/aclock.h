/* aclock: the one clock a service reads. Either the wall clock, or a simulated clock
 * that a simulation driver advances ("advance to instant T", UTC): every decision a
 * service takes about time (due dates, contact windows, leases, retention) reads
 * aclock_now_ms(), so a seeded simulation replays the same way at any speed.
 *
 * Timeouts and latencies are not business time: they use aclock_monotonic_ms(),
 * which is never simulated (a simulated day must not make a socket time out).
 *
 * Named aclock because libc already owns clock() and clock_t. */
#ifndef ARREARS_ACLOCK_H
#define ARREARS_ACLOCK_H

#include <stdbool.h>
#include <stdint.h>

enum {
    ACLOCK_OK = 0,
    ACLOCK_EWALL = -31101,      /* advancing a wall clock: only simulated clocks move */
    ACLOCK_EBACKWARDS = -31102, /* an advance to an instant before the current one */
};

typedef struct aclock aclock_t;

/* NULL only when out of memory. */
aclock_t *aclock_new_wall(void);
aclock_t *aclock_new_simulated(int64_t start_ms);
void aclock_destroy(aclock_t **self_p);
/* The clock a service runs on: the wall clock, or a simulated one that resumes at the
 * later of the configured start and restored_ms, the instant it had reached before a
 * restart (a simulation never goes back because a process was killed). */
aclock_t *aclock_new_for_service(bool simulated, int64_t start_ms, int64_t restored_ms);

bool aclock_is_simulated(const aclock_t *self);

/* Unix time in milliseconds, UTC: CLOCK_REALTIME for a wall clock, the current
 * simulated instant otherwise. Safe to call from any thread. */
int64_t aclock_now_ms(const aclock_t *self);

/* Moves a simulated clock to to_ms. An advance to the current instant is an OK no-op
 * (drivers repeat a round until nothing moves). Time never goes back: ACLOCK_EBACKWARDS
 * leaves the clock where it was. Safe against concurrent aclock_now_ms() readers. */
int aclock_advance_to(aclock_t *self, int64_t to_ms);

/* CLOCK_MONOTONIC in milliseconds from an arbitrary origin, for timeouts and
 * latencies only; never simulated, never steps back when the wall clock is set. */
int64_t aclock_monotonic_ms(void);

const char *aclock_strerror(int code);

#endif
