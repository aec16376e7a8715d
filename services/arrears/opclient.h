/* opclient: the CLI's connection to one service, as an operator (or as the simulation
 * driver). A DEALER over CURVE with the operator's key; queries wait for the reply with
 * their request_id, stream messages (ClockAdvance, OperatorAction) go on a stream of
 * their own (a fresh random stream id per connection) and wait for their Ack, resent
 * unchanged after a RETRY_LATER (busy) or a silence — always safe, the receiver's inbox
 * applies a (stream, seq) once. Every wait is bounded by the caller's timeout. */
#ifndef ARREARS_OPCLIENT_H
#define ARREARS_OPCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

enum {
    OPCLIENT_OK = 0,
    OPCLIENT_ECONNECT = -31001,   /* a key file or the endpoint is wrong (see err text) */
    OPCLIENT_ETIMEOUT = -31002,   /* no answer in time: the service is down or stuck */
    OPCLIENT_EREJECTED = -31003,  /* a permanent Reject: the reject says why */
    OPCLIENT_EPACK = -31004,      /* the message does not fit in OPCLIENT_MESSAGE_MAX */
    OPCLIENT_EREPLY = -31005,     /* the reply is not the body the query asks for */
};

#define OPCLIENT_MESSAGE_MAX (1u << 20)   /* a service's ZMQ_MAXMSGSIZE */
#define OPCLIENT_RESEND_MS 1000           /* silence after which a message is sent again */

typedef struct opclient opclient_t;

/* ctx: a zmq context the caller owns. NULL with err saying what failed. */
opclient_t *opclient_new(void *ctx, const char *endpoint, const char *server_public_path,
                         const char *key_path, char *err, size_t err_len);
void opclient_destroy(opclient_t **self_p);

/* Sends env (a query body set by the caller; request_id is assigned) and waits for its
 * reply, whose body must be reply_case. On success *reply is the caller's
 * (envelope_free). A Reject reply gives OPCLIENT_EREJECTED with *reject filled. */
int opclient_query(opclient_t *self, Arrears__Envelope *env, int reply_case,
                   Arrears__Envelope **reply, int64_t timeout_ms, reject_t *reject);
/* Sends env (a stream body) as the next seq of this connection's stream and waits for
 * its Ack, resending after a busy refusal or silence, until timeout_ms. */
int opclient_send(opclient_t *self, Arrears__Envelope *env, int64_t timeout_ms,
                  reject_t *reject);
/* The service's Health; *health is the caller's (arrears__health__free_unpacked). */
int opclient_health(opclient_t *self, Arrears__Health **health, int64_t timeout_ms);

const char *opclient_strerror(int code);

#endif
