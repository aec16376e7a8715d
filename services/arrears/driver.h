/* driver: the simulation driver of DESIGN.md "Time", for the embedded default on its
 * simulated clock. It owns the clock: a round at instant T waits until intake has
 * delivered everything to staging, then sends ClockAdvance(T) to staging, the broker,
 * legal and sale in pipeline order (each answers busy until its own work at T is done
 * and its outboxes are drained), and repeats while any outbox still grew — the replies
 * of one service are work for another; every staging shard is advanced where staging is.
 * The fleet is driven (clock.driven, svcnet.h): an advance is the service's turn, the
 * only time it sends, so one service acts at a time in this order and a seeded run is
 * the same every time. Between steps it jumps ahead to the earliest instant a service
 * says it has work (Health next_work_ms), on the step grid. The last settled instant is
 * kept in run/clock so the next `arrears simulate` goes on from it. */
#ifndef ARREARS_DRIVER_H
#define ARREARS_DRIVER_H

#include <stdint.h>

#include "embedded.h"
#include "opclient.h"

#define DRIVER_ROUND_TIMEOUT_MS 600000   /* one service's catching up at one instant */
#define DRIVER_ROUNDS_MAX 1000           /* rounds at one instant before it is called stuck */

/* The peers in pipeline order: intake, staging's shards (the first at DRIVER_STAGING),
 * then outreach, legal and sale. */
typedef enum { DRIVER_INTAKE, DRIVER_STAGING } driver_peer_t;
#define DRIVER_PEERS_MAX (4 + SHARDS_MAX)

typedef struct {
    void *ctx;
    size_t peers;
    opclient_t *peer[DRIVER_PEERS_MAX];
    char name[DRIVER_PEERS_MAX][EMBEDDED_NAME_MAX];
    char clock_path[EMBEDDED_PATH_MAX + 16];
} driver_t;

/* Connects to every service as the operator; err says which could not be reached. */
int driver_open(driver_t *self, const embedded_t *e, char *err, size_t err_len);
void driver_close(driver_t *self);
/* Starts run/clock at start_ms unless it exists: `up --simulated` on a fresh folder. */
int driver_clock_start(const embedded_t *e, int64_t start_ms);
/* The last settled instant (run/clock), or -1 when the fleet is not simulated. */
int64_t driver_now_ms(const driver_t *self);
/* Settles instant at_ms (see above) and records it. */
int driver_settle(driver_t *self, int64_t at_ms, char *err, size_t err_len);
/* Moves from now to to_ms in steps of step_ms, jumping over idle steps; a progress line
 * per simulated day when progress is set. */
int driver_run(driver_t *self, int64_t from_ms, int64_t to_ms, int64_t step_ms, int progress,
               char *err, size_t err_len);

#endif
