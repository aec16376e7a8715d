/* strategy: the collection strategy file, turned into rules staging follows.
 *
 * The strategy is configuration, not code (DESIGN.md section 3): one libconfig file
 * holds the whole collection policy of a deployment —
 *   currency      the unit of every *_minor amount in the file
 *   stages        DPD ranges (stage.h)
 *   scorecard     risk score points (score.h)
 *   segments      by score, balance and product (score.h)
 *   arrangements  promise, plan, deferral and settlement policy (arrangement.h)
 *   arms          champion/challenger arms, each with ordered action lists per stage
 *                 and segment
 *   escalation    when to refer to legal and when to list for sale
 * services/staging/strategy.example.conf documents every setting. A bad file is refused
 * at load as a whole, with "file:line: why", so a strategy never half-applies.
 *
 * Arms. Each account is in exactly one arm, chosen by a stable hash of its key:
 * BLAKE2b (libsodium crypto_generichash, 8-byte digest, no key) of
 *   platform, one NUL byte, account_ref
 * read as a little-endian uint64, modulo 10000, gives the account's bucket; arms take
 * consecutive ranges of buckets by their share_bps in file order (shares add up to
 * 10000). The same key lands in the same arm in every process and run for as long as
 * the arms' order and shares stay the same; changing a share moves only the accounts
 * at the boundaries it shifts.
 *
 * Action lists. The first arm is the champion. An arm's list for (stage, segment) is
 * used when it has one, else its list for the stage without a segment; a challenger that
 * has no list at all for a stage works that stage as the champion does, so a challenger
 * states only what it changes. A stage without any list has no actions (an empty list).
 *
 * Pure once loaded: lookups are reads of an immutable strategy_t, safe from any thread. */
#ifndef ARREARS_STAGING_STRATEGY_H
#define ARREARS_STAGING_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arrangement.h"
#include "conf.h"
#include "score.h"
#include "stage.h"

enum {
    STRATEGY_OK = 0,
    STRATEGY_EINVALID = -32801,   /* the file is refused (err: file:line and why) */
    STRATEGY_EIO = -32802,        /* the file cannot be read */
    STRATEGY_ENOMEM = -32803,
};

#define STRATEGY_MAX_ARMS 8
#define STRATEGY_MAX_LISTS 64          /* action lists per arm */
#define STRATEGY_MAX_ACTIONS 8         /* actions per list */
#define STRATEGY_NAME_MAX 32           /* arm names, bytes without NUL */
#define STRATEGY_TEMPLATE_MAX 64       /* template ids, bytes without NUL */
#define STRATEGY_MAX_CADENCE_DAYS 365
#define STRATEGY_MAX_PRIORITY 100
#define STRATEGY_SHARES_TOTAL_BPS 10000
#define STRATEGY_ANY_SEGMENT (-1)

typedef enum {
    CHANNEL_SMS = 0,
    CHANNEL_EMAIL,
    CHANNEL_LETTER,
    CHANNEL_CALL,
    CHANNEL_VISIT,
    CHANNEL_COUNT
} strategy_channel_t;

typedef struct {
    strategy_channel_t channel;
    char template_id[STRATEGY_TEMPLATE_MAX + 1];
    int32_t after_days;     /* first due this many days after entering the stage */
    int32_t cadence_days;   /* then again every cadence_days while in the stage (>= 1) */
    int32_t priority;       /* for outreach's queue: 1 is the most urgent */
    bool mentions_legal;    /* the template mentions legal action: never if time-barred */
} strategy_action_t;

/* An ordered list: on a day when several actions are due they are requested in this
 * order. */
typedef struct {
    stage_t stage;
    int segment;            /* STRATEGY_ANY_SEGMENT: the stage's list for other segments */
    uint32_t count;
    strategy_action_t actions[STRATEGY_MAX_ACTIONS];
} strategy_list_t;

typedef enum {
    ESCALATION_NONE = 0,
    ESCALATION_LEGAL,   /* refer to legal (firm or agency) */
    ESCALATION_SALE,    /* list for sale */
} escalation_t;

/* What strategy_escalation needs to know about one account. */
typedef struct {
    stage_t stage;
    int32_t dpd;
    int64_t balance_minor;
    uint32_t broken_promises;   /* arrangement_broken_count */
    bool time_barred;           /* from the shared limitation module */
    uint32_t hold_bits;         /* holds_t.bits */
    bool may_refer_to_legal;    /* the platform's Mandate */
    bool may_sell;
    int32_t days_since_legal_return;   /* since legal last gave it back; INT32_MAX never */
    int32_t days_since_sale_return;    /* since sale last gave it back; INT32_MAX never */
} escalation_facts_t;

typedef struct strategy strategy_t;

/* Loads and checks a strategy file. STRATEGY_OK and *strategy_p, or an error with err
 * "file:line: why" (STRATEGY_EIO: "file: cannot open: ..."). */
int strategy_load(const char *path, strategy_t **strategy_p, char *err, size_t err_len);
/* The same from an already parsed conf (tests, embedded defaults). */
int strategy_load_conf(const conf_t *conf, strategy_t **strategy_p, char *err,
                       size_t err_len);
void strategy_destroy(strategy_t **strategy_p);

const char *strategy_currency(const strategy_t *strategy);
const stage_ranges_t *strategy_stage_ranges(const strategy_t *strategy);
const score_card_t *strategy_scorecard(const strategy_t *strategy);
const segments_t *strategy_segments(const strategy_t *strategy);
const arrangement_policy_t *strategy_arrangement_policy(const strategy_t *strategy);

unsigned strategy_arm_count(const strategy_t *strategy);
const char *strategy_arm_name(const strategy_t *strategy, unsigned arm);
int64_t strategy_arm_share_bps(const strategy_t *strategy, unsigned arm);

/* The account's bucket, 0 .. 9999 (see the top of this file). */
uint32_t strategy_bucket_for(const char *platform, const char *account_ref);
/* The account's arm, 0 .. strategy_arm_count() - 1. */
unsigned strategy_arm_for(const strategy_t *strategy, const char *platform,
                          const char *account_ref);

/* The ordered actions for an account in stage and segment, worked by arm. Always
 * STRATEGY_OK; *list may have count 0 (nothing to do). The list lives as long as the
 * strategy. */
int strategy_actions_for(const strategy_t *strategy, stage_t stage, int segment,
                         unsigned arm, const strategy_list_t **list);

/* Whether to escalate the account now. Legal referral needs the legal rule on, a
 * delinquent DPD stage, the thresholds (DPD, balance, broken promises) met, the mandate,
 * not time-barred and no bankruptcy, deceased, dispute or litigation hold. Sale listing
 * needs the sale rule on, charged_off, its thresholds, the mandate and no bankruptcy,
 * deceased, dispute or litigation hold. Each waits its retry_after_return_days after
 * its service last gave the account back. When both qualify, the file's `prefer` decides
 * (legal by default). reason (may be NULL) says why, or why not. Always STRATEGY_OK. */
int strategy_escalation(const strategy_t *strategy, const escalation_facts_t *facts,
                        escalation_t *decision, char *reason, size_t reason_len);

const char *strategy_channel_name(strategy_channel_t channel);
const char *escalation_name(escalation_t escalation);
const char *strategy_strerror(int code);

#endif
