/* broker_config: the outreach broker's configuration file — the common service part
 * (svcconf.h) plus:
 *
 *   listen = "tcp://0.0.0.0:7403";       # staging, workers, agents and operators connect here
 *   staging = { endpoint = "..."; public_key = "keys/staging.pub"; };   # outcomes go there
 *     # or, with staging in shards (shards.h), one group per shard in shard order:
 *     # staging = ( { endpoint = "..."; public_key = "keys/staging.pub"; principal = "staging"; },
 *     #             { endpoint = "..."; public_key = "keys/staging-1.pub"; principal = "staging-1"; } );
 *     # each task's outcomes go back to the shard that sent its request, known by the
 *     # principal its key has in the keys file (role "service"); a request from a
 *     # principal not listed here is refused. The list may grow, never shrink or reorder.
 *   profiles = "profiles.conf";          # jurisdiction profiles (profile.h)
 *   templates = "templates.conf";        # the vetted template catalogue (template.h)
 *   clock = { kind = "wall"; };          # or { kind = "simulated"; start = "2026-01-01"; }
 *   keys = { ...; secret = "keys/outreach.secret"; };   # at-rest key: tasks hold contact points
 *   create_secret = false;
 *   metrics = { listen = "127.0.0.1:9103"; };   # optional (metrics.h)
 *   broker = { lease_ms = 60000; pull_scan_max = 256; ledger_attempts_max = 256;
 *              decisions_kept = 8; account_tasks_max = 256; };
 */
#ifndef ARREARS_OUTREACH_BROKER_CONFIG_H
#define ARREARS_OUTREACH_BROKER_CONFIG_H

#include "broker.h"
#include "shards.h"
#include "svcconf.h"

typedef struct {
    svcconf_t svc;
    char listen[LINK_ENDPOINT_MAX];
    shards_t staging;
    char profiles_path[SVCCONF_PATH_MAX];
    char templates_path[SVCCONF_PATH_MAX];
    char secret_path[SVCCONF_PATH_MAX];
    bool create_secret;
    bool simulated;
    int64_t simulated_start_ms;
    broker_limits_t limits;
} broker_config_t;

int broker_config_load(const char *path, broker_config_t *out, char *err, size_t err_len);

#endif
