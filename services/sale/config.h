/* config: the sale service's configuration file — the common service part (svcconf.h)
 * plus:
 *
 *   listen = "tcp://0.0.0.0:7405";       # staging, buyers and operators connect here
 *   staging = { endpoint = "..."; public_key = "keys/staging.pub"; };   # sale results
 *     # or, with staging in shards (shards.h), one group per shard in shard order:
 *     # staging = ( { endpoint = "..."; public_key = "keys/staging.pub"; principal = "staging"; },
 *     #             { endpoint = "..."; public_key = "keys/staging-1.pub"; principal = "staging-1"; } );
 *     # an account's result goes back to the shard that listed it, known by the
 *     # principal its key has in the keys file (role "service"); a listing or notice
 *     # from a principal not listed here is refused. The list may grow, never shrink or
 *     # reorder.
 *   clock = { kind = "wall"; };          # or { kind = "simulated"; start = "2026-01-01"; }
 *   keys = { ...; secret = "keys/sale.secret"; };   # at-rest key: listings, pseudonyms
 *   create_secret = false;
 *   sale = {
 *     min_accounts = 50; max_accounts = 5000;        # a portfolio's size
 *     dpd_bands = ( { name = "d90-179"; from_dpd = 90; to_dpd = 180; }, ... );
 *     balance_bands = ( { name = "small"; currency = "CNY"; from_minor = 1L;
 *                         to_minor = 500000L; }, ... );   # to_* absent: no upper end
 *     curves = { version = "2026-q4"; margin_bps = 1500;
 *                bands = ( { balance_band = "small";
 *                            points = ( { from_dpd = 0; recovery_bps = 1800; }, ... ); } ); };
 *     plans = (
 *       { name = "cn-flow"; kind = "forward_flow"; currency = "CNY";
 *         products = ["online_loan", "bnpl"]; buyers = ["buyer-a", "buyer-b"];
 *         first_open = "2026-03-01"; cycle_days = 30; bidding_days = 7;
 *         min_step_minor = 10000L; put_back_days = 30; relists = 1; }
 *     );
 *     sweep_every_ms = 1000;
 *   };
 *
 * A listing goes to the first plan whose currency and products match it; a listing no
 * plan takes is withdrawn with that reason. A forward-flow plan opens a cycle every
 * cycle_days from first_open (absent: the service's first sweep); a one-off plan opens
 * once, at first_open (required). relists: how many more times an unsold portfolio's
 * accounts are offered before they go back to staging. Every buyer must also be in the
 * keys file (role "buyer") to connect. */
#ifndef ARREARS_SALE_CONFIG_H
#define ARREARS_SALE_CONFIG_H

#include "inbox.h"
#include "portfolio.h"
#include "shards.h"
#include "svcconf.h"
#include "valuation.h"

#define SALE_MAX_PLANS 32
#define SALE_MAX_BUYERS 32
#define SALE_PLAN_NAME_MAX 24
#define SALE_MAX_DAYS 3650
#define SALE_MAX_RELISTS 12

typedef struct {
    char name[SALE_PLAN_NAME_MAX + 1];
    int kind;                       /* proto SaleKind */
    char currency[4];
    uint32_t products;              /* bit (1 << proto Product) per product taken */
    int64_t first_open_ms;          /* -1: the first sweep (forward flow only) */
    int32_t cycle_days;             /* forward flow: 1 ..; one-off: 0 */
    int32_t bidding_days;
    int64_t min_step_minor;
    int32_t put_back_days;
    uint32_t relists;
    size_t buyer_count;
    char buyers[SALE_MAX_BUYERS][INBOX_PRINCIPAL_MAX + 1];
} sale_plan_t;

typedef struct {
    svcconf_t svc;
    char listen[LINK_ENDPOINT_MAX];
    shards_t staging;               /* not read by sale_config_parse */
    char secret_path[SVCCONF_PATH_MAX];
    bool create_secret;
    bool simulated;
    int64_t simulated_start_ms;
    int64_t sweep_every_ms;
    cuts_t cuts;
    curves_t curves;
    size_t plan_count;
    sale_plan_t plans[SALE_MAX_PLANS];
} sale_config_t;

int sale_config_load(const char *path, sale_config_t *out, char *err, size_t err_len);
/* The same from text (tests); name_for_errors as in conf.h. Paths stay unresolved. */
int sale_config_parse(const char *text, const char *name_for_errors, sale_config_t *out,
                      char *err, size_t err_len);

/* The plan that takes a listing of this product and currency, NULL when none. */
const sale_plan_t *sale_plan_for(const sale_config_t *cfg, int product, const char *currency);
const sale_plan_t *sale_plan_named(const sale_config_t *cfg, const char *name);
bool sale_plan_invites(const sale_plan_t *plan, const char *buyer);

#endif
