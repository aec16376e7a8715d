/* conf: libconfig behind typed, range-checked getters whose errors carry file:line.
 * See conf.h. */
#include "conf.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A setting's full path in messages; deeper nesting is cut, not refused. */
#define PATH_TEXT_MAX 256

/* Longest source line whose integer literal is re-read (see check_int_literal). */
#define SOURCE_LINE_MAX 1024

struct conf {
    config_t cfg;
    char *name;     /* the file path, or the name given for a string */
    char *text;     /* the parsed string (NULL for a file): to re-read literals */
    char *include_dir;
    /* libconfig records an @include'd file by the name written in the directive,
     * relative to include_dir; messages need the path an operator can open. Parallel
     * to cfg.filenames, built once after loading so getters stay read-only. */
    char **resolved;
    unsigned resolved_count;
};

static void set_err(char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return;
    va_list args;
    va_start(args, fmt);
    vsnprintf(err, err_len, fmt, args);
    va_end(args);
}

static conf_t *conf_new(const char *name)
{
    conf_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->name = strdup(name);
    if (!self->name) {
        free(self);
        return NULL;
    }
    config_init(&self->cfg);
    /* Never turn 1 into 1.0 or back: a wrong type is the file's mistake to fix. */
    config_set_auto_convert(&self->cfg, CONFIG_FALSE);
    return self;
}

void conf_destroy(conf_t **self_p)
{
    assert(self_p);
    conf_t *self = *self_p;
    if (self) {
        config_destroy(&self->cfg);
        for (unsigned i = 0; i < self->resolved_count; i++)
            free(self->resolved[i]);
        free(self->resolved);
        free(self->name);
        free(self->text);
        free(self->include_dir);
        free(self);
        *self_p = NULL;
    }
}

/* The path of a file libconfig names: an included file's name is relative to
 * include_dir. NULL when out of memory. */
static char *resolve_file(const conf_t *self, const char *file)
{
    if (!self->include_dir || file[0] == '/' || strcmp(file, self->name) == 0)
        return strdup(file);
    char *path = NULL;
    if (asprintf(&path, "%s/%s", self->include_dir, file) < 0)
        return NULL;
    return path;
}

static bool resolve_all(conf_t *self)
{
    unsigned count = self->cfg.num_filenames;
    if (count == 0)
        return true;
    self->resolved = calloc(count, sizeof *self->resolved);
    if (!self->resolved)
        return false;
    self->resolved_count = count;
    for (unsigned i = 0; i < count; i++)
        if (!(self->resolved[i] = resolve_file(self, self->cfg.filenames[i])))
            return false;
    return true;
}

/* libconfig's parse error as "file:line: message"; *code gets its class. */
static void read_error(const conf_t *self, int *code, char *err, size_t err_len)
{
    const config_t *cfg = &self->cfg;
    char *resolved = config_error_file(cfg) ? resolve_file(self, config_error_file(cfg))
                                            : NULL;
    const char *file = resolved ? resolved : self->name;
    if (config_error_type(cfg) == CONFIG_ERR_FILE_IO) {
        *code = CONF_EIO;
        set_err(err, err_len, "%s: cannot read: %s", file, config_error_text(cfg));
    } else {
        *code = CONF_ESYNTAX;
        set_err(err, err_len, "%s:%d: %s", file, config_error_line(cfg),
                config_error_text(cfg));
    }
    free(resolved);
}

/* Opens the file ourselves first: libconfig reports a missing file as a bare
 * "file I/O error" and loses errno, which is the part an operator needs. */
