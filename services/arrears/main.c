/* arrears: the one command-line tool of the system. Its commands so far:
 *   arrears keygen NAME [DIR]      write a CURVE key pair (NAME.key, NAME.pub)
 *   arrears demo [--accounts N] [--seed S] [--dir DIR]
 *                                  the main job: the pipeline on the embedded default
 *   arrears demo-delivery [--count N] [--dir DIR]
 *                                  effectively-once delivery, end to end
 *   arrears demo-receiver | demo-sender | demo-verify OPTIONS
 *                                  one side of it, for tests that kill and restart
 * Later issues add up, down, status, account, report, simulate. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "link.h"
#include "pipeline.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: arrears COMMAND [OPTIONS]\n"
            "  keygen NAME [DIR]         write DIR/NAME.key (secret, 0600) and DIR/NAME.pub\n"
            "  demo [--accounts N] [--seed S] [--dir DIR]\n"
            "                            the main job: intake (+ a staging stand-in) on this machine,\n"
            "                            a synthetic platform uploads a portfolio and reads its feed\n"
            "  demo-delivery [--count N] [--dir DIR]\n"
            "                            deliver N items sender -> receiver exactly once and verify\n"
            "  demo-receiver --data DIR --endpoint EP --keys ALLOWED --key KEYPAIR\n"
            "                [--map-mb N] [--map-max-mb N] [--batch N]\n"
            "  demo-sender   --data DIR --endpoint EP --server-key PUB --key KEYPAIR --count N\n"
            "                [--window N] [--payload-bytes N] [--progress N]\n"
            "  demo-verify   [--receiver-data DIR] [--sender-data DIR] --count N [--payload-bytes N]\n");
}

static int keygen_main(int argc, char **argv)
{
    if (argc < 3 || argc > 4) {
        usage(stderr);
        return 2;
    }
    link_keypair_t keys;
    char err[512];
    if (link_keypair_generate(&keys) != 0) {
        fprintf(stderr, "arrears keygen: libzmq has no CURVE support\n");
        return 1;
    }
    const char *dir = argc == 4 ? argv[3] : ".";
    if (link_keypair_save(dir, argv[2], &keys, err, sizeof err) != 0) {
        fprintf(stderr, "arrears keygen: %s (an existing key is never overwritten)\n", err);
        return 1;
    }
    printf("wrote %s/%s.key (keep secret) and %s/%s.pub\npublic key: %s\n", dir, argv[2], dir,
           argv[2], keys.public_z85);
    return 0;
}

typedef struct {
    demo_options_t demo;
    const char *receiver_data;
    const char *sender_data;
    const char *dir;
    uint64_t accounts;
    uint64_t seed;
} cli_options_t;

static int parse_number(const char *text, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end)
        return -1;
    *out = v;
    return 0;
}

static int parse_options(int argc, char **argv, cli_options_t *o)
{
    static const struct option longs[] = {
        { "data", 1, 0, 'd' }, { "endpoint", 1, 0, 'e' }, { "keys", 1, 0, 'K' },
        { "key", 1, 0, 'k' }, { "server-key", 1, 0, 's' }, { "count", 1, 0, 'n' },
        { "window", 1, 0, 'w' }, { "payload-bytes", 1, 0, 'p' }, { "map-mb", 1, 0, 'm' },
        { "map-max-mb", 1, 0, 'M' }, { "batch", 1, 0, 'b' }, { "progress", 1, 0, 'P' },
        { "receiver-data", 1, 0, 'R' }, { "sender-data", 1, 0, 'S' }, { "dir", 1, 0, 'D' },
        { "accounts", 1, 0, 'a' }, { "seed", 1, 0, 'x' },
        { 0, 0, 0, 0 },
    };
    int c;
    uint64_t n = 0;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'd': o->demo.data_dir = optarg; break;
        case 'e': o->demo.endpoint = optarg; break;
        case 'K': o->demo.keys_file = optarg; break;
        case 'k': o->demo.key_file = optarg; break;
        case 's': o->demo.server_pub = optarg; break;
        case 'R': o->receiver_data = optarg; break;
        case 'S': o->sender_data = optarg; break;
        case 'D': o->dir = optarg; break;
        case 'n': bad = parse_number(optarg, &o->demo.count); break;
        case 'a': bad = parse_number(optarg, &o->accounts) || o->accounts == 0 || o->accounts > 10000000; break;
        case 'x': bad = parse_number(optarg, &o->seed); break;
        case 'w': bad = parse_number(optarg, &o->demo.window) || o->demo.window == 0; break;
        case 'p': bad = parse_number(optarg, &n) || n > 65536; o->demo.payload_bytes = n; break;
        case 'm': bad = parse_number(optarg, &n) || n == 0; o->demo.map_mb = n; break;
        case 'M': bad = parse_number(optarg, &n) || n == 0; o->demo.map_max_mb = n; break;
        case 'b': bad = parse_number(optarg, &n) || n == 0 || n > 100000; o->demo.batch_max = n; break;
        case 'P': bad = parse_number(optarg, &n) || n > 1000000000; o->demo.progress_every = (int)n; break;
        default: bad = 1;
        }
        if (bad) {
            fprintf(stderr, "arrears: bad value for an option (see usage)\n");
            return -1;
        }
    }
    return 0;
}

static int need(const char *value, const char *flag)
{
    if (value)
        return 0;
    fprintf(stderr, "arrears: %s is required\n", flag);
    return -1;
}

static int run_command(const char *cmd, const cli_options_t *o)
{
    const demo_options_t *d = &o->demo;
    if (strcmp(cmd, "demo-receiver") == 0) {
        if (need(d->data_dir, "--data") || need(d->endpoint, "--endpoint") ||
            need(d->keys_file, "--keys") || need(d->key_file, "--key"))
            return 2;
        return demo_receiver_main(d);
    }
    if (strcmp(cmd, "demo-sender") == 0) {
        if (need(d->data_dir, "--data") || need(d->endpoint, "--endpoint") ||
            need(d->server_pub, "--server-key") || need(d->key_file, "--key"))
            return 2;
        return demo_sender_main(d);
    }
    if (strcmp(cmd, "demo-verify") == 0)
        return demo_verify_main(o->receiver_data, o->sender_data, d->count, d->payload_bytes);
    if (strcmp(cmd, "demo-delivery") == 0)
        return demo_run_main("/proc/self/exe", o->dir ? o->dir : "var/demo-delivery", d->count);
    if (strcmp(cmd, "demo") == 0) {
        pipeline_options_t p = { o->dir ? o->dir : "var/demo", o->accounts, o->seed };
        return pipeline_demo_main(&p);
    }
    usage(stderr);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "keygen") == 0)
        return keygen_main(argc, argv);
    cli_options_t o = { .demo = demo_default_options(), .accounts = 10000, .seed = 1 };
    if (parse_options(argc - 1, argv + 1, &o) != 0)
        return 2;
    return run_command(argv[1], &o);
}
