/* template: the vetted, versioned template catalogue and its rendering (see
 * template.h). The catalogue's strings stay in the conf_t it was read from, which the
 * book keeps until it is destroyed; a template_t points into it. */
#include "template.h"

#include <assert.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "money.h"

#define LANGUAGE_MAX 15            /* bytes of a language tag, without the NUL */
#define AMOUNT_TEXT_MAX 48         /* "USD " + MONEY_FORMAT_MAX + up to 6 commas */
#define WHY_MAX 128
#define LOAD_FAILED (-1)           /* internal: err says why */

struct template_book {
    conf_t *conf;                  /* owns every subject and text */
    char default_language[LANGUAGE_MAX + 1];
    size_t count;
    template_t *items;
};

static const char *const channel_names[] = {"sms", "email", "letter", "call", "visit", NULL};

enum { PH_NAME, PH_AMOUNT, PH_CURRENCY, PH_DPD, PH_STAGE, PH_PLATFORM, PH_ACCOUNT,
       PH_REFERENCE };
static const char *const placeholder_names[] = {"name",     "amount",  "currency",
                                                "dpd",      "stage",   "platform",
                                                "account",  "reference", NULL};

/* ---------------------------------------------------------------- rendering */

/* The output being built; out NULL is a dry run that only checks the placeholders. */
typedef struct {
    char *out;
    size_t cap;
    size_t len;
} writer_t;

/* Appends n bytes, keeping room for the NUL. */
static int put(writer_t *w, const char *s, size_t n)
{
    if (!w->out)
        return TEMPLATE_OK;
    if (n >= w->cap || w->len >= w->cap - n)
        return TEMPLATE_ETOO_LONG;
    memcpy(w->out + w->len, s, n);
    w->len += n;
    return TEMPLATE_OK;
}

static int put_str(writer_t *w, const char *s) { return put(w, s ? s : "", s ? strlen(s) : 0); }

/* "USD 1,234.56": money_format's plain decimal with the integer part grouped by 3. */
static int format_amount(int64_t minor, const char *currency, char *out, size_t len)
{
    char plain[MONEY_FORMAT_MAX];
    if (!currency || money_format(minor, currency, plain, sizeof plain) != MONEY_OK)
        return TEMPLATE_ECURRENCY;
    assert(len >= AMOUNT_TEXT_MAX);
    const char *p = plain;
    size_t o = (size_t)snprintf(out, len, "%s ", currency);
    if (*p == '-')
        out[o++] = *p++;
    size_t digits = strcspn(p, ".");
    for (size_t i = 0; i < digits; i++) {
        if (i > 0 && (digits - i) % 3 == 0)
            out[o++] = ',';
        out[o++] = p[i];
    }
    snprintf(out + o, len - o, "%s", p + digits);
    return TEMPLATE_OK;
}

static int put_value(writer_t *w, int placeholder, const template_vars_t *v)
{
    char buf[AMOUNT_TEXT_MAX];
    if (!w->out)
        return TEMPLATE_OK;
    switch (placeholder) {
    case PH_NAME: return put_str(w, v->name);
    case PH_CURRENCY: return put_str(w, v->currency);
    case PH_STAGE: return put_str(w, v->stage);
    case PH_PLATFORM: return put_str(w, v->platform);
    case PH_ACCOUNT: return put_str(w, v->account_ref);
    case PH_REFERENCE: return put_str(w, v->contact_id);
    case PH_DPD:
        snprintf(buf, sizeof buf, "%" PRId32, v->days_past_due);
        return put_str(w, buf);
    default: {
        int rc = format_amount(v->outstanding_minor, v->currency, buf, sizeof buf);
        return rc == TEMPLATE_OK ? put_str(w, buf) : rc;
    }
    }
}

/* The placeholder that starts at p ('{' not followed by '{'): its index and length
 * through the '}'. TEMPLATE_EPLACEHOLDER with why when unknown or unclosed. */
static int placeholder_at(const char *p, int *index, size_t *len, char *why, size_t why_len)
{
    size_t n = strcspn(p + 1, "{}");
    if (p[1 + n] != '}') {
        snprintf(why, why_len, "has an unbalanced '{' (write \"{{\" for a literal one)");
        return TEMPLATE_EPLACEHOLDER;
    }
    for (int i = 0; placeholder_names[i]; i++)
        if (strlen(placeholder_names[i]) == n && memcmp(placeholder_names[i], p + 1, n) == 0) {
            *index = i;
            *len = n + 2;
            return TEMPLATE_OK;
        }
    snprintf(why, why_len, "has an unknown placeholder {%.*s}", n > 32 ? 32 : (int)n, p + 1);
    return TEMPLATE_EPLACEHOLDER;
}

