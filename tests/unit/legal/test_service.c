/* test_service: the legal service's decisions in process (services/legal/legal.c,
 * place.c, update.c, query.c, report.c), without sockets: a legal_t set up as main.c's
 * service_open does — the configuration parsed from CONFIG below with the limitation
 * rules of LIMITATION, a tz cache, a simulated clock, the cases on a store in a
 * temporary directory with an at-rest key made there, the outboxes to staging and to
 * outreach. Messages are Envelopes built here and handed to legal_apply inside
 * store_write (as the receiver does), queries to legal_query inside store_read; the
 * stored cases and what each outbox got are read back and checked.
 *
 * Covered:
 *   - an eligible referral opens L000000001, REFERRED, offered to the least loaded
 *     assignee that may take it, due at the offer plus the acceptance deadline; staging
 *     is told; the case file is stored in both forms (the same bytes casefile_build
 *     makes) and its sizes are on the case;
 *   - time-barred and below-floor referrals are DECLINED with the verdict, staging told
 *     (time_barred only for the former); malformed ones are refused INVALID_FIELD with
 *     nothing changed (a digest of every table); a second referral of an open case is a
 *     CONFLICT; the same referral or notice again (its natural key: the account, what,
 *     staging's instant, the reference) is a duplicate that changes nothing;
 *   - an agency's case through the lifecycle to its end: outreach told when it holds the
 *     account and when it no longer does, staging told each step with its money,
 *     commission half-even per recovery; illegal moves, missing evidence, bad dates and a
 *     recovery without its reference are refused and change nothing; a recovery ref
 *     again is a duplicate (same amount) or a conflict (another amount);
 *   - another firm, an unconfigured one and a platform cannot touch a case (the same
 *     refusal as for an unknown case); a hand-back before filing moves the case on, after
 *     filing it is refused;
 *   - the sweep: a missed acceptance deadline, a recall without progress, a waiting case
 *     placed once capacity frees;
 *   - notices from staging: a complaint counted, a closed account ends the case;
 *   - queries: the case list (own cases only, paging, ended cases), the case file in
 *     chunks (SHA-256), the legal report; ClockAdvance busy while messages are unacked;
 *   - staging in two shards (principals "staging" and "staging-1"; the other tests'
 *     staging is "staging"): a case keeps the shard that referred it and every update
 *     on it (an assignee's, the sweep's) goes there only (to_staging.1 for
 *     "staging-1"); a referral or notice from a staging principal not in the list is
 *     refused and changes nothing; a case stored before shards (no shard kept) is
 *     answered on shard 0;
 *   - the end of an account's retention (PersonalDataErased): the borrower leaves the
 *     sealed referral, both forms of the case file (an assignee's pull shows
 *     "(erased)") and the assignee's step details; the case, its history and the report
 *     are the same; another account's case is untouched; a repeat writes nothing; a
 *     message without its platform or account is refused and changes nothing.
 *
 * Times: the borrower is in Asia/Shanghai (UTC+8, no DST); the clock starts at
 * 2026-03-02 04:00 UTC, noon local. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "casefile.h"
#include "erasure.h"
#include "legal.h"
#include "log.h"
#include "svctest.h"

#define NOW0 INT64_C(1772424000000)   /* 2026-03-02 04:00 UTC */
#define DAY INT64_C(86400000)
#define ZONE "Asia/Shanghai"
#define BIG INT64_C(5000000)          /* CNY 50,000.00: law firms first */
#define SMALL INT64_C(500000)         /* CNY 5,000.00: agencies only */
#define L1 "L000000001"
#define L2 "L000000002"
#define L3 "L000000003"

#define S_REFERRED ARREARS__CASE_STATUS__REFERRED
#define S_ACCEPTED ARREARS__CASE_STATUS__ACCEPTED
#define S_DEMAND ARREARS__CASE_STATUS__DEMAND_LETTER
#define S_FILED ARREARS__CASE_STATUS__FILED
#define S_HEARING ARREARS__CASE_STATUS__HEARING
#define S_JUDGMENT ARREARS__CASE_STATUS__JUDGMENT
#define S_ENFORCEMENT ARREARS__CASE_STATUS__ENFORCEMENT
#define S_CLOSED ARREARS__CASE_STATUS__CASE_CLOSED
#define S_DECLINED ARREARS__CASE_STATUS__DECLINED
#define R_INVALID ARREARS__REJECT__CODE__INVALID_FIELD
#define R_CONFLICT ARREARS__REJECT__CODE__CONFLICT
#define R_UNAUTHORIZED ARREARS__REJECT__CODE__UNAUTHORIZED
#define R_BUSY ARREARS__REJECT__CODE__BUSY
#define HTML ARREARS__CASE_FILE_FORM__CASE_FILE_HTML
#define MACHINE ARREARS__CASE_FILE_FORM__CASE_FILE_MACHINE

/* Two law firms for CN (capacity 2 each) and an agency for CN-31 only (capacity 1,
 * 18% commission, recalled after 30 days without progress). */
static const char CONFIG[] =
    "clock = { kind = \"simulated\"; start = \"2026-03-02\"; };\n"
    "legal = {\n"
    "  currencies = (\n"
    "    { currency = \"CNY\"; floor_minor = 100000; firm_from_minor = 2000000; },\n"
    "    { currency = \"USD\"; floor_minor = 50000; }\n"
    "  );\n"
    "  assignees = (\n"
    "    { principal = \"firm-a\"; kind = \"firm\"; regions = [\"CN\"];\n"
    "      products = [\"online_loan\", \"instalment_loan\"]; capacity = 2;\n"
    "      accept_deadline_days = 5; },\n"
    "    { principal = \"firm-b\"; kind = \"firm\"; regions = [\"CN\"]; products = [\"online_loan\"];\n"
    "      capacity = 2; accept_deadline_days = 5; },\n"
    "    { principal = \"agency-c\"; kind = \"agency\"; regions = [\"CN-31\"];\n"
    "      products = [\"online_loan\", \"credit_card\"]; capacity = 1; commission_bps = 1800;\n"
    "      accept_deadline_days = 3; recall_after_days = 30; }\n"
    "  );\n"
    "};\n";

static const char LIMITATION[] =
    "limitation = { jurisdictions = ( { name = \"CN\"; years = 3; } ); };\n";

/* Every table of the store, for the digest that proves a refusal changed nothing. */
static const char *const TABLES[] = {
    "legal.cases", "legal.referrals", "legal.files", "legal.accounts", "legal.assignees",
    "legal.recoveries", "legal.due", "legal.waiting", "legal.meta", "legal.taken", "legal.ever",
    "to_staging.log", "to_staging.meta", "to_staging.1.log", "to_staging.1.meta",
    "to_outreach.log", "to_outreach.meta",
};
#define N_TABLES (sizeof TABLES / sizeof TABLES[0])
#define GOT_MAX 32
#define BUF_MAX (512 * 1024)

enum { STAGING = 0, OUTREACH = 1, STAGING_1 = 2 };   /* the outboxes news() reads */

typedef struct {
    char dir[SVCTEST_DIR_MAX];
    store_t *store;
    crypt_t *crypt;
    legal_config_t *cfg;
    limitation_rules_t limitation;
    legal_t app;
    uint64_t unacked;                /* what the unacked stub answers */
    int rc;                          /* the last legal_apply */
    reject_t reject;
    uint8_t *buf;                    /* query replies */
    size_t len;
    Arrears__Envelope *reply;        /* the last query's reply, unpacked */
    StoredCase *kase;                /* the last case read back */
    uint64_t mark[3];                /* the last seq seen in each outbox */
    Arrears__Envelope *got[GOT_MAX]; /* the messages news() found */
    size_t n_got;
    uint8_t *file;                   /* a case file read back */
    size_t file_len;
} fx_t;

/* ---------------------------------------------------------------- fixture */

static uint64_t unacked_stub(void *arg)
{
    return ((fx_t *)arg)->unacked;
}

/* Staging in two shards, as a `staging` list would load (legal_config_parse reads no
 * peers): "staging", then "staging-1". */
