/* config: the legal service's configuration file — the common service part (svcconf.h)
 * plus:
 *
 *   listen = "tcp://0.0.0.0:7404";       # staging, assignees and operators connect here
 *   staging = { endpoint = "..."; public_key = "keys/staging.pub"; };    # case status
 *     # or, with staging in shards (shards.h), one group per shard in shard order:
 *     # staging = ( { endpoint = "..."; public_key = "keys/staging.pub"; principal = "staging"; },
 *     #             { endpoint = "..."; public_key = "keys/staging-1.pub"; principal = "staging-1"; } );
 *     # a case's updates go back to the shard that referred it, known by the principal
 *     # its key has in the keys file (role "service"); a referral or notice from a
 *     # principal not listed here is refused. The list may grow, never shrink or
 *     # reorder.
 *   outreach = { endpoint = "..."; public_key = "keys/outreach.pub"; };  # assignments
 *   limitation = "limitation.conf";      # the jurisdiction file staging uses too
 *   clock = { kind = "wall"; };          # or { kind = "simulated"; start = "2026-01-01"; }
 *   keys = { ...; secret = "keys/legal.secret"; };   # at-rest key: referrals, case files
 *   create_secret = false;
 *   legal = {
 *     # Per currency: the balance floor below which no case is opened, and the balance
 *     # from which a case goes to a law firm first (below it, agencies only).
 *     currencies = ( { currency = "CNY"; floor_minor = 100000; firm_from_minor = 2000000; } );
 *     assignees = (
 *       { principal = "firm-a"; kind = "firm"; regions = ["CN"];
 *         products = ["online_loan", "instalment_loan"]; capacity = 200;
 *         commission_bps = 0; accept_deadline_days = 5; recall_after_days = 0; },
 *       { principal = "agency-b"; kind = "agency"; regions = ["CN-31", "CN-32"];
 *         products = ["online_loan", "credit_card", "bnpl"]; capacity = 1000;
 *         commission_bps = 1800; accept_deadline_days = 3; recall_after_days = 90; }
 *     );
 *     sweep_every_ms = 1000;             # deadlines, recalls and waiting cases checked
 *   };
 *
 * Every assignee's principal must also be in the keys file (role "firm" or "agency")
 * to connect; an assignee listed here but not there is simply never heard from. */
#ifndef ARREARS_LEGAL_CONFIG_H
#define ARREARS_LEGAL_CONFIG_H

#include "assign.h"
#include "eligibility.h"
#include "shards.h"
#include "svcconf.h"

typedef struct {
    char currency[4];
    int64_t firm_from_minor;
} legal_routing_t;

typedef struct {
    svcconf_t svc;
    char listen[LINK_ENDPOINT_MAX];
    shards_t staging;                    /* not read by legal_config_parse */
    char outreach_endpoint[LINK_ENDPOINT_MAX];
    char outreach_public[SVCCONF_PATH_MAX];
    char limitation_path[SVCCONF_PATH_MAX];
    char secret_path[SVCCONF_PATH_MAX];
    bool create_secret;
    bool simulated;
    int64_t simulated_start_ms;
    int64_t sweep_every_ms;
    eligibility_policy_t eligibility;    /* .limitation is set when the file is loaded */
    legal_routing_t routing[ELIGIBILITY_MAX_FLOORS];   /* as many as eligibility floors */
    size_t assignee_count;
    assignee_t assignees[ASSIGN_MAX_ASSIGNEES];
} legal_config_t;

int legal_config_load(const char *path, legal_config_t *out, char *err, size_t err_len);
/* The same from text (tests); name_for_errors as in conf.h. Paths stay unresolved. */
int legal_config_parse(const char *text, const char *name_for_errors, legal_config_t *out,
                       char *err, size_t err_len);

/* The threshold for law firms in a currency; INT64_MAX (agencies only) when unlisted. */
int64_t legal_firm_from_minor(const legal_config_t *cfg, const char *currency);

#endif
