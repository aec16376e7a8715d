/* demo: the delivery demonstration — a sender process streams DemoItems through its
 * outbox over a CURVE link into a receiver process's inbox, which extends a hash chain
 * with each. `arrears demo` runs the whole thing locally and proves every item arrived
 * exactly once, in order; the sub-commands run one side each, so tests can kill and
 * restart them (see tests/integration). */
#ifndef ARREARS_DEMO_H
#define ARREARS_DEMO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *data_dir;      /* the process's own store */
    const char *endpoint;      /* tcp:// or ipc:// */
    const char *keys_file;     /* receiver: who may connect */
    const char *key_file;      /* own key pair */
    const char *server_pub;    /* sender: the receiver's public key file */
    uint64_t count;            /* sender: items to deliver */
    uint64_t window;           /* sender: un-acked items in flight */
    size_t payload_bytes;
    size_t map_mb;             /* store: initial map */
    size_t map_max_mb;         /* store: hard cap */
    size_t batch_max;          /* receiver: messages per transaction */
    int progress_every;        /* sender: print a progress line every N acks (0: never) */
} demo_options_t;

demo_options_t demo_default_options(void);
int demo_receiver_main(const demo_options_t *o);
int demo_sender_main(const demo_options_t *o);
/* receiver_dir and sender_dir may each be NULL. */
int demo_verify_main(const char *receiver_dir, const char *sender_dir, uint64_t count,
                     size_t payload_bytes);
int demo_run_main(const char *self_path, const char *dir, uint64_t count);

#endif