static int open_state(fx_t *f)
{
    outbox_limits_t ol = outbox_default_limits();
    shards_t *staging = &f->cfg->staging;
    staging->count = 2;
    strcpy(staging->shard[0].principal, "staging");
    strcpy(staging->shard[1].principal, "staging-1");
    int rc = svctest_open("t_legal", f->dir, &f->store, &f->crypt);
    rc = rc ? rc : shards_open_outboxes(staging, f->store, &ol, NULL, f->app.to_staging);
    rc = rc ? rc : outbox_open(f->store, "to_outreach", &ol, &f->app.to_outreach);
    return rc ? rc : cases_open(f->store, f->crypt, &f->app.cases);
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    char err[512] = "";
    if (!f)
        return -1;
    *state = f;
    f->cfg = calloc(1, sizeof *f->cfg);
    f->buf = malloc(BUF_MAX);
    f->file = malloc(CASES_FILE_MAX);
    if (!f->cfg || !f->buf || !f->file)
        return -1;
    if (limitation_rules_parse(LIMITATION, "limitation.conf", &f->limitation, err, sizeof err) != 0 ||
        legal_config_parse(CONFIG, "legal.conf", f->cfg, err, sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return -1;
    }
    f->cfg->eligibility.limitation = &f->limitation;
    f->app.cfg = f->cfg;
    f->app.zones = tz_cache_new(NULL, 1024);
    f->app.limits = legal_default_limits();
    f->app.started_ms = aclock_monotonic_ms();
    f->app.unacked = unacked_stub;
    f->app.unacked_arg = f;
    f->app.file_buf = malloc(CASES_FILE_MAX);
    f->app.clock = aclock_new_simulated(NOW0);
    if (!f->app.zones || !f->app.file_buf || !f->app.clock)
        return -1;
    return open_state(f);
}

static void free_got(fx_t *f)
{
    svctest_free_got(f->got, f->n_got);
    f->n_got = 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    free_got(f);
    arrears__envelope__free_unpacked(f->reply, NULL);
    arrears__stored_case__free_unpacked(f->kase, NULL);
    cases_destroy(&f->app.cases);
    shards_close_outboxes(f->app.to_staging);
    outbox_destroy(&f->app.to_outreach);
    aclock_destroy(&f->app.clock);
    tz_cache_destroy(&f->app.zones);
    free(f->app.file_buf);
    free(f->cfg);
    free(f->buf);
    free(f->file);
    int rc = svctest_close(f->dir, &f->store, &f->crypt);
    free(f);
    return rc;
}

/* ---------------------------------------------------------------- transactions */

typedef void (txn_fn)(fx_t *f, MDB_txn *txn, void *arg);
typedef struct {
    fx_t *f;
    txn_fn *fn;
    void *arg;
} run_t;

static int run_work(MDB_txn *txn, void *arg)
{
    run_t *r = arg;
    r->fn(r->f, txn, r->arg);
    return 0;   /* a refusal commits too: legal must decide before it writes */
}

static void in_write(fx_t *f, txn_fn *fn, void *arg)
{
    run_t r = {f, fn, arg};
    assert_int_equal(store_write(f->store, run_work, &r), 0);
}

static void in_read(fx_t *f, txn_fn *fn, void *arg)
{
    run_t r = {f, fn, arg};
    assert_int_equal(store_read(f->store, run_work, &r), 0);
}

typedef struct {
    uint8_t d[crypto_hash_sha256_BYTES];
} digest_t;

/* A digest of every key and value in every table. */
static digest_t digest(fx_t *f)
{
    digest_t d;
    svctest_digest(f->store, TABLES, N_TABLES, d.d);
    return d;
}

static void assert_unchanged(fx_t *f, const digest_t *before)
{
    digest_t now = digest(f);
    assert_memory_equal(now.d, before->d, sizeof now.d);
}

/* ---------------------------------------------------------------- messages */

typedef struct {
    const char *principal;
    const char *role;
    Arrears__Envelope *env;
} msg_t;

static receiver_peer_t peer_of(const msg_t *m)
{
    return svctest_peer(m->principal, m->role);
}

static void apply_work(fx_t *f, MDB_txn *txn, void *arg)
{
    receiver_peer_t peer = peer_of(arg);
    memset(&f->reject, 0, sizeof f->reject);
    f->rc = legal_apply(&f->app, txn, &peer, ((msg_t *)arg)->env, &f->reject);
}

static int apply_as(fx_t *f, const char *principal, const char *role, Arrears__Envelope *env)
{
    msg_t m = {principal, role, env};
    in_write(f, apply_work, &m);
    return f->rc;
}

static void assert_refused(fx_t *f, int rc, Arrears__Reject__Code code, const char *field)
{
    svctest_assert_refused(rc, &f->reject, code, field);
}

static void assert_prefix(const char *s, const char *prefix)
{
    if (!s || strncmp(s, prefix, strlen(prefix)) != 0) {
        print_error("\"%s\" does not start with \"%s\"\n", s ? s : "(null)", prefix);
        fail();
    }
}

/* ---- referrals and notices from staging */

typedef struct {
    LegalReferral r;
    Arrears__CaseStatement st;
    Arrears__Borrower b;
    uint8_t person[16];
    char account[32];
} ref_t;

/* A referral legal takes: platform p1, online loan, CNY, first missed 2025-11-01, never
 * paid, the mandate given, a short statement. */
static LegalReferral *referral(ref_t *x, const char *account, const char *jurisdiction,
                               int64_t outstanding)
{
    memset(x, 0, sizeof *x);
    arrears__legal_referral__init(&x->r);
    arrears__case_statement__init(&x->st);
    arrears__borrower__init(&x->b);
    snprintf(x->account, sizeof x->account, "%s", account);
    memset(x->person, account[strlen(account) - 1], sizeof x->person);
    LegalReferral *r = &x->r;
    r->platform = "p1";
    r->account_ref = x->account;
    r->has_referred_at_ms = r->has_product = r->has_outstanding_minor = 1;
    r->referred_at_ms = NOW0 - 3600000;
    r->product = ARREARS__PRODUCT__ONLINE_LOAN;
    r->currency = "CNY";
    r->outstanding_minor = outstanding;
    r->has_principal_minor = r->has_days_past_due = 1;
    r->principal_minor = outstanding;
    r->days_past_due = 121;
    r->first_missed_due_date = "2025-11-01";
    r->time_zone = ZONE;
    r->jurisdiction = (char *)jurisdiction;
    r->reason = "dpd over 120";
    r->has_person_key = 1;
    r->person_key = (ProtobufCBinaryData){sizeof x->person, x->person};
    r->has_may_refer_to_legal = r->may_refer_to_legal = 1;
    x->b.name = "Li Si <b>";
    x->st.as_of_date = "2026-03-02";
    x->st.borrower = &x->b;
    r->statement = &x->st;
    return r;
}

static int refer_from(fx_t *f, const char *principal, const char *role, LegalReferral *r)
{
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_LEGAL_REFERRAL;
    env.legal_referral = r;
    return apply_as(f, principal, role, &env);
}

static int refer_as(fx_t *f, const char *role, LegalReferral *r)
{
    return refer_from(f, "staging", role, r);
}

static int refer(fx_t *f, LegalReferral *r)
{
    return refer_as(f, "service", r);
}

static int notice_from(fx_t *f, const char *principal, const char *account,
                       Arrears__CaseNoticeKind kind)
{
    Arrears__CaseNotice n = ARREARS__CASE_NOTICE__INIT;
    n.platform = "p1";
    n.account_ref = (char *)account;
    n.has_kind = n.has_at_ms = 1;
    n.kind = kind;
    n.at_ms = aclock_now_ms(f->app.clock);
    n.detail = "from staging";
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_NOTICE;
    env.case_notice = &n;
    return apply_as(f, principal, "service", &env);
}

static int notice(fx_t *f, const char *account, Arrears__CaseNoticeKind kind)
{
    return notice_from(f, "staging", account, kind);
}

/* ---- updates from assignees */

/* The local date `days` after today on legal's clock. */
static const char *local_date(fx_t *f, int days, char out[TZ_DATE_LEN + 1])
{
    const tz_zone_t *z = NULL;
    assert_int_equal(tz_cache_get(f->app.zones, ZONE, &z), TZ_OK);
    tz_date_format(tz_local_day(z, aclock_now_ms(f->app.clock) / 1000) + days, out);
    return out;
}

typedef struct {
    const char *case_id;
    Arrears__CaseStatus status;
    int day;              /* the step's date: today + day */
    bool no_date;
    const char *evidence;
    int64_t recovery;
    const char *ref;
    int64_t costs;
    bool hand_back;
    const char *detail;
} step_t;
#define STEP(...) (&(step_t){__VA_ARGS__})

static int update_as(fx_t *f, const char *principal, const char *role, const step_t *s)
{
    char date[TZ_DATE_LEN + 1];
    Arrears__CaseUpdate u = ARREARS__CASE_UPDATE__INIT;
    u.case_id = (char *)s->case_id;
    u.has_status = 1;
    u.status = s->status;
    u.date = s->no_date ? NULL : (char *)local_date(f, s->day, date);
    u.evidence_ref = (char *)s->evidence;
    u.has_recovery_minor = s->recovery != 0;
    u.recovery_minor = s->recovery;
    u.recovery_ref = (char *)s->ref;
    u.has_costs_minor = s->costs != 0;
    u.costs_minor = s->costs;
    u.has_hand_back = u.hand_back = s->hand_back;
    u.detail = (char *)s->detail;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_UPDATE;
    env.case_update = &u;
    return apply_as(f, principal, role, &env);
}

/* An update from a configured assignee, with its own role. */
static int update(fx_t *f, const char *principal, const step_t *s)
{
    return update_as(f, principal, strncmp(principal, "agency", 6) == 0 ? "agency" : "firm", s);
}

static int advance_msg(fx_t *f, const char *role, int64_t to_ms)
{
    Arrears__ClockAdvance m = ARREARS__CLOCK_ADVANCE__INIT;
    m.has_to_ms = 1;
    m.to_ms = to_ms;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CLOCK_ADVANCE;
    env.clock_advance = &m;
    return apply_as(f, "driver", role, &env);
}

static void advance(fx_t *f, int64_t to_ms)
{
    assert_int_equal(aclock_advance_to(f->app.clock, to_ms), ACLOCK_OK);
}

static void sweep_work(fx_t *f, MDB_txn *txn, void *arg)
{
    assert_int_equal(legal_sweep(&f->app, txn, arg), 0);
}

static size_t sweep(fx_t *f)
{
    size_t moved = 99;
    in_write(f, sweep_work, &moved);
    return moved;
}

/* ---------------------------------------------------------------- reading back */

static void case_work(fx_t *f, MDB_txn *txn, void *arg)
{
    arrears__stored_case__free_unpacked(f->kase, NULL);
    f->kase = NULL;
    assert_int_equal(cases_get(f->app.cases, txn, arg, &f->kase), 0);
}

/* The stored case (valid until the next kase()). */
static const StoredCase *kase(fx_t *f, const char *id)
{
    in_read(f, case_work, (void *)id);
    assert_non_null(f->kase);
    return f->kase;
}

static bool case_exists(fx_t *f, const char *id)
{
    in_read(f, case_work, (void *)id);
    return f->kase != NULL;
}

static const StoredStep *last_step(const StoredCase *c)
{
    assert_true(c->n_steps > 0);
    return c->steps[c->n_steps - 1];
}

typedef struct {
    const char *account;
    char id[CASES_ID_MAX + 1];
} open_of_t;

static void open_of_work(fx_t *f, MDB_txn *txn, void *arg)
{
    open_of_t *o = arg;
    assert_int_equal(cases_of_account(f->app.cases, txn, "p1", o->account, o->id), 0);
}

/* The open case of account p1/<account>, "" when none. */
static const char *open_case_of(fx_t *f, const char *account)
{
    static open_of_t o;
    o.account = account;
    in_read(f, open_of_work, &o);
    return o.id;
}

typedef struct {
    const char *who;
    uint32_t n;
} count_t;

static void count_work(fx_t *f, MDB_txn *txn, void *arg)
{
    count_t *c = arg;
    assert_int_equal(cases_open_count(f->app.cases, txn, c->who, &c->n), 0);
}

/* The open cases placed with an assignee now (legal.meta "open/<assignee>"). */
static unsigned open_count(fx_t *f, const char *assignee)
{
    count_t c = {assignee, 99};
    in_read(f, count_work, &c);
    return c.n;
}

typedef struct {
    const char *id;
    int form;
} file_arg_t;

static void file_work(fx_t *f, MDB_txn *txn, void *arg)
{
    file_arg_t *a = arg;
    assert_int_equal(cases_file_get(f->app.cases, txn, a->id, a->form, f->file, CASES_FILE_MAX,
                                     &f->file_len), 0);
}

/* The stored case file in one form: f->file, f->file_len. */
static size_t stored_file(fx_t *f, const char *id, int form)
{
    file_arg_t a = {id, form};
    in_read(f, file_work, &a);
    return f->file_len;
}

/* The messages appended to one outbox since the last look: f->got[0 .. n). */
static size_t news(fx_t *f, int which)
{
    free_got(f);
    outbox_t *ob = which == OUTREACH ? f->app.to_outreach
                 : f->app.to_staging[which == STAGING_1 ? 1 : 0];
    f->n_got = svctest_news(f->store, ob, &f->mark[which], f->got, GOT_MAX);
    return f->n_got;
}

static const Arrears__LegalUpdate *told_staging(fx_t *f, size_t i)
{
    assert_true(i < f->n_got);
    assert_int_equal(f->got[i]->body_case, ARREARS__ENVELOPE__BODY_LEGAL_UPDATE);
    return f->got[i]->legal_update;
}

static const Arrears__CaseAssignment *told_outreach(fx_t *f, size_t i)
{
    assert_true(i < f->n_got);
    assert_int_equal(f->got[i]->body_case, ARREARS__ENVELOPE__BODY_CASE_ASSIGNMENT);
    return f->got[i]->case_assignment;
}

/* Forgets what every outbox got so far. */
static void skip_news(fx_t *f)
{
    for (int which = STAGING; which <= STAGING_1; which++)
        while (news(f, which) > 0)   /* a page at a time */
            ;
    free_got(f);
}

static void assert_no_news(fx_t *f)
{
    assert_int_equal(news(f, STAGING), 0);
    assert_int_equal(news(f, OUTREACH), 0);
    assert_int_equal(news(f, STAGING_1), 0);
}

/* ---- queries */

static void query_work(fx_t *f, MDB_txn *txn, void *arg)
{
    receiver_peer_t peer = peer_of(arg);
    memset(&f->reject, 0, sizeof f->reject);
    f->len = legal_query(&f->app, txn, &peer, ((msg_t *)arg)->env, f->buf, BUF_MAX, &f->reject);
}

/* The reply's length (then f->reply), or 0 with f->reject. */
static size_t query_as(fx_t *f, const char *principal, const char *role, Arrears__Envelope *env)
{
    env->has_request_id = 1;
    env->request_id = 77;
    arrears__envelope__free_unpacked(f->reply, NULL);
    f->reply = NULL;
    msg_t m = {principal, role, env};
    in_read(f, query_work, &m);
    if (f->len > 0) {
        f->reply = arrears__envelope__unpack(NULL, f->len, f->buf);
        assert_non_null(f->reply);
        assert_int_equal(f->reply->request_id, 77);
    }
    return f->len;
}

static const Arrears__CaseList *list_as(fx_t *f, const char *principal, const char *after,
                                        uint32_t max, bool ended)
{
    Arrears__CaseListQuery q = ARREARS__CASE_LIST_QUERY__INIT;
    q.after_case_id = (char *)after;
    q.has_max_cases = max > 0;
    q.max_cases = max;
    q.has_include_ended = q.include_ended = ended;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_LIST_QUERY;
    env.case_list_query = &q;
    if (query_as(f, principal, strncmp(principal, "agency", 6) == 0 ? "agency" : "firm", &env) == 0)
        return NULL;
    assert_int_equal(f->reply->body_case, ARREARS__ENVELOPE__BODY_CASE_LIST);
    return f->reply->case_list;
}

static const Arrears__CaseFileChunk *chunk_as(fx_t *f, const char *principal, const char *id,
                                              int form, uint64_t offset, uint32_t max)
{
    Arrears__CaseFileQuery q = ARREARS__CASE_FILE_QUERY__INIT;
    q.case_id = (char *)id;
    q.has_form = q.has_offset = q.has_max_bytes = 1;
    q.form = form;
    q.offset = offset;
    q.max_bytes = max;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_FILE_QUERY;
    env.case_file_query = &q;
    if (query_as(f, principal, "firm", &env) == 0)
        return NULL;
    assert_int_equal(f->reply->body_case, ARREARS__ENVELOPE__BODY_CASE_FILE_CHUNK);
    return f->reply->case_file_chunk;
}

static const Arrears__LegalReport *report_as(fx_t *f, const char *role, const char *platform)
{
    Arrears__LegalReportQuery q = ARREARS__LEGAL_REPORT_QUERY__INIT;
    q.platform = (char *)platform;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_LEGAL_REPORT_QUERY;
    env.legal_report_query = &q;
    if (query_as(f, "ops", role, &env) == 0)
        return NULL;
    assert_int_equal(f->reply->body_case, ARREARS__ENVELOPE__BODY_LEGAL_REPORT);
    return f->reply->legal_report;
}

/* ---- cases made ready for a test */

/* A small CN-31 debt: the agency's case L000000001, offered; news skipped. */
static const char *agency_case(fx_t *f, const char *account)
{
    ref_t x;
    assert_int_equal(refer(f, referral(&x, account, "CN-31", SMALL)), APPLY_OK);
    assert_string_equal(kase(f, L1)->assignee, "agency-c");
    skip_news(f);
    return L1;
}

/* The agency's case accepted today; news skipped. */
static const char *accepted_agency_case(fx_t *f)
{
    const char *id = agency_case(f, "A1");
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED)), APPLY_OK);
    skip_news(f);
    return id;
}

