/* test_metrics: the Prometheus text a metrics_t renders, byte for byte — counters with
 * labels, gauges, histograms (a value on a bucket's bound counts in that bucket), label
 * escaping — the limits (series, names, labels) returned as errors, listen addresses
 * and the `metrics` setting (svcconf), what a config reload says it applied and ignored,
 * and the HTTP side: /metrics, /healthz and /readyz following the loop's beat, 404. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "svcconf.h"

static char *render(metrics_t *m)
{
    size_t len = 0;
    char *text = metrics_render(m, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

static void test_counters_with_labels(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("staging");
    metrics_label_t applied = {"outcome", "applied"}, rejected = {"outcome", "rejected"};
    int a = -1, r = -1, again = -1, q = -1;
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_messages_total", "By outcome",
                                 &applied, 1, &a), METRICS_OK);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_messages_total", "By outcome",
                                 &rejected, 1, &r), METRICS_OK);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_messages_total", "By outcome",
                                 &applied, 1, &again), METRICS_OK);
    assert_int_equal(again, a);   /* the same series, not a second one */
    assert_int_equal(metrics_add(m, METRICS_GAUGE, "arrears_queue_messages", "Waiting", NULL, 0, &q),
                     METRICS_OK);
    metrics_inc(m, a, 5);
    metrics_inc(m, a, 2);
    metrics_counter_set(m, r, 3);
    metrics_gauge_set(m, q, -4);
    char *text = render(m);
    assert_string_equal(text,
        "# HELP arrears_messages_total By outcome\n"
        "# TYPE arrears_messages_total counter\n"
        "arrears_messages_total{service=\"staging\",outcome=\"applied\"} 7\n"
        "arrears_messages_total{service=\"staging\",outcome=\"rejected\"} 3\n"
        "# HELP arrears_queue_messages Waiting\n"
        "# TYPE arrears_queue_messages gauge\n"
        "arrears_queue_messages{service=\"staging\"} -4\n");
    free(text);
    metrics_destroy(&m);
    assert_null(m);
}

static void test_two_labels_escaped(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("w\"1");
    metrics_label_t labels[2] = {{"channel", "sms"}, {"result", "a\\b\nc"}};
    int id = -1;
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_deliveries_total", "Help \\ with\nnewline",
                                 labels, 2, &id), METRICS_OK);
    metrics_inc(m, id, 1);
    char *text = render(m);
    assert_string_equal(text,
        "# HELP arrears_deliveries_total Help \\\\ with\\nnewline\n"
        "# TYPE arrears_deliveries_total counter\n"
        "arrears_deliveries_total{service=\"w\\\"1\",channel=\"sms\",result=\"a\\\\b\\nc\"} 1\n");
    free(text);
    metrics_destroy(&m);
}

static void test_histogram_bucket_edges(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("intake");
    int h = -1;
    assert_int_equal(metrics_add(m, METRICS_HISTOGRAM, "arrears_apply_duration_seconds", "Batch",
                                 NULL, 0, &h), METRICS_OK);
    metrics_observe_us(m, h, 100);        /* on the first bound: in it (le is inclusive) */
    metrics_observe_us(m, h, 101);        /* just over: the next */
    metrics_observe_us(m, h, 1000000);    /* on 1 s */
    metrics_observe_us(m, h, 20000000);   /* over every bound: +Inf only */
    metrics_observe_us(m, h, -5);         /* a clock step back counts as 0 */
    char *text = render(m);
    const char *b = "arrears_apply_duration_seconds_bucket{service=\"intake\",le=";
    char want[4096];
    snprintf(want, sizeof want,
             "# HELP arrears_apply_duration_seconds Batch\n"
             "# TYPE arrears_apply_duration_seconds histogram\n"
             "%s\"0.0001\"} 2\n%s\"0.00025\"} 3\n%s\"0.0005\"} 3\n%s\"0.001\"} 3\n"
             "%s\"0.0025\"} 3\n%s\"0.005\"} 3\n%s\"0.01\"} 3\n%s\"0.025\"} 3\n%s\"0.05\"} 3\n"
             "%s\"0.1\"} 3\n%s\"0.25\"} 3\n%s\"0.5\"} 3\n%s\"1\"} 4\n%s\"2.5\"} 4\n%s\"5\"} 4\n"
             "%s\"10\"} 4\n%s\"+Inf\"} 5\n"
             "arrears_apply_duration_seconds_sum{service=\"intake\"} 21.000201\n"
             "arrears_apply_duration_seconds_count{service=\"intake\"} 5\n",
             b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b, b);
    assert_string_equal(text, want);
    free(text);
    metrics_destroy(&m);
}

