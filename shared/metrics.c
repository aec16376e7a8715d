/* metrics: see metrics.h. The series live in fixed arrays guarded by one mutex; the HTTP
 * server is libmicrohttpd's own polling thread, which only renders and answers. */
#include "metrics.h"

#include <arpa/inet.h>
#include <assert.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "log.h"

#define HELP_MAX 160
#define HTTP_CONNECTIONS_MAX 16
#define HTTP_TIMEOUT_S 10

typedef struct {
    char name[METRICS_NAME_MAX + 1];
    char help[HELP_MAX + 1];
    metrics_kind_t kind;
} family_t;

typedef struct {
    int family;
    size_t label_count;
    char label_name[METRICS_LABELS_MAX][METRICS_NAME_MAX + 1];
    char label_value[METRICS_LABELS_MAX][METRICS_NAME_MAX + 1];
    uint64_t count;                          /* a counter's value */
    int64_t gauge;
    uint64_t buckets[METRICS_BUCKETS + 1];   /* per bucket, not cumulative; last: over all */
    uint64_t sum_us;
} series_t;

struct metrics {
    pthread_mutex_t lock;
    char service[METRICS_NAME_MAX + 1];
    family_t families[METRICS_FAMILIES_MAX];
    size_t family_count;
    series_t series[METRICS_SERIES_MAX];
    size_t series_count;
    struct MHD_Daemon *daemon;
    int64_t beat_stale_ms;
    int64_t beat_ms;                         /* 0: no beat yet */
    bool ready, stopping;
};

static const int64_t bounds_us[METRICS_BUCKETS] = METRICS_BUCKET_BOUNDS_US;

int64_t metrics_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

metrics_t *metrics_new(const char *service)
{
    assert(service);
    if (strlen(service) > METRICS_NAME_MAX)
        return NULL;
    metrics_t *self = calloc(1, sizeof *self);
    if (!self || pthread_mutex_init(&self->lock, NULL) != 0) {
        free(self);
        return NULL;
    }
    snprintf(self->service, sizeof self->service, "%s", service);
    return self;
}

void metrics_destroy(metrics_t **self_p)
{
    assert(self_p);
    metrics_t *self = *self_p;
    if (!self)
        return;
    if (self->daemon)   /* joins the server's thread: no request is running after this */
        MHD_stop_daemon(self->daemon);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- registering */

static bool valid_name(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > METRICS_NAME_MAX || (name[0] >= '0' && name[0] <= '9'))
        return false;
    return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static bool valid_labels(const metrics_label_t *labels, size_t count)
{
    if (count > METRICS_LABELS_MAX)
        return false;
    for (size_t i = 0; i < count; i++)
        if (!valid_name(labels[i].name) || strcmp(labels[i].name, "service") == 0 ||
            strcmp(labels[i].name, "le") == 0 || !labels[i].value ||
            strlen(labels[i].value) > METRICS_NAME_MAX)
            return false;
    return true;
}

/* The family's index, added when new; -1 with *rc set when it cannot be. */
static int family_of(metrics_t *self, metrics_kind_t kind, const char *name, const char *help,
                     int *rc)
{
    for (size_t i = 0; i < self->family_count; i++) {
        const family_t *f = &self->families[i];
        if (strcmp(f->name, name) == 0) {
            *rc = f->kind == kind && strcmp(f->help, help) == 0 ? METRICS_OK : METRICS_EINVALID;
            return *rc == METRICS_OK ? (int)i : -1;
        }
    }
    if (self->family_count == METRICS_FAMILIES_MAX) {
        *rc = METRICS_EFULL;
        return -1;
    }
    family_t *f = &self->families[self->family_count];
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->help, sizeof f->help, "%s", help);
    f->kind = kind;
    *rc = METRICS_OK;
    return (int)self->family_count++;
}

static bool same_labels(const series_t *s, const metrics_label_t *labels, size_t count)
{
    if (s->label_count != count)
        return false;
    for (size_t i = 0; i < count; i++)
        if (strcmp(s->label_name[i], labels[i].name) != 0 ||
            strcmp(s->label_value[i], labels[i].value) != 0)
            return false;
    return true;
}

