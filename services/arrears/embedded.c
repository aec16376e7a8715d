/* embedded: see embedded.h. The services' own settings come from the shipped example
 * files (copied into each service's file), so the embedded default is what the examples
 * document; only the wiring — stores, keys, sockets, the clock — is written here. */
#include "embedded.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "rig.h"

/* The programs, in start order: who receives from others is up before them. */
static const struct {
    const char *program, *binary, *socket;
} programs[EMBEDDED_PROGRAMS] = {
    { "outreach", ARREARS_BROKER_BIN, "or.sock" },
    { "worker", ARREARS_WORKER_BIN, "" },
    { "legal", ARREARS_LEGAL_BIN, "lg.sock" },
    { "sale", ARREARS_SALE_BIN, "sa.sock" },
    { "staging", ARREARS_STAGING_BIN, "st.sock" },
    { "intake", ARREARS_INTAKE_BIN, "in.sock" },
};

/* The longest socket path under the folder: a shard's, whose number is one digit. */
#define LONGEST_SOCKET "/run/st-7.sock"
_Static_assert(SHARDS_MAX <= 8, "LONGEST_SOCKET holds shard numbers up to 7");

/* The principals of legal.example.conf and embedded-sale.conf, with their roles. */
static const char *const assignees[][2] = {
    { "firm-shanghai", "firm" }, { "firm-national", "firm" },
    { "agency-east", "agency" }, { "agency-london", "agency" },
};
static const char *const buyers[] = { "buyer-east", "buyer-north", "buyer-west", "buyer-london" };
static const char *const own_keys[] = { "intake", "outreach", "worker", "legal", "sale",
                                        "operator", "demo-platform" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* self->service from self->shards: staging once per shard, where staging starts. */
static void list_services(embedded_t *self)
{
    self->count = 0;
    for (size_t i = 0; i < EMBEDDED_PROGRAMS; i++) {
        bool staging = strcmp(programs[i].program, "staging") == 0;
        /* never more shards than service[] holds (run/shards is checked when read) */
        uint32_t copies = !staging ? 1 : self->shards < SHARDS_MAX ? self->shards : SHARDS_MAX;
        if (staging)
            self->shard0 = self->count;
        for (uint32_t k = 0; k < copies; k++) {
            embedded_service_t *s = &self->service[self->count++];
            s->program = programs[i].program;
            s->binary = programs[i].binary;
            snprintf(s->name, sizeof s->name, "%s", s->program);
            snprintf(s->socket, sizeof s->socket, "%s", programs[i].socket);
            if (k > 0) {
                snprintf(s->name, sizeof s->name, "staging-%u", k);
                snprintf(s->socket, sizeof s->socket, "st-%u.sock", k);
            }
        }
    }
}

const embedded_service_t *embedded_find(const embedded_t *self, const char *name)
{
    for (size_t i = 0; i < self->count; i++)
        if (strcmp(self->service[i].name, name) == 0)
            return &self->service[i];
    return NULL;
}

const embedded_service_t *embedded_shard(const embedded_t *self, uint32_t k)
{
    return &self->service[self->shard0 + k];
}

void embedded_names(const embedded_t *self, bool stores_only, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < self->count; i++) {
        const embedded_service_t *s = &self->service[i];
        if (stores_only && !*s->socket)
            continue;
        int n = snprintf(out + used, len - used, "%s%s", used ? ", " : "", s->name);
        if (n < 0 || (size_t)n >= len - used)
            return;   /* cut short: the caller's buffer holds every name of SHARDS_MAX */
        used += (size_t)n;
    }
}

const char *embedded_binary(const embedded_service_t *s)
{
    char env[64];
    snprintf(env, sizeof env, "ARREARS_%s", s->program);
    for (char *p = env; *p; p++)
        *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    const char *v = getenv(env);
    return v && *v ? v : s->binary;
}

void embedded_path(const embedded_t *self, const char *service, const char *suffix, char *out,
                   size_t len)
{
    snprintf(out, len, "%s/%s%s", self->dir, service, suffix);
}