/* The agency's case accepted at NOW0, filed, and judged 10 days later. */
static const char *judged_agency_case(fx_t *f)
{
    const char *id = accepted_agency_case(f);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_FILED,
                                                 .evidence = "DOCKET-7")), APPLY_OK);
    advance(f, NOW0 + 10 * DAY);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_JUDGMENT,
                                                 .evidence = "J-2026-31")), APPLY_OK);
    skip_news(f);
    return id;
}

/* A big CN debt offered to firm-a and accepted by it today; news skipped. */
static const char *accepted_firm_case(fx_t *f, const char *account)
{
    ref_t x;
    assert_int_equal(refer(f, referral(&x, account, "CN", BIG)), APPLY_OK);
    const char *id = L1;
    assert_string_equal(kase(f, id)->assignee, "firm-a");
    assert_int_equal(update(f, "firm-a", STEP(.case_id = id, .status = S_ACCEPTED)), APPLY_OK);
    skip_news(f);
    return id;
}

/* ---------------------------------------------------------------- referrals */

static void test_eligible_referral_offered_to_least_loaded(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);
    const StoredCase *c = kase(f, L1);
    assert_int_equal(c->status, S_REFERRED);
    assert_string_equal(c->verdict, "eligible");
    assert_string_equal(c->assignee, "firm-a");   /* firms tie at 0 open: by name */
    assert_int_equal(c->opened_ms, NOW0);
    assert_int_equal(c->offered_ms, NOW0);
    assert_int_equal(c->due_ms, NOW0 + 5 * DAY);
    assert_string_equal(c->platform, "p1");
    assert_string_equal(c->account_ref, "A1");
    assert_string_equal(c->currency, "CNY");
    assert_string_equal(c->jurisdiction, "CN");
    assert_string_equal(c->time_zone, ZONE);
    assert_int_equal(c->product, ARREARS__PRODUCT__ONLINE_LOAN);
    assert_int_equal(c->outstanding_minor, BIG);
    assert_int_equal(c->person_key.len, 16);
    assert_string_equal(last_step(c)->what, "offered");
    assert_string_equal(last_step(c)->assignee, "firm-a");
    assert_string_equal(open_case_of(f, "A1"), L1);
    assert_int_equal(open_count(f, "firm-a"), 1);

    assert_int_equal(news(f, STAGING), 1);
    const Arrears__LegalUpdate *u = told_staging(f, 0);
    assert_string_equal(u->case_id, L1);
    assert_string_equal(u->platform, "p1");
    assert_string_equal(u->account_ref, "A1");
    assert_int_equal(u->status, S_REFERRED);
    assert_int_equal(u->at_ms, NOW0);
    assert_prefix(u->detail, "offered: law firm firm-a");
    assert_false(u->time_barred);
    assert_false(u->has_recovery_minor);
    assert_int_equal(news(f, OUTREACH), 0);   /* nobody holds the account before acceptance */

    /* The next big debt goes to the firm with the lower share of its capacity in use. */
    assert_int_equal(refer(f, referral(&x, "A2", "CN", BIG)), APPLY_OK);
    assert_string_equal(kase(f, L2)->assignee, "firm-b");
    assert_int_equal(refer(f, referral(&x, "A3", "CN", BIG)), APPLY_OK);
    assert_string_equal(kase(f, L3)->assignee, "firm-a");   /* 1 of 2 each: by name */
}

