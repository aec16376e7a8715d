/* strategy: loads the collection strategy file, assigns arms by a stable hash, looks up
 * action lists and decides escalation. See strategy.h. */
#include "strategy.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "money.h"

static const char *const channel_names[CHANNEL_COUNT + 1] = {
    [CHANNEL_SMS] = "sms",       [CHANNEL_EMAIL] = "email", [CHANNEL_LETTER] = "letter",
    [CHANNEL_CALL] = "call",     [CHANNEL_VISIT] = "visit", [CHANNEL_COUNT] = NULL,
};

static const char *const escalation_names[] = {
    [ESCALATION_NONE] = "none", [ESCALATION_LEGAL] = "legal", [ESCALATION_SALE] = "sale",
};

typedef struct {
    char name[STRATEGY_NAME_MAX + 1];
    int64_t share_bps;
    uint32_t list_count;
    strategy_list_t lists[STRATEGY_MAX_LISTS];
} arm_t;

typedef struct {
    bool enabled;
    int64_t min_dpd;
    int64_t min_balance_minor;
    int64_t min_broken_promises;
    int64_t retry_after_return_days;   /* wait this long after legal or sale gave it back */
} escalation_rule_t;

struct strategy {
    char currency[4];
    stage_ranges_t ranges;
    score_card_t card;
    segments_t segments;
    arrangement_policy_t policy;
    unsigned arm_count;
    arm_t arms[STRATEGY_MAX_ARMS];
    escalation_rule_t legal, sale;
    escalation_t prefer;   /* when an account qualifies for both */
};

/* An empty list for stages nobody configured: callers just loop over nothing. */
static const strategy_list_t no_actions = {.segment = STRATEGY_ANY_SEGMENT, .count = 0};

const char *strategy_channel_name(strategy_channel_t channel)
{
    return (unsigned)channel < CHANNEL_COUNT ? channel_names[channel] : "unknown";
}

const char *escalation_name(escalation_t escalation)
{
    return (unsigned)escalation <= ESCALATION_SALE ? escalation_names[escalation]
                                                   : "unknown";
}

/* ---------------------------------------------------------------- load helpers */

/* "file:line: why" about setting s; returns STRATEGY_EINVALID. */
#define config_error(conf, s, err, err_len, ...) \
    conf_error_at(conf, s, STRATEGY_EINVALID, err, err_len, __VA_ARGS__)

/* Settings that must be present, checked before their values so a missing one is
 * named rather than defaulted. names is NULL-terminated. */
static int require(const conf_t *conf, const config_setting_t *group, const char *what,
                   const char *const *names, char *err, size_t err_len)
{
    for (int i = 0; names[i]; i++)
        if (!config_setting_get_member(group, names[i]))
            return config_error(conf, group, err, err_len, "%s needs %s", what, names[i]);
    return STRATEGY_OK;
}

