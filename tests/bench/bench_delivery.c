/* bench_delivery: durable messages/s and ack latency through the whole delivery path —
 * producer → outbox (LMDB, durable) → sender → DEALER over tcp loopback with CURVE →
 * ROUTER → receiver → inbox + effect (LMDB, durable, group commit) → Ack.
 * The same shape as ../shared/bench/limit (intake_limit_curve, _w256), which has no
 * envelope, outbox or dedup: compare the two in one session.
 * Latency is from a message's first send to the Ack that covers it.
 * Usage: bench_delivery [N]   prints RESULT delivery ... for window 10000 and 256. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "aclock.h"
#include "link.h"
#include "log.h"
#include "outbox.h"
#include "receiver.h"
#include "sender.h"
#include "store.h"
#include "zap.h"

#define ENDPOINT "tcp://127.0.0.1:5611"
#define BODY_BYTES 240

typedef struct {
    char dir[64];
    link_keypair_t server, client;
} rig_t;

static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_delivery: %s: %d\n", what, rc);
    exit(1);
}

typedef struct {
    MDB_dbi items;
} effect_t;

static int store_item(void *app, MDB_txn *txn, const receiver_peer_t *from,
                      const Arrears__Envelope *env, reject_t *reject)
{
    (void)from, (void)reject;
    effect_t *e = app;
    uint8_t key[8];
    store_put_u64(key, env->seq);
    MDB_val k = { 8, key }, v = { env->demo_item->payload.len, env->demo_item->payload.data };
    return mdb_put(txn, e->items, &k, &v, MDB_APPEND);
}

static store_t *open_store(const char *dir)
{
    store_t *store;
    store_options_t so = store_default_options();
    so.map_size_bytes = (size_t)1 << 30;
    int rc = store_open(&store, dir, &so);
    if (rc)
        die("store_open", rc);
    return store;
}

static void run_receiver(const rig_t *rig)
{
    char path[128], err[256], data[128];
    snprintf(path, sizeof path, "%s/allowed.conf", rig->dir);
    snprintf(data, sizeof data, "%s/receiver", rig->dir);
    void *ctx = zmq_ctx_new();
    int rc = 0;
    zap_t *zap = zap_new(ctx, path, &rc, err, sizeof err);
    link_options_t lo = link_default_options();
    void *router = zap ? link_server_new(ctx, ENDPOINT, &rig->server, &lo, &rc) : NULL;
    if (!router)
        die(err, rc);
    store_t *store = open_store(data);
    inbox_t *inbox;
    effect_t effect;
    if (inbox_open(store, &inbox) || store_table(store, "bench.items", 0, &effect.items))
        die("tables", 0);
    receiver_limits_t rl = receiver_default_limits();
    receiver_handler_t h = { .apply = store_item };
    receiver_t *r = receiver_new(store, inbox, router, &rl, &h, &effect);
    for (;;) {
        zmq_pollitem_t item = { router, 0, ZMQ_POLLIN, 0 };
        if (zmq_poll(&item, 1, 1000) > 0 && receiver_drain(r, aclock_monotonic_ms()) < 0)
            die("receiver_drain", 0);
    }
}

typedef struct {
    outbox_t *outbox;
    uint64_t produced, count;
    uint8_t body[BODY_BYTES];
} producer_t;

static int produce(MDB_txn *txn, void *arg)
{
    producer_t *p = arg;
    uint64_t n = 0, base = p->produced;
    while (base + n < p->count && n < 1000) {
        Arrears__DemoItem item = ARREARS__DEMO_ITEM__INIT;
        item.has_number = 1;
        item.number = base + n + 1;
        item.has_payload = 1;
        item.payload.data = p->body;
        item.payload.len = sizeof p->body;
        Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
        env.body_case = ARREARS__ENVELOPE__BODY_DEMO_ITEM;
        env.demo_item = &item;
        int rc = outbox_append(p->outbox, txn, &env, aclock_monotonic_ms(), NULL);
        if (rc == OUTBOX_EFULL)
            break;
        if (rc)
            return rc;
        n++;
    }
    p->produced = base + n;   /* replay-safe: recomputed from base on a retry */
    return 0;
}

