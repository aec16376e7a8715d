/* config: staging's configuration file — the common service part (svcconf.h) plus:
 *
 *   listen = "tcp://0.0.0.0:7402";          # intake, outreach, legal, sale, operators connect here
 *   strategy = "strategy.conf";             # the collection strategy (strategy.h), or one
 *                                           # per currency: ["cny.conf", "usd.conf"]
 *   limitation = "limitation.conf";         # the jurisdictions' limitation rules (limitation.h)
 *   clock = { kind = "wall"; };             # or { kind = "simulated"; start = "2026-01-01"; }
 *   outreach = { endpoint = "..."; public_key = "keys/outreach.pub"; };
 *   legal    = { endpoint = "..."; public_key = "keys/legal.pub"; };
 *   sale     = { endpoint = "..."; public_key = "keys/sale.pub"; };
 *   intake   = { endpoint = "..."; public_key = "keys/intake.pub"; };
 *   keys = { ...; secret = "keys/staging.secret"; };   # at-rest key for borrowers
 *   create_secret = false;
 *   metrics = { listen = "127.0.0.1:9102"; };   # optional (metrics.h)
 *   book = {
 *     waterfall = "fees,penalty,interest,principal";  # payment order, a permutation
 *     sweep = "by_instalment";              # or "by_component" (book.h)
 *     default_cap_bps = 360000;             # interest + penalty a year, when a contract has none
 *     freeze_after_charge_off = true;
 *     complaint_response_days = 15;  dispute_response_days = 30;
 *   };
 *   daily = { chunk_accounts = 5000; every_ms = 3600000;
 *             catchup_settle_ms = 3000; };   # after a restore: no replay for this long
 *                                           # before the held ones are applied (catchup.h)
 *   retention = {                           # optional (retention.h); without it nothing
 *     default_days = 2190;                  # is ever erased. Days a closed account keeps
 *     jurisdictions = (                     # its personal data, 1 .. 36500, per country
 *       { country = "GB"; days = 2190; },   # of the account's jurisdiction ("US-NY" falls
 *       { country = "CN"; days = 1826; },   # back to "US", then to the default). Refused
 *       { country = "US"; days = 2557; }    # with file:line when malformed: unknown keys,
 *     );                                    # duplicates, days out of range, a group with
 *   };                                      # neither a default nor a country.
 *   (retention.example.conf: the examples, which are not legal advice.)
 */
#ifndef ARREARS_STAGING_CONFIG_H
#define ARREARS_STAGING_CONFIG_H

#include <stdbool.h>

#include "account.h"
#include "retention.h"
#include "svcconf.h"

/* One collection strategy per currency, at most this many (strategy.h). */
#define STAGING_MAX_STRATEGIES 16

typedef struct {
    char endpoint[LINK_ENDPOINT_MAX];
    char public_path[SVCCONF_PATH_MAX];
} staging_peer_t;

typedef struct {
    svcconf_t svc;
    char listen[LINK_ENDPOINT_MAX];
    char strategy_paths[STAGING_MAX_STRATEGIES][SVCCONF_PATH_MAX];
    size_t strategy_count;
    char limitation_path[SVCCONF_PATH_MAX];
    bool simulated;
    int64_t simulated_start_ms;
    staging_peer_t peers[4];   /* outreach, legal, sale, intake: staging_outbox_t order */
    char secret_path[SVCCONF_PATH_MAX];
    bool create_secret;
    book_waterfall_t waterfall;
    int64_t default_cap_bps;
    bool freeze_after_charge_off;
    int32_t complaint_response_days, dispute_response_days;
    int64_t chunk_accounts;
    int64_t run_every_ms;
    int64_t catchup_settle_ms;
    retention_rules_t retention;   /* none configured: nothing is ever erased */
} staging_config_t;

int staging_config_load(const char *path, staging_config_t *out, char *err, size_t err_len);

#endif
