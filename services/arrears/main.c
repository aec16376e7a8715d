/* arrears: the one command-line tool of the system — the embedded default's processes
 * (up, down, status), its simulated clock (simulate), the operator's questions (account,
 * report) and audited actions, the main job (demo), keys (keygen), and the delivery
 * demonstration with its one-sided parts for tests that kill and restart. `arrears help`
 * lists them; every command's folder is --dir (default $ARREARS_HOME or var/arrears). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadletters.h"
#include "demo.h"
#include "demojob.h"
#include "link.h"
#include "ops.h"
#include "shards.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: arrears COMMAND [OPTIONS]     (every command: [--dir DIR], default var/arrears)\n"
            "  up [--simulated [--start YYYY-MM-DD]] [--relaxed] [--seed S] [--shards N]\n"
            "                            start every service here (ipc://, CURVE, one worker);\n"
            "                            staging in N shards (1 .. 8; the folder keeps N: later\n"
            "                            commands cover every shard; N may grow, never shrink)\n"
            "  down                      stop them (SIGTERM, then SIGKILL after 15 s)\n"
            "  stop SERVICE              stop one (intake, staging, staging-1.., outreach, worker,\n"
            "                            legal, sale)\n"
            "  status                    each service and shard: running, health, unacknowledged,\n"
            "                            dead letters\n"
            "  simulate --days N [--step-minutes M]\n"
            "                            move the simulated clock N days, settling every service\n"
            "  account PLATFORM REF      balances, stage, holds, arrangement and the whole timeline,\n"
            "                            from the shard that holds the account\n"
            "  report [--platform P] [--format table|csv|html] [--out FILE]\n"
            "                            the report gathered from every service (staging's shards\n"
            "                            merged into one book): a terminal table;\n"
            "                            CSV, one figure a row, header section,platform,currency,\n"
            "                            group,key,value: key the proto field's name, value an integer\n"
            "                            (money in minor units, rates in basis points); sections book,\n"
            "                            stage, segment, arm, roll (group month|from_stage|to_stage),\n"
            "                            curve (arm|month), channel, stage_recovery, complaints,\n"
            "                            remittance (month), outreach_channel, conduct_rule,\n"
            "                            conduct_profile (profile|rule, profile|all), outreach,\n"
            "                            legal_assignee, legal, legal_declined, sale, sale_proceeds\n"
            "                            (platform \"\" where not per platform; services/arrears/\n"
            "                            render_csv.c says every key); or an HTML page with charts,\n"
            "                            self-contained, each figure a CSV row's (--out report.html)\n"
            "  resolve-complaint | hold | lift-hold --hold NAME | write-off | approve-settlement\n"
            "      PLATFORM REF --reason WHY [--as OPERATOR]\n"
            "                            an operator action, audited on the account with who and why\n"
            "  correct-contact PLATFORM REF --phone E164 [--phone ...] [--email ADDR ...] --reason WHY\n"
            "      [--as OPERATOR]       replace the listed kinds of contact points (at most 8 each),\n"
            "                            verified and consented; audited without their values\n"
            "  dead-letters [SERVICE] [--as OPERATOR]\n"
            "                            messages a peer refused for good, every service's or one's:\n"
            "                            service, outbox, seq, code, body type, reason (no bodies)\n"
            "  dead-letters SERVICE inspect OUTBOX SEQ\n"
            "                            one decoded in full: PERSONAL DATA IN CLEAR, sealed at rest\n"
            "  dead-letters SERVICE replay|discard OUTBOX SEQ --reason WHY [--as OPERATOR]\n"
            "                            send it again as a new seq, or drop it; logged with who and why\n"
            "  demo [--accounts N] [--seed S] [--days D] [--shards N]\n"
            "                            the main job: everything up on the simulated clock, a\n"
            "                            synthetic platform, firms and buyers for D days, the report\n"
            "  backup [--out DIR]        a consistent copy of every store, services running\n"
            "  restore SERVICE --from DIR\n"
            "                            put one stopped service's store back; peers resend\n"
            "  keygen NAME [DIR]         write DIR/NAME.key (secret, 0600) and DIR/NAME.pub\n"
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
    ops_options_t ops;
    const char *receiver_data;
    const char *sender_data;
    uint64_t accounts;
    uint64_t days;
    bool dir_given;
} cli_options_t;

static int parse_number(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || *text == '-')
        return -1;
    *out = v;
    return 0;
}

static const struct option longs[] = {
    { "data", 1, 0, 'd' }, { "endpoint", 1, 0, 'e' }, { "keys", 1, 0, 'K' },
    { "key", 1, 0, 'k' }, { "server-key", 1, 0, 's' }, { "count", 1, 0, 'n' },
    { "window", 1, 0, 'w' }, { "payload-bytes", 1, 0, 'p' }, { "map-mb", 1, 0, 'm' },
    { "map-max-mb", 1, 0, 'M' }, { "batch", 1, 0, 'b' }, { "progress", 1, 0, 'P' },
    { "receiver-data", 1, 0, 'R' }, { "sender-data", 1, 0, 'S' }, { "dir", 1, 0, 'D' },
    { "accounts", 1, 0, 'a' }, { "seed", 1, 0, 'x' }, { "simulated", 0, 0, 'Z' },
    { "start", 1, 0, 'T' }, { "relaxed", 0, 0, 'L' }, { "days", 1, 0, 'y' },
    { "step-minutes", 1, 0, 'j' }, { "format", 1, 0, 'f' }, { "out", 1, 0, 'o' },
    { "platform", 1, 0, 'F' }, { "reason", 1, 0, 'r' }, { "hold", 1, 0, 'H' },
    { "as", 1, 0, 'A' }, { "from", 1, 0, 'B' }, { "phone", 1, 0, 'N' }, { "email", 1, 0, 'E' },
    { "shards", 1, 0, 'G' }, { 0, 0, 0, 0 },
};

/* The delivery demonstration's options; -1 for a bad value, 1 for not one of them. */
static int delivery_option(int c, cli_options_t *o)
{
    uint64_t n = 0;
    switch (c) {
    case 'd': o->demo.data_dir = optarg; return 0;
    case 'e': o->demo.endpoint = optarg; return 0;
    case 'K': o->demo.keys_file = optarg; return 0;
    case 'k': o->demo.key_file = optarg; return 0;
    case 's': o->demo.server_pub = optarg; return 0;
    case 'R': o->receiver_data = optarg; return 0;
    case 'S': o->sender_data = optarg; return 0;
    case 'n': return parse_number(optarg, &o->demo.count);
    case 'w': return parse_number(optarg, &o->demo.window) || o->demo.window == 0 ? -1 : 0;
    case 'p': if (parse_number(optarg, &n) || n > 65536) return -1; o->demo.payload_bytes = n; return 0;
    case 'm': if (parse_number(optarg, &n) || n == 0) return -1; o->demo.map_mb = n; return 0;
    case 'M': if (parse_number(optarg, &n) || n == 0) return -1; o->demo.map_max_mb = n; return 0;
    case 'b': if (parse_number(optarg, &n) || n == 0 || n > 100000) return -1; o->demo.batch_max = n; return 0;
    case 'P': if (parse_number(optarg, &n) || n > 1000000000) return -1; o->demo.progress_every = (int)n; return 0;
    default: return 1;
    }
}

