/* chunk: the slice of a document that one pull answers. Objects larger than a message
 * (case files, sale tapes and files) travel as chunks pulled by id and offset (DESIGN.md
 * section 2, Limits); every chunk carries the SHA-256 of the whole document, so the
 * puller checks what it put together after the last one. */
#ifndef ARREARS_CHUNK_H
#define ARREARS_CHUNK_H

#include <stddef.h>
#include <stdint.h>

#define CHUNK_DEFAULT_BYTES 65536

enum {
    CHUNK_OK = 0,
    CHUNK_ERANGE = -31601,   /* offset past the end, or max_bytes over the limit */
};

#define CHUNK_DIGEST_BYTES 32

typedef struct {
    size_t offset;
    size_t len;              /* bytes from offset: up to max_bytes, fewer at the end */
} chunk_t;

/* The slice of a document of total bytes that a pull at offset for max_bytes gets.
 * max_bytes 0 asks for CHUNK_DEFAULT_BYTES; more than limit_bytes is refused. */
int chunk_slice(size_t total, uint64_t offset, uint32_t max_bytes, uint32_t limit_bytes,
                chunk_t *out);

/* The SHA-256 every chunk of the document carries. Hash a document once and keep it
 * with the document: hashing it again for every chunk costs its size per pull. */
void chunk_digest(const uint8_t *doc, size_t total, uint8_t out[CHUNK_DIGEST_BYTES]);

#endif
