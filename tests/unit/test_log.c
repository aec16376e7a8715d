/* Unit tests for shared/log: the line format read back from a pipe, the one-line rule
 * under hostile values, truncation, lines from concurrent processes never
 * interleaving, value quoting, and the exact output of the masking rule. */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

typedef struct {
    int fds[2]; /* a pipe: the logger writes [1], the test reads [0] */
    char line[LOG_LINE_MAX * 2];
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    if (!f || pipe2(f->fds, O_NONBLOCK) != 0)
        return -1;
    log_open("test", f->fds[1], LOG_DEBUG);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    log_open(NULL, 2, LOG_INFO);
    close(f->fds[0]);
    close(f->fds[1]);
    free(f);
    return 0;
}

/* Everything written since the last read; "" when nothing was. */
static const char *drain(fixture_t *f)
{
    ssize_t n = read(f->fds[0], f->line, sizeof f->line - 1);
    f->line[n > 0 ? n : 0] = '\0';
    return f->line;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; *s; s++)
        n += (*s == c);
    return n;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void assert_matches(const char *text, const char *pattern)
{
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    int rc = regexec(&re, text, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("\"%s\" does not match /%s/", text, pattern);
}

static void test_line_format(void **state)
{
    fixture_t *f = *state;
    log_event(LOG_INFO, "store_open", "path=%s map_size_mb=%d", "/var/arrears/x", 64);
    char pattern[256];
    snprintf(pattern, sizeof pattern,
             "^ts=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z "
             "level=info service=test pid=%ld event=store_open "
             "path=/var/arrears/x map_size_mb=64\n$",
             (long)getpid());
    assert_matches(drain(f), pattern);

    /* No pairs at all: the line ends at the event. */
    log_event(LOG_WARN, "no_pairs", NULL);
    assert_matches(drain(f), " level=warn service=test pid=[0-9]+ event=no_pairs\n$");
    log_event(LOG_ERROR, "no_pairs", "%s", "");
    assert_matches(drain(f), " level=error service=test pid=[0-9]+ event=no_pairs\n$");
    log_event(LOG_DEBUG, "dbg", "k=v");
    assert_matches(drain(f), " level=debug service=test pid=[0-9]+ event=dbg k=v\n$");
}

static void test_levels(void **state)
{
    fixture_t *f = *state;
    log_open("test", f->fds[1], LOG_WARN);
    assert_false(log_enabled(LOG_DEBUG));
    assert_false(log_enabled(LOG_INFO));
    assert_true(log_enabled(LOG_WARN));
    assert_true(log_enabled(LOG_ERROR));
    log_event(LOG_DEBUG, "hidden", "a=1");
    log_event(LOG_INFO, "hidden", "a=1");
    assert_string_equal(drain(f), "");
    log_event(LOG_WARN, "shown", "a=1");
    assert_matches(drain(f), " level=warn service=test pid=[0-9]+ event=shown a=1\n$");
    log_event(LOG_ERROR, "shown", "a=2");
    assert_matches(drain(f), " level=error .* event=shown a=2\n$");

    log_level_t level = LOG_DEBUG;
    assert_true(log_level_parse("error", &level));
    assert_int_equal(level, LOG_ERROR);
    assert_true(log_level_parse("debug", &level));
    assert_int_equal(level, LOG_DEBUG);
    assert_false(log_level_parse("ERROR", &level));
    assert_false(log_level_parse("verbose", &level));
    assert_false(log_level_parse(NULL, &level));
    assert_int_equal(level, LOG_DEBUG);
    assert_string_equal(log_level_name(LOG_WARN), "warn");
}

/* A newline or other control character in a value never starts a second line. */
static void test_newline_in_value_stays_one_line(void **state)
{
    fixture_t *f = *state;
    log_event(LOG_INFO, "note", "text=%s after=1", "a\nb\r\tc\x01\x7f" "d");
    const char *line = drain(f);
    assert_int_equal(count_char(line, '\n'), 1);
    assert_true(ends_with(line, " event=note text=a\\nb\\r\\tc\\x01\\x7fd after=1\n"));

    /* A forged second line stays inside the first. */
    log_event(LOG_INFO, "login", "user=%s", "bob\nts=x level=error event=forged");
    line = drain(f);
    assert_int_equal(count_char(line, '\n'), 1);
    assert_true(ends_with(line, "user=bob\\nts=x level=error event=forged\n"));

    /* And through log_quote, the value stays one parseable token. */
    char q[128];
    log_event(LOG_INFO, "note", "text=%s", log_quote("say \"hi\"\nx=1", q, sizeof q));
    line = drain(f);
    assert_int_equal(count_char(line, '\n'), 1);
    assert_true(ends_with(line, " text=\"say \\\"hi\\\"\\nx=1\"\n"));
}

static void test_truncation(void **state)
{
    fixture_t *f = *state;
    char *big = malloc(10000);
    memset(big, 'x', 9999);
    big[9999] = '\0';

    log_event(LOG_INFO, "big", "v=%s tail=1", big);
    const char *line = drain(f);
    assert_true(strlen(line) <= LOG_LINE_MAX);
    assert_int_equal(count_char(line, '\n'), 1);
    assert_true(ends_with(line, "xxx log_truncated=1\n"));

    /* A cut inside a quoted value closes the quote before the mark. */
    char *quoted = malloc(3 * LOG_LINE_MAX);
    for (size_t i = 0; i + 1 < 2 * LOG_LINE_MAX; i++)
        big[i] = (i % 2) ? ' ' : 'a';
    big[2 * LOG_LINE_MAX - 1] = '\0';
    log_event(LOG_INFO, "big", "v=%s", log_quote(big, quoted, 3 * LOG_LINE_MAX));
    line = drain(f);
    assert_true(strlen(line) <= LOG_LINE_MAX);
    assert_int_equal(count_char(line, '\n'), 1);
    assert_int_equal(count_char(line, '"') % 2, 0);
    assert_true(ends_with(line, "\" log_truncated=1\n"));

    /* A cut never splits a UTF-8 character: the run of 张 (3 bytes each) is whole. */
    const char *zhang = "\xe5\xbc\xa0";
    big[0] = '\0';
    for (int i = 0; i < 2000; i++)
        strcat(big + 0, zhang);
    log_event(LOG_INFO, "big", "v=%s", big);
    line = drain(f);
    const char *start = strstr(line, " v=") + 3;
    const char *end = strstr(line, " log_truncated=1\n");
    assert_non_null(end);
    assert_int_equal((end - start) % 3, 0);
    assert_memory_equal(end - 3, zhang, 3);
    free(big);
    free(quoted);
}

static void test_errno_kept_and_drops_counted(void **state)
{
    fixture_t *f = *state;
    errno = ENOSPC;
    log_event(LOG_INFO, "e", "a=1");
    assert_int_equal(errno, ENOSPC);
    drain(f);

    int spare = dup(f->fds[1]);
    close(spare); /* a descriptor number that is surely closed now */
    uint64_t before = log_dropped_count();
    log_open("test", spare, LOG_DEBUG);
    errno = 0;
    log_event(LOG_ERROR, "lost", "a=1");
    assert_int_equal(errno, 0);
    assert_true(log_dropped_count() == before + 1);
}

/* Several processes append long lines to one file: every line comes back whole. */
static void test_concurrent_processes_never_interleave(void **state)
{
    (void)state;
    char path[] = "/tmp/arrears-test-log-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);

    enum { CHILDREN = 4, LINES = 200, PAYLOAD = 3000 };
    for (int c = 0; c < CHILDREN; c++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            char payload[PAYLOAD + 1];
            memset(payload, 'a' + c, PAYLOAD);
            payload[PAYLOAD] = '\0';
            log_open("child", fd, LOG_INFO);
            for (int i = 0; i < LINES; i++)
                log_event(LOG_INFO, "burst", "child=%d i=%d payload=%s end=1", c, i,
                          payload);
            _exit(0);
        }
    }
    for (int c = 0; c < CHILDREN; c++) {
        int status;
        assert_true(wait(&status) > 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    close(fd);

    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char *line = NULL;
    size_t cap = 0;
    int lines = 0;
    while (getline(&line, &cap, in) > 0) {
        lines++;
        assert_true(strncmp(line, "ts=", 3) == 0);
        assert_true(ends_with(line, " end=1\n"));
        const char *child = strstr(line, " child=");
        assert_non_null(child);
        char expect = (char)('a' + (child[7] - '0'));
        const char *payload = strstr(line, " payload=") + 9;
        for (int i = 0; i < PAYLOAD; i++)
            assert_int_equal(payload[i], expect);
    }
    assert_int_equal(lines, CHILDREN * LINES);
    free(line);
    fclose(in);
    unlink(path);
}

static void test_quote(void **state)
{
    (void)state;
    char buf[64];
    assert_string_equal(log_quote("plain", buf, sizeof buf), "plain");
    assert_string_equal(log_quote("", buf, sizeof buf), "\"\"");
    assert_string_equal(log_quote(NULL, buf, sizeof buf), "\"\"");
    assert_string_equal(log_quote("a b", buf, sizeof buf), "\"a b\"");
    assert_string_equal(log_quote("a=b", buf, sizeof buf), "\"a=b\"");
    assert_string_equal(log_quote("say \"x\"", buf, sizeof buf), "\"say \\\"x\\\"\"");
    assert_string_equal(log_quote("c:\\tmp", buf, sizeof buf), "\"c:\\\\tmp\"");
    assert_string_equal(log_quote("a\nb\r\tc", buf, sizeof buf), "\"a\\nb\\r\\tc\"");
    assert_string_equal(log_quote("\x01\x1f\x7f", buf, sizeof buf), "\"\\x01\\x1f\\x7f\"");
    assert_string_equal(log_quote("张伟", buf, sizeof buf), "张伟");
    assert_ptr_equal(log_quote("x", buf, sizeof buf), buf);
}

static void test_quote_truncation(void **state)
{
    (void)state;
    char buf[LOG_QUOTE_MIN];
    assert_string_equal(log_quote("abcdefg", buf, 8), "abcdefg");  /* exactly fits */
    assert_string_equal(log_quote("abcdefgh", buf, 8), "abcd..."); /* one too many */
    assert_string_equal(log_quote("a b c d e f", buf, 8), "\"a ...\"");
    assert_string_equal(log_quote("a b c", buf, 8), "\"a b c\"");
    /* Whole characters and whole escapes only. */
    assert_string_equal(log_quote("张伟张伟", buf, 8), "张...");
    assert_string_equal(log_quote("a\n\n\n\n", buf, 8), "\"a...\"");
}

static void test_mask(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(log_mask("Zhang Wei", buf, sizeof buf), "Z******ei");
    assert_string_equal(log_mask("+8613800138000", buf, sizeof buf), "+**********000");
    assert_string_equal(log_mask("1234567812345678", buf, sizeof buf),
                        "1***********5678");
    assert_string_equal(log_mask("110101199003077777", buf, sizeof buf), /* 18: keep 4 */
                        "1*************7777");
    assert_string_equal(log_mask("abcd", buf, sizeof buf), "a**d");
    assert_string_equal(log_mask("abcdefgh", buf, sizeof buf), "a*****gh");
    assert_string_equal(log_mask("abc", buf, sizeof buf), "***");
    assert_string_equal(log_mask("a", buf, sizeof buf), "*");
    assert_string_equal(log_mask("", buf, sizeof buf), "");
    assert_string_equal(log_mask(NULL, buf, sizeof buf), "");
    assert_ptr_equal(log_mask("x", buf, sizeof buf), buf);
}

static void test_mask_utf8(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(log_mask("张伟", buf, sizeof buf), "**");
    assert_string_equal(log_mask("王小明", buf, sizeof buf), "***");
    assert_string_equal(log_mask("欧阳娜娜", buf, sizeof buf), "欧**娜");
    assert_string_equal(log_mask("诸葛孔明先生", buf, sizeof buf), "诸****生");
    assert_string_equal(log_mask("Zhang 伟", buf, sizeof buf), "Z*****伟");
    /* A kept space (or '"', '=', '\\') is masked too: the result is a bare token. */
    assert_string_equal(log_mask("Nguyễn Văn An", buf, sizeof buf), "N**********An");
    assert_string_equal(log_mask("Li \"Xiao\"=B", buf, sizeof buf), "L*********B");
    /* Invalid bytes and control characters are never kept, only counted. */
    assert_string_equal(log_mask("\xff\xfe" "abcdef", buf, sizeof buf), "******ef");
    assert_string_equal(log_mask("\nabc", buf, sizeof buf), "***c");
    assert_string_equal(log_mask("abc\xe5\xbc", buf, sizeof buf), "a****"); /* half a 张 */
    assert_string_equal(log_mask("\xc0\xaf" "xyz", buf, sizeof buf), "****z"); /* overlong */
}

static void test_mask_truncation(void **state)
{
    (void)state;
    char buf[8];
    assert_string_equal(log_mask("Zhang Wei", buf, 5), "Z***");
    assert_string_equal(log_mask("欧阳娜娜", buf, 5), "欧*");
    assert_string_equal(log_mask("欧阳娜娜", buf, 4), "欧"); /* never half a character */
    assert_string_equal(log_mask("欧阳娜娜", buf, 3), "");
    assert_string_equal(log_mask("Zhang Wei", buf, 1), "");
    assert_string_equal(log_mask_email("zhangwei@example.com", buf, 8), "z*****e");
}

static void test_mask_email(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(log_mask_email("zhangwei@example.com", buf, sizeof buf),
                        "z*****ei@example.com");
    assert_string_equal(log_mask_email("zhang.wei.1990@mail.example.cn", buf, sizeof buf),
                        "z**********990@mail.example.cn");
    assert_string_equal(log_mask_email("ab@x.cn", buf, sizeof buf), "**@x.cn");
    assert_string_equal(log_mask_email("王小明@例子.中国", buf, sizeof buf),
                        "***@例子.中国");
    /* The last '@' separates the domain. */
    assert_string_equal(log_mask_email("a@b@example.com", buf, sizeof buf),
                        "***@example.com");
    /* Not an address: masked whole. */
    assert_string_equal(log_mask_email("noatsign", buf, sizeof buf), "n*****gn");
    assert_string_equal(log_mask_email("@example.com", buf, sizeof buf), "@********com");
    assert_string_equal(log_mask_email("user@", buf, sizeof buf), "u***@");
    assert_string_equal(log_mask_email("", buf, sizeof buf), "");
    assert_string_equal(log_mask_email(NULL, buf, sizeof buf), "");
    /* A control character, space or quote in the domain is not kept. */
    assert_string_equal(log_mask_email("zhangwei@ex\nam ple\".com", buf, sizeof buf),
                        "z*****ei@ex*am*ple*.com");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_line_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newline_in_value_stays_one_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_truncation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errno_kept_and_drops_counted, setup,
                                        teardown),
        cmocka_unit_test(test_concurrent_processes_never_interleave),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_quote_truncation),
        cmocka_unit_test(test_mask),
        cmocka_unit_test(test_mask_utf8),
        cmocka_unit_test(test_mask_truncation),
        cmocka_unit_test(test_mask_email),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