static void test_case_file_stored_in_both_forms(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);
    casefile_t want;
    assert_int_equal(casefile_build(L1, &x.r, NOW0, CASES_FILE_MAX, &want), CASEFILE_OK);
    const StoredCase *c = kase(f, L1);
    assert_int_equal(c->file_html_bytes, want.html_len);
    assert_int_equal(c->file_machine_bytes, want.machine_len);

    assert_int_equal(stored_file(f, L1, HTML), want.html_len);
    assert_memory_equal(f->file, want.html, want.html_len);
    assert_non_null(memmem(f->file, f->file_len, "Li Si &lt;b&gt;", 14));
    assert_int_equal(stored_file(f, L1, MACHINE), want.machine_len);
    assert_memory_equal(f->file, want.machine, want.machine_len);
    Arrears__CaseFile *m = arrears__case_file__unpack(NULL, f->file_len, f->file);
    assert_non_null(m);
    assert_string_equal(m->case_id, L1);
    assert_int_equal(m->built_at_ms, NOW0);
    assert_string_equal(m->referral->account_ref, "A1");
    assert_string_equal(m->referral->statement->borrower->name, "Li Si <b>");
    arrears__case_file__free_unpacked(m, NULL);
    casefile_free(&want);
}

static void test_time_barred_and_below_floor_declined(void **state)
{
    fx_t *f = *state;
    ref_t x;
    referral(&x, "A1", "CN", BIG);
    x.r.first_missed_due_date = "2022-01-10";   /* 3 years: barred from 2025-01-11 */
    assert_int_equal(refer(f, &x.r), APPLY_OK);
    const StoredCase *c = kase(f, L1);
    assert_int_equal(c->status, S_DECLINED);
    assert_string_equal(c->verdict, "time_barred");
    assert_string_equal(c->assignee, "");
    assert_int_equal(c->due_ms, 0);
    assert_string_equal(open_case_of(f, "A1"), "");
    assert_int_equal(stored_file(f, L1, HTML), 0);
    assert_int_equal(news(f, STAGING), 1);
    const Arrears__LegalUpdate *u = told_staging(f, 0);
    assert_string_equal(u->case_id, L1);
    assert_int_equal(u->status, S_DECLINED);
    assert_true(u->has_time_barred);
    assert_true(u->time_barred);
    assert_prefix(u->detail, "declined: time-barred since 2025-01-11");
    assert_int_equal(news(f, OUTREACH), 0);

    /* CNY 999.99 is below the CNY 1000.00 floor. */
    assert_int_equal(refer(f, referral(&x, "A2", "CN", 99999)), APPLY_OK);
    c = kase(f, L2);
    assert_int_equal(c->status, S_DECLINED);
    assert_string_equal(c->verdict, "below_floor");
    assert_int_equal(news(f, STAGING), 1);
    u = told_staging(f, 0);
    assert_int_equal(u->status, S_DECLINED);
    assert_false(u->time_barred);
    assert_non_null(strstr(u->detail, "below the floor 1000.00 CNY"));
    assert_int_equal(news(f, OUTREACH), 0);
    assert_int_equal(open_count(f, "firm-a") + open_count(f, "firm-b"), 0);
}

static void break_referral(ref_t *x, int i)
{
    LegalReferral *r = &x->r;
    switch (i) {
    case 0: r->currency = "ZZZ"; break;
    case 1: r->currency = "cny"; break;
    case 2: r->time_zone = "Mars/Olympus_Mons"; break;
    case 3: r->time_zone = NULL; break;
    case 4: r->first_missed_due_date = "2026-02-30"; break;
    case 5: r->first_missed_due_date = NULL; break;
    case 6: r->last_payment_date = "2025-13-01"; break;
    case 7: r->outstanding_minor = -1; break;
    case 8: r->has_outstanding_minor = 0; break;
    case 9: r->product = ARREARS__PRODUCT__PRODUCT_UNSPECIFIED; break;
    case 10: r->product = 9; break;
    case 11: r->account_ref = ""; break;
    default: r->platform = NULL; break;
    }
}

static void test_malformed_referrals_refused_change_nothing(void **state)
{
    fx_t *f = *state;
    static const char *const fields[] = {
        "currency", "currency", "time_zone", "time_zone", "first_missed_due_date",
        "first_missed_due_date", "last_payment_date", "outstanding_minor", "outstanding_minor",
        "product", "product", "account_ref", "platform"};
    digest_t before = digest(f);
    for (int i = 0; i < (int)(sizeof fields / sizeof fields[0]); i++) {
        ref_t x;
        referral(&x, "A1", "CN", BIG);
        break_referral(&x, i);
        assert_refused(f, refer(f, &x.r), R_INVALID, fields[i]);
        assert_unchanged(f, &before);
    }
    /* Only staging (role service) refers. */
    ref_t x;
    assert_refused(f, refer_as(f, "firm", referral(&x, "A1", "CN", BIG)), R_UNAUTHORIZED, NULL);
    assert_unchanged(f, &before);
    assert_false(case_exists(f, L1));
    assert_no_news(f);
}

static void test_second_referral_of_open_case_conflicts(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);
    skip_news(f);
    digest_t before = digest(f);
    referral(&x, "A1", "CN", BIG)->referred_at_ms = NOW0;   /* a later referral */
    assert_refused(f, refer(f, &x.r), R_CONFLICT, "account_ref");
    assert_non_null(strstr(f->reject.reason, L1));
    assert_unchanged(f, &before);
    assert_no_news(f);
    assert_false(case_exists(f, L2));

    /* Once the case has ended, the account may be referred again. */
    assert_int_equal(notice(f, "A1", ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED), APPLY_OK);
    assert_int_equal(refer(f, &x.r), APPLY_OK);
    assert_string_equal(open_case_of(f, "A1"), L2);
}

/* After a restore staging sends again what it re-derives, at the same instants and on a
 * new stream: a referral or a notice legal already took is a duplicate that changes
 * nothing — a declined case is not declined twice, an open one is no conflict, a
 * complaint is not counted twice. */
static void test_referral_and_notice_again_are_duplicates(void **state)
{
    fx_t *f = *state;
    ref_t x;
    const char *id = accepted_firm_case(f, "A1");
    assert_int_equal(notice(f, "A1", ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT), APPLY_OK);
    assert_int_equal(refer(f, referral(&x, "A2", "CN", 99999)), APPLY_OK);   /* declined */
    assert_int_equal(kase(f, L2)->status, S_DECLINED);
    skip_news(f);
    size_t steps = kase(f, id)->n_steps;
    digest_t before = digest(f);
    assert_int_equal(refer(f, referral(&x, "A2", "CN", 99999)), APPLY_DUPLICATE);
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_DUPLICATE);
    assert_int_equal(notice(f, "A1", ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT), APPLY_DUPLICATE);
    assert_unchanged(f, &before);
    assert_no_news(f);
    assert_int_equal(kase(f, id)->complaints, 1);
    assert_int_equal(kase(f, id)->n_steps, steps);
    assert_false(case_exists(f, L3));
}

/* ---------------------------------------------------------------- the lifecycle */

static void test_agency_accepts_files_and_wins_judgment(void **state)
{
    fx_t *f = *state;
    const char *id = agency_case(f, "A1");
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED)), APPLY_OK);
    const StoredCase *c = kase(f, id);
    assert_int_equal(c->status, S_ACCEPTED);
    assert_int_equal(c->accepted_ms, NOW0);
    assert_int_equal(c->due_ms, NOW0 + 30 * DAY);   /* the recall check */
    assert_string_equal(last_step(c)->what, "step");
    assert_int_equal(news(f, OUTREACH), 1);
    const Arrears__CaseAssignment *a = told_outreach(f, 0);
    assert_string_equal(a->case_id, id);
    assert_string_equal(a->platform, "p1");
    assert_string_equal(a->account_ref, "A1");
    assert_string_equal(a->assignee, "agency-c");
    assert_true(a->active);
    assert_int_equal(a->at_ms, NOW0);
    assert_int_equal(a->person_key.len, 16);
    assert_int_equal(news(f, STAGING), 1);
    assert_int_equal(told_staging(f, 0)->status, S_ACCEPTED);

    advance(f, NOW0 + DAY);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_FILED,
                                                 .evidence = "DOCKET-7")), APPLY_OK);
    c = kase(f, id);
    assert_int_equal(c->status, S_FILED);
    assert_int_equal(c->due_ms, 0);   /* filed: no recall any more */
    assert_string_equal(last_step(c)->what, "step");
    assert_string_equal(last_step(c)->evidence_ref, "DOCKET-7");
    assert_int_equal(last_step(c)->day, tz_days_from_civil(2026, 3, 3));
    assert_int_equal(news(f, STAGING), 1);
    assert_int_equal(told_staging(f, 0)->status, S_FILED);
    assert_int_equal(told_staging(f, 0)->at_ms, NOW0 + DAY);
    assert_int_equal(news(f, OUTREACH), 0);

    advance(f, NOW0 + 10 * DAY);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_JUDGMENT,
                                                 .evidence = "J-2026-31")), APPLY_OK);
    c = kase(f, id);
    assert_int_equal(c->status, S_JUDGMENT);
    assert_int_equal(c->judgment_ms, NOW0 + 10 * DAY);
    assert_int_equal(news(f, STAGING), 1);
    assert_int_equal(told_staging(f, 0)->status, S_JUDGMENT);
}

