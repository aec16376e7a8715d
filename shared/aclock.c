/* aclock: the wall clock or a simulated clock behind one reader, and the monotonic
 * clock for timeouts. See aclock.h. */
#include "aclock.h"

#include <assert.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

struct aclock {
    bool simulated;
    /* Atomic because the driver's control handler may advance the clock while worker
     * threads read it; a torn 64-bit read would be an instant that never existed. */
    _Atomic int64_t now_ms;
};

static aclock_t *aclock_new(bool simulated, int64_t start_ms)
{
    aclock_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->simulated = simulated;
    atomic_init(&self->now_ms, start_ms);
    return self;
}

aclock_t *aclock_new_wall(void)
{
    return aclock_new(false, 0);
}

aclock_t *aclock_new_simulated(int64_t start_ms)
{
    return aclock_new(true, start_ms);
}

void aclock_destroy(aclock_t **self_p)
{
    assert(self_p);
    free(*self_p);
    *self_p = NULL;
}

bool aclock_is_simulated(const aclock_t *self)
{
    assert(self);
    return self->simulated;
}

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    int rc = clock_gettime(id, &ts);
    /* Both clocks exist on every Linux; a failure is a broken system, not input. */
    assert(rc == 0);
    (void)rc;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t aclock_now_ms(const aclock_t *self)
{
    assert(self);
    if (!self->simulated)
        return read_ms(CLOCK_REALTIME);
    return atomic_load(&self->now_ms);
}

int aclock_advance_to(aclock_t *self, int64_t to_ms)
{
    assert(self);
    if (!self->simulated)
        return ACLOCK_EWALL;
    /* Compare-and-swap so two concurrent advances can never move time backwards. */
    int64_t now = atomic_load(&self->now_ms);
    do {
        if (to_ms < now)
            return ACLOCK_EBACKWARDS;
        if (to_ms == now)
            return ACLOCK_OK;
    } while (!atomic_compare_exchange_weak(&self->now_ms, &now, to_ms));
    return ACLOCK_OK;
}

int64_t aclock_monotonic_ms(void)
{
    return read_ms(CLOCK_MONOTONIC);
}

const char *aclock_strerror(int code)
{
    switch (code) {
    case ACLOCK_OK:
        return "success";
    case ACLOCK_EWALL:
        return "the wall clock cannot be advanced";
    case ACLOCK_EBACKWARDS:
        return "the clock cannot go back in time";
    default:
        return "unknown clock error";
    }
}

aclock_t *aclock_new_for_service(bool simulated, int64_t start_ms, int64_t restored_ms)
{
    if (!simulated)
        return aclock_new_wall();
    return aclock_new_simulated(restored_ms > start_ms ? restored_ms : start_ms);
}