static int add_locked(metrics_t *self, metrics_kind_t kind, const char *name, const char *help,
                      const metrics_label_t *labels, size_t label_count, int *id)
{
    int rc = METRICS_OK;
    int family = family_of(self, kind, name, help, &rc);
    if (family < 0)
        return rc;
    for (size_t i = 0; i < self->series_count; i++)
        if (self->series[i].family == family && same_labels(&self->series[i], labels, label_count)) {
            *id = (int)i;
            return METRICS_OK;
        }
    if (self->series_count == METRICS_SERIES_MAX)
        return METRICS_EFULL;
    series_t *s = &self->series[self->series_count];
    memset(s, 0, sizeof *s);
    s->family = family;
    s->label_count = label_count;
    for (size_t i = 0; i < label_count; i++) {
        snprintf(s->label_name[i], sizeof s->label_name[i], "%s", labels[i].name);
        snprintf(s->label_value[i], sizeof s->label_value[i], "%s", labels[i].value);
    }
    *id = (int)self->series_count++;
    return METRICS_OK;
}

int metrics_add(metrics_t *self, metrics_kind_t kind, const char *name, const char *help,
                const metrics_label_t *labels, size_t label_count, int *id)
{
    assert(self && id && (labels || label_count == 0));
    if (!valid_name(name) || !help || strlen(help) > HELP_MAX || !valid_labels(labels, label_count))
        return METRICS_EINVALID;
    pthread_mutex_lock(&self->lock);
    int rc = add_locked(self, kind, name, help, labels, label_count, id);
    pthread_mutex_unlock(&self->lock);
    return rc;
}

/* ---------------------------------------------------------------- updating */

static series_t *series_locked(metrics_t *self, int id, metrics_kind_t kind)
{
    pthread_mutex_lock(&self->lock);
    assert(id >= 0 && (size_t)id < self->series_count);
    series_t *s = &self->series[id];
    assert(self->families[s->family].kind == kind);
    (void)kind;
    return s;
}

void metrics_inc(metrics_t *self, int id, uint64_t n)
{
    series_locked(self, id, METRICS_COUNTER)->count += n;
    pthread_mutex_unlock(&self->lock);
}

void metrics_counter_set(metrics_t *self, int id, uint64_t total)
{
    series_locked(self, id, METRICS_COUNTER)->count = total;
    pthread_mutex_unlock(&self->lock);
}

void metrics_gauge_set(metrics_t *self, int id, int64_t value)
{
    series_locked(self, id, METRICS_GAUGE)->gauge = value;
    pthread_mutex_unlock(&self->lock);
}

void metrics_observe_us(metrics_t *self, int id, int64_t elapsed_us)
{
    uint64_t us = elapsed_us > 0 ? (uint64_t)elapsed_us : 0;
    size_t b = 0;
    while (b < METRICS_BUCKETS && (int64_t)us > bounds_us[b])   /* le: a bound is inclusive */
        b++;
    series_t *s = series_locked(self, id, METRICS_HISTOGRAM);
    s->buckets[b]++;
    s->sum_us += us;
    pthread_mutex_unlock(&self->lock);
}

/* ---------------------------------------------------------------- rendering */

typedef struct {
    char *p;
    size_t len, cap;
    bool failed;
} text_t;

static void put(text_t *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(text_t *t, const char *fmt, ...)
{
    for (int tries = 0; !t->failed && tries < 2; tries++) {
        va_list args;
        va_start(args, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, args);
        va_end(args);
        if (n < 0) {
            t->failed = true;
        } else if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        } else {
            size_t cap = t->cap * 2 > t->len + (size_t)n + 1 ? t->cap * 2 : t->len + (size_t)n + 1;
            char *p = realloc(t->p, cap);
            t->failed = !p;
            t->p = p ? p : t->p;
            t->cap = p ? cap : t->cap;
        }
    }
}

/* A label value or help text as the format wants it: \\, \n, and \" in label values. */
static void put_escaped(text_t *t, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            put(t, "\\\\");
        else if (*s == '\n')
            put(t, "\\n");
        else if (*s == '"' && quote)
            put(t, "\\\"");
        else
            put(t, "%c", *s);
    }
}

/* {service="x",a="b"[,le="0.001"]} */
static void put_labels(text_t *t, const metrics_t *self, const series_t *s, const char *le)
{
    put(t, "{service=\"");
    put_escaped(t, self->service, true);
    for (size_t i = 0; i < s->label_count; i++) {
        put(t, "\",%s=\"", s->label_name[i]);
        put_escaped(t, s->label_value[i], true);
    }
    if (le)
        put(t, "\",le=\"%s", le);
    put(t, "\"}");
}