static void test_series_limit(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("sale");
    int id = -1;
    for (int i = 0; i < METRICS_SERIES_MAX; i++) {
        char value[16];
        snprintf(value, sizeof value, "v%d", i);
        metrics_label_t l = {"n", value};
        assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_x_total", "X", &l, 1, &id), METRICS_OK);
        assert_int_equal(id, i);
    }
    metrics_label_t over = {"n", "over"};
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_x_total", "X", &over, 1, &id),
                     METRICS_EFULL);
    metrics_label_t first = {"n", "v0"};   /* a registered one is still found */
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_x_total", "X", &first, 1, &id), METRICS_OK);
    assert_int_equal(id, 0);
    assert_non_null(strstr(metrics_strerror(METRICS_EFULL), "METRICS_SERIES_MAX"));
    metrics_destroy(&m);
}

static void test_family_limit(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("sale");
    int id = -1;
    char name[32];
    for (int i = 0; i < METRICS_FAMILIES_MAX; i++) {
        snprintf(name, sizeof name, "arrears_f%d_total", i);
        assert_int_equal(metrics_add(m, METRICS_COUNTER, name, "F", NULL, 0, &id), METRICS_OK);
    }
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_one_more_total", "F", NULL, 0, &id),
                     METRICS_EFULL);
    metrics_destroy(&m);
}

static void test_invalid_names(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("legal");
    int id = -1;
    metrics_label_t service = {"service", "x"}, le = {"le", "1"}, dash = {"a-b", "x"};
    metrics_label_t three[3] = {{"a", "1"}, {"b", "2"}, {"c", "3"}};
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "9lives", "X", NULL, 0, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "a-b", "X", NULL, 0, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "", "X", NULL, 0, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "ok_total", "X", &service, 1, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "ok_total", "X", &le, 1, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "ok_total", "X", &dash, 1, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "ok_total", "X", three, 3, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "ok_total", "X", NULL, 0, &id), METRICS_OK);
    /* one name, one kind and one help */
    assert_int_equal(metrics_add(m, METRICS_GAUGE, "ok_total", "X", NULL, 0, &id), METRICS_EINVALID);
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "ok_total", "Y", NULL, 0, &id), METRICS_EINVALID);
    metrics_destroy(&m);
}

static void test_addresses(void **state)
{
    (void)state;
    assert_int_equal(metrics_address_check("127.0.0.1:9101"), METRICS_OK);
    assert_int_equal(metrics_address_check("0.0.0.0:0"), METRICS_OK);
    assert_int_equal(metrics_address_check("[::1]:9101"), METRICS_OK);
    assert_int_equal(metrics_address_check("localhost:9101"), METRICS_EADDRESS);
    assert_int_equal(metrics_address_check("127.0.0.1"), METRICS_EADDRESS);
    assert_int_equal(metrics_address_check("127.0.0.1:65536"), METRICS_EADDRESS);
    assert_int_equal(metrics_address_check("127.0.0.1:-1"), METRICS_EADDRESS);
    assert_int_equal(metrics_address_check("::1:9101"), METRICS_EADDRESS);
    assert_int_equal(metrics_address_check(NULL), METRICS_EADDRESS);
}

static int metrics_setting(const char *text, char listen[METRICS_ADDRESS_MAX], char *err,
                           size_t len)
{
    conf_t *c = conf_parse_string(text, "svc.conf", err, len);
    assert_non_null(c);
    int rc = svcconf_metrics(c, listen, err, len);
    conf_destroy(&c);
    return rc;
}

static void test_metrics_setting(void **state)
{
    (void)state;
    char listen[METRICS_ADDRESS_MAX] = "x", err[256] = "";
    assert_int_equal(metrics_setting("log_level = \"info\";\n", listen, err, sizeof err), 0);
    assert_string_equal(listen, "");   /* absent: not served */
    assert_int_equal(metrics_setting("metrics = { listen = \"127.0.0.1:0\"; };\n", listen, err,
                                     sizeof err), 0);
    assert_string_equal(listen, "127.0.0.1:0");
    assert_int_equal(metrics_setting("\nmetrics = { listen = \"localhost:80\"; };\n", listen, err,
                                     sizeof err), CONF_ERANGE);
    assert_non_null(strstr(err, "svc.conf:2"));
    assert_int_equal(metrics_setting("metrics = { port = 9101; };\n", listen, err, sizeof err),
                     CONF_EUNKNOWN_KEY);
}