/* Names that appear in reports and metric labels. */
static bool is_plain_name(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

static int plain_string(const conf_t *conf, const config_setting_t *group,
                        const char *name, size_t max_len, char *out, char *err,
                        size_t err_len)
{
    const char *value = NULL;
    if (conf_string_at(conf, group, name, NULL, max_len, &value, err, err_len) != CONF_OK)
        return STRATEGY_EINVALID;
    if (!value || !is_plain_name(value))
        return config_error(conf, config_setting_get_member(group, name), err, err_len,
                            "%s must be letters, digits, '_', '-' or '.'", name);
    snprintf(out, max_len + 1, "%s", value);
    return STRATEGY_OK;
}

/* ---------------------------------------------------------------- actions */

static int load_action(const conf_t *conf, const config_setting_t *g,
                       strategy_action_t *action, char *err, size_t err_len)
{
    static const char *const keys[] = {"channel", "template", "after_days", "cadence_days",
                                       "priority", "mentions_legal", NULL};
    static const char *const required[] = {"channel", "template", "cadence_days",
                                           "priority", NULL};
    if (!config_setting_is_group(g))
        return config_error(conf, g, err, err_len,
                            "an action must be a group { channel = ..; template = ..; ... }");
    int channel;
    int64_t after, cadence, priority;
    if (conf_check_keys_at(conf, g, keys, err, err_len)
        || require(conf, g, "an action", required, err, err_len)
        || conf_enum_at(conf, g, "channel", channel_names, 0, &channel, err, err_len)
        || plain_string(conf, g, "template", STRATEGY_TEMPLATE_MAX, action->template_id,
                        err, err_len)
        || conf_int64_at(conf, g, "after_days", 0, 0, STAGE_MAX_DPD, &after, err, err_len)
        || conf_int64_at(conf, g, "cadence_days", 1, 1, STRATEGY_MAX_CADENCE_DAYS,
                         &cadence, err, err_len)
        || conf_int64_at(conf, g, "priority", 1, 1, STRATEGY_MAX_PRIORITY, &priority, err,
                         err_len)
        || conf_bool_at(conf, g, "mentions_legal", false, &action->mentions_legal, err,
                        err_len))
        return STRATEGY_EINVALID;
    action->channel = (strategy_channel_t)channel;
    action->after_days = (int32_t)after;
    action->cadence_days = (int32_t)cadence;
    action->priority = (int32_t)priority;
    return STRATEGY_OK;
}

/* The stage and segment of an action list, refused when terminal or already listed. */
static int load_list_key(const conf_t *conf, const config_setting_t *g,
                         const strategy_t *s, const arm_t *arm, strategy_list_t *list,
                         char *err, size_t err_len)
{
    const char *segment_list[SEGMENT_MAX + 1];
    segment_names(&s->segments, segment_list);
    int stage;
    list->segment = STRATEGY_ANY_SEGMENT;
    if (conf_enum_at(conf, g, "stage", stage_names(), 0, &stage, err, err_len)
        || (config_setting_get_member(g, "segment")
            && conf_enum_at(conf, g, "segment", segment_list, 0, &list->segment, err,
                            err_len)))
        return STRATEGY_EINVALID;
    list->stage = (stage_t)stage;
    if (stage_is_terminal(list->stage))
        return config_error(conf, config_setting_get_member(g, "stage"), err, err_len,
                            "stage %s is terminal: nobody is contacted there",
                            stage_name(list->stage));
    for (uint32_t i = 0; i < arm->list_count; i++)
        if (arm->lists[i].stage == list->stage && arm->lists[i].segment == list->segment)
            return config_error(conf, g, err, err_len,
                                "arm \"%s\" already has an action list for stage %s, "
                                "segment %s",
                                arm->name, stage_name(list->stage),
                                list->segment < 0 ? "(any)"
                                                  : segment_name(&s->segments, list->segment));
    return STRATEGY_OK;
}

static int load_list(const conf_t *conf, const config_setting_t *g, const strategy_t *s,
                     arm_t *arm, char *err, size_t err_len)
{
    static const char *const keys[] = {"stage", "segment", "actions", NULL};
    static const char *const required[] = {"stage", "actions", NULL};
    if (arm->list_count == STRATEGY_MAX_LISTS)
        return config_error(conf, g, err, err_len, "arm \"%s\" has more than %d action lists",
                            arm->name, STRATEGY_MAX_LISTS);
    strategy_list_t *list = &arm->lists[arm->list_count];
    memset(list, 0, sizeof *list);
    if (!config_setting_is_group(g))
        return config_error(conf, g, err, err_len,
                            "an action list must be a group { stage = ..; actions = (..); }");
    if (conf_check_keys_at(conf, g, keys, err, err_len)
        || require(conf, g, "an action list", required, err, err_len)
        || load_list_key(conf, g, s, arm, list, err, err_len))
        return STRATEGY_EINVALID;
    const config_setting_t *actions = config_setting_get_member(g, "actions");
    int length = config_setting_length(actions);
    if (!config_setting_is_list(actions) || length > STRATEGY_MAX_ACTIONS)
        return config_error(conf, actions, err, err_len,
                            "actions must be a list of at most %d action groups",
                            STRATEGY_MAX_ACTIONS);
    for (int i = 0; i < length; i++) {
        const config_setting_t *a = config_setting_get_elem(actions, (unsigned)i);
        if (load_action(conf, a, &list->actions[i], err, err_len) != STRATEGY_OK)
            return STRATEGY_EINVALID;
    }
    list->count = (uint32_t)length;
    arm->list_count++;
    return STRATEGY_OK;
}

/* ---------------------------------------------------------------- arms */

static int load_arm(const conf_t *conf, const config_setting_t *g, strategy_t *s,
                    const config_setting_t **seen, char *err, size_t err_len)
{
    static const char *const keys[] = {"name", "share_bps", "action_lists", NULL};
    static const char *const required[] = {"name", "share_bps", NULL};
    arm_t *arm = &s->arms[s->arm_count];
    memset(arm, 0, sizeof *arm);
    if (!config_setting_is_group(g))
        return config_error(conf, g, err, err_len,
                            "an arm must be a group { name = ..; share_bps = ..; ... }");
    if (conf_check_keys_at(conf, g, keys, err, err_len)
        || require(conf, g, "an arm", required, err, err_len)
        || plain_string(conf, g, "name", STRATEGY_NAME_MAX, arm->name, err, err_len)
        || conf_int64_at(conf, g, "share_bps", 0, 0, STRATEGY_SHARES_TOTAL_BPS,
                         &arm->share_bps, err, err_len))
        return STRATEGY_EINVALID;
    for (unsigned i = 0; i < s->arm_count; i++)
        if (strcmp(s->arms[i].name, arm->name) == 0)
            return config_error(conf, config_setting_get_member(g, "name"), err, err_len,
                                "duplicate arm name \"%s\" (first at line %d)", arm->name,
                                conf_line_of(seen[i]));
    const config_setting_t *lists = config_setting_get_member(g, "action_lists");
    if (lists && !config_setting_is_list(lists))
        return config_error(conf, lists, err, err_len,
                            "action_lists must be a list ( { stage = ..; ... }, ... )");
    int length = lists ? config_setting_length(lists) : 0;
    for (int i = 0; i < length; i++) {
        const config_setting_t *l = config_setting_get_elem(lists, (unsigned)i);
        if (load_list(conf, l, s, arm, err, err_len) != STRATEGY_OK)
            return STRATEGY_EINVALID;
    }
    seen[s->arm_count++] = config_setting_get_member(g, "name");
    return STRATEGY_OK;
}

static int load_arms(const conf_t *conf, strategy_t *s, char *err, size_t err_len)
{
    const config_setting_t *arms = conf_lookup(conf, "arms");
    if (!arms)
        return config_error(conf, conf_lookup(conf, ""), err, err_len,
                            "arms is required: at least the champion arm");
    int length = config_setting_length(arms);
    if (!config_setting_is_list(arms) || length < 1 || length > STRATEGY_MAX_ARMS)
        return config_error(conf, arms, err, err_len,
                            "arms must be a list of 1 to %d arm groups", STRATEGY_MAX_ARMS);
    const config_setting_t *seen[STRATEGY_MAX_ARMS];
    int64_t total = 0;
    for (int i = 0; i < length; i++) {
        const config_setting_t *g = config_setting_get_elem(arms, (unsigned)i);
        if (load_arm(conf, g, s, seen, err, err_len) != STRATEGY_OK)
            return STRATEGY_EINVALID;
        total += s->arms[i].share_bps;
    }
    if (total != STRATEGY_SHARES_TOTAL_BPS)
        return config_error(conf, arms, err, err_len,
                            "arm shares add up to %lld bps; they must add up to %d",
                            (long long)total, STRATEGY_SHARES_TOTAL_BPS);
    return STRATEGY_OK;
}

/* ---------------------------------------------------------------- escalation rules */

static int load_rule(const conf_t *conf, const config_setting_t *root, const char *name,
                     bool with_promises, escalation_rule_t *rule, char *err,
                     size_t err_len)
{
    static const char *const legal_keys[] = {"enabled", "min_dpd", "min_balance_minor",
                                             "min_broken_promises", "retry_after_return_days",
                                             NULL};
    static const char *const sale_keys[] = {"enabled", "min_dpd", "min_balance_minor",
                                            "retry_after_return_days", NULL};
    memset(rule, 0, sizeof *rule);
    const config_setting_t *g = root ? config_setting_get_member(root, name) : NULL;
    if (!g)
        return STRATEGY_OK;   /* a rule not written is a rule not applied */
    if (conf_check_keys_at(conf, g, with_promises ? legal_keys : sale_keys, err, err_len)
        || conf_bool_at(conf, g, "enabled", true, &rule->enabled, err, err_len)
        || conf_int64_at(conf, g, "min_dpd", 0, 0, STAGE_MAX_DPD, &rule->min_dpd, err,
                         err_len)
        || conf_int64_at(conf, g, "min_balance_minor", 0, 0, INT64_MAX,
                         &rule->min_balance_minor, err, err_len)
        || conf_int64_at(conf, g, "min_broken_promises", 0, 0, 1000,
                         &rule->min_broken_promises, err, err_len)
        || conf_int64_at(conf, g, "retry_after_return_days", 30, 1, 3650,
                         &rule->retry_after_return_days, err, err_len))
        return STRATEGY_EINVALID;
    return STRATEGY_OK;
}

static int load_escalation(const conf_t *conf, strategy_t *s, char *err, size_t err_len)
{
    static const char *const keys[] = {"prefer", "legal", "sale", NULL};
    static const char *const prefer_names[] = {"legal", "sale", NULL};
    const config_setting_t *root = conf_lookup(conf, "escalation");
    int prefer = 0;
    if (root && (conf_check_keys_at(conf, root, keys, err, err_len)
                 || conf_enum_at(conf, root, "prefer", prefer_names, 0, &prefer, err,
                                 err_len)))
        return STRATEGY_EINVALID;
    s->prefer = prefer == 0 ? ESCALATION_LEGAL : ESCALATION_SALE;
    if (load_rule(conf, root, "legal", true, &s->legal, err, err_len)
        || load_rule(conf, root, "sale", false, &s->sale, err, err_len))
        return STRATEGY_EINVALID;
    return STRATEGY_OK;
}

/* ---------------------------------------------------------------- load */

static int load_currency(const conf_t *conf, strategy_t *s, char *err, size_t err_len)
{
    const char *currency = NULL;
    if (conf_string_at(conf, NULL, "currency", NULL, 3, &currency, err, err_len))
        return STRATEGY_EINVALID;
    if (!currency)
        return config_error(conf, conf_lookup(conf, ""), err, err_len,
                            "currency is required: every *_minor amount in the file is in "
                            "its minor units");
    if (!money_currency_known(currency))
        return config_error(conf, conf_lookup(conf, "currency"), err, err_len,
                            "currency \"%s\" is not an ISO 4217 currency with a minor unit",
                            currency);
    snprintf(s->currency, sizeof s->currency, "%s", currency);
    return STRATEGY_OK;
}

/* Each part's loader already wrote "file:line: why" into err. */
static int load_parts(const conf_t *conf, strategy_t *s, char *err, size_t err_len)
{
    static const char *const keys[] = {"currency", "stages", "scorecard", "segments",
                                       "arrangements", "arms", "escalation", NULL};
    if (conf_check_keys(conf, NULL, keys, err, err_len) != CONF_OK
        || load_currency(conf, s, err, err_len) != STRATEGY_OK
        || stage_ranges_load(conf, "stages", &s->ranges, err, err_len) != STAGE_OK
        || score_card_load(conf, "scorecard", &s->card, err, err_len) != SCORE_OK
        || segments_load(conf, "segments", &s->segments, err, err_len) != SCORE_OK
        || arrangement_policy_load(conf, "arrangements", &s->segments, &s->policy, err,
                                   err_len) != ARRANGEMENT_OK
        || load_arms(conf, s, err, err_len) != STRATEGY_OK
        || load_escalation(conf, s, err, err_len) != STRATEGY_OK)
        return STRATEGY_EINVALID;
    return STRATEGY_OK;
}

int strategy_load_conf(const conf_t *conf, strategy_t **strategy_p, char *err,
                       size_t err_len)
{
    assert(conf && strategy_p);
    *strategy_p = NULL;
    strategy_t *s = calloc(1, sizeof *s);
    if (!s) {
        if (err && err_len)
            snprintf(err, err_len, "%s: out of memory", conf_name(conf));
        return STRATEGY_ENOMEM;
    }
    int rc = load_parts(conf, s, err, err_len);
    if (rc != STRATEGY_OK) {
        free(s);
        return rc;
    }
    *strategy_p = s;
    return STRATEGY_OK;
}

int strategy_load(const char *path, strategy_t **strategy_p, char *err, size_t err_len)
{
    assert(path && strategy_p);
    *strategy_p = NULL;
    int code = CONF_OK;
    conf_t *conf = conf_load_code(path, &code, err, err_len);
    if (!conf)
        return code == CONF_EIO ? STRATEGY_EIO : STRATEGY_EINVALID;
    int rc = strategy_load_conf(conf, strategy_p, err, err_len);
    conf_destroy(&conf);
    return rc;
}

void strategy_destroy(strategy_t **strategy_p)
{
    assert(strategy_p);
    free(*strategy_p);
    *strategy_p = NULL;
}

/* ---------------------------------------------------------------- accessors */

const char *strategy_currency(const strategy_t *s)
{
    assert(s);
    return s->currency;
}

const stage_ranges_t *strategy_stage_ranges(const strategy_t *s)
{
    assert(s);
    return &s->ranges;
}

const score_card_t *strategy_scorecard(const strategy_t *s)
{
    assert(s);
    return &s->card;
}

const segments_t *strategy_segments(const strategy_t *s)
{
    assert(s);
    return &s->segments;
}

const arrangement_policy_t *strategy_arrangement_policy(const strategy_t *s)
{
    assert(s);
    return &s->policy;
}

unsigned strategy_arm_count(const strategy_t *s)
{
    assert(s);
    return s->arm_count;
}

const char *strategy_arm_name(const strategy_t *s, unsigned arm)
{
    assert(s && arm < s->arm_count);
    return s->arms[arm].name;
}

int64_t strategy_arm_share_bps(const strategy_t *s, unsigned arm)
{
    assert(s && arm < s->arm_count);
    return s->arms[arm].share_bps;
}

/* ---------------------------------------------------------------- arms and actions */

uint32_t strategy_bucket_for(const char *platform, const char *account_ref)
{
    assert(platform && account_ref);
    /* BLAKE2b, not a homemade hash: sequential refs ("LN-000000001", ...) differ in a
     * few trailing characters, and only a real mixing function spreads them evenly. No
     * seed and no key, so every process agrees. The NUL keeps ("ab", "c") and ("a",
     * "bc") apart. */
    crypto_generichash_state state;
    unsigned char digest[8];
    crypto_generichash_init(&state, NULL, 0, sizeof digest);
    crypto_generichash_update(&state, (const unsigned char *)platform, strlen(platform));
    crypto_generichash_update(&state, (const unsigned char *)"", 1);
    crypto_generichash_update(&state, (const unsigned char *)account_ref,
                              strlen(account_ref));
    crypto_generichash_final(&state, digest, sizeof digest);
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--)
        h = (h << 8) | digest[i];
    /* 2^64 mod 10000 is 1616: a bias of under 1e-15 per bucket. */
    return (uint32_t)(h % STRATEGY_SHARES_TOTAL_BPS);
}