static bool probe_file(const char *path, char *err, size_t err_len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        set_err(err, err_len, "%s: cannot open: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    bool regular = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode);
    fclose(f);
    if (!regular)
        set_err(err, err_len, "%s: cannot open: not a regular file", path);
    return regular;
}

conf_t *conf_load_code(const char *path, int *code, char *err, size_t err_len)
{
    assert(path);
    int ignored = 0;
    code = code ? code : &ignored;
    *code = CONF_EIO;
    if (!probe_file(path, err, err_len))
        return NULL;
    conf_t *self = conf_new(path);
    char *dir_copy = strdup(path);
    if (!self || !dir_copy) {
        free(dir_copy);
        conf_destroy(&self);
        set_err(err, err_len, "%s: out of memory", path);
        return NULL;
    }
    self->include_dir = strdup(dirname(dir_copy));
    free(dir_copy);
    if (self->include_dir)
        config_set_include_dir(&self->cfg, self->include_dir);
    if (config_read_file(&self->cfg, path) != CONFIG_TRUE) {
        read_error(self, code, err, err_len);
        conf_destroy(&self);
        return NULL;
    }
    if (!resolve_all(self)) {
        set_err(err, err_len, "%s: out of memory", path);
        conf_destroy(&self);
        return NULL;
    }
    *code = CONF_OK;
    return self;
}

conf_t *conf_load(const char *path, char *err, size_t err_len)
{
    return conf_load_code(path, NULL, err, err_len);
}

conf_t *conf_parse_string(const char *text, const char *name_for_errors, char *err,
                          size_t err_len)
{
    assert(text);
    const char *name = name_for_errors ? name_for_errors : "<string>";
    conf_t *self = conf_new(name);
    if (self)
        self->text = strdup(text);
    if (!self || !self->text) {
        conf_destroy(&self);
        set_err(err, err_len, "%s: out of memory", name);
        return NULL;
    }
    if (config_read_string(&self->cfg, text) != CONFIG_TRUE) {
        int code;
        read_error(self, &code, err, err_len);
        conf_destroy(&self);
        return NULL;
    }
    return self;
}

const char *conf_name(const conf_t *self)
{
    assert(self);
    return self->name;
}

/* ---------------------------------------------------------------- raw access */

const config_setting_t *conf_lookup(const conf_t *self, const char *path)
{
    assert(self);
    if (!path || !*path)
        return config_root_setting(&self->cfg);
    return config_lookup(&self->cfg, path);
}

int conf_line_of(const config_setting_t *setting)
{
    assert(setting);
    return (int)config_setting_source_line(setting);
}

const char *conf_file_of(const conf_t *self, const config_setting_t *setting)
{
    assert(self && setting);
    const char *file = config_setting_source_file(setting);
    if (!file)
        return self->name;
    for (unsigned i = 0; i < self->resolved_count; i++)
        if (self->cfg.filenames[i] == file)
            return self->resolved[i];
    return file;
}

/* "firms.[2].capacity": libconfig's own path syntax, so it can be looked up again. */
static void setting_path(const config_setting_t *s, char *buf, size_t len)
{
    const config_setting_t *parent = config_setting_parent(s);
    if (!parent) {
        buf[0] = '\0';
        return;
    }
    setting_path(parent, buf, len);
    size_t used = strlen(buf);
    const char *dot = used > 0 ? "." : "";
    if (config_setting_name(s))
        snprintf(buf + used, len - used, "%s%s", dot, config_setting_name(s));
    else
        snprintf(buf + used, len - used, "%s[%d]", dot, config_setting_index(s));
}

/* An error about setting s: "file:line: path <message>". Returns code. */
static int setting_error(const conf_t *self, const config_setting_t *s, int code,
                         char *err, size_t err_len, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int setting_error(const conf_t *self, const config_setting_t *s, int code,
                         char *err, size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return code;
    char path[PATH_TEXT_MAX];
    setting_path(s, path, sizeof path);
    int n = snprintf(err, err_len, "%s:%d: %s ", conf_file_of(self, s), conf_line_of(s),
                     path[0] ? path : "(top level)");
    if (n > 0 && (size_t)n < err_len) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err + n, err_len - (size_t)n, fmt, args);
        va_end(args);
    }
    return code;
}

