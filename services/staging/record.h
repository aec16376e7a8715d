/* record: an account_t to the bytes staging stores (proto/staging_store.proto) and
 * back. A small class because the conversion needs scratch space (the packed
 * instalments, an arena for unpacking) that is reused from one account to the next:
 * the daily run converts every account twice, and malloc per field would dominate.
 * One record_t per thread. */
#ifndef ARREARS_STAGING_RECORD_H
#define ARREARS_STAGING_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "account.h"

enum {
    RECORD_OK = 0,
    RECORD_ECORRUPT = -40401,   /* the bytes are not a stored account */
    RECORD_ETOO_LARGE = -40402, /* over RECORD_MAX_BYTES */
};

/* A 600-instalment account packs to about 40 KiB; this bounds a corrupt length. */
#define RECORD_MAX_BYTES (256 * 1024)

typedef struct record record_t;

record_t *record_new(void);
void record_destroy(record_t **self_p);

/* Packs account; *bytes stays valid until the next call on self. */
int record_encode(record_t *self, const account_t *account, const uint8_t **bytes, size_t *len);
/* Unpacks into account (account_init'ed here). */
int record_decode(record_t *self, const uint8_t *bytes, size_t len, account_t *account);

const char *record_strerror(int code);

#endif