unsigned strategy_arm_for(const strategy_t *s, const char *platform, const char *account_ref)
{
    assert(s && s->arm_count > 0);
    uint32_t bucket = strategy_bucket_for(platform, account_ref);
    int64_t upto = 0;
    for (unsigned i = 0; i < s->arm_count; i++) {
        upto += s->arms[i].share_bps;
        if (bucket < upto)
            return i;
    }
    return s->arm_count - 1;   /* unreachable: the shares add up to 10000 */
}

/* The arm's list for (stage, segment), else for (stage, any); *stage_known says whether
 * the arm has any list for the stage. */
static const strategy_list_t *arm_list(const arm_t *arm, stage_t stage, int segment,
                                       bool *stage_known)
{
    const strategy_list_t *any = NULL;
    *stage_known = false;
    for (uint32_t i = 0; i < arm->list_count; i++) {
        const strategy_list_t *l = &arm->lists[i];
        if (l->stage != stage)
            continue;
        *stage_known = true;
        if (l->segment == segment)
            return l;
        if (l->segment == STRATEGY_ANY_SEGMENT)
            any = l;
    }
    return any;
}

int strategy_actions_for(const strategy_t *s, stage_t stage, int segment, unsigned arm,
                         const strategy_list_t **list)
{
    assert(s && list && arm < s->arm_count && (unsigned)stage < STAGE_COUNT);
    bool known;
    const strategy_list_t *found = arm_list(&s->arms[arm], stage, segment, &known);
    if (!known && arm != 0)
        found = arm_list(&s->arms[0], stage, segment, &known);
    *list = found ? found : &no_actions;
    return STRATEGY_OK;
}

