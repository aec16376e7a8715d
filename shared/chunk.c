/* chunk: see chunk.h. */
#include "chunk.h"

#include <sodium.h>

_Static_assert(crypto_hash_sha256_BYTES == CHUNK_DIGEST_BYTES, "SHA-256 is 32 bytes");

int chunk_slice(size_t total, uint64_t offset, uint32_t max_bytes, uint32_t limit_bytes,
                chunk_t *out)
{
    uint64_t max = max_bytes ? max_bytes : CHUNK_DEFAULT_BYTES;
    if (max > limit_bytes || offset > total)
        return CHUNK_ERANGE;
    out->offset = (size_t)offset;
    out->len = total - out->offset < max ? total - out->offset : (size_t)max;
    return CHUNK_OK;
}

void chunk_digest(const uint8_t *doc, size_t total, uint8_t out[CHUNK_DIGEST_BYTES])
{
    crypto_hash_sha256(out, doc, total);
}
