/* inspect: `arrears account` (an account's book and its whole timeline, from staging)
 * and the audited operator actions (OperatorAction to staging, on the operator's own
 * key: staging records the principal and the reason on the account's timeline).
 *
 * Staging in shards: an account lives on its person's shard, placed by a hash of the
 * person the CLI does not know (it is given PLATFORM REF), so each shard is asked in turn
 * for the account (AccountQuery) and the one that has it answers or takes the action. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#include "embedded.h"
#include "money.h"
#include "opclient.h"
#include "ops.h"

#define ERR_MAX 1024
#define QUERY_TIMEOUT_MS 10000
#define TIMELINE_PAGE 500

/* A connection to staging shard k on the key of principal `as` (keys/<as>.key). */
static opclient_t *shard_as(void *ctx, const embedded_t *e, uint32_t k, const char *as,
                            char *err, size_t len)
{
    const char *shard = embedded_shard(e, k)->name;
    char key[EMBEDDED_PATH_MAX + 32], pub[EMBEDDED_PATH_MAX + 32], ep[EMBEDDED_PATH_MAX + 32];
    embedded_key(e, as, "key", key, sizeof key);
    embedded_key(e, shard, "pub", pub, sizeof pub);
    embedded_endpoint(e, shard, ep, sizeof ep);
    return opclient_new(ctx, ep, pub, key, err, len);
}

static int account_page(opclient_t *c, const char *platform, const char *ref, uint32_t after,
                        Arrears__Envelope **reply, reject_t *reject)
{
    Arrears__AccountQuery q = ARREARS__ACCOUNT_QUERY__INIT;
    q.platform = (char *)platform;
    q.account_ref = (char *)ref;
    q.has_after_entry = q.has_max_entries = 1;
    q.after_entry = after;
    q.max_entries = TIMELINE_PAGE;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_ACCOUNT_QUERY;
    env.account_query = &q;
    return opclient_query(c, &env, ARREARS__ENVELOPE__BODY_ACCOUNT_VIEW, reply, QUERY_TIMEOUT_MS,
                          reject);
}

/* What a shard's failure to answer says: its own reason when it refused. */
static void say_failure(const char *shard, int rc, const reject_t *r, char *err, size_t len)
{
    if (rc == OPCLIENT_EREJECTED)
        snprintf(err, len, "%s refused it: %s (%s%s%s)", shard, r->reason,
                 reject_code_name(r->code), *r->field ? ", field " : "", r->field);
    else
        snprintf(err, len, "%s: %s", shard, opclient_strerror(rc));
}

/* The shard holding PLATFORM REF, asked in shard order as principal `as`: *shard, *conn
 * the connection to it and *first its answer (the timeline's first page). 0; 1 with err
 * when no shard has the account (naming the shards asked) or one refused or could not
 * answer. */
static int find_account(void *ctx, const embedded_t *e, const char *as, const char *platform,
                        const char *ref, uint32_t *shard_of, opclient_t **conn,
                        Arrears__Envelope **first, char *err, size_t len)
{
    char asked[512] = "";
    for (uint32_t k = 0; k < e->shards; k++) {
        const char *shard = embedded_shard(e, k)->name;
        reject_t reject;
        *conn = shard_as(ctx, e, k, as, err, len);
        int rc = *conn ? account_page(*conn, platform, ref, 0, first, &reject) : OPCLIENT_ECONNECT;
        if (rc == 0 && (*first)->account_view->known) {
            *shard_of = k;
            return 0;
        }
        if (rc != 0 && *conn)
            say_failure(shard, rc, &reject, err, len);
        envelope_free(first);
        opclient_destroy(conn);
        if (rc != 0)
            return 1;
        size_t used = strlen(asked);
        snprintf(asked + used, sizeof asked - used, "%s%s", k ? ", " : "", shard);
    }
    if (e->shards == 1)
        snprintf(err, len, "staging has no account %s of platform %s", ref, platform);
    else
        snprintf(err, len, "staging has no account %s of platform %s on any shard (asked %s)",
                 ref, platform, asked);
    return 1;
}

static void print_money(const char *label, int64_t minor, const char *currency)
{
    char text[64];
    money_format(minor, currency, text, sizeof text);
    printf("  %-12s %16s\n", label, text);
}