int conf_error_at(const conf_t *self, const config_setting_t *s, int code, char *err,
                  size_t err_len, const char *fmt, ...)
{
    if (!err || err_len == 0)
        return code;
    int line = conf_line_of(s);
    int n = line > 0 ? snprintf(err, err_len, "%s:%d: ", conf_file_of(self, s), line)
                     : snprintf(err, err_len, "%s: ", conf_file_of(self, s));
    if (n > 0 && (size_t)n < err_len) {
        va_list args;
        va_start(args, fmt);
        vsnprintf(err + n, err_len - (size_t)n, fmt, args);
        va_end(args);
    }
    return code;
}

static const char *type_name(const config_setting_t *s)
{
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
        return "a group";
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
        return "an integer";
    case CONFIG_TYPE_FLOAT:
        return "a floating-point number";
    case CONFIG_TYPE_STRING:
        return "a string";
    case CONFIG_TYPE_BOOL:
        return "a boolean";
    case CONFIG_TYPE_ARRAY:
        return "an array";
    case CONFIG_TYPE_LIST:
        return "a list";
    default:
        return "an unknown type";
    }
}

/* Finds path under base. When it is absent because some part of the way is a scalar
 * ("store = 5;" then "store.map_size_mb"), that is the file's mistake, not an absence:
 * CONF_ETYPE naming the blocking setting. */
static int find(const conf_t *self, const config_setting_t *base, const char *path,
                const config_setting_t **found, char *err, size_t err_len)
{
    assert(self && path && *path);
    config_setting_t *from = (config_setting_t *)(base ? base
                                                       : config_root_setting(&self->cfg));
    *found = config_setting_lookup(from, path);
    if (*found)
        return CONF_OK;
    char prefix[PATH_TEXT_MAX];
    for (const char *dot = strchr(path, '.'); dot; dot = strchr(dot + 1, '.')) {
        size_t n = (size_t)(dot - path);
        if (n == 0 || n >= sizeof prefix)
            break;
        memcpy(prefix, path, n);
        prefix[n] = '\0';
        const config_setting_t *part = config_setting_lookup(from, prefix);
        if (part && !config_setting_is_aggregate(part))
            return setting_error(self, part, CONF_ETYPE, err, err_len,
                                 "must be a group or list, got %s", type_name(part));
    }
    return CONF_OK;
}

/* ---------------------------------------------------------------- integers */

/* The text of the line a setting is on; false when unavailable or longer than buf (a
 * cut line could cut the literal and make a right value look wrong). */
static bool source_line(const conf_t *self, const config_setting_t *s, char *buf,
                        size_t len)
{
    unsigned want = config_setting_source_line(s);
    if (want == 0)
        return false;
    if (!config_setting_source_file(s)) {
        const char *p = self->text;
        for (unsigned line = 1; p && line < want; line++)
            p = (p = strchr(p, '\n')) ? p + 1 : NULL;
        size_t n = p ? strcspn(p, "\n") : len;
        if (n >= len)
            return false;
        snprintf(buf, len, "%.*s", (int)n, p);
        return true;
    }
    FILE *f = fopen(conf_file_of(self, s), "r");
    if (!f)
        return false;
    char *text = NULL;
    size_t cap = 0;
    bool found = false;
    for (unsigned line = 1; getline(&text, &cap, f) >= 0; line++) {
        if (line == want) {
            size_t n = strcspn(text, "\n");
            found = n < len;
            if (found)
                snprintf(buf, len, "%.*s", (int)n, text);
            break;
        }
    }
    free(text);
    fclose(f);
    return found;
}

static bool is_name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '*';
}

