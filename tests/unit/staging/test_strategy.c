/* test_strategy: the example strategy file loads; arms are assigned by a stable hash
 * (the same buckets as an independent BLAKE2b — Python's hashlib — in this process, in
 * a forked one, run after run) and land within 1 percentage point of the configured
 * shares over 100,000 sequential account refs; action lists with the champion fallback;
 * escalation to legal and sale with every blocker; and every kind of mistake in a
 * strategy file refused with the file:line of the offending setting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "strategy.h"

#define ERR_LEN 512
#define REFS 100000

/* services/staging/strategy.example.conf, found from this file's own path (CMake
 * compiles with absolute source paths), so the test runs from any directory. */
static const char *example_named(const char *name)
{
    static char path[1024];
    const char *here = __FILE__;
    const char *tail = strstr(here, "tests/unit/staging/");
    assert_non_null(tail);
    snprintf(path, sizeof path, "%.*sservices/staging/%s", (int)(tail - here), here, name);
    return path;
}

static const char *example_path(void) { return example_named("strategy.example.conf"); }

static strategy_t *load_example(void)
{
    strategy_t *s = NULL;
    char err[ERR_LEN] = "";
    int rc = strategy_load(example_path(), &s, err, sizeof err);
    if (rc != STRATEGY_OK)
        fail_msg("%s: %s", strategy_strerror(rc), err);
    return s;
}

/* The per-currency examples (the demo's book is in four currencies) load, each in its own. */
static void test_currency_examples_load(void **state)
{
    (void)state;
    static const char *const files[][2] = {{"strategy.usd.example.conf", "USD"},
                                           {"strategy.gbp.example.conf", "GBP"},
                                           {"strategy.jpy.example.conf", "JPY"}};
    for (size_t i = 0; i < 3; i++) {
        strategy_t *s = NULL;
        char err[ERR_LEN] = "";
        int rc = strategy_load(example_named(files[i][0]), &s, err, sizeof err);
        if (rc != STRATEGY_OK)
            fail_msg("%s: %s", files[i][0], err);
        assert_string_equal(strategy_currency(s), files[i][1]);
        assert_int_equal(strategy_arm_count(s), 2);
        strategy_destroy(&s);
    }
}

static void test_example_loads(void **state)
{
    (void)state;
    strategy_t *s = load_example();
    assert_string_equal(strategy_currency(s), "CNY");
    assert_int_equal(strategy_arm_count(s), 3);
    assert_string_equal(strategy_arm_name(s, 0), "champion");
    assert_string_equal(strategy_arm_name(s, 1), "email_first");
    assert_string_equal(strategy_arm_name(s, 2), "no_reminder");
    assert_int_equal(strategy_arm_share_bps(s, 0), 7000);
    assert_int_equal(strategy_arm_share_bps(s, 1), 2000);
    assert_int_equal(strategy_arm_share_bps(s, 2), 1000);
    const stage_ranges_t *r = strategy_stage_ranges(s);
    assert_int_equal(stage_for_dpd(r, 91, 0), STAGE_CHARGED_OFF);
    assert_int_equal(r->put_back_window_days, 90);
    const segments_t *seg = strategy_segments(s);
    assert_int_equal(seg->count, 4);
    assert_string_equal(segment_name(seg, 3), "standard");
    assert_int_equal(strategy_scorecard(s)->base_points, 600);
    const arrangement_policy_t *p = strategy_arrangement_policy(s);
    assert_int_equal(p->promise_grace_days, 3);
    assert_int_equal(arrangement_settlement_limit_bps(p, STAGE_CHARGED_OFF, 0), 5000);
    assert_int_equal(arrangement_settlement_limit_bps(p, STAGE_CHARGED_OFF, 3), 3000);
    /* the example's scorecard and segments work together */
    score_inputs_t in = {.dpd = 100, .today_day = 1000, .broken_promises = 2,
                         .contact_points = 0, .balance_minor = 50000};
    score_result_t result;
    score_account(strategy_scorecard(s), &in, &result);
    assert_int_equal(result.points, 600 - 80 - 30 - 40 - 50 + 10);
    assert_string_equal(segment_name(seg, segment_for(seg, result.points, 50000, 1)),
                        "high_risk");
    strategy_destroy(&s);
    assert_null(s);
}

