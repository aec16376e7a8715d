/* test_link: CURVE sockets and the ZAP handler, in one process over ipc://.
 * Proves: a known key gets through and its messages carry the principal (User-Id) and
 * role (X-Role) from the keys file; an unknown key is refused at the handshake, seen as
 * ZMQ_EVENT_HANDSHAKE_FAILED_AUTH on the server's monitor, while a known key on the
 * same endpoint still works; a key removed from the file loses access after a reload;
 * an oversize frame drops only its own connection; key files round-trip and bad
 * ones are refused with file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aclock.h"
#include "link.h"
#include "zap.h"

typedef struct {
    char dir[64];
    char endpoint[128];
    char keys_path[128];
    void *ctx;
    zap_t *zap;
    void *server;
    void *monitor;
    link_keypair_t server_keys, known, stranger;
} rig_t;

static void write_keys_file(rig_t *r, int include_known)
{
    FILE *f = fopen(r->keys_path, "w");
    assert_non_null(f);
    fprintf(f, "keys = (\n");
    if (include_known)
        fprintf(f, "  { principal = \"platform-a\"; role = \"platform\"; public = \"%s\"; }\n",
                r->known.public_z85);
    fprintf(f, ");\n");
    fclose(f);
}

static int setup(void **state)
{
    rig_t *r = calloc(1, sizeof *r);
    strcpy(r->dir, "/tmp/linkXXXXXX");
    assert_non_null(mkdtemp(r->dir));
    snprintf(r->endpoint, sizeof r->endpoint, "ipc://%s/s.sock", r->dir);
    snprintf(r->keys_path, sizeof r->keys_path, "%s/allowed.conf", r->dir);
    assert_int_equal(link_keypair_generate(&r->server_keys), 0);
    assert_int_equal(link_keypair_generate(&r->known), 0);
    assert_int_equal(link_keypair_generate(&r->stranger), 0);
    write_keys_file(r, 1);
    r->ctx = zmq_ctx_new();
    char err[256];
    int rc = 0;
    r->zap = zap_new(r->ctx, r->keys_path, &rc, err, sizeof err);
    assert_non_null(r->zap);
    link_options_t o = link_default_options();
    o.max_message_bytes = 64 * 1024;
    r->server = link_server_new(r->ctx, r->endpoint, &r->server_keys, &o, &rc);
    assert_non_null(r->server);
    char mon[128];
    snprintf(mon, sizeof mon, "inproc://monitor-%p", (void *)r);
    assert_int_equal(zmq_socket_monitor(r->server, mon, ZMQ_EVENT_ALL), 0);
    r->monitor = zmq_socket(r->ctx, ZMQ_PAIR);
    assert_int_equal(zmq_connect(r->monitor, mon), 0);
    *state = r;
    return 0;
}

static int teardown(void **state)
{
    rig_t *r = *state;
    zmq_close(r->monitor);
    link_close(&r->server);
    zap_destroy(&r->zap);
    zmq_ctx_term(r->ctx);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", r->dir);
    assert_int_equal(system(cmd), 0);
    free(r);
    return 0;
}

static void *connect_as(rig_t *r, const link_keypair_t *keys)
{
    link_options_t o = link_default_options();
    int rc = 0;
    void *s = link_client_new(r->ctx, r->endpoint, r->server_keys.public_z85, keys, &o, &rc);
    assert_non_null(s);
    return s;
}

/* Waits for a monitor event of the given kind; returns 1 if seen within timeout_ms. */
static int wait_event(rig_t *r, uint16_t wanted, int64_t timeout_ms)
{
    int64_t deadline = aclock_monotonic_ms() + timeout_ms;
    while (aclock_monotonic_ms() < deadline) {
        zmq_pollitem_t item = { r->monitor, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        uint8_t frame[64];
        int len = zmq_recv(r->monitor, frame, sizeof frame, 0);
        char address[256];
        zmq_recv(r->monitor, address, sizeof address, 0);
        uint16_t event;
        memcpy(&event, frame, sizeof event);
        if (len >= 6 && event == wanted)
            return 1;
    }
    return 0;
}

/* Sends one frame and waits for it at the server; returns 1 with principal/role. */
static int round_trip(rig_t *r, void *client, char *principal, char *role)
{
    zmq_send(client, "hello", 5, ZMQ_DONTWAIT);
    int64_t deadline = aclock_monotonic_ms() + 3000;
    while (aclock_monotonic_ms() < deadline) {
        zmq_send(client, "hello", 5, ZMQ_DONTWAIT);   /* ZMQ_IMMEDIATE: only once connected */
        zmq_pollitem_t item = { r->server, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 50) <= 0)
            continue;
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        zmq_msg_recv(&id, r->server, 0);
        zmq_msg_recv(&body, r->server, 0);
        strcpy(principal, link_principal(&body) ? link_principal(&body) : "");
        strcpy(role, link_role(&body) ? link_role(&body) : "");
        zmq_msg_close(&id);
        zmq_msg_close(&body);
        return 1;
    }
    return 0;
}