void embedded_endpoint(const embedded_t *self, const char *service, char *out, size_t len)
{
    const embedded_service_t *s = embedded_find(self, service);
    snprintf(out, len, "ipc://%s/%s", self->run, s && *s->socket ? s->socket : "none");
}

void embedded_key(const embedded_t *self, const char *principal, const char *ext, char *out,
                  size_t len)
{
    snprintf(out, len, "%s/%s.%s", self->keys, principal, ext);
}

static int make_keys(const embedded_t *self)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < COUNT(own_keys); i++)
        rc = rig_ensure_keypair(self->keys, own_keys[i]);
    for (uint32_t k = 0; rc == 0 && k < self->shards; k++)
        rc = rig_ensure_keypair(self->keys, embedded_shard(self, k)->name);
    for (size_t i = 0; rc == 0 && i < COUNT(assignees); i++)
        rc = rig_ensure_keypair(self->keys, assignees[i][0]);
    for (size_t i = 0; rc == 0 && i < COUNT(buyers); i++)
        rc = rig_ensure_keypair(self->keys, buyers[i]);
    return rc;
}

static void shards_path(const embedded_t *self, char *out, size_t len)
{
    snprintf(out, len, "%s/shards", self->run);
}

/* run/shards, or 1 when the folder never had more. */
static int read_shards(embedded_t *self, char *err, size_t err_len)
{
    char path[EMBEDDED_PATH_MAX + 16];
    shards_path(self, path, sizeof path);
    FILE *f = fopen(path, "r");
    unsigned n = 1;
    self->shards = 1;
    if (!f && errno == ENOENT)
        return 0;
    int ok = f && fscanf(f, "%u", &n) == 1 && n >= 1 && n <= SHARDS_MAX;
    if (f)
        fclose(f);
    if (!ok) {
        snprintf(err, err_len, "%s does not hold a shard count (1 .. %d): write the number of "
                 "staging shards this folder runs", path, SHARDS_MAX);
        return EINVAL;
    }
    self->shards = n;
    return 0;
}