static int compare(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void run_sender(const rig_t *rig, uint64_t count, uint64_t window)
{
    char data[128];
    snprintf(data, sizeof data, "%s/sender-%llu", rig->dir, (unsigned long long)window);
    void *ctx = zmq_ctx_new();
    link_options_t lo = link_default_options();
    int rc = 0;
    void *dealer = link_client_new(ctx, ENDPOINT, rig->server.public_z85, &rig->client, &lo, &rc);
    store_t *store = open_store(data);
    outbox_t *outbox = NULL;
    outbox_limits_t ol = outbox_default_limits();
    ol.max_unacked = window;
    if (!dealer || outbox_open(store, "bench", &ol, &outbox))
        die("sender setup", rc);
    sender_limits_t sl = sender_default_limits();
    sl.window = window;
    sender_t *sender = sender_new(store, outbox, dealer, &sl);
    producer_t p = { .outbox = outbox, .count = count };
    memset(p.body, 'x', sizeof p.body);
    int64_t *sent_us = calloc(count + 1, sizeof *sent_us), *lat_us = calloc(count + 1, sizeof *lat_us);
    uint64_t highest = 0, acked = 0, nl = 0;
    int64_t t0 = aclock_monotonic_ms();
    struct timespec ts;
    while (acked < count) {
        if (p.produced < count && (rc = store_write(store, produce, &p)) != 0)
            die("produce", rc);
        if ((rc = sender_pump(sender, aclock_monotonic_ms())) != 0)
            die("pump", rc);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now_us = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
        for (; highest < sender_stats(sender)->highest_sent; highest++)
            sent_us[highest + 1] = now_us;
        zmq_pollitem_t item = { dealer, 0, ZMQ_POLLIN, 0 };
        zmq_poll(&item, 1, p.produced < count && sender_unacked(sender) < window ? 0 : 10);
        sender_read_replies(sender, aclock_monotonic_ms());
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now_us = ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
        for (; acked < sender_stats(sender)->acked; acked++)
            lat_us[nl++] = now_us - sent_us[acked + 1];
    }
    double seconds = (double)(aclock_monotonic_ms() - t0) / 1000.0;
    qsort(lat_us, nl, sizeof *lat_us, compare);
    printf("RESULT delivery msgs_per_s=%.0f p50_ms=%.2f p99_ms=%.2f window=%llu messages=%llu "
           "body_bytes=%d resent=%llu\n", (double)count / seconds, lat_us[nl / 2] / 1000.0,
           lat_us[nl * 99 / 100] / 1000.0, (unsigned long long)window, (unsigned long long)count,
           BODY_BYTES, (unsigned long long)sender_stats(sender)->resent);
    fflush(stdout);
    free(sent_us);
    free(lat_us);
    sender_destroy(&sender);
    outbox_destroy(&outbox);
    store_destroy(&store);
    link_close(&dealer);
    zmq_ctx_term(ctx);
}

static void make_rig(rig_t *rig)
{
    strcpy(rig->dir, "/tmp/benchXXXXXX");
    if (!mkdtemp(rig->dir) || link_keypair_generate(&rig->server) || link_keypair_generate(&rig->client))
        die("rig", errno);
    char path[128];
    snprintf(path, sizeof path, "%s/allowed.conf", rig->dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "keys = ( { principal = \"bench\"; role = \"service\"; public = \"%s\"; } );\n",
            rig->client.public_z85);
    fclose(f);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 300000;
    log_open("bench", 2, LOG_WARN);
    rig_t rig;
    make_rig(&rig);
    const uint64_t windows[] = { 10000, 256 };
    for (int i = 0; i < 2; i++) {
        pid_t child = fork();
        if (child == 0) {
            char data[128];
            snprintf(data, sizeof data, "%s/receiver", rig.dir);
            run_receiver(&rig);
            _exit(0);
        }
        run_sender(&rig, windows[i] == 256 && n > 100000 ? 100000 : n, windows[i]);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s/receiver", rig.dir);
        if (system(cmd) != 0)
            die("cleanup", 0);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", rig.dir);
    return system(cmd) == 0 ? 0 : 1;
}
