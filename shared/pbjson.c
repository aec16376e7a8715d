/* pbjson: see pbjson.h. Walks the descriptor: a field is present when its has_ flag is
 * set (scalars), its pointer is non-NULL (strings, messages), its oneof case names it,
 * or it is repeated with a count above zero. */
#include "pbjson.h"

#include <inttypes.h>
#include <string.h>

static int print_message(FILE *out, const ProtobufCMessage *m, int depth);

static void print_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static int print_value(FILE *out, const ProtobufCFieldDescriptor *f, const void *v, int depth)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32: case PROTOBUF_C_TYPE_SINT32: case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)v); break;
    case PROTOBUF_C_TYPE_UINT32: case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)v); break;
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "%" PRId64, *(const int64_t *)v); break;
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "%" PRIu64, *(const uint64_t *)v); break;
    case PROTOBUF_C_TYPE_FLOAT: fprintf(out, "%.9g", (double)*(const float *)v); break;
    case PROTOBUF_C_TYPE_DOUBLE: fprintf(out, "%.17g", *(const double *)v); break;
    case PROTOBUF_C_TYPE_BOOL: fputs(*(const protobuf_c_boolean *)v ? "true" : "false", out); break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumValue *e = protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)v);
        if (e)
            print_string(out, e->name);
        else
            fprintf(out, "%d", *(const int *)v);
        break;
    }
    case PROTOBUF_C_TYPE_STRING: print_string(out, *(char *const *)v); break;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = v;
        fputc('"', out);
        for (size_t i = 0; i < b->len; i++)
            fprintf(out, "%02x", b->data[i]);
        fputc('"', out);
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE: return print_message(out, *(ProtobufCMessage *const *)v, depth + 1);
    }
    return 0;
}

static size_t value_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT64: case PROTOBUF_C_TYPE_SINT64: case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64: case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4;
    }
}

static int field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const char *base = (const char *)m;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(base + f->quantifier_offset) > 0;
    if (f->type == PROTOBUF_C_TYPE_STRING || f->type == PROTOBUF_C_TYPE_MESSAGE)
        return *(void *const *)(base + f->offset) != NULL;
    if (f->label == PROTOBUF_C_LABEL_REQUIRED)
        return 1;
    return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
}

static int print_field(FILE *out, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                       int depth)
{
    const char *base = (const char *)m;
    fprintf(out, "\"%s\":", f->name);
    if (f->label != PROTOBUF_C_LABEL_REPEATED)
        return print_value(out, f, base + f->offset, depth);
    size_t n = *(const size_t *)(base + f->quantifier_offset);
    const char *items = *(const char *const *)(base + f->offset);
    int rc = 0;
    fputc('[', out);
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (i)
            fputc(',', out);
        rc = print_value(out, f, items + i * value_size(f), depth);
    }
    fputc(']', out);
    return rc;
}

static int print_message(FILE *out, const ProtobufCMessage *m, int depth)
{
    if (depth > PBJSON_DEPTH_MAX)
        return -1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    int first = 1, rc = 0;
    fputc('{', out);
    for (unsigned i = 0; i < d->n_fields && rc == 0; i++) {
        if (!field_present(m, &d->fields[i]))
            continue;
        if (!first)
            fputc(',', out);
        first = 0;
        rc = print_field(out, m, &d->fields[i], depth);
    }
    fputc('}', out);
    return rc;
}

int pbjson_print(FILE *out, const ProtobufCMessage *message)
{
    int rc = print_message(out, message, 0);
    return rc == 0 && !ferror(out) ? 0 : -1;
}