/* ---------------------------------------------------------------- escalation */

/* The hold that rules out legal or sale, or NULL. */
static const char *blocking_hold(uint32_t hold_bits)
{
    static const hold_kind_t blocking[] = {HOLD_BANKRUPTCY, HOLD_DECEASED, HOLD_LITIGATION,
                                           HOLD_DISPUTE};
    for (size_t i = 0; i < sizeof blocking / sizeof blocking[0]; i++)
        if (hold_bits & HOLD_BIT(blocking[i]))
            return hold_name(blocking[i]);
    return NULL;
}

/* Whether the legal rule holds; why not in why (or what was met). */
static bool legal_applies(const escalation_rule_t *r, const escalation_facts_t *f,
                          char *why, size_t len)
{
    const char *hold = blocking_hold(f->hold_bits);
    if (!r->enabled)
        snprintf(why, len, "legal referral is not in this strategy");
    else if (!stage_is_delinquent(f->stage))
        snprintf(why, len, "stage %s cannot be referred", stage_name(f->stage));
    else if (!f->may_refer_to_legal)
        snprintf(why, len, "the platform's mandate does not allow legal referral");
    else if (f->time_barred)
        snprintf(why, len, "time-barred");
    else if (hold)
        snprintf(why, len, "%s hold", hold);
    else if (f->dpd < r->min_dpd)
        snprintf(why, len, "dpd %d below %lld", (int)f->dpd, (long long)r->min_dpd);
    else if (f->balance_minor < r->min_balance_minor)
        snprintf(why, len, "balance %lld minor below %lld", (long long)f->balance_minor,
                 (long long)r->min_balance_minor);
    else if (f->broken_promises < r->min_broken_promises)
        snprintf(why, len, "%u broken promises, fewer than %lld", f->broken_promises,
                 (long long)r->min_broken_promises);
    else if (f->days_since_legal_return < r->retry_after_return_days)
        snprintf(why, len, "legal gave it back %d days ago; referred again after %lld",
                 (int)f->days_since_legal_return, (long long)r->retry_after_return_days);
    else {
        snprintf(why, len, "dpd %d, balance %lld minor, %u broken promises; mandate allows; "
                 "not time-barred", (int)f->dpd, (long long)f->balance_minor,
                 f->broken_promises);
        return true;
    }
    return false;
}