static void print_book(const Arrears__AccountView *v)
{
    printf("%s %s: stage %s, %d days past due, segment %s, arm %s, score %lld%s\n",
           v->platform, v->account_ref, v->stage, v->days_past_due, v->segment, v->arm,
           (long long)v->score, v->time_barred ? ", TIME-BARRED" : "");
    print_money("outstanding", v->outstanding_minor, v->currency);
    print_money("overdue", v->overdue_minor, v->currency);
    print_money("principal", v->principal_minor, v->currency);
    print_money("interest", v->interest_minor, v->currency);
    print_money("penalty", v->penalty_minor, v->currency);
    print_money("fees", v->fees_minor, v->currency);
    print_money("credit", v->credit_minor, v->currency);
    printf("  holds        ");
    for (size_t i = 0; i < v->n_holds; i++)
        printf("%s%s", i ? ", " : "", v->holds[i]);
    printf("%s\n  arrangement  %s\n  broken promises %u; evaluated through %s\n",
           v->n_holds ? "" : "none", v->arrangement && *v->arrangement ? v->arrangement : "none",
           v->broken_promises, v->evaluated_day);
    printf("timeline (%u entries):\n", v->timeline_total);
}

static void print_entries(const Arrears__AccountView *v)
{
    for (size_t i = 0; i < v->n_timeline; i++) {
        const Arrears__TimelineEntry *t = v->timeline[i];
        char amount[64] = "";
        if (t->has_amount_minor && t->amount_minor)
            money_format(t->amount_minor, v->currency, amount, sizeof amount);
        printf("  %4u %s %-10s %-17s %-12s %14s %s%s%s\n", t->seq, t->day, t->actor, t->kind,
               t->stage, amount, t->reason, t->reference && *t->reference ? " ref=" : "",
               t->reference ? t->reference : "");
    }
}

int ops_account_main(const ops_options_t *o, const char *platform, const char *ref)
{
    embedded_t e;
    char err[ERR_MAX];
    void *ctx = zmq_ctx_new();
    opclient_t *c = NULL;
    Arrears__Envelope *reply = NULL;
    uint32_t shard = 0;
    int rc = embedded_open(o->dir, &e, err, sizeof err) != 0 ||
             find_account(ctx, &e, "operator", platform, ref, &shard, &c, &reply, err,
                          sizeof err) != 0;
    if (rc == 0 && e.shards > 1)
        printf("on %s (shard %u of %u)\n", embedded_shard(&e, shard)->name, shard, e.shards);
    if (rc == 0)
        print_book(reply->account_view);
    while (rc == 0) {   /* reply: the next page, printed */
        const Arrears__AccountView *v = reply->account_view;
        print_entries(v);
        uint32_t after = v->n_timeline ? v->timeline[v->n_timeline - 1]->seq : v->timeline_total;
        bool done = after >= v->timeline_total;
        envelope_free(&reply);
        if (done)
            break;
        reject_t reject;
        int q = account_page(c, platform, ref, after, &reply, &reject);
        if (q != 0) {
            say_failure(embedded_shard(&e, shard)->name, q, &reject, err, sizeof err);
            rc = 1;
        }
    }
    if (rc != 0)
        fprintf(stderr, "arrears account: %s\n", err);
    opclient_destroy(&c);
    zmq_ctx_term(ctx);
    return rc;
}

static const struct {
    const char *name;
    Arrears__OperatorAction__Kind kind;
} actions[] = {
    { "resolve-complaint", ARREARS__OPERATOR_ACTION__KIND__RESOLVE_COMPLAINT },
    { "hold", ARREARS__OPERATOR_ACTION__KIND__PLACE_HOLD },
    { "lift-hold", ARREARS__OPERATOR_ACTION__KIND__LIFT_HOLD },
    { "write-off", ARREARS__OPERATOR_ACTION__KIND__WRITE_OFF },
    { "approve-settlement", ARREARS__OPERATOR_ACTION__KIND__APPROVE_SETTLEMENT },
    { "correct-contact", ARREARS__OPERATOR_ACTION__KIND__CORRECT_CONTACT },
};

