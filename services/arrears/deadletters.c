/* deadletters (CLI): see deadletters.h. Each service answers for its own outboxes; the
 * CLI asks each in turn as a query (list, inspect) or sends one stream message (replay,
 * discard) and prints what comes back. Bodies are printed by the generic descriptor
 * printer (pbjson) only on inspect. */
#include "deadletters.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "embedded.h"
#include "opclient.h"
#include "pbjson.h"

#define ERR_MAX 1024
#define TIMEOUT_MS 10000
#define PAGE 500

/* A connection to one service on the key of principal `as`; NULL with err. */
static opclient_t *connect_as(void *ctx, const embedded_t *e, const char *service,
                              const char *as, char *err, size_t len)
{
    char key[EMBEDDED_PATH_MAX + 32], pub[EMBEDDED_PATH_MAX + 32], ep[EMBEDDED_PATH_MAX + 32];
    embedded_key(e, as, "key", key, sizeof key);
    embedded_key(e, service, "pub", pub, sizeof pub);
    embedded_endpoint(e, service, ep, sizeof ep);
    return opclient_new(ctx, ep, pub, key, err, len);
}

/* What went wrong, for a person: the service's own reason when it refused. */
static void say_failure(const char *what, const char *service, int rc, const reject_t *r)
{
    if (rc == OPCLIENT_EREJECTED)
        fprintf(stderr, "arrears dead-letters: %s refused %s: %s (%s%s%s)\n", service, what,
                r->reason, reject_code_name(r->code), *r->field ? ", field " : "", r->field);
    else
        fprintf(stderr, "arrears dead-letters: %s, %s: %s\n", service, what, opclient_strerror(rc));
}

static void format_ms(int64_t ms, char *out, size_t len)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, len, "-");
}

/* ---------------------------------------------------------------- list */

static int list_page(opclient_t *c, const char *after_outbox, uint64_t after_seq,
                     Arrears__Envelope **reply, reject_t *reject)
{
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    q.has_limit = 1;
    q.limit = PAGE;
    q.after_outbox = (char *)after_outbox;
    q.has_after_seq = after_outbox != NULL;
    q.after_seq = after_seq;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER_QUERY;
    env.dead_letter_query = &q;
    return opclient_query(c, &env, ARREARS__ENVELOPE__BODY_DEAD_LETTER_LIST, reply, TIMEOUT_MS,
                          reject);
}

static void print_letter(const char *service, const Arrears__DeadLetter *d)
{
    printf("%-9s %-12s %6llu %-14s %-18s %s\n", service, d->outbox, (unsigned long long)d->seq,
           reject_code_name(d->code), d->unreadable ? "(unreadable)" : d->body_type, d->reason);
}

/* Every page of one service's list; *count how many were printed. */
static int list_service(void *ctx, const embedded_t *e, const char *service, const char *as,
                        uint64_t *count)
{
    char err[ERR_MAX], after[64] = "";
    uint64_t after_seq = 0;
    opclient_t *c = connect_as(ctx, e, service, as, err, sizeof err);
    int rc = c ? 0 : OPCLIENT_ECONNECT;
    bool more = c != NULL;
    while (rc == 0 && more) {
        Arrears__Envelope *reply = NULL;
        reject_t reject;
        rc = list_page(c, *after ? after : NULL, after_seq, &reply, &reject);
        if (rc != 0) {
            say_failure("the list", service, rc, &reject);
            break;
        }
        const Arrears__DeadLetterList *l = reply->dead_letter_list;
        for (size_t i = 0; i < l->n_letters; i++)
            print_letter(service, l->letters[i]);
        *count += l->n_letters;
        more = l->more && l->n_letters > 0;
        if (more) {
            snprintf(after, sizeof after, "%s", l->next_outbox);
            after_seq = l->next_after_seq;
        }
        envelope_free(&reply);
    }
    if (!c)
        fprintf(stderr, "arrears dead-letters: %s: %s\n", service, err);
    opclient_destroy(&c);
    return rc;
}

static int list_main(const embedded_t *e, const char *only, const char *as)
{
    void *ctx = zmq_ctx_new();
    uint64_t count = 0;
    int failed = 0;
    printf("%-9s %-12s %6s %-14s %-18s %s\n", "service", "outbox", "seq", "code", "body",
           "reason");
    for (size_t i = 0; i < e->count; i++) {
        const embedded_service_t *s = &e->service[i];
        if (*s->socket && (!only || strcmp(only, s->name) == 0))
            failed += list_service(ctx, e, s->name, as, &count) != 0;
    }
    zmq_ctx_term(ctx);
    printf("%llu dead letter(s)%s\n", (unsigned long long)count,
           count ? "; `arrears dead-letters SERVICE inspect OUTBOX SEQ` shows one" : "");
    return failed ? 1 : 0;
}

/* ---------------------------------------------------------------- inspect */

static void print_inspected(const char *service, const Arrears__DeadLetter *d)
{
    char sent[32] = "-";
    if (d->has_sent_at_ms)
        format_ms(d->sent_at_ms, sent, sizeof sent);
    printf("%s %s seq %llu: %s (%s): %s\nbody %s, %llu bytes, created %s\n", service, d->outbox,
           (unsigned long long)d->seq, reject_code_name(d->code),
           reject_class_name(d->reject_class), d->reason,
           d->unreadable ? "(unreadable: it can only be discarded)" : d->body_type,
           (unsigned long long)d->size_bytes, sent);
    if (!d->has_envelope)
        return;
    Arrears__Envelope *inner = arrears__envelope__unpack(NULL, d->envelope.len, d->envelope.data);
    if (!inner) {
        printf("envelope: does not decode\n");
        return;
    }
    printf("envelope: ");
    pbjson_print(stdout, &inner->base);
    printf("\n");
    arrears__envelope__free_unpacked(inner, NULL);
}