/* The integer literal written after "name =" (or "name :") on line, or NULL. */
static const char *literal_after_name(const char *line, const char *name)
{
    size_t name_len = strlen(name);
    for (const char *p = strstr(line, name); p; p = strstr(p + 1, name)) {
        if ((p > line && is_name_char(p[-1])) || is_name_char(p[name_len]))
            continue;
        const char *q = p + name_len + strspn(p + name_len, " \t");
        if (*q != '=' && *q != ':')
            continue;
        q += 1 + strspn(q + 1, " \t");
        if (*q == '-' || *q == '+' || isdigit((unsigned char)*q))
            return q;
    }
    return NULL;
}

/* libconfig 1.5 stores a literal without an L suffix in 32 bits, wrapping it silently.
 * Re-read the literal from the source and refuse when the stored value differs. */
static int check_int_literal(const conf_t *self, const config_setting_t *s,
                             int64_t stored, char *err, size_t err_len)
{
    char line[SOURCE_LINE_MAX];
    const char *name = config_setting_name(s);
    if (config_setting_type(s) != CONFIG_TYPE_INT || !name
        || !source_line(self, s, line, sizeof line))
        return CONF_OK; /* best effort: list elements and long lines are not checked */
    const char *literal = literal_after_name(line, name);
    if (!literal)
        return CONF_OK;
    const char *digits = literal + (*literal == '-' || *literal == '+');
    int base = (digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) ? 16 : 10;
    errno = 0;
    char *end;
    long long written = strtoll(literal, &end, base);
    if (end == literal)
        return CONF_OK;
    /* Only a literal outside 32 bits can have wrapped. A small literal that differs from
     * the value belongs to a like-named setting earlier on the same line ("{ from = 0; },
     * { from = 1; }"): not an error. */
    int outside_32 = errno == ERANGE || written < INT32_MIN || written > INT32_MAX;
    if (outside_32 && written != stored) {
        int n = (int)strspn(literal, "+-0123456789abcdefxABCDEFX");
        return setting_error(self, s, CONF_ERANGE, err, err_len,
                             "= %.*s does not fit a 32-bit integer and was read as "
                             "%lld: write it with an L suffix (%.*sL)",
                             n, literal, (long long)stored, n, literal);
    }
    return CONF_OK;
}

int conf_int64_at(const conf_t *self, const config_setting_t *base, const char *path,
                  int64_t dflt, int64_t min, int64_t max, int64_t *out, char *err,
                  size_t err_len)
{
    assert(out && min <= max && dflt >= min && dflt <= max);
    const config_setting_t *s;
    int rc = find(self, base, path, &s, err, err_len);
    if (rc != CONF_OK)
        return rc;
    if (!s) {
        *out = dflt;
        return CONF_OK;
    }
    int type = config_setting_type(s);
    if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
        return setting_error(self, s, CONF_ETYPE, err, err_len,
                             "must be an integer, got %s", type_name(s));
    int64_t value = config_setting_get_int64(s);
    rc = check_int_literal(self, s, value, err, err_len);
    if (rc != CONF_OK)
        return rc;
    if (value < min || value > max)
        return setting_error(self, s, CONF_ERANGE, err, err_len,
                             "must be between %lld and %lld, got %lld", (long long)min,
                             (long long)max, (long long)value);
    *out = value;
    return CONF_OK;
}

int conf_int64(const conf_t *self, const char *path, int64_t dflt, int64_t min,
               int64_t max, int64_t *out, char *err, size_t err_len)
{
    return conf_int64_at(self, NULL, path, dflt, min, max, out, err, err_len);
}

/* ---------------------------------------------------------------- other types */

int conf_bool_at(const conf_t *self, const config_setting_t *base, const char *path,
                 bool dflt, bool *out, char *err, size_t err_len)
{
    assert(out);
    const config_setting_t *s;
    int rc = find(self, base, path, &s, err, err_len);
    if (rc != CONF_OK)
        return rc;
    if (!s) {
        *out = dflt;
        return CONF_OK;
    }
    if (config_setting_type(s) != CONFIG_TYPE_BOOL)
        return setting_error(self, s, CONF_ETYPE, err, err_len,
                             "must be true or false, got %s", type_name(s));
    *out = config_setting_get_bool(s) != 0;
    return CONF_OK;
}