/* ---------------------------------------------------------------- arms */

/* Buckets computed independently with Python:
 *   int.from_bytes(hashlib.blake2b(p + b"\0" + ref, digest_size=8).digest(), "little")
 *   % 10000
 * If these change, every account in production changes arm: that must never happen. */
static void test_buckets_match_independent_blake2b(void **state)
{
    (void)state;
    static const struct {
        const char *platform, *ref;
        uint32_t bucket;
    } golden[] = {
        {"platform-a", "LN-000000001", 6116}, {"platform-a", "LN-000000002", 2821},
        {"platform-a", "LN-000100000", 9750}, {"acme", "A1", 3647},
        {"", "", 4836},
    };
    strategy_t *s = load_example();
    static const unsigned arm_of[] = {0, 0, 2, 0, 0};
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        assert_int_equal(strategy_bucket_for(golden[i].platform, golden[i].ref),
                         golden[i].bucket);
        assert_int_equal(strategy_arm_for(s, golden[i].platform, golden[i].ref), arm_of[i]);
    }
    /* the NUL separates platform and ref: ("ab","c") is not ("a","bc") */
    assert_int_not_equal(strategy_bucket_for("ab", "c"), strategy_bucket_for("a", "bc"));
    strategy_destroy(&s);
}

/* The arms of LN-000000001 .. LN-000100000 folded into one number. */
static uint64_t assign_all(const strategy_t *s, unsigned counts[STRATEGY_MAX_ARMS])
{
    uint64_t digest = 1469598103934665603u;
    char ref[32];
    for (int i = 1; i <= REFS; i++) {
        snprintf(ref, sizeof ref, "LN-%09d", i);
        unsigned arm = strategy_arm_for(s, "platform-a", ref);
        counts[arm]++;
        digest = (digest ^ arm) * 1099511628211u;
    }
    return digest;
}

static void test_arm_shares_over_100000_refs(void **state)
{
    (void)state;
    strategy_t *s = load_example();
    unsigned counts[STRATEGY_MAX_ARMS] = {0};
    assign_all(s, counts);
    unsigned total = 0;
    for (unsigned a = 0; a < strategy_arm_count(s); a++) {
        /* the arm's share of accounts in bps against its configured share: 1 percentage
         * point is 100 bps */
        int64_t got_bps = (int64_t)counts[a] * 10000 / REFS;
        int64_t diff = got_bps - strategy_arm_share_bps(s, a);
        print_message("arm %s: %u accounts, %lld bps (configured %lld)\n",
                      strategy_arm_name(s, a), counts[a], (long long)got_bps,
                      (long long)strategy_arm_share_bps(s, a));
        assert_true(diff >= -100 && diff <= 100);
        total += counts[a];
    }
    assert_int_equal(total, REFS);
    strategy_destroy(&s);
}

/* Same keys, same arms: twice here, and in a separate process. */
static void test_arm_assignment_stable(void **state)
{
    (void)state;
    strategy_t *s = load_example();
    unsigned counts[STRATEGY_MAX_ARMS] = {0};
    uint64_t first = assign_all(s, counts);
    uint64_t second = assign_all(s, counts);
    assert_true(first == second);
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        strategy_t *child = load_example();
        unsigned c[STRATEGY_MAX_ARMS] = {0};
        uint64_t d = assign_all(child, c);
        ssize_t n = write(fds[1], &d, sizeof d);
        _exit(n == (ssize_t)sizeof d ? 0 : 1);
    }
    close(fds[1]);
    uint64_t from_child = 0;
    assert_int_equal(read(fds[0], &from_child, sizeof from_child), (ssize_t)sizeof from_child);
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(from_child == first);
    strategy_destroy(&s);
}

/* ---------------------------------------------------------------- actions */

static const strategy_list_t *actions(const strategy_t *s, stage_t stage, const char *segment,
                                      const char *arm)
{
    int seg = -1;
    assert_int_equal(segment_find(strategy_segments(s), segment, &seg), SCORE_OK);
    unsigned a = 0;
    while (a < strategy_arm_count(s) && strcmp(strategy_arm_name(s, a), arm) != 0)
        a++;
    assert_true(a < strategy_arm_count(s));
    const strategy_list_t *list = NULL;
    assert_int_equal(strategy_actions_for(s, stage, seg, a, &list), STRATEGY_OK);
    assert_non_null(list);
    return list;
}

