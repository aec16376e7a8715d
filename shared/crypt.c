/* crypt: see crypt.h. The key lives in sodium_malloc'd memory (guard pages, locked
 * out of swap where the system allows) and is wiped on destroy. */
#include "crypt.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_HEX_LEN (crypto_secretbox_KEYBYTES * 2)

#define NONCE_POOL_BYTES (crypto_secretbox_NONCEBYTES * 256)

struct crypt {
    unsigned char *key;   /* crypto_secretbox_KEYBYTES, sodium_malloc'd */
    /* Random nonces drawn 256 at a time: libsodium asks the kernel for every call,
     * and one system call per sealed record showed in the intake profile. */
    unsigned char nonces[NONCE_POOL_BYTES];
    size_t nonces_used;
};

_Static_assert(CRYPT_OVERHEAD_BYTES == crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES,
               "overhead must match libsodium's secretbox");

int crypt_key_create(const char *path)
{
    if (sodium_init() < 0)
        return CRYPT_ESODIUM;
    unsigned char key[crypto_secretbox_KEYBYTES];
    char hex[KEY_HEX_LEN + 2];
    crypto_secretbox_keygen(key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    hex[KEY_HEX_LEN] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        sodium_memzero(hex, sizeof hex);
        return errno == EEXIST ? CRYPT_EEXISTS : CRYPT_EKEYFILE;
    }
    int ok = write(fd, hex, KEY_HEX_LEN + 1) == KEY_HEX_LEN + 1 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    sodium_memzero(hex, sizeof hex);
    if (!ok)
        unlink(path);
    return ok ? CRYPT_OK : CRYPT_EKEYFILE;
}

static int read_key_hex(const char *path, char hex[KEY_HEX_LEN + 1])
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return CRYPT_EKEYFILE;
    struct stat st;
    /* A key others can read is as good as published: refuse it. */
    int rc = fstat(fd, &st) == 0 && (st.st_mode & 077) == 0 ? CRYPT_OK : CRYPT_EKEYFILE;
    if (rc == CRYPT_OK && read(fd, hex, KEY_HEX_LEN) != KEY_HEX_LEN)
        rc = CRYPT_EKEYFILE;
    close(fd);
    hex[KEY_HEX_LEN] = 0;
    return rc;
}

int crypt_load(const char *path, crypt_t **self_p)
{
    assert(path && self_p);
    *self_p = NULL;
    if (sodium_init() < 0)
        return CRYPT_ESODIUM;
    char hex[KEY_HEX_LEN + 1];
    int rc = read_key_hex(path, hex);
    crypt_t *self = rc == CRYPT_OK ? calloc(1, sizeof *self) : NULL;
    if (self)
        self->nonces_used = NONCE_POOL_BYTES;   /* drawn at the first seal */
    if (self)
        self->key = sodium_malloc(crypto_secretbox_KEYBYTES);
    size_t bin_len = 0;
    if (rc == CRYPT_OK && (!self || !self->key))
        rc = ENOMEM;
    if (rc == CRYPT_OK && (sodium_hex2bin(self->key, crypto_secretbox_KEYBYTES, hex, KEY_HEX_LEN,
                                          NULL, &bin_len, NULL) != 0
                           || bin_len != crypto_secretbox_KEYBYTES))
        rc = CRYPT_EKEYFILE;
    sodium_memzero(hex, sizeof hex);
    if (rc != CRYPT_OK) {
        crypt_destroy(&self);
        return rc;
    }
    *self_p = self;
    return CRYPT_OK;
}

void crypt_destroy(crypt_t **self_p)
{
    assert(self_p);
    crypt_t *self = *self_p;
    if (!self)
        return;
    if (self->key)
        sodium_free(self->key);   /* wipes before freeing */
    free(self);
    *self_p = NULL;
}

static void next_nonce(crypt_t *self, uint8_t nonce[crypto_secretbox_NONCEBYTES])
{
    if (self->nonces_used + crypto_secretbox_NONCEBYTES > NONCE_POOL_BYTES) {
        randombytes_buf(self->nonces, NONCE_POOL_BYTES);
        self->nonces_used = 0;
    }
    memcpy(nonce, self->nonces + self->nonces_used, crypto_secretbox_NONCEBYTES);
    sodium_memzero(self->nonces + self->nonces_used, crypto_secretbox_NONCEBYTES);
    self->nonces_used += crypto_secretbox_NONCEBYTES;
}

int crypt_seal(crypt_t *self, const uint8_t *plain, size_t len, uint8_t *out,
               size_t cap, size_t *out_len)
{
    if (cap < len + CRYPT_OVERHEAD_BYTES || len + CRYPT_OVERHEAD_BYTES < len)
        return CRYPT_ESPACE;
    next_nonce(self, out);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len, out, self->key);
    *out_len = len + CRYPT_OVERHEAD_BYTES;
    return CRYPT_OK;
}

int crypt_open(const crypt_t *self, const uint8_t *sealed, size_t len, uint8_t *out,
               size_t cap, size_t *out_len)
{
    if (len < CRYPT_OVERHEAD_BYTES)
        return CRYPT_EFORGED;
    size_t plain_len = len - CRYPT_OVERHEAD_BYTES;
    if (cap < plain_len)
        return CRYPT_ESPACE;
    if (crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed, self->key) != 0)
        return CRYPT_EFORGED;
    *out_len = plain_len;
    return CRYPT_OK;
}

const char *crypt_strerror(int code)
{
    switch (code) {
    case CRYPT_OK: return "ok";
    case CRYPT_EKEYFILE: return "key file missing, unreadable, malformed (64 hex characters) or readable by others";
    case CRYPT_EFORGED: return "sealed record does not authenticate: wrong key or altered data";
    case CRYPT_ESPACE: return "output buffer too small";
    case CRYPT_ESODIUM: return "libsodium could not start";
    case CRYPT_EEXISTS: return "key file exists; refusing to overwrite it";
    default: return strerror(code);
    }
}

_Static_assert(crypto_kdf_KEYBYTES == crypto_secretbox_KEYBYTES, "the KDF takes the record key");

int crypt_derive(const crypt_t *self, const char context[8], uint64_t id,
                 uint8_t out[CRYPT_DERIVED_BYTES])
{
    return crypto_kdf_derive_from_key(out, CRYPT_DERIVED_BYTES, id, context, self->key) == 0
               ? CRYPT_OK : CRYPT_ESODIUM;
}
