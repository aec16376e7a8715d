/* score: scorecard bands, scoring with reasons, and segments. See score.h. */
#include "score.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "platform.pb-c.h"

static const char *const factor_names[SCORE_FACTOR_COUNT] = {
    [SCORE_FACTOR_DPD] = "dpd",
    [SCORE_FACTOR_PAYMENTS] = "payments",
    [SCORE_FACTOR_BROKEN_PROMISES] = "broken_promises",
    [SCORE_FACTOR_CONTACT_POINTS] = "contact_points",
    [SCORE_FACTOR_BALANCE] = "balance_minor",
};

/* The names the strategy file uses for the wire contract's Product values. */
static const struct {
    int product;
    const char *name;
} products[] = {
    {ARREARS__PRODUCT__ONLINE_LOAN, "online_loan"},
    {ARREARS__PRODUCT__CREDIT_CARD, "credit_card"},
    {ARREARS__PRODUCT__INSTALMENT_LOAN, "instalment_loan"},
    {ARREARS__PRODUCT__BNPL, "bnpl"},
};
#define PRODUCT_COUNT (sizeof products / sizeof products[0])

/* "file:line: why" about setting s; returns SCORE_ECONFIG. */
#define config_error(conf, s, err, err_len, ...) \
    conf_error_at(conf, s, SCORE_ECONFIG, err, err_len, __VA_ARGS__)

const char *score_factor_name(score_factor_t factor)
{
    return (unsigned)factor < SCORE_FACTOR_COUNT ? factor_names[factor] : "unknown";
}

void score_card_init(score_card_t *card)
{
    assert(card);
    memset(card, 0, sizeof *card);
    card->payment_window_days = 90;
}

/* ---------------------------------------------------------------- loading bands */

/* An integer that must be present: absent is an error at the group's line. */
static int required_int(const conf_t *conf, const config_setting_t *group, const char *name,
                        int64_t min, int64_t max, int64_t *out, const char *what, int index,
                        char *err, size_t err_len)
{
    if (!config_setting_get_member(group, name))
        return config_error(conf, group, err, err_len, "%s band %d: %s is required", what,
                            index + 1, name);
    if (conf_int64_at(conf, group, name, min, min, max, out, err, err_len) != CONF_OK)
        return SCORE_ECONFIG;
    return SCORE_OK;
}

/* One band of factor what; expected is where it must start. */
static int load_band(const conf_t *conf, const config_setting_t *b, const char *what,
                     int index, bool last, int64_t expected, score_band_t *band,
                     char *err, size_t err_len)
{
    static const char *const keys[] = {"from", "to", "points", NULL};
    if (!config_setting_is_group(b))
        return config_error(conf, b, err, err_len,
                            "%s band %d must be a group { from = ..; to = ..; points = ..; }",
                            what, index + 1);
    if (conf_check_keys_at(conf, b, keys, err, err_len) != CONF_OK)
        return SCORE_ECONFIG;
    int rc = required_int(conf, b, "from", 0, INT64_MAX - 1, &band->from, what, index, err,
                          err_len);
    if (rc == SCORE_OK)
        rc = required_int(conf, b, "points", -SCORE_MAX_POINTS, SCORE_MAX_POINTS,
                          &band->points, what, index, err, err_len);
    if (rc != SCORE_OK)
        return rc;
    const config_setting_t *to = config_setting_get_member(b, "to");
    if (band->from > expected)
        return config_error(conf, b, err, err_len, "%s: gap: %lld to %lld has no band",
                            what, (long long)expected, (long long)(band->from - 1));
    if (band->from < expected)
        return config_error(conf, b, err, err_len,
                            "%s: overlap: band %d starts at %lld, inside the band before "
                            "it (it must start at %lld)",
                            what, index + 1, (long long)band->from, (long long)expected);
    if (last && to)
        return config_error(conf, to, err, err_len,
                            "%s: the last band must have no `to`, so every value above "
                            "it has a band", what);
    if (!last && !to)
        return config_error(conf, b, err, err_len,
                            "%s: band %d has no `to`: only the last band is open", what,
                            index + 1);
    band->to = SCORE_NO_UPPER;
    if (to && conf_int64_at(conf, b, "to", 0, 0, INT64_MAX - 1, &band->to, err, err_len))
        return SCORE_ECONFIG;
    if (band->to < band->from)
        return config_error(conf, to, err, err_len, "%s: band %d ends (%lld) before it "
                            "starts (%lld)", what, index + 1, (long long)band->to,
                            (long long)band->from);
    return SCORE_OK;
}

