/* crypt: personal data at rest. A service seals each record that holds personal fields
 * (names, id hashes, phones, e-mails, addresses, complaint texts) with libsodium's
 * secretbox (XSalsa20-Poly1305, a fresh random nonce per record) under its own key,
 * kept in a file of its own (hex, mode 0600), never in the store. A record that does
 * not open (wrong key, altered bytes) is reported, never half-read. */
#ifndef ARREARS_CRYPT_H
#define ARREARS_CRYPT_H

#include <stddef.h>
#include <stdint.h>

#define CRYPT_OVERHEAD_BYTES 40   /* nonce (24) + MAC (16) */

enum {
    CRYPT_OK = 0,
    CRYPT_EKEYFILE = -30101,   /* missing, unreadable, not 64 hex characters, or too open */
    CRYPT_EFORGED = -30102,    /* the sealed record did not authenticate */
    CRYPT_ESPACE = -30103,     /* the output buffer is too small */
    CRYPT_ESODIUM = -30104,    /* libsodium could not start */
    CRYPT_EEXISTS = -30105,    /* refusing to overwrite an existing key file */
};

typedef struct crypt crypt_t;

/* Writes a new random key to path (0600); never overwrites. */
int crypt_key_create(const char *path);
int crypt_load(const char *path, crypt_t **self_p);
void crypt_destroy(crypt_t **self_p);

int crypt_seal(crypt_t *self, const uint8_t *plain, size_t len, uint8_t *out,
               size_t cap, size_t *out_len);
int crypt_open(const crypt_t *self, const uint8_t *sealed, size_t len, uint8_t *out,
               size_t cap, size_t *out_len);

/* A key for another purpose derived from the service's key (libsodium's KDF, BLAKE2b):
 * context names the purpose (8 characters, e.g. "pseudony"), id tells keys of one
 * purpose apart. One secret to keep, and no derived key opens the records. */
#define CRYPT_DERIVED_BYTES 32
int crypt_derive(const crypt_t *self, const char context[8], uint64_t id,
                 uint8_t out[CRYPT_DERIVED_BYTES]);

const char *crypt_strerror(int code);

#endif