static void put_histogram(text_t *t, const metrics_t *self, const family_t *f, const series_t *s)
{
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= METRICS_BUCKETS; b++) {
        char le[32];
        if (b < METRICS_BUCKETS)
            snprintf(le, sizeof le, "%g", (double)bounds_us[b] / 1e6);
        else
            snprintf(le, sizeof le, "+Inf");
        cumulative += s->buckets[b];
        put(t, "%s_bucket", f->name);
        put_labels(t, self, s, le);
        put(t, " %llu\n", (unsigned long long)cumulative);
    }
    put(t, "%s_sum", f->name);
    put_labels(t, self, s, NULL);
    put(t, " %llu.%06llu\n", (unsigned long long)(s->sum_us / 1000000),
        (unsigned long long)(s->sum_us % 1000000));
    put(t, "%s_count", f->name);   /* the +Inf bucket, so the two always agree */
    put_labels(t, self, s, NULL);
    put(t, " %llu\n", (unsigned long long)cumulative);
}

static void put_family(text_t *t, const metrics_t *self, int index)
{
    static const char *const types[] = {"counter", "gauge", "histogram"};
    const family_t *f = &self->families[index];
    put(t, "# HELP %s ", f->name);
    put_escaped(t, f->help, false);
    put(t, "\n# TYPE %s %s\n", f->name, types[f->kind]);
    for (size_t i = 0; i < self->series_count; i++) {
        const series_t *s = &self->series[i];
        if (s->family != index)
            continue;
        if (f->kind == METRICS_HISTOGRAM) {
            put_histogram(t, self, f, s);
            continue;
        }
        put(t, "%s", f->name);
        put_labels(t, self, s, NULL);
        if (f->kind == METRICS_COUNTER)
            put(t, " %llu\n", (unsigned long long)s->count);
        else
            put(t, " %lld\n", (long long)s->gauge);
    }
}

char *metrics_render(metrics_t *self, size_t *len)
{
    text_t t = {malloc(4096), 0, 4096, false};
    t.failed = !t.p;
    if (t.p)
        t.p[0] = '\0';
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; i < self->family_count; i++)
        put_family(&t, self, (int)i);
    pthread_mutex_unlock(&self->lock);
    if (t.failed) {
        free(t.p);
        return NULL;
    }
    *len = t.len;
    return t.p;
}

/* ---------------------------------------------------------------- every process */

int metrics_process_add(metrics_t *self, metrics_process_t *p)
{
    static const char *const reloads = "SIGHUP configuration reloads by outcome";
    metrics_label_t ok = {"outcome", "ok"}, failed = {"outcome", "failed"};
    p->started_us = metrics_now_us();
    int rc = metrics_add(self, METRICS_GAUGE, "arrears_uptime_seconds", "Since the process started",
                         NULL, 0, &p->uptime);
    rc = rc ? rc : metrics_add(self, METRICS_COUNTER, "arrears_config_reloads_total", reloads, &ok, 1,
                               &p->reload_ok);
    rc = rc ? rc : metrics_add(self, METRICS_COUNTER, "arrears_config_reloads_total", reloads,
                               &failed, 1, &p->reload_failed);
    return rc ? rc : metrics_add(self, METRICS_COUNTER, "arrears_log_lines_dropped_total",
                                 "Log lines lost to a full or closed pipe", NULL, 0, &p->log_dropped);
}

void metrics_process_publish(metrics_t *self, const metrics_process_t *p)
{
    metrics_gauge_set(self, p->uptime, (metrics_now_us() - p->started_us) / 1000000);
    metrics_counter_set(self, p->log_dropped, log_dropped_count());
}

void metrics_process_reloaded(metrics_t *self, const metrics_process_t *p, bool ok)
{
    metrics_inc(self, ok ? p->reload_ok : p->reload_failed, 1);
}

/* ---------------------------------------------------------------- liveness */

static int64_t now_ms(void)
{
    return metrics_now_us() / 1000;
}

void metrics_beat(metrics_t *self, bool ready)
{
    pthread_mutex_lock(&self->lock);
    self->beat_ms = now_ms();
    self->ready = ready;
    pthread_mutex_unlock(&self->lock);
}