static int inspect_main(opclient_t *c, const char *service, const char *outbox, uint64_t seq)
{
    Arrears__DeadLetterQuery q = ARREARS__DEAD_LETTER_QUERY__INIT;
    q.outbox = (char *)outbox;
    q.has_inspect_seq = 1;
    q.inspect_seq = seq;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER_QUERY;
    env.dead_letter_query = &q;
    Arrears__Envelope *reply = NULL;
    reject_t reject;
    int rc = opclient_query(c, &env, ARREARS__ENVELOPE__BODY_DEAD_LETTER, &reply, TIMEOUT_MS,
                            &reject);
    if (rc != 0) {
        say_failure("the inspect", service, rc, &reject);
        return 1;
    }
    print_inspected(service, reply->dead_letter);
    envelope_free(&reply);
    return 0;
}

/* ---------------------------------------------------------------- replay, discard */

static int act_main(opclient_t *c, const char *service, const char *action, const char *outbox,
                    uint64_t seq, const char *reason)
{
    Arrears__DeadLetterAction a = ARREARS__DEAD_LETTER_ACTION__INIT;
    a.has_kind = a.has_seq = 1;
    a.kind = strcmp(action, "replay") == 0 ? ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY
                                           : ARREARS__DEAD_LETTER_ACTION__KIND__DISCARD;
    a.outbox = (char *)outbox;
    a.seq = seq;
    a.reason = (char *)reason;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_DEAD_LETTER_ACTION;
    env.dead_letter_action = &a;
    reject_t reject;
    int rc = opclient_send(c, &env, TIMEOUT_MS, &reject);
    if (rc != 0) {
        say_failure(action, service, rc, &reject);
        if (rc == OPCLIENT_EREJECTED && reject.code == ARREARS__REJECT__CODE__INVALID_FIELD)
            fprintf(stderr, "arrears dead-letters: `arrears dead-letters %s` lists its dead "
                    "letters\n", service);
        return 1;
    }
    if (a.kind == ARREARS__DEAD_LETTER_ACTION__KIND__REPLAY)
        printf("arrears dead-letters: %s %s %llu replayed: appended to the outbox again as a new "
               "seq (the service's log names it, with who and why)\n", service, outbox,
               (unsigned long long)seq);
    else
        printf("arrears dead-letters: %s %s %llu discarded (logged with who and why)\n", service,
               outbox, (unsigned long long)seq);
    return 0;
}

/* ---------------------------------------------------------------- the command */

/* SERVICE is one of the folder's services that keep dead letters (all but the worker). */
static int usage_error(const embedded_t *e, const char *what)
{
    char names[512];
    embedded_names(e, true, names, sizeof names);
    fprintf(stderr, "arrears dead-letters: %s\nusage: arrears dead-letters [SERVICE]\n"
            "       arrears dead-letters SERVICE inspect OUTBOX SEQ\n"
            "       arrears dead-letters SERVICE replay|discard OUTBOX SEQ --reason WHY\n"
            "SERVICE: %s\n", what, names);
    return 2;
}

static bool is_service(const embedded_t *e, const char *name)
{
    const embedded_service_t *s = embedded_find(e, name);
    return s && *s->socket;
}

static int parse_seq(const char *text, uint64_t *seq)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (!*text || *end || errno || *text == '-' || v == 0)
        return -1;
    *seq = v;
    return 0;
}

/* SERVICE ACTION OUTBOX SEQ: checked before anything is asked. */
static int one_letter_main(const ops_options_t *o, const embedded_t *e, char **pos)
{
    const char *service = pos[0], *action = pos[1], *outbox = pos[2];
    bool inspect = strcmp(action, "inspect") == 0;
    uint64_t seq = 0;
    if (!inspect && strcmp(action, "replay") != 0 && strcmp(action, "discard") != 0)
        return usage_error(e, "the action is inspect, replay or discard");
    if (parse_seq(pos[3], &seq) != 0)
        return usage_error(e, "SEQ is a dead letter's seq (a number >= 1, as the list shows)");
    if (!inspect && (!o->reason || !*o->reason))
        return usage_error(e, "replay and discard need --reason \"why\" (1 to 200 bytes): it "
                           "is logged with who you are");
    char err[ERR_MAX];
    void *ctx = zmq_ctx_new();
    opclient_t *c = connect_as(ctx, e, service, o->as ? o->as : "operator", err, sizeof err);
    int rc = 1;
    if (!c)
        fprintf(stderr, "arrears dead-letters: %s: %s\n", service, err);
    else
        rc = inspect ? inspect_main(c, service, outbox, seq)
                     : act_main(c, service, action, outbox, seq, o->reason);
    opclient_destroy(&c);
    zmq_ctx_term(ctx);
    return rc;
}

int dead_letters_main(const ops_options_t *o, int npos, char **pos)
{
    embedded_t e;
    char err[ERR_MAX];
    if (embedded_open(o->dir, &e, err, sizeof err) != 0) {
        fprintf(stderr, "arrears dead-letters: %s\n", err);
        return 1;
    }
    if (npos != 0 && npos != 1 && npos != 4)
        return usage_error(&e, "wrong number of arguments");
    if (npos >= 1 && !is_service(&e, pos[0]))
        return usage_error(&e, "no such service");
    if (npos == 4)
        return one_letter_main(o, &e, pos);
    return list_main(&e, npos ? pos[0] : NULL, o->as ? o->as : "operator");
}