/* Walks text once: copies literal runs, "{{" and "}}" as one brace, and placeholders'
 * values into w. why (for load-time messages) says what is wrong with a placeholder. */
static int walk(const char *text, const template_vars_t *vars, writer_t *w, char *why,
                size_t why_len)
{
    int rc = TEMPLATE_OK;
    for (const char *p = text; *p && rc == TEMPLATE_OK;) {
        if ((*p == '{' || *p == '}') && p[1] == *p) {
            rc = put(w, p, 1);
            p += 2;
        } else if (*p == '}') {
            snprintf(why, why_len, "has an unbalanced '}' (write \"}}\" for a literal one)");
            return TEMPLATE_EPLACEHOLDER;
        } else if (*p == '{') {
            int index = 0;
            size_t len = 0;
            rc = placeholder_at(p, &index, &len, why, why_len);
            if (rc == TEMPLATE_OK)
                rc = put_value(w, index, vars);
            p += len;
        } else {
            size_t n = strcspn(p, "{}");
            rc = put(w, p, n);
            p += n;
        }
    }
    return rc;
}

int template_render(const char *text, const template_vars_t *vars, char *out, size_t cap)
{
    assert(text && vars && (out || cap == 0));
    char why[WHY_MAX];
    writer_t w = {out, cap, 0};
    int rc = walk(text, vars, &w, why, sizeof why);
    if (rc == TEMPLATE_OK && w.len >= cap)
        rc = TEMPLATE_ETOO_LONG;   /* cap 0, or an empty text with no room for the NUL */
    if (cap > 0)
        out[rc == TEMPLATE_OK ? w.len : 0] = '\0';
    return rc;
}

const char *template_strerror(int code)
{
    switch (code) {
    case TEMPLATE_OK:
        return "success";
    case TEMPLATE_ETOO_LONG:
        return "rendered template does not fit";
    case TEMPLATE_EPLACEHOLDER:
        return "unknown placeholder or unbalanced brace in template";
    case TEMPLATE_ECURRENCY:
        return "amount in an unknown currency";
    default:
        return "unknown template error";
    }
}

/* ---------------------------------------------------------------- languages */

static int fold(int c) { return c == '_' ? '-' : tolower(c); }

/* A template's tag (t) against a requested one (r), without case, '_' as '-'. With
 * primary, only r's first subtag is compared ("zh" matches a request for "zh-CN"). */
static bool language_matches(const char *t, const char *r, bool primary)
{
    for (;; t++, r++) {
        bool r_end = !*r || (primary && fold((unsigned char)*r) == '-');
        if (!*t || r_end)
            return !*t && r_end;
        if (fold((unsigned char)*t) != fold((unsigned char)*r))
            return false;
    }
}

