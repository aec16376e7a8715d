/* link: the ZeroMQ sockets between arrears processes and their CURVE keys.
 *
 * A receiver binds a ROUTER as a CURVE server; a sender connects a DEALER as a CURVE
 * client. Both get the same safety settings: ZMQ_MAXMSGSIZE (an oversize frame drops
 * that connection, never the process), heartbeats (a dead peer is noticed), linger 0
 * (closing never hangs on unsent messages: the outbox still has them), bounded queues;
 * the DEALER also gets ZMQ_IMMEDIATE, so nothing is queued for a peer not connected.
 * CURVE runs on every endpoint, ipc:// included, so one code path knows every peer.
 * The ZAP handler (zap.h) must be started before the first server binds.
 *
 * Key files (written by `arrears keygen`, read with the conf module):
 *   NAME.key   public = "<40 z85 chars>"; secret = "<40 z85 chars>";   mode 0600
 *   NAME.pub   public = "<40 z85 chars>"; */
#ifndef ARREARS_LINK_H
#define ARREARS_LINK_H

#include <stddef.h>
#include <zmq.h>

#define LINK_KEY_Z85_LEN 40
#define LINK_ENDPOINT_MAX 256
#define LINK_IPC_PATH_MAX 100   /* sun_path is 108 bytes; stay well inside it */

enum {
    LINK_OK = 0,
    LINK_EKEYFILE = -30301,   /* key file missing, unreadable or malformed (see err text) */
    LINK_EKEY = -30302,       /* a key is not 40 z85 characters */
    LINK_EENDPOINT = -30303,  /* endpoint malformed, or an ipc path too long */
    LINK_EZMQ = -30304,       /* libzmq refused: zmq_strerror(zmq_errno()) says why */
    LINK_EWRITE = -30305,     /* could not write a key file */
};

typedef struct {
    char public_z85[LINK_KEY_Z85_LEN + 1];
    char secret_z85[LINK_KEY_Z85_LEN + 1];
} link_keypair_t;

typedef struct {
    int max_message_bytes;     /* ZMQ_MAXMSGSIZE on every inbound socket */
    int heartbeat_ivl_ms;
    int heartbeat_timeout_ms;
    int queue_max_messages;    /* ZMQ_SNDHWM / ZMQ_RCVHWM */
} link_options_t;

link_options_t link_default_options(void);

int link_keypair_generate(link_keypair_t *keys);
int link_keypair_load(const char *path, link_keypair_t *keys, char *err, size_t err_len);
int link_public_load(const char *path, char public_z85[LINK_KEY_Z85_LEN + 1], char *err,
                     size_t err_len);
/* Writes NAME.key (0600) and NAME.pub into dir. */
int link_keypair_save(const char *dir, const char *name, const link_keypair_t *keys,
                      char *err, size_t err_len);
int link_key_valid(const char *z85);

void *link_server_new(void *ctx, const char *endpoint, const link_keypair_t *server,
                      const link_options_t *options, int *error);
void *link_client_new(void *ctx, const char *endpoint, const char *server_public_z85,
                      const link_keypair_t *client, const link_options_t *options, int *error);
void link_close(void **socket_p);

/* The same from key files, as every service opens its sockets: NULL with err saying
 * what failed ("file: why", "cannot bind EP: why"). */
void *link_server_open(void *ctx, const char *endpoint, const char *key_path,
                       const link_options_t *options, char *err, size_t err_len);
void *link_client_open(void *ctx, const char *endpoint, const char *server_public_path,
                       const char *key_path, const link_options_t *options, char *err,
                       size_t err_len);

/* What the ZAP handler said about the connection a message came on. */
const char *link_principal(zmq_msg_t *msg);
const char *link_role(zmq_msg_t *msg);

const char *link_strerror(int code);

#endif