static bool sale_applies(const escalation_rule_t *r, const escalation_facts_t *f, char *why,
                         size_t len)
{
    const char *hold = blocking_hold(f->hold_bits);
    if (!r->enabled)
        snprintf(why, len, "sale is not in this strategy");
    else if (f->stage != STAGE_CHARGED_OFF)
        snprintf(why, len, "stage %s is not charged_off", stage_name(f->stage));
    else if (!f->may_sell)
        snprintf(why, len, "the platform's mandate does not allow sale");
    else if (hold)
        snprintf(why, len, "%s hold", hold);
    else if (f->dpd < r->min_dpd)
        snprintf(why, len, "dpd %d below %lld", (int)f->dpd, (long long)r->min_dpd);
    else if (f->balance_minor < r->min_balance_minor)
        snprintf(why, len, "balance %lld minor below %lld", (long long)f->balance_minor,
                 (long long)r->min_balance_minor);
    else if (f->days_since_sale_return < r->retry_after_return_days)
        snprintf(why, len, "sale gave it back %d days ago; listed again after %lld",
                 (int)f->days_since_sale_return, (long long)r->retry_after_return_days);
    else {
        snprintf(why, len, "charged off at dpd %d, balance %lld minor; mandate allows",
                 (int)f->dpd, (long long)f->balance_minor);
        return true;
    }
    return false;
}