/* The operator commands' options; -1 for a bad value, 1 for not one of them. */
static int ops_option(int c, cli_options_t *o)
{
    ops_options_t *p = &o->ops;
    uint64_t n = 0;
    switch (c) {
    case 'D': p->dir = optarg; o->dir_given = true; return 0;
    case 'a': return parse_number(optarg, &o->accounts) || o->accounts == 0 || o->accounts > 10000000 ? -1 : 0;
    case 'x': return parse_number(optarg, &p->seed);
    case 'G': if (parse_number(optarg, &n) || n == 0 || n > SHARDS_MAX) return -1; p->shards = (uint32_t)n; return 0;
    case 'Z': p->simulated = true; return 0;
    case 'T': p->start = optarg; return 0;
    case 'L': p->durability = "relaxed"; return 0;
    case 'y': if (parse_number(optarg, &n) || n == 0 || n > 3650) return -1; p->days = (int64_t)n; o->days = n; return 0;
    case 'j': if (parse_number(optarg, &n) || n == 0 || n > 1440) return -1; p->step_minutes = (int64_t)n; return 0;
    case 'f': p->format = optarg; return 0;
    case 'o': p->out = optarg; return 0;
    case 'F': p->platform = optarg; return 0;
    case 'r': p->reason = optarg; return 0;
    case 'H': p->hold = optarg; return 0;
    case 'A': p->as = optarg; return 0;
    case 'B': p->from = optarg; return 0;
    case 'N': if (p->contact.n_phones == OPS_POINTS_MAX) return -1; p->contact.phones[p->contact.n_phones++] = optarg; return 0;
    case 'E': if (p->contact.n_emails == OPS_POINTS_MAX) return -1; p->contact.emails[p->contact.n_emails++] = optarg; return 0;
    default: return 1;
    }
}

static int parse_options(int argc, char **argv, cli_options_t *o)
{
    int c;
    while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        int rc = delivery_option(c, o);
        if (rc == 1)
            rc = ops_option(c, o);
        if (rc != 0) {
            fprintf(stderr, "arrears: bad option or value (see `arrears help`)\n");
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

static int run_delivery(const char *cmd, const cli_options_t *o)
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
    return demo_run_main("/proc/self/exe", o->dir_given ? o->ops.dir : "var/demo-delivery",
                         d->count);
}

/* Positional arguments after the command: PLATFORM REF for account and the actions. */
static int run_command(const char *cmd, const cli_options_t *o, int npos, char **pos)
{
    const ops_options_t *p = &o->ops;
    if (strncmp(cmd, "demo-", 5) == 0)
        return run_delivery(cmd, o);
    if (strcmp(cmd, "up") == 0) return ops_up_main(p);
    if (strcmp(cmd, "down") == 0) return ops_down_main(p);
    if (strcmp(cmd, "status") == 0) return ops_status_main(p);
    if (strcmp(cmd, "simulate") == 0) return ops_simulate_main(p);
    if (strcmp(cmd, "report") == 0) return ops_report_main(p);
    if (strcmp(cmd, "backup") == 0) return ops_backup_main(p);
    if (strcmp(cmd, "demo") == 0) {
        demojob_options_t j = { p->dir, o->accounts, p->seed, o->days, p->shards };
        return demojob_main(&j);
    }
    if (strcmp(cmd, "dead-letters") == 0)
        return dead_letters_main(p, npos, pos);
    if (npos == 1 && strcmp(cmd, "restore") == 0)
        return ops_restore_main(p, pos[0]);
    if (npos == 1 && strcmp(cmd, "stop") == 0)
        return ops_stop_main(p, pos[0]);
    if (npos != 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(cmd, "account") == 0)
        return ops_account_main(p, pos[0], pos[1]);
    return ops_action_main(p, cmd, pos[0], pos[1]);
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "keygen") == 0)
        return keygen_main(argc, argv);
    cli_options_t o = { .demo = demo_default_options(), .ops = ops_default_options(),
                        .accounts = 10000, .days = 180 };
    if (parse_options(argc - 1, argv + 1, &o) != 0)
        return 2;
    return run_command(argv[1], &o, argc - 1 - optind, argv + 1 + optind);
}
