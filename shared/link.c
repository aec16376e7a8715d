/* link: see link.h. */
#include "link.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"

link_options_t link_default_options(void)
{
    return (link_options_t){
        .max_message_bytes = 1 << 20,
        .heartbeat_ivl_ms = 2000,
        .heartbeat_timeout_ms = 6000,
        .queue_max_messages = 100000,
    };
}

int link_key_valid(const char *z85)
{
    uint8_t raw[32];
    return z85 && strlen(z85) == LINK_KEY_Z85_LEN && zmq_z85_decode(raw, z85) != NULL;
}

int link_keypair_generate(link_keypair_t *keys)
{
    assert(keys);
    return zmq_curve_keypair(keys->public_z85, keys->secret_z85) == 0 ? LINK_OK : LINK_EZMQ;
}

static int key_from_conf(const conf_t *conf, const char *path, const char *setting,
                         char out[LINK_KEY_Z85_LEN + 1], char *err, size_t err_len)
{
    const char *value = NULL;
    if (conf_string(conf, setting, NULL, LINK_KEY_Z85_LEN, &value, err, err_len) != 0)
        return LINK_EKEYFILE;
    if (!value || !link_key_valid(value)) {
        snprintf(err, err_len, "%s: `%s` must be a 40-character z85 CURVE key", path, setting);
        return LINK_EKEY;
    }
    memcpy(out, value, LINK_KEY_Z85_LEN + 1);
    return LINK_OK;
}

int link_keypair_load(const char *path, link_keypair_t *keys, char *err, size_t err_len)
{
    conf_t *conf = conf_load(path, err, err_len);
    if (!conf)
        return LINK_EKEYFILE;
    int rc = key_from_conf(conf, path, "public", keys->public_z85, err, err_len);
    if (rc == LINK_OK)
        rc = key_from_conf(conf, path, "secret", keys->secret_z85, err, err_len);
    conf_destroy(&conf);
    return rc;
}

int link_public_load(const char *path, char public_z85[LINK_KEY_Z85_LEN + 1], char *err,
                     size_t err_len)
{
    conf_t *conf = conf_load(path, err, err_len);
    if (!conf)
        return LINK_EKEYFILE;
    int rc = key_from_conf(conf, path, "public", public_z85, err, err_len);
    conf_destroy(&conf);
    return rc;
}

static int write_file(const char *path, mode_t mode, const char *text, char *err, size_t err_len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        return LINK_EWRITE;
    }
    size_t len = strlen(text);
    int ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        snprintf(err, err_len, "%s: %s", path, strerror(errno));
        unlink(path);
        return LINK_EWRITE;
    }
    return LINK_OK;
}

int link_keypair_save(const char *dir, const char *name, const link_keypair_t *keys,
                      char *err, size_t err_len)
{
    char path[512], text[256];
    snprintf(path, sizeof path, "%s/%s.key", dir, name);
    snprintf(text, sizeof text, "# arrears CURVE key pair \"%s\": keep this file secret.\n"
             "public = \"%s\";\nsecret = \"%s\";\n", name, keys->public_z85, keys->secret_z85);
    int rc = write_file(path, 0600, text, err, err_len);
    if (rc != LINK_OK)
        return rc;
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    snprintf(text, sizeof text, "# arrears CURVE public key \"%s\": give it to peers.\n"
             "public = \"%s\";\n", name, keys->public_z85);
    return write_file(path, 0644, text, err, err_len);
}

static int endpoint_valid(const char *endpoint)
{
    size_t len = strlen(endpoint);
    if (len == 0 || len >= LINK_ENDPOINT_MAX)
        return 0;
    if (strncmp(endpoint, "ipc://", 6) == 0)
        return len - 6 < LINK_IPC_PATH_MAX;
    return strncmp(endpoint, "tcp://", 6) == 0 || strncmp(endpoint, "inproc://", 9) == 0;
}

static int set_int(void *s, int option, int value)
{
    return zmq_setsockopt(s, option, &value, sizeof value);
}

static int apply_common(void *s, const link_options_t *o)
{
    int64_t max = o->max_message_bytes;
    int rc = zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    rc = rc ? rc : set_int(s, ZMQ_LINGER, 0);
    rc = rc ? rc : set_int(s, ZMQ_HEARTBEAT_IVL, o->heartbeat_ivl_ms);
    rc = rc ? rc : set_int(s, ZMQ_HEARTBEAT_TIMEOUT, o->heartbeat_timeout_ms);
    rc = rc ? rc : set_int(s, ZMQ_HEARTBEAT_TTL, o->heartbeat_timeout_ms);
    rc = rc ? rc : set_int(s, ZMQ_SNDHWM, o->queue_max_messages);
    rc = rc ? rc : set_int(s, ZMQ_RCVHWM, o->queue_max_messages);
    return rc;
}

