/* zap: see zap.h. The table is swapped whole under a mutex on reload, so a lookup
 * always sees one consistent version of the keys file. */
#include "zap.h"

#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "conf.h"
#include "link.h"
#include "log.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define FRAME_MAX 256

const char *const zap_roles[] = { "platform", "service", "firm", "agency", "buyer", "agent",
                                  "worker", "operator", NULL };

typedef struct {
    uint8_t public_key[32];
    char principal[ZAP_PRINCIPAL_MAX + 1];
    char role[16];
} zap_entry_t;

typedef struct {
    zap_entry_t *entries;
    size_t count;
} zap_table_t;

struct zap {
    void *ctx;
    void *handler;         /* REP, used by the thread only */
    void *control;         /* PAIR, main side: "STOP" */
    char control_endpoint[64];
    char keys_path[512];
    pthread_t thread;
    pthread_mutex_t lock;
    zap_table_t table;
    zap_stats_t stats;
};

static int compare_entries(const void *a, const void *b)
{
    return memcmp(((const zap_entry_t *)a)->public_key, ((const zap_entry_t *)b)->public_key, 32);
}

static int principal_valid(const char *p)
{
    size_t len = strlen(p);
    if (len == 0 || len > ZAP_PRINCIPAL_MAX)
        return 0;
    return strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

static int role_valid(const char *role)
{
    for (int i = 0; zap_roles[i]; i++)
        if (strcmp(zap_roles[i], role) == 0)
            return 1;
    return 0;
}

static int parse_entry(const config_setting_t *item, const char *path, zap_entry_t *e,
                       char *err, size_t err_len)
{
    const char *principal = NULL, *role = NULL, *key = NULL;
    int line = config_setting_source_line(item);
    config_setting_lookup_string(item, "principal", &principal);
    config_setting_lookup_string(item, "role", &role);
    config_setting_lookup_string(item, "public", &key);
    if (!principal || !principal_valid(principal)) {
        snprintf(err, err_len, "%s:%d: principal must be 1-64 of [a-z0-9._-]", path, line);
        return ZAP_EKEYS;
    }
    if (!role || !role_valid(role)) {
        snprintf(err, err_len, "%s:%d: role must be one of platform, service, firm, agency, "
                 "buyer, agent, worker, operator", path, line);
        return ZAP_EKEYS;
    }
    if (!key || !link_key_valid(key)) {
        snprintf(err, err_len, "%s:%d: public must be a 40-character z85 CURVE key", path, line);
        return ZAP_EKEYS;
    }
    zmq_z85_decode(e->public_key, key);
    snprintf(e->principal, sizeof e->principal, "%s", principal);
    snprintf(e->role, sizeof e->role, "%s", role);
    return ZAP_OK;
}

static int parse_list(const config_setting_t *list, const char *path, zap_table_t *t,
                      char *err, size_t err_len)
{
    int n = config_setting_length(list);
    if (n > ZAP_MAX_KEYS) {
        snprintf(err, err_len, "%s: more than %d keys", path, ZAP_MAX_KEYS);
        return ZAP_EKEYS;
    }
    t->entries = calloc(n ? (size_t)n : 1, sizeof *t->entries);
    if (!t->entries)
        return ZAP_EKEYS;
    for (int i = 0; i < n; i++) {
        int rc = parse_entry(config_setting_get_elem(list, i), path, &t->entries[i], err, err_len);
        if (rc != ZAP_OK)
            return rc;
        t->count++;
    }
    qsort(t->entries, t->count, sizeof *t->entries, compare_entries);
    for (size_t i = 1; i < t->count; i++) {
        if (memcmp(t->entries[i - 1].public_key, t->entries[i].public_key, 32) == 0) {
            snprintf(err, err_len, "%s: one public key is listed twice (principals %s and %s)",
                     path, t->entries[i - 1].principal, t->entries[i].principal);
            return ZAP_EKEYS;
        }
    }
    return ZAP_OK;
}

static int load_table(const char *path, zap_table_t *t, char *err, size_t err_len)
{
    memset(t, 0, sizeof *t);
    conf_t *conf = conf_load(path, err, err_len);
    if (!conf)
        return ZAP_EKEYS;
    const config_setting_t *list = conf_lookup(conf, "keys");
    int rc = ZAP_OK;
    if (!list || !config_setting_is_list(list)) {
        snprintf(err, err_len, "%s: needs `keys = ( { principal = ...; role = ...; public = ...; } );`",
                 path);
        rc = ZAP_EKEYS;
    } else {
        rc = parse_list(list, path, t, err, err_len);
    }
    conf_destroy(&conf);
    if (rc != ZAP_OK) {
        free(t->entries);
        memset(t, 0, sizeof *t);
    }
    return rc;
}

/* Looks the key up; fills principal and role on success. */
static int lookup(zap_t *self, const uint8_t key[32], char *principal, char *role)
{
    zap_entry_t probe;
    memcpy(probe.public_key, key, 32);
    pthread_mutex_lock(&self->lock);
    const zap_entry_t *e = bsearch(&probe, self->table.entries, self->table.count,
                                   sizeof probe, compare_entries);
    if (e) {
        strcpy(principal, e->principal);
        strcpy(role, e->role);
        self->stats.allowed++;
    } else {
        self->stats.denied++;
    }
    pthread_mutex_unlock(&self->lock);
    return e != NULL;
}

typedef struct {
    uint8_t data[FRAME_MAX];
    size_t size;
} frame_t;

/* Reads one ZAP request; returns the number of frames (extra frames are dropped). */
static int read_request(void *s, frame_t *frames, int max_frames)
{
    int n = 0, more = 1;
    size_t optlen = sizeof more;
    while (more) {
        int len = zmq_recv(s, n < max_frames ? frames[n].data : frames[0].data, FRAME_MAX, 0);
        if (len < 0)
            return -1;
        if (n < max_frames)
            frames[n].size = (size_t)len < FRAME_MAX ? (size_t)len : FRAME_MAX;
        n++;
        zmq_getsockopt(s, ZMQ_RCVMORE, &more, &optlen);
    }
    return n;
}

static void send_reply(void *s, const frame_t *request_id, int allowed, const char *principal,
                       const char *role)
{
    uint8_t meta[64];
    size_t role_len = strlen(role), meta_len = 0;
    if (allowed) {   /* ZMTP metadata: name-length(1) name value-length(4, big-endian) value */
        meta[meta_len++] = 6;
        memcpy(meta + meta_len, "X-Role", 6);
        meta_len += 6;
        meta[meta_len++] = 0; meta[meta_len++] = 0; meta[meta_len++] = 0;
        meta[meta_len++] = (uint8_t)role_len;
        memcpy(meta + meta_len, role, role_len);
        meta_len += role_len;
    }
    zmq_send(s, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(s, request_id->data, request_id->size, ZMQ_SNDMORE);
    zmq_send(s, allowed ? "200" : "400", 3, ZMQ_SNDMORE);
    const char *text = allowed ? "OK" : "unknown key";
    zmq_send(s, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(s, principal, strlen(principal), ZMQ_SNDMORE);
    zmq_send(s, meta, meta_len, 0);
}

static void handle_request(zap_t *self)
{
    frame_t f[8];
    int n = read_request(self->handler, f, 8);
    if (n < 0)
        return;
    char principal[ZAP_PRINCIPAL_MAX + 1] = "", role[16] = "";
    int curve = n >= 7 && f[5].size == 5 && memcmp(f[5].data, "CURVE", 5) == 0 && f[6].size == 32;
    int allowed = curve && lookup(self, f[6].data, principal, role);
    if (!allowed) {
        char z85[LINK_KEY_Z85_LEN + 1] = "-";
        if (curve)
            zmq_z85_encode(z85, f[6].data, 32);
        log_event(LOG_WARN, "zap_denied", "mechanism=%.*s public_key=%s", n >= 6 ? (int)f[5].size : 0,
                  n >= 6 ? (const char *)f[5].data : "", z85);
    }
    send_reply(self->handler, n >= 2 ? &f[1] : &f[0], allowed, principal, role);
}

static void *run(void *arg)
{
    zap_t *self = arg;
    void *control = zmq_socket(self->ctx, ZMQ_PAIR);
    zmq_connect(control, self->control_endpoint);
    zmq_pollitem_t items[2] = { { self->handler, 0, ZMQ_POLLIN, 0 }, { control, 0, ZMQ_POLLIN, 0 } };
    for (;;) {
        if (zmq_poll(items, 2, -1) < 0)
            continue;   /* EINTR from a signal: keep serving */
        if (items[1].revents & ZMQ_POLLIN)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            handle_request(self);
    }
    zmq_close(control);
    zmq_close(self->handler);
    return NULL;
}

static zap_t *fail_new(zap_t *self, int *error, int code)
{
    if (error)
        *error = code;
    if (self->control)
        zmq_close(self->control);
    if (self->handler)
        zmq_close(self->handler);
    free(self->table.entries);
    pthread_mutex_destroy(&self->lock);
    free(self);
    return NULL;
}

static int bind_sockets(zap_t *self)
{
    int zero = 0;
    self->handler = zmq_socket(self->ctx, ZMQ_REP);
    self->control = zmq_socket(self->ctx, ZMQ_PAIR);
    if (!self->handler || !self->control)
        return ZAP_EZMQ;
    zmq_setsockopt(self->handler, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(self->control, ZMQ_LINGER, &zero, sizeof zero);
    snprintf(self->control_endpoint, sizeof self->control_endpoint, "inproc://zap-control-%p",
             (void *)self);
    if (zmq_bind(self->handler, ZAP_ENDPOINT) != 0 || zmq_bind(self->control, self->control_endpoint) != 0)
        return ZAP_EZMQ;
    return ZAP_OK;
}

zap_t *zap_new(void *ctx, const char *keys_path, int *error, char *err, size_t err_len)
{
    assert(ctx && keys_path);
    zap_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->ctx = ctx;
    pthread_mutex_init(&self->lock, NULL);
    snprintf(self->keys_path, sizeof self->keys_path, "%s", keys_path);
    int rc = load_table(keys_path, &self->table, err, err_len);
    if (rc != ZAP_OK)
        return fail_new(self, error, rc);
    /* Bound here, before returning, so no CURVE socket can bind ahead of the handler. */
    rc = bind_sockets(self);
    if (rc != ZAP_OK) {
        snprintf(err, err_len, "zap: %s", zmq_strerror(zmq_errno()));
        return fail_new(self, error, rc);
    }
    if (pthread_create(&self->thread, NULL, run, self) != 0)
        return fail_new(self, error, ZAP_ETHREAD);
    log_event(LOG_INFO, "zap_start", "keys_file=%s keys=%zu", keys_path, self->table.count);
    return self;
}

void zap_destroy(zap_t **self_p)
{
    assert(self_p);
    zap_t *self = *self_p;
    if (!self)
        return;
    zmq_send(self->control, "STOP", 4, 0);
    pthread_join(self->thread, NULL);
    zmq_close(self->control);
    free(self->table.entries);
    pthread_mutex_destroy(&self->lock);
    free(self);
    *self_p = NULL;
}

int zap_reload(zap_t *self, char *err, size_t err_len)
{
    zap_table_t fresh;
    int rc = load_table(self->keys_path, &fresh, err, err_len);
    if (rc != ZAP_OK) {
        char quoted[1024];
        log_event(LOG_ERROR, "zap_reload_failed", "keys_file=%s error=%s", self->keys_path,
                  log_quote(err, quoted, sizeof quoted));
        return rc;
    }
    pthread_mutex_lock(&self->lock);
    zap_table_t old = self->table;
    self->table = fresh;
    pthread_mutex_unlock(&self->lock);
    free(old.entries);
    log_event(LOG_INFO, "zap_reload", "keys_file=%s keys=%zu", self->keys_path, fresh.count);
    return ZAP_OK;
}

bool zap_public_of(zap_t *self, const char *principal, const char *role, uint8_t key[32])
{
    bool found = false;
    pthread_mutex_lock(&self->lock);
    for (size_t i = 0; !found && i < self->table.count; i++) {
        const zap_entry_t *e = &self->table.entries[i];
        found = strcmp(e->principal, principal) == 0 && strcmp(e->role, role) == 0;
        if (found)
            memcpy(key, e->public_key, 32);
    }
    pthread_mutex_unlock(&self->lock);
    return found;
}

zap_stats_t zap_stats(zap_t *self)
{
    pthread_mutex_lock(&self->lock);
    zap_stats_t s = self->stats;
    pthread_mutex_unlock(&self->lock);
    return s;
}

const char *zap_strerror(int code)
{
    switch (code) {
    case ZAP_EKEYS: return "keys file invalid";
    case ZAP_EZMQ: return "could not bind the ZAP handler";
    case ZAP_ETHREAD: return "could not start the ZAP thread";
    default: return "unknown zap error";
    }
}
