/* pipeline: `arrears demo`, the main job on the embedded default. It starts what exists
 * of the pipeline on this machine over ipc:// with CURVE — intake, staging, and until
 * outreach, legal and sale land a recording stand-in for them that speaks the real
 * protocol — then lets a synthetic loan platform (the Python reference client, an
 * independent implementation of the wire contract) upload a seeded demonstration
 * portfolio, pull its event feed, ask staging for its report as an operator, and print
 * what happened; then stops everything. */
#include "pipeline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "link.h"
#include "rig.h"

/* Derived paths are longer than the folder they are in: room for their suffixes. */
#define SUB_MAX (RIG_PATH_MAX + 16)
#define FILE_MAX (SUB_MAX + 64)

typedef struct {
    char dir[RIG_PATH_MAX], keys[SUB_MAX], run[SUB_MAX];
    char intake_ep[FILE_MAX], staging_ep[FILE_MAX];
    char outreach_ep[FILE_MAX], legal_ep[FILE_MAX], sale_ep[FILE_MAX];
} layout_t;

static const char *setting(const char *env, const char *compiled)
{
    const char *v = getenv(env);
    return v && *v ? v : compiled;
}

static int make_layout(const char *dir, layout_t *l)
{
    snprintf(l->dir, sizeof l->dir, "%s", dir);
    snprintf(l->keys, sizeof l->keys, "%s/keys", dir);
    snprintf(l->run, sizeof l->run, "%s/run", dir);
    snprintf(l->intake_ep, sizeof l->intake_ep, "ipc://%s/in.sock", l->run);
    snprintf(l->staging_ep, sizeof l->staging_ep, "ipc://%s/st.sock", l->run);
    snprintf(l->outreach_ep, sizeof l->outreach_ep, "ipc://%s/or.sock", l->run);
    snprintf(l->legal_ep, sizeof l->legal_ep, "ipc://%s/lg.sock", l->run);
    snprintf(l->sale_ep, sizeof l->sale_ep, "ipc://%s/sa.sock", l->run);
    if (strlen(l->intake_ep) - 6 >= LINK_IPC_PATH_MAX) {
        fprintf(stderr, "arrears demo: %s is too deep for unix socket paths; use --dir with a "
                "shorter folder\n", dir);
        return -1;
    }
    int rc = rig_make_dir(l->keys);
    rc = rc ? rc : rig_make_dir(l->run);
    const char *names[] = { "intake", "staging", "downstream", "demo-platform", "operator" };
    for (int i = 0; rc == 0 && i < 5; i++)
        rc = rig_ensure_keypair(l->keys, names[i]);
    return rc;
}

static int write_intake_config(const layout_t *l)
{
    char path[FILE_MAX];
    const char *principal[] = { "demo-platform", "staging" }, *role[] = { "platform", "service" };
    const char *key[] = { "demo-platform", "staging" };
    snprintf(path, sizeof path, "%s/intake-allowed.conf", l->keys);
    int rc = rig_write_allowed(path, l->keys, principal, role, key, 2);
    snprintf(path, sizeof path, "%s/intake.conf", l->dir);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (!f)
        return -1;
    fprintf(f, "# intake on the embedded default (written by `arrears demo`).\n"
            "data_dir = \"intake\";\nlog_level = \"warn\";\n"
            "keys = { own = \"keys/intake.key\"; allowed = \"keys/intake-allowed.conf\"; "
            "secret = \"keys/intake.secret\"; };\ncreate_secret = true;\n"
            "listen = \"%s\";\nstaging = { endpoint = \"%s\"; public_key = \"keys/staging.pub\"; };\n",
            l->intake_ep, l->staging_ep);
    return fclose(f) == 0 ? 0 : -1;
}

/* The strategy setting: ARREARS_STRATEGY's one file, or the four examples (one per
 * currency of the demonstration's book). */
static void strategy_setting(char *out, size_t len)
{
    const char *one = getenv("ARREARS_STRATEGY");
    const char *dir = ARREARS_STAGING_EXAMPLES;
    if (one && *one)
        snprintf(out, len, "\"%s\"", one);
    else
        snprintf(out, len, "[\"%s/strategy.example.conf\", \"%s/strategy.usd.example.conf\", "
                 "\"%s/strategy.gbp.example.conf\", \"%s/strategy.jpy.example.conf\"]",
                 dir, dir, dir, dir);
}

static int write_staging_config(const layout_t *l)
{
    char path[FILE_MAX], strategy[4 * FILE_MAX];
    const char *principal[] = { "intake", "downstream", "operator" };
    const char *role[] = { "service", "service", "operator" };
    snprintf(path, sizeof path, "%s/staging-allowed.conf", l->keys);
    int rc = rig_write_allowed(path, l->keys, principal, role, principal, 3);
    snprintf(path, sizeof path, "%s/staging.conf", l->dir);
    strategy_setting(strategy, sizeof strategy);
    FILE *f = rc == 0 ? fopen(path, "w") : NULL;
    if (!f)
        return -1;
    fprintf(f, "# staging on the embedded default (written by `arrears demo`).\n"
            "data_dir = \"staging\";\nlog_level = \"warn\";\n"
            "keys = { own = \"keys/staging.key\"; allowed = \"keys/staging-allowed.conf\"; "
            "secret = \"keys/staging.secret\"; };\ncreate_secret = true;\n"
            "listen = \"%s\";\nstrategy = %s;\nlimitation = \"%s/limitation.example.conf\";\n"
            "outreach = { endpoint = \"%s\"; public_key = \"keys/downstream.pub\"; };\n"
            "legal = { endpoint = \"%s\"; public_key = \"keys/downstream.pub\"; };\n"
            "sale = { endpoint = \"%s\"; public_key = \"keys/downstream.pub\"; };\n"
            "intake = { endpoint = \"%s\"; public_key = \"keys/intake.pub\"; };\n",
            l->staging_ep, strategy, ARREARS_STAGING_EXAMPLES, l->outreach_ep, l->legal_ep,
            l->sale_ep, l->intake_ep);
    return fclose(f) == 0 ? 0 : -1;
}