static void test_actions_for(void **state)
{
    (void)state;
    strategy_t *s = load_example();
    const strategy_list_t *l = actions(s, STAGE_EARLY, "standard", "champion");
    assert_int_equal(l->count, 3);
    assert_int_equal(l->actions[0].channel, CHANNEL_SMS);
    assert_string_equal(l->actions[0].template_id, "early_sms_v1");
    assert_int_equal(l->actions[0].cadence_days, 5);
    assert_int_equal(l->actions[0].after_days, 0);
    assert_int_equal(l->actions[0].priority, 40);
    assert_int_equal(l->actions[1].channel, CHANNEL_EMAIL);
    assert_int_equal(l->actions[1].after_days, 2);
    assert_int_equal(l->actions[2].channel, CHANNEL_CALL);
    /* the segment's own list */
    l = actions(s, STAGE_EARLY, "high_risk", "champion");
    assert_int_equal(l->count, 2);
    assert_int_equal(l->actions[0].channel, CHANNEL_CALL);
    l = actions(s, STAGE_LATE, "large_balance", "champion");
    assert_int_equal(l->actions[0].channel, CHANNEL_VISIT);
    l = actions(s, STAGE_LATE, "card", "champion");
    assert_int_equal(l->count, 2);
    assert_true(l->actions[1].mentions_legal);
    /* a challenger's own list, for every segment of the stage it rewrote */
    l = actions(s, STAGE_EARLY, "standard", "email_first");
    assert_int_equal(l->count, 2);
    assert_int_equal(l->actions[0].channel, CHANNEL_EMAIL);
    l = actions(s, STAGE_EARLY, "high_risk", "email_first");
    assert_int_equal(l->actions[0].channel, CHANNEL_EMAIL);
    /* stages it did not write: as the champion */
    l = actions(s, STAGE_MIDDLE, "standard", "email_first");
    assert_int_equal(l->count, 2);
    assert_string_equal(l->actions[0].template_id, "middle_call_v1");
    /* an empty list is a decision too: no pre-due reminders */
    assert_int_equal(actions(s, STAGE_PRE_DUE, "standard", "no_reminder")->count, 0);
    assert_int_equal(actions(s, STAGE_PRE_DUE, "standard", "champion")->count, 1);
    assert_int_equal(actions(s, STAGE_EARLY, "standard", "no_reminder")->count, 3);
    /* nothing configured: nothing to do */
    assert_int_equal(actions(s, STAGE_LEGAL, "standard", "champion")->count, 0);
    assert_int_equal(actions(s, STAGE_CURRENT, "standard", "email_first")->count, 0);
    assert_int_equal(actions(s, STAGE_PAID, "standard", "champion")->count, 0);
    assert_string_equal(strategy_channel_name(CHANNEL_LETTER), "letter");
    strategy_destroy(&s);
}

/* ---------------------------------------------------------------- escalation */

static escalation_t escalate(const strategy_t *s, const escalation_facts_t *f, char *reason)
{
    escalation_t e = (escalation_t)-1;
    assert_int_equal(strategy_escalation(s, f, &e, reason, 300), STRATEGY_OK);
    return e;
}

