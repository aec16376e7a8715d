/* metrics: what a service counts and how long its work takes, in the Prometheus text
 * exposition format 0.0.4, with its liveness and readiness, over HTTP (libmicrohttpd) on
 * the address its configuration names:
 *
 *   metrics = { listen = "127.0.0.1:9101"; };   # absent: no HTTP server; port 0: any free
 *                                               # port (tests), logged as metrics_listen port=N
 *
 *   GET /metrics   the series below, text/plain; version=0.0.4
 *   GET /healthz   200 "ok" while the service loop steps (a beat no older than the
 *                  longest a step may wait, plus margin); 503 once it stops or hangs
 *   GET /readyz    200 "ready" when the service can take traffic: its store is open, its
 *                  sockets are bound and connecting, its last step succeeded — and, for a
 *                  worker, its last pull was answered; 503 otherwise (while starting,
 *                  when stopping, a worker whose broker is away or whose channels all rest)
 *   anything else  404
 *
 * Every series carries service="<name>". The metrics each process serves (svcnet.c for
 * every service with a store, worker_main.c for the outreach worker):
 *
 *   arrears_messages_received_total            counter  messages taken off the socket
 *   arrears_messages_total{outcome}            counter  applied, duplicate, rejected
 *                                                       (refused for good), malformed
 *   arrears_rejects_total{code}                counter  the refused-for-good ones by Reject code
 *   arrears_queries_total                      counter  queries answered
 *   arrears_batches_total                      counter  group commits
 *   arrears_outbox_appended_messages{outbox}   gauge    ever appended (the last seq)
 *   arrears_outbox_acknowledged_messages{outbox} gauge  acknowledged by the peer
 *   arrears_outbox_unacknowledged_messages{outbox} gauge sent, not yet acknowledged
 *   arrears_outbox_dead_letters_messages{outbox} gauge  refused for good by the peer
 *   arrears_store_map_used_bytes               gauge    the LMDB map up to its last page in
 *                                                       use (the high-water mark)
 *   arrears_store_map_size_bytes               gauge    the map's current size
 *   arrears_apply_duration_seconds             histogram one batch's write transaction
 *   arrears_query_duration_seconds             histogram one query's answer
 *   arrears_sweep_duration_seconds             histogram the service's periodic work
 *                                                       (staging: a daily-run chunk)
 *   arrears_uptime_seconds                     gauge
 *   arrears_clock_milliseconds                 gauge    the service's clock (simulated or wall)
 *   arrears_config_reloads_total{outcome}      counter  SIGHUP config reloads: ok, failed
 *   arrears_log_lines_dropped_total            counter  log lines a full pipe swallowed
 *   worker:
 *   arrears_pulls_total                        counter  pull calls to the broker
 *   arrears_tasks_pulled_total                 counter  tasks leased by those pulls
 *   arrears_deliveries_total{channel,outcome}  counter  delivered, failed (sms, email, ...)
 *   arrears_delivery_duration_seconds          histogram one delivery through its channel
 *
 * Thread safety: the HTTP thread renders while the service thread updates; one mutex
 * guards the series (an update is a few stores under an uncontended lock). Series are
 * registered up front or when first needed (a reject code first seen), never removed.
 * Limits: METRICS_SERIES_MAX series, METRICS_FAMILIES_MAX names, names and label values
 * of at most METRICS_NAME_MAX bytes, METRICS_LABELS_MAX labels besides service. */
#ifndef ARREARS_METRICS_H
#define ARREARS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    METRICS_OK = 0,
    METRICS_EFULL = -31101,     /* METRICS_SERIES_MAX or METRICS_FAMILIES_MAX reached */
    METRICS_EINVALID = -31102,  /* a name or label outside [a-zA-Z_][a-zA-Z0-9_]*, too
                                   long, or a name reused with another kind or help */
    METRICS_EADDRESS = -31103,  /* a listen address that is not "IPv4:port" or "[IPv6]:port" */
    METRICS_EHTTP = -31104,     /* the HTTP server did not start (address in use, ...) */
    METRICS_ENOMEM = -31105,
};

#define METRICS_SERIES_MAX 256
#define METRICS_FAMILIES_MAX 64
#define METRICS_NAME_MAX 64
#define METRICS_LABELS_MAX 2
#define METRICS_ADDRESS_MAX 64
/* Histogram bucket upper bounds, in microseconds (rendered in seconds): 100 us to 10 s. */
#define METRICS_BUCKETS 16
#define METRICS_BUCKET_BOUNDS_US                                                            \
    {100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, \
     2500000, 5000000, 10000000}

typedef enum { METRICS_COUNTER, METRICS_GAUGE, METRICS_HISTOGRAM } metrics_kind_t;

typedef struct {
    const char *name;
    const char *value;
} metrics_label_t;

typedef struct metrics metrics_t;

/* service: the value of every series' service label. NULL when out of memory or the
 * name is too long. */
metrics_t *metrics_new(const char *service);
/* Stops the HTTP server (if serving) and frees everything. */
void metrics_destroy(metrics_t **self_p);

/* Registers a series of family `name` with up to METRICS_LABELS_MAX labels; *id is what
 * the update functions take. Registering the same name and labels again gives the same
 * id. Call from one thread (the service's). */
int metrics_add(metrics_t *self, metrics_kind_t kind, const char *name, const char *help,
                const metrics_label_t *labels, size_t label_count, int *id);

/* Updates, from any thread. The id must be of the right kind (asserted). */
void metrics_inc(metrics_t *self, int id, uint64_t n);
/* A counter mirrored from a module's own running total (sender, receiver stats). */
void metrics_counter_set(metrics_t *self, int id, uint64_t total);
void metrics_gauge_set(metrics_t *self, int id, int64_t value);
void metrics_observe_us(metrics_t *self, int id, int64_t elapsed_us);

/* The whole text exposition, NUL-terminated, malloc'd (the caller frees); NULL when
 * out of memory. */
char *metrics_render(metrics_t *self, size_t *len);

/* The service loop: alive at each step, and whether it can take traffic now. */
void metrics_beat(metrics_t *self, bool ready);
/* The loop ended: /healthz and /readyz answer 503 from now on. */
void metrics_stopping(metrics_t *self);

/* Checks "127.0.0.1:9101" or "[::1]:9101" (port 0 allowed); METRICS_EADDRESS if not. */
int metrics_address_check(const char *address);
/* Serves on address; beat_stale_ms: the longest a step may go without a beat while
 * alive. *port: the port bound (the one asked for, or the one chosen for port 0). */
int metrics_serve(metrics_t *self, const char *address, int64_t beat_stale_ms, int *port);

/* The series every process serves: uptime, config reloads by outcome, dropped log lines. */
typedef struct {
    int uptime, reload_ok, reload_failed, log_dropped;
    int64_t started_us;
} metrics_process_t;
int metrics_process_add(metrics_t *self, metrics_process_t *p);
/* From the service thread, after a step. */
void metrics_process_publish(metrics_t *self, const metrics_process_t *p);
void metrics_process_reloaded(metrics_t *self, const metrics_process_t *p, bool ok);

/* CLOCK_MONOTONIC in microseconds: what latencies are measured with. */
int64_t metrics_now_us(void);

const char *metrics_strerror(int code);

#endif