int strategy_escalation(const strategy_t *s, const escalation_facts_t *facts,
                        escalation_t *decision, char *reason, size_t reason_len)
{
    assert(s && facts && decision);
    char legal_why[160], sale_why[160];
    bool legal = legal_applies(&s->legal, facts, legal_why, sizeof legal_why);
    bool sale = sale_applies(&s->sale, facts, sale_why, sizeof sale_why);
    if (legal && (!sale || s->prefer == ESCALATION_LEGAL))
        *decision = ESCALATION_LEGAL;
    else if (sale)
        *decision = ESCALATION_SALE;
    else
        *decision = ESCALATION_NONE;
    if (reason && reason_len) {
        if (*decision == ESCALATION_LEGAL)
            snprintf(reason, reason_len, "refer to legal: %s", legal_why);
        else if (*decision == ESCALATION_SALE)
            snprintf(reason, reason_len, "list for sale: %s", sale_why);
        else
            snprintf(reason, reason_len, "no escalation: legal: %s; sale: %s", legal_why,
                     sale_why);
    }
    return STRATEGY_OK;
}

const char *strategy_strerror(int code)
{
    switch (code) {
    case STRATEGY_OK:
        return "success";
    case STRATEGY_EINVALID:
        return "strategy file refused";
    case STRATEGY_EIO:
        return "strategy file cannot be read";
    case STRATEGY_ENOMEM:
        return "out of memory";
    default:
        return "unknown strategy error";
    }
}
