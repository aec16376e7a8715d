/* bench_intake: accounts per second that intake accepts durably — validated, personal
 * data sealed, stored, forwarded to its outbox for staging — from 4 concurrent CURVE
 * platform connections over tcp loopback, with p50/p99 ack latency, at a window of
 * 10,000 and of 256 un-acked messages per connection. Staging is not running: the
 * outbox bound is raised so forwarding is measured, not staging.
 * Compare with ../shared/bench/limit/run (intake_limit_curve, _w256) in one session.
 * Usage: bench_intake INTAKE_BINARY [ACCOUNTS]   prints RESULT intake ... per window */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "envelope.h"
#include "link.h"

#define CONNECTIONS 4
#define ENDPOINT "tcp://127.0.0.1:5621"

typedef struct {
    char dir[64];
    link_keypair_t intake, staging, platform[CONNECTIONS];
} rig_t;

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_intake: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_text(const char *dir, const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0)
        die(path);
}

static void make_rig(rig_t *r)
{
    strcpy(r->dir, "/tmp/benchinXXXXXX");
    if (!mkdtemp(r->dir))
        die("mkdtemp");
    char err[256], text[4096], *p = text;
    link_keypair_generate(&r->intake);
    link_keypair_generate(&r->staging);
    if (link_keypair_save(r->dir, "intake", &r->intake, err, sizeof err) ||
        link_keypair_save(r->dir, "staging", &r->staging, err, sizeof err))
        die(err);
    p += sprintf(p, "keys = (\n");
    for (int i = 0; i < CONNECTIONS; i++) {
        link_keypair_generate(&r->platform[i]);
        p += sprintf(p, "  { principal = \"p%d\"; role = \"platform\"; public = \"%s\"; },\n", i,
                     r->platform[i].public_z85);
    }
    sprintf(p, "  { principal = \"staging\"; role = \"service\"; public = \"%s\"; }\n);\n",
            r->staging.public_z85);
    write_text(r->dir, "allowed.conf", text);
}

static void write_config(const rig_t *r, int run)
{
    char text[1024];
    snprintf(text, sizeof text,
             "data_dir = \"data%d\";\n"
             "keys = { own = \"intake.key\"; allowed = \"allowed.conf\"; secret = \"intake.secret\"; };\n"
             "create_secret = true;\nlisten = \"" ENDPOINT "\";\nlog_level = \"warn\";\n"
             "staging = { endpoint = \"tcp://127.0.0.1:5622\"; public_key = \"staging.pub\"; };\n"
             "limits = { outbox_max_unacked = 100000000; map_size_mb = 1024; };\n", run);
    write_text(r->dir, "intake.conf", text);
}

/* A realistic account: 3 instalments, a phone, an e-mail, an address. */
static size_t make_account(int conn, uint64_t n, uint8_t *buf, size_t cap)
{
    char ref[40];
    uint8_t hash[32];
    memset(hash, (int)(n + (uint64_t)conn), sizeof hash);
    snprintf(ref, sizeof ref, "LN-%d-%010llu", conn, (unsigned long long)n);
    Arrears__ContactPoint phone = ARREARS__CONTACT_POINT__INIT, email = ARREARS__CONTACT_POINT__INIT;
    phone.value = "+8613800138000";
    email.value = "zhang.wei@example.com";
    phone.has_verified = phone.has_consent = email.has_verified = email.has_consent = 1;
    phone.verified = phone.consent = email.verified = email.consent = 1;
    Arrears__ContactPoint *phones[] = { &phone }, *emails[] = { &email };
    Arrears__Address addr = ARREARS__ADDRESS__INIT;
    addr.line1 = "Room 1203, Building 7, 88 Century Avenue";
    addr.city = "Shanghai";
    addr.country = "CN";
    Arrears__Borrower b = ARREARS__BORROWER__INIT;
    b.name = "Zhang Wei";
    b.has_id_number_hash = 1;
    b.id_number_hash = (ProtobufCBinaryData){ sizeof hash, hash };
    b.n_phones = b.n_emails = 1;
    b.phones = phones;
    b.emails = emails;
    b.address = &addr;
    b.time_zone = "Asia/Shanghai";
    b.language = "zh-CN";
    Arrears__Instalment in[3], *schedule[3];
    const char *due[] = { "2026-08-01", "2026-09-01", "2026-10-01" };
    for (int i = 0; i < 3; i++) {
        in[i] = (Arrears__Instalment)ARREARS__INSTALMENT__INIT;
        in[i].due_date = (char *)due[i];
        in[i].has_principal_minor = in[i].has_interest_minor = 1;
        in[i].principal_minor = 400000 + (int64_t)n % 1000;
        in[i].interest_minor = 6000;
        schedule[i] = &in[i];
    }
    Arrears__AccountUpsert u = ARREARS__ACCOUNT_UPSERT__INIT;
    u.account_ref = ref;
    u.has_product = 1;
    u.product = ARREARS__PRODUCT__ONLINE_LOAN;
    u.currency = "CNY";
    u.borrower = &b;
    u.n_schedule = 3;
    u.schedule = schedule;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.has_stream_id = env.has_seq = 1;
    env.stream_id = 1;
    env.seq = n;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_UPSERT;
    env.account_upsert = &u;
    return envelope_pack(&env, buf, cap);
}