static void test_enforcement_recovery_commission_and_close(void **state)
{
    fx_t *f = *state;
    const char *id = judged_agency_case(f);
    /* 18% of 25.25 is 4.545: half-even 4.54 (half-up would say 4.55). */
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ENFORCEMENT,
                                                 .evidence = "EXE-1", .recovery = 2525,
                                                 .ref = "R1")), APPLY_OK);
    const StoredStep *s = last_step(kase(f, id));
    assert_int_equal(f->kase->status, S_ENFORCEMENT);
    assert_string_equal(s->what, "step");
    assert_int_equal(s->recovery_minor, 2525);
    assert_string_equal(s->recovery_ref, "R1");
    assert_int_equal(s->commission_minor, 454);
    assert_int_equal(news(f, STAGING), 1);
    const Arrears__LegalUpdate *u = told_staging(f, 0);
    assert_int_equal(u->status, S_ENFORCEMENT);
    assert_true(u->has_recovery_minor);
    assert_int_equal(u->recovery_minor, 2525);
    assert_string_equal(u->recovery_ref, "R1");

    /* A money note in the same state: 18% of 25.75 is 4.635, half-even 4.64; costs. */
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ENFORCEMENT,
                                                 .recovery = 2575, .ref = "R2", .costs = 1200)),
                     APPLY_OK);
    s = last_step(kase(f, id));
    assert_string_equal(s->what, "money");
    assert_int_equal(s->commission_minor, 464);
    assert_int_equal(s->costs_minor, 1200);
    assert_int_equal(news(f, STAGING), 1);
    u = told_staging(f, 0);
    assert_int_equal(u->recovery_minor, 2575);
    assert_string_equal(u->recovery_ref, "R2");
    assert_int_equal(u->costs_minor, 1200);
    assert_int_equal(news(f, OUTREACH), 0);

    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_CLOSED,
                                                 .evidence = "CL-1")), APPLY_OK);
    assert_int_equal(kase(f, id)->status, S_CLOSED);
    assert_int_equal(f->kase->due_ms, 0);
    assert_int_equal(news(f, OUTREACH), 1);
    assert_string_equal(told_outreach(f, 0)->assignee, "agency-c");
    assert_false(told_outreach(f, 0)->active);
    assert_int_equal(news(f, STAGING), 1);
    assert_int_equal(told_staging(f, 0)->status, S_CLOSED);
    assert_string_equal(open_case_of(f, "A1"), "");
    assert_int_equal(open_count(f, "agency-c"), 0);
    /* Ended: nothing more is taken. */
    assert_refused(f, update(f, "agency-c", STEP(.case_id = id, .status = S_CLOSED,
                                                  .recovery = 1, .ref = "R3")), R_CONFLICT, NULL);
}

static void test_illegal_moves_refused_change_nothing(void **state)
{
    fx_t *f = *state;
    const char *id = accepted_firm_case(f, "A1");   /* accepted on 2026-03-02 */
    advance(f, NOW0 + 2 * DAY);                       /* today 2026-03-04 */
    static const struct {
        step_t s;
        Arrears__Reject__Code code;
        const char *field;
    } bad[] = {
        {{.status = S_JUDGMENT, .evidence = "J-1"}, R_CONFLICT, "status"},   /* skips filing */
        {{.status = S_HEARING, .evidence = "H-1"}, R_CONFLICT, "status"},
        {{.status = S_REFERRED}, R_CONFLICT, "status"},                      /* backwards */
        {{.status = S_ACCEPTED}, R_CONFLICT, "status"},                      /* no money */
        {{.status = ARREARS__CASE_STATUS__CASE_STATUS_UNSPECIFIED}, R_CONFLICT, "status"},
        {{.status = S_FILED}, R_CONFLICT, "status"},                         /* no evidence */
        {{.status = S_DEMAND, .evidence = "DL-1", .day = 1}, R_CONFLICT, "status"},   /* future */
        {{.status = S_DEMAND, .evidence = "DL-1", .day = -3}, R_CONFLICT, "status"},  /* < accepted */
        {{.status = S_DEMAND, .evidence = "DL-1", .recovery = 100}, R_INVALID, "recovery_ref"},
        {{.status = S_DEMAND, .evidence = "DL-1", .recovery = 100, .ref = "R 1"}, R_INVALID,
         "recovery_ref"},
        {{.status = S_DEMAND, .evidence = "DL-1", .costs = -5}, R_INVALID, "recovery_minor"},
        {{.status = S_DEMAND, .evidence = "DL-1", .no_date = true}, R_INVALID, "date"},
        {{.status = S_DEMAND, .evidence = ""}, R_INVALID, "evidence_ref"},
    };
    digest_t before = digest(f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        step_t s = bad[i].s;
        s.case_id = id;
        assert_refused(f, update(f, "firm-a", &s), bad[i].code, bad[i].field);
        assert_unchanged(f, &before);
    }
    assert_no_news(f);
    assert_int_equal(kase(f, id)->status, S_ACCEPTED);
    /* The legal move, dated two days back (on the acceptance day), goes. */
    assert_int_equal(update(f, "firm-a", STEP(.case_id = id, .status = S_DEMAND,
                                               .evidence = "DL-1", .day = -2)), APPLY_OK);
    assert_int_equal(kase(f, id)->status, S_DEMAND);
}

static void test_recovery_ref_again_duplicate_or_conflict(void **state)
{
    fx_t *f = *state;
    const char *id = accepted_agency_case(f);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED,
                                                 .recovery = 1000, .ref = "R1")), APPLY_OK);
    assert_int_equal(news(f, STAGING), 1);
    assert_int_equal(told_staging(f, 0)->recovery_minor, 1000);
    skip_news(f);
    digest_t before = digest(f);
    /* The same money reported twice is counted once. */
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED,
                                                 .recovery = 1000, .ref = "R1")), APPLY_DUPLICATE);
    assert_unchanged(f, &before);
    /* The same reference with another amount: one of the two is wrong. */
    assert_refused(f, update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED,
                                                  .recovery = 1001, .ref = "R1")), R_CONFLICT,
                   "recovery_ref");
    assert_unchanged(f, &before);
    assert_no_news(f);
    const StoredCase *c = kase(f, id);
    int64_t total = 0;
    for (size_t i = 0; i < c->n_steps; i++)
        total += c->steps[i]->recovery_minor;
    assert_int_equal(total, 1000);
}

static void test_foreign_updates_unauthorized_like_unknown_case(void **state)
{
    fx_t *f = *state;
    step_t s = {.case_id = L1, .status = S_ACCEPTED};
    /* Before the case exists. */
    assert_refused(f, update(f, "firm-b", &s), R_UNAUTHORIZED, "case_id");
    char unknown[REJECT_REASON_MAX];
    snprintf(unknown, sizeof unknown, "%s", f->reject.reason);

    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);   /* firm-a's */
    skip_news(f);
    digest_t before = digest(f);
    assert_refused(f, update(f, "firm-b", &s), R_UNAUTHORIZED, "case_id");
    assert_string_equal(f->reject.reason, unknown);   /* learns nothing about the case */
    assert_refused(f, update_as(f, "firm-z", "firm", &s), R_UNAUTHORIZED, NULL);
    assert_refused(f, update_as(f, "p1", "platform", &s), R_UNAUTHORIZED, NULL);
    assert_refused(f, update_as(f, "firm-a", "service", &s), R_UNAUTHORIZED, NULL);
    assert_unchanged(f, &before);
    assert_no_news(f);
    assert_int_equal(kase(f, L1)->status, S_REFERRED);
}

static void test_hand_back_before_filing_goes_elsewhere(void **state)
{
    fx_t *f = *state;
    const char *id = accepted_firm_case(f, "A1");
    assert_int_equal(update(f, "firm-a", STEP(.case_id = id, .hand_back = true)), APPLY_OK);
    const StoredCase *c = kase(f, id);
    assert_int_equal(c->status, S_REFERRED);
    assert_string_equal(c->assignee, "firm-b");
    assert_int_equal(c->n_tried, 1);
    assert_string_equal(c->tried[0], "firm-a");
    assert_int_equal(c->recalls, 0);   /* returned, not recalled */
    assert_int_equal(c->accepted_ms, 0);
    assert_int_equal(c->offered_ms, NOW0);
    assert_int_equal(c->due_ms, NOW0 + 5 * DAY);
    assert_int_equal(open_count(f, "firm-a"), 0);
    assert_int_equal(open_count(f, "firm-b"), 1);
    assert_int_equal(news(f, OUTREACH), 1);
    assert_string_equal(told_outreach(f, 0)->assignee, "firm-a");
    assert_false(told_outreach(f, 0)->active);
    assert_int_equal(news(f, STAGING), 2);
    assert_int_equal(told_staging(f, 0)->status, S_REFERRED);
    assert_prefix(told_staging(f, 0)->detail, "handed_back");
    assert_prefix(told_staging(f, 1)->detail, "offered: law firm firm-b");
    /* firm-a no longer has it. */
    assert_refused(f, update(f, "firm-a", STEP(.case_id = id, .status = S_ACCEPTED)),
                   R_UNAUTHORIZED, "case_id");

    /* Once filed, the firm on record stays. */
    assert_int_equal(update(f, "firm-b", STEP(.case_id = id, .status = S_ACCEPTED)), APPLY_OK);
    assert_int_equal(update(f, "firm-b", STEP(.case_id = id, .status = S_FILED,
                                               .evidence = "D-1")), APPLY_OK);
    skip_news(f);
    digest_t before = digest(f);
    assert_refused(f, update(f, "firm-b", STEP(.case_id = id, .hand_back = true)), R_CONFLICT,
                   "hand_back");
    assert_unchanged(f, &before);
    assert_string_equal(kase(f, id)->assignee, "firm-b");
}

/* ---------------------------------------------------------------- the sweep */

static void test_sweep_moves_offer_past_its_deadline(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);
    skip_news(f);
    advance(f, NOW0 + 5 * DAY - 1);
    assert_int_equal(sweep(f), 0);
    assert_no_news(f);
    assert_string_equal(kase(f, L1)->assignee, "firm-a");

    advance(f, NOW0 + 5 * DAY);
    assert_int_equal(sweep(f), 1);
    const StoredCase *c = kase(f, L1);
    assert_int_equal(c->status, S_REFERRED);
    assert_string_equal(c->assignee, "firm-b");
    assert_int_equal(c->recalls, 1);
    assert_int_equal(c->n_tried, 1);
    assert_string_equal(c->tried[0], "firm-a");
    assert_int_equal(c->offered_ms, NOW0 + 5 * DAY);
    assert_int_equal(c->due_ms, NOW0 + 10 * DAY);
    const StoredStep *missed = c->steps[c->n_steps - 2];
    assert_string_equal(missed->what, "deadline_passed");
    assert_string_equal(missed->assignee, "firm-a");
    assert_int_equal(open_count(f, "firm-a"), 0);
    assert_int_equal(open_count(f, "firm-b"), 1);
    assert_int_equal(news(f, STAGING), 2);
    assert_prefix(told_staging(f, 0)->detail, "deadline_passed: not accepted by the deadline");
    assert_prefix(told_staging(f, 1)->detail, "offered: law firm firm-b");
    assert_int_equal(news(f, OUTREACH), 0);   /* it never held the account */
    assert_int_equal(sweep(f), 0);
}

