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

const embedded_service_t embedded_services[EMBEDDED_SERVICES] = {
    { "outreach", ARREARS_BROKER_BIN, "or.sock" },
    { "worker", ARREARS_WORKER_BIN, NULL },
    { "legal", ARREARS_LEGAL_BIN, "lg.sock" },
    { "sale", ARREARS_SALE_BIN, "sa.sock" },
    { "staging", ARREARS_STAGING_BIN, "st.sock" },
    { "intake", ARREARS_INTAKE_BIN, "in.sock" },
};

/* The principals of legal.example.conf and embedded-sale.conf, with their roles. */
static const char *const assignees[][2] = {
    { "firm-shanghai", "firm" }, { "firm-national", "firm" },
    { "agency-east", "agency" }, { "agency-london", "agency" },
};
static const char *const buyers[] = { "buyer-east", "buyer-north", "buyer-west", "buyer-london" };
static const char *const own_keys[] = { "intake", "staging", "outreach", "worker", "legal",
                                        "sale", "operator", "demo-platform" };

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const embedded_service_t *embedded_find(const char *name)
{
    for (size_t i = 0; i < EMBEDDED_SERVICES; i++)
        if (strcmp(embedded_services[i].name, name) == 0)
            return &embedded_services[i];
    return NULL;
}

const char *embedded_binary(const embedded_service_t *s)
{
    char env[64];
    snprintf(env, sizeof env, "ARREARS_%s", s->name);
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
    const embedded_service_t *s = embedded_find(service);
    snprintf(out, len, "ipc://%s/%s", self->run, s && s->socket ? s->socket : "none");
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
    for (size_t i = 0; rc == 0 && i < COUNT(assignees); i++)
        rc = rig_ensure_keypair(self->keys, assignees[i][0]);
    for (size_t i = 0; rc == 0 && i < COUNT(buyers); i++)
        rc = rig_ensure_keypair(self->keys, buyers[i]);
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
        strlen(real) + strlen("/run/in.sock") >= LINK_IPC_PATH_MAX) {
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
    rc = rc ? rc : make_keys(self);
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

static int write_all_allowed(const embedded_t *self)
{
    const char *who[16], *role[16];
    size_t n = 0;
    int rc = write_allowed(self, "intake", (const char *[]){ "demo-platform", "staging", "operator" },
                           (const char *[]){ "platform", "service", "operator" }, 3);
    rc = rc ? rc : write_allowed(self, "staging",
                                 (const char *[]){ "intake", "outreach", "legal", "sale", "operator" },
                                 (const char *[]){ "service", "service", "service", "service",
                                                   "operator" }, 5);
    for (size_t i = 0; i < COUNT(assignees); i++, n++)
        who[n] = assignees[i][0], role[n] = assignees[i][1];
    who[n] = "staging", role[n++] = "service";
    who[n] = "operator", role[n++] = "operator";
    rc = rc ? rc : write_allowed(self, "legal", who, role, n);
    who[n] = "legal", role[n++] = "service";
    who[n] = "worker", role[n++] = "worker";
    rc = rc ? rc : write_allowed(self, "outreach", who, role, n);
    n = 0;
    for (size_t i = 0; i < COUNT(buyers); i++, n++)
        who[n] = buyers[i], role[n] = "buyer";
    who[n] = "staging", role[n++] = "service";
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
    peer(f, self, "staging");
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

static int write_staging(const embedded_t *self, const embedded_options_t *o)
{
    char files[4][EMBEDDED_PATH_MAX + 64];
    for (size_t i = 0; i < COUNT(strategies); i++) {
        int rc = write_strategy(self, strategies[i], files[i], sizeof files[i]);
        if (rc != 0)
            return rc;
    }
    FILE *f = open_config(self, "staging", "the book and the strategy, one strategy per currency");
    if (!f)
        return errno;
    service_head(f, self, "staging", o);
    fprintf(f, "strategy = [\"%s\", \"%s\", \"%s\", \"%s\"];\n"
            "limitation = \"%s/services/staging/limitation.example.conf\";\n", files[0], files[1],
            files[2], files[3], ARREARS_SOURCE_DIR);
    peer(f, self, "outreach");
    peer(f, self, "legal");
    peer(f, self, "sale");
    peer(f, self, "intake");
    return close_config(f);
}

static int write_outreach(const embedded_t *self, const embedded_options_t *o)
{
    FILE *f = open_config(self, "outreach", "the conduct gate and the task queue");
    if (!f)
        return errno;
    service_head(f, self, "outreach", o);
    const char *d = ARREARS_SOURCE_DIR "/services/outreach";
    fprintf(f, "profiles = \"%s/profiles.conf\";\ntemplates = \"%s/templates.conf\";\n", d, d);
    peer(f, self, "staging");
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
    peer(f, self, "staging");
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
    peer(f, self, "staging");
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
