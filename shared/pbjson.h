/* pbjson: any protobuf-c message as one line of JSON, by its descriptor — for logical
 * dumps, the CLI and tests in other languages (json.loads reads it). Only fields that
 * are present are printed; enums by name; bytes as hex; int64 as JSON numbers. It
 * never prints what a message does not hold, so callers decide what is personal. */
#ifndef ARREARS_PBJSON_H
#define ARREARS_PBJSON_H

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>

#define PBJSON_DEPTH_MAX 32

/* Returns 0, or -1 when the output failed or nesting went past PBJSON_DEPTH_MAX. */
int pbjson_print(FILE *out, const ProtobufCMessage *message);

#endif