static void test_sweep_recalls_accepted_case_without_progress(void **state)
{
    fx_t *f = *state;
    const char *id = accepted_agency_case(f);
    advance(f, NOW0 + 30 * DAY - 1);
    assert_int_equal(sweep(f), 0);
    assert_no_news(f);

    advance(f, NOW0 + 30 * DAY);
    assert_int_equal(sweep(f), 1);
    const StoredCase *c = kase(f, id);
    assert_int_equal(c->status, S_REFERRED);
    assert_string_equal(c->assignee, "");   /* no other agency serves CN-31 */
    assert_int_equal(c->recalls, 1);
    assert_int_equal(c->accepted_ms, 0);
    assert_string_equal(c->tried[0], "agency-c");
    assert_non_null(strstr(c->waiting_reason, "1 already had the case"));
    assert_int_equal(open_count(f, "agency-c"), 0);
    assert_int_equal(news(f, OUTREACH), 1);
    assert_string_equal(told_outreach(f, 0)->assignee, "agency-c");
    assert_false(told_outreach(f, 0)->active);
    assert_int_equal(news(f, STAGING), 2);
    assert_prefix(told_staging(f, 0)->detail, "recalled: no progress");
    assert_prefix(told_staging(f, 1)->detail, "waiting: every agency");
    assert_int_equal(told_staging(f, 1)->status, S_REFERRED);
}

static void test_waiting_case_placed_once_capacity_frees(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN-31", SMALL)), APPLY_OK);
    assert_int_equal(refer(f, referral(&x, "A2", "CN-31", SMALL)), APPLY_OK);
    const StoredCase *c = kase(f, L2);
    assert_int_equal(c->status, S_REFERRED);
    assert_string_equal(c->assignee, "");
    assert_non_null(strstr(c->waiting_reason, "1 at capacity"));
    assert_int_equal(news(f, STAGING), 2);
    const Arrears__LegalUpdate *u = told_staging(f, 1);
    assert_string_equal(u->case_id, L2);
    assert_int_equal(u->status, S_REFERRED);
    assert_prefix(u->detail, "waiting: every agency (below the law-firm threshold) serving CN-31");
    /* Nothing changed: the sweep says nothing new. */
    assert_int_equal(sweep(f), 0);
    assert_no_news(f);
    const Arrears__LegalReport *rep = report_as(f, "operator", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->waiting, 1);

    assert_int_equal(update(f, "agency-c", STEP(.case_id = L1, .status = S_ACCEPTED)), APPLY_OK);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = L1, .status = S_CLOSED,
                                                 .evidence = "CL-1")), APPLY_OK);
    skip_news(f);
    advance(f, NOW0 + 60000);
    assert_int_equal(sweep(f), 1);
    c = kase(f, L2);
    assert_string_equal(c->assignee, "agency-c");
    assert_string_equal(c->waiting_reason, "");
    assert_int_equal(c->offered_ms, NOW0 + 60000);
    assert_int_equal(c->due_ms, NOW0 + 60000 + 3 * DAY);
    assert_int_equal(news(f, STAGING), 1);
    assert_prefix(told_staging(f, 0)->detail, "offered: agency agency-c");
    assert_int_equal(sweep(f), 0);
}

/* ---------------------------------------------------------------- notices */

static void test_notices_count_complaint_and_close_case(void **state)
{
    fx_t *f = *state;
    const char *id = accepted_firm_case(f, "A1");
    assert_int_equal(notice(f, "A1", ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT), APPLY_OK);
    const StoredCase *c = kase(f, id);
    assert_int_equal(c->complaints, 1);
    assert_int_equal(c->status, S_ACCEPTED);
    assert_string_equal(last_step(c)->what, "complaint");
    assert_string_equal(last_step(c)->assignee, "firm-a");

    digest_t before = digest(f);
    assert_refused(f, notice(f, "A1", ARREARS__CASE_NOTICE_KIND__CASE_NOTICE_UNSPECIFIED),
                   R_INVALID, NULL);
    assert_unchanged(f, &before);
    assert_int_equal(notice(f, "A9", ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT), APPLY_OK);
    assert_unchanged(f, &before);   /* no case: nothing to record */
    assert_no_news(f);

    assert_int_equal(notice(f, "A1", ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED), APPLY_OK);
    c = kase(f, id);
    assert_int_equal(c->status, S_CLOSED);
    assert_int_equal(c->due_ms, 0);
    assert_string_equal(open_case_of(f, "A1"), "");
    assert_int_equal(open_count(f, "firm-a"), 0);
    assert_int_equal(news(f, OUTREACH), 1);
    const Arrears__CaseAssignment *a = told_outreach(f, 0);
    assert_string_equal(a->case_id, id);
    assert_string_equal(a->assignee, "firm-a");
    assert_false(a->active);
    /* The firm sees it ended in its list. */
    const Arrears__CaseList *l = list_as(f, "firm-a", NULL, 0, true);
    assert_int_equal(l->n_cases, 1);
    assert_int_equal(l->cases[0]->status, S_CLOSED);
    /* Its own closing report, on its way while legal closed the case: a duplicate. */
    digest_t ended = digest(f);
    assert_int_equal(update(f, "firm-a", STEP(.case_id = id, .status = S_CLOSED,
                                              .evidence = "CL-9")), APPLY_DUPLICATE);
    assert_unchanged(f, &ended);
    assert_no_news(f);
}

/* ---------------------------------------------------------------- limits */

/* A notice whose platform is over 64 bytes (a platform is a principal, as in
 * LegalReferral) is bad input: a permanent refusal that changes nothing, never an
 * internal error — with 200 bytes "<platform>/<account_ref>" is over the account key's
 * limit (CASES_EKEY), which the receiver answers by refusing the whole batch as busy,
 * so staging would resend it forever. */
static void test_notice_with_overlong_platform_refused(void **state)
{
    fx_t *f = *state;
    (void)accepted_firm_case(f, "A1");
    char platform[201];
    memset(platform, 'p', sizeof platform - 1);
    platform[sizeof platform - 1] = '\0';
    Arrears__CaseNotice n = ARREARS__CASE_NOTICE__INIT;
    n.platform = platform;
    n.account_ref = "A1";
    n.has_kind = 1;
    n.kind = ARREARS__CASE_NOTICE_KIND__NOTICE_COMPLAINT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_NOTICE;
    env.case_notice = &n;
    digest_t before = digest(f);
    assert_refused(f, apply_as(f, "staging", "service", &env), R_INVALID, NULL);
    assert_unchanged(f, &before);
}

/* A case's history holds CASES_STEPS_MAX steps. The report that would pass that is
 * refused permanently with a reason and changes nothing; an internal error instead
 * makes the receiver refuse the whole batch (every sender's messages in it) as busy,
 * and the assignee's resends wedge legal's stream processing. */
static void test_update_past_history_limit_refused(void **state)
{
    fx_t *f = *state;
    const char *id = accepted_agency_case(f);
    int rc = APPLY_OK;
    size_t notes = 0;
    while (rc == APPLY_OK && notes < CASES_STEPS_MAX) {
        rc = update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED, .costs = 1));
        notes += rc == APPLY_OK;
    }
    /* An assignee's reports stop where legal's reserve begins: 3 steps + 445 notes. */
    size_t full = CASES_STEPS_MAX - CASES_STEPS_RESERVED;
    assert_int_equal(kase(f, id)->n_steps, full);
    assert_int_equal(notes, full - 3);
    assert_int_equal(f->reject.code, ARREARS__REJECT__CODE__TOO_LARGE);
    skip_news(f);
    digest_t before = digest(f);
    rc = update(f, "agency-c", STEP(.case_id = id, .status = S_ACCEPTED, .costs = 1));
    if (rc != APPLY_REJECTED) {
        print_error("the update past the history limit returned %d (%s), not a refusal\n", rc,
                    cases_strerror(rc));
        fail();
    }
    assert_int_equal(f->reject.klass, ARREARS__REJECT__CLASS__PERMANENT);
    assert_unchanged(f, &before);
    assert_no_news(f);
}

/* ---------------------------------------------------------------- queries */