int conf_bool(const conf_t *self, const char *path, bool dflt, bool *out, char *err,
              size_t err_len)
{
    return conf_bool_at(self, NULL, path, dflt, out, err, err_len);
}

/* The string setting at path (*setting NULL when absent), type-checked. */
static int find_string(const conf_t *self, const config_setting_t *base, const char *path,
                       const config_setting_t **setting, char *err, size_t err_len)
{
    int rc = find(self, base, path, setting, err, err_len);
    if (rc == CONF_OK && *setting && config_setting_type(*setting) != CONFIG_TYPE_STRING)
        return setting_error(self, *setting, CONF_ETYPE, err, err_len,
                             "must be a string, got %s", type_name(*setting));
    return rc;
}

int conf_string_at(const conf_t *self, const config_setting_t *base, const char *path,
                   const char *dflt, size_t max_len, const char **out, char *err,
                   size_t err_len)
{
    assert(out && (!dflt || strlen(dflt) <= max_len));
    const config_setting_t *s;
    int rc = find_string(self, base, path, &s, err, err_len);
    if (rc != CONF_OK)
        return rc;
    if (!s) {
        *out = dflt;
        return CONF_OK;
    }
    const char *value = config_setting_get_string(s);
    size_t len = strlen(value);
    if (len > max_len)
        return setting_error(self, s, CONF_ERANGE, err, err_len,
                             "must be at most %zu bytes long, got %zu", max_len, len);
    *out = value;
    return CONF_OK;
}

int conf_string(const conf_t *self, const char *path, const char *dflt, size_t max_len,
                const char **out, char *err, size_t err_len)
{
    return conf_string_at(self, NULL, path, dflt, max_len, out, err, err_len);
}

int conf_strings_at(const conf_t *self, const config_setting_t *base, const char *path,
                    size_t max_count, size_t max_len, const char **out, size_t *count,
                    char *err, size_t err_len)
{
    const config_setting_t *s;
    *count = 0;
    int rc = find(self, base, path, &s, err, err_len);
    if (rc != CONF_OK || !s)
        return rc;
    if (!config_setting_is_array(s) && !config_setting_is_list(s))
        return setting_error(self, s, CONF_ETYPE, err, err_len,
                             "must be a list of strings [\"...\", ...], got %s", type_name(s));
    size_t n = (size_t)config_setting_length(s);
    if (n > max_count)
        return setting_error(self, s, CONF_ERANGE, err, err_len,
                             "lists %zu entries, at most %zu are allowed", n, max_count);
    for (size_t i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        if (config_setting_type(e) != CONFIG_TYPE_STRING)
            return setting_error(self, s, CONF_ETYPE, err, err_len,
                                 "must hold strings only, entry %zu is %s", i + 1, type_name(e));
        const char *v = config_setting_get_string(e);
        if (strlen(v) == 0 || strlen(v) > max_len)
            return setting_error(self, s, CONF_ERANGE, err, err_len,
                                 "entry %zu must be 1 to %zu bytes long", i + 1, max_len);
        out[i] = v;
    }
    *count = n;
    return CONF_OK;
}

