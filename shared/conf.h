/* conf: a service's configuration file, read through libconfig, with typed getters
 * that refuse a bad value at start-up and say where it is and why:
 *
 *   /etc/arrears/staging.cfg:12: store.map_size_mb must be between 1 and 65536, got 0
 *
 * Every getter takes a default (used when the setting is absent) and limits; a setting
 * that is present but of the wrong type or out of range is an error, never silently
 * replaced by the default. conf_check_keys() refuses unknown keys, so a typo in a key
 * name is an error at start rather than a default nobody asked for.
 *
 * libconfig 1.5 (Debian 12) parses an integer literal without an L suffix into 32 bits
 * and silently wraps it (5000000000 reads as 705032704). The integer getters look at
 * the literal in the file and refuse one that did not survive, asking for the L
 * suffix ("5000000000L").
 *
 * Named conf because libconfig already owns config_t and config_*. A conf_t is
 * read-only once loaded: getters on one conf_t may run from several threads. */
#ifndef ARREARS_CONF_H
#define ARREARS_CONF_H

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    CONF_OK = 0,
    CONF_ESYNTAX = -30901,      /* the text is not valid libconfig syntax */
    CONF_ETYPE = -30902,        /* a setting of the wrong type */
    CONF_ERANGE = -30903,       /* a value outside its limits or choices */
    CONF_EUNKNOWN_KEY = -30904, /* a key the service does not know (likely a typo) */
    CONF_EIO = -30905,          /* the file cannot be opened or read */
};

typedef struct conf conf_t;

/* Loads a file. NULL with err set on failure:
 *   "path: cannot open: No such file or directory"      (CONF_EIO)
 *   "path:7: syntax error"                              (CONF_ESYNTAX)
 * (file:line of an @include'd file when the error is there). @include paths are
 * relative to the file's directory. code, when not NULL, receives the CONF_ code. */
conf_t *conf_load(const char *path, char *err, size_t err_len);
conf_t *conf_load_code(const char *path, int *code, char *err, size_t err_len);

/* Parses text (tests, embedded defaults); name_for_errors stands for the file name in
 * messages ("<defaults>:3: syntax error"); NULL means "<string>". */
conf_t *conf_parse_string(const char *text, const char *name_for_errors, char *err,
                          size_t err_len);

void conf_destroy(conf_t **self_p);

/* The file path or name_for_errors this conf_t was read from. */
const char *conf_name(const conf_t *self);

/* Typed getters. path is a libconfig path ("store.map_size_mb", "firms.[0].name").
 * Absent: *out = the default and CONF_OK. Wrong type: CONF_ETYPE; out of limits:
 * CONF_ERANGE; both with "file:line: <setting path> must ..." in err and *out
 * untouched. The default itself must be within the limits (asserted). err may be NULL
 * when err_len is 0. */
int conf_int64(const conf_t *self, const char *path, int64_t dflt, int64_t min,
               int64_t max, int64_t *out, char *err, size_t err_len);
int conf_bool(const conf_t *self, const char *path, bool dflt, bool *out, char *err,
              size_t err_len);
/* A string of at most max_len bytes; *out points into the conf_t (valid until
 * conf_destroy) or is dflt, which may be NULL to let the caller see absence. */
int conf_string(const conf_t *self, const char *path, const char *dflt, size_t max_len,
                const char **out, char *err, size_t err_len);
/* A string among choices (NULL-terminated); *out_index is its index, dflt_index when
 * absent. */
int conf_enum(const conf_t *self, const char *path, const char *const *choices,
              int dflt_index, int *out_index, char *err, size_t err_len);

/* Refuses (CONF_EUNKNOWN_KEY) any member of the group at group_path ("" or NULL:
 * the top level) whose name is not in allowed (NULL-terminated). An absent group is
 * fine (nothing to check); a path that is not a group is CONF_ETYPE. */
int conf_check_keys(const conf_t *self, const char *group_path, const char *const *allowed,
                    char *err, size_t err_len);

/* Raw access, to iterate a list or group with libconfig's own functions
 * (config_setting_length, config_setting_get_elem, config_setting_name, ...).
 * conf_lookup: NULL when absent; "" or NULL is the top-level group. */
const config_setting_t *conf_lookup(const conf_t *self, const char *path);
int conf_line_of(const config_setting_t *setting);
/* The file a setting came from (an @include'd file, or conf_name()). */
const char *conf_file_of(const conf_t *self, const config_setting_t *setting);

/* The getters again, with path relative to base (an element of a list, a group) and
 * base NULL meaning the top level; messages still name the full path
 * ("firms.[2].capacity"). For lists of groups such as law firms or strategy arms. */
int conf_int64_at(const conf_t *self, const config_setting_t *base, const char *path,
                  int64_t dflt, int64_t min, int64_t max, int64_t *out, char *err,
                  size_t err_len);
int conf_bool_at(const conf_t *self, const config_setting_t *base, const char *path,
                 bool dflt, bool *out, char *err, size_t err_len);
int conf_string_at(const conf_t *self, const config_setting_t *base, const char *path,
                   const char *dflt, size_t max_len, const char **out, char *err,
                   size_t err_len);
/* A list or array of 0 .. max_count strings, each 1 .. max_len bytes, into out (valid
 * while the conf_t lives); absent: *count 0. */
int conf_strings_at(const conf_t *self, const config_setting_t *base, const char *path,
                    size_t max_count, size_t max_len, const char **out, size_t *count,
                    char *err, size_t err_len);
int conf_enum_at(const conf_t *self, const config_setting_t *base, const char *path,
                 const char *const *choices, int dflt_index, int *out_index, char *err,
                 size_t err_len);
int conf_check_keys_at(const conf_t *self, const config_setting_t *group,
                       const char *const *allowed, char *err, size_t err_len);

/* Writes "file:line: why" about setting s ("file: why" for the top level, which has no
 * line) for checks a caller makes beyond the getters, and returns code. */
int conf_error_at(const conf_t *self, const config_setting_t *s, int code, char *err,
                  size_t err_len, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* A required, non-empty list of at most max_count groups at path ( {...}, ... ): each
 * loaded in order by load(self, group, index, arg); *count says how many were reached.
 * Refused at the list's line (or its parent's) when absent, empty or too long. */
typedef int (conf_group_fn)(const conf_t *self, const config_setting_t *group, size_t index,
                            void *arg, char *err, size_t err_len);
int conf_each_group(const conf_t *self, const char *path, size_t max_count, conf_group_fn *load,
                    void *arg, size_t *count, char *err, size_t err_len);

const char *conf_strerror(int code);

#endif
