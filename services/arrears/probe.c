/* probe: see probe.h. HTTP through libcurl; the text format is read line by line, each
 * sample `name{labels} value`, summed over labels for the figures status shows. */
#include "probe.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
} body_t;

int probe_port_from_log(const char *log_path)
{
    FILE *f = fopen(log_path, "r");
    char line[2048];
    int port = 0;
    while (f && fgets(line, sizeof line, f)) {
        const char *at = strstr(line, "event=metrics_listen");
        const char *p = at ? strstr(at, " port=") : NULL;
        if (p)
            port = atoi(p + 6);
    }
    if (f)
        fclose(f);
    return port > 0 && port < 65536 ? port : 0;
}

static size_t collect(char *chunk, size_t size, size_t n, void *arg)
{
    body_t *b = arg;
    size_t add = size * n;
    if (b->len + add + 1 > PROBE_BODY_MAX)
        return 0;   /* over the bound: the transfer fails, status says unreachable */
    char *grown = realloc(b->data, b->len + add + 1);
    if (!grown)
        return 0;
    memcpy(grown + b->len, chunk, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = 0;
    return add;
}

/* GETs path; the HTTP status, or 0 when nothing answered. */
static long get(int port, const char *path, body_t *body)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    if (!c)
        return 0;
    long status = 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)PROBE_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

/* The sum of every sample of metric `name` (any labels). */
static double metric_sum(const char *text, const char *name)
{
    double sum = 0;
    size_t n = strlen(name);
    for (const char *line = text; *line;) {
        if (strncmp(line, name, n) == 0 && (line[n] == ' ' || line[n] == '{')) {
            const char *value = line[n] == '{' ? strchr(line + n, '}') : line + n;
            if (value)
                sum += strtod(value + 1, NULL);
        }
        const char *end = strchr(line, '\n');
        if (!end)
            break;
        line = end + 1;
    }
    return sum;
}

void probe_read(int port, probe_t *out)
{
    memset(out, 0, sizeof *out);
    body_t m = { 0 }, r = { 0 };
    if (port <= 0)
        return;
    if (get(port, "/metrics", &m) == 200 && m.data) {
        out->reachable = true;
        out->map_used_bytes = metric_sum(m.data, "arrears_store_map_used_bytes");
        out->map_size_bytes = metric_sum(m.data, "arrears_store_map_size_bytes");
        out->clock_ms = metric_sum(m.data, "arrears_clock_milliseconds");
        out->apply_seconds_sum = metric_sum(m.data, "arrears_apply_duration_seconds_sum");
        out->apply_count = metric_sum(m.data, "arrears_apply_duration_seconds_count");
        out->rejects = metric_sum(m.data, "arrears_rejects_total");
        out->deliveries = metric_sum(m.data, "arrears_deliveries_total");
    }
    out->ready = get(port, "/readyz", &r) == 200;
    free(m.data);
    free(r.data);
}