/* "debug, info, warn, error" for messages. */
static void join_names(const char *const *names, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; names[i] && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int conf_enum_at(const conf_t *self, const config_setting_t *base, const char *path,
                 const char *const *choices, int dflt_index, int *out_index, char *err,
                 size_t err_len)
{
    assert(choices && choices[0] && out_index && dflt_index >= 0);
    for (int i = 0; i <= dflt_index; i++)
        assert(choices[i] && "dflt_index past the end of choices");
    const config_setting_t *s;
    int rc = find_string(self, base, path, &s, err, err_len);
    if (rc != CONF_OK)
        return rc;
    if (!s) {
        *out_index = dflt_index;
        return CONF_OK;
    }
    const char *value = config_setting_get_string(s);
    for (int i = 0; choices[i]; i++) {
        if (strcmp(value, choices[i]) == 0) {
            *out_index = i;
            return CONF_OK;
        }
    }
    char names[256];
    join_names(choices, names, sizeof names);
    return setting_error(self, s, CONF_ERANGE, err, err_len,
                         "must be one of %s; got \"%.64s\"", names, value);
}

int conf_enum(const conf_t *self, const char *path, const char *const *choices,
              int dflt_index, int *out_index, char *err, size_t err_len)
{
    return conf_enum_at(self, NULL, path, choices, dflt_index, out_index, err, err_len);
}

/* ---------------------------------------------------------------- unknown keys */

static bool is_allowed(const char *name, const char *const *allowed)
{
    for (int i = 0; allowed[i]; i++)
        if (strcmp(name, allowed[i]) == 0)
            return true;
    return false;
}

int conf_check_keys_at(const conf_t *self, const config_setting_t *group,
                       const char *const *allowed, char *err, size_t err_len)
{
    assert(self && allowed);
    if (!group)
        group = config_root_setting(&self->cfg);
    if (!config_setting_is_group(group))
        return setting_error(self, group, CONF_ETYPE, err, err_len,
                             "must be a group, got %s", type_name(group));
    int count = config_setting_length(group);
    for (int i = 0; i < count; i++) {
        const config_setting_t *member = config_setting_get_elem(group, (unsigned)i);
        if (is_allowed(config_setting_name(member), allowed))
            continue;
        char names[256];
        join_names(allowed, names, sizeof names);
        return setting_error(self, member, CONF_EUNKNOWN_KEY, err, err_len,
                             "is not a known setting (known here: %s)",
                             names[0] ? names : "none");
    }
    return CONF_OK;
}

int conf_check_keys(const conf_t *self, const char *group_path, const char *const *allowed,
                    char *err, size_t err_len)
{
    const config_setting_t *group = conf_lookup(self, group_path);
    if (!group)
        return CONF_OK;
    return conf_check_keys_at(self, group, allowed, err, err_len);
}

const char *conf_strerror(int code)
{
    switch (code) {
    case CONF_OK:
        return "success";
    case CONF_ESYNTAX:
        return "configuration syntax error";
    case CONF_ETYPE:
        return "configuration setting of the wrong type";
    case CONF_ERANGE:
        return "configuration value out of range";
    case CONF_EUNKNOWN_KEY:
        return "unknown configuration setting";
    case CONF_EIO:
        return "configuration file cannot be read";
    default:
        return "unknown configuration error";
    }
}

int conf_each_group(const conf_t *self, const char *path, size_t max_count, conf_group_fn *load,
                    void *arg, size_t *count, char *err, size_t err_len)
{
    const config_setting_t *list = conf_lookup(self, path);
    if (!list || !config_setting_is_list(list) || config_setting_length(list) == 0) {
        /* Where it should be: the list itself, else the group that should hold it. */
        char parent[128];
        const char *dot = strrchr(path, '.');
        snprintf(parent, sizeof parent, "%.*s", dot ? (int)(dot - path) : 0, path);
        const config_setting_t *at = list ? list : dot ? conf_lookup(self, parent) : NULL;
        at = at ? at : config_root_setting(&self->cfg);
        return conf_error_at(self, at, CONF_ETYPE, err, err_len,
                             "%s must be a non-empty list of groups ( {...}, ... )", path);
    }
    size_t n = (size_t)config_setting_length(list);
    if (n > max_count)
        return conf_error_at(self, list, CONF_ERANGE, err, err_len, "%s lists %zu, at most %zu",
                             path, n, max_count);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        rc = load(self, config_setting_get_elem(list, (unsigned)i), i, arg, err, err_len);
        *count = i + 1;
    }
    return rc;
}
