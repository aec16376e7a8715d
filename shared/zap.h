/* zap: the ZeroMQ authentication handler (ZAP, RFC 27) that maps each CURVE public key
 * to a principal and a role. It runs in its own thread on inproc://zeromq.zap.01 and
 * must be started before any CURVE server socket binds: with no handler bound, libzmq
 * accepts every key. An unknown key is refused at the handshake. The principal reaches
 * the receiving code as the message's "User-Id" property, the role as "X-Role".
 *
 * The keys file (libconfig syntax; errors name file:line):
 *   keys = (
 *     { principal = "platform-a"; role = "platform"; public = "<40 z85 chars>"; },
 *     ...
 *   );
 * zap_reload() re-reads it (on SIGHUP): a removed key loses access at its next
 * connection; a file that does not parse leaves the old table in force. */
#ifndef ARREARS_ZAP_H
#define ARREARS_ZAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZAP_MAX_KEYS 10000
#define ZAP_PRINCIPAL_MAX 64

enum {
    ZAP_OK = 0,
    ZAP_EKEYS = -30201,   /* keys file invalid: the error text names file:line */
    ZAP_EZMQ = -30202,    /* the handler socket could not be bound */
    ZAP_ETHREAD = -30203,
};

typedef struct zap zap_t;

typedef struct {
    uint64_t allowed;
    uint64_t denied;
} zap_stats_t;

/* Roles a principal can hold; a receiver decides what each may do. */
extern const char *const zap_roles[];

zap_t *zap_new(void *ctx, const char *keys_path, int *error, char *err, size_t err_len);
void zap_destroy(zap_t **self_p);
int zap_reload(zap_t *self, char *err, size_t err_len);
zap_stats_t zap_stats(zap_t *self);
/* The public key (32 bytes) the keys file holds for principal with role: true when
 * there is one. For services that encrypt to a party (sale seals a buyer's file to
 * the key it connects with). */
bool zap_public_of(zap_t *self, const char *principal, const char *role, uint8_t key[32]);
const char *zap_strerror(int code);

#endif
