/* Unit tests for shared/conf: syntax errors at the right line, every getter's
 * default, type and range errors with their exact file:line text, libconfig's silent
 * 32-bit wrap caught, unknown keys refused, lists walked, real files and @include. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"

#define ERR_LEN 512

static conf_t *parse(const char *text)
{
    char err[ERR_LEN] = "";
    conf_t *conf = conf_parse_string(text, "<test>", err, sizeof err);
    if (!conf)
        fail_msg("unexpected parse error: %s", err);
    return conf;
}

static void test_syntax_error_line(void **state)
{
    (void)state;
    char err[ERR_LEN] = "";
    assert_null(conf_parse_string("a = 1;\nb = 2;\nc = ;\nd = 4;\n", "<test>", err,
                                  sizeof err));
    assert_string_equal(err, "<test>:3: syntax error");

    assert_null(conf_parse_string("store = {\n  path = \"/x\";\n  size = 1;\n  x = 2 3;\n};\n",
                                  NULL, err, sizeof err));
    assert_string_equal(err, "<string>:4: syntax error");

    assert_null(conf_parse_string("a = 1;\na = 2;\n", "<test>", err, sizeof err));
    assert_string_equal(err, "<test>:2: duplicate setting name");

    /* err may be absent; a short one is cut, still terminated. */
    assert_null(conf_parse_string("a = ;", "<test>", NULL, 0));
    char small[8];
    assert_null(conf_parse_string("a = ;", "<test>", small, sizeof small));
    assert_string_equal(small, "<test>:");
}

