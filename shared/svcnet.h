/* svcnet: the network side of a service process, the same in every service — the ZAP
 * handler, the ROUTER it serves on, one DEALER per peer it sends to (each drained from
 * its own outbox by a sender), and the receiver that applies what comes in. One step
 * polls them all, applies what waits (one group commit), reads the peers' replies and
 * pumps every outbox. The service keeps its store, tables and clock; svcnet keeps the
 * sockets, so each service's main is its own decisions and nothing else.
 *
 * What every service answers the same way is dispatched here, before the service's own
 * handler sees it: an operator's DeadLetterQuery and DeadLetterAction (deadletters.h)
 * over the peers' outboxes, sealed ones opened with the key svcnet_secret_open() opened
 * in this process.
 *
 * Order matters and is kept here once: the ZAP handler is bound before the ROUTER (a
 * CURVE socket bound with no handler admits every key).
 *
 * With `metrics.listen` in the service's configuration, svcnet also serves the metrics,
 * /healthz and /readyz (metrics.h): the receiver's and senders' own counts, the outboxes'
 * and the store's state, the latencies of batches, queries and the service's sweep. It
 * publishes them from the service thread after a step (the store's at most every
 * SVCNET_PUBLISH_MS), and then no step waits longer than SVCNET_PUBLISH_MS, so the
 * figures and the loop's heartbeat stay fresh. Ready: the store is open, the sockets
 * are bound and connecting, and the last step succeeded.
 *
 * Turns (clock.driven, svcconf.h): a service a simulation driver schedules sends only in
 * its turn. An operator's message gives it one — the driver's ClockAdvance, or an
 * operator's action, whose effects go out at once as on any fleet — which lasts while
 * the message is answered busy (asked again) and then until every message appended is
 * acknowledged; a ClockAdvance is acknowledged only then. Out of turn a service applies
 * what comes in, answers calls and queries and reads its peers' acknowledgements, but
 * what it appends waits in its outboxes: nothing new is sent. It still probes idle
 * streams and sends a receiver restored from a backup what it lost (sender_pump_replays),
 * which that receiver applies in their first order, whenever they come. So while
 * the driver runs, one service at most acts at a time, in the driver's order, and every
 * service takes its input in an order the driver decided, never one the timing of a run
 * did: a seeded simulation comes out the same every time (DESIGN.md "Time"). Undriven,
 * every moment is the service's turn. */
#ifndef ARREARS_SVCNET_H
#define ARREARS_SVCNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "aclock.h"
#include "crypt.h"
#include "outbox.h"
#include "receiver.h"
#include "svcconf.h"
#include "zap.h"

#define SVCNET_MAX_PEERS 16
#define SVCNET_PUBLISH_MS 1000
/* A loop without a step for this long is not alive (/healthz): a daily-run chunk or a
 * large batch takes seconds, never this long. */
#define SVCNET_STALE_MS 30000

typedef struct {
    const char *endpoint;
    const char *public_path;   /* the peer's CURVE public key file */
    outbox_t *outbox;          /* what is sent to it */
} svcnet_peer_t;

typedef struct {
    const char *service;       /* the metrics' service label: "staging" */
    const svcconf_t *svc;      /* keys, link options, receiver and sender limits, metrics */
    const char *listen;
    size_t peer_count;         /* 0 .. SVCNET_MAX_PEERS */
    svcnet_peer_t peers[SVCNET_MAX_PEERS];
} svcnet_spec_t;

typedef struct svcnet svcnet_t;

/* Opens everything, or returns NULL with err saying what failed. The store and inbox
 * are the service's; handler and app as in receiver.h. */
svcnet_t *svcnet_new(const svcnet_spec_t *spec, store_t *store, inbox_t *inbox,
                     const receiver_handler_t *handler, void *app, char *err, size_t err_len);
/* Closes the sockets (after svcnet_flush, to hand over what the windows allow). */
void svcnet_destroy(svcnet_t **self_p);

/* Waits up to wait_max_ms (less when a sender must resend sooner) for traffic, applies
 * what came in with clock's now, reads replies and pumps the outboxes. Returns 0 (also
 * when a signal cut the wait short), the store/LMDB error that stopped it, or the errno
 * of a failed poll. */
int svcnet_step(svcnet_t *self, int64_t wait_max_ms, const aclock_t *clock);
/* Sends whatever the windows allow now (after work that appended to an outbox). */
int svcnet_pump(svcnet_t *self);
/* One last pass before stopping: what can still go, goes. */
void svcnet_flush(svcnet_t *self);
/* The service's periodic work took this long (the sweep latency histogram). */
void svcnet_sweep_took(svcnet_t *self, int64_t elapsed_us);
/* A SIGHUP config reload succeeded or was refused (counted). */
void svcnet_reloaded(svcnet_t *self, bool ok);
/* Messages sent and not yet acknowledged, over every peer. */
uint64_t svcnet_unacked(const svcnet_t *self);
/* Whether it is the service's turn (always, undriven): what it does now goes out now. */
bool svcnet_in_turn(const svcnet_t *self);
zap_t *svcnet_zap(svcnet_t *self);

/* The service's at-rest key: loaded, or first created when create is set (the embedded
 * default generates its keys at first start). CRYPT_* codes. The path is remembered:
 * svcnet_new() loads a copy of its own to open sealed dead letters. */
int svcnet_secret_open(const char *path, bool create, crypt_t **crypt);

#endif
