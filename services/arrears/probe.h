/* probe: what `arrears status` reads off a service's metrics endpoint (shared/metrics.h):
 * readiness (/readyz) and a few figures of /metrics — the store's fill, the service's
 * clock, the mean apply time, refusals. The endpoint's port is the one the service
 * logged at start (event=metrics_listen port=N), as the embedded default lets the
 * kernel pick it. */
#ifndef ARREARS_PROBE_H
#define ARREARS_PROBE_H

#include <stdbool.h>
#include <stdint.h>

#define PROBE_TIMEOUT_MS 2000
#define PROBE_BODY_MAX (1 << 20)

typedef struct {
    bool reachable;           /* /metrics answered */
    bool ready;               /* /readyz said 200 */
    double map_used_bytes;
    double map_size_bytes;
    double clock_ms;          /* the service's clock: simulated or wall */
    double apply_seconds_sum, apply_count;
    double rejects;           /* every refused-for-good message */
    double deliveries;        /* the worker's, every outcome */
} probe_t;

/* The port in the last metrics_listen line of log_path, or 0. */
int probe_port_from_log(const char *log_path);
/* Reads 127.0.0.1:port; fills what it could (reachable false when nothing answered). */
void probe_read(int port, probe_t *out);

#endif