static void drain_server(rig_t *r)
{
    zmq_pollitem_t item = { r->server, 0, ZMQ_POLLIN, 0 };
    while (zmq_poll(&item, 1, 0) > 0) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        zmq_msg_recv(&m, r->server, 0);
        zmq_msg_close(&m);
    }
}

static void test_known_key_carries_principal_and_role(void **state)
{
    rig_t *r = *state;
    void *c = connect_as(r, &r->known);
    char principal[128], role[64];
    assert_true(round_trip(r, c, principal, role));
    assert_string_equal(principal, "platform-a");
    assert_string_equal(role, "platform");
    link_close(&c);
}

static void test_unknown_key_refused_at_handshake(void **state)
{
    rig_t *r = *state;
    void *stranger = connect_as(r, &r->stranger);
    assert_true(wait_event(r, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5000));
    void *known = connect_as(r, &r->known);
    char principal[128], role[64];
    assert_true(round_trip(r, known, principal, role));
    assert_string_equal(principal, "platform-a");
    assert_true(zap_stats(r->zap).denied >= 1);
    link_close(&stranger);
    link_close(&known);
}

static void test_removed_key_loses_access_after_reload(void **state)
{
    rig_t *r = *state;
    write_keys_file(r, 0);
    char err[256];
    assert_int_equal(zap_reload(r->zap, err, sizeof err), ZAP_OK);
    void *c = connect_as(r, &r->known);
    assert_true(wait_event(r, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, 5000));
    link_close(&c);
}

static void test_oversize_frame_drops_only_that_connection(void **state)
{
    rig_t *r = *state;
    void *good = connect_as(r, &r->known), *big = connect_as(r, &r->known);
    char principal[128], role[64];
    assert_true(round_trip(r, good, principal, role));
    drain_server(r);
    size_t size = 64 * 1024 + 1;
    char *huge = calloc(1, size);
    int64_t deadline = aclock_monotonic_ms() + 3000;
    while (zmq_send(big, huge, size, ZMQ_DONTWAIT) < 0 && aclock_monotonic_ms() < deadline)
        zmq_poll(NULL, 0, 20);
    free(huge);
    assert_true(wait_event(r, ZMQ_EVENT_DISCONNECTED, 5000));
    drain_server(r);
    assert_true(round_trip(r, good, principal, role));
    assert_string_equal(principal, "platform-a");
    link_close(&good);
    link_close(&big);
}

static void test_key_files(void **state)
{
    rig_t *r = *state;
    char err[256], pub[LINK_KEY_Z85_LEN + 1], path[128];
    assert_int_equal(link_keypair_save(r->dir, "svc", &r->known, err, sizeof err), LINK_OK);
    assert_int_equal(link_keypair_save(r->dir, "svc", &r->known, err, sizeof err), LINK_EWRITE);
    link_keypair_t loaded;
    snprintf(path, sizeof path, "%s/svc.key", r->dir);
    assert_int_equal(link_keypair_load(path, &loaded, err, sizeof err), LINK_OK);
    assert_string_equal(loaded.secret_z85, r->known.secret_z85);
    snprintf(path, sizeof path, "%s/svc.pub", r->dir);
    assert_int_equal(link_public_load(path, pub, err, sizeof err), LINK_OK);
    assert_string_equal(pub, r->known.public_z85);
    assert_int_not_equal(link_keypair_load(path, &loaded, err, sizeof err), LINK_OK);
    FILE *f = fopen(path, "w");
    fprintf(f, "public = \"short\";\n");
    fclose(f);
    assert_int_equal(link_public_load(path, pub, err, sizeof err), LINK_EKEY);
    f = fopen(r->keys_path, "w");
    fprintf(f, "keys = (\n  { principal = \"Bad Name\"; role = \"platform\"; public = \"%s\"; }\n);\n",
            r->known.public_z85);
    fclose(f);
    assert_int_equal(zap_reload(r->zap, err, sizeof err), ZAP_EKEYS);
    assert_non_null(strstr(err, "allowed.conf:2"));
}

static void test_endpoint_checks(void **state)
{
    rig_t *r = *state;
    int rc = 0;
    char longest[200];
    memset(longest, 'x', sizeof longest);
    memcpy(longest, "ipc:///tmp/", 11);
    longest[sizeof longest - 1] = 0;
    link_options_t o = link_default_options();
    assert_null(link_server_new(r->ctx, longest, &r->server_keys, &o, &rc));
    assert_int_equal(rc, LINK_EENDPOINT);
    assert_null(link_server_new(r->ctx, "udp://x", &r->server_keys, &o, &rc));
    assert_int_equal(rc, LINK_EENDPOINT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_known_key_carries_principal_and_role, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_refused_at_handshake, setup, teardown),
        cmocka_unit_test_setup_teardown(test_removed_key_loses_access_after_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversize_frame_drops_only_that_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_endpoint_checks, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
