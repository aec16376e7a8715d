/* log: key=value event lines written atomically, value quoting, and the masking of
 * personal data. See log.h for the line format and the masking rule. */
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* One write() is atomic on a pipe only up to PIPE_BUF. */
_Static_assert(LOG_LINE_MAX <= PIPE_BUF, "a log line must fit one atomic pipe write");

#define TRUNCATED_MARK " log_truncated=1"

static struct {
    char service[LOG_SERVICE_MAX];
    _Atomic int fd;
    _Atomic int min_level;
} s_log = {"arrears", 2, LOG_INFO};

static _Atomic uint64_t s_dropped;

static const char *const s_level_names[] = {"debug", "info", "warn", "error"};

void log_open(const char *service, int fd, log_level_t min_level)
{
    assert(min_level >= LOG_DEBUG && min_level <= LOG_ERROR);
    snprintf(s_log.service, sizeof s_log.service, "%s", service ? service : "arrears");
    atomic_store(&s_log.fd, fd < 0 ? 2 : fd);
    atomic_store(&s_log.min_level, (int)min_level);
}

bool log_enabled(log_level_t level)
{
    return (int)level >= atomic_load(&s_log.min_level);
}

uint64_t log_dropped_count(void)
{
    return atomic_load(&s_dropped);
}

const char *log_level_name(log_level_t level)
{
    assert(level >= LOG_DEBUG && level <= LOG_ERROR);
    return s_level_names[level];
}

bool log_level_parse(const char *name, log_level_t *level)
{
    assert(level);
    for (int i = LOG_DEBUG; name && i <= LOG_ERROR; i++) {
        if (strcmp(name, s_level_names[i]) == 0) {
            *level = (log_level_t)i;
            return true;
        }
    }
    return false;
}

/* Length of the valid UTF-8 sequence at s (1 to 4 bytes), or 0 when the bytes there
 * are not one: overlong forms, surrogates and code points past U+10FFFF included, so
 * nothing we keep or count can be an invalid or ambiguous character. */
static size_t utf8_valid_len(const unsigned char *s)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Length of the next unit to copy or count as one character: a valid UTF-8 sequence,
 * or a single byte that is not part of one. */
static size_t unit_len(const unsigned char *s, bool *valid)
{
    size_t n = utf8_valid_len(s);
    *valid = n > 0;
    return n > 0 ? n : 1;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7F;
}

/* Bytes that cannot appear in a bare key=value token. */
static bool breaks_token(unsigned char c)
{
    return c == ' ' || c == '"' || c == '=' || c == '\\' || is_control(c);
}

/* The escape for byte c inside a value ("\\n", "\\x01"), written to out[5]; returns
 * its length, or 0 when c needs none. */
static size_t escape_byte(unsigned char c, bool in_quotes, char out[5])
{
    switch (c) {
    case '\n':
        return (size_t)snprintf(out, 5, "\\n");
    case '\r':
        return (size_t)snprintf(out, 5, "\\r");
    case '\t':
        return (size_t)snprintf(out, 5, "\\t");
    case '"':
    case '\\':
        if (!in_quotes)
            return 0;
        return (size_t)snprintf(out, 5, "\\%c", c);
    default:
        if (!is_control(c))
            return 0;
        return (size_t)snprintf(out, 5, "\\x%02x", c);
    }
}

/* ---------------------------------------------------------------- the line */

typedef struct {
    char buf[LOG_LINE_MAX];
    size_t used;
    size_t limit;   /* bytes the text may use: the rest is kept for the ending */
    bool in_quotes; /* inside a quoted value, so a cut can close it */
    bool truncated;
} line_t;

static bool line_put(line_t *line, const char *bytes, size_t n)
{
    if (line->truncated || line->used + n > line->limit) {
        line->truncated = true;
        return false;
    }
    memcpy(line->buf + line->used, bytes, n);
    line->used += n;
    return true;
}

/* Copies formatted text, escaping control characters so the line stays one line.
 * Escape pairs already in the text (\" from log_quote) and UTF-8 sequences are
 * copied whole, so a cut never leaves half of either. */
static void line_put_text(line_t *line, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p && !line->truncated) {
        if (is_control(*p)) {
            char esc[5];
            size_t n = escape_byte(*p, false, esc);
            if (line_put(line, esc, n))
                p++;
            continue;
        }
        bool valid;
        size_t n = unit_len(p, &valid);
        if (line->in_quotes && *p == '\\' && p[1] != '\0' && !is_control(p[1]))
            n = 1 + unit_len(p + 1, &valid);
        if (!line_put(line, (const char *)p, n))
            break;
        if (*p == '"')
            line->in_quotes = !line->in_quotes;
        p += n;
    }
}