static int load_bands(const conf_t *conf, const config_setting_t *list, const char *what,
                      score_band_t *bands, uint32_t *count, char *err, size_t err_len)
{
    if (!config_setting_is_list(list))
        return config_error(conf, list, err, err_len,
                            "%s must be a list of bands ( { from = 0; ... }, ... )", what);
    int length = config_setting_length(list);
    if (length < 1 || length > SCORE_MAX_BANDS)
        return config_error(conf, list, err, err_len, "%s must have 1 to %d bands, got %d",
                            what, SCORE_MAX_BANDS, length);
    int64_t expected = 0;
    for (int i = 0; i < length; i++) {
        const config_setting_t *b = config_setting_get_elem(list, (unsigned)i);
        int rc = load_band(conf, b, what, i, i == length - 1, expected, &bands[i], err,
                           err_len);
        if (rc != SCORE_OK)
            return rc;
        expected = bands[i].to == SCORE_NO_UPPER ? SCORE_NO_UPPER : bands[i].to + 1;
    }
    *count = (uint32_t)length;
    return SCORE_OK;
}

int score_card_load(const conf_t *conf, const char *group_path, score_card_t *card,
                    char *err, size_t err_len)
{
    assert(conf && group_path && card);
    score_card_t c;
    score_card_init(&c);
    const config_setting_t *group = conf_lookup(conf, group_path);
    if (!group) {
        *card = c;
        return SCORE_OK;
    }
    static const char *const keys[] = {"base_points", "payment_window_days", "dpd",
                                       "payments", "broken_promises", "contact_points",
                                       "balance_minor", NULL};
    if (conf_check_keys_at(conf, group, keys, err, err_len) != CONF_OK)
        return SCORE_ECONFIG;
    int64_t value;
    if (conf_int64_at(conf, group, "base_points", 0, -SCORE_MAX_POINTS, SCORE_MAX_POINTS,
                      &c.base_points, err, err_len)
        || conf_int64_at(conf, group, "payment_window_days", c.payment_window_days, 1,
                         SCORE_MAX_WINDOW_DAYS, &value, err, err_len))
        return SCORE_ECONFIG;
    c.payment_window_days = (int32_t)value;
    for (int f = 0; f < SCORE_FACTOR_COUNT; f++) {
        const config_setting_t *list = config_setting_get_member(group, factor_names[f]);
        if (!list)
            continue;
        int rc = load_bands(conf, list, factor_names[f], c.bands[f], &c.band_count[f], err,
                            err_len);
        if (rc != SCORE_OK)
            return rc;
    }
    *card = c;
    return SCORE_OK;
}

/* ---------------------------------------------------------------- scoring */

