/* envelope: see envelope.h. */
#include "envelope.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

void reject_set(reject_t *self, Arrears__Reject__Class klass, Arrears__Reject__Code code,
                const char *field, const char *reason_fmt, ...)
{
    assert(self && reason_fmt);
    self->klass = klass;
    self->code = code;
    snprintf(self->field, sizeof self->field, "%s", field ? field : "");
    va_list args;
    va_start(args, reason_fmt);
    vsnprintf(self->reason, sizeof self->reason, reason_fmt, args);
    va_end(args);
}

const char *reject_code_name(Arrears__Reject__Code code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&arrears__reject__code__descriptor, (int)code);
    return v ? v->name : "unknown";
}

const char *reject_class_name(Arrears__Reject__Class klass)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&arrears__reject__class__descriptor, (int)klass);
    return v ? v->name : "unknown";
}

static int framing_check(const Arrears__Envelope *env, envelope_kind_t *kind, reject_t *reject)
{
    if (env->seq >= 1 && env->request_id == 0) {
        if (env->stream_id == 0) {
            reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED,
                       "stream_id", "a stream message needs a stream_id of 1 or more");
            return -1;
        }
        *kind = ENVELOPE_STREAM;
        return 0;
    }
    if (env->seq == 0 && env->request_id >= 1) {
        *kind = ENVELOPE_QUERY;
        return 0;
    }
    reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED,
               env->seq ? "request_id" : "seq",
               "an envelope is either a stream message (seq >= 1, no request_id) or a query "
               "(seq 0, request_id >= 1)");
    return -1;
}

/* Field number 0 is illegal in protobuf, yet protobuf-c keeps it as an unknown field
 * when its tag is written in a non-minimal varint, and then cannot read back what it
 * packs. Refusing it keeps decode -> encode -> decode exact (found by fuzz_envelope). */
static int has_field_zero(const ProtobufCMessage *m, int depth)
{
    if (depth > ENVELOPE_NESTING_MAX)
        return 1;
    for (unsigned i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return 1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        const char *base = (const char *)m;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + f->quantifier_offset);
            ProtobufCMessage *const *items = *(ProtobufCMessage *const *const *)(base + f->offset);
            for (size_t j = 0; j < n; j++)
                if (has_field_zero(items[j], depth + 1))
                    return 1;
            continue;
        }
        if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            *(const uint32_t *)(base + f->quantifier_offset) != f->id)
            continue;
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)(base + f->offset);
        if (sub && has_field_zero(sub, depth + 1))
            return 1;
    }
    return 0;
}

int envelope_decode(const uint8_t *data, size_t len, Arrears__Envelope **out,
                    envelope_kind_t *kind, reject_t *reject)
{
    assert(out && kind && reject);
    memset(reject, 0, sizeof *reject);
    *out = arrears__envelope__unpack(NULL, len, data);
    if (!*out) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED,
                   NULL, "the %zu bytes received do not decode as an Envelope", len);
        return -1;
    }
    if (has_field_zero(&(*out)->base, 0)) {
        reject_set(reject, ARREARS__REJECT__CLASS__PERMANENT, ARREARS__REJECT__CODE__MALFORMED,
                   NULL, "the envelope holds a field numbered 0, which protobuf forbids");
        envelope_free(out);
        return -1;
    }
    if (framing_check(*out, kind, reject) != 0) {
        envelope_free(out);
        return -1;
    }
    return 0;
}

void envelope_free(Arrears__Envelope **env_p)
{
    assert(env_p);
    if (*env_p)
        arrears__envelope__free_unpacked(*env_p, NULL);
    *env_p = NULL;
}

size_t envelope_pack(const Arrears__Envelope *env, uint8_t *buf, size_t cap)
{
    size_t need = arrears__envelope__get_packed_size(env);
    if (need > cap)
        return 0;
    return arrears__envelope__pack(env, buf);
}

size_t envelope_pack_reply(Arrears__Envelope *env, uint64_t request_id, uint8_t *buf, size_t cap)
{
    env->has_request_id = 1;
    env->request_id = request_id;
    return envelope_pack(env, buf, cap);
}

static void applied_to_proto(const applied_t *in, Arrears__Applied *out)
{
    out->has_at_ms = out->has_order_us = 1;
    out->at_ms = in->at_ms;
    out->order_us = in->order_us;
}

size_t envelope_pack_ack(uint64_t stream_id, uint64_t through_seq, int duplicate,
                         const applied_t *applied, uint8_t *buf, size_t cap)
{
    Arrears__Ack ack = ARREARS__ACK__INIT;
    ack.has_through_seq = 1;
    ack.through_seq = through_seq;
    ack.has_duplicate = duplicate != 0;
    ack.duplicate = duplicate != 0;
    Arrears__Applied when = ARREARS__APPLIED__INIT;
    if (applied) {
        applied_to_proto(applied, &when);
        ack.applied = &when;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_stream_id = 1;
    env.stream_id = stream_id;
    env.body_case = ARREARS__ENVELOPE__BODY_ACK;
    env.ack = &ack;
    return envelope_pack(&env, buf, cap);
}

size_t envelope_append_replay(uint8_t *buf, size_t len, size_t cap, const applied_t *applied,
                              uint64_t through_seq)
{
    Arrears__Applied when = ARREARS__APPLIED__INIT;
    applied_to_proto(applied, &when);
    Arrears__Replay replay = ARREARS__REPLAY__INIT;
    replay.applied = &when;
    replay.has_through_seq = 1;
    replay.through_seq = through_seq;
    Arrears__Envelope only = ARREARS__ENVELOPE__INIT;   /* the replay field alone */
    only.replay = &replay;
    size_t more = len <= cap ? envelope_pack(&only, buf + len, cap - len) : 0;
    return more ? len + more : 0;
}

int envelope_replay_of(const Arrears__Envelope *env, applied_t *applied, uint64_t *through_seq)
{
    const Arrears__Replay *r = env->replay;
    if (!r || !r->applied || !r->applied->has_at_ms || !r->applied->has_order_us ||
        !r->has_through_seq)
        return 0;
    applied->at_ms = r->applied->at_ms;
    applied->order_us = r->applied->order_us;
    *through_seq = r->through_seq;
    return 1;
}

size_t envelope_pack_reject(uint64_t stream_id, uint64_t request_id, const reject_t *reject,
                            uint8_t *buf, size_t cap)
{
    Arrears__Reject r = ARREARS__REJECT__INIT;
    r.has_seq = 1;
    r.seq = reject->seq;
    r.has_reject_class = 1;
    r.reject_class = reject->klass;
    r.has_code = 1;
    r.code = reject->code;
    r.reason = (char *)reject->reason;
    if (reject->field[0])
        r.field = (char *)reject->field;
    if (reject->expected_seq) {
        r.has_expected_seq = 1;
        r.expected_seq = reject->expected_seq;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_stream_id = stream_id != 0;
    env.stream_id = stream_id;
    env.has_request_id = request_id != 0;
    env.request_id = request_id;
    env.body_case = ARREARS__ENVELOPE__BODY_REJECT;
    env.reject = &r;
    return envelope_pack(&env, buf, cap);
}