static void *fail(void *s, int *error, int code)
{
    if (s)
        zmq_close(s);
    if (error)
        *error = code;
    return NULL;
}

void *link_server_new(void *ctx, const char *endpoint, const link_keypair_t *server,
                      const link_options_t *options, int *error)
{
    assert(ctx && endpoint && server && options);
    if (!endpoint_valid(endpoint))
        return fail(NULL, error, LINK_EENDPOINT);
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    if (!s)
        return fail(NULL, error, LINK_EZMQ);
    int rc = apply_common(s, options);
    rc = rc ? rc : set_int(s, ZMQ_CURVE_SERVER, 1);
    rc = rc ? rc : zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, server->secret_z85, LINK_KEY_Z85_LEN);
    /* A ZAP domain makes libzmq consult the handler for every connection. */
    rc = rc ? rc : zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, "arrears", 7);
    rc = rc ? rc : zmq_bind(s, endpoint);
    return rc ? fail(s, error, LINK_EZMQ) : s;
}

void *link_client_new(void *ctx, const char *endpoint, const char *server_public_z85,
                      const link_keypair_t *client, const link_options_t *options, int *error)
{
    assert(ctx && endpoint && server_public_z85 && client && options);
    if (!endpoint_valid(endpoint))
        return fail(NULL, error, LINK_EENDPOINT);
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    if (!s)
        return fail(NULL, error, LINK_EZMQ);
    int rc = apply_common(s, options);
    rc = rc ? rc : set_int(s, ZMQ_IMMEDIATE, 1);
    rc = rc ? rc : zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, server_public_z85, LINK_KEY_Z85_LEN);
    rc = rc ? rc : zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, client->public_z85, LINK_KEY_Z85_LEN);
    rc = rc ? rc : zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, client->secret_z85, LINK_KEY_Z85_LEN);
    rc = rc ? rc : zmq_connect(s, endpoint);
    return rc ? fail(s, error, LINK_EZMQ) : s;
}

void *link_server_open(void *ctx, const char *endpoint, const char *key_path,
                       const link_options_t *options, char *err, size_t err_len)
{
    link_keypair_t keys;
    int rc = link_keypair_load(key_path, &keys, err, err_len);
    void *s = rc == 0 ? link_server_new(ctx, endpoint, &keys, options, &rc) : NULL;
    if (rc == 0 && !s)
        rc = LINK_EZMQ;
    if (!s && rc != LINK_EKEYFILE && rc != LINK_EKEY)
        snprintf(err, err_len, "cannot bind %s: %s", endpoint, link_strerror(rc));
    return s;
}

void *link_client_open(void *ctx, const char *endpoint, const char *server_public_path,
                       const char *key_path, const link_options_t *options, char *err,
                       size_t err_len)
{
    link_keypair_t keys;
    char server[LINK_KEY_Z85_LEN + 1];
    int rc = link_keypair_load(key_path, &keys, err, err_len);
    rc = rc ? rc : link_public_load(server_public_path, server, err, err_len);
    void *s = rc == 0 ? link_client_new(ctx, endpoint, server, &keys, options, &rc) : NULL;
    if (rc == 0 && !s)
        rc = LINK_EZMQ;
    if (!s && rc != LINK_EKEYFILE && rc != LINK_EKEY)
        snprintf(err, err_len, "cannot connect %s: %s", endpoint, link_strerror(rc));
    return s;
}

void link_close(void **socket_p)
{
    assert(socket_p);
    if (*socket_p)
        zmq_close(*socket_p);
    *socket_p = NULL;
}

const char *link_principal(zmq_msg_t *msg) { return zmq_msg_gets(msg, "User-Id"); }
const char *link_role(zmq_msg_t *msg) { return zmq_msg_gets(msg, "X-Role"); }

const char *link_strerror(int code)
{
    switch (code) {
    case LINK_EKEYFILE: return "key file missing, unreadable or malformed";
    case LINK_EKEY: return "a CURVE key must be 40 z85 characters";
    case LINK_EENDPOINT: return "endpoint malformed (tcp://, ipc:// under 100 bytes, inproc://)";
    case LINK_EZMQ: return zmq_strerror(zmq_errno());
    case LINK_EWRITE: return "could not write the key file";
    default: return zmq_strerror(code);
    }
}