static void test_reload_message(void **state)
{
    (void)state;
    svcconf_t current = {.log_level = LOG_INFO}, fresh = {.log_level = LOG_DEBUG};
    snprintf(current.data_dir, sizeof current.data_dir, "var/a");
    snprintf(fresh.data_dir, sizeof fresh.data_dir, "var/b");
    svcconf_reload_t r = {0};
    svcconf_reload(&current, &fresh, "test_metrics", &r);
    svcconf_reload_differs(&r, "listen", "ipc://a", "ipc://b");
    svcconf_reload_differs(&r, "staging", "ipc://s", "ipc://s");
    svcconf_reload_note(r.applied, "strategy");
    char msg[512];
    svcconf_reload_message(&r, msg, sizeof msg);
    assert_string_equal(msg, "log_level=debug applied=log_level,strategy ignored=data_dir,listen "
                             "others=next_start");
    assert_int_equal(current.log_level, LOG_DEBUG);
    assert_string_equal(current.data_dir, "var/a");   /* the store stays where it is */
    assert_true(log_enabled(LOG_DEBUG));
    log_open("test_metrics", 2, LOG_INFO);
}

/* One HTTP/1.0 GET; the whole answer (status line, headers, body) into buf. */
static void get(int port, const char *path, char *buf, size_t cap)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    char request[128];
    int n = snprintf(request, sizeof request, "GET %s HTTP/1.0\r\n\r\n", path);
    assert_int_equal(write(fd, request, (size_t)n), n);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < cap && (got = read(fd, buf + len, cap - 1 - len)) > 0)
        len += (size_t)got;
    buf[len] = '\0';
    close(fd);
}

static void test_http(void **state)
{
    (void)state;
    metrics_t *m = metrics_new("intake");
    int id = -1, port = 0;
    assert_int_equal(metrics_add(m, METRICS_COUNTER, "arrears_queries_total", "Q", NULL, 0, &id), METRICS_OK);
    metrics_inc(m, id, 9);
    assert_int_equal(metrics_serve(m, "127.0.0.1:0", 60000, &port), METRICS_OK);
    assert_true(port > 0);
    char buf[8192];
    get(port, "/healthz", buf, sizeof buf);   /* no beat yet: the loop has not run */
    assert_non_null(strstr(buf, " 503 "));
    metrics_beat(m, false);
    get(port, "/healthz", buf, sizeof buf);
    assert_non_null(strstr(buf, " 200 "));
    assert_non_null(strstr(buf, "\r\n\r\nok\n"));
    get(port, "/readyz", buf, sizeof buf);
    assert_non_null(strstr(buf, " 503 "));
    metrics_beat(m, true);
    get(port, "/readyz", buf, sizeof buf);
    assert_non_null(strstr(buf, " 200 "));
    get(port, "/metrics", buf, sizeof buf);
    assert_non_null(strstr(buf, " 200 "));
    assert_non_null(strstr(buf, "text/plain; version=0.0.4"));
    assert_non_null(strstr(buf, "arrears_queries_total{service=\"intake\"} 9\n"));
    get(port, "/other", buf, sizeof buf);
    assert_non_null(strstr(buf, " 404 "));
    metrics_stopping(m);
    get(port, "/healthz", buf, sizeof buf);
    assert_non_null(strstr(buf, " 503 "));
    get(port, "/readyz", buf, sizeof buf);
    assert_non_null(strstr(buf, " 503 "));
    metrics_t *other = metrics_new("intake");   /* the port is taken: refused, said so */
    char address[32];
    snprintf(address, sizeof address, "127.0.0.1:%d", port);
    int other_port = 0;
    assert_int_equal(metrics_serve(other, address, 60000, &other_port), METRICS_EHTTP);
    metrics_destroy(&other);
    metrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counters_with_labels),
        cmocka_unit_test(test_two_labels_escaped),
        cmocka_unit_test(test_histogram_bucket_edges),
        cmocka_unit_test(test_series_limit),
        cmocka_unit_test(test_family_limit),
        cmocka_unit_test(test_invalid_names),
        cmocka_unit_test(test_addresses),
        cmocka_unit_test(test_metrics_setting),
        cmocka_unit_test(test_reload_message),
        cmocka_unit_test(test_http),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
