/* svcconf: the part of every service's configuration file that is the same for all of
 * them — where its store lives and how durable it is, its keys, its log level, and the
 * limits of its delivery machinery — read once, range-checked, errors as file:line.
 *
 *   data_dir = "var/intake";              # relative paths: from the config file's folder
 *   durability = "durable";               # or "relaxed" (MDB_NOSYNC: a crash may lose
 *                                         #  the last commits; for tests and demos only)
 *   log_level = "info";                   # debug, info, warn, error (SIGHUP applies a new one)
 *   metrics = { listen = "127.0.0.1:9101"; };   # Prometheus, /healthz, /readyz (metrics.h);
 *                                         #  absent: not served
 *   keys = { own = "keys/intake.key"; allowed = "keys/allowed.conf"; };
 *   limits = {
 *     max_message_bytes = 1048576;  batch_max = 1000;  outbox_max_unacked = 100000;
 *     window = 1000;  resend_timeout_ms = 2000;  retain_days = 7;
 *     map_size_mb = 64;  map_max_mb = 16384;  queue_max_messages = 100000;
 *   };
 *   clock = { ...; driven = true; };     # the service's own clock setting (svcconf_clock);
 *                                         #  driven: it sends only in its turn (svcnet.h)
 */
#ifndef ARREARS_SVCCONF_H
#define ARREARS_SVCCONF_H

#include <stdbool.h>

#include "conf.h"
#include "link.h"
#include "log.h"
#include "metrics.h"
#include "outbox.h"
#include "receiver.h"
#include "sender.h"
#include "store.h"

#define SVCCONF_PATH_MAX 512

typedef struct {
    char data_dir[SVCCONF_PATH_MAX];
    char key_path[SVCCONF_PATH_MAX];
    char allowed_path[SVCCONF_PATH_MAX];
    log_level_t log_level;
    store_options_t store;
    link_options_t link;
    receiver_limits_t receiver;
    sender_limits_t sender;
    outbox_limits_t outbox;
    char metrics_listen[METRICS_ADDRESS_MAX];   /* "": no metrics endpoint */
    bool driven;                 /* clock.driven: a simulation driver gives it its turns */
} svcconf_t;

/* Names of the top-level settings svcconf reads, for a service's own unknown-key check. */
extern const char *const svcconf_keys[];

int svcconf_load(const conf_t *conf, svcconf_t *out, char *err, size_t err_len);
/* `metrics = { listen = "host:port"; }` (also for a process without the rest of svcconf,
 * the outreach worker); listen "" when absent. */
int svcconf_metrics(const conf_t *conf, char listen[METRICS_ADDRESS_MAX], char *err,
                    size_t err_len);

/* A SIGHUP configuration reload's account: the settings it applied and those that
 * differ in the new file but cannot change without a restart (comma-separated). */
#define SVCCONF_NOTE_MAX 256
typedef struct {
    char applied[SVCCONF_NOTE_MAX];
    char ignored[SVCCONF_NOTE_MAX];
    log_level_t log_level;   /* in force after the reload */
} svcconf_reload_t;

/* The common part: the log level of *current becomes fresh's (log_open(service, 2, ...),
 * as every service opens its log); the store, keys paths, limits and metrics stay, and
 * those that differ are noted as ignored. */
void svcconf_reload(svcconf_t *current, const svcconf_t *fresh, const char *service,
                    svcconf_reload_t *r);
/* Notes setting as ignored when its old and new values differ (endpoints, paths). */
void svcconf_reload_differs(svcconf_reload_t *r, const char *setting, const char *old_value,
                            const char *new_value);
/* Adds name to a list of r (r->applied or r->ignored). */
void svcconf_reload_note(char list[SVCCONF_NOTE_MAX], const char *name);
/* "log_level=debug applied=log_level,strategy ignored=listen others=next_start" into msg
 * (svcloop.h). */
void svcconf_reload_message(const svcconf_reload_t *r, char *msg, size_t len);

/* A path setting, resolved against the config file's folder when relative. */
int svcconf_path(const conf_t *conf, const char *setting, const char *dflt,
                 char out[SVCCONF_PATH_MAX], char *err, size_t err_len);

/* The command line every service takes: `SERVICE [run|dump] --config FILE`. true with
 * *command ("run" or "dump") and *config_path; false after printing the usage line. */
bool svcconf_command_line(int argc, char **argv, const char *service, const char **command,
                          const char **config_path);

/* A required ZeroMQ endpoint setting. */
int svcconf_endpoint(const conf_t *conf, const char *setting, char out[LINK_ENDPOINT_MAX],
                     char *err, size_t err_len);

/* A peer this service sends to: `name = { endpoint = "..."; public_key = "..."; };`. */
int svcconf_peer(const conf_t *conf, const char *name, char endpoint[LINK_ENDPOINT_MAX],
                 char public_path[SVCCONF_PATH_MAX], char *err, size_t err_len);

/* `clock = { kind = "wall"; }` or `{ kind = "simulated"; start = "2026-01-01"; }`
 * (DESIGN.md "Time"); *start_ms is the simulated clock's first instant (00:00 UTC).
 * `driven = true;` (simulated only; svcconf_load reads it): the service sends only in
 * the turns a simulation driver gives it, as `arrears simulate` does (svcnet.h). */
int svcconf_clock(const conf_t *conf, bool *simulated, int64_t *start_ms, char *err,
                  size_t err_len);

/* A required list of products by their proto Product names in lower case
 * ("online_loan", "credit_card", "instalment_loan", "bnpl") at path under base, as a
 * mask of bits (1 << value). Used wherever a service serves some products only. */
int svcconf_products_at(const conf_t *conf, const config_setting_t *base, const char *path,
                        uint32_t *mask, char *err, size_t err_len);

#endif
