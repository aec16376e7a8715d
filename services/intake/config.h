/* config: intake's configuration file — the common service part (svcconf.h) plus:
 *
 *   listen = "tcp://0.0.0.0:7401";        # platforms and staging connect here (CURVE)
 *   staging = { endpoint = "tcp://127.0.0.1:7402"; public_key = "keys/staging.pub"; };
 *                                         # or a list, one per shard (shards.h): each new
 *                                         #  account goes to its person's shard
 *   keys = { ...; secret = "keys/intake.secret"; };   # at-rest key for personal data
 *   create_secret = false;                # true: make the at-rest key at first start
 *   feed = { retain_events = 1000000; retain_days = 90; prune_every_ms = 10000; };
 *   validation = { max_instalments = 600; max_contact_points = 8; future_slack_ms = 300000; };
 */
#ifndef ARREARS_INTAKE_CONFIG_H
#define ARREARS_INTAKE_CONFIG_H

#include <stdbool.h>

#include "feed.h"
#include "shards.h"
#include "svcconf.h"
#include "validate.h"

typedef struct {
    svcconf_t svc;
    char listen[LINK_ENDPOINT_MAX];
    shards_t staging;
    char secret_path[SVCCONF_PATH_MAX];
    bool create_secret;
    feed_limits_t feed;
    int64_t feed_prune_every_ms;
    validate_limits_t validate;
} intake_config_t;

int intake_config_load(const char *path, intake_config_t *out, char *err, size_t err_len);

#endif
