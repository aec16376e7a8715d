/* profile: reads the book of jurisdiction profiles (see profile.h). Every setting is
 * checked as it is read and the first mistake refuses the whole file with
 * "file:line: why", because a contact rule that silently fell back to a default is
 * exactly the breach the conduct gate exists to prevent.
 *
 * Phrases stay inside the parsed libconfig tree, which the book keeps until it is
 * destroyed: one owner for every string, nothing copied. */
#include "profile.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"

/* Far above any rule in force (Reg F's 7 calls in 7 days), low enough to catch a typo. */
#define CAP_MAX 1000
#define WAIT_MAX_DAYS 365
#define HOLIDAY_YEAR_MIN 2000
#define HOLIDAY_YEAR_MAX 2200
#define MESSAGE_MAX 320
#define LANGUAGE_TAG_MAX (sizeof ((profile_language_t *)NULL)->language - 1)

struct profile_book {
    conf_t *conf;          /* owns every phrase the profiles point to */
    size_t count;
    size_t default_index;
    profile_t profiles[PROFILE_MAX];
};

/* Index c is the gate's channel c (proto Channel - 1). */
static const char *const channel_names[CONDUCT_CHANNELS + 1] = {
    "sms", "email", "letter", "call", "visit", NULL,
};
static const char *const weekday_names[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat",
                                            NULL};

/* What a loader needs to read one setting and to say what is wrong with it. */
typedef struct {
    const conf_t *conf;
    const char *profile;   /* the profile being read, named in messages; NULL before */
    char *err;
    size_t err_len;
} loader_t;

/* "file:line: profile "x": why" about setting s; returns code. */
static int refuse(const loader_t *l, const config_setting_t *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int refuse(const loader_t *l, const config_setting_t *s, int code, const char *fmt, ...)
{
    char why[MESSAGE_MAX];
    va_list args;
    va_start(args, fmt);
    vsnprintf(why, sizeof why, fmt, args);
    va_end(args);
    if (l->profile)
        return conf_error_at(l->conf, s, code, l->err, l->err_len, "profile \"%s\": %s",
                             l->profile, why);
    return conf_error_at(l->conf, s, code, l->err, l->err_len, "%s", why);
}

/* Settings that must be present, named when missing rather than defaulted. */
static int require(const loader_t *l, const config_setting_t *group, const char *what,
                   const char *const *names)
{
    for (int i = 0; names[i]; i++)
        if (!config_setting_get_member(group, names[i]))
            return refuse(l, group, CONF_ERANGE, "%s needs %s", what, names[i]);
    return CONF_OK;
}

static int require_group(const loader_t *l, const config_setting_t *s, const char *what)
{
    if (!config_setting_is_group(s))
        return refuse(l, s, CONF_ETYPE, "%s must be a group { ... }", what);
    return CONF_OK;
}

/* The array or list of strings at key (*out NULL when absent), at most max long. */
static int string_list(const loader_t *l, const config_setting_t *group, const char *key,
                       size_t max, const config_setting_t **out)
{
    const config_setting_t *s = config_setting_get_member(group, key);
    *out = s;
    if (!s)
        return CONF_OK;
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return refuse(l, s, CONF_ETYPE, "%s must be an array of strings [\"...\", ...]", key);
    int n = config_setting_length(s);
    if ((size_t)n > max)
        return refuse(l, s, CONF_ERANGE, "%s lists %d entries, at most %zu are allowed", key,
                      n, max);
    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return refuse(l, e, CONF_ETYPE, "%s must hold strings only", key);
    }
    return CONF_OK;
}

static size_t length_of(const config_setting_t *list)
{
    return list ? (size_t)config_setting_length(list) : 0;
}

static const char *string_at(const config_setting_t *list, size_t i)
{
    return config_setting_get_string_elem(list, (int)i);
}