static void test_escalation_legal(void **state)
{
    (void)state;
    strategy_t *s = load_example();   /* legal: dpd 61, balance 100000, 2 broken */
    char reason[300];
    const escalation_facts_t ok = {.stage = STAGE_LATE, .dpd = 61, .balance_minor = 100000,
                                   .broken_promises = 2, .may_refer_to_legal = true,
                                   .may_sell = true, .days_since_legal_return = INT32_MAX,
                                   .days_since_sale_return = INT32_MAX};
    assert_int_equal(escalate(s, &ok, reason), ESCALATION_LEGAL);
    assert_string_equal(reason, "refer to legal: dpd 61, balance 100000 minor, 2 broken "
                                "promises; mandate allows; not time-barred");
    static const struct {
        const char *change;
        const char *legal_why;
    } rows[] = {
        {"dpd", "dpd 60 below 61"},
        {"balance", "balance 99999 minor below 100000"},
        {"broken", "1 broken promises, fewer than 2"},
        {"time_barred", "time-barred"},
        {"mandate", "the platform's mandate does not allow legal referral"},
        {"bankruptcy", "bankruptcy hold"},
        {"deceased", "deceased hold"},
        {"dispute", "dispute hold"},
        {"litigation", "litigation hold"},
        {"stage", "stage pre_due cannot be referred"},
        /* legal gave it back 29 days ago: the example's retry period is 30 days */
        {"returned", "legal gave it back 29 days ago; referred again after 30"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        escalation_facts_t f = ok;
        const char *c = rows[i].change;
        if (!strcmp(c, "dpd"))
            f.dpd = 60;
        else if (!strcmp(c, "balance"))
            f.balance_minor = 99999;
        else if (!strcmp(c, "broken"))
            f.broken_promises = 1;
        else if (!strcmp(c, "time_barred"))
            f.time_barred = true;
        else if (!strcmp(c, "mandate"))
            f.may_refer_to_legal = false;
        else if (!strcmp(c, "stage"))
            f.stage = STAGE_PRE_DUE;
        else if (!strcmp(c, "returned"))
            f.days_since_legal_return = 29;
        else {
            hold_kind_t k;
            assert_int_equal(hold_from_name(c, &k), STAGE_OK);
            f.hold_bits = HOLD_BIT(k);
        }
        assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
        char want[300];
        snprintf(want, sizeof want, "no escalation: legal: %s; sale: ", rows[i].legal_why);
        if (strncmp(reason, want, strlen(want)) != 0)
            fail_msg("row %s:\n got  %s\n want %s...", c, reason, want);
    }
    /* The retry period at its boundary: 30 days after legal gave it back, referred. */
    escalation_facts_t f = ok;
    f.days_since_legal_return = 30;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_LEGAL);
    /* Holds that do not block a referral (they only stop contact). */
    f = ok;
    f.hold_bits = HOLD_BIT(HOLD_COMPLAINT) | HOLD_BIT(HOLD_CEASE_CONTACT);
    assert_int_equal(escalate(s, &f, reason), ESCALATION_LEGAL);
    /* Charged off and over every threshold: both qualify, legal is preferred. */
    f = ok;
    f.stage = STAGE_CHARGED_OFF;
    f.dpd = 200;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_LEGAL);
    /* Time-barred: no court, but the debt may still be sold. */
    f.time_barred = true;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_SALE);
    strategy_destroy(&s);
}

static void test_escalation_sale(void **state)
{
    (void)state;
    strategy_t *s = load_example();   /* sale: charged off, dpd 181 */
    char reason[300];
    const escalation_facts_t ok = {.stage = STAGE_CHARGED_OFF, .dpd = 181,
                                   .balance_minor = 5000, .broken_promises = 0,
                                   .may_refer_to_legal = true, .may_sell = true,
                                   .days_since_sale_return = INT32_MAX};
    assert_int_equal(escalate(s, &ok, reason), ESCALATION_SALE);
    assert_string_equal(reason, "list for sale: charged off at dpd 181, balance 5000 minor; "
                                "mandate allows");
    escalation_facts_t f = ok;
    f.dpd = 180;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
    assert_non_null(strstr(reason, "sale: dpd 180 below 181"));
    f = ok;
    f.may_sell = false;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
    assert_non_null(strstr(reason, "sale: the platform's mandate does not allow sale"));
    static const hold_kind_t blocking[] = {HOLD_LITIGATION, HOLD_DISPUTE, HOLD_BANKRUPTCY,
                                           HOLD_DECEASED};
    for (size_t i = 0; i < sizeof blocking / sizeof blocking[0]; i++) {
        f = ok;
        f.hold_bits = HOLD_BIT(blocking[i]);
        assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
    }
    f = ok;
    f.stage = STAGE_SALE;   /* already listed */
    assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
    assert_non_null(strstr(reason, "sale: stage sale is not charged_off"));
    f.stage = STAGE_LEGAL;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
    /* Sale gave it back 29 days ago (the example waits 30): not yet; on day 30, listed. */
    f = ok;
    f.days_since_sale_return = 29;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_NONE);
    assert_non_null(strstr(reason, "sale: sale gave it back 29 days ago; listed again after 30"));
    f.days_since_sale_return = 30;
    assert_int_equal(escalate(s, &f, reason), ESCALATION_SALE);
    strategy_destroy(&s);
}

