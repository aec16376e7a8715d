/* demo_run: `arrears demo-delivery` (both sides started as processes on an ipc:// endpoint,
 * the chain verified at the end) and `arrears demo-verify`. */
#include "demo.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aclock.h"
#include "chain.h"
#include "link.h"
#include "outbox.h"
#include "rig.h"
#include "store.h"

typedef struct {
    chain_t *chain;
    outbox_t *outbox;
    uint64_t count;
    size_t payload_bytes;
    char err[256];
    outbox_state_t outbox_state;
} verify_t;

static int verify_chain(MDB_txn *txn, void *arg)
{
    verify_t *v = arg;
    return chain_verify(v->chain, txn, v->count, v->payload_bytes, v->err, sizeof v->err);
}

static int read_outbox(MDB_txn *txn, void *arg)
{
    verify_t *v = arg;
    return outbox_state(v->outbox, txn, &v->outbox_state);
}

static int verify_receiver(const char *dir, verify_t *v)
{
    store_t *store;
    store_options_t so = store_default_options();
    int rc = store_open(&store, dir, &so);
    rc = rc ? rc : chain_open(store, &v->chain);
    rc = rc ? rc : store_read(store, verify_chain, v);
    chain_destroy(&v->chain);
    store_destroy(&store);
    if (rc == 0)
        printf("receiver: chain of %llu items verified: each delivered once, in order\n",
               (unsigned long long)v->count);
    else
        printf("receiver: chain check FAILED: %s\n", v->err[0] ? v->err : store_strerror(rc));
    return rc;
}

static int verify_sender(const char *dir, verify_t *v)
{
    store_t *store;
    store_options_t so = store_default_options();
    outbox_limits_t ol = outbox_default_limits();
    int rc = store_open(&store, dir, &so);
    rc = rc ? rc : outbox_open(store, "demo", &ol, &v->outbox);
    rc = rc ? rc : store_read(store, read_outbox, v);
    outbox_destroy(&v->outbox);
    store_destroy(&store);
    if (rc != 0) {
        printf("sender: cannot read the outbox: %s\n", outbox_strerror(rc));
        return rc;
    }
    const outbox_state_t *s = &v->outbox_state;
    printf("sender: appended %llu, acknowledged %llu, un-acked %llu, dead letters %llu\n",
           (unsigned long long)s->last_seq, (unsigned long long)s->acked_through,
           (unsigned long long)(s->last_seq - s->acked_through),
           (unsigned long long)s->dead_letters);
    return s->last_seq == v->count && s->acked_through == s->last_seq && s->dead_letters == 0 ? 0 : -1;
}

int demo_verify_main(const char *receiver_dir, const char *sender_dir, uint64_t count,
                     size_t payload_bytes)
{
    verify_t v = { .count = count, .payload_bytes = payload_bytes };
    int rc = 0;
    if (receiver_dir)
        rc = verify_receiver(receiver_dir, &v);
    if (sender_dir && verify_sender(sender_dir, &v) != 0)
        rc = -1;
    return rc == 0 ? 0 : 1;
}

static int prepare(const char *dir)
{
    char path[RIG_PATH_MAX + 32], keys[RIG_PATH_MAX];
    snprintf(keys, sizeof keys, "%s/keys", dir);
    snprintf(path, sizeof path, "%s/run", dir);
    int rc = rig_make_dir(keys);
    rc = rc ? rc : rig_make_dir(path);
    if (rc != 0) {
        fprintf(stderr, "arrears demo-delivery: cannot create %s: %s\n", dir, strerror(rc));
        return -1;
    }
    /* Each run starts from empty stores; the keys are kept. */
    snprintf(path, sizeof path, "%s/receiver", dir);
    rig_clear_store(path);
    snprintf(path, sizeof path, "%s/sender", dir);
    rig_clear_store(path);
    if (rig_ensure_keypair(keys, "receiver") || rig_ensure_keypair(keys, "sender"))
        return -1;
    const char *principal[] = { "demo-sender" }, *role[] = { "service" }, *key[] = { "sender" };
    snprintf(path, sizeof path, "%s/allowed.conf", keys);
    return rig_write_allowed(path, keys, principal, role, key, 1);
}

int demo_run_main(const char *self_path, const char *dir, uint64_t count)
{
    char endpoint[256], rdata[512], sdata[512], cmd[64];
    char keys[512], rkey[512], rpub[512], skey[512];
    snprintf(cmd, sizeof cmd, "%llu", (unsigned long long)count);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/run/r.sock", dir);
    if (strlen(endpoint) - 6 >= LINK_IPC_PATH_MAX) {
        fprintf(stderr, "arrears demo-delivery: %s is too deep for a unix socket path; pass --dir with a "
                "shorter path\n", dir);
        return 2;
    }
    if (prepare(dir) != 0)
        return 1;
    snprintf(rdata, sizeof rdata, "%s/receiver", dir);
    snprintf(sdata, sizeof sdata, "%s/sender", dir);
    snprintf(keys, sizeof keys, "%s/keys/allowed.conf", dir);
    snprintf(rkey, sizeof rkey, "%s/keys/receiver.key", dir);
    snprintf(rpub, sizeof rpub, "%s/keys/receiver.pub", dir);
    snprintf(skey, sizeof skey, "%s/keys/sender.key", dir);
    char *rargv[] = { "arrears", "demo-receiver", "--data", rdata, "--endpoint", endpoint,
                      "--keys", keys, "--key", rkey, NULL };
    char *sargv[] = { "arrears", "demo-sender", "--data", sdata, "--endpoint", endpoint,
                      "--server-key", rpub, "--key", skey, "--count", cmd,
                      "--progress", "20000", NULL };
    printf("arrears demo-delivery: delivering %s items from a sender process to a receiver process over "
           "%s (CURVE), each applied exactly once to a hash chain\n", cmd, endpoint);
    fflush(stdout);
    int64_t t0 = aclock_monotonic_ms();
    pid_t receiver = rig_spawn(self_path, rargv), sender = rig_spawn(self_path, sargv);
    int status = rig_wait(sender);
    rig_stop(receiver);
    if (status != 0) {
        fprintf(stderr, "arrears demo-delivery: the sender failed (exit %d); see its log above\n",
                status);
        return 1;
    }
    printf("arrears demo-delivery: delivered in %.1f s\n", (double)(aclock_monotonic_ms() - t0) / 1000.0);
    return demo_verify_main(rdata, sdata, count, 240);
}