/* A fresh run: empty stores and stream states; the keys are kept. */
static void clear_run(const layout_t *l)
{
    char path[FILE_MAX];
    const char *stores[] = { "intake", "staging" };
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", l->dir, stores[i]);
        rig_clear_store(path);
    }
    const char *files[] = { "standin.state", "standin.log", "platform.state", "script.json" };
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", l->run, files[i]);
        remove(path);
    }
}

static pid_t start_intake(const layout_t *l)
{
    char config[FILE_MAX];
    snprintf(config, sizeof config, "%s/intake.conf", l->dir);
    char *argv[] = { "intake", "--config", config, NULL };
    return rig_spawn(setting("ARREARS_INTAKE", ARREARS_INTAKE_BIN), argv);
}

static pid_t start_staging(const layout_t *l)
{
    char config[FILE_MAX];
    snprintf(config, sizeof config, "%s/staging.conf", l->dir);
    char *argv[] = { "staging", "--config", config, NULL };
    return rig_spawn(setting("ARREARS_STAGING", ARREARS_STAGING_BIN), argv);
}

/* Outreach, legal and sale until they exist: records what staging sends, replies nothing. */
static pid_t start_standin(const layout_t *l, const char *python, const char *clients,
                           const char *proto)
{
    char script[FILE_MAX], key[FILE_MAX], allow[FILE_MAX];
    char log[FILE_MAX], state[FILE_MAX];
    snprintf(script, sizeof script, "%s/downstream_standin.py", clients);
    snprintf(key, sizeof key, "%s/downstream.key", l->keys);
    snprintf(allow, sizeof allow, "%s/staging.pub", l->keys);
    snprintf(log, sizeof log, "%s/standin.log", l->run);
    snprintf(state, sizeof state, "%s/standin.state", l->run);
    char *argv[] = { (char *)python, script, "--outreach-endpoint", (char *)l->outreach_ep,
                     "--legal-endpoint", (char *)l->legal_ep, "--sale-endpoint", (char *)l->sale_ep,
                     "--key", key, "--allow", allow, "--log", log, "--staging-endpoint",
                     (char *)l->staging_ep, "--staging-public", allow, "--state", state,
                     "--proto-dir", (char *)proto, NULL };
    return rig_spawn(python, argv);
}

static int run_platform(const layout_t *l, const pipeline_options_t *o, const char *python,
                        const char *clients, const char *proto)
{
    char script[FILE_MAX], key[FILE_MAX], pub[FILE_MAX];
    char state[FILE_MAX], accounts[24], seed[24], staging_pub[FILE_MAX], operator_key[FILE_MAX];
    snprintf(staging_pub, sizeof staging_pub, "%s/staging.pub", l->keys);
    snprintf(operator_key, sizeof operator_key, "%s/operator.key", l->keys);
    snprintf(script, sizeof script, "%s/demo_platform.py", clients);
    snprintf(key, sizeof key, "%s/demo-platform.key", l->keys);
    snprintf(pub, sizeof pub, "%s/intake.pub", l->keys);
    snprintf(state, sizeof state, "%s/platform.state", l->run);
    snprintf(accounts, sizeof accounts, "%llu", (unsigned long long)o->accounts);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    char *argv[] = { (char *)python, script, "--endpoint", (char *)l->intake_ep, "--server-key",
                     pub, "--key", key, "--state", state, "--accounts", accounts, "--seed", seed,
                     "--staging-endpoint", (char *)l->staging_ep, "--staging-key", staging_pub,
                     "--operator-key", operator_key, "--proto-dir", (char *)proto, NULL };
    return rig_wait(rig_spawn(python, argv));
}

int pipeline_demo_main(const pipeline_options_t *o)
{
    const char *python = setting("ARREARS_PYTHON", ARREARS_PYTHON_BIN);
    const char *clients = setting("ARREARS_CLIENT_DIR", ARREARS_CLIENT_DIR_DEFAULT);
    const char *proto = setting("ARREARS_PROTO_PYTHON", ARREARS_PROTO_PYTHON_DEFAULT);
    layout_t l;
    if (make_layout(o->dir, &l) != 0 || write_intake_config(&l) != 0 ||
        write_staging_config(&l) != 0)
        return 1;
    clear_run(&l);
    printf("arrears demo: intake, staging and a stand-in for outreach, legal and sale on %s "
           "(CURVE); a synthetic platform "
           "uploads %llu accounts (seed %llu)\n", l.run, (unsigned long long)o->accounts,
           (unsigned long long)o->seed);
    fflush(stdout);
    pid_t standin = start_standin(&l, python, clients, proto);
    pid_t staging = start_staging(&l);
    pid_t intake = start_intake(&l);
    int status = run_platform(&l, o, python, clients, proto);
    rig_stop(intake);
    rig_stop(staging);
    rig_stop(standin);
    printf("arrears demo: %s; every process stopped\n", status == 0 ? "done" : "FAILED");
    return status == 0 ? 0 : 1;
}