/* ---------------------------------------------------------------- bad files */

typedef struct {
    char dir[64];
    char path[128];
} tmp_t;

static int tmp_setup(void **state)
{
    static tmp_t t;
    snprintf(t.dir, sizeof t.dir, "/tmp/strategy-test-XXXXXX");
    if (!mkdtemp(t.dir))
        return -1;
    snprintf(t.path, sizeof t.path, "%s/strategy.conf", t.dir);
    *state = &t;
    return 0;
}

static int tmp_teardown(void **state)
{
    tmp_t *t = *state;
    unlink(t->path);
    rmdir(t->dir);
    return 0;
}

static int load_text(const tmp_t *t, const char *text, strategy_t **s, char *err)
{
    FILE *f = fopen(t->path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
    return strategy_load(t->path, s, err, ERR_LEN);
}

/* The line marked "#<" in text; 0 when no line is marked (top-level errors). */
static int marked_line(const char *text)
{
    const char *mark = strstr(text, "#<");
    if (!mark)
        return 0;
    int line = 1;
    for (const char *p = text; p < mark; p++)
        line += *p == '\n';
    return line;
}

#define CHAMPION_OPEN                                                                      \
    "arms = (\n"                                                                           \
    "  { name = \"champion\"; share_bps = 10000;\n"                                        \
    "    action_lists = (\n"
#define CHAMPION_CLOSE "    ); }\n);\n"
#define SMS_ACTION \
    "        { channel = \"sms\"; template = \"t1\"; cadence_days = 3; priority = 1; }\n"
#define EARLY_LIST "      { stage = \"early\"; actions = (\n" SMS_ACTION "      ); }\n"
#define VALID_ARMS CHAMPION_OPEN EARLY_LIST CHAMPION_CLOSE

static const struct {
    const char *name;
    const char *text;
    const char *why;   /* what err says after "file:line: " */
} bad_files[] = {
    {"unknown stage",
     "currency = \"CNY\";\n" CHAMPION_OPEN
     "      { stage = \"erly\"; actions = (); }  #<\n" CHAMPION_CLOSE,
     "arms.[0].action_lists.[0].stage must be one of current, pre_due, early, middle, late, "
     "charged_off, legal, sale, paid, settled, recalled, sold, written_off; got \"erly\""},
    {"unknown channel",
     "currency = \"CNY\";\n" CHAMPION_OPEN "      { stage = \"early\"; actions = (\n"
     "        { channel = \"fax\"; template = \"t1\"; cadence_days = 3; priority = 1; } #<\n"
     "      ); }\n" CHAMPION_CLOSE,
     "arms.[0].action_lists.[0].actions.[0].channel must be one of sms, email, letter, call, "
     "visit; got \"fax\""},
    {"shares not 10000",
     "currency = \"CNY\";\n"
     "arms = (  #<\n"
     "  { name = \"champion\"; share_bps = 7000; },\n"
     "  { name = \"challenger\"; share_bps = 2000; }\n"
     ");\n",
     "arm shares add up to 9000 bps; they must add up to 10000"},
    {"cadence 0",
     "currency = \"CNY\";\n" CHAMPION_OPEN "      { stage = \"early\"; actions = (\n"
     "        { channel = \"sms\"; template = \"t1\"; cadence_days = 0; priority = 1; } #<\n"
     "      ); }\n" CHAMPION_CLOSE,
     "arms.[0].action_lists.[0].actions.[0].cadence_days must be between 1 and 365, got 0"},
    {"duplicate arm name",
     "currency = \"CNY\";\n"
     "arms = (\n"
     "  { name = \"champion\"; share_bps = 5000; },\n"
     "  { name = \"champion\"; share_bps = 5000; }  #<\n"
     ");\n",
     "duplicate arm name \"champion\" (first at line 3)"},
    {"unknown segment",
     "currency = \"CNY\";\n"
     "segments = ( { name = \"high_risk\"; max_score = 400; }, { name = \"standard\"; } );\n"
     CHAMPION_OPEN
     "      { stage = \"early\"; segment = \"vip\"; actions = (); }  #<\n" CHAMPION_CLOSE,
     "arms.[0].action_lists.[0].segment must be one of high_risk, standard; got \"vip\""},
    {"terminal stage",
     "currency = \"CNY\";\n" CHAMPION_OPEN
     "      { stage = \"paid\"; actions = (); }  #<\n" CHAMPION_CLOSE,
     "stage paid is terminal: nobody is contacted there"},
    {"duplicate action list",
     "currency = \"CNY\";\n" CHAMPION_OPEN
     "      { stage = \"early\"; actions = (); },\n"
     "      { stage = \"early\"; actions = (); }  #<\n" CHAMPION_CLOSE,
     "arm \"champion\" already has an action list for stage early, segment (any)"},
    {"missing template",
     "currency = \"CNY\";\n" CHAMPION_OPEN "      { stage = \"early\"; actions = (\n"
     "        { channel = \"sms\"; cadence_days = 3; priority = 1; } #<\n"
     "      ); }\n" CHAMPION_CLOSE,
     "an action needs template"},
    {"template with a space",
     "currency = \"CNY\";\n" CHAMPION_OPEN "      { stage = \"early\"; actions = (\n"
     "        { channel = \"sms\"; template = \"t 1\"; cadence_days = 3; priority = 1; } #<\n"
     "      ); }\n" CHAMPION_CLOSE,
     "template must be letters, digits, '_', '-' or '.'"},
    {"share over 10000",
     "currency = \"CNY\";\n"
     "arms = ( { name = \"champion\"; share_bps = 10001; } );  #<\n",
     "arms.[0].share_bps must be between 0 and 10000, got 10001"},
    {"unknown top-level key",
     "currency = \"CNY\";\n" VALID_ARMS "escalations = { };  #<\n",
     "escalations is not a known setting (known here: currency, stages, scorecard, segments, "
     "arrangements, arms, escalation)"},
    {"no currency", VALID_ARMS,
     "currency is required: every *_minor amount in the file is in its minor units"},
    {"unknown currency", "currency = \"XYZ\";  #<\n" VALID_ARMS,
     "currency \"XYZ\" is not an ISO 4217 currency with a minor unit"},
    {"no arms", "currency = \"CNY\";\n", "arms is required: at least the champion arm"},
    {"overlapping stages",
     "currency = \"CNY\";\n" VALID_ARMS
     "stages = {\n"
     "  early = { from_dpd = 1; to_dpd = 30; };\n"
     "  middle = { from_dpd = 30; to_dpd = 60; };  #<\n"
     "  late = { from_dpd = 61; to_dpd = 90; };\n"
     "  charged_off = { from_dpd = 91; };\n"
     "};\n",
     "overlap: DPD 30 to 30 is in both early and middle (middle must start at 31)"},
    {"scorecard gap",
     "currency = \"CNY\";\n" VALID_ARMS
     "scorecard = { dpd = (\n"
     "  { from = 0; to = 30; points = 0; },\n"
     "  { from = 40; points = -10; }  #<\n"
     "); };\n",
     "dpd: gap: 31 to 39 has no band"},
    {"settlement limit for an unknown segment",
     "currency = \"CNY\";\n" VALID_ARMS
     "arrangements = { settlement = { limits = (\n"
     "  { stage = \"late\"; segment = \"vip\"; max_discount_bps = 100; }  #<\n"
     "); }; };\n",
     "arrangements.settlement.limits.[0].segment must be one of all; got \"vip\""},
    {"unknown escalation preference",
     "currency = \"CNY\";\n" VALID_ARMS "escalation = {\n  prefer = \"court\";  #<\n};\n",
     "escalation.prefer must be one of legal, sale; got \"court\""},
    {"a balance that libconfig would wrap",
     "currency = \"CNY\";\n" VALID_ARMS
     "escalation = { legal = {\n  min_balance_minor = 5000000000;  #<\n}; };\n",
     "escalation.legal.min_balance_minor = 5000000000 does not fit a 32-bit integer and was "
     "read as 705032704: write it with an L suffix (5000000000L)"},
    {"a sale rule with a legal-only setting",
     "currency = \"CNY\";\n" VALID_ARMS
     "escalation = { sale = {\n  min_broken_promises = 1;  #<\n}; };\n",
     "escalation.sale.min_broken_promises is not a known setting (known here: enabled, "
     "min_dpd, min_balance_minor, retry_after_return_days)"},
    {"syntax", "currency = \"CNY\";\narms = ( { name = ; } );  #<\n", "syntax error"},
};

static void test_bad_files(void **state)
{
    tmp_t *t = *state;
    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        strategy_t *s = (strategy_t *)&s;   /* must come back NULL */
        char err[ERR_LEN] = "";
        int rc = load_text(t, bad_files[i].text, &s, err);
        char want[ERR_LEN];
        int line = marked_line(bad_files[i].text);
        if (line > 0)
            snprintf(want, sizeof want, "%s:%d: %s", t->path, line, bad_files[i].why);
        else
            snprintf(want, sizeof want, "%s: %s", t->path, bad_files[i].why);
        if (rc != STRATEGY_EINVALID || strcmp(err, want) != 0)
            fail_msg("%s: rc %d\n got  %s\n want %s", bad_files[i].name, rc, err, want);
        assert_null(s);
    }
    /* and the same skeleton, fixed, loads */
    strategy_t *s = NULL;
    char err[ERR_LEN] = "";
    if (load_text(t, "currency = \"CNY\";\n" VALID_ARMS, &s, err) != STRATEGY_OK)
        fail_msg("%s", err);
    /* no segments written: one catch-all "all"; no escalation written: none */
    assert_string_equal(segment_name(strategy_segments(s), 0), "all");
    escalation_facts_t f = {.stage = STAGE_CHARGED_OFF, .dpd = 999, .balance_minor = 1,
                            .broken_promises = 9, .may_refer_to_legal = true,
                            .may_sell = true, .days_since_sale_return = INT32_MAX};
    escalation_t e;
    strategy_escalation(s, &f, &e, NULL, 0);
    assert_int_equal(e, ESCALATION_NONE);
    strategy_destroy(&s);
}