/* BCP 47 shape: 2 to 8 letters, then subtags of 1 to 8 letters or digits after '-'. */
static bool language_valid(const char *tag)
{
    size_t n = strspn(tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (n < 2 || n > 8)
        return false;
    for (const char *p = tag + n; *p; p += n) {
        if (*p++ != '-')
            return false;
        n = 0;
        while (isalnum((unsigned char)p[n]))
            n++;
        if (n < 1 || n > 8)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------- picking */

size_t template_book_count(const template_book_t *self)
{
    assert(self);
    return self->count;
}

const template_t *template_book_at(const template_book_t *self, size_t i)
{
    assert(self && i < self->count);
    return &self->items[i];
}

/* In one language: the variant wanted (gentle when vulnerable), else the other one. */
static const template_t *pick_in(const template_book_t *self, const char *id, int channel,
                                 const char *language, bool primary, bool vulnerable)
{
    const template_t *other = NULL;
    for (size_t i = 0; i < self->count; i++) {
        const template_t *t = &self->items[i];
        if (t->channel != channel || strcmp(t->id, id) != 0
            || !language_matches(t->language, language, primary))
            continue;
        if (t->gentle == vulnerable)
            return t;
        if (!other)
            other = t;
    }
    return other;
}

const template_t *template_book_pick(const template_book_t *self, const char *id, int channel,
                                     const char *language, bool vulnerable)
{
    assert(self && id);
    const char *asked = language && *language ? language : self->default_language;
    const char *order[] = {asked, asked, self->default_language, self->default_language};
    for (int step = 0; step < 4; step++) {
        const template_t *t = pick_in(self, id, channel, order[step], step % 2 == 1,
                                      vulnerable);
        if (t)
            return t;
    }
    for (size_t i = 0; i < self->count; i++)
        if (self->items[i].channel == channel && strcmp(self->items[i].id, id) == 0)
            return &self->items[i];
    return NULL;
}

/* ---------------------------------------------------------------- loading */

static bool id_valid(const char *id)
{
    if (!*id)
        return false;
    for (const char *p = id; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-' && *p != '.')
            return false;
    return true;
}

/* A subject or text with only known placeholders and balanced braces. */
static int check_text(const conf_t *conf, const config_setting_t *g, const char *key,
                      const char *text, char *err, size_t err_len)
{
    char why[WHY_MAX] = "";
    writer_t dry = {NULL, 0, 0};
    template_vars_t none = {0};
    if (walk(text, &none, &dry, why, sizeof why) == TEMPLATE_OK)
        return TEMPLATE_OK;
    return conf_error_at(conf, config_setting_get_member(g, key), LOAD_FAILED, err, err_len,
                         "%s %s", key, why);
}

static int load_values(const conf_t *conf, const config_setting_t *g, template_t *t,
                       const char **id, const char **language, char *err, size_t err_len)
{
    int64_t version = 0;
    if (conf_string_at(conf, g, "id", NULL, TEMPLATE_ID_MAX, id, err, err_len)
        || conf_int64_at(conf, g, "version", 1, 1, INT32_MAX, &version, err, err_len)
        || conf_enum_at(conf, g, "channel", channel_names, 0, &t->channel, err, err_len)
        || conf_string_at(conf, g, "language", NULL, LANGUAGE_MAX, language, err, err_len)
        || conf_bool_at(conf, g, "gentle", false, &t->gentle, err, err_len)
        || conf_bool_at(conf, g, "vetted", false, &t->vetted, err, err_len)
        || conf_bool_at(conf, g, "mentions_legal", false, &t->mentions_legal, err, err_len)
        || conf_string_at(conf, g, "subject", "", TEMPLATE_TEXT_MAX, &t->subject, err,
                          err_len)
        || conf_string_at(conf, g, "text", NULL, TEMPLATE_TEXT_MAX, &t->text, err, err_len))
        return LOAD_FAILED;
    t->version = (int32_t)version;
    return TEMPLATE_OK;
}

static int load_template(const conf_t *conf, const config_setting_t *g, template_t *t,
                         char *err, size_t err_len)
{
    static const char *const keys[] = {"id",     "version", "channel",        "language",
                                       "gentle", "vetted",  "mentions_legal", "subject",
                                       "text",   NULL};
    static const char *const required[] = {"id", "version", "channel", "language", "text",
                                           NULL};
    if (!config_setting_is_group(g))
        return conf_error_at(conf, g, LOAD_FAILED, err, err_len,
                             "a template must be a group { id = ..; version = ..; ... }");
    if (conf_check_keys_at(conf, g, keys, err, err_len) != CONF_OK)
        return LOAD_FAILED;
    for (int i = 0; required[i]; i++)
        if (!config_setting_get_member(g, required[i]))
            return conf_error_at(conf, g, LOAD_FAILED, err, err_len, "a template needs %s",
                                 required[i]);
    const char *id = NULL, *language = NULL;
    if (load_values(conf, g, t, &id, &language, err, err_len) != TEMPLATE_OK)
        return LOAD_FAILED;
    if (!id_valid(id))
        return conf_error_at(conf, config_setting_get_member(g, "id"), LOAD_FAILED, err,
                             err_len, "id must be letters, digits, '_', '-' or '.'");
    if (!language_valid(language))
        return conf_error_at(conf, config_setting_get_member(g, "language"), LOAD_FAILED,
                             err, err_len,
                             "language must be a BCP 47 tag such as \"en\" or \"zh-CN\", "
                             "got \"%s\"", language);
    if (!*t->text)
        return conf_error_at(conf, config_setting_get_member(g, "text"), LOAD_FAILED, err,
                             err_len, "text must not be empty");
    if (check_text(conf, g, "subject", t->subject, err, err_len) != TEMPLATE_OK
        || check_text(conf, g, "text", t->text, err, err_len) != TEMPLATE_OK)
        return LOAD_FAILED;
    snprintf(t->id, sizeof t->id, "%s", id);
    snprintf(t->language, sizeof t->language, "%s", language);
    return TEMPLATE_OK;
}

/* Two entries for one (id, channel, language, gentle): which would be sent is a guess. */
static int check_duplicates(const template_book_t *self, const config_setting_t *list,
                            char *err, size_t err_len)
{
    for (size_t i = 1; i < self->count; i++)
        for (size_t j = 0; j < i; j++) {
            const template_t *a = &self->items[j], *b = &self->items[i];
            if (a->channel != b->channel || a->gentle != b->gentle || strcmp(a->id, b->id)
                || !language_matches(a->language, b->language, false))
                continue;
            const config_setting_t *first = config_setting_get_elem(list, (unsigned)j);
            return conf_error_at(self->conf, config_setting_get_elem(list, (unsigned)i),
                                 LOAD_FAILED, err, err_len,
                                 "duplicate template %s for %s in %s (%s), first at line %d",
                                 b->id, channel_names[b->channel], b->language,
                                 b->gentle ? "gentle" : "standard", conf_line_of(first));
        }
    return TEMPLATE_OK;
}

static int load_book(template_book_t *self, char *err, size_t err_len)
{
    static const char *const keys[] = {"default_language", "templates", NULL};
    const conf_t *conf = self->conf;
    const char *dflt = NULL;
    if (conf_check_keys_at(conf, NULL, keys, err, err_len) != CONF_OK
        || conf_string_at(conf, NULL, "default_language", "en", LANGUAGE_MAX, &dflt, err,
                          err_len) != CONF_OK)
        return LOAD_FAILED;
    if (!language_valid(dflt))
        return conf_error_at(conf, conf_lookup(conf, "default_language"), LOAD_FAILED, err,
                             err_len, "default_language must be a BCP 47 tag, got \"%s\"",
                             dflt);
    snprintf(self->default_language, sizeof self->default_language, "%s", dflt);
    const config_setting_t *list = conf_lookup(conf, "templates");
    if (!list)
        return conf_error_at(conf, conf_lookup(conf, ""), LOAD_FAILED, err, err_len,
                             "needs templates = ( { id = ..; ... }, ... )");
    int n = config_setting_length(list);
    if (!config_setting_is_list(list) || n < 1 || n > TEMPLATE_MAX)
        return conf_error_at(conf, list, LOAD_FAILED, err, err_len,
                             "templates must be a list ( ... ) of 1 to %d templates",
                             TEMPLATE_MAX);
    self->items = calloc((size_t)n, sizeof *self->items);
    if (!self->items)
        return conf_error_at(conf, list, LOAD_FAILED, err, err_len, "out of memory");
    for (self->count = 0; self->count < (size_t)n; self->count++)
        if (load_template(conf, config_setting_get_elem(list, (unsigned)self->count),
                          &self->items[self->count], err, err_len) != TEMPLATE_OK)
            return LOAD_FAILED;
    return check_duplicates(self, list, err, err_len);
}

static template_book_t *book_of(conf_t *conf, char *err, size_t err_len)
{
    if (!conf)
        return NULL;
    template_book_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, err_len, "%s: out of memory", conf_name(conf));
        conf_destroy(&conf);
        return NULL;
    }
    self->conf = conf;
    if (load_book(self, err, err_len) != TEMPLATE_OK)
        template_book_destroy(&self);
    return self;
}

template_book_t *template_book_load(const char *path, char *err, size_t err_len)
{
    assert(path);
    return book_of(conf_load(path, err, err_len), err, err_len);
}

template_book_t *template_book_parse(const char *text, const char *name_for_errors,
                                     char *err, size_t err_len)
{
    assert(text);
    return book_of(conf_parse_string(text, name_for_errors, err, err_len), err, err_len);
}

void template_book_destroy(template_book_t **self_p)
{
    assert(self_p);
    template_book_t *self = *self_p;
    if (!self)
        return;
    conf_destroy(&self->conf);
    free(self->items);
    free(self);
    *self_p = NULL;
}