/* Index of name among names (NULL-terminated), or -1. */
static int index_of(const char *const *names, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* ---------------------------------------------------------------- name, places */

/* Names appear in every decision's reason and in logs. */
static bool is_plain_name(const char *name)
{
    if (!*name)
        return false;
    for (const char *p = name; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

static int load_name(loader_t *l, const config_setting_t *g, const profile_book_t *book,
                     profile_t *p)
{
    const char *name;
    if (conf_string_at(l->conf, g, "name", NULL, CONDUCT_NAME_MAX, &name, l->err, l->err_len))
        return CONF_ERANGE;
    const config_setting_t *s = config_setting_get_member(g, "name");
    if (!is_plain_name(name))
        return refuse(l, s, CONF_ERANGE,
                      "profile name \"%s\" must be letters, digits, '_', '-' or '.'", name);
    if (profile_book_find(book, name))
        return refuse(l, s, CONF_ERANGE, "profile name \"%s\" is used twice", name);
    conduct_profile_init(&p->rules, name);
    l->profile = p->rules.name;
    return CONF_OK;
}

static bool is_alpha2(const char *code)
{
    return strlen(code) == 2 && isupper((unsigned char)code[0]) && isupper((unsigned char)code[1]);
}

/* Each jurisdiction in one profile only: profile_book_for must have one answer. */
static int load_jurisdictions(const loader_t *l, const config_setting_t *g,
                              const profile_book_t *book, profile_t *p)
{
    const config_setting_t *list;
    if (string_list(l, g, "jurisdictions", PROFILE_MAX_JURISDICTIONS, &list))
        return CONF_ERANGE;
    for (size_t i = 0; i < length_of(list); i++) {
        const char *code = string_at(list, i);
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        if (!is_alpha2(code))
            return refuse(l, e, CONF_ERANGE,
                          "jurisdiction \"%.16s\" must be an ISO 3166 alpha-2 code, upper "
                          "case (\"US\")", code);
        for (size_t j = 0; j < book->count; j++)
            for (size_t k = 0; k < book->profiles[j].jurisdiction_count; k++)
                if (strcmp(book->profiles[j].jurisdictions[k], code) == 0)
                    return refuse(l, e, CONF_ERANGE, "jurisdiction %s is already listed by "
                                  "profile \"%s\"", code, book->profiles[j].rules.name);
        for (size_t k = 0; k < p->jurisdiction_count; k++)
            if (strcmp(p->jurisdictions[k], code) == 0)
                return refuse(l, e, CONF_ERANGE, "jurisdiction %s is listed twice", code);
        snprintf(p->jurisdictions[p->jurisdiction_count++], sizeof p->jurisdictions[0], "%s",
                 code);
    }
    return CONF_OK;
}

/* ---------------------------------------------------------------- calendar */

/* "HH:MM" into minutes of the day; "24:00" (the end of the day) only when allowed. */
static bool parse_clock(const char *text, bool allow_end_of_day, int32_t *minutes)
{
    if (strlen(text) != 5 || text[2] != ':')
        return false;
    for (int i = 0; i < 5; i++)
        if (i != 2 && !isdigit((unsigned char)text[i]))
            return false;
    int hour = (text[0] - '0') * 10 + (text[1] - '0');
    int minute = (text[3] - '0') * 10 + (text[4] - '0');
    if (minute > 59 || hour > 24 || (hour == 24 && (minute != 0 || !allow_end_of_day)))
        return false;
    *minutes = hour * 60 + minute;
    return true;
}

static int load_clock(const loader_t *l, const config_setting_t *window, const char *key,
                      bool allow_end_of_day, int32_t *minutes)
{
    const char *text;
    if (conf_string_at(l->conf, window, key, NULL, 16, &text, l->err, l->err_len))
        return CONF_ERANGE;
    if (!parse_clock(text, allow_end_of_day, minutes))
        return refuse(l, config_setting_get_member(window, key), CONF_ERANGE,
                      "window %s \"%s\" must be a time HH:MM from 00:00 to %s", key, text,
                      allow_end_of_day ? "24:00" : "23:59");
    return CONF_OK;
}

static int load_window(const loader_t *l, const config_setting_t *g, conduct_profile_t *rules)
{
    static const char *const keys[] = {"start", "end", NULL};
    const config_setting_t *w = config_setting_get_member(g, "window");
    if (require_group(l, w, "window")
        || conf_check_keys_at(l->conf, w, keys, l->err, l->err_len)
        || require(l, w, "window", keys)
        || load_clock(l, w, "start", false, &rules->window_start_min)
        || load_clock(l, w, "end", true, &rules->window_end_min))
        return CONF_ERANGE;
    if (rules->window_end_min <= rules->window_start_min)
        return refuse(l, config_setting_get_member(w, "end"), CONF_ERANGE,
                      "window end must be after its start (the window is [start, end) "
                      "within one local day)");
    return CONF_OK;
}

static int load_rest_days(const loader_t *l, const config_setting_t *g,
                          conduct_profile_t *rules)
{
    const config_setting_t *list;
    if (string_list(l, g, "rest_days", 7, &list))
        return CONF_ERANGE;
    for (size_t i = 0; i < length_of(list); i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        int day = index_of(weekday_names, string_at(list, i));
        if (day < 0)
            return refuse(l, e, CONF_ERANGE, "rest day \"%.16s\" must be one of sun, mon, "
                          "tue, wed, thu, fri, sat", string_at(list, i));
        if (rules->rest_weekdays & (1u << day))
            return refuse(l, e, CONF_ERANGE, "rest day %s is listed twice", weekday_names[day]);
        rules->rest_weekdays |= (uint8_t)(1u << day);
    }
    return CONF_OK;
}

static int load_holidays(const loader_t *l, const config_setting_t *g,
                         conduct_profile_t *rules)
{
    const config_setting_t *list;
    if (string_list(l, g, "holidays", CONDUCT_MAX_HOLIDAYS, &list))
        return CONF_ERANGE;
    for (size_t i = 0; i < length_of(list); i++) {
        const config_setting_t *e = config_setting_get_elem(list, (unsigned)i);
        char why[128];
        int64_t day;
        if (!tz_date_parse(string_at(list, i), HOLIDAY_YEAR_MIN, HOLIDAY_YEAR_MAX, &day, why,
                           sizeof why))
            return refuse(l, e, CONF_ERANGE, "holiday: %s", why);
        for (size_t k = 0; k < rules->holiday_count; k++)
            if (rules->holidays[k] == day)
                return refuse(l, e, CONF_ERANGE, "holiday %s is listed twice",
                              string_at(list, i));
        rules->holidays[rules->holiday_count++] = day;
    }
    return CONF_OK;
}

/* ---------------------------------------------------------------- caps */

/* A cap present in the file, or CONDUCT_NO_CAP. Zero is refused: the gate would defer
 * such a task forever; a channel nobody may use is left out of the strategy instead. */
static int load_cap(const loader_t *l, const config_setting_t *g, const char *key,
                    int32_t *cap)
{
    int64_t value;
    if (!config_setting_get_member(g, key))
        return CONF_OK;
    if (conf_int64_at(l->conf, g, key, 1, 1, CAP_MAX, &value, l->err, l->err_len))
        return CONF_ERANGE;
    *cap = (int32_t)value;
    return CONF_OK;
}

static int load_channel_caps(const loader_t *l, const config_setting_t *g, bool *seen,
                             conduct_profile_t *r)
{
    static const char *const keys[] = {
        "channel", "person_per_day", "person_per_7_days", "account_per_day",
        "account_per_7_days", "vulnerable_person_per_day", "vulnerable_person_per_7_days",
        "wait_after_conversation_days", NULL};
    static const char *const required[] = {"channel", NULL};
    int c;
    int64_t wait;
    if (require_group(l, g, "a caps entry")
        || conf_check_keys_at(l->conf, g, keys, l->err, l->err_len)
        || require(l, g, "a caps entry", required)
        || conf_enum_at(l->conf, g, "channel", channel_names, 0, &c, l->err, l->err_len))
        return CONF_ERANGE;
    if (seen[c])
        return refuse(l, config_setting_get_member(g, "channel"), CONF_ERANGE,
                      "caps for channel %s are given twice", channel_names[c]);
    seen[c] = true;
    if (load_cap(l, g, "person_per_day", &r->person[c].per_day)
        || load_cap(l, g, "person_per_7_days", &r->person[c].per_7_days)
        || load_cap(l, g, "account_per_day", &r->account[c].per_day)
        || load_cap(l, g, "account_per_7_days", &r->account[c].per_7_days)
        || load_cap(l, g, "vulnerable_person_per_day", &r->vulnerable_person[c].per_day)
        || load_cap(l, g, "vulnerable_person_per_7_days", &r->vulnerable_person[c].per_7_days)
        || conf_int64_at(l->conf, g, "wait_after_conversation_days", 0, 0, WAIT_MAX_DAYS,
                         &wait, l->err, l->err_len))
        return CONF_ERANGE;
    r->wait_after_conversation_days[c] = (int32_t)wait;
    return CONF_OK;
}

static int load_caps(const loader_t *l, const config_setting_t *g, conduct_profile_t *rules)
{
    const config_setting_t *caps = config_setting_get_member(g, "caps");
    bool seen[CONDUCT_CHANNELS] = {false};
    if (!caps)
        return CONF_OK;
    if (!config_setting_is_list(caps))
        return refuse(l, caps, CONF_ETYPE,
                      "caps must be a list of groups ( { channel = \"call\"; ... }, ... )");
    for (int i = 0; i < config_setting_length(caps); i++)
        if (load_channel_caps(l, config_setting_get_elem(caps, (unsigned)i), seen, rules))
            return CONF_ERANGE;
    return CONF_OK;
}

static int load_opt_out_notice(const loader_t *l, const config_setting_t *g,
                               conduct_profile_t *rules)
{
    const config_setting_t *list;
    if (string_list(l, g, "opt_out_notice", CONDUCT_CHANNELS, &list))
        return CONF_ERANGE;
    for (size_t i = 0; i < length_of(list); i++) {
        int c = index_of(channel_names, string_at(list, i));
        if (c < 0)
            return refuse(l, config_setting_get_elem(list, (unsigned)i), CONF_ERANGE,
                          "opt_out_notice channel \"%.16s\" must be one of sms, email, "
                          "letter, call, visit", string_at(list, i));
        rules->opt_out_notice[c] = true;
    }
    return CONF_OK;
}

/* ---------------------------------------------------------------- languages */

/* A BCP 47 tag's shape: a primary subtag of 2..8 letters, then subtags of 1..8 letters
 * or digits, joined by '-'. Which tags exist is the templates' business, not ours. */
static bool is_language_tag(const char *tag)
{
    size_t len = strlen(tag), run = 0, subtags = 0;
    if (len == 0 || len > LANGUAGE_TAG_MAX)
        return false;
    for (size_t i = 0; i <= len; i++) {
        if (tag[i] == '-' || tag[i] == '\0') {
            if (run == 0 || run > 8 || (subtags == 0 && run < 2))
                return false;
            subtags++, run = 0;
        } else if (subtags == 0 ? isalpha((unsigned char)tag[i]) : isalnum((unsigned char)tag[i])) {
            run++;
        } else {
            return false;
        }
    }
    return true;
}

/* A phrase exactly as the gate will match it; see profile.h for why upper case is
 * refused rather than folded. */
static int check_phrase(const loader_t *l, const config_setting_t *e, const char *list,
                        const char *phrase)
{
    size_t len = strlen(phrase);
    if (len == 0 || len > PROFILE_PHRASE_MAX)
        return refuse(l, e, CONF_ERANGE, "%s phrase \"%.24s...\" must be 1 to %d bytes long, "
                      "got %zu", list, phrase, PROFILE_PHRASE_MAX, len);
    char lower[PROFILE_PHRASE_MAX + 1];
    bool upper = false;
    for (size_t i = 0; i <= len; i++) {
        bool ascii_upper = phrase[i] >= 'A' && phrase[i] <= 'Z';
        upper |= ascii_upper;
        lower[i] = ascii_upper ? (char)(phrase[i] + ('a' - 'A')) : phrase[i];
    }
    if (upper)
        return refuse(l, e, CONF_ERANGE, "%s phrase \"%s\" has upper case: write it in lower "
                      "case (\"%s\"); the text is lower-cased before it is matched", list,
                      phrase, lower);
    return CONF_OK;
}

static int load_phrases(const loader_t *l, const config_setting_t *g, const char *key,
                        const char **phrases, size_t *count)
{
    const config_setting_t *list;
    if (string_list(l, g, key, PROFILE_MAX_PHRASES, &list))
        return CONF_ERANGE;
    for (size_t i = 0; i < length_of(list); i++) {
        const char *phrase = string_at(list, i);
        if (check_phrase(l, config_setting_get_elem(list, (unsigned)i), key, phrase))
            return CONF_ERANGE;
        phrases[(*count)++] = phrase;
    }
    return CONF_OK;
}

static int load_language(const loader_t *l, const config_setting_t *g, profile_t *p)
{
    static const char *const keys[] = {"language", "banned", "opt_out", NULL};
    static const char *const required[] = {"language", NULL};
    profile_language_t *lang = &p->languages[p->language_count];
    const char *tag;
    if (require_group(l, g, "a languages entry")
        || conf_check_keys_at(l->conf, g, keys, l->err, l->err_len)
        || require(l, g, "a languages entry", required)
        || conf_string_at(l->conf, g, "language", NULL, 64, &tag, l->err, l->err_len))
        return CONF_ERANGE;
    const config_setting_t *s = config_setting_get_member(g, "language");
    if (!is_language_tag(tag))
        return refuse(l, s, CONF_ERANGE, "language \"%s\" must be a BCP 47 tag such as "
                      "\"en\", \"zh\" or \"en-GB\" (at most %zu bytes)", tag,
                      LANGUAGE_TAG_MAX);
    for (size_t i = 0; i < p->language_count; i++)
        if (strcasecmp(p->languages[i].language, tag) == 0)
            return refuse(l, s, CONF_ERANGE, "language %s is listed twice", tag);
    snprintf(lang->language, sizeof lang->language, "%s", tag);
    if (load_phrases(l, g, "banned", lang->banned, &lang->banned_count)
        || load_phrases(l, g, "opt_out", lang->opt_out, &lang->opt_out_count))
        return CONF_ERANGE;
    p->language_count++;
    return CONF_OK;
}

static int load_languages(const loader_t *l, const config_setting_t *g, profile_t *p)
{
    const config_setting_t *list = config_setting_get_member(g, "languages");
    if (!list)
        return CONF_OK;
    if (!config_setting_is_list(list) || config_setting_length(list) > PROFILE_MAX_LANGUAGES)
        return refuse(l, list, CONF_ETYPE, "languages must be a list of at most %d groups "
                      "( { language = \"en\"; ... }, ... )", PROFILE_MAX_LANGUAGES);
    for (int i = 0; i < config_setting_length(list); i++)
        if (load_language(l, config_setting_get_elem(list, (unsigned)i), p))
            return CONF_ERANGE;
    return CONF_OK;
}

/* A channel that needs an opt-out instruction with no phrase to recognise one by would
 * refuse every message: a mistake to catch at load, not in production. */
static int check_opt_out_phrases(const loader_t *l, const config_setting_t *g,
                                 const profile_t *p)
{
    bool needed = false;
    for (int c = 0; c < CONDUCT_CHANNELS; c++)
        needed |= p->rules.opt_out_notice[c];
    if (!needed)
        return CONF_OK;
    if (p->language_count == 0)
        return refuse(l, config_setting_get_member(g, "opt_out_notice"), CONF_ERANGE,
                      "opt_out_notice needs languages with opt_out phrases to recognise "
                      "the notice by");
    const config_setting_t *list = config_setting_get_member(g, "languages");
    for (size_t i = 0; i < p->language_count; i++)
        if (p->languages[i].opt_out_count == 0)
            return refuse(l, config_setting_get_elem(list, (unsigned)i), CONF_ERANGE,
                          "language %s needs opt_out phrases: opt_out_notice is set",
                          p->languages[i].language);
    return CONF_OK;
}

/* ---------------------------------------------------------------- the book */

static int load_profile(loader_t *l, const config_setting_t *g, profile_book_t *book)
{
    static const char *const keys[] = {
        "name", "jurisdictions", "window", "rest_days", "holidays", "caps", "count_connected",
        "opt_out_notice", "vulnerable_gentle_only", "languages", NULL};
    static const char *const required[] = {"name", "window", NULL};
    profile_t *p = &book->profiles[book->count];
    l->profile = NULL;
    if (require_group(l, g, "a profile")
        || conf_check_keys_at(l->conf, g, keys, l->err, l->err_len)
        || require(l, g, "a profile", required)
        || load_name(l, g, book, p)
        || load_jurisdictions(l, g, book, p)
        || load_window(l, g, &p->rules)
        || load_rest_days(l, g, &p->rules)
        || load_holidays(l, g, &p->rules)
        || load_caps(l, g, &p->rules)
        || conf_bool_at(l->conf, g, "count_connected", false, &p->rules.count_connected,
                        l->err, l->err_len)
        || load_opt_out_notice(l, g, &p->rules)
        || conf_bool_at(l->conf, g, "vulnerable_gentle_only", false,
                        &p->rules.vulnerable_gentle_only, l->err, l->err_len)
        || load_languages(l, g, p)
        || check_opt_out_phrases(l, g, p))
        return CONF_ERANGE;
    book->count++;
    return CONF_OK;
}

static int load_default(loader_t *l, profile_book_t *book)
{
    const char *name;
    l->profile = NULL;
    if (conf_string_at(l->conf, NULL, "default", NULL, 64, &name, l->err, l->err_len))
        return CONF_ERANGE;
    const config_setting_t *root = conf_lookup(l->conf, NULL);
    if (!name)
        return refuse(l, root, CONF_ERANGE, "default is required: the profile for a "
                      "jurisdiction no profile lists");
    const profile_t *p = profile_book_find(book, name);
    if (!p)
        return refuse(l, config_setting_get_member(root, "default"), CONF_ERANGE,
                      "default \"%s\" names no profile in this file", name);
    book->default_index = (size_t)(p - book->profiles);
    return CONF_OK;
}

static int load_book(loader_t *l, profile_book_t *book)
{
    static const char *const keys[] = {"default", "profiles", NULL};
    const config_setting_t *root = conf_lookup(l->conf, NULL);
    if (conf_check_keys_at(l->conf, root, keys, l->err, l->err_len))
        return CONF_EUNKNOWN_KEY;
    const config_setting_t *list = config_setting_get_member(root, "profiles");
    if (!list)
        return refuse(l, root, CONF_ERANGE, "profiles is required: a list of profiles");
    int n = config_setting_length(list);
    if (!config_setting_is_list(list) || n < 1 || n > PROFILE_MAX)
        return refuse(l, list, CONF_ERANGE, "profiles must be a list of 1 to %d profile "
                      "groups ( { name = ...; }, ... )", PROFILE_MAX);
    for (int i = 0; i < n; i++)
        if (load_profile(l, config_setting_get_elem(list, (unsigned)i), book))
            return CONF_ERANGE;
    return load_default(l, book);
}

/* Takes conf: the book owns it from here, or frees it on failure. */
static profile_book_t *book_of(conf_t *conf, char *err, size_t err_len)
{
    if (!conf)
        return NULL;
    profile_book_t *book = calloc(1, sizeof *book);
    if (!book) {
        snprintf(err, err_len, "%s: out of memory", conf_name(conf));
        conf_destroy(&conf);
        return NULL;
    }
    book->conf = conf;
    loader_t l = {.conf = conf, .err = err, .err_len = err_len};
    if (load_book(&l, book) != CONF_OK)
        profile_book_destroy(&book);
    return book;
}

profile_book_t *profile_book_load(const char *path, char *err, size_t err_len)
{
    assert(path);
    return book_of(conf_load(path, err, err_len), err, err_len);
}

profile_book_t *profile_book_parse(const char *text, const char *name_for_errors, char *err,
                                   size_t err_len)
{
    assert(text);
    return book_of(conf_parse_string(text, name_for_errors, err, err_len), err, err_len);
}

void profile_book_destroy(profile_book_t **self_p)
{
    assert(self_p);
    if (*self_p) {
        conf_destroy(&(*self_p)->conf);
        free(*self_p);
        *self_p = NULL;
    }
}

size_t profile_book_count(const profile_book_t *self)
{
    assert(self);
    return self->count;
}

const profile_t *profile_book_at(const profile_book_t *self, size_t i)
{
    assert(self && i < self->count);
    return &self->profiles[i];
}

const profile_t *profile_book_find(const profile_book_t *self, const char *name)
{
    assert(self && name);
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->profiles[i].rules.name, name) == 0)
            return &self->profiles[i];
    return NULL;
}

const profile_t *profile_book_for(const profile_book_t *self, const char *jurisdiction)
{
    assert(self && self->count > 0);
    for (size_t i = 0; jurisdiction && i < self->count; i++)
        for (size_t k = 0; k < self->profiles[i].jurisdiction_count; k++)
            if (strcasecmp(self->profiles[i].jurisdictions[k], jurisdiction) == 0)
                return &self->profiles[i];
    return &self->profiles[self->default_index];
}

const profile_language_t *profile_language(const profile_t *self, const char *tag)
{
    assert(self && tag);
    for (size_t i = 0; i < self->language_count; i++)
        if (strcasecmp(self->languages[i].language, tag) == 0)
            return &self->languages[i];
    size_t primary = strcspn(tag, "-");
    for (size_t i = 0; i < self->language_count; i++)
        if (strlen(self->languages[i].language) == primary
            && strncasecmp(self->languages[i].language, tag, primary) == 0)
            return &self->languages[i];
    return NULL;
}