/* The action's kind, or KIND_UNSPECIFIED for a name that is none. */
static Arrears__OperatorAction__Kind action_kind(const char *name)
{
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (strcmp(actions[i].name, name) == 0)
            return actions[i].kind;
    return ARREARS__OPERATOR_ACTION__KIND__KIND_UNSPECIFIED;
}

/* correct-contact's points as the operator typed them, in list[0 .. n): verified and
 * consented, since the operator confirmed them with the borrower (proto OperatorAction);
 * staging checks them as it checks a platform's. */
static size_t contact_points(Arrears__ContactPoint *points, Arrears__ContactPoint **list,
                             const char *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        arrears__contact_point__init(&points[i]);
        points[i].value = (char *)values[i];
        points[i].has_verified = points[i].verified = 1;
        points[i].has_consent = points[i].consent = 1;
        list[i] = &points[i];
    }
    return n;
}

/* env (an OperatorAction) to the shard that holds the account, signed by the operator
 * (--as); what came of it printed. 0, or 1. */
static int act_on_shard(const ops_options_t *o, const char *action, const char *platform,
                        const char *ref, Arrears__Envelope *env)
{
    embedded_t e;
    char err[ERR_MAX], where[EMBEDDED_NAME_MAX + 2] = "";
    void *ctx = zmq_ctx_new();
    opclient_t *c = NULL;
    Arrears__Envelope *found = NULL;
    uint32_t shard = 0;
    int rc = embedded_open(o->dir, &e, err, sizeof err) != 0 ||
             find_account(ctx, &e, o->as ? o->as : "operator", platform, ref, &shard, &c, &found,
                          err, sizeof err) != 0;
    envelope_free(&found);
    if (rc == 0) {
        reject_t reject;
        int sent = opclient_send(c, env, QUERY_TIMEOUT_MS, &reject);
        if (sent != 0)
            say_failure(embedded_shard(&e, shard)->name, sent, &reject, err, sizeof err);
        if (e.shards > 1)
            snprintf(where, sizeof where, "%s; ", embedded_shard(&e, shard)->name);
        rc = sent != 0;
    }
    if (rc == 0)
        printf("arrears %s: recorded on %s %s (%ssee `arrears account %s %s`)\n", action,
               platform, ref, where, platform, ref);
    else
        fprintf(stderr, "arrears %s: %s\n", action, err);
    opclient_destroy(&c);
    zmq_ctx_term(ctx);
    return rc;
}

int ops_action_main(const ops_options_t *o, const char *action, const char *platform,
                    const char *ref)
{
    Arrears__OperatorAction a = ARREARS__OPERATOR_ACTION__INIT;
    a.kind = action_kind(action);
    a.has_kind = 1;
    bool contact = a.kind == ARREARS__OPERATOR_ACTION__KIND__CORRECT_CONTACT;
    if (a.kind == ARREARS__OPERATOR_ACTION__KIND__KIND_UNSPECIFIED || !o->reason ||
        (a.kind == ARREARS__OPERATOR_ACTION__KIND__LIFT_HOLD && !o->hold) ||
        (contact && !o->contact.n_phones && !o->contact.n_emails)) {
        fprintf(stderr, "arrears %s: needs PLATFORM REF --reason \"why\" (lift-hold also "
                "--hold NAME; correct-contact --phone E164 or --email ADDR, each repeatable); "
                "the action is recorded on the account with who and why\n", action);
        return 2;
    }
    a.platform = (char *)platform;
    a.account_ref = (char *)ref;
    a.reason = (char *)o->reason;
    a.hold = (char *)o->hold;
    Arrears__ContactPoint points[2][OPS_POINTS_MAX];
    Arrears__ContactPoint *phones[OPS_POINTS_MAX], *emails[OPS_POINTS_MAX];
    if (contact) {
        a.n_phones = contact_points(points[0], phones, o->contact.phones, o->contact.n_phones);
        a.n_emails = contact_points(points[1], emails, o->contact.emails, o->contact.n_emails);
        a.phones = phones, a.emails = emails;
    }
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_OPERATOR_ACTION;
    env.operator_action = &a;
    return act_on_shard(o, action, platform, ref, &env);
}
