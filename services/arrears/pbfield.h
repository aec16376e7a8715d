/* pbfield: a report message's integer fields read by their proto names, through
 * protobuf-c's descriptors. The renderers name every figure after its field (render.c)
 * and the shards' reports are added up field by field (merge.c) with it, so a field added
 * to a report is rendered and merged without a change to either. */
#ifndef ARREARS_PBFIELD_H
#define ARREARS_PBFIELD_H

#include <stdbool.h>
#include <stdint.h>

#include <protobuf-c/protobuf-c.h>

/* An integer scalar's value (0 when m is NULL); -1 for anything else (strings, messages,
 * repeated, enums: not figures). uint64 beyond int64 cannot be a count of anything real:
 * clamped. */
int pbfield_value(const ProtobufCFieldDescriptor *d, const ProtobufCMessage *m, int64_t *out);
/* The integer field `name` of m (0 when m is NULL or has none by that name). */
int64_t pbfield_named(const ProtobufCMessage *m, const char *name);
/* Whether an optional field is set (proto2's has_ flag; always for other labels). */
bool pbfield_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *d);
void pbfield_set_present(ProtobufCMessage *m, const ProtobufCFieldDescriptor *d);

#endif