static void test_case_list_own_cases_paged(void **state)
{
    fx_t *f = *state;
    ref_t x;
    for (int i = 1; i <= 3; i++) {
        char account[8];
        snprintf(account, sizeof account, "A%d", i);
        assert_int_equal(refer(f, referral(&x, account, "CN", BIG)), APPLY_OK);
    }   /* L1 firm-a, L2 firm-b, L3 firm-a */
    const Arrears__CaseList *l = list_as(f, "firm-a", NULL, 0, false);
    assert_non_null(l);
    assert_int_equal(l->n_cases, 2);
    assert_string_equal(l->cases[0]->case_id, L1);
    assert_string_equal(l->cases[1]->case_id, L3);
    assert_null(l->next_after);
    const Arrears__CaseSummary *s = l->cases[0];
    const StoredCase *c = kase(f, L1);
    assert_int_equal(s->status, S_REFERRED);
    assert_true(s->has_accept_by_ms);
    assert_int_equal(s->accept_by_ms, NOW0 + 5 * DAY);
    assert_int_equal(s->offered_at_ms, NOW0);
    assert_string_equal(s->platform, "p1");
    assert_string_equal(s->account_ref, "A1");
    assert_string_equal(s->currency, "CNY");
    assert_int_equal(s->outstanding_minor, BIG);
    assert_string_equal(s->jurisdiction, "CN");
    assert_int_equal(s->product, ARREARS__PRODUCT__ONLINE_LOAN);
    assert_int_equal(s->file_html_bytes, c->file_html_bytes);
    assert_int_equal(s->file_machine_bytes, c->file_machine_bytes);
    l = list_as(f, "firm-b", NULL, 0, false);
    assert_int_equal(l->n_cases, 1);
    assert_string_equal(l->cases[0]->case_id, L2);

    l = list_as(f, "firm-a", NULL, 1, false);
    assert_int_equal(l->n_cases, 1);
    assert_string_equal(l->cases[0]->case_id, L1);
    assert_string_equal(l->next_after, L1);
    l = list_as(f, "firm-a", L1, 1, false);
    assert_int_equal(l->n_cases, 1);
    assert_string_equal(l->cases[0]->case_id, L3);
    l = list_as(f, "firm-a", L3, 1, false);
    assert_int_equal(l->n_cases, 0);
    assert_null(l->next_after);

    /* An ended case leaves the list, unless asked for. */
    assert_int_equal(update(f, "firm-a", STEP(.case_id = L1, .status = S_ACCEPTED)), APPLY_OK);
    assert_int_equal(update(f, "firm-a", STEP(.case_id = L1, .status = S_CLOSED,
                                               .evidence = "CL-1")), APPLY_OK);
    l = list_as(f, "firm-a", NULL, 0, false);
    assert_int_equal(l->n_cases, 1);
    assert_string_equal(l->cases[0]->case_id, L3);
    l = list_as(f, "firm-a", NULL, 0, true);
    assert_int_equal(l->n_cases, 2);
    assert_int_equal(l->cases[0]->status, S_CLOSED);
    assert_false(l->cases[0]->has_accept_by_ms);

    Arrears__CaseListQuery q = ARREARS__CASE_LIST_QUERY__INIT;
    Arrears__Envelope env = ARREARS__ENVELOPE__INIT;
    env.body_case = ARREARS__ENVELOPE__BODY_CASE_LIST_QUERY;
    env.case_list_query = &q;
    assert_int_equal(query_as(f, "p1", "platform", &env), 0);
    assert_int_equal(f->reject.code, R_UNAUTHORIZED);
}

/* CaseList.next_after is "absent at the end" (legal.proto): a page that ends with the
 * assignee's last case has none. */
static void test_case_list_last_page_has_no_next_after(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);   /* firm-a */
    assert_int_equal(refer(f, referral(&x, "A2", "CN", BIG)), APPLY_OK);   /* firm-b */
    assert_int_equal(refer(f, referral(&x, "A3", "CN", BIG)), APPLY_OK);   /* firm-a */
    const Arrears__CaseList *l = list_as(f, "firm-a", NULL, 2, false);
    assert_non_null(l);
    assert_int_equal(l->n_cases, 2);
    assert_string_equal(l->cases[1]->case_id, L3);
    assert_null(l->next_after);
}

static void test_case_file_chunks_rebuild_stored_file(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);
    size_t total = stored_file(f, L1, HTML);
    assert_true(total > 2000);
    uint8_t *whole = malloc(total);
    assert_non_null(whole);
    uint64_t offset = 0;
    uint8_t sha[crypto_hash_sha256_BYTES] = {0};
    int chunks = 0;
    while (offset < total) {
        const Arrears__CaseFileChunk *c = chunk_as(f, "firm-a", L1, HTML, offset, 1000);
        assert_non_null(c);
        assert_string_equal(c->case_id, L1);
        assert_int_equal(c->form, HTML);
        assert_int_equal(c->total_bytes, total);
        assert_int_equal(c->offset, offset);
        assert_true(c->data.len > 0 && c->data.len <= 1000);
        assert_true(offset + c->data.len <= total);
        assert_int_equal(c->sha256.len, sizeof sha);
        memcpy(whole + offset, c->data.data, c->data.len);
        memcpy(sha, c->sha256.data, sizeof sha);
        offset += c->data.len;
        chunks++;
    }
    assert_int_equal(chunks, (int)((total + 999) / 1000));
    assert_memory_equal(whole, f->file, total);
    uint8_t mine[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(mine, whole, total);
    assert_memory_equal(mine, sha, sizeof mine);
    free(whole);

    /* The machine form in one chunk (the default size). */
    size_t machine = stored_file(f, L1, MACHINE);
    const Arrears__CaseFileChunk *c = chunk_as(f, "firm-a", L1, MACHINE, 0, 0);
    assert_non_null(c);
    assert_int_equal(c->total_bytes, machine);
    assert_int_equal(c->data.len, machine);
    assert_memory_equal(c->data.data, f->file, machine);

    /* Another firm's case and an unknown one look the same. */
    assert_null(chunk_as(f, "firm-b", L1, HTML, 0, 1000));
    assert_int_equal(f->reject.code, R_UNAUTHORIZED);
    char foreign[REJECT_REASON_MAX];
    snprintf(foreign, sizeof foreign, "%s", f->reject.reason);
    assert_null(chunk_as(f, "firm-a", "L000000099", HTML, 0, 1000));
    assert_int_equal(f->reject.code, R_UNAUTHORIZED);
    assert_string_equal(f->reject.reason, foreign);
    assert_null(chunk_as(f, "firm-a", L1, 0, 0, 1000));
    assert_int_equal(f->reject.code, R_INVALID);
    assert_null(chunk_as(f, "firm-a", L1, HTML, 0, 262145));
    assert_int_equal(f->reject.code, R_INVALID);
    assert_null(chunk_as(f, "firm-a", L1, HTML, total + 1, 1000));
    assert_int_equal(f->reject.code, R_INVALID);
}

static const Arrears__AssigneeFigures *row(const Arrears__LegalReport *rep, const char *who)
{
    for (size_t i = 0; i < rep->n_assignees; i++)
        if (strcmp(rep->assignees[i]->assignee, who) == 0)
            return rep->assignees[i];
    print_error("no row for %s\n", who);
    fail();
    return NULL;
}

static void test_report_per_assignee(void **state)
{
    fx_t *f = *state;
    /* L1: the agency's, judged 10 days after acceptance, 25.25 recovered. */
    const char *id = judged_agency_case(f);
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ENFORCEMENT,
                                                 .evidence = "EXE-1", .recovery = 2525,
                                                 .ref = "R1")), APPLY_OK);
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A2", "CN", BIG)), APPLY_OK);   /* L2: firm-a */
    referral(&x, "A3", "CN", BIG);
    x.r.first_missed_due_date = "2022-01-10";                              /* L3: declined */
    assert_int_equal(refer(f, &x.r), APPLY_OK);

    const Arrears__LegalReport *rep = report_as(f, "operator", NULL);
    assert_non_null(rep);
    assert_int_equal(rep->referrals, 3);
    assert_int_equal(rep->declined, 1);
    assert_int_equal(rep->waiting, 0);
    assert_int_equal(rep->n_declined_by_reason, 1);
    assert_string_equal(rep->declined_by_reason[0], "time_barred=1");
    assert_int_equal(rep->n_assignees, 2);
    const Arrears__AssigneeFigures *a = row(rep, "agency-c");
    assert_string_equal(a->kind, "agency");
    assert_string_equal(a->currency, "CNY");
    assert_int_equal(a->cases, 1);
    assert_int_equal(a->open, 1);
    assert_int_equal(a->judgments, 1);
    assert_int_equal(a->recalled, 0);
    assert_int_equal(a->placed_minor, SMALL);
    assert_int_equal(a->recovered_minor, 2525);
    assert_int_equal(a->recovery_rate_bps, 2525 * 10000 / SMALL);   /* 50 */
    assert_int_equal(a->commission_minor, 454);
    assert_int_equal(a->costs_minor, 0);
    assert_true(a->has_median_days_to_judgment);
    assert_int_equal(a->median_days_to_judgment, 10);
    assert_int_equal(a->complaints, 0);
    const Arrears__AssigneeFigures *b = row(rep, "firm-a");
    assert_string_equal(b->kind, "firm");
    assert_int_equal(b->cases, 1);
    assert_int_equal(b->open, 1);
    assert_int_equal(b->judgments, 0);
    assert_int_equal(b->placed_minor, BIG);
    assert_int_equal(b->recovered_minor, 0);
    assert_int_equal(b->recovery_rate_bps, 0);
    assert_false(b->has_median_days_to_judgment);

    /* Per platform; and never for a firm. */
    rep = report_as(f, "service", "p2");
    assert_non_null(rep);
    assert_int_equal(rep->referrals, 0);
    assert_int_equal(rep->n_assignees, 0);
    assert_null(report_as(f, "firm", NULL));
    assert_int_equal(f->reject.code, R_UNAUTHORIZED);
}

/* ---------------------------------------------------------------- the clock */

static void meta_work(fx_t *f, MDB_txn *txn, void *arg)
{
    assert_int_equal(cases_meta_get(f->app.cases, txn, "clock_ms", 0, arg), 0);
}

static void test_clock_advance_busy_while_unacked(void **state)
{
    fx_t *f = *state;
    f->unacked = 2;
    assert_refused(f, advance_msg(f, "operator", NOW0 + 3600000), R_BUSY, "to_ms");
    assert_int_equal(aclock_now_ms(f->app.clock), NOW0 + 3600000);
    f->unacked = 0;
    assert_int_equal(advance_msg(f, "operator", NOW0 + 3600000), APPLY_OK);
    uint64_t clock_ms = 0;
    in_read(f, meta_work, &clock_ms);
    assert_int_equal(clock_ms, NOW0 + 3600000);
    assert_refused(f, advance_msg(f, "operator", NOW0), R_CONFLICT, "to_ms");
    assert_refused(f, advance_msg(f, "service", NOW0 + 7200000), R_UNAUTHORIZED, NULL);
    assert_int_equal(aclock_now_ms(f->app.clock), NOW0 + 3600000);

    /* Placement work due by the instant: busy while it moves, then done. */
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A1", "CN", BIG)), APPLY_OK);   /* due +5 days */
    int64_t to = NOW0 + 3600000 + 6 * DAY;
    assert_refused(f, advance_msg(f, "operator", to), R_BUSY, "to_ms");
    assert_string_equal(kase(f, L1)->assignee, "firm-b");
    assert_int_equal(advance_msg(f, "operator", to), APPLY_OK);
    in_read(f, meta_work, &clock_ms);
    assert_int_equal(clock_ms, to);

    /* On the wall clock there is nothing to advance. */
    aclock_destroy(&f->app.clock);
    f->app.clock = aclock_new_wall();
    assert_non_null(f->app.clock);
    assert_refused(f, advance_msg(f, "operator", to + DAY), R_UNAUTHORIZED, "clock_advance");
}