int embedded_set_shards(embedded_t *self, uint32_t shards, char *err, size_t err_len)
{
    char path[EMBEDDED_PATH_MAX + 16], tmp[EMBEDDED_PATH_MAX + 32];
    shards_path(self, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    int rc = f ? 0 : errno;
    if (f) {
        fprintf(f, "%u\n", shards);
        rc = fclose(f) == 0 ? 0 : errno;
    }
    rc = rc ? rc : rename(tmp, path) == 0 ? 0 : errno;
    if (rc == 0) {
        self->shards = shards;
        list_services(self);
        rc = make_keys(self);
    }
    if (rc != 0)
        snprintf(err, err_len, "cannot keep the shard count in %s or make the shards' keys "
                 "(error %d): check the folder is writable", path, rc);
    return rc;
}

int embedded_open(const char *dir, embedded_t *self, char *err, size_t err_len)
{
    int rc = rig_make_dir(dir);
    char real[PATH_MAX];
    if (rc != 0 || !realpath(dir, real)) {
        snprintf(err, err_len, "cannot make %s: %s", dir, strerror(rc ? rc : errno));
        return rc ? rc : errno;
    }
    if (strlen(real) >= EMBEDDED_PATH_MAX - 32 ||
        strlen(real) + strlen(LONGEST_SOCKET) >= LINK_IPC_PATH_MAX) {
        snprintf(err, err_len, "%s is too deep for unix socket paths: use --dir with a "
                 "shorter folder", real);
        return ENAMETOOLONG;
    }
    snprintf(self->dir, sizeof self->dir, "%s", real);
    snprintf(self->keys, sizeof self->keys, "%s/keys", real);
    snprintf(self->run, sizeof self->run, "%s/run", real);
    snprintf(self->log, sizeof self->log, "%s/log", real);
    rc = rig_make_dir(self->keys);
    rc = rc ? rc : rig_make_dir(self->run);
    rc = rc ? rc : rig_make_dir(self->log);
    if (rc == 0 && (rc = read_shards(self, err, err_len)) != 0)
        return rc;   /* err says what the file holds */
    if (rc == 0) {
        list_services(self);
        rc = make_keys(self);
    }
    if (rc != 0)
        snprintf(err, err_len, "cannot make the folders or keys in %s (error %d)", real, rc);
    return rc;
}

/* keys/<service>-allowed.conf: the named principals with their roles. */
static int write_allowed(const embedded_t *self, const char *service, const char *const *who,
                         const char *const *roles, size_t count)
{
    char path[EMBEDDED_PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s-allowed.conf", self->keys, service);
    return rig_write_allowed(path, self->keys, who, roles, who, count);
}

/* Every staging shard's principal in who[n ..], role service; the new count. */
static size_t add_shards(const embedded_t *self, const char **who, const char **role, size_t n)
{
    for (uint32_t k = 0; k < self->shards; k++, n++)
        who[n] = embedded_shard(self, k)->name, role[n] = "service";
    return n;
}

static int write_all_allowed(const embedded_t *self)
{
    const char *who[COUNT(assignees) + SHARDS_MAX + 4], *role[COUNT(who)];
    size_t n = add_shards(self, who, role, 1);
    who[0] = "demo-platform", role[0] = "platform";
    who[n] = "operator", role[n++] = "operator";
    int rc = write_allowed(self, "intake", who, role, n);
    for (uint32_t k = 0; rc == 0 && k < self->shards; k++)
        rc = write_allowed(self, embedded_shard(self, k)->name,
                           (const char *[]){ "intake", "outreach", "legal", "sale", "operator" },
                           (const char *[]){ "service", "service", "service", "service",
                                             "operator" }, 5);
    for (n = 0; n < COUNT(assignees); n++)
        who[n] = assignees[n][0], role[n] = assignees[n][1];
    n = add_shards(self, who, role, n);
    who[n] = "operator", role[n++] = "operator";
    rc = rc ? rc : write_allowed(self, "legal", who, role, n);
    who[n] = "legal", role[n++] = "service";
    who[n] = "worker", role[n++] = "worker";
    rc = rc ? rc : write_allowed(self, "outreach", who, role, n);
    for (n = 0; n < COUNT(buyers); n++)
        who[n] = buyers[n], role[n] = "buyer";
    n = add_shards(self, who, role, n);
    who[n] = "operator", role[n++] = "operator";
    return rc ? rc : write_allowed(self, "sale", who, role, n);
}

static FILE *open_config(const embedded_t *self, const char *service, const char *what)
{
    char path[EMBEDDED_PATH_MAX + 64];
    embedded_path(self, service, ".conf", path, sizeof path);
    FILE *f = fopen(path, "w");
    if (f)
        fprintf(f, "# %s on the embedded default: %s.\n# Written by `arrears up`; it is "
                "written again at every start.\n", service, what);
    return f;
}

/* What every service with a store says first: its store, keys, socket and clock. */
static void service_head(FILE *f, const embedded_t *self, const char *service,
                         const embedded_options_t *o)
{
    char ep[EMBEDDED_PATH_MAX + 32];
    embedded_endpoint(self, service, ep, sizeof ep);
    fprintf(f, "data_dir = \"%s/%s\";\ndurability = \"%s\";\nlog_level = \"info\";\n"
            "keys = { own = \"%s/%s.key\"; allowed = \"%s/%s-allowed.conf\"; "
            "secret = \"%s/%s.secret\"; };\ncreate_secret = true;\nlisten = \"%s\";\n",
            self->dir, service, o->durability, self->keys, service, self->keys, service,
            self->keys, service, ep);
    /* Port 0: the kernel picks one (two folders never collide); the service logs it
     * (metrics_listen port=N) and `arrears status` reads it there. */
    fprintf(f, "metrics = { listen = \"127.0.0.1:0\"; };\n");
    /* Driven: each service sends only in the turns `arrears simulate` gives it, so a
     * seeded run is the same every time (svcnet.h). */
    if (o->simulated && strcmp(service, "intake") != 0)
        fprintf(f, "clock = { kind = \"simulated\"; start = \"%s\"; driven = true; };\n",
                o->start);
}

static void peer(FILE *f, const embedded_t *self, const char *service)
{
    char ep[EMBEDDED_PATH_MAX + 32];
    embedded_endpoint(self, service, ep, sizeof ep);
    fprintf(f, "%s = { endpoint = \"%s\"; public_key = \"%s/%s.pub\"; };\n", service, ep,
            self->keys, service);
}

/* `staging`: one group for one shard (as before shards), else the list in shard order,
 * each with the principal its key has in the keys files (shared/shards.h). */
static void staging_peers(FILE *f, const embedded_t *self)
{
    if (self->shards == 1) {
        peer(f, self, "staging");
        return;
    }
    fprintf(f, "staging = (\n");
    for (uint32_t k = 0; k < self->shards; k++) {
        const char *name = embedded_shard(self, k)->name;
        char ep[EMBEDDED_PATH_MAX + 32];
        embedded_endpoint(self, name, ep, sizeof ep);
        fprintf(f, "  { endpoint = \"%s\"; public_key = \"%s/%s.pub\"; principal = \"%s\"; }%s\n",
                ep, self->keys, name, name, k + 1 < self->shards ? "," : "");
    }
    fprintf(f, ");\n");
}

/* The example's settings, copied in: every file stays whole on its own. */
static int append_example(FILE *f, const char *path)
{
    FILE *in = fopen(path, "r");
    if (!in)
        return errno;
    char buf[8192];
    size_t n;
    fprintf(f, "# ---- from %s ----\n", path);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        fwrite(buf, 1, n, f);
    int rc = ferror(in) ? EIO : 0;
    fclose(in);
    return rc;
}

static int close_config(FILE *f)
{
    return fclose(f) == 0 ? 0 : errno;
}

static int write_intake(const embedded_t *self, const embedded_options_t *o)
{
    FILE *f = open_config(self, "intake", "the platforms' door");
    if (!f)
        return errno;
    service_head(f, self, "intake", o);
    /* intake keeps the wall clock; a simulated run's events are dated in the simulated
     * past, which its age rule would prune at once. */
    if (o->simulated)
        fprintf(f, "feed = { retain_days = 3650; };\n");
    staging_peers(f, self);
    return close_config(f);
}

/* The strategy examples, one per currency, as the embedded default uses them: whole,
 * except that a six-month demonstration refers an account to legal after one broken
 * promise rather than two, or it would show almost no legal cases. The example must
 * still say two: a changed example is noticed here, not silently demonstrated. */
static const char *const strategies[] = { "strategy.example.conf", "strategy.usd.example.conf",
                                          "strategy.gbp.example.conf", "strategy.jpy.example.conf" };
#define REFERRAL_RULE "min_broken_promises = 2;"
#define DEMO_REFERRAL_RULE "min_broken_promises = 1;"

static int write_strategy(const embedded_t *self, const char *name, char *out, size_t len)
{
    char src[EMBEDDED_PATH_MAX], line[4096];
    snprintf(src, sizeof src, "%s/services/staging/%s", ARREARS_SOURCE_DIR, name);
    snprintf(out, len, "%s/staging-%s", self->dir, name);
    FILE *in = fopen(src, "r"), *f = in ? fopen(out, "w") : NULL;
    int found = 0;
    if (f)
        fprintf(f, "# %s, written by `arrears up` (legal after one broken promise)\n", src);
    while (f && fgets(line, sizeof line, in)) {
        char *at = strstr(line, REFERRAL_RULE);
        if (at) {
            found++;
            fprintf(f, "%.*s%s%s", (int)(at - line), line, DEMO_REFERRAL_RULE,
                    at + strlen(REFERRAL_RULE));
        } else {
            fputs(line, f);
        }
    }
    int rc = !in || !f ? errno : found == 1 ? 0 : EINVAL;
    if (in)
        fclose(in);
    if (f && fclose(f) != 0 && rc == 0)
        rc = errno;
    return rc;
}

/* Shard `name`, on the strategy files written once for every shard. */
static int write_shard(const embedded_t *self, const embedded_options_t *o, const char *name,
                       char files[][EMBEDDED_PATH_MAX + 64])
{
    FILE *f = open_config(self, name, "the book and the strategy, one strategy per currency");
    if (!f)
        return errno;
    service_head(f, self, name, o);
    fprintf(f, "strategy = [\"%s\", \"%s\", \"%s\", \"%s\"];\n"
            "limitation = \"%s/services/staging/limitation.example.conf\";\n", files[0], files[1],
            files[2], files[3], ARREARS_SOURCE_DIR);
    peer(f, self, "outreach");
    peer(f, self, "legal");
    peer(f, self, "sale");
    peer(f, self, "intake");
    return close_config(f);
}

static int write_staging(const embedded_t *self, const embedded_options_t *o)
{
    char files[4][EMBEDDED_PATH_MAX + 64];
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < COUNT(strategies); i++)
        rc = write_strategy(self, strategies[i], files[i], sizeof files[i]);
    for (uint32_t k = 0; rc == 0 && k < self->shards; k++)
        rc = write_shard(self, o, embedded_shard(self, k)->name, files);
    return rc;
}

static int write_outreach(const embedded_t *self, const embedded_options_t *o)
{
    FILE *f = open_config(self, "outreach", "the conduct gate and the task queue");
    if (!f)
        return errno;
    service_head(f, self, "outreach", o);
    const char *d = ARREARS_SOURCE_DIR "/services/outreach";
    fprintf(f, "profiles = \"%s/profiles.conf\";\ntemplates = \"%s/templates.conf\";\n", d, d);
    staging_peers(f, self);
    return close_config(f);
}

static int write_worker(const embedded_t *self, const embedded_options_t *o)
{
    FILE *f = open_config(self, "worker", "one worker; every channel to the spool");
    if (!f)
        return errno;
    fprintf(f, "keys = { own = \"%s/worker.key\"; };\nname = \"worker\";\n"
            "channels = [\"sms\", \"email\", \"letter\", \"call\", \"visit\"];\n"
            "spool = \"%s/spool\";\nseed = %llu;\nidle_poll_ms = 20;\nlog_level = \"info\";\n"
            "metrics = { listen = \"127.0.0.1:0\"; };\n",
            self->keys, self->dir, (unsigned long long)o->worker_seed);
    fprintf(f, "broker = { endpoint = \"ipc://%s/or.sock\"; public_key = \"%s/outreach.pub\"; };\n",
            self->run, self->keys);
    return close_config(f);
}

static int write_legal(const embedded_t *self, const embedded_options_t *o)
{
    FILE *f = open_config(self, "legal", "the example firms and agencies");
    if (!f)
        return errno;
    service_head(f, self, "legal", o);
    fprintf(f, "limitation = \"%s/services/staging/limitation.example.conf\";\n",
            ARREARS_SOURCE_DIR);
    staging_peers(f, self);
    peer(f, self, "outreach");
    int rc = append_example(f, ARREARS_SOURCE_DIR "/services/legal/legal.example.conf");
    int closed = close_config(f);
    return rc ? rc : closed;
}

static int write_sale(const embedded_t *self, const embedded_options_t *o)
{
    FILE *f = open_config(self, "sale", "the example plans and buyers");
    if (!f)
        return errno;
    service_head(f, self, "sale", o);
    staging_peers(f, self);
    int rc = append_example(f, ARREARS_SOURCE_DIR "/services/arrears/embedded-sale.conf");
    int closed = close_config(f);
    return rc ? rc : closed;
}

int embedded_write(const embedded_t *self, const embedded_options_t *o, char *err,
                   size_t err_len)
{
    int rc = write_all_allowed(self);
    rc = rc ? rc : write_intake(self, o);
    rc = rc ? rc : write_staging(self, o);
    rc = rc ? rc : write_outreach(self, o);
    rc = rc ? rc : write_worker(self, o);
    rc = rc ? rc : write_legal(self, o);
    rc = rc ? rc : write_sale(self, o);
    if (rc != 0)
        snprintf(err, err_len, "cannot write the configuration in %s (error %d)", self->dir, rc);
    return rc;
}
