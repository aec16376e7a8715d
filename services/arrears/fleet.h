/* fleet: the embedded default's processes — started detached (their own session, output
 * to log/<service>.log, pid in run/<service>.pid), found again by a later `arrears`
 * command through the pid file (and only if that pid still runs that service's
 * configuration, so a reused pid is never signalled), and stopped: SIGTERM, a bounded
 * wait, then SIGKILL. */
#ifndef ARREARS_FLEET_H
#define ARREARS_FLEET_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "embedded.h"

#define FLEET_START_TIMEOUT_MS 30000
#define FLEET_STOP_TIMEOUT_MS 15000

/* The pid of the service's running process, or 0. */
pid_t fleet_running(const embedded_t *e, const embedded_service_t *s);
/* Starts it and waits until it is ready (bound, or for the worker, started); 0, or -1
 * with err saying why and where its log is. */
int fleet_start(const embedded_t *e, const embedded_service_t *s, char *err, size_t err_len);
/* Stops it if it runs; its exit code, 0 when it was not running, -1 when killed. */
int fleet_stop(const embedded_t *e, const embedded_service_t *s);
/* Every service, in start order; stops what it started on a failure. */
int fleet_up(const embedded_t *e, char *err, size_t err_len);
/* Every service, in reverse start order; the number that did not stop cleanly. */
int fleet_down(const embedded_t *e);

#endif