/* ---------------------------------------------------------------- staging's shards */

/* A case keeps the shard that referred it: the offer, the sweep's moves and the
 * assignee's steps go there, and a case from "staging" stays on shard 0. */
static void test_case_answered_on_the_shard_that_referred_it(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer_from(f, "staging-1", "service", referral(&x, "A1", "CN", BIG)), APPLY_OK);
    assert_int_equal(kase(f, L1)->staging_shard, 1);
    assert_int_equal(news(f, STAGING_1), 1);
    assert_string_equal(told_staging(f, 0)->case_id, L1);
    assert_prefix(told_staging(f, 0)->detail, "offered: law firm firm-a");
    assert_int_equal(refer(f, referral(&x, "A2", "CN", BIG)), APPLY_OK);
    assert_int_equal(news(f, STAGING), 1);
    assert_string_equal(told_staging(f, 0)->case_id, L2);
    assert_int_equal(update(f, "firm-b", STEP(.case_id = L2, .status = S_ACCEPTED)), APPLY_OK);
    assert_int_equal(news(f, STAGING), 1);
    assert_int_equal(news(f, OUTREACH), 1);
    assert_int_equal(news(f, STAGING_1), 0);

    advance(f, NOW0 + 5 * DAY);   /* firm-a let L1's offer pass: it goes to firm-b */
    assert_int_equal(sweep(f), 1);
    assert_int_equal(news(f, STAGING_1), 2);
    assert_prefix(told_staging(f, 0)->detail, "deadline_passed");
    assert_prefix(told_staging(f, 1)->detail, "offered: law firm firm-b");
    assert_int_equal(update(f, "firm-b", STEP(.case_id = L1, .status = S_ACCEPTED)), APPLY_OK);
    assert_int_equal(news(f, STAGING_1), 1);
    assert_int_equal(told_staging(f, 0)->status, S_ACCEPTED);
    assert_int_equal(news(f, OUTREACH), 1);   /* one outreach, whichever the shard */
    assert_int_equal(news(f, STAGING), 0);
}

/* A staging principal not in the list has no shard to be answered on: its referral
 * and its notice are refused, naming it and the setting, and change nothing. */
static void test_unknown_staging_principal_refused(void **state)
{
    fx_t *f = *state;
    ref_t x;
    (void)accepted_firm_case(f, "A1");
    digest_t before = digest(f);
    assert_refused(f, refer_from(f, "staging-2", "service", referral(&x, "A2", "CN", BIG)),
                   R_UNAUTHORIZED, NULL);
    assert_non_null(strstr(f->reject.reason, "\"staging-2\""));
    assert_non_null(strstr(f->reject.reason, "`staging`"));
    assert_refused(f, notice_from(f, "staging-2", "A1", ARREARS__CASE_NOTICE_KIND__NOTICE_ACCOUNT_CLOSED),
                   R_UNAUTHORIZED, NULL);
    assert_unchanged(f, &before);
}

/* Drops the case's shard, as a case stored before shards has none. */
static void unshard_work(fx_t *f, MDB_txn *txn, void *arg)
{
    StoredCase *before = NULL, *after = NULL;
    assert_int_equal(cases_get(f->app.cases, txn, arg, &before), 0);
    assert_int_equal(cases_get(f->app.cases, txn, arg, &after), 0);
    after->has_staging_shard = 0;
    after->staging_shard = 0;
    assert_int_equal(cases_save(f->app.cases, txn, before, after), 0);
    arrears__stored_case__free_unpacked(before, NULL);
    arrears__stored_case__free_unpacked(after, NULL);
}

/* A case stored before shards (no shard kept) is answered on shard 0, the one staging
 * there was. */
static void test_case_from_before_shards_answered_on_shard_0(void **state)
{
    fx_t *f = *state;
    ref_t x;
    assert_int_equal(refer_from(f, "staging-1", "service", referral(&x, "A1", "CN", BIG)), APPLY_OK);
    in_write(f, unshard_work, (void *)L1);
    assert_false(kase(f, L1)->has_staging_shard);
    skip_news(f);
    assert_int_equal(update(f, "firm-a", STEP(.case_id = L1, .status = S_ACCEPTED)), APPLY_OK);
    assert_int_equal(news(f, STAGING), 1);
    assert_string_equal(told_staging(f, 0)->case_id, L1);
    assert_int_equal(told_staging(f, 0)->status, S_ACCEPTED);
    assert_int_equal(news(f, STAGING_1), 0);
}

/* ---------------------------------------------------------------- erasure */

static int erase_msg(fx_t *f, const char *platform, const char *account)
{
    Arrears__PersonalDataErased m;
    Arrears__Envelope env;
    svctest_erasure(&m, &env, platform, account, "CN", aclock_now_ms(f->app.clock));
    return apply_as(f, "staging", "service", &env);
}

/* The report's bytes (the caller frees them). */
static uint8_t *report_bytes(fx_t *f, size_t *len)
{
    const Arrears__LegalReport *rep = report_as(f, "operator", NULL);
    assert_non_null(rep);
    *len = arrears__legal_report__get_packed_size(rep);
    uint8_t *out = malloc(*len ? *len : 1);
    assert_non_null(out);
    arrears__legal_report__pack(rep, out);
    return out;
}

static bool has_text(const uint8_t *data, size_t len, const char *text)
{
    return memmem(data, len, text, strlen(text)) != NULL;
}

static void test_erasure_drops_the_person_keeps_the_figures(void **state)
{
    fx_t *f = *state;
    const char *id = judged_agency_case(f);   /* A1's, the borrower "Li Si <b>" */
    assert_int_equal(update(f, "agency-c", STEP(.case_id = id, .status = S_ENFORCEMENT,
                                                 .evidence = "EXE-1", .recovery = 2525,
                                                 .ref = "R1", .detail = "Li Si paid at home")),
                     APPLY_OK);
    ref_t x;
    assert_int_equal(refer(f, referral(&x, "A2", "CN", BIG)), APPLY_OK);   /* L2: firm-a's */
    skip_news(f);
    assert_true(has_text(f->file, stored_file(f, id, HTML), "Li Si"));
    size_t steps = kase(f, id)->n_steps, len_before = 0, len_after = 0;
    uint8_t *before = report_bytes(f, &len_before);

    digest_t d = digest(f);
    assert_refused(f, erase_msg(f, NULL, "A1"), R_INVALID, "platform");
    assert_refused(f, erase_msg(f, "p1", ""), R_INVALID, "account_ref");
    assert_unchanged(f, &d);

    assert_int_equal(erase_msg(f, "p1", "A1"), APPLY_OK);
    assert_false(has_text(f->file, stored_file(f, id, HTML), "Li Si"));
    assert_true(has_text(f->file, f->file_len, ERASURE_MARKER));
    assert_false(has_text(f->file, stored_file(f, id, MACHINE), "Li Si"));
    const Arrears__CaseFileChunk *c = chunk_as(f, "agency-c", id, HTML, 0, 262144);
    assert_non_null(c);
    assert_int_equal(c->total_bytes, kase(f, id)->file_html_bytes);
    assert_false(has_text(c->data.data, c->data.len, "Li Si"));
    assert_true(has_text(c->data.data, c->data.len, ERASURE_MARKER));
    const StoredCase *k = kase(f, id);
    assert_int_equal(k->status, S_ENFORCEMENT);
    assert_int_equal(k->n_steps, steps);   /* the history stays, its free text erased */
    assert_string_equal(last_step(k)->detail, ERASURE_MARKER);
    assert_int_equal(last_step(k)->recovery_minor, 2525);
    assert_true(has_text(f->file, stored_file(f, L2, HTML), "Li Si"));   /* A2 is not erased */
    uint8_t *after = report_bytes(f, &len_after);
    assert_int_equal(len_after, len_before);
    assert_memory_equal(after, before, len_before);
    free(before);
    free(after);
    assert_no_news(f);

    d = digest(f);   /* staging sends it again after a restore: nothing changes */
    assert_int_equal(erase_msg(f, "p1", "A1"), APPLY_OK);
    assert_unchanged(f, &d);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    log_open("test_legal_service", 2, LOG_ERROR);
    const struct CMUnitTest tests[] = {
        T(test_eligible_referral_offered_to_least_loaded),
        T(test_case_file_stored_in_both_forms),
        T(test_time_barred_and_below_floor_declined),
        T(test_malformed_referrals_refused_change_nothing),
        T(test_second_referral_of_open_case_conflicts),
        T(test_referral_and_notice_again_are_duplicates),
        T(test_agency_accepts_files_and_wins_judgment),
        T(test_enforcement_recovery_commission_and_close),
        T(test_illegal_moves_refused_change_nothing),
        T(test_recovery_ref_again_duplicate_or_conflict),
        T(test_foreign_updates_unauthorized_like_unknown_case),
        T(test_hand_back_before_filing_goes_elsewhere),
        T(test_sweep_moves_offer_past_its_deadline),
        T(test_sweep_recalls_accepted_case_without_progress),
        T(test_waiting_case_placed_once_capacity_frees),
        T(test_notices_count_complaint_and_close_case),
        T(test_notice_with_overlong_platform_refused),
        T(test_update_past_history_limit_refused),
        T(test_case_list_own_cases_paged),
        T(test_case_list_last_page_has_no_next_after),
        T(test_case_file_chunks_rebuild_stored_file),
        T(test_report_per_assignee),
        T(test_clock_advance_busy_while_unacked),
        T(test_case_answered_on_the_shard_that_referred_it),
        T(test_unknown_staging_principal_refused),
        T(test_case_from_before_shards_answered_on_shard_0),
        T(test_erasure_drops_the_person_keeps_the_figures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
