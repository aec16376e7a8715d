/* worker: an outreach worker's loop step — pull tasks under a lease from the broker, and
 * for each: check the send-before instant, ask the broker to record "attempt started"
 * (and send only on its go), deliver through the channel adapter, report the result;
 * for a task to resolve, look its idempotency key up in the channel's record and report
 * what it says. Workers keep nothing but their name: everything that must survive is at
 * the broker or in the channel's record. Any number run, on any host.
 *
 * Every call to the broker is request/reply with a request id; a reply that does not come
 * within reply_timeout_ms is asked again (the calls are idempotent by task and lease) up
 * to call_attempts times, then the step gives up and the lease runs out at the broker.
 * A channel that is down (channel.h) rests, its rest doubling from rest_initial_ms to
 * rest_max_ms: its tasks go back to the broker's queue meanwhile, none is lost. */
#ifndef ARREARS_OUTREACH_WORKER_H
#define ARREARS_OUTREACH_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "channel.h"
#include "spool.h"

#define WORKER_NAME_MAX 64

typedef struct {
    int max_tasks;               /* per pull, 1 .. 64 */
    int64_t reply_timeout_ms;
    int call_attempts;
    int64_t rest_initial_ms;     /* a channel that is down rests this long, */
    int64_t rest_max_ms;         /* doubling up to this, before it is tried again */
    /* Nothing is sent with less than this left of its lease: once a lease ends another
     * worker may look the key up, and a send racing that look-up could go twice. */
    int64_t send_margin_ms;
} worker_limits_t;

/* Deliveries are counted by proto Channel (1 .. 5) and ContactResult (0 .. 13). */
#define WORKER_CHANNELS 5
#define WORKER_RESULTS 14

typedef struct {
    uint64_t pulls, leased, sent, missed, no_go, resolved, reports_lost, opt_outs;
    uint64_t channel_down, unknown;
    /* What each delivery the broker let start came to: [channel - 1][ContactResult]. */
    uint64_t results[WORKER_CHANNELS][WORKER_RESULTS];
} worker_stats_t;

/* Each delivery's latency through its channel, as it happens (a metrics histogram). */
typedef void (worker_timer_fn)(void *arg, int channel, int64_t elapsed_us);

typedef struct worker worker_t;

/* dealer: connected to the broker. channels: proto Channel values it sends. adapters:
 * the SMTP and HTTP adapters (channel.h), or NULL when every channel goes to the spool. */
worker_t *worker_new(void *dealer, const char *name, const int *channels, size_t channel_count,
                     spool_t *spool, channels_t *adapters, const worker_limits_t *limits);
void worker_destroy(worker_t **self_p);

/* One pull and the handling of what it brought. *leased: how many tasks it brought
 * (0: nothing due — the caller waits a little before the next pull). Returns 0, or
 * -1 when the broker did not answer (nothing was sent that the broker does not know of). */
int worker_step(worker_t *self, int *leased);

const worker_stats_t *worker_stats(const worker_t *self);
/* fn NULL: no latency measured (the default). */
void worker_set_timer(worker_t *self, worker_timer_fn *fn, void *arg);

#endif