static void test_int64(void **state)
{
    (void)state;
    conf_t *conf = parse("store = {\n"
                         "  map_size_mb = 0;\n"
                         "  readers = 126;\n"
                         "  path = \"/var/x\";\n"
                         "  ratio = 1.5;\n"
                         "  big = 9223372036854775807L;\n"
                         "  neg = -9223372036854775807L;\n"
                         "};\n");
    char err[ERR_LEN] = "";
    int64_t v = -1;
    assert_int_equal(conf_int64(conf, "store.absent", 64, 1, 65536, &v, err, sizeof err),
                     CONF_OK);
    assert_true(v == 64);
    assert_int_equal(conf_int64(conf, "nowhere.absent", 7, 1, 65536, &v, err, sizeof err),
                     CONF_OK);
    assert_true(v == 7);
    assert_int_equal(conf_int64(conf, "store.readers", 64, 1, 65536, &v, err, sizeof err),
                     CONF_OK);
    assert_true(v == 126);
    assert_int_equal(conf_int64(conf, "store.big", 0, INT64_MIN, INT64_MAX, &v, err,
                                sizeof err),
                     CONF_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(conf_int64(conf, "store.neg", 0, INT64_MIN, INT64_MAX, &v, err,
                                sizeof err),
                     CONF_OK);
    assert_true(v == -INT64_MAX);

    v = 99;
    assert_int_equal(conf_int64(conf, "store.map_size_mb", 64, 1, 65536, &v, err,
                                sizeof err),
                     CONF_ERANGE);
    assert_string_equal(err, "<test>:2: store.map_size_mb must be between 1 and 65536, got 0");
    assert_int_equal(conf_int64(conf, "store.readers", 1, 1, 125, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_string_equal(err, "<test>:3: store.readers must be between 1 and 125, got 126");
    assert_int_equal(conf_int64(conf, "store.path", 64, 1, 65536, &v, err, sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err, "<test>:4: store.path must be an integer, got a string");
    assert_int_equal(conf_int64(conf, "store.ratio", 64, 1, 65536, &v, err, sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err,
                        "<test>:5: store.ratio must be an integer, got a floating-point number");
    assert_int_equal(conf_int64(conf, "store", 64, 1, 65536, &v, err, sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err, "<test>:1: store must be an integer, got a group");
    assert_true(v == 99); /* untouched on every error */
    conf_destroy(&conf);
    assert_null(conf);
}

/* libconfig 1.5 wraps a literal past 32 bits when it has no L suffix. */
static void test_int_literal_wrap_refused(void **state)
{
    (void)state;
    conf_t *conf = parse("retention_ms = 5000000000;\n"
                         "limit = { max_ms = 2592000000; ok_ms = 2592000000L; };\n"
                         "small = -2147483648; tiny = -2147483649;\n"
                         "x = { x = 5000000000; };\n"
                         "hex = 0xffffffff;\n");
    char err[ERR_LEN] = "";
    int64_t v = 0;
    assert_int_equal(conf_int64(conf, "retention_ms", 0, 0, INT64_MAX, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_string_equal(err, "<test>:1: retention_ms = 5000000000 does not fit a 32-bit "
                             "integer and was read as 705032704: write it with an L "
                             "suffix (5000000000L)");
    assert_int_equal(conf_int64(conf, "limit.max_ms", 0, INT64_MIN, INT64_MAX, &v, err,
                                sizeof err),
                     CONF_ERANGE);
    assert_non_null(strstr(err, "<test>:2: limit.max_ms = 2592000000 does not fit"));
    assert_int_equal(conf_int64(conf, "limit.ok_ms", 0, 0, INT64_MAX, &v, err, sizeof err),
                     CONF_OK);
    assert_true(v == 2592000000LL);
    assert_int_equal(conf_int64(conf, "small", 0, INT64_MIN, 0, &v, err, sizeof err),
                     CONF_OK);
    assert_true(v == INT32_MIN);
    assert_int_equal(conf_int64(conf, "tiny", 0, INT64_MIN, INT64_MAX, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_non_null(strstr(err, "<test>:3: tiny = -2147483649 does not fit"));
    assert_int_equal(conf_int64(conf, "x.x", 0, INT64_MIN, INT64_MAX, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_non_null(strstr(err, "<test>:4: x.x = 5000000000 does not fit"));
    assert_int_equal(conf_int64(conf, "hex", 0, INT64_MIN, INT64_MAX, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_non_null(strstr(err, "(0xffffffffL)"));
    conf_destroy(&conf);

    /* A line too long to re-read whole is not judged on a cut literal. */
    char text[1200];
    int pad = 1020 - (int)strlen("pad = \"\"; n = ");
    snprintf(text, sizeof text, "pad = \"%0*d\"; n = 50000;\n", pad, 0);
    assert_int_equal(strstr(text, "50000") - text, 1020);
    conf = parse(text);
    assert_int_equal(conf_int64(conf, "n", 0, 0, INT64_MAX, &v, err, sizeof err), CONF_OK);
    assert_true(v == 50000);
    conf_destroy(&conf);
}

static void test_scalar_in_the_way(void **state)
{
    (void)state;
    conf_t *conf = parse("name = \"x\";\nstore = 5;\n");
    char err[ERR_LEN] = "";
    int64_t v = 3;
    assert_int_equal(conf_int64(conf, "store.map_size_mb", 64, 1, 65536, &v, err,
                                sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err, "<test>:2: store must be a group or list, got an integer");
    assert_true(v == 3);
    conf_destroy(&conf);
}

static void test_bool(void **state)
{
    (void)state;
    conf_t *conf = parse("a = true;\nb = false;\nc = 1;\nd = \"yes\";\n");
    char err[ERR_LEN] = "";
    bool v = false;
    assert_int_equal(conf_bool(conf, "a", false, &v, err, sizeof err), CONF_OK);
    assert_true(v);
    assert_int_equal(conf_bool(conf, "b", true, &v, err, sizeof err), CONF_OK);
    assert_false(v);
    assert_int_equal(conf_bool(conf, "absent", true, &v, err, sizeof err), CONF_OK);
    assert_true(v);
    assert_int_equal(conf_bool(conf, "c", false, &v, err, sizeof err), CONF_ETYPE);
    assert_string_equal(err, "<test>:3: c must be true or false, got an integer");
    assert_int_equal(conf_bool(conf, "d", false, &v, err, sizeof err), CONF_ETYPE);
    assert_string_equal(err, "<test>:4: d must be true or false, got a string");
    assert_true(v);
    conf_destroy(&conf);
}

static void test_string(void **state)
{
    (void)state;
    conf_t *conf = parse("net = {\n  endpoint = \"ipc:///tmp/a\";\n  name = \"toolong\";\n"
                         "  port = 5555;\n  empty = \"\";\n};\n");
    char err[ERR_LEN] = "";
    const char *v = "unset";
    assert_int_equal(conf_string(conf, "net.endpoint", NULL, 100, &v, err, sizeof err),
                     CONF_OK);
    assert_string_equal(v, "ipc:///tmp/a");
    assert_int_equal(conf_string(conf, "net.empty", "d", 100, &v, err, sizeof err), CONF_OK);
    assert_string_equal(v, "");
    assert_int_equal(conf_string(conf, "net.absent", "dflt", 100, &v, err, sizeof err),
                     CONF_OK);
    assert_string_equal(v, "dflt");
    assert_int_equal(conf_string(conf, "net.absent", NULL, 100, &v, err, sizeof err),
                     CONF_OK);
    assert_null(v);
    /* Exactly max_len is fine; one byte more is not. */
    assert_int_equal(conf_string(conf, "net.name", NULL, 7, &v, err, sizeof err), CONF_OK);
    assert_string_equal(v, "toolong");
    v = "unset";
    assert_int_equal(conf_string(conf, "net.name", NULL, 6, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_string_equal(err, "<test>:3: net.name must be at most 6 bytes long, got 7");
    assert_int_equal(conf_string(conf, "net.port", NULL, 6, &v, err, sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err, "<test>:4: net.port must be a string, got an integer");
    assert_string_equal(v, "unset");
    conf_destroy(&conf);
}

static void test_enum(void **state)
{
    (void)state;
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    conf_t *conf = parse("log = { level = \"warn\"; bad = \"verbose\"; num = 2; };\n");
    char err[ERR_LEN] = "";
    int v = -1;
    assert_int_equal(conf_enum(conf, "log.level", levels, 1, &v, err, sizeof err), CONF_OK);
    assert_int_equal(v, 2);
    assert_int_equal(conf_enum(conf, "log.absent", levels, 1, &v, err, sizeof err),
                     CONF_OK);
    assert_int_equal(v, 1);
    v = -1;
    assert_int_equal(conf_enum(conf, "log.bad", levels, 1, &v, err, sizeof err),
                     CONF_ERANGE);
    assert_string_equal(err, "<test>:1: log.bad must be one of debug, info, warn, error; "
                             "got \"verbose\"");
    assert_int_equal(conf_enum(conf, "log.num", levels, 1, &v, err, sizeof err), CONF_ETYPE);
    assert_string_equal(err, "<test>:1: log.num must be a string, got an integer");
    assert_int_equal(v, -1);
    conf_destroy(&conf);
}

static void test_unknown_keys(void **state)
{
    (void)state;
    static const char *const top[] = {"store", "log", NULL};
    static const char *const store[] = {"path", "map_size_mb", NULL};
    conf_t *conf = parse("store = {\n  path = \"/x\";\n  map_sizemb = 64;\n};\nlog = {};\n");
    char err[ERR_LEN] = "";
    assert_int_equal(conf_check_keys(conf, "", top, err, sizeof err), CONF_OK);
    assert_int_equal(conf_check_keys(conf, NULL, top, err, sizeof err), CONF_OK);
    assert_int_equal(conf_check_keys(conf, "log", store, err, sizeof err), CONF_OK);
    assert_int_equal(conf_check_keys(conf, "absent", store, err, sizeof err), CONF_OK);
    assert_int_equal(conf_check_keys(conf, "store", store, err, sizeof err),
                     CONF_EUNKNOWN_KEY);
    assert_string_equal(err, "<test>:3: store.map_sizemb is not a known setting "
                             "(known here: path, map_size_mb)");
    static const char *const only_log[] = {"log", NULL};
    assert_int_equal(conf_check_keys(conf, NULL, only_log, err, sizeof err),
                     CONF_EUNKNOWN_KEY);
    assert_string_equal(err, "<test>:1: store is not a known setting (known here: log)");
    assert_int_equal(conf_check_keys(conf, "store.path", store, err, sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err, "<test>:2: store.path must be a group, got a string");
    conf_destroy(&conf);
}

/* A list of groups, walked with conf_lookup and the _at getters. */
static void test_string_lists(void **state)
{
    (void)state;
    conf_t *conf = parse("regions = [\"CN\", \"US-NY\"];\n"
                         "mixed = (\"CN\", 3);\n"
                         "long = [\"CN\", \"ABCDEFGHIJKLMNOPQ\"];\n"
                         "many = [\"a\", \"b\", \"c\"];\n"
                         "one = \"CN\";\n"
                         "empty = [\"\"];\n");
    char err[ERR_LEN] = "";
    const char *out[2];
    size_t n = 9;
    assert_int_equal(conf_strings_at(conf, NULL, "regions", 2, 16, out, &n, err, sizeof err), CONF_OK);
    assert_int_equal(n, 2);
    assert_string_equal(out[1], "US-NY");
    assert_int_equal(conf_strings_at(conf, NULL, "absent", 2, 16, out, &n, err, sizeof err), CONF_OK);
    assert_int_equal(n, 0);
    assert_int_equal(conf_strings_at(conf, NULL, "mixed", 2, 16, out, &n, err, sizeof err), CONF_ETYPE);
    assert_non_null(strstr(err, "<test>:2: mixed must hold strings only, entry 2 is"));
    assert_int_equal(conf_strings_at(conf, NULL, "long", 2, 16, out, &n, err, sizeof err), CONF_ERANGE);
    assert_non_null(strstr(err, "<test>:3: long entry 2 must be 1 to 16 bytes long"));
    assert_int_equal(conf_strings_at(conf, NULL, "many", 2, 16, out, &n, err, sizeof err), CONF_ERANGE);
    assert_non_null(strstr(err, "lists 3 entries, at most 2 are allowed"));
    assert_int_equal(conf_strings_at(conf, NULL, "one", 2, 16, out, &n, err, sizeof err), CONF_ETYPE);
    assert_non_null(strstr(err, "must be a list of strings"));
    assert_int_equal(conf_strings_at(conf, NULL, "empty", 2, 16, out, &n, err, sizeof err), CONF_ERANGE);
    conf_destroy(&conf);
}

static void test_list_of_groups(void **state)
{
    (void)state;
    static const char *const firm_keys[] = {"name", "capacity", "region", NULL};
    conf_t *conf = parse("firms = (\n"
                         "  { name = \"Alpha Law\"; capacity = 100; },\n"
                         "  { name = \"Beta Law\";\n"
                         "    capacity = 0; },\n"
                         "  { name = \"Gamma\"; capcity = 5; }\n"
                         ");\n");
    const config_setting_t *firms = conf_lookup(conf, "firms");
    assert_non_null(firms);
    assert_int_equal(config_setting_length(firms), 3);
    assert_int_equal(conf_line_of(firms), 1);
    assert_string_equal(conf_file_of(conf, firms), "<test>");
    assert_null(conf_lookup(conf, "nothing"));
    assert_non_null(conf_lookup(conf, ""));

    char err[ERR_LEN] = "";
    const char *name = NULL;
    int64_t capacity = 0;
    const config_setting_t *first = config_setting_get_elem(firms, 0);
    assert_int_equal(conf_check_keys_at(conf, first, firm_keys, err, sizeof err), CONF_OK);
    assert_int_equal(conf_string_at(conf, first, "name", NULL, 64, &name, err, sizeof err),
                     CONF_OK);
    assert_string_equal(name, "Alpha Law");
    assert_int_equal(conf_int64_at(conf, first, "capacity", 10, 1, 1000, &capacity, err,
                                   sizeof err),
                     CONF_OK);
    assert_true(capacity == 100);

    const config_setting_t *second = config_setting_get_elem(firms, 1);
    assert_int_equal(conf_int64_at(conf, second, "capacity", 10, 1, 1000, &capacity, err,
                                   sizeof err),
                     CONF_ERANGE);
    assert_string_equal(err, "<test>:4: firms.[1].capacity must be between 1 and 1000, got 0");
    /* The full path in a message can be looked up again. */
    assert_non_null(conf_lookup(conf, "firms.[1].capacity"));

    const config_setting_t *third = config_setting_get_elem(firms, 2);
    assert_int_equal(conf_check_keys_at(conf, third, firm_keys, err, sizeof err),
                     CONF_EUNKNOWN_KEY);
    assert_string_equal(err, "<test>:5: firms.[2].capcity is not a known setting "
                             "(known here: name, capacity, region)");
    bool flag = false;
    assert_int_equal(conf_bool_at(conf, third, "active", true, &flag, err, sizeof err),
                     CONF_OK);
    assert_true(flag);
    static const char *const regions[] = {"north", "south", NULL};
    int region = -1;
    assert_int_equal(conf_enum_at(conf, third, "region", regions, 1, &region, err,
                                  sizeof err),
                     CONF_OK);
    assert_int_equal(region, 1);
    assert_int_equal(conf_check_keys_at(conf, firms, firm_keys, err, sizeof err),
                     CONF_ETYPE);
    assert_string_equal(err, "<test>:1: firms must be a group, got a list");
    conf_destroy(&conf);
}

/* ---------------------------------------------------------------- real files */

typedef struct {
    char dir[64];
    char path[128];
    char other[128];
} files_t;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static int files_setup(void **state)
{
    files_t *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/arrears-conf-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof f->path, "%s/staging.cfg", f->dir);
    snprintf(f->other, sizeof f->other, "%s/store.cfg", f->dir);
    *state = f;
    return 0;
}

static int files_teardown(void **state)
{
    files_t *f = *state;
    unlink(f->path);
    unlink(f->other);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void test_file_loaded(void **state)
{
    files_t *f = *state;
    write_file(f->other, "map_size_mb = 64;\nmap_max_mb = 0;\n");
    write_file(f->path, "# staging\nname = \"staging\";\nstore = {\n  @include \"store.cfg\"\n};\n"
                        "log = { level = \"info\"; };\n");
    char err[ERR_LEN] = "";
    int code = 1;
    conf_t *conf = conf_load_code(f->path, &code, err, sizeof err);
    assert_non_null(conf);
    assert_int_equal(code, CONF_OK);
    assert_string_equal(conf_name(conf), f->path);

    const char *name = NULL;
    assert_int_equal(conf_string(conf, "name", NULL, 32, &name, err, sizeof err), CONF_OK);
    assert_string_equal(name, "staging");
    int64_t v = 0;
    assert_int_equal(conf_int64(conf, "store.map_size_mb", 1, 1, 65536, &v, err, sizeof err),
                     CONF_OK);
    assert_true(v == 64);

    /* An error in an included setting names the included file and its line. */
    char expect[ERR_LEN];
    assert_int_equal(conf_int64(conf, "store.map_max_mb", 1, 1, 65536, &v, err, sizeof err),
                     CONF_ERANGE);
    snprintf(expect, sizeof expect, "%s:2: store.map_max_mb must be between 1 and 65536, got 0",
             f->other);
    assert_string_equal(err, expect);
    const config_setting_t *log = conf_lookup(conf, "log.level");
    assert_string_equal(conf_file_of(conf, log), f->path);
    assert_int_equal(conf_line_of(log), 6);
    conf_destroy(&conf);
    assert_null(conf);
}

static void test_file_errors(void **state)
{
    files_t *f = *state;
    char err[ERR_LEN] = "";
    char expect[ERR_LEN];
    int code = 0;

    /* Missing file: the reason, not just "I/O error". */
    assert_null(conf_load_code(f->path, &code, err, sizeof err));
    assert_int_equal(code, CONF_EIO);
    snprintf(expect, sizeof expect, "%s: cannot open: No such file or directory", f->path);
    assert_string_equal(err, expect);
    assert_null(conf_load(f->dir, err, sizeof err));
    snprintf(expect, sizeof expect, "%s: cannot open: not a regular file", f->dir);
    assert_string_equal(err, expect);

    write_file(f->path, "a = 1;\n\nb = {\n  c = 2;\n  d = = 3;\n};\n");
    assert_null(conf_load_code(f->path, &code, err, sizeof err));
    assert_int_equal(code, CONF_ESYNTAX);
    snprintf(expect, sizeof expect, "%s:5: syntax error", f->path);
    assert_string_equal(err, expect);

    /* A syntax error inside an included file is reported there. */
    write_file(f->other, "x = 1;\ny = ;\n");
    write_file(f->path, "a = 1;\n@include \"store.cfg\"\n");
    assert_null(conf_load_code(f->path, &code, err, sizeof err));
    assert_int_equal(code, CONF_ESYNTAX);
    snprintf(expect, sizeof expect, "%s:2: syntax error", f->other);
    assert_string_equal(err, expect);

    /* A wrapped 32-bit literal is caught in a real file, and in an included one. */
    write_file(f->other, "\n\n  keep_ms = 5000000000;\n");
    write_file(f->path, "# retention\nretention_ms = 2592000000;\n"
                        "feed = {\n@include \"store.cfg\"\n};\n");
    conf_t *conf = conf_load(f->path, err, sizeof err);
    assert_non_null(conf);
    int64_t v = 0;
    assert_int_equal(conf_int64(conf, "retention_ms", 0, 0, INT64_MAX, &v, err, sizeof err),
                     CONF_ERANGE);
    snprintf(expect, sizeof expect, "%s:2: retention_ms = 2592000000 does not fit", f->path);
    assert_true(strncmp(err, expect, strlen(expect)) == 0);
    assert_int_equal(conf_int64(conf, "feed.keep_ms", 0, 0, INT64_MAX, &v, err, sizeof err),
                     CONF_ERANGE);
    snprintf(expect, sizeof expect, "%s:3: feed.keep_ms = 5000000000 does not fit",
             f->other);
    assert_true(strncmp(err, expect, strlen(expect)) == 0);
    conf_destroy(&conf);
}

static void test_strerror(void **state)
{
    (void)state;
    int codes[] = {CONF_OK, CONF_ESYNTAX, CONF_ETYPE, CONF_ERANGE, CONF_EUNKNOWN_KEY,
                   CONF_EIO};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(conf_strerror(codes[i]), conf_strerror(codes[j]));
    assert_string_equal(conf_strerror(1), "unknown configuration error");
    assert_int_equal(CONF_ESYNTAX, -30901);
    assert_int_equal(CONF_EIO, -30905);
    conf_t *none = NULL;
    conf_destroy(&none);
    assert_null(none);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax_error_line),
        cmocka_unit_test(test_int64),
        cmocka_unit_test(test_int_literal_wrap_refused),
        cmocka_unit_test(test_scalar_in_the_way),
        cmocka_unit_test(test_bool),
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_enum),
        cmocka_unit_test(test_unknown_keys),
        cmocka_unit_test(test_string_lists),
        cmocka_unit_test(test_list_of_groups),
        cmocka_unit_test_setup_teardown(test_file_loaded, files_setup, files_teardown),
        cmocka_unit_test_setup_teardown(test_file_errors, files_setup, files_teardown),
        cmocka_unit_test(test_strerror),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
