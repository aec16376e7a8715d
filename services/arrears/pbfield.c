/* pbfield: see pbfield.h. */
#include "pbfield.h"

#include <stddef.h>

int pbfield_value(const ProtobufCFieldDescriptor *d, const ProtobufCMessage *m, int64_t *out)
{
    if (d->label == PROTOBUF_C_LABEL_REPEATED)
        return -1;
    const char *p = m ? (const char *)m + d->offset : NULL;
    uint64_t u;
    switch (d->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        *out = p ? *(const int32_t *)(const void *)p : 0;
        return 0;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        *out = p ? *(const uint32_t *)(const void *)p : 0;
        return 0;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        *out = p ? *(const int64_t *)(const void *)p : 0;
        return 0;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        u = p ? *(const uint64_t *)(const void *)p : 0;
        *out = u > INT64_MAX ? INT64_MAX : (int64_t)u;
        return 0;
    default:
        return -1;
    }
}

int64_t pbfield_named(const ProtobufCMessage *m, const char *name)
{
    if (!m)
        return 0;
    const ProtobufCFieldDescriptor *d =
        protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    int64_t v = 0;
    return d && pbfield_value(d, m, &v) == 0 ? v : 0;
}

/* proto2 optional scalars keep a has_ flag at quantifier_offset; a oneof member's is the
 * case field, which the reports do not use. */
static bool has_flag(const ProtobufCFieldDescriptor *d)
{
    return d->label == PROTOBUF_C_LABEL_OPTIONAL && d->type != PROTOBUF_C_TYPE_MESSAGE &&
           d->type != PROTOBUF_C_TYPE_STRING && !(d->flags & PROTOBUF_C_FIELD_FLAG_ONEOF);
}

bool pbfield_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *d)
{
    return !has_flag(d) || *(const protobuf_c_boolean *)(const void *)((const char *)m +
                                                                       d->quantifier_offset);
}

void pbfield_set_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *d)
{
    if (has_flag(d))
        *(protobuf_c_boolean *)(void *)((char *)m + d->quantifier_offset) = 1;
}