static void line_put_header(line_t *line, log_level_t level, const char *event)
{
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    gmtime_r(&now.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    char header[160];
    int n = snprintf(header, sizeof header, "ts=%s.%03ldZ level=%s service=%s pid=%ld event=",
                     ts, now.tv_nsec / 1000000, s_level_names[level], s_log.service,
                     (long)getpid());
    assert(n > 0 && (size_t)n < sizeof header);
    line_put(line, header, (size_t)n);
    line_put_text(line, event);
}

static void line_finish(line_t *line)
{
    /* line->limit kept room for the quote, the mark and the newline. */
    if (line->truncated) {
        if (line->in_quotes)
            line->buf[line->used++] = '"';
        memcpy(line->buf + line->used, TRUNCATED_MARK, strlen(TRUNCATED_MARK));
        line->used += strlen(TRUNCATED_MARK);
    }
    line->buf[line->used++] = '\n';
}

void log_eventv(log_level_t level, const char *event, const char *fmt, va_list args)
{
    assert(level >= LOG_DEBUG && level <= LOG_ERROR);
    assert(event);
    if (!log_enabled(level))
        return;
    int saved_errno = errno;

    line_t line = {.used = 0, .in_quotes = false, .truncated = false};
    line.limit = sizeof line.buf - 1 - strlen(TRUNCATED_MARK) - 1;
    line_put_header(&line, level, event);
    if (fmt && *fmt) {
        /* One byte more than a line can hold, so a body that overflows is seen to. */
        char body[LOG_LINE_MAX + 1];
        int n = vsnprintf(body, sizeof body, fmt, args);
        if (n > 0) {
            line.in_quotes = false;
            line_put(&line, " ", 1);
            line_put_text(&line, body);
            if ((size_t)n >= sizeof body)
                line.truncated = true;
        }
    }
    line_finish(&line);

    ssize_t written;
    do
        written = write(atomic_load(&s_log.fd), line.buf, line.used);
    while (written < 0 && errno == EINTR);
    /* Never a second write for the rest: that is how lines interleave. */
    if (written != (ssize_t)line.used)
        atomic_fetch_add(&s_dropped, 1);
    errno = saved_errno;
}

void log_event(log_level_t level, const char *event, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_eventv(level, event, fmt, args);
    va_end(args);
}

/* ---------------------------------------------------------------- quoting */

static bool needs_quotes(const char *value)
{
    if (*value == '\0')
        return true;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (breaks_token(*p))
            return true;
    return false;
}

/* Writes value (escaped when quoted) into buf up to byte `limit`; returns the bytes
 * written and whether it all fit. Whole characters and escapes only. */
static size_t quote_copy(const unsigned char *p, bool quoted, char *buf, size_t limit,
                         bool *cut)
{
    size_t used = 0;
    *cut = false;
    while (*p) {
        char esc[5];
        size_t n = quoted ? escape_byte(*p, true, esc) : 0;
        const char *src = esc;
        size_t advance = 1;
        if (n == 0) {
            bool valid;
            n = advance = unit_len(p, &valid);
            src = (const char *)p;
        }
        if (used + n > limit) {
            *cut = true;
            break;
        }
        if (buf)
            memcpy(buf + used, src, n);
        used += n;
        p += advance;
    }
    return used;
}

const char *log_quote(const char *value, char *buf, size_t len)
{
    assert(buf && len >= LOG_QUOTE_MIN);
    const unsigned char *p = (const unsigned char *)(value ? value : "");
    bool quoted = needs_quotes((const char *)p);
    size_t quotes = quoted ? 2 : 0;
    bool cut;
    /* A first pass measures; only a value that does not fit gives up room for "...". */
    size_t limit = len - 1 - quotes;
    quote_copy(p, quoted, NULL, limit, &cut);
    if (cut)
        limit -= 3;

    size_t used = 0;
    if (quoted)
        buf[used++] = '"';
    used += quote_copy(p, quoted, buf + used, limit, &cut);
    if (cut) {
        memcpy(buf + used, "...", 3);
        used += 3;
    }
    if (quoted)
        buf[used++] = '"';
    buf[used] = '\0';
    return buf;
}

/* ---------------------------------------------------------------- masking */

typedef struct {
    char *buf;
    size_t len;
    size_t used;
    bool full; /* once something did not fit, nothing after it is written */
} out_t;

static void out_put(out_t *out, const char *bytes, size_t n)
{
    if (out->full || out->used + n + 1 > out->len) {
        out->full = true;
        return;
    }
    memcpy(out->buf + out->used, bytes, n);
    out->used += n;
    out->buf[out->used] = '\0';
}

static size_t count_units(const unsigned char *s, size_t bytes)
{
    size_t units = 0;
    bool valid;
    for (size_t i = 0; i < bytes; units++)
        i += unit_len(s + i, &valid);
    return units;
}

/* Writes `bytes` of text masked by the rule in log.h. */
static void mask_into(out_t *out, const unsigned char *s, size_t bytes)
{
    size_t units = count_units(s, bytes);
    size_t keep_last = units / 4 < 4 ? units / 4 : 4;
    size_t keep_first = units < 4 ? 0 : 1;
    if (units < 4)
        keep_last = 0;

    size_t i = 0;
    for (size_t u = 0; u < units; u++) {
        bool valid;
        size_t n = unit_len(s + i, &valid);
        bool keep = u < keep_first || u >= units - keep_last;
        if (keep && valid && !(n == 1 && breaks_token(s[i])))
            out_put(out, (const char *)s + i, n);
        else
            out_put(out, "*", 1);
        i += n;
    }
}

const char *log_mask(const char *value, char *buf, size_t len)
{
    assert(buf && len >= 1);
    out_t out = {buf, len, 0, false};
    buf[0] = '\0';
    if (value)
        mask_into(&out, (const unsigned char *)value, strlen(value));
    return buf;
}

const char *log_mask_email(const char *value, char *buf, size_t len)
{
    assert(buf && len >= 1);
    buf[0] = '\0';
    if (!value)
        return buf;
    const char *at = strrchr(value, '@');
    if (!at || at == value || at[1] == '\0')
        return log_mask(value, buf, len);

    out_t out = {buf, len, 0, false};
    mask_into(&out, (const unsigned char *)value, (size_t)(at - value));
    out_put(&out, "@", 1);
    /* The domain is kept, but only as characters valid in a bare token. */
    for (const unsigned char *p = (const unsigned char *)at + 1; *p;) {
        bool valid;
        size_t n = unit_len(p, &valid);
        if (valid && !(n == 1 && breaks_token(*p)))
            out_put(&out, (const char *)p, n);
        else
            out_put(&out, "*", 1);
        p += n;
    }
    return buf;
}
