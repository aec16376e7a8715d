/* svcnet: a service's sockets, senders and receiver, stepped together (see svcnet.h). */
#include "svcnet.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#include "link.h"
#include "sender.h"

struct svcnet {
    void *ctx;
    zap_t *zap;
    void *router;
    size_t peer_count;
    void *dealer[SVCNET_MAX_PEERS];
    sender_t *sender[SVCNET_MAX_PEERS];
    receiver_t *receiver;
};

void svcnet_destroy(svcnet_t **self_p)
{
    svcnet_t *self = *self_p;
    if (!self)
        return;
    receiver_destroy(&self->receiver);
    for (size_t i = 0; i < self->peer_count; i++) {
        sender_destroy(&self->sender[i]);
        link_close(&self->dealer[i]);
    }
    link_close(&self->router);
    zap_destroy(&self->zap);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self);
    *self_p = NULL;
}

static int open_sockets(svcnet_t *self, const svcnet_spec_t *spec, char *err, size_t err_len)
{
    const svcconf_t *c = spec->svc;
    int rc = 0;
    self->zap = zap_new(self->ctx, c->allowed_path, &rc, err, err_len);
    if (self->zap)   /* the handler first: a CURVE socket bound without it admits every key */
        self->router = link_server_open(self->ctx, spec->listen, c->key_path, &c->link, err,
                                        err_len);
    if (!self->router)
        return -1;
    for (size_t i = 0; i < spec->peer_count; i++) {
        self->dealer[i] = link_client_open(self->ctx, spec->peers[i].endpoint,
                                           spec->peers[i].public_path, c->key_path, &c->link,
                                           err, err_len);
        if (!self->dealer[i])
            return -1;
    }
    return 0;
}

svcnet_t *svcnet_new(const svcnet_spec_t *spec, store_t *store, inbox_t *inbox,
                     const receiver_handler_t *handler, void *app, char *err, size_t err_len)
{
    assert(spec->peer_count <= SVCNET_MAX_PEERS);
    svcnet_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ctx = zmq_ctx_new())) {
        snprintf(err, err_len, "out of memory opening the sockets");
        free(self);
        return NULL;
    }
    self->peer_count = spec->peer_count;
    if (open_sockets(self, spec, err, err_len) != 0) {
        svcnet_destroy(&self);
        return NULL;
    }
    self->receiver = receiver_new(store, inbox, self->router, &spec->svc->receiver, handler, app);
    bool ok = self->receiver != NULL;
    for (size_t i = 0; ok && i < spec->peer_count; i++) {
        self->sender[i] = sender_new(store, spec->peers[i].outbox, self->dealer[i],
                                     &spec->svc->sender);
        ok = self->sender[i] != NULL;
    }
    if (!ok) {
        snprintf(err, err_len, "cannot set up the receiver and senders (memory or store)");
        svcnet_destroy(&self);
    }
    return self;
}

int svcnet_pump(svcnet_t *self)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->peer_count; i++)
        rc = sender_pump(self->sender[i], aclock_monotonic_ms());
    return rc;
}

int svcnet_step(svcnet_t *self, int64_t wait_max_ms, const aclock_t *clock)
{
    zmq_pollitem_t items[1 + SVCNET_MAX_PEERS] = {{self->router, 0, ZMQ_POLLIN, 0}};
    int64_t now = aclock_monotonic_ms(), wait = wait_max_ms;
    for (size_t i = 0; i < self->peer_count; i++) {
        items[1 + i] = (zmq_pollitem_t){self->dealer[i], 0, ZMQ_POLLIN, 0};
        int64_t w = sender_wait_ms(self->sender[i], now);
        wait = w < wait ? w : wait;
    }
    if (zmq_poll(items, (int)(1 + self->peer_count), (long)(wait > 0 ? wait : 0)) < 0)
        return zmq_errno() == EINTR ? 0 : zmq_errno();   /* a signal: the loop checks its flags */
    int rc = 0;
    if (items[0].revents & ZMQ_POLLIN) {
        int taken = receiver_drain(self->receiver, aclock_now_ms(clock));
        rc = taken < 0 ? taken : 0;
    }
    for (size_t i = 0; rc == 0 && i < self->peer_count; i++)
        if (items[1 + i].revents & ZMQ_POLLIN)
            rc = sender_read_replies(self->sender[i], aclock_monotonic_ms());
    return rc ? rc : svcnet_pump(self);
}

void svcnet_flush(svcnet_t *self)
{
    for (size_t i = 0; self && i < self->peer_count; i++)
        sender_flush(self->sender[i], aclock_monotonic_ms());
}

uint64_t svcnet_unacked(const svcnet_t *self)
{
    uint64_t n = 0;
    for (size_t i = 0; self && i < self->peer_count; i++)
        n += sender_unacked(self->sender[i]);
    return n;
}

zap_t *svcnet_zap(svcnet_t *self)
{
    return self ? self->zap : NULL;
}

int svcnet_secret_open(const char *path, bool create, crypt_t **crypt)
{
    int rc = crypt_load(path, crypt);
    if (rc == CRYPT_EKEYFILE && create && crypt_key_create(path) == CRYPT_OK)
        rc = crypt_load(path, crypt);
    return rc;
}
