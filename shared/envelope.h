/* envelope: decoding, framing checks and packing of the one frame every arrears message
 * travels in (proto/envelope.proto), and the Reject a receiver answers with.
 *
 * Decoding is defensive: the bytes come from the network, already size-limited by
 * ZMQ_MAXMSGSIZE. Bytes that do not decode, or an envelope that is neither a stream
 * message nor a query, get a Reject with seq 0: nothing is consumed. Everything about
 * the body (known type, valid fields) is the receiver's business, answered on the
 * message's own seq. */
#ifndef ARREARS_ENVELOPE_H
#define ARREARS_ENVELOPE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.pb-c.h"

#define ENVELOPE_TRACE_MAX_BYTES 32
#define ENVELOPE_REPLY_MAX_BYTES 1024
#define ENVELOPE_NESTING_MAX 32   /* message-in-message depth a decoder accepts */
#define REJECT_FIELD_MAX 64
#define REJECT_REASON_MAX 256

typedef enum {
    ENVELOPE_STREAM = 1,   /* seq >= 1 on a stream: changes state, gets Ack/Reject */
    ENVELOPE_QUERY = 2,    /* seq 0, request_id >= 1: changes nothing, gets a reply */
} envelope_kind_t;

/* A refusal as the receiver builds it; packed into a Reject body. */
typedef struct {
    Arrears__Reject__Class klass;
    Arrears__Reject__Code code;
    uint64_t seq;
    uint64_t expected_seq;
    char field[REJECT_FIELD_MAX];
    char reason[REJECT_REASON_MAX];
} reject_t;

/* When a receiver applied a batch (proto Applied): its clock, and an order among its
 * batches (its wall clock in microseconds when the batch began). */
typedef struct {
    int64_t at_ms;
    int64_t order_us;
} applied_t;

void reject_set(reject_t *self, Arrears__Reject__Class klass, Arrears__Reject__Code code,
                const char *field, const char *reason_fmt, ...)
    __attribute__((format(printf, 5, 6)));
const char *reject_code_name(Arrears__Reject__Code code);
const char *reject_class_name(Arrears__Reject__Class klass);

/* Decodes and checks the framing. On success *out is owned by the caller (free with
 * envelope_free) and *kind says what it is; on failure *reject says why (seq 0). */
int envelope_decode(const uint8_t *data, size_t len, Arrears__Envelope **out,
                    envelope_kind_t *kind, reject_t *reject);
void envelope_free(Arrears__Envelope **env_p);

/* Packs into buf; returns the packed length, or 0 if it does not fit in cap. */
size_t envelope_pack(const Arrears__Envelope *env, uint8_t *buf, size_t cap);
/* A query's reply: env with request_id echoed, packed as envelope_pack. */
size_t envelope_pack_reply(Arrears__Envelope *env, uint64_t request_id, uint8_t *buf, size_t cap);
/* applied: when the batch that this Ack answers was applied (NULL: not said). */
size_t envelope_pack_ack(uint64_t stream_id, uint64_t through_seq, int duplicate,
                         const applied_t *applied, uint8_t *buf, size_t cap);
/* Appends an Envelope.replay (applied, through_seq) to the packed envelope of len bytes
 * in buf — protobuf merges a field appended to a message's bytes into it — and returns
 * the new length, or 0 if it would not fit in cap. The bytes before len are unchanged. */
size_t envelope_append_replay(uint8_t *buf, size_t len, size_t cap, const applied_t *applied,
                              uint64_t through_seq);
/* What env->replay says: 1 with *applied and *through_seq filled when it carries a
 * complete replay, 0 when it carries none (or one without its Applied). */
int envelope_replay_of(const Arrears__Envelope *env, applied_t *applied, uint64_t *through_seq);
size_t envelope_pack_reject(uint64_t stream_id, uint64_t request_id, const reject_t *reject,
                            uint8_t *buf, size_t cap);

#endif