static uint64_t read_ack(void *s)
{
    uint8_t buf[1024];
    int len = zmq_recv(s, buf, sizeof buf, 0);
    Arrears__Envelope *e = len > 0 ? arrears__envelope__unpack(NULL, (size_t)len, buf) : NULL;
    uint64_t through = 0;
    if (e && e->body_case == ARREARS__ENVELOPE__BODY_ACK)
        through = e->ack->through_seq;
    else if (e && e->body_case == ARREARS__ENVELOPE__BODY_REJECT)
        fprintf(stderr, "bench_intake: reject %s: %s\n", reject_code_name(e->reject->code),
                e->reject->reason);
    if (e)
        arrears__envelope__free_unpacked(e, NULL);
    return through;
}

/* One platform connection; writes its latencies (us) to fd. */
static void run_platform(const rig_t *r, int conn, uint64_t n, uint64_t window, int fd)
{
    void *ctx = zmq_ctx_new();
    link_options_t lo = link_default_options();
    int rc;
    void *s = link_client_new(ctx, ENDPOINT, r->intake.public_z85, &r->platform[conn], &lo, &rc);
    int64_t *sent = calloc(n + 1, sizeof *sent), *lat = calloc(n + 1, sizeof *lat);
    uint8_t buf[2048];
    uint64_t next = 1, acked = 0;
    while (acked < n) {
        while (next <= n && next - acked <= window) {
            size_t len = make_account(conn, next, buf, sizeof buf);
            if (zmq_send(s, buf, len, 0) < 0)
                continue;
            sent[next++] = now_us();
        }
        uint64_t through = read_ack(s);
        int64_t t = now_us();
        for (; acked < through && acked < n; acked++)
            lat[acked] = t - sent[acked + 1];
    }
    if (write(fd, lat, n * sizeof *lat) != (ssize_t)(n * sizeof *lat))
        die("write latencies");
    link_close(&s);
    zmq_ctx_term(ctx);
    _exit(0);
}

static int compare(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static pid_t start_intake(const char *binary, const rig_t *r)
{
    char config[128];
    snprintf(config, sizeof config, "%s/intake.conf", r->dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl(binary, "intake", "--config", config, (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* CPU seconds (user + system) the intake process has used, from /proc. */
static double cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(buf, sizeof buf, f)) {
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    const char *p = strrchr(buf, ')');
    unsigned long long utime = 0, stime = 0;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

/* Megabytes the intake process has written to storage (/proc/PID/io write_bytes): the
 * pages its durable commits wrote, a figure other load on the machine does not move,
 * unlike the wall-clock rate. */
static double written_mb(pid_t pid)
{
    char path[64], line[128];
    unsigned long long bytes = 0;
    snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f) && sscanf(line, "write_bytes: %llu", &bytes) != 1)
        ;
    if (f)
        fclose(f);
    return (double)bytes / 1e6;
}

static void run_window(const char *binary, const rig_t *r, uint64_t total, uint64_t window, int run)
{
    write_config(r, run);
    pid_t intake = start_intake(binary, r);
    uint64_t per = total / CONNECTIONS;
    int fds[CONNECTIONS];
    int64_t t0 = now_us();
    for (int c = 0; c < CONNECTIONS; c++) {
        char path[128];
        snprintf(path, sizeof path, "%s/lat%d", r->dir, c);
        fds[c] = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        if (fork() == 0)
            run_platform(r, c, per, window, fds[c]);
    }
    for (int c = 0; c < CONNECTIONS; c++)
        wait(NULL);
    double seconds = (double)(now_us() - t0) / 1e6;
    int64_t *all = calloc(per * CONNECTIONS, sizeof *all);
    for (int c = 0; c < CONNECTIONS; c++)
        if (pread(fds[c], all + per * (uint64_t)c, per * sizeof *all, 0) != (ssize_t)(per * sizeof *all))
            die("read latencies");
    uint64_t n = per * CONNECTIONS;
    qsort(all, n, sizeof *all, compare);
    printf("RESULT intake accounts_per_s=%.0f p50_ms=%.2f p99_ms=%.2f window=%llu connections=%d "
           "accounts=%llu intake_cpu_s=%.2f intake_written_mb=%.1f wall_s=%.2f\n",
           (double)n / seconds, all[n / 2] / 1000.0, all[n * 99 / 100] / 1000.0,
           (unsigned long long)window, CONNECTIONS, (unsigned long long)n, cpu_seconds(intake),
           written_mb(intake), seconds);
    fflush(stdout);
    free(all);
    kill(intake, SIGTERM);
    waitpid(intake, NULL, 0);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_intake INTAKE_BINARY [ACCOUNTS]\n");
        return 2;
    }
    uint64_t total = argc > 2 ? strtoull(argv[2], NULL, 10) : 200000;
    rig_t r;
    make_rig(&r);
    run_window(argv[1], &r, total, 10000, 1);
    run_window(argv[1], &r, total < 100000 ? total : 100000, 256, 2);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", r.dir);
    return system(cmd) == 0 ? 0 : 1;
}