static void add_reason(score_result_t *result, int64_t points, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_reason(score_result_t *result, int64_t points, const char *fmt, ...)
{
    assert(result->reason_count < SCORE_MAX_REASONS);
    score_reason_t *r = &result->reasons[result->reason_count++];
    r->points = points;
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(r->text, sizeof r->text, fmt, args);
    va_end(args);
    if (n >= 0 && (size_t)n < sizeof r->text)
        snprintf(r->text + n, sizeof r->text - (size_t)n, ": %+lld", (long long)points);
    result->points += points;
}

/* The factor's band holding value (>= 0: the bands start at 0 and the last is open). */
static void score_factor(const score_card_t *card, score_factor_t f, int64_t value,
                         score_result_t *result)
{
    assert(value >= 0);
    for (uint32_t i = 0; i < card->band_count[f]; i++) {
        const score_band_t *b = &card->bands[f][i];
        if (value > b->to)
            continue;
        if (b->to == SCORE_NO_UPPER)
            add_reason(result, b->points, "%s %lld+", factor_names[f], (long long)b->from);
        else if (b->from == b->to)
            add_reason(result, b->points, "%s %lld", factor_names[f], (long long)b->from);
        else
            add_reason(result, b->points, "%s %lld-%lld", factor_names[f],
                       (long long)b->from, (long long)b->to);
        return;
    }
}

/* Payments received in the window of the last payment_window_days, today included. */
static int64_t payments_in_window(const score_card_t *card, const score_inputs_t *in)
{
    int64_t first_day = (int64_t)in->today_day - card->payment_window_days + 1;
    int64_t count = 0;
    for (size_t i = 0; i < in->payment_count; i++)
        if (in->payment_days[i] >= first_day && in->payment_days[i] <= in->today_day)
            count++;
    return count;
}

void score_account(const score_card_t *card, const score_inputs_t *inputs,
                   score_result_t *result)
{
    assert(card && inputs && result);
    assert(inputs->dpd >= 0 && inputs->balance_minor >= 0);
    assert(inputs->payment_count == 0 || inputs->payment_days);
    memset(result, 0, sizeof *result);
    add_reason(result, card->base_points, "base");
    const int64_t values[SCORE_FACTOR_COUNT] = {
        [SCORE_FACTOR_DPD] = inputs->dpd,
        [SCORE_FACTOR_PAYMENTS] = payments_in_window(card, inputs),
        [SCORE_FACTOR_BROKEN_PROMISES] = inputs->broken_promises,
        [SCORE_FACTOR_CONTACT_POINTS] = inputs->contact_points,
        [SCORE_FACTOR_BALANCE] = inputs->balance_minor,
    };
    for (int f = 0; f < SCORE_FACTOR_COUNT; f++)
        score_factor(card, (score_factor_t)f, values[f], result);
}

/* ---------------------------------------------------------------- products */

const char *score_product_name(int product)
{
    for (size_t i = 0; i < PRODUCT_COUNT; i++)
        if (products[i].product == product)
            return products[i].name;
    return "unknown";
}

int score_product_from_name(const char *name, int *product)
{
    assert(name && product);
    for (size_t i = 0; i < PRODUCT_COUNT; i++) {
        if (strcmp(name, products[i].name) == 0) {
            *product = products[i].product;
            return SCORE_OK;
        }
    }
    return SCORE_EUNKNOWN;
}

/* ---------------------------------------------------------------- segments */

static void segment_catch_all(segment_t *s, const char *name)
{
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->min_score = INT64_MIN;
    s->max_score = INT64_MAX;
    s->min_balance_minor = 0;
    s->max_balance_minor = INT64_MAX;
}

void segments_init(segments_t *segments)
{
    assert(segments);
    memset(segments, 0, sizeof *segments);
    segment_catch_all(&segments->segments[0], "all");
    segments->count = 1;
}

static bool segment_is_catch_all(const segment_t *s)
{
    return s->min_score == INT64_MIN && s->max_score == INT64_MAX
           && s->min_balance_minor == 0 && s->max_balance_minor == INT64_MAX
           && s->product_bits == 0;
}

/* Segment, arm and template names appear in reports and metrics labels. */
static bool is_plain_name(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

static int load_products(const conf_t *conf, const config_setting_t *list, segment_t *seg,
                         char *err, size_t err_len)
{
    int length = config_setting_length(list);
    if (!config_setting_is_aggregate(list) || config_setting_is_group(list) || length < 1)
        return config_error(conf, list, err, err_len,
                            "products must be a non-empty list of product names, e.g. "
                            "[\"credit_card\"]");
    for (int i = 0; i < length; i++) {
        const config_setting_t *p = config_setting_get_elem(list, (unsigned)i);
        const char *name = config_setting_get_string(p);
        int product;
        if (!name || score_product_from_name(name, &product) != SCORE_OK)
            return config_error(conf, p, err, err_len,
                                "unknown product \"%.40s\" (known: online_loan, "
                                "credit_card, instalment_loan, bnpl)",
                                name ? name : "(not a string)");
        seg->product_bits |= UINT32_C(1) << product;
    }
    return SCORE_OK;
}

static int load_segment_bounds(const conf_t *conf, const config_setting_t *g,
                               segment_t *seg, char *err, size_t err_len)
{
    if (conf_int64_at(conf, g, "min_score", INT64_MIN, INT64_MIN, INT64_MAX,
                      &seg->min_score, err, err_len)
        || conf_int64_at(conf, g, "max_score", INT64_MAX, INT64_MIN, INT64_MAX,
                         &seg->max_score, err, err_len)
        || conf_int64_at(conf, g, "min_balance_minor", 0, 0, INT64_MAX,
                         &seg->min_balance_minor, err, err_len)
        || conf_int64_at(conf, g, "max_balance_minor", INT64_MAX, 0, INT64_MAX,
                         &seg->max_balance_minor, err, err_len))
        return SCORE_ECONFIG;
    if (seg->min_score > seg->max_score)
        return config_error(conf, g, err, err_len,
                            "segment \"%s\": min_score %lld is above max_score %lld",
                            seg->name, (long long)seg->min_score, (long long)seg->max_score);
    if (seg->min_balance_minor > seg->max_balance_minor)
        return config_error(conf, g, err, err_len,
                            "segment \"%s\": min_balance_minor %lld is above "
                            "max_balance_minor %lld",
                            seg->name, (long long)seg->min_balance_minor,
                            (long long)seg->max_balance_minor);
    const config_setting_t *list = config_setting_get_member(g, "products");
    return list ? load_products(conf, list, seg, err, err_len) : SCORE_OK;
}

static int load_segment(const conf_t *conf, const config_setting_t *g, segments_t *out,
                        const config_setting_t **seen, char *err, size_t err_len)
{
    static const char *const keys[] = {"name", "min_score", "max_score",
                                       "min_balance_minor", "max_balance_minor",
                                       "products", NULL};
    if (!config_setting_is_group(g))
        return config_error(conf, g, err, err_len,
                            "a segment must be a group { name = \"...\"; ... }");
    if (conf_check_keys_at(conf, g, keys, err, err_len) != CONF_OK)
        return SCORE_ECONFIG;
    const char *name = NULL;
    if (conf_string_at(conf, g, "name", NULL, SEGMENT_NAME_MAX, &name, err, err_len))
        return SCORE_ECONFIG;
    if (!name || !is_plain_name(name))
        return config_error(conf, g, err, err_len,
                            "a segment needs a name of letters, digits, '_', '-' or '.'");
    for (uint32_t i = 0; i < out->count; i++)
        if (strcmp(out->segments[i].name, name) == 0)
            return config_error(conf, g, err, err_len,
                                "duplicate segment name \"%s\" (first at line %d)", name,
                                conf_line_of(seen[i]));
    segment_t *seg = &out->segments[out->count];
    segment_catch_all(seg, name);
    int rc = load_segment_bounds(conf, g, seg, err, err_len);
    if (rc == SCORE_OK)
        seen[out->count++] = g;
    return rc;
}

int segments_load(const conf_t *conf, const char *list_path, segments_t *segments,
                  char *err, size_t err_len)
{
    assert(conf && list_path && segments);
    const config_setting_t *list = conf_lookup(conf, list_path);
    if (!list) {
        segments_init(segments);
        return SCORE_OK;
    }
    int length = config_setting_length(list);
    if (!config_setting_is_list(list) || length < 1 || length > SEGMENT_MAX)
        return config_error(conf, list, err, err_len,
                            "%s must be a list of 1 to %d segment groups", list_path,
                            SEGMENT_MAX);
    segments_t out;
    memset(&out, 0, sizeof out);
    const config_setting_t *seen[SEGMENT_MAX];
    for (int i = 0; i < length; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        int rc = load_segment(conf, g, &out, seen, err, err_len);
        if (rc != SCORE_OK)
            return rc;
    }
    if (!segment_is_catch_all(&out.segments[out.count - 1]))
        return config_error(conf, seen[out.count - 1], err, err_len,
                            "the last segment (\"%s\") must match every account: give it "
                            "no score, balance or product limits",
                            out.segments[out.count - 1].name);
    *segments = out;
    return SCORE_OK;
}

static bool segment_matches(const segment_t *s, int64_t score, int64_t balance_minor,
                            int product)
{
    if (score < s->min_score || score > s->max_score)
        return false;
    if (balance_minor < s->min_balance_minor || balance_minor > s->max_balance_minor)
        return false;
    if (s->product_bits == 0)
        return true;
    return product >= 0 && product < 32 && (s->product_bits & (UINT32_C(1) << product));
}

int segment_for(const segments_t *segments, int64_t score, int64_t balance_minor,
                int product)
{
    assert(segments && segments->count > 0);
    for (uint32_t i = 0; i < segments->count; i++)
        if (segment_matches(&segments->segments[i], score, balance_minor, product))
            return (int)i;
    /* Negative balances (credit) fall outside every band: the catch-all takes them. */
    return (int)segments->count - 1;
}

const char *segment_name(const segments_t *segments, int index)
{
    assert(segments);
    if (index < 0 || (uint32_t)index >= segments->count)
        return "unknown";
    return segments->segments[index].name;
}

int segment_find(const segments_t *segments, const char *name, int *index)
{
    assert(segments && name && index);
    for (uint32_t i = 0; i < segments->count; i++) {
        if (strcmp(segments->segments[i].name, name) == 0) {
            *index = (int)i;
            return SCORE_OK;
        }
    }
    return SCORE_EUNKNOWN;
}

void segment_names(const segments_t *segments, const char *names[SEGMENT_MAX + 1])
{
    assert(segments && names);
    for (uint32_t i = 0; i < segments->count; i++)
        names[i] = segments->segments[i].name;
    names[segments->count] = NULL;
}

const char *score_strerror(int code)
{
    switch (code) {
    case SCORE_OK:
        return "success";
    case SCORE_ECONFIG:
        return "scorecard or segments refused";
    case SCORE_EUNKNOWN:
        return "unknown segment or product";
    default:
        return "unknown score error";
    }
}
