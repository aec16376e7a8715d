/* log: one line per event, key=value, no personal data in clear.
 *
 *   ts=2026-11-24T00:22:04.123Z level=info service=intake pid=123 event=store_open
 *   path=/var/arrears/intake map_size_mb=64
 *
 * (one line in the file). Each line is built in a bounded buffer and written with ONE
 * write() of at most LOG_LINE_MAX bytes, which is PIPE_BUF on Linux: lines from
 * concurrent processes and threads on the same pipe or O_APPEND file never interleave.
 * A longer line is cut (never split over two lines) and ends in " log_truncated=1".
 * Control characters in the formatted text are escaped (\n, \r, \t, \xNN), so a value
 * with a newline can never forge a second line.
 *
 * Values that may hold spaces, quotes or '=' go through log_quote(); values that are
 * personal data (names, phones, e-mails, id numbers, addresses) go through log_mask()
 * or log_mask_email() and are never logged in clear.
 *
 * log_open() sets process-wide state: call it at start-up, before any thread logs.
 * Until then lines go to fd 2 as service "arrears" at LOG_INFO and above. */
#ifndef ARREARS_LOG_H
#define ARREARS_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* <syslog.h> defines LOG_DEBUG and LOG_INFO as macros; the two cannot meet in one
 * translation unit, so say so plainly instead of failing in an enum. */
#if defined(LOG_DEBUG) || defined(LOG_INFO)
#error "log.h cannot be included together with <syslog.h>"
#endif

typedef enum {
    LOG_DEBUG = 0,
    LOG_INFO = 1,
    LOG_WARN = 2,
    LOG_ERROR = 3,
} log_level_t;

/* Longest line written, newline included: PIPE_BUF, the size Linux writes atomically
 * to a pipe. */
#define LOG_LINE_MAX 4096

/* Longest service name kept (longer names are cut). */
#define LOG_SERVICE_MAX 32

/* Smallest buffer log_quote() accepts: room for a cut value, `"..."`, and the NUL. */
#define LOG_QUOTE_MIN 8

/* service NULL: "arrears"; fd < 0: 2 (stderr). The fd stays the caller's: never
 * closed here. */
void log_open(const char *service, int fd, log_level_t min_level);

/* Writes one line if level >= the minimum. fmt is printf-style key=value pairs
 * separated by single spaces ("path=%s map_size_mb=%d"), or NULL/"" for none.
 * Keeps errno, so a caller may log a failure and then look at errno. */
void log_event(log_level_t level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_eventv(log_level_t level, const char *event, const char *fmt, va_list args)
    __attribute__((format(printf, 3, 0)));

/* True when a line at this level would be written: skip building costly values. */
bool log_enabled(log_level_t level);

/* Lines lost because write() failed or wrote short (full non-blocking pipe, closed
 * fd): a counter for the metrics endpoint, since a logger cannot log its own loss. */
uint64_t log_dropped_count(void);

/* "debug", "info", "warn", "error"; parse accepts exactly those (for config). */
const char *log_level_name(log_level_t level);
bool log_level_parse(const char *name, log_level_t *level);

/* A value safe after "key=": returned as is when it holds no space, '"', '=', '\\'
 * or control character; otherwise in double quotes with \" \\ \n \r \t \xNN escapes.
 * NULL and "" become "". A value too long for buf is cut at a character boundary and
 * ends in "..." (inside the quotes). Returns buf; len >= LOG_QUOTE_MIN. */
const char *log_quote(const char *value, char *buf, size_t len);

/* Masks personal data so a person can recognise a record without being able to
 * identify anyone. The rule, counted in UTF-8 code points (never splitting one):
 *   - fewer than 4 code points: every one becomes '*' ("张伟" -> "**");
 *   - otherwise keep the first code point and the last min(4, n / 4), and every
 *     code point between becomes one '*':
 *       "Zhang Wei" -> "Z******ei", "+8613800138000" -> "+**********000",
 *       "欧阳娜娜" -> "欧**娜".
 * Bytes that are not valid UTF-8 count as one code point each. A kept code point that
 * is not valid UTF-8, a control character, a space, '"', '=' or '\\' shows as '*'
 * too, so the result is always a bare token, safe after "key=" without log_quote().
 * NULL and "" give "". When buf is too small the result is cut at a code point
 * boundary (it then shows less, never more). Returns buf; len >= 1. */
const char *log_mask(const char *value, char *buf, size_t len);

/* An e-mail address: the local part masked by the rule above, the domain after the
 * last '@' kept (as bare-token characters), since the provider helps an operator
 * and identifies no one:
 * "zhangwei@example.com" -> "z*****ei@example.com". Without a usable '@' (none, or
 * nothing before or after it) the whole value is masked as by log_mask(). */
const char *log_mask_email(const char *value, char *buf, size_t len);

#endif