static void test_prefer_sale(void **state)
{
    tmp_t *t = *state;
    strategy_t *s = NULL;
    char err[ERR_LEN] = "";
    if (load_text(t,
                  "currency = \"GBP\";\n" VALID_ARMS
                  "escalation = {\n  prefer = \"sale\";\n"
                  "  legal = { min_dpd = 61; };\n  sale = { min_dpd = 91; };\n};\n",
                  &s, err) != STRATEGY_OK)
        fail_msg("%s", err);
    escalation_facts_t f = {.stage = STAGE_CHARGED_OFF, .dpd = 100, .may_refer_to_legal = true,
                            .may_sell = true, .days_since_legal_return = INT32_MAX,
                            .days_since_sale_return = INT32_MAX};
    escalation_t e;
    char reason[300];
    strategy_escalation(s, &f, &e, reason, sizeof reason);
    assert_int_equal(e, ESCALATION_SALE);
    f.stage = STAGE_LATE;
    strategy_escalation(s, &f, &e, reason, sizeof reason);
    assert_int_equal(e, ESCALATION_LEGAL);
    assert_string_equal(escalation_name(e), "legal");
    strategy_destroy(&s);
}

static void test_missing_file(void **state)
{
    (void)state;
    strategy_t *s = NULL;
    char err[ERR_LEN] = "";
    assert_int_equal(strategy_load("/nonexistent/strategy.conf", &s, err, sizeof err),
                     STRATEGY_EIO);
    assert_string_equal(err, "/nonexistent/strategy.conf: cannot open: No such file or "
                             "directory");
    assert_null(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_example_loads),
        cmocka_unit_test(test_currency_examples_load),
        cmocka_unit_test(test_buckets_match_independent_blake2b),
        cmocka_unit_test(test_arm_shares_over_100000_refs),
        cmocka_unit_test(test_arm_assignment_stable),
        cmocka_unit_test(test_actions_for),
        cmocka_unit_test(test_escalation_legal),
        cmocka_unit_test(test_escalation_sale),
        cmocka_unit_test_setup_teardown(test_bad_files, tmp_setup, tmp_teardown),
        cmocka_unit_test_setup_teardown(test_prefer_sale, tmp_setup, tmp_teardown),
        cmocka_unit_test(test_missing_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