void metrics_stopping(metrics_t *self)
{
    pthread_mutex_lock(&self->lock);
    self->stopping = true;
    pthread_mutex_unlock(&self->lock);
}

static void life(metrics_t *self, bool *alive, bool *ready)
{
    pthread_mutex_lock(&self->lock);
    *alive = !self->stopping && self->beat_ms != 0 &&
             now_ms() - self->beat_ms <= self->beat_stale_ms;
    *ready = *alive && self->ready;
    pthread_mutex_unlock(&self->lock);
}

/* ---------------------------------------------------------------- HTTP */

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
                             char *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
    if (!r) {
        if (mode == MHD_RESPMEM_MUST_FREE)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result text(struct MHD_Connection *c, unsigned status, const char *body)
{
    return reply(c, status, "text/plain; charset=utf-8", (char *)body, strlen(body),
                 MHD_RESPMEM_PERSISTENT);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **req)
{
    (void)version, (void)upload_data, (void)upload_size, (void)req;
    metrics_t *self = cls;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "GET only\n");
    bool alive, ready;
    life(self, &alive, &ready);
    if (strcmp(url, "/healthz") == 0)
        return alive ? text(c, MHD_HTTP_OK, "ok\n") : text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "stopped\n");
    if (strcmp(url, "/readyz") == 0)
        return ready ? text(c, MHD_HTTP_OK, "ready\n")
                     : text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "not ready\n");
    if (strcmp(url, "/metrics") != 0)
        return text(c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /healthz, /readyz\n");
    size_t len = 0;
    char *body = metrics_render(self, &len);
    if (!body)
        return text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory\n");
    return reply(c, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", body, len,
                 MHD_RESPMEM_MUST_FREE);
}

/* "1.2.3.4:port" or "[::1]:port" into *out; false when it is neither. */
static bool parse_address(const char *address, struct sockaddr_storage *out)
{
    char host[METRICS_ADDRESS_MAX];
    const char *colon = strrchr(address, ':');
    bool v6 = address[0] == '[';
    if (!colon || strlen(address) >= sizeof host || (v6 && colon[-1] != ']'))
        return false;
    size_t host_len = (size_t)(colon - address) - (v6 ? 2 : 0);
    memcpy(host, address + (v6 ? 1 : 0), host_len);
    host[host_len] = '\0';
    const char *port = colon + 1;
    size_t digits = strspn(port, "0123456789");
    long value = digits >= 1 && digits <= 5 && !port[digits] ? strtol(port, NULL, 10) : -1;
    if (value < 0 || value > 65535)
        return false;
    memset(out, 0, sizeof *out);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)out;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)value);
        return inet_pton(AF_INET6, host, &a->sin6_addr) == 1;
    }
    struct sockaddr_in *a = (struct sockaddr_in *)out;
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)value);
    return inet_pton(AF_INET, host, &a->sin_addr) == 1;
}

int metrics_address_check(const char *address)
{
    struct sockaddr_storage a;
    return address && parse_address(address, &a) ? METRICS_OK : METRICS_EADDRESS;
}

int metrics_serve(metrics_t *self, const char *address, int64_t beat_stale_ms, int *port)
{
    assert(self && !self->daemon && beat_stale_ms > 0);
    struct sockaddr_storage a;
    if (!parse_address(address, &a))
        return METRICS_EADDRESS;
    self->beat_stale_ms = beat_stale_ms;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                     (a.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    /* The server's thread inherits this mask: SIGTERM and SIGHUP stay with the service
     * thread, whose poll they cut short. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    self->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, self,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_TIMEOUT_S,
                                    MHD_OPTION_END);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!self->daemon)
        return METRICS_EHTTP;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(self->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : 0;
    return METRICS_OK;
}

const char *metrics_strerror(int code)
{
    switch (code) {
    case METRICS_OK:
        return "success";
    case METRICS_EFULL:
        return "too many metric series or names (METRICS_SERIES_MAX, METRICS_FAMILIES_MAX)";
    case METRICS_EINVALID:
        return "invalid metric or label name, or a name reused with another kind or help";
    case METRICS_EADDRESS:
        return "a metrics listen address is \"IPv4:port\" or \"[IPv6]:port\"";
    case METRICS_EHTTP:
        return "the metrics HTTP server cannot start (address in use or not local?)";
    case METRICS_ENOMEM:
        return "out of memory";
    default:
        return "unknown metrics error";
    }
}
